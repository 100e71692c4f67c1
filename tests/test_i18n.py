"""The Chinese edition's sources: message catalogs complete and faithful to the English pages,
pages rebuilt from them without losing structure, the package's strings and labels switching
with the edition."""

from __future__ import annotations

import os
import re
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import i18n, paths

MARKUP = re.compile(r"\{+[\w:-]+\}+`([^`]*)`|`[^`]+`|\{\{?[a-z]\w*(?:[:!][^{}]*)?\}?\}|<a [^>]*>")
"""Roles with their targets, code spans, placeholders and links: what a translation must carry
over unchanged (a role's display text may change: only what follows ``<`` counts)."""
TEMPLATE_FIELDS = {"{name_en}", "{name_zh}", "{name_zh_full}", "{region4}", "{region4_zh}", "{slug}", "{adcode}"}
"""The province template's fields: a translation may name a province and its region in Chinese."""


def _markup(text: str) -> Counter:
    out = Counter()
    for m in MARKUP.finditer(text):
        s = m.group(0)
        if m.group(1) is not None and "<" in m.group(1):         # {role}`shown <target>`: the target
            s = s[: s.index("`")] + "<" + m.group(1).split("<", 1)[1].lower()
        elif m.group(1) is not None and s.startswith("{term}"):  # {term}`word`: the word is the target
            s = "{term}<" + m.group(1).lower() + ">"
        if s not in TEMPLATE_FIELDS:
            out[s] += 1
    return out


def test_an_identity_catalog_gives_back_every_page_unchanged():
    """Splitting a page into prose and structure and joining it again loses nothing."""
    for domain, text in i18n.page_sources().items():
        same = {m: m for m in i18n.messages(text)}
        out, missing = i18n.translate_page(text, same)
        assert out == text and not missing, domain


def test_code_cells_directive_options_and_maths_are_not_prose():
    """Code, options, maths, comments and labels are kept; a figure's alt text is prose (a screen
    reader reads it in the edition's language) and keeps its option name."""
    page = ("---\nkernelspec: {}\n---\n\n# Title\n\n```{code-cell} ipython3\n:tags: [remove-cell]\n"
            "x = 'A sentence in code'\n```\n\n```{glue:figure} fig_a\n:name: fig-a\n:alt: Alt text\n\n"
            "Caption words.\n```\n\n"
            "```{raw} html\n<math>a</math>\n```\n% a comment line\n\n(label)=\n{glue:md}`only_a_role`\n")
    assert i18n.messages(page) == ["Title", "Alt text", "Caption words."]
    repeated = page + "\nCaption words.\n\nTitle\n"
    assert i18n.messages(repeated) == ["Title", "Alt text", "Caption words."]      # each once
    zh, missing = i18n.translate_page(page, {"Title": "标题", "Alt text": "替代文字", "Caption words.": "图注。"})
    assert missing == [] and ":name: fig-a\n:alt: 替代文字\n\n图注。" in zh and ":tags: [remove-cell]" in zh


def test_every_prose_message_of_every_page_is_translated():
    """No English paragraph, heading, list or caption is left untranslated in the Chinese edition."""
    assert i18n.untranslated() == {}


@pytest.mark.parametrize("domain", sorted(i18n.page_sources()))
def test_translations_keep_every_number_link_and_cross_reference(domain):
    """A translated paragraph carries the same glued numbers, cross-references, citations, code
    and placeholders as its English source (else the editions would differ in content)."""
    cat = i18n.catalog(domain)
    for en in i18n.messages(i18n.page_sources()[domain]):
        assert _markup(cat[en]) == _markup(en), (domain, en[:80])


def test_package_strings_keep_their_placeholders_and_read_chinese():
    cat = i18n.catalog("ruralgov")
    for en in i18n.package_messages():
        zh = cat[en]
        assert sorted(re.findall(r"\{[^{}]*\}", zh)) == sorted(re.findall(r"\{[^{}]*\}", en)), en
        words = re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^{}]*\}|`[^`]*`|[A-Z][\w–-]*|\b\w+\b(?= ?\()", "", en))
        if len(words) >= 2:
            assert re.search(r"[\u4e00-\u9fff]", zh), (en, zh)      # prose became Chinese


def test_every_translated_package_string_is_marked_in_the_package_so_an_update_keeps_it():
    """``python -m analysis.i18n`` drops the messages no source marks: a string translated by hand
    but passed to a figure or a table unmarked would lose its translation at the next update."""
    unmarked = set(i18n.catalog("ruralgov")) - set(i18n.package_messages())
    assert not unmarked, sorted(unmarked)


@pytest.mark.parametrize("value, edition", [("zh", "zh"), ("zh_CN", "zh"), ("ZH-Hans", "zh"), ("en", "en"),
                                             ("en_US", "en"), ("", "en"), (None, "en")])
def test_the_edition_is_chinese_for_any_chinese_locale_name_else_english(monkeypatch, value, edition):
    if value is None:
        monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    else:
        monkeypatch.setenv(i18n.LANG_ENV, value)
    assert i18n.lang() == edition


def test_english_counts_other_than_one_take_the_plural():
    assert [i18n.plural(n, "{n} village", "{n} villages", "en").format(n=n) for n in (0, 1, 2)] == [
        "0 villages", "1 village", "2 villages"]


def test_a_label_without_chinese_text_falls_back_to_english_in_the_chinese_edition():
    assert i18n.bilingual("design weight", "设计权重", "zh") == "设计权重"
    assert i18n.bilingual("design weight", "", "zh") == "design weight"
    assert i18n.bilingual("design weight", "设计权重", "en") == "design weight"


def test_the_regions_have_the_nbs_chinese_names_each_its_own():
    """The NBS's four regions are 东部, 中部, 西部 and 东北 (the three-region scheme's are its first
    three; "centre" and "central" name the same one)."""
    names = {r: i18n.region(r, "zh") for r in ("east", "central", "west", "northeast")}
    assert names == {"east": "东部", "central": "中部", "west": "西部", "northeast": "东北"}
    assert i18n.region("centre", "zh") == "中部" and i18n.region("northeast", "en") == "northeast"


def test_the_edition_switches_strings_labels_and_names(monkeypatch):
    from analysis.ingest.codebook import load_codebook
    from analysis.publishing.labels import column_label

    item = next(iter(load_codebook().indicators()))
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    assert (i18n._("Sobol indices"), column_label("se"), i18n.province("Shanghai"), i18n.region("west")) == \
        ("Sobol indices", "SE", "Shanghai", "west")
    assert item.label == item.text_en
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert (i18n._("Sobol indices"), column_label("se"), i18n.province("Shanghai"), i18n.region("west")) == \
        ("Sobol 指数", "标准误", "上海", "西部")
    assert item.label == item.text_zh
    assert i18n._("a sentence nobody translated") == "a sentence nobody translated"
    assert i18n.category("province", "Tibet") == "西藏" and i18n.category("estimate", "x") == "x"


def test_the_language_switch_points_at_the_same_page_of_the_other_edition():
    assert i18n.switch_links("book/intro", "en", ["en", "zh"]) == [("中文", "../../zh/html/book/intro.html")]
    assert i18n.switch_links("book/intro", "zh", ["en", "zh"]) == [("English", "../../../html/book/intro.html")]
    assert i18n.switch_links("index", "en", ["en", "zh"]) == [("中文", "../zh/html/index.html")]
    assert i18n.switch_links("book/intro", "en", ["en"]) == []


@pytest.mark.parametrize("lang, link", [
    ("zh", '<a href="../../../html/book/intro.html" hreflang="en" lang="en">English</a>'),
    ("en", '<a href="../../zh/html/book/intro.html" hreflang="zh-Hans" lang="zh-Hans">中文</a>'),
])
def test_each_page_of_an_edition_links_to_the_other_edition_s(monkeypatch, lang, link):
    """The switch at the top of a page of the Chinese edition offers the English page (it offered
    "中文" again, at a zh/zh path that does not exist, when the page's edition was taken as English)."""
    from types import SimpleNamespace

    from analysis.report import sphinx_ext

    monkeypatch.setenv(i18n.LANG_ENV, lang)
    monkeypatch.setenv(i18n.EDITIONS_ENV, "en,zh")
    context = {"body": "<p>the page</p>"}
    sphinx_ext._language_switch(SimpleNamespace(builder=SimpleNamespace(name="html")), "book/intro", "page.html",
                                context, None)
    assert context["body"] == f'<p class="lang-switch">{link}</p>\n<p>the page</p>'
    monkeypatch.setenv(i18n.EDITIONS_ENV, lang)                               # no other edition beside it
    context = {"body": "<p>the page</p>"}
    sphinx_ext._language_switch(SimpleNamespace(builder=SimpleNamespace(name="html")), "book/intro", "page.html",
                                context, None)
    assert context["body"] == "<p>the page</p>"


def test_the_execution_table_is_written_in_the_edition_s_language(monkeypatch):
    """myst-nb writes the execution table's header and methods in English; the Chinese edition
    translates them (and leaves the page names, times and any other table alone)."""
    from docutils import nodes
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from myst_nb.ext.execution_tables import make_stat_table

    from analysis.report.sphinx_ext import EXEC_TABLE_HEADER, TranslateExecTable

    def document():
        doc = new_document("test", get_default_settings(Parser))
        runs = {"book/index": {"exec_data": {"mtime": 0, "method": "cache", "runtime": 1.234,
                                             "succeeded": True}},
                "book/survey": {"exec_data": {"mtime": 0, "method": "force", "runtime": 2.0,
                                              "succeeded": False, "error": "CellExecutionError"}}}
        other = nodes.table("", nodes.tgroup("", nodes.thead("", nodes.row("", nodes.entry(
            "", nodes.paragraph(text="Status"))))))
        doc += [make_stat_table("book/reproducibility", runs), other]
        return doc

    def cells(doc):
        return [[e.astext() for e in t.findall(nodes.entry)] for t in doc.findall(nodes.table)]

    doc = document()
    TranslateExecTable(doc).run()
    table, other = cells(doc)
    assert tuple(table[:5]) == EXEC_TABLE_HEADER and table[7] == "cache" and other == ["Status"]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    doc = document()
    TranslateExecTable(doc).run()
    table, other = cells(doc)
    assert table[:5] == ["页面", "修改时间", "方式", "运行时间（秒）", "状态"]
    assert table[5:10] == ["book/index", table[6], "缓存", "1.23", "✅"]
    assert table[10:15] == ["book/survey", table[11], "强制执行", "2.0", "❌"]
    assert other == ["Status"]


def test_a_translated_book_is_written_outside_the_project(tmp_path):
    before = {p.name: p.read_bytes() for p in paths.BOOK.iterdir()}
    assert i18n.write_translated_book(tmp_path / "book") == 0
    text = (tmp_path / "book" / "intro.md").read_text(encoding="utf-8")
    assert "# 农村公共服务治理现代化" in text and "它为 {glue:md}`degree_sentence`。" in text
    assert (tmp_path / "book" / "references.bib").is_symlink()
    assert {p.name: p.read_bytes() for p in paths.BOOK.iterdir()} == before


def test_untranslated_messages_of_every_page_are_counted_not_only_the_last(tmp_path, monkeypatch):
    """Two pages (the first in the book's order and another) without their catalogs: the count of
    untranslated messages is theirs together, so the Chinese edition is refused for either."""
    pages = sorted(p.stem for p in paths.BOOK.glob("*.md"))
    gone = {f"book/{pages[0]}", "book/intro"}
    real = i18n.catalog
    monkeypatch.setattr(i18n, "catalog", lambda domain, language="zh": {} if domain in gone else
                        real(domain, language))
    each = {d: len(i18n.translate_page((paths.BOOK / f"{d[5:]}.md").read_text(encoding="utf-8"), {})[1])
            for d in gone}
    assert all(n > 0 for n in each.values()) and pages[-1] != "intro"      # the premise
    assert i18n.write_translated_book(tmp_path / "book") == sum(each.values())


def test_profiles_are_written_in_chinese_from_the_same_template(tmp_path):
    from analysis.report.profiles import write_profiles

    docs = write_profiles(tmp_path, "zh")
    sh = (tmp_path / "shanghai.md").read_text(encoding="utf-8")
    assert "# 上海 · Shanghai" in sh and "上海市（Shanghai）属于国家统计局四大区域中的东部地区" in sh
    assert "{glue:md}`fig_official_data`" in sh and "CODE = 310000" in sh
    assert "**东部**" in (tmp_path / "profiles.md").read_text(encoding="utf-8")
    assert docs == write_profiles(tmp_path / "en", "en")


def test_a_profile_s_official_table_has_chinese_headers_in_the_chinese_edition(monkeypatch):
    """Every header of the official-statistics table of a profile is in Chinese (it printed
    "series" in English); the province, region and nation columns too."""
    import re

    from analysis.estimation.study import build_study
    from analysis.publishing.tables import render
    from analysis.report.pages import profile

    off = profile.official_table(build_study("2020-replica"), 450000)
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    header = render(off)["text/markdown"].splitlines()[0]
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert len(cells) == len(off.columns) and "指标" in cells
    assert not [c for c in cells if re.search("[A-Za-z]", c)], cells


def _region_figure():
    import pandas as pd

    from analysis.publishing import figures

    df = pd.DataFrame({"region3": ["east", "central", "west"], "estimate": [60.0, 50.0, 45.0],
                       "ci_low": [58.0, 48.0, 43.0], "ci_high": [62.0, 52.0, 47.0]})
    return figures.estimates_with_ci(df, label="region3", hue="region3",
                                     xlabel="modernization degree (0–100), 95 % CI")


def test_figures_draw_chinese_with_a_cjk_font(monkeypatch):
    import io
    import warnings

    import matplotlib.pyplot as plt

    from analysis.publishing import figures

    if figures.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = _region_figure()
        fig.savefig(io.BytesIO(), format="png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["东部", "中部", "西部"]
    assert ax.get_xlabel() == "现代化程度（0–100），95 % 置信区间"
    assert not [w for w in caught if "missing from font" in str(w.message)]    # every glyph drawn
    plt.close(fig)


def test_without_a_cjk_font_figures_fall_back_to_english(monkeypatch):
    import matplotlib.pyplot as plt

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    fig = _region_figure()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["east", "central", "west"]
    assert ax.get_xlabel() == "modernization degree (0–100), 95 % CI"
    plt.close(fig)


def test_models_not_estimated_on_a_wave_are_listed_with_their_reasons_in_the_edition(monkeypatch):
    import IPython.display

    from analysis.estimation.results import ModelSet
    from analysis.report import display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    lacks = i18n.Message(i18n.N_("the wave has no {variables}"), variables="x, y")
    ms = ModelSet((), skipped={"ols_a": lacks})
    specs = [SimpleNamespace(name="ols_a", label="Satisfaction: education"),
             SimpleNamespace(name="ols_b", label="")]
    study = SimpleNamespace(settings=SimpleNamespace(models=SimpleNamespace(models=specs)))
    display.regression_table(ms, ["ols_a", "ols_b"], study=study)
    # named by its label in the edition's language, its id beside it to find it in models.yml
    assert shown == [{"text/markdown": "*本轮数据未估计：满意度：公共教育（`ols_a`：本轮调查没有变量 x, y）；"
                                       "ols_b（`ols_b`：未拟合）。*"}]
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    shown.clear()
    display.regression_table(ms, ["ols_a"], study=study)
    assert shown == [{"text/markdown": "*Not estimated on this wave: Satisfaction: education "
                                       "(`ols_a`: the wave has no x, y).*"}]


def test_a_table_names_each_questionnaire_in_the_edition_s_language_beside_its_key(monkeypatch):
    import pandas as pd

    from analysis.publishing import tables
    from analysis.report.pages import survey

    df = pd.DataFrame({"questionnaire": list(survey.QUESTIONNAIRES), "rows": [1160, 22]})
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    md = tables.render(df)["text/markdown"]
    assert "村民问卷（villagers）" in md and "乡镇机构问卷（institutions）" in md
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert "| villagers " in tables.render(df)["text/markdown"]


@pytest.fixture
def font_list_without_cjk(monkeypatch):
    """matplotlib's font list as a cache built before the CJK fonts were installed leaves it."""
    from matplotlib import font_manager

    from analysis.publishing import figures

    manager = font_manager.fontManager
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if "CJK" not in f.name])
    figures.cjk_font.cache_clear()
    yield manager
    figures.cjk_font.cache_clear()


def test_cjk_fonts_installed_after_matplotlib_built_its_cache_are_found(font_list_without_cjk):
    from analysis.publishing import figures

    import glob
    import shutil

    # whether the fonts are there is asked of the file system, not of the function under test
    installed = glob.glob("/usr/share/fonts/**/NotoSansCJK*", recursive=True)
    if shutil.which("fc-list") is None or not installed:
        pytest.skip("no fontconfig or no Noto CJK font (apt-get install fontconfig fonts-noto-cjk)")
    files = figures._fontconfig_cjk_files()
    assert set(installed) <= set(files)
    assert figures.cjk_font() == "Noto Sans CJK SC"
    added = {f.fname for f in font_list_without_cjk.ttflist if "CJK" in f.name}
    assert added and added <= set(files)


def test_fontconfig_is_asked_for_the_files_of_its_chinese_fonts_and_its_answer_read(monkeypatch):
    """``fc-list :lang=zh file`` prints "path: " per font (a path may hold a colon); no fc-list,
    an fc-list that cannot start or one that hangs past a minute means no font, not a crash."""
    import shutil
    import subprocess

    from analysis.publishing import figures

    calls = []

    def run(args, **kw):  # type: ignore[no-untyped-def]
        calls.append((args, kw))
        out = "/fonts/a:b/CJK.ttc: \n\n/fonts/c.otf:\n"
        return subprocess.CompletedProcess(args, 0, stdout=out, stderr="")

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/fc-list" if name == "fc-list" else None)
    monkeypatch.setattr(subprocess, "run", run)
    assert figures._fontconfig_cjk_files() == ["/fonts/a:b/CJK.ttc", "/fonts/c.otf"]
    assert calls == [(["fc-list", ":lang=zh", "file"],
                      {"capture_output": True, "text": True, "timeout": 60, "check": False})]
    for error in (OSError("cannot start"), subprocess.TimeoutExpired("fc-list", 60)):
        def failing(args, error=error, **kw):  # type: ignore[no-untyped-def]
            raise error
        monkeypatch.setattr(subprocess, "run", failing)
        assert figures._fontconfig_cjk_files() == []
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(subprocess, "run", run)
    assert figures._fontconfig_cjk_files() == [] and len(calls) == 1     # not run without fc-list


def test_without_a_cjk_font_anywhere_or_one_matplotlib_can_read_there_is_none(font_list_without_cjk,
                                                                              monkeypatch, tmp_path):
    from analysis.publishing import figures

    monkeypatch.setattr(figures, "_fontconfig_cjk_files", lambda: [])
    assert figures.cjk_font() is None
    figures.cjk_font.cache_clear()
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(figures, "_fontconfig_cjk_files", lambda: [str(broken)])
    assert figures.cjk_font() is None


@pytest.mark.parametrize("language", ["en", "zh"])
def test_without_a_cjk_font_a_figure_names_a_province_in_english(monkeypatch, language):
    """The wave's Chinese province names would be drawn as empty boxes: English instead."""
    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, language)
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    assert [figures.category("province", v) for v in ("上海", "Henan")] == ["Shanghai", "Henan"]
    assert figures.category("region", "west") == "west"


@pytest.mark.parametrize(("font", "names"), [(None, "east and west"), ("Noto Sans CJK SC", "东部 and 西部")])
def test_an_oaxaca_plot_names_its_groups_in_chinese_only_with_a_font_that_draws_it(monkeypatch, font, names):
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: font)
    monkeypatch.setattr(i18n, "_", lambda text, language=None: text)     # the sentence itself in English
    detail = pd.DataFrame({"label": ["income"], "explained": [2.0], "se": [0.5]})
    fig = figures.oaxaca_plot(detail, synthetic=False, groups=("east", "west"), group="region3")
    assert f"points of the gap between {names} explained" in fig.axes[0].get_xlabel()
    plt.close(fig)


@pytest.mark.parametrize("break_year", [None, 2018])
def test_a_line_chart_names_its_regions_in_chinese_with_a_cjk_font(monkeypatch, break_year):
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: "Noto Sans CJK SC")
    df = pd.DataFrame({"east": [1.0, 2.0, 3.0], "west": [0.5, 1.0, 1.5]}, index=[2017, 2018, 2019])
    fig = figures.lines(df, ylabel="GDP", break_year=break_year)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["东部", "西部"]
    plt.close(fig)


@pytest.mark.parametrize("font", ["Noto Sans CJK SC", None])
def test_the_rank_figure_names_provinces_as_the_figure_beside_it_does(monkeypatch, font):
    """The index page's rank intervals, in the Chinese edition, name each province in Chinese when a
    CJK font draws it (else in English), as the province figure beside it does; its data keep the
    wave's names."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: font)
    df = pd.DataFrame({"province": ["Henan", "Shanghai"], "region": ["central", "east"],
                       "median_rank": [2.0, 1.0], "rank_low": [1.0, 1.0], "rank_high": [2.0, 2.0]})
    fig = figures.rank_intervals(df, synthetic=True)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == (["上海", "河南"] if font else ["Shanghai", "Henan"])     # in rank order
    assert fig.ruralgov_data["province"].tolist() == ["Shanghai", "Henan"]
    plt.close(fig)


def test_the_coefficient_figure_names_its_models_as_the_regression_table_does(monkeypatch):
    """The legend of the determinants page's coefficient figure is in the edition's language (a
    model's catalogued label translated, one the wave's settings name kept as written)."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    tidy = pd.DataFrame({"label": ["使用互联网"] * 3, "estimate": [1.0, 2.0, 3.0], "ci_low": [0.0, 1.0, 2.0],
                         "ci_high": [2.0, 3.0, 4.0],
                         "model_label": ["WLS, region effects", "Design-based (svyglm)", "my own model"]})
    fig = figures.coef_plot(tidy, synthetic=True)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["加权最小二乘，区域效应", "基于设计（svyglm）", "my own model"]
    assert legend[:2] == [i18n._("WLS, region effects"), i18n._("Design-based (svyglm)")]
    plt.close(fig)


def test_the_sigma_convergence_lines_are_named_in_chinese(monkeypatch):
    """The official-statistics page's σ-convergence lines (not regions) are named in the Chinese
    edition's words, as its axis is."""
    import matplotlib.pyplot as plt

    from analysis.estimation.study import build_study
    from analysis.report.pages import provinces

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    fig = provinces.figures_(build_study("2020-replica"))["fig_real_sigma"]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["教育支出占比对数的标准差", "人均支出对数的标准差"]
    assert fig.axes[0].get_ylabel() == i18n._("cross-province SD of logs")
    plt.close("all")


@pytest.mark.parametrize("font", ["Noto Sans CJK SC", None])
def test_box_plots_name_regions_provinces_and_a_contrast_in_chinese_only_with_a_cjk_font(monkeypatch, font):
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: font)
    regions = pd.DataFrame({"east": [60.0, 61.0], "west": [50.0, 52.0], "east − west": [10.0, 9.0]})
    ranks = pd.DataFrame({"Henan": [1.0, 2.0], "Gansu": [2.0, 1.0]})
    fig_r = figures.distributions(regions, xlabel="score", synthetic=True, column="region")
    fig_p = figures.distributions(ranks, xlabel="rank", synthetic=True, column="province",
                                  order=["Gansu", "Henan"])
    names = [[t.get_text() for t in f.axes[0].get_yticklabels()] for f in (fig_r, fig_p)]
    if font:
        assert names == [["东部", "西部", "东部 − 西部"], ["甘肃", "河南"]]
    else:
        assert names == [["east", "west", "east − west"], ["Gansu", "Henan"]]
    # the figure's data keep the wave's own names
    assert fig_p.ruralgov_data["item"].tolist() == ["Henan", "Gansu"]
    plt.close("all")


@pytest.mark.parametrize("font", ["Noto Sans CJK SC", None])
def test_map_marks_name_a_province_in_chinese_only_with_a_cjk_font(monkeypatch, font):
    """The Chinese edition's map names its marked provinces in Chinese when a CJK font can draw
    them, in English when none can."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis.publishing import figures

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: font)
    fig = figures.china_map(pd.Series({110000: 10.0, 310000: 30.0}), label="degree")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == (["上海: 30", "北京: 10"] if font else ["Beijing: 10", "Shanghai: 30"])
    plt.close("all")


def test_a_chinese_table_translates_names_and_text_but_never_numbers(monkeypatch):
    """A column named "province" may hold a province's values (a profile's official table):
    "3.4" must not become the province with code 34."""
    import pandas as pd

    from analysis.publishing.tables import render

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert i18n.category("province", "3.4") == "3.4" and i18n.category("province", "Henan") == "河南"
    t = pd.DataFrame({"series": ["nation"], "province": [3.4], "region": ["west"], "nation": [3.0]})
    md = render(t, decimals=1)["text/markdown"]
    assert "3.4" in md and "安徽" not in md and "西部" in md and "全国" in md


def test_a_line_break_between_chinese_characters_is_removed_not_shown_as_a_space():
    out, _ = i18n.translate_page("Some prose\nover two lines.\n", {"Some prose\nover two lines.": "第一行，\n第二行。\nEnglish 词"})
    assert out == "第一行，第二行。\nEnglish 词\n"


def test_the_limitations_paragraph_follows_the_models_file():
    """How each model is weighted is read from data/models.yml (the methods page said it in typed
    prose, false for another models file); the Oaxaca clause only when the file has one."""
    import dataclasses

    from analysis.estimation.study import build_study
    from analysis.report.pages import methods

    st = build_study()
    ms = st.settings.models
    text = methods.limitations(st)
    for m in ms.models:
        assert text.count((m.label or m.name) + ";") + text.count((m.label or m.name) + ".") == 1, m.name
    design = [m for m in ms.models if m.se_kind == "design"]
    assert text.index("Design-based (strata") < text.index(design[0].label or design[0].name)
    assert "Oaxaca–Blinder decomposition" in text
    one = [m for m in ms.models if m.family == "mixedlm"][:1]
    few = ms.model_copy(update={"models": one})
    small = dataclasses.replace(st, settings=dataclasses.replace(st.settings, models=few))
    assert methods.limitations(small) == (f"Unweighted (model-based): {one[0].label or one[0].name}. "
                                          "All models describe associations in cross-sectional data.")


def test_the_limitations_paragraph_lists_the_models_fitted_and_names_those_the_wave_could_not_give():
    """With the fitted set, a model the wave could not give (here the Oaxaca decomposition and
    the multilevel model) is not described as weighted one way or another: it is named at the
    end, and the Oaxaca clause goes with it."""
    from types import SimpleNamespace

    from analysis.estimation.study import build_study
    from analysis.report.pages import methods

    st = build_study()
    every = st.settings.models.models
    gone = {m.name for m in every if m.family in ("oaxaca", "mixedlm")}
    assert len(gone) == 2
    fitted = SimpleNamespace(has=lambda name: name not in gone,
                             skipped={n: "the wave has no x" for n in gone})
    text = methods.limitations(st, fitted)
    body, _, last = text.partition("Not fitted on this wave (the page on what the score is associated with "
                                   "says why): ")
    assert "Oaxaca–Blinder decomposition is" not in body
    for m in every:
        name = m.label or m.name
        assert (name in last) == (m.name in gone) and (name in body) == (m.name not in gone), m.name
    everything = SimpleNamespace(has=lambda name: True, skipped={})
    assert methods.limitations(st, everything) == methods.limitations(st)
    nothing = SimpleNamespace(has=lambda name: False, skipped={m.name: "why" for m in every})
    assert methods.limitations(st, nothing) == ("No model of data/models.yml is fitted on this wave (the "
                                                "page on what the score is associated with says why).")


def test_each_edition_names_a_province_in_its_own_language_whatever_form_the_wave_gives(monkeypatch):
    """A wave may name its provinces in Chinese (the default wave does): the English edition shows
    their English names, the Chinese edition their short Chinese names; a value that is not a
    province, or a number, passes unchanged."""
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert [i18n.category("province", v) for v in ("上海", "西藏自治区", "Henan", "3.4", "nowhere")] == \
        ["Shanghai", "Tibet", "Henan", "3.4", "nowhere"]
    assert i18n.category("province_en", "内蒙古") == "Inner Mongolia"
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert [i18n.category("province", v) for v in ("上海", "西藏自治区", "Henan", "3.4", "nowhere")] == \
        ["上海", "西藏", "河南", "3.4", "nowhere"]


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_the_survey_page_names_a_single_psu_stratum_and_its_rule_in_each_edition(monkeypatch, rule):
    from types import SimpleNamespace

    import numpy as np

    from analysis.estimation.design import SurveyDesign
    from analysis.report.pages.survey import design_note

    d = SurveyDesign.from_arrays(np.ones(6), np.array(["上海", "上海", "北京", "北京", "北京", "西藏"]),
                                 np.array([1, 1, 2, 3, 3, 9]), lonely_psu=rule)
    st = SimpleNamespace(design=d)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = design_note(st)
    assert en.startswith("2 strata hold a single PSU (Shanghai, Tibet)") and f'"{rule}"' in en
    assert "so their PSU totals are" in en
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = design_note(st)
    assert zh.startswith("2 个层只有一个初级抽样单元（上海、西藏）") and f'"{rule}"' in zh
    assert not re.search(r"[A-Za-z]{4,}", zh.replace("survey.lonely.psu", "").replace(rule, ""))
    assert design_note(SimpleNamespace(design=SurveyDesign.from_arrays(
        np.ones(4), np.array(["a", "a", "b", "b"]), np.array([1, 2, 3, 4])))) == ""
    one = SimpleNamespace(design=SurveyDesign.from_arrays(
        np.ones(5), np.array(["上海", "上海", "北京", "北京", "北京"]), np.array([1, 1, 2, 3, 3]), lonely_psu=rule))
    assert design_note(one).startswith("1 个层只有一个初级抽样单元（上海）：该层内无法估计方差")   # "that stratum"
    assert "这些层内" in zh                                                                    # "those strata"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert design_note(one).startswith("1 stratum holds a single PSU (Shanghai): ")
    assert "so its PSU total is" in design_note(one)


def test_the_survey_page_s_figures_and_facts_table_read_chinese_in_the_chinese_edition(monkeypatch):
    """The bars' provinces and regions, the map's scale and hatching, and the table of what the
    seed paper states beside what the replica assumes (its own column of quotes aside)."""
    import matplotlib.pyplot as plt

    from analysis.estimation.study import build_study
    from analysis.publishing import figures
    from analysis.report.pages import survey

    if figures.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    st = build_study("2020-replica")
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    fig = figures.sample_by_province(survey.composition(st), synthetic=True)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "上海" in ticks and "西藏" in ticks and not [t for t in ticks if re.search("[A-Za-z]", t)]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == sorted(["东部", "中部", "西部"])
    plt.close(fig)
    fig = survey.sample_map(st)
    assert fig.axes[-1].get_ylabel() == "受访者"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["不在复制数据中"]
    plt.close(fig)
    t = survey.facts_and_assumptions(st)
    own = t[["topic", "the replica assumes"]].to_numpy().ravel().tolist() + \
        [x for x in t["the seed paper states"] if x.startswith("未说明")]
    assert len(own) == 2 * len(t) + 3
    assert not [x for x in own if re.search("[A-Za-z]{3,}", x)], own
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    t = survey.facts_and_assumptions(st)
    assert t.iloc[2, 2].startswith("22 provinces: Shanghai and Tibet, and 20 chosen at random") and "Anhui, " in t.iloc[2, 2]


@pytest.mark.parametrize(("normalisation", "weighting", "aggregation"),
                         [("minmax", "equal", "arithmetic"), ("zscore", "entropy", "geometric"),
                          ("rank", "pca", "topsis"), ("target", "ahp", "arithmetic"), ("minmax", "expert", "geometric")])
def test_the_index_construction_glued_into_the_index_and_methods_pages_reads_chinese(
        monkeypatch, normalisation, weighting, aggregation):
    """The construction's settings reached the Chinese pages in English ("equal weights 和
    weighted arithmetic means"): each is now in the edition's language."""
    from types import SimpleNamespace

    from analysis.report.pages.index import method_settings

    unc = SimpleNamespace(bootstrap_reps=199, bootstrap_seed=1, draws=100, seed=2)
    st = SimpleNamespace(
        construction=SimpleNamespace(normalisation=normalisation, weighting=weighting,
                                     aggregation=aggregation, version="v", coverage=0.5),
        settings=SimpleNamespace(index=SimpleNamespace(uncertainty=unc)),
        index=SimpleNamespace(fields=["a"], indicators=["x", "y"]))
    keys = ("idx_normalisation", "idx_weighting", "idx_aggregation")
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = method_settings(st)
    assert all(re.search(r"[a-z]{4,}", en[k]) for k in keys)
    # the numbers beside them: the coverage rule as the percentage the prose prints ("50 %")
    assert (en["coverage_pct"], en["idx_version"], en["rank_reps"], en["rank_seed"]) == (50.0, "v", 199, 1)
    assert (en["sens_draws_setting"], en["sens_seed"], en["n_fields"], en["n_indicators"]) == (100, 2, 1, 2)
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = method_settings(st)
    for k in keys:
        assert re.search(r"[\u4e00-\u9fff]", zh[k]) and zh[k] != en[k], (k, zh[k])
        assert not re.search(r"\b(?!TOPSIS|AHP|SD)[A-Za-z]{4,}", zh[k]), zh[k]


def test_the_provinces_page_lists_the_series_not_found_in_the_edition_s_language(monkeypatch):
    from analysis.report.pages import provinces

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = provinces.missing_series_markdown().splitlines()
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = provinces.missing_series_markdown().splitlines()
    assert len(zh) == len(en) == len(provinces.MISSING_SERIES)
    assert en[0].endswith(";") and en[-1].endswith(".") and zh[0].endswith("；") and zh[-1].endswith("。")
    assert all(line.startswith("- ") and not re.search(r"[A-Za-z]{4,}", line) for line in zh), zh


def test_a_message_and_its_names_keep_both_languages_through_pickle_and_copy():
    """A result's sentence is pickled (the study cache, a Dask worker) and deep-copied (asdict of a
    validation problem): it stays its English text and keeps its template and names' forms."""
    import copy
    import pickle

    from analysis.i18n import Message, Name

    m = Message("township institutions of {province} but no villager respondent there: check the province",
                province=Name("Tibet", zh="西藏"))
    for back in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert type(back) is Message and back == m
        assert back.startswith("township institutions of Tibet")
        assert back.text("zh") == "有西藏的乡镇机构，但该省没有村民受访者：请核查省份"
        assert type(back.values["province"]) is Name and back.values["province"].text("en") == "Tibet"


def test_a_compared_group_is_named_by_its_place_or_its_column_and_value():
    assert i18n.group_name("region3", "east", "zh") == "东部"
    assert i18n.group_name("province", "Tibet", "zh") == "西藏"
    assert i18n.group_name("sex", 1, "zh") == "sex = 1"
    assert i18n.group_name("", "urban", "en") == "urban"          # no column named: the value alone


def test_the_problems_figure_s_data_names_each_share_s_base_in_the_edition_s_language(monkeypatch):
    """The CSV under Table 1's figure says what each share is of, as the page is read: the
    villagers (design-weighted), the township institution records, or not in this wave."""
    import matplotlib.pyplot as plt

    from analysis.publishing import figures

    base = {"villagers, design-weighted": "村民（设计加权）",
            "share of the township institution records": "乡镇机构记录中的比例", "not in this wave": "本轮数据中没有"}
    t = pd.DataFrame({"field": ["health", "education", "culture"], "problem": ["clinic", "bus", "library"],
                      "base": list(base), "estimate": [30.0, 25.0, np.nan],
                      "ci_low": [26.0, np.nan, np.nan], "ci_high": [34.0, np.nan, np.nan]})
    for language, expected in (("zh", list(base.values())), ("en", list(base))):
        monkeypatch.setenv(i18n.LANG_ENV, language)
        fig = figures.table1_plot(t, synthetic=True)
        assert fig.ruralgov_data["base"].tolist() == expected, language
        assert fig.ruralgov_data[["field", "problem", "estimate"]].equals(t[["field", "problem", "estimate"]])
        plt.close(fig)
    assert t["base"].tolist() == list(base)                   # the caller's table is left as it was


def test_the_wave_yml_example_speaks_the_edition_s_language(monkeypatch):
    """The rerun page's wave.yml example: its comments are in the catalog (each one), so the
    Chinese edition's example is commented in Chinese; its keys and values stay as typed."""
    from analysis.report.pages import rerun

    comments = [line.partition("# ")[2] for line in rerun.EXAMPLE.splitlines() if "# " in line]
    assert sorted(comments) == sorted(rerun.EXAMPLE_COMMENTS)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert rerun.example_yaml() == rerun.EXAMPLE
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = rerun.example_yaml()
    assert [line.partition("# ")[0] for line in zh.splitlines()] == \
        [line.partition("# ")[0] for line in rerun.EXAMPLE.splitlines()]
    for line in zh.splitlines():
        if "# " in line:
            assert re.search(r"[\u4e00-\u9fff]", line.partition("# ")[2]), line
    assert zh in rerun.wave_yml_reference("list")


# ---- what a translation says: terms, numbers and order checked against its English source ----

TERMS = [
    # (English, Chinese, both ways?): wherever the Chinese term is, the English one is (a
    # translation says no more than its source); "both": wherever the English is, the Chinese is
    (r"\bhighest\b|\brank 1\b|\btop of its scale", r"最高", True),
    (r"\blowest\b", r"最低(?!生活)", True),                      # 最低生活保障: the minimum living guarantee
    (r"standard\s+errors?\b|\bSEs?\b", r"标准误", True),
    (r"standard\s+deviation|\bSD\b", r"标准差", True),
    (r"\bcaus", r"因果|导致", False),
    (r"\bnot\s+(a\s+|the\s+)?caus", r"(不是|并非|而非)[^，。；]{0,6}(因果|原因)", True),
    (r"percentage\s+points?|\(pp\)|points\s+wide", r"百分点", True),     # index points are 分
    (r"\bsynthetic\b", r"合成", True),
    (r"\bcent(re|ral)\b", r"中部", True),
    (r"\bnot\s+reject", r"不拒绝", True),
    (r"\bfewer\b|\bless\b|\bbelow\b|\bunder\b", r"(?<!不)(少于|不足|不到|低于)", False),
    (r"\bmore\b|\bexceed|\bover\b|\babove\b|\bwider\b|\bgreater\b", r"多于|超过|高于|大于", False),
    (r"\bless\b|\bsmaller\b|\bbelow\b|\bfewer\b", r"小于", False),
    (r"\bmore\b|\bhigher\b|\blarger\b|\bgreater\b", r"较多", False),
    (r"\bless\b|\blower\b|\bfew(er)?\b|\bsmaller\b", r"较少", False),
    (r"first-order", r"(?<!第)一阶", True),                      # 第一阶段: the first stage
    (r"\bpositive\b", r"为正|正值", False),
    (r"\bnegative\b", r"为负|负值", False),
    (r"empty\s+model", r"空模型", True),
    (r"with\s+care", r"谨慎", True),
]
AT_MOST = [(r"\brespondent|\bvillager|\bpeople\b|\bperson|\binterview|\bthe others\b", r"受访者")]
"""(English, Chinese): the Chinese term no more often than the English (a pronoun counts)."""
AT_LEAST = [(r"\bPSUs?\b|primary sampling units?", r"初级抽样单元|PSU")]
"""(English, Chinese): the Chinese term at least as often as the English."""
ORDERED = [(r"\beast(ern)?\b", r"东部", r"\bwest(ern)?\b", r"西部"),
           (r"\bhighest\b", r"最高", r"\blowest\b", r"最低"),
           (r"\bred\b", r"红", r"\bblue\b", r"蓝"),
           (r"\bbetween\b", r"间", r"\bwithin\b", r"内")]
"""Two terms both in the English: the Chinese names them in the same order."""
TWINS = [("top", "bottom"), ("low", "high"), ("lo", "hi"), ("a", "b"), ("low_name", "high_name"),
         ("icc", "icc_c"), ("first", "last"), ("t0", "t1"), ("top_degree", "bottom_degree")]
"""Placeholders of a pair (the top and the bottom province, a − b): each occurrence in the same
order as in the English (else the Chinese would give one province's name to the other's value)."""
GLUE_TWINS = [("lo", "hi"), ("low", "high")]
"""Suffixes of the glued values of a page that come in pairs (an interval's limits)."""


def _numbers(text: str) -> list[str]:
    """The numbers a text states (not placeholders, code or a parenthesis citing a year)."""
    text = re.sub(r"\{[^{}]*\}|`[^`]*`|\([^()]*\d{4}[^()]*\)", "", text)
    return re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", text)


def translation_problems(en: str, zh: str) -> list[str]:
    """What a Chinese translation says that its English source does not, as a translator's
    quality check would find it: a key term missing or added (highest/lowest, standard error or
    deviation, causal, percentage points, synthetic, rejects or not, fewer or more, positive or
    negative), a number of the English missing, two terms or paired placeholders in another
    order. Empty when none is found."""
    out = []
    words_en, words_zh = (re.sub(r"\{[^{}]*\}", " ", x) for x in (en, zh))
    for e, z, both in TERMS:
        has_e, has_z = re.search(e, words_en, re.I), re.search(z, words_zh)
        if has_z and not has_e:
            out.append(f"{z} without {e}")
        if both and has_e and not has_z:
            out.append(f"{e} without {z}")
    for e, z in AT_MOST:
        if len(re.findall(z, words_zh)) > len(re.findall(e, words_en, re.I)):
            out.append(f"{z} more often than {e}")
    for e, z in AT_LEAST:
        if len(re.findall(z, words_zh)) < len(re.findall(e, words_en)):
            out.append(f"{z} less often than {e}")
    for e1, z1, e2, z2 in ORDERED:
        m1, m2 = re.search(e1, en, re.I), re.search(e2, en, re.I)
        n1, n2 = re.search(z1, zh), re.search(z2, zh)
        if m1 and m2 and n1 and n2 and (m1.start() < m2.start()) != (n1.start() < n2.start()):
            out.append(f"{z1} and {z2} in another order")
    for a, b in TWINS:
        seq_en, seq_zh = (re.findall(r"\{(" + a + "|" + b + r")[:!}]", x) for x in (en, zh))
        if len(set(seq_en)) == 2 and seq_zh and seq_en != seq_zh:
            out.append(f"{{{a}}} and {{{b}}} in another order")
    for a, b in GLUE_TWINS:          # a glued pair of a page (`x_lo`, `x_hi`): the same order
        seq_en, seq_zh = (re.findall(r"`(\w+?_(?:" + a + "|" + b + r"))[:`]", x) for x in (en, zh))
        if len({n.rsplit("_", 1)[1] for n in seq_en}) == 2 and seq_zh and seq_en != seq_zh:
            out.append(f"glued *_{a} and *_{b} in another order")
    ne, nz = Counter(_numbers(en)), Counter(_numbers(zh))
    if "千" in zh:                                                  # 每千人: per 1,000
        for k in ("1000", "000", "1"):
            ne.pop(k, None)
    if ne - nz:
        out.append(f"numbers {sorted(ne - nz)} missing")
    return out


def _all_translations() -> list[tuple[str, str, str]]:
    """(catalogue, English, Chinese) of every catalogue the edition reads (a plural: its first form)."""
    folder = i18n.catalog_path("ruralgov").parent
    out = []
    for po in sorted(folder.rglob("*.po")):
        domain = po.relative_to(folder).with_suffix("").as_posix()
        for en, zh in i18n.catalog(domain).items():
            out.append((domain, *(x if isinstance(x, str) else x[0] for x in (en, zh))))
    return out


def test_the_translation_check_finds_a_translation_that_says_something_else():
    """The check below, on translations written wrong by hand (and right)."""
    right = ("highest in {top} ({t:.1f}), lowest in {bottom}", "最高的是{top}（{t:.1f}），最低的是{bottom}")
    assert translation_problems(*right) == []
    wrong = {"最低的是{top}（{t:.1f}），最高的是{bottom}": "最低",
             "最高的是{bottom}（{t:.1f}），最低的是{top}": "{top} and {bottom}",
             "最高的是{top}（{t:.2f}），最低的是{bottom}": "",       # a format may change: not a number
             }
    for zh, why in wrong.items():
        got = translation_problems(right[0], zh)
        assert (why in " ".join(got)) if why else got == [], (zh, got)
    assert translation_problems("an association, not a causal effect (95 % CI)", "这是因果效应（95 % 置信区间）")
    assert translation_problems("a 95 % interval", "90 % 区间") == ["numbers ['95'] missing"]
    assert translation_problems("{a} minus {b}, then {a}", "{b}减去{a}，然后{a}") == [
        "{a} and {b} in another order"]
    ci = "95 % CI {glue:text}`degree_lo:.1f`–{glue:text}`degree_hi:.1f`"
    assert translation_problems(ci, "95 % 置信区间 {glue:text}`degree_lo:.1f`–{glue:text}`degree_hi:.1f`") == []
    assert translation_problems(ci, "95 % 置信区间 {glue:text}`degree_hi:.1f`–{glue:text}`degree_lo:.1f`") == [
        "glued *_lo and *_hi in another order"]
    assert translation_problems("the standard error", "标准差") == [
        r"standard\s+errors?\b|\bSEs?\b without 标准误", r"标准差 without standard\s+deviation|\bSD\b"]


def test_every_translation_says_what_its_english_says():
    """Each message of every catalogue (the package's strings, the pages, the profiles) passes
    the check: the Chinese reader is told the same terms, numbers and order as the English."""
    every = _all_translations()
    found = [(f, en[:70], zh[:50], p) for f, en, zh in every for p in translation_problems(en, zh)]
    assert len(every) > 700 and found == [], found[:10]


def test_a_translation_marked_fuzzy_is_not_served(tmp_path, monkeypatch):
    """A fuzzy entry is a translator's stale draft (its English changed since): the page prints the
    English until it is reviewed, and the reviewed entries beside it are served."""
    po = tmp_path / "zh_CN" / "LC_MESSAGES" / "ruralgov.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#, fuzzy\nmsgid "Stale sentence"\nmsgstr "旧的译文"\n\n'
                  'msgid "Reviewed sentence"\nmsgstr "审阅过的译文"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    i18n._catalog.cache_clear()
    try:
        assert i18n._("Stale sentence", "zh") == "Stale sentence"
        assert i18n._("Reviewed sentence", "zh") == "审阅过的译文"
        assert i18n.catalog("ruralgov") == {"Reviewed sentence": "审阅过的译文"}
    finally:
        i18n._catalog.cache_clear()


def test_updating_the_catalogs_keeps_a_fuzzy_mark_and_lists_it_and_changes_no_byte_twice(tmp_path, monkeypatch):
    """``python -m analysis.i18n`` keeps a translation marked fuzzy marked (the build still does
    not serve it) and lists it as left to translate; a second run that adds nothing rewrites no
    catalog (their bytes are hashed into every page of the Chinese edition)."""
    po = tmp_path / "zh_CN" / "LC_MESSAGES" / "ruralgov.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"POT-Creation-Date: 2020-01-02 03:04+0000\\n"\n'
                  '"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#, fuzzy\nmsgid "Stale sentence"\nmsgstr "旧的译文"\n\n'
                  'msgid "Reviewed sentence"\nmsgstr "审阅过的译文"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    monkeypatch.setattr(i18n, "page_sources", lambda: {})
    monkeypatch.setattr(i18n, "package_messages", lambda: ["Stale sentence", "Reviewed sentence", "New one"])
    i18n._catalog.cache_clear()
    try:
        assert i18n.update_catalogs() == {"ruralgov": ["Stale sentence", "New one"]}
        assert i18n.catalog("ruralgov") == {"Reviewed sentence": "审阅过的译文"}
        first = po.read_bytes()
        assert "#, fuzzy\nmsgid \"Stale sentence\"" in first.decode("utf-8")
        assert '"POT-Creation-Date: 2020-01-02 03:04+0000\\n"' in first.decode("utf-8")   # its date kept
        assert 'msgid "New one"\nmsgstr ""' in first.decode("utf-8")                       # the new message added
        os.utime(po, ns=(0, 0))
        assert i18n.update_catalogs() == {"ruralgov": ["Stale sentence", "New one"]}
        assert po.read_bytes() == first and po.stat().st_mtime_ns == 0       # not written again
    finally:
        i18n._catalog.cache_clear()


def test_a_count_is_said_in_the_language_asked_for_whatever_the_edition(monkeypatch):
    one, other = "{n} respondent has no overall score", "{n} respondents have no overall score"
    zh = i18n._(other, "zh")
    assert zh != other
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert i18n.count(3, one, other, "en") == "3 respondents have no overall score"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert i18n.count(3, one, other, "zh") == zh.format(n=3)


def test_the_nbs_four_regions_are_named_in_chinese_like_the_three():
    assert [i18n.category("region4", r, "zh") for r in ("east", "central", "west", "northeast")] == \
        ["东部", "中部", "西部", "东北"]
    assert i18n.category("region4", "east", "en") == "east"


def test_an_indented_fence_closes_at_its_own_indented_closing_line():
    """A maths block inside a list item is indented: the prose and heading after it are prose."""
    page = "Intro.\n\n1. A list item:\n\n   ```{math}\n   x = 1\n   ```\n\n## Heading after\n\nProse after.\n"
    assert i18n.messages(page) == ["Intro.", "1. A list item:", "Heading after", "Prose after."]


def test_a_translation_s_line_breaks_between_chinese_characters_and_punctuation_are_removed():
    """A browser shows a line break as a space: between 。 and 「 (CJK punctuation) as between
    two characters, it is removed; one before a Latin word is kept."""
    text, _ = i18n.translate_page("Line one\nline two.\n\nThird\nline.\n",
                                  {"Line one\nline two.": "第一句。\n「第二句」。",
                                   "Third\nline.": "第三\nSobol 指数"})
    assert text == "第一句。「第二句」。\n\n第三\nSobol 指数\n"


def test_the_profiles_catalog_holds_the_index_page_s_prose_as_well_as_the_template_s():
    from analysis.report import profiles

    src = i18n.messages(i18n.page_sources()["profiles"])
    index = i18n.messages(profiles.INDEX_PAGE)
    assert index and set(index) <= set(src)
    assert set(i18n.messages(profiles.TEMPLATE)) <= set(src)


def test_the_execution_table_is_translated_after_myst_nb_has_built_it():
    from myst_nb.ext.execution_tables import ExecutionStatsPostTransform

    from analysis.report.sphinx_ext import TranslateExecTable

    assert TranslateExecTable.default_priority > ExecutionStatsPostTransform.default_priority


@pytest.mark.parametrize("builder", ["html", "singlehtml"])
def test_the_language_switch_is_on_html_pages_with_the_edition_s_bcp47_tag_and_not_in_the_pdf(
        monkeypatch, builder):
    """The single-page build behind the PDF gets no switch (a relative link leads nowhere from a
    PDF); the HTML page's link names its language as HTML does (zh-Hans, not Sphinx's zh_CN)."""
    from analysis.report.sphinx_ext import _language_switch

    monkeypatch.setenv(i18n.EDITIONS_ENV, "en,zh")
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    app = SimpleNamespace(builder=SimpleNamespace(name=builder, format="html"))
    context = {"body": "<p>page</p>"}
    _language_switch(app, "book/intro", "page.html", context, None)
    if builder == "singlehtml":
        assert context["body"] == "<p>page</p>"
    else:
        assert context["body"] == ('<p class="lang-switch"><a href="../../zh/html/book/intro.html" '
                                   'hreflang="zh-Hans" lang="zh-Hans">中文</a></p>\n<p>page</p>')


def test_a_legend_names_every_region_of_either_scheme_in_the_edition_s_language(monkeypatch):
    """series_label: the three regions and the NBS fourth (northeast) in the Chinese edition's
    words (with a CJK font to draw them); the English edition keeps the names."""
    from analysis.i18n import LANG_ENV
    from analysis.publishing.figures import series_label

    monkeypatch.setenv(LANG_ENV, "zh")
    assert [series_label(r) for r in ("east", "central", "west", "northeast")] == ["东部", "中部", "西部", "东北"]
    monkeypatch.setenv(LANG_ENV, "en")
    assert series_label("northeast") == "northeast"
