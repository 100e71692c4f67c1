"""A reason column (``suppressed``, ``flag``) with missing cells: what ``pd.concat`` leaves when one
table has the column and the other has not, or what a CSV export gives when read back. Under
pandas 3 ``astype(str)`` keeps such a cell missing (not ""), so each must be read as no reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.publishing.disclosure import (DisclosurePolicy, reasons_of, suppressed_rows,
                                            suppression_note)
from analysis.publishing.formats import format_frame
from analysis.publishing.reliability import flag_means, nchs_proportions
from analysis.publishing.tables import render


def _stacked() -> pd.DataFrame:
    """A suppressed row (from a table with the reason columns) above a row from a table without them."""
    a = pd.DataFrame({"domain": ["a"], "estimate": [np.nan], "se": [np.nan], "n": [4], "n_psu": [1],
                      "suppressed": ["fewer than 10 respondents"], "flag": ["RSE at least 30 %"]})
    b = pd.DataFrame({"domain": ["b"], "estimate": [40.0], "se": [2.0], "n": [200], "n_psu": [12]})
    return pd.concat([a, b], ignore_index=True)


def test_a_missing_reason_cell_is_no_reason():
    """reasons_of reads NaN as "" and keeps the text of the others."""
    t = _stacked()
    assert t["suppressed"].isna().tolist() == [False, True]
    assert reasons_of(t) == ["fewer than 10 respondents", ""]
    assert reasons_of(t, "flag") == ["RSE at least 30 %", ""]
    assert reasons_of(t, "no such column") == ["", ""]


def test_only_rows_with_a_reason_count_as_suppressed_and_in_the_footnote():
    """The stacked table: row a suppressed, row b published; the footnote names a's reason alone."""
    t = _stacked()
    assert suppressed_rows(t).tolist() == [True, False]
    note = suppression_note(t)
    assert "fewer than 10 respondents" in note and "nan" not in note


def test_a_second_policy_pass_keeps_an_earlier_reason_and_writes_no_nan():
    """Row b passes the policy and had no reason: it stays "" (not "nan"); row a keeps its reason."""
    out = DisclosurePolicy(min_cell=10).apply(_stacked())
    assert out["suppressed"].tolist() == ["fewer than 10 respondents", ""]
    assert out.loc[1, "estimate"] == 40.0


def test_flags_add_to_missing_cells_without_nan_text():
    """flag_means on the stacked table: row b (RSE 5 %) gets no flag, not "nan"; nchs keeps row a's reason."""
    out = flag_means(_stacked().assign(df=[30.0, 30.0]))
    assert out["flag"].tolist() == ["RSE at least 30 %", ""]
    out = nchs_proportions(_stacked().drop(columns=["n_psu"]), values=("estimate", "se"))
    assert out["suppressed"].iloc[0] == "fewer than 10 respondents"
    assert not any("nan" in str(x) for x in out["suppressed"].tolist() + out["flag"].tolist())


def test_a_table_with_missing_reason_cells_renders_and_formats():
    """render and format_frame work on the stacked table; the published row is not marked, and the
    withheld row's flag, which no cell shows, gets no † footnote; shown, its flag gets one."""
    t = _stacked()
    out = render(t, title="stacked")
    assert "RSE at least 30 %" not in out["text/markdown"] and "nan" not in out["text/markdown"].lower()
    shown_a = render(t.assign(suppressed=["", ""], estimate=[30.0, 40.0]), title="stacked")["text/markdown"]
    assert "RSE at least 30 %" in shown_a and "nan" not in shown_a.lower()
    shown, _numeric = format_frame(t)
    assert "‡" in str(shown.iloc[0].tolist()) and "‡" not in str(shown.iloc[1].tolist())
