"""The determinant models of ``data/models.yml`` fitted on a study: the driver of every family,
robustness to the index construction, and diagnostics.

Families and where they live: linear (OLS/WLS, :mod:`~analysis.estimation.linear`), multilevel
(:mod:`~analysis.estimation.multilevel`), ordinal (:mod:`~analysis.estimation.ordinal`), binary
(:mod:`~analysis.estimation.binary`), decomposition (:mod:`~analysis.estimation.decomposition`);
the shared core is :mod:`~analysis.estimation.regression`.

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.estimation.suite import fit_models
>>> ms = fit_models(build_study("2020-replica"), names=["svy_region"])
>>> ms["svy_region"].stats["n_psu"]
61
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.design import id_codes
from analysis.estimation.frames import labels as variable_labels
from analysis.estimation.frames import lacking, model_frame
from analysis.estimation.index import IndexConfigError
from analysis.estimation.results import ModelResult, ModelSet, ModelSpecError, pool_rubin
from analysis.estimation.regression import RegressionError
from analysis.i18n import Message, N_, Name, category
from analysis.settings import ModelSpec
from analysis.settings.options import AGGREGATIONS, NORMALISATIONS, WEIGHTINGS

__all__ = ["fit_model", "fit_models", "robustness", "diagnostics", "ModelSpecError", "ROBUSTNESS_LABELS"]


def needs_design_columns(spec: ModelSpec) -> bool:
    """Whether a model's frame carries the design's strata, PSU and weight: design-based SEs and
    the Oaxaca bootstrap over PSUs."""
    return spec.se_kind == "design" or spec.family == "oaxaca"


def fit_model(study, spec: ModelSpec, *, scores: pd.DataFrame | None = None) -> ModelResult:  # type: ignore[no-untyped-def]
    """Fit one model specification on a study (``scores``: another construction's scores)."""
    from analysis.estimation.binary import fit_logit
    from analysis.estimation.decomposition import fit_oaxaca
    from analysis.estimation.linear import fit_linear
    from analysis.estimation.multilevel import fit_mixed
    from analysis.estimation.ordinal import fit_ologit

    fam = spec.family
    mf = model_frame(study, spec, scores=scores, design_columns=needs_design_columns(spec))
    if len(mf.data) == 0:
        raise ModelSpecError(Message(N_("no complete rows")), spec.name)
    labels = variable_labels(study)
    df = mf.data
    why = unsupported(spec, df)          # first: one province makes its covariates constant too
    if why is not None:
        raise ModelSpecError(why, spec.name)
    for c in [spec.outcome, *spec.regressors]:
        x = df[c].to_numpy(float)
        if not np.isfinite(x).all():
            why = Message(N_("{c!r} ({label}) has {n} infinite values; declare its transform and how it "
                             "treats them in data/models.yml"),
                          c=c, label=labels.get(c, c), n=int((~np.isfinite(x)).sum()))
            raise ModelSpecError(why, spec.name)
        if (x != x[0]).any():                          # more than one value (rows exist: see above)
            continue
        if c == spec.outcome:       # nothing to explain (no cut point of an ordered logit, no 0 or 1)
            why = Message(N_("the outcome {c!r} ({label}) takes a single value ({value:g}) on the {n} "
                             "complete rows of this wave, so there is nothing to explain; the model is left "
                             "out for this wave"), c=c, label=labels.get(c, c), value=x[0], n=len(df))
            raise ModelSpecError(why, spec.name)
        why = Message(N_("the regressor {c!r} ({label}) takes a single value ({value:g}) on the {n} "
                         "complete rows of this wave, so its effect cannot be estimated; leave it out of the "
                         "model for this wave"), c=c, label=labels.get(c, c), value=x[0], n=len(df))
        raise ModelSpecError(why, spec.name)
    try:
        if fam in ("ols", "wls"):
            res = fit_linear(df, spec, labels, design=study.design, rows=mf.rows)
        elif fam == "mixedlm":
            res = fit_mixed(df, spec, labels)
        elif fam == "ologit":
            res = fit_ologit(df, spec, labels, design=study.design, rows=mf.rows)
        elif fam == "logit":
            res = fit_logit(df, spec, labels, design=study.design, rows=mf.rows)
        else:
            dc = study.wave.design_columns
            res = fit_oaxaca(df, spec, labels, strata=dc.get("strata"), psu=study.wave.bootstrap_units)
    except RegressionError as e:                     # collinear regressors on this wave's rows
        raise ModelSpecError(Message(str(e)), spec.name) from None
    except np.linalg.LinAlgError as e:               # a singular system inside an estimator
        raise ModelSpecError(Message(N_("its equations are singular on the complete rows of this wave "
                                        "({error}): some of its regressors are collinear there; the model "
                                        "is left out for this wave"), error=str(e)), spec.name) from None
    low = np.nanmin(np.asarray(res.df_inference, float)) if res.df_inference is not None else np.inf
    between = res.stats.get("df_group_terms") if res.family == "mixedlm" else None
    if between is not None and not between > 0:     # the respondents' terms have df; the model, no
        group = res.stats.get("group", "province")
        raise ModelSpecError(Message(N_(
            "its {k} province-level covariates fit the {g} provinces' means exactly, leaving no degree of "
            "freedom between provinces: the variance between them, and with it those covariates' standard "
            "errors and the conditional intraclass correlation, is not identified on this wave; the model "
            "is left out for this wave") if group == "province" else N_(
            "its {k} covariates constant within each {group} fit the {g} groups' means exactly, leaving no "
            "degree of freedom between groups: the variance between them, and with it those covariates' "
            "standard errors and the conditional intraclass correlation, is not identified on this wave; "
            "the model is left out for this wave"), k=len(res.stats["group_terms"]), group=group,
            g=res.stats["n_groups"]), spec.name)
    if not low > 0:                                  # e.g. a design of fewer PSUs than coefficients
        raise ModelSpecError(Message(N_("it has more coefficients than this wave's design (its PSUs less its "
                                        "strata) or groups can support, so its intervals would have no "
                                        "degrees of freedom; the model is left out for this wave")),
                             spec.name)
    extra = {"dropped": mf.dropped, "complete_share": len(df) / study.n,
             "notes": tuple(mf.notes)}
    return ModelResult(**{**res.__dict__, "stats": MappingProxyType({**res.stats, **extra})})


def unsupported(spec: ModelSpec, df: pd.DataFrame) -> Message | None:
    """Why the complete rows ``df`` of a wave cannot support a model its data file allows, or
    None: standard errors clustered on a single cluster, a multilevel model of a single group,
    a decomposition one of whose two groups has no more rows than the model has coefficients (a
    wave of one province, or of one region)."""
    n = len(df)
    if spec.cluster and spec.se_kind == "cr1" and df[spec.cluster].nunique() < 2:
        return Message(N_("its standard errors are clustered by {cluster!r}, which takes a single value on "
                          "the {n} complete rows of this wave: cluster-robust standard errors need at least "
                          "two clusters; the model is left out for this wave"), cluster=spec.cluster, n=n)
    if spec.family == "mixedlm" and df[spec.group].nunique() < 2:
        return Message(N_("its groups ({group!r}) take a single value on the {n} complete rows of this wave: "
                          "a multilevel model needs at least two groups; the model is left out for this "
                          "wave"), group=spec.group, n=n)
    if spec.family == "oaxaca":
        from analysis.estimation.decomposition import in_group

        k = len(spec.regressors) + 1
        a, b = (Name(str(g), zh=str(category(spec.group, g, "zh"))) for g in spec.groups)
        for g, name in zip(spec.groups, (a, b)):
            m = int(in_group(df[spec.group], g).sum())
            if m <= k:
                return Message(N_("the decomposition compares {a} with {b}; {g} has {m} complete rows on "
                                  "this wave, and each group needs more rows than the model's {k} "
                                  "coefficients; the model is left out for this wave"),
                               a=a, b=b, g=name, m=m, k=k)
    return None


def fit_models(study, *, names: list[str] | None = None) -> ModelSet:  # type: ignore[no-untyped-def]
    """Fit the models of ``data/models.yml`` (all, or those named) on a study.

    Without ``names``, a model whose variables the wave lacks (an optional block) is skipped and
    the reason recorded in :attr:`ModelSet.skipped`.
    """
    ms = study.settings.models
    if names:
        unknown = set(names) - {m.name for m in ms.models}
        if unknown:
            raise ModelSpecError(f"unknown model(s) {sorted(unknown)}; known: "
                                 f"{', '.join(m.name for m in ms.models)}")
    chosen = [m for m in ms.models if names is None or m.name in names]
    fitted, skipped = [], {}
    for m in chosen:
        lack = lacking(study, m)
        if lack and names is None:
            skipped[m.name] = Message(N_("the wave has no {variables}"), variables=", ".join(lack))
            continue
        try:
            fitted.append(fit_model(study, m))
        except ModelSpecError as e:
            if names is not None:           # asked for by name: the caller hears why
                raise
            skipped[m.name] = e.reason              # a Message where a page may show it
    return ModelSet(tuple(fitted), study.wave.id, study.wave.synthetic, MappingProxyType(skipped))


ROBUSTNESS_LABELS = {"normalisation": {"zscore": "z-score normalisation", "rank": "rank normalisation",
                                       "target": "distance-to-target normalisation", "minmax": "min–max normalisation"},
                     "weighting": {"entropy": "entropy weights", "pca": "PCA weights", "ahp": "AHP weights",
                                   "expert": "expert weights", "equal": "equal weights"},
                     "aggregation": {"geometric": "geometric aggregation", "topsis": "TOPSIS aggregation",
                                     "arithmetic": "arithmetic aggregation"}}
"""Readable names of the alternative constructions."""


def robustness(study, *, model: str = "wls_region") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A model with its outcome built by every alternative construction: each option of
    normalisation, weighting and aggregation (:mod:`analysis.settings.options`) other than the
    study's own, one at a time. Tidy rows with a ``construction`` column; an alternative the
    wave's fields refuse (AHP comparisons inconsistent among the fields the wave has) is left out
    and named, with the reason, in ``attrs["left_out"]``."""
    base = study.construction
    spec = study.settings.models.get(model).model_copy(update={"wild": None})
    variants: dict[str, Any] = {f"default ({base.normalisation}, {base.weighting}, {base.aggregation})": base}
    for attr, options in (("normalisation", NORMALISATIONS), ("weighting", WEIGHTINGS),
                          ("aggregation", AGGREGATIONS)):
        for opt in options:
            if opt == getattr(base, attr) or opt == "target" or opt == "expert" or \
                    (opt == "ahp" and not base.ahp_matrix):
                continue          # target, expert and ahp need values the settings may not give
            variants[ROBUSTNESS_LABELS[attr][opt]] = base.with_(**{attr: opt})
    out, left_out = [], {}
    for name, cfg in variants.items():
        # the study of that construction, not its scores alone: an outcome overall_without_<aspect>
        # is rebuilt from the construction of the study it is fitted on
        try:
            r = fit_model(study.with_construction(cfg), spec)
        except IndexConfigError as e:
            if cfg is base:                 # the study's own construction was built: never here
                raise
            left_out[name] = e.args[0]     # a Message: the reason in either edition's language
            continue
        out.append(r.to_frame().assign(construction=name))
    res = pd.concat(out, ignore_index=True)
    res.attrs["left_out"] = left_out
    return res


def diagnostics(study, *, model: str = "wls_region") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Diagnostics of a linear model as it is reported (its weights and fixed effects): variance
    inflation factors of its regressors, Koenker's Breusch–Pagan on the weighted (whitened)
    residuals, RESET (an F test of the squared and cubed fitted values added to the weighted
    model) and influence (Cook's distance of the weighted fit)."""
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan
    from statsmodels.stats.outliers_influence import OLSInfluence, variance_inflation_factor

    from analysis.estimation.regression import design_matrix

    spec = study.settings.models.get(model)
    df = model_frame(study, spec).data
    X, names = design_matrix(df, list(spec.regressors), list(spec.fixed_effects))
    y = df[spec.outcome].to_numpy(float)
    w = df[spec.weights].to_numpy(float) if spec.weights and spec.family == "wls" else np.ones(len(df))
    fit = sm.WLS(y, X, weights=w / w.mean()).fit()
    regs = list(spec.regressors)
    vif = pd.DataFrame({"term": regs, "vif": [variance_inflation_factor(X, names.index(r)) for r in regs]})
    bp = het_breuschpagan(fit.wresid, X)        # whitened residuals on the regressors
    # RESET in the weighted model (statsmodels' linear_reset refits the augmented model without
    # the weights). Powers of the standardised fitted values: with the constant and ŷ in the
    # model they span the same space as ŷ², ŷ³ (the same F), far better conditioned.
    zh = (fit.fittedvalues - fit.fittedvalues.mean()) / fit.fittedvalues.std()
    aug = sm.WLS(y, np.column_stack([X, zh**2, zh**3]), weights=w / w.mean()).fit()
    reset_f, reset_p, _ = aug.compare_f_test(fit)
    sw = np.sqrt(w / w.mean())                       # the WLS fit is OLS on the whitened data
    cook = OLSInfluence(sm.OLS(y * sw, X * sw[:, None]).fit()).cooks_distance[0]
    return {"vif": vif, "breusch_pagan": {"lm": float(bp[0]), "p": float(bp[1])},
            "reset": {"f": float(reset_f), "p": float(reset_p)},
            "cooks_max": float(cook.max()), "cooks_over_4_n": int((cook > 4 / len(y)).sum()),
            "n": len(y), "weighted": bool(spec.weights and spec.family == "wls")}


def multiple_imputation(study, *, model: str = "wls_region", imputations: int = 20, burn_in: int = 10,  # type: ignore[no-untyped-def]
                        seed: int = 20200601, return_fits: bool = False
                        ) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """A linear model refitted on data completed by multiple imputation by chained equations
    (statsmodels ``MICE``: predictive mean matching for every variable with missing values,
    ``imputations`` completed data sets after ``burn_in`` cycles), its coefficients and SEs
    combined by Rubin's rules (:func:`~analysis.estimation.results.pool_rubin`) — a robustness
    check of the complete-case fit, under the assumption that answers are missing at random given
    the model's variables.

    The model's fixed effects enter as dummies, its weights as WLS weights and its SEs (CR1 with a
    cluster, else HC1; a model with design-based SEs is refused) inside each fit. Intervals and
    p-values are on t with Barnard and Rubin's degrees of freedom, the complete-data df being the
    complete-case model's (G − 1 when clustered). Returns term, label, estimate, se, df, ci_low,
    ci_high, p, fmi (the fraction of missing information) and the complete-case estimate beside it;
    its ``attrs`` give the settings, the rows each completed data set fits (``rows``), those among
    them with a missing answer (``missing_rows``) and those left out without a fixed effect, weight
    or cluster (``left_out_rows``).
    With ``return_fits``, also each completed data set's estimates and squared SEs (long:
    imputation, term, estimate, variance).
    """
    import warnings

    import statsmodels.api as sm
    from statsmodels.imputation.mice import MICE, MICEData

    spec = study.settings.models.get(model)
    if spec.family not in ("ols", "wls"):
        raise ModelSpecError(f"multiple imputation is for linear models; {model!r} is {spec.family}")
    if spec.se_kind == "design":
        raise ModelSpecError(f"multiple imputation pools model-based SEs (CR1 or HC1); {model!r} has "
                             "design-based SEs (se: design), which each completed data set would need")
    # the complete-case fit first: a model the wave cannot fit (one cluster, say) is refused with
    # its reason before the imputations run
    cc = fit_model(study, spec.model_copy(update={"wild": None}))
    mf = model_frame(study, spec, complete=False)
    # rows without a fixed effect, weight or cluster are not imputed: left out, as the
    # complete-case fit leaves them (a blank level would otherwise count as the reference level)
    given = [*spec.fixed_effects, *(c for c in (spec.weights, spec.cluster) if c)]
    keep = mf.data[given].notna().all(axis=1)
    d = mf.data[keep]
    # the chained equations draw row after row: rows taken in the order of the respondents' ids,
    # so that a seed gives the same imputations whatever the order of the wave's rows
    rid = study.wave.respondent_id
    if rid is not None:
        codes, _ = id_codes(study.villagers[rid].to_numpy()[mf.rows[keep.to_numpy()]])
        d = d.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    regs = list(spec.regressors)
    data = d[[spec.outcome, *regs]].astype(float).rename(columns={spec.outcome: "y_"})
    dummies = []
    for fe in spec.fixed_effects:
        lv = sorted(d[fe].dropna().astype(str).unique())
        for j, level in enumerate(lv[1:]):
            col = f"fe_{fe}_{j}"
            data[col] = (d[fe].astype(str) == level).astype(float)
            dummies.append(col)
    w = d[spec.weights].to_numpy(float) if spec.weights else np.ones(len(d))
    formula = "y_ ~ " + " + ".join(regs + dummies)
    # each completed data set's SEs of the kind the complete-case model reports (CR1 or HC1)
    fit_kwds: dict[str, Any] = {"cov_type": "HC1"}
    if spec.se_kind == "cr1":
        fit_kwds = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(d[spec.cluster])[0]}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = MICE(formula, sm.WLS, MICEData(data, rng=np.random.default_rng(seed)),
                   init_kwds={"weights": w / w.mean()}, fit_kwds=fit_kwds).fit(burn_in, imputations)
    names = list(res.model.exog_names)
    fits = res.model.results_list
    q = np.array([np.asarray(f.params) for f in fits])
    u = np.array([np.diag(np.asarray(f.cov_params())) for f in fits])
    pooled = pool_rubin(q, u, cc.df_inference).set_axis(names)
    labels = variable_labels(study)
    out = pd.DataFrame({"term": regs, "label": [labels.get(r, r) for r in regs]})
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "p", "fmi"):
        out[col] = pooled.loc[regs, col].to_numpy()
    out["complete_case"] = cc.params[regs].to_numpy()
    long = pd.DataFrame({"imputation": np.repeat(np.arange(1, len(fits) + 1), len(names)),
                         "term": names * len(fits), "estimate": q.ravel(), "variance": u.ravel()})
    out.attrs.update({"imputations": imputations, "burn_in": burn_in, "seed": seed,
                      "df_complete": cc.df_inference,
                      "missing_rows": int(d[[spec.outcome, *regs]].isna().any(axis=1).sum()),
                      "left_out_rows": int((~keep).sum()), "rows": len(d)})
    return (out, long) if return_fits else out
