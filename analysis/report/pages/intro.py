"""The landing page (book/intro.md): what the wave is, and the headline numbers, all computed
from the wave."""

from __future__ import annotations

from typing import Any

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
