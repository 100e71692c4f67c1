"""The landing page (book/intro.md): what the wave is, and the headline numbers, all computed
from the wave."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.report.pages.common import headline, region_sentence


def numbers(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Headline numbers and the sentences that depend on what the wave holds (glued)."""
    h = headline(study)
    h["regions_sentence"] = region_sentence(h) or "no region has enough respondents to publish"
    if "top_province" in h:
        h["provinces_sentence"] = (
            f"Among the {h['n_provinces_published']} provinces with enough respondents and villages to "
            f"publish, the degree is highest in {h['top_province']} ({h['top_degree']:.1f}) and lowest "
            f"in {h['bottom_province']} ({h['bottom_degree']:.1f}), a difference of "
            f"{h['top_minus_bottom']:.1f} points (standard error {h['top_minus_bottom_se']:.1f}).")
    else:
        h["provinces_sentence"] = "Fewer than two provinces have enough respondents to publish their degree."
    if "gap_east_west" in h:
        h["gap_sentence"] = (f"The east–west gap is {h['gap_east_west']:.1f} points (standard error "
                             f"{h['gap_east_west_se']:.1f}).")
    else:
        h["gap_sentence"] = ""
    if "shanghai_over_tibet" in h:
        h["seed_sentence"] = (f"The seed paper's own contrast, the degree in Shanghai relative to Tibet, is "
                              f"{h['shanghai_over_tibet']:.1f} on this wave (a ratio of mean scores, as the "
                              "paper reports it).")
    else:
        h["seed_sentence"] = ""
    h["wave_kind"] = ("a calibrated synthetic replica of the seed study's survey" if study.wave.synthetic
                      else "survey microdata")
    return h


SYNTHETIC_LABEL = "*Synthetic replica (illustrates the method):*"
REAL_LABEL = "*Real official statistics:*"


def key_findings(study, models, official: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    """The landing page's key findings: a Markdown list of 4–6 sentences, each computed from the
    wave (or from the official statistics) and linking to the section that shows it. Survey
    findings on a synthetic wave say so; official-statistics findings say they are real."""
    from analysis.publishing.disclosure import published
    from analysis.publishing.formats import fmt_p
    from analysis.report.pages import problems

    h = headline(study)
    lab = f"{SYNTHETIC_LABEL} " if study.wave.synthetic else ""
    out = [f"{lab}the modernization degree is **{h['degree_overall']:.1f}** on a 0–100 scale (95 % CI "
           f"{h['degree_overall_lo']:.1f}–{h['degree_overall_hi']:.1f}, {h['degree_overall_df']} design "
           "degrees of freedom). {doc}`More <index>`"]
    if "top_province" in h:
        out.append(f"{lab}among the {h['n_provinces_published']} publishable provinces the degree ranges "
                   f"from {h['bottom_degree']:.1f} ({h['bottom_province']}) to {h['top_degree']:.1f} "
                   f"({h['top_province']}), a difference of {h['top_minus_bottom']:.1f} points "
                   f"(SE {h['top_minus_bottom_se']:.1f}). {{doc}}`More <index>`")
    elif region_sentence(h):
        out.append(f"{lab}by region, {region_sentence(h)}. {{doc}}`More <index>`")
    t1 = published(problems.table1(study))
    vill = t1[t1["base"].astype(str).str.startswith("villager")].dropna(subset=["estimate"])
    if len(vill):
        top = vill.sort_values("estimate").iloc[-1]
        ci = f" (95 % CI {top['ci_low']:.0f}–{top['ci_high']:.0f} %)" if pd.notna(top["ci_low"]) else ""
        out.append(f"{lab}the problem respondents name most often is in {top['field']}: "
                   f"“{top['problem']}”, {top['estimate']:.0f} %{ci}. {{doc}}`More <problems>`")
    main = next((n for n in ("wls_region", "wls_province", "svy_region") if models.has(n)), None)
    if main:
        f = models[main].to_frame().dropna(subset=["p"])
        if len(f):
            b = f.loc[f["p"].idxmin()]
            sig = "" if b["p"] < 0.05 else ", not distinguishable from zero at the 5 % level"
            out.append(f"{lab}of the characteristics in the main model, **{b['label']}** has the clearest "
                       f"association with the score: {b['estimate']:+.2f} points (95 % CI "
                       f"{b['ci_low']:+.2f} to {b['ci_high']:+.2f}, p {_p_words(fmt_p(b['p']))}){sig}; "
                       "an association, not a cause. {doc}`More <determinants>`")
    if official:
        o = official
        trend = ("converged" if o["beta"] < 0 and o["beta"] + 1.96 * o["beta_se"] < 0 else
                 "did not converge clearly")
        half = f", a half-life of {o['beta_half_life']:.0f} years" if trend == "converged" else ""
        out.append(f"{REAL_LABEL} public budget spending per head {trend} across provinces from "
                   f"{o['real_first']} to {o['real_last']} (β = {o['beta']:.3f}, SE {o['beta_se']:.3f}"
                   f"{half}); its Theil index went from {o['theil_first']:.3f} to {o['theil_last']:.3f}. "
                   "{doc}`More <provinces>`")
        if "gdppc_top" in o:
            out.append(f"{REAL_LABEL} in {o['real_year']}, GDP per head ranged from "
                       f"{o['gdppc_bottom']:,.0f} yuan ({o['gdppc_bottom_name']}) to {o['gdppc_top']:,.0f} "
                       f"yuan ({o['gdppc_top_name']}), {o['gdppc_top'] / o['gdppc_bottom']:.1f} times. "
                       "{doc}`More <provinces>`")
    return "\n".join(f"- {s}" for s in out[:6])


def _p_words(p: str) -> str:
    """'< 0.001' stays; '0.012' reads '= 0.012'."""
    return p if p.startswith("<") else f"= {p}"
