"""The township institutions' questionnaire is validated by its own codebook items: its exclusive
answers, its "of whom" counts, its column_map and its field indicators; and the loaded wave hands
out a frame of institutions whose changes never reach the wave."""

from __future__ import annotations

import pandas as pd

from analysis.ingest.codebook import load_codebook
from analysis.ingest.validate import validate_wave
from analysis.ingest.wave import load_wave
from tests.conftest import DEFAULT


def _both(institutions_spec: dict) -> dict:
    """A wave.yml's questionnaires with the institutions' entry as given."""
    return {"questionnaires": {"villagers": {"file": "villagers.csv"}, "institutions": institutions_spec}}


def test_no_problem_ticked_with_a_problem_in_institutions_is_an_exclusive_answer_error(small_villagers,
                                                                                      default_frames,
                                                                                      make_wave):
    """ep_none ("No problem") ticked beside ep_teachers in institutions.csv is refused on its row."""
    inst = default_frames["institutions"].copy()
    assert inst.loc[1, "ep_teachers"] == "1"              # T02, file row 3, lacks teachers
    inst.loc[1, "ep_none"] = "1"
    report, _ = validate_wave(make_wave(small_villagers, institutions=inst))
    got = [(e.file, e.row, e.column) for e in report.errors if e.rule == "exclusive answer"]
    assert got == [("institutions.csv", 3, "ep_none")]
    assert not report.ok


def test_a_part_without_its_total_column_validates_without_the_part_rule(small_villagers, default_frames,
                                                                        make_wave):
    """Licensed doctors without the (optional) doctors column: nothing to compare, the wave is valid."""
    inst = default_frames["institutions"].drop(columns=["hosp_doctors"])
    report, clean = validate_wave(make_wave(small_villagers, institutions=inst))
    assert report.ok, report.errors
    assert not [p for p in report.problems if p.rule == "part not above its total"]
    assert "hosp_doctors_licensed" in clean["institutions"] and "hosp_doctors" not in clean["institutions"]


def test_validate_cli_accepts_institutions_with_a_part_but_not_its_total(small_villagers, default_frames,
                                                                        make_wave):
    """`ruralgov validate` of such a wave exits 0 (no crash on the absent total)."""
    from typer.testing import CliRunner

    from analysis.cli import app

    inst = default_frames["institutions"].drop(columns=["hosp_doctors"])
    folder = make_wave(small_villagers, institutions=inst)
    res = CliRunner().invoke(app, ["validate", str(folder)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 0, res.output


def test_a_part_above_its_total_names_the_part_s_question_beside_the_part_s_count(small_villagers,
                                                                                 default_frames, make_wave):
    """30 licensed doctors out of 21 doctors: the count 30 goes with the part's question text."""
    inst = default_frames["institutions"].copy()
    inst.loc[0, ["hosp_doctors", "hosp_doctors_licensed"]] = ["21", "30"]
    report, _ = validate_wave(make_wave(small_villagers, institutions=inst))
    errs = [e for e in report.errors if e.rule == "part not above its total"]
    assert [(e.row, e.column) for e in errs] == [(2, "hosp_doctors_licensed")]
    assert ("30 'of whom licensed (assistant) doctors' out of 21 "
            "'number of doctors at the township hospital'") in errs[0].message


def test_an_institutions_column_map_to_an_institutions_item_is_accepted(small_villagers, default_frames,
                                                                       make_wave):
    """column_map {机构号: inst_id} in the institutions' entry reads 机构号 as the institution id."""
    inst = default_frames["institutions"].rename(columns={"inst_id": "机构号"})
    folder = make_wave(small_villagers, institutions=inst, spec=_both(
        {"file": "institutions.csv", "column_map": {"机构号": "inst_id"}}))
    report, clean = validate_wave(folder)
    assert report.ok, report.errors
    assert list(clean["institutions"]["inst_id"]) == list(default_frames["institutions"]["inst_id"])


def test_an_institutions_column_map_to_a_villager_item_is_refused(small_villagers, default_frames, make_wave):
    """column_map of institutions naming a villager item (age) is a column_map error."""
    inst = default_frames["institutions"].assign(年龄="40")
    folder = make_wave(small_villagers, institutions=inst, spec=_both(
        {"file": "institutions.csv", "column_map": {"年龄": "age"}}))
    report, _ = validate_wave(folder)
    errs = [e for e in report.errors if e.rule == "column_map"]
    assert len(errs) == 1
    assert "'age', which is not an item of the institutions questionnaire" in errs[0].message


def test_the_replica_s_institutions_file_has_no_missing_field_indicator_warning(small_villagers,
                                                                               default_frames, make_wave):
    """The institutions' file holds every item of its questionnaire: no "field items present" warning."""
    report, _ = validate_wave(make_wave(small_villagers, institutions=default_frames["institutions"]))
    warned = [(w.file, w.message) for w in report.warnings if w.rule == "field items present"]
    assert warned == []


def test_the_institutions_questionnaire_s_items_are_the_institutions_file_s_columns():
    """The codebook's institutions items are the 16 columns of the replica's institutions.csv."""
    header = list(pd.read_csv(DEFAULT / "institutions.csv", nrows=0).columns)
    assert sorted(load_codebook().ids("institutions")) == sorted(header)


def test_a_column_added_to_wave_institutions_does_not_reach_the_next_access(small_villagers, default_frames,
                                                                           make_wave):
    """w.institutions["x"] = 1 changes that frame only, as for w.villagers."""
    folder = make_wave(small_villagers, name="copyinst", institutions=default_frames["institutions"])
    w = load_wave(folder)
    mine = w.institutions
    mine["x"] = 1
    mine.loc[0, "hosp_doctors"] = -5.0
    assert "x" not in w.institutions.columns
    assert "x" not in load_wave(folder).institutions.columns
    assert w.institutions["hosp_doctors"].iloc[0] == float(default_frames["institutions"]["hosp_doctors"][0])
