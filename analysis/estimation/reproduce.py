"""Reproduce the seed paper's published figures from a wave, with the estimator a user runs.

The mapping from each published figure to its estimator is data: ``data/reference/reproduction.yml``.

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.estimation.reproduce import reproduce
>>> tab = reproduce(build_study("2020-replica"))
>>> bool(tab["within_rounding"].dropna().all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.estimation.design import SurveyDesign, answered
from analysis.i18n import N_, Message, _, bilingual, lang


def _mask(df: pd.DataFrame, domain: dict | None) -> np.ndarray:
    """The rows of a figure's domain: each column equal to its value as written, or as a number
    (``sex: "2"`` of a column coded 2.0; the settings write every value as text)."""
    from analysis.estimation.decomposition import in_group

    m = np.ones(len(df), bool)
    for col, val in (domain or {}).items():
        m &= in_group(df[col], val)
    return m


def _columns(f) -> list[str]:  # type: ignore[no-untyped-def]
    """The columns of its questionnaire a published figure reads."""
    parts = [f.item, f.domain, f.numerator, f.denominator]
    return [c for p in parts if p for c in ([p] if isinstance(p, str) else p)]


def figure_label(f, codebook, language: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """A published figure's name in ``language`` (default: the edition being written): its label
    in the reproduction settings, else its item's text in the codebook, else its key."""
    if f.label:
        return _(f.label, language)
    if f.item:
        try:
            it = codebook.item(f.questionnaire, f.item)
        except (KeyError, LookupError):
            pass
        else:
            return it.text_zh if (language or lang()) == "zh" and it.text_zh else it.text_en
    return f.key.split(".")[-1].replace("_", " ").capitalize()


def reproduce(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every published figure beside its reproduction from ``wave``.

    Columns: key, label, published, reproduced, difference, decimals, compare, within_rounding,
    se (design-based, where there is one), statistic, note.
    """
    w = study.wave
    st = study.settings
    vil = study.villagers
    design = study.design
    score = study.scores["overall"].to_numpy()
    inst = w.institutions
    rows = []
    for f in st.reproduction.figures:
        key, stat = f.key, f.statistic
        published = st.published_value(key)
        rep, se, note = np.nan, np.nan, f.reason
        q = f.questionnaire
        frame = inst if q == "institutions" else vil
        gone = [] if frame is None else [c for c in _columns(f) if c not in frame]
        if frame is None:
            stat, note = "missing", Message(N_("the wave has no institution questionnaire"))
        elif gone:         # an optional item the wave does not ask: named, not a KeyError
            stat, note = "missing", Message(N_("item {item} is not in the wave"), item=gone[0])
        elif stat == "degree":
            m = _mask(vil, f.domain)
            e = design.mean(np.where(m, score, np.nan))
            rep, se = float(e.estimate[0]), float(e.se[0])
        elif stat == "ratio_of_degrees":
            a = design.mean(np.where(_mask(vil, f.numerator), score, np.nan))
            b = design.mean(np.where(_mask(vil, f.denominator), score, np.nan))
            rep = float(a.estimate[0] / b.estimate[0])
        elif stat == "proportion":
            e = design.proportion(answered(vil[f.item].to_numpy(float), f.value))
            rep, se = 100 * float(e.estimate[0]), 100 * float(e.se[0])
        elif stat == "count_share":
            y = inst[f.item].dropna()
            rep = 100 * float((y == f.value).mean())
            note = note or Message(N_("share of the {n} institution records; no sampling design is known "
                                      "for them, so no standard error"), n=len(y))
        elif stat == "ratio":
            ok = inst[[f.numerator, f.denominator]].dropna()
            rep = 100 * float(ok[f.numerator].sum() / ok[f.denominator].sum())
        dec = f.decimals
        compare = f.compare
        within: bool | None = None
        if np.isfinite(rep) and dec is not None:
            if compare == "equal":
                within = bool(abs(rep - published) <= 0.5 * 10.0 ** (-dec) + 1e-12)
            elif compare == "at_most":
                within = bool(round(rep, dec) <= published)
            elif compare == "below":
                within = bool(rep < published)
        rows.append({"key": key, "label": figure_label(f, w.codebook, "en"),
                     "published": published, "reproduced": rep, "difference": rep - published,
                     "decimals": dec, "compare": compare, "within_rounding": within, "se": se,
                     "statistic": stat, "note": note})
    out = pd.DataFrame(rows)
    # object, not pandas' str: a note keeps its catalog message (i18n.Message) for the pages
    out["note"] = pd.Series([r["note"] for r in rows], index=out.index, dtype=object)
    return out


def table1(study, *, level: float = 0.95) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Table 1 of the seed paper with uncertainty: each problem's prevalence (%) with SE and CI.

    Each row names its item and the answer counted (``value``). Villager items are design-based
    proportions (respondents who answered the question); the education items are shares of the
    township institution records, treated as a simple random sample of townships (each record its
    own PSU). CIs are logit intervals on the item's design degrees of freedom (``df``: the PSUs
    with an answer less the strata they lie in), as R ``svyciprop(method = "logit")``; ``n_psu``
    the villager item's PSUs with an answer (none for the institution records).
    """
    w = study.wave
    st = study.settings
    vil = study.villagers
    designs = {"villagers": (vil, study.design)}
    inst = w.institutions
    if inst is not None:
        designs["institutions"] = (inst, SurveyDesign.from_arrays(np.ones(len(inst))))
    rows = []
    for f in st.reproduction.figures:
        if not f.key.startswith("table_1_problems."):
            continue
        _, field, _ = f.key.split(".")
        q = f.questionnaire
        item = w.codebook.item(q, f.item)
        row = {"field": bilingual(w.codebook.fields[field][1], w.codebook.fields[field][0]), "item": f.item,
               "value": f.value, "problem": item.label,
               "published": st.published_value(f.key),
               "base": N_("villagers, design-weighted") if q == "villagers" else N_("township institutions")}
        if q not in designs or f.item not in designs[q][0]:
            rows.append({**row, "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "n": 0, "df": np.nan, "n_psu": np.nan})
            continue
        df, d = designs[q]
        e = d.proportion(answered(df[f.item].to_numpy(float), f.value), level=level)
        lo, hi = e.ci
        rows.append({**row, "estimate": 100 * e.estimate[0], "se": 100 * e.se[0],
                     "ci_low": 100 * lo[0], "ci_high": 100 * hi[0], "n": int(e.n[0]),
                     "df": float(e.df[0]), "n_psu": float(e.n_psu[0]) if q == "villagers" else np.nan})
    return pd.DataFrame(rows)
