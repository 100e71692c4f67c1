# Reference values for Rubin's rules with Barnard & Rubin's degrees of freedom (the combination of
# multiply imputed fits in analysis.estimation.results.pool_rubin), from mice::pool.scalar.
# Run from the project root:  Rscript tests/r/pooling_reference.R [outfile]
# The completed-data estimates and variances are drawn here (fixed seed), so the file holds both
# what is pooled and what mice makes of it.
# Output: tests/results/pooling_reference.csv, one row per case, term and imputation:
#   imputation 1..m: that data set's estimate and variance; imputation 0: the pooled values
#   (estimate, variance = T, df, ci_low, ci_high, p, riv, lambda, fmi).
suppressPackageStartupMessages(library(mice))
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/pooling_reference.csv"
set.seed(20201130)

# case: m data sets, complete-data df (Inf: Rubin 1987), k terms, and how far the estimates
# spread between data sets relative to their SEs (0: identical estimates, lambda at its floor)
cases <- list(
  list(name = "m5_df21", m = 5, dfcom = 21, k = 3, spread = 0.5),
  list(name = "m20_inf", m = 20, dfcom = Inf, k = 3, spread = 0.3),
  list(name = "m3_df10_large_b", m = 3, dfcom = 10, k = 2, spread = 3),
  list(name = "m20_df1150", m = 20, dfcom = 1150, k = 2, spread = 0.05),
  list(name = "m5_df8_b0", m = 5, dfcom = 8, k = 1, spread = 0),
  list(name = "m2_df30", m = 2, dfcom = 30, k = 2, spread = 1)
)
rows <- list()
for (cs in cases) {
  for (j in seq_len(cs$k)) {
    se <- runif(1, 0.05, 2)
    Q <- rnorm(1, 0, 3) + cs$spread * se * rnorm(cs$m)
    U <- (se * exp(rnorm(cs$m, 0, 0.1)))^2
    p <- pool.scalar(Q, U, n = cs$dfcom + 1, k = 1)     # complete-data df = n - k
    crit <- qt(0.975, p$df)
    lambda <- (1 + 1 / cs$m) * p$b / p$t
    rows[[length(rows) + 1]] <- data.frame(case = cs$name, df_complete = cs$dfcom, term = j,
      imputation = c(seq_len(cs$m), 0), estimate = c(Q, p$qbar), variance = c(U, p$t),
      df = c(rep(NA, cs$m), p$df), ci_low = c(rep(NA, cs$m), p$qbar - crit * sqrt(p$t)),
      ci_high = c(rep(NA, cs$m), p$qbar + crit * sqrt(p$t)),
      p = c(rep(NA, cs$m), 2 * pt(-abs(p$qbar / sqrt(p$t)), p$df)),
      riv = c(rep(NA, cs$m), p$r), lambda = c(rep(NA, cs$m), lambda), fmi = c(rep(NA, cs$m), p$fmi))
  }
}
write.csv(do.call(rbind, rows), outfile, row.names = FALSE)
