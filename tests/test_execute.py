"""Pages executed ahead of the book, side by side (analysis.report.execute), and results the
page kernels share computed once when several ask at the same time (context.cached)."""

from __future__ import annotations

import os
import pickle
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from jupyter_cache import get_cache

from analysis.report import context
from analysis.report.execute import execute_pages, pending_pages, read_page
from tests.conftest import NOTEBOOK_HEADER


def _page(folder: Path, name: str, code: str | list[str] | None, front: str = "") -> Path:
    """A page ``name`` with one code cell (or a cell per item of a list), none for None; ``front``
    (YAML lines) is added to the notebook's front matter."""
    path = folder / f"{name}.md"
    body = f"# {name}\n\nSome text.\n"
    if code is None:
        path.write_text(body, encoding="utf-8")          # plain Markdown: not a notebook
    else:
        header = NOTEBOOK_HEADER.replace("kernelspec:", f"{front}kernelspec:", 1)
        cells = "".join(f"\n```{{code-cell}} ipython3\n{c}\n```\n" for c in ([code] if isinstance(code, str) else code))
        path.write_text(f"{header}{body}{cells}", encoding="utf-8")
    return path


def _output(cache_path: Path, page: Path) -> str:
    cache = get_cache(str(cache_path))
    record = cache.match_cache_notebook(read_page(page))
    nb = cache.get_cache_bundle(record.pk).nb
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_pages_run_in_their_folder_with_the_build_environment_and_are_cached(tmp_path):
    pages = tmp_path / "src" / "book"
    pages.mkdir(parents=True)
    sources = {
        "book/a": _page(pages, "a", "import os\nprint(os.environ['RURALGOV_TEST_MARK'], os.getcwd())"),
        "book/plain": _page(pages, "plain", None),
        "book/broken": _page(pages, "broken", "raise RuntimeError('deliberate failure')"),
    }
    cache = tmp_path / "cache"
    env = {**os.environ, "RURALGOV_TEST_MARK": "mark-123"}
    seen = []
    out = execute_pages(cache, pending_pages(cache, sources), env, jobs=2, progress=lambda p, e: seen.append((p, e)))
    assert set(out) == {"book/a", "book/broken"}                  # a page without code is not run
    assert out["book/a"][1] is None and out["book/a"][0] > 0
    assert "deliberate failure" in out["book/broken"][1]
    assert sorted(p for p, _ in seen) == ["book/a", "book/broken"]
    printed = _output(cache, sources["book/a"])
    assert "mark-123" in printed and str(pages) in printed           # its environment, its folder
    assert "RURALGOV_TEST_MARK" not in os.environ                      # this process's is untouched
    # cached under the key the book looks up; a failed page is left for the book to run and report
    assert pending_pages(cache, sources) == {"book/broken": sources["book/broken"]}
    assert set(execute_pages(cache, pending_pages(cache, sources), env, jobs=2)) == {"book/broken"}


def test_pages_run_side_by_side_up_to_jobs_at_a_time(tmp_path):
    code = ("import time, pathlib\nt0 = time.time()\ntime.sleep(1.5)\n"
            "pathlib.Path('{name}.span').write_text(f'{{t0}} {{time.time()}}')")
    sources = {f"p{i}": _page(tmp_path, f"p{i}", code.format(name=f"p{i}")) for i in range(3)}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=2)
    assert all(err is None for _, err in out.values())
    spans = sorted(tuple(map(float, (tmp_path / f"p{i}.span").read_text().split())) for i in range(3))
    overlaps = [(a0 < b1 and b0 < a1) for (a0, a1), (b0, b1) in
                [(spans[0], spans[1]), (spans[0], spans[2]), (spans[1], spans[2])]]
    assert any(overlaps)                          # two kernels ran at once
    assert not all(overlaps)                      # never three: at most jobs at a time


@pytest.mark.parametrize("order", [("models", "sensitivity", "province_replicates"),
                                   ("province_replicates", "sensitivity", "models")])
def test_each_shared_result_is_stored_under_its_own_name(tmp_path, monkeypatch, order):
    """The models, the sensitivity analysis and the rank bootstrap of one study: whichever a page
    asks for first, each page gets the result it asked for, from a fresh kernel too (the folder)."""
    from analysis.estimation import sensitivity, suite
    from analysis.report.pages import common

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(suite, "fit_models", lambda st: ("models", st.key))
    monkeypatch.setattr(sensitivity, "run_sensitivity", lambda st, rank_among: ("sensitivity", st.key))
    monkeypatch.setattr(common, "published_province_names", lambda st: [])
    monkeypatch.setattr(sensitivity, "domain_replicates", lambda st: ("province_replicates", st.key))
    st = SimpleNamespace(key="e" * 64, settings=SimpleNamespace(models="declared"))
    for memo in ({}, {}):                         # a first kernel computes, a second loads from the folder
        monkeypatch.setattr(context, "_MEMO", memo)
        for name in order:
            assert getattr(context, name)(st) == (name, st.key)
    assert len(list(tmp_path.glob("*.pkl"))) == 3


def test_a_result_that_cannot_be_stored_leaves_no_temporary_file(tmp_path, monkeypatch):
    """A result that cannot be pickled (or a write cut short) raises, and leaves neither a half
    file nor its temporary file among the build's results; the same for the study."""
    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(context, "_MEMO", {})
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        context.cached("models", SimpleNamespace(key="b" * 64), lambda: (lambda: 0))   # a lambda: no pickle
    assert [p.suffix for p in tmp_path.iterdir()] == [".lock"]
    with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
        context.save_study(SimpleNamespace(key="c" * 64, f=lambda: 0), tmp_path / "study")
    assert list((tmp_path / "study").iterdir()) == []


def test_the_study_a_build_hands_its_pages_is_its_own_not_an_earlier_build_s(tmp_path):
    """Two builds of the same wave files (the same key) from two folders: the second build's pages
    load the second study (whose wave folder they read), not the pickle the first one left."""
    first = context.save_study(SimpleNamespace(key="d" * 64, folder="waves/a"), tmp_path)
    second = context.save_study(SimpleNamespace(key="d" * 64, folder="moved/a"), tmp_path)
    assert first == second
    with open(second, "rb") as fh:
        assert pickle.load(fh).folder == "moved/a"


@pytest.mark.parametrize("folder", [False, True])
def test_a_shared_result_is_kept_for_the_kernel_s_life(tmp_path, monkeypatch, folder):
    """Asked for twice in one kernel, a result is computed (or read from the build's folder) once:
    without a folder (a page run by hand) the models are not fitted again on the second call, and
    with one the pickle is not read again."""
    import pickle

    if folder:
        monkeypatch.setenv(context.CACHE_ENV, str(tmp_path))
    else:
        monkeypatch.delenv(context.CACHE_ENV, raising=False)
    monkeypatch.setattr(context, "_MEMO", {})
    calls, loads = [], []
    real_load = pickle.load
    monkeypatch.setattr(pickle, "load", lambda fh: loads.append(1) or real_load(fh))
    st = SimpleNamespace(key="a" * 64)
    first = context.cached("x", st, lambda: calls.append(1) or {"fitted": len(calls)})
    assert context.cached("x", st, lambda: calls.append(1) or {"fitted": len(calls)}) is first
    assert calls == [1] and loads == []
    if folder:                                    # a fresh kernel reads it from the folder, once
        monkeypatch.setattr(context, "_MEMO", {})
        for _ in range(2):
            assert context.cached("x", st, lambda: calls.append(1)) == first
        assert calls == [1] and loads == [1]


def test_an_empty_cache_variable_is_no_folder_and_writes_nothing_in_the_working_folder(tmp_path,
                                                                                       monkeypatch):
    """``RURALGOV_CACHE=`` (empty) is unset, as every variable of the package: the result is
    computed in the kernel, not pickled (with its lock) into the working folder."""
    monkeypatch.setenv(context.CACHE_ENV, "")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(context, "_MEMO", {})
    assert context.cached("models", SimpleNamespace(key="d" * 64), lambda: 42) == 42
    assert list(tmp_path.iterdir()) == []


def test_a_shared_result_asked_for_at_once_is_computed_once(tmp_path, monkeypatch):
    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(context, "_MEMO", {})
    calls = []

    class Study:
        key = "f" * 64

    def compute():
        calls.append(1)
        time.sleep(0.5)
        return {"value": 42}

    results = []

    def ask():
        # each thread stands for a page kernel: its own memo, the shared folder
        results.append(context.cached("models", Study(), compute))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [{"value": 42}] * 3
    assert (tmp_path / f"{'f' * 16}-models.pkl").is_file()


# ------------------------------------------------------------------ inputs a page declares

def test_a_page_declares_in_its_front_matter_the_inputs_it_reads():
    import pytest

    from analysis.report.build import page_reads

    assert page_reads(NOTEBOOK_HEADER.replace("---\n", "---\nruralgov:\n  reads: [models]\n", 1) + "# x\n", "p") == ("models",)
    assert page_reads(NOTEBOOK_HEADER + "# x\n", "p") == ()
    assert page_reads("# a page without front matter\n", "p") == ()
    with pytest.raises(ValueError, match=r"^book/x\.md: front matter ruralgov\.reads names weights; a page may declare models$"):
        page_reads(NOTEBOOK_HEADER.replace("---\n", "---\nruralgov: {reads: [weights]}\n", 1), "book/x.md")


def _changed_by(files: dict[str, Path], digest) -> set[str]:  # type: ignore[no-untyped-def]
    """The names of the files whose edit changes ``digest()``: each written, edited and put back
    in turn (put back, the digest is the first again)."""
    for f in files.values():
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("a\n", encoding="utf-8")
    before, changed = digest(), set()
    for name, f in files.items():
        f.write_text("b\n", encoding="utf-8")
        if digest() != before:
            changed.add(name)
        f.write_text("a\n", encoding="utf-8")
    assert digest() == before
    return changed


@pytest.fixture
def outside_a_build(monkeypatch):  # type: ignore[no-untyped-def]
    """A page run by hand: no study written by a build, no inputs declared, no wave named."""
    from analysis import paths

    monkeypatch.delenv(context.STUDY_ENV, raising=False)
    monkeypatch.setattr(context, "_declared", None)
    monkeypatch.delenv(paths.WAVE_ENV, raising=False)


def _project_at(root: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """analysis.paths pointed at a project laid out under ``root`` as the package lays out its own
    (data/, its codebook and settings, data/reference/, data/external/)."""
    from analysis import paths

    data = root / "data"
    for name, value in (("ROOT", root), ("DATA", data), ("CODEBOOK", data / "codebook.yml"),
                        ("REFERENCE", data / "reference"), ("EXTERNAL", data / "external"),
                        ("INDEX_CONFIG", data / "index.yml"), ("MODELS_CONFIG", data / "models.yml")):
        monkeypatch.setattr(paths, name, value)


def test_the_inputs_hash_changes_with_each_input_the_pages_read(tmp_path, monkeypatch):
    """A change to the wave's files (its data in any format, in a subfolder too, its wave.yml), the
    codebook, a settings file, a published figure under data/reference, the official statistics or
    the map under data/external, or the package's code changes the hash (a stale page is re-executed); a
    change to an excluded file or to a file no page reads does not."""
    from analysis.report.build import inputs_hash

    root = tmp_path / "root"
    files = {"wave": root / "waves" / "w" / "villagers.csv", "wave.yml": root / "waves" / "w" / "wave.yml",
             "data (.sav)": root / "waves" / "w" / "villagers.sav",
             "data in a subfolder": root / "waves" / "w" / "raw" / "institutions.csv",
             "codebook": root / "data" / "codebook.yml",
             "settings": root / "data" / "index.yml", "excluded": root / "data" / "models.yml",
             "reference": root / "data" / "reference" / "published-figures.yml",
             "official statistics": root / "data" / "external" / "_merged" / "province_year.csv",
             "map": root / "data" / "external" / "geo" / "provinces.geojson",
             "code": root / "analysis" / "estimation" / "x.py", "unread": root / "notes" / "todo.txt"}
    _project_at(root, monkeypatch)
    wave = files["wave"].parent
    changed = _changed_by(files, lambda: inputs_hash(wave, exclude=(files["excluded"],)))
    assert changed == set(files) - {"excluded", "unread"}


def test_a_page_run_by_hand_reports_the_wave_ruralgov_wave_names(make_wave, small_villagers, monkeypatch,
                                                                   outside_a_build):
    """Outside a build (no study written for the pages), a page reads $RURALGOV_WAVE's wave, and
    the default wave without it."""
    from analysis import paths

    monkeypatch.setenv(paths.WAVE_ENV, str(make_wave(small_villagers, name="by-hand")))
    assert context.study().wave.id == "by-hand"
    monkeypatch.delenv(paths.WAVE_ENV)
    assert context.study().wave.id == paths.DEFAULT_WAVE


def test_a_comparison_page_gets_every_wave_the_build_names_in_order(make_wave, small_villagers, monkeypatch,
                                                                     outside_a_build):
    """The build names the compared waves in $RURALGOV_COMPARE joined by the path separator: the
    page gets the report's study first, then each of them."""
    from analysis import paths

    v = small_villagers
    a = make_wave(v, name="a")
    b = make_wave(v[v["province"] != "西藏"], name="b")
    monkeypatch.setenv(paths.COMPARE_ENV, os.pathsep.join([str(a), str(b)]))
    studies = context.compare_studies()
    assert [s.wave.id for s in studies] == [paths.DEFAULT_WAVE, "a", "b"]


def test_a_comparison_report_s_footer_names_the_reported_wave_not_a_compared_one(make_wave, small_villagers,
                                                                                 tmp_path, monkeypatch):
    """Every page of a comparison build belongs to the first wave named: its footer gives that
    wave's id and hash, whatever waves are compared beside it."""
    from analysis.report import assets, build

    v = small_villagers
    a = make_wave(v, name="a", spec={"year": 2018})
    b = make_wave(v[v["province"] != "西藏"], name="b", spec={"year": 2024})
    named = []

    class Stop(Exception):
        pass

    def footer(wave, repository="", lang="en"):  # type: ignore[no-untyped-def]
        named.append(wave.id)
        raise Stop
    monkeypatch.setattr(assets, "ensure_mathjax", lambda: True)
    monkeypatch.setattr(build, "footer", footer)
    with pytest.raises(Stop):
        build.build_book(str(a), tmp_path / "out", compare=[str(b)], pdf=False, profiles_enabled=False)
    assert named == ["a"]


def test_the_execution_cache_key_of_a_comparison_changes_with_each_wave_compared(tmp_path):
    """A comparison build's pages read every wave: a change to any of them is a new cache."""
    from analysis.report.build import execution_cache_key

    waves = [tmp_path / n for n in ("a", "b", "c")]
    files = {w.name: w / "villagers.csv" for w in waves}
    assert _changed_by(files, lambda: execution_cache_key(waves)) == {"a", "b", "c"}
    assert execution_cache_key(waves[:2]) != execution_cache_key(waves)


def test_the_execution_cache_key_changes_with_the_commit_the_pages_cite(tmp_path, monkeypatch):
    """Every table's footer names the commit: pages executed at one commit are not reused at
    another (nor from a clean work tree once it differs), though no input they read changed."""
    from analysis.publishing import provenance
    from analysis.report.build import execution_cache_key

    wave = tmp_path / "w"
    wave.mkdir()
    (wave / "villagers.csv").write_text("a\n1\n", encoding="utf-8")
    keys = []
    for label in ("0123456789ab", "0123456789ab+dirty", "ba9876543210", "0123456789ab"):
        monkeypatch.setattr(provenance, "commit_label", lambda label=label: label)
        keys.append(execution_cache_key([wave]))
    assert len(set(keys[:3])) == 3 and keys[3] == keys[0]


def test_the_execution_cache_key_leaves_out_the_models_alone(tmp_path, monkeypatch):
    """The cache key of a build covers the index construction (data/index.yml: every page reads
    the scores) but not the models (data/models.yml), whose hash the pages that read them carry in
    their own first cell: a change to the models re-executes those pages only."""
    from analysis.report.build import execution_cache_key

    root = tmp_path / "root"
    files = {"index": root / "data" / "index.yml", "models": root / "data" / "models.yml",
             "wave": root / "waves" / "w" / "villagers.csv"}
    _project_at(root, monkeypatch)
    assert _changed_by(files, lambda: execution_cache_key([files["wave"].parent])) == {"index", "wave"}


def test_the_book_hash_changes_with_the_configuration_a_page_and_a_translation(tmp_path, monkeypatch):
    """The stamp that says a report is current covers _config.yml, _toc.yml, every file of book/
    (pages and the bibliography they cite), every translation catalog (they live in
    locale/<language>/LC_MESSAGES/, some in a folder per page) and the report's stylesheet (an
    edit of it is a new report, not "up to date"), and nothing else."""
    from analysis import i18n, paths
    from analysis.report import sphinx_ext
    from analysis.report.build import book_hash

    root = tmp_path / "root"
    files = {"config": root / "_config.yml", "toc": root / "_toc.yml", "page": root / "book" / "intro.md",
             "bibliography": root / "book" / "references.bib",
             "catalog": root / "locale" / "zh_CN" / "LC_MESSAGES" / "ruralgov.po",
             "page catalog": root / "locale" / "zh_CN" / "LC_MESSAGES" / "book" / "intro.po",
             "stylesheet": root / "static" / "ruralgov.css", "unread": root / "notes.txt"}
    monkeypatch.setattr(sphinx_ext, "STATIC", root / "static")
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "BOOK", root / "book")
    monkeypatch.setattr(i18n, "LOCALE", root / "locale")
    assert _changed_by(files, book_hash) == set(files) - {"unread"}


def test_the_declared_inputs_hashes_key_the_page_in_the_execution_cache(tmp_path):
    """The build writes a cell before a page's first code cell naming what the page declares,
    with the hashes: a page declaring models gets a new cache key when models.yml changes, a
    page declaring nothing keeps its key."""
    from jupyter_cache import get_cache

    from analysis.report.build import declare_inputs

    cache = get_cache(str(tmp_path / "cache"))

    def key(text: str, models_sha: str) -> tuple[str, str]:
        path = tmp_path / "page.md"
        path.write_text(text, encoding="utf-8")
        declare_inputs(path, {"models": models_sha}, "page.md")
        written = path.read_text(encoding="utf-8")
        return cache.create_hashed_notebook(read_page(path))[1], written

    body = "# Title\n\nProse.\n\n```{code-cell} ipython3\nx = 1\n```\n"
    reads = NOTEBOOK_HEADER.replace("---\n", "---\nruralgov:\n  reads: [models]\n", 1) + body
    k1, written = key(reads, "a" * 64)
    k2, _ = key(reads, "b" * 64)
    assert k1 != k2
    assert written.index("_context.page_inputs(('models',))  # models:" + "a" * 16) < written.index("x = 1")
    assert written.index("# Title") < written.index(":tags: [remove-cell]")     # after the title
    n1, plain = key(NOTEBOOK_HEADER + body, "a" * 64)
    n2, _ = key(NOTEBOOK_HEADER + body, "b" * 64)
    assert n1 == n2 and "_context.page_inputs(())" in plain
    path = tmp_path / "text.md"
    path.write_text("# Only prose\n", encoding="utf-8")
    declare_inputs(path, {"models": "a" * 64}, "text.md")
    assert path.read_text(encoding="utf-8") == "# Only prose\n"


def test_a_page_reads_the_models_settings_only_if_it_declares_them(monkeypatch):
    import pytest

    monkeypatch.setattr(context, "_declared", None)
    context.page_inputs(())
    st = context.study()
    assert st.settings.index is not None and st.n > 0          # everything else is there
    with pytest.raises(context.UndeclaredInput, match=r"reads data/models\.yml without declaring it: add "
                                                      r"`ruralgov: \{reads: \[models\]\}` to its front matter"):
        st.settings.models.models
    context.page_inputs(("models",))
    assert context.study().settings.models.models


def test_pages_executed_ahead_are_logged_as_they_start_and_end(tmp_path):
    """The build log shows a page while it runs (a user following the log, a build killed
    midway) and how it ended; the kernels' warnings go there, not to the terminal."""
    sources = {"a": _page(tmp_path, "a", "import sys\nprint('to the kernel stderr', file=sys.stderr)"),
               "b": _page(tmp_path, "b", "raise ValueError('no')")}
    log = tmp_path / "build.log"
    log.write_text("earlier line\n", encoding="utf-8")
    execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=2, log=log)
    text = log.read_text(encoding="utf-8")
    assert text.startswith("earlier line\n")                           # appended
    assert f"{sources['a']}: Executing notebook ahead" in text and f"{sources['b']}: Executing notebook ahead" in text
    assert f"{sources['a']}: Executed notebook in " in text
    assert f"{sources['b']}: failed ahead (ValueError: no); executed again by the book" in text


def test_a_worker_sends_both_its_output_streams_and_its_kernels_to_the_build_log(tmp_path):
    """A worker executing pages ahead writes its standard output and error (which the kernels
    it starts inherit: their warnings) into the build log, appended, not over the progress bar."""
    import subprocess
    import sys

    from analysis import paths

    log = tmp_path / "build.log"
    log.write_text("earlier line\n", encoding="utf-8")
    kernel = tmp_path / "kernel.py"
    kernel.write_text("import sys\nprint('a kernel warns', file=sys.stderr)\n", encoding="utf-8")
    worker = tmp_path / "worker.py"
    worker.write_text(
        "import os, subprocess, sys\nfrom analysis.report.execute import _set_env\n"
        f"_set_env(dict(os.environ), {str(log)!r})\n"
        "os.write(1, b'to its output\\n')\nos.write(2, b'to its error\\n')\n"
        f"subprocess.run([sys.executable, {str(kernel)!r}])\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(worker)], cwd=paths.ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(paths.ROOT)})     # this checkout's package
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")                          # nothing on the terminal
    assert log.read_text(encoding="utf-8") == "earlier line\nto its output\nto its error\na kernel warns\n"


def test_pages_of_one_template_share_a_kernel_yet_start_as_in_their_own(tmp_path):
    """Pages marked ``shared`` run one after the other in one kernel: each finds an empty
    namespace (a name the previous page defined is undefined) and has the outputs and cache
    entry a kernel of its own gives it."""
    shared_dir, own_dir = tmp_path / "shared" / "profiles", tmp_path / "own" / "profiles"
    code = {
        "a": "import os\nx = 1\nprint('a', os.getpid(), os.getcwd())",
        "b": "print(x)",
        "c": "import os\nprint('c', os.getpid())\nprint(sorted(k for k in globals() if not k.startswith('_')))",
    }
    srcs = {}
    for folder in (shared_dir, own_dir):
        folder.mkdir(parents=True)
        srcs[folder] = {f"profiles/{n}": _page(folder, n, c) for n, c in code.items()}
    env = dict(os.environ)
    out = execute_pages(tmp_path / "cache-s", srcs[shared_dir], env, jobs=1, shared=frozenset(srcs[shared_dir]))
    assert out["profiles/a"][1] is None and out["profiles/c"][1] is None
    assert out["profiles/b"][1] == "NameError: name 'x' is not defined"       # nothing left from page a
    shared = {n: _output(tmp_path / "cache-s", srcs[shared_dir][f"profiles/{n}"]) for n in ("a", "c")}
    pid = shared["a"].split()[1]
    assert shared["c"].split()[1] == pid                                       # one kernel for the group
    assert str(shared_dir) in shared["a"]                                      # in the pages' folder
    # the same pages each in a kernel of its own: the same outputs, apart from the process id
    execute_pages(tmp_path / "cache-o", srcs[own_dir], env, jobs=1)
    own = {n: _output(tmp_path / "cache-o", srcs[own_dir][f"profiles/{n}"]) for n in ("a", "c")}
    names = shared["c"].splitlines()[1]
    assert names == own["c"].splitlines()[1] and "'os'" in names and "'x'" not in names
    assert own["a"].split()[0] == shared["a"].split()[0] == "a"


def test_the_page_after_a_timed_out_page_of_a_shared_kernel_runs_in_a_new_kernel(tmp_path):
    """A cell stopped at its page's time limit may still be running in the kernel: the next page
    of the group runs in another kernel (another process), not queued behind that cell."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    pid = "import os, pathlib\npathlib.Path('{0}.pid').write_text(str(os.getpid()))"
    sources = {"profiles/a": _page(folder, "a", [pid.format("a"), "import time; time.sleep(60)"],
                                   "mystnb:\n  execution_timeout: 2\n"),
               "profiles/b": _page(folder, "b", pid.format("b"))}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1, shared=frozenset(sources))
    assert out["profiles/a"][1].startswith("CellTimeoutError") and out["profiles/b"][1] is None
    assert (folder / "a.pid").read_text() != (folder / "b.pid").read_text()


def test_a_warning_shown_by_one_page_shows_again_in_the_next_page_of_a_shared_kernel(tmp_path):
    """Python shows a warning once per place in a module: the second page calling the same
    library function would not show it without the kernel's record of warnings cleared."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "library.py").write_text("import warnings\n\ndef f():\n    warnings.warn('shown on every page')\n",
                                       encoding="utf-8")
    code = "import library\nlibrary.f()"
    sources = {f"profiles/{n}": _page(folder, n, code) for n in ("a", "b")}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1, shared=frozenset(sources))
    assert all(err is None for _, err in out.values())
    cache = get_cache(str(tmp_path / "cache"))
    for path in sources.values():
        nb = cache.get_cache_bundle(cache.match_cache_notebook(read_page(path)).pk).nb
        assert any("shown on every page" in o.get("text", "") for c in nb.cells for o in c.get("outputs", [])), path


@pytest.mark.parametrize("shared", [False, True])
def test_a_page_that_allows_errors_is_executed_ahead_with_its_errors_as_myst_nb_would(tmp_path, shared):
    """A page's ``mystnb: execution_allow_errors: true`` (or the book's ``execute.allow_errors``)
    holds for the execution ahead too: its error is an output, its later cells run, and the page
    is cached; a page without it still fails and is left to the book. A page's own
    ``execution_timeout`` is its cells' limit; the notebook's ``execution: allow_errors`` holds over
    the page's ``mystnb`` settings, as in myst-nb."""
    pages = tmp_path / "book"
    pages.mkdir()
    raising, after = "raise RuntimeError('shown, not fatal')", "print('after the error')"
    sources = {"book/allows": _page(pages, "allows", [raising, after], "mystnb:\n  execution_allow_errors: true\n"),
               "book/meta": _page(pages, "meta", [raising + "  # meta", after],
                                  "execution:\n  allow_errors: true\nmystnb:\n  execution_timeout: 5\n"),
               "book/strict": _page(pages, "strict", [raising + "  # strict", after]),   # not the same cells
               "book/slow": _page(pages, "slow", ["import time; time.sleep(30)", after],
                                  "mystnb:\n  execution_timeout: 2\n")}
    kw = {"shared": frozenset(sources)} if shared else {}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1, **kw)
    assert out["book/allows"][1] is None and out["book/strict"][1].startswith("RuntimeError: shown, not fatal")
    assert out["book/meta"][1] is None                   # the notebook's execution: allow_errors holds
    assert out["book/slow"][1] is not None and out["book/slow"][0] < 20       # stopped at its own 2 s
    assert "after the error" in _output(tmp_path / "cache", sources["book/allows"])
    assert set(pending_pages(tmp_path / "cache", sources)) == {"book/strict", "book/slow"}
    book_wide = execute_pages(tmp_path / "cache2", {"book/strict": sources["book/strict"]}, dict(os.environ),
                              jobs=1, allow_errors=True, **({"shared": frozenset({"book/strict"})} if shared else {}))
    assert book_wide["book/strict"][1] is None


def test_page_execution_reads_the_page_s_settings_over_the_book_s():
    from nbformat import from_dict

    from analysis.report.execute import page_execution

    def nb(meta):  # noqa: ANN001, ANN202
        return from_dict({"metadata": meta, "cells": [], "nbformat": 4, "nbformat_minor": 5})

    assert page_execution(nb({}), 600, False) == (600, False)
    assert page_execution(nb({}), 600, True) == (600, True)
    assert page_execution(nb({"execution": {"timeout": 90}}), 600, False) == (90, False)
    # the notebook's execution: {timeout, allow_errors} over the page's mystnb settings, as
    # jupyter-cache's meta_override (which myst-nb sets) has it
    assert page_execution(nb({"mystnb": {"execution_timeout": 30, "execution_allow_errors": True},
                              "execution": {"timeout": 90}}), 600, False) == (90, True)
    assert page_execution(nb({"mystnb": {"execution_timeout": 30, "execution_allow_errors": False},
                              "execution": {"allow_errors": True}}), 600, False) == (30, True)
    assert page_execution(nb({"execution": {"allow_errors": False}}), 600, True) == (600, False)
    # a timeout of null is none (nbclient's and jupyter-cache's reading), not a crash of the build
    assert page_execution(nb({"execution": {"timeout": None}}), 600, False) == (None, False)
    assert page_execution(nb({"mystnb": {"execution_allow_errors": False}}), 600, True) == (600, False)


def _flaky_kernel(folder: Path, failures: int) -> dict:
    """An environment whose kernelspec ``flaky`` dies at its first ``failures`` starts (each start
    takes one token), as a kernel that lost the race for its port does; the others are python3."""
    import json
    import sys

    tokens = folder / "tokens"
    tokens.mkdir()
    for i in range(failures):
        (tokens / f"t{i}").touch()
    launcher = folder / "launcher.py"
    launcher.write_text(
        "import os, sys, pathlib\n"
        f"for t in sorted(pathlib.Path({str(tokens)!r}).iterdir()):\n"
        "    try:\n        t.unlink()\n    except FileNotFoundError:\n        continue\n"
        "    sys.exit(1)                                  # dies before it answers\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', *sys.argv[1:]])\n",
        encoding="utf-8")
    spec = folder / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": [sys.executable, str(launcher), "-f", "{connection_file}"], "display_name": "Flaky",
         "language": "python"}), encoding="utf-8")
    return {**os.environ, "JUPYTER_PATH": str(folder / "jupyter")}


def _flaky_page(folder: Path, name: str, code: str) -> Path:
    path = _page(folder, name, code)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: python3", "name: flaky"), encoding="utf-8")
    return path


@pytest.mark.parametrize("shared", [False, True])
def test_a_kernel_that_dies_before_it_answers_is_replaced(tmp_path, shared):
    env = _flaky_kernel(tmp_path, failures=2)
    pages = tmp_path / "book"
    pages.mkdir()
    sources = {f"p{i}": _flaky_page(pages, f"p{i}", f"print('page {i} ran')") for i in range(2)}
    log = tmp_path / "build.log"
    out = execute_pages(tmp_path / "cache", sources, env, jobs=2, log=log,
                        shared=frozenset(sources) if shared else frozenset())
    assert {p: err for p, (_, err) in out.items()} == {"p0": None, "p1": None}
    assert not list((tmp_path / "tokens").iterdir())                  # two starts did fail
    assert log.read_text(encoding="utf-8").count("died before it answered") == 2
    assert all(f"page {i} ran" in _output(tmp_path / "cache", sources[f"p{i}"]) for i in range(2))


@pytest.mark.parametrize("shared", [False, True])
def test_a_kernel_that_never_starts_is_the_pages_error_not_the_builds(tmp_path, shared):
    from analysis.report.execute import KERNEL_STARTS

    env = _flaky_kernel(tmp_path, failures=KERNEL_STARTS + 5)
    sources = {"p": _flaky_page(tmp_path, "p", "print(1)")}
    out = execute_pages(tmp_path / "cache", sources, env, jobs=1,
                        shared=frozenset(sources) if shared else frozenset())
    assert "Kernel died before replying to kernel_info" in out["p"][1]
    assert len(list((tmp_path / "tokens").iterdir())) == 5         # tried KERNEL_STARTS times, no more
    assert pending_pages(tmp_path / "cache", sources) == sources              # left for the book to run


@pytest.mark.parametrize("shared", [False, True])
def test_a_kernel_that_dies_under_a_cell_fails_its_page_and_the_next_page_gets_another(tmp_path, shared):
    sources = {"a": _page(tmp_path, "a", "import os\nos._exit(1)"),
               "b": _page(tmp_path, "b", "print('b ran')")}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1,
                        shared=frozenset(sources) if shared else frozenset())
    assert out["a"][1] is not None and "died" in out["a"][1].lower()
    assert out["b"][1] is None and "b ran" in _output(tmp_path / "cache", sources["b"])


@pytest.mark.parametrize("shared", [False, True])
def test_the_book_s_cell_timeout_holds_for_a_page_without_its_own(tmp_path, shared):
    """``execute.timeout`` of the book, given to execute_pages, stops a page that sets none, in its
    own kernel or in a shared one."""
    pages = tmp_path / "book"
    pages.mkdir()
    sources = {"book/slow": _page(pages, "slow", "import time; time.sleep(30)")}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1, timeout=2,
                        **({"shared": frozenset(sources)} if shared else {}))
    assert out["book/slow"][1] is not None and out["book/slow"][0] < 20


def test_shared_pages_more_than_a_group_are_each_executed_and_cached(tmp_path, monkeypatch):
    """Five pages of one folder in groups of two: three kernels, every page run and cached once."""
    from analysis.report import execute

    monkeypatch.setattr(execute, "SHARED_GROUP", 2)
    folder = tmp_path / "profiles"
    folder.mkdir()
    sources = {f"profiles/{n}": _page(folder, n, f"print('page {n}')") for n in "abcde"}
    out = execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=2, shared=frozenset(sources))
    assert sorted(out) == sorted(sources) and all(err is None for _, err in out.values())
    assert pending_pages(tmp_path / "cache", sources) == {}
    said = [_output(tmp_path / "cache", p).strip() for p in sources.values()]
    assert said == [f"page {n}" for n in "abcde"]


@pytest.mark.parametrize("shared", [False, True])
def test_progress_is_told_each_page_s_error_or_none(tmp_path, shared):
    """What the build's progress bar shows as each page ends: None for a page that ran, the
    error's first line for one that failed (the book then runs it again)."""
    pages = tmp_path / "book"
    pages.mkdir()
    sources = {"book/fine": _page(pages, "fine", "print('fine')"),
               "book/fails": _page(pages, "fails", "raise ValueError('no such column')")}
    told: dict[str, str | None] = {}
    execute_pages(tmp_path / "cache", sources, dict(os.environ), jobs=1,
                  progress=lambda page, error: told.__setitem__(page, error),
                  **({"shared": frozenset(sources)} if shared else {}))
    assert told == {"book/fine": None, "book/fails": "ValueError: no such column"}


def test_a_result_loaded_by_another_kernel_keeps_its_tables_read_only(tmp_path, monkeypatch):
    """Results keep their tables in read-only mappings: loaded from the build's folder by a second
    kernel they are read-only still, so no page can change what the pages after it see."""
    from types import MappingProxyType

    monkeypatch.setenv(context.CACHE_ENV, str(tmp_path))
    st = SimpleNamespace(key="d" * 64)
    for memo in ({}, {}):                         # a first kernel computes, a second loads from the folder
        monkeypatch.setattr(context, "_MEMO", memo)
        got = context.cached("tables", st, lambda: {"tables": MappingProxyType({"a": 1})})
        assert type(got["tables"]) is MappingProxyType and dict(got["tables"]) == {"a": 1}
        with pytest.raises(TypeError):
            got["tables"]["a"] = 2                  # type: ignore[index]
    assert len(list(tmp_path.glob("*.pkl"))) == 1


def test_a_study_written_again_at_the_same_path_is_read_again(tmp_path, monkeypatch):
    """A kernel asks for the build's study by its path: a file rewritten there (a rebuild of
    changed settings keeps the key's path) is read anew, not served from the kernel's memory."""
    import pickle

    p = tmp_path / "study.pkl"
    monkeypatch.setenv(context.STUDY_ENV, str(p))
    monkeypatch.setattr(context, "_declared", None)
    p.write_bytes(pickle.dumps({"wave": "first"}))
    assert context.study() == {"wave": "first"}
    p.write_bytes(pickle.dumps({"wave": "second"}))
    ns = p.stat().st_mtime_ns + 10**9
    os.utime(p, ns=(ns, ns))                        # a later time, whatever the file system's resolution
    assert context.study() == {"wave": "second"}


def test_a_page_gets_another_kernel_only_when_its_kernel_never_answered():
    """A kernel that lost the race for a port dies before it answers: another is started, up to
    three; one that answered and then died under a cell (memory, a crash) is the page's error."""
    from analysis.report.execute import KERNEL_STARTS, _start_again

    err = RuntimeError("Kernel died")
    assert KERNEL_STARTS == 3
    assert [_start_again("p.ipynb", err, False, a) for a in (1, 2, 3)] == [True, True, False]
    assert not _start_again("p.ipynb", err, True, 1)


def test_a_page_s_error_is_named_by_its_exception_and_first_line():
    from analysis.report.execute import _error_line

    err = ValueError("3 validation errors\nfield a\n  missing")
    assert _error_line(err) == "ValueError: 3 validation errors"


def test_pages_run_at_once_by_default_on_the_cores_this_process_may_use(monkeypatch):
    """Not every core of the machine: a container or taskset may allow fewer."""
    import os

    from analysis.report.execute import default_jobs

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert default_jobs() == 2


def test_the_pool_has_a_worker_per_page_or_shared_group_up_to_the_jobs_asked(tmp_path, monkeypatch):
    """Profile pages (shared kernels) count among the pages the pool is sized for: a build where
    only they are left to run still runs them side by side."""
    from analysis.report import execute

    sized = []

    class Stop(Exception):
        pass

    def pool(max_workers, **kw):  # type: ignore[no-untyped-def]
        sized.append(max_workers)
        raise Stop

    monkeypatch.setattr(execute, "ProcessPoolExecutor", pool)
    sources = {f"profiles/p{i}": tmp_path / "profiles" / f"p{i}.md" for i in range(3)}
    for jobs, shared, want in ((4, frozenset(sources), 3), (2, frozenset(sources), 2), (4, frozenset(), 3)):
        with pytest.raises(Stop):
            execute.execute_pages(tmp_path / "cache", sources, {}, jobs, shared=shared)
        assert sized.pop() == want


def test_pages_run_ahead_of_the_book_are_only_those_missing_from_the_cache(tmp_path):
    """The build executes ahead only the pages its cache lacks: a page executed by an earlier
    build is left to the book, which takes it from the cache (it was executed again, and the
    build's closing line counted it as executed)."""
    from analysis.report.build import _execute_ahead

    pages = tmp_path / "src" / "book"
    pages.mkdir(parents=True)
    sources = {"book/old": _page(pages, "old", "print('old')"),
               "book/new": _page(pages, "new", "print('new')")}
    cache, env = tmp_path / "cache", dict(os.environ)
    assert set(execute_pages(cache, {"book/old": sources["book/old"]}, env, jobs=1)) == {"book/old"}
    ran = _execute_ahead(cache, sources, env, jobs=2, timeout=120)
    assert set(ran) == {"book/new"} and ran["book/new"][1] is None
    assert _execute_ahead(cache, sources, env, jobs=2, timeout=120) == {}


def test_the_inputs_hash_does_not_depend_on_the_order_the_file_system_lists_files(tmp_path, monkeypatch):
    """The same files give the same key on any file system: a folder listed in another order (as
    another file system lists it) gives the same hash."""
    import pathlib

    from analysis.report.build import inputs_hash

    root = tmp_path / "root"
    for f in ("analysis/a.py", "analysis/z.py", "analysis/sub/m.py", "data/external/b/x.csv",
              "data/external/a/y.csv", "waves/w/villagers.csv", "waves/w/wave.yml"):
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text(f, encoding="utf-8")
    _project_at(root, monkeypatch)
    first = inputs_hash(root / "waves" / "w")
    listed = {name: getattr(pathlib.Path, name) for name in ("rglob", "glob", "iterdir")}
    for name, real in listed.items():
        monkeypatch.setattr(pathlib.Path, name, lambda self, *a, _real=real: iter(sorted(_real(self, *a),
                                                                                       reverse=True)))
    assert inputs_hash(root / "waves" / "w") == first
