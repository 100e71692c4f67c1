"""Linear models of the score: OLS/WLS with absorbed fixed effects and HC1, CR1 or design-based
standard errors, and the wild cluster bootstrap where clusters are few.

Checked against R (``lm`` + ``sandwich``, ``survey::svyglm``) in ``tests/test_models_against_r.py``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.design import SurveyDesign, text_codes
from analysis.estimation.regression import (cluster_vcov, design_matrix, design_vcov, hc1_vcov, model_design,
                                            model_df, nested_in, wild_cluster_bootstrap, within, wls)
from analysis.estimation.results import ModelResult
from analysis.settings import ModelSpec


def fit_linear(df: pd.DataFrame, spec: ModelSpec, labels: dict, *, design: SurveyDesign | None = None,
               rows: np.ndarray | None = None) -> ModelResult:
    """WLS with the first fixed effect absorbed (within transformation) and any others as dummies.

    By Frisch–Waugh–Lovell the slopes, residuals and every covariance of the slopes (cluster,
    design-based, HC1) equal those of the regression with dummies; K counts the absorbed
    intercept and levels as that regression does (:mod:`analysis.estimation.regression`).
    ``design`` and ``rows``: the full survey design and the model's rows in it (``se: design``).
    """
    regs, fe = list(spec.regressors), list(spec.fixed_effects)
    y = df[spec.outcome].to_numpy(float)
    wcol = spec.weights if spec.family == "wls" else None
    w = df[wcol].to_numpy(float) if wcol else np.ones(len(df))
    w = w / w.mean()
    if fe:
        first = text_codes(df[fe[0]])                       # complete cases: no missing level
        levels = first[0]
        X, names = design_matrix(df, regs, fe[1:], const=False)
        y_fit, X = within(levels, w, y, X)
        k_extra = int(levels.max()) + 1                     # intercept + (levels − 1) dummies
    else:
        X, names = design_matrix(df, regs, [])
        y_fit, k_extra = y, 0
    beta, ainv, e = wls(y_fit, X, w)
    n, k = X.shape
    k_all = k + k_extra
    st: dict[str, Any] = {}
    se_kind = spec.se_kind
    if se_kind == "design":
        if design is None:
            raise ValueError("design-based standard errors need the survey design")
        infl = (X * (w * e)[:, None]) @ ainv                 # respondent influence on β (scale-free)
        rows = np.arange(len(df)) if rows is None else rows      # df is the whole design
        V = design_vcov(infl, design, rows)
        dfi = model_df(design, rows, k_all)
        st.update(model_design(design, rows))
    elif se_kind == "cr1":
        V, G = cluster_vcov(X, w, e, df[spec.cluster].to_numpy(), ainv, k_extra)
        dfi = float(G - 1)
        st["n_clusters"] = G
    else:
        V = hc1_vcov(X, w, e, ainv, k_extra)
        dfi = float(n - k_all)
    ybar = np.sum(w * y) / w.sum()
    st["r2"] = float(1 - np.sum(w * e**2) / np.sum(w * (y - ybar) ** 2))
    st["k"] = k_all
    tables: dict[str, pd.DataFrame] = {}
    if spec.wild is not None and spec.cluster:
        wb = spec.wild
        clusters = df[spec.cluster].to_numpy()
        nested = bool(fe) and nested_in(levels, clusters)
        if fe and not nested:
            # a fixed effect that cuts across clusters changes the replicates' residuals once
            # absorbed: bootstrap the regression with dummies (few levels: region effects)
            Xb, bnames = design_matrix(df, regs, fe, coded={fe[0]: first})
            yb, kb = y, 0
        else:
            Xb, bnames, yb, kb = X, names, y_fit, k_extra
        wild = wild_cluster_bootstrap(yb, Xb, w, clusters, [bnames.index(r) for r in regs],
                                      reps=wb.reps, weights=wb.weights, seed=wb.seed, k_extra=kb)
        wild.insert(0, "term", [bnames[j] for j in wild["j"]])
        tables["wild"] = wild.drop(columns="j")
    st["absorbed"] = fe[0] if fe else ""
    return ModelResult(spec.name, spec.label or spec.name, spec.family,
                       pd.Series(beta, index=names), pd.DataFrame(V, index=names, columns=names), n,
                       dfi, MappingProxyType(st), tuple(fe), MappingProxyType(labels),
                       MappingProxyType(tables), tuple(regs))
