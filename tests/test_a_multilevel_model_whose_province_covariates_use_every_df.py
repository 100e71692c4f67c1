"""A wave of 4 provinces and a multilevel model of 3 province-level covariates: those covariates
have 4 − 3 − 1 = 0 degrees of freedom between provinces and are not tested, while the
respondents' characteristics have hundreds within them. The model is reported, its province
covariates without interval or p-value and said so; it was left out whole ("more coefficients
than this wave's design can support"), the page's sentence for this case never shown."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_models
from tests import wavegen

PROVINCE_TERMS = ["urban_rate", "log_gdp_pc", "fiscal_exp_pc_k"]


@pytest.fixture(scope="module")
def four(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = wavegen.provinces(tmp_path_factory.mktemp("w") / "four", ["河北", "江苏", "四川", "河南"])
    st = build_study(folder)
    return st, fit_models(st, names=["multilevel", "wls_region"])


def test_the_model_is_kept_with_its_province_covariates_untested(four):
    st, ms = four
    assert ms.has("multilevel"), ms.skipped
    ml = ms["multilevel"]
    assert ml.stats["df_group_terms"] == 0 and ml.stats["df_unit_terms"] > 100
    t = ml.to_frame().set_index("term")
    assert t.loc[PROVINCE_TERMS, ["ci_low", "ci_high", "p"]].isna().all().all()
    assert np.isfinite(t.loc[PROVINCE_TERMS, "estimate"]).all()
    unit = [x for x in t.index if x not in PROVINCE_TERMS]
    assert t.loc[unit, ["ci_low", "ci_high", "p"]].notna().all().all()


def test_the_page_says_the_province_covariates_are_not_tested(four):
    from analysis.report.pages import determinants as det

    st, ms = four
    text = det.multilevel_df_text(ms["multilevel"])
    assert "none for the province-level covariates" in text
    assert "the 4 provinces leave no degree of freedom beside them and the intercept, so they are not tested" in text
    assert f"{ms['multilevel'].stats['df_unit_terms']:.0f} for the respondents' characteristics" in text


def test_a_model_all_of_whose_terms_lack_df_is_still_left_out(four, monkeypatch):
    """The rule stands for the others: a design of no more PSUs than coefficients leaves the model out."""
    import pandas as pd

    from analysis.estimation import multilevel, suite
    from analysis.estimation.results import ModelSpecError

    st, _ = four
    real = multilevel.fit_mixed

    def no_df(*args, **kwargs):  # type: ignore[no-untyped-def]
        r = real(*args, **kwargs)
        return type(r)(**{**r.__dict__, "df_inference": pd.Series(0.0, index=r.params.index)})
    monkeypatch.setattr(multilevel, "fit_mixed", no_df)
    with pytest.raises(ModelSpecError, match="no degrees of freedom"):
        suite.fit_model(st, st.settings.models.get("multilevel"))
