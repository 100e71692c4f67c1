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
    inst = pd.read_csv(SRC.with_name("institutions.csv"), dtype=str, keep_default_na=False)
    inst = inst[inst["province"].isin(["上海", "西藏"])].head(3).reset_index(drop=True)
    inst_ok = csv_bytes(inst)
    R = 2  # file row of the first data row (the header is row 1)

    def mod(cells):
        d = v.copy()
        for (row, col), val in cells.items():
            d.loc[row, col] = val
        return csv_bytes(d)

    # --- encodings and file structure -----------------------------------------------------
    case("wrong_encoding_declared", "GBK bytes while wave.yml declares UTF-8",
         {"exit": 1, "rule": "encoding", "file": "villagers.csv", "row": R, "message": "at line 2;"},
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
         {"exit": 1, "rule": "required column", "file": "villagers.xlsx",
          "message": "on file row 3 with title rows above it: set header_row: 3"},
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
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "encoding",
          "message": "unknown encoding: use utf-8"}, {"villagers.csv": ok}, {"encoding": "utf-9"})
    # --- columns ----------------------------------------------------------------------------
    case("missing_required_column", "the weight column is missing",
         {"exit": 1, "rule": "required column", "file": "villagers.csv", "column": "weight"},
         {"villagers.csv": csv_bytes(v.drop(columns=["weight"]))})
    case("two_columns_one_item", "two columns that both map to the province item (省份 and province)",
         {"exit": 1, "rule": "one column per item", "file": "villagers.csv", "row": 1},
         {"villagers.csv": csv_bytes(v.assign(**{"省份": v["province"]}))})
    case("question_text_of_two_items", "a column headed 服务态度差, the question text of a health and of a "
         "training item", {"exit": 1, "rule": "one item per header", "file": "villagers.csv", "row": 1,
                           "column": "服务态度差"},
         {"villagers.csv": csv_bytes(v.rename(columns={"hp_attitude": "服务态度差"}))})
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
    case("nan_weight", "a missing (blank) design weight",
         {"exit": 1, "rule": "not missing", "file": "villagers.csv", "row": R + 6, "column": "weight"},
         {"villagers.csv": mod({(6, "weight"): ""})})
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
    # --- wave.yml checked by its schema (strict input) ----------------------------------------
    case("id_dotdot", "id: .. (a build would have replaced the project root)",
         {"exit": 1, "rule": "wave id", "file": "wave.yml", "column": "id"}, {"villagers.csv": ok}, {"id": ".."})
    case("id_differs_from_folder", "an id that is not the folder's name",
         {"exit": 1, "rule": "wave id", "file": "wave.yml", "column": "id"}, {"villagers.csv": ok},
         {"id": "another-wave"})
    case("duplicate_design_key", "two design: blocks (YAML would keep the last, without strata and PSUs)",
         {"exit": 1, "rule": "wave.yml is YAML", "file": "wave.yml", "row": 6, "message": "duplicate key 'design'"},
         {"villagers.csv": ok},
         raw_yml="id: duplicate_design_key\nquestionnaires: {villagers: {file: villagers.csv}}\n"
                 "design: {weight: weight, strata: province, psu: village_id}\nmin_cell: 10\n"
                 "design: {weight: weight}\n")
    case("misspelt_stratum", "design.stratum instead of design.strata",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "design.stratum",
          "message": "did you mean 'strata'?"}, {"villagers.csv": ok},
         {"design": {"weight": "weight", "stratum": "province", "psu": "village_id"}})
    case("weight_is_age", "design.weight naming the age column",
         {"exit": 1, "rule": "design columns", "file": "villagers.csv", "column": "age"}, {"villagers.csv": ok},
         {"design": {"weight": "age", "strata": "province", "psu": "village_id"}})
    case("strata_not_an_item", "design.strata naming a column the questionnaire does not have",
         {"exit": 1, "rule": "design columns", "file": "villagers.csv", "column": "county"},
         {"villagers.csv": ok}, {"design": {"weight": "weight", "strata": "county", "psu": "village_id"}})
    case("missing_code_is_an_answer", "missing_codes: [3], a valid Likert answer",
         {"exit": 1, "rule": "missing codes are not answers", "file": "wave.yml", "column": "missing_codes"},
         {"villagers.csv": ok}, {"missing_codes": [3]})
    case("missing_codes_not_a_list", "missing_codes: -8 (a number, not a list)",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "missing_codes"},
         {"villagers.csv": ok}, {"missing_codes": -8})
    case("header_row_zero", "header_row: 0 (rows are counted from 1)",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "questionnaires.villagers.header_row"},
         {"villagers.csv": ok}, {"questionnaires": {"villagers": {"file": "villagers.csv", "header_row": 0}}})
    case("header_row_text", "header_row: first",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "questionnaires.villagers.header_row"},
         {"villagers.csv": ok}, {"questionnaires": {"villagers": {"file": "villagers.csv", "header_row": "first"}}})
    case("min_cell_negative", "min_cell: -5 (would switch suppression off)",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "min_cell"},
         {"villagers.csv": ok}, {"min_cell": -5})
    case("min_cell_text", "min_cell: ten",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "min_cell"},
         {"villagers.csv": ok}, {"min_cell": "ten"})
    case("encoding_number", "encoding: 936 (a code page number)",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "encoding"},
         {"villagers.csv": ok}, {"encoding": 936})
    case("questionnaire_typo", "a questionnaire named 'villager'",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "questionnaires",
          "message": "did you mean 'villagers'?"}, {"villagers.csv": ok},
         {"questionnaires": {"villager": {"file": "villagers.csv"}}})
    case("unknown_top_level_key", "min_cel: 10 (a typo of min_cell)",
         {"exit": 1, "rule": "wave.yml schema", "file": "wave.yml", "column": "min_cel",
          "message": "did you mean 'min_cell'?"}, {"villagers.csv": ok}, {"min_cel": 10})
    case("column_map_unknown_target", "column_map {sex: gender}: gender is not an item",
         {"exit": 1, "rule": "column_map", "file": "wave.yml", "column": "sex"}, {"villagers.csv": ok},
         {"questionnaires": {"villagers": {"file": "villagers.csv", "column_map": {"sex": "gender"}}}})
    case("column_map_missing_source", "column_map naming a column the file does not have",
         {"exit": 1, "rule": "column_map", "file": "wave.yml", "column": "性别代码"}, {"villagers.csv": ok},
         {"questionnaires": {"villagers": {"file": "villagers.csv", "column_map": {"性别代码": "sex"}}}})
    case("no_villagers_questionnaire", "a wave with the institution questionnaire only",
         {"exit": 1, "rule": "villager questionnaire", "file": "wave.yml"},
         {"institutions.csv": inst_ok}, {"questionnaires": {"institutions": {"file": "institutions.csv"}}})
    # --- data that would distort an estimate -------------------------------------------------
    case("dominant_weight", "one weight multiplied by 1e9",
         {"exit": 1, "rule": "no dominant weight", "file": "villagers.csv", "row": R + 3, "column": "weight"},
         {"villagers.csv": mod({(3, "weight"): str(float(v.loc[3, "weight"]) * 1e9)})})
    case("duplicate_header", "two columns headed weight",
         {"exit": 1, "rule": "unique headers", "file": "villagers.csv", "row": 1, "column": "weight"},
         {"villagers.csv": csv_bytes(v).replace(b"age,", b"weight,", 1)})
    xl = HERE / "_xlsx_tmp.xlsx"
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(list(v.columns))
    for r in v.itertuples(index=False):
        ws.append(list(r))
    for i in range(2, 6):
        ws.cell(row=i, column=list(v.columns).index("age") + 1, value=f"=40+{i}")
    wb.save(xl)
    case("xlsx_formulas_without_values", "XLSX written by a program: formula cells with no saved value",
         {"exit": 1, "rule": "formula values saved", "file": "villagers.xlsx"},
         {"villagers.xlsx": xl.read_bytes()}, {"questionnaires": {"villagers": {"file": "villagers.xlsx"}}})
    xl.unlink()
    lines = csv_bytes(v).split(b"\n")
    mixed = b"\n".join(lines[:6] + [x.decode("utf-8").encode("gbk") for x in lines[6:]])
    case("mixed_encodings", "rows 1-6 UTF-8, the rest GBK (two files pasted together)",
         {"exit": 1, "rule": "one encoding", "file": "villagers.csv", "row": 7}, {"villagers.csv": mixed})
    case("fractional_count", "12.5 doctors at a township hospital",
         {"exit": 1, "rule": "schema", "file": "institutions.csv", "row": R, "column": "hosp_doctors",
          "message": "whole number"},
         {"villagers.csv": ok, "institutions.csv": csv_bytes(inst.assign(hosp_doctors=["12.5", *inst["hosp_doctors"][1:]]))},
         {"questionnaires": {"villagers": {"file": "villagers.csv"}, "institutions": {"file": "institutions.csv"}}})
    d = inst.copy()
    d.loc[0, ["hosp_doctors", "hosp_doctors_licensed"]] = ["37", "67"]
    case("part_above_total", "67 licensed doctors out of 37",
         {"exit": 1, "rule": "part not above its total", "file": "institutions.csv", "row": R,
          "column": "hosp_doctors_licensed"},
         {"villagers.csv": ok, "institutions.csv": csv_bytes(d)},
         {"questionnaires": {"villagers": {"file": "villagers.csv"}, "institutions": {"file": "institutions.csv"}}})
    case("fpc_varies_in_stratum", "an fpc column that changes inside a stratum",
         {"exit": 1, "rule": "fpc constant in a stratum", "column": "fpc"},
         {"villagers.csv": csv_bytes(v.assign(fpc=[str(40 + i) for i in range(len(v))]))},
         {"design": {**DESIGN, "fpc": "fpc"}})
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
    d = v.copy()
    d.loc[4, "age"] = "４５"
    case("ok_full_width_digits", "an age typed with full-width digits (４５): read, with a warning",
         {"exit": 0, "rule": "half-width digits", "severity": "warning", "row": R + 4, "column": "age"},
         {"villagers.csv": csv_bytes(d)})
    d = inst.copy()
    d.loc[1, "province"] = "河南"
    case("ok_institutions_elsewhere", "a township institution in a province without villager respondents",
         {"exit": 0, "rule": "institutions where villagers are", "severity": "warning",
          "file": "institutions.csv", "row": R + 1, "column": "province"},
         {"villagers.csv": ok, "institutions.csv": csv_bytes(d)},
         {"questionnaires": {"villagers": {"file": "villagers.csv"}, "institutions": {"file": "institutions.csv"}}})
    fpc = v["province"].map({"上海": "120", "西藏": "80"})
    case("ok_fpc", "a valid fpc column (villages in each province's population)", {"exit": 0},
         {"villagers.csv": csv_bytes(v.assign(fpc=fpc))}, {"design": {**DESIGN, "fpc": "fpc"}})
    w = v["weight"].astype(float)
    case("ok_weights_mean_one", "weights scaled to mean 1: same estimates and design effects", {"exit": 0},
         {"villagers.csv": csv_bytes(v.assign(weight=(w / w.mean()).round(10).astype(str)))})
    d = v.copy()
    d.loc[[1, 5], "sex"] = ""
    case("ok_missing_sex", "two respondents without sex: kept missing, never coded male", {"exit": 0},
         {"villagers.csv": csv_bytes(d)})
    case("ok_formula_in_id", "a formula-looking questionnaire number: kept, escaped in every CSV written",
         {"exit": 0, "rule": "no spreadsheet formulas", "severity": "warning", "column": "resp_id"},
         {"villagers.csv": mod({(1, "resp_id"): '=HYPERLINK("http://evil.example","x")'})})
    (HERE / "cases.yml").write_text(
        "# Malformed (and valid-variant) waves: one folder each; generated by make_corpus.py\n"
        + yaml.safe_dump({"cases": CASES}, allow_unicode=True, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main()
