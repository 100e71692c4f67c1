"""The PDF edition's printable page, the allowed keys of an optional settings section, README
sections spanning lines, and the folders of builds that may still run."""

from __future__ import annotations

import errno
import subprocess
import sys
import types
from pathlib import Path

import pytest

from analysis import paths
from analysis.report import build as build_mod
from analysis.settings import SettingsError, validate
from analysis.settings.schemas import ModelsSettings


def test_the_pdf_edition_prints_a_copy_of_the_single_page_at_the_singlehtml_root(tmp_path, monkeypatch):
    """build_pdf copies the root doc's single page (book/intro) to singlehtml/print.html, where its
    assets resolve, and hands Chromium that file."""
    work, html = tmp_path / "work", tmp_path / "html"
    work.mkdir()
    html.mkdir()
    root = work / "single" / "_build" / "singlehtml"
    printed: list[str] = []

    def fake_run(args, **kw):  # type: ignore[no-untyped-def]
        if "singlehtml" in args:              # jupyter-book: the whole book as one page
            out = Path(args[args.index("--path-output") + 1])
            page = out / "_build" / "singlehtml" / "book" / "intro.html"
            page.parent.mkdir(parents=True)
            page.write_text("<html>the whole book</html>", encoding="utf-8")
            return subprocess.CompletedProcess(args, 0)
        target = Path(next(a for a in args if a.startswith("--print-to-pdf=")).split("=", 1)[1])
        target.write_bytes(b"%PDF" + b"x" * 20_000)
        printed.append(args[-1])
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(build_mod, "subprocess",
                        types.SimpleNamespace(run=fake_run, STDOUT=subprocess.STDOUT))
    monkeypatch.setattr(build_mod, "chromium", lambda: "/usr/bin/chromium")
    cmd = ["jupyter-book", "build", "src", "--path-output", str(work / "html-out"), "--builder", "html"]
    pdf = build_mod.build_pdf(cmd, {}, work, html, "report.pdf", "book/intro")
    assert pdf == html / "report.pdf"
    assert (root / "print.html").read_text(encoding="utf-8") == "<html>the whole book</html>"
    assert printed == [(root / "print.html").as_uri()]
    assert not (root.parent / "print.html").exists()


def test_an_unknown_key_under_the_optional_wild_section_lists_its_keys_and_the_closest():
    """`wild: {rep: 5}` (an optional `Wild | None`) names the keys reps, weights, seed and suggests reps."""
    spec = {"name": "m", "outcome": "overall", "family": "wls", "weights": "weight", "cluster": "province",
            "wild": {"rep": 5}}
    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, {"models": [spec]}, "data/models.yml")
    said = " ".join(str(e.value).split())
    assert "models.m.wild.rep: unknown key 'rep'; allowed: reps, weights, seed (did you mean 'reps'?)" in said


def test_a_stale_readme_provinces_section_over_several_lines_is_rewritten():
    """readme_sections replaces what lies between the provinces markers, over line breaks, with the table."""
    from analysis.report.pages.rerun import readme_sections

    text = "# title\n\n<!-- provinces:start -->\nstale\nrows\n<!-- provinces:end -->\n\nafter\n"
    out = readme_sections(text)
    assert "stale" not in out and "rows" not in out
    assert out.startswith("# title\n\n<!-- provinces:start -->\n| ")
    assert out.endswith("\n<!-- provinces:end -->\n\nafter\n")
    section = out.split("<!-- provinces:start -->\n")[1].split("<!-- provinces:end -->")[0]
    for cell in ("110000", "Beijing", "北京 / 北京市", "Tibet", "Shanghai"):
        assert cell in section


def test_folders_of_a_build_whose_pid_cannot_be_signalled_are_not_stale(tmp_path, monkeypatch):
    """A pid out of range (2**40) may be a running build: its staging and old folders are not listed."""
    monkeypatch.setattr(paths, "BUILD", tmp_path / "_build")
    (tmp_path / "_build").mkdir()
    site = tmp_path / "site"
    site.mkdir()
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)      # a process that has ended
    huge = 2**40
    for d in (f".staging-w-{huge}", f".old-w-{huge}", f".staging-w-{dead}"):
        (site / d).mkdir()
    assert build_mod._alive(huge) is True
    assert build_mod.stale_folders("w", site / "w") == [site / f".staging-w-{dead}"]


def test_a_process_of_another_user_counts_as_alive(monkeypatch):
    """os.kill refusing the signal (PermissionError: another user's build) means the process runs."""
    def refuse(pid, sig):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(build_mod.os, "kill", refuse)
    assert build_mod._alive(4321) is True
