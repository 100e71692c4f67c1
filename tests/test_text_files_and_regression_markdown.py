"""A text file the package writes holds exactly the text given (UTF-8, line ends as written), and a
regression table in Markdown carries its title only when it has one, no index column, and the
notes of its own table (stars counted from its cells; the source's notes of the page asked for)."""

from __future__ import annotations

import pandas as pd

from analysis.publishing.provenance import Source
from analysis.publishing.tables import regression_markdown, regression_notes, safe_text


def test_safe_text_writes_the_text_given_byte_for_byte(tmp_path):
    text = "第一行 first line\r\nsecond line\nthird — without an end"
    out = safe_text(text, tmp_path / "sub" / "report.txt")
    assert out == (tmp_path / "sub" / "report.txt").resolve()
    assert out.read_bytes() == text.encode("utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["report.txt"]          # no temporary file left


TABLE = pd.DataFrame({"term": ["internet use", "education"],
                      "model A": ["5.38** (0.52)", "1.20 (0.90)"],
                      "model B": ["4.90* (1.80)", ""]})


def test_a_markdown_table_has_its_title_only_when_given_and_no_index_column():
    plain = regression_markdown(TABLE)
    assert plain.startswith("| term ")                       # no title line before the table
    titled = regression_markdown(TABLE, title="Models of the score")
    assert titled.startswith("**Models of the score**\n\n| term")
    header = titled.split("\n\n")[1].splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")] == ["term", "model A", "model B"]


def test_a_markdown_table_carries_the_notes_of_its_own_cells():
    """Three coefficient cells with a parenthesis: Holm's family of 3, as regression_notes says."""
    md = regression_markdown(TABLE)
    assert md.endswith("\n\n" + "\n".join(f"*{n}*" for n in regression_notes(TABLE)))
    assert "across the 3 coefficient tests of this table" in md


def test_the_notes_of_a_source_without_a_page_are_those_of_no_page():
    src = Source("survey", "the test wave")
    assert regression_notes(TABLE, source=src) == regression_notes(TABLE, source=src, page="")
    assert regression_notes(TABLE, source=src)[1:] == src.notes("")
