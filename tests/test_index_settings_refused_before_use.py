"""Index settings that cannot weight the index are refused when the settings are read, with the file
and key, before any command uses them: AHP weighting without its comparisons, comparisons that are
not positive or not reciprocal or too inconsistent (Saaty's CR of 0.10 or more), and an expert weight
for an indicator the index does not have. Where the settings fit the codebook but not a wave, the
command line says so as a settings problem (exit 2), not with a traceback."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.settings import SettingsError, _cross_checks, load_settings, validate
from analysis.settings.schemas import IndexSettings


@pytest.mark.parametrize("raw,fragment", [
    ({"weighting": "ahp", "ahp": {}}, "weighting: ahp needs the pairwise comparisons of the fields"),
    ({"weighting": "ahp", "ahp": {"order": ["a", "b"]}}, "needs the pairwise comparisons"),   # order alone
    ({"ahp": {"order": ["a", "b", "c"], "matrix": [[1, 2, -2], [0.5, 1, 1], [-0.5, 1, 1]]}},
     "entries must be positive"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, 2], [0, 1]]}}, "row, column 2, 1 is not"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, 2], [2, 1]]}}, "row, column 1, 2 and 2, 1 are 2 and 2"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[2, 1], [1, 0.5]]}}, "must be reciprocal"),
])
def test_an_ahp_block_that_cannot_weight_the_fields_is_refused(raw, fragment):
    """Missing comparisons under weighting: ahp, a comparison that is not positive (it passed the
    reciprocity check a_ij·a_ji = 1 with both signs negative), and one not reciprocal."""
    with pytest.raises(SettingsError) as e:
        validate(IndexSettings, raw, "data/index.yml")
    assert fragment in str(e.value)


def test_a_reciprocal_positive_ahp_matrix_is_accepted():
    """The shipped comparisons and a consistent hand-made matrix pass."""
    consistent = [[1, 2, 4], ["1/2", 1, 2], ["1/4", "1/2", 1]]
    validate(IndexSettings, {"weighting": "ahp", "ahp": {"order": ["a", "b", "c"], "matrix": consistent}},
             "data/index.yml")
    assert load_settings().index.ahp.matrix


def _with_index(**update):  # type: ignore[no-untyped-def]
    s = load_settings()
    return dataclasses.replace(s, index=s.index.model_copy(update=update))


def test_an_inconsistent_ahp_matrix_is_refused_with_its_consistency_ratio():
    """Five fields where the first matters 9 times the second, the second 9 times the third, but the
    third 9 times the first: Saaty's CR (by hand: (λmax − 5) / 4 / 1.12) is far above 0.10."""
    s = load_settings()
    fields = tuple(s.codebook["fields"])
    a = np.ones((5, 5))
    for i, j, x in ((0, 1, 9), (1, 2, 9), (2, 0, 9)):
        a[i, j], a[j, i] = x, 1 / x
    cr = (max(np.linalg.eigvals(a).real) - 5) / 4 / 1.12
    assert cr > 0.10
    bad = _with_index(ahp=s.index.ahp.model_copy(update={"order": fields, "matrix": tuple(map(tuple, a))}))
    with pytest.raises(SettingsError, match=r"ahp\.matrix: the comparisons are inconsistent: "
                                            rf"consistency ratio {cr:.3f} ≥ 0\.10") as e:
        _cross_checks(bad)
    assert e.value.file == "data/index.yml"
    _cross_checks(s)                                   # the project's own settings pass


def test_an_expert_weight_for_an_indicator_the_index_lacks_is_refused():
    """expert.indicators with a misspelt id (edu_meanz) would leave the weight unused silently;
    a real indicator id passes."""
    s = load_settings()
    from analysis.ingest.codebook import load_codebook

    real = load_codebook().indicators(s.index.questionnaire)[0].id
    ok = _with_index(expert=s.index.expert.model_copy(update={"indicators": {real: 2.0}}))
    _cross_checks(ok)
    bad = _with_index(expert=s.index.expert.model_copy(update={"indicators": {real: 2.0, "edu_meanz": 5.0}}))
    with pytest.raises(SettingsError, match=r"expert\.indicators\.edu_meanz: not an indicator of the "
                                            r"index's questionnaire \(villagers\)") as e:
        _cross_checks(bad)
    assert "expert.indicators." + real not in str(e.value)


def test_an_index_construction_that_does_not_fit_the_wave_is_a_settings_error_on_the_command_line(
        monkeypatch):
    """``ruralgov index`` when the index cannot be built with its settings on this wave (an AHP
    matrix inconsistent among the fields the wave has): the message, exit 2, no traceback."""
    from analysis.cli import app
    from analysis.estimation import study
    from analysis.estimation.index import IndexConfigError

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise IndexConfigError("AHP pairwise matrix is inconsistent: consistency ratio 0.148 ≥ 0.10")

    monkeypatch.setattr(study, "build_study", refuse)
    res = CliRunner().invoke(app, ["index"])
    assert res.exit_code == 2, res.output
    assert "consistency ratio 0.148" in res.output and "Traceback" not in res.output
    assert not isinstance(res.exception, IndexConfigError)


def test_the_robustness_table_leaves_out_ahp_weights_when_the_settings_give_no_comparisons():
    """A construction without an AHP matrix (weighting equal, no ahp block): the robustness table
    has every other alternative, and no AHP row instead of a crash."""
    from analysis.estimation.study import build_study
    from analysis.estimation.suite import robustness

    base = build_study()
    st = base.with_construction(dataclasses.replace(base.construction, ahp_order=(), ahp_matrix=()))
    got = set(robustness(st)["construction"])
    assert "AHP weights" not in got and "entropy weights" in got and "PCA weights" in got
    assert "AHP weights" in set(robustness(base)["construction"])
