"""The report as a reader and a rebuilder meet it: offline HTML, pages that load with their
numbers, images and links; cache behaviour; failures that name the page and keep the old report."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import paths
from analysis.report.build import STAMP, _pages, build_book, execution_cache_key
from analysis.cli import app
from tests.conftest import DEFAULT, scratch_page, tree_hashes

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HTML = paths.BUILD / paths.DEFAULT_WAVE / "html"
ZH = paths.BUILD / paths.DEFAULT_WAVE / "zh" / "html"


@pytest.fixture(scope="module")
def built() -> Path:
    # both editions, as `ruralgov build` makes them: a no-op when the report is up to date. The
    # English pages link to the Chinese ones, so both exist before any page is read (on a fresh
    # clone, `make test` without `make report` first)
    assert build_book(paths.DEFAULT_WAVE, editions=("en", "zh")) == 0
    assert build_book(paths.DEFAULT_WAVE, lang="zh", editions=("en", "zh")) == 0
    return HTML


@pytest.fixture(scope="module")
def built_zh(built) -> Path:
    assert build_book(paths.DEFAULT_WAVE, lang="zh", editions=("en", "zh")) == 0
    return ZH


def _built_pages(built: Path) -> list[str]:
    """The pages of the default wave's book in the build's order (with the generated profiles)."""
    import tempfile

    from analysis.ingest.wave import load_wave
    from analysis.report.build import book_toc
    from analysis.report.profiles import write_profiles
    from analysis.settings import dump_yaml

    with tempfile.TemporaryDirectory() as d:
        toc = book_toc(load_wave(), profiles=write_profiles(Path(d) / "profiles"))
        (Path(d) / "_toc.yml").write_text(dump_yaml(toc), encoding="utf-8")
        pages = _pages(Path(d) / "_toc.yml")
    assert all((built / f"{p}.html").exists() for p in pages)
    return pages


def _notebooks() -> set[str]:
    """The pages that run code (the glossary is plain text and executes nothing)."""
    return {p for p in _pages() if "{code-cell}" in (paths.ROOT / f"{p}.md").read_text(encoding="utf-8")}


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
    from analysis.ingest.wave import load_wave

    w = load_wave()
    assert m["wave"]["sha256"] == w.sha256 and m["wave"]["synthetic"] is True
    assert m["config"]["data/models.yml"] and m["seeds"]["sensitivity"]["draws"] == 10_000
    profiles = {p for p in _built_pages(built) if p.startswith("profiles/") and p != "profiles/profiles"}
    assert len(profiles) == 31 and "book/glossary" not in _notebooks()
    assert set(m["pages"]) == _notebooks() | profiles
    assert all(p["succeeded"] for p in m["pages"].values())
    assert "data/codebook.yml" in m["config"] and m["versions"]["statsmodels"]


def test_no_change_rebuild_executes_no_page(built, tmp_path):
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "again", force=True, pdf=False) == 0
    assert _executed(tmp_path / "again" / "build.log") == 0


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium not installed (apt-get install chromium)")
def test_pages_as_a_reader_sees_them(built):
    from playwright.sync_api import sync_playwright

    res = CliRunner().invoke(app, ["index", "2020-replica", "--by", "region", "--format", "json"])
    regions = {r["domain"]: r["estimate"] for r in json.loads(res.stdout)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        for name in _built_pages(built):
            f = built / f"{name}.html"
            page.goto(f.as_uri())
            assert page.title(), name
            broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
            assert broken == [], (name, broken)
            for href in page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"):
                if href.startswith(("http", "mailto:", "#", "javascript:", "data:")):
                    continue
                target = (f.parent / href.split("#")[0]).resolve()
                assert target.exists(), (name, href)
        page.goto((built / "book/intro.html").as_uri())
        text = page.inner_text("main")
        names = {"east": "east", "central": "centre", "west": "west"}
        for region, value in regions.items():
            assert f"{names[region]} {value:.2f}" in text, region
        assert "calibrated synthetic replica" in text
        assert "IPython.core.display" not in text         # no object repr leaks into a page
        browser.close()


def test_touching_a_wave_file_reexecutes_and_other_waves_stay_identical(built, tmp_path):
    """Without the province profiles (one template; the default build executes them): the book's
    pages alone tell whether the cache follows the wave's files. Leaving the profiles out changes
    the book's order, hence the numbers of the pages' tables: the first such build executes its
    pages; built again, with identical files, it takes them all from the cache."""
    before = tree_hashes(HTML)
    copy = tmp_path / "copy" / DEFAULT.name          # a wave's folder is named by its id
    shutil.copytree(DEFAULT, copy)
    out = tmp_path / "out"
    assert build_book(str(copy), out, pdf=False, profiles_enabled=False) == 0
    assert _executed(out / "build.log") == len(_notebooks())      # another book order
    assert build_book(str(copy), out, pdf=False, profiles_enabled=False, force=True) == 0
    assert _executed(out / "build.log") == 0            # identical files: the execution cache is reused
    assert tree_hashes(HTML) == before                  # the default wave's report is untouched
    with open(copy / "README.md", "a", encoding="utf-8") as fh:
        fh.write("\nA note added by a test.\n")
    assert build_book(str(copy), out, pdf=False, profiles_enabled=False) == 0
    assert _executed(out / "build.log") == len(_notebooks())
    assert tree_hashes(HTML) == before


def test_a_failing_page_is_named_and_the_previous_report_kept(scratch_root):
    scratch_page(scratch_root, "broken", "raise RuntimeError('deliberate failure')")
    old = scratch_root / "_build" / paths.DEFAULT_WAVE / "html"
    old.mkdir(parents=True)
    (old / "index.html").write_text("previous good report", encoding="utf-8")
    (old.parent / STAMP).write_text("{}", encoding="utf-8")
    env = {**os.environ, "RURALGOV_ROOT": str(scratch_root)}
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "build"], cwd=scratch_root, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "page failed: book/broken.md" in proc.stderr.replace("\n", "")
    assert not list((scratch_root / "_build").glob(".tmp-*"))      # no temp folder left
    assert "deliberate failure" in proc.stderr.replace("\n", " ")
    assert (old / "index.html").read_text(encoding="utf-8") == "previous good report"


def test_a_sphinx_warning_fails_the_build_and_the_previous_report_is_kept(scratch_root):
    """A page that only warns (a reference to a label defined nowhere: a broken link of the
    report) fails the build as a failing page does: warnings are errors, so a report with a
    broken link or number never replaces the previous one, and the log says which."""
    scratch_page(scratch_root, "unlinked", "x = 1")
    page = scratch_root / "book" / "unlinked.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee {ref}`no-such-label`.\n", encoding="utf-8")
    old = scratch_root / "_build" / paths.DEFAULT_WAVE / "html"
    old.mkdir(parents=True)
    (old / "index.html").write_text("previous good report", encoding="utf-8")
    (old.parent / STAMP).write_text("{}", encoding="utf-8")
    env = {**os.environ, "RURALGOV_ROOT": str(scratch_root)}
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "build", "--lang", "en", "--no-pdf"],
                          cwd=scratch_root, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "build failed" in proc.stderr.replace("\n", " ")
    assert (old / "index.html").read_text(encoding="utf-8") == "previous good report"
    log = scratch_root / "_build" / "logs" / f"{paths.DEFAULT_WAVE}-failed.log"
    assert "no-such-label" in log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def degraded(tmp_path_factory) -> Path:
    """A real-looking (not synthetic) wave lacking the institution questionnaire and the culture
    items, with one province below the disclosure threshold and a hostile title."""
    import pandas as pd
    import yaml

    folder = tmp_path_factory.mktemp("waves") / "degraded"
    folder.mkdir()
    v = pd.read_csv(DEFAULT / "villagers.csv", dtype=str, keep_default_na=False)
    v = v.drop(columns=[c for c in v.columns if c.startswith(("cs_", "csp_"))])
    tibet = v.index[v["province"] == "西藏"]
    v = v.drop(tibet[8:])                        # 8 respondents left in Tibet (< min_cell 10)
    v.to_csv(folder / "villagers.csv", index=False)
    (folder / "wave.yml").write_text(yaml.safe_dump({
        "id": "degraded", "title": "Field test <script>alert('x')</script>", "year": 2021,
        "questionnaires": {"villagers": {"file": "villagers.csv"}},
        "design": {"weight": "weight", "strata": "province", "psu": "village_id"}, "min_cell": 10},
        allow_unicode=True), encoding="utf-8")
    out = tmp_path_factory.mktemp("out") / "degraded"
    before = tree_hashes(folder)
    assert build_book(str(folder), out, pdf=False, profiles_enabled=False) == 0
    assert tree_hashes(folder) == before               # raw data untouched by a full build
    return out / "html"


def test_a_wave_without_optional_blocks_builds_and_says_so(degraded):
    problems = (degraded / "book" / "problems.html").read_text(encoding="utf-8")
    assert "Not in this wave" in problems and "township institution questionnaire" in problems
    assert "not in this wave" in problems
    det = (degraded / "book" / "determinants.html").read_text(encoding="utf-8")
    assert "Not estimated on this wave" in det and "cs_sat" in det


def test_small_cells_are_suppressed(degraded):
    index = (degraded / "book" / "index.html").read_text(encoding="utf-8")
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Tibet(?:(?!</tr>).)*</tr>", index, re.S)
    assert row is not None
    assert "‡" in row.group(0) and "fewer than 10 respondents" in index


def test_text_from_data_files_is_escaped(degraded):
    for f in degraded.rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "<script>alert" not in text, f
    assert "&lt;script&gt;alert" in (degraded / "book" / "intro.html").read_text(encoding="utf-8")


def test_no_respondent_level_rows_in_the_html(degraded):
    import pandas as pd

    ids = pd.read_csv(DEFAULT / "villagers.csv", dtype=str)["resp_id"].tolist()
    text = " ".join(f.read_text(encoding="utf-8") for f in degraded.rglob("*.html"))
    assert not any(re.search(rf"\b{i}\b", text) for i in ids[:200])


def test_a_build_killed_midway_leaves_the_previous_report(scratch_root):
    import signal
    import time

    scratch_page(scratch_root, "slow", "import time\ntime.sleep(120)")
    old = scratch_root / "_build" / paths.DEFAULT_WAVE
    (old / "html").mkdir(parents=True)
    (old / "html" / "index.html").write_text("previous good report", encoding="utf-8")
    (old / STAMP).write_text("{}", encoding="utf-8")
    before = tree_hashes(old)
    env = {**os.environ, "RURALGOV_ROOT": str(scratch_root)}
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "build", "--force"], cwd=scratch_root,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        logs = list((scratch_root / "_build").glob(".tmp-*/build.log"))
        if logs and "slow.md: Executing notebook" in logs[0].read_text(encoding="utf-8", errors="replace"):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the build never reached the slow page")
    os.killpg(proc.pid, signal.SIGKILL)                 # the whole build: CLI, Sphinx, kernel
    proc.wait()
    assert tree_hashes(old) == before                   # the previous report is intact
    assert not list((scratch_root / "_build").glob(".staging-*"))


def test_two_builds_of_the_same_inputs_are_identical_and_each_scores_the_study_once(tmp_path, monkeypatch,
                                                                                    capsys):
    """Fresh execution twice (separate caches), once with pages executed ahead two at a time and
    once by the book one after the other: identical HTML, images and manifests but for the build
    time and execution times. Every page kernel loads the build's scored study: the default
    construction of the wave is built once per build (other constructions only by the robustness
    table). Without the province profiles: one template, executed by the default report's build
    (``built``); here they would triple the time and test the same machinery."""
    a, b = tmp_path / "a", tmp_path / "b"
    traces = {out: tmp_path / f"{out.name}-trace.jsonl" for out in (a, b)}
    for out, jobs in ((a, 2), (b, 1)):
        monkeypatch.setenv("RURALGOV_TRACE", str(traces[out]))
        assert build_book(paths.DEFAULT_WAVE, out, force=True, cache_root=tmp_path / f"cache_{out.name}", pdf=False,
                          jobs=jobs, profiles_enabled=False) == 0
        # each page counted once, as executed, whether ahead of the book or by it
        assert f"pages executed: {len(_notebooks())}, taken from the cache: 0;" in capsys.readouterr().err
    assert _executed(a / "build.log") == _executed(b / "build.log") == len(_notebooks())
    log_a, log_b = ((x / "build.log").read_text(encoding="utf-8") for x in (a, b))
    # executed ahead, every page was then found in the cache under the key the book computes
    assert "Executing notebook using" not in log_a and log_a.count("Using cached notebook") == len(_notebooks())
    assert "Executing notebook ahead" not in log_b
    ha, hb = tree_hashes(a / "html"), tree_hashes(b / "html")
    # these hold execution times (the appendix's execution table, the search index of its text,
    # the PDF that prints it, when one is built); manifest.json is compared below without its times
    for timed in ("manifest.json", "book/reproducibility.html", "searchindex.js",
                  f"ruralgov-{paths.DEFAULT_WAVE}.pdf"):
        ha.pop(timed, None)
        hb.pop(timed, None)
    assert ha == hb
    strip = lambda f: re.sub(r"<table[^>]*>(?:(?!</table>).)*?(Run Time|Modified)(?:(?!</table>).)*</table>", "",  # noqa: E731
                             f.read_text(encoding="utf-8"), flags=re.S)
    assert strip(a / "html/book/reproducibility.html") == strip(b / "html/book/reproducibility.html")
    ma = json.loads((a / "html" / "manifest.json").read_text(encoding="utf-8"))
    mb = json.loads((b / "html" / "manifest.json").read_text(encoding="utf-8"))
    for m in (ma, mb):
        m.pop("build_time_utc")
        for p in m["pages"].values():
            p.pop("runtime_s")
    assert ma == mb
    assert ma["seeds"]["sensitivity"]["seed"] and ma["seeds"]["wls_region.wild"]["seed"]
    for trace in traces.values():
        events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
        default = [e for e in events if e["event"] == "index" and e["construction"]["normalisation"] == "minmax"
                   and e["construction"]["weighting"] == "equal" and e["construction"]["aggregation"] == "arithmetic"
                   and not e["construction"]["exclude_aspects"]]
        assert len(default) == 1, events
        # the seven alternative constructions of the robustness table, and the score without the
        # digital items of the model beside the headline one
        assert len(events) - len(default) == 8, events


def test_compare_builds_a_page_comparing_waves(tmp_path):
    import yaml

    from analysis.replica import write_wave

    second = tmp_path / "2022-test"
    write_wave(second, seed=2022, wave_id="2022-test", calibrate=False)
    spec = yaml.safe_load((second / "wave.yml").read_text(encoding="utf-8"))
    spec["year"] = 2022
    (second / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    before = tree_hashes(HTML) if HTML.exists() else {}
    out = tmp_path / "cmp"
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(second)], pdf=False, profiles_enabled=False) == 0
    page = (out / "html" / "book" / "compare.html").read_text(encoding="utf-8")
    assert "2020-replica" in page and "2022-test" in page and "PanelOLS" in page
    assert "Synthetic data" in page
    assert (tree_hashes(HTML) if HTML.exists() else {}) == before   # single-wave report untouched


def test_footers_follow_the_source_not_the_page(built):
    """The official-statistics tables on a synthetic wave's report say they are real data."""
    page = (built / "book" / "provinces.html").read_text(encoding="utf-8")
    notes = re.findall(r'<td class="gt_sourcenote"[^>]*>(.*?)</td>', page, re.S)
    assert notes and all("Synthetic replica" not in n for n in notes)
    assert sum("Real data: official statistics" in n for n in notes) == 2
    survey = (built / "book" / "index.html").read_text(encoding="utf-8")
    assert "Synthetic replica data: illustrates the method only." in survey


def test_every_table_carries_its_data(built):
    """Each table of a page is followed by a link holding its data as CSV, embedded in the page
    (offline), with the disclosure rule applied."""
    import io
    from urllib.parse import unquote

    import pandas as pd

    for name in _built_pages(built):
        text = (built / f"{name}.html").read_text(encoding="utf-8")
        tables = len(re.findall(r'<table class="gt_table"', text))
        links = re.findall(r'<p class="table-data"><a download="[^"]+" href="data:text/csv;charset=utf-8,([^"]+)"', text)
        assert len(links) == tables, name
        figures = len(re.findall(r'<figure class=', text))
        fig_links = re.findall(r'<span class="figure-data"><a download="figure-[^"]+" href="data:text/csv;charset=utf-8,([^"]+)"', text)
        assert len(fig_links) == figures, name
        links += fig_links
        for link in links:
            df = pd.read_csv(io.StringIO(unquote(link).lstrip("\ufeff")))
            assert len(df.columns) >= 1


def test_tables_are_numbered_in_order_and_archived(built):
    """Every table is "Table <page>.<k>" in page order, with an anchor; tables.zip holds each
    table's CSV once, and the citation page links it."""
    import zipfile

    pages = _built_pages(built)
    with zipfile.ZipFile(built / "tables.zip") as z:
        names = set(z.namelist())
    total = 0
    for i, name in enumerate(pages, start=1):
        text = (built / f"{name}.html").read_text(encoding="utf-8")
        nums = re.findall(r'<div class="numbered-table" id="table-(\d+)-(\d+)">', text)
        assert [int(a) for a, _ in nums] == [i] * len(nums), name
        assert [int(b) for _, b in nums] == list(range(1, len(nums) + 1)), name
        for a, b in nums:
            assert f"Table {a}.{b}. " in text, (name, a, b)
            assert any(n.startswith(f"{Path(name).stem}/table-{a}-{b}-") for n in names), (name, a, b)
        total += len(nums)
    assert total == len([n for n in names if "/table-" in n]) > 10
    assert any("/figure-" in n for n in names)
    assert 'href="../tables.zip"' in (built / "book" / "cite.html").read_text(encoding="utf-8")


def test_pages_load_no_thebe_and_have_a_favicon_and_a_footer(built):
    for name in _built_pages(built):
        text = (built / f"{name}.html").read_text(encoding="utf-8")
        assert "THEBE_JS_URL" not in text and "sphinx-thebe" not in text, name
        assert 'rel="icon"' in text, name
        assert "MIT licence" in text and "CC BY 4.0" in text, name


def test_key_findings_lead_the_landing_page(built):
    text = (built / "book" / "intro.html").read_text(encoding="utf-8")
    section = text[text.find('id="key-findings"'):text.find('id="headline"')]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    assert 4 <= len(items) <= 6
    for it in items:
        assert re.search(r'href="(index|problems|determinants|provinces)\.html"', it), it
        assert ("Synthetic replica" in it) != ("Real official statistics" in it), it


# ---- the report in a browser: navigation, console, alt text ---------------------------------

_ON_SCREEN = """el => {
  const r = el.getBoundingClientRect();
  for (let a = el; a; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
  }
  return r.width >= 1 && r.height >= 1 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
}"""


def _shown(page, selector: str) -> list[int]:
    return [i for i, el in enumerate(page.query_selector_all(selector)) if el.evaluate(_ON_SCREEN)]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _open(browser, url: str, w: int, h: int, log: list[str]):
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = ctx.new_page()
    page.on("console", lambda m: log.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: log.append(f"pageerror: {e}"))
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)
    return ctx, page


def test_phone_menu_and_contents_open(built, browser):
    """At 390 px the ☰ button opens the book's navigation and "On this page" the page's contents."""
    url = (built / "book" / "index.html").as_uri()
    for toggle, links in ((".primary-toggle", "nav.bd-docs-nav a"), (".secondary-toggle", "nav.page-toc a")):
        log: list[str] = []
        ctx, page = _open(browser, url, 390, 844, log)
        assert not _shown(page, links), toggle
        shown = _shown(page, toggle)
        assert shown, f"no {toggle} on screen"
        page.query_selector_all(toggle)[shown[0]].click(timeout=5000)
        page.wait_for_timeout(700)
        assert _shown(page, links), f"{toggle} did not open its panel"
        assert len(_shown(page, ".search-button-field, .search-button, form.bd-search, input[type=search]")) <= 1
        ctx.close()
        assert log == [], log


def test_desktop_sidebar_hides_and_comes_back(built, browser):
    log: list[str] = []
    ctx, page = _open(browser, (built / "book" / "index.html").as_uri(), 1366, 900, log)
    nav = "nav.bd-docs-nav a"
    assert _shown(page, nav)
    btn = page.locator(".bd-header-article .primary-toggle")
    assert btn.count() == 1
    btn.click(timeout=5000)
    page.wait_for_timeout(700)
    assert not _shown(page, nav) and page.locator("dialog[open]").count() == 0
    btn.click(timeout=5000)
    page.wait_for_timeout(700)
    assert _shown(page, nav)
    ctx.close()
    assert log == [], log


def test_every_page_loads_without_console_errors_and_images_say_what_they_show(built, browser):
    for name in _built_pages(built):
        log: list[str] = []
        ctx, page = _open(browser, (built / f"{name}.html").as_uri(), 1366, 900, log)
        alts = page.evaluate("Array.from(document.querySelectorAll('main img')).map(i => i.alt || '')")
        for alt in alts:
            assert len(alt) > 30 and not re.search(r"\.(png|svg|jpg)$|_images/|/", alt), (name, alt)
        ctx.close()
        assert log == [], (name, log)


def test_the_pdf_edition_is_the_report_with_its_numbers(built):
    """pdf/ruralgov-<wave>.pdf: many pages, every font embedded, the headline degree equal to
    the CLI's, tables numbered as in the HTML; every page's footer links it."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed (pdftotext, pdffonts)")
    pdf = built.parent / "pdf" / f"ruralgov-{paths.DEFAULT_WAVE}.pdf"
    assert pdf.is_file()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 20
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in r for r in rows), fonts      # emb column: every font embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    res = CliRunner().invoke(app, ["index", paths.DEFAULT_WAVE, "--format", "json"])
    overall = json.loads(res.stdout)[0]["estimate"]
    assert re.search(rf"modernization degree is\s+{overall:.1f}\b", text)
    html_numbers = set(re.findall(r"Table (\d+\.\d+)\. ", (built / "book" / "index.html").read_text(encoding="utf-8")))
    assert html_numbers and all(f"Table {n}." in text for n in html_numbers)
    for name in _built_pages(built):
        assert f'ruralgov-{paths.DEFAULT_WAVE}.pdf">PDF edition' in (built / f"{name}.html").read_text(encoding="utf-8")


def test_every_page_weighs_under_a_megabyte_without_its_figures(built):
    """What a page loads (its HTML, scripts, styles, fonts; not its own figures, not the PDF it
    links) stays under 1 MB: no 1.5 MB icon font script, MathJax only on a page with maths."""
    for name in _built_pages(built):
        page = built / f"{name}.html"
        text = page.read_text(encoding="utf-8")
        total = page.stat().st_size
        loaded = set(re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"#?]+)', text))
        for ref in loaded:
            f = (page.parent / ref).resolve()
            if f.is_file() and f.suffix in (".js", ".css", ".woff", ".woff2"):
                total += f.stat().st_size
        assert total < 1_000_000, (name, total)
        assert ("mathjax" in text.lower().replace("mathjax_ignore", "")) == ('class="math' in text), name


def test_profile_pages_warn_of_synthetic_data_only_where_they_show_survey_numbers(built):
    shanghai = (built / "profiles" / "shanghai.html").read_text(encoding="utf-8")
    beijing = (built / "profiles" / "beijing.html").read_text(encoding="utf-8")     # not in the replica
    assert "Synthetic data." in shanghai and "modernization degree in Shanghai is" in shanghai
    assert "Synthetic data." not in beijing and "no respondents in Beijing" in beijing


def _article(page: Path) -> str:
    """The text of a page's article (no navigation, no footer)."""
    text = page.read_text(encoding="utf-8")
    m = re.search(r"<article[^>]*>(.*)</article>", text, re.S)
    return re.sub(r"<[^>]+>", " ", m.group(1) if m else text)


def test_the_chinese_edition_has_every_page_in_chinese_with_the_same_numbers(built, built_zh):
    """Every page of the English edition exists in the Chinese one, reads Chinese, and shows the
    same decimal numbers (glued values, table cells, intervals); the headline equals the CLI's."""
    res = CliRunner().invoke(app, ["index", paths.DEFAULT_WAVE, "--format", "json"])
    overall = json.loads(res.stdout)[0]["estimate"]
    for name in _built_pages(built):
        en, zh = _article(built / f"{name}.html"), _article(built_zh / f"{name}.html")
        assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > 20, name
        number = re.compile(r"(?<![\w.])[-+−]?\d+\.\d+")
        if name != "book/reproducibility":         # it lists each page's run time in its own build
            assert Counter(number.findall(en)) == Counter(number.findall(zh)), name
    intro = _article(built_zh / "book" / "intro.html")
    assert f"{overall:.2f}" in intro and re.search(rf"现代化程度为\s+{overall:.1f}\b", intro)
    assert 'lang="zh-CN"' in (built_zh / "book" / "intro.html").read_text(encoding="utf-8")


def test_the_chinese_edition_has_no_english_prose(built_zh):
    """No run of six English words in the text of any Chinese page: everything the package writes
    (notes, reasons, test names, labels, references) is said in Chinese. Left as written: code,
    the bibliography, the seed study's own words quoted from its English text, and the
    execution table Jupyter Book draws on the reproducibility page."""
    from analysis.settings import load_settings

    quoted = load_settings().published["source"]["statements"].values()
    run = re.compile(r"(?:\b[A-Za-z][A-Za-z'’-]*\b[\s,;:()]+){6,}")
    found = {}
    for name in _built_pages(built_zh):
        page = (built_zh / f"{name}.html").read_text(encoding="utf-8")
        m = re.search(r"<article[^>]*>(.*)</article>", page, re.S)
        text = m.group(1) if m else page
        text = re.sub(r"<(pre|code|style|script)\b.*?</\1>|<div class=\"citation\".*?</div>", " ", text,
                      flags=re.S)
        if name == "book/reproducibility":
            text = re.sub(r'<table class="table">.*?Run Time.*?</table>', " ", text, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
        text = " ".join(text.split())
        for q in quoted:
            for part in re.split(r"\d[\d.,%]*", str(q)):      # the quotes' numbers are the page's
                text = text.replace(part.strip(), " ") if len(part.split()) >= 3 else text
        hits = [h.group(0) for h in run.finditer(text)]
        if hits:
            found[name] = hits[:3]
    assert not found, found


def test_every_page_links_to_itself_in_the_other_edition(built, built_zh):
    for name in _built_pages(built):
        for here, label in ((built, "中文"), (built_zh, "English")):
            page = here / f"{name}.html"
            m = re.search(r'<p class="lang-switch"><a href="([^"]+)"[^>]*>' + label, page.read_text(encoding="utf-8"))
            assert m, (name, label)
            assert (page.parent / m.group(1)).resolve() == ((built_zh if here == built else built) / f"{name}.html").resolve()


def test_a_chinese_table_on_a_phone_keeps_several_characters_a_line_in_each_column(built_zh, browser):
    """At 390 px a table of the Chinese edition scrolls sideways, and each column keeps room for
    four characters a line: Chinese may break after any character, and a squeezed column of text
    (a validation rule, a message) was drawn one character a line. A table of two columns of long
    file and column names and four of Chinese text is put into a page of the edition and measured."""
    ctx, page = _open(browser, (built_zh / "book" / "survey.html").as_uri(), 390, 844, [])
    widths = page.evaluate("""() => {
        const cell = '每层至少两个初级抽样单元'.repeat(3);
        const div = document.createElement('div');
        div.className = 'numbered-table';
        div.innerHTML = '<div class="table-scroll" style="overflow-x:auto"><table><tr>'
            + '<td>villagers_2024_follow_up.csv</td><td>respondent_interviewer</td>'
            + ('<td>' + cell + '</td>').repeat(4) + '</tr></table></div>';
        document.querySelector('article').appendChild(div);
        return [...div.querySelectorAll('td')].slice(2).map(td =>
            td.getBoundingClientRect().width / parseFloat(getComputedStyle(td).fontSize));
    }""")
    ctx.close()
    assert len(widths) == 4 and min(widths) >= 4, widths


def test_chinese_search_finds_shanghai_and_the_switch_works(built, built_zh, browser):
    # Sphinx's search page fetches each hit's page for a summary, which a browser refuses under
    # file:// (in either edition); the hits themselves come from the index
    ctx, page = _open(browser, (built_zh / "search.html").as_uri() + "?q=%E4%B8%8A%E6%B5%B7", 1366, 900, [])
    page.wait_for_selector("#search-results li", timeout=15000)
    hits = page.locator("#search-results li a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any("profiles/shanghai" in h for h in hits) and len(hits) >= 2, hits
    ctx.close()
    log: list[str] = []
    ctx, page = _open(browser, (built / "book" / "survey.html").as_uri(), 1366, 900, log)
    page.locator(".lang-switch a").click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)
    assert page.url.endswith("/zh/html/book/survey.html") and "调查" in page.title()
    ctx.close()
    assert log == [], log


def test_a_change_to_the_models_reexecutes_only_the_pages_that_declare_them(built, scratch_root):
    """``data/models.yml`` is keyed into the pages whose front matter declares it (``ruralgov:
    {reads: [models]}``), not into the whole execution cache: after a change to it the other
    pages come from the cache. The copy starts from the default report's execution cache
    (``built``), so its first build executes nothing."""
    from analysis.report.assets import ensure_mathjax

    assert ensure_mathjax()                              # fetched once, then copied: no second download
    shutil.copytree(paths.BUILD / ".assets", scratch_root / "_build" / ".assets")
    env = {**os.environ, "RURALGOV_ROOT": str(scratch_root)}
    name = f"{paths.DEFAULT_WAVE}-{execution_cache_key([DEFAULT])}"
    # the copy is no git checkout: its key holds commit 'unknown', so its cache is named otherwise
    key = subprocess.run([sys.executable, "-c", "from analysis import paths; from analysis.report.build "
                          "import execution_cache_key as k; print(k([paths.WAVES / paths.DEFAULT_WAVE]))"],
                         cwd=scratch_root, env=env, capture_output=True, text=True, check=True).stdout.strip()
    for kept, copy in ((name, f"{paths.DEFAULT_WAVE}-{key}"),
                       (f"{name}-results", f"{paths.DEFAULT_WAVE}-{key}-results")):
        shutil.copytree(paths.BUILD / ".jupyter_cache" / kept,
                        scratch_root / "_build" / ".jupyter_cache" / copy)

    def build() -> set[str]:
        proc = subprocess.run([sys.executable, "-m", "analysis.cli", "build", "--lang", "en", "--no-pdf"],
                              cwd=scratch_root, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        log = (scratch_root / "_build" / paths.DEFAULT_WAVE / "build.log").read_text(encoding="utf-8")
        return {m.split("/src/")[-1] for m in re.findall(r"(\S+\.md): Executing notebook", log)}

    assert build() == set()                              # the same inputs: every page from the cache
    # (the comparison page declares them too, but enters only a build with --compare)
    declaring = {f"book/{p.name}" for p in (scratch_root / "book").glob("*.md") if p.name != "compare.md"
                 and re.search(r"^ruralgov:\s*\n\s+reads: \[models\]", p.read_text(encoding="utf-8"), re.M)}
    assert declaring >= {"book/determinants.md", "book/intro.md"}
    models = scratch_root / "data" / "models.yml"
    models.write_text(models.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert build() == declaring
