"""The planted-errors script (``benchmarks/semantic.py``): its entries apply to the code as it stands,
a malformed entry is refused, and on a toy project it plants each error alone, calls a failing
test a kill, a passing one a survivor, and refuses a judge that fails without any error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "semantic.py"


@pytest.fixture(scope="module")
def semantic():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("semantic_script", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod                     # its dataclass looks its module up there
    spec.loader.exec_module(mod)
    yield mod
    del sys.modules[spec.name]


def test_every_planted_error_applies_to_the_code_as_it_stands(semantic):
    entries = semantic.load()
    assert len(entries) >= 40
    assert semantic.problems(entries) == []          # else: write the entry again against the new code
    assert {e.kind for e in entries} >= {"factor", "sign", "quantile", "residual", "weight", "df"}
    # the estimators, what publishes them, the pages' numbers and what the build tells a reader; the
    # numbers the CLI prints, the replica's calibration, the reading and checking of what estimates
    # rest on (codebook, readers, validation rules, official panel), the settings' defaults, the
    # names and words of the Chinese edition, its translations (message catalogues) and where a
    # wave's folder is
    assert all(e.file.startswith(("analysis/estimation/", "analysis/publishing/", "analysis/report/",
                                  "analysis/ingest/", "analysis/settings/"))
               or e.file in ("analysis/cli.py", "analysis/replica.py", "analysis/i18n.py",
                             "analysis/paths.py")
               or (e.file.startswith("locale/zh_CN/") and e.file.endswith(".po"))
               for e in entries)
    assert any(e.file.startswith("analysis/report/pages/") for e in entries)     # the numbers pages print
    assert any(e.file.endswith(".po") for e in entries)                          # what the Chinese reader reads


def _entry(**kw: str) -> dict:
    base = {"id": "double", "kind": "factor", "file": "pkg/m.py", "old": "2 * x", "new": "3 * x",
            "what": "a factor", "judge": "tests/test_m.py"}
    return {**base, **kw}


def _write(tmp_path: Path, entries: list[dict]) -> Path:
    import yaml

    path = tmp_path / "planted.yml"
    path.write_text(yaml.safe_dump(entries))
    return path


@pytest.mark.parametrize(("entries", "message"), [
    ([_entry(kind="typo")], "planted.yml, entry 1 (double): kind 'typo' is not one of factor"),
    ([_entry(), _entry()], "planted.yml, entry 2: the id 'double' is used twice"),
    ([{k: v for k, v in _entry().items() if k != "judge"}], "planted.yml, entry 1: the fields must be"),
    ([_entry(new="")], "planted.yml, entry 1: every field is a non-empty string"),
    ({"id": "x"}, "planted.yml: a list of entries is expected"),
])
def test_a_malformed_entry_is_refused_with_its_position_and_rule(semantic, tmp_path, entries, message):
    with pytest.raises(SystemExit, match=message.replace("(", r"\(").replace(")", r"\)")):
        semantic.load(_write(tmp_path, entries))


@pytest.fixture
def toy(tmp_path):  # type: ignore[no-untyped-def]
    root = tmp_path / "toy"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "m.py").write_text("def f(x):\n    return 2 * x  # twice\n\n\ndef g(x):\n    return x\n")
    (root / "tests" / "test_m.py").write_text(textwrap.dedent("""
        from pkg.m import f

        def test_f():
            assert f(2) == 4
    """))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    return root


def test_an_entry_not_found_once_or_not_compiling_no_longer_applies(semantic, toy):
    entries = [semantic.Planted(**_entry(id="gone", old="4 * x")),
               semantic.Planted(**_entry(id="twice", old="return")),
               semantic.Planted(**_entry(id="broken", new="3 * (x")),
               semantic.Planted(**_entry(id="fine"))]
    assert semantic.problems(entries, toy) == [
        "gone: its old text is found 0 times in pkg/m.py (once is needed): write the entry again "
        "against the code as it stands",
        "twice: its old text is found 2 times in pkg/m.py (once is needed): write the entry again "
        "against the code as it stands",
        "broken: the planted pkg/m.py does not compile ('(' was never closed, line 2)"]


def test_an_entry_in_a_message_catalogue_applies_unless_it_breaks_the_catalogue(semantic, toy):
    """Errors in a translation (a .po file) are planted as they are; one that leaves a quote open
    or a keyword misspelt is refused, since any test would then fail on reading it."""
    (toy / "zh.po").write_text('# the Chinese edition\nmsgid ""\nmsgstr ""\n\nmsgid "highest"\n'
                               'msgstr "最高"\n', encoding="utf-8")
    po = {"file": "zh.po", "old": '"最高"'}
    entries = [semantic.Planted(**_entry(id="lowest", **po, new='"最低"')),
               semantic.Planted(**_entry(id="open", **po, new='"最低')),
               semantic.Planted(**_entry(id="keyword", file="zh.po", old='msgstr "最高"', new='msgst "最低"'))]
    assert semantic.problems(entries, toy) == [
        "open: the planted zh.po is not a valid message catalogue (line 6)",
        "keyword: the planted zh.po is not a valid message catalogue (line 6)"]


def test_each_error_is_planted_alone_and_judged_by_its_tests(semantic, toy):
    entries = [semantic.Planted(**_entry(id="factor")),                          # f(2) == 6: killed
               semantic.Planted(**_entry(id="comment", old="# twice", new="# thrice")),  # survives
               semantic.Planted(**_entry(id="unused", old="return x\n", new="return -x\n"))]
    results = semantic.plant_all(entries, root=toy)
    assert [(r["entry"].id, r["verdict"]) for r in results] == [
        ("factor", "killed"), ("comment", "survived"), ("unused", "survived")]
    assert results[0]["failed"] == "tests/test_m.py::test_f"
    assert (toy / "pkg" / "m.py").read_text().count("2 * x  # twice") == 1     # the project is untouched
    text = semantic.report(results, "abc1234", "benchmarks/semantic.py")
    assert "**1 of 3 killed**" in text
    assert "- `comment` (survived), judged by `pytest tests/test_m.py`" in text


def test_a_judge_failing_without_any_error_is_refused(semantic, toy):
    (toy / "tests" / "test_m.py").write_text("def test_f():\n    assert False\n")
    with pytest.raises(SystemExit, match="the judge of factor fails on the unchanged code"):
        semantic.plant_all([semantic.Planted(**_entry(id="factor"))], root=toy)


def test_an_error_the_tests_cannot_even_import_is_reported_not_counted_a_kill(semantic, toy):
    crash = semantic.Planted(**_entry(id="crash", old="def g(x):", new="raise ImportError\ndef g(x):"))
    results = semantic.plant_all([crash], root=toy)
    assert results[0]["verdict"] == "error (pytest exit 2)"              # collection failed
    assert "**0 of 1 killed**" in semantic.report(results, "abc1234", "benchmarks/semantic.py")


def test_the_report_names_an_entries_file_outside_the_project_by_its_name_only(semantic, tmp_path):
    """The dated report is committed: an entries file elsewhere on the machine appears by its name,
    one inside the project by its path there."""
    inside = str(semantic.ROOT / "benchmarks" / "semantic_mutants.yml")
    assert semantic.shown_command(["--file", str(tmp_path / "draft.yml"), "--only", "x"]) == \
        "benchmarks/semantic.py --file draft.yml --only x"
    assert semantic.shown_command([f"--file={tmp_path / 'draft.yml'}"]) == \
        "benchmarks/semantic.py --file=draft.yml"
    assert semantic.shown_command(["--file", inside]) == \
        "benchmarks/semantic.py --file benchmarks/semantic_mutants.yml"
    spaced = semantic.shown_command(["--suite", "tests", "--file", str(tmp_path / "a b.yml")])
    assert str(tmp_path) not in spaced and spaced.endswith("--file 'a b.yml'")
