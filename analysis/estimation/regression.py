"""The shared regression core: weighted least squares, absorbed fixed effects, robust covariances
and the wild cluster bootstrap, for the in-memory models and the out-of-core path alike.

**Degrees-of-freedom convention (stated once, used everywhere).** K counts every parameter of
the regression with dummies: the slopes, the intercept and every level of an absorbed fixed
effect beyond the first, nested in the clusters or not. The CR1 factor is
``G/(G−1)·(N−1)/(N−K)``, the HC1 factor ``N/(N−K)``: the values of R's ``lm`` with
``sandwich::vcovCL(type = "HC1")`` / ``vcovHC(type = "HC1")`` and of Stata's ``regress`` with
dummies. (reghdfe and fixest count a fixed effect nested in the clusters once; their SEs are then
smaller by the factor sqrt((N−K)/(N−K_nested)), a few parts in a thousand at survey sizes.)
t-based inference uses G − 1 df for CR1, N − K for HC1, and the design's df + 1 − K for
design-based standard errors.

Example
-------
>>> import numpy as np
>>> from analysis.estimation.regression import absorbed_ols
>>> rng = np.random.default_rng(0)
>>> g = rng.integers(0, 5, 2000); x = rng.normal(size=(2000, 2)); y = x @ [1.0, -2.0] + g + rng.normal(size=2000)
>>> r = absorbed_ols(y, x, fe=g, cluster=g)
>>> np.round(r["coef"], 1).tolist(), r["k"]
([1.0, -2.0], 7)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.estimation.design import SurveyDesign, id_codes, text_codes
from analysis.i18n import N_
from analysis.settings.options import WILD_WEIGHTS


class RegressionError(ValueError):
    """A regression that cannot be computed (singular design, unknown option...)."""


def design_matrix(df: pd.DataFrame, regressors: list[str], fe: list[str], const: bool = True,
                  coded: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                  ) -> tuple[np.ndarray, list[str]]:
    """Intercept, regressors and dummies of each fixed effect (first level dropped); ``coded``:
    fixed effects already turned into :func:`~analysis.estimation.design.text_codes`."""
    parts, names = [], []
    if const:
        parts.append(np.ones((len(df), 1)))
        names.append("Intercept")
    if regressors:
        parts.append(df[regressors].to_numpy(float))
        names += regressors
    for f in fe:
        # levels are the values as text, sorted (as pd.get_dummies of the column as text); a
        # missing value is in no level
        r, levels = coded[f] if coded and f in coded else text_codes(df[f])
        d = np.zeros((len(df), len(levels) - 1))
        on = np.flatnonzero(r > 0)
        d[on, r[on] - 1] = 1.0
        parts.append(d)
        names += [f"{f}_{lv}" for lv in levels[1:]]
    return np.column_stack(parts) if parts else np.empty((len(df), 0)), names


def full_rank(X: np.ndarray) -> None:
    """Refuse collinear columns of a model's design matrix, as :func:`wls` does: an iterative fit
    (logit, ordered logit) would otherwise drift along the collinear direction until it stops,
    and blame a regressor for separating the outcome."""
    X = np.asarray(X, float)
    if X.shape[1] and np.linalg.matrix_rank(X) < X.shape[1]:
        raise RegressionError(N_("the regressors are collinear (X'WX is singular)"))


def is_binary(x: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a NaN is neither): two comparisons, about a tenth of the
    time of ``np.isin`` on a million rows."""
    x = np.asarray(x)
    return bool(np.logical_or(x == 0, x == 1).all())


def binary_columns(X: np.ndarray, block: int = 1 << 14) -> np.ndarray:
    """Which columns of ``X`` hold only 0 and 1 (:func:`is_binary` of each), in one pass over
    blocks of rows: a column read on its own strides through all of X (a third of the time for
    eight columns of a million rows)."""
    X = np.asarray(X)
    out = np.ones(X.shape[1], bool)
    for s in range(0, len(X), block):
        xs = X[s:s + block]
        out &= np.logical_or(xs == 0, xs == 1).all(axis=0)
    return out


def weighted_gram(X: np.ndarray, h: np.ndarray, block: int = 1 << 15) -> np.ndarray:
    """X' diag(h) X, summed over blocks of rows that stay in cache (no n × K temporary)."""
    n, k = X.shape
    out = np.zeros((k, k))
    for s in range(0, n, block):
        xs = X[s:s + block]
        out += xs.T @ (xs * h[s:s + block, None])
    return out


def wls(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares: (β, (X'WX)⁻¹, residuals)."""
    xtwx = weighted_gram(X, w)
    try:
        ainv = np.linalg.inv(xtwx)
    except np.linalg.LinAlgError:
        raise RegressionError(N_("the regressors are collinear (X'WX is singular)")) from None
    beta = ainv @ (X.T @ (w * y))
    return beta, ainv, y - X @ beta


def group_matrix(codes: np.ndarray, n_groups: int, weights: np.ndarray | None = None) -> sparse.csc_matrix:
    """The sparse G × n matrix whose product with n or n × K values sums their rows times
    ``weights`` by group code (0 … G−1), over the rows in order: the additions of K ``bincount``
    calls in the same order, without a pass per column."""
    codes = np.asarray(codes)
    n = len(codes)
    if n and (codes.min() < 0 or codes.max() >= n_groups):    # scipy would write out of bounds
        raise ValueError(f"group codes must lie in 0 … {n_groups - 1}; got {codes.min()} … {codes.max()} "
                         "(a missing group has no code)")
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    return sparse.csc_matrix((w, codes, np.arange(n + 1)), shape=(n_groups, n))


def group_codes(values: np.ndarray, name: str, *, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Codes 0 … G−1 of ``values`` in order of first appearance (``sort``: in the sorted order of
    the ids, :func:`~analysis.estimation.design.id_codes`, as draws assigned to groups need), and
    the groups. A missing value has no group: ValueError naming ``name`` (leave such rows out
    first, as model frames do)."""
    if sort:
        codes, levels = id_codes(values)
        groups = pd.Index(levels)
    else:
        codes, groups = pd.factorize(pd.Series(values))
    if len(codes) and codes.min() < 0:
        raise ValueError(f"{name} is missing in {int((codes < 0).sum())} row(s); leave those rows out first")
    return codes, groups


def group_sums(codes: np.ndarray, n_groups: int, values: np.ndarray, weights: np.ndarray | None = None
               ) -> np.ndarray:
    """Sums of the rows of ``values`` (n or n × K) times ``weights`` by group code: G or G × K."""
    return np.asarray(group_matrix(codes, n_groups, weights) @ values)


def within(codes: np.ndarray, w: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """Weighted within transformation: each column minus its weighted mean in its group."""
    G = int(codes.max()) + 1
    sw = np.bincount(codes, weights=w, minlength=G)
    m = group_matrix(codes, G, w)                          # built once for every column
    return [c - (np.asarray(m @ c) / (sw if c.ndim == 1 else sw[:, None]))[codes] for c in cols]


def nested_in(levels: np.ndarray, clusters: np.ndarray) -> bool:
    """Whether every level of a fixed effect lies inside a single cluster."""
    f = pd.factorize(pd.Series(levels), sort=False)[0]
    c = pd.factorize(pd.Series(clusters), sort=False)[0]
    seen = np.empty(f.max() + 1, dtype=c.dtype)
    seen[f] = c                                       # one cluster of each level (the last seen)
    return bool(np.array_equal(seen[f], c))


def cr1_factor(G: int, n: int, k: int) -> float:
    """The CR1 small-sample factor ``G/(G−1)·(N−1)/(N−K)`` (K: every parameter, see module)."""
    return G / (G - 1) * (n - 1) / (n - k)


def cr1_vcov(scores: np.ndarray, ainv: np.ndarray, n: int, k: int) -> np.ndarray:
    """CR1 covariance from the scores summed by cluster (G × K) and (X'WX)⁻¹; K every parameter."""
    return cr1_factor(len(scores), n, k) * ainv @ (scores.T @ scores) @ ainv


def cluster_vcov(X: np.ndarray, w: np.ndarray, e: np.ndarray, groups: np.ndarray, ainv: np.ndarray,
                 k_extra: int = 0) -> tuple[np.ndarray, int]:
    """CR1 cluster-robust covariance from scores summed by cluster; ``k_extra`` counts the
    parameters absorbed out of ``X`` (intercept and fixed-effect levels). Returns (V, G)."""
    g = group_codes(groups, "the cluster")[0]
    G = int(g.max()) + 1
    n, k = X.shape
    if G < 2:
        raise RegressionError("cluster-robust standard errors need at least two clusters")
    scores = group_sums(g, G, X, w * e)
    return cr1_vcov(scores, ainv, n, k + k_extra), G


def hc1_vcov(X: np.ndarray, w: np.ndarray, e: np.ndarray, ainv: np.ndarray, k_extra: int = 0
             ) -> np.ndarray:
    """HC1 heteroskedasticity-robust covariance, factor N/(N−K)."""
    n, k = X.shape
    s = X * (w * e)[:, None]
    return n / (n - k - k_extra) * ainv @ (s.T @ s) @ ainv


def design_vcov(infl: np.ndarray, design: SurveyDesign, rows: np.ndarray) -> np.ndarray:
    """Design-based covariance of an estimator from its respondent influence values.

    ``rows``: positions of the rows in ``design`` (the model's complete cases); the other
    respondents keep their PSU with influence 0 — the complete cases are a domain of the full
    design, as ``svyglm`` on the full design treats them.
    """
    return design.variance_from_totals(group_sums(design.psu[rows], design.n_psu, infl))


def model_design(design: SurveyDesign, rows: np.ndarray) -> dict[str, int]:
    """The part of the design a model's complete cases (``rows``) lie in: its PSUs (``n_psu``)
    and their design df (``design_df``: those PSUs minus the strata they lie in), as R's
    ``degf(fit$survey.design)`` of a ``svyglm`` fit on a frame with missing values."""
    psus = np.flatnonzero(np.bincount(design.psu[rows], minlength=design.n_psu))
    strata = np.unique(design._psu_stratum[psus])
    return {"n_psu": len(psus), "design_df": len(psus) - len(strata)}


def model_df(design: SurveyDesign, rows: np.ndarray, k: int) -> float:
    """Residual degrees of freedom of a design-based model, as ``svyglm``: the design df of the
    PSUs holding the model's complete cases (:func:`model_design`), plus one, minus the K
    parameters (the variance itself uses every PSU of the design: the complete cases are a domain)."""
    return float(model_design(design, rows)["design_df"] + 1 - k)


def unit_sums(X: np.ndarray, w: np.ndarray, units: np.ndarray, n_units: int,
              y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted sufficient statistics by unit (cluster, PSU): Σ w x x' (U × K × K), Σ w x y
    (U × K; zeros without ``y``) and Σ w x (U × K) — never an n × K × K array."""
    n, k = X.shape
    if n and np.min(units) < 0:
        raise ValueError("unit codes must be non-negative (a missing group has no code)")
    gram = np.empty((n_units, k, k))
    if n_units <= 256:
        # few units (clusters): the rows ordered by unit once (a radix sort of small codes, skipped
        # when the rows already come unit by unit), then one BLAS product per unit's block
        u16 = np.asarray(units).astype(np.int16)
        if n < 2 or bool((u16[1:] >= u16[:-1]).all()):
            Xs, ws, ys, us = X, w, y, u16
        else:
            order = np.argsort(u16, kind="stable")
            Xs, ws, us = np.take(X, order, axis=0), w[order], u16[order]
            ys = None if y is None else y[order]
        Xw = Xs * ws[:, None]
        bounds = np.searchsorted(us, np.arange(n_units + 1))
        xy, sx = np.zeros((n_units, k)), np.empty((n_units, k))
        for u in range(n_units):
            a, b = bounds[u], bounds[u + 1]
            gram[u] = Xs[a:b].T @ Xw[a:b]
            sx[u] = Xw[a:b].sum(axis=0)
            if ys is not None:
                xy[u] = ys[a:b] @ Xw[a:b]
        return gram, xy, sx
    # many units (PSUs): the rows ordered by unit (skipped when they already come unit by unit),
    # then each column's products with itself and the columns after it summed over each unit's
    # run of rows (np.add.reduceat): one pass per column, no n × K × K array
    us = np.asarray(units)
    if n >= 2 and not bool((us[1:] >= us[:-1]).all()):
        order = np.argsort(us, kind="stable")
        X, w, us = np.take(X, order, axis=0), w[order], us[order]
        y = None if y is None else y[order]
    gram[:] = 0.0
    xy, sx = np.zeros((n_units, k)), np.zeros((n_units, k))
    if n == 0:
        return gram, xy, sx
    starts = np.flatnonzero(np.concatenate([[True], us[1:] != us[:-1]]))
    present = us[starts]
    Xw = X * w[:, None]
    sx[present] = np.add.reduceat(Xw, starts, axis=0)
    if y is not None:
        xy[present] = np.add.reduceat(Xw * y[:, None], starts, axis=0)
    for a in range(k):
        part = np.add.reduceat(Xw[:, a, None] * X[:, a:], starts, axis=0)
        gram[present, a, a:] = part
        gram[present, a:, a] = part
    return gram, xy, sx


def absorbed_ols(y: np.ndarray, X: np.ndarray, *, fe: np.ndarray, cluster: np.ndarray,
                 w: np.ndarray | None = None) -> dict[str, np.ndarray | int]:
    """Weighted OLS of ``y`` on ``X`` with one absorbed fixed effect and CR1 cluster SEs.

    The within transformation by ``bincount``, the normal equations and cluster scores by
    ``bincount``: the estimator of the linear models and of the out-of-core path
    (:class:`analysis.estimation.stream.AbsorbedOLSStats` gives the same numbers from sums).
    K = slopes + fixed-effect levels (the intercept and the level dummies), as in the module's
    convention.
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    f = group_codes(fe, "the fixed effect")[0]
    yt, Xt = within(f, w, y, X)
    beta, ainv, e = wls(yt, Xt, w)
    k_extra = int(f.max()) + 1
    V, G = cluster_vcov(Xt, w, e, cluster, ainv, k_extra)
    return {"coef": beta, "vcov": V, "se": np.sqrt(np.diag(V)), "n": len(y), "clusters": G,
            "k": X.shape[1] + k_extra}


# ---- wild cluster bootstrap ----------------------------------------------------------------

def wild_weights(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Cluster multipliers: Rademacher (±1) or Webb's six-point distribution (±√0.5, ±1, ±√1.5)."""
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=shape)
    if kind == "webb":
        s = np.sqrt([0.5, 1.0, 1.5])
        return rng.choice(np.concatenate([-s, s]), size=shape)
    raise RegressionError(f"wild weights {kind!r}; allowed: {', '.join(WILD_WEIGHTS)}")


def wild_stats(H: np.ndarray, xy: np.ndarray, beta_t: np.ndarray, V: np.ndarray, ainv: np.ndarray,
               n: int, k_extra: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap coefficients and CR1 SEs for y* = Xβ̃ + v_g·(y − Xβ̃), all replicates at once,
    from the clusters' sufficient statistics alone (no pass over the rows).

    H: G × K × K cluster sums X_g'W_gX_g; xy: G × K sums X_g'W_g y_g; β̃ (``beta_t``): the fit
    whose residuals are resampled (restricted: zero in the tested slot); V: G × B cluster
    weights; ``ainv`` = (Σ_g H_g)⁻¹. Then X_g'W_g ŷ_g = H_g β̃ and X_g'W_g e_g = xy_g − H_g β̃.
    Returns (K × B coefficients, K × B standard errors).
    """
    G, k, _ = H.shape
    a = H @ beta_t                                          # G × K: X_g' W_g ŷ_g
    c = xy - a                                              # G × K: X_g' W_g e_g
    beta = ainv @ (a.sum(0)[:, None] + c.T @ V)             # K × B
    S = a[:, :, None] + c[:, :, None] * V[:, None, :] - np.einsum("gkl,lb->gkb", H, beta)
    Q = np.einsum("jk,gkb->jgb", ainv, S)                   # K × G × B
    se = np.sqrt(cr1_factor(G, n, k + k_extra) * (Q**2).sum(axis=1))
    return beta, se


def wild_cluster_bootstrap(y: np.ndarray, X: np.ndarray, w: np.ndarray, groups: np.ndarray,
                           terms: list[int], *, reps: int = 999, weights: str = "webb",
                           seed: int = 0, level: float = 0.95, k_extra: int = 0,
                           multipliers: np.ndarray | None = None) -> pd.DataFrame:
    """WCR bootstrap-t p-values (null β_j = 0 imposed) and WCU percentile-t CIs for ``terms``.

    ``X`` and ``y`` may be within-transformed by a fixed effect nested in the clusters (then
    ``k_extra`` counts the absorbed parameters): the replicates are then those of the dummy model.
    ``multipliers`` (clusters in the sorted order of their ids × replicates) replaces the draws:
    a seed gives each cluster its draws whatever the order of the rows.
    """
    rng = np.random.default_rng(seed)
    g = group_codes(groups, "the cluster", sort=True)[0]
    G = int(g.max()) + 1
    if G < 2:
        raise RegressionError("cluster-robust standard errors need at least two clusters")
    n, k = X.shape
    # one pass over the rows: every fit below (full, restricted, replicates) is solved from the
    # clusters' sums X_g'W_gX_g and X_g'W_g y_g (Roodman et al. 2019, "Fast and wild")
    H, xy, _ = unit_sums(np.asarray(X, float), np.asarray(w, float), g, G, np.asarray(y, float))
    A, b = H.sum(0), xy.sum(0)
    try:
        ainv = np.linalg.inv(A)
    except np.linalg.LinAlgError:
        raise RegressionError("the regressors are collinear (X'WX is singular)") from None
    beta = ainv @ b
    se0 = np.sqrt(np.diag(cr1_vcov(xy - H @ beta, ainv, n, k + k_extra)))   # G × K cluster scores
    V = wild_weights(weights, (G, reps), rng) if multipliers is None else np.asarray(multipliers, float)
    reps = V.shape[1]
    # unrestricted: percentile-t interval
    bu, seu = wild_stats(H, xy, beta, V, ainv, n, k_extra)
    rows = []
    for j in terms:
        keep = [i for i in range(k) if i != j]
        bt = np.zeros(k)                                    # restricted fit: β_j = 0 imposed
        bt[keep] = np.linalg.solve(A[np.ix_(keep, keep)], b[keep])
        b_r, se_r = wild_stats(H, xy, bt, V, ainv, n, k_extra)
        t_obs = beta[j] / se0[j]
        t_star = b_r[j] / se_r[j]
        # ties count as at least as extreme; a relative tolerance keeps the exact ties (the
        # identity and sign-flipped draws reproduce ±t_obs) from depending on rounding
        p = float(np.mean(np.abs(t_star) >= abs(t_obs) * (1 - 1e-9)))
        tu = (bu[j] - beta[j]) / seu[j]
        lo_q, hi_q = np.quantile(tu, [(1 - level) / 2, 1 - (1 - level) / 2])
        rows.append({"j": j, "estimate": beta[j], "se": se0[j], "wild_p": p,
                     "wild_ci_low": beta[j] - hi_q * se0[j], "wild_ci_high": beta[j] - lo_q * se0[j]})
    out = pd.DataFrame(rows)
    out.attrs.update({"reps": reps, "weights": weights, "seed": seed, "clusters": G})
    return out
