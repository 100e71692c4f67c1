"""Disclosure control: one policy, applied wherever a number leaves the package.

A published cell rests on at least ``min_cell`` respondents (``wave.yml``, default 10) and on at
least two PSUs (one PSU gives no variance estimate and identifies a single village). A cell that
does not is *suppressed*: its values become missing (NaN) and a ``suppressed`` column carries the
reason, so that numbers stay numbers (no "‡" strings in numeric columns); the formatting layer
(:mod:`analysis.publishing.formats`) renders such a cell as ``‡`` with a footnote, the CLI as
``‡`` in tables and as null with the reason in CSV and JSON.

Example
-------
>>> import pandas as pd
>>> from analysis.publishing.disclosure import DisclosurePolicy
>>> t = DisclosurePolicy(min_cell=10).apply(pd.DataFrame({"domain": ["a", "b"], "estimate": [51.0, 40.0],
...                                                       "n": [120, 6], "n_psu": [3, 1]}))
>>> t["estimate"].tolist(), t["suppressed"].tolist()
([51.0, nan], ['', 'fewer than 10 respondents'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.i18n import N_, _

MARK = "‡"
"""How a suppressed cell is shown."""
SUPPRESSED = "suppressed"
"""Column holding each row's suppression reason ('' when published)."""
DEFAULT_PROTECTED = ("estimate", "se", "ci_low", "ci_high", "deff", "mean", "low", "high",
                     "median_rank", "rank_low", "rank_high", "boot_mean", "boot_se")
"""Value columns a policy suppresses by default (counts ``n``/``n_psu`` stay: they are the reason)."""


def reasons_of(df: pd.DataFrame, column: str = SUPPRESSED) -> list[str]:
    """The text of a reason column (``suppressed`` or ``flag``), one string per row, ``""`` where
    the table has none: a missing cell (NaN or None, as after ``pd.concat`` with a table without
    the column or a CSV read back) is no reason, not the text "nan"."""
    if column not in df:
        return [""] * len(df)
    return ["" if pd.isna(r) else str(r) for r in df[column].tolist()]


CELL_REASON = N_("fewer than {n} respondents")
"""Why a cell below the policy's least count is withheld (``n``: that count)."""
PSU_REASON = N_("a single PSU (no variance estimate; identifies one village)")
"""Why an estimate resting on one PSU is withheld."""
_CELL_PATTERN = re.compile(re.escape(CELL_REASON).replace(re.escape("{n}"), r"(\d+)"))


@dataclass(frozen=True)
class DisclosurePolicy:
    """Which cells may be published."""

    min_cell: int = 10
    """Least respondents behind a published cell."""
    min_psu: int = 2
    """Least PSUs behind a published estimate."""

    @classmethod
    def for_study(cls, study) -> DisclosurePolicy:  # type: ignore[no-untyped-def]
        """The policy of a study's wave (its ``min_cell``)."""
        return cls(min_cell=int(study.wave.spec.min_cell))

    def reason(self, n: float, n_psu: float | None = None) -> str:
        """Why a cell of ``n`` respondents in ``n_psu`` PSUs is suppressed ('' if it is not)."""
        if not (n >= self.min_cell):
            return CELL_REASON.format(n=self.min_cell)
        if n_psu is not None and n_psu >= 0 and n_psu < self.min_psu:
            return PSU_REASON
        return ""

    def publishable(self, n: float, n_psu: float | None = None) -> bool:
        """Whether such a cell may be published."""
        return not self.reason(n, n_psu)

    def apply(self, df: pd.DataFrame, *, n: str = "n", n_psu: str | None = "n_psu",
              values: list[str] | None = None) -> pd.DataFrame:
        """A copy with every row below the policy's thresholds blanked (NaN) in its value columns
        and its reason in a ``suppressed`` column (kept from an earlier pass, combined)."""
        out = df.copy()
        has_psu = n_psu is not None and n_psu in out
        reasons = [self.reason(a, b) for a, b in zip(out[n].to_numpy(float),
                                                    out[n_psu].to_numpy(float) if has_psu else
                                                    [None] * len(out))]
        cols = values if values is not None else [c for c in out.columns if c in DEFAULT_PROTECTED]
        mask = np.array([bool(r) for r in reasons])
        for c in cols:
            if c in out:
                out[c] = out[c].astype("float64").where(~mask)
        out[SUPPRESSED] = [p or r for p, r in zip(reasons_of(out), reasons)]
        return out


def suppression_note(df: pd.DataFrame) -> str:
    """The footnote of a table with suppressed cells ('' when none): the disclosure rule or a
    reliability standard (the NCHS standard for proportions) withheld them, each reason says which."""
    why = sorted({r for r in reasons_of(df) if r})
    if not why:
        return ""
    return _("{mark} not published (disclosure or reliability rule): {reasons}.").format(
        mark=MARK, reasons=_("; ").join(dict.fromkeys(reason_text(r) for r in why)))


def reason_text(reason: str) -> str:
    """A suppression or reliability reason (data: English, as the tables and their CSV files hold
    it) in the edition being written."""
    text = _(reason)
    if text != reason:
        return text
    m = _CELL_PATTERN.fullmatch(reason)
    return _(CELL_REASON).format(n=int(m[1])) if m else reason


def suppressed_rows(df: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the suppressed rows of a table (none without a ``suppressed`` column)."""
    return np.array([bool(r) for r in reasons_of(df)], dtype=bool)


def published(df: pd.DataFrame) -> pd.DataFrame:
    """Only the rows of a table that may be shown (for figures and headline numbers)."""
    return df[~suppressed_rows(df)].drop(columns=[SUPPRESSED], errors="ignore")
