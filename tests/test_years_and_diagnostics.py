"""Years and diagnostics (errors of the 78th and 82nd passes): the official-statistics page and
the introduction's years, the comparison's order and its refusal of a wave without a year, a wave
without a year or after the official panel, the Brant test on a regressor in yuan, the diagnostics
table's RESET row, the headline's regions on few design df, and multiple imputation of a logit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def replica():  # type: ignore[no-untyped-def]
    """The embedded 2020 replica built into a study (a wave of 2020, with official statistics)."""
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


class _NoModels:
    """A model suite holding no model (the key findings then say nothing of determinants)."""

    def has(self, name: str) -> bool:
        return False


def _panel_years(official: pd.DataFrame) -> list[int]:
    return sorted({int(y) for y in official.index.get_level_values("year")})


# ---- the official-statistics page and the introduction ---------------------------------------------

def test_beta_convergence_on_the_provinces_page_runs_from_the_panel_s_first_year_to_its_last():
    """β-convergence of spending per head spans the whole panel: from its first year to its last,
    the slope of annualised log growth on the initial log level (recomputed here with numpy)."""
    from analysis.ingest.official import province_panel
    from analysis.report.pages import provinces

    official = province_panel()
    years = _panel_years(official)
    first, last = years[0], years[-1]
    o = provinces.stats(SimpleNamespace(official=official, year=2020))
    assert (o["real_first"], o["real_last"]) == (first, last)
    var = "fiscal_exp_per_capita_yuan"
    a = official.xs(first, level="year")[var]
    b = official.xs(last, level="year")[var]
    d = pd.DataFrame({"x": np.log(a), "g": (np.log(b) - np.log(a)) / (last - first)}).dropna()
    slope = np.polyfit(d["x"], d["g"], 1)[0]
    assert o["beta"] == pytest.approx(slope, rel=1e-9)
    T = last - first
    if -1 / T < slope < 0:
        assert o["beta_half_life"] == pytest.approx(np.log(2) / (-np.log(1 + slope * T) / T), rel=1e-9)


def test_the_introduction_says_spending_per_head_is_compared_from_the_panel_s_first_year_to_its_last(replica):
    """The key finding on public spending per head reads "from <first year> to <last year>" of the
    official panel, in that order."""
    from analysis.report.pages import intro, provinces

    years = _panel_years(replica.official)
    text = intro.key_findings(replica, _NoModels(), provinces.stats(replica))
    assert f"across provinces from {years[0]} to {years[-1]} (" in text
    assert f"from {years[-1]} to {years[0]}" not in text


def test_the_introduction_s_gdp_range_is_dated_by_the_year_matched_to_the_wave(replica):
    """The introduction's GDP-per-head range is that of the wave's own year (2020 for the 2020
    replica), and says so: not the panel's last year."""
    from analysis.report.pages import intro, provinces

    assert replica.year == 2020 and _panel_years(replica.official)[-1] != 2020        # the premise
    text = intro.key_findings(replica, _NoModels(), provinces.stats(replica))
    g = replica.official.xs(2020, level="year")["gdp_per_capita_yuan"].dropna()
    assert f"in 2020, GDP per head ranged from {g.min():,.0f} yuan" in text
    assert f"to {g.max():,.0f} yuan" in text


# ---- the comparison ---------------------------------------------------------------------------

def _lacking(wave_id: str, year: int):  # type: ignore[no-untyped-def]
    """A wave as the comparison's panel reads one: its id, year and villagers (without internet use)."""
    v = pd.DataFrame({"education": [9.0, 12.0], "hh_income": [3e4, 5e4]})
    return SimpleNamespace(wave=SimpleNamespace(id=wave_id), year=year, villagers=v)


def test_the_panel_note_names_the_items_waves_lack_in_year_order_whatever_order_they_are_given_in():
    """Two waves lacking an item, the 2024 one given first: the panel note names the 2020 wave
    first, then the 2024 one."""
    from analysis.report.pages import compare

    studies = [_lacking("late", 2024), _lacking("early", 2020)]
    want = ["early: internet_use", "late: internet_use"]
    assert compare.panel_lacks(studies) == want
    pm = compare.panel_models(studies)
    assert pm == {"lacks": want}
    assert compare.panel_note(pm["lacks"]).endswith(
        "as early: internet_use is missing; late: internet_use is missing.")


def test_a_wave_whose_panel_item_nobody_answered_lacks_it_as_one_without_the_column():
    """A column present but never answered (education blank in every row) gives the panel nothing to
    average: the wave is named as lacking it, not passed on to models that then find no province."""
    from analysis.report.pages import compare

    blank = _lacking("blank", 2022)
    blank.villagers = blank.villagers.assign(education=np.nan, internet_use=[0.0, 1.0])
    full = _lacking("full", 2020)
    full.villagers = full.villagers.assign(internet_use=[1.0, np.nan])     # one answer is enough
    assert compare.panel_lacks([blank, full]) == ["blank: education"]
    assert compare.panel_models([blank, full]) == {"lacks": ["blank: education"]}


def test_a_main_wave_without_a_survey_year_is_refused_for_a_comparison(make_wave, small_villagers):
    """Comparing a wave without a year (the one built) with a wave of 2020 is refused, naming it:
    the comparison orders its waves by year."""
    from analysis.ingest.wave import load_wave
    from analysis.report.build import check_compared_years

    a = load_wave(str(make_wave(small_villagers, name="a")))
    b = load_wave(str(make_wave(small_villagers, name="b", spec={"year": 2020})))
    assert a.spec.year is None and b.spec.year == 2020                          # the premise
    assert check_compared_years([a, b]) == ("compared waves need a survey year (year: in wave.yml); "
                                            "a has none")
    assert check_compared_years([b, a]) == ("compared waves need a survey year (year: in wave.yml); "
                                            "a has none")


# ---- a wave's year ------------------------------------------------------------------------------

def test_a_wave_without_a_year_is_of_an_unknown_year_in_the_headline(make_wave, small_villagers):
    """The headline numbers of a wave whose wave.yml gives no year say "unknown year", not the seed
    survey's year."""
    from analysis.estimation.study import build_study
    from analysis.report.pages.common import headline

    st = build_study(make_wave(small_villagers))
    assert st.year is None                                                      # the premise
    assert headline(st)["wave_year"] == "unknown year"


def test_a_wave_of_2025_is_accepted_and_matched_to_the_panel_s_last_year(make_wave, small_villagers):
    """A survey after the official panel (2025) is a valid wave; its official statistics are those
    of the nearest year, the panel's last."""
    from analysis.estimation.study import build_study
    from analysis.ingest.wave import load_wave
    from analysis.report.pages import provinces

    folder = make_wave(small_villagers, spec={"year": 2025})
    assert load_wave(str(folder)).spec.year == 2025
    st = build_study(folder)
    last = _panel_years(st.official)[-1]
    assert st.year == 2025 and last < 2025                                      # the premise
    assert provinces.year(st) == last
    assert provinces.stats(st)["real_year"] == last


# ---- the Brant test ---------------------------------------------------------------------------

def test_the_brant_test_is_defined_with_an_income_in_yuan_and_equals_the_one_in_ten_thousands():
    """A regressor on a large scale (income in yuan, ~1e5) leaves the Brant test defined on
    well-behaved data, and the same as with income in 10,000 yuan: a Wald test does not depend on
    a regressor's unit."""
    from analysis.estimation.ordinal import brant

    rng = np.random.default_rng(1)
    n = 600
    income = rng.lognormal(np.log(1e5), 0.5, n)
    x2 = rng.normal(size=n)
    latent = 0.8 * np.log(income / 1e5) + 0.5 * x2 + rng.logistic(size=n)
    y = np.digitize(latent, [-1, 0, 1])
    assert np.bincount(y).min() > 100                                          # the premise: no rare answer
    in_yuan = brant(y, np.column_stack([income, x2]), ["income", "x2"])
    in_10k = brant(y, np.column_stack([income / 1e4, x2]), ["income", "x2"])
    assert in_yuan["term"].tolist() == ["omnibus", "income", "x2"]
    np.testing.assert_allclose(in_yuan["chi2"], in_10k["chi2"], rtol=1e-6)
    assert in_yuan["df"].tolist() == [4, 2, 2]


# ---- the determinants page's diagnostics --------------------------------------------------------

def test_the_reset_row_of_the_diagnostics_table_shows_reset_s_own_p(replica):
    """The RESET row's p is the F test of the squared and cubed fitted values added to the weighted
    main model (recomputed here by weighted least squares and scipy's F distribution)."""
    from scipy import stats

    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import design_matrix
    from analysis.report.pages import determinants

    spec = replica.settings.models.get("wls_region")
    df = model_frame(replica, spec).data
    X, _ = design_matrix(df, list(spec.regressors), list(spec.fixed_effects))
    y = df[spec.outcome].to_numpy(float)
    sw = np.sqrt(df[spec.weights].to_numpy(float))

    def rss(M: np.ndarray) -> tuple[float, np.ndarray]:
        beta = np.linalg.lstsq(M * sw[:, None], y * sw, rcond=None)[0]
        return float((((y - M @ beta) * sw) ** 2).sum()), M @ beta

    rss0, fitted = rss(X)
    z = (fitted - fitted.mean()) / fitted.std()
    rss1, _ = rss(np.column_stack([X, z**2, z**3]))
    dof = len(y) - X.shape[1] - 2
    f = (rss0 - rss1) / 2 / (rss1 / dof)
    p = float(stats.f.sf(f, 2, dof))
    _, tests = determinants.diagnostics_tables(replica, {"wls_region": SimpleNamespace(term_labels={})})
    row = tests[tests["test"].str.startswith("RESET")].iloc[0]
    assert float(row["statistic"]) == pytest.approx(f, abs=0.006)
    assert p >= 0.1                                                # the premise: shown with two decimals
    assert float(row["p"]) == pytest.approx(p, abs=0.006)


# ---- the headline's regions -------------------------------------------------------------------

def test_regions_on_few_design_df_are_flagged_but_their_degrees_are_still_in_the_headline(tmp_path):
    """A region flagged for care (few design df) but not withheld keeps its degree in the headline
    and the regional sentence: the weighted mean of its respondents' overall scores."""
    from analysis.estimation.study import build_study
    from analysis.i18n import list_sep
    from analysis.report.pages.common import degree_table, headline, region_sentence
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "five", ["上海", "浙江", "江苏", "安徽", "西藏"]))
    t = degree_table(st, "region3").set_index("region3")
    assert t["flag"].astype(bool).all() and not t["suppressed"].astype(bool).any()      # the premise
    h = headline(st)
    score = pd.Series(st.index.scores["overall"].to_numpy(), index=st.villagers.index)
    w = st.villagers[st.wave.design_columns["weight"]].astype(float)
    ok = score.notna()
    for r in ("east", "central", "west"):
        rows = ok & (st.villagers["region3"] == r)
        want = float(np.average(score[rows], weights=w[rows]))
        assert h[f"degree_{r}"] == pytest.approx(want, rel=1e-9)
    parts = region_sentence(h).split(list_sep())
    assert len(parts) == 3
    for part, r in zip(parts, ("east", "central", "west")):
        assert part.endswith(f" {h[f'degree_{r}']:.2f}")


# ---- multiple imputation ----------------------------------------------------------------------

def test_multiple_imputation_refuses_a_logit_model(replica):
    """Multiple imputation is for linear models: a logit model is refused with a ModelSpecError
    naming its family, not fitted as a linear probability model."""
    from analysis.estimation.suite import ModelSpecError, multiple_imputation

    assert replica.settings.models.get("logit_online_registration").family == "logit"   # the premise
    with pytest.raises(ModelSpecError, match="for linear models; 'logit_online_registration' is logit"):
        multiple_imputation(replica, model="logit_online_registration", imputations=2, burn_in=1)
