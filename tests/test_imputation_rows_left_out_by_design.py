"""Multiple imputation fills in missing answers only: rows a derived variable leaves out by design
(``log_income`` of a household income of 0, ``nonpositive: drop``) stay out of the imputed fits as they
stay out of the complete cases, and are not counted as missing answers; a model the wave cannot fit
(one cluster) is refused with its reason before any imputation runs."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.estimation.frames import model_frame
from analysis.estimation.study import build_study
from analysis.estimation.suite import ModelSpecError, multiple_imputation
from tests import wavegen


@pytest.fixture(scope="module")
def zero_incomes(tmp_path_factory):
    """The generated 2024 wave: a few households report an income of 0 (the premise is checked)."""
    st = build_study(wavegen.write(tmp_path_factory.mktemp("w") / "wave-2024", "sav"))
    assert (st.villagers["hh_income"] == 0).sum() >= 2
    return st


def test_rows_a_log_transform_drops_are_not_in_the_frame_kept_for_imputation(zero_incomes):
    """model_frame(complete=False) keeps rows with missing answers but not those whose income is
    answered and ≤ 0: every other row is there (counted by hand), none with income ≤ 0."""
    st = zero_incomes
    spec = st.settings.models.get("wls_region")
    mf = model_frame(st, spec, complete=False)
    income = st.villagers["hh_income"].to_numpy(float)
    assert not (income[mf.rows] <= 0).any()
    assert len(mf.rows) == len(income) - int((income <= 0).sum())
    assert np.isnan(income[mf.rows]).sum() == np.isnan(income).sum()      # missing incomes stay, to impute


def test_multiple_imputation_fits_every_usable_row_and_not_those_left_out_by_design(zero_incomes):
    """Each completed data set holds, by hand, every respondent with a region, weight and province
    but those whose income is answered and ≤ 0; the rows counted with a missing answer are among them."""
    st = zero_incomes
    spec = st.settings.models.get("wls_region")
    v = st.villagers
    out = multiple_imputation(st, imputations=2, burn_in=1)
    given = v[[*spec.fixed_effects, spec.weights, spec.cluster]].notna().all(axis=1)
    by_hand = int((given & ~(v["hh_income"] <= 0)).sum())
    assert out.attrs["rows"] == by_hand
    assert out.attrs["left_out_rows"] == int((~given & ~(v["hh_income"] <= 0)).sum())
    assert 0 < out.attrs["missing_rows"] < by_hand


def test_multiple_imputation_on_a_wave_of_one_cluster_is_refused_before_imputing(tmp_path, monkeypatch):
    """One province, clustered by province: the complete-case model's reason (a single cluster),
    raised before MICE runs (MICE is replaced by a function that fails the test)."""
    import statsmodels.imputation.mice as mice

    st = build_study(wavegen.provinces(tmp_path / "one", ["浙江"]))

    def never(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("MICE ran on a model the wave cannot fit")

    monkeypatch.setattr(mice, "MICE", never)
    with pytest.raises(ModelSpecError, match="single"):
        multiple_imputation(st, imputations=2, burn_in=1)
