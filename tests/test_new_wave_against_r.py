"""The report's estimators against R on a wave the stored references never saw: the realistic
2024 wave of ``tests/wavegen.py`` (GBK CSV with Chinese headers, 25 provinces of which one holds a
single village, unnormalised weights, incomes of 0), under the design it is delivered with and
under the others a wave.yml may declare, read by ruralgov, then handed to
``tests/r/new_wave_reference.R``, which derives the regressors and builds the designs itself and
computes each value with survey, sandwich, ordinal and nlme. R runs here, on the wave just
written (no stored values): a change of the wave generator is compared as well. The estimators
are compared as the package returns them, and as the CLI publishes them (``ruralgov index`` and
``ruralgov models``, small cells withheld). The index itself is R's too, for every construction
(``tests/r/index_reference.R`` on the wave's answers). Debian's R packages have no
null-imposed wild cluster bootstrap test (``sandwich::vcovBS`` bootstraps a covariance): the
headline models' is compared with the ``wildboottest`` package (PyPI) instead.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.estimation.index import SCALE, IndexConfig, build_index
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model
from analysis.settings.options import AGGREGATIONS, NORMALISATIONS, WEIGHTINGS
from tests import wavegen
from tests.conftest import run_cli, shared

pytestmark = pytest.mark.against_r
RTOL_EST = 1e-6     # estimates
RTOL_SE = 1e-4      # standard errors, p-values, interval limits
RTOL_SVYOLR = 2.5e-4
"""svyolr's covariance rests on optim's finite-difference Hessian (about 1e-4 relative)."""
COLUMNS = ["resp_id", "province", "province_en", "region3", "village_id", "weight", "internet_use",
           "education", "hh_income", "distance_km", "participation", "age", "sex", "hreg_app", "smartphone",
           "old_age_ins", "migrant_exp", "hlt_sat", "edu_sat"]
"""What R is given of the wave as ruralgov read it (missing codes blank), with the overall score."""


def _proportions(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The villager items of the problems page's Table 1 (each with the answer it counts) and of
    its digital-access table (answer 1)."""
    from analysis.report.pages.problems import DIGITAL_ITEMS

    table1 = [(f.item, f.value) for f in study.settings.reproduction.figures
              if f.key.startswith("table_1_problems.") and f.questionnaire == "villagers"]
    return pd.DataFrame(table1 + [(i, 1) for i in DIGITAL_ITEMS], columns=["item", "value"]).drop_duplicates()


DESIGNS = {"strata+psu": {"weight": "weight", "strata": "province", "psu": "village_id"},
           "psu": {"weight": "weight", "psu": "village_id"},
           "strata": {"weight": "weight", "strata": "province"},
           "none": {"weight": "weight"}}
"""The wave's design as delivered (provinces as strata, villages as PSUs), and as a wave.yml may
declare it otherwise: villages without strata, strata without PSUs, weights alone."""


def _new_wave(tmp: Path, design: str):  # type: ignore[no-untyped-def]
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (apt-get install r-base-core r-cran-survey ...; see README)")
    folder = tmp / "2024-followup"
    folder.mkdir()
    wavegen.write(folder, "gbk")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["design"] = DESIGNS[design]
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    study = build_study(folder)
    props = _proportions(study)
    given = study.villagers[COLUMNS + sorted(set(props["item"]) - set(COLUMNS))]
    given.assign(overall=study.scores["overall"].to_numpy()).to_csv(tmp / "given.csv", index=False)
    props.to_csv(tmp / "proportions.csv", index=False)
    args = [f"--design={design}", str(tmp / "given.csv"), str(study.year), str(tmp / "ref.csv"),
            str(tmp / "proportions.csv")]
    run = subprocess.run(["Rscript", "tests/r/new_wave_reference.R", *args], cwd=paths.ROOT,
                         capture_output=True, text=True)
    if run.returncode and "there is no package called" in run.stderr:
        missing = run.stderr.strip().splitlines()[-1]
        pytest.skip(f"new_wave_reference.R: {missing} (see README for the R packages)")
    assert run.returncode == 0, run.stderr
    return study, pd.read_csv(tmp / "ref.csv"), folder


@pytest.fixture(scope=shared)
def wave(tmp_path_factory):  # type: ignore[no-untyped-def]
    """(the study of the new wave, R's values for it, the wave's folder)."""
    return _new_wave(tmp_path_factory.mktemp("new-wave"), "strata+psu")


@pytest.fixture(scope=shared, params=list(DESIGNS))
def designed(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The new wave under each design its wave.yml may declare: (design, study, R's values, folder)."""
    return (request.param, *_new_wave(tmp_path_factory.mktemp("new-wave-design"), request.param))


def _ref(ref: pd.DataFrame, model: str, kinds: tuple[str, ...] = ("coef",)) -> pd.DataFrame:
    r = ref[(ref["model"] == model) & ref["kind"].isin(kinds)]
    assert len(r) > 0, model
    return r


def test_the_wave_is_unlike_the_stored_references_in_the_ways_said(wave):
    study, _, _ = wave
    v = study.villagers
    villages = v.groupby("province")["village_id"].nunique()
    assert len(villages) == 25 and (villages == 1).sum() == 1          # one province, one village
    assert study.wave.spec.lonely_psu == "adjust"
    assert v["weight"].sum() > 100 * len(v)                             # persons, not normalised
    assert (v["hh_income"] == 0).sum() == 4


def test_the_degree_overall_and_by_domain_equals_svymean_on_the_domains_design_df(designed):
    """Every domain, the province of one village included (no df, so no interval, where villages
    are the PSUs); Wald limits cut at the score's ends, as the estimator documents;
    under each design a wave.yml may declare."""
    design, study, ref, _ = designed
    for model, by in [("degree", None), ("degree_by_region3", "region3"),
                      ("degree_by_province_en", "province_en")]:
        e = study.degree(by=by)
        lo, hi = e.ci
        ours = {"all": 0} if by is None else {str(d): i for i, d in enumerate(e.domains)}
        rows = _ref(ref, model, ("domain",))
        assert sorted(ours) == sorted(rows["term"])
        for r in rows.itertuples():
            i = ours[r.term]
            np.testing.assert_allclose(e.estimate[i], r.estimate, rtol=RTOL_EST, err_msg=r.term)
            np.testing.assert_allclose(e.se[i], r.se, rtol=RTOL_SE, err_msg=r.term)
            assert e.df[i] == r.df, r.term
            want = np.clip([r.ci_low, r.ci_high], *SCALE)
            np.testing.assert_allclose([lo[i], hi[i]], want, rtol=RTOL_SE, err_msg=r.term)   # NaN as NaN
    one_village = (_ref(ref, "degree_by_province_en", ("domain",))["df"] == 0).sum()
    assert one_village == (design in ("strata+psu", "psu"))        # a province of one PSU: no df


MODELS = ["svy_region", "logit_online_registration", "logit_old_age_insurance", "svyolr_health", "wls_region",
          "wls_province", "ologit_education", "ologit_health", "multilevel"]
"""The models R computes here (the Oaxaca decomposition and the score without the digital items
have references of their own)."""
DESIGN_BASED = ["svy_region", "logit_online_registration", "logit_old_age_insurance"]


@pytest.mark.parametrize("model", MODELS)
def test_each_model_s_estimates_ses_df_p_values_and_intervals_equal_r(wave, model):
    """svyglm (linear, quasibinomial) and svyolr on the complete cases' design; the WLS models
    with CR1 SEs on G − 1 df (the headline's wild bootstrap aside); clm's Wald z; lme with the
    wave year's official province covariates, each coefficient on nlme's between-within df."""
    study, ref, _ = wave
    spec = study.settings.models.get(model)
    if model == "wls_region":
        spec = spec.model_copy(update={"wild": None})
    res = fit_model(study, spec)
    t = res.to_frame().set_index("term")
    rtol = RTOL_SVYOLR if model == "svyolr_health" else RTOL_SE
    rows = _ref(ref, model)
    assert set(rows["term"]) - {"Intercept"} == set(t.index) - {"Intercept"}
    for r in rows.itertuples():
        if r.term == "Intercept":
            continue
        df = res.df_inference[r.term] if isinstance(res.df_inference, (dict, pd.Series)) else res.df_inference
        assert (np.inf if df is None else df) == r.df, r.term
        np.testing.assert_allclose(t.loc[r.term, "estimate"], r.estimate, rtol=RTOL_EST, err_msg=r.term)
        got = t.loc[r.term, ["se", "p"]].to_numpy(float)
        np.testing.assert_allclose(got, [r.se, r.p], rtol=rtol, atol=1e-12, err_msg=r.term)
        # a limit is the estimate ± t × SE: the SE's tolerance carried over (a limit near 0 has no
        # relative precision of its own)
        lims = t.loc[r.term, ["ci_low", "ci_high"]].to_numpy(float)
        np.testing.assert_allclose(lims, [r.ci_low, r.ci_high], rtol=0, atol=3 * rtol * r.se, err_msg=r.term)


@pytest.mark.parametrize("model", DESIGN_BASED + ["svyolr_health"])
def test_a_design_based_model_follows_the_design_the_wave_declares(designed, model):
    """svyglm and svyolr under each design a wave.yml may declare: the same estimates, the
    design's SEs, df, p-values and intervals."""
    _, study, ref, _ = designed
    res = fit_model(study, study.settings.models.get(model))
    t = res.to_frame().set_index("term")
    rtol = RTOL_SVYOLR if model == "svyolr_health" else RTOL_SE
    for r in _ref(ref, model).itertuples():
        assert res.df_inference == r.df, r.term
        np.testing.assert_allclose(t.loc[r.term, "estimate"], r.estimate, rtol=RTOL_EST, err_msg=r.term)
        got = t.loc[r.term, ["se", "p"]].to_numpy(float)
        np.testing.assert_allclose(got, [r.se, r.p], rtol=rtol, atol=1e-12, err_msg=r.term)
        lims = t.loc[r.term, ["ci_low", "ci_high"]].to_numpy(float)
        np.testing.assert_allclose(lims, [r.ci_low, r.ci_high], rtol=0, atol=3 * rtol * r.se, err_msg=r.term)


def test_the_ordered_logit_s_cut_points_equal_svyolr(wave):
    study, ref, _ = wave
    res = fit_model(study, study.settings.models.get("svyolr_health"))
    rows = _ref(ref, "svyolr_health", ("cut",))
    assert len(rows) == 4
    for r in rows.itertuples():
        np.testing.assert_allclose(res.params[f"cut{r.term}"], r.estimate, rtol=RTOL_EST, err_msg=r.term)
        np.testing.assert_allclose(res.bse[f"cut{r.term}"], r.se, rtol=RTOL_SVYOLR, err_msg=r.term)


@pytest.mark.parametrize("model", ["logit_online_registration", "logit_old_age_insurance"])
def test_the_logit_marginal_effects_equal_r_s(wave, model):
    study, ref, _ = wave
    ame = fit_model(study, study.settings.models.get(model)).tables["ame"].set_index("term")
    rows = _ref(ref, model, ("ame_discrete", "ame_derivative"))
    assert set(rows["term"]) == set(ame.index)
    for r in rows.itertuples():
        assert ame.loc[r.term, "kind"] == ("discrete change" if r.kind == "ame_discrete" else "derivative")
        # R differentiates numerically (h = 1e-5): derivatives agree to that precision
        np.testing.assert_allclose(ame.loc[r.term, "ame"], r.estimate,
                                   rtol=1e-6 if r.kind == "ame_discrete" else 1e-5, err_msg=r.term)
        np.testing.assert_allclose(ame.loc[r.term, "se"], r.se, rtol=RTOL_SE, err_msg=r.term)


def test_the_degree_the_cli_publishes_equals_r_with_small_cells_withheld(designed):
    """``ruralgov index --format csv`` overall, by region and by province: every published cell
    (estimate, SE, limits, design effect, respondents, villages, df) is R's; a domain below the
    wave's ``min_cell`` shows its counts and nothing else."""
    _, study, ref, folder = designed
    withheld = 0
    for by, model in [(None, "degree"), ("region", "degree_by_region3"),
                      ("province", "degree_by_province_en")]:
        run = run_cli("index", str(folder), "--format", "csv", *(["--by", by] if by else []))
        assert run.returncode == 0, run.stderr
        got = pd.read_csv(io.StringIO(run.stdout), keep_default_na=False, na_values=[""]).set_index("domain")
        rows = _ref(ref, model, ("domain",)).set_index("term")
        assert sorted(got.index) == sorted(rows.index)
        for dom, r in rows.iterrows():
            g = got.loc[dom]
            assert (g["n"], g["n_psu"], g["df"]) == (r["n"], r["n_psu"], r["df"]), dom
            if r["n"] < study.min_cell:
                withheld += 1
                assert g[["estimate", "se", "ci_low", "ci_high", "deff"]].isna().all(), dom
                assert "fewer than" in g["suppressed"], dom
                continue
            np.testing.assert_allclose(g[["estimate", "deff"]].to_numpy(float), [r["estimate"], r["deff"]],
                                       rtol=RTOL_SE, err_msg=dom)
            np.testing.assert_allclose(g["se"], r["se"], rtol=RTOL_SE, err_msg=dom)
            want = np.clip([r["ci_low"], r["ci_high"]], *SCALE)
            lims = g[["ci_low", "ci_high"]].to_numpy(float)
            np.testing.assert_allclose(lims, want, rtol=RTOL_SE, err_msg=dom)
    assert withheld == 3                                      # the three provinces cut below min_cell


def test_the_models_the_cli_publishes_equal_r(wave):
    """``ruralgov models --format json``: each coefficient's estimate, SE, p-value and limits are
    R's, and a design-based model's design (df, villages, respondents) is that of its complete
    cases."""
    _, ref, folder = wave
    run = run_cli("models", str(folder), "--format", "json", *[a for m in MODELS for a in ("--model", m)])
    assert run.returncode == 0, run.stderr
    published = {m["name"]: m for m in json.loads(run.stdout)["models"]}
    assert sorted(published) == sorted(MODELS)
    for name in MODELS:
        coefs = {c["term"]: c for c in published[name]["coefficients"]}
        rtol = RTOL_SVYOLR if name == "svyolr_health" else RTOL_SE
        for r in _ref(ref, name).itertuples():
            if r.term == "Intercept":
                continue
            c = coefs[r.term]
            np.testing.assert_allclose(c["estimate"], r.estimate, rtol=RTOL_EST, err_msg=f"{name} {r.term}")
            np.testing.assert_allclose([c["se"], c["p"]], [r.se, r.p], rtol=rtol, atol=1e-12,
                                       err_msg=f"{name} {r.term}")
            np.testing.assert_allclose([c["ci_low"], c["ci_high"]], [r.ci_low, r.ci_high], rtol=0,
                                       atol=3 * rtol * r.se, err_msg=f"{name} {r.term}")
    for name in DESIGN_BASED:
        r = _ref(ref, name, ("design",)).iloc[0]
        stats = published[name]["stats"]
        got = (stats["design_df"], stats["n_psu"], published[name]["n"])
        assert got == (r["df"], r["n_psu"], r["n"]), name


def test_the_problems_page_s_shares_equal_svyciprop(designed):
    """Table 1 (each problem's share among those who answered, the logit interval on that
    subset's design df) and the digital-access table (overall with its interval, and by region):
    R's values, where the page publishes them."""
    from analysis.report.pages.problems import digital_access, table1

    _, study, ref, _ = designed
    prop = ref[ref["model"] == "proportion"]
    whole = prop[prop["kind"] == "all"].set_index("term")
    t1 = table1(study)
    t1 = t1[t1["base"] == "villagers, design-weighted"].set_index("item")
    assert len(t1) > 0 and set(t1.index) <= set(whole.index)
    published = 0
    for item, row in t1.iterrows():
        r = whole.loc[item]
        assert (row["n"], row["df"]) == (r["n"], r["df"]), item
        if row["suppressed"]:
            continue
        published += 1
        np.testing.assert_allclose(row[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   100 * r[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   rtol=RTOL_SE, err_msg=item)
    assert published > 0
    digital = digital_access(study).set_index("item")
    labels = {study.wave.codebook.item("villagers", i).label: i for i in whole.index}
    assert len(digital) == 8
    for label, row in digital.iterrows():
        item = labels[label]
        r = whole.loc[item]
        np.testing.assert_allclose(row[["all", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   100 * r[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   rtol=RTOL_SE, err_msg=item)
        regions = prop[(prop["term"] == item) & (prop["kind"] != "all")]
        assert len(regions) == 3
        for g in regions.itertuples():
            if np.isfinite(row[g.kind]):                         # a region cell the page publishes
                np.testing.assert_allclose(row[g.kind], 100 * g.estimate, rtol=RTOL_EST,
                                           err_msg=f"{item} {g.kind}")


@pytest.fixture(scope=shared)
def index_reference(wave, tmp_path_factory):  # type: ignore[no-untyped-def]
    """R's index (``tests/r/index_reference.R``, written from the method's definitions) on the new
    wave's answers as ruralgov read them: (the answers, R's scores, R's weights)."""
    study = wave[0]
    tmp = tmp_path_factory.mktemp("new-wave-index")
    items = study.wave.codebook.indicators("villagers")
    ids = [it.id for it in items]
    answers = study.villagers[["weight", *ids]].copy()
    answers.insert(0, "respondent", np.arange(1, len(answers) + 1))
    answers.to_csv(tmp / "input.csv", index=False)
    pd.DataFrame({"id": ids, "field": [it.field for it in items], "aspect": [it.aspect for it in items],
                  "lo": [min(it.values) for it in items], "hi": [max(it.values) for it in items],
                  "direction": [it.direction for it in items]}).to_csv(tmp / "items.csv", index=False)
    args = [str(tmp / "scores.csv"), str(tmp / "input.csv"), str(tmp / "items.csv")]
    run = subprocess.run(["Rscript", "tests/r/index_reference.R", *args], cwd=paths.ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    return answers, pd.read_csv(tmp / "scores.csv"), pd.read_csv(tmp / "scores_weights.csv")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_the_index_equals_r_s_for_every_construction(wave, index_reference, normalisation, weighting,
                                                      aggregation):
    """Every respondent's overall, field and aspect scores and every weight, for each
    normalisation × weighting × aggregation (the choices of the stored reference), on the new
    wave's own answers and missing patterns."""
    from tests.test_index_against_r import CHOICES, assert_equals_reference

    study = wave[0]
    answers, scores, weights = index_reference
    cfg = IndexConfig(normalisation=normalisation, weighting=weighting, aggregation=aggregation, **CHOICES)
    res = build_index(answers, cfg, codebook=study.wave.codebook, weights=answers["weight"].to_numpy())
    assert_equals_reference(res, answers["respondent"], scores, weights, cfg, rtol=1e-9)


# ---- the headline models' wild cluster bootstrap against the `wildboottest` package ----------

@pytest.mark.parametrize("model", ["wls_region", "wls_province"])
def test_the_wild_bootstrap_the_determinants_page_reports_equals_wildboottest(wave, model):
    """The page's wild bootstrap as the model fits it (survey weights, the region or province
    effect absorbed, clustered by province, Webb multipliers from the seed in data/models.yml):
    on the same multipliers, each regressor's restricted (WCR) p-value and unrestricted (WCU)
    percentile-t limits equal those the reference computes on the model with every dummy."""
    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import wild_weights
    from tests.test_models import _wildboottest

    study, _, _ = wave
    spec = study.settings.models.get(model)
    got = fit_model(study, spec).tables["wild"].set_index("term")
    df = model_frame(study, spec).data
    regs = list(spec.regressors)
    assert list(got.index) == regs
    dummies = pd.get_dummies(df[spec.fixed_effects[0]], drop_first=True, dtype=float)
    X = np.column_stack([np.ones(len(df)), df[regs].to_numpy(float), dummies.to_numpy()])
    y, w = df[spec.outcome].to_numpy(float), df[spec.weights].to_numpy(float)
    clusters = df[spec.cluster].to_numpy()
    first = pd.unique(clusters)                               # the clusters in order of appearance
    assert len(first) == 25 and (len(dummies.columns) > 10) == (model == "wls_province")
    assert not np.array_equal(first, np.unique(clusters))     # the file's order is not the sorted one
    # the model's draws: one row per cluster in the sorted order of the ids, the reference's order
    V = wild_weights(spec.wild.weights, (len(first), spec.wild.reps), np.random.default_rng(spec.wild.seed))
    for j, term in enumerate(regs, start=1):
        wcr = _wildboottest(y, X, clusters, j, impose_null=True, weights_type="webb", w=w, multipliers=V)
        wcu = _wildboottest(y, X, clusters, j, impose_null=False, weights_type="webb", w=w, multipliers=V)
        b, se = got.loc[term, "estimate"], got.loc[term, "se"]
        np.testing.assert_allclose(b / se, float(np.ravel(wcr.t_stat)[0]), rtol=1e-9, err_msg=term)
        assert got.loc[term, "wild_p"] == pytest.approx(float(wcr.pvalue), abs=1e-12), term
        lo_q, hi_q = np.quantile(np.ravel(wcu.t_boot), [0.025, 0.975])
        np.testing.assert_allclose(got.loc[term, ["wild_ci_low", "wild_ci_high"]].to_numpy(float),
                                   [b - hi_q * se, b - lo_q * se], rtol=1e-8, err_msg=term)
