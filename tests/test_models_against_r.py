"""Each estimator of the determinant models (analysis/estimation/) against R on the same data (stored references).

References: ``tests/results/models_reference.csv`` from ``tests/r/models_reference.R``
(lm + sandwich::vcovCL HC1, survey::svyglm, lme4::lmer REML/ML, ordinal::clm, glm AMEs;
the weighted model's diagnostics by hand from lm).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model
from tests.conftest import rerun_r_reference, shared

RTOL_COEF = 1e-6     # coefficients (issue requirement)
RTOL_SE = 1e-4       # standard errors
# variance components are where two optimisers (lme4 nloptwrap, statsmodels BFGS) stop on a flat
# likelihood; 1e-5 relative is far below their sampling error
RTOL_VARCOMP = 1e-5
REF = pd.read_csv(paths.ROOT / "tests/results/models_reference.csv")
pytestmark = pytest.mark.against_r


@pytest.fixture(scope=shared)
def fitted():
    st = build_study("2020-replica")
    by = {m.name: m for m in st.settings.models.models}
    out = {}
    for name in ("wls_region", "wls_province", "svy_region", "ologit_education", "ologit_health",
                 "ologit_social_security", "ologit_employment_training", "ologit_culture_sports",
                 "logit_online_registration", "logit_old_age_insurance"):
        out[name] = fit_model(st, by[name].model_copy(update={"wild": None}))
    out["multilevel_reml"] = fit_model(st, by["multilevel"].model_copy(update={"reml": True}))
    out["multilevel_ml"] = fit_model(st, by["multilevel"].model_copy(update={"reml": False}))
    return out


def _rows(kind):
    r = REF[REF["kind"] == kind]
    return list(r.itertuples(index=False))


def _id(r):
    return f"{r.model}-{r.term}"


@pytest.mark.parametrize("row", _rows("coef"), ids=_id)
def test_coefficients_and_standard_errors(fitted, row):
    res = fitted[row.model]
    np.testing.assert_allclose(res.params[row.term], row.estimate, rtol=RTOL_COEF)
    np.testing.assert_allclose(res.bse[row.term], row.se, rtol=RTOL_SE)


@pytest.mark.parametrize("row", _rows("cut"), ids=_id)
def test_ordered_logit_cutpoints(fitted, row):
    res = fitted[row.model]
    a, b = row.term.removeprefix("cut").split("|")
    term = f"cut{a}|{b}"
    np.testing.assert_allclose(res.params[term], row.estimate, rtol=RTOL_COEF)
    np.testing.assert_allclose(res.bse[term], row.se, rtol=RTOL_SE)


@pytest.mark.parametrize("row", _rows("varcomp"), ids=_id)
def test_variance_components(fitted, row):
    st = fitted[row.model].stats
    np.testing.assert_allclose(st[row.term], row.estimate, rtol=RTOL_VARCOMP)


@pytest.mark.parametrize("row", _rows("ame"), ids=_id)
def test_logit_average_marginal_effects(fitted, row):
    ame = fitted[row.model].tables["ame"].set_index("term")
    # R differentiates predict() numerically (h = 1e-5): agreement to that precision
    np.testing.assert_allclose(ame.loc[row.term, "ame"], row.estimate, rtol=1e-6)
    np.testing.assert_allclose(ame.loc[row.term, "se"], row.se, rtol=RTOL_SE)


@pytest.fixture(scope=shared)
def diagnosed():
    from analysis.estimation.suite import diagnostics

    return diagnostics(build_study("2020-replica"), model="wls_region")


@pytest.mark.parametrize("row", _rows("vif"), ids=_id)
def test_variance_inflation_factors(diagnosed, row):
    vif = diagnosed["vif"].set_index("term")["vif"]
    np.testing.assert_allclose(vif[row.term], row.estimate, rtol=1e-9)


DIAGNOSTIC = {"bp_lm": ("breusch_pagan", "lm"), "bp_p": ("breusch_pagan", "p"), "reset_f": ("reset", "f"),
              "reset_p": ("reset", "p"), "cooks_max": ("cooks_max", None),
              "cooks_over_4_n": ("cooks_over_4_n", None)}


@pytest.mark.parametrize("row", _rows("diagnostic"), ids=_id)
def test_specification_tests_and_influence_of_the_weighted_model(diagnosed, row):
    """Breusch–Pagan (Koenker) on the weighted residuals, RESET as an F test in the weighted model
    (not statsmodels' linear_reset, which refits the augmented model unweighted), Cook's distance."""
    key, sub = DIAGNOSTIC[row.term]
    got = diagnosed[key] if sub is None else diagnosed[key][sub]
    # p-values near 1e-12 are far in the tail: agreement to 1e-7 relative
    np.testing.assert_allclose(got, row.estimate, rtol=1e-7 if row.term.endswith("_p") else 1e-9)


def test_stored_references_are_what_r_computes(tmp_path):
    # lmer's optimum (nloptwrap) moves in the 7th digit between machines (2.7e-7 measured on the ML
    # province variance): those rows at 1e-6, ten times below RTOL_VARCOMP; the rest at 1e-9
    rerun_r_reference("tests/r/models_reference.R", REF, tmp_path, rtol=1e-9, optimised=("multilevel", 1e-6))


OAXACA = pd.read_csv(paths.ROOT / "tests/results/oaxaca_reference.csv")
OAXACA_NAMES = {"explained": "explained (two-fold)", "unexplained": "unexplained (two-fold)",
                "endowments": "endowments (three-fold)", "coefficients": "coefficients (three-fold)",
                "interaction": "interaction (three-fold)"}


def test_oaxaca_decomposition_and_its_bootstrap_ses_equal_r_on_the_same_replicates():
    """The east–west decomposition the page prints, every component and each regressor's explained
    part, with their SEs: R's lm fits per replicate and survey::withReplicates on the same Rao–Wu
    multipliers (tests/r/oaxaca_input.py writes them as the package draws them)."""
    from analysis.estimation.suite import fit_models

    r = fit_models(build_study("2020-replica"), names=["oaxaca_east_west"])["oaxaca_east_west"]
    got = pd.concat([r.tables["decomposition"].rename(columns={"component": "name"}),
                     r.tables["detail"].rename(columns={"term": "name", "explained": "estimate"})])
    got = got.set_index("name")[["estimate", "se"]]
    want = OAXACA.assign(name=OAXACA["component"].map(lambda c: OAXACA_NAMES.get(c, c))).set_index("name")
    assert len(want) == 13 and set(want.index) == set(got.index)
    np.testing.assert_allclose(got.loc[want.index, "estimate"], want["estimate"], rtol=1e-9)
    np.testing.assert_allclose(got.loc[want.index, "se"], want["se"], rtol=1e-8)


def test_oaxaca_reference_inputs_are_what_the_package_draws():
    """The multipliers R read are the package's own draws for the model (seed, PSU codes)."""
    from tests.r.oaxaca_input import frames

    data, mult = frames()
    pd.testing.assert_frame_equal(data, pd.read_csv(paths.ROOT / "tests/data/oaxaca_input.csv"),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(mult, pd.read_csv(paths.ROOT / "tests/data/oaxaca_multipliers.csv"))


def test_stored_oaxaca_references_are_what_r_computes(tmp_path):
    rerun_r_reference("tests/r/oaxaca_reference.R", OAXACA, tmp_path, rtol=1e-10)
