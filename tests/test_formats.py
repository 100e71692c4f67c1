"""Number formats and the table formatter: every kind of column written as the report writes it,
suppressed cells as the disclosure mark, flagged estimates with the reliability mark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.publishing.disclosure import MARK, SUPPRESSED, DisclosurePolicy, published, suppressed_rows
from analysis.publishing.formats import (as_plain, column_kind, fmt_count, fmt_number, fmt_p, fmt_rank,
                                         format_frame)


@pytest.mark.parametrize("value, text", [(57.0, "57"), (1234567, "1,234,567"), (2.5, "2"), (3.5, "4"),
                                         (np.nan, ""), (None, ""), (pd.NA, "")])
def test_counts_are_integers_with_separators(value, text):
    assert fmt_count(value) == text


@pytest.mark.parametrize("value, decimals, text", [
    (51.234, 1, "51.2"), (51.25, 2, "51.25"), (1234.5, 1, "1,234.5"), (-3.14159, 3, "-3.142"),
    (0.0, 1, "0.0"), (0.04, 1, "0.04"), (0.05, 1, "0.1"), (-0.0004, 3, "-0.0004"), (0.0005, 3, "0.001"),
    (0.45, 0, "0.45"), (0.5, 0, "0"), (0.6, 0, "1"), (-0.449, 0, "-0.45"), (0.000042, 2, "4.2e-05"),
    (np.nan, 1, "")])
def test_numbers_at_fixed_decimals_and_values_that_would_round_to_zero_with_two_digits(value, decimals, text):
    assert fmt_number(value, decimals) == text
    if decimals == 1:
        assert fmt_number(value) == text                               # one decimal by default


@pytest.mark.parametrize("p, reps, text", [
    (0.000367, None, "< 0.001"), (0.00071, None, "< 0.001"), (0.001, None, "0.001"), (0.0123, None, "0.012"), (0.5, None, "0.50"),
    (0.9, None, "0.90"), (0.87, None, "0.87"), (0.0999, None, "0.10"), (0.05, None, "0.05"), (1.0, None, "1.00"),
    (0.0, 999, "< 0.001"), (0.0005, 999, "< 0.001"), (0.001, 999, "0.001"), (0.0, 99, "< 0.01"),
    (0.004, 99, "< 0.01"), (0.01, 99, "0.01"), (0.0, 299, "< 0.0033"), (0.003, 299, "< 0.0033"),
    (np.nan, None, "")])
def test_p_values_never_below_their_resolution_and_with_the_same_decimals_from_0_1_up(p, reps, text):
    assert fmt_p(p, reps=reps) == text


@pytest.mark.parametrize("value, text", [(5.02, "5"), (4.5, "5"), (5.5, "6"), (5.49, "5"), (np.nan, "")])
def test_ranks_are_rounded_half_up(value, text):
    assert fmt_rank(value) == text


@pytest.mark.parametrize("name", ["n", "respondents", "villages", "provinces", "n_psu", "psus", "rows",
                                  "records", "df", "blank", "declared", "errors", "warnings", "institutions",
                                  "clusters", "province-years", "observations", "N", "n_domain"])
def test_count_columns(name):
    assert column_kind(name, pd.Series([1.0])) == "count"


@pytest.mark.parametrize("name, values, kind", [
    ("year", [2020], "year"), ("survey_year", [2020], "year"), ("median_rank", [2.0], "rank"),
    ("Rank", [1], "rank"), ("median rank", [2.0], "rank"), ("rank_low", [1.0], "rank"),
    ("rank_high", [3.0], "rank"), ("rank, 97.5 %", [3.0], "rank"),
    ("rank normalisation", [7.12], "number"), ("p", [0.1], "p"), ("wild p (Holm)", [0.1], "p"), ("p_adj", [0.1], "p"),
    ("p-value", [0.1], "p"), ("estimate", [1.5], "number"), ("top", [1.0], "number"),
    ("pp", [1.0], "number"), ("ok", [True], "text"), ("province", ["Anhui"], "text")])
def test_other_column_kinds(name, values, kind):
    assert column_kind(name, pd.Series(values)) == kind


def test_a_table_is_written_cell_by_cell_with_the_marks():
    df = pd.DataFrame({
        "domain": ["a", "b", "c"], "estimate": [51.234, np.nan, 40.0], "se": [1.0, np.nan, 12.5],
        "p": [0.0004, np.nan, 0.2], "median_rank": [1.0, np.nan, 2.5], "n": [120, 6, 40],
        "year": [2020, 2020, 2021], "ratio": [1.25, np.nan, 0.5],
        SUPPRESSED: ["", "fewer than 10 respondents", ""], "flag": ["", "", "relative SE 30 % or more"]},
        index=[7, 8, 9])
    text, numeric = format_frame(df, decimals={"se": 2}, kinds={"ratio": "ratio"})
    assert list(text.columns) == ["domain", "estimate", "se", "p", "median_rank", "n", "year", "ratio"]
    assert text.index.tolist() == [7, 8, 9]
    assert numeric == ["estimate", "se", "p", "median_rank", "n", "year", "ratio"]
    assert text.loc[7].tolist() == ["a", "51.2", "1.00", "< 0.001", "1", "120", "2020", "1.2"]
    assert text.loc[8].tolist() == ["b", MARK, MARK, MARK, MARK, "6", "2020", MARK]   # counts stay
    assert text.loc[9].tolist() == ["c", "40.0 †", "12.50", "0.20", "3", "40", "2021", "0.5"]


def test_the_reliability_mark_goes_on_the_first_estimate_column_present():
    for col in ("estimate", "all", "ame", "AME (pp)"):
        df = pd.DataFrame({"x": [1.0], col: [2.0], "flag": ["x"]})
        assert format_frame(df)[0].loc[0].tolist() == ["1.0", "2.0 †"]
    both = pd.DataFrame({"all": [1.0], "estimate": [2.0], "flag": ["x"]})
    assert format_frame(both)[0].loc[0].tolist() == ["1.0", "2.0 †"]        # estimate first
    none = pd.DataFrame({"x": [1.0], "flag": ["x"]})
    assert format_frame(none)[0].loc[0].tolist() == ["1.0"]


def test_missing_text_and_years_are_blank_and_an_unflaggable_cell_stays_blank():
    df = pd.DataFrame({"domain": ["a", None], "year": [2020.0, np.nan], "estimate": [np.nan, 3.0],
                       "flag": ["x", "x"]})
    text, numeric = format_frame(df)
    assert text["domain"].tolist() == ["a", ""] and text["year"].tolist() == ["2020", ""]
    assert text["estimate"].tolist() == ["", "3.0 †"] and numeric == ["year", "estimate"]


def test_formatter_options():
    df = pd.DataFrame({"a": [1.23456], "b": [0.0004], "c": ["text"]})
    assert format_frame(df, decimals=3)[0].loc[0].tolist() == ["1.235", "0.0004", "text"]
    assert format_frame(df, kinds={"a": "count", "b": "p"})[0].loc[0].tolist() == ["1", "< 0.001", "text"]
    assert format_frame(df.rename(columns={"b": "p"}), reps=999)[0].loc[0].tolist() == ["1.2", "< 0.001", "text"]
    assert format_frame(pd.DataFrame({"p": [0.004]}), reps=99)[0].loc[0].tolist() == ["< 0.01"]
    mixed = pd.DataFrame({"x": pd.Series([1.5, "n/a"], dtype=object)})
    assert format_frame(mixed, kinds={"x": "number"})[0]["x"].tolist() == ["1.5", "n/a"]


def test_a_bootstrap_p_column_beside_an_analytic_one_floors_only_itself():
    """Replicates given by column: the bootstrap p is shown at its resolution (199 draws: below
    0.005), the analytic p beside it at its own precision."""
    df = pd.DataFrame({"CR1 p": [2.2e-6, 0.0031], "wild p": [0.0, 0.0031]})
    shown = format_frame(df, reps={"wild p": 199})[0]
    assert shown["CR1 p"].tolist() == ["< 0.001", "0.0031"]
    assert shown["wild p"].tolist() == ["< 0.005", "< 0.005"]
    assert format_frame(df, reps=199)[0]["CR1 p"].tolist() == ["< 0.005", "< 0.005"]   # every p column


def test_suppression_helpers():
    t = DisclosurePolicy(min_cell=10).apply(pd.DataFrame({"estimate": [51.0, 40.0, 30.0], "n": [120, 6, 50],
                                                          "n_psu": [3, 2, 1]}))
    assert suppressed_rows(t).tolist() == [False, True, True]
    assert suppressed_rows(t.assign(suppressed=["", "x", ""])).tolist() == [False, True, False]
    assert suppressed_rows(pd.DataFrame({"a": [1, 2]})).tolist() == [False, False]
    assert published(t).to_dict("list") == {"estimate": [51.0], "n": [120], "n_psu": [3]}
    assert published(pd.DataFrame({"a": [1]})).to_dict("list") == {"a": [1]}


@pytest.mark.parametrize("n, n_psu, why", [
    (10, 2, ""), (9, 5, "fewer than 10 respondents"), (10, 1, "a single PSU (no variance estimate; identifies one village)"),
    (10, 0, "a single PSU (no variance estimate; identifies one village)"), (10, None, ""), (10, -1, ""),
    (np.nan, 3, "fewer than 10 respondents")])
def test_disclosure_reasons_at_the_thresholds(n, n_psu, why):
    """n_psu −1 is "not known" (a statistic without PSUs): only the count rule applies."""
    assert DisclosurePolicy(min_cell=10).reason(n, n_psu) == why


def test_policy_helpers():
    from types import SimpleNamespace

    from analysis.publishing.disclosure import suppression_note

    study = SimpleNamespace(wave=SimpleNamespace(spec=SimpleNamespace(min_cell=7)))
    assert DisclosurePolicy.for_study(study) == DisclosurePolicy(min_cell=7, min_psu=2)
    pol = DisclosurePolicy(min_cell=7)
    assert pol.publishable(7, 2) and not pol.publishable(6, 2) and not pol.publishable(7, 1)
    t = pol.apply(pd.DataFrame({"estimate": [1.0, 2.0, 3.0], "n": [3, 50, 50], "n_psu": [2, 1, 4]}))
    assert suppression_note(t) == (f"{MARK} not published (disclosure or reliability rule): a single PSU (no variance estimate; "
                                   "identifies one village); fewer than 7 respondents.")
    assert suppression_note(t.iloc[[2]]) == "" and suppression_note(pd.DataFrame({"a": [1]})) == ""
    again = pol.apply(pd.DataFrame({"estimate": [1.0, 2.0], "n": [50, 50], SUPPRESSED: ["earlier", ""]}))
    assert again[SUPPRESSED].tolist() == ["earlier", ""]             # an earlier pass's reason is kept


def test_a_policy_reads_the_columns_it_is_told():
    df = pd.DataFrame({"count": [5, 50], "psus": [4, 1], "mean": [1.0, 2.0], "other": [3.0, 4.0]})
    out = DisclosurePolicy(min_cell=10).apply(df, n="count", n_psu="psus", values=["other"])
    assert out["mean"].tolist() == [1.0, 2.0] and np.isnan(out["other"]).tolist() == [True, True]
    no_psu = DisclosurePolicy(min_cell=10).apply(df, n="count", n_psu=None)
    assert no_psu[SUPPRESSED].tolist() == ["fewer than 10 respondents", ""]
    assert np.isnan(no_psu["mean"].iloc[0]) and no_psu["mean"].iloc[1] == 2.0
    ints = DisclosurePolicy(min_cell=10).apply(pd.DataFrame({"estimate": [1, 2], "n": [5, 50]}), n_psu="n_psu")
    assert ints["estimate"].dtype == "float64" and ints[SUPPRESSED].tolist()[1] == ""


def test_plain_values_are_the_same_numbers_unrounded():
    assert type(as_plain(np.float64(1.5))) is float and type(as_plain(np.int64(2))) is int
    assert as_plain("x") == "x"
    for x in (0.0123456789, 1e-9, 61.987654321, -3.14159):      # a glued p-value or SE keeps every digit
        assert as_plain(np.float64(x)) == x and as_plain(np.float32(x)) == float(np.float32(x))
    assert as_plain(np.int64(2**40 + 1)) == 2**40 + 1


def test_a_table_of_different_quantities_sets_its_decimals_row_by_row():
    """Yuan beside percentages in one column (a profile's official values): whole yuan, shares to
    one decimal; a missing value stays blank; without the attribute (or with one of the wrong
    length) every row takes the column's decimals."""
    df = pd.DataFrame({"series": ["GDP per head (yuan)", "urbanization (%)"], "year": [2024, 2024],
                       "province": [216772.0, 89.33], "nation": [95749.4, np.nan]})
    df.attrs["row_decimals"] = [0, 1]
    shown, numeric = format_frame(df, decimals=1)
    assert shown["province"].tolist() == ["216,772", "89.3"]
    assert shown["nation"].tolist() == ["95,749", ""]
    assert shown["year"].tolist() == ["2024", "2024"] and "series" not in numeric
    df.attrs["row_decimals"] = [0]
    assert format_frame(df, decimals=1)[0]["province"].tolist() == ["216,772.0", "89.3"]
    del df.attrs["row_decimals"]
    assert format_frame(df, decimals=2)[0]["province"].tolist() == ["216,772.00", "89.33"]


def test_a_withheld_estimate_shows_the_disclosure_mark_alone_even_when_its_row_is_flagged():
    """A flag says "read this number with care": a withheld number has none to read, so its cell
    is the mark alone, while a shown flagged estimate carries the dagger."""
    from analysis.publishing.formats import format_frame

    df = pd.DataFrame({"province": ["A", "B"], "estimate": [np.nan, 41.23],
                       SUPPRESSED: ["fewer than 10 respondents", ""],
                       "flag": ["fewer than 8 design df", "fewer than 8 design df"]})
    out, _ = format_frame(df)
    assert out["estimate"].tolist() == [MARK, "41.2 †"]
