"""The problems page (book/problems.md): Table 1 of the seed paper with confidence intervals, and
digital access."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimation.design import answered
from analysis.i18n import N_, _, count
from analysis.publishing.reliability import (CELL_FLAGS, DF_REASON, DF_REVIEW, nchs_proportion_reason,
                                             nchs_proportions)
from analysis.report.pages.common import policy


def published_comparison_text(study) -> str:  # type: ignore[no-untyped-def]
    """Whether Table 1's figure shows the seed paper's percentages beside the wave's, and why."""
    if study.wave.spec.reproduces_seed:
        return _("This wave reproduces the seed study's survey, so the published percentage is shown as a "
                 "red ring around each estimate.")
    seed = study.settings.published["source"]["survey_year"]
    if study.year == seed:          # the seed's year, another survey: the year cannot tell them apart
        return _("The published percentages describe the seed study's own survey; this wave is another "
                 "survey of {year}, so they are not shown beside its estimates.").format(year=study.year)
    if study.year is None:
        return _("The published percentages describe the {seed} survey; this wave's year is not known, so "
                 "they are not shown beside its estimates.").format(seed=seed)
    return _("The published percentages describe the {seed} survey; this wave is of {year}, so they are not "
             "shown beside its estimates.").format(seed=seed, year=study.year)


NOT_ASKED = N_("not in this wave")
"""Table 1's base of a problem whose item the wave does not have."""
UNANSWERED = N_("in this wave, answered by nobody")
"""Table 1's base of a problem whose item the wave has without a single answer."""


def table1(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Each problem's prevalence (%) with SE and CI; the published value only where the wave
    reproduces the seed study (otherwise the years differ and the comparison would mislead)."""
    from analysis.estimation.reproduce import table1 as _t1

    t = _t1(study)
    if not study.wave.spec.reproduces_seed:
        t = t.drop(columns=["published"])
    inst = t["base"] == "township institutions"
    # shares of the institution records describe those records; no sampling design is known for
    # them, so they carry no interval
    t.loc[inst, ["se", "ci_low", "ci_high", "df"]] = np.nan
    t.loc[inst, "base"] = N_("share of the township institution records")
    # a share resting on one village is withheld, as every design-based estimate (the
    # institution records have no PSUs: NaN)
    t = policy(study).apply(t, n_psu="n_psu").drop(columns=["n_psu"])
    none = t["n"] == 0
    t.loc[none, "suppressed"] = ""          # not in the wave, or nobody answered: said in the base column
    inst_cols = study.wave.institutions.columns if study.wave.institutions is not None else []
    asked = t["item"].map(lambda i: i in study.villagers or i in inst_cols).astype(bool)
    t.loc[none & ~asked, "base"] = NOT_ASKED
    t.loc[none & asked, "base"] = UNANSWERED
    vill = ~inst & (t["n"] > 0)
    checked = nchs_proportions(t[vill])        # each item's own df: its PSUs with an answer
    t["flag"] = ""
    t.loc[vill, ["estimate", "se", "ci_low", "ci_high", "suppressed", "flag"]] = \
        checked[["estimate", "se", "ci_low", "ci_high", "suppressed", "flag"]]
    return t


def figure_rows(t1: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    """What the figure of Table 1 (:func:`table1`) draws: (the rows published with an estimate,
    a sentence for the caption saying how many problems are left out and why, "" when none is,
    the text standing in for the figure when no row is left, "" otherwise)."""
    from analysis.publishing.disclosure import published

    shown = published(t1).dropna(subset=["estimate"])
    left = t1[~t1.index.isin(shown.index)]
    absent = int((left["n"] == 0).sum())
    unanswered = int(((left["n"] == 0) & (left["base"] == UNANSWERED)).sum())
    withheld = len(left) - absent
    parts = []
    if withheld:
        parts.append(count(withheld, N_("{n} problem withheld (too few respondents or too unreliable)"),
                           N_("{n} problems withheld (too few respondents or too unreliable)")))
    if absent - unanswered:
        parts.append(count(absent - unanswered, N_("{n} problem not asked in this wave"),
                           N_("{n} problems not asked in this wave")))
    if unanswered:
        parts.append(count(unanswered, N_("{n} problem asked in this wave but answered by nobody"),
                           N_("{n} problems asked in this wave but answered by nobody")))
    omitted = ""
    if parts:
        omitted = _("Not drawn: {parts}; the table below lists every problem.").format(
            parts=_("; ").join(parts))
    why = ""
    if shown.empty:
        why = _("No problem's share can be drawn for this wave: each is withheld or not asked in it (the "
                "table below lists them).")
    return shown, omitted, why


DIGITAL_ITEMS = ("hreg_onsite", "hreg_app", "hreg_web", "hreg_phone", "digital_aware", "digital_use",
                 "internet_use", "smartphone")
"""The villager items of the digital-access table (each counted where answered 1)."""


def digital_items(study) -> list[str]:  # type: ignore[no-untyped-def]
    """The digital-access items the wave has and someone answered (a column left blank by every
    respondent is not an item the wave asked)."""
    v = study.villagers
    return [i for i in DIGITAL_ITEMS if i in v and v[i].notna().any()]


def digital_access_note(study) -> str:  # type: ignore[no-untyped-def]
    """Why the page has no digital-access table (a wave without any of its items answered); else ""."""
    if digital_items(study):
        return ""
    return _("This wave has none of the digital-access items ({items}), so there is no table of "
             "digital access.").format(items=", ".join(DIGITAL_ITEMS))


def digital_access(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Registration channels, digital awareness and use: design-based %, CI, by region."""
    v, d = study.villagers, study.design
    items = digital_items(study)
    if not items:                           # a wave without them: no rows (its page says so)
        return pd.DataFrame(columns=["item", "all", "se", "ci_low", "ci_high", "n", "df", "suppressed",
                                     "flag"])
    pol = policy(study)
    rows, cells = [], []
    own: dict[str, dict[int, str]] = {}            # region → row → its cell's flag reason
    for it in items:
        yy = answered(v[it].to_numpy(float), 1)
        tot = d.proportion(yy)
        byr = d.proportion(yy, by=v["region3"])
        lo, hi = tot.ci
        rec = {"item": study.wave.codebook.item("villagers", it).label, "all": 100 * tot.estimate[0],
               "se": 100 * tot.se[0], "ci_low": 100 * lo[0], "ci_high": 100 * hi[0], "n": int(tot.n[0]),
               "df": int(tot.df[0]), "n_psu": int(tot.n_psu[0])}
        # a region cell is published under the same rules as the national one: the disclosure
        # policy, then the NCHS standard on its own SE and interval
        reasons = []
        rlo, rhi = byr.ci
        for j, r in enumerate(byr.domains):
            why = pol.reason(byr.n[j], byr.n_psu[j]) or nchs_proportion_reason(
                byr.estimate[j], byr.se[j], rlo[j], rhi[j], byr.n[j], computed_ci=True)
            rec[r] = np.nan if why else 100 * byr.estimate[j]
            reasons.append(why)
            # a shown region cell on fewer than 8 design df is flagged on its own (†), as the
            # national share is in its row's flag
            own.setdefault(r, {})[len(rows)] = (DF_REASON if not why and byr.df[j] < DF_REVIEW else "")
        cells.append(next((x for x in reasons if x), ""))     # a region cell: marked ‡
        rows.append(rec)
    t = pol.apply(pd.DataFrame(rows), values=["all", "se", "ci_low", "ci_high"]).drop(columns=["n_psu"])
    t = nchs_proportions(t, est="all", values=("all", "se", "ci_low", "ci_high"))
    t["suppressed"] = [a or c for a, c in zip(t["suppressed"], cells)]
    t.attrs[CELL_FLAGS] = {r: [by_row.get(i, "") for i in range(len(t))] for r, by_row in own.items()}
    return t
