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
from analysis.estimation.regression import (binary_columns, design_vcov, full_rank, model_design, model_df,
                                           weighted_gram)
from analysis.estimation.results import ModelResult, ModelSpecError
from analysis.i18n import N_, Message
from analysis.settings import ModelSpec


class NonConvergence(ModelSpecError):
    """The ordered logit did not converge; ``beta`` holds the last iterate (a coefficient growing
    without bound shows which regressor separates the outcome)."""

    def __init__(self, message: Message, beta: np.ndarray) -> None:
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
    state) does not fall below ``ll`` by more than its rounding (1e-12, or 1e-14 of ``|ll|``:
    about 45 units in the last place, where a sum over a million rows is no more exact), or the
    first below ``min_scale``. Returns (log-likelihood, state) at that scale."""
    slack = max(1e-12, 1e-14 * abs(ll))
    scale = 1.0
    while True:
        new, state = value_at(scale)
        if new >= ll - slack or scale < min_scale:
            return new, state
        scale /= 2


ROWS = 1 << 14      # rows per block in the passes below: their temporaries stay in cache
BLOCK = 1 << 12     # rows per block where a block holds several n × K products (Brant)


def category_order(y: np.ndarray) -> np.ndarray:
    """The stable order of rows by category position (a radix sort where the codes are small)."""
    y = np.asarray(y)
    small = y.size and 0 <= y.min() and y.max() < np.iinfo(np.int16).max
    return np.argsort(y.astype(np.int16) if small else y, kind="stable")


def _F_into(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = F(z)`` with the operations of :func:`_F` (bit-identical), without temporaries."""
    np.negative(z, out=out)
    np.exp(out, out=out)
    return _F_of_exp(out)


def _F_of_exp(e: np.ndarray) -> np.ndarray:
    """F from e = exp(−z) in place: 1/(1 + e)."""
    e += 1
    return np.reciprocal(e, out=e)


def ordered_logit(y: np.ndarray, X: np.ndarray, w: np.ndarray | None = None, *, tol: float = 1e-10,
                  max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cumulative logit P(Y ≤ j) = F(θ_j − x'β) by Newton–Raphson with the analytic Hessian
    (as ``ordinal::clm``; with weights ``w``, the weighted pseudo-likelihood of ``svyolr``);
    ``y`` holds category positions 0..J−1.

    The rows are put in order of category once, so that each category's rows are one contiguous
    block with the same two thresholds (none above the last category, none below the first): the
    gradient and Hessian are sums over blocks of rows, taken a few thousand rows at a time so
    that each iteration reads the data about twice (O(n·K²)). Returns (β, θ, the inverse of minus
    the Hessian of the (weighted) log-likelihood, log-likelihood).
    """
    y = np.asarray(y)
    if np.any(y[1:] < y[:-1]):                             # not yet in order of category
        order = category_order(y)
        y = y[order]
        X = np.asarray(X, float)[order]
        w = None if w is None else np.asarray(w, float)[order]
    X = np.ascontiguousarray(X, dtype=float)
    n, k = X.shape
    w = np.ones(n) if w is None else np.asarray(w, float)
    J = int(y.max()) + 1
    start = np.searchsorted(y, np.arange(J + 1))           # category c: rows start[c]:start[c+1]
    share = np.cumsum(np.bincount(y, weights=w, minlength=J))[:-1] / w.sum()
    theta = np.log(share / (1 - share))
    beta = np.zeros(k)
    # row blocks within a category: (category, rows)
    blocks = [(c, slice(s, min(s + ROWS, start[c + 1])))
              for c in range(J) for s in range(start[c], start[c + 1], ROWS)]

    def pieces(b: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        """F at the upper and lower thresholds of each row's category, and its probability."""
        eta = X @ b
        Fa, Fc = np.ones(n), np.zeros(n)                   # no threshold above / below: F = 1 / 0
        # F(θ − η) = 1/(1 + exp(η)·exp(−θ)): one exponential per row for both thresholds, where
        # neither factor can overflow; else F(θ − η) directly
        e = np.exp(eta) if max(np.abs(eta).max(initial=0), np.abs(t).max(initial=0)) < 700 else None
        for c in range(J):
            s = slice(start[c], start[c + 1])
            for m, out in ((c, Fa[s]), (c - 1, Fc[s])):
                if 0 <= m < J - 1:
                    if e is None:
                        _F_into(t[m] - eta[s], out)
                    else:
                        _F_of_exp(np.multiply(e[s], np.exp(-t[m]), out=out))
        return Fa, Fc, Fa - Fc

    def derivatives(Fa: np.ndarray, Fc: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the log-likelihood in (β, θ). With u, v the densities at the
        upper and lower threshold and du, dv their derivatives, per row: g = (u − v)/p,
        ∂²/∂β∂θ_upper = −w (du/p − g u/p) x, ∂²/∂β∂θ_lower = w (dv/p − g v/p) x, and ∂²/∂β∂β'
        = −(the sum of those two) x x'."""
        grad, H = np.zeros(k + J - 1), np.zeros((k + J - 1, k + J - 1))
        for c, s in blocks:
            ws, ps, xs = w[s], p[s], X[s]
            up = d1 = vp = d2 = 0.0
            if c < J - 1:                                  # upper threshold θ_c
                fa = Fa[s]
                u = fa * (1 - fa)
                up, d1 = u / ps, u * (1 - 2 * fa) / ps
            if c > 0:                                      # lower threshold θ_{c−1}
                fc = Fc[s]
                v = fc * (1 - fc)
                vp, d2 = v / ps, v * (1 - 2 * fc) / ps
            g = up - vp
            hbb = 0.0
            if c < J - 1:
                ha = ws * (up * g - d1)
                hbb = hbb - ha
                grad[k + c] += ws @ up
                H[:k, k + c] += xs.T @ ha
                H[k + c, k + c] += ws @ (d1 - up * up)
            if c > 0:
                hc = ws * (d2 - vp * g)
                hbb = hbb - hc
                grad[k + c - 1] -= ws @ vp
                H[:k, k + c - 1] += xs.T @ hc
                H[k + c - 1, k + c - 1] -= ws @ (d2 + vp * vp)
                if c < J - 1:                              # category c sits between θ_{c−1} and θ_c
                    H[k + c - 1, k + c] += ws @ (up * vp)
            grad[:k] -= xs.T @ (ws * g)
            H[:k, :k] += weighted_gram(xs, hbb)
        H[k:, :k] = H[:k, k:].T
        H[k + 1:, k:-1][np.diag_indices(J - 2)] = np.diag(H[k:-1, k + 1:])
        return grad, H

    cur = pieces(beta, theta)
    ll = _loglik(w, theta, cur[2])
    for _ in range(max_iter):
        grad, H = derivatives(*cur)
        try:
            step = np.linalg.solve(H, -grad)
        except np.linalg.LinAlgError:
            raise NonConvergence(Message(N_("the Hessian is singular")), beta) from None
        if np.max(np.abs(step)) < tol:                      # converged: H is at the estimate
            break
        def at(scale: float):  # type: ignore[no-untyped-def]
            nb, nt = beta + scale * step[:k], theta + scale * step[k:]
            nxt = pieces(nb, nt)
            return _loglik(w, nt, nxt[2]), (nb, nt, nxt)

        ll, (beta, theta, cur) = _damped(at, ll)            # step halving keeps θ ordered
    else:
        raise NonConvergence(Message(N_("no convergence in {n} Newton iterations"), n=max_iter), beta)
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
    ∂P_c/∂θ_m = f_m·(1(m = c) − 1(m = c − 1)). All the sums are taken in one pass over the rows,
    a few thousand at a time. The derivatives of every continuous regressor share the sums of
    f and x·f'; for a 0/1 regressor each row is recomputed at the value it does not have
    (η ± β_j): with e = exp(η − θ), F = 1/(1 + e) there and 1/(1 + e·exp(∓β_j)) at the other
    value, so the other value costs no exponential.
    """
    n, k = X.shape
    J = len(theta) + 1
    wn = (np.ones(n) if w is None else np.asarray(w, float))
    wn = wn / wn.sum()
    binary = binary_columns(X)
    dummies = [j for j in range(k) if binary[j]]
    # sums over the rows: Σ wn f, Σ wn x f', Σ wn f' (continuous regressors); per 0/1 regressor
    # Σ wn (F1 − F0), Σ wn x (f1 − f0), Σ wn (f1 − f0), Σ wn f1
    s_f, s_xfp, s_fp = np.zeros(J - 1), np.zeros((k, J - 1)), np.zeros(J - 1)
    s_dF, s_xdf = np.zeros((k, J - 1)), np.zeros((k, k, J - 1))
    s_df, s_f1 = np.zeros((k, J - 1)), np.zeros((k, J - 1))
    shift = {j: (np.exp(-beta[j]), np.exp(beta[j])) for j in dummies}
    for s in range(0, n, ROWS):
        xs, ws = X[s:s + ROWS], wn[s:s + ROWS]
        e = np.exp((xs @ beta)[:, None] - theta[None, :])
        F = 1 / (1 + e)                                            # F(θ_m − η)
        f = F * (1 - F)
        if len(dummies) < k:
            fp = f * (1 - 2 * F)                                   # f'(θ_m − η)
            s_f += ws @ f
            s_xfp += xs.T @ (ws[:, None] * fp)
            s_fp += ws @ fp
        for j in dummies:
            # the other value: η − β_j where x_j = 1, η + β_j where x_j = 0; the sign ±1 of each
            # row turns F − F_other into F1 − F0
            on = xs[:, j] == 1.0
            Fo = 1 / (1 + e * np.where(on, *shift[j])[:, None])
            fo = Fo * (1 - Fo)
            wsg = np.where(on, ws, -ws)
            d_f = f - fo
            s_dF[j] += wsg @ (F - Fo)
            s_xdf[j] += xs.T @ (wsg[:, None] * d_f)
            s_df[j] += wsg @ d_f
            s_f1[j] += ws @ np.where(on[:, None], f, fo)

    def jac_t(s: np.ndarray) -> np.ndarray:
        """J × (J − 1) Jacobian in θ from s_m = Σ wn·(∂/∂θ_m of F at cut m)."""
        out = np.zeros((J, J - 1))
        out[np.arange(J - 1), np.arange(J - 1)] = s
        out[np.arange(1, J), np.arange(J - 1)] -= s
        return out

    mean_g, xfp = _edges(s_f), _edges(s_xfp)
    rows = []
    for j, name in enumerate(regs):
        if binary[j]:
            est = _edges(s_dF[j])
            xd = s_xdf[j].copy()                                           # X1'(wn f1) − X0'(wn f0):
            xd[j] = s_f1[j]                                                # column j is 1 and 0
            jac_b = -_edges(xd).T                                          # J × k
            jt = jac_t(s_df[j])
        else:
            # −β_j Δ mean(f): ∂/∂β_l = −1(l = j) Δ mean(f) + β_j Δ mean(x_l f')
            est = -beta[j] * mean_g
            jac_b = (beta[j] * xfp).T
            jac_b[:, j] -= mean_g
            jt = jac_t(-beta[j] * s_fp)
        jac = np.hstack([jac_b, jt])
        se = np.sqrt(np.clip(np.einsum("ck,kl,cl->c", jac, V, jac), 0, None))
        for c in range(J):
            rows.append({"term": name, "category": int(cats[c]), "ame": float(est[c]), "se": float(se[c]),
                         "kind": "discrete change" if binary[j] else "derivative"})
    return pd.DataFrame(rows)


class BrantUndefined(Exception):
    """The Brant test has no value on these rows; ``why`` says so (a :class:`Message`)."""

    def __init__(self, why: Message):
        super().__init__(why)
        self.why = why


def brant(y: np.ndarray, X: np.ndarray, regs: list[str],
          start: tuple[np.ndarray, np.ndarray] | None = None, cats: np.ndarray | None = None) -> pd.DataFrame:
    """Brant (1990) Wald test of proportional odds: the J − 1 binary logits 1(y > j) share their
    slopes. Returns one row per regressor and an ``omnibus`` row: χ², df, p.

    ``start``: the ordered logit's (β, θ); P(y > j) = F(x'β − θ_j) under proportional odds, so
    the binary logits start from (−θ_j, β) and need few Newton steps. ``cats``: the answer code
    of each value of ``y`` (0 … J − 1), for the messages.

    Raises :class:`BrantUndefined` where the test has no value though the ordered logit has one:
    an outcome of two categories (a single binary logit, no slopes to compare), or a binary logit
    without an estimate (an answer so rare above or below a threshold that a regressor separates
    it: its Hessian is singular, or its Newton steps do not settle).
    """
    y = np.asarray(y)
    n, k = X.shape
    J = int(y.max()) + 1
    m, K = J - 1, k + 1
    code = np.arange(J) if cats is None else cats
    if m < 2:
        raise BrantUndefined(Message(N_("the outcome takes {J} values on the complete rows of this wave: a "
                                        "single threshold, so there are no two slopes to compare"), J=J))
    Xc = np.empty((n, K))
    Xc[:, 0] = 1.0
    Xc[:, 1:] = X
    B = (np.zeros((K, m)) if start is None
         else np.vstack([-start[1][None, :], np.repeat(start[0][:, None], m, axis=1)]))
    # The m logits are fitted side by side: each pass over the rows, a block at a time, gives
    # every unfinished logit its fitted π and gradient, and the Hessian to those still far from
    # their estimate (Newton steps); near it, a logit keeps its last Hessian (chord steps).
    P = np.empty((n, m))                                  # π of each logit at its latest pass
    hinv: list[np.ndarray] = [np.empty(0)] * m
    active, fresh, last = np.ones(m, bool), np.ones(m, bool), np.full(m, np.inf)
    observed = Xc.T @ (y[:, None] > np.arange(m)[None, :])  # Σ x 1(y > j): the gradient's fixed part
    for _ in range(200):
        act = np.flatnonzero(active)
        new = np.flatnonzero(fresh[act])                   # positions in act needing a Hessian
        grad, gram = observed[:, act].copy(), np.zeros((len(new), K, K))
        Ba = B[:, act]
        for s in range(0, n, BLOCK):
            xs = Xc[s:s + BLOCK]
            z = xs @ Ba
            mu = _F_into(z, z)
            P[s:s + BLOCK, act] = mu
            grad -= xs.T @ mu
            for i, pos in enumerate(new):
                h = mu[:, pos] * (1 - mu[:, pos])
                gram[i] += weighted_gram(xs, h)
        for i, pos in enumerate(new):
            try:
                hinv[act[pos]] = np.linalg.inv(gram[i])
            except np.linalg.LinAlgError:
                raise BrantUndefined(_separated(code[act[pos]])) from None
        for i, j in enumerate(act):
            step = hinv[j] @ grad[:, i]
            B[:, j] += step
            size = np.max(np.abs(step))
            # converged: a step below 1e-10, or steps below 1e-8 that no longer shrink (the
            # rounding of the gradient's sum over the rows); π stays at the previous iterate,
            # within that step of the estimate
            active[j] = not (size < 1e-10 or (last[j] < 1e-8 and size >= last[j]))
            fresh[j], last[j] = size > 1e-4, size
        if not active.any():
            break
    else:
        raise BrantUndefined(_separated(code[np.flatnonzero(active)[0]]))
    # the information of each logit at its estimate, π_a (1 − π_a), and the covariance of the
    # indicators 1(y > a), 1(y > b) for a < b, π_b (1 − π_a): K × K Gram matrices in one pass
    pairs = [(a, b_) for a in range(m) for b_ in range(a, m)]
    grams = dict(zip(pairs, weighted_grams(Xc, P, pairs)))
    infos = []
    for a in range(m):
        # a logit that "converged" on a regressor separating its answers has fitted π of 0 or 1
        # (their steps vanish with the rounding): too few rows carry information, or the
        # information, scaled to unit diagonal, is singular; its covariance would be meaningless
        g = grams[a, a]
        d = np.sqrt(np.clip(np.diag(g), 1e-300, None))
        informative = int(((P[:, a] > 1e-8) & (P[:, a] < 1 - 1e-8)).sum())
        try:
            well_posed = informative > K and np.linalg.cond(g / np.outer(d, d)) <= 1e10
            info = np.linalg.inv(g) if well_posed else None
        except np.linalg.LinAlgError:
            info = None
        if info is None:
            raise BrantUndefined(_separated(code[a]))
        infos.append(info)
    Vb = np.zeros((m * k, m * k))
    for (a, b_), g in grams.items():
        cov = infos[a] if a == b_ else infos[a] @ g @ infos[b_]        # infos[a] g infos[a] = infos[a]
        Vb[a * k:(a + 1) * k, b_ * k:(b_ + 1) * k] = cov[1:, 1:]
        Vb[b_ * k:(b_ + 1) * k, a * k:(a + 1) * k] = cov[1:, 1:].T
    beta = B[1:].T.reshape(-1)
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


def _separated(code: object) -> Message:
    """Why a binary logit of the Brant test has no estimate: its threshold, by answer code."""
    return Message(N_("the binary logit of answers above {code} against the others has no estimate on "
                      "the complete rows of this wave (too few answers on one side of that threshold: a "
                      "regressor separates them), so the test is not defined there; the ordered logit "
                      "itself is estimated"), code=code)


def weighted_grams(X: np.ndarray, P: np.ndarray, pairs: list[tuple[int, int]], block: int | None = None
                   ) -> list[np.ndarray]:
    """X' diag(π_b (1 − π_a)) X for each pair (a, b) of columns of P, in one pass over blocks of
    rows: the K(K + 1)/2 products of two columns of X are formed once per block and every Gram
    matrix is their weighted sum (one matrix product for all the pairs; for ten pairs about half
    the time of ten Gram matrices)."""
    n, k = X.shape
    block = block or BLOCK
    iu = np.triu_indices(k)
    a_, b_ = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    upper = np.zeros((len(pairs), len(iu[0])))
    for s in range(0, n, block):
        xs, ps = X[s:s + block], P[s:s + block]
        upper += (ps[:, b_] * (1 - ps[:, a_])).T @ (xs[:, iu[0]] * xs[:, iu[1]])
    out = np.zeros((len(pairs), k, k))
    out[:, iu[0], iu[1]] = upper
    out[:, iu[1], iu[0]] = upper
    return list(out)


def fit_ologit(df: pd.DataFrame, spec: ModelSpec, labels: dict, *, design: SurveyDesign | None = None,
               rows: np.ndarray | None = None) -> ModelResult:
    """Ordered logit of a spec: model-based, or with ``weights`` and ``se: design`` design-based
    (the complete cases a domain of the full ``design``, as ``svyolr``); average marginal effects
    on each category; the Brant test of proportional odds (model-based fit)."""
    regs = list(spec.regressors)
    raw = df[spec.outcome].to_numpy(float)
    odd = raw[~(np.isfinite(raw) & (raw == np.round(raw)))]
    if len(odd):                            # a score, not answer codes: truncating would invent categories
        raise ModelSpecError(Message(N_("an ordered logit needs an outcome of integer answer codes; "
                                        "{outcome!r} takes other values (e.g. {value:g})"),
                                     outcome=spec.outcome, value=float(odd[0])), spec.name)
    y = df[spec.outcome].astype(int)
    cats = np.sort(y.unique())
    X = df[regs].to_numpy(float)
    yy = np.searchsorted(cats, y.to_numpy())
    w = df[spec.weights].to_numpy(float) if spec.weights else None
    # the cut points stand for the intercept: a regressor constant or collinear with others is refused
    full_rank(np.column_stack([np.ones(len(X)), X])[slice(None) if w is None else w > 0])
    # the rows in order of category once, for the fit, the marginal effects and the Brant test
    order = category_order(yy)
    yy, X, w = yy[order], X[order], (None if w is None else w[order])
    try:
        beta, cut, V, llf = ordered_logit(yy, X, None if w is None else w / w.mean())
    except NonConvergence as e:
        scale = np.abs(e.beta) * X.std(axis=0)
        worst = regs[int(np.argmax(scale))] if len(regs) else "?"
        raise ModelSpecError(Message(
            N_("the ordered logit of {outcome!r} did not converge ({why}); the regressor {term!r} ({label}) "
               "separates the outcome categories (its coefficient grows without bound: {coef:.3g}); drop it "
               "from the model in data/models.yml, or merge sparse answer categories"),
            outcome=spec.outcome, why=e.reason, term=worst, label=labels.get(worst, worst),
            coef=e.beta[regs.index(worst)]), spec.name) from None
    st: dict[str, Any] = {"categories": int(len(cats))}
    dfi: float | None = None
    if spec.se == "design":
        if design is None:
            raise ValueError("design-based standard errors need the survey design")
        wn = w / w.mean()
        infl = np.empty((len(yy), len(V)))
        infl[order] = (scores(yy, X, beta, cut) * wn[:, None]) @ V        # V = (−H)⁻¹; rows of df
        rows = np.arange(len(df)) if rows is None else rows      # df is the whole design
        V = design_vcov(infl, design, rows)
        # svyolr's df.residual: the design's df minus the slopes (the cut points count as one
        # intercept, as in svyglm), not minus every cut point
        dfi = model_df(design, rows, len(beta) + 1)
        st.update(model_design(design, rows))
    names = regs + [f"cut{c}|{c2}" for c, c2 in zip(cats[:-1], cats[1:])]
    est = np.concatenate([beta, cut])
    ame = ame_table(X, beta, cut, V, regs, cats, w)
    counts = np.bincount(yy, weights=None if w is None else w / w.mean(), minlength=len(cats)).astype(float)
    ll0 = float(np.sum(counts * np.log(counts / counts.sum())))   # thresholds-only model (same weights)
    st.update({"llf": llf, "pseudo_r2": 1 - llf / ll0})
    tables: dict[str, pd.DataFrame] = {"ame": ame}
    if w is None:
        try:
            tables["brant"] = brant(yy, X, regs, start=(beta, cut), cats=cats)
        except BrantUndefined as e:             # the model stands without its diagnostic
            st["brant_absent"] = e.why
    else:
        st["brant_absent"] = Message(N_("the model is weighted and the test's binary logits are not, so the "
                                        "test would check another fit than this one"))
    return ModelResult(spec.name, spec.label or spec.name, "ologit",
                       pd.Series(est, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), dfi, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType(tables), tuple(regs))
