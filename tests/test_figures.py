"""Each figure draws what its data say: the numbers behind every mark, the order of the rows, the
labels a reader sees, the synthetic tag, and the data offered beneath the figure.

The expected positions are computed here from the input frames (sorting, quantile × SE, clipping, the
boundary file read again), never read back from the function under test.
"""

from __future__ import annotations

import json
import textwrap

import matplotlib
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba

from analysis import i18n
from analysis.publishing import figures

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _english_without_cjk_font(monkeypatch):
    """Every figure in English, names drawn in English: what a machine without a CJK font draws."""
    import matplotlib.pyplot as plt

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    yield
    plt.close("all")


def _segments(ax) -> list[np.ndarray]:
    """The horizontal or vertical segments the axes draw (hlines, error bars)."""
    return [s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()]


def _points(ax) -> np.ndarray:
    """The centres of the scatter marks, in the order drawn."""
    return np.vstack([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])


def _ticks(labels) -> list[str]:
    return [t.get_text() for t in labels]


def _row_labels(ax) -> dict[float, str]:
    """The label of each row of the axes (y position → tick label)."""
    return dict(zip(ax.get_yticks(), _ticks(ax.get_yticklabels())))


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def _rgb(color) -> tuple[float, ...]:
    return tuple(np.round(to_rgba(color)[:3], 6))


def _titles(ax) -> list[str]:
    """The axes' titles at the left, centre and right (the house theme writes at the left)."""
    return [ax.get_title(loc=w) for w in ("left", "center", "right")]


def _year_ticks(ax, first: int) -> list[float]:
    """The x ticks on a span of a year and a fifth from ``first``: a locator free to would tick
    half years there."""
    ax.set_xlim(first, first + 1.2)
    return [t for t in ax.xaxis.get_major_locator()() if first <= t <= first + 1.2]


def _domains() -> pd.DataFrame:
    return pd.DataFrame({"province_en": ["Henan", "Shanghai", "Gansu", "Hubei"],
                         "region3": ["central", "east", "west", "central"],
                         "estimate": [50.0, 61.5, 44.0, 52.0], "ci_low": [47.0, 58.0, 39.5, 50.5],
                         "ci_high": [53.0, 65.0, 48.5, 53.5], "n": [40, 55, 30, 35]})


def test_estimates_with_ci_draw_each_domain_s_interval_and_estimate_on_its_row_from_the_top():
    df = _domains()
    fig = figures.estimates_with_ci(df, label="province_en", hue="region3", xlabel="degree (0–100)",
                                    reference=52.5, synthetic=True)
    ax = fig.axes[0]
    rows = [3, 2, 1, 0]                           # the first domain on the top row
    assert [s.tolist() for s in _segments(ax)] == [[[lo, y], [hi, y]] for lo, hi, y in
                                                   zip(df["ci_low"], df["ci_high"], rows)]
    assert _points(ax).tolist() == [[e, y] for e, y in zip(df["estimate"], rows)]
    ticks = _row_labels(ax)
    assert [ticks[y] for y in rows] == list(df["province_en"])
    segment_colors = [_rgb(c) for c in ax.collections[0].get_colors()]
    assert segment_colors == [_rgb(figures.REGION_COLORS[r]) for r in df["region3"]]
    assert [_rgb(c) for c in ax.collections[1].get_facecolors()] == segment_colors
    (ref,) = ax.lines
    assert list(ref.get_xdata()) == [52.5, 52.5]
    assert ax.get_xlabel() == "degree (0–100)"
    legend = ax.get_legend()
    assert _ticks(legend.get_texts()) == ["east", "central", "west"]      # the house order, those present
    assert [_rgb(h.get_color()) for h in legend.legend_handles] == [
        _rgb(figures.REGION_COLORS[r]) for r in ("east", "central", "west")]
    assert legend.get_title().get_text() == "region"
    assert _texts(fig) == ["synthetic replica"]
    pd.testing.assert_frame_equal(fig.ruralgov_data, df)


def test_estimates_with_ci_without_hue_reference_or_synthetic_tag_draw_none_of_them():
    df = _domains()
    fig = figures.estimates_with_ci(df, label="province_en")
    ax = fig.axes[0]
    assert not ax.lines and ax.get_legend() is None and _texts(fig) == []
    assert {_rgb(c) for c in ax.collections[0].get_colors()} == {_rgb("#444444")}
    by_region = figures.estimates_with_ci(df.assign(province_en=df["region3"]), label="province_en",
                                          hue="province_en")
    assert by_region.axes[0].get_legend() is None          # the rows already name the regions


def test_a_reference_line_at_zero_is_drawn_as_any_other():
    """A difference or contrast figure marks 0: a reference of 0.0 is a line, not "no reference"."""
    df = pd.DataFrame({"domain": ["east − west", "central − west"], "estimate": [8.0, -2.0],
                       "ci_low": [5.0, -5.5], "ci_high": [11.0, 1.5]})
    (ref,) = figures.estimates_with_ci(df, reference=0.0).axes[0].lines
    assert list(ref.get_xdata()) == [0.0, 0.0]


def test_estimates_with_ci_by_default_read_the_domain_and_estimate_columns_without_an_axis_label():
    df = pd.DataFrame({"domain": ["all", "east"], "estimate": [50.0, 60.0], "ci_low": [48.0, 57.0],
                       "ci_high": [52.0, 63.0]})
    ax = figures.estimates_with_ci(df).axes[0]
    assert _ticks(ax.get_yticklabels()) == ["all", "east"]
    assert _points(ax).tolist() == [[50.0, 1.0], [60.0, 0.0]]
    assert ax.get_xlabel() == ""


def test_estimates_with_ci_draw_the_point_from_the_value_column_they_are_given():
    df = _domains().assign(share=[48.5, 60.0, 45.5, 51.0])      # inside each interval, not the estimate
    ax = figures.estimates_with_ci(df, label="province_en", value="share").axes[0]
    assert _points(ax).tolist() == [[v, y] for v, y in zip(df["share"], [3, 2, 1, 0])]


def test_estimates_with_ci_in_the_chinese_edition_name_provinces_and_regions_in_chinese(monkeypatch):
    """With a CJK font, the Chinese edition's rows and legend read Chinese names."""
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: "Noto Sans CJK SC")
    ax = figures.estimates_with_ci(_domains(), label="province_en", hue="region3").axes[0]
    assert _ticks(ax.get_yticklabels()) == ["河南", "上海", "甘肃", "湖北"]
    assert _ticks(ax.get_legend().get_texts()) == ["东部", "中部", "西部"]


def test_estimates_with_ci_name_regions_and_provinces_in_the_reader_s_language(monkeypatch):
    df = _domains().assign(province_en=["河南", "上海", "甘肃", "湖北"])
    ax = figures.estimates_with_ci(df, label="province_en").axes[0]
    assert _ticks(ax.get_yticklabels()) == ["Henan", "Shanghai", "Gansu", "Hubei"]


def test_rank_intervals_sort_provinces_by_median_rank_and_put_rank_one_on_the_right():
    df = pd.DataFrame({"province": ["A", "B", "C", "D"], "region": ["west", "east", "central", None],
                       "median_rank": [3.0, 1.0, 2.0, 4.0], "rank_low": [2.0, 1.0, 1.0, 3.0],
                       "rank_high": [3.0, 2.0, 3.0, 4.0]})
    fig = figures.rank_intervals(df, synthetic=True)
    ax = fig.axes[0]
    order = df.sort_values("median_rank")
    rows = [3, 2, 1, 0]
    assert [s.tolist() for s in _segments(ax)] == [[[lo, y], [hi, y]] for lo, hi, y in
                                                   zip(order["rank_low"], order["rank_high"], rows)]
    assert _points(ax).tolist() == [[m, y] for m, y in zip(order["median_rank"], rows)]
    ticks = _row_labels(ax)
    assert [ticks[y] for y in rows] == ["B", "C", "A", "D"]
    colours = [_rgb(figures.REGION_COLORS.get(r, "#444")) for r in order["region"]]   # no region: grey
    assert colours[-1] == _rgb("#444444")
    assert [_rgb(c) for c in ax.collections[0].get_colors()] == colours
    assert [_rgb(c) for c in ax.collections[1].get_facecolors()] == colours
    left, right = ax.get_xlim()
    assert left > right                               # rank 1 (the highest degree) on the right
    assert ax.get_xlabel() == "rank (1 = highest degree); bar: 95 % bootstrap interval"
    assert _texts(fig) == ["synthetic replica"]
    pd.testing.assert_frame_equal(fig.ruralgov_data, order)


def test_heatmap_writes_every_cell_formatted_in_rows_and_columns_of_the_table():
    df = pd.DataFrame({"east": [61.25, 55.0], "west": [44.5, 40.04]}, index=["education", "health"])
    fig = figures.heatmap(df, title="degree by field", fmt=".1f", synthetic=True)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["61.2", "44.5", "55.0", "40.0"]
    assert _ticks(ax.get_xticklabels()) == ["east", "west"]
    assert _ticks(ax.get_yticklabels()) == ["education", "health"]
    assert ax.get_title(loc="left") == "degree by field"
    assert ax.get_xlabel() == "" and ax.get_ylabel() == ""
    assert _texts(fig) == ["synthetic replica"]
    assert list(fig.ruralgov_data.columns) == ["row", "east", "west"]
    assert list(fig.ruralgov_data["row"]) == ["education", "health"]
    named = figures.heatmap(df.rename_axis("field"))
    assert list(named.ruralgov_data.columns)[0] == "field"
    assert _texts(named) == []
    bare = named.axes[0]
    assert _titles(bare) == ["", "", ""]                          # no title by default
    assert len(named.axes) == 1 and bare.collections[0].cmap.name == "YlGnBu"  # no colour bar; the house map


def _provinces_polygons() -> dict[int, list[np.ndarray]]:
    """Every province's polygons (outer rings) as the boundary file holds them."""
    feats = json.loads(figures.GEOJSON.read_text(encoding="utf-8"))["features"]
    out: dict[int, list[np.ndarray]] = {}
    for f in feats:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        out.setdefault(int(f["properties"]["adcode"]), []).extend(np.asarray(p[0]) for p in polys)
    return out


def test_china_map_colours_each_province_by_its_value_and_hatches_those_without():
    values = pd.Series({110000: 10.0, 310000: 30.0, 440000: 20.0, 650000: np.nan})
    fig = figures.china_map(values, label="respondents", title="sample", synthetic=True)
    ax, bar = fig.axes[0], fig.axes[-1]
    polys = _provinces_polygons()
    shown = [c for c in polys if c in (110000, 310000, 440000)]
    coloured, hatched = ax.collections[0], ax.collections[1]
    cmap = matplotlib.colormaps["viridis"]
    expected = [cmap((values[c] - 10.0) / 20.0) for c in shown for _ in polys[c]]
    np.testing.assert_allclose(coloured.get_facecolors(), expected)
    assert len(coloured.get_paths()) == sum(len(polys[c]) for c in shown)
    assert len(hatched.get_paths()) == sum(len(p) for c, p in polys.items() if c not in shown)
    assert coloured.get_hatch() is None and hatched.get_hatch() == "///"     # Xinjiang: NaN, no data
    first = next(c for c in polys if c not in shown)
    np.testing.assert_allclose(hatched.get_paths()[0].vertices[:len(polys[first][0])], polys[first][0])
    inset = [a for a in ax.child_axes][0]
    assert [len(c.get_paths()) for c in inset.collections] == [len(coloured.get_paths()),
                                                               len(hatched.get_paths())]
    np.testing.assert_allclose(inset.collections[0].get_facecolors(), expected)
    assert inset.get_title(loc="left") == "South China Sea"
    # the highest and the lowest value are outlined and named with their value
    assert sorted(t.get_text() for t in ax.texts) == ["Beijing: 10", "Shanghai: 30"]
    outlined = [p for p in ax.patches if not p.get_fill()]
    assert len(outlined) == 2
    biggest = {c: max(polys[c], key=len) for c in (310000, 110000)}
    for patch, code in zip(outlined, (310000, 110000)):
        np.testing.assert_allclose(patch.get_xy()[:len(biggest[code])], biggest[code])
    assert bar.get_ylabel() == "respondents"
    assert bar.get_ylim() == (10.0, 30.0)
    assert _ticks(ax.get_legend().get_texts()) == ["no data"]
    assert ax.get_title(loc="left") == "sample" and "synthetic replica" in _texts(fig)
    table = fig.ruralgov_data
    assert list(table.columns) == ["adcode", "province", "respondents"]
    assert table.values.tolist() == [[110000, "Beijing", 10.0], [310000, "Shanghai", 30.0],
                                     [440000, "Guangdong", 20.0]]


def test_china_map_marks_the_provinces_asked_for_with_the_format_given():
    values = pd.Series({110000: 10.0, 310000: 30.25, 440000: 20.0})
    fig = figures.china_map(values, label="degree", mark=(440000, 620000), fmt="{:.1f}",
                            missing_note="not surveyed")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["Guangdong: 20.0", "Gansu: –"]
    assert _ticks(ax.get_legend().get_texts()) == ["not surveyed"]
    assert _texts(fig) == []
    one = figures.china_map(pd.Series({110000: 5.0}), label="degree")
    assert len(one.axes[0].texts) == 0               # one value: no highest and lowest to mark


def test_china_map_without_any_value_hatches_every_province_on_a_bar_from_0_to_1():
    """A wave whose every province is withheld: nothing coloured, every province hatched, and a
    colour bar of 0 to 1 rather than one of NaN."""
    fig = figures.china_map(pd.Series({450000: np.nan, 110000: np.nan}), label="degree")
    ax, bar = fig.axes[0], fig.axes[-1]
    coloured, hatched = ax.collections[0], ax.collections[1]
    assert len(coloured.get_paths()) == 0
    assert len(hatched.get_paths()) == sum(len(p) for p in _provinces_polygons().values())
    assert bar.get_ylim() == (0.0, 1.0) and len(ax.texts) == 0


@pytest.mark.parametrize("value, half", [(51.95, 0.05 * 51.95), (5.0, 1.0), (0.0, 1.0)])
def test_china_map_gives_a_single_value_the_middle_of_its_colour_scale(value, half):
    """A wave of one province (or provinces all equal): its colour is the scale's middle, on a
    bar of ±5 % (at least ±1) around the value, not the bottom end of a scale of zero width."""
    fig = figures.china_map(pd.Series({450000: value}), label="degree")
    coloured, bar = fig.axes[0].collections[0], fig.axes[-1]
    mid = matplotlib.colormaps["viridis"](0.5)
    np.testing.assert_allclose(coloured.get_facecolors(), [mid] * len(coloured.get_paths()))
    np.testing.assert_allclose(bar.get_ylim(), (value - half, value + half))


def test_china_map_scales_from_its_lowest_value_wherever_it_lies_with_the_colour_map_asked_for():
    """The colour scale runs from the lowest to the highest value whichever province comes first
    in the boundary file (Beijing here holds neither), in the colour map asked for, and the colour
    bar shows that scale; the legend's no-data swatch is drawn as the no-data provinces are; the
    map has no frame, no default title, and its inset a visible frame."""
    values = pd.Series({110000: 20.0, 310000: 30.0, 440000: 10.0})
    fig = figures.china_map(values, label="degree", cmap="Blues")
    ax, bar = fig.axes[0], fig.axes[-1]
    polys = _provinces_polygons()
    shown = [c for c in polys if c in values.index]
    cmap = matplotlib.colormaps["Blues"]
    expected = [cmap((values[c] - 10.0) / 20.0) for c in shown for _ in polys[c]]
    np.testing.assert_allclose(ax.collections[0].get_facecolors(), expected)
    assert bar.get_ylim() == (10.0, 30.0)
    solids = [c for c in bar.collections if c.norm.vmin is not None]           # the bar's colours
    assert [(c.get_cmap().name, c.norm.vmin, c.norm.vmax) for c in solids] == [("Blues", 10.0, 30.0)]
    swatch = ax.get_legend().get_patches()[0]
    hatched = ax.collections[1]
    np.testing.assert_allclose(swatch.get_facecolor(), hatched.get_facecolors()[0])
    assert swatch.get_hatch() == hatched.get_hatch() == "///"
    assert not ax.axison and _titles(ax) == ["", "", ""]
    inset = ax.child_axes[0]
    assert all(side.get_visible() for side in inset.spines.values())
    assert sorted(t.get_text() for t in ax.texts) == ["Guangdong: 10", "Shanghai: 30"]


def test_china_map_shows_every_province_and_the_south_china_sea_islands_in_their_inset():
    """The map's view holds every polygon north of 17° N (the mainland, Hainan, Taiwan), the inset's
    every island south of it, zoomed on them, and the inset lies within the map's axes."""
    fig = figures.china_map(pd.Series({110000: 10.0, 310000: 30.0}), label="degree")
    ax = fig.axes[0]
    inset = ax.child_axes[0]
    rings = [r for rs in _provinces_polygons().values() for r in rs]
    islands = np.vstack([r for r in rings if r[:, 1].max() < 17])
    land = np.vstack([r for r in rings if r[:, 1].max() >= 17])
    for axes, pts in ((ax, land), (inset, islands)):
        (x0, x1), (y0, y1) = axes.get_xlim(), axes.get_ylim()
        assert x0 <= pts[:, 0].min() and pts[:, 0].max() <= x1
        assert y0 <= pts[:, 1].min() and pts[:, 1].max() <= y1
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    assert x0 > 100 and x1 - x0 <= 20 and y1 - y0 <= 25        # zoomed on the sea, not the country
    fig.canvas.draw()
    outer, inner = ax.get_window_extent(), inset.get_window_extent()
    assert outer.x0 - 0.5 <= inner.x0 < inner.x1 <= outer.x1 + 0.5
    assert outer.y0 - 0.5 <= inner.y0 < inner.y1 <= outer.y1 + 0.5


def test_china_map_marks_two_values_and_passes_over_a_code_without_a_boundary(monkeypatch):
    """Two values are the highest and the lowest, both marked; a mark with no boundary in the file
    is passed over and the marks after it are still drawn; a mark names the province as the edition
    does: in English in the English edition, whatever fonts are installed (tests/test_i18n.py: in
    the Chinese edition)."""
    two = figures.china_map(pd.Series({110000: 10.0, 310000: 30.0}), label="degree")
    assert sorted(t.get_text() for t in two.axes[0].texts) == ["Beijing: 10", "Shanghai: 30"]
    fig = figures.china_map(pd.Series({110000: 10.0, 310000: 30.0}), label="degree", mark=(999999, 310000))
    assert [t.get_text() for t in fig.axes[0].texts] == ["Shanghai: 30"]
    monkeypatch.setattr(figures, "cjk_font", lambda: "Noto Sans CJK SC")
    en = figures.china_map(pd.Series({110000: 10.0, 310000: 30.0}), label="degree", mark=(310000,))
    assert [t.get_text() for t in en.axes[0].texts] == ["Shanghai: 30"]


def test_distributions_draw_a_box_per_column_in_the_order_given_and_offer_its_percentiles():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"east": rng.normal(60, 2, 400), "west": rng.normal(45, 3, 400),
                       "central": rng.normal(50, 1, 400)})
    fig = figures.distributions(df, xlabel="score", synthetic=True, order=["west", "central", "east"])
    ax = fig.axes[0]
    assert _ticks(ax.get_yticklabels()) == ["west", "central", "east"]
    # each box's median line stands at its column's median, on its row
    medians = {}
    for line in ax.lines:
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        if len(x) == 2 and x[0] == x[1] and len(set(y)) == 2:
            medians.setdefault(round(float(np.mean(y))), []).append(x[0])
    for row, col in enumerate(["west", "central", "east"]):
        assert df[col].median() == pytest.approx(min(medians[row], key=lambda v: abs(v - df[col].median())))
    assert ax.get_xlabel() == "score" and ax.get_ylabel() == "" and _texts(fig) == ["synthetic replica"]
    stats = fig.ruralgov_data.set_index("item")
    assert list(stats.index) == ["east", "west", "central"]
    assert stats.loc["west", "2.5%"] == pytest.approx(np.percentile(df["west"], 2.5))
    assert stats.loc["west", "97.5%"] == pytest.approx(np.percentile(df["west"], 97.5))
    assert stats.loc["central", "50%"] == pytest.approx(df["central"].median())


def test_sobol_bars_draw_clipped_first_order_and_total_indices_in_one_panel_per_output():
    s = pd.DataFrame({"input": ["normalisation", "weighting"] * 2,
                      "output": ["national score"] * 2 + ["provincial ranks"] * 2,
                      "first_order": [0.5, 1.2, -0.1, 0.3], "total": [0.6, 0.9, 0.2, 0.4]})
    fig = figures.sobol_bars(s, synthetic=True)
    panels = fig.axes
    assert [a.get_title(loc="left") for a in panels] == ["national score", "provincial ranks"]
    for ax, (first, total) in zip(panels, [([0.5, 1.0], [0.6, 0.9]), ([0.0, 0.3], [0.2, 0.4])]):
        bars = [p for p in ax.patches if p.get_height() > 0]
        assert [round(p.get_width(), 12) for p in bars] == first + total
        assert ax.get_xlim() == (0, 1) and list(ax.get_xticks()) == [0, 0.5, 1]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("", "")       # the figure's own x label says it
    assert _ticks(panels[0].get_yticklabels()) == ["normalisation", "weighting"]   # the y axis is shared
    legend = fig.legends[0]
    assert _ticks(legend.get_texts()) == ["first-order", "total"]
    assert _texts(fig) == ["share of the output's variance", "synthetic replica"]
    pd.testing.assert_frame_equal(fig.ruralgov_data, s)


@pytest.mark.parametrize("outputs", [["east-west gap"], ["east-west gap", "province ranks (mean over provinces)"]])
def test_sobol_bars_give_each_panel_room_whatever_the_number_of_outputs(outputs):
    """A wave with a single output (only the gap, or only the ranks) gets one panel beside the
    longest input labels the sensitivity page draws: the legend, above the panels, must leave it
    room (beside a single narrow panel it left none, and the figure could not be drawn)."""
    inputs = ["normalisation method", "weighting method", "aggregation method",
              "weights perturbed at random", "sampling (Rao–Wu bootstrap replicate)"]
    s = pd.DataFrame({"input": inputs * len(outputs), "output": np.repeat(outputs, len(inputs)),
                      "first_order": 0.2, "total": 0.3})
    fig = figures.sobol_bars(s, synthetic=True)
    fig.canvas.draw()
    assert len(fig.axes) == len(outputs)
    for ax in fig.axes:
        assert ax.get_window_extent().width / fig.dpi >= 1.5          # inches
    (legend,) = fig.legends
    assert _ticks(legend.get_texts()) == ["first-order", "total"]
    top = max(ax.get_window_extent().y1 for ax in fig.axes)
    assert legend.get_window_extent().y0 > top          # above the panels, over none of them


def test_sobol_bars_colour_each_index_and_name_inputs_and_outputs_in_the_edition(monkeypatch):
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    monkeypatch.setattr(figures, "cjk_font", lambda: "Noto Sans CJK SC")
    s = pd.DataFrame({"input": ["normalisation method", "weighting method"] * 2,
                      "output": ["east-west gap"] * 2 + ["province ranks (mean over provinces)"] * 2,
                      "first_order": [0.5, 0.2, 0.1, 0.3], "total": [0.6, 0.3, 0.2, 0.4]})
    fig = figures.sobol_bars(s, synthetic=False)
    panels = fig.axes
    assert [a.get_title(loc="left") for a in panels] == ["东西部差距", "省份排名（各省份平均）"]
    assert _ticks(panels[0].get_yticklabels()) == ["标准化方法", i18n._("weighting method")]
    assert _ticks(fig.legends[0].get_texts()) == [i18n._("first-order"), i18n._("total")]
    for ax in panels:
        bars = [p for p in ax.patches if p.get_height() > 0]
        shades = [_rgb(sns.desaturate(c, 0.75)) for c in ("#6baed6", "#08519c")]     # bars' saturation
        assert [_rgb(p.get_facecolor()) for p in bars] == [shades[0]] * 2 + [shades[1]] * 2


def test_coef_plot_draws_every_model_even_more_than_a_palette_holds():
    """Eleven models: the colour-blind palette holds ten colours, and the eleventh model still gets
    its dot, its interval and its legend entry."""
    models = [f"model {i}" for i in range(11)]
    tidy = pd.DataFrame({"label": "income", "model_label": models, "estimate": np.arange(11.0),
                         "ci_low": np.arange(11.0) - 1, "ci_high": np.arange(11.0) + 1})
    fig = figures.coef_plot(tidy, synthetic=False)
    ax = fig.axes[0]
    assert _ticks(ax.get_legend().get_texts()) == models
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 11


def _table1(published: bool) -> pd.DataFrame:
    t = pd.DataFrame({"field": ["education", "education", "health"],
                      "problem": ["teachers lacking for English and music lessons in village schools",
                                  "no school bus", "clinic too far"],
                      "item": ["e1", "e2", "h1"], "estimate": [40.0, 25.0, 30.0],
                      "ci_low": [35.0, 20.0, 26.0], "ci_high": [45.0, 30.0, 34.0]})
    return t.assign(published=[41.2, 24.0, 29.5]) if published else t


@pytest.mark.parametrize("published", [True, False])
def test_table1_plot_draws_a_panel_per_field_with_each_problem_s_interval(published):
    t = _table1(published)
    fig = figures.table1_plot(t, synthetic=True)
    edu, health = fig.axes
    assert [edu.get_title(loc="left"), health.get_title(loc="left")] == ["education", "health"]
    assert [s.tolist() for s in _segments(edu)] == [[[35.0, 1.0], [45.0, 1.0]], [[20.0, 0.0], [30.0, 0.0]]]
    assert [s.tolist() for s in _segments(health)] == [[[26.0, 0.0], [34.0, 0.0]]]
    dots = [c.get_offsets().tolist() for c in edu.collections if isinstance(c, PathCollection)]
    assert dots[0] == [[40.0, 1.0], [25.0, 0.0]]
    assert dots[1:] == ([[[41.2, 1.0], [24.0, 0.0]]] if published else [])
    assert _ticks(edu.get_legend().get_texts()) == (["estimate, 95 % CI", "published"] if published
                                                    else ["estimate, 95 % CI"])
    ticks = _row_labels(edu)
    assert [ticks[1], ticks[0]] == [textwrap.fill(t["problem"][0], 40), "no school bus"]
    assert "\n" in ticks[1]
    assert health.get_xlabel().startswith("% of respondents")
    # each field's panel as tall as its number of problems: a row has one height throughout
    assert edu.get_position().height == pytest.approx(2 * health.get_position().height, rel=1e-6)
    assert _texts(fig) == ["synthetic replica"]
    assert "item" not in fig.ruralgov_data and len(fig.ruralgov_data) == 3
    # the figure's data hold every value it draws: the published ring where there is one
    data = fig.ruralgov_data
    for col in ("estimate", "ci_low", "ci_high"):
        assert data[col].tolist() == t[col].tolist()
    assert ("published" in data) is published
    if published:
        assert data["published"].tolist() == [41.2, 24.0, 29.5]


def test_table1_plot_labels_the_last_of_three_panels_and_draws_a_single_field_alone():
    """The x label under the bottom panel, the legend in the top one, whatever the number of
    fields; problems wrapped at 40 characters (a 41-character one on two lines)."""
    forty_one = "a" * 35 + " bcdef"
    t = pd.DataFrame({"field": ["education", "health", "culture"], "problem": [forty_one, "clinic", "library"],
                      "estimate": [40.0, 30.0, 20.0], "ci_low": [35.0, 26.0, 15.0], "ci_high": [45.0, 34.0, 25.0]})
    fig = figures.table1_plot(t, synthetic=False)
    top, middle, bottom = fig.axes
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "% of respondents (education: of township institutions)"]
    # one x scale for all fields (each panel's own data would give three): prevalences compare
    assert top.get_xlim() == middle.get_xlim() == bottom.get_xlim()
    assert top.get_xlim()[0] <= 15 and top.get_xlim()[1] >= 45
    assert top.get_legend() is not None and middle.get_legend() is None and bottom.get_legend() is None
    assert _row_labels(top) == {0: "a" * 35 + "\nbcdef"}
    assert _texts(fig) == []                                  # a real wave: no tag
    one = figures.table1_plot(t.iloc[1:2], synthetic=True)
    (ax,) = one.axes
    assert ax.get_title(loc="left") == "health" and ax.get_xlabel().startswith("% of respondents")
    assert _row_labels(ax) == {0: "clinic"} and _texts(one) == ["synthetic replica"]


def test_coef_plot_draws_each_model_s_intervals_side_by_side_on_each_term_s_row():
    tidy = pd.DataFrame({"label": ["income", "education", "income", "education", "age"],
                         "model_label": ["OLS", "OLS", "survey", "survey", "survey"],
                         "estimate": [1.0, 2.0, 1.5, 2.5, -0.5], "ci_low": [0.5, 1.0, 1.0, 2.0, -1.0],
                         "ci_high": [1.5, 3.0, 2.0, 3.0, 0.0]})
    fig = figures.coef_plot(tidy, synthetic=True, xlabel="points")
    ax = fig.axes[0]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    ols, survey = ([s.tolist() for s in c.get_segments()] for c in lines)
    # rows from the top: income 2, education 1, age 0; OLS 0.09 below, survey 0.09 above
    assert np.allclose(ols[:2], [[[0.5, 1.91], [1.5, 1.91]], [[1.0, 0.91], [3.0, 0.91]]])
    assert np.isnan(ols[2]).all() if len(ols) == 3 else True       # OLS has no age
    assert np.allclose(survey, [[[1.0, 2.09], [2.0, 2.09]], [[2.0, 1.09], [3.0, 1.09]], [[-1.0, 0.09], [0.0, 0.09]]])
    marks = [c for c in ax.collections if isinstance(c, PathCollection)]
    dots = [c.get_offsets() for c in marks]
    assert np.allclose(np.asarray(dots[1]), [[1.5, 2.09], [2.5, 1.09], [-0.5, 0.09]])
    assert [_rgb(c.get_facecolors()[0]) for c in marks] == [_rgb(c) for c in sns.color_palette("colorblind", 2)]
    ticks = _row_labels(ax)
    assert [ticks[2], ticks[1], ticks[0]] == ["income", "education", "age"]
    assert [list(line.get_xdata()) for line in ax.lines] == [[0, 0]]
    assert _ticks(ax.get_legend().get_texts()) == ["OLS", "survey"]
    # the colour-blind-safe palette, one colour per model
    assert [_rgb(c.get_colors()[0]) for c in lines] == [_rgb(c) for c in sns.color_palette("colorblind", 2)]
    assert ax.get_xlabel() == "points" and _texts(fig) == ["synthetic replica"]
    pd.testing.assert_frame_equal(fig.ruralgov_data, tidy)


@pytest.mark.parametrize(("df", "q"), [(None, 1.959963985), (10, 2.228138852)])     # z and t(0.975; 10)
def test_ame_plot_draws_each_term_s_effects_in_points_with_95_percent_bars_on_the_model_s_df(df, q):
    ame = pd.DataFrame({"term": ["x", "x", "y", "y"], "category": [1, 2, 1, 2],
                        "ame": [0.01, -0.01, 0.02, -0.02], "se": [0.001, 0.002, 0.003, 0.004]})
    long = "a label long enough to be wrapped on two lines"
    fig = figures.ame_plot(ame, synthetic=True, labels={"x": long}, df=df)
    panels = [a for a in fig.axes if a.get_title(loc="left")]
    assert [a.get_title(loc="left") for a in panels] == [textwrap.fill(long, 24), "y"]
    for ax, (a, se) in zip(panels, [([1.0, -1.0], [0.1, 0.2]), ([2.0, -2.0], [0.3, 0.4])]):
        (dots,) = [line for line in ax.lines if line.get_marker() == "o"]
        assert list(np.asarray(dots.get_xdata(), float)) == [1.0, 2.0]
        assert np.allclose(np.asarray(dots.get_ydata(), float), a)
        bars = [s.tolist() for s in _segments(ax)]
        assert np.allclose(bars, [[[c, v - q * e], [c, v + q * e]] for c, v, e in zip([1, 2], a, se)],
                           rtol=1e-9, atol=1e-12)
        assert [list(line.get_ydata()) for line in ax.lines if line is not dots] == [[0, 0]]
        assert list(ax.get_xticks()) == [1, 2]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("", "")   # the figure's own labels say it once
    assert "change in probability (percentage points)" in _texts(fig)
    assert "satisfaction category (1 = very dissatisfied … 5 = very satisfied)" in _texts(fig)
    assert "synthetic replica" in _texts(fig)
    fig.canvas.draw()
    for ax in panels:                    # every panel numbers its own axes (the grid shares them)
        shown = [t.get_text() for t in ax.get_yticklabels() if t.get_visible()]
        assert len(shown) >= 3 and all(shown)
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_visible()] == ["1", "2"]
    d = fig.ruralgov_data
    assert list(d["term"]) == [long, long, "y", "y"]
    np.testing.assert_allclose(d["ame_pp"], 100 * ame["ame"])                 # in the units drawn
    np.testing.assert_allclose(d["lo_pp"], 100 * (ame["ame"] - q * ame["se"]), rtol=1e-9)
    np.testing.assert_allclose(d["hi_pp"], 100 * (ame["ame"] + q * ame["se"]), rtol=1e-9)


def test_oaxaca_plot_draws_contributions_sorted_with_1_96_se_error_bars():
    detail = pd.DataFrame({"label": ["income", "roads", "schooling"], "explained": [2.0, -1.0, 0.5],
                           "se": [0.5, 0.2, 0.1]})
    fig = figures.oaxaca_plot(detail, synthetic=True, groups=("east", "west"), group="region3")
    ax = fig.axes[0]
    order = detail.sort_values("explained")
    assert [(p.get_x(), p.get_width(), p.get_y() + p.get_height() / 2) for p in ax.patches] == [
        (0, v, y) for y, v in enumerate(order["explained"])]
    assert np.allclose([s.tolist() for s in _segments(ax)],
                       [[[v - 1.96 * e, y], [v + 1.96 * e, y]] for y, (v, e) in
                        enumerate(zip(order["explained"], order["se"]))])
    assert _ticks(ax.get_yticklabels()) == list(order["label"])
    assert [list(line.get_xdata()) for line in ax.lines if line.get_linestyle() == "-"
            and len(line.get_xdata()) == 2] == [[0, 0]]
    assert ax.get_xlabel() == "points of the gap between east and west explained by differences in each characteristic"
    bare = figures.oaxaca_plot(detail, synthetic=False).axes[0]
    assert bare.get_xlabel() == "points of the gap explained by differences in each characteristic"
    # groups of no named column
    unnamed = figures.oaxaca_plot(detail, synthetic=False, groups=("urban", "rural")).axes[0]
    assert unnamed.get_xlabel().startswith("points of the gap between urban and rural explained")
    assert _texts(fig) == ["synthetic replica"]
    pd.testing.assert_frame_equal(fig.ruralgov_data, detail)


def test_lines_draw_each_series_and_do_not_join_them_across_a_break():
    df = pd.DataFrame({"east": [1.0, 2.0, 3.0, 4.0], "west": [0.5, 1.0, 1.5, 2.5]},
                      index=pd.Index([2016, 2017, 2018, 2019], name="year"))
    plain = figures.lines(df, ylabel="GDP", title="t").axes[0]
    assert [(list(line.get_xdata()), list(line.get_ydata())) for line in plain.lines] == [
        (list(df.index), list(df[c])) for c in df.columns]
    assert [_rgb(line.get_color()) for line in plain.lines] == [_rgb(figures.REGION_COLORS[c]) for c in df]
    assert _ticks(plain.get_legend().get_texts()) == ["east", "west"]
    assert plain.get_ylabel() == "GDP" and plain.get_title(loc="left") == "t"
    fig = figures.lines(df, ylabel="GDP", break_year=2018, break_label="new series",
                        palette={"east": "#000000", "west": "#ff0000"})
    ax = fig.axes[0]
    drawn = [(list(line.get_xdata()), list(line.get_ydata()), _rgb(line.get_color())) for line in ax.lines]
    assert drawn[:4] == [([2016, 2017], [1.0, 2.0], _rgb("#000000")), ([2018, 2019], [3.0, 4.0], _rgb("#000000")),
                         ([2016, 2017], [0.5, 1.0], _rgb("#ff0000")), ([2018, 2019], [1.5, 2.5], _rgb("#ff0000"))]
    assert list(drawn[4][0]) == [2017.5, 2017.5]
    assert [t.get_text() for t in ax.texts] == ["new series"]
    # the label just right of the dashed line, at the top of the plot (axis fraction 0.98)
    assert ax.texts[0].get_position() == (2017.6, 0.98)
    assert ax.texts[0].get_transform() is ax.get_xaxis_transform()
    assert {line.get_marker() for line in ax.lines[:4] + plain.lines} == {"o"}   # each year a dot
    default = figures.lines(df, ylabel="GDP", break_year=2018).axes[0]
    assert [t.get_text() for t in default.texts] == ["series break"]
    assert _ticks(ax.get_legend().get_texts()) == ["east", "west"]
    assert list(fig.ruralgov_data.columns) == ["year", "east", "west"]
    unnamed = figures.lines(df.rename_axis(None), ylabel="GDP")
    assert list(unnamed.ruralgov_data.columns)[0] == "year"
    bare = unnamed.axes[0]                       # no title, no x label (the years say it): whole years
    assert _titles(bare) == ["", "", ""] and bare.get_xlabel() == ""
    ticks = _year_ticks(bare, 2016)
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_theil_plot_stacks_within_on_between():
    t = pd.DataFrame({"between": [0.1, 0.2], "within": [0.3, 0.1]}, index=[2019, 2020])
    fig = figures.theil_plot(t, title="inequality")
    ax = fig.axes[0]
    lower, upper = (c.get_paths()[0].vertices for c in ax.collections)
    top = {x: y for x, y in upper if y == max(v for u, v in upper if u == x)}
    assert top == {2019: pytest.approx(0.4), 2020: pytest.approx(0.3)}
    assert {x: max(v for u, v in lower if u == x) for x in (2019, 2020)} == {2019: 0.1, 2020: 0.2}
    assert _ticks(ax.get_legend().get_texts()) == ["between regions", "within regions"]
    assert ax.get_ylabel() == "Theil T" and ax.get_title(loc="left") == "inequality"
    assert list(fig.ruralgov_data.columns) == ["year", "between", "within"]
    # between dark, within light: the house blues, not the colour cycle
    assert [_rgb(c.get_facecolor()[0]) for c in ax.collections] == [_rgb("#1b6ca8"), _rgb("#9ecae1")]
    bare = figures.theil_plot(t).axes[0]                     # no title by default; whole years
    assert _titles(bare) == ["", "", ""]
    ticks = _year_ticks(bare, 2019)
    assert ticks and all(float(x).is_integer() for x in ticks)


def test_the_house_theme_writes_in_dejavu_sans_falling_back_to_the_cjk_font(monkeypatch):
    import matplotlib as mpl

    cjk = "Noto Sans CJK SC"
    for font, families in ((None, ["DejaVu Sans"]), (cjk, ["DejaVu Sans", cjk])):
        monkeypatch.setattr(figures, "cjk_font", lambda font=font: font)
        figures.set_theme()
        assert list(mpl.rcParams["font.family"]) == families


def test_sample_by_province_draws_each_province_s_respondents_grouped_by_region():
    comp = pd.DataFrame({"province": ["Henan", "Shanghai", "Gansu", "Hubei", "Jiangsu"],
                         "region": ["central", "east", "west", "central", "east"],
                         "respondents": [40, 55, 30, 62, 20]})
    fig = figures.sample_by_province(comp, synthetic=True)
    ax = fig.axes[0]
    order = comp.sort_values(["region", "respondents"], ascending=[True, False])
    bars = sorted((p for p in ax.patches if p.get_width() > 0), key=lambda p: p.get_y())
    assert [p.get_width() for p in bars] == list(order["respondents"])
    assert _ticks(ax.get_yticklabels()) == list(order["province"])
    # seaborn draws bars at 75 % saturation
    assert [_rgb(p.get_facecolor()) for p in bars] == [_rgb(sns.desaturate(figures.REGION_COLORS[r], 0.75))
                                                       for r in order["region"]]
    assert _ticks(ax.get_legend().get_texts()) == ["central", "east", "west"]
    assert ax.get_legend().get_title().get_text() == "region"
    # the legend's keys carry the regions' colours, in its order
    assert [_rgb(h.get_facecolor()) for h in ax.get_legend().legend_handles] == [
        _rgb(sns.desaturate(figures.REGION_COLORS[r], 0.75)) for r in ("central", "east", "west")]
    # one full-height bar a province, centred on its own tick (not dodged beside absent regions)
    ticks = list(ax.get_yticks())
    assert [p.get_y() + p.get_height() / 2 for p in bars] == pytest.approx(ticks)
    assert ticks == list(range(len(comp))) and {round(p.get_height(), 6) for p in bars} == {0.8}
    assert ax.get_xlabel() == "respondents (villager questionnaires)" and ax.get_ylabel() == ""
    assert _texts(fig) == ["synthetic replica"]
    assert list(fig.ruralgov_data["province"]) == list(order["province"])
    # a wave that names its provinces in Chinese: the English edition's ticks read English
    zh = comp.assign(province=["河南", "上海", "甘肃", "湖北", "江苏"])
    zax = figures.sample_by_province(zh, synthetic=False).axes[0]
    assert _ticks(zax.get_yticklabels()) == ["Hubei", "Henan", "Shanghai", "Jiangsu", "Gansu"]
    assert list(zax.get_yticks()) == list(range(len(comp)))        # each name on its own bar


def test_placeholder_says_why_and_draws_no_axes():
    fig = figures.placeholder("this wave has no province with two PSUs")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["this wave has no province with two PSUs"]
    assert not ax.axison
    (t,) = ax.texts                                   # in the middle of the panel, wrapped to it
    assert t.get_position() == (0.5, 0.5) and t.get_transform() is ax.transAxes and t.get_wrap()


def test_attach_keeps_a_copy_of_the_data_with_its_index_as_columns():
    import matplotlib.pyplot as plt

    s = pd.Series([1.0, 2.0], index=pd.Index(["a", "b"], name="domain"), name="estimate")
    fig = figures.attach(plt.figure(), s)
    assert fig.ruralgov_data.to_dict("list") == {"domain": ["a", "b"], "estimate": [1.0, 2.0]}
    unnamed = figures.attach(plt.figure(), pd.Series([3.0], name="estimate")).ruralgov_data
    assert isinstance(unnamed, pd.DataFrame) and list(unnamed.columns) == ["estimate"]
    multi = pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)]))
    assert list(figures.attach(plt.figure(), multi).ruralgov_data.columns) == ["level_0", "level_1", "v"]
    plain = pd.DataFrame({"v": [1, 2]})
    kept = figures.attach(plt.figure(), plain).ruralgov_data
    assert list(kept.columns) == ["v"]
    plain.loc[0, "v"] = 99
    assert kept["v"].tolist() == [1, 2]              # a copy: later changes do not reach the CSV


@pytest.mark.parametrize("draw", ["estimates_with_ci", "sobol_bars", "ame_plot"])
def test_the_synthetic_tag_is_drawn_inside_the_figure_in_its_bottom_right_corner(draw):
    """A reader of a figure of the replica sees that it is synthetic: the tag lies within the
    figure (not cut off by the canvas), in the corner clear of titles and legends."""
    if draw == "estimates_with_ci":
        fig = figures.estimates_with_ci(_domains(), label="province_en", synthetic=True)
    elif draw == "sobol_bars":
        fig = figures.sobol_bars(pd.DataFrame({"input": ["weighting"], "output": ["national score"],
                                               "first_order": [0.5], "total": [0.6]}), synthetic=True)
    else:
        fig = figures.ame_plot(pd.DataFrame({"term": ["x", "x"], "category": [1, 2], "ame": [0.01, -0.01],
                                             "se": [0.001, 0.001]}), synthetic=True)
    (tag,) = [t for t in fig.texts if t.get_text() == "synthetic replica"]
    x, y = tag.get_position()
    assert 0.9 < x <= 1.0 and 0.0 <= y < 0.05
    assert (tag.get_ha(), tag.get_va()) == ("right", "bottom")
    fig.canvas.draw()
    box, canvas = tag.get_window_extent(), fig.bbox
    assert canvas.x0 <= box.x0 < box.x1 <= canvas.x1 and canvas.y0 <= box.y0 < box.y1 <= canvas.y1


def test_ame_plot_puts_four_terms_a_row_on_one_shared_scale():
    """The panels are compared with each other: one y scale for all (a small effect looks small
    beside a large one), four panels a row."""
    terms = ["a", "b", "c", "d", "e"]
    ame = pd.DataFrame({"term": np.repeat(terms, 2), "category": [1, 2] * 5,
                        "ame": np.repeat([0.001, 0.01, 0.02, 0.05, 0.3], 2) * np.tile([1, -1], 5), "se": 0.001})
    fig = figures.ame_plot(ame, synthetic=False)
    panels = [a for a in fig.axes if a.get_title(loc="left")]
    assert [a.get_title(loc="left") for a in panels] == terms
    assert len({a.get_ylim() for a in panels}) == 1
    assert panels[0].get_ylim()[1] >= 100 * 0.3
    rows = [round(a.get_position().y0, 6) for a in panels]
    assert rows[:4] == [rows[0]] * 4 and rows[4] < rows[0]
    assert round(panels[4].get_position().x0, 6) == round(panels[0].get_position().x0, 6)
    fig.canvas.draw()
    for ax in panels:                    # the panel above another numbers its categories too
        assert [t.get_text() for t in ax.get_xticklabels() if t.get_visible()] == ["1", "2"]


def test_lines_mark_every_year_so_a_year_between_missing_ones_shows():
    """2005 known, 2006 missing: a line alone draws nothing for 2005; its dot does."""
    df = pd.DataFrame({"east": [20.2, np.nan, 18.0, 17.5]}, index=pd.Index([2005, 2006, 2007, 2008], name="year"))
    for fig in (figures.lines(df, ylabel="y"), figures.lines(df, ylabel="y", break_year=2008)):
        first = fig.axes[0].lines[0]
        assert first.get_marker() == "o" and first.get_markersize() > 0
        assert np.asarray(first.get_xdata())[0] == 2005 and np.asarray(first.get_ydata())[0] == 20.2
