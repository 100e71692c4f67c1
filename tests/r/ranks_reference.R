# Reference values for the province rank intervals of the index page and the profiles
# (analysis/estimation/sensitivity.py rank_intervals on domain_replicates): the design-weighted
# mean score of each province on each Rao-Wu bootstrap replicate, by survey::svyby with
# return.replicates on the replicate weights weight x multiplier; each replicate's ranks among the
# provinces the page ranks (1 = highest, ties averaged); the median rank and the 2.5 % and 97.5 %
# quantiles of the ranks over replicates (quantile type 7); the bootstrap mean and SE of each mean.
# Run from the project root:  Rscript tests/r/ranks_reference.R [outfile]
# Inputs (written by tests/r/ranks_input.py): tests/data/ranks_input.csv (province, overall,
#   weight, PSU code of each respondent), tests/data/ranks_multipliers.csv (PSUs x R),
#   tests/data/ranks_provinces.csv (the provinces ranked: the publishable ones).
# Output: tests/results/ranks_reference.csv: province, boot_mean, boot_se, median_rank, rank_low,
#   rank_high.
suppressPackageStartupMessages(library(survey))
options(digits = 15)
args <- commandArgs(trailingOnly = TRUE)
outfile <- if (length(args)) args[1] else "tests/results/ranks_reference.csv"
d <- read.csv("tests/data/ranks_input.csv")
M <- as.matrix(read.csv("tests/data/ranks_multipliers.csv"))
ranked <- read.csv("tests/data/ranks_provinces.csv")$province
des <- svrepdesign(data = d, repweights = d$weight * M[d$psu_code + 1, ], weights = ~weight,
                   type = "bootstrap", combined.weights = TRUE)
r <- svyby(~overall, ~province, des, svymean, na.rm = TRUE, return.replicates = TRUE)
reps <- attr(r, "replicates")                   # replicates x provinces
colnames(reps) <- as.character(r$province)
rk <- t(apply(-reps[, ranked, drop = FALSE], 1, rank, ties.method = "average"))
q <- function(x, p) unname(quantile(x, p, type = 7))
res <- data.frame(province = ranked, boot_mean = colMeans(reps[, ranked, drop = FALSE]),
                  boot_se = apply(reps[, ranked, drop = FALSE], 2, sd),
                  median_rank = apply(rk, 2, median), rank_low = apply(rk, 2, q, 0.025),
                  rank_high = apply(rk, 2, q, 0.975))
write.csv(res, outfile, row.names = FALSE)
cat(sprintf("R %s, survey %s: %d replicates, %d provinces ranked\n", getRversion(), packageVersion("survey"),
            nrow(reps), length(ranked)))
