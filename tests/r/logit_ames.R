# Average marginal effects of a fitted logit (glm or svyglm), shared by the reference scripts:
# a discrete change from 0 to 1 for a 0/1 regressor, a numerical derivative (h = 1e-5) otherwise,
# averaged with the prior weights; delta-method SEs from the model's covariance, the gradient
# taken by central differences. Returns one row per regressor: term, kind, estimate, se.
logit_ames <- function(m) {
  X <- model.matrix(m); w <- weights(m, "prior"); b <- coef(m); V <- vcov(m)
  rows <- lapply(colnames(X)[-1], function(t) {
    binary <- all(X[, t] %in% c(0, 1))
    f <- function(beta) {
      if (binary) {
        X1 <- X; X0 <- X; X1[, t] <- 1; X0[, t] <- 0
        sum(w * (plogis(X1 %*% beta) - plogis(X0 %*% beta))) / sum(w)
      } else {
        h <- 1e-5; Xp <- X; Xm <- X; Xp[, t] <- Xp[, t] + h; Xm[, t] <- Xm[, t] - h
        sum(w * (plogis(Xp %*% beta) - plogis(Xm %*% beta)) / (2 * h)) / sum(w)
      }
    }
    g <- sapply(seq_along(b), function(k) {
      e <- 1e-6; bp <- b; bm <- b; bp[k] <- bp[k] + e; bm[k] <- bm[k] - e
      (f(bp) - f(bm)) / (2 * e)
    })
    data.frame(term = t, kind = if (binary) "ame_discrete" else "ame_derivative", estimate = f(b),
               se = sqrt(drop(t(g) %*% V %*% g)))
  })
  do.call(rbind, rows)
}
