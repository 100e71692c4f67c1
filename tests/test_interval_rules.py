"""Intervals on the right distribution: Rubin's rules on an infinite complete-data df, a province
profile's interval on its design df, the ordered logit's marginal-effects figure on the model's
df, and the Oaxaca–Blinder decomposition's intervals on the normal for its bootstrap SEs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats


@pytest.fixture(scope="module")
def replica():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


# ---- Rubin's rules ---------------------------------------------------------------------------------

def test_rubin_pooling_with_an_infinite_complete_data_df_uses_rubin_s_1987_df():
    """An infinite complete-data df is Rubin's (1987) df (m − 1)/λ², as None is: a finite interval."""
    from analysis.estimation.results import pool_rubin

    q = np.array([[1.0], [2.0], [3.0]])             # three data sets: mean 2, between variance 1
    u = np.array([[1.0], [1.0], [1.0]])             # within variance 1
    m, qbar, ubar, b = 3, 2.0, 1.0, 1.0
    t = ubar + (1 + 1 / m) * b                      # 7/3
    lam = (1 + 1 / m) * b / t                       # 4/7
    df = (m - 1) / lam ** 2                         # 49/8
    half = stats.t.ppf(0.975, df) * np.sqrt(t)
    p = 2 * stats.t.sf(qbar / np.sqrt(t), df)
    r = pool_rubin(q, u, df_complete=np.inf).iloc[0]
    assert r["df"] == pytest.approx(49 / 8, rel=1e-12)
    assert r["ci_low"] == pytest.approx(qbar - half, rel=1e-10)
    assert r["ci_high"] == pytest.approx(qbar + half, rel=1e-10)
    assert r["p"] == pytest.approx(p, rel=1e-10)
    pd.testing.assert_frame_equal(pool_rubin(q, u, df_complete=np.inf), pool_rubin(q, u))


# ---- a province profile -------------------------------------------------------------------------

def test_a_province_profile_interval_is_t_on_its_villages_minus_one_not_the_normal(replica):
    """A province's profile states its degree ± t(villages − 1)·SE, as the province table does."""
    from analysis.report.pages import profile
    from analysis.report.pages.common import province_degrees

    v = replica.villagers
    villages = v.loc[v["province_en"] == "Shanghai", "village_id"].nunique()
    assert villages == 3                                            # the premise: df 2, t = 4.30
    row = province_degrees(replica).set_index("province").loc["Shanghai"]
    half = stats.t.ppf(0.975, villages - 1) * row["se"]
    lo, hi = row["estimate"] - half, row["estimate"] + half
    assert 0 < lo and hi < 100                                      # not cut at an end of the scale
    s = profile.survey_status(replica, 310000)
    assert s["status"] == "published" and s["df"] == villages - 1
    assert s["ci_low"] == pytest.approx(lo, rel=1e-9) and s["ci_high"] == pytest.approx(hi, rel=1e-9)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((row["ci_low"], row["ci_high"]), rel=1e-12)
    text = profile.summary_sentence(replica, 310000, pd.DataFrame())
    assert f"(95 % CI {lo:.1f}–{hi:.1f};" in text, text


# ---- the ordered logit's marginal-effects figure --------------------------------------------------

def test_the_design_based_ordered_logit_s_ame_figure_draws_t_intervals_on_the_model_s_df(replica):
    """svyolr's AME bars: ± t(PSUs − strata − K)·SE in percentage points, not ± 1.96·SE."""
    from analysis.estimation.suite import fit_models
    from analysis.report.pages import determinants as det

    ms = fit_models(replica, names=["svyolr_health"])
    spec = replica.settings.models.get("svyolr_health")
    v = replica.villagers
    df = v["village_id"].nunique() - v["province"].nunique() - len(spec.regressors)   # 64 − 22 − 8
    assert ms["svyolr_health"].df_inference == df
    d = det.ame_figure(ms, "svyolr_health", synthetic=True).ruralgov_data
    ame = ms["svyolr_health"].tables["ame"]
    q = stats.t.ppf(0.975, df)
    np.testing.assert_allclose(d["ame_pp"], 100 * ame["ame"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(d["lo_pp"], 100 * (ame["ame"] - q * ame["se"]).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(d["hi_pp"], 100 * (ame["ame"] + q * ame["se"]).to_numpy(), rtol=1e-9)


# ---- the Oaxaca–Blinder decomposition -------------------------------------------------------------

def test_the_oaxaca_decomposition_s_intervals_are_on_the_normal_for_its_bootstrap_ses():
    """Bootstrap SEs are given normal intervals (estimate ± 1.96·SE) and p-values, not t on reps − 1."""
    from analysis.estimation.decomposition import fit_oaxaca
    from analysis.settings.schemas import ModelSpec

    rng = np.random.default_rng(4)
    n = 400
    strata = rng.integers(0, 4, n)
    east = rng.random(n) < 0.5
    x = rng.normal(1 + east, 1)
    df = pd.DataFrame({"y": 2 + x + 1.5 * east + rng.normal(size=n), "x1": x,
                       "belt": np.where(east, "east", "west"), "weight": rng.uniform(0.5, 2.0, n),
                       "stratum": strata, "psu": strata * 10 + rng.integers(0, 6, n)})
    spec = ModelSpec(name="gap", family="oaxaca", outcome="y", regressors=("x1",), weights="weight",
                     group="belt", groups=("east", "west"), reps=50, seed=1)
    r = fit_oaxaca(df, spec, {}, strata="stratum", psu="psu")
    t = r.to_frame().set_index("term")
    z = stats.norm.ppf(0.975)                                        # 1.96, not t(49) = 2.01
    assert (t["se"] > 0).all()
    np.testing.assert_allclose(t["ci_low"], t["estimate"] - z * t["se"], rtol=1e-10)
    np.testing.assert_allclose(t["ci_high"], t["estimate"] + z * t["se"], rtol=1e-10)
    np.testing.assert_allclose(t["p"], 2 * stats.norm.sf(np.abs(t["estimate"] / t["se"])), rtol=1e-9)
