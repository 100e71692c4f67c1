"""Number formats: one place that decides how every kind of number is written.

Counts are integers with separators; estimates, SEs and intervals at a chosen precision; p-values
"< 0.001" below that and two significant digits otherwise; a bootstrap p-value is never written
below its resolution 1/(B + 1); ranks are integers; a suppressed cell is the disclosure mark.

Example
-------
>>> from analysis.publishing.formats import fmt_p, fmt_count, fmt_rank
>>> fmt_p(0.000367), fmt_p(0.0123), fmt_p(0.0, reps=999), fmt_count(57.0), fmt_rank(5.02)
('< 0.001', '0.012', '< 0.001', '57', '5')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import partial

import numpy as np
import pandas as pd

from analysis.publishing.disclosure import MARK, SUPPRESSED, reasons_of, suppressed_rows
from analysis.publishing.reliability import cell_flags

KINDS = ("count", "number", "p", "rank", "text", "year", "ratio")
"""Column kinds the formatter knows."""


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def fmt_count(v: object) -> str:
    """An integer count with thousands separators."""
    return "" if _missing(v) else f"{int(round(float(v))):,}"  # type: ignore[arg-type]


def fmt_number(v: object, decimals: int = 1) -> str:
    """A number at fixed decimals; a non-zero value that would round to 0 there keeps two
    significant digits (0.45 at 0 decimals reads "0.45", 0.04 at 1 "0.04", 4e-05 at 3 "4e-05")
    rather than read as a zero."""
    if _missing(v):
        return ""
    x = float(v)  # type: ignore[arg-type]
    if x != 0 and abs(x) < 0.5 * 10 ** (-decimals):
        return f"{x:.2g}"
    return f"{x:,.{decimals}f}"


def fmt_p(p: object, *, reps: int | None = None) -> str:
    """A p-value: "< 0.001" below 0.001, two significant digits below 0.1, two decimals from
    0.1 up (0.012, 0.05, 0.87, 0.90); a bootstrap p (``reps``
    replicates) is never shown below its resolution 1/(reps + 1): "< 0.001" for 999 replicates."""
    if _missing(p):
        return ""
    x = float(p)  # type: ignore[arg-type]
    if reps:
        floor = 1 / (reps + 1)
        if x < floor:
            return f"< {floor:.2g}"
    if x < 0.001:
        return "< 0.001"
    # two significant digits below 0.1 (0.012, 0.05), two decimals from 0.1 up: "0.90" beside
    # "0.87" in one column, not "0.9"
    short = f"{x:.2g}"
    return f"{x:.2f}" if float(short) >= 0.1 else short


def p_words(p: str) -> str:
    """A formatted p-value (:func:`fmt_p`) as running text writes it after "p": '< 0.001' stays,
    '0.012' reads '= 0.012'."""
    return p if p.startswith("<") else f"= {p}"


def fmt_rank(v: object) -> str:
    """A rank as an integer (a median of ranks is rounded half up)."""
    return "" if _missing(v) else str(int(math.floor(float(v) + 0.5)))  # type: ignore[arg-type]


def column_kind(name: str, values: pd.Series) -> str:
    """The kind of a column from its name and values (see :data:`KINDS`)."""
    low = str(name).lower()
    if low in ("n", "respondents", "villages", "provinces", "n_psu", "psus", "rows", "records", "df",
               "blank", "declared", "errors", "warnings", "institutions", "clusters",
               "province-years", "observations") or low.startswith("n_"):
        return "count"
    if low == "year" or low.endswith("_year"):
        return "year"
    if re.fullmatch(r"(median[ _])?rank([ _](low|high)|, [\d.]+ %)?", low):   # a rank, not "rank normalisation"
        return "rank"
    if re.search(r"(^|[\s_(])p($|[\s_)])", low) or "p-value" in low:     # "p", "wild p (Holm)", "p_adj"
        return "p"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "number"
    return "text"


def format_frame(df: pd.DataFrame, *, decimals: int | dict[str, int] = 1,
                 kinds: dict[str, str] | None = None, reps: int | dict[str, int] | None = None
                 ) -> tuple[pd.DataFrame, list[str]]:
    """Every cell as display text; the ``suppressed`` column is consumed: the missing values of a
    suppressed row show the disclosure mark. ``reps``: the bootstrap replicates behind the
    p-values, every p column's or (a dict) those of the columns named, the others being analytic.
    Returns (text frame, numeric columns)."""
    sup = suppressed_rows(df)
    # a table whose rows are different quantities (yuan beside percentages) sets its decimals row
    # by row: ``df.attrs["row_decimals"]``, one per row, for its number columns
    by_row = df.attrs.get("row_decimals")
    by_row = list(by_row) if by_row is not None and len(by_row) == len(df) else None
    flagged = np.array([bool(r) for r in reasons_of(df, "flag")], dtype=bool)
    own = cell_flags(df)                            # cells flagged on their own (a region's share)
    src = df.drop(columns=[SUPPRESSED, "flag"], errors="ignore")
    target = flag_target(src.columns)
    out = pd.DataFrame(index=src.index)
    numeric = []

    def as_text(v: object) -> str:
        return "" if _missing(v) else str(v)

    formatter = {"count": fmt_count, "rank": fmt_rank,
                 "year": lambda v: "" if _missing(v) else str(int(v))}  # type: ignore[arg-type]
    for c in src.columns:
        col = src[c]
        formatter["p"] = partial(fmt_p, reps=reps.get(c) if isinstance(reps, dict) else reps)
        kind = (kinds or {}).get(c) or column_kind(c, col)
        dec = decimals.get(c, 1) if isinstance(decimals, dict) else decimals
        if kind in ("number", "ratio"):              # at the column's decimals, or the row's
            ds = by_row if by_row is not None else [dec] * len(col)
            text = [v if isinstance(v, str) else fmt_number(v, int(d)) for v, d in zip(col, ds)]
        else:
            text = [formatter.get(kind, as_text)(v) for v in col]
        if kind != "text":
            numeric.append(str(c))
            text = [MARK if (s and t == "" and kind in ("number", "rank", "p", "ratio")) else t
                    for s, t in zip(sup, text)]
        marks = flagged if c == target else own.get(c)      # the row's flag, or the cell's own
        if marks is not None:
            text = [f"{t} †" if (f and t not in ("", MARK)) else t for f, t in zip(marks, text)]
        out[c] = text
    return out, numeric


def flag_target(columns: Iterable[object]) -> str | None:
    """The column that carries a row's † (its headline number), if the table has one."""
    return next((c for c in ("estimate", "all", "ame", "AME (pp)") if c in columns), None)


def dagger_reasons(df: pd.DataFrame, shown: pd.DataFrame) -> list[str]:
    """The reasons of the cells ``shown`` (:func:`format_frame`'s text of ``df``) marks with †: a
    row's flag where its headline number is shown, a cell's own flag where that cell is. A row
    with one withheld cell may show its other numbers, and their † needs its footnote."""
    def marked(reasons: Iterable[str], column: str) -> list[str]:
        return [r for r, t in zip(reasons, shown[column]) if r and str(t).endswith(" †")]

    target = flag_target(shown.columns)
    out = marked(reasons_of(df, "flag"), target) if target is not None else []
    for c, v in cell_flags(df).items():
        if c in shown:
            out += marked(v, c)
    return out


def as_plain(x: object) -> object:
    """numpy scalars as Python numbers (glue and JSON need plain values)."""
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x
