"""Generate the corpus of malformed waves (and of valid variants) used by tests/test_corpus.py.

Run from the project root: ``python tests/data/bad_waves/make_corpus.py``. Every case is a small
wave folder built from 12 rows of the default (synthetic) wave; ``cases.yml`` lists each case
with a one-line description and the outcome ruralgov must give (exit code, rule, file, row,
column). Outputs are committed; regenerating gives identical bytes.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pyreadstat
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2] if (HERE.parents[2] / "data" / "waves").is_dir() else Path.cwd()
SRC = ROOT / "data" / "waves" / "2020-replica" / "villagers.csv"
DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}


def base() -> pd.DataFrame:
    v = pd.read_csv(SRC, dtype=str, keep_default_na=False)
    v = v[v["province"].isin(["上海", "西藏"])]
    keep = v.groupby("province")["village_id"].unique().map(lambda a: list(a[:2])).explode().tolist()
    v = v[v["village_id"].isin(keep)].groupby("village_id").head(3)
    return v.reset_index(drop=True)


def csv_bytes(df: pd.DataFrame, **kw) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator=kw.pop("lineterminator", "\n"), **kw)
    return buf.getvalue().encode(kw.pop("encoding", "utf-8"))


CASES: list[dict] = []


def case(name: str, description: str, expect: dict, files: dict[str, bytes] | None = None,
         wave: dict | None = None, raw_yml: str | None = None) -> None:
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for fname, data in (files or {}).items():
        (folder / fname).write_bytes(data)
    spec = {"id": name, "title": f"bad wave: {description}",
            "questionnaires": {"villagers": {"file": "villagers.csv"}}, "design": DESIGN}
    spec.update(wave or {})
    text = raw_yml if raw_yml is not None else yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    (folder / "wave.yml").write_text(f"# {description}\n{text}", encoding="utf-8")
    CASES.append({"name": name, "description": description, "expect": expect})


def main() -> None:
    for p in HERE.iterdir():
        if p.is_dir():
            shutil.rmtree(p)
    v = base()
    ok = csv_bytes(v)
    R = 2  # file row of the first data row (the header is row 1)

    def mod(cells):
        d = v.copy()
        for (row, col), val in cells.items():
            d.loc[row, col] = val
        return csv_bytes(d)

    # --- encodings and file structure -----------------------------------------------------
    case("wrong_encoding_declared", "GBK bytes while wave.yml declares UTF-8",
         {"exit": 1, "rule": "encoding", "file": "villagers.csv"},
         {"villagers.csv": v.to_csv(index=False).encode("gbk")}, {"encoding": "utf-8"})
    zh = v.rename(columns={"province": "省份", "weight": "权重", "village_id": "村编号", "resp_id": "问卷编号"})
    moj = zh.to_csv(index=False).encode("gbk").decode("latin-1").encode("utf-8")
    case("gbk_read_as_utf8_mojibake", "Chinese headers re-saved through the wrong encoding (mojibake)",
         {"exit": 1, "rule": "required column", "file": "villagers.csv", "column": "resp_id",
          "message": "mojibake"}, {"villagers.csv": moj})
    case("bom_inside_file", "a second file pasted below the first, its BOM and header inside the data",
         {"exit": 1, "rule": "BOM only at the start", "file": "villagers.csv", "row": len(v) + 2},
         {"villagers.csv": ok + b"\xef\xbb\xbf" + csv_bytes(v)})
    cut = ok[: ok.rstrip(b"\n").rfind(b",", 0, len(ok) - 200)]
    case("truncated_last_row", "a file cut off in the middle of a row",
         {"exit": 1, "rule": "complete rows", "file": "villagers.csv", "row": cut.count(b"\n") + 1},
         {"villagers.csv": cut})
    case("semicolon_delimiter", "semicolon-delimited file, delimiter not declared",
         {"exit": 1, "rule": "delimiter", "file": "villagers.csv", "row": 1},
         {"villagers.csv": csv_bytes(v, sep=";")})
    case("tab_delimiter", "tab-delimited file, delimiter not declared",
         {"exit": 1, "rule": "delimiter", "file": "villagers.csv", "row": 1},
         {"villagers.csv": csv_bytes(v, sep="\t")})
    lines = ok.decode().splitlines()
    case("header_repeated", "the header row repeated in the middle of the data",
         {"exit": 1, "rule": "no repeated header", "file": "villagers.csv", "row": 6},
         {"villagers.csv": ("\n".join(lines[:5] + [lines[0]] + lines[5:]) + "\n").encode()})
    xbuf = io.BytesIO()
    with pd.ExcelWriter(xbuf, engine="openpyxl") as xw:
        pd.DataFrame([["2020 村民问卷 (合并标题行)"] + [""] * (v.shape[1] - 1)]).to_excel(
            xw, index=False, header=False, startrow=0)
        v.to_excel(xw, index=False, startrow=2)
        xw.sheets["Sheet1"].merge_cells(start_row=1, start_column=1, end_row=2, end_column=8)
    case("excel_title_rows", "Excel sheet with a merged title above the header",
         {"exit": 1, "rule": "required column", "file": "villagers.xlsx", "message": "header_row: 3"},
         {"villagers.xlsx": xbuf.getvalue()}, {"questionnaires": {"villagers": {"file": "villagers.xlsx"}}})
    sav = HERE / "_tmp.sav"
    typed = v.copy()
    for c in typed.columns:
        if c not in ("resp_id", "province", "village_id"):
            typed[c] = pd.to_numeric(typed[c].replace("", None)).astype(float)
    pyreadstat.write_sav(typed, str(sav), variable_value_labels={"sex": {1.0: "female", 2.0: "male"}})
    case("spss_mismatched_labels", "SPSS file whose value labels swap the codebook's codes (1 = female)",
         {"exit": 1, "rule": "value labels agree with the codebook", "file": "villagers.sav", "column": "sex"},
         {"villagers.sav": sav.read_bytes()}, {"questionnaires": {"villagers": {"file": "villagers.sav"}}})
    sav.unlink()
    dta = HERE / "_tmp.dta"
    sd = typed.copy()
    sd["age"] = sd["age"].map(lambda a: f"{a:.0f}岁")
    pyreadstat.write_dta(sd, str(dta))
    case("stata_string_numbers", "Stata file storing numbers as strings with a unit ('45岁')",
         {"exit": 1, "rule": "parsable value", "file": "villagers.dta", "row": R, "column": "age"},
         {"villagers.dta": dta.read_bytes()}, {"questionnaires": {"villagers": {"file": "villagers.dta"}}})
    dta.unlink()
    case("unsupported_format", "a questionnaire delivered as a Word file",
         {"exit": 1, "rule": "format", "file": "villagers.docx"},
         {"villagers.docx": b"PK\x03\x04 not really a questionnaire"},
         {"questionnaires": {"villagers": {"file": "villagers.docx"}}})
    case("truncated_file", "a file cut off after a few bytes of a data row",
         {"exit": 1, "rule": "complete rows", "file": "villagers.csv", "row": 2},
         {"villagers.csv": ok[: ok.index(b"\n") + 40]})
    case("zero_byte_file", "an empty (0-byte) file",
         {"exit": 1, "rule": "file not empty", "file": "villagers.csv", "row": 1}, {"villagers.csv": b""})
    case("no_respondents", "a header and no data rows",
         {"exit": 1, "rule": "has respondents", "file": "villagers.csv"}, {"villagers.csv": csv_bytes(v.head(0))})
    case("enormous_cell", "a 200,000-character cell (a pasted document)",
         {"exit": 1, "rule": "cell size", "file": "villagers.csv", "row": R + 1, "column": "resp_id"},
         {"villagers.csv": mod({(1, "resp_id"): "x" * 200_000})})
    # --- wave.yml ---------------------------------------------------------------------------
    case("wave_yml_not_yaml", "wave.yml that is not YAML",
         {"exit": 1, "rule": "wave.yml is YAML", "file": "wave.yml"}, {"villagers.csv": ok},
         raw_yml="id: bad\nquestionnaires: {villagers: [unclosed\n")
    case("wave_yml_missing_file", "wave.yml naming a file that does not exist",
         {"exit": 1, "rule": "file exists", "file": "wave.yml"}, {"villagers.csv": ok},
         {"questionnaires": {"villagers": {"file": "villagers_final_v2.csv"}}})
    case("wave_yml_path_outside", "wave.yml pointing outside the wave folder (../../etc/passwd)",
         {"exit": 1, "rule": "path inside wave", "file": "wave.yml"}, {"villagers.csv": ok},
         {"questionnaires": {"villagers": {"file": "../../etc/passwd"}}})
    case("unknown_encoding_declared", "wave.yml declaring an encoding that does not exist",
         {"exit": 1, "rule": "encoding", "file": "villagers.csv"}, {"villagers.csv": ok}, {"encoding": "utf-9"})
    # --- columns ----------------------------------------------------------------------------
    case("missing_required_column", "the weight column is missing",
         {"exit": 1, "rule": "required column", "file": "villagers.csv", "column": "weight"},
         {"villagers.csv": csv_bytes(v.drop(columns=["weight"]))})
    case("two_columns_one_item", "two columns that both map to the province item (省份 and province)",
         {"exit": 1, "rule": "one column per item", "file": "villagers.csv", "row": 1},
         {"villagers.csv": csv_bytes(v.assign(**{"省份": v["province"]}))})
    # --- values -----------------------------------------------------------------------------
    case("likert_out_of_range", "a Likert answer coded 7 on a 1-5 scale",
         {"exit": 1, "rule": "schema", "file": "villagers.csv", "row": R + 3, "column": "edu_org"},
         {"villagers.csv": mod({(3, "edu_org"): "7"})})
    case("missing_code_not_declared", "-8 used for 'not asked' without declaring it",
         {"exit": 1, "rule": "schema", "file": "villagers.csv", "row": R + 2, "column": "hlt_sys",
          "message": "missing_codes"}, {"villagers.csv": mod({(2, "hlt_sys"): "-8"})})
    case("text_in_numeric_column", "free text in the income column",
         {"exit": 1, "rule": "parsable value", "file": "villagers.csv", "row": R + 4, "column": "hh_income"},
         {"villagers.csv": mod({(4, "hh_income"): "about 30k"})})
    case("negative_weight", "a negative design weight",
         {"exit": 1, "rule": "schema", "file": "villagers.csv", "row": R + 5, "column": "weight"},
         {"villagers.csv": mod({(5, "weight"): "-12.5"})})
    case("zero_weight", "a zero design weight",
         {"exit": 1, "rule": "schema", "file": "villagers.csv", "row": R, "column": "weight"},
         {"villagers.csv": mod({(0, "weight"): "0"})})
    case("nan_weight", "a missing (NaN) design weight",
         {"exit": 1, "rule": "not missing", "file": "villagers.csv", "row": R + 6, "column": "weight"},
         {"villagers.csv": mod({(6, "weight"): "NaN"})})
    case("duplicate_ids", "two respondents with the same questionnaire number",
         {"exit": 1, "rule": "unique id", "file": "villagers.csv", "row": R + 7, "column": "resp_id"},
         {"villagers.csv": mod({(7, "resp_id"): v.loc[0, "resp_id"]})})
    case("unknown_province", "a province name that is not a province ('Shangai')",
         {"exit": 1, "rule": "known province", "file": "villagers.csv", "row": R, "column": "province",
          "message": "closest: Shanghai"}, {"villagers.csv": mod({(0, "province"): "Shangai"})})
    other_psu = v.loc[v["province"] != v.loc[0, "province"], "village_id"].iloc[0]
    case("psu_in_two_strata", "a village (PSU) that appears in two provinces (strata)",
         {"exit": 1, "rule": "PSU nested in one stratum", "file": "villagers.csv", "column": "village_id"},
         {"villagers.csv": mod({(0, "village_id"): other_psu})})
    i = int(v.index[v["hp_dontknow"] == "1"][0]) if (v["hp_dontknow"] == "1").any() else 0
    d = v.copy()
    d.loc[i, ["hp_dontknow", "hp_far"]] = ["1", "1"]
    case("contradictory_multiselect", "'do not know' ticked together with a health problem",
         {"exit": 1, "rule": "exclusive answer", "file": "villagers.csv", "row": R + i, "column": "hp_dontknow"},
         {"villagers.csv": csv_bytes(d)})
    case("blank_psu", "a respondent without a village (PSU) id",
         {"exit": 1, "rule": "not missing", "file": "villagers.csv", "row": R + 8, "column": "village_id"},
         {"villagers.csv": mod({(8, "village_id"): ""})})
    case("formula_injection_in_number", "a spreadsheet formula in a numeric column",
         {"exit": 1, "rule": "parsable value", "file": "villagers.csv", "row": R + 1, "column": "age",
          "message": "=HYPERLINK"},
         {"villagers.csv": mod({(1, "age"): '=HYPERLINK("http://evil.example","45")'})})
    # --- accepted, with a warning or silently (the rule says what ruralgov does instead) ------
    case("ok_extra_columns", "extra unknown columns: kept, reported, not used",
         {"exit": 0, "rule": "known column", "severity": "warning", "column": "interviewer"},
         {"villagers.csv": csv_bytes(v.assign(interviewer="Li"))})
    sh = v["province"] == "上海"
    d = v.copy()
    d.loc[sh, "village_id"] = d.loc[sh, "village_id"].iloc[0]
    case("ok_single_psu_stratum", "a province with a single village: variance by the documented 'adjust' rule",
         {"exit": 0, "rule": "two or more PSUs per stratum", "severity": "warning", "column": "province"},
         {"villagers.csv": csv_bytes(d)})
    d = v.copy()
    d["province"] = d["province"].map({"上海": "Shanghai", "西藏": "Xizang"})
    case("ok_province_pinyin", "provinces written in pinyin / English: resolved", {"exit": 0},
         {"villagers.csv": csv_bytes(d)})
    d = v.copy()
    d["province"] = d["province"].replace({"上海": "江蘇", "西藏": "西藏自治區"})
    case("ok_province_traditional", "provinces in traditional characters (江蘇, 西藏自治區): resolved, reported",
         {"exit": 0, "rule": "province names in simplified characters", "severity": "warning",
          "row": 2, "column": "province"}, {"villagers.csv": csv_bytes(d)})
    d = v.drop(columns=[c for c in v.columns if c.startswith("cs_") and c.endswith(("org", "sys", "means", "concept"))])
    case("ok_field_missing", "a wave without the culture-and-sports indicators: its sub-index is missing",
         {"exit": 0, "rule": "field items present", "severity": "warning"}, {"villagers.csv": csv_bytes(d)})
    case("ok_bom_crlf", "UTF-8 with a BOM and Windows (CRLF) line endings: read as is", {"exit": 0},
         {"villagers.csv": b"\xef\xbb\xbf" + csv_bytes(v, lineterminator="\r\n")})
    case("ok_tab_declared", "tab-delimited with the delimiter declared in wave.yml", {"exit": 0},
         {"villagers.csv": csv_bytes(v, sep="\t")}, {"delimiter": "\t"})
    case("ok_missing_code_declared", "-8 declared as a missing code in wave.yml", {"exit": 0},
         {"villagers.csv": mod({(2, "hlt_sys"): "-8"})}, {"missing_codes": [-8]})
    case("ok_formula_in_id", "a formula-looking questionnaire number: kept, escaped in every CSV written",
         {"exit": 0, "rule": "no spreadsheet formulas", "severity": "warning", "column": "resp_id"},
         {"villagers.csv": mod({(1, "resp_id"): '=HYPERLINK("http://evil.example","x")'})})
    (HERE / "cases.yml").write_text(
        "# Malformed (and valid-variant) waves: one folder each; generated by make_corpus.py\n"
        + yaml.safe_dump({"cases": CASES}, allow_unicode=True, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
