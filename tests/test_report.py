"""The report as a reader and a rebuilder meet it: offline HTML, pages that load with their
numbers, images and links; cache behaviour; failures that name the page and keep the old report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import paths
from analysis.build import _pages, build_book
from analysis.cli import app
from tests.conftest import DEFAULT, tree_hashes

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HTML = paths.BUILD / paths.DEFAULT_WAVE / "html"


@pytest.fixture(scope="module")
def built() -> Path:
    assert build_book(paths.DEFAULT_WAVE) == 0          # a no-op when the report is up to date
    return HTML


def _executed(log: Path) -> int:
    return len(re.findall(r"Executing notebook", log.read_text(encoding="utf-8")))


def test_every_page_of_the_toc_is_built(built):
    for page in _pages():
        assert (built / f"{page}.html").exists(), page


def test_offline_no_external_script_or_stylesheet(built):
    pattern = re.compile(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", re.I)
    for f in built.rglob("*.html"):
        assert not pattern.search(f.read_text(encoding="utf-8")), f
    assert (built / "_static" / "mathjax" / "tex-mml-chtml.js").exists()


def test_manifest(built):
    m = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    from analysis.wave import load_wave

    w = load_wave()
    assert m["wave"]["sha256"] == w.sha256 and m["wave"]["synthetic"] is True
    assert set(m["pages"]) == set(_pages())
    assert all(p["succeeded"] for p in m["pages"].values())
    assert "data/codebook.yml" in m["config"] and m["versions"]["statsmodels"]


def test_no_change_rebuild_executes_no_page(built, tmp_path):
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "again", force=True) == 0
    assert _executed(tmp_path / "again" / "build.log") == 0


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium not installed (apt-get install chromium)")
def test_pages_as_a_reader_sees_them(built):
    from playwright.sync_api import sync_playwright

    res = CliRunner().invoke(app, ["index", "2020-replica", "--by", "region", "--format", "json"])
    regions = {r["domain"]: r["estimate"] for r in json.loads(res.output)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        for name in _pages():
            f = built / f"{name}.html"
            page.goto(f.as_uri())
            assert page.title(), name
            broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
            assert broken == [], (name, broken)
            for href in page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"):
                if href.startswith(("http", "mailto:", "#", "javascript:")):
                    continue
                target = (f.parent / href.split("#")[0]).resolve()
                assert target.exists(), (name, href)
        page.goto((built / "book/intro.html").as_uri())
        text = page.inner_text("main")
        for region, value in regions.items():
            assert f"{value:.2f} %" in text, region
        assert "calibrated synthetic replica" in text
        browser.close()


def test_touching_a_wave_file_reexecutes_and_other_waves_stay_identical(built, tmp_path):
    before = tree_hashes(HTML)
    copy = tmp_path / "copy"
    shutil.copytree(DEFAULT, copy)
    out = tmp_path / "out"
    assert build_book(str(copy), out) == 0
    assert _executed(out / "build.log") == 0            # identical files: the execution cache is reused
    assert tree_hashes(HTML) == before                  # the default wave's report is untouched
    with open(copy / "README.md", "a", encoding="utf-8") as fh:
        fh.write("\nA note added by a test.\n")
    assert build_book(str(copy), out) == 0
    assert _executed(out / "build.log") == len(_pages())
    assert tree_hashes(HTML) == before


def test_a_failing_page_is_named_and_the_previous_report_kept(scratch_root):
    (scratch_root / "book" / "broken.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n  language: python\n---\n# Broken\n\n```{code-cell} ipython3\n"
        "raise RuntimeError('deliberate failure')\n```\n", encoding="utf-8")
    (scratch_root / "_toc.yml").write_text("format: jb-book\nroot: book/rerun\nchapters:\n  - file: book/broken\n",
                                           encoding="utf-8")
    old = scratch_root / "_build" / paths.DEFAULT_WAVE / "html"
    old.mkdir(parents=True)
    (old / "index.html").write_text("previous good report", encoding="utf-8")
    env = {**os.environ, "RURALGOV_ROOT": str(scratch_root)}
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "build"], cwd=scratch_root, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "page failed: book/broken.md" in proc.stderr.replace("\n", "")
    assert "deliberate failure" in proc.stderr.replace("\n", " ")
    assert (old / "index.html").read_text(encoding="utf-8") == "previous good report"
