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
from analysis.estimation.regression import design_vcov, model_df
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


def ordered_logit(y: np.ndarray, X: np.ndarray, w: np.ndarray | None = None, *, tol: float = 1e-10,
                  max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cumulative logit P(Y ≤ j) = F(θ_j − x'β) by Newton–Raphson with the analytic Hessian
    (as ``ordinal::clm``; with weights ``w``, the weighted pseudo-likelihood of ``svyolr``);
    ``y`` holds category positions 0..J−1.

    Each iteration is a few passes over the data (O(n·K²)).  Returns (β, θ, the inverse of minus
    the Hessian of the (weighted) log-likelihood, log-likelihood).
    """
    n, k = X.shape
    w = np.ones(n) if w is None else np.asarray(w, float)
    J = int(y.max()) + 1
    share = np.cumsum(np.bincount(y, weights=w, minlength=J))[:-1] / w.sum()
    theta = np.log(share / (1 - share))
    beta = np.zeros(k)
    hi_ok, lo_ok = y < J - 1, y > 0                      # a finite upper / lower threshold
    ia, ic = np.minimum(y, J - 2), np.maximum(y - 1, 0)

    def pieces(b: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        eta = X @ b
        tt = np.r_[t, 0.0]
        a = np.where(hi_ok, tt[ia] - eta, np.inf)
        c = np.where(lo_ok, tt[ic] - eta, -np.inf)
        Fa, Fc = _F(a), _F(c)
        return a, c, Fa, Fc, Fa - Fc

    def loglik(b: np.ndarray, t: np.ndarray) -> float:
        if np.any(np.diff(t) <= 0):
            return -np.inf
        p = pieces(b, t)[4]
        return float(np.sum(w * np.log(p))) if np.all(p > 0) else -np.inf

    ll = loglik(beta, theta)
    H = np.zeros((k + J - 1, k + J - 1))
    for _ in range(max_iter):
        a, c, Fa, Fc, p = pieces(beta, theta)
        u, v = Fa * (1 - Fa), Fc * (1 - Fc)                # densities at the two thresholds
        du, dv = u * (1 - 2 * Fa), v * (1 - 2 * Fc)        # their derivatives
        up, vp = u / p, v / p
        grad_b = -X.T @ (w * (up - vp))
        grad_t = (np.bincount(ia[hi_ok], weights=(w * up)[hi_ok], minlength=J - 1)
                  - np.bincount(ic[lo_ok], weights=(w * vp)[lo_ok], minlength=J - 1))
        h_bb = w * ((du - dv) / p - (up - vp) ** 2)
        h_ba = -w * (du / p - up * (up - vp))               # ∂²/∂β∂θ_upper (times x)
        h_bc = -w * (-dv / p + vp * (up - vp))              # ∂²/∂β∂θ_lower (times x)
        H = np.zeros((k + J - 1, k + J - 1))
        H[:k, :k] = X.T @ (X * h_bb[:, None])
        for m in range(J - 1):
            sel_a, sel_c = hi_ok & (ia == m), lo_ok & (ic == m)
            col = X[sel_a].T @ h_ba[sel_a] + X[sel_c].T @ h_bc[sel_c]
            H[:k, k + m] = H[k + m, :k] = col
            H[k + m, k + m] = (np.sum(w[sel_a] * (du[sel_a] / p[sel_a] - up[sel_a] ** 2))
                               + np.sum(w[sel_c] * (-dv[sel_c] / p[sel_c] - vp[sel_c] ** 2)))
            if m + 1 < J - 1:                               # category m+1 sits between θ_m and θ_{m+1}
                sel = y == m + 1
                H[k + m, k + m + 1] = H[k + m + 1, k + m] = np.sum(w[sel] * up[sel] * vp[sel])
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


def _probs(eta: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category probabilities (n × J) and logistic densities at the cut points with zeros at the
    ends (n × (J + 1))."""
    z = theta[None, :] - eta[:, None]
    F = np.column_stack([np.zeros(len(eta)), _F(z), np.ones(len(eta))])
    f = F * (1 - F)
    return np.diff(F, axis=1), f


def ame_table(X: np.ndarray, beta: np.ndarray, theta: np.ndarray, V: np.ndarray, regs: list[str],
              cats: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    """Average marginal effect of each regressor on each category's probability, weighted by ``w``:
    a discrete change from 0 to 1 for a 0/1 regressor, a derivative otherwise (as Stata ``margins,
    dydx()`` and ``marginaleffects::avg_slopes``); delta-method SEs from analytic Jacobians."""
    n, k = X.shape
    J = len(theta) + 1
    wn = (np.ones(n) if w is None else np.asarray(w, float))
    wn = wn / wn.sum()
    rows = []
    for j, name in enumerate(regs):
        binary = bool(np.isin(X[:, j], (0.0, 1.0)).all())
        if binary:
            X1, X0 = X.copy(), X.copy()
            X1[:, j], X0[:, j] = 1.0, 0.0
            P1, f1 = _probs(X1 @ beta, theta)
            P0, f0 = _probs(X0 @ beta, theta)
            est = wn @ (P1 - P0)
            # ∂P_c/∂β = −x (f_c − f_{c−1}); ∂P_c/∂θ_m = f_c 1(m = c) − f_{c−1} 1(m = c − 1)
            g1, g0 = f1[:, 1:] - f1[:, :-1], f0[:, 1:] - f0[:, :-1]       # n × J
            jac_b = -(X1.T @ (wn[:, None] * g1) - X0.T @ (wn[:, None] * g0)).T   # J × k
            jac_t = np.zeros((J, J - 1))
            for c in range(J):
                if c < J - 1:
                    jac_t[c, c] += wn @ (f1[:, c + 1] - f0[:, c + 1])
                if c > 0:
                    jac_t[c, c - 1] -= wn @ (f1[:, c] - f0[:, c])
        else:
            eta = X @ beta
            P, f = _probs(eta, theta)
            Fz = np.column_stack([np.zeros(n), _F(theta[None, :] - eta[:, None]), np.ones(n)])
            fp = f * (1 - 2 * Fz)                                          # f'(z)
            g = f[:, 1:] - f[:, :-1]                                       # n × J
            est = -beta[j] * (wn @ g)
            # ∂/∂β_l of −β_j mean(g_c): −1(l=j) mean g_c + β_j mean(x_l (f'_c − f'_{c−1}))
            dg = fp[:, 1:] - fp[:, :-1]
            jac_b = (beta[j] * (X.T @ (wn[:, None] * dg))).T
            jac_b[:, j] -= wn @ g
            jac_t = np.zeros((J, J - 1))
            for c in range(J):
                if c < J - 1:
                    jac_t[c, c] += -beta[j] * (wn @ fp[:, c + 1])
                if c > 0:
                    jac_t[c, c - 1] -= -beta[j] * (wn @ fp[:, c])
        jac = np.hstack([jac_b, jac_t])
        se = np.sqrt(np.clip(np.einsum("ck,kl,cl->c", jac, V, jac), 0, None))
        for c in range(J):
            rows.append({"term": name, "category": int(cats[c]), "ame": float(est[c]), "se": float(se[c]),
                         "kind": "discrete change" if binary else "derivative"})
    return pd.DataFrame(rows)


def brant(y: np.ndarray, X: np.ndarray, regs: list[str]) -> pd.DataFrame:
    """Brant (1990) Wald test of proportional odds: the J − 1 binary logits 1(y > j) share their
    slopes. Returns one row per regressor and an ``omnibus`` row: χ², df, p."""
    n, k = X.shape
    J = int(y.max()) + 1
    Xc = np.column_stack([np.ones(n), X])
    fits, pis = [], []
    for j in range(J - 1):
        yj = (y > j).astype(float)
        b = np.zeros(k + 1)
        for _ in range(100):
            mu = _F(Xc @ b)
            step = np.linalg.solve(Xc.T @ (Xc * (mu * (1 - mu))[:, None]), Xc.T @ (yj - mu))
            b += step
            if np.max(np.abs(step)) < 1e-12:
                break
        fits.append(b)
        pis.append(_F(Xc @ b))
    m = J - 1
    Vb = np.zeros((m * k, m * k))
    infos = [np.linalg.inv(Xc.T @ (Xc * (p * (1 - p))[:, None])) for p in pis]
    for a in range(m):
        for b_ in range(a, m):
            W = pis[b_] - pis[a] * pis[b_]                     # π_b (1 − π_a) for a ≤ b (cov of the indicators)
            cov = infos[a] @ (Xc.T @ (Xc * W[:, None])) @ infos[b_]
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
        tables["brant"] = brant(yy, X, regs)
    return ModelResult(spec.name, spec.label or spec.name, "ologit",
                       pd.Series(est, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), dfi, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType(tables), tuple(regs))
