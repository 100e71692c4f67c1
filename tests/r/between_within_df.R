# The between-within degrees of freedom nlme::lme gives each fixed effect of a random-intercept
# model, on a structure of 8 groups of 10 rows: x1 varies within groups; z, z2 are constant within
# each group; v equals z but for one row of group 1. The df depend on this structure only, not on
# the values drawn. Then the same on 7 groups of 10 rows and an eighth of a single row (a province
# with one complete respondent), which nlme counts as a group like the others. Printed, and typed
# into tests/test_model_variants.py (test_between_within_df_follows_nlme).
# Run:  Rscript tests/r/between_within_df.R
for (sizes in list(rep(10, 8), c(rep(10, 7), 1))) {
  set.seed(1); G <- length(sizes); N <- sum(sizes)
  d <- data.frame(g = rep(seq_len(G), times = sizes))
  d$x1 <- rnorm(N); d$z <- rnorm(G)[d$g]; d$z2 <- rnorm(G)[d$g]
  d$v <- d$z; d$v[1] <- d$v[1] + 0.5
  d$y <- d$x1 + d$z + rnorm(G)[d$g] + rnorm(N)
  cat("group sizes", paste(sizes, collapse = " "), "\n")
  for (f in c("y ~ x1 + z + z2 + v", "y ~ 0 + x1 + z + z2", "y ~ z")) {
    m <- nlme::lme(as.formula(f), random = ~ 1 | g, data = d)
    cat(f, ": ", paste(names(m$fixDF$X), m$fixDF$X, sep = " = ", collapse = ", "), "\n", sep = "")
  }
}
