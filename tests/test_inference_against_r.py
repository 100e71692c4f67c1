"""The report's inference against R (stored references made by tests/r/inference_reference.R):
domain CIs on the domain's design df; svyglm on the full design when item non-response removes
whole PSUs and one stratum holds a single PSU (estimates, SEs, df, p-values, CIs); the
design-based ordered logit (svyolr); discrete-change marginal effects; the Brant test; an fpc.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model
from analysis.ingest.provinces import resolve
from tests.conftest import DEFAULT, rerun_r_reference, shared

pytestmark = pytest.mark.against_r
REF = pd.read_csv(paths.ROOT / "tests/results/inference_reference.csv")
RTOL_EST = 1e-6     # estimates, statistics
RTOL_SE = 1e-4      # standard errors, p-values, interval limits


def _ref(case: str, model: str, kind: str | None = None) -> pd.DataFrame:
    r = REF[(REF["case"] == case) & (REF["model"] == model)]
    return r if kind is None else r[r["kind"] == kind]


@pytest.fixture(scope=shared)
def default():
    return build_study("2020-replica")


def _wave(tmp: "pytest.TempPathFactory", name: str, change) -> object:  # type: ignore[no-untyped-def]
    folder = tmp.mktemp("w") / name
    folder.mkdir()
    v = pd.read_csv(DEFAULT / "villagers.csv", dtype=str, keep_default_na=False)
    change(v).to_csv(folder / "villagers.csv", index=False)
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    spec.update({"id": name, "questionnaires": {"villagers": {"file": "villagers.csv"}}})
    if "fpc" in change(v.head(2)).columns:
        spec["design"]["fpc"] = "fpc"
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return build_study(folder)


@pytest.fixture(scope=shared)
def perturbed(tmp_path_factory):
    """Villages 5402 and 5403 dropped (Tibet keeps one PSU); income missing in villages 3102 and
    4101 (whole PSUs leave the complete cases) and in Heilongjiang's two (a whole stratum does:
    the models' df count only the strata their complete cases lie in, as svyglm's degf)."""
    def change(v: pd.DataFrame) -> pd.DataFrame:
        v = v[~v["village_id"].isin(["5402", "5403"])].copy()
        v.loc[v["village_id"].isin(["3102", "4101", "2301", "2302"]), "hh_income"] = ""
        return v
    return _wave(tmp_path_factory, "perturbed", change)


@pytest.fixture(scope=shared)
def with_fpc(tmp_path_factory):
    def change(v: pd.DataFrame) -> pd.DataFrame:
        n = v.groupby("province")["village_id"].transform("nunique")
        return v.assign(fpc=(10 * n).astype(str))
    return _wave(tmp_path_factory, "with-fpc", change)


@pytest.mark.parametrize("by", ["region3", "province"])
def test_domain_intervals_on_the_domain_design_df(default, by):
    col = "region3" if by == "region3" else "province_en"
    e = default.degree(by=col)
    lo, hi = e.ci
    ours = {str(d): i for i, d in enumerate(e.domains)}
    ref = _ref("default", f"degree_by_{by}")
    assert len(ref) == len(e.domains)
    for r in ref.itertuples():
        i = ours[r.term if by == "region3" else resolve(r.term).name_en]
        np.testing.assert_allclose(e.estimate[i], r.estimate, rtol=1e-8)
        np.testing.assert_allclose(e.se[i], r.se, rtol=1e-6)
        assert e.df[i] == r.df
        np.testing.assert_allclose([lo[i], hi[i]], [r.ci_low, r.ci_high], rtol=1e-6)


def test_overall_interval_on_the_design_df(default):
    e = default.degree()
    r = _ref("default", "degree").iloc[0]
    assert e.df[0] == r.df == 39
    np.testing.assert_allclose([e.ci[0][0], e.ci[1][0]], [r.ci_low, r.ci_high], rtol=1e-6)


def _compare_model(res, ref: pd.DataFrame) -> None:
    t = res.to_frame().set_index("term")
    assert len(ref) > 0
    for r in ref.itertuples():
        np.testing.assert_allclose(t.loc[r.term, "estimate"], r.estimate, rtol=RTOL_EST, err_msg=r.term)
        np.testing.assert_allclose(t.loc[r.term, "se"], r.se, rtol=RTOL_SE, err_msg=r.term)
        assert res.df_inference == r.df, r.term
        np.testing.assert_allclose(t.loc[r.term, "p"], r.p, rtol=RTOL_SE, atol=1e-12, err_msg=r.term)
        np.testing.assert_allclose(t.loc[r.term, ["ci_low", "ci_high"]].to_numpy(float), [r.ci_low, r.ci_high],
                                   rtol=RTOL_SE, err_msg=r.term)


@pytest.mark.parametrize("model", ["svy_region", "logit_online_registration", "logit_old_age_insurance"])
@pytest.mark.parametrize("case", ["default", "perturbed"])
def test_design_based_models_keep_the_full_design(default, perturbed, case, model):
    st = default if case == "default" else perturbed
    res = fit_model(st, st.settings.models.get(model))
    _compare_model(res, _ref(case, model, "coef"))


@pytest.mark.parametrize("case", ["default", "perturbed"])
@pytest.mark.parametrize("model", ["logit_online_registration", "logit_old_age_insurance"])
def test_logit_marginal_effects_discrete_for_binary_regressors(default, perturbed, case, model):
    st = default if case == "default" else perturbed
    ame = fit_model(st, st.settings.models.get(model)).tables["ame"].set_index("term")
    for r in REF[(REF["case"] == case) & (REF["model"] == model) & REF["kind"].str.startswith("ame")].itertuples():
        assert ame.loc[r.term, "kind"] == ("discrete change" if r.kind == "ame_discrete" else "derivative")
        # R differentiates numerically (h = 1e-5): derivatives agree to that precision
        np.testing.assert_allclose(ame.loc[r.term, "ame"], r.estimate, rtol=1e-6 if r.kind == "ame_discrete" else 1e-5)
        np.testing.assert_allclose(ame.loc[r.term, "se"], r.se, rtol=RTOL_SE)


def test_hc1_standard_errors_equal_sandwich(default):
    """The plain HC1 branch (no clustering): lm with weights + sandwich::vcovHC(type = "HC1"),
    t-inference on n − K df."""
    spec = default.settings.models.get("wls_region").model_copy(update={"cluster": None, "se": "hc1", "wild": None})
    _compare_model(fit_model(default, spec), _ref("default", "wls_region_hc1", "coef"))


def test_design_based_ordered_logit_equals_svyolr(default):
    """Slopes and cut points, and the slopes' p-values and intervals on svyolr's df.residual (the
    design's df minus the slopes: 39 − 8 = 31)."""
    res = fit_model(default, default.settings.models.get("svyolr_health"))
    ref = _ref("default", "svyolr_health")
    for r in ref[ref["kind"].isin(["coef", "cut"])].itertuples():
        term = r.term if r.kind == "coef" else f"cut{r.term}"
        np.testing.assert_allclose(res.params[term], r.estimate, rtol=RTOL_EST, err_msg=term)
        np.testing.assert_allclose(res.bse[term], r.se, rtol=RTOL_SE, err_msg=term)
    _compare_model(res, _ref("default", "svyolr_health", "coef"))


def test_the_headline_model_s_inference_equals_coeftest_on_g_minus_1_df(default):
    """wls_region as the page prints it: CR1 (sandwich::vcovCL HC1), p-values and intervals on t
    with G − 1 = 21 df (lmtest::coeftest/coefci with df = G − 1)."""
    spec = default.settings.models.get("wls_region").model_copy(update={"wild": None})
    _compare_model(fit_model(default, spec), _ref("default", "wls_region", "coef"))


@pytest.mark.parametrize("model", ["ologit_health", "svyolr_health"])
def test_ordered_logit_marginal_effects_by_category(default, model):
    ame = fit_model(default, default.settings.models.get(model)).tables["ame"]
    ame = ame.set_index(["term", "category"])
    ref = REF[(REF["model"] == model) & REF["kind"].str.startswith("ame")]
    assert len(ref) == len(ame)
    for r in ref.itertuples():
        got = ame.loc[(r.term, int(r.category))]
        assert got["kind"] == ("discrete change" if r.kind == "ame_discrete" else "derivative")
        np.testing.assert_allclose(got["ame"], r.estimate, rtol=1e-5, atol=1e-9)
        # svyolr's covariance rests on optim's finite-difference Hessian (about 1e-4 relative):
        # its SEs, and the marginal effects' SEs built on them, agree to that precision
        rtol = RTOL_SE if model == "ologit_health" else 2.5e-4
        np.testing.assert_allclose(got["se"], r.se, rtol=rtol, atol=1e-9)


def test_brant_test_of_proportional_odds(default):
    b = fit_model(default, default.settings.models.get("ologit_health")).tables["brant"].set_index("term")
    ref = _ref("default", "brant_ologit_health")
    for r in ref.itertuples():
        np.testing.assert_allclose(b.loc[r.term, "chi2"], r.estimate, rtol=1e-6, err_msg=r.term)
        assert b.loc[r.term, "df"] == r.df
        np.testing.assert_allclose(b.loc[r.term, "p"], r.p, rtol=1e-6, err_msg=r.term)


def test_a_wave_with_an_fpc_equals_svydesign_fpc(with_fpc):
    ref = _ref("fpc", "degree").iloc[0]
    e = with_fpc.degree()
    np.testing.assert_allclose(e.estimate[0], ref.estimate, rtol=1e-8)
    np.testing.assert_allclose(e.se[0], ref.se, rtol=1e-6)
    np.testing.assert_allclose(e.deff[0], ref.df, rtol=1e-6)       # the deff is stored in the df column
    byr = with_fpc.degree(by="region3")
    for r in _ref("fpc", "degree_by_region3").itertuples():
        i = byr.domains.index(r.term)
        np.testing.assert_allclose(byr.estimate[i], r.estimate, rtol=1e-8)
        np.testing.assert_allclose(byr.se[i], r.se, rtol=1e-6)
        np.testing.assert_allclose(byr.deff[i], r.df, rtol=1e-6)


@pytest.mark.parametrize("reml", [True, False])
def test_multilevel_t_tests_and_intervals_on_nlme_s_between_within_df(default, reml):
    """Each coefficient's df is nlme's: the province covariates are estimated between the G
    provinces (G − 3 − 1 = 18), the respondents' within them (N − G − 7), the intercept takes the
    larger; p-values and 95 % limits are t on those df (lme's REML and ML optima)."""
    spec = default.settings.models.get("multilevel").model_copy(update={"reml": reml})
    res = fit_model(default, spec)
    ref = _ref("default", "multilevel_reml" if reml else "multilevel_ml", "coef")
    t = res.to_frame().set_index("term")
    assert len(ref) == len(res.params) == 11
    for r in ref.itertuples():
        assert res.df_inference[r.term] == r.df, r.term
        np.testing.assert_allclose(res.params[r.term], r.estimate, rtol=1e-6, err_msg=r.term)
        np.testing.assert_allclose(res.bse[r.term], r.se, rtol=RTOL_SE, err_msg=r.term)
        if r.term in t.index:
            np.testing.assert_allclose(t.loc[r.term, "p"], r.p, rtol=RTOL_SE, err_msg=r.term)
            np.testing.assert_allclose(t.loc[r.term, ["ci_low", "ci_high"]].to_numpy(float),
                                       [r.ci_low, r.ci_high], rtol=RTOL_SE, err_msg=r.term)
    assert sorted(set(ref["df"])) == [18, res.nobs - 22 - 7]


def test_stored_references_are_what_r_computes(tmp_path):
    # the multilevel rows come from lme's optimiser: their last digits depend on the machine
    rerun_r_reference("tests/r/inference_reference.R", REF, tmp_path, rtol=1e-9,
                      optimised=("multilevel", 1e-6))
