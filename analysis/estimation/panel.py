"""Panels: real province × year statistics (disparities, convergence, panel regressions) and the
province × wave panel of survey waves.

Real data (the official province × year panel of :mod:`analysis.ingest.official`, passed in as
``panel``): findings here are about China's provinces; they are associations, not causal effects.
Survey panels are built from studies of several waves; on replica waves they illustrate the
method only.

Example
-------
>>> from analysis.ingest.official import province_panel
>>> from analysis.estimation.panel import theil
>>> t = theil(province_panel(), "fiscal_exp_per_capita_yuan", scheme="region3")
>>> bool(((t["between"] + t["within"] - t["total"]).abs() < 1e-12).all())
True
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

Scheme = Literal["region3", "region4"]


# ---- disparities ---------------------------------------------------------------------------

def regional_means(panel: pd.DataFrame, var: str, scheme: Scheme = "region3", weight: str = "resident_pop_10k",
                   complete: bool = False) -> pd.DataFrame:
    """Population-weighted mean of ``var`` by region and year (wide: year × region).

    ``complete``: a region's mean only in years where every one of its provinces has the value
    (a mean over fewer provinces would move with the gap, not with the provinces)."""
    p = panel.reset_index().dropna(subset=[var, weight])
    # Σ w·x / Σ w per group, summed column-wise (a Python call per group cost 63 ms a call)
    g = p.assign(_wx=p[var] * p[weight]).groupby(["year", scheme])
    sums = g[["_wx", weight]].sum()
    m = (sums["_wx"] / sums[weight]).unstack(scheme)
    if complete:
        n = g.size().unstack(scheme)
        # every province the panel places in the region, with the value in some year or in none
        members = panel.reset_index().groupby(scheme)[panel.index.names[0]].nunique()
        m = m.where(n >= members.reindex(n.columns).to_numpy())
    return m


def coefficient_of_variation(panel: pd.DataFrame, var: str, weighted: bool = True) -> pd.Series:
    """Cross-province coefficient of variation of ``var`` per year (population-weighted or not)."""
    p = panel.reset_index().dropna(subset=[var, "resident_pop_10k"])

    def cv(d: pd.DataFrame) -> float:
        w = d["resident_pop_10k"] if weighted else np.ones(len(d))
        mu = np.average(d[var], weights=w)
        return float(np.sqrt(np.average((d[var] - mu) ** 2, weights=w)) / mu)

    return p.groupby("year").apply(cv, include_groups=False).rename("cv")


def theil(panel: pd.DataFrame, var: str, scheme: Scheme = "region3", weight: str = "resident_pop_10k") -> pd.DataFrame:
    """Population-weighted Theil T index of a per-head variable, split into between- and
    within-region parts (they add up to the total exactly).

    T = Σ_i s_i ln(y_i / ȳ), s_i = p_i y_i / Σ p y (province i's share of the total).
    """
    p = panel.reset_index().dropna(subset=[var, weight])
    rows = []
    for year, d in p.groupby("year"):
        pop, y = d[weight].to_numpy(float), d[var].to_numpy(float)
        mu = np.sum(pop * y) / pop.sum()
        s = pop * y / np.sum(pop * y)
        total = float(np.sum(s * np.log(y / mu)))
        between = within = 0.0
        for _, dr in d.groupby(scheme):
            pr, yr = dr[weight].to_numpy(float), dr[var].to_numpy(float)
            s_r = np.sum(pr * yr) / np.sum(pop * y)
            mu_r = np.sum(pr * yr) / pr.sum()
            between += s_r * np.log(mu_r / mu)
            sr_i = pr * yr / np.sum(pr * yr)
            within += s_r * float(np.sum(sr_i * np.log(yr / mu_r)))
        rows.append({"year": year, "total": total, "between": float(between), "within": float(within)})
    out = pd.DataFrame(rows).set_index("year")
    out["between_share"] = out["between"] / out["total"]
    return out


# ---- convergence ---------------------------------------------------------------------------

def beta_convergence(panel: pd.DataFrame, var: str, start: int, end: int, *, region_effects: bool = False,
                     scheme: Scheme = "region3") -> dict[str, float]:
    """β-convergence: annualised log growth from ``start`` to ``end`` on the initial log level
    (OLS, HC1 SEs, p on t with n − k df); β < 0 means poorer provinces grew faster.  Optionally
    with region effects (conditional convergence).

    The half-life follows Barro & Sala-i-Martin (1992): over T = ``end`` − ``start`` years the
    annualised growth has slope β = −(1 − e^(−λT))/T in the initial log level, so the speed of
    convergence is λ = −ln(1 + βT)/T and the half-life ln 2/λ (missing unless −1/T < β < 0)."""
    import statsmodels.api as sm

    p = panel
    a = p.xs(start, level="year")[var]
    b = p.xs(end, level="year")[var]
    df = pd.DataFrame({"growth": (np.log(b) - np.log(a)) / (end - start), "log_initial": np.log(a),
                       "region": p.xs(start, level="year")[scheme]}).dropna()
    X = df[["log_initial"]]
    if region_effects:
        X = X.join(pd.get_dummies(df["region"], drop_first=True, dtype=float))
    # t on n − k df, as lm with coeftest and an HC1 vcov
    fit = sm.OLS(df["growth"], sm.add_constant(X)).fit(cov_type="HC1", use_t=True)
    beta = float(fit.params["log_initial"])
    speed = convergence_speed(beta, end - start)
    return {"beta": beta, "se": float(fit.bse["log_initial"]), "p": float(fit.pvalues["log_initial"]),
            "speed": speed, "half_life_years": float(np.log(2) / speed),
            "n": int(fit.nobs), "r2": float(fit.rsquared)}


def convergence_speed(beta: float, years: int) -> float:
    """The speed of convergence λ = −ln(1 + β·years)/years implied by a β-convergence slope over
    ``years`` (Barro & Sala-i-Martin 1992); NaN unless −1/years < β < 0 (no convergence, or
    overshooting: at β = −1/years every province would end at one level, an infinite speed)."""
    return float(-np.log(1 + beta * years) / years) if -1 / years < beta < 0 else float("nan")


def sigma_convergence(panel: pd.DataFrame, var: str) -> pd.Series:
    """σ-convergence: cross-province standard deviation of log ``var`` per year (unweighted)."""
    p = panel.reset_index().dropna(subset=[var])
    return p.groupby("year")[var].apply(lambda s: float(np.log(s).std(ddof=1))).rename("sd_log")


# ---- panel regressions ---------------------------------------------------------------------

def spending_panel(panel: pd.DataFrame, start: int = 2010, end: int = 2023) -> pd.DataFrame:
    """Balanced panel for the spending regression: log education spending per head, log GDP per
    head, urbanization (%), indexed by (province code, year)."""
    p = panel
    df = pd.DataFrame({
        "log_edu_pc": np.log(p["edu_exp_per_capita_yuan"]),
        "log_gdp_pc": np.log(p["gdp_per_capita_yuan"]),
        "urban_rate": p["urban_rate_pct"],
        "province": p["province"],
        "region3": p["region3"],
    })
    years = df.index.get_level_values("year")
    return df[(years >= start) & (years <= end)].dropna()


def panel_regressions(df: pd.DataFrame, *, y: str = "log_edu_pc",
                      x: tuple[str, ...] = ("log_gdp_pc", "urban_rate"), wild_reps: int = 999,
                      seed: int = 20200601) -> dict[str, pd.DataFrame | dict]:
    """PanelOLS with entity and time effects (clustered by entity) with a wild cluster bootstrap
    (its p-values and percentile-t limits do not depend on the SE's small-sample factor),
    RandomEffects and BetweenOLS for comparison, and a Hausman test of FE against RE.

    p-values and 95 % intervals use t with G − 1 df (G provinces) for the clustered models and
    G − K for the between model, as the package's other models do.
    Returns ``{"coefficients": tidy frame, "hausman": {...}, "wild": frame}``.
    """
    from linearmodels.panel import BetweenOLS, PanelOLS, RandomEffects
    from scipy import stats

    from analysis.estimation.regression import wild_cluster_bootstrap
    from analysis.estimation.results import inference

    X = df[list(x)]
    # clustered by province with the Stata/xtreg small-sample factor G/(G-1)·(N-1)/(N-K), K the
    # slopes (effects are absorbed and nested in the clusters), as plm vcovHC(type = "sss")
    fe = PanelOLS(df[y], X, entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=True, auto_df=False,
        count_effects=False, group_debias=True)
    Xc = X.assign(const=1.0)[["const", *x]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        re = RandomEffects(df[y], Xc).fit(cov_type="clustered", cluster_entity=True)
        be = BetweenOLS(df[y], Xc).fit(cov_type="robust")
        re_u = RandomEffects(df[y], Xc).fit()
        fe_u = PanelOLS(df[y], X, entity_effects=True).fit()
    # inference on the package's convention (analysis.estimation.regression): t with G − 1 df
    # for the province-clustered models, N − K for the between model's HC1 (linearmodels' own
    # p-values use N − K, or the normal, in every case)
    G = int(df.index.get_level_values(0).nunique())
    rows = []
    for name, r, dof in (("PanelOLS (province + year effects)", fe, G - 1), ("RandomEffects", re, G - 1),
                         ("BetweenOLS", be, G - len(x) - 1)):
        est, se = r.params[list(x)].to_numpy(float), r.std_errors[list(x)].to_numpy(float)
        lo, hi, p = inference(est, se, dof)
        for j, t in enumerate(x):
            rows.append({"model": name, "term": t, "estimate": float(est[j]), "se": float(se[j]),
                         "ci_low": float(lo[j]), "ci_high": float(hi[j]), "p": float(p[j]), "n": int(r.nobs)})
    # Hausman (one-way FE vs RE, conventional covariances): H = d' (V_fe - V_re)^-1 d
    d = (fe_u.params[list(x)] - re_u.params[list(x)]).to_numpy()
    Vd = fe_u.cov.loc[list(x), list(x)].to_numpy() - re_u.cov.loc[list(x), list(x)].to_numpy()
    H = float(d @ np.linalg.pinv(Vd) @ d)
    hausman = {"statistic": H, "df": len(x), "p": float(stats.chi2.sf(H, len(x)))}
    # wild cluster bootstrap of the two-way FE model (dummies for provinces and years)
    ent = df.index.get_level_values(0).to_numpy()
    yr = df.index.get_level_values(1).to_numpy()
    D = np.column_stack([np.ones(len(df)), X.to_numpy(float),
                         pd.get_dummies(ent, drop_first=True, dtype=float).to_numpy(),
                         pd.get_dummies(yr, drop_first=True, dtype=float).to_numpy()])
    wild = wild_cluster_bootstrap(df[y].to_numpy(float), D, np.ones(len(df)), ent,
                                  list(range(1, 1 + len(x))), reps=wild_reps, weights="webb", seed=seed)
    wild.insert(0, "term", list(x))
    return {"coefficients": pd.DataFrame(rows), "hausman": hausman, "wild": wild.drop(columns="j")}


# ---- survey waves as a province × wave panel -----------------------------------------------

def survey_panel(studies: list, *, covariates: tuple[str, ...] = ("internet_use", "education", "log_income")
                 ) -> pd.DataFrame:
    """Province × wave panel of design-weighted province means: the overall score and covariates.

    ``studies``: :class:`analysis.estimation.study.Study` objects (two or more, with years).
    """
    rows = []
    for st in studies:
        w = st.wave
        v = st.villagers
        v = v.assign(overall=st.scores["overall"],                 # log over positive incomes only
                     log_income=np.log(v["hh_income"].where(v["hh_income"] > 0)))
        wt = w.design_columns["weight"]
        for prov, d in v.groupby("province_en"):
            rec = {"province": prov, "wave": int(w.spec.year or 0), "n": len(d)}
            for c in ("overall", *covariates):
                ok = d[c].notna() & d[wt].notna()
                w_ok = d.loc[ok, wt]        # a province where nobody answered the item: no mean
                rec[c] = float(np.average(d.loc[ok, c], weights=w_ok)) if w_ok.sum() > 0 else np.nan
            rows.append(rec)
    return pd.DataFrame(rows).set_index(["province", "wave"]).sort_index()


class PanelAbsorbed(ValueError):
    """No covariate changes within a province between the waves beyond what the year effects take
    (the same province means in each wave, say): the fixed-effects model has nothing to learn from."""

    def __init__(self, x: tuple[str, ...]) -> None:
        super().__init__(f"the panel's covariates ({', '.join(x)}) do not change within the provinces "
                         "between the waves beyond the year effects: the fixed effects absorb them")
        self.x = x


class PanelNotEstimable(ValueError):
    """Too few provinces are surveyed in two or more waves for the fixed-effects model: their
    changes between waves are all it learns from (a province of one wave is absorbed whole)."""

    def __init__(self, shared: int, need: int) -> None:
        super().__init__(f"the panel models need {need} or more provinces surveyed in two or more "
                         f"waves; these waves share {shared}")
        self.shared, self.need = shared, need


def survey_panel_models(panel: pd.DataFrame, *, y: str = "overall",
                        x: tuple[str, ...] = ("internet_use", "education", "log_income")) -> dict:
    """PanelOLS (entity + time effects, clustered by province), RandomEffects and a Hausman test on
    a province × wave panel of two or more waves; :class:`PanelNotEstimable` when fewer than
    ``len(x) + 2`` provinces are surveyed in two or more of them (waves of other provinces)."""
    # a province-wave without a mean of one variable (nobody there answered it) is left out
    panel = panel.dropna(subset=[y, *x])
    if panel.index.get_level_values("wave").nunique() < 2:
        raise ValueError("a survey panel needs two or more waves")
    waves_of = panel.groupby(level="province").size()
    shared, need = int((waves_of >= 2).sum()), len(x) + 2
    if shared < need:
        raise PanelNotEstimable(shared, need)
    from linearmodels.panel.utility import AbsorbingEffectError

    # a covariate that changes within no province beyond the year effects (a follow-up carrying a
    # baseline's means forward): the fixed effects absorb it, the models are fitted without it
    absorbed = absorbed_covariates(panel, x)
    kept = tuple(c for c in x if c not in absorbed)
    if not kept:
        raise PanelAbsorbed(absorbed)
    try:
        out = panel_regressions(panel, y=y, x=kept, wild_reps=SURVEY_PANEL_WILD_REPS)
    except AbsorbingEffectError:
        raise PanelAbsorbed(kept) from None
    out["absorbed"] = absorbed
    return out


def absorbed_covariates(panel: pd.DataFrame, x: tuple[str, ...], *, tol: float = 1e-10) -> tuple[str, ...]:
    """The covariates of a province × wave panel that province and wave effects explain whole: their
    residual sum of squares on the two sets of dummies is below ``tol`` times their centred sum of
    squares, or they are constant (a centred sum of squares at rounding level), so a two-way
    fixed-effects model learns nothing from them."""
    ent = pd.get_dummies(panel.index.get_level_values(0), dtype=float).to_numpy()
    yr = pd.get_dummies(panel.index.get_level_values(1), drop_first=True, dtype=float).to_numpy()
    D = np.column_stack([ent, yr])
    out = []
    for c in x:
        v = panel[c].to_numpy(float)
        r = v - D @ np.linalg.lstsq(D, v, rcond=None)[0]
        ss = float(((v - v.mean()) ** 2).sum())
        if ss <= 1e-24 * float(v @ v) or float(r @ r) <= tol * ss:
            out.append(c)
    return tuple(out)


SURVEY_PANEL_WILD_REPS = 199
"""Replicates of the wild bootstrap of the survey panel (the comparison page): few provinces, a
quick check beside the clustered SEs; its seed is :func:`panel_regressions`' default."""
