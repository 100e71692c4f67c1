"""Ties, ranks and the order of equal or missing values, as a reader sees them: the median rank of
domains that swap places over an even number of replicates (the mean of the two middle ranks), a
province's rank in its profile counted among the publishable provinces only, the index page's
province table putting withheld provinces (no degree) after the published one, the regression
table listing its terms in the models' order rather than alphabetically, and the validation of an
fpc that reads a stratum's population from its first row. Every expected value is counted by hand
from the small inputs written here."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.results import ModelResult, ModelSet
from analysis.estimation.sensitivity import rank_intervals
from analysis.estimation.study import build_study
from analysis.ingest.validate import validate_wave

DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}


def _three_provinces(make_wave, small_villagers, min_cell: int):  # type: ignore[no-untyped-def]
    """The small wave (Shanghai 46 scored respondents, Henan 53, Tibet 44; 3 villages each) under
    a wave.yml ``min_cell``."""
    return build_study(make_wave(small_villagers, spec={"min_cell": min_cell}))


# ---- median ranks over an even number of replicates ------------------------------------------------


def test_two_domains_that_swap_places_share_the_median_rank_one_and_a_half():
    """Over replicates ranking a and b as (1, 2) and (2, 1), each median rank is (1 + 2) / 2 = 1.5."""
    means = pd.DataFrame({"a": [10.0, 5.0], "b": [5.0, 10.0]})
    got = rank_intervals(means)
    assert got.loc["a", "median_rank"] == 1.5 and got.loc["b", "median_rank"] == 1.5
    # the 2.5 % and 97.5 % points of the ranks {1, 2}, linearly interpolated
    assert got.loc["a", "rank_low"] == pytest.approx(1.025)
    assert got.loc["a", "rank_high"] == pytest.approx(1.975)


def test_the_median_rank_of_four_replicates_is_the_mean_of_the_two_middle_ranks():
    """Ranks 1, 1, 2, 3 over four replicates: median (1 + 2) / 2 = 1.5, not the lower middle 1; a
    tie inside one replicate takes the mean of the ranks it spans."""
    means = pd.DataFrame({"a": [30.0, 30.0, 20.0, 10.0],
                          "b": [20.0, 10.0, 30.0, 30.0],
                          "c": [10.0, 20.0, 10.0, 20.0]})
    # ranks by hand (1 = highest): a 1, 1, 2, 3; b 2, 3, 1, 1; c 3, 2, 3, 2
    got = rank_intervals(means)["median_rank"]
    assert got.to_dict() == {"a": 1.5, "b": 1.5, "c": 2.5}
    tied = rank_intervals(pd.DataFrame({"a": [5.0, 5.0], "b": [5.0, 1.0]}))["median_rank"]
    # a: ranks 1.5 (tied with b) then 1 → median 1.25; b: 1.5 then 2 → 1.75
    assert tied.to_dict() == {"a": 1.25, "b": 1.75}


# ---- a province profile ranks among the publishable provinces only ---------------------------------


def test_a_profile_ranks_its_province_among_the_publishable_provinces_not_the_withheld_one(
        make_wave, small_villagers):
    """Tibet (44 scored respondents) is withheld under min_cell 45; though it scores highest in
    every replicate, Shanghai, above Henan in each, has median rank 1 (1 to 1) among the 2."""
    study = _three_provinces(make_wave, small_villagers, 45)
    from analysis.report.pages import profile

    rep = pd.DataFrame({"Henan": [50.0, 52.0, 48.0, 51.0], "Shanghai": [60.0, 61.0, 59.0, 62.0],
                        "Tibet": [90.0, 91.0, 89.0, 92.0]})
    assert profile.survey_status(study, 540000)["status"] == "suppressed"      # the premise
    assert profile.rank(study, 310000, rep) == {"median_rank": 1.0, "rank_low": 1.0, "rank_high": 1.0,
                                                "n_ranked": 2}
    assert profile.rank(study, 410000, rep)["median_rank"] == 2.0              # Henan below Shanghai
    text = profile.summary_sentence(study, 310000, rep)
    assert ("Among the 2 publishable provinces its median rank is 1, with a 95 % bootstrap interval "
            "from 1 to 1.") in text, text


# ---- the index page's province table puts withheld provinces last --------------------------------


def test_the_province_table_of_a_wave_with_one_publishable_province_puts_the_withheld_ones_last(
        make_wave, small_villagers):
    """Under min_cell 50 only Henan (53 respondents) is published: it is the table's first row,
    Shanghai (46) and Tibet (44), withheld without a degree, come after it."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index

    study = _three_provinces(make_wave, small_villagers, 50)
    t = index.province_table(study, domain_replicates(study, reps=20, seed=1))
    assert len(t) == 3 and "median_rank" not in t.columns               # one province: no ranks
    assert t["province"].iloc[0] == "Henan" and np.isfinite(t["estimate"].iloc[0])
    assert set(t["province"].iloc[1:]) == {"Shanghai", "Tibet"}
    assert t["estimate"].iloc[1:].isna().all() and t["suppressed"].iloc[1:].astype(bool).all()


# ---- the regression table lists terms in the models' order -----------------------------------------


def _result(name: str, est: dict[str, float], labels: dict[str, str]) -> ModelResult:
    terms = list(est)
    return ModelResult(name, name.upper(), "wls", pd.Series(est, dtype=float),
                       pd.DataFrame(np.diag([0.01] * len(terms)), index=terms, columns=terms), 500, None,
                       MappingProxyType({"r2": 0.2}), (), MappingProxyType(labels), MappingProxyType({}),
                       tuple(terms))


def test_the_regression_table_lists_terms_in_the_order_the_models_give_them_not_alphabetically():
    """Rows follow the first model's regressors, then the terms the next model adds, then N and
    R²: Internet use, Age, Education, Women, although "Age" sorts first alphabetically."""
    labels = {"internet": "Internet use", "age": "Age", "edu": "Education", "female": "Women"}
    a = _result("a", {"internet": 0.5, "age": 0.1, "edu": 0.2}, labels)
    b = _result("b", {"internet": 0.4, "female": -0.3, "age": 0.05}, labels)
    ms = ModelSet((a, b), "w1", True)
    t = ms.table()
    assert t.iloc[:, 0].tolist() == ["Internet use", "Age", "Education", "Women", "N", "R²"]
    body = [line.split("&")[0].strip() for line in ms.to_latex().splitlines() if "&" in line]
    assert body == ["", "Internet use", "Age", "Education", "Women", "N", "R²"]


# ---- an fpc below the PSUs sampled is read from the stratum's first row ---------------------------


def test_an_fpc_of_two_on_a_stratum_s_first_row_is_refused_as_below_its_three_psus(small_villagers,
                                                                                     make_wave):
    """Henan has 3 villages sampled; its fpc is 2 on its first row and 60 on the others: both the
    two values in one stratum and the count 2 below the 3 PSUs are refused, on Henan's first row."""
    v = small_villagers.copy()
    n_h = v.groupby("province")["village_id"].nunique()
    assert n_h["河南"] == 3
    v["fpc"] = v["province"].map(n_h + 10).astype(str)
    henan = v.index[v["province"] == "河南"]
    v.loc[henan, "fpc"] = "60"
    v.loc[henan[0], "fpc"] = "2"
    report, _ = validate_wave(make_wave(v, spec={"design": {**DESIGN, "fpc": "fpc"}}))
    first = int(np.flatnonzero((v["province"] == "河南").to_numpy())[0]) + 2       # header is row 1
    got = {(e.row, e.column, e.rule) for e in report.errors}
    assert got == {(first, "fpc", "fpc constant in a stratum"),
                   (first, "fpc", "fpc at least the PSUs sampled")}
    [below] = [e for e in report.errors if e.rule == "fpc at least the PSUs sampled"]
    assert "has 3 PSUs sampled but an fpc of 2:" in below.message


def test_provinces_tied_on_median_rank_are_listed_by_decreasing_degree():
    """Replicates that rank every publishable province alike give them one median rank: the index
    page's table then lists them from the highest degree down (withheld provinces last)."""
    from analysis import paths
    from analysis.report.pages import index

    study = build_study(paths.DEFAULT_WAVE)
    shown = index.published(index.province_degrees(study))["province"].tolist()
    assert len(shown) > 5
    t = index.province_table(study, pd.DataFrame(np.ones((4, len(shown))), columns=shown))
    top = t[t["province"].isin(shown)]
    assert top["median_rank"].nunique() == 1
    est = top["estimate"].to_numpy()
    assert (np.diff(est) <= 0).all() and est[0] > est[-1]
    assert list(t["province"][: len(shown)]) == top["province"].tolist()
