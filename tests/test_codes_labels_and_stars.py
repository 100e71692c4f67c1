"""Gaps the fast suite left open: codes that skip a number, the SPSS missing-answer message, the
codebook's aspect names, the answer a published share counts by default, LaTeX without stars."""

from __future__ import annotations

import copy
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.results import ModelResult, ModelSet


def test_an_item_whose_codes_skip_a_number_accepts_the_last_code_and_refuses_the_skipped_one(
        small_villagers, make_wave):
    """Valid codes are the codebook's codes, not a run from the lowest: with sex coded 1, 2, 4 an
    answer 4 is valid and an answer 3 is refused as an invalid code."""
    from analysis.ingest.codebook import _build
    from analysis.ingest.validate import validate_wave
    from analysis.settings import load_settings

    raw = copy.deepcopy(load_settings().codebook)
    entry = next(e for e in raw["questionnaires"]["villagers"]["items"] if e["id"] == "sex")
    entry["values"] = {1: {"zh": "男", "en": "male"}, 2: {"zh": "女", "en": "female"},
                       4: {"zh": "其他", "en": "other"}}
    cb = _build(raw, "a" * 64)
    v = small_villagers.copy()
    v.loc[0, "sex"] = "4"
    v.loc[1, "sex"] = "3"
    report, clean = validate_wave(make_wave(v), codebook=cb)
    sex_errors = [e for e in report.errors if e.column == "sex"]
    assert len(sex_errors) == 1, [(e.row, e.value, e.message) for e in sex_errors]
    assert sex_errors[0].row == 3                  # the header is line 1: the second respondent, line 3
    assert "valid codes are [1, 2, 4]" in sex_errors[0].message
    assert clean["villagers"]["sex"].iloc[0] == 4


def test_a_valid_answer_an_spss_file_declares_missing_is_named_by_its_english_label(make_wave,
                                                                                     small_villagers):
    """An SPSS file declaring sex = 1 missing is refused; the message names the answer as the
    English report does: 'male', the codebook's English label of code 1, not its Chinese one."""
    import pyreadstat

    from analysis.ingest.validate import validate_wave

    folder = make_wave(None, file="villagers.sav")
    sav = small_villagers.copy()
    for c in sav.columns:
        num = pd.to_numeric(sav[c], errors="coerce")
        if c not in ("resp_id", "village_id", "province") and num.notna().sum() == (sav[c] != "").sum():
            sav[c] = num
    pyreadstat.write_sav(sav, str(folder / "villagers.sav"), missing_ranges={"sex": [1]})
    report, _ = validate_wave(folder)
    hits = [e for e in report.errors if e.rule == "missing codes are not answers"]
    assert len(hits) == 1 and hits[0].column == "sex"
    assert "answer 'male'" in hits[0].message and "男" not in hits[0].message


def test_an_aspect_sub_index_is_labelled_by_the_aspect_s_name_in_each_edition(monkeypatch):
    """data/codebook.yml names the aspect ``means`` 治理手段 in Chinese and "means" in English: the
    English edition labels its sub-index "means (sub-index)", the Chinese one 治理手段（分指数）."""
    from analysis.estimation.frames import labels
    from analysis.ingest.codebook import load_codebook
    from analysis.settings import load_settings

    stand_in = SimpleNamespace(wave=SimpleNamespace(codebook=load_codebook()), settings=load_settings())
    monkeypatch.setenv("RURALGOV_LANG", "en")
    en = labels(stand_in)
    assert en["means"] == "means (sub-index)"
    assert en["overall_without_concept"] == "overall score without the concept items"
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    assert labels(stand_in)["means"] == "治理手段（分指数）"


def test_a_published_share_without_a_value_counts_the_answer_1(small_villagers, make_wave,
                                                                default_frames):
    """A proportion or count share whose reproduction entry names no ``value`` counts code 1:
    with 3 of the institutions offering online appointments (1) and the rest not (0), the
    reproduced share is 100 × 3 / n, not its complement."""
    from analysis.estimation.reproduce import reproduce, table1
    from analysis.estimation.study import build_study

    inst = default_frames["institutions"]
    inst = inst[inst["province"].isin(set(small_villagers["province"]))].reset_index(drop=True)
    inst["hosp_online_appt"] = ["1"] * 3 + ["0"] * (len(inst) - 3)
    inst["ep_teachers"] = ["1"] * 2 + ["0"] * (len(inst) - 2)
    inst["ep_none"] = "0"
    study = build_study(make_wave(small_villagers, institutions=inst))
    rep = reproduce(study).set_index("key")
    n = len(inst)
    got = rep.loc["other_survey_figures.township_hospitals_online_appointment", "reproduced"]
    assert got == pytest.approx(100 * 3 / n)
    t1 = table1(study).set_index("item")
    assert t1.loc["ep_teachers", "value"] == 1
    assert t1.loc["ep_teachers", "estimate"] == pytest.approx(100 * 2 / n)


def _result(name, est, se):  # type: ignore[no-untyped-def]
    terms = list(est)
    return ModelResult(name, name.upper(), "wls", pd.Series(est, dtype=float),
                       pd.DataFrame(np.diag(np.square(list(se.values()))), index=terms, columns=terms),
                       1000, None, MappingProxyType({}), (), MappingProxyType({}), MappingProxyType({}),
                       tuple(terms))


def test_latex_without_stars_prints_no_stars():
    """``to_latex(stars=False)`` writes each cell as 'b (se)': an estimate 10 SEs from zero (p far
    below 1 %) is printed 1.000 (0.100), without its two stars, which ``stars=True`` prints."""
    ms = ModelSet((_result("a", {"x": 1.0}, {"x": 0.1}),))
    assert "1.000** (0.100)" in ms.to_latex()
    plain = ms.to_latex(stars=False)
    assert "1.000 (0.100)" in plain and "*" not in plain
