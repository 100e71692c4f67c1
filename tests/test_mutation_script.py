"""The mutation script's bookkeeping: how it judges mutants itself (``--judge``), counts verdicts
and finds an earlier run's survivors. mutmut itself is not run: a fake ``mutants/`` folder
holds a module's list of mutants and a test that fails for some of them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "mutation.py"


@pytest.fixture
def mutation(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "ROOT", tmp_path)
    monkeypatch.setattr(mod, "EQUIVALENT", tmp_path / "equivalent.txt")
    monkeypatch.setattr(mod, "GENERATE", "pass")                 # the mutants are already there
    monkeypatch.setattr(mod, "PRELOAD", ())
    (tmp_path / "analysis" / "estimation").mkdir(parents=True)
    (tmp_path / "analysis" / "estimation" / "toy.py").write_text("")
    return mod


def _mutants(root: Path, names: list[str], test: str) -> Path:
    meta = root / "mutants" / "analysis" / "estimation" / "toy.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {n: None for n in names}, "other": 1}))
    (root / "mutants" / "tests").mkdir()
    (root / "mutants" / "tests" / "test_toy.py").write_text(test)
    return meta


TOY_TEST = """
import os

def test_toy():
    mutant = os.environ["MUTANT_UNDER_TEST"]
    assert mutant != "fail" and not mutant.endswith(("_1", "_3"))
"""


@pytest.mark.parametrize("children", [1, 2])
def test_judge_stores_each_selected_mutants_pytest_exit_code_where_mutmut_keeps_its_own(mutation, tmp_path,
                                                                                         children):
    names = [f"analysis.estimation.toy.x_f__mutmut_{i}" for i in (1, 2, 3)] + \
        ["analysis.estimation.toy.x_g__mutmut_1"]
    meta = _mutants(tmp_path, names, TOY_TEST)
    mutation.judge(["toy"], ["analysis.estimation.toy.x_f*"], "tests/test_toy.py", children)
    data = json.loads(meta.read_text())
    assert data["other"] == 1                                  # the rest of mutmut's record is kept
    assert data["exit_code_by_key"] == {names[0]: 1, names[1]: 0, names[2]: 1, names[3]: None}
    (tmp_path / "equivalent.txt").write_text(f"{names[1]} a reason\n")
    count = ("mutants", "killed", "survived", "equivalent", "not run")
    t = mutation.tally("toy", ["analysis.estimation.toy.x_f*"])
    assert [t.get(c, 0) for c in count] == [3, 2, 0, 1, 0] and t["score"] == 1.0
    (tmp_path / "equivalent.txt").write_text("")
    t = mutation.tally("toy")
    assert [t.get(c, 0) for c in count] == [4, 2, 1, 0, 1] and t["survivors"] == [names[1]]
    assert t["score"] == pytest.approx(2 / 3)
    # a stopped run goes on: only the mutants without a verdict are judged again
    data["exit_code_by_key"].update({names[0]: None, names[2]: 99})
    meta.write_text(json.dumps(data))
    mutation.judge(["toy"], ["analysis.estimation.toy.x_f*"], "tests/test_toy.py", children, resume=True)
    assert json.loads(meta.read_text())["exit_code_by_key"] == {names[0]: 1, names[1]: 0, names[2]: 99, names[3]: None}
    # after a test is added, only the survivors are judged again
    (tmp_path / "mutants" / "tests" / "test_toy.py").write_text(TOY_TEST.replace('"_1", "_3"', '"_1", "_2", "_3"'))
    mutation.judge(["toy"], ["analysis.estimation.toy.x_f*"], "tests/test_toy.py", children, survivors=True)
    assert json.loads(meta.read_text())["exit_code_by_key"] == {names[0]: 1, names[1]: 1, names[2]: 99, names[3]: None}


def test_judge_refuses_tests_that_fail_without_a_mutant_or_never_reach_the_module(mutation, tmp_path):
    meta = _mutants(tmp_path, ["analysis.estimation.toy.x_f__mutmut_2"], "def test_toy():\n    assert False\n")
    with pytest.raises(SystemExit, match=r"fail without any mutant \(pytest exit 1\)"):
        mutation.judge(["toy"], None, "tests/test_toy.py")
    (tmp_path / "mutants" / "tests" / "test_toy.py").write_text("def test_toy():\n    pass\n")
    with pytest.raises(SystemExit, match="pass when every mutated function raises: they do not reach the modules toy"):
        mutation.judge(["toy"], None, "tests/test_toy.py")
    assert json.loads(meta.read_text())["exit_code_by_key"] == {"analysis.estimation.toy.x_f__mutmut_2": None}


def test_survivors_of_reads_the_last_run_of_each_module(mutation, tmp_path):
    report = tmp_path / "report.md"
    report.write_text("\n".join([
        "## Run of 09:00: toy, other", "", "### Surviving mutants of toy", "", "- `a_1`", "- `a_2`", "",
        "### Surviving mutants of other", "", "- `o_1`", "",
        "## Run of 10:00: toy", "", "### Surviving mutants of toy", "", "- `a_2`", "",
        "Notes under the list are not mutants.", "- `not_a_survivor` of a note",
    ]))
    assert mutation.survivors_of(report, ["toy"]) == ["a_2"]
    assert mutation.survivors_of(report, ["toy", "other", "none"]) == ["a_2", "o_1"]



PLOT = """    ax.hlines(df["y"], df["lo"], df["hi"], color=colors, lw=2, alpha=0.7)
    ax.scatter(df["x"], df["y"], color="#1b6ca8", s=28, zorder=3)
    ax.set_xlim(0, 100)
"""
CHANGES = {
    1: [("lw=2", "lw=3")],                                          # a line width
    2: [("lw=2, ", ""), ('"#1b6ca8", s=28', '"XX#1b6ca8XX", s=None')],  # dropped; a literal colour, a size
    3: [("color=colors", "color=None")],                            # the colours computed from the data
    4: [("lw=2", "lw=3"), ("100)", "101)")],                         # a style change beside a positional one
    5: [('df["lo"], df["hi"]', 'df["hi"], df["hi"]')],              # a wrong interval
    6: [],                                                          # no change at all
}
"""Fake mutants of a drawing function: the changes each makes to the original (``PLOT``)."""


def _style_module() -> str:
    out = []
    for n, changes in [("orig", []), *CHANGES.items()]:
        body = PLOT
        for old, new in changes:
            body = body.replace(old, new)
        out.append(f"def x_plot__mutmut_{n}(ax, df, colors):\n{body}")
    return "\n\n".join(out)


def test_style_only_mutants_change_nothing_but_how_marks_look(mutation, tmp_path):
    """A mutant counts as style only when every change it makes is to a style argument's value
    (or drops it): a line width, a marker size, a literal colour. A colour computed from the
    data, a positional argument, or a style change beside a wrong number is judged."""
    folder = tmp_path / "mutants" / "analysis" / "estimation"
    folder.mkdir(parents=True)
    (folder / "toy.py").write_text(_style_module())
    got = mutation.style_only("toy")
    assert got == {"analysis.estimation.toy.x_plot__mutmut_1", "analysis.estimation.toy.x_plot__mutmut_2"}
    assert mutation.verdict(mutation.STYLE) == "style only"


def test_judge_records_style_only_mutants_without_running_them(mutation, tmp_path):
    names = [f"analysis.estimation.toy.x_plot__mutmut_{i}" for i in (1, 2, 3, 5)]
    meta = _mutants(tmp_path, names, TOY_TEST.replace('("_1", "_3")', '("_3", "_5")'))
    (tmp_path / "mutants" / "analysis" / "estimation" / "toy.py").write_text(_style_module())
    mutation.judge(["toy"], None, "tests/test_toy.py", 1, skip_style=True)
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    assert codes == {names[0]: mutation.STYLE, names[1]: mutation.STYLE, names[2]: 1, names[3]: 1}
    t = mutation.tally("toy")
    assert (t["style only"], t["killed"], t.get("survived", 0), t["score"]) == (2, 2, 0, 1.0)


TOY_SOURCE = '''
def f(x):
    """Doubles."""
    return 2 * x  # a comment


class C:
    @classmethod
    def make(cls):
        return cls()

    @property
    def size(self):
        return 1
'''
MUTANTS_OF_TOY = '''
def x_f__mutmut_orig(x):
    """Doubles."""
    return 2 * x


def x_f__mutmut_1(x):
    return 3 * x


class C:
    @classmethod
    def xǁCǁmake__mutmut_orig(cls):
        return cls()
'''
"""The mutants mutmut would make of ``TOY_SOURCE``: it keeps each function's original."""


def test_the_record_of_judged_code_follows_changes_of_code_not_of_comments(mutation, tmp_path, monkeypatch):
    """A function is recorded as judged once every mutant of it has a verdict, and only if those
    mutants were made from its code as it stands; a change of its comments or layout keeps the
    record, a change of its code (a string split in two included) makes it stale, and the
    equivalence lines naming its mutants are listed to be checked (a change renumbers mutants)."""
    monkeypatch.setattr(mutation, "JUDGED", tmp_path / "judged.txt")
    src = tmp_path / "analysis" / "estimation" / "toy.py"
    src.write_text(TOY_SOURCE)
    f, make = "analysis.estimation.toy.x_f", "analysis.estimation.toy.xǁCǁmake"
    assert set(mutation.source_hashes("toy")) == {f, make}          # a property is not mutated
    names = [f"{f}__mutmut_1", f"{f}__mutmut_2", f"{make}__mutmut_1"]
    meta = _mutants(tmp_path, names, TOY_TEST)
    (meta.parent / "toy.py").write_text(MUTANTS_OF_TOY)
    assert mutation.mutated_hashes("toy") == mutation.source_hashes("toy")
    data = json.loads(meta.read_text())
    data["exit_code_by_key"].update({names[1]: 0})                  # f's first mutant not run yet
    meta.write_text(json.dumps(data))
    assert mutation.record_judged("toy", [names[1]]) == []          # one judged mutant is not the function
    data["exit_code_by_key"].update({names[0]: 1})
    meta.write_text(json.dumps(data))
    (tmp_path / "equivalent.txt").write_text(f"{names[1]} a reason\n")
    assert mutation.record_judged("toy") == [f]
    rec = mutation.judged_record()
    assert rec[f][3:] == ["2", "1", "1", "0", "0"]          # mutants, killed, equivalent, survived, style
    assert mutation.stale(["toy"]) == [f"{make}: never judged"]
    src.write_text(TOY_SOURCE.replace("# a comment", "").replace("return 2 * x", "\n    return 2*x")
                   .replace("def f(x):", "def f(\n        x):"))
    assert mutation.stale(["toy"]) == [f"{make}: never judged"]     # layout and comments: the same code
    for other in ('return 2 * x', '"""Twice x."""'), ('"""Doubles."""', '"Doub" "les."'):
        src.write_text(TOY_SOURCE.replace(*other))
        out = mutation.stale(["toy"])
        assert out[0].startswith(f"{f}: changed since judged on ")
        assert out[1] == f"    equivalence line to check: {names[1]}"
        # its old mutants' verdicts are not recorded for the new code (as a --report-only run would)
        assert mutation.record_judged("toy") == []
    # a run limited to one function records that one; a function without mutants counts as judged
    src.write_text(TOY_SOURCE)
    data["exit_code_by_key"].update({names[2]: 1})
    meta.write_text(json.dumps(data))
    assert mutation.record_judged("toy", ["analysis.estimation.toy.xǁCǁ*"]) == [make]
    assert mutation.stale(["toy"]) == []
    (meta.parent / "toy.py").write_text(TOY_SOURCE)            # no mutant of f: mutmut leaves it as is
    data["exit_code_by_key"] = {names[2]: 1}
    meta.write_text(json.dumps(data))
    assert mutation.record_judged("toy", [f"{f}*"]) == [f]
    assert mutation.judged_record()[f][3:] == ["0", "0", "0", "0", "0"]


def test_a_mutant_named_on_two_equivalence_lines_is_refused_with_both_line_numbers(mutation, tmp_path):
    """Two reasons for one mutant: one was written for another diff (mutants renumber when code
    changes), so the file is refused rather than one reason silently kept."""
    (tmp_path / "equivalent.txt").write_text("# comment\nm__mutmut_1 same array\nm__mutmut_2 as _1\n"
                                             "m__mutmut_1 another reason\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"m__mutmut_1 is named on lines 2 and 4"):
        mutation.equivalent()
    (tmp_path / "equivalent.txt").write_text("m__mutmut_1 same array\nm__mutmut_2 as _1\n", encoding="utf-8")
    assert mutation.equivalent() == {"m__mutmut_1": "same array", "m__mutmut_2": "as _1"}
