"""Mutation score of the estimators: how many deliberate one-line errors the test suite kills.

Runs mutmut (configuration in pyproject.toml, ``[tool.mutmut]``: which files are mutated and
which test files judge them) on the modules named on the command line, then writes
``benchmarks/results/mutation-<date>.md``: per module the mutants killed (a test failed or timed
out), survived, declared equivalent (``benchmarks/mutation_equivalent.txt``, one line per mutant
with the reason) and not run, and the list of non-equivalent survivors.

Slow (minutes per module on two cores), never part of CI::

    .venv/bin/python benchmarks/mutation.py regression design      # analysis/estimation/<m>.py
    .venv/bin/python benchmarks/mutation.py disclosure tables      # analysis/publishing/<m>.py
    .venv/bin/python benchmarks/mutation.py --report-only regression
    .venv/bin/python benchmarks/mutation.py ordinal --only 'analysis.estimation.ordinal.x_brant*'

A constructor or the index builder is called by nearly every test, so each of its mutants runs
the whole selection (minutes each): ``--only`` selects the functions a run can afford, and
``--tests`` judges them by some test files alone (a conservative score: a mutant only another
file would kill counts as survived)::

    .venv/bin/python benchmarks/mutation.py index --only 'analysis.estimation.index.x_aggregate*' \
        --tests tests/test_index.py --tests tests/test_replica.py

Score = killed / (killed + survived − equivalent), over the mutants that were run.

After tests are added, ``--survivors-of REPORT`` runs again only the mutants that report lists
as surviving in the modules named (the others were killed by tests that are still there)::

    .venv/bin/python benchmarks/mutation.py binary frames --survivors-of benchmarks/results/mutation-2026-11-30.md

A second run on the same day appends its section to that day's report (the first run's table and
the notes written under it are kept).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.txt"
PACKAGES = ("estimation", "publishing")                       # [tool.mutmut] only_mutate
KILLED = {1, 3, 24, -24, 36, 152, 255, -9, -11}            # a failing test, a timeout, a crash
TIMEOUT = {24, -24, 36, 152, 255}                              # mutmut's timeout codes (CPU limit, wall clock)


def package(module: str) -> str:
    """The package of a mutated module: ``estimation`` or ``publishing``."""
    for pkg in PACKAGES:
        if (ROOT / "analysis" / pkg / f"{module}.py").exists():
            return pkg
    raise SystemExit(f"no module {module!r} in analysis/{' or analysis/'.join(PACKAGES)}")


def dotted(module: str) -> str:
    """The module's dotted name, the prefix of its mutants' names."""
    return f"analysis.{package(module)}.{module}"


def equivalent() -> dict[str, str]:
    """Mutants judged equivalent (same behaviour as the original), with the reason."""
    out = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                out[name.strip()] = why.strip()
    return out


def tally(module: str, only: list[str] | None = None) -> dict:
    """Counts and survivors of ``analysis/<package>/<module>.py`` from mutmut's results
    (``only``: the mutants matching these patterns, the functions a run selected)."""
    meta = ROOT / "mutants" / "analysis" / package(module) / f"{module}.py.meta"
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    if only:
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in only)}
    eq = equivalent()
    c: Counter = Counter()
    survivors = []
    for name, code in sorted(codes.items()):
        if code is None:
            c["not run"] += 1
        elif code in KILLED:
            c["killed"] += 1
            if code in TIMEOUT:
                c["of which timeout"] += 1
        elif code == 0 and name in eq:
            c["equivalent"] += 1
        elif code == 0:
            c["survived"] += 1
            survivors.append(name)
        else:
            c["no test / other"] += 1
    judged = c["killed"] + c["survived"]
    return {"module": module, "mutants": len(codes), **c,
            "score": (c["killed"] / judged) if judged else float("nan"), "survivors": survivors}


def survivors_of(report: Path, modules: list[str]) -> list[str]:
    """The surviving mutants an earlier report lists for these modules (its last run of each)."""
    last: dict[str, list[str]] = {}
    module = None
    for line in report.read_text(encoding="utf-8").splitlines():
        if line.startswith("### Surviving mutants of "):
            module = line.removeprefix("### Surviving mutants of ").strip()
            last[module] = []
        elif line.startswith("#"):
            module = None
        elif module and line.startswith("- `"):
            last[module].append(line.strip("- `"))
    return [name for m in modules for name in last.get(m, [])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="+", help="modules of analysis/estimation or analysis/publishing (e.g. regression disclosure)")
    ap.add_argument("--report-only", action="store_true", help="only tally the last run")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="mutate only the functions matching this mutmut pattern (repeatable), e.g. "
                         "'analysis.estimation.ordinal.x_brant*'; the table then counts those alone")
    ap.add_argument("--tests", action="append", metavar="FILE",
                    help="judge with these test files of the configured selection only (repeatable)")
    ap.add_argument("--survivors-of", metavar="REPORT", type=Path,
                    help="run only the mutants this earlier report lists as surviving (its last run of each module)")
    a = ap.parse_args()
    if a.survivors_of:
        a.only = [*(a.only or []), *survivors_of(a.survivors_of, a.modules)]
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    if not a.report_only:
        targets = a.only or [f"{dotted(m)}.*" for m in a.modules]
        env = dict(os.environ)
        if a.tests:                 # pytest's -k matches a test's module name among its keywords
            env["PYTEST_ADDOPTS"] = "-k '" + " or ".join(Path(t).name for t in a.tests) + "'"
        subprocess.run([mutmut, "run", "--max-children", str(a.max_children), *targets], cwd=ROOT,
                       check=False, env=env)
    only = a.only
    rows = [tally(m, [p for p in only if p.startswith(f"{dotted(m)}.")] if only else None)
            for m in a.modules]
    cols = ["mutants", "killed", "of which timeout", "survived", "equivalent", "not run", "no test / other"]
    out = RESULTS / f"mutation-{date.today().isoformat()}.md"
    head = [] if out.exists() else [f"# Mutation score, {date.today().isoformat()}", ""]
    lines = head + [f"## Run of {datetime.now():%H:%M}: " + ", ".join(a.modules), "",
                    "Command: `.venv/bin/python benchmarks/mutation.py " + " ".join(a.modules)
                    + (f" --survivors-of {a.survivors_of}" if a.survivors_of else "")
                    + "".join(f" --only '{p}'" for p in (only or []) if not a.survivors_of)
                    + "".join(f" --tests {t}" for t in (a.tests or [])) + "` "
                    "(mutmut 3.8; tests judged: `[tool.mutmut]` in pyproject.toml).", "",
                    "| module | " + " | ".join(cols) + " | score |", "|---|" + "---:|" * (len(cols) + 1)]
    for r in rows:
        lines.append(f"| {r['module']} | " + " | ".join(str(r.get(k, 0)) for k in cols)
                     + (f" | {100 * r['score']:.1f} % |" if r["score"] == r["score"] else " | — |"))
    lines += ["", "Score = killed / (killed + survived), equivalent mutants excluded; a timeout counts as killed "
              "(mutmut's convention; on a busy machine some timeouts are the machine, not the mutant: "
              "their number is shown).", ""]
    for r in rows:
        if r["survivors"]:
            lines += [f"### Surviving mutants of {r['module']}", ""] + [f"- `{s}`" for s in r["survivors"]] + [""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = out.read_text(encoding="utf-8").rstrip("\n") + "\n\n" if out.exists() else ""
    out.write_text(previous + "\n".join(lines), encoding="utf-8")
    print("\n".join(lines[len(head):len(head) + 6 + len(rows)]))
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
