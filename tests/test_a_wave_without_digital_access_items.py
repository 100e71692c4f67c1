"""A wave without any of the digital-access items: the problems page says so instead of failing
(the empty table had no ``n`` column for the disclosure policy), and the page's note of what the
wave lacks names them."""

from __future__ import annotations

import pytest

from analysis.report.pages.problems import DIGITAL_ITEMS


@pytest.fixture(scope="module")
def no_digital(tmp_path_factory):  # type: ignore[no-untyped-def]
    from tests import wavegen

    folder = tmp_path_factory.mktemp("w") / "no-digital"
    return wavegen.replica_copy(folder, villagers=lambda t: t.drop(columns=list(DIGITAL_ITEMS)))


def test_the_digital_access_table_is_empty_and_the_page_says_why(no_digital):
    from analysis.estimation.study import build_study
    from analysis.report.pages import common, problems

    st = build_study(no_digital)
    assert not any(i in st.villagers for i in DIGITAL_ITEMS)           # the premise
    assert len(problems.digital_access(st)) == 0
    note = problems.digital_access_note(st)
    assert note.startswith("This wave has none of the digital-access items (hreg_onsite, ")
    assert any(x.startswith("the digital-access items") for x in common.lacks(st))


def test_a_wave_with_the_items_has_no_such_note():
    from analysis.estimation.study import build_study
    from analysis.report.pages import common, problems

    st = build_study()
    assert problems.digital_access_note(st) == "" and len(problems.digital_access(st)) == 8
    assert not any(x.startswith("the digital-access items") for x in common.lacks(st))


def test_the_problems_page_runs_on_the_wave(no_digital, monkeypatch):
    """Every code cell of book/problems.md, run in order on the wave, as the build's kernel runs
    them (a cell that raises fails the page and the build)."""
    from analysis import paths
    from analysis.report import context, display
    from analysis.report.execute import read_page

    said: list[str] = []
    monkeypatch.setattr(display, "show_text", said.append)

    monkeypatch.setenv(paths.WAVE_ENV, str(no_digital))
    monkeypatch.delenv(context.STUDY_ENV, raising=False)
    monkeypatch.delenv(context.CACHE_ENV, raising=False)
    nb = read_page(paths.ROOT / "book" / "problems.md")
    scope: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "book/problems.md", "exec"), scope)      # noqa: S102 - the page's
    assert any("none of the digital-access items" in x for x in said)


def test_digital_access_columns_nobody_answered_count_as_absent(tmp_path):
    """The eight columns present but blank in every row: no table of ‡ rows of 0 respondents, the
    page's sentence and the note of what the wave lacks instead."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import common, problems
    from tests import wavegen

    st = build_study(wavegen.replica_copy(tmp_path / "blank-digital",
                                          villagers=lambda t: t.assign(**{i: "" for i in DIGITAL_ITEMS})))
    assert all(i in st.villagers and st.villagers[i].isna().all() for i in DIGITAL_ITEMS)   # the premise
    assert len(problems.digital_access(st)) == 0 and problems.digital_access_note(st)
    assert any(x.startswith("the digital-access items") for x in common.lacks(st))
