# Reference values for analysis/design.py from R's survey package (Lumley).
# Run from the project root:  Rscript tests/r/design_reference.R
# Inputs:
#   tests/data/apistrat.csv, tests/data/apiclus1.csv  -- data(api) of the survey package, written
#       by write.csv (the California Academic Performance Index samples used in Lumley's book)
#   tests/data/replica_scores.csv  -- `ruralgov index 2020-replica --scores ...` (respondent scores
#       with the design columns of the default wave)
#   data/waves/2020-replica/villagers.csv  -- raw villager file (missing codes 8/9 recoded to NA here)
# Output: tests/results/design_reference.csv (one row per estimate)
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "adjust", digits = 15)
out <- list()
add <- function(dataset, statistic, variable, domain, est, se, deff = NA, lo = NA, hi = NA) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, statistic = statistic, variable = variable,
    domain = as.character(domain), estimate = as.numeric(est), se = as.numeric(se),
    deff = as.numeric(deff), ci_low = as.numeric(lo), ci_high = as.numeric(hi))
}
by_rows <- function(dataset, statistic, variable, r, dcol, ci = FALSE) {
  est <- coef(r); s <- SE(r)
  dd <- if ("DEff" %in% names(attributes(r)) || any(grepl("DEff", names(r)))) r[[grep("DEff", names(r))[1]]] else rep(NA, length(est))
  if (ci) { cc <- confint(r); lo <- cc[, 1]; hi <- cc[, 2] } else { lo <- NA; hi <- NA }
  for (i in seq_along(est)) add(dataset, statistic, variable, r[[dcol]][i], est[i], s[i], dd[i],
                                if (ci) lo[i] else NA, if (ci) hi[i] else NA)
}

# --- public data: apistrat (stratified, fpc) and apiclus1 (one-stage cluster) ---------------
apistrat <- read.csv("tests/data/apistrat.csv")
apiclus1 <- read.csv("tests/data/apiclus1.csv")
ds <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
# whole-sample rows also carry the 95 % CI on the design's degrees of freedom
ci_df <- function(x, design) confint(x, df = degf(design))
m <- svymean(~api00, ds, deff = TRUE)
add("apistrat", "mean", "api00", "all", coef(m), SE(m), deff(m), ci_df(m, ds)[1], ci_df(m, ds)[2])
# design effects: deff = TRUE (finite population N = sum of weights) where the design has an fpc,
# deff = "replace" (with replacement, independent of the scale of the weights) otherwise
m <- svymean(~api00, dc, deff = "replace")
add("apiclus1", "mean", "api00", "all", coef(m), SE(m), deff(m), ci_df(m, dc)[1], ci_df(m, dc)[2])
t <- svytotal(~enroll, dc)
add("apiclus1", "total", "enroll", "all", coef(t), SE(t), NA, ci_df(t, dc)[1], ci_df(t, dc)[2])
r <- svyratio(~api00, ~api99, dc, deff = "replace")     # a ratio's design effect, with replacement
add("apiclus1", "ratio", "api00/api99", "all", coef(r), SE(r), deff(r), ci_df(r, dc)[1], ci_df(r, dc)[2])
# a denominator missing for 39 schools (no K-3 classes): those schools are left out of the ratio
r <- svyratio(~api00, ~acs.k3, dc, na.rm = TRUE)
add("apiclus1", "ratio", "api00/acs.k3", "all", coef(r), SE(r))
# totals and ratios by domain, in the stratified design with an fpc and in the cluster design
for (dd in list(list("apistrat", ds), list("apiclus1", dc))) {
  tb <- svyby(~enroll, ~stype, dd[[2]], svytotal)
  for (i in seq_len(nrow(tb))) add(dd[[1]], "total", "enroll by stype", tb$stype[i], tb$enroll[i], tb$se[i])
  rb <- svyby(~api00, ~stype, dd[[2]], svyratio, denominator = ~api99)
  for (i in seq_len(nrow(rb))) add(dd[[1]], "ratio", "api00/api99 by stype", rb$stype[i], rb[i, 2], rb[i, 3])
}
t <- svytotal(~enroll, ds)
add("apistrat", "total", "enroll", "all", coef(t), SE(t), NA, ci_df(t, ds)[1], ci_df(t, ds)[2])
r <- svyratio(~api00, ~api99, ds, deff = TRUE)
add("apistrat", "ratio", "api00/api99", "all", coef(r), SE(r), deff(r), ci_df(r, ds)[1], ci_df(r, ds)[2])
m <- svymean(~api00, ds, deff = TRUE)
# a mean's design effect in the fpc design by domain
by_rows("apistrat", "mean", "api00 by stype", svyby(~api00, ~stype, ds, svymean, deff = TRUE), "stype")
by_rows("apistrat", "mean", "api00 by cname==Los Angeles", svyby(~api00, ~cname == "Los Angeles", ds, svymean, deff = TRUE), 1)
by_rows("apiclus1", "mean", "api00 by stype", svyby(~api00, ~stype, dc, svymean, deff = "replace"), "stype")
# the difference of two domain means and its SE (svycontrast on the domains' covariance)
cc <- svycontrast(svyby(~api00, ~stype, ds, svymean, covmat = TRUE), c(E = 1, H = -1))
add("apistrat", "contrast", "api00 by stype", "E-H", coef(cc), SE(cc))
cc <- svycontrast(svyby(~api00, ~stype, dc, svymean, covmat = TRUE), c(M = 1, E = -1))
add("apiclus1", "contrast", "api00 by stype", "M-E", coef(cc), SE(cc))
# a stratum with a single PSU (one high school): each rule of survey.lonely.psu
lonely <- rbind(apistrat[apistrat$stype != "H", ], apistrat[apistrat$stype == "H", ][1, ])
dl <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = lonely)
for (rule in c("adjust", "remove", "certainty")) {
  options(survey.lonely.psu = rule)
  m <- svymean(~api00, dl)
  add(paste0("apistrat_lonely_", rule), "mean", "api00", "all", coef(m), SE(m), NA,
      confint(m, df = degf(dl))[1], confint(m, df = degf(dl))[2])
  # a total (its linearised values do not sum to zero, so the grand mean a lonely PSU is centred
  # at under "adjust" matters) overall and in two domains at once
  t <- svytotal(~enroll, dl)
  add(paste0("apistrat_lonely_", rule), "total", "enroll", "all", coef(t), SE(t))
  tb <- svyby(~enroll, ~awards, dl, svytotal)
  for (i in seq_len(nrow(tb))) add(paste0("apistrat_lonely_", rule), "total", "enroll by awards", tb$awards[i], tb$enroll[i], tb$se[i])
}
options(survey.lonely.psu = "adjust")
# the fpc of a one-stage cluster sample without strata (Lumley's dclus1), and the stratified
# sample's fpc given as sampling fractions instead of population counts (R reads values <= 1 so)
dcf <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
m <- svymean(~api00, dcf)
add("apiclus1_fpc", "mean", "api00", "all", coef(m), SE(m), NA, confint(m, df = degf(dcf))[1], confint(m, df = degf(dcf))[2])
apistrat$frac <- ave(apistrat$pw, apistrat$stype, FUN = length) / apistrat$fpc
dsf <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~frac)
m <- svymean(~api00, dsf)
add("apistrat_frac", "mean", "api00", "all", coef(m), SE(m))
pr <- svyby(~I(sch.wide == "Yes"), ~stype, dc, svyciprop, vartype = c("se", "ci"), method = "logit")
for (i in seq_len(nrow(pr))) add("apiclus1", "proportion", "sch.wide==Yes by stype", pr$stype[i], pr[i, 2], pr$se[i], NA, pr$ci_l[i], pr$ci_u[i])
p <- svyciprop(~I(sch.wide == "Yes"), dc, method = "logit")
add("apiclus1", "proportion", "sch.wide==Yes", "all", as.numeric(p), sqrt(as.numeric(attr(p, "var"))), NA, attr(p, "ci")[1], attr(p, "ci")[2])
# domains on the boundary: every elementary school is one (p = 1), no high or middle school is
# (p = 0); svyciprop's logit interval degenerates to the point (0 within about 1e-11)
pr <- svyby(~I(stype == "E"), ~stype, dc, svyciprop, vartype = c("se", "ci"), method = "logit")
for (i in seq_len(nrow(pr))) add("apiclus1", "proportion", "stype==E by stype", pr$stype[i], pr[i, 2], pr$se[i], NA, pr$ci_l[i], pr$ci_u[i])

# --- the default wave: index scores and Table 1 proportions --------------------------------
sc <- read.csv("tests/data/replica_scores.csv", encoding = "UTF-8")
d <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = sc, nest = TRUE)
m <- svymean(~overall, d, na.rm = TRUE, deff = "replace")
# with its 95 % CI on t with the design's df (the headline degree the pages print)
add("replica", "mean", "overall", "all", coef(m), SE(m), deff(m), ci_df(m, d)[1], ci_df(m, d)[2])
by_rows("replica", "mean", "overall by region3", svyby(~overall, ~region3, d, svymean, na.rm = TRUE, deff = "replace"), "region3")
by_rows("replica", "mean", "overall by region4", svyby(~overall, ~region4, d, svymean, na.rm = TRUE, deff = "replace"), "region4")
# (covmat = TRUE does not take na.rm: the respondents with a score, a domain of the design)
cc <- svycontrast(svyby(~overall, ~region3, subset(d, !is.na(overall)), svymean, covmat = TRUE), c(east = 1, west = -1))
add("replica", "contrast", "overall by region3", "east-west", coef(cc), SE(cc))
by_rows("replica", "mean", "health by region3", svyby(~health, ~region3, d, svymean, na.rm = TRUE, deff = "replace"), "region3")
# the same with the weights scaled to mean 1: the design effects do not change
sc1 <- transform(sc, weight = weight / mean(weight))
d1 <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = sc1, nest = TRUE)
m <- svymean(~overall, d1, na.rm = TRUE, deff = "replace")
add("replica_mean1", "mean", "overall", "all", coef(m), SE(m), deff(m))
by_rows("replica_mean1", "mean", "overall by region3", svyby(~overall, ~region3, d1, svymean, na.rm = TRUE, deff = "replace"), "region3")

v <- read.csv("data/waves/2020-replica/villagers.csv", encoding = "UTF-8")
dv <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = v, nest = TRUE)
for (item in c("hp_expensive", "ssp_centres", "etp_attitude", "csp_few", "hreg_app")) {
  f <- as.formula(paste0("~I(", item, " == 1)"))
  sub <- subset(dv, !is.na(v[[item]]))
  p <- svyciprop(f, sub, method = "logit")
  add("replica", "proportion", item, "all", as.numeric(p), sqrt(as.numeric(attr(p, "var"))), NA, attr(p, "ci")[1], attr(p, "ci")[2])
}
# the problems page's digital-access table: each item's share answering 1, overall and by region
# (regions from the scores file), on the respondents who answered it (8/9 are missing codes)
vr <- merge(v, sc[, c("resp_id", "region3")], by = "resp_id", sort = FALSE)
dr <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = vr, nest = TRUE)
for (item in c("hreg_onsite", "hreg_app", "hreg_web", "hreg_phone", "digital_aware", "digital_use",
               "internet_use", "smartphone")) {
  answered <- !is.na(vr[[item]]) & !(vr[[item]] %in% c(8, 9))
  f <- as.formula(paste0("~I(", item, " == 1)"))
  sub <- subset(dr, answered)
  p <- svyciprop(f, sub, method = "logit")
  add("replica_digital", "proportion", item, "all", as.numeric(p), sqrt(as.numeric(attr(p, "var"))), NA,
      attr(p, "ci")[1], attr(p, "ci")[2])
  pr <- svyby(f, ~region3, sub, svyciprop, vartype = "se", method = "logit")
  for (i in seq_len(nrow(pr))) add("replica_digital", "proportion", item, pr$region3[i], pr[i, 2], pr$se[i])
}
v$old_age_none <- ifelse(v$old_age_ins %in% c(8, 9), NA, as.numeric(v$old_age_ins == 0))
dv <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = v, nest = TRUE)
m <- svymean(~old_age_none, dv, na.rm = TRUE, deff = "replace")
add("replica", "mean", "old_age_none", "all", coef(m), SE(m), deff(m))

# the problems page's Table 1 when an item is answered in few PSUs: hp_equipment kept only in the
# three provinces with three villages each (those with the lowest village codes), blank elsewhere.
# Its interval is on the df of the respondents who answered (degf of the subset: 9 PSUs less 3
# strata), stored as a row of its own
vt <- read.csv("data/waves/2020-replica/villagers.csv", encoding = "UTF-8")
villages <- tapply(vt$village_id, vt$province, function(x) length(unique(x)))
lowest <- tapply(vt$village_id, vt$province, min)
# hp_equipment kept in the rows `keep` only: its share on the subset that answered, and that df
answered_in <- function(case, keep) {
  v <- vt
  v$hp_equipment[!keep] <- NA
  d <- svydesign(id = ~village_id, strata = ~province, weights = ~weight, data = v, nest = TRUE)
  sub <- subset(d, !is.na(v$hp_equipment))
  p <- svyciprop(~I(hp_equipment == 1), sub, method = "logit")
  add(case, "proportion", "hp_equipment", "all", as.numeric(p), sqrt(as.numeric(attr(p, "var"))), NA,
      attr(p, "ci")[1], attr(p, "ci")[2])
  add(case, "df", "hp_equipment", "all", degf(sub), NA)
}
ok <- names(villages)[villages == 3]
answered_in("replica_three", vt$province %in% ok[order(lowest[ok])][1:3])
# the same item answered in one village of each of two provinces only (the lowest village code of
# the two provinces whose lowest codes are lowest): 2 PSUs less 2 strata leave 0 df, and svyciprop's
# interval on them is NaN (qt(0.975, 0)); the estimate and its SE remain
answered_in("replica_two", vt$village_id %in% lowest[names(sort(lowest))[1:2]])

args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/design_reference.csv"
res <- do.call(rbind, out)
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s, survey %s: %d reference values written\n", getRversion(), packageVersion("survey"), nrow(res)))
