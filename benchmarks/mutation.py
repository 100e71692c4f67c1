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

When mutmut's own choice of tests does not fit (a function first called by a session fixture,
where mutmut maps no test to it; or a module whose every test starts a Dask cluster), ``--judge``
runs each selected mutant against the pytest arguments given, itself: mutmut only generates the
mutants, then every mutant runs ``pytest -x ARGS`` in ``mutants/`` with ``MUTANT_UNDER_TEST`` set
(in a fork of a process that imported the package once; ``--max-children`` at once), after a
clean run that must pass and a forced-fail run that must fail (so the tests do reach the mutated
module). A mutant taking longer than 4× the clean run counts as killed (timeout); ``--resume``
goes on with a stopped run (only the mutants without a verdict), ``--survivors`` judges again
only the mutants that survived (after tests were added for them)::

    .venv/bin/python benchmarks/mutation.py stream --only 'analysis.estimation.stream.x__variance_from_cells*' \
        --judge "tests/test_stream.py -k 'equals_in_memory and not dask'"

For figures, ``--skip-style`` does not run the mutants whose every change is to a style argument
(a size, a line width, a font, a literal colour: :data:`STYLE_KEYWORDS`, :data:`COLOR_KEYWORDS`):
they are counted as "style only", apart from the score::

    .venv/bin/python benchmarks/mutation.py figures --skip-style --judge "tests/test_figures.py"

A second run on the same day appends its section to that day's report (the first run's table and
the notes written under it are kept).

Which code has been judged as it now stands: every run records, in
``benchmarks/mutation_judged.txt``, each function whose every mutant now has a verdict and was
made from its code as it stands, with a hash of that code (:func:`code_hash`: its tokens, comments
and layout aside), the commit, and its counts.
``--stale`` compares those hashes with the code as it stands and lists the functions never judged
or changed since, and the lines of ``benchmarks/mutation_equivalent.txt`` that name mutants of
a changed function (a change renumbers mutants: such a line may now name another one)::

    .venv/bin/python benchmarks/mutation.py --stale                  # every mutated module
    .venv/bin/python benchmarks/mutation.py --stale frames suite
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import hashlib
import io
import json
import os
import queue
import re
import shlex
import subprocess
import sys
import threading
import tokenize
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.txt"
JUDGED = ROOT / "benchmarks" / "mutation_judged.txt"
PACKAGES = ("estimation", "publishing")                       # [tool.mutmut] only_mutate
KILLED = {1, 3, 24, -24, 36, 152, 255, -9, -11}            # a failing test, a timeout, a crash
TIMEOUT = {24, -24, 36, 152, 255}                              # mutmut's timeout codes (CPU limit, wall clock)
STYLE = 37                                                     # this script's code: a style-only mutant, not judged

STYLE_KEYWORDS = frozenset({
    "figsize", "fontsize", "labelsize", "size", "font_scale", "s", "ms", "lw", "linewidth", "linewidths", "ls", "linestyle",
    "alpha", "pad", "shrink", "aspect", "height", "fliersize", "capsize", "zorder", "ha", "va", "loc",
    "bbox_to_anchor", "frameon", "style", "boxstyle", "wrap", "rc", "dpi", "marker", "error_kw",
    "arrowprops", "bbox", "context"})
"""Keyword arguments of a drawing call that set how a mark looks, not what it shows: a mutant
that changes only their values (or drops them) is a style change, not a wrong number."""
COLOR_KEYWORDS = frozenset({"color", "colors", "facecolor", "facecolors", "edgecolor", "edgecolors", "ec",
                            "fc", "cmap", "palette"})
"""Colour arguments: a style change only where the original is a literal (the house colours); a
colour computed from the data (a region's) shows something and is judged."""


def package(module: str) -> str:
    """The package of a mutated module: ``estimation`` or ``publishing``."""
    for pkg in PACKAGES:
        if (ROOT / "analysis" / pkg / f"{module}.py").exists():
            return pkg
    raise SystemExit(f"no module {module!r} in analysis/{' or analysis/'.join(PACKAGES)}")


def dotted(module: str) -> str:
    """The module's dotted name, the prefix of its mutants' names."""
    return f"analysis.{package(module)}.{module}"


def code_hash(source: str) -> str:
    """A hash of a function's code as mutmut reads it: its tokens from ``def`` on, without its
    name, comments (but ``pragma`` ones) or line breaks. A change of layout or comment keeps it; any
    other change, a string split or joined, a docstring, changes it (mutmut mutates each piece of a
    split string, and skips only triple-quoted ones), since it may add, remove or renumber mutants."""
    parts, named = [], False
    for t in tokenize.generate_tokens(io.StringIO(source).readline):
        if t.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER) \
                or (t.type == tokenize.COMMENT and "pragma" not in t.string):
            continue
        if not named and parts == ["def"]:                  # the function's own name
            named = True
            continue
        parts.append(t.string)
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]


def _functions(text: str) -> dict[str, ast.AST]:
    """mutmut's name of each function and method a module's source defines, without the module
    prefix (``x_f``, ``xǁClassǁmethod``) → its node. mutmut leaves decorated functions alone
    (properties, caches) but for class and static methods: so does this list."""
    def mutated(fn: ast.AST) -> bool:
        return isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and all(
            isinstance(d, ast.Name) and d.id in ("classmethod", "staticmethod") for d in fn.decorator_list)

    out: dict[str, ast.AST] = {}
    for node in ast.parse(text).body:
        if mutated(node):                                     # mutmut's originals are named already
            name = node.name                                  # type: ignore[attr-defined]
            out[name if name.endswith("__mutmut_orig") else f"x_{name}"] = node
        elif isinstance(node, ast.ClassDef):
            for n in node.body:
                if mutated(n):
                    out[n.name if n.name.endswith("__mutmut_orig") else f"xǁ{node.name}ǁ{n.name}"] = n
    return out


def _hashes(text: str, prefix: str) -> dict[str, str]:
    lines = text.splitlines(keepends=True)
    return {f"{prefix}.{name}": code_hash("".join(lines[n.lineno - 1:n.end_lineno]))  # type: ignore
            for name, n in _functions(text).items()}


def source_hashes(module: str, text: str | None = None) -> dict[str, str]:
    """mutmut's name of each function and method of the module (``analysis.estimation.m.x_f``,
    ``analysis.estimation.m.xǁClassǁmethod``) → :func:`code_hash` of its code. ``text``: the
    module's source (by default read from ``analysis/``)."""
    if text is None:
        text = (ROOT / "analysis" / package(module) / f"{module}.py").read_text(encoding="utf-8")
    return {k: v for k, v in _hashes(text, dotted(module)).items() if not k.endswith("__mutmut_orig")}


def mutated_hashes(module: str) -> dict[str, str]:
    """The same hashes of the code the mutants in ``mutants/`` were made from: mutmut keeps each
    mutated function's original as ``<name>__mutmut_orig`` (a function it made no mutant of keeps
    its name). Verdicts count for the code as it stands only where the two hashes agree."""
    path = ROOT / "mutants" / "analysis" / package(module) / f"{module}.py"
    if not path.exists():
        return {}
    found = _hashes(path.read_text(encoding="utf-8"), dotted(module))
    out = {k.removesuffix("__mutmut_orig"): v for k, v in found.items() if k.endswith("__mutmut_orig")}
    return {**{k: v for k, v in found.items() if "__mutmut_" not in k}, **out}


def judged_record() -> dict[str, list[str]]:
    """``benchmarks/mutation_judged.txt``: function → [hash, date, commit, counts...]."""
    out = {}
    if JUDGED.exists():
        for line in JUDGED.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                name, *rest = line.split()
                out[name] = rest
    return out


def record_judged(module: str, only: list[str] | None = None) -> list[str]:
    """Add to ``benchmarks/mutation_judged.txt`` each function of ``module`` (of those ``only``
    selects) whose every mutant has a verdict in ``mutants/`` (or that has no mutant), made from
    its code as it stands (:func:`mutated_hashes`), with the hash, today's date, the commit and its
    counts (mutants, killed, equivalent, survived, style only); the functions recorded."""
    meta = ROOT / "mutants" / "analysis" / package(module) / f"{module}.py.meta"
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    by_function: dict[str, dict[str, int | None]] = {}
    for name, code in codes.items():                 # every mutant of a function, selected or not
        by_function.setdefault(name.rpartition("__mutmut_")[0], {})[name] = code
    hashes, made, eq = source_hashes(module), mutated_hashes(module), equivalent()

    def selected(fn: str) -> bool:
        names = list(by_function.get(fn, {})) or [f"{fn}__mutmut_1"]
        return not only or any(fnmatch.fnmatch(n, p) for n in names for p in only)

    status = subprocess.run(["git", "status", "--porcelain", "--", "analysis"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    commit = (subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip() or "-") + ("+dirty" if status else "")
    record = judged_record()
    done = []
    for fn in sorted(hashes):
        got = by_function.get(fn, {})
        if not selected(fn) or made.get(fn) != hashes[fn]:
            continue                                  # not in this run, or mutants of other code
        verdicts = [verdict(c) for c in got.values()]
        if "not run" in verdicts or "no test / other" in verdicts:
            continue
        eqs = sum(v == "survived" and n in eq for n, v in zip(got, verdicts))
        record[fn] = [hashes[fn], date.today().isoformat(), commit, str(len(got)),
                      str(sum(v in ("killed", "timeout") for v in verdicts)), str(eqs),
                      str(verdicts.count("survived") - eqs), str(verdicts.count("style only"))]
        done.append(fn)
    lines = ["# Functions whose every mutant was judged, as their code then stood (benchmarks/mutation.py",
             "# writes it; --stale compares it with the code as it stands). Columns: function, hash of its",
             "# code (benchmarks/mutation.py code_hash), date, commit, mutants, killed (timeouts included),",
             "# equivalent, survived, style only.",
             "# 'seeded': entered when this record began (2026-12-03), from the reports' runs and the git",
             "# history: the code as it stood three hours before a run's report (a run judges its worktree's",
             "# commit, made before it); a function changed within those hours was not entered."]
    lines += [" ".join([name, *rest]) for name, rest in sorted(record.items())]
    JUDGED.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return done


def stale(modules: list[str]) -> list[str]:
    """Lines saying which functions of ``modules`` are not judged as they now stand: never
    judged, or changed since (with the equivalence lines naming their mutants, which a change may
    have renumbered)."""
    record, eq = judged_record(), equivalent()
    out = []
    for module in modules:
        for fn, h in source_hashes(module).items():
            rec = record.get(fn)
            if rec is None:
                lines = sum(n.rpartition("__mutmut_")[0] == fn for n in eq)
                out.append(f"{fn}: never judged"
                           + (f" ({lines} equivalence lines name its mutants)" if lines else ""))
            elif rec[0] != h:
                out.append(f"{fn}: changed since judged on {rec[1]} at {rec[2]}")
                out += [f"    equivalence line to check: {n}" for n in sorted(eq)
                        if n.rpartition("__mutmut_")[0] == fn]
    return out


def all_modules() -> list[str]:
    """Every module the mutation score covers (``[tool.mutmut]`` mutates these two packages)."""
    return sorted(p.stem for pkg in PACKAGES for p in (ROOT / "analysis" / pkg).glob("*.py")
                  if p.stem != "__init__")


def equivalent() -> dict[str, str]:
    """Mutants judged equivalent (same behaviour as the original), with the reason; a mutant named
    on two lines is refused (two reasons, possibly written for two different diffs: one is stale)."""
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    if EQUIVALENT.exists():
        for number, line in enumerate(EQUIVALENT.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() and not line.startswith("#"):
                name, _, why = line.partition(" ")
                name = name.strip()
                if name in out:
                    raise SystemExit(f"{EQUIVALENT.name}: {name} is named on lines {first[name]} and "
                                     f"{number}; keep the line that reads its present diff")
                out[name], first[name] = why.strip(), number
    return out


def verdict(code: int | None) -> str:
    """What a mutant's exit code says: not run, killed, timeout (killed), survived, style only
    (not judged: :func:`style_only`), or no test / other (pytest found nothing to run, or stopped
    on an error of its own)."""
    if code is None:
        return "not run"
    if code == STYLE:
        return "style only"
    if code in KILLED:
        return "timeout" if code in TIMEOUT else "killed"
    return "survived" if code == 0 else "no test / other"


def _differences(a, b, keyword: tuple | None = None):  # type: ignore[no-untyped-def]
    """The places where two syntax trees differ, each as the keyword argument it sits in:
    (name, the original's value) or None; keyword arguments of a call are matched by name (a
    dropped one differs)."""
    if type(a) is not type(b) or (isinstance(a, list) and len(a) != len(b)):
        yield keyword
    elif isinstance(a, list):
        for x, y in zip(a, b):
            yield from _differences(x, y, keyword)
    elif isinstance(a, ast.AST):
        for field in a._fields:
            va, vb = getattr(a, field, None), getattr(b, field, None)
            if isinstance(a, ast.Call) and field == "keywords":
                ka, kb = {k.arg: k.value for k in va}, {k.arg: k.value for k in vb}
                for name in ka.keys() ^ kb.keys():
                    yield keyword or (name, ka.get(name))
                for name in ka.keys() & kb.keys():
                    yield from _differences(ka[name], kb[name], keyword or (name, ka[name]))
            elif field != "ctx":
                yield from _differences(va, vb, keyword)
    elif a != b:
        yield keyword


def _is_style(keyword: tuple | None) -> bool:
    """Whether a difference inside this keyword argument (name, original value) is a style one."""
    if keyword is None:
        return False
    name, value = keyword
    return name in STYLE_KEYWORDS or (name in COLOR_KEYWORDS and isinstance(value, ast.Constant))


def style_only(module: str) -> set[str]:
    """The mutants of ``module`` (in ``mutants/``) whose every change is to the value of a style
    argument (:data:`STYLE_KEYWORDS`; a literal colour of :data:`COLOR_KEYWORDS`) or drops one:
    a figure's look, not what it shows."""
    path = ROOT / "mutants" / "analysis" / package(module) / f"{module}.py"
    funcs = {n.name: n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out = set()
    for name, fn in funcs.items():
        base, sep, number = name.rpartition("__mutmut_")
        orig = funcs.get(f"{base}__mutmut_orig")
        if not sep or number == "orig" or orig is None:
            continue
        diffs = list(_differences(orig.body, fn.body))
        if diffs and all(_is_style(kw) for kw in diffs):
            out.add(f"{dotted(module)}.{name}")
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
        v = verdict(code)
        if v == "timeout":
            c["killed"] += 1
            c["of which timeout"] += 1
        elif v == "survived" and name in eq:
            c["equivalent"] += 1
        else:
            c[v] += 1
            if v == "survived":
                survivors.append(name)
    judged = c["killed"] + c["survived"]
    return {"module": module, "mutants": len(codes), **c,
            "score": (c["killed"] / judged) if judged else float("nan"), "survivors": survivors}


GENERATE = """
import os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants, setup_source_paths
from mutmut.mutation.trampoline import set_mutant_under_test
os.makedirs("mutants", exist_ok=True)
set_mutant_under_test("mutant_generation")
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)
"""


WORKER = """
import json, os, signal, sys, time
sys.path.insert(0, os.getcwd())
import pytest
import importlib, pkgutil
for module in sys.argv[3:]:     # imported once, before any mutant is chosen: each fork starts here
    if module.endswith(".*"):   # a package and every module in it
        package = importlib.import_module(module[:-2])
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    else:
        importlib.import_module(module)
args = json.loads(sys.argv[1])
for line in sys.stdin:
    name, timeout = json.loads(line)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.environ["MUTANT_UNDER_TEST"] = name
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1), os.dup2(null, 2)
        os._exit(int(pytest.main(args)))
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if timeout is not None and time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            code = 36           # mutmut's code for a wall-clock timeout
            break
        time.sleep(0.05)
    print(json.dumps([code, time.monotonic() - start]), flush=True)
"""
"""A judge: imports pytest and the modules named once, then for each (mutant, timeout) line on
its input forks, runs pytest in the fork with ``MUTANT_UNDER_TEST`` set, and prints (exit code,
seconds): the imports, most of a short test run's time, are not repeated per mutant (mutmut's own
runner forks the same way)."""

PRELOAD = ("numpy", "pandas", "scipy.stats", "statsmodels.api", "pyarrow.parquet", "duckdb", "analysis.*",
           "matplotlib.pyplot", "seaborn", "hypothesis")
"""What a judge imports before forking: the package's every module (``.*``: the test modules import
many that the command line imports only when needed) and what every test needs; hypothesis, which
its pytest plugin imports at the end of every run (about 2 s)."""


class Judge:
    """One forking judge process (:data:`WORKER`) in ``mutants/``."""

    def __init__(self, pytest_args: list[str], preload: tuple[str, ...] | None = None) -> None:
        preload = PRELOAD if preload is None else preload
        # bytecode written even where the environment turns it off: each fork imports the test
        # modules and the instrumented package modules not preloaded, and compiling those mutated
        # sources anew took seconds per mutant (mutants/ is generated, so its caches are too)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(pytest_args), "--", *preload],
                                     cwd=ROOT / "mutants", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env)

    def run(self, mutant: str, timeout: float | None = None) -> tuple[int, float]:
        """pytest's exit code with ``mutant`` active (36: timed out), and the seconds it took."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps([mutant, timeout]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the judge process stopped (exit {self.proc.wait()})")
        code, seconds = json.loads(line)
        return int(code), float(seconds)

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait()


def judge(modules: list[str], only: list[str] | None, pytest_args: str, children: int = 1,
          preload: tuple[str, ...] | None = None, resume: bool = False, survivors: bool = False,
          skip_style: bool = False) -> None:
    """Generate the mutants with mutmut, then run each selected one against ``pytest -x
    pytest_args`` in ``mutants/`` (``children`` judges at once) and store its exit code where
    mutmut keeps its own results (so that ``tally`` and ``--report-only`` read them as any run's);
    ``resume``: only the mutants without a verdict yet (a stopped run goes on); ``survivors``:
    only those that survived their last judging (after tests were added for them);
    ``skip_style``: the style-only mutants (:func:`style_only`) are not run, recorded as such."""
    subprocess.run([sys.executable, "-c", GENERATE], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    # a verdict needs pass or fail alone: no traceback (to show one pytest parses the mutated
    # module, every mutant of it, and a killed mutant took 10 s) and plain asserts (the rewriting of
    # every imported test module was about half of a short judging run's collection)
    args = ["-x", "-q", "-p", "no:cacheprovider", "--tb=no", "--assert=plain", *shlex.split(pytest_args)]
    judges = [Judge(args, preload) for _ in range(max(1, children))]
    try:
        clean, seconds = judges[0].run("")
        if clean != 0:
            raise SystemExit(f"the judging tests fail without any mutant (pytest exit {clean}): "
                             f"pytest {' '.join(args)}")
        if judges[0].run("fail")[0] == 0:
            raise SystemExit("the judging tests pass when every mutated function raises: they do not reach "
                             f"the modules {', '.join(modules)}")
        for module in modules:
            meta = ROOT / "mutants" / "analysis" / package(module) / f"{module}.py.meta"
            data = json.loads(meta.read_text())
            names = [k for k, v in sorted(data["exit_code_by_key"].items())
                     if (not only or any(fnmatch.fnmatch(k, p) for p in only))
                     and not (resume and v is not None) and not (survivors and v != 0)]
            if skip_style:
                style = style_only(module)
                for k in names:
                    if k in style:
                        data["exit_code_by_key"][k] = STYLE
                meta.write_text(json.dumps(data))
                names = [k for k in names if k not in style]
            idle: queue.Queue = queue.Queue()
            for j in judges:
                idle.put(j)
            lock = threading.Lock()
            done = 0

            def one(name: str) -> None:
                nonlocal done
                j = idle.get()
                try:
                    code, took = j.run(name, timeout=4 * seconds + 10)
                finally:
                    idle.put(j)
                with lock:
                    done += 1
                    data["exit_code_by_key"][name] = code
                    meta.write_text(json.dumps(data))    # after each mutant: a stopped run keeps its results
                    print(f"[{done}/{len(names)}] {name}: {verdict(code)} ({took:.0f} s)", flush=True)

            with ThreadPoolExecutor(max_workers=len(judges)) as pool:
                list(pool.map(one, names))
    finally:
        for j in judges:
            j.close()


def survivors_of(report: Path, modules: list[str]) -> list[str]:
    """The surviving mutants an earlier report lists for these modules (its last run of each)."""
    last: dict[str, list[str]] = {}
    module = None
    for line in report.read_text(encoding="utf-8").splitlines():
        if line.startswith("### Surviving mutants of "):
            module = line.removeprefix("### Surviving mutants of ").strip()
            last[module] = []
        elif module and re.fullmatch(r"- `[^`]+`", line):
            last[module].append(line[3:-1])
        elif line.strip():                                 # the list ends at its first other line
            module = None
    return [name for m in modules for name in last.get(m, [])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="modules of analysis/estimation or analysis/publishing (e.g. regression disclosure)")
    ap.add_argument("--report-only", action="store_true", help="only tally the last run")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--only", action="append", metavar="PATTERN",
                    help="mutate only the functions matching this mutmut pattern (repeatable), e.g. "
                         "'analysis.estimation.ordinal.x_brant*'; the table then counts those alone")
    ap.add_argument("--tests", action="append", metavar="FILE",
                    help="judge with these test files of the configured selection only (repeatable)")
    ap.add_argument("--judge", metavar="PYTEST_ARGS",
                    help="judge each mutant by these pytest arguments (run by this script, not by mutmut)")
    ap.add_argument("--resume", action="store_true",
                    help="with --judge: only the selected mutants without a verdict yet (a stopped run goes on)")
    ap.add_argument("--survivors", action="store_true",
                    help="with --judge: only the selected mutants that survived their last judging")
    ap.add_argument("--skip-style", action="store_true",
                    help="with --judge: do not run the mutants that change only how a figure looks "
                         "(size, line width, font, literal colour...), count them apart")
    ap.add_argument("--survivors-of", metavar="REPORT", type=Path,
                    help="run only the mutants this earlier report lists as surviving (its last run of each module)")
    ap.add_argument("--stale", action="store_true",
                    help="list the functions not judged as their code now stands (all modules if none named)")
    a = ap.parse_args()
    if a.stale:
        lines = stale(a.modules or all_modules())
        print("\n".join(lines) if lines else "every function judged as it stands")
        return 0
    if not a.modules:
        ap.error("name the modules to mutate")
    if a.survivors_of:
        a.only = [*(a.only or []), *survivors_of(a.survivors_of, a.modules)]
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    if a.judge and not a.report_only:
        judge(a.modules, a.only, a.judge, a.max_children, resume=a.resume, survivors=a.survivors,
              skip_style=a.skip_style)
    elif not a.report_only:
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
    if any(r.get("style only") for r in rows):
        cols.insert(5, "style only")
    out = RESULTS / f"mutation-{date.today().isoformat()}.md"
    head = [] if out.exists() else [f"# Mutation score, {date.today().isoformat()}", ""]
    lines = head + [f"## Run of {datetime.now():%H:%M}: " + ", ".join(a.modules), "",
                    "Command: `.venv/bin/python benchmarks/mutation.py " + " ".join(a.modules)
                    + (f" --survivors-of {a.survivors_of}" if a.survivors_of else "")
                    + "".join(f" --only '{p}'" for p in (only or []) if not a.survivors_of)
                    + "".join(f" --tests {t}" for t in (a.tests or []))
                    + (f" --judge \"{a.judge}\"" if a.judge else "") + (" --resume" if a.resume else "")
                    + (" --survivors" if a.survivors else "") + (" --skip-style" if a.skip_style else "")
                    + (" --report-only` (a tally of the last verdicts; nothing was run)." if a.report_only else "` "
                       + ("(mutmut 3.8 generates the mutants; each is judged by `pytest -x` with the arguments "
                          "given)." if a.judge else "(mutmut 3.8; tests judged: `[tool.mutmut]` in pyproject.toml).")),
                    "",
                    "| module | " + " | ".join(cols) + " | score |", "|---|" + "---:|" * (len(cols) + 1)]
    for r in rows:
        lines.append(f"| {r['module']} | " + " | ".join(str(r.get(k, 0)) for k in cols)
                     + (f" | {100 * r['score']:.1f} % |" if r["score"] == r["score"] else " | — |"))
    lines += ["", "Score = killed / (killed + survived), equivalent and style-only mutants excluded; a timeout counts as killed "
              "(mutmut's convention; on a busy machine some timeouts are the machine, not the mutant: "
              "their number is shown).", ""]
    for r in rows:
        if r["survivors"]:
            lines += [f"### Surviving mutants of {r['module']}", ""] + [f"- `{s}`" for s in r["survivors"]] + [""]
    recorded = [fn for m in a.modules for fn in record_judged(
        m, [p for p in only if p.startswith(f"{dotted(m)}.")] if only else None)]
    lines += [f"Judged as the code stands (recorded in `benchmarks/mutation_judged.txt`): {len(recorded)} "
              "function(s).", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = out.read_text(encoding="utf-8").rstrip("\n") + "\n\n" if out.exists() else ""
    out.write_text(previous + "\n".join(lines), encoding="utf-8")
    print("\n".join(lines[len(head):len(head) + 6 + len(rows)]))
    print(f"written: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
