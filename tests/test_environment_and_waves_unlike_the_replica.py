"""Paths no other test file reached: the stream command's model title, the message catalogs seen
from another folder, the build's environment and its PDF refusal, and pages and commands on waves
unlike the replica (no institutions questionnaire, two regions, Liaoning respondents, a small
Tibet, a min_cell of its own, a wave without internet use)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from analysis.cli import app

runner = CliRunner()


def _one_line(text: str) -> str:
    """Printed text with its line wrapping undone (rich wraps titles and messages)."""
    return " ".join(text.split())


def _wave_yml(folder: Path) -> dict:
    return yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))


def _edit_yml(folder: Path, **changes) -> None:  # type: ignore[no-untyped-def]
    spec = {**_wave_yml(folder), **changes}
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False),
                                     encoding="utf-8")


def _without_institutions(folder: Path) -> Path:
    """The wave without its institutions questionnaire (file and wave.yml entry removed)."""
    qs = _wave_yml(folder)["questionnaires"]
    qs.pop("institutions")
    _edit_yml(folder, questionnaires=qs)
    (folder / "institutions.csv").unlink()
    return folder


@pytest.fixture(scope="module")
def small_tibet(tmp_path_factory) -> Path:
    """Jiangsu, Sichuan and Tibet (east and west only), Tibet cut to 6 respondents (below min_cell 10)."""
    from tests import wavegen

    folder = wavegen.provinces(tmp_path_factory.mktemp("st") / "small-tibet", ["江苏", "四川", "西藏"])
    v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
    tibet = v.index[v["province"] == "西藏"]
    assert len(tibet) > 6
    v.drop(tibet[6:]).to_csv(folder / "villagers.csv", index=False)
    return folder


# ---- the stream command's model title ------------------------------------------------------

def test_the_stream_model_title_writes_its_observations_with_a_thousands_separator(tmp_path):
    """`ruralgov stream`'s model title gives n as the row count above it is given: 1,234, not 1234."""
    from analysis.estimation.stream import write_partitioned
    from analysis.replica import generate

    v = generate(seed=11, n=1500, calibrate=False)["villagers"]
    folder = tmp_path / "villagers"
    write_partitioned(v, folder, rows_per_file=1000)
    res = runner.invoke(app, ["stream", str(folder), "--by", "region"])
    assert res.exit_code == 0, res.output
    text = _one_line(res.stdout)
    assert "1,500 rows in 2 partitions" in text
    m = re.search(r"\(n = ([0-9,]+), \d+ clusters", text)
    assert m is not None, text
    n = int(m.group(1).replace(",", ""))
    assert 1000 <= n <= 1500                      # the premise: a number of four digits
    assert m.group(1) == f"{n // 1000},{n % 1000:03d}"


# ---- the message catalogs from another working folder --------------------------------------

def test_chinese_messages_are_found_from_any_working_folder(tmp_path, monkeypatch):
    """The catalogs live in the project, not in ./locale: run from elsewhere, _() still translates."""
    from babel.messages.pofile import read_po

    from analysis import i18n, paths

    with (paths.ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "ruralgov.po").open("rb") as fh:
        want = read_po(fh).get("internet use").string
    assert want and want != "internet use"
    monkeypatch.chdir(tmp_path)
    i18n._catalog.cache_clear()
    try:
        assert i18n._("internet use", "zh") == want
    finally:
        i18n._catalog.cache_clear()


# ---- what the book's process is handed -----------------------------------------------------

def test_the_book_process_runs_with_the_build_s_environment(tmp_path, monkeypatch):
    """jupyter-book (here a stand-in program) sees the wave and edition the build sets, not the caller's."""
    from analysis import i18n, paths
    from analysis.report import build as build_mod

    monkeypatch.delenv(paths.WAVE_ENV, raising=False)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\n", encoding="utf-8")
    code = (f"import os; print('wave=' + str(os.environ.get({paths.WAVE_ENV!r})), "
            f"'lang=' + str(os.environ.get({i18n.LANG_ENV!r})))")
    cmd = [sys.executable, "-c", code, "--toc", str(toc)]
    env = {**os.environ, paths.WAVE_ENV: str(tmp_path / "the-wave"), i18n.LANG_ENV: "zh"}
    log = tmp_path / "build.log"
    rc, failed, _ = build_mod._run(cmd, env, log, verbose=False)
    assert rc == 0 and not failed
    assert f"wave={tmp_path / 'the-wave'} lang=zh" in log.read_text(encoding="utf-8")


# ---- --pdf without Chromium ----------------------------------------------------------------

def test_a_pdf_build_without_chromium_is_refused_before_anything_is_built(tmp_path, monkeypatch):
    """`ruralgov build --pdf` where Chromium is missing exits 2 saying the PDF needs Chromium."""
    from analysis import paths
    from analysis.report import build as build_mod

    monkeypatch.setattr(paths, "BUILD", tmp_path / "_build")
    monkeypatch.setattr(build_mod, "chromium", lambda: None)
    monkeypatch.setattr("analysis.report.assets.ensure_mathjax", lambda: True)

    def went_on():  # type: ignore[no-untyped-def]
        raise AssertionError("the build went on past the PDF check")

    monkeypatch.setattr(build_mod, "book_hash", went_on)     # the first step after the check
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(tmp_path / "out"), "--pdf"])
    assert res.exit_code == 2, (res.output, res.exception)
    assert "the PDF edition needs Chromium" in _one_line(res.output)
    assert not (tmp_path / "out").exists()


# ---- a wave without the institutions questionnaire ----------------------------------------

@pytest.fixture(scope="module")
def no_institutions(tmp_path_factory):  # type: ignore[no-untyped-def]
    from analysis.estimation.study import build_study
    from tests import wavegen

    folder = wavegen.provinces(tmp_path_factory.mktemp("ni") / "no-inst", ["江苏", "四川", "河南"])
    return build_study(_without_institutions(folder))


def test_table1_says_an_institution_problem_is_not_in_a_wave_without_that_questionnaire(no_institutions):
    """Table 1: a problem whose item the wave has in no questionnaire reads "not in this wave"."""
    from analysis.report.pages import problems

    st = no_institutions
    assert st.wave.institutions is None
    t = problems.table1(st)
    absent = t[~t["item"].isin(st.villagers.columns)]
    assert len(absent) >= 1
    assert (absent["n"] == 0).all()
    assert (absent["base"] == problems.NOT_ASKED).all()
    assert not (t["base"] == problems.UNANSWERED).any()


def test_the_validation_summary_lists_only_the_questionnaires_the_wave_has(no_institutions):
    """The survey page's validation table: one row per questionnaire of the wave, none invented."""
    from analysis.report.pages import survey

    t = survey.validation_summary(no_institutions)
    assert t["questionnaire"].tolist() == ["villagers"]
    assert t["rows"].tolist() == [len(no_institutions.villagers)]


# ---- the east-west gap on a wave with Liaoning -------------------------------------------

def test_the_headline_gap_is_the_three_region_east_minus_west_with_liaoning_in_the_east(tmp_path):
    """The headline east-west gap is the difference of the three-region degrees printed beside it,
    Liaoning counted in the east (it is the NBS northeast, not the NBS east)."""
    from analysis.estimation.study import build_study
    from analysis.report.pages.common import headline
    from tests import wavegen

    folder = wavegen.provinces(tmp_path / "liaoning", ["黑龙江", "江苏", "四川", "河南"])
    for name in ("villagers.csv", "institutions.csv"):
        t = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
        hlj = t["province"] == "黑龙江"
        t.loc[hlj, "province"] = "辽宁"
        for c in ("village_id", "resp_id", "inst_id"):
            if c in t:
                t.loc[hlj, c] = "21" + t.loc[hlj, c].str[2:]
        t.to_csv(folder / name, index=False)
    st = build_study(folder)
    liaoning = st.villagers["province_en"] == "Liaoning"
    assert liaoning.sum() > 10
    assert set(st.villagers.loc[liaoning, "region3"]) == {"east"}
    assert set(st.villagers.loc[liaoning, "region4"]) != {"east"}      # the premise: the regions differ
    h = headline(st)
    assert h["gap_east_west"] == pytest.approx(h["degree_east"] - h["degree_west"], rel=1e-9)


# ---- the index command's --no-suppress warning --------------------------------------------

def test_no_suppress_warns_with_the_wave_s_own_min_cell(small_tibet, tmp_path):
    """`ruralgov index --no-suppress` names the threshold of the wave (min_cell 20 here), not 10."""
    import shutil

    folder = tmp_path / "min-cell-20"
    shutil.copytree(small_tibet, folder)
    _edit_yml(folder, id=folder.name, min_cell=20)
    res = runner.invoke(app, ["index", str(folder), "--no-suppress", "--format", "csv"])
    assert res.exit_code == 0, res.output
    text = _one_line(res.output)
    assert "(min_cell 20); do not publish this output" in text
    assert "min_cell 10" not in text


# ---- sensitivity on a wave of a small Tibet and two regions -------------------------------

def test_sensitivity_ranks_only_the_publishable_provinces(small_tibet):
    """`ruralgov sensitivity` ranks the provinces the report publishes: Tibet (6 respondents) is not."""
    res = runner.invoke(app, ["sensitivity", str(small_tibet), "--draws", "14", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert sorted(r["province"] for r in out["ranks"]) == ["Jiangsu", "Sichuan"]


def test_sensitivity_on_a_wave_of_two_regions_reports_those_two_and_the_gap(small_tibet):
    """A wave of east and west only: the Monte Carlo run gives the two regions and their gap."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study

    st = build_study(small_tibet)
    assert sorted(st.villagers["region3"].unique()) == ["east", "west"]
    res = run_sensitivity(st, draws=14, seed=1)
    assert list(res.regions.columns) == ["east", "west"]
    assert res.has_gap
    assert np.isfinite(res.regions.to_numpy()).all()


# ---- the synthetic note of the survey+official source -------------------------------------

def test_a_synthetic_wave_of_any_id_carries_the_synthetic_note_on_its_mixed_source():
    """The survey+official source is synthetic as its wave is, whatever the wave's id."""
    from analysis.i18n import _
    from analysis.publishing.provenance import SYNTHETIC_NOTE, mixed_source

    synth2 = mixed_source(SimpleNamespace(id="synth2", sha256="ab" * 32, synthetic=True))
    assert synth2.synthetic and _(SYNTHETIC_NOTE) in synth2.notes()
    real = mixed_source(SimpleNamespace(id="2020-replica", sha256="ab" * 32, synthetic=False))
    assert not real.synthetic and _(SYNTHETIC_NOTE) not in real.notes()


# ---- the panel's items ------------------------------------------------------------------------

def test_the_panel_names_a_wave_without_internet_use_as_lacking_it():
    """The comparison panel needs internet_use in every wave: a wave without it is named as lacking it."""
    from analysis.report.pages.compare import panel_lacks, panel_note

    full = pd.DataFrame({"internet_use": [1.0, 0.0], "education": [2.0, 3.0], "hh_income": [1e4, 2e4]})
    a = SimpleNamespace(year=2020, wave=SimpleNamespace(id="a"), villagers=full)
    b = SimpleNamespace(year=2022, wave=SimpleNamespace(id="b"), villagers=full.drop(columns="internet_use"))
    lacks = panel_lacks([a, b])
    assert lacks == ["b: internet_use"]
    assert "internet_use" in panel_note(lacks)
