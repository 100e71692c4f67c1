"""Paths a coverage run of the fast suite found never run: a profile's official table over a panel
lacking a series, the wave.yml reference's forms, the book's static path, a wave.yml without
questionnaires or without an id, the models command's usage error, the index coverage, the optional
services series, the in-memory size limit, suppression of absent columns, the synthetic label of the
region finding, a missing settings file, an unknown model name, a theme without Font Awesome."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from analysis import paths

runner = CliRunner()


# ---- the province profile's official table -------------------------------------------------------

def test_a_series_missing_from_the_official_panel_is_skipped_and_the_later_series_kept():
    """A panel without GDP per head: the profile's official table leaves that row out and keeps
    the other five series, in their order, yuan rows in whole yuan and the others to 0.1."""
    from analysis.ingest.official import province_panel
    from analysis.report.pages import profile

    panel = province_panel().drop(columns="gdp_per_capita_yuan")
    off = profile.official_table(SimpleNamespace(official=panel), 320000)        # Jiangsu
    assert off["series"].tolist() == ["urbanization (%)", "public spending per head (yuan)",
                                      "education share of spending (%)", "pupils per primary teacher",
                                      "urban registered unemployment (%)"]
    assert off.attrs["row_decimals"] == [1, 0, 1, 1, 1]
    assert off["province"].notna().all()


# ---- the wave.yml reference ----------------------------------------------------------------------

def test_the_wave_yml_reference_refuses_a_form_that_is_neither_table_nor_list():
    """wave_yml_reference(form='tabel') raises ValueError naming the two forms, not a list."""
    from analysis.report.pages.rerun import wave_yml_reference

    with pytest.raises(ValueError, match=r"^form is 'table' or 'list', not 'tabel'$"):
        wave_yml_reference(form="tabel")


# ---- the book's static path ----------------------------------------------------------------------

def test_the_report_s_stylesheet_folder_is_added_to_the_book_s_static_path_not_put_in_its_place():
    """The config-inited hook appends the report's static folder to html_static_path: the book's
    own entry (_config.yml's, the local MathJax) is kept, first."""
    from analysis.report import sphinx_ext

    book = yaml.safe_load((paths.ROOT / "_config.yml").read_text(encoding="utf-8"))
    own = list(book["sphinx"]["config"]["html_static_path"])
    assert own == ["_build/.assets"]
    config = SimpleNamespace(html_static_path=list(own))
    sphinx_ext._static(None, config)
    assert config.html_static_path == [*own, str(sphinx_ext.STATIC)]


# ---- wave.yml: questionnaires and id -------------------------------------------------------------

def test_a_wave_yml_with_an_empty_questionnaires_map_is_a_schema_problem(make_wave, small_villagers):
    """``questionnaires: {}`` breaks the schema: load_spec raises WaveSpecInvalid with the problem
    'map at least one questionnaire (villagers) to its file' under the key questionnaires."""
    from analysis.ingest.readers import WaveSpecInvalid, load_spec

    folder = make_wave(small_villagers, spec={"questionnaires": {}})
    with pytest.raises(WaveSpecInvalid) as e:
        load_spec(folder)
    assert [(p.key, p.message) for p in e.value.problems] == [
        ("questionnaires", "map at least one questionnaire (villagers) to its file")]


def test_a_wave_yml_without_an_id_is_a_schema_problem_naming_the_id(make_wave, small_villagers):
    """A wave.yml lacking ``id:``: load_spec raises WaveSpecInvalid whose problem names the key id
    (not a bare KeyError)."""
    from analysis.ingest.readers import WaveSpecInvalid, load_spec

    raw = {"title": "test wave", "questionnaires": {"villagers": {"file": "villagers.csv"}},
           "design": {"weight": "weight", "strata": "province", "psu": "village_id"}}
    folder = make_wave(small_villagers, raw_yml=yaml.safe_dump(raw))
    with pytest.raises(WaveSpecInvalid) as e:
        load_spec(folder)
    assert [p.key for p in e.value.problems] == ["id"]
    assert "missing" in e.value.problems[0].message


# ---- the models command --------------------------------------------------------------------------

def test_models_with_a_model_that_models_yml_does_not_define_exits_2_naming_it():
    """``ruralgov models --model nosuchmodel``: a usage error, exit code 2, the name in the message."""
    from analysis.cli import app

    res = runner.invoke(app, ["models", "--model", "nosuchmodel"])
    assert res.exit_code == 2, res.output
    assert "nosuchmodel" in res.output


# ---- the index coverage --------------------------------------------------------------------------

@pytest.mark.parametrize("coverage", [65, 0, -0.5, 1.0001])
def test_an_index_coverage_outside_0_to_1_is_refused_not_clamped(coverage):
    """IndexConfig(coverage=65) (a percentage), 0 or below, or above 1: IndexConfigError naming it."""
    from analysis.estimation.index import IndexConfig, IndexConfigError

    with pytest.raises(IndexConfigError, match=r"coverage must be in \(0, 1\]"):
        IndexConfig(coverage=coverage)


def test_an_index_coverage_of_exactly_1_is_accepted():
    """The bound 1 is in (0, 1]: every indicator answered, kept as given."""
    from analysis.estimation.index import IndexConfig

    assert IndexConfig(coverage=1).coverage == 1


# ---- the official panel's optional services series -----------------------------------------------

def test_the_official_panel_without_its_services_file_lacks_only_the_service_columns(tmp_path, monkeypatch):
    """_merged/ present without the services CSV: the panel of the core file (31 provinces ×
    2005–2024) without any service column, not FileNotFoundError."""
    from analysis.ingest import official

    services = pd.read_csv(official.SERVICES_CSV, nrows=1).columns.drop(["adcode", "year"]).tolist()
    merged = tmp_path / "_merged"
    merged.mkdir()
    monkeypatch.setattr(official, "SERVICES_CSV", merged / official.SERVICES_CSV.name)
    official._province_panel.cache_clear()
    try:
        p = official.province_panel()
    finally:
        official._province_panel.cache_clear()
    assert len(p) == 31 * 20 and p.index.names == ["adcode", "year"]
    assert "urban_rate_pct" in p and "gdp_per_capita_yuan" in p
    assert services and not set(services) & set(p.columns)


# ---- the in-memory size limit --------------------------------------------------------------------

def test_a_questionnaire_file_above_the_in_memory_limit_in_bytes_is_refused(make_wave, small_villagers,
                                                                            monkeypatch):
    """A file one byte above MAX_FILE_BYTES (bytes, not kilobytes) is refused with rule 'file size'
    and its size in bytes in the message."""
    from analysis.ingest import readers
    from analysis.ingest.validate import validate_wave

    folder = make_wave(small_villagers)
    size = (folder / "villagers.csv").stat().st_size
    assert size > 10_000
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", size - 1)
    report, data = validate_wave(folder)
    assert data == {}
    hit = [p for p in report.problems if p.rule == "file size"]
    assert len(hit) == 1 and f"{size} bytes exceeds the in-memory limit" in hit[0].message


# ---- disclosure of absent columns ----------------------------------------------------------------

def test_suppression_blanks_the_named_columns_that_exist_and_skips_an_absent_one():
    """apply(values=['estimate', 'ci_low']) on a table without ci_low: the estimate of the row of
    3 respondents is blanked, the row of 50 kept, and no ci_low column appears."""
    from analysis.publishing.disclosure import DisclosurePolicy

    df = pd.DataFrame({"domain": ["a", "b"], "estimate": [40.0, 55.0], "n": [3, 50], "n_psu": [2, 5]})
    out = DisclosurePolicy(min_cell=10).apply(df, values=["estimate", "ci_low"])
    assert np.isnan(out.loc[0, "estimate"]) and out.loc[1, "estimate"] == 55.0
    assert out["suppressed"].tolist() == ["fewer than 10 respondents", ""]
    assert "ci_low" not in out


# ---- the landing page's region finding -----------------------------------------------------------

class _NoModels:
    """A fitted model suite with no model (the findings then come from the wave only)."""

    def has(self, name: str) -> bool:
        return False

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        raise KeyError(name)


def test_the_region_finding_of_a_synthetic_wave_without_publishable_provinces_carries_the_label():
    """The replica with min_cell 73 (its largest province has 72 respondents, each region 300 or
    more): no province is published, the 'by region' finding is, after the synthetic label."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import intro
    from tests.conftest import with_spec

    base = build_study("2020-replica")
    assert base.wave.synthetic
    biggest = int(base.villagers.groupby("province_en").size().max())
    regions = base.villagers.groupby("region3").size()
    assert biggest < 73 and (regions >= 73).sum() >= 2
    st = with_spec(base, min_cell=73)
    kf = intro.key_findings(st, _NoModels(), {}).splitlines()
    assert not any("publishable provinces" in line for line in kf)
    region = [line for line in kf if "by region, " in line.lower()]
    assert len(region) == 1
    assert region[0].startswith(f"- {intro.SYNTHETIC_LABEL} by region, "), region[0]


# ---- settings files ------------------------------------------------------------------------------

def test_a_missing_settings_file_is_a_settings_problem_not_a_traceback(tmp_path, monkeypatch):
    """reproduction.yml deleted: load_settings raises SettingsError with the problem 'cannot be read
    (No such file or directory)' for that file."""
    from analysis.settings import SettingsError, load_settings

    (tmp_path / "reference").mkdir()
    monkeypatch.setattr(paths, "REFERENCE", tmp_path / "reference")
    with pytest.raises(SettingsError) as e:
        load_settings()
    assert len(e.value.problems) == 1
    p = e.value.problems[0]
    assert Path(p.file).name == "reproduction.yml"
    assert p.message == "cannot be read (No such file or directory)"


def test_an_unknown_model_name_is_a_key_error_naming_the_known_models():
    """ModelsSettings.get('wls_regoin') raises KeyError listing models.yml's names, not a model."""
    from analysis.settings import load_settings

    names = [m["name"] for m in yaml.safe_load(paths.MODELS_CONFIG.read_text(encoding="utf-8"))["models"]]
    assert "wls_region" in names
    with pytest.raises(KeyError) as e:
        load_settings().models.get("wls_regoin")
    assert e.value.args[0] == f"no model 'wls_regoin'; known: {', '.join(names)}"


# ---- the theme's icons ---------------------------------------------------------------------------

def test_a_theme_without_fontawesome_js_leaves_the_pages_unchanged(tmp_path):
    """_static/scripts/ without fontawesome.js: subset_icons returns 0, writes no fa-icons.js and
    changes no page."""
    from analysis.report import icons

    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    page = tmp_path / "a.html"
    html = ('<script src="_static/scripts/fontawesome.js?digest=1"></script>'
            '<i class="fa-solid fa-bars"></i>')
    page.write_text(html, encoding="utf-8")
    assert icons.subset_icons(tmp_path) == 0
    assert page.read_text(encoding="utf-8") == html
    assert list(scripts.iterdir()) == []
