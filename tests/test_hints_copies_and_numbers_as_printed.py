"""A title row's header hint, a weight ratio rounded, the
codebook's order, a missing wave folder, the study's copies, and counts, percents and ranks as the
report's pages and figures write them."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.ingest.validate import validate_wave


@pytest.fixture(scope="module")
def study():
    from analysis.estimation.study import build_study

    return build_study(paths.DEFAULT_WAVE)


# ------------------------------------------------------------------ validation messages

def test_a_file_with_one_title_row_above_its_header_is_told_to_set_header_row_2(small_villagers, make_wave):
    """A title line above the header (no header_row declared): the missing-column errors say the
    header seems to be on file row 2 and to set header_row: 2."""
    body = small_villagers.to_csv(index=False)
    folder = make_wave(("Village survey 2020 wave" + "," * (small_villagers.shape[1] - 1) + "\n" + body)
                       .encode("utf-8"))
    report, _ = validate_wave(folder)
    assert not report.ok
    hinted = [e for e in report.errors if "set header_row: 2" in e.message]
    assert hinted, [e.message for e in report.errors]
    assert "the header seems to be on file row 2 with title rows above it" in hinted[0].message


def test_a_weight_24_6_times_its_stratum_median_is_said_to_be_25_times_not_24(small_villagers, make_wave):
    """The outlying-weight warning rounds the ratio to the stratum median (24.6 -> 25), it does not
    truncate it."""
    v = small_villagers.copy()
    v["weight"] = "1"
    v.loc[3, "weight"] = "24.6"             # median of the stratum stays 1 (every other weight is 1)
    report, _ = validate_wave(make_wave(v))
    flagged = [w for w in report.warnings if w.rule == "no dominant weight"]
    assert [(w.row, w.column) for w in flagged] == [(5, "weight")]
    assert "weight 24.6 is 25 times the median weight of its stratum" in flagged[0].message


# ------------------------------------------------------------------ the codebook

def test_codebook_ids_are_in_the_order_the_codebook_file_lists_its_items():
    """Codebook.ids() keeps the order of data/codebook.yml: the key column comes first, not the
    alphabetically first id."""
    from analysis.ingest.codebook import load_codebook

    raw = yaml.safe_load(paths.CODEBOOK.read_text(encoding="utf-8"))
    listed = [e["id"] for e in raw["questionnaires"]["villagers"]["items"]]
    ids = load_codebook().ids("villagers")
    assert ids[: len(listed)] == listed
    assert ids[0] == raw["questionnaires"]["villagers"]["key"] == "resp_id"


# ------------------------------------------------------------------ loading a wave

def test_loading_a_wave_folder_that_does_not_exist_raises_wave_invalid_with_its_report(tmp_path):
    """load_wave() of a folder that is not there raises WaveInvalid carrying the report (with an
    error), as for any other invalid wave; not a bare FileNotFoundError."""
    from analysis.ingest.wave import WaveInvalid, load_wave

    with pytest.raises(WaveInvalid) as e:
        load_wave(tmp_path / "no-such-wave")
    assert e.value.report.errors
    assert "is invalid" in str(e.value)


def test_a_column_added_to_study_villagers_never_reaches_the_study_s_wave(study):
    """Study.villagers is a copy: a column added to it is not in the wave's villagers frame."""
    v = study.villagers
    assert "g3_extra" not in v.columns
    v["g3_extra"] = 1
    assert "g3_extra" not in study.wave.villagers.columns
    assert "g3_extra" not in study.wave.data["villagers"].columns
    assert "g3_extra" not in study.villagers.columns


# ------------------------------------------------------------------ the report's pages

def test_the_survey_page_counts_villager_records_with_a_thousands_separator(study, default_frames):
    """The facts-and-assumptions row 'respondents' writes the count of the wave's villager rows
    with its thousands separator (1,160, not 1160)."""
    from analysis.report.pages import survey

    n = len(default_frames["villagers"])
    assert n >= 1000                                         # the premise: a count with a separator
    facts = survey.facts_and_assumptions(study)
    cell = facts.set_index("topic").loc["respondents", "the replica assumes"]
    assert cell == f"{n // 1000},{n % 1000:03d} villager records"


def test_the_count_of_observations_over_cook_s_threshold_is_written_as_a_whole_number(study):
    """The diagnostics table writes the count of observations with Cook's D > 4/n without
    decimals; the largest Cook's distance above it keeps three."""
    from types import SimpleNamespace

    from analysis.report.pages import determinants

    ms = {"wls_region": SimpleNamespace(term_labels={})}
    _, tests = determinants.diagnostics_tables(study, ms)
    row = tests.set_index("test")["statistic"]
    count = row["observations with Cook's D > 4/n"]
    assert re.fullmatch(r"\d[\d,]*", count), count
    assert re.fullmatch(r"\d+\.\d{3}", row["largest Cook's distance"])


def test_the_urbanization_map_labels_its_marked_provinces_with_their_percent_as_given(study):
    """Urbanization rates are in percent already: the map's labels read '<name>: 89.3 %' (one
    decimal and a spaced percent sign), never the value multiplied by 100."""
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import provinces

    p = provinces.panel(study).xs(provinces.year(study), level="year")["urban_rate_pct"].dropna()
    fig = provinces.maps(study)["fig_map_urban"]
    labels = sorted(t.get_text() for ax in fig.axes for t in ax.texts if ": " in t.get_text())
    expected = sorted(f"{resolve(int(c)).name_en}: {p[c]:.1f} %" for c in (p.idxmax(), p.idxmin()))
    assert labels == expected
    assert all(re.fullmatch(r".+: \d{1,3}\.\d %", s) for s in labels), labels


def test_a_heat_map_writes_its_cells_with_one_decimal_by_default():
    """figures.heatmap() without fmt prints each cell with one decimal (49 -> '49.0', 12.5 -> '12.5')."""
    from analysis.publishing import figures

    df = pd.DataFrame({"central": [49.0, 12.5]}, index=["education", "health"])
    fig = figures.heatmap(df)
    assert [t.get_text() for t in fig.axes[0].texts] == ["49.0", "12.5"]


def test_a_province_profile_states_its_median_rank_as_a_whole_number(study):
    """A province ranked third in every replicate: the profile's sentence says 'its median rank is
    3', not '3.0'."""
    from analysis.report.pages import common, profile

    names = common.published_province_names(study)
    assert "Shanghai" in names and len(names) >= 4
    others = [n for n in names if n != "Shanghai"]
    order = others[:2] + ["Shanghai"] + others[2:]          # Shanghai third, always
    values = {name: 100.0 - k for k, name in enumerate(order)}
    replicates = pd.DataFrame([values] * 5)
    text = profile.summary_sentence(study, 310000, replicates)
    assert f"Among the {len(names)} publishable provinces its median rank is 3, " in text, text
    assert "interval from 3 to 3." in text
