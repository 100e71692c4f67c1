# Reference values for analysis/models.py from R (lm + sandwich::vcovCL, survey::svyglm,
# lme4::lmer, ordinal::clm, glm average marginal effects: discrete changes for 0/1 regressors,
# numerical derivatives otherwise) and the diagnostics of the weighted model (by hand from lm).
# Run from the project root:  Rscript tests/r/models_reference.R [outfile]
# Inputs: data/waves/2020-replica/villagers.csv (raw; missing codes recoded here),
#         tests/data/replica_scores.csv (index scores written by `ruralgov index --scores`),
#         data/external/_merged/province_year_core_2005_2024.csv (2020 province covariates).
suppressPackageStartupMessages({library(survey); library(sandwich); library(lme4); library(ordinal)})
options(survey.lonely.psu = "adjust", digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/models_reference.csv"

v <- read.csv("data/waves/2020-replica/villagers.csv", encoding = "UTF-8")
sc <- read.csv("tests/data/replica_scores.csv", encoding = "UTF-8")
d <- merge(v, sc[, c("resp_id", "overall", "region3")], by = "resp_id", sort = FALSE)
miss <- function(x, codes = c(8, 9, -9, 99)) ifelse(x %in% codes, NA, x)
for (c in c("internet_use", "smartphone", "migrant_exp", "old_age_ins", "participation",
            "edu_sat", "hlt_sat", "ss_sat", "et_sat", "cs_sat")) d[[c]] <- miss(d[[c]])
d$hh_income <- ifelse(d$hh_income == -9, NA, d$hh_income)
d$log_income <- log(d$hh_income)
d$female <- as.numeric(d$sex == 2)
d$age10 <- d$age / 10
d$east <- as.numeric(d$region3 == "east")
p <- read.csv("data/external/_merged/province_year_core_2005_2024.csv", encoding = "UTF-8")
p <- p[p$year == 2020, ]
prov <- data.frame(province = p$name_zh_short, urban_rate = p$urban_rate_pct,
                   log_gdp_pc = log(p$gdp_per_capita_yuan), fiscal_exp_pc_k = p$fiscal_exp_per_capita_yuan / 1000)
d <- merge(d, prov, by = "province", sort = FALSE)

out <- list()
add <- function(model, term, estimate, se, kind = "coef", category = NA) {
  out[[length(out) + 1]] <<- data.frame(model = model, term = term, kind = kind, category = category,
                                        estimate = as.numeric(estimate), se = as.numeric(se))
}
regs <- c("internet_use", "education", "log_income", "distance_km", "participation", "age10", "female")
f_reg <- as.formula(paste("overall ~", paste(regs, collapse = " + "), "+ factor(region3)"))
f_prov <- as.formula(paste("overall ~", paste(regs, collapse = " + "), "+ factor(province)"))

# WLS with CR1 cluster-robust SEs (sandwich::vcovCL, type HC1 = G/(G-1) (N-1)/(N-K))
for (spec in list(list("wls_region", f_reg), list("wls_province", f_prov))) {
  m <- lm(spec[[2]], data = d, weights = weight)
  V <- vcovCL(m, cluster = ~province, type = "HC1")
  for (t in regs) add(spec[[1]], t, coef(m)[t], sqrt(V[t, t]))
}
# diagnostics of wls_region as the determinants page reports them, by hand from lm: VIFs of the
# design (1 / (1 - R²) of each regressor on the others), Koenker's Breusch–Pagan (n R² of the
# squared weighted residuals on the regressors, chi-squared on K - 1 df), RESET (F test of
# fitted² and fitted³ added to the weighted model) and Cook's distance of the weighted fit
dd <- d[complete.cases(d[, c("overall", regs, "region3", "weight")]), ]
m <- lm(f_reg, data = dd, weights = weight)
X <- model.matrix(m)
n <- nrow(X)
for (t in regs) {
  others <- X[, !(colnames(X) %in% c("(Intercept)", t))]
  add("diag_wls_region", t, 1 / (1 - summary(lm(X[, t] ~ others))$r.squared), NA, "vif")
}
es <- sqrt(weights(m) / mean(weights(m))) * resid(m)
bp <- n * summary(lm(es^2 ~ X[, -1]))$r.squared
add("diag_wls_region", "bp_lm", bp, NA, "diagnostic")
add("diag_wls_region", "bp_p", pchisq(bp, ncol(X) - 1, lower.tail = FALSE), NA, "diagnostic")
dd$yh <- fitted(m)
reset <- anova(m, lm(update(f_reg, . ~ . + I(yh^2) + I(yh^3)), data = dd, weights = weight))
add("diag_wls_region", "reset_f", reset$F[2], NA, "diagnostic")
add("diag_wls_region", "reset_p", reset$`Pr(>F)`[2], NA, "diagnostic")
cd <- cooks.distance(m)
add("diag_wls_region", "cooks_max", max(cd), NA, "diagnostic")
add("diag_wls_region", "cooks_over_4_n", sum(cd > 4 / n), NA, "diagnostic")

# design-based linear model: svyglm
des <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = d, nest = TRUE)
m <- svyglm(f_reg, design = des)
for (t in regs) add("svy_region", t, coef(m)[t], SE(m)[t])

# multilevel: lmer REML and ML
mregs <- c(regs, "urban_rate", "log_gdp_pc", "fiscal_exp_pc_k")
f_ml <- as.formula(paste("overall ~", paste(mregs, collapse = " + "), "+ (1 | province)"))
for (reml in c(TRUE, FALSE)) {
  # one variance parameter: optimise the profiled deviance to machine precision
  m <- lmer(f_ml, data = d, REML = reml, control = lmerControl(optimizer = "nloptwrap",
            optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-15, xtol_rel = 1e-14, maxeval = 1e5)))
  name <- if (reml) "multilevel_reml" else "multilevel_ml"
  for (t in mregs) add(name, t, fixef(m)[t], sqrt(vcov(m)[t, t]))
  vc <- as.data.frame(VarCorr(m))
  add(name, "var_province", vc$vcov[1], NA, "varcomp")
  add(name, "var_residual", vc$vcov[2], NA, "varcomp")
}

# ordered logit: ordinal::clm
oregs <- c(regs, "east")
for (pair in list(c("ologit_education", "edu_sat"), c("ologit_health", "hlt_sat"),
                  c("ologit_social_security", "ss_sat"), c("ologit_employment_training", "et_sat"),
                  c("ologit_culture_sports", "cs_sat"))) {
  dd <- d[complete.cases(d[, c(pair[2], oregs)]), ]
  dd$y <- factor(dd[[pair[2]]], ordered = TRUE)
  m <- clm(as.formula(paste("y ~", paste(oregs, collapse = " + "))), data = dd, link = "logit")
  s <- sqrt(diag(vcov(m)))
  for (t in oregs) add(pair[1], t, coef(m)[t], s[t])
  for (t in names(m$alpha)) add(pair[1], paste0("cut", t), m$alpha[t], s[t], "cut")
}

# logit with design-based SEs (svyglm quasibinomial) and weighted average marginal effects
ame_rows <- function(name, m, X, w, terms) {
  b <- coef(m); V <- vcov(m)
  ame <- function(beta, j) {
    if (all(X[, j] %in% c(0, 1))) {          # a 0/1 regressor: the discrete change from 0 to 1
      X1 <- X; X0 <- X; X1[, j] <- 1; X0[, j] <- 0
      return(sum(w * (plogis(X1 %*% beta) - plogis(X0 %*% beta))) / sum(w))
    }
    h <- 1e-5
    Xp <- X; Xm <- X
    Xp[, j] <- Xp[, j] + h; Xm[, j] <- Xm[, j] - h
    sum(w * (plogis(Xp %*% beta) - plogis(Xm %*% beta)) / (2 * h)) / sum(w)
  }
  for (t in terms) {
    a <- ame(b, t)
    g <- sapply(seq_along(b), function(k) { e <- 1e-6; bp <- b; bm <- b; bp[k] <- bp[k] + e; bm[k] <- bm[k] - e
                                            (ame(bp, t) - ame(bm, t)) / (2 * e) })
    add(name, t, a, sqrt(drop(t(g) %*% V %*% g)), "ame")
  }
}
for (spec in list(list("logit_online_registration", "hreg_app", c("smartphone", "education", "log_income", "distance_km", "age10", "female", "east")),
                  list("logit_old_age_insurance", "old_age_ins", c("education", "log_income", "age10", "female", "migrant_exp", "east")))) {
  f <- as.formula(paste(spec[[2]], "~", paste(spec[[3]], collapse = " + ")))
  m <- svyglm(f, design = des, family = quasibinomial())
  for (t in spec[[3]]) add(spec[[1]], t, coef(m)[t], SE(m)[t])
  mf <- model.frame(m)
  X <- model.matrix(m)
  ame_rows(spec[[1]], m, X, weights(m, "prior"), spec[[3]])
}

res <- do.call(rbind, out)
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s: survey %s, sandwich %s, lme4 %s, ordinal %s: %d reference values\n", getRversion(),
            packageVersion("survey"), packageVersion("sandwich"), packageVersion("lme4"),
            packageVersion("ordinal"), nrow(res)))
