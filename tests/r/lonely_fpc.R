# A stratum with a single PSU under survey.lonely.psu = "adjust", with and without an fpc: R's
# survey applies the stratum's fpc to its centred total as to any other stratum's (here N = 2 for
# the lonely PSU of stratum 3, a sampling fraction of 1/2), and an fpc of 1e9 is all but none.
# Printed, and typed into tests/test_collinear_models_and_unbounded_scores.py
# (test_a_lonely_psu_under_adjust_takes_its_stratum_s_fpc_as_r_does).
# Run:  Rscript tests/r/lonely_fpc.R
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- data.frame(y = c(1, 2, 3, 4, 5, 7, 10, 12), s = c(1, 1, 1, 1, 2, 2, 2, 3),
                p = c(1, 1, 2, 2, 3, 4, 5, 6), w = c(2, 2, 2, 2, 3, 3, 3, 4))
d$N <- c(4, 4, 4, 4, 6, 6, 6, 2)
a <- svydesign(ids = ~p, strata = ~s, weights = ~w, data = d)
b <- svydesign(ids = ~p, strata = ~s, weights = ~w, fpc = ~N, data = d)
d$N[8] <- 1e9
c2 <- svydesign(ids = ~p, strata = ~s, weights = ~w, fpc = ~N, data = d)
cat(sprintf("%.12f %.12f %.12f\n", SE(svymean(~y, a)), SE(svymean(~y, b)), SE(svymean(~y, c2))))
