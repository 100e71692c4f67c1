"""Uncertainty and sensitivity analysis: estimators checked on known answers, vectorised = direct."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.index import build_index, aggregate
from analysis.estimation.sensitivity import (NORMS, _field_scores, _mean_of_defined, _overall,
                                             bootstrap_domains, rao_wu_weights, run_sensitivity,
                                             sobol_indices, target_codes)
from analysis.estimation.study import build_study
from analysis.settings import load_settings
from analysis.settings.options import AGGREGATIONS
from tests.conftest import shared


def test_sobol_indices_of_an_additive_function():
    rng = np.random.default_rng(0)
    n = 40_000
    A, B = rng.random((n, 2)), rng.random((n, 2))
    f = lambda x: x[:, 0] + 2 * x[:, 1]                      # noqa: E731 - variances 1/12 and 4/12
    AB = [np.column_stack([B[:, 0], A[:, 1]]), np.column_stack([A[:, 0], B[:, 1]])]
    (s1a, sta), (s1b, stb) = sobol_indices(f(A), f(B), [f(x) for x in AB])
    assert s1a == pytest.approx(0.2, abs=0.02) and sta == pytest.approx(0.2, abs=0.02)
    assert s1b == pytest.approx(0.8, abs=0.02) and stb == pytest.approx(0.8, abs=0.02)
    # an index is a share of the output's variance: adding a constant (a rank counted from 1 or 0,
    # a score on another origin) changes none, and a mean far from 0 adds no Monte Carlo error
    shifted = sobol_indices(f(A) + 100, f(B) + 100, [f(x) + 100 for x in AB])
    np.testing.assert_allclose(shifted, [(s1a, sta), (s1b, stb)], rtol=1e-9)


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


@pytest.fixture(scope=shared)
def wave(study):
    return study.wave


@pytest.mark.parametrize("excluded", [(), ("means",)])
@pytest.mark.parametrize("norm", NORMS)
def test_precomputed_field_scores_equal_build_index(study, wave, norm, excluded):
    """Every draw's construction scores as build_index does, a construction leaving out an aspect
    included (the draws left its items in)."""
    v = wave.villagers
    cfg = study.construction.with_(exclude_aspects=excluded)
    combos = _field_scores(v, wave.codebook, cfg, v["weight"].to_numpy())
    for wt in ("equal", "entropy", "ahp"):
        for agg in AGGREGATIONS:
            c = cfg.with_(normalisation=norm, weighting=wt, aggregation=agg)
            if norm == "target":
                # every indicator of the replica is on the five-point agreement scale: "agree" is 4
                c = c.with_(targets={it.id: 4.0 for it in wave.codebook.indicators()})
            res = build_index(v, c, codebook=wave.codebook, weights=v["weight"].to_numpy())
            F, fw = combos[(norm, wt, agg)]
            np.testing.assert_allclose(F, res.scores[list(res.fields)].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(_overall(F, fw[:, None], agg, cfg.coverage)[:, 0],
                                       res.scores["overall"].to_numpy(), rtol=1e-12)


def test_the_target_is_the_settings_one_else_the_level_below_the_top_of_the_item_s_own_scale():
    """Any questionnaire: "agree" (4) on a five-point scale, 2 on a three-point one, the top on a
    yes/no item (one below would divide by zero), on a reversed item read from its other end as
    the index reads it (codes 0, 1, 2, 5 reversed read 5, 4, 3, 0: the level below the top is 4,
    not 2), and the settings' target first."""
    from analysis.ingest.codebook import Item

    def item(name: str, codes: list[int], direction: int = 1) -> Item:
        return Item(id=name, type="likert5", text_zh="", text_en="", questionnaire="villagers",
                    values={c: ("", "") for c in codes}, direction=direction)

    items = [item("five", [1, 2, 3, 4, 5]), item("three", [1, 2, 3]), item("yes_no", [0, 1]),
             item("reversed", [0, 1, 2, 5], -1), item("forward", [0, 1, 2, 5]), item("one", [3]),
             item("named", [1, 2, 3, 4, 5])]
    assert target_codes(items, {"named": 5.0}) == {"five": 4.0, "three": 2.0, "yes_no": 1.0,
                                                   "reversed": 4.0, "forward": 2.0, "one": 3.0,
                                                   "named": 5.0}


def test_the_uncertainty_analysis_takes_the_settings_targets(study, wave):
    v = wave.villagers
    first = wave.codebook.indicators()[0].id
    cfg = study.construction.with_(targets={first: 5.0})
    combos = _field_scores(v, wave.codebook, cfg, v["weight"].to_numpy())
    c = cfg.with_(normalisation="target", weighting="equal", aggregation="arithmetic",
                  targets={it.id: 4.0 for it in wave.codebook.indicators()} | {first: 5.0})
    res = build_index(v, c, codebook=wave.codebook, weights=v["weight"].to_numpy())
    F, _ = combos[("target", "equal", "arithmetic")]
    np.testing.assert_allclose(F, res.scores[list(res.fields)].to_numpy(), rtol=1e-12)


def test_precomputed_field_scores_leave_out_unanswered_items_and_fields_as_build_index(study, wave):
    """A wave where one field's items were never answered: that field has no score and its
    items no column, in the uncertainty analysis as in the index itself."""
    v = wave.villagers.copy()
    items = wave.codebook.indicators()
    field = items[0].field
    for it in items:
        if it.field == field:
            v[it.id] = np.nan
    cfg = study.construction
    combos = _field_scores(v, wave.codebook, cfg, v["weight"].to_numpy())
    F, fw = combos[("minmax", "equal", "arithmetic")]
    res = build_index(v, cfg.with_(normalisation="minmax", weighting="equal", aggregation="arithmetic"),
                      codebook=wave.codebook, weights=v["weight"].to_numpy())
    assert field not in res.fields and F.shape[1] == len(res.fields) == len(fw)
    np.testing.assert_allclose(F, res.scores[list(res.fields)].to_numpy(), rtol=1e-12)


def test_vectorised_overall_equals_one_draw_at_a_time():
    rng = np.random.default_rng(3)
    F = rng.uniform(0, 100, (50, 5))
    F[rng.random(F.shape) < 0.2] = np.nan
    W = rng.uniform(0.5, 1.5, (5, 7))
    for agg in AGGREGATIONS:
        S = _overall(F, W, agg, 0.65)
        for d in range(W.shape[1]):
            np.testing.assert_allclose(S[:, d], aggregate(F, W[:, d], agg, 0.65), rtol=1e-12)


def test_rao_wu_bootstrap_se_is_close_to_the_linearised_se(study, wave):
    v = wave.villagers
    s = study.scores["overall"].to_numpy()
    lin = study.degree()
    B = rao_wu_weights(v["weight"].to_numpy(), v["province"].to_numpy(), v["village_id"].to_numpy(),
                       4000, np.random.default_rng(1))
    ok = np.isfinite(s)
    means = (B[ok] * s[ok, None]).sum(0) / B[ok].sum(0)
    assert means.std(ddof=1) == pytest.approx(lin.se[0], rel=0.12)
    np.testing.assert_allclose(B.mean(axis=1), v["weight"].to_numpy(), rtol=0.1)


def test_same_seed_same_result_and_ranks_are_consistent(study):
    a = run_sensitivity(study, draws=350, seed=5)
    b = run_sensitivity(study, draws=350, seed=5)
    assert a.regions.equals(b.regions) and a.sobol.equals(b.sobol)
    assert a.ranks.min().min() == 1 and a.ranks.max().max() == len(a.ranks.columns)
    ri = a.rank_intervals()
    assert (ri["rank_low"] <= ri["median_rank"]).all() and (ri["median_rank"] <= ri["rank_high"]).all()
    assert set(a.sobol["input"]) == {"normalisation", "weighting", "aggregation",
                                     "weights_perturbation", "bootstrap"}


def test_ranks_count_from_the_highest_score_and_their_sobol_rows_average_each_province_s(study, monkeypatch):
    """Rank 1 is the province with the highest mean in a draw (rank = 1 + the provinces scoring
    higher); the "province ranks" rows are the first-order and total indices of each province's
    rank, averaged over provinces, each in its own column."""
    from analysis.estimation import sensitivity

    calls = []

    def recording(ya, yb, yab):  # type: ignore[no-untyped-def]
        out = sobol_indices(ya, yb, yab)
        calls.append((np.array(ya), out))
        return out

    monkeypatch.setattr(sensitivity, "sobol_indices", recording)
    r = run_sensitivity(study, draws=7 * 60, seed=2)
    P = r.provinces.to_numpy()
    higher = (P[:, None, :] > P[:, :, None]).sum(axis=2)          # draw × province: how many score higher
    np.testing.assert_array_equal(r.ranks.to_numpy(), 1 + higher)
    assert (r.ranks.to_numpy()[np.arange(len(P)), P.argmax(axis=1)] == 1).all()
    N = 60
    province_calls = calls[1:]                                    # the first is the east-west gap
    assert len(province_calls) == P.shape[1]
    for j, (ya, _) in enumerate(province_calls):                  # each province's ranks in sample A
        np.testing.assert_array_equal(ya, r.ranks.iloc[:N, j].to_numpy())
    per = np.array([out for _, out in province_calls])            # province × input × (first, total)
    got = r.sobol[r.sobol["output"] == "province ranks (mean over provinces)"]
    np.testing.assert_allclose(got["first_order"].to_numpy(), np.nanmean(per[:, :, 0], axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["total"].to_numpy(), np.nanmean(per[:, :, 1], axis=0), rtol=1e-12)
    assert not np.allclose(per[:, :, 0], per[:, :, 1])            # the two columns can be told apart


def test_ranks_and_their_sobol_rows_are_among_the_provinces_asked_for_only(study, monkeypatch):
    """``rank_among`` (the publishable provinces): each draw ranks those provinces among
    themselves (1 + how many of them score higher), and the "province ranks" rows average the
    Sobol indices of their ranks only, not of ranks among provinces the report withholds."""
    from analysis.estimation import sensitivity

    calls = []

    def recording(ya, yb, yab):  # type: ignore[no-untyped-def]
        out = sobol_indices(ya, yb, yab)
        calls.append(out)
        return out

    monkeypatch.setattr(sensitivity, "sobol_indices", recording)
    some = ["Zhejiang", "Tibet", "Henan", "Shanghai", "Gansu"]
    r = run_sensitivity(study, draws=7 * 40, seed=3, rank_among=some)
    assert r.ranks.columns.tolist() == sorted(some) and len(r.provinces.columns) == 22
    P = r.provinces[sorted(some)].to_numpy()
    np.testing.assert_array_equal(r.ranks.to_numpy(), 1 + (P[:, None, :] > P[:, :, None]).sum(axis=2))
    per = np.array(calls[1:])                                     # after the east-west gap
    assert per.shape[0] == len(some)
    got = r.sobol[r.sobol["output"] == "province ranks (mean over provinces)"]
    np.testing.assert_allclose(got["first_order"].to_numpy(), np.nanmean(per[:, :, 0], axis=0), rtol=1e-12)
    every = run_sensitivity(study, draws=7 * 40, seed=3)
    assert not np.allclose(every.sobol["first_order"].iloc[5:], got["first_order"], equal_nan=True)
    np.testing.assert_array_equal(every.provinces.to_numpy(), r.provinces.to_numpy())   # the same draws


def test_no_province_to_rank_gives_undefined_rank_indices_not_an_error(study):
    """A wave whose every province is withheld ranks none: the rank rows of the Sobol table are
    undefined (NaN), the east-west gap's are computed, and the run does not fail."""
    r = run_sensitivity(study, draws=7 * 10, seed=4, rank_among=[])
    ranks = r.sobol[r.sobol["output"] == "province ranks (mean over provinces)"]
    assert len(ranks) == 5 and ranks[["first_order", "total"]].isna().all().all()
    assert r.sobol[r.sobol["output"] == "east-west gap"]["total"].notna().all()
    assert r.ranks.shape[1] == 0


def test_cli_sobol_indices_of_ranks_are_of_the_publishable_provinces_ranks(tmp_path, monkeypatch):
    """On a wave whose disclosure rule withholds most provinces, the Sobol rows of the ranks the
    CLI prints are those of the ranks among the provinces it prints, not among all; the page's
    result ranks the same provinces."""
    import shutil

    import yaml

    from analysis import paths

    folder = tmp_path / "strict"
    shutil.copytree(paths.WAVES / paths.DEFAULT_WAVE, folder)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec.update(id="strict", min_cell=60)
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    res = CliRunner().invoke(app, ["sensitivity", str(folder), "--draws", "140", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    shown = [r["province"] for r in out["ranks"]]
    st = build_study(str(folder))
    n = st.villagers.groupby("province_en").size()
    assert sorted(shown) == sorted(n[n >= 60].index) and 2 < len(shown) < 22     # the premise
    want = run_sensitivity(st, draws=140, rank_among=shown).sobol
    rows = [r for r in out["sobol"] if r["output"] == "province ranks (mean over provinces)"]
    np.testing.assert_allclose([r["first_order"] for r in rows],
                               want["first_order"].iloc[5:].to_numpy(), rtol=1e-12)
    every = run_sensitivity(st, draws=140).sobol
    assert not np.allclose([r["first_order"] for r in rows], every["first_order"].iloc[5:].to_numpy())
    # the page's result too: ranked among the provinces the page shows
    from analysis.estimation import sensitivity
    from analysis.report import context

    monkeypatch.setattr(sensitivity, "run_sensitivity", lambda st, **kw: run_sensitivity(st, draws=140, **kw))
    assert context.sensitivity(st).ranks.columns.tolist() == sorted(shown)


def test_bootstrap_domains(study):
    b = bootstrap_domains(study, reps=300, seed=2)
    assert len(b) == 22 and (b["boot_se"] > 0).all()
    assert b.loc["Shanghai", "median_rank"] <= 2 and b.loc["Tibet", "median_rank"] >= 20


def test_cli_json(study):
    # 705 asked: N = 705 // (k + 2) = 100 base rows, so 700 evaluations made, and said
    res = CliRunner().invoke(app, ["sensitivity", "2020-replica", "--draws", "705", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["draws"] == 700
    assert out["synthetic"] is True and len(out["sobol"]) == 10
    # the 22 publishable provinces from the best median rank down, within 1 to 22
    med = [r["median_rank"] for r in out["ranks"]]
    assert len(med) == 22 and med == sorted(med) and med[0] < med[-1]
    assert all(1 <= r["rank_low"] <= r["median_rank"] <= r["rank_high"] <= 22 for r in out["ranks"])
    assert out["ranks"][0]["province"] == "Shanghai"
    # the printed interval is the 2.5 % and 97.5 % quantiles of each province's rank (1 = highest
    # score) over the same draws (the seed of data/index.yml)
    run = run_sensitivity(study, draws=705)
    assert run.n_evaluations == 700
    draws = run.provinces[[r["province"] for r in out["ranks"]]]
    ranks = draws.rank(axis=1, ascending=False).to_numpy()
    got = pd.DataFrame(out["ranks"])[["rank_low", "median_rank", "rank_high"]].to_numpy()
    np.testing.assert_allclose(got, np.quantile(ranks, [0.025, 0.5, 0.975], axis=0).T, rtol=1e-12)
    # each region's line says which region (or contrast) it is, with the run's summary of it
    regions = pd.DataFrame(out["regions"]).set_index("quantity")
    want = run.region_summary()
    assert regions.index.tolist() == want.index.tolist() and "east_minus_west" in regions.index
    np.testing.assert_allclose(regions[want.columns].to_numpy(float), want.to_numpy(float), rtol=1e-12)
    assert CliRunner().invoke(app, ["sensitivity", "--draws", "3"]).exit_code == 2
    assert out["seed"] == load_settings().index.uncertainty.seed      # the seed used, not the option's None


def test_cli_says_its_region_summary_is_over_the_independent_draws_not_every_evaluation(study):
    """The regions' means and intervals are over the 2N independent draws (Saltelli's samples A
    and B), not the N (k + 2) evaluations the Sobol indices use: the title and the JSON say so."""
    run = run_sensitivity(study, draws=70)
    assert run.n_evaluations == 70 and len(run.regions) == 20
    res = CliRunner().invoke(app, ["sensitivity", "--draws", "70"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "scores across 20 independent draws (of the 70 evaluated for the Sobol indices)" in " ".join(
        res.stdout.split())
    out = json.loads(CliRunner().invoke(app, ["sensitivity", "--draws", "70", "--format", "json"]).stdout)
    assert (out["draws"], out["independent_draws"]) == (70, 20)
    east = next(r for r in out["regions"] if r["quantity"] == "east")
    assert east["mean"] == pytest.approx(run.regions["east"].mean(), rel=1e-12)


def test_cli_draws_from_their_minimum_of_14_and_records_the_seed_given():
    assert CliRunner().invoke(app, ["sensitivity", "--draws", "13"]).exit_code == 2
    res = CliRunner().invoke(app, ["sensitivity", "--draws", "14", "--seed", "7", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["seed"] == 7 and out["draws"] == 14


def test_cli_ranks_only_the_provinces_the_wave_publishes(small_province_wave):
    """A province below the disclosure threshold (Tibet, six respondents) has no degree on the
    page, so no rank in the CLI."""
    res = CliRunner().invoke(app, ["sensitivity", str(small_province_wave), "--draws", "14",
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    ranks = json.loads(res.stdout)["ranks"]
    assert sorted(r["province"] for r in ranks) == ["Henan", "Shanghai"]


def test_cli_sensitivity_on_ranks_that_never_move_writes_null_indices_without_a_warning(small_province_wave):
    """Over 14 draws the three provinces of the small wave keep their ranks: a rank has no
    variance, so no Sobol index. The CLI says so with null in strict JSON (not NaN, which JSON
    parsers refuse), without numpy's "Mean of empty slice" warning on the way."""
    ranks = run_sensitivity(build_study(str(small_province_wave)), draws=14).ranks
    assert ranks.notna().all().all() and (ranks.nunique() == 1).all()        # ranks that never move
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = CliRunner().invoke(app, ["sensitivity", str(small_province_wave), "--draws", "14",
                                       "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    ranks = [r for r in out["sobol"] if r["output"] == "province ranks (mean over provinces)"]
    gap = [r for r in out["sobol"] if r["output"] == "east-west gap"]
    assert len(ranks) == 5 and all(r["first_order"] is None and r["total"] is None for r in ranks)
    # the west (Tibet's six respondents) is withheld: the gap resting on it, and its indices, too
    assert gap == [] and out["regions"][[r["quantity"] for r in out["regions"]].index("west")]["suppressed"]


def test_mean_of_defined_sobol_indices_leaves_out_undefined_ones():
    assert _mean_of_defined(np.array([0.2, np.nan, 0.4])) == pytest.approx(0.3)
    assert np.isnan(_mean_of_defined(np.array([np.nan, np.nan])))


@pytest.mark.parametrize("ids", ["numbers", "text"])
def test_rao_wu_psus_are_numbered_in_sorted_order_of_strata_and_ids(ids):
    """(stratum, PSU) pairs numbered in the sorted order of the strata, then of the PSU ids
    (numbers as numbers: 2 before 10; text as text: "10" before "2"), a PSU id reused in two
    strata two PSUs: the numbering that decides which draw goes to which PSU for a given seed."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    rng = np.random.default_rng(0)
    s = rng.choice(["b", "a", "c"], 600)
    p = rng.integers(0, 12, 600)
    p = p.astype(str) if ids == "text" else p
    codes, mult = rao_wu_multipliers(s, p, 5, np.random.default_rng(1))
    pairs = list(zip(s, p))
    order = sorted(set(pairs))          # numbers sort as numbers, strings as text
    np.testing.assert_array_equal(codes, [order.index(x) for x in pairs])
    assert mult.shape == (len(order), 5)


@pytest.mark.parametrize("missing", [None, np.nan])
def test_rao_wu_a_missing_stratum_is_one_more_stratum_numbered_after_the_others(missing):
    """Rows without a stratum form a stratum of their own whose PSUs take the last codes, and
    are resampled among themselves (their multipliers sum to their PSU count in every draw)."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    strata = np.array(["b", missing, "a", "b", missing, "a", missing], dtype=object)
    psu = np.array([1, 1, 1, 2, 2, 2, 3])
    codes, mult = rao_wu_multipliers(strata, psu, 200, np.random.default_rng(0))
    assert codes.tolist() == [2, 4, 0, 3, 5, 1, 6]          # a1 a2 b1 b2, then the three without one
    np.testing.assert_allclose(mult[4:].sum(axis=0), 3.0)   # nh − 1 = 2 draws × 3/2
    np.testing.assert_allclose(mult[:2].sum(axis=0), 2.0)


@pytest.mark.parametrize("kind", ["numbers", "floats", "text"])
def test_rao_wu_draws_of_each_psu_do_not_depend_on_the_order_of_the_rows(kind):
    """The same seed gives each (stratum, PSU) the same multipliers however the rows are
    ordered, and a PSU coded 7.0 (as SPSS stores it) the draws of the PSU coded 7."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    rng = np.random.default_rng(2)
    s = rng.choice([3, 1, 2], 500)
    p = rng.integers(0, 15, 500)
    p = {"numbers": p, "floats": p.astype(float), "text": p.astype(str)}[kind]
    perm = rng.permutation(500)
    c1, m1 = rao_wu_multipliers(s, p, 30, np.random.default_rng(9))
    c2, m2 = rao_wu_multipliers(s[perm], p[perm], 30, np.random.default_rng(9))
    np.testing.assert_array_equal(m1[c1][perm], m2[c2])        # each respondent's multipliers
    if kind == "floats":
        c3, m3 = rao_wu_multipliers(s, p.astype(int), 30, np.random.default_rng(9))
        np.testing.assert_array_equal(m1[c1], m3[c3])


def test_rao_wu_multipliers_resample_nh_minus_1_psus_in_every_stratum():
    """PSU ids numbered within each stratum (more strata than ids), a missing id one more PSU of its
    stratum, a lonely PSU first: each stratum's multipliers are counts × nh/(nh − 1) of nh − 1 PSU
    draws (so they sum to nh in every draw, each with mean 1 and variance 1), a lonely PSU's 1."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    strata, psu = ["lone"] * 4, ["7"] * 4
    for h in range(9):
        strata += [f"s{h}"] * 6
        psu += ["1", "2", None, "2", "1", None] if h % 2 else ["1", "2", "1", "2", None, None]
    reps = 4000
    codes, mult = rao_wu_multipliers(np.array(strata), np.array(psu, dtype=object), reps,
                                     np.random.default_rng(4))
    pairs = [(s, "~" if p is None else p) for s, p in zip(strata, psu)]   # a missing id sorts last
    order = sorted(set(pairs))
    np.testing.assert_array_equal(codes, [order.index(x) for x in pairs])
    assert mult.shape == (1 + 9 * 3, reps)
    np.testing.assert_array_equal(mult[0], 1.0)                        # the lonely PSU
    for h in range(9):
        rows = [i for i, (s, _) in enumerate(order) if s == f"s{h}"]
        assert len(rows) == 3
        np.testing.assert_allclose(mult[rows].sum(axis=0), 3.0)      # nh − 1 = 2 draws × 3/2
        assert set(np.unique(mult[rows])) <= {0.0, 1.5, 3.0}
    np.testing.assert_allclose(mult[1:].mean(axis=1), 1.0, atol=0.06)
    np.testing.assert_allclose(mult[1:].var(axis=1), 1.0, atol=0.1)
    # 300 strata of two PSUs (counties, say; more than a byte counts): each stratum on its own
    strata = np.repeat(np.arange(300), 4)
    codes, mult = rao_wu_multipliers(strata, np.tile([1, 1, 2, 2], 300), 50, np.random.default_rng(5))
    assert mult.shape == (600, 50)
    np.testing.assert_allclose(mult.reshape(300, 2, 50).sum(axis=1), 2.0)   # nh − 1 = 1 draw × 2/1


# ---- replicates, intervals and summaries against formulas written out ------------------------

def _stand_in(design: dict, seed: int = 0):  # type: ignore[no-untyped-def]
    """What domain_replicates reads of a study: villagers, scores, design columns and the
    uncertainty settings (reps 40, seed 11)."""
    from types import SimpleNamespace

    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 120
    v = pd.DataFrame({"w": rng.uniform(0.5, 3, n), "h": np.repeat(["s1", "s2", "s3"], 40),
                      "p": np.tile(np.arange(8), 15), "dom": rng.choice(["b", "a", "c"], n)})
    v.loc[v["dom"] == "c", "dom"] = "c"
    score = rng.uniform(20, 90, n)
    score[[3, 17, 50]] = np.nan
    dom = v["dom"].to_numpy().copy()
    dom[:4] = "empty"                                       # a domain whose every score is missing
    score[:4] = np.nan
    v["dom"] = dom
    v["province_en"] = v["dom"]
    v["rid"] = rng.permutation(n) + 1000                    # respondent ids in no order
    u = SimpleNamespace(bootstrap_reps=40, bootstrap_seed=11)
    return SimpleNamespace(settings=SimpleNamespace(index=SimpleNamespace(uncertainty=u)), villagers=v,
                           scores=pd.DataFrame({"overall": score, "other": score / 2}),
                           wave=SimpleNamespace(design_columns=design,
                                                bootstrap_units=design.get("psu") or design.get("units", "rid")))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("design", [{"weight": "w", "strata": "h", "psu": "p"}, {"weight": "w"},
                                    {"weight": "w", "units": None}],
                         ids=["strata and PSUs", "weights only", "no ids either"])
def test_domain_replicates_are_replicate_weighted_means_of_the_answered_scores(design):
    """Replicate r, domain d: Σ_{i∈d, answered} b_ir s_i / Σ_{i∈d, answered} b_ir, with b the
    Rao–Wu weights of the same seed (without a design one stratum, each respondent's id its own
    PSU); a domain nobody answered is missing; reps and seed default to the settings."""
    import pandas as pd

    from analysis.estimation.sensitivity import domain_replicates

    st = _stand_in(design)
    v, s = st.villagers, st.scores["overall"].to_numpy()
    strata = v["h"].to_numpy() if "strata" in design else np.zeros(len(v))
    psu = (v["p"].to_numpy() if "psu" in design else np.arange(len(v)) if "units" in design
           else v["rid"].to_numpy())                     # without ids, the rows' positions
    B = rao_wu_weights(v["w"].to_numpy(), strata, psu, 40, np.random.default_rng(11))
    got = domain_replicates(st, by="dom")
    pd.testing.assert_frame_equal(domain_replicates(st).rename_axis(columns="dom"), got)   # by province_en
    assert list(got.columns) == ["a", "b", "c", "empty"] and got.columns.name == "dom" and got.shape == (40, 4)
    for d in ["a", "b", "c"]:
        rows = np.flatnonzero((v["dom"] == d).to_numpy() & np.isfinite(s))
        want = [sum(B[i, r] * s[i] for i in rows) / sum(B[i, r] for i in rows) for r in range(40)]
        np.testing.assert_allclose(got[d], want, rtol=1e-12)
    assert got["empty"].isna().all()
    half = domain_replicates(st, by="dom", level="other")
    np.testing.assert_allclose(half[["a", "b", "c"]], got[["a", "b", "c"]] / 2, rtol=1e-12)


def test_bootstrap_domains_summarise_the_replicates():
    """boot_mean and boot_se (n − 1) of each domain's replicates, median rank (1 = highest) and
    its 95 % interval, with the reps and seed asked for (not the settings')."""
    import pandas as pd

    from analysis.estimation.sensitivity import domain_replicates

    st = _stand_in({"weight": "w", "strata": "h", "psu": "p"})
    st.scores.loc[:3, ["overall", "other"]] = [50.0, 25.0]   # every domain answered
    means = domain_replicates(st, by="dom", reps=30, seed=5)
    got = bootstrap_domains(st, by="dom", reps=30, seed=5)
    m = means.to_numpy()
    assert m.shape == (30, 4)
    np.testing.assert_allclose(got["boot_mean"], m.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got["boot_se"], np.sqrt(((m - m.mean(0)) ** 2).sum(0) / 29), rtol=1e-12)
    ranks = np.array([pd.Series(-row).rank().to_numpy() for row in m])
    np.testing.assert_allclose(got["median_rank"], np.median(ranks, axis=0))
    np.testing.assert_allclose(got["rank_low"], np.quantile(ranks, 0.025, axis=0))
    np.testing.assert_allclose(got["rank_high"], np.quantile(ranks, 0.975, axis=0))
    assert list(bootstrap_domains(st, by="h", reps=5, seed=1).index) == ["s1", "s2", "s3"]   # by is used
    other = bootstrap_domains(st, by="dom", reps=30, seed=5, level="other")
    np.testing.assert_allclose(other["boot_mean"], got["boot_mean"] / 2, rtol=1e-12)


def test_sensitivity_intervals_are_the_draws_quantiles_at_the_level_asked():
    """rank_intervals and region_summary at level 0.8: the 10th and 90th percentiles of the draws
    (numpy's linear interpolation), the gap as a row of the region summary."""
    import pandas as pd

    from analysis.estimation.sensitivity import SensitivityResult, rank_intervals

    rng = np.random.default_rng(3)
    ranks = pd.DataFrame(rng.uniform(1, 5, size=(50, 3)), columns=["x", "y", "z"])   # any draws
    regions = pd.DataFrame(rng.normal(50, 5, size=(50, 2)), columns=["east", "west"])
    draws = pd.DataFrame({"gap": rng.normal(3, 1, 50)})
    res = SensitivityResult(draws, regions, regions, ranks, pd.DataFrame(), 0.0, 1)
    ri = res.rank_intervals(0.8)
    for c in ranks:
        assert ri.loc[c, "rank_low"] == pytest.approx(np.quantile(ranks[c], 0.1))
        assert ri.loc[c, "rank_high"] == pytest.approx(np.quantile(ranks[c], 0.9))
        assert ri.loc[c, "median_rank"] == pytest.approx(np.median(ranks[c]))
    rs = res.region_summary(0.8)
    both = {**{c: regions[c].to_numpy() for c in regions}, "east_minus_west": draws["gap"].to_numpy()}
    for c, x in both.items():
        assert rs.loc[c, "low"] == pytest.approx(np.quantile(x, 0.1))
        assert rs.loc[c, "high"] == pytest.approx(np.quantile(x, 0.9))
        assert rs.loc[c, "mean"] == pytest.approx(x.mean())
    direct = rank_intervals(regions, 0.8)
    r = (-regions).rank(axis=1)
    assert direct.loc["east", "rank_high"] == pytest.approx(np.quantile(r["east"], 0.9))


@pytest.mark.filterwarnings("error")
def test_sobol_estimators_written_out():
    """First order (Saltelli 2010): mean((y_B − f0) (y_ABi − y_A)) / V, the outputs centred on
    f0, the mean of y_A and y_B pooled (as SALib centres them); total (Jansen 1999):
    ½ mean((y_A − y_ABi)²) / V; V the sample variance (n − 1) of y_A and y_B pooled; an output
    that never varies has no indices (NaN, no warning)."""
    rng = np.random.default_rng(2)
    ya, yb = rng.normal(size=7), rng.normal(size=7)
    yab = [rng.normal(size=7), ya + 0.1]
    pooled = np.concatenate([ya, yb])
    V = ((pooled - pooled.mean()) ** 2).sum() / 13
    got = sobol_indices(ya, yb, yab)
    for (s1, st), y_i in zip(got, yab):
        assert s1 == pytest.approx(np.mean((yb - pooled.mean()) * (y_i - ya)) / V, rel=1e-12)
        assert st == pytest.approx(0.5 * np.mean((ya - y_i) ** 2) / V, rel=1e-12)
    flat = sobol_indices(np.ones(5), np.ones(5), [np.ones(5)])
    assert np.isnan(flat[0][0]) and np.isnan(flat[0][1])


def test_sobol_indices_of_the_run_pair_its_samples_as_saltelli_s_design(study, monkeypatch):
    """Perturbation and bootstrap switched off: the east–west gap is a function of the three
    construction choices alone. Rebuilt here from the same seed (A, then B: normalisation,
    weighting, aggregation drawn uniformly, in that order) and the gap of each construction, the
    matrices A, B and A with column i from B give the run's indices (checked estimator
    :func:`sobol_indices`); the dead inputs get exactly zero, and the total indices are those found
    by enumerating the 60 constructions, to Monte Carlo error. A wrong pairing of the blocks, a
    block from the wrong sample or an off-by-one slice fails."""
    import itertools

    import pandas as pd

    from analysis.estimation import sensitivity
    from analysis.settings.options import NORMALISATIONS, WEIGHTINGS

    monkeypatch.setattr(sensitivity, "PERTURBATION", 0.0)
    monkeypatch.setattr(sensitivity, "rao_wu_weights",                 # every replicate the base weights
                        lambda w, strata, psu, reps, rng: np.repeat(np.asarray(w, float)[:, None], reps, 1))
    seed, N = 11, 2000
    r = run_sensitivity(study, draws=7 * N, seed=seed)
    choices = ["normalisation", "weighting", "aggregation"]
    gap = r.draws.groupby(choices)["gap"]
    assert (gap.max() - gap.min()).max() < 1e-9          # one gap per construction
    grid = list(itertools.product(NORMALISATIONS, WEIGHTINGS, AGGREGATIONS))
    g = gap.first().reindex(pd.MultiIndex.from_tuples(grid, names=choices))
    assert g.notna().all() and len(g) == 60
    table = g.to_numpy().reshape(len(NORMALISATIONS), len(WEIGHTINGS), len(AGGREGATIONS))
    rng = np.random.default_rng(seed)
    sizes = (len(NORMALISATIONS), len(WEIGHTINGS), len(AGGREGATIONS))
    A = np.column_stack([rng.integers(k, size=N) for k in sizes])
    B = np.column_stack([rng.integers(k, size=N) for k in sizes])

    def f(X: np.ndarray) -> np.ndarray:
        return table[X[:, 0], X[:, 1], X[:, 2]]

    def swapped(i: int) -> np.ndarray:
        X = A.copy()
        X[:, i] = B[:, i]
        return X

    want = sobol_indices(f(A), f(B), [f(swapped(i)) for i in range(3)] + [f(A), f(A)])
    got = r.sobol[r.sobol["output"] == "east-west gap"]
    assert list(got["input"]) == [*choices, "weights_perturbation", "bootstrap"]
    np.testing.assert_allclose(got[["first_order", "total"]].to_numpy(), np.array(want),
                               rtol=1e-9, atol=1e-12)
    # the exact total indices: 1 − Var(E[g | the other two]) / Var(g) over the uniform grid
    names = list(g.index.names)
    V = g.var(ddof=0)
    for i, inp in enumerate(names):
        total = 1 - g.groupby(level=[n for n in names if n != inp]).mean().var(ddof=0) / V
        assert want[i][1] == pytest.approx(total, abs=0.03), inp


def test_each_draw_s_gap_is_its_east_minus_its_west(study):
    """The east–west gap of every Monte Carlo draw is that draw's east score minus its west score
    (the page's interval and its share of draws where the east leads are read from it)."""
    s = run_sensitivity(study, draws=350, seed=5)
    np.testing.assert_allclose(s.draws["gap"].to_numpy(), (s.regions["east"] - s.regions["west"]).to_numpy(),
                               rtol=1e-12)
    summary = s.region_summary().loc["east_minus_west"]
    assert summary["mean"] == pytest.approx(float((s.regions["east"] - s.regions["west"]).mean()))


def test_the_perturbation_and_the_bootstrap_each_move_the_gap(study):
    """Each of A and B has its own perturbation and bootstrap draws: the two inputs' total indices
    are not zero (they would be if B reused A's draws)."""
    got = run_sensitivity(study, draws=7 * 300, seed=3).sobol.set_index(["output", "input"])
    for inp in ("weights_perturbation", "bootstrap"):
        assert got.loc[("east-west gap", inp), "total"] > 1e-6, inp


def test_the_sensitivity_box_plots_name_regions_the_gap_and_provinces_as_the_edition(study, monkeypatch):
    import matplotlib.pyplot as plt

    from analysis import i18n
    from analysis.publishing import figures
    from analysis.report.pages.sensitivity import figures_

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: "Noto Sans CJK SC")
    s = run_sensitivity(study, draws=7 * 20, seed=4)
    figs = figures_(study, s)
    regions = [t.get_text() for t in figs["fig_sens_regions"].axes[0].get_yticklabels()]
    assert regions == [i18n.region(r, "zh") for r in s.regions.columns] + ["东部 − 西部"]
    provinces = [t.get_text() for t in figs["fig_sens_ranks"].axes[0].get_yticklabels()]
    drawn = figs["fig_sens_ranks"].ruralgov_data["item"]
    assert provinces and all(i18n.province(p, "zh") in provinces for p in drawn)
    assert not any(p.isascii() for p in regions + provinces)
    plt.close("all")


def test_the_rank_boxes_run_from_the_best_median_rank_down(study):
    """The page's box plot of province ranks across draws (and its CSV) lists the publishable
    provinces from the best median rank (1 = highest degree) to the worst, computed here from the
    run's draws by hand; alphabetical order would put Anhui first."""
    import matplotlib.pyplot as plt

    from analysis.report.pages.sensitivity import figures_

    s = run_sensitivity(study, draws=7 * 20, seed=4)
    fig = figures_(study, s)["fig_sens_ranks"]
    drawn = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    medians = s.provinces[drawn].rank(axis=1, ascending=False).median()     # ranks among those shown
    assert medians[drawn].is_monotonic_increasing and len(drawn) >= 2 and drawn != sorted(drawn)
    assert list(dict.fromkeys(fig.ruralgov_data["item"])) == drawn
    plt.close("all")


def test_the_sensitivity_page_s_numbers_are_the_run_s(study):
    """The page's glued numbers: the gap's Monte Carlo mean and interval, the share of draws with a
    positive gap, and the total Sobol indices of the gap and the ranks, read from the run."""
    from analysis.report.pages.sensitivity import stats

    s = run_sensitivity(study, draws=7 * 20, seed=6)
    out = stats(study, s)
    gap = s.draws["gap"]
    sob = s.sobol.set_index(["output", "input"])
    assert out["gap_mc_mean"] == pytest.approx(gap.mean())
    assert (out["gap_mc_low"], out["gap_mc_high"]) == pytest.approx(tuple(gap.quantile([0.025, 0.975])))
    assert out["gap_positive_share"] == pytest.approx(100 * (gap > 0).mean())
    ranks = "province ranks (mean over provinces)"
    for key, (output, inp) in {"sobol_gap_norm_total": ("east-west gap", "normalisation"),
                               "sobol_gap_boot_total": ("east-west gap", "bootstrap"),
                               "sobol_rank_boot_total": (ranks, "bootstrap")}.items():
        assert out[key] == sob.loc[(output, inp), "total"] != sob.loc[(output, inp), "first_order"], key
    assert out["sens_draws"] == s.n_evaluations == 7 * 20
    # Saltelli's design evaluates N (k + 2) points for k inputs: the page's block size is k + 2
    assert out["sens_blocks"] == s.sobol["input"].nunique() + 2 == 7


def test_the_sensitivity_page_on_a_wave_of_one_province_claims_no_gap_rank_or_index(study, tmp_path):
    """One province (one region): the run records no gap (NaN in every draw, no summary row, no
    Sobol row: it printed a gap of 0 from 0 to 0) and no Sobol index of the ranks;
    the page then says nothing of a gap or of the ranks' indices (it printed "averages 0.0
    points" and "a total share of nan"), draws no rank figure and no Sobol figure, and its table
    says why it is empty. On the replica the gap, the ranks and every index are there."""
    import matplotlib.pyplot as plt

    from analysis.report.pages import sensitivity as page
    from tests import wavegen

    one = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    s = run_sensitivity(one, draws=7 * 10, seed=2)
    assert s.draws["gap"].isna().all() and list(s.regions.columns) == ["west"]
    assert s.region_summary().index.tolist() == ["west"] and "east-west gap" not in set(s.sobol["output"])
    res = CliRunner().invoke(app, ["sensitivity", str(one.wave.spec.folder), "--draws", "70", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["quantity"] for r in out["regions"]] == ["west"]
    assert {r["output"] for r in out["sobol"]} == {"province ranks (mean over provinces)"}
    assert "no east–west gap: the wave has no villager of the east" in res.stderr
    g = page.stats(one, s)
    assert not [k for k in g if k.startswith(("gap_", "sobol_"))]
    assert page.rank_sampling_text(g) == "" and not s.has_gap and page.defined_sobol(s).empty
    table, note = page.sobol_table(s)
    assert table.empty and "has no index and is left out" in note
    figs = page.figures_(one, s)
    assert [t.get_text() for t in figs["fig_sens_ranks"].axes[0].texts] == [
        "Ranks need at least two publishable provinces; this wave has 1."]
    assert figs["fig_sens_sobol"].axes[0].texts[0].get_text().startswith(
        "Sobol indices are computed for the east–west gap and the province ranks; this wave has neither")
    assert [t.get_text() for t in figs["fig_sens_regions"].axes[0].get_yticklabels()] == ["west"]
    plt.close("all")
    s = run_sensitivity(study, draws=7 * 10, seed=2)
    g = page.stats(study, s)
    # the figures show the 2N independent draws (samples A and B), of the N (k + 2) evaluated
    assert g["sens_independent"] == len(s.regions) == len(s.ranks) == 20 and g["sens_draws"] == 70
    assert s.has_gap and page.defined_sobol(s).equals(s.sobol)
    assert "left out" not in page.sobol_table(s)[1]
    share = min(max(g["sobol_rank_boot_total"], 0.0), 1.0)          # a share, as the table cuts it
    assert page.rank_sampling_text(g) == (f"For the province ranks, sampling accounts for a total share of "
                                          f"{share:.2f} of the variance.")


def test_the_sobol_table_of_a_wave_without_the_west_says_the_gap_is_left_out(tmp_path):
    """Three eastern provinces: the ranks vary and have their indices, the gap does not exist (the
    run writes no row of it), and the table's note still says why it is not there."""
    from analysis.report.pages import sensitivity as page
    from tests import wavegen

    east = build_study(wavegen.provinces(tmp_path / "east-only", ["上海", "江苏", "浙江"]))
    s = run_sensitivity(east, draws=7 * 10, seed=2)
    assert list(s.regions.columns) == ["east"] and not s.has_gap
    table, note = page.sobol_table(s)
    assert len(table) == 5 and set(table["output"]) == {"province ranks (mean over provinces)"}
    assert "the east–west gap without both regions" in note and "is left out" in note


def test_the_page_states_the_weight_perturbation_the_draws_use(study, monkeypatch):
    """The page says the field weights vary by ±perturb_pct %: every draw's multiplier of a field
    weight lies within 1 ± perturb_pct/100 and the draws reach near both ends (seen by running
    with the fields' weights set to 1, so the weights an aggregation gets are the multipliers)."""
    from analysis.estimation import sensitivity as sens
    from analysis.report.pages import sensitivity as page

    seen = []
    monkeypatch.setattr(sens, "_field_scores", lambda *a: {k: (F, np.ones_like(fw))
                                                           for k, (F, fw) in _field_scores(*a).items()})
    monkeypatch.setattr(sens, "_overall", lambda F, W, *a: (seen.append(W.copy()), _overall(F, W, *a))[1])
    s = sens.run_sensitivity(study, draws=7 * 40, seed=3)
    half = page.stats(study, s)["perturb_pct"] / 100
    W = np.concatenate([w.ravel() for w in seen])
    assert half > 0 and W.min() >= 1 - half and W.max() <= 1 + half
    assert W.min() < 1 - 0.9 * half and W.max() > 1 + 0.9 * half


def test_a_draw_of_each_weighting_gives_the_region_degrees_of_the_study_built_with_it(study, monkeypatch):
    """Without the weight perturbation and with the design's own weights for the bootstrap, every
    draw that picks the study's normalisation and aggregation gives each region the degree of the
    study rebuilt with the draw's weighting: the study's own (the weighted mean of the scores of
    the respondents who have one; a respondent without a score in the numerator's sum nor in the
    denominator's), and each other scheme (expert, entropy, PCA, AHP), whose own field weights
    the draws perturb, not equal ones."""
    import dataclasses

    from analysis.estimation import sensitivity

    monkeypatch.setattr(sensitivity, "PERTURBATION", 0.0)
    monkeypatch.setattr(sensitivity, "rao_wu_weights",
                        lambda weights, strata, psu, reps, rng: np.repeat(weights[:, None], reps, axis=1))
    assert study.index.scores["overall"].isna().any()             # respondents without a score exist
    s = run_sensitivity(study, draws=7 * 400, seed=3)
    c = study.construction
    d0 = study.degree(by="region3")
    base = pd.Series(d0.estimate, index=d0.domains)[s.regions.columns].to_numpy()
    moved = []
    for wt in sensitivity.WEIGHTINGS:
        own = ((s.draws["normalisation"] == c.normalisation) & (s.draws["weighting"] == wt)
               & (s.draws["aggregation"] == c.aggregation)).to_numpy()
        assert own.sum() >= 1, wt
        d = study.with_construction(dataclasses.replace(c, weighting=wt)).degree(by="region3")
        want = pd.Series(d.estimate, index=d.domains)[s.regions.columns].to_numpy()
        np.testing.assert_allclose(s.regions.to_numpy()[own], np.tile(want, (own.sum(), 1)), rtol=1e-10,
                                   err_msg=wt)
        moved.append(wt != c.weighting and not np.allclose(want, base))
    assert c.weighting in sensitivity.WEIGHTINGS                   # the study's own among them
    assert sum(moved) >= 3                      # the schemes do weigh the fields differently


def test_the_sensitivity_page_s_table_and_gap_figure_are_the_run_s(study):
    """The Sobol table's first-order and total columns are the run's first-order and total indices
    (clipped to [0, 1]); the regions figure's gap is each draw's east minus west."""
    import matplotlib.pyplot as plt

    from analysis.report.pages.sensitivity import defined_sobol, figures_, sobol_table

    s = run_sensitivity(study, draws=7 * 20, seed=6)
    t, _ = sobol_table(s)
    sob = defined_sobol(s)
    np.testing.assert_allclose(t["first-order index"], sob["first_order"].clip(0, 1))
    np.testing.assert_allclose(t["total index"], sob["total"].clip(0, 1))
    assert (t["first-order index"] != t["total index"]).any()
    figs = figures_(study, s)
    data = figs["fig_sens_regions"].ruralgov_data.set_index("item")      # each series summarised
    for f in figs.values():
        plt.close(f)
    east_minus_west = s.regions["east"] - s.regions["west"]
    np.testing.assert_allclose(s.draws["gap"].to_numpy(), east_minus_west.to_numpy())
    row = data.loc["east − west"]
    assert row["mean"] == pytest.approx(east_minus_west.mean()) and row["mean"] > 0
    assert (row["min"], row["max"]) == pytest.approx((east_minus_west.min(), east_minus_west.max()))


@pytest.mark.parametrize("declared", ["strata and PSUs", "weights only"])
def test_the_uncertainty_bootstrap_resamples_the_design_the_wave_declares(study, make_wave, default_frames,
                                                                           monkeypatch, declared):
    """The Rao–Wu replicates of the uncertainty analysis resample the wave's own design: its
    provinces as strata and villages as PSUs; a wave declaring weights alone is one stratum whose
    PSUs are its respondents, and its replicates do move (no stratum of a single PSU). There are
    2N replicates, one for each independent draw of samples A and B."""
    from analysis.estimation import sensitivity

    if declared == "weights only":
        study = build_study(make_wave(default_frames["villagers"], name="weights-only",
                                      spec={"design": {"weight": "weight"}}))
    seen = {}

    def spy(weights, strata, psu, reps, rng):  # type: ignore[no-untyped-def]
        seen.update(strata=np.asarray(strata), psu=np.asarray(psu), reps=reps)
        seen["b"] = rao_wu_weights(weights, strata, psu, reps, rng)
        return seen["b"]

    monkeypatch.setattr(sensitivity, "rao_wu_weights", spy)
    run_sensitivity(study, draws=7 * 4, seed=1)
    v = study.villagers
    if declared == "weights only":
        assert len(np.unique(seen["strata"])) == 1 and len(np.unique(seen["psu"])) == len(v)
    else:
        np.testing.assert_array_equal(seen["strata"], v["province"].to_numpy())
        np.testing.assert_array_equal(seen["psu"], v["village_id"].to_numpy())
    assert seen["reps"] == 2 * 4                          # one replicate per draw of samples A and B
    moved = ~np.isclose(seen["b"], v["weight"].to_numpy()[:, None])
    assert moved.any(axis=0).all()                        # every replicate resamples some weights


def test_every_construction_a_draw_picks_gives_the_region_and_province_degrees_of_the_study_built_with_it(
        study, monkeypatch):
    """Without the weight perturbation and with the design's own weights for the bootstrap, each
    draw's normalisation, weighting and aggregation are the ones it is labelled with: its region
    and province means are the degrees of the study rebuilt with that construction, for every
    combination the draws pick (normalisations that use the survey weights included). A
    ``target`` draw aims at the settings' target of an item, else at the level below the top of
    its scale (the study's own ``target`` normalisation aims at the top code by default: the
    study is rebuilt with the draws' targets named; which targets those are is the test of
    ``target_codes`` above). The means are floats, and the ranks are the provinces' own, by name."""
    import dataclasses
    from types import MappingProxyType

    from analysis.estimation import sensitivity

    monkeypatch.setattr(sensitivity, "PERTURBATION", 0.0)
    monkeypatch.setattr(sensitivity, "rao_wu_weights",
                        lambda weights, strata, psu, reps, rng: np.repeat(weights[:, None], reps, axis=1))
    s = run_sensitivity(study, draws=7 * 150, seed=4)
    assert (s.regions.dtypes == float).all() and (s.provinces.dtypes == float).all()
    provinces = sorted(study.villagers["province_en"].unique())
    assert list(s.ranks.columns) == list(s.provinces.columns) == provinces
    assert s.ranks.equals(s.provinces.rank(axis=1, ascending=False))
    items = study.wave.codebook.indicators(study.construction.questionnaire)
    labels = s.draws[["normalisation", "weighting", "aggregation"]]
    combos = labels.drop_duplicates().itertuples(index=False)
    seen = set()
    for norm, wt, agg in combos:
        rows = ((labels["normalisation"] == norm) & (labels["weighting"] == wt)
                & (labels["aggregation"] == agg)).to_numpy()
        c = dataclasses.replace(study.construction, normalisation=norm, weighting=wt, aggregation=agg)
        if norm == "target":
            c = dataclasses.replace(c, targets=MappingProxyType(target_codes(items, dict(c.targets))))
        st = study.with_construction(c)
        for by, got in (("region3", s.regions), ("province_en", s.provinces)):
            d = st.degree(by=by)
            want = pd.Series(d.estimate, index=d.domains)[got.columns].to_numpy()
            np.testing.assert_allclose(got.to_numpy()[rows], np.tile(want, (rows.sum(), 1)), rtol=1e-9,
                                       err_msg=f"{norm}, {wt}, {agg}: {by}")
        seen.add((norm, wt, agg))
    assert {n for n, _, _ in seen} == set(NORMS) and {a for _, _, a in seen} == set(AGGREGATIONS)
    assert len(seen) >= 40                        # of the 60 combinations, most drawn at least once


def test_the_settings_give_the_draws_and_seed_when_none_is_asked(study):
    """``run_sensitivity(study)`` runs ``uncertainty.draws`` evaluations from ``uncertainty.seed``
    of the study's settings: the same run as asking for them."""
    from types import SimpleNamespace

    u = study.settings.index.uncertainty.model_copy(update={"draws": 7 * 3, "seed": 11})

    class WithFewDraws:                           # the study, its settings asking for 21 draws
        settings = SimpleNamespace(index=SimpleNamespace(uncertainty=u))

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(study, name)

    a = run_sensitivity(WithFewDraws())
    b = run_sensitivity(study, draws=7 * 3, seed=11)
    assert (a.seed, a.n_evaluations) == (11, 21)
    assert a.regions.equals(b.regions) and a.sobol.equals(b.sobol)


@pytest.mark.parametrize("progress", [False, True])
def test_a_progress_bar_only_when_asked_naming_the_draws_and_gone_when_done(study, monkeypatch, capsys,
                                                                           progress):
    """The CLI asks for a progress bar on a terminal; the pages do not. The bar says how many
    draws, and leaves the screen when the run ends; the run is the same with or without it."""
    import rich.progress

    calls = []

    def track(sequence, description="", transient=False):  # type: ignore[no-untyped-def]
        calls.append({"description": description, "transient": transient})
        yield from sequence

    monkeypatch.setattr(rich.progress, "track", track)
    s = run_sensitivity(study, draws=7 * 5, seed=9, progress=progress)
    plain = run_sensitivity(study, draws=7 * 5, seed=9) if progress else s
    assert s.regions.equals(plain.regions)
    assert calls == ([{"description": "35 draws", "transient": True}] if progress else [])
    assert capsys.readouterr() == ("", "")


def test_the_run_records_its_own_wall_time(study):
    import time

    t0 = time.perf_counter()
    s = run_sensitivity(study, draws=14, seed=1)
    assert 0 < s.seconds <= time.perf_counter() - t0


def test_a_wave_without_a_west_region_runs_and_reports_the_regions_it_has(make_wave, small_villagers):
    st = build_study(make_wave(small_villagers[small_villagers["province"] != "西藏"]))
    s = run_sensitivity(st, draws=14, seed=1)
    assert list(s.regions.columns) == ["central", "east"]
    assert list(s.provinces.columns) == ["Henan", "Shanghai"]


def test_a_draw_that_resamples_none_of_a_province_leaves_its_mean_undefined_without_a_warning(
        make_wave, small_villagers):
    """A wave declaring weights alone resamples respondents; a province of one respondent is left
    out of about a third of the Rao–Wu replicates. Its mean in those draws is undefined (NaN, not
    0), and numpy's 0/0 warning is not shown to the user."""
    v = small_villagers
    tibet = v.index[v["province"] == "西藏"]
    st = build_study(make_wave(v.drop(tibet[1:]), spec={"design": {"weight": "weight"}}))
    assert np.isfinite(st.scores["overall"][st.villagers["province_en"] == "Tibet"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        s = run_sensitivity(st, draws=7 * 10, seed=2)
    tib = s.provinces["Tibet"]
    assert tib.isna().any() and tib.notna().any()
    assert s.provinces.drop(columns="Tibet").notna().all().all()


def test_a_seed_of_zero_is_a_seed():
    """``seed=0`` draws with 0 and records 0 (a falsy seed is not "no seed", which would take
    data/index.yml's and cite 0 for draws it did not make)."""
    st = build_study("2020-replica")
    zero, default = run_sensitivity(st, draws=14, seed=0), run_sensitivity(st, draws=14)
    assert zero.seed == 0 and default.seed == st.settings.index.uncertainty.seed != 0
    assert not np.allclose(zero.regions.to_numpy(), default.regions.to_numpy())
    pd.testing.assert_frame_equal(run_sensitivity(st, draws=14, seed=0).regions, zero.regions)
