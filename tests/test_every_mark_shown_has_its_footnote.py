"""Every † a table shows has its reason in the table's footnotes, and only those: a row with a
withheld region cell (‡) still shows its national share, and that share's † needs its footnote.
And what accompanies a table reads as formatted: its Markdown cells, a province profile's caveat
and the sentences appended to a note in the Chinese edition."""

from __future__ import annotations

import re

import pandas as pd

from analysis.publishing import tables
from analysis.publishing.disclosure import CELL_REASON
from analysis.publishing.reliability import DF_REASON

DAGGER_NOTE = "† to be read with care (NCHS presentation standards)"


def test_a_row_with_a_withheld_cell_keeps_the_footnote_of_its_shown_flagged_share():
    """The row's reason names its withheld west cell (‡); its national share is shown, flagged."""
    df = pd.DataFrame({"item": ["a", "b"], "all": [60.0, 40.0], "east": [55.0, 30.0],
                       "west": [float("nan"), 45.0],
                       "suppressed": [CELL_REASON, ""], "flag": [DF_REASON, ""]})
    md = tables.render(df)["text/markdown"]
    first = next(ln for ln in md.splitlines() if ln.startswith("| a "))
    assert "60.0 †" in first and "‡" in first                     # the premise: both marks shown
    assert f"*{DAGGER_NOTE}: {DF_REASON}.*" in md.splitlines()


def test_a_flag_of_a_row_whose_flagged_number_is_withheld_adds_no_footnote():
    df = pd.DataFrame({"item": ["a"], "all": [float("nan")], "east": [55.0],
                       "suppressed": [CELL_REASON], "flag": [DF_REASON]})
    md = tables.render(df)["text/markdown"]
    assert "†" not in md


def test_every_dagger_of_the_digital_access_table_of_a_two_province_wave_is_explained(tmp_path):
    """Shanghai and Tibet only: 4 design df for the nation, so every shown share is flagged, and
    every row has a withheld region cell. The footnote must still explain the †."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import problems
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "two", ["上海", "西藏"]))
    t = problems.digital_access(st)
    assert t["suppressed"].astype(bool).all() and t["all"].notna().any()   # the premise
    md = tables.render(t, title="Digital access (%)")["text/markdown"]
    body = [ln for ln in md.splitlines() if ln.startswith("| ")]
    assert any("†" in ln for ln in body)
    notes = [ln for ln in md.splitlines() if ln.startswith(f"*{DAGGER_NOTE}")]
    assert len(notes) == 1 and re.search(r"fewer than 8 design df", notes[0])


def test_a_flag_no_cell_of_the_table_shows_adds_no_footnote():
    """A table without a headline column (estimate, all, ame) shows no †: nothing to explain."""
    df = pd.DataFrame({"province": ["A"], "mean": [61.3], "flag": [DF_REASON]})
    md = tables.render(df)["text/markdown"]
    assert "†" not in md


def test_a_province_profile_s_caveat_gives_its_reason_in_the_edition_s_language(monkeypatch):
    """The profile's one-sentence summary of a flagged province: the reason in Chinese in the
    Chinese edition, as every footnote gives it."""
    from analysis import i18n
    from analysis.estimation.study import build_study
    from analysis.ingest.provinces import all_provinces
    from analysis.report.pages import profile

    st = build_study()
    flagged = [(p.adcode, s["flag"]) for p in all_provinces()
               if (s := profile.survey_status(st, p.adcode))["status"] == "published" and s["flag"]]
    assert flagged                                              # the premise: some province is flagged
    code, flag = flagged[0]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    text = profile.summary_sentence(st, code, pd.DataFrame())
    said = i18n.reasons(flag)
    assert said != flag and re.search(r"[\u4e00-\u9fff]", said)      # the reason has a Chinese form
    assert "†" in text and said in text and flag not in text


def test_the_markdown_of_a_table_shows_its_cells_as_formatted():
    """tabulate read "50.10" as a number again and printed 50.1 (and 3.00 as 3) in the Markdown,
    the HTML being right: the two now show the same text, numbers right-aligned."""
    out = tables.render(pd.DataFrame({"estimate": [50.10, 3.0], "p": [0.9, 0.0123], "n": [1234, 5]}),
                        decimals=2)
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in out["text/markdown"].splitlines()]
    assert rows[2] == ["50.10", "0.90", "1,234"] and rows[3] == ["3.00", "0.012", "5"]
    assert rows[1] == ["-----------:", "------:", "--------------:"]
    assert all(x in out["text/html"] for x in ("50.10", "3.00", "0.90"))


def test_a_chinese_sentence_appended_to_another_starts_without_a_space():
    """A sentence the package appends to a note (its msgid starts with a space, as English needs)
    is written in Chinese without one: "…列出。有 3 个情形…", not "…列出。 有 3 个情形…"."""
    from analysis import i18n

    zh = i18n.catalog("ruralgov")
    appended = {k: v for k, v in zh.items() if k.startswith(" ") and k.rstrip().endswith(".") and v}
    assert len(appended) >= 4                                       # the premise: such sentences exist
    assert [k for k, v in appended.items() if v.startswith(" ")] == []


def test_the_footnote_gives_the_reasons_of_a_row_s_flag_and_of_a_cell_s_own_flag_together():
    """A row flagged on its national share (relative SE) and a region cell flagged on its own (its
    df): both † are shown, and the footnote gives both reasons."""
    from analysis.publishing.reliability import CELL_FLAGS, RSE_REASON

    df = pd.DataFrame({"item": ["a", "b"], "all": [60.0, 40.0], "east": [55.0, 30.0], "west": [50.0, 45.0],
                       "flag": ["", RSE_REASON]})
    df.attrs[CELL_FLAGS] = {"east": [DF_REASON, ""]}
    md = tables.render(df)["text/markdown"]
    assert "55.0 †" in md and "40.0 †" in md                         # the premise: both marks shown
    assert f"*{DAGGER_NOTE}: {DF_REASON}; {RSE_REASON}.*" in md.splitlines()
