"""Table numbers: "Table 3.2" is the second table of the report's third page.

Figures are numbered by Sphinx; tables are outputs of page code, so the display layer numbers
them: the page's position in the build's table of contents (``$RURALGOV_TOC``, written by
``ruralgov build``; ``_toc.yml`` outside a build) and a counter per page in the page's kernel.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from analysis import paths

TOC_ENV = "RURALGOV_TOC"
"""Path of the build's table of contents (the pages a wave's book has, in order)."""
_COUNT: dict[str, int] = {}


@lru_cache(maxsize=4)
def _pages(toc: str) -> tuple[str, ...]:
    from analysis.report.build import _pages as toc_pages

    return tuple(Path(p).stem for p in toc_pages(Path(toc)))


def chapter(page: str) -> int | None:
    """The page's position (1 = the landing page) in the book, or None if it is not in it."""
    pages = _pages(os.environ.get(TOC_ENV) or str(paths.ROOT / "_toc.yml"))
    return pages.index(page) + 1 if page in pages else None


def next_table(page: str) -> str:
    """The next table number of ``page`` ("3.2"), or "" for a page outside the book."""
    c = chapter(page)
    if c is None:
        return ""
    _COUNT[page] = _COUNT.get(page, 0) + 1
    return f"{c}.{_COUNT[page]}"
