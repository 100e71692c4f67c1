"""The weight rules judge the whole wave, streamed as in memory: a respondent's share of the total
weight and the weights' effective sample size are the wave's, not a partition's. A last partition
of three respondents, one of them from a heavily weighted province, carries more than half of
its own total: that is no reason to refuse a valid wave (it was an error, exit 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.estimation.stream import WeightTotals, stream_wave, write_partitioned
from analysis.ingest.validate import validate_wave
from analysis.replica import generate

DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id", "lonely_psu": "adjust"}


def _one_file_wave(parent: Path, v: pd.DataFrame) -> Path:
    wave = parent / "w"
    wave.mkdir()
    v.to_parquet(wave / "villagers.parquet", index=False)
    design = {k: c for k, c in DESIGN.items()}
    (wave / "wave.yml").write_text(yaml.safe_dump({"id": "w", "questionnaires": {
        "villagers": {"file": "villagers.parquet"}}, "design": design}), encoding="utf-8")
    return wave


def _weight_problems(report):  # type: ignore[no-untyped-def]
    return sorted((p.rule, p.severity, p.row if p.row is None else int(p.row), str(p.message))
                  for p in report.problems if p.column == "weight")


@pytest.fixture(scope="module")
def villagers() -> pd.DataFrame:
    return generate(seed=5, n=1200, calibrate=False)["villagers"]


def _heavy_last(v: pd.DataFrame) -> pd.DataFrame:
    """The rows reordered so that the last three are the two lightest and the heaviest."""
    order = np.argsort(v["weight"].to_numpy(float), kind="stable")
    return v.iloc[np.r_[order[2:-1], order[:2], order[-1:]]].reset_index(drop=True)


def test_a_small_last_partition_of_heavy_weights_is_no_dominant_weight(villagers, tmp_path):
    v = _heavy_last(villagers)
    tail = v["weight"].to_numpy(float)[-3:]
    assert tail.max() / tail.sum() > 0.5 and tail.max() / v["weight"].sum() < 0.5     # the premise
    write_partitioned(v, tmp_path / "parts", rows_per_file=len(v) - 3)
    streamed = stream_wave(tmp_path / "parts", DESIGN)["report"]
    memory, _ = validate_wave(_one_file_wave(tmp_path, v))
    assert memory.ok and streamed.ok, [p for p in streamed.problems if p.severity == "error"]
    assert _weight_problems(streamed) == []


@pytest.mark.parametrize("cut", [7, 400])
def test_a_dominant_weight_is_reported_streamed_at_the_row_memory_reports(villagers, tmp_path, cut):
    """One weight carrying most of the wave's total: an error at its row, whatever the cut."""
    v = villagers.copy()
    v.loc[500, "weight"] = 10.0 * v["weight"].sum()
    write_partitioned(v, tmp_path / "parts", rows_per_file=cut)
    streamed = stream_wave(tmp_path / "parts", DESIGN)["report"]
    memory, _ = validate_wave(_one_file_wave(tmp_path, v))
    mem = [(p.rule, p.value, p.message) for p in memory.errors if p.column == "weight"]
    got = [(p.rule, p.value, p.message) for p in streamed.errors if p.column == "weight"]
    assert mem == got and len(got) == 1 and got[0][0] == "no dominant weight"
    (err,) = [p for p in streamed.errors if p.column == "weight"]
    assert (err.file, err.row) == (f"part-{500 // cut:05d}.parquet", 500 % cut + 2)


def test_weights_too_unequal_are_said_once_for_the_wave(villagers, tmp_path):
    """Kish's effective sample size of the whole wave, in the words memory uses."""
    v = villagers.copy()
    v.loc[::40, "weight"] = v["weight"] * 400
    write_partitioned(v, tmp_path / "parts", rows_per_file=250)
    streamed = stream_wave(tmp_path / "parts", DESIGN)["report"]
    memory, _ = validate_wave(_one_file_wave(tmp_path, v))
    kish = [str(p.message) for p in memory.warnings if p.rule == "weights vary plausibly"]
    assert len(kish) == 1
    assert [str(p.message) for p in streamed.warnings if p.rule == "weights vary plausibly"] == kish
    (got,) = [p for p in streamed.warnings if p.rule == "weights vary plausibly"]
    (mem,) = [p for p in memory.warnings if p.rule == "weights vary plausibly"]
    assert (got.row, got.column, got.value, got.severity) == (mem.row, mem.column, mem.value, mem.severity)
    assert got.file.startswith("part-") and got.file.endswith(".parquet")       # a file of the wave


def test_weight_totals_merge_as_one_pass_and_keep_the_first_of_equal_largest_weights():
    w = np.array([1.0, 5.0, np.nan, 5.0, 2.0, -1.0, 3.0])
    one = WeightTotals()
    one.add(w, "a", 2)
    parts = [WeightTotals() for _ in range(3)]
    for p, (lo, hi) in zip(parts, [(0, 2), (2, 4), (4, 7)]):
        p.add(w[lo:hi], "a", 2 + lo)
    merged = parts[0].merge(parts[1]).merge(parts[2])
    assert (merged.n, merged.total, merged.squares, merged.top) == (one.n, one.total, one.squares, one.top)
    assert one.top == (5.0, "a", 3) and one.n == 5 and one.total == 16.0 and one.squares == 64.0


def test_weight_totals_add_piece_after_piece_and_count_only_valid_weights():
    """Two pieces added to one total are the total of both; a weight of 0 is no valid weight."""
    w = np.array([1.0, 5.0, 0.0, 2.0, np.inf, 3.0])
    one = WeightTotals()
    one.add(w, "a", 2)
    two = WeightTotals()
    two.add(w[:3], "a", 2)
    two.add(w[3:], "a", 5)
    assert (two.n, two.total, two.squares, two.top) == (one.n, one.total, one.squares, one.top)
    assert (one.n, one.total, one.squares, one.top) == (4, 11.0, 39.0, (5.0, "a", 3))
    assert one.merge(one) is one and (one.n, one.total) == (4, 11.0)            # itself: nothing added


@pytest.mark.parametrize("w, rules", [
    ([1.0, 100.0], []),                                   # fewer than 3 valid weights: not judged
    ([1.0, 1.0, 100.0], ["no dominant weight"]),           # 3: judged, as in memory
    ([1.0, 1.0, 2.0], []),                                 # exactly half the total: not dominant
])
def test_weight_totals_judge_as_memory_judges(w, rules):
    t = WeightTotals()
    t.add(np.array(w), "part-00000.parquet", 2)
    assert [p.rule for p in t.problems("weight")] == rules


def test_a_weight_far_above_its_stratum_is_warned_of_streamed_even_where_its_piece_is_small(villagers,
                                                                                           tmp_path):
    """A weight 40 times its province's median, last of a partition of three: the partition's
    own total makes it "dominant" there, a rule the whole wave judges; its far weight is still
    said, as memory says it (the piece's check stopped at its dominant weight)."""
    v = villagers.copy()
    prov = v["province"].iloc[0]
    rows = np.flatnonzero(v["province"].to_numpy() == prov)[:3]
    med = float(v.loc[v["province"] == prov, "weight"].median())
    v.loc[rows, "weight"] = [med, med, 40 * med]
    v = v.iloc[np.r_[np.setdiff1d(np.arange(len(v)), rows), rows]].reset_index(drop=True)
    write_partitioned(v, tmp_path / "parts", rows_per_file=len(v) - 3)
    streamed = stream_wave(tmp_path / "parts", DESIGN)["report"]
    memory, _ = validate_wave(_one_file_wave(tmp_path, v))
    far = [(p.value, p.severity) for p in memory.warnings if p.rule == "no dominant weight"]
    assert far == [(_short_value(40 * med), "warning")]                                   # the premise
    got = [p for p in streamed.problems if p.rule == "no dominant weight"]
    assert [(p.value, p.severity, p.file, p.row) for p in got] == [
        (_short_value(40 * med), "warning", "part-00001.parquet", 4)]
    assert "40 times the median weight of its stratum" in str(got[0].message)
    assert streamed.ok and memory.ok


def test_a_dominant_weight_far_above_its_stratum_is_said_as_both(villagers, tmp_path):
    """In memory, the weight rules are judged each on its own: a weight carrying most of the
    total is an error, and being far above its stratum's median a warning of the same row."""
    v = villagers.copy()
    v.loc[500, "weight"] = 10.0 * v["weight"].sum()
    memory, _ = validate_wave(_one_file_wave(tmp_path, v))
    got = sorted((p.severity, p.row) for p in memory.problems if p.column == "weight")
    assert got == [("error", 502), ("warning", 502)]


def _short_value(w: float) -> str:
    from analysis.ingest.validate import _short
    return _short(w)
