"""Computations several pages share: the degree by domain under the disclosure policy, the
headline numbers, what a wave lacks, the publishable provinces.

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.report.pages.common import degree_table
>>> t = degree_table(build_study("2020-replica"), "region3")
>>> t.columns.tolist()[:3], int(t["n"].sum())   # respondents with an overall score
(['region3', 'estimate', 'se'], 1156)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.i18n import N_, _, bilingual, count, list_sep, region
from analysis.publishing.disclosure import SUPPRESSED, DisclosurePolicy, published, reason_text, reasons_of


def unscored_clause(n_unscored: int) -> str:
    """How many respondents have no overall score, as a clause ("every respondent has an overall
    score" when none)."""
    if n_unscored == 0:
        return _("every respondent has an overall score")
    return count(n_unscored, N_("{n} respondent has no overall score"),
                 N_("{n} respondents have no overall score"))


def policy(study) -> DisclosurePolicy:  # type: ignore[no-untyped-def]
    """The wave's disclosure policy."""
    return DisclosurePolicy.for_study(study)


def degree_table(study, by: str | None, level: str = "overall") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Design-based degree (0–100) with SE, 95 % CI on the domain's design df, design effect,
    respondents, PSUs and df by domain; cells below the disclosure policy suppressed."""
    from analysis.publishing.reliability import flag_means

    e = study.degree(by=by, level=level).to_frame()
    e = e.rename(columns={"domain": by or "domain"}).drop(columns=["sum_w"])
    return flag_means(policy(study).apply(e))


def scale_note(t: pd.DataFrame) -> str:
    """A table's note when one of its confidence limits sits at an end of the index's scale, where
    it was cut (:attr:`analysis.estimation.design.Estimate.bounds`); else nothing."""
    from analysis.estimation.index import SCALE

    if not ((t["ci_low"] <= SCALE[0]) | (t["ci_high"] >= SCALE[1])).any():
        return ""
    return _("A confidence limit of {lo:g} or {hi:g} is cut at that end of the scale: on so few design "
             "degrees of freedom the interval reaches past it.").format(lo=SCALE[0], hi=SCALE[1])


def lacks(study) -> list[str]:  # type: ignore[no-untyped-def]
    """What an optional block of the wave lacks (institution questionnaire, a field's items)."""
    w = study.wave
    out = []
    if w.institutions is None:
        out.append(_("the township institution questionnaire (education problems, township hospitals)"))
    v = w.villagers
    for f, (zh, en) in w.codebook.fields.items():
        ind = [it.id for it in w.codebook.indicators() if it.field == f]
        if not any(i in v and v[i].notna().any() for i in ind):
            out.append(_("the {field} indicators (that field's sub-index)").format(field=bilingual(en, zh)))
    from analysis.report.pages.problems import digital_items

    if not digital_items(study):
        out.append(_("the digital-access items (registration channels, digital awareness and use)"))
    return out


def province_degrees(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Degree by province (suppressed cells kept, marked), with region and Chinese name."""
    from analysis.ingest.provinces import resolve

    t = degree_table(study, "province_en").rename(columns={"province_en": "province"})
    reg = study.villagers.groupby("province_en")["region3"].first()
    t.insert(1, "region", t["province"].map(reg))
    t.insert(1, "province_zh", [resolve(p).name_zh_short for p in t["province"]])
    return t


def withheld_regions(study) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The regions whose degree the report withholds (the disclosure policy, as every table of
    regions applies it), each with its reason."""
    t = degree_table(study, "region3")
    return {str(r): why for r, why in zip(t["region3"], reasons_of(t)) if why}


def published_province_names(study) -> list[str]:  # type: ignore[no-untyped-def]
    """The provinces whose degree the report publishes (the others take no rank)."""
    return list(published(province_degrees(study))["province"])


def headline(study) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Headline numbers of a wave, all computed from it: sizes, the degree overall and by region,
    the highest and lowest publishable provinces (and the seed's Shanghai/Tibet ratio only on a
    wave that reproduces the seed study)."""
    w = study.wave
    v = study.villagers
    # the national degree as it may be published (a wave of one village, or of fewer respondents
    # than min_cell, withholds it as every table does; its counts stay)
    shown = degree_table(study, None).iloc[0]
    withheld = str(shown[SUPPRESSED])
    psu = w.design_columns.get("psu")
    # without a PSU column the wave does not say which village a respondent lives in: no count
    n_provinces, n_villages = int(v["province"].nunique()), int(v[psu].nunique()) if psu else None
    n_unscored = int(len(v) - shown["n"])
    out: dict[str, Any] = {
        "wave_id": w.id, "wave_title": w.spec.title, "wave_year": w.spec.year or _("unknown year"),
        "n_villagers": len(v), "n_provinces": n_provinces, "n_villages": n_villages,
        **institutions_sentences(w),
        "degree_overall": float(shown["estimate"]), "degree_overall_se": float(shown["se"]),
        "degree_overall_lo": float(shown["ci_low"]), "degree_overall_hi": float(shown["ci_high"]),
        "degree_overall_df": int(shown["df"]), "degree_withheld": reason_text(withheld) if withheld else "",
        "wave_sha12": w.sha256[:12], "n_scored": int(shown["n"]),
        "n_unscored": n_unscored, "min_cell": int(w.spec.min_cell),
        "unscored_clause": unscored_clause(n_unscored),
        "villagers_count": count(len(v), N_("{n} villager questionnaire"), N_("{n} villager questionnaires")),
        "respondents_count": count(len(v), N_("{n} respondent"), N_("{n} respondents")),
        "provinces_count": count(n_provinces, N_("{n} province"), N_("{n} provinces")),
        "villages_count": (count(n_villages, N_("{n} village"), N_("{n} villages")) if n_villages is not None
                           else _("an unrecorded number of villages")),
    }
    reg = degree_table(study, "region3")
    for r in reg.itertuples():
        out[f"degree_{r.region3}"] = float(r.estimate) if not r.suppressed else float("nan")
    est = study.degree(by="region3")
    pub = set(published(reg)["region3"])
    out["n_regions_published"] = len(pub)
    if {"east", "west"} <= pub:
        gap, gap_se = est.contrast("east", "west")
        out["gap_east_west"], out["gap_east_west_se"] = gap, gap_se
    prov = published(province_degrees(study)).sort_values("estimate", ascending=False)
    out["n_provinces_published"] = len(prov)
    if len(prov) >= 2:
        top, bottom = prov.iloc[0], prov.iloc[-1]
        e = study.degree(by="province_en")
        diff, diff_se = e.contrast(top["province"], bottom["province"])
        out.update({"top_province": top["province"], "top_degree": float(top["estimate"]),
                    "bottom_province": bottom["province"], "bottom_degree": float(bottom["estimate"]),
                    "top_minus_bottom": diff, "top_minus_bottom_se": diff_se})
    elif len(prov) == 1:
        out["only_province"] = prov.iloc[0]["province"]
    if w.spec.reproduces_seed and {"Shanghai", "Tibet"} <= set(prov["province"]):
        pe = dict(zip(prov["province"], prov["estimate"]))
        out["shanghai_over_tibet"] = float(pe["Shanghai"] / pe["Tibet"])
    return out


def institutions_sentences(wave) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the pages say of the township institution questionnaire: its count of records, or
    that the wave has none (not "0 records", which would claim a questionnaire with no rows)."""
    if wave.institutions is None:
        return {"n_institutions": 0, "institutions_clause": "",
                "institutions_sentence": _("This wave has no township institution questionnaire.")}
    n = len(wave.institutions)
    return {"n_institutions": n,
            "institutions_clause": _(", and {records}").format(
                records=count(n, N_("{n} township institution record"),
                              N_("{n} township institution records"))),
            "institutions_sentence": count(n, N_("The township institution questionnaire holds {n} record."),
                                           N_("The township institution questionnaire holds {n} records."))}


def region_sentence(h: dict[str, Any]) -> str:
    """The regional degrees as a sentence ('' when no region is publishable)."""
    names = {"east": "east", "central": "centre", "west": "west"}
    parts = [f"{region(names[r])} {h[f'degree_{r}']:.2f}" for r in names
             if f"degree_{r}" in h and np.isfinite(h[f"degree_{r}"])]
    return list_sep().join(parts)
