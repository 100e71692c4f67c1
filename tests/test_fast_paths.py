"""The fast paths for large files (Arrow CSV reader, Arrow casts in validation) give exactly what
the careful paths give, and hand every file or column they do not accept to the careful path.

Each test compares the two paths on the same input; none compares against stored output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.ingest import readers as wio
from analysis.ingest.codebook import load_codebook
from analysis.ingest.readers import WaveError, WaveSpecInvalid, load_spec
from analysis.ingest.validate import ValidationReport, _Ctx, _parse_column, validate_wave
from tests.conftest import DEFAULT

CORPUS = Path(__file__).parent / "data" / "bad_waves"
WAVES = [DEFAULT, *sorted(p for p in CORPUS.iterdir() if (p / "wave.yml").exists())]


def _csv_specs():
    for folder in WAVES:
        try:
            spec = load_spec(folder)
        except (WaveError, WaveSpecInvalid):
            continue
        for q in spec.questionnaires.values():
            if wio.SUPPORTED.get(q.file.suffix.lower()) == "csv":
                yield folder.name, q


def test_fast_reader_equals_careful_reader_on_every_file_it_accepts():
    accepted = refused = 0
    for name, q in _csv_specs():
        fast = wio._read_csv_arrow(q)
        if fast is None:
            refused += 1
            continue
        accepted += 1
        try:
            careful = wio._read_csv_careful(q)
        except WaveError as e:          # the fast path must never accept what the careful refuses
            pytest.fail(f"{name}/{q.file.name}: fast reader accepted a file the careful one "
                        f"refuses ({e.rule}: {e.message})")
        pd.testing.assert_frame_equal(fast[0], careful[0], obj=f"{name}/{q.file.name}")
        assert fast[1] == careful[1]
    # both paths are exercised by the corpus (the default wave goes the fast way)
    assert accepted >= 10 and refused >= 5, (accepted, refused)
    assert wio._read_csv_arrow(load_spec(DEFAULT).questionnaires["villagers"]) is not None


@pytest.mark.parametrize("folder", WAVES, ids=[w.name for w in WAVES])
def test_validation_is_the_same_without_the_fast_reader(folder, monkeypatch):
    fast_report, fast_clean = validate_wave(folder)
    monkeypatch.setattr(wio, "_read_csv_arrow", lambda spec: None)
    report, clean = validate_wave(folder)
    assert [str(p) for p in fast_report.problems] == [str(p) for p in report.problems]
    assert fast_report.missing == report.missing and fast_report.rows == report.rows
    assert fast_clean.keys() == clean.keys()
    for q in clean:
        pd.testing.assert_frame_equal(fast_clean[q], clean[q], obj=f"{folder.name}/{q}")


class _Raw:
    """The part of a RawTable the column parser reads."""

    def __init__(self) -> None:
        self.file, self.headers, self.first_data_row, self.value_labels = Path("v.csv"), {}, 2, {}


CELLS = ["1", "2", " 3 ", "", " ", "8", "9", "\u30002", "男", "female", "NaN", "nan", "inf", "-inf",
         "1.5", "abc", "-1", "1e1", "+2", "1_0", "0x1", "1,5", "２"]


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.sampled_from(CELLS), min_size=1, max_size=40),
       item=st.sampled_from(["sex", "edu_org", "age", "hh_income", "weight"]),
       extra=st.sampled_from([(), (-1.0,), (97.0, 98.0)]))
def test_arrow_parse_equals_general_parse(values, item, extra):
    it = load_codebook().item("villagers", item)
    out = []
    for dtype in (pd.StringDtype("pyarrow", na_value=np.nan), object):
        rep = ValidationReport("w")
        num, nb, nd = _parse_column(_Ctx(rep, _Raw()), it, pd.Series(values, dtype=dtype), extra)
        out.append((num, nb, nd, [str(p) for p in rep.problems]))
    (a, *ra), (b, *rb) = out
    pd.testing.assert_series_equal(a, b)
    assert ra == rb
