"""The corpus of malformed waves (tests/data/bad_waves/cases.yml): each gives a clear message
naming file, row, column and rule, the expected exit code, and writes nothing anywhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from analysis import paths
from analysis.cli import app
from analysis.ingest.validate import validate_wave
from tests.conftest import tree_hashes

CORPUS = Path(__file__).parent / "data" / "bad_waves"
CASES = yaml.safe_load((CORPUS / "cases.yml").read_text(encoding="utf-8"))["cases"]
runner = CliRunner()


def test_the_corpus_is_large_enough():
    assert sum(c["expect"]["exit"] == 1 for c in CASES) >= 30
    assert all(c["description"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, tmp_path, monkeypatch):
    folder = CORPUS / case["name"]
    exp = case["expect"]
    before = tree_hashes(folder)
    build_before = tree_hashes(paths.BUILD) if paths.BUILD.exists() else {}
    report, _ = validate_wave(folder)
    sev = exp.get("severity", "error")
    if exp["exit"] == 1:
        assert not report.ok
    else:
        assert report.ok, [str(p) for p in report.errors]
    if "rule" in exp:
        def matches(p) -> bool:  # type: ignore[no-untyped-def]
            return (p.rule == exp["rule"] and p.severity == sev
                    and all(getattr(p, k) == exp[k] for k in ("file", "row", "column") if k in exp)
                    and exp.get("message", "") in p.message)

        assert any(matches(p) for p in report.problems), [str(p) for p in report.problems]
    # the command line: same verdict, and nothing written
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == exp["exit"], res.output
    if exp["exit"] == 1:
        out = tmp_path / "out"
        assert runner.invoke(app, ["build", str(folder), "--out", str(out)]).exit_code == 1
        assert not out.exists()
        assert (tree_hashes(paths.BUILD) if paths.BUILD.exists() else {}) == build_before
    assert list(tmp_path.iterdir()) == []
    assert tree_hashes(folder) == before               # raw data are read-only


def test_formula_cells_never_reach_an_exported_csv_unescaped(tmp_path):
    folder = CORPUS / "ok_formula_in_id"
    out = tmp_path / "scores.csv"
    res = runner.invoke(app, ["index", str(folder), "--scores", str(out), "--format", "csv"])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    assert not any(line.startswith("=") or ",=" in line for line in text.splitlines())


def test_corpus_files_are_what_the_generator_writes(tmp_path):
    """Regenerating the corpus gives the committed bytes (the generator is the source)."""
    import shutil
    import subprocess
    import sys

    copy = tmp_path / "bad_waves"
    shutil.copytree(CORPUS, copy)
    subprocess.run([sys.executable, str(copy / "make_corpus.py")], check=True, cwd=paths.ROOT,
                   capture_output=True)

    def digest(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
                and not p.name.endswith((".xlsx", ".sav", ".dta"))}   # binary writers stamp times

    assert digest(copy) == digest(CORPUS)


def test_results_cached_for_the_pages_follow_the_study_they_are_given():
    """Results computed once for the pages are keyed by the study (wave, settings, construction)."""
    from analysis.estimation.study import build_study
    from analysis.report import context

    other = build_study(CORPUS / "ok_extra_columns")
    default = build_study("2020-replica")
    a = context.cached("n", other, lambda: other.n)
    b = context.cached("n", default, lambda: default.n)
    assert (a, b) == (len(other.villagers), 1160) and other.key != default.key


def test_changing_a_wave_s_frame_never_changes_the_wave():
    from analysis.ingest.wave import load_wave

    w = load_wave("2020-replica")
    before = w.data["villagers"].copy(deep=True)
    v = w.villagers
    v.loc[0, "sex"] = 99.0                                # in place, on the returned frame
    v["education"] *= 0
    v["new_column"] = 1.0
    del v["weight"]
    pd.testing.assert_frame_equal(w.villagers, before)
    assert w.villagers is not w.villagers                 # a new frame on every access
