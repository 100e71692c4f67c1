"""The sensitivity page (book/sensitivity.md): Monte Carlo over construction choices and sampling,
Sobol indices."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.estimation.sensitivity import GAP_OUTPUT
from analysis.i18n import N_, _, count, reasons, region
from analysis.report.pages.common import published_province_names, withheld_regions
from analysis.report.pages.index import RANKS_NEED_TWO


def stats(study, s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Numbers for the page (glued); ``s``: the :class:`SensitivityResult`."""
    from analysis.estimation.sensitivity import PERTURBATION

    rs = s.region_summary()
    sob = s.sobol.set_index(["output", "input"])
    from analysis.estimation.sensitivity import INPUTS

    out: dict[str, Any] = {"sens_draws": s.n_evaluations, "perturb_pct": 100 * PERTURBATION,
                           "sens_draws_set": study.settings.index.uncertainty.draws,
                           "sens_blocks": len(INPUTS) + 2,
                           # the figures' draws: the Saltelli design's two independent samples A and B
                           "sens_independent": len(s.regions)}
    ranks = sob.loc[("province ranks (mean over provinces)", "bootstrap"), "total"]
    if pd.notna(ranks):                     # a single province: its rank never varies, no index
        out["sobol_rank_boot_total"] = ranks
    gone = withheld_regions(study)
    if s.has_gap and _withholds_gap(gone):          # a gap of a withheld region is withheld
        out["gap_withheld"] = _("; ").join(_("{region}: {why}").format(region=region(r), why=reasons(gone[r]))
                                           for r in ("east", "west") if r in gone)
    elif s.has_gap:                         # the run then holds the gap's row and Sobol indices
        out.update({"gap_mc_mean": rs.loc["east_minus_west", "mean"], "gap_mc_low": rs.loc["east_minus_west", "low"],
                    "gap_mc_high": rs.loc["east_minus_west", "high"],
                    "gap_positive_share": 100 * float((s.draws["gap"] > 0).mean()),
                    "sobol_gap_norm_total": sob.loc[(GAP_OUTPUT, "normalisation"), "total"],
                    "sobol_gap_boot_total": sob.loc[(GAP_OUTPUT, "bootstrap"), "total"]})
    return out


def gap_text(g: dict[str, Any]) -> str:
    """The sentence on the east–west gap across draws (``g``: :func:`stats`), or why there is none."""
    if "gap_mc_mean" in g:
        return _("Across draws the east–west gap averages {mean:.1f} points, with 95 % of draws "
                 "between {low:.1f} and {high:.1f}; it is positive in {share:.0f} % of draws. Scores are "
                 "on the scale of each draw's normalisation (a z-score draw is centred at 50 with SD 10 "
                 "per indicator), which is why their spread is wide.").format(
                     mean=g["gap_mc_mean"], low=g["gap_mc_low"], high=g["gap_mc_high"],
                     share=g["gap_positive_share"])
    if "gap_withheld" in g:
        return _("The east–west gap across draws is not shown: the degree of its region is withheld "
                 "({why}).").format(why=g["gap_withheld"])
    return _("The wave does not hold both the east and the west, so no east–west gap is computed.")


def shown_regions(study, s) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Draw × region scores of the regions whose degree the report publishes, with the east–west
    gap where both are published: a withheld region's scores across draws would show what the
    disclosure rule withholds."""
    gone = withheld_regions(study)
    regions = s.regions.drop(columns=[r for r in s.regions.columns if r in gone])
    if s.has_gap and not _withholds_gap(gone):
        regions = regions.assign(**{N_("east − west"): s.draws["gap"].to_numpy()})
    return regions


def shown_region_summary(study, s) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """:meth:`SensitivityResult.region_summary` with a withheld region's row (and the gap's, if it
    rests on one) blanked and its reason in ``suppressed``, as every table of the package marks it."""
    gone = withheld_regions(study)
    t = s.region_summary()
    why = [gone.get(str(q), "") if q != "east_minus_west" else       # the gap: each region's reason
           "; ".join(f"{r}: {gone[r]}" for r in ("east", "west") if r in gone) for q in t.index]
    t = t.astype(float)
    t.loc[[bool(w) for w in why], :] = float("nan")
    return t.assign(suppressed=why) if any(why) else t


def rank_sampling_text(g: dict[str, Any]) -> str:
    """The sentence on the ranks' Sobol index of sampling (``g``: :func:`stats`); empty where the
    ranks do not vary (a single publishable province)."""
    if "sobol_rank_boot_total" not in g:
        return ""
    # a Monte Carlo estimate of a share may pass 1 (or 0); it is cut, as the Sobol table cuts it
    return _("For the province ranks, sampling accounts for a total share of {share:.2f} of the "
             "variance.").format(share=min(max(float(g["sobol_rank_boot_total"]), 0.0), 1.0))


def _withholds_gap(gone: dict[str, str]) -> bool:
    """Whether the regions withheld (:func:`~analysis.report.pages.common.withheld_regions`)
    include one the east–west gap rests on."""
    return bool(gone.keys() & {"east", "west"})


def gap_withheld(study, s) -> bool:  # type: ignore[no-untyped-def]
    """Whether the run has an east–west gap that rests on a region the report withholds."""
    return bool(study is not None and s.has_gap and _withholds_gap(withheld_regions(study)))


def shown_sobol(s, study=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The run's Sobol indices, with the ``study`` without the gap's when it rests on a withheld
    region (the gap is not shown); those of outputs that do not vary kept (missing)."""
    t = s.sobol
    return t[t["output"] != GAP_OUTPUT].reset_index(drop=True) if gap_withheld(study, s) else t


def defined_sobol(s, study=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The run's Sobol indices of the outputs that vary on the wave: without the ranks of a single
    province (a wave without the east or the west has no gap, and the run no index of it); with
    the ``study``, without the gap's when it rests on a withheld region (:func:`shown_sobol`)."""
    t = shown_sobol(s, study)
    return t[t[["first_order", "total"]].notna().any(axis=1)].reset_index(drop=True)


INPUT_LABELS = {"normalisation": N_("normalisation method"), "weighting": N_("weighting method"),
                "aggregation": N_("aggregation method"), "weights_perturbation": N_("weights perturbed at random"),
                "bootstrap": N_("sampling (Rao–Wu bootstrap replicate)")}


def sobol_table(s, study=None) -> tuple[pd.DataFrame, str]:  # type: ignore[no-untyped-def]
    """The Sobol indices as a reader table (readable input names, indices clipped to [0, 1] at
    two decimals) and the note explaining the Monte Carlo error that clipping hides; with the
    ``study``, without the indices of a gap resting on a withheld region."""
    t = defined_sobol(s, study)
    raw_fo, raw_tot = t["first_order"].to_numpy(), t["total"].to_numpy()
    out = pd.DataFrame({"output": t["output"], "input": [_(INPUT_LABELS.get(i, i)) for i in t["input"]],
                        "first-order index": raw_fo.clip(0, 1), "total index": raw_tot.clip(0, 1)})
    odd = int(((raw_fo < 0) | (raw_fo > raw_tot + 0.005)).sum())
    note = _("Monte Carlo estimates from {n:,} model evaluations: an index is the share of the output's "
             "variance, between 0 and 1; estimates below 0 are shown as 0.").format(n=s.n_evaluations)
    if gap_withheld(study, s):
        note += _(" The east–west gap rests on a region whose degree is withheld: its indices are left "
                  "out, as the gap is.")
    if len(defined_sobol(s)) < len(s.sobol) or not s.has_gap:
        note += _(" An output that does not vary on this wave (the east–west gap without both regions, "
                  "the ranks of a single province) has no index and is left out.")
    if odd:
        cases = count(odd, N_("In {n} case"), N_("In {n} cases"))
        note += _(" {cases} the first-order estimate is below 0 or above the total estimate, "
                  "which the true indices cannot be: the difference is Monte Carlo error, and indices "
                  "this close are not distinguishable at this number of draws.").format(cases=cases)
    return out, note


def publishable_ranks(study, s) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Draw × province ranks among the publishable provinces only (suppressed ones take no rank)."""
    ok = [p for p in published_province_names(study) if p in s.provinces.columns]
    return s.provinces[ok].rank(axis=1, ascending=False)


def figures_(study, s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Region scores and gap across draws, publishable province ranks, Sobol indices."""
    from analysis.publishing import figures

    syn = study.wave.synthetic
    regions = shown_regions(study, s)
    ranks = publishable_ranks(study, s)
    order = ranks.median().sort_values().index.tolist()
    sob = defined_sobol(s, study)
    return {"fig_sens_regions": (figures.distributions(regions, xlabel="score (own scale of each draw's "
                                                       "normalisation)", synthetic=syn, column="region")
                                 if regions.shape[1] else
                                 figures.placeholder(_("No region's degree is published on this wave (the "
                                                       "disclosure rule), so no region is drawn."))),
            "fig_sens_ranks": (figures.distributions(ranks[order], xlabel="rank across draws (1 = highest)",
                                                     synthetic=syn, order=order, column="province")
                               if len(order) > 1 else
                               figures.placeholder(_(RANKS_NEED_TWO).format(n=len(order)))),
            "fig_sens_sobol": (figures.sobol_bars(sob.assign(input=[INPUT_LABELS.get(i, i)
                                                                    for i in sob["input"]]), synthetic=syn)
                               if len(sob) else
                               figures.placeholder(_("Sobol indices are computed for the east–west gap and "
                                                     "the province ranks; this wave has neither (one region, "
                                                     "one province), so none is defined.")
                                                   if not gap_withheld(study, s) else
                                                   _("Sobol indices are computed for the east–west gap and "
                                                     "the province ranks; here the gap rests on a withheld "
                                                     "region and a single province is published, so none "
                                                     "is shown.")))}
