"""Rubin's rules with Barnard & Rubin's degrees of freedom (``pool_rubin``, the combination of the
multiply imputed fits on the determinants page) against R's ``mice::pool.scalar``: the stored
references made by tests/r/pooling_reference.R, which also draws the completed-data estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.results import pool_rubin
from tests.conftest import rerun_r_reference

pytestmark = pytest.mark.against_r
REF = pd.read_csv(paths.ROOT / "tests/results/pooling_reference.csv")
CASES = sorted(REF["case"].unique())


def _case(name: str) -> tuple[np.ndarray, np.ndarray, float, pd.DataFrame]:
    r = REF[REF["case"] == name]
    fits = r[r["imputation"] > 0].pivot(index="imputation", columns="term")
    pooled = r[r["imputation"] == 0].set_index("term").sort_index()
    return fits["estimate"].to_numpy(), fits["variance"].to_numpy(), float(r["df_complete"].iloc[0]), pooled


@pytest.mark.parametrize("case", CASES)
def test_pool_rubin_equals_mice(case):
    """Estimate, T, the Barnard–Rubin df (Rubin's 1987 df when the complete-data df is infinite;
    the 1e-4 floor on λ when the estimates do not vary), the t interval and p-value on that df, r,
    λ and the fraction of missing information."""
    q, u, dfc, ref = _case(case)
    got = pool_rubin(q, u, dfc)
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(got["se"] ** 2, ref["variance"], rtol=1e-12)
    for col in ("df", "ci_low", "ci_high", "p", "riv", "lambda", "fmi"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9, atol=1e-14, err_msg=col)


def test_the_cases_cover_both_dfs_and_the_floor():
    """The references hold a finite and an infinite complete-data df, and a case whose estimates
    do not vary between data sets (λ = 0, so mice's floor of 1e-4 sets the df)."""
    assert np.isinf(REF["df_complete"]).any() and np.isfinite(REF["df_complete"]).any()
    q, u, dfc, ref = _case("m5_df8_b0")
    assert np.ptp(q) == 0 and ref["lambda"].eq(0).all()
    floor = 1 / (1 / (4 / 1e-8) + 1 / (9 / 11 * 8 * (1 - 1e-4)))      # (m − 1)/λ² and df_obs at λ = 1e-4
    assert pool_rubin(q, u, dfc)["df"].iloc[0] == pytest.approx(floor)


def test_pool_rubin_without_a_complete_data_df_is_rubins_1987():
    q, u, _, ref = _case("m20_inf")
    np.testing.assert_allclose(pool_rubin(q, u, None)["df"], ref["df"], rtol=1e-9)


def test_pool_rubin_needs_two_data_sets_of_equal_shape():
    with pytest.raises(ValueError, match="two or more"):
        pool_rubin(np.ones((1, 2)), np.ones((1, 2)), 10)
    with pytest.raises(ValueError, match="equal shape"):
        pool_rubin(np.ones((3, 2)), np.ones((3, 1)), 10)


def test_stored_references_are_what_r_computes(tmp_path):
    rerun_r_reference("tests/r/pooling_reference.R", REF, tmp_path, rtol=1e-9)
