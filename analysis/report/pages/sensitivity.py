"""The sensitivity page (book/sensitivity.md): Monte Carlo over construction choices and sampling,
Sobol indices."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.publishing.disclosure import published
from analysis.report.pages.common import province_degrees


def stats(study, s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Numbers for the page (glued); ``s``: the :class:`SensitivityResult`."""
    from analysis.estimation.sensitivity import PERTURBATION

    rs = s.region_summary()
    sob = s.sobol.set_index(["output", "input"])
    from analysis.estimation.sensitivity import INPUTS

    out: dict[str, Any] = {"sens_draws": s.n_evaluations, "perturb_pct": 100 * PERTURBATION,
                           "sens_draws_set": study.settings.index.uncertainty.draws,
                           "sens_blocks": len(INPUTS) + 2,
                           "sobol_rank_boot_total": sob.loc[("province ranks (mean over provinces)", "bootstrap"), "total"]}
    if "east_minus_west" in rs.index and ("east-west gap", "normalisation") in sob.index:
        out.update({"gap_mc_mean": rs.loc["east_minus_west", "mean"], "gap_mc_low": rs.loc["east_minus_west", "low"],
                    "gap_mc_high": rs.loc["east_minus_west", "high"],
                    "gap_positive_share": 100 * float((s.draws["gap"] > 0).mean()),
                    "sobol_gap_norm_total": sob.loc[("east-west gap", "normalisation"), "total"],
                    "sobol_gap_boot_total": sob.loc[("east-west gap", "bootstrap"), "total"]})
    return out


def publishable_ranks(study, s) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Draw × province ranks among the publishable provinces only (suppressed ones take no rank)."""
    ok = [p for p in published(province_degrees(study))["province"] if p in s.provinces.columns]
    return s.provinces[ok].rank(axis=1, ascending=False)


def figures_(study, s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Region scores and gap across draws, publishable province ranks, Sobol indices."""
    from analysis.publishing import figures

    syn = study.wave.synthetic
    regions = s.regions
    if "east" in regions and "west" in regions:
        regions = regions.assign(**{"east − west": s.draws["gap"].to_numpy()})
    ranks = publishable_ranks(study, s)
    order = ranks.median().sort_values().index.tolist()
    return {"fig_sens_regions": figures.distributions(regions, xlabel="score (own scale of each draw's normalisation)",
                                                      synthetic=syn),
            "fig_sens_ranks": figures.distributions(ranks[order], xlabel="rank across draws (1 = highest)",
                                                    synthetic=syn, order=order),
            "fig_sens_sobol": figures.sobol_bars(s.sobol, synthetic=syn)}
