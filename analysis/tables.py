"""Publication tables and safe exports."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from analysis import paths

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
    p = Path(path).resolve()
    if paths.WAVES.resolve() in p.parents:
        raise PermissionError(f"refusing to write {p}: data/waves/ is read-only")
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        escape_formulas(df).to_csv(fh, index=False, lineterminator="\n")
    os.replace(tmp, p)
    return p
