"""A region the disclosure policy withholds is withheld by the sensitivity analysis too: its scores
across draws are not drawn, nor printed by ``ruralgov sensitivity``, and the east–west gap that
rests on it is not given (the province ranks already left withheld provinces out). And the
command's --draws 0 is refused as too few, not taken for "not given"."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()


def _one_village(folder, keep):  # type: ignore[no-untyped-def]
    """The wave's villagers of ``keep``'s province cut to that province's first village."""
    v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
    first = v.loc[v["province"] == keep, "village_id"].iloc[0]
    v = v[(v["province"] != keep) | (v["village_id"] == first)]
    v.to_csv(folder / "villagers.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def tibet_alone(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Shanghai and Zhejiang (east) and Tibet (west), Tibet cut to one village: the west is
    withheld (a single PSU), the east published."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study
    from analysis.report.pages.common import published_province_names
    from tests import wavegen

    folder = wavegen.provinces(tmp_path_factory.mktemp("w") / "sh-zj-xz", ["上海", "浙江", "西藏"])
    folder = _one_village(folder, "西藏")
    st = build_study(folder)
    s = run_sensitivity(st, draws=70, seed=3, rank_among=published_province_names(st))
    return folder, st, s


def test_the_premise_the_west_is_withheld_and_the_run_has_its_gap(tibet_alone):
    from analysis.report.pages.common import withheld_regions

    _folder, st, s = tibet_alone
    gone = withheld_regions(st)
    assert list(gone) == ["west"] and gone["west"]
    assert s.has_gap and {"east", "west"} <= set(s.regions.columns)


def test_the_regions_figure_draws_the_published_regions_only_and_no_gap(tibet_alone):
    from analysis.report.pages import sensitivity

    _folder, st, s = tibet_alone
    shown = sensitivity.shown_regions(st, s)
    assert list(shown.columns) == ["east"]
    np.testing.assert_array_equal(shown["east"].to_numpy(), s.regions["east"].to_numpy())
    fig = sensitivity.figures_(st, s)["fig_sens_regions"]
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() + ax.get_xticklabels()]
    assert "east" in labels and "west" not in labels and not any("−" in t for t in labels)


def test_the_gap_sentence_says_it_is_withheld_and_why(tibet_alone):
    from analysis.report.pages import sensitivity
    from analysis.report.pages.common import withheld_regions

    _folder, st, s = tibet_alone
    g = sensitivity.stats(st, s)
    assert "gap_mc_mean" not in g and "gap_positive_share" not in g
    text = sensitivity.gap_text(g)
    assert text.startswith("The east–west gap across draws is not shown")
    assert withheld_regions(st)["west"] in text


def test_the_command_blanks_the_withheld_region_and_the_gap_with_their_reason(tibet_alone):
    folder, st, s = tibet_alone
    res = runner.invoke(app, ["sensitivity", str(folder), "--draws", "70", "--seed", "3", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["quantity"]: r for r in json.loads(res.stdout)["regions"]}
    assert rows["west"]["mean"] is None and rows["west"]["low"] is None and rows["west"]["suppressed"]
    assert rows["east_minus_west"]["mean"] is None and rows["east_minus_west"]["suppressed"]
    assert rows["east"]["mean"] == pytest.approx(float(s.regions["east"].mean()))
    assert not rows["east"]["suppressed"]
    table = runner.invoke(app, ["sensitivity", str(folder), "--draws", "70", "--seed", "3"])
    assert table.exit_code == 0 and "‡" in table.stdout


def test_a_wave_with_no_published_region_draws_a_placeholder(tmp_path):
    """Shanghai alone, one village: the east (the only region) is withheld."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study
    from analysis.report.pages import sensitivity
    from tests import wavegen

    st = build_study(_one_village(wavegen.provinces(tmp_path / "sh", ["上海"]), "上海"))
    s = run_sensitivity(st, draws=70, seed=3, rank_among=[])
    assert sensitivity.shown_regions(st, s).shape[1] == 0
    fig = sensitivity.figures_(st, s)["fig_sens_regions"]
    text = " ".join([t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts])
    assert "No region's degree is published" in text


@pytest.mark.parametrize("draws", ["0", "13"])
def test_fewer_than_14_draws_is_a_usage_error_even_0(draws):
    """--draws 0 is given, not absent: refused (exit 2) before the wave is read, as 13 is."""
    res = runner.invoke(app, ["sensitivity", "no-such-wave", "--draws", draws])
    assert res.exit_code == 2 and "--draws must be at least 14" in res.output


def test_the_sobol_indices_of_a_withheld_gap_are_left_out_and_the_note_says_why(tibet_alone):
    from analysis.report.pages import sensitivity

    _folder, st, s = tibet_alone
    assert (s.sobol["output"] == sensitivity.GAP_OUTPUT).any()      # the premise: the run has them
    table, note = sensitivity.sobol_table(s, st)
    assert not (table["output"] == sensitivity.GAP_OUTPUT).any()
    assert "rests on a region whose degree is withheld" in note
    kept, _note = sensitivity.sobol_table(s)                        # (without the study: every index)
    assert (kept["output"] == sensitivity.GAP_OUTPUT).any()
    res = runner.invoke(app, ["sensitivity", str(_folder), "--draws", "70", "--seed", "3",
                              "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["sobol"]
    assert not any(r["output"] == sensitivity.GAP_OUTPUT for r in json.loads(res.stdout)["sobol"])


def test_with_its_gap_withheld_and_one_province_published_no_index_is_shown_and_the_figure_says_so(
        tmp_path):
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study
    from analysis.report.pages import sensitivity
    from tests import wavegen

    st = build_study(_one_village(wavegen.provinces(tmp_path / "sh-xz", ["上海", "西藏"]), "西藏"))
    s = run_sensitivity(st, draws=70, seed=3, rank_among=["Shanghai"])
    assert sensitivity.defined_sobol(s, st).empty and not sensitivity.defined_sobol(s).empty
    fig = sensitivity.figures_(st, s)["fig_sens_sobol"]
    text = " ".join([t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts])
    assert "the gap rests on a withheld region" in text


def test_a_gap_resting_on_two_withheld_regions_names_each_region_s_reason(monkeypatch):
    """Both regions withheld for the same reason: the gap's reason names each region once."""
    from types import SimpleNamespace

    from analysis.report.pages import sensitivity

    summary = pd.DataFrame({"mean": [51.0, 49.0, 2.0], "low": [50.0, 49.0, 1.0], "high": [52.0, 49.0, 3.0]},
                           index=["east", "west", "east_minus_west"])
    run = SimpleNamespace(has_gap=True, region_summary=lambda: summary)
    few = "fewer than 10 respondents"
    monkeypatch.setattr(sensitivity, "withheld_regions", lambda study: {"east": few, "west": few})
    t = sensitivity.shown_region_summary(object(), run)
    assert t.loc["east_minus_west", "suppressed"] == f"east: {few}; west: {few}"
    assert t[["mean", "low", "high"]].isna().all().all()


def test_the_chinese_gap_sentence_uses_the_edition_s_punctuation(tibet_alone, monkeypatch):
    from analysis import i18n
    from analysis.report.pages import sensitivity

    _folder, st, s = tibet_alone
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    text = sensitivity.gap_text(sensitivity.stats(st, s))
    assert text.startswith("不展示各次抽样中的东西部差距") and "西部：" in text and "; " not in text


def test_the_gap_sentence_gives_the_mean_and_each_end_of_the_95_percent_range():
    from analysis.report.pages import sensitivity

    g = {"gap_mc_mean": 13.7, "gap_mc_low": 2.25, "gap_mc_high": 24.5, "gap_positive_share": 98.0}
    text = sensitivity.gap_text(g)
    assert text.startswith("Across draws the east–west gap averages 13.7 points, with 95 % of draws "
                           "between 2.2 and 24.5; it is positive in 98 % of draws.")


def _sobol(outputs):  # type: ignore[no-untyped-def]
    from analysis.estimation.sensitivity import INPUTS

    return pd.DataFrame([{"input": i, "output": o, "first_order": 0.2, "total": 0.3}
                         for o in outputs for i in INPUTS])


@pytest.mark.parametrize("gone", ["east", "west"])
def test_a_gap_is_withheld_when_either_of_its_regions_is(gone, monkeypatch):
    from types import SimpleNamespace

    from analysis.report.pages import sensitivity

    monkeypatch.setattr(sensitivity, "withheld_regions", lambda study: {gone: "a single PSU"})
    run = SimpleNamespace(has_gap=True)
    assert sensitivity.gap_withheld(object(), run)
    monkeypatch.setattr(sensitivity, "withheld_regions", lambda study: {})
    assert not sensitivity.gap_withheld(object(), run)


def test_the_sobol_note_of_a_withheld_gap_says_nothing_of_outputs_that_do_not_vary(monkeypatch):
    """Every output varies (the gap's indices are defined, the ranks' too): the note says the
    gap's indices are left out as withheld, not that an output does not vary."""
    from types import SimpleNamespace

    from analysis.report.pages import sensitivity

    run = SimpleNamespace(sobol=_sobol([sensitivity.GAP_OUTPUT, "province ranks (mean over provinces)"]),
                          n_evaluations=700, has_gap=True)
    monkeypatch.setattr(sensitivity, "withheld_regions", lambda study: {"west": "a single PSU"})
    table, note = sensitivity.sobol_table(run, object())
    assert len(table) == 5 and "rests on a region whose degree is withheld" in note
    assert "does not vary" not in note


def test_the_chinese_panel_note_lists_its_items_with_the_edition_s_separator(monkeypatch):
    from analysis import i18n
    from analysis.report.pages import compare

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    text = compare.panel_note(["w1: internet_use"])
    assert "、".join(compare.PANEL_ITEMS) in text and ", " not in text
