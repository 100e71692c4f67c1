"""The model frame: which rows and columns a model is fitted on, why rows were left out, and the
messages of a model that cannot be built. Expected frames are computed by hand from the wave."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.frames import model_frame
from analysis.estimation.study import build_study
from analysis.estimation.suite import ModelSpecError
from analysis.i18n import say
from tests.conftest import shared


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


def stand_in(study, *, villagers=None, official=None, year="same", design=None):  # type: ignore[no-untyped-def]
    """What ``model_frame`` reads of a study, over the study's data with the changes given: another
    villager frame, official panel, survey year or design columns."""
    return SimpleNamespace(
        villagers=study.villagers if villagers is None else villagers, scores=study.scores,
        settings=study.settings, construction=study.construction, with_construction=study.with_construction,
        official=study.official if official is None else official,
        year=study.year if year == "same" else year,
        wave=SimpleNamespace(codebook=study.wave.codebook,
                             design_columns=study.wave.design_columns if design is None else design,
                             bootstrap_units=(study.wave.design_columns if design is None else design).get("psu")
                             or "resp_id"))


def by_hand(v: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The variables of the default linear models computed directly from the villager frame
    (data/models.yml: log income with nonpositive incomes left out, age in decades, female)."""
    inc = pd.to_numeric(v["hh_income"], errors="coerce")
    return pd.DataFrame({
        "overall": scores["overall"],
        "internet_use": pd.to_numeric(v["internet_use"], errors="coerce"),
        "education": v["education"], "log_income": np.log(inc.where(inc > 0)),
        "distance_km": v["distance_km"], "participation": v["participation"], "age10": v["age"] / 10,
        "female": (v["sex"] == 2).astype(float).where(v["sex"].notna()),
        "region3": v["region3"], "province": v["province"], "weight": v["weight"]})


def test_frame_is_the_complete_cases_of_the_models_columns(study):
    spec = study.settings.models.get("wls_region")
    f = model_frame(study, spec)
    cols = [spec.outcome, *spec.regressors, *spec.fixed_effects, spec.cluster, spec.weights]
    assert list(f.data.columns) == cols                       # nothing more: no index column, no design
    expected = by_hand(study.villagers, study.scores)[cols]
    keep = expected.notna().all(axis=1).to_numpy()
    np.testing.assert_array_equal(f.rows, np.flatnonzero(keep))
    assert f.dropped == int((~keep).sum()) > 0
    assert f.dropped_by == {c: int(n) for c, n in expected.isna().sum().items() if n}
    assert f.data.index.equals(pd.RangeIndex(int(keep.sum())))
    pd.testing.assert_frame_equal(f.data, expected[keep].reset_index(drop=True), check_dtype=False)
    assert f.notes == ()


def test_design_columns_are_added_only_when_asked(study):
    spec = study.settings.models.get("ologit_health")          # no weights, no cluster of its own
    own = [spec.outcome, *spec.regressors]
    assert list(model_frame(study, spec).data.columns) == own
    dc = study.wave.design_columns
    f = model_frame(study, spec, design_columns=True)
    assert list(f.data.columns) == own + [dc["strata"], dc["psu"], dc["weight"]]
    np.testing.assert_array_equal(f.data[dc["weight"]], study.villagers[dc["weight"]].to_numpy()[f.rows])


def test_rows_left_out_are_counted_by_variable_and_explained(study):
    v = study.villagers.copy()
    ok = np.flatnonzero(study.scores["overall"].notna().to_numpy())
    v.loc[v.index[ok[[0, 1, 2]]], "hh_income"] = [0.0, -5.0, 0.0]     # log undefined
    v.loc[v.index[ok[[2, 3]]], "education"] = np.nan                   # row 2 misses two variables
    v["internet_use"] = v["internet_use"].astype(object)
    v.loc[v.index[ok[4]], "internet_use"] = "n/a"                      # a text answer counts as missing
    spec = study.settings.models.get("wls_region")
    f = model_frame(stand_in(study, villagers=v), spec)
    base = model_frame(study, spec)
    assert f.dropped == base.dropped + 5
    assert f.dropped_by == {**base.dropped_by, "internet_use": 1, "education": 2, "log_income": 3}
    assert f.notes == ("log_income = log(hh_income): 3 rows with hh_income ≤ 0 left out (nonpositive: drop)",)
    assert f.notes[0].text("zh") == "log_income = log(hh_income)：hh_income ≤ 0 的 3 行未纳入（nonpositive: drop）"
    assert not set(ok[:5]) & set(f.rows)
    assert f.data["internet_use"].dtype == np.float64          # read as text, used as a number

    # every row with its missing answers, to impute, but the 3 whose log the transform leaves out
    # by design: an income of 0 or below is answered, not missing
    every = model_frame(stand_in(study, villagers=v), spec, complete=False)
    np.testing.assert_array_equal(every.rows, np.setdiff1d(np.arange(len(v)), ok[[0, 1, 2]]))
    assert every.dropped == 3 and every.dropped_by == f.dropped_by
    assert every.data["log_income"].isna().sum() == v["hh_income"].isna().sum() == 0
    assert every.data["education"].isna().sum() == v["education"].isna().sum() - 1     # row 2 is out


def test_scores_given_replace_the_studys_outcome(study):
    spec = study.settings.models.get("wls_region")
    half = study.scores.assign(overall=study.scores["overall"] / 2)
    f = model_frame(study, spec, scores=half)
    np.testing.assert_allclose(f.data["overall"], study.scores["overall"].to_numpy()[f.rows] / 2)


def test_columns_keep_the_waves_types_and_scores_align_by_respondent(study):
    spec = study.settings.models.get("wls_region")
    f = model_frame(study, spec)
    for c in [spec.outcome, *spec.regressors]:
        assert f.data[c].dtype == np.float64, c
    for c in (*spec.fixed_effects, spec.cluster, spec.weights):     # as read: text stays text, codes codes
        assert f.data[c].dtype == study.villagers[c].dtype, c
    # scores given in another row order are matched to respondents by the frame's index, not position
    shuffled = study.scores.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(model_frame(study, spec, scores=shuffled).data, f.data)
    f.data.loc[0, "overall"] = -1.0                                   # the frame is the model's own
    assert model_frame(study, spec).data.loc[0, "overall"] != -1.0


def test_province_covariates_are_the_official_statistics_of_the_nearest_year(study):
    base = study.settings.models.get("wls_region")
    spec = base.model_copy(update={"regressors": (*base.regressors, "urban_rate"), "cluster": None,
                                   "fixed_effects": ()})
    official = study.official.assign(urban_rate_pct=study.official["urban_rate_pct"] + 1.0)
    design = {**study.wave.design_columns, "strata": "region3"}        # the province named by no design column
    latest = max(study.official.index.get_level_values("year"))
    for year, shown, note, zh in [
            (2020, 2020, "province covariates are official statistics of 2020", "省级协变量为 2020 年的官方统计数据"),
            (latest + 7, latest, f"province covariates are official statistics of {latest} "
                                 f"(nearest year to the wave's {latest + 7})",
             f"省级协变量为 {latest} 年的官方统计数据（最接近本轮调查年份 {latest + 7} 的年份）"),
            (None, latest, f"province covariates are official statistics of {latest}",
             f"省级协变量为 {latest} 年的官方统计数据")]:
        f = model_frame(stand_in(study, official=official, year=year, design=design), spec)
        assert f.notes == (note,) and f.notes[0].text("zh") == zh and f.notes[0].text("en") == note
        panel = study.official.xs(shown, level="year")["urban_rate_pct"] + 1.0
        province = study.villagers["province"].to_numpy()[f.rows]
        np.testing.assert_allclose(f.data["urban_rate"], panel.loc[province].to_numpy())


def test_a_province_without_the_official_covariate_leaves_the_model_s_complete_cases(study):
    """The official table lacks one province's urbanization of 2020: its respondents leave the
    model's complete cases (no value is made up for them, not the national mean); the others keep
    their own province's value."""
    base = study.settings.models.get("wls_region")
    spec = base.model_copy(update={"regressors": (*base.regressors, "urban_rate"), "cluster": None,
                                   "fixed_effects": ()})
    gone = int(study.villagers["province"].iloc[0])
    official = study.official.copy()
    official.loc[(gone, 2020), "urban_rate_pct"] = np.nan
    full = model_frame(stand_in(study, year=2020), spec)
    f = model_frame(stand_in(study, official=official, year=2020), spec)
    province = study.villagers["province"].to_numpy()
    assert gone in set(province[full.rows]) and gone not in set(province[f.rows])
    assert set(full.rows) - set(f.rows) == set(full.rows[province[full.rows] == gone])
    np.testing.assert_allclose(f.data["urban_rate"], study.official.xs(2020, level="year")["urban_rate_pct"]
                               .loc[province[f.rows]].to_numpy())


@pytest.mark.parametrize("level", ["health", "means"])
def test_a_model_of_a_field_or_aspect_sub_index_takes_its_outcome_from_the_scores(study, level):
    """An outcome naming an index level (a field or an aspect) is the study's score of that level on
    the model's rows, not a variable the wave lacks (an unknown name is)."""
    assert level in study.scores and level not in study.villagers
    spec = study.settings.models.get("wls_region").model_copy(update={"outcome": level})
    f = model_frame(study, spec)
    assert len(f.rows) > 0.8 * len(study.villagers)
    np.testing.assert_allclose(f.data[level], study.scores[level].to_numpy()[f.rows])
    from analysis.estimation.frames import lacking

    assert lacking(study, spec) == []                    # so the suite fits it, not "the wave has no ..."
    assert lacking(study, spec.model_copy(update={"outcome": "shoe_size"})) == ["shoe_size"]


def test_a_model_that_cannot_be_framed_says_why(study):
    spec = study.settings.models.get("wls_region")
    aspects = ", ".join(study.wave.codebook.aspects)
    with pytest.raises(ModelSpecError) as e:
        model_frame(study, spec.model_copy(update={"outcome": "overall_without_luck"}))
    assert str(e.value) == (f"model 'wls_region': outcome 'overall_without_luck' names no aspect; "
                            f"aspects: {aspects}")
    with pytest.raises(ModelSpecError) as e:
        model_frame(study, spec.model_copy(update={"regressors": ("education", "shoe_size")}))
    assert str(e.value) == "model 'wls_region': unknown variables ['shoe_size']"
    assert say(e.value.reason, "zh") == "未知变量 ['shoe_size']" and e.value.model == "wls_region"
    covs = spec.model_copy(update={"regressors": ("education", "log_gdp_pc")})
    with pytest.raises(ModelSpecError) as e:
        model_frame(stand_in(study, official=pd.DataFrame()), covs)
    assert str(e.value) == "model 'wls_region': no official statistics for its province covariates"
    assert say(e.value.reason, "zh") == "没有可用于其省级协变量的官方统计数据"


def test_derived_variables_are_computed_once_per_wave_unless_they_read_a_score(study, monkeypatch):
    from analysis.estimation import frames
    from analysis.settings.schemas import Derived

    calls: list[str] = []
    real = frames.derive
    monkeypatch.setattr(frames, "derive", lambda v, name, d, notes: calls.append(name) or real(v, name, d, notes))
    monkeypatch.setattr(frames, "_DERIVED", frames.weakref.WeakKeyDictionary())
    # a wave of its own (three incomes ≤ 0: log income leaves them out, with a note)
    v = study.villagers.copy()
    v.loc[v.index[:3], "hh_income"] = 0.0
    study = dataclasses.replace(study, wave=dataclasses.replace(study.wave, data={**study.wave.data, "villagers": v}))
    spec = study.settings.models.get("wls_region")
    derived = [r for r in spec.regressors if r in study.settings.models.derived]
    first = model_frame(study, spec)
    again = model_frame(study.with_construction(study.construction.with_(exclude_aspects=("culture",))), spec)
    assert sorted(calls) == sorted(derived)                        # once, for both constructions
    pd.testing.assert_frame_equal(first.data[derived], again.data[derived])
    assert again.notes == first.notes and first.notes                # the log-income note kept
    # a variable reading an index score is computed on every frame
    ms = study.settings.models.model_copy(update={"derived": {
        **study.settings.models.derived, "half_score": Derived(label="half", expr="overall / 2")}})
    half = spec.model_copy(update={"regressors": (*spec.regressors, "half_score")})
    calls.clear()
    f = model_frame(study, half, ms)
    model_frame(study, half, ms)
    assert calls.count("half_score") == 2 and not set(calls) & set(derived)
    np.testing.assert_allclose(f.data["half_score"], f.data["overall"] / 2)


def test_a_models_file_redefining_a_derived_variable_gets_its_own_values_on_the_same_wave(study):
    """The values kept for a wave are those of a name and its definition: another models.yml
    whose age10 is age / 5 (a user's edit, or a second settings file in one session) gets its
    own values, and the first definition keeps its own."""
    from analysis.settings.schemas import Derived

    spec = study.settings.models.get("wls_region")
    assert "age10" in spec.regressors
    five = study.settings.models.model_copy(update={"derived": {
        **study.settings.models.derived, "age10": Derived(label="age (half-decades)", expr="age / 5")}})
    ten = model_frame(study, spec).data["age10"].to_numpy()
    half = model_frame(study, spec, five).data["age10"].to_numpy()
    np.testing.assert_allclose(half, 2 * ten)                  # the same rows: age / 5 is twice age / 10
    assert 1 < np.nanmedian(ten) < 10                           # decades of adults' ages
    np.testing.assert_allclose(model_frame(study, spec).data["age10"].to_numpy(), ten)


def test_a_derived_variable_reading_a_score_keeps_its_note_and_names_in_any_case_are_read(study):
    """A transform of an index score is computed on each frame (not cached) with its note; the
    names an expression reads may hold capitals."""
    from analysis.estimation import frames
    from analysis.settings.schemas import Derived

    assert frames._names(Derived(label="x", expr="Age10 * 2 + y_B - (Z)")) == ["Age10", "y_B", "Z"]
    assert frames._names(Derived(label="x", transform="log", of="hh_income")) == ["hh_income"]
    ms = study.settings.models.model_copy(update={"derived": {
        **study.settings.models.derived,
        "log_score": Derived(label="log score", transform="log", of="overall", nonpositive="drop")}})
    spec = study.settings.models.get("wls_region")
    spec = spec.model_copy(update={"regressors": (*spec.regressors, "log_score")})
    sc = study.scores.copy()
    sc.loc[sc.index[:2], "overall"] = 0.0
    f = model_frame(study, spec, ms, scores=sc)
    assert any(n.startswith("log_score = log(overall): 2 rows with overall ≤ 0 left out") for n in f.notes), f.notes
    assert f.dropped_by["log_score"] == 2 + int(sc["overall"].isna().sum())     # and the unscored


def test_scores_with_rows_of_no_respondent_add_no_row(study):
    """Scores given for more rows than the wave has (a frame of another wave's scores) are matched
    to the wave's respondents: the frame has no row the wave does not."""
    spec = study.settings.models.get("wls_region")
    extra = pd.concat([study.scores, study.scores.iloc[:3].set_axis([10**9, 10**9 + 1, 10**9 + 2])])
    f = model_frame(study, spec, scores=extra)
    pd.testing.assert_frame_equal(f.data, model_frame(study, spec).data)
    every = model_frame(study, spec, scores=extra, complete=False)         # incomplete rows kept
    assert len(every.data) == len(study.villagers)
    pd.testing.assert_frame_equal(every.data, model_frame(study, spec, complete=False).data)


def _root(a: np.ndarray) -> np.ndarray:
    """The array that owns the memory of a view."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def test_a_text_columns_missing_rows_are_found_once_per_wave_and_only_for_its_own_wave(study, monkeypatch):
    """The missing rows of a wave's text column (a fixed effect) are kept for the wave: every
    frame of that wave leaves them out, and another wave with other rows missing gets its own."""
    from analysis.estimation import frames

    monkeypatch.setattr(frames, "_MISSING", frames.weakref.WeakKeyDictionary())
    spec = study.settings.models.get("wls_region")

    def wave_missing(rows):  # type: ignore[no-untyped-def]
        v = study.villagers.copy()
        v.loc[v.index[rows], "region3"] = None
        return dataclasses.replace(study, wave=dataclasses.replace(study.wave, data={**study.wave.data, "villagers": v}))

    first, other = wave_missing([0, 1, 2]), wave_missing([5, 6])
    for st, gone in ((first, [0, 1, 2]), (first, [0, 1, 2]), (other, [5, 6])):
        f = model_frame(st, spec)
        assert f.dropped_by["region3"] == len(gone)
        assert not set(gone) & set(f.rows) and f.data["region3"].notna().all()
        assert f.data["region3"].dtype == study.villagers["region3"].dtype
        # the float columns are rows of one array of the frame's own (one copy of the kept rows)
        assert _root(f.data["overall"].to_numpy()) is _root(f.data["weight"].to_numpy())
        assert not np.shares_memory(f.data["weight"].to_numpy(), st.villagers["weight"].to_numpy())
    masks = frames._MISSING[first.wave]
    assert masks["region3"].sum() == 3 and not masks["region3"].flags.writeable
    assert frames._MISSING[other.wave]["region3"].sum() == 2


def test_a_derived_expression_keeps_missing_answers_missing_and_names_what_it_cannot_compute():
    """derive on an expression: a blank answer gives a missing value, not the expression's value
    on NaN (`sex == 2` on a blank sex is unknown, not male); an expression that cannot be evaluated
    or that is infinite somewhere stops with the variable, the expression, the row count and what
    to declare."""
    from analysis.estimation.frames import derive
    from analysis.settings.schemas import Derived

    v = pd.DataFrame({"sex": [1.0, 2.0, np.nan, 2.0], "age": [30.0, 40.0, 50.0, np.nan]})
    notes: list = []
    got = derive(v, "female", Derived(label="female", expr="sex == 2"), notes)
    np.testing.assert_array_equal(got.to_numpy(), [0.0, 1.0, np.nan, 1.0])
    assert got.dtype == np.float64 and notes == []
    both = derive(v, "x", Derived(label="x", expr="sex * age / 10"), notes)
    np.testing.assert_array_equal(both.to_numpy(), [3.0, 8.0, np.nan, np.nan])
    # one blank answer among those read is enough: `|` would give True on a blank sex and age 50
    either = derive(v, "w", Derived(label="w", expr="(sex == 2) | (age > 35)"), notes)
    np.testing.assert_array_equal(either.to_numpy(), [0.0, 1.0, np.nan, np.nan])
    cannot = r"^derived variable 'y' \('nosuch \+ 1'\) cannot be computed: "
    with pytest.raises(ModelSpecError, match=cannot) as e:
        derive(v, "y", Derived(label="y", expr="nosuch + 1"), notes)
    assert str(e.value).endswith("name 'nosuch' is not defined")             # the evaluation's own error
    assert say(e.value.reason, "zh") == "派生变量 'y'（'nosuch + 1'）无法计算：name 'nosuch' is not defined"
    with pytest.raises(ModelSpecError) as e:
        derive(v, "z", Derived(label="z", expr="1 / (sex - sex)"), notes)
    assert str(e.value).endswith("derived variable 'z' ('1 / (sex - sex)') is infinite in 3 rows; "
                                 "declare a transform with its handling of those values in data/models.yml"
                                 ), str(e.value)
    assert say(e.value.reason, "zh") == ("派生变量 'z'（'1 / (sex - sex)'）在 3 行中为无穷大；请在 data/models.yml "
                                         "中声明变换及其对这些值的处理方式") and e.value.model is None


def test_official_statistics_of_the_nearest_year_and_of_the_later_one_on_a_tie():
    """A wave of 2019 between statistics of 2018 and 2020 takes 2020 (the later of two equally
    near years); of 2017, 2018; a wave without a year, the latest; no statistics, no year."""
    from analysis.estimation.frames import covariate_year

    official = pd.DataFrame({"x": [1.0, 2.0, 3.0]},
                            index=pd.MultiIndex.from_tuples([(11, 2018), (11, 2020), (11, 2014)],
                                                            names=["province", "year"]))
    for year, want in [(2019, 2020), (2017, 2018), (2016, 2018), (2015, 2014), (2030, 2020), (None, 2020)]:
        assert covariate_year(SimpleNamespace(official=official, year=year)) == want, year
    assert covariate_year(SimpleNamespace(official=official.iloc[:0], year=2019)) is None


def test_official_statistics_of_the_nearest_year_that_publishes_the_province_covariates(study):
    """The panel's first year (2005) publishes no GDP per head: a wave of 2003 is matched to the
    nearest year in which every covariate is published (2006), whose covariates the multilevel
    model and the provinces page can use, not to a year whose GDP column is empty."""
    from analysis.estimation.frames import covariate_year
    from analysis.ingest.official import province_covariates
    from analysis.report.pages import provinces

    official = study.official
    gdp = official["gdp_per_capita_yuan"].notna().groupby(level="year").any()
    assert not gdp.loc[2005] and gdp.loc[2006]                              # the premise
    assert covariate_year(SimpleNamespace(official=official, year=2003)) == 2006
    assert covariate_year(SimpleNamespace(official=official, year=2005)) == 2006
    assert covariate_year(SimpleNamespace(official=official, year=2010)) == 2010
    assert province_covariates(2006, official).notna().all().all()
    st = SimpleNamespace(official=official, year=2003)                # what the page reads of a study
    assert provinces.year(st) == 2006 and provinces.stats(st)["real_year"] == 2006


def test_derived_transforms_follow_their_formula_and_domain():
    """log, log1p and asinh of an item, each against numpy on the values it is defined for:
    log drops (with a note counting them) or refuses the values ≤ 0 (values between 0 and 1
    included, as they should be); log1p does the same with the values ≤ −1; asinh takes every
    value; a text answer counts as missing."""
    from analysis.estimation.frames import derive
    from analysis.settings.schemas import Derived

    v = pd.DataFrame({"inc": pd.Series([0.5, 1.0, 2.0, 0.0, -1.0, np.nan, "n/a"], dtype=object)})
    notes: list = []
    got = derive(v, "log_inc", Derived(label="l", transform="log", of="inc", nonpositive="drop"), notes)
    np.testing.assert_allclose(got.to_numpy(), [np.log(0.5), 0.0, np.log(2.0), *[np.nan] * 4])
    assert notes == ["log_inc = log(inc): 2 rows with inc ≤ 0 left out (nonpositive: drop)"]
    with pytest.raises(ModelSpecError) as e:
        derive(v, "log_inc", Derived(label="l", transform="log", of="inc"), [])
    assert str(e.value) == ("derived variable 'log_inc' = log(inc): 2 rows have inc ≤ 0 (log undefined); set "
                            "nonpositive: drop, or use transform: log1p or asinh, in data/models.yml")
    assert say(e.value.reason, "zh") == ("派生变量 'log_inc' = log(inc)：2 行的 inc ≤ 0（对数无定义）；请在 "
                                         "data/models.yml 中设置 nonpositive: drop，或改用 transform: log1p 或 asinh")
    one = v.assign(inc=[0.5, 1.0, 2.0, 0.0, 4.0, np.nan, 8.0])           # a single value ≤ 0
    notes = []
    derive(one, "log_inc", Derived(label="l", transform="log", of="inc", nonpositive="drop"), notes)
    assert notes == ["log_inc = log(inc): 1 row with inc ≤ 0 left out (nonpositive: drop)"]
    with pytest.raises(ModelSpecError) as e:
        derive(one, "log_inc", Derived(label="l", transform="log", of="inc"), [])
    assert str(e.value) == ("derived variable 'log_inc' = log(inc): 1 row has inc ≤ 0 (log undefined); set "
                            "nonpositive: drop, or use transform: log1p or asinh, in data/models.yml")
    with pytest.raises(ModelSpecError) as e:
        derive(one, "z", Derived(label="z", expr="1 / (inc - 2.0)"), [])
    assert str(e.value) == ("derived variable 'z' ('1 / (inc - 2.0)') is infinite in 1 row; declare a "
                            "transform with its handling of those values in data/models.yml")
    x = pd.DataFrame({"inc": [-2.0, -1.0, -0.5, 0.0, 3.0]})
    notes = []
    got = derive(x, "a", Derived(label="a", transform="log1p", of="inc", nonpositive="drop"), notes)
    np.testing.assert_allclose(got.to_numpy(), [np.nan, np.nan, np.log1p(-0.5), 0.0, np.log1p(3.0)])
    assert notes == ["a = log1p(inc): 2 rows with inc ≤ −1 left out (nonpositive: drop)"]
    with pytest.raises(ModelSpecError) as e:              # as log: not dropped unless the settings say so
        derive(x, "a", Derived(label="a", transform="log1p", of="inc"), [])
    assert str(e.value) == ("derived variable 'a' = log1p(inc): 2 rows have inc ≤ −1 (log1p undefined); set "
                            "nonpositive: drop, or use transform: asinh, in data/models.yml")
    assert derive(x.iloc[2:], "a", Derived(label="a", transform="log1p", of="inc"), notes).notna().all()
    np.testing.assert_allclose(derive(x, "b", Derived(label="b", transform="asinh", of="inc"), []).to_numpy(),
                               np.arcsinh(x["inc"].to_numpy()))


def test_labels_name_sub_indices_apart_from_an_item_of_the_same_id(study, monkeypatch):
    """A field's sub-index is labelled "<field> (sub-index)"; where a field shares its id with an
    item (education: the field and the respondent's level) the sub-index is education_score and
    the item keeps its own label; in the Chinese edition, the field's Chinese name."""
    from analysis.estimation.frames import labels

    cb = study.wave.codebook
    lab = labels(study)
    assert lab["education_score"] == f"{cb.fields['education'][1]} (sub-index)"
    assert lab["health"] == f"{cb.fields['health'][1]} (sub-index)" and "health_score" not in lab
    assert lab["education"] == "education (level)"
    assert lab[f"{next(iter(cb.aspects))}"] == f"{next(iter(cb.aspects.values()))[1]} (sub-index)"
    # an aspect sharing its id with an item is renamed in the same way
    aspect, (aspect_zh, aspect_en) = next(iter(cb.aspects.items()))
    items = cb.items("villagers")
    clash = dataclasses.replace(cb, questionnaires={**cb.questionnaires, "villagers": (
        *items, dataclasses.replace(items[0], id=aspect, text_en="an item", text_zh="一个题目"))})
    other = labels(SimpleNamespace(wave=SimpleNamespace(codebook=clash), settings=study.settings))
    assert other[f"{aspect}_score"] == f"{aspect_en} (sub-index)" and other[aspect] == "an item"
    assert lab["overall"] == "overall score"
    assert lab[f"overall_without_{aspect}"] == f"overall score without the {aspect_en} items"
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    zh = labels(study)
    assert zh["education_score"].startswith(cb.fields["education"][0])
    assert zh["health"].startswith(cb.fields["health"][0]) and zh[aspect].startswith(aspect_zh)
    assert zh["overall"] == "总得分" and zh[f"overall_without_{aspect}"] == f"不含{aspect_zh}题目的总得分"


def test_a_label_made_in_either_edition_gives_its_form_in_both(study, monkeypatch):
    """Every label is the edition's own text, and knows its English and Chinese forms (a model's
    skipped reason names a variable in the language of the page that shows it, whichever edition
    fitted the models): an item's forms from the codebook, a field's and an aspect's sub-index, the
    score without an aspect, and the derived variables', the province covariates' and the short
    labels through the catalog; the derived variables of the models given, when given."""
    from analysis.estimation.frames import labels
    from analysis.settings.schemas import Derived

    cb = study.wave.codebook
    field_zh, field_en = cb.fields["health"]
    aspect, (aspect_zh, aspect_en) = next(iter(cb.aspects.items()))
    age, sat = cb.item("villagers", "age"), cb.item("villagers", "hlt_sat")
    want = {"health": (f"{field_en} (sub-index)", f"{field_zh}（分指数）"), "age": (age.text_en, age.text_zh),
            aspect: (f"{aspect_en} (sub-index)", f"{aspect_zh}（分指数）"),
            f"overall_without_{aspect}": (f"overall score without the {aspect_en} items",
                                          f"不含{aspect_zh}题目的总得分"),
            "hlt_sat": (sat.text_en, sat.text_zh), "internet_use": ("internet use", "使用互联网"),
            "female": ("female", "女性"), "overall": ("overall score", "总得分"),
            "urban_rate": ("urbanization rate (%)", "城镇化率（%）")}
    ms = study.settings.models
    other = ms.model_copy(update={"derived": {"female": Derived(label="overall score", expr="sex == 2")}})
    for language in ("en", "zh"):
        monkeypatch.setenv("RURALGOV_LANG", language)
        lab = labels(study)
        for k, (en, zh) in want.items():
            shown = en if language == "en" else zh
            assert (lab[k], lab[k].text("en"), lab[k].text("zh")) == (shown, en, zh), k
        given = labels(study, other)["female"]               # a label the catalog translates, given
        assert (given.text("en"), given.text("zh")) == ("overall score", "总得分")


def test_a_model_lacks_the_codebook_items_and_unknown_variables_the_wave_does_not_have(study):
    """lacking: the items a derived variable reads, the codebook items and the variables that are
    neither an item, a province covariate nor a score, when the wave has no column of them; a
    wave's own column, a score without some items and a province covariate are never lacking."""
    from analysis.estimation.frames import lacking

    base = study.settings.models.get("wls_region")
    v = study.villagers.drop(columns=["hh_income", "sex", "distance_km"]).assign(extra=1.0)
    st = stand_in(study, villagers=v)
    spec = base.model_copy(update={"regressors": ("log_income", "female", "distance_km", "mystery", "extra",
                                                  "urban_rate", "internet_use"),
                                   "outcome": "overall_without_organization"})
    assert lacking(st, spec) == ["distance_km", "hh_income", "mystery", "sex"]
    assert lacking(study, base) == []


def test_a_score_used_to_weight_or_group_leaves_out_its_own_missing_rows_on_every_frame(study):
    """A column neither the wave's own nor a regressor (an index score used as the weight) is
    tested for missing values on each frame: two frames whose scores are missing in other rows
    each leave out their own rows (a wave's own column is tested once per wave)."""
    spec = study.settings.models.get("wls_region").model_copy(update={"weights": "health"})
    for rows in (slice(0, 5), slice(5, 12)):
        sc = study.scores.copy()
        sc.iloc[rows, sc.columns.get_loc("health")] = np.nan
        f = model_frame(study, spec, scores=sc)
        expected = by_hand(study.villagers, sc).assign(health=sc["health"])
        cols = [spec.outcome, *spec.regressors, *spec.fixed_effects, spec.cluster, "health"]
        keep = expected[cols].notna().all(axis=1).to_numpy()
        np.testing.assert_array_equal(f.rows, np.flatnonzero(keep))
        assert f.dropped_by["health"] == int(sc["health"].isna().sum())
        np.testing.assert_array_equal(f.data["health"].to_numpy(float), sc["health"].to_numpy()[keep])


def test_a_derived_variable_may_be_a_fixed_effect_the_clusters_or_the_groups(study):
    """A variable of data/models.yml's derived block used as a model's fixed effect, clusters or
    groups is computed as a regressor would be: the fits equal those on the same column given by
    the wave (the clusters and groups a copy of the province code; the fixed effect "east" beside
    the same indicator written into the villager frame)."""
    from analysis.estimation.suite import fit_model
    from analysis.settings.schemas import Derived

    ms = study.settings.models
    prov = Derived(label="p", expr="province * 1")
    models = ms.model_copy(update={"derived": {**ms.derived, "prov": prov}})
    with_prov = dataclasses.replace(study, settings=dataclasses.replace(study.settings, models=models))
    base = ms.get("wls_region")
    hand = study.villagers.assign(east_hand=(study.villagers["region3"] == "east").astype(float))
    pairs = [(base.model_copy(update={"cluster": "prov"}), base, study),
             (base.model_copy(update={"fixed_effects": ("east",)}),
              base.model_copy(update={"fixed_effects": ("east_hand",)}),
              dataclasses.replace(study, wave=dataclasses.replace(
                  study.wave, data={**study.wave.data, "villagers": hand}))),
             (ms.get("multilevel").model_copy(update={"group": "prov"}), ms.get("multilevel"), study)]
    for derived, given, other in pairs:
        spec = derived.model_copy(update={"wild": None})
        got = fit_model(with_prov, spec)
        want = fit_model(other, given.model_copy(update={"wild": None}))
        regs = list(spec.regressors)
        np.testing.assert_allclose(got.params[regs], want.params[regs], rtol=1e-10)
        np.testing.assert_allclose(got.vcov.loc[regs, regs], want.vcov.loc[regs, regs], rtol=1e-8)
        assert got.nobs == want.nobs
        np.testing.assert_array_equal(np.asarray(got.df_inference, float),
                                      np.asarray(want.df_inference, float))
    f, g = model_frame(with_prov, base.model_copy(update={"cluster": "prov"})), model_frame(study, base)
    np.testing.assert_array_equal(f.data["prov"].to_numpy(float), g.data["province"].to_numpy(float))
    np.testing.assert_array_equal(f.rows, g.rows)
