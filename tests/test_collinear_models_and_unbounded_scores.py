"""Collinear regressors are refused as collinear by every family that fits them (a logit or an
ordered logit would otherwise drift along the collinear direction and blame one regressor for
separating the outcome); z-scores stay on the index's 0-100 scale; the degree of each level of
the index is that level's weighted mean; a design built from arrays refuses an fpc that a wave's
validation refuses (and takes a single value for every stratum); an ordered logit refuses a score
for its outcome; a model of a field's score named as a villager column is not taken as lacking."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.regression import RegressionError
from analysis.settings import ModelSpec

COLLINEAR = "the regressors are collinear (X'WX is singular)"


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    """300 people: female and male sum to 1 (collinear with the intercept or the cut points)."""
    rng = np.random.default_rng(5)
    n = 300
    female = rng.integers(0, 2, n).astype(float)
    edu = rng.normal(size=n)
    latent = 0.8 * edu - 0.5 * female + rng.logistic(size=n)
    return pd.DataFrame({"education": edu, "female": female, "male": 1 - female,
                         "b": (latent > 0).astype(float), "o": np.digitize(latent, [-1.0, 0.5, 1.5]) + 1,
                         "twice": 2 * edu, "w": rng.uniform(0.5, 2.0, n)})


@pytest.mark.parametrize("regs", [("education", "female", "male"), ("education", "twice")])
@pytest.mark.parametrize("weights", [None, "w"])
def test_a_logit_of_collinear_regressors_is_refused_as_collinear(people, regs, weights):
    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=regs, weights=weights, se="hc1")
    with pytest.raises(RegressionError, match=r"^the regressors are collinear \(X'WX is singular\)$"):
        fit_logit(people, spec, {})
    ok = fit_logit(people, spec.model_copy(update={"regressors": regs[:-1]}), {})
    assert np.isfinite(ok.params).all()                 # one regressor fewer: a fit


@pytest.mark.parametrize("regs", [("education", "female", "male"), ("education", "twice")])
def test_an_ordered_logit_of_regressors_collinear_with_its_cut_points_is_refused_as_collinear(people, regs):
    """female + male = 1 is collinear with the cut points, which stand for the intercept."""
    from analysis.estimation.ordinal import fit_ologit

    spec = ModelSpec(name="o", family="ologit", outcome="o", regressors=regs)
    with pytest.raises(RegressionError, match=r"^the regressors are collinear \(X'WX is singular\)$"):
        fit_ologit(people, spec, {})
    assert np.isfinite(fit_ologit(people, spec.model_copy(update={"regressors": regs[:-1]}), {}).params).all()


def test_a_collinear_logit_is_refused_in_the_words_of_least_squares(people):
    from analysis.estimation.binary import fit_logit
    from analysis.estimation.linear import fit_linear

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("education", "female", "male"),
                     se="hc1")
    with pytest.raises(RegressionError) as lin:
        fit_linear(people.assign(y=people["education"]), spec.model_copy(
            update={"family": "ols", "outcome": "y", "regressors": ("b", "female", "male")}), {})
    with pytest.raises(RegressionError) as logit:
        fit_logit(people, spec, {})
    assert str(logit.value) == str(lin.value) == COLLINEAR


# ---- z-scores stay on the index's 0–100 scale ------------------------------------------------

def _rare_answer_frame(n: int = 400, rare: int = 3) -> tuple[pd.DataFrame, list[str]]:
    """Every indicator answered 1..5 at random, but the first education item 5 for all except
    ``rare`` respondents who answer 1: 50 + 10 z is about −65 for them."""
    from analysis.ingest.codebook import load_codebook

    ids = [it.id for it in load_codebook().indicators()]
    rng = np.random.default_rng(8)
    codes = rng.integers(1, 6, (n, len(ids))).astype(float)
    codes[:, 0] = 5.0
    codes[:rare, 0] = 1.0
    return pd.DataFrame(codes, columns=ids), ids


def test_a_z_score_is_cut_at_0_and_100():
    from analysis.estimation.index import normalise
    from analysis.ingest.codebook import load_codebook

    frame, ids = _rare_answer_frame()
    items = list(load_codebook().indicators())
    raw = frame.to_numpy()
    z = normalise(raw, items, "zscore")
    col = raw[:, 0]
    mu, sd = col.mean(), col.std()
    assert 50 + 10 * (1 - mu) / sd < -50                           # the premise: far below the scale
    assert (z[:3, 0] == 0).all() and np.allclose(z[3:, 0], 50 + 10 * (5 - mu) / sd)   # by hand
    assert np.nanmin(z) >= 0 and np.nanmax(z) <= 100


@pytest.mark.parametrize("aggregation", ["geometric", "topsis", "arithmetic"])
def test_a_rare_answer_under_z_scores_leaves_its_respondents_scored(aggregation):
    """The three rare answers were NaN under the geometric mean of an unbounded z-score (log of a
    negative number): counted as unscored though they answered everything."""
    from analysis.estimation.index import IndexConfig, build_index

    frame, _ids = _rare_answer_frame()
    res = build_index(frame, IndexConfig().with_(normalisation="zscore", aggregation=aggregation))
    s = res.scores
    assert s.notna().all().all() and int(res.n_missing.sum()) == 0
    assert ((s >= 0) & (s <= 100)).all().all()


def test_the_degree_of_each_level_is_the_weighted_mean_of_that_level_s_scores():
    """``degree(level=...)`` (``ruralgov index --level``, the heat maps of fields and aspects):
    Σ w·score / Σ w over the respondents scored at that level, by hand; the levels differ."""
    from analysis.estimation.study import build_study

    st = build_study()
    w = st.design.weights
    seen = set()
    for level in st.index.scores.columns:
        s = st.index.scores[level].to_numpy()
        ok = np.isfinite(s)
        e = st.degree(level=level)
        assert e.estimate[0] == pytest.approx((w[ok] * s[ok]).sum() / w[ok].sum(), rel=1e-12), level
        assert int(e.n[0]) == int(ok.sum())
        seen.add(round(float(e.estimate[0]), 6))
    assert len(seen) == len(st.index.scores.columns)


# ---- a design built from arrays refuses the fpc a wave's validation refuses ----------------

@pytest.mark.parametrize("fpc, said", [
    ([2] * 6, "stratum '1' has 3 PSUs sampled but an fpc of 2: a population count cannot be smaller"),
    ([10, 10, 1000, 5, 5, 5], "the fpc takes 2 values in stratum '1';"),
    ([1000, 10, 10, 5, 5, 5], "the fpc takes 2 values in stratum '1';"),
    ([np.nan] * 6, "the fpc must be positive:"),
    ([0, 0, 0, 5, 5, 5], "the fpc must be positive:"),
    ([5] * 5, "the fpc has 5 values for 6 rows"),
])
def test_a_design_refuses_an_fpc_below_the_sample_varying_in_a_stratum_or_not_positive(fpc, said):
    """The SE was NaN (a count below the PSUs sampled) or followed the order of the rows (the last
    row's value of a stratum was used)."""
    from analysis.estimation.design import DesignError, SurveyDesign

    with pytest.raises(DesignError, match="^" + re.escape(said)):
        SurveyDesign.from_arrays(np.ones(6), strata=[1, 1, 1, 2, 2, 2], psu=[1, 2, 3, 4, 5, 6], fpc=fpc)


def test_a_design_takes_an_fpc_equal_to_the_sample_or_a_fraction():
    from analysis.estimation.design import SurveyDesign

    y = np.array([1, 2, 3, 4, 5, 7.0])

    def design(fpc):  # type: ignore[no-untyped-def]
        return SurveyDesign.from_arrays(np.ones(6), strata=[1, 1, 1, 2, 2, 2], psu=[1, 2, 3, 4, 5, 6],
                                        fpc=fpc)

    census, half, six = design([3] * 6), design([0.5] * 6), design([6] * 6)
    assert census.mean(y).se[0] == 0                     # every PSU of each stratum sampled
    assert half.mean(y).se[0] == pytest.approx(six.mean(y).se[0], rel=1e-12)   # 3 of 6 = a fraction of 1/2


@pytest.mark.parametrize("outcome", ["score", "half"])
def test_an_ordered_logit_of_a_score_rather_than_answer_codes_is_refused(people, outcome):
    """A 0-100 score (or codes with a half) was truncated into as many invented categories."""
    from analysis.estimation.ordinal import fit_ologit
    from analysis.estimation.results import ModelSpecError

    frame = people.assign(score=50 + 10 * people["education"],
                          half=people["o"] + 0.5 * (people["female"] > 0))
    spec = ModelSpec(name="o", family="ologit", outcome=outcome, regressors=("education",))
    said = rf"^model 'o': an ordered logit needs an outcome of integer answer codes; '{outcome}' takes other"
    with pytest.raises(ModelSpecError, match=said + r" values \(e\.g\. "):
        fit_ologit(frame, spec, {})
    whole = frame.assign(o=frame["o"].astype(float))                    # 1.0, 2.0, ...: codes as floats
    assert np.isfinite(fit_ologit(whole, spec.model_copy(update={"outcome": "o"}), {}).params).all()


def test_a_single_fpc_value_is_every_stratum_s():
    from analysis.estimation.design import SurveyDesign

    y = np.array([1, 2, 3, 4, 5, 7.0])
    one = SurveyDesign.from_arrays(np.ones(6), np.array([1, 1, 1, 2, 2, 2]), None, 0.5)
    each = SurveyDesign.from_arrays(np.ones(6), np.array([1, 1, 1, 2, 2, 2]), None, np.full(6, 0.5))
    assert one.mean(y).se[0] == each.mean(y).se[0] > 0


def test_a_model_of_a_field_score_named_as_a_villager_column_is_fitted_among_all_models():
    """The education field's score is ``education_score`` in a model's frame (the villagers have
    an item ``education``): fitting all the models fitted it when named, and skipped it as lacking
    ``education_score`` otherwise."""
    from analysis.estimation.frames import lacking
    from analysis.estimation.study import build_study

    st = build_study()
    assert "education" in st.scores and "education" in st.villagers        # the premise: a clash
    spec = st.settings.models.get("wls_region").model_copy(update={"name": "edu",
                                                                   "outcome": "education_score"})
    assert lacking(st, spec) == []
    assert lacking(st, spec.model_copy(update={"outcome": "nonsense_score"})) == ["nonsense_score"]


def test_a_lonely_psu_under_adjust_takes_its_stratum_s_fpc_as_r_does():
    """R's survey (tests/r/lonely_fpc.R, values typed from its output): without an fpc, with one
    (the lonely PSU's stratum of 2 PSUs, half sampled), and with an fpc of 1e9 for that stratum."""
    from analysis.estimation.design import SurveyDesign

    y = np.array([1, 2, 3, 4, 5, 7, 10, 12.0])
    s, p, w = [1, 1, 1, 1, 2, 2, 2, 3], [1, 1, 2, 2, 3, 4, 5, 6], np.array([2, 2, 2, 2, 3, 3, 3, 4.0])
    big = np.array([4, 4, 4, 4, 6, 6, 6, 1e9])
    got = [SurveyDesign.from_arrays(w, s, p, fpc=f).mean(y).se[0]
           for f in (None, np.array([4, 4, 4, 4, 6, 6, 6, 2.0]), big)]
    np.testing.assert_allclose(got, [1.295534926003, 0.916081531441, 1.188263789759], rtol=1e-11)


def test_the_fpc_refusals_say_the_rule_in_full_with_the_stratum_as_written():
    """The messages whole: text strata named as written, a design without PSUs counting its
    respondents (each its own PSU)."""
    from analysis.estimation.design import DesignError, SurveyDesign

    text = np.array(["a", "a", "a", "b", "b", "b"], dtype=object)
    with pytest.raises(DesignError) as e:
        SurveyDesign.from_arrays(np.ones(6), strata=text, fpc=[2] * 6)
    assert str(e.value) == ("stratum 'a' has 3 respondents sampled (each its own PSU) but an fpc of 2: a "
                            "population count cannot be smaller than the sample")
    with pytest.raises(DesignError) as e:
        SurveyDesign.from_arrays(np.ones(6), strata=text, psu=[1, 2, 3, 4, 5, 6], fpc=[9, 9, 8, 9, 9, 9])
    assert str(e.value) == ("the fpc takes 2 values in stratum 'a'; it is the stratum's population "
                            "size (or sampling fraction), one value per stratum")
    with pytest.raises(DesignError) as e:
        SurveyDesign.from_arrays(np.ones(6), strata=text, fpc=[-1] * 6)
    assert str(e.value) == ("the fpc must be positive: a stratum's population count of PSUs, or its "
                            "sampling fraction (at most 1)")
