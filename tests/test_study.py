"""The scored study: its key changes with everything the scores depend on, a construction that
only leaves out aspects reuses the normalised indicators, the design follows the wave's
declaration, and the trace of index constructions is written only when asked for."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from analysis.estimation import study as study_module
from analysis.estimation.index import build_index
from analysis.estimation.study import TRACE_ENV, build_study, wave_design
from tests.conftest import shared


@pytest.fixture(scope=shared)
def study():
    return build_study("2020-replica")


@pytest.mark.parametrize("change", [
    {"normalisation": "zscore"}, {"weighting": "entropy"}, {"aggregation": "geometric"}, {"coverage": 0.5},
    {"exclude_aspects": ("means",)}, {"version": "2.0"}, {"sha256": "0" * 64},
    {"targets": MappingProxyType({"digital_use": 0.5})},
    {"expert_fields": MappingProxyType({"education": 3.0})},
    {"expert_indicators": MappingProxyType({"digital_use": 2.0})},
    {"ahp_order": ("a", "b")}, {"ahp_matrix": ((1.0, 2.0), (0.5, 1.0))},
], ids=lambda c: next(iter(c)))
def test_the_key_changes_with_every_choice_of_the_construction(study, change):
    other = dataclasses.replace(study, construction=study.construction.with_(**change))
    assert other.key != study.key
    assert dataclasses.replace(study, construction=study.construction.with_()).key == study.key


def test_the_key_changes_with_the_wave_and_the_settings(study):
    wave = dataclasses.replace(study.wave, spec=dataclasses.replace(study.wave.spec))
    assert dataclasses.replace(study, wave=wave).key == study.key
    other_wave = SimpleWave(study.wave, "f" * 64)
    assert dataclasses.replace(study, wave=other_wave).key != study.key
    settings = dataclasses.replace(study.settings, sha256={**study.settings.sha256, "data/models.yml": "0"})
    assert dataclasses.replace(study, settings=settings).key != study.key


class SimpleWave:
    """A wave with another hash (the key reads nothing else of it)."""

    def __init__(self, wave, sha256):  # type: ignore[no-untyped-def]
        self._wave, self.sha256 = wave, sha256

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self._wave, name)


def test_leaving_out_aspects_reuses_the_normalised_indicators(study, monkeypatch):
    given = []
    real = study_module.build_index
    monkeypatch.setattr(study_module, "build_index",
                        lambda *a, **k: given.append(k.get("normalised")) or real(*a, **k))
    cfg = study.construction.with_(exclude_aspects=("means",))
    other = study.with_construction(cfg)
    assert given[-1] is study.index.normalised
    want = build_index(study.villagers, cfg, codebook=study.wave.codebook,
                       weights=study.villagers["weight"].to_numpy(float))
    pd.testing.assert_frame_equal(other.scores, want.scores)
    # another normalisation: normalised afresh
    other = study.with_construction(study.construction.with_(normalisation="zscore"))
    assert given[-1] is None
    assert study.with_construction(study.construction) is study
    assert other.design is study.design and other.wave is study.wave


def test_other_targets_of_the_same_normalisation_normalise_afresh(study):
    """Distance to target with other targets is another normalisation of the indicators, though
    named the same: a study rescored with them gives the scores of a fresh index, not those of
    the targets it was built with."""
    from types import MappingProxyType

    base = study.with_construction(study.construction.with_(normalisation="target"))
    item = study.wave.codebook.indicators(base.construction.questionnaire)[0]
    cfg = base.construction.with_(targets=MappingProxyType({item.id: float(min(item.values) + 1)}))
    other = base.with_construction(cfg)
    want = build_index(study.villagers, cfg, codebook=study.wave.codebook,
                       weights=study.villagers["weight"].to_numpy(float))
    pd.testing.assert_frame_equal(other.scores, want.scores)
    assert not other.scores.equals(base.scores)


def test_the_design_follows_the_waves_declaration(study):
    d = wave_design(study.wave)
    v = study.villagers
    np.testing.assert_array_equal(d.weights, v["weight"].to_numpy(float))
    assert d.n_psu == v["village_id"].nunique() and d.n_strata == v["province"].nunique()
    spec = dataclasses.replace(study.wave.spec, lonely_psu="certainty")
    assert wave_design(dataclasses.replace(study.wave, spec=spec)).lonely_psu == "certainty"


def test_the_study_reads_its_wave(study):
    assert study.n == len(study.scores) == len(study.villagers) == 1160
    assert (study.year, study.min_cell) == (study.wave.spec.year, study.wave.spec.min_cell)
    e = study.degree(by="region3")
    assert list(e.domains) == sorted(study.villagers["region3"].dropna().unique().tolist())


def test_index_constructions_are_traced_only_when_asked(study, tmp_path, monkeypatch):
    log = tmp_path / "trace.jsonl"
    monkeypatch.delenv(TRACE_ENV, raising=False)
    study.with_construction(study.construction.with_(coverage=0.6))
    assert not log.exists()
    monkeypatch.setenv(TRACE_ENV, str(log))
    study.with_construction(study.construction.with_(coverage=0.6))
    study.with_construction(study.construction.with_(coverage=0.7))
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert [x["event"] for x in lines] == ["index", "index"]
    assert [x["construction"]["coverage"] for x in lines] == [0.6, 0.7]
    assert lines[0]["wave"] == "2020-replica"


def test_build_study_scores_with_the_project_construction_and_attaches_the_official_panel(study):
    """The default construction is data/index.yml's, with that file's hash (the provenance of
    every score), and the study carries the official province panel (mutation: a construction
    without its hash, or a study without the panel, passed)."""
    from analysis.estimation.index import IndexConfig
    from analysis.ingest.official import province_panel

    assert study.construction == IndexConfig.default()
    assert study.construction.sha256 == study.settings.sha256["data/index.yml"] and len(study.construction.sha256) == 64
    pd.testing.assert_frame_equal(study.official, province_panel())
    assert build_study(study.wave).wave is study.wave                     # a loaded wave is taken as it is


def test_a_study_is_scored_with_the_construction_it_is_given_down_to_its_expert_weights(study):
    """build_study(construction=) scores with that construction, and with_construction tells two
    constructions apart by every choice, the expert weights too (which the plain-data view used
    in manifests leaves out): the second scoring is not the first one returned again."""
    from types import MappingProxyType

    fields = dict(study.construction.expert_fields)
    a = study.construction.with_(weighting="expert", expert_fields=MappingProxyType({**fields, "health": 4}))
    b = a.with_(expert_fields=MappingProxyType({**fields, "education": 4}))
    assert a.as_dict() == b.as_dict() and a != b                       # the premise
    w = study.villagers["weight"].to_numpy(float)
    want_a, want_b = (build_index(study.villagers, c, codebook=study.wave.codebook, weights=w).scores
                      for c in (a, b))
    assert not np.allclose(want_a["overall"], want_b["overall"])
    built = build_study(study.wave, construction=a)
    assert built.construction is a
    pd.testing.assert_frame_equal(built.scores, want_a)
    again = built.with_construction(b)
    assert again.construction is b
    pd.testing.assert_frame_equal(again.scores, want_b)


def test_another_construction_keeps_the_wave_settings_design_and_panel_and_weights_its_z_scores(study):
    """A study scored another way differs only in its construction and scores; the z-score
    normalisation uses the design weights (mutation: scores without the weights, or a study
    without its settings, construction or panel, passed)."""
    cfg = study.construction.with_(normalisation="zscore")
    other = study.with_construction(cfg)
    assert other.construction == cfg and other.settings is study.settings
    assert other.official is study.official and other.design is study.design
    w = study.villagers["weight"].to_numpy(float)
    want = build_index(study.villagers, cfg, codebook=study.wave.codebook, weights=w)
    pd.testing.assert_frame_equal(other.scores, want.scores)
    unweighted = build_index(study.villagers, cfg, codebook=study.wave.codebook)
    assert not np.allclose(other.scores["overall"], unweighted.scores["overall"])


def test_a_study_of_another_wave_reads_that_wave_and_its_fpc_and_scores_each_level(study, make_wave):
    """build_study of a wave's folder validates that wave (not the default one) and its design
    takes the declared fpc; the degree of a field is the field's score (mutation: a study of
    the default wave, a design without the fpc, or the overall score for every level, passed)."""
    from analysis.estimation.design import SurveyDesign
    from analysis.estimation.index import degree
    from analysis.replica import generate

    v = generate(seed=3, n=400, calibrate=False)["villagers"]
    v["fpc"] = v.groupby("province")["village_id"].transform("nunique") * 4.0
    folder = make_wave(v, name="small", spec={"design": {"weight": "weight", "strata": "province",
                                                         "psu": "village_id", "fpc": "fpc"}})
    st = build_study(folder)
    assert st.wave.id == "small" and st.n == 400
    assert st.design.fpc is not None
    no_fpc = SurveyDesign.from_frame(st.villagers, weight="weight", strata="province", psu="village_id")
    assert np.all(st.degree().se < no_fpc.mean(st.scores["overall"]).se)             # the fpc shrinks the SE
    field = study.index.fields[0]
    got = study.degree(level=field)
    np.testing.assert_allclose(got.estimate, degree(study.villagers, study.index, study.design, level=field).estimate)
    assert got.estimate[0] != study.degree().estimate[0]


@pytest.mark.parametrize("declared", [{}, {"strata": None}])
def test_a_wave_that_declares_no_strata_is_analysed_as_one_stratum(declared, make_wave, small_villagers):
    """A cluster sample without strata (the key left out, or null): its design is the one
    declared, a single stratum, so df = PSUs − 1 and the SE is the unstratified one, not one
    stratified by a column the wave has (the province) but did not sample by."""
    from analysis.estimation.design import SurveyDesign

    v = small_villagers
    design = {"weight": "weight", "psu": "village_id", **declared}
    folder = make_wave(v, name="nostrata", spec={"design": design})
    st = build_study(folder)
    assert st.wave.design_columns.get("strata") is None
    n_psu = v["village_id"].nunique()
    assert st.design.n_strata == 1 and st.design.degf == n_psu - 1 and v["province"].nunique() == 3
    one = SurveyDesign.from_frame(st.villagers, weight="weight", psu="village_id")
    by_province = SurveyDesign.from_frame(st.villagers, weight="weight", strata="province", psu="village_id")
    y = st.scores["overall"]
    assert st.degree().se[0] == pytest.approx(one.mean(y).se[0], rel=1e-12)
    assert one.mean(y).se[0] != pytest.approx(by_province.mean(y).se[0], rel=1e-3)     # the premise


def test_the_wave_s_hash_changes_with_its_wave_yml_and_with_each_data_file(make_wave, small_villagers,
                                                                           default_frames):
    """The hash that keys the caches and is cited covers the design wave.yml declares as well as
    the data: a wave whose min_cell (or weight, strata...) changed is another wave, and so is one
    whose villagers' or institutions' file changed."""
    from analysis.ingest.wave import load_wave

    folder = make_wave(small_villagers, name="h", institutions=default_frames["institutions"])
    yml = folder / "wave.yml"
    first = load_wave(folder).sha256
    original = yml.read_text(encoding="utf-8")
    yml.write_text(original + "min_cell: 12\n", encoding="utf-8")
    assert load_wave(folder).spec.min_cell == 12 and load_wave(folder).sha256 != first
    yml.write_text(original, encoding="utf-8")
    assert load_wave(folder).sha256 == first
    for name in ("institutions.csv", "villagers.csv"):
        data = folder / name
        kept = data.read_bytes()
        data.write_bytes(kept + b"\n")                            # the same rows, another file
        assert load_wave(folder).sha256 != first, name
        data.write_bytes(kept)
        assert load_wave(folder).sha256 == first, name


def test_a_data_file_corrected_in_place_to_the_same_size_is_read_again(make_wave, small_villagers):
    """A code put right (an age 45 → 46) leaves the file's size as it was: the loaded wave is the
    corrected one, not the one read before (the file's time is set a second later, as an edit
    made after the first reading would leave it)."""
    import os

    from analysis.ingest.wave import load_wave

    v = small_villagers.copy()
    v.loc[0, "age"] = "45"
    folder = make_wave(v, name="same-size")
    data = folder / "villagers.csv"
    before = load_wave(folder)
    assert before.villagers["age"].iloc[0] == 45
    text = data.read_bytes()
    at = text.index(b"\n") + 1                                  # the first row, after the header
    row_end = text.index(b"\n", at)
    fixed = text[:at] + text[at:row_end].replace(b",45,", b",46,", 1) + text[row_end:]
    assert len(fixed) == len(text) and fixed != text              # the premise: the same size
    st = data.stat()
    data.write_bytes(fixed)
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after = load_wave(folder)
    assert after.villagers["age"].iloc[0] == 46 and after.sha256 != before.sha256


def test_a_data_file_in_a_subfolder_of_the_wave_is_read_again_when_it_changes(make_wave, small_villagers):
    """wave.yml may name a file in a subfolder (``raw/villagers.csv``): an edit to it is seen (the
    wave's stamp walked only the folder's own files, and gave the wave read before)."""
    import os

    import yaml

    from analysis.ingest.wave import load_wave

    v = small_villagers.copy()
    v.loc[0, "age"] = "45"
    folder = make_wave(v, name="in-a-subfolder")
    (folder / "raw").mkdir()
    (folder / "villagers.csv").rename(folder / "raw" / "villagers.csv")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"]["villagers"]["file"] = "raw/villagers.csv"
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    before = load_wave(folder)
    assert before.villagers["age"].iloc[0] == 45
    data = folder / "raw" / "villagers.csv"
    st = data.stat()
    data.write_bytes(data.read_bytes().replace(b",45,", b",47,", 1))
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert load_wave(folder).villagers["age"].iloc[0] == 47


def test_two_files_of_one_name_in_two_subfolders_are_two_files_of_the_wave(make_wave, small_villagers,
                                                                            default_frames):
    """wave.yml may name v/data.csv and i/data.csv: each is hashed under its path in the wave (one
    hash was kept under the bare name, so the villagers' file was in neither the wave's SHA-256 nor
    its list of files), and an edit to the villagers' one changes the wave's hash."""
    import os

    import yaml

    from analysis.ingest.readers import sha256_file
    from analysis.ingest.wave import load_wave

    folder = make_wave(small_villagers, institutions=default_frames["institutions"], name="same-names")
    for sub, q in (("v", "villagers"), ("i", "institutions")):
        (folder / sub).mkdir()
        (folder / f"{q}.csv").rename(folder / sub / "data.csv")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"]["villagers"]["file"] = "v/data.csv"
    spec["questionnaires"]["institutions"]["file"] = "i/data.csv"
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    before = load_wave(folder)
    assert set(before.files) == {"v/data.csv", "i/data.csv"}
    assert before.file_hashes["v/data.csv"] == sha256_file(folder / "v" / "data.csv")
    assert before.file_hashes["i/data.csv"] == sha256_file(folder / "i" / "data.csv")
    data = folder / "v" / "data.csv"
    st = data.stat()
    text = data.read_text(encoding="utf-8").splitlines()
    k = text[0].split(",").index("weight")
    cells = text[1].split(",")
    cells[k] = "7.5"                                                     # the first row's weight
    text[1] = ",".join(cells)
    data.write_text("\n".join(text) + "\n", encoding="utf-8")
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    after = load_wave(folder)
    assert after.sha256 != before.sha256 and after.file_hashes["i/data.csv"] == before.file_hashes["i/data.csv"]


@pytest.mark.parametrize("year", [2015, None])
def test_the_year_a_wave_declares_is_its_study_s_and_picks_its_official_statistics(year, make_wave,
                                                                                  small_villagers):
    """wave.yml's year reaches the study, whose province covariates are that year's official
    statistics (the panel's latest only for a wave that gives no year)."""
    from analysis.estimation.frames import covariate_year

    spec = {"year": year} if year else {}
    st = build_study(make_wave(small_villagers, name=f"y{year or '-none'}", spec=spec))
    years = set(st.official.index.get_level_values("year"))
    assert 2015 in years and max(years) > 2015                     # the premise: 2015 is not the latest
    assert st.year == year and st.wave.spec.year == year
    assert covariate_year(st) == (year or max(years))


def test_a_study_saved_for_the_pages_is_the_last_build_s_wherever_the_same_files_lie(make_wave, tmp_path):
    """Two builds of the same files from two folders share the study's key; the study stored for
    the pages is the last build's, so the pages read the wave where it now lies, after the first
    folder is gone (an earlier study kept under the key had sent the manifest to the deleted folder)."""
    import shutil

    from analysis.replica import generate
    from analysis.report.context import _load, save_study

    first = make_wave(generate(seed=3, n=440, calibrate=False)["villagers"], name="first")
    second = shutil.copytree(first, tmp_path / "moved" / "first")
    cache = tmp_path / "results"
    a, b = build_study(first), build_study(second)
    assert a.key == b.key
    path = save_study(a, cache)
    assert save_study(b, cache) == path
    shutil.rmtree(first)
    stored = _load(str(path), path.stat().st_mtime_ns)
    assert stored.wave.spec.folder == second and len(stored.wave.sha256) == 64


def test_a_wave_is_validated_again_against_a_changed_codebook(make_wave, small_villagers, monkeypatch):
    """The loaded wave is kept while its files and the codebook are unchanged: another codebook
    (here one whose hash differs) validates the wave anew, and the wave records that codebook."""
    import dataclasses

    from analysis.ingest import wave as wave_mod
    from analysis.ingest.codebook import load_codebook

    folder = make_wave(small_villagers, name="cb")
    first = wave_mod.load_wave(folder)
    assert wave_mod.load_wave(folder) is first                    # unchanged: the same wave
    edited = dataclasses.replace(load_codebook(), sha256="e" * 64)
    monkeypatch.setattr(wave_mod, "load_codebook", lambda: edited)
    again = wave_mod.load_wave(folder)
    assert again is not first and again.codebook is edited
