"""Model variants the default models.yml does not use, against an independent implementation
(statsmodels): a linear model without fixed effects, an unweighted one, a second fixed effect as
dummies, the df of CR1 and HC1 inference, and the design-based model's bookkeeping.

A data/models.yml written for another wave may use any of them, so each branch of the estimator
is checked, not only the ones the default report runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from analysis.estimation.design import SurveyDesign
from analysis.estimation.linear import fit_linear
from analysis.settings import ModelSpec

RTOL = 1e-8


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """400 respondents in 16 provinces of 4 regions, a continuous and a 0/1 regressor, a
    three-level category, unequal weights; the outcome depends on all of them."""
    rng = np.random.default_rng(20)
    n = 400
    prov = rng.integers(0, 16, n)
    df = pd.DataFrame({"prov": [f"p{p:02d}" for p in prov], "region": [f"r{p // 4}" for p in prov],
                       "village": [f"v{p:02d}-{k}" for p, k in zip(prov, rng.integers(0, 5, n))],
                       "x1": rng.normal(size=n), "x2": rng.integers(0, 2, n).astype(float),
                       "cat": rng.choice(["a", "b", "c"], n), "w": rng.uniform(0.5, 3.0, n)})
    df["y"] = (1 + 0.5 * df["x1"] - 0.3 * df["x2"] + (df["cat"] == "b") * 0.4 + prov * 0.05
               + rng.normal(size=n) * (1 + 0.5 * df["x2"]))
    return df


def _compare(res, fit, terms, *, df_inference) -> None:  # type: ignore[no-untyped-def]
    t = res.to_frame().set_index("term")
    np.testing.assert_allclose(t.loc[terms, "estimate"], fit.params[terms], rtol=RTOL)
    np.testing.assert_allclose(t.loc[terms, "se"], fit.bse[terms], rtol=RTOL)
    np.testing.assert_allclose(t.loc[terms, "p"], fit.pvalues[terms], rtol=1e-6)
    ci = fit.conf_int().loc[terms]
    np.testing.assert_allclose(t.loc[terms, ["ci_low", "ci_high"]].to_numpy(), ci.to_numpy(), rtol=1e-7)
    assert res.df_inference == df_inference


def test_wls_without_fixed_effects_hc1_equals_statsmodels(frame):
    spec = ModelSpec(name="m", family="wls", outcome="y", regressors=("x1", "x2"), weights="w", se="hc1")
    res = fit_linear(frame, spec, {})
    fit = smf.wls("y ~ x1 + x2", data=frame, weights=frame["w"]).fit(cov_type="HC1", use_t=True)
    _compare(res, fit, ["x1", "x2"], df_inference=len(frame) - 3)
    np.testing.assert_allclose(res.params["Intercept"], fit.params["Intercept"], rtol=RTOL)
    assert res.stats["r2"] == pytest.approx(fit.rsquared, rel=1e-10) and res.stats["k"] == 3


def test_wls_without_fixed_effects_cr1_equals_statsmodels_with_g_minus_1_df(frame):
    spec = ModelSpec(name="m", family="wls", outcome="y", regressors=("x1", "x2"), weights="w", cluster="prov")
    res = fit_linear(frame, spec, {})
    g = pd.factorize(frame["prov"])[0]
    fit = smf.wls("y ~ x1 + x2", data=frame, weights=frame["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    assert fit.df_resid_inference == 15
    _compare(res, fit, ["x1", "x2"], df_inference=15.0)
    assert res.stats["n_clusters"] == 16


def test_unweighted_ols_equals_statsmodels(frame):
    spec = ModelSpec(name="m", family="ols", outcome="y", regressors=("x1", "x2"), se="hc1")
    res = fit_linear(frame, spec, {})
    fit = smf.ols("y ~ x1 + x2", data=frame).fit(cov_type="HC1", use_t=True)
    _compare(res, fit, ["x1", "x2"], df_inference=len(frame) - 3)


def test_a_second_fixed_effect_enters_as_dummies(frame):
    """The first fixed effect absorbed, the second as dummies: slopes, CR1 SEs (K counts both) and
    p-values equal those of the regression with both sets of dummies."""
    spec = ModelSpec(name="m", family="wls", outcome="y", regressors=("x1", "x2"),
                     fixed_effects=("prov", "cat"), weights="w", cluster="region")
    res = fit_linear(frame, spec, {})
    g = pd.factorize(frame["region"])[0]
    fit = smf.wls("y ~ x1 + x2 + C(prov) + C(cat)", data=frame, weights=frame["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    _compare(res, fit, ["x1", "x2"], df_inference=3.0)
    assert res.stats["k"] == len(fit.params) and res.stats["absorbed"] == "prov"
    assert res.stats["r2"] == pytest.approx(fit.rsquared, rel=1e-10)     # of y, not of the demeaned y
    assert res.fixed_effects == ("prov", "cat")


def test_design_based_linear_model_on_the_whole_design(frame):
    """Without ``rows`` the frame is the whole design; the result records the design's PSUs and df,
    and the model's df is the design df less the model's rank beyond one (as svyglm)."""
    d = SurveyDesign.from_frame(frame, weight="w", strata="region", psu="village")
    spec = ModelSpec(name="m", family="wls", outcome="y", regressors=("x1", "x2"), weights="w", se="design")
    whole = fit_linear(frame, spec, {}, design=d)
    rows = fit_linear(frame, spec, {}, design=d, rows=np.arange(len(frame)))
    pd.testing.assert_frame_equal(whole.to_frame(), rows.to_frame())
    assert whole.stats["n_psu"] == d.n_psu and whole.stats["design_df"] == d.degf
    assert whole.df_inference == d.degf - 2
    # complete cases missing from one village: the model's PSUs and design df are those holding
    # its rows (R: degf(fit$survey.design)), one fewer each; its df follows
    gone = frame["village"] == frame["village"].iloc[0]
    assert frame.loc[~gone, "region"].eq(frame.loc[gone, "region"].iloc[0]).any()   # the stratum stays
    part = fit_linear(frame[~gone], spec, {}, design=d, rows=np.flatnonzero(~gone))
    assert part.stats["n_psu"] == d.n_psu - 1 and part.stats["design_df"] == d.degf - 1
    assert part.df_inference == d.degf - 3
    with pytest.raises(ValueError, match="^design-based standard errors need the survey design$"):
        fit_linear(frame, spec, {})


@pytest.fixture(scope="module")
def binary(frame) -> pd.DataFrame:
    rng = np.random.default_rng(21)
    eta = -0.2 + 0.8 * frame["x1"] - 0.6 * frame["x2"]
    return frame.assign(b=(rng.uniform(size=len(frame)) < 1 / (1 + np.exp(-eta))).astype(float))


@pytest.mark.parametrize("weighted", [True, False])
def test_logit_hc1_equals_statsmodels_glm_on_the_normal(binary, weighted):
    """HC1 of a logit is sandwich's: HC0 × n/(n − k) (statsmodels' GLM HC1 leaves the factor out,
    so its HC0 is scaled here); inference is asymptotic: normal p-values (df None)."""
    from scipy import stats

    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"),
                     weights="w" if weighted else None, se="hc1")
    res = fit_logit(binary, spec, {})
    X = sm.add_constant(binary[["x1", "x2"]]).rename(columns={"const": "Intercept"})
    fit = sm.GLM(binary["b"], X, family=sm.families.Binomial(),
                 var_weights=binary["w"] / binary["w"].mean() if weighted else None).fit(cov_type="HC0")
    n, k = X.shape
    se = fit.bse * np.sqrt(n / (n - k))
    t = res.to_frame().set_index("term").loc[["x1", "x2"]]
    np.testing.assert_allclose(t["estimate"], fit.params[["x1", "x2"]], rtol=RTOL)
    np.testing.assert_allclose(t["se"], se[["x1", "x2"]], rtol=1e-7)
    np.testing.assert_allclose(t["p"], 2 * stats.norm.sf(np.abs(fit.params / se))[1:], rtol=1e-6)
    np.testing.assert_allclose(t["ci_high"], (fit.params + stats.norm.ppf(0.975) * se)[["x1", "x2"]], rtol=1e-7)
    assert res.df_inference is None
    assert res.stats["pseudo_r2"] == pytest.approx(1 - fit.llf / fit.llnull, rel=1e-9)


def test_logit_with_probabilities_near_0_and_1_equals_statsmodels():
    """A strong effect puts a quarter of the fitted probabilities beyond 0.01 or 0.99, where a
    Newton step with a wrong information matrix converges so slowly that 100 steps leave the
    estimate short of the maximum (about 5 % here)."""
    from analysis.estimation.binary import fit_logit

    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=2000), rng.normal(size=2000)
    eta = 1.0 + 4.0 * x1 - 0.5 * x2
    b = (rng.uniform(size=2000) < 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame({"x1": x1, "x2": x2, "b": b})
    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"), se="hc1")
    res = fit_logit(df, spec, {})
    fit = sm.Logit(df["b"], sm.add_constant(df[["x1", "x2"]])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(res.params.to_numpy(), fit.params.to_numpy(), rtol=1e-8)


def test_a_logit_whose_fitted_probabilities_round_to_one_has_statsmodels_pseudo_r2():
    """Three incomes of millions of yuan give fitted probabilities that round to 1: the
    log-likelihood is still finite (log(1 − μ) times y = 1 was 0 · −inf, NaN), and McFadden's
    pseudo-R² is statsmodels'; so are the marginal effects with a linear predictor past 709."""
    from analysis.estimation.binary import fit_logit

    rng = np.random.default_rng(1)
    inc = rng.lognormal(10.5, 0.6, 2000)
    inc[:3] = [3e6, 5e6, 8e6]
    y = (rng.random(2000) < 1 / (1 + np.exp(3 - 2.5e-5 * inc))).astype(float)
    y[:3] = 1
    res = fit_logit(pd.DataFrame({"y": y, "income": inc}),
                    ModelSpec(name="m", family="logit", outcome="y", regressors=("income",), se="hc1"), {})
    fit = sm.Logit(y, sm.add_constant(inc)).fit(disp=0, tol=1e-12)
    assert res.stats["pseudo_r2"] == pytest.approx(fit.prsquared, rel=1e-7)
    # one income keyed in fen (4.2e7: a linear predictor past exp's range): the average marginal
    # effect and its SE stay finite, statsmodels' effect
    inc[0] = 4.2e7
    res = fit_logit(pd.DataFrame({"y": y, "income": inc}),
                    ModelSpec(name="m", family="logit", outcome="y", regressors=("income",), se="hc1"), {})
    fit = sm.Logit(y, sm.add_constant(inc)).fit(disp=0, tol=1e-12)
    ame = res.tables["ame"].set_index("term").loc["income"]
    assert np.isfinite(ame["se"]) and ame["ame"] == pytest.approx(fit.get_margeff().margeff[0], rel=1e-6)


@pytest.mark.filterwarnings("error")
def test_a_logit_whose_newton_steps_turn_nan_is_refused_not_reported(monkeypatch):
    """Should the information matrix of some iteration hold NaN (an overflow the fit did not
    foresee), every later step is NaN: that is no convergence, refused with the reason, never a
    fit of NaN coefficients (NaN passes no comparison, so "steps not small" must be written as
    "not (size <= tolerance)")."""
    from analysis.estimation import binary
    from analysis.estimation.results import ModelSpecError

    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x1": rng.normal(size=300)})
    df["b"] = (rng.random(300) < 1 / (1 + np.exp(-df["x1"]))).astype(float)
    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1",), se="hc1")
    assert np.isfinite(binary.fit_logit(df, spec, {}).params).all()
    real, calls = binary.weighted_gram, []

    def poisoned(X, h):  # type: ignore[no-untyped-def]
        calls.append(1)
        g = real(X, h)
        return g if len(calls) < 3 else np.full_like(g, np.nan)

    monkeypatch.setattr(binary, "weighted_gram", poisoned)
    with pytest.raises(ModelSpecError, match="did not converge"):        # (LAPACK may call NaN singular)
        binary.fit_logit(df, spec, {})


def test_a_logit_whose_regressor_separates_the_outcome_is_refused_naming_it():
    """y = 1 exactly where x1 > 1.5: the likelihood has no maximum; the fit is refused with the
    regressor whose coefficient grows without bound (not a linear-algebra error, and without
    numpy's overflow warnings on the way)."""
    from analysis.estimation.binary import fit_logit
    from analysis.estimation.results import ModelSpecError

    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=500), rng.normal(size=500)
    # the intercept's coefficient (−1.5 β₁) is the largest: the regressor is found by |β|·SD
    df = pd.DataFrame({"x1": x1, "x2": x2, "b": (x1 > 1.5).astype(float)})
    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x2", "x1"), se="hc1")
    with pytest.raises(ModelSpecError) as err:
        fit_logit(df, spec, {"x1": "distance to township (km)"})
    head = ("model 'm': the logit of 'b' did not converge (the information matrix is singular); the "
            "regressor 'x1' (distance to township (km)) separates the outcome (its coefficient grows without "
            "bound: ")
    msg = str(err.value)
    assert msg.startswith(head) and msg.endswith("); drop it from the model in data/models.yml")
    assert float(msg[len(head):msg.index(")", len(head))]) > 100
    # a page of the Chinese edition shows the reason (the model's name aside) in Chinese, the
    # reason it did not converge included; a label given as text stays as it is
    from analysis.i18n import say

    assert err.value.model == "m" and msg == f"model 'm': {err.value.reason}"
    zh = say(err.value.reason, "zh")
    assert zh.startswith("'b' 的 logit 模型未收敛（信息矩阵奇异）：回归变量 'x1'（distance to township (km)）完全分离了"
                         "结果变量（其系数无界增长：") and zh.endswith("）；请在 data/models.yml 中将其从模型中删去")


def test_a_logit_still_far_from_its_maximum_after_100_newton_steps_is_refused(binary, monkeypatch):
    """Steps a thousandth of Newton's (an information matrix 1000 times too large) are still
    large after 100 iterations: refused, not returned as an estimate."""
    from analysis.estimation import binary as mod
    from analysis.estimation.results import ModelSpecError

    gram = mod.weighted_gram
    monkeypatch.setattr(mod, "weighted_gram", lambda X, h: 1000 * gram(X, h))
    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"), se="hc1")
    with pytest.raises(ModelSpecError, match=r"^model 'm': the logit of 'b' did not converge \(no "
                                             r"convergence in 100 Newton iterations\); the regressor 'x1' "
                                             r"\(x1\) separates"):
        mod.fit_logit(binary, spec, {})
    from analysis.i18n import say

    with pytest.raises(ModelSpecError) as err:
        mod.fit_logit(binary, spec, {})
    assert say(err.value.reason, "zh").startswith("'b' 的 logit 模型未收敛（牛顿迭代 100 次仍未收敛）：回归变量 'x1'（x1）")


@pytest.mark.filterwarnings("ignore:cov_type not fully supported with var_weights")
def test_logit_cr1_has_g_minus_1_df(binary):
    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"), weights="w", cluster="prov")
    res = fit_logit(binary, spec, {})
    X = sm.add_constant(binary[["x1", "x2"]]).rename(columns={"const": "Intercept"})
    fit = sm.GLM(binary["b"], X, family=sm.families.Binomial(), var_weights=binary["w"] / binary["w"].mean()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(binary["prov"])[0]}, use_t=True)
    _compare(res, fit, ["x1", "x2"], df_inference=15.0)
    assert res.stats["n_clusters"] == 16


def test_logit_refuses_an_outcome_that_is_not_0_1_and_needs_the_design_for_design_ses(binary):
    from analysis.estimation.binary import fit_logit
    from analysis.estimation.results import ModelSpecError

    spec = ModelSpec(name="m", family="logit", outcome="x1", regressors=("x2",))
    with pytest.raises(ModelSpecError, match="^model 'm': outcome must be 0/1$") as err:
        fit_logit(binary, spec, {})
    from analysis.i18n import say

    assert say(err.value.reason, "zh") == "结果变量必须为 0/1"
    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1",), weights="w", se="design")
    with pytest.raises(ValueError, match="^design-based standard errors need the survey design$"):
        fit_logit(binary, spec, {})
    d = SurveyDesign.from_frame(binary, weight="w", strata="region", psu="village")
    whole = fit_logit(binary, spec, {}, design=d)
    pd.testing.assert_frame_equal(whole.to_frame(), fit_logit(binary, spec, {}, design=d,
                                                              rows=np.arange(len(binary))).to_frame())
    assert whole.stats["n_psu"] == d.n_psu and whole.df_inference == d.degf - 1
    assert whole.stats["design_df"] == d.degf
    assert whole.nobs == len(binary) and whole.fixed_effects == ()       # counted rows, a tuple
    # svyglm's df.residual, the design's df + 1 − the coefficients: the fixed effect's dummies count
    fe = fit_logit(binary, spec.model_copy(update={"fixed_effects": ("cat",)}), {}, design=d)
    assert len(fe.params) == 4 and fe.df_inference == d.degf + 1 - 4
    gone = binary["village"] == binary["village"].iloc[0]
    part = fit_logit(binary[~gone], spec, {}, design=d, rows=np.flatnonzero(~gone))
    assert part.stats["n_psu"] == d.n_psu - 1 and part.stats["design_df"] == d.degf - 1
    assert part.df_inference == d.degf - 2 and part.nobs == int((~gone).sum())


def test_the_result_carries_the_spec_s_label_family_terms_and_covariance_labels(frame):
    spec = ModelSpec(name="m", label="Score on access", family="wls", outcome="y", regressors=("x1", "x2"),
                     weights="w", se="hc1")
    res = fit_linear(frame, spec, {"x1": "first"})
    assert (res.name, res.label, res.family) == ("m", "Score on access", "wls")
    assert fit_linear(frame, spec.model_copy(update={"label": ""}), {}).label == "m"       # label defaults to the name
    assert res.report_terms == ("x1", "x2") and res.fixed_effects == () and res.stats["absorbed"] == ""
    assert res.vcov.index.tolist() == res.vcov.columns.tolist() == res.params.index.tolist() == ["Intercept", "x1", "x2"]
    assert res.to_frame()["label"].tolist() == ["first", "x2"]


@pytest.mark.parametrize("weights", ["rademacher", "webb"])
def test_a_wild_bootstrap_with_a_fixed_effect_across_clusters_uses_the_dummy_regression(frame, weights):
    """A fixed effect that cuts across the clusters (the category, clustered by province) cannot be
    absorbed in the bootstrap's replicates: they are those of the regression with its dummies,
    with the spec's weight distribution, seed and replicates."""
    from analysis.estimation.regression import design_matrix, wild_cluster_bootstrap
    from analysis.settings.schemas import Wild

    spec = ModelSpec(name="m", family="ols", outcome="y", regressors=("x1", "x2"), fixed_effects=("cat",),
                     cluster="prov", wild=Wild(reps=199, weights=weights, seed=3))
    res = fit_linear(frame, spec, {})
    Xd, names = design_matrix(frame, ["x1", "x2"], ["cat"])
    ref = wild_cluster_bootstrap(frame["y"].to_numpy(), Xd, np.ones(len(frame)), frame["prov"].to_numpy(),
                                 [names.index("x1"), names.index("x2")], reps=199, weights=weights, seed=3)
    wild = res.tables["wild"]
    assert wild.columns[0] == "term" and wild["term"].tolist() == ["x1", "x2"]
    pd.testing.assert_frame_equal(wild.drop(columns="term"), ref.drop(columns="j"), rtol=1e-10)


def test_logit_with_a_fixed_effect_reports_marginal_effects_of_its_regressors_only(binary):
    """Average marginal effects (a derivative for x1, a discrete change for the 0/1 x2) equal
    statsmodels' ``get_margeff(dummy=True)``; the fixed effect's dummies and the intercept get none.
    The result carries the spec's label, family, terms and labelled covariance."""
    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", label="Registers online", family="logit", outcome="b", regressors=("x1", "x2"),
                     fixed_effects=("cat",), se="hc1")
    res = fit_logit(binary, spec, {})
    ame = res.tables["ame"].set_index("term")
    assert ame.index.tolist() == ["x1", "x2"] and ame["kind"].tolist() == ["derivative", "discrete change"]
    fit = smf.logit("b ~ x1 + x2 + C(cat)", data=binary).fit(disp=0, tol=1e-12)
    me = fit.get_margeff(at="overall", method="dydx", dummy=True).summary_frame()
    np.testing.assert_allclose(ame["ame"], me.loc[["x1", "x2"], "dy/dx"], rtol=1e-7)
    assert (res.label, res.family, res.report_terms) == ("Registers online", "logit", ("x1", "x2"))
    assert res.vcov.index.tolist() == res.vcov.columns.tolist() == res.params.index.tolist()
    assert fit_logit(binary, spec.model_copy(update={"label": ""}), {}).label == "m"


def _wmean(v, w):  # type: ignore[no-untyped-def]
    return np.average(np.asarray(v, float), axis=0, weights=np.asarray(w, float))


def test_oaxaca_decomposition_equals_the_group_and_pooled_regressions(frame):
    """Two-fold with pooled coefficients from the regression on both groups with a group indicator
    (Jann 2008), three-fold from the two groups' regressions, all from statsmodels WLS fits; the
    detailed explained part by regressor, labelled; the result's bookkeeping."""
    from analysis.estimation.decomposition import fit_oaxaca

    spec = ModelSpec(name="gap", label="r0 − r1 gap", family="oaxaca", outcome="y", regressors=("x1", "x2"),
                     weights="w", group="region", groups=("r0", "r1"), reps=60, seed=2)
    res = fit_oaxaca(frame, spec, {"x1": "first"}, strata="region", psu="village")
    sub = frame[frame["region"].isin(["r0", "r1"])].assign(ina=lambda d: (d["region"] == "r0").astype(float))
    A, B = sub[sub["ina"] == 1], sub[sub["ina"] == 0]
    ba = smf.wls("y ~ x1 + x2", A, weights=A["w"]).fit().params.to_numpy()
    bb = smf.wls("y ~ x1 + x2", B, weights=B["w"]).fit().params.to_numpy()
    bp = smf.wls("y ~ x1 + x2 + ina", sub, weights=sub["w"]).fit().params[["Intercept", "x1", "x2"]].to_numpy()
    xa = np.r_[1.0, _wmean(A[["x1", "x2"]], A["w"])]
    xb = np.r_[1.0, _wmean(B[["x1", "x2"]], B["w"])]
    gap = _wmean(A["y"], A["w"]) - _wmean(B["y"], B["w"])
    want = {"gap": gap, "explained (two-fold)": (xa - xb) @ bp, "unexplained (two-fold)": gap - (xa - xb) @ bp,
            "endowments (three-fold)": (xa - xb) @ bb, "coefficients (three-fold)": xb @ (ba - bb),
            "interaction (three-fold)": (xa - xb) @ (ba - bb)}
    np.testing.assert_allclose(res.params[list(want)].to_numpy(), list(want.values()), rtol=1e-9, atol=1e-12)
    detail = res.tables["detail"]
    assert detail.columns.tolist() == ["term", "explained", "se", "label"]
    assert detail["term"].tolist() == ["x1", "x2"] and detail["label"].tolist() == ["first", "x2"]
    np.testing.assert_allclose(detail["explained"], ((xa - xb) * bp)[1:], rtol=1e-9)
    assert (res.label, res.family, res.nobs) == ("r0 − r1 gap", "oaxaca", len(sub))
    assert res.report_terms == tuple(want) == tuple(res.params.index)
    assert res.vcov.index.tolist() == res.vcov.columns.tolist() == list(want)
    # the bootstrap's draws are the spec's seed: the same seed the same SEs, another seed others
    again = fit_oaxaca(frame, spec, {"x1": "first"}, strata="region", psu="village")
    other = fit_oaxaca(frame, spec.model_copy(update={"seed": 3}), {"x1": "first"}, strata="region",
                       psu="village")
    np.testing.assert_array_equal(again.bse, res.bse)
    assert not np.allclose(other.bse, res.bse) and np.array_equal(other.params, res.params)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), res.tables["decomposition"]["se"], rtol=1e-12)
    assert dict(res.stats) == {"groups": "r0 vs r1", "group": "region", "group_a": "r0", "group_b": "r1",
                               "bootstrap_reps": 60}
    assert set(res.tables) == {"decomposition", "detail"}


@pytest.mark.parametrize(("group", "groups", "names"), [
    ("region", ("r1", "r0"), ("r1", "r0")),
    ("cat", ("a", "b"), ("cat = a", "cat = b")),
])
def test_the_page_names_the_decomposition_s_groups_whatever_they_are(frame, group, groups, names):
    """The determinants page, its table title and its figure name the groups the model was given
    (data/models.yml), not "east" and "west"; without the model, the reason it was skipped."""
    from analysis.estimation.decomposition import fit_oaxaca
    from analysis.estimation.results import ModelSet
    from analysis.report.pages import determinants as det

    spec = ModelSpec(name=det.OAXACA, family="oaxaca", outcome="y", regressors=("x1",), weights="w",
                     group=group, groups=groups, reps=50, seed=1)
    ms = ModelSet((fit_oaxaca(frame, spec, {}, strata="region", psu="village"),))
    assert det.oaxaca_groups(ms) == names
    stats = det.model_stats(ms)
    assert (stats["ox_a"], stats["ox_b"]) == names
    fig = det.oaxaca_figure(ms, synthetic=False)
    assert fig.axes[0].get_xlabel() == (f"points of the gap between {names[0]} and {names[1]} explained by "
                                        "differences in each characteristic")
    skipped = ModelSet((), skipped={det.OAXACA: "the wave has no west"})
    assert det.oaxaca_absent(skipped) == "No decomposition on this wave: the wave has no west."
    assert det.oaxaca_absent(ModelSet(())) == \
        f"No decomposition on this wave: data/models.yml names no model {det.OAXACA!r}."


def test_oaxaca_without_weights_or_design_resamples_respondents(frame):
    """No weights and no design columns: unit weights, each respondent its own PSU in one stratum,
    the same as naming such columns."""
    from analysis.estimation.decomposition import fit_oaxaca

    spec = ModelSpec(name="gap", family="oaxaca", outcome="y", regressors=("x1", "x2"), group="region",
                     groups=("r0", "r1"), reps=60, seed=2)
    bare = fit_oaxaca(frame, spec, {})
    named = fit_oaxaca(frame.assign(one=1.0, one_s=0, rid=np.arange(len(frame))), spec.model_copy(update={"weights": "one"}),
                       {}, strata="one_s", psu="rid")
    pd.testing.assert_frame_equal(bare.tables["decomposition"], named.tables["decomposition"], rtol=1e-12)
    assert bare.label == "gap"


@pytest.mark.parametrize("reml", [True, False])
def test_random_intercept_model_equals_statsmodels_mixedlm(frame, reml):
    """REML and ML: coefficients, SEs, both variance components (to 1e-6, tighter than an optimiser
    left at its default tolerance reaches), the log-likelihood, and the ICC of the empty model
    fitted the same way; the result's bookkeeping."""
    import warnings

    from analysis.estimation.multilevel import fit_mixed

    spec = ModelSpec(name="ml", label="Multilevel", family="mixedlm", outcome="y", regressors=("x1", "x2"),
                     group="prov", reml=reml)
    res = fit_mixed(frame, spec, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("y ~ x1 + x2", frame, groups=frame["prov"]).fit(reml=reml, method=["bfgs"], gtol=1e-12,
                                                                          maxiter=5000)
        null = smf.mixedlm("y ~ 1", frame, groups=frame["prov"]).fit(reml=reml, method=["bfgs"], gtol=1e-12,
                                                                     maxiter=5000)
    terms = ["Intercept", "x1", "x2"]
    np.testing.assert_allclose(res.params[terms], fit.fe_params[terms], rtol=1e-7)
    tau2, sig2 = float(fit.cov_re.iloc[0, 0]), float(fit.scale)
    # lme4's vcov: (Σ_g X_g' V_g⁻¹ X_g)⁻¹ with V_g = σ²I + τ²11', at statsmodels' variances
    # (statsmodels' own bse_fe come from the Hessian over all parameters, a different quantity)
    info = sum(Xg.T @ np.linalg.solve(sig2 * np.eye(len(Xg)) + tau2, Xg)
               for Xg in (grp[["x1", "x2"]].assign(c=1.0)[["c", "x1", "x2"]].to_numpy()
                          for _, grp in frame.groupby("prov")))
    np.testing.assert_allclose(res.bse[terms], np.sqrt(np.diag(np.linalg.inv(info))), rtol=1e-6)
    st = res.stats
    np.testing.assert_allclose([st["var_province"], st["var_residual"]], [tau2, sig2], rtol=1e-6)
    assert st["llf"] == pytest.approx(fit.llf, rel=1e-9)
    t0, s0 = float(null.cov_re.iloc[0, 0]), float(null.scale)
    assert st["icc"] == pytest.approx(t0 / (t0 + s0), rel=1e-6)
    assert st["icc_conditional"] == pytest.approx(tau2 / (tau2 + sig2), rel=1e-6)
    assert st["n_groups"] == 16 and st["reml"] is reml and st["group"] == "prov"
    re = res.tables["random_effects"]
    assert re["component"].tolist() == ["prov intercept", "residual"]          # the spec's group
    np.testing.assert_allclose(re[["variance", "sd"]].to_numpy(), [[tau2, tau2 ** 0.5], [sig2, sig2 ** 0.5]], rtol=1e-6)
    assert (res.label, res.family, res.report_terms) == ("Multilevel", "mixedlm", ("x1", "x2"))
    assert res.vcov.index.tolist() == res.vcov.columns.tolist() == terms
    # both regressors vary within provinces: N − G − 2 df for each, and for the intercept
    assert res.df_inference.to_dict() == dict.fromkeys(terms, float(len(frame) - 16 - 2))


@pytest.mark.parametrize("regressors", [("zp", "x1"), ("zp",)])
def test_multilevel_stats_name_the_group_level_terms_and_the_df_of_each_level(frame, regressors):
    """A province-level covariate listed first, or alone: the stats name it, give it G − 1 − 1 df,
    and give the respondents' regressors N − G − 1 (none when there is none)."""
    from analysis.estimation.multilevel import fit_mixed

    df = frame.assign(zp=frame["prov"].str[1:].astype(float) ** 0.5)
    spec = ModelSpec(name="ml", label="Multilevel", family="mixedlm", outcome="y", regressors=regressors,
                     group="prov")
    st = fit_mixed(df, spec, {}).stats
    assert st["group_terms"] == ("zp",) and st["df_group_terms"] == 16 - 1 - 1
    assert st["df_unit_terms"] == (len(df) - 16 - 1 if "x1" in regressors else None)


def test_a_multilevel_model_with_a_fixed_effect_reports_it_and_counts_its_dummies_between_groups(frame):
    """Region dummies (constant within each province) are estimated between the 16 provinces:
    16 − 3 − 1 df; the table marks the fixed effect, as for the linear models."""
    from analysis.estimation.multilevel import fit_mixed
    from analysis.estimation.results import ModelSet

    spec = ModelSpec(name="ml", label="Multilevel", family="mixedlm", outcome="y", regressors=("x1",),
                     fixed_effects=("region",), group="prov")
    res = fit_mixed(frame, spec, {})
    assert res.fixed_effects == ("region",) and res.report_terms == ("x1",)
    assert res.df_inference[["region_r1", "region_r2", "region_r3"]].tolist() == [12.0] * 3
    assert res.df_inference["x1"] == len(frame) - 16 - 1
    table = ModelSet((res,)).table()
    assert table.iloc[:, 0].str.contains("region").any()


@pytest.mark.parametrize("sizes, columns, expected", [
    ([10] * 8, ["1", "x1", "z", "z2", "v"], [70, 70, 5, 5, 70]),
    ([10] * 8, ["x1", "z", "z2"], [72, 6, 6]),
    ([10] * 8, ["1", "z"], [72, 6]),
    ([10] * 7 + [1], ["1", "x1", "z", "z2", "v"], [61, 61, 5, 5, 61]),
    ([10] * 7 + [1], ["x1", "z", "z2"], [63, 6, 6]),
    ([10] * 7 + [1], ["1", "z"], [63, 6]),
])
def test_between_within_df_follows_nlme(sizes, columns, expected):
    """nlme::lme's df on 8 groups of 10 rows, and on 7 of 10 and one of a single row (printed by
    tests/r/between_within_df.R): a column varying within any group (even one row of one group,
    ``v``) has N − G − p_w; a column constant in each group G − p_b − 1; the intercept the larger;
    without an intercept nlme gives one more df within and one more between. A group of one row is
    a group (G = 8 either way). The values drawn do not matter, only which vary where."""
    from analysis.estimation.multilevel import between_within_df, constant_within

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(len(sizes)), sizes)
    n = len(g)
    z, z2 = rng.normal(size=8)[g], rng.normal(size=8)[g]
    v = z.copy()
    v[0] += 0.5
    cols = {"1": np.ones(n), "x1": rng.normal(size=n), "z": z, "z2": z2, "v": v}
    X = np.column_stack([cols[c] for c in columns])
    np.testing.assert_array_equal(between_within_df(X, g), expected)
    np.testing.assert_array_equal(between_within_df(X, g, constant_within(X, g)), expected)   # the mask given
    # group labels of any kind, in any order
    perm = rng.permutation(n)
    np.testing.assert_array_equal(between_within_df(X[perm], np.array(list("abcdefgh"))[g][perm]), expected)


def test_random_intercept_is_restricted_maximum_likelihood_unless_told(frame):
    from analysis.estimation.multilevel import random_intercept

    X = np.column_stack([np.ones(len(frame)), frame["x1"], frame["x2"]])
    y, g = frame["y"].to_numpy(), frame["prov"].to_numpy()
    default, reml = random_intercept(y, X, g), random_intercept(y, X, g, reml=True)
    assert default["tau2"] == reml["tau2"] and default["n_groups"] == 16
    assert random_intercept(y, X, g, reml=False)["tau2"] != reml["tau2"]


@pytest.fixture(scope="module")
def ordered(frame) -> pd.DataFrame:
    rng = np.random.default_rng(22)
    latent = 0.9 * frame["x1"] - 0.7 * frame["x2"] + rng.logistic(size=len(frame))
    return frame.assign(o=np.digitize(latent, [-1.0, 0.3, 1.5]) + 1)        # answers 1..4


@pytest.mark.parametrize("weighted", [False, True])
def test_ordered_logit_likelihood_and_pseudo_r2_from_first_principles(ordered, weighted):
    """The log-likelihood is statsmodels OrderedModel's (unweighted), and the pseudo-R² is McFadden's
    against the thresholds-only model, whose log-likelihood is Σ_j n_j log(n_j / n) with the
    (normalised) weights counted; the result's bookkeeping."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from analysis.estimation.ordinal import fit_ologit

    spec = ModelSpec(name="o", label="Ordered", family="ologit", outcome="o", regressors=("x1", "x2"),
                     weights="w" if weighted else None)
    res = fit_ologit(ordered, spec, {})
    wn = ordered["w"] / ordered["w"].mean() if weighted else pd.Series(1.0, index=ordered.index)
    nj = wn.groupby(ordered["o"]).sum().to_numpy()
    ll0 = float(np.sum(nj * np.log(nj / nj.sum())))
    assert res.stats["pseudo_r2"] == pytest.approx(1 - res.stats["llf"] / ll0, rel=1e-12)
    assert res.stats["categories"] == 4
    if not weighted:
        fit = OrderedModel(ordered["o"], ordered[["x1", "x2"]], distr="logit").fit(method="bfgs", disp=0, gtol=1e-10)
        assert res.stats["llf"] == pytest.approx(fit.llf, rel=1e-9)
        np.testing.assert_allclose(res.params[["x1", "x2"]], fit.params[["x1", "x2"]], rtol=1e-6)
        assert "brant" in res.tables and "brant_absent" not in res.stats
    else:           # the test's binary logits are unweighted: no test of a weighted fit, and why
        assert "brant" not in res.tables and "the model is weighted" in res.stats["brant_absent"]
    assert (res.label, res.family, res.report_terms) == ("Ordered", "ologit", ("x1", "x2"))
    names = ["x1", "x2", "cut1|2", "cut2|3", "cut3|4"]
    assert res.vcov.index.tolist() == res.vcov.columns.tolist() == res.params.index.tolist() == names
    assert res.df_inference is None


@pytest.mark.parametrize("weighted", [False, True])
def test_an_ordered_logit_depends_on_the_order_of_the_answers_not_on_their_codes(ordered, weighted):
    """Answers coded 2, 3, 5, 9 (a code nobody chose between, none at 1) give the fit of the
    answers 1..4 they rank as: the same slopes, SEs, cut points and marginal effects, the cut
    points and each marginal effect named by the answer codes, the same pseudo R²."""
    from analysis.estimation.ordinal import fit_ologit

    spec = ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "x2"),
                     weights="w" if weighted else None)
    codes = {1: 2, 2: 3, 3: 5, 4: 9}
    base = fit_ologit(ordered, spec, {})
    other = fit_ologit(ordered.assign(o=ordered["o"].map(codes)), spec, {})
    assert other.params.index.tolist() == ["x1", "x2", "cut2|3", "cut3|5", "cut5|9"]
    np.testing.assert_allclose(other.params.to_numpy(), base.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(other.vcov.to_numpy(), base.vcov.to_numpy(), rtol=1e-8)
    a, b = other.tables["ame"], base.tables["ame"]
    assert a["category"].tolist() == b["category"].map(codes).tolist()
    assert sorted(set(a["category"])) == [2, 3, 5, 9]
    np.testing.assert_allclose(a[["ame", "se"]].to_numpy(), b[["ame", "se"]].to_numpy(), rtol=1e-8)
    assert other.stats["categories"] == 4
    # the thresholds-only model behind the pseudo R² counts the four answers given, not 9 codes
    assert np.isfinite(base.stats["pseudo_r2"])
    assert other.stats["pseudo_r2"] == pytest.approx(base.stats["pseudo_r2"], rel=1e-9)


def test_design_based_ordered_logit_df_and_bookkeeping(ordered):
    """svyolr's residual df (survey's svyolr: ``degf(design) - length(beta)``): the design df
    minus the K slopes, the cut points not counted; the whole design when no rows are given; the
    design is required."""
    from analysis.estimation.ordinal import fit_ologit

    d = SurveyDesign.from_frame(ordered, weight="w", strata="region", psu="village")
    spec = ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "x2"), weights="w", se="design")
    whole = fit_ologit(ordered, spec, {}, design=d)
    pd.testing.assert_frame_equal(whole.to_frame(), fit_ologit(ordered, spec, {}, design=d,
                                                               rows=np.arange(len(ordered))).to_frame())
    assert whole.df_inference == d.degf - 2
    assert whole.stats["n_psu"] == d.n_psu and whole.stats["design_df"] == d.degf
    gone = ordered["village"] == ordered["village"].iloc[0]
    part = fit_ologit(ordered[~gone], spec, {}, design=d, rows=np.flatnonzero(~gone))
    assert part.stats["n_psu"] == d.n_psu - 1 and part.stats["design_df"] == d.degf - 1
    assert part.df_inference == d.degf - 3
    assert (whole.nobs, part.nobs) == (len(ordered), int((~gone).sum())) and whole.fixed_effects == ()
    with pytest.raises(ValueError, match="^design-based standard errors need the survey design$"):
        fit_ologit(ordered, spec, {})


def test_an_ordered_logit_that_does_not_converge_names_the_separating_regressor(ordered):
    """A regressor that separates the answers: the error names it (by its label, or its id when it
    has none), the size its coefficient reached, and what to do. The regressor is chosen by
    |β|·sd(x): a pure-noise regressor on a tiny scale (a large |β|, a tiny |β|·sd) is not blamed."""
    from analysis.estimation.ordinal import fit_ologit
    from analysis.estimation.results import ModelSpecError

    rng = np.random.default_rng(23)
    sep = ordered.assign(s=(ordered["o"] >= 3).astype(float) * 10 + ordered["x1"] * 1e-3,
                         tiny=rng.normal(size=len(ordered)) * 1e-4)
    spec = ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "tiny", "s"))
    for labels, shown in (({"s": "Separator"}, "Separator"), ({}, "s")):
        with pytest.raises(ModelSpecError) as err:
            fit_ologit(sep, spec, labels)
        msg = str(err.value)
        assert msg.startswith("model 'o': the ordered logit of 'o' did not converge (the Hessian is singular); ")
        assert (f"the regressor 's' ({shown}) separates the outcome categories (its coefficient grows without "
                "bound: ") in msg
        assert msg.endswith("drop it from the model in data/models.yml, or merge sparse answer categories")
    from analysis.i18n import Name, say

    with pytest.raises(ModelSpecError) as err:          # a label that knows its Chinese form gives it
        fit_ologit(sep, spec, {"s": Name("Separator", zh="分离变量")})
    zh = say(err.value.reason, "zh")                    # the optimiser's reason in Chinese too
    assert zh.startswith("'o' 的有序 logit 模型未收敛（海森矩阵奇异）：回归变量 's'（分离变量）完全分离了结果类别")
    assert zh.endswith("；请在 data/models.yml 中将其从模型中删去，或合并稀疏的回答类别")
    assert "(Separator)" in say(err.value.reason, "en") == str(err.value.reason)


def test_ordered_logit_stops_after_max_iter_with_the_last_iterate(ordered):
    from analysis.estimation.ordinal import NonConvergence, ordered_logit

    X, y = ordered[["x1", "x2"]].to_numpy(), ordered["o"].to_numpy() - 1
    with pytest.raises(NonConvergence, match=r"^no convergence in 2 Newton iterations$") as err:
        ordered_logit(y, X, max_iter=2)
    beta = ordered_logit(y, X)[0]
    assert err.value.beta.shape == (2,) and 0 < np.abs(err.value.beta - beta).max() < 1
    from analysis.i18n import say

    assert say(err.value.reason, "zh") == "牛顿迭代 2 次仍未收敛"


@pytest.mark.parametrize("codes", [[3, 0, 2, 0, 3, 1], [40_000, 2, 70_000, 2, 40_000, 0],
                                   [-3, 5, -3, 0, 5, 5]], ids=["small", "beyond-int16", "negative"])
def test_ordinal_category_order_is_the_stable_sort_of_codes_of_any_size(codes):
    """The rows in order of category, ties in their original order (the fit, the marginal effects
    and the Brant test all read the rows in this order): small non-negative codes take a 16-bit
    radix sort, codes beyond 16 bits or below 0 must not be wrapped into it."""
    from analysis.estimation.ordinal import category_order

    y = np.repeat(np.asarray(codes), 50)[np.random.default_rng(1).permutation(300)]
    expected = sorted(range(len(y)), key=lambda i: (y[i], i))      # stable by definition
    assert category_order(y).tolist() == expected


@pytest.mark.parametrize("strong", [False, True], ids=["weak-effects", "strong-effects"])
def test_brant_test_is_the_same_from_zero_start_values(strong):
    """The Brant test's binary logits started from zero or from the ordered fit reach the same
    estimates: the start changes the number of Newton steps, not the test. With strong effects
    the steps from zero grow before they shrink (0.95, then 0.99): a rule that took a step no
    smaller than the last for convergence would stop there."""
    from analysis.estimation.ordinal import brant, ordered_logit

    if strong:
        rng = np.random.default_rng(2)
        X = rng.normal(size=(3000, 3))
        X[:, 0] = rng.integers(0, 2, 3000)
        eta = X @ rng.normal(scale=2.5, size=3) + rng.logistic(size=3000)
        y, names = np.digitize(eta, np.quantile(eta, [0.2, 0.5, 0.8])), ["a", "b", "c"]
    else:
        rng = np.random.default_rng(12)
        X = np.column_stack([rng.normal(size=2000), rng.integers(0, 2, 2000)]).astype(float)
        y, names = np.digitize(X @ [0.7, -0.4] + rng.logistic(size=2000), [-1.0, 0.2, 1.5]), ["a", "b"]
    b, t, _, _ = ordered_logit(y, X)
    cold, warm = brant(y, X, names), brant(y, X, names, start=(b, t))
    pd.testing.assert_frame_equal(cold, warm, rtol=1e-9)
    assert list(cold["term"]) == ["omnibus", *names] and list(cold["df"]) == [2 * len(names)] + [2] * len(names)


@pytest.mark.filterwarnings("error")
def test_ordered_logit_step_halving_takes_the_largest_step_that_does_not_lose_likelihood():
    """The Newton safeguard: 1, ½, ¼, … until the log-likelihood is no lower (to its rounding), and
    the smallest scale tried when none is; log-likelihood −∞ off the model's domain."""
    from analysis.estimation.ordinal import _damped, _loglik

    tried = []

    def parabola(s):
        tried.append(s)
        return -(s - 0.3) ** 2, s

    assert _damped(parabola, -0.09) == (-(0.5 - 0.3) ** 2, 0.5) and tried == [1.0, 0.5]
    tried.clear()
    ll, s = _damped(parabola, 0.0)                         # never as good as 0: stops below 1e-8
    assert s == 2.0 ** -27 and len(tried) == 28 and s < 1e-8 <= 2 * s
    tried.clear()
    assert _damped(parabola, -0.49)[1] == 1.0 and tried == [1.0]      # equal counts as no loss
    # a log-likelihood summed over a million rows is exact to a few units in its last place: a
    # step that loses less than 1e-14 of it is taken whole (halving it would stall Newton's steps
    # one rounding away from the estimate); a loss beyond that is not
    assert _damped(lambda s: (-1.5e6 - 1.4e-8 * s, s), -1.5e6)[1] == 1.0
    assert _damped(lambda s: (-1.5e6 - 1.6e-8 * s, s), -1.5e6)[1] == 0.5
    assert _damped(lambda s: (-1.0 - 1.1e-12 * s, s), -1.0)[1] == 0.5   # 1e-12 where |ll| < 100
    w, p = np.array([1.0, 2.0]), np.array([0.25, 0.5])
    assert _loglik(w, np.array([-1.0, 1.0]), p) == pytest.approx(np.log(0.25) + 2 * np.log(0.5))
    assert _loglik(w, np.array([1.0, 1.0]), p) == -np.inf                 # thresholds not increasing
    assert _loglik(w, np.array([1.0, -1.0]), p) == -np.inf
    assert _loglik(w, np.array([-1.0, 1.0]), np.array([0.0, 0.5])) == -np.inf


def test_logit_reads_nullable_and_integer_columns_as_numbers(binary):
    """A wave read through Arrow may hold integer, nullable-integer or boolean columns: the
    outcome, regressors and weights are read as numbers, and the fit equals the float one."""
    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"), weights="wi", se="hc1")
    as_float = binary.assign(wi=np.round(binary["w"] * 10))
    typed = as_float.assign(b=as_float["b"].astype("Int64"), x2=as_float["x2"].astype("boolean"),
                            wi=as_float["wi"].astype("Int64"))
    a, b = fit_logit(as_float, spec, {}).to_frame(), fit_logit(typed, spec, {}).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_logit_does_not_depend_on_the_scale_of_the_weights(binary):
    """Survey weights count people (tens or millions per respondent): multiplying every weight
    by a constant, however large or small, changes no estimate, SE or pseudo R²."""
    from analysis.estimation.binary import fit_logit

    spec = ModelSpec(name="m", family="logit", outcome="b", regressors=("x1", "x2"), weights="w", cluster="prov")
    base = fit_logit(binary, spec, {})
    for c in (1e-160, 1e160):
        res = fit_logit(binary.assign(w=binary["w"] * c), spec, {})
        pd.testing.assert_frame_equal(res.to_frame(), base.to_frame(), rtol=1e-9)
        assert res.stats["pseudo_r2"] == pytest.approx(base.stats["pseudo_r2"], rel=1e-9)
    # the marginal effects of the fit, given the weights as the survey has them (not normalised)
    from analysis.estimation.binary import logit_ame

    X = np.column_stack([np.ones(len(binary)), binary[["x1", "x2"]].to_numpy(float)])
    args = (X, base.params.to_numpy(), base.vcov.to_numpy(), ["Intercept", "x1", "x2"], ["x1", "x2"])
    pd.testing.assert_frame_equal(logit_ame(*args, binary["w"].to_numpy() * 3e5),
                                  logit_ame(*args, binary["w"].to_numpy()), rtol=1e-12)


def test_an_estimate_without_a_standard_error_has_no_p_value_or_interval():
    """A zero or missing SE (a coefficient fixed by the design, a failed variance) gives no
    p-value: not p = 0 from dividing by zero. The limits are then the estimate itself."""
    from analysis.estimation.results import inference

    for df in (None, 12.0):
        lo, hi, p = inference(np.array([0.5, 0.5, 0.5]), np.array([0.0, np.nan, 0.25]), df)
        assert np.isnan(p[0]) and np.isnan(p[1]) and 0 < p[2] < 1
        assert lo[0] == hi[0] == 0.5
    # a tiny SE is an SE: a coefficient per yuan of GDP (3.2e-13, SE 1.1e-13) has its p-value
    from scipy import stats

    _, _, p = inference(np.array([3.2e-13]), np.array([1.1e-13]), 40.0)
    assert p[0] == pytest.approx(2 * stats.t.sf(3.2 / 1.1, 40), rel=1e-12)


def _ordinal_data(n: int = 3000, seed: int = 5):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    y = np.digitize(X @ [0.7, -0.4, 0.3] + rng.logistic(size=n), [-1.0, 0.2, 1.5])
    w = rng.uniform(0.5, 2.0, n)
    return y, X, w


@pytest.mark.parametrize("rows, block", [(97, 61), (1000, 7), (1 << 20, 1 << 20)])
def test_ordered_logit_marginal_effects_and_brant_do_not_depend_on_the_row_blocks(monkeypatch, rows, block):
    """The passes over blocks of rows (fit, marginal effects, Brant's side-by-side logits and
    its Gram matrices) sum every block: any block size gives the one-block result."""
    from analysis.estimation import ordinal

    y, X, w = _ordinal_data()
    b0, t0, V0, ll0 = ordinal.ordered_logit(y, X, w)
    a0 = ordinal.ame_table(X, b0, t0, V0, ["a", "b", "c"], np.arange(4), w)
    r0 = ordinal.brant(y, X, ["a", "b", "c"], start=(b0, t0))
    monkeypatch.setattr(ordinal, "ROWS", rows)
    monkeypatch.setattr(ordinal, "BLOCK", block)
    b, t, V, ll = ordinal.ordered_logit(y, X, w)
    np.testing.assert_allclose(np.r_[b, t], np.r_[b0, t0], rtol=1e-9)
    np.testing.assert_allclose(V, V0, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ll, ll0, rtol=1e-12)
    a = ordinal.ame_table(X, b0, t0, V0, ["a", "b", "c"], np.arange(4), w)
    np.testing.assert_allclose(a[["ame", "se"]], a0[["ame", "se"]], rtol=1e-10, atol=1e-14)
    pd.testing.assert_frame_equal(ordinal.brant(y, X, ["a", "b", "c"], start=(b0, t0)), r0, rtol=1e-8)


def test_weighted_grams_equal_one_gram_matrix_per_pair():
    from analysis.estimation.ordinal import weighted_grams

    rng = np.random.default_rng(3)
    X, P = rng.normal(size=(500, 4)), rng.uniform(size=(500, 3))
    pairs = [(0, 0), (0, 2), (1, 2), (2, 2)]
    for block in (None, 7, 500):
        for (a, b), g in zip(pairs, weighted_grams(X, P, pairs, block)):
            np.testing.assert_allclose(g, X.T @ (X * (P[:, b] * (1 - P[:, a]))[:, None]), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_ordered_logit_with_a_linear_predictor_beyond_exp_range_equals_the_centred_fit():
    """Where |x'β| or a threshold passes 700, F(θ − η) is computed directly (exp(η) would
    overflow): a regressor shifted by 2,000 (a calendar year, say) gives the same slopes, marginal
    effects and SEs as the regressor itself, and thresholds shifted by the slope times 2,000."""
    from analysis.estimation import ordinal

    y, X, w = _ordinal_data(800)
    b, t, V, ll = ordinal.ordered_logit(y, X)
    shifted = X + [2000.0, 0, 0]
    bs, ts, Vs, lls = ordinal.ordered_logit(y, shifted)
    assert np.abs(shifted @ bs).max() > 700 and np.abs(ts).max() > 700
    np.testing.assert_allclose(bs, b, rtol=1e-6)
    np.testing.assert_allclose(ts - 2000.0 * bs[0], t, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lls, ll, rtol=1e-9)
    # and so are the marginal effects and their SEs (a shift changes no derivative)
    regs, cats = ["a", "b", "c"], np.unique(y)
    got = ordinal.ame_table(shifted, bs, ts, Vs, regs, cats)
    want = ordinal.ame_table(X, b, t, V, regs, cats)
    np.testing.assert_allclose(got[["ame", "se"]], want[["ame", "se"]], rtol=1e-5, atol=1e-9)
    z = np.linspace(-800, 800, 4001)
    out = np.empty_like(z)
    np.testing.assert_array_equal(ordinal._F_into(z, out), ordinal._F(z))


def test_weighted_ordered_logit_equals_the_fit_on_rows_repeated_by_their_weights():
    """Integer weights are frequencies: the weighted fit on rows in any order equals the fit on
    each row repeated that many times (an unweighted fit, checked against statsmodels below)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from analysis.estimation.ordinal import ordered_logit

    y, X, _ = _ordinal_data(600, seed=9)
    w = np.random.default_rng(4).integers(1, 4, len(y)).astype(float)
    b, t, _, ll = ordered_logit(y, X, w)                         # rows not in category order
    rep = np.repeat(np.arange(len(y)), w.astype(int))
    br, tr, _, llr = ordered_logit(y[rep], X[rep])
    np.testing.assert_allclose(np.r_[b, t], np.r_[br, tr], rtol=1e-8)
    np.testing.assert_allclose(ll, llr, rtol=1e-10)
    sm_fit = OrderedModel(y[rep], X[rep], distr="logit").fit(method="newton", disp=False, tol=1e-12, maxiter=100)
    np.testing.assert_allclose(b, sm_fit.params[:3], rtol=1e-5)
    assert np.abs(b - ordered_logit(y, X)[0]).max() > 1e-3     # the weights matter here


def test_a_brant_test_without_an_estimate_leaves_the_ordered_logit_standing(ordered):
    """Where the answers above a threshold are so few that a regressor separates them (here none
    of the five top answers has d = 1), the Brant test's binary logit of that threshold has no
    estimate: the test is left out with the reason, naming the threshold by its answer code, and
    the ordered logit itself is the one statsmodels fits (it was dropped whole, as collinear)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from analysis.estimation.ordinal import BrantUndefined, brant, fit_ologit
    from analysis.report.pages.determinants import brant_absent

    rng = np.random.default_rng(5)
    df = ordered.assign(d=rng.integers(0, 2, len(ordered)).astype(float))
    top = df.index[(df["o"] == 4) & (df["d"] == 0)][:5]
    df.loc[(df["o"] == 4) & ~df.index.isin(top), "o"] = 3
    spec = ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "x2", "d"))
    res = fit_ologit(df, spec, {})
    assert "brant" not in res.tables and "answers above 3" in res.stats["brant_absent"]
    assert res.stats["brant_absent"] == (      # the reader's whole reason, in the English edition
        "the binary logit of answers above 3 against the others has no estimate on the complete rows "
        "of this wave (too few answers on one side of that threshold: a regressor separates them), so "
        "the test is not defined there; the ordered logit itself is estimated")
    fit = OrderedModel(df["o"], df[["x1", "x2", "d"]], distr="logit").fit(method="newton", disp=0)
    assert res.stats["llf"] == pytest.approx(fit.llf, rel=1e-9)
    assert brant_absent({"o": res}, "o") == f"No Brant test on this wave: {res.stats['brant_absent']}."
    y = np.searchsorted([1, 2, 3, 4], df["o"].to_numpy())
    with pytest.raises(BrantUndefined, match="answers above 3"):
        brant(y, df[["x1", "x2", "d"]].to_numpy(float), ["x1", "x2", "d"], cats=np.array([1, 2, 3, 4]))
    full = fit_ologit(ordered, ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "x2")), {})
    assert "brant_absent" not in full.stats and brant_absent({"o": full}, "o") == ""


@pytest.mark.parametrize("seed, separation", [(1, "complete"), (5, "complete"), (3, "quasi"), (7, "quasi")])
def test_a_brant_logit_that_settles_on_a_separated_answer_has_no_test_not_a_crash_or_p_of_1(seed, separation):
    """Answer 5 exactly where x2 > 1.3 (complete separation), or only where a dummy is 1 (quasi):
    the binary logit of answers above 4 "converges" because its fitted π round to 0 or 1. Its
    information is then singular: the test is left out naming that threshold (it crashed the
    whole model, or gave χ² ≈ 0 and p = 1 for every term), and the ordered logit stands."""
    from analysis.estimation.ordinal import fit_ologit

    rng = np.random.default_rng(seed)
    n = 400
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.5).astype(float) if separation == "quasi" else rng.normal(size=n)
    y = np.array([1, 2, 4])[np.digitize(0.8 * x1 + rng.logistic(size=n), [-1.0, 0.3])]
    top = ((x2 == 1) & (rng.random(n) < 0.15)) if separation == "quasi" else (x2 > 1.3)
    df = pd.DataFrame({"sat": np.where(top, 5, y), "x1": x1, "x2": x2})
    res = fit_ologit(df, ModelSpec(name="o", family="ologit", outcome="sat", regressors=("x1", "x2")), {})
    assert "brant" not in res.tables and "answers above 4" in res.stats["brant_absent"]
    assert np.isfinite(res.stats["llf"]) and np.isfinite(res.params).all()


def test_an_outcome_of_two_answers_has_no_brant_test(ordered):
    """With two answers there is one threshold, one binary logit and no slopes to compare: no
    Brant table (it read χ² 0 on 0 df, p NaN), the reason instead."""
    from analysis.estimation.ordinal import BrantUndefined, brant, fit_ologit

    two = ordered.assign(o=(ordered["o"] > 2).astype(int) + 1)
    res = fit_ologit(two, ModelSpec(name="o", family="ologit", outcome="o", regressors=("x1", "x2")), {})
    assert "brant" not in res.tables and "takes 2 values" in res.stats["brant_absent"]
    assert res.stats["categories"] == 2
    with pytest.raises(BrantUndefined, match="takes 2 values"):
        brant(two["o"].to_numpy() - 1, two[["x1", "x2"]].to_numpy(float), ["x1", "x2"])
