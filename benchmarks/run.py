"""Benchmarks of ruralgov, each figure beside its baselines measured in the same run.

    python benchmarks/run.py --quick      # about a minute: 1,160 and 100,000 respondents
    python benchmarks/run.py              # adds 1,000,000 respondents and the book build
    python benchmarks/run.py --readme     # also writes the table into README.md
    python benchmarks/run.py --large      # 10,000,000 rows out of core beside its first 1,000,000

Per stage: wall time (s), memory and throughput (rows/s). Memory is the peak of the process's
resident set (sampled every 5 ms) above its level when the stage starts, so Arrow, numpy and
Python allocations all count; each size runs in its own process, whose overall peak (ru_maxrss)
is reported once after ruralgov's own stages (read to the last model) and once at the end, after
the baselines. Results go to benchmarks/results/benchmarks.csv and .md (a --quick run to
benchmarks-quick.csv and .md, not committed). Synthetic waves come from
the replica generator (uncalibrated); they are benchmark data only.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.ingest.codebook import load_codebook  # noqa: E402
from analysis.estimation.index import IndexConfig, build_index, degree  # noqa: E402
from analysis.ingest.readers import load_spec, read_questionnaire  # noqa: E402
from analysis.estimation.regression import absorbed_ols  # noqa: E402
from analysis.estimation.study import Study, wave_design  # noqa: E402
from analysis.estimation.suite import fit_model, needs_design_columns  # noqa: E402
from analysis.estimation.frames import model_frame  # noqa: E402
from analysis.ingest.official import province_panel  # noqa: E402
from analysis.settings import load_settings  # noqa: E402
from analysis.ingest.validate import validate_wave  # noqa: E402
from analysis.ingest.wave import Wave  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
X = ["internet_use", "education", "log_income", "distance_km", "participation", "age10", "female", "smartphone"]
ROWS: list[dict] = []


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:                       # not Linux: no sampled memory
        return float("nan")


def _release() -> None:
    """Return freed memory to the system so that a stage's peak is measured from a tight base."""
    import ctypes
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, ImportError, AttributeError):
        pass


def measure(stage: str, n: int, fn, *, baseline_of: str = "", note: str = "", repeat: int = 1):  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs and the peak resident memory above the start."""
    _release()
    base = _rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_mb())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    best = np.inf
    try:
        for _ in range(repeat):
            out = None          # the previous run's result freed first: one result at a time in the peak
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        done.set()
        t.join()
    extra = max(peak[0], _rss_mb()) - base
    ROWS.append({"stage": stage, "n": n, "seconds": best, "peak_mb": extra,
                 "rows_per_s": n / best if best > 0 else np.nan, "baseline_of": baseline_of, "note": note})
    print(f"  {stage:<44} n={n:>9,}  {best:8.3f} s  {extra:+8.0f} MB", flush=True)
    return out


def _reset_peak() -> None:
    """Start this process's high-water mark afresh (Linux keeps the parent's across fork + exec)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def process_peak(stage: str, n: int, note: str) -> None:
    import resource

    try:
        with open("/proc/self/status") as fh:
            rss = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ROWS.append({"stage": stage, "n": n, "seconds": np.nan, "peak_mb": rss, "rows_per_s": np.nan,
                 "baseline_of": "", "note": note})
    print(f"  {stage:<44} n={n:>9,}  {rss:8.0f} MB", flush=True)


def floor_ols(y, Xm, g, w):  # type: ignore[no-untyped-def]
    """The single-pass numpy floor: bincount demeaning, normal equations, bincount scores."""
    sw = np.bincount(g, weights=w)
    yt = y - (np.bincount(g, weights=w * y) / sw)[g]
    Xt = Xm - np.column_stack([np.bincount(g, weights=w * Xm[:, k]) / sw for k in range(Xm.shape[1])])[g]
    Xw = Xt * w[:, None]
    ainv = np.linalg.inv(Xt.T @ Xw)
    b = ainv @ (Xw.T @ yt)
    e = yt - Xt @ b
    s = np.column_stack([np.bincount(g, weights=Xw[:, k] * e) for k in range(Xm.shape[1])])
    return b, ainv @ (s.T @ s) @ ainv


def regression_frame(v: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    d = v.assign(overall=score, log_income=np.log(v["hh_income"]), age10=v["age"] / 10,
                 female=(v["sex"] == 2).astype(float))
    d = d[[*X, "overall", "weight", "province"]].dropna().reset_index(drop=True)
    d["g"] = pd.factorize(d["province"])[0]
    return d


def bench_size(n: int, tmp: Path, *, with_r: bool) -> None:
    print(f"\nn = {n:,}", flush=True)
    folder = tmp / f"w{n}"
    folder.mkdir()
    # the wave is generated and written by another process, so that this one's peak memory
    # is the pipeline's own
    subprocess.run([sys.executable, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]); from analysis.replica import generate; "
        "generate(seed=7, n=int(sys.argv[2]), calibrate=False)['villagers'].to_csv(sys.argv[3], index=False)"),
        str(ROOT), str(n), str(folder / "villagers.csv")], check=True)
    (folder / "wave.yml").write_text(
        f"id: w{n}\nquestionnaires: {{villagers: {{file: villagers.csv}}}}\n"
        "design: {weight: weight, strata: province, psu: village_id}\n", encoding="utf-8")
    cb = load_codebook()
    spec = load_spec(folder)
    # best of three: one cold read is noisier than the 1.2× goal below that compares two reads
    measure("read (CSV)", n, lambda: read_questionnaire(spec.questionnaires["villagers"], cb), repeat=3)
    trailing = folder / "trailing"          # the same rows, each ending with a delimiter
    trailing.mkdir()
    with open(folder / "villagers.csv", encoding="utf-8") as src, \
            open(trailing / "villagers.csv", "w", encoding="utf-8") as out:
        out.write(next(src))
        out.writelines(line.rstrip("\n") + ",\n" for line in src)
    yml = (folder / "wave.yml").read_text(encoding="utf-8")
    (trailing / "wave.yml").write_text(yml.replace(f"id: w{n}", "id: trailing"), encoding="utf-8")
    measure("read (CSV), each row ending with a delimiter", n, lambda: read_questionnaire(
        load_spec(trailing).questionnaires["villagers"], cb),
        note="as some spreadsheets export: an empty cell after the last header on every row", repeat=3)
    shutil.rmtree(trailing)
    rep, clean = measure("read + validate", n, lambda: validate_wave(folder, cb), repeat=3)
    assert rep.ok, rep.errors[:3]
    v = clean["villagers"]
    res = measure("index (default construction)", n, lambda: build_index(v, IndexConfig.default(), codebook=cb))
    wave = Wave(spec, clean, rep, cb)
    design = measure("survey design (ours)", n, lambda: wave_design(wave),
                     note="weights checked, strata and PSU codes, PSUs per stratum, from the loaded wave")
    measure("design-based degree by province", n, lambda: degree(v, res, design, by="province_en"),
            note="domain means, SEs, design effects, design df and CIs; the design built beforehand")
    d = regression_frame(v, res.scores["overall"].to_numpy())
    y, Xm, g, w = d["overall"].to_numpy(), d[X].to_numpy(), d["g"].to_numpy(), d["weight"].to_numpy()
    ours = measure("OLS, province FE absorbed, clustered (ours)", n,
                   lambda: absorbed_ols(y, Xm, fe=g, cluster=g, w=w), repeat=3)
    settings = load_settings()
    study = Study(wave, settings, IndexConfig.default(), res, design, province_panel())
    for m in settings.models.models:
        measure(f"model {m.name} ({m.family})", n, lambda m=m: fit_model(study, m), repeat=3)
    # one frame alive at a time, as when the models are fitted (a list of the 14 frames held
    # 2.5 GB more at 1,000,000 rows and made the pipeline's peak the benchmark's own)
    measure(f"  ↳ their model frames ({len(settings.models.models)})", n, lambda: sum(
        model_frame(study, m, design_columns=needs_design_columns(m)) is not None
        for m in settings.models.models), repeat=3,
        note="part of the models' rows: the complete cases of each model's columns (once per model)")
    process_peak("ruralgov pipeline, read to last model: process peak RSS", n, "ru_maxrss before any baseline")
    b_floor, _ = measure("  single-pass numpy floor", n, lambda: floor_ols(y, Xm, g, w), baseline_of="OLS",
                         repeat=3, note="written here in numpy, no package code: demeaning, normal equations, "
                         "cluster scores")
    assert np.allclose(ours["coef"], b_floor, rtol=1e-10)
    try:
        import pyfixest as pf

        pf.feols("overall ~ " + X[0] + " | g", data=d.head(500), vcov={"CRV1": "g"})   # warm-up
        fit = measure("  pyfixest feols", n, lambda: pf.feols(
            "overall ~ " + " + ".join(X) + " | g", data=d, weights="weight", vcov={"CRV1": "g"}),
            baseline_of="OLS")
        assert np.allclose(fit.coef().to_numpy(), ours["coef"], rtol=1e-10)
    except ImportError:
        pass
    from linearmodels.iv.absorbing import AbsorbingLS

    measure("  linearmodels AbsorbingLS", n, lambda: AbsorbingLS(
        d["overall"], d[X], absorb=pd.DataFrame({"g": pd.Categorical(d["g"])}), weights=d["weight"]).fit(
        cov_type="clustered", clusters=d["g"]), baseline_of="OLS")
    if n <= 100_000:
        import statsmodels.formula.api as smf

        fit = measure("  statsmodels formula with dummies", n, lambda: smf.wls(
            "overall ~ " + " + ".join(X) + " + C(g)", data=d, weights=d["weight"]).fit(
            cov_type="cluster", cov_kwds={"groups": d["g"]}), baseline_of="OLS")
        assert np.allclose(fit.params[X].to_numpy(), ours["coef"], rtol=1e-10)
    if with_r:
        sc = folder / "scores.csv"
        v.assign(overall=res.scores["overall"])[["overall", "weight", "province", "village_id", "province_en"]].to_csv(sc, index=False)
        r = subprocess.run(["Rscript", "-e", (
            "suppressPackageStartupMessages(library(survey)); d <- read.csv('" + str(sc) + "');"
            "t1 <- system.time(des <- svydesign(id=~village_id, strata=~province, weights=~weight, data=d, "
            "nest=TRUE))[['elapsed']];"
            "t2 <- system.time(r <- svyby(~overall, ~province_en, des, svymean, na.rm=TRUE, deff=TRUE))[['elapsed']];"
            "cat(t1, t2)")], capture_output=True, text=True)
        if r.returncode == 0:
            t_des, t_by = (float(x) for x in r.stdout.split())
            for stage, secs, of, note in (
                    ("  R survey svydesign", t_des, "survey design (ours)",
                     "R, elapsed inside R, the CSV read before the clock starts"),
                    ("  R survey svyby (svymean, deff)", t_by, "design-based degree by province",
                     "R, elapsed inside R: domain means, SEs and design effects, the design built beforehand")):
                ROWS.append({"stage": stage, "n": n, "seconds": secs, "peak_mb": np.nan, "rows_per_s": n / secs,
                             "baseline_of": of, "note": note})
                print(f"  {stage:<44} n={n:>9,}  {secs:8.3f} s", flush=True)


def bench_stream(n: int, csv: Path, tmp: Path) -> None:
    """The out-of-core path on the same rows stored as Parquet partitions of 100,000 rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from analysis.estimation.stream import stream_wave

    folder = tmp / "parts"
    folder.mkdir()
    reader = pacsv.open_csv(csv, read_options=pacsv.ReadOptions(block_size=1 << 22))
    writer, rows, part = None, 0, 0
    for batch in reader:                  # CSV to ten partitions, streamed
        if writer is None or rows >= n // 10:
            if writer is not None:
                writer.close()
            writer = pq.ParquetWriter(folder / f"part-{part:05d}.parquet", batch.schema)
            part, rows = part + 1, 0
        writer.write_batch(batch)
        rows += batch.num_rows
    writer.close()
    out = scan(folder, n)
    from distributed import Client, LocalCluster

    from analysis.report.execute import default_jobs

    workers = default_jobs()
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: __import__("analysis.ingest.validate"))      # workers' imports, untimed
        dist = measure(f"out-of-core on a local Dask cluster of {workers} workers, degree + OLS", n,
                       lambda: stream_wave(folder, STREAM_DESIGN, ols=STREAM_OLS, batch_rows=50_000, client=client),
                       note="validation with the rules across partitions; memory: the client's only")
    assert dist["report"].ok and np.allclose(dist["ols"]["se"], out["ols"]["se"], rtol=1e-12)


LARGE_CHUNK = 1_000_000
"""Rows generated at a time for the large partitioned wave (one chunk in memory at once)."""
LARGE_FILE_ROWS = 100_000
"""Rows per partition of the large wave; a chunk fills ``LARGE_FILES_PER_CHUNK`` partitions."""
LARGE_FILES_PER_CHUNK = -(-LARGE_CHUNK // LARGE_FILE_ROWS)
STREAM_DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}
STREAM_OLS = {"y": "overall", "x": X, "fe": "province", "cluster": "province"}


def write_large_wave(folder: Path, n: int) -> None:
    """``n`` rows as Parquet partitions of ``LARGE_FILE_ROWS``, generated ``LARGE_CHUNK`` rows at a
    time so that the generator never holds the wave: chunk k is an independent replica sample
    (seed 7 + k, uncalibrated) whose village (PSU) and respondent ids are offset by k, so that
    ids stay unique and every village lies in one province across the whole wave."""
    from analysis.estimation.stream import write_partitioned
    from analysis.replica import generate

    for k, start in enumerate(range(0, n, LARGE_CHUNK)):
        v = generate(seed=7 + k, n=min(LARGE_CHUNK, n - start), calibrate=False)["villagers"]
        v["village_id"] = v["village_id"].astype("int64") + k * 10**7
        v["resp_id"] = v["resp_id"].astype("int64") + k * 10**10
        write_partitioned(v, folder, LARGE_FILE_ROWS, first=k * LARGE_FILES_PER_CHUNK)
        print(f"  generated {start + len(v):>11,} of {n:,} rows", flush=True)


def scan(folder: Path, n: int, note: str = "") -> dict:
    """One timed out-of-core scan (validate, index, degree, OLS) of a partitioned wave."""
    from analysis.estimation.stream import partition_files, stream_wave

    out = measure(f"out-of-core: DuckDB scan of {len(partition_files(folder))} partitions, degree + OLS", n,
                  lambda: stream_wave(folder, STREAM_DESIGN, ols=STREAM_OLS, batch_rows=50_000), note=note)
    assert out["report"].ok, out["report"].errors[:3]
    return out


def bench_large_scan(n: int, folder: Path) -> None:
    """One out-of-core scan of a large partitioned wave, in this process, with its process peak."""
    scan(folder, n, "partitions written chunk by chunk by the benchmark (not the CSV of the other rows)")
    process_peak("out-of-core scan: process peak RSS", n, "ru_maxrss of its own process")


def bench_large(n: int, tmp: Path) -> None:
    """The out-of-core path on ``n`` rows beside its first ``LARGE_CHUNK`` rows alone, each scan
    in its own process (a clean peak), the wave generated by a third."""
    folder = tmp / "parts"
    print(f"\nlarge partitioned wave, n = {n:,}", flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--write-large", str(n), "--csv", str(folder)], check=True)
    files = sorted(folder.glob("*.parquet"))
    gb = sum(f.stat().st_size for f in files) / 2**30
    print(f"  written in {time.perf_counter() - t0:.0f} s: {len(files)} partitions, {gb:.2f} GB", flush=True)
    small = tmp / "first"
    small.mkdir()
    for f in files[:LARGE_FILES_PER_CHUNK]:            # the same files, not a copy: the same bytes scanned
        (small / f.name).symlink_to(f)
    for size, where in ((min(n, LARGE_CHUNK), small), (n, folder)):
        part = tmp / f"scan{size}.csv"
        subprocess.run([sys.executable, __file__, "--scan-large", str(size), "--csv", str(where),
                        "--part", str(part)], check=True)
        ROWS.extend(pd.read_csv(part, keep_default_na=False, na_values=[""]).to_dict("records"))


def large_goal(df: pd.DataFrame) -> str:
    """Goal 5 of the second performance round, from a ``--large`` run."""
    scans = df[df["stage"].str.startswith("out-of-core: DuckDB")].set_index("n")["seconds"]
    peaks = df[df["stage"].str.startswith("out-of-core scan: process peak")].set_index("n")["peak_mb"]
    big, small = int(scans.index.max()), int(scans.index.min())
    ratio, peak = scans[big] / scans[small], peaks[big]
    ok = "yes" if ratio <= 12 and peak < 1024 else "**no**"
    return ("| goal | measured | met |\n|---|---:|:-:|\n"
            f"| {big:,}-row partitioned wave validated, indexed and estimated under 1 GB peak, "
            f"in ≤ 12× the time of its first {small:,} rows | {peak:,.0f} MB, {ratio:.1f}× | {ok} |")


def bench_sensitivity() -> None:
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.estimation.study import build_study

    print("\nsensitivity (default wave)", flush=True)
    st = build_study("2020-replica")
    w = st.wave
    run_sensitivity(st, draws=700)            # warm-up (imports, caches)
    measure("sensitivity, 10,000 draws (vectorised)", 1160, lambda: run_sensitivity(st, draws=10_000))
    v = w.villagers
    rng = np.random.default_rng(0)
    from analysis.estimation.sensitivity import NORMS, rao_wu_weights

    B = rao_wu_weights(v["weight"].to_numpy(), v["province"].to_numpy(), v["village_id"].to_numpy(), 300, rng)
    base = IndexConfig.default()

    def loop() -> None:
        for i in range(300):                 # one index construction and estimate per draw
            cfg = base.with_(normalisation=NORMS[i % 3], weighting=("equal", "entropy", "pca", "ahp")[i % 4],
                             aggregation=("arithmetic", "geometric", "topsis")[i % 3])
            s = build_index(v, cfg, codebook=w.codebook, weights=v["weight"].to_numpy()).scores["overall"].to_numpy()
            ok = np.isfinite(s)
            pd.Series(B[ok, i] * s[ok]).groupby(v["region3"].to_numpy()[ok]).sum()

    measure("  per-draw Python loop, 300 draws", 1160, loop, baseline_of="sensitivity")
    last = ROWS[-1]
    ROWS.append({**last, "stage": "  per-draw loop scaled to 10,000 draws", "seconds": last["seconds"] * 10_000 / 300,
                 "note": "300 draws timed, scaled linearly"})


def bench_book() -> None:
    """Both editions of the default report, as ``ruralgov build`` makes them (with the province
    profiles; the PDF editions when Chromium is installed): cold (a fresh execution cache each),
    forced from the cache (Sphinx and the PDF alone, nothing executed) and with nothing changed;
    the English edition cold once more with its pages executed one at a time (``--jobs 1``), the
    baseline of executing them ahead on every core."""
    from analysis.report.build import build_book
    from analysis.report.execute import default_jobs

    print("\nbook (default wave)", flush=True)
    both = ("en", "zh")
    with tempfile.TemporaryDirectory() as cache:
        out, root = Path(cache) / "out", Path(cache)
        measure("book build, cold: English edition, pages one at a time (--jobs 1)", 1160,
                lambda: build_book("2020-replica", Path(cache) / "serial", force=True,
                                   cache_root=Path(cache) / "serial-cache", editions=both, jobs=1))
        shutil.rmtree(Path(cache) / "serial-cache")
        for lang, name in (("en", "English"), ("zh", "Chinese")):
            measure(f"book build, cold: {name} edition", 1160,
                    lambda lang=lang: build_book("2020-replica", out, force=True, cache_root=root, lang=lang,
                                                 editions=both),
                    note=f"pages executed ahead, {default_jobs()} at a time (the cores available)")
        for lang, name in (("en", "English"), ("zh", "Chinese")):
            measure(f"book rebuild from the cache, forced: {name} edition", 1160,
                    lambda lang=lang: build_book("2020-replica", out, force=True, cache_root=root, lang=lang,
                                                 editions=both))
        measure("book rebuild, nothing changed (both editions)", 1160,
                lambda: [build_book("2020-replica", out, cache_root=root, lang=x, editions=both) for x in both])
    # a change to data/models.yml, in a copy of the project: only the pages declaring the models run
    with tempfile.TemporaryDirectory() as scratch:
        proj = Path(scratch) / "proj"
        shutil.copytree(ROOT, proj, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "__pycache__",
                                                                  ".pytest_cache", ".hypothesis", "mutants"))
        shutil.copytree(ROOT / "_build" / ".assets", proj / "_build" / ".assets")      # MathJax (built above)
        env = {**os.environ, "RURALGOV_ROOT": str(proj)}
        cmd = [sys.executable, "-m", "analysis.cli", "build", "--lang", "en", "--no-pdf"]
        subprocess.run(cmd, cwd=proj, env=env, check=True, capture_output=True)      # cold, not timed
        models = proj / "data" / "models.yml"
        models.write_text(models.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        measure("book rebuild after a change to data/models.yml: English edition, no PDF", 1160,
                lambda: subprocess.run(cmd, cwd=proj, env=env, check=True, capture_output=True),
                note="only the pages declaring the models are executed again")


def markdown(df: pd.DataFrame) -> str:
    lines = ["| stage | n | seconds | memory MB | rows/s | includes |", "|---|---:|---:|---:|---:|---|"]
    for r in df.itertuples():
        secs = "" if pd.isna(r.seconds) else f"{r.seconds:.3f}"
        rate = "" if pd.isna(r.rows_per_s) else f"{r.rows_per_s:,.0f}"
        sub = str(r.stage).startswith("  ") and "↳" not in r.stage       # a stage may name its own arrow
        name = "↳ " + r.stage.strip() if sub else r.stage.strip()
        whole = str(r.note).startswith("ru_maxrss")          # a process total, not a stage's increase
        mem = "" if pd.isna(r.peak_mb) else (f"**{r.peak_mb:,.0f}**" if whole else f"+{max(r.peak_mb, 0):,.0f}")
        note = "" if pd.isna(r.note) else str(r.note)
        lines.append(f"| {name} | {int(r.n):,} | {secs} | {mem} | {rate} | {note} |")
    return "\n".join(lines)


def goals(df: pd.DataFrame) -> str:
    """The issue's goals as ratios measured in this run (largest size measured)."""
    def sec(stage: str, n: int) -> float:
        hit = df[(df["stage"].str.strip() == stage) & (df["n"] == n)]["seconds"]
        return float(hit.iloc[0]) if len(hit) else float("nan")

    n = int(df["n"].max())
    rows = []
    ours, floor = sec("OLS, province FE absorbed, clustered (ours)", n), sec("single-pass numpy floor", n)
    rows.append((f"clustered OLS with province FE, {n:,} rows: within 1.5× the single-pass floor",
                 f"{ours / floor:.2f}×", ours / floor <= 1.5))
    r = sec("R survey svydesign", n) + sec("R survey svyby (svymean, deff)", n)
    d = sec("survey design (ours)", n) + sec("design-based degree by province", n)
    if np.isfinite(r):
        rows.append((f"survey design + degree by province, {n:,} rows, design built on both sides: "
                     "≥ 20× faster than R survey", f"{r / d:.1f}×", r / d >= 20))
    models = df[(df["n"] == n) & df["stage"].str.startswith("model ")]
    fam = models["stage"].str.extract(r"\((\w+)\)$")[0]
    lin = models[fam == "wls"]["seconds"].max() / floor
    glm = models[fam.isin(["ologit", "logit"])]["seconds"].max() / floor
    every = models["seconds"].sum() / floor
    rows.append((f"each linear model ≤ 3× the single-pass floor ({n:,} rows; slowest shown)", f"{lin:.0f}×", lin <= 3))
    rows.append((f"each ordered or binary logit ≤ 10× the floor ({n:,} rows; slowest shown)", f"{glm:.0f}×", glm <= 10))
    rows.append((f"all {len(models)} models together ≤ 50× the floor ({n:,} rows)",
                 f"{every:.0f}× ({models['seconds'].sum():.1f} s)", every <= 50))
    rd, rv = sec("read (CSV)", n), sec("read + validate", n)
    rows.append((f"read + validate ≤ 1.4× read alone ({n:,} rows)", f"{rv / rd:.2f}×", rv / rd <= 1.4))
    rt = sec("read (CSV), each row ending with a delimiter", n)
    rows.append((f"a file whose rows end with a delimiter read within 1.2× the plain file ({n:,} rows)",
                 f"{rt / rd:.2f}×", rt / rd <= 1.2))
    stream = df[(df["n"] == n) & df["stage"].str.startswith("out-of-core: DuckDB")]["seconds"]
    if len(stream):
        mem = rv + sec("index (default construction)", n) + d + ours
        rows.append((f"out-of-core ≤ 1.3× in memory on the same rows (read, validate, index, design, degree, "
                     f"OLS; {n:,} rows)", f"{float(stream.iloc[0]) / mem:.2f}×", float(stream.iloc[0]) / mem <= 1.3))
    cold, forced = sec("book build, cold: English edition", 1160), sec("book rebuild from the cache, forced: English edition", 1160)
    if np.isfinite(cold):
        rows.append(("cold build of the default report ≤ 3× the forced rebuild from the cache (English edition)",
                     f"{cold / forced:.1f}×", cold / forced <= 3))
    sv, loop = sec("sensitivity, 10,000 draws (vectorised)", 1160), sec("per-draw loop scaled to 10,000 draws", 1160)
    rows.append(("10,000 sensitivity draws, 1,160 rows: < 5 s and ≥ 20× faster than a per-draw loop",
                 f"{sv:.2f} s, {loop / sv:.0f}×", sv < 5 and loop / sv >= 20))
    peak = df[(df["n"] == n) & df["stage"].str.startswith("ruralgov pipeline")]["peak_mb"]
    if len(peak):
        rows.append((f"whole {n:,}-respondent pipeline (read, validate, index, estimates, every model) "
                     "under 4 GB peak", f"{float(peak.iloc[0]) / 1024:.2f} GB", float(peak.iloc[0]) < 4096))
    out = ["| goal | measured | met |", "|---|---:|:-:|"]
    out += [f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in rows]
    return "\n".join(out)


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux ``/proc/stat``), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in (fields + ["0"] * 8)[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for (the sizes, R)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


_START = (_busy_seconds(), _own_seconds(), time.monotonic())


def others_share(start: tuple = _START) -> float | None:
    """The share of the machine's CPU capacity that other processes used while this run went on
    (0 on a quiet machine): timings taken beside another job are slower, sometimes by 2×, and
    a result file must say so."""
    busy0, own0, t0 = start
    busy1 = _busy_seconds()
    wall = time.monotonic() - t0
    if busy0 is None or busy1 is None or wall <= 0:
        return None
    others = (busy1 - busy0) - (_own_seconds() - own0)
    return min(max(others / (wall * (os.cpu_count() or 1)), 0.0), 1.0)


def machine() -> str:
    """The machine a result was measured on, for the heading of its file, with the share of its
    CPU that other processes took during the run."""
    share = others_share()
    load = ("other processes' share of its CPU during the run not measured" if share is None else
            f"other processes used {share:.0%} of its CPU during the run"
            + (" (**timings shared the machine**)" if share > 0.05 else ""))
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; {load}")


def write_result(name: str, flags: str, body: str) -> None:
    """Write (and print) one mode's result file under benchmarks/results, headed by the date, the
    machine and the command that made it."""
    md = f"Measured {time.strftime('%Y-%m-%d')} on {machine()} (`python benchmarks/run.py {flags}`).\n\n{body}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(md + "\n", encoding="utf-8")
    print("\n" + md)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,160 and 100,000 rows, no book build (~1 min)")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument("--book", action="store_true", help="only the report's builds, both editions (~10 min); "
                    "written to benchmarks/results/book.md")
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)      # one size, in a child process
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--stream", type=int, help=argparse.SUPPRESS)   # the out-of-core path, in a child
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    ap.add_argument("--large", type=int, nargs="?", const=10_000_000, metavar="N",
                    help="only the out-of-core scan of N rows (default 10,000,000) generated as Parquet "
                    "partitions, beside its first 1,000,000 rows (~15 min, several GB of disk); "
                    "written to benchmarks/results/large.md")
    ap.add_argument("--write-large", type=int, help=argparse.SUPPRESS)   # the generator, in a child
    ap.add_argument("--scan-large", type=int, help=argparse.SUPPRESS)    # one scan, in a child
    args = ap.parse_args()
    _reset_peak()
    if args.write_large:
        write_large_wave(Path(args.csv), args.write_large)
        return
    if args.scan_large:
        bench_large_scan(args.scan_large, Path(args.csv))
        pd.DataFrame(ROWS).to_csv(args.part, index=False)
        return
    if args.large:
        with tempfile.TemporaryDirectory() as tmp:
            bench_large(args.large, Path(tmp))
        df = pd.DataFrame(ROWS)
        write_result("large.md", "--large" + ("" if args.large == 10_000_000 else f" {args.large}"),
                     large_goal(df) + "\n\n" + markdown(df))
        return
    if args.stream:
        with tempfile.TemporaryDirectory() as tmp:
            bench_stream(args.stream, Path(args.csv), Path(tmp))
        process_peak("out-of-core run: process peak RSS", args.stream, "ru_maxrss of its own process")
        pd.DataFrame(ROWS).to_csv(args.part, index=False)
        return
    if args.size:
        with tempfile.TemporaryDirectory() as tmp:
            bench_size(args.size, Path(tmp), with_r=shutil.which("Rscript") is not None)
            process_peak("whole run with baselines: process peak RSS", args.size, "ru_maxrss")
            pd.DataFrame(ROWS).to_csv(args.part, index=False)
            if args.size >= 100_000:              # the same rows through the out-of-core path
                part = Path(args.part).with_suffix(".stream.csv")
                subprocess.run([sys.executable, __file__, "--stream", str(args.size), "--part", str(part),
                                "--csv", str(Path(tmp) / f"w{args.size}" / "villagers.csv")], check=True)
                rows = pd.read_csv(part, keep_default_na=False, na_values=[""])
                pd.concat([pd.DataFrame(ROWS), rows]).to_csv(args.part, index=False)
        return
    if args.book:
        bench_book()
        df = pd.DataFrame(ROWS)
        secs = df.set_index("stage")["seconds"]
        forced = secs["book rebuild from the cache, forced: English edition"]
        ratio = (f"Cold build of the English edition / forced rebuild from the cache: "
                 f"{secs['book build, cold: English edition'] / forced:.1f}× (goal ≤ 3×); with the pages "
                 f"executed one at a time: {secs['book build, cold: English edition, pages one at a time (--jobs 1)'] / forced:.1f}×.")
        write_result("book.md", "--book", ratio + "\n\n" + markdown(df))
        return
    sizes = [1160, 100_000] if args.quick else [1160, 100_000, 1_000_000]
    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:                       # each size in its own process: a clean peak RSS
            part = Path(tmp) / f"{n}.csv"
            subprocess.run([sys.executable, __file__, "--size", str(n), "--part", str(part)], check=True)
            frames.append(pd.read_csv(part, keep_default_na=False, na_values=[""]))
    bench_sensitivity()
    if not args.quick:
        bench_book()
    df = pd.concat([*frames, pd.DataFrame(ROWS)], ignore_index=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    # a quick run (CI's) does not overwrite the committed full run
    stem = "benchmarks-quick" if args.quick else "benchmarks"
    df.to_csv(RESULTS / f"{stem}.csv", index=False)
    md = (f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, numpy {np.__version__} (`python benchmarks/run.py"
          f"{' --quick' if args.quick else ''}`). Memory: `+` is a stage's peak resident memory above "
          "its start; **bold** is a whole process's peak.\n\n" + goals(df) + "\n\n" + markdown(df))
    (RESULTS / f"{stem}.md").write_text(md + "\n", encoding="utf-8")
    print("\n" + md)
    if args.readme:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        a, b = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
        if a in text and b in text:
            text = text[: text.index(a) + len(a)] + "\n" + md + "\n" + text[text.index(b):]
            readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
