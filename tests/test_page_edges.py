"""What the report's pages and panel functions show on unusual inputs: the order of the rows a
reader sees, values attached to the right province, years without data, and marks and intervals
that must not appear where nothing calls for them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest


def _wave(tmp_path, provinces, *, one_village=(), own_village=()):  # type: ignore[no-untyped-def]
    """A small wave of some replica provinces, built into a study: the provinces in
    ``one_village`` have all their respondents in a single village, those in ``own_village``
    each respondent in a village of their own (one PSU per respondent)."""
    from analysis.estimation.study import build_study
    from tests import wavegen

    folder = wavegen.provinces(tmp_path / "edges", provinces)
    if one_village or own_village:
        v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
        for p in one_village:
            rows = v["province"] == p
            v.loc[rows, "village_id"] = v.loc[rows, "village_id"].iloc[0]
        for p in own_village:
            rows = v["province"] == p
            v.loc[rows, "village_id"] = v.loc[rows, "resp_id"]
        v.to_csv(folder / "villagers.csv", index=False)
    return build_study(folder)


class _NoModels:
    """A model suite holding no model (the key findings then say nothing of determinants)."""

    def has(self, name: str) -> bool:
        return False


# ---- the index page: its map and its province figure ---------------------------------------------

def test_the_degree_map_colours_each_publishable_province_with_its_own_degree(tmp_path):
    """The index page's map (and the CSV beneath it) gives every publishable province its own
    degree, keyed by its adcode: not a map hatching every province as not surveyed, with an empty
    data table, nor one province's degree painted on another."""
    from analysis.ingest.provinces import resolve
    from analysis.publishing.disclosure import published
    from analysis.report.pages import common, index

    st = _wave(tmp_path, ["上海", "西藏", "河南", "黑龙江"])
    want = published(common.degree_table(st, "province_en")).set_index("province_en")["estimate"]
    assert len(want) == 4                                    # the premise: all four are published
    drawn = index.province_map(st).ruralgov_data
    assert drawn.shape[0] == 4 and drawn.iloc[:, -1].notna().all()
    got = dict(zip(drawn["adcode"].astype(int), drawn.iloc[:, -1]))
    assert got == pytest.approx({resolve(p).adcode: float(e) for p, e in want.items()})
    assert got[310000] == pytest.approx(want["Shanghai"]) and got[540000] == pytest.approx(want["Tibet"])


def test_the_index_page_draws_its_provinces_from_the_highest_degree_at_the_top_to_the_lowest(tmp_path):
    """The province figure of the index page (and its CSV) lists the publishable provinces from
    the highest degree down: the reader sees the highest at the top, the lowest at the bottom,
    not the other way round."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index

    st = _wave(tmp_path, ["上海", "西藏", "河南", "黑龙江"])
    t = index.province_table(st, domain_replicates(st, reps=20, seed=1))
    fig = index.figures_(st, t)["fig_index_provinces"]
    data = fig.ruralgov_data
    assert len(data) == 4
    assert data["estimate"].is_monotonic_decreasing and data["estimate"].is_unique
    assert data["province"].iloc[0] == "Shanghai" and data["province"].iloc[-1] == "Tibet"
    ticks = sorted(((t.get_position()[1], t.get_text()) for t in fig.axes[0].get_yticklabels()),
                   reverse=True)                                      # top of the figure first
    assert [name for _, name in ticks] == data["province"].tolist()


# ---- the survey page: the sample's composition ----------------------------------------------------

def test_the_sample_composition_lists_provinces_region_by_region_with_the_region_column_first(tmp_path):
    """The survey page's sample table reads region, then province: the provinces of one region
    together, regions in turn (central, east, west), each row with its own province's respondents;
    not an alphabetical list of provinces with the region column after them."""
    from analysis.report.pages import survey

    st = _wave(tmp_path, ["重庆", "湖南", "浙江"])
    c = survey.composition(st)
    assert c.columns[:2].tolist() == ["region", "province"]
    assert list(zip(c["region"], c["province"])) == [("central", "Hunan"), ("east", "Zhejiang"),
                                                     ("west", "Chongqing")]
    n = st.villagers.groupby("province_en").size()
    assert c.set_index("province")["respondents"].to_dict() == n.to_dict()


# ---- the determinants page: the robustness table --------------------------------------------------

def test_the_robustness_table_keeps_the_model_s_order_of_terms_and_the_order_constructions_are_varied(
        tmp_path):
    """The robustness table's rows come in the model's order of regressors and its columns start
    with the default construction, then normalisation, weighting and aggregation as they are
    varied; each cell is that term's estimate under that construction. Sorted alphabetically,
    "age" would head the rows and "AHP weights" the columns."""
    from analysis.estimation.suite import robustness
    from analysis.report.pages import determinants

    st = _wave(tmp_path, ["重庆", "湖南", "浙江"])
    r = robustness(st)
    terms, constructions = list(dict.fromkeys(r["label"])), list(dict.fromkeys(r["construction"]))
    assert terms != sorted(terms) and constructions != sorted(constructions)       # the premise
    t = determinants.robustness_table(st)
    assert t["term"].tolist() == terms
    assert t.columns.tolist() == ["term", *constructions]
    assert constructions[0].startswith("default (")
    cells = t.set_index("term")
    for row in r.itertuples():
        assert cells.loc[row.label, row.construction] == pytest.approx(row.estimate)


# ---- the official-statistics page: σ-convergence over years without data ------------------------

def test_sigma_convergence_gives_no_value_for_a_year_the_series_does_not_cover():
    """The education share of spending is published for 2010–2023 only: σ-convergence has those
    14 years, each a number, not 20 with a blank for 2005–2009 and 2024."""
    from analysis.estimation.panel import sigma_convergence
    from analysis.ingest.official import province_panel

    s = sigma_convergence(province_panel(), "edu_exp_share_pct")
    assert s.index.tolist() == list(range(2010, 2024))
    assert s.notna().all()


def test_the_sigma_convergence_figure_has_no_year_on_which_neither_line_has_a_value():
    """With the spending series missing in 2005 and 2006 (and the education share before 2010),
    the σ-convergence figure and its CSV start in 2007: no row of blanks for a year neither line
    covers."""
    from analysis.ingest.official import province_panel
    from analysis.report.pages import provinces

    p = province_panel().copy()
    p.loc[p.index.get_level_values("year") <= 2006, "fiscal_exp_per_capita_yuan"] = np.nan
    data = provinces.figures_(SimpleNamespace(official=p))["fig_real_sigma"].ruralgov_data
    values = data.drop(columns=["year"])
    assert data["year"].min() == 2007
    assert values.notna().any(axis=1).all(), data[values.isna().all(axis=1)]


# ---- a province's profile: the care mark -----------------------------------------------------------

def test_a_province_s_profile_marks_with_care_only_an_estimate_that_is_flagged(tmp_path):
    """A province whose degree rests on 68 PSUs (67 design df) is reliable: its profile sentence
    carries no "†" and no "To be read with care: ." with nothing after it. A province of 3 PSUs
    (2 df) is marked, with its reason."""
    from analysis.report.pages import profile

    st = _wave(tmp_path, ["江苏", "上海"], own_village=["江苏"])
    js, sh = profile.survey_status(st, 320000), profile.survey_status(st, 310000)
    assert (js["status"], js["n_psu"], js["df"], js["flag"]) == ("published", 68, 67, "")   # the premise
    assert sh["status"] == "published" and sh["flag"]
    jiangsu = profile.summary_sentence(st, 320000, pd.DataFrame())
    assert jiangsu.startswith("The modernization degree in Jiangsu")
    assert "†" not in jiangsu and "care" not in jiangsu, jiangsu
    shanghai = profile.summary_sentence(st, 310000, pd.DataFrame())
    assert shanghai.endswith(" † To be read with care: fewer than 8 design df."), shanghai


# ---- the landing page: the most named problem on zero design df -----------------------------------

def test_shares_on_no_design_df_are_withheld_and_no_problem_is_named_the_most_named(tmp_path):
    """On a wave whose every province is one village (4 PSUs in 4 strata: 0 design df) a share has
    an SE but no confidence interval, so the NCHS width rules cannot clear it: it is withheld with
    that reason (and flagged for its df), and the key findings name no problem as the most named
    rather than print a share whose precision nobody can judge, or "(95 % CI nan–nan %)"."""
    from analysis.publishing.reliability import DF_REASON, NO_CI_REASON
    from analysis.report.pages import intro, problems

    provinces = ["上海", "西藏", "河南", "广西"]
    st = _wave(tmp_path, provinces, one_village=provinces)
    t1 = problems.table1(st)
    judged = t1[t1["df"] == 0]
    assert len(judged) > 5                                          # the premise: shares on 0 df
    assert (judged["suppressed"] == NO_CI_REASON).all() and (judged["flag"] == DF_REASON).all()
    assert t1["estimate"].isna().all()
    text = intro.key_findings(st, _NoModels(), {})
    assert "respondents name most often" not in text and "nan" not in text, text


@pytest.mark.parametrize("language, said", [
    ("en", "**{d:.2f}** (no confidence interval: 0 design degrees of freedom)"),
    ("zh", "**{d:.2f}**（无置信区间：设计自由度 0）")])
def test_a_national_degree_on_no_design_df_is_stated_without_an_interval(tmp_path, monkeypatch, language,
                                                                        said):
    """Four provinces of one village each: the national degree rests on 4 villages (published)
    but on 0 design degrees of freedom, so it has no interval: the headline and the first key
    finding say so, in the edition's language, never "95 % CI nan–nan"."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import intro

    provinces = ["上海", "西藏", "河南", "广西"]
    st = _wave(tmp_path, provinces, one_village=provinces)
    monkeypatch.setenv(LANG_ENV, language)
    h = intro.numbers(st)
    assert not h["degree_withheld"] and h["degree_overall_df"] == 0 and np.isnan(h["degree_overall_lo"])
    assert h["degree_sentence"] == said.format(d=h["degree_overall"])
    first = intro.key_findings(st, _NoModels(), {}).splitlines()[0]
    assert f"**{h['degree_overall']:.1f}**" in first and "nan" not in first
    assert ("no confidence interval" if language == "en" else "无置信区间") in first


# ---- validation: a dominant weight beside a blank one -------------------------------------------

def test_a_dominant_weight_is_refused_even_when_another_weight_is_blank(small_villagers, make_wave):
    """One respondent carrying 75 % of the total weight is an error whatever the other rows
    hold: a blank weight elsewhere in the file (an error of its own) must not turn the total into
    nothing, so that the report names the blank cell but not the dominant weight, which would be
    left a mere "times the median weight" warning."""
    from analysis.ingest.validate import validate_wave

    v = small_villagers.copy()
    n = len(v)
    v["weight"] = "1"
    v.loc[0, "weight"] = ""
    v.loc[3, "weight"] = str(3 * (n - 2))                          # 75 % of the valid weights
    report, _ = validate_wave(make_wave(v))
    dominant = [e for e in report.errors if e.rule == "no dominant weight"]
    assert [(e.row, e.column) for e in dominant] == [(5, "weight")], report.errors
    assert "carries 75.0 % of the total weight" in dominant[0].message
