"""Precedence: which setting wins.

A flag on the command line beats the default it replaces; the edition asked for (``--lang``) beats
the language of the shell the build runs in; what the build sets for the page kernels beats a stray
variable of the caller's environment; and a wave's own wave.yml or the project's data/*.yml beats a
package default. The build runs with jupyter-book stubbed out (``fake_book``): nothing is executed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import i18n, paths
from analysis.cli import app
from analysis.report import build as build_mod
from analysis.report.build import build_book
from analysis.settings import read_yaml
from tests.test_containment import _record_runs, fake_book  # noqa: F401

runner = CliRunner()


def _book_config(cmd: list[str]) -> dict:
    """The _config.yml the build handed the book."""
    return read_yaml(Path(cmd[cmd.index("--config") + 1]))


# --- the build: the edition's language and the build's own variables win ---------------------------------

def test_the_edition_s_language_wins_over_the_caller_s_environment(tmp_path, fake_book, monkeypatch):
    """The page kernels read the edition, the wave and the language switch from the environment the
    build hands them: a RURALGOV_LANG, RURALGOV_WAVE or RURALGOV_EDITIONS left in the caller's shell
    never replaces what the build sets (an English edition built from a Chinese shell is English,
    and the other way round), while the caller's other variables pass through."""
    from analysis.report.context import STUDY_ENV

    def look(cmd, env):  # type: ignore[no-untyped-def]
        return (env[i18n.LANG_ENV], env[paths.WAVE_ENV], env[i18n.EDITIONS_ENV], env[STUDY_ENV],
                env[paths.COMPARE_ENV], env.get("RURALGOV_TEST_CALLER"))

    runs = _record_runs(monkeypatch, look=look)
    monkeypatch.setenv("RURALGOV_TEST_CALLER", "kept")
    monkeypatch.setenv(paths.WAVE_ENV, str(tmp_path / "a-stray-wave"))
    monkeypatch.setenv(i18n.EDITIONS_ENV, "zh")
    monkeypatch.setenv(paths.COMPARE_ENV, str(tmp_path / "a-stray-comparison"))
    monkeypatch.setenv(STUDY_ENV, str(tmp_path / "a-stray-study"))
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "en", pdf=False, lang="en", editions=("en", "zh")) == 0
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "zh", pdf=False, lang="zh", editions=("en", "zh")) == 0
    wave = str(paths.wave_dir(paths.DEFAULT_WAVE).resolve())
    (en_lang, *en_rest), (zh_lang, *zh_rest) = runs
    assert (en_lang, zh_lang) == ("en", "zh")
    for built, editions, study, compared, caller in (en_rest, zh_rest):
        assert built == wave and editions == "en,zh"
        assert "a-stray-study" not in study
        assert compared == ""                                       # a build comparing no other wave
        assert caller == "kept"


def test_a_chinese_edition_built_from_an_english_shell_has_the_chinese_title(tmp_path, fake_book,
                                                                             monkeypatch):
    """The book's title (the sidebar's and the front door's) is translated for the edition asked
    for, not for the language of the shell the build runs in: ``--lang zh`` with RURALGOV_LANG
    unset gives the Chinese title and the Chinese Sphinx language."""
    titles: list[str] = []
    landing = build_mod.landing_page
    monkeypatch.setattr(build_mod, "landing_page",
                        lambda html, title, lang: titles.append(title) or landing(html, title, lang))
    runs = _record_runs(monkeypatch, look=lambda cmd, env: _book_config(cmd))
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    english = str(read_yaml(paths.ROOT / "_config.yml")["title"])
    chinese = i18n._(english, "zh")
    assert chinese != english and not chinese.isascii()              # the premise: the title is translated
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "r", pdf=False, lang="zh", editions=("zh",)) == 0
    (cfg,) = runs
    assert cfg["title"] == chinese
    assert titles == [chinese]
    assert cfg["sphinx"]["config"]["language"] == i18n.SPHINX_LANGUAGE["zh"]


def test_the_sidebar_captions_are_in_the_edition_s_language_not_the_process_s(monkeypatch):
    """book_toc translates the part captions (the survey's, the comparison's, the profiles') for its
    ``lang``: Chinese for the Chinese edition though the build process has no RURALGOV_LANG, English
    for the English edition though the process's RURALGOV_LANG is zh."""
    from analysis.ingest.wave import load_wave
    from analysis.report.build import book_toc

    wave = load_wave(paths.DEFAULT_WAVE)
    profiles = ["profiles/profiles", "profiles/hebei"]

    def captions(lang: str) -> list[str]:
        toc = book_toc(wave, compare=True, profiles=profiles, lang=lang)
        return [p["caption"] for p in toc["parts"] if p.get("caption")]

    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    english = captions("en")
    assert {"Comparison", "Province profiles"} <= set(english) and len(english) >= 4
    chinese = captions("zh")
    assert chinese == [i18n._(c, "zh") for c in english]
    assert all(not c.isascii() for c in chinese), chinese
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert captions("en") == english
    assert captions("zh") == chinese


def test_the_jobs_asked_for_win_over_the_cores_available(tmp_path, fake_book, monkeypatch):
    """``jobs`` set by the caller replaces the default (the cores available): one job leaves every
    page to the book, run one after the other (none executed ahead in worker kernels), three jobs
    execute them three at a time; unset, the cores available are used."""
    from analysis.report import execute

    monkeypatch.setattr(execute, "default_jobs", lambda: 4)         # a machine of four cores
    asked: list[int] = []

    def ahead(cache, sources, env, jobs, timeout, **kw):  # type: ignore[no-untyped-def]
        asked.append(jobs)
        return {}

    monkeypatch.setattr(build_mod, "_execute_ahead", ahead)
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "one", pdf=False, editions=("en",), jobs=1) == 0
    assert asked == []
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "three", pdf=False, editions=("en",), jobs=3) == 0
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "unset", pdf=False, editions=("en",)) == 0
    assert asked == [3, 4]


# --- the command line: a flag given reaches what it sets ------------------------------------------------

@pytest.fixture
def book_calls(monkeypatch) -> list[dict]:
    """``ruralgov build``'s calls of build_book (which is replaced by a recorder): each call's
    wave, output folder and keyword arguments."""
    calls: list[dict] = []

    def record(wave, out_dir=None, **kw):  # type: ignore[no-untyped-def]
        calls.append({"wave": wave, "out_dir": out_dir, **kw})
        return 0

    monkeypatch.setattr(build_mod, "build_book", record)
    return calls


@pytest.mark.parametrize("flags,pdf", [([], None), (["--pdf"], True), (["--no-pdf"], False)],
                         ids=["unset", "pdf", "no-pdf"])
def test_the_pdf_flag_reaches_the_build_and_unset_leaves_it_to_chromium(tmp_path, book_calls, flags, pdf):
    """``--pdf`` and ``--no-pdf`` are handed to the build as they are given (so --no-pdf prints no
    PDF where Chromium exists, and --pdf without Chromium is refused); without either the build
    is handed None, and decides by whether Chromium is installed. -j reaches it as well."""
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(tmp_path / "r"), "--lang", "en",
                              "-j", "1", *flags])
    assert res.exit_code == 0, res.output
    assert len(book_calls) == 1
    (call,) = book_calls
    assert call.get("pdf", "not passed") is pdf
    assert (call["lang"], call["jobs"], call["out_dir"]) == ("en", 1, tmp_path / "r")


def test_a_build_from_the_command_line_without_the_pdf_prints_none_where_chromium_exists(tmp_path, fake_book,
                                                                                        monkeypatch):
    """``ruralgov build --no-pdf`` on a machine with Chromium prints no PDF edition; without the flag
    the same machine prints it."""
    printed: list[str] = []
    monkeypatch.setattr(build_mod, "build_pdf", lambda cmd, env, work, html, name, root: printed.append(name))
    monkeypatch.setattr(build_mod, "chromium", lambda: "chromium")        # Chromium installed
    args = ["build", paths.DEFAULT_WAVE, "--lang", "en"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert printed == []
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    assert printed == [f"ruralgov-{paths.DEFAULT_WAVE}.pdf"]


def test_an_unknown_language_is_refused_and_nothing_is_built(tmp_path, book_calls):
    """``--lang fr`` is a usage error (exit 2, naming the languages there are), not a build of
    every edition; ``--lang zh`` builds the Chinese edition alone and ``--lang all`` both, each
    linking to both."""
    out = tmp_path / "r"
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(out), "--lang", "fr"])
    assert res.exit_code == 2, res.output
    assert "--lang must be one of en, zh or all, not 'fr'" in " ".join(res.output.split())
    assert book_calls == [] and not out.exists()
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(out), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert [(c["lang"], c["editions"]) for c in book_calls] == [("zh", None)]
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(out), "--lang", "all"])
    assert res.exit_code == 0, res.output
    both = ("en", "zh")
    assert [(c["lang"], c["editions"]) for c in book_calls[1:]] == [("en", both), ("zh", both)]


def test_a_replica_id_given_must_name_its_folder(tmp_path, monkeypatch):
    """``ruralgov replica --id`` wins over the folder's name as the wave's id, so an id that does
    not name the folder is refused (exit 2, nothing written); an id that does is the id written."""
    import analysis.replica as replica

    written: list[tuple[Path, str]] = []

    def write(out_dir, *, seed, wave_id, n, calibrate):  # type: ignore[no-untyped-def]
        written.append((out_dir, wave_id))
        return {}

    monkeypatch.setattr(replica, "write_wave", write)
    out = tmp_path / "w" / "abc"
    args = ["replica", "--out", str(out), "--n", "500", "--no-calibrate"]
    res = runner.invoke(app, [*args, "--id", "other"])
    assert res.exit_code == 2, res.output
    assert "got 'other'" in " ".join(res.output.split())
    assert written == [] and not out.exists()
    res = runner.invoke(app, [*args, "--id", "abc"])
    assert res.exit_code == 0, res.output
    assert written == [(out, "abc")]


# --- the edition's pages and the wave's settings win over package defaults -----------------------------

def test_the_chinese_list_of_profiles_is_in_chinese_from_its_heading(tmp_path, monkeypatch):
    """The page listing the province profiles is translated with the province pages: the Chinese
    edition's list has the Chinese heading and introduction, whatever the process's language; the
    English edition's keeps the English ones."""
    from analysis.report.profiles import INDEX, write_profiles

    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    write_profiles(tmp_path / "zh", "zh")
    zh = (tmp_path / "zh" / f"{INDEX}.md").read_text(encoding="utf-8")
    assert zh.splitlines()[0] == "# 省份概况"
    assert "Province profiles" not in zh and "One page per mainland province" not in zh
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    write_profiles(tmp_path / "en", "en")
    en = (tmp_path / "en" / f"{INDEX}.md").read_text(encoding="utf-8")
    assert en.splitlines()[0] == "# Province profiles" and "One page per mainland province" in en


def test_the_methods_page_states_the_min_cell_of_the_wave_s_own_wave_yml(make_wave, small_villagers):
    """A wave.yml setting ``min_cell: 20`` is the threshold the methods page states (and the one its
    tables apply), not the disclosure policy's default of 10."""
    from analysis.estimation.study import build_study
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.report.pages import methods

    study = build_study(str(make_wave(small_villagers, spec={"min_cell": 20})))
    assert study.wave.spec.min_cell == 20 and DisclosurePolicy().min_cell == 10     # the premise
    assert methods.settings(study)["min_cell_m"] == 20
    assert DisclosurePolicy.for_study(study).min_cell == 20


def test_the_sensitivity_page_states_the_draws_set_in_index_yml_beside_the_evaluations_run(make_wave,
                                                                                          small_villagers):
    """The draws data/index.yml sets are rounded down to a multiple of N (k + 2) = 7 blocks: with 100
    set, 98 are run, and the page states both (the 98 run and the 100 set), not 98 as set."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study
    from analysis.report.pages import sensitivity
    from analysis.settings import load_settings

    st = load_settings()
    u = st.index.uncertainty.model_copy(update={"draws": 100})
    st = dataclasses.replace(st, index=st.index.model_copy(update={"uncertainty": u}))
    study = build_study(str(make_wave(small_villagers)), settings=st)
    s = run_sensitivity(study)
    g = sensitivity.stats(study, s)
    assert (g["sens_draws"], g["sens_draws_set"], g["sens_blocks"]) == (98, 100, 7)
