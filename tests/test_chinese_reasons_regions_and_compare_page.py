"""The Chinese edition says every reason, region and notice of a page in Chinese: a reason whose
own explanation holds a "; " (the single-PSU reason), the nation's row "all" of a table by region,
the comparison page's synthetic-data warning and source line, the list of what a wave lacks; and
a † footnote speaks only of rows the table shows."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis import i18n
from analysis.publishing import tables
from analysis.publishing.disclosure import CELL_REASON, PSU_REASON
from analysis.publishing.provenance import SYNTHETIC_NOTE
from analysis.publishing.reliability import DF_REASON


@pytest.fixture
def zh(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")


def _latin_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{4,}", text.replace("NCHS", "").replace("sha256", ""))


def test_a_reason_s_own_semicolon_does_not_split_it():
    assert i18n.split_reasons(PSU_REASON) == [PSU_REASON]
    two = f"{CELL_REASON.format(n=10)}; {PSU_REASON}"
    assert i18n.split_reasons(two) == [CELL_REASON.format(n=10), PSU_REASON]
    assert i18n.split_reasons("a; b (c; d); e") == ["a", "b (c; d)", "e"]


def test_the_single_psu_reason_is_chinese_alone_and_in_a_list(zh):
    one = "只有一个初级抽样单元（无方差估计；可识别出单个村）"
    assert i18n.reasons(PSU_REASON) == i18n._(PSU_REASON) == one
    both = i18n.reasons(f"{CELL_REASON.format(n=10)}; {PSU_REASON}")
    assert both == f"受访者少于 10 人；{one}"


def test_the_nation_s_row_of_a_table_by_region_is_chinese(zh):
    assert i18n.region("all") == i18n.category("region", "all") == "全部"
    assert i18n.region("all", "en") == "all" and i18n.region("east") == "东部"
    table = pd.DataFrame({"region": ["all", "east"], "estimate": [50.0, 60.0]})
    md = tables.render(table)["text/markdown"]
    assert "全部" in md and "东部" in md and "all" not in md


def _studies(*synthetic: bool):  # type: ignore[no-untyped-def]
    return [SimpleNamespace(wave=SimpleNamespace(id=f"w{i}", synthetic=s, sha256=f"{i:x}" * 64),
                            year=2020 + i) for i, s in enumerate(synthetic)]


def test_the_comparison_page_s_warning_names_the_synthetic_waves_in_each_edition(monkeypatch):
    from analysis.report.pages.compare import synthetic_warning

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert synthetic_warning(_studies(False, False)) == ""
    one = synthetic_warning(_studies(True, False))
    assert one.startswith(":::{warning}\n") and "`w0` is a synthetic wave" in one and "w1" not in one
    assert "`w0`, `w1` are synthetic waves" in synthetic_warning(_studies(True, True))
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    both = synthetic_warning(_studies(True, True))
    assert "`w0`、`w1`" in both and "合成数据" in both
    assert not _latin_words(both.replace("warning", "")), both


def test_the_comparison_page_s_source_names_each_wave_and_its_hash(monkeypatch):
    from analysis.publishing.provenance import waves_source

    waves = [s.wave for s in _studies(False, True)]
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    src = waves_source(waves)
    assert src.label == f"waves w0 (sha256 {'0' * 12}), w1 (sha256 {'1' * 12})" and src.synthetic
    assert src.kind == "survey" and SYNTHETIC_NOTE in src.notes("compare")
    assert not waves_source(waves[:1]).synthetic
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert waves_source(waves).label == f"调查轮次 w0（sha256 {'0' * 12}）、w1（sha256 {'1' * 12}）"


def test_what_a_wave_lacks_is_listed_with_the_edition_s_separator(zh):
    from analysis.report.display import missing_note

    text = missing_note(["甲", "乙"]).data
    assert "甲；乙" in text and "; " not in text


def test_a_flag_footnote_speaks_only_of_rows_the_table_shows():
    """The only flagged row withheld: no † in the table, so no † footnote; shown, its footnote."""
    df = pd.DataFrame({"region": ["east", "west"], "estimate": [60.0, float("nan")],   # withheld: blank
                       "suppressed": ["", PSU_REASON], "flag": ["", DF_REASON]})
    md = tables.render(df)["text/markdown"]
    assert "†" not in md and PSU_REASON in md
    shown = tables.render(df.assign(suppressed="", estimate=[60.0, 40.0]))["text/markdown"]
    assert shown.split("\n")[-1] == f"*† to be read with care (NCHS presentation standards): {DF_REASON}.*"
