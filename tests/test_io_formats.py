"""The same wave re-saved as SPSS, Stata, XLSX, GBK CSV with Chinese headers and Parquet reads
to identical clean data."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml

from analysis.ingest.codebook import CODED_TYPES, load_codebook
from analysis.ingest.readers import sha256_file
from analysis.ingest.validate import validate_wave
from analysis.ingest.wave import load_wave
from tests.conftest import DEFAULT, chinese_headers


def _typed(df: pd.DataFrame, q: str) -> pd.DataFrame:
    """Raw text frame → numbers for coded/numeric items (as a statistics package would store)."""
    cb = load_codebook()
    out = df.copy()
    for it in cb.items(q):
        if it.id in out and it.type not in ("id", "psu", "province"):
            out[it.id] = pd.to_numeric(out[it.id].replace("", np.nan)).astype(float)
    return out


def _write(folder, fmt: str, frames: dict[str, pd.DataFrame]) -> None:
    folder.mkdir()
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = folder.name                     # a wave's id is its folder's name
    cb = load_codebook()
    for q, raw in frames.items():
        typed = _typed(raw, q)
        if fmt == "gbk":
            name = f"{q}.csv"
            chinese_headers(raw, q).to_csv(folder / name, index=False, encoding="gbk")
            spec["questionnaires"][q] = {"file": name, "encoding": "gbk"}
            continue
        if fmt == "bom":
            name = f"{q}.csv"
            (folder / name).write_bytes(b"\xef\xbb\xbf" + raw.to_csv(index=False, lineterminator="\r\n").encode())
            spec["questionnaires"][q] = {"file": name}
            continue
        name = f"{q}.{fmt}"
        if fmt == "xlsx":
            chinese_headers(typed, q).to_excel(folder / name, index=False)
        elif fmt == "parquet":
            typed.to_parquet(folder / name)
        else:
            labels = {it.id: {float(k): v[1] for k, v in it.values.items()}
                      for it in cb.items(q) if it.type in CODED_TYPES and it.id in typed}
            col_labels = [cb.item(q, c).text_zh for c in typed.columns]
            writer = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
            kw = {"variable_value_labels": labels} if fmt == "sav" else {}
            writer(typed, str(folder / name), column_labels=col_labels, **kw)
        spec["questionnaires"][q] = {"file": name}
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def reference():
    report, clean = validate_wave(DEFAULT)
    assert report.ok
    return clean


@pytest.mark.parametrize("fmt", ["sav", "dta", "xlsx", "gbk", "bom", "parquet"])
def test_format_gives_identical_data(fmt, tmp_path, default_frames, reference):
    folder = tmp_path / fmt
    _write(folder, fmt, default_frames)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    for q in ("villagers", "institutions"):
        a, b = reference[q], clean[q][reference[q].columns]
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_dtype=False)


@pytest.mark.parametrize("fmt", ["sav", "dta", "parquet"])
def test_ids_a_binary_file_stores_as_numbers_are_the_same_text_as_in_a_csv(fmt, tmp_path, default_frames,
                                                                           reference):
    """A statistics package stores numeric ids as doubles: respondent 3101001 is read as "3101001",
    not "3101001.0", in the clean data and in every message naming it."""
    frames = {q: f.copy() for q, f in default_frames.items()}
    ids = ["resp_id", "village_id"]
    frames["villagers"][ids] = frames["villagers"][ids].apply(pd.to_numeric).astype(float)
    frames["villagers"].loc[1, "resp_id"] = frames["villagers"].loc[0, "resp_id"]
    folder = tmp_path / fmt
    _write(folder, fmt, frames)
    report, _ = validate_wave(folder)
    first = reference["villagers"]["resp_id"].iloc[0]
    assert [p.message for p in report.errors] == [f"respondent id {first!r} is duplicated",
                                                  f"respondent id {first!r} also on row 2"]
    frames["villagers"].loc[1, "resp_id"] = float(default_frames["villagers"].loc[1, "resp_id"])
    folder = tmp_path / f"{fmt}-ok"
    _write(folder, fmt, frames)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    assert clean["villagers"][ids].astype(str).equals(reference["villagers"][ids].astype(str))


def test_a_stata_extended_missing_value_is_a_missing_answer_not_the_letter(tmp_path, small_villagers,
                                                                          make_wave):
    """Stata writes "don't know" as an extended missing value (.a): it is a missing answer,
    counted as blank, never the letter 'a' refused as "not a code"."""
    typed = _typed(small_villagers, "villagers").astype({"edu_org": object})
    typed.loc[0, "edu_org"] = "a"
    dta = tmp_path / "villagers.dta"
    pyreadstat.write_dta(typed, str(dta), missing_user_values={"edu_org": ["a"]})
    report, clean = validate_wave(make_wave(dta.read_bytes(), file="villagers.dta"))
    assert report.ok, report.errors[:3]
    assert pd.isna(clean["villagers"].loc[0, "edu_org"])
    assert report.missing["villagers"]["edu_org"]["blank"] == (small_villagers["edu_org"] == "").sum() + 1


@pytest.mark.parametrize("header, labels", [("sex", ("女", "男")), ("性别", ("女", "男")),
                                            ("sex", ("Female", "MALE"))])
def test_spss_value_labels_contradicting_the_codebook_are_refused_under_any_header(tmp_path, small_villagers,
                                                                                   make_wave, header, labels):
    """An SPSS file whose labels say 1 = female (the codebook: 1 = male) is refused on that column,
    whether the column is headed by the item's id or by its Chinese alias, and whatever the
    labels' case."""
    typed = _typed(small_villagers, "villagers").rename(columns={"sex": header})
    sav = tmp_path / "villagers.sav"
    pyreadstat.write_sav(typed, str(sav), variable_value_labels={header: {1.0: labels[0], 2.0: labels[1]}})
    report, _ = validate_wave(make_wave(sav.read_bytes(), file="villagers.sav"))
    rule = "value labels agree with the codebook"
    assert [(e.column, e.rule) for e in report.errors] == [(header, rule)] * 2      # codes 1 and 2
    assert f"labels code 1 as '{labels[0]}', which is code 2 in the codebook" in report.errors[0].message
    assert report.errors[0].value == f"1={labels[0]}"            # the code as its message writes it


def test_a_questionnaire_s_own_encoding_decides_over_the_wave_s(small_villagers, make_wave):
    """wave.yml's encoding is the default of its questionnaires; one that names its own (a GBK
    file in a UTF-8 wave) is decoded with its own."""
    gbk = chinese_headers(small_villagers, "villagers").to_csv(index=False).encode("gbk")
    report, clean = validate_wave(make_wave(gbk, spec={"encoding": "utf-8", "questionnaires": {
        "villagers": {"file": "villagers.csv", "encoding": "gbk"}}}))
    assert report.ok, report.errors[:3]
    assert sorted(clean["villagers"]["province_en"].unique()) == ["Henan", "Shanghai", "Tibet"]


def test_value_labels_in_text_are_mapped_to_codes(tmp_path, small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[0, "sex"] = "女"
    v.loc[1, "sex"] = "male"
    v.loc[2, "education"] = "初中"
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors
    assert clean["villagers"].loc[:2, "sex"].tolist() == [2.0, 1.0, float(v.loc[2, "sex"])]
    assert clean["villagers"].loc[2, "education"] == 3.0


def test_declared_missing_codes_become_missing_and_are_counted(small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[:4, "edu_org"] = "8"
    v.loc[5:6, "edu_org"] = ""
    report, clean = validate_wave(make_wave(v))
    assert report.ok
    assert clean["villagers"]["edu_org"].isna().sum() == (v["edu_org"].isin(["8", "9", ""])).sum()
    counts = report.missing["villagers"]["edu_org"]
    assert counts["declared"] == v["edu_org"].isin(["8", "9"]).sum()
    assert counts["blank"] == (v["edu_org"] == "").sum()


@pytest.mark.parametrize("label, code", [("不知道", "8"), ("Refused", "9"), (" don't know ", "8")])
def test_a_missing_answer_written_as_its_label_is_a_declared_missing_answer(small_villagers, make_wave,
                                                                             label, code):
    """A cell reading 不知道 (don't know) or "refused" in a Likert column is the missing code the
    codebook labels so: missing and counted as declared, exactly as the code itself would be,
    not an unreadable value that refuses the wave."""
    as_label, as_code = small_villagers.copy(), small_villagers.copy()
    as_label.loc[:2, "edu_org"] = label
    as_code.loc[:2, "edu_org"] = code
    report, clean = validate_wave(make_wave(as_label, name="label"))
    assert report.ok, report.errors[:3]
    ref_report, ref = validate_wave(make_wave(as_code, name="code"))
    assert clean["villagers"]["edu_org"].equals(ref["villagers"]["edu_org"])
    assert clean["villagers"].loc[:2, "edu_org"].isna().all()
    assert report.missing["villagers"]["edu_org"] == ref_report.missing["villagers"]["edu_org"]
    assert report.missing["villagers"]["edu_org"]["declared"] >= 3


def test_a_missing_label_is_refused_where_its_code_is_not_missing(small_villagers, make_wave):
    """"不知道" in a categorical item whose missing codes are only -9 and 99 is not a code the item
    declares missing: it stays an unreadable value, named with its row and column."""
    v = small_villagers.copy()
    v.loc[3, "education"] = "不知道"
    report, _ = validate_wave(make_wave(v))
    assert [(e.row, e.column, e.rule) for e in report.errors] == [(5, "education", "parsable value")]


def test_the_wave_s_missing_codes_hold_on_a_column_read_as_text(small_villagers, make_wave):
    """A column holding a full-width digit is parsed as text (the careful path): the codes the
    wave declares missing (missing_codes: [-8]) are declared missing there too, not refused."""
    v = small_villagers.copy()
    v["edu_org"] = [("" if pd.isna(x) else str(int(float(x)))) for x in v["edu_org"]]
    v.loc[:3, "edu_org"] = "-8"
    v.loc[4, "edu_org"] = "\uff11"                        # a full-width 1
    report, clean = validate_wave(make_wave(v, spec={"missing_codes": [-8]}))
    assert report.ok, report.errors[:3]
    own = int(v["edu_org"].isin(["8", "9"]).sum())         # the item's own missing codes
    assert report.missing["villagers"]["edu_org"]["declared"] == 4 + own
    assert clean["villagers"]["edu_org"].iloc[:4].isna().all() and clean["villagers"]["edu_org"].iloc[4] == 1


@pytest.mark.parametrize("declared, mapped", [([8, 9], False), ([{"lo": 97, "hi": 99}], False),
                                              ([{"lo": 97, "hi": 99}], True)],
                         ids=["values", "range", "range_mapped_headers"])
def test_spss_user_missing_codes_count_as_declared_missing_as_in_a_csv(tmp_path, default_frames, declared,
                                                                       mapped):
    """An SPSS file that declares its missing codes user-missing gives the same clean data and the
    same declared-missing counts as the CSV holding 8 and 9: the codebook's own codes declared as
    two values, or other codes (98 and 99, which the codebook does not know) declared as the
    range 97 thru 99, every code in it missing; also under headers wave.yml's column_map names."""
    from analysis.ingest.validate import validate_wave

    csv_dir = tmp_path / "csvw"
    _write(csv_dir, "bom", default_frames)              # text: codes 8/9 as written
    sav_dir = tmp_path / "savw"
    sav_dir.mkdir()
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = "savw"
    typed = _typed(default_frames["villagers"], "villagers")
    likert = [c for c in typed.columns if c.endswith(("_org", "_sys", "_means", "_concept", "_sat"))]
    if declared != [8, 9]:
        typed[likert] = typed[likert].replace({8: 98, 9: 99})
        assert (typed[likert] == 99).any().any() and (typed[likert] == 98).any().any()
    header = {c: f"Q_{c}" if mapped else c for c in likert}
    pyreadstat.write_sav(typed.rename(columns=header), str(sav_dir / "villagers.sav"),
                         missing_ranges={header[c]: declared for c in likert})
    default_frames["institutions"].to_csv(sav_dir / "institutions.csv", index=False)
    spec["questionnaires"] = {"villagers": {"file": "villagers.sav"},
                              "institutions": {"file": "institutions.csv"}}
    if mapped:
        spec["questionnaires"]["villagers"]["column_map"] = {h: c for c, h in header.items()}
    (sav_dir / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    a, ca = validate_wave(csv_dir)
    b, cb_ = validate_wave(sav_dir)
    assert a.ok and b.ok, b.errors[:3]
    for c in likert:
        assert b.missing["villagers"][c] == a.missing["villagers"][c], c
    assert sum(b.missing["villagers"][c]["declared"] for c in likert) > 0
    pd.testing.assert_frame_equal(ca["villagers"][likert].reset_index(drop=True),
                                  cb_["villagers"][likert].reset_index(drop=True), check_dtype=False)


def test_an_spss_file_declaring_a_valid_answer_missing_is_refused(tmp_path, default_frames):
    from analysis.ingest.validate import validate_wave

    folder = tmp_path / "savbad"
    folder.mkdir()
    typed = _typed(default_frames["villagers"], "villagers")
    pyreadstat.write_sav(typed, str(folder / "villagers.sav"), missing_ranges={"edu_org": [3]})
    (folder / "wave.yml").write_text(yaml.safe_dump({"id": "savbad", "questionnaires": {
        "villagers": {"file": "villagers.sav"}}, "design": {"weight": "weight", "strata": "province",
                                                             "psu": "village_id"}}), encoding="utf-8")
    rep, _ = validate_wave(folder)
    assert [p.rule for p in rep.errors] == ["missing codes are not answers"]
    assert rep.errors[0].column == "edu_org" and "answer 'neither'" in rep.errors[0].message


@pytest.mark.parametrize("sheet", ["数据", 1])
def test_an_xlsx_questionnaire_is_read_from_its_declared_sheet_below_its_declared_header_row(
        sheet, tmp_path, default_frames, reference):
    """A workbook as offices send one: a cover sheet first, then the data under a title line.
    wave.yml names the sheet (by name or by position from 0) and ``header_row: 2``; the data read
    are the wave's, row for row."""
    folder = tmp_path / "w"
    _write(folder, "xlsx", default_frames)
    path = folder / "institutions.xlsx"
    data = pd.read_excel(path, dtype=object)
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"说明": ["乡镇机构问卷", "第二页为数据"]}).to_excel(xl, sheet_name="封面", index=False)
        pd.DataFrame([["乡镇机构问卷（2020）"]]).to_excel(xl, sheet_name="数据", index=False, header=False)
        data.to_excel(xl, sheet_name="数据", index=False, startrow=1)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"]["institutions"].update(sheet=sheet, header_row=2)
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    a, b = reference["institutions"], clean["institutions"][reference["institutions"].columns]
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_each_file_of_a_wave_is_hashed_whole(tmp_path):
    """The SHA-256 the validation reports (and the manifest, the citation and the caches take)
    is that of every byte of each file: the villagers' file is longer than one 64 KiB read, a
    made file longer than one 1 MiB chunk."""
    report, _ = validate_wave(DEFAULT)
    assert (DEFAULT / "villagers.csv").stat().st_size > 1 << 16 and set(report.files) >= {"villagers.csv"}
    for name, sha in report.files.items():
        assert sha == hashlib.sha256((DEFAULT / name).read_bytes()).hexdigest(), name
    big = tmp_path / "big.bin"
    data = np.random.default_rng(1).integers(0, 256, (1 << 21) + 7, dtype=np.uint8).tobytes()
    big.write_bytes(data)
    assert sha256_file(big) == hashlib.sha256(data).hexdigest()


def test_a_file_hash_takes_every_byte_the_white_space_at_either_end_too(tmp_path):
    """A final newline added to a file changes its hash; an empty file has SHA-256's empty digest."""
    p = tmp_path / "f.bin"
    for data in (b"ruralgov\x00\xff", b" \tid,score\r\n1,2\n\n", b" \tid,score\r\n1,2\n"):
        p.write_bytes(data)
        assert sha256_file(p) == hashlib.sha256(data).hexdigest()
    p.write_bytes(b"")
    assert sha256_file(p) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_wave_lists_wave_yml_and_each_data_file_with_its_own_hash():
    """The appendix and the manifest list these: wave.yml first, then the data files; each the
    SHA-256 of the file's own bytes, not the wave's combined hash."""
    w = load_wave(DEFAULT)
    hashes = w.file_hashes
    assert list(hashes)[0] == "wave.yml" and set(hashes) == {"wave.yml", *w.files}
    for name, sha in hashes.items():
        assert sha == hashlib.sha256((DEFAULT / name).read_bytes()).hexdigest(), name
    assert w.sha256 not in hashes.values()


@pytest.mark.parametrize("sep, declared", [(";", ";"), ("\t", "tab"), ("\t", "\\t")],
                         ids=["semicolon", "tab", "backslash-t"])
@pytest.mark.parametrize("how", ["gbk", "title_row"])
def test_a_declared_delimiter_holds_on_the_careful_path_too(small_villagers, make_wave, sep, declared, how):
    """A GBK file, or one with a title line above its header, is read by the careful reader (not
    the fast one): the delimiter wave.yml declares splits its columns there as well."""
    text = small_villagers.to_csv(index=False, sep=sep)
    spec = {"delimiter": declared}
    if how == "gbk":
        data = text.encode("gbk")
        spec["encoding"] = "gbk"
    else:
        data = ("调查问卷 2020\n" + text).encode("utf-8")
        spec["questionnaires"] = {"villagers": {"file": "villagers.csv", "header_row": 2}}
    report, clean = validate_wave(make_wave(data, spec=spec))
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(small_villagers)
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(small_villagers["resp_id"].astype(str))


@pytest.mark.parametrize("tab", ["tab", "\\t"])
def test_a_questionnaire_s_own_delimiter_decides_over_the_wave_s(small_villagers, make_wave, tab):
    """wave.yml's delimiter is the default of its questionnaires; one that names its own (a tab
    file in a wave of semicolons, written ``tab`` or ``'\\t'``) is split on its own."""
    data = small_villagers.to_csv(index=False, sep="\t").encode("utf-8")
    report, clean = validate_wave(make_wave(data, spec={"delimiter": ";", "questionnaires": {
        "villagers": {"file": "villagers.csv", "delimiter": tab}}}))
    assert report.ok, report.errors[:3]
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(small_villagers["resp_id"].astype(str))


@pytest.mark.parametrize("declared", [None, "tab"])
def test_a_tsv_file_is_split_on_tabs_unless_wave_yml_says_otherwise(small_villagers, make_wave, declared):
    """A .tsv file is tab-separated by its name: read without a declared delimiter (and with one
    that says so), every column and row as written."""
    data = small_villagers.to_csv(index=False, sep="\t").encode("utf-8")
    report, clean = validate_wave(make_wave(data, file="villagers.tsv", spec={} if declared is None else {
        "questionnaires": {"villagers": {"file": "villagers.tsv", "delimiter": declared}}}))
    assert report.ok, report.errors[:3]
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(small_villagers["resp_id"].astype(str))
    np.testing.assert_array_equal(clean["villagers"]["age"], pd.to_numeric(small_villagers["age"]))


def test_a_wave_s_own_delimiter_holds_for_its_tsv_files_too(small_villagers, make_wave):
    """A delimiter wave.yml declares for the whole wave is the default of a .tsv file as well: a
    semicolon file named .tsv is read on semicolons."""
    data = small_villagers.to_csv(index=False, sep=";").encode("utf-8")
    report, clean = validate_wave(make_wave(data, file="villagers.tsv", spec={"delimiter": ";"}))
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(small_villagers)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_a_bad_code_in_a_statistics_package_file_is_named_by_its_spreadsheet_row(tmp_path, small_villagers,
                                                                                 make_wave, fmt):
    """SPSS and Stata files have no header row of text, but their rows are reported as every file's
    are (the header row 1, the third respondent row 4), as the package's data view numbers them
    with the variable names above."""
    typed = _typed(small_villagers, "villagers")
    typed.loc[2, "sex"] = 7.0
    path = tmp_path / f"v.{fmt}"
    (pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta)(typed, str(path))
    report, _ = validate_wave(make_wave(path.read_bytes(), file=f"villagers.{fmt}"))
    assert [(e.row, e.column) for e in report.errors] == [(4, "sex")]


def test_a_stata_file_s_value_labels_do_not_replace_its_codes(tmp_path, small_villagers, make_wave):
    """A .dta whose sex column carries the labels 1 = 男 and 2 = 女 is read as the codes 1 and 2
    (the labels agree with the codebook), exactly as the same file without labels."""
    typed = _typed(small_villagers, "villagers")
    labelled, plain = tmp_path / "labelled.dta", tmp_path / "plain.dta"
    pyreadstat.write_dta(typed, str(labelled), variable_value_labels={"sex": {1: "男", 2: "女"}})
    pyreadstat.write_dta(typed, str(plain))
    a, ca = validate_wave(make_wave(labelled.read_bytes(), name="labelled", file="villagers.dta"))
    b, cb_ = validate_wave(make_wave(plain.read_bytes(), name="plain", file="villagers.dta"))
    assert a.ok and b.ok, a.errors[:3]
    assert set(ca["villagers"]["sex"].dropna()) == {1.0, 2.0}
    pd.testing.assert_frame_equal(ca["villagers"], cb_["villagers"])


def test_a_stata_file_is_read_in_the_encoding_wave_yml_declares(tmp_path, small_villagers, make_wave,
                                                                  monkeypatch):
    """An old .dta (Stata 13 or earlier) stores text in the encoding of the machine that wrote it:
    the encoding wave.yml declares is the one the Stata reader is given."""
    typed = _typed(small_villagers, "villagers")
    pyreadstat.write_dta(typed, str(tmp_path / "v.dta"))
    given = []
    real = pyreadstat.read_dta

    def read_dta(path, **kw):  # type: ignore[no-untyped-def]
        given.append(kw.get("encoding"))
        return real(path, **{k: v for k, v in kw.items() if k != "encoding"})
    monkeypatch.setattr(pyreadstat, "read_dta", read_dta)
    report, _ = validate_wave(make_wave((tmp_path / "v.dta").read_bytes(), file="villagers.dta",
                                        spec={"encoding": "gbk"}))
    assert report.ok, report.errors[:3]
    assert given == ["gbk"]


@pytest.mark.parametrize("auto", ["auto", "DETECT"])
def test_a_stata_file_in_a_wave_whose_csv_encoding_is_detected_is_read_in_its_own(tmp_path, small_villagers,
                                                                                 make_wave, auto):
    """``encoding: auto`` in wave.yml is the CSV readers' detection; a .dta of that wave is read in
    the encoding it records itself (Stata's reader knows no "auto"), exactly as without the key."""
    typed = _typed(small_villagers, "villagers")
    pyreadstat.write_dta(typed, str(tmp_path / "v.dta"))
    data = (tmp_path / "v.dta").read_bytes()
    report, clean = validate_wave(make_wave(data, file="villagers.dta", spec={"encoding": auto}))
    assert report.ok, report.errors[:3]
    plain = validate_wave(make_wave(data, name="plain", file="villagers.dta"))[1]
    pd.testing.assert_frame_equal(clean["villagers"], plain["villagers"])


def test_an_unknown_wave_level_encoding_is_refused_by_the_settings_check(small_villagers, make_wave):
    """wave.yml's own ``encoding`` (the default of its questionnaires) is checked as a
    questionnaire's is: ``utf-9`` is refused by name before any file is read."""
    from analysis.ingest.readers import WaveSpecInvalid, load_spec

    folder = make_wave(small_villagers, spec={"encoding": "utf-9"})
    with pytest.raises(WaveSpecInvalid, match=r"unknown encoding: use utf-8, gb18030, gbk or auto") as e:
        load_spec(folder)
    assert "encoding" in str(e.value)


def test_wave_yml_s_disclosure_seed_and_design_settings_are_read_as_written(small_villagers, make_wave):
    """min_cell, reproduces_seed (apart from synthetic) and a design without PSUs reach the wave's
    spec as wave.yml writes them, not as the defaults would have them."""
    from analysis.ingest.readers import load_spec

    spec = load_spec(make_wave(small_villagers, spec={
        "min_cell": 30, "synthetic": False, "reproduces_seed": True,
        "design": {"weight": "weight", "strata": "province"}}))
    assert (spec.min_cell, spec.synthetic, spec.reproduces_seed) == (30, False, True)
    assert spec.title == "test wave" != spec.id
    assert spec.design["psu"] is None and spec.design["strata"] == "province"


def test_a_frame_the_wave_gives_can_be_changed_without_changing_the_wave():
    """The loaded wave is cached and shared: a column added, or a cell changed, in the frame a
    caller got never reaches the next caller."""
    w = load_wave(DEFAULT)
    v = w.villagers
    age = float(v["age"].iloc[0])
    v["scratch"] = 1.0
    v.loc[v.index[0], "age"] = age + 100
    again = load_wave(DEFAULT).villagers
    assert "scratch" not in again.columns and float(again["age"].iloc[0]) == age
    assert "scratch" not in w.villagers.columns


def test_a_file_pasted_from_two_encodings_is_refused_at_its_first_row_of_the_other(small_villagers,
                                                                                    make_wave):
    """A UTF-8 header (Chinese names) on rows exported in GBK: detecting the encoding would decode
    the header as GB18030 mojibake; the file is refused, naming the first row that is not UTF-8."""
    v = small_villagers.rename(columns={"sex": "性别"})
    header, body = v.to_csv(index=False).split("\n", 1)
    report, _ = validate_wave(make_wave(header.encode("utf-8") + b"\n" + body.encode("gbk")))
    assert [(e.file, e.row, e.rule) for e in report.errors] == [("villagers.csv", 2, "one encoding")]
    assert "mixes text encodings" in report.errors[0].message


@pytest.mark.parametrize("declared", ["Auto", "DETECT"])
def test_encoding_detection_may_be_asked_in_any_case(small_villagers, make_wave, declared):
    data = small_villagers.to_csv(index=False).encode("gbk")
    report, clean = validate_wave(make_wave(data, spec={"encoding": declared}))
    assert report.ok, report.errors[:3]
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(small_villagers["resp_id"].astype(str))


def test_a_file_s_format_is_known_by_its_suffix_in_any_case(small_villagers, make_wave):
    report, clean = validate_wave(make_wave(small_villagers, file="Villagers.CSV"))
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(small_villagers)


def test_a_utf8_file_saved_twice_with_a_bom_is_read_as_one(small_villagers, make_wave):
    """Two BOMs at the start (a tool that adds one to a file that had one) are both the file's
    start, not a second file pasted inside it."""
    data = "\ufeff\ufeff".encode("utf-8") + small_villagers.to_csv(index=False).encode("utf-8")
    report, clean = validate_wave(make_wave(data, spec={"encoding": "utf-8"}))
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(small_villagers)


def test_a_repeated_header_of_a_sheet_is_named_by_its_columns_counting_an_empty_header_cell(
        tmp_path, small_villagers, make_wave):
    """Sheet columns 5 and 7 both headed 'age', with header cell D1 empty: the message names the
    columns as the spreadsheet numbers them (5 and 7), not as if the empty cell were not there."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    header = list(small_villagers.columns[:8])
    header[3], header[4], header[6] = None, "age", "age"
    ws.append(header)
    for row in small_villagers.iloc[:5, :8].itertuples(index=False):
        ws.append(list(row))
    xlsx = tmp_path / "villagers.xlsx"
    wb.save(xlsx)
    report, _ = validate_wave(make_wave(xlsx.read_bytes(), file="villagers.xlsx"))
    [e] = [e for e in report.errors if e.rule == "unique headers"]
    assert "columns 5 and 7 are both headed 'age'" in e.message, e.message


def test_a_sheet_not_in_the_workbook_is_refused_naming_how_sheets_are_counted(tmp_path, default_frames):
    folder = tmp_path / "w"
    _write(folder, "xlsx", default_frames)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"]["institutions"].update(sheet=3)
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    report, _ = validate_wave(folder)
    [e] = report.errors
    assert "no sheet 3" in e.message and "a position counted from 0" in e.message


def test_a_sheet_position_one_past_the_last_or_negative_is_refused_by_its_rule(tmp_path, default_frames):
    """A workbook of one sheet: position 1 is one past it, refused as a sheet that does not exist
    (not an IndexError); a negative position is refused by wave.yml's check (not read as Python's
    "last sheet"), whether it names the last sheet or none."""
    from analysis.ingest.readers import WaveSpecInvalid, load_spec

    folder = tmp_path / "w"
    _write(folder, "xlsx", default_frames)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    for sheet in (1, -1, -3):
        spec["questionnaires"]["institutions"].update(sheet=sheet)
        (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        if sheet >= 0:
            [e] = validate_wave(folder)[0].errors
            assert (e.rule, e.file) == ("sheet exists", "institutions.xlsx"), e
            assert "no sheet 1; sheets: " in e.message, e.message
        else:
            with pytest.raises(WaveSpecInvalid, match="counted from 0 .*never negative"):
                load_spec(folder)


def test_a_header_with_a_stray_space_or_a_bom_is_read_as_its_item(small_villagers, make_wave):
    """'sex ' (a spreadsheet's trailing space) and a BOM left on the first header of a Parquet file
    made from a CSV are the items they name."""
    v = small_villagers.rename(columns={"sex": "sex ", "resp_id": "\ufeffresp_id"})
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors[:3]
    plain = validate_wave(make_wave(small_villagers, name="plain"))[1]
    pd.testing.assert_frame_equal(clean["villagers"], plain["villagers"])
    folder = make_wave(name="pq", file="villagers.parquet")
    v.to_parquet(folder / "villagers.parquet", index=False)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(small_villagers["resp_id"].astype(str))


def test_blank_lines_of_a_gbk_file_are_not_respondents(small_villagers, make_wave):
    lines = small_villagers.to_csv(index=False).splitlines()
    data = "\n".join([*lines[:5], "", *lines[5:], "", ""]).encode("gbk")
    report, clean = validate_wave(make_wave(data, spec={"encoding": "gbk"}))
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(small_villagers)


def test_reversed_value_labels_of_a_yes_no_item_are_refused_too(tmp_path, small_villagers, make_wave):
    """Not only categorical items: a binary item whose labels say 0 = 是 (the codebook: 1 = 是)
    would reverse its answers."""
    typed = _typed(small_villagers, "villagers")
    sav = tmp_path / "villagers.sav"
    pyreadstat.write_sav(typed, str(sav), variable_value_labels={"internet_use": {0.0: "是", 1.0: "否"}})
    report, _ = validate_wave(make_wave(sav.read_bytes(), file="villagers.sav"))
    rule = "value labels agree with the codebook"
    assert {(e.column, e.rule) for e in report.errors} == {("internet_use", rule)}
