"""The composite index: hand-checked values and properties (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.ingest.codebook import Item, load_codebook
from analysis.estimation.index import (AGGREGATIONS, NORMALISATIONS, WEIGHTINGS, IndexConfig, IndexConfigError,
                            aggregate, ahp_weights, build_index, normalise)

CB = load_codebook()
IDS = [it.id for it in CB.indicators()]


def frame(codes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(codes, float), columns=IDS)


codes_strategy = arrays(np.float64, st.tuples(st.integers(3, 25), st.just(len(IDS))),
                        elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, np.nan]))


def test_hand_computed_scores():
    c = np.full((3, len(IDS)), 3.0)
    c[0] = 5
    c[1] = 1
    c[2, :4] = [5, 5, 1, np.nan]          # education: (100 + 100 + 0) / 3 on three of four items
    s = build_index(frame(c), IndexConfig()).scores
    assert s.loc[0, "overall"] == 100 and s.loc[1, "overall"] == 0
    assert s.loc[2, "education"] == pytest.approx(200 / 3)
    assert s.loc[2, "overall"] == pytest.approx((200 / 3 + 4 * 50) / 5)


def test_coverage_rule():
    c = np.full((3, len(IDS)), 4.0)          # row 2 answers everything
    c[0, :2] = np.nan                       # education 2/4 = 50 % < 65 % → missing
    c[1, :1] = np.nan                       # 3/4 = 75 % → kept
    res = build_index(frame(c), IndexConfig())
    assert np.isnan(res.scores.loc[0, "education"]) and res.scores.loc[1, "education"] == 75
    assert res.n_missing["education"] == 1
    assert res.scores.loc[0, "overall"] == 75  # four of five fields = 80 % ≥ 65 %
    strict = build_index(frame(c), IndexConfig(coverage=0.9))
    assert np.isnan(strict.scores.loc[0, "overall"])
    # coverage 1 (every indicator answered) is a rule too: only the complete row keeps its scores
    every = build_index(frame(c), IndexConfig(coverage=1.0))
    assert every.scores["education"].isna().tolist() == [True, True, False]
    assert every.scores.loc[2, "overall"] == 75


def test_an_indicator_nobody_answered_is_left_out():
    c = np.full((3, len(IDS)), 4.0)
    c[:, 0] = np.nan                         # edu_org not asked in this wave
    res = build_index(frame(c), IndexConfig())
    assert "edu_org" not in res.indicators and res.scores["education"].notna().all()
    c[:, :4] = np.nan                        # the whole education block not asked
    res = build_index(frame(c), IndexConfig())
    assert "education" not in res.fields and res.scores["overall"].eq(75).all()


@settings(max_examples=40, deadline=None)
@given(codes_strategy, st.sampled_from(WEIGHTINGS))
def test_weights_sum_to_one_at_every_level(codes, weighting):
    codes[:, :] = np.where(np.isnan(codes), 3.0, codes)   # data-driven weights need variation
    codes[0] = 1.0
    codes[1] = 5.0
    res = build_index(frame(codes), IndexConfig.default().with_(weighting=weighting))
    sums = res.weights.groupby("level")["weight"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    assert (res.weights["weight"] >= 0).all()


@settings(max_examples=60, deadline=None)
@given(codes_strategy, st.integers(0, len(IDS) - 1), st.integers(0, 2))
def test_monotone_improvement_never_lowers_a_score(codes, j, i):
    i = i % len(codes)
    before = build_index(frame(codes), IndexConfig()).scores
    better = codes.copy()
    if np.isnan(better[i, j]) or better[i, j] == 5:
        return
    better[i, j] += 1
    after = build_index(frame(better), IndexConfig()).scores
    b, a = before.loc[i].to_numpy(), after.loc[i].to_numpy()
    ok = np.isfinite(b)
    assert np.all(a[ok] >= b[ok] - 1e-12)


@settings(max_examples=30, deadline=None)
@given(codes_strategy, st.sampled_from(NORMALISATIONS), st.sampled_from(AGGREGATIONS), st.randoms())
def test_permuting_respondents_changes_nothing(codes, norm, agg, rnd):
    cfg = IndexConfig(normalisation=norm, aggregation=agg)
    perm = list(range(len(codes)))
    rnd.shuffle(perm)
    a = build_index(frame(codes), cfg).scores
    b = build_index(frame(codes[perm]), cfg).scores
    pd.testing.assert_frame_equal(a.iloc[perm].reset_index(drop=True), b.reset_index(drop=True))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(1, 4)),
              elements=st.floats(0, 100, allow_nan=False)), st.sampled_from(["minmax", "rank", "zscore"]))
def test_normalisation_is_idempotent(x, how):
    if how == "zscore" and np.any(np.std(x, axis=0) < 1e-6):
        return
    if how == "zscore" and np.any(np.abs(x - x.mean(axis=0)) > 5 * np.std(x, axis=0)):
        return                                # a score cut at 0 or 100 is no longer a z-score
    items = [Item(id=f"x{k}", type="numeric", text_zh="", text_en="", questionnaire="t",
                  values={0: ("", ""), 100: ("", "")}) for k in range(x.shape[1])]
    once = normalise(x, items, how)
    twice = normalise(once, items, how)
    np.testing.assert_allclose(twice, once, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(2, 6)),
              elements=st.floats(0, 100, allow_nan=False)))
def test_geometric_never_exceeds_arithmetic(x):
    w = np.full(x.shape[1], 1 / x.shape[1])
    assert np.all(aggregate(x, w, "geometric", 0.65) <= aggregate(x, w, "arithmetic", 0.65) + 1e-9)
    top = aggregate(x, w, "topsis", 0.65)
    assert np.all((top >= 0) & (top <= 100))


def test_ahp_weights_and_consistency():
    w, cr = ahp_weights(np.array([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]))
    np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7])
    assert cr == pytest.approx(0, abs=1e-12)
    # a matrix typed as a user types it (1/3 as 0.333333, 1/6 as 0.166667) is reciprocal enough
    typed, _ = ahp_weights(np.array([[1, 3, 6], [0.333333, 1, 2], [0.166667, 0.5, 1]]))
    np.testing.assert_allclose(typed, [2 / 3, 2 / 9, 1 / 9], rtol=1e-5)
    # Saaty's textbook-style inconsistent matrix: A > B, B > C, but C > A
    bad = np.array([[1, 3, 1 / 5], [1 / 3, 1, 3], [5, 1 / 3, 1]], dtype=float)
    cfg = IndexConfig.default()
    with pytest.raises(IndexConfigError, match="consistency ratio"):
        build_index(frame(np.full((3, len(IDS)), 3.0)), cfg.with_(
            weighting="ahp", ahp_order=("education", "health", "social_security", "employment_training",
                                        "culture_sports"),
            ahp_matrix=tuple(tuple(r) for r in np.block([[bad, np.ones((3, 2))], [np.ones((2, 3)), np.ones((2, 2))]]))))


@pytest.mark.parametrize("c, refused", [(1.0, False), (1.5, True), (2.5, True)])
def test_ahp_comparisons_are_refused_from_a_consistency_ratio_of_0_10(c, refused):
    """Saaty's rule: a consistency ratio of 0.10 or more is refused, whatever its size (0.094
    accepted; 0.12 and 0.17 refused: a looser threshold of 0.2 would accept them)."""
    bad = np.array([[1, 3, 1 / c], [1 / 3, 1, 3], [c, 1 / 3, 1]], dtype=float)
    m = np.block([[bad, np.ones((3, 2))], [np.ones((2, 3)), np.ones((2, 2))]])
    cr = ahp_weights(m)[1]
    assert (cr >= 0.10) == refused and cr < 0.2
    cfg = IndexConfig.default().with_(weighting="ahp", ahp_order=("education", "health", "social_security",
                                                                  "employment_training", "culture_sports"),
                                      ahp_matrix=tuple(tuple(r) for r in m))
    if refused:
        with pytest.raises(IndexConfigError, match=f"consistency ratio {cr:.3f} ≥ 0.10"):
            build_index(frame(np.full((3, len(IDS)), 3.0)), cfg)
    else:
        build_index(frame(np.full((3, len(IDS)), 3.0)), cfg)


def test_default_config_ahp_matrix_is_consistent():
    w, cr = ahp_weights(np.array(IndexConfig.default().ahp_matrix))
    assert cr < 0.1 and w.sum() == pytest.approx(1)


def test_unknown_option_fails_with_the_allowed_list():
    with pytest.raises(IndexConfigError, match="allowed: equal, expert, entropy, pca, ahp"):
        IndexConfig(weighting="magic")


def test_result_is_immutable_and_shows_itself():
    res = build_index(frame(np.full((4, len(IDS)), 4.0)), IndexConfig())
    with pytest.raises(AttributeError):
        res.config = IndexConfig()  # type: ignore[misc]
    assert "IndexResult(4 respondents" in repr(res)
    assert set(res.to_frame().columns) == {"row", "level", "score"}
    assert list(res.summary().index)[0] == "overall"


def test_nobody_answered_anything_gives_missing_scores():
    res = build_index(frame(np.full((3, len(IDS)), np.nan)), IndexConfig())
    assert res.scores.isna().all().all() and res.n_missing["overall"] == 3


def test_entropy_weights_are_the_textbook_formula():
    """Entropy weights by hand: p_ij = x_ij / Σ_i x_ij, e_j = −Σ p ln p / ln n, w ∝ 1 − e_j."""
    from analysis.estimation.index import _entropy_weights

    x = np.array([[10.0, 50.0, 90.0], [20.0, 50.0, 10.0], [30.0, 60.0, 50.0], [40.0, 55.0, 70.0]])
    shifted = x - x.min(axis=0) + 1e-9                 # the method's shift to positive values
    p = shifted / shifted.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / np.log(len(x))
    np.testing.assert_allclose(_entropy_weights(x), (1 - e) / (1 - e).sum(), rtol=1e-12)


def test_pca_weights_follow_the_first_component():
    """Two correlated indicators and one independent: the first component loads on the pair only."""
    from analysis.estimation.index import _pca_weights

    rng = np.random.default_rng(3)
    z = rng.normal(size=(20_000, 2))
    a = z[:, 0]
    x = np.column_stack([a + 0.3 * rng.normal(size=20_000), a + 0.3 * rng.normal(size=20_000), z[:, 1]])
    np.testing.assert_allclose(_pca_weights(x), [0.5, 0.5, 0.0], atol=0.01)


# ---- weights and ranks against first principles (each test names the formula it writes out) ----

def _power_lambda(a: np.ndarray, iters: int = 500) -> tuple[float, np.ndarray]:
    """Principal eigenvalue and vector of a positive matrix by power iteration (not numpy's eig)."""
    v = np.ones(len(a)) / len(a)
    for _ in range(iters):
        u = a @ v
        v = u / u.sum()
    return float((a @ v).sum() / v.sum()), v


@pytest.mark.parametrize("a", [
    [[1, 3, 1 / 5], [1 / 3, 1, 3], [5, 1 / 3, 1]],
    [[1, 2, 5, 1 / 3], [1 / 2, 1, 3, 1 / 4], [1 / 5, 1 / 3, 1, 1 / 7], [3, 4, 7, 1]],
    [[1, 2, 3, 5, 7], [1 / 2, 1, 2, 4, 4], [1 / 3, 1 / 2, 1, 2, 5], [1 / 5, 1 / 4, 1 / 2, 1, 2],
     [1 / 7, 1 / 4, 1 / 5, 1 / 2, 1]],
], ids=["3 inconsistent", "4", "5"])
def test_ahp_weights_and_consistency_ratio_equal_saatys_formula(a):
    """w: the principal eigenvector (power iteration); CR = ((λ_max − n)/(n − 1)) / RI_n with
    Saaty's random indices RI_3..5 = 0.58, 0.90, 1.12."""
    a = np.array(a, dtype=float)
    lam, v = _power_lambda(a)
    n = len(a)
    ri = {3: 0.58, 4: 0.90, 5: 1.12}[n]
    w, cr = ahp_weights(a)
    np.testing.assert_allclose(w, v, rtol=1e-9)
    assert cr == pytest.approx((lam - n) / (n - 1) / ri, rel=1e-9)
    assert cr > 0.001


def _random_reciprocal(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            a[i, j] = rng.choice([1 / 9, 1 / 5, 1 / 3, 3, 5, 9])
            a[j, i] = 1 / a[i, j]
    return a


@pytest.mark.parametrize("n, ri", [(11, 1.51), (12, 1.48), (15, 1.59)])
def test_an_ahp_matrix_of_more_than_ten_items_is_checked_on_saaty_s_extended_random_index(n, ri):
    """Saaty's random index goes on past 10 items (RI_11 = 1.51, RI_12 = 1.48, RI_15 = 1.59): a
    random, inconsistent matrix of 11 items or more gets its consistency ratio, not 0."""
    a = _random_reciprocal(n, n)
    lam, _ = _power_lambda(a)
    cr = ahp_weights(a)[1]
    assert cr == pytest.approx((lam - n) / (n - 1) / ri, rel=1e-6)
    assert cr > 0.1


def test_an_ahp_matrix_past_saaty_s_table_is_refused_not_taken_as_consistent():
    """Sixteen items: no random index to divide by, so the matrix cannot be checked and is refused."""
    with pytest.raises(IndexConfigError, match=r"AHP matrix of 16 items cannot be checked .* up to 15"):
        ahp_weights(_random_reciprocal(16, 0))


@pytest.mark.parametrize("m", [np.ones((2, 3)), [[1, 2], [2, 1]]], ids=["not square", "not reciprocal"])
def test_ahp_matrix_must_be_square_and_reciprocal(m):
    with pytest.raises(IndexConfigError, match=r"^the AHP matrix must be square and reciprocal \(a_ji = 1 / a_ij\)$"):
        ahp_weights(np.array(m, dtype=float))


def test_ahp_two_by_two_is_always_consistent():
    w, cr = ahp_weights(np.array([[1, 4], [1 / 4, 1]]))
    np.testing.assert_allclose(w, [0.8, 0.2])
    assert cr == 0.0


def test_entropy_weights_textbook_formula_on_a_larger_sample():
    """The same formula where Σ(1 − e_j) < 1 (many respondents), with a row of missing values
    left out."""
    from analysis.estimation.index import _entropy_weights

    rng = np.random.default_rng(5)
    x = rng.uniform(20, 100, size=(200, 4)) * [1.0, 0.5, 2.0, 1.0]
    x[7, 2] = np.nan
    ok = np.delete(x, 7, axis=0)
    shifted = ok - ok.min(axis=0) + 1e-9
    p = shifted / shifted.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / np.log(len(ok))
    assert (1 - e).sum() < 1
    np.testing.assert_allclose(_entropy_weights(x), (1 - e) / (1 - e).sum(), rtol=1e-12)


def test_entropy_weights_of_two_complete_rows_follow_the_formula():
    from analysis.estimation.index import _entropy_weights

    x = np.array([[10.0, 50.0, 90.0], [30.0, 55.0, 10.0], [np.nan, 1.0, 1.0]])
    ok = x[:2]
    shifted = ok - ok.min(axis=0) + 1e-9
    p = shifted / shifted.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / np.log(2)
    np.testing.assert_allclose(_entropy_weights(x), (1 - e) / (1 - e).sum(), rtol=1e-9)


@pytest.mark.parametrize("x", [np.full((5, 3), 40.0), np.array([[1.0, 2.0, 3.0], [np.nan, 1.0, 1.0]]),
                               np.array([[np.nan, 2.0, 3.0], [4.0, np.nan, 1.0]])],
                         ids=["every indicator constant", "one complete row", "no complete row"])
def test_entropy_weights_without_information_are_equal(x):
    from analysis.estimation.index import _entropy_weights

    np.testing.assert_allclose(_entropy_weights(x), [1 / 3] * 3, rtol=1e-12)


def test_pca_weights_are_the_squared_loadings_of_the_first_component():
    """Unequal loadings: w_j ∝ (first eigenvector of the correlation matrix)_j², computed here by
    power iteration on the correlation matrix written out."""
    from analysis.estimation.index import _pca_weights

    rng = np.random.default_rng(8)
    f = rng.normal(size=5000)
    x = np.column_stack([f + 0.2 * rng.normal(size=5000), f + 0.8 * rng.normal(size=5000),
                         0.5 * f + rng.normal(size=5000), rng.normal(size=5000)])
    z = (x - x.mean(0)) / x.std(0)
    r = z.T @ z / len(z)
    v = np.ones(4)
    for _ in range(2000):
        v = r @ v
        v /= np.linalg.norm(v)
    np.testing.assert_allclose(_pca_weights(x), v**2 / (v**2).sum(), rtol=1e-8)


@pytest.mark.parametrize("x", [np.array([[1.0, 5.0, 2.0], [2.0, 3.0, 9.0], [4.0, 4.0, 1.0]]), np.ones((10, 1))],
                         ids=["no more rows than indicators", "one indicator"])
def test_pca_weights_without_a_component_are_equal(x):
    from analysis.estimation.index import _pca_weights

    np.testing.assert_allclose(_pca_weights(x), np.full(x.shape[1], 1 / x.shape[1]))


@pytest.mark.filterwarnings("error")
def test_pca_weights_give_a_constant_indicator_no_weight():
    """A constant indicator has no correlation (NaN, taken as 0): the component is the others'."""
    from analysis.estimation.index import _pca_weights

    rng = np.random.default_rng(2)
    a = rng.normal(size=400)
    x = np.column_stack([a, a + 0.1 * rng.normal(size=400), np.full(400, 3.0)])
    w = _pca_weights(x)
    assert w[2] == 0.0
    np.testing.assert_allclose(w[:2], [0.5, 0.5], atol=1e-3)


def test_weighted_rank_is_the_weighted_mid_rank_percentile():
    """100 · (Σ w over smaller values + ½ Σ w over equal values) / Σ w, column by column, written
    as a double loop; an all-missing column stays missing and does not stop the next ones."""
    from analysis.estimation.index import _wquantile_rank

    rng = np.random.default_rng(4)
    x = rng.integers(1, 6, size=(40, 3)).astype(float)
    x[:, 0] = np.nan
    x[[3, 9], 2] = np.nan
    w = rng.uniform(0.2, 3.0, 40)
    got = _wquantile_rank(x, w)
    assert np.isnan(got[:, 0]).all()
    for j in (1, 2):
        ok = ~np.isnan(x[:, j])
        tot = w[ok].sum()
        for i in np.flatnonzero(ok):
            below = w[ok & (x[:, j] < x[i, j])].sum()
            tie = w[ok & (x[:, j] == x[i, j])].sum()
            assert got[i, j] == pytest.approx(100 * (below + tie / 2) / tot, rel=1e-12)
    assert np.isnan(got[[3, 9], 2]).all()


def test_summary_describes_each_level_and_the_repr_shows_it_to_two_decimals():
    """Over the scored respondents of each level (five who answered nothing are missing, not 0)."""
    rng = np.random.default_rng(1)
    c = rng.integers(1, 6, size=(30, len(IDS))).astype(float)
    c[:5] = np.nan
    res = build_index(frame(c), IndexConfig())
    got = res.summary()
    for level, col in res.scores.items():
        x = col.to_numpy(float)
        ok = ~np.isnan(x)
        assert ok.sum() == 25 and got.loc[level, "n"] == 25 and got.loc[level, "missing"] == 5
        assert got.loc[level, ["mean", "sd", "min", "max"]].tolist() == pytest.approx(
            [x[ok].mean(), x[ok].std(ddof=1), x[ok].min(), x[ok].max()], rel=1e-12)
    assert got.round(2).to_string() in repr(res)


def test_degree_defaults_to_the_overall_score_and_names_the_levels_it_knows():
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.index import degree

    rng = np.random.default_rng(6)
    d = frame(rng.integers(1, 6, size=(40, len(IDS)))).assign(
        w=1.0, s=np.repeat([0, 1], 20), p=np.arange(40) // 4, g=np.tile(["a", "b"], 20))
    res = build_index(d[IDS], IndexConfig())
    des = SurveyDesign.from_frame(d, weight="w", strata="s", psu="p")
    assert degree(d, res, des).estimate[0] == pytest.approx(res.scores["overall"].mean())
    with pytest.raises(KeyError, match="unknown level 'nope'; levels: overall, "):
        degree(d, res, des, level="nope")


def test_a_degree_s_interval_is_cut_at_the_ends_of_the_scale_and_only_there():
    """Domain "a": two PSUs in one stratum (1 design df, t = 12.7), one answering all 5s and one
    all 1s: its Wald limits run far beyond 0 and 100. Domain "b", many PSUs: limits inside."""
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.index import degree

    rng = np.random.default_rng(3)
    codes = np.vstack([np.full((4, len(IDS)), 5), np.full((4, len(IDS)), 1),
                       rng.integers(2, 5, size=(40, len(IDS)))])
    d = frame(codes).assign(w=1.0, s=np.r_[np.zeros(8, int), np.repeat([1, 2], 20)],
                            p=np.r_[[0] * 4 + [1] * 4, 2 + np.arange(40) // 2],
                            g=np.r_[["a"] * 8, ["b"] * 40])
    res = build_index(d[IDS], IndexConfig())
    des = SurveyDesign.from_frame(d, weight="w", strata="s", psu="p")
    plain, cut = des.mean(res.scores["overall"].to_numpy(), by=d["g"]), degree(d, res, des, by="g")
    lo, hi = plain.ci
    assert cut.df[0] == 1 and lo[0] < 0 and hi[0] > 100                 # the uncut Wald interval
    np.testing.assert_array_equal(cut.estimate, plain.estimate)
    np.testing.assert_array_equal(cut.se, plain.se)
    clo, chi = cut.ci
    assert (clo[0], chi[0]) == (0.0, 100.0)
    assert 0 < lo[1] < hi[1] < 100 and (clo[1], chi[1]) == (lo[1], hi[1])
    t = cut.to_frame()
    assert t["ci_low"].tolist() == [0.0, lo[1]] and t["ci_high"].tolist() == [100.0, hi[1]]


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 30), st.just(9)),
                elements=st.one_of(st.floats(0, 100), st.just(np.nan))),
       w=arrays(np.float64, 9, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5])),
       how=st.sampled_from(AGGREGATIONS), coverage=st.sampled_from([0.3, 0.65, 1.0]))
def test_all_levels_at_once_equal_each_level_aggregated_alone(x, w, how, coverage):
    """The one-pass aggregation of every level gives, level by level, what ``aggregate`` gives
    for that level's columns and weights (levels overlapping, a zero weight, rows all missing)."""
    from analysis.estimation.index import _aggregate_levels

    w = np.where(w.sum() > 0, w, 1.0)
    levels = {"a": ([0, 1, 2], w[[0, 1, 2]]), "b": ([3, 4, 5, 6, 7, 8], w[3:]),
              "c": ([1, 4, 7], w[[1, 4, 7]]), "d": ([8], w[[8]])}
    levels = {k: v for k, v in levels.items() if v[1].sum() > 0}
    got = _aggregate_levels(x, levels, how, coverage)
    for k, (idx, wk) in levels.items():
        np.testing.assert_allclose(got[k], aggregate(x[:, idx], wk, how, coverage), rtol=1e-12,
                                   atol=1e-12, err_msg=k)


@pytest.mark.parametrize("how", AGGREGATIONS)
def test_scores_do_not_depend_on_the_blocks_of_rows_they_are_computed_in(how, monkeypatch):
    """Aggregation runs over blocks of rows: a block size that splits the rows unevenly (and a
    block of one row) gives the same numbers as one block holding every row."""
    import analysis.estimation.index as ix

    rng = np.random.default_rng(11)
    x = rng.uniform(0, 100, (101, 6))
    x[rng.random(x.shape) < 0.25] = np.nan
    w = np.array([0.1, 0.3, 0.2, 0.15, 0.15, 0.1])
    levels = {"a": ([0, 1, 2], w[:3] / w[:3].sum()), "b": ([2, 3, 4, 5], w[2:] / w[2:].sum())}
    monkeypatch.setattr(ix, "ROW_BLOCK", 1 << 20)
    whole = ix.aggregate(x, w, how, 0.5), ix._aggregate_levels(x, levels, how, 0.5)
    for block in (1, 7, 100):
        monkeypatch.setattr(ix, "ROW_BLOCK", block)
        np.testing.assert_array_equal(ix.aggregate(x, w, how, 0.5), whole[0])
        got = ix._aggregate_levels(x, levels, how, 0.5)
        for k in levels:        # a matrix product: BLAS may sum a short block in another order
            np.testing.assert_allclose(got[k], whole[1][k], rtol=1e-14, atol=0, equal_nan=True)
    assert np.isnan(whole[0]).any() and not np.isnan(whole[0]).all()   # the coverage rule was met and not


@pytest.mark.parametrize("norm", NORMALISATIONS)
def test_a_construction_without_an_aspect_reuses_the_normalised_indicators_to_the_same_scores(norm):
    from dataclasses import replace

    from analysis.estimation.study import build_study

    st_ = build_study("2020-replica")
    base = st_.with_construction(replace(st_.construction, normalisation=norm))
    cfg = replace(base.construction, exclude_aspects=("means",))
    fast = base.with_construction(cfg).index
    w = base.villagers[base.wave.design_columns["weight"]].to_numpy(float)
    fresh = build_index(base.villagers, cfg, codebook=base.wave.codebook, weights=w)
    assert "means" not in fast.scores and fast.indicators == fresh.indicators
    pd.testing.assert_frame_equal(fast.scores, fresh.scores, rtol=1e-13)


def test_a_frame_without_any_indicator_column_gives_missing_scores():
    res = build_index(pd.DataFrame({"age": [30.0, 40.0]}), IndexConfig())
    assert res.scores.isna().all().all() and list(res.scores.columns)[0] == "overall"


def test_the_result_keeps_the_frames_rows_and_the_normalised_indicators():
    """Scores and normalised indicators carry the frame's own index (a filtered frame), the
    normalised values are the items' own scale mapped to 0–100, and the levels are named."""
    rng = np.random.default_rng(3)
    c = rng.integers(1, 6, (6, len(IDS))).astype(float)
    d = frame(c).set_axis([10, 11, 15, 20, 21, 30])
    res = build_index(d, IndexConfig())
    assert res.scores.index.equals(d.index) and res.normalised.index.equals(d.index)
    assert list(res.normalised.columns) == IDS
    np.testing.assert_allclose(res.normalised.to_numpy(), 100 * (c - 1) / 4)
    assert res.fields == tuple(CB.fields) and res.aspects == tuple(CB.aspects)
    assert list(res.scores.columns) == ["overall", *CB.fields, *CB.aspects]


def test_options_a_function_does_not_know_are_named_with_the_allowed_list():
    items = CB.indicators()
    with pytest.raises(IndexConfigError, match=r"^unknown normalisation 'max'; allowed: minmax, zscore"):
        normalise(np.ones((2, len(items))), items, "max")
    with pytest.raises(IndexConfigError, match=r"^unknown aggregation 'median'; allowed: arithmetic"):
        aggregate(np.ones((2, 3)), np.ones(3), "median", 0.65)
    cfg = IndexConfig(weighting="ahp", ahp_order=("education", "health"), ahp_matrix=((1, 2), (0.5, 1)))
    with pytest.raises(IndexConfigError, match=r"^AHP order \['education', 'health'\] must list the fields "
                                               r"\['education', 'health', 'social_security'"):
        build_index(frame(np.full((3, len(IDS)), 3.0)), cfg)


def test_ahp_weights_of_a_wave_without_a_field_are_those_of_the_comparisons_among_the_others():
    """A wave that never asked one field: its AHP field weights are the principal eigenvector of
    the comparisons among the four fields it has (Saaty, on the 4 × 4 submatrix), not the five-field
    weights cut to four and rescaled (they differ unless the comparisons are perfectly
    consistent). The comparisons here: education 2× health, the others as the default."""
    fields = list(CB.fields)
    m = np.array(IndexConfig.default().ahp_matrix, dtype=float)
    m[0, 1], m[1, 0] = 2.0, 0.5                       # not perfectly consistent, still CR < 0.1
    cfg = IndexConfig(weighting="ahp", ahp_order=tuple(fields), ahp_matrix=tuple(tuple(r) for r in m))
    gone = fields[2]
    c = np.random.default_rng(3).integers(1, 6, (40, len(IDS))).astype(float)
    data = frame(c).drop(columns=[it.id for it in CB.indicators() if it.field == gone])
    res = build_index(data, cfg)
    assert gone not in res.fields and len(res.fields) == len(fields) - 1
    keep = [fields.index(f) for f in res.fields]
    want, cr = ahp_weights(m[np.ix_(keep, keep)])
    cut = ahp_weights(m)[0][keep]
    assert cr < 0.1 and not np.allclose(want, cut / cut.sum(), rtol=1e-4)
    got = res.weights.set_index("component").loc[list(res.fields), "weight"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_equal_weights_within_a_field_missing_an_item_are_one_over_the_items_it_has():
    """A wave without one of education's four items: its three others weigh 1/3 each (every
    field's weights sum to 1), and an aspect sub-index weighs each field's item by the field's
    weight times that 1/3 or 1/4: "system" by hand from the normalised indicators."""
    items = CB.indicators()
    gone = next(it for it in items if it.field == "education" and it.aspect != "system")
    c = np.random.default_rng(9).integers(1, 6, (40, len(IDS))).astype(float)
    res = build_index(frame(c).drop(columns=[gone.id]), IndexConfig())
    w = res.weights
    within = w[w["level"].str.startswith("field:")]
    np.testing.assert_allclose(within.groupby("level")["weight"].sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(within.loc[within["level"] == "field:education", "weight"], 1 / 3, rtol=1e-12)
    fw = w[w["level"] == "overall"].set_index("component")["weight"]
    system = [it for it in items if it.aspect == "system"]
    k = {f: sum(it.field == f and it.id != gone.id for it in items) for f in fw.index}
    wa = np.array([fw[it.field] / k[it.field] for it in system])
    want = res.normalised[[it.id for it in system]].to_numpy() @ wa / wa.sum()
    np.testing.assert_allclose(res.scores["system"], want, rtol=1e-12)


def test_ahp_comparisons_are_read_in_the_order_the_settings_list_the_fields():
    """data/index.yml may list the AHP fields in any order: the same comparisons written in the
    reverse order (the matrix permuted with them) give each field the same weight."""
    from analysis.settings import load_settings

    idx = load_settings().index.model_copy(update={"weighting": "ahp"})
    order, m = list(idx.ahp.order), np.array(idx.ahp.matrix, dtype=float)
    assert len(set(m[0])) > 1                             # the comparisons favour some fields
    rev = idx.model_copy(update={"ahp": idx.ahp.model_copy(update={
        "order": order[::-1], "matrix": [list(r) for r in m[::-1, ::-1]]})})
    c = np.random.default_rng(2).integers(1, 6, (30, len(IDS))).astype(float)
    weights = [build_index(frame(c), IndexConfig.from_settings(x)).weights.query("level == 'overall'")
               .set_index("component")["weight"] for x in (idx, rev)]
    pd.testing.assert_series_equal(weights[0], weights[1], rtol=1e-12)
    assert weights[0].nunique() == 2                      # education and health above the others


def test_index_yml_s_coverage_and_expert_indicator_weights_reach_the_construction():
    """The coverage rule and the expert weights of indicators are the settings', not the class's
    defaults nor the expert weights of fields."""
    from analysis.settings import load_settings

    idx = load_settings().index
    expert = idx.expert.model_copy(update={"indicators": {IDS[0]: 3.0}})
    cfg = IndexConfig.from_settings(idx.model_copy(update={"weighting": "expert", "coverage": 0.8,
                                                           "expert": expert}))
    assert cfg.coverage == 0.8 != IndexConfig.coverage
    assert dict(cfg.expert_indicators) == {IDS[0]: 3.0}
    assert dict(cfg.expert_fields) == dict(idx.expert.fields)


def test_the_targets_index_yml_names_reach_the_target_normalisation():
    """A target named in data/index.yml (4 on a 1..5 item) is the construction's: that item's
    codes 1..5 read 0, 33.3, 66.7, 100, 100; an item without one reaches 100 at its top code."""
    from analysis.settings import load_settings

    idx = load_settings().index.model_copy(update={"normalisation": "target", "targets": {IDS[0]: 4.0}})
    cfg = IndexConfig.from_settings(idx)
    assert dict(cfg.targets) == {IDS[0]: 4.0}
    c = np.column_stack([np.arange(1.0, 6.0)] * len(IDS))
    xn = build_index(frame(c), cfg).normalised
    np.testing.assert_allclose(xn[IDS[0]], [0.0, 100 / 3, 200 / 3, 100.0, 100.0])
    np.testing.assert_allclose(xn[IDS[1]], [0.0, 25.0, 50.0, 75.0, 100.0])


def test_a_field_without_an_expert_weight_weighs_one():
    c = np.random.default_rng(5).integers(1, 6, (30, len(IDS))).astype(float)
    given_ = {"education": 3.0, "health": 2.0, "social_security": 1.0, "employment_training": 0.5}
    short = build_index(frame(c), IndexConfig(weighting="expert", expert_fields=given_))
    full = build_index(frame(c), IndexConfig(weighting="expert", expert_fields={**given_, "culture_sports": 1.0}))
    pd.testing.assert_frame_equal(short.scores, full.scores)
    assert short.weights.set_index("component").loc["culture_sports", "weight"] == pytest.approx(1 / 7.5)


@pytest.mark.parametrize("how", ["zscore", "rank"])
def test_a_constant_indicator_sits_exactly_at_the_centre_and_a_missing_answer_stays_missing(how):
    """Whatever the weights, a constant indicator is 50 (its weighted mean is rounded: x − μ and
    the SD are then ~1e-16, which must not become a z of ±1), and unanswered stays NaN."""
    items = CB.indicators()[:2]
    w = np.random.default_rng(0).uniform(3e4, 2e5, 40)          # a weighted mean of 3 that is not 3
    c = np.column_stack([np.full(40, 3.0), np.tile([1.0, 5.0], 20)])
    c[[4, 9], 0] = np.nan
    xn = normalise(c, items, how, w)
    assert np.isnan(xn[[4, 9], 0]).all()
    assert (np.delete(xn[:, 0], [4, 9]) == 50.0).all()
    assert np.isfinite(xn[:, 1]).all() and xn[:, 1].std() > 0


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("how", NORMALISATIONS)
def test_an_unanswered_indicator_normalises_to_missing_without_a_warning(how):
    items = CB.indicators()[:2]
    c = np.column_stack([np.full(5, np.nan), [1.0, 2.0, 3.0, 4.0, 5.0]])
    xn = normalise(c, items, how, np.ones(5))
    assert np.isnan(xn[:, 0]).all() and np.isfinite(xn[:, 1]).all()


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("how", AGGREGATIONS)
def test_aggregation_of_unanswered_rows_and_of_the_geometric_floor_is_quiet(how):
    """A row with nothing answered is missing; a z-score as low as −100/99 (log 0 in the
    geometric mean) gives the geometric floor −1/0.99, without a warning either way."""
    x = np.array([[np.nan, np.nan], [-100 / 99, 50.0]])
    out = aggregate(x, np.array([0.5, 0.5]), how, 0.65)
    assert np.isnan(out[0]) and np.isfinite(out[1])
    if how == "geometric":
        assert out[1] == pytest.approx(-1 / 0.99)


def test_a_construction_survives_pickling_with_its_read_only_choices():
    """The construction is sent to Dask workers by pickle: every choice comes back, the mappings
    still read-only."""
    import pickle
    from types import MappingProxyType

    cfg = IndexConfig(weighting="expert", expert_fields=MappingProxyType({"education": 2.0}),
                      targets=MappingProxyType({"edu_org": 4.0}), exclude_aspects=("means",), sha256="abc")
    back = pickle.loads(pickle.dumps(cfg))
    assert back == cfg and isinstance(back.expert_fields, MappingProxyType)
    assert dict(back.targets) == {"edu_org": 4.0} and back.exclude_aspects == ("means",)
    # the state holds plain dicts: a process where no module has registered a pickler for
    # read-only mappings (the report's context registers one) pickles it too
    _, (state,) = cfg.__reduce__()
    assert state["expert_fields"] == {"education": 2.0} and type(state["targets"]) is dict
    assert not any(isinstance(v, MappingProxyType) for v in state.values())


def test_scales_of_other_lengths_and_reversed_items_normalise_on_their_own_codes():
    """A wave's items need not be on 1..5: a reversed item on 1..4 reads its codes 1, 2, 3, 4 as
    100, 66.7, 33.3 and 0 (its own bottom and top swapped, not 6 − c); a reversed 0..10 item reads
    0 as 100 and 10 as 0; without a named target, the target normalisation's target is each
    item's own top code (4 on a 1..4 item, 10 on 0..10)."""
    def item(k: str, codes: range, direction: int) -> Item:
        return Item(id=k, type="likert", text_zh="", text_en="", questionnaire="t",
                    values={c: ("", "") for c in codes}, direction=direction)

    four, ten = item("four", range(1, 5), -1), item("ten", range(0, 11), -1)
    up4, up10 = item("up4", range(1, 5), 1), item("up10", range(0, 11), 1)
    on4, on10 = [1.0, 2.0, 3.0, 4.0], [0.0, 10.0, 5.0, 2.0]
    c = np.column_stack([on4, on10, on4, on10])
    xn = normalise(c, [four, ten, up4, up10], "minmax")
    np.testing.assert_allclose(xn[:, 0], [100.0, 200 / 3, 100 / 3, 0.0])
    np.testing.assert_allclose(xn[:, 1], [100.0, 0.0, 50.0, 80.0])
    np.testing.assert_allclose(normalise(c, [four, ten, up4, up10], "target", np.ones(4)), xn)


def test_distance_to_a_target_reaches_100_at_the_target_and_stays_there_above_it():
    """100 (c − min) / (target − min), capped: on 1..5 with target 4, the codes read 0, 33.3, 66.7,
    100 and 100 (beyond the target is no more modern than reaching it); no target: the top code."""
    items = CB.indicators()[:2]
    c = np.column_stack([[1.0, 2.0, 3.0, 4.0, 5.0]] * 2)
    xn = normalise(c, items, "target", np.ones(5), {items[0].id: 4.0})
    np.testing.assert_allclose(xn[:, 0], [0.0, 100 / 3, 200 / 3, 100.0, 100.0])
    np.testing.assert_allclose(xn[:, 1], [0.0, 25.0, 50.0, 75.0, 100.0])


def test_the_scores_file_carries_the_design_columns_beside_each_respondent_s_scores(tmp_path):
    """``ruralgov index --scores F`` writes, per respondent, the id, the design's weight, stratum and
    PSU (so the scores can be estimated design-based elsewhere) and every score of the index."""
    import pandas as pd
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.estimation.study import build_study

    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["index", "2020-replica", "--scores", str(out), "--format", "csv"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    st = build_study("2020-replica")
    need = [st.wave.codebook.keys["villagers"], *[c for c in st.wave.design_columns.values() if c],
            *st.scores.columns]
    assert set(need) <= set(got.columns) and len(got) == st.n
    assert got["overall"].to_numpy() == pytest.approx(st.scores["overall"].to_numpy(), nan_ok=True)
