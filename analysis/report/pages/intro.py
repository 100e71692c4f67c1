"""The landing page (book/intro.md): what the wave is, and the headline numbers, all computed
from the wave."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.i18n import N_, _, count, province
from analysis.report.pages.common import headline, region_sentence


def numbers(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Headline numbers and the sentences that depend on what the wave holds (glued)."""
    h = headline(study)
    h["degree_sentence"] = degree_clause(h)
    h["regions_sentence"] = region_sentence(h) or _("no region has enough respondents to publish")
    if "top_province" in h:
        h["provinces_sentence"] = _(
            "Among the {n} provinces with enough respondents and villages to publish, the degree is "
            "highest in {top} ({top_degree:.1f}) and lowest in {bottom} ({bottom_degree:.1f}), a "
            "difference of {diff:.1f} points (standard error {se:.1f}).").format(
            n=h["n_provinces_published"], top=province(h["top_province"]), top_degree=h["top_degree"],
            bottom=province(h["bottom_province"]), bottom_degree=h["bottom_degree"],
            diff=h["top_minus_bottom"], se=h["top_minus_bottom_se"])
    elif "only_province" in h:
        h["provinces_sentence"] = _("Only one province, {name}, has enough respondents and villages to "
                                    "publish its degree, so provinces are not compared on this wave.").format(
            name=province(h["only_province"]))
    else:
        h["provinces_sentence"] = _("No province has enough respondents and villages to publish its degree.")
    if "gap_east_west" in h:
        h["gap_sentence"] = _("The east–west gap is {gap:.1f} points (standard error {se:.1f}).").format(
            gap=h["gap_east_west"], se=h["gap_east_west_se"])
    else:
        h["gap_sentence"] = ""
    if "shanghai_over_tibet" in h:
        h["seed_sentence"] = _("The seed paper's own contrast, the degree in Shanghai relative to Tibet, is "
                               "{ratio:.1f} on this wave (a ratio of mean scores, as the paper reports "
                               "it).").format(ratio=h["shanghai_over_tibet"])
    else:
        h["seed_sentence"] = ""
    h["wave_kind"] = _(WAVE_KINDS[study.wave.replica_kind])
    return h


WAVE_KINDS = {"calibrated": N_("a calibrated synthetic replica of the seed study's survey"),
              "uncalibrated": N_("an uncalibrated synthetic replica of the seed study's survey"),
              "other": N_("synthetic microdata"),
              None: N_("survey microdata")}
"""What the landing page calls a wave, by :attr:`analysis.ingest.wave.Wave.replica_kind`."""

SYNTHETIC_LABEL = N_("*Synthetic replica (illustrates the method):*")
REAL_LABEL = N_("*Real official statistics:*")


def degree_clause(h: dict[str, Any]) -> str:
    """The national degree with its interval and design df, or why it is withheld."""
    if h["degree_withheld"]:
        return _("withheld ({why})").format(why=h["degree_withheld"])
    if not np.isfinite(h["degree_overall_lo"]):        # 0 design df: no variance, no interval
        return _("**{d:.2f}** (no confidence interval: {dfs})").format(d=h["degree_overall"],
                                                                        dfs=_degree_dfs(h))
    return _("**{d:.2f}** (95 % CI {lo:.1f}–{hi:.1f}, {dfs})").format(
        d=h["degree_overall"], lo=h["degree_overall_lo"], hi=h["degree_overall_hi"], dfs=_degree_dfs(h))


def _degree_dfs(h: dict[str, Any]) -> str:
    return count(h["degree_overall_df"], N_("{n} design degree of freedom"),
                 N_("{n} design degrees of freedom"))


def _degree_finding(h: dict[str, Any]) -> str:
    """The key finding of the national degree (as :func:`degree_clause`, in a sentence)."""
    if h["degree_withheld"]:
        return _("the modernization degree is withheld: {why}.").format(why=h["degree_withheld"])
    if not np.isfinite(h["degree_overall_lo"]):
        return _("the modernization degree is **{d:.1f}** on a 0–100 scale (no confidence interval: "
                 "{dfs}).").format(d=h["degree_overall"], dfs=_degree_dfs(h))
    return _("the modernization degree is **{d:.1f}** on a 0–100 scale (95 % CI {lo:.1f}–{hi:.1f}, "
             "{dfs}).").format(d=h["degree_overall"], lo=h["degree_overall_lo"], hi=h["degree_overall_hi"],
                              dfs=_degree_dfs(h))


def key_findings(study, models, official: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    """The landing page's key findings: a Markdown list of 4–6 sentences, each computed from the
    wave (or from the official statistics) and linking to the section that shows it. Survey
    findings on a synthetic wave say so; official-statistics findings say they are real."""
    from analysis.publishing.disclosure import published
    from analysis.publishing.formats import fmt_p, p_words
    from analysis.report.pages import problems

    h = headline(study)
    lab = _(SYNTHETIC_LABEL) + " " if study.wave.synthetic else ""
    more = _("More")
    out = [lab + _degree_finding(h) + f" {{doc}}`{more} <index>`"]
    if "top_province" in h:
        out.append(lab + _("among the {n} publishable provinces the degree ranges from {low:.1f} ({bottom}) "
                           "to {high:.1f} ({top}), a difference of {diff:.1f} points (SE {se:.1f}).").format(
            n=h["n_provinces_published"], low=h["bottom_degree"], bottom=province(h["bottom_province"]),
            high=h["top_degree"], top=province(h["top_province"]), diff=h["top_minus_bottom"],
            se=h["top_minus_bottom_se"]) + f" {{doc}}`{more} <index>`")
    elif h["n_regions_published"] >= 2:
        out.append(lab + _("by region, {regions}.").format(regions=region_sentence(h)) + f" {{doc}}`{more} <index>`")
    t1 = published(problems.table1(study))
    vill = t1[t1["base"].astype(str).str.startswith("villager")].dropna(subset=["estimate"])
    if len(vill):
        top = vill.sort_values("estimate").iloc[-1]
        ci = (_(" (95 % CI {lo:.0f}–{hi:.0f} %)").format(lo=top["ci_low"], hi=top["ci_high"])
              if pd.notna(top["ci_low"]) else "")
        out.append(lab + _("of the problems whose share is published, respondents name most often one in "
                           "{field}: “{problem}”, {pct:.0f} %{ci}.").format(
            field=top["field"], problem=top["problem"], pct=top["estimate"], ci=ci)
            + f" {{doc}}`{more} <problems>`")
    main = next((n for n in ("wls_region", "wls_province", "svy_region") if models.has(n)), None)
    if main:
        from analysis.estimation.results import holm

        f = models[main].to_frame().dropna(subset=["p"]).reset_index(drop=True)
        if len(f):
            i = int(f["p"].idxmin())
            b = f.loc[i]
            sig = ""
            if b["p"] >= 0.05:
                sig = _(", not distinguishable from zero at the 5 % level")
            elif holm(f["p"].to_numpy())[i] >= 0.05:     # picked as the smallest of len(f) p-values
                sig = _(", not distinguishable from zero at the 5 % level once adjusted for the {k} "
                        "characteristics tested (Holm)").format(k=len(f))
            out.append(lab + _("of the characteristics in the main model, **{label}** has the clearest "
                               "association with the score: {est:+.2f} points (95 % CI {lo:+.2f} to {hi:+.2f}, "
                               "p {p}){sig}; an association, not a cause.").format(
                label=b["label"], est=b["estimate"], lo=b["ci_low"], hi=b["ci_high"],
                p=p_words(fmt_p(b["p"])), sig=sig) + f" {{doc}}`{more} <determinants>`")
    if official:
        o = official
        # β's 95 % interval below zero, on β's own t with n − k df (two-sided p under 0.05)
        converged = o["beta"] < 0 and o["beta_p"] < 0.05
        trend = _("converged") if converged else _("did not converge clearly")
        half = _(", a half-life of {years:.0f} years").format(years=o["beta_half_life"]) if converged else ""
        out.append(_(REAL_LABEL) + " " + _(
            "public budget spending per head {trend} across provinces from {first} to {last} (β = {beta:.3f}, "
            "SE {se:.3f}{half}); its Theil index went from {t0:.3f} to {t1:.3f}.").format(
            trend=trend, first=o["real_first"], last=o["real_last"], beta=o["beta"], se=o["beta_se"], half=half,
            t0=o["theil_first"], t1=o["theil_last"]) + f" {{doc}}`{more} <provinces>`")
        if "gdppc_top" in o:
            out.append(_(REAL_LABEL) + " " + _(
                "in {year}, GDP per head ranged from {low:,.0f} yuan ({low_name}) to {high:,.0f} yuan "
                "({high_name}), {ratio:.1f} times.").format(
                year=o["real_year"], low=o["gdppc_bottom"], low_name=province(o["gdppc_bottom_name"]),
                high=o["gdppc_top"], high_name=province(o["gdppc_top_name"]),
                ratio=o["gdppc_top"] / o["gdppc_bottom"]) + f" {{doc}}`{more} <provinces>`")
    # a sentence opens with a capital where no label precedes it (a real wave's survey findings)
    return "\n".join(f"- {s[:1].upper()}{s[1:]}" for s in out[:6])
