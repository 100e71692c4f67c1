"""Containment: no command writes outside its output folder and a temp folder under ``_build/``.

A wave id names the report folder ``_build/<id>``, and a build replaces its output folder whole,
so an id such as ``..`` or an ``--out`` naming the project or the home folder could destroy a
checkout. These tests try each way in and check that the project tree is left as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from analysis.report import build as build_mod
from analysis import paths
from analysis.report.build import STAMP, build_book
from analysis.cli import app
from analysis.ingest.validate import validate_wave
from tests.conftest import DEFAULT, tree_hashes

runner = CliRunner()
CORPUS = Path(__file__).parent / "data" / "bad_waves"
CASES = yaml.safe_load((CORPUS / "cases.yml").read_text(encoding="utf-8"))["cases"]
SKIP = {".venv", ".git", "_build", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", "mutants"}


def project_tree(root: Path = paths.ROOT) -> dict[str, tuple[int, int]]:
    """Every file of the project outside ``_build/`` (and caches): path → (size, mtime)."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP and not d.endswith(".egg-info")]
        for f in filenames:
            st = (Path(dirpath) / f).stat()
            out[str(Path(dirpath, f).relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def fake_book(monkeypatch, tmp_path):
    """Build machinery without executing pages: jupyter-book is replaced by a stub that writes
    one page, MathJax is taken as present, and ``_build/`` is a scratch folder."""
    build = tmp_path / "_build"
    monkeypatch.setattr(paths, "BUILD", build)

    def fake_run(cmd, env, log, verbose):  # type: ignore[no-untyped-def]
        out = Path(cmd[cmd.index("--path-output") + 1]) / "_build" / "html"
        out.mkdir(parents=True)
        (out / "index.html").write_text("report", encoding="utf-8")
        log.write_text("stub build\n", encoding="utf-8")
        return 0, {}, {}

    monkeypatch.setattr(build_mod, "_run", fake_run)
    monkeypatch.setattr(build_mod, "_execute_ahead", lambda *a, **k: {})   # no page executed ahead
    monkeypatch.setattr(build_mod, "chromium", lambda: None)      # no PDF edition from a stub
    monkeypatch.setattr("analysis.report.assets.ensure_mathjax", lambda: True)
    return build


def _record_runs(monkeypatch, executed: dict | None = None,  # type: ignore[no-untyped-def]
                 look=None) -> list:
    """The stub book's runs, one entry each: what ``look(cmd, env)`` sees of what the book was
    handed (its command and environment, read before it runs), else 1; with ``executed``, the
    book reports those pages as run (their seconds) or taken from the cache."""
    runs, stub = [], build_mod._run

    def run(cmd, env, log, verbose):  # type: ignore[no-untyped-def]
        runs.append(look(cmd, env) if look else 1)
        code, failed, said = stub(cmd, env, log, verbose)
        return code, failed, said if executed is None else executed

    monkeypatch.setattr(build_mod, "_run", run)
    return runs


def _wave_with_id(tmp_path: Path, wave_id: object, folder_name: str = "w") -> Path:
    folder = tmp_path / "waves" / folder_name
    shutil.copytree(DEFAULT, folder)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = wave_id
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize("wave_id", ["..", ".", "../x", "/tmp/x", "Foo Bar", "", "a" * 65, "-x", "w\n", [1]])
def test_an_id_that_is_not_a_slug_is_refused(tmp_path, fake_book, wave_id):
    folder = _wave_with_id(tmp_path, wave_id)
    before = project_tree()
    rep, _ = validate_wave(folder)
    assert not rep.ok and [p.rule for p in rep.errors] == ["wave id"]
    assert "wave.yml" in rep.errors[0].file and rep.errors[0].column == "id"
    assert "is not a valid wave id" in rep.errors[0].message     # refused as an id, not for its folder
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1 and "wave id" in res.output
    assert build_book(str(folder)) == 1
    assert not fake_book.exists() or not any(fake_book.iterdir())
    assert project_tree() == before


@pytest.mark.parametrize("written, kind", [("2024", "a number"), ("2020.1", "a number"),
                                           ("2024-01-02", "a date"), ("yes", "a true/false value")])
def test_an_id_yaml_reads_as_no_text_is_refused_with_its_quotes(tmp_path, written, kind):
    """`id: 2024` in the folder 2024 reads as the number 2024: the id's characters are all allowed,
    so the message says how YAML read it and how to write it, not that they are not."""
    folder = _wave_with_id(tmp_path, "x", folder_name=written)
    yml = folder / "wave.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("id: x\n", f"id: {written}\n"), encoding="utf-8")
    rep, _ = validate_wave(folder)
    assert [p.rule for p in rep.errors] == ["wave id"] and rep.errors[0].column == "id"
    msg = rep.errors[0].message
    assert f"is read as {kind}, not as text" in msg and f"(id: '{written}' names this folder)" in msg
    assert "is not a valid wave id" not in msg
    yml.write_text(yml.read_text(encoding="utf-8").replace(f"id: {written}\n", f"id: '{written}'\n"),
                   encoding="utf-8")
    assert validate_wave(folder)[0].ok                                   # quoted, the same wave is valid


def test_the_id_must_equal_the_folder_name(tmp_path):
    folder = _wave_with_id(tmp_path, "another-id", folder_name="w")
    rep, _ = validate_wave(folder)
    assert [p.rule for p in rep.errors] == ["wave id"]
    assert "differs from the name of its folder" in rep.errors[0].message


def test_an_id_clash_with_another_wave_is_refused(tmp_path, fake_book):
    copy = tmp_path / "elsewhere" / paths.DEFAULT_WAVE     # same id as data/waves/2020-replica
    shutil.copytree(DEFAULT, copy)
    assert build_book(str(copy)) == 2
    assert not (fake_book / paths.DEFAULT_WAVE).exists()
    assert build_book(str(copy), tmp_path / "out") == 0  # with --out it may be built


def test_a_report_built_from_another_folder_is_not_replaced(tmp_path, fake_book, monkeypatch):
    waves = tmp_path / "waves"
    monkeypatch.setattr(paths, "WAVES", waves)
    a = waves / "w"
    shutil.copytree(DEFAULT, a)
    spec = yaml.safe_load((a / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = "w"
    (a / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert build_book(str(a)) == 0
    assert (fake_book / "w" / STAMP).is_file()
    b = tmp_path / "other" / "w"
    shutil.copytree(a, b)
    assert build_book(str(b)) == 2                      # data/waves/w owns _build/w
    assert build_book(str(a)) == 0                      # its own report may be rebuilt


@pytest.mark.parametrize("where", ["root", "parent", "home", "not_empty", "in_project", "in_wave",
                                   "waves", "a_file"])
def test_out_dir_that_a_build_may_not_replace(tmp_path, fake_book, where):
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.tex").write_text("years of work", encoding="utf-8")
    f = tmp_path / "a-file.txt"
    f.write_text("x", encoding="utf-8")
    target = {"root": paths.ROOT, "parent": paths.ROOT.parent, "home": Path.home(),
              "not_empty": other, "in_project": paths.ROOT / "book" / "out",
              "in_wave": DEFAULT / "report", "waves": paths.WAVES, "a_file": f}[where]
    holds_root = "the project root or a folder that holds it"
    reasons = {"root": (holds_root,), "parent": (holds_root,),
               "home": ("the home folder or a folder that holds it", holds_root),   # the project may be in it
               "not_empty": ("is not empty and is not a previous ruralgov build",),
               "in_project": ("may only be written under",), "in_wave": ("may only be written under",),
               "waves": ("may only be written under",), "a_file": ("exists and is not a folder",)}[where]
    before = project_tree()
    res = runner.invoke(app, ["build", paths.DEFAULT_WAVE, "--out", str(target)])
    said = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "--out" in said and "nothing was built" in said and any(r in said for r in reasons), said
    assert project_tree() == before
    assert (other / "thesis.tex").read_text(encoding="utf-8") == "years of work"
    assert f.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("through", ["_build/..", "_build/x/../.."])
def test_an_out_dir_is_judged_where_it_leads_not_as_it_is_spelled(through):
    """--out spelled through _build/ and back out ('..') leads into the wave's raw folder or the
    book's sources: judged by where it resolves, it is refused; by its spelling, its parents hold
    the project and _build/ and it would pass. (The check alone: nothing is built.)"""
    from analysis.report.build import check_out_dir

    for inside in (Path("data") / "waves" / paths.DEFAULT_WAVE / "report", Path("book") / "out"):
        out = paths.ROOT / through / inside
        assert check_out_dir(out, [DEFAULT]) is not None, out
    assert check_out_dir(paths.ROOT / "_build" / "x" / ".." / "y", [DEFAULT]) is None


def test_a_wave_under_data_waves_linked_from_elsewhere_builds_by_its_id_and_rebuilds(tmp_path, fake_book,
                                                                                    monkeypatch):
    """data/waves/<id> may be a link to the wave's folder on another disk: built by its id, it is
    the same wave (not "another wave of the same id"), and so it is on the next build."""
    waves = tmp_path / "waves"
    monkeypatch.setattr(paths, "WAVES", waves)
    real = _wave_with_id(tmp_path / "disk", "w")
    waves.mkdir()
    (waves / "w").symlink_to(real, target_is_directory=True)
    assert build_book("w") == 0
    assert build_book("w", force=True) == 0
    stamp = json.loads((fake_book / "w" / STAMP).read_text(encoding="utf-8"))
    assert stamp["wave_folder"] == str(real.resolve())


@pytest.mark.parametrize("where", ["inside", "itself", "above"])
def test_out_dir_in_over_or_above_a_wave_folder_outside_data_waves_is_refused(tmp_path, fake_book, where):
    """A wave kept elsewhere than data/waves/ is raw data all the same: a report may not be
    written into its folder, replace it, or replace a folder holding it."""
    folder = _wave_with_id(tmp_path, "w")
    target = {"inside": folder / "report", "itself": folder, "above": folder.parent}[where]
    before = tree_hashes(tmp_path)
    res = runner.invoke(app, ["build", str(folder), "--out", str(target)])
    assert res.exit_code == 2, res.output
    assert "refusing to write into or over the wave folder" in " ".join(res.output.split())
    assert tree_hashes(tmp_path) == before and not (folder / "report").exists()


def test_out_dir_may_be_new_empty_or_a_previous_build(tmp_path, fake_book):
    new = tmp_path / "new"
    assert build_book(paths.DEFAULT_WAVE, new) == 0
    assert (new / STAMP).is_file() and (new / "html" / "index.html").is_file()
    assert build_book(paths.DEFAULT_WAVE, new, force=True) == 0    # a previous build: replaced
    empty = tmp_path / "empty"
    empty.mkdir()
    assert build_book(paths.DEFAULT_WAVE, empty) == 0


def test_a_failed_build_leaves_no_temporary_folder(tmp_path, fake_book, monkeypatch):
    monkeypatch.setattr(build_mod, "_run", lambda cmd, env, log, verbose: (log.write_text("boom"), (1, {}, {}))[1])
    assert build_book(paths.DEFAULT_WAVE) == 1
    assert {p.name for p in fake_book.iterdir()} <= {".assets", ".jupyter_cache", "logs"}
    assert not list(fake_book.glob(".tmp-*")) and not list(fake_book.glob(".staging-*"))
    assert (fake_book / "logs" / f"{paths.DEFAULT_WAVE}-failed.log").read_text() == "boom"


def test_a_build_clears_what_a_killed_build_of_its_wave_left_not_another_wave_s_folders(fake_book):
    """The temporary, staging and old folders of a killed build of this wave are removed (an
    older build's temporary folder named without its process too); those of a build of this wave
    still running (the other edition, in another terminal: its process is alive), and those of a
    wave whose id only starts with this one's (``<id>-b``), which may be building now, are not."""
    import subprocess
    import sys
    import tempfile

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)             # a process that has ended
    live = os.getppid()                  # alive, and not this process (whose build stages as its own)
    w = paths.DEFAULT_WAVE
    fake_book.mkdir()
    ours = [Path(tempfile.mkdtemp(prefix=f".tmp-{w}-{dead}-", dir=fake_book)),
            Path(tempfile.mkdtemp(prefix=f".tmp-{w}-", dir=fake_book)),
            fake_book / f".staging-{w}-{dead}", fake_book / f".old-{w}-{dead}"]
    theirs = [Path(tempfile.mkdtemp(prefix=f".tmp-{w}-b-{dead}-", dir=fake_book)),
              fake_book / f".staging-{w}-b-{dead}", fake_book / f".old-{w}-b-{dead}",
              fake_book / f".tmp-{w}-notes",
              fake_book / f".staging-{w}-2021-{dead}", fake_book / f".old-{w}-2021-{dead}",   # report w-2021
              Path(tempfile.mkdtemp(prefix=f".tmp-{w}-{live}-", dir=fake_book)),             # running now
              fake_book / f".staging-{w}-{live}"]
    for d in ours + theirs:
        d.mkdir(exist_ok=True)
    assert build_mod.stale_folders(w, fake_book / w) == sorted(ours)
    assert build_book(w) == 0
    assert [d.exists() for d in ours + theirs] == [False] * len(ours) + [True] * len(theirs)


def test_a_book_build_that_fails_after_writing_pages_keeps_the_previous_report(fake_book, monkeypatch,
                                                                                  capsys):
    """jupyter-book may exit non-zero (a page failed, a warning under -W) having written index.html
    all the same: the build fails, names the page, and the previous report stays as it was."""
    assert build_book(paths.DEFAULT_WAVE) == 0
    report = fake_book / paths.DEFAULT_WAVE / "html" / "index.html"
    assert report.read_text(encoding="utf-8") == "report"

    def half_run(cmd, env, log, verbose):  # type: ignore[no-untyped-def]
        out = Path(cmd[cmd.index("--path-output") + 1]) / "_build" / "html"
        out.mkdir(parents=True)
        (out / "index.html").write_text("half a report", encoding="utf-8")
        log.write_text("a page failed\n", encoding="utf-8")
        return 1, {"book/models.md": "ZeroDivisionError"}, {}

    monkeypatch.setattr(build_mod, "_run", half_run)
    monkeypatch.setattr(build_mod, "book_hash", lambda: "another book")      # not up to date
    capsys.readouterr()
    assert build_book(paths.DEFAULT_WAVE) == 1
    said = " ".join(capsys.readouterr().err.split())
    assert "page failed: book/models.md: ZeroDivisionError" in said, said
    assert report.read_text(encoding="utf-8") == "report"
    assert (fake_book / "logs" / f"{paths.DEFAULT_WAVE}-failed.log").read_text() == "a page failed\n"
    assert not list(fake_book.glob(".tmp-*")) and not list(fake_book.glob(".staging-*"))


def test_replica_out_refuses_a_folder_that_is_not_a_replica(tmp_path):
    other = tmp_path / "precious"
    other.mkdir()
    (other / "data.csv").write_text("keep", encoding="utf-8")
    res = runner.invoke(app, ["replica", "--out", str(other), "--n", "200", "--no-calibrate"])
    assert res.exit_code == 2
    assert sorted(p.name for p in other.iterdir()) == ["data.csv"]
    res = runner.invoke(app, ["replica", "--out", str(tmp_path / "Bad Name"), "--n", "200"])
    assert res.exit_code == 2
    # an id that is not its folder's name (the folder is named by the id): refused, nothing written
    res = runner.invoke(app, ["replica", "--id", "a-wave", "--out", str(tmp_path / "b-wave"), "--n", "440",
                              "--no-calibrate"])
    assert res.exit_code == 2 and not (tmp_path / "b-wave").exists()
    assert "a wave's folder is named by its id" in " ".join(res.output.split())
    # a folder name ending in a newline is no slug, though the pattern's "$" matches before it
    res = runner.invoke(app, ["replica", "--out", str(tmp_path / "w\n"), "--n", "440", "--no-calibrate"])
    assert res.exit_code == 2 and not (tmp_path / "w\n").exists()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_no_command_writes_outside_build_on_any_corpus_case(case, tmp_path, fake_book, monkeypatch):
    folder = CORPUS / case["name"]
    monkeypatch.chdir(tmp_path)
    before = project_tree()
    for args in (["validate", str(folder)], ["index", str(folder)], ["index", str(folder), "--by", "province"],
                 ["models", str(folder), "--model", "wls_region"], ["build", str(folder)]):
        res = runner.invoke(app, args)
        assert res.exit_code in (0, 1, 2), (args, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), (args, res.exception)
    assert project_tree() == before
    assert list(tmp_path.iterdir()) == [tmp_path / "_build"] or list(tmp_path.iterdir()) == []
    if fake_book.exists():
        assert {p.name for p in fake_book.iterdir()} <= {case["name"], "logs", ".jupyter_cache", ".assets"}


def test_inside_the_project_a_report_goes_only_into_a_folder_under_build(tmp_path, monkeypatch):
    """``_build`` itself (every report and the caches) and a sibling whose name merely begins
    with ``_build`` are refused; a folder under ``_build/`` is not."""
    root = tmp_path / "project"
    (root / "_build").mkdir(parents=True)
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "BUILD", root / "_build")
    monkeypatch.setattr(paths, "WAVES", root / "data" / "waves")
    for name in ("_build", "_build2", "_buildings/report"):
        said = build_mod.check_out_dir(root / name, [])
        assert said is not None and "may only be written under _build/" in said, name
    assert build_mod.check_out_dir(root / "_build" / "report", []) is None


def test_a_default_report_folder_linked_out_of_build_is_refused(tmp_path, fake_book):
    """``_build/<id>`` a symbolic link to a folder elsewhere: the build would replace that folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fake_book.mkdir()
    (fake_book / "w").symlink_to(elsewhere, target_is_directory=True)
    folder = _wave_with_id(tmp_path, "w")
    said = build_mod.check_default_target("w", "w", folder)
    assert said is not None and "would lie outside" in said
    assert build_book(str(folder)) == 2
    assert (fake_book / "w").is_symlink() and not any(elsewhere.iterdir())


def test_a_report_of_one_wave_folder_is_not_replaced_by_another_folder_of_the_same_id(tmp_path, fake_book):
    """Neither folder under data/waves/: the stamp of ``_build/w`` names the folder that made it."""
    a, b = _wave_with_id(tmp_path / "a", "w"), _wave_with_id(tmp_path / "b", "w")
    assert build_book(str(a)) == 0
    assert build_mod.check_default_target("w", "w", b).startswith(f"{fake_book.resolve() / 'w'} holds the "
                                                                  "report of another wave with the id 'w'")
    assert build_book(str(b)) == 2 and build_book(str(a)) == 0


def test_another_wave_s_default_report_folder_is_refused_as_out(tmp_path, fake_book):
    """``--out _build/w`` for a wave v: it replaced w's report, and the next build of w was refused
    with "another wave with the id 'w'" though v's id is v. Refused; the stamp of a folder an older
    build wrote there names that wave's id."""
    a, b = _wave_with_id(tmp_path / "a", "w"), _wave_with_id(tmp_path / "b", "v", folder_name="v")
    assert build_book(str(a)) == 0
    stamp = (fake_book / "w" / build_mod.STAMP).read_text(encoding="utf-8")
    said = build_mod.check_out_dir(fake_book / "w", [b.resolve()])
    assert said is not None and said.startswith(f"--out {fake_book / 'w'}: holds the report of wave 'w' ({a.resolve()})")
    assert build_book(str(b), fake_book / "w") == 2
    assert (fake_book / "w" / build_mod.STAMP).read_text(encoding="utf-8") == stamp      # w's report kept
    assert build_mod.check_out_dir(fake_book / "w", [a.resolve()]) is None               # its own wave may
    assert build_mod.check_out_dir(fake_book / "elsewhere", [b.resolve()]) is None
    (fake_book / "w" / build_mod.STAMP).write_text(stamp.replace('"wave": "w"', '"wave": "v"').replace(
        str(a.resolve()).replace("\\", "\\\\"), str(b.resolve())), encoding="utf-8")  # as an older build left it
    said = build_mod.check_default_target("w", "w", a.resolve())
    assert said is not None and f"holds the report of wave 'v' ({b.resolve()}), built there with --out" in said


def test_a_folder_counts_as_an_older_build_only_with_nothing_but_its_files(tmp_path, fake_book):
    """An older build (before the stamp) held ``inputs``, ``html/`` and ``build.log``: such a
    folder may be replaced; the same with a file of the user's beside them may not."""
    old = tmp_path / "old"
    (old / "html").mkdir(parents=True)
    (old / "inputs").write_text("0" * 64, encoding="utf-8")
    (old / "build.log").write_text("built\n", encoding="utf-8")
    assert build_mod.check_out_dir(old, []) is None
    (old / "notes.txt").write_text("mine", encoding="utf-8")
    said = build_mod.check_out_dir(old, [])
    assert said is not None and "is not empty and is not a previous ruralgov build" in said
    assert build_book(paths.DEFAULT_WAVE, old) == 2
    assert (old / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_change_to_the_models_rebuilds_a_report_that_was_up_to_date(tmp_path, fake_book, monkeypatch):
    """data/models.yml is left out of the execution cache's key (the pages that read it declare
    it), but not out of the report's: a changed model specification is built again."""
    runs = _record_runs(monkeypatch)
    models = tmp_path / "models.yml"                # the models' file, set aside before the first build
    models.write_bytes(paths.MODELS_CONFIG.read_bytes())
    monkeypatch.setattr(paths, "MODELS_CONFIG", models)
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out) == 0 and build_book(paths.DEFAULT_WAVE, out) == 0
    assert len(runs) == 1                                          # the second was up to date
    models.write_bytes(models.read_bytes() + b"\n# one more line\n")
    assert build_book(paths.DEFAULT_WAVE, out) == 0 and len(runs) == 2


def test_a_change_to_a_compared_wave_rebuilds_the_comparison(tmp_path, fake_book, monkeypatch, make_wave,
                                                              small_villagers):
    """The comparison's inputs are every wave it reads: the same build twice is up to date, and a
    compared wave's file changed (a cell of its villagers) builds it again."""
    runs = _record_runs(monkeypatch)
    c = make_wave(small_villagers, name="c", spec={"year": 2024})
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(c)], pdf=False, lang="en") == 0
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(c)], pdf=False, lang="en") == 0
    assert len(runs) == 1
    v = small_villagers.copy()
    v.loc[0, "edu_org"] = "1" if str(v.loc[0, "edu_org"]) != "1" else "2"
    v.to_csv(c / "villagers.csv", index=False)
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(c)], pdf=False, lang="en") == 0
    assert len(runs) == 2


def test_a_build_pins_its_commit_for_every_page(tmp_path, fake_book, monkeypatch):
    """The pages' kernels cite the commit the build started at (the footer's), whatever happens
    to the work tree while they run: the build hands it to them, and git_commit() answers it."""
    from analysis.publishing import provenance

    seen = _record_runs(monkeypatch, look=lambda cmd, env: env.get(provenance.COMMIT_ENV))
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "r", pdf=False, lang="en") == 0
    assert seen == [provenance.pinned_commit()]
    monkeypatch.setenv(provenance.COMMIT_ENV, "0123456789ab dirty")
    assert provenance.git_commit() == ("0123456789ab", True)
    assert provenance.commit_label() == "0123456789ab+dirty"
    monkeypatch.setenv(provenance.COMMIT_ENV, "unknown unknown")
    assert provenance.git_commit() == ("unknown", None)
    for state in ("clean", "dirty"):                 # each state goes to the pages and back as it was
        monkeypatch.setenv(provenance.COMMIT_ENV, f"0123456789ab {state}")
        assert provenance.pinned_commit() == f"0123456789ab {state}"
    monkeypatch.setenv(provenance.COMMIT_ENV, "unknown unknown")
    assert provenance.pinned_commit() == "unknown unknown"


def test_each_edition_s_front_door_is_in_its_language(tmp_path, fake_book, monkeypatch):
    """The book writes a bare redirect as its root index.html; the build makes it the front door in
    the edition's language: lang="en" for the English edition, "zh-Hans" for the Chinese one."""
    stub = build_mod._run

    def redirect(cmd, env, log, verbose):  # type: ignore[no-untyped-def]
        done = stub(cmd, env, log, verbose)
        html = Path(cmd[cmd.index("--path-output") + 1]) / "_build" / "html"
        (html / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />',
                                         encoding="utf-8")
        return done
    monkeypatch.setattr(build_mod, "_run", redirect)
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, lang="en") == 0
    assert build_book(paths.DEFAULT_WAVE, out, lang="zh") == 0
    assert '<html lang="en">' in (out / "html" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in (out / "zh" / "html" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("year,said", [(2020, "2020-replica and other are both of 2020"),
                                       (None, "other has none")])
def test_waves_compared_need_their_own_survey_years(tmp_path, fake_book, year, said):
    """The comparison orders waves by year and its panel tells them apart by it: a compared wave of
    the same year (two replicas made with another seed) or of no year is refused before anything
    runs, naming the waves; a wave of another year is compared."""
    other = tmp_path / "other"
    shutil.copytree(paths.WAVES / paths.DEFAULT_WAVE, other)
    spec = yaml.safe_load((other / "wave.yml").read_text(encoding="utf-8"))
    spec.update(id="other", year=year)
    (other / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(other)], lang="en") == 2
    assert not out.exists()
    from analysis.report.build import check_compared_years
    from analysis.ingest.wave import load_wave

    assert said in check_compared_years([load_wave(paths.DEFAULT_WAVE), load_wave(str(other))])
    spec["year"] = 2024
    (other / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert build_book(paths.DEFAULT_WAVE, out, compare=[str(other)], lang="en") == 0


@pytest.mark.parametrize("default_folder", [False, True])
def test_a_report_of_which_only_the_chinese_edition_was_built_may_be_built_again(tmp_path, fake_book,
                                                                               default_folder):
    """``--lang zh`` alone leaves the report's folder holding only ``zh/``: that folder is a
    build (the Chinese one inside), so building it again, or the English edition beside it, is
    allowed (and the Chinese edition kept inside), into ``--out`` as into ``_build/<wave>``."""
    out = None if default_folder else tmp_path / "r"
    base = fake_book / paths.DEFAULT_WAVE if default_folder else out
    assert build_book(paths.DEFAULT_WAVE, out, lang="zh", pdf=False) == 0
    assert sorted(p.name for p in base.iterdir()) == ["zh"]
    assert build_book(paths.DEFAULT_WAVE, out, lang="zh", pdf=False, force=True) == 0
    assert build_book(paths.DEFAULT_WAVE, out, lang="en", pdf=False) == 0
    assert (base / "html" / "index.html").is_file() and (base / "zh" / "html" / "index.html").is_file()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "zh").mkdir()                   # a folder named zh that is no build
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "other", lang="en", pdf=False) == 2


def test_the_chinese_edition_built_beside_an_english_one_links_to_it(tmp_path, fake_book, monkeypatch):
    """``--lang zh`` after ``--lang en`` (no editions named): the English edition found in the
    report's folder is among the editions the Chinese pages link to, and not the other way round
    before the Chinese one exists."""
    from analysis import i18n

    runs = _record_runs(monkeypatch, look=lambda cmd, env: env[i18n.EDITIONS_ENV])
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, lang="en", pdf=False) == 0
    assert build_book(paths.DEFAULT_WAVE, out, lang="zh", pdf=False) == 0
    assert runs == ["en", "en,zh"]


def test_an_empty_report_folder_is_no_english_edition_to_link_to(tmp_path, fake_book, monkeypatch, capsys):
    """``mkdir out && ruralgov build --lang zh --out out``: the folder exists but holds no English
    edition, so the Chinese pages link to no English one."""
    from analysis import i18n

    runs = _record_runs(monkeypatch, look=lambda cmd, env: env[i18n.EDITIONS_ENV])
    (tmp_path / "r").mkdir()                              # the English edition's folder, nothing built
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "r", lang="zh", pdf=False) == 0
    assert runs == ["zh"]
    assert "other inputs" not in capsys.readouterr().err     # no edition there to speak of


def test_rebuilding_the_english_edition_keeps_the_chinese_one_inside_it(tmp_path, fake_book):
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out) == 0 and build_book(paths.DEFAULT_WAVE, out, lang="zh") == 0
    zh = out / "zh" / "html" / "index.html"
    assert zh.is_file() and (out / "html" / "index.html").is_file()
    assert (out / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["en", "en"]   # built before zh was
    assert build_book(paths.DEFAULT_WAVE, out, force=True) == 0
    assert zh.is_file() and (out / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["en", "en,zh"]


def test_an_edition_built_from_other_inputs_is_neither_linked_to_nor_kept(tmp_path, fake_book, monkeypatch,
                                                                         capsys):
    """After the wave changes, the edition built before says other numbers: the Chinese build
    does not link to the English edition left from before (and says so), the English build then
    links to the Chinese one built from the same inputs, and an English build after another change
    removes the Chinese edition it would otherwise keep inside (and says so)."""
    from analysis import i18n

    runs = _record_runs(monkeypatch, look=lambda cmd, env: env[i18n.EDITIONS_ENV])
    wave = tmp_path / "waves" / paths.DEFAULT_WAVE
    shutil.copytree(DEFAULT, wave)
    out = tmp_path / "r"

    def edit() -> None:
        with (wave / "wave.yml").open("a", encoding="utf-8") as f:
            f.write("# edited\n")

    assert build_book(str(wave), out, lang="en", pdf=False) == 0
    assert build_book(str(wave), out, lang="zh", pdf=False) == 0
    edit()
    capsys.readouterr()
    assert build_book(str(wave), out, lang="zh", pdf=False) == 0
    said = " ".join(capsys.readouterr().err.split())
    assert "English edition beside it was built from other inputs and is not linked" in said
    assert build_book(str(wave), out, lang="en", pdf=False) == 0
    assert runs == ["en", "en,zh", "zh", "en,zh"]
    assert (out / "zh" / "html" / "index.html").is_file()
    edit()
    capsys.readouterr()
    assert build_book(str(wave), out, lang="en", pdf=False) == 0
    assert "中文 edition beside it was built from other inputs and was removed" in " ".join(
        capsys.readouterr().err.split())
    assert runs[-1] == "en" and not (out / "zh").exists()
    assert (out / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["en", "en"]


@pytest.mark.parametrize("change", ["pages", "profile pages"])
def test_an_edition_built_from_other_pages_is_not_kept_either(tmp_path, fake_book, monkeypatch, change):
    """The same wave but edited pages (another book hash), or a book without the profile pages:
    the Chinese edition built from the other book is dropped by the English build, as after a
    change of the wave."""
    from analysis import i18n

    runs = _record_runs(monkeypatch, look=lambda cmd, env: env[i18n.EDITIONS_ENV])
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, lang="en", pdf=False) == 0
    assert build_book(paths.DEFAULT_WAVE, out, lang="zh", pdf=False) == 0
    if change == "pages":
        monkeypatch.setattr(build_mod, "book_hash", lambda: "f" * 64)
    assert build_book(paths.DEFAULT_WAVE, out, lang="en", pdf=False,
                      profiles_enabled=change == "pages") == 0
    assert runs == ["en", "en,zh", "en"] and not (out / "zh").exists()


def test_build_makes_both_editions_by_default_and_one_edition_rebuilt_keeps_its_link_to_the_other(
        tmp_path, fake_book):
    """``ruralgov build`` without --lang builds the English edition and the Chinese one inside it,
    each linking to both; ``--lang en`` afterwards finds the Chinese edition beside it and keeps
    the link (its stamp, which records the editions linked, is unchanged: nothing to rebuild)."""
    out = tmp_path / "r"
    args = ["build", paths.DEFAULT_WAVE, "--out", str(out), "--no-pdf"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "html" / "index.html").is_file() and (out / "zh" / "html" / "index.html").is_file()
    assert (out / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["en", "en,zh"]
    assert (out / "zh" / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["zh", "en,zh"]
    res = runner.invoke(app, [*args, "--lang", "en"])
    assert res.exit_code == 0 and "up to date" in " ".join(res.output.split()), res.output
    assert (out / "inputs").read_text(encoding="utf-8").split(":")[2:4] == ["en", "en,zh"]


def test_each_edition_and_each_state_of_the_inputs_executes_into_its_own_cache(tmp_path, fake_book,
                                                                                monkeypatch):
    """Pages are matched in an execution cache by their code alone, so the cache (and the folder of
    model results beside it) is named by the hash of the inputs and the edition: the Chinese pages,
    whose code is the English pages', never take the English outputs, and an edited wave never
    takes its former outputs."""
    from analysis.report.build import execution_cache_key
    from analysis.report.context import CACHE_ENV
    from analysis.settings import read_yaml

    def caches(cmd, env):  # type: ignore[no-untyped-def]
        cfg = read_yaml(Path(cmd[cmd.index("--config") + 1]))
        return Path(cfg["execute"]["cache"]).name, Path(env[CACHE_ENV]).name

    used = _record_runs(monkeypatch, look=caches)
    folder, out = _wave_with_id(tmp_path, "w"), tmp_path / "out"
    before = execution_cache_key([folder])
    assert build_book(str(folder), out, lang="en") == 0 and build_book(str(folder), out, lang="zh") == 0
    yml = folder / "wave.yml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("title:", "title: (corrected)", 1), encoding="utf-8")
    after = execution_cache_key([folder])
    assert after != before and build_book(str(folder), out, lang="en") == 0
    assert used == [(f"w-{before}", f"w-{before}-results"), (f"w-{before}-zh", f"w-{before}-zh-results"),
                    (f"w-{after}", f"w-{after}-results")]


def test_a_report_whose_html_was_removed_is_built_again_though_its_stamp_is_current(tmp_path, fake_book,
                                                                                    monkeypatch):
    """The stamp says the inputs are those of the report, but a report without its index.html is
    no report: the next build runs the book again instead of saying "up to date"."""
    runs = _record_runs(monkeypatch)
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, lang="en") == 0 and len(runs) == 1
    shutil.rmtree(out / "html")
    assert build_book(paths.DEFAULT_WAVE, out, lang="en") == 0 and len(runs) == 2
    assert (out / "html" / "index.html").is_file()


@pytest.mark.parametrize("command", ["validate --json", "validate --csv", "index --scores"])
@pytest.mark.parametrize("relative", [True, False], ids=["relative", "absolute"])
def test_a_command_refuses_to_write_under_data_waves_however_the_path_is_written(command, relative,
                                                                                   monkeypatch):
    """Raw data are read-only: validate's report, and the respondent scores ``ruralgov index
    --scores`` writes (microdata), asked for inside a wave's folder are refused (exit 2) and
    nothing is written there, whether the path is absolute or relative to the working folder."""
    scores = command.startswith("index")
    target = paths.WAVES / paths.DEFAULT_WAVE / ("scores.csv" if scores else "report.out")
    before = tree_hashes(paths.WAVES)
    arg = str(target)
    if relative:
        monkeypatch.chdir(paths.ROOT)
        arg = str(target.relative_to(paths.ROOT))
    args = (["index", paths.DEFAULT_WAVE, "--scores", arg, "--format", "csv"] if scores
            else [*command.split(), arg])
    try:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        said = "refusing to write under data/waves/" if scores else "refusing to write a report under data/waves/"
        assert said in " ".join(res.output.split())
        assert tree_hashes(paths.WAVES) == before
    finally:
        target.unlink(missing_ok=True)


def test_build_force_rebuilds_a_report_that_is_up_to_date(tmp_path, fake_book, monkeypatch):
    """``ruralgov build --force`` runs the book again though nothing changed (a damaged cache or
    report is the reason to ask); without it, the second build is up to date."""
    runs = _record_runs(monkeypatch)
    args = ["build", paths.DEFAULT_WAVE, "--out", str(tmp_path / "r"), "--lang", "en", "--no-pdf"]
    assert runner.invoke(app, args).exit_code == 0 and runner.invoke(app, args).exit_code == 0
    assert len(runs) == 1
    res = runner.invoke(app, [*args, "--force"])
    assert res.exit_code == 0, res.output
    assert len(runs) == 2


def test_a_report_may_not_be_written_into_a_compared_wave_s_folder(tmp_path, fake_book, make_wave,
                                                                    small_villagers):
    """--out is refused inside any wave the build reads, the compared ones as well as the main one:
    their raw folders are never written."""
    other = make_wave(small_villagers, name="b", spec={"year": 2024})     # comparable: refused for --out
    before = tree_hashes(other)
    assert build_book(paths.DEFAULT_WAVE, other / "report", compare=[str(other)], pdf=False) == 2
    assert not (other / "report").exists() and tree_hashes(other) == before


def test_a_refused_build_counts_the_errors_it_lists_not_the_warnings(make_wave, small_villagers, fake_book,
                                                                     capsys):
    """An invalid wave is refused with the number of its errors, which the lines above it list;
    its warnings (here a column the codebook lacks) are not counted."""
    v = small_villagers.copy()
    v.loc[3, "sex"] = "5"                                    # not a code of sex: an error
    v["notes_by_the_team"] = "x"                             # a warning
    folder = make_wave(v)
    rep, _ = validate_wave(folder)
    assert len(rep.errors) == 1 and len(rep.problems) > 1
    assert build_book(str(folder)) == 1
    said = " ".join(capsys.readouterr().err.split())
    assert "is invalid: 1 error(s); nothing was built" in said


def test_the_closing_line_counts_each_page_once_executed_or_cached(tmp_path, fake_book, monkeypatch, capsys):
    """Pages the book took from the cache are counted as cached and not also as executed."""
    _record_runs(monkeypatch, {"book/a.md": "cache", "book/b.md": "cache", "book/c.md": "2.50 s"})
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "r", pdf=False) == 0
    assert "pages executed: 1, taken from the cache: 2;" in " ".join(capsys.readouterr().err.split())


def test_a_comparison_is_built_under_the_name_of_every_wave_it_compares(fake_book, make_wave,
                                                                        small_villagers):
    """``build A --compare C`` and ``build B --compare C`` are two reports: each folder is named by
    the reported wave and the compared ones, so neither replaces the other."""
    c = make_wave(small_villagers, name="c", spec={"year": 2024})
    assert build_book(paths.DEFAULT_WAVE, compare=[str(c)], pdf=False) == 0
    assert sorted(p.name for p in fake_book.iterdir() if p.name.startswith("compare-")) == \
        [f"compare-{paths.DEFAULT_WAVE}-c"]


def test_a_build_comparing_one_other_wave_has_the_comparison_page(fake_book, make_wave, small_villagers,
                                                                     monkeypatch):
    """One compared wave is a comparison: the contents the book is handed hold the comparison page;
    a build of the wave alone does not."""
    from analysis.report.build import _pages

    pages = _record_runs(monkeypatch, look=lambda cmd, env: _pages(Path(cmd[cmd.index("--toc") + 1])))
    c = make_wave(small_villagers, name="c", spec={"year": 2024})
    assert build_book(paths.DEFAULT_WAVE, compare=[str(c)], pdf=False, lang="en") == 0
    assert build_book(paths.DEFAULT_WAVE, pdf=False, lang="en") == 0
    assert ["book/compare" in p for p in pages] == [True, False]
    # the comparison's stamp records the wave it reports, not the one it compares
    stamp = json.loads((fake_book / f"compare-{paths.DEFAULT_WAVE}-c" / STAMP).read_text(encoding="utf-8"))
    assert stamp["wave"] == paths.DEFAULT_WAVE


def test_a_comparison_build_hands_the_pages_the_study_of_the_wave_it_reports(fake_book, make_wave,
                                                                              small_villagers, monkeypatch):
    """``build A --compare C``: every page reads the scored study of A (its title, folder and
    footer are A's), the compared waves through their own variable; the study is not C's."""
    import pickle

    from analysis.report.context import STUDY_ENV

    def study_of(cmd, env):  # type: ignore[no-untyped-def]
        with open(env[STUDY_ENV], "rb") as fh:
            return pickle.load(fh).wave.id

    seen = _record_runs(monkeypatch, look=study_of)
    c = make_wave(small_villagers, name="c", spec={"year": 2024})
    assert build_book(paths.DEFAULT_WAVE, compare=[str(c)], pdf=False, lang="en") == 0
    assert seen == [paths.DEFAULT_WAVE]


def test_a_default_build_has_the_province_profiles_and_marks_those_the_wave_publishes(tmp_path, fake_book,
                                                                                    monkeypatch):
    """Without being asked, a build writes a profile page per province into its sources, puts
    them in the table of contents, and marks in their index the provinces whose survey results
    the wave publishes (as many marks as such provinces; none but those)."""
    from analysis.estimation.study import build_study
    from analysis.report.pages.profile import published_provinces
    from analysis.report.profiles import FOLDER, INDEX, MARK
    from analysis.settings import read_yaml

    def sources(cmd, env):  # type: ignore[no-untyped-def]
        return {"index": (Path(cmd[2]) / FOLDER / f"{INDEX}.md").read_text(encoding="utf-8"),
                "toc": json.dumps(read_yaml(Path(cmd[cmd.index("--toc") + 1])))}

    runs = _record_runs(monkeypatch, look=sources)
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "out", lang="en") == 0
    (seen,) = runs
    published = published_provinces(build_study(paths.DEFAULT_WAVE))
    assert len(published) > 0 and seen["index"].count(f">` {MARK}") == len(published)
    assert f"The {len(published)} provinces marked {MARK} have survey results" in seen["index"]
    assert f"{FOLDER}/{INDEX}" in seen["toc"]


def test_a_build_prints_the_pdf_edition_by_default_where_chromium_is_installed(tmp_path, fake_book,
                                                                             monkeypatch):
    """``pdf`` unset: the PDF edition is printed when Chromium is installed, and not without it."""
    printed = []
    monkeypatch.setattr(build_mod, "build_pdf", lambda cmd, env, work, html, name, root: printed.append(name))
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "a", lang="en") == 0 and printed == []
    monkeypatch.setattr(build_mod, "chromium", lambda: "/usr/bin/chromium")
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "b", lang="en") == 0
    assert printed == [f"ruralgov-{paths.DEFAULT_WAVE}.pdf"]


def test_a_build_without_the_pdf_is_not_up_to_date_for_a_build_asking_for_it(tmp_path, fake_book, monkeypatch,
                                                                            capsys):
    """The stamp of a report records whether it holds the PDF edition (and the profile pages): a
    ``--pdf`` build after a ``--no-pdf`` one of the same inputs prints the PDF, not "up to date"."""
    printed = []
    monkeypatch.setattr(build_mod, "build_pdf", lambda cmd, env, work, html, name, root: printed.append(name))
    monkeypatch.setattr(build_mod, "chromium", lambda: "/usr/bin/chromium")
    runs = _record_runs(monkeypatch)
    out = tmp_path / "r"
    assert build_book(paths.DEFAULT_WAVE, out, pdf=False, editions=("en",)) == 0 and printed == []
    assert build_book(paths.DEFAULT_WAVE, out, pdf=False, editions=("en",)) == 0 and len(runs) == 1
    assert build_book(paths.DEFAULT_WAVE, out, pdf=True, editions=("en",)) == 0
    assert len(runs) == 2 and printed == [f"ruralgov-{paths.DEFAULT_WAVE}.pdf"]
    link = out / "pdf" / printed[0]        # relative, into the report itself (the staging folder is gone)
    assert link.is_symlink() and os.readlink(link) == f"../html/{printed[0]}"
    assert build_book(paths.DEFAULT_WAVE, out, pdf=True, editions=("en",)) == 0 and len(runs) == 2
    assert build_book(paths.DEFAULT_WAVE, out, pdf=True, editions=("en",), profiles_enabled=False) == 0
    assert len(runs) == 3
    assert "up to date" in " ".join(capsys.readouterr().err.split())


def test_every_page_carries_the_hash_of_the_book_s_order_and_of_the_edition_s_messages(tmp_path, fake_book,
                                                                                      monkeypatch):
    """A page's tables are numbered by its place in the table of contents, and its kernel writes
    text translated by the edition's catalog: neither is in the execution cache's key, so both
    hashes are written into every page's first cell (a change re-executes the pages, a cached page
    never keeps old numbers or old translations)."""
    import hashlib

    from analysis import i18n

    def look(cmd, env):  # type: ignore[no-untyped-def]
        src = Path(cmd[cmd.index("build") + 1])
        toc = hashlib.sha256(Path(env["RURALGOV_TOC"]).read_bytes()).hexdigest()[:16]
        cells = {p.name: re.search(r"page_inputs\(.*\)  # (.*)", p.read_text(encoding="utf-8")).group(1)
                 for p in (src / "book").glob("*.md") if "```{code-cell}" in p.read_text(encoding="utf-8")}
        return toc, cells

    runs = _record_runs(monkeypatch, look=look)
    zh_messages, en_messages = build_mod.messages_hash("zh")[:16], build_mod.messages_hash("en")[:16]
    for lang, profiles in (("zh", True), ("zh", False), ("en", True)):
        assert build_book(paths.DEFAULT_WAVE, tmp_path / lang / str(profiles), pdf=False, lang=lang,
                          profiles_enabled=profiles, editions=(lang,)) == 0
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE, locale)
    po = locale / "zh_CN" / "LC_MESSAGES" / "ruralgov.po"
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "An edited message"\nmsgstr "改"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE", locale)
    edited_messages = build_mod.messages_hash("zh")[:16]
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "zh-edited", pdf=False, lang="zh", editions=("zh",)) == 0
    (zh_toc, zh), (other_toc, other_order), (en_toc, en), (edited_toc, edited) = runs
    assert len(zh) >= 8 and zh_toc != other_toc and edited_toc == zh_toc
    assert len({zh_messages, en_messages, edited_messages}) == 3
    for cells, toc, messages in ((zh, zh_toc, zh_messages), (other_order, other_toc, zh_messages),
                                 (en, en_toc, en_messages), (edited, zh_toc, edited_messages)):
        assert set(cells) == set(zh)
        for page, comment in cells.items():
            assert {f"toc:{toc}", f"messages:{messages}"} <= set(comment.split()), (page, comment)


def test_pages_run_ahead_get_the_book_s_timeout_and_count_as_executed(tmp_path, fake_book, monkeypatch,
                                                                       capsys):
    """With several jobs, pages are executed ahead with the timeout _config.yml sets (not the
    default), and the book then finds them in the cache: the closing line counts them as
    executed, not as taken from the cache."""
    asked = {}
    read = build_mod.read_yaml

    def config(path):  # type: ignore[no-untyped-def]
        cfg = read(path)
        if path.name == "_config.yml":
            cfg["execute"] = {**cfg.get("execute", {}), "timeout": 123}
        return cfg

    def ahead(cache, sources, env, jobs, timeout, **kw):  # type: ignore[no-untyped-def]
        asked["timeout"] = timeout
        return {"book/a": (2.0, None), "book/b": (1.0, "ValueError: x")}

    monkeypatch.setattr(build_mod, "read_yaml", config)
    monkeypatch.setattr(build_mod, "_execute_ahead", ahead)
    _record_runs(monkeypatch, {"book/a.md": "cache", "book/b.md": "3.00 s", "book/c.md": "cache"})
    assert build_book(paths.DEFAULT_WAVE, tmp_path / "r", pdf=False, jobs=2) == 0
    assert asked["timeout"] == 123
    assert "pages executed: 2, taken from the cache: 1;" in " ".join(capsys.readouterr().err.split())


def sphinx_run(tmp_path, monkeypatch, folder: str, lines_of):  # type: ignore[no-untyped-def]
    """``build._run`` reading a Sphinx log (``lines_of(root)``: its lines) of a book in
    ``tmp_path / folder`` whose toc lists book/x and book/survey: (code, failed, executed)."""
    import analysis.report.build as build

    root = tmp_path / folder
    (root / "book").mkdir(parents=True)
    toc = root / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n- chapters:\n  - file: book/x\n"
                   "  - file: book/survey\n", encoding="utf-8")

    class Finished:
        stdout = iter(lines_of(root))

        def wait(self) -> int:
            return 1
    monkeypatch.setattr(build.subprocess, "Popen", lambda *a, **k: Finished())
    return build._run(["jupyter-book", "build", str(root), "--toc", str(toc)], {}, tmp_path / "log", False)


def test_a_failed_page_is_named_with_its_cell_s_own_exception_not_sphinx_s_wrapper(tmp_path, monkeypatch):
    """Sphinx's log says "Executing notebook failed: CellExecutionError", then the traceback, then the
    exception the cell raised: the build names the page with that last line (what the reader of
    the message can act on), and a page that ran is counted as executed."""

    def lines(root):  # type: ignore[no-untyped-def]
        return [
            f"{root}/book/x.md: Executing notebook using local CWD [mystnb]\n",
            f"{root}/book/x.md: WARNING: Executing notebook failed: CellExecutionError [mystnb.exec]\n",
            "Traceback (most recent call last):\n",
            "nbclient.exceptions.CellExecutionError: An error occurred while executing the cell:\n",
            "KeyError: 'first'\n", "During handling of the above exception, another exception occurred:\n",
            "ValueError: boom\n", f"{root}/book/intro.md: Executed notebook in 1.20 seconds [mystnb]\n"]
    code, failed, executed = sphinx_run(tmp_path, monkeypatch, "src", lines)
    assert code == 1
    assert failed == {"book/x.md": "ValueError: boom"}
    assert executed == {"book/intro.md": "1.20 s"}


@pytest.mark.parametrize("folder, last, said", [
    ("my book/src", "ValueError: boom", "ValueError: boom"),
    ("src", "UndeclaredInput: this page reads models", "UndeclaredInput: this page reads models"),
    ("src", "analysis.ingest.provinces.UnknownProvince: 'Atlantis'",
     "analysis.ingest.provinces.UnknownProvince: 'Atlantis'"),
    ("src", "AssertionError", "AssertionError"),
    ("src", "Exception: boom", "Exception: boom"),
    ("src", "StopIteration", "StopIteration"),
    ("src", "KeyboardInterrupt", "KeyboardInterrupt"),
    ("src", "Note: something else", "Executing notebook failed: CellExecutionError [mystnb.exec]")])
def test_a_failed_page_is_named_whatever_its_exception_and_the_folder_s_spaces(tmp_path, monkeypatch, folder,
                                                                              last, said):
    """A build under a folder whose path holds a space still names its pages book/x.md; the cell's
    exception is the last line of the traceback whatever its class is called (the package's own
    UndeclaredInput, a bare AssertionError), while a line that is not an exception is not taken."""

    def lines(root):  # type: ignore[no-untyped-def]
        return [
            f"{root}/book/x.md: Executing notebook using local CWD [mystnb]\n",
            f"{root}/book/x.md: WARNING: Executing notebook failed: CellExecutionError [mystnb.exec]\n",
            "Traceback (most recent call last):\n", "During handling of the above exception:\n", last + "\n",
            f"{root}/book/intro.md: Executed notebook in 1.20 seconds [mystnb]\n"]
    code, failed, executed = sphinx_run(tmp_path, monkeypatch, folder, lines)
    assert failed == {"book/x.md": said}
    assert executed == {"book/intro.md": "1.20 s"}


def test_a_failed_pdf_names_the_folder_kept_as_it_is_spelt(tmp_path, fake_book, monkeypatch, capsys):
    """``--out 'out[v2]'`` and the PDF edition failing: the folder kept is named whole (its
    brackets were read as console markup and dropped: "kept in .../out")."""
    monkeypatch.setattr(build_mod, "chromium", lambda: "/usr/bin/chromium")

    def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("chromium exited 1")
    monkeypatch.setattr(build_mod, "build_pdf", fail)
    out = tmp_path / "out[v2]"
    assert build_book(paths.DEFAULT_WAVE, out, pdf=True, profiles_enabled=False) == 1
    said = " ".join(capsys.readouterr().err.split())
    assert f"PDF edition failed: chromium exited 1; the previous report, if any, is kept in {out.resolve()} " in said


def test_a_report_keeps_its_build_log(tmp_path, fake_book):
    """The log of the build that made a report lies beside its html/ (pages' warnings, timings)."""
    out = tmp_path / "out"
    assert build_book(paths.DEFAULT_WAVE, out, profiles_enabled=False) == 0
    assert (out / "build.log").read_text(encoding="utf-8").startswith("stub build\n")
    assert not list(paths.BUILD.glob(".staging-*")) and not list(paths.BUILD.glob(".tmp-*"))


def test_the_pdf_edition_runs_the_book_once_more_as_one_page_with_the_same_sources(tmp_path, monkeypatch):
    """The single-page build is the HTML build's command with its own output folder and builder:
    the same source folder, config and table of contents, once each."""
    import subprocess

    ran = []

    def run(cmd, **kwargs):  # type: ignore[no-untyped-def]
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 1)
    monkeypatch.setattr(build_mod.subprocess, "run", run)
    cmd = ["jupyter-book", "build", "/src", "--path-output", "/work", "--config", "/c.yml", "--toc", "/t.yml"]
    with pytest.raises(RuntimeError, match=r"the single-page HTML failed \(exit 1\)"):
        build_mod.build_pdf(cmd, {}, tmp_path, tmp_path / "html", "r.pdf", "book/intro")
    assert ran == [["jupyter-book", "build", "/src", "--path-output", str(tmp_path / "single"),
                    "--builder", "singlehtml", "--config", "/c.yml", "--toc", "/t.yml"]]
