"""The official-statistics page (book/provinces.md): real province data — disparities,
convergence, panel regressions. Nothing here comes from a survey wave except the year matched."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.frames import covariate_year
from analysis.i18n import N_, _, lang, province
from analysis.ingest.provinces import resolve


def panel(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The official province × year panel the study carries."""
    return study.official


def year(study) -> int:  # type: ignore[no-untyped-def]
    """The year of official statistics matched to the wave (its own, or the nearest available)."""
    return int(covariate_year(study))


def maps(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Maps of urbanization and public budget spending per head in the matched year."""
    from analysis.publishing import figures

    y = year(study)
    p = panel(study).xs(y, level="year")
    nd = _("no data (not in the NBS provincial series)")
    return {"fig_map_urban": figures.china_map(p["urban_rate_pct"], label=_("urbanization rate {y} (%)").format(y=y),
                                               cmap="magma_r", title=_("Urbanization rate, {y}").format(y=y),
                                               missing_note=nd, fmt="{:.1f} %"),
            "fig_map_spending": figures.china_map(p["fiscal_exp_per_capita_yuan"] / 1000,
                                                  label=_("public budget spending per head {y} (1000 yuan)").format(y=y),
                                                  cmap="viridis",
                                                  title=_("Public budget spending per head, {y}").format(y=y),
                                                  missing_note=nd, fmt="{:.1f}k")}


def stats(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Numbers for the page (glued): all from official statistics."""
    from analysis.estimation.panel import beta_convergence, sigma_convergence, theil

    p = panel(study)
    years = sorted(set(p.index.get_level_values("year")))
    first, last = years[0], years[-1]
    y = year(study)
    py = p.xs(y, level="year")
    t = theil(p, "fiscal_exp_per_capita_yuan", "region3")
    b = beta_convergence(p, "fiscal_exp_per_capita_yuan", first, last)
    bc = beta_convergence(p, "fiscal_exp_per_capita_yuan", first, last, region_effects=True)
    sg = sigma_convergence(p, "edu_exp_share_pct").dropna()
    sh, tb = py.loc[310000], py.loc[540000]
    g = py["gdp_per_capita_yuan"].dropna()
    top, bottom = resolve(int(g.idxmax())).name_en, resolve(int(g.idxmin())).name_en
    return {"gdppc_top": float(g.max()), "gdppc_top_name": top, "gdppc_bottom": float(g.min()),
            "gdppc_bottom_name": bottom,"real_year": y, "real_first": first, "real_last": last,
            "urban_sh": float(sh["urban_rate_pct"]), "urban_tb": float(tb["urban_rate_pct"]),
            "gdppc_ratio": float(sh["gdp_per_capita_yuan"] / tb["gdp_per_capita_yuan"]),
            "theil_first": float(t.loc[first, "total"]), "theil_last": float(t.loc[last, "total"]),
            "theil_between_share_last": 100 * float(t.loc[last, "between_share"]),
            "beta": b["beta"], "beta_se": b["se"], "beta_p": b["p"], "beta_half_life": b["half_life_years"],
            "beta_cond": bc["beta"], "beta_cond_se": bc["se"],
            "sigma_edu_first": float(sg.iloc[0]), "sigma_edu_last": float(sg.iloc[-1]),
            "sigma_edu_first_year": int(sg.index[0]), "sigma_edu_last_year": int(sg.index[-1])}


def figures_(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Trend figures of the page."""
    from analysis.estimation.panel import regional_means, sigma_convergence, theil
    from analysis.publishing import figures

    p = panel(study)
    m = regional_means(p, "fiscal_exp_per_capita_yuan", "region4") / 1000
    return {"fig_real_regional": figures.lines(m, ylabel="1000 yuan per head",
                                               title="Public budget spending per head by region (NBS four regions)"),
            "fig_real_theil": figures.theil_plot(theil(p, "fiscal_exp_per_capita_yuan", "region3"),
                                                 title="Inequality of spending per head across provinces"),
            "fig_real_sigma": figures.lines(pd.DataFrame({
                N_("sd of log education share"): sigma_convergence(p, "edu_exp_share_pct").dropna(),
                N_("sd of log spending per head"): sigma_convergence(p, "fiscal_exp_per_capita_yuan")}),
                ylabel="cross-province SD of logs", title="σ-convergence", palette={})}


PANEL_MODELS = {"PanelOLS (province + year effects)": N_("two-way fixed effects (province, year)"),
                "RandomEffects": N_("random effects"), "BetweenOLS": N_("between (province means)")}


def readers_panel_table(coefficients: pd.DataFrame,  # type: ignore[no-untyped-def]
                        term_label) -> pd.DataFrame:
    """A panel models' table as the pages show it: the report's names of the models, each term as
    ``term_label`` names it, and each model's count of observations (province-years or province
    means), not of respondents."""
    return coefficients.assign(
        model=lambda d: d["model"].map(lambda m: _(PANEL_MODELS.get(m, m))),
        term=lambda d: d["term"].map(term_label)).rename(columns={"n": "observations"})


def regressions(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Panel regressions on the real province panel (tables and Hausman test), with readers'
    names for the models and terms, and each model's observations (province-years for the fixed-
    and random-effects models, province means for the between model)."""
    from analysis.estimation.panel import panel_regressions, spending_panel
    from analysis.publishing.labels import column_label

    sp = spending_panel(panel(study))
    pr = dict(panel_regressions(sp))
    yrs = sp.index.get_level_values("year")
    h = pr["hausman"]
    pr["panel_sentence"] = _("{n} provinces × {first}–{last}").format(
        n=sp.index.get_level_values(0).nunique(), first=yrs.min(), last=yrs.max())
    pr["hausman_sentence"] = (_("rejects the random-effects assumption at the 5 % level") if h["p"] < 0.05
                              else _("does not reject the random-effects assumption at the 5 % level"))
    pr["coefficients"] = readers_panel_table(pr["coefficients"], column_label)
    pr["wild"] = pr["wild"].assign(term=lambda d: d["term"].map(column_label))
    at = pr["wild"].attrs
    pr["wild_reps"] = int(at["reps"])
    pr["wild_title"] = _("Two-way FE: wild cluster bootstrap ({weights} weights, {reps} draws, {clusters} "
                         "clusters)").format(weights=str(at["weights"]).capitalize(), reps=at["reps"],
                                             clusters=at["clusters"])
    pr["wild_note"] = _("Wild p: the null β = 0 imposed (WCR); interval: percentile-t without it (WCU); near "
                        "the 5 % level the two can disagree.")
    return pr


# ---- education and labour (NBS series, province totals) -------------------------------------

MISSING_SERIES = (
    N_("rural per-capita disposable income by province"),
    N_("township hospitals, village clinics and village doctors; health technicians and beds per 1,000"),
    N_("participants in the urban-rural residents' basic pension (城乡居民基本养老保险) and rural "
       "minimum-living-guarantee (农村低保) recipients"),
    N_("township cultural stations and their use"),
    N_("rural broadband and internet use"),
    N_("teachers and student–teacher ratios of rural schools (the series above are province totals)"))
"""Real series a five-field official index of rural public services would need, looked for and
not found as public province × year files."""


def services_stats(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Numbers of the education and labour section (glued): first and last year with data, the
    national primary student–teacher ratio (all pupils over all teachers), the highest and lowest
    province."""
    from analysis.ingest.official import weight_of

    p = panel(study)
    if "primary_student_teacher_ratio" not in p:
        return {}
    w = weight_of("primary_student_teacher_ratio")            # the teachers: the ratio of the totals
    r = p[["primary_student_teacher_ratio", w]].dropna()
    years = sorted(set(r.index.get_level_values("year")))
    first, last = years[0], years[-1]

    def national(y: int) -> float:
        d = r.xs(y, level="year")
        return float(np.average(d["primary_student_teacher_ratio"], weights=d[w]))

    lastp = r.xs(last, level="year")["primary_student_teacher_ratio"]
    u = p["urban_registered_unemployment_rate_pct"].dropna()
    y06 = p.xs(2006, level="year") if 2006 in set(p.index.get_level_values("year")) else p.iloc[0:0]
    shuffled = int((y06["primary_student_teacher_ratio"].isna() & y06["primary_enrolment_10k"].notna()).sum())
    return {"svc_first": first, "svc_last": last, "str_first": national(first), "str_last": national(last),
            "str_top": float(lastp.max()),
            "str_top_name": province(resolve(int(lastp.idxmax())).name_en),
            "str_bottom": float(lastp.min()),
            "str_bottom_name": province(resolve(int(lastp.idxmin())).name_en),
            "unemp_last_year": int(max(u.index.get_level_values("year"))), "str_2006_missing": shuffled}


def services_figures(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Primary student–teacher ratio (each region's pupils over its teachers) and urban registered
    unemployment (population-weighted) by region, 2005–2022, the unemployment break marked."""
    from analysis.estimation.panel import regional_means
    from analysis.ingest.official import BREAK_YEAR, weight_of
    from analysis.publishing import figures

    p = panel(study)
    col = "primary_student_teacher_ratio"
    st = regional_means(p, col, "region4", weight=weight_of(col), complete=True)
    un = regional_means(p, "urban_registered_unemployment_rate_pct", "region4", complete=True)
    return {"fig_real_str": figures.lines(st, ylabel="pupils per full-time teacher",
                                          title="Primary schools: pupils per teacher, by region"),
            "fig_real_unemp": figures.lines(un, ylabel="% of the urban labour force",
                                            title="Urban registered unemployment rate, by region",
                                            break_year=BREAK_YEAR, break_label="registration break")}


def missing_series_markdown() -> str:
    """The list of real series a five-field official index would need and that were not found."""
    end, last = ("；", "。") if lang() == "zh" else (";", ".")
    return "\n".join(f"- {_(m)}{end if i < len(MISSING_SERIES) - 1 else last}"
                      for i, m in enumerate(MISSING_SERIES))
