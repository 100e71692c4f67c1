"""The Brant test's p-values on each row's own degrees of freedom (checked against the test written
out from Brant's paper and against the stored R reference); a reason list with a counted reason
("fewer than {n} respondents") in the Chinese edition; the robustness table's weighting rows under
the names of the weightings they were fitted with."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import paths
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model, fit_models
from tests.conftest import shared


@pytest.fixture(scope=shared)
def replica():
    return build_study("2020-replica")


# ---- the Brant test ------------------------------------------------------------------------------

def _logit(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """A binary logit by plain Newton–Raphson to machine precision: its coefficients."""
    b = np.zeros(X.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-X @ b))
        step = np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (y - p))
        b += step
        if np.max(np.abs(step)) < 1e-13:
            break
    return b


def _brant_by_hand(y: np.ndarray, X: np.ndarray) -> tuple[float, list[float]]:
    """Brant (1990) written out: the J − 1 binary logits 1(y > j), their joint covariance, and the
    Wald statistics of equal slopes (all slopes together, then each regressor alone)."""
    n, k = X.shape
    J = int(y.max()) + 1
    m = J - 1
    X1 = np.column_stack([np.ones(n), X])
    fits = [_logit((y > j).astype(float), X1) for j in range(m)]
    pis = [1 / (1 + np.exp(-X1 @ b)) for b in fits]
    info = [np.linalg.inv(X1.T @ (X1 * (p * (1 - p))[:, None])) for p in pis]
    B = np.concatenate([b[1:] for b in fits])
    V = np.zeros((m * k, m * k))
    for a in range(m):
        for c in range(a, m):
            w = pis[c] - pis[a] * pis[c]
            cov = (info[a] @ (X1.T @ (X1 * w[:, None])) @ info[c])[1:, 1:]
            V[a * k:(a + 1) * k, c * k:(c + 1) * k] = cov
            V[c * k:(c + 1) * k, a * k:(a + 1) * k] = cov.T
    D = np.zeros(((m - 1) * k, m * k))
    for r in range(m - 1):
        D[r * k:(r + 1) * k, :k] = np.eye(k)
        D[r * k:(r + 1) * k, (r + 1) * k:(r + 2) * k] = -np.eye(k)
    d, C = D @ B, D @ V @ D.T
    omnibus = float(d @ np.linalg.solve(C, d))
    each = []
    for j in range(k):
        idx = [r * k + j for r in range(m - 1)]
        each.append(float(d[idx] @ np.linalg.solve(C[np.ix_(idx, idx)], d[idx])))
    return omnibus, each


def test_brant_p_values_are_chi_square_tails_on_the_omnibus_and_per_regressor_df():
    """Four answer categories, three regressors: the omnibus test has (J − 2) K = 6 df, each
    regressor's J − 2 = 2, and every p-value is the χ² upper tail of its statistic on its own df."""
    from analysis.estimation.ordinal import brant

    rng = np.random.default_rng(7)
    n = 1500
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    # the first regressor's effect grows with the threshold: proportional odds fails for it
    latent = X @ [0.8, -0.5, 0.3] + 0.4 * X[:, 0] * (rng.random(n) < 0.5) + rng.logistic(size=n)
    y = np.digitize(latent, [-1.0, 0.3, 1.4])
    assert sorted(np.unique(y)) == [0, 1, 2, 3]
    got = brant(y, X, ["a", "b", "c"]).set_index("term")
    omnibus, each = _brant_by_hand(y, X)
    assert list(got.index) == ["omnibus", "a", "b", "c"]
    assert got.loc["omnibus", "df"] == 6
    assert list(got.loc[["a", "b", "c"], "df"]) == [2, 2, 2]
    np.testing.assert_allclose(got.loc["omnibus", "chi2"], omnibus, rtol=1e-6)
    np.testing.assert_allclose(got.loc[["a", "b", "c"], "chi2"], each, rtol=1e-6)
    np.testing.assert_allclose(got.loc["omnibus", "p"], stats.chi2.sf(omnibus, 6), rtol=1e-6)
    np.testing.assert_allclose(got.loc[["a", "b", "c"], "p"], stats.chi2.sf(each, 2), rtol=1e-6)


def test_the_replica_omnibus_brant_test_keeps_proportional_odds_as_r_does(replica):
    """ologit_health on the replica wave: the omnibus Brant row has 24 df and R's p-value (0.189),
    so proportional odds is not rejected at 5 %; each regressor's row has 3 df and R's p-value."""
    ref = pd.read_csv(paths.ROOT / "tests/results/inference_reference.csv")
    ref = ref[(ref["case"] == "default") & (ref["model"] == "brant_ologit_health")].set_index("term")
    got = fit_model(replica, replica.settings.models.get("ologit_health")).tables["brant"].set_index("term")
    assert set(got.index) == set(ref.index)
    assert got.loc["omnibus", "df"] == 24 == ref.loc["omnibus", "df"]
    np.testing.assert_allclose(got.loc["omnibus", "p"], ref.loc["omnibus", "p"], rtol=1e-5)
    assert got.loc["omnibus", "p"] > 0.05
    for term in ref.index.drop("omnibus"):
        assert got.loc[term, "df"] == 3
        np.testing.assert_allclose(got.loc[term, "p"], ref.loc[term, "p"], rtol=1e-5, err_msg=term)
    # whatever the reference, each p is the χ² tail of the row's own statistic on the row's own df
    np.testing.assert_allclose(got["p"], stats.chi2.sf(got["chi2"], got["df"]), rtol=1e-9)


# ---- reasons in the Chinese edition ---------------------------------------------------------------

def test_a_counted_respondents_reason_is_translated_with_its_count_in_the_chinese_edition(monkeypatch):
    """reasons() in the Chinese edition says "fewer than 10 respondents" as 受访者少于 10 人 (the
    catalog's pattern with the count filled in), alone and in a list with a literal reason."""
    from analysis.i18n import reasons

    assert reasons("fewer than 10 respondents") == "fewer than 10 respondents"      # English edition
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    assert reasons("fewer than 10 respondents") == "受访者少于 10 人"
    assert reasons("fewer than 8 design df; fewer than 10 respondents") == "设计自由度少于 8；受访者少于 10 人"
    assert reasons("") == ""


def test_a_withheld_province_s_chinese_profile_gives_its_reason_in_chinese(monkeypatch, small_province_wave):
    """Tibet with six respondents (below the default min_cell of 10): its profile sentence in the
    Chinese edition says why in Chinese, with the count, and holds no English reason."""
    from analysis.report.pages import profile

    st = build_study(small_province_wave)
    status = profile.survey_status(st, 540000)
    assert status["status"] == "suppressed" and status["n"] == 6                 # the premise
    assert status["reason"] == "fewer than 10 respondents"
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    text = profile.summary_sentence(st, 540000, pd.DataFrame())
    assert "受访者少于 10 人" in text, text
    assert "fewer than" not in text and "respondents" not in text, text


# ---- the robustness table -------------------------------------------------------------------------

@pytest.mark.parametrize("weighting,label", [("pca", "PCA weights"), ("ahp", "AHP weights"),
                                             ("entropy", "entropy weights")])
def test_each_weighting_row_of_the_robustness_table_is_the_model_on_that_weighting(replica, weighting,
                                                                                    label):
    """The robustness row named after a weighting holds wls_region refitted on the index built with
    that weighting (the study's other choices kept), and no other weighting's fit."""
    from analysis.estimation.suite import robustness

    r = robustness(replica)
    assert (r["construction"] == label).any(), sorted(set(r["construction"]))
    row = r[r["construction"] == label].set_index("term")["estimate"]
    other = replica.with_construction(dataclasses.replace(replica.construction, weighting=weighting))
    want = fit_models(other, names=["wls_region"])["wls_region"].params
    np.testing.assert_allclose(row.to_numpy(), want[row.index].to_numpy(), rtol=1e-10)
    for alt in {"pca", "ahp", "entropy"} - {weighting}:       # distinguishable from the other weightings
        alt_fit = fit_models(replica.with_construction(dataclasses.replace(replica.construction,
                                                                           weighting=alt)),
                             names=["wls_region"])["wls_region"].params
        assert not np.allclose(row.to_numpy(), alt_fit[row.index].to_numpy(), rtol=1e-6), alt
