"""The survey page (book/survey.md): the sample, its design, validation and item non-response."""

from __future__ import annotations

import pandas as pd

from analysis import i18n
from analysis.i18n import N_, _

QUESTIONNAIRES = (N_("villagers"), N_("institutions"))
"""The questionnaires' names (``wave.yml``'s keys), marked for the catalog: a table cell holding
one reads in the edition's language, the key beside it."""


def design_counts(study) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The design's strata and PSUs counted in words for the page's prose ("1 stratum", "3 primary
    sampling units")."""
    d = study.design
    return {"strata_count": i18n.count(int(d.n_strata), N_("{n} stratum"), N_("{n} strata")),
            "psus_count": i18n.count(int(d.n_psu), N_("{n} primary sampling unit"),
                                N_("{n} primary sampling units"))}


def composition(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Respondents, villages and weighted share (%) by province, with region; no villages column
    when the wave records no village (PSU) of its respondents."""
    w = study.wave
    v = study.villagers
    psu = w.design_columns.get("psu")
    wt = w.design_columns["weight"]
    g = v.groupby(["region3", "province_en"], observed=True)
    out = pd.DataFrame({
        "respondents": g.size(),
        **({"villages": g[psu].nunique()} if psu else {}),
        "weighted_share_pct": 100 * g[wt].sum() / v[wt].sum(),
    }).reset_index().rename(columns={"region3": "region", "province_en": "province"})
    return out


def region_composition(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Respondents, provinces, villages and weighted share (%) by region."""
    c = composition(study)
    g = c.groupby("region")
    return pd.DataFrame({"provinces": g.size(),
                         **({"villages": g["villages"].sum()} if "villages" in c else {}),
                         "respondents": g["respondents"].sum(),
                         "weighted_share_pct": g["weighted_share_pct"].sum()}).reset_index()


def sample_map(study):  # type: ignore[no-untyped-def]
    """Map of respondents per province (provinces without respondents hatched)."""
    from analysis.publishing import figures

    w = study.wave
    counts = study.villagers.groupby("province").size()
    counts.index = counts.index.astype(int)
    note = N_("not in the replica") if w.synthetic else N_("not surveyed")
    return figures.china_map(counts.astype(float), label="respondents", cmap="Blues",
                             title="Villager respondents by province", missing_note=note,
                             synthetic=w.synthetic)


def validation_summary(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Per questionnaire: rows, errors, warnings, and the share of item values missing."""
    from analysis.ingest.validate import file_label

    rep, spec = study.wave.report, study.wave.spec
    mf = rep.missing_frame()
    rows = []
    for q, n in rep.rows.items():
        m = mf[mf["questionnaire"] == q]
        cells = n * max(len(m), 1)
        # problems name a file by its path in the wave's folder (raw/villagers.csv)
        files = {file_label(qs.file, spec.folder) for name, qs in spec.questionnaires.items() if name == q}
        rows.append({"questionnaire": q, "rows": n,
                     "errors": sum(p.file in files for p in rep.errors),
                     "warnings": sum(p.file in files for p in rep.warnings),
                     "blank_pct": 100 * m["blank"].sum() / cells,
                     "declared_missing_pct": 100 * m["declared"].sum() / cells})
    return pd.DataFrame(rows)


def item_nonresponse(study, top: int = 10) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Items with the most missing answers (blank or declared missing code), villagers."""
    w = study.wave
    mf = w.report.missing_frame()
    m = mf[mf["questionnaire"] == "villagers"].copy()
    m["missing_pct"] = 100 * (m["blank"] + m["declared"]) / m["rows"]
    labels = {it.id: it.label for it in w.codebook.items("villagers")}
    m["item"] = m["column"].map(labels)
    out = m.sort_values(["missing_pct", "column"], ascending=[False, True]).head(top)
    return out[["item", "column", "blank", "declared", "missing_pct"]].rename(
        columns={"item": "question", "column": "variable (data file)"})


def facts_and_assumptions(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """For the replica: what the seed paper states about its survey (its own words) beside what
    the replica assumes, each number of the replica counted from the wave."""
    w = study.wave
    v = study.villagers
    said = study.settings.published.get("source", {}).get("statements", {})
    psu, strata = w.design_columns.get("psu"), w.design_columns.get("strata")
    inst = 0 if w.institutions is None else len(w.institutions)
    rows = [
        (_("survey year"), said.get("survey", ""), _("year {year} (the wave's description)").format(year=w.spec.year)),
        (_("respondents"), said.get("sample", ""), _("{n} villager records").format(n=f"{len(v):,}")),
        (_("provinces"), said.get("provinces_named", ""), _provinces_assumed(v)),
        (_("villages"), _("not stated"),
         i18n.count(int(v[psu].nunique()), N_("{n} village, the primary sampling unit"),
                    N_("{n} villages, the primary sampling units")) if psu else
         _("no village recorded: each respondent is a primary sampling unit")),
        (_("sample design"), _("not stated (no weights, strata or clusters are described)"),
         _("province strata, village PSUs, design weights from each province's rural population")
         if (strata, bool(psu)) == ("province", True) else
         _("the design wave.yml gives ({design}), design weights from each province's rural population").format(
             design=i18n.list_sep().join(x for x in (
                 _("strata: {column}").format(column=strata) if strata else _("no strata"),
                 _("PSUs: {column}").format(column=psu) if psu else _("each respondent its own PSU"))))),
        (_("institution records"), _("not stated; the education and township-hospital figures are multiples of 1/33"),
         _("{n} township institution records").format(n=inst)),
        (_("regional degrees"), said.get("regions", ""),
         _("calibrated to reproduce them within their printed rounding") if w.replica_kind == "calibrated"
         else _("drawn from the replica's latent model, not calibrated to them")),
    ]
    return pd.DataFrame(rows, columns=[N_("topic"), N_("the seed paper states"), N_("the replica assumes")])


SEED_NAMED = ("Shanghai", "Tibet")
"""The provinces the seed paper names (the replica's generator draws the others at random)."""


def _provinces_assumed(v: pd.DataFrame) -> str:
    """The replica's provinces: those of the paper's it has, and the others drawn at random."""
    have = set(v["province_en"].dropna())
    named = [i18n.province(p) for p in SEED_NAMED if p in have]
    others = sorted(have - set(SEED_NAMED))
    parts = []
    if named:
        parts.append(_("{a} and {b}").format(a=named[0], b=named[1]) if len(named) == 2 else named[0])
    if others:
        parts.append(_("{k} chosen at random by the replica's generator ({names})").format(
            k=len(others), names=i18n.list_sep().join(i18n.province(p) for p in others)))
    head = i18n.count(len(have), N_("{n} province"), N_("{n} provinces"))
    return _("{head}: {parts}").format(head=head, parts=_(", and ").join(parts)) if parts else head


def design_note(study) -> str:  # type: ignore[no-untyped-def]
    """A sentence on strata with a single PSU and the rule their variance follows ('' if none)."""
    d = study.design
    lonely = [d.strata_labels[h] for h in range(d.n_strata) if d._n_h[h] == 1]
    if not lonely:
        return ""
    names = i18n.list_sep().join(str(i18n.province(x)) for x in lonely)
    rule = {"adjust": _("centred at the mean of all PSU totals (conservative)"),
            "remove": _("left out of the variance"),
            "certainty": _("treated as sampled with certainty (no variance)"),
            "fail": _("refused")}[d.lonely_psu]
    text = i18n.plural(
        len(lonely),
        N_("{n} stratum holds a single PSU ({names}): no within-stratum variance can be estimated "
           "there, so its PSU total is {rule}, as R's survey.lonely.psu = \"{option}\"; a domain estimate "
           "resting on one PSU is not published."),
        N_("{n} strata hold a single PSU ({names}): no within-stratum variance can be estimated "
           "there, so their PSU totals are {rule}, as R's survey.lonely.psu = \"{option}\"; a domain "
           "estimate resting on one PSU is not published."))
    return text.format(n=len(lonely), names=names, rule=rule, option=d.lonely_psu)


def warnings_table(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The validation warnings of the wave (file, row, column, rule, message), in the edition's
    language (the report keeps them in English, as the command line prints them); the row as the
    file's row number, written as such ("2125", not the count "2,125"; empty for a whole file)."""
    rep = study.wave.report
    return pd.DataFrame([{"file": p.file, "row": "" if p.row is None else str(p.row), "column": p.column,
                          "rule": _(p.rule), "message": i18n.say(p.message)} for p in rep.warnings],
                        columns=["file", "row", "column", "rule", "message"])


def validation_sentence(study) -> str:  # type: ignore[no-untyped-def]
    """What validation found, as a sentence (it found no error, or the report would not exist)."""
    n = len(study.wave.report.warnings)
    if n == 0:
        return _("It passed without an error or a warning.")
    if n == 1:
        return _("It passed without an error; one warning (a thing to know, not an error) is summarised "
                 "in the table below.")
    return _("It passed without an error; {n} warnings (things to know, not errors) are summarised in "
             "the table below.").format(n=n)
