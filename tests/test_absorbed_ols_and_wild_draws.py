"""Absorbed fixed-effects OLS checked against the regression with dummies, and the wild cluster
bootstrap's seeded draws against the documented clusters × replicates layout."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.estimation.regression import absorbed_ols, wild_cluster_bootstrap


def _fe_data(seed=4):
    """60 rows, 3 fixed-effect levels (labels 'a', 'b', 'c'), 6 clusters nested in them, 2 slopes,
    heteroskedastic errors correlated within clusters, unequal weights."""
    rng = np.random.default_rng(seed)
    n = 60
    cluster = np.repeat(np.arange(6), 10)
    fe = np.array(["a", "b", "c"])[cluster // 2]
    x = rng.normal(size=(n, 2))
    y = (x @ [0.7, -1.3] + np.array([0.0, 2.0, -1.0])[cluster // 2] + rng.normal(size=6)[cluster]
         + rng.normal(size=n) * (1 + np.abs(x[:, 0])))
    w = rng.uniform(0.5, 2.0, size=n)
    return y, x, fe, cluster, w


def _dummy_model_cr1(y, x, fe, cluster, w):
    """The regression with an intercept and the level dummies (first level dropped), weighted,
    and its CR1 covariance G/(G−1)·(N−1)/(N−K)·A⁻¹(Σ_g s_g s_g')A⁻¹ with K every column."""
    levels = sorted(set(fe))
    D = np.column_stack([np.ones(len(y))] + [(fe == lv).astype(float) for lv in levels[1:]] + [x])
    sw = np.sqrt(w)
    beta = np.linalg.lstsq(D * sw[:, None], y * sw, rcond=None)[0]
    e = y - D @ beta
    ainv = np.linalg.inv(D.T @ (D * w[:, None]))
    clusters = np.unique(cluster)
    scores = np.array([(D[cluster == c] * (w * e)[cluster == c][:, None]).sum(axis=0) for c in clusters])
    n, K, G = len(y), D.shape[1], len(clusters)
    V = G / (G - 1) * (n - 1) / (n - K) * ainv @ (scores.T @ scores) @ ainv
    return beta[-x.shape[1]:], V[-x.shape[1]:, -x.shape[1]:], K


def test_absorbed_ols_standard_errors_are_the_cr1_errors_of_the_regression_with_dummies():
    """absorbed_ols's 'se' are sqrt(diag) of the CR1 covariance of the dummy regression's slopes."""
    y, x, fe, cluster, w = _fe_data()
    r = absorbed_ols(y, x, fe=fe, cluster=cluster, w=w)
    coef, V, _ = _dummy_model_cr1(y, x, fe, cluster, w)
    np.testing.assert_allclose(r["coef"], coef, rtol=1e-9)
    np.testing.assert_allclose(r["vcov"], V, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(r["se"], np.sqrt(np.diag(V)), rtol=1e-9)
    np.testing.assert_allclose(r["se"], np.sqrt(np.diag(r["vcov"])), rtol=1e-12)


def test_absorbed_ols_counts_k_as_the_slopes_plus_every_fixed_effect_level():
    """K = 2 slopes + 3 levels (intercept and two dummies) = 5, the columns of the dummy regression."""
    y, x, fe, cluster, w = _fe_data()
    r = absorbed_ols(y, x, fe=fe, cluster=cluster, w=w)
    _, _, K = _dummy_model_cr1(y, x, fe, cluster, w)
    assert K == 5
    assert r["k"] == 5
    assert r["n"] == 60 and r["clusters"] == 6


@pytest.mark.parametrize("weights, points", [
    ("webb", np.concatenate([-np.sqrt([0.5, 1.0, 1.5]), np.sqrt([0.5, 1.0, 1.5])])),
    ("rademacher", np.array([-1.0, 1.0])),
])
def test_seeded_wild_bootstrap_draws_a_clusters_by_replicates_matrix(weights, points):
    """A seed gives the run with multipliers default_rng(seed).choice(points, (clusters, reps))."""
    rng = np.random.default_rng(1)
    G, per = 8, 15
    g = np.repeat(np.arange(G), per)
    n = len(g)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n) + 0.2 * g])
    y = X @ [1.0, 0.5, 0.1] + rng.normal(size=G)[g] + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, size=n)
    reps, seed = 99, 20200601
    drawn = wild_cluster_bootstrap(y, X, w, g, [1, 2], reps=reps, weights=weights, seed=seed)
    V = np.random.default_rng(seed).choice(points, size=(G, reps))
    given = wild_cluster_bootstrap(y, X, w, g, [1, 2], weights=weights, multipliers=V)
    cols = ["wild_p", "wild_ci_low", "wild_ci_high"]
    np.testing.assert_allclose(drawn[cols].to_numpy(), given[cols].to_numpy(), rtol=1e-12)
    assert drawn.attrs["reps"] == reps and drawn.attrs["clusters"] == G
