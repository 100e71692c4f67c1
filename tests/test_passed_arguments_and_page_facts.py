"""Gaps of the fast suite: the model a robustness table refits, the year the σ-convergence ends, the
province named at the top of the GDP range, the institution records counted, the field weights of
an overall score with equal weights on a wave whose fields hold unequal numbers of indicators."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.study import build_study


@pytest.fixture(scope="module")
def study():
    return build_study("2020-replica")


class _NoModels:
    """A fitted model suite with no model (the findings then come from the wave only)."""

    def has(self, name: str) -> bool:
        return False

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        raise KeyError(name)


def test_robustness_refits_the_model_it_is_asked_for_under_every_construction(study):
    """robustness(study, model=M) refits M: every row is M's, its terms M's regressors."""
    from analysis.estimation.suite import robustness

    r = robustness(study, model="wls_province")
    assert len(r) and set(r["model"]) == {"wls_province"}
    regs = list(study.settings.models.get("wls_province").regressors)
    assert r.groupby("construction")["term"].apply(list).map(lambda t: t == regs).all()
    assert r["construction"].nunique() == 8


def test_the_sigma_convergence_ends_in_the_last_year_the_education_share_is_reported(study):
    """The provinces page dates the last σ of the education share by the last year that share has
    data, not by the panel's last year: with the share blanked after 2015, it ends in 2015."""
    from analysis.report.pages import provinces

    p = study.official.copy()
    years = p.index.get_level_values("year")
    assert years.max() > 2015                                            # the premise
    p.loc[years > 2015, "edu_exp_share_pct"] = np.nan
    o = provinces.stats(dataclasses.replace(study, official=p))
    assert o["sigma_edu_last_year"] == 2015
    share = p.xs(2015, level="year")["edu_exp_share_pct"].dropna()
    assert o["sigma_edu_last"] == pytest.approx(float(np.log(share).std(ddof=1)))


def test_the_gdp_key_finding_names_the_richest_province_at_the_top_and_the_poorest_at_the_bottom(
        study, monkeypatch):
    """The official finding on GDP per head names the lowest province after the low figure and the
    highest after the high figure."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import intro

    monkeypatch.setenv(LANG_ENV, "en")
    official = {"beta": -0.02, "beta_p": 0.01, "beta_half_life": 30.0, "beta_se": 0.005, "real_first": 2005,
                "real_last": 2023, "theil_first": 0.1, "theil_last": 0.05, "real_year": 2020,
                "gdppc_top": 160000.0, "gdppc_top_name": "Beijing",
                "gdppc_bottom": 40000.0, "gdppc_bottom_name": "Gansu"}
    kf = intro.key_findings(study, _NoModels(), official).splitlines()
    line = next(x for x in kf if "GDP per head" in x)
    assert "from 40,000 yuan (Gansu) to 160,000 yuan (Beijing), 4.0 times" in line


def test_the_replica_s_facts_table_counts_the_institution_records_not_their_provinces(study, default_frames):
    """The facts table's institution row gives the number of records of institutions.csv (33 on the
    replica, held by fewer provinces)."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import survey

    inst = default_frames["institutions"]
    assert inst["province"].nunique() < len(inst)                        # the premise
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LANG_ENV, "en")
        t = survey.facts_and_assumptions(study).set_index("topic")
    assert t.loc["institution records", "the replica assumes"] == f"{len(inst)} township institution records"


def test_with_equal_weights_the_overall_score_is_the_mean_of_the_field_sub_indices(study):
    """Equal weighting gives each field 1/F of the overall score whatever its number of indicators:
    without edu_org (education keeps 3 of its 4), each of the 5 fields weighs 0.2."""
    from analysis.estimation.index import build_index

    cfg = study.construction
    assert (cfg.weighting, cfg.aggregation) == ("equal", "arithmetic")
    res = build_index(study.villagers.drop(columns="edu_org"), cfg, codebook=study.wave.codebook)
    per_field = pd.Series([study.wave.codebook.item("villagers", i).field
                           for i in res.indicators]).value_counts()
    assert per_field.nunique() > 1                                       # fields of unequal size
    ow = res.weights[res.weights["level"] == "overall"]
    assert list(ow["component"]) == list(res.fields) and len(res.fields) == 5
    np.testing.assert_allclose(ow["weight"], 1 / 5, rtol=1e-12)
    s = res.scores
    full = s[list(res.fields)].notna().all(axis=1)
    assert full.sum() > 100
    np.testing.assert_allclose(s.loc[full, "overall"], s.loc[full, list(res.fields)].mean(axis=1), rtol=1e-10)
