"""Uncertainty and sensitivity of the index: construction choices × survey sampling, vectorised.

Each Monte Carlo draw picks

* a **normalisation** (min–max; z-score; rank; distance to the target code 4 "agree"),
* a **weighting** (equal, expert, entropy, PCA, AHP),
* an **aggregation** (arithmetic, geometric, TOPSIS),
* a **perturbation** of the field weights (each multiplied by U(0.75, 1.25), renormalised),
* a **bootstrap replicate** of the sample: Rao–Wu rescaling bootstrap, ``n_h − 1`` PSUs drawn
  with replacement in each stratum, weights × ``n_h/(n_h − 1)`` × multiplicity,

and yields the design-weighted mean score of every region and province, the east–west gap and the
province ranks.  First-order and total Sobol indices of the five inputs are estimated with the
Saltelli (2010) / Jansen estimators from ``N (k + 2)`` draws (``k = 5``).

Nothing loops over draws or respondents: field sub-indices are precomputed once per
(normalisation, weighting, aggregation), overall scores for all draws of one combination are one
matrix product, domain means one product with the domain indicator matrix.

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.estimation.sensitivity import run_sensitivity
>>> res = run_sensitivity(build_study("2020-replica"), draws=700, seed=1)
>>> sorted(res.sobol["input"].unique())[:2]
['aggregation', 'bootstrap']
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.estimation.design import id_codes
from analysis.estimation.index import IndexConfig, _level_weights, aggregate, index_items, normalise
from analysis.i18n import N_
from analysis.settings.options import AGGREGATIONS, NORMALISATIONS, WEIGHTINGS

NORMS = NORMALISATIONS
INPUTS = ("normalisation", "weighting", "aggregation", "weights_perturbation", "bootstrap")
GAP_OUTPUT = N_("east-west gap")
"""The east–west gap's name among the outputs of the Sobol indices."""
PERTURBATION = 0.25


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Distributions over Monte Carlo draws and Sobol indices."""

    draws: pd.DataFrame
    """One row per draw: its choices and the east–west gap."""
    regions: pd.DataFrame
    """Draw × region mean scores."""
    provinces: pd.DataFrame
    """Draw × province mean scores."""
    ranks: pd.DataFrame
    """Draw × province rank (1 = highest score)."""
    sobol: pd.DataFrame
    """input, output (gap or mean province rank), first_order, total."""
    seconds: float
    """Wall time of the run."""
    seed: int
    """Seed of every random choice."""
    n_evaluations: int = 0
    """Index evaluations run (N (k + 2))."""

    @property
    def has_gap(self) -> bool:
        """Whether the run's wave holds both the east and the west (else its gap is not defined:
        NaN in every draw, no summary row, no Sobol index)."""
        return {"east", "west"} <= set(self.regions.columns)

    def rank_intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Median rank and rank interval of each province across draws."""
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        r = self.ranks
        return pd.DataFrame({"median_rank": r.median(), "rank_low": r.quantile(lo),
                             "rank_high": r.quantile(hi)}).sort_values("median_rank")

    def region_summary(self, level: float = 0.95) -> pd.DataFrame:
        """Mean, and interval of each region's score across draws (and of the east–west gap, where
        the wave holds both)."""
        lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
        df = self.regions
        if self.has_gap:
            df = df.assign(east_minus_west=self.draws["gap"].to_numpy())
        return pd.DataFrame({"mean": df.mean(), "low": df.quantile(lo), "high": df.quantile(hi)})


def sobol_indices(ya: np.ndarray, yb: np.ndarray, yab: list[np.ndarray]) -> list[tuple[float, float]]:
    """First-order (Saltelli 2010) and total (Jansen 1999) Sobol indices of each input.

    ``ya``, ``yb``: outputs on two independent samples A and B; ``yab[i]``: outputs on A with
    input ``i`` taken from B. The outputs are first centred on the mean of A and B (as SALib
    does): Saltelli's first-order estimator is unbiased for any origin, but its Monte Carlo error
    grows with the output's mean (a rank counted from 1, a score near 50), and its value changed
    when a constant was added to the output.
    """
    both = np.concatenate([ya, yb])
    f0, var = both.mean(), np.var(both, ddof=1)
    ya, yb, yab = ya - f0, yb - f0, [y - f0 for y in yab]
    out = []
    for y_i in yab:
        if var > 0:
            out.append((float(np.mean(yb * (y_i - ya)) / var), float(0.5 * np.mean((ya - y_i) ** 2) / var)))
        else:
            out.append((np.nan, np.nan))
    return out


def _mean_of_defined(x: np.ndarray) -> float:
    """Mean of the defined values; NaN, without numpy's warning, when none is (ranks that never
    vary across the draws have no Sobol index)."""
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float("nan")


def rao_wu_weights(weights: np.ndarray, strata: np.ndarray, psu: np.ndarray, reps: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Rao–Wu rescaled bootstrap weights (n × reps): one multinomial per stratum, none per draw."""
    p_codes, mult = rao_wu_multipliers(strata, psu, reps, rng)
    return weights[:, None] * mult[p_codes]


def bootstrap_design(study, v: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The strata and the units a Rao–Wu bootstrap of ``study``'s design resamples, for the rows of
    ``v`` (its villagers): one stratum without strata; the design's PSUs, else the respondents'
    ids (:attr:`~analysis.ingest.wave.Wave.bootstrap_units`), else the rows' positions."""
    dc = study.wave.design_columns
    units = study.wave.bootstrap_units
    return (v[dc["strata"]].to_numpy() if dc.get("strata") else np.zeros(len(v)),
            v[units].to_numpy() if units else np.arange(len(v)))


def rao_wu_multipliers(strata: np.ndarray, psu: np.ndarray, reps: int, rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The Rao–Wu bootstrap as PSU multipliers: (PSU code of each respondent, PSUs × reps).

    Replicate weight of respondent i in draw r = weight_i × multipliers[code_i, r]; estimators
    built from sums by PSU never need the n × reps matrix (same draws as :func:`rao_wu_weights`).
    """
    # (stratum, PSU) pairs numbered in the sorted order of the strata and then of the PSU ids
    # (id_codes: numbers as numbers, other ids as text), from integer keys, so that a seed gives
    # each PSU its draws whatever the order of the rows; a missing stratum or PSU id counts as one
    # more id
    s_codes, s_levels = id_codes(strata)
    s_codes = np.where(s_codes < 0, len(s_levels), s_codes)
    q, levels = id_codes(psu)
    q = np.where(q < 0, len(levels), q)
    p_codes = pd.factorize(s_codes * (int(q.max()) + 1) + q, sort=True)[0]
    psu_stratum = np.empty(p_codes.max() + 1, dtype=s_codes.dtype)
    psu_stratum[p_codes] = s_codes
    mult = np.ones((p_codes.max() + 1, reps))
    for h in np.unique(psu_stratum):
        psus = np.flatnonzero(psu_stratum == h)
        nh = len(psus)
        if nh < 2:
            continue            # a lonely PSU keeps its weight (no within-stratum variation)
        # Multinomial(nh − 1, 1/nh) counts as a tally of nh − 1 equally likely PSU draws
        # (numpy's multinomial costs one binomial per PSU and draw: seconds at 10,000 PSUs)
        draws = rng.integers(0, nh, size=(reps, nh - 1)) + (np.arange(reps) * nh)[:, None]
        counts = np.bincount(draws.ravel(), minlength=reps * nh).reshape(reps, nh).T   # nh × reps
        mult[psus] = counts * nh / (nh - 1)
    return p_codes, mult


def target_codes(items: list, targets: dict[str, float] | None = None) -> dict[str, float]:
    """The target of each item in the uncertainty analysis's ``target`` normalisation: the
    settings' target where one is named, else the level just below the top of the item's scale in
    the direction of more modern governance ("agree" on a five-point agreement scale), or the top
    itself on a scale of two codes. Codes are counted as :func:`normalise` turns them (a reversed
    item's scale is read from its other end)."""
    out = {}
    for it in items:
        lo, hi = min(it.values), max(it.values)
        scale = sorted(c if it.direction > 0 else lo + hi - c for c in it.values)
        out[it.id] = float((targets or {}).get(it.id, scale[-2] if len(scale) > 2 else scale[-1]))
    return out


def weightings(cfg: IndexConfig) -> tuple[str, ...]:
    """The weightings the draws take: every option of the settings, AHP only where the settings
    give its pairwise comparisons (they are optional unless the index itself is AHP-weighted;
    without them AHP has no weights to draw)."""
    return tuple(wt for wt in WEIGHTINGS if wt != "ahp" or cfg.ahp_matrix)


def check_constructions(study) -> None:  # type: ignore[no-untyped-def]
    """:class:`~analysis.estimation.index.IndexConfigError` if a weighting the draws take cannot
    weight the fields this wave has (AHP comparisons consistent over every field of the settings
    but not over the wave's fields): said before any draw, so that the command line and the build
    refuse such settings instead of failing part-way. The indicators and fields are those the
    study's index was built from."""
    cfg = study.construction
    if "ahp" not in weightings(cfg):     # the other weightings need no settings that could refuse
        return
    by_id = {it.id: it for it in study.wave.codebook.indicators(cfg.questionnaire)}
    items = [by_id[i] for i in study.index.indicators]
    _level_weights(cfg.with_(weighting="ahp"), np.empty((0, len(items))), items, list(study.index.fields))


def _field_scores(data: pd.DataFrame, codebook, cfg: IndexConfig, weights: np.ndarray  # type: ignore[no-untyped-def]
                  ) -> dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]:
    """(norm, weighting, aggregation) → (n × fields scores, base field weights)."""
    items = index_items(data, codebook, cfg)                    # as build_index
    fields = [f for f in codebook.fields if any(it.field == f for it in items)]
    codes = np.column_stack([data[it.id].to_numpy(float) for it in items])
    out = {}
    for norm in NORMS:
        if norm == "target":
            xn = normalise(codes, items, "target", weights, target_codes(items, dict(cfg.targets)))
        else:
            xn = normalise(codes, items, norm, weights)
        for wt in weightings(cfg):
            c = cfg.with_(normalisation=norm, weighting=wt)
            within, fw = _level_weights(c, xn, items, fields)
            for agg in AGGREGATIONS:
                F = np.column_stack([aggregate(xn[:, [j for j, it in enumerate(items) if it.field == f]],
                                               within[f], agg, cfg.coverage) for f in fields])
                out[(norm, wt, agg)] = (F, fw)
    return out


def _overall(F: np.ndarray, W: np.ndarray, agg: str, coverage: float) -> np.ndarray:
    """Overall scores n × D for field scores F (n × k) and per-draw field weights W (k × D)."""
    ok = np.isfinite(F)
    M = ok.astype(float)
    F0 = np.where(ok, F, 0.0)
    den = M @ W
    with np.errstate(invalid="ignore", divide="ignore"):
        if agg == "arithmetic":
            s = (F0 @ W) / den
        elif agg == "geometric":
            s = (np.exp((np.log(1 + 0.99 * F0) * M) @ W / den) - 1) / 0.99
        else:
            dp = np.sqrt((((100 - F0) ** 2) * M) @ W / den)
            dm = np.sqrt(((F0**2) * M) @ W / den)
            s = 100 * dm / (dp + dm)
    return np.where(den / W.sum(axis=0) >= coverage - 1e-12, s, np.nan)


def run_sensitivity(study, *, draws: int | None = None, seed: int | None = None,  # type: ignore[no-untyped-def]
                    progress: bool = False, rank_among: Sequence[str] | None = None) -> SensitivityResult:
    """Monte Carlo uncertainty and Sobol sensitivity of regional and provincial degrees.

    ``draws`` is the total number of index evaluations, ``N (k + 2)`` with ``k = 5`` inputs;
    ``draws`` and ``seed`` default to ``uncertainty`` in ``data/index.yml``. ``rank_among``: the
    provinces ranked (the publishable ones, whose ranks the report shows; default all), so the
    Sobol indices of the ranks describe the ranks a reader sees.
    """
    t0 = time.perf_counter()
    u = study.settings.index.uncertainty
    draws = u.draws if draws is None else draws
    seed = u.seed if seed is None else seed
    w = study.wave
    cfg = study.construction
    v = study.villagers
    dc = w.design_columns
    base_w = v[dc["weight"]].to_numpy(float)
    rng = np.random.default_rng(seed)
    k = len(INPUTS)
    N = max(draws // (k + 2), 2)
    combos = _field_scores(v, w.codebook, cfg, base_w)
    wts = weightings(cfg)
    n_f = next(iter(combos.values()))[0].shape[1]

    def sample(m: int) -> dict[str, np.ndarray]:
        return {"normalisation": rng.integers(len(NORMS), size=m),
                "weighting": rng.integers(len(wts), size=m),
                "aggregation": rng.integers(len(AGGREGATIONS), size=m),
                "weights_perturbation": np.arange(m), "bootstrap": np.arange(m)}

    A, B = sample(N), sample(N)
    B["weights_perturbation"] = B["weights_perturbation"] + N
    B["bootstrap"] = B["bootstrap"] + N
    perturb = rng.uniform(1 - PERTURBATION, 1 + PERTURBATION, size=(n_f, 2 * N))
    boot = rao_wu_weights(base_w, *bootstrap_design(study, v), 2 * N, rng)
    blocks = [A, B] + [{**A, inp: B[inp]} for inp in INPUTS]
    design = {name: np.concatenate([b[name] for b in blocks]) for name in INPUTS}
    total = len(design["normalisation"])

    regions = sorted(v["region3"].dropna().unique())
    provs = sorted(v["province_en"].dropna().unique())
    G_r = (v["region3"].to_numpy()[:, None] == np.array(regions)[None, :]).astype(float)
    G_p = (v["province_en"].to_numpy()[:, None] == np.array(provs)[None, :]).astype(float)
    reg_means = np.full((total, len(regions)), np.nan)
    prov_means = np.full((total, len(provs)), np.nan)
    n_w, n_a = len(wts), len(AGGREGATIONS)
    combo_ids = (design["normalisation"] * n_w + design["weighting"]) * n_a + design["aggregation"]
    groups = np.unique(combo_ids)
    iterator = groups
    if progress:
        from rich.progress import track

        iterator = track(groups, description=f"{total} draws", transient=True)
    for cid in iterator:
        idx = np.flatnonzero(combo_ids == cid)
        ni, wi, ai = cid // (n_w * n_a), (cid // n_a) % n_w, cid % n_a
        F, fw = combos[(NORMS[ni], wts[wi], AGGREGATIONS[ai])]
        W = fw[:, None] * perturb[:, design["weights_perturbation"][idx]]
        S = _overall(F, W, AGGREGATIONS[ai], cfg.coverage)             # n × d
        Bw = boot[:, design["bootstrap"][idx]]                          # n × d
        ok = np.isfinite(S)
        WS = np.where(ok, Bw * S, 0.0)
        Wo = np.where(ok, Bw, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            reg_means[idx] = ((G_r.T @ WS) / (G_r.T @ Wo)).T
            prov_means[idx] = ((G_p.T @ WS) / (G_p.T @ Wo)).T
    east, west = regions.index("east") if "east" in regions else None, regions.index("west") if "west" in regions else None
    # a wave without the east or the west has no gap: NaN in every draw, no row, no Sobol index
    gap = (reg_means[:, east] - reg_means[:, west] if east is not None and west is not None
           else np.full(total, np.nan))
    among = set(provs if rank_among is None else rank_among)
    ranked = [j for j, p in enumerate(provs) if p in among]
    ranks = pd.DataFrame(prov_means[:, ranked]).rank(axis=1, ascending=False).to_numpy()
    # Sobol indices (Saltelli 2010 first order, Jansen total), for the gap and for each rank
    fA, fB = slice(0, N), slice(N, 2 * N)

    def sobol(y: np.ndarray) -> list[tuple[float, float]]:
        return sobol_indices(y[fA], y[fB], [y[(2 + i) * N:(3 + i) * N] for i in range(k)])

    rows = []
    if east is not None and west is not None:
        for (s1, st), inp in zip(sobol(gap), INPUTS):
            rows.append({"input": inp, "output": GAP_OUTPUT, "first_order": s1, "total": st})
    per_prov = np.array([sobol(ranks[:, j]) for j in range(len(ranked))]).reshape(len(ranked), k, 2)
    for i, inp in enumerate(INPUTS):
        rows.append({"input": inp, "output": N_("province ranks (mean over provinces)"),
                     "first_order": _mean_of_defined(per_prov[:, i, 0]),
                     "total": _mean_of_defined(per_prov[:, i, 1])})
    mc = slice(0, 2 * N)   # A and B: independent draws for the distributions
    draws_df = pd.DataFrame({"normalisation": np.array(NORMS)[design["normalisation"][mc]],
                             "weighting": np.array(wts)[design["weighting"][mc]],
                             "aggregation": np.array(AGGREGATIONS)[design["aggregation"][mc]],
                             "gap": gap[mc]})
    return SensitivityResult(
        draws=draws_df, regions=pd.DataFrame(reg_means[mc], columns=regions),
        provinces=pd.DataFrame(prov_means[mc], columns=provs),
        ranks=pd.DataFrame(ranks[mc], columns=[provs[j] for j in ranked]), sobol=pd.DataFrame(rows),
        seconds=time.perf_counter() - t0, seed=seed, n_evaluations=int(total))


def domain_replicates(study, *, by: str = "province_en", reps: int | None = None,  # type: ignore[no-untyped-def]
                      seed: int | None = None, level: str = "overall") -> pd.DataFrame:
    """Rao–Wu bootstrap replicates of the design-weighted mean score of each domain
    (replicates × domains; ``reps`` and ``seed`` default to ``uncertainty`` in ``data/index.yml``)."""
    u = study.settings.index.uncertainty
    reps = u.bootstrap_reps if reps is None else reps
    seed = u.bootstrap_seed if seed is None else seed
    v = study.villagers
    dc = study.wave.design_columns
    s = study.scores[level].to_numpy()
    rng = np.random.default_rng(seed)
    B = rao_wu_weights(v[dc["weight"]].to_numpy(float), *bootstrap_design(study, v), reps, rng)
    doms = sorted(v[by].dropna().unique())
    G = (v[by].to_numpy()[:, None] == np.array(doms)[None, :]).astype(float)
    ok = np.isfinite(s)
    with np.errstate(invalid="ignore"):                     # a domain nobody answered: 0/0
        means = (G.T @ np.where(ok[:, None], B * s[:, None], 0)) / (G.T @ (B * ok[:, None]))
    return pd.DataFrame(means.T, columns=pd.Index(doms, name=by))


def rank_intervals(means: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Median rank (1 = highest) and its interval over replicates, among the given domains."""
    ranks = means.rank(axis=1, ascending=False)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    return pd.DataFrame({"median_rank": ranks.median(), "rank_low": ranks.quantile(lo),
                         "rank_high": ranks.quantile(hi)})


def bootstrap_domains(study, *, by: str = "province_en", reps: int | None = None,  # type: ignore[no-untyped-def]
                      seed: int | None = None, level: str = "overall") -> pd.DataFrame:
    """Sampling uncertainty of the study's construction: Rao–Wu bootstrap of domain means and ranks.

    Returns per domain: bootstrap mean, SE, and the median rank with its 95 % interval.
    """
    means = domain_replicates(study, by=by, reps=reps, seed=seed, level=level)
    out = pd.DataFrame({"boot_mean": means.mean(), "boot_se": means.std(ddof=1)})
    return out.join(rank_intervals(means))
