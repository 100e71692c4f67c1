"""Ordered outcomes: the cumulative (proportional-odds) logit by Newton–Raphson with the analytic
Hessian, model-based (as ``ordinal::clm``) or design-based (survey weights in the score, a
linearised sandwich over strata and PSUs, as ``survey::svyolr``); average marginal effects on each
category's probability — discrete changes for 0/1 regressors, derivatives for the others — with
delta-method SEs from analytic Jacobians; and the Brant test of proportional odds.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.estimation.design import SurveyDesign
from analysis.estimation.regression import design_vcov, model_df, weighted_gram
from analysis.estimation.results import ModelResult, ModelSpecError
from analysis.settings import ModelSpec


class NonConvergence(ModelSpecError):
    """The ordered logit did not converge; ``beta`` holds the last iterate (a coefficient growing
    without bound shows which regressor separates the outcome)."""

    def __init__(self, message: str, beta: np.ndarray) -> None:
        super().__init__(message)
        self.beta = beta


def _F(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _loglik(w: np.ndarray, t: np.ndarray, p: np.ndarray) -> float:
    """Weighted log-likelihood Σ w log p; −∞ where the thresholds are not increasing or a
    probability is not positive (a step that leaves the model's domain)."""
    if np.any(np.diff(t) <= 0) or not np.all(p > 0):
        return -np.inf
    return float(w @ np.log(p))


def _damped(value_at, ll: float, min_scale: float = 1e-8):  # type: ignore[no-untyped-def]
    """Step halving: the largest of 1, ½, ¼, … whose ``value_at(scale)`` → (log-likelihood,
    state) does not fall below ``ll`` (to 1e-12), or the first below ``min_scale``.
    Returns (log-likelihood, state) at that scale."""
    scale = 1.0
    while True:
        new, state = value_at(scale)
        if new >= ll - 1e-12 or scale < min_scale:
            return new, state
        scale /= 2


def ordered_logit(y: np.ndarray, X: np.ndarray, w: np.ndarray | None = None, *, tol: float = 1e-10,
                  max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cumulative logit P(Y ≤ j) = F(θ_j − x'β) by Newton–Raphson with the analytic Hessian
    (as ``ordinal::clm``; with weights ``w``, the weighted pseudo-likelihood of ``svyolr``);
    ``y`` holds category positions 0..J−1.

    The rows are put in order of category once, so that each category's rows are one contiguous
    block: the threshold terms of the gradient and Hessian are sums over blocks, and each
    iteration is a few passes over the data (O(n·K²)). Returns (β, θ, the inverse of minus the
    Hessian of the (weighted) log-likelihood, log-likelihood).
    """
    order = np.argsort(y, kind="stable")
    y = np.asarray(y)[order]
    X = np.ascontiguousarray(np.asarray(X, float)[order])
    n, k = X.shape
    w = np.ones(n) if w is None else np.asarray(w, float)[order]
    J = int(y.max()) + 1
    start = np.searchsorted(y, np.arange(J + 1))           # category c: rows start[c]:start[c+1]
    blk = [slice(start[c], start[c + 1]) for c in range(J)]
    share = np.cumsum(np.bincount(y, weights=w, minlength=J))[:-1] / w.sum()
    theta = np.log(share / (1 - share))
    beta = np.zeros(k)
    hi_ok, lo_ok = y < J - 1, y > 0                      # a finite upper / lower threshold
    ia, ic = np.minimum(y, J - 2), np.maximum(y - 1, 0)

    def pieces(b: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        """F at the upper and lower thresholds of each row's category, and its probability."""
        eta = X @ b
        tt = np.r_[t, 0.0]
        Fa = np.where(hi_ok, _F(tt[ia] - eta), 1.0)
        Fc = np.where(lo_ok, _F(tt[ic] - eta), 0.0)
        return Fa, Fc, Fa - Fc

    cur = pieces(beta, theta)
    ll = _loglik(w, theta, cur[2])
    for _ in range(max_iter):
        Fa, Fc, p = cur
        u, v = Fa * (1 - Fa), Fc * (1 - Fc)                # densities at the two thresholds
        du, dv = u * (1 - 2 * Fa), v * (1 - 2 * Fc)        # their derivatives
        up, vp = u / p, v / p
        grad_b = -X.T @ (w * (up - vp))
        h_bb = w * ((du - dv) / p - (up - vp) ** 2)
        h_ba = -w * (du / p - up * (up - vp))               # ∂²/∂β∂θ_upper (times x)
        h_bc = -w * (-dv / p + vp * (up - vp))              # ∂²/∂β∂θ_lower (times x)
        H = np.zeros((k + J - 1, k + J - 1))
        H[:k, :k] = weighted_gram(X, h_bb)
        grad_t = np.zeros(J - 1)
        for m in range(J - 1):                              # θ_m: upper of category m, lower of m+1
            a_, c_ = blk[m], blk[m + 1]
            grad_t[m] = w[a_] @ up[a_] - w[c_] @ vp[c_]
            H[:k, k + m] = H[k + m, :k] = X[a_].T @ h_ba[a_] + X[c_].T @ h_bc[c_]
            H[k + m, k + m] = (w[a_] @ (du[a_] / p[a_] - up[a_] ** 2)
                               + w[c_] @ (-dv[c_] / p[c_] - vp[c_] ** 2))
            if m + 1 < J - 1:                               # category m+1 sits between θ_m and θ_{m+1}
                H[k + m, k + m + 1] = H[k + m + 1, k + m] = w[c_] @ (up[c_] * vp[c_])
        grad = np.r_[grad_b, grad_t]
        try:
            step = np.linalg.solve(H, -grad)
        except np.linalg.LinAlgError:
            raise NonConvergence("the Hessian is singular", beta) from None
        if np.max(np.abs(step)) < tol:                      # converged: H is at the estimate
            break
        def at(scale: float):  # type: ignore[no-untyped-def]
            nb, nt = beta + scale * step[:k], theta + scale * step[k:]
            nxt = pieces(nb, nt)
            return _loglik(w, nt, nxt[2]), (nb, nt, nxt)

        ll, (beta, theta, cur) = _damped(at, ll)            # step halving keeps θ ordered
    else:
        raise NonConvergence(f"no convergence in {max_iter} Newton iterations", beta)
    return beta, theta, np.linalg.inv(-H), ll


def scores(y: np.ndarray, X: np.ndarray, beta: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Per-respondent scores ∂ log P(y_i)/∂(β, θ) (n × (K + J − 1), unweighted)."""
    n, k = X.shape
    J = len(theta) + 1
    hi_ok, lo_ok = y < J - 1, y > 0
    ia, ic = np.minimum(y, J - 2), np.maximum(y - 1, 0)
    eta = X @ beta
    a = np.where(hi_ok, theta[ia] - eta, np.inf)
    c = np.where(lo_ok, theta[ic] - eta, -np.inf)
    Fa, Fc = _F(a), _F(c)
    p = Fa - Fc
    up, vp = Fa * (1 - Fa) / p, Fc * (1 - Fc) / p
    s = np.zeros((n, k + J - 1))
    s[:, :k] = -X * (up - vp)[:, None]
    rows = np.arange(n)
    s[rows[hi_ok], k + ia[hi_ok]] += up[hi_ok]
    s[rows[lo_ok], k + ic[lo_ok]] -= vp[lo_ok]
    return s


def _cdf_density(eta: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F(θ_m − η_i) and its density f = F(1 − F) at the J − 1 cut points (n × (J − 1))."""
    F = _F(theta[None, :] - eta[:, None])
    return F, F * (1 - F)


def _edges(a: np.ndarray) -> np.ndarray:
    """A (… × (J − 1)) quantity at the cut points → its difference across each category
    (… × J): category c lies between cut c − 1 and cut c, with zero beyond the ends."""
    z = np.zeros(a.shape[:-1] + (1,))
    return np.diff(np.concatenate([z, a, z], axis=-1), axis=-1)


def ame_table(X: np.ndarray, beta: np.ndarray, theta: np.ndarray, V: np.ndarray, regs: list[str],
              cats: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    """Average marginal effect of each regressor on each category's probability, weighted by ``w``:
    a discrete change from 0 to 1 for a 0/1 regressor, a derivative otherwise (as Stata ``margins,
    dydx()`` and ``marginaleffects::avg_slopes``); delta-method SEs from analytic Jacobians.

    P_c = F(θ_c − η) − F(θ_{c−1} − η), so every average and Jacobian is a difference across
    categories of weighted sums at the cut points (:func:`_edges`): ∂P_c/∂β = −x·Δf_c,
    ∂P_c/∂θ_m = f_m·(1(m = c) − 1(m = c − 1)). The derivatives of every continuous regressor share
    one pass over the data; for a 0/1 regressor each row is recomputed once, at the value it
    does not have (η ± β_j), without copying X.
    """
    n, k = X.shape
    J = len(theta) + 1
    wn = (np.ones(n) if w is None else np.asarray(w, float))
    wn = wn / wn.sum()
    eta = X @ beta
    binary = [bool(np.isin(X[:, j], (0.0, 1.0)).all()) for j in range(k)]

    def jac_t(s: np.ndarray) -> np.ndarray:
        """J × (J − 1) Jacobian in θ from s_m = Σ wn·(∂/∂θ_m of F at cut m)."""
        out = np.zeros((J, J - 1))
        out[np.arange(J - 1), np.arange(J - 1)] = s
        out[np.arange(1, J), np.arange(J - 1)] -= s
        return out

    F, f = _cdf_density(eta, theta)
    if not all(binary):
        fp = f * (1 - 2 * F)                                               # f'(z)
        mean_g = _edges(wn @ f)                                            # J
        xfp = _edges(X.T @ (wn[:, None] * fp))                             # k × J
        mean_fp = wn @ fp                                                  # J − 1
    rows = []
    for j, name in enumerate(regs):
        if binary[j]:
            # at x_j = 1 the rows with x_j = 1 keep their F, at x_j = 0 those with x_j = 0: each
            # row is recomputed once, at the value it does not have (η − β_j where x_j = 1, η + β_j
            # where x_j = 0), and only the differences F1 − F0 and f1 − f0 are formed: the sign
            # ±1 of each row turns F − F_other into F1 − F0 (no gathers of row subsets)
            on = X[:, j] == 1.0
            sgn = np.where(on, 1.0, -1.0)
            Fo, fo = _cdf_density(eta - sgn * beta[j], theta)
            dF = sgn[:, None] * (F - Fo)
            d_f = sgn[:, None] * (f - fo)
            est = _edges(wn @ dF)
            # X1'(wn f1) − X0'(wn f0): X with column j set to 1 and to 0
            xd = X.T @ (wn[:, None] * d_f)
            xd[j] = wn @ np.where(on[:, None], f, fo)                       # Σ wn f1
            jac_b = -_edges(xd).T                                           # J × k
            jt = jac_t(wn @ d_f)
        else:
            # −β_j Δ mean(f): ∂/∂β_l = −1(l = j) Δ mean(f) + β_j Δ mean(x_l f')
            est = -beta[j] * mean_g
            jac_b = (beta[j] * xfp).T
            jac_b[:, j] -= mean_g
            jt = jac_t(-beta[j] * mean_fp)
        jac = np.hstack([jac_b, jt])
        se = np.sqrt(np.clip(np.einsum("ck,kl,cl->c", jac, V, jac), 0, None))
        for c in range(J):
            rows.append({"term": name, "category": int(cats[c]), "ame": float(est[c]), "se": float(se[c]),
                         "kind": "discrete change" if binary[j] else "derivative"})
    return pd.DataFrame(rows)


def brant(y: np.ndarray, X: np.ndarray, regs: list[str],
          start: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Brant (1990) Wald test of proportional odds: the J − 1 binary logits 1(y > j) share their
    slopes. Returns one row per regressor and an ``omnibus`` row: χ², df, p.

    ``start``: the ordered logit's (β, θ); P(y > j) = F(x'β − θ_j) under proportional odds, so
    the binary logits start from (−θ_j, β) and need few Newton steps.
    """
    n, k = X.shape
    J = int(y.max()) + 1
    Xc = np.column_stack([np.ones(n), X])
    fits, pis, infos = [], [], []
    for j in range(J - 1):
        yj = (y > j).astype(float)
        b = np.zeros(k + 1) if start is None else np.r_[-start[1][j], start[0]]
        mu = _F(Xc @ b)
        hinv, fresh = None, True
        for _ in range(200):
            # Newton steps while far from the estimate; near it, the last Hessian is kept (a
            # chord step: two passes over the data instead of a K × K Gram matrix per step)
            if fresh:
                hinv = np.linalg.inv(weighted_gram(Xc, mu * (1 - mu)))
            step = hinv @ (Xc.T @ (yj - mu))
            b += step
            mu = _F(Xc @ b)
            size = np.max(np.abs(step))
            if size < 1e-12:
                break
            fresh = size > 1e-4
        fits.append(b)
        pis.append(mu)
        infos.append(np.linalg.inv(weighted_gram(Xc, mu * (1 - mu))))    # at the estimate
    m = J - 1
    pairs = [(a, b_) for a in range(m) for b_ in range(a + 1, m)]
    # π_b (1 − π_a) for a < b: the covariance of the indicators 1(y > a), 1(y > b); for a = b it
    # is π_a (1 − π_a), the information already inverted: infos[a] @ info @ infos[a] = infos[a]
    grams = [weighted_gram(Xc, pis[b_] - pis[a] * pis[b_]) for a, b_ in pairs]
    Vb = np.zeros((m * k, m * k))
    for a in range(m):
        Vb[a * k:(a + 1) * k, a * k:(a + 1) * k] = infos[a][1:, 1:]
    for (a, b_), g in zip(pairs, grams):
        cov = infos[a] @ g @ infos[b_]
        Vb[a * k:(a + 1) * k, b_ * k:(b_ + 1) * k] = cov[1:, 1:]
        Vb[b_ * k:(b_ + 1) * k, a * k:(a + 1) * k] = cov[1:, 1:].T
    beta = np.concatenate([f[1:] for f in fits])
    D = np.zeros(((m - 1) * k, m * k))
    for r in range(m - 1):
        D[r * k:(r + 1) * k, :k] = np.eye(k)
        D[r * k:(r + 1) * k, (r + 1) * k:(r + 2) * k] = -np.eye(k)
    d = D @ beta
    C = D @ Vb @ D.T
    out = [{"term": "omnibus", "chi2": float(d @ np.linalg.solve(C, d)), "df": (m - 1) * k}]
    for j, name in enumerate(regs):
        idx = [r * k + j for r in range(m - 1)]
        dj, Cj = d[idx], C[np.ix_(idx, idx)]
        out.append({"term": name, "chi2": float(dj @ np.linalg.solve(Cj, dj)), "df": m - 1})
    t = pd.DataFrame(out)
    t["p"] = stats.chi2.sf(t["chi2"], t["df"])
    return t


def fit_ologit(df: pd.DataFrame, spec: ModelSpec, labels: dict, *, design: SurveyDesign | None = None,
               rows: np.ndarray | None = None) -> ModelResult:
    """Ordered logit of a spec: model-based, or with ``weights`` and ``se: design`` design-based
    (the complete cases a domain of the full ``design``, as ``svyolr``); average marginal effects
    on each category; the Brant test of proportional odds (model-based fit)."""
    regs = list(spec.regressors)
    y = df[spec.outcome].astype(int)
    cats = np.sort(y.unique())
    X = df[regs].to_numpy(float)
    yy = np.searchsorted(cats, y.to_numpy())
    w = df[spec.weights].to_numpy(float) if spec.weights else None
    try:
        beta, cut, V, llf = ordered_logit(yy, X, None if w is None else w / w.mean())
    except NonConvergence as e:
        scale = np.abs(e.beta) * X.std(axis=0)
        worst = regs[int(np.argmax(scale))] if len(regs) else "?"
        raise ModelSpecError(
            f"model {spec.name!r}: the ordered logit of {spec.outcome!r} did not converge ({e}); "
            f"the regressor {worst!r} ({labels.get(worst, worst)}) separates the outcome categories "
            f"(its coefficient grows without bound: {e.beta[regs.index(worst)]:.3g}); drop it from the "
            "model in data/models.yml, or merge sparse answer categories") from None
    st: dict[str, Any] = {"categories": int(len(cats))}
    dfi: float | None = None
    if spec.se == "design":
        if design is None:
            raise ValueError("design-based standard errors need the survey design")
        wn = w / w.mean()
        infl = (scores(yy, X, beta, cut) * wn[:, None]) @ V       # V = (−H)⁻¹
        rows = np.arange(len(df)) if rows is None else rows      # df is the whole design
        V = design_vcov(infl, design, rows)
        dfi = model_df(design, rows, len(beta) + len(cut))
        st["n_psu"] = design.n_psu
        st["design_df"] = design.degf
    names = regs + [f"cut{c}|{c2}" for c, c2 in zip(cats[:-1], cats[1:])]
    est = np.concatenate([beta, cut])
    ame = ame_table(X, beta, cut, V, regs, cats, w)
    counts = np.bincount(yy, weights=None if w is None else w / w.mean(), minlength=len(cats)).astype(float)
    ll0 = float(np.sum(counts * np.log(counts / counts.sum())))   # thresholds-only model (same weights)
    st.update({"llf": llf, "pseudo_r2": 1 - llf / ll0})
    tables: dict[str, pd.DataFrame] = {"ame": ame}
    if w is None:
        tables["brant"] = brant(yy, X, regs, start=(beta, cut))
    return ModelResult(spec.name, spec.label or spec.name, "ologit",
                       pd.Series(est, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), dfi, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType(tables), tuple(regs))
