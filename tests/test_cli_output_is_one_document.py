"""What a command prints for a program to read is one document: ``ruralgov stream --format json``
one JSON object (the degree and the model), ``--format csv`` one table; JSON numbers keep every
digit; and a command that refuses its arguments prints nothing on stdout first. What ``models
--format json`` and the report's manifest.json say of a model's rows and of the work tree."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import cli, paths
from analysis.cli import app
from analysis.estimation.stream import write_partitioned
from analysis.ingest.wave import load_wave

runner = CliRunner()


@pytest.fixture(scope="module")
def parts(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("parts") / "villagers"
    write_partitioned(load_wave().villagers, folder, rows_per_file=400)
    return folder


def test_stream_json_is_one_document_holding_the_degree_and_the_model(parts):
    res = runner.invoke(app, ["stream", str(parts), "--by", "region", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)                           # a second document would be "Extra data"
    assert [r["domain"] for r in doc["degree"]] == sorted(r["domain"] for r in doc["degree"])
    assert len(doc["degree"]) == 3 and all(np.isfinite(r["estimate"]) for r in doc["degree"])
    m = doc["model"]
    assert m["name"] == "wls_province" and m["cluster"] == "province" and m["clusters"] >= 2
    assert m["n"] <= 1160 and m["k"] > len(m["coefficients"])
    assert {r["term"] for r in m["coefficients"]} >= {"internet_use", "education"}


def test_stream_json_without_a_model_says_none(parts):
    res = runner.invoke(app, ["stream", str(parts), "--by", "region", "--format", "json", "--model", ""])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["model"] is None and len(doc["degree"]) == 3


def test_stream_csv_is_one_table_and_says_where_the_coefficients_are(parts):
    res = runner.invoke(app, ["stream", str(parts), "--by", "region", "--format", "csv"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(io.StringIO(res.stdout))
    assert len(t) == 3 and "estimate" in t and "term" not in t
    assert "coefficients of wls_province are in --format json or table" in " ".join(res.output.split())


def test_json_numbers_keep_every_digit_and_missing_cells_are_null(capsys):
    """1.710276364974561e-11 is printed as itself (pandas' to_json wrote 1.71e-11); NaN, None and
    pandas' NA are null; integers stay integers."""
    df = pd.DataFrame({"key": ["a", "b", "c"], "difference": [1.710276364974561e-11, np.nan, 0.1 + 0.2],
                       "n": pd.array([3, None, 5], dtype="Int64")})
    cli._emit(df, cli.Format.json)
    got = json.loads(capsys.readouterr().out)
    assert got == [{"key": "a", "difference": 1.710276364974561e-11, "n": 3},
                   {"key": "b", "difference": None, "n": None},
                   {"key": "c", "difference": 0.30000000000000004, "n": 5}]


def test_index_refusing_a_scores_file_under_the_waves_prints_nothing(tmp_path):
    target = paths.WAVES / paths.DEFAULT_WAVE / "scores-test.csv"
    res = runner.invoke(app, ["index", "--format", "csv", "--scores", str(target)])
    assert res.exit_code == 2
    assert res.stdout == "" and "refusing to write under data/waves/" in res.output
    assert not target.exists()


def test_a_csv_table_has_the_table_s_columns_and_no_row_numbers():
    res = runner.invoke(app, ["index", "--by", "region", "--format", "csv"])
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[0].split(",")
    assert header[:3] == ["level", "domain", "estimate"]
    t = pd.read_csv(io.StringIO(res.stdout))
    assert len(t) == 3 and not any(str(c).startswith("Unnamed") for c in t.columns)


def test_a_table_marks_withheld_cells_and_leaves_a_missing_number_of_a_published_row_blank(capsys):
    """‡ stands for a cell withheld by disclosure control, on the rows it withholds only: a number
    missing on a published row (an SE the estimator has not) is printed blank."""
    from analysis.publishing.disclosure import MARK, SUPPRESSED

    df = pd.DataFrame({"domain": ["a", "b", "c"], "estimate": [1.5, np.nan, 2.0], "se": [0.1, np.nan, np.nan],
                       SUPPRESSED: [None, "fewer than 10 respondents", None]})
    cli._emit(df, cli.Format.table, "T")
    rows = {ln.split()[1]: ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("│")}
    assert rows["b"].count(MARK) == 2
    assert MARK not in rows["c"] and MARK not in rows["a"]


@pytest.mark.parametrize("args", [["validate", "--json", "{d}"], ["validate", "--csv", "{d}"],
                                  ["index", "--scores", "{d}"]],
                         ids=["validate-json", "validate-csv", "index-scores"])
def test_a_file_option_naming_a_folder_is_refused_before_anything_is_printed(tmp_path, args):
    """--json, --csv or --scores naming an existing folder: exit 2 with the option named, nothing on
    stdout and the folder as it was (no traceback after the output)."""
    folder = tmp_path / "out"
    folder.mkdir()
    res = CliRunner().invoke(app, [a.format(d=folder) for a in args])
    assert res.exit_code == 2, res.output
    assert res.stdout == "" and list(folder.iterdir()) == []
    said = " ".join(res.stderr.split())
    assert f"{args[1]} {folder}: a folder; give the name of a file to write" in said.replace("\n", "")


def test_a_file_option_naming_an_existing_file_replaces_it(tmp_path):
    """Only a folder is refused: --scores naming a file written before replaces it (exit 0)."""
    target = tmp_path / "scores.csv"
    target.write_text("old\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["index", "--scores", str(target)])
    assert res.exit_code == 0, res.output
    assert target.read_text(encoding="utf-8-sig").splitlines()[0] != "old"


def test_validate_prints_its_problems_on_stderr_and_its_verdict_alone_on_stdout(make_wave, small_villagers):
    """A valid wave with a warning (a column the codebook lacks): the problems table goes to stderr,
    stdout holds the one line a script reads."""
    folder = make_wave(small_villagers.assign(notes_by_the_team="x"))
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is valid" in lines[0], res.stdout
    assert "notes_by_the_team" in res.stderr and "notes_by_the_team" not in res.stdout


def test_index_by_region4_gives_the_four_nbs_regions():
    res = runner.invoke(app, ["index", "--by", "region4", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert {r["domain"] for r in json.loads(res.stdout)} == {"east", "central", "west", "northeast"}


def test_an_invalid_wave_outside_the_waves_folder_is_named_by_its_path_in_the_hint(tmp_path):
    """``ruralgov validate <name>`` would not find a wave outside data/waves/: the hint gives its path."""
    from tests import wavegen

    def bad(t):  # type: ignore[no-untyped-def]
        t.loc[0, "sex"] = "7"
        return t

    folder = wavegen.replica_copy(tmp_path / "bad-wave", villagers=bad)
    res = runner.invoke(app, ["index", str(folder)])
    assert res.exit_code == 1
    assert f"ruralgov validate {folder}" in "".join(res.output.split("\n")), res.output


def test_models_json_gives_each_model_s_observations_and_coefficients():
    """``n`` is the rows a model was fitted on (its complete cases), not its number of terms."""
    from analysis.estimation.study import build_study
    from analysis.estimation.suite import fit_models

    res = runner.invoke(app, ["models", "--model", "wls_region", "--format", "json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)["models"][0]
    fitted = next(iter(fit_models(build_study(), names=["wls_region"])))
    assert got["name"] == "wls_region" and got["n"] == fitted.nobs > 1000
    assert len(got["coefficients"]) == len(fitted.params) < got["n"]


@pytest.mark.parametrize("state", [True, False, None])
def test_the_manifest_records_the_work_tree_s_state_as_known_or_unknown(state, monkeypatch):
    """dirty: true, false, or null where it is unknown (built outside git): null is not "clean"."""
    from types import SimpleNamespace

    from myst_nb.sphinx_ import NbMetadataCollector

    from analysis.estimation.study import build_study
    from analysis.publishing import provenance
    from analysis.report import context, sphinx_ext

    st = build_study()
    monkeypatch.setattr(context, "study", lambda: st)
    monkeypatch.setattr(provenance, "git_commit", lambda: ("0123456789ab", state))
    monkeypatch.setattr(NbMetadataCollector, "get_doc_data", staticmethod(lambda env: {}))
    m = json.loads(json.dumps(sphinx_ext._manifest(SimpleNamespace(env=None))))
    assert m["commit"] == "0123456789ab" and m["dirty"] is state
