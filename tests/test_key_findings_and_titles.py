"""The landing page's key findings and headline sentences, and the index page's province table
title: each number in the words its sentence gives it (points, a standard error of a difference, a
ratio, a count of publishable provinces), and a title that names only the columns the table has."""

from __future__ import annotations

import math

import pytest


class _NoModels:
    """A fitted model suite with no model (the findings then come from the wave only)."""

    def has(self, name: str) -> bool:
        return False

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        raise KeyError(name)


@pytest.fixture(scope="module")
def default_study():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


def _province_finding(study) -> str:  # type: ignore[no-untyped-def]
    """The key finding comparing the publishable provinces."""
    from analysis.report.pages import intro

    lines = intro.key_findings(study, _NoModels(), {}).splitlines()
    return next(line for line in lines if "publishable provinces" in line)


def test_the_key_finding_gives_the_province_spread_in_points_of_the_degree(default_study):
    """The key finding's "difference of X points" is the highest province's degree less the lowest's."""
    from analysis.report.pages import common

    est = common.province_degrees(default_study)["estimate"]
    top, bottom = float(est.max()), float(est.min())
    line = _province_finding(default_study)
    assert f"ranges from {bottom:.1f} " in line and f"to {top:.1f} " in line
    assert f"a difference of {top - bottom:.1f} points" in line, line


def test_the_east_west_gap_sentence_gives_the_standard_error_of_the_difference(default_study):
    """Regions are unions of strata (provinces), so east and west are independent: the gap's SE is
    the square root of the sum of the two variances, not the sum of the two SEs."""
    r = default_study.degree(by="region3").to_frame().set_index("domain")
    se_e, se_w = float(r.loc["east", "se"]), float(r.loc["west", "se"])
    se = math.sqrt(se_e ** 2 + se_w ** 2)
    assert f"{se:.1f}" != f"{se_e + se_w:.1f}"               # the two rules print differently here
    from analysis.report.pages import intro

    s = intro.numbers(default_study)["gap_sentence"]
    gap = float(r.loc["east", "estimate"] - r.loc["west", "estimate"])
    assert s == f"The east–west gap is {gap:.1f} points (standard error {se:.1f}).", s


def test_the_seed_sentence_prints_shanghai_s_degree_over_tibet_s_as_a_ratio(default_study):
    """The seed sentence's "ratio of mean scores" is Shanghai's degree divided by Tibet's."""
    from analysis.report.pages import common, intro

    d = common.province_degrees(default_study).set_index("province")["estimate"]
    ratio = float(d["Shanghai"] / d["Tibet"])
    assert 1 < ratio < 10
    s = intro.numbers(default_study)["seed_sentence"]
    assert f"relative to Tibet, is {ratio:.1f} on this wave (a ratio of mean scores" in s, s


def test_the_province_key_finding_counts_only_the_publishable_provinces(default_study, monkeypatch):
    """With one province withheld, the key finding counts the provinces published, not those surveyed."""
    from tests.conftest import withhold_the_smallest

    n = withhold_the_smallest(monkeypatch, default_study)
    surveyed = default_study.villagers["province"].nunique()
    assert len(n) == surveyed and (n == n.min()).sum() == 1
    line = _province_finding(default_study)
    assert f"among the {surveyed - 1} publishable provinces" in line, line
    assert f"among the {surveyed} publishable" not in line


def test_a_province_table_of_two_rows_without_ranks_is_titled_as_ordered_by_degree(tmp_path, monkeypatch):
    """Two provinces, one withheld: the table has no rank column, so its title names no rank interval."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.estimation.study import build_study
    from analysis.report.pages import index
    from tests import wavegen
    from tests.conftest import withhold_the_smallest

    two = build_study(wavegen.provinces(tmp_path / "two", ["广西", "广东"]))
    withhold_the_smallest(monkeypatch, two)
    t = index.province_table(two, domain_replicates(two, reps=20, seed=1))
    assert len(t) == 2 and t["suppressed"].astype(bool).sum() == 1 and "median_rank" not in t
    assert index.province_table_title(t) == ("Provinces: degree, confidence interval and PSUs, ordered by "
                                             "degree")


class _MainModel:
    """A fitted suite holding only a main model (wls_region) whose tidy table is ``frame``."""

    def __init__(self, frame):  # type: ignore[no-untyped-def]
        self.frame = frame

    def has(self, name: str) -> bool:
        return name == "wls_region"

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        return SimpleNamespace(to_frame=lambda: self.frame)


@pytest.mark.parametrize("smallest, says", [
    (0.0208, "not distinguishable from zero at the 5 % level once adjusted for the 7 characteristics "
             "tested (Holm)"),
    (0.0005, None),                                     # 7 × 0.0005: clear after adjustment
    (0.07, "not distinguishable from zero at the 5 % level;"),   # unadjusted already: no "once adjusted"
    (0.2, "not distinguishable from zero at the 5 % level;")])
def test_the_clearest_association_is_judged_after_holm_s_adjustment_across_the_main_model(
        default_study, smallest, says):
    """The key finding picks the main model's smallest p of 7: it is called distinguishable from
    zero only if Holm's adjustment across the 7 keeps it below 0.05 (p = 0.0208 becomes 0.146)."""
    import pandas as pd

    from analysis.report.pages import intro

    p = [smallest, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9]
    frame = pd.DataFrame({"term": list("abcdefg"), "label": [f"label {t}" for t in "abcdefg"],
                          "estimate": 2.5, "ci_low": 0.5, "ci_high": 4.5, "p": p})
    text = intro.key_findings(default_study, _MainModel(frame), {})
    line = next(x for x in text.splitlines() if "has the clearest association" in x)
    assert "**label a**" in line
    if says is None:
        assert "not distinguishable" not in line and "p < 0.001)" in line      # a bound, not "p = < 0.001"
    else:
        assert says in line
