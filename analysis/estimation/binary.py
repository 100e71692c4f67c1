"""Binary outcomes: logit with survey weights, design-based standard errors and average marginal
effects, as ``survey::svyglm(family = quasibinomial)``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.design import SurveyDesign
from analysis.estimation.regression import (binary_columns, cluster_vcov, design_matrix, design_vcov, full_rank,
                                           hc1_vcov, is_binary, model_design, model_df, weighted_gram)
from analysis.estimation.results import ModelResult, ModelSpecError
from analysis.i18n import N_, Message
from analysis.settings import ModelSpec


def fit_logit(df: pd.DataFrame, spec: ModelSpec, labels: dict, *, design: SurveyDesign | None = None,
              rows: np.ndarray | None = None) -> ModelResult:
    """Weighted logit by Newton–Raphson; HC1, CR1 or design-based standard errors (the complete
    cases a domain of the full ``design``, as ``svyglm``); average marginal effects."""
    regs = list(spec.regressors)
    y = df[spec.outcome].to_numpy(float)
    if not is_binary(y):
        raise ModelSpecError(Message(N_("outcome must be 0/1")), spec.name)
    X, names = design_matrix(df, regs, list(spec.fixed_effects))
    w = df[spec.weights].to_numpy(float) if spec.weights else np.ones(len(df))
    w = w / w.mean()
    full_rank(X[w > 0])
    beta = np.zeros(X.shape[1])

    def separated(why: Message) -> ModelSpecError:
        j = int(np.argmax(np.abs(beta) * X.std(axis=0)))         # the intercept's SD is 0
        return ModelSpecError(Message(
            N_("the logit of {outcome!r} did not converge ({why}); the regressor {term!r} ({label}) "
               "separates the outcome (its coefficient grows without bound: {coef:.3g}); drop it from the "
               "model in data/models.yml"),
            outcome=spec.outcome, why=why, term=names[j], label=labels.get(names[j], names[j]),
            coef=beta[j]), spec.name)

    with np.errstate(over="ignore"):                        # exp(−η) → ∞ where a fit diverges: μ = 0
        for _ in range(100):                                # Newton–Raphson (IRLS)
            mu = 1 / (1 + np.exp(-(X @ beta)))
            info = weighted_gram(X, w * mu * (1 - mu))
            try:
                step = np.linalg.solve(info, X.T @ (w * (y - mu)))
            except np.linalg.LinAlgError:                   # every μ at 0 or 1: no information left
                raise separated(Message(N_("the information matrix is singular"))) from None
            beta = beta + step
            size = np.max(np.abs(step))
            if size < 1e-12:
                break
        else:
            if not size <= 1e-8:    # steps still this large (or NaN) are not rounding: no maximum is near
                raise separated(Message(N_("no convergence in {n} Newton iterations"), n=100))
    eta = X @ beta
    mu = 1 / (1 + np.exp(-eta))
    ainv = np.linalg.inv(weighted_gram(X, w * mu * (1 - mu)))
    infl = (X * (w * (y - mu))[:, None]) @ ainv
    st: dict[str, Any] = {}
    se_kind = spec.se_kind
    k = X.shape[1]
    if se_kind == "design":
        if design is None:
            raise ValueError("design-based standard errors need the survey design")
        rows = np.arange(len(df)) if rows is None else rows      # df is the whole design
        V = design_vcov(infl, design, rows)
        dfi: float | None = model_df(design, rows, k)
        st.update(model_design(design, rows))
    elif se_kind == "cr1":
        V, G = cluster_vcov(X, w, y - mu, df[spec.cluster].to_numpy(), ainv)
        dfi = float(G - 1)
        st["n_clusters"] = G
    else:
        V = hc1_vcov(X, w, y - mu, ainv)
        dfi = None
    # log μ = η − log(1 + e^η), log(1 − μ) = −log(1 + e^η): finite where μ rounds to 0 or 1
    ll = np.sum(w * (y * eta - np.logaddexp(0, eta)))
    p0 = np.sum(w * y) / w.sum()
    ll0 = np.sum(w * (y * np.log(p0) + (1 - y) * np.log(1 - p0)))
    st["pseudo_r2"] = float(1 - ll / ll0)
    ame = logit_ame(X, beta, V, names, regs, w)
    return ModelResult(spec.name, spec.label or spec.name, "logit",
                       pd.Series(beta, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), dfi, MappingProxyType(st), tuple(spec.fixed_effects),
                       MappingProxyType(labels), MappingProxyType({"ame": ame}),
                       tuple(regs))


def logit_ame(X: np.ndarray, beta: np.ndarray, V: np.ndarray, names: list[str], regs: list[str],
              w: np.ndarray) -> pd.DataFrame:
    """Weighted average marginal effects on the probability: a discrete change from 0 to 1 for a
    0/1 regressor, a derivative otherwise (as Stata ``margins, dydx()`` and
    ``marginaleffects::avg_slopes``), with delta-method SEs from the analytic gradient."""
    wn = w / w.sum()
    eta = X @ beta
    mu = 1 / (1 + np.exp(-eta))
    lam = mu * (1 - mu)
    binary = binary_columns(X)
    rows = []
    for j, r in enumerate(names):
        if r not in regs:                       # the intercept, fixed-effect dummies
            continue
        if binary[j]:
            # X with column j set to 1 and to 0, without copying X: η + (v − x_j)β_j
            m1 = 1 / (1 + np.exp(-(eta + (1 - X[:, j]) * beta[j])))
            m0 = 1 / (1 + np.exp(-(eta - X[:, j] * beta[j])))
            est = float(wn @ (m1 - m0))
            d1, d0 = wn * m1 * (1 - m1), wn * m0 * (1 - m0)
            grad = X.T @ (d1 - d0)                  # X1'd1 − X0'd0, but for row j:
            grad[j] = d1.sum()
            kind = "discrete change"
        else:
            est = float((wn @ lam) * beta[j])
            grad = X.T @ (wn * lam * (1 - 2 * mu)) * beta[j]
            grad[j] += wn @ lam
            kind = "derivative"
        rows.append({"term": r, "ame": est, "se": float(np.sqrt(grad @ V @ grad)), "kind": kind})
    return pd.DataFrame(rows)
