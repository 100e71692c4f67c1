"""Text that comes from a wave (a file name, a column name, a cell, a validation message) reaches
the reader as written: a book table escapes it for HTML exactly once (its Markdown and CSV not at
all), and the command line prints it as text, never as the terminal's markup, so ``[final]`` in a
file name or ``[rule: …]`` at the end of a message is shown, and ``[/x]`` in a cell cannot crash."""

from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import unquote

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.publishing.provenance import Source

runner = CliRunner()


def _flat(text: str) -> str:
    """The output with its line wrapping undone (the terminal folds long messages)."""
    return " ".join(text.split())


def _captured_show(monkeypatch, df: pd.DataFrame, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What ``display.show(df, ...)`` hands to the notebook (its HTML and Markdown)."""
    from IPython import display as ipython_display

    from analysis.report import display, numbering

    shown: list = []
    monkeypatch.setattr(ipython_display, "display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setattr(numbering, "_COUNT", {})
    display.show(df, **kwargs)
    assert len(shown) == 1
    return shown[0]


def _html_cells(body: str) -> list[str]:
    """The text of every body cell of a rendered table, its HTML entities decoded once."""
    body = re.sub(r"<style.*?</style>", "", body, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)]


def _csv_rows(body: str) -> list[dict[str, str]]:
    """The rows of the CSV a rendered table embeds as its data link."""
    uri = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)"', body).group(1)
    return list(csv.DictReader(io.StringIO(unquote(uri).lstrip("\ufeff"))))


def test_a_shown_table_escapes_its_text_cells_for_html_exactly_once(monkeypatch):
    """display.show: a cell with ' & < > " reads as typed in its HTML (decoded once), Markdown and CSV."""
    text = """R&D <b>budget</b> of the "village's" office"""
    df = pd.DataFrame({"item": [text, "plain"], "share": [12.5, 87.5]})
    out = _captured_show(monkeypatch, df, source=Source("method", "the settings"), title="Items")
    cells = _html_cells(out["text/html"])
    assert text in cells and "plain" in cells
    assert "<b>budget</b>" not in out["text/html"]             # escaped: not live markup in the page
    assert "&amp;amp;" not in out["text/html"] and "&amp;#x27;" not in out["text/html"]
    assert text in out["text/markdown"]
    assert [r["item"] for r in _csv_rows(out["text/html"])] == [text, "plain"]


def test_the_validation_warnings_table_shows_a_wave_s_column_name_in_plain_quotes(monkeypatch, make_wave,
                                                                                   small_villagers):
    """The survey page's Validation warnings table of a wave with an unknown column 'interviewer'
    reads "column 'interviewer' matches no codebook item" in its HTML, Markdown and CSV."""
    from analysis.estimation.study import build_study
    from analysis.publishing.provenance import survey_source
    from analysis.report.pages import survey

    folder = make_wave(small_villagers.assign(interviewer="张"), name="w-interviewer")
    st = build_study(str(folder))
    wt = survey.warnings_table(st)
    assert list(wt["column"]) == ["interviewer"]
    out = _captured_show(monkeypatch, wt, source=survey_source(st.wave), page="survey",
                         title="Validation warnings")
    said = "column 'interviewer' matches no codebook item"
    message = wt["message"].iloc[0]
    assert message.startswith(said)
    assert message in _html_cells(out["text/html"])
    assert said in out["text/markdown"] and "&#x27;" not in out["text/markdown"]
    rows = _csv_rows(out["text/html"])
    assert [(r["column"], r["message"]) for r in rows] == [("interviewer", message)]


def _table_rows(output: str) -> list[list[str]]:
    """The cells of each line of a printed table (box-drawn columns)."""
    return [[c.strip() for c in line.split("│")[1:-1]]
            for line in output.splitlines() if line.count("│") > 2]


def test_validate_lists_a_warning_under_a_file_name_with_brackets_whole(make_wave, small_villagers):
    """``validate`` on a wave whose villager file is villagers[final].csv lists the unknown column's
    warning under that file name, brackets kept (not villagers.csv)."""
    folder = make_wave(small_villagers.assign(interviewer="张"), name="w-final", file="villagers[final].csv")
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 0, res.output
    warnings = [r for r in _table_rows(res.output) if r and r[0] == "warning"]
    assert len(warnings) == 1
    severity, file, row, column, rule = warnings[0][:5]
    assert (file, row, column, rule) == ("villagers[final].csv", "", "interviewer", "known column")


def _wave_with_province(make_wave, small_villagers, value: str):  # type: ignore[no-untyped-def]
    """The small wave with its third villager (row 4 of the file, after the header) in province ``value``."""
    v = small_villagers.copy()
    v.loc[2, "province"] = value
    return make_wave(v, name="w-province")


def test_index_on_an_invalid_wave_prints_the_error_with_its_rule(make_wave, small_villagers):
    """``index`` on a wave with a villager in province 'Atlantis' exits 1 and prints the error whole:
    file, row, column, the value and its ``[rule: known province]`` suffix."""
    folder = _wave_with_province(make_wave, small_villagers, "Atlantis")
    res = runner.invoke(app, ["index", str(folder)])
    assert res.exit_code == 1, res.output
    text = _flat(res.output)
    assert "error: villagers.csv, row 4, column 'province': unknown province 'Atlantis'" in text
    assert "[rule: known province]" in text


@pytest.mark.parametrize("value", ["[/x]", "[b]Mars[/b]"])
def test_index_on_a_wave_with_a_bracketed_cell_exits_1_quoting_the_cell(make_wave, small_villagers, value):
    """``index`` on a wave whose unknown province reads like terminal markup ('[/x]', '[b]Mars[/b]')
    exits 1 (no crash) and quotes the value as it is in the file."""
    folder = _wave_with_province(make_wave, small_villagers, value)
    res = runner.invoke(app, ["index", str(folder)])
    assert isinstance(res.exception, SystemExit) and res.exit_code == 1, repr(res.exception)
    assert f"unknown province '{value}' [rule: known province]" in _flat(res.output)
