"""Design-based estimators against R's survey package (stored references + the R script).

References: ``tests/results/design_reference.csv``, made by ``tests/r/design_reference.R`` from
public data (``data(api)`` of the survey package) and from the default wave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.design import SurveyDesign
from tests.conftest import rerun_r_reference

RTOL_EST = 1e-8   # point estimates (issue requirement)
RTOL_SE = 1e-6    # standard errors, design effects, CI limits
REF = pd.read_csv(paths.ROOT / "tests/results/design_reference.csv", keep_default_na=True)
DATA = paths.ROOT / "tests/data"

pytestmark = pytest.mark.against_r


def _designs():
    a = pd.read_csv(DATA / "apistrat.csv")
    c = pd.read_csv(DATA / "apiclus1.csv")
    s = pd.read_csv(DATA / "replica_scores.csv")
    v = pd.read_csv(paths.WAVES / "2020-replica" / "villagers.csv")
    lonely = pd.concat([a[a["stype"] != "H"], a[a["stype"] == "H"].iloc[:1]])   # one PSU in stratum H
    return {
        "apistrat_lonely_adjust": (lonely, SurveyDesign.from_frame(lonely, weight="pw", strata="stype")),  # default
        "apistrat_lonely_remove": (lonely, SurveyDesign.from_frame(lonely, weight="pw", strata="stype",
                                                                   lonely_psu="remove")),
        "apistrat_lonely_certainty": (lonely, SurveyDesign.from_frame(lonely, weight="pw", strata="stype",
                                                                      lonely_psu="certainty")),
        "apistrat": (a, SurveyDesign.from_frame(a, weight="pw", strata="stype", fpc="fpc")),
        "apiclus1": (c, SurveyDesign.from_frame(c, weight="pw", psu="dnum")),
        "replica": (s, SurveyDesign.from_frame(s, weight="weight", strata="province", psu="village_id")),
        "replica_mean1": (s, SurveyDesign.from_frame(s.assign(weight=s["weight"] / s["weight"].mean()),
                                                     weight="weight", strata="province", psu="village_id")),
        "replica_raw": (v, SurveyDesign.from_frame(v, weight="weight", strata="province", psu="village_id")),
    }


class _Designs(dict):
    """The designs, built on first use inside a test (not at collection: a mutation tool must see
    which tests construct a design), then reused."""

    def __missing__(self, key):  # type: ignore[no-untyped-def]
        self.update(_designs())
        return dict.__getitem__(self, key)


DESIGNS = _Designs()


def _estimate(row):
    ds, var = row.dataset, row.variable
    by = None
    if " by " in var:
        var, by = var.split(" by ")
    if ds == "replica" and (row.statistic == "proportion" or var == "old_age_none"):
        df, d = DESIGNS["replica_raw"]
    else:
        df, d = DESIGNS[ds]
    dom = None
    if by == "cname==Los Angeles":
        dom = (df["cname"] == "Los Angeles").map({True: "TRUE", False: "FALSE"})
    elif by is not None:
        dom = df[by]
    if row.statistic == "mean" and var == "old_age_none":
        y = df["old_age_ins"].where(~df["old_age_ins"].isin([8, 9]))
        return d.mean((y == 0).astype(float).where(y.notna()), by=dom)
    if row.statistic == "mean":
        return d.mean(df[var], by=dom)
    if row.statistic == "total":
        return d.total(df[var], by=dom)
    if row.statistic == "ratio":
        num, den = var.split("/")
        return d.ratio(df[num], df[den], by=dom)
    if var == "sch.wide==Yes":
        return d.proportion((df["sch.wide"] == "Yes").astype(float), by=dom)
    y = df[var].where(df[var].isin([0, 1]))
    return d.proportion(y, by=dom)


@pytest.mark.parametrize("row", list(REF.itertuples(index=False)),
                         ids=[f"{r.dataset}-{r.statistic}-{r.variable}-{r.domain}" for r in REF.itertuples()])
def test_matches_r_survey(row):
    est = _estimate(row)
    i = [str(x) for x in est.domains].index(str(row.domain))
    np.testing.assert_allclose(est.estimate[i], row.estimate, rtol=RTOL_EST)
    np.testing.assert_allclose(est.se[i], row.se, rtol=RTOL_SE)
    if np.isfinite(row.deff):
        np.testing.assert_allclose(est.deff[i], row.deff, rtol=RTOL_SE)
    if np.isfinite(row.ci_low):
        lo, hi = est.ci
        np.testing.assert_allclose([lo[i], hi[i]], [row.ci_low, row.ci_high], rtol=RTOL_SE)


def test_reference_inputs_are_current(tmp_path):
    """The scores file R read equals what `ruralgov index --scores` writes now."""
    from typer.testing import CliRunner

    from analysis.cli import app

    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["index", "2020-replica", "--scores", str(out), "--format", "csv"])
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(DATA / "replica_scores.csv"))


def test_stored_references_are_what_r_computes(tmp_path):
    rerun_r_reference("tests/r/design_reference.R", REF, tmp_path, rtol=1e-12)


def test_the_tidy_table_carries_every_field_of_the_estimate_scaled():
    """Estimate.to_frame: the columns the CLI, the pages and the CSVs read, the estimate, SE and
    interval scaled together (proportions × 100), design effects, counts and df unscaled."""
    import dataclasses

    a, d = DESIGNS["apiclus1"]
    e = d.proportion((a["sch.wide"] == "Yes").astype(float), by=a["stype"])
    f = e.to_frame(scale=100)
    assert f.columns.tolist() == ["domain", "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_psu", "df", "sum_w"]
    lo, hi = e.ci
    np.testing.assert_allclose(f["estimate"], 100 * e.estimate)
    np.testing.assert_allclose(f["se"], 100 * e.se)
    np.testing.assert_allclose(f[["ci_low", "ci_high"]].to_numpy().T, [100 * lo, 100 * hi])
    np.testing.assert_allclose(f["deff"], e.deff)
    assert f["n"].tolist() == list(e.n) and f["df"].tolist() == [int(x) for x in e.df]
    assert f["df"].dtype.kind == "i" and f["n_psu"].dtype.kind == "i"     # counts print as integers
    assert f["n_psu"].tolist() == list(e.n_psu) and f["domain"].tolist() == list(e.domains)
    assert (dataclasses.replace(e, n_psu=None).to_frame()["n_psu"] == -1).all()     # unknown PSUs
    pd.testing.assert_frame_equal(e.to_frame(), e.to_frame(scale=1.0))


def test_a_proportion_of_anything_but_0_1_is_refused_with_the_rule():
    a, d = DESIGNS["apiclus1"]
    with pytest.raises(ValueError, match=r"proportion\(\) needs a 0/1 \(or boolean\) variable"):
        d.proportion(a["api00"])
    e = d.proportion((a["sch.wide"] == "Yes"))                         # booleans are 0/1
    np.testing.assert_allclose(e.estimate, d.proportion((a["sch.wide"] == "Yes").astype(float)).estimate)


def test_a_total_counts_its_respondents_and_weights_by_domain():
    """Counts behind a total (respondents with an answer, their weights, PSUs) by hand, and the
    estimate kind the tidy table carries; a missing answer is outside every domain."""
    a, d = DESIGNS["apistrat"]
    y = a["enroll"].astype(float).where(a.index % 7 != 0)            # some answers missing
    e = d.total(y, by=a["stype"])
    for i, dom in enumerate(e.domains):
        rows = (a["stype"] == dom) & y.notna()
        assert e.n[i] == rows.sum() and e.n_psu[i] == rows.sum()     # one school per PSU
        np.testing.assert_allclose(e.sum_w[i], a.loc[rows, "pw"].sum())
        np.testing.assert_allclose(e.estimate[i], (a.loc[rows, "pw"] * y[rows]).sum())
    assert e.kind == "total" and np.isnan(e.deff).all()
    assert d.mean(y).kind == "mean" and d.ratio(y, a["api99"]).kind == "ratio"
    assert d.proportion((a["sch.wide"] == "Yes")).kind == "proportion"
