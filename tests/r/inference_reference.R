# Reference values for the inference of the report (design df, full-design regression under item
# non-response, design-based ordered logit, discrete-change marginal effects, the Brant test, fpc).
# Run from the project root:  Rscript tests/r/inference_reference.R [outfile]
# Inputs: data/waves/2020-replica/villagers.csv (raw; missing codes recoded here),
#         tests/data/replica_scores.csv (index scores written by `ruralgov index --scores`).
# Output: tests/results/inference_reference.csv, one row per value:
#   case, model, term, kind, category, estimate, se, df, p, ci_low, ci_high
suppressPackageStartupMessages({library(survey); library(ordinal); library(MASS); library(sandwich)})
options(survey.lonely.psu = "adjust", digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/inference_reference.csv"

out <- list()
add <- function(case, model, term, kind, estimate, se = NA, df = NA, p = NA, lo = NA, hi = NA, category = NA) {
  out[[length(out) + 1]] <<- data.frame(case = case, model = model, term = term, kind = kind,
    category = category, estimate = as.numeric(estimate), se = as.numeric(se), df = as.numeric(df),
    p = as.numeric(p), ci_low = as.numeric(lo), ci_high = as.numeric(hi))
}

v <- read.csv("data/waves/2020-replica/villagers.csv", encoding = "UTF-8")
sc <- read.csv("tests/data/replica_scores.csv", encoding = "UTF-8")
d0 <- merge(v, sc[, c("resp_id", "overall", "region3")], by = "resp_id", sort = FALSE)
d0 <- d0[order(d0$resp_id), ]
miss <- function(x, codes = c(8, 9, -9, 99)) ifelse(x %in% codes, NA, x)
prep <- function(d) {
  for (c in c("internet_use", "smartphone", "migrant_exp", "old_age_ins", "participation", "hreg_app",
              "edu_sat", "hlt_sat")) d[[c]] <- miss(d[[c]])
  d$hh_income <- ifelse(d$hh_income == -9, NA, d$hh_income)
  d$log_income <- log(d$hh_income)
  d$female <- as.numeric(d$sex == 2)
  d$age10 <- d$age / 10
  d$east <- as.numeric(d$region3 == "east")
  d
}
regs <- c("internet_use", "education", "log_income", "distance_km", "participation", "age10", "female")
oregs <- c(regs, "east")

# --- 1. domain estimates: design df of each domain and the t interval on it ----------------
d <- prep(d0)
des <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = d, nest = TRUE)
for (by in c("region3", "province")) {
  for (g in sort(unique(d[[by]]))) {
    sub <- subset(des, d[[by]] == g & !is.na(d$overall))
    m <- svymean(~overall, sub, na.rm = TRUE)
    df <- degf(sub)
    ci <- confint(m, df = df)
    add("default", paste0("degree_by_", by), as.character(g), "domain", coef(m), SE(m), df, NA, ci[1], ci[2])
  }
}
m <- svymean(~overall, subset(des, !is.na(d$overall)), na.rm = TRUE)
df <- degf(subset(des, !is.na(d$overall)))
ci <- confint(m, df = df)
add("default", "degree", "all", "domain", coef(m), SE(m), df, NA, ci[1], ci[2])

# --- 2. svyglm on the full design when item non-response removes whole PSUs and a whole
#        stratum, one stratum a single PSU: villages 5402 and 5403 dropped (Tibet keeps one
#        village), income missing in the villages 3102 and 4101 and in all of Heilongjiang (2301,
#        2302) ----------------------------------------------------------------------------------
dp <- d0[!(d0$village_id %in% c(5402, 5403)), ]
dp$hh_income[dp$village_id %in% c(3102, 4101, 2301, 2302)] <- NA
dp <- prep(dp)
desp <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = dp, nest = TRUE)
glm_rows <- function(case, name, m) {
  s <- summary(m)$coefficients
  dfr <- df.residual(m)
  for (t in rownames(s)) {
    if (t == "(Intercept)" || grepl("factor", t)) next
    q <- qt(0.975, dfr)
    add(case, name, t, "coef", s[t, 1], s[t, 2], dfr, s[t, 4], s[t, 1] - q * s[t, 2], s[t, 1] + q * s[t, 2])
  }
}
f_reg <- as.formula(paste("overall ~", paste(regs, collapse = " + "), "+ factor(region3)"))
glm_rows("perturbed", "svy_region", svyglm(f_reg, design = desp))
# WLS with heteroskedasticity-robust HC1 standard errors (no clustering): lm + sandwich::vcovHC
mh <- lm(f_reg, data = d, weights = weight)
Vh <- vcovHC(mh, type = "HC1")
for (t in regs) {
  b <- coef(mh)[t]; se <- sqrt(Vh[t, t]); dfr <- df.residual(mh); q <- qt(0.975, dfr)
  add("default", "wls_region_hc1", t, "coef", b, se, dfr, 2 * pt(-abs(b / se), dfr), b - q * se, b + q * se)
}
glm_rows("default", "svy_region", svyglm(f_reg, design = des))
# the headline WLS with CR1 cluster-robust SEs (sandwich::vcovCL HC1), t on G - 1 df (lmtest::coeftest)
Vc <- vcovCL(mh, cluster = ~province, type = "HC1")
G <- length(unique(d[rownames(model.frame(mh)), "province"]))     # provinces of the complete cases
for (t in regs) {
  b <- coef(mh)[t]; se <- sqrt(Vc[t, t]); q <- qt(0.975, G - 1)
  add("default", "wls_region", t, "coef", b, se, G - 1, 2 * pt(-abs(b / se), G - 1), b - q * se, b + q * se)
}
lregs <- list(logit_online_registration = c("hreg_app", "smartphone", "education", "log_income", "distance_km", "age10", "female", "east"),
              logit_old_age_insurance = c("old_age_ins", "education", "log_income", "age10", "female", "migrant_exp", "east"))

# --- 3. logit: coefficients, p-values and average marginal effects, discrete change for 0/1 ----
source("tests/r/logit_ames.R")       # average marginal effects, delta-method SEs
ame_logit <- function(case, name, m) {
  a <- logit_ames(m)
  for (i in seq_len(nrow(a))) add(case, name, a$term[i], a$kind[i], a$estimate[i], a$se[i])
}
for (case in c("default", "perturbed")) {
  dd <- if (case == "default") des else desp
  for (name in names(lregs)) {
    r <- lregs[[name]]
    m <- svyglm(as.formula(paste(r[1], "~", paste(r[-1], collapse = " + "))), design = dd, family = quasibinomial())
    glm_rows(case, name, m)
    ame_logit(case, name, m)
  }
}

# --- 4. ordered logit: design-based (svyolr), model-based (clm), AMEs by category, Brant --------
cc <- d[complete.cases(d[, c("hlt_sat", oregs)]), ]
cc$y <- factor(cc$hlt_sat, ordered = TRUE)
fo <- as.formula(paste("y ~", paste(oregs, collapse = " + ")))
dso <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = d, nest = TRUE)
dd <- d; dd$y <- factor(dd$hlt_sat, ordered = TRUE)
dso <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = dd, nest = TRUE)
so <- svyolr(fo, design = subset(dso, complete.cases(dd[, c("hlt_sat", oregs)])),
             control = list(reltol = 1e-15, maxit = 10000))      # BFGS to convergence
Vs <- vcov(so)
for (t in names(coef(so))) {
  b <- coef(so)[t]; se <- sqrt(Vs[t, t])
  if (t %in% oregs) {      # slopes: t on svyolr's df.residual (the design's df minus the slopes)
    dfr <- so$df.residual; q <- qt(0.975, dfr)
    add("default", "svyolr_health", t, "coef", b, se, dfr, 2 * pt(-abs(b / se), dfr), b - q * se, b + q * se)
  } else add("default", "svyolr_health", t, "cut", b, se)
}
cm <- clm(fo, data = cc, link = "logit")
ame_olr <- function(name, beta, zeta, V, X, w, bidx, zidx) {
  J <- length(zeta) + 1
  P <- function(eta, z) { F <- cbind(0, plogis(outer(-eta, z, "+")), 1); F[, -1] - F[, -(J + 1)] }
  for (t in colnames(X)) {
    binary <- all(X[, t] %in% c(0, 1))
    f <- function(theta) {
      b <- theta[bidx]; z <- theta[zidx]
      if (binary) {
        X1 <- X; X0 <- X; X1[, t] <- 1; X0[, t] <- 0
        colSums(w * (P(drop(X1 %*% b), z) - P(drop(X0 %*% b), z))) / sum(w)
      } else {
        h <- 1e-5; Xp <- X; Xm <- X; Xp[, t] <- Xp[, t] + h; Xm[, t] <- Xm[, t] - h
        colSums(w * (P(drop(Xp %*% b), z) - P(drop(Xm %*% b), z)) / (2 * h)) / sum(w)
      }
    }
    th <- numeric(length(bidx) + length(zidx)); th[bidx] <- beta; th[zidx] <- zeta
    est <- f(th)
    G <- sapply(seq_along(th), function(k) { e <- 1e-6; tp <- th; tm <- th; tp[k] <- tp[k] + e; tm[k] <- tm[k] - e
                                             (f(tp) - f(tm)) / (2 * e) })
    se <- sqrt(pmax(diag(G %*% V %*% t(G)), 0))
    for (c in seq_len(J)) add("default", name, t, if (binary) "ame_discrete" else "ame_derivative",
                              est[c], se[c], category = c)
  }
}
Xo <- as.matrix(cc[, oregs])
# clm orders its parameters thresholds first, then slopes
ame_olr("ologit_health", coef(cm)[oregs], cm$alpha, vcov(cm)[c(names(cm$alpha), oregs), c(names(cm$alpha), oregs)],
        Xo, rep(1, nrow(Xo)), bidx = (length(cm$alpha) + 1):(length(cm$alpha) + length(oregs)),
        zidx = seq_along(cm$alpha))
ame_olr("svyolr_health", coef(so)[oregs], so$zeta, Vs, Xo, cc$weight, bidx = seq_along(oregs),
        zidx = (length(oregs) + 1):(length(oregs) + length(so$zeta)))

# Brant (1990): the J - 1 binary logits 1(y > j) share their slopes, written out from the paper
y <- as.integer(cc$y); J <- max(y); X1 <- cbind(1, Xo); k <- length(oregs)
fits <- lapply(1:(J - 1), function(j) glm.fit(X1, as.numeric(y > j), family = binomial()))
pis <- lapply(fits, function(f) f$fitted.values)
info <- lapply(pis, function(p) solve(t(X1) %*% (X1 * (p * (1 - p)))))
B <- unlist(lapply(fits, function(f) f$coefficients[-1]))
Vb <- matrix(0, (J - 1) * k, (J - 1) * k)
for (a in 1:(J - 1)) for (b in a:(J - 1)) {
  W <- pis[[b]] - pis[[a]] * pis[[b]]
  cv <- (info[[a]] %*% (t(X1) %*% (X1 * W)) %*% info[[b]])[-1, -1]
  Vb[((a - 1) * k + 1):(a * k), ((b - 1) * k + 1):(b * k)] <- cv
  Vb[((b - 1) * k + 1):(b * k), ((a - 1) * k + 1):(a * k)] <- t(cv)
}
D <- matrix(0, (J - 2) * k, (J - 1) * k)
for (r in 1:(J - 2)) { D[((r - 1) * k + 1):(r * k), 1:k] <- diag(k); D[((r - 1) * k + 1):(r * k), (r * k + 1):((r + 1) * k)] <- -diag(k) }
dd <- D %*% B; C <- D %*% Vb %*% t(D)
stat <- drop(t(dd) %*% solve(C, dd))
add("default", "brant_ologit_health", "omnibus", "brant", stat, NA, (J - 2) * k, pchisq(stat, (J - 2) * k, lower.tail = FALSE))
for (j in seq_len(k)) {
  idx <- (0:(J - 3)) * k + j
  s <- drop(t(dd[idx]) %*% solve(C[idx, idx], dd[idx]))
  add("default", "brant_ologit_health", oregs[j], "brant", s, NA, J - 2, pchisq(s, J - 2, lower.tail = FALSE))
}

# --- 5. a finite population correction: 10 times the villages sampled in each province --------
sc2 <- sc
sc2$fpc <- 10 * ave(sc2$village_id, sc2$province, FUN = function(x) length(unique(x)))
desf <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, fpc = ~fpc, data = sc2, nest = TRUE)
m <- svymean(~overall, desf, na.rm = TRUE, deff = TRUE)
add("fpc", "degree", "all", "domain", coef(m), SE(m), deff(m))
r <- svyby(~overall, ~region3, desf, svymean, na.rm = TRUE, deff = TRUE)
for (i in seq_len(nrow(r))) add("fpc", "degree_by_region3", r$region3[i], "domain", r$overall[i], r$se[i],
                                r[i, grep("DEff", names(r))[1]])

# --- 6. multilevel model: nlme::lme, Wald t tests and intervals on its between-within df ------
#        (the package fits it as lme4::lmer; its REML/ML estimates are lme's)
pv <- read.csv("data/external/_merged/province_year_core_2005_2024.csv", encoding = "UTF-8")
pv <- pv[pv$year == 2020, ]
prov <- data.frame(province = pv$name_zh_short, urban_rate = pv$urban_rate_pct,
                   log_gdp_pc = log(pv$gdp_per_capita_yuan),
                   fiscal_exp_pc_k = pv$fiscal_exp_per_capita_yuan / 1000)
dm <- merge(prep(d0), prov, by = "province", sort = FALSE)
mregs <- c(regs, "urban_rate", "log_gdp_pc", "fiscal_exp_pc_k")
dm <- dm[complete.cases(dm[, c("overall", mregs)]), ]
f_ml <- as.formula(paste("overall ~", paste(mregs, collapse = " + ")))
for (method in c("REML", "ML")) {
  m <- nlme::lme(f_ml, random = ~ 1 | province, data = dm, method = method,
                 control = nlme::lmeControl(tolerance = 1e-12, msTol = 1e-12, niterEM = 200, msMaxIter = 500))
  # Wald t on lme's between-within df (m$fixDF$X), from vcov(m): summary() would rescale an ML
  # fit's SEs to REML-like ones (adjustSigma), which lmer's vcov does not
  b <- nlme::fixef(m); se <- sqrt(diag(vcov(m))); dfx <- m$fixDF$X[names(b)]; q <- qt(0.975, dfx)
  for (t in names(b)) {
    term <- if (t == "(Intercept)") "Intercept" else t
    add("default", paste0("multilevel_", tolower(method)), term, "coef", b[t], se[t], dfx[t],
        2 * pt(-abs(b[t] / se[t]), dfx[t]), b[t] - q[t] * se[t], b[t] + q[t] * se[t])
  }
}

res <- do.call(rbind, out)
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s: survey %s, ordinal %s: %d reference values\n", getRversion(), packageVersion("survey"),
            packageVersion("ordinal"), nrow(res)))
