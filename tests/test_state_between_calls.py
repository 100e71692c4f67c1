"""Tests for state a call leaves behind: caches emptied after an update, the house theme applied by
the first figure, a translated label not memoised across editions, model tables not relabelled in
place, glued figures closed, one item's text labels not read for another's."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd

from analysis import i18n
from analysis.ingest.validate import validate_wave

PO_HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def _write_po(folder, entries: dict[str, str]) -> None:
    po = folder / "zh_CN" / "LC_MESSAGES" / "ruralgov.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    po.write_text(PO_HEADER + body, encoding="utf-8")


def test_a_translation_changed_and_kept_by_update_catalogs_is_served_at_once(tmp_path, monkeypatch):
    """After ``update_catalogs()`` the process serves the catalogs as written, not as first read:
    a translation edited in ruralgov.po and one just added are seen in the same process."""
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    monkeypatch.setattr(i18n, "page_sources", lambda: {})
    monkeypatch.setattr(i18n, "package_messages", lambda: ["region", "New one"])
    _write_po(tmp_path, {"region": "区域", "New one": ""})
    i18n._catalog.cache_clear()
    try:
        assert i18n._("region", "zh") == "区域"
        assert i18n.untranslated() == {"ruralgov": ["New one"]}
        _write_po(tmp_path, {"region": "地区", "New one": "新的"})
        assert i18n.update_catalogs() == {"ruralgov": []}
        assert i18n._("region", "zh") == "地区"
        assert i18n._("New one", "zh") == "新的"
        assert i18n.untranslated() == {}
    finally:
        i18n._catalog.cache_clear()


def _fixed_degree(by=None):  # type: ignore[no-untyped-def]
    """A degree table as a study gives one: overall, or by the three regions."""
    domains = ["all"] if by is None else ["central", "east", "west"]
    k = len(domains)
    e = pd.DataFrame({"domain": domains, "estimate": [50.0] * k, "se": [1.0] * k, "ci_low": [48.0] * k,
                      "ci_high": [52.0] * k, "n": [500] * k, "n_psu": [30] * k, "df": [27.0] * k})
    return SimpleNamespace(to_frame=lambda: e)


def test_the_comparison_figure_drawn_first_in_a_process_has_the_house_theme():
    """The comparison figure applies the house theme itself (dpi 110, no top or right spine, titles
    on the left), even when no other figure of the package was drawn before it."""
    from analysis.report.pages import compare

    st = SimpleNamespace(wave=SimpleNamespace(id="w", spec=SimpleNamespace(min_cell=10)), year=2020,
                         degree=_fixed_degree)
    with mpl.rc_context():
        mpl.rcdefaults()                           # matplotlib as a fresh process starts it
        fig = compare.figure([st])
        try:
            ax = fig.axes[0]
            assert fig.dpi == 110
            assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
            assert mpl.rcParams["axes.titlelocation"] == "left"
        finally:
            plt.close(fig)


def test_the_official_source_label_follows_the_edition_asked_after_another(monkeypatch):
    """The official statistics' source label is in the edition being written: asked in English then
    in Chinese (two editions in one process), the second is the Chinese one."""
    from analysis.publishing.provenance import official_source

    english = "official statistics (NBS province panel 2005–2024)"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert official_source().label == english
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = official_source().label
    assert zh == i18n._(english, "zh") and zh != english
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert official_source().label == english


def test_ame_plot_leaves_the_model_s_table_unlabelled_for_the_next_edition():
    """ame_plot labels a copy: the model's AME table keeps its terms, and a second plot with other
    labels (the Chinese edition, same cached model) shows its own labels."""
    from analysis.publishing import figures

    ame = pd.DataFrame({"term": ["age", "age"], "category": [1, 2], "ame": [0.01, -0.01],
                        "se": [0.001, 0.002]})
    first = figures.ame_plot(ame, synthetic=False, labels={"age": "Age"})
    second = figures.ame_plot(ame, synthetic=False, labels={"age": "年龄"})
    try:
        assert ame["term"].tolist() == ["age", "age"]
        assert set(first.ruralgov_data["term"]) == {"Age"}
        assert set(second.ruralgov_data["term"]) == {"年龄"}
        titles = [a.get_title(loc="left") for a in second.axes if a.get_title(loc="left")]
        assert titles == ["年龄"]
    finally:
        plt.close(first)
        plt.close(second)


def test_brant_table_leaves_the_fitted_model_s_brant_terms_as_they_are():
    """brant_table labels a copy of the model's Brant table: the fitted model still finds its
    omnibus row by the term ``omnibus`` and each regressor by its name."""
    from analysis.report.pages.determinants import brant_table

    brant = pd.DataFrame({"term": ["omnibus", "internet_use"], "chi2": [12.5, 3.25], "df": [6, 3],
                          "p": [0.05, 0.35]})
    ms = {"ologit_health": SimpleNamespace(tables={"brant": brant},
                                           term_labels={"internet_use": "internet use"})}
    shown = brant_table(ms)
    assert shown["term"].tolist() == ["all regressors (omnibus)", "internet use"]
    assert brant["term"].tolist() == ["omnibus", "internet_use"]
    assert "chi2" in brant.columns
    again = brant_table(ms)
    assert again["term"].tolist() == ["all regressors (omnibus)", "internet use"]


def test_glued_figures_are_closed_once_glued(monkeypatch):
    """glue_figure closes the figure it glued: after two figures glued no figure is left open."""
    from analysis.report import display

    monkeypatch.setattr(display, "glue_markdown", lambda d: None)
    monkeypatch.setattr("myst_nb.glue", lambda *a, **k: None)
    plt.close("all")
    a, b = plt.figure(), plt.figure()
    try:
        display.glue_figure("fig_a", a)
        display.glue_figure("fig_b", b)
        assert plt.get_fignums() == []
    finally:
        plt.close(a)
        plt.close(b)


def test_a_label_of_one_item_is_not_read_as_an_answer_to_another(small_villagers, make_wave):
    """A cell is read by its own item's labels only: 女 is a sex (code 2), and an education cell
    reading 女 is refused as an unparsable value, not taken as education's code 2."""
    v = small_villagers.copy()
    v[["sex", "education"]] = v[["sex", "education"]].astype(object)
    v.loc[0, "sex"] = "女"
    v.loc[3, "education"] = "女"
    report, _ = validate_wave(make_wave(v))
    errs = [(e.row, e.column, e.rule) for e in report.errors]
    assert errs == [(5, "education", "parsable value")]
