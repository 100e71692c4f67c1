"""The calibrated replica: deterministic, valid, and reproducing every published figure."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from analysis.cli import app
from analysis import replica
from analysis.replica import N_VILLAGERS, SURVEYED, write_wave
from analysis.estimation.reproduce import reproduce
from analysis.estimation.study import build_study
from tests.conftest import DEFAULT, tree_hashes

runner = CliRunner()


def test_regenerating_with_the_seed_gives_the_same_files_on_one_machine(tmp_path):
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    first = write_wave(tmp_path / "a", seed=spec["generator"]["seed"], wave_id=spec["id"])
    assert write_wave(tmp_path / "b", seed=spec["generator"]["seed"], wave_id=spec["id"]) == first


def test_regenerating_with_the_seed_gives_the_committed_wave_up_to_floating_point(tmp_path):
    """Across machines the generator's bytes are not fixed: numpy computes exp and log with AVX-512
    code where the CPU has it and with the C library elsewhere, which differ in the last bit, and
    the calibration's swaps then pick a few other respondents. Measured on a machine without
    AVX-512 against the committed wave: 66 of 97,440 villager answers differ (pairs swapped
    between respondents), everything else is identical. So: the files that hold no calibrated
    answer, the design and the respondents' characteristics byte for byte; at most 0.5 % of the
    answers; and the regenerated wave reproduces every published figure, as the committed one."""
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    out = tmp_path / spec["id"]                                  # a wave's folder is named by its id
    hashes = write_wave(out, seed=spec["generator"]["seed"], wave_id=spec["id"])
    for name in ("wave.yml", "institutions.csv"):
        assert hashes[name] == hashlib.sha256((DEFAULT / name).read_bytes()).hexdigest(), name
    new, old = (pd.read_csv(f / "villagers.csv", keep_default_na=False, dtype=str) for f in (out, DEFAULT))
    assert list(new.columns) == list(old.columns) and len(new) == len(old)
    fixed = list(old.columns[:old.columns.get_loc("village_meeting") + 1])     # design and characteristics
    pd.testing.assert_frame_equal(new[fixed], old[fixed])
    assert (new != old).to_numpy().sum() <= 0.005 * new.size
    # satisfaction, availability and accessibility: drawn after the calibration from the calibrated
    # scores, nothing swapped; a few answers at most may flip on a cut across machines
    drawn_after = [f"{p}_{s}" for p in ("edu", "hlt", "ss", "et", "cs") for s in ("sat", "avail", "access")]
    changed = (new[drawn_after] != old[drawn_after]).sum()
    assert (changed <= 0.005 * len(new)).all(), changed[changed > 0.005 * len(new)]
    tab = reproduce(build_study(out))
    bad = tab[tab["within_rounding"].eq(False)]
    assert bad.empty, bad[["key", "published", "reproduced"]]


def test_a_replica_of_another_seed_records_that_seed_and_is_another_sample(tmp_path):
    hashes = write_wave(tmp_path / "w", seed=1, wave_id="w")
    spec = yaml.safe_load((tmp_path / "w" / "wave.yml").read_text(encoding="utf-8"))
    assert spec["generator"]["seed"] == 1 and spec["generator"]["module"] == "analysis.replica"
    assert hashes["villagers.csv"] != hashlib.sha256((DEFAULT / "villagers.csv").read_bytes()).hexdigest()
    new, old = (pd.read_csv(f / "villagers.csv", keep_default_na=False, dtype=str)
                for f in (tmp_path / "w", DEFAULT))
    fixed = list(old.columns[:old.columns.get_loc("village_meeting") + 1])   # the same bytes on every machine
    assert not new[fixed].equals(old[fixed])                                  # for the same seed
    # its calibration log holds plain numbers (as the README prints them), no numpy scalars
    [log] = [line for line in (tmp_path / "w" / "README.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("Calibration log: ")]
    assert "np." not in log and re.search(r"'east_weight_factor': 0\.\d{1,6}\}$", log), log


def test_a_replica_s_readme_and_wave_yml_say_how_it_was_written_and_its_command_writes_it_again(tmp_path):
    """Another seed, size and no calibration: wave.yml records all three, the title and the README
    say the wave is not calibrated (not that it reproduces the figures within their rounding), the
    README counts its villagers, and its regenerate command, run as written, writes the same bytes."""
    import shlex

    hashes = write_wave(tmp_path / "w", seed=7, n=600, calibrate=False, wave_id="w")
    spec = yaml.safe_load((tmp_path / "w" / "wave.yml").read_text(encoding="utf-8"))
    assert spec["generator"] | {"version": None} == {"module": "analysis.replica", "version": None, "seed": 7,
                                                    "n": 600, "calibrated": False}
    assert spec["title"].startswith("Uncalibrated synthetic replica") and "not calibrated" in spec["source"]
    readme = (tmp_path / "w" / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Wave `w`: an uncalibrated synthetic replica")
    assert "within their printed rounding" not in readme and "`villagers.csv`: 600 villagers" in readme
    command = readme.split("- Regenerate: `", 1)[1].split("`", 1)[0]
    assert command == "ruralgov replica --seed 7 --n 600 --no-calibrate --out data/waves/w"
    args = shlex.split(command)[1:]
    args[args.index("--out") + 1] = str(tmp_path / "again" / "w")
    assert runner.invoke(app, args).exit_code == 0
    assert tree_hashes(tmp_path / "again" / "w") == tree_hashes(tmp_path / "w") and len(hashes) == 4
    default = (DEFAULT / "README.md").read_text(encoding="utf-8")
    assert "- Regenerate: `ruralgov replica --seed 20200601 --out data/waves/2020-replica`" in default


@pytest.mark.parametrize("case, replica", [("replica", True), ("another generator", False),
                                           ("no generator", False), ("an extra file", False)])
def test_only_a_folder_the_replica_wrote_counts_as_one_and_may_be_overwritten(tmp_path, case, replica):
    """A wave folder with the replica's four file names is a replica only if its wave.yml says
    the replica generated it, and holds nothing else: a real wave is never overwritten."""
    from analysis.replica import is_replica_folder

    folder = tmp_path / "w"
    write_wave(folder, seed=1, wave_id="w")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    if case == "another generator":
        spec["generator"]["module"] = "fieldwork.export"
    elif case == "no generator":
        del spec["generator"]
    elif case == "an extra file":
        (folder / "notes.txt").write_text("field notes", encoding="utf-8")
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert is_replica_folder(folder) is replica
    before = tree_hashes(folder)
    res = CliRunner().invoke(app, ["replica", "--out", str(folder), "--seed", "2"])
    assert res.exit_code == (0 if replica else 2), res.output
    if not replica:
        assert "is not an earlier replica wave" in " ".join(res.output.split())
        assert tree_hashes(folder) == before
    else:                                     # overwritten whole: every file is the new seed's
        assert tree_hashes(folder) != before
        assert yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))["generator"]["seed"] == 2
        assert tree_hashes(folder) == tree_hashes(_written(tmp_path / "fresh" / "w", seed=2))


def _written(folder, **kw):  # type: ignore[no-untyped-def]
    write_wave(folder, wave_id=folder.name, **kw)
    return folder


def test_the_replica_command_writes_into_an_empty_folder_named_by_its_id(tmp_path):
    """An existing empty folder is no earlier wave to protect: the replica is written into it."""
    out = tmp_path / "2024-replica"
    out.mkdir()
    res = CliRunner().invoke(app, ["replica", "--out", str(out), "--n", "440", "--no-calibrate"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "institutions.csv", "villagers.csv",
                                                    "wave.yml"]


def test_the_replica_command_generates_with_the_seed_it_is_given(tmp_path):
    """`ruralgov replica --seed` reaches the generator: the wave records that seed, and two seeds
    give two different samples."""
    files = {}
    for seed in (7, 8):
        out = tmp_path / f"seed-{seed}"
        res = CliRunner().invoke(app, ["replica", "--out", str(out), "--n", "440", "--no-calibrate",
                                       "--seed", str(seed)])
        assert res.exit_code == 0, res.output
        spec = yaml.safe_load((out / "wave.yml").read_text(encoding="utf-8"))
        assert spec["generator"]["seed"] == seed
        files[seed] = (out / "villagers.csv").read_bytes()
    assert files[7] != files[8]


def test_the_replica_says_it_is_synthetic():
    spec = yaml.safe_load((DEFAULT / "wave.yml").read_text(encoding="utf-8"))
    assert spec["synthetic"] is True
    assert "NOT the original data" in spec["title"]
    assert "not the original survey data" in (DEFAULT / "README.md").read_text(encoding="utf-8").lower()


def test_design_features(default_frames):
    v = default_frames["villagers"]
    assert len(v) == N_VILLAGERS
    assert v["province"].nunique() == 22 and {"上海", "西藏"} <= set(v["province"])
    assert sum(len(x) for x in SURVEYED.values()) == 22
    assert (v.groupby("province")["village_id"].nunique() >= 2).all()   # no lonely PSU
    assert len(default_frames["institutions"]) == 33
    # some item non-response, as in a real wave
    assert (v["edu_org"].isin(["8", "9"])).any() and (v["hp_far"] == "").any()


def test_reproduction_from_the_committed_files():
    tab = reproduce(build_study("2020-replica"))
    comparable = tab[tab["within_rounding"].notna()]
    assert len(comparable) == len(tab) - 1            # all but the urban comparison
    bad = comparable[~comparable["within_rounding"].astype(bool)]
    assert bad.empty, bad[["key", "published", "reproduced"]]
    not_survey = tab[tab["statistic"] == "not_from_survey"]
    assert list(not_survey["key"]) == ["other_survey_figures.rural_teachers_bachelor_gap_vs_urban_pp"]


def test_reproduce_cli_json_and_exit_code():
    res = runner.invoke(app, ["reproduce", "2020-replica", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    overall = next(r for r in rows if r["key"] == "modernization_degree.overall")
    assert round(overall["reproduced"], 2) == 50.96 and overall["se"] > 0
    # a machine reader gets what says whether and how a figure compares, not the table's columns only
    assert {"label", "decimals", "compare", "statistic", "note"} <= set(overall)
    assert any(r["statistic"] == "not_from_survey" and r["note"] for r in rows)


def test_reproduce_exits_1_when_a_figure_is_outside(make_wave, default_frames):
    v = default_frames["villagers"].copy()
    v["hp_far"] = v["hp_far"].replace("1", "0")     # nobody finds the doctor too far now
    folder = make_wave(v, institutions=default_frames["institutions"], spec={"reproduces_seed": True})
    res = runner.invoke(app, ["reproduce", str(folder)])
    assert res.exit_code == 1
    assert "too_far_from_home" in res.output


def test_reproduce_refuses_a_wave_that_is_not_the_seed_study(make_wave, default_frames):
    folder = make_wave(default_frames["villagers"], institutions=default_frames["institutions"])
    res = runner.invoke(app, ["reproduce", str(folder)])
    assert res.exit_code == 2
    assert "does not reproduce the seed study" in res.output


@pytest.mark.slow
def test_uncalibrated_replica_follows_the_documented_model():
    """Without calibration the score is the latent model: OLS recovers the true coefficients."""
    import statsmodels.api as sm

    from analysis.estimation.index import IndexConfig, build_index
    from analysis.replica import TRUE_COEFFICIENTS, generate

    r = generate(seed=7, n=20000, calibrate=False)
    v = r["villagers"]
    items = [c for c in v.columns if c.endswith(("_org", "_sys", "_means", "_concept"))]
    s = build_index(v[items].mask(v[items] > 5), IndexConfig()).scores["overall"]
    X = v[["internet_use", "education", "hh_income", "distance_km", "participation"]].copy()
    X["hh_income"] = np.log(X["hh_income"])
    X = sm.add_constant(X.join(v["province"].astype(str).str.get_dummies(), how="left").astype(float)
                        .drop(columns=["上海"]))
    ok = s.notna()
    fit = sm.OLS(s[ok], X[ok]).fit(cov_type="cluster", cov_kwds={"groups": v.loc[ok, "village_id"]})
    truth = dict(TRUE_COEFFICIENTS)
    truth["hh_income"] = truth.pop("log_income")
    ci = fit.conf_int()
    for k, b in truth.items():
        assert ci.loc[k, 0] <= b <= ci.loc[k, 1], (k, b, ci.loc[k].tolist())
    # its shares follow the published ones without calibration (within 2 points on 20,000 respondents)
    from analysis.settings import load_settings

    st, w = load_settings(), v["weight"].to_numpy()
    for f in (f for f in st.reproduction.figures if f.statistic == "proportion"):
        x = v[f.item].to_numpy()
        ok = np.isin(x, [0, 1])
        share = 100 * np.sum(w[ok] * (x[ok] == f.value)) / np.sum(w[ok])
        target = st.published_value(f.key)
        assert share < target if f.compare == "below" else abs(share - target) < 2, (f.key, share, target)
    # the village effects: the residuals' village means vary by the documented u_v ~ N(0, 3²) plus
    # the sampling variance of a mean of ~20 residuals (7.7 measured: the index scales the latent
    # score a little), not by 9² (a standard deviation of 9)
    res, village = fit.resid, v.loc[ok, "village_id"]
    means = res.groupby(village)
    between = means.mean().var() - means.var().mean() / means.size().mean()
    assert 9 / 2 < between < 9 * 2, between
    # and its villages hold about 20 respondents each in a province this large (benchmark waves)
    per = v.groupby("province")["village_id"].agg(["size", "nunique"])
    assert (per["size"] >= 200).all() and (per["size"] / per["nunique"]).between(20, 21).all()


def test_table_1_prevalences_with_logit_intervals_computed_by_hand():
    """Table 1 with uncertainty, against a computation from first principles: the villager items
    as weighted shares of those who answered, with the linearised SE of a ratio over the PSUs
    within provinces (n_h/(n_h − 1) Σ (z − z̄_h)²) and the logit interval on the design's df; the
    institution records as a simple random sample (SE √(p(1 − p)/(n − 1)))."""
    from scipy import stats

    from analysis.estimation.reproduce import table1

    study = build_study("2020-replica")
    t = table1(study).set_index("item")
    v, inst = study.villagers, study.wave.institutions
    df = v["village_id"].nunique() - v["province"].nunique()
    q = stats.t.ppf(0.975, df)
    for item in [i for i in t.index if i in v]:
        y = v[item].to_numpy(float)
        ok = ~np.isnan(y)
        w = v["weight"].to_numpy(float) * ok
        p = np.sum(w * (y == 1)) / w.sum()
        z = pd.Series(w * ((y == 1) - p) / w.sum()).groupby([v["province"], v["village_id"]]).sum()
        var = sum(len(g) / (len(g) - 1) * ((g - g.mean()) ** 2).sum() for _, g in z.groupby(level=0))
        se = np.sqrt(var)
        lo, hi = (1 / (1 + np.exp(-(np.log(p / (1 - p)) + s * q * se / (p * (1 - p))))) for s in (-1, 1))
        row = t.loc[item]
        np.testing.assert_allclose([row.estimate, row.se, row.ci_low, row.ci_high],
                                   [100 * p, 100 * se, 100 * lo, 100 * hi], rtol=1e-10, err_msg=item)
        assert row.n == ok.sum() and row.base == "villagers, design-weighted"
    qi = stats.t.ppf(0.975, len(inst) - 1)
    for item in [i for i in t.index if i in inst]:
        y = inst[item].dropna().to_numpy(float)
        p, n = np.mean(y == 1), len(y)
        se = np.sqrt(p * (1 - p) / (n - 1))
        lo, hi = (1 / (1 + np.exp(-(np.log(p / (1 - p)) + s * qi * se / (p * (1 - p))))) for s in (-1, 1))
        row = t.loc[item]
        np.testing.assert_allclose([row.estimate, row.se, row.ci_low, row.ci_high],
                                   [100 * p, 100 * se, 100 * lo, 100 * hi], rtol=1e-10, err_msg=item)
        assert row.n == n and row.base == "township institutions"
    published = study.settings
    for r in t.itertuples():
        f = [x for x in published.reproduction.figures if x.key.endswith(f".{r.Index}") or x.item == r.Index]
        assert r.published == published.published_value(f[0].key)
    assert len(t) == sum(f.key.startswith("table_1_problems.") for f in published.reproduction.figures)


@pytest.mark.parametrize("n, ok", [(100, False), (200, False), (250, False), (290, True), (400, True),
                                   (440, True)])
def test_a_replica_too_small_for_its_provinces_is_refused_naming_a_size_that_works(tmp_path, n, ok):
    """Each of the replica's provinces needs two villages: where n leaves a province fewer than
    10 respondents the command says so, names an n that always works and writes nothing (it
    used to crash in the generator); where it does not, the wave has n respondents."""
    out = tmp_path / "small"
    res = CliRunner().invoke(app, ["replica", "--out", str(out), "--n", str(n), "--no-calibrate"])
    if ok:
        assert res.exit_code == 0, res.output
        v = pd.read_csv(out / "villagers.csv")
        assert len(v) == n and v.groupby("province")["village_id"].nunique().min() >= 2
    else:
        said = " ".join(res.output.split())                    # the console wraps long lines
        assert res.exit_code == 2 and "too small" in said and "440 or more always works" in said, said
        assert "Traceback" not in res.output and not out.exists()


def test_a_share_no_single_swap_reaches_is_reached_by_swaps_each_closer(monkeypatch):
    """Weights 1, 2, 4, ..., 128, respondents 1 and 2 ticking, a target of 12 (± 0.5): the best
    single swap (1 for 8) leaves 10; a second (2 for 4) reaches 12. Each swap keeps the count and
    takes only the eligible; a target no swaps can reach is refused (one swap allowed, as before,
    12 is out of reach)."""
    w = 2.0 ** np.arange(8)
    sel, elig = w < 3, np.ones(8, bool)
    fixed = replica._swap_fix(sel, elig, w, 12.0, 0.5)
    assert list(w[fixed]) == [4.0, 8.0] and list(w[sel]) == [1.0, 2.0]   # the caller's mask is kept
    assert list(w[replica._swap_fix(sel, elig, w, 10.0, 0.5)]) == [2.0, 8.0]
    elig[3] = False                                  # only 8 reaches 10 and it may not tick
    with pytest.raises(RuntimeError, match="no swap reaches"):
        replica._swap_fix(sel, elig, w, 10.0, 0.5)
    with pytest.raises(RuntimeError, match="no swap reaches"):
        replica._swap_fix(sel, np.ones(8, bool), w, 1000.0, 0.5)
    monkeypatch.setattr(replica, "MAX_SWAPS", 1)
    with pytest.raises(RuntimeError, match="no swap reaches"):
        replica._swap_fix(sel, np.ones(8, bool), w, 12.0, 0.5)
    three = w[:3]                                    # one eligible respondent left outside: 4 for 2
    assert list(three[replica._swap_fix(three < 3, np.ones(3, bool), three, 5.0, 0.5)]) == [1.0, 4.0]


def test_a_replica_of_a_seed_one_swap_could_not_calibrate_reproduces_every_figure(tmp_path):
    """With seed 7 the published share of villagers aware of digital services was out of reach of
    any single swap (the weights span two orders of magnitude); it now reproduces every figure."""
    write_wave(tmp_path / "seven", seed=7, wave_id="seven")
    tab = reproduce(build_study(tmp_path / "seven"))
    comparable = tab[tab["within_rounding"].notna()]
    assert len(comparable) == len(tab) - 1 and comparable["within_rounding"].astype(bool).all()


@pytest.mark.parametrize("seed, n", [(7, 1160), (11, 1160), (3, 5000)])
def test_a_replica_s_degrees_lie_within_the_calibration_s_tolerance_not_just_the_rounding(tmp_path, seed, n):
    """Seeds whose waves hold respondents without an overall score (in the east, in Shanghai): the
    regional degrees lie within the index calibration's stopping tolerance of 0.0015 points, far
    inside the printed rounding, and the overall degree is exact (the east's weights are scaled to
    give it), each computed over the respondents who have a score."""
    write_wave(tmp_path / "w", seed=seed, n=n, wave_id="w")
    tab = reproduce(build_study(tmp_path / "w")).set_index("key")["difference"]
    deg = tab.filter(regex=r"^modernization_degree\.(east|central|west)$")
    assert len(deg) == 3 and (deg.abs() <= 0.0015).all(), deg
    assert abs(tab["modernization_degree.overall"]) < 1e-6


def test_a_replica_whose_calibration_cannot_reach_the_figures_says_what_to_try_and_writes_nothing(tmp_path,
                                                                                                 monkeypatch):
    """When no calibration swap reaches a published share (here none is allowed) the command ends
    with the reason and what to try, not a traceback, and writes nothing."""
    monkeypatch.setattr(replica, "MAX_SWAPS", 0)
    out = tmp_path / "r500"
    res = CliRunner().invoke(app, ["replica", "--out", str(out), "--n", "500", "--seed", "3"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2 and "no swap reaches the target share with n = 500 (seed 3)" in said, said
    assert "--no-calibrate" in said and "Traceback" not in said and not out.exists()
    assert CliRunner().invoke(app, ["replica", "--out", str(out), "--n", "500", "--seed", "3",
                                    "--no-calibrate"]).exit_code == 0


MOVED = {          # a corrected published-figures file: each figure moved, the others as printed
    "modernization_degree.overall": 51.40, "modernization_degree.east": 62.50,
    "modernization_degree.central": 46.20, "modernization_degree.west": 49.00,
    "table_1_problems.health.equipment_outdated": 39.1,
    "table_1_problems.employment_training.few_employment_training_services": 30.4,
    "table_1_problems.employment_training.training_not_customised": 39.9,
    "table_1_problems.education.teachers_lacking_english_music": 57.58,          # 19 of 33
    "table_1_problems.education.no_problem": 15.15,                              # 5 of 33
    "table_1_problems.education.backward_teaching_methods": 9.09,                # 3 of 33
    "other_survey_figures.township_hospitals_online_appointment": 24.24,         # 8 of 33
    "other_survey_figures.rural_primary_teachers_high_school_or_less": 11.6,
    "other_survey_figures.villagers_without_basic_old_age_insurance": 36,
}
REPEATS = {"other_survey_figures.employment_training_not_targeted"}    # the text's repeat, left as printed


def test_the_replica_follows_a_published_figures_file_each_figure_from_its_own_entry(tmp_path, monkeypatch):
    """The replica is calibrated to whatever ``published-figures.yml`` says: with every figure of a
    corrected file moved (Table 1's and the text's shares, counts of 33 institutions, the degrees,
    the teachers' ratio), the regenerated wave reproduces each moved figure and every other, each
    from its own entry; none from a neighbour's entry, the text's repeat of a Table 1 share (left
    as printed here, so that the two differ) or a constant."""
    import copy
    import dataclasses

    from analysis.settings import load_settings

    settings = load_settings()
    pub = copy.deepcopy(settings.published)
    for key, value in MOVED.items():
        *path, last = key.split(".")
        node = pub
        for part in path:
            node = node[part]
        node[last] = {**node[last], "value": value} if isinstance(node[last], dict) else value
    monkeypatch.setattr(replica, "published", lambda: pub)
    write_wave(tmp_path / "moved", wave_id="moved")
    study = build_study(tmp_path / "moved")
    tab = reproduce(dataclasses.replace(study, settings=dataclasses.replace(settings, published=pub)))
    tab = tab.set_index("key")
    assert tab.loc[list(MOVED), "published"].tolist() == list(MOVED.values())
    judged = tab[tab["within_rounding"].notna() & ~tab.index.isin(REPEATS)]
    assert set(MOVED) <= set(judged.index)
    bad = judged[~judged["within_rounding"].astype(bool)]
    assert bad.empty, bad[["published", "reproduced"]]
    assert not tab.loc[list(REPEATS), "within_rounding"].astype(bool).any()     # they do differ


def _weighted_mean(x: np.ndarray, w: np.ndarray, m: np.ndarray) -> float:
    ok = m & ~np.isnan(x)
    return float(np.sum(w[ok] * x[ok]) / np.sum(w[ok]))


def test_every_reproduction_is_its_statistic_computed_by_hand_with_its_difference_and_verdict():
    """Each published figure's reproduction by its definition, from the wave's rows: a degree is
    the design-weighted mean score of its domain, a proportion the weighted share of those who
    answered (in %), a count share the share of the institution records that answered, a ratio
    100 × Σ numerator / Σ denominator over the records with both; then the difference from the
    published value and the verdict of the figure's rule (equal: within half a unit of the last
    printed decimal; at most, once rounded to the printed decimals; below); a Table 1 proportion's
    SE is Table 1's, computed by hand in its own test."""
    from collections import Counter

    from analysis.estimation.reproduce import table1

    study = build_study("2020-replica")
    tab = reproduce(study).set_index("key")
    v, inst = study.villagers, study.wave.institutions
    w = v[study.wave.design_columns["weight"]].to_numpy(float)
    score = study.scores["overall"].to_numpy(float)

    def mask(domain: dict | None) -> np.ndarray:          # no domain: every respondent
        parts = [(v[c] == x).to_numpy() for c, x in (domain or {}).items()]
        return np.logical_and.reduce([np.ones(len(v), bool), *parts])

    t1 = table1(study).set_index("item")
    kinds: Counter = Counter()
    for f in study.settings.reproduction.figures:
        r = tab.loc[f.key]
        if f.statistic == "degree":
            expected = _weighted_mean(score, w, mask(f.domain))
        elif f.statistic == "ratio_of_degrees":
            expected = (_weighted_mean(score, w, mask(f.numerator))
                        / _weighted_mean(score, w, mask(f.denominator)))
        elif f.statistic == "proportion":
            y = v[f.item].to_numpy(float)
            answer = np.where(np.isnan(y), np.nan, y == f.value)
            expected = 100 * _weighted_mean(answer, w, np.ones(len(v), bool))
        elif f.statistic == "count_share":
            answered = inst[f.item].dropna()
            expected = 100 * (answered == f.value).sum() / len(answered)
        elif f.statistic == "ratio":
            both = inst[[f.numerator, f.denominator]].dropna()
            expected = 100 * both[f.numerator].sum() / both[f.denominator].sum()
        else:
            assert np.isnan(r["reproduced"]) and r["within_rounding"] is None, f.key
            continue
        kinds[f.statistic] += 1
        if f.statistic == "proportion" and f.key.startswith("table_1_problems."):
            assert r["se"] == pytest.approx(t1.loc[f.item, "se"], rel=1e-12), f.key     # SE by hand there
        assert r["reproduced"] == pytest.approx(expected, rel=1e-10), f.key
        assert r["difference"] == pytest.approx(expected - r["published"], rel=1e-9, abs=1e-12), f.key
        if f.compare == "equal":
            half_unit = 0.5 * 10.0 ** -f.decimals
            assert r["within_rounding"] == (abs(expected - r["published"]) <= half_unit), f.key
        elif f.compare == "at_most":
            assert r["within_rounding"] == (round(expected, f.decimals) <= r["published"]), f.key
        else:
            assert f.compare == "below" and r["within_rounding"] == (expected < r["published"]), f.key
    assert set(kinds) == {"degree", "ratio_of_degrees", "proportion", "count_share", "ratio"}, kinds


def _reproduce_on(study, figures: list, published: dict,  # type: ignore[no-untyped-def]
                  wave=None) -> pd.DataFrame:
    """``reproduce`` of the study's respondents and design with these figures and published values
    (and another wave's description), by figure key."""
    from types import SimpleNamespace

    settings = SimpleNamespace(reproduction=SimpleNamespace(figures=figures), published_value=published.get)
    return reproduce(SimpleNamespace(wave=wave or study.wave, settings=settings, villagers=study.villagers,
                                     design=study.design, scores=study.scores)).set_index("key")


def test_a_count_share_counts_the_code_its_figure_names():
    """A figure defined on code 0 (township hospitals without online appointment) is the share of
    the records coded 0, computed here by hand, not of those coded 1."""
    import dataclasses

    study = build_study(DEFAULT)
    rep = study.settings.reproduction
    f = next(f for f in rep.figures if f.statistic == "count_share" and f.item == "hosp_online_appt")
    zero = rep.model_copy(update={"figures": (f.model_copy(update={"value": 0}),)})
    settings = dataclasses.replace(study.settings, reproduction=zero)
    tab = reproduce(dataclasses.replace(study, settings=settings))
    y = study.wave.institutions["hosp_online_appt"].dropna().to_numpy()
    assert len(tab) == 1 and tab["reproduced"].iloc[0] == pytest.approx(100 * np.mean(y == 0))
    assert 0 < np.mean(y == 0) != np.mean(y == 1)


def test_reproduce_names_what_a_wave_lacks_and_judges_at_most_on_the_rounded_value():
    """Figures the settings may hold that the default ones do not exercise: a domain of two
    columns (both must hold), a proportion of an item the wave lacks and an institution figure on a
    wave without institutions (statistic "missing", the reason named, no verdict), a figure one
    unit of its last decimal away (not within rounding), and the "at_most" rule, which compares
    the value rounded to the printed decimals."""
    from types import SimpleNamespace

    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    v = study.villagers
    w = v[study.wave.design_columns["weight"]].to_numpy(float)
    score = study.scores["overall"].to_numpy(float)
    two = {"province_en": "Shanghai", "region3": "east"}      # the last alone would be every eastern row
    both = ((v["region3"] == "east") & (v["province_en"] == "Shanghai")).to_numpy()
    east_shanghai = _weighted_mean(score, w, both)
    rounded = round(east_shanghai, 3)
    figures = [Figure(key="two_columns", statistic="degree", domain=two, decimals=3),
               Figure(key="one_unit_off", statistic="degree", domain=two, decimals=3),
               Figure(key="at_most_equal", statistic="degree", domain=two, decimals=3, compare="at_most"),
               Figure(key="at_most_above", statistic="degree", domain=two, decimals=3, compare="at_most"),
               Figure(key="no_item", statistic="proportion", item="not_in_this_wave", decimals=1),
               Figure(key="no_institutions", statistic="count_share", questionnaire="institutions",
                      item="ep_funds", decimals=1)]
    published = {"two_columns": rounded, "one_unit_off": rounded + 0.001, "at_most_equal": rounded,
                 "at_most_above": rounded - 0.001,
                 "no_item": 50.0, "no_institutions": 50.0}
    wave = SimpleNamespace(institutions=None, codebook=study.wave.codebook)
    tab = _reproduce_on(study, figures, published, wave)
    assert tab.loc["two_columns", "reproduced"] == pytest.approx(east_shanghai, rel=1e-10)
    assert tab.loc["two_columns", "within_rounding"] is True
    assert tab.loc["one_unit_off", "within_rounding"] is False      # 0.5 to 1.5 units away
    assert tab.loc["at_most_equal", "within_rounding"] is True      # 0.xyz ≤ 0.xyz
    assert tab.loc["at_most_above", "within_rounding"] is False     # rounded, above the figure
    for key, reason in (("no_item", "item not_in_this_wave is not in the wave"),
                        ("no_institutions", "the wave has no institution questionnaire")):
        row = tab.loc[key]
        assert row["statistic"] == "missing" and str(row["note"]) == reason, key
        assert np.isnan(row["reproduced"]) and np.isnan(row["se"]) and row["within_rounding"] is None, key
    assert tab["published"].to_dict() == published


def test_a_figure_s_domain_on_a_numeric_column_takes_the_rows_of_that_code():
    """The settings write a domain's value as text (``sex: "2"``); on a column coded 1.0/2.0 the
    figure is the mean of the rows coded 2, not a figure over no row (NaN, no verdict)."""
    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    v = study.villagers
    w = v[study.wave.design_columns["weight"]].to_numpy(float)
    score = study.scores["overall"].to_numpy(float)
    women = _weighted_mean(score, w, (v["sex"] == 2).to_numpy())
    figures = [Figure(key="women", statistic="degree", domain={"sex": "2"}, decimals=2),
               Figure(key="women_east", statistic="degree", domain={"sex": "2", "region3": "east"},
                      decimals=2)]
    tab = _reproduce_on(study, figures, {"women": round(women, 2), "women_east": 50.0})
    assert tab.loc["women", "reproduced"] == pytest.approx(women, rel=1e-10)
    assert tab.loc["women", "within_rounding"]                # not None (no rows), not False
    east = _weighted_mean(score, w, ((v["sex"] == 2) & (v["region3"] == "east")).to_numpy())
    assert tab.loc["women_east", "reproduced"] == pytest.approx(east, rel=1e-10)


def test_a_figure_whose_column_the_institution_file_lacks_is_named_missing_not_a_key_error():
    """An institution file without an optional item (a count share's item, a ratio's numerator or
    denominator) is a valid wave: each figure that reads the column is "missing" with the column
    named, the others are still computed."""
    from types import SimpleNamespace

    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    inst = study.wave.institutions
    share = Figure(key="share", statistic="count_share", questionnaire="institutions", item="ep_funds", decimals=1)
    figures = [share, Figure(key="ratio", statistic="ratio", questionnaire="institutions",
                             numerator="school_teachers_hs", denominator="school_teachers", decimals=0),
               Figure(key="ratio_kept", statistic="ratio", questionnaire="institutions",
                      numerator="school_teachers_hs", denominator="school_teachers", decimals=0)]
    published = {"share": 50.0, "ratio": 50.0, "ratio_kept": 50.0}
    whole = _reproduce_on(study, figures, published)
    assert whole["statistic"].tolist() == ["count_share", "ratio", "ratio"]
    lacking = inst.drop(columns=["ep_funds", "school_teachers"])
    figures[2] = Figure(key="ratio_kept", statistic="ratio", questionnaire="institutions",
                        numerator="hosp_doctors_licensed", denominator="hosp_doctors", decimals=0)
    ok = inst[["hosp_doctors_licensed", "hosp_doctors"]].astype(float).dropna()
    tab = _reproduce_on(study, figures, published,
                        SimpleNamespace(institutions=lacking, codebook=study.wave.codebook))
    assert str(tab.loc["share", "note"]) == "item ep_funds is not in the wave"
    assert str(tab.loc["ratio", "note"]) == "item school_teachers is not in the wave"
    assert (tab.loc[["share", "ratio"], "statistic"] == "missing").all()
    assert np.isnan(tab.loc["share", "reproduced"]) and np.isnan(tab.loc["ratio", "reproduced"])
    kept = 100 * ok["hosp_doctors_licensed"].sum() / ok["hosp_doctors"].sum()      # still computed
    assert tab.loc["ratio_kept", "reproduced"] == pytest.approx(kept, rel=1e-12)


def test_reproduce_on_a_wave_without_an_optional_institution_item_names_it(make_wave, default_frames):
    """The command on a valid wave of the seed study lacking an institution item prints that figure
    as missing and exits 0 (nothing reproduced lies outside), with no traceback."""
    inst = default_frames["institutions"].drop(columns=["hosp_online_appt"])
    folder = make_wave(default_frames["villagers"], institutions=inst, spec={"reproduces_seed": True})
    res = runner.invoke(app, ["reproduce", str(folder), "--format", "json"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 0, res.output
    row = next(r for r in json.loads(res.stdout) if r["key"].endswith("township_hospitals_online_appointment"))
    assert row["statistic"] == "missing" and row["note"] == "item hosp_online_appt is not in the wave"


def test_within_rounding_is_half_a_unit_of_the_last_printed_decimal_and_at_most_rounds_first():
    """A published 0.xyz holds every value within half a unit of its last decimal (0.4 of a unit
    away: reproduced; 0.6: not, on either side); "at most" rounds the value to the printed decimals
    before comparing (a value just above the figure that rounds down to it is within); "below"
    does not (a value just under the figure that rounds up to it is below it)."""
    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    v = study.villagers
    east = (v["region3"] == "east").to_numpy()
    rep = _weighted_mean(study.scores["overall"].to_numpy(float),
                         v[study.wave.design_columns["weight"]].to_numpy(float), east)
    down = next(d for d in range(1, 6) if round(rep, d) < rep - 1e-9)   # a precision that rounds it down
    cases = {"four_tenths_above": (3, rep + 0.0004, True), "six_tenths_above": (3, rep + 0.0006, False),
             "six_tenths_below": (3, rep - 0.0006, False), "four_tenths_below": (3, rep - 0.0004, True)}
    figures = [Figure(key=k, statistic="degree", domain={"region3": "east"}, decimals=d)
               for k, (d, _, _) in cases.items()]
    figures.append(Figure(key="at_most_rounded_down", statistic="degree", domain={"region3": "east"},
                          decimals=down, compare="at_most"))
    # "< x" is a strict bound on the value itself: a value just below x that prints as x is below it
    up = next(d for d in range(1, 6) if round(rep, d) > rep + 1e-9)      # a precision that rounds it up
    figures += [Figure(key="below_rounds_up_to_it", statistic="degree", domain={"region3": "east"},
                       decimals=up, compare="below"),
                Figure(key="below_under_it", statistic="degree", domain={"region3": "east"},
                       decimals=up, compare="below")]
    published = {k: p for k, (_, p, _) in cases.items()} | {"at_most_rounded_down": round(rep, down),
                                                         "below_rounds_up_to_it": round(rep, up),
                                                         "below_under_it": round(rep, down)}
    tab = _reproduce_on(study, figures, published)
    assert tab["reproduced"].to_numpy() == pytest.approx(rep, rel=1e-12)
    assert rep > published["at_most_rounded_down"]           # above the figure unrounded, equal as printed
    assert rep < published["below_rounds_up_to_it"]         # below the figure unrounded, equal as printed
    assert tab["within_rounding"].to_dict() == {k: ok for k, (_, _, ok) in cases.items()} | {
        "at_most_rounded_down": True, "below_rounds_up_to_it": True, "below_under_it": False}


def test_table_1_counts_the_figure_s_code_and_leaves_a_row_the_wave_cannot_give_empty(monkeypatch):
    """Table 1 counts the code the figure names (its ``value``: the share answering 0 is 100 minus
    the share answering 1 on a yes/no item), names the field and problem from the codebook, and
    keeps a row without an estimate (n 0) for an institution figure on a wave without
    institutions or an item the wave lacks."""
    from types import SimpleNamespace

    from analysis.estimation.reproduce import table1
    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    cb = study.wave.codebook
    key = "table_1_problems.health.equipment_outdated"
    figures = [Figure(key=key, statistic="proportion", item="hp_equipment", decimals=2),
               Figure(key=key, statistic="proportion", item="hp_equipment", value=0, decimals=2),
               Figure(key="table_1_problems.education.insufficient_funds", statistic="count_share",
                      questionnaire="institutions", item="ep_funds", decimals=2)]
    settings = SimpleNamespace(reproduction=SimpleNamespace(figures=figures), published_value=lambda k: 1.0)
    no_institutions = SimpleNamespace(wave=SimpleNamespace(institutions=None, codebook=cb), settings=settings,
                                      villagers=study.villagers, design=study.design)
    t = table1(no_institutions)
    yes, no, funds = (r for _, r in t.iterrows())
    assert set(study.villagers["hp_equipment"].dropna().unique()) == {0, 1}
    assert no["estimate"] == pytest.approx(100 - yes["estimate"], rel=1e-12) and no["n"] == yes["n"] > 0
    assert yes["problem"] == cb.item("villagers", "hp_equipment").label
    en_name, zh_name = cb.fields["health"][1], cb.fields["health"][0]
    assert yes["field"] == en_name and zh_name != en_name
    monkeypatch.setenv("RURALGOV_LANG", "zh")                 # the Chinese edition names it in Chinese
    assert table1(no_institutions).loc[0, "field"] == zh_name
    monkeypatch.delenv("RURALGOV_LANG")
    empty = funds[["estimate", "se", "ci_low", "ci_high", "df"]].astype(float)
    assert funds["n"] == 0 and np.isnan(empty).all()
    assert yes["df"] == no["df"] == study.design.degf       # answered in every PSU: the design's df
    assert funds["problem"] == cb.item("institutions", "ep_funds").label
    assert funds["base"] == "township institutions" and yes["base"] == "villagers, design-weighted"
    assert list(t.columns) == ["field", "item", "value", "problem", "published", "base", "estimate", "se",
                               "ci_low", "ci_high", "n", "df", "n_psu"]   # an empty row adds no column
    assert yes["n_psu"] == study.villagers[study.wave.design_columns["psu"]].nunique()
    assert np.isnan(funds["n_psu"])
    assert t.set_index("item").loc["hp_equipment", "value"].tolist() == [1, 0]      # the answer counted
    narrower = table1(no_institutions, level=0.9).iloc[0]
    assert yes["ci_low"] < narrower["ci_low"] < narrower["ci_high"] < yes["ci_high"]     # the level is used
    lacking = SimpleNamespace(wave=SimpleNamespace(institutions=study.wave.institutions, codebook=cb),
                              settings=settings, villagers=study.villagers.drop(columns="hp_equipment"),
                              design=study.design)
    t = table1(lacking)
    assert len(t) == 3 and (t.iloc[:2]["n"] == 0).all() and t.iloc[2]["n"] > 0      # the rows after them kept


def test_institution_shares_and_ratios_count_only_the_records_that_answer():
    """A share of institution records is among the records that answered the item; a ratio sums its
    numerator and denominator over the records that give both (a record giving only one of them
    would move one side of the ratio alone). By hand: the share 2 of 3 answers, the ratio
    (10 + 5) / (20 + 10)."""
    from types import SimpleNamespace

    from analysis.settings.schemas import Figure

    study = build_study("2020-replica")
    inst = pd.DataFrame({"ep_funds": [1.0, 0.0, np.nan, 1.0],
                         "school_teachers_hs": [10.0, np.nan, 5.0, np.nan],
                         "school_teachers": [20.0, 30.0, 10.0, np.nan]})
    wave = SimpleNamespace(institutions=inst, codebook=study.wave.codebook)
    figures = [Figure(key="share", statistic="count_share", questionnaire="institutions", item="ep_funds",
                      decimals=1),
               Figure(key="ratio", statistic="ratio", questionnaire="institutions",
                      numerator="school_teachers_hs", denominator="school_teachers", decimals=1)]
    got = _reproduce_on(study, figures, {"share": 66.7, "ratio": 50.0}, wave=wave)
    assert got.loc["share", "reproduced"] == pytest.approx(100 * 2 / 3)
    assert got.loc["ratio", "reproduced"] == pytest.approx(100 * 15 / 30)
    assert got["within_rounding"].tolist() == [True, True]
    assert str(got.loc["share", "note"]).startswith("share of the 3 institution records;")   # not of 4


@pytest.mark.parametrize("fpc", [False, True])
def test_a_reproduced_degree_carries_the_design_se_of_its_domain_s_mean(fpc):
    """The se column of a degree figure is the design-based SE of the mean score in its domain
    (the whole wave, a region), computed here from the study's design by hand of the domain, and
    by domain estimation: a region is a domain of the whole design, not a design of its own
    (with an fpc, here a population of four times the sampled villages of each stratum, a design
    cut to the region and without its fpc would give another SE)."""
    import dataclasses

    from analysis.estimation.design import SurveyDesign

    study = build_study("2020-replica")
    v = study.villagers
    if fpc:
        pop = 4 * v.groupby("province")["village_id"].transform("nunique").to_numpy()
        d = SurveyDesign.from_arrays(v["weight"].to_numpy(), v["province"].to_numpy(),
                                     v["village_id"].to_numpy(), pop)
        study = dataclasses.replace(study, design=d)
    tab = reproduce(study).set_index("key")
    score, region = study.scores["overall"].to_numpy(), v["region3"].to_numpy()
    by_region = study.design.mean(score, by=region).to_frame().set_index("domain")
    for key, m in (("modernization_degree.overall", np.ones(len(score), bool)),
                   ("modernization_degree.east", region == "east")):
        e = study.design.mean(np.where(m, score, np.nan))
        assert tab.loc[key, "se"] == pytest.approx(float(e.se[0]), rel=1e-12) and 0.1 < e.se[0] < 10, key
    assert tab.loc["modernization_degree.east", "se"] == pytest.approx(by_region.loc["east", "se"], rel=1e-12)


@pytest.mark.parametrize("n, said", [
    (100, "n = 100 is too small for the replica's 22 provinces: this draw gives one of them fewer than the 10 "
          "respondents two villages need (any n below 220 does); 440 or more always works"),
    (250, "n = 250 is too small for the replica's 22 provinces: this draw gives one of them fewer than the 10 "
          "respondents two villages need (another seed may not); 440 or more always works"),
])
def test_a_replica_too_small_for_two_villages_a_province_is_refused_without_a_negative_count(tmp_path, n, said):
    """It said "one would get -4 respondents" (and -11 for n = 0, which the command now refuses)."""
    res = CliRunner().invoke(app, ["replica", "--out", str(tmp_path / "w"), "--n", str(n)])
    assert res.exit_code == 2 and said in " ".join(res.output.split())
    assert not re.search(r"-\d+ respondents", res.output)                                # no negative count
    assert not (tmp_path / "w").exists()
    res = CliRunner().invoke(app, ["replica", "--out", str(tmp_path / "w"), "--n", "0"])
    assert res.exit_code == 2 and "--n" in res.output and not (tmp_path / "w").exists()
