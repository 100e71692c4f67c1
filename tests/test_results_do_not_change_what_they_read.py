"""A computation leaves what it reads as it was: fitting the models leaves the study's index
scores (their column names) alone, a summary of the sensitivity run leaves its draws alone; and
a warning quotes a weight with the digits of the file."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.ingest.validate import validate_wave


def test_fitting_the_models_leaves_the_study_s_scores_and_their_levels_as_they_were():
    """A score column named as a villager column (a field, "education") is renamed in the model's
    frame, not in the study: the degree of that level is the same before and after."""
    from analysis.estimation.study import build_study
    from analysis.estimation.suite import fit_models

    st = build_study()
    cols = list(st.index.scores.columns)
    clash = [c for c in cols if c in st.villagers.columns]
    assert clash                                                     # the premise: a clash to rename
    before = st.degree(level=clash[0]).estimate[0]
    fit_models(st, names=["wls_region"])
    assert list(st.index.scores.columns) == cols
    assert st.degree(level=clash[0]).estimate[0] == before


def test_a_summary_of_the_sensitivity_run_leaves_its_draws_as_they_were():
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study

    s = run_sensitivity(build_study(), draws=70, seed=1)
    regions = s.regions.copy()
    assert s.has_gap                                                 # the premise: a gap is added
    first = s.region_summary()
    pd.testing.assert_frame_equal(s.regions, regions)
    pd.testing.assert_frame_equal(s.region_summary(), first)        # the same the second time


def test_an_outlying_weight_is_quoted_with_the_digits_of_the_file(small_villagers, make_wave):
    v = small_villagers.copy()
    v["weight"] = "20000"
    v.loc[3, "weight"] = "790884.624"           # 40 times its stratum's median, not dominant
    share = 790884.624 / (20000 * (len(v) - 1) + 790884.624)
    assert share < 0.5                                               # the premise
    report, _ = validate_wave(make_wave(v))
    flagged = [w for w in report.warnings if w.rule == "no dominant weight"]
    assert len(flagged) == 1 and "weight 790884.624 is 40 times the median weight" in flagged[0].message
    assert float(np.float32(790884.624)) != 790884.624               # (float32 would say .625)
