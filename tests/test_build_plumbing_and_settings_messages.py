"""Gaps: the source a design-column message names, the exit code of an invalid wave, index targets
on items that are no indicators, allowed keys of an optional settings section, the PDF edition's
place, the book's execute.allow_errors for pages executed ahead, and toc sections under a file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from analysis import paths
from analysis.cli import app
from analysis.report import build as build_mod
from tests.conftest import NOTEBOOK_HEADER
from tests.test_containment import fake_book  # noqa: F401
from tests.test_execute import _output

runner = CliRunner()

MISSPELT_PSU = {"design": {"weight": "weight", "strata": "province", "psu": "vilage_id"}}
"""wave.yml's design naming a PSU column that is no villager item (village_id misspelt)."""


# --- a wave whose wave.yml names a design column that is no item --------------------------------------------

@pytest.mark.parametrize("command", [["models"], ["index"], ["sensitivity", "--draws", "14"]])
def test_a_wave_whose_design_psu_is_no_item_exits_1_naming_wave_yml(make_wave, small_villagers, command):
    """Invalid data (wave.yml design.psu: vilage_id) exits 1, the message blaming wave.yml, not an option."""
    folder = make_wave(small_villagers, spec=MISSPELT_PSU)
    res = runner.invoke(app, [command[0], str(folder), *command[1:]])
    said = " ".join(res.output.split())
    assert res.exit_code == 1, res.output
    assert ("wave.yml: design.psu names 'vilage_id', which is not an item of the villager questionnaire "
            "(did you mean 'village_id'?)") in said
    assert "(--psu)" not in said
    assert "Traceback" not in said


# --- index.yml targets --------------------------------------------------------------------------------------

def test_an_index_target_on_a_villager_item_that_is_no_indicator_is_refused(tmp_path, monkeypatch):
    """targets: {sex: 2} names an item of the villagers, but no indicator of the index: a settings problem."""
    from analysis.settings import SettingsError, load_settings

    text = paths.INDEX_CONFIG.read_text(encoding="utf-8")
    assert "targets: {}" in text
    copy = tmp_path / "index.yml"
    copy.write_text(text.replace("targets: {}", "targets: {sex: 2}", 1), encoding="utf-8")
    monkeypatch.setattr(paths, "INDEX_CONFIG", copy)
    with pytest.raises(SettingsError) as e:
        load_settings()
    said = {p.key: p.message for p in e.value.problems}
    assert said == {"targets.sex": "not an indicator of the index's questionnaire (villagers)"}


# --- an optional section's keys -----------------------------------------------------------------------------

def test_a_misspelt_key_in_a_model_s_optional_wild_section_gives_its_allowed_keys():
    """A model's wild (Wild | None): 'wieghts' is told the keys reps, weights, seed and the closest."""
    from analysis.settings import SettingsError, validate
    from analysis.settings.schemas import ModelsSettings

    raw = {"models": [{"name": "m", "outcome": "overall", "family": "wls", "weights": "weight",
                       "cluster": "province", "wild": {"reps": 999, "wieghts": "webb"}}]}
    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, raw, "data/models.yml")
    said = " ".join(str(e.value).split())
    assert ("models.m.wild.wieghts: unknown key 'wieghts'; allowed: reps, weights, seed "
            "(did you mean 'weights'?)") in said


# --- the PDF edition ----------------------------------------------------------------------------------------

def _fake_printing(calls: list[list[str]]) -> SimpleNamespace:
    """subprocess as build_pdf sees it: the single-page HTML build writes its page, Chromium writes
    a 20 kB PDF where --print-to-pdf= says."""

    def run(cmd, **kw):  # type: ignore[no-untyped-def]
        calls.append(list(cmd))
        if "--builder" in cmd:
            out = Path(cmd[cmd.index("--path-output") + 1]) / "_build" / "singlehtml" / "book"
            out.mkdir(parents=True)
            (out / "intro.html").write_text("<html>the whole book</html>", encoding="utf-8")
        else:
            target = next(a for a in cmd if a.startswith("--print-to-pdf=")).split("=", 1)[1]
            Path(target).write_bytes(b"%PDF-" + b"x" * 20_000)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    return SimpleNamespace(run=run, STDOUT=subprocess.STDOUT, TimeoutExpired=subprocess.TimeoutExpired,
                           CompletedProcess=subprocess.CompletedProcess)


def test_the_pdf_edition_is_printed_into_the_html_folder_it_is_linked_from(tmp_path, monkeypatch):
    """build_pdf prints html/<name> (the file the footer links) and returns that path."""
    calls: list[list[str]] = []
    monkeypatch.setattr(build_mod, "subprocess", _fake_printing(calls))
    work, html = tmp_path / "work", tmp_path / "work" / "_build" / "html"
    html.mkdir(parents=True)
    cmd = ["jupyter-book", "build", str(tmp_path / "src"), "--path-output", str(work), "-W"]
    got = build_mod.build_pdf(cmd, {}, work, html, "ruralgov-w.pdf", "book/intro")
    assert got == html / "ruralgov-w.pdf"
    assert (html / "ruralgov-w.pdf").read_bytes().startswith(b"%PDF-")
    assert not (work / "ruralgov-w.pdf").exists()
    assert len(calls) == 2


def test_a_built_report_holds_its_pdf_edition_in_html_and_links_it_from_pdf(tmp_path, fake_book, monkeypatch):
    """A build with the PDF edition leaves <out>/html/ruralgov-<wave>.pdf, and pdf/ links to that file."""
    calls: list[list[str]] = []
    monkeypatch.setattr(build_mod, "subprocess", _fake_printing(calls))
    monkeypatch.setattr(build_mod, "chromium", lambda: "chromium")
    out = tmp_path / "report"
    assert build_mod.build_book(paths.DEFAULT_WAVE, out, pdf=True, editions=("en",), jobs=1) == 0
    name = f"ruralgov-{paths.DEFAULT_WAVE}.pdf"
    assert (out / "html" / name).read_bytes().startswith(b"%PDF-")
    assert (out / "pdf" / name).resolve() == (out / "html" / name).resolve()
    assert (out / "pdf" / name).is_file()                      # the link is not dead


# --- pages executed ahead -----------------------------------------------------------------------------------

def test_with_the_book_s_allow_errors_a_raising_page_executed_ahead_is_cached_not_failed(tmp_path, capsys):
    """With execute.allow_errors a page whose cell raises is executed ahead, its error shown, and cached."""
    from analysis.report.execute import pending_pages

    book = tmp_path / "src" / "book"
    book.mkdir(parents=True)
    page = book / "raises.md"
    page.write_text(f"{NOTEBOOK_HEADER}# raises\n\n```{{code-cell}} ipython3\n"
                    "raise RuntimeError('shown')\n```\n"
                    "\n```{code-cell} ipython3\nprint('after the error')\n```\n", encoding="utf-8")
    sources = {"book/raises": page}
    cache = tmp_path / "cache"
    out = build_mod._execute_ahead(cache, sources, dict(os.environ), 1, 60, allow_errors=True)
    assert set(out) == {"book/raises"}
    assert out["book/raises"][1] is None
    assert pending_pages(cache, sources) == {}
    assert "after the error" in _output(cache, page)          # the cells after the error ran
    assert "executes it again" not in capsys.readouterr().err


# --- toc sections -------------------------------------------------------------------------------------------

def test_the_pages_of_a_toc_include_the_sections_under_a_file(tmp_path):
    """A chapter with a file and sections lists the file, then its sections (nested ones too), in order."""
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
                   "      - file: book/a\n        sections:\n          - file: book/a1\n"
                   "            sections:\n              - file: book/a1x\n          - file: book/a2\n"
                   "      - file: book/b\n", encoding="utf-8")
    assert build_mod._pages(toc) == ["book/intro", "book/a", "book/a1", "book/a1x", "book/a2", "book/b"]


def test_the_province_profile_pages_are_executed_ahead_with_the_book(tmp_path, fake_book, monkeypatch):
    """With jobs > 1 each generated profile page (a toc section under profiles/profiles) is executed ahead."""
    handed: list[dict[str, Path]] = []
    on_disk: list[set[str]] = []

    def ahead(cache, sources, env, jobs, timeout, **kw):  # type: ignore[no-untyped-def]
        handed.append(dict(sources))
        src = Path(next(iter(sources.values()))).parents[1]
        on_disk.append({f"profiles/{p.stem}" for p in (src / "profiles").glob("*.md")})
        return {}

    monkeypatch.setattr(build_mod, "_execute_ahead", ahead)
    assert build_mod.build_book(paths.DEFAULT_WAVE, tmp_path / "r", pdf=False, editions=("en",), jobs=2) == 0
    (sources,), (profiles,) = handed, on_disk
    assert len(profiles) > 2                                    # the index page and provinces
    assert profiles <= set(sources)
