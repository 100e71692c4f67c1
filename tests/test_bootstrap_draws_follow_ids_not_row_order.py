"""A seed gives each cluster, PSU or respondent its bootstrap draws by its id, not by where its rows
stand in the file: the wild cluster bootstrap, the Rao–Wu replicates of the index page and the
Oaxaca decomposition give the same figures on a wave whose rows are shuffled, and on a wave whose
design names no PSU (each respondent's id then names the unit resampled)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.estimation.regression import wild_cluster_bootstrap
from analysis.estimation.sensitivity import domain_replicates
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model
from tests import wavegen


def _shuffled(v: pd.DataFrame) -> pd.DataFrame:
    return v.sample(frac=1.0, random_state=11)


def _without_psu(folder):  # type: ignore[no-untyped-def]
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["design"]["psu"] = None
    wavegen._write_spec(folder, spec)
    return folder


def test_id_codes_number_ids_in_their_sorted_order():
    """Numbers as numbers (2 before 10; 7.0 and 7 one id), in a list, an array or a nullable
    column, a missing id −1; text as text ("10" before "2"); the codes are integers."""
    from analysis.estimation.design import id_codes

    for values in ([10, 2, 10, np.nan], np.array([10.0, 2.0, 10.0, np.nan]),
                   pd.Series([10, 2, 10, None], dtype="Int64")):
        codes, levels = id_codes(values)
        assert codes.tolist() == [1, 0, 1, -1] and codes.dtype == np.int64
        assert [float(x) for x in levels] == [2.0, 10.0]
    np.testing.assert_array_equal(id_codes(np.array([7.0, 12.0, 7.0]))[0], id_codes(np.array([7, 12, 7]))[0])
    codes, levels = id_codes(np.array(["10", "2", None, "10"], dtype=object))
    assert codes.tolist() == [0, 1, -1, 0] and list(levels) == ["10", "2"] and codes.dtype == np.int64


@pytest.mark.parametrize("ids", ["numbers", "floats", "text"])
def test_the_wild_bootstrap_of_shuffled_rows_is_the_wild_bootstrap_of_the_rows(ids):
    """Rows permuted (clusters first met in another order), or cluster 3 read as 3.0: the same
    p-values and percentile-t limits for the same seed."""
    rng = np.random.default_rng(4)
    g = rng.integers(1, 13, 400)
    x = rng.normal(size=(400, 2))
    y = 0.3 * x[:, 0] + 0.05 * x[:, 1] + rng.normal(size=12)[g - 1] + rng.normal(size=400)
    X = np.column_stack([np.ones(400), x])
    w = rng.uniform(0.5, 2.0, 400)
    groups = {"numbers": g, "floats": g.astype(float), "text": np.array([f"c{i}" for i in g])}[ids]
    perm = rng.permutation(400)
    base = wild_cluster_bootstrap(y, X, w, groups, [1, 2], reps=199, seed=3)
    moved = wild_cluster_bootstrap(y[perm], X[perm], w[perm], groups[perm], [1, 2], reps=199, seed=3)
    assert pd.unique(groups)[0] != pd.unique(groups[perm])[0]
    pd.testing.assert_frame_equal(base, moved, check_exact=False, rtol=1e-9)
    if ids == "floats":
        ints = wild_cluster_bootstrap(y, X, w, g, [1, 2], reps=199, seed=3)
        pd.testing.assert_frame_equal(base, ints, check_exact=False, rtol=1e-12)


@pytest.fixture(scope="module")
def shuffled_study(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = wavegen.replica_copy(tmp_path_factory.mktemp("w") / "shuffled", villagers=_shuffled)
    return build_study(folder)


@pytest.fixture(scope="module")
def base_study():  # type: ignore[no-untyped-def]
    return build_study(paths.DEFAULT_WAVE)


def test_the_default_wave_s_rows_are_not_in_the_order_of_their_ids(base_study, shuffled_study):
    """The premise of the tests below: neither wave lists its provinces or villages sorted."""
    for study in (base_study, shuffled_study):
        for c in ("province", "village_id"):
            first = pd.unique(study.villagers[c])
            assert list(first) != sorted(first)


@pytest.mark.parametrize("model", ["wls_region", "oaxaca_east_west"])
def test_bootstrap_figures_of_a_model_are_those_of_the_wave_with_its_rows_shuffled(model, base_study,
                                                                                    shuffled_study):
    """The headline model's wild bootstrap (clusters: provinces) and the Oaxaca decomposition's
    Rao–Wu standard errors (PSUs: villages within provinces) are the same figures."""
    spec = base_study.settings.models.get(model)
    a, b = fit_model(base_study, spec), fit_model(shuffled_study, spec)
    key = "wild" if model == "wls_region" else "decomposition"
    pd.testing.assert_frame_equal(a.tables[key], b.tables[key], check_exact=False, rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(a.vcov)), np.sqrt(np.diag(b.vcov)), rtol=1e-9)


def test_the_province_replicates_of_the_index_page_are_those_of_the_wave_with_its_rows_shuffled(
        base_study, shuffled_study):
    """Each province's Rao–Wu replicate means (and so its rank interval) for the same seed."""
    a = domain_replicates(base_study, reps=40, seed=2)
    b = domain_replicates(shuffled_study, reps=40, seed=2)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


def test_without_a_psu_the_respondent_s_id_names_the_unit_resampled(tmp_path, base_study):
    """A design naming no PSU: the bootstrap resamples respondents by their ids, so the Oaxaca
    standard errors and the province replicates do not move when the rows do."""
    plain = build_study(_without_psu(wavegen.replica_copy(tmp_path / "no-psu")))
    moved = build_study(_without_psu(wavegen.replica_copy(tmp_path / "no-psu-shuffled", villagers=_shuffled)))
    assert base_study.wave.bootstrap_units == "village_id"
    assert plain.wave.bootstrap_units == moved.wave.bootstrap_units == "resp_id"
    spec = plain.settings.models.get("oaxaca_east_west")
    a, b = fit_model(plain, spec), fit_model(moved, spec)
    pd.testing.assert_frame_equal(a.tables["decomposition"], b.tables["decomposition"], check_exact=False,
                                  rtol=1e-9)
    base = fit_model(base_study, spec).tables["decomposition"]
    assert not np.allclose(a.tables["decomposition"]["se"], base["se"])     # respondents, not villages
    pd.testing.assert_frame_equal(domain_replicates(plain, reps=30, seed=1),
                                  domain_replicates(moved, reps=30, seed=1), check_exact=False, rtol=1e-9)
    from analysis.estimation.sensitivity import run_sensitivity

    a, b = (run_sensitivity(st, draws=14, seed=5) for st in (plain, moved))   # its bootstrap input too
    pd.testing.assert_frame_equal(a.regions, b.regions, check_exact=False, rtol=1e-9)


def test_multiple_imputation_of_the_shuffled_wave_is_that_of_the_wave(base_study, shuffled_study):
    """The chained equations take the rows in the order of the respondents' ids: the same seed
    gives the same pooled estimates, SEs and fractions of missing information on the shuffled wave,
    and the imputations still follow the seed."""
    from analysis.estimation.suite import multiple_imputation

    assert base_study.wave.respondent_id == "resp_id"
    a = multiple_imputation(base_study, imputations=3, burn_in=2, seed=5)
    b = multiple_imputation(shuffled_study, imputations=3, burn_in=2, seed=5)
    assert a.attrs["missing_rows"] > 0
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    other = multiple_imputation(base_study, imputations=3, burn_in=2, seed=6)
    assert not np.allclose(a["estimate"], other["estimate"])
