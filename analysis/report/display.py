"""How a page shows what the package computed: glue, tables, notices.

Pages call these with results of their helper module (:mod:`analysis.report.pages`); nothing here
computes an estimate.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from analysis.i18n import N_, _, say
from analysis.publishing.formats import as_plain
from analysis.publishing.provenance import Source, survey_source
from analysis.publishing.tables import regression_html, regression_markdown, render


def glue_all(values: dict[str, Any], display: bool = False) -> None:
    """Glue plain Python values (numpy scalars become floats/ints, as glue formats need)."""
    from myst_nb import glue

    for k, v in values.items():
        glue(k, as_plain(v), display=display)


def glue_markdown(values: dict[str, str]) -> None:
    """Glue sentences as Markdown, for ``{glue:md}`` (shown as ordinary text, not as a pasted value)."""
    from IPython.display import Markdown
    from myst_nb import glue

    for k, v in values.items():
        glue(k, Markdown(v), display=False)


def glue_figure(key: str, fig) -> None:  # type: ignore[no-untyped-def]
    """Glue a figure for a ``{glue:figure}`` directive and close it (so it shows only there).
    PNG at twice the pixels of its display size ("retina"): sharp on phones and when zoomed."""
    import matplotlib.pyplot as plt
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    from myst_nb import glue

    set_matplotlib_formats("retina")
    glue(key, fig, display=False)
    glue_markdown({f"{key}_data": figure_data_link(fig, key)})
    plt.close(fig)


def figure_data_link(fig, key: str) -> str:  # type: ignore[no-untyped-def]
    """The figure's data as an embedded CSV link (for its caption: ``{glue:md}`<key>_data```),
    or an empty string when the figure carries none (a placeholder)."""
    from analysis.publishing.tables import csv_link

    data = getattr(fig, "ruralgov_data", None)
    if data is None:
        return ""
    return csv_link(data, "figure-" + key.removeprefix("fig_").replace("_", "-"), kind="figure")


def glue_figure_or(key: str, make, why: str) -> None:  # type: ignore[no-untyped-def]
    """Glue the figure ``make()`` builds, or, when the wave cannot give it, a small panel saying
    ``why`` (a page's figure directive always finds its key)."""
    from analysis.publishing import figures

    glue_figure(key, make() if not why else figures.placeholder(why))


def show(df: pd.DataFrame, *, source: Source, page: str = "", title: str = "", note: str = "",
         decimals: int | dict[str, int] = 1, kinds: dict[str, str] | None = None,
         labels: dict[str, str] | None = None, reps: int | dict[str, int] | None = None) -> None:
    """Display a table: HTML for the web, Markdown for other outputs; footer from its source.
    A table of a book page (``page``) is numbered "Table <page>.<k>" (:mod:`analysis.report.numbering`)."""
    from IPython.display import display

    from analysis.report.numbering import next_table

    display(render(df, source=source, page=page, title=title, note=note, decimals=decimals,
                   kinds=kinds, labels=labels, reps=reps, number=next_table(page) if page else ""),
            raw=True)


def show_text(markdown: str) -> None:
    """Display a short Markdown paragraph (a note computed from the study)."""
    from IPython.display import display

    if markdown:
        display({"text/markdown": _(markdown)}, raw=True)


def notice(study):  # type: ignore[no-untyped-def]
    """A visible admonition when the wave is synthetic; the wave's title otherwise."""
    from IPython.display import Markdown

    w = study.wave
    if not w.synthetic:
        return Markdown(_("*Wave `{id}`: {title}.*").format(id=w.id, title=html.escape(w.spec.title)))
    what = {"calibrated": N_("**Synthetic data.** This page runs on the wave `{id}`, a *calibrated "
                             "synthetic replica* of the seed study's survey: microdata generated to "
                             "reproduce the figures the seed paper published, because the original "
                             "microdata are not public. Its estimates illustrate the method; they are not "
                             "findings about rural China."),
            "uncalibrated": N_("**Synthetic data.** This page runs on the wave `{id}`, an *uncalibrated "
                               "synthetic replica* of the seed study's survey: microdata drawn from the "
                               "replica's latent model and not calibrated to the figures the seed paper "
                               "published, which it need not reproduce. Its estimates illustrate the method; "
                               "they are not findings about rural China."),
            "other": N_("**Synthetic data.** This page runs on the wave `{id}`, *synthetic* microdata, not "
                        "observations of a survey (its wave.yml describes no calibration to published "
                        "figures). Its estimates illustrate the method; they are not findings about rural "
                        "China.")}[w.replica_kind]
    return Markdown(":::{warning}\n" + _(what).format(id=w.id) + "\n:::")


def missing_note(lacks: list[str]):  # type: ignore[no-untyped-def]
    """A visible note listing what this wave lacks; nothing when it is complete."""
    from IPython.display import Markdown

    if not lacks:
        return None                  # the cell shows nothing (an empty Markdown would print its repr)
    return Markdown(":::{note}\n" + _("**Not in this wave:** {lacks}. The results that need them are left "
                                       "out and say so; nothing is imputed.").format(lacks=_("; ").join(lacks))
                    + "\n:::")


def regression_table(ms, names: list[str], study, *, title: str = "", page: str = "",  # type: ignore[no-untyped-def]
                     source: Source | None = None) -> None:
    """Display a multi-model regression table for the named models (those fitted)."""
    from IPython.display import display

    from analysis.estimation.results import ModelSet

    missing = [n for n in names if not ms.has(n)]
    names = [n for n in names if ms.has(n)]
    if missing:
        # the reason out of the f-string: babel's extractor does not look inside one
        why = {n: say(ms.skipped.get(n, N_("not fitted"))) for n in missing}
        label = {m.name: m.label for m in study.settings.models.models}
        display({"text/markdown": _("*Not estimated on this wave: {models}.*").format(
            models=_("; ").join(_("{label} (`{id}`: {reason})").format(
                label=_(label[n]) if label.get(n) else n, id=n, reason=w) for n, w in why.items()))},
                raw=True)
    if not names:
        return
    sub = ModelSet(tuple(ms[n] for n in names), study.wave.id, study.wave.synthetic)
    t = sub.table()
    src = source or survey_source(study.wave)
    from analysis.publishing.tables import anchor, csv_link, numbered
    from analysis.report.numbering import next_table

    number = next_table(page) if page else ""
    title = numbered(_(title), number)
    notes = {"source": src, "page": page, "n_tests": sub.n_tests()}
    display({"text/html": anchor(regression_html(t, title=title, **notes) + csv_link(sub.to_frame(), title),
                                 number),
             "text/markdown": regression_markdown(t, title=title, **notes)}, raw=True)
