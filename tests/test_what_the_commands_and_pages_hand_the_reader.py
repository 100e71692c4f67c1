"""What the commands and pages hand a reader or a script, each a behaviour a reviewer's planted
error changed unseen: a failed build's exit status, a model's notes kept off stdout, the JSON of
a model's coefficients keeping their ids, the CSV of ``reproduce`` keeping every column of its
JSON, an interval on one degree of freedom, the Sobol table naming each input by its own name, and
the comparison naming the covariates the panel's fixed effects absorb by their labels."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.study import build_study
from tests import wavegen

runner = CliRunner()


def test_a_build_refused_for_its_arguments_exits_2(monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "abc")
    res = runner.invoke(app, ["build", "--no-pdf", "--lang", "en", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "SOURCE_DATE_EPOCH" in res.output
    assert not (tmp_path / "out").exists()


def test_a_model_s_notes_go_to_stderr_so_its_csv_and_json_are_whole():
    res = runner.invoke(app, ["models", "--model", "multilevel", "--format", "csv"])
    assert res.exit_code == 0 and "province covariates are official statistics" in res.stderr   # the premise
    t = pd.read_csv(io.StringIO(res.stdout))
    assert t.columns[0] == "model" and set(t["model"]) == {"multilevel"}
    res = runner.invoke(app, ["models", "--model", "wls_region", "--model", "multilevel", "--format", "json"])
    doc = json.loads(res.stdout)
    coefs = [c for m in (doc if isinstance(doc, list) else doc["models"]) for c in m["coefficients"]]
    assert coefs and all(c.get("term") for c in coefs)
    assert "internet_use" in {c["term"] for c in coefs}


def test_reproduce_writes_every_column_of_its_json_to_its_csv():
    as_csv = runner.invoke(app, ["reproduce", "--format", "csv"])
    as_json = runner.invoke(app, ["reproduce", "--format", "json"])
    rows = json.loads(as_json.stdout)
    rows = rows if isinstance(rows, list) else rows[next(iter(rows))]
    header = pd.read_csv(io.StringIO(as_csv.stdout)).columns.tolist()
    assert len(header) > 6 and set(header) == set(rows[0])


def test_an_interval_on_one_degree_of_freedom_is_a_cauchy_s():
    """t with 1 df is the Cauchy distribution: P(|T| ≥ 2) = 1 − 2 atan(2) / π."""
    from analysis.estimation.results import inference

    lo, hi, p = inference(np.array([1.0]), np.array([0.5]), 1.0)
    assert p[0] == pytest.approx(1 - 2 * np.arctan(2) / np.pi, rel=1e-12)
    q = np.tan(np.pi * (0.975 - 0.5))                      # the Cauchy's 97.5 % point, 12.706...
    assert (lo[0], hi[0]) == pytest.approx((1 - 0.5 * q, 1 + 0.5 * q), rel=1e-12)


def test_the_sobol_table_names_each_input_by_its_own_name():
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.report.pages.sensitivity import sobol_table

    st = build_study("2020-replica")
    s = run_sensitivity(st, draws=70, seed=3)
    table, _ = sobol_table(s, st)
    named = dict(zip(s.sobol["input"], table["input"]))
    assert {k: named[k] for k in ("normalisation", "weighting", "aggregation")} == {
        "normalisation": "normalisation method", "weighting": "weighting method",
        "aggregation": "aggregation method"}


def test_the_comparison_names_the_absorbed_covariates_by_their_labels(tmp_path):
    """A follow-up that changes internet use in eight provinces and repeats the rest: education
    and income change only as the year effects take them."""
    from analysis.estimation.frames import labels
    from analysis.report.pages.compare import panel_models

    first = build_study("2020-replica")

    def changed(t):  # type: ignore[no-untyped-def]
        t = t.copy()
        provs = sorted(t["province"].unique())[:8]
        flip = t["province"].isin(provs) & (t["internet_use"] == "0")
        t.loc[flip, "internet_use"] = "1"
        return t

    folder = wavegen.replica_copy(tmp_path / "follow-2022", villagers=changed)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["year"] = 2022
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    pm = panel_models([first, build_study(folder)])
    assert pm.get("absorbed"), pm                                            # the premise
    named = labels(first)
    assert set(pm["absorbed"]) <= {str(v) for v in named.values()}
    assert not set(pm["absorbed"]) & set(named)


@pytest.mark.parametrize("command", ["index", "models", "reproduce"])
def test_a_command_on_an_invalid_wave_exits_1_not_as_a_usage_error(tmp_path, command):
    """Bad data exit 1 (the data are wrong), bad arguments 2 (the command is)."""
    def negative_weight(t):  # type: ignore[no-untyped-def]
        t = t.copy()
        t.loc[0, "weight"] = "-1"
        return t

    folder = wavegen.replica_copy(tmp_path / f"bad-{command}", villagers=negative_weight)
    res = runner.invoke(app, [command, str(folder)] if command != "models" else
                        [command, str(folder), "--model", "wls_region"])
    assert res.exit_code == 1, res.output
    assert "weight" in res.output


def test_a_seed_of_zero_is_the_sensitivity_command_s_seed():
    from analysis.estimation.sensitivity import run_sensitivity

    res = runner.invoke(app, ["sensitivity", "--seed", "0", "--draws", "14", "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["seed"] == 0
    own = run_sensitivity(build_study("2020-replica"), draws=14, seed=0).region_summary()
    got = {r["quantity"]: r["mean"] for r in doc["regions"]}
    assert got["central"] == pytest.approx(float(own.loc["central", "mean"]), rel=1e-12)


def test_the_sensitivity_command_ranks_the_provinces_the_report_publishes(tmp_path):
    """On the follow-up wave Gansu, Ningxia and Tibet are withheld: the ranks' Sobol indices are
    those of the ranks among the others, as the page computes them."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.report.pages.common import published_province_names

    folder = wavegen.write(tmp_path / "follow-up", "sav")
    st = build_study(folder)
    ok = published_province_names(st)
    assert 2 <= len(ok) < st.villagers["province_en"].nunique()                # the premise
    res = runner.invoke(app, ["sensitivity", str(folder), "--draws", "14", "--seed", "5", "--format", "csv"])
    got = pd.read_csv(io.StringIO(res.stdout))
    own = run_sensitivity(st, draws=14, seed=5, rank_among=ok).sobol
    ranks = [o for o in own["output"].unique() if "rank" in o]
    assert ranks
    mine = own[own["output"].isin(ranks)].sort_values(["output", "input"])
    theirs = got[got["output"].isin(ranks)].sort_values(["output", "input"])
    np.testing.assert_allclose(theirs["total"].to_numpy(float), mine["total"].to_numpy(float), rtol=1e-9,
                               equal_nan=True)


def test_the_scores_file_keeps_the_respondent_ids(tmp_path):
    from analysis.ingest.wave import load_wave

    out = tmp_path / "scores.csv"
    res = runner.invoke(app, ["index", "--scores", str(out)])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out, dtype={"resp_id": str})
    ids = load_wave("2020-replica").villagers["resp_id"].astype(str)
    assert scores["resp_id"].tolist() == ids.tolist()


def test_reproduce_names_the_figures_outside_their_rounding_by_their_keys(tmp_path):
    """Labels repeat ("Others" of several questions); the keys of published-figures.yml do not."""
    folder = wavegen.replica_copy(tmp_path / "half", villagers=lambda t: t[t.index % 2 == 0])
    res = runner.invoke(app, ["reproduce", str(folder), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    rows = doc if isinstance(doc, list) else doc[next(k for k in doc if isinstance(doc[k], list))]
    bad = [r["key"] for r in rows if r["within_rounding"] is False]
    assert bad                                                                # the premise
    said = res.stderr.replace("\n", "")
    assert f"{len(bad)} figure(s) outside the published rounding: " + ", ".join(bad) in said


@pytest.mark.parametrize("draws, code", [(13, 2), (7, 2), (10, 2), (14, 0)])
def test_the_sensitivity_command_needs_one_saltelli_block_of_draws(draws, code):
    """N (k + 2) evaluations with k = 5 inputs: fewer than 14 cannot make one block of 7."""
    res = runner.invoke(app, ["sensitivity", "--draws", str(draws), "--format", "json"])
    assert res.exit_code == code, res.output
    if code:
        assert "--draws must be at least 14" in res.output
