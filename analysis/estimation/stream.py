"""Large waves: absorbed fixed effects in one pass, and an out-of-core path by partitions.

Everything here combines **sufficient statistics**, so a wave can be processed in pieces —
Parquet partitions streamed from disk, or partitions spread over a Dask cluster — and the
pieces merged into exactly the result of the in-memory computation:

* design-based means by domain: per (PSU, domain) sums of ``w`` and ``w·y`` (plus the PSU's
  stratum) give the estimate and its Taylor-linearised variance;
* weighted OLS with one absorbed fixed effect and cluster-robust (CR1) standard errors: per
  (fixed-effect level, cluster) cell sums of ``w``, ``w z`` and ``w z z'`` (z = x, y) give, in
  one pass, the within-transformed cross products of each cluster, hence the coefficients and
  the cluster scores ``b_g − A_g β``.

The in-memory estimator is :func:`analysis.estimation.regression.absorbed_ols`; both follow the
degrees-of-freedom convention stated there (K counts every fixed-effect level), so ``ruralgov
stream`` and ``ruralgov models`` print the same standard errors for the same model.

Example
-------
>>> import numpy as np
>>> from analysis.estimation.regression import absorbed_ols
>>> from analysis.estimation.stream import AbsorbedOLSStats
>>> rng = np.random.default_rng(0)
>>> g = rng.integers(0, 5, 200); x = rng.normal(size=(200, 2)); y = x @ [1.0, -2.0] + g + rng.normal(size=200)
>>> a = AbsorbedOLSStats(2).update(x[:90], y[:90], np.ones(90), g[:90], g[:90])
>>> b = AbsorbedOLSStats(2).update(x[90:], y[90:], np.ones(110), g[90:], g[90:])
>>> r, m = a.merge(b).result(), absorbed_ols(y, x, fe=g, cluster=g)
>>> bool(np.allclose(r["se"], m["se"], rtol=1e-10))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, get_args

import numpy as np
import pandas as pd

from analysis.estimation.design import (Estimate, LonelyPSU, fpc_population, no_variance_without_cases,
                                       stratum_centres)
from analysis.estimation.index import SCALE
from analysis.estimation.regression import cr1_vcov


# ---- sufficient statistics -----------------------------------------------------------------

COMBINE_ROWS = 200_000
"""Rows that :class:`KeyedRows` lets accumulate before it combines them by key (at least)."""


@dataclass
class KeyedRows:
    """Rows of a frame keyed by some of its columns, added chunk by chunk and combined by key —
    the other columns summed, or with ``first`` the first row of each key kept — whenever the
    rows added since the last combination outnumber the rows it left (and ``COMBINE_ROWS``):
    memory stays within about twice one row per key, with no Python object per key, and two
    partials merge by concatenation.  Keys keep the order of their first row."""

    keys: list[str]
    first: bool = False
    frames: list[pd.DataFrame] = field(default_factory=list)
    _combined: int = 0
    _added: int = 0

    def add(self, frame: pd.DataFrame) -> KeyedRows:
        """Append rows (after those already added)."""
        if len(frame):
            self.frames.append(frame)
            self._added += len(frame)
            if self._added > max(self._combined, COMBINE_ROWS):
                self.combine()
        return self

    def merge(self, other: KeyedRows) -> KeyedRows:
        """Append the rows of another partial (the later part of the wave)."""
        for f in other.frames:
            self.add(f)
        return self

    def combine(self) -> pd.DataFrame | None:
        """The rows combined by key (``None`` if none were added)."""
        if not self.frames:
            return None
        if self._added:
            df = pd.concat(self.frames, ignore_index=True) if len(self.frames) > 1 else self.frames[0]
            df = (df.drop_duplicates(self.keys, ignore_index=True) if self.first else
                  df.groupby(self.keys, sort=False, dropna=False, observed=True, as_index=False).sum())
            self.frames, self._combined, self._added = [df], len(df), 0
        return self.frames[0]


VARIANCE_BLOCK = 32_768
"""PSUs whose totals are held densely at once when the domain-mean variance is summed."""


@dataclass
class DomainMeanStats:
    """Per (stratum, PSU, domain) sums of w, w·y and w·y²: mergeable, exact for design-based means
    and their design effects."""

    sums: KeyedRows = field(default_factory=lambda: KeyedRows(["s", "p", "d"]))
    """Rows (stratum s, psu p, domain d, Σw, Σwy, Σwy², n); d is missing for a PSU's rows without
    y or without a domain."""

    def update(self, y: np.ndarray, w: np.ndarray, strata: np.ndarray, psu: np.ndarray,
               domain: np.ndarray) -> DomainMeanStats:
        """Add one chunk (rows with a missing ``y`` or a missing domain are outside every domain,
        as in memory; their PSUs still count in the design)."""
        has_d = pd.notna(domain)
        ok = np.isfinite(y) & has_d
        df = pd.DataFrame({"s": strata[ok], "p": psu[ok], "d": domain[ok], "w": w[ok],
                           "wy": w[ok] * y[ok], "wyy": w[ok] * y[ok] ** 2, "n": 1.0})
        self.sums.add(df.groupby(["s", "p", "d"], sort=False, observed=True, as_index=False).sum())
        if not ok.all():                    # a PSU with no answer, or no domain, still counts
            self.sums.add(pd.DataFrame({"s": strata[~ok], "p": psu[~ok]}).drop_duplicates().assign(
                d=None, w=0.0, wy=0.0, wyy=0.0, n=0.0))
            # a domain whose rows here have no answer is still a domain (in memory: a row of n 0)
            empty = has_d & ~ok
            self.sums.add(pd.DataFrame({"s": strata[empty], "p": psu[empty], "d": domain[empty]}
                                       ).drop_duplicates().assign(w=0.0, wy=0.0, wyy=0.0, n=0.0))
        return self

    def merge(self, other: DomainMeanStats) -> DomainMeanStats:
        """Add another partial result to this one (in place, as :meth:`AbsorbedOLSStats.merge`:
        merging partition after partition copies nothing)."""
        self.sums.merge(other.sums)
        return self

    def estimate(self, lonely_psu: str = "adjust", fpc: dict | None = None) -> Estimate:
        """The design-based means by domain, identical to ``SurveyDesign.mean(y, by=domain)`` on
        the design with the same rule for strata with one PSU and the same ``fpc`` (stratum →
        its value: a population count of PSUs, or a sampling fraction ≤ 1)."""
        frame = self.sums.combine()
        pid = frame.groupby(["s", "p"], sort=False, dropna=False).ngroup().to_numpy()
        P = int(pid.max()) + 1
        stratum = np.zeros(P, dtype=np.int64)               # each PSU's stratum
        s_codes, s_labels = pd.factorize(frame["s"], use_na_sentinel=False)
        stratum[pid] = s_codes
        pop = None
        if fpc is not None:
            n_h = np.bincount(stratum, minlength=len(s_labels))
            f = np.array([float(fpc[x]) for x in s_labels])
            pop = fpc_population(f, n_h)
        frame = frame.assign(pid=pid)
        doms = sorted(d for d in frame["d"].dropna().unique())
        frame = frame[frame["d"].notna()]
        frame["g"] = frame["d"].map({d: i for i, d in enumerate(doms)}).astype(int)
        G = len(doms)
        g, w = frame["g"].to_numpy(), frame["w"].to_numpy()
        W = np.bincount(g, weights=w, minlength=G)
        n = np.bincount(g, weights=frame["n"], minlength=G).astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):     # a domain nobody answered in
            wy = np.bincount(g, weights=frame["wy"], minlength=G)
            mu = wy / W
            # the PSU totals of the linearised variable, one value per (PSU, domain) cell
            val = np.where(W[g] > 0, (frame["wy"].to_numpy() - mu[g] * w) / W[g], 0.0)
        V = no_variance_without_cases(
            _variance_from_cells(frame["pid"].to_numpy(), g, val, stratum, G, lonely_psu, pop), n)
        cells = frame[frame["n"] > 0]
        n_psu = cells.drop_duplicates(["pid", "g"]).groupby("g").size().reindex(range(G), fill_value=0)
        n_str = cells.drop_duplicates(["s", "g"]).groupby("g").size().reindex(range(G), fill_value=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            # the design effect as SurveyDesign's (V_srs = s²_w / n, times 1 − n/N̂ with an fpc):
            # Σw(y − ȳ)² = Σwy² − ȳ Σwy
            s2 = (np.bincount(g, weights=frame["wyy"], minlength=G) - mu * wy) / W * n / np.maximum(n - 1, 1)
            deff = np.diag(V) / (s2 / n * ((1 - n / W) if pop is not None else 1.0))
        return Estimate("mean", tuple(doms), mu, V, n, W, deff,
                        (n_psu - n_str).to_numpy(), n_psu=n_psu.to_numpy())


def _variance_from_cells(pid: np.ndarray, g: np.ndarray, val: np.ndarray, stratum: np.ndarray,
                         G: int, lonely_psu: str = "adjust", fpc: np.ndarray | None = None) -> np.ndarray:
    """:meth:`SurveyDesign.variance_from_totals` (the rule ``lonely_psu`` for a stratum with one
    PSU; ``fpc`` the strata's population counts of PSUs, or none) of the PSUs ×
    domains totals given by their non-zero cells, summed over blocks of ``VARIANCE_BLOCK`` PSUs so
    that the dense matrix (500,000 PSUs × 31 domains at 10,000,000 rows, 124 MB, and several
    temporaries of its size) is never held whole."""
    P = len(stratum)
    n_h = np.bincount(stratum)
    sums = np.zeros((len(n_h), G))
    np.add.at(sums, (stratum[pid], g), val)
    centres, root = stratum_centres(sums, n_h, lonely_psu, fpc)
    order = np.argsort(pid, kind="stable")
    pid, g, val = pid[order], g[order], val[order]
    V = np.zeros((G, G))
    for a in range(0, P, VARIANCE_BLOCK):
        b = min(a + VARIANCE_BLOCK, P)
        lo, hi = np.searchsorted(pid, [a, b])
        z = np.zeros((b - a, G))
        np.add.at(z, (pid[lo:hi] - a, g[lo:hi]), val[lo:hi])
        h = stratum[a:b]
        c = (z - centres[h]) * root[h][:, None]
        V += c.T @ c
    return V


@dataclass
class AbsorbedOLSStats:
    """One-pass sufficient statistics for weighted OLS with one absorbed FE and cluster SEs.

    For every (fixed-effect level, cluster) cell: Σw, Σw·z and Σw·z z' with z = (x, y) minus a
    constant shift (the first chunk's weighted means, for precision).  The within transformation
    needs only the fixed-effect means, so the demeaned cross products of each cell follow
    exactly: Σ w z̃ z̃' = Σ w z z' − m S' − S m' + W m m' (m the level's mean, S the cell's Σ w z).
    Cells are few (levels × clusters), whatever the number of rows.
    """

    k: int
    cells: dict = field(default_factory=dict)        # (fe, cluster) → [W, S (k+1), G (k+1)²]
    shift: np.ndarray | None = None
    n: int = 0

    def update(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, fe: np.ndarray,
               cluster: np.ndarray) -> AbsorbedOLSStats:
        """Add one chunk of rows."""
        from analysis.estimation.regression import group_codes, unit_sums

        Z = np.column_stack([X, y])
        if self.shift is None:
            if not len(y):              # a chunk without a complete case: nothing, and no shift of 0/0
                return self
            sw = w.sum()
            self.shift = (w @ Z) / sw if sw > 0 else Z.mean(axis=0)       # any constant will do
        Z = Z - self.shift
        # (level, cluster) cells numbered in order of first appearance, from integer keys (a
        # MultiIndex factorised builds a tuple per row: a sixth of the scan's time)
        f_codes, f_levels = group_codes(fe, "the fixed effect")
        c_codes, c_levels = group_codes(cluster, "the cluster")
        codes, cells = pd.factorize(f_codes.astype(np.int64) * len(c_levels) + c_codes)
        keys = list(zip(f_levels[cells // len(c_levels)], c_levels[cells % len(c_levels)]))
        P = len(keys)
        gram, _, sz = unit_sums(Z, w, codes, P)
        sw = np.bincount(codes, weights=w, minlength=P)
        for j, key in enumerate(keys):
            cur = self.cells.get(key)
            new = [sw[j], sz[j], gram[j]]
            self.cells[key] = new if cur is None else [a + b for a, b in zip(cur, new)]
        self.n += len(y)
        return self

    def merge(self, other: AbsorbedOLSStats) -> AbsorbedOLSStats:
        """Combine two partial results (cells are re-based on this object's shift)."""
        if other.shift is not None and self.shift is not None and not np.array_equal(other.shift, self.shift):
            d = other.shift - self.shift                   # z_self = z_other + d
            moved = {key: [W, S + W * d, G + np.outer(S, d) + np.outer(d, S) + W * np.outer(d, d)]
                     for key, (W, S, G) in other.cells.items()}
        else:
            moved = other.cells
        if self.shift is None:
            self.shift = other.shift
        for key, val in moved.items():
            cur = self.cells.get(key)
            self.cells[key] = val if cur is None else [a + b for a, b in zip(cur, val)]
        self.n += other.n
        return self

    def result(self) -> dict[str, np.ndarray | int]:
        """Coefficients, CR1 covariance and SEs (as :func:`absorbed_ols`)."""
        keys = list(self.cells)
        W = np.array([self.cells[c][0] for c in keys])
        S = np.array([self.cells[c][1] for c in keys])
        G = np.array([self.cells[c][2] for c in keys])
        f_codes, f_levels = pd.factorize(pd.Series([c[0] for c in keys]))
        c_codes, c_levels = pd.factorize(pd.Series([c[1] for c in keys]))
        Wf = np.bincount(f_codes, weights=W)
        mean = np.column_stack([np.bincount(f_codes, weights=S[:, j]) for j in range(S.shape[1])])
        mean = (mean / Wf[:, None])[f_codes]                # each cell's fixed-effect mean
        C = (G - np.einsum("pi,pj->pij", mean, S) - np.einsum("pi,pj->pij", S, mean)
             + W[:, None, None] * np.einsum("pi,pj->pij", mean, mean))   # Σ w z̃ z̃' per cell
        k, nc = self.k, len(c_levels)
        Ac = np.zeros((nc, k, k))
        bc = np.zeros((nc, k))
        np.add.at(Ac, c_codes, C[:, :k, :k])
        np.add.at(bc, c_codes, C[:, :k, k])
        ainv = np.linalg.inv(Ac.sum(0))
        beta = ainv @ bc.sum(0)
        scores = bc - Ac @ beta
        k_total = k + len(f_levels)                        # the convention of regression.py
        V = cr1_vcov(scores, ainv, self.n, k_total)
        return {"coef": beta, "vcov": V, "se": np.sqrt(np.diag(V)), "n": self.n, "clusters": nc,
                "k": k_total}


# ---- partitioned Parquet waves -------------------------------------------------------------

def write_partitioned(df: pd.DataFrame, folder: str | Path, rows_per_file: int, *,
                      first: int = 0) -> list[Path]:
    """Write a frame as numbered Parquet partitions (for tests and benchmarks), numbered from
    ``first`` (a wave written piece by piece continues the numbering)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, start in enumerate(range(0, len(df), rows_per_file), start=first):
        p = folder / f"part-{i:05d}.parquet"
        df.iloc[start:start + rows_per_file].to_parquet(p, index=False)
        out.append(p)
    return out


def partition_files(folder: str | Path) -> list[Path]:
    """The Parquet partitions of a partitioned wave, in name order."""
    files = sorted(Path(folder).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.parquet partitions")
    return files


FETCH_ROWS = 8192
"""Rows of each Arrow batch fetched from DuckDB (pieces are put together from them): DuckDB
holds a few batches ahead, so larger batches cost memory, not time (reading 1,000,000 rows
held about 190 MB at 50,000 rows a batch, 65 MB at 8,192)."""


def scan_partitions(folder: str | Path | list[Path], columns: list[str] | None = None, *,
                    batch_rows: int = 200_000) -> Iterator[tuple[Path, int, pd.DataFrame]]:
    """Stream a partitioned wave through DuckDB in batches of at most ``batch_rows`` rows.

    Yields ``(file, first_row, frame)``: the partition a piece comes from, the file row of its
    first record (1-based, the header counted as row 1, as validation reports rows) and the
    values — text columns as Arrow-backed strings.  Memory is bounded by the batch, not by the
    size of a partition or of the wave.  Partitions must share one schema.  ``folder`` may also
    be a list of partition files (a worker's share of the wave).
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    files = folder if isinstance(folder, list) else partition_files(folder)
    # one DuckDB thread: the pieces are validated in this one, so more would only read ahead
    con = _duckdb(threads=1)
    cols = ("* EXCLUDE (filename, file_row_number)" if columns is None
            else ", ".join(_quote(c) for c in columns))
    try:
        rel = con.sql(f"SELECT {cols}, filename AS __file, file_row_number AS __row "
                      "FROM read_parquet($files, filename = true, file_row_number = true)",
                      params={"files": [str(f) for f in files]})
        reader = rel.to_arrow_reader(FETCH_ROWS)
    except duckdb.Error as e:
        con.close()
        raise ValueError(f"{folder}: the partitions cannot be read as one table ({e}); every "
                         "partition must have the same columns and types") from None
    text = pd.StringDtype(na_value=float("nan"))
    mapper = {pa.string(): text, pa.large_string(): text, pa.string_view(): text}.get
    # DuckDB's small batches, which may mix files, are cut at file changes and consecutive rows
    # of one file joined into pieces of up to batch_rows (each piece costs a fixed overhead to
    # validate); a piece stays in Arrow until it is whole and is converted to pandas once
    held: list[pa.RecordBatch] = []
    held_file, held_rows, next_row = None, 0, -1

    def flush() -> tuple[Path, int, pd.DataFrame]:
        first = held[0].column("__row")[0].as_py() + 2
        table = pa.Table.from_batches(held).drop_columns(["__file", "__row"])
        held.clear()                                        # the table's buffers are freed as converted
        return Path(held_file), first, table.to_pandas(types_mapper=mapper, split_blocks=True,
                                                       self_destruct=True)

    try:
        for batch in reader:
            runs = pc.run_end_encode(batch.column("__file"))
            start = 0
            for name, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist()):
                piece = batch.slice(start, end - start)
                start = end
                while len(piece):
                    first = piece.column("__row")[0].as_py()
                    if held and (name != held_file or first != next_row or held_rows == batch_rows):
                        yield flush()
                        held_rows = 0
                    take = piece.slice(0, batch_rows - held_rows)
                    piece = piece.slice(len(take))
                    held.append(take)
                    held_file, held_rows, next_row = name, held_rows + len(take), first + len(take)
        if held:
            yield flush()
    finally:
        con.close()


_IDS = """SELECT trim(CAST({col} AS VARCHAR)) AS id, filename AS file, file_row_number + 2 AS row
          FROM read_parquet($files, filename = true, file_row_number = true)
          WHERE {col} IS NOT NULL AND trim(CAST({col} AS VARCHAR)) <> ''"""
"""The ids of some partitions, as text, with their file and file row (header = row 1)."""


def duplicate_ids(folder: str | Path, id_column: str, limit: int = 50) -> pd.DataFrame:
    """Respondent ids found more than once anywhere in a partitioned wave, with the file and row
    of each repeat (not of the first occurrence).  One DuckDB aggregation over every partition
    finds the repeated ids; only their rows are then ranked.  DuckDB works within
    ``DUCKDB_MEMORY`` and spills the rest to a temporary folder, instead of holding all ids (a
    window over 10,000,000 ids alone took about 1 GB)."""
    import tempfile

    files = [str(f) for f in partition_files(folder)]
    with tempfile.TemporaryDirectory(prefix="ruralgov-duckdb-") as spill:
        con = _duckdb(spill)
        try:
            return con.sql(
                f"""WITH ids AS NOT MATERIALIZED ({_IDS.format(col=_quote(id_column))}),
                        repeated AS (SELECT id FROM ids GROUP BY id HAVING count(*) > 1),
                        ranked AS (SELECT *, row_number() OVER w AS k, first_value(file) OVER w AS first_file,
                                          first_value(row) OVER w AS first_row
                                   FROM ids SEMI JOIN repeated USING (id)
                                   WINDOW w AS (PARTITION BY id ORDER BY file, row))
                    SELECT id, file, row, first_file, first_row FROM ranked WHERE k > 1
                    ORDER BY file, row LIMIT {int(limit)}""",
                params={"files": files}).df()
        finally:
            con.close()


DUCKDB_MEMORY = "256MB"
"""DuckDB's memory limit for the scan's queries (its default is 80% of the machine's memory)."""


def _duckdb(spill: str | None = None, threads: int | None = None):  # type: ignore[no-untyped-def]
    """A DuckDB connection held to ``DUCKDB_MEMORY``, spilling to ``spill`` if given."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    if spill is not None:
        con.execute("SET temp_directory = $dir", {"dir": spill})
    return con


def _partition_ids(files: list[str], id_column: str) -> pd.DataFrame:
    import duckdb

    return duckdb.connect().sql(_IDS.format(col=_quote(id_column)), params={"files": files}).df()


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _clean_partition(raw: pd.DataFrame, spec_design: dict, first_row: int, file: Path, cb):  # type: ignore[no-untyped-def]
    from analysis.ingest.readers import RawTable, WaveError, WaveSpec, map_headers
    from analysis.ingest.validate import Problem, ValidationReport, _add_derived, _check_questionnaire

    rep = ValidationReport(file.parent.name)
    try:         # a piece's headers name items as a single file's do: by id, alias or question text
        headers, unknown, rename = map_headers(raw.columns, "villagers", cb, shown=file.name, file=file)
    except WaveError as e:
        rep.problems.append(Problem(file.name, e.row, e.column, "", e.rule, e.message))
        return rep, None
    rt = RawTable("villagers", file, raw.reset_index(drop=True).rename(columns=rename), headers, unknown,
                  first_row, None, {}, "")
    columns = {k: c for k, c in spec_design.items() if k != "lonely_psu"}    # the design's columns
    spec = WaveSpec(id=file.parent.name, folder=file.parent, title="", year=None, synthetic=False,
                    questionnaires={}, design=columns, min_cell=10,
                    lonely_psu=spec_design["lonely_psu"], design_from_options=True)
    clean = _check_questionnaire(rep, cb, rt, spec)
    if clean is None or any(p.rule == "design columns" and p.severity == "error" for p in rep.problems):
        return rep, None                      # a design column the piece lacks: said, nothing reduced
    return rep, _add_derived(clean)


GLOBAL_RULES = ("unique id", "PSU nested in one stratum", "two or more PSUs per stratum",
                "fpc constant in a stratum", "fpc at least the PSUs sampled")
"""Rules that span partitions: checked once over the whole wave, not per piece."""


def _spans_partitions(p) -> bool:  # type: ignore[no-untyped-def]
    """A problem of a piece that only the whole wave can judge: a rule of :data:`GLOBAL_RULES`, or
    a weight's share of the total and the weights' effective sample size (a piece's total is not
    the wave's; both are judged by :class:`WeightTotals`). A weight far above its stratum's median
    is still judged piece by piece (the median of a piece's part of the stratum)."""
    return (p.rule in GLOBAL_RULES or p.rule == "weights vary plausibly"
            or (p.rule == "no dominant weight" and p.severity == "error"))


@dataclass
class WeightTotals:
    """What the weight rules of the whole wave need: the valid weights' count, sum and sum of
    squares, and the largest weight with its first (file, row)."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0
    top: tuple[float, str, int] | None = None

    def add(self, w: np.ndarray, file: str, first_row: int) -> None:
        ok = np.isfinite(w) & (w > 0)
        if not ok.any():
            return
        self.n += int(ok.sum())
        self.total += float(w[ok].sum())
        self.squares += float(np.sum(w[ok] ** 2))
        i = int(np.argmax(np.where(ok, w, -np.inf)))
        if self.top is None or w[i] > self.top[0]:      # the first of equal largest weights
            self.top = (float(w[i]), file, first_row + i)

    def merge(self, other: WeightTotals) -> WeightTotals:
        """These weights followed by ``other``'s: the first of equal largest weights is kept."""
        if other is not self:
            self.n, self.total, self.squares = self.n + other.n, self.total + other.total, \
                self.squares + other.squares
            if other.top is not None and (self.top is None or other.top[0] > self.top[0]):
                self.top = other.top
        return self

    def problems(self, column: str) -> list:
        """The whole wave's weight problems, judged as the in-memory validation judges them
        (:func:`analysis.ingest.validate.weight_verdict`)."""
        from analysis.ingest.validate import Problem, _short, weight_verdict

        if self.top is None:
            return []
        w, file, row = self.top
        verdict = weight_verdict(self.n, self.total, self.squares, w)
        if verdict is None:
            return []
        rule, message, severity = verdict
        if severity == "error":
            return [Problem(file, row, column, _short(w), rule, message)]
        return [Problem(file, None, column, "", rule, message, severity)]


@dataclass
class ScanJob:
    """What every piece of a scan needs (sent to each worker on Dask): the design, the domain,
    the streamed OLS, the index construction and the codebook."""

    design: dict
    by: str
    ols: dict | None
    derived: dict
    index: object
    codebook: object
    indicators: frozenset[str] | None = None
    """The indicators the whole wave answers (known after a first scan; None: the piece's
    columns, answered or not, since every partition has the same columns)."""


@dataclass
class ScanPartial:
    """The reduction of some pieces of a partitioned wave: problems, row and missing counts, the
    first row of every (PSU, stratum) pair, and the sufficient statistics of the estimates.
    Two partials of consecutive parts of the wave merge into the partial of both."""

    rows: dict[str, int] = field(default_factory=dict)
    problems: list = field(default_factory=list)
    missing: dict[str, dict[str, int]] = field(default_factory=dict)
    psu_strata: KeyedRows = field(default_factory=lambda: KeyedRows(["p", "s"], first=True))
    """The first (file, row) of every (PSU p, stratum s) pair: rows (p, s, file, row)."""
    strata_fpc: KeyedRows = field(default_factory=lambda: KeyedRows(["s", "f"], first=True))
    """The first (file, row) of every (stratum s, fpc f) pair, if the design has an fpc."""
    stats: DomainMeanStats = field(default_factory=DomainMeanStats)
    ols: AbsorbedOLSStats | None = None
    present: set = field(default_factory=set)
    """The indicators among the wave's columns, and those some respondent answers."""
    answered: set = field(default_factory=set)
    weights: WeightTotals = field(default_factory=WeightTotals)
    _seen: set = field(default_factory=set)

    def _add_problems(self, problems) -> None:  # type: ignore[no-untyped-def]
        for p in problems:
            sig = (p.file, p.row, p.column, p.rule, p.message)
            if not _spans_partitions(p) and sig not in self._seen:
                self._seen.add(sig)
                self.problems.append(p)

    def _add_missing(self, missing: dict) -> None:
        for col, counts in missing.items():
            tot = self.missing.setdefault(col, {"blank": 0, "declared": 0})
            tot["blank"] += counts["blank"]
            tot["declared"] += counts["declared"]

    def add_piece(self, job: ScanJob, file: Path, first_row: int, raw: pd.DataFrame) -> ScanPartial:
        """Validate one piece with the in-memory rules and reduce it."""
        from analysis.estimation.index import build_index

        rep, clean = _clean_partition(raw, job.design, first_row, file, job.codebook)
        self.rows[file.name] = self.rows.get(file.name, 0) + len(raw)
        self._add_problems(rep.problems)
        self._add_missing(rep.missing.get("villagers", {}))
        if clean is None:
            return self
        d = job.design
        psu, strata = clean[d["psu"]], clean[d["strata"]]
        # PSU ids are text (validation makes them so): as Arrow strings, 13 bytes each, not 60
        firsts = pd.DataFrame({"p": psu.astype("str"), "s": strata, "row": np.arange(len(clean)) + first_row}
                              ).dropna().drop_duplicates(["p", "s"])
        self.psu_strata.add(firsts.assign(file=file.name)[["p", "s", "file", "row"]])
        if d.get("fpc") and d["fpc"] in clean:
            self.strata_fpc.add(pd.DataFrame({"s": strata, "f": clean[d["fpc"]].astype(float),
                                              "row": np.arange(len(clean)) + first_row}
                                             ).dropna().drop_duplicates(["s", "f"]).assign(file=file.name))
        if d["weight"] in clean:                  # (a piece without it is refused below)
            self.weights.add(clean[d["weight"]].to_numpy(float), file.name, first_row)
        # a rule that spans partitions is judged over the whole wave (by ``_finish``): a stratum
        # that has one PSU in this piece may have others elsewhere, and must not cost the piece
        if any(p.severity == "error" and not _spans_partitions(p) for p in rep.problems):
            return self
        ids = [it.id for it in job.codebook.indicators(job.index.questionnaire) if it.id in clean]
        self.present.update(ids)
        self.answered.update(i for i in ids if clean[i].notna().any())
        s = build_index(clean, job.index, codebook=job.codebook, indicators=job.indicators or frozenset(ids)
                        ).scores["overall"].to_numpy()
        self.stats.update(s, clean[d["weight"]].to_numpy(float), strata.to_numpy(),
                          psu.astype(str).to_numpy(), clean[job.by].to_numpy())
        if job.ols:
            o = job.ols
            if self.ols is None:
                self.ols = AbsorbedOLSStats(len(o["x"]))
            frame = _ols_frame(clean, s, o, job.derived)
            self.ols.update(frame[o["x"]].to_numpy(float), frame["_y"].to_numpy(float),
                            frame["_w"].to_numpy(float), frame[o["fe"]].to_numpy(),
                            frame[o["cluster"]].to_numpy())
        return self

    def merge(self, other: ScanPartial) -> ScanPartial:
        """This partial followed by ``other`` (the later part of the wave)."""
        for f, n in other.rows.items():
            self.rows[f] = self.rows.get(f, 0) + n
        self._add_problems(other.problems)
        self._add_missing(other.missing)
        self.psu_strata.merge(other.psu_strata)
        self.strata_fpc.merge(other.strata_fpc)
        self.stats.merge(other.stats)
        self.weights.merge(other.weights)
        self.present |= other.present
        self.answered |= other.answered
        if other.ols is not None:
            self.ols = other.ols if self.ols is None else self.ols.merge(other.ols)
        return self


def _scan_job(design: dict, by: str, ols: dict | None, codebook, settings) -> ScanJob:  # type: ignore[no-untyped-def]
    from analysis.estimation.index import IndexConfig
    from analysis.ingest.codebook import load_codebook
    from analysis.settings import load_settings

    st = settings or load_settings()
    cfg = IndexConfig.from_settings(st.index)
    if cfg.normalisation not in ("minmax", "target") or cfg.weighting in ("entropy", "pca"):
        raise ValueError("the partitioned path needs a row-local index (min-max or target "
                         "normalisation; equal, expert or AHP weights)")
    cb = codebook or load_codebook()
    if ols:
        _check_ols_columns(ols, cb, st)
    return ScanJob(design, by, ols, dict(st.models.derived) if ols else {}, cfg, cb)


def _check_ols_columns(ols: dict, codebook, settings) -> None:  # type: ignore[no-untyped-def]
    """A ValueError naming the variables of a streamed OLS the scan cannot build: each is a
    column of a piece (a villagers item, or the province's name and regions), a derived variable of
    data/models.yml, or, for the outcome only, the overall score. An index score other than the
    overall one (a field, an aspect, ``overall_without_<aspect>``) and the province covariates
    (official statistics joined in memory) are not."""
    known = ({it.id for it in codebook.items("villagers")} | set(settings.models.derived)
             | {"province_en", "region3", "region4"})
    names = dict.fromkeys([ols["y"], *ols["x"], ols["fe"], ols["cluster"], ols.get("weights", "weight")])
    lacking = [c for c in names if c and c not in known and not (c == ols["y"] == "overall")]
    if lacking:
        covs = [c for c in lacking if c in settings.models.province_covariates]
        raise ValueError(
            f"the streamed OLS cannot build {', '.join(map(repr, lacking))}: it reads the wave's columns, "
            "the derived variables of data/models.yml and, as the outcome, the overall score only"
            + (f" (province covariates such as {covs[0]!r} are joined in memory: use ruralgov models)"
               if covs else ""))


def model_ols(spec, *, codebook=None, settings=None) -> dict:  # type: ignore[no-untyped-def]
    """The ``ols`` argument of :func:`stream_wave` for a model of data/models.yml: its outcome,
    regressors, fixed effect (absorbed), cluster and weights (none for an ``ols`` model), so that
    the streamed fit is the one ``ruralgov models`` prints. ValueError saying why a model has no
    such fit: not linear, no fixed effect or more than one (the scan absorbs one and enters no
    dummies), standard errors other than CR1 (the scan gives clustered SEs only), a variable the
    scan cannot build (an index score other than the overall one, a province covariate)."""
    if spec.family not in ("ols", "wls") or not spec.fixed_effects:
        raise ValueError("not a linear model with a fixed effect in data/models.yml")
    if len(spec.fixed_effects) > 1:
        raise ValueError(f"{len(spec.fixed_effects)} fixed effects; the streamed OLS absorbs one "
                         "and enters none as dummies")
    if spec.se_kind != "cr1":
        raise ValueError(f"its standard errors are {spec.se_kind}; the streamed OLS gives CR1 "
                         "standard errors clustered by the model's 'cluster' only")
    ols = {"y": spec.outcome, "x": list(spec.regressors), "fe": spec.fixed_effects[0],
           "cluster": spec.cluster, "weights": spec.weights}
    from analysis.ingest.codebook import load_codebook
    from analysis.settings import load_settings

    _check_ols_columns(ols, codebook or load_codebook(), settings or load_settings())
    return ols


def stream_wave(folder: str | Path, design: dict, *, by: str = "province_en",
                ols: dict | None = None, codebook=None, batch_rows: int = 200_000,
                progress: bool = False, settings=None, client=None) -> dict:  # type: ignore[no-untyped-def]
    """Validate, index and estimate a partitioned wave without holding it in memory.

    The partitions are scanned by DuckDB in batches of ``batch_rows`` rows (see
    :func:`scan_partitions`); each piece is validated with the in-memory rules and reduced to
    sufficient statistics.  Rules that span partitions are checked over the whole wave: duplicate
    ids by a DuckDB aggregation, PSUs in two strata and strata with one PSU from the distinct
    (PSU, stratum) pairs.

    With a ``dask.distributed`` ``client`` the partitions are reduced on its workers instead
    (:func:`_dask_scan`; each worker still scans its partitions in batches) and the duplicate ids
    are found by buckets of ids hashed across the workers; the results are the same.

    Returns ``{"report": ValidationReport, "degree": Estimate, "ols": dict | None}``: every
    problem (file and file row), the design-based mean overall score by ``by``, and, if
    ``ols = {"y": ..., "x": [...], "fe": ..., "cluster": ..., "weights": ...}`` (see
    :func:`model_ols`), OLS weighted by the column ``weights`` (default ``weight``; ``None``:
    unweighted) with the fixed effect absorbed and CR1 standard errors (from the same scan).
    """
    design = {**design, "lonely_psu": design.get("lonely_psu") or "adjust"}
    if design["lonely_psu"] not in get_args(LonelyPSU):
        raise ValueError(f"lonely_psu must be one of {', '.join(get_args(LonelyPSU))}; "
                         f"got {design['lonely_psu']!r}")
    job = _scan_job(design, by, ols, codebook, settings)
    files = partition_files(folder)
    names = _same_schema(files)
    key = _key_header(names, job.codebook, files[0])
    if ols:
        _check_ols_present(ols, names, job, files[0])
    part, dups = _scan(folder, files, job, key, client, batch_rows, progress)
    if part.answered and part.answered != part.present:
        # an indicator column no respondent of the wave answers is left out of the index, as in
        # memory: the pieces, which counted it, are reduced again without it (rare: a second scan)
        job = replace(job, indicators=frozenset(part.answered))
        part, dups = _scan(folder, files, job, key, client, batch_rows, progress, dups)
    out = _finish(Path(folder).name, part, design, key or job.codebook.keys["villagers"], dups, files)
    if out["degree"] is not None:                          # the index's scale, as in memory
        out["degree"] = replace(out["degree"], bounds=SCALE)
    return out


class StreamModelError(ValueError):
    """The streamed OLS needs a variable the wave's partitions lack: the model is refused on
    this wave (as ``ruralgov models`` refuses it), the wave itself may be valid."""


def _check_ols_present(ols: dict, names: list[str], job: ScanJob, file: Path) -> None:
    """A :class:`StreamModelError` naming the variables of the streamed OLS (outcome, regressors,
    fixed effect, cluster) that the partitions' columns cannot give: an item absent from the wave
    (an optional one such as ``distance_km``), or a derived variable reading one (``log_income``
    of ``hh_income``; ``female``, ``sex == 2``, evaluated on no rows by :func:`frames.derive`,
    whose reason is added). The province's name and regions are built from the province; headers
    that map to no item are the pieces' to report (nothing is refused here then)."""
    from analysis.estimation.frames import derive
    from analysis.estimation.results import ModelSpecError
    from analysis.ingest.readers import WaveError, map_headers

    try:
        have = set(map_headers(names, "villagers", job.codebook, shown=file.name, file=file)[0])
    except WaveError:
        return
    have |= {"province_en", "region3", "region4"}
    derived = job.derived
    wanted = [c for c in dict.fromkeys([ols["y"], *ols["x"], ols["fe"], ols["cluster"]])
              if c and not (c == ols["y"] == "overall")]
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in have})
    lacking, why = [], []
    for c in wanted:
        if c in have or (c in derived and derived[c].of is not None and derived[c].of in have):
            continue
        if c in derived and derived[c].of is None:       # an expression: evaluated on no rows
            try:
                derive(empty, c, derived[c], [])
                continue
            except ModelSpecError as e:
                why.append(str(e))
        lacking.append(c)
    if lacking:
        raise StreamModelError(
            f"the wave's partitions lack {', '.join(map(repr, lacking))}, which the model needs "
            f"(read from the columns of {file.name})" + "".join(f"; {w}" for w in why))


def _key_header(names: list[str], codebook, file: Path) -> str | None:  # type: ignore[no-untyped-def]
    """The partitions' header holding the respondent id: the id's own name, an alias or its
    question text, as each piece's headers are read (None: no such column, which the pieces'
    validation reports)."""
    from analysis.ingest.readers import WaveError, map_headers

    key = codebook.keys["villagers"]
    try:
        headers = map_headers(names, "villagers", codebook, shown=file.name, file=file)[0]
    except WaveError:                                 # the pieces report the headers themselves
        return key if key in names else None
    return headers.get(key)


def _scan(folder: str | Path, files: list[Path], job: ScanJob, key: str | None, client: object | None,
          batch_rows: int, progress: bool, dups: pd.DataFrame | None = None) -> tuple:
    """Every partition reduced (on the cluster's workers with a ``client``), and the duplicate ids
    in the column ``key`` (found unless given: they do not depend on the index; none without
    ``key``)."""
    if client is not None:
        part, found = _dask_scan(files, job, key if dups is None else None, client,
                                 batch_rows=batch_rows, progress=progress)
        return part, dups if dups is not None else found
    # the ids first, while the scan's statistics do not yet take memory beside DuckDB's
    if dups is None and key is not None:
        dups = duplicate_ids(folder, key)
    # each partition reduced on its own and the partials merged in file order, as on a
    # cluster: the two paths give the same numbers to the last bit
    part, cur, cur_file = ScanPartial(), ScanPartial(), None
    it = scan_partitions(files, batch_rows=batch_rows)
    if progress:
        from rich.progress import track

        it = track(it, description="scan, validate, reduce", transient=True)
    for file, first_row, raw in it:
        if file != cur_file and cur_file is not None:
            part.merge(cur)
            cur = ScanPartial()
        cur_file = file
        cur.add_piece(job, file, first_row, raw)
    part.merge(cur)
    return part, dups


def _finish(wave: str, part: ScanPartial, design: dict, key: str,
            dups: pd.DataFrame | None, files: list[Path]) -> dict:
    """The report with the rules across partitions, and the estimates if the wave is valid.
    ``files``: every partition scanned; one without data rows is named (a warning while others
    have rows, an error when none has: the in-memory validation's "has respondents")."""
    from analysis.ingest.validate import Problem, ValidationReport, _strat_name, lonely_message

    lonely = design["lonely_psu"]
    empty = [f.name for f in files if not part.rows.get(f.name)]
    report = ValidationReport(wave, list(part.problems), {**dict(part.rows), **dict.fromkeys(empty, 0)},
                              {"villagers": part.missing} if part.missing else {})
    for name in empty:
        report.problems.append(Problem(
            name, None, "", "", "has respondents",
            "the partition has a header but no data rows: it adds nothing to the wave" if part.rows else
            "the partition has a header but no data rows, as has every partition of the wave",
            "warning" if part.rows else "error"))
    for r in (dups.itertuples(index=False) if dups is not None else ()):
        report.problems.append(Problem(Path(r.file).name, int(r.row), key, r.id, "unique id",
                                       f"respondent id {r.id!r} also in {Path(r.first_file).name} "
                                       f"row {int(r.first_row)}"))
    pairs = part.psu_strata.combine()
    if pairs is not None:
        # pairs in the order of their first row; grouped by PSU in the order of its first row
        pairs = pairs.assign(_psu=pairs.groupby("p", sort=False).ngroup())
        in_two = pairs[pairs.groupby("_psu")["s"].transform("size").to_numpy() > 1]
        for _, g in in_two.groupby("_psu", sort=True):
            p_, strata = g["p"].tolist()[0], g["s"].tolist()
            f_, r_ = min(zip(g["file"].tolist(), g["row"].tolist()))
            names = ", ".join(_strat_name(x) for x in strata)
            report.problems.append(Problem(f_, r_, design["psu"], str(p_), "PSU nested in one stratum",
                                           f"PSU {p_!r} appears in {len(strata)} strata ({names}); "
                                           "each PSU must lie in one stratum"))
        # strata in the order of their first pair, PSU by PSU as above: those with a single PSU
        by_psu = pairs.sort_values("_psu", kind="stable")
        alone = by_psu[by_psu.groupby("s", sort=False, dropna=False)["p"].transform("size").to_numpy() == 1]
        for s_, f_, r_ in zip(alone["s"].tolist(), alone["file"].tolist(), alone["row"].tolist()):
            report.problems.append(Problem(f_, r_, design["strata"], _strat_name(s_),
                                           "two or more PSUs per stratum",
                                           lonely_message(s_, lonely, option=True),      # no wave.yml here
                                           "error" if lonely == "fail" else "warning"))
    report.problems += part.weights.problems(design["weight"])
    fpc = _fpc_by_stratum(report, part, design, pairs)
    report.problems.sort(key=lambda p: p.severity != "error")
    return {"report": report, "degree": part.stats.estimate(lonely, fpc) if report.ok else None,
            "ols": part.ols.result() if part.ols is not None and report.ok else None}


def _fpc_by_stratum(report, part: ScanPartial, design: dict, pairs: pd.DataFrame | None  # type: ignore[no-untyped-def]
                    ) -> dict | None:
    """The design's fpc of each stratum (``None`` without one), with the rules of the in-memory
    validation checked over the whole wave: one value per stratum, and a population count at
    least the PSUs sampled in it."""
    from analysis.ingest.validate import Problem, fpc_below_message, fpc_varies_message

    col = design.get("fpc")
    fp = part.strata_fpc.combine() if col else None
    if fp is None:
        return None
    n_h = pairs.groupby("s", sort=False)["p"].nunique() if pairs is not None else pd.Series(dtype=int)
    out = {}
    for s_, g in fp.groupby("s", sort=False):
        f_, r_ = min(zip(g["file"].tolist(), g["row"].tolist()))
        value = float(g["f"].iloc[0])
        out[s_] = value
        if len(g) > 1:
            report.problems.append(Problem(f_, r_, col, f"{value:g}", "fpc constant in a stratum",
                                           fpc_varies_message(s_, len(g))))
        if s_ in n_h.index and 1 < value < n_h[s_]:      # the first row's value, as in memory
            report.problems.append(Problem(f_, r_, col, f"{value:g}", "fpc at least the PSUs sampled",
                                           fpc_below_message(s_, int(n_h[s_]), value)))
    return out


def _ols_frame(clean: pd.DataFrame, score: np.ndarray, ols: dict, derived: dict) -> pd.DataFrame:
    """The OLS columns of a piece; ``derived`` are the definitions of models.yml (log_income, ...),
    computed row by row as the in-memory model frame computes them: for the outcome, the
    regressors, the fixed effect and the clusters alike."""
    from analysis.estimation.frames import derive

    f = clean.copy(deep=False)
    for x in dict.fromkeys([ols["y"], *ols["x"], ols["fe"], ols["cluster"]]):
        if x in derived:                      # over a column of the same name, as in memory
            f[x] = derive(f, x, derived[x], [])
    f["_y"] = score if ols["y"] == "overall" else f[ols["y"]]
    w = ols.get("weights", "weight")
    f["_w"] = f[w] if w else 1.0                  # an ols model: unweighted
    return f[list(dict.fromkeys([*ols["x"], "_y", "_w", ols["fe"], ols["cluster"]]))].dropna()


# ---- the same scan on a Dask cluster -------------------------------------------------------

def _dask_partition(path: str, job: ScanJob, key: str | None, batch_rows: int,
                    buckets: int) -> tuple:
    """One partition on a worker: its reduction, and its ids split into ``buckets`` buckets by
    hash (so that one id's every occurrence meets in one bucket, whatever its partition)."""
    part = ScanPartial()
    for file, first_row, raw in scan_partitions([Path(path)], batch_rows=batch_rows):
        part.add_piece(job, file, first_row, raw)
    if key is None:
        return (part,)
    ids = _partition_ids([path], key)
    h = pd.util.hash_array(ids["id"].to_numpy(object)) % np.uint64(buckets)
    return (part, *(ids[h == b] for b in range(buckets)))


def _bucket_duplicates(frames: list, limit: int) -> pd.DataFrame:
    """The repeats among the ids of one bucket, as :func:`duplicate_ids` reports them."""
    ids = pd.concat([f for f in frames if f is not None], ignore_index=True)
    ids = ids.sort_values(["file", "row"], kind="stable")
    g = ids.groupby("id", sort=False)
    ids = ids.assign(first_file=g["file"].transform("first"), first_row=g["row"].transform("first"))
    return ids[g.cumcount().to_numpy() > 0].head(limit)


def _dask_scan(files: list[Path], job: ScanJob, key: str | None, client, *, batch_rows: int,  # type: ignore[no-untyped-def]
               progress: bool = False, limit: int = 50) -> tuple:
    """Reduce every partition on the cluster's workers, and find the duplicate ids of the column
    ``key`` (None: none sought); merge the partials in file order."""
    import operator

    from distributed import as_completed

    key_here = key
    nb = min(len(files), 32)
    job_ = client.scatter(job, broadcast=True)            # the codebook sent once per worker
    tasks = [client.submit(_dask_partition, str(f), job_, key_here, batch_rows, nb, pure=False)
             for f in files]
    partials = [client.submit(operator.getitem, t, 0) for t in tasks]
    dups = None
    if key_here is not None:
        found = [client.submit(_bucket_duplicates,
                               [client.submit(operator.getitem, t, 1 + b) for t in tasks], limit)
                 for b in range(nb)]
    it = as_completed(partials)
    if progress:
        from rich.progress import track

        it = track(it, total=len(partials), description="reduce partitions on the cluster",
                   transient=True)
    done = {fut.key: fut.result() for fut in it}          # as they end; merged in file order
    part = ScanPartial()
    for fut in partials:
        part.merge(done[fut.key])
    if key_here is not None:
        dups = pd.concat(client.gather(found), ignore_index=True)
        dups = dups.sort_values(["file", "row"], kind="stable").head(limit)[
            ["id", "file", "row", "first_file", "first_row"]]
    return part, dups


def _same_schema(files: list[Path]) -> list[str]:
    """The columns of the partitions (read from the files' metadata), which must be the same
    names, in the same order, of the same types in every partition: DuckDB would match
    columns by name and cast a partition's values to the first one's types, a worker reading
    one partition would not, so the two scans could differ."""
    import pyarrow.parquet as pq

    first = pq.read_schema(files[0])
    shape = [(f.name, str(f.type)) for f in first]
    for f in files[1:]:
        other = [(c.name, str(c.type)) for c in pq.read_schema(f)]
        if other != shape:
            diff = next(((a, b) for a, b in zip(shape, other) if a != b), None)
            what = (f"column {diff[1][0]!r} of type {diff[1][1]} where {files[0].name} has "
                    f"{diff[0][0]!r} of type {diff[0][1]}" if diff else "another number of columns")
            raise ValueError(f"{f.parent}: the partitions cannot be read as one table ({f.name} has "
                             f"{what}); every partition must have the same columns, in the same "
                             "order, of the same types")
    return first.names
