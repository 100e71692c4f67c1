"""Each validation rule, on a small malformed wave: the message names file, row and column,
the CLI exits 1 and nothing is written."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.ingest.validate import validate_wave
from tests.conftest import chinese_headers, tree_hashes

runner = CliRunner()


def _errors(folder):
    report, _ = validate_wave(folder)
    return report, report.errors


def _csv_lines(v: pd.DataFrame, quoted: bool) -> list[str]:
    """The lines of a CSV file of ``v``, every cell quoted or only where needed."""
    return v.to_csv(index=False, quoting=csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL).splitlines()


def _assert_cli_rejects(folder, *needles):
    before = tree_hashes(folder.parent)
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1, res.output
    for n in needles:
        assert n in res.output.replace("\n", " ") or n in (res.stderr or ""), (n, res.output)
    assert tree_hashes(folder.parent) == before  # nothing written, raw data untouched


def test_the_default_wave_is_valid():
    res = runner.invoke(app, ["validate", "2020-replica"])
    assert res.exit_code == 0, res.output
    assert "is valid" in res.output


def test_usage_error_exits_2():
    assert runner.invoke(app, ["validate", "--nonsense"]).exit_code == 2


def test_missing_required_column(small_villagers, make_wave):
    report, errs = _errors(make_wave(small_villagers.drop(columns=["weight"])))
    assert [(e.file, e.column, e.rule) for e in errs] == [("villagers.csv", "weight", "required column")]


def test_a_design_column_wave_yml_names_is_required_though_the_codebook_does_not_require_it(
        small_villagers, make_wave):
    """Occupation is an optional item; a wave stratified by it needs it in the file."""
    from analysis.ingest.codebook import load_codebook

    assert not load_codebook().item("villagers", "occupation").required
    design = {"weight": "weight", "strata": "occupation", "psu": "village_id"}
    report, errs = _errors(make_wave(small_villagers.drop(columns=["occupation"]), spec={"design": design}))
    assert [(e.file, e.column, e.rule) for e in errs] == [("villagers.csv", "occupation", "required column")]


def test_unknown_extra_column_is_kept_and_reported_as_a_warning(small_villagers, make_wave):
    report, errs = _errors(make_wave(small_villagers.assign(interviewer_note="x")))
    assert report.ok
    assert [w.column for w in report.warnings] == ["interviewer_note"]


@pytest.mark.parametrize("blank, want", [
    (1, "1 column has no header (read as 'Unnamed: {k}')"),
    (2, "2 columns have no header (read as 'Unnamed: {k}'…)")])
def test_columns_without_a_header_are_counted_in_one_warning(small_villagers, make_wave, blank, want):
    """Blank header cells are kept out of the data and reported once, counted in words that fit
    the count."""
    v = small_villagers.copy()
    k = len(v.columns)
    for i in range(blank):
        v.insert(len(v.columns), "", f"x{i}", allow_duplicates=True)
    report, errs = _errors(make_wave(v))
    assert report.ok and [w.message for w in report.warnings if "header" in w.message] == [want.format(k=k)]


@pytest.mark.parametrize("col,value,rule", [
    ("edu_org", "7", "schema"), ("sex", "3", "schema"), ("age", "abc", "parsable value"),
    ("age", "150", "schema"), ("hp_far", "2", "schema"), ("education", "博士", "parsable value"),
    ("edu_org", "2.5", "schema"), ("sex", "1.5", "schema"),      # between two valid codes
])
def test_bad_values_name_file_row_column(small_villagers, make_wave, col, value, rule):
    v = small_villagers.copy()
    v.loc[3, col] = value
    report, errs = _errors(make_wave(v))
    assert len(errs) == 1, errs
    e = errs[0]
    assert (e.file, e.row, e.column, e.rule) == ("villagers.csv", 5, col, rule)
    assert value in e.value


def test_a_bad_value_is_quoted_whole_up_to_60_characters_and_shortened_past_them(small_villagers, make_wave):
    """The report quotes the value it refuses: whole up to 60 characters (an address pasted into a
    number), cut to 59 and an ellipsis past them (a document pasted into a cell)."""
    v = small_villagers.copy()
    v["age"] = v["age"].astype(object)
    v.loc[3, "age"], v.loc[4, "age"] = "a" * 60, "b" * 61
    report, errs = _errors(make_wave(v))
    assert [(e.row, e.rule) for e in errs] == [(5, "parsable value"), (6, "parsable value")]
    assert [e.value for e in errs] == ["a" * 60, "b" * 59 + "…"]


def test_missing_answers_are_counted_over_their_own_questionnaire_s_rows(small_villagers, make_wave,
                                                                           default_frames):
    """A wave of two questionnaires: the missing-value counts of each item are over the rows of its
    own file (the survey page's non-response shares divide by them), not over all rows read."""
    v = small_villagers.copy()
    v.loc[:2, "hp_far"] = ""
    inst = default_frames["institutions"]
    report, _ = validate_wave(make_wave(v, institutions=inst))
    mf = report.missing_frame().set_index(["questionnaire", "column"])
    assert report.rows == {"villagers": len(v), "institutions": len(inst)}
    assert set(mf.loc["villagers", "rows"]) == {len(v)} and set(mf.loc["institutions", "rows"]) == {len(inst)}
    assert mf.loc[("villagers", "hp_far"), "blank"] >= 3


def test_answers_written_as_labels_are_read_whatever_their_case(small_villagers, make_wave):
    """A coded item answered with its label, in Chinese or in English with any capitals (a field
    team's export of 'Male', 'FEMALE'), is read as the label's code."""
    v = small_villagers.copy()
    v.loc[:2, "sex"] = ["Male", "FEMALE", "女"]
    v[["internet_use", "hp_equipment"]] = v[["internet_use", "hp_equipment"]].astype(object)
    v.loc[:2, "internet_use"] = ["是", "No", "YES"]                  # a yes/no item
    ticks = v.index[pd.to_numeric(v["hp_dontknow"], errors="coerce") == 0][:2]   # a multi-select member
    v.loc[ticks, "hp_equipment"] = ["选中", "not ticked"]
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors[:3]
    got = clean["villagers"]
    assert got["sex"].iloc[:3].tolist() == [1.0, 2.0, 2.0]
    assert got["internet_use"].iloc[:3].tolist() == [1, 0, 1]
    assert got.loc[ticks, "hp_equipment"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [60, 50])
def test_a_column_with_more_than_50_unparsable_values_lists_50_and_counts_the_rest(small_villagers,
                                                                                    make_wave, bad):
    v = small_villagers.copy()
    v.loc[:bad - 1, "age"] = "abc"
    report, errs = _errors(make_wave(v))
    assert len(errs) == min(bad, 50) + (bad > 50) and all(e.column == "age" for e in errs)
    assert [e.message for e in errs if "more unparsable" in e.message] == (
        [f"{bad - 50} more unparsable values in this column"] if bad > 50 else [])


@pytest.mark.parametrize("col,value,ok", [
    ("age", "16", True), ("age", "100", True), ("age", "15", False), ("age", "101", False),
    ("distance_km", "0", True), ("distance_km", "300", True), ("distance_km", "300.5", False),
    ("distance_km", "-0.5", False)])
def test_a_codebook_range_is_closed_at_both_ends(small_villagers, make_wave, col, value, ok):
    """The codebook's ranges (age [16, 100], distance [0, 300] km): both ends allowed, a step
    past either refused on its row and column."""
    v = small_villagers.copy()
    v[col] = v[col].astype(object)
    v.loc[3, col] = value
    report, errs = _errors(make_wave(v))
    if ok:
        assert report.ok, errs
    else:
        assert [(e.row, e.column, e.rule) for e in errs] == [(5, col, "schema")]
        assert "allowed range is" in errs[0].message


def test_column_map_decides_over_the_codebook_s_aliases(small_villagers, make_wave):
    """An export that put the age under the distance's Chinese header (an alias of distance_km)
    and the distance under the age's, put right by wave.yml's column_map: the map decides, not
    the alias."""
    v = small_villagers.assign(distance_km=small_villagers["distance_km"].round())
    swapped = v.rename(columns={"age": "到乡镇距离", "distance_km": "年龄"})
    folder = make_wave(swapped, spec={"questionnaires": {"villagers": {
        "file": "villagers.csv", "column_map": {"到乡镇距离": "age", "年龄": "distance_km"}}}})
    report, frames = validate_wave(folder)
    assert report.ok, report.errors
    got = frames["villagers"]
    np.testing.assert_array_equal(got["age"].to_numpy(float), v["age"].to_numpy(float))
    np.testing.assert_array_equal(got["distance_km"].to_numpy(float), v["distance_km"].to_numpy(float))


def test_a_column_map_target_that_is_not_an_item_is_refused_with_the_closest_item(small_villagers, make_wave):
    """The suggestion is an item of the questionnaire, not a header of the file (here Q7)."""
    folder = make_wave(small_villagers.rename(columns={"edu_org": "Q7"}), spec={"questionnaires": {
        "villagers": {"file": "villagers.csv", "column_map": {"Q7": "edu_orgg"}}}})
    report, errs = _errors(folder)
    assert [e.rule for e in errs] == ["column_map"]
    assert "maps 'Q7' to 'edu_orgg'" in errs[0].message and "(did you mean 'edu_org'?)" in errs[0].message


def test_a_question_text_two_items_share_is_read_where_column_map_says(small_villagers, make_wave):
    """A column headed 服务态度差 (the text of hp_attitude and of etp_attitude) is refused until
    wave.yml's column_map says which item it holds; then it is read as that item."""
    v = small_villagers.rename(columns={"etp_attitude": "服务态度差"})
    report, errs = _errors(make_wave(v, name="refused"))
    assert [(e.file.endswith("villagers.csv"), e.row, e.column, e.rule) for e in errs] == \
        [(True, 1, "服务态度差", "one item per header")]
    assert "'hp_attitude', 'etp_attitude'" in errs[0].message and "column_map" in errs[0].message
    folder = make_wave(v, name="mapped", spec={"questionnaires": {"villagers": {
        "file": "villagers.csv", "column_map": {"服务态度差": "etp_attitude"}}}})
    report, frames = validate_wave(folder)
    assert report.ok, report.errors
    np.testing.assert_array_equal(frames["villagers"]["etp_attitude"].to_numpy(float),
                                  small_villagers["etp_attitude"].replace("", np.nan).to_numpy(float))


@pytest.mark.parametrize("problem", ["semicolons", "repeated header", "none"])
def test_a_header_below_a_title_line_is_the_one_checked(small_villagers, make_wave, problem):
    """header_row: 2 (a title line above the header): the header row itself is checked for its
    delimiter and for a repeated name, and named as row 2; the title line is not data."""
    v = small_villagers.rename(columns={"sex": "age"}) if problem == "repeated header" else small_villagers
    sep = ";" if problem == "semicolons" else ","
    body = v.to_csv(index=False, sep=sep)
    folder = make_wave(("Village survey, 2020 wave\n" + body).encode("utf-8"),
                       spec={"questionnaires": {"villagers": {"file": "villagers.csv", "header_row": 2}}})
    report, errs = _errors(folder)
    if problem == "none":
        assert report.ok, errs
        return
    rule = {"semicolons": "delimiter", "repeated header": "unique headers"}[problem]
    assert [(e.file, e.row, e.rule) for e in errs] == [("villagers.csv", 2, rule)]
    if problem == "repeated header":                     # columns counted from 1, as a spreadsheet does
        assert "columns 5 and 6 are both headed 'age'" in errs[0].message


def test_out_of_range_via_cli(small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[0, "edu_org"] = "6"
    _assert_cli_rejects(make_wave(v), "villagers.csv", "edu_org", "valid codes")


def test_the_cli_counts_errors_and_warnings_apart(small_villagers, make_wave):
    """One answer out of range (an error) and a column the codebook does not know (a warning):
    the title says 1 error and 1 warning, not 2 errors."""
    v = small_villagers.assign(remarks="x")
    v.loc[0, "edu_org"] = "6"
    folder = make_wave(v)
    report, errs = _errors(folder)
    assert (len(errs), [w.rule for w in report.warnings]) == (1, ["known column"])
    assert [p.severity for p in report.problems] == ["error", "warning"]    # the errors listed first
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1
    assert "1 error(s), 1 warning(s)" in " ".join(res.output.split())


def test_duplicate_respondent_ids(small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[4, "resp_id"] = v.loc[1, "resp_id"]
    report, errs = _errors(make_wave(v))
    assert {(e.row, e.column, e.rule) for e in errs} == {(3, "resp_id", "unique id"), (6, "resp_id", "unique id")}
    assert "also on row 3" in [e for e in errs if e.row == 6][0].message


@pytest.mark.parametrize("value", ["0", "-3.5", "", "nan", "inf"])
def test_non_positive_or_missing_weights(small_villagers, make_wave, value):
    v = small_villagers.copy()
    v.loc[2, "weight"] = value
    report, errs = _errors(make_wave(v))
    assert errs and all((e.row, e.column) == (4, "weight") for e in errs), errs
    if value == "inf":
        assert [e.message for e in errs] == ["'inf' breaks the rule: must be finite"]


@pytest.mark.parametrize("code, refused", [(5_000_000, "hh_income"), (5_000_001, None), (-8, None),
                                           (99, "age")])
def test_a_missing_code_at_the_end_of_an_item_s_range_is_refused_as_an_answer(small_villagers, make_wave,
                                                                                code, refused):
    """Household income is an answer from 0 to 5,000,000 yuan, both ends included: declaring the
    top of that range missing would drop every such answer, so wave.yml is refused on its
    missing_codes; one yuan above, or a negative code, is no answer of any item. 99 is an age (a
    count from 16 to 100), the first item it would drop."""
    report, errs = _errors(make_wave(small_villagers, spec={"missing_codes": [code]}))
    assert [(e.file, e.column, e.rule) for e in errs] == (
        [("wave.yml", "missing_codes", "missing codes are not answers")] if refused else [])
    if refused:
        assert f"'{refused}'" in errs[0].message


def test_a_part_may_equal_its_total_but_not_exceed_it_alone_or_with_the_other_parts(small_villagers,
                                                                                        default_frames,
                                                                                        make_wave):
    """"Of whom" counts: every doctor licensed, or teachers of both levels adding up to all
    teachers, is valid; one licensed doctor more than the doctors, or two levels adding up to
    more than the teachers while each alone does not, is refused on its row (the parts' sum on
    the first part's column)."""
    inst = default_frames["institutions"].copy()
    inst["hosp_doctors"], inst["school_teachers"] = "20", "30"
    inst[["hosp_doctors_licensed", "school_teachers_bachelor", "school_teachers_hs"]] = "10"
    inst.loc[0, "hosp_doctors_licensed"] = "20"                              # all of them: valid
    inst.loc[1, "hosp_doctors_licensed"] = "21"                              # one more: refused
    inst.loc[2, ["school_teachers_bachelor", "school_teachers_hs"]] = ["20", "10"]    # 30 of 30: valid
    inst.loc[3, ["school_teachers_bachelor", "school_teachers_hs"]] = ["20", "11"]    # 31 of 30: refused
    report, errs = _errors(make_wave(small_villagers, institutions=inst))
    assert sorted((e.file, e.row, e.column) for e in errs if e.rule == "part not above its total") == [
        ("institutions.csv", 3, "hosp_doctors_licensed"), ("institutions.csv", 5, "school_teachers_bachelor")]
    assert [e.rule for e in errs] == ["part not above its total"] * 2


@pytest.mark.parametrize("top, refused", [("n - 1", False), ("n", True)])
def test_a_respondent_carrying_more_than_half_the_weight_is_refused_and_half_is_not(
        small_villagers, make_wave, top, refused):
    """Weights of 1 and one of n − 1 on n respondents: that one carries exactly half the total,
    allowed (it is flagged as far above its stratum's median, a warning); one of n carries more
    than half, an error on its row."""
    v = small_villagers.copy()
    n = len(v)
    v["weight"] = "1"
    v.loc[3, "weight"] = str(n - 1 if top == "n - 1" else n)
    report, errs = _errors(make_wave(v))
    dominant = [(e.row, e.column) for e in errs if e.rule == "no dominant weight"]
    assert dominant == ([(5, "weight")] if refused else [])
    assert report.ok is not refused
    if not refused:
        flagged = [(w.row, w.column) for w in report.warnings if w.rule == "no dominant weight"]
        assert flagged == [(5, "weight")]


@pytest.mark.parametrize("weight,flagged", [("20", False), ("20.5", True)])
def test_a_weight_is_flagged_only_above_20_times_its_stratum_s_median(small_villagers, make_wave, weight,
                                                                       flagged):
    """The rule is "more than 20 times": a weight exactly 20 times its stratum's median passes."""
    v = small_villagers.copy()
    v["weight"] = "1"
    v.loc[3, "weight"] = weight
    report, errs = _errors(make_wave(v))
    assert report.ok, errs
    rows = [w.row for w in report.warnings if w.rule == "no dominant weight"]
    assert rows == ([5] if flagged else [])


def test_a_short_last_row_is_said_to_look_truncated_only_without_a_final_line_break(small_villagers,
                                                                                   make_wave):
    """The last row a cell short and no line break after it: a file cut off while written, which
    the message says; the same row followed by a line break is only a short row."""
    lines = small_villagers.to_csv(index=False).splitlines()
    lines[-1] = lines[-1].rsplit(",", 1)[0]
    row = len(lines)
    cut = _errors(make_wave("\n".join(lines).encode(), name="cut"))[1]
    whole = _errors(make_wave(("\n".join(lines) + "\n").encode(), name="whole"))[1]
    assert [(e.row, e.rule) for e in cut] == [(row, "complete rows")] == [(e.row, e.rule) for e in whole]
    assert cut[0].message.endswith("and the file does not end with a line break: it looks truncated")
    assert "truncated" not in whole[0].message


@pytest.mark.parametrize("sep,name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_a_header_of_three_columns_split_by_another_delimiter_is_named(make_wave, sep, name):
    """Three headers (two delimiters, the fewest that say it) joined by another character than the
    declared one: the file is refused with the delimiter to declare, not read as one column."""
    data = sep.join(["resp_id", "sex", "age"]) + "\n" + sep.join(["A1", "1", "30"]) + "\n"
    report, errs = _errors(make_wave(data.encode()))
    assert [(e.file, e.row, e.rule) for e in errs] == [("villagers.csv", 1, "delimiter")]
    assert f"but 2 {name}s" in errs[0].message and f"declare delimiter: {sep!r}" in errs[0].message


def test_a_weight_far_above_its_stratum_s_median_is_flagged_though_it_pulls_the_mean_up(small_villagers,
                                                                                          make_wave):
    """Weights of 1 in a stratum and one of 25: 25 times the stratum's median, flagged (a
    warning on its row); against the stratum's mean, which that weight raises, it would be
    less than 20 times."""
    v = small_villagers.copy()
    v["weight"] = "1"
    v.loc[3, "weight"] = "25"
    n_s = (v["province"] == v.loc[3, "province"]).sum()
    assert 25 / ((n_s - 1 + 25) / n_s) < 20
    report, errs = _errors(make_wave(v))
    assert report.ok, errs
    flagged = [w for w in report.warnings if w.rule == "no dominant weight"]
    assert [(w.row, w.column) for w in flagged] == [(5, "weight")]
    assert "weight 25 is 25 times the median weight of its stratum" in flagged[0].message
    # a second such weight in the stratum is flagged too, on its own row
    same = v.index[v["province"] == v.loc[3, "province"]]
    v.loc[same[-1], "weight"] = "30"
    report, _ = _errors(make_wave(v, name="two"))
    assert [w.row for w in report.warnings if w.rule == "no dominant weight"] == [5, same[-1] + 2]
    # weights of 0 (each refused) in most of a stratum do not lower its median to 0, which would
    # flag every valid weight of 1 beside them
    v["weight"] = "1"
    v.loc[same[: len(same) * 2 // 3], "weight"] = "0"
    report, errs = _errors(make_wave(v, name="zeros"))
    assert {e.column for e in errs} == {"weight"} and len(errs) == len(same) * 2 // 3
    assert not [w for w in report.warnings if w.rule == "no dominant weight"]
    v["weight"] = "100000"                  # the weight as written, not rounded to 6 digits (2.5e+06)
    v.loc[3, "weight"] = "2500001.25"
    flagged = [w for w in _errors(make_wave(v, name="w2"))[0].warnings if w.rule == "no dominant weight"]
    assert "weight 2500001.25 is 25 times" in flagged[0].message


def test_weights_are_compared_with_their_own_stratum_s_median_not_the_wave_s(small_villagers, make_wave):
    """A stratum sampled at a thirtieth of another's rate has weights thirty times as large, all
    alike: nothing is flagged (against the wave's median every one of them would be)."""
    v = small_villagers.copy()
    provs = v["province"].value_counts()
    small = provs.index[-1]                                       # the least numerous: the median is 1
    v["weight"] = np.where(v["province"] == small, "30", "1")
    assert provs[small] < len(v) / 2                              # the premise
    report, errs = _errors(make_wave(v))
    assert report.ok, errs
    assert not [w for w in report.warnings if w.rule == "no dominant weight"]


@pytest.mark.parametrize("extra, refused", [(0, False), (1, True)])
def test_a_cell_is_refused_only_beyond_the_size_limit(small_villagers, make_wave, extra, refused):
    """A cell of exactly MAX_CELL_CHARS characters is within the limit; one more is refused,
    on its row and column."""
    from analysis.ingest.readers import MAX_CELL_CHARS

    v = small_villagers.assign(interviewer_note="x")
    v.loc[3, "interviewer_note"] = "a" * (MAX_CELL_CHARS + extra)
    report, errs = _errors(make_wave(v))
    assert [(e.row, e.column) for e in errs if e.rule == "cell size"] == ([(5, "interviewer_note")]
                                                                           if refused else [])
    assert report.ok is not refused


def test_unknown_province_lists_closest(small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[0, "province"] = "Shangai"
    report, errs = _errors(make_wave(v))
    assert any(e.rule == "known province" and e.row == 2 and "closest: Shanghai" in e.message for e in errs)
    # every row of an unknown province is named (a file has a few), each with its own spelling
    v.loc[[4, 9], "province"] = ["Henann", "Atlantis"]
    report, errs = _errors(make_wave(v, name="three"))
    assert [(e.row, e.value) for e in errs if e.rule == "known province"] == \
        [(2, "Shangai"), (6, "Henann"), (11, "Atlantis")]


def test_psu_in_two_strata(small_villagers, make_wave):
    v = small_villagers.copy()
    other = v.loc[v["province"] != v.loc[0, "province"], "village_id"].iloc[0]
    v.loc[0, "village_id"] = other
    report, errs = _errors(make_wave(v))
    assert any(e.rule == "PSU nested in one stratum" and e.column == "village_id" for e in errs), errs


def test_ids_and_psus_are_read_without_the_spaces_around_them(small_villagers, make_wave):
    """' v01  ' is the PSU 'v01' (not a PSU of its own, which would add a PSU to the design) and
    'r7 ' repeats the respondent 'r7'."""
    v = small_villagers.copy()
    v.loc[1, "village_id"] = f" {v.loc[1, 'village_id']}  "
    report, frames = validate_wave(make_wave(v))
    assert report.ok, report.errors
    got = frames["villagers"]["village_id"]
    assert got.tolist() == small_villagers["village_id"].tolist()
    assert got.nunique() == small_villagers["village_id"].nunique()
    v.loc[4, "resp_id"] = f"{v.loc[1, 'resp_id']} "
    report, errs = _errors(make_wave(v, name="dup"))
    assert {(e.row, e.column, e.rule) for e in errs} == {(3, "resp_id", "unique id"),
                                                         (6, "resp_id", "unique id")}


def test_an_fpc_of_a_design_without_strata_speaks_of_the_sample(small_villagers, make_wave):
    """Without strata the sample is one stratum: no placeholder stratum ('0') in the message."""
    from analysis.estimation.design import DesignError, SurveyDesign

    v = small_villagers.copy()
    n_psu = v["village_id"].nunique()
    design = {"weight": "weight", "strata": None, "psu": "village_id", "fpc": "fpc"}
    v["fpc"] = 2000
    v.loc[6, "fpc"] = 3000
    errs = _errors(make_wave(v, spec={"design": design}))[1]
    assert [(e.row, e.column, e.rule) for e in errs] == [(2, "fpc", "fpc constant in a stratum")]
    assert errs[0].message.startswith("the fpc takes 2 values in a design without strata;")
    v["fpc"] = 2
    errs = _errors(make_wave(v, name="below", spec={"design": design}))[1]
    assert [e.rule for e in errs] == ["fpc at least the PSUs sampled"]
    said = f"the sample (no strata) has {n_psu} PSUs sampled but an fpc of 2:"
    assert errs[0].message.startswith(said)
    with pytest.raises(DesignError) as e:               # a design built from arrays says the same
        SurveyDesign.from_arrays(v["weight"].to_numpy(float), psu=v["village_id"].to_numpy(), fpc=v["fpc"])
    assert str(e.value) == errs[0].message
    with pytest.raises(DesignError, match="^the fpc takes 2 values in a design without strata;"):
        SurveyDesign.from_arrays(np.ones(4), psu=[1, 2, 3, 4], fpc=[9, 9, 8, 9])


@pytest.mark.parametrize("shift", [0, -1])
@pytest.mark.parametrize("psu", ["village_id", None])
def test_an_fpc_may_equal_the_psus_sampled_and_not_fall_below_them(small_villagers, make_wave, psu, shift):
    """A stratum's population of PSUs is at least the PSUs sampled from it: a census of its three
    villages (fpc 3) is allowed, fpc 2 is refused on the stratum's first row. A design without a
    PSU column samples respondents: there the fpc is at least the stratum's respondents."""
    v = small_villagers.copy()
    n_h = v.groupby("province")["village_id"].nunique() if psu else v.groupby("province").size()
    if psu:
        assert n_h["河南"] == 3
    v["fpc"] = v["province"].map(n_h + 10).where(v["province"] != "河南", n_h["河南"] + shift).astype(str)
    folder = make_wave(v, spec={"design": {"weight": "weight", "strata": "province", "psu": psu,
                                           "fpc": "fpc"}})
    report, errs = _errors(folder)
    if shift == 0:
        assert report.ok, errs
    else:
        first = int(np.flatnonzero((v["province"] == "河南").to_numpy())[0]) + 2
        assert [(e.row, e.column, e.rule) for e in errs] == [(first, "fpc", "fpc at least the PSUs sampled")]
        sampled = "PSUs sampled" if psu else "respondents sampled (each its own PSU)"
        assert f"has {n_h['河南']} {sampled} but an fpc of {n_h['河南'] - 1}:" in errs[0].message


@pytest.mark.parametrize("psu", ["village_id", None])
def test_an_fpc_given_as_a_sampling_fraction_is_not_a_population_below_the_sample(small_villagers, make_wave,
                                                                                   psu):
    """An fpc of 1 or less is a sampling fraction (wave.yml's fpc: "PSUs in the stratum's population,
    or a sampling fraction"), not a population of one PSU or less: 0.1 in every stratum passes,
    though each stratum samples more than 0.1 PSUs or respondents."""
    v = small_villagers.copy()
    v["fpc"] = "0.1"
    design = {"weight": "weight", "strata": "province", "psu": psu, "fpc": "fpc"}
    report, errs = _errors(make_wave(v, spec={"design": design}))
    assert report.ok, errs
    assert not [p for p in report.problems if p.column == "fpc"]


def test_an_fpc_with_two_values_in_one_stratum_is_refused(small_villagers, make_wave):
    """A stratum has one population of PSUs: an fpc of 50 for its first village and 60 for the
    others is refused (two values, not only three or more); one value per stratum passes."""
    v = small_villagers.copy()
    v["fpc"] = "50"
    henan = v.index[v["province"] == "河南"]
    first_village = v.loc[henan[0], "village_id"]
    v.loc[henan[v.loc[henan, "village_id"] != first_village], "fpc"] = "60"
    design = {"design": {"weight": "weight", "strata": "province", "psu": "village_id", "fpc": "fpc"}}
    report, errs = _errors(make_wave(v, spec=design))
    assert {(e.column, e.rule) for e in errs} == {("fpc", "fpc constant in a stratum")}
    assert _errors(make_wave(v.assign(fpc="50"), name="one", spec=design))[0].ok


@pytest.mark.parametrize("value, says", [("0", "must be positive"), ("-3.5", "must be positive"),
                                         ("inf", "must be finite")])
def test_an_fpc_not_a_positive_finite_count_or_fraction_is_refused_on_its_row(small_villagers, make_wave,
                                                                              value, says):
    v = small_villagers.copy()
    v["fpc"] = v["province"].map(v.groupby("province")["village_id"].nunique() + 10).astype(str)
    v.loc[2, "fpc"] = value
    folder = make_wave(v, spec={"design": {"weight": "weight", "strata": "province", "psu": "village_id",
                                           "fpc": "fpc"}})
    report, errs = _errors(folder)
    assert any((e.row, e.column, e.rule) == (4, "fpc", "schema") and says in e.message for e in errs), errs


def test_single_psu_stratum_is_a_warning(small_villagers, make_wave):
    v = small_villagers.copy()
    sh = v["province"] == "上海"
    v.loc[sh, "village_id"] = v.loc[sh, "village_id"].iloc[0]
    report, errs = _errors(make_wave(v))
    assert report.ok
    assert any(w.rule == "two or more PSUs per stratum" for w in report.warnings)


@pytest.mark.parametrize("rule", ["fail", "adjust", "remove", "certainty"])
def test_single_psu_stratum_is_an_error_when_the_wave_s_rule_is_fail(small_villagers, make_wave, rule):
    """``design.lonely_psu: fail`` refuses a stratum with one PSU at validation (named, with its
    file row), rather than passing validation and failing when the design is built; every other
    rule says how such a stratum is estimated, so it is a warning."""
    v = small_villagers.copy()
    sh = v["province"] == "上海"
    v.loc[sh, "village_id"] = v.loc[sh, "village_id"].iloc[0]
    design = {"weight": "weight", "strata": "province", "psu": "village_id", "lonely_psu": rule}
    report, _ = validate_wave(make_wave(v, spec={"design": design}))
    [e] = [e for e in report.problems if e.rule == "two or more PSUs per stratum"]
    assert (e.severity, report.ok) == (("error", False) if rule == "fail" else ("warning", True))
    said = "lonely_psu: fail" if rule == "fail" else f"survey.lonely.psu='{rule}'"
    assert e.column == "province" and "Shanghai" in e.message and said in e.message, e.message
    assert e.row == int(np.flatnonzero(sh.to_numpy())[0]) + 2


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_an_id_or_psu_of_spaces_is_blank_whatever_the_file(small_villagers, make_wave, fmt):
    """A respondent id or a PSU made of spaces (or a tab) is blank, on the Arrow path of a CSV file
    as on the general path of a spreadsheet: refused on its row, not read as an id."""
    v = small_villagers.astype({"resp_id": object, "village_id": object})
    v.loc[3, "resp_id"] = "   "
    v.loc[6, "village_id"] = " \t "
    if fmt == "xlsx":
        import io

        buf = io.BytesIO()
        v.to_excel(buf, index=False)
        data = buf.getvalue()
    else:
        data = v.to_csv(index=False).encode() if fmt == "csv" else v.to_parquet(index=False)
    report, errs = _errors(make_wave(data, file=f"villagers.{fmt}"))
    assert {(5, "resp_id", "not missing"), (8, "village_id", "not missing")} <= {(e.row, e.column, e.rule)
                                                                              for e in errs}, errs


@pytest.mark.parametrize("sex", ["1", "Male"])
def test_nan_written_as_text_is_unparsable_and_blanks_and_missing_codes_are_counted_apart(small_villagers,
                                                                                           make_wave, sex):
    """"NaN" typed into a column with no blank cell is not a number (refused on its row, not read as
    a missing answer); a column's blank cells and its declared missing codes are counted apart, on
    the fast path (every cell a number) and on the general one (a label among them)."""
    v = small_villagers.astype({"age": object, "sex": object})
    v.loc[3, "age"] = "NaN"
    v.loc[0, "sex"] = sex
    v.loc[[1, 2, 4], "sex"] = ["", "", "99"]                          # two blanks, one code declared missing
    report, errs = _errors(make_wave(v))
    assert [(e.row, e.column, e.rule) for e in errs] == [(5, "age", "parsable value")]
    assert report.missing["villagers"]["sex"] == {"blank": 2, "declared": 1}


@pytest.mark.parametrize("column, kind", [("fpc", "a number"), ("weight", "a number"), ("age", "a number"),
                                          ("sex", "a code or value label")])
def test_an_unparsable_cell_is_said_to_be_not_a_number_of_a_numeric_item_and_not_a_code_of_a_coded_one(
        small_villagers, make_wave, column, kind):
    """What a cell that cannot be read should have been: a number for the numeric items (the
    finite population correction among them), a code or value label for the coded ones; said once
    (the weight is required, and its unreadable cell is no second error of a blank one)."""
    v = small_villagers.assign(fpc="60").astype({column: object})
    v.loc[2, column] = "n/a"
    report, errs = _errors(make_wave(v))
    assert [(e.row, e.column, e.message) for e in errs if e.rule == "parsable value"] == [
        (4, column, f"'n/a' is not {kind} of item {column!r}")]
    # one cell, one error: a required column's unreadable cell is not refused again as blank
    assert [(e.row, e.column) for e in errs] == [(4, column)], [(e.row, e.column, e.rule) for e in errs]


def test_sixty_unreadable_weights_are_sixty_errors_listed_fifty_then_counted_not_refused_again_as_blank(
        small_villagers, make_wave):
    """Past the 50 listed, the rest of a column's unreadable cells are counted once ("10 more"),
    and none of the 60 is refused a second time as a blank required cell; 60 blank weights are
    refused as blanks, 50 listed and the 10 others counted under the same rule."""
    v = small_villagers.astype({"weight": object})
    v.loc[:59, "weight"] = "abc"
    _, errs = _errors(make_wave(v, name="text"))
    assert [e.rule for e in errs] == ["parsable value"] * 51
    assert errs[-1].row is None and errs[-1].message == "10 more unparsable values in this column"
    v.loc[:59, "weight"] = ""
    _, errs = _errors(make_wave(v, name="blank"))
    assert [e.rule for e in errs] == ["not missing"] * 51
    assert errs[-1].row is None and errs[-1].message == "10 more rows break this rule"


def test_a_refused_value_and_the_codes_a_message_lists_are_written_as_the_numbers_they_are(small_villagers,
                                                                                          make_wave):
    """Age 200 (read as the double 200.0) is named '200'; a Likert answer 6 is told the valid codes
    and the missing codes as whole numbers, [8, 9, -9, 99], not [8.0, 9.0, ...]; the text "NA"
    in a coded column is no blank but a value to refuse (it is no code the codebook declares)."""
    v = small_villagers.astype({"age": object, "edu_org": object, "hlt_org": object})
    v.loc[0, "age"], v.loc[1, "edu_org"], v.loc[2, "hlt_org"] = "200", "6", "NA"
    report, errs = _errors(make_wave(v))
    found = {e.column: (e.row, e.value, e.message) for e in errs}
    assert set(found) == {"age", "edu_org", "hlt_org"}, errs
    assert found["age"] == (2, "200", "'200' breaks the rule: allowed range is [16, 100]")
    assert found["edu_org"][:2] == (3, "6")
    assert found["edu_org"][2].endswith("valid codes are [1, 2, 3, 4, 5] (missing codes [8, 9, -9, 99])")
    assert found["hlt_org"] == (4, "NA", "'NA' is not a code or value label of item 'hlt_org'")
    assert report.missing["villagers"]["hlt_org"]["blank"] == (small_villagers["hlt_org"] == "").sum()


def test_the_clean_province_is_its_whole_gbt_code(small_villagers, make_wave):
    """The clean data hold the GB/T 2260 code of each province as an integer (310000), so files
    written from them (``ruralgov index --scores``) carry 310000, not 310000.0."""
    report, clean = validate_wave(make_wave(small_villagers))
    prov = clean["villagers"]["province"]
    assert report.ok and str(prov.dtype) == "Int64"
    assert set(prov.astype(str)) == {"310000", "540000", "410000"}


def test_a_blank_stratum_is_an_error(small_villagers, make_wave):
    """A stratum column that is not a province (here occupation) may not be blank: every
    respondent lies in a stratum (the design could not be built)."""
    v = small_villagers.copy()
    v.loc[3, "occupation"] = np.nan
    design = {"weight": "weight", "strata": "occupation", "psu": "village_id"}
    report, errs = _errors(make_wave(v, spec={"design": design}))
    [e] = [e for e in errs if e.rule == "not missing"]
    assert (e.column, e.row) == ("occupation", 5) and "stratum" in e.message


def test_exclusive_answer_with_a_problem(small_villagers, make_wave):
    v = small_villagers.copy()
    i = v.index[v["hp_dontknow"] == "1"][0]
    v.loc[i, "hp_far"] = "1"
    report, errs = _errors(make_wave(v))
    assert [(e.row, e.column, e.rule) for e in errs] == [(i + 2, "hp_dontknow", "exclusive answer")]
    assert "hp_far" in errs[0].message


def test_empty_file(make_wave):
    report, errs = _errors(make_wave(b""))
    assert [(e.file, e.rule) for e in errs] == [("villagers.csv", "file not empty")]


def test_header_only(small_villagers, make_wave):
    report, errs = _errors(make_wave(small_villagers.head(0)))
    assert [e.rule for e in errs] == ["has respondents"]


def test_wrong_delimiter(small_villagers, make_wave):
    data = small_villagers.to_csv(index=False, sep=";").encode()
    folder = make_wave(data)
    report, errs = _errors(folder)
    assert [(e.row, e.rule) for e in errs] == [(1, "delimiter")]
    assert "semicolon" in errs[0].message and "delimiter" in errs[0].message
    _assert_cli_rejects(folder, "semicolon")


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("quoted", [False, True])
def test_rows_ending_with_a_delimiter_are_read_under_their_own_headers(small_villagers, make_wave, encoding,
                                                                       quoted):
    """A spreadsheet export that ends every data row with a delimiter (one empty cell more than the
    header) is read as the same data: the ids stay ids, no value moves a column left (pandas would
    take the first column as the index). Plain or with quoted cells, on the fast and careful paths."""
    lines = _csv_lines(small_villagers, quoted)
    data = "\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n"
    report, clean = validate_wave(make_wave(data.encode(encoding), spec={"encoding": encoding}))
    assert report.ok, report.errors[:3]
    plain = validate_wave(make_wave(small_villagers, name="plain"))[1]
    pd.testing.assert_frame_equal(clean["villagers"], plain["villagers"])


@pytest.mark.parametrize("quoted", [False, True])
def test_a_value_beyond_the_last_header_is_refused_on_its_row(small_villagers, make_wave, quoted):
    """Numbered as the file shows its rows (the header is row 1), with quoted cells or without."""
    lines = _csv_lines(small_villagers, quoted)
    lines[4] += ",42"
    report, errs = _errors(make_wave(("\n".join(lines) + "\n").encode()))
    n = len(lines[0].split(","))
    assert [(e.file, e.row, e.column, e.rule) for e in errs] == \
        [("villagers.csv", 5, f"column {n + 1}", "cells under a header")]
    assert f"'42' is in column {n + 1}, which has no header" in errs[0].message


def test_a_value_under_no_header_in_a_file_whose_rows_end_with_a_delimiter_is_refused(small_villagers,
                                                                                       make_wave):
    """Every row ends with a delimiter (an empty column after the last header, as some spreadsheets
    export) and one row, not the first, holds a value there: that value would be lost, so it is
    refused on its row, as the same value in a file without the trailing delimiters is."""
    lines = small_villagers.to_csv(index=False).splitlines()
    rows = [lines[0]] + [line + "," for line in lines[1:]]
    rows[5] += "42"                                              # file row 6: a value under no header
    report, errs = _errors(make_wave(("\n".join(rows) + "\n").encode()))
    n = len(lines[0].split(","))
    assert [(e.row, e.column, e.rule) for e in errs] == [(6, f"column {n + 1}", "cells under a header")]


def test_every_broken_rule_of_wave_yml_is_in_the_report(small_villagers, make_wave):
    """A wave.yml with a disclosure threshold below the floor and an unknown key: both problems
    are reported, each naming wave.yml and its key (not only the first)."""
    report, errs = _errors(make_wave(small_villagers, spec={"min_cell": 2, "notes_by_teem": "x"}))
    assert {(e.file, e.rule) for e in errs} == {("wave.yml", "wave.yml schema")}
    assert sorted(e.column for e in errs) == ["min_cell", "notes_by_teem"]


@pytest.mark.parametrize("n_errors,shown_more", [(1, None), (5, None), (7, 2)])
def test_an_invalid_wave_s_message_counts_its_errors_only(n_errors, shown_more):
    """WaveInvalid names the number of errors (warnings are no errors and are not listed), the first
    five of them, and "... and k more" only when there are more than five."""
    from analysis.ingest.validate import Problem, ValidationReport
    from analysis.ingest.wave import WaveInvalid

    errors = [Problem("v.csv", 2 + i, "age", "150", "range", f"bad age {i}") for i in range(n_errors)]
    warnings = [Problem("v.csv", 40 + i, "weight", "9", "weights", f"odd weight {i}", "warning")
                for i in range(3)]
    message = str(WaveInvalid(ValidationReport("w", [warnings[0], *errors, *warnings[1:]])))
    assert message.startswith(f"wave 'w' is invalid: {n_errors} error(s)\n")
    assert [f"bad age {i}" in message for i in range(n_errors)] == [i < 5 for i in range(n_errors)]
    assert "odd weight" not in message
    assert ("more" in message) == (shown_more is not None)
    if shown_more:
        assert f"  ... and {shown_more} more\n" in message


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("row", [2, 6])
def test_a_short_row_is_refused_on_its_row_quoted_or_not(small_villagers, make_wave, quoted, row):
    """A data row with a cell too few (the first one, or another) is named by its row as the file
    shows it, whether the file quotes its cells or not (pandas would pad it silently)."""
    lines = _csv_lines(small_villagers, quoted)
    lines[row - 1] = lines[row - 1].rsplit(",", 1)[0]
    report, errs = _errors(make_wave(("\n".join(lines) + "\n").encode()))
    assert [(e.row, e.rule) for e in errs] == [(row, "complete rows")]


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("blank", ["", "   ", "\r"])
def test_rows_after_a_blank_line_are_named_as_the_file_shows_them(small_villagers, make_wave, quoted, blank):
    """A blank line between data rows (empty, spaces, or a lone carriage return) is no respondent
    and is skipped, but it is a row of the file: a problem after it is named by its own row (as a
    spreadsheet shows it), not one row too early; one before it keeps its row. The same file
    without blank lines names the same problems one row earlier after the blank."""
    lines = _csv_lines(small_villagers, quoted)
    for at in (3, 8):                                      # file rows 3 and 8 get a bad value
        lines[at - 1] = lines[at - 1].rsplit(",", 1)[0] + ",-1"     # the last column: weight
    plain = [(e.row, e.rule) for e in _errors(make_wave(("\n".join(lines) + "\n").encode()))[1]]
    assert [r for r, _ in plain] == [3, 8], plain
    inside = lines[:4] + [blank, blank] + lines[4:]          # file rows 5 and 6 are blank
    report, errs = _errors(make_wave(("\n".join(inside) + "\n\n").encode(), name="blank"))
    assert [(e.row, e.rule) for e in errs] == [(3, plain[0][1]), (10, plain[1][1])]
    assert report.rows["villagers"] == len(small_villagers)


def test_an_institution_where_no_villager_is_named_by_its_file_row_after_a_blank_line(
        small_villagers, make_wave, default_frames):
    """The warning for township institutions of a province without villagers names the row of the
    province's first institution as the file shows it, counted with a blank line above it."""
    folder = make_wave(small_villagers, institutions=default_frames["institutions"])
    f = folder / "institutions.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    f.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")   # file row 3 blank
    report, _ = validate_wave(folder)
    warned = [(w.row, w.value) for w in report.warnings if w.rule == "institutions where villagers are"]
    province = default_frames["institutions"]["province"]
    have = set(small_villagers["province"])
    first = {p: int(province.index[province == p][0]) for p in province if p not in have}
    assert warned and len(warned) == len(first)
    rows = sorted(r for r, _ in warned)
    # data row i is file row i + 2, one more past the blank row 3
    assert rows == sorted(i + 2 + (i >= 1) for i in first.values())


def test_an_institution_where_no_villager_is_named_by_the_province_header_its_file_uses(
        small_villagers, make_wave, default_frames):
    """The warning names the province column as the file heads it (here 所在省份), as every other
    problem names its column, not the codebook's id."""
    folder = make_wave(small_villagers, institutions=default_frames["institutions"])
    f = folder / "institutions.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    header[header.index("province")] = "所在省份"
    f.write_text("\n".join([",".join(header), *lines[1:]]) + "\n", encoding="utf-8")
    report, _ = validate_wave(folder)
    assert report.ok, report.errors
    warned = [w for w in report.warnings if w.rule == "institutions where villagers are"]
    assert warned and {w.column for w in warned} == {"所在省份"}


def test_a_repeated_id_after_a_blank_line_names_the_first_one_s_row(small_villagers, make_wave):
    """The message of a repeated respondent id points at the file row of its first occurrence,
    counted with the blank lines before it."""
    lines = small_villagers.to_csv(index=False).splitlines()
    lines[9] = lines[3].split(",", 1)[0] + "," + lines[9].split(",", 1)[1]   # row 10 repeats row 4's id
    inside = lines[:2] + [""] + lines[2:]                    # a blank row 3: rows 4 and 10 move down
    errs = [e for e in _errors(make_wave(("\n".join(inside) + "\n").encode()))[1] if e.rule == "unique id"]
    assert [e.row for e in errs] == [5, 11]
    assert errs[1].message.endswith("also on row 5")


def test_a_blank_line_inside_a_quoted_cell_is_part_of_the_cell_not_a_blank_row(small_villagers, make_wave):
    """A quoted cell may hold a blank line (a comment written in paragraphs): that is no blank row,
    and the rows after it keep their numbers."""
    from analysis.ingest.readers import _blank_rows, load_spec

    lines = small_villagers.to_csv(index=False).splitlines()
    cells = lines[3].split(",")
    cells[0] = '"' + cells[0] + '\n\n"'
    lines[3] = ",".join(cells)
    text = "\n".join(lines[:5] + [""] + lines[5:]) + "\n"
    spec = load_spec(make_wave(text.encode())).questionnaires["villagers"]
    assert _blank_rows(text, ",", spec) == [6]              # the blank row 6, not the quoted one


@pytest.mark.parametrize("quoted", [False, True])
def test_a_line_of_delimiters_only_is_a_row_of_empty_cells_not_a_blank_line(small_villagers, make_wave, quoted):
    """``,,,,`` is a row whose cells are all empty (pandas keeps it, and its empty id is refused
    there), not a blank line: the rows after it keep their numbers, whether or not the file
    quotes its cells."""
    lines = _csv_lines(small_villagers, quoted)
    lines[7] = lines[7].rsplit(",", 1)[0] + ",-1"                     # file row 8: a bad weight
    n = lines[0].count(",") + 1
    inside = lines[:3] + ["," * (n - 1), ""] + lines[3:]              # rows 4 (delimiters) and 5 (blank)
    _, errs = _errors(make_wave(("\n".join(inside) + "\n").encode()))
    assert sorted({e.row for e in errs}) == [4, 10], [(e.row, e.column, e.rule) for e in errs]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_two_headers_equal_but_for_a_trailing_space_are_refused_in_any_encoding(small_villagers, make_wave,
                                                                                encoding):
    """"remark" and "remark " head one column twice (a reader strips the space): refused, whether
    the file is read by the fast UTF-8 reader or the careful one."""
    v = small_villagers.assign(**{"remark": "a", "remark ": "b"})
    report, errs = _errors(make_wave(v.to_csv(index=False).encode(encoding), spec={"encoding": encoding}))
    assert [(e.row, e.rule) for e in errs] == [(1, "unique headers")]


def test_header_repeated_inside_the_data(small_villagers, make_wave):
    text = small_villagers.to_csv(index=False).splitlines()
    text.insert(6, text[0])
    report, errs = _errors(make_wave(("\n".join(text) + "\n").encode()))
    assert any(e.rule == "no repeated header" and e.row == 7 for e in errs), errs


def test_a_header_pasted_with_a_few_cells_blank_or_changed_is_still_a_repeated_header(small_villagers,
                                                                                      make_wave):
    """A header row copied in with three of its cells emptied or edited is still the header, not
    a respondent: at least half its cells repeat their column's header."""
    text = small_villagers.to_csv(index=False).splitlines()
    cells = text[0].split(",")
    assert len(cells) > 12                                            # the premise: three is few
    cells[1], cells[4], cells[7] = "", "x", ""
    text.insert(6, ",".join(cells))
    report, errs = _errors(make_wave(("\n".join(text) + "\n").encode()))
    assert any(e.rule == "no repeated header" and e.row == 7 for e in errs), errs


def test_weights_that_vary_too_much_are_warned_of_with_kish_s_design_effect(small_villagers, make_wave):
    """Three weights far above the others (none carrying half the total): Kish's effective sample
    size (Σw)²/Σw² is below a tenth of the respondents, and the warning gives it with the design
    effect of weighting n/n_eff, computed here by hand (above 1: weighting inflates variances)."""
    v = small_villagers.copy()
    w = np.ones(len(v))
    w[[3, len(v) // 2, len(v) - 2]] = 1000.0
    v["weight"] = w
    n_eff = w.sum() ** 2 / np.sum(w ** 2)
    assert n_eff < 0.1 * len(v)                                      # the premise
    report, errs = _errors(make_wave(v))
    assert not errs
    [kish] = [p for p in report.warnings if p.rule == "weights vary plausibly"]
    assert kish.column == "weight"
    assert kish.message == (f"Kish's effective sample size of the weights is {n_eff:,.0f} for {len(v):,} "
                            f"respondents (weighting alone multiplies variances by {len(v) / n_eff:.1f}); "
                            "check the weights")
    even = small_villagers.assign(weight=1.0)
    warned = _errors(make_wave(even, name="even"))[0].warnings
    assert not [p for p in warned if p.rule == "weights vary plausibly"]


def test_gbk_file_declared_utf8(small_villagers, make_wave):
    data = small_villagers.to_csv(index=False).encode("gbk")
    report, errs = _errors(make_wave(data, spec={"encoding": "utf-8"}))
    assert [e.rule for e in errs] == ["encoding"]
    assert "utf-8" in errs[0].message


def test_wave_yml_not_yaml(make_wave, small_villagers):
    folder = make_wave(small_villagers, raw_yml="id: [unclosed\nquestionnaires: {")
    report, errs = _errors(folder)
    assert errs[0].rule == "wave.yml is YAML" and errs[0].file == "wave.yml"
    _assert_cli_rejects(folder, "not valid YAML")


def test_wave_yml_names_a_missing_file(make_wave, small_villagers):
    folder = make_wave(small_villagers, spec={"questionnaires": {"villagers": {"file": "nope.csv"}}})
    report, errs = _errors(folder)
    assert errs[0].rule == "file exists" and "nope.csv" in errs[0].message


def test_wave_yml_names_a_folder_of_parquet_parts(make_wave, small_villagers):
    """pandas reads a folder of Parquet parts, but a questionnaire is one file (its hash, its
    rows): a folder is refused as wave.yml's error, not a traceback of the hash."""
    folder = make_wave(small_villagers, file="unused.csv",
                       spec={"questionnaires": {"villagers": {"file": "villagers.parquet"}}})
    (folder / "villagers.parquet").mkdir()
    small_villagers.iloc[:20].to_parquet(folder / "villagers.parquet" / "part-0.parquet")
    small_villagers.iloc[20:].to_parquet(folder / "villagers.parquet" / "part-1.parquet")
    report, errs = _errors(folder)
    assert [e.rule for e in errs] == ["file exists"] and errs[0].file.endswith("wave.yml")
    assert "'villagers.parquet', a folder" in errs[0].message and "ruralgov stream" in errs[0].message
    _assert_cli_rejects(folder, "a folder")


@pytest.mark.parametrize("where", ["wave", "questionnaire"])
def test_a_delimiter_of_two_characters_is_refused_wherever_wave_yml_gives_it(make_wave, small_villagers,
                                                                             where):
    """At the top of wave.yml as under a questionnaire: not a misleading 'seems comma-delimited'."""
    spec = ({"delimiter": ";;"} if where == "wave" else
            {"questionnaires": {"villagers": {"file": "villagers.csv", "delimiter": ";;"}}})
    report, errs = _errors(make_wave(small_villagers, spec=spec))
    assert len(errs) == 1 and "a delimiter is one character" in errs[0].message
    assert "delimiter" in errs[0].message and "comma" not in errs[0].message


@pytest.mark.parametrize("file", ["../../etc/passwd", "../w-old/villagers.csv"], ids=["above", "sibling"])
def test_wave_yml_path_outside_the_wave(make_wave, small_villagers, file):
    """A file of a sibling folder whose name begins with the wave's (``w-old`` beside ``w``) lies
    outside the wave as much as one above it."""
    old = make_wave(small_villagers, name="w-old")
    folder = make_wave(small_villagers, spec={"questionnaires": {"villagers": {"file": file}}})
    assert (folder.parent / "w-old" / "villagers.csv").is_file() and old.name.startswith(folder.name)
    report, errs = _errors(folder)
    assert errs[0].rule == "path inside wave" and "lies outside the wave folder" in errs[0].message


def test_unknown_wave_id_lists_known_waves():
    res = runner.invoke(app, ["validate", "no-such-wave"])
    assert res.exit_code == 1
    assert "2020-replica" in res.output


def test_validate_lists_the_warnings_of_a_valid_wave_its_title_counts(small_villagers, make_wave):
    """A valid wave with a warning (a column the codebook does not know) exits 0 and its table
    shows the warning it announces."""
    v = small_villagers.assign(notes_by_the_team="x")
    res = runner.invoke(app, ["validate", str(make_wave(v))])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "0 error(s), 1 warning(s)" in out and "warning" in out.split("warning(s)", 1)[1]
    assert "notes_by_the_team" in out
    assert re.search(r"is valid \(villagers: \d+ rows; 1 warning\(s\)\)$", out.strip()), out   # the summary too


def test_report_files_are_written_on_request_but_never_under_waves(tmp_path, small_villagers, make_wave):
    v = small_villagers.copy()
    v.loc[0, "edu_org"] = "=HYPERLINK(\"http://x\")"
    folder = make_wave(v)
    out_csv, out_json = tmp_path / "rep.csv", tmp_path / "rep.json"
    res = runner.invoke(app, ["validate", str(folder), "--csv", str(out_csv), "--json", str(out_json)])
    assert res.exit_code == 1
    text = out_csv.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text   # formula cells escaped
    rows = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert list(rows.columns) == ["severity", "file", "row", "column", "value", "rule", "message"]
    assert rows.loc[rows["column"] == "edu_org", "value"].tolist() == ["'=HYPERLINK(\"http://x\")"]
    assert '"ok": false' in out_json.read_text(encoding="utf-8")


@pytest.mark.parametrize("file, cell", [("villagers.csv", ""), ("villagers.csv", "  "),
                                        ("villagers.xlsx", None)])
def test_a_blank_province_is_refused_as_blank_not_as_an_unknown_province_nan(small_villagers, make_wave,
                                                                           file, cell):
    """An empty province cell (a CSV's "", spaces, or a spreadsheet's empty cell read as NaN) is a
    missing value: the message says so, not "unknown province nan" with closest names."""
    import io

    v = small_villagers.assign(province=small_villagers["province"].astype(object))
    v.loc[3, "province"] = cell
    if file.endswith(".xlsx"):
        buf = io.BytesIO()
        v.to_excel(buf, index=False)
        folder = make_wave(buf.getvalue(), file=file)
    else:
        folder = make_wave(v, file=file)
    report, _ = validate_wave(folder)
    assert [(p.file, p.row, p.column, p.value, p.rule, p.message) for p in report.errors] == [
        (file, 5, "province", "", "not missing", "a value is required here: the province is blank")]


def test_report_rows_are_whole_numbers_beside_problems_of_no_row(tmp_path, small_villagers, make_wave):
    """A problem of a column (no row) beside one of a row: the CSV report's row is "2", not "2.0"."""
    v = small_villagers.assign(notes_by_the_team="x", age=small_villagers["age"].astype(object))
    v.loc[0, "age"] = 200
    out_csv = tmp_path / "rep.csv"
    res = runner.invoke(app, ["validate", str(make_wave(v)), "--csv", str(out_csv)])
    assert res.exit_code == 1, res.output
    rows = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert rows.loc[rows["column"] == "age", "row"].tolist() == ["2"]
    assert rows.loc[rows["column"] == "notes_by_the_team", "row"].tolist() == [""]


@pytest.mark.parametrize("missing_from", ["villagers", "institutions"])
def test_a_questionnaire_without_its_province_column_beside_the_other_is_reported_not_a_crash(
        default_frames, small_villagers, make_wave, missing_from):
    """The check that township institutions lie where villagers were asked needs both files'
    province column: a file without it is refused for that column, with no traceback."""
    inst = default_frames["institutions"]
    inst = inst[inst["province"].isin(small_villagers["province"])].reset_index(drop=True)
    frames = {"villagers": small_villagers, "institutions": inst}
    frames[missing_from] = frames[missing_from].rename(columns={"province": "prov"})
    folder = make_wave(frames["villagers"], institutions=frames["institutions"])
    res = runner.invoke(app, ["validate", str(folder)], terminal_width=400)
    assert res.exit_code == 1 and (res.exception is None or isinstance(res.exception, SystemExit)), res.output
    assert "required column 'province' is missing" in " ".join(res.output.split())


def test_report_files_go_to_a_new_folder_whole_or_not_at_all(tmp_path, small_villagers, make_wave,
                                                              monkeypatch):
    """--json, as --csv, into a folder that does not exist yet: the folder is made and both files
    written (no traceback); a JSON report whose writing fails leaves no file, half or whole."""
    import json

    folder = make_wave(small_villagers)
    out_csv, out_json = tmp_path / "new" / "rep.csv", tmp_path / "other" / "deeper" / "rep.json"
    res = runner.invoke(app, ["validate", str(folder), "--csv", str(out_csv), "--json", str(out_json)])
    assert res.exit_code == 0 and res.exception is None, res.output
    assert json.loads(out_json.read_text(encoding="utf-8"))["ok"] is True and out_csv.exists()
    import analysis.publishing.tables as tables

    def full(src, dst):  # type: ignore[no-untyped-def]
        raise OSError("disk full")
    monkeypatch.setattr(tables.os, "replace", full)          # the file written, then the rename fails
    target = tmp_path / "third" / "rep.json"
    res = runner.invoke(app, ["validate", str(folder), "--json", str(target)])
    assert isinstance(res.exception, OSError)
    assert list(target.parent.iterdir()) == []               # no report, no temporary file left


def test_text_of_the_data_is_printed_as_written_not_read_as_terminal_markup(tmp_path, small_villagers,
                                                                            make_wave):
    """A cell "[/b]" and a header "income [yuan]" are the data's own text: the problems table prints
    them as written (the terminal's markup would crash on the first and swallow the second), the
    command exits as for any invalid wave and the report file is written."""
    v = small_villagers.copy()
    v["province"] = v["province"].astype(object)
    v.loc[0, "province"] = "[/b]"
    v["income [yuan]"] = 1
    out_csv = tmp_path / "rep.csv"
    res = runner.invoke(app, ["validate", str(make_wave(v)), "--csv", str(out_csv)], terminal_width=400)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception   # no traceback
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert "'[/b]'" in said and "income [yuan]" in said
    assert "[/b]" in out_csv.read_text(encoding="utf-8")


def test_report_files_hold_every_problem_not_the_two_hundred_the_terminal_shows(tmp_path, small_villagers,
                                                                                make_wave):
    """More than 200 problems: the terminal shows 200 and says how many more; --csv and --json hold
    them all."""
    import json

    v = small_villagers.copy()
    for c in ("age", "education", "edu_org", "hlt_org", "ss_org", "et_org", "cs_org"):
        v[c] = "abc"
    out_csv, out_json = tmp_path / "r.csv", tmp_path / "r.json"
    res = runner.invoke(app, ["validate", str(make_wave(v)), "--csv", str(out_csv), "--json", str(out_json)])
    n = len(json.loads(out_json.read_text(encoding="utf-8"))["problems"])
    assert n > 200 and f"... {n - 200} more" in " ".join(res.output.split())      # the premise
    assert len(pd.read_csv(out_csv, dtype=str, keep_default_na=False)) == n


@pytest.mark.parametrize("n,more", [(200, None), (201, 1)])
def test_the_terminal_says_how_many_more_problems_only_past_two_hundred(monkeypatch, n, more):
    """Exactly 200 problems are all printed, with no "... 0 more"; 201 print 200 and "... 1 more"."""
    import analysis.ingest.validate as validate
    from analysis.ingest.validate import Problem, ValidationReport

    problems = [Problem("v.csv", 2 + i, "age", "x", "range", f"bad {i}") for i in range(n)]
    report = ValidationReport("w", problems)
    monkeypatch.setattr(validate, "validate_wave", lambda wave: (report, {}))
    res = runner.invoke(app, ["validate", "w"], terminal_width=200)
    assert res.exit_code == 1
    said = " ".join(res.output.split())
    assert ("more (use --csv/--json for all)" in said) == (more is not None)
    if more:
        assert f"... {more} more" in said


def test_an_invalid_wave_builds_nothing(tmp_path, small_villagers, make_wave):
    from analysis.report.build import build_book

    v = small_villagers.copy()
    v.loc[0, "weight"] = "-1"
    out = tmp_path / "out"
    assert build_book(str(make_wave(v)), out) == 1
    assert not out.exists()


def test_a_full_width_zero_is_a_full_width_digit(small_villagers, make_wave):
    """"０" (a "no" typed with a Chinese input method) is read as 0 with the warning, counted with
    the other full-width digits of its column."""
    v = small_villagers.copy()
    v["internet_use"] = v["internet_use"].astype(object)
    v.loc[[3, 5], "internet_use"] = ["０", "１"]
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors
    (w,) = [w for w in report.warnings if w.rule == "half-width digits"]
    assert (w.column, w.row) == ("internet_use", 5)
    assert w.message.startswith("2 value(s) written with full-width")
    assert clean["villagers"]["internet_use"].iloc[[3, 5]].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("weight, hint", [("0", False), ("-1", True)])
def test_a_weight_out_of_range_is_told_of_missing_codes_only_if_it_could_be_one(small_villagers, make_wave,
                                                                                 weight, hint):
    """A negative weight may be a missing-value code (-1): the message says how to declare one. A
    weight of 0 is a respondent given no weight, not a code: it is not told to declare 0 missing."""
    v = small_villagers.copy()
    v["weight"] = v["weight"].astype(object)
    v.loc[4, "weight"] = weight
    report, errs = _errors(make_wave(v))
    (e,) = [e for e in errs if e.column == "weight"]
    assert (e.row, e.rule) == (6, "schema") and ("missing_codes" in e.message) is hint, e.message


def test_validation_warnings_are_shown_in_the_editions_language(small_villagers, make_wave, monkeypatch):
    """The survey page's table of warnings gives each rule and message in the edition's language;
    the report itself (and the command line) keeps them in English."""
    from types import SimpleNamespace

    from analysis import i18n
    from analysis.report.pages.survey import warnings_table

    v = small_villagers.assign(interviewer_note="x")                  # a column no codebook item has
    sh = v["province"] == "上海"
    v.loc[sh, "village_id"] = v.loc[sh, "village_id"].iloc[0]          # a stratum of one PSU
    v["age"] = v["age"].astype(object)
    v.loc[5, "age"] = "４５"                                            # full-width digits
    v.loc[7, "weight"] = str(float(v["weight"].astype(float).median()) * 200)  # a dominant weight
    report, errs = _errors(make_wave(v))
    assert report.ok, errs
    rules = {w.rule for w in report.warnings}
    assert {"known column", "two or more PSUs per stratum", "half-width digits",
            "no dominant weight"} <= rules
    study = SimpleNamespace(wave=SimpleNamespace(report=report))
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = warnings_table(study)
    assert en["message"].tolist() == [w.message for w in report.warnings]
    assert en["rule"].tolist() == [w.rule for w in report.warnings]
    rows = ["" if w.row is None else str(w.row) for w in report.warnings]      # as the file numbers them
    assert en["row"].tolist() == rows and "" in rows and any(rows)
    from analysis.publishing.formats import format_frame
    assert format_frame(en.assign(row=[r and str(int(r) + 2000) for r in rows]))[0]["row"].tolist() == [
        r and str(int(r) + 2000) for r in rows]                                # no thousands separator
    assert any("times the median weight of its stratum" in m for m in en["message"])
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = warnings_table(study)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for rule, msg, english in zip(zh["rule"], zh["message"], en["message"]):
        assert cjk.search(rule) and cjk.search(msg) and msg != english, (rule, msg)
    assert any(re.search(r"权重中位数的 \d+ 倍", m) for m in zh["message"]), zh["message"].tolist()
    assert any("层 '上海' 只有一个初级抽样单元" in m for m in zh["message"])          # the province in Chinese
    assert any("stratum 'Shanghai' has a single PSU" in w.message for w in report.warnings)


def test_a_weight_column_the_codebook_does_not_call_a_weight_is_refused_unless_the_wave_says_it_is_one(
        make_wave, small_villagers):
    """design.weight naming age is an error of the design columns; with weight_column_override the
    wave vouches for the column and that error goes (age is positive: a valid weight)."""
    design = {"weight": "age", "strata": "province", "psu": "village_id"}
    said = {}
    for override in (False, True):
        folder = make_wave(small_villagers, name=f"o{int(override)}",
                           spec={"design": {**design, "weight_column_override": override}})
        report, _ = validate_wave(folder)
        said[override] = [(p.rule, p.column, p.severity) for p in report.problems if p.rule == "design columns"]
    assert said == {False: [("design columns", "age", "error")], True: []}


def test_full_width_digits_points_and_minus_signs_are_read_as_their_half_width_forms(small_villagers,
                                                                                      make_wave):
    v = small_villagers.copy()
    v["distance_km"] = v["distance_km"].astype(object)
    v.loc[5, "distance_km"] = "２．５"
    v.loc[6, "age"] = "－９"                                        # a missing code typed in full width
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors[:3]
    got = clean["villagers"]
    assert got.loc[5, "distance_km"] == 2.5 and np.isnan(got.loc[6, "age"])


def test_a_header_of_chinese_names_repeated_inside_the_data_is_recognised(small_villagers, make_wave):
    """The repeated row is compared with the file's own headers (here Chinese names), not with the
    item ids they map to."""
    text = chinese_headers(small_villagers, "villagers").to_csv(index=False).splitlines()
    text.insert(6, text[0])
    report, errs = _errors(make_wave(("\n".join(text) + "\n").encode()))
    assert ("no repeated header", 7) in [(e.rule, e.row) for e in errs]


@pytest.mark.parametrize("extra, more", [(0, None), (3, 3)])
def test_the_command_shows_the_first_200_problems_and_counts_every_other(default_frames, make_wave, extra,
                                                                         more):
    """300 written in four columns of the first 50 respondents (50 problems a column, the most a
    column lists), and in a fifth column of ``extra`` more: the table lists the first 200
    problems, and a line counts the rest; no problem is neither shown nor counted."""
    v = default_frames["villagers"].copy()
    cols = ["age", "participation", "education", "occupation"]
    v.loc[:49, cols] = "300"
    v.loc[v.index[:extra], "sex"] = "300"
    folder = make_wave(v)
    report, errs = _errors(folder)
    assert len(report.problems) == 200 + extra and len(errs) == 200 + extra        # the premise
    res = runner.invoke(app, ["validate", str(folder)], terminal_width=250)
    assert res.exit_code == 1
    out = res.output                    # the table and the count go to stderr, mixed in here
    listed = set(re.findall(r"│ villagers\.csv\s*│\s*(\d+)\s*│ (\w+)", out))
    assert listed == {(str(p.row), p.column) for p in report.problems[:200]}
    assert re.findall(r"\.\.\. (\d+) more", out) == ([] if more is None else [str(more)])
