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
    """Shanghai (east) and Tibet (west), Tibet cut to one village: the west is withheld (a single
    PSU), the east published."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study
    from analysis.report.pages.common import published_province_names
    from tests import wavegen

    folder = wavegen.provinces(tmp_path_factory.mktemp("w") / "sh-xz", ["上海", "西藏"])
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
