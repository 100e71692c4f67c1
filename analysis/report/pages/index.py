"""The index page (book/index.md): how the index is built, the degree by region and province,
rank intervals, field and aspect sub-indices."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.i18n import N_, _, bilingual, count, plural, region
from analysis.publishing.disclosure import published
from analysis.report.pages.common import degree_table, policy, province_degrees

NORMALISATION_TEXT = {
    "minmax": N_("bounded min–max on each scale's own bounds (a code c on a 1–5 scale becomes "
                 "100 (c − 1)/4), so that scores are comparable across waves"),
    "zscore": N_("z-scores (50 + 10 z, with the wave's weighted mean and SD of each indicator, cut at 0 "
                 "and 100)"),
    "rank": N_("weighted percentile ranks within the wave"),
    "target": N_("distance to a target code (100 at the target, capped)"),
}
WEIGHTING_TEXT = {"equal": N_("equal weights"), "expert": N_("expert weights (set in the index's settings)"),
                  "entropy": N_("entropy weights (data-driven)"),
                  "pca": N_("weights from the first principal component"),
                  "ahp": N_("AHP weights from pairwise comparisons of the fields")}
AGGREGATION_TEXT = {"arithmetic": N_("weighted arithmetic means"), "geometric": N_("weighted geometric means"),
                    "topsis": N_("TOPSIS closeness to the ideal")}
"""The construction's settings in the reader's words (glued into the index and methods pages, in
the edition's language)."""
RANKS_NEED_TWO = N_("Ranks need at least two publishable provinces; this wave has {n}.")
"""Said in place of ranks (figure and paragraph) where they would compare a province with nothing."""


def method_settings(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The construction as glued prose: normalisation, weighting, aggregation, coverage, replicates."""
    c = study.construction
    u = study.settings.index.uncertainty
    return {"idx_normalisation": _(NORMALISATION_TEXT[c.normalisation]),
            "idx_weighting": _(WEIGHTING_TEXT[c.weighting]), "idx_aggregation": _(AGGREGATION_TEXT[c.aggregation]),
            "idx_version": c.version, "coverage_pct": 100 * c.coverage,
            "rank_reps": u.bootstrap_reps, "rank_seed": u.bootstrap_seed,
            "sens_draws_setting": u.draws, "sens_seed": u.seed,
            "n_fields": len(study.index.fields), "n_indicators": len(study.index.indicators)}


def single_region_text(study, column: str) -> str:  # type: ignore[no-untyped-def]
    """What stands in for the table of the degree by ``column`` (``region3`` or ``region4``) when
    every respondent of the wave lives in one of its regions (a one-row table would repeat the
    wave's own degree); "" when the wave spans two or more."""
    regions = study.villagers[column].dropna().unique()
    if len(regions) != 1:
        return ""
    scheme = _("three regions") if column == "region3" else _("NBS four regions")
    return _("Every respondent of this wave lives in one region ({scheme}): {region}. Its degree by region "
             "is the wave's own degree, so no table is shown.").format(scheme=scheme,
                                                                       region=region(regions[0]))


def province_table(study, replicates: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Province degree with CI, PSUs and df, and the rank interval among the publishable provinces.

    ``replicates``: Rao–Wu bootstrap replicates of the province means
    (:func:`analysis.estimation.sensitivity.domain_replicates`). Ranks are computed among the
    publishable provinces only, so a suppressed province takes no rank position.
    Where fewer than two provinces are publishable the table has no rank columns (a rank among
    one province compares it with nothing) and is ordered by degree.
    """
    from analysis.estimation.sensitivity import rank_intervals

    t = province_degrees(study)
    ok = [p for p in published(t)["province"] if p in replicates.columns]
    if len(ok) >= 2:
        rk = rank_intervals(replicates[ok]).reset_index(names="province")
        t = t.merge(rk, on="province", how="left")
        t = t.sort_values(["median_rank", "estimate"], ascending=[True, False], na_position="last")
    else:
        t = t.sort_values("estimate", ascending=False, na_position="last", kind="stable")
    return policy(study).apply(t.reset_index(drop=True))


def ranked(prov: pd.DataFrame) -> pd.DataFrame:
    """The publishable provinces of :func:`province_table` that have a rank (none without ranks)."""
    shown = published(prov)
    return shown.dropna(subset=["median_rank"]) if "median_rank" in shown else shown.iloc[:0]


def province_table_title(prov: pd.DataFrame) -> str:
    """The province table's title, naming the rank interval only where the table has one."""
    if "median_rank" in prov:
        return _("Provinces: degree, confidence interval, PSUs and rank interval, ordered by median rank")
    return _("Provinces: degree, confidence interval and PSUs, ordered by degree")


def map_caption(prov: pd.DataFrame) -> str:
    """The map's caption: the highest and lowest publishable provinces are outlined only where there
    are two to tell apart (as :func:`province_map` draws them)."""
    if len(published(prov)) >= 2:
        return _("Modernization degree by province; the highest and lowest publishable provinces outlined.")
    return _("Modernization degree by province.")


def subindex_by_region(study, kind: str = "fields") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Design-based mean of each field (or aspect) sub-index by publishable region and overall (when
    the disclosure policy publishes it), labelled in the edition's language (the heat maps and
    their CSV files): the regions in the wave's order, whichever sub-index first publishes one,
    then the nation."""
    levels = study.index.fields if kind == "fields" else study.index.aspects
    names = study.wave.codebook.fields if kind == "fields" else study.wave.codebook.aspects
    rows, order = {}, {}
    for lv in levels:
        full = degree_table(study, "region3", level=lv)
        order.update(dict.fromkeys(region(r) for r in full["region3"]))
        t = published(full)
        zh, en = names[lv]
        row = rows[bilingual(en, zh)] = {region(r): e for r, e in zip(t["region3"], t["estimate"])}
        nat = published(degree_table(study, None, level=lv))     # withheld as the regions are
        if len(nat):
            row[_("all")] = float(nat["estimate"].iloc[0])
    out = pd.DataFrame(rows).T
    return out[[c for c in [*order, _("all")] if c in out.columns]]


NO_SUBINDEX = N_("No sub-index is published for this wave: the disclosure rule withholds every region "
                 "and the nation.")
"""Said in place of a sub-index heat map with no published cell."""


def _heatmap(study, kind: str, title: str):  # type: ignore[no-untyped-def]
    """The heat map of :func:`subindex_by_region`, or a panel saying why there is none."""
    from analysis.publishing import figures

    t = subindex_by_region(study, kind)
    if t.empty or not t.notna().to_numpy().any():
        return figures.placeholder(_(NO_SUBINDEX))
    return figures.heatmap(t, title=title, synthetic=study.wave.synthetic)


def province_map(study):  # type: ignore[no-untyped-def]
    """Map of the publishable province degrees."""
    from analysis.publishing import figures

    t = published(degree_table(study, "province"))
    vals = pd.Series(t["estimate"].to_numpy(), index=[int(x) for x in t["province"]])
    note = (N_("not in the replica / suppressed") if study.wave.synthetic else N_("not surveyed / suppressed"))
    return figures.china_map(vals, label=N_("modernization degree (0–100)"), cmap="viridis",
                             title="Modernization degree by province",
                             missing_note=note, synthetic=study.wave.synthetic)


def rank_paragraph(study, prov: pd.DataFrame) -> str:  # type: ignore[no-untyped-def]
    """The paragraph introducing the rank figure (MyST: it cross-references the figure and the
    glossary), or why no rank is computed where fewer than two provinces are publishable."""
    shown, rk = published(prov), ranked(prov)
    if len(rk) < 2:
        return count(len(shown), N_("Ranks compare provinces with one another, so this wave, with {n} "
                                    "publishable province, has none."),
                     N_("Ranks compare provinces with one another, so this wave, with {n} publishable "
                        "provinces, has none."))
    text = _("A province's rank is uncertain even when its degree is estimated well: "
             "{{numref}}`fig-index-ranks` shows the median rank and its 95 % interval over {reps} "
             "{{term}}`Rao–Wu bootstrap` replicates of the sample (PSUs resampled within strata), among "
             "the {n} publishable provinces.").format(
        reps=study.settings.index.uncertainty.bootstrap_reps, n=len(rk))
    few = int((rk["n_psu"] <= 3).sum())
    if few:
        # a stratum of n PSUs resampled n − 1 at a time has C(2n − 2, n − 1) distinct replicates
        text += " " + plural(few, N_(
            "{k} of them rests on 3 PSUs or fewer: each replicate draws n − 1 of a stratum's n PSUs "
            "with replacement, so its degree takes only 2 distinct values from 2 PSUs in one stratum, "
            "6 from 3, and its rank interval is coarse."), N_(
            "{k} of them rest on 3 PSUs or fewer: each replicate draws n − 1 of a stratum's n PSUs "
            "with replacement, so their degrees take only 2 distinct values from 2 PSUs in one stratum, "
            "6 from 3, and their rank intervals are coarse.")).format(k=few)
    return text


def figures_(study, prov: pd.DataFrame) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The index page's figures: provinces with CIs, rank intervals, sub-index heatmaps, map."""
    from analysis.publishing import figures

    syn = study.wave.synthetic
    shown, rk = published(prov), ranked(prov)
    out = {"fig_index_provinces": figures.estimates_with_ci(
               shown.sort_values("estimate", ascending=False), label="province", hue="region", xlabel="modernization degree (0–100), 95 % CI",
               synthetic=syn),
           "fig_index_ranks": (figures.rank_intervals(rk, synthetic=syn) if len(rk) >= 2 else
                               figures.placeholder(_(RANKS_NEED_TWO).format(n=len(shown)))),
           "fig_index_fields": _heatmap(study, "fields", N_("Field sub-indices by region")),
           "fig_index_aspects": _heatmap(study, "aspects", N_("Aspect sub-indices by region")),
           "fig_index_map": province_map(study)}
    return out
