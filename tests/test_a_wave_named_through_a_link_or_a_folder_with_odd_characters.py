"""A wave is the same wave however it is named: by its id under data/waves/, by a path, through a
folder that is a link (its name is the id, its target's is not), or in a folder whose path holds
the path separator. Validation, loading and a build's pages agree on it; and a page that has not
declared the models is refused them, whether another page has computed them or not."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from analysis import paths
from analysis.ingest.validate import validate_wave
from analysis.ingest.wave import load_wave
from analysis.report import context


@pytest.fixture
def linked_wave(make_wave, small_villagers, tmp_path) -> Path:
    """``tmp/waves/w-link`` → ``tmp/elsewhere/survey-2024-final``, a wave whose id is w-link."""
    real = make_wave(small_villagers, name="w-link", spec={"year": 2020})
    target = tmp_path / "elsewhere" / "survey-2024-final"
    target.parent.mkdir()
    real.rename(target)
    (tmp_path / "waves").mkdir()
    link = tmp_path / "waves" / "w-link"
    link.symlink_to(target, target_is_directory=True)
    return link


def test_a_wave_folder_that_is_a_link_is_one_wave_by_path(linked_wave):
    rep, _ = validate_wave(linked_wave)
    assert rep.ok, [str(p) for p in rep.errors]
    assert load_wave(str(linked_wave)).id == "w-link"
    assert paths.wave_dir(str(linked_wave)) == linked_wave       # absolute, named as the link is


def test_a_wave_folder_that_is_a_link_is_one_wave_by_id(linked_wave, monkeypatch):
    """Named by its id under data/waves/: validated valid, then loaded (it was refused there: the
    id differed from the name of the link's target)."""
    monkeypatch.setattr(paths, "WAVES", linked_wave.parent)
    assert validate_wave("w-link")[0].ok
    wave = load_wave("w-link")
    assert wave.id == "w-link" and wave.spec.folder.name == "w-link"


def test_a_relative_path_is_made_absolute_without_following_links(linked_wave, monkeypatch):
    monkeypatch.chdir(linked_wave.parent)
    assert paths.wave_dir("./w-link") == linked_wave
    assert paths.wave_dir("../waves/w-link") == linked_wave


def test_compared_waves_reach_the_pages_whatever_their_folders_hold(make_wave, small_villagers, tmp_path,
                                                                     monkeypatch):
    """The build names the compared waves as a JSON list: a folder with ':' in its path is one
    folder (joined by the path separator, it was cut in two and the page refused)."""
    odd = tmp_path / "x:y"
    odd.mkdir()
    a = make_wave(small_villagers, name="x:y/a", spec={"id": "a"})
    monkeypatch.setenv(paths.COMPARE_ENV, json.dumps([str(a)]))
    assert context._compared() == [str(a)]
    assert [w.id for w in context.compared_waves()] == ["a"]
    monkeypatch.setenv(paths.COMPARE_ENV, os.pathsep.join(["/p/one", "/p/two"]))      # set by hand
    assert context._compared() == ["/p/one", "/p/two"]
    monkeypatch.setenv(paths.COMPARE_ENV, "")
    assert context._compared() == []


def test_the_build_hands_the_pages_the_waves_as_named(linked_wave, make_wave, small_villagers, tmp_path,
                                                      monkeypatch):
    """The pages get the report's wave as it was named (the link, not its target) and the compared
    ones as a JSON list a page reads back."""
    from analysis.report import assets, build

    other = tmp_path / "x:y"
    other.mkdir()
    b = make_wave(small_villagers, name="x:y/b", spec={"id": "b", "year": 2024})
    seen = {}

    class Stop(Exception):
        pass

    def run(cmd, env, log, verbose):  # type: ignore[no-untyped-def]
        seen.update(env)
        raise Stop
    monkeypatch.setattr(assets, "ensure_mathjax", lambda: True)
    monkeypatch.setattr(build, "_run", run)
    with pytest.raises(Stop):
        build.build_book(str(linked_wave), tmp_path / "out", compare=[str(b)], pdf=False,
                         profiles_enabled=False)
    assert seen[paths.WAVE_ENV] == str(linked_wave)
    monkeypatch.setenv(paths.COMPARE_ENV, seen[paths.COMPARE_ENV])
    assert context._compared() == [str(b)]


def test_a_page_that_did_not_declare_the_models_is_refused_them_even_once_cached(tmp_path, monkeypatch):
    """Another page, which declared them, has stored the fitted models for the build: a page that
    did not declare them is still refused (else it passed or failed by the order the pages ran in,
    and a change to data/models.yml left it stale)."""
    monkeypatch.delenv(context.STUDY_ENV, raising=False)
    monkeypatch.delenv(paths.WAVE_ENV, raising=False)
    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path / "results"))
    monkeypatch.setattr(context, "_MEMO", {})
    monkeypatch.setattr(context, "_declared", ("models",))
    st = context.study()
    (tmp_path / "results").mkdir()
    with open(tmp_path / "results" / f"{st.key[:16]}-models.pkl", "wb") as fh:
        pickle.dump("the models another page fitted", fh)
    assert context.models(st) == "the models another page fitted"         # declared: read from the cache
    monkeypatch.setattr(context, "_MEMO", {})
    context.page_inputs(())
    with pytest.raises(context.UndeclaredInput, match="reads data/models.yml without declaring it"):
        context.models(context.study())


@pytest.mark.parametrize("lang, font, warned", [("zh", None, True), ("zh", "Noto Sans CJK SC", False),
                                                ("en", None, False)])
def test_a_chinese_edition_without_a_cjk_font_is_warned_of(make_wave, small_villagers, tmp_path, monkeypatch,
                                                           capsys, lang, font, warned):
    """Without a CJK font the Chinese edition's figures draw their Chinese labels as boxes: the
    build says so (and how to mend it) before it runs the pages; the English edition needs none."""
    from analysis.publishing import figures
    from analysis.report import assets, build

    wave = make_wave(small_villagers, name="w")

    class Stop(Exception):
        pass

    def key(folders):  # type: ignore[no-untyped-def]
        raise Stop                              # the pages are not run: the warning comes before
    monkeypatch.setattr(assets, "ensure_mathjax", lambda: True)
    monkeypatch.setattr(figures, "cjk_font", lambda: font)
    monkeypatch.setattr(build, "execution_cache_key", key)
    with pytest.raises(Stop):
        build.build_book(str(wave), tmp_path / "out", pdf=False, profiles_enabled=False, lang=lang)
    said = " ".join(capsys.readouterr().err.split())
    assert ("no CJK font is installed (Debian fonts-noto-cjk)" in said) == warned
    assert ("install one and rebuild with --force" in said) == warned
