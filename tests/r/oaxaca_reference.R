# Reference values for the Oaxaca-Blinder decomposition (analysis/estimation/decomposition.py):
# two-fold with pooled coefficients from a regression with a group indicator (Jann 2008), three-fold
# from the group regressions, each fitted by lm with the design weights; bootstrap SEs by
# survey::withReplicates on the replicate weights weight x multiplier (type "bootstrap": the
# variance of the replicates about their mean, scale 1/(R - 1)).
# Run from the project root:  Rscript tests/r/oaxaca_reference.R [outfile]
# Inputs (written by tests/r/oaxaca_input.py): tests/data/oaxaca_input.csv (respondents of the two
#   groups: y, regressors, weight, group, PSU code), tests/data/oaxaca_multipliers.csv (PSUs x R).
# Output: tests/results/oaxaca_reference.csv: component (or regressor of the detailed explained
#   part), estimate, se.
suppressPackageStartupMessages(library(survey))
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/oaxaca_reference.csv"
d <- read.csv("tests/data/oaxaca_input.csv")
M <- as.matrix(read.csv("tests/data/oaxaca_multipliers.csv"))
regs <- setdiff(names(d), c("y", "weight", "group", "psu_code"))
f <- as.formula(paste("y ~", paste(regs, collapse = " + ")))
A <- d$group == "east"
d$in_a <- as.numeric(A)
X <- model.matrix(f, d)

decompose <- function(w, data) {
  data$w_ <- w          # lm reads its weights from the data (the formula's environment is global)
  ba <- coef(lm(f, data = data[A, ], weights = w_))
  bb <- coef(lm(f, data = data[!A, ], weights = w_))
  bp <- coef(lm(update(f, . ~ . + in_a), data = data, weights = w_))[colnames(X)]
  xa <- colSums(X[A, ] * w[A]) / sum(w[A])
  xb <- colSums(X[!A, ] * w[!A]) / sum(w[!A])
  c(gap = sum(xa * ba) - sum(xb * bb), explained = sum((xa - xb) * bp),
    unexplained = sum(xa * (ba - bp)) + sum(xb * (bp - bb)), endowments = sum((xa - xb) * bb),
    coefficients = sum(xb * (ba - bb)), interaction = sum((xa - xb) * (ba - bb)), (xa - xb)[regs] * bp[regs])
}
rep_w <- d$weight * M[d$psu_code + 1, ]
des <- svrepdesign(data = d, repweights = rep_w, weights = ~weight, type = "bootstrap", combined.weights = TRUE)
r <- withReplicates(des, decompose)
res <- data.frame(component = names(coef(r)), estimate = as.numeric(coef(r)), se = as.numeric(SE(r)))
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s, survey %s: %d replicates, %d reference values\n", getRversion(), packageVersion("survey"),
            ncol(M), nrow(res)))
