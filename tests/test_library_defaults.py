"""What library defaults would change: the replica's committed bytes (ties in a sort), a survey panel's
gaps (rows dropped only when all is missing), missing clusters made a group, fractional ids cut."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from tests.conftest import DEFAULT

runner = CliRunner()


def _has_avx512() -> bool:
    """Whether numpy dispatches to its AVX-512 (Skylake-X) kernels on this CPU."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:                                              # pragma: no cover
        return False
    return bool(__cpu_features__.get("AVX512_SKX"))


@pytest.mark.skipif(not _has_avx512(), reason="the committed replica was written where numpy has AVX-512; "
                    "elsewhere exp, log and sorting differ in the last bit (see test_replica.py)")
def test_the_replica_command_with_the_default_seed_writes_the_committed_files_byte_for_byte(tmp_path):
    """`ruralgov replica` with its default seed regenerates the committed wave's files, identical bytes."""
    out = tmp_path / "2020-replica"                       # a wave's folder is named by its id
    res = runner.invoke(app, ["replica", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("villagers.csv", "institutions.csv", "wave.yml"):
        new, old = (out / name).read_bytes(), (DEFAULT / name).read_bytes()
        assert hashlib.sha256(new).hexdigest() == hashlib.sha256(old).hexdigest(), name
        assert f"sha256 {hashlib.sha256(old).hexdigest()[:12]}" in " ".join(res.output.split()), name


def _panel(gap: tuple[str, int, str] | None) -> pd.DataFrame:
    """Five provinces surveyed in 2020 and 2022 (P0 … P4) and five of one wave each; ``gap``: a
    (province, wave, variable) left without a mean."""
    rng = np.random.default_rng(11)
    waves = {2020: [f"P{i}" for i in range(5)] + ["A0", "A1", "A2"],
             2022: [f"P{i}" for i in range(5)] + ["B0", "B1"]}
    rows = [{"province": p, "wave": w, "overall": rng.normal(50, 5), "internet_use": rng.uniform(),
             "education": rng.uniform(2, 4), "log_income": rng.normal(10, 1), "n": 30}
            for w, provs in waves.items() for p in provs]
    panel = pd.DataFrame(rows).set_index(["province", "wave"]).sort_index()
    if gap is not None:
        panel.loc[(gap[0], gap[1]), gap[2]] = np.nan
    return panel


@pytest.mark.parametrize("variable", ["internet_use", "overall"])
def test_a_province_wave_missing_one_variable_no_longer_counts_that_province_as_surveyed_twice(variable):
    """A province-wave lacking the mean of y or of one regressor is left out: 5 shared provinces become 4."""
    from analysis.estimation.panel import PanelNotEstimable, survey_panel_models

    out = survey_panel_models(_panel(None))                  # 5 shared provinces: K + 2 = 5, fitted
    assert np.isfinite(out["coefficients"]["estimate"]).all()
    with pytest.raises(PanelNotEstimable, match="these waves share 4$") as e:
        survey_panel_models(_panel(("P4", 2022, variable)))
    assert (e.value.shared, e.value.need) == (4, 5)


def test_a_province_wave_missing_a_variable_the_models_do_not_use_stays_in_the_panel():
    """Fitted on two regressors, a panel whose third covariate is missing in one province-wave keeps
    that province-wave: its five shared provinces (K + 2 = 4 needed) are all fitted."""
    from analysis.estimation.panel import survey_panel_models

    x = ("internet_use", "education")
    full = survey_panel_models(_panel(None), x=x)["coefficients"]
    gap = survey_panel_models(_panel(("P4", 2022, "log_income")), x=x)["coefficients"]
    pd.testing.assert_frame_equal(gap, full)


@pytest.mark.parametrize("how", ["carried-forward", "same-shift-everywhere"])
def test_a_covariate_the_fixed_effects_absorb_is_left_out_named_and_the_others_fitted(how):
    """A follow-up carrying education forward from the baseline (the same province means), or
    raising it by the same amount in every province (a year effect): education is named as
    absorbed and the models are fitted on the other two covariates, as the panel without it is."""
    from analysis.estimation.panel import absorbed_covariates, survey_panel_models
    from analysis.report.pages import compare

    panel = _panel(None)
    shared = [f"P{i}" for i in range(5)]
    shift = 0.0 if how == "carried-forward" else 0.5
    for p in shared:
        panel.loc[(p, 2022), "education"] = panel.loc[(p, 2020), "education"] + shift
    panel = panel.loc[[i for i in panel.index if i[0] in shared]]     # the shared provinces alone
    assert absorbed_covariates(panel, ("internet_use", "education", "log_income")) == ("education",)
    out = survey_panel_models(panel)
    assert out["absorbed"] == ("education",)
    assert set(out["coefficients"]["term"]) == {"internet_use", "log_income"}
    alone = survey_panel_models(panel, x=("internet_use", "log_income"))
    pd.testing.assert_frame_equal(out["coefficients"], alone["coefficients"])
    assert alone["absorbed"] == ()
    assert compare.absorbed_note(out).startswith("In the provinces these waves share, education changes only")
    assert compare.absorbed_note(alone) == ""


def test_what_the_fixed_effects_absorb_does_not_depend_on_a_covariate_s_units_or_origin():
    """A covariate in millionths, or moved by a thousand: the same covariates absorbed (the test is
    relative to its variation about its mean), on a panel where education is carried forward."""
    from analysis.estimation.panel import absorbed_covariates

    panel = _panel(None)
    for p in [f"P{i}" for i in range(5)]:
        panel.loc[(p, 2022), "education"] = panel.loc[(p, 2020), "education"]
    x = ("internet_use", "education", "log_income")
    assert absorbed_covariates(panel, x) == ("education",)
    for scale, shift in ((1e-6, 0.0), (1.0, 1e3), (1e-6, 1e3)):
        moved = panel.assign(**{c: panel[c] * scale + shift for c in x})
        assert absorbed_covariates(moved, x) == ("education",), (scale, shift)
    # a covariate that is the same everywhere, at any level (zero too), is absorbed as well
    for level in (0.0, 0.3, 1e3):
        constant = panel.assign(internet_use=level)
        assert absorbed_covariates(constant, x) == ("internet_use", "education"), level


def test_a_missing_cluster_or_fixed_effect_value_is_refused_naming_it_not_made_a_group():
    """group_codes gives no group to a missing value: ValueError naming the column and the count of rows."""
    from analysis.estimation.regression import absorbed_ols, group_codes

    codes, groups = group_codes(np.array(["a", "b", "b", "a"], dtype=object), "the cluster")
    assert codes.tolist() == [0, 1, 1, 0] and list(groups) == ["a", "b"]
    said = r"^the cluster is missing in 1 row\(s\); leave those rows out first$"
    with pytest.raises(ValueError, match=said):
        group_codes(np.array(["a", None, "b", "a"], dtype=object), "the cluster")
    with pytest.raises(ValueError, match=r"^the fixed effect is missing in 2 row\(s\)"):
        group_codes(np.array([1.0, np.nan, 2.0, np.nan]), "the fixed effect")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 1))
    y = x[:, 0] + rng.normal(size=12)
    fe = np.repeat([0, 1, 2], 4)
    cluster = np.array(["c1", "c2", "c3", "c4"] * 3, dtype=object)
    assert absorbed_ols(y, x, fe=fe, cluster=cluster)["clusters"] == 4
    cluster[5] = None                                      # a blank cluster: refused, not a fifth cluster
    with pytest.raises(ValueError, match=r"^the cluster is missing in 1 row\(s\)"):
        absorbed_ols(y, x, fe=fe, cluster=cluster)


def test_fractional_ids_and_psus_of_a_binary_file_stay_apart_and_whole_ones_lose_their_point(
        small_villagers, make_wave):
    """A float id 12.5 is '12.5', not '12' (so 12.5 and 12.7 are two respondents), 3101001.0 is '3101001';
    PSUs 31.25 and 31.75 are two villages, not one."""
    from analysis.ingest.validate import validate_wave

    v = small_villagers.astype({"resp_id": float, "village_id": float})
    v.loc[[0, 1], "resp_id"] = [12.5, 12.7]
    sh = v["province"] == "上海"
    first_two = sorted(v.loc[sh, "village_id"].unique())[:2]              # Shanghai's villages 3101, 3102
    v.loc[sh, "village_id"] = v.loc[sh, "village_id"].replace({first_two[0]: 31.25, first_two[1]: 31.75})
    folder = make_wave(v.to_parquet(index=False), file="villagers.parquet")
    report, clean = validate_wave(folder)
    assert not [e for e in report.errors if e.rule == "unique id"], report.errors
    ids = clean["villagers"]["resp_id"]
    assert ids.iloc[:3].tolist() == ["12.5", "12.7", str(int(v.loc[2, "resp_id"]))]
    assert ids.nunique() == len(v)
    psus = clean["villagers"].loc[sh.to_numpy(), "village_id"]
    assert sorted(psus.unique()) == ["31.25", "31.75", "3103"]
