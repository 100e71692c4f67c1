"""What a reader is told, in words a planted error changed without a test noticing: the column a
refused setting names, a single refusal for one wrong entry, the codebook's headers and items as
written, the hint to validate a folder, a replica's calibration as stated, and the Chinese of a
nested reason, of a reason with a parenthesis and of the nation's row."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis import i18n, paths
from analysis.settings import SettingsError, validate
from analysis.settings.schemas import WaveSettings

WAVE = {"id": "w", "questionnaires": {"villagers": {"file": "v.csv"}},
        "design": {"weight": "weight", "strata": "province", "psu": "village_id"}}


def _refusal(**change) -> SettingsError:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError) as e:
        validate(WaveSettings, {**WAVE, **change}, "wave.yml")
    return e.value


def test_a_column_s_missing_code_that_is_no_list_is_refused_naming_the_column():
    e = _refusal(missing_codes={"age": 999})
    assert [(p.key, p.message.split(", e.g.")[0]) for p in e.problems] == [
        ("missing_codes", "age: must be a list of codes")]


def test_one_wrong_code_in_a_list_is_one_refusal_not_one_per_form_the_setting_may_take():
    """``missing_codes: [-8, abc]``: the list's second code is refused; not also the list as a whole
    for not being the per-column mapping the setting may be instead."""
    e = _refusal(missing_codes=[-8, "abc"])
    keys = [p.key for p in e.problems]
    assert keys == ["missing_codes[1]"], [str(p) for p in e.problems]
    assert "input should be a valid dictionary" not in str(e)


def test_every_alias_of_the_codebook_names_its_column():
    """The codebook's aliases are all kept (the fourth and fifth of resp_id, 'respondent id' and 'id',
    as the first), as the file writes them."""
    from analysis.ingest.codebook import load_codebook

    raw = yaml.safe_load(paths.CODEBOOK.read_text(encoding="utf-8"))
    cb = load_codebook()
    for q, body in raw["questionnaires"].items():
        for entry in body["items"]:
            if "aliases" in entry:
                assert cb.item(q, entry["id"]).aliases == tuple(str(a) for a in entry["aliases"]), entry["id"]
    assert {"respondent id", "id"} <= set(cb.item("villagers", "resp_id").aliases)


def test_an_item_is_found_in_its_own_questionnaire():
    from analysis.ingest.codebook import load_codebook

    cb = load_codebook()
    assert cb.item("institutions", "ep_teachers").questionnaire == "institutions"
    with pytest.raises(KeyError):
        cb.item("villagers", "ep_teachers")


def test_the_hint_to_validate_a_folder_with_a_space_quotes_it(tmp_path):
    from analysis.ingest.wave import validate_argument

    folder = tmp_path / "my waves" / "w"
    assert validate_argument("w", folder) == f"'{folder}'"
    assert validate_argument("w", paths.WAVES / "w") == "w"


@pytest.mark.parametrize("calibrated, kind", [(True, "calibrated"), (False, "uncalibrated"), ("false", "other"),
                                              ("true", "other"), (1, "other"), (None, "other")])
def test_a_replica_is_called_calibrated_only_when_its_wave_yml_says_so_as_a_boolean(tmp_path, calibrated, kind):
    """``calibrated: 'false'`` (text) states nothing: the wave is "other", never a calibrated replica."""
    from analysis.ingest.wave import load_wave
    from tests import wavegen

    folder = wavegen.replica_copy(tmp_path / "r")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["generator"] = {"module": "analysis.replica", "calibrated": calibrated}
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert load_wave(str(folder)).replica_kind == kind


def test_a_reason_inside_a_reason_is_translated_too():
    from analysis.i18n import N_, Message

    inner = Message(N_("no convergence in {n} Newton iterations"), n=100)
    zh = inner.text("zh")
    assert zh != inner.text("en") and "100" in zh
    outer = Message(N_("the logit of {outcome!r} did not converge ({why}); the regressor {term!r} ({label}) "
                       "separates the outcome (its coefficient grows without bound: {coef:.3g}); drop it from the "
                       "model in data/models.yml"), outcome="y", why=inner, term="x", label="x", coef=1e6)
    assert zh in outer.text("zh") and "no convergence" not in outer.text("zh")


def test_a_reason_with_a_semicolon_inside_its_parenthesis_is_one_reason(monkeypatch):
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    reason = "a single PSU (no variance estimate; identifies one village)"
    assert i18n.split_reasons(reason) == [reason]
    assert i18n.split_reasons(f"{reason}; fewer than 10 respondents") == [reason, "fewer than 10 respondents"]
    assert i18n.reasons(reason) == i18n._(reason) != reason


def test_the_nation_s_row_among_regions_is_translated():
    assert i18n.region("all", "zh") == "全部" and i18n.region("all", "en") == "all"
    assert i18n.category("region3", "all", "zh") == "全部"


def test_a_wave_s_hash_is_its_wave_yml_then_its_files_by_name_whatever_order_wave_yml_lists_them(tmp_path):
    """The hash every page cites: SHA-256 over wave.yml's bytes, then "name:sha256" of each data file
    sorted by name (recomputed here from the files). Listing the questionnaires in another order in
    wave.yml changes wave.yml, not how its files enter the hash."""
    import hashlib

    from analysis.ingest.wave import load_wave
    from tests import wavegen

    folder = wavegen.replica_copy(tmp_path / "r")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    for order in (list(spec["questionnaires"]), list(reversed(list(spec["questionnaires"])))):
        spec["questionnaires"] = {q: spec["questionnaires"][q] for q in order}
        (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
        files = sorted(q["file"] for q in spec["questionnaires"].values())
        h = hashlib.sha256((folder / "wave.yml").read_bytes())
        for name in files:
            h.update(f"{name}:{hashlib.sha256((folder / name).read_bytes()).hexdigest()}\n".encode())
        assert load_wave(str(folder)).sha256 == h.hexdigest(), order


def test_a_wave_of_observed_microdata_is_no_replica_of_any_kind(tmp_path):
    """A field survey's wave (synthetic not set): no kind of replica, so its pages call it survey
    microdata, not synthetic."""
    from analysis.ingest.wave import load_wave
    from tests import wavegen

    wave = load_wave(str(wavegen.write(tmp_path / "field", "sav")))
    assert not wave.synthetic and wave.replica_kind is None
