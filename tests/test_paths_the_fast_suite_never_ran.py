"""Paths a coverage run of the fast suite found never run: the sensitivity CSV, the catalog count, a
numeric province cell, an unknown value set, a missing wave.yml, a file named outside its wave, the
year outside git, a MathJax fetch cut off, the default report folder, the show_text translation, the
coefficient plot's terms, an empty citation and a province profile's reason for an empty row."""

from __future__ import annotations

import copy
import io
import math
import subprocess
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import i18n, paths
from analysis.cli import app

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def _write_po(locale: Path, domain: str, entries: dict[str, str]) -> None:
    po = locale / "zh_CN" / "LC_MESSAGES" / f"{domain}.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    po.write_text(PO_HEADER + body, encoding="utf-8")


# ------------------------------------------------------------------ ruralgov sensitivity --format csv

def test_sensitivity_as_csv_writes_the_sobol_indices_of_each_input(make_wave, small_villagers):
    """``--format csv`` writes the Sobol table: input, output, first-order and total index, one row
    per input and output (the gap and the mean over province ranks), not the regional summary."""
    from analysis.estimation.sensitivity import INPUTS

    res = CliRunner().invoke(app, ["sensitivity", str(make_wave(small_villagers)), "--draws", "14",
                                   "--format", "csv"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(io.StringIO(res.stdout))
    assert got.columns.tolist() == ["input", "output", "first_order", "total"]
    # the small wave has Shanghai (east) and Tibet (west), each published: a gap, and ranks
    assert sorted(got["output"].unique()) == ["east-west gap", "province ranks (mean over provinces)"]
    for out, rows in got.groupby("output"):
        assert rows["input"].tolist() == list(INPUTS), out
    assert "quantity" not in got.columns


# ------------------------------------------------------------------ python -m analysis.i18n

def test_the_catalog_update_counts_untranslated_messages_not_catalogs(tmp_path, monkeypatch, capsys):
    """``python -m analysis.i18n`` sums the messages left untranslated over every catalog: with
    every message translated in two catalogs it says 0 and exits 0; with three messages left in
    one it says 3 and exits 1."""
    locale = tmp_path / "locale"
    monkeypatch.setattr(i18n.paths, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "LOCALE", locale)
    monkeypatch.setattr(i18n, "page_sources", lambda: {"profiles": "First paragraph.\n\nSecond paragraph.\n"})
    monkeypatch.setattr(i18n, "package_messages", lambda: ["region"])
    _write_po(locale, "profiles", {"First paragraph.": "第一段。", "Second paragraph.": "第二段。"})
    _write_po(locale, "ruralgov", {"region": "地区"})
    i18n._catalog.cache_clear()
    try:
        assert i18n.main() == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == "0 message(s) untranslated"
        monkeypatch.setattr(i18n, "package_messages", lambda: ["region", "one", "two", "three"])
        assert i18n.main() == 1
        lines = capsys.readouterr().out.strip().splitlines()
        assert lines == ["locale/zh_CN/LC_MESSAGES/ruralgov.po: 3 untranslated", "3 message(s) untranslated"]
    finally:
        i18n._catalog.cache_clear()


# ------------------------------------------------------------------ i18n.category

@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_blank_or_numeric_province_cell_is_returned_unchanged_by_category(language):
    """A province cell that is not text (a blank read as NaN, a numeric code) is no name: it is
    returned as it is, in either edition, instead of failing."""
    blank = i18n.category("province", float("nan"), language)
    assert isinstance(blank, float) and math.isnan(blank)
    assert i18n.category("province_en", 3.4, language) == 3.4
    assert i18n.category("province", 310000, language) == 310000
    assert i18n.group_name("province", 3.4, language) == "3.4"


# ------------------------------------------------------------------ codebook value sets

def test_an_item_naming_an_unknown_value_set_is_refused_when_the_codebook_is_built():
    """``values: sexx`` (a value set the codebook does not define) refuses the codebook, naming
    the set, instead of loading the item with no valid code."""
    from analysis.ingest.codebook import CodebookError, _build
    from analysis.settings import load_settings

    raw = copy.deepcopy(load_settings().codebook)
    entry = next(e for e in raw["questionnaires"]["villagers"]["items"] if e["id"] == "sex")
    assert entry["values"] == "sex" and "sexx" not in raw["value_sets"]       # the premise
    entry["values"] = "sexx"
    with pytest.raises(CodebookError, match=r"villagers\.sex: unknown value set 'sexx'; value sets: .*\bsex\b"
                       ):
        _build(raw, "0" * 64)


# ------------------------------------------------------------------ a wave folder without wave.yml

def test_a_wave_folder_without_wave_yml_is_reported_as_missing_under_the_wave_yml_rule(tmp_path,
                                                                                       small_villagers):
    """A folder holding data but no wave.yml: the error says the file is missing (with its path)
    under rule 'wave.yml', not that it cannot be read as YAML."""
    from analysis.ingest.readers import WaveError, load_spec

    folder = tmp_path / "nowave"
    folder.mkdir()
    small_villagers.to_csv(folder / "villagers.csv", index=False)
    with pytest.raises(WaveError) as e:
        load_spec(folder)
    assert e.value.rule == "wave.yml"
    assert str(e.value) == f"{folder.resolve() / 'wave.yml'} is missing: every wave folder needs a wave.yml"
    res = CliRunner().invoke(app, ["validate", str(folder), "--csv", str(tmp_path / "problems.csv")])
    assert res.exit_code == 1
    problems = pd.read_csv(tmp_path / "problems.csv", keep_default_na=False)
    assert problems[["file", "rule", "message"]].to_dict("records") == [
        {"file": "wave.yml", "rule": "wave.yml", "message": str(e.value)}]


# ------------------------------------------------------------------ file labels

def test_a_questionnaire_file_outside_the_wave_folder_is_labelled_by_its_name_only(tmp_path):
    """A file that does not lie under the wave's folder is named by its file name, never by its
    absolute path (which would differ by machine and show the local folders)."""
    from analysis.ingest.validate import file_label

    wave = tmp_path / "waves" / "w"
    (wave / "raw").mkdir(parents=True)
    shared = tmp_path / "shared" / "villagers.csv"
    shared.parent.mkdir()
    shared.write_text("x\n1\n", encoding="utf-8")
    assert file_label(shared, wave) == "villagers.csv"
    assert file_label(wave / ".." / ".." / "shared" / "villagers.csv", wave) == "villagers.csv"
    assert file_label(wave / "raw" / "villagers.csv", wave) == "raw/villagers.csv"


# ------------------------------------------------------------------ commit year

def test_outside_a_git_checkout_the_commit_year_is_this_year(tmp_path, monkeypatch):
    """In a folder git does not know (a release tarball), ``git log`` fails: the report's year is
    this year instead of an error."""
    from analysis.publishing import provenance

    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    unpacked = tmp_path / "ruralgov-1.0"
    unpacked.mkdir()
    probe = subprocess.run(["git", "log", "-1"], cwd=unpacked, capture_output=True, text=True)
    assert probe.returncode != 0                                     # the premise: not a checkout
    monkeypatch.setattr(provenance.paths, "ROOT", unpacked)
    provenance.commit_year.cache_clear()
    try:
        assert provenance.commit_year() == date.today().year
    finally:
        provenance.commit_year.cache_clear()


# ------------------------------------------------------------------ MathJax fetch

@pytest.mark.parametrize("error", [TimeoutError("The read operation timed out"),
                                   ConnectionResetError(104, "Connection reset by peer")])
def test_a_mathjax_fetch_cut_off_while_reading_says_missing_instead_of_failing(tmp_path, monkeypatch, error):
    """A download that times out or is reset while its body is read is a failed fetch:
    ensure_mathjax() returns False (the build then says MathJax is missing), nothing is left."""
    from analysis.report import assets

    class Cut:
        def read(self):  # type: ignore[no-untyped-def]
            raise error

    monkeypatch.setattr(assets, "MATHJAX_DIR", tmp_path / "mathjax")
    monkeypatch.setattr(assets.urllib.request, "urlopen", lambda url, timeout: Cut())
    assert assets.ensure_mathjax() is False
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the default report folder

def test_a_non_empty_folder_without_a_stamp_in_build_is_not_replaced(tmp_path, monkeypatch):
    """``_build/<id>`` holding a user's files and no build stamp: the build refuses to replace it."""
    from analysis.report import build as build_mod

    monkeypatch.setattr(paths, "BUILD", tmp_path / "_build")
    mine = tmp_path / "_build" / "w"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my notes", encoding="utf-8")
    wave = tmp_path / "waves" / "w"
    wave.mkdir(parents=True)
    said = build_mod.check_default_target("w", "w", wave)
    assert said == f"{mine.resolve()} exists and is not a ruralgov build: move it away first"
    (tmp_path / "_build" / "empty").mkdir()
    assert build_mod.check_default_target("empty", "empty", wave) is None     # an empty folder may be used


def test_a_build_stamp_that_is_not_json_leaves_its_wave_unknown_and_the_build_goes_on(tmp_path, monkeypatch):
    """A truncated stamp in ``_build/<id>``: the folder is a build, of an unknown wave; nothing refuses."""
    from analysis.report import build as build_mod

    monkeypatch.setattr(paths, "BUILD", tmp_path / "_build")
    old = tmp_path / "_build" / "w"
    old.mkdir(parents=True)
    (old / build_mod.STAMP).write_text('{"wave_folder": "/somewhere/w", "inp', encoding="utf-8")
    wave = tmp_path / "waves" / "w"
    wave.mkdir(parents=True)
    assert build_mod.check_default_target("w", "w", wave) is None


# ------------------------------------------------------------------ show_text

def test_show_text_displays_its_note_in_the_edition_s_language(tmp_path, monkeypatch):
    """A note given to show_text is shown translated in the Chinese edition (by the catalog), and as
    written in the English one."""
    import IPython.display

    from analysis.report import display

    shown: list = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    _write_po(tmp_path, "ruralgov", {"The wave has no gap.": "本轮数据没有差距。"})
    i18n._catalog.cache_clear()
    try:
        monkeypatch.setenv(i18n.LANG_ENV, "zh")
        display.show_text("The wave has no gap.")
        monkeypatch.setenv(i18n.LANG_ENV, "en")
        display.show_text("The wave has no gap.")
        display.show_text("")
    finally:
        i18n._catalog.cache_clear()
    assert shown == [{"text/markdown": "本轮数据没有差距。"}, {"text/markdown": "The wave has no gap."}]


# ------------------------------------------------------------------ coefficient figure

class _Fit:
    def __init__(self, label: str, terms: dict[str, float]) -> None:
        self.label = label
        self._frame = pd.DataFrame({"term": list(terms), "label": list(terms),
                                    "estimate": list(terms.values()),
                                    "ci_low": [v - 1 for v in terms.values()],
                                    "ci_high": [v + 1 for v in terms.values()]})

    def to_frame(self) -> pd.DataFrame:
        return self._frame.copy()


class _Models(dict):
    def has(self, name: str) -> bool:
        return name in self


def test_the_coefficient_figure_shows_only_the_terms_every_model_shares():
    """Two linear models, one with a province covariate the other lacks: the figure and its data
    hold the shared terms only, one point per model each."""
    import matplotlib.pyplot as plt

    from analysis.report.pages import determinants

    ms = _Models(a=_Fit("model A", {"internet_use": 2.0, "age": 0.1}),
                 b=_Fit("model B", {"internet_use": 2.5, "urban_rate": 0.3, "age": 0.2}),
                 c=_Fit("model C", {"internet_use": 1.5, "age": 0.3}))
    fig = determinants.coefficient_figure(ms, ["a", "b", "c", "not fitted"], synthetic=False)
    try:
        data = fig.ruralgov_data
        assert sorted(set(data["term"])) == ["age", "internet_use"]
        assert len(data) == 6 and "urban_rate" not in set(data["term"])
        assert sorted(t.get_text() for t in fig.axes[0].get_yticklabels()) == ["age", "internet_use"]
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ methods page

def test_a_real_wave_without_a_citation_has_no_cite_as_sentence(make_wave, small_villagers):
    """A non-synthetic wave whose wave.yml gives a source but no citation: its paragraph ends with
    the source; no empty "Cite as: ." sentence."""
    from analysis.ingest.readers import load_spec
    from analysis.ingest.wave import Wave
    from analysis.report.pages import methods

    spec = load_spec(make_wave(small_villagers, spec={"source": "County survey office"}))
    assert spec.synthetic is False and not spec.settings.citation                  # the premise
    text = methods.wave_paragraph(SimpleNamespace(wave=Wave(spec, {}, None, None)))
    assert text == "**The reported wave** `w`: test wave. Source: County survey office."
    assert "Cite as" not in text


# ------------------------------------------------------------------ province profile

def test_a_province_without_respondents_has_every_profile_level_marked_no_respondents(make_wave,
                                                                                      small_villagers):
    """The levels table of a province the wave did not survey (Beijing, in a wave of Shanghai,
    Tibet and Henan): each field and aspect row is empty with the reason 'no respondents'."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import profile

    study = build_study(str(make_wave(small_villagers)))
    assert "Beijing" not in set(study.villagers["province_en"])                     # the premise
    t = profile.levels_table(study, 110000)
    cb = study.wave.codebook
    assert len(t) == len(study.index.fields) + len(study.index.aspects) and len(cb.fields) > 0
    assert t["suppressed"].tolist() == ["no respondents"] * len(t)
    assert t["estimate"].isna().all() and (t["n"] == 0).all()
