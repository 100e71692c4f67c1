"""Shared fixtures: a scratch copy of the default wave, small malformed waves, the CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths

DEFAULT = paths.WAVES / paths.DEFAULT_WAVE


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every test session starts cold. The package memoises loaded waves, settings and studies in
    the process; a mutation tool runs many test sessions in one process, and a result memoised by
    an earlier session (computed by unmutated code) would hide the mutant under test."""
    import functools

    for name, module in list(sys.modules.items()):
        if name == "analysis" or name.startswith("analysis."):
            for obj in list(vars(module).values()):
                if isinstance(obj, functools._lru_cache_wrapper):
                    obj.cache_clear()
    memo = getattr(sys.modules.get("analysis.report.context"), "_MEMO", None)
    if memo is not None:
        memo.clear()


def shared(fixture_name: str, config: pytest.Config) -> str:
    """Scope of a fixture whose estimates a module's tests share: the module, except while a
    mutation tool maps the package's functions to the tests that call them (mutmut sets
    MUTANT_UNDER_TEST=stats): then each test computes its own, so that every test reading a
    result is mapped to the code that computed it, not only the first test that asked."""
    return "function" if os.environ.get("MUTANT_UNDER_TEST") == "stats" else "module"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``ruralgov`` in a subprocess (as a user would) and capture its output."""
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], capture_output=True,
                          text=True, cwd=cwd or paths.ROOT, env={**os.environ, **(env or {})})


def rerun_r_reference(script: str, stored: pd.DataFrame, tmp_path: Path, rtol: float,
                      optimised: tuple[str, float] | None = None) -> None:
    """Run an R reference script into a temporary file and compare with the stored references
    (skipped where Rscript is not installed). ``optimised``: (a prefix of the ``model`` column, a
    looser rtol) for the rows an iterative optimiser produced, whose last digits depend on the
    machine's floating point."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (apt-get install r-base-core r-cran-survey ...; see README)")
    out = tmp_path / "ref.csv"
    run = subprocess.run(["Rscript", script, str(out)], cwd=paths.ROOT, capture_output=True, text=True)
    if run.returncode and "there is no package called" in run.stderr:
        missing = next(line for line in run.stderr.splitlines() if "there is no package called" in line)
        pytest.skip(f"{script}: {missing.strip()} (see README for the R packages)")
    assert run.returncode == 0, f"{script} failed:\n{run.stderr}"
    fresh = pd.read_csv(out)
    loose = np.zeros(len(stored), bool) if optimised is None else stored["model"].str.startswith(optimised[0])
    pd.testing.assert_frame_equal(fresh[~loose], stored[~loose], rtol=rtol)
    if loose.any():
        pd.testing.assert_frame_equal(fresh[loose], stored[loose], rtol=optimised[1])


NOTEBOOK_HEADER = ("---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
                   "  name: python3\n  display_name: Python 3\n  language: python\n---\n")
"""The front matter that makes a MyST page a notebook."""


def scratch_page(root: Path, name: str, code: str) -> None:
    """Make a project copy's book a single extra page ``name`` running ``code`` (after rerun)."""
    (root / "book" / f"{name}.md").write_text(
        f"{NOTEBOOK_HEADER}# {name}\n\n```{{code-cell}} ipython3\n{code}\n```\n", encoding="utf-8")
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: book/rerun\nchapters:\n  - file: book/{name}\n",
                                   encoding="utf-8")


def tree_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder (relative path → hash)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def default_frames() -> dict[str, pd.DataFrame]:
    """The default wave's raw files read as text (as a field team's file would be)."""
    return {q: pd.read_csv(DEFAULT / f"{q}.csv", dtype=str, keep_default_na=False)
            for q in ("villagers", "institutions")}


@pytest.fixture
def make_wave(tmp_path: Path):
    """Write a small wave folder: ``make_wave(villagers_df, name=..., **wave_yml_overrides)``."""

    def _make(villagers: pd.DataFrame | bytes | None = None, *, institutions: pd.DataFrame | None = None,
              name: str = "w", file: str = "villagers.csv", spec: dict | None = None,
              raw_yml: str | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        if isinstance(villagers, bytes):
            (folder / file).write_bytes(villagers)
        elif villagers is not None:
            villagers.to_csv(folder / file, index=False)
        qs = {"villagers": {"file": file}}
        if institutions is not None:
            institutions.to_csv(folder / "institutions.csv", index=False)
            qs["institutions"] = {"file": "institutions.csv"}
        wave = {"id": name, "title": "test wave", "questionnaires": qs,
                "design": {"weight": "weight", "strata": "province", "psu": "village_id"}}
        wave.update(spec or {})
        (folder / "wave.yml").write_text(raw_yml if raw_yml is not None else
                                         yaml.safe_dump(wave, allow_unicode=True), encoding="utf-8")
        return folder

    return _make


@pytest.fixture
def small_villagers(default_frames) -> pd.DataFrame:
    """Villagers of three provinces (two or three villages each): small and valid."""
    v = default_frames["villagers"]
    return v[v["province"].isin(["上海", "西藏", "河南"])].reset_index(drop=True)


@pytest.fixture
def small_province_wave(make_wave, small_villagers) -> Path:
    """The small wave with six respondents left in Tibet: a province below the default min_cell."""
    v = small_villagers
    tibet = v.index[v["province"] == "西藏"]
    return make_wave(v.drop(tibet[6:]))


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """A copy of the project (without build output or venv) to run commands that write."""
    dst = tmp_path / "proj"
    shutil.copytree(paths.ROOT, dst, ignore=shutil.ignore_patterns(
        "_build", ".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis"))
    return dst


def with_villagers(study, v):  # type: ignore[no-untyped-def]
    """The study over another villager frame (same rows, so the same scores and design)."""
    import dataclasses

    from analysis.ingest.wave import Wave

    w = study.wave
    return dataclasses.replace(study, wave=Wave(w.spec, {**w.data, "villagers": v}, w.report, w.codebook))


def with_spec(study, **changes):  # type: ignore[no-untyped-def]
    """The study over the same wave described otherwise in its wave.yml (``synthetic``,
    ``reproduces_seed``...): same rows, same scores and design."""
    import dataclasses

    from analysis.ingest.wave import Wave

    w = study.wave
    return dataclasses.replace(study, wave=Wave(dataclasses.replace(w.spec, **changes), w.data, w.report,
                                                w.codebook))


def withhold_the_smallest(monkeypatch, study, by: str = "province_en"):  # type: ignore[no-untyped-def]
    """A disclosure policy one respondent above the smallest domain of ``by``, set for the pages
    that apply it to domains (common, index, profile): that domain is withheld. Returns the
    respondents by domain."""
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.report.pages import common, index, profile

    n = study.villagers.groupby(by).size()
    pol = DisclosurePolicy(min_cell=int(n.min()) + 1)
    for module in (common, index, profile):
        monkeypatch.setattr(module, "policy", lambda st: pol)
    return n


def chinese_headers(df: pd.DataFrame, q: str) -> pd.DataFrame:
    """A questionnaire's frame headed as a field team's file in Chinese: each item under its first
    alias, or its Chinese text where it has none."""
    from analysis.ingest.codebook import load_codebook

    zh = {it.id: (it.aliases[0] if it.aliases else it.text_zh) for it in load_codebook().items(q)}
    return df.rename(columns=zh)
