"""What the report says a wave is, and what it says of the code, comes from what is known: a
synthetic wave is called a *calibrated* replica only when its ``wave.yml`` says this package's
generator calibrated it (an uncalibrated replica, or synthetic data from another generator, is
described as such), and outside a git checkout the state of the code is "unknown", never "clean"."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from analysis import paths
from analysis.ingest.wave import load_wave
from analysis.publishing import provenance
from tests import wavegen

CASES = {   # generator block of wave.yml (None: no block), synthetic flag → the kind the pages describe
    "cal-wave": ({"module": "analysis.replica", "version": "1.0", "seed": 7, "calibrated": True}, True,
                 "calibrated"),
    "uncal-wave": ({"module": "analysis.replica", "version": "1.0", "seed": 7, "calibrated": False}, True,
                   "uncalibrated"),
    "unstated-wave": ({"module": "analysis.replica", "version": "1.0", "seed": 7}, True, "other"),
    "foreign-wave": ({"module": "someone.else", "calibrated": True}, True, "other"),
    "bare-wave": (None, True, "other"),
    "real-wave": (None, False, None),
}


def _wave(tmp_path, name: str):  # type: ignore[no-untyped-def]
    """The default wave's files under ``name`` with the generator block and synthetic flag of CASES."""
    gen, synthetic, _ = CASES[name]
    folder = wavegen.replica_copy(tmp_path / name)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec.update(id=name, synthetic=synthetic, title=f"Test wave {name}", source=f"made for {name}")
    spec.pop("generator", None)
    if gen is not None:
        spec["generator"] = gen
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return load_wave(folder)


@pytest.mark.parametrize("name", list(CASES))
def test_the_kind_of_a_wave_is_what_its_wave_yml_states(tmp_path, name):
    """replica_kind: calibrated/uncalibrated only for analysis.replica with a stated calibrated flag."""
    assert _wave(tmp_path, name).replica_kind == CASES[name][2]


@pytest.mark.parametrize("name", list(CASES))
def test_the_warning_of_every_page_calls_a_wave_calibrated_only_when_it_is(tmp_path, name):
    """display.notice: the calibrated replica's warning only for it; the others say what they are."""
    from analysis.report import display

    w = _wave(tmp_path, name)
    text = display.notice(SimpleNamespace(wave=w)).data
    kind = CASES[name][2]
    assert ("*calibrated synthetic replica*" in text) == (kind == "calibrated")
    assert ("*uncalibrated synthetic replica*" in text) == (kind == "uncalibrated")
    assert ("Synthetic data" in text) == (kind is not None)
    # a synthetic wave's notice is a warning (coloured, titled so), never a plain note
    assert text.startswith(":::{warning}\n**Synthetic data.**") == (kind is not None)
    assert text.endswith("\n:::") == (kind is not None)
    if kind == "other":
        assert "replica" not in text and "reproduce the figures" not in text


@pytest.mark.parametrize("name", ["cal-wave", "uncal-wave", "foreign-wave", "bare-wave"])
def test_the_methods_page_says_calibrated_only_for_a_calibrated_replica(tmp_path, name):
    """methods.wave_paragraph: the replica's generator and seed for a replica; 'then calibrated' only
    when calibrated; another synthetic wave is described by its own title, not by our generator."""
    from analysis.report.pages import methods

    w = _wave(tmp_path, name)
    text = methods.wave_paragraph(SimpleNamespace(wave=w))
    kind = CASES[name][2]
    assert ("then calibrated so that the estimators reproduce" in text) == (kind == "calibrated")
    assert ("not calibrated: its estimates need not reproduce" in text) == (kind == "uncalibrated")
    if kind == "other":
        assert "analysis/replica.py" not in text and "seed 20200601" not in text
        assert f"Test wave {name}" in text and "*synthetic*" in text and f"Source: made for {name}" in text
    else:
        assert "analysis/replica.py" in text and "seed 7)" in text


@pytest.mark.parametrize("name", ["cal-wave", "uncal-wave"])
def test_the_survey_page_says_the_regional_degrees_were_calibrated_only_when_they_were(tmp_path, name):
    """survey.facts_and_assumptions: the replica's last assumption follows its calibration."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import survey

    st = build_study(_wave(tmp_path, name))
    row = survey.facts_and_assumptions(st).iloc[-1]
    assert row.iloc[0] == "regional degrees"
    if name == "cal-wave":
        assert row.iloc[2] == "calibrated to reproduce them within their printed rounding"
    else:
        assert row.iloc[2] == "drawn from the replica's latent model, not calibrated to them"


@pytest.mark.parametrize("name", list(CASES))
def test_the_landing_page_names_the_kind_of_wave(tmp_path, name):
    """intro.numbers: wave_kind, the phrase the landing page glues after the wave's id."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import intro

    kind = intro.numbers(build_study(_wave(tmp_path, name)))["wave_kind"]
    assert kind == {"calibrated": "a calibrated synthetic replica of the seed study's survey",
                    "uncalibrated": "an uncalibrated synthetic replica of the seed study's survey",
                    "other": "synthetic microdata", None: "survey microdata"}[CASES[name][2]]


@pytest.fixture
def outside_git(monkeypatch):  # type: ignore[no-untyped-def]
    """git finds no repository (as in a copy of the project without .git): the cached commit forgotten."""
    monkeypatch.setenv("GIT_DIR", str(paths.ROOT / "no-such-git-dir"))
    provenance.git_commit.cache_clear()
    yield
    provenance.git_commit.cache_clear()


def test_outside_git_the_state_of_the_code_is_unknown_not_clean(outside_git):
    """git_commit outside a checkout: ('unknown', None); the footers' label carries no '+dirty'."""
    assert provenance.git_commit() == ("unknown", None)
    assert provenance.commit_label() == "unknown"


def test_the_appendix_says_unknown_for_the_work_tree_outside_git(outside_git):
    """reproducibility.tables: the work tree row reads 'unknown', not 'clean'."""
    from analysis.report.pages import reproducibility

    st = SimpleNamespace(wave=SimpleNamespace(id="w1", sha256="ab" * 32, file_hashes={"wave.yml": "cd" * 32}),
                         settings=SimpleNamespace(sha256={}))
    values = list(reproducibility.tables(st)["commit"]["value"])
    assert values[:2] == ["unknown", "unknown"]


def test_inside_git_the_work_tree_is_said_clean_or_modified():
    """In this checkout git_commit gives a 12-digit commit and a bool (the state is known)."""
    if not (paths.ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    provenance.git_commit.cache_clear()
    try:
        sha, dirty = provenance.git_commit()
    finally:
        provenance.git_commit.cache_clear()
    assert len(sha) == 12 and isinstance(dirty, bool)


def test_the_answer_for_another_folder_is_not_given_for_the_project(tmp_path, monkeypatch):
    """git is asked once per project folder: after a test (or a caller) pointed the project at a
    folder outside git, the checkout's own commit and state are still its own, not 'unknown'."""
    if not (paths.ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    provenance.git_commit.cache_clear()
    real = provenance.git_commit()
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert provenance.git_commit() == ("unknown", None)
    monkeypatch.undo()
    assert provenance.git_commit() == real and real[0] != "unknown"
    provenance.git_commit.cache_clear()
