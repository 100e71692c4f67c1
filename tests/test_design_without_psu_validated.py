"""A design that names strata but no PSU takes each respondent as a PSU: a stratum of a single
respondent is a stratum of a single PSU, which validation reports under the wave's lonely_psu rule
(an error under ``fail``, a warning otherwise) as it does for a wave with PSUs, instead of letting
the estimators fail later with a traceback; and a design without strata is one stratum, so a sample
of a single PSU is reported the same way."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from analysis.cli import app
from analysis.ingest.validate import validate_wave
from tests import wavegen

runner = CliRunner()
RULE = "two or more PSUs per stratum"


def _copy(folder, villagers, **design):  # type: ignore[no-untyped-def]
    """The replica whose villagers ``villagers`` cuts, its wave.yml's design entries set as given."""
    folder = wavegen.replica_copy(folder, villagers=villagers)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["design"].update(design)
    wavegen._write_spec(folder, spec)
    return folder


def _wave(tmp_path, name: str, lonely: str, psu: bool = False):  # type: ignore[no-untyped-def]
    """The replica with Tibet cut to one respondent, the design's PSU removed (or kept)."""
    def one_in_tibet(v):  # type: ignore[no-untyped-def]
        tibet = v.index[v["province"] == "西藏"]
        return v.drop(tibet[1:])

    return _copy(tmp_path / name, one_in_tibet, lonely_psu=lonely, **({} if psu else {"psu": None}))


def test_under_fail_a_stratum_of_one_respondent_is_an_error_naming_it(tmp_path):
    rep, _ = validate_wave(_wave(tmp_path, "no-psu-fail", "fail"))
    bad = [p for p in rep.errors if p.rule == RULE]
    assert len(bad) == 1 and not rep.ok
    assert bad[0].column == "province" and "single PSU" in bad[0].message
    assert bad[0].row is not None
    res = runner.invoke(app, ["validate", str(tmp_path / "no-psu-fail")])
    assert res.exit_code == 1


def test_under_adjust_it_is_a_warning_and_the_other_strata_none(tmp_path):
    rep, _ = validate_wave(_wave(tmp_path, "no-psu-adjust", "adjust"))
    warn = [p for p in rep.warnings if p.rule == RULE]
    assert rep.ok and len(warn) == 1 and "grand mean" in warn[0].message
    assert not [p for p in rep.errors if p.rule == RULE]


def test_with_psus_the_same_stratum_is_reported_as_before(tmp_path):
    """The same cut with the villages as PSUs: Tibet's one respondent is one village: one error."""
    rep, _ = validate_wave(_wave(tmp_path, "psu-fail", "fail", psu=True))
    assert len([p for p in rep.errors if p.rule == RULE]) == 1


def test_a_command_on_such_a_wave_exits_without_a_traceback(tmp_path):
    res = runner.invoke(app, ["index", str(_wave(tmp_path, "no-psu-cli", "fail"))])
    assert res.exit_code == 1
    assert "Traceback" not in res.output and not isinstance(res.exception, (ValueError, KeyError))


def _one_village(tmp_path, name: str, lonely: str):  # type: ignore[no-untyped-def]
    """The replica cut to its first village, the design's strata removed."""
    def first_village(v):  # type: ignore[no-untyped-def]
        return v[v["village_id"] == v["village_id"].iloc[0]]

    return _copy(tmp_path / name, first_village, strata=None, lonely_psu=lonely)


def test_without_strata_a_sample_of_one_psu_is_an_error_under_fail_and_a_warning_otherwise(tmp_path):
    rep, _ = validate_wave(_one_village(tmp_path, "one-village-fail", "fail"))
    bad = [p for p in rep.errors if p.rule == RULE]
    assert not rep.ok and len(bad) == 1 and "no strata" in bad[0].message and bad[0].column == "village_id"
    res = runner.invoke(app, ["validate", str(tmp_path / "one-village-fail")])
    assert res.exit_code == 1
    rep, _ = validate_wave(_one_village(tmp_path, "one-village-adjust", "adjust"))
    assert rep.ok and len([p for p in rep.warnings if p.rule == RULE]) == 1
    rep, _ = validate_wave(wavegen.replica_copy(tmp_path / "all-villages"))
    assert not [p for p in rep.problems if p.rule == RULE]


def test_a_design_column_that_may_be_blank_is_refused_where_it_is_blank(tmp_path):
    """design.psu naming an item that some respondents left blank (a numeric item, not the PSU
    ids): validate refuses each blank cell by row and column (exit 1) rather than passing a wave
    every later command refuses; the design itself names the column and the count."""
    import numpy as np
    import pandas as pd
    import pytest

    from analysis.estimation.design import DesignError, SurveyDesign

    folder = _copy(tmp_path / "psu-blank", None, strata=None, psu="hp_far")
    v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
    blank = int((v["hp_far"] == "").sum())
    assert blank > 0
    rep, _ = validate_wave(folder)
    bad = [p for p in rep.errors if p.column == "hp_far" and p.rule == "not missing"]
    assert len(bad) == min(blank, 50) and "design.psu" in bad[0].message
    assert bad[0].row == int(np.flatnonzero(v["hp_far"].to_numpy() == "")[0]) + 2     # file row, header 1
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1
    frame = pd.DataFrame({"w": [1.0, 1.0, 1.0], "s": ["a", None, "b"], "p": [1, 2, np.nan]})
    with pytest.raises(DesignError, match=r"^the strata column 's' has 1 missing value$"):
        SurveyDesign.from_frame(frame, weight="w", strata="s", psu="p")
    with pytest.raises(DesignError, match=r"^the PSU column 'p' has 1 missing value$"):
        SurveyDesign.from_frame(frame, weight="w", psu="p")
    with pytest.raises(DesignError, match=r"^the PSU column 'p' has 2 missing values$"):
        SurveyDesign.from_frame(frame.assign(p=[1, None, np.nan]), weight="w", psu="p")
