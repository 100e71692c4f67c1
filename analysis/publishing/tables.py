"""Publication tables: formatted, escaped, with their notes and provenance; and safe exports.

:func:`render` turns a tidy frame into the HTML (great_tables) and Markdown a page displays: the
numbers through :mod:`analysis.publishing.formats`, suppressed cells as the disclosure mark with
their footnote, the source's footer (:class:`analysis.publishing.provenance.Source`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, TextIO

import pandas as pd

from analysis import paths
from analysis.i18n import PROVINCE_COLUMNS, REGION_COLUMNS, _, category, lang, reasons, split_reasons
from analysis.publishing.disclosure import suppression_note
from analysis.publishing.formats import dagger_reasons, format_frame
from analysis.publishing.labels import column_label
from analysis.publishing.provenance import Source
from analysis.publishing.reliability import cell_flags

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+``, ``-``,
    ``@``...) get a leading apostrophe; numbers are left alone."""
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[c] = s.map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START)
                           else v)
    return out


def safe_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV atomically, formula cells escaped; refuses to write under ``data/waves/``."""
    return safe_write(path, lambda fh: escape_formulas(df).to_csv(fh, index=False, lineterminator="\n"))


def safe_text(text: str, path: str | Path) -> Path:
    """Write a text file (UTF-8) as :func:`safe_csv` writes a CSV."""
    return safe_write(path, lambda fh: fh.write(text))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def safe_write(path: str | Path, write: Callable[[TextIO], object]) -> Path:
    """Create ``path``'s folder if need be and write it atomically (a temporary file beside it,
    then renamed: never a half-written file); refuses to write under ``data/waves/``."""
    p = Path(path).resolve()
    if paths.WAVES.resolve() in p.parents:
        raise PermissionError(f"refusing to write {p}: data/waves/ is read-only")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        # the permissions of a file written in place (mkstemp's are the owner's alone): those of
        # the file replaced, else what the umask allows
        os.chmod(tmp, p.stat().st_mode & 0o7777 if p.exists() else 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def table_id(*parts: object) -> str:
    """A deterministic HTML id (great_tables would draw a random one: builds must be identical)."""
    h = hashlib.sha256("|".join(p.to_csv() if isinstance(p, pd.DataFrame) else str(p) for p in parts).encode())
    return "t" + h.hexdigest()[:12]


def numbered(title: str, number: str) -> str:
    """A table's caption with its number ("Table 3.2. title")."""
    return _("Table {number}. {title}").format(number=number, title=title) if number else title


def anchor(body: str, number: str) -> str:
    """Wrap a table's HTML in an element others can link to (``#table-3-2``)."""
    if not number:
        return body
    return f'<div class="numbered-table" id="table-{number.replace(".", "-")}">{body}</div>'


CSV_LINK = re.compile(r'<a download="([^"]+\.csv)" href="data:text/csv;charset=utf-8,([^"]*)"')
"""An embedded CSV link as :func:`csv_link` writes it: groups (file name, percent-encoded CSV)."""


def csv_link(df: pd.DataFrame, title: str, *, kind: str = "table") -> str:
    """A link that downloads a table's (or a figure's, ``kind="figure"``) data as CSV (UTF-8 with
    BOM, formula cells escaped), embedded in the page itself: the HTML stays self-contained and
    offline. Suppressed cells are empty, with their reason in the ``suppressed`` column; a cell
    flagged on its own (:func:`~analysis.publishing.reliability.cell_flags`) has its reason in the
    column ``<column>_flag``."""
    from urllib.parse import quote

    own = cell_flags(df)                  # a cell flagged on its own: its reason in "<column>_flag"
    if own:
        df = df.assign(**{f"{c}_flag": v for c, v in own.items()})
    text = "\ufeff" + escape_formulas(df).to_csv(index=False, lineterminator="\n")
    name = re.sub(r"[^A-Za-z0-9]+", "-", title or kind).strip("-").lower()[:60] or kind
    link = (f'<a download="{name}.csv" href="data:text/csv;charset=utf-8,{quote(text)}">'
            + (_("Data of this table (CSV)") if kind == "table" else _("Data of this figure (CSV)")) + "</a>")
    if kind == "table":
        return f'<p class="table-data">{link}</p>'
    return f'<span class="figure-data">{link}</span>'


def render(df: pd.DataFrame, *, source: Source | None = None, page: str = "", title: str = "",
           note: str = "", decimals: int | dict[str, int] = 1, kinds: dict[str, str] | None = None,
           labels: dict[str, str] | None = None, reps: int | dict[str, int] | None = None,
           number: str = "") -> dict[str, str]:
    """The HTML and Markdown of a table: formatted numbers, suppression marks and footnote,
    reader's column labels, notes and the source's footer; ``number`` ("3.2") heads the caption
    and names the table's anchor and CSV."""
    title = numbered(_(title), number)
    note = _(note)
    from great_tables import GT

    shown, numeric = format_frame(df, decimals=decimals, kinds=kinds, reps=reps)
    given = dagger_reasons(df, shown)         # the reasons of the † the table shows, and only those
    if lang() == "zh" and "province_zh" in shown and any(c in shown for c in PROVINCE_COLUMNS):
        shown = shown.drop(columns="province_zh")    # the province column already shows the Chinese name
    for c in shown.columns:
        if c in numeric:                       # numbers (a province's own column, e.g.) stay numbers
            continue
        if c in REGION_COLUMNS or c in PROVINCE_COLUMNS:
            shown[c] = [category(c, v) for v in shown[c]]
        else:                                  # a text cell the package wrote: in the edition's language
            shown[c] = [_(v) if isinstance(v, str) else v for v in shown[c]]
    names = {c: _((labels or {})[c]) if c in (labels or {}) else column_label(c) for c in shown.columns}
    shown = shown.rename(columns=names)
    numeric = [names[c] for c in numeric]
    gt = GT(shown, id=table_id(page, title, shown))
    if numeric:
        gt = gt.cols_align("right", columns=numeric)
    if title:
        gt = gt.tab_header(title=title)          # great_tables escapes text itself
    notes = [note] if note else []
    notes += [s for s in [suppression_note(df)] if s]
    flags = sorted({x for r in given for x in split_reasons(r)})
    if flags:
        notes.append(_("† to be read with care (NCHS presentation standards): {reasons}.").format(
            reasons=reasons("; ".join(flags))))
    if source is not None:
        notes += source.notes(page)
    for n in notes:
        gt = gt.tab_source_note(n)
    gt = gt.tab_options(table_width="100%", table_font_size="13px")
    body = anchor(f'<div class="table-scroll" style="overflow-x:auto">{gt.as_raw_html()}</div>'
                  + csv_link(df, title), number)
    # the cells as formatted (tabulate would read "50.10" as a number again and print 50.1),
    # numbers right-aligned
    align = ["right" if c in numeric else "left" for c in shown.columns]
    md = (f"**{title}**\n\n" if title else "") + shown.to_markdown(index=False, disable_numparse=True,
                                                                    colalign=align)
    if notes:
        md += "\n\n" + "\n".join(f"*{n}*" for n in notes)
    return {"text/html": body, "text/markdown": md}


def regression_notes(table: pd.DataFrame, *, stars: bool = True, source: Source | None = None,
                     page: str = "", n_tests: int | None = None) -> list[str]:
    """The notes under a regression table: what its parentheses and stars mean, then the source's.
    ``n_tests``: the coefficients with a p-value (Holm's family, :meth:`ModelSet.n_tests`); by
    default every coefficient cell of ``table``."""
    if n_tests is None:
        n_tests = sum(1 for c in table.iloc[:, 1:].to_numpy().ravel() if isinstance(c, str) and "(" in c)
    note = (_("Standard errors in parentheses. * p < 0.05, ** p < 0.01 after Holm's adjustment across the "
              "{n_tests} coefficient tests of this table.").format(n_tests=n_tests) if stars
            else _("Standard errors in parentheses."))
    return [note, *(source.notes(page) if source is not None else [])]


def regression_markdown(table: pd.DataFrame, *, title: str = "", **notes: Any) -> str:
    """The regression table as Markdown, with its title and the notes of :func:`regression_notes`
    (the stars' meaning and the source travel with the numbers outside HTML too)."""
    md = (f"**{title}**\n\n" if title else "") + table.to_markdown(index=False)
    return md + "\n\n" + "\n".join(f"*{n}*" for n in regression_notes(table, **notes))


def regression_html(table: pd.DataFrame, *, title: str = "", stars: bool = True,
                    source: Source | None = None, page: str = "", n_tests: int | None = None) -> str:
    """A multi-model regression table (:meth:`ModelSet.table`) as HTML with its notes."""
    from great_tables import GT

    gt = GT(table, id="m" + hashlib.sha256((title + table.to_csv()).encode()).hexdigest()[:12])
    for n in regression_notes(table, stars=stars, source=source, page=page, n_tests=n_tests):
        gt = gt.tab_source_note(n)
    if title:
        gt = gt.tab_header(title=title)          # great_tables escapes text itself
    # as every table: scrolls sideways inside its box on a narrow screen (a phone), the page does not
    return f'<div class="table-scroll" style="overflow-x:auto">{gt.as_raw_html()}</div>'
