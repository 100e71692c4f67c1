"""The composite modernization index: normalise → weight → aggregate, configured in ``data/index.yml``.

Indicators are the codebook's field × aspect items.  Each respondent gets, on 0–100:

* a **field sub-index** per service field (education, health, social security, employment
  training, culture and sports) aggregating that field's indicators;
* an **aspect sub-index** per governance aspect (organization, system, means, concept)
  aggregating that aspect's indicators across fields;
* the **overall score**, aggregating the field sub-indices.

With the defaults (bounded min–max on the scale's own bounds, equal weights, arithmetic mean),
indicator :math:`j` of respondent :math:`i` is :math:`x_{ij} = 100 (c_{ij}-1)/4` for a code
:math:`c_{ij} \\in \\{1..5\\}`, a field score is the mean of its available :math:`x_{ij}` and the
overall score the mean of the five field scores.  A level is computed from the available
indicators only when they carry at least ``coverage`` (default 65 %) of its weight; otherwise it
is missing, and counted.  The "modernization degree" of a population is the design-weighted mean
of the overall score (:func:`degree`).

Example
-------
>>> from analysis.ingest.wave import load_wave
>>> from analysis.estimation.index import IndexConfig, build_index
>>> res = build_index(load_wave().villagers, IndexConfig.default())
>>> list(res.scores.columns)[:2]
['overall', 'education']
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from analysis.estimation.design import Estimate, SurveyDesign
from analysis.i18n import N_, Message
from analysis.ingest.codebook import Codebook, Item, load_codebook
from analysis.settings import IndexSettings
from analysis.settings.options import AGGREGATIONS, NORMALISATIONS, WEIGHTINGS
SCALE = (0.0, 100.0)
"""The ends of every score's scale: a degree's confidence limits are cut at them."""
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
                11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}
"""Saaty's random consistency index by matrix order (Saaty 1980, extended to 15 items)."""
AHP_CR_MAX = 0.10
"""Saaty: a pairwise matrix with a consistency ratio of 0.10 or more is too inconsistent to use."""


def _config_from_state(state: dict) -> IndexConfig:
    return IndexConfig(**{k: MappingProxyType(v) if isinstance(v, dict) else v
                          for k, v in state.items()})


class IndexConfigError(ValueError):
    """An index configuration that cannot be used (unknown option, inconsistent AHP matrix...)."""


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise IndexConfigError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class IndexConfig:
    """How the index is built (see ``data/index.yml``)."""

    normalisation: str = "minmax"
    weighting: str = "equal"
    aggregation: str = "arithmetic"
    coverage: float = 0.65
    questionnaire: str = "villagers"
    targets: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    expert_fields: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    expert_indicators: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    ahp_order: tuple[str, ...] = ()
    ahp_matrix: tuple[tuple[float, ...], ...] = ()
    exclude_aspects: tuple[str, ...] = ()
    """Aspects whose indicators are left out (a score without the digital "means" items, for
    models whose regressors are about digital use)."""
    version: str = "1.0"
    sha256: str = ""

    def __post_init__(self) -> None:
        _check(self.normalisation, NORMALISATIONS, "normalisation")
        _check(self.weighting, WEIGHTINGS, "weighting")
        _check(self.aggregation, AGGREGATIONS, "aggregation")
        if not 0 < self.coverage <= 1:
            raise IndexConfigError(f"coverage must be in (0, 1], got {self.coverage}")

    def __reduce__(self):  # type: ignore[no-untyped-def]
        """Picklable (sent to the workers of a Dask cluster): the read-only mappings as dicts."""
        return (_config_from_state, ({k: dict(v) if isinstance(v, MappingProxyType) else v
                                      for k, v in vars(self).items()},))

    @classmethod
    def from_settings(cls, st: IndexSettings, sha256: str = "") -> IndexConfig:
        """The construction of ``data/index.yml`` as checked by :mod:`analysis.settings`."""
        return cls(
            normalisation=st.normalisation, weighting=st.weighting, aggregation=st.aggregation,
            coverage=float(st.coverage), questionnaire=st.questionnaire,
            targets=MappingProxyType(dict(st.targets)),
            expert_fields=MappingProxyType(dict(st.expert.fields)),
            expert_indicators=MappingProxyType(dict(st.expert.indicators)),
            ahp_order=tuple(st.ahp.order), ahp_matrix=tuple(tuple(r) for r in st.ahp.matrix),
            version=st.version, sha256=sha256)

    @classmethod
    def default(cls) -> IndexConfig:
        """The project's construction (``data/index.yml``)."""
        from analysis.settings import load_settings

        s = load_settings()
        return cls.from_settings(s.index, s.sha256.get("data/index.yml", ""))

    def with_(self, **changes: Any) -> IndexConfig:
        """A copy with some choices changed (checked again)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data view (for manifests and JSON)."""
        return {"normalisation": self.normalisation, "weighting": self.weighting,
                "aggregation": self.aggregation, "coverage": self.coverage,
                "exclude_aspects": list(self.exclude_aspects), "version": self.version, "sha256": self.sha256}


# ---- normalisation ------------------------------------------------------------------------

def _wquantile_rank(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted mid-rank percentile (0–100) of each value within its column, NaN kept."""
    out = np.full_like(x, np.nan)
    for j in range(x.shape[1]):
        col = x[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            continue
        vals, inv = np.unique(col[ok], return_inverse=True)
        wsum = np.bincount(inv, weights=w[ok], minlength=len(vals))
        cum = np.cumsum(wsum)
        mid = (cum - wsum / 2) / cum[-1]
        out[ok, j] = 100 * mid[inv]
    return out


def normalise(codes: np.ndarray, items: list[Item], how: str, weights: np.ndarray | None = None,
              targets: dict[str, float] | None = None) -> np.ndarray:
    """Normalise an (n × k) matrix of item codes to 0–100, higher = more modern.

    ``minmax`` uses each item's own scale bounds (not the sample's), so it is idempotent on
    already-normalised scales and comparable across waves; ``zscore`` gives 50 + 10·z (weighted),
    cut at 0 and 100; ``rank`` the weighted percentile; ``target`` 100·(c − min)/(target − min),
    capped at 100.
    """
    _check(how, NORMALISATIONS, "normalisation")
    x = np.asarray(codes, dtype=float)
    lo = np.array([min(it.values) for it in items], dtype=float)
    hi = np.array([max(it.values) for it in items], dtype=float)
    direction = np.array([it.direction for it in items], dtype=float)
    x = np.where(direction > 0, x, lo + hi - x)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, float)
    if how == "minmax":
        return 100 * (x - lo) / (hi - lo)
    if how == "target":
        tg = np.array([float((targets or {}).get(it.id, max(it.values))) for it in items])
        return np.minimum(100 * (x - lo) / (tg - lo), 100.0)
    if how == "zscore":
        ok = np.isfinite(x)
        ww = np.where(ok, w[:, None], 0.0)
        # a constant indicator carries no information: it sits at the centre (50). Constant is
        # read from the answers themselves: its weighted mean is rounded, so its SD is not 0
        constant = ~(np.fmax.reduce(x, axis=0) > np.fmin.reduce(x, axis=0))    # fmax/fmin skip NaN
        with np.errstate(invalid="ignore"):            # an unanswered column: 0/0
            mu = np.nansum(ww * x, axis=0) / ww.sum(axis=0)
            sd = np.sqrt(np.nansum(ww * (x - mu) ** 2, axis=0) / ww.sum(axis=0))
            z = np.where(constant, 0.0, (x - mu) / np.where(constant, 1.0, sd))
        # cut at 0 and 100 (|z| > 5): the aggregations and the degree's interval read 0–100, and
        # a rare answer's unbounded score would leave the geometric mean undefined (the respondent
        # then unscored as if unanswered) or outweigh every other indicator
        return np.where(ok, np.clip(50 + 10 * z, 0.0, 100.0), np.nan)   # a missing answer stays missing
    return _wquantile_rank(x, w)


# ---- weighting ----------------------------------------------------------------------------

def ahp_weights(matrix: np.ndarray) -> tuple[np.ndarray, float]:
    """Principal-eigenvector weights of a Saaty pairwise matrix and its consistency ratio (CR)."""
    a = np.asarray(matrix, dtype=float)
    n = a.shape[0]
    if a.shape != (n, n) or not np.allclose(a * a.T, 1.0):
        raise IndexConfigError("the AHP matrix must be square and reciprocal (a_ji = 1 / a_ij)")
    if n > max(RANDOM_INDEX):
        raise IndexConfigError(f"an AHP matrix of {n} items cannot be checked for consistency: Saaty's "
                               f"random index is tabulated up to {max(RANDOM_INDEX)}; group the items")
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    lam = float(vals[k].real)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    cr = ci / RANDOM_INDEX[n] if RANDOM_INDEX.get(n) else 0.0
    return w, cr


def _entropy_weights(x: np.ndarray) -> np.ndarray:
    x = np.where(np.isfinite(x), x, np.nan)
    ok = np.all(np.isfinite(x), axis=1)
    m = x[ok] - np.nanmin(x[ok], axis=0) + 1e-9 if ok.sum() > 1 else np.ones((2, x.shape[1]))
    p = m / m.sum(axis=0)
    e = -(p * np.log(p)).sum(axis=0) / np.log(len(p))
    d = 1 - e
    return d / d.sum() if d.sum() > 0 else np.full(x.shape[1], 1 / x.shape[1])


def _pca_weights(x: np.ndarray) -> np.ndarray:
    ok = np.all(np.isfinite(x), axis=1)
    if ok.sum() <= x.shape[1] or x.shape[1] == 1:
        return np.full(x.shape[1], 1 / x.shape[1])
    with np.errstate(invalid="ignore"):     # a constant indicator: 0/0, taken as no correlation
        c = np.corrcoef(x[ok], rowvar=False)
    _, vecs = np.linalg.eigh(np.nan_to_num(c, nan=0.0))
    # squared loadings of the first component, normalised: the loadings' common factor √λ₁
    # cancels, leaving the squared unit eigenvector, whose squares sum to 1
    return vecs[:, -1] ** 2


# ---- aggregation --------------------------------------------------------------------------

def aggregate(x: np.ndarray, w: np.ndarray, how: str, coverage: float) -> np.ndarray:
    """Aggregate rows of ``x`` (n × k, 0–100, NaN missing) with weights ``w`` (k,).

    Weights are renormalised over each row's available values; a row whose available weight
    share is below ``coverage`` is NaN. Row by row, so computed over blocks of rows whose
    temporaries stay in cache.
    """
    _check(how, AGGREGATIONS, "aggregation")
    out = np.empty(x.shape[0])
    for s in range(0, x.shape[0], ROW_BLOCK):
        out[s:s + ROW_BLOCK] = _aggregate_rows(x[s:s + ROW_BLOCK], w, how, coverage)
    return out


ROW_BLOCK = 1 << 14
"""Rows aggregated at a time: a block's n × k temporaries stay in cache."""


def _aggregate_rows(x: np.ndarray, w: np.ndarray, how: str, coverage: float) -> np.ndarray:
    ok = np.isfinite(x)
    wm = np.where(ok, w[None, :], 0.0)
    share = wm.sum(axis=1) / w.sum()
    with np.errstate(invalid="ignore", divide="ignore"):   # 0/0; log(0) at a score of −100/99
        wn = wm / wm.sum(axis=1, keepdims=True)
        xz = np.where(ok, x, 0.0)
        if how == "arithmetic":
            out = (wn * xz).sum(axis=1)
        elif how == "geometric":
            # on 1 + 0.99·x to keep zeros finite, mapped back to 0–100
            out = (np.exp((wn * np.log(1 + 0.99 * xz)).sum(axis=1)) - 1) / 0.99
        else:  # topsis closeness to the ideal (100) vs the anti-ideal (0)
            dp = np.sqrt((wn * (100 - xz) ** 2).sum(axis=1))
            dm = np.sqrt((wn * xz**2).sum(axis=1))
            out = 100 * dm / (dp + dm)
    return np.where(share >= coverage - 1e-12, out, np.nan)


# ---- the index ----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class IndexResult:
    """Respondent scores at every level of the index, with the weights and configuration used."""

    scores: pd.DataFrame
    """Respondent × level scores on 0–100: ``overall``, one column per field, one per aspect."""
    weights: pd.DataFrame
    """Weights: level, component, weight (indicators within fields and aspects, fields in overall)."""
    config: IndexConfig
    """The configuration that built it."""
    indicators: tuple[str, ...]
    """Indicator item ids, in order."""
    normalised: pd.DataFrame
    """Normalised indicators (0–100)."""
    fields: tuple[str, ...]
    """Field sub-index columns."""
    aspects: tuple[str, ...]
    """Aspect sub-index columns."""

    @property
    def n_missing(self) -> pd.Series:
        """Respondents without a score, per level (coverage rule not met)."""
        return self.scores.isna().sum()

    def summary(self) -> pd.DataFrame:
        """Unweighted description of each level: n, missing, mean, sd, min, max."""
        s = self.scores
        return pd.DataFrame({"n": s.notna().sum(), "missing": s.isna().sum(), "mean": s.mean(),
                             "sd": s.std(), "min": s.min(), "max": s.max()})

    def to_frame(self) -> pd.DataFrame:
        """Scores in long form: respondent row, level, score."""
        out = self.scores.reset_index(names="row").melt(id_vars="row", var_name="level",
                                                        value_name="score")
        return out

    def __repr__(self) -> str:
        c = self.config
        return (f"IndexResult({len(self.scores)} respondents; {c.normalisation}/{c.weighting}/"
                f"{c.aggregation}, coverage {c.coverage:g})\n{self.summary().round(2).to_string()}")


def _level_weights(cfg: IndexConfig, xn: np.ndarray, items: list[Item], fields: list[str]
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Indicator weights within each field and the field weights in the overall score."""
    within: dict[str, np.ndarray] = {}
    for f in fields:
        idx = [j for j, it in enumerate(items) if it.field == f]
        k = len(idx)
        if cfg.weighting == "entropy":
            w = _entropy_weights(xn[:, idx])
        elif cfg.weighting == "pca":
            w = _pca_weights(xn[:, idx])
        elif cfg.weighting == "expert":
            w = np.array([float(cfg.expert_indicators.get(items[j].id, 1.0)) for j in idx])
            w = w / w.sum()
        else:
            w = np.full(k, 1 / k)
        within[f] = w
    if cfg.weighting == "ahp":
        order = list(cfg.ahp_order) or fields
        if not set(fields) <= set(order):
            raise IndexConfigError(Message(N_("AHP order {order} must list the fields {fields}"),
                                           order=order, fields=fields))
        keep = [order.index(f) for f in fields]          # comparisons among the fields present
        w, cr = ahp_weights(np.array(cfg.ahp_matrix)[np.ix_(keep, keep)])
        if cr >= AHP_CR_MAX:
            raise IndexConfigError(Message(N_("AHP pairwise matrix is inconsistent: consistency ratio "
                                              "{cr:.3f} ≥ {limit:.2f}; revise the comparisons"),
                                           cr=cr, limit=AHP_CR_MAX))
        fw = w
    elif cfg.weighting == "expert":
        fw = np.array([float(cfg.expert_fields.get(f, 1.0)) for f in fields])
        fw = fw / fw.sum()
    elif cfg.weighting in ("entropy", "pca"):
        # second stage on the field sub-indices (arithmetic, with the weights found within each field)
        sub = np.column_stack([aggregate(xn[:, [j for j, it in enumerate(items) if it.field == f]],
                                         within[f], "arithmetic", cfg.coverage) for f in fields])
        fw = _entropy_weights(sub) if cfg.weighting == "entropy" else _pca_weights(sub)
    else:
        fw = np.full(len(fields), 1 / len(fields))
    return within, fw


def _aggregate_levels(xn: np.ndarray, levels: dict[str, tuple[list[int], np.ndarray]], how: str,
                      coverage: float) -> dict[str, np.ndarray]:
    """:func:`aggregate` of every level (its indicators' columns and weights) of one matrix.

    The arithmetic mean of all levels comes from one pass: with W the indicators × levels
    weights (zero outside a level) and M the answered mask, the scores are (x·M)W / MW and the
    available weight shares MW / ΣW — the same sums :func:`aggregate` takes level by level.
    """
    if how != "arithmetic":
        return {k: aggregate(xn[:, idx], w, how, coverage) for k, (idx, w) in levels.items()}
    W = np.zeros((xn.shape[1], len(levels)))
    for c, (idx, w) in enumerate(levels.values()):
        W[idx, c] = w
    total = W.sum(axis=0)
    out = np.empty((len(levels), xn.shape[0]))          # one contiguous row per level
    for s in range(0, xn.shape[0], ROW_BLOCK):          # blocks of rows: temporaries in cache
        xb = xn[s:s + ROW_BLOCK]
        ok = np.isfinite(xb)
        num = np.where(ok, xb, 0.0) @ W
        den = ok @ W
        with np.errstate(invalid="ignore"):            # an unanswered level: 0/0
            o = num / den
        o[den / total < coverage - 1e-12] = np.nan
        out[:, s:s + ROW_BLOCK] = o.T
    return {k: out[c] for c, k in enumerate(levels)}


def index_items(data: pd.DataFrame, codebook: Codebook, cfg: IndexConfig,
                indicators: frozenset[str] | None = None) -> list[Item]:
    """The indicators an index of ``data`` is built from, in the codebook's order: those of the
    questionnaire that somebody answered (or ``indicators``: a partitioned wave's, answered in any
    partition), less the aspects the construction leaves out."""
    if indicators is None:
        indicators = frozenset(it.id for it in codebook.indicators(cfg.questionnaire)
                               if it.id in data and data[it.id].notna().any())
    return [it for it in codebook.indicators(cfg.questionnaire)
            if it.id in indicators and it.aspect not in cfg.exclude_aspects]


def build_index(data: pd.DataFrame, config: IndexConfig | None = None, *,
                codebook: Codebook | None = None, weights: np.ndarray | None = None,
                normalised: pd.DataFrame | None = None,
                indicators: frozenset[str] | None = None) -> IndexResult:
    """Build the index for every respondent of a clean questionnaire frame.

    ``weights`` (design weights) are used only by the data-driven normalisations (z-score, rank).
    ``normalised``: the normalised indicators of another construction of the same data with the
    same normalisation (an :attr:`IndexResult.normalised`), reused instead of computed again.
    Indicators absent from the frame (or never answered) are left out; a field without any is
    left out of the overall score (see :attr:`IndexResult.fields`). ``indicators``: the ids of
    those the whole wave has and answers, when ``data`` is a piece of it (a partition, whose own
    blanks must not change the weights or the coverage rule); they are used whether the piece
    answers them or not.
    """
    cfg = config or IndexConfig.default()
    cb = codebook or load_codebook()
    # a wave without any indicator of a field (an optional block not asked) builds the index
    # from the fields it has; a respondent's missing answers fall under the coverage rule
    items = index_items(data, cb, cfg, indicators)
    if not items:                     # nobody answered anything: every score is missing
        items = list(cb.indicators(cfg.questionnaire))
    fields = [f for f in cb.fields if any(it.field == f for it in items)]
    aspects = [a for a in cb.aspects if any(it.aspect == a for it in items)]
    ids = [it.id for it in items]
    if normalised is not None and set(ids) <= set(normalised.columns):
        xn = normalised[ids].to_numpy(float)        # normalisation is column by column
    else:
        codes = np.column_stack([data[it.id].to_numpy(float) if it.id in data else np.full(len(data), np.nan)
                                 for it in items])
        xn = normalise(codes, items, cfg.normalisation, weights, dict(cfg.targets))
        del codes
    within, fw = _level_weights(cfg, xn, items, fields)
    levels: dict[str, tuple[list[int], np.ndarray]] = {}
    wrows = []
    for f in fields:
        idx = [j for j, it in enumerate(items) if it.field == f]
        levels[f] = (idx, within[f])
        wrows += [("field:" + f, items[j].id, float(w)) for j, w in zip(idx, within[f])]
    wrows += [("overall", f, float(w)) for f, w in zip(fields, fw)]
    for a in aspects:
        idx = [j for j, it in enumerate(items) if it.aspect == a]
        # an aspect weights its indicators by their field's weight times their weight in it
        wa = np.array([fw[fields.index(items[j].field)] * within[items[j].field][
            [jj for jj, it in enumerate(items) if it.field == items[j].field].index(j)] for j in idx])
        wa = wa / wa.sum()
        levels[a] = (idx, wa)
        wrows += [("aspect:" + a, items[j].id, float(w)) for j, w in zip(idx, wa)]
    cols = _aggregate_levels(xn, levels, cfg.aggregation, cfg.coverage)
    overall = aggregate(np.column_stack([cols[f] for f in fields]), fw, cfg.aggregation, cfg.coverage)
    scores = pd.DataFrame({"overall": overall, **{f: cols[f] for f in fields},
                           **{a: cols[a] for a in aspects}}, index=data.index)
    return IndexResult(scores, pd.DataFrame(wrows, columns=["level", "component", "weight"]),
                       cfg, tuple(it.id for it in items),
                       pd.DataFrame(xn, columns=[it.id for it in items], index=data.index),
                       tuple(fields), tuple(aspects))


def degree(data: pd.DataFrame, result: IndexResult, design: SurveyDesign, *,
           by: str | None = None, level: str = "overall") -> Estimate:
    """Design-based mean score (the "modernization degree", in %) overall or by a column of ``data``.

    Respondents whose score is missing at ``level`` are excluded as a domain of the full design.
    The confidence limits are cut at the scale's ends, 0 and 100 (:data:`SCALE`).
    """
    if level not in result.scores:
        raise KeyError(f"unknown level {level!r}; levels: {', '.join(result.scores.columns)}")
    return replace(design.mean(result.scores[level].to_numpy(), by=None if by is None else data[by]),
                   bounds=SCALE)
