"""The reproduction page (book/reproduction.md): every published figure beside its reproduction
(only in the book of a wave that reproduces the seed study)."""

from __future__ import annotations

import pandas as pd


def table(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every published figure against the wave's estimate."""
    from analysis.estimation.reproduce import reproduce

    t = reproduce(study)
    t["within_rounding"] = t["within_rounding"].map({True: "yes", False: "NO", None: "n/a"})
    return t[["label", "published", "reproduced", "se", "within_rounding", "note"]]
