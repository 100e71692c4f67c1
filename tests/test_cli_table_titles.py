"""The titles of the command line's tables say which wave a table is about and whether its data
are synthetic: ``— SYNTHETIC REPLICA`` after the degrees, models and reproduction of a synthetic
wave and never after a wave of observed microdata, and a folder's name printed whole, brackets
included (a title is text, not terminal markup)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.stream import write_partitioned
from analysis.ingest.wave import load_wave
from tests import wavegen
from tests.conftest import shared

runner = CliRunner()
TAG = " — SYNTHETIC REPLICA"


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope=shared)
def observed(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A wave of observed microdata (wave.yml without synthetic: true), cut from the replica."""
    return wavegen.provinces(tmp_path_factory.mktemp("obs") / "follow-up", ["上海", "浙江", "云南", "西藏"])


@pytest.mark.parametrize("args, title", [
    (["index"], r"wave 2020-replica: modernization degree \(overall\)"),
    (["index", "--by", "region"], r"wave 2020-replica: modernization degree \(overall\)"),
    (["models", "--model", "wls_region"], r"\(wls, n = \d+\)"),
    (["reproduce"], r"wave 2020-replica: published figures vs reproduction"),
])
def test_a_synthetic_wave_s_tables_are_titled_as_synthetic(args, title):
    """Default wave (synthetic): the title carries the tag right after what the table is."""
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert re.search(title + TAG, _flat(res.output)), res.output


def test_an_observed_wave_s_tables_carry_no_synthetic_tag(observed):
    """A wave that does not say it is synthetic: the same titles without the tag."""
    assert not load_wave(observed).synthetic
    res = runner.invoke(app, ["index", str(observed)])
    assert res.exit_code == 0, res.output
    flat = _flat(res.output)
    assert "wave follow-up: modernization degree (overall)" in flat
    assert "SYNTHETIC" not in flat


def test_a_streamed_table_names_its_folder_whole_brackets_included(tmp_path):
    """ruralgov stream 'parts[x]' --model '': the degree table's title starts 'parts[x]: …'."""
    v = load_wave("2020-replica").villagers.drop(columns=["province_en", "region3", "region4"])
    folder = tmp_path / "parts[x]"
    write_partitioned(v, folder, rows_per_file=600)
    res = runner.invoke(app, ["stream", str(folder), "--model", ""])
    assert res.exit_code == 0, res.output
    assert "parts[x]: modernization degree by" in _flat(res.output)


@pytest.mark.parametrize("files, said", [(1, "rows in 1 partition)"), (3, "rows in 3 partitions)")])
def test_a_streamed_table_counts_its_rows_and_partitions_in_words_that_agree(tmp_path, files, said):
    """One partition is "1 partition", several are "partitions"."""
    v = load_wave("2020-replica").villagers.drop(columns=["province_en", "region3", "region4"])
    folder = tmp_path / "parts"
    write_partitioned(v, folder, rows_per_file=-(-len(v) // files))
    res = runner.invoke(app, ["stream", str(folder), "--model", ""])
    assert res.exit_code == 0, res.output
    assert f"({len(v):,} {said}" in _flat(res.output)


def test_validate_counts_each_questionnaire_s_rows_in_words_that_agree(tmp_path):
    """A valid wave's summary line: '1 row' for a questionnaire of one row, 'N rows' otherwise."""
    import pandas as pd

    folder = wavegen.replica_copy(tmp_path / "one-institution", institutions=lambda t: t.iloc[:1])
    n = len(pd.read_csv(folder / "villagers.csv", dtype=str))
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 0, res.output
    assert f"(villagers: {n} rows, institutions: 1 row;" in _flat(res.output)
