"""Ordered outcomes: the cumulative (proportional-odds) logit by Newton–Raphson with the analytic
Hessian, as ``ordinal::clm``, and average marginal effects on each category's probability.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.results import ModelResult, ModelSpecError
from analysis.settings import ModelSpec


class NonConvergence(ModelSpecError):
    """The ordered logit did not converge; ``beta`` holds the last iterate (a coefficient growing
    without bound shows which regressor separates the outcome)."""

    def __init__(self, message: str, beta: np.ndarray) -> None:
        super().__init__(message)
        self.beta = beta


def ordered_logit(y: np.ndarray, X: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cumulative logit P(Y ≤ j) = F(θ_j − x'β) by Newton–Raphson with the analytic Hessian
    (as ``ordinal::clm``); ``y`` holds category positions 0..J−1.

    Each iteration is a few passes over the data (O(n·K²)); BFGS in statsmodels' OrderedModel
    needed hundreds of numerical-gradient passes.  Returns (β, θ, covariance of (β, θ) from the
    observed information, log-likelihood).
    """
    n, k = X.shape
    J = int(y.max()) + 1
    share = np.cumsum(np.bincount(y, minlength=J))[:-1] / n
    theta = np.log(share / (1 - share))
    beta = np.zeros(k)
    hi_ok, lo_ok = y < J - 1, y > 0                      # a finite upper / lower threshold

    def pieces(b: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        eta = X @ b
        tt = np.r_[t, 0.0]
        a = np.where(hi_ok, tt[np.minimum(y, J - 2)] - eta, np.inf)
        c = np.where(lo_ok, tt[np.maximum(y - 1, 0)] - eta, -np.inf)
        Fa, Fc = 1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-c))
        p = Fa - Fc
        return a, c, Fa, Fc, p

    def loglik(b: np.ndarray, t: np.ndarray) -> float:
        if np.any(np.diff(t) <= 0):
            return -np.inf
        p = pieces(b, t)[4]
        return float(np.sum(np.log(p))) if np.all(p > 0) else -np.inf

    ll = loglik(beta, theta)
    for _ in range(max_iter):
        a, c, Fa, Fc, p = pieces(beta, theta)
        u, v = Fa * (1 - Fa), Fc * (1 - Fc)                # densities at the two thresholds
        du, dv = u * (1 - 2 * Fa), v * (1 - 2 * Fc)        # their derivatives
        up, vp = u / p, v / p
        grad_b = -X.T @ (up - vp)
        ia, ic = np.minimum(y, J - 2), np.maximum(y - 1, 0)
        grad_t = (np.bincount(ia[hi_ok], weights=up[hi_ok], minlength=J - 1)
                  - np.bincount(ic[lo_ok], weights=vp[lo_ok], minlength=J - 1))
        h_bb = (du - dv) / p - (up - vp) ** 2
        h_ba = -(du / p - up * (up - vp))                   # ∂²/∂β∂θ_upper (times x)
        h_bc = -(-dv / p + vp * (up - vp))                  # ∂²/∂β∂θ_lower (times x)
        H = np.zeros((k + J - 1, k + J - 1))
        H[:k, :k] = X.T @ (X * h_bb[:, None])
        for m in range(J - 1):
            sel_a, sel_c = hi_ok & (ia == m), lo_ok & (ic == m)
            col = X[sel_a].T @ h_ba[sel_a] + X[sel_c].T @ h_bc[sel_c]
            H[:k, k + m] = H[k + m, :k] = col
            H[k + m, k + m] = (np.sum(du[sel_a] / p[sel_a] - up[sel_a] ** 2)
                               + np.sum(-dv[sel_c] / p[sel_c] - vp[sel_c] ** 2))
            if m + 1 < J - 1:                               # category m+1 sits between θ_m and θ_{m+1}
                sel = y == m + 1
                H[k + m, k + m + 1] = H[k + m + 1, k + m] = np.sum(up[sel] * vp[sel])
        grad = np.r_[grad_b, grad_t]
        try:
            step = np.linalg.solve(H, -grad)
        except np.linalg.LinAlgError:
            raise NonConvergence("the Hessian is singular", beta) from None
        if np.max(np.abs(step)) < tol:                      # converged: H is at the estimate
            break
        scale = 1.0
        while True:                                         # step halving keeps θ ordered
            nb, nt = beta + scale * step[:k], theta + scale * step[k:]
            new = loglik(nb, nt)
            if new >= ll - 1e-12 or scale < 1e-8:
                break
            scale /= 2
        beta, theta, ll = nb, nt, new
    else:
        raise NonConvergence(f"no convergence in {max_iter} Newton iterations", beta)
    return beta, theta, np.linalg.inv(-H), ll


def fit_ologit(df: pd.DataFrame, spec: ModelSpec, labels: dict) -> ModelResult:
    """Ordered logit of a spec, with average marginal effects on each category."""
    regs = list(spec.regressors)
    y = df[spec.outcome].astype(int)
    cats = np.sort(y.unique())
    X = df[regs].to_numpy(float)
    try:
        beta, cut, V, llf = ordered_logit(np.searchsorted(cats, y.to_numpy()), X)
    except NonConvergence as e:
        scale = np.abs(e.beta) * X.std(axis=0)
        worst = regs[int(np.argmax(scale))] if len(regs) else "?"
        raise ModelSpecError(
            f"model {spec.name!r}: the ordered logit of {spec.outcome!r} did not converge ({e}); "
            f"the regressor {worst!r} ({labels.get(worst, worst)}) separates the outcome categories "
            f"(its coefficient grows without bound: {e.beta[regs.index(worst)]:.3g}); drop it from the "
            "model in data/models.yml, or merge sparse answer categories") from None
    names = regs + [f"cut{c}|{c2}" for c, c2 in zip(cats[:-1], cats[1:])]
    est = np.concatenate([beta, cut])
    ame = _ologit_ame(X, beta, cut, cats, V, regs)
    counts = y.value_counts().to_numpy(float)
    ll0 = float(np.sum(counts * np.log(counts / counts.sum())))   # thresholds-only model
    st = {"llf": llf, "pseudo_r2": 1 - llf / ll0, "categories": int(len(cats))}
    return ModelResult(spec.name, spec.label or spec.name, "ologit",
                       pd.Series(est, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), None, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType({"ame": ame}), tuple(regs))


def _ologit_probs(X: np.ndarray, beta: np.ndarray, cut: np.ndarray) -> np.ndarray:
    eta = X @ beta
    cdf = 1 / (1 + np.exp(-(np.r_[cut, np.inf][None, :] - eta[:, None])))
    cdf = np.column_stack([np.zeros(len(eta)), cdf])
    return np.diff(cdf, axis=1)


def _ologit_ame(X: np.ndarray, beta: np.ndarray, cut: np.ndarray, cats: np.ndarray, V: np.ndarray,
                regs: list[str]) -> pd.DataFrame:
    """Average marginal effect of each regressor on each category's probability (delta-method SE)."""
    k = len(beta)

    def ame(theta: np.ndarray) -> np.ndarray:
        b, c = theta[:k], theta[k:]
        eta = X @ b
        z = np.r_[c][None, :] - eta[:, None]
        f = np.exp(-z) / (1 + np.exp(-z)) ** 2                        # logistic density at cutpoints
        f = np.column_stack([np.zeros(len(eta)), f, np.zeros(len(eta))])
        dens = f[:, :-1] - f[:, 1:]                                    # n × categories
        return (dens.mean(axis=0)[None, :] * b[:, None]).ravel()      # dP(k)/dx_j = β_j (f_{k-1} - f_k)

    theta = np.r_[beta, cut]
    base = ame(theta)
    eps = 1e-6
    Jm = np.column_stack([(ame(theta + eps * np.eye(len(theta))[i]) - ame(theta - eps * np.eye(len(theta))[i]))
                          / (2 * eps) for i in range(len(theta))])
    se = np.sqrt(np.clip(np.diag(Jm @ V @ Jm.T), 0, None))
    rows = [{"term": regs[j], "category": int(cats[m]), "ame": base[j * len(cats) + m],
             "se": se[j * len(cats) + m]} for j in range(k) for m in range(len(cats))]
    return pd.DataFrame(rows)
