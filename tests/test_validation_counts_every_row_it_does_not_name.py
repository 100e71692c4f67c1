"""Validation names the first 50 rows breaking a rule one by one and counts the others in one line
("N more row(s) of this column break this rule"), for every rule that stops naming rows at 50
(unknown provinces, blank and duplicated ids, exclusive answers), as it already did for
unparsable values; and a number read from a binary file is shown as written (990000), not as
numpy's text (np.float64(990000.0))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest import provinces
from analysis.ingest.validate import validate_wave
from tests import wavegen


def _wave(tmp_path, change) -> tuple:  # type: ignore[no-untyped-def]
    """The validation report of the replica whose villagers ``change`` edits in place."""
    def edited(v: pd.DataFrame) -> pd.DataFrame:
        change(v)
        return v

    return validate_wave(wavegen.replica_copy(tmp_path / "w-rows", villagers=edited))[0]


@pytest.mark.parametrize("n", [50, 60])
def test_unknown_provinces_beyond_fifty_are_counted_in_one_line(tmp_path, n):
    def change(v):  # type: ignore[no-untyped-def]
        v.loc[v.index[:n], "province"] = "Atlantis"

    rep = _wave(tmp_path, change)
    named = [p for p in rep.errors if p.rule == "known province" and p.row is not None]
    more = [p for p in rep.errors if p.rule == "known province" and p.row is None]
    assert len(named) == 50
    if n == 50:
        assert more == []
    else:
        assert len(more) == 1 and "10 more row(s) of this column break this rule" in more[0].message


def test_blank_and_unknown_provinces_beyond_fifty_are_each_counted_under_their_own_rule(tmp_path):
    """40 unknown provinces then 25 blank ones: the 50 named are 40 unknown and 10 blank; the 15
    left over are blank, counted under "not missing", none under "known province"; swapped (25
    blank then 40 unknown), 15 more under "known province" and none under "not missing"."""
    def change(v):  # type: ignore[no-untyped-def]
        v.loc[v.index[:40], "province"] = "Atlantis"
        v.loc[v.index[40:65], "province"] = ""

    def swapped(v):  # type: ignore[no-untyped-def]
        v.loc[v.index[:25], "province"] = ""
        v.loc[v.index[25:65], "province"] = "Atlantis"

    for edit, counted, other in ((change, "not missing", "known province"),
                                 (swapped, "known province", "not missing")):
        rep = _wave(tmp_path / edit.__name__, edit)
        rows = [p for p in rep.errors if p.column == "province" and p.row is not None]
        assert len(rows) == 50
        more = {r: [p.message for p in rep.errors if p.rule == r and p.row is None and p.column == "province"]
                for r in (counted, other)}
        assert len(more[counted]) == 1 and "15 more row(s) of this column" in more[counted][0]
        assert more[other] == []


def test_duplicated_ids_beyond_fifty_are_counted(tmp_path):
    def change(v):  # type: ignore[no-untyped-def]
        v.loc[v.index[1:71], "resp_id"] = v.loc[v.index[0], "resp_id"]     # 71 rows share one id

    rep = _wave(tmp_path, change)
    more = [p for p in rep.errors if p.rule == "unique id" and p.row is None]
    assert len([p for p in rep.errors if p.rule == "unique id" and p.row is not None]) == 50
    assert len(more) == 1 and "21 more row(s)" in more[0].message


def test_blank_ids_beyond_fifty_are_counted(tmp_path):
    def change(v):  # type: ignore[no-untyped-def]
        v.loc[v.index[:55], "resp_id"] = ""

    rep = _wave(tmp_path, change)
    more = [p for p in rep.errors if p.rule == "not missing" and p.row is None and p.column == "resp_id"]
    assert len(more) == 1 and "5 more row(s)" in more[0].message


@pytest.mark.parametrize("value, shown", [(np.float64(990000.0), "990000"), (990000, "990000"),
                                          (np.float64(12.5), "12.5"), ("Atlantis", "'Atlantis'")])
def test_an_unknown_province_is_named_as_written(value, shown):
    with pytest.raises(provinces.UnknownProvince) as e:
        provinces.resolve(value)
    assert str(e.value).startswith(f"unknown province {shown}")
    assert "np." not in str(e.value)
