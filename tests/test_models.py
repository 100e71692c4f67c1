"""Determinant models: wild bootstrap and Oaxaca–Blinder checked against direct computation,
results are immutable and render, parameter recovery on replica draws."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json

import warnings
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.decomposition import oaxaca
from analysis.estimation.regression import RegressionError, cluster_vcov, wild_cluster_bootstrap
from analysis.estimation.regression import unit_sums, wild_stats as _wild_stats
from analysis.estimation.regression import wls as _wls
from analysis.estimation.study import build_study
from analysis.estimation.frames import model_frame
from analysis.estimation.suite import ModelSpecError, fit_model, fit_models
from analysis.i18n import say
from analysis.settings import load_settings
from tests.conftest import shared, with_villagers


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


def _toy(seed=0, G=12, n=240, beta=(1.0, 0.5, 0.0)):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(G), n // G)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n) + 0.3 * g / G])
    y = X @ np.array(beta) + rng.normal(size=G)[g] + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return y, X, w, g


@pytest.mark.parametrize("restricted", [False, True])
def test_vectorised_wild_bootstrap_equals_refitting_each_replicate(restricted):
    """The replicates solved from cluster sums equal refitting y* = Xβ̃ + v_g e on the rows, for
    the unrestricted fit and for the fit with β_2 = 0 imposed (WCR)."""
    y, X, w, g = _toy()
    G = g.max() + 1
    beta, ainv, e = _wls(y, X, w)
    if restricted:
        br, _, e = _wls(y, X[:, :2], w)
        beta = np.r_[br, 0.0]
    V = np.random.default_rng(1).choice([-1.0, 1.0], size=(G, 25))
    H, xy, _ = unit_sums(X, w, g, G, y)
    b_vec, se_vec = _wild_stats(H, xy, beta, V, ainv, len(y))
    for r in range(V.shape[1]):
        ystar = X @ beta + V[g, r] * e
        b_r, ainv_r, e_r = _wls(ystar, X, w)
        cov_r, _ = cluster_vcov(X, w, e_r, g, ainv_r)
        np.testing.assert_allclose(b_vec[:, r], b_r, rtol=1e-10)
        np.testing.assert_allclose(se_vec[:, r], np.sqrt(np.diag(cov_r)), rtol=1e-10)


def test_wild_bootstrap_p_values_and_intervals():
    y, X, w, g = _toy(beta=(1.0, 0.8, 0.0))
    out = wild_cluster_bootstrap(y, X, w, g, [1, 2], reps=999, weights="webb", seed=3)
    strong, null = out.iloc[0], out.iloc[1]
    assert strong["wild_p"] < 0.01 and strong["wild_ci_low"] > 0
    assert 0 <= null["wild_p"] <= 1 and null["wild_ci_low"] < null["estimate"] < null["wild_ci_high"]
    with pytest.raises(RegressionError, match="rademacher, webb"):
        wild_cluster_bootstrap(y, X, w, g, [1], weights="mammen")


def test_wild_bootstrap_has_nominal_size_coverage_and_power_on_simulated_data():
    """Known truth (β₂ = 0 in 400 samples of 12 clusters, Webb, B = 199): the two-sided test
    rejects at 5 % and the 95 % interval covers β₂ at rates inside the 99.9 % binomial band
    around their nominal values; at β₂ = 0.5 it rejects most of the time.  A bootstrap that
    never rejects, always rejects, or whose interval is not reversed or too narrow fails."""
    from scipy.stats import binom

    sims = 400
    lo, hi = binom.ppf([0.0005, 0.9995], sims, 0.05) / sims
    reject, cover, power = [], [], []
    for s in range(sims):
        y, X, w, g = _toy(seed=1000 + s, beta=(1.0, 0.5, 0.0))
        y = y + np.random.default_rng(s).exponential(1.0, len(y)) - 1.0      # skewed errors
        out = wild_cluster_bootstrap(y, X, w, g, [2], reps=199, weights="webb", seed=s).iloc[0]
        reject.append(out["wild_p"] < 0.05)
        cover.append(out["wild_ci_low"] <= 0.0 <= out["wild_ci_high"])
        if s < 100:
            y1 = y + 0.5 * X[:, 2]
            power.append(wild_cluster_bootstrap(y1, X, w, g, [2], reps=199, weights="webb",
                                                seed=s)["wild_p"].iloc[0] < 0.05)
    assert lo <= np.mean(reject) <= hi, np.mean(reject)
    assert 1 - hi <= np.mean(cover) <= 1 - lo, np.mean(cover)
    assert np.mean(power) > 0.8, np.mean(power)


def test_oaxaca_components_add_up_and_match_group_regressions():
    rng = np.random.default_rng(5)
    n = 400
    a = rng.random(n) < 0.4
    X = np.column_stack([np.ones(n), rng.normal(1 + a, 1), rng.normal(size=n)])
    y = X @ np.array([2.0, 1.0, 0.5]) + a * (X[:, 1] * 0.5 + 1) + rng.normal(size=n)
    w = rng.uniform(0.5, 1.5, n)
    summ, detail = oaxaca(y, X, w, a, ["Intercept", "x1", "x2"])
    s = summ.set_index("component")["estimate"]
    gap = np.average(y[a], weights=w[a]) - np.average(y[~a], weights=w[~a])
    assert s["gap"] == pytest.approx(gap, rel=1e-12)
    assert s["explained (two-fold)"] + s["unexplained (two-fold)"] == pytest.approx(gap, rel=1e-12)
    assert s["endowments (three-fold)"] + s["coefficients (three-fold)"] + s["interaction (three-fold)"] \
        == pytest.approx(gap, rel=1e-12)
    assert detail["explained"].sum() == pytest.approx(s["explained (two-fold)"], rel=1e-12)
    bb = _wls(y[~a], X[~a], w[~a])[0]
    xa, xb = np.average(X[a], axis=0, weights=w[a]), np.average(X[~a], axis=0, weights=w[~a])
    assert s["endowments (three-fold)"] == pytest.approx((xa - xb) @ bb, rel=1e-12)


@pytest.fixture(scope=shared)
def fitted(study):
    return fit_models(study, names=["wls_region", "multilevel", "ologit_health",
                                             "logit_old_age_insurance", "oaxaca_east_west"])


def test_the_logit_marginal_effects_table_holds_every_logit_fitted_by_default(fitted):
    """The determinants page asks for the table without naming models: it holds every logit of the
    set (one a wave's models.yml adds under another name included), in the set's order, and no
    model of another family; named models give the same rows."""
    import dataclasses

    from analysis.estimation.results import ModelSet
    from analysis.report.pages import determinants as det

    r = fitted["logit_old_age_insurance"]
    mine = dataclasses.replace(r, name="my_logit", label="My logit")
    ms = ModelSet((fitted["wls_region"], r, fitted["ologit_health"], mine))
    t = det.logit_ame_table(ms)
    n = len(r.tables["ame"])
    assert t["model"].tolist() == [r.label] * n + ["My logit"] * n
    pd.testing.assert_frame_equal(t, det.logit_ame_table(ms, names=("logit_old_age_insurance", "my_logit")))


def test_the_imputation_table_pools_enough_imputations_for_its_missing_information(study):
    """The determinants page's imputation table (called without arguments) pools 20 completed data
    sets: at least 100 × the largest fraction of missing information, White, Royston and Wood's
    (2011) rule for Monte Carlo error small beside the SEs (here the FMI is about 0.09: 5 would
    be too few)."""
    from analysis.report.pages import determinants as det

    t = det.mice_table(study)
    assert t.attrs["imputations"] == 20
    assert t.attrs["imputations"] >= 100 * t["missing information"].max() > 5


def test_the_marginal_effects_figure_names_each_term_by_its_label(fitted):
    """The determinants page's figure of an ordered logit's marginal effects (and the CSV beneath
    it) names each regressor as the model's tables do ("internet use"), not by its column id."""
    from analysis.report.pages import determinants as det

    r = fitted["ologit_health"]
    drawn = det.ame_figure(fitted, "ologit_health", synthetic=True).ruralgov_data
    ids = list(dict.fromkeys(r.tables["ame"]["term"]))
    assert list(dict.fromkeys(drawn["term"])) == [r.term_labels[t] for t in ids]
    assert any(r.term_labels[t] != t for t in ids)                     # the premise: labels differ


def test_results_are_immutable_and_tidy(fitted, study):
    r = fitted["wls_region"]
    with pytest.raises(AttributeError):
        r.params = None  # type: ignore[misc]
    t = r.to_frame()
    assert list(t.columns)[:9] == ["model", "term", "label", "estimate", "se", "ci_low", "ci_high", "p", "n"]
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    assert r.stats["n_clusters"] == 22
    # n: the respondents the fit used (its complete cases), not its clusters
    assert (t["n"] == round(r.stats["complete_share"] * study.n)).all() and t["n"].iloc[0] > 22
    assert set(r.tables["wild"]["term"]) == set(t["term"])


def test_the_logit_marginal_effects_table_tests_on_the_model_s_df_or_the_normal(fitted):
    """The determinants page's AME table: p-values on t with the model's df (the design's, as
    svyglm), on the normal for a model without one (HC1), recomputed here from scipy; Holm across
    the table."""
    import dataclasses

    from scipy import stats

    from analysis.estimation.results import ModelSet
    from analysis.report.pages import determinants as det

    r = fitted["logit_old_age_insurance"]
    df = r.df_inference
    assert df and r.stats["n_psu"] > df > 0
    hc1 = dataclasses.replace(r, name="hc1", label="HC1", df_inference=None)
    t = det.logit_ame_table(ModelSet((r, hc1)), names=("logit_old_age_insurance", "hc1", "absent"))
    ame = r.tables["ame"]
    z = np.abs(ame["ame"].to_numpy() / ame["se"].to_numpy())
    want = np.r_[2 * stats.t.sf(z, df), 2 * stats.norm.sf(z)]
    np.testing.assert_allclose(t["p"], want, rtol=1e-10)
    np.testing.assert_allclose(t["AME (pp)"], 100 * np.r_[ame["ame"], ame["ame"]], rtol=1e-12)
    np.testing.assert_allclose(t["SE (pp)"], 100 * np.r_[ame["se"], ame["se"]], rtol=1e-12)
    assert list(t["model"]) == [r.label] * len(ame) + ["HC1"] * len(ame)
    order = np.argsort(want)
    holm = np.minimum(np.maximum.accumulate((len(want) - np.arange(len(want))) * want[order]), 1)
    np.testing.assert_allclose(t["p (Holm)"].to_numpy()[order], holm, rtol=1e-12)


def test_the_few_clusters_table_sets_cr1_on_g_minus_1_df_beside_the_wild_bootstrap(fitted):
    """The determinants page's "few clusters" table, row by row: CR1 p and interval recomputed
    from scipy on 22 − 1 df, the wild bootstrap's p and interval as fitted, and Holm's adjustment
    (statsmodels' multipletests) of the wild p-values floored at 1/(B + 1)."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    from analysis.report.pages import determinants as det

    r = fitted["wls_region"]
    wb = r.tables["wild"].set_index("term")
    terms = list(wb.index)
    t = det.wild_table(fitted).set_index("term")
    assert list(t.index) == [r.term_labels[k] for k in terms]
    b, se = r.params[terms].to_numpy(), r.bse[terms].to_numpy()
    np.testing.assert_allclose(t["estimate"], b, rtol=1e-9)      # the bootstrap's own fit
    np.testing.assert_allclose(t["CR1 p"], 2 * stats.t.sf(np.abs(b / se), 21), rtol=1e-10)
    q = stats.t.ppf(0.975, 21)
    np.testing.assert_allclose(t["CR1 CI low"], b - q * se, rtol=1e-10)
    np.testing.assert_allclose(t["CR1 CI high"], b + q * se, rtol=1e-10)
    for col, src in (("wild p", "wild_p"), ("wild CI low", "wild_ci_low"), ("wild CI high", "wild_ci_high")):
        np.testing.assert_array_equal(t[col], wb[src])
    reps = int(r.tables["wild"].attrs["reps"])
    floored = np.maximum(wb["wild_p"].to_numpy(), 1 / (reps + 1))
    np.testing.assert_allclose(t["wild p (Holm)"], multipletests(floored, method="holm")[1], rtol=1e-12)


def test_the_few_clusters_table_shows_only_its_bootstrap_p_at_the_bootstrap_s_resolution(fitted):
    """With 199 wild draws the bootstrap p of internet use (0) reads "< 0.005", its resolution;
    the analytic CR1 p beside it (about 2e-6) keeps its own precision ("< 0.001")."""
    import dataclasses

    from analysis.estimation.results import ModelSet
    from analysis.publishing.formats import format_frame
    from analysis.report.pages import determinants as det

    r = fitted["wls_region"]
    wild = r.tables["wild"].copy()
    wild.attrs = {**r.tables["wild"].attrs, "reps": 199}
    ms = ModelSet((dataclasses.replace(r, tables={**r.tables, "wild": wild}),))
    assert det.wild_p_reps(ms) == {"wild p": 199, "wild p (Holm)": 199}
    t = det.wild_table(ms)
    shown = format_frame(t, reps=det.wild_p_reps(ms))[0].set_index(t["term"])
    row = shown.loc[r.term_labels["internet_use"]]
    assert t.set_index("term").loc[r.term_labels["internet_use"], "CR1 p"] < 1e-4
    assert (row["CR1 p"], row["wild p"]) == ("< 0.001", "< 0.005")
    # Holm's adjustment takes the wild p-values floored at that resolution, 1/200 (not 1/1000)
    from statsmodels.stats.multitest import multipletests

    floored = np.maximum(wild["wild_p"].to_numpy(), 1 / 200)
    np.testing.assert_allclose(t["wild p (Holm)"], multipletests(floored, method="holm")[1], rtol=1e-12)


def test_multilevel_icc_and_ame_tables(fitted):
    ml = fitted["multilevel"]
    assert 0 < ml.stats["icc_conditional"] < ml.stats["icc"] < 1
    ame = fitted["ologit_health"].tables["ame"]
    # the marginal effects of one regressor on the five category probabilities sum to zero
    np.testing.assert_allclose(ame.groupby("term")["ame"].sum().to_numpy(), 0, atol=1e-12)


def test_the_page_s_icc_numbers_are_the_empty_and_the_conditional_model_s(fitted):
    """The determinants page glues both intraclass correlations, each the fit's own: the empty
    model's and the one conditional on the covariates (they differ)."""
    from analysis.report.pages import determinants as det

    ml = fitted["multilevel"].stats
    out = det.model_stats(fitted)
    assert (out["icc"], out["icc_conditional"]) == (ml["icc"], ml["icc_conditional"])
    assert out["icc"] != out["icc_conditional"]


def test_multilevel_prose_names_the_province_covariates_and_their_df(fitted, monkeypatch):
    """The page says which terms are tested between provinces and on how many df, from the fit:
    the replica's 22 provinces less 3 province covariates less the intercept, and N − 22 − 7."""
    from analysis.report.pages import determinants as det

    ml = fitted["multilevel"]
    assert ml.stats["group_terms"] == ("urban_rate", "log_gdp_pc", "fiscal_exp_pc_k")
    assert ml.stats["df_group_terms"] == 22 - 3 - 1 and ml.stats["df_unit_terms"] == ml.nobs - 22 - 7
    text = det.multilevel_df_text(ml)
    assert text == ("Its tests and intervals are t on the degrees of freedom of `nlme::lme`: 18 for the "
                    "province-level covariates (urbanization rate (%), log GDP per head, "
                    f"{ml.term_labels['fiscal_exp_pc_k']}: the 22 provinces less the province-level terms "
                    f"and the intercept); {ml.nobs - 29} for the respondents' characteristics.")
    assert det.model_stats(fitted)["ml_df_txt"] == text
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    zh = det.multilevel_df_text(ml)
    assert "nlme::lme" in zh and "城镇化率" in zh and "18" in zh and "；" in zh
    # a model without province covariates says only the respondents' df
    no_l2 = dataclasses.replace(ml, stats=MappingProxyType({**ml.stats, "group_terms": (),
                                                            "df_group_terms": None}))
    monkeypatch.delenv("RURALGOV_LANG")
    assert "province-level" not in det.multilevel_df_text(no_l2)
    # as many province covariates as the provinces allow: said, not a negative df
    none = dataclasses.replace(ml, stats=MappingProxyType({**ml.stats, "n_groups": 4, "df_group_terms": 0.0}))
    assert ("none for the province-level covariates (urbanization rate (%), log GDP per head, "
            f"{ml.term_labels['fiscal_exp_pc_k']}): the 4 provinces leave no degree of freedom"
            ) in det.multilevel_df_text(none)
    # a model grouped by something else (data/models.yml's group) says so, not "provinces"
    county = dataclasses.replace(ml, stats=MappingProxyType({**ml.stats, "group": "county"}))
    text = det.multilevel_df_text(county)
    assert "province" not in text and (
        "18 for the covariates constant within each county (urbanization rate (%), log GDP per head, "
        f"{ml.term_labels['fiscal_exp_pc_k']}: the 22 groups less those terms and the intercept)") in text
    few = dataclasses.replace(county, stats=MappingProxyType({**county.stats, "n_groups": 4,
                                                            "df_group_terms": 0.0}))
    assert "the 4 groups leave no degree of freedom" in det.multilevel_df_text(few)
    assert fitted["multilevel"].stats["group"] == "province"


def test_multilevel_icc_sentence_gives_the_frame_s_notes_in_the_edition_s_language(fitted, monkeypatch):
    """The model is fitted once for both editions (the build's cache): its frame's notes keep the
    message they came from, so the Chinese page says them in Chinese, not in the English of the
    first edition built; pickled (as the cache stores them) they still do."""
    import pickle

    from analysis.report import context  # noqa: F401 - pickles results as the build's cache does
    from analysis.report.pages import determinants as det

    ml = fitted["multilevel"]
    year = ml.stats["notes"][0].values["year"]
    assert ml.stats["notes"] == (f"province covariates are official statistics of {year}",)
    assert det.multilevel_icc_text(ml) == (
        f"The intraclass correlation is {ml.stats['icc']:.2f} in the empty model (no covariates) and "
        f"{ml.stats['icc_conditional']:.2f} conditional on the covariates; province covariates are "
        f"official statistics of {year}.")
    again = pickle.loads(pickle.dumps(ml))
    assert again.stats["notes"] == ml.stats["notes"]
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    for r in (ml, again):
        zh = det.multilevel_icc_text(r)
        assert zh.endswith(f"；省级协变量为 {year} 年的官方统计数据。") and "official" not in zh, zh
        assert det.model_stats(fitted)["ml_icc_txt"] == zh
    none = dataclasses.replace(ml, stats=MappingProxyType({**ml.stats, "notes": ()}))
    assert det.multilevel_icc_text(none).endswith("在控制协变量后为 " + f"{ml.stats['icc_conditional']:.2f}。")


def test_regression_table_renders(fitted):
    tab = fitted.table()
    assert {"N", "clusters", "ICC, empty model", "ICC, with the covariates"} <= set(tab.iloc[:, 0])
    assert "region effects" in set(tab.iloc[:, 0])
    assert "\\begin{tabular}" in fitted.to_latex()
    from analysis.publishing.provenance import survey_source
    from analysis.publishing.tables import regression_html

    html = regression_html(tab, title="t", source=survey_source(build_study("2020-replica").wave))
    assert "Synthetic replica" in html and "<table" in html


def test_unknown_model_and_family(study):
    with pytest.raises(ModelSpecError, match="unknown model"):
        fit_models(study, names=["nope"])


def test_models_cli_json_lists_every_model():
    res = CliRunner().invoke(app, ["models", "2020-replica", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [m["name"] for m in out["models"]] == [m.name for m in load_settings().models.models]
    assert all(m["coefficients"] for m in out["models"])


def test_the_models_command_prints_each_value_to_the_last_digit_and_each_model_s_own_n(study):
    """``ruralgov models --format csv`` is the set's tidy table as fitted (estimates, SEs, limits,
    p and Holm p unrounded: a p of 1e-6 is not 0.000000); the table format's titles give each
    model's own n, its complete cases, not the wave's respondents."""
    names = ["wls_region", "logit_old_age_insurance"]
    ms = fit_models(study, names=names)
    args = ["models", "2020-replica", *[a for m in names for a in ("--model", m)]]
    res = CliRunner().invoke(app, [*args, "--format", "csv"])
    assert res.exit_code == 0, res.output
    got, want = pd.read_csv(io.StringIO(res.stdout)), ms.to_frame()
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    for col in ("estimate", "se", "ci_low", "ci_high", "p", "p_holm"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, err_msg=col)
    assert (want["p"] < 1e-5).any()
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    ns = [r.nobs for r in ms]
    assert all(n < study.n for n in ns)
    for r in ms:
        assert f"({r.family}, n = {r.nobs})" in res.stdout


def test_cli_json_writes_non_finite_numbers_as_null_and_numpy_scalars_as_numbers():
    """What the models and sensitivity commands print is strict JSON: an SE or index that is
    NaN or infinite is null, as in the tables the other commands print; numpy arrays are lists,
    numpy scalars keep their type and value; text in Chinese is written as such."""
    from analysis.cli import _json_finite, _write_json

    obj = {"se": np.float64("nan"), "t": [np.inf, -np.inf, 1.5], "n": np.int64(7), "p": np.float32(0.25),
           "ok": np.bool_(True), "name": "河南", "nested": ({"x": float("nan")},),
           "vector": np.array([0.5, np.nan]), "by_df": {np.int64(3): np.float64(0.1)}}
    assert _json_finite(obj) == {"se": None, "t": [None, None, 1.5], "n": 7, "p": 0.25, "ok": True,
                                 "name": "河南", "nested": [{"x": None}], "vector": [0.5, None],
                                 "by_df": {3: 0.1}}
    assert type(_json_finite(obj)["n"]) is int
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        _write_json(obj)
    text = buf.getvalue()
    assert "河南" in text and "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {**_json_finite(obj), "by_df": {"3": 0.1}}    # JSON keys are text


@pytest.mark.slow
def test_confidence_interval_coverage_over_replica_draws():
    """200 uncalibrated replica draws: the 95 % CIs of the province-effects model cover the
    generator's true coefficients 90–99 % of the time."""
    from analysis.estimation.index import IndexConfig, build_index
    from analysis.estimation.linear import fit_linear
    from analysis.replica import TRUE_COEFFICIENTS, generate
    from analysis.settings import ModelSpec

    truth = {"internet_use": TRUE_COEFFICIENTS["internet_use"], "education": TRUE_COEFFICIENTS["education"],
             "log_income": TRUE_COEFFICIENTS["log_income"], "distance_km": TRUE_COEFFICIENTS["distance_km"],
             "participation": TRUE_COEFFICIENTS["participation"]}
    spec = ModelSpec(name="mc", family="wls", outcome="overall", regressors=tuple(truth),
                     fixed_effects=("province",), cluster="province", weights="weight")
    covered = []
    for seed in range(200):
        v = generate(seed=1000 + seed, calibrate=False)["villagers"]
        items = [c for c in v.columns if c.endswith(("_org", "_sys", "_means", "_concept"))]
        v = v.assign(overall=build_index(v[items].mask(v[items] > 5), IndexConfig()).scores["overall"],
                     log_income=np.log(v["hh_income"]))
        df = v[["overall", *truth, "province", "weight"]].dropna().reset_index(drop=True)
        t = fit_linear(df, spec, {}).to_frame().set_index("term")
        covered += [(t.loc[k, "ci_low"] <= b <= t.loc[k, "ci_high"]) for k, b in truth.items()]
    rate = float(np.mean(covered))
    assert 0.90 <= rate <= 0.99, rate


def test_diagnostics_are_those_of_the_weighted_model_reported(study):
    """The diagnostics describe the WLS model the page reports: its weights and fixed effects
    (checked against a hand-built whitened regression)."""
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import design_matrix
    from analysis.estimation.suite import diagnostics

    d = diagnostics(study)
    assert d["weighted"] is True
    spec = study.settings.models.get("wls_region")
    df = model_frame(study, spec).data
    X, names = design_matrix(df, list(spec.regressors), list(spec.fixed_effects))
    assert d["vif"].set_index("term").loc["education", "vif"] == pytest.approx(
        variance_inflation_factor(X, names.index("education")))
    sw = np.sqrt(df["weight"].to_numpy() / df["weight"].mean())
    y = df["overall"].to_numpy()
    whitened = sm.OLS(y * sw, X * sw[:, None]).fit()
    bp = het_breuschpagan(whitened.resid, X)
    assert d["breusch_pagan"]["lm"] == pytest.approx(bp[0], rel=1e-10)
    unweighted = het_breuschpagan(sm.OLS(y, X).fit().resid, X)
    assert abs(d["breusch_pagan"]["lm"] - unweighted[0]) > 1e-6    # not the unweighted model's
    assert d["n"] == len(df)
    # the page's table prints the statistic and its p, each in its column
    from analysis.report.pages.determinants import diagnostics_tables

    row = diagnostics_tables(study, fit_models(study, names=["wls_region"]))[1].iloc[0]
    assert row["statistic"] == f"{bp[0]:,.2f}" and row["statistic"] != row["p"]


def test_reset_does_not_depend_on_the_outcome_s_unit(study, monkeypatch):
    """RESET's F and p of the headline model are the same with its outcome in units a million
    times larger (an outcome in yuan rather than a score): the powers of the fitted values are
    taken standardised (raw ŷ² and ŷ³ of values near 1e8 leave a singular augmented model)."""
    import dataclasses

    from analysis.estimation import suite

    base = suite.diagnostics(study)["reset"]
    real = suite.model_frame

    def scaled(st, spec):  # type: ignore[no-untyped-def]
        mf = real(st, spec)
        return dataclasses.replace(mf, data=mf.data.assign(**{spec.outcome: mf.data[spec.outcome] * 1e6}))

    monkeypatch.setattr(suite, "model_frame", scaled)
    got = suite.diagnostics(study)["reset"]
    assert got["f"] == pytest.approx(base["f"], rel=1e-6) and got["p"] == pytest.approx(base["p"], rel=1e-6)


def test_diagnostics_weight_only_a_weighted_least_squares_model_that_names_weights(study, monkeypatch):
    """An OLS model naming a weight column, and a WLS model naming none, are diagnosed unweighted,
    exactly as the plain OLS model (weights enter least squares only as WLS)."""
    from analysis.estimation.suite import diagnostics

    models = study.settings.models
    base = models.get("wls_region").model_copy(update={"wild": None})
    variants = {"ols_w": base.model_copy(update={"family": "ols"}),
                "wls_none": base.model_copy(update={"weights": None}),
                "ols": base.model_copy(update={"family": "ols", "weights": None})}
    get = type(models).get
    monkeypatch.setattr(type(models), "get", lambda self, name: variants.get(name) or get(self, name))
    plain = diagnostics(study, model="ols")
    assert plain["weighted"] is False
    for name in ("ols_w", "wls_none"):
        d = diagnostics(study, model=name)
        assert d["weighted"] is False, name
        for key in ("breusch_pagan", "reset"):
            assert d[key] == pytest.approx(plain[key], rel=1e-12), (name, key)
        assert d["cooks_max"] == pytest.approx(plain["cooks_max"], rel=1e-12), name


def test_robustness_over_index_constructions(study):
    from analysis.estimation.suite import robustness

    r = robustness(study)
    assert r["construction"].nunique() == 8
    # the default construction named as the pages name it: normalisation, weighting, aggregation
    c = study.construction
    assert (c.normalisation, c.weighting) == ("minmax", "equal")
    assert f"default (minmax, equal, {c.aggregation})" in set(r["construction"])
    base = r[r["construction"].str.startswith("default")].set_index("term")["estimate"]
    ref = fit_models(study, names=["wls_region"])["wls_region"].params
    np.testing.assert_allclose(base.to_numpy(), ref[base.index].to_numpy(), rtol=1e-12)


def test_oaxaca_bootstrap_from_psu_sums_equals_refitting_each_replicate():
    from analysis.estimation.sensitivity import rao_wu_multipliers, rao_wu_weights

    rng = np.random.default_rng(11)
    n = 600
    strata = rng.integers(0, 4, n)
    psu = strata * 10 + rng.integers(0, 5, n)
    a = rng.random(n) < 0.5
    X = np.column_stack([np.ones(n), rng.normal(1 + a, 1), rng.normal(size=n)])
    y = X @ np.array([1.0, 0.7, -0.3]) + a + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    units, mult = rao_wu_multipliers(strata, psu, 40, np.random.default_rng(3))
    summ, detail = oaxaca(y, X, w, a, ["Intercept", "x1", "x2"], units=units, multipliers=mult)
    refits = np.array([oaxaca(y, X, w * mult[units, r], a, ["Intercept", "x1", "x2"])[0]["estimate"]
                       for r in range(mult.shape[1])])
    np.testing.assert_allclose(summ["se"], refits.std(axis=0, ddof=1), rtol=1e-9)
    W = rao_wu_weights(w, strata, psu, 40, np.random.default_rng(3))
    by_matrix = oaxaca(y, X, w, a, ["Intercept", "x1", "x2"], W)
    np.testing.assert_allclose(by_matrix[0]["se"], summ["se"], rtol=1e-9)
    np.testing.assert_allclose(by_matrix[1]["se"], detail["se"], rtol=1e-9)


def test_ordered_logit_newton_equals_statsmodels_ordered_model():
    import warnings

    from statsmodels.miscmodels.ordinal_model import OrderedModel

    from analysis.estimation.ordinal import ordered_logit

    rng = np.random.default_rng(8)
    n = 3000
    X = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.4, n), rng.uniform(0, 3, n)])
    latent = X @ np.array([0.8, -0.5, 0.3]) + rng.logistic(size=n)
    y = np.digitize(latent, [-1.0, 0.2, 1.5, 2.5])          # five categories
    beta, theta, V, ll = ordered_logit(y, X)
    mod = OrderedModel(y, X, distr="logit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mod.fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-12)
    np.testing.assert_allclose(beta, fit.params[:3], rtol=1e-6)
    np.testing.assert_allclose(theta, mod.transform_threshold_params(fit.params)[1:-1], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(V))[:3], fit.bse[:3], rtol=1e-4)
    assert ll == pytest.approx(fit.llf, rel=1e-10)


def test_oaxaca_bootstrap_resamples_the_wave_s_villages_within_provinces(study):
    from analysis.estimation.frames import model_frame

    spec = next(m for m in study.settings.models.models if m.family == "oaxaca")
    df = model_frame(study, spec, design_columns=True).data
    dc = study.wave.design_columns
    assert {dc["strata"], dc["psu"]} <= set(df.columns)


@pytest.mark.parametrize("n_units", [7, 200, 300, 2000, 40_000])
@pytest.mark.parametrize("rows_by_unit", [False, True], ids=["rows-mixed", "rows-by-unit"])
def test_unit_sums_equal_sums_over_each_unit_s_rows(n_units, rows_by_unit):
    """Per unit, the sums of its rows, in both paths: up to 256 units (small integer codes, up to
    202 here, past the 127 a byte holds) and more (up to 40,001, past the 32,767 of two bytes)."""
    from analysis.estimation.regression import unit_sums

    rng = np.random.default_rng(n_units)
    n = 5000
    X, y, w = rng.normal(size=(n, 4)), rng.normal(size=n), rng.uniform(0.2, 3, n)
    u = rng.integers(0, n_units, n)
    if rows_by_unit:                    # a wave stored unit by unit (no reordering needed)
        u = np.sort(u)
    gram, xy, sx = unit_sums(X, w, u, n_units + 2, y)      # two units without rows
    for j in (0, n_units // 2, n_units - 1, n_units + 1, int(u.max())):     # the last unit with rows
        m = u == j
        np.testing.assert_allclose(gram[j], X[m].T @ (X[m] * w[m, None]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xy[j], X[m].T @ (w[m] * y[m]), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sx[j], w[m] @ X[m], rtol=1e-12, atol=1e-12)
    two = unit_sums(X[:2], w[:2], np.array([1, 0]), 2, y[:2])  # two rows, the second unit first
    np.testing.assert_allclose(two[1][0], X[1] * w[1] * y[1], rtol=1e-14)
    np.testing.assert_allclose(two[1][1], X[0] * w[0] * y[0], rtol=1e-14)
    three = unit_sums(X[:3], w[:3], np.array([0, 2, 1]), 3, y[:3])  # out of order after a first row of unit 0
    np.testing.assert_allclose(three[1], (X[:3] * (w[:3] * y[:3])[:, None])[[0, 2, 1]], rtol=1e-14)
    # many units (the other path): a unit in two runs of rows, after a first row of unit 0
    many = unit_sums(X[:4], w[:4], np.array([0, 299, 3, 299]), 300, y[:4])
    wxy = X[:4] * (w * y)[:4, None]
    np.testing.assert_allclose(many[1][[0, 3, 299]], [wxy[0], wxy[2], wxy[1] + wxy[3]], rtol=1e-14)
    one = unit_sums(X[:1], w[:1], np.array([5]), 300, y[:1])           # one row, and none
    np.testing.assert_allclose(one[1][5], wxy[0], rtol=1e-14)
    none = unit_sums(X[:0], w[:0], np.array([], int), 300, y[:0])
    assert none[0].shape == (300, 4, 4) and not any(a.any() for a in none)
    whole = r"^unit codes must be non-negative \(a missing group has no code\)$"   # a missing group's code
    with pytest.raises(ValueError, match=whole):
        unit_sums(X, w, np.where(np.arange(n) == 7, -1, u), n_units + 2, y)
    gram0, xy0, sx0 = unit_sums(X, w, u, n_units + 2)      # without y: no cross products with it
    assert not xy0.any()
    np.testing.assert_array_equal(gram0, gram)
    np.testing.assert_array_equal(sx0, sx)


def test_group_sums_add_each_group_s_rows_as_bincount_does():
    from analysis.estimation.regression import group_sums, within

    rng = np.random.default_rng(3)
    n, G = 4000, 9
    X, w = rng.normal(size=(n, 3)), rng.uniform(0.2, 3, n)
    g = rng.integers(0, G - 1, n)                            # the last group has no rows
    by_col = np.column_stack([np.bincount(g, weights=w * X[:, j], minlength=G) for j in range(3)])
    np.testing.assert_array_equal(group_sums(g, G, X, w), by_col)    # same additions, same order
    np.testing.assert_array_equal(group_sums(g, G, X[:, 1]), np.bincount(g, weights=X[:, 1], minlength=G))
    assert group_sums(g, G, X).shape == (G, 3) and not group_sums(g, G, X)[G - 1].any()
    # the within transformation: each column minus its group's weighted mean, 1-d and 2-d alike
    # (quietly: no group it divides by is empty)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yt, Xt = within(g, w, X[:, 0], X)
    for j in range(G - 1):
        m = g == j
        np.testing.assert_allclose(Xt[m], X[m] - np.average(X[m], axis=0, weights=w[m]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(yt, Xt[:, 0])


@pytest.mark.parametrize("reml", [True, False])
def test_random_intercept_from_group_sums_equals_statsmodels_mixedlm(reml):
    import warnings

    import statsmodels.api as sm

    from analysis.estimation.multilevel import random_intercept

    rng = np.random.default_rng(21)
    G, n = 25, 4000
    g = rng.integers(0, G, n)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.binomial(1, 0.5, n)])
    y = X @ np.array([2.0, 0.5, -1.0]) + rng.normal(0, 0.7, G)[g] + rng.normal(size=n)
    ours = random_intercept(y, X, g, reml=reml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MixedLM(y, X, g).fit(reml=reml, method="bfgs", gtol=1e-12)
    np.testing.assert_allclose(ours["beta"], fit.fe_params, rtol=1e-7)
    np.testing.assert_allclose(ours["tau2"], np.asarray(fit.cov_re)[0, 0], rtol=1e-5)
    np.testing.assert_allclose(ours["sigma2"], fit.scale, rtol=1e-6)
    assert ours["llf"] == pytest.approx(fit.llf, rel=1e-9)


@pytest.mark.parametrize("reml", [False, True])
def test_random_intercept_without_group_variance_is_ols(reml):
    """Group means pushed apart less than chance would (a negative ANOVA estimate): the
    likelihood is highest at λ = 0, and τ² is exactly 0 there, as lmer's singular fit (not the
    small positive value a bounded search stops at), so the ICC is 0; the fit is OLS."""
    from analysis.estimation.multilevel import random_intercept

    rng = np.random.default_rng(4)
    n = 2000
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    g = np.repeat(np.arange(20), n // 20)
    z = rng.normal(size=n)
    e = z - 1.5 * (np.bincount(g, weights=z) / np.bincount(g))[g]   # group means pushed apart: ICC < 0
    y = X @ np.array([1.0, 2.0]) + e
    ours = random_intercept(y, X, g, reml=reml)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    assert ours["tau2"] == 0.0                                    # the boundary, as lmer
    np.testing.assert_allclose(ours["beta"], b, rtol=1e-10)
    dof = n - X.shape[1] if reml else n
    assert ours["sigma2"] == pytest.approx(np.sum((y - X @ b) ** 2) / dof, rel=1e-10)


def test_absorbed_province_effects_give_the_dummy_regression_and_its_wild_bootstrap(study):
    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import design_matrix
    from analysis.estimation.suite import fit_model
    from analysis.settings.schemas import Wild

    spec = study.settings.models.get("wls_province").model_copy(
        update={"wild": Wild(reps=199, weights="webb", seed=5)})
    res = fit_model(study, spec)
    assert res.stats["absorbed"] == "province_en"
    df = model_frame(study, spec).data
    regs = list(spec.regressors)
    X, names = design_matrix(df, regs, ["province_en"])          # intercept + 21 dummies
    y, wt = df["overall"].to_numpy(), df["weight"].to_numpy() / df["weight"].mean()
    beta, ainv, e = _wls(y, X, wt)
    V, _ = cluster_vcov(X, wt, e, df["province"].to_numpy(), ainv)
    idx = [names.index(r) for r in regs]
    np.testing.assert_allclose(res.params[regs], beta[idx], rtol=1e-10)
    np.testing.assert_allclose(res.bse[regs], np.sqrt(np.diag(V))[idx], rtol=1e-10)
    wild = wild_cluster_bootstrap(y, X, wt, df["province"].to_numpy(), idx, reps=199,
                                  weights="webb", seed=5)
    got = res.tables["wild"]
    for col in ("estimate", "se", "wild_p", "wild_ci_low", "wild_ci_high"):
        np.testing.assert_allclose(got[col].to_numpy(), wild[col].to_numpy(), rtol=1e-9, atol=1e-12)


def _explicit_wild(y, X, w, g, j, V, level=0.95):
    """The wild cluster bootstrap written out replicate by replicate (Cameron, Gelbach & Miller
    2008; Roodman et al. 2019): WCR for the p-value (null imposed: restricted residuals), WCU for
    the percentile-t interval, each replicate refitted and its CR1 SE recomputed."""
    G = V.shape[0]
    n, k = X.shape

    def fit(yy):
        b, ainv, e = _wls(yy, X, w)
        cov, _ = cluster_vcov(X, w, e, g, ainv)
        return b, np.sqrt(np.diag(cov))

    b, se = fit(y)
    keep = [i for i in range(k) if i != j]
    br, _, er = _wls(y, X[:, keep], w)
    yr = X[:, keep] @ br
    t_obs = b[j] / se[j]
    t_r, t_u = [], []
    e = y - X @ b
    for r in range(V.shape[1]):
        bs, ses = fit(yr + V[g, r] * er)
        t_r.append(bs[j] / ses[j])
        bu, seu = fit(X @ b + V[g, r] * e)
        t_u.append((bu[j] - b[j]) / seu[j])
    p = np.mean(np.abs(t_r) >= abs(t_obs))
    lo_q, hi_q = np.quantile(t_u, [(1 - level) / 2, 1 - (1 - level) / 2])
    return p, b[j] - hi_q * se[j], b[j] - lo_q * se[j]


@pytest.mark.parametrize("beta2", [0.0, 0.15])
def test_wild_bootstrap_equals_the_replicate_by_replicate_definition(beta2):
    y, X, w, g = _toy(seed=7, beta=(1.0, 0.5, beta2))
    V = np.random.default_rng(11).choice([-1.0, 1.0], size=(g.max() + 1, 199))
    out = wild_cluster_bootstrap(y, X, w, g, [2], multipliers=V).iloc[0]
    p, lo, hi = _explicit_wild(y, X, w, g, 2, V)
    assert out["wild_p"] == pytest.approx(p, abs=1e-12)
    np.testing.assert_allclose([out["wild_ci_low"], out["wild_ci_high"]], [lo, hi], rtol=1e-9)


def test_webb_weights_have_mean_zero_and_unit_variance():
    """Webb's six points ±√0.5, ±1, ±√1.5, equally likely: mean 0, variance 1."""
    from analysis.estimation.regression import wild_weights

    v = wild_weights("webb", (6, 60_000), np.random.default_rng(0))
    points = np.sort(np.concatenate([-np.sqrt([0.5, 1.0, 1.5]), np.sqrt([0.5, 1.0, 1.5])]))
    support, counts = np.unique(v, return_counts=True)
    np.testing.assert_allclose(support, points, rtol=1e-15)
    np.testing.assert_allclose(counts / v.size, 1 / 6, atol=0.01)
    assert np.mean(points) == pytest.approx(0.0, abs=1e-15) and np.mean(points**2) == pytest.approx(1.0)


def test_icc_is_the_empty_model_s_and_equals_statsmodels(study):
    """ICC = τ²/(τ² + σ²) of the model without covariates, against statsmodels' MixedLM."""
    import warnings

    import statsmodels.api as sm

    from analysis.estimation.frames import model_frame

    res = fit_models(study, names=["multilevel"])["multilevel"]
    df = model_frame(study, study.settings.models.get("multilevel")).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        empty = sm.MixedLM(df["overall"].to_numpy(), np.ones((len(df), 1)), df["province"].to_numpy()).fit(
            reml=True, method="bfgs", gtol=1e-12)
    tau2, sig2 = float(np.asarray(empty.cov_re)[0, 0]), float(empty.scale)
    assert res.stats["icc"] == pytest.approx(tau2 / (tau2 + sig2), rel=1e-5)
    full = res.stats["var_province"] / (res.stats["var_province"] + res.stats["var_residual"])
    assert res.stats["icc_conditional"] == pytest.approx(full, rel=1e-12)
    assert res.stats["icc_conditional"] < res.stats["icc"]


def test_the_reported_oaxaca_standard_errors_are_the_spread_of_refitted_replicates(study):
    """The decomposition's SEs as the model reports them equal the standard deviation of the
    decomposition refitted on each Rao–Wu replicate (villages resampled within provinces)."""
    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import design_matrix
    from analysis.estimation.sensitivity import rao_wu_multipliers
    from analysis.estimation.suite import fit_model

    spec = study.settings.models.get("oaxaca_east_west").model_copy(update={"reps": 60})
    res = fit_model(study, spec)
    df = model_frame(study, spec, design_columns=True).data
    df = df[df["region3"].isin(spec.groups)].reset_index(drop=True)
    X, names = design_matrix(df, list(spec.regressors), [])
    y, w = df["overall"].to_numpy(), df["weight"].to_numpy()
    a = (df["region3"] == spec.groups[0]).to_numpy()
    units, mult = rao_wu_multipliers(df["province"].to_numpy(), df["village_id"].to_numpy(), 60,
                                     np.random.default_rng(spec.seed))
    reps = np.array([oaxaca(y, X, w * mult[units, r], a, names)[0]["estimate"].to_numpy() for r in range(60)])
    reported = res.tables["decomposition"].set_index("component")["se"].to_numpy()
    np.testing.assert_allclose(reported, reps.std(axis=0, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(res.bse.to_numpy(), reps.std(axis=0, ddof=1), rtol=1e-9)


def test_multiple_imputation_is_reproducible_and_close_to_complete_cases(study):
    """Same seed, same imputations (statsmodels' MICE gets its own generator: two builds of the
    same inputs must be identical); with four missing outcomes the imputed fit is the complete-case
    one up to imputation noise."""
    from analysis.estimation.suite import multiple_imputation

    a, b = multiple_imputation(study, imputations=5), multiple_imputation(study, imputations=5)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_allclose(a["estimate"], a["complete_case"], rtol=0.02, atol=0.01)
    assert a.attrs["missing_rows"] == 4


def test_multiple_imputation_pools_its_fits_by_rubins_rules_on_the_complete_case_df(study):
    """The table is Rubin's rules (``pool_rubin``, checked against mice) over the completed data
    sets' own estimates and squared SEs, with the complete-case model's df (22 provinces: 21) as
    the complete-data df; intervals and p-values on t with the pooled df, recomputed here."""
    from scipy import stats

    from analysis.estimation.results import pool_rubin
    from analysis.estimation.suite import multiple_imputation

    table, fits = multiple_imputation(study, imputations=5, return_fits=True)
    assert table.attrs["df_complete"] == 21 and sorted(fits["imputation"].unique()) == [1, 2, 3, 4, 5]
    # what the page says of the run (its imputations, burn-in cycles and seed)
    assert {k: table.attrs[k] for k in ("imputations", "burn_in", "seed")} == {
        "imputations": 5, "burn_in": 10, "seed": 20200601}
    q = fits.pivot(index="imputation", columns="term", values="estimate")[table["term"]]
    u = fits.pivot(index="imputation", columns="term", values="variance")[table["term"]]
    ref = pool_rubin(q.to_numpy(), u.to_numpy(), 21)
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "p", "fmi"):
        np.testing.assert_allclose(table[col], ref[col], rtol=1e-12, err_msg=col)
    assert (table["df"] < 21).all()               # Barnard–Rubin: below the complete-data df
    crit = stats.t.ppf(0.975, table["df"])
    np.testing.assert_allclose(table["ci_high"] - table["estimate"], crit * table["se"], rtol=1e-10)
    np.testing.assert_allclose(table["estimate"] - table["ci_low"], crit * table["se"], rtol=1e-10)
    t = np.abs(table["estimate"] / table["se"])
    np.testing.assert_allclose(table["p"], 2 * stats.t.sf(t, table["df"]), rtol=1e-10)
    np.testing.assert_allclose(table["estimate"], q.mean().to_numpy(), rtol=1e-12)
    b = q.var(ddof=1).to_numpy()
    np.testing.assert_allclose(table["se"] ** 2, u.mean().to_numpy() + 1.2 * b, rtol=1e-12)


def test_multiple_imputation_takes_an_unweighted_ols_model_and_refuses_a_logit(study, monkeypatch):
    """An OLS model (no weights) is imputed as the WLS one is; an ordered logit is refused. Each
    term is labelled by its variable label, or by its name when it has none."""
    from analysis.estimation import suite
    from analysis.estimation.suite import ModelSpecError, fit_model, multiple_imputation

    models = study.settings.models
    ols = models.get("wls_region").model_copy(update={"family": "ols", "weights": None, "wild": None})
    get = type(models).get
    monkeypatch.setattr(type(models), "get",
                        lambda self, name: ols if name == "ols_region" else get(self, name))
    monkeypatch.setattr(suite, "variable_labels", lambda s: {"education": "years at school"})
    table = multiple_imputation(study, model="ols_region", imputations=2)
    assert table["label"].tolist() == ["years at school" if t == "education" else t for t in ols.regressors]
    cc = fit_model(study, ols)
    np.testing.assert_allclose(table["complete_case"], cc.params[table["term"]].to_numpy(), rtol=1e-12)
    assert not np.allclose(table["complete_case"], fit_models(study, names=["wls_region"])["wls_region"]
                           .params[table["term"]].to_numpy())
    with pytest.raises(ModelSpecError, match="for linear models; 'ologit_health' is ologit"):
        multiple_imputation(study, model="ologit_health")


def test_multiple_imputation_of_an_unclustered_model_pools_hc1_ses_and_refuses_design_ses(study, monkeypatch):
    """A model without a cluster reports HC1 SEs: each completed data set's fit takes HC1 too, so
    with 4 of 1,160 outcomes imputed the pooled SEs are within 3 % of the complete-case HC1 SEs
    (statsmodels), not the classical ones (about a fifth smaller here). A model with design-based
    SEs is refused, naming it."""
    import statsmodels.api as sm

    from analysis.estimation.regression import design_matrix
    from analysis.estimation.suite import multiple_imputation

    models = study.settings.models
    hc1 = models.get("wls_region").model_copy(update={"cluster": None, "wild": None, "se": None})
    assert hc1.se_kind == "hc1"
    get = type(models).get
    monkeypatch.setattr(type(models), "get", lambda self, name: hc1 if name == "hc1" else get(self, name))
    table = multiple_imputation(study, model="hc1", imputations=3, burn_in=2).set_index("term")
    d = model_frame(study, hc1).data
    X, names = design_matrix(d, list(hc1.regressors), list(hc1.fixed_effects))
    w = d[hc1.weights].to_numpy(float)
    fit = sm.WLS(d[hc1.outcome].to_numpy(float), X, weights=w / w.mean()).fit(cov_type="HC1")
    want = pd.Series(np.asarray(fit.bse), index=names)[table.index]
    np.testing.assert_allclose(table["se"].to_numpy(), want.to_numpy(), rtol=0.03)
    svy = [m.name for m in models.models if m.se_kind == "design" and m.family in ("ols", "wls")]
    with pytest.raises(ModelSpecError, match=f"'{svy[0]}' has design-based SEs"):
        multiple_imputation(study, model=svy[0])


def test_multiple_imputation_leaves_out_rows_without_a_fixed_effect_as_if_absent(
        make_wave, default_frames, monkeypatch):
    """A fixed effect (occupation) blank in 150 rows is not imputed, and those rows are not taken
    as its reference level: the pooled fit equals the one on the wave without those rows."""
    from analysis.estimation.study import build_study
    from analysis.estimation.suite import multiple_imputation

    v = default_frames["villagers"]
    blank = v.sample(150, random_state=1).index
    st_blank = build_study(make_wave(v.assign(occupation=v["occupation"].mask(v.index.isin(blank), "")),
                                     name="blank"))
    st_gone = build_study(make_wave(v.drop(index=blank), name="gone"))
    models = st_blank.settings.models
    occ = models.get("wls_region").model_copy(update={"fixed_effects": ("occupation",), "wild": None})
    get = type(models).get
    monkeypatch.setattr(type(models), "get", lambda self, name: occ if name == "occ" else get(self, name))
    a = multiple_imputation(st_blank, model="occ", imputations=2, burn_in=2)
    b = multiple_imputation(st_gone, model="occ", imputations=2, burn_in=2)
    assert a.attrs["left_out_rows"] == 150 and b.attrs["left_out_rows"] == 0
    cols = ["estimate", "se", "complete_case"]
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-10)


def test_a_decomposition_by_numeric_codes_compares_the_rows_coded_so(study):
    """``groups: [1, 2]`` of a column coded 1.0/2.0 (sex) is accepted and names those rows: the
    gap is group 1's weighted mean score less group 2's on the model's complete rows, and each
    group's count of rows is the column's count of that code (not 0, as text "1" against 1.0)."""
    from analysis.estimation.decomposition import in_group
    from analysis.settings import ModelSpec

    base = study.settings.models.get("oaxaca_east_west")
    spec = ModelSpec(**{**base.model_dump(), "name": "ox_sex", "group": "sex", "groups": [1, 2], "reps": 60,
                        "regressors": [r for r in base.regressors if r != "female"]})
    assert spec.groups == ("1", "2")
    assert ModelSpec(**{**spec.model_dump(), "groups": [1.0, 2.0]}).groups == ("1.0", "2.0")   # as floats
    d = model_frame(study, spec).data
    assert in_group(d["sex"], "1").sum() == (d["sex"] == 1).sum() > 0
    assert in_group(pd.Series(["east", "2", 2.0, None]), "2").tolist() == [False, True, True, False]
    assert in_group(pd.Series(["east", "west"]), "east").tolist() == [True, False]
    rows = {g: d[d["sex"] == g] for g in (1, 2)}
    mean = {g: np.average(r["overall"], weights=r["weight"]) for g, r in rows.items()}
    r = fit_model(study, spec)
    gap = r.tables["decomposition"].set_index("component").loc["gap", "estimate"]
    assert gap == pytest.approx(mean[1] - mean[2], rel=1e-10)
    assert (r.stats["group_a"], r.stats["group_b"]) == ("1", "2")


def test_multiple_imputation_fits_are_the_clustered_wls_fits_of_each_data_set(study):
    """Each completed data set's variance is a CR1 cluster variance: on the complete cases (which
    every data set shares, 4 rows imputed of 1,160) it is near the complete-case model's."""
    from analysis.estimation.suite import multiple_imputation

    table, fits = multiple_imputation(study, imputations=3, return_fits=True)
    cc = fit_models(study, names=["wls_region"])["wls_region"]
    first = fits[fits["imputation"] == 1].set_index("term")
    np.testing.assert_allclose(first.loc[table["term"], "variance"], cc.bse[table["term"]] ** 2, rtol=0.1)
    np.testing.assert_allclose(first.loc[table["term"], "estimate"], cc.params[table["term"]],
                               rtol=0.05, atol=0.01)


def test_each_imputed_data_set_is_fitted_by_weighted_least_squares_with_cr1_by_province(study, monkeypatch):
    """Each completed data set MICE hands over, refitted here with numpy: WLS with the design
    weights, the region dummies, and CR1 by province, G/(G − 1)·(N − 1)/(N − K) × the sandwich;
    its estimates and variances are what the pooling receives."""
    from statsmodels.imputation import mice

    from analysis.estimation.frames import model_frame
    from analysis.estimation.suite import multiple_imputation

    kept = []
    fit = mice.MICE.fit

    def keep(self, *a, **k):  # type: ignore[no-untyped-def]
        kept.append(fit(self, *a, **k))
        return kept[-1]

    monkeypatch.setattr(mice.MICE, "fit", keep)
    _, fits = multiple_imputation(study, imputations=2, return_fits=True)
    spec = study.settings.models.get("wls_region")
    mf = model_frame(study, spec, complete=False)
    # MICE receives the rows in the order of the respondents' ids
    ids = study.villagers["resp_id"].to_numpy()[mf.rows].astype(str)
    d = mf.data.iloc[np.argsort(ids, kind="stable")].reset_index(drop=True)
    g = pd.factorize(d["province"])[0]
    w = d["weight"].to_numpy(float)
    G = len(np.unique(g))
    for i, r in enumerate(kept[0].model.results_list, start=1):
        X, y = np.asarray(r.model.exog), np.asarray(r.model.endog)
        n, k = X.shape
        assert k == 1 + len(spec.regressors) + d["region3"].nunique() - 1 and n == len(d)
        assert not np.isnan(X).any() and not np.isnan(y).any()
        answered = d[list(spec.regressors)].notna().to_numpy()
        np.testing.assert_allclose(X[:, 1:1 + len(spec.regressors)][answered],
                                   d[list(spec.regressors)].to_numpy(float)[answered])
        XtW = X.T * w
        bread = np.linalg.inv(XtW @ X)
        beta = bread @ (XtW @ y)
        e = y - X @ beta
        scores = np.column_stack([np.bincount(g, weights=w * e * X[:, j], minlength=G) for j in range(k)])
        meat = scores.T @ scores
        V = G / (G - 1) * (n - 1) / (n - k) * bread @ meat @ bread
        mine = fits[fits["imputation"] == i].set_index("term")
        names = list(r.model.exog_names)
        np.testing.assert_allclose(mine.loc[names, "estimate"], beta, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(mine.loc[names, "variance"], np.diag(V), rtol=1e-8)


# ---- the wild cluster bootstrap against an independent implementation -----------------------

def _wildboottest(y, X, g, j, *, impose_null, weights_type="rademacher", B=2**10, seed=1,
                  w=None, multipliers=None):
    """The `wildboottest` package (Fischer & Roodman's WCR/WCU "11" bootstrap, CR1 with G/(G−1)
    and (N−1)/(N−k)), run step by step so that its multipliers can be handed to ours, or
    ``multipliers`` (clusters in sorted order × replicates) to it. With weights ``w``, the model
    is the OLS of √w·y on √w·X, whose fits, residuals, cluster scores and replicates are the WLS
    model's."""
    from wildboottest.wildboottest import WildboottestCL

    if w is not None:
        y, X = y * np.sqrt(w), X * np.sqrt(w)[:, None]
    if multipliers is not None:
        B = multipliers.shape[1]
    R = np.zeros(X.shape[1])
    R[j] = 1.0
    boot = WildboottestCL(X=X, Y=y, cluster=g, R=R, B=B, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=impose_null, adj=True, cluster_adj=True)
    boot.get_weights(weights_type=weights_type)
    if multipliers is not None:
        assert boot.v.shape == multipliers.shape
        boot.v = multipliers
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    return boot


@pytest.mark.parametrize("beta2", [0.0, 0.12, 0.4])
def test_wild_bootstrap_p_value_equals_wildboottest_under_full_enumeration(beta2):
    """Ten clusters, Rademacher weights, all 2¹⁰ sign vectors: the WCR distribution is a set of
    numbers, not draws, and must equal the independent implementation's (unit weights).  The
    all-ones and all-minus-ones vectors reproduce ±t exactly: those ties count as extreme (the
    reference's strict ``<`` counts them or not as rounding falls), so its p is taken with ties."""
    y, X, _, g = _toy(seed=21, G=10, n=200, beta=(1.0, 0.5, beta2))
    ref = _wildboottest(y, X, g, 2, impose_null=True, B=2**10 + 1)
    assert ref.full_enumeration
    ours = wild_cluster_bootstrap(y, X, np.ones_like(y), g, [2], multipliers=ref.v).iloc[0]
    t_obs = float(np.ravel(ref.t_stat)[0])
    np.testing.assert_allclose(ours["estimate"] / ours["se"], t_obs, rtol=1e-10)
    t_boot = np.abs(np.ravel(ref.t_boot))
    assert np.isclose(t_boot, abs(t_obs), rtol=1e-9).sum() >= 2
    assert ours["wild_p"] == pytest.approx(np.mean(t_boot >= abs(t_obs) * (1 - 1e-9)), abs=1e-12)
    assert ours["wild_p"] >= 2 / 2**10


@pytest.mark.parametrize("beta2", [0.0, 0.25])
def test_wild_bootstrap_with_webb_weights_equals_wildboottest_on_its_draws(beta2):
    """Webb's weights drawn by the reference, handed to ours: the WCR p-values equal, and the
    WCU percentile-t interval equals β̂ − q(1−α/2)·se, β̂ − q(α/2)·se from the reference's
    unrestricted t-statistics (skewed errors, so a non-reversed interval would differ)."""
    rng = np.random.default_rng(5)
    y, X, _, g = _toy(seed=33, G=14, n=280, beta=(1.0, 0.5, beta2))
    y = y + rng.exponential(2.0, size=len(y)) * (X[:, 2] > 0)       # skewed, heteroskedastic
    ref = _wildboottest(y, X, g, 2, impose_null=True, weights_type="webb", B=999, seed=8)
    ours = wild_cluster_bootstrap(y, X, np.ones_like(y), g, [2], multipliers=ref.v).iloc[0]
    assert ours["wild_p"] == pytest.approx(float(ref.pvalue), abs=1e-12)

    unr = _wildboottest(y, X, g, 2, impose_null=False, weights_type="webb", B=999, seed=8)
    np.testing.assert_array_equal(unr.v, ref.v)
    t_u = np.ravel(unr.t_boot)                               # (β*_b − β̂)/se*_b
    lo_q, hi_q = np.quantile(t_u, [0.025, 0.975])
    b, se = ours["estimate"], ours["se"]
    np.testing.assert_allclose([ours["wild_ci_low"], ours["wild_ci_high"]],
                               [b - hi_q * se, b - lo_q * se], rtol=1e-9)


def test_nested_in_tells_a_fixed_effect_inside_clusters_from_one_across_them():
    from analysis.estimation.regression import nested_in

    clusters = np.array([1, 1, 1, 2, 2, 3, 3, 3])
    assert nested_in(np.array(["a", "a", "b", "c", "c", "d", "d", "e"]), clusters)
    assert nested_in(clusters * 10, clusters)                          # the clusters themselves
    assert not nested_in(np.array(["a", "a", "b", "b", "c", "c", "d", "d"]), clusters)   # b spans 1 and 2
    assert not nested_in(np.array([0, 0, 0, 0, 0, 0, 0, 0]), clusters)


def test_rademacher_weights_are_plus_or_minus_one_equally_likely():
    from analysis.estimation.regression import wild_weights

    v = wild_weights("rademacher", (8, 50_000), np.random.default_rng(0))
    support, counts = np.unique(v, return_counts=True)
    np.testing.assert_array_equal(support, [-1.0, 1.0])
    np.testing.assert_allclose(counts / v.size, 0.5, atol=0.005)


def test_hc1_equals_statsmodels_and_counts_absorbed_parameters():
    """HC1 = N/(N−K)·(X'X)⁻¹ Σ e²xx' (X'X)⁻¹, as statsmodels' OLS(cov_type="HC1"); absorbed
    parameters (k_extra) enter K."""
    import statsmodels.api as sm

    from analysis.estimation.regression import hc1_vcov

    y, X, _, _ = _toy(seed=4)
    w = np.ones_like(y)
    beta, ainv, e = _wls(y, X, w)
    ref = sm.OLS(y, X).fit(cov_type="HC1").cov_params()
    np.testing.assert_allclose(hc1_vcov(X, w, e, ainv), ref, rtol=1e-10)
    n, k = X.shape
    np.testing.assert_allclose(hc1_vcov(X, w, e, ainv, 3), ref * (n - k) / (n - k - 3), rtol=1e-10)


def test_design_matrix_names_its_columns_and_drops_the_first_level():
    from analysis.estimation.regression import design_matrix

    df = pd.DataFrame({"x": [1, 2, 3, 4], "region": ["east", "west", "central", "east"]})
    X, names = design_matrix(df, ["x"], ["region"])
    assert names == ["Intercept", "x", "region_east", "region_west"]        # 'central' is the base
    np.testing.assert_array_equal(X[:, 2:], [[1, 0], [0, 1], [0, 0], [1, 0]])
    X0, n0 = design_matrix(df, [], [], const=False)
    assert X0.shape == (4, 0) and n0 == []


@pytest.mark.parametrize("values", [["west", "east", "central"], [110000, 99, 5], [1, "1", 2], [1.0, 2.0, np.nan]],
                         ids=["text", "numbers sorted as text", "values equal as text", "missing"])
def test_design_matrix_dummies_equal_get_dummies_of_the_column_as_text(values):
    """The dummies are pandas' get_dummies of the column as text (levels sorted as text, a
    missing value in no level), built without an n-long column of strings."""
    from analysis.estimation.regression import design_matrix

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"f": pd.Series(rng.choice(np.array(values, dtype=object), 60), dtype=object),
                       "x": rng.normal(size=60)})
    X, names = design_matrix(df, ["x"], ["f"])
    ref = pd.get_dummies(df["f"].astype(str), prefix="f", drop_first=True, dtype=float)
    assert names[2:] == list(ref.columns)
    np.testing.assert_array_equal(X[:, 2:], ref.to_numpy())


@pytest.mark.parametrize("n", [5, 20_000])
def test_weighted_gram_equals_the_product_written_out(n):
    """X' diag(h) X by blocks of rows equal to the product written out (n below and above a block)."""
    from analysis.estimation.regression import weighted_gram

    rng = np.random.default_rng(n)
    X, h = rng.normal(size=(n, 4)), rng.uniform(-1, 2, size=(n, 3))
    for p in range(3):
        want = X.T @ (X * h[:, [p]])
        np.testing.assert_allclose(weighted_gram(X, h[:, p]), want, rtol=1e-12, atol=1e-9)
        # small blocks: many of them, and a last one shorter than the others
        np.testing.assert_allclose(weighted_gram(X, h[:, p], block=3), want, rtol=1e-12, atol=1e-9)


def test_wild_bootstrap_records_its_settings_and_defaults_to_999_webb_draws_seed_0():
    y, X, w, g = _toy(seed=2)
    out = wild_cluster_bootstrap(y, X, w, g, [2])
    assert out.attrs == {"reps": 999, "weights": "webb", "seed": 0, "clusters": 12}
    again = wild_cluster_bootstrap(y, X, w, g, [2], reps=999, weights="webb", seed=0)
    pd.testing.assert_frame_equal(out, again)


def test_wild_bootstrap_needs_two_clusters_and_regressors_that_are_not_collinear():
    y, X, w, g = _toy(seed=5)
    two = wild_cluster_bootstrap(y, X, w, g % 2, [1], reps=9, seed=1)      # two clusters: allowed
    assert two.attrs["clusters"] == 2 and np.isfinite(two["wild_p"]).all()
    with pytest.raises(RegressionError, match="^cluster-robust standard errors need at least two clusters$"):
        wild_cluster_bootstrap(y, X, w, np.zeros(len(y)), [1], reps=9)
    with pytest.raises(RegressionError, match=r"^the regressors are collinear \(X'WX is singular\)$"):
        wild_cluster_bootstrap(y, np.column_stack([X, X[:, 1]]), w, g, [1], reps=9)


def test_design_matrix_reads_integer_nullable_and_boolean_regressors_as_numbers():
    """Regressors of integer, nullable-integer or boolean dtype (as Arrow-backed reads give)
    enter the matrix as numbers, equal to the float columns."""
    from analysis.estimation.regression import design_matrix

    df = pd.DataFrame({"a": [1, 0, 3, 2], "b": [True, False, True, False], "r": ["x", "y", "x", "y"]})
    typed = df.assign(a=df["a"].astype("Int64"), b=df["b"].astype("boolean"))
    X, names = design_matrix(typed, ["a", "b"], ["r"])
    ref, _ = design_matrix(df.astype({"a": float, "b": float}), ["a", "b"], ["r"])
    assert X.dtype == np.float64 and names == ["Intercept", "a", "b", "r_y"]
    np.testing.assert_array_equal(X, ref)


def test_weighted_least_squares_and_cr1_refuse_collinear_regressors_and_a_single_cluster():
    """The errors a model file can provoke, named; two clusters are enough for CR1 (with
    G/(G − 1) = 2 and G − 1 = 1 df)."""
    y, X, w, g = _toy(seed=6)
    with pytest.raises(RegressionError, match=r"^the regressors are collinear \(X'WX is singular\)$"):
        _wls(y, np.column_stack([X, 2 * X[:, 1]]), w)
    beta, ainv, e = _wls(y, X, w)
    V, G = cluster_vcov(X, w, e, g % 2, ainv)
    assert G == 2 and np.isfinite(V).all()
    scores = np.stack([np.sum((X * (w * e)[:, None])[g % 2 == c], axis=0) for c in (0, 1)])
    n, k = X.shape
    np.testing.assert_allclose(V, 2 * (n - 1) / (n - k) * ainv @ scores.T @ scores @ ainv, rtol=1e-10)
    with pytest.raises(RegressionError, match="^cluster-robust standard errors need at least two clusters$"):
        cluster_vcov(X, w, e, np.zeros(len(y)), ainv)


def test_fixed_effects_already_coded_give_the_same_dummies():
    """The linear model passes its first fixed effect's codes to the bootstrap's design matrix;
    a second fixed effect is coded there as usual."""
    from analysis.estimation.design import text_codes
    from analysis.estimation.regression import design_matrix

    df = pd.DataFrame({"x": [0.5, 1.0, 2.0, 3.0, 4.0, 5.5], "a": ["p", "q", "p", "r", "q", "r"],
                       "b": [1, 2, 2, 1, 1, 2]})
    plain = design_matrix(df, ["x"], ["a", "b"])
    coded = design_matrix(df, ["x"], ["a", "b"], coded={"a": text_codes(df["a"])})
    np.testing.assert_array_equal(coded[0], plain[0])
    assert coded[1] == plain[1] == ["Intercept", "x", "a_q", "a_r", "b_2"]


@pytest.mark.parametrize("values", [np.array([10, 2, 10, 33, 2]), np.array([1.5, np.nan, 20.0, 1.5, 3.0]),
                                    np.array([True, False, True])], ids=["int", "float-nan", "bool"])
def test_text_codes_of_a_numeric_array_equal_those_of_its_values_as_objects(values):
    """A numeric array is factorised in its own dtype (fast); its codes and levels are those of
    the same values as Python objects, compared as text ("10" sorts before "2")."""
    from analysis.estimation.design import text_codes

    fast, slow = text_codes(values), text_codes(list(values))
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    if values.dtype.kind == "i":
        assert list(fast[1]) == ["10", "2", "33"] and list(fast[0]) == [0, 1, 0, 2, 1]
    if values.dtype.kind == "f":
        assert fast[0][1] == -1


def test_text_codes_of_a_list_keep_each_value_as_written():
    """A list is coded as its values are written: 1 stays "1" beside 2.5 (not "1.0", as a float
    array would make it), a missing value has no code."""
    from analysis.estimation.design import text_codes

    codes, levels = text_codes([1, 2.5, 1, None, "a"])
    assert list(codes) == [0, 1, 0, -1, 2] and list(levels) == ["1", "2.5", "a"]
    codes, levels = text_codes([1, 2.5, 1])
    assert list(codes) == [0, 1, 0] and list(levels) == ["1", "2.5"]


def test_a_model_the_wave_cannot_support_is_skipped_with_the_reason_or_refused_by_name(study):
    """fit_models: a model needing a variable the wave lacks, or a regressor with one value, is
    skipped and the reason kept (without the model's name); asked for by name it is refused."""
    v = study.villagers.drop(columns=["edu_sat"])             # one model's outcome, in the middle of the list
    ms = fit_models(with_villagers(study, v))
    users = [m.name for m in study.settings.models.models if "edu_sat" in (m.outcome, *m.regressors)]
    assert users == ["ologit_education"] and ms.skipped["ologit_education"] == "the wave has no edu_sat"
    assert say(ms.skipped["ologit_education"], "zh") == "本轮调查没有变量 edu_sat"    # in the Chinese edition
    assert not set(users) & {r.name for r in ms.results}
    every = {m.name for m in study.settings.models.models}      # the others are still fitted
    assert {r.name for r in ms.results} == every - set(users) and set(ms.skipped) == set(users)
    assert (ms.wave_id, ms.synthetic) == (study.wave.id, study.wave.synthetic) == ("2020-replica", True)
    two = fit_models(with_villagers(study, study.villagers.drop(columns=["smartphone", "hreg_app"])))
    assert two.skipped["logit_online_registration"] == "the wave has no hreg_app, smartphone"
    with pytest.raises(ModelSpecError):
        fit_models(with_villagers(study, v), names=[users[0]])

    one = with_villagers(study, study.villagers.assign(sex=2.0))          # every respondent female
    ms = fit_models(one)
    n = len(model_frame(one, study.settings.models.get("wls_region")).data)
    assert ms.skipped["wls_region"] == (
        f"the regressor 'female' (female) takes a single value (1) on the {n} complete rows of this wave, "
        "so its effect cannot be estimated; leave it out of the model for this wave")
    # the Chinese edition: the sentence, and the variable's label as the catalog translates it
    # ("female": 女性), whatever edition the models were fitted in
    assert say(ms.skipped["wls_region"], "zh") == (
        f"回归变量 'female'（女性）在本轮数据的 {n} 个完整行中只取一个值（1），无法估计其作用；本轮请将其从模型中删去")
    assert ms.has("multilevel") == ("female" not in study.settings.models.get("multilevel").regressors)
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': the regressor 'female' \(female\) takes"):
        fit_models(one, names=["wls_region"])
    # the variable's readable label beside its name
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': the regressor 'internet_use' \(internet use\) "
                                             r"takes a single value \(1\)"):
        fit_models(with_villagers(study, study.villagers.assign(internet_use=1.0)), names=["wls_region"])
    with pytest.raises(ModelSpecError, match=r"^unknown model\(s\) \['nope'\]; known: wls_region, "):
        fit_models(study, names=["nope"])


def test_a_model_whose_outcome_takes_one_value_is_skipped_with_the_reason_not_crashed_on(study):
    """A wave where every respondent gave the same answer: the ordered logits of that outcome (no
    cut point to estimate) are skipped with the reason, the other models still fitted."""
    one = with_villagers(study, study.villagers.assign(hlt_sat=4.0))
    users = [m.name for m in study.settings.models.models if m.outcome == "hlt_sat"]
    assert users == ["ologit_health", "svyolr_health"]
    ms = fit_models(one)
    n = len(model_frame(one, study.settings.models.get("ologit_health")).data)
    assert {k: ms.skipped[k] for k in users} == dict.fromkeys(users, (
        "the outcome 'hlt_sat' (Overall, how satisfied are you with medical and health care services in your "
        f"village?) takes a single value (4) on the {n} complete rows of this wave, so there is nothing to "
        "explain; the model is left out for this wave"))
    label = study.wave.codebook.item("villagers", "hlt_sat").text_zh       # the codebook's own Chinese
    assert say(ms.skipped["ologit_health"], "zh") == (
        f"结果变量 'hlt_sat'（{label}）在本轮数据的 {n} 个完整行中只取一个值（4），没有可解释的变异；本轮不估计该模型")
    assert {r.name for r in ms.results} == {m.name for m in study.settings.models.models} - set(users)
    with pytest.raises(ModelSpecError, match=r"^model 'svyolr_health': the outcome 'hlt_sat' \(.+\) takes "):
        fit_models(one, names=["svyolr_health"])


def test_a_model_frame_with_infinite_values_or_no_rows_is_refused_with_the_variable(study):
    spec = study.settings.models.get("wls_region")
    v = study.villagers
    inf = v.assign(distance_km=v["distance_km"].where(v.index != v.index[3], np.inf))
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': 'distance_km' \(distance to township \(km\)\) "
                                             r"has 1 infinite values; declare its transform") as e:
        fit_model(with_villagers(study, inf), spec)
    assert str(e.value).endswith("declare its transform and how it treats them in data/models.yml")
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': no complete rows$"):
        fit_model(with_villagers(study, v.assign(distance_km=np.nan)), spec)
    # a single complete row is a frame, not "no complete rows": it fails later, on its regressors
    keep = v["distance_km"].where(v.index == v.index[0])
    with pytest.raises(ModelSpecError, match="takes a single value"):
        fit_model(with_villagers(study, v.assign(distance_km=keep)), spec)
    # without clusters (one cluster would be named first): its outcome, on that one row
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': the outcome 'overall' \(overall score\) "
                                             r"takes a single value \([\d.]+\) on the 1 complete rows"):
        fit_model(with_villagers(study, v.assign(distance_km=keep)),
                  spec.model_copy(update={"cluster": None, "wild": None}))


def test_a_model_reports_the_rows_it_dropped_and_the_share_of_respondents_it_uses(study, monkeypatch):
    """37 complete rows lose a regressor: the model drops exactly those, and the page's "uses …
    % of the respondents" is the complete rows over the wave's respondents."""
    from analysis.estimation import suite

    spec = study.settings.models.get("wls_region")
    base = fit_model(study, spec)
    v = study.villagers.copy()
    v.loc[v.index[model_frame(study, spec).rows[:37]], "distance_km"] = np.nan
    res = fit_model(with_villagers(study, v), spec)
    assert res.nobs == base.nobs - 37 and res.stats["dropped"] == base.stats["dropped"] + 37
    assert res.stats["dropped"] == len(v) - res.nobs
    assert res.stats["complete_share"] == pytest.approx(res.nobs / len(v), rel=1e-15)
    # the frame's notes (rows a transform left out) reach the result, which the page and the CLI print
    v.loc[v.index[model_frame(study, spec).rows[40:42]], "hh_income"] = 0.0       # log(0): left out
    noted = fit_model(with_villagers(study, v), spec)
    assert noted.stats["notes"] == model_frame(with_villagers(study, v), spec).notes
    assert len(noted.stats["notes"]) == 1 and "2 rows with hh_income ≤ 0" in noted.stats["notes"][0]
    # a variable without a readable label is named by itself
    monkeypatch.setattr(suite, "variable_labels", lambda s: {})
    vv = study.villagers
    inf = vv.assign(distance_km=vv["distance_km"].where(vv.index != vv.index[3], np.inf))
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': 'distance_km' \(distance_km\) has 1 "):
        fit_model(with_villagers(study, inf), spec)
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': the regressor 'internet_use' "
                                             r"\(internet_use\)"):
        fit_model(with_villagers(study, vv.assign(internet_use=1.0)), spec)
    with pytest.raises(ModelSpecError, match=r"^model 'ologit_health': the outcome 'hlt_sat' \(hlt_sat\) "):
        fit_model(with_villagers(study, vv.assign(hlt_sat=4.0)), study.settings.models.get("ologit_health"))


def test_robustness_refits_without_the_wild_bootstrap_into_one_numbered_table(study, monkeypatch):
    """The robustness table compares estimates only: its refits skip the model's wild bootstrap (999
    refits per construction, which the table does not show); its rows are numbered 0..n−1."""
    from analysis.estimation import linear
    from analysis.estimation.suite import robustness

    assert study.settings.models.get("wls_region").wild is not None     # the model the page reports has one

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the robustness refits ran the wild bootstrap")

    monkeypatch.setattr(linear, "wild_cluster_bootstrap", refuse)
    r = robustness(study)
    assert r.index.equals(pd.RangeIndex(len(r)))


def test_robustness_fits_each_construction_on_its_own_scores(study):
    """Each row of the robustness table is the model refitted on the scores of that construction."""
    from dataclasses import replace

    from analysis.estimation.suite import robustness

    r = robustness(study)
    z = r[r["construction"] == "z-score normalisation"].set_index("term")["estimate"]
    other = study.with_construction(replace(study.construction, normalisation="zscore"))
    ref = fit_models(other, names=["wls_region"])["wls_region"].params
    np.testing.assert_allclose(z.to_numpy(), ref[z.index].to_numpy(), rtol=1e-12)
    base = r[r["construction"].str.startswith("default")].set_index("term")["estimate"]
    assert not np.allclose(z.to_numpy(), base[z.index].to_numpy())


def test_robustness_of_a_model_without_an_aspect_rebuilds_its_outcome_under_each_construction(study):
    """wls_region_nomeans under z-score normalisation is wls_region fitted on the z-score overall
    score built without the means aspect's indicators, not on the study's own construction's."""
    from analysis.estimation.index import build_index
    from analysis.estimation.suite import robustness

    r = robustness(study, model="wls_region_nomeans")
    z = r[r["construction"] == "z-score normalisation"].set_index("term")["estimate"]
    base = r[r["construction"].str.startswith("default")].set_index("term")["estimate"]
    assert not np.allclose(z.to_numpy(), base[z.index].to_numpy())
    v = study.villagers
    cfg = dataclasses.replace(study.construction, normalisation="zscore", exclude_aspects=("means",))
    without = build_index(v, cfg, codebook=study.wave.codebook,
                          weights=v[study.wave.design_columns["weight"]].to_numpy(float)).scores["overall"]
    same = study.settings.models.get("wls_region").model_copy(update={"wild": None})
    want = fit_model(study, same, scores=study.scores.assign(overall=without)).params
    np.testing.assert_allclose(z.to_numpy(), want[z.index].to_numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="rebuilt from the study's construction"):
        model_frame(study, study.settings.models.get("wls_region_nomeans"), scores=study.scores)


def test_a_wave_of_one_province_leaves_out_every_model_it_cannot_support_and_says_why(tmp_path):
    """A provincial follow-up (one province, three villages): no model there is estimable as
    data/models.yml asks, and none crashes the report. Clustered by province: one cluster. The
    design-based model: 3 PSUs less 1 stratum, +1, less its 8 coefficients (intercept and 7
    regressors; one region, so no region dummy) is −5 df. The decomposition of east and west:
    a western province has no eastern row. Each reason is kept, in both editions."""
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    assert st.design.n_psu == 3
    ms = fit_models(st)
    every = [m.name for m in st.settings.models.models]
    assert not list(ms) and set(ms.skipped) == set(every)
    n = len(model_frame(st, st.settings.models.get("wls_region")).data)
    assert ms.skipped["wls_region"] == (
        f"its standard errors are clustered by 'province', which takes a single value on the {n} complete "
        "rows of this wave: cluster-robust standard errors need at least two clusters; the model is left out "
        "for this wave")
    assert say(ms.skipped["wls_region"], "zh") == (
        f"其标准误按 'province' 聚类，而该变量在本轮数据的 {n} 个完整行中只取一个值：聚类稳健标准误至少需要两个聚类；"
        "本轮不估计该模型")
    assert ms.skipped["svy_region"] == (
        "it has more coefficients than this wave's design (its PSUs less its strata) or groups can support, "
        "so its intervals would have no degrees of freedom; the model is left out for this wave")
    assert say(ms.skipped["svy_region"], "zh").startswith("其系数个数超过了本轮数据的设计")
    # one group: named before its covariates (constant in one province) would be
    assert ms.skipped["multilevel"] == (
        f"its groups ('province') take a single value on the {n} complete rows of this wave: a multilevel "
        "model needs at least two groups; the model is left out for this wave")
    assert ms.skipped["oaxaca_east_west"] == (
        "the decomposition compares east with west; east has 0 complete rows on this wave, and each group "
        "needs more rows than the model's 8 coefficients; the model is left out for this wave")
    assert say(ms.skipped["oaxaca_east_west"], "zh").startswith("该分解比较东部与西部；东部在本轮数据中有 0 个完整行")
    with pytest.raises(ModelSpecError, match=r"^model 'wls_region': its standard errors are clustered by"):
        fit_models(st, names=["wls_region"])
    from analysis.report.pages import determinants as det

    assert det.none_fitted_text(ms).startswith(":::{warning}\nNo model of `data/models.yml` is estimated")


def test_a_model_a_wave_cannot_support_is_named_before_it_is_fitted():
    """unsupported: one cluster (a clustered model), one group (a multilevel model), a compared
    group with no more rows than the model's coefficients (a decomposition); None where the rows
    support the model, or where the clusters are not used (design-based standard errors)."""
    from analysis.estimation.suite import unsupported
    from analysis.settings import ModelSpec

    df = pd.DataFrame({"y": np.arange(6.0), "x": [1.0, 0, 1, 0, 1, 0], "c": [1, 1, 1, 1, 1, 1],
                       "region3": ["east"] * 3 + ["west"] * 3})
    clustered = ModelSpec(name="m", family="wls", outcome="y", regressors=("x",), cluster="c")
    assert unsupported(clustered, df).startswith("its standard errors are clustered by 'c', which takes a "
                                                 "single value on the 6 complete rows")
    assert unsupported(clustered, df.assign(c=[1, 1, 1, 2, 2, 2])) is None
    assert unsupported(clustered.model_copy(update={"se": "design"}), df) is None
    mixed = ModelSpec(name="m", family="mixedlm", outcome="y", regressors=("x",), group="c")
    assert unsupported(mixed, df).startswith("its groups ('c') take a single value on the 6 complete rows")
    assert unsupported(mixed, df.assign(c=[1, 1, 1, 2, 2, 2])) is None
    oax = ModelSpec(name="m", family="oaxaca", outcome="y", regressors=("x",), group="region3",
                    groups=("east", "west"))
    assert unsupported(oax, df) is None                                   # 3 rows each, 2 coefficients
    two = unsupported(oax, df.assign(region3=["east"] * 4 + ["west"] * 2))
    assert two == ("the decomposition compares east with west; west has 2 complete rows on this wave, and "
                   "each group needs more rows than the model's 2 coefficients; the model is left out for "
                   "this wave")
    assert say(two, "zh") == ("该分解比较东部与西部；西部在本轮数据中有 2 个完整行，而每组的行数必须多于模型的 2 个系数；"
                              "本轮不估计该模型")                 # the regions by their Chinese names
    other = oax.model_copy(update={"group": "r"})                      # a column of no named kind: as given
    assert say(unsupported(other, df.rename(columns={"region3": "r"}).assign(r=["a"] * 6)), "zh").startswith(
        "该分解比较east与west；east在本轮数据中有 0 个完整行")


def test_collinear_regressors_or_a_singular_decomposition_leave_a_model_out_with_the_reason(study):
    """Two regressors equal on the wave's rows (X'WX singular), or a regressor constant within
    one compared group (the group's own regression singular): the model is left out with the
    reason, not a crash of the report."""
    from analysis.settings.schemas import Derived

    ms = study.settings.models
    twin = Derived(label="age again", expr="age / 10")
    models = ms.model_copy(update={"derived": {**ms.derived, "age10_twin": twin}})
    with_twin = dataclasses.replace(study, settings=dataclasses.replace(study.settings, models=models))
    spec = ms.get("wls_region").model_copy(update={"wild": None, "regressors": ("age10", "age10_twin")})
    with pytest.raises(ModelSpecError) as e:
        fit_model(with_twin, spec)
    assert str(e.value) == "model 'wls_region': the regressors are collinear (X'WX is singular)"
    assert say(e.value.reason, "zh") == "回归变量共线（X'WX 奇异）"
    v = study.villagers
    east_women = with_villagers(study, v.assign(sex=v["sex"].where(v["region3"] != "east", 2.0)))
    with pytest.raises(ModelSpecError) as e:
        fit_model(east_women, ms.get("oaxaca_east_west"))
    assert str(e.value) == ("model 'oaxaca_east_west': its equations are singular on the complete rows of "
                            "this wave (Singular matrix): some of its regressors are collinear there; "
                            "the model is left out for this wave")             # numpy's own words inside
    assert say(e.value.reason, "zh").startswith("其方程组在本轮数据的完整行上奇异（")


def test_the_determinants_page_s_sample_and_imputation_sentences_come_from_the_headline_model(study,
                                                                                            monkeypatch):
    """The share of respondents the headline model uses (its complete rows over the wave's
    respondents), its number of clusters (the provinces of those rows) and the imputations; no
    sentence where the wave does not support the model or the imputation table is not there (a
    glued number there would have read "0.0 %" and "0 imputations")."""
    from analysis.estimation.results import ModelSet
    from analysis.report.pages import determinants as det

    spec = study.settings.models.get("wls_region").model_copy(update={"wild": None})
    ms = ModelSet((fit_model(study, spec),), skipped={})
    rows = model_frame(study, spec).rows
    share = 100 * len(rows) / len(study.villagers)
    provinces = study.villagers["province"].iloc[rows].nunique()
    assert det.headline_sample_text(ms) == (
        f"The headline model uses {share:.1f} % of the respondents (the others miss an answer it needs); its "
        f"standard errors have {provinces} clusters.")
    mt = pd.DataFrame()
    mt.attrs["imputations"] = 20
    assert det.imputation_text(ms, mt).startswith(
        f"About {100 - share:.1f} % of the respondents miss an answer the headline model needs and are left "
        "out of it (complete cases). Refitted on data completed by multiple imputation by chained equations "
        "(predictive mean matching, 20 imputations, combined")
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    assert det.headline_sample_text(ms) == (
        f"核心模型使用了 {share:.1f} % 的受访者（其余受访者缺少模型所需的某个答案）；其标准误有 {provinces} 个聚类。")
    assert det.imputation_text(ms, mt).startswith(f"约 {100 - share:.1f} % 的受访者缺少核心模型所需的某个答案")
    without = ModelSet((), skipped={"wls_region": "the wave has no sex"})
    assert det.headline_sample_text(without) == det.imputation_text(without, mt) == ""
    assert det.none_fitted_text(ms) == "" and det.none_fitted_text(without) != ""
    # some models fitted, one left out (a wave without the west has no east-west decomposition): no warning
    partly = ModelSet(ms.results, skipped=MappingProxyType({"oaxaca_east_west": "the wave has no west"}))
    assert det.none_fitted_text(partly) == ""
    assert det.imputation_text(ms, None) == ""


def test_a_design_based_model_needs_at_least_one_degree_of_freedom(tmp_path):
    """Three PSUs in one stratum give a design-based model PSUs − strata + 1 − K = 3 − K degrees of
    freedom: with an intercept and one regressor (1 df) it is fitted; with two regressors (0 df)
    it is refused, by name."""
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    base = st.settings.models.get("svy_region").model_copy(update={"fixed_effects": ()})
    one = fit_model(st, base.model_copy(update={"regressors": ("age10",)}))
    assert one.df_inference == 1.0
    with pytest.raises(ModelSpecError, match=r"^model 'svy_region': it has more coefficients than this "
                                             r"wave's design \(its PSUs less its strata\) or groups "
                                             r"can support"):
        fit_model(st, base.model_copy(update={"regressors": ("age10", "female")}))


def test_the_model_of_the_score_without_the_digital_items_has_that_score_as_its_outcome(study):
    """``wls_region_nomeans`` (internet use is a regressor, so the determinants page refits the
    headline model on the score without the "means" items): its estimates and SEs are those of
    ``wls_region`` fitted to the index rebuilt without those items (the score
    ``tests/test_index_against_r.py`` compares with R), not to the overall score."""
    from analysis.estimation.index import build_index

    v = study.villagers
    spec = study.settings.models.get("wls_region_nomeans")
    assert spec.outcome == "overall_without_means"
    without = build_index(v, dataclasses.replace(study.construction, exclude_aspects=("means",)),
                          codebook=study.wave.codebook,
                          weights=v[study.wave.design_columns["weight"]].to_numpy(float)).scores["overall"]
    assert not np.allclose(without, study.scores["overall"], equal_nan=True)
    same = study.settings.models.get("wls_region").model_copy(update={"wild": None})
    assert spec.model_copy(update={"outcome": "overall", "name": same.name, "label": same.label,
                                   "wild": None}) == same
    want = fit_model(study, same, scores=study.scores.assign(overall=without)).to_frame().set_index("term")
    got = fit_model(study, spec).to_frame().set_index("term")
    pd.testing.assert_frame_equal(got[["estimate", "se", "p", "ci_low", "ci_high"]],
                                  want[["estimate", "se", "p", "ci_low", "ci_high"]], rtol=1e-12)


@pytest.mark.parametrize("names", [["广西", "河北", "江苏", "四川"], ["广西", "河北", "江苏", "四川", "湖南"]],
                         ids=["four provinces", "five provinces"])
def test_the_multilevel_model_needs_a_between_df_for_its_province_covariates(tmp_path, names):
    """The multilevel model's three province covariates are tested on the between-province df,
    G − 3 − 1 (nlme's): none left with four provinces, where the model is left out with its
    reason although its respondent-level terms have df to spare (the covariates fit the provinces'
    means: the variance between them, their SEs and the conditional ICC are not identified); one
    with five, where it is fitted on that df."""
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "provinces", names))
    spec = st.settings.models.get("multilevel")
    covariates = ["urban_rate", "log_gdp_pc", "fiscal_exp_pc_k"]
    if len(names) == 4:
        with pytest.raises(ModelSpecError, match=r"its 3 province-level covariates fit the 4 provinces' means "
                                                 r"exactly, leaving no degree of freedom between provinces: the "
                                                 r"variance between them, and with it those covariates' standard "
                                                 r"errors and the conditional intraclass correlation, is not "
                                                 r"identified on this wave"):
            fit_model(st, spec)
        return
    res = fit_model(st, spec)
    df = pd.Series(res.df_inference)
    assert (df[covariates] == 1).all() and (df.drop(covariates) > 100).all()


def test_few_top_answers_leave_the_health_ordered_logit_without_its_brant_test_only(study):
    """Five respondents of the wave at the top health answer: a binary logit of the Brant test
    has a singular Hessian there; the model-based ordered logit is still estimated (it was left out
    whole, said to have collinear regressors), without the test and with the reason, as is its
    design-based twin; the page says why in place of the table."""
    from analysis.report.pages.determinants import brant_absent

    w = study.wave
    v = w.data["villagers"].copy()
    top = v.index[v["hlt_sat"] == 5].to_series().sample(frac=1, random_state=0).index[5:]
    v.loc[top, "hlt_sat"] = 4
    st = build_study(dataclasses.replace(w, data={**w.data, "villagers": v}))
    r = fit_model(st, st.settings.models.get("ologit_health"))
    assert "brant" not in r.tables and "answers above 4" in r.stats["brant_absent"]
    assert r.stats["categories"] == 5 and np.isfinite(r.bse).all()
    assert brant_absent({"ologit_health": r}).startswith("No Brant test on this wave: the binary logit")
    assert np.isfinite(fit_model(st, st.settings.models.get("svyolr_health")).bse).all()


def test_the_models_command_on_a_wave_where_no_model_is_estimable_writes_empty_tables(tmp_path):
    """One province: every model is left out (each reason on stderr); the tidy CSV is its header
    alone, the LaTeX table an empty tabular, the JSON an empty list, and the exit code 0 (it was
    a traceback: nothing to concatenate)."""
    from tests import wavegen

    folder = wavegen.provinces(tmp_path / "one-province", ["广西"])
    out = {fmt: CliRunner().invoke(app, ["models", str(folder), "--format", fmt])
           for fmt in ("csv", "latex", "json")}
    assert all(r.exit_code == 0 for r in out.values()), {f: r.output[-300:] for f, r in out.items()}
    assert out["csv"].stdout == "model,term,label,estimate,se,ci_low,ci_high,p,n,p_holm\n"
    assert out["latex"].stdout.startswith("\\begin{tabular}") and "\\bottomrule" in out["latex"].stdout
    assert json.loads(out["json"].stdout)["models"] == []
    assert "wls_region: not estimated on this wave" in " ".join(out["csv"].stderr.split())


def test_the_models_command_s_latex_table_carries_the_holm_stars_of_the_other_formats(fitted):
    """``ruralgov models --format latex`` prints the table ModelSet.to_latex gives by default, with
    its Holm stars: internet use's coefficient in wls_region, p far below 0.01, carries "**"."""
    from analysis.estimation.results import ModelSet

    res = CliRunner().invoke(app, ["models", "--model", "wls_region", "--format", "latex"])
    assert res.exit_code == 0, res.output
    ms = ModelSet((fitted["wls_region"],))
    assert ms.to_frame().set_index("term").loc["internet_use", "p_holm"] < 0.01
    assert res.stdout == ms.to_latex() and "**" in res.stdout and ms.to_latex(stars=False).count("*") == 0
