"""Pages on waves unlike the replica, and the Chinese edition, say what their data hold. Each test
stands for an error planted by a reviewer that no test caught: a read error named by the file's
bare name, a coefficient figure of models the wave could not fit, a test's p-value in another
test's row, term codes for labels, an untranslated title, an English province name in a Chinese
message, the three-belt region where the NBS's four regions are named, an untranslated profile
index, and the landing page on waves of two provinces or without the west."""

from __future__ import annotations

import re

import pytest
import yaml

from analysis import i18n
from analysis.estimation.study import build_study
from tests import wavegen


@pytest.fixture
def zh(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")


@pytest.fixture(scope="module")
def default():  # type: ignore[no-untyped-def]
    from analysis.estimation.suite import fit_models

    st = build_study("2020-replica")
    return st, fit_models(st, names=["wls_region", "wls_province"])


def test_an_unreadable_file_in_a_subfolder_is_named_by_its_path_in_the_wave(tmp_path):
    from analysis.ingest.validate import validate_wave

    folder = wavegen.replica_copy(tmp_path / "raw-bad")
    (folder / "raw").mkdir()
    lines = (folder / "villagers.csv").read_text(encoding="utf-8").splitlines()
    lines[9] += ",surplus"                                  # one field too many on file row 10
    (folder / "raw" / "villagers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "villagers.csv").unlink()
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"]["villagers"]["file"] = "raw/villagers.csv"
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    report, _ = validate_wave(folder)
    assert report.errors and {e.file for e in report.errors} == {"raw/villagers.csv"}


def test_the_coefficient_figure_draws_the_models_a_two_province_wave_could_fit(tmp_path):
    import matplotlib.pyplot as plt

    from analysis.estimation.suite import fit_models
    from analysis.report.pages.determinants import coefficient_figure

    st = build_study(wavegen.provinces(tmp_path / "two", ["浙江", "四川"]))
    ms = fit_models(st)
    assert not ms.has("svy_region") and ms.has("wls_region")             # the premise
    fig = coefficient_figure(ms, ["wls_region", "wls_province", "svy_region", "multilevel"], synthetic=False)
    labels = {t.get_text() for ax in fig.axes for t in (ax.get_legend().get_texts() if ax.get_legend() else [])}
    assert {ms["wls_region"].label, ms["wls_province"].label} <= labels
    plt.close(fig)


def test_each_specification_test_has_its_own_p_value(default):
    from analysis.estimation.suite import diagnostics
    from analysis.publishing.formats import fmt_p
    from analysis.report.pages.determinants import diagnostics_tables

    st, ms = default
    dg = diagnostics(st, model="wls_region")
    _, tests = diagnostics_tables(st, ms)
    assert tests["p"].tolist()[:2] == [fmt_p(dg["breusch_pagan"]["p"]), fmt_p(dg["reset"]["p"])]
    assert fmt_p(dg["breusch_pagan"]["p"]) != fmt_p(dg["reset"]["p"])            # the premise


def test_the_robustness_table_names_its_rows_by_their_labels(default):
    from analysis.report.pages.determinants import robustness_table

    st, ms = default
    t = robustness_table(st)
    labels = dict(ms["wls_region"].term_labels)
    assert set(t["term"]) <= set(labels.values()) and "internet_use" not in set(t["term"])
    assert labels["internet_use"] in set(t["term"])


def test_a_regression_table_s_title_is_in_the_edition_s_language(default, zh, monkeypatch):
    import IPython.display

    from analysis.report import display

    st, ms = default
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    display.regression_table(ms, ["wls_region"], st, title="The overall score: linear and multilevel models")
    md = shown[-1]["text/markdown"]
    assert "总得分：线性模型和多层模型" in md and "The overall score" not in md


def test_a_province_named_in_a_message_is_named_in_the_edition_being_written(zh):
    from analysis.ingest.validate import lonely_message

    said = i18n.say(lonely_message("宁夏", "adjust"))
    assert "宁夏" in said and "Ningxia" not in said


def test_the_chinese_profile_of_a_northeastern_province_names_the_northeast(tmp_path):
    from analysis.report.profiles import write_profiles

    write_profiles(tmp_path, lang="zh")
    for slug in ("liaoning", "jilin", "heilongjiang"):
        text = (tmp_path / f"{slug}.md").read_text(encoding="utf-8")
        assert "东北" in text and "中部地区" not in text and "东部地区" not in text, slug


def test_the_chinese_profile_index_is_chinese_throughout(tmp_path):
    from analysis.report.profiles import INDEX, write_profiles

    write_profiles(tmp_path, lang="zh")
    text = (tmp_path / f"{INDEX}.md").read_text(encoding="utf-8")
    prose = [ln for ln in text.splitlines() if ln and not ln.startswith(("#", "**", "{"))]
    assert prose and not [ln for ln in prose if re.search(r"[A-Za-z]{4,}", re.sub(r"\{[^}]*\}`[^`]*`", "", ln))]


def test_the_landing_page_compares_the_two_provinces_of_a_two_province_wave(tmp_path):
    from analysis.report.pages import intro

    h = intro.numbers(build_study(wavegen.provinces(tmp_path / "sh-tibet", ["上海", "西藏"])))
    assert h["n_provinces_published"] == 2                                     # the premise
    assert h["provinces_sentence"].startswith("Among the 2 provinces with enough respondents")
    assert "highest in Shanghai" in h["provinces_sentence"] and "lowest in Tibet" in h["provinces_sentence"]


def test_the_landing_page_of_a_wave_without_the_west_has_no_east_west_gap(tmp_path):
    from analysis.report.pages import intro

    h = intro.numbers(build_study(wavegen.provinces(tmp_path / "sh-anhui", ["上海", "安徽"])))
    assert h["gap_sentence"] == "" and "gap_east_west" not in h
