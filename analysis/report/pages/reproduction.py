"""The reproduction page (book/reproduction.md): every published figure beside its reproduction
(only in the book of a wave that reproduces the seed study)."""

from __future__ import annotations

import pandas as pd

from analysis.i18n import N_, say

BOUND = {"equal": "", "at_most": "≤ ", "below": "< "}
AGREES = {"equal": N_("yes, equal at the published rounding"), "at_most": N_("yes, within the published bound"),
          "below": N_("yes, below the published bound")}
NOT_DERIVED, DISAGREES = N_("n/a"), N_("NO")


def table(study) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every published figure against the wave's estimate: the published value at its printed
    precision with its bound ("< 50"), the reproduction at the same precision, and whether they
    agree in the sense the paper's figure allows."""
    from analysis.estimation.reproduce import figure_label, reproduce

    t = reproduce(study)
    figures = study.settings.reproduction.figures

    def at(v: float, d: object) -> str:
        return "" if pd.isna(v) else f"{v:.{int(d) if pd.notna(d) else 2}f}"

    agree = [(NOT_DERIVED if w is None else (AGREES[c] if w else DISAGREES))
             for w, c in zip(t["within_rounding"], t["compare"])]
    return pd.DataFrame({
        "figure": [figure_label(f, study.wave.codebook) for f in figures],
        "published": [BOUND[c] + at(v, d) for v, d, c in zip(t["published"], t["decimals"], t["compare"])],
        "this wave": [at(v, d) for v, d in zip(t["reproduced"], t["decimals"])],
        "SE": [at(v, 2) for v in t["se"]],
        "agreement": agree, "note": [say(n) if isinstance(n, str) and n else "" for n in t["note"]]})


def counts(t: pd.DataFrame) -> dict[str, int]:
    """How many figures there are, agree, and cannot be derived (glued into the page's prose)."""
    return {"n_figures": len(t), "n_within": int(t["agreement"].str.startswith("yes").sum()),
            "n_na": int((t["agreement"] == NOT_DERIVED).sum())}
