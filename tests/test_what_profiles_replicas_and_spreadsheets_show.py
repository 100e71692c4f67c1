"""A province profile's rank interval, national cells and official figure; the replica's claim to
reproduce the seed survey when uncalibrated; spreadsheets' title rows and sheets, and a ``.TSV``."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from analysis.estimation.study import build_study
from analysis.ingest.validate import validate_wave
from analysis.publishing.reliability import CELL_FLAGS
from analysis.report.pages import profile
from tests import wavegen

TIBET = 540000


@pytest.fixture(scope="module")
def study():  # type: ignore[no-untyped-def]
    return build_study()


def test_a_profile_s_rank_interval_is_the_95_percent_one(monkeypatch):
    """Tibet ranks 1st in 8 of 200 replicates (4 %), 2nd in 100, 3rd in 92: its 95 % interval
    (2.5th to 97.5th percentile of its ranks) starts at 1; a 90 % one would start at 2."""
    names = ["Shanghai", "Tibet", "Henan"]
    rows = [[50, 100, 40]] * 8 + [[100, 60, 40]] * 100 + [[100, 20, 70]] * 92
    replicates = pd.DataFrame(rows, columns=names, dtype=float)
    monkeypatch.setattr(profile, "published_province_names", lambda st: names)
    r = profile.rank(None, TIBET, replicates)
    assert (r["rank_low"], r["median_rank"], r["rank_high"], r["n_ranked"]) == (1.0, 2.0, 3.0, 3)


def test_tibet_s_profile_keeps_its_own_flags_off_the_national_cells(study):
    """Tibet's own degrees and shares rest on few design df (†); the nation's, beside them, do not:
    no national cell takes the province's flag."""
    for table in (profile.levels_table(study, TIBET), profile.problems_table(study, TIBET)):
        assert any(bool(f) for f in table["flag"])                                      # the premise
        assert not any(table.attrs[CELL_FLAGS]["national"]), table.attrs[CELL_FLAGS]["national"]


def test_a_profile_s_official_figure_has_its_legend_and_unbroken_urbanization(study):
    """The legend (province, region, nation) comes from the first panel, urbanization: its lines are
    labelled and unbroken; only unemployment breaks at its series' break year."""
    fig = profile.official_figure(study, TIBET)
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) == 3 and labels[0] == "Tibet" and labels[2] == "nation"
    drawn = {a.get_title("left"): len(a.get_lines()) for a in fig.axes}
    assert drawn["urbanization (%)"] == 3 and drawn["urban registered unemployment (%)"] == 6   # 3 lines, 3 cut


def test_an_uncalibrated_replica_still_reproduces_the_seed_survey_s_design(tmp_path):
    """It is a replica of the seed study's survey (its figures may differ): `ruralgov reproduce`
    compares it with the paper, as the calibrated one."""
    from analysis.replica import write_wave

    write_wave(tmp_path / "u", seed=5, wave_id="u", n=600, calibrate=False)
    spec = yaml.safe_load((tmp_path / "u" / "wave.yml").read_text(encoding="utf-8"))
    assert spec["reproduces_seed"] is True and spec["generator"]["calibrated"] is False


@pytest.fixture
def sav_wave(tmp_path):  # type: ignore[no-untyped-def]
    return wavegen.write(tmp_path / "field", "sav")


def _wave_yml(folder, edit):  # type: ignore[no-untyped-def]
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    edit(spec)
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_two_columns_headed_alike_under_a_title_row_are_refused(sav_wave):
    """institutions.xlsx has a title row above its header (header_row: 2): a header repeated in that
    row is refused as in any file (its second column's answers were dropped as an unknown column)."""
    book = load_workbook(sav_wave / "institutions.xlsx")
    sheet = book.worksheets[0]
    sheet.cell(row=2, column=5).value = sheet.cell(row=2, column=3).value
    book.save(sav_wave / "institutions.xlsx")
    rep, _ = validate_wave(sav_wave)
    assert any(p.file == "institutions.xlsx" and "columns 3 and 5 are both headed" in p.message for p in rep.errors), \
        [str(p) for p in rep.errors]


def test_a_sheet_the_workbook_lacks_is_named_with_the_sheets_it_has(sav_wave):
    _wave_yml(sav_wave, lambda s: s["questionnaires"]["institutions"].update(sheet="Data"))
    rep, _ = validate_wave(sav_wave)
    [err] = [p for p in rep.errors if p.file == "institutions.xlsx"]
    assert err.rule == "sheet exists" and "no sheet 'Data'; sheets: " in err.message


def test_a_tab_delimited_file_named_in_capitals_is_read_as_tab_delimited(tmp_path, default_frames, make_wave):
    v = default_frames["villagers"].head(300)
    folder = make_wave(None, name="t", file="villagers.TSV")
    v.to_csv(folder / "villagers.TSV", sep="\t", index=False)
    rep, clean = validate_wave(folder)
    assert not [p for p in rep.errors if "tab" in p.message or "delimit" in p.message], [str(p) for p in rep.errors]
    assert clean is not None and len(clean["villagers"]) == 300


def test_a_wave_of_two_provinces_of_one_region_is_not_a_one_province_wave(tmp_path):
    """Shanghai and Jiangsu, both eastern: the profiles still set each beside the nation."""
    two = build_study(wavegen.provinces(tmp_path / "two", ["上海", "江苏"]))
    one = build_study(wavegen.provinces(tmp_path / "one", ["上海"]))
    assert not profile.only_province(two) and profile.only_province(one)
