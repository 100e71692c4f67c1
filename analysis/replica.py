"""The calibrated replica: synthetic microdata reproducing every figure the seed paper published.

**This is not the survey's data.**  The 2020 microdata of the seed paper (Ma Chen et al., Strategic
Study of CAE 24(2), 2022) are not public.  This generator makes a synthetic wave with the same
design features (22 provinces in province strata, villages as PSUs, design weights, 1160
villagers, 33 township institutions) from an explicit, documented latent model, then *calibrates*
it so that the estimators a user runs on a real wave reproduce each published figure within its
printed rounding.  Its estimates illustrate the method; they are not findings about China.

The latent model (the ground truth the regression tests recover, before calibration)
------------------------------------------------------------------------------------
For villager *i* in village *v* of province *p* in region *r*::

    score*_i = 50 + gamma_r + alpha_p + u_v
               + 6.0 * internet_use + 2.0 * (education - 3) + 3.0 * (ln(hh_income) - 10.5)
               - 0.15 * (distance_km - 5) + 2.5 * (participation - 3) + e_i,
    u_v ~ N(0, 3^2),  e_i ~ N(0, 9^2)

(:data:`TRUE_COEFFICIENTS`, :data:`REGION_EFFECTS`).  Each of the 20 field × aspect items is
``1 + 4 (score*_i + phi_f + psi_a + eps_ifa) / 100`` clipped to [1, 5] and stochastically rounded
(so its expectation is unchanged), ``eps ~ N(0, 10^2)``, field and aspect effects summing to
zero: the expected overall index score of a respondent equals ``score*_i`` wherever no clipping
occurs.  Satisfaction items follow an ordered logit on ``0.05 (score*_i - 50)``.

Calibration (default wave only; ``calibrate=False`` gives the pure model)
-----------------------------------------------------------------------
1. Group intercepts (Shanghai, Tibet, the rest of the east, the centre, the rest of the west) are
   shifted by bisection, items regenerated with common random numbers, until the design-based
   mean scores hit: Shanghai 72.5 and Tibet 29.0 (ratio 2.5), and the east / central / west
   degrees 63.05 / 45.84 / 49.42; a few single-step item changes remove the last rounding step.
2. Base design weights (rural population of the province / respondents, times a village factor)
   are multiplied, in the east, by the one factor that makes the weighted overall degree 50.96:
   the paper's four degrees are consistent only if the east carries about 22 % of the weight
   (its surveyed provinces hold about 34 % of their rural population).
3. Each published percentage of a villager item is hit as a design-weighted proportion by
   choosing the ticking respondents by a covariate-driven propensity and a final swap; the
   institution figures (multiples of 1/33) are exact counts of 33 township records.

The module is longer than most (about 600 lines) because the generator is one piece: the
latent draws, the calibration loops and the file writer share the same random state and
frames, and splitting them would pass that state through several modules for no reader's gain.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.ingest import provinces
from analysis.estimation.index import IndexConfig, build_index
from analysis.ingest.codebook import Codebook, load_codebook
from analysis.settings import SettingsError, dump_yaml, load_settings, read_yaml

REPLICA_VERSION = "1.0"
DEFAULT_SEED = 20200601
N_VILLAGERS = 1160
MIN_PER_PROVINCE = 20
"""Respondents the replica puts at least in a province (two villages of ten) when n allows it."""
MAX_SWAPS = 50
"""Swaps of one respondent for another the calibration of one published share may make."""
N_INSTITUTIONS = 33

SURVEYED = {
    "east": ["上海", "江苏", "浙江", "山东", "广东", "福建", "河北"],
    "central": ["山西", "安徽", "江西", "河南", "湖北", "湖南", "黑龙江"],
    "west": ["四川", "重庆", "贵州", "云南", "陕西", "甘肃", "广西", "西藏"],
}
"""The 22 provinces of the replica (the paper names only Shanghai and Tibet)."""

TRUE_COEFFICIENTS = {"internet_use": 6.0, "education": 2.0, "log_income": 3.0,
                     "distance_km": -0.15, "participation": 2.5}
"""True effects on the 0–100 score: per unit (education and participation: per category step)."""
REGION_EFFECTS = {"east": 9.0, "central": -6.0, "west": -2.0}
"""Nominal region intercepts (relative to 50) before calibration."""
PROVINCE_SD, VILLAGE_SD, RESIDUAL_SD, ITEM_SD = 3.0, 3.0, 9.0, 10.0
SHANGHAI_EFFECT, TIBET_EFFECT = 10.0, -18.0
FIELD_EFFECTS = {"education": 3.0, "health": 2.0, "social_security": 1.0,
                 "employment_training": -4.0, "culture_sports": -2.0}
ASPECT_EFFECTS = {"organization": 3.0, "system": 1.0, "means": -5.0, "concept": 1.0}
SATISFACTION_SLOPE = 0.05
SATISFACTION_CUTS = (-2.2, -0.9, 0.6, 2.1)
SHANGHAI_TARGET, TIBET_TARGET = 72.5, 29.0


def published() -> dict:
    """The seed paper's published figures (``data/reference/published-figures.yml``)."""
    return load_settings().published


def _province_frame() -> pd.DataFrame:
    from analysis.ingest.official import province_panel

    p20 = province_panel().xs(2020, level="year")
    rows = []
    for region, names in SURVEYED.items():
        for nm in names:
            p = provinces.resolve(nm)
            r = p20.loc[p.adcode]
            rows.append({"adcode": p.adcode, "name_zh": p.name_zh_short, "name_en": p.name_en,
                         "region": region,
                         "rural_pop": float(r["resident_pop_10k"]) * 1e4 * (1 - float(r["urban_rate_pct"]) / 100)})
    return pd.DataFrame(rows)


@dataclass
class _Latent:
    frame: pd.DataFrame          # villagers: design + covariates (codes)
    base: np.ndarray             # score* without group offsets
    group: np.ndarray            # calibration group of each respondent (0..4)
    eps: np.ndarray              # n × 20 item noise
    unif: np.ndarray             # n × 20 rounding uniforms
    miss: np.ndarray             # n × 20 missing code (0 = answered, 8 or 9)


def _stoch_round(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(x, 1, 5) + u).clip(1, 5)


def _allocate(rng: np.random.Generator, n: int, k: int, low: int) -> np.ndarray:
    share = rng.dirichlet(np.full(k, 12.0))
    out = low + np.floor(share * (n - low * k)).astype(int)
    out[np.argsort(-share)[: n - out.sum()]] += 1
    return out


def _villagers(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    prov = _province_frame()
    n_p = _allocate(rng, n, len(prov), max(MIN_PER_PROVINCE, n // (len(prov) * 3)))
    if n_p.min() < 10:          # a smaller n lowers the floor of 20 a province; below 10, no two villages
        raise ValueError(f"n = {n} is too small for the replica's {len(prov)} provinces: this draw gives "
                         "one of them fewer than the 10 respondents two villages need ("
                         + (f"any n below {10 * len(prov)} does" if n < 10 * len(prov) else
                            "another seed may not") + f"); {MIN_PER_PROVINCE * len(prov)} or more always works")
    cols: dict[str, list] = {k: [] for k in ("province_code", "province", "region", "village_id",
                                               "resp_id", "base_weight")}
    for (_, p), np_ in zip(prov.iterrows(), n_p):
        # 2-3 villages per province at the survey's size; about 20 respondents a village for
        # large synthetic waves (benchmarks), so that PSUs stay realistic
        n_vill = 2 if np_ < 45 else 3 if np_ < 200 else int(np_) // 20
        n_v = _allocate(rng, int(np_), n_vill, 10)
        vfac = np.exp(rng.normal(0, 0.3, n_vill))
        vfac /= vfac.mean()
        for j, (m, f) in enumerate(zip(n_v, vfac), start=1):
            m = int(m)
            vid = f"{p.adcode // 10000}{j:02d}"
            cols["province_code"].append(np.full(m, p.adcode))
            cols["province"].append(np.full(m, p.name_zh, dtype=object))
            cols["region"].append(np.full(m, p.region, dtype=object))
            cols["village_id"].append(np.full(m, vid, dtype=object))
            cols["resp_id"].append(np.array([f"{vid}{k + 1:03d}" for k in range(m)], dtype=object))
            cols["base_weight"].append(np.full(m, p.rural_pop / np_ * f))
    d = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})
    m = len(d)
    east = (d["region"] == "east").to_numpy()
    west = (d["region"] == "west").to_numpy()
    tibet = (d["province"] == "西藏").to_numpy()
    age = np.clip(rng.normal(52, 14, m), 18, 90).round()
    female = rng.random(m) < 0.45
    edu_lat = 2.9 - 0.04 * (age - 52) + 0.35 * east - 0.3 * west - 0.5 * tibet + rng.normal(0, 0.9, m)
    education = np.digitize(edu_lat, [1.5, 2.5, 3.5, 4.4]) + 1
    log_inc = 10.5 + 0.15 * (education - 3) + 0.35 * east - 0.12 * west + rng.normal(0, 0.55, m)
    income = np.round(np.exp(log_inc), -2)
    p_int = 1 / (1 + np.exp(-(0.6 - 0.08 * (age - 52) + 0.6 * (education - 3) + 0.5 * east - 0.4 * tibet)))
    internet = (rng.random(m) < p_int).astype(float)
    smartphone = np.where(internet == 1, rng.random(m) < 0.96, rng.random(m) < 0.35).astype(float)
    dist = np.round(np.exp(rng.normal(1.55 + 0.35 * west + 0.8 * tibet - 0.2 * east, 0.6)), 1)
    migrant = (rng.random(m) < 1 / (1 + np.exp(-(-0.2 - 0.05 * (age - 45) + 0.5 * ~female)))).astype(float)
    occ = np.where(age >= 65, np.where(rng.random(m) < 0.55, 1, 6),
                   rng.choice([1, 2, 3, 4, 5], size=m, p=[0.38, 0.22, 0.24, 0.11, 0.05]))
    part_lat = 2.6 + 0.015 * (age - 52) + 0.2 * (education - 3) + 1.2 * (occ == 5) + rng.normal(0, 0.9, m)
    participation = np.clip(np.round(part_lat), 1, 5)
    meeting = (rng.random(m) < 1 / (1 + np.exp(-(participation - 2.8)))).astype(float)
    d = d.assign(age=age, sex=np.where(female, 2.0, 1.0), education=education.astype(float),
                 hh_income=income, occupation=occ.astype(float), internet_use=internet,
                 smartphone=smartphone, distance_km=dist, migrant_exp=migrant,
                 participation=participation, village_meeting=meeting)
    return d, prov


def _latent(rng: np.random.Generator, d: pd.DataFrame, cb: Codebook) -> _Latent:
    m = len(d)
    provs = d["province"].unique()
    alpha = dict(zip(provs, rng.normal(0, PROVINCE_SD, len(provs))))
    alpha["上海"] = SHANGHAI_EFFECT
    alpha["西藏"] = TIBET_EFFECT
    vills = d["village_id"].unique()
    u = dict(zip(vills, rng.normal(0, VILLAGE_SD, len(vills))))
    c = TRUE_COEFFICIENTS
    base = (50 + d["region"].map(REGION_EFFECTS).to_numpy() + d["province"].map(alpha).to_numpy()
            + d["village_id"].map(u).to_numpy()
            + c["internet_use"] * d["internet_use"].to_numpy()
            + c["education"] * (d["education"].to_numpy() - 3)
            + c["log_income"] * (np.log(d["hh_income"].to_numpy()) - 10.5)
            + c["distance_km"] * (d["distance_km"].to_numpy() - 5)
            + c["participation"] * (d["participation"].to_numpy() - 3)
            + rng.normal(0, RESIDUAL_SD, m))
    group = np.select([d["province"] == "上海", d["region"] == "east", d["region"] == "central",
                       d["province"] == "西藏"], [0, 1, 2, 4], 3)
    k = len(cb.indicators())
    eps = rng.normal(0, ITEM_SD, (m, k))
    unif = rng.random((m, k))
    # item non-response: don't know (8) more often among the old; a few refuse (9);
    # 1 % skip a whole field; 0.5 % answer (almost) nothing
    p_dk = 0.02 + 0.03 * (d["age"].to_numpy() >= 70)
    r = rng.random((m, k))
    miss = np.where(r < p_dk[:, None], 8, np.where(r > 0.996, 9, 0))
    fields = [it.field for it in cb.indicators()]
    for fi, f in enumerate(dict.fromkeys(fields)):
        skip = rng.random(m) < 0.01
        cols = [j for j, ff in enumerate(fields) if ff == f]
        miss[np.ix_(skip, cols)] = 8
    nothing = rng.random(m) < 0.005
    miss[nothing] = 9
    return _Latent(d, base, group, eps, unif, miss)


def _items(lat: _Latent, cb: Codebook, offsets: np.ndarray) -> np.ndarray:
    items = cb.indicators()
    eff = np.array([FIELD_EFFECTS[it.field] + ASPECT_EFFECTS[it.aspect] for it in items])
    score = lat.base + offsets[lat.group]
    cstar = 1 + 4 * (score[:, None] + eff[None, :] + lat.eps) / 100
    return _stoch_round(cstar, lat.unif)


def _with_missing(codes: np.ndarray, miss: np.ndarray) -> np.ndarray:
    return np.where(miss > 0, miss, codes)


def _scores(codes: np.ndarray, miss: np.ndarray, cb: Codebook) -> np.ndarray:
    ids = [it.id for it in cb.indicators()]
    frame = pd.DataFrame(np.where(miss > 0, np.nan, codes), columns=ids)
    return build_index(frame, IndexConfig(), codebook=cb).scores["overall"].to_numpy()


def _wmean(x: np.ndarray, w: np.ndarray, mask: np.ndarray) -> float:
    ok = mask & np.isfinite(x)
    return float(np.sum(w[ok] * x[ok]) / np.sum(w[ok]))


def _calibrate_index(lat: _Latent, cb: Codebook, w: np.ndarray, targets: dict[int, float],
                     tol: float = 0.0015) -> tuple[np.ndarray, np.ndarray, dict]:
    offsets = np.zeros(5)
    log: dict = {}
    for g, tgt in targets.items():
        mask = lat.group == g
        lo, hi = -40.0, 40.0
        for _ in range(40):
            mid = (lo + hi) / 2
            offsets[g] = mid
            s = _scores(_items(lat, cb, offsets), lat.miss, cb)
            if _wmean(s, w, mask) < tgt:
                lo = mid
            else:
                hi = mid
        offsets[g] = (lo + hi) / 2
        log[int(g)] = float(offsets[g])
    codes = _items(lat, cb, offsets)
    # last rounding step: single ±1 item changes, the one whose effect best fits the residual
    n_changed = 0
    for g, tgt in targets.items():
        mask = lat.group == g
        for _ in range(30):
            s = _scores(codes, lat.miss, cb)
            res = tgt - _wmean(s, w, mask)
            if abs(res) <= tol:
                break
            step = 1.0 if res > 0 else -1.0
            ok_cells = (lat.miss == 0) & mask[:, None] & ((codes < 5) if step > 0 else (codes > 1))
            ii, jj = np.nonzero(ok_cells)
            okm = mask & np.isfinite(s)
            wsum = w[okm].sum()
            trial = codes.copy()
            # approximate effect of one step on the group mean, then the exact check
            n_items = (lat.miss == 0).sum(axis=1).clip(1)
            eff = w[ii] * 25 / n_items[ii] / wsum  # one step = 25 points on one of ~20 items
            best = np.argsort(np.abs(eff - abs(res)))[:25]
            best_k, best_err = None, abs(res)
            for kk in best:
                trial[ii[kk], jj[kk]] += step
                s2 = _scores(trial[[ii[kk]]], lat.miss[[ii[kk]]], cb)[0]
                new = _wmean(np.where(np.arange(len(s)) == ii[kk], s2, s), w, mask)
                err = abs(tgt - new)
                trial[ii[kk], jj[kk]] -= step
                if err < best_err:
                    best_k, best_err = kk, err
            if best_k is None:
                break
            codes[ii[best_k], jj[best_k]] += step
            n_changed += 1
    log["single_step_changes"] = n_changed
    return codes, offsets, log


def _swap_fix(sel: np.ndarray, elig: np.ndarray, w: np.ndarray, target_w: float, tol_w: float) -> np.ndarray:
    """Bring the weighted total of ``sel`` within ``tol_w`` of ``target_w`` by swapping one
    respondent in for one out; when no single swap is close enough (weights spread over orders of
    magnitude), the best swap is taken and the search repeated, each swap shrinking the miss."""
    sel = sel.copy()
    for swaps in range(MAX_SWAPS + 1):
        res = w[sel].sum() - target_w
        if abs(res) <= tol_w:
            return sel
        yes = np.flatnonzero(sel)
        no = np.flatnonzero(elig & ~sel)
        if swaps == MAX_SWAPS or not len(yes) or not len(no):
            break
        order = np.argsort(w[no])
        wn = w[no][order]
        # swapping yes i out and no j in changes the total by w_j - w_i: want it ≈ -res
        want = w[yes] - res
        pos = np.clip(np.searchsorted(wn, want), 1, len(wn) - 1)
        cand = np.where(np.abs(wn[pos] - want) < np.abs(wn[pos - 1] - want), pos, pos - 1)
        err = np.abs(wn[cand] - want)
        k = int(np.argmin(err))
        if err[k] >= abs(res):
            break
        sel[yes[k]] = False
        sel[no[order[cand[k]]]] = True
    raise RuntimeError("replica calibration: no swap reaches the target share")


def _select(rng: np.random.Generator, elig: np.ndarray, base: np.ndarray, w: np.ndarray,
            propensity: np.ndarray, share: float, tol: float) -> np.ndarray:
    """Respondents ticking an item: weighted share ``share`` of ``base`` (± tol), among ``elig``."""
    key = propensity + rng.gumbel(size=len(w))
    order = np.flatnonzero(elig)[np.argsort(-key[elig])]
    target_w = share * w[base].sum()
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, target_w))
    if k > 0 and abs(cum[k - 1] - target_w) < abs(cum[min(k, len(cum) - 1)] - target_w):
        k -= 1
    sel = np.zeros(len(w), bool)
    sel[order[: k + 1]] = True
    return _swap_fix(sel, elig, w, target_w, tol * w[base].sum())


def _exact_count(rng: np.random.Generator, elig: np.ndarray, k: int, must: np.ndarray | None = None) -> np.ndarray:
    sel = np.zeros(len(elig), bool)
    if must is not None:
        sel |= must
    pool = np.flatnonzero(elig & ~sel)
    sel[rng.choice(pool, size=k - int(sel.sum()), replace=False)] = True
    return sel


def generate(seed: int = DEFAULT_SEED, n: int = N_VILLAGERS, *, calibrate: bool = True,
             codebook: Codebook | None = None) -> dict[str, pd.DataFrame | dict]:
    """Generate a replica wave: ``villagers``, ``institutions`` (coded frames) and ``log``.

    ``calibrate=False`` leaves the pure latent model (for parameter-recovery tests on large
    ``n``); the published figures are then only approximately reproduced.
    """
    cb = codebook or load_codebook()
    rng = np.random.default_rng(seed)
    pub = published()
    d, prov = _villagers(rng, n)
    lat = _latent(rng, d, cb)
    w = d["base_weight"].to_numpy()
    east = (d["region"] == "east").to_numpy()
    log: dict = {"seed": seed, "version": REPLICA_VERSION, "n": int(len(d)), "calibrated": calibrate}
    md = pub["modernization_degree"]
    if calibrate:
        # whether a respondent has an overall score depends only on the missing pattern
        scored = np.isfinite(_scores(np.full(lat.miss.shape, 3.0), lat.miss, cb))
        we = w[east & scored].sum()
        w_sh = w[(lat.group == 0) & scored].sum()
        w_tb = w[(lat.group == 4) & scored].sum()
        t_e, t_c, t_w = md["east"]["value"], md["central"]["value"], md["west"]["value"]
        rest_e = (t_e * we - SHANGHAI_TARGET * w_sh) / (we - w_sh)
        ww = w[(d["region"] == "west").to_numpy() & scored].sum()
        rest_w = (t_w * ww - TIBET_TARGET * w_tb) / (ww - w_tb)
        targets = {0: SHANGHAI_TARGET, 1: rest_e, 2: t_c, 3: rest_w, 4: TIBET_TARGET}
        codes, offsets, clog = _calibrate_index(lat, cb, w, targets)
        log["index_offsets"] = {k: round(v, 4) for k, v in clog.items() if isinstance(k, int)}
        log["single_step_item_changes"] = clog["single_step_changes"]
        # east weight factor reproducing the overall degree
        s = _scores(codes, lat.miss, cb)
        ok = np.isfinite(s)
        m_r = {r: _wmean(s, w, (d["region"] == r).to_numpy()) for r in ("east", "central", "west")}
        W = {r: w[ok & (d["region"] == r).to_numpy()].sum() for r in m_r}
        t = md["overall"]["value"]
        a_e = (W["central"] * (t - m_r["central"]) + W["west"] * (t - m_r["west"])) / (W["east"] * (m_r["east"] - t))
        w = np.where(east, w * a_e, w)
        log["east_weight_factor"] = round(float(a_e), 6)
    else:
        codes = _items(lat, cb, np.zeros(5))
        s = _scores(codes, lat.miss, cb)
    w = np.round(w, 4)
    d = d.assign(weight=w)
    ids = [it.id for it in cb.indicators()]
    items = pd.DataFrame(_with_missing(codes, lat.miss), columns=ids, index=d.index)
    # satisfaction / availability / accessibility: ordered logit on the latent score
    score_lat = lat.base + (offsets[lat.group] if calibrate else 0)
    out = {}
    for f, prefix in [("education", "edu"), ("health", "hlt"), ("social_security", "ss"),
                      ("employment_training", "et"), ("culture_sports", "cs")]:
        for suffix, shift in (("sat", 0.0), ("avail", -0.3), ("access", 0.2)):
            eta = SATISFACTION_SLOPE * (score_lat - 50) + shift
            lat_y = eta + rng.logistic(size=len(d))
            y = np.digitize(lat_y, SATISFACTION_CUTS) + 1.0
            y[rng.random(len(d)) < 0.02] = 8
            out[f"{prefix}_{suffix}"] = y
    d = pd.concat([d, items, pd.DataFrame(out, index=d.index)], axis=1)
    _table1(rng, d, pub, calibrate)
    inst = _institutions(rng, prov, pub)
    cols = [c for c in cb.ids("villagers") if c in d.columns]
    return {"villagers": d[cols].copy(), "institutions": inst, "log": log}


def _table1(rng: np.random.Generator, d: pd.DataFrame, pub: dict, calibrate: bool) -> None:
    """Fill the Table 1 problem items and the other published villager items in place."""
    w = d["weight"].to_numpy()
    m = len(d)
    inc = (np.log(d["hh_income"].to_numpy()) - 10.5)
    age = (d["age"].to_numpy() - 52) / 14
    dist = np.log(d["distance_km"].to_numpy() + 1)
    smart = d["smartphone"].to_numpy()
    internet = d["internet_use"].to_numpy()
    tol = 0.00002  # ±0.002 percentage points: inside every printed rounding
    t1 = pub["table_1_problems"]
    other = pub["other_survey_figures"]

    def block(prefix_items: list[tuple[str, float, np.ndarray]], skip: float,
              exclusive: tuple[str, float] | None = None) -> None:
        answered = rng.random(m) >= skip
        elig = answered.copy()
        if exclusive is not None:
            col, share = exclusive
            sel = _select(rng, answered, answered, w, -0.5 * inc, share / 100, tol) if calibrate \
                else answered & (rng.random(m) < share / 100)
            d[col] = np.where(answered, sel.astype(float), np.nan)
            elig = answered & ~sel
        for col, share, prop in prefix_items:
            sel = _select(rng, elig, answered, w, prop, share / 100, tol) if calibrate \
                else elig & (rng.random(m) < share / 100 * (answered.sum() / max(elig.sum(), 1)))
            d[col] = np.where(answered, sel.astype(float), np.nan)

    h = t1["health"]
    block([("hp_equipment", h["equipment_outdated"], -0.3 * inc),
           ("hp_expensive", h["expenses_too_high"], -0.8 * inc),
           ("hp_doctors", h["doctors_underqualified"], 0.2 * age),
           ("hp_attitude", h["poor_service_attitude"], np.zeros(m)),
           ("hp_far", h["too_far_from_home"], 1.0 * dist),
           ("hp_drugs", h["drug_deficiency"], 0.3 * dist)], 0.02, ("hp_dontknow", h["do_not_know"]))
    s = t1["social_security"]
    block([("ssp_centres", s["lacking_activity_centres_for_elderly"], 0.5 * age),
           ("ssp_late", s["pensions_not_paid_on_time"], np.zeros(m)),
           ("ssp_nopension", s["no_pension"], -0.8 * age),
           ("ssp_nursing", s["no_nursing_homes"], 0.3 * age),
           ("ssp_low", s["pensions_too_low_for_serious_illness"], -0.4 * inc)], 0.02)
    e = t1["employment_training"]
    block([("etp_jobs", e["few_job_opportunities"], -0.3 * inc),
           ("etp_services", e["few_employment_training_services"], 0.2 * dist),
           ("etp_targeted", e["training_not_customised"], np.zeros(m)),
           ("etp_attitude", e["poor_service_attitude"], np.zeros(m)),
           ("etp_unaware", e["do_not_know_service"], -0.6 * internet),
           ("etp_unwilling", e["unwilling_to_attend"], 0.4 * age),
           ("etp_other", e["others"], np.zeros(m))], 0.03)
    c = t1["culture_sports"]
    block([("csp_few", c["too_few_services"], 0.2 * dist),
           ("csp_places", c["lack_places_facilities"], 0.2 * dist),
           ("csp_staff", c["insufficient_personnel"], np.zeros(m)),
           ("csp_access", c["inconvenient_access"], 0.6 * dist),
           ("csp_other", c["others"], np.zeros(m))], 0.03)
    block([("hreg_onsite", other["health_registration_on_site"], -0.8 * smart),
           ("hreg_app", other["health_registration_app_or_wechat"], 2.0 * smart - 0.3 * age),
           ("hreg_web", other["health_registration_website"], 1.2 * internet),
           ("hreg_phone", 12.0, 0.3 * smart)], 0.02)

    def binary(col: str, share_yes: float, prop: np.ndarray, nonresp: float) -> None:
        answered = rng.random(m) >= nonresp
        sel = _select(rng, answered, answered, w, prop, share_yes / 100, tol) if calibrate \
            else answered & (rng.random(m) < share_yes / 100)
        d[col] = np.where(answered, sel.astype(float), np.where(rng.random(m) < 0.7, 8.0, 9.0))

    binary("old_age_ins", 100 - other["villagers_without_basic_old_age_insurance"], 0.4 * age + 0.3 * inc, 0.01)
    binary("medical_ins", 96.5, 0.2 * inc, 0.01)
    binary("cs_tradition", other["traditional_culture_not_transmitted"], 0.2 * age, 0.02)
    binary("cs_facility_use", 42.0, -0.3 * dist - 0.3 * age, 0.02)
    binary("digital_aware", 61.0, 1.5 * internet - 0.3 * age, 0.01)
    binary("digital_use", 34.0, 2.5 * internet, 0.01)


def _institutions(rng: np.random.Generator, prov: pd.DataFrame, pub: dict) -> pd.DataFrame:
    n = N_INSTITUTIONS
    # one or two townships per province: all 22 provinces, 11 with a second township
    second = rng.choice(len(prov), size=n - len(prov), replace=False)
    pidx = np.sort(np.concatenate([np.arange(len(prov)), second]))
    df = pd.DataFrame({"inst_id": [f"T{i + 1:02d}" for i in range(n)],
                       "province": prov["name_zh"].to_numpy()[pidx]})
    all_ = np.ones(n, bool)
    k = {key: round(v * n / 100) for key, v in pub["table_1_problems"]["education"].items()}
    none = _exact_count(rng, all_, k["no_problem"])
    rest = ~none
    teachers = _exact_count(rng, rest, k["teachers_lacking_english_music"])
    urban = _exact_count(rng, rest, k["lags_urban_education_system"], must=rest & ~teachers)
    df["ep_teachers"] = teachers.astype(float)
    df["ep_urban_gap"] = urban.astype(float)
    for col, key in (("ep_narrow", "narrow_knowledge_of_students"), ("ep_funds", "insufficient_funds"),
                     ("ep_facilities", "facilities_lacking_backward"), ("ep_methods", "backward_teaching_methods")):
        df[col] = _exact_count(rng, rest, k[key]).astype(float)
    df["ep_none"] = none.astype(float)
    other = pub["other_survey_figures"]
    online = _exact_count(rng, all_, round(other["township_hospitals_online_appointment"] * n / 100))
    tele = _exact_count(rng, online, round(other["township_hospitals_telemedicine_max"] * n / 100))
    df["hosp_online_appt"] = online.astype(float)
    df["hosp_telemedicine"] = tele.astype(float)
    doctors = rng.integers(6, 40, n)
    df["hosp_doctors"] = doctors.astype(float)
    df["hosp_doctors_licensed"] = np.round(doctors * rng.uniform(0.5, 0.85, n)).astype(float)
    teach = rng.integers(25, 90, n)
    hs = np.round(teach * rng.beta(2, 16, n)).astype(int)
    target = other["rural_primary_teachers_high_school_or_less"] / 100
    while abs(hs.sum() / teach.sum() - target) > 0.0005:  # exact counts, ratio 11 % ± 0.05 pp
        i = rng.integers(n)
        hs[i] = max(0, hs[i] + (1 if hs.sum() / teach.sum() < target else -1))
    df["school_teachers"] = teach.astype(float)
    df["school_teachers_hs"] = hs.astype(float)
    df["school_teachers_bachelor"] = np.minimum(teach - hs, np.round(teach * rng.uniform(0.45, 0.75, n))).astype(float)
    return df


# ---- writing ------------------------------------------------------------------------------

def _csv_bytes(df: pd.DataFrame) -> bytes:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            v = out[c].to_numpy()
            if np.all(np.isnan(v) | (v == np.round(v))):
                out[c] = pd.array(np.where(np.isnan(v), None, v), dtype="Int64")
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n", float_format="%.4f")
    return buf.getvalue().encode("utf-8")


WAVE_README = """# Wave `{id}`: {a_kind} synthetic replica — NOT the original survey data

These files are **synthetic**. They were generated by `analysis/replica.py` (ruralgov replica
generator version {version}, seed {seed}) {how}
22 provinces (1160 villager questionnaires): Ma Chen et al., "Modernization of Public Service
Governance in Rural Areas of China", Strategic Study of CAE 24(2):160–169, 2022,
doi:10.15302/J-SSCAE-2022.02.017. The original microdata are not public.

Use them to run, test and read the method. Do not cite their estimates as findings about China.

- `villagers.csv`: {n} villagers in 22 province strata, villages as PSUs, design weights
  (`weight`); item non-response coded 8 (don't know) / 9 (refused) as in the codebook.
- `institutions.csv`: 33 township institution records.
- Regenerate: `ruralgov replica --seed {seed}{options} --out data/waves/{id}` (byte-identical files).
- Check: `ruralgov reproduce {id}`.

Calibration log: {log}
"""


WORDING = {
    True: {"kind": "calibrated",
           "source": "synthetic: generated by analysis/replica.py and calibrated to the published "
                     "aggregates of the seed paper; not the original microdata",
           "how": "and calibrated so that the estimators of ruralgov reproduce,\n"
                  "within their printed rounding, every figure that the seed paper published "
                  "about its 2020 survey of"},
    False: {"kind": "uncalibrated",
            "source": "synthetic: generated by analysis/replica.py from its latent model, not calibrated "
                      "to the published aggregates of the seed paper; not the original microdata",
            "how": "from its latent model without calibration (`--no-calibrate`):\n"
                   "the estimators of ruralgov reproduce only approximately every figure that the seed "
                   "paper\npublished about its 2020 survey of"},
}
"""What a replica's wave.yml and README say of it, calibrated or not: how its figures relate to
the published ones."""


def is_replica_folder(folder: str | Path) -> bool:
    """Whether a folder holds a replica wave written by :func:`write_wave` (safe to regenerate)."""
    yml = Path(folder) / "wave.yml"
    try:
        spec = read_yaml(yml)
    except SettingsError:
        return False
    names = {p.name for p in Path(folder).iterdir()}
    return (isinstance(spec, dict) and (spec.get("generator") or {}).get("module") == "analysis.replica"
            and names <= {"wave.yml", "README.md", "villagers.csv", "institutions.csv"})


def write_wave(out: str | Path, seed: int = DEFAULT_SEED, wave_id: str = paths.DEFAULT_WAVE,
               n: int = N_VILLAGERS, calibrate: bool = True) -> dict[str, str]:
    """Generate and write a replica wave folder; return file name → SHA-256."""
    res = generate(seed, n, calibrate=calibrate)
    said = WORDING[calibrate]
    out = Path(out)
    files = {"villagers.csv": _csv_bytes(res["villagers"]),
             "institutions.csv": _csv_bytes(res["institutions"])}
    wave = {
        "id": wave_id,
        "title": f"{said['kind'].capitalize()} synthetic replica of the 2020 rural public service "
                 "governance survey (NOT the original data)",
        "synthetic": True,
        "reproduces_seed": True,
        "year": 2020,
        "source": said["source"],
        "citation": "Ma Chen et al. (2022), Strategic Study of CAE 24(2):160-169, "
                    "doi:10.15302/J-SSCAE-2022.02.017 (published figures only)",
        "generator": {"module": "analysis.replica", "version": REPLICA_VERSION, "seed": seed,
                      "n": n, "calibrated": calibrate},
        "questionnaires": {"villagers": {"file": "villagers.csv", "encoding": "utf-8"},
                           "institutions": {"file": "institutions.csv", "encoding": "utf-8"}},
        "design": {"weight": "weight", "strata": "province", "psu": "village_id", "fpc": None},
        "min_cell": 10,
    }
    files["wave.yml"] = ("# SYNTHETIC REPLICA - not the original survey data (see README.md)\n"
                         + dump_yaml(wave)).encode("utf-8")
    # the command that wrote the wave, each option that differs from its default: it writes the same bytes
    options = (f" --n {n}" if n != N_VILLAGERS else "") + ("" if calibrate else " --no-calibrate")
    files["README.md"] = WAVE_README.format(
        id=wave_id, version=REPLICA_VERSION, seed=seed, a_kind=("a " if calibrate else "an ") + said["kind"],
        how=said["how"], options=options,
        n=len(res["villagers"]), log=res["log"]).encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
