"""Disclosure control as one policy: the same cells are suppressed in the CLI's table, CSV and
JSON as on the pages; a suppressed cell is a missing number with its reason, shown as ‡."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.publishing.disclosure import MARK, DisclosurePolicy, published
from analysis.publishing.formats import format_frame

runner = CliRunner()


def test_policy_blanks_values_and_keeps_numbers_numeric():
    df = pd.DataFrame({"domain": ["a", "b", "c"], "estimate": [51.0, 40.0, 47.0], "se": [1.0, 2.0, 1.5],
                       "n": [120, 6, 40], "n_psu": [3, 2, 1]})
    out = DisclosurePolicy(min_cell=10).apply(df)
    assert out["estimate"].dtype == np.float64
    assert out["estimate"].isna().tolist() == [False, True, True]
    assert out["suppressed"].tolist()[0] == ""
    assert out["suppressed"].tolist()[1] == "fewer than 10 respondents"
    assert "single PSU" in out["suppressed"].tolist()[2]
    assert published(out)["domain"].tolist() == ["a"]
    text, _ = format_frame(out)
    assert text["estimate"].tolist() == ["51.0", MARK, MARK] and text["n"].tolist() == ["120", "6", "40"]


@pytest.mark.parametrize("min_cell", [3, 10, 25])
def test_no_published_cell_rests_on_fewer_than_min_cell(min_cell):
    rng = np.random.default_rng(min_cell)
    df = pd.DataFrame({"estimate": rng.normal(50, 5, 200), "n": rng.integers(0, 40, 200),
                       "n_psu": rng.integers(1, 4, 200)})
    out = DisclosurePolicy(min_cell=min_cell).apply(df)
    shown = out[out["estimate"].notna()]
    assert (shown["n"] >= min_cell).all() and (shown["n_psu"] >= 2).all()


def test_cli_index_marks_small_cells_in_table_csv_and_json(small_province_wave):
    res = runner.invoke(app, ["index", str(small_province_wave), "--by", "province"])
    assert res.exit_code == 0, res.output
    tibet = next(line for line in res.stdout.splitlines() if "Tibet" in line)
    assert MARK in tibet and "fewer than 10" in tibet
    csv = pd.read_csv(io.StringIO(runner.invoke(app, ["index", str(small_province_wave), "--by", "province",
                                                      "--format", "csv"]).stdout))
    row = csv.set_index("domain").loc["Tibet"]
    assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"]) and row["n"] == 6
    assert row["suppressed"] == "fewer than 10 respondents"
    js = json.loads(runner.invoke(app, ["index", str(small_province_wave), "--by", "province",
                                        "--format", "json"]).stdout)
    t = next(r for r in js if r["domain"] == "Tibet")
    assert t["estimate"] is None and t["se"] is None and t["suppressed"] == "fewer than 10 respondents"
    assert all(r["estimate"] is not None for r in js if r["domain"] != "Tibet")


def test_the_cli_table_prints_numbers_to_four_significant_digits(monkeypatch):
    """A small SE or p-value keeps its digits (not 0.00), a degree its first decimals; a
    withheld cell shows the mark."""
    from rich.console import Console

    from analysis import cli

    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=200))
    df = pd.DataFrame({"term": ["a", "b"], "estimate": [61.256789, np.nan], "se": [0.0012345, 0.5],
                       "p": [3.21e-05, 0.5], "suppressed": ["", "fewer than 10 respondents"]})
    cli._emit(df, cli.Format.table, title="t")
    rows = [line.split("│")[1:-1] for line in buf.getvalue().splitlines() if "│" in line]
    cells = {r[0].strip(): [c.strip() for c in r[1:]] for r in rows}
    assert cells["a"] == ["61.26", "0.001234", "3.21e-05", ""]
    assert cells["b"] == [MARK, "0.5", "0.5", "fewer than 10 respondents"]


@pytest.mark.parametrize("level", ["health", "concept"])
def test_cli_index_level_prints_that_level_s_degree_by_domain(small_province_wave, level):
    """--level names a field or an aspect: the degree printed is that level's (the study's own
    estimate of it), published by the same rule as the overall index."""
    from analysis.estimation.study import build_study

    st = build_study(str(small_province_wave))
    js = json.loads(runner.invoke(app, ["index", str(small_province_wave), "--by", "province",
                                        "--level", level, "--format", "json"]).stdout)
    want = st.degree(by="province_en", level=level).to_frame().set_index("domain")
    overall = st.degree(by="province_en").to_frame().set_index("domain")
    assert {r["level"] for r in js} == {level}
    shown = [r for r in js if r["estimate"] is not None]
    assert len(shown) == 2 and {r["domain"] for r in js} - {r["domain"] for r in shown} == {"Tibet"}
    for r in shown:
        assert r["estimate"] == pytest.approx(want.loc[r["domain"], "estimate"], rel=1e-12)
        assert r["se"] == pytest.approx(want.loc[r["domain"], "se"], rel=1e-12)
        assert r["estimate"] != pytest.approx(overall.loc[r["domain"], "estimate"], rel=1e-6)


def test_no_suppress_is_for_the_data_owner_and_warns(small_province_wave):
    res = runner.invoke(app, ["index", str(small_province_wave), "--by", "province", "--format", "csv",
                              "--no-suppress"])
    assert res.exit_code == 0
    assert "do not publish" in res.stderr
    csv = pd.read_csv(io.StringIO(res.stdout))
    assert not np.isnan(csv.set_index("domain").loc["Tibet", "estimate"])
    # the level asked for, unsuppressed: that level's degree, not the overall one
    from analysis.estimation.study import build_study

    res = runner.invoke(app, ["index", str(small_province_wave), "--by", "province", "--format", "csv",
                              "--level", "health", "--no-suppress"])
    got = pd.read_csv(io.StringIO(res.stdout)).set_index("domain")
    st = build_study(str(small_province_wave))
    want = st.degree(by="province_en", level="health").to_frame().set_index("domain")
    assert set(got["level"]) == {"health"} and len(got) == len(want)
    np.testing.assert_allclose(got["estimate"], want.loc[got.index, "estimate"], rtol=1e-9)


def test_cli_prints_psus_and_design_df_beside_every_domain_estimate(default_frames):
    """df of a region = its villages (PSUs) minus its provinces (strata); the CI is estimate ±
    t(df)·SE (Korn & Graubard)."""
    from scipy import stats

    from analysis.ingest.provinces import resolve

    v = default_frames["villagers"]
    region = v["province"].map(lambda p: resolve(p).region3)
    js = json.loads(runner.invoke(app, ["index", "--by", "region", "--format", "json"]).stdout)
    for r in js:
        mine = v[region == r["domain"]]
        assert r["n_psu"] == mine["village_id"].nunique()
        assert r["df"] == mine["village_id"].nunique() - mine["province"].nunique()
        q = stats.t.ppf(0.975, r["df"])
        assert r["ci_low"] == pytest.approx(r["estimate"] - q * r["se"], rel=1e-12)
        assert r["ci_high"] == pytest.approx(r["estimate"] + q * r["se"], rel=1e-12)


def test_reasons_are_english_data_and_said_in_the_edition_s_language(monkeypatch):
    """A table's suppression and reliability reasons are data (English, as its CSV holds them);
    its footnote and a profile's sentence say them in the edition being written, the least count
    included, whichever edition computed the table (a result is computed once for both)."""
    from analysis.i18n import reasons
    from analysis.publishing.disclosure import reason_text, suppression_note
    from analysis.publishing.reliability import nchs_proportions

    df = pd.DataFrame({"estimate": [50.0, 5.0, 50.0, 40.0], "se": [1.0, 2.5, 9.0, 2.0],
                       "ci_low": [48.0, 1.0, 31.0, 36.0], "ci_high": [52.0, 12.0, 69.0, 44.0],
                       "n": [400, 400, 400, 25], "n_psu": [20, 20, 20, 1], "df": [19, 19, 19, 0]})
    out = nchs_proportions(DisclosurePolicy(min_cell=30).apply(df))
    assert out["suppressed"].tolist() == ["", "95 % CI wider than 130 % of the estimate (NCHS)",
                                          "95 % CI 30 points wide or wider (NCHS)",
                                          "fewer than 30 respondents"]
    en = suppression_note(out)
    assert en == (f"{MARK} not published (disclosure or reliability rule): 95 % CI 30 points wide or wider "
                  "(NCHS); 95 % CI wider than 130 % of the estimate (NCHS); fewer than 30 respondents.")
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    assert nchs_proportions(DisclosurePolicy(min_cell=30).apply(df))["suppressed"].tolist() == \
        out["suppressed"].tolist()                                       # the same data in either edition
    zh = suppression_note(out)
    assert "受访者少于 30 人" in zh and "95 % 置信区间宽度达到 30 个百分点或以上（NCHS）" in zh
    assert "130 %" in zh and not re.search(r"[A-Za-z]{4,}", zh.replace("NCHS", "")), zh
    assert reasons("fewer than 12 respondents; fewer than 8 design df") == "受访者少于 12 人；设计自由度少于 8"
    assert reason_text("受访者少于 12 人") == "受访者少于 12 人"          # already in the edition's language
    assert reason_text("a reason no catalog knows") == "a reason no catalog knows"


def test_the_default_policy_withholds_every_value_of_a_cell_under_ten_respondents():
    """Ten respondents (the wave's min_cell default, as README states it) publish a cell, nine do
    not; every value column of the withheld row is blanked, the mean and rank limits too, and the
    counts that are the reason stay. The rule counts respondents, not the weighted size a domain
    estimates (here thousands)."""
    from analysis.publishing.disclosure import DEFAULT_PROTECTED, SUPPRESSED

    values = ["estimate", "se", "ci_low", "ci_high", "deff", "mean", "low", "high", "median_rank",
              "rank_low", "rank_high", "boot_mean", "boot_se"]
    assert set(values) == set(DEFAULT_PROTECTED)
    t = pd.DataFrame({"domain": ["a", "b"], "n": [9, 10], "n_psu": [2, 2], "sum_w": [3500.0, 8.0],
                      **{c: [1.0, 2.0] for c in values}})
    out = DisclosurePolicy().apply(t)
    assert out[values].iloc[0].isna().all() and (out[values].iloc[1] == 2.0).all()
    assert list(out[SUPPRESSED]) == ["fewer than 10 respondents", ""]
    assert list(out["n"]) == [9, 10] and list(out["n_psu"]) == [2, 2]


def test_the_policy_blanks_the_rows_it_judges_whatever_the_table_s_order_and_index():
    """A table sorted by its estimates (an index out of order) or filtered (an index with gaps)
    before the policy: each row keeps its own verdict, the same as in the table as built."""
    t = pd.DataFrame({"domain": list("abcdef"), "estimate": [50.0, 61.0, 40.0, 55.0, 47.0, 58.0],
                      "n": [6, 40, 35, 9, 80, 12], "n_psu": [3, 5, 1, 4, 6, 2]})
    pol = DisclosurePolicy()
    built = pol.apply(t).set_index("domain")
    for shown in (t.sort_values("estimate"), t.iloc[1:].set_axis([10, 3, 7, 0, 2])):
        got = pol.apply(shown).set_index("domain")
        pd.testing.assert_frame_equal(got, built.loc[got.index])
    assert built["estimate"].isna().tolist() == [True, False, True, True, False, False]
