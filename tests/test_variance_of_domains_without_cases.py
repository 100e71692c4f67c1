"""A domain nobody answered in has no estimate, hence no variance (NaN, not 0), in its row and its
column of the covariance; every other domain, one with a single case included, keeps its own."""

from __future__ import annotations

import numpy as np

from analysis.estimation.design import no_variance_without_cases


def _cov(k: int) -> np.ndarray:
    a = np.arange(1.0, k * k + 1).reshape(k, k)
    return a @ a.T                                   # symmetric, every entry positive


def test_only_the_rows_and_columns_of_empty_domains_are_missing():
    v = _cov(4)
    n = np.array([0, 1, 2, 0])
    got = no_variance_without_cases(v, n)
    empty = n == 0
    assert np.isnan(got[empty, :]).all() and np.isnan(got[:, empty]).all()
    np.testing.assert_array_equal(got[np.ix_(~empty, ~empty)], v[np.ix_(~empty, ~empty)])
    assert np.isfinite(got[1, 1]) and got[1, 1] == v[1, 1]          # one case: its variance stays


def test_the_covariance_given_is_not_changed():
    v = _cov(3)
    before = v.copy()
    no_variance_without_cases(v, np.array([0, 3, 1]))
    np.testing.assert_array_equal(v, before)


def test_with_every_domain_answered_the_covariance_is_returned_as_it_is():
    v = _cov(3)
    np.testing.assert_array_equal(no_variance_without_cases(v, np.array([1, 1, 5])), v)
