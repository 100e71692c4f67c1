"""The digital-access rows of a wave without an optional item, the order of the profile index's
regions, Table 1's rows of problems not in the wave, a real wave's title escaped, the landing page's
wave kind, the official table of a province whose weight is missing and a survey panel with a
province-wave lacking a covariate."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import paths


@pytest.fixture(scope="module")
def replica():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


# ---- problems page: digital access ----------------------------------------------------------------

def test_digital_access_of_a_wave_without_the_smartphone_item_leaves_that_row_out(replica):
    """A wave without the optional item smartphone: the digital-access table has one row per
    other digital item the wave holds, none for smartphone, instead of failing."""
    from analysis.report.pages import problems
    from tests.conftest import with_villagers

    v = replica.villagers.drop(columns=["smartphone"])
    st = with_villagers(replica, v)
    cb = replica.wave.codebook
    want = [cb.item("villagers", i).label for i in ("hreg_onsite", "hreg_app", "hreg_web", "hreg_phone",
                                                    "digital_aware", "digital_use", "internet_use")]
    assert all(i in v for i in ("hreg_onsite", "internet_use")) and "smartphone" in cb.ids("villagers")
    t = problems.digital_access(st)
    assert t["item"].tolist() == want
    assert cb.item("villagers", "smartphone").label not in set(t["item"])


# ---- profiles: the order of the index ---------------------------------------------------------------

_PROFILE_ORDER = """
import sys
from pathlib import Path
from analysis.report import profiles
docs = profiles.write_profiles(Path(sys.argv[1]))
text = (Path(sys.argv[1]) / "profiles.md").read_text(encoding="utf-8")
heads = [line.split(":")[0] for line in text.splitlines() if line.startswith("**")]
print(docs[1], *heads, sep="|")
"""


@pytest.mark.parametrize("hash_seed", ["1", "2"])
def test_the_profile_index_lists_the_regions_in_alphabetical_order_whatever_the_hash_seed(tmp_path,
                                                                                          hash_seed):
    """write_profiles orders the regions central, east, northeast, west (Anhui's page first after
    the index) under any string-hash seed of the interpreter, not in a set's order."""
    run = subprocess.run([sys.executable, "-c", _PROFILE_ORDER, str(tmp_path / "profiles")],
                         capture_output=True, text=True, cwd=paths.ROOT,
                         env={**os.environ, "PYTHONHASHSEED": hash_seed})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().split("|") == ["profiles/anhui", "**Central**", "**East**", "**Northeast**",
                                             "**West**"]


# ---- problems page: Table 1 -------------------------------------------------------------------------

def test_table1_rows_of_problems_not_in_the_wave_carry_no_disclosure_reason(make_wave, small_villagers):
    """A wave without the institution questionnaire: its problems (n 0, base 'not in this wave')
    are said absent in the base column, with no 'fewer than 10 respondents' in suppressed."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import problems

    st = build_study(str(make_wave(small_villagers)))
    assert st.wave.institutions is None                                   # the premise
    t = problems.table1(st)
    absent = t[t["base"] == problems.NOT_ASKED]
    assert len(absent) and (absent["n"] == 0).all()
    assert absent["suppressed"].tolist() == [""] * len(absent)


# ---- methods page -----------------------------------------------------------------------------------

def test_a_real_wave_s_title_is_escaped_in_the_methods_paragraph(make_wave, small_villagers):
    """A non-synthetic wave titled 'Survey <2024> & co': the paragraph shows the title escaped
    (&lt; &gt; &amp;), never as markup."""
    from analysis.ingest.readers import load_spec
    from analysis.ingest.wave import Wave
    from analysis.report.pages import methods

    spec = load_spec(make_wave(small_villagers, spec={"title": "Survey <2024> & co"}))
    assert spec.synthetic is False                                        # the premise
    text = methods.wave_paragraph(SimpleNamespace(wave=Wave(spec, {}, None, None)))
    assert text == "**The reported wave** `w`: Survey &lt;2024&gt; &amp; co."


# ---- landing page -----------------------------------------------------------------------------------

def test_the_landing_page_calls_a_real_wave_survey_microdata_even_when_it_reproduces_the_seed(replica):
    """The wave's kind follows `synthetic`, not `reproduces_seed`: the seed's real survey is
    'survey microdata', a synthetic wave of another survey a 'calibrated synthetic replica'."""
    from analysis.report.pages import intro
    from tests.conftest import with_spec

    assert replica.wave.spec.reproduces_seed                              # the premise
    real = with_spec(replica, synthetic=False, reproduces_seed=True)
    other = with_spec(replica, synthetic=True, reproduces_seed=False)
    assert intro.numbers(real)["wave_kind"] == "survey microdata"
    assert intro.numbers(other)["wave_kind"] == "a calibrated synthetic replica of the seed study's survey"


# ---- province profile: official table ---------------------------------------------------------------

def test_the_official_table_leaves_out_a_province_without_the_series_weight_in_its_latest_year():
    """Beijing's residents blanked in the latest urbanization year: the east region's and the
    nation's urbanization are the resident-weighted means of the other provinces (by hand), not NaN."""
    from analysis.ingest.official import province_panel
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import profile

    panel = province_panel()
    y = int(panel["urban_rate_pct"].dropna().index.get_level_values("year").max())
    panel.loc[(110000, y), "resident_pop_10k"] = np.nan                     # Beijing
    off = profile.official_table(SimpleNamespace(official=panel), 320000).set_index("series")   # Jiangsu
    d = panel.xs(y, level="year")[["urban_rate_pct", "resident_pop_10k", "region4"]].dropna()
    assert 110000 not in d.index and resolve(110000).region4 == resolve(320000).region4 == "east"
    east = d[d["region4"] == "east"]
    row = off.loc["urbanization (%)"]
    assert row["year"] == y
    assert row["nation"] == pytest.approx((d["urban_rate_pct"] * d["resident_pop_10k"]).sum()
                                          / d["resident_pop_10k"].sum(), rel=1e-12)
    assert row["region (east)"] == pytest.approx((east["urban_rate_pct"] * east["resident_pop_10k"]).sum()
                                                 / east["resident_pop_10k"].sum(), rel=1e-12)


# ---- survey panel -----------------------------------------------------------------------------------

def test_a_province_wave_without_a_covariate_mean_does_not_count_towards_the_shared_provinces():
    """Two waves sharing 5 provinces, one of them without internet_use in the second wave: only 4
    provinces are surveyed in two waves with complete data, fewer than K + 2 = 5: refused."""
    from analysis.estimation.panel import PanelNotEstimable, survey_panel_models

    rng = np.random.default_rng(7)
    first = [f"P{i}" for i in range(10)]
    second = first[:5] + [f"Q{i}" for i in range(5)]
    rows = [{"province": p, "wave": w, "overall": rng.normal(50, 5), "internet_use": rng.uniform(),
             "education": rng.uniform(2, 4), "log_income": rng.normal(10, 1), "n": 30}
            for w, provs in ((2020, first), (2022, second)) for p in provs]
    panel = pd.DataFrame(rows).set_index(["province", "wave"]).sort_index()
    panel.loc[("P0", 2022), "internet_use"] = np.nan
    with pytest.raises(PanelNotEstimable, match="these waves share 4$") as e:
        survey_panel_models(panel)
    assert (e.value.shared, e.value.need) == (4, 5)
