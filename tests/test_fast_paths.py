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
    monkeypatch.setattr(wio, "_read_csv_arrow", lambda spec, numeric=None: None)
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
        self.rows = None

    file_row = wio.RawTable.file_row


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


def test_the_reader_parses_numbers_into_one_block_that_validation_converts_in_place(monkeypatch):
    from analysis.ingest.readers import read_questionnaire
    from analysis.ingest.validate import _check_questionnaire

    cb = load_codebook()
    spec = load_spec(DEFAULT)
    raw = read_questionnaire(spec.questionnaires["villagers"], cb)
    numbers = raw.numbers
    assert numbers is not None
    numeric = [c for c in raw.frame.columns if raw.frame[c].dtype == np.float64]
    assert len(numeric) == numbers.shape[0] > 50
    clean = _check_questionnaire(ValidationReport("w"), cb, raw, spec)
    for c in numeric:                          # the validated columns are the reader's block
        assert np.shares_memory(clean[c].to_numpy(), numbers), c
    # and hold what the careful reader's text gives
    monkeypatch.setattr(wio, "_read_csv_arrow", lambda spec, numeric=None: None)
    text = read_questionnaire(spec.questionnaires["villagers"], cb)
    assert text.numbers is None
    pd.testing.assert_frame_equal(clean, _check_questionnaire(ValidationReport("w"), cb, text, spec))


ROW_CELLS = ["1", "2", " 3 ", "", " ", "NaN", "nan", "inf", "-1", "1e1", "+2", "男", "２", "1,5",
             "\u30002", "99", "0.5", '"4"']


@settings(max_examples=40, deadline=None)
@given(cells=st.lists(st.sampled_from(ROW_CELLS), min_size=3, max_size=3),
       rows=st.lists(st.integers(0, 59), min_size=3, max_size=3, unique=True),
       column=st.sampled_from(["sex", "edu_org", "age", "hh_income", "weight", "internet_use"]),
       province=st.sampled_from([None, " 北京 ", "nan", "", "Beijing", "臺灣", "Atlantis"]))
def test_a_file_read_with_numbers_validates_as_the_same_file_read_as_text(
        tmp_path_factory, cells, rows, column, province):
    """The reader parses the numeric columns as it reads, and falls back to text for a file with
    any cell that is not a plain number: either way validation reports the same problems and
    gives the same wave as the careful reader, which reads every cell as text."""
    import csv

    folder = tmp_path_factory.mktemp("wave") / "w"
    folder.mkdir()
    v = pd.read_csv(DEFAULT / "villagers.csv", dtype=str, keep_default_na=False, nrows=60)
    for r, c in zip(rows, cells):
        v.loc[r, column] = c
    if province is not None:
        v.loc[rows[0], "province"] = province
    v.to_csv(folder / "villagers.csv", index=False, quoting=csv.QUOTE_MINIMAL)
    (folder / "wave.yml").write_text(
        "id: w\nquestionnaires: {villagers: {file: villagers.csv}}\n"
        "design: {weight: weight, strata: province, psu: village_id}\n", encoding="utf-8")
    fast = validate_wave(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wio, "_read_csv_arrow", lambda spec, numeric=None: None)
        careful = validate_wave(folder)
    assert [str(p) for p in fast[0].problems] == [str(p) for p in careful[0].problems]
    assert not any(p.rule == "wave id" for p in careful[0].problems)
    assert fast[0].missing == careful[0].missing and careful[0].rows["villagers"] == 60
    for q in careful[1]:
        pd.testing.assert_frame_equal(fast[1][q], careful[1][q])


def test_a_stray_byte_order_mark_in_a_text_cell_is_refused_as_by_the_careful_reader(tmp_path):
    tmp_path = tmp_path / "w"
    tmp_path.mkdir()
    text = (DEFAULT / "villagers.csv").read_text(encoding="utf-8").splitlines()
    text[5] = "\ufeff" + text[5]                 # in the id of a row whose numbers all parse
    (tmp_path / "villagers.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (tmp_path / "wave.yml").write_text(
        "id: w\nquestionnaires: {villagers: {file: villagers.csv}}\n"
        "design: {weight: weight, strata: province, psu: village_id}\n", encoding="utf-8")
    report, _ = validate_wave(tmp_path)
    assert [p.rule for p in report.errors] == ["BOM only at the start"]
    assert report.errors[0].row == 6


@pytest.mark.parametrize("dtype", [pd.StringDtype("pyarrow", na_value=np.nan), object])
def test_distinct_text_values_are_found_in_order_of_first_appearance(dtype):
    from analysis.ingest.validate import _distinct_text

    s = pd.Series([" b", "a ", None, "nan", "b", "c", None], dtype=dtype)
    codes, uniq, where = _distinct_text(s)
    assert uniq == ["b", "a", None, "nan", "c"]
    assert [uniq[k] for k in codes] == ["b", "a", None, "nan", "b", "c", None]
    assert where("nan") == 3 and where("c") == 5 and where(None) == 2


@pytest.mark.parametrize("case", ["long number", "long quoted number", "bom in header", "two boms"])
def test_what_a_numeric_read_would_hide_is_read_as_text(tmp_path, case, monkeypatch):
    """A number longer than a cell may be (it parses, and its length is lost) and a byte-order
    mark in the header (header matching ignores it) are found as the careful reader finds them."""
    folder = tmp_path / "w"
    folder.mkdir()
    lines = (DEFAULT / "villagers.csv").read_text(encoding="utf-8").splitlines()[:6]
    head = lines[0].split(",")
    row = lines[2].split(",")
    age = head.index("age")
    if case == "long number":
        row[age] = "0" * 10_001 + "35"
    elif case == "long quoted number":
        row[age] = '"' + "0" * 12_000 + '35"'
    elif case == "bom in header":
        head[2] = "\ufeff" + head[2]
    else:                                       # the careful reader strips both; a blank id
        row[0] = ""                               # then names the column without them
    lines[0], lines[2] = ",".join(head), ",".join(row)
    (folder / "villagers.csv").write_text(("\ufeff\ufeff" if case == "two boms" else "") + "\n".join(lines)
                                          + "\n", encoding="utf-8")
    (folder / "wave.yml").write_text(
        "id: w\nquestionnaires: {villagers: {file: villagers.csv}}\n"
        "design: {weight: weight, strata: province, psu: village_id}\n", encoding="utf-8")
    fast, _ = validate_wave(folder)
    monkeypatch.setattr(wio, "_read_csv_arrow", lambda spec, numeric=None: None)
    careful, _ = validate_wave(folder)
    assert [str(p) for p in fast.problems] == [str(p) for p in careful.problems]
    expected = {"two boms": ("not missing", "resp_id")}.get(case, None)
    if expected:
        assert (expected[0], expected[1]) in {(p.rule, p.column) for p in careful.errors}
    else:
        assert {p.rule for p in careful.errors} & {"cell size", "BOM only at the start"}


def test_binary_columns_are_the_columns_is_binary_finds_whatever_the_blocks():
    from analysis.estimation.regression import binary_columns, is_binary

    rng = np.random.default_rng(8)
    X = np.column_stack([rng.integers(0, 2, 1000), rng.normal(size=1000), np.ones(1000), np.zeros(1000),
                         rng.integers(0, 3, 1000), rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)]
                        ).astype(float)
    X[999, 5] = 2.0                                     # 0/1 except the last row
    X[0, 6] = 2.0                                       # 0/1 except the first row
    X[500, 0] = np.nan                                  # a NaN is neither 0 nor 1
    expected = [is_binary(X[:, j]) for j in range(X.shape[1])]
    assert expected == [False, False, True, True, False, False, False]
    X2 = X.copy()
    X2[500, 0] = 1.0
    assert binary_columns(X2).tolist() == [True, False, True, True, False, False, False]
    for block in (1, 7, 999, 1000, 1 << 14):
        assert binary_columns(X, block).tolist() == expected
    assert binary_columns(np.empty((0, 3))).tolist() == [True, True, True]


ROW_ENDS = {        # row i's line → the line written; and whether the fast reader takes the file
    "every row": (lambda i, line: line + ",", True),
    "every row, quoted": (lambda i, line: ",".join(f'"{c}"' for c in line.split(",")) + ",", True),
    "a value on one row": (lambda i, line: line + (",42" if i == 4 else ","), False),
    "a value on the first row": (lambda i, line: line + (",42" if i == 1 else ","), False),
    "a blank of spaces on one row": (lambda i, line: line + (", " if i == 4 else ","), False),
    "every other row": (lambda i, line: line + ("," if i % 2 else ""), False),
    "the first row only": (lambda i, line: line + ("," if i == 1 else ""), False),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("case", ROW_ENDS)
def test_rows_ending_with_a_delimiter_are_read_fast_and_as_the_careful_reader_reads_them(
        tmp_path, case, newline, monkeypatch):
    """A file whose every data row ends with a delimiter (one empty cell more than the header, as
    some spreadsheets export) goes the fast way, as text or with numbers; a file with any value,
    or even a space, beyond the last header, or rows of two lengths, goes the careful way, which
    names the value's row. Either way validation gives the same problems and the same wave."""
    end, fast_reads = ROW_ENDS[case]
    folder = tmp_path / "w"
    folder.mkdir()
    lines = (DEFAULT / "villagers.csv").read_text(encoding="utf-8").splitlines()[:61]
    (folder / "villagers.csv").write_text(newline.join(
        [lines[0], *(end(i, line) for i, line in enumerate(lines[1:], start=1))]) + newline,
        encoding="utf-8", newline="")
    (folder / "wave.yml").write_text(
        "id: w\nquestionnaires: {villagers: {file: villagers.csv}}\n"
        "design: {weight: weight, strata: province, psu: village_id}\n", encoding="utf-8")
    q = load_spec(folder).questionnaires["villagers"]
    for numeric in (None, lambda names: {"age", "weight", "hh_income"} & set(names)):
        read = wio._read_csv_arrow(q, numeric)
        assert (read is not None) == fast_reads, (case, numeric)
        if read is not None:
            assert list(read[0].columns) == lines[0].split(",") and len(read[0]) == 60
    fast = validate_wave(folder)
    monkeypatch.setattr(wio, "_read_csv_arrow", lambda spec, numeric=None: None)
    careful = validate_wave(folder)
    assert [str(p) for p in fast[0].problems] == [str(p) for p in careful[0].problems]
    assert [p.rule for p in careful[0].errors] == (["cells under a header"] if "value" in case else [])
    for q in careful[1]:
        pd.testing.assert_frame_equal(fast[1][q], careful[1][q])
