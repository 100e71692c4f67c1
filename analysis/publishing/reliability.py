"""Reliability of published estimates, by the NCHS presentation standards.

* Proportions — NCHS Data Presentation Standards for Proportions (Parker et al. 2017, *Vital
  Health Stat* 2(175)): suppress when the effective sample size p(1 − p)/SE² is below 30, when
  the 95 % CI is 30 percentage points wide or wider, or when it is wider than 5 points and its
  width exceeds 130 % of the estimate; flag for review when the design has fewer than 8 degrees
  of freedom. (NCHS uses the Korn–Graubard interval; the report's interval is the logit interval
  on the same design df, which the rules are applied to.)
* Means (the modernization degree) — NCHS's long-standing rule for estimates: unreliable when
  the relative standard error is 30 % or more; flagged, as for proportions, below 8 degrees of
  freedom.

Suppressed rows join the disclosure column ``suppressed`` (their values become NaN); flagged rows
get a ``flag`` column, which the formatting layer renders as ``†`` beside the estimate.

Example
-------
>>> import pandas as pd
>>> from analysis.publishing.reliability import flag_means
>>> flag_means(pd.DataFrame({"estimate": [50.0, 5.0], "se": [1.0, 2.0], "df": [39, 2]}))["flag"].tolist()
['', 'relative SE 30 % or more; fewer than 8 design df']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.publishing.disclosure import SUPPRESSED, reasons_of

FLAG = "flag"
"""Column holding each row's reliability flag ('' when reliable)."""
MARK = "†"
"""How a flagged estimate is marked."""
DF_REVIEW = 8
"""NCHS: fewer design degrees of freedom than this call for a statistical review (flag)."""
RSE_UNRELIABLE = 0.30
"""NCHS: a relative standard error of 30 % or more marks an estimate unreliable."""
CELL_FLAGS = "cell_flags"
"""A table's ``attrs`` key for cells flagged on their own, beside the row's ``flag`` (which marks
its main estimate): column → one reason per row ('' when reliable), e.g. a region's share on
fewer than 8 design df in a row whose national share is reliable."""


RSE_REASON = "relative SE 30 % or more"
DF_REASON = f"fewer than {DF_REVIEW} design df"
ESS_REASON = "effective sample size below 30 (NCHS)"
CI_WIDE_REASON = "95 % CI 30 points wide or wider (NCHS)"
CI_RELATIVE_REASON = "95 % CI wider than 130 % of the estimate (NCHS)"
NO_CI_REASON = "no 95 % CI (0 design df) whose width could be judged (NCHS)"
REASONS = (RSE_REASON, DF_REASON, ESS_REASON, CI_WIDE_REASON, CI_RELATIVE_REASON, NO_CI_REASON)
"""Why an estimate is flagged (data values; translated where a page shows them)."""


def cell_flags(df: pd.DataFrame) -> dict[str, list[str]]:
    """The cells ``df`` flags on their own (:data:`CELL_FLAGS`): column → reason per row; only
    columns of ``df`` whose list has one entry per row."""
    got = df.attrs.get(CELL_FLAGS) or {}
    return {c: ["" if r is None else str(r) for r in v] for c, v in got.items()
            if c in df.columns and len(v) == len(df)}


def flag_means(df: pd.DataFrame, *, est: str = "estimate", se: str = "se", dfcol: str = "df") -> pd.DataFrame:
    """A copy with a ``flag`` column for means: relative SE ≥ 30 %, fewer than 8 design df."""
    out = df.copy()
    flags = []
    for e, s, d in zip(out[est].to_numpy(float), out[se].to_numpy(float),
                       out[dfcol].to_numpy(float) if dfcol in out else [np.nan] * len(out)):
        why = []
        if np.isfinite(e) and np.isfinite(s) and e != 0 and s / abs(e) >= RSE_UNRELIABLE:
            why.append(RSE_REASON)
        if np.isfinite(d) and d < DF_REVIEW:
            why.append(DF_REASON)
        flags.append("; ".join(why))
    out[FLAG] = ["; ".join(x for x in (p, f) if x) for p, f in zip(reasons_of(out, FLAG), flags)]
    return out


def nchs_proportion_reason(p: float, se: float, ci_low: float = np.nan, ci_high: float = np.nan,
                           n: float = np.inf, *, computed_ci: bool = False) -> str | None:
    """Why the NCHS standard suppresses one proportion (all on the 0–1 scale): its reason, ``""``
    when it may be shown, ``None`` when there is no estimate or SE to judge. ``computed_ci``: the
    interval was computed, so a missing end means the design gives none (0 df), whose width no
    rule can clear; otherwise a missing interval was not given and only the other rules apply.

    >>> nchs_proportion_reason(0.5, 0.05, 0.40, 0.60, 400)
    ''
    >>> nchs_proportion_reason(0.5, 0.12, 0.27, 0.73, 400)      # effective n = 0.25 / 0.0144 ≈ 17
    'effective sample size below 30 (NCHS)'
    """
    if not (np.isfinite(p) and np.isfinite(se)):
        return None
    n_eff = min(p * (1 - p) / se**2, n) if se > 0 else n
    width = ci_high - ci_low
    if n_eff < 30:
        return ESS_REASON
    if np.isfinite(width) and width >= 0.30:
        return CI_WIDE_REASON
    if np.isfinite(width) and width > 0.05 and p > 0 and width / p > 1.30:
        return CI_RELATIVE_REASON
    if computed_ci and not np.isfinite(width):
        return NO_CI_REASON
    return ""


def nchs_proportions(df: pd.DataFrame, *, scale: float = 100.0, est: str = "estimate", se: str = "se",
                     lo: str = "ci_low", hi: str = "ci_high", n: str = "n", dfcol: str = "df",
                     values: tuple[str, ...] = ("estimate", "se", "ci_low", "ci_high")) -> pd.DataFrame:
    """A copy with the NCHS proportion standard applied: rows it suppresses get NaN values and
    their reason in ``suppressed``; rows it flags get their reason in ``flag``. ``scale``: 100
    when the columns are percentages."""
    out = df.copy()
    sup, flags = reasons_of(out), reasons_of(out, FLAG)
    for i, row in enumerate(out.itertuples(index=False)):
        r = row._asdict()
        if sup[i]:
            continue
        why = nchs_proportion_reason(r.get(est, np.nan) / scale, r.get(se, np.nan) / scale,
                                     r.get(lo, np.nan) / scale, r.get(hi, np.nan) / scale, r.get(n, np.inf),
                                     computed_ci=lo in r and hi in r)
        if why is None:                 # no estimate or no SE: nothing to judge
            continue
        sup[i] = why
        d = r.get(dfcol, np.nan)
        if np.isfinite(d) and d < DF_REVIEW:
            flags[i] = "; ".join(x for x in (flags[i], DF_REASON) if x)
    mask = np.array([bool(x) for x in sup])
    for c in values:
        if c in out:
            out[c] = out[c].astype("float64").where(~mask)
    out[SUPPRESSED] = sup
    out[FLAG] = flags
    return out
