"""Two settings used together, and what is written then read back: a design without strata in a
model's frame, a score without an aspect on a construction that already leaves one out, the
Chinese profiles' region, the floor of ``ruralgov stream --min-cell``, the JSON validation report
and the codebook's hash (errors of the 80th and 81st passes of benchmarks/semantic_mutants.yml)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import paths
from analysis.cli import app
from analysis.estimation.frames import model_frame
from analysis.estimation.study import build_study
from analysis.estimation.suite import fit_model, fit_models
from tests.conftest import shared


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


# ---- p80: a wave whose design has no strata ----------------------------------------------------

def test_a_design_based_model_on_a_wave_without_strata_is_fitted_on_the_unstratified_design(
        make_wave, default_frames):
    """se: design on a wave.yml without strata: the model is fitted (not skipped) with the WLS
    estimates and the sandwich SEs of one stratum of PSUs (villages), as svyglm without strata."""
    no_strata = {"design": {"weight": "weight", "psu": "village_id"}}
    folder = make_wave(default_frames["villagers"], spec=no_strata)
    st = build_study(folder)
    spec = st.settings.models.get("svy_region")
    assert spec.se_kind == "design"
    mf = model_frame(st, spec, design_columns=True)
    assert None not in list(mf.data.columns) and {"village_id", "weight"} <= set(mf.data.columns)
    assert "svy_region" not in fit_models(st).skipped
    res = fit_model(st, spec)
    # by hand: WLS of the score on the regressors and region dummies, then the linearised variance
    d = model_frame(st, spec).data
    X = pd.get_dummies(d[[*spec.regressors, "region3"]], columns=["region3"], drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    x, y, w = X.to_numpy(float), d["overall"].to_numpy(float), d["weight"].to_numpy(float)
    bread = np.linalg.inv((x.T * w) @ x)
    b = bread @ ((x.T * w) @ y)
    psu = st.villagers["village_id"].to_numpy()[mf.rows]
    z = pd.DataFrame(x * (w * (y - x @ b))[:, None]).groupby(psu).sum().to_numpy()
    m = len(z)
    zc = z - z.mean(axis=0)
    se = np.sqrt(np.diag(bread @ (m / (m - 1) * zc.T @ zc) @ bread))
    k = len(spec.regressors)
    np.testing.assert_allclose(res.params[list(spec.regressors)].to_numpy(), b[1:k + 1], rtol=1e-8)
    np.testing.assert_allclose(res.bse[list(spec.regressors)].to_numpy(), se[1:k + 1], rtol=1e-6)


# ---- p80: the score without an aspect keeps the construction's own exclusions -------------------

def test_a_score_without_an_aspect_also_leaves_out_the_aspects_the_construction_already_excludes(study):
    """overall_without_means on a construction without the concept items is the score without
    both aspects, not the score with the concept items back in."""
    spec = study.settings.models.get("wls_region_nomeans")
    assert spec.outcome == "overall_without_means"
    no_concept = study.with_construction(study.construction.with_(exclude_aspects=("concept",)))
    both = study.with_construction(study.construction.with_(exclude_aspects=("concept", "means")))
    means_only = study.with_construction(study.construction.with_(exclude_aspects=("means",)))
    f = model_frame(no_concept, spec)
    want = both.scores["overall"].to_numpy()[f.rows]
    other = means_only.scores["overall"].to_numpy()[f.rows]
    assert not np.allclose(want, other)                          # the premise: the two scores differ
    np.testing.assert_allclose(f.data[spec.outcome].to_numpy(float), want, rtol=1e-12)


# ---- p80: the Chinese profiles name the region in Chinese -------------------------------------

def test_a_chinese_profile_names_the_nbs_region_in_chinese(tmp_path):
    """The Chinese edition's profile says which of the NBS's four regions the province lies in
    in Chinese (东部, 中部, 西部, 东北), never by the English key; the English edition by the key."""
    from analysis.report import profiles

    profiles.write_profiles(tmp_path / "zh", "zh")
    profiles.write_profiles(tmp_path / "en", "en")
    for page, region, zh in (("beijing", "east", "东部"), ("henan", "central", "中部"),
                             ("sichuan", "west", "西部"), ("heilongjiang", "northeast", "东北")):
        text = (tmp_path / "zh" / f"{page}.md").read_text(encoding="utf-8")
        assert f"属于国家统计局四大区域中的{zh}地区" in text, page
        assert f"lies in the {region} region" in (tmp_path / "en" / f"{page}.md").read_text(encoding="utf-8")
    for p in (tmp_path / "zh").glob("*.md"):
        assert not re.search(r"(east|central|west|northeast|centre)地区", p.read_text(encoding="utf-8")), p.name


# ---- p80: ruralgov stream never prints a degree of fewer than three respondents --------------

@pytest.mark.parametrize("min_cell", ["1", "2"])
def test_stream_withholds_a_domain_of_two_respondents_whatever_a_lower_min_cell(tmp_path, min_cell):
    """--min-cell below 3 does not publish a domain of two respondents (in two villages): the
    floor of 3 holds and its degree is withheld with that reason; larger domains are printed."""
    from analysis.estimation.stream import write_partitioned
    from analysis.replica import generate

    v = generate(seed=13, n=1200, calibrate=False)["villagers"]
    prov = v["province"].iloc[0]
    rows = v[v["province"] == prov]
    keep = rows.groupby("village_id").head(1).index[:2]          # one respondent in each of two villages
    v = v.drop(rows.index.difference(keep)).reset_index(drop=True)
    assert (v["province"] == prov).sum() == 2 and v.loc[v["province"] == prov, "village_id"].nunique() == 2
    write_partitioned(v, tmp_path / "p", rows_per_file=1000)
    res = CliRunner().invoke(app, ["stream", str(tmp_path / "p"), "--by", "province", "--format", "csv",
                                   "--model", "", "--min-cell", min_cell])
    assert res.exit_code == 0, res.output
    printed = pd.read_csv(io.StringIO(res.stdout.split("\n\n")[0]), keep_default_na=False, na_values=[""])
    two = printed["n"] == 2
    assert two.sum() == 1
    assert printed.loc[two, ["estimate", "se", "ci_low", "ci_high"]].isna().all().all()
    assert printed.loc[two, "suppressed"].tolist() == ["fewer than 3 respondents"]
    assert printed.loc[~two, "estimate"].notna().all()


# ---- p81: the JSON validation report --------------------------------------------------------

@pytest.fixture
def warned_wave(make_wave, small_villagers) -> Path:
    """The small valid wave with two columns the codebook does not know: two warnings, no error."""
    return make_wave(small_villagers.assign(notes_by_the_team="x", interviewer_remark="y"))


def test_the_json_report_of_a_wave_with_warnings_only_counts_no_error(warned_wave, tmp_path):
    """validate --json: a wave with warnings only is ok with n_errors 0 and n_warnings the
    number of warnings (here the two unknown columns)."""
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["validate", str(warned_wave), "--json", str(out)])
    assert res.exit_code == 0, res.output
    rep = json.loads(out.read_text(encoding="utf-8"))
    assert rep["ok"] is True
    assert rep["n_errors"] == 0
    assert rep["n_warnings"] == 2


def test_the_json_report_lists_the_warnings_among_its_problems_as_the_csv_does(warned_wave, tmp_path):
    """validate --json lists every problem, warnings included: the two unknown columns appear
    under problems as warnings, as they do in the --csv export."""
    js, csv = tmp_path / "r.json", tmp_path / "r.csv"
    res = CliRunner().invoke(app, ["validate", str(warned_wave), "--json", str(js), "--csv", str(csv)])
    assert res.exit_code == 0, res.output
    rep = json.loads(js.read_text(encoding="utf-8"))
    got = sorted((p["severity"], p["column"]) for p in rep["problems"])
    assert got == [("warning", "interviewer_remark"), ("warning", "notes_by_the_team")]
    assert len(rep["problems"]) == rep["n_warnings"] + rep["n_errors"]
    table = pd.read_csv(csv, keep_default_na=False)
    assert sorted(zip(table["severity"], table["column"])) == got


# ---- p81: the codebook's key is its file's SHA-256 ------------------------------------------

def test_a_codebook_edited_without_a_new_version_is_a_new_codebook_for_the_wave_cache(
        tmp_path, monkeypatch, make_wave, small_villagers):
    """Codebook.sha256 is the SHA-256 of data/codebook.yml; a wave loaded, then its codebook edited
    (same version string), is validated again against the edited codebook by load_wave."""
    from analysis.ingest.codebook import load_codebook
    from analysis.ingest.wave import WaveInvalid, load_wave

    root = tmp_path / "proj"
    (root / "data" / "reference").mkdir(parents=True)
    for attr in ("CODEBOOK", "INDEX_CONFIG", "MODELS_CONFIG", "PUBLISHED_FIGURES"):
        copy = root / getattr(paths, attr).relative_to(paths.ROOT)
        shutil.copy(getattr(paths, attr), copy)
        monkeypatch.setattr(paths, attr, copy)
    shutil.copy(paths.REFERENCE / "reproduction.yml", root / "data" / "reference" / "reproduction.yml")
    monkeypatch.setattr(paths, "REFERENCE", root / "data" / "reference")
    monkeypatch.setattr(paths, "ROOT", root)

    cb = load_codebook()
    assert cb.sha256 == hashlib.sha256(paths.CODEBOOK.read_bytes()).hexdigest()
    folder = make_wave(small_villagers)
    assert load_wave(folder).report.ok
    text = paths.CODEBOOK.read_text(encoding="utf-8")
    old = "range: [0, 300], unit: km"
    assert text.count(old) == 1
    paths.CODEBOOK.write_text(text.replace(old, "range: [0, 1], unit: km"), encoding="utf-8")
    edited = load_codebook()
    assert edited.version == cb.version                          # the version string was not bumped
    assert edited.sha256 == hashlib.sha256(paths.CODEBOOK.read_bytes()).hexdigest() != cb.sha256
    far = pd.to_numeric(small_villagers["distance_km"], errors="coerce") > 1
    assert far.any()                                              # the premise: distances over 1 km
    with pytest.raises(WaveInvalid) as e:
        load_wave(folder)
    assert {p.column for p in e.value.report.errors} == {"distance_km"}
    said = [p.message for p in e.value.report.errors]
    assert f"{int(far.sum()) - 50} more rows break this rule" in said      # 50 rows listed, then the rest
