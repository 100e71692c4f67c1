"""What the book's pages call: headline numbers, tables and figures of one wave, glued.

Pages hold no analysis; each cell is a short call into this module.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from analysis import paths
from analysis.index import IndexConfig, build_index, degree, wave_design
from analysis.wave import Wave, load_wave


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


def notice(w: Wave | None = None):  # type: ignore[no-untyped-def]
    """A visible admonition when the wave is synthetic (the replica)."""
    from IPython.display import Markdown

    w = w or wave()
    if not w.synthetic:
        return Markdown(f"*Wave `{w.id}`: {w.spec.title}.*")
    return Markdown(
        ":::{warning}\n**Synthetic data.** This report runs on the wave "
        f"`{w.id}`, a *calibrated synthetic replica* of the 2020 survey: microdata generated to "
        "reproduce the figures the seed paper published, because the original microdata are not "
        "public. Its estimates illustrate the method; they are not findings about rural China.\n:::")


@lru_cache(maxsize=4)
def _headline(wave_id: str) -> dict[str, Any]:
    w = load_wave(paths.current_wave()) if wave_id == "" else load_wave(wave_id)
    v = w.villagers
    res = build_index(v, IndexConfig.load(), codebook=w.codebook)
    d = wave_design(v, w.design_columns)
    overall = degree(v, res, d)
    reg = degree(v, res, d, by="region3")
    out: dict[str, Any] = {
        "wave_id": w.id, "n_villagers": len(v), "n_provinces": int(v["province"].nunique()),
        "n_villages": int(v[w.design_columns["psu"]].nunique()) if w.design_columns.get("psu") else 0,
        "n_institutions": 0 if w.institutions is None else len(w.institutions),
        "degree_overall": float(overall.estimate[0]), "degree_overall_se": float(overall.se[0]),
        "wave_sha12": w.sha256[:12],
    }
    for dom, est, se in zip(reg.domains, reg.estimate, reg.se):
        out[f"degree_{dom}"] = float(est)
        out[f"degree_{dom}_se"] = float(se)
    return out


def headline(w: Wave | None = None) -> dict[str, Any]:
    """Headline numbers: sample sizes and the modernization degree overall and by region."""
    return _headline((w or wave()).spec.folder.as_posix())


def sample_composition(w: Wave | None = None) -> pd.DataFrame:
    """Respondents, villages and weighted share (%) by province, with region."""
    w = w or wave()
    v = w.villagers
    psu = w.design_columns.get("psu")
    g = v.groupby(["region3", "province_en"], observed=True)
    out = pd.DataFrame({
        "respondents": g.size(),
        "villages": g[psu].nunique() if psu else g.size() * 0,
        "weighted_share_pct": 100 * g[w.design_columns["weight"]].sum() / v[w.design_columns["weight"]].sum(),
    }).reset_index().rename(columns={"region3": "region", "province_en": "province"})
    return out


def region_composition(w: Wave | None = None) -> pd.DataFrame:
    """Respondents, provinces and weighted share (%) by region."""
    c = sample_composition(w)
    g = c.groupby("region")
    return pd.DataFrame({"provinces": g.size(), "villages": g["villages"].sum(),
                         "respondents": g["respondents"].sum(),
                         "weighted_share_pct": g["weighted_share_pct"].sum()}).reset_index()


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
    return m.sort_values("missing_pct", ascending=False).head(top)[
        ["column", "item", "blank", "declared", "missing_pct"]]


def glue_figure(key: str, fig) -> None:  # type: ignore[no-untyped-def]
    """Glue a figure for a ``{glue:figure}`` directive and close it (so it shows only there)."""
    import matplotlib.pyplot as plt
    from myst_nb import glue

    glue(key, fig, display=False)
    plt.close(fig)


def show_table(df: pd.DataFrame, decimals: int = 1):  # type: ignore[no-untyped-def]
    """A table for a page: no index column, numbers rounded, text escaped."""
    return (df.style.hide(axis="index")
            .format(precision=decimals, thousands=",", escape="html"))
