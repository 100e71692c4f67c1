"""Large waves: absorbed fixed effects in one pass, and an out-of-core path by partitions.

Everything here combines **sufficient statistics**, so a wave can be processed in pieces —
Parquet partitions streamed from disk, or partitions spread over a Dask cluster — and the
pieces merged into exactly the result of the in-memory computation:

* design-based means by domain: per (PSU, domain) sums of ``w`` and ``w·y`` (plus the PSU's
  stratum) give the estimate and its Taylor-linearised variance;
* weighted OLS with one absorbed fixed effect and cluster-robust (CR1) standard errors: per
  fixed-effect level sums give the within transformation; per cluster sums of ``w x̃ x̃'`` and
  ``w x̃ ỹ`` give the coefficients and the cluster scores ``b_g − A_g β``.

Example
-------
>>> import numpy as np
>>> from analysis.stream import absorbed_ols
>>> rng = np.random.default_rng(0)
>>> g = rng.integers(0, 5, 200); x = rng.normal(size=(200, 2)); y = x @ [1.0, -2.0] + g + rng.normal(size=200)
>>> r = absorbed_ols(y, x, fe=g, cluster=g)
>>> np.round(r["coef"], 1).tolist()
[1.0, -2.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from analysis.design import Estimate, SurveyDesign


# ---- absorbed OLS in memory: the single-pass floor ---------------------------------------

def absorbed_ols(y: np.ndarray, X: np.ndarray, *, fe: np.ndarray, cluster: np.ndarray,
                 w: np.ndarray | None = None) -> dict[str, np.ndarray | int]:
    """Weighted OLS of ``y`` on ``X`` with one absorbed fixed effect and CR1 cluster SEs.

    Within-transformation by ``bincount``, normal equations, cluster scores by ``bincount``.
    The small-sample factor is ``G/(G−1)·(N−1)/(N−K)`` with K the slopes plus one when the fixed
    effect is nested in the clusters (as reghdfe and pyfixest), else plus its levels.
    """
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    w = np.ones(len(y)) if w is None else np.asarray(w, float)
    f = pd.factorize(pd.Series(fe), sort=False)[0]
    c = pd.factorize(pd.Series(cluster), sort=False)[0]
    nf = f.max() + 1
    sw = np.bincount(f, weights=w, minlength=nf)
    yt = y - (np.bincount(f, weights=w * y, minlength=nf) / sw)[f]
    Xt = np.empty_like(X)
    for k in range(X.shape[1]):
        Xt[:, k] = X[:, k] - (np.bincount(f, weights=w * X[:, k], minlength=nf) / sw)[f]
    Xw = Xt * w[:, None]
    ainv = np.linalg.inv(Xt.T @ Xw)
    beta = ainv @ (Xw.T @ yt)
    e = yt - Xt @ beta
    G = c.max() + 1
    scores = np.column_stack([np.bincount(c, weights=Xw[:, k] * e, minlength=G) for k in range(X.shape[1])])
    nested = _nested(f, c)
    k_total = X.shape[1] + (1 if nested else nf)   # a nested FE counts as one (the intercept), as reghdfe and pyfixest
    n = len(y)
    V = G / (G - 1) * (n - 1) / (n - k_total) * ainv @ (scores.T @ scores) @ ainv
    return {"coef": beta, "vcov": V, "se": np.sqrt(np.diag(V)), "n": n, "clusters": int(G)}


def _nested(f: np.ndarray, c: np.ndarray) -> bool:
    """Whether every fixed-effect level lies inside one cluster."""
    pairs = pd.DataFrame({"f": f, "c": c}).drop_duplicates()
    return bool(pairs["f"].is_unique)


# ---- sufficient statistics -----------------------------------------------------------------

@dataclass
class DomainMeanStats:
    """Per (stratum, PSU, domain) sums of w and w·y: mergeable, exact for design-based means."""

    sums: dict[tuple, np.ndarray] = field(default_factory=dict)
    """(stratum, psu, domain) → [Σw, Σwy, n]."""

    def update(self, y: np.ndarray, w: np.ndarray, strata: np.ndarray, psu: np.ndarray,
               domain: np.ndarray) -> DomainMeanStats:
        """Add one chunk (rows with a missing ``y`` are outside every domain, as in memory)."""
        ok = np.isfinite(y)
        df = pd.DataFrame({"s": strata[ok], "p": psu[ok], "d": domain[ok], "w": w[ok],
                           "wy": w[ok] * y[ok], "n": 1})
        agg = df.groupby(["s", "p", "d"], sort=False, observed=True)[["w", "wy", "n"]].sum()
        for key, row in zip(agg.index, agg.to_numpy()):
            cur = self.sums.get(key)
            self.sums[key] = row.astype(float) if cur is None else cur + row
        for s_, p_ in pd.DataFrame({"s": strata[~ok], "p": psu[~ok]}).drop_duplicates().itertuples(index=False):
            self.sums.setdefault((s_, p_, None), np.zeros(3))   # a PSU with no answer still counts
        return self

    def merge(self, other: DomainMeanStats) -> DomainMeanStats:
        """Combine two partial results."""
        out = DomainMeanStats(dict(self.sums))
        for k, v in other.sums.items():
            out.sums[k] = v if k not in out.sums else out.sums[k] + v
        return out

    def estimate(self) -> Estimate:
        """The design-based means by domain, identical to ``SurveyDesign.mean(y, by=domain)``."""
        keys = list(self.sums)
        arr = np.array([self.sums[k] for k in keys])
        frame = pd.DataFrame(keys, columns=["s", "p", "d"]).assign(w=arr[:, 0], wy=arr[:, 1], n=arr[:, 2])
        psus = frame[["s", "p"]].drop_duplicates().reset_index(drop=True)
        psus["pid"] = np.arange(len(psus))
        frame = frame.merge(psus, on=["s", "p"])
        doms = sorted(d for d in frame["d"].dropna().unique())
        frame = frame[frame["d"].notna()]
        frame["g"] = frame["d"].map({d: i for i, d in enumerate(doms)}).astype(int)
        G = len(doms)
        W = np.bincount(frame["g"], weights=frame["w"], minlength=G)
        mu = np.bincount(frame["g"], weights=frame["wy"], minlength=G) / W
        z = np.zeros((len(psus), G))
        np.add.at(z, (frame["pid"].to_numpy(), frame["g"].to_numpy()),
                  (frame["wy"].to_numpy() - mu[frame["g"]] * frame["w"].to_numpy()) / W[frame["g"]])
        # a helper design whose rows are the PSUs: it knows each PSU's stratum and n_h
        d = SurveyDesign.from_arrays(np.ones(len(psus)), psus["s"].to_numpy(), psus["p"].to_numpy())
        zz = np.zeros_like(z)
        zz[d.psu] = z
        V = d.variance_from_totals(zz)
        n = np.bincount(frame["g"], weights=frame["n"], minlength=G).astype(int)
        return Estimate("mean", tuple(doms), mu, V, n, W, np.full(G, np.nan), np.zeros(G, int))


@dataclass
class AbsorbedOLSStats:
    """Two-pass sufficient statistics for weighted OLS with one absorbed FE and cluster SEs."""

    k: int
    fe_sums: dict = field(default_factory=dict)      # fe level → [Σw, Σwx (k), Σwy]
    cl_A: dict = field(default_factory=dict)         # cluster → Σ w x̃ x̃'
    cl_b: dict = field(default_factory=dict)         # cluster → Σ w x̃ ỹ
    pairs: set = field(default_factory=set)          # (fe, cluster) pairs seen
    n: int = 0

    def pass1(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, fe: np.ndarray) -> AbsorbedOLSStats:
        """Accumulate the fixed-effect group sums (first pass over the data)."""
        df = pd.DataFrame(np.column_stack([w, X * w[:, None], w * y]))
        df["f"] = fe
        for key, row in df.groupby("f", sort=False).sum().iterrows():
            cur = self.fe_sums.get(key)
            self.fe_sums[key] = row.to_numpy() if cur is None else cur + row.to_numpy()
        return self

    def merge1(self, other: AbsorbedOLSStats) -> AbsorbedOLSStats:
        """Combine first-pass results."""
        for k, v in other.fe_sums.items():
            self.fe_sums[k] = v if k not in self.fe_sums else self.fe_sums[k] + v
        return self

    def pass2(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, fe: np.ndarray,
              cluster: np.ndarray) -> AbsorbedOLSStats:
        """Accumulate per-cluster cross products of the demeaned data (second pass)."""
        means = {k: v[1:] / v[0] for k, v in self.fe_sums.items()}   # x̄ (k) and ȳ
        m = np.array([means[f] for f in pd.unique(fe)])
        idx = pd.Index(pd.unique(fe)).get_indexer(fe)
        Xt = X - m[idx, :self.k]
        yt = y - m[idx, self.k]
        Xw = Xt * w[:, None]
        c_codes, c_levels = pd.factorize(pd.Series(cluster), sort=False)
        for j, cl in enumerate(c_levels):
            sel = c_codes == j
            A = Xw[sel].T @ Xt[sel]
            b = Xw[sel].T @ yt[sel]
            self.cl_A[cl] = A if cl not in self.cl_A else self.cl_A[cl] + A
            self.cl_b[cl] = b if cl not in self.cl_b else self.cl_b[cl] + b
        self.pairs |= set(zip(fe.tolist(), cluster.tolist())) if len(fe) < 2_000_000 else set()
        self.n += len(y)
        return self

    def merge2(self, other: AbsorbedOLSStats) -> AbsorbedOLSStats:
        """Combine second-pass results."""
        for cl, A in other.cl_A.items():
            self.cl_A[cl] = A if cl not in self.cl_A else self.cl_A[cl] + A
            self.cl_b[cl] = other.cl_b[cl] if cl not in self.cl_b else self.cl_b[cl] + other.cl_b[cl]
        self.pairs |= other.pairs
        self.n += other.n
        return self

    def result(self) -> dict[str, np.ndarray | int]:
        """Coefficients, CR1 covariance and SEs (as :func:`absorbed_ols`)."""
        A = sum(self.cl_A.values())
        b = sum(self.cl_b.values())
        ainv = np.linalg.inv(A)
        beta = ainv @ b
        scores = np.array([self.cl_b[c] - self.cl_A[c] @ beta for c in self.cl_A])
        G = len(self.cl_A)
        fe_levels = {f for f, _ in self.pairs}
        nested = len(fe_levels) == len(self.pairs)
        k_total = self.k + (1 if nested else len(self.fe_sums))
        V = G / (G - 1) * (self.n - 1) / (self.n - k_total) * ainv @ (scores.T @ scores) @ ainv
        return {"coef": beta, "vcov": V, "se": np.sqrt(np.diag(V)), "n": self.n, "clusters": G}


# ---- partitioned Parquet waves -------------------------------------------------------------

def write_partitioned(df: pd.DataFrame, folder: str | Path, rows_per_file: int) -> list[Path]:
    """Write a frame as numbered Parquet partitions (for tests and benchmarks)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, start in enumerate(range(0, len(df), rows_per_file)):
        p = folder / f"part-{i:05d}.parquet"
        df.iloc[start:start + rows_per_file].to_parquet(p, index=False)
        out.append(p)
    return out


def iter_partitions(folder: str | Path, columns: list[str] | None = None) -> Iterator[tuple[Path, pd.DataFrame]]:
    """Stream the partitions of a folder one at a time (only ``columns`` are read)."""
    import pyarrow.parquet as pq

    for p in sorted(Path(folder).glob("*.parquet")):
        yield p, pq.read_table(p, columns=columns).to_pandas()


def _clean_partition(raw: pd.DataFrame, spec_design: dict, first_row: int, file: Path, cb):  # type: ignore[no-untyped-def]
    from analysis.io import RawTable, WaveSpec
    from analysis.validate import ValidationReport, _add_derived, _check_questionnaire

    rt = RawTable("villagers", file, raw.reset_index(drop=True), {c: c for c in raw.columns},
                  [c for c in raw.columns if cb.resolve_header("villagers", c) is None], first_row, None, {}, "")
    spec = WaveSpec(id=file.parent.name, folder=file.parent, title="", year=None, synthetic=False,
                    questionnaires={}, design=spec_design, min_cell=10, raw={})
    rep = ValidationReport(file.parent.name)
    clean = _check_questionnaire(rep, cb, rt, spec)
    return rep, (None if clean is None else _add_derived(clean))


def stream_wave(folder: str | Path, design: dict, *, by: str = "province_en",
                ols: dict | None = None, codebook=None) -> dict:  # type: ignore[no-untyped-def]
    """Validate, index and estimate a partitioned wave without holding it in memory.

    Returns ``{"report": ValidationReport, "degree": Estimate, "ols": dict | None}``: every
    partition's problems (rows counted per file), the design-based mean overall score by ``by``,
    and, if ``ols = {"y": ..., "x": [...], "fe": ..., "cluster": ...}``, weighted OLS with the
    fixed effect absorbed and CR1 standard errors. Duplicate ids and PSUs in two strata are
    checked across partitions.
    """
    from analysis.codebook import load_codebook
    from analysis.index import IndexConfig, build_index
    from analysis.validate import Problem, ValidationReport

    cb = codebook or load_codebook()
    cfg = IndexConfig.load()
    if cfg.normalisation not in ("minmax", "target") or cfg.weighting in ("entropy", "pca"):
        raise ValueError("the partitioned path needs a row-local index (min-max or target "
                         "normalisation; equal, expert or AHP weights)")
    report = ValidationReport(Path(folder).name)
    stats = DomainMeanStats()
    seen_ids: dict[str, str] = {}
    psu_stratum: dict[str, object] = {}
    o1 = AbsorbedOLSStats(len(ols["x"])) if ols else None
    chunks_for_ols: list[Path] = []
    for file, raw in iter_partitions(folder):
        rep, clean = _clean_partition(raw, design, 2, file, cb)
        report.problems += rep.problems
        report.rows[file.name] = len(raw)
        if clean is None or not rep.ok:
            continue
        key = cb.keys["villagers"]
        for rid in clean[key].tolist():
            if rid in seen_ids:
                report.problems.append(Problem(file.name, None, key, rid, "unique id",
                                               f"respondent id {rid!r} also in {seen_ids[rid]}"))
            seen_ids[rid] = file.name
        for p_, s_ in clean[[design["psu"], design["strata"]]].drop_duplicates().itertuples(index=False):
            if psu_stratum.setdefault(p_, s_) != s_:
                report.problems.append(Problem(file.name, None, design["psu"], str(p_),
                                               "PSU nested in one stratum", f"PSU {p_!r} in two strata"))
        s = build_index(clean, cfg, codebook=cb).scores["overall"].to_numpy()
        stats.update(s, clean[design["weight"]].to_numpy(float), clean[design["strata"]].to_numpy(),
                     clean[design["psu"]].astype(str).to_numpy(), clean[by].to_numpy())
        if ols:
            frame = _ols_frame(clean, s, ols)
            o1.pass1(frame[ols["x"]].to_numpy(float), frame["_y"].to_numpy(float),
                     frame["_w"].to_numpy(float), frame[ols["fe"]].to_numpy())
            chunks_for_ols.append(file)
    out = {"report": report, "degree": stats.estimate() if report.ok else None, "ols": None}
    if ols and report.ok:
        for file, raw in iter_partitions(folder):                 # second pass
            _, clean = _clean_partition(raw, design, 2, file, cb)
            s = build_index(clean, cfg, codebook=cb).scores["overall"].to_numpy()
            frame = _ols_frame(clean, s, ols)
            o1.pass2(frame[ols["x"]].to_numpy(float), frame["_y"].to_numpy(float),
                     frame["_w"].to_numpy(float), frame[ols["fe"]].to_numpy(), frame[ols["cluster"]].to_numpy())
        out["ols"] = o1.result()
    return out


def _ols_frame(clean: pd.DataFrame, score: np.ndarray, ols: dict) -> pd.DataFrame:
    f = clean.assign(_y=score if ols["y"] == "overall" else clean[ols["y"]],
                     _w=clean[ols.get("weights", "weight")])
    if "log_income" in ols["x"]:
        f = f.assign(log_income=np.log(f["hh_income"]))
    return f[list(dict.fromkeys([*ols["x"], "_y", "_w", ols["fe"], ols["cluster"]]))].dropna()


def dask_degree(folder: str | Path, design: dict, client, *, by: str = "province_en") -> Estimate:  # type: ignore[no-untyped-def]
    """The partition-and-combine design-based means on a Dask cluster: each worker reduces its
    partitions to sufficient statistics, which are merged and finished on the client."""
    import dask

    from analysis.codebook import load_codebook
    from analysis.index import IndexConfig, build_index

    cb = load_codebook()
    cfg = IndexConfig.load()

    def one(path: str) -> DomainMeanStats:
        import pyarrow.parquet as pq

        raw = pq.read_table(path).to_pandas()
        _, clean = _clean_partition(raw, design, 2, Path(path), cb)
        s = build_index(clean, cfg, codebook=cb).scores["overall"].to_numpy()
        return DomainMeanStats().update(s, clean[design["weight"]].to_numpy(float),
                                        clean[design["strata"]].to_numpy(),
                                        clean[design["psu"]].astype(str).to_numpy(), clean[by].to_numpy())

    parts = [dask.delayed(one)(str(p)) for p in sorted(Path(folder).glob("*.parquet"))]
    total = dask.delayed(lambda xs: _merge_all(xs))(parts)
    return client.compute(total).result().estimate()


def _merge_all(xs: list[DomainMeanStats]) -> DomainMeanStats:
    out = DomainMeanStats()
    for x in xs:
        out = out.merge(x)
    return out
