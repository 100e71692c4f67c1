"""Large waves: absorbed OLS against statsmodels/pyfixest, and the partitioned (out-of-core)
and Dask paths giving the in-memory results to 1e-10."""

from __future__ import annotations

import io
import json
import re
from dataclasses import astuple
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.regression import absorbed_ols
from analysis.estimation.stream import model_ols, stream_wave, write_partitioned
from analysis.estimation.study import build_study
from analysis.replica import generate
from tests.conftest import shared

DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}
X = ["internet_use", "education", "log_income", "distance_km", "participation"]


def _fe_data(n=5000, seed=3):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 31, n)
    x = rng.normal(size=(n, 3)) + g[:, None] * 0.05
    y = x @ np.array([1.0, -0.5, 0.2]) + 0.3 * g + rng.normal(size=n)
    w = rng.uniform(0.5, 2, n)
    return y, x, g, w


def test_absorbed_ols_equals_dummy_regression():
    import statsmodels.api as sm

    y, x, g, w = _fe_data()
    r = absorbed_ols(y, x, fe=g, cluster=g, w=w)
    D = pd.get_dummies(g, drop_first=True, dtype=float).to_numpy()
    fit = sm.WLS(y, np.column_stack([np.ones(len(y)), x, D]), weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(r["coef"], fit.params[1:4], rtol=1e-10)
    # K counts the intercept and the 30 dummies, as statsmodels (and lm + sandwich) do
    np.testing.assert_allclose(r["se"], fit.bse[1:4], rtol=1e-10)
    np.testing.assert_allclose(r["vcov"], fit.cov_params()[1:4, 1:4], rtol=1e-9)
    assert r["k"] == 1 + 3 + 30


def test_absorbed_ols_without_weights_equals_unweighted_dummy_regression():
    """No weights: OLS (statsmodels, dummies) with CR1 SEs on clusters that are not the fixed
    effect's levels."""
    import statsmodels.api as sm

    y, x, g, _ = _fe_data(n=2000, seed=5)
    cl = g // 3
    r = absorbed_ols(y, x, fe=g, cluster=cl)
    D = pd.get_dummies(g, drop_first=True, dtype=float).to_numpy()
    fit = sm.OLS(y, np.column_stack([np.ones(len(y)), x, D])).fit(cov_type="cluster", cov_kwds={"groups": cl})
    np.testing.assert_allclose(r["coef"], fit.params[1:4], rtol=1e-10)
    np.testing.assert_allclose(r["se"], fit.bse[1:4], rtol=1e-10)
    assert r["n"] == 2000 and r["clusters"] == 11


def test_a_missing_cluster_or_level_is_refused_by_name_not_summed_out_of_bounds():
    """A missing cluster or fixed-effect level has no group: the in-memory and one-pass
    estimators refuse it, naming which, instead of filing the row under another group (or writing
    past the end of the sums); the sums by group refuse a code outside 0 … G−1."""
    from analysis.estimation.regression import group_sums
    from analysis.estimation.stream import AbsorbedOLSStats

    y, x, g, w = _fe_data(n=200)
    cluster = (g % 8).astype(float)
    cluster[5] = np.nan
    with pytest.raises(ValueError, match="the cluster is missing in 1 row"):
        absorbed_ols(y, x, fe=g, cluster=cluster)
    level = g.astype(float)
    level[[3, 9]] = np.nan
    with pytest.raises(ValueError, match="the fixed effect is missing in 2 row"):
        absorbed_ols(y, x, fe=level, cluster=g % 8)
    for fe, cl, name in ((level, g % 8, "the fixed effect"), (g, cluster, "the cluster")):
        with pytest.raises(ValueError, match=name):
            AbsorbedOLSStats(3).update(x, y, w, fe, cl)
    for codes in ([0, 1, -1, 1], [0, 1, 2, 1]):
        with pytest.raises(ValueError, match="group codes must lie in 0 … 1"):
            group_sums(np.array(codes), 2, np.ones((4, 2)))


def test_absorbed_ols_equals_pyfixest():
    pf = pytest.importorskip("pyfixest")
    y, x, g, w = _fe_data()
    df = pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "g": g, "w": w})
    fit = pf.feols("y ~ x1 + x2 + x3 | g", data=df, weights="w", vcov={"CRV1": "g"},
                   ssc=pf.ssc(k_fixef="full"))              # every fixed-effect level in K
    r = absorbed_ols(y, x, fe=g, cluster=g, w=w)
    np.testing.assert_allclose(r["coef"], fit.coef().to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(r["se"], fit.se().to_numpy(), rtol=1e-8)


def _one_file_wave(parent: Path, v: pd.DataFrame, design: dict) -> Path:
    """The rows of a partitioned wave as one Parquet file of a wave folder ``parent/w``: the
    in-memory reference reads them through the ordinary reader."""
    import yaml

    wave = parent / "w"
    wave.mkdir()
    v.to_parquet(wave / "villagers.parquet", index=False)
    (wave / "wave.yml").write_text(yaml.safe_dump({"id": "w", "questionnaires": {
        "villagers": {"file": "villagers.parquet"}}, "design": design}), encoding="utf-8")
    return wave


@pytest.fixture(scope=shared)
def partitioned(tmp_path_factory):
    v = generate(seed=11, n=6000, calibrate=False)["villagers"]
    folder = tmp_path_factory.mktemp("parts") / "villagers"
    write_partitioned(v, folder, rows_per_file=1000)
    # the in-memory reference goes through the ordinary reader on the same data
    wave = _one_file_wave(tmp_path_factory.mktemp("mem"), v, DESIGN)
    return folder, build_study(wave)


def _assert_same_estimate(got, want, rtol: float = 1e-10) -> None:  # type: ignore[no-untyped-def]
    """Every field of a design-based estimate: kind, domains, means, SEs, design effects, weighted
    sizes, and the integer counts of respondents, df and PSUs."""
    assert got.kind == want.kind == "mean" and got.domains == want.domains
    np.testing.assert_allclose(got.estimate, want.estimate, rtol=rtol)
    np.testing.assert_allclose(got.se, want.se, rtol=1e-10, atol=1e-12)   # 0 within rounding: a domain in one PSU
    np.testing.assert_allclose(got.deff, want.deff, rtol=1e-8, atol=1e-12)    # NaN where nobody answered
    np.testing.assert_allclose(got.sum_w, want.sum_w, rtol=1e-12)
    for field in ("n", "df", "n_psu"):
        g, w = getattr(got, field), getattr(want, field)
        np.testing.assert_array_equal(g, w)
        assert g.dtype.kind == w.dtype.kind == "i", field


def _assert_same_ols(got: dict, want: dict) -> None:
    """A one-pass OLS result and the in-memory one: coefficients, SEs and covariance matrix."""
    np.testing.assert_allclose(got["coef"], want["coef"], rtol=1e-9)
    np.testing.assert_allclose(got["se"], want["se"], rtol=1e-9)
    np.testing.assert_allclose(got["vcov"], want["vcov"], rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("by", ["province_en", "education"])
def test_partitioned_degree_equals_in_memory(partitioned, by):
    """Every field of the estimate, by province (whole PSUs) and by education, where a PSU may
    hold a single respondent of a domain (173 such cells here) and a domain no PSU of a stratum:
    the counts of respondents and PSUs, the df and the weighted sizes are the in-memory ones; so
    are the confidence limits, cut at the ends of the index's scale."""
    folder, st = partitioned
    out = stream_wave(folder, DESIGN, by=by)
    assert out["report"].ok
    mem = st.degree(by=by)
    _assert_same_estimate(out["degree"], mem)
    assert out["degree"].bounds == mem.bounds == (0.0, 100.0)
    np.testing.assert_allclose(out["degree"].ci, mem.ci, rtol=1e-10)


@pytest.mark.parametrize("psu_ids", ["unique", "within strata"])
@pytest.mark.parametrize("lonely_psu", ["adjust", "remove"])
def test_domain_mean_statistics_with_missing_answers_equal_the_in_memory_design(lonely_psu, psu_ids):
    """Chunks with missing answers, one PSU without any answer (it still counts among its
    stratum's PSUs, as in memory: a missing answer is outside every domain, not outside the
    design) and one stratum whose PSUs all lack an answer: every field equals
    ``SurveyDesign.mean`` of the whole arrays, under either rule for a stratum with one PSU
    (mutation: the PSUs without an answer could be dropped, or counted as respondents, and no
    test with a complete score noticed); answers without a domain and a PSU whose answers all lack
    one count in the design in the same way. PSU ids unique in the wave, or numbered within each
    stratum (village 0, 1, ... in every stratum), as the in-memory design reads them: a PSU is
    a (stratum, id) pair. A domain held by a single village (a province of one village) has
    0 df and no interval, streamed as in memory."""
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.stream import DomainMeanStats

    rng = np.random.default_rng(8)
    n = 900
    strata = rng.integers(0, 5, n)
    village = rng.integers(0, 6, n)
    psu = strata * 100 + village if psu_ids == "unique" else village
    psu[strata == 3] = psu[strata == 3][0]          # a stratum with one PSU: the rule applies
    domain = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    domain[(strata == 2) & (village == 5)] = "d"    # a domain in one PSU
    w = rng.uniform(0.5, 3.0, n)
    y = rng.normal(50, 10, n)
    y[rng.uniform(size=n) < 0.2] = np.nan
    y[(strata == 1) & (village == 1)] = np.nan      # a PSU without any answer
    y[strata == 4] = np.nan                         # a stratum without any answer
    domain[rng.uniform(size=n) < 0.05] = None       # answers without a domain
    no_domain = (strata == 0) & (village == 2)      # a PSU whose answers have no domain: it counts
    domain[no_domain], y[no_domain] = None, rng.normal(50, 10, no_domain.sum())
    mem = SurveyDesign.from_arrays(w, strata, psu, lonely_psu=lonely_psu).mean(y, by=domain)
    stats = DomainMeanStats()
    for part in (slice(0, 300), slice(300, 301), slice(301, None)):
        stats.merge(DomainMeanStats().update(y[part], w[part], strata[part], psu[part], domain[part]))
    got = stats.estimate(lonely_psu)
    _assert_same_estimate(got, mem, rtol=1e-12)
    assert got.domains == ("a", "b", "c", "d") and got.n.sum() == (np.isfinite(y) & pd.notna(domain)).sum()
    assert got.df[3] == 0 and got.n_psu[3] == 1 and np.isnan(np.asarray(got.ci)[:, 3]).all()
    # the other numbering of the same villages is the same design: the same estimates
    other = village if psu_ids == "unique" else strata * 100 + village
    other[strata == 3] = other[strata == 3][0]
    again = DomainMeanStats().update(y, w, strata, other, domain).estimate(lonely_psu)
    _assert_same_estimate(again, got, rtol=1e-12)
    assert got.deff.shape == (4,) and np.isfinite(got.deff[:3]).all()    # as in memory (checked above)


@pytest.mark.parametrize("answered_elsewhere", [False, True])
def test_a_domain_nobody_answered_in_is_a_row_without_estimate_streamed_as_in_memory(answered_elsewhere):
    """A province whose respondents all lack a score is a domain of n 0, with no mean and no
    standard error (not a precise 0): the streamed estimate keeps its row, as in memory, also
    when the domain's answers lie in another partition than its blanks."""
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.stream import DomainMeanStats

    rng = np.random.default_rng(1)
    n = 40
    strata, psu = np.repeat([1, 2], 20), np.repeat(np.arange(8), 5).astype(str)
    w, y = rng.uniform(1, 2, n), rng.normal(50, 10, n)
    domain = np.array(["a", "b", "c", "d"], dtype=object)[np.arange(n) % 4]
    y[domain == "d"] = np.nan
    if answered_elsewhere:
        y[(domain == "d") & (np.arange(n) >= 30)] = 55.0
    mem = SurveyDesign.from_arrays(w, strata, psu).mean(y, by=domain)
    stats = DomainMeanStats()
    for part in (slice(0, 20), slice(20, None)):
        stats.merge(DomainMeanStats().update(y[part], w[part], strata[part], psu[part], domain[part]))
    got = stats.estimate()
    assert got.domains == mem.domains == ("a", "b", "c", "d")
    if not answered_elsewhere:
        assert got.n[3] == mem.n[3] == 0 and np.isnan([got.estimate[3], got.se[3], mem.se[3]]).all()
        got, mem = (SimpleNamespace(**{f: np.asarray(getattr(e, f))[:3] for f in
                                       ("estimate", "se", "deff", "sum_w", "n", "df", "n_psu")},
                                    kind=e.kind, domains=e.domains[:3]) for e in (got, mem))
    _assert_same_estimate(got, mem, rtol=1e-12)


def test_domain_mean_statistics_over_three_hundred_strata_equal_the_in_memory_design():
    """300 strata (counties, more than a byte counts), two PSUs each: every stratum is centred on
    its own, streamed as in memory; a domain's count of respondents past two bytes."""
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.stream import DomainMeanStats

    rng = np.random.default_rng(9)
    strata = np.repeat(np.arange(300), 6)
    psu = strata * 10 + np.tile([0, 0, 0, 1, 1, 1], 300)
    y, w = rng.normal(50, 10, len(strata)) + strata % 7, rng.uniform(0.5, 2, len(strata))
    domain = np.where(strata % 2, "a", "b").astype(object)
    mem = SurveyDesign.from_arrays(w, strata, psu).mean(y, by=domain)
    _assert_same_estimate(DomainMeanStats().update(y, w, strata, psu, domain).estimate(), mem, rtol=1e-10)
    # and a domain of 40,000 respondents (past the 32,767 of two bytes) counts them all
    big = np.arange(40_000)
    got = DomainMeanStats().update(rng.normal(size=40_000), np.ones(40_000), big % 2, big % 8,
                                   np.full(40_000, "all", dtype=object)).estimate()
    assert got.n.tolist() == [40_000]


def test_keyed_rows_combined_along_the_way_give_the_sums_and_first_rows_of_one_combination(monkeypatch):
    """KeyedRows combines its rows by key whenever the rows added outnumber those it kept (and
    COMBINE_ROWS, 200,000: more than any wave of the suite, so that path ran only on large
    waves): with COMBINE_ROWS lowered to 5, chunk after chunk and a merged partial give the sums,
    and the first rows, of combining everything once, keys in order of their first row."""
    from analysis.estimation import stream

    rng = np.random.default_rng(4)
    chunks = [pd.DataFrame({"s": rng.integers(0, 3, m), "p": rng.integers(0, 4, m), "v": rng.normal(size=m),
                            "n": 1.0}) for m in (7, 1, 12, 3, 20, 9)]
    whole = pd.concat(chunks, ignore_index=True)
    sums = whole.groupby(["s", "p"], sort=False, as_index=False).sum()
    firsts = whole.drop_duplicates(["s", "p"], ignore_index=True)
    monkeypatch.setattr(stream, "COMBINE_ROWS", 5)
    for first, want in ((False, sums), (True, firsts)):
        a, b = stream.KeyedRows(["s", "p"], first=first), stream.KeyedRows(["s", "p"], first=first)
        for c in chunks[:3]:
            a.add(c)
        assert len(a.frames) == 1 and a._added == 0          # combined along the way
        for c in chunks[3:]:
            b.add(c)
        got = a.merge(b).combine()
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
        assert stream.KeyedRows(["s"]).combine() is None
    # memory: small chunks are combined as they come, the rows held never pass the kept keys,
    # the threshold and one chunk (a count of the last chunk only never combined them)
    held = stream.KeyedRows(["s"])
    for _ in range(10):
        held.add(pd.DataFrame({"s": [0, 1, 2], "v": 1.0}))
        assert sum(len(f) for f in held.frames) <= 3 + 5 + 3
    assert held.combine()["v"].tolist() == [10.0, 10.0, 10.0]


def _in_memory_ols(st, *, fe: str, cluster: str) -> dict:
    """The reference: the index and the absorbed OLS on the whole wave in memory."""
    v = st.villagers
    v = v.assign(overall=st.scores["overall"], log_income=np.log(v["hh_income"]))
    d = v[list(dict.fromkeys([*X, "overall", "weight", fe, cluster]))].dropna()
    return absorbed_ols(d["overall"].to_numpy(), d[X].to_numpy(), fe=d[fe].to_numpy(),
                        cluster=d[cluster].to_numpy(), w=d["weight"].to_numpy())


def test_partitioned_ols_equals_in_memory(partitioned):
    folder, w = partitioned
    spec = {"y": "overall", "x": X, "fe": "province", "cluster": "province"}
    out = stream_wave(folder, DESIGN, ols=spec)
    mem = _in_memory_ols(w, fe="province", cluster="province")
    np.testing.assert_allclose(out["ols"]["coef"], mem["coef"], rtol=1e-10)
    np.testing.assert_allclose(out["ols"]["se"], mem["se"], rtol=1e-10)


def test_partitioned_ols_of_an_item_as_outcome_equals_in_memory(partitioned):
    """The outcome may be a codebook item rather than the overall score: its own column is
    regressed (here satisfaction with health care), on the rows where it is answered."""
    folder, w = partitioned
    out = stream_wave(folder, DESIGN, ols={"y": "hlt_sat", "x": X, "fe": "province", "cluster": "province",
                                           "weights": "weight"})
    v = w.villagers.assign(log_income=np.log(w.villagers["hh_income"]))
    d = v[list(dict.fromkeys([*X, "hlt_sat", "weight", "province"]))].dropna()
    mem = absorbed_ols(d["hlt_sat"].to_numpy(float), d[X].to_numpy(float), fe=d["province"].to_numpy(),
                       cluster=d["province"].to_numpy(), w=d["weight"].to_numpy(float))
    np.testing.assert_allclose(out["ols"]["coef"], mem["coef"], rtol=1e-10)
    np.testing.assert_allclose(out["ols"]["se"], mem["se"], rtol=1e-10)


def test_partitioned_ols_derives_its_fixed_effect_and_clusters_as_the_model_frame_does(partitioned):
    """A fixed effect and clusters that models.yml's derived block defines (here a copy of the
    province code) are computed in each partition as a regressor is: the fit equals the one on
    the province column itself."""
    import dataclasses

    from analysis.settings import load_settings
    from analysis.settings.schemas import Derived

    folder, w = partitioned
    st = load_settings()
    models = st.models.model_copy(update={"derived": {**st.models.derived,
                                                      "prov": Derived(label="p", expr="province * 1")}})
    out = stream_wave(folder, DESIGN, ols={"y": "overall", "x": X, "fe": "prov", "cluster": "prov"},
                      settings=dataclasses.replace(st, models=models))
    mem = _in_memory_ols(w, fe="province", cluster="province")
    np.testing.assert_allclose(out["ols"]["coef"], mem["coef"], rtol=1e-10)
    np.testing.assert_allclose(out["ols"]["se"], mem["se"], rtol=1e-10)
    assert out["ols"]["n"] == mem["n"]


def test_partitioned_ols_weights_by_the_column_it_is_given_and_drops_nonpositive_incomes(tmp_path):
    """The streamed OLS weights by the column its ``weights`` key names (the CLI passes the design
    weight; here the respondent's age, a column no one would choose, tells the two apart) and, as
    the model frame does, leaves out the rows whose income is 0 (log undefined, nonpositive: drop)
    in whichever partition they lie: it equals the in-memory weighted fit on the same rows."""
    v = generate(seed=13, n=3000, calibrate=False)["villagers"]
    v.loc[v.index[::97], "hh_income"] = 0.0                      # in every partition
    folder = tmp_path / "villagers"
    write_partitioned(v, folder, rows_per_file=700)
    out = stream_wave(folder, DESIGN, ols={"y": "hlt_sat", "x": X, "fe": "province", "cluster": "province",
                                           "weights": "age"})
    wave = _one_file_wave(tmp_path, v, DESIGN)       # the reference reads the same rows as a wave in memory
    m = build_study(wave).villagers
    d = m.assign(log_income=np.log(m["hh_income"].where(m["hh_income"] > 0)))
    d = d[list(dict.fromkeys([*X, "hlt_sat", "age", "province"]))].dropna()
    assert (m["hh_income"] == 0).sum() >= 30 and out["ols"]["n"] == len(d)
    mem = absorbed_ols(d["hlt_sat"].to_numpy(float), d[X].to_numpy(float), fe=d["province"].to_numpy(),
                       cluster=d["province"].to_numpy(), w=d["age"].to_numpy(float))
    np.testing.assert_allclose(out["ols"]["coef"], mem["coef"], rtol=1e-10)
    np.testing.assert_allclose(out["ols"]["se"], mem["se"], rtol=1e-10)
    by_weight = stream_wave(folder, DESIGN, ols={"y": "hlt_sat", "x": X, "fe": "province",
                                                 "cluster": "province"})       # no key: "weight"
    assert not np.allclose(by_weight["ols"]["coef"], mem["coef"], rtol=1e-6)   # the weights matter


def test_a_derived_regressor_that_cannot_be_computed_in_a_partition_is_named(partitioned):
    import dataclasses

    from analysis.estimation.stream import StreamModelError
    from analysis.settings import load_settings
    from analysis.settings.schemas import Derived

    folder, _ = partitioned
    st = load_settings()
    models = st.models.model_copy(update={"derived": {**st.models.derived,
                                                      "odd": Derived(label="o", expr="no_such_column * 2")}})
    # refused before the scan, as a model the wave cannot give (ruralgov stream: exit 2)
    with pytest.raises(StreamModelError, match="lack 'odd'.*derived variable 'odd'.*no_such_column"):
        stream_wave(folder, DESIGN, ols={"y": "overall", "x": [*X, "odd"], "fe": "province",
                                         "cluster": "province"},
                    settings=dataclasses.replace(st, models=models))


def test_partition_problems_are_reported_across_files(tmp_path):
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    v.loc[2500, "resp_id"] = v.loc[10, "resp_id"]        # a duplicate in another partition
    v.loc[1200, "edu_org"] = 7.0                          # an out-of-range code
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", DESIGN)["report"]
    rules = {(p.file, p.rule) for p in rep.errors}
    assert ("part-00002.parquet", "unique id") in rules
    assert ("part-00001.parquet", "schema") in rules


@pytest.mark.parametrize("header", ["问卷编号", "respondent id"])
def test_a_duplicate_id_under_an_alias_header_is_found_across_partitions(tmp_path, header):
    """The respondent id headed by a codebook alias is still the id: a repeat in another partition
    is an error naming the file, its row and the header as written, as with the header resp_id."""
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    v.loc[2500, "resp_id"] = v.loc[10, "resp_id"]        # part-00002, file row 502; first at row 12
    write_partitioned(v.rename(columns={"resp_id": header}), tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", DESIGN)["report"]
    dup = [(p.file, p.row, p.column) for p in rep.errors if p.rule == "unique id"]
    assert dup == [("part-00002.parquet", 502, header)]
    assert "part-00000.parquet row 12" in next(p.message for p in rep.errors if p.rule == "unique id")
    assert not rep.ok


def test_partitions_headed_by_aliases_are_read_as_their_items_not_dropped(tmp_path, partitioned):
    """A piece's columns headed by a codebook alias (年龄 for age, 家庭年收入 for hh_income) are those
    items, as in a single file: validated (a bad age is named) and estimated as under their ids."""
    folder, _ = partitioned
    v = pd.concat([pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))], ignore_index=True)
    ols = {"y": "overall", "x": X, "fe": "province", "cluster": "province"}     # log_income: hh_income
    ids = stream_wave(folder, DESIGN, ols=ols)
    write_partitioned(v.rename(columns={"age": "年龄", "hh_income": "家庭年收入"}), tmp_path / "a", 1000)
    alias = stream_wave(tmp_path / "a", DESIGN, ols=ols)
    assert alias["report"].ok and not alias["report"].problems
    assert alias["report"].missing["villagers"]["age"] == ids["report"].missing["villagers"]["age"]
    _assert_same_estimate(alias["degree"], ids["degree"], rtol=1e-12)
    _assert_same_ols(alias["ols"], ids["ols"])
    v.loc[1500, "age"] = -3.0                              # file part-00001, row 502
    write_partitioned(v.rename(columns={"age": "年龄"}), tmp_path / "b", 1000)
    bad = [(p.file, p.row) for p in stream_wave(tmp_path / "b", DESIGN)["report"].errors]
    assert ("part-00001.parquet", 502) in bad


def test_two_columns_of_a_piece_naming_one_item_are_refused_by_header(tmp_path):
    """age and its alias 年龄 side by side: each piece is refused for that header (one column per
    item), not read with one of the two silently."""
    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    write_partitioned(v.assign(年龄=v["age"]), tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", DESIGN)["report"]
    got = {(p.file, p.column, p.rule) for p in rep.errors}
    assert got == {(f"part-0000{i}.parquet", "年龄", "one column per item") for i in (0, 1)}


@pytest.fixture
def bars(monkeypatch) -> list:
    """The progress bars a test's code asks rich for: the keyword arguments of each ``track``
    call (the items pass through unchanged)."""
    import rich.progress

    seen: list = []

    def track(it, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw)
        yield from it

    monkeypatch.setattr(rich.progress, "track", track)
    return seen


@pytest.fixture(scope="module")
def dask_client():
    """A local Dask cluster of two worker processes (the job, codebook and index construction
    are pickled to them, as to a real cluster's workers)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_dask_cluster_gives_the_in_memory_degree_and_ols(partitioned, dask_client):
    folder, st = partitioned
    spec = {"y": "overall", "x": X, "fe": "region3", "cluster": "province"}
    out = stream_wave(folder, DESIGN, by="province_en", ols=spec, client=dask_client, batch_rows=700)
    assert out["report"].ok
    mem = st.degree(by="province_en")
    assert out["degree"].domains == mem.domains
    np.testing.assert_allclose(out["degree"].estimate, mem.estimate, rtol=1e-10)
    np.testing.assert_allclose(out["degree"].se, mem.se, rtol=1e-10)
    np.testing.assert_array_equal(out["degree"].df, mem.df)
    ols = _in_memory_ols(st, fe="region3", cluster="province")
    np.testing.assert_allclose(out["ols"]["coef"], ols["coef"], rtol=1e-10)
    np.testing.assert_allclose(out["ols"]["se"], ols["se"], rtol=1e-10)
    assert out["ols"]["n"] == ols["n"] and out["ols"]["k"] == ols["k"]
    assert out["report"].rows == stream_wave(folder, DESIGN)["report"].rows


def test_a_duplicate_id_under_an_alias_header_is_found_on_a_dask_cluster(tmp_path, dask_client):
    """On a cluster too, the id column headed by an alias has its repeats found across partitions."""
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    v.loc[2500, "resp_id"] = v.loc[10, "resp_id"]
    write_partitioned(v.rename(columns={"resp_id": "问卷编号"}), tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", DESIGN, client=dask_client)["report"]
    assert [(p.file, p.row, p.column) for p in rep.errors if p.rule == "unique id"] == \
        [("part-00002.parquet", 502, "问卷编号")]


def _problems(rep) -> list[tuple]:
    return [(p.file, p.row, p.column, p.value, p.rule, p.message, p.severity) for p in rep.problems]


def test_dask_cluster_finds_the_problems_across_partitions_the_local_scan_finds(tmp_path, dask_client):
    """Duplicate ids and a PSU in two strata whose rows sit in partitions reduced by different
    workers, an out-of-range code, a stratum left with one PSU: the same problems, file rows and
    messages as the scan on one machine, in the same order."""
    v = generate(seed=12, n=4000, calibrate=False)["villagers"]
    v.loc[3900, "resp_id"] = v.loc[10, "resp_id"]        # first partition and last
    v.loc[2100, "resp_id"] = v.loc[10, "resp_id"]        # a third occurrence of the same id
    v.loc[1700, "resp_id"] = v.loc[1600, "resp_id"]      # a repeat inside one partition
    v.loc[1200, "edu_org"] = 7.0                         # an out-of-range code
    other = v.loc[v["province"] != v.loc[3000, "province"], "province"].iloc[0]
    v.loc[3000, "province"] = other                      # its village now in two strata
    write_partitioned(v, tmp_path / "p", rows_per_file=500)
    local = stream_wave(tmp_path / "p", DESIGN, batch_rows=300)["report"]
    dist = stream_wave(tmp_path / "p", DESIGN, batch_rows=300, client=dask_client)
    assert _problems(dist["report"]) == _problems(local)
    rules = {p.rule for p in local.errors}
    assert {"unique id", "PSU nested in one stratum", "schema"} <= rules
    dup = [(p.file, p.row) for p in local.errors if p.rule == "unique id"]
    assert dup == [("part-00003.parquet", 202), ("part-00004.parquet", 102), ("part-00007.parquet", 402)]
    assert dist["degree"] is None and dist["ols"] is None


def test_dask_cluster_reports_the_first_fifty_repeated_ids_as_the_local_scan_does(tmp_path, dask_client, bars):
    """Sixty repeated ids across partitions: both scans name the same first fifty repeats (the
    local scan's DuckDB query and the cluster's buckets each keep fifty), with a progress bar
    on the cluster's reductions when asked for (one step a partition, removed once done)."""
    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    for i in range(60):
        v.loc[1000 + 15 * i, "resp_id"] = v.loc[i, "resp_id"]
    write_partitioned(v, tmp_path / "p", rows_per_file=400)
    local = stream_wave(tmp_path / "p", DESIGN, batch_rows=300)["report"]
    dist = stream_wave(tmp_path / "p", DESIGN, batch_rows=300, client=dask_client, progress=True)["report"]
    assert bars == [{"total": 5, "description": "reduce partitions on the cluster", "transient": True}]
    dup = [p for p in local.errors if p.rule == "unique id"]
    assert len(dup) == 50
    assert _problems(dist) == _problems(local)


def test_dask_cluster_scans_a_wave_without_an_id_column_as_the_local_scan_does(tmp_path, dask_client):
    """Without the respondent id column no id is checked for repeats (the local scan runs no
    query for them); the cluster does the same instead of asking its workers for the column."""
    v = generate(seed=12, n=1000, calibrate=False)["villagers"].drop(columns=["resp_id"])
    write_partitioned(v, tmp_path / "p", rows_per_file=400)
    local = stream_wave(tmp_path / "p", DESIGN, batch_rows=300)
    dist = stream_wave(tmp_path / "p", DESIGN, batch_rows=300, client=dask_client)
    assert _problems(dist["report"]) == _problems(local["report"])
    assert dist["report"].rows == local["report"].rows and sum(local["report"].rows.values()) == 1000
    assert [p.rule for p in local["report"].problems if p.column == "resp_id"] != []   # named as lacking


@pytest.mark.parametrize("change", ["drop", "reorder", "type"])
def test_both_scans_refuse_partitions_with_other_columns_order_or_types(tmp_path, dask_client, change):
    """DuckDB matches columns by name and casts to the first partition's types; a worker reads
    its partition alone: partitions that differ would be read differently, so both refuse them."""
    v = generate(seed=12, n=1000, calibrate=False)["villagers"]
    write_partitioned(v, tmp_path / "p", rows_per_file=500)
    odd = v.iloc[:10]
    odd = {"drop": odd.drop(columns=["sex"]), "reorder": odd[list(odd.columns)[::-1]],
           "type": odd.assign(edu_org=odd["edu_org"].astype("Int64"))}[change]
    odd.to_parquet(tmp_path / "p" / "part-00009.parquet", index=False)
    for client in (None, dask_client):
        with pytest.raises(ValueError, match="part-00009.parquet has .*same columns, in the same order"):
            stream_wave(tmp_path / "p", DESIGN, client=client)


def test_batches_smaller_than_partitions_give_the_same_results_and_rows(partitioned, tmp_path):
    folder, w = partitioned
    spec = {"y": "overall", "x": X, "fe": "region3", "cluster": "province"}   # FE not nested
    whole = stream_wave(folder, DESIGN, ols=spec, batch_rows=50_000)
    split = stream_wave(folder, DESIGN, ols=spec, batch_rows=700)           # pieces cross files
    np.testing.assert_allclose(split["degree"].estimate, whole["degree"].estimate, rtol=1e-12)
    np.testing.assert_allclose(split["degree"].se, whole["degree"].se, rtol=1e-12)
    np.testing.assert_allclose(split["ols"]["se"], whole["ols"]["se"], rtol=1e-12)
    assert split["report"].rows == whole["report"].rows
    # the non-nested fixed effect counts its levels in K, as in memory
    mem = _in_memory_ols(w, fe="region3", cluster="province")
    np.testing.assert_allclose(split["ols"]["coef"], mem["coef"], rtol=1e-10)
    np.testing.assert_allclose(split["ols"]["se"], mem["se"], rtol=1e-10)


def test_problems_carry_file_rows_whatever_the_batch_size(tmp_path):
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    v.loc[1234, "edu_org"] = 7.0                          # file part-00001, its row 235 (+1 header)
    v.loc[1500, "resp_id"] = v.loc[1100, "resp_id"]       # a repeat inside that same file
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    for batch in (100_000, 333):
        rep = stream_wave(tmp_path / "p", DESIGN, batch_rows=batch)["report"]
        errs = {(p.file, p.row, p.rule) for p in rep.errors}
        assert ("part-00001.parquet", 236, "schema") in errs, errs
        dup = [p for p in rep.errors if p.rule == "unique id"]
        assert [(p.file, p.row) for p in dup] == [("part-00001.parquet", 502)]
        rid = v.loc[1100, "resp_id"]
        assert (dup[0].column, dup[0].value, dup[0].severity, dup[0].message) == (
            "resp_id", rid, "error", f"respondent id {rid!r} also in part-00001.parquet row 102")


def test_partitioning_adds_no_problem_the_whole_wave_does_not_have(partitioned):
    folder, st = partitioned
    rep = stream_wave(folder, DESIGN, batch_rows=500)["report"]
    assert sorted((p.rule, p.severity) for p in rep.problems) == \
        sorted((p.rule, p.severity) for p in st.wave.report.problems)


def test_stream_command_prints_the_partitioned_estimates(partitioned):
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _ = partitioned
    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "region", "--format", "csv",
                                   "--batch-rows", "1500"])
    assert res.exit_code == 0, res.output
    ref = stream_wave(folder, DESIGN, by="region3")["degree"].to_frame()
    printed = pd.read_csv(io.StringIO(res.stdout))            # one table: the degree by region
    assert len(printed) == len(ref)
    np.testing.assert_allclose(printed["estimate"], ref["estimate"], rtol=1e-12)
    assert "internet_use" not in res.stdout                # the model's coefficients: JSON or table
    assert "are in --format json or table" in " ".join(res.output.split())


def test_stream_command_withholds_the_degree_of_domains_below_its_min_cell(partitioned):
    """--min-cell is the disclosure threshold of the printed degrees: a province with fewer
    respondents is printed without its estimate and interval, with the reason; the others whole."""
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _ = partitioned
    n = stream_wave(folder, DESIGN, by="province")["degree"].to_frame()["n"]
    cut = int(n.median())
    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "province", "--format", "csv",
                                   "--model", "", "--min-cell", str(cut)])
    assert res.exit_code == 0, res.output
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0]))
    assert sorted(printed["n"]) == sorted(n)
    small = printed["n"] < cut
    assert 0 < small.sum() < len(printed)
    assert printed.loc[small, ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert printed.loc[~small, ["estimate", "se", "ci_low", "ci_high"]].notna().all().all()
    assert (printed.loc[small, "suppressed"] == f"fewer than {cut} respondents").all()
    assert printed.loc[~small, "suppressed"].isna().all()


def test_stream_names_the_option_of_a_design_column_that_is_no_item_not_wave_yml(partitioned):
    """``ruralgov stream --weight w2`` on partitions with a column w2 the codebook does not know:
    refused, and the message names the option the user gave (there is no wave.yml to blame)."""
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _ = partitioned
    res = CliRunner().invoke(app, ["stream", str(folder), "--weight", "w2", "--model", ""])
    assert res.exit_code == 1, res.output
    said = " ".join(res.output.split())
    assert "the design's weight (--weight) names 'w2', which is not an item of the villager questionnaire" in said
    assert "wave.yml" not in said


def test_stream_command_flags_a_degree_on_few_design_df_as_the_index_command_does(partitioned):
    """The printed degrees carry the reliability flag ``ruralgov index`` gives: a province on fewer
    than 8 design df (every province here: a few villages each) is flagged with its reason."""
    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.publishing.reliability import DF_REASON, flag_means

    folder, _ = partitioned
    ref = flag_means(stream_wave(folder, DESIGN, by="province_en")["degree"].to_frame())
    few = ref["df"] < 8
    assert few.any()                                               # the premise
    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "province", "--format", "csv",
                                   "--model", "", "--min-cell", "3"])
    assert res.exit_code == 0, res.output
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0]), keep_default_na=False)
    shown = (printed["suppressed"] == "").to_numpy()                # a withheld degree has no flag
    assert (few.to_numpy() & shown).any()
    assert printed.loc[shown, "flag"].tolist() == ref.loc[shown, "flag"].tolist()
    assert (printed.loc[few.to_numpy() & shown, "flag"].str.contains(DF_REASON)).all()


def test_stream_command_on_a_dask_scheduler_prints_what_it_prints_alone(partitioned, dask_client):
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _ = partitioned
    args = ["stream", str(folder), "--by", "province", "--format", "csv", "--batch-rows", "1500"]
    alone = CliRunner().invoke(app, args)
    on_cluster = CliRunner().invoke(app, [*args, "--scheduler", dask_client.scheduler.address])
    assert alone.exit_code == 0 and on_cluster.exit_code == 0, on_cluster.output
    assert on_cluster.stdout == alone.stdout
    gone = CliRunner().invoke(app, [*args, "--scheduler", "tcp://127.0.0.1:9"])
    assert gone.exit_code == 2 and "cannot reach the Dask scheduler" in gone.output


def test_stream_command_names_the_bad_partition_row_and_exits_1(tmp_path):
    from typer.testing import CliRunner

    from analysis.cli import app

    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    v.loc[1500, "sex"] = 5.0                              # not a code of sex
    v["notes_by_the_team"] = "x"                          # a column the codebook lacks: a warning
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    res = CliRunner().invoke(app, ["stream", str(tmp_path / "p")])
    assert res.exit_code == 1
    assert "part-00001.parquet, row 502, column 'sex'" in res.output
    said = " ".join(res.output.split())
    assert "notes_by_the_team" in said and "p: 1 error(s); nothing estimated" in said   # warnings not counted
    assert CliRunner().invoke(app, ["stream", str(tmp_path / "nothing")]).exit_code == 2


@pytest.mark.parametrize("role", ["strata", "psu"])
def test_a_design_column_the_partitions_lack_is_refused_by_name_not_a_traceback(tmp_path, role):
    """--strata or --psu naming no column: the scan says which option names what (exit 1, nothing
    estimated); an empty one is a usage error (exit 2)."""
    from typer.testing import CliRunner

    from analysis.cli import app

    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    out = stream_wave(tmp_path / "p", {**DESIGN, "lonely_psu": "adjust", role: "nonexist"}, by="region3")
    named = [p for p in out["report"].errors if p.rule == "design columns"]
    assert named and f"(--{role}) names 'nonexist'" in named[0].message and out["degree"] is None
    res = CliRunner().invoke(app, ["stream", str(tmp_path / "p"), f"--{role}", "nonexist", "--model", ""])
    assert res.exit_code == 1 and "nothing estimated" in " ".join(res.output.split()), res.output
    empty = CliRunner().invoke(app, ["stream", str(tmp_path / "p"), f"--{role}", "", "--model", ""])
    assert empty.exit_code == 2 and f"--{role} is empty" in empty.output


def test_a_blank_stratum_of_a_streamed_wave_names_the_option_that_gave_the_strata(tmp_path):
    """The design came from the command line: a blank cell of its strata column is refused by row
    and names --strata, not a wave.yml key the user never wrote."""
    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    v.loc[[10, 1500], "education"] = np.nan
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    out = stream_wave(tmp_path / "p", {**DESIGN, "strata": "education"}, by="region3")
    blank = [p for p in out["report"].errors if p.rule == "not missing" and p.column == "education"]
    assert len(blank) == 2 and all("(--strata)" in p.message and "design.strata" not in p.message
                                   for p in blank), blank


@pytest.mark.parametrize("rule", ["remove", "bogus"])
def test_the_stream_command_s_lonely_psu_is_one_of_the_rules_and_reaches_the_design(tmp_path, rule):
    """--lonely-psu takes wave.yml's rules: another word is a usage error (exit 2, nothing
    estimated); a rule reaches the scan, whose province degrees are those of stream_wave."""
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _wave, design, _lone = _lonely_fpc_wave(tmp_path, "adjust")
    res = CliRunner().invoke(app, ["stream", str(folder), "--fpc", "fpc", "--lonely-psu", rule,
                                   "--by", "region", "--model", "", "--format", "json"])
    if rule == "bogus":
        assert res.exit_code == 2 and "bogus" in res.output and "adjust" in res.output
        assert "{" not in res.stdout
        return
    assert res.exit_code == 0, res.output
    got = pd.DataFrame(json.loads(res.stdout)["degree"])
    want = stream_wave(folder, {**design, "lonely_psu": rule}, by="region3")["degree"]
    adjusted = stream_wave(folder, design, by="region3")["degree"]
    np.testing.assert_allclose(got["se"], want.se, rtol=1e-9)
    assert not np.allclose(got["se"], adjusted.se, rtol=1e-6)


def test_one_pass_ols_statistics_merge_exactly_and_keep_precision_with_large_means():
    from analysis.estimation.stream import AbsorbedOLSStats

    y, x, g, w = _fe_data(n=6000, seed=9)
    x = x + np.array([1e4, -3e3, 50.0])                  # large means: the shift keeps precision
    cl = g // 3                                          # FE nested in 11 clusters
    mem = absorbed_ols(y, x, fe=g, cluster=cl, w=w)
    parts = [AbsorbedOLSStats(3).update(x[s], y[s], w[s], g[s], cl[s])
             for s in (slice(0, 1000), slice(1000, 4500), slice(4500, None))]  # three shifts
    merged = parts[0].merge(parts[1]).merge(parts[2]).result()
    _assert_same_ols(merged, mem)
    assert merged["n"] == len(y) and merged["clusters"] == mem["clusters"]


def test_one_pass_ols_statistics_updated_chunk_by_chunk_sum_the_cells_they_share():
    """One partial fed chunk after chunk, as the scan feeds a partition batch by batch: a
    (level, cluster) cell met again adds to its sums, and the rows are counted over all chunks
    (mutation: a cell overwritten by its latest chunk, or a count of the last chunk only, passed
    every test, whose partials each took one chunk)."""
    from analysis.estimation.stream import AbsorbedOLSStats

    y, x, g, w = _fe_data(n=5000, seed=6)
    cl = g // 4
    mem = absorbed_ols(y, x, fe=g, cluster=cl, w=w)
    stats = AbsorbedOLSStats(3)
    for s in (slice(0, 1200), slice(1200, 1201), slice(1201, 3900), slice(3900, None)):
        assert stats.update(x[s], y[s], w[s], g[s], cl[s]) is stats
    res = stats.result()
    _assert_same_ols(res, mem)
    assert (res["n"], res["clusters"], res["k"]) == (len(y), mem["clusters"], mem["k"])


def test_one_pass_ols_statistics_merged_into_an_empty_partial_take_its_shift():
    """A reduction starts from an empty partial (no rows, no shift): merging partials into it
    gives the in-memory fit, and the empty partial takes the first one's shift, so that a later
    partial with another shift is re-based on it (mutation: a merge that kept no shift, or
    re-based against a missing one, passed the merge test, whose first partial had rows)."""
    from analysis.estimation.stream import AbsorbedOLSStats

    y, x, g, w = _fe_data(n=4000, seed=4)
    x = x + np.array([1e4, -3e3, 50.0])
    mem = absorbed_ols(y, x, fe=g, cluster=g, w=w)
    a = AbsorbedOLSStats(3).update(x[:1500], y[:1500], w[:1500], g[:1500], g[:1500])
    b = AbsorbedOLSStats(3).update(x[1500:], y[1500:], w[1500:], g[1500:], g[1500:])
    empty = AbsorbedOLSStats(3)
    merged = empty.merge(a)
    assert merged is empty and np.array_equal(empty.shift, a.shift) and empty.n == 1500
    _assert_same_ols(merged.merge(b).result(), mem)
    assert AbsorbedOLSStats(3).merge(AbsorbedOLSStats(3)).shift is None    # nothing into nothing


def test_one_pass_ols_statistics_whose_first_chunk_has_no_complete_case_are_not_poisoned(tmp_path):
    """A first chunk (or partition) without a complete case for the model: no rows, so no shift
    (its weighted mean was 0/0, NaN, and every coefficient and SE then NaN); the same rows in
    another partition order gave numbers. A chunk whose weights sum to 0 shifts by its plain
    mean instead. Seen through stream_wave too: the first partition answers no income."""
    from analysis import paths
    from analysis.estimation.stream import AbsorbedOLSStats, stream_wave, write_partitioned

    y, x, g, w = _fe_data(n=3000, seed=8)
    mem = absorbed_ols(y, x, fe=g, cluster=g, w=w)
    none = slice(0, 0)
    fed = AbsorbedOLSStats(3).update(x[none], y[none], w[none], g[none], g[none])
    assert fed.shift is None and fed.n == 0
    _assert_same_ols(fed.update(x, y, w, g, g).result(), mem)
    _assert_same_ols(AbsorbedOLSStats(3).update(x[none], y[none], w[none], g[none], g[none])
                     .merge(AbsorbedOLSStats(3).update(x, y, w, g, g)).result(), mem)
    zero = AbsorbedOLSStats(3).update(x[:5], y[:5], np.zeros(5), g[:5], g[:5])
    assert np.isfinite(zero.shift).all()
    w0 = np.r_[np.zeros(5), w[5:]]
    _assert_same_ols(zero.merge(AbsorbedOLSStats(3).update(x[5:], y[5:], w[5:], g[5:], g[5:])).result(),
                     absorbed_ols(y, x, fe=g, cluster=g, w=w0))
    raw = pd.read_csv(paths.WAVES / paths.DEFAULT_WAVE / "villagers.csv")
    raw["hh_income"] = raw["hh_income"].astype(float)
    raw.loc[:99, "hh_income"] = np.nan                            # the first partition: no income
    design = {"weight": "weight", "strata": "province", "psu": "village_id"}
    ols = {"y": "overall", "x": ["internet_use", "education", "log_income"], "fe": "province_en",
           "cluster": "province", "weights": "weight"}
    write_partitioned(raw.iloc[:100], tmp_path / "a", 100)
    write_partitioned(raw.iloc[100:], tmp_path / "a", 400, first=1)
    turned = pd.concat([raw.iloc[100:], raw.iloc[:100]], ignore_index=True)
    write_partitioned(turned, tmp_path / "b", 400)
    a, b = (stream_wave(tmp_path / f, design, by="region3", ols=ols)["ols"] for f in ("a", "b"))
    assert np.isfinite(a["coef"]).all()
    np.testing.assert_allclose(a["coef"], b["coef"], rtol=1e-9)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-9)


def _stream_equals_models(st, model, folder):  # type: ignore[no-untyped-def]
    """The out-of-core OLS of ``model`` (a name in the study's models, or a spec) on the study's
    villagers, partitioned into ``folder``, checked against ``ruralgov models`` on the study
    (coefficients and SEs to 1e-10, n, k); returns the in-memory result."""
    from analysis.estimation.suite import fit_model

    v = st.wave.data["villagers"]
    cols = [c for c in v.columns if c not in ("province_en", "region3", "region4")]
    write_partitioned(v[cols], folder, rows_per_file=300)
    spec = st.settings.models.get(model) if isinstance(model, str) else model
    streamed = stream_wave(folder, DESIGN, ols=model_ols(spec), batch_rows=1000)["ols"]
    mem = fit_model(st, spec.model_copy(update={"wild": None}))
    regs = list(spec.regressors)
    np.testing.assert_allclose(streamed["coef"], mem.params[regs].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(streamed["se"], mem.bse[regs].to_numpy(), rtol=1e-10)
    assert streamed["n"] == mem.nobs and streamed["k"] == mem.stats["k"]
    return mem


@pytest.mark.parametrize("model", ["wls_province", "wls_region"])
def test_stream_and_models_give_the_same_estimates_and_standard_errors(tmp_path, model):
    """One regression core, one degrees-of-freedom convention: the out-of-core OLS of a model of
    data/models.yml equals ``ruralgov models`` on the same data to 1e-10 (nested or not)."""
    _stream_equals_models(build_study("2020-replica"), model, tmp_path / "p")


def test_stream_fits_an_ols_model_unweighted_as_models_does(tmp_path):
    """An ``ols`` model (no weights) streamed is the unweighted fit ``ruralgov models`` gives,
    not the design-weighted one: its coefficients differ from the same model's weighted fit."""
    st = build_study("2020-replica")
    wls = st.settings.models.get("wls_province")
    ols = wls.model_copy(update={"name": "ols_province", "family": "ols", "weights": None, "wild": None})
    assert model_ols(ols)["weights"] is None and model_ols(wls)["weights"] == "weight"
    unweighted = _stream_equals_models(st, ols, tmp_path / "o")
    weighted = _stream_equals_models(st, wls, tmp_path / "w")
    regs = list(wls.regressors)
    assert not np.allclose(unweighted.params[regs], weighted.params[regs], rtol=1e-3)


@pytest.mark.parametrize("name, update, says", [
    ("svy_region", {}, "standard errors are design"),
    ("wls_region", {"cluster": None, "se": None, "wild": None}, "standard errors are hc1"),
    ("wls_region", {"fixed_effects": ("region3", "sex")}, "2 fixed effects"),
    ("multilevel", {}, "not a linear model"),
    ("wls_region", {"fixed_effects": ()}, "not a linear model with a fixed effect"),
    ("wls_region_nomeans", {}, "cannot build 'overall_without_means'"),
    ("wls_region", {"regressors": ("internet_use", "urban_rate")},
     "province covariates such as 'urban_rate'"),
    ("wls_region", {"regressors": ("internet_use", "no_such_column")}, "cannot build 'no_such_column'")])
def test_a_model_the_scan_cannot_fit_as_models_does_is_refused_with_its_reason(name, update, says):
    """The scan absorbs one fixed effect and gives CR1 SEs: a model with design-based or HC1 SEs,
    two fixed effects, none, or another family would be printed with other estimates or SEs than
    ``ruralgov models`` gives, so it is refused, saying why."""
    spec = build_study("2020-replica").settings.models.get(name).model_copy(update=update)
    with pytest.raises(ValueError, match=says):
        model_ols(spec)


def test_stream_wave_refuses_an_ols_outcome_it_cannot_build_before_scanning(partitioned):
    """An ``ols`` argument given directly (not through model_ols) whose outcome is no column, derived
    variable or overall score: a ValueError naming it, not a KeyError from the middle of the scan."""
    folder, _ = partitioned
    ols = {"y": "overall_without_means", "x": X, "fe": "province", "cluster": "province"}
    with pytest.raises(ValueError, match=r"cannot build 'overall_without_means'"):
        stream_wave(folder, DESIGN, ols=ols)


def test_stream_command_refuses_a_model_it_would_fit_otherwise_than_models_and_says_weighting(
        partitioned, tmp_path, monkeypatch):
    """``ruralgov stream --model`` exits 2 naming the model and the reason for a design-based
    model, one whose outcome is an index score the scan does not build, and a name not in
    data/models.yml; an ``ols`` model added to data/models.yml is
    printed unweighted (its title says so) with the scan's unweighted estimates."""
    import json

    import yaml
    from typer.testing import CliRunner

    from analysis import paths
    from analysis.cli import app

    folder, _ = partitioned
    for name, says in (("svy_region", "standard errors are design"), ("nope", "no such model"),
                       ("wls_region_nomeans", "cannot build 'overall_without_means'")):
        res = CliRunner().invoke(app, ["stream", str(folder), "--model", name])
        assert res.exit_code == 2 and name in res.output and says in res.output, res.output
    doc = yaml.safe_load(paths.MODELS_CONFIG.read_text(encoding="utf-8"))
    base = next(m for m in doc["models"] if m["name"] == "wls_province")
    ols = {k: v for k, v in base.items() if k not in ("weights", "wild")}
    doc["models"].append({**ols, "name": "ols_province", "family": "ols"})
    models = tmp_path / "models.yml"
    models.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(paths, "MODELS_CONFIG", models)
    res = CliRunner().invoke(app, ["stream", str(folder), "--model", "ols_province"])
    assert res.exit_code == 0, res.output
    title = " ".join(res.output.split())                  # the table's title, wrapped to its width
    assert "province_en effects absorbed, unweighted, CR1 SEs clustered by province" in title
    res = CliRunner().invoke(app, ["stream", str(folder), "--model", "ols_province", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)                           # one document
    assert doc["model"]["name"] == "ols_province" and doc["model"]["weights"] is None
    printed = pd.DataFrame(doc["model"]["coefficients"]).set_index("term")
    x = list(base["regressors"])
    ref = stream_wave(folder, DESIGN, ols={"y": "overall", "x": x, "fe": "province_en",
                                           "cluster": "province", "weights": None})["ols"]
    np.testing.assert_allclose(printed.loc[x, "estimate"], ref["coef"], rtol=1e-9)
    np.testing.assert_allclose(printed.loc[x, "se"], ref["se"], rtol=1e-9)


def test_stream_derives_the_model_s_variables_as_the_in_memory_frame_blank_and_nonpositive_answers_included(
        make_wave, default_frames, tmp_path):
    """A blank sex leaves ``female`` (``sex == 2``) unknown and the row out, as in memory (not a
    man); a household income of 0 leaves ``log_income`` out (``nonpositive: drop``)."""
    v = default_frames["villagers"].copy()
    v.loc[[3, 40, 41, 500], "sex"] = ""
    v.loc[[7, 8, 900], "hh_income"] = "0"
    st = build_study(make_wave(v))
    clean = st.wave.data["villagers"]
    assert clean["sex"].isna().sum() == 4 and (clean["hh_income"] == 0).sum() == 3
    mem = _stream_equals_models(st, "wls_province", tmp_path / "p")
    base = _stream_equals_models(build_study("2020-replica"), "wls_province", tmp_path / "base")
    assert mem.nobs == base.nobs - 7


@pytest.mark.parametrize("batch", [700, 2_500, 100_000])
def test_scan_pieces_are_consecutive_rows_of_one_file_up_to_the_batch_size(tmp_path, batch):
    """DuckDB's small batches are joined per file: every piece comes from one partition, holds
    at most ``batch`` rows, starts at the file row after the previous piece of that file, and the
    pieces of a file put back together are the file."""
    from analysis.estimation.stream import partition_files, scan_partitions

    v = generate(seed=4, n=5000, calibrate=False)["villagers"]
    write_partitioned(v, tmp_path / "p", rows_per_file=1800)
    got: dict = {}
    for file, first, piece in scan_partitions(tmp_path / "p", batch_rows=batch):
        assert 0 < len(piece) <= batch
        parts = got.setdefault(file.name, [])
        assert first == 2 + sum(len(p) for p in parts)          # header is row 1
        parts.append(piece)
    files = partition_files(tmp_path / "p")
    assert sorted(got) == sorted(f.name for f in files)
    for f in files:
        whole = pd.concat(got[f.name], ignore_index=True)
        raw = pd.read_parquet(f)
        assert len(whole) == len(raw)
        np.testing.assert_array_equal(whole["resp_id"].astype(str), raw["resp_id"].astype(str))
    if batch == 100_000:
        assert all(len(p) == 1 for p in got.values())             # one piece per partition


def _lonely_fpc_wave(tmp_path, rule: str, fpc_values=None, census: bool = False):  # type: ignore[no-untyped-def]
    """A wave with a finite population correction (counts in some strata, sampling fractions in
    others) and one stratum holding a single PSU: partitioned, and as one file in memory."""
    v = generate(seed=5, n=3000, calibrate=False)["villagers"]
    provs = sorted(v["province"].unique())
    lone = provs[0]
    v.loc[v["province"] == lone, "village_id"] = v.loc[v["province"] == lone, "village_id"].iloc[0]
    n_h = v.groupby("province")["village_id"].nunique()
    pop = {p: (0.25 if i % 3 == 0 else float(n_h[p] * (2 + i))) for i, p in enumerate(provs)}
    if census:                        # two strata sampled whole: a fraction of 1, a count equal to n_h
        pop[provs[1]], pop[provs[2]] = 1.0, float(n_h[provs[2]])
    v["fpc"] = v["province"].map(fpc_values or pop)
    design = {**DESIGN, "fpc": "fpc", "lonely_psu": rule}
    folder = tmp_path / "parts" / "villagers"
    write_partitioned(v, folder, rows_per_file=700)
    wave = _one_file_wave(tmp_path, v, design)
    return folder, wave, design, lone


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_partitioned_degree_follows_the_wave_s_fpc_and_lonely_psu_rule(tmp_path, rule):
    """The scan's variance is the in-memory design's: the fpc of each stratum (a count of PSUs or
    a sampling fraction) and the wave's rule for a stratum with a single PSU, which it names."""
    folder, wave, design, lone = _lonely_fpc_wave(tmp_path, rule)
    out = stream_wave(folder, design, by="province_en")
    assert out["report"].ok
    # by region, the single PSU's total is not zero: the rule changes the region's variance
    region = stream_wave(folder, design, by="region3")["degree"]
    mem_region = build_study(wave).degree(by="region3")
    np.testing.assert_allclose(region.se, mem_region.se, rtol=1e-10)
    other = stream_wave(folder, {**design, "lonely_psu": "remove" if rule == "adjust" else "adjust"},
                        by="region3")["degree"]
    assert not np.allclose(other.se, region.se, rtol=1e-6)
    [warn] = [p for p in out["report"].problems if p.rule == "two or more PSUs per stratum"]
    from analysis.ingest.validate import _strat_name

    assert warn.severity == "warning" and f"'{rule}'" in warn.message and _strat_name(lone) in warn.message
    mem = build_study(wave).degree(by="province_en")
    s = out["degree"]
    assert s.domains == mem.domains
    np.testing.assert_allclose(s.estimate, mem.estimate, rtol=1e-10)
    # the single-PSU province's own mean has SE 0 (its PSU's linearised total is 0 up to rounding)
    np.testing.assert_allclose(s.se, mem.se, rtol=1e-10, atol=1e-10)
    plain = stream_wave(folder, DESIGN, by="province_en")["degree"]     # no fpc, lonely adjusted
    assert not np.allclose(plain.se, s.se, rtol=1e-6)


def test_a_stratum_whose_fpc_varies_and_starts_below_its_psus_breaks_both_rules_streamed_as_in_memory(
        tmp_path):
    """An fpc of 2 on a stratum's first rows (below its PSUs sampled) and of 10 on its last row:
    the in-memory validation reports both rules at the stratum's first row; so does the scan."""
    from analysis.ingest.wave import WaveInvalid, load_wave

    v = generate(seed=5, n=3000, calibrate=False)["villagers"]
    n_h = v.groupby("province")["village_id"].nunique()
    p = n_h[n_h >= 3].index[0]
    v["fpc"] = v["province"].map(3.0 * n_h)
    rows = np.flatnonzero((v["province"] == p).to_numpy())
    v.loc[rows, "fpc"] = 2.0
    v.loc[rows[-1], "fpc"] = 10.0
    design = {**DESIGN, "fpc": "fpc"}
    write_partitioned(v, tmp_path / "parts", rows_per_file=700)
    streamed = stream_wave(tmp_path / "parts", design)["report"]
    with pytest.raises(WaveInvalid) as e:
        load_wave(_one_file_wave(tmp_path, v, design))
    memory = e.value.report

    def fpc_problems(rep):  # type: ignore[no-untyped-def]
        return sorted((q.rule, q.value, q.message) for q in rep.errors if q.column == "fpc")

    rules = [r for r, *_ in fpc_problems(memory)]
    assert rules == ["fpc at least the PSUs sampled", "fpc constant in a stratum"]
    assert fpc_problems(streamed) == fpc_problems(memory)


def test_a_wave_that_names_no_lonely_psu_rule_gets_the_same_one_streamed_as_in_memory(tmp_path):
    """Without ``lonely_psu`` in the design (the scan's) or in wave.yml (the in-memory study's),
    both take the same default rule: the same SEs by region, where the single PSU counts."""
    import yaml

    folder, wave, design, lone = _lonely_fpc_wave(tmp_path, "adjust")
    no_rule = {k: c for k, c in design.items() if k != "lonely_psu"}
    yml = yaml.safe_load((wave / "wave.yml").read_text(encoding="utf-8"))
    yml["design"] = no_rule
    (wave / "wave.yml").write_text(yaml.safe_dump(yml), encoding="utf-8")
    mem = build_study(wave)
    got = stream_wave(folder, no_rule, by="region3")["degree"]
    np.testing.assert_allclose(got.se, mem.degree(by="region3").se, rtol=1e-10)
    rules = {r: stream_wave(folder, {**no_rule, "lonely_psu": r}, by="region3")["degree"].se
             for r in ("adjust", "remove")}
    assert not np.allclose(rules["adjust"], rules["remove"], rtol=1e-6)          # the premise
    np.testing.assert_allclose(got.se, rules[mem.design.lonely_psu], rtol=1e-10)


def test_partitioned_scan_refuses_an_fpc_that_varies_or_is_below_the_psus_and_a_failing_lonely_stratum(tmp_path):
    folder, wave, design, lone = _lonely_fpc_wave(tmp_path, "fail")
    out = stream_wave(folder, design, by="province_en")
    assert out["degree"] is None
    [err] = [p for p in out["report"].errors if p.rule == "two or more PSUs per stratum"]
    assert err.message.endswith("under --lonely-psu fail")     # the rule came from the option, not wave.yml
    with pytest.raises(ValueError, match="lonely_psu must be one of"):
        stream_wave(folder, {**design, "lonely_psu": "drop"})
    # rules across partitions, each partition alone passing them: one stratum's fpc is constant in
    # each partition but differs between two; another's count is at least the PSUs of any one
    # partition but below those of the whole wave
    import pandas as pd

    files = sorted(folder.glob("*.parquet"))
    # the fpc stored as doubles, as a statistics package writes counts: a value is named "57", as
    # the in-memory validation names it, not "57.0"
    parts = [pd.read_parquet(f).astype({"fpc": float}) for f in files]
    psus = pd.DataFrame([{"file": i, "province": p, "n": g["village_id"].nunique()}
                         for i, d in enumerate(parts) for p, g in d.groupby("province")])
    total = pd.concat(parts).groupby("province")["village_id"].nunique()
    spread = psus.groupby("province").agg(files=("file", "size"), most=("n", "max"))
    spread = spread[(spread["files"] > 1) & (spread.index != lone)]
    fpc = pd.concat(parts).groupby("province")["fpc"].first()
    p1 = next(p for p in spread.index if 1 < spread.loc[p, "most"] < total[p])
    p0 = next(p for p in spread.index if p != p1 and fpc[p] > 1)     # a count of PSUs: a whole number
    i0 = psus.loc[psus["province"] == p0, "file"].max()
    parts[i0].loc[parts[i0]["province"] == p0, "fpc"] += 7
    for d in parts:
        d.loc[d["province"] == p1, "fpc"] = float(spread.loc[p1, "most"])
    for f, d in zip(files, parts):
        d.to_parquet(f, index=False)
    for d in parts:                                  # each partition alone passes
        assert d.groupby("province")["fpc"].nunique().max() == 1
    rep = stream_wave(folder, {**design, "lonely_psu": "adjust"}, by="province_en")["report"]
    from analysis.ingest.validate import _strat_name

    def first(prov):  # type: ignore[no-untyped-def]
        """The partition and file row (the header is row 1) of a province's first respondent."""
        i = next(i for i, d in enumerate(parts) if (d["province"] == prov).any())
        return files[i].name, int(np.flatnonzero((parts[i]["province"] == prov).to_numpy())[0]) + 2

    [varies] = [p for p in rep.errors if p.rule == "fpc constant in a stratum"]
    [below] = [p for p in rep.errors if p.rule == "fpc at least the PSUs sampled"]
    d0 = parts[[f.name for f in files].index(first(p0)[0])]
    first_value = float(d0.loc[d0["province"] == p0, "fpc"].iloc[0])
    assert (varies.file, varies.row, varies.column, varies.value) == (*first(p0), "fpc", f"{first_value:g}")
    assert varies.message == (f"the fpc takes 2 values in stratum {_strat_name(p0)!r}; it is the stratum's "
                              "population size (or sampling fraction), one value per stratum")
    most = float(spread.loc[p1, "most"])
    assert (below.file, below.row, below.column, below.value) == (*first(p1), "fpc", f"{most:g}")
    assert below.message == (f"stratum {_strat_name(p1)!r} has {int(total[p1])} PSUs sampled but an fpc of "
                             f"{most:g}: a population count cannot be smaller than the sample")
    assert not rep.ok


def test_stream_command_passes_the_fpc_and_lonely_psu_rule_and_refuses_an_unknown_rule(tmp_path):
    """The rule given (remove), wave.yml's default without one (adjust), the degree of a province
    of one village withheld, and an unknown rule refused."""
    from typer.testing import CliRunner

    from analysis.cli import app

    folder, _, design, lone = _lonely_fpc_wave(tmp_path, "remove")
    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "region", "--format", "csv", "--model", "",
                                   "--fpc", "fpc", "--lonely-psu", "remove"])
    assert res.exit_code == 0, res.output
    ref = stream_wave(folder, design, by="region3")["degree"].to_frame()
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0]), nrows=len(ref))
    np.testing.assert_allclose(printed["se"], ref["se"], rtol=1e-6)
    # without the option, wave.yml's default rule: a lonely PSU centred at the grand mean (adjust)
    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "region", "--format", "csv", "--model", "",
                                   "--fpc", "fpc"])
    adjust = stream_wave(folder, {**design, "lonely_psu": "adjust"}, by="region3")["degree"].to_frame()
    assert not np.allclose(adjust["se"], ref["se"], rtol=1e-6)
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0]), nrows=len(adjust))
    np.testing.assert_allclose(printed["se"], adjust["se"], rtol=1e-6)
    # by province, the stratum of a single village is withheld (the two-PSU rule), the others shown
    from analysis.ingest.provinces import resolve
    from analysis.publishing.disclosure import PSU_REASON

    res = CliRunner().invoke(app, ["stream", str(folder), "--by", "province", "--format", "csv",
                                   "--model", "", "--fpc", "fpc"])
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0])).set_index("domain")
    one = printed.loc[resolve(lone).name_en]
    assert one["n"] >= 10 and one["n_psu"] == 1
    assert pd.isna(one["estimate"]) and one["suppressed"] == PSU_REASON
    assert printed.drop(resolve(lone).name_en)["estimate"].notna().all()
    bad = CliRunner().invoke(app, ["stream", str(folder), "--model", "", "--lonely-psu", "drop"])
    said = " ".join(bad.output.replace("│", " ").split())
    assert bad.exit_code == 2 and "'drop' is not one of 'adjust', 'remove', 'certainty', 'fail'" in said, said


def test_stream_command_clusters_a_model_by_its_own_cluster_not_its_fixed_effect(partitioned):
    """``ruralgov stream --model wls_region`` absorbs the region effects and clusters by province,
    as data/models.yml says: its printed SEs are the scan's with those clusters (by region, three
    clusters, they would differ)."""
    import json

    from typer.testing import CliRunner

    from analysis.cli import app
    from analysis.settings import load_settings

    folder, _ = partitioned
    spec = next(m for m in load_settings().models.models if m.name == "wls_region")
    assert spec.cluster == "province" and spec.fixed_effects[0] != spec.cluster
    res = CliRunner().invoke(app, ["stream", str(folder), "--model", "wls_region", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)                           # one document: the degree and the model
    assert {"degree", "model"} <= set(doc) and doc["model"]["weights"] == "weight"
    printed = pd.DataFrame(doc["model"]["coefficients"]).set_index("term")
    x = list(spec.regressors)
    ref = stream_wave(folder, DESIGN, ols={"y": "overall", "x": x, "fe": spec.fixed_effects[0],
                                           "cluster": "province", "weights": "weight"})["ols"]
    np.testing.assert_allclose(printed.loc[x, "se"], ref["se"], rtol=1e-9)
    np.testing.assert_allclose(printed.loc[x, "estimate"], ref["coef"], rtol=1e-9)


def test_partitioned_scan_refuses_a_blank_stratum_naming_its_file_and_row(tmp_path):
    """A blank stratum (a stratum column that is not a province) is refused as in memory: the scan
    names the partition and its row, and estimates nothing (it used to drop the row silently, or
    fail on the fpc of a stratum it could not name)."""
    v = generate(seed=5, n=1500, calibrate=False)["villagers"]
    v["fpc"] = 0.5
    v.loc[1200, "occupation"] = np.nan
    folder = tmp_path / "parts" / "villagers"
    write_partitioned(v, folder, rows_per_file=500)
    out = stream_wave(folder, {"weight": "weight", "strata": "occupation", "psu": "resp_id", "fpc": "fpc"})
    [e] = [p for p in out["report"].errors if p.rule == "not missing"]
    assert (e.file, e.row, e.column) == ("part-00002.parquet", 202, "occupation")
    assert out["degree"] is None


@pytest.mark.parametrize("block", [7, 50])
def test_partitioned_degree_does_not_depend_on_the_variance_blocks(partitioned, monkeypatch, block):
    """The domain-mean variance is summed over blocks of PSUs (32,768 at a time): with blocks of a
    few PSUs, as on a wave of millions of rows, the SEs are those of the in-memory design."""
    from analysis.estimation import stream

    folder, st = partitioned
    monkeypatch.setattr(stream, "VARIANCE_BLOCK", block)
    s = stream_wave(folder, DESIGN, by="province_en")["degree"]
    assert len(np.unique(st.design.psu)) > 2 * block                 # several blocks
    np.testing.assert_allclose(s.se, st.degree(by="province_en").se, rtol=1e-10)


def test_a_stratum_sampled_whole_is_valid_and_adds_no_variance(tmp_path):
    """An fpc of 1 (a sampling fraction) or equal to the PSUs sampled (a count) is a census of
    the stratum: no problem, and its PSUs add nothing to the variance, as in memory."""
    folder, wave, design, _ = _lonely_fpc_wave(tmp_path, "adjust", census=True)
    out = stream_wave(folder, design, by="province_en")
    assert out["report"].ok and not [p for p in out["report"].problems if p.column == "fpc"]
    mem = build_study(wave).degree(by="province_en")
    np.testing.assert_allclose(out["degree"].se, mem.se, rtol=1e-10, atol=1e-10)



def test_ols_frame_of_a_piece_takes_the_outcome_weights_and_derived_variables_the_spec_names():
    """The scan's regression columns: the outcome named (the piece's score for ``overall``), the
    weight column named (``weight`` by default), each derived variable as the in-memory frame
    derives it, and only rows complete in all of them."""
    from analysis.estimation.stream import _ols_frame
    from analysis.settings.schemas import Derived

    clean = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, np.nan, 6.0], "b": [1.0, 0.0, -1.0, 10.0, 5.0, np.nan],
                          "sex": [2, 1, 2, np.nan, 1, 2], "y2": [9.0, 8.0, 7.0, 6.0, 5.0, 4.0],
                          "w2": [1.5, 1.0, 1.0, 2.0, 1.0, 1.0], "weight": [3.0] * 6,
                          "g": list("aabbcc"), "c": list("xxyyzz"),
                          "female": [9.0] * 6})         # a column the definition replaces, as in memory
    score = np.array([50.0, 51.0, 52.0, 53.0, 54.0, 55.0])
    derived = {"log1p_b": Derived(label="l", transform="log1p", of="b", nonpositive="drop"),
               "asinh_b": Derived(label="s", transform="asinh", of="b"),
               "log_b": Derived(label="log", transform="log", of="b", nonpositive="drop"),
               "female": Derived(label="f", expr="sex == 2")}
    spec = {"y": "y2", "x": ["a", "asinh_b", "log1p_b", "female"], "fe": "g", "cluster": "c", "weights": "w2"}
    f = _ols_frame(clean, score, spec, derived)
    assert list(f.columns) == ["a", "asinh_b", "log1p_b", "female", "_y", "_w", "g", "c"]
    # row 2: log1p(−1) undefined; row 3: sex blank; row 4: a blank; row 5: b blank
    assert list(f.index) == [0, 1]
    np.testing.assert_allclose(f["asinh_b"], np.arcsinh([1.0, 0.0]))
    np.testing.assert_allclose(f["log1p_b"], np.log1p([1.0, 0.0]))
    assert list(f["female"]) == [1.0, 0.0] and list(f["_y"]) == [9.0, 8.0] and list(f["_w"]) == [1.5, 1.0]
    g = _ols_frame(clean, score, {"y": "overall", "x": ["a", "log_b"], "fe": "g", "cluster": "g"}, derived)
    assert list(g.columns) == ["a", "log_b", "_y", "_w", "g"]
    assert list(g.index) == [0, 3] and list(g["_y"]) == [50.0, 53.0] and list(g["_w"]) == [3.0, 3.0]
    np.testing.assert_allclose(g["log_b"], np.log([1.0, 10.0]))
    with pytest.raises(ValueError, match="log_b"):
        _ols_frame(clean, score, {"y": "overall", "x": ["log_b"], "fe": "g", "cluster": "g"},
                   {"log_b": Derived(label="log", transform="log", of="b")})     # nonpositive: error


def test_partitioned_scan_of_a_wave_without_any_psu_id_but_an_fpc_reports_the_ids_and_stops(tmp_path):
    """Every PSU id missing, an fpc given: no stratum has a PSU to count, so the fpc is checked for
    one value per stratum only; the missing ids are the errors, and nothing is estimated."""
    folder, _, design, _ = _lonely_fpc_wave(tmp_path, "adjust")
    for f in sorted(folder.glob("*.parquet")):
        d = pd.read_parquet(f)
        d["village_id"] = pd.Series([None] * len(d), dtype=object)
        d.to_parquet(f, index=False)
    out = stream_wave(folder, design, by="province_en")
    assert out["degree"] is None and not out["report"].ok
    cols = {p.column for p in out["report"].errors}
    assert cols == {design["psu"]}, cols
    assert not [p for p in out["report"].problems if p.rule.startswith("fpc")]


def test_partitioned_scan_lists_the_strata_whose_fpc_varies_in_the_order_they_first_appear(tmp_path):
    """Two strata whose fpc changes from one partition to the next, the one with the larger code
    coming first in the files: the report names them in the order of the wave's rows."""
    _, wave, design, _ = _lonely_fpc_wave(tmp_path, "adjust")
    v = pd.read_parquet(wave / "villagers.parquet")
    code = dict(zip(v["province"], build_study(wave).villagers["province"]))    # name → code, as validated
    a, b = sorted(code, key=code.get)[1:3]                      # a's code is smaller; b comes first
    v = pd.concat([v[v["province"] == b], v[v["province"] == a], v[~v["province"].isin([a, b])]])
    nb, na = int((v["province"] == b).sum()), int((v["province"] == a).sum())
    size = (nb + na) // 3                           # b spans the first two files, a the second and third
    assert 0 < size < nb < 2 * size <= nb + na - 1 < 3 * size + 2
    folder = tmp_path / "ordered" / "villagers"
    files = write_partitioned(v.reset_index(drop=True), folder, rows_per_file=size)
    for i in (1, 2):                                # the fpc of b in file 1, and of a in file 2, changes
        d = pd.read_parquet(files[i])
        d.loc[d["province"] == (b if i == 1 else a), "fpc"] += 7
        d.to_parquet(files[i], index=False)
    rep = stream_wave(folder, design, by="province_en")["report"]
    varies = [p for p in rep.errors if p.rule == "fpc constant in a stratum"]
    from analysis.ingest.validate import _strat_name

    assert [p.file for p in varies] == [files[0].name, files[1].name]
    assert _strat_name(code[b]) in varies[0].message and _strat_name(code[a]) in varies[1].message


def _validated_both_ways(tmp_path, v: pd.DataFrame, design: dict) -> tuple:  # type: ignore[no-untyped-def]
    """The same rows validated in memory as one file (wave ``w``) and scanned as partitions of
    1,000 rows (folder ``p``): (in-memory report, scan report)."""
    import yaml

    from analysis.ingest.validate import validate_wave

    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    (tmp_path / "w").mkdir()
    v.to_parquet(tmp_path / "w" / "villagers.parquet", index=False)
    (tmp_path / "w" / "wave.yml").write_text(yaml.safe_dump({"id": "w", "questionnaires": {
        "villagers": {"file": "villagers.parquet"}}, "design": design}), encoding="utf-8")
    mem, _ = validate_wave(tmp_path / "w")
    return mem, stream_wave(tmp_path / "p", design)["report"]


@pytest.mark.parametrize("lonely_psu", ["adjust", "fail"])
def test_partitioned_scan_reports_the_design_s_cross_row_problems_as_the_in_memory_validation(tmp_path, lonely_psu):
    """A PSU in three strata (its rows in three partitions), another in two, and a
    stratum left with a single PSU: the scan on one machine reports each at the same row, column,
    value, rule, message and severity as the validation of the same rows in one file, in the same
    order (file row r of the one file is row (r − 2) mod 1000 + 2 of partition (r − 2) // 1000)."""
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    provs = list(dict.fromkeys(v["province"]))
    # partition 0, late in it: the PSU's rows in the later partitions have lower rows of their own
    a, home = v.loc[900, "village_id"], v.loc[900, "province"]
    others = [p for p in provs if p != home]
    v.loc[[2600, 1500], "village_id"] = a                           # partitions 2 and 1
    v.loc[2600, "province"], v.loc[1500, "province"] = others[0], others[1]
    v.loc[1200, "province"] = [p for p in provs if p != v.loc[1200, "province"]][2]   # PSU B in 2 strata
    alone = others[5]
    v.loc[v["province"] == alone, "village_id"] = "the-only-village"
    design = {**DESIGN, "lonely_psu": lonely_psu}
    mem, scan = _validated_both_ways(tmp_path, v, design)
    rules = ("PSU nested in one stratum", "two or more PSUs per stratum")

    def keep(rep, where):  # type: ignore[no-untyped-def]
        # the scan's rule came from --lonely-psu, the one file's from its wave.yml: each names its own
        return [(*where(p), p.column, str(p.value), p.rule,
                 p.message.replace("under the wave's design.lonely_psu: fail", "under --lonely-psu fail"),
                 p.severity) for p in rep.problems if p.rule in rules]

    want = keep(mem, lambda p: (f"part-{(p.row - 2) // 1000:05d}.parquet", (p.row - 2) % 1000 + 2))
    got = keep(scan, lambda p: (p.file, p.row))
    assert got == want
    assert [r[4] for r in got].count("PSU nested in one stratum") == 2
    assert any("appears in 3 strata" in r[5] for r in got)
    assert ("two or more PSUs per stratum", "error" if lonely_psu == "fail" else "warning") in \
        {(r[4], r[6]) for r in got}
    assert all("design.lonely_psu" not in p.message for p in scan.problems)
    assert (scan.ok, mem.ok) == (False, False)


def test_partitioned_scan_counts_blank_and_declared_answers_of_each_column_as_the_in_memory_validation(tmp_path):
    """The report of the scan carries, column by column, the blank and the declared-missing
    answers summed over the partitions, equal to the validation of the same rows in one file
    (the counts the validation page and the missing-data table print)."""

    v = generate(seed=5, n=2500, calibrate=False)["villagers"]
    v.loc[[3, 1040, 2480], "age"] = np.nan                         # blanks in partitions 0, 1 and 2
    mem, scan = _validated_both_ways(tmp_path, v, DESIGN)
    assert scan.missing == mem.missing
    assert scan.wave == "p"                                         # the partitions' folder names the wave
    counts = scan.missing["villagers"]
    assert counts["age"] == {"blank": 3, "declared": 0}
    assert sum(c["declared"] for c in counts.values()) > 0 and sum(c["blank"] for c in counts.values()) > 3


def test_strata_with_one_psu_are_listed_psu_by_psu_then_by_first_row(tmp_path):
    """Two PSUs each alone in two strata of their own (one PSU in two strata, both left with
    that PSU only) among 750 PSUs, the first PSU's second stratum appearing after the second
    PSU's, and the first PSU's label sorting after the second's: the strata with one PSU are
    reported PSU by PSU in the order of the PSUs' first rows (not of their labels), and within one
    PSU in the order of the strata's first rows (not simply by first row). An fpc that varies in
    a stratum, found after them, is an error and comes first."""
    v = generate(seed=12, n=3000, calibrate=False)["villagers"]
    v["village_id"] = [f"v{i // 4:04d}" for i in range(len(v))]
    spare = [p for p in ["Beijing", "Tianjin", "Liaoning", "Jilin"] if p not in set(v["province"])]
    assert len(spare) == 4
    v.loc[[400, 401, 402, 403], "village_id"] = "z-late"           # sorts after v0200
    v.loc[[400, 401], "province"] = spare[1]                       # PSU z-late (rows 400-403) ...
    v.loc[[1600, 1601], ["village_id", "province"]] = ["z-late", spare[0]]   # ... and two rows in partition 1
    v.loc[[402, 403], "province"] = v.loc[404, "province"]         # its other rows stay in a stratum of many PSUs
    v.loc[[800, 801], "province"] = spare[3]                       # PSU v0200 (rows 800-803)
    v.loc[[802, 803], "province"] = spare[2]
    v["fpc"] = 5000.0
    v.loc[2500, "fpc"] = 6000.0
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", {**DESIGN, "fpc": "fpc", "lonely_psu": "adjust"})["report"]
    got = [(p.value, p.file, p.row) for p in rep.problems if p.rule == "two or more PSUs per stratum"]
    assert got == [(spare[1], "part-00000.parquet", 402), (spare[0], "part-00001.parquet", 602),
                   (spare[3], "part-00000.parquet", 802), (spare[2], "part-00000.parquet", 804)]
    assert all(p.severity == "warning" for p in rep.problems if p.rule == "two or more PSUs per stratum")
    severities = [p.severity for p in rep.problems]
    assert "fpc constant in a stratum" in {p.rule for p in rep.errors}
    assert severities == sorted(severities, key=lambda s: s != "error") and severities[-1] == "warning"


def test_partitions_without_the_respondent_id_are_refused_with_a_report_not_a_crash(tmp_path):
    """No id column: no duplicates can be looked for; the scan reports the missing column as the
    validation does and estimates nothing."""
    v = generate(seed=5, n=1200, calibrate=False)["villagers"].drop(columns="resp_id")
    write_partitioned(v, tmp_path / "p", rows_per_file=500)
    out = stream_wave(tmp_path / "p", DESIGN)
    assert not out["report"].ok and out["degree"] is None
    assert any("resp_id" in (p.column + p.message) for p in out["report"].errors)
    assert not any(p.rule == "unique id" for p in out["report"].problems)


def test_partials_grouped_in_any_way_hold_the_rows_counts_problems_and_sums_of_all_their_pieces(tmp_path):
    """The contract of a scan's partial, whatever the grouping of the pieces: all added to one
    partial, or each its own partial merged pairwise as a tree (as a cluster could reduce them).
    Both hold each file's row count, the blank and declared answers of each column as the
    in-memory validation counts them, each row problem once in wave order, the first row of each
    (PSU, stratum) pair, and the same domain sums: the same degree to the last bit."""
    from analysis.estimation.stream import ScanPartial, _scan_job, partition_files, scan_partitions

    v = generate(seed=5, n=2500, calibrate=False)["villagers"]
    v.loc[[3, 1040, 2480], "age"] = np.nan                 # blanks in three partitions
    v.loc[[20, 1200], "edu_org"] = 7.0                      # an out-of-range code in two pieces
    v["mystery"] = 1                                        # a column of no codebook item: said once a file
    mem, _ = _validated_both_ways(tmp_path, v, DESIGN)
    job = _scan_job({**DESIGN, "lonely_psu": "adjust"}, "province_en", None, None, None)
    pieces = list(scan_partitions(partition_files(tmp_path / "p"), batch_rows=400))
    assert len(pieces) == 8                                 # 400 + 400 + 200 rows, twice; 400 + 100
    flat = ScanPartial()
    for piece in pieces:
        flat.add_piece(job, *piece)
    level = [ScanPartial().add_piece(job, *piece) for piece in pieces]
    while len(level) > 1:
        level = [level[i].merge(level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    tree = level[0]
    mem_rows = sorted({(f"part-{(p.row - 2) // 1000:05d}.parquet", (p.row - 2) % 1000 + 2, p.rule)
                       for p in mem.problems if p.rule == "schema"})
    assert len(mem_rows) == 2
    for part in (flat, tree):
        assert part.rows == {"part-00000.parquet": 1000, "part-00001.parquet": 1000,
                             "part-00002.parquet": 500}
        assert part.missing == mem.missing["villagers"]
        assert part.missing["age"] == {"blank": 3, "declared": 0}
        assert [(p.file, p.row, p.rule) for p in part.problems if p.rule == "schema"] == mem_rows
        assert [(p.file, p.column) for p in part.problems if p.rule == "known column"] == [
            (f"part-0000{i}.parquet", "mystery") for i in range(3)]
    pd.testing.assert_frame_equal(tree.psu_strata.combine(), flat.psu_strata.combine())
    a, b = flat.stats.estimate(), tree.stats.estimate()
    assert a.domains == b.domains
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.se, b.se)


def test_partitioned_degree_follows_the_index_construction_and_the_codebook_it_is_given(partitioned):
    """A scan under another index construction (expert weights, education counted five times)
    and another codebook (one indicator read in reverse) gives the in-memory degree of the same
    construction and codebook, and differs from the default's: the scan scores each piece with
    the construction and codebook it was given, not the project's."""
    import dataclasses

    from analysis.estimation.index import IndexConfig, build_index, degree
    from analysis.ingest.codebook import load_codebook
    from analysis.settings import load_settings

    folder, st = partitioned
    base = load_settings()
    idx = base.index.model_copy(update={"weighting": "expert", "expert": base.index.expert.model_copy(
        update={"fields": {**base.index.expert.fields, "education": 5.0}})})
    settings = dataclasses.replace(base, index=idx)
    cb = load_codebook()
    flip = cb.indicators("villagers")[0].id
    items = tuple(dataclasses.replace(it, direction=-it.direction) if it.id == flip else it
                  for it in cb.items("villagers"))
    cb = dataclasses.replace(cb, questionnaires={**cb.questionnaires, "villagers": items})
    cfg = IndexConfig.from_settings(idx)
    v = st.villagers
    want = degree(v, build_index(v, cfg, codebook=cb, weights=v["weight"].to_numpy(float)), st.design,
                  by="province_en")
    out = stream_wave(folder, DESIGN, settings=settings, codebook=cb)
    assert out["report"].ok
    _assert_same_estimate(out["degree"], want)
    assert np.abs(want.estimate - st.degree(by="province_en").estimate).min() > 0.01
    for changed in (stream_wave(folder, DESIGN, settings=settings), stream_wave(folder, DESIGN, codebook=cb)):
        assert np.abs(changed["degree"].estimate - want.estimate).min() > 0.01


def test_a_partition_without_rows_is_named_a_warning_and_a_wave_of_them_an_error(tmp_path):
    """A partition holding only its schema adds nothing: the scan names it (a warning, the
    in-memory rule "has respondents"), counts its 0 rows and gives the estimate of the others.
    A wave whose every partition is empty is refused as the in-memory validation refuses a file
    with a header and no data rows: an error naming each file, and no estimate."""
    v = generate(seed=13, n=2000, calibrate=False)["villagers"]
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    base = stream_wave(tmp_path / "p", DESIGN)
    v.iloc[:0].to_parquet(tmp_path / "p" / "part-00001a.parquet", index=False)      # between the two
    out = stream_wave(tmp_path / "p", DESIGN)
    rep = out["report"]
    assert rep.ok and rep.rows == {"part-00000.parquet": 1000, "part-00001.parquet": 1000,
                                   "part-00001a.parquet": 0}
    assert [astuple(p) for p in rep.problems if p.file == "part-00001a.parquet"] == [   # as the file's rule
        ("part-00001a.parquet", None, "", "", "has respondents",
         "the partition has a header but no data rows: it adds nothing to the wave", "warning")]
    assert len(rep.problems) == len(base["report"].problems) + 1
    _assert_same_estimate(out["degree"], base["degree"])
    (tmp_path / "e").mkdir()
    for name in ("a.parquet", "b.parquet"):
        v.iloc[:0].to_parquet(tmp_path / "e" / name, index=False)
    none = stream_wave(tmp_path / "e", DESIGN)
    assert not none["report"].ok and none["degree"] is None
    assert [astuple(p) for p in none["report"].errors] == [
        (f, None, "", "", "has respondents",
         "the partition has a header but no data rows, as has every partition of the wave", "error")
        for f in ("a.parquet", "b.parquet")]
    assert none["report"].rows == {"a.parquet": 0, "b.parquet": 0}
    assert none["report"].to_dict()["missing"] == {}     # no column read, as in memory: no counts at all


@pytest.mark.parametrize("buckets, limit", [(3, 50), (1, 50), (4, 2)])
def test_cluster_worker_functions_give_the_local_scan_s_partials_and_repeated_ids(tmp_path, buckets, limit):
    """What each Dask worker runs, run here without a cluster: every partition reduced on its own
    (``_dask_partition``) and merged in file order holds the local scan's rows, problems and
    degree; its ids, hashed into buckets, put every occurrence of an id in one bucket, and the
    repeats found bucket by bucket (``_bucket_duplicates``) and put in file order are those of
    ``duplicate_ids``: the file and row of each repeat and of the id's first occurrence."""
    from analysis.estimation.stream import (ScanPartial, _bucket_duplicates, _dask_partition, _scan_job,
                                            duplicate_ids, partition_files)

    v = generate(seed=21, n=3000, calibrate=False)["villagers"]
    for a, b in [(10, 2500), (11, 1500), (12, 1200), (11, 2900), (1800, 1900)]:  # across and within files
        v.loc[b, "resp_id"] = v.loc[a, "resp_id"]
    v.loc[700, "edu_org"] = 7.0
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    files = partition_files(tmp_path / "p")
    job = _scan_job({**DESIGN, "lonely_psu": "adjust"}, "province_en", None, None, None)
    out = [_dask_partition(str(f), job, "resp_id", 400, buckets) for f in files]
    assert all(len(o) == 1 + buckets for o in out)
    assert _dask_partition(str(files[0]), job, None, 400, buckets)[1:] == ()    # no id column: no buckets
    part = ScanPartial()
    for o in out:
        part.merge(o[0])
    local = stream_wave(tmp_path / "p", DESIGN, batch_rows=400)
    assert part.rows == local["report"].rows
    assert [(p.file, p.row, p.rule) for p in part.problems] == [
        (p.file, p.row, p.rule) for p in local["report"].problems if p.rule == "schema"]
    for b in range(buckets):             # an id in one bucket only, whichever partition holds it
        ids = [set(o[1 + b]["id"]) for o in out]
        others = set().union(*(set(o[1 + c]["id"]) for o in out for c in range(buckets) if c != b))
        assert not set().union(*ids) & others
    found = pd.concat([_bucket_duplicates([o[1 + b] for o in out], limit) for b in range(buckets)],
                      ignore_index=True).sort_values(["file", "row"], kind="stable").head(limit)
    want = duplicate_ids(tmp_path / "p", "resp_id", limit=limit)
    cols = ["id", "file", "row", "first_file", "first_row"]
    got = found[cols].reset_index(drop=True).astype({"row": "int64", "first_row": "int64"})
    want = want[cols].reset_index(drop=True).astype({"row": "int64", "first_row": "int64"})
    assert len(want) == min(5, limit)
    pd.testing.assert_frame_equal(got.astype(str), want.astype(str))
    # a partition without ids sends no frame (None); the first file alone repeats no id
    assert _bucket_duplicates([None, out[0][1]], limit).empty and len(out[0][1])


def test_repeated_ids_are_each_repeat_in_file_and_row_order_with_the_id_s_first_occurrence(tmp_path):
    """``duplicate_ids`` by hand: ids as trimmed text, blanks and nulls not ids, rows counted from
    the header (row 1), the first occurrence the lowest (file, row); a column name with a quote."""
    from analysis.estimation.stream import duplicate_ids

    col = 'resp "id"'
    for name, ids in [("a", ["1", "2", " 3 ", "1"]), ("b", ["3", "", None, "2"]), ("c", ["1", "4"])]:
        pd.DataFrame({col: ids}).to_parquet(tmp_path / f"{name}.parquet", index=False)
    got = duplicate_ids(tmp_path, col)
    assert [(r.id, Path(r.file).name, int(r.row), Path(r.first_file).name, int(r.first_row))
            for r in got.itertuples()] == [
        ("1", "a.parquet", 5, "a.parquet", 2), ("3", "b.parquet", 2, "a.parquet", 4),
        ("2", "b.parquet", 5, "a.parquet", 3), ("1", "c.parquet", 2, "a.parquet", 2)]
    assert len(duplicate_ids(tmp_path, col, limit=3)) == 3
    (tmp_path / "many").mkdir()
    pd.DataFrame({col: [str(i % 51) for i in range(102)]}).to_parquet(tmp_path / "many" / "m.parquet")
    assert len(duplicate_ids(tmp_path / "many", col)) == 50                # the first fifty by default


def test_repeated_ids_spill_to_a_temporary_folder_of_their_own_not_the_working_folder(tmp_path, monkeypatch):
    """DuckDB's default spill folder is ``.tmp`` in the working folder (a checkout, say): the
    aggregation is given a temporary folder, removed afterwards, and held to ``DUCKDB_MEMORY``."""
    from analysis.estimation import stream

    seen = []

    def spy(spill=None, threads=None):  # type: ignore[no-untyped-def]
        con = real(spill, threads)
        seen.append((spill, Path(spill).is_dir() if spill else None, con.sql(
            "SELECT current_setting('temp_directory'), current_setting('memory_limit')").fetchall()[0]))
        return con

    real = stream._duckdb
    monkeypatch.setattr(stream, "_duckdb", spy)
    pd.DataFrame({"id": ["1", "1"]}).to_parquet(tmp_path / "a.parquet", index=False)
    assert len(stream.duplicate_ids(tmp_path, "id")) == 1
    (spill, existed, (setting, limit)), = seen
    assert existed and setting == spill and not Path(spill).exists()
    assert limit == "244.1 MiB" and stream.DUCKDB_MEMORY == "256MB"       # DuckDB shows 256 MB in MiB
    assert real(threads=1).sql("SELECT current_setting('threads')").fetchall() == [(1,)]


def test_a_folder_without_partitions_is_named(tmp_path):
    from analysis.estimation.stream import partition_files

    with pytest.raises(FileNotFoundError, match=rf"^{re.escape(str(tmp_path))}: no \*\.parquet partitions$"):
        partition_files(tmp_path)


@pytest.mark.parametrize("change", ["drop", "reorder", "type"])
def test_a_partition_of_another_shape_is_named_with_the_first_column_that_differs(tmp_path, change):
    """The second of three partitions differs: it is named, with its first column that differs
    (name and type) beside the first partition's, or "another number of columns"."""
    v = pd.DataFrame({"resp_id": ["1", "2"], "age": [30.0, 40.0], "sex": [1.0, 2.0]})
    odd = {"drop": v.drop(columns=["sex"]), "reorder": v[["resp_id", "sex", "age"]],
           "type": v.assign(age=v["age"].astype("int64"))}[change]
    for name, frame in [("a", v), ("b", odd), ("c", v)]:
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    what = {"drop": "another number of columns",
            "reorder": "column 'sex' of type double where a.parquet has 'age' of type double",
            "type": "column 'age' of type int64 where a.parquet has 'age' of type double"}[change]
    with pytest.raises(ValueError) as e:
        stream_wave(tmp_path, DESIGN)
    assert str(e.value) == (f"{tmp_path}: the partitions cannot be read as one table (b.parquet has {what}); "
                            "every partition must have the same columns, in the same order, of the same types")


def test_partitions_are_written_numbered_from_first_in_row_order_without_the_index(tmp_path):
    """``write_partitioned`` (the benchmarks' large waves): consecutive slices of ``rows_per_file``
    rows, numbered from ``first`` (0 by default), into a folder made with its parents or already
    there; read back, each is its slice with a fresh row index (no index column, no offset)."""
    df = pd.DataFrame({"resp_id": [str(i) for i in range(5)], "x": np.arange(5.0)})
    folder = tmp_path / "deep" / "wave"
    out = write_partitioned(df, folder, 2, first=3)
    assert out == [folder / f"part-0000{i}.parquet" for i in (3, 4, 5)]
    for p, start in zip(out, (0, 2, 4)):
        pd.testing.assert_frame_equal(pd.read_parquet(p), df.iloc[start:start + 2].reset_index(drop=True))
    assert write_partitioned(df, folder, 5) == [folder / "part-00000.parquet"]   # the folder exists


@pytest.mark.parametrize("normalisation", ["minmax", "zscore", "rank", "target"])
@pytest.mark.parametrize("weighting", ["equal", "expert", "entropy", "pca", "ahp"])
def test_the_partitioned_scan_takes_a_row_local_index_construction_and_refuses_the_others(normalisation,
                                                                                          weighting):
    """A piece can be scored alone only when a row's score depends on that row: min-max or target
    normalisation with fixed weights. z-scores, ranks, entropy and PCA weights need the whole
    wave, and are refused before any partition is read."""
    import dataclasses

    from analysis.estimation.stream import _scan_job
    from analysis.settings import load_settings

    base = load_settings()
    st = dataclasses.replace(base, index=base.index.model_copy(
        update={"normalisation": normalisation, "weighting": weighting}))
    if normalisation in ("zscore", "rank") or weighting in ("entropy", "pca"):
        with pytest.raises(ValueError, match=r"^the partitioned path needs a row-local index \(min-max or "
                                             r"target normalisation; equal, expert or AHP weights\)$"):
            _scan_job(DESIGN, "province_en", None, None, st)
        return
    job = _scan_job(DESIGN, "province_en", None, None, st)
    assert (job.index.normalisation, job.index.weighting) == (normalisation, weighting)
    assert (job.design, job.by, job.ols, job.derived) == (DESIGN, "province_en", None, {})


def test_partitions_carrying_pandas_index_columns_are_scanned_with_them_named_as_unknown_columns(tmp_path):
    """A wave written with ``df.reset_index().reset_index().to_parquet()`` has columns named
    ``level_0`` and ``index``. Each piece of the scan gets a fresh row index, but that index must
    not be put beside the values (pandas has no name left for it and refuses): the columns are
    named once per partition, as the validation names any column the codebook does not know, and
    the estimates do not change."""
    v = generate(seed=5, n=1200, calibrate=False)["villagers"]
    write_partitioned(v.reset_index().reset_index(), tmp_path / "with", rows_per_file=500)
    write_partitioned(v, tmp_path / "without", rows_per_file=500)
    got = stream_wave(tmp_path / "with", DESIGN, batch_rows=300)
    want = stream_wave(tmp_path / "without", DESIGN, batch_rows=300)
    assert [(p.file, p.row, p.column, p.rule, p.severity) for p in got["report"].problems] == [
        (f"part-0000{i}.parquet", None, c, "known column", "warning")
        for i in range(3) for c in ("level_0", "index")]
    assert want["report"].problems == [] and got["report"].ok
    _assert_same_estimate(got["degree"], want["degree"])


def test_a_scan_gives_the_columns_asked_for_with_text_as_arrow_strings_in_pieces_of_200000_rows(tmp_path):
    """``scan_partitions`` by default: every column in file order, text as Arrow-backed strings
    whose missing values are NaN (as the CSV reader gives them), pieces of at most 200,000 rows;
    with ``columns``, those columns in that order, whatever their names; a list of files is
    scanned as given (a worker's share of the wave)."""
    from analysis.estimation.stream import scan_partitions

    n = 200_001
    df = pd.DataFrame({"resp_id": pd.array([str(i) for i in range(n)], dtype="string[pyarrow]"),
                       'odd "name"': np.arange(n, dtype=float), "k": np.arange(n)})
    df.loc[3, "resp_id"] = None
    (tmp_path / "p").mkdir()
    df.to_parquet(tmp_path / "p" / "a.parquet", index=False)
    df.iloc[:5].to_parquet(tmp_path / "p" / "b.parquet", index=False)
    pieces = list(scan_partitions(tmp_path / "p"))
    assert [(f.name, first, len(p)) for f, first, p in pieces] == [
        ("a.parquet", 2, 200_000), ("a.parquet", 200_002, 1), ("b.parquet", 2, 5)]
    a = pieces[2][2]
    assert list(a.columns) == ["resp_id", 'odd "name"', "k"]
    assert a["resp_id"].dtype == pd.StringDtype("pyarrow", na_value=np.nan)
    assert a["resp_id"].iloc[3] is np.nan and list(a["resp_id"].iloc[:3]) == ["0", "1", "2"]
    assert (a["k"].dtype, a['odd "name"'].dtype) == (np.dtype("int64"), np.dtype("float64"))
    assert pieces[1][2].iloc[0].tolist() == ["200000", 200_000.0, 200_000]
    some = list(scan_partitions([tmp_path / "p" / "b.parquet"], columns=["k", 'odd "name"']))
    assert len(some) == 1 and some[0][:2] == (tmp_path / "p" / "b.parquet", 2)
    pd.testing.assert_frame_equal(some[0][2], df.iloc[:5][["k", 'odd "name"']])


def test_a_scan_of_partitions_that_cannot_be_one_table_says_so_with_duckdb_s_reason(tmp_path):
    """Called on its own (a worker's share is not checked by ``_same_schema``), the scan refuses
    partitions DuckDB cannot read as one table, naming the folder and DuckDB's reason."""
    from analysis.estimation.stream import scan_partitions

    pd.DataFrame({"a": [1.0], "b": ["x"]}).to_parquet(tmp_path / "p1.parquet", index=False)
    pd.DataFrame({"a": ["y"], "c": ["x"]}).to_parquet(tmp_path / "p2.parquet", index=False)
    with pytest.raises(ValueError) as e:
        list(scan_partitions(tmp_path))
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path}: the partitions cannot be read as one table (")
    assert '"b"' in msg and "p2.parquet" in msg
    assert msg.endswith("); every partition must have the same columns and types")


def test_stream_wave_by_default_estimates_by_province_in_pieces_of_200000_rows_without_a_progress_bar(
        partitioned, monkeypatch, capsys, bars):
    """The defaults of ``stream_wave``: the degree by ``province_en``, the "adjust" rule for a
    stratum with one PSU, DuckDB pieces of 200,000 rows and no progress bar; asked for, the bar
    is named for its work and removed once done (``transient``), and the pieces pass through it."""
    from analysis.estimation import stream

    folder, st = partitioned
    rows: list = []
    scan = stream.scan_partitions

    def scan_rows(files, batch_rows):  # type: ignore[no-untyped-def]
        rows.append(batch_rows)
        return scan(files, batch_rows=batch_rows)

    monkeypatch.setattr(stream, "scan_partitions", scan_rows)
    out = stream_wave(folder, DESIGN)
    assert (rows, bars) == ([200_000], [])
    assert capsys.readouterr() == ("", "")
    _assert_same_estimate(out["degree"], st.degree(by="province_en"))
    assert out["degree"].bounds == (0.0, 100.0)
    shown = stream_wave(folder, {**DESIGN, "lonely_psu": "adjust"}, progress=True, batch_rows=900)
    assert (rows[1:], bars) == ([900], [{"description": "scan, validate, reduce", "transient": True}])
    _assert_same_estimate(shown["degree"], out["degree"])


def test_under_the_fail_rule_a_stratum_cut_to_one_psu_by_a_piece_costs_no_rows(tmp_path):
    """With ``lonely_psu: fail``, a piece in which a stratum has a single PSU (a partition or a
    batch that cuts the stratum) is not an invalid piece: the rule is judged over the whole wave.
    Rows sorted by stratum and PSU, cut every 700 rows and every 250: the estimates are those of
    the same rows in one file (the same counts of respondents), and nothing is reported."""
    v = generate(seed=5, n=3000, calibrate=False)["villagers"]
    v = v.sort_values(["province", "village_id"]).reset_index(drop=True)
    design = {**DESIGN, "lonely_psu": "fail"}
    write_partitioned(v, tmp_path / "p", rows_per_file=700)
    wave = _one_file_wave(tmp_path, v, design)
    mem = build_study(wave).degree(by="province_en")
    for batch in (200_000, 250):
        out = stream_wave(tmp_path / "p", design, batch_rows=batch)
        assert out["report"].problems == []
        _assert_same_estimate(out["degree"], mem)


def test_an_unknown_lonely_psu_rule_is_refused_with_the_rules_there_are(tmp_path):
    """Before any partition is read (the folder may not even exist)."""
    with pytest.raises(ValueError) as e:
        stream_wave(tmp_path / "nowhere", {**DESIGN, "lonely_psu": "drop"})
    assert str(e.value) == "lonely_psu must be one of adjust, remove, certainty, fail; got 'drop'"


def test_the_local_scan_reduces_each_partition_alone_and_merges_in_file_order_bit_for_bit(partitioned):
    """As a cluster's workers do: each partition's pieces reduced into a partial of its own, the
    partials merged in file order. The one-pass OLS sums are grouped by these partials, so a scan
    grouped otherwise (all pieces in one partial, a partial per piece) differs in the last bits
    from a cluster's result; built here by hand, the local scan's must be the same bits."""
    from analysis.estimation.stream import ScanPartial, _scan_job, partition_files, scan_partitions

    folder, _ = partitioned
    spec = {"y": "overall", "x": X, "fe": "province", "cluster": "village_id"}
    local = stream_wave(folder, DESIGN, ols=spec, batch_rows=300)
    job = _scan_job({**DESIGN, "lonely_psu": "adjust"}, "province_en", spec, None, None)
    part = ScanPartial()
    for f in partition_files(folder):
        cur = ScanPartial()
        for file, first, raw in scan_partitions([f], batch_rows=300):
            cur.add_piece(job, file, first, raw)
        part.merge(cur)
    want = part.ols.result()
    for k in ("coef", "se", "vcov"):
        np.testing.assert_array_equal(local["ols"][k], want[k])
    one = ScanPartial()
    for file, first, raw in scan_partitions(partition_files(folder), batch_rows=300):
        one.add_piece(job, file, first, raw)
    assert not np.array_equal(one.ols.result()["coef"], want["coef"])   # the grouping shows


def test_partitions_without_the_weight_column_are_refused_with_a_report_not_a_crash(tmp_path):
    """A piece with an error of its own (here the design's weight column missing) is not reduced:
    the scan reports the missing column once per partition, as the validation does, and estimates
    nothing."""
    v = generate(seed=5, n=1200, calibrate=False)["villagers"].drop(columns="weight")
    write_partitioned(v, tmp_path / "p", rows_per_file=500)
    out = stream_wave(tmp_path / "p", DESIGN, batch_rows=300)
    assert (out["degree"], out["ols"]) == (None, None)
    missing = [(p.file, p.column, p.severity) for p in out["report"].problems if p.rule == "required column"]
    assert missing == [(f"part-0000{i}.parquet", "weight", "error") for i in range(3)]


@pytest.mark.parametrize("never", [False, True])
def test_an_item_one_partition_never_answers_weighs_as_in_the_whole_wave(tmp_path, never, dask_client):
    """A partition where an indicator is blank throughout (a block not asked in one county's
    file) is indexed as the whole wave is: the item still counts in its field's coverage rule
    (two answers of four are short of 65 %, not two of three). An item no partition answers is
    left out, as in memory."""
    v = generate(seed=21, n=3000, calibrate=False)["villagers"]
    part2 = slice(1000, 1999) if not never else slice(None)
    v.loc[part2, "edu_org"] = np.nan                         # never asked in the second file
    v.loc[1000:1499, "edu_sys"] = np.nan                     # half of its respondents: 2 answers of 4
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    wave = _one_file_wave(tmp_path, v, DESIGN)
    st = build_study(wave)
    for client in (None, dask_client):                        # alone and on a cluster
        out = stream_wave(tmp_path / "p", DESIGN, by="province_en", client=client)
        assert out["report"].ok
        _assert_same_estimate(out["degree"], st.degree(by="province_en"))


@pytest.mark.parametrize("bad, rows_per_file, batch_rows, want", [
    ([1500, 1700], 1000, 200_000, [("part-00001.parquet", 502), ("part-00001.parquet", 702)]),
    ([1700], 2000, 500, [("part-00000.parquet", 1702)]),                 # after the first batch
])
def test_a_scan_reports_each_row_a_rule_is_broken_on_by_its_row_in_its_file(tmp_path, bad, rows_per_file,
                                                                             batch_rows, want):
    """One problem per row (two rows of one partition are two problems), each numbered as the
    file numbers it, whatever batch of the partition it was read in."""
    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    v.loc[bad, "sex"] = 5.0                                          # not a code of sex
    write_partitioned(v, tmp_path / "p", rows_per_file=rows_per_file)
    rep = stream_wave(tmp_path / "p", DESIGN, batch_rows=batch_rows)["report"]
    assert [(p.file, p.row, p.column) for p in rep.errors] == [(f, r, "sex") for f, r in want]


def test_blank_text_ids_are_not_duplicates_of_each_other_in_a_scan(tmp_path):
    """Blank ids are each reported as blank (in memory too), not as repeats of the first blank."""
    v = generate(seed=12, n=2000, calibrate=False)["villagers"]
    v["resp_id"] = v["resp_id"].astype(str)
    v.loc[[10, 1500], "resp_id"] = ["", "  "]
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    rep = stream_wave(tmp_path / "p", DESIGN)["report"]
    assert "unique id" not in {p.rule for p in rep.problems}
