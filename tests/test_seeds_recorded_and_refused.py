"""Every random procedure the report runs has its seed in manifest.json (the multiple imputation
and the panel's wild bootstrap too, with the seeds and sizes the pages run them with); a negative
seed, which numpy refuses with a traceback, is refused where it is given: the settings files
(exit 2, naming the field) and the command line's --seed (exit 2)."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from analysis import paths
from analysis.cli import app
from analysis.publishing import provenance
from analysis.settings import SettingsError, load_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def default_study():  # type: ignore[no-untyped-def]
    from analysis.estimation.study import build_study

    return build_study(paths.DEFAULT_WAVE)


def _spy_on_the_wild_bootstrap(monkeypatch) -> list:  # type: ignore[no-untyped-def, type-arg]
    """The (reps, seed) of every wild cluster bootstrap run from now on, the run itself unchanged."""
    from analysis.estimation import regression

    seen = []
    real = regression.wild_cluster_bootstrap

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append((k["reps"], k["seed"]))
        return real(*a, **k)

    monkeypatch.setattr(regression, "wild_cluster_bootstrap", spy)
    return seen


def test_the_panel_wild_bootstrap_runs_with_the_seed_and_reps_the_manifest_records(monkeypatch,
                                                                                      default_study):
    """The provinces page's panel model: the wild bootstrap it calls gets the recorded seed and
    replicates (a spy on the call, the page's own code path)."""
    from analysis.report.pages import provinces

    seen = _spy_on_the_wild_bootstrap(monkeypatch)
    provinces.regressions(default_study)
    rec = provenance.seeds(load_settings())["panel.wild"]
    assert seen == [(rec["reps"], rec["seed"])]


def test_the_comparison_page_s_panel_bootstrap_runs_with_the_seed_and_reps_a_comparison_records(
        monkeypatch, tmp_path, default_study):
    """The comparison page's survey panel: its wild bootstrap gets the seed and replicates that
    seeds(compare=True) records, and a report without compared waves records no such procedure."""
    from analysis.estimation.study import build_study
    from analysis.replica import write_wave
    from analysis.report.pages import compare

    write_wave(tmp_path / "2022-test", seed=2022, wave_id="2022-test", calibrate=False)
    spec = yaml.safe_load((tmp_path / "2022-test" / "wave.yml").read_text(encoding="utf-8"))
    (tmp_path / "2022-test" / "wave.yml").write_text(yaml.safe_dump({**spec, "year": 2022}), encoding="utf-8")
    seen = _spy_on_the_wild_bootstrap(monkeypatch)
    out = compare.panel_models([default_study, build_study(tmp_path / "2022-test")])
    assert "coefficients" in out
    rec = provenance.seeds(load_settings(), compare=True)["compare.panel.wild"]
    assert seen == [(rec["reps"], rec["seed"])]
    assert "compare.panel.wild" not in provenance.seeds(load_settings())


def test_the_multiple_imputation_runs_with_the_seed_and_size_the_manifest_records(monkeypatch, default_study):
    """The determinants page's imputation table: the seed, imputations and burn-in it ran with
    (the result's own record) are those of the manifest."""
    from analysis.estimation import suite
    from analysis.report.pages import determinants

    seen = {}

    def spy(study, **k):  # type: ignore[no-untyped-def]
        import inspect

        bound = inspect.signature(real).bind(study, **k)
        bound.apply_defaults()
        seen.update(bound.arguments)
        raise RuntimeError("stop")                            # the run itself is not needed

    rec = provenance.seeds(load_settings())["multiple_imputation"]
    real = suite.multiple_imputation
    monkeypatch.setattr(suite, "multiple_imputation", spy)
    with pytest.raises(RuntimeError, match="stop"):
        determinants.mice_table(default_study)
    assert rec == {"model": seen["model"], "imputations": seen["imputations"], "burn_in": seen["burn_in"],
                   "seed": seen["seed"]}


@pytest.mark.parametrize("where, path, edit", [
    ("index", "uncertainty.seed", lambda d: d["uncertainty"].update(seed=-3)),
    ("index", "uncertainty.bootstrap_seed", lambda d: d["uncertainty"].update(bootstrap_seed=-1)),
    ("models", "wild.seed", lambda d: next(m for m in d["models"] if m.get("wild"))["wild"].update(seed=-1)),
    ("models", "seed", lambda d: next(m for m in d["models"] if m["family"] == "oaxaca").update(seed=-2)),
])
def test_a_negative_seed_in_the_settings_is_refused_naming_its_field(tmp_path, monkeypatch, where, path, edit):
    src = paths.INDEX_CONFIG if where == "index" else paths.MODELS_CONFIG
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    doc.setdefault("uncertainty", {})
    edit(doc)
    target = tmp_path / src.name
    target.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(paths, "INDEX_CONFIG" if where == "index" else "MODELS_CONFIG", target)
    with pytest.raises(SettingsError) as e:
        load_settings()
    assert path in str(e.value) and "greater than or equal to 0" in str(e.value)


@pytest.mark.parametrize("args", [["sensitivity", "--draws", "14", "--seed", "-1"],
                                  ["replica", "--seed", "-5", "--n", "440", "--out", "OUT"]])
def test_a_negative_seed_on_the_command_line_is_refused_naming_the_option(tmp_path, args):
    args = [str(tmp_path / "neg") if a == "OUT" else a for a in args]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "--seed" in res.output and "--n" not in res.output.split("Invalid value")[-1]
    assert not (tmp_path / "neg").exists()


def test_a_comparison_s_manifest_names_each_compared_wave_and_its_bootstrap(monkeypatch, tmp_path,
                                                                              default_study):
    """manifest.json of a build with compared waves: each one's id, SHA-256 and file hashes beside
    the reported wave's, and the comparison page's bootstrap among the seeds; without compared
    waves, neither."""
    from types import SimpleNamespace

    from myst_nb.sphinx_ import NbMetadataCollector

    from analysis.estimation.study import build_study
    from analysis.report import context, sphinx_ext
    from tests import wavegen

    other = build_study(wavegen.replica_copy(tmp_path / "other"))
    monkeypatch.setattr(NbMetadataCollector, "get_doc_data", staticmethod(lambda env: {}))
    monkeypatch.setattr(context, "study", lambda: default_study)
    app = SimpleNamespace(env=None)
    for compared in ([], [other]):
        monkeypatch.setattr(context, "compared_waves", lambda c=compared: [s.wave for s in c])
        m = sphinx_ext._manifest(app)
        assert m["wave"]["sha256"] == default_study.wave.sha256
        assert m["compared_waves"] == [{"id": "other", "synthetic": True, "sha256": other.wave.sha256,
                                        "files": other.wave.file_hashes}] * len(compared)
        assert ("compare.panel.wild" in m["seeds"]) == bool(compared)
