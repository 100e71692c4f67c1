"""An alternative construction the wave refuses (AHP comparisons inconsistent among the fields
it has) is left out of the robustness table and named with its reason, not a crash of the
determinants page; ``ruralgov sensitivity`` refuses it as a settings problem (exit 2, no
traceback); and on a wave of one publishable province the command shows no ranks, as the
report does not."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.index import IndexConfigError
from analysis.estimation.study import build_study
from analysis.estimation.suite import ROBUSTNESS_LABELS, robustness
from tests import wavegen
from tests.conftest import shared

runner = CliRunner()


def _cyclic(k: int) -> tuple[tuple[float, ...], ...]:
    """A positive reciprocal k × k matrix whose comparisons go round in a circle (1 ≫ 2 ≫ 3 ≫ 1):
    its consistency ratio is far above 0.10."""
    m = np.ones((k, k))
    for i, j in ((0, 1), (1, 2), (2, 0)):
        m[i, j], m[j, i] = 9.0, 1 / 9.0
    return tuple(tuple(r) for r in m)


@pytest.fixture(scope=shared)
def refused():  # type: ignore[no-untyped-def]
    """The replica with equal weights and AHP comparisons it cannot use: the robustness table."""
    st = build_study("2020-replica")
    fields = list(st.construction.ahp_order) or list(st.codebook.fields)
    cfg = dataclasses.replace(st.construction, weighting="equal", ahp_matrix=_cyclic(len(fields)),
                              ahp_order=tuple(fields))
    return robustness(st.with_construction(cfg))


def test_the_refused_ahp_variant_is_left_out_and_named_with_its_reason(refused):
    """robustness: no 'AHP weights' column; attrs['left_out'] names it and says why (the CR)."""
    ahp = ROBUSTNESS_LABELS["weighting"]["ahp"]
    assert ahp not in set(refused["construction"])
    assert list(refused.attrs["left_out"]) == [ahp]
    assert "inconsistent" in refused.attrs["left_out"][ahp]


def test_the_other_alternatives_are_still_fitted(refused):
    """Every other weighting (entropy, PCA) and the default remain, one model each."""
    shown = set(refused["construction"])
    for opt in ("entropy", "pca"):
        assert ROBUSTNESS_LABELS["weighting"][opt] in shown
    assert any(c.startswith("default (") for c in shown)


def test_the_page_table_carries_a_note_naming_what_is_not_shown(refused, monkeypatch):
    """determinants.robustness_table keeps the reason; robustness_note says it; '' when none is."""
    from analysis.estimation import suite
    from analysis.report.pages import determinants

    monkeypatch.setattr(suite, "robustness", lambda study, model="wls_region": refused)
    t = determinants.robustness_table(None)
    note = determinants.robustness_note(t)
    assert note.startswith("Not shown: " + ROBUSTNESS_LABELS["weighting"]["ahp"] + " (")
    assert "inconsistent" in note
    plain = refused.copy()
    plain.attrs = {"left_out": {}}
    monkeypatch.setattr(suite, "robustness", lambda study, model="wls_region": plain)
    assert determinants.robustness_note(determinants.robustness_table(None)) == ""


def test_the_chinese_edition_gives_the_reason_in_chinese(refused, monkeypatch):
    """The reason is kept as a message of the catalogue: the Chinese edition's note says it in
    Chinese (the consistency ratio as computed), not in English."""
    from analysis.estimation import suite
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import determinants

    monkeypatch.setattr(suite, "robustness", lambda study, model="wls_region": refused)
    english = determinants.robustness_note(determinants.robustness_table(None))
    cr = english.split("consistency ratio ")[1].split(" ")[0]
    monkeypatch.setenv(LANG_ENV, "zh")
    note = determinants.robustness_note(determinants.robustness_table(None))
    assert note.startswith("未列出：") and "一致性比率 " + cr in note
    assert "inconsistent" not in note and "consistency ratio" not in note


def test_sensitivity_refuses_a_construction_the_wave_does_not_fit_with_exit_2(monkeypatch):
    """ruralgov sensitivity: an IndexConfigError of a drawn construction is a settings problem."""
    from analysis.estimation import sensitivity

    def refuse(*a, **k):  # type: ignore[no-untyped-def]
        raise IndexConfigError("AHP pairwise matrix is inconsistent: consistency ratio 0.106 ≥ 0.10; "
                               "revise the comparisons")

    monkeypatch.setattr(sensitivity, "run_sensitivity", refuse)
    res = runner.invoke(app, ["sensitivity", "--draws", "14"])
    assert res.exit_code == 2, res.output
    assert "consistency ratio 0.106" in " ".join(res.output.split())
    assert isinstance(res.exception, SystemExit)


@pytest.fixture(scope=shared)
def one_province(tmp_path_factory):  # type: ignore[no-untyped-def]
    return wavegen.provinces(tmp_path_factory.mktemp("one") / "one-province", ["上海"])


def test_sensitivity_on_one_province_shows_no_ranks_and_says_why(one_province):
    """A table and JSON of ranks need two publishable provinces: the command says so instead."""
    res = runner.invoke(app, ["sensitivity", str(one_province), "--draws", "14", "--seed", "1"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "Ranks need at least two publishable provinces; this wave has 1." in flat
    assert "median rank" not in flat
    js = runner.invoke(app, ["sensitivity", str(one_province), "--draws", "14", "--seed", "1",
                             "--format", "json"])
    assert js.exit_code == 0, js.output
    out = json.loads(js.stdout[js.stdout.index("{"):])
    assert out["ranks"] == [] and out["regions"]


def test_sensitivity_on_two_provinces_still_ranks_them(tmp_path):
    """The threshold is two: a wave of two provinces gets its rank table."""
    folder = wavegen.provinces(tmp_path / "two-provinces", ["上海", "浙江"])
    res = runner.invoke(app, ["sensitivity", str(folder), "--draws", "14", "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "median rank" in " ".join(res.output.split())
