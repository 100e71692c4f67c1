"""The comparison page (book/compare.md, with ``ruralgov build --compare``): waves side by side in
year order, and province × wave panel models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.i18n import N_, _, list_sep, plural
from analysis.publishing.disclosure import DisclosurePolicy, published


def in_year_order(studies: list) -> list:  # type: ignore[type-arg]
    """Studies sorted by survey year (waves without a year last, then by id)."""
    return sorted(studies, key=lambda s: (s.year is None, s.year or 0, s.wave.id))


def synthetic_warning(studies: list) -> str:  # type: ignore[type-arg]
    """A warning admonition naming the synthetic waves among those compared ("" when none is), in
    the edition being written."""
    syn = [s.wave.id for s in studies if s.wave.synthetic]
    if not syn:
        return ""
    text = plural(len(syn), N_("**Synthetic data.** {waves} is a synthetic wave: comparisons involving "
                               "synthetic data illustrate the method only."),
                  N_("**Synthetic data.** {waves} are synthetic waves: comparisons involving synthetic "
                     "data illustrate the method only."))
    return ":::{warning}\n" + text.format(waves=list_sep().join(f"`{s}`" for s in syn)) + "\n:::"


def table(studies: list) -> pd.DataFrame:  # type: ignore[type-arg]
    """Degree by region (and overall) in each wave, with CIs; each wave under its own policy, and
    a degree on fewer than 8 design df or with a relative SE of 30 % or more flagged (†), as in
    every other table of degrees."""
    from analysis.publishing.reliability import flag_means

    frames = []
    for st in in_year_order(studies):
        pol = DisclosurePolicy.for_study(st)
        for by in (None, "region3"):
            e = st.degree(by=by).to_frame()
            e = e.assign(wave=st.wave.id, year=st.year, region="all" if by is None else e["domain"])
            e = e[["wave", "year", "region", "estimate", "se", "ci_low", "ci_high", "n", "n_psu", "df"]]
            frames.append(flag_means(pol.apply(e)).drop(columns=["se", "df"]))
    return pd.concat(frames, ignore_index=True)


def figure(studies: list):  # type: ignore[no-untyped-def, type-arg]
    """Degree by region across waves, in year order."""
    import matplotlib.pyplot as plt

    from analysis.publishing import figures

    figures.set_theme()
    ordered = in_year_order(studies)
    t = published(table(studies))
    pos = {st.wave.id: i for i, st in enumerate(ordered)}
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    groups = list(t.groupby("region", sort=True))
    for k, (region, d) in enumerate(groups):       # the series side by side, centred on each wave
        x = d["wave"].map(pos).to_numpy() + (k - (len(groups) - 1) / 2) * 0.08
        ax.errorbar(x, d["estimate"], yerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                    fmt="o-", capsize=3, label=figures.series_label(region),
                    color=figures.REGION_COLORS.get(region, "#444"))
    ax.set_xticks(np.arange(len(ordered)), [s.wave.id if s.year is None else f"{s.wave.id}\n({s.year})"
                                            for s in ordered])      # a wave without a year: its id alone
    ax.set_ylabel(_("modernization degree (0–100)"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figures.attach(fig, t)              # its data beneath it, as every figure's


PANEL_ITEMS = ("internet_use", "education", "hh_income")
"""The items the panel's covariates come from (log income from household income)."""


def panel_lacks(studies: list) -> list[str]:  # type: ignore[type-arg]
    """What the panel models need that a compared wave lacks ("wave: item"), in year order: an item
    not in the wave, or in it without a single answer."""
    return [f"{st.wave.id}: {item}" for st in in_year_order(studies) for item in PANEL_ITEMS
            if item not in st.villagers or not st.villagers[item].notna().any()]


def panel_note(lacks: list[str]) -> str:
    """Why the panel models are not estimated: the items a wave lacks, named."""
    missing = _("; ").join(_("{what} is missing").format(what=x) for x in lacks)
    return _("The panel models need {items} in every wave; not estimated, as {lacks}.").format(
        items=list_sep().join(PANEL_ITEMS), lacks=missing)


def panel_models(studies: list) -> dict:  # type: ignore[type-arg]
    """Province × wave panel models (two or more waves with distinct years); ``{"lacks": [...]}``
    instead when a wave lacks an item they need (:func:`panel_lacks`), ``{"note": ...}`` when the
    waves share too few provinces to estimate them (waves of other provinces), or when no covariate
    changes within the provinces they share (a follow-up repeating a wave's province means)."""
    from analysis.estimation.panel import PanelAbsorbed, PanelNotEstimable, survey_panel, survey_panel_models

    lacks = panel_lacks(studies)
    if lacks:
        return {"lacks": lacks}
    try:
        out = survey_panel_models(survey_panel(in_year_order(studies)))
    except PanelNotEstimable as e:
        return {"note": _("The panel models need {need} or more provinces surveyed in two or more of the "
                          "waves (their changes between waves are what the fixed effects learn from); these "
                          "waves share {n}: not estimated.").format(need=e.need, n=e.shared)}
    except PanelAbsorbed:
        return {"note": _("The panel models learn from the changes of the province means between waves; "
                          "in the provinces these waves share, no covariate changes beyond what the year "
                          "effects take: not estimated.")}
    # readers' names, as on the provinces page: the models', the variables' (the first wave's labels),
    # and the count of province-waves (or province means) each model rests on, not of respondents
    from analysis.estimation.frames import labels
    from analysis.report.pages.provinces import readers_panel_table

    named = labels(in_year_order(studies)[0])
    out["coefficients"] = readers_panel_table(out["coefficients"], lambda t: str(named.get(t, t)))
    out["absorbed"] = tuple(str(named.get(c, c)) for c in out["absorbed"])
    return out


def hausman_note(h: dict) -> str:  # type: ignore[type-arg]
    """The Hausman test beside the panel models' table, its p-value as every p-value of the report
    is written ("< 0.001" below 0.001)."""
    from analysis.publishing.formats import fmt_p, p_words

    return _("Hausman test, fixed vs random effects: statistic {stat:.2f}, {df} df, p {p}.").format(
        stat=h["statistic"], df=h["df"], p=p_words(fmt_p(h["p"])))


def absorbed_note(pm: dict) -> str:  # type: ignore[type-arg]
    """What the panel models leave out (covariates that change within no shared province beyond the
    year effects), named; "" when they leave out nothing."""
    absorbed = pm.get("absorbed") or ()
    if not absorbed:
        return ""
    return plural(len(absorbed),
                  N_("In the provinces these waves share, {names} changes only as the year effects take "
                     "it: the fixed effects absorb it, and the panel models are fitted without it."),
                  N_("In the provinces these waves share, {names} change only as the year effects take "
                     "them: the fixed effects absorb them, and the panel models are fitted without them.")
                  ).format(names=list_sep().join(absorbed))
