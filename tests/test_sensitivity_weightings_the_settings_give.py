"""The sensitivity analysis draws only weightings the settings can give: without AHP comparisons
(optional unless the index itself is AHP-weighted) it draws the other four instead of crashing;
with comparisons that cannot weight the fields this wave has, it is refused before any draw, and
the build refuses such settings before running a page (exit 2, nothing written)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from analysis import paths
from analysis.estimation.index import IndexConfigError
from analysis.estimation.sensitivity import check_constructions, run_sensitivity, weightings
from analysis.estimation.study import build_study
from analysis.settings.options import WEIGHTINGS
from tests.conftest import shared


@pytest.fixture(scope=shared)
def replica():  # type: ignore[no-untyped-def]
    return build_study("2020-replica")


def _cyclic(k: int) -> tuple[tuple[float, ...], ...]:
    """Positive reciprocal comparisons going round in a circle (1 ≫ 2 ≫ 3 ≫ 1): CR far above 0.10."""
    m = np.ones((k, k))
    for i, j in ((0, 1), (1, 2), (2, 0)):
        m[i, j], m[j, i] = 9.0, 1 / 9.0
    return tuple(tuple(r) for r in m)


def _with(study, **changes):  # type: ignore[no-untyped-def]
    return study.with_construction(dataclasses.replace(study.construction, **changes))


def test_without_ahp_comparisons_the_draws_take_the_other_weightings(replica):
    """No ahp block: the draws take equal, expert, entropy and PCA weights, none of them AHP."""
    st = _with(replica, ahp_matrix=(), ahp_order=())
    assert weightings(st.construction) == tuple(w for w in WEIGHTINGS if w != "ahp")
    check_constructions(st)                                   # nothing to refuse
    res = run_sensitivity(st, draws=70, seed=3)
    assert set(res.draws["weighting"]) == set(WEIGHTINGS) - {"ahp"}
    assert np.isfinite(res.regions.to_numpy()).all()


def test_with_ahp_comparisons_every_weighting_is_drawn_as_before(replica):
    """The settings' comparisons: all five weightings, AHP among them."""
    assert weightings(replica.construction) == tuple(WEIGHTINGS)
    res = run_sensitivity(replica, draws=70, seed=3)
    assert set(res.draws["weighting"]) == set(WEIGHTINGS)


def test_comparisons_that_cannot_weight_the_fields_are_refused_before_any_draw(replica):
    """check_constructions raises the index's own error (the consistency ratio), as the draws would."""
    fields = list(replica.construction.ahp_order) or list(replica.codebook.fields)
    st = _with(replica, weighting="equal", ahp_matrix=_cyclic(len(fields)), ahp_order=tuple(fields))
    with pytest.raises(IndexConfigError, match="inconsistent"):
        check_constructions(st)
    with pytest.raises(IndexConfigError, match="inconsistent"):
        run_sensitivity(st, draws=14, seed=1)


def test_the_build_refuses_such_settings_before_any_page_runs(tmp_path, monkeypatch, capsys, replica):
    """build_book: exit 2 naming the wave, no report folder, no temporary folder left behind."""
    from analysis.estimation import study as study_module
    from analysis.report.build import build_book

    fields = list(replica.construction.ahp_order) or list(replica.codebook.fields)
    bad = _with(replica, weighting="equal", ahp_matrix=_cyclic(len(fields)), ahp_order=tuple(fields))
    monkeypatch.setattr(study_module, "build_study", lambda *a, **k: bad)
    before = set(paths.BUILD.glob(".tmp-*")) if paths.BUILD.exists() else set()
    code = build_book(paths.DEFAULT_WAVE, tmp_path / "out", pdf=False, cache_root=tmp_path / "cache")
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "inconsistent" in err and "do not fit wave 2020-replica; nothing was built" in err
    assert not (tmp_path / "out").exists()
    assert (set(paths.BUILD.glob(".tmp-*")) if paths.BUILD.exists() else set()) == before


def test_comparisons_of_the_fields_a_wave_has_are_checked_among_those_fields(tmp_path):
    """A wave without the culture-and-sports items, and comparisons of its four fields only: the
    check weights those four (a check over every field of the codebook would refuse the order)."""
    from tests import wavegen

    def no_culture(v):  # type: ignore[no-untyped-def]
        return v.drop(columns=[c for c in v.columns if c.startswith("cs_")])

    folder = wavegen.replica_copy(tmp_path / "no-culture", villagers=no_culture)
    st = build_study(folder)
    four = ("education", "health", "social_security", "employment_training")
    check_constructions(_with(st, weighting="equal", ahp_order=four, ahp_matrix=tuple((1.0,) * 4 for _ in four)))
    with pytest.raises(IndexConfigError, match="inconsistent"):
        check_constructions(_with(st, weighting="equal", ahp_order=four, ahp_matrix=_cyclic(4)))
