"""The determinants page (book/determinants.md): regression tables, the wild cluster bootstrap,
marginal effects, the Oaxaca–Blinder decomposition, diagnostics and robustness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.i18n import N_, Message, _, group_name, list_sep, say
from analysis.publishing.formats import fmt_p

OAXACA = "oaxaca_east_west"
"""The page's decomposition (``data/models.yml``); its groups are whatever the model names."""
AME_KINDS = (N_("discrete change"), N_("derivative"))
"""The kinds of marginal effect in the AME table's cells (the estimators write them; the table
shows them in the edition's language)."""


def model_stats(ms) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Numbers for the page's prose (glued); a model not fitted on the wave gives no keys."""
    out: dict[str, Any] = {}
    if ms.has("multilevel"):
        ml = ms["multilevel"].stats
        out.update({"icc": ml["icc"], "icc_conditional": ml["icc_conditional"]})
        out["ml_icc_txt"] = multilevel_icc_text(ms["multilevel"])
        out["ml_df_txt"] = multilevel_df_text(ms["multilevel"])
    if ms.has("wls_region"):
        r = ms["wls_region"]
        base = r.to_frame().set_index("term")
        if "internet_use" in base.index:
            out.update({"b_internet": base.loc["internet_use", "estimate"],
                        "se_internet": base.loc["internet_use", "se"]})
            if "wild" in r.tables:
                wild = r.tables["wild"].set_index("term")
                out["wild_p_internet_txt"] = fmt_p(wild.loc["internet_use", "wild_p"],
                                                   reps=wild_p_reps(ms)["wild p"])
    if ms.has(OAXACA):
        ox = ms[OAXACA].tables["decomposition"].set_index("component")
        out["ox_a"], out["ox_b"] = oaxaca_groups(ms)
        out.update({"ox_gap": ox.loc["gap", "estimate"], "ox_explained": ox.loc["explained (two-fold)", "estimate"],
                    "ox_explained_se": ox.loc["explained (two-fold)", "se"],
                    "ox_unexplained": ox.loc["unexplained (two-fold)", "estimate"],
                    "ox_reps": int(ms[OAXACA].stats["bootstrap_reps"])})
        out["ox_explained_share"] = 100 * out["ox_explained"] / out["ox_gap"]
    return out


def none_fitted_text(ms) -> str:  # type: ignore[no-untyped-def]
    """A warning at the top of the page when the wave supports none of the models: the sections
    below then describe models that are not there, each table saying why."""
    if list(ms):
        return ""
    return (":::{warning}\n" + _("No model of `data/models.yml` is estimated on this wave. The sections "
                                  "below describe the models and their methods; where each table or figure "
                                  "would be, the page says why the wave cannot support it.") + "\n:::")


def diagnostics_absent_text() -> str:
    """Said in place of the diagnostics and robustness tables where the headline model is not
    estimated (they are its diagnostics)."""
    return _("The diagnostics and robustness checks are those of the headline model (`wls_region`), which "
             "is not estimated on this wave.")


def headline_sample_text(ms) -> str:  # type: ignore[no-untyped-def]
    """The headline model's share of the respondents and its number of clusters, for the page's
    prose; empty where the wave does not support the model (its regression table says why)."""
    if not ms.has("wls_region"):
        return ""
    st = ms["wls_region"].stats
    return _("The headline model uses {share:.1f} % of the respondents (the others miss an answer it "
             "needs); its standard errors have {g} clusters.").format(
        share=100 * st.get("complete_share", 1.0), g=st.get("n_clusters", 0))


def imputation_text(ms, mt) -> str:  # type: ignore[no-untyped-def]
    """The sentence before the multiple-imputation table ``mt``: the share of respondents the
    headline model leaves out and the number of imputations; empty without the model or the
    table."""
    if mt is None or not ms.has("wls_region"):
        return ""
    missing = 100 * (1 - ms["wls_region"].stats.get("complete_share", 1.0))
    return _("About {missing:.1f} % of the respondents miss an answer the headline model needs and are "
             "left out of it (complete cases). Refitted on data completed by multiple imputation by "
             "chained equations (predictive mean matching, {m} imputations, combined by Rubin's rules, "
             "intervals on Barnard and Rubin's degrees of freedom; this assumes answers are missing at "
             "random given the model's variables):").format(missing=missing, m=mt.attrs["imputations"])


def frame_notes(r) -> str:  # type: ignore[no-untyped-def]
    """What a model's frame notes (rows a transform left out, the year of official statistics), in
    the edition's language: a model fitted once serves both editions."""
    return _("; ").join(say(n) for n in r.stats.get("notes", ()))


def multilevel_icc_text(r) -> str:  # type: ignore[no-untyped-def]
    """The multilevel model's intraclass correlations, empty and conditional, with its frame's notes."""
    notes = frame_notes(r)
    return (_("The intraclass correlation is {icc:.2f} in the empty model (no covariates) and "
              "{icc_c:.2f} conditional on the covariates").format(icc=r.stats["icc"],
                                                                 icc_c=r.stats["icc_conditional"])
            + (_("; {notes}.").format(notes=notes) if notes else _(".")))


def multilevel_df_text(r) -> str:  # type: ignore[no-untyped-def]
    """How the multilevel model's tests count their degrees of freedom, in words and the wave's
    numbers: the group-level covariates between the groups, the respondents' characteristics
    within them (``nlme::lme``'s rule)."""
    st = r.stats
    parts = []
    province = st.get("group", "province") == "province"
    if st.get("df_group_terms") is not None:
        terms = list_sep().join(_(r.term_labels.get(t, t)) for t in st["group_terms"])
        vals = {"df": st["df_group_terms"], "g": st["n_groups"], "terms": terms, "group": st.get("group")}
        if st["df_group_terms"] > 0:
            parts.append((_("{df:.0f} for the province-level covariates ({terms}: the {g} provinces less "
                            "the province-level terms and the intercept)") if province else
                          _("{df:.0f} for the covariates constant within each {group} ({terms}: the {g} "
                            "groups less those terms and the intercept)")).format(**vals))
        else:
            parts.append((_("none for the province-level covariates ({terms}): the {g} provinces leave no "
                            "degree of freedom beside them and the intercept, so they are not tested")
                          if province else
                          _("none for the covariates constant within each {group} ({terms}): the {g} groups "
                            "leave no degree of freedom beside them and the intercept, so they are not "
                            "tested")).format(**vals))
    if st.get("df_unit_terms") is not None:
        parts.append(_("{df:.0f} for the respondents' characteristics").format(df=st["df_unit_terms"]))
    return _("Its tests and intervals are t on the degrees of freedom of `nlme::lme`: {parts}.").format(
        parts=_("; ").join(parts)) if parts else ""


def wild_table(ms, model: str = "wls_region") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Analytic cluster-robust vs wild cluster bootstrap inference for a model, with the wild
    p-values adjusted by Holm across the table's tests."""
    from analysis.estimation.results import holm

    r = ms[model]
    t = r.to_frame().set_index("term")
    wb = r.tables["wild"].set_index("term")
    floor = 1 / (wild_p_reps(ms, model)["wild p"] + 1)     # a bootstrap p is never below its resolution
    wild_p = np.maximum(wb["wild_p"].to_numpy(), floor)
    return pd.DataFrame({"term": [t.loc[k, "label"] for k in wb.index], "estimate": wb["estimate"].to_numpy(),
                         "CR1 p": t.loc[wb.index, "p"].to_numpy(), "wild p": wb["wild_p"].to_numpy(),
                         "wild p (Holm)": holm(wild_p),
                         "CR1 CI low": t.loc[wb.index, "ci_low"].to_numpy(),
                         "CR1 CI high": t.loc[wb.index, "ci_high"].to_numpy(),
                         "wild CI low": wb["wild_ci_low"].to_numpy(), "wild CI high": wb["wild_ci_high"].to_numpy()})


def wild_p_reps(ms, model: str = "wls_region") -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The replicates behind each bootstrap p column of :func:`wild_table` (its resolution when
    shown); its CR1 p column is analytic, shown to its own precision."""
    reps = int(ms[model].tables["wild"].attrs.get("reps", 999))
    return {"wild p": reps, "wild p (Holm)": reps}


def coefficient_figure(ms, names: list[str], synthetic: bool):  # type: ignore[no-untyped-def]
    """Coefficient plot of the named models (those fitted)."""
    from analysis.publishing import figures

    names = [n for n in names if ms.has(n)]
    tidy = pd.concat([ms[n].to_frame().assign(model_label=ms[n].label) for n in names])
    common = set.intersection(*(set(ms[n].to_frame()["term"]) for n in names))
    return figures.coef_plot(tidy[tidy["term"].isin(common)], synthetic=synthetic)


def ame_figure(ms, model: str, synthetic: bool):  # type: ignore[no-untyped-def]
    """Marginal effects of an ordered model on each satisfaction category."""
    from analysis.publishing import figures

    r = ms[model]
    return figures.ame_plot(r.tables["ame"], synthetic=synthetic, labels=dict(r.term_labels),
                            df=r.df_inference)


def logit_ame_table(ms, names: tuple[str, ...] | None = None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Average marginal effects (percentage points) of the logit models fitted (``names``; None:
    every logit of the set, in its order, those a wave's models.yml adds included)."""
    from analysis.estimation.results import holm, inference

    rows = []
    for name in names if names is not None else [r.name for r in ms if r.family == "logit"]:
        if not ms.has(name):
            continue
        r = ms[name]
        ame = r.tables["ame"]
        p = inference(ame["ame"], ame["se"], r.df_inference)[2]
        for a, pa in zip(ame.itertuples(), p):
            rows.append({"model": r.label, "term": r.term_labels.get(a.term, a.term), "kind": a.kind,
                         "AME (pp)": 100 * a.ame, "SE (pp)": 100 * a.se, "p": float(pa)})
    t = pd.DataFrame(rows)
    if len(t):
        t["p (Holm)"] = holm(t["p"].to_numpy())
    return t


def mice_table(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The headline model on multiply imputed data beside its complete-case estimate."""
    from analysis.estimation.suite import multiple_imputation

    m = multiple_imputation(study)
    out = m[["label", "complete_case", "estimate", "se", "df", "ci_low", "ci_high", "fmi"]].rename(
        columns={"label": "term", "complete_case": "complete cases", "estimate": "imputed",
                 "se": "SE (imputed)", "fmi": "missing information"})
    out.attrs.update(m.attrs)
    return out


def brant_table(ms, model: str = "ologit_health") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The Brant test of proportional odds: one row per regressor and the omnibus test."""
    r = ms[model]
    b = r.tables["brant"].copy()
    b["term"] = b["term"].map(lambda t: N_("all regressors (omnibus)") if t == "omnibus" else r.term_labels.get(t, t))
    return b.rename(columns={"chi2": "χ²"})


def brant_absent(ms, model: str = "ologit_health") -> str:  # type: ignore[no-untyped-def]
    """Why the page shows no Brant test of a fitted ordered logit ('' where it shows one): an
    outcome of two categories, or a binary logit of the test without an estimate on this wave."""
    why = ms[model].stats.get("brant_absent")
    return _("No Brant test on this wave: {why}.").format(why=say(why)) if why else ""


def oaxaca_groups(ms, model: str = OAXACA) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The decomposition's two groups as a reader names them, in the edition being written: a
    region or province by its name, a value of any other column as "column = value"."""
    st = ms[model].stats
    return group_name(st["group"], st["group_a"]), group_name(st["group"], st["group_b"])


def oaxaca_absent(ms, model: str = OAXACA) -> str:  # type: ignore[no-untyped-def]
    """Why the page shows no decomposition: the reason the model was not fitted on this wave."""
    why = (say(ms.skipped[model]) if model in ms.skipped
           else _("data/models.yml names no model {name!r}").format(name=model))
    return _("No decomposition on this wave: {why}.").format(why=why)


def oaxaca_tables(ms, model: str = OAXACA) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Oaxaca–Blinder decomposition summary and detailed explained contributions."""
    r = ms[model]
    return r.tables["decomposition"], r.tables["detail"][["label", "explained", "se"]]


def oaxaca_figure(ms, synthetic: bool, model: str = OAXACA):  # type: ignore[no-untyped-def]
    """Explained contributions of each characteristic to the gap."""
    from analysis.publishing import figures

    st = ms[model].stats
    return figures.oaxaca_plot(ms[model].tables["detail"], synthetic=synthetic,
                               groups=(st["group_a"], st["group_b"]), group=st["group"])


def diagnostics_tables(study, ms, model: str = "wls_region") -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """VIFs and the specification tests of a model."""
    from analysis.estimation.suite import diagnostics

    dg = diagnostics(study, model=model)
    from analysis.publishing.formats import fmt_count, fmt_number, fmt_p

    # one column mixes a statistic and a count: written here, each at its own precision
    tests = pd.DataFrame([
        {"test": _("Breusch–Pagan (heteroskedasticity, weighted model)"),
         "statistic": fmt_number(dg["breusch_pagan"]["lm"], 2), "p": fmt_p(dg["breusch_pagan"]["p"])},
        {"test": _("RESET (powers 2–3 of the fitted values, weighted model)"),
         "statistic": fmt_number(dg["reset"]["f"], 2), "p": fmt_p(dg["reset"]["p"])},
        {"test": _("largest Cook's distance"), "statistic": fmt_number(dg["cooks_max"], 3), "p": ""},
        {"test": _("observations with Cook's D > 4/n"), "statistic": fmt_count(dg["cooks_over_4_n"]),
         "p": ""},
    ])
    labels = dict(ms[model].term_labels)
    vif = dg["vif"].assign(term=lambda d: d["term"].map(lambda t: labels.get(t, t)))
    return vif, tests


def robustness_table(study, model: str = "wls_region") -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """A model's coefficients with outcomes from every alternative index construction (wide)."""
    from analysis.estimation.suite import robustness

    r = robustness(study, model=model)
    t = r.pivot_table(index="label", columns="construction", values="estimate", sort=False)
    t = t.reset_index().rename(columns={"label": "term"})
    t.attrs["left_out"] = dict(r.attrs.get("left_out", {}))
    return t


def robustness_note(table: pd.DataFrame) -> str:
    """The constructions :func:`robustness_table` leaves out on this wave, each with its reason
    ('' when none is)."""
    left = table.attrs.get("left_out", {})
    return _("; ").join(_("Not shown: {name} ({reason})").format(
        name=_(k), reason=v.text() if isinstance(v, Message) else v) for k, v in left.items())
