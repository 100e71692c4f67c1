"""Planted statistical errors: does the test suite kill a wrong estimator written by hand?

mutmut (``benchmarks/mutation.py``) makes syntactic mutants: an operator, a constant, an argument
dropped. A reviewer checking the estimators plants errors of another kind: a factor G/(G−1)
forgotten, z quantiles for t, the unrestricted residuals in a null-imposed bootstrap, weights
ignored, a df counted from respondents instead of PSUs, a sign flipped in a marginal effect. This
script holds such errors, written by hand against the code as it stands
(``benchmarks/semantic_mutants.yml``), plants each one alone in a copy of the project, and runs the
tests named as its judge there. An error is killed when a test fails (pytest exit 1).

Each entry::

    - id: cr1-no-small-sample-factor         # unique
      kind: factor                           # or sign, quantile, residual, weight, df, formula, tolerance
      file: analysis/estimation/regression.py
      old: "exact text, found once in the file"
      new: "the text planted instead"
      what: the statistical error, in one sentence
      judge: "tests/test_regression.py"      # pytest arguments

Slow (about a minute an error on two cores), never part of CI::

    .venv/bin/python benchmarks/semantic.py                  # every error; writes the dated report
    .venv/bin/python benchmarks/semantic.py --only cr1-no-small-sample-factor --only webb-variance
    .venv/bin/python benchmarks/semantic.py --check          # every entry still applies (no tests run)
    .venv/bin/python benchmarks/semantic.py --suite "tests -m 'not slow'"   # one judge for all

The judge of each entry is first run on the unchanged copy and must pass there: a judge that
already fails would "kill" every error. A judge that cannot run (pytest exit 2 to 5) is reported
as an error, not as a kill. When the code an entry names changes, ``--check`` (and the test
``tests/test_semantic_script.py``) says which entry no longer applies: it is then written again
against the new code, not dropped.

The report goes to ``benchmarks/results/semantic-<date>.md`` (a second run the same day appends its
section): per error its kind, file, verdict, seconds and the test that killed it.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "benchmarks" / "semantic_mutants.yml"
RESULTS = ROOT / "benchmarks" / "results"
KINDS = ("factor", "sign", "quantile", "residual", "weight", "df", "formula", "tolerance")
FIELDS = ("id", "kind", "file", "old", "new", "what", "judge")


@dataclass(frozen=True)
class Planted:
    """One error planted by hand (an entry of :data:`MUTANTS`)."""

    id: str
    kind: str
    file: str
    old: str
    new: str
    what: str
    judge: str


def load(path: Path = MUTANTS) -> list[Planted]:
    """The entries of ``path``; a malformed entry is refused with its position and the rule broken."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise SystemExit(f"{path.name}: a list of entries is expected")
    out, seen = [], set()
    for i, e in enumerate(raw, start=1):
        where = f"{path.name}, entry {i}"
        if not isinstance(e, dict) or set(e) != set(FIELDS):
            got = sorted(e) if isinstance(e, dict) else type(e).__name__
            raise SystemExit(f"{where}: the fields must be {', '.join(FIELDS)}; got {got}")
        if not all(isinstance(e[f], str) and e[f] for f in FIELDS):
            raise SystemExit(f"{where}: every field is a non-empty string")
        if e["kind"] not in KINDS:
            raise SystemExit(f"{where} ({e['id']}): kind {e['kind']!r} is not one of {', '.join(KINDS)}")
        if e["id"] in seen:
            raise SystemExit(f"{where}: the id {e['id']!r} is used twice")
        seen.add(e["id"])
        out.append(Planted(**{f: e[f] for f in FIELDS}))
    return out


def problems(entries: list[Planted], root: Path = ROOT) -> list[str]:
    """Why entries no longer apply to the code under ``root``: not found once, no change, or a
    planted file that cannot be read (see :func:`_unreadable`). Empty when every entry applies."""
    out = []
    for e in entries:
        path = root / e.file
        if not path.is_file():
            out.append(f"{e.id}: {e.file} does not exist")
            continue
        text = path.read_text(encoding="utf-8")
        n = text.count(e.old)
        if n != 1:
            out.append(f"{e.id}: its old text is found {n} times in {e.file} (once is needed): "
                       "write the entry again against the code as it stands")
        elif e.old == e.new:
            out.append(f"{e.id}: old and new are the same text")
        elif why := _unreadable(text.replace(e.old, e.new), e.file):
            out.append(f"{e.id}: the planted {e.file} {why}")
    return out


def _unreadable(text: str, name: str) -> str:
    """Why a planted file could not even be read ('' when it can): Python that does not compile, a
    message catalogue (``.po``, the Chinese edition's translations) with a line that is not a
    keyword and a quoted string, or that babel cannot parse. An error that only breaks the reading
    would be killed by any test, and tell nothing."""
    if name.endswith(".py"):
        try:
            compile(text, name, "exec")
        except SyntaxError as err:
            return f"does not compile ({err.msg}, line {err.lineno})"
    elif name.endswith(".po"):
        from babel.messages.pofile import PoFileError, read_po

        # babel reads an unbalanced quote as an empty translation: each line is checked first
        quoted = r'"(?:[^"\\]|\\.)*"'
        line_ok = re.compile(rf"(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?{quoted}")
        for i, line in enumerate(text.splitlines(), start=1):
            if line.strip() and not line.startswith("#") and not line_ok.fullmatch(line.strip()):
                return f"is not a valid message catalogue (line {i})"
        try:
            read_po(io.StringIO(text), abort_invalid=True)
        except PoFileError as err:
            return f"is not a valid message catalogue ({err})"
    return ""


def copy_project(dest: Path, root: Path = ROOT) -> None:
    """The files git tracks, as they are in the working tree (changes not yet committed included)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src = root / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run_judge(where: Path, judge: str, timeout: float) -> tuple[int, float, str]:
    """pytest's exit code (-1: timed out), the seconds it took, and the first test that failed or
    raised an error."""
    args = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--tb=no",
            "-rfE", *shlex.split(judge)]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.monotonic()
    try:
        p = subprocess.run(args, cwd=where, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - start, ""
    failed = next((ln.split(" ", 1)[1].split(" - ")[0] for ln in p.stdout.splitlines()
                   if ln.startswith(("FAILED ", "ERROR "))), "")      # a test's error (a crash) too
    return p.returncode, time.monotonic() - start, failed


def verdict(code: int) -> str:
    return {0: "survived", 1: "killed", -1: "timeout"}.get(code, f"error (pytest exit {code})")


def plant_all(entries: list[Planted], suite: str | None = None, root: Path = ROOT,
              timeout: float = 1800) -> list[dict]:
    """Plant each entry alone in one copy of the project under ``root`` and judge it; the copy is
    restored after each. Raises when a judge fails on the unchanged copy."""
    results = []
    with tempfile.TemporaryDirectory(prefix="semantic-") as tmp:
        work = Path(tmp)
        copy_project(work, root)
        clean: dict[str, float] = {}
        for i, e in enumerate(entries, start=1):
            judge = suite or e.judge
            if judge not in clean:
                code, took, failed = run_judge(work, judge, timeout)
                if code != 0:
                    raise SystemExit(f"the judge of {e.id} fails on the unchanged code (pytest exit {code}"
                                     f"{', ' + failed if failed else ''}): pytest {judge}")
                clean[judge] = took
            path = work / e.file
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(e.old, e.new), encoding="utf-8")
            try:
                code, took, failed = run_judge(work, judge, max(60.0, 4 * clean[judge] + 30))
            finally:
                path.write_text(original, encoding="utf-8")
            results.append({"entry": e, "judge": judge, "verdict": verdict(code), "seconds": took,
                            "failed": failed})
            print(f"[{i}/{len(entries)}] {e.id}: {verdict(code)} ({took:.0f} s) {failed}", flush=True)
    return results


def report(results: list[dict], commit: str, command: str, started: datetime | None = None) -> str:
    """The Markdown report of a run (started at ``started``)."""
    killed = sum(r["verdict"] in ("killed", "timeout") for r in results)
    lines = [f"## Run of {(started or datetime.now()):%H:%M}", "", f"Commit {commit}; `{command}`.", "",
             f"**{killed} of {len(results)} killed** (a test failed; a timeout counts as killed).", "",
             "| error | kind | file | verdict | s | what | killed by |",
             "|---|---|---|---|---:|---|---|"]
    for r in results:
        e = r["entry"]
        lines.append(f"| `{e.id}` | {e.kind} | `{e.file}` | {r['verdict']} | {r['seconds']:.0f} | "
                     f"{e.what} | {('`' + r['failed'] + '`') if r['failed'] else ''} |")
    survivors = [r for r in results if r["verdict"] not in ("killed", "timeout")]
    if survivors:
        lines += ["", "Not killed:", ""]
        lines += [f"- `{r['entry'].id}` ({r['verdict']}), judged by `pytest {r['judge']}`" for r in survivors]
    return "\n".join(lines) + "\n"


def shown_command(argv: list[str]) -> str:
    """The command as the committed report shows it: an entries file (``--file``) by its path in
    the project, or by its name alone when it lies elsewhere (no machine's paths in the report)."""
    def shown(path: str) -> str:
        p = Path(path).resolve()
        return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else p.name

    out, after_file = [], False
    for arg in argv:
        if after_file:
            arg = shown(arg)
        elif arg.startswith("--file="):
            arg = "--file=" + shown(arg.split("=", 1)[1])
        after_file = arg == "--file"
        out.append(shlex.quote(arg))
    return " ".join(["benchmarks/semantic.py", *out])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="ID", help="plant only this entry (repeatable)")
    ap.add_argument("--check", action="store_true", help="only check that every entry applies")
    ap.add_argument("--suite", metavar="PYTEST_ARGS", help="judge every entry by these pytest arguments")
    ap.add_argument("--file", type=Path, default=MUTANTS, help="the entries (default: %(default)s)")
    a = ap.parse_args(argv)
    entries = load(a.file)
    if a.only:
        unknown = set(a.only) - {e.id for e in entries}
        if unknown:
            raise SystemExit(f"no entry {', '.join(sorted(unknown))} in {a.file.name}")
        entries = [e for e in entries if e.id in a.only]
    bad = problems(entries)
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    if a.check:
        print(f"{len(entries)} entries apply to the code as it stands")
        return 0
    started = datetime.now()              # the commit the copy is made of, not the one at the end
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!benchmarks/results"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()    # the reports are not code
    results = plant_all(entries, a.suite)
    command = shown_command(argv or sys.argv[1:])
    commit += " (with changes not committed)" if dirty else ""
    text = report(results, commit, command.strip(), started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"semantic-{date.today().isoformat()}.md"
    intro = (__doc__ or "").split("\n\n")[1]                     # what the errors are, how judged
    head = (out.read_text(encoding="utf-8") + "\n" if out.exists()
            else f"# Planted statistical errors, {date.today().isoformat()}\n\n{intro}\n\n")
    out.write_text(head + text, encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    return 0 if all(r["verdict"] in ("killed", "timeout") for r in results) else 2


if __name__ == "__main__":
    sys.exit(main())
