"""Design-based estimators against R's survey package (stored references + the R script).

References: ``tests/results/design_reference.csv``, made by ``tests/r/design_reference.R`` from
public data (``data(api)`` of the survey package) and from the default wave.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.design import DesignError, SurveyDesign, answered
from tests.conftest import rerun_r_reference, shared

RTOL_EST = 1e-8   # point estimates (issue requirement)
RTOL_SE = 1e-6    # standard errors, design effects, CI limits
ATOL = 1e-9      # a value R gives as about 1e-11 where ruralgov gives 0 (a boundary proportion)
REF = pd.read_csv(paths.ROOT / "tests/results/design_reference.csv", keep_default_na=True)
DATA = paths.ROOT / "tests/data"

pytestmark = pytest.mark.against_r


def _frames() -> dict[str, pd.DataFrame]:
    a = pd.read_csv(DATA / "apistrat.csv")
    s = pd.read_csv(DATA / "replica_scores.csv")
    n_h = a.groupby("stype")["pw"].transform("size")
    return {"a": a, "a_frac": a.assign(frac=n_h / a["fpc"]),           # the fpc as sampling fractions
            "c": pd.read_csv(DATA / "apiclus1.csv"), "s": s,
            "s1": s.assign(weight=s["weight"] / s["weight"].mean()),
            "v": pd.read_csv(paths.WAVES / "2020-replica" / "villagers.csv"),
            "lonely": pd.concat([a[a["stype"] != "H"], a[a["stype"] == "H"].iloc[:1]])}   # one PSU in stratum H


DESIGN_ARGS = {   # name: (frame, from_frame's arguments)
    "apistrat_lonely_adjust": ("lonely", {"weight": "pw", "strata": "stype"}),          # the default rule
    "apistrat_lonely_remove": ("lonely", {"weight": "pw", "strata": "stype", "lonely_psu": "remove"}),
    "apistrat_lonely_certainty": ("lonely", {"weight": "pw", "strata": "stype", "lonely_psu": "certainty"}),
    "apistrat": ("a", {"weight": "pw", "strata": "stype", "fpc": "fpc"}),
    "apiclus1": ("c", {"weight": "pw", "psu": "dnum"}),
    "apiclus1_fpc": ("c", {"weight": "pw", "psu": "dnum", "fpc": "fpc"}),               # no strata
    "apistrat_frac": ("a_frac", {"weight": "pw", "strata": "stype", "fpc": "frac"}),
    "replica": ("s", {"weight": "weight", "strata": "province", "psu": "village_id"}),
    "replica_mean1": ("s1", {"weight": "weight", "strata": "province", "psu": "village_id"}),
    "replica_raw": ("v", {"weight": "weight", "strata": "province", "psu": "village_id"}),
}


class _Designs(dict):
    """Each design built when a test first asks for it (so the test that uses a design is the one
    that constructs it, as a mutation tool maps constructors to tests), then reused in the session."""

    def __missing__(self, key):  # type: ignore[no-untyped-def]
        if "frames" not in self:
            self["frames"] = _frames()
        frame, kw = DESIGN_ARGS[key]
        df = self["frames"][frame]
        self[key] = (df, SurveyDesign.from_frame(df, **kw))
        return self[key]


@pytest.fixture(scope=shared)
def designs() -> _Designs:
    """One cache per test session, not per process: a mutation tool runs many sessions in one
    process, and a design cached by an earlier session would hide a mutant of its constructor."""
    return _Designs()


def _estimate(row, designs):
    ds, var = row.dataset, row.variable
    by = None
    if " by " in var:
        var, by = var.split(" by ")
    if ds == "replica" and (row.statistic == "proportion" or var == "old_age_none"):
        df, d = designs["replica_raw"]
    else:
        df, d = designs[ds]
    dom = None
    if by == "cname==Los Angeles":
        dom = (df["cname"] == "Los Angeles").map({True: "TRUE", False: "FALSE"})
    elif by is not None:
        dom = df[by]
    if row.statistic == "mean" and var == "old_age_none":
        y = df["old_age_ins"].where(~df["old_age_ins"].isin([8, 9]))
        return d.mean((y == 0).astype(float).where(y.notna()), by=dom)
    if row.statistic in ("mean", "contrast"):
        return d.mean(df[var], by=dom)
    if row.statistic == "total":
        return d.total(df[var], by=dom)
    if row.statistic == "ratio":
        num, den = var.split("/")
        return d.ratio(df[num], df[den], by=dom)
    if var == "sch.wide==Yes":
        return d.proportion((df["sch.wide"] == "Yes").astype(float), by=dom)
    if var == "stype==E":
        return d.proportion((df["stype"] == "E").astype(float), by=dom)
    y = df[var].where(df[var].isin([0, 1]))
    return d.proportion(y, by=dom)


THROUGH_PAGES = ["replica_digital", "replica_three", "replica_two"]      # checked through the pages
ESTIMATOR_ROWS = REF[~REF["dataset"].isin(THROUGH_PAGES)]


@pytest.mark.parametrize("row", list(ESTIMATOR_ROWS.itertuples(index=False)),
                         ids=[f"{r.dataset}-{r.statistic}-{r.variable}-{r.domain}"
                              for r in ESTIMATOR_ROWS.itertuples()])
def test_matches_r_survey(row, designs):
    est = _estimate(row, designs)
    if row.statistic == "contrast":                 # svycontrast of two domain means
        a, b = row.domain.split("-")
        diff, se = est.contrast(a, b)
        np.testing.assert_allclose(diff, row.estimate, rtol=RTOL_EST)
        np.testing.assert_allclose(se, row.se, rtol=RTOL_SE)
        return
    i = [str(x) for x in est.domains].index(str(row.domain))
    # ATOL: svyciprop fits a logit glm, which puts a proportion of 0 at about 1e-11
    np.testing.assert_allclose(est.estimate[i], row.estimate, rtol=RTOL_EST, atol=ATOL)
    np.testing.assert_allclose(est.se[i], row.se, rtol=RTOL_SE, atol=ATOL)
    if np.isfinite(row.deff):
        np.testing.assert_allclose(est.deff[i], row.deff, rtol=RTOL_SE)
    if np.isfinite(row.ci_low):
        lo, hi = est.ci
        np.testing.assert_allclose([lo[i], hi[i]], [row.ci_low, row.ci_high], rtol=RTOL_SE, atol=ATOL)


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


def test_the_tidy_table_carries_every_field_of_the_estimate_scaled(designs):
    """Estimate.to_frame: the columns the CLI, the pages and the CSVs read, the estimate, SE and
    interval scaled together (proportions × 100), design effects, counts and df unscaled."""
    import dataclasses

    a, d = designs["apiclus1"]
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


def test_a_proportion_s_logit_interval_at_another_level_takes_that_level_s_t_quantile(designs):
    """svyciprop's logit interval, expit(logit p ± t(df, (1 + level)/2) · se / (p (1 − p))): the
    95 % one is R's (test_matches_r_survey); at 90 % its half-width on the logit scale is the 95 %
    one times t(df, 0.95) / t(df, 0.975), overall and by domain."""
    from scipy import stats

    a, d = designs["apiclus1"]
    y = (a["sch.wide"] == "Yes").astype(float)

    def logit(q):  # type: ignore[no-untyped-def]
        return np.log(q / (1 - q))

    for by in (None, a["stype"]):
        e95, e90 = d.proportion(y, by=by), d.proportion(y, by=by, level=0.9)
        p = e95.estimate
        np.testing.assert_allclose(e90.estimate, p)
        half95 = logit(e95.ci[1]) - logit(p)
        np.testing.assert_allclose(half95, stats.t.ppf(0.975, e95.df) * e95.se / (p * (1 - p)), rtol=1e-10)
        half90 = half95 * stats.t.ppf(0.95, e95.df) / stats.t.ppf(0.975, e95.df)
        np.testing.assert_allclose(logit(e90.ci[1]) - logit(p), half90, rtol=1e-10)
        np.testing.assert_allclose(logit(p) - logit(e90.ci[0]), half90, rtol=1e-10)


@pytest.mark.parametrize("level", [0.90, 0.99])
@pytest.mark.parametrize("kind", ["mean", "ratio", "total"])
def test_a_wald_interval_at_another_level_takes_that_level_s_t_quantile(designs, kind, level):
    """Mean, ratio and total: estimate ± t(df, (1 + level)/2) · se, the estimate and its SE those of
    the 95 % call (R's, test_matches_r_survey), overall and by domain."""
    from scipy import stats

    a, d = designs["apistrat"]
    y, x = a["api00"].astype(float), a["api99"].astype(float)
    for by in (None, a["stype"]):
        call = {"mean": lambda lv: d.mean(y, by=by, level=lv),
                "ratio": lambda lv: d.ratio(y, x, by=by, level=lv),
                "total": lambda lv: d.total(y, by=by, level=lv)}[kind]
        e95, e = call(0.95), call(level)
        np.testing.assert_allclose(e.estimate, e95.estimate)
        np.testing.assert_allclose(e.se, e95.se)
        half = stats.t.ppf((1 + level) / 2, e95.df) * e95.se
        np.testing.assert_allclose(e.ci[0], e95.estimate - half, rtol=1e-10)
        np.testing.assert_allclose(e.ci[1], e95.estimate + half, rtol=1e-10)


def test_a_proportion_of_anything_but_0_1_is_refused_with_the_rule(designs):
    a, d = designs["apiclus1"]
    with pytest.raises(ValueError, match=r"^proportion\(\) needs a 0/1 \(or boolean\) variable$"):
        d.proportion(a["api00"])
    e = d.proportion((a["sch.wide"] == "Yes"))                         # booleans are 0/1
    np.testing.assert_allclose(e.estimate, d.proportion((a["sch.wide"] == "Yes").astype(float)).estimate)


def test_a_total_counts_its_respondents_and_weights_by_domain(designs):
    """Counts behind a total (respondents with an answer, their weights, PSUs) by hand, and the
    estimate kind the tidy table carries; a missing answer is outside every domain."""
    a, d = designs["apistrat"]
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


@pytest.mark.filterwarnings("error")     # a 0/0 RuntimeWarning would reach the reader's page
def test_a_domain_nobody_answered_in_has_counts_of_zero_no_interval_and_no_warning(designs):
    """A domain present in ``by`` whose every answer is missing (the last one, M, so the arrays'
    lengths are not set by the data) keeps its row: no respondents, weights, PSUs or df, no mean
    and no interval, a total of zero; the other domains are what they are without it."""
    a, d = designs["apistrat"]
    m = a["stype"] == "M"
    y = a["api00"].astype(float).mask(m)
    ests = {"mean": d.mean(y, by=a["stype"]),
            "proportion": d.proportion((a["sch.wide"] == "Yes").astype(float).mask(m), by=a["stype"]),
            "ratio": d.ratio(y, a["api99"], by=a["stype"]),
            "total": d.total(y, by=a["stype"])}
    for kind, e in ests.items():
        f = e.to_frame()
        assert f["domain"].tolist() == ["E", "H", "M"], kind
        assert f.loc[2, ["n", "n_psu", "df", "sum_w"]].tolist() == [0, 0, 0, 0], kind
        np.testing.assert_allclose(f.loc[:1, "sum_w"], a.groupby("stype")["pw"].sum()[["E", "H"]], rtol=1e-12)
        assert np.isnan(f.loc[2, ["ci_low", "ci_high"]].astype(float)).all(), kind
        assert (f.loc[:1, "n"] == a["stype"].value_counts()[["E", "H"]].to_numpy()).all(), kind
        assert np.isfinite(f.loc[:1, ["estimate", "se", "ci_low", "ci_high"]].to_numpy()).all(), kind
    assert np.isnan(ests["mean"].estimate[2]) and ests["total"].estimate[2] == 0
    np.testing.assert_allclose(ests["mean"].deff[:2], d.mean(y, by=a["stype"].mask(m)).deff)
    np.testing.assert_allclose(ests["mean"].se[:2], d.mean(y, by=a["stype"].mask(m)).se)


@pytest.mark.filterwarnings("error")
def test_a_ratio_whose_denominator_is_zero_in_a_domain_leaves_the_others_alone(designs):
    """Σwx = 0 in one domain: that ratio is not finite; the others and their SEs are unchanged,
    and nothing is printed to the reader as a warning."""
    a, d = designs["apistrat"]
    m = a["stype"] == "M"
    x = a["api99"].astype(float).mask(m, 0.0)
    e = d.ratio(a["api00"], x, by=a["stype"])
    ref = d.ratio(a["api00"], x, by=a["stype"].mask(m))
    assert not np.isfinite(e.estimate[2])
    np.testing.assert_allclose(e.estimate[:2], ref.estimate, rtol=1e-12)
    np.testing.assert_allclose(e.se[:2], ref.se, rtol=1e-12)


def test_a_missing_answer_adds_nothing_to_a_total_wherever_its_psu_is(designs):
    """Whole-sample total with every answer of the last PSU missing: the same estimate and SE as
    with those answers set to zero (a missing answer contributes nothing), fewer respondents, and
    one row, not one per PSU or per code."""
    a, d = designs["apiclus1"]
    y = a["enroll"].astype(float).mask(d.psu == d.psu.max())
    e, zero = d.total(y), d.total(y.fillna(0.0))
    assert len(e.to_frame()) == 1 and e.n.tolist() == [int(y.notna().sum())]
    np.testing.assert_allclose([e.estimate[0], e.se[0]], [zero.estimate[0], zero.se[0]], rtol=1e-12)
    np.testing.assert_allclose(e.sum_w, [a.loc[y.notna(), "pw"].sum()])


def test_answers_may_be_plain_lists_with_none_for_missing(designs):
    """Lists (None for a missing answer) give what float arrays with NaN give."""
    a, d = designs["apistrat"]
    y = a["api00"].astype(float).mask(a.index % 5 == 0)
    as_list = [None if np.isnan(v) else v for v in y]
    yes = (a["sch.wide"] == "Yes").mask(a.index % 5 == 0)
    pairs = [(d.mean(as_list), d.mean(y.to_numpy())),
             (d.total(as_list), d.total(y.to_numpy())),
             (d.ratio(a["api99"].tolist(), as_list), d.ratio(a["api99"].to_numpy(float), y.to_numpy())),
             (d.proportion([None if pd.isna(v) else bool(v) for v in yes]),
              d.proportion(yes.astype(float).to_numpy()))]
    for got, want in pairs:
        np.testing.assert_allclose([got.estimate, got.se], [want.estimate, want.se], rtol=1e-12)
        assert got.n.tolist() == want.n.tolist()
        np.testing.assert_allclose(got.sum_w, want.sum_w, rtol=1e-12)
    np.testing.assert_allclose(d.mean(as_list).sum_w, [a.loc[y.notna(), "pw"].sum()], rtol=1e-12)   # weights, not counts


def test_design_effect_by_hand_in_a_two_respondent_domain():
    """The design effect from first principles (explicit loops): the with-replacement variance of
    the PSU totals of the linearised values, over s²_w/n with s²_w = Σw(y−ȳ)²/Σw · n/(n−1), in a
    tiny design whose domain c has two respondents (where n/(n−1) = 2)."""
    from analysis.estimation.design import SurveyDesign

    t = pd.DataFrame({"w": [1.0, 2.0, 1.5, 3.0, 2.5, 1.0, 2.0, 4.0], "s": list("AAAABBBB"),
                      "p": [1, 1, 2, 2, 3, 3, 4, 4], "y": [3.0, 5.0, 2.0, 8.0, 4.0, 6.0, 1.0, 7.0],
                      "g": list("ababcacb")})
    d = SurveyDesign.from_frame(t, weight="w", strata="s", psu="p")
    e = d.mean(t["y"], by=t["g"])
    for i, g in enumerate(e.domains):
        rows = t[t["g"] == g]
        sw = rows["w"].sum()
        ybar = (rows["w"] * rows["y"]).sum() / sw
        v = 0.0
        for _, st in t.groupby("s"):
            z = [sum(r.w * (r.y - ybar) / sw for r in ps.itertuples() if r.g == g) for _, ps in st.groupby("p")]
            zbar = sum(z) / len(z)
            v += len(z) / (len(z) - 1) * sum((zi - zbar) ** 2 for zi in z)
        n = len(rows)
        s2 = sum(r.w * (r.y - ybar) ** 2 for r in rows.itertuples()) / sw * n / (n - 1)
        assert np.isclose(e.estimate[i], ybar, rtol=1e-12) and np.isclose(e.se[i] ** 2, v, rtol=1e-12)
        assert np.isclose(e.deff[i], v / (s2 / n), rtol=1e-12), g
    assert e.n.tolist() == [3, 3, 2]


def test_an_interval_method_other_than_wald_or_logit_is_refused(designs):
    import dataclasses

    a, d = designs["apistrat"]
    e = d.mean(a["api00"])
    assert e.ci_method == "wald" and d.ratio(a["api00"], a["api99"]).ci_method == "wald"
    assert d.total(a["enroll"]).ci_method == "wald"
    with pytest.raises(ValueError, match="ci_method must be 'wald' or 'logit'; got 'WALD'"):
        dataclasses.replace(e, ci_method="WALD").ci


def test_psu_ids_need_only_be_unique_within_a_stratum_and_none_may_be_missing():
    """The same PSU id in two strata names two PSUs; ids read as numbers or as text give the same
    design; a missing PSU id is refused, as a missing stratum is (it was once read as a PSU named
    'nan')."""
    from analysis.estimation.design import DesignError, SurveyDesign

    t = pd.DataFrame({"w": [1.0, 2.0, 1.5, 3.0, 2.5, 1.0, 2.0, 4.0], "s": list("AAAABBBB"),
                      "p": [1, 1, 2, 2, 1, 1, 2, 2], "y": [3.0, 5.0, 2.0, 8.0, 4.0, 6.0, 1.0, 7.0]})
    num = SurveyDesign.from_frame(t, weight="w", strata="s", psu="p")
    txt = SurveyDesign.from_frame(t.assign(p=t["p"].astype(str)), weight="w", strata="s", psu="p")
    assert num.n_psu == txt.n_psu == 4 and num.degf == 2
    assert num.psu.tolist() == txt.psu.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    np.testing.assert_allclose(num.mean(t["y"]).se, txt.mean(t["y"]).se, rtol=1e-14)
    for bad in (t["p"].astype(float).mask(t.index == 5), t["p"].astype(str).mask(t.index == 5)):
        with pytest.raises(DesignError, match="^the PSU column 'p' has 1 missing value$"):
            SurveyDesign.from_frame(t.assign(p=bad), weight="w", strata="s", psu="p")
        with pytest.raises(DesignError, match="^design column has missing values$"):
            SurveyDesign.from_arrays(t["w"].to_numpy(), t["s"].to_numpy(), bad.to_numpy())


def test_domain_labels_keep_their_type_whatever_holds_them(designs):
    """Domains given as a Series, an array or a plain list are the same domains, and a list mixing
    codes and names (as a spreadsheet column may) keeps each label as it was: 1 stays 1."""
    a, d = designs["apistrat"]
    by = np.array([1 if s == "E" else "H" for s in a["stype"]], dtype=object)
    ref = d.mean(a["api00"], by=pd.Series(by))
    for form in (by, list(by)):
        e = d.mean(a["api00"], by=form)
        assert e.domains == ref.domains == (1, "H")
        np.testing.assert_allclose([e.estimate, e.se], [ref.estimate, ref.se], rtol=1e-14)


def test_forty_thousand_text_psu_ids_are_forty_thousand_psus():
    """Text ids are coded past the 32,767 of two bytes: 40,000 villages with text ids are 40,000
    PSUs (none read as missing), as the same ids as numbers."""
    from analysis.estimation.design import SurveyDesign, text_codes

    ids = np.array([f"v{i:05d}" for i in range(40_000)], dtype=object)
    codes, levels = text_codes(ids)
    assert len(levels) == 40_000 and codes.min() == 0 and codes.max() == 39_999
    psu = np.repeat(ids, 2)
    d = SurveyDesign.from_arrays(np.ones(80_000), np.zeros(80_000, int), psu)
    assert d.n_psu == 40_000 and d.n_psu == SurveyDesign.from_arrays(np.ones(80_000), np.zeros(80_000, int),
                                                                     np.repeat(np.arange(40_000), 2)).n_psu


def test_text_psu_ids_are_numbered_stratum_by_stratum_in_text_order():
    """PSU codes: by stratum, then by the id's text (so 'v10' before 'v9'), ids equal as text one
    PSU, a missing text id refused."""
    from analysis.estimation.design import DesignError, _psu_codes

    s = np.array([1, 0, 1, 0, 1, 0, 1])
    p = np.array(["v9", "v10", "v10", "v9", "v9", "b", None], dtype=object)
    with pytest.raises(DesignError, match="^design column has missing values$"):
        _psu_codes(s, p)
    p[6] = "v10"
    # stratum 0: b, v10, v9 → 0, 1, 2; stratum 1: v10, v9 → 3, 4
    assert _psu_codes(s, p).tolist() == [4, 1, 3, 2, 4, 0, 3]
    mixed = np.array([7, "7", "x"], dtype=object)                  # 7 and '7' are the same id
    assert _psu_codes(np.zeros(3, dtype=int), mixed).tolist() == [0, 0, 1]


def test_an_estimate_prints_its_kind_and_its_table(designs):
    df, d = designs["apistrat"]
    est = d.mean(df["api00"], by=df["stype"])
    text = repr(est)
    assert text.splitlines()[0] == "Estimate(mean)"
    assert text.split("\n", 1)[1] == est.to_frame().to_string(index=False)


# ------------------------------------------------------------------ building a design

def test_weights_must_be_positive_and_finite_each_rule_alone():
    for bad in ([1.0, -1.0], [1.0, 0.0], [1.0, np.nan], [1.0, np.inf]):
        with pytest.raises(DesignError, match=r"^weights must be positive and finite$"):
            SurveyDesign.from_arrays(np.array(bad))
    # weights held as nullable integers (as a reader may deliver them) are numbers like any other
    d = SurveyDesign.from_frame(pd.DataFrame({"w": pd.array([1, 2, 3], dtype="Int64")}), weight="w")
    np.testing.assert_array_equal(d.weights, [1.0, 2.0, 3.0])


def test_the_lonely_psu_rule_is_adjust_unless_one_of_the_others_is_named():
    w, s, p = np.ones(6), np.array([1, 1, 2, 2, 3, 3]), np.array([1, 2, 1, 2, 1, 2])
    assert SurveyDesign.from_arrays(w, s, p).lonely_psu == "adjust"
    for rule in ("adjust", "remove", "certainty", "fail"):
        assert SurveyDesign.from_arrays(w, s, p, lonely_psu=rule).lonely_psu == rule
    with pytest.raises(DesignError, match=r"^lonely_psu must be one of adjust, remove, certainty, fail; "
                                          r"got 'drop'$"):
        SurveyDesign.from_arrays(w, s, p, lonely_psu="drop")


def test_the_fail_rule_names_every_stratum_with_a_single_psu_in_order():
    w = np.ones(7)
    s = np.array(["z", "z", "b", "m", "m", "a", "a"])
    p = np.array([1, 2, 1, 1, 2, 1, 1])                 # b has one PSU, a has one PSU (two rows in it)
    with pytest.raises(DesignError, match=r"^strata with a single PSU: a, b$"):
        SurveyDesign.from_arrays(w, s, p, lonely_psu="fail")
    with pytest.raises(DesignError, match=r"^strata with a single PSU: 2$"):       # numbers as numbers
        SurveyDesign.from_arrays(np.ones(3), np.array([1, 1, 2]), np.array([1, 2, 1]), lonely_psu="fail")
    with pytest.raises(DesignError, match=r"^the sample has a single PSU \(no strata\): no variance can be "
                                          r"estimated$"):
        SurveyDesign.from_arrays(np.ones(3), None, np.array([5, 5, 5]), lonely_psu="fail")


def test_a_design_keeps_its_stratum_and_psu_codes_and_the_stratum_labels():
    s = np.array(["b", "a", "b", "a", "c", "c"])
    p = np.array([7, 7, 8, 9, 7, 7])                    # ids repeat across strata: (stratum, id) is a PSU
    d = SurveyDesign.from_arrays(np.ones(6), s, p)
    np.testing.assert_array_equal(d.strata, [1, 0, 1, 0, 2, 2])
    np.testing.assert_array_equal(d.strata_labels, ["a", "b", "c"])
    np.testing.assert_array_equal(d.psu, [2, 0, 3, 1, 4, 4])     # stratum by stratum, ids in order
    assert (d.n, d.n_psu, d.n_strata) == (6, 5, 3)
    empty = SurveyDesign.from_arrays(np.array([]))
    assert (empty.n, empty.n_psu) == (0, 0)
    one = SurveyDesign.from_arrays(np.ones(3))           # no strata: one stratum, labelled 0 (the default)
    assert one.strata_labels.tolist() == [0] and one.n_strata == 1


def test_an_fpc_of_a_census_or_of_an_infinite_population():
    rng = np.random.default_rng(5)
    y, s, p = rng.normal(size=40), np.repeat([1, 2], 20), np.tile(np.repeat([1, 2], 10), 2)
    w = np.ones(40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                      # quietly, too
        census = SurveyDesign.from_arrays(w, s, p, fpc=np.full(40, 2.0))   # both PSUs of each stratum
        assert census.mean(y).se[0] == 0.0
        fraction = SurveyDesign.from_arrays(w, s, p, fpc=np.full(40, 1.0))  # the same, as a sampling fraction
        assert fraction.mean(y).se[0] == 0.0
        infinite = SurveyDesign.from_arrays(w, s, p, fpc=np.full(40, np.inf))
        np.testing.assert_array_equal(infinite.mean(y).se, SurveyDesign.from_arrays(w, s, p).mean(y).se)


def test_the_problems_page_digital_access_table_matches_r():
    """The problems page's digital-access table (percent answering 1, with SE and the logit
    interval on the design df, overall and by region) against svyciprop/svyby on the raw file."""
    from analysis.estimation.study import build_study
    from analysis.report.pages.problems import digital_access

    study = build_study("2020-replica")
    t = digital_access(study).set_index("item")
    ref = REF[REF["dataset"] == "replica_digital"]
    assert ref["variable"].nunique() == len(t) == 8
    for item, r in ref.groupby("variable"):
        row = t.loc[study.wave.codebook.item("villagers", item).label]
        whole = r[r["domain"] == "all"].iloc[0]
        np.testing.assert_allclose(row[["all", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   100 * whole[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float),
                                   rtol=RTOL_SE, err_msg=item)
        regions = r[r["domain"] != "all"]
        np.testing.assert_allclose(row[list(regions["domain"])].to_numpy(float), 100 * regions["estimate"],
                                   rtol=RTOL_EST, err_msg=item)
        assert row["flag"] == "" and row["suppressed"] == ""


def test_the_problems_page_puts_an_item_answered_in_few_psus_on_its_own_df():
    """An item answered in three provinces of three villages each, blank elsewhere: its row of the
    problems page's Table 1 matches svyciprop on the respondents who answered (estimate, SE, and the
    logit interval on that subset's 6 df, not the design's) and carries the NCHS flag for fewer than
    8 df; the other villager items keep the design's df and no flag."""
    from types import SimpleNamespace

    from analysis.estimation.study import build_study
    from analysis.publishing.reliability import DF_REASON
    from analysis.report.pages.problems import table1

    study = build_study("2020-replica")
    v = study.villagers.copy()
    villages = v.groupby("province")["village_id"]
    three = villages.min()[villages.nunique() == 3].sort_values().index[:3]
    v.loc[~v["province"].isin(three), "hp_equipment"] = np.nan
    few = SimpleNamespace(wave=study.wave, settings=study.settings, villagers=v, design=study.design)
    t = table1(few).set_index("item")
    ref = REF[REF["dataset"] == "replica_three"].set_index("statistic")
    row = t.loc["hp_equipment"]
    cols = ["estimate", "se", "ci_low", "ci_high"]
    np.testing.assert_allclose(row[cols].to_numpy(float), 100 * ref.loc["proportion", cols].to_numpy(float),
                               rtol=RTOL_SE)
    assert row["df"] == ref.loc["df", "estimate"] == 6 and DF_REASON in row["flag"]
    others = t["base"].str.startswith("villager") & (t.index != "hp_equipment")
    assert others.sum() == 23 and (t.loc[others, "df"] == study.design.degf).all()
    assert not t.loc[others, "flag"].any()


def test_an_item_answered_in_one_village_of_two_provinces_has_no_interval_on_its_0_df():
    """The same item answered only in the lowest-coded village of each of the two provinces whose
    lowest codes are lowest: 2 PSUs in 2 strata leave 0 df. The estimate and SE match svyciprop on
    that subset, whose interval on 0 df is NaN (R's qt(0.975, 0)); the estimator gives no interval
    either, and the problems page withholds the share, naming the missing interval, and flags its df."""
    from types import SimpleNamespace

    from analysis.estimation.reproduce import table1 as estimates
    from analysis.estimation.study import build_study
    from analysis.publishing.reliability import DF_REASON
    from analysis.report.pages.problems import table1

    study = build_study("2020-replica")
    v = study.villagers.copy()
    two = v.groupby("province")["village_id"].min().sort_values().iloc[:2].to_numpy()
    v.loc[~v["village_id"].isin(two), "hp_equipment"] = np.nan
    few = SimpleNamespace(wave=study.wave, settings=study.settings, villagers=v, design=study.design)
    ref = REF[REF["dataset"] == "replica_two"].set_index("statistic")
    assert ref.loc["df", "estimate"] == 0 and ref.loc["proportion", ["ci_low", "ci_high"]].isna().all()
    row = estimates(few).set_index("item").loc["hp_equipment"]
    np.testing.assert_allclose(row[["estimate", "se"]].to_numpy(float),
                               100 * ref.loc["proportion", ["estimate", "se"]].to_numpy(float), rtol=RTOL_SE)
    assert row["df"] == 0 and row["n_psu"] == 2
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    page = table1(few).set_index("item").loc["hp_equipment"]
    assert np.isnan(page[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float)).all()
    assert "0 design df" in page["suppressed"] and DF_REASON in page["flag"]


def test_answered_is_one_for_the_answer_zero_for_another_and_missing_for_none():
    """The variable of a share among those who answered: a blank leaves the base (2 of 4 answered
    1), it is not counted as another answer (2 of 5)."""
    y = np.array([1, 2, np.nan, 0, 1])
    np.testing.assert_array_equal(answered(y, 1), [1.0, 0.0, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(answered(list(y), 0), [0.0, 0.0, np.nan, 1.0, 0.0])
    np.testing.assert_array_equal(answered([1, None, 0, 2], 1), [1.0, np.nan, 0.0, 0.0])   # None: no answer
    assert answered(y, 1).dtype == np.float64
    assert SurveyDesign.from_arrays(np.ones(5)).proportion(answered(y, 1)).estimate[0] == 0.5


def test_domain_df_counts_only_the_psus_holding_the_domain_s_answers():
    """A domain's df is its PSUs minus the strata they lie in (by hand): rows outside every
    domain (a missing domain or a missing answer) add no PSU to any domain."""
    strata = np.repeat(["s1", "s2"], 6)
    psu = np.repeat([1, 2, 3, 4], 3)
    by = np.array(["a"] * 6 + [None] * 3 + ["b", None, "b"], dtype=object)
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan, 12])
    e = SurveyDesign.from_arrays(np.ones(12), strata, psu).mean(y, by=by)
    assert list(e.domains) == ["a", "b"]
    assert e.df.tolist() == [2 - 1, 1 - 1] and e.n.tolist() == [6, 2]
