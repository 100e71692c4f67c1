"""What a message or a page names must be what the data hold: the file row of a cell below a
title row, the strata a PSU is found in, and in the Chinese edition the fixed effects of a
regression table, the provinces of the landing page's sentence and the NBS region of a profile."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from analysis import i18n
from analysis.ingest.validate import validate_wave


def test_an_xlsx_cell_below_a_title_row_is_named_by_its_file_row(small_villagers, make_wave):
    """header_row: 2 in a spreadsheet: the first respondent is file row 3, the fifth row 7."""
    v = small_villagers.copy()
    v.loc[[0, 4], "sex"] = "7"                              # not a code of sex
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        v.to_excel(xl, index=False, startrow=1)
        xl.sheets["Sheet1"]["A1"] = "村民问卷 2020"
    folder = make_wave(buf.getvalue(), file="villagers.xlsx",
                       spec={"questionnaires": {"villagers": {"file": "villagers.xlsx", "header_row": 2}}})
    report, _ = validate_wave(folder)
    assert [(e.file, e.row) for e in report.errors if e.column == "sex"] == \
        [("villagers.xlsx", 3), ("villagers.xlsx", 7)]


def test_a_psu_found_in_two_strata_is_said_to_be_in_both(small_villagers, make_wave):
    v = small_villagers.copy()
    first = v.loc[0, "province"]
    other = v.loc[v["province"] != first].iloc[0]
    v.loc[0, "village_id"] = other["village_id"]
    report, _ = validate_wave(make_wave(v))
    [e] = [e for e in report.errors if e.rule == "PSU nested in one stratum"]
    said = re.search(r"appears in (\d+) strata \((.*)\);", e.message)
    assert said and said.group(1) == "2", e.message
    both = sorted(i18n.province(p, "en") for p in (first, other["province"]))
    assert sorted(said.group(2).split(", ")) == both


@pytest.fixture
def zh(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")


def test_a_regression_table_s_fixed_effects_row_is_chinese(zh):
    from analysis.estimation.results import _fe_row

    assert [_fe_row(fe) for fe in ("region3", "province_en")] == ["区域效应", "省份效应"]


def test_the_landing_page_names_the_highest_and_lowest_provinces_in_chinese(zh):
    from analysis.estimation.study import build_study
    from analysis.report.pages import intro

    h = intro.numbers(build_study("2020-replica"))
    said = h["provinces_sentence"]
    for p in (h["top_province"], h["bottom_province"]):
        assert i18n.province(p, "zh") in said and p not in said, said


def test_each_chinese_profile_names_the_province_s_nbs_region(tmp_path):
    from analysis.ingest.provinces import all_provinces
    from analysis.report.profiles import slug, write_profiles

    write_profiles(tmp_path, "zh")
    for p in all_provinces():
        text = (tmp_path / f"{slug(p.name_en)}.md").read_text(encoding="utf-8")
        own = i18n.REGIONS_ZH[p.region4]
        others = {r for k, r in i18n.REGIONS_ZH.items() if r != own}
        said = [r for r in (own, *others) if f"{r}地区" in text]
        assert said == [own], (p.name_en, said)
