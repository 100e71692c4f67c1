"""A province's profile page (generated per province by :mod:`analysis.report.profiles`): its
degree and rank interval, its field and aspect profile against the nation, the problems its
respondents name, and its real official statistics against its region and the nation.

Every survey number passes the wave's disclosure policy: a province below it shows the reason
and its official statistics, never a survey number.

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.report.pages.profile import survey_status
>>> survey_status(build_study("2020-replica"), 540000)["status"]
'published'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.design import answered
from analysis.i18n import N_, _, bilingual, count, reasons
from analysis.ingest.official import weight_of
from analysis.ingest.provinces import resolve
from analysis.publishing.disclosure import published
from analysis.publishing.reliability import CELL_FLAGS
from analysis.report.pages.common import degree_table, policy, province_degrees, published_province_names

OFFICIAL_SERIES = {
    "urban_rate_pct": N_("urbanization (%)"),
    "gdp_per_capita_yuan": N_("GDP per head (yuan)"),
    "fiscal_exp_per_capita_yuan": N_("public spending per head (yuan)"),
    "edu_exp_share_pct": N_("education share of spending (%)"),
    "primary_student_teacher_ratio": N_("pupils per primary teacher"),
    "urban_registered_unemployment_rate_pct": N_("urban registered unemployment (%)"),
}
"""The official series of a profile, with the reader's label (province totals, NBS)."""


def survey_status(study, adcode: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The province in the survey: ``status`` is "absent" (no respondents in the wave),
    "suppressed" (with ``reason``) or "published" (with the degree, CI, PSUs, df, flag and, when
    the rank bootstrap is given, the rank interval)."""
    p = resolve(adcode)
    t = province_degrees(study)
    row = t[t["province"] == p.name_en]
    if row.empty:
        return {"status": "absent", "n": 0}
    r = row.iloc[0]
    if r["suppressed"]:
        return {"status": "suppressed", "reason": str(r["suppressed"]), "n": int(r["n"])}
    return {"status": "published", "estimate": float(r["estimate"]), "ci_low": float(r["ci_low"]),
            "ci_high": float(r["ci_high"]), "n": int(r["n"]), "n_psu": int(r["n_psu"]),
            "df": int(r["df"]), "flag": str(r.get("flag", "") or ""),
            "n_published": int(len(published(t)))}


def survey_tables(study, adcode: int) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """The survey's tables on a province's profile: its sub-indices (``levels``) and the problems
    its villagers name (``problems``), each beside the nation's, except on a wave of this province
    alone (the nation's column would repeat it); none for a province without respondents or
    withheld under the disclosure policy (its page gives the reason only)."""
    if survey_status(study, adcode)["status"] != "published":
        return {}
    tables = {"levels": levels_table(study, adcode), "problems": problems_table(study, adcode)}
    if only_province(study):
        tables = {k: t.drop(columns=["national"]) for k, t in tables.items()}
    return tables


def published_provinces(study) -> frozenset[int]:  # type: ignore[no-untyped-def]
    """The adcodes of the provinces whose survey results the wave publishes."""
    t = published(province_degrees(study))
    return frozenset(resolve(name).adcode for name in t["province"])


def only_province(study) -> bool:  # type: ignore[no-untyped-def]
    """Whether the wave's respondents all live in one province (its figures are the nation's)."""
    return study.villagers["province_en"].nunique() == 1


def survey_table_titles(study, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The titles of :func:`survey_tables`' tables for the province called ``name``."""
    if only_province(study):
        return {"levels": _("Field and aspect sub-indices (0–100): {name}").format(name=name),
                "problems": _("Problems villagers name (% of respondents): {name}").format(name=name)}
    return {"levels": _("Field and aspect sub-indices (0–100): {name} and the nation").format(name=name),
            "problems": _("Problems villagers name (% of respondents): {name} and the nation").format(
                name=name)}


def rank(study, adcode: int, replicates: pd.DataFrame) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median rank and 95 % interval among the publishable provinces (empty when not publishable)."""
    from analysis.estimation.sensitivity import rank_intervals

    name = resolve(adcode).name_en
    ok = [p for p in published_province_names(study) if p in replicates.columns]
    if name not in ok:
        return {}
    r = rank_intervals(replicates[ok]).loc[name]
    return {"median_rank": float(r["median_rank"]), "rank_low": float(r["rank_low"]),
            "rank_high": float(r["rank_high"]), "n_ranked": len(ok)}


def summary_sentence(study, adcode: int, replicates: pd.DataFrame) -> str:  # type: ignore[no-untyped-def]
    """The survey part in one sentence (Markdown), or why there is none."""
    from analysis.publishing.formats import fmt_rank

    s = survey_status(study, adcode)
    p = resolve(adcode)
    name = bilingual(p.name_en, p.name_zh_full)
    if s["status"] == "absent":
        return _("The wave has no respondents in {name}: this page shows official statistics only.").format(name=name)
    if s["status"] == "suppressed":
        return _("{name}'s survey results are not published: {reason} (the wave's disclosure rule); this page "
                 "shows official statistics only. ‡").format(name=name, reason=reasons(s["reason"]))
    psus = count(s["n_psu"], N_("{n} PSU"), N_("{n} PSUs"))
    dfs = count(s["df"], N_("{n} design degree of freedom"), N_("{n} design degrees of freedom"))
    out = _("The modernization degree in {name} is **{est:.1f}** (95 % CI {lo:.1f}–{hi:.1f}; {n} respondents "
            "in {psus}, {dfs}).").format(
        name=name, est=s["estimate"], lo=s["ci_low"], hi=s["ci_high"], n=s["n"], psus=psus, dfs=dfs)
    if s["flag"]:
        out += _(" † To be read with care: {why}.").format(why=reasons(s["flag"]))
    rk = rank(study, adcode, replicates)
    if rk and rk["n_ranked"] > 1:           # a rank among one is no comparison: said of no province
        out += _(" Among the {n} publishable provinces its median rank is {rank}, with a 95 % bootstrap "
                 "interval from {low} to {high}.").format(n=rk["n_ranked"], rank=fmt_rank(rk["median_rank"]),
                                                          low=fmt_rank(rk["rank_low"]), high=fmt_rank(rk["rank_high"]))
    return out


def levels_table(study, adcode: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Field and aspect sub-indices of the province beside the nation's (suppressed cells marked,
    estimates on few design df or with a large relative SE flagged †, as everywhere)."""
    name = resolve(adcode).name_en
    cb = study.wave.codebook
    rows = []
    for kind, levels, names in (("field", study.index.fields, cb.fields), ("aspect", study.index.aspects, cb.aspects)):
        for lv in levels:
            t = degree_table(study, "province_en", level=lv)
            row = t[t["province_en"] == name]
            nat = degree_table(study, None, level=lv).iloc[0]   # as the index page publishes it
            zh, en = names[lv]
            rec = {"level": (_("field: {name}") if kind == "field" else _("aspect: {name}")).format(
                name=bilingual(en, zh)), "national": float(nat["estimate"]),
                "national_suppressed": nat["suppressed"], "national_flag": nat["flag"]}
            if row.empty:
                rec.update({"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0, "n_psu": 0,
                            "suppressed": _("no respondents"), "flag": ""})
            else:
                r = row.iloc[0]
                rec.update({k: r[k] for k in ("estimate", "ci_low", "ci_high", "n", "n_psu", "suppressed",
                                              "flag")})
            rows.append(rec)
    return _with_national(pd.DataFrame(rows), ["level", "estimate", "ci_low", "ci_high", "national", "n",
                                                "n_psu", "suppressed", "flag"])


def _with_national(t: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``t``'s ``columns``; a national value the nation's own table withholds is withheld here for
    its reason, and one it flags keeps its † (a cell flag: the row's † is the province's)."""
    t = t.assign(suppressed=[p or q for p, q in zip(t["suppressed"], t["national_suppressed"])])
    out = t[columns].copy()
    out.attrs[CELL_FLAGS] = {"national": ["" if q else str(f) for f, q in
                                          zip(t["national_flag"], t["national_suppressed"])]}
    return out


def problems_table(study, adcode: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The problems villagers name (Table 1 items of the villager questionnaire): the province's
    design-based share beside the nation's; suppressed under the disclosure policy, then under the
    NCHS standard for proportions (effective sample size, interval width; as on the problems
    page), and flagged † on few design df."""
    from analysis.publishing.reliability import nchs_proportions

    from analysis.report.pages.problems import table1

    name = resolve(adcode).name_en
    v, d = study.villagers, study.design
    t1 = table1(study)          # the nation's shares as the problems page publishes them
    t1 = t1[t1["base"].str.startswith("villager") & (t1["n"] > 0)]
    pol = policy(study)
    rows = []
    for r in t1.itertuples():
        # the answer Table 1 counts, among those who answered
        e = d.proportion(answered(v[r.item].to_numpy(float), r.value), by=v["province_en"])
        doms = list(e.domains)
        rec = {"field": r.field, "problem": r.problem, "national": float(r.estimate),
               "national_suppressed": r.suppressed, "national_flag": r.flag}
        if name not in doms:
            rec.update({"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0,
                        "n_psu": 0, "df": np.nan, "suppressed": "no respondents"})
        else:
            i = doms.index(name)
            lo, hi = e.ci
            rec.update({"estimate": 100 * float(e.estimate[i]), "se": 100 * float(e.se[i]),
                        "ci_low": 100 * float(lo[i]), "ci_high": 100 * float(hi[i]), "n": int(e.n[i]),
                        "n_psu": int(e.n_psu[i]), "df": float(e.df[i]), "suppressed": pol.reason(e.n[i], e.n_psu[i])})
        rows.append(rec)
    t = nchs_proportions(pd.DataFrame(rows))      # blanks every suppressed row, for either reason
    return _with_national(t, ["field", "problem", "estimate", "national", "n", "suppressed", "flag"])


def official_table(study, adcode: int) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The province's latest official values beside its region's and the nation's
    (means weighted by each series' denominator, :func:`~analysis.ingest.official.weight_of`:
    the population, or the teachers and the public spending of the two ratios)."""
    p = study.official
    prov = resolve(adcode)
    rows, decimals = [], []
    for col, label in OFFICIAL_SERIES.items():
        if col not in p:
            continue
        s = p[col].dropna()
        if s.empty:
            continue
        decimals.append(0 if col.endswith("_yuan") else 1)       # whole yuan; shares, ratios to 0.1
        y = int(s.index.get_level_values("year").max())
        d = p.xs(y, level="year").dropna(subset=[col])
        wcol = weight_of(col)
        d = d.dropna(subset=[wcol])
        reg = d[d["region4"] == prov.region4]
        rows.append({"series": label, "year": y,
                     "province": float(d.loc[adcode, col]) if adcode in d.index else np.nan,
                     f"region ({prov.region4})": float(np.average(reg[col], weights=reg[wcol])),
                     "nation": float(np.average(d[col], weights=d[wcol]))})
    out = pd.DataFrame(rows)
    out.attrs["row_decimals"] = decimals
    return out


def official_figure(study, adcode: int):  # type: ignore[no-untyped-def]
    """Small multiples 2005–2024: the province against its region and the nation."""
    import matplotlib.pyplot as plt

    from analysis.estimation.panel import regional_means
    from analysis.ingest.official import BREAK_YEAR
    from analysis.publishing import figures

    figures.set_theme()
    p = study.official
    prov = resolve(adcode)
    cols = [c for c in OFFICIAL_SERIES if c in p]
    fig, axes = plt.subplots((len(cols) + 1) // 2, 2, figsize=(7.4, 2.1 * ((len(cols) + 1) // 2) + 0.6),
                             sharex=True)
    drawn = []
    panel_years = p.index.get_level_values("year")
    years = range(int(panel_years.min()), int(panel_years.max()) + 1)
    for ax, col in zip(axes.flat, cols):
        reg = regional_means(p, col, "region4", weight=weight_of(col), complete=True)
        nat = regional_means(p.assign(_all="nation"), col, "_all", weight=weight_of(col), complete=True)["nation"]
        own = p[col].xs(adcode, level="adcode") if adcode in p.index.get_level_values(0) else pd.Series(dtype=float)
        for who, series, label, style in (
                ("province", own, figures.category("province", prov.name_en), {"color": "#b03a2e", "lw": 2.2}),
                ("region", reg.get(prov.region4, pd.Series(dtype=float)),
                 figures._("region ({name})").format(name=figures.category("region", prov.region4)),
                 {"color": "#1b6ca8", "lw": 1.4}),
                ("nation", nat, figures._("nation"), {"color": "#555555", "lw": 1.4, "ls": "--"})):
            s = series.dropna()
            drawn.append(s.rename("value").rename_axis("year").reset_index().assign(series=OFFICIAL_SERIES[col], of=who))
            # every year of the panel on the line: a missing year breaks it rather than being
            # bridged, and each year's dot shows a value between two missing ones
            line = series.reindex(years)
            style = {**style, "marker": "o", "ms": 2.5}
            if col.startswith("urban_registered"):
                for part in (line[line.index < BREAK_YEAR], line[line.index >= BREAK_YEAR]):
                    ax.plot(part.index, part, **style)
            else:
                ax.plot(line.index, line, label=label, **style)
        ax.set_title(figures._(OFFICIAL_SERIES[col]), fontsize=10)
        ax.tick_params(labelsize=9)
    for ax in list(axes.flat)[len(cols):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return figures.attach(fig, pd.concat(drawn, ignore_index=True)[["series", "of", "year", "value"]])
