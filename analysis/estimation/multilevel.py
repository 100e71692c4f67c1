"""Multilevel model: a random intercept per group (province), by (restricted) maximum likelihood
profiled over one variance ratio, as ``lme4::lmer(y ~ X + (1 | g))``; Wald tests and intervals on
the between-within degrees of freedom of ``nlme::lme``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.regression import design_matrix, unit_sums
from analysis.estimation.results import ModelResult
from analysis.settings import ModelSpec


def random_intercept(y: np.ndarray, X: np.ndarray, groups: np.ndarray, *, reml: bool = True
                     ) -> dict[str, Any]:
    """Linear model with a random intercept per group, y = Xβ + u_g + e, by (restricted)
    maximum likelihood as ``lme4::lmer(y ~ X + (1 | g))``.

    With V_g = σ²(I + λ 1 1'), the likelihood profiled over β and σ² depends on the data only
    through per-group sums (n_g, X_g'X_g, X_g'1, X_g'y, 1'y, y'y): one pass builds them, then
    λ = τ²/σ² is found by a one-dimensional search on G small matrices, whatever n.
    Returns β, its covariance (X'V⁻¹X)⁻¹ (as lme4's ``vcov``), τ², σ² and the log-likelihood.
    """
    g = pd.factorize(pd.Series(groups))[0]
    G = int(g.max()) + 1
    n, p = X.shape
    Sxx, Sxy, sx = unit_sums(X, np.ones(n), g, G, y)
    n_g = np.bincount(g, minlength=G).astype(float)
    sy = np.bincount(g, weights=y, minlength=G)
    syy = float(y @ y)
    dof = n - p if reml else n

    def parts(lam: float) -> tuple[np.ndarray, np.ndarray, float]:
        c = lam / (1 + n_g * lam)                            # V_g⁻¹ = (I − c_g 11')/σ²
        A = Sxx.sum(0) - (sx * c[:, None]).T @ sx
        b = Sxy.sum(0) - sx.T @ (c * sy)
        beta = np.linalg.solve(A, b)
        Q = syy - float(c @ sy**2) - float(b @ beta)         # r'(V/σ²)⁻¹r at β̂(λ)
        return A, beta, Q

    def deviance(lam: float) -> float:                     # −2 × profiled (RE)ML log-likelihood
        A, _, Q = parts(lam)
        dev = dof * (np.log(2 * np.pi * Q / dof) + 1) + float(np.sum(np.log1p(n_g * lam)))
        if reml:
            dev += float(np.linalg.slogdet(A)[1])
        return dev

    from scipy.optimize import minimize_scalar

    grid = np.r_[0.0, np.logspace(-8, 4, 61)]               # coarse grid, then Brent around the best
    devs = [deviance(v) for v in grid]
    i = int(np.argmin(devs))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    opt = minimize_scalar(deviance, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-14 * max(1.0, hi), "maxiter": 500})
    lam = float(opt.x) if opt.fun <= devs[i] else float(grid[i])
    A, beta, Q = parts(lam)
    sig2 = Q / dof
    return {"beta": beta, "vcov": sig2 * np.linalg.inv(A), "tau2": lam * sig2, "sigma2": sig2,
            "llf": -0.5 * deviance(lam), "n_groups": G}


def constant_within(X: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Which columns of ``X`` take one value in each group (group-level covariates)."""
    g = pd.factorize(pd.Series(groups))[0]
    last = np.zeros((int(g.max()) + 1, X.shape[1]))
    last[g] = X                                   # one row of each group (the last one written)
    return ~(X != last[g]).any(axis=0)


def between_within_df(X: np.ndarray, groups: np.ndarray, level2: np.ndarray | None = None) -> np.ndarray:
    """Degrees of freedom of each coefficient's t test and interval, by the rule of
    ``nlme::lme`` for one grouping level (Pinheiro & Bates 2000, §2.4.2).

    A column constant within every group (a group-level covariate) is estimated between groups:
    G − p_b − 1 df, p_b such columns besides the intercept. A column that varies within any group is
    estimated within them: N − G − p_w df, p_w such columns. The intercept (a column constant over
    all rows) takes the larger of the two. With 22 provinces and three province-level covariates,
    those covariates have 18 df, where the normal would act as if they had infinitely many.
    Without an intercept nlme counts one more df within groups; so does this. ``level2``: the
    columns' :func:`constant_within` where the caller has it already.
    """
    g = pd.factorize(pd.Series(groups))[0]
    G, n = int(g.max()) + 1, len(g)
    const = (X == X[:1]).all(axis=0)
    between = (constant_within(X, g) if level2 is None else level2) & ~const
    within = ~between & ~const
    df_between = G - int(between.sum()) - (1 if const.any() else 0)
    df_within = n - G - int(within.sum()) + (0 if const.any() else 1)     # nlme's count without an intercept
    out = np.where(within, df_within, df_between).astype(float)
    out[const] = max(df_between, df_within)
    return out


def fit_mixed(df: pd.DataFrame, spec: ModelSpec, labels: dict) -> ModelResult:
    """Random-intercept model of a spec (REML or ML), with the ICC of the empty and the full model;
    t tests and intervals on nlme's between-within df (the group-level terms and their df, and the
    df of the others, are in ``stats`` for the page's prose)."""
    regs = list(spec.regressors)
    y = df[spec.outcome].to_numpy(float)
    X, names = design_matrix(df, regs, list(spec.fixed_effects))
    groups = df[spec.group].to_numpy()
    reml = spec.reml
    fit = random_intercept(y, X, groups, reml=reml)
    null = random_intercept(y, np.ones((len(y), 1)), groups, reml=reml)
    tau2, sig2 = fit["tau2"], fit["sigma2"]
    tau0, sig0 = null["tau2"], null["sigma2"]
    st = {"icc": tau0 / (tau0 + sig0), "icc_conditional": tau2 / (tau2 + sig2),
          "var_province": tau2, "var_residual": sig2, "llf": fit["llf"],
          "n_groups": fit["n_groups"], "reml": reml, "group": spec.group}
    within_constant = constant_within(X, groups)
    dof = pd.Series(between_within_df(X, groups, within_constant), index=names)
    level2 = [t for t, c in zip(names, within_constant) if c and t in regs]
    st.update({"group_terms": tuple(level2), "df_group_terms": float(dof[level2[0]]) if level2 else None,
               "df_unit_terms": next((float(dof[t]) for t in regs if t not in level2 and t in dof), None)})
    re = pd.DataFrame({"component": [f"{spec.group} intercept", "residual"], "variance": [tau2, sig2],
                       "sd": [np.sqrt(tau2), np.sqrt(sig2)]})
    return ModelResult(spec.name, spec.label or spec.name, "mixedlm",
                       pd.Series(fit["beta"], index=names),
                       pd.DataFrame(fit["vcov"], index=names, columns=names),
                       len(y), dof, MappingProxyType(st), tuple(spec.fixed_effects),
                       MappingProxyType(labels),
                       MappingProxyType({"random_effects": re}), tuple(regs))
