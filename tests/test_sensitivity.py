"""Uncertainty and sensitivity analysis: estimators checked on known answers, vectorised = direct."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.index import build_index, aggregate
from analysis.estimation.sensitivity import (NORMS, TARGET_CODE, _field_scores, _overall, bootstrap_domains,
                                             rao_wu_weights, run_sensitivity, sobol_indices)
from analysis.estimation.study import build_study
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


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


@pytest.fixture(scope=shared)
def wave(study):
    return study.wave


@pytest.mark.parametrize("norm", NORMS)
def test_precomputed_field_scores_equal_build_index(study, wave, norm):
    v = wave.villagers
    cfg = study.construction
    combos = _field_scores(v, wave.codebook, cfg, v["weight"].to_numpy())
    for wt in ("equal", "entropy", "ahp"):
        for agg in AGGREGATIONS:
            c = cfg.with_(normalisation=norm, weighting=wt, aggregation=agg)
            if norm == "target":
                c = c.with_(targets={it.id: TARGET_CODE for it in wave.codebook.indicators()})
            res = build_index(v, c, codebook=wave.codebook, weights=v["weight"].to_numpy())
            F, fw = combos[(norm, wt, agg)]
            np.testing.assert_allclose(F, res.scores[list(res.fields)].to_numpy(), rtol=1e-12)
            np.testing.assert_allclose(_overall(F, fw[:, None], agg, cfg.coverage)[:, 0],
                                       res.scores["overall"].to_numpy(), rtol=1e-12)


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


def test_bootstrap_domains(study):
    b = bootstrap_domains(study, reps=300, seed=2)
    assert len(b) == 22 and (b["boot_se"] > 0).all()
    assert b.loc["Shanghai", "median_rank"] <= 2 and b.loc["Tibet", "median_rank"] >= 20


def test_cli_json():
    res = CliRunner().invoke(app, ["sensitivity", "2020-replica", "--draws", "700", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["synthetic"] is True and len(out["sobol"]) == 10
    assert CliRunner().invoke(app, ["sensitivity", "--draws", "3"]).exit_code == 2


@pytest.mark.parametrize("ids", ["numbers", "text"])
def test_rao_wu_psus_are_numbered_in_order_of_first_appearance(ids):
    """(stratum, PSU) pairs numbered as they first appear, a PSU id reused in two strata two
    PSUs: the numbering that decides which draw goes to which PSU for a given seed."""
    from analysis.estimation.sensitivity import rao_wu_multipliers

    rng = np.random.default_rng(0)
    s = rng.choice(["b", "a", "c"], 600)
    p = rng.integers(0, 9, 600)
    p = p.astype(str) if ids == "text" else p
    codes, mult = rao_wu_multipliers(s, p, 5, np.random.default_rng(1))
    pairs = list(zip(s, p))
    first = list(dict.fromkeys(pairs))
    np.testing.assert_array_equal(codes, [first.index(x) for x in pairs])
    assert mult.shape == (len(first), 5)
