"""Decomposition of a gap between two groups: Oaxaca–Blinder (two-fold with pooled coefficients,
three-fold) with Rao–Wu bootstrap standard errors — an accounting decomposition, not a causal one.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.regression import design_matrix, unit_sums
from analysis.estimation.results import ModelResult
from analysis.settings import ModelSpec


def oaxaca(y: np.ndarray, X: np.ndarray, w: np.ndarray, in_a: np.ndarray, names: list[str],
           W_boot: np.ndarray | None = None, *, units: np.ndarray | None = None,
           multipliers: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two-fold (pooled β with a group indicator, Jann 2008) and three-fold decomposition of
    ȳ_A − ȳ_B; bootstrap SEs from replicate weights: either ``W_boot`` (n × R) or, without an
    n × R matrix, ``units`` (PSU code of each respondent) and ``multipliers`` (PSUs × R) as
    :func:`analysis.sensitivity.rao_wu_multipliers` gives.

    Every replicate is solved from sums by unit (all replicates at once, no loop over draws).
    Returns (summary: component, estimate, se) and (detailed explained part by regressor).
    """
    n, k = X.shape
    if W_boot is not None:                   # each respondent its own unit
        units, multipliers = np.arange(n), W_boot / w[:, None]
    A = in_a.astype(bool)

    def sums(u: np.ndarray, U: int) -> dict[str, np.ndarray]:
        out = {}
        for tag, m in (("a", A), ("b", ~A)):
            gram, xy, sx = unit_sums(X[m], w[m], u[m], U, y[m])
            out[tag] = (gram, xy, sx, np.bincount(u[m], weights=w[m], minlength=U),
                        np.bincount(u[m], weights=w[m] * y[m], minlength=U))
        return out

    def parts(st: dict[str, np.ndarray], M: np.ndarray) -> np.ndarray:     # M: units × R
        (Ga, ba_, sa, na, ya), (Gb, bb_, sb, nb, _) = st["a"], st["b"]
        U, R = M.shape
        GA = (M.T @ Ga.reshape(U, k * k)).reshape(R, k, k)    # Σ_u m_ur G_u for every replicate
        GB = (M.T @ Gb.reshape(U, k * k)).reshape(R, k, k)
        BA, BB, SA, SB = M.T @ ba_, M.T @ bb_, M.T @ sa, M.T @ sb
        NA, NB, YA = M.T @ na, M.T @ nb, M.T @ ya
        ba = np.linalg.solve(GA, BA[:, :, None])[:, :, 0]
        bb = np.linalg.solve(GB, BB[:, :, None])[:, :, 0]
        Gp = np.zeros((R, k + 1, k + 1))         # pooled regression on [X, 1{A}]
        Gp[:, :k, :k] = GA + GB
        Gp[:, :k, k] = Gp[:, k, :k] = SA
        Gp[:, k, k] = NA
        bp = np.linalg.solve(Gp, np.column_stack([BA + BB, YA])[:, :, None])[:, :k, 0]
        xa, xb = SA / NA[:, None], SB / NB[:, None]
        dot = lambda p, q: np.einsum("rk,rk->r", p, q)   # noqa: E731
        gap = dot(xa, ba) - dot(xb, bb)
        E, C, I = dot(xa - xb, bb), dot(xb, ba - bb), dot(xa - xb, ba - bb)
        expl = dot(xa - xb, bp)
        unexpl = dot(xa, ba - bp) + dot(xb, bp - bb)
        return np.column_stack([gap, expl, unexpl, E, C, I, (xa - xb) * bp])

    base = parts(sums(np.zeros(n, dtype=np.intp), 1), np.ones((1, 1)))[0]
    if multipliers is not None and units is not None:
        se = parts(sums(np.asarray(units), multipliers.shape[0]), multipliers).std(axis=0, ddof=1)
    else:
        se = np.full_like(base, np.nan)
    comp = ["gap", "explained (two-fold)", "unexplained (two-fold)", "endowments (three-fold)",
            "coefficients (three-fold)", "interaction (three-fold)"]
    summary = pd.DataFrame({"component": comp, "estimate": base[:6], "se": se[:6]})
    detail = pd.DataFrame({"term": names, "explained": base[6:], "se": se[6:]})
    return summary, detail[detail["term"] != "Intercept"].reset_index(drop=True)


def in_group(values: pd.Series, group: str) -> np.ndarray:
    """The rows of ``values`` (a group column) in one of a decomposition's groups: equal to it as
    written, or as a number (the group "2" of a column coded 2.0)."""
    rows = values.astype(object).eq(group).to_numpy()
    code = pd.to_numeric(pd.Series([group]), errors="coerce").iloc[0]
    if pd.notna(code):
        rows = rows | pd.to_numeric(values, errors="coerce").eq(code).to_numpy()
    return rows


def fit_oaxaca(df: pd.DataFrame, spec: ModelSpec, labels: dict, *, strata: str | None = None,
               psu: str | None = None) -> ModelResult:
    """Oaxaca–Blinder decomposition of the gap between ``spec.groups`` with Rao–Wu bootstrap
    SEs over the design's PSUs (``strata``, ``psu``: the columns in ``df`` of the strata and of the units
    resampled, :attr:`~analysis.ingest.wave.Wave.bootstrap_units`)."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    a, b = spec.groups
    df = df[in_group(df[spec.group], a) | in_group(df[spec.group], b)].reset_index(drop=True)
    regs = list(spec.regressors)
    y = df[spec.outcome].to_numpy(float)
    X, names = design_matrix(df, regs, [])
    w = df[spec.weights].to_numpy(float) if spec.weights else np.ones(len(df))
    in_a = in_group(df[spec.group], a)
    rng = np.random.default_rng(spec.seed)
    reps = spec.reps
    s_col = df[strata].to_numpy() if strata in df else np.zeros(len(df))
    p_col = df[psu].to_numpy() if psu in df else np.arange(len(df))
    units, mult = rao_wu_multipliers(s_col, p_col, reps, rng)
    summary, detail = oaxaca(y, X, w, in_a, names, units=units, multipliers=mult)
    params = pd.Series(summary["estimate"].to_numpy(), index=summary["component"])
    V = pd.DataFrame(np.diag(summary["se"].to_numpy() ** 2), index=params.index, columns=params.index)
    detail["label"] = detail["term"].map(lambda t: labels.get(t, t))
    return ModelResult(spec.name, spec.label or spec.name, "oaxaca", params, V, len(df),
                       None, MappingProxyType({"groups": f"{a} vs {b}", "group": spec.group, "group_a": a,
                                          "group_b": b, "bootstrap_reps": reps}), (),
                       MappingProxyType({}), MappingProxyType({"decomposition": summary, "detail": detail}),
                       tuple(params.index))
