"""Real province panel: data checks, disparities, convergence, panel regressions against R plm;
and the province × wave panel of survey waves."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import paths
from analysis.ingest.official import province_covariates, province_panel
from analysis.estimation.panel import (beta_convergence, coefficient_of_variation, panel_regressions,
                                       regional_means, sigma_convergence, spending_panel, survey_panel,
                                       survey_panel_models, theil)

P = province_panel()
from tests.conftest import rerun_r_reference, shared

REF = pd.read_csv(paths.ROOT / "tests/results/panel_reference.csv")


def test_panel_is_balanced_with_units_and_known_values():
    p = province_panel()
    assert len(p) == 31 * 20 and p.index.is_unique
    assert p.groupby(level="year").size().eq(31).all()
    assert "units" in p.attrs and "urban_rate_pct" in p.attrs["units"]
    assert p.loc[(310000, 2020), "urban_rate_pct"] == pytest.approx(89.30)
    assert p.loc[(540000, 2020), "urban_rate_pct"] == pytest.approx(35.73)
    assert p.loc[(110000, 2020), "exp_education_100m_yuan"] == pytest.approx(1138.29)
    cov = province_covariates(2020)
    assert len(cov) == 31 and cov.notna().all().all()


def test_province_covariates_are_the_panel_s_totals_per_head_in_the_units_they_name():
    """Spending per head in thousand yuan and log GDP per head, recomputed from the province's
    totals (100 million yuan) over its residents (10 thousand); NBS's per-head figures use the
    year's average population, so they agree to a fraction of a per cent."""
    p = province_panel().xs(2020, level="year")
    cov = province_covariates(2020)
    per_head = p["fiscal_exp_100m_yuan"] * 1e8 / (p["resident_pop_10k"] * 1e4)
    np.testing.assert_allclose(cov["fiscal_exp_pc_k"], per_head / 1000, rtol=2e-3)
    gdp_per_head = p["gdp_100m_yuan"] * 1e8 / (p["resident_pop_10k"] * 1e4)
    np.testing.assert_allclose(cov["log_gdp_pc"], np.log(gdp_per_head), atol=0.02)
    np.testing.assert_array_equal(cov["urban_rate"], p["urban_rate_pct"])


@pytest.mark.parametrize("series, numerator, denominator, scale", [
    ("edu_exp_share_pct", "exp_education_100m_yuan", "fiscal_exp_100m_yuan", 100),
    ("primary_student_teacher_ratio", "primary_enrolment_10k", "primary_fulltime_teachers_10k", 1),
    ("junior_sec_student_teacher_ratio", "junior_sec_enrolment_10k", "junior_sec_fulltime_teachers_10k", 1),
    ("fiscal_exp_per_capita_yuan", "fiscal_exp_100m_yuan", "resident_pop_10k", 1e4)])
def test_a_ratio_averaged_over_provinces_is_the_ratio_of_the_totals(series, numerator, denominator, scale):
    """A region's or the nation's mean of a ratio is weighted by the ratio's denominator
    (``weight_of``), so it is the ratio of the totals: all education spending over all public
    spending, all pupils over all teachers, all spending over all residents. Weighted by its
    numerator instead it is 1 to 11 % off."""
    from analysis.ingest.official import weight_of

    p = province_panel().xs(2020, level="year")
    got = np.average(p[series], weights=p[weight_of(series)])
    assert got == pytest.approx(scale * p[numerator].sum() / p[denominator].sum(), rel=5e-4)


def test_the_unemployment_break_is_the_year_the_registered_rate_jumps():
    """The registered urban unemployment series changes regime in 2020 (the provenance: Beijing
    1.3 % in 2019, 2.6 % in 2020): the year of the panel's largest median year-on-year change,
    where the figures cut their lines."""
    from analysis.ingest.official import BREAK_YEAR

    rate = province_panel()["urban_registered_unemployment_rate_pct"].unstack("adcode")
    assert rate.loc[2019:2020, 110000].tolist() == [1.3, 2.6]
    assert int(rate.diff().median(axis=1).idxmax()) == 2020 == BREAK_YEAR


def test_theil_between_and_within_add_up():
    t = theil(P, "fiscal_exp_per_capita_yuan", scheme="region4")
    np.testing.assert_allclose(t["between"] + t["within"], t["total"], rtol=1e-12)
    assert (t["total"] >= 0).all()


def test_regional_means_and_cv_are_consistent():
    m = regional_means(P, "urban_rate_pct")
    assert list(m.columns) == ["central", "east", "west"]
    assert (m.loc[2020, "east"] > m.loc[2020, "central"]) and (m.loc[2020, "east"] > m.loc[2020, "west"])
    cv = coefficient_of_variation(P, "urban_rate_pct", weighted=False)
    x = province_panel().xs(2020, level="year")["urban_rate_pct"]
    assert cv.loc[2020] == pytest.approx(x.std(ddof=0) / x.mean())


def test_beta_convergence_matches_a_direct_regression():
    p = province_panel()
    a, b = p.xs(2005, level="year")["fiscal_exp_per_capita_yuan"], p.xs(2024, level="year")["fiscal_exp_per_capita_yuan"]
    g = (np.log(b) - np.log(a)) / 19
    slope = np.polyfit(np.log(a), g, 1)[0]
    assert beta_convergence(P, "fiscal_exp_per_capita_yuan", 2005, 2024)["beta"] == pytest.approx(slope, rel=1e-10)
    assert sigma_convergence(P, "urban_rate_pct").index.min() == 2005


def test_stored_panel_is_current():
    stored = pd.read_csv(paths.ROOT / "tests/data/spending_panel.csv")
    now = spending_panel(P).reset_index()
    pd.testing.assert_frame_equal(now[stored.columns], stored, check_dtype=False)


@pytest.fixture(scope=shared)
def regs():
    return panel_regressions(spending_panel(P), wild_reps=299)


@pytest.mark.against_r
@pytest.mark.parametrize("term", ["log_gdp_pc", "urban_rate"])
def test_panelols_matches_plm_within_twoways_clustered(regs, term):
    c = regs["coefficients"].set_index(["model", "term"])
    r = REF[(REF.model == "within_twoways_cluster_sss") & (REF.term == term)].iloc[0]
    got = c.loc[("PanelOLS (province + year effects)", term)]
    for col in ("estimate", "se", "p", "ci_low", "ci_high"):        # t with G − 1 df (lmtest::coeftest)
        np.testing.assert_allclose(got[col], r[col], rtol=1e-6, err_msg=col)


@pytest.mark.against_r
@pytest.mark.parametrize("term", ["log_gdp_pc", "urban_rate"])
def test_random_effects_match_plm_swamy_arora(term):
    from linearmodels.panel import RandomEffects

    df = spending_panel(P)
    re = RandomEffects(df["log_edu_pc"], df[["log_gdp_pc", "urban_rate"]].assign(const=1.0)).fit()
    r = REF[(REF.model == "random_swar") & (REF.term == term)].iloc[0]
    np.testing.assert_allclose(re.params[term], r.estimate, rtol=1e-6)
    np.testing.assert_allclose(re.std_errors[term], r.se, rtol=1e-6)


@pytest.mark.against_r
@pytest.mark.parametrize("model,ref", [("RandomEffects", "random_swar_cluster_hc1"), ("BetweenOLS", "between_hc1")])
@pytest.mark.parametrize("term", ["log_gdp_pc", "urban_rate"])
def test_the_panel_models_the_page_reports_match_plm(regs, model, ref, term):
    """The random-effects and between rows of the provinces page's own table, with the standard
    errors, p-values and intervals it shows, against plm (RE clustered by province, t with G − 1
    df) and lm on the province means (HC1, G − K df)."""
    c = regs["coefficients"].set_index(["model", "term"])
    r = REF[(REF.model == ref) & (REF.term == term)].iloc[0]
    for col in ("estimate", "se", "p", "ci_low", "ci_high"):
        np.testing.assert_allclose(c.loc[(model, term), col], r[col], rtol=1e-6, err_msg=col)


@pytest.mark.against_r
@pytest.mark.parametrize("model,ref", [
    ("BetweenOLS", "between_hc1_unbalanced"),
    ("PanelOLS (province + year effects)", "within_twoways_cluster_sss_unbalanced")])
def test_an_unbalanced_panel_s_between_and_two_way_models_match_r(model, ref):
    """Five provinces without their years before 2015: the between estimator still weighs each
    province's mean once (lm on the province means, HC1), the two-way within model is plm's on
    the rows there are (tests/r/panel_reference.R)."""
    sp = spending_panel(P)
    codes = sorted(sp.index.get_level_values(0).unique())[:5]
    ent, yr = sp.index.get_level_values(0), sp.index.get_level_values(1)
    u = sp[~(ent.isin(codes) & (yr < 2015))]
    assert u.index.get_level_values(0).value_counts().nunique() > 1       # unbalanced
    c = panel_regressions(u, wild_reps=99)["coefficients"].set_index(["model", "term"])
    for term in ("log_gdp_pc", "urban_rate"):
        r = REF[(REF.model == ref) & (REF.term == term)].iloc[0]
        for col in ("estimate", "se", "p", "ci_low", "ci_high"):
            np.testing.assert_allclose(c.loc[(model, term), col], r[col], rtol=1e-6, err_msg=f"{term} {col}")


@pytest.mark.against_r
def test_hausman_matches_plm(regs):
    np.testing.assert_allclose(regs["hausman"]["statistic"],
                               REF[REF.model == "hausman"]["estimate"].iloc[0], rtol=1e-6)


def test_stored_references_are_what_r_computes(tmp_path):
    rerun_r_reference("tests/r/panel_reference.R", REF, tmp_path, rtol=1e-9)


def test_panel_regressions_default_to_999_webb_draws_with_the_project_seed():
    wild = panel_regressions(spending_panel(P))["wild"]
    assert wild.attrs == {"reps": 999, "weights": "webb", "seed": 20200601, "clusters": 31}
    assert list(wild.columns[:2]) == ["term", "estimate"]


def test_wild_bootstrap_beside_the_analytic_inference(regs):
    assert regs["wild"].attrs == {"reps": 299, "weights": "webb", "seed": 20200601, "clusters": 31}
    assert regs["hausman"]["df"] == 2 and regs["hausman"]["p"] == pytest.approx(
        stats.chi2.sf(regs["hausman"]["statistic"], 2))
    c = regs["coefficients"]
    assert (c["n"] == 31 * 14).sum() == 4 and (c.loc[c["model"] == "BetweenOLS", "n"] == 31).all()
    wild = regs["wild"].set_index("term")
    assert set(wild.index) == {"log_gdp_pc", "urban_rate"}
    assert (wild["wild_ci_low"] < wild["estimate"]).all() and (wild["estimate"] < wild["wild_ci_high"]).all()
    # the bootstrap tests the two-way FE model's own slopes (the dummy regression has an intercept
    # first): its estimates are that model's, term by term
    fe = c[c["model"] == "PanelOLS (province + year effects)"].set_index("term")
    for t in wild.index:
        assert wild.loc[t, "estimate"] == pytest.approx(fe.loc[t, "estimate"], rel=1e-8), t


def test_survey_panel_of_two_waves(tmp_path):
    """A second replica wave made only for tests: province × wave panel and panel models."""
    from analysis.replica import write_wave
    from analysis.estimation.study import build_study

    write_wave(tmp_path / "2022-test", seed=2022, wave_id="2022-test", calibrate=False)
    import yaml

    spec = yaml.safe_load((tmp_path / "2022-test" / "wave.yml").read_text(encoding="utf-8"))
    spec["year"] = 2022
    (tmp_path / "2022-test" / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    studies = [build_study("2020-replica"), build_study(tmp_path / "2022-test")]
    panel = survey_panel(studies)
    assert panel.index.get_level_values("wave").unique().tolist() == [2020, 2022]
    assert len(panel) == 44
    # each cell: the design-weighted mean of the answered rows of that province, log income over
    # positive incomes only, n all its respondents
    st = studies[1]
    v = st.villagers.assign(overall=st.scores["overall"])
    wt = st.wave.design_columns["weight"]
    for prov in ("Anhui", "Yunnan"):
        d = v[v["province_en"] == prov]
        cell = panel.loc[(prov, 2022)]
        assert cell["n"] == len(d)
        for c, x in (("overall", d["overall"]), ("education", d["education"]),
                     ("log_income", np.log(d["hh_income"].where(d["hh_income"] > 0)))):
            ok = x.notna() & np.isfinite(x)
            assert cell[c] == pytest.approx((x[ok] * d.loc[ok, wt]).sum() / d.loc[ok, wt].sum(), rel=1e-12)
    out = survey_panel_models(panel)
    assert set(out["coefficients"]["model"]) == {"PanelOLS (province + year effects)", "RandomEffects", "BetweenOLS"}
    assert np.isfinite(out["hausman"]["statistic"])
    assert out["hausman"]["df"] == 3 and out["wild"].attrs["reps"] == 199
    assert list(out["wild"].columns[:2]) == ["term", "estimate"]
    with pytest.raises(ValueError, match="^a survey panel needs two or more waves$"):
        survey_panel_models(panel.xs(2020, level="wave", drop_level=False))


@pytest.mark.parametrize("shared", [0, 4, 5])
def test_a_panel_of_waves_sharing_too_few_provinces_is_refused_by_name_not_by_linearmodels(shared):
    """The fixed-effects model learns only from provinces surveyed in two or more waves: with
    fewer than K + 2 = 5 of them (waves of other provinces) the models are refused with the count
    shared, instead of linearmodels' "all exog variables have been absorbed"; with 5 they are fitted."""
    from analysis.estimation.panel import PanelNotEstimable

    rng = np.random.default_rng(shared)
    first = [f"P{i}" for i in range(10)]
    second = first[:shared] + [f"Q{i}" for i in range(10 - shared)]
    rows = [{"province": p, "wave": w, "overall": rng.normal(50, 5), "internet_use": rng.uniform(),
             "education": rng.uniform(2, 4), "log_income": rng.normal(10, 1), "n": 30}
            for w, provs in ((2020, first), (2022, second)) for p in provs]
    panel = pd.DataFrame(rows).set_index(["province", "wave"]).sort_index()
    if shared < 5:
        with pytest.raises(PanelNotEstimable, match=f"these waves share {shared}$") as e:
            survey_panel_models(panel)
        assert (e.value.shared, e.value.need) == (shared, 5)
    else:
        out = survey_panel_models(panel)
        assert np.isfinite(out["coefficients"]["estimate"]).all()


def test_the_panel_carries_the_education_and_labour_series_with_their_caveats():
    """NBS education and urban-employment series joined on (adcode, year): the 2006 primary
    ratio left empty where the source column is permuted; the rural share agrees with an
    independent export (100 − urbanization); the student–teacher ratio equals enrolment over
    teachers where both are published."""
    import numpy as np

    from analysis.ingest.official import SERVICE_SERIES, province_panel

    p = province_panel()
    assert set(SERVICE_SERIES) <= set(p.columns) and len(p) == 31 * 20
    y06 = p.xs(2006, level="year")
    assert int(y06["primary_student_teacher_ratio"].isna().sum()) == 16
    both = p[["rural_pop_share_pct", "urban_rate_pct"]].dropna()
    assert np.abs(both["rural_pop_share_pct"] + both["urban_rate_pct"] - 100).max() < 0.2
    r = p[["junior_sec_student_teacher_ratio", "junior_sec_enrolment_10k", "junior_sec_fulltime_teachers_10k"]].dropna()
    ratio = r["junior_sec_enrolment_10k"] / r["junior_sec_fulltime_teachers_10k"]
    assert len(r) > 300 and np.abs(ratio - r["junior_sec_student_teacher_ratio"]).max() < 0.1
    assert p.xs(2023, level="year")["primary_student_teacher_ratio"].isna().all()      # the export ends in 2022


def test_the_page_s_maps_colour_each_province_by_the_series_their_titles_name(monkeypatch):
    """The urbanization map shows the urbanization rate, the spending map public budget spending
    per head in thousands of yuan, both of the wave's matched year."""
    from analysis.estimation.study import build_study
    from analysis.publishing import figures
    from analysis.report.pages import provinces

    st = build_study("2020-replica")
    drawn = []
    monkeypatch.setattr(figures, "china_map", lambda values, **kw: drawn.append((values, kw)) or kw["title"])
    provinces.maps(st)
    y = provinces.year(st)
    p = provinces.panel(st).xs(y, level="year")
    (urban, ku), (spend, ks) = drawn
    assert "Urbanization" in ku["title"] and "spending" in ks["title"] and str(y) in ks["title"]
    pd.testing.assert_series_equal(urban, p["urban_rate_pct"])
    pd.testing.assert_series_equal(spend, p["fiscal_exp_per_capita_yuan"] / 1000)


def test_the_schools_section_is_computed_from_the_panel(monkeypatch):
    from analysis.estimation.study import build_study
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import provinces

    st = build_study("2020-replica")
    s = provinces.services_stats(st)
    p = provinces.panel(st)
    last = p.xs(s["svc_last"], level="year")["primary_student_teacher_ratio"].dropna()
    assert s["str_top"] == last.max() and s["str_bottom"] == last.min()
    top, bottom = resolve(int(last.idxmax())), resolve(int(last.idxmin()))
    assert (s["str_top_name"], s["str_bottom_name"]) == (top.name_en, bottom.name_en)
    assert s["svc_last"] == 2022 and s["str_2006_missing"] == 16
    # unemployment's own last year with data, not the panel's (the series ends before it)
    u = p["urban_registered_unemployment_rate_pct"].dropna()
    last_u = int(u.index.get_level_values("year").max())
    assert s["unemp_last_year"] == last_u < int(p.index.get_level_values("year").max())
    cols = ["primary_student_teacher_ratio", "primary_enrolment_10k", "primary_fulltime_teachers_10k"]
    for year, key in ((s["svc_first"], "str_first"), (s["svc_last"], "str_last")):
        d = p.xs(year, level="year")[cols].dropna()
        # the nation's ratio: all its pupils over all its teachers (the provinces' ratios are
        # published to two decimals)
        assert s[key] == pytest.approx(d.iloc[:, 1].sum() / d.iloc[:, 2].sum(), rel=1e-3), key
    assert "rural broadband" in provinces.missing_series_markdown()
    monkeypatch.setenv("RURALGOV_LANG", "zh")                  # named as the edition names provinces
    zh = provinces.services_stats(st)
    assert (zh["str_top_name"], zh["str_bottom_name"]) == (top.name_zh_short, bottom.name_zh_short)


def test_the_page_s_richest_and_poorest_provinces_are_those_of_gdp_per_head_in_the_wave_s_year():
    """The provinces page names the highest and lowest GDP per head of the wave's year, recomputed
    here from the province's GDP over its residents (NBS's own per-head figure uses the year's
    average population; the ranking's ends are the same), and Shanghai over Tibet."""
    from analysis.estimation.study import build_study
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import provinces

    st = build_study("2020-replica")
    o = provinces.stats(st)
    d = provinces.panel(st).xs(o["real_year"], level="year")
    per_head = d["gdp_100m_yuan"] * 1e8 / (d["resident_pop_10k"] * 1e4)
    assert (o["gdppc_top_name"], o["gdppc_bottom_name"]) == (resolve(int(per_head.idxmax())).name_en,
                                                              resolve(int(per_head.idxmin())).name_en)
    assert o["gdppc_top"] == pytest.approx(per_head.max(), rel=0.02)
    assert o["gdppc_bottom"] == pytest.approx(per_head.min(), rel=0.02)
    assert o["gdppc_ratio"] == pytest.approx(per_head[310000] / per_head[540000], rel=0.02)
    # urbanization in percent, as the page prints it ("89.3 %"), Shanghai's and Tibet's of that year
    urban = d["urban_rate_pct"]
    assert (o["urban_sh"], o["urban_tb"]) == (urban[310000], urban[540000])
    assert 50 < o["urban_sh"] <= 100 and 10 < o["urban_tb"] < 50


def test_the_panel_wild_bootstrap_table_is_captioned_from_its_own_draws(monkeypatch):
    """The page's title and the reps that floor its p-values are the bootstrap's own (here 199
    draws on a changed run), not numbers typed into the page."""
    from analysis.estimation import panel as pn
    from analysis.estimation.study import build_study
    from analysis.report.pages import provinces

    real = pn.panel_regressions
    monkeypatch.setattr(pn, "panel_regressions", lambda *a, **k: real(*a, **{**k, "wild_reps": 199}))
    pr = provinces.regressions(build_study("2020-replica"))
    assert pr["wild_reps"] == pr["wild"].attrs["reps"] == 199
    n = pr["wild"].attrs["clusters"]
    assert pr["wild_title"] == f"Two-way FE: wild cluster bootstrap (Webb weights, 199 draws, {n} clusters)"
    assert "WCR" in pr["wild_note"] and "WCU" in pr["wild_note"]
    years = sorted(set(spending_panel(P).index.get_level_values("year")))
    assert pr["panel_sentence"] == f"31 provinces × {years[0]}–{years[-1]}"


def test_the_page_s_panel_table_counts_each_model_s_own_observations():
    """The fixed- and random-effects rows rest on the complete province-years, the between rows on
    one mean per province: the column says "observations", not "province-years" for all three."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import provinces

    st = build_study("2020-replica")
    c = provinces.regressions(st)["coefficients"]
    assert "observations" in c.columns and "province-years" not in c.columns
    complete = spending_panel(provinces.panel(st)).dropna()
    n = c.groupby("model")["observations"].agg(set)
    assert n["two-way fixed effects (province, year)"] == n["random effects"] == {len(complete)}
    assert n["between (province means)"] == {complete.index.get_level_values(0).nunique()}


@pytest.mark.against_r
def test_the_page_s_panel_rows_carry_each_regressor_s_own_plm_coefficient():
    """The provinces page labels its panel rows for a reader: the row it calls "log GDP per head"
    holds plm's coefficient of log GDP per head, the one it calls "urbanization rate (%)" that of
    urbanization, in each of the three models (tests/r/panel_reference.R)."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import provinces

    c = provinces.regressions(build_study("2020-replica"))["coefficients"].set_index(["model", "term"])
    for model, ref in (("two-way fixed effects (province, year)", "within_twoways_cluster_sss"),
                       ("random effects", "random_swar_cluster_hc1"),
                       ("between (province means)", "between_hc1")):
        for label, term in (("log GDP per head", "log_gdp_pc"), ("urbanization rate (%)", "urban_rate")):
            r = REF[(REF.model == ref) & (REF.term == term)].iloc[0]
            np.testing.assert_allclose(c.loc[(model, label), ["estimate", "se"]].to_numpy(float),
                                       [r.estimate, r.se], rtol=1e-6, err_msg=f"{model}: {label}")


def test_regional_means_with_complete_coverage_drop_years_with_a_missing_province():
    p = province_panel()
    full = regional_means(p, "primary_student_teacher_ratio", "region4", weight="primary_enrolment_10k")
    comp = regional_means(p, "primary_student_teacher_ratio", "region4", weight="primary_enrolment_10k", complete=True)
    assert full.loc[2006].notna().sum() > comp.loc[2006].notna().sum()        # 16 provinces empty in 2006
    pd.testing.assert_series_equal(full.loc[2010], comp.loc[2010])


def test_complete_regional_means_count_a_province_that_never_has_the_value():
    """Complete coverage means every province of the region: one that lacks the value in every
    year leaves its region without a complete mean in any year (the others keep theirs)."""
    p = _toy_panel()
    p.loc[p.index.get_level_values(0) == 1, "y"] = np.nan          # province 1 (east): never a value
    comp = regional_means(p, "y", "region3", complete=True)
    assert comp["east"].isna().all()
    assert comp["west"].isna().tolist() == [False, True, False]        # province 5 lacks 2001 alone


# ---- disparity and convergence measures on a small panel, by hand ---------------------------

def _toy_panel():
    """Six provinces in two regions over three years; one value missing, and a missing value in
    a column the measures do not read (it must not drop the row)."""
    rng = np.random.default_rng(9)
    rows = []
    for code, reg in zip(range(1, 7), ["east", "east", "east", "west", "west", "west"]):
        for year in (2000, 2001, 2002):
            rows.append({"province": code, "year": year, "region3": reg, "region4": reg,
                         "resident_pop_10k": rng.uniform(500, 9000),
                         "y": rng.uniform(1000, 9000) * (1.3 if reg == "east" else 1.0) * (1.05 ** (year - 2000)),
                         "unused": np.nan if code == 2 else 1.0})
    p = pd.DataFrame(rows).set_index(["province", "year"])
    p.loc[(5, 2001), "y"] = np.nan
    return p


def _theil_by_definition(pop, y):
    """T = (1/P) Σ p_i (y_i/μ) ln(y_i/μ), μ = Σ p y / P."""
    P = pop.sum()
    mu = (pop * y).sum() / P
    return float(((pop / P) * (y / mu) * np.log(y / mu)).sum())


def test_theil_total_between_and_within_by_definition():
    """Total: the definition with population shares; between: the Theil index of the region
    means with region populations; within: the regions' own indices weighted by their income
    shares; between_share = between / total. Region3 is the default scheme."""
    p = _toy_panel()
    t = theil(p, "y")
    flat = p.reset_index()
    for year, d in flat.dropna(subset=["y"]).groupby("year"):
        pop, y = d["resident_pop_10k"].to_numpy(), d["y"].to_numpy()
        total = _theil_by_definition(pop, y)
        g = d.groupby("region3")
        rp = g["resident_pop_10k"].sum().to_numpy()
        rm = (g.apply(lambda r: (r["resident_pop_10k"] * r["y"]).sum(), include_groups=False) / g["resident_pop_10k"].sum()).to_numpy()
        between = _theil_by_definition(rp, rm)
        within = sum((r["resident_pop_10k"] * r["y"]).sum() / (pop * y).sum()
                     * _theil_by_definition(r["resident_pop_10k"].to_numpy(), r["y"].to_numpy()) for _, r in g)
        assert t.loc[year, "total"] == pytest.approx(total, rel=1e-12)
        assert t.loc[year, "between"] == pytest.approx(between, rel=1e-10)
        assert t.loc[year, "within"] == pytest.approx(within, rel=1e-10)
        assert t.loc[year, "between_share"] == pytest.approx(between / total, rel=1e-10)
    assert list(t.index) == [2000, 2001, 2002]


def test_regional_means_and_cv_by_hand():
    """Population-weighted means by region (region3 by default); the coefficient of variation
    population-weighted by default, σ/μ with weights p (σ over the weights, not n − 1)."""
    p = _toy_panel()
    m = regional_means(p, "y")
    cv_w, cv_u = coefficient_of_variation(p, "y"), coefficient_of_variation(p, "y", weighted=False)
    assert cv_w.name == "cv"
    flat = p.reset_index().dropna(subset=["y"])
    for year, d in flat.groupby("year"):
        for reg, r in d.groupby("region3"):
            want = (r["resident_pop_10k"] * r["y"]).sum() / r["resident_pop_10k"].sum()
            assert m.loc[year, reg] == pytest.approx(want, rel=1e-12)
        w, y = d["resident_pop_10k"].to_numpy(), d["y"].to_numpy()
        mu = (w * y).sum() / w.sum()
        assert cv_w.loc[year] == pytest.approx(np.sqrt((w * (y - mu) ** 2).sum() / w.sum()) / mu, rel=1e-12)
        assert cv_u.loc[year] == pytest.approx(y.std(ddof=0) / y.mean(), rel=1e-12)


def test_sigma_convergence_is_the_sample_sd_of_logs():
    p = _toy_panel()
    s = sigma_convergence(p, "y")
    assert s.name == "sd_log"
    for year, d in p.reset_index().dropna(subset=["y"]).groupby("year"):
        x = np.log(d["y"].to_numpy())
        assert s.loc[year] == pytest.approx(np.sqrt(((x - x.mean()) ** 2).sum() / (len(x) - 1)), rel=1e-12)


@pytest.mark.parametrize("region_effects", [False, True])
def test_beta_convergence_by_least_squares_with_hc1(region_effects):
    """Growth = α + β log y_start (+ region dummies, first dropped): β by least squares, its HC1
    SE n/(n−k)·(X'X)⁻¹X'diag(e²)X(X'X)⁻¹, its p-value on t with n − k df, R², n, and the half-life
    ln 2 / λ with λ = −ln(1 + 19β)/19 over the 19 years when −1/19 < β < 0."""
    from scipy import stats

    p = province_panel()
    a = p.xs(2005, level="year")
    b = p.xs(2024, level="year")
    v = "fiscal_exp_per_capita_yuan"
    g = (np.log(b[v]) - np.log(a[v])) / 19
    X = np.column_stack([np.ones(len(a)), np.log(a[v])])
    if region_effects:
        regs = sorted(a["region3"].unique())
        X = np.column_stack([X] + [(a["region3"] == r).to_numpy(float) for r in regs[1:]])
    coef, *_ = np.linalg.lstsq(X, g.to_numpy(), rcond=None)
    e = g.to_numpy() - X @ coef
    n, k = X.shape
    ainv = np.linalg.inv(X.T @ X)
    V = n / (n - k) * ainv @ (X.T * e**2) @ X @ ainv
    se = np.sqrt(V[1, 1])
    r = beta_convergence(p, v, 2005, 2024, region_effects=region_effects)
    assert r["beta"] == pytest.approx(coef[1], rel=1e-10)
    assert r["se"] == pytest.approx(se, rel=1e-10)
    assert r["p"] == pytest.approx(2 * stats.t.sf(abs(coef[1] / se), n - k), rel=1e-8)
    assert r["n"] == n and r["r2"] == pytest.approx(1 - (e**2).sum() / ((g - g.mean()) ** 2).sum(), rel=1e-10)
    assert -1 < r["beta"] < 0
    assert r["half_life_years"] == pytest.approx(np.log(2) * 19 / -np.log(1 + 19 * coef[1]), rel=1e-10)


def test_beta_convergence_pairs_each_province_s_own_years_and_leaves_out_those_missing_one():
    """An unbalanced panel: one province has no end-year row, another no start-year value, a third
    no end-year value. Each growth is a province's end over its own start; the three are left out
    (the regression of the four complete provinces, by hand)."""
    start = {"A": 100.0, "B": 120.0, "C": np.nan, "D": 90.0, "E": 150.0, "F": 80.0, "G": 95.0}
    end = {"A": 180.0, "C": 200.0, "D": 170.0, "E": 210.0, "F": 160.0, "G": np.nan}
    rows = [(k, 2000, v) for k, v in start.items()] + [(k, 2010, v) for k, v in end.items()]
    p = pd.DataFrame(rows, columns=["adcode", "year", "y"]).set_index(["adcode", "year"])
    p["region3"] = "east"
    r = beta_convergence(p, "y", 2000, 2010)
    ok = ["A", "D", "E", "F"]
    x = np.log([start[k] for k in ok])
    g = (np.log([end[k] for k in ok]) - x) / 10
    slope = np.polyfit(x, g, 1)[0]
    assert r["n"] == 4 and r["beta"] == pytest.approx(slope, rel=1e-10)


@pytest.mark.parametrize(("beta", "years"), [(-0.25, 4), (0.0, 4), (0.1, 4), (-0.3, 4), (-1.0, 1)])
def test_convergence_speed_is_missing_at_and_beyond_the_ends_of_its_range(beta, years):
    """−1/T < β < 0 only: at β = −1/T (1 + βT = 0, exactly in binary) and at β = 0 there is no
    finite positive speed."""
    from analysis.estimation.panel import convergence_speed

    assert np.isnan(convergence_speed(beta, years))


def test_convergence_speed_inside_its_range():
    from analysis.estimation.panel import convergence_speed

    assert convergence_speed(-0.125, 4) == pytest.approx(np.log(2) / 4, rel=1e-15)      # 1 − 0.5 = e^(−4λ)
    assert convergence_speed(-1e-9, 4) == pytest.approx(1e-9, rel=1e-6)


@pytest.mark.parametrize(("speed", "years"), [(0.03, 19), (0.10, 5), (0.02, 1)])
def test_beta_convergence_recovers_the_speed_and_half_life_of_exact_convergence(speed, years):
    """Provinces on the textbook path log y_T = log y* + e^(−λT)(log y_0 − log y*) (Barro &
    Sala-i-Martin 1992), without noise: the slope is −(1 − e^(−λT))/T, the speed λ and the
    half-life ln 2/λ exactly, whatever the length T of the period."""
    rng = np.random.default_rng(4)
    y0 = np.exp(rng.uniform(7, 10, 30))
    star = np.exp(9.0)
    yT = star * (y0 / star) ** np.exp(-speed * years)
    idx = pd.MultiIndex.from_product([range(30), [2000, 2000 + years]], names=["province", "year"])
    p = pd.DataFrame({"y": np.column_stack([y0, yT]).ravel(), "region3": "east"}, index=idx)
    r = beta_convergence(p, "y", 2000, 2000 + years)
    assert r["beta"] == pytest.approx(-(1 - np.exp(-speed * years)) / years, rel=1e-9)
    assert r["speed"] == pytest.approx(speed, rel=1e-9)
    assert r["half_life_years"] == pytest.approx(np.log(2) / speed, rel=1e-9)


@pytest.mark.filterwarnings("error")
def test_beta_convergence_half_life_is_missing_without_convergence():
    p = _toy_panel().drop(index=5, level="province")
    p["y"] = p["y"] * np.where(p["region3"] == "east", 1.0, 0.5)       # poorer grow no faster
    p.loc[pd.IndexSlice[:, 2002], "y"] = (p.xs(2000, level="year")["y"] ** 1.5).to_numpy()
    r = beta_convergence(p, "y", 2000, 2002)
    assert r["beta"] > 0 and np.isnan(r["half_life_years"])
    over = _toy_panel().drop(index=5, level="province")        # growth overshoots: β < −1
    over.loc[pd.IndexSlice[:, 2002], "y"] = (1e9 / over.xs(2000, level="year")["y"] ** 1.5).to_numpy()
    r = beta_convergence(over, "y", 2000, 2002)
    assert r["beta"] < -1 and np.isnan(r["half_life_years"])


def test_spending_panel_keeps_the_years_asked_for_on_a_complete_panel():
    """On a panel with every value present, 2010–2023 by default (the real panel's missing years
    would hide a wrong default), logs of the per-head series."""
    rows = [{"province": c, "year": y, "edu_exp_per_capita_yuan": 100.0 + c + y, "gdp_per_capita_yuan": 9e3 + y,
             "urban_rate_pct": 50.0, "region3": "east"} for c in (1, 2) for y in range(2005, 2025)]
    p = pd.DataFrame(rows).set_index(["province", "year"])
    p["province"] = p.index.get_level_values(0)
    sp = spending_panel(p)
    assert sorted(set(sp.index.get_level_values("year"))) == list(range(2010, 2024))
    assert sp.loc[(1, 2012), "log_edu_pc"] == pytest.approx(np.log(100.0 + 1 + 2012))
    assert sorted(set(spending_panel(p, 2006, 2008).index.get_level_values("year"))) == [2006, 2007, 2008]


def test_spending_panel_covers_2010_to_2023_by_default():
    sp = spending_panel(province_panel())
    years = sp.index.get_level_values("year")
    assert years.min() == 2010 and years.max() == 2023
    assert list(sp.columns) == ["log_edu_pc", "log_gdp_pc", "urban_rate", "province", "region3"]


def test_survey_panel_cells_are_weighted_means_with_log_income_over_positive_incomes():
    """A stand-in study: each province's cell is the weight-weighted mean of its answered rows;
    log income leaves out zero incomes (log undefined) but keeps incomes between 0 and 1."""
    from types import SimpleNamespace

    v = pd.DataFrame({"province_en": ["A", "A", "A", "B", "B"], "w": [1.0, 2.0, 1.0, 1.0, 3.0],
                      "hh_income": [0.0, 0.5, 10.0, 100.0, np.nan], "internet_use": [1.0, 0.0, 1.0, 1.0, 0.0],
                      "education": [2.0, 3.0, np.nan, 1.0, 4.0]})
    st = SimpleNamespace(wave=SimpleNamespace(design_columns={"weight": "w"}, spec=SimpleNamespace(year=2021)),
                         villagers=v, scores=pd.DataFrame({"overall": [50.0, 60.0, 70.0, 40.0, 80.0]}))
    panel = survey_panel([st])
    a, b = panel.loc[("A", 2021)], panel.loc[("B", 2021)]
    assert a["n"] == 3 and b["n"] == 2
    assert a["log_income"] == pytest.approx((2 * np.log(0.5) + np.log(10.0)) / 3)
    assert b["log_income"] == pytest.approx(np.log(100.0))
    assert a["overall"] == pytest.approx((50 + 120 + 70) / 4) and b["overall"] == pytest.approx((40 + 240) / 4)
    assert a["education"] == pytest.approx((2 + 6) / 3) and b["internet_use"] == pytest.approx(1 / 4)


def test_a_province_where_nobody_answered_an_item_has_no_mean_and_leaves_the_panel_models():
    """A province whose respondents all left an item blank has no mean of it in that wave (not a
    crash: no weight to average over), and the panel models leave that province-wave out."""
    from types import SimpleNamespace

    v = pd.DataFrame({"province_en": ["A", "A", "B", "B"], "w": [1.0, 2.0, 1.0, 3.0],
                      "hh_income": [10.0, 20.0, 100.0, 50.0], "internet_use": [1.0, 0.0, np.nan, np.nan],
                      "education": [2.0, 3.0, 1.0, 4.0]})
    wave = SimpleNamespace(design_columns={"weight": "w"}, spec=SimpleNamespace(year=2021))
    st = SimpleNamespace(wave=wave, villagers=v, scores=pd.DataFrame({"overall": [50.0, 60.0, 40.0, 80.0]}))
    panel = survey_panel([st])
    assert np.isnan(panel.loc[("B", 2021), "internet_use"]) and panel.loc[("B", 2021), "education"] == 13 / 4
    assert panel.loc[("A", 2021), "internet_use"] == pytest.approx(1 / 3)
    rng = np.random.default_rng(3)
    idx = pd.MultiIndex.from_product([[f"P{i}" for i in range(12)], [2020, 2022]], names=["province", "wave"])
    p = pd.DataFrame({"n": 30, "internet_use": rng.uniform(0, 1, 24), "education": rng.uniform(1, 4, 24),
                      "log_income": rng.normal(10, 0.3, 24)}, index=idx)
    p["overall"] = 50 + 10 * p["internet_use"] + 2 * p["education"] + rng.normal(0, 1, 24)
    full = survey_panel_models(p.drop(index=("P3", 2022)))["coefficients"]
    p.loc[("P3", 2022), "education"] = np.nan
    out = survey_panel_models(p)["coefficients"]
    assert out.loc[out["model"].str.startswith("PanelOLS"), "n"].eq(23).all()
    pd.testing.assert_frame_equal(out, full)


@pytest.mark.parametrize("p, rejects", [(0.03, True), (0.049, True), (0.05, False), (0.07, False)])
def test_the_provinces_page_says_hausman_rejects_only_below_5_percent(regs, monkeypatch, p, rejects):
    """The page's sentence on the Hausman test follows its p-value at the 5 % level it names: a
    p of 0.07 does not reject."""
    import copy

    from analysis.estimation import panel as panel_module
    from analysis.report.pages import provinces

    fake = copy.deepcopy(dict(regs))
    fake["hausman"] = {**fake["hausman"], "p": p}
    monkeypatch.setattr(panel_module, "panel_regressions", lambda sp, **kw: copy.deepcopy(fake))
    monkeypatch.setattr(provinces, "panel", lambda study: P)
    text = provinces.regressions(None)["hausman_sentence"]
    assert text == ("rejects the random-effects assumption at the 5 % level" if rejects else
                    "does not reject the random-effects assumption at the 5 % level")


def test_province_covariates_are_taken_from_the_panel_given():
    """A study's own official panel (another edition of the statistics) is the one read, not the
    bundled one: a panel whose 2020 urban rates are halved gives halved covariates."""
    panel = province_panel()
    other = panel.copy()
    other["urban_rate_pct"] = other["urban_rate_pct"] / 2
    own, given = province_covariates(2020), province_covariates(2020, panel=other)
    np.testing.assert_allclose(given["urban_rate"], own["urban_rate"] / 2)
    np.testing.assert_allclose(given["log_gdp_pc"], own["log_gdp_pc"])


def test_a_caller_that_edits_the_official_panel_or_the_province_table_changes_nothing_for_the_next():
    """Both are read once and cached: each call hands out its own copy, so a page or a notebook
    that edits one in place (a value, the index, the units) leaves the next caller's intact."""
    from analysis.ingest import provinces

    first = province_panel()
    want = first.copy()
    first.iloc[0, 0] = None
    first.attrs["units"]["made up"] = "none"
    del first[first.columns[-1]]
    again = province_panel()
    pd.testing.assert_frame_equal(again, want)
    assert "made up" not in again.attrs["units"]
    t = provinces.table()
    names = t["name_en"].tolist()
    t.loc[0, "name_en"] = "Nowhere"
    del t["region3"]
    assert provinces.table()["name_en"].tolist() == names and "region3" in provinces.table()


def test_waves_whose_shared_provinces_do_not_change_give_a_note_not_a_traceback(tmp_path, monkeypatch):
    """A follow-up of seven provinces repeating the replica's answers: enough shared provinces,
    but no covariate changes within them, which the fixed effects absorb whole. The comparison
    page says so (both editions) instead of failing the build; the estimator names the cause."""
    from analysis import i18n
    from analysis.estimation.panel import PanelAbsorbed, survey_panel, survey_panel_models
    from analysis.estimation.study import build_study
    from analysis.report.pages import compare
    from tests import wavegen

    names = ["四川", "河南", "山东", "广东", "湖南", "江苏", "浙江"]
    studies = [build_study("2020-replica"), build_study(wavegen.provinces(tmp_path / "follow-up", names))]
    with pytest.raises(PanelAbsorbed, match=r"^the panel's covariates \(internet_use, education, "
                       r"log_income\) do not change within the provinces between the waves beyond the year "
                       r"effects: the fixed effects absorb them$") as e:
        survey_panel_models(survey_panel(studies))
    assert e.value.x == ("internet_use", "education", "log_income")
    # should linearmodels find absorbed what absorbed_covariates kept, the refusal names those kept
    from analysis.estimation import panel as panel_mod

    monkeypatch.setattr(panel_mod, "absorbed_covariates", lambda *a, **k: ())
    with pytest.raises(PanelAbsorbed) as e:
        survey_panel_models(survey_panel(studies))
    assert e.value.x == ("internet_use", "education", "log_income")
    monkeypatch.undo()
    out = compare.panel_models(studies)
    assert list(out) == ["note"] and "no covariate changes" in out["note"]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert "没有任何协变量发生变化" in compare.panel_models(studies)["note"]


def test_a_wave_lacks_a_panel_item_only_when_nobody_answered_it(tmp_path):
    """One blank income in a compared wave is a missing answer, not a missing item: the panel
    models are not refused for it; an income column nobody answered is named as lacking."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import compare
    from tests import wavegen

    def blank(rows):  # type: ignore[no-untyped-def]
        def edit(t):  # type: ignore[no-untyped-def]
            t.loc[rows, "hh_income"] = ""
            return t
        return edit

    one = build_study(wavegen.replica_copy(tmp_path / "one-blank", villagers=blank([0])))
    assert one.villagers["hh_income"].isna().sum() == 1
    base = build_study("2020-replica")
    assert compare.panel_lacks([base, one]) == []
    none = build_study(wavegen.replica_copy(tmp_path / "none", villagers=blank(slice(None))))
    assert compare.panel_lacks([base, none]) == ["none: hh_income"]


@pytest.mark.parametrize("p, said", [(0.0000004, "p < 0.001"), (0.0123, "p = 0.012"),
                                     (0.41, "p = 0.41")])
def test_the_hausman_note_writes_its_p_value_as_the_report_does(p, said):
    """Never "p = 0.000": below 0.001 the note says "< 0.001", as every p-value of the report."""
    from analysis.report.pages.compare import hausman_note

    note = hausman_note({"statistic": 47.86, "df": 3, "p": p})
    assert note == f"Hausman test, fixed vs random effects: statistic 47.86, 3 df, {said}."


def test_the_comparison_s_panel_table_names_models_variables_and_observations_for_readers(tmp_path,
                                                                                        monkeypatch):
    """As on the provinces page: the models by the names the report gives them, the variables by
    their labels (in the edition's language), and the count of province-waves as observations,
    not respondents."""
    from analysis import i18n
    from analysis.estimation.study import build_study
    from analysis.report.pages import compare
    from tests import wavegen

    studies = [build_study("2020-replica"), build_study(wavegen.write(tmp_path / "w24", "gbk"))]
    t = compare.panel_models(studies)["coefficients"]
    assert "observations" in t and "n" not in t
    assert list(dict.fromkeys(t["model"])) == ["two-way fixed effects (province, year)", "random effects",
                                               "between (province means)"]
    assert "internet_use" not in set(t["term"]) and "internet use" in " ".join(t["term"]).lower()
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = compare.panel_models(studies)["coefficients"]
    assert not any(re.search(r"[A-Za-z]{4,}", str(v)) for v in [*zh["model"], *zh["term"]]), zh
