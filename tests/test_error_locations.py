"""Where problems are reported: the column of an SPSS file's missing values, of a formula cell,
of a second header for one item, the rows of a streamed wave, and the row ``validate`` prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from analysis.cli import app
from analysis.ingest.validate import validate_wave

runner = CliRunner()
DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}


def _numbers(v: pd.DataFrame) -> pd.DataFrame:
    """The text frame with coded and numeric items as numbers (as a statistics package stores them)."""
    from analysis.ingest.codebook import load_codebook

    out = v.copy()
    for it in load_codebook().items("villagers"):
        if it.id in out and it.type not in ("id", "psu", "province"):
            out[it.id] = pd.to_numeric(out[it.id].replace("", np.nan)).astype(float)
    return out


def test_an_spss_missing_value_that_is_an_answer_is_reported_under_the_file_s_own_header(
        small_villagers, make_wave, tmp_path):
    """An SPSS column declaring a valid answer missing is named as the file heads it ('性别'), not by id."""
    import pyreadstat

    typed = _numbers(small_villagers).rename(columns={"sex": "性别"})
    sav = tmp_path / "v.sav"
    pyreadstat.write_sav(typed, str(sav), missing_ranges={"性别": [2]})
    report, _ = validate_wave(make_wave(sav.read_bytes(), file="villagers.sav"))
    hits = [(e.file, e.column, e.value) for e in report.errors if e.rule == "missing codes are not answers"]
    assert hits == [("villagers.sav", "性别", "2")]


def test_formula_cells_without_saved_values_are_reported_at_the_first_such_cell(small_villagers, make_wave,
                                                                                 tmp_path):
    """Formula cells saved without values (E5 and F9) are refused under the first of them, E5."""
    import openpyxl

    xlsx = tmp_path / "v.xlsx"
    small_villagers.to_excel(xlsx, index=False)
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.active
    ws["E5"], ws["F9"] = "=30+5", "=1+1"                  # openpyxl stores no computed value
    wb.save(xlsx)
    report, _ = validate_wave(make_wave(xlsx.read_bytes(), file="villagers.xlsx"))
    assert [(e.file, e.column, e.rule) for e in report.errors] == \
        [("villagers.xlsx", "E5", "formula values saved")]
    assert "(E5, F9)" in report.errors[0].message


def test_a_second_header_for_one_item_is_reported_under_that_second_header(small_villagers, make_wave):
    """Of '年龄' then 'age' (both the item age), the refused one, 'age', is the column named."""
    v = small_villagers.rename(columns={"age": "年龄"})
    v["age"] = v["年龄"]                                   # the last column of the file
    report, _ = validate_wave(make_wave(v))
    assert [(e.row, e.column, e.rule) for e in report.errors] == [(1, "age", "one column per item")]


def test_a_streamed_stratum_with_one_psu_is_named_at_its_file_row_in_a_later_piece(small_villagers,
                                                                                   tmp_path):
    """Scanned in pieces of 20 rows, a stratum with one PSU is named at its first file row (row 48)."""
    from analysis.estimation.stream import stream_wave, write_partitioned

    v = _numbers(small_villagers)
    henan = v.index[v["province"] == "河南"]
    v.loc[henan, "village_id"] = "4101"                  # Henan left with one village
    assert henan[0] == 46                                 # data row 46 is file row 48 (header row 1)
    write_partitioned(v, tmp_path / "p", rows_per_file=len(v))
    rep = stream_wave(tmp_path / "p", DESIGN, batch_rows=20)["report"]
    lonely = [(p.file, p.row) for p in rep.problems if p.rule == "two or more PSUs per stratum"]
    assert lonely == [("part-00000.parquet", 48)]


def test_the_validate_command_prints_a_problem_s_file_row(small_villagers, make_wave):
    """`ruralgov validate` shows each problem at its file row: sex 3 on data row 8 is row 10."""
    v = small_villagers.copy()
    v.loc[8, "sex"] = "3"                                # header row 1, data from row 2: file row 10
    res = runner.invoke(app, ["validate", str(make_wave(v))])
    assert res.exit_code == 1, res.output
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in res.output.splitlines() if "│" in line]
    shown = [c[2] for c in cells if len(c) == 6 and c[1] == "villagers.csv" and c[3] == "sex"]
    assert shown == ["10"], res.output


def test_a_file_in_a_subfolder_is_named_by_its_path_in_the_wave_where_it_cannot_be_read(
        small_villagers, make_wave):
    """A questionnaire file at raw/villagers.csv with a short row, or undecodable: the problem's file
    and its message name ``raw/villagers.csv`` (two files of one name in two subfolders are two
    files), as the problems of a file that can be read name it."""
    text = small_villagers.to_csv(index=False)
    head, first, rest = text.split("\n", 2)
    for name, body in (("short", text.encode() + b"1,2\n"),
                       ("bytes", text.encode("utf-8") + b"\xff\xfe\x80,\n"),
                       # a row in GBK among UTF-8 rows: pasted from two files
                       ("mixed", f"{head}\n{first}\n".encode("gbk") + rest.encode("utf-8"))):
        wave = make_wave(body, name=name)
        (wave / "raw").mkdir()
        (wave / "villagers.csv").rename(wave / "raw" / "villagers.csv")
        yml = (wave / "wave.yml").read_text(encoding="utf-8")
        (wave / "wave.yml").write_text(yml.replace("file: villagers.csv", "file: raw/villagers.csv"),
                                       encoding="utf-8")
        report, _ = validate_wave(wave)
        [p] = report.errors
        assert p.file == "raw/villagers.csv" and p.message.startswith("raw/villagers.csv: "), (name, p)
        assert name != "mixed" or p.rule == "one encoding"


def test_a_column_map_naming_a_column_a_subfolder_file_lacks_is_filed_under_the_wave_s_wave_yml(
        small_villagers, make_wave):
    """wave.yml maps a column raw/villagers.csv does not have: the problem is wave.yml's (the one in
    the wave's folder, not a raw/wave.yml that does not exist), and names the file by its path."""
    wave = make_wave(small_villagers, name="mapped")
    (wave / "raw").mkdir()
    (wave / "villagers.csv").rename(wave / "raw" / "villagers.csv")
    yml = (wave / "wave.yml").read_text(encoding="utf-8")
    (wave / "wave.yml").write_text(yml.replace("file: villagers.csv",
                                               "file: raw/villagers.csv\n    column_map: {nosuchcol: age}"),
                                   encoding="utf-8")
    report, _ = validate_wave(wave)
    [p] = report.errors
    assert (p.file, p.column, p.rule) == ("wave.yml", "nosuchcol", "column_map")
    assert "raw/villagers.csv does not have" in p.message
