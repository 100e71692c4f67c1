"""What a wave or its settings may write that the default wave and settings never do, each
accepted and read as written: numeric Oaxaca groups, a seed of 0, a CSV with blank lines between
its rows, questionnaire files in a subfolder of the wave, a synthetic wave of another generator
that says it is calibrated."""

from __future__ import annotations

import pytest
import yaml

from analysis import paths
from analysis.settings import parse_yaml, validate
from analysis.settings.schemas import IndexSettings, ModelsSettings
from tests import wavegen


def test_oaxaca_groups_written_as_numeric_codes_are_read_as_the_codes_text():
    """data/models.yml says so: ``groups: [1, 2]`` for the codes of sex."""
    raw = parse_yaml((paths.ROOT / "data" / "models.yml").read_text(encoding="utf-8"), "data/models.yml")
    ox = next(m for m in raw["models"] if m["family"] == "oaxaca")
    raw["models"].append({**ox, "name": "oaxaca_sex", "group": "sex", "groups": [1, 2],
                          "regressors": [r for r in ox["regressors"] if r != "female"]})
    got = validate(ModelsSettings, raw, "data/models.yml")
    (m,) = [m for m in got.models if m.name == "oaxaca_sex"]
    assert m.groups == ("1", "2")


@pytest.mark.parametrize("key", ["seed", "bootstrap_seed"])
def test_a_seed_of_zero_is_a_seed(key):
    got = validate(IndexSettings, {"uncertainty": {key: 0}}, "data/index.yml")
    assert getattr(got.uncertainty, key) == 0


def test_a_csv_with_blank_lines_between_its_rows_reports_a_bad_cell_at_its_file_row(tmp_path):
    """A blank line after file row 11 moves every later row down one: a bad age on the last data
    row is reported at its own file row (not a crash on a row list one short)."""
    from analysis.ingest.validate import validate_wave

    folder = wavegen.provinces(tmp_path / "blank-lines", ["广东", "四川"])
    lines = (folder / "villagers.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    last = lines[-1].split(",")
    last[header.index("age")] = "250"
    lines[-1] = ",".join(last)
    lines.insert(11, "")                                 # a blank line as file row 12
    (folder / "villagers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report, _ = validate_wave(folder)
    assert [(e.row, e.column) for e in report.errors] == [(len(lines), "age")]


def test_questionnaire_files_in_a_subfolder_of_the_wave_are_inside_it(tmp_path):
    from analysis.ingest.validate import validate_wave

    folder = wavegen.provinces(tmp_path / "in-raw", ["广东", "四川"])
    (folder / "raw").mkdir()
    for name in ("villagers.csv", "institutions.csv"):
        (folder / name).rename(folder / "raw" / name)
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["questionnaires"] = {q: {"file": f"raw/{q}.csv"} for q in ("villagers", "institutions")}
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    assert sorted(report.files) == ["raw/institutions.csv", "raw/villagers.csv"]      # hashed as named
    assert len(clean["villagers"]) == len((folder / "raw" / "villagers.csv").read_text(encoding="utf-8")
                                          .splitlines()) - 1


@pytest.mark.parametrize("generator, kind", [
    ({"module": "analysis.replica", "calibrated": True}, "calibrated"),
    ({"module": "analysis.replica", "calibrated": False}, "uncalibrated"),
    ({"module": "another.simulator", "calibrated": True}, "other"),
    ({"module": "analysis.replica"}, "other"),
    ({}, "other"),
])
def test_only_this_package_s_replica_is_called_calibrated_and_only_when_it_says_so(tmp_path, generator, kind):
    from analysis.ingest.wave import load_wave

    folder = wavegen.replica_copy(tmp_path / "synthetic")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["generator"] = generator
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert load_wave(folder).replica_kind == kind


@pytest.mark.parametrize("written, adcode", [
    ("Guangdong Province", 440000), ("guangdong province", 440000), ("Shanghai Municipality", 310000),
    ("Guangxi Zhuang Autonomous Region", 450000), ("Xinjiang Uygur Autonomous Region", 650000),
    ("Ningxia Hui Autonomous Region", 640000), ("Tibet Autonomous Region", 540000),
    ("GUANGDONG", 440000), ("sichuan", 510000), ("广东省", 440000), ("广西壮族自治区", 450000),
])
def test_a_province_written_with_its_english_or_chinese_suffix_or_in_any_case_is_that_province(written, adcode):
    from analysis.ingest.provinces import resolve

    assert resolve(written).adcode == adcode
