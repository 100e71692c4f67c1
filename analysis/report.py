"""What the book's pages call: numbers, tables and figures of one wave, glued by name.

Pages hold no analysis: each cell is a short call into this module. Heavy results (index,
sensitivity, models) are computed once per wave and cached for the whole kernel session.
Every table and figure carries a provenance line (:func:`stamp`); published cells obey the
wave's disclosure rule (:func:`suppress`).
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from analysis import paths, provenance
from analysis.index import IndexConfig, build_index, degree, wave_design
from analysis.wave import Wave, load_wave

SUPPRESSED = "‡"


# ---- wave, glue, display -------------------------------------------------------------------

def wave() -> Wave:
    """The wave being reported (``$RURALGOV_WAVE``, or the default wave)."""
    return load_wave(paths.current_wave())


def glue_all(values: dict[str, Any], display: bool = False) -> None:
    """Glue plain Python values (numpy scalars become floats/ints, as glue formats need)."""
    from myst_nb import glue

    for k, v in values.items():
        if isinstance(v, np.floating):
            v = float(v)
        elif isinstance(v, np.integer):
            v = int(v)
        glue(k, v, display=display)


def glue_figure(key: str, fig) -> None:  # type: ignore[no-untyped-def]
    """Glue a figure for a ``{glue:figure}`` directive and close it (so it shows only there)."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(key, fig, display=False)
    plt.close(fig)


def stamp(page: str, w: Wave | None = None) -> str:
    """Provenance line: wave (sha256), page, commit."""
    return provenance.stamp(w or wave(), page)


def show_table(df: pd.DataFrame, *, decimals: int = 1, page: str = "", title: str = "",
               note: str = "", w: Wave | None = None):  # type: ignore[no-untyped-def]
    """A great_tables table for a page: escaped text, rounded numbers, provenance and notes.

    Displayed as HTML for the web and Markdown for other outputs.
    """
    from great_tables import GT
    from IPython.display import display

    w = w or wave()
    shown, numeric = _formatted(df, decimals)
    gt = GT(shown, id=table_id(page, title, shown))
    if numeric:
        gt = gt.cols_align("right", columns=numeric)
    if title:
        gt = gt.tab_header(title=html.escape(title))
    notes = [note] if note else []
    if (df.astype(str) == SUPPRESSED).to_numpy().any():
        notes.append(f"{SUPPRESSED} suppressed: fewer than {w.spec.min_cell} respondents (disclosure rule).")
    if w.synthetic:
        notes.append("Synthetic replica data: illustrates the method only.")
    if page:
        notes.append(stamp(page, w))
    for n in notes:
        gt = gt.tab_source_note(html.escape(n))
    gt = gt.tab_options(table_width="100%", table_font_size="13px")
    body = f'<div style="overflow-x:auto">{gt.as_raw_html()}</div>'
    display({"text/html": body, "text/markdown": shown.to_markdown(index=False)}, raw=True)


def table_id(*parts: object) -> str:
    """A deterministic HTML id (great_tables would draw a random one: builds must be identical)."""
    import hashlib

    h = hashlib.sha256("|".join(p.to_csv() if isinstance(p, pd.DataFrame) else str(p) for p in parts).encode())
    return "t" + h.hexdigest()[:12]


def _formatted(df: pd.DataFrame, decimals: int) -> tuple[pd.DataFrame, list[str]]:
    """Numbers as text with fixed decimals (ints with separators); text cells HTML-escaped later."""
    out = df.copy()
    numeric = []
    for c in out.columns:
        col = out[c]
        vals = [v for v in col if not (isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v)))]
        if not vals or not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
            out[c] = col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            continue
        numeric.append(str(c))
        is_int = all(float(v).is_integer() for v in vals) and not pd.api.types.is_float_dtype(col)

        def fmt(v: object) -> str:
            if isinstance(v, str):
                return v
            if v is None or (isinstance(v, float) and np.isnan(v)):
                return ""
            if is_int:
                return f"{int(v)}" if "year" in str(c).lower() else f"{int(v):,}"
            if abs(float(v)) < 10 ** (-decimals) and v != 0:
                return f"{float(v):.{decimals}g}" if abs(float(v)) >= 1e-4 else f"{float(v):.1e}"
            return f"{float(v):,.{decimals}f}"

        out[c] = col.map(fmt)
    out.columns = [str(c).replace("_", " ") for c in out.columns]
    return out, [c.replace("_", " ") for c in numeric]


def notice(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """A visible admonition when the wave is synthetic (the replica)."""
    from IPython.display import Markdown

    w = w or wave()
    if not w.synthetic:
        return Markdown(f"*Wave `{w.id}`: {html.escape(w.spec.title)}.*")
    return Markdown(
        ":::{warning}\n**Synthetic data.** This page runs on the wave "
        f"`{w.id}`, a *calibrated synthetic replica* of the 2020 survey: microdata generated to "
        "reproduce the figures the seed paper published, because the original microdata are not "
        "public. Its estimates illustrate the method; they are not findings about rural China.\n:::")


def missing_blocks(w: Wave | None = None) -> list[str]:
    """What an optional block of this wave lacks (institution questionnaire, a field's items)."""
    w = w or wave()
    out = []
    if w.institutions is None:
        out.append("the township institution questionnaire (education problems, township hospitals)")
    v = w.villagers
    for f, (_, en) in w.codebook.fields.items():
        ind = [it.id for it in w.codebook.indicators() if it.field == f]
        if not any(i in v and v[i].notna().any() for i in ind):
            out.append(f"the {en} indicators (that field's sub-index)")
    return out


def missing_note(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """A visible note listing what this wave lacks; nothing when it is complete."""
    from IPython.display import Markdown

    miss = missing_blocks(w)
    if not miss:
        return None                  # the cell shows nothing (an empty Markdown would print its repr)
    return Markdown(":::{note}\n**Not in this wave:** " + "; ".join(miss)
                    + ". The results that need them are left out and say so; nothing is imputed.\n:::")


def suppress(df: pd.DataFrame, n_col: str = "n", value_cols: list[str] | None = None,
             w: Wave | None = None) -> pd.DataFrame:
    """Disclosure control: cells resting on fewer than ``min_cell`` respondents become ‡."""
    w = w or wave()
    out = df.copy()
    small = out[n_col] < w.spec.min_cell
    cols = value_cols or [c for c in out.columns if c != n_col and pd.api.types.is_numeric_dtype(out[c])]
    for c in cols:
        out[c] = out[c].astype(object).where(~small, SUPPRESSED)
    return out


# ---- cached computations -------------------------------------------------------------------

def _key(w: Wave) -> str:
    return f"{w.spec.folder}:{w.sha256}"


def _wave_of(key: str) -> Wave:
    """The wave a cache key names (its folder; the hash only keys the cache)."""
    return load_wave(key.rsplit(":", 1)[0])


@lru_cache(maxsize=4)
def _index(key: str):  # type: ignore[no-untyped-def]
    w = _wave_of(key)
    v = w.villagers
    return v, build_index(v, IndexConfig.load(), codebook=w.codebook), wave_design(v, w.design_columns)


def index_parts(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """(villagers, index result, design) of the wave, cached."""
    return _index(_key(w or wave()))


@lru_cache(maxsize=2)
def _sensitivity(key: str, draws: int, seed: int):  # type: ignore[no-untyped-def]
    from analysis.sensitivity import run_sensitivity

    return run_sensitivity(_wave_of(key), draws=draws, seed=seed)


def sensitivity(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """The uncertainty and sensitivity analysis of the wave (draws and seed from data/index.yml), cached."""
    u = provenance.uncertainty_settings()
    return _sensitivity(_key(w or wave()), u["draws"], u["seed"])


@lru_cache(maxsize=2)
def _models(key: str):  # type: ignore[no-untyped-def]
    from analysis.models import fit_models

    return fit_models(_wave_of(key))


def models(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """All models of data/models.yml fitted on the wave, cached."""
    return _models(_key(w or wave()))


# ---- summary and survey pages --------------------------------------------------------------

def headline(w: Wave | None = None) -> dict[str, Any]:
    """Headline numbers: sample sizes and the modernization degree overall and by region."""
    w = w or wave()
    v, res, d = index_parts(w)
    overall = degree(v, res, d)
    reg = degree(v, res, d, by="region3")
    lo, hi = overall.ci
    out: dict[str, Any] = {
        "wave_id": w.id, "n_villagers": len(v), "n_provinces": int(v["province"].nunique()),
        "n_villages": int(v[w.design_columns["psu"]].nunique()) if w.design_columns.get("psu") else 0,
        "n_institutions": 0 if w.institutions is None else len(w.institutions),
        "degree_overall": float(overall.estimate[0]), "degree_overall_se": float(overall.se[0]),
        "degree_overall_lo": float(lo[0]), "degree_overall_hi": float(hi[0]),
        "wave_sha12": w.sha256[:12], "n_scored": int(overall.n[0]),
        "n_unscored": int(len(v) - overall.n[0]),
    }
    for dom, est, se in zip(reg.domains, reg.estimate, reg.se):
        out[f"degree_{dom}"] = float(est)
        out[f"degree_{dom}_se"] = float(se)
    gap, gap_se = reg.contrast("east", "west") if {"east", "west"} <= set(reg.domains) else (np.nan, np.nan)
    out["gap_east_west"], out["gap_east_west_se"] = gap, gap_se
    prov = degree(v, res, d, by="province_en")
    pe = dict(zip(prov.domains, prov.estimate))
    if "Shanghai" in pe and "Tibet" in pe:
        out["shanghai_over_tibet"] = float(pe["Shanghai"] / pe["Tibet"])
    return out


def sample_composition(w: Wave | None = None) -> pd.DataFrame:
    """Respondents, villages and weighted share (%) by province, with region."""
    w = w or wave()
    v = w.villagers
    psu = w.design_columns.get("psu")
    wt = w.design_columns["weight"]
    g = v.groupby(["region3", "province_en"], observed=True)
    out = pd.DataFrame({
        "respondents": g.size(),
        "villages": g[psu].nunique() if psu else g.size() * 0,
        "weighted_share_pct": 100 * g[wt].sum() / v[wt].sum(),
    }).reset_index().rename(columns={"region3": "region", "province_en": "province"})
    return out


def region_composition(w: Wave | None = None) -> pd.DataFrame:
    """Respondents, provinces and weighted share (%) by region."""
    c = sample_composition(w)
    g = c.groupby("region")
    return pd.DataFrame({"provinces": g.size(), "villages": g["villages"].sum(),
                         "respondents": g["respondents"].sum(),
                         "weighted_share_pct": g["weighted_share_pct"].sum()}).reset_index()


def sample_map(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """Map of respondents per province (provinces not surveyed hatched)."""
    from analysis import figures

    w = w or wave()
    counts = w.villagers.groupby("province").size()
    counts.index = counts.index.astype(int)
    return figures.china_map(counts.astype(float), label="respondents", cmap="Blues",
                             title="Villager respondents by province",
                             missing_note="not surveyed / no data", synthetic=w.synthetic)


def validation_summary(w: Wave | None = None) -> pd.DataFrame:
    """Per questionnaire: rows, errors, warnings, and the share of item values missing."""
    w = w or wave()
    rep = w.report
    mf = rep.missing_frame()
    rows = []
    for q, n in rep.rows.items():
        m = mf[mf["questionnaire"] == q]
        cells = n * max(len(m), 1)
        rows.append({"questionnaire": q, "rows": n, "errors": len(rep.errors),
                     "warnings": len(rep.warnings),
                     "blank_pct": 100 * m["blank"].sum() / cells,
                     "declared_missing_pct": 100 * m["declared"].sum() / cells})
    return pd.DataFrame(rows)


def item_nonresponse(w: Wave | None = None, top: int = 10) -> pd.DataFrame:
    """Items with the most missing answers (blank or declared missing code), villagers."""
    w = w or wave()
    mf = w.report.missing_frame()
    m = mf[mf["questionnaire"] == "villagers"].copy()
    m["missing_pct"] = 100 * (m["blank"] + m["declared"]) / m["rows"]
    labels = {it.id: it.text_en for it in w.codebook.items("villagers")}
    m["item"] = m["column"].map(labels)
    return m.sort_values(["missing_pct", "column"], ascending=[False, True]).head(top)[
        ["column", "item", "blank", "declared", "missing_pct"]]


# ---- index page ----------------------------------------------------------------------------

def degree_table(by: str | None, w: Wave | None = None, level: str = "overall") -> pd.DataFrame:
    """Design-based degree (%) with SE, 95 % CI, design effect and n by domain; small cells ‡."""
    w = w or wave()
    v, res, d = index_parts(w)
    e = degree(v, res, d, by=by, level=level).to_frame()
    e = e.rename(columns={"domain": by or "domain"}).drop(columns=["sum_w"])
    return suppress(e, "n", ["estimate", "se", "ci_low", "ci_high", "deff"], w)


def province_table(w: Wave | None = None) -> pd.DataFrame:
    """Province degree with CI, and median rank with its 95 % Rao–Wu bootstrap interval."""
    from analysis.sensitivity import bootstrap_domains

    w = w or wave()
    u = provenance.uncertainty_settings()
    e = degree_table("province_en", w).rename(columns={"province_en": "province"})
    b = bootstrap_domains(w, reps=u["bootstrap_reps"], seed=u["bootstrap_seed"]).reset_index().rename(columns={"province_en": "province"})
    reg = w.villagers.groupby("province_en")["region3"].first()
    out = e.merge(b[["province", "median_rank", "rank_low", "rank_high"]], on="province")
    out.insert(1, "region", out["province"].map(reg))
    out = out.sort_values("median_rank").reset_index(drop=True)
    return suppress(out, "n", ["median_rank", "rank_low", "rank_high"], w)


def subindex_by_region(kind: str = "fields", w: Wave | None = None) -> pd.DataFrame:
    """Design-based mean of each field (or aspect) sub-index by region: rows levels × regions."""
    w = w or wave()
    v, res, d = index_parts(w)
    levels = res.fields if kind == "fields" else res.aspects
    names = w.codebook.fields if kind == "fields" else w.codebook.aspects
    rows = {}
    for lv in levels:
        e = degree(v, res, d, by="region3", level=lv)
        rows[names[lv][1]] = dict(zip(e.domains, e.estimate))
        rows[names[lv][1]]["all"] = float(degree(v, res, d, level=lv).estimate[0])
    return pd.DataFrame(rows).T


def index_weights(w: Wave | None = None) -> pd.DataFrame:
    """Weights of the default construction: indicators within fields, fields in the overall score."""
    w = w or wave()
    _, res, _ = index_parts(w)
    return res.weights


def province_map(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """Map of the province degrees."""
    from analysis import figures

    w = w or wave()
    v, res, d = index_parts(w)
    e = degree(v, res, d, by="province")
    vals = pd.Series(e.estimate, index=[int(x) for x in e.domains])
    vals[e.n < w.spec.min_cell] = np.nan
    return figures.china_map(vals, label="modernization degree (%)", cmap="viridis",
                             title="Modernization degree by province",
                             missing_note="not surveyed / suppressed", synthetic=w.synthetic)


# ---- problems page -------------------------------------------------------------------------

def table1(w: Wave | None = None) -> pd.DataFrame:
    """Table 1 of the seed paper with design-based CIs beside the published percentages."""
    from analysis.reproduce import table1 as _t1

    w = w or wave()
    t = _t1(w)
    absent = t["n"] == 0
    out = suppress(t, "n", ["estimate", "se", "ci_low", "ci_high"], w)
    for c in ("estimate", "se", "ci_low", "ci_high"):
        out[c] = out[c].astype(object).where(~absent, "not in wave")
    return out


def digital_access(w: Wave | None = None) -> pd.DataFrame:
    """Registration channels, digital awareness and use: design-based %, CI, by region."""
    w = w or wave()
    v, _, d = index_parts(w)
    items = [i for i in ("hreg_onsite", "hreg_app", "hreg_web", "hreg_phone", "digital_aware",
                         "digital_use", "internet_use", "smartphone") if i in v]
    rows = []
    for it in items:
        y = v[it].to_numpy(float)
        yy = np.where(np.isnan(y), np.nan, (y == 1).astype(float))
        tot = d.proportion(yy)
        byr = d.proportion(yy, by=v["region3"])
        lo, hi = tot.ci
        rec = {"item": w.codebook.item("villagers", it).text_en, "all": 100 * tot.estimate[0],
               "ci_low": 100 * lo[0], "ci_high": 100 * hi[0], "n": int(tot.n[0])}
        rec.update({r: 100 * e for r, e in zip(byr.domains, byr.estimate)})
        rows.append(rec)
    return suppress(pd.DataFrame(rows), "n", None, w)


# ---- determinants page ---------------------------------------------------------------------

def regression_table(names: list[str], w: Wave | None = None, title: str = ""):  # type: ignore[no-untyped-def]
    """Display a multi-model regression table (great_tables HTML) for the named models."""
    from IPython.display import display

    from analysis.models import ModelSet

    w = w or wave()
    ms = models(w)
    missing = [n for n in names if not ms.has(n)]
    names = [n for n in names if ms.has(n)]
    if missing:
        display({"text/markdown": "*Not estimated on this wave: " + "; ".join(
            f"{n} ({ms.skipped.get(n, 'not fitted')})" for n in missing) + ".*"}, raw=True)
    if not names:
        return
    sub = ModelSet(tuple(ms[n] for n in names), w.id, w.synthetic)
    t = sub.table()
    html_ = sub.to_html(title=title)
    display({"text/html": html_ + f"<p class='provenance'><small>{html.escape(stamp('determinants', w))}</small></p>",
             "text/markdown": t.to_markdown(index=False)}, raw=True)


def coefficient_figure(names: list[str], w: Wave | None = None):  # type: ignore[no-untyped-def]
    """Coefficient plot of the named models."""
    from analysis import figures

    w = w or wave()
    ms = models(w)
    names = [n for n in names if ms.has(n)]
    tidy = pd.concat([ms[n].to_frame().assign(model_label=ms[n].label) for n in names])
    common = set.intersection(*(set(ms[n].to_frame()["term"]) for n in names))
    return figures.coef_plot(tidy[tidy["term"].isin(common)], synthetic=w.synthetic)


def model_stats(w: Wave | None = None) -> dict[str, Any]:
    """Numbers for the determinants page prose (glued)."""
    w = w or wave()
    ms = models(w)
    ml = ms["multilevel"].stats
    base = ms["wls_region"].to_frame().set_index("term")
    wild = ms["wls_region"].tables["wild"].set_index("term")
    ox = ms["oaxaca_east_west"].tables["decomposition"].set_index("component")
    out = {"icc": ml["icc"], "icc_conditional": ml["icc_conditional"],
           "n_clusters": ms["wls_region"].stats["n_clusters"],
           "b_internet": base.loc["internet_use", "estimate"], "se_internet": base.loc["internet_use", "se"],
           "wild_p_internet": wild.loc["internet_use", "wild_p"],
           "wild_p_internet_txt": _pvalue(wild.loc["internet_use", "wild_p"],
                                          ms["wls_region"].tables["wild"].attrs.get("reps", 999)),
           "b_participation": base.loc["participation", "estimate"],
           "ox_gap": ox.loc["gap", "estimate"], "ox_explained": ox.loc["explained (two-fold)", "estimate"],
           "ox_explained_se": ox.loc["explained (two-fold)", "se"],
           "ox_unexplained": ox.loc["unexplained (two-fold)", "estimate"],
           "ox_reps": int(ms["oaxaca_east_west"].stats["bootstrap_reps"])}
    out["ox_explained_share"] = 100 * out["ox_explained"] / out["ox_gap"]
    return out


def _pvalue(p: float, reps: int) -> str:
    """A bootstrap p-value as text: 0 means below the resolution 1/(reps + 1)."""
    return f"< {1 / (reps + 1):.3f}" if p == 0 else f"= {p:.3f}"


def wild_table(w: Wave | None = None) -> pd.DataFrame:
    """Analytic cluster-robust vs wild cluster bootstrap inference for the baseline model."""
    w = w or wave()
    r = models(w)["wls_region"]
    t = r.to_frame().set_index("term")
    wb = r.tables["wild"].set_index("term")
    return pd.DataFrame({"term": [t.loc[k, "label"] for k in wb.index], "estimate": wb["estimate"].to_numpy(),
                         "CR1 p": t.loc[wb.index, "p"].to_numpy(), "wild p": wb["wild_p"].to_numpy(),
                         "CR1 CI low": t.loc[wb.index, "ci_low"].to_numpy(),
                         "CR1 CI high": t.loc[wb.index, "ci_high"].to_numpy(),
                         "wild CI low": wb["wild_ci_low"].to_numpy(), "wild CI high": wb["wild_ci_high"].to_numpy()})


def ame_figure(model: str = "ologit_health", w: Wave | None = None):  # type: ignore[no-untyped-def]
    """Marginal effects of the ordered model on each satisfaction category."""
    from analysis import figures

    w = w or wave()
    r = models(w)[model]
    return figures.ame_plot(r.tables["ame"], synthetic=w.synthetic, labels=dict(r.term_labels))


def logit_ame_table(w: Wave | None = None) -> pd.DataFrame:
    """Average marginal effects (percentage points) of the two logit models."""
    w = w or wave()
    ms = models(w)
    rows = []
    for name in ("logit_online_registration", "logit_old_age_insurance"):
        r = ms[name]
        for a in r.tables["ame"].itertuples():
            rows.append({"model": r.label, "term": r.term_labels.get(a.term, a.term),
                         "AME (pp)": 100 * a.ame, "se (pp)": 100 * a.se})
    return pd.DataFrame(rows)


def oaxaca_tables(w: Wave | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oaxaca–Blinder decomposition summary and detailed explained contributions."""
    w = w or wave()
    r = models(w)["oaxaca_east_west"]
    return r.tables["decomposition"], r.tables["detail"][["label", "explained", "se"]]


def oaxaca_figure(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """Explained contributions of each characteristic to the east–west gap."""
    from analysis import figures

    w = w or wave()
    return figures.oaxaca_plot(models(w)["oaxaca_east_west"].tables["detail"], synthetic=w.synthetic)


def diagnostics_table(w: Wave | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """VIFs and the specification tests of the baseline model."""
    from analysis.models import diagnostics

    w = w or wave()
    dg = diagnostics(w)
    tests = pd.DataFrame([
        {"test": "Breusch–Pagan (heteroskedasticity)", "statistic": dg["breusch_pagan"]["lm"], "p": dg["breusch_pagan"]["p"]},
        {"test": "RESET (powers 2–3)", "statistic": dg["reset"]["f"], "p": dg["reset"]["p"]},
        {"test": "largest Cook's distance", "statistic": dg["cooks_max"], "p": np.nan},
        {"test": "observations with Cook's D > 4/n", "statistic": float(dg["cooks_over_4_n"]), "p": np.nan},
    ])
    labels = dict(models(w)["wls_region"].term_labels)
    vif = dg["vif"].assign(term=lambda d: d["term"].map(lambda t: labels.get(t, t)))
    return vif, tests


def robustness_table(w: Wave | None = None) -> pd.DataFrame:
    """Baseline coefficients with outcomes from alternative index constructions (wide)."""
    from analysis.models import robustness

    w = w or wave()
    r = robustness(w)
    t = r.pivot_table(index="label", columns="construction", values="estimate", sort=False)
    return t.reset_index().rename(columns={"label": "term"})


# ---- reproduction and appendix -------------------------------------------------------------

def reproduction(w: Wave | None = None) -> pd.DataFrame:
    """Every published figure against the wave's estimate."""
    from analysis.reproduce import reproduce

    w = w or wave()
    t = reproduce(w)
    t["within_rounding"] = t["within_rounding"].map({True: "yes", False: "NO", None: "n/a"})
    return t[["key", "published", "reproduced", "se", "within_rounding", "note"]]


def reproducibility(w: Wave | None = None) -> dict[str, pd.DataFrame]:
    """Tables for the appendix: wave files, configuration hashes, versions, commit."""
    w = w or wave()
    sha, dirty = provenance.git_commit()
    files = {"wave.yml": provenance.file_sha256(w.spec.folder / "wave.yml"), **w.files}
    return {
        "files": pd.DataFrame({"file": list(files), "sha256": list(files.values())}),
        "config": pd.DataFrame({"file": list(provenance.config_hashes()),
                                "sha256": list(provenance.config_hashes().values())}),
        "versions": pd.DataFrame({"package": list(provenance.versions()),
                                  "version": list(provenance.versions().values())}),
        "commit": pd.DataFrame({"item": ["commit", "work tree", "wave", "wave sha256"],
                                "value": [sha, "modified" if dirty else "clean", w.id, w.sha256]}),
    }


# ---- sensitivity page ----------------------------------------------------------------------

def sensitivity_stats(w: Wave | None = None) -> dict[str, Any]:
    """Numbers for the sensitivity page (glued)."""
    s = sensitivity(w=w)
    rs = s.region_summary()
    sob = s.sobol.set_index(["output", "input"])
    ri = s.rank_intervals()
    return {"sens_draws": s.n_evaluations, "sens_seconds": s.seconds,
            "gap_mc_mean": rs.loc["east_minus_west", "mean"], "gap_mc_low": rs.loc["east_minus_west", "low"],
            "gap_mc_high": rs.loc["east_minus_west", "high"],
            "gap_positive_share": 100 * float((s.draws["gap"] > 0).mean()),
            "sobol_gap_norm_total": sob.loc[("east-west gap", "normalisation"), "total"],
            "sobol_gap_boot_total": sob.loc[("east-west gap", "bootstrap"), "total"],
            "sobol_rank_boot_total": sob.loc[("province ranks (mean over provinces)", "bootstrap"), "total"],
            "n_rank_certain": int(((ri["rank_high"] - ri["rank_low"]) == 0).sum())}


def sensitivity_figures(w: Wave | None = None) -> dict[str, Any]:
    """Figures of the sensitivity page: region scores, province ranks, Sobol indices."""
    from analysis import figures

    w = w or wave()
    s = sensitivity(w=w)
    regions = s.regions.assign(**{"east − west": s.draws["gap"].to_numpy()})
    order = s.rank_intervals().index.tolist()
    return {"fig_sens_regions": figures.distributions(regions, xlabel="score (own scale of each draw's normalisation)",
                                                      synthetic=w.synthetic),
            "fig_sens_ranks": figures.distributions(s.ranks[order], xlabel="rank across draws (1 = highest)",
                                                    synthetic=w.synthetic, order=order),
            "fig_sens_sobol": figures.sobol_bars(s.sobol, synthetic=w.synthetic)}


def sobol_table(w: Wave | None = None) -> pd.DataFrame:
    """Sobol indices table."""
    return sensitivity(w=w).sobol


# ---- real province-level evidence ----------------------------------------------------------

def real_maps() -> dict[str, Any]:
    """Maps of 2020 urbanization and public budget spending per head (real statistics)."""
    from analysis import figures
    from analysis.external import province_panel

    p = province_panel().xs(2020, level="year")
    return {"fig_map_urban": figures.china_map(p["urban_rate_pct"], label="urbanization rate 2020 (%)",
                                               cmap="magma_r", title="Urbanization rate, 2020",
                                               missing_note="no data (not in the NBS provincial series)",
                                               fmt="{:.1f} %"),
            "fig_map_spending": figures.china_map(p["fiscal_exp_per_capita_yuan"] / 1000,
                                                  label="public budget spending per head 2020 (1000 yuan)",
                                                  cmap="viridis", title="Public budget spending per head, 2020",
                                                  missing_note="no data (not in the NBS provincial series)",
                                                  fmt="{:.1f}k")}


def real_stats() -> dict[str, Any]:
    """Numbers for the province-level page (glued): all from official statistics."""
    from analysis.external import province_panel
    from analysis.panel import beta_convergence, sigma_convergence, theil

    p = province_panel()
    p20 = p.xs(2020, level="year")
    t = theil("fiscal_exp_per_capita_yuan", "region3")
    b = beta_convergence("fiscal_exp_per_capita_yuan", 2005, 2024)
    bc = beta_convergence("fiscal_exp_per_capita_yuan", 2005, 2024, region_effects=True)
    sg = sigma_convergence("edu_exp_share_pct").dropna()
    sh, tb = p20.loc[310000], p20.loc[540000]
    return {"urban_sh": float(sh["urban_rate_pct"]), "urban_tb": float(tb["urban_rate_pct"]),
            "gdppc_sh": float(sh["gdp_per_capita_yuan"]), "gdppc_tb": float(tb["gdp_per_capita_yuan"]),
            "gdppc_ratio": float(sh["gdp_per_capita_yuan"] / tb["gdp_per_capita_yuan"]),
            "theil_2005": float(t.loc[2005, "total"]), "theil_2024": float(t.loc[2024, "total"]),
            "theil_between_share_2024": 100 * float(t.loc[2024, "between_share"]),
            "beta": b["beta"], "beta_se": b["se"], "beta_half_life": b["half_life_years"],
            "beta_cond": bc["beta"], "beta_cond_se": bc["se"],
            "sigma_edu_first": float(sg.iloc[0]), "sigma_edu_last": float(sg.iloc[-1]),
            "sigma_edu_first_year": int(sg.index[0]), "sigma_edu_last_year": int(sg.index[-1])}


def real_figures() -> dict[str, Any]:
    """Trend figures of the province-level page."""
    from analysis import figures
    from analysis.panel import regional_means, sigma_convergence, theil

    m = regional_means("fiscal_exp_per_capita_yuan", "region4") / 1000
    return {"fig_real_regional": figures.lines(m, ylabel="1000 yuan per head",
                                               title="Public budget spending per head by region (NBS four regions)"),
            "fig_real_theil": figures.theil_plot(theil("fiscal_exp_per_capita_yuan", "region3"),
                                                 title="Inequality of spending per head across provinces"),
            "fig_real_sigma": figures.lines(pd.DataFrame({"sd of log education share": sigma_convergence("edu_exp_share_pct").dropna(),
                                                          "sd of log spending per head": sigma_convergence("fiscal_exp_per_capita_yuan")}),
                                            ylabel="cross-province SD of logs",
                                            title="σ-convergence", palette={})}


def real_panel() -> dict[str, Any]:
    """Panel regressions on the real province panel (tables and Hausman test)."""
    from analysis.panel import panel_regressions

    r = panel_regressions()
    return r


# ---- comparison of waves -------------------------------------------------------------------

def compare_waves() -> list[Wave]:
    """The waves of a comparison build (``$RURALGOV_COMPARE``, path-separated), the report's wave first."""
    import os

    extra = [x for x in os.environ.get(paths.COMPARE_ENV, "").split(os.pathsep) if x]
    return [wave(), *[load_wave(x) for x in extra]]


def compare_notice():  # type: ignore[no-untyped-def]
    """A warning when any compared wave is synthetic."""
    from IPython.display import Markdown

    syn = [w.id for w in compare_waves() if w.synthetic]
    if not syn:
        return None
    verb = "is a synthetic wave" if len(syn) == 1 else "are synthetic waves"
    return Markdown(":::{warning}\n**Synthetic data.** " + ", ".join(f"`{s}`" for s in syn)
                    + f" {verb}: comparisons involving synthetic data illustrate the method only.\n:::")


def compare_table(waves: list[Wave]) -> pd.DataFrame:
    """Degree by region (and overall) in each wave, with CIs."""
    rows = []
    for w in waves:
        v = w.villagers
        res = build_index(v, IndexConfig.load(), codebook=w.codebook)
        d = wave_design(v, w.design_columns)
        for by in (None, "region3"):
            e = degree(v, res, d, by=by).to_frame()
            for r in e.itertuples():
                rows.append({"wave": w.id, "year": w.spec.year, "region": "all" if by is None else r.domain,
                             "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n})
    return suppress(pd.DataFrame(rows), "n", ["estimate", "ci_low", "ci_high"], waves[0])


def compare_figure(waves: list[Wave]):  # type: ignore[no-untyped-def]
    """Degree by region across waves."""
    import matplotlib.pyplot as plt

    from analysis import figures

    figures.set_theme()
    t = compare_table(waves)
    t = t[t["estimate"].map(lambda x: isinstance(x, float))]
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    for k, (region, d) in enumerate(t.groupby("region", sort=True)):
        x = np.arange(len(d)) + (k - 1.5) * 0.08
        ax.errorbar(x, d["estimate"].astype(float), yerr=[d["estimate"].astype(float) - d["ci_low"].astype(float),
                    d["ci_high"].astype(float) - d["estimate"].astype(float)], fmt="o-", capsize=3,
                    label=region, color=figures.REGION_COLORS.get(region, "#444"))
    ax.set_xticks(np.arange(len(waves)), [w.id for w in waves])
    ax.set_ylabel("modernization degree (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def compare_models(waves: list[Wave]) -> dict:
    """Province × wave panel models (needs two or more waves with distinct years)."""
    from analysis.panel import survey_panel, survey_panel_models

    return survey_panel_models(survey_panel(waves))
