# Reference values for a wave the stored references never saw (tests/test_new_wave_against_r.py):
# the report's design-based degree (overall, by region and by province, lonely PSU adjusted), the
# design-based linear, logit and ordered-logit models, the WLS models with CR1 SEs on G - 1 df,
# the model-based ordered logits, the multilevel model on nlme's between-within df, and the
# problems page's proportions with their logit intervals, from R's survey, sandwich, ordinal and nlme.
# Run from the project root:
#   Rscript tests/r/new_wave_reference.R [--design=DESIGN] INPUT YEAR OUTFILE [PROPORTIONS]
# DESIGN: strata+psu (provinces as strata, villages as PSUs; the default), psu (villages, no
#   strata), strata (provinces, each respondent its own PSU) or none (weights alone).
# INPUT: the wave's villagers as ruralgov read them (its missing codes already blank; the test
#        writes it) with the respondents' overall index score; YEAR: the wave's survey year, whose
#        province covariates are read from data/external/_merged/province_year_core_2005_2024.csv.
# PROPORTIONS: a CSV of item, value: the shares of the problems page to compute.
# Everything else (the log of income, the derived regressors, the designs) is computed here.
# Output: one row per value: model, term, kind, category, estimate, se, df, p, ci_low, ci_high, and
#   deff (the degree), n and n_psu (the degree, the proportions, a design-based model's design)
suppressPackageStartupMessages({library(survey); library(sandwich); library(nlme); library(ordinal)})
options(survey.lonely.psu = "adjust", digits = 15)
args <- commandArgs(trailingOnly = TRUE)
design <- "strata+psu"
if (length(args) && startsWith(args[1], "--design=")) {
  design <- sub("--design=", "", args[1])
  args <- args[-1]
}
stopifnot(length(args) %in% 3:4, design %in% c("strata+psu", "psu", "strata", "none"))
year <- as.integer(args[2])
outfile <- args[3]

out <- list()
add <- function(model, term, kind, estimate, se = NA, df = NA, p = NA, lo = NA, hi = NA, category = NA,
                deff = NA, n = NA, n_psu = NA) {
  out[[length(out) + 1]] <<- data.frame(model = model, term = as.character(term), kind = kind,
    category = category, estimate = as.numeric(estimate), se = as.numeric(se), df = as.numeric(df),
    p = as.numeric(p), ci_low = as.numeric(lo), ci_high = as.numeric(hi), deff = as.numeric(deff),
    n = as.numeric(n), n_psu = as.numeric(n_psu))
}

d <- read.csv(args[1], encoding = "UTF-8", colClasses = c(village_id = "character", province = "character"))
d$log_income <- ifelse(d$hh_income > 0, log(d$hh_income), NA)      # nonpositive incomes dropped
d$female <- as.numeric(d$sex == 2)
d$age10 <- d$age / 10
d$east <- as.numeric(d$region3 == "east")
regs <- c("internet_use", "education", "log_income", "distance_km", "participation", "age10", "female")
oregs <- c(regs, "east")
d$psu <- if (design %in% c("strata+psu", "psu")) d$village_id else as.character(seq_len(nrow(d)))
survey_design <- function(data) switch(design,
  "strata+psu" = svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = data, nest = TRUE),
  "psu" = svydesign(id = ~village_id, weights = ~weight, data = data),
  "strata" = svydesign(id = ~1, strata = ~province, weights = ~weight, data = data),
  "none" = svydesign(id = ~1, weights = ~weight, data = data))
des <- survey_design(d)

# --- the degree: design-based mean of the overall score, t interval on the (domain's) design df,
#     design effect against simple random sampling with replacement; respondents and villages -----
degree_row <- function(model, term, sub) {
  m <- svymean(~overall, sub, na.rm = TRUE, deff = "replace")
  df <- degf(sub)
  ci <- if (df > 0) confint(m, df = df) else c(NA, NA)
  kept <- sub$variables
  add(model, term, "domain", coef(m), SE(m), df, NA, ci[1], ci[2], deff = deff(m), n = nrow(kept),
      n_psu = length(unique(kept$psu)))
}
degree_row("degree", "all", subset(des, !is.na(d$overall)))
for (by in c("region3", "province_en")) {
  for (g in sort(unique(d[[by]]))) {
    degree_row(paste0("degree_by_", by), g, subset(des, d[[by]] == g & !is.na(d$overall)))
  }
}

# --- design-based regressions (svyglm): t on the residual df of the complete cases' design ------
glm_rows <- function(name, m) {
  s <- summary(m)$coefficients
  dfr <- df.residual(m)
  used <- m$survey.design                        # the complete cases, a domain of the full design
  add(name, "design", "design", NA, df = degf(used), n = nrow(used$variables),
      n_psu = length(unique(used$variables$psu)))
  for (t in rownames(s)) {
    if (t == "(Intercept)" || grepl("factor", t)) next
    q <- qt(0.975, dfr)
    add(name, t, "coef", s[t, 1], s[t, 2], dfr, s[t, 4], s[t, 1] - q * s[t, 2], s[t, 1] + q * s[t, 2])
  }
}
f_reg <- as.formula(paste("overall ~", paste(regs, collapse = " + "), "+ factor(region3)"))
glm_rows("svy_region", svyglm(f_reg, design = des))
lregs <- list(logit_online_registration = c("hreg_app", "smartphone", "education", "log_income",
                                             "distance_km", "age10", "female", "east"),
              logit_old_age_insurance = c("old_age_ins", "education", "log_income", "age10", "female",
                                          "migrant_exp", "east"))
source("tests/r/logit_ames.R")       # average marginal effects, delta-method SEs
ame_logit <- function(name, m) {
  a <- logit_ames(m)
  for (i in seq_len(nrow(a))) add(name, a$term[i], a$kind[i], a$estimate[i], a$se[i])
}
for (name in names(lregs)) {
  r <- lregs[[name]]
  m <- svyglm(as.formula(paste(r[1], "~", paste(r[-1], collapse = " + "))), design = des,
              family = quasibinomial())
  glm_rows(name, m)
  ame_logit(name, m)
}
dd <- d; dd$y <- factor(dd$hlt_sat, ordered = TRUE)
dso <- survey_design(dd)
so <- svyolr(as.formula(paste("y ~", paste(oregs, collapse = " + "))),
             design = subset(dso, complete.cases(dd[, c("hlt_sat", oregs)])),
             control = list(reltol = 1e-15, maxit = 10000))      # BFGS to convergence
Vs <- vcov(so)
for (t in names(coef(so))) {
  b <- coef(so)[t]; se <- sqrt(Vs[t, t])
  if (t %in% oregs) {
    dfr <- so$df.residual; q <- qt(0.975, dfr)
    add("svyolr_health", t, "coef", b, se, dfr, 2 * pt(-abs(b / se), dfr), b - q * se, b + q * se)
  } else add("svyolr_health", t, "cut", b, se)
}

# --- the WLS models: CR1 (sandwich::vcovCL HC1) by province, t on G - 1 df ----------------------
f_prov <- as.formula(paste("overall ~", paste(regs, collapse = " + "), "+ factor(province_en)"))
for (spec in list(list("wls_region", f_reg), list("wls_province", f_prov))) {
  mh <- lm(spec[[2]], data = d, weights = weight)
  Vc <- vcovCL(mh, cluster = ~province, type = "HC1")
  G <- length(unique(d[rownames(model.frame(mh)), "province"]))
  for (t in regs) {
    b <- coef(mh)[t]; se <- sqrt(Vc[t, t]); q <- qt(0.975, G - 1)
    add(spec[[1]], t, "coef", b, se, G - 1, 2 * pt(-abs(b / se), G - 1), b - q * se, b + q * se)
  }
}

# --- the model-based ordered logits (ordinal::clm, unweighted): Wald z tests and intervals ------
for (spec in list(c("ologit_education", "edu_sat"), c("ologit_health", "hlt_sat"))) {
  cc <- d[complete.cases(d[, c(spec[2], oregs)]), ]
  cc$y <- factor(cc[[spec[2]]], ordered = TRUE)
  m <- clm(as.formula(paste("y ~", paste(oregs, collapse = " + "))), data = cc, link = "logit")
  s <- summary(m)$coefficients
  for (t in oregs) {
    b <- s[t, 1]; se <- s[t, 2]; q <- qnorm(0.975)
    add(spec[1], t, "coef", b, se, Inf, s[t, 4], b - q * se, b + q * se)
  }
}

# --- multilevel: lme with province intercepts, the wave year's official province covariates ----
pv <- read.csv("data/external/_merged/province_year_core_2005_2024.csv", encoding = "UTF-8")
pv <- pv[pv$year == year, ]
prov <- data.frame(province = as.character(pv$adcode), urban_rate = pv$urban_rate_pct,
                   log_gdp_pc = log(pv$gdp_per_capita_yuan),
                   fiscal_exp_pc_k = pv$fiscal_exp_per_capita_yuan / 1000)
mregs <- c(regs, "urban_rate", "log_gdp_pc", "fiscal_exp_pc_k")
dm <- merge(d, prov, by = "province", sort = FALSE)
dm <- dm[complete.cases(dm[, c("overall", mregs)]), ]
if (nrow(dm) > 0) {
  m <- lme(as.formula(paste("overall ~", paste(mregs, collapse = " + "))), random = ~ 1 | province, data = dm,
           method = "REML",
           control = lmeControl(tolerance = 1e-12, msTol = 1e-12, niterEM = 200, msMaxIter = 500))
  b <- fixef(m); se <- sqrt(diag(vcov(m))); dfx <- m$fixDF$X[names(b)]; q <- qt(0.975, dfx)
  for (t in names(b)) {
    add("multilevel", if (t == "(Intercept)") "Intercept" else t, "coef", b[t], se[t], dfx[t],
        2 * pt(-abs(b[t] / se[t]), dfx[t]), b[t] - q[t] * se[t], b[t] + q[t] * se[t])
  }
}

# --- proportions (the problems page): each item's share giving the answer counted, among those
#     who answered it, with the logit interval on that subset's design df (svyciprop), overall and
#     by region -------------------------------------------------------------------------------------
if (length(args) == 4) {
  props <- read.csv(args[4], stringsAsFactors = FALSE)     # item, value
  for (k in seq_len(nrow(props))) {
    item <- props$item[k]; value <- props$value[k]
    sub <- subset(des, !is.na(d[[item]]))
    f <- as.formula(sprintf("~I(%s == %s)", item, value))
    p <- svyciprop(f, sub, method = "logit")
    kept <- sub$variables
    add("proportion", item, "all", as.numeric(p), sqrt(as.numeric(attr(p, "var"))), degf(sub), NA,
        attr(p, "ci")[1], attr(p, "ci")[2], category = value, n = nrow(kept),
        n_psu = length(unique(kept$psu)))
    pr <- svyby(f, ~region3, sub, svyciprop, vartype = "se", method = "logit")
    for (i in seq_len(nrow(pr))) add("proportion", item, pr$region3[i], pr[i, 2], pr$se[i], category = value)
  }
}

res <- do.call(rbind, out)
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s: survey %s: %d reference values\n", getRversion(), packageVersion("survey"), nrow(res)))
