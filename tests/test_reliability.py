"""The NCHS presentation standards as the report applies them, on cases worked by hand at each rule's
threshold (Parker et al. 2017, Vital Health Stat 2(175); the 30 % relative SE rule for means)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.publishing.disclosure import SUPPRESSED
from analysis.publishing.reliability import (DF_REASON, ESS_REASON, FLAG, NO_CI_REASON, RSE_REASON, flag_means,
                                             nchs_proportion_reason, nchs_proportions)


def test_means_are_flagged_at_a_relative_se_of_30_percent_and_below_8_df():
    df = pd.DataFrame({
        "estimate": [50.0, 50.0, -50.0, 0.0, 50.0, 50.0, 50.0, 5.0, np.nan],
        "se":       [14.99, 15.0, 15.0, 3.0, np.nan, 1.0, 1.0, 2.0, 1.0],
        "df":       [40, 40, 40, 40, 40, 7, 8, 2, np.nan]})
    out = flag_means(df)
    assert out[FLAG].tolist() == ["", RSE_REASON, RSE_REASON, "", "", DF_REASON, "",
                                  f"{RSE_REASON}; {DF_REASON}", ""]
    pd.testing.assert_frame_equal(out.drop(columns=FLAG), df)          # values untouched
    assert "flag" not in df                                            # a copy
    assert flag_means(df.drop(columns="df"))[FLAG].tolist()[5:7] == ["", ""]   # no df column: no df rule
    again = flag_means(out.assign(estimate=[50.0] * 9, se=[1.0] * 9, df=[40] * 9))
    assert again[FLAG].tolist() == out[FLAG].tolist()                  # an earlier flag is kept
    both = flag_means(out.assign(df=[3] * 9))
    assert both[FLAG].iloc[1] == f"{RSE_REASON}; {RSE_REASON}; {DF_REASON}"


def test_proportions_follow_the_nchs_rules_at_their_thresholds():
    rows = [  # estimate, se, ci_low, ci_high, n, df, expected suppression, expected flag
        (50, 5, 40, 60, 400, 40, "", ""),                                   # n_eff 100, width 20
        (50, 10, 35, 65, 400, 40, ESS_REASON, ""),                          # n_eff 25
        (50, 1, 48, 52, 29, 40, ESS_REASON, ""),                            # n_eff = n = 29
        (50, 1, 48, 52, 30, 40, "", ""),                                    # n_eff = n = 30
        (50, 0, 50, 50, 100, 40, "", ""),                                   # SE 0: n_eff = n
        (35, 2, 20, 50, 900, 40, "95 % CI 30 points wide or wider (NCHS)", ""),   # width exactly 30
        (35, 2, 21, 50, 900, 40, "", ""),                                   # width 29
        (35, 2, 20.04, 50, 900, 40, "", ""),                                # width 29.96: not rounded up
        (10, 1, 4, 17.2, 900, 40, "95 % CI wider than 130 % of the estimate (NCHS)", ""),  # 132 %
        (10, 1, 4, 16.8, 900, 40, "", ""),                                  # 128 %
        (2, 0.1, 0.5, 4.5, 5000, 40, "", ""),                               # 200 % but only 4 points wide
        (50, 5, 40, 60, 400, 7, "", DF_REASON),                             # flagged, not suppressed
        (50, 5, 40, 60, 400, 8, "", ""),
        (3, 0.1, 0, 5, 5000, 40, "", ""),                                   # 167 % but exactly 5 points wide
        (10, 0.5, 0, 13, 5000, 40, "", ""),                                 # exactly 130 %
        (0, 0, 0, 6, 500, 40, "", ""),                                      # a zero estimate: no relative width
        (50, np.nan, 20, 60, 400, 40, "", ""),                              # no SE: not judged
        (50, 0, 50, 50, 20, 40, ESS_REASON, ""),                            # SE 0: n_eff = n = 20
    ]
    df = pd.DataFrame(rows, columns=["estimate", "se", "ci_low", "ci_high", "n", "df", "want_sup", "want_flag"])
    out = nchs_proportions(df.drop(columns=["want_sup", "want_flag"]))
    assert out[SUPPRESSED].tolist() == df["want_sup"].tolist()
    assert out[FLAG].tolist() == df["want_flag"].tolist()
    gone = df["want_sup"] != ""
    for c in ("estimate", "se", "ci_low", "ci_high"):
        assert out.loc[gone, c].isna().all()
        pd.testing.assert_series_equal(out.loc[~gone, c], df.loc[~gone, c].astype(float))
    assert out["n"].tolist() == df["n"].tolist()                        # counts stay: they are the reason
    # the same table as fractions (scale 1) takes the same decisions
    frac = df.drop(columns=["want_sup", "want_flag"]).copy()
    frac[["estimate", "se", "ci_low", "ci_high"]] /= 100
    assert nchs_proportions(frac, scale=1.0)[SUPPRESSED].tolist() == out[SUPPRESSED].tolist()
    # one estimate at a time (a region cell of a wide table): the same verdict, None where no SE
    one = [nchs_proportion_reason(r.estimate, r.se, r.ci_low, r.ci_high, r.n) for r in frac.itertuples()]
    assert [x if x is not None else "" for x in one] == df["want_sup"].tolist()
    assert one[16] is None and nchs_proportion_reason(np.nan, 0.1) is None
    assert nchs_proportion_reason(0.5, 0.05) == "" and nchs_proportion_reason(0.5, 0.1) == ESS_REASON  # no CI


def test_a_proportion_whose_design_gives_no_interval_is_withheld_not_published_without_one():
    """A domain with 0 design df has an SE but no CI: the NCHS width rules cannot clear it, so it is
    withheld (and flagged for its df), whatever its effective sample size; a table without CI
    columns is judged by the rules it can apply, as before."""
    df = pd.DataFrame({"estimate": [36.7, 36.7, 50.0], "se": [1e-13, 5.0, 5.0],
                       "ci_low": [np.nan, np.nan, 40.0], "ci_high": [np.nan, 60.0, 60.0],
                       "n": [60, 400, 400], "df": [0, 0, 40]})
    out = nchs_proportions(df)
    assert out[SUPPRESSED].tolist() == [NO_CI_REASON, NO_CI_REASON, ""]
    assert out[FLAG].tolist() == [DF_REASON, DF_REASON, ""]
    assert out["estimate"].iloc[:2].isna().all() and out["estimate"].iloc[2] == 50.0
    assert nchs_proportions(df.drop(columns=["ci_low", "ci_high"]))[SUPPRESSED].tolist() == ["", "", ""]
    # one cell at a time (a region cell): the same verdict once its interval was computed
    assert nchs_proportion_reason(0.367, 1e-15, np.nan, np.nan, 60, computed_ci=True) == NO_CI_REASON
    assert nchs_proportion_reason(0.367, 1e-15, np.nan, np.nan, 60) == ""
    assert nchs_proportion_reason(0.5, 0.05, 0.40, 0.60, 400, computed_ci=True) == ""


def test_a_share_of_0_or_1_on_0_design_df_has_no_interval_either():
    """A domain in one PSU of its stratum (0 design df) whose every answer is 0 (or 1): no
    quantile, so no interval, as for any other share on 0 df (the boundary's point interval
    0–0 was given, and the NCHS rule then saw a width of 0 and published it). On 1 df the
    boundary keeps its point interval."""
    from analysis.estimation.design import SurveyDesign

    d = SurveyDesign.from_arrays(np.ones(8), [0, 0, 0, 0, 1, 1, 1, 1], [1, 1, 2, 2, 3, 3, 4, 4])
    dom = np.array(["a", "a", "a", "a", "b", "b", "a", "a"])
    for y, share in (([0, 1, 0, 1, 0, 0, 1, 0], 0.0), ([0, 1, 0, 1, 1, 1, 1, 0], 1.0),
                     ([0, 1, 0, 1, 1, 0, 1, 0], 0.5)):
        t = d.proportion(np.array(y, float), by=dom).to_frame().set_index("domain")
        assert (t.loc["b", "estimate"], t.loc["b", "df"]) == (share, 0)
        assert np.isnan(t.loc["b", "ci_low"]) and np.isnan(t.loc["b", "ci_high"]), t
    t = d.proportion(np.zeros(8), by=dom).to_frame().set_index("domain")
    assert (t.loc["a", "df"], t.loc["a", "ci_low"], t.loc["a", "ci_high"]) == (1, 0.0, 0.0)
    b = d.proportion(np.array([0, 1, 0, 1, 0, 0, 1, 0], float), by=dom).to_frame().set_index("domain").loc["b"]
    assert nchs_proportion_reason(b["estimate"], b["se"], b["ci_low"], b["ci_high"], 400,
                                  computed_ci=True) == NO_CI_REASON


def test_proportions_keep_an_earlier_suppression_and_flag():
    df = pd.DataFrame({"estimate": [50.0, 50.0], "se": [10.0, 5.0], "ci_low": [35.0, 40.0],
                       "ci_high": [65.0, 60.0], "n": [400, 400], "df": [3, 3],
                       SUPPRESSED: ["fewer than 10 respondents", ""], FLAG: ["", "earlier"]})
    out = nchs_proportions(df)
    assert out[SUPPRESSED].tolist() == ["fewer than 10 respondents", ""]   # its own reason, not the ESS one
    assert out[FLAG].tolist() == ["", f"earlier; {DF_REASON}"]
    assert np.isnan(out["estimate"].iloc[0]) and out["estimate"].iloc[1] == 50.0


def test_proportions_without_some_columns_apply_the_rules_they_can():
    """Without CIs only the effective-sample-size rule applies; without n, n_eff is not capped;
    without an SE (or an estimate) a row is not judged; without df nothing is flagged."""
    full = pd.DataFrame({"estimate": [50.0, 50.0, 50.0], "se": [10.0, 2.0, 0.0], "ci_low": [35.0, 20.0, 50.0],
                         "ci_high": [65.0, 60.0, 50.0], "n": [400, 400, 20], "df": [3, 40, 40]})
    no_ci = nchs_proportions(full.drop(columns=["ci_low", "ci_high"]))
    assert no_ci[SUPPRESSED].tolist() == [ESS_REASON, "", ESS_REASON]
    no_n = nchs_proportions(full.drop(columns="n"))
    assert no_n[SUPPRESSED].tolist() == [ESS_REASON, "95 % CI 30 points wide or wider (NCHS)", ""]
    assert nchs_proportions(full.drop(columns="se"))[SUPPRESSED].tolist() == ["", "", ""]
    assert nchs_proportions(full.drop(columns="estimate"))[SUPPRESSED].tolist() == ["", "", ""]
    assert nchs_proportions(full.drop(columns="df"))[FLAG].tolist() == ["", "", ""]


def test_cell_flags_read_a_missing_reason_as_no_flag_and_keep_only_whole_columns_of_the_table():
    """A cell without a reason (None) has no flag (''), not 'None'; a column the table lacks, or
    whose list is not one entry per row, is left out."""
    from analysis.publishing.reliability import CELL_FLAGS, cell_flags

    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    df.attrs[CELL_FLAGS] = {"a": [None, "fewer than 8 design df"], "b": ["x"], "zz": [None, None]}
    assert cell_flags(df) == {"a": ["", "fewer than 8 design df"]}
