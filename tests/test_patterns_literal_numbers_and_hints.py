"""A Sphinx warning carrying a line number, the model-name rule, ids a spreadsheet would run or a
binary file stores as floats, the perturbation the sensitivity page states, the precision of Cook's
distance, the replica's refusals and the hints of unknown names."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.validate import validate_wave
from tests.conftest import shared


@pytest.fixture(scope=shared)
def study():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


# ---- the build: a failed page named from a warning with a line number ---------------------------------

def test_a_sphinx_warning_with_a_line_number_names_its_page_as_failed(tmp_path, monkeypatch):
    """Sphinx writes 'page.md:12: WARNING: ...' for a warning inside a page: the page is failed with
    the warning's text, as a warning without a line number is."""
    from tests.test_containment import sphinx_run

    def lines(root):  # type: ignore[no-untyped-def]
        return [f"{root}/book/survey.md:12: WARNING: undefined label: 'tbl-x' [ref.ref]\n",
                f"{root}/book/intro.md: Executed notebook in 1.20 seconds [mystnb]\n"]
    code, failed, executed = sphinx_run(tmp_path, monkeypatch, "src", lines)
    assert code == 1
    assert failed == {"book/survey.md": "undefined label: 'tbl-x' [ref.ref]"}
    assert executed == {"book/intro.md": "1.20 s"}


# ---- settings ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["basic-ols", "ols 2", "olsX"])
def test_a_model_name_with_a_character_outside_the_slug_anywhere_is_refused(name):
    """A model name is lower-case letters, digits and '_' from its first character to its last: a
    valid prefix followed by '-', a space or a capital is refused, naming the pattern."""
    from analysis import paths
    from analysis.settings import SettingsError, parse_yaml, validate
    from analysis.settings.schemas import ModelsSettings

    raw = parse_yaml((paths.DATA / "models.yml").read_text(encoding="utf-8"), "data/models.yml")
    raw["models"][0]["name"] = name
    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, raw, "data/models.yml")
    said = str(e.value)
    assert f"'{name}': string should match pattern '^[a-z][a-z0-9_]*$'" in said
    raw["models"][0]["name"] = "basic_ols_2"                       # the same name as a slug is taken
    assert validate(ModelsSettings, raw, "data/models.yml").models[0].name == "basic_ols_2"


# ---- validation ------------------------------------------------------------------------------------------

def test_an_id_starting_with_an_at_sign_is_warned_of_as_a_spreadsheet_formula(small_villagers, make_wave):
    """A spreadsheet runs a cell starting with '@' as a formula (like '=' and '+'): a respondent id
    '@SUM(A1)' on the fifth respondent is warned of at file row 6, column resp_id, and kept."""
    v = small_villagers.copy()
    v.loc[4, "resp_id"] = "@SUM(A1)"
    report, clean = validate_wave(make_wave(v))
    assert report.ok, report.errors[:3]
    said = [(w.row, w.column, w.value) for w in report.warnings if w.rule == "no spreadsheet formulas"]
    assert said == [(6, "resp_id", "@SUM(A1)")]
    assert clean["villagers"]["resp_id"].iloc[4] == "@SUM(A1)"


def test_a_ten_digit_id_a_parquet_file_stores_as_a_float_is_its_whole_number(small_villagers, make_wave):
    """Ids stored as doubles are written as the whole numbers they are up to 2^53, not only below 2^31:
    respondent 5000000001.0 is '5000000001', as in a CSV."""
    v = small_villagers.copy()
    want = [str(5_000_000_001 + i) for i in range(len(v))]
    v["resp_id"] = [5_000_000_001.0 + i for i in range(len(v))]
    folder = make_wave(name="pq", file="villagers.parquet")
    v.to_parquet(folder / "villagers.parquet", index=False)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    assert list(clean["villagers"]["resp_id"]) == want


def test_a_misspelt_design_weight_is_told_the_item_it_is_close_to(small_villagers, make_wave):
    """'weigth' has 5 of its 6 letters in order with 'weight' (difflib ratio 2*5/12 = 0.83): the design
    error suggests 'weight'."""
    folder = make_wave(small_villagers, spec={"design": {"weight": "weigth", "strata": "province",
                                                         "psu": "village_id"}})
    report, _ = validate_wave(folder)
    said = [e.message for e in report.errors if e.rule == "design columns"]
    assert said == ["wave.yml: design.weight names 'weigth', which is not an item of the villager "
                    "questionnaire (did you mean 'weight'?)"]


def test_an_unknown_province_lists_a_name_it_shares_three_of_eight_characters_with():
    """The closest names need a similarity of 0.4: '内蒙古自治区呼和' holds '内蒙古' (ratio
    2*3/(8+3) = 0.55), which the message names as the closest."""
    from analysis.ingest.provinces import UnknownProvince, resolve

    with pytest.raises(UnknownProvince) as e:
        resolve("内蒙古自治区呼和")
    assert str(e.value) == "unknown province '内蒙古自治区呼和'; closest: 内蒙古"


# ---- publishing --------------------------------------------------------------------------------------

def test_a_column_named_national_is_a_number_not_a_count():
    """Only 'n', 'n_...' and the named counts are counts: the profiles' 'national' column (50.96) is
    written at one decimal, 51.0, not as the whole number 51."""
    from analysis.publishing.formats import column_kind, format_frame

    assert column_kind("national", pd.Series([50.96])) == "number"
    assert column_kind("n_psu", pd.Series([3.0])) == "count"
    text, numeric = format_frame(pd.DataFrame({"national": [50.96], "n": [1160]}))
    assert text.loc[0].tolist() == ["51.0", "1,160"]
    assert numeric == ["national", "n"]


# ---- sensitivity ----------------------------------------------------------------------------------------

def test_the_field_weights_are_perturbed_by_a_quarter_either_way(study, monkeypatch):
    """The sensitivity run multiplies each field weight by U(0.75, 1.25): the page states ±25 %, and with
    the fields' weights set to 1 the multipliers reach beyond ±22 % and stay within ±25 %."""
    from analysis.estimation import sensitivity as sens
    from analysis.estimation.sensitivity import _field_scores, _overall
    from analysis.report.pages import sensitivity as page

    seen = []
    monkeypatch.setattr(sens, "_field_scores", lambda *a: {k: (F, np.ones_like(fw))
                                                           for k, (F, fw) in _field_scores(*a).items()})
    monkeypatch.setattr(sens, "_overall", lambda F, W, *a: (seen.append(W.copy()), _overall(F, W, *a))[1])
    s = sens.run_sensitivity(study, draws=7 * 40, seed=3)
    assert page.stats(study, s)["perturb_pct"] == 25.0
    W = np.concatenate([w.ravel() for w in seen])
    assert W.min() >= 0.75 and W.max() <= 1.25
    assert W.min() < 0.78 and W.max() > 1.22


# ---- the determinants page ---------------------------------------------------------------------------------

def test_the_largest_cook_s_distance_is_shown_with_three_decimals(study):
    """Cook's distance of the weighted main model, D_i = e_i^2 h_i / (p s^2 (1 - h_i)^2) on the
    whitened data, recomputed here: its largest value is shown at three decimals."""
    from analysis.estimation.frames import model_frame
    from analysis.estimation.regression import design_matrix
    from analysis.report.pages import determinants

    spec = study.settings.models.get("wls_region")
    df = model_frame(study, spec).data
    X, _ = design_matrix(df, list(spec.regressors), list(spec.fixed_effects))
    y = df[spec.outcome].to_numpy(float)
    w = df[spec.weights].to_numpy(float)
    sw = np.sqrt(w / w.mean())
    Xw, yw = X * sw[:, None], y * sw
    beta = np.linalg.lstsq(Xw, yw, rcond=None)[0]
    e = yw - Xw @ beta
    h = np.einsum("ij,ji->i", Xw, np.linalg.pinv(Xw.T @ Xw) @ Xw.T)
    p = np.linalg.matrix_rank(Xw)
    s2 = (e ** 2).sum() / (len(y) - p)
    cook = e ** 2 * h / (p * s2 * (1 - h) ** 2)
    _, tests = determinants.diagnostics_tables(study, {"wls_region": SimpleNamespace(term_labels={})})
    row = tests[tests["test"] == "largest Cook's distance"].iloc[0]
    assert row["statistic"] == f"{cook.max():.3f}"
    assert len(row["statistic"].split(".")[1]) == 3


# ---- the replica -----------------------------------------------------------------------------------------

def test_a_replica_respondent_who_answers_nothing_refused_every_indicator():
    """The 0.5 % of replica respondents who answer nothing are coded refused (9) on every indicator,
    not don't know (8); the default seed's 1,160 respondents hold some."""
    from analysis import replica
    from analysis.ingest.codebook import load_codebook

    ids = [it.id for it in load_codebook().indicators()]
    v = replica.generate()["villagers"][ids]
    nothing = v.isin([8, 9]).all(axis=1)
    assert nothing.sum() >= 1
    assert (v[nothing] == 9).all(axis=None)
