# Reference values for analysis/panel.py from R's plm (within two-way, random effects) on the real
# province panel. Run from the project root:  Rscript tests/r/panel_reference.R [outfile]
# Input: tests/data/spending_panel.csv, written by tests/test_panel.py::test_stored_panel_is_current
# from analysis.panel.spending_panel() (log education spending per head, log GDP per head,
# urbanization; 31 provinces x 2010-2023).
suppressPackageStartupMessages({library(plm); library(sandwich); library(lmtest)})
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/panel_reference.csv"
d <- read.csv("tests/data/spending_panel.csv")
pd <- pdata.frame(d, index = c("adcode", "year"))
out <- list()
add <- function(model, term, estimate, se, p = NA, lo = NA, hi = NA) out[[length(out) + 1]] <<- data.frame(
  model = model, term = term, estimate = as.numeric(estimate), se = as.numeric(se), p = as.numeric(p),
  ci_low = as.numeric(lo), ci_high = as.numeric(hi))
# t inference with G - 1 df (G provinces) for clustered covariances, as Stata's vce(cluster)
G <- length(unique(d$adcode))
inference <- function(model, fit, V, dof) {
  ct <- coeftest(fit, vcov. = V, df = dof)
  ci <- coefci(fit, vcov. = V, df = dof)
  for (t in c("log_gdp_pc", "urban_rate")) add(model, t, ct[t, 1], ct[t, 2], ct[t, 4], ci[t, 1], ci[t, 2])
}
f <- log_edu_pc ~ log_gdp_pc + urban_rate
fe <- plm(f, data = pd, model = "within", effect = "twoways")
# clustered by province with the Stata-style small-sample factor G/(G-1) (N-1)/(N-K)
V <- vcovHC(fe, method = "arellano", type = "sss", cluster = "group")
inference("within_twoways_cluster_sss", fe, V, G - 1)
V1 <- vcovHC(fe, method = "arellano", type = "HC1", cluster = "group")
for (t in names(coef(fe))) add("within_twoways_cluster_hc1", t, coef(fe)[t], sqrt(V1[t, t]))
fe1 <- plm(f, data = pd, model = "within", effect = "individual")
for (t in names(coef(fe1))) add("within_individual", t, coef(fe1)[t], sqrt(vcov(fe1)[t, t]))
re <- plm(f, data = pd, model = "random", effect = "individual")
for (t in names(coef(re))) add("random_swar", t, coef(re)[t], sqrt(vcov(re)[t, t]))
# the random-effects and between models as the provinces page reports them: RE with standard
# errors clustered by province (HC1 factor, as linearmodels' clustered covariance), and the
# between estimator as OLS on the province means with HC1 standard errors
Vr <- vcovHC(re, method = "arellano", type = "HC1", cluster = "group")
inference("random_swar_cluster_hc1", re, Vr, G - 1)
mm <- aggregate(cbind(log_edu_pc, log_gdp_pc, urban_rate) ~ adcode, d, mean)
be <- lm(log_edu_pc ~ log_gdp_pc + urban_rate, data = mm)
Vb <- sandwich::vcovHC(be, type = "HC1")
inference("between_hc1", be, Vb, G - 3)          # the province means: G - K df
h <- phtest(fe1, re)
add("hausman", "statistic", h$statistic, NA)
# an unbalanced panel: the five lowest province codes without their years before 2015. The
# between estimator is still one mean per province, each province weighing one; the two-way
# within estimator the LSDV fit on the rows there are
u <- d[!(d$adcode %in% sort(unique(d$adcode))[1:5] & d$year < 2015), ]
mu <- aggregate(cbind(log_edu_pc, log_gdp_pc, urban_rate) ~ adcode, u, mean)
bu <- lm(log_edu_pc ~ log_gdp_pc + urban_rate, data = mu)
inference("between_hc1_unbalanced", bu, sandwich::vcovHC(bu, type = "HC1"), G - 3)
feu <- plm(f, data = pdata.frame(u, index = c("adcode", "year")), model = "within", effect = "twoways")
inference("within_twoways_cluster_sss_unbalanced", feu,
          vcovHC(feu, method = "arellano", type = "sss", cluster = "group"), G - 1)
res <- do.call(rbind, out)
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s, plm %s: %d reference values\n", getRversion(), packageVersion("plm"), nrow(res)))
