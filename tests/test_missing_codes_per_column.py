"""wave.yml's ``missing_codes``: a list holds for every column, a mapping column → codes for those
columns only, so that a code meaning "missing" in one item (997 in a Likert item, 9999999 in an
income) can be declared although it is a valid answer of another (an income of 997 yuan). Every
message that tells a user to declare a code gives a declaration the wave then passes."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from analysis.ingest.validate import validate_wave
from analysis.report.pages.rerun import example_yaml


def _as_text(v: pd.DataFrame, column: str) -> pd.DataFrame:
    v = v.copy()
    v[column] = ["" if pd.isna(x) else f"{float(x):g}" for x in v[column]]
    return v


def test_a_code_declared_for_a_column_is_missing_there_and_an_answer_elsewhere(small_villagers, make_wave):
    """9999999 is missing in the income, 97 in a Likert item; an income of 97 yuan stays an answer."""
    v = _as_text(_as_text(small_villagers, "hh_income"), "edu_org")
    v.loc[:2, "hh_income"] = "9999999"
    v.loc[3:4, "edu_org"] = "97"
    v.loc[5, "hh_income"] = "97"
    declared = {"missing_codes": {"hh_income": [9999999], "edu_org": [97]}}
    report, clean = validate_wave(make_wave(v, spec=declared))
    assert report.ok, report.errors[:3]
    c = clean["villagers"]
    assert c.loc[:2, "hh_income"].isna().all() and c.loc[3:4, "edu_org"].isna().all()
    assert c.loc[5, "hh_income"] == 97
    assert report.missing["villagers"]["hh_income"]["declared"] == 3
    undeclared, _ = validate_wave(make_wave(v, name="undeclared"))
    assert {e.column for e in undeclared.errors} == {"hh_income", "edu_org"}


def test_a_code_of_every_column_that_answers_one_item_is_refused_with_declarations_that_pass(
        small_villagers, make_wave):
    """missing_codes: [997] would drop incomes of 997 yuan: refused, naming the item, with two ways
    out, each of which then validates."""
    v = _as_text(small_villagers, "edu_org")
    v.loc[:1, "edu_org"] = "997"
    report, _ = validate_wave(make_wave(v, spec={"missing_codes": [997]}))
    [e] = [e for e in report.errors if e.rule == "missing codes are not answers"]
    assert (e.file, e.column) == ("wave.yml", "missing_codes") and "'hh_income'" in e.message
    assert "missing_codes: {column: [997]}" in e.message
    suggested = re.search(r"\(e\.g\. ([-\d., ]+)\)", e.message).group(1)
    codes = [float(c) for c in suggested.split(", ")]
    assert codes and all(c < 0 for c in codes) and 997 not in codes
    v2 = v.copy()
    v2.loc[:1, "edu_org"] = f"{codes[0]:g}"
    for name, spec, data in (("per-column", {"missing_codes": {"edu_org": [997]}}, v),
                             ("suggested", {"missing_codes": codes}, v2)):
        ok, clean = validate_wave(make_wave(data, name=name, spec=spec))
        assert ok.ok, (name, ok.errors[:3])
        assert clean["villagers"].loc[:1, "edu_org"].isna().all()


def test_the_hint_of_an_out_of_range_code_is_a_declaration_the_wave_passes(small_villagers, make_wave):
    """997 in a Likert item breaks its range; the message's own declaration, put in wave.yml, lets
    the wave pass with those answers missing."""
    v = _as_text(small_villagers, "edu_org")
    v.loc[:2, "edu_org"] = "997"
    report, _ = validate_wave(make_wave(v))
    hints = {re.search(r"\(missing_codes: (\{.*\})\)", e.message).group(1)
             for e in report.errors if e.column == "edu_org" and "missing_codes" in e.message}
    assert hints == {"{edu_org: [997]}"}
    hinted = {"missing_codes": yaml.safe_load(hints.pop())}
    ok, clean = validate_wave(make_wave(v, name="hinted", spec=hinted))
    assert ok.ok, ok.errors[:3]
    assert clean["villagers"].loc[:2, "edu_org"].isna().all()


@pytest.mark.parametrize("codes, column, rule", [
    ({"no_such_item": [97]}, "missing_codes.no_such_item", "missing codes name a column"),
    # items of the codebook this wave does not hold: its design has no fpc, it has no institutions
    ({"fpc": [-8]}, "missing_codes.fpc", "missing codes name a column"),
    ({"hosp_doctors": [-8]}, "missing_codes.hosp_doctors", "missing codes name a column"),
    ({"edu_org": [3]}, "missing_codes.edu_org", "missing codes are not answers"),
    ({"hh_income": [-8, 997]}, "missing_codes.hh_income", "missing codes are not answers"),
    ({"village_id": [-8]}, "missing_codes.village_id", "missing codes name a column"),
    ({"resp_id": [-8]}, "missing_codes.resp_id", "missing codes name a column"),
    ({"province": [99]}, "missing_codes.province", "missing codes name a column"),
    ({"edu_org": 97}, "missing_codes", "wave.yml schema"),
    (-8, "missing_codes", "wave.yml schema"),
], ids=["unknown-column", "codebook-item-absent", "institution-item-absent", "likert-answer", "income-answer",
        "psu-column", "id-column", "province-column", "scalar-in-mapping", "scalar"])
def test_a_declaration_that_would_drop_answers_or_names_no_column_is_refused(small_villagers, make_wave,
                                                                             codes, column, rule):
    report, clean = validate_wave(make_wave(small_villagers, spec={"missing_codes": codes}))
    assert not report.ok
    assert [(e.file, e.column, e.rule) for e in report.errors] == [("wave.yml", column, rule)]


def test_the_rerun_page_s_example_missing_codes_pass_on_a_wave(small_villagers, make_wave):
    """The example wave.yml the rerun page and the README show declares codes a wave can declare."""
    example = yaml.safe_load(example_yaml("en"))
    report, _ = validate_wave(make_wave(small_villagers, spec={"missing_codes": example["missing_codes"]}))
    assert report.ok, report.errors[:3]
