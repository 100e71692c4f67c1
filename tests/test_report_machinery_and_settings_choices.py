"""Profile and index pages, the wave.yml example, the citation, the
comparison and problems notes, the official-statistics figures, the careful CSV reader and the
settings schemas' defaults and allowed values."""

from __future__ import annotations

import ast
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import paths


@pytest.fixture(scope="module")
def default_study():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


# ---- report pages ------------------------------------------------------------------------------

def _show_calls(page: str) -> list[ast.Call]:
    """The ``display.show(...)`` calls of a MyST notebook page's code cells, in page order."""
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page, flags=re.S)
    calls = []
    for cell in cells:
        code = "\n".join(line for line in cell.splitlines() if not line.startswith(":tags:"))
        calls += sorted((node for node in ast.walk(ast.parse(code))
                         if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                         and node.func.attr == "show" and getattr(node.func.value, "id", "") == "display"),
                        key=lambda c: c.lineno)
    return calls


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_table_of_a_province_profile_is_numbered_on_its_own_page(tmp_path, language):
    """Each of a profile's three tables (levels, problems, official) is shown with the profile's page,
    so Tibet's are numbered Table tibet.1, .2 and .3 (the levels table is not left unnumbered)."""
    from analysis.report.profiles import write_profiles

    write_profiles(tmp_path, language)
    calls = _show_calls((tmp_path / "tibet.md").read_text(encoding="utf-8"))
    assert len(calls) == 3
    pages = [next((ast.literal_eval(k.value) for k in c.keywords if k.arg == "page"), None) for c in calls]
    assert pages == ["tibet", "tibet", "tibet"]


def test_the_index_page_s_aspect_heat_map_draws_the_aspects_not_the_fields(default_study):
    """fig-index-aspects draws one row per aspect sub-index of the codebook; fig-index-fields one per
    field: the two heat maps' rows are different sub-indices."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index

    rep = domain_replicates(default_study, reps=20, seed=1)
    figs = index.figures_(default_study, index.province_table(default_study, rep))
    cb = default_study.wave.codebook
    aspects = figs["fig_index_aspects"].ruralgov_data
    fields = figs["fig_index_fields"].ruralgov_data
    assert aspects.iloc[:, 0].tolist() == [cb.aspects[a][1] for a in default_study.index.aspects]
    assert fields.iloc[:, 0].tolist() == [cb.fields[f][1] for f in default_study.index.fields]
    assert not set(aspects.iloc[:, 0]) & set(fields.iloc[:, 0])


def test_the_english_wave_yml_example_is_commented_in_english_whatever_the_session_s_language(monkeypatch):
    """example_yaml("en") (the README's copy) gives each line's English comment even in a zh session."""
    from analysis import i18n
    from analysis.report.pages import rerun

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    expected = "".join(line + (f"# {comment}" if comment else "") + "\n"
                       for line, comment in rerun.EXAMPLE_LINES)
    assert rerun.example_yaml("en") == expected
    assert not re.search(r"[\u4e00-\u9fff]", rerun.example_yaml("en").replace("医生数", ""))


def test_the_bibtex_entry_has_a_url_line_only_when_a_repository_is_configured(default_study, monkeypatch):
    """No RURALGOV_REPOSITORY: no url field at all (not an empty 'url = {}'); set: its url line."""
    from analysis.report.build import REPOSITORY_ENV
    from analysis.report.pages import cite

    w = SimpleNamespace(id="w1", synthetic=False, sha256=default_study.wave.sha256)
    monkeypatch.delenv(REPOSITORY_ENV, raising=False)
    entry = cite.bibtex(SimpleNamespace(wave=w))
    assert "url" not in entry
    monkeypatch.setenv(REPOSITORY_ENV, "https://example.org/ruralgov")
    entry = cite.bibtex(SimpleNamespace(wave=w))
    assert "  url     = {https://example.org/ruralgov},\n" in entry


def test_the_panel_note_names_every_item_a_wave_lacks():
    """Two lacks (education and hh_income of 2024-a): the note names both, in order."""
    from analysis.report.pages import compare

    note = compare.panel_note(["2024-a: education", "2024-a: hh_income"])
    assert note == ("The panel models need internet_use, education, hh_income in every wave; not estimated, "
                    "as 2024-a: education is missing; 2024-a: hh_income is missing.")


def test_the_problems_caption_counts_not_asked_and_unanswered_problems_apart():
    """Two problems not in the wave and one asked but answered by nobody: 2 not asked, 1 unanswered."""
    from analysis.report.pages import problems

    t1 = pd.DataFrame({"item": ["a", "b", "c", "d"], "estimate": [40.0, np.nan, np.nan, np.nan],
                       "n": [100, 0, 0, 0], "suppressed": ["", "", "", ""],
                       "base": ["respondents", problems.NOT_ASKED, problems.NOT_ASKED, problems.UNANSWERED]})
    shown, omitted, why = problems.figure_rows(t1)
    assert shown["item"].tolist() == ["a"] and why == ""
    assert omitted == ("Not drawn: 2 problems not asked in this wave; 1 problem asked in this wave but "
                       "answered by nobody; the table below lists every problem.")


def test_the_sigma_convergence_figure_draws_spending_per_head_under_its_own_label():
    """fig-real-sigma: 'sd of log spending per head' is the yearly SD of log spending per head, and
    'sd of log education share' that of the education share (computed here by hand)."""
    from analysis.report.pages import provinces

    idx = pd.MultiIndex.from_product([[110000, 310000, 540000], [2019, 2020]], names=["adcode", "year"])
    spend = [10.0, 20.0, 40.0, 50.0, 5.0, 8.0]
    share = [10.0, 11.0, 15.0, 12.0, 20.0, 25.0]
    p = pd.DataFrame({"fiscal_exp_per_capita_yuan": spend, "edu_exp_share_pct": share,
                      "region3": ["east", "east", "east", "east", "west", "west"],
                      "region4": ["East", "East", "East", "East", "West", "West"],
                      "resident_pop_10k": [2000.0, 2000.0, 2500.0, 2500.0, 360.0, 365.0]}, index=idx)
    data = provinces.figures_(SimpleNamespace(official=p))["fig_real_sigma"].ruralgov_data.set_index("year")
    for col, values in (("sd of log spending per head", spend), ("sd of log education share", share)):
        v = np.log(np.array(values)).reshape(3, 2)          # provinces × years
        np.testing.assert_allclose(data[col].to_numpy(), v.std(axis=0, ddof=1))


def test_a_province_profile_s_official_figure_has_the_province_region_and_nation_legend(default_study):
    """The small multiples share one legend: Shanghai, its region (east) and the nation."""
    import matplotlib.pyplot as plt

    from analysis.report.pages import profile

    fig = profile.official_figure(default_study, 310000)
    try:
        assert len(fig.legends) == 1
        assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Shanghai", "region (east)", "nation"]
    finally:
        plt.close(fig)


# ---- the careful CSV reader ----------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_file_keeps_the_leading_zeros_of_its_respondent_and_village_ids(small_villagers, make_wave,
                                                                          encoding):
    """Read by the fast reader (UTF-8) or the careful one (GB18030), ids 0012 and 12 are two
    respondents; 0012, 007 and a village 0031 stay as written."""
    from analysis.ingest.wave import load_wave

    v = small_villagers.copy()
    v.loc[0, "resp_id"], v.loc[1, "resp_id"], v.loc[2, "resp_id"] = "0012", "12", "007"
    village = v["village_id"] == v.loc[0, "village_id"]
    v.loc[village, "village_id"] = "0031"
    folder = make_wave(v.to_csv(index=False).encode(encoding), spec={"encoding": encoding})
    clean = load_wave(folder).villagers
    assert clean["resp_id"].astype(str).tolist()[:3] == ["0012", "12", "007"]
    assert (clean.loc[village.to_numpy(), "village_id"].astype(str) == "0031").all()


# ---- settings schemas ----------------------------------------------------------------------------

def _raw(name: str):  # type: ignore[no-untyped-def]
    from analysis.settings import read_yaml

    return read_yaml(paths.DATA / name)


def test_a_reproduced_figure_without_questionnaire_is_read_from_the_villagers(default_study):
    """health.equipment_outdated (no 'questionnaire' in reproduction.yml) is the weighted share of
    villagers answering hp_equipment = 1 among those who answered (computed here by hand)."""
    from analysis.estimation.reproduce import reproduce

    f = next(f for f in default_study.settings.reproduction.figures
             if f.key == "table_1_problems.health.equipment_outdated")
    assert f.questionnaire == "villagers"
    row = reproduce(default_study).set_index("key").loc["table_1_problems.health.equipment_outdated"]
    v = default_study.villagers
    x = v["hp_equipment"].astype(float)
    w = v[default_study.wave.spec.design["weight"]].astype(float)
    ok = x.notna()
    assert row["statistic"] == "proportion"
    assert row["reproduced"] == pytest.approx(100 * (w[ok] * (x[ok] == 1)).sum() / w[ok].sum())


def test_a_reproduced_figure_without_compare_is_judged_equal_within_half_a_printed_unit():
    """A figure with no 'compare' is judged 'equal': 47 of the shipped figures say none."""
    from analysis.settings import load_settings
    from analysis.settings.loader import validate
    from analysis.settings.schemas import ReproductionSettings

    r = validate(ReproductionSettings, {"figures": [{"key": "k", "statistic": "degree", "decimals": 2}]},
                 "reproduction.yml")
    assert r.figures[0].compare == "equal"
    raw = _raw("reference/reproduction.yml")["figures"]
    unsaid = [f["key"] for f in raw if "compare" not in f]
    shipped = {f.key: f.compare for f in load_settings().reproduction.figures}
    assert unsaid and {shipped[k] for k in unsaid} == {"equal"}


def test_a_wild_bootstrap_of_99_replicates_the_documented_floor_is_accepted():
    """wild: {reps: 99} is valid (the floor is inclusive); 98 is refused."""
    from analysis.settings.loader import SettingsError
    from analysis.settings.loader import validate
    from analysis.settings.schemas import ModelsSettings

    raw = _raw("models.yml")
    m = next(m for m in raw["models"] if m.get("wild"))
    m["wild"]["reps"] = 99
    ms = validate(ModelsSettings, raw, "data/models.yml")
    assert ms.get(m["name"]).wild.reps == 99
    m["wild"]["reps"] = 98
    with pytest.raises(SettingsError):
        validate(ModelsSettings, raw, "data/models.yml")


def test_an_oaxaca_model_without_reps_gets_499_bootstrap_replicates():
    """oaxaca_east_west with its 'reps' line removed: 499 Rao–Wu replicates, as the seeds report."""
    from analysis.publishing import provenance
    from analysis.settings import load_settings
    from analysis.settings.loader import validate
    from analysis.settings.schemas import ModelsSettings

    raw = _raw("models.yml")
    oax = next(m for m in raw["models"] if m["name"] == "oaxaca_east_west")
    del oax["reps"]
    ms = validate(ModelsSettings, raw, "data/models.yml")
    assert ms.get("oaxaca_east_west").reps == 499
    seeds = provenance.seeds(SimpleNamespace(index=load_settings().index, models=ms))
    assert seeds["oaxaca_east_west.bootstrap"]["reps"] == 499


def test_index_yml_accepts_topsis_aggregation():
    """aggregation: topsis (documented in index.yml) is valid; an unknown one is refused, naming topsis."""
    from analysis.settings.loader import SettingsError
    from analysis.settings.loader import validate
    from analysis.settings.schemas import IndexSettings

    raw = _raw("index.yml")
    raw["aggregation"] = "topsis"
    assert validate(IndexSettings, raw, "data/index.yml").aggregation == "topsis"
    raw["aggregation"] = "median"
    with pytest.raises(SettingsError) as e:
        validate(IndexSettings, raw, "data/index.yml")
    assert "topsis" in str(e.value)


def test_models_yml_accepts_rademacher_wild_weights():
    """wild: {weights: rademacher} is valid, as webb is."""
    from analysis.settings.loader import validate
    from analysis.settings.schemas import ModelsSettings

    raw = _raw("models.yml")
    m = next(m for m in raw["models"] if m.get("wild"))
    m["wild"]["weights"] = "rademacher"
    assert validate(ModelsSettings, raw, "data/models.yml").get(m["name"]).wild.weights == "rademacher"
