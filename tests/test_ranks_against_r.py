"""The province rank intervals of the index page and the profiles against R, end to end: R's
survey package recomputes each Rao–Wu replicate's province means from the package's own
multipliers (tests/r/ranks_input.py writes them), ranks each replicate among the publishable
provinces and takes the median and the 2.5 % and 97.5 % quantiles (tests/r/ranks_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.sensitivity import domain_replicates
from analysis.estimation.study import build_study
from analysis.ingest.provinces import resolve
from tests.conftest import rerun_r_reference, shared

pytestmark = pytest.mark.against_r
REF = pd.read_csv(paths.ROOT / "tests/results/ranks_reference.csv")


@pytest.fixture(scope=shared)
def study_and_replicates():
    st = build_study("2020-replica")
    return st, domain_replicates(st)


def test_the_index_page_s_rank_intervals_equal_r_on_the_same_replicates(study_and_replicates):
    from analysis.report.pages.index import province_table

    st, reps = study_and_replicates
    got = province_table(st, reps).set_index("province")
    want = REF.set_index("province")
    assert len(want) == 22 and set(want.index) <= set(got.index)
    for c in ("median_rank", "rank_low", "rank_high"):
        np.testing.assert_allclose(got.loc[want.index, c].astype(float), want[c], rtol=0, atol=1e-12,
                                   err_msg=c)
    # the replicate means the ranks rest on: R's svyby replicates, their mean and SD
    np.testing.assert_allclose(reps[want.index].mean(), want["boot_mean"], rtol=1e-10)
    np.testing.assert_allclose(reps[want.index].std(ddof=1), want["boot_se"], rtol=1e-9)


@pytest.mark.parametrize("name", ["Gansu", "Fujian", "Shanghai"])
def test_a_profile_s_rank_equals_r(study_and_replicates, name):
    from analysis.report.pages.profile import rank

    st, reps = study_and_replicates
    got = rank(st, resolve(name).adcode, reps)
    want = REF.set_index("province").loc[name]
    assert got["n_ranked"] == len(REF)
    assert [got["median_rank"], got["rank_low"], got["rank_high"]] == pytest.approx(
        [want["median_rank"], want["rank_low"], want["rank_high"]], abs=1e-12)


def test_rank_reference_inputs_are_what_the_package_draws():
    """The multipliers R read are the package's own draws for the province replicates (seed, reps,
    PSU codes), the scores the study's, and the provinces ranked the page's publishable ones."""
    from tests.r.ranks_input import frames

    data, mult, ranked = frames()
    pd.testing.assert_frame_equal(data, pd.read_csv(paths.ROOT / "tests/data/ranks_input.csv"),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(mult, pd.read_csv(paths.ROOT / "tests/data/ranks_multipliers.csv"))
    pd.testing.assert_frame_equal(ranked, pd.read_csv(paths.ROOT / "tests/data/ranks_provinces.csv"))


def test_stored_rank_references_are_what_r_computes(tmp_path):
    rerun_r_reference("tests/r/ranks_reference.R", REF, tmp_path, rtol=1e-10)
