"""The ``ruralgov`` command line: validate, replica, reproduce, index, sensitivity, models,
stream, build.

Every command that reports on a wave builds its scored study once
(:func:`analysis.estimation.study.build_study`) and prints through the disclosure policy
(:mod:`analysis.publishing.disclosure`): a cell below ``min_cell`` respondents or resting on one
PSU is ``‡`` in tables and null with its reason in CSV and JSON.

Exit codes: 0 success, 1 invalid data or a failed check, 2 usage error (including an invalid
settings file under ``data/``).
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analysis import paths
from analysis.settings.options import LONELY_PSU

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ruralgov: survey waves → modernization index → determinants → report.")
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
out = Console(width=None if sys.stdout.isatty() else 140)


class Format(str, Enum):
    """Output formats of the tabular commands."""

    table = "table"
    csv = "csv"
    json = "json"


class ModelFormat(str, Enum):
    """Output formats of ``ruralgov models``."""

    table = "table"
    csv = "csv"
    json = "json"
    latex = "latex"


class By(str, Enum):
    """Domains of the index estimates."""

    region = "region"
    region4 = "region4"
    province = "province"


LonelyPSU = Enum("LonelyPSU", {v: v for v in LONELY_PSU}, type=str)  # type: ignore[misc]
"""The rules for a stratum with a single PSU (wave.yml's ``design.lonely_psu``)."""


def _not_a_folder(*given: tuple[str, Path | None]) -> None:
    """A file option naming an existing folder is a usage error (exit 2), said before anything is
    printed or written (the file would otherwise fail to replace the folder after the output)."""
    for option, path in given:
        if path is not None and path.is_dir():
            err.print(f"[red]{option} {escape(str(path))}: a folder; give the name of a file to write[/red]")
            raise typer.Exit(2)


DOMAIN_COLUMN = {None: None, By.region: "region3", By.region4: "region4", By.province: "province_en"}


def _json_finite(o):  # type: ignore[no-untyped-def]
    """NaN and ±inf as null, as pandas writes them: JSON has no such numbers and strict parsers
    refuse ``NaN``."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {(k.item() if hasattr(k, "item") else k): _json_finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_finite(v) for v in o]
    if getattr(o, "ndim", 0) > 0 and hasattr(o, "tolist"):     # a numpy array
        return _json_finite(o.tolist())
    if hasattr(o, "item") and not isinstance(o, (str, bytes)):    # a numpy scalar
        return _json_finite(o.item())
    return o


def _write_json(obj) -> None:  # type: ignore[no-untyped-def]
    """Print ``obj`` as strict JSON (non-finite numbers as null, other scripts' text as written)."""
    sys.stdout.write(json.dumps(_json_finite(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _records(df):  # type: ignore[no-untyped-def]
    """A table as JSON records: every number with all its digits (pandas' ``to_json`` keeps 15
    decimal places, so 1.7e-11 loses most of its digits), a missing cell (NaN, NA) null."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def _emit(df, fmt: Format, title: str = "") -> None:  # type: ignore[no-untyped-def]
    """Print a table (suppressed cells ‡), CSV or JSON (suppressed cells null, with the reason)."""
    from analysis.publishing.disclosure import MARK, SUPPRESSED, suppressed_rows

    fmt = Format(fmt)
    if fmt is Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif fmt is Format.json:
        _write_json(_records(df))
    else:
        import pandas as pd

        sup = suppressed_rows(df)
        t = Table(title=escape(title), show_lines=False)     # titles name waves: text
        cols = [c for c in df.columns if c != SUPPRESSED or sup.any()]
        for c in cols:
            t.add_column(escape(str(c)), overflow="fold")
        for s, r in zip(sup, df[cols].itertuples(index=False)):
            t.add_row(*[(MARK if s else "") if (isinstance(v, float) and pd.isna(v)) else
                        (f"{v:.4g}" if isinstance(v, float) else escape(str(v))) for v in r])
        out.print(t)


def _fail_settings(e: Exception) -> None:
    err.print(f"[red]{escape(str(e))}[/red]")
    raise typer.Exit(2) from None


def _study(wave: str):  # type: ignore[no-untyped-def]
    """The scored study of a wave; exit 1 on invalid data, 2 on invalid settings."""
    from analysis.estimation.design import DesignError
    from analysis.estimation.index import IndexConfigError
    from analysis.estimation.study import build_study
    from analysis.ingest.wave import WaveInvalid
    from analysis.settings import SettingsError

    try:
        return build_study(wave)
    except WaveInvalid as e:
        err.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(1) from None
    except DesignError as e:                          # a design validation let through: no traceback
        err.print(f"[red]{escape(str(wave))}: the survey design cannot be used: {escape(str(e))}[/red]")
        raise typer.Exit(1) from None
    except (SettingsError, IndexConfigError) as e:      # the index's settings do not fit this wave
        _fail_settings(e)


def _tag(study) -> str:  # type: ignore[no-untyped-def]
    return " — SYNTHETIC REPLICA" if study.wave.synthetic else ""


@app.command()
def validate(
    wave: str = typer.Argument(paths.DEFAULT_WAVE, help="wave id under data/waves/ or a folder"),
    report_csv: Optional[Path] = typer.Option(None, "--csv", help="also write the problems as CSV"),
    report_json: Optional[Path] = typer.Option(None, "--json", help="also write the report as JSON"),
) -> None:
    """Check a wave against the codebook and list every problem (file, row, column, rule)."""
    from analysis.ingest.validate import validate_wave
    from analysis.settings import SettingsError

    for target in (report_csv, report_json):
        if target is not None and paths.WAVES.resolve() in target.resolve().parents:
            err.print("[red]refusing to write a report under data/waves/ (raw data are read-only)[/red]")
            raise typer.Exit(2)
    _not_a_folder(("--csv", report_csv), ("--json", report_json))
    try:
        report, _ = validate_wave(wave)
    except SettingsError as e:
        _fail_settings(e)
    if report.problems:
        t = Table(title=f"wave {escape(report.wave)}: {len(report.errors)} error(s), "
                        f"{len(report.warnings)} warning(s)")
        for c in ("severity", "file", "row", "column", "rule", "message"):
            t.add_column(c, overflow="fold")
        for p in report.problems[:200]:
            color = "red" if p.severity == "error" else "yellow"
            t.add_row(f"[{color}]{p.severity}[/{color}]", escape(p.file), "" if p.row is None else str(p.row),
                      escape(p.column), escape(p.rule), escape(p.message))   # data, not markup
        err.print(t)
        if len(report.problems) > 200:
            err.print(f"... {len(report.problems) - 200} more (use --csv/--json for all)")
    if report_csv:
        from analysis.publishing.tables import safe_csv

        safe_csv(report.to_frame(), report_csv)
    if report_json:                 # as the CSV: its folder made, written whole or not at all
        from analysis.publishing.tables import safe_text

        safe_text(report.to_json(), report_json)
    if report.ok:
        rows = ", ".join(f"{q}: {n} row{'' if n == 1 else 's'}" for q, n in report.rows.items())
        out.print(f"[green]wave {escape(report.wave)} is valid[/green] ({escape(rows)}; "
                  f"{len(report.warnings)} warning(s))")
        raise typer.Exit(0)
    raise typer.Exit(1)


@app.command()
def replica(
    seed: int = typer.Option(20200601, min=0, help="random seed (the default wave uses 20200601)"),
    out_dir: Path = typer.Option(..., "--out", help="output folder (the committed default wave "
                                 "is data/waves/2020-replica; regenerating it gives identical bytes "
                                 "where numpy has AVX-512, as where it was written; elsewhere exp and "
                                 "log differ in their last bit and a few answers change)"),
    n: int = typer.Option(1160, min=1, help="villagers"),
    wave_id: Optional[str] = typer.Option(None, "--id", help="wave id (default: folder name)"),
    no_calibrate: bool = typer.Option(False, "--no-calibrate", help="pure latent model"),
) -> None:
    """Generate the calibrated synthetic replica wave (NOT the original survey data)."""
    from analysis.ingest.readers import WAVE_ID
    from analysis.replica import is_replica_folder, write_wave

    wid = wave_id or out_dir.resolve().name
    if not WAVE_ID.fullmatch(wid) or wid != out_dir.resolve().name:
        err.print(f"[red]--out {escape(str(out_dir))}: a wave's folder is named by its id, a slug of a-z, "
                  f"0-9, '.', '_', '-' (got {escape(repr(wid))}); choose a folder such as "
                  "data/waves/2024-replica[/red]")
        raise typer.Exit(2)
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not is_replica_folder(out_dir))):
        err.print(f"[red]--out {escape(str(out_dir))}: exists and is not an earlier replica wave; "
                  "refusing to overwrite it (choose a new or empty folder)[/red]")
        raise typer.Exit(2)
    try:
        hashes = write_wave(out_dir, seed=seed, wave_id=wid, n=n, calibrate=not no_calibrate)
    except ValueError as e:
        err.print(f"[red]--n {n}: {escape(str(e))}[/red]")
        raise typer.Exit(2) from None
    except RuntimeError as e:            # the calibration cannot reach the published figures
        err.print(f"[red]{escape(str(e))} with n = {n} (seed {seed}): a smaller sample may not reach the "
                  "published figures; try a larger --n, another --seed, or --no-calibrate[/red]")
        raise typer.Exit(2) from None
    for name, h in hashes.items():
        out.print(f"{escape(str(out_dir / name))}  sha256 {h[:12]}")


@app.command()
def reproduce(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Every figure the seed paper published beside its reproduction; exit 1 if one is outside.

    Only for a wave of the seed study's survey (``reproduces_seed: true`` in wave.yml).
    """
    from analysis.estimation.reproduce import reproduce as _rep

    st = _study(wave)
    if not st.wave.spec.reproduces_seed:
        err.print(f"[red]wave {escape(st.wave.id)} does not reproduce the seed study's 2020 survey "
                  "(wave.yml has no reproduces_seed: true): its estimates are not comparable with the "
                  "paper's figures[/red]")
        raise typer.Exit(2)
    tab = _rep(st)
    cols = ["key", "published", "reproduced", "difference", "within_rounding", "se"]
    _emit(tab[cols] if fmt is Format.table else tab, fmt,
          f"wave {st.wave.id}: published figures vs reproduction{_tag(st)}")
    bad = tab[tab["within_rounding"] == False]  # noqa: E712 - None means not comparable
    if len(bad):
        err.print(f"[red]{len(bad)} figure(s) outside the published rounding: "
                  f"{', '.join(bad['key'])}[/red]")
        raise typer.Exit(1)


@app.command()
def index(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    by: Optional[By] = typer.Option(None, help="domain: region (east/central/west), region4 (NBS) or province"),
    fmt: Format = typer.Option(Format.table, "--format"),
    scores: Optional[Path] = typer.Option(None, help="write respondent scores with design columns "
                                          "(microdata: for the data owner)"),
    level: str = typer.Option("overall", help="index level (overall, a field or an aspect)"),
    no_suppress: bool = typer.Option(False, "--no-suppress", help="data owner only: print cells below "
                                     "the disclosure threshold (a warning is printed)"),
) -> None:
    """The modernization degree (design-based mean score, 0–100) overall or by domain, with SE,
    CI on the domain's design df, design effect, respondents, PSUs and df."""
    from analysis.report.pages.common import degree_table

    st = _study(wave)
    if level not in st.scores:
        err.print(f"[red]--level {escape(repr(level))}: not an index level; levels: "
                  f"{escape(', '.join(map(str, st.scores.columns)))}[/red]")
        raise typer.Exit(2)
    col = DOMAIN_COLUMN[by]
    if no_suppress:
        df = st.degree(by=col, level=level).to_frame().drop(columns=["sum_w"])
        err.print("[yellow]warning: --no-suppress prints cells below the disclosure threshold "
                  f"(min_cell {st.min_cell}); do not publish this output[/yellow]")
    else:
        df = degree_table(st, col, level=level).rename(columns={col: "domain"} if col else {})
    df.insert(0, "level", level)
    if scores is not None and paths.WAVES.resolve() in scores.resolve().parents:
        err.print("[red]refusing to write under data/waves/ (raw data are read-only)[/red]")
        raise typer.Exit(2)                               # before anything is printed or written
    _not_a_folder(("--scores", scores))
    _emit(df, fmt, f"wave {st.wave.id}: modernization degree ({level}){_tag(st)}")
    if scores is not None:
        from analysis.publishing.tables import safe_csv

        v = st.villagers
        keep = [c for c in (st.wave.codebook.keys["villagers"], *[x for x in st.wave.design_columns.values() if x],
                            "region3", "region4") if c in v]
        safe_csv(v[keep].join(st.scores), scores)


@app.command()
def sensitivity(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    draws: Optional[int] = typer.Option(None, help="index evaluations, N (k + 2) with k = 5 inputs "
                                        "(default: uncertainty.draws in data/index.yml)"),
    seed: Optional[int] = typer.Option(None, min=0,
                                       help="seed of every random choice (default: data/index.yml)"),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Uncertainty and sensitivity: construction choices × Rao–Wu bootstrap; Sobol indices."""
    from analysis.estimation.index import IndexConfigError
    from analysis.estimation.sensitivity import rank_intervals, run_sensitivity
    from analysis.report.pages.common import published_province_names
    from analysis.report.pages.index import RANKS_NEED_TWO
    from analysis.report.pages.sensitivity import shown_region_summary, shown_sobol

    if draws is not None and draws < 14:
        raise typer.BadParameter("--draws must be at least 14 (two per input block)")
    st = _study(wave)
    ok = published_province_names(st)                  # the provinces ranked and shown
    try:
        res = run_sensitivity(st, draws=draws, seed=seed, progress=sys.stderr.isatty(), rank_among=ok)
    except IndexConfigError as e:    # a construction it draws (AHP) does not fit this wave's fields
        _fail_settings(e)
    reg = shown_region_summary(st, res).reset_index(names="quantity")   # a withheld region blanked
    sobol = shown_sobol(res, st)       # the indices of a gap resting on a withheld region left out
    if not res.has_gap:
        lacks = " and ".join(r for r in ("east", "west") if r not in res.regions.columns)
        err.print(f"[yellow]no east–west gap: the wave has no villager of the {lacks}[/yellow]")
    ok = [p for p in ok if p in res.provinces.columns]
    ranks = None
    if len(ok) >= 2:
        ranks = rank_intervals(res.provinces[ok]).sort_values("median_rank").reset_index(names="province")
    else:                               # a rank compares a province with nothing: as the report says
        err.print(f"[yellow]{escape(RANKS_NEED_TWO.format(n=len(ok)))}[/yellow]")
    if fmt is Format.json:
        _write_json({"wave": st.wave.id, "synthetic": st.wave.synthetic,
                     "draws": res.n_evaluations, "independent_draws": len(res.regions), "seed": res.seed,
                     "regions": _records(reg),
                     "ranks": [] if ranks is None else ranks.to_dict("records"),
                     "sobol": _records(sobol)})
        return
    if fmt is Format.csv:
        _emit(sobol, fmt)
        return
    _emit(reg, fmt, f"wave {st.wave.id}: scores across {len(res.regions)} independent draws "
                    f"(of the {res.n_evaluations} evaluated for the Sobol indices){_tag(st)}")
    if ranks is not None:
        _emit(ranks, fmt, "publishable provinces: median rank and 95 % interval")
    _emit(sobol, fmt, "Sobol indices (first order, total)")
    err.print(f"{res.n_evaluations} draws in {res.seconds:.2f} s (seed {res.seed})")


@app.command()
def models(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    model: Optional[list[str]] = typer.Option(None, "--model", help="model name (repeatable); default all"),
    fmt: ModelFormat = typer.Option(ModelFormat.table, "--format"),
) -> None:
    """Fit the determinant models of data/models.yml; tidy coefficients or a regression table."""
    from analysis.estimation.suite import ModelSpecError, fit_models

    st = _study(wave)
    try:
        ms = fit_models(st, names=model or None)
    except ModelSpecError as e:
        err.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(2) from None
    for r in ms:
        if r.stats.get("notes"):
            err.print(f"[yellow]{escape(r.name)}: {escape('; '.join(r.stats['notes']))}[/yellow]")
    for name, why in ms.skipped.items():
        err.print(f"[yellow]{escape(name)}: not estimated on this wave: {escape(str(why))}[/yellow]")
    if fmt is ModelFormat.json:
        out_models = []
        for r in ms:
            tidy = r.to_frame().drop(columns="model")
            out_models.append({"name": r.name, "label": r.label, "family": r.family, "n": r.nobs,
                               "stats": dict(r.stats),
                               "coefficients": tidy.to_dict("records"),
                               "tables": {k: t.to_dict("records") for k, t in r.tables.items()}})
        _write_json({"wave": st.wave.id, "synthetic": st.wave.synthetic, "models": out_models})
    elif fmt is ModelFormat.csv:
        sys.stdout.write(ms.to_frame().to_csv(index=False))
    elif fmt is ModelFormat.latex:
        sys.stdout.write(ms.to_latex())
    else:
        for r in ms:
            _emit(r.to_frame().drop(columns=["model", "term"]), Format.table,
                  f"{r.label} ({r.family}, n = {r.nobs}){_tag(st)}")


@contextlib.contextmanager
def _dask_client(scheduler: str | None):  # type: ignore[no-untyped-def]
    """No client, a client of a local cluster (``local``), or of the scheduler at an address."""
    if not scheduler:
        yield None
        return
    from distributed import Client, LocalCluster

    from analysis.report.execute import default_jobs

    if scheduler == "local":
        with LocalCluster(n_workers=default_jobs(), threads_per_worker=1, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except OSError as e:
        err.print(f"[red]--scheduler {scheduler}: cannot reach the Dask scheduler ({escape(str(e))})[/red]")
        raise typer.Exit(2) from None
    with client:
        yield client


@app.command()
def stream(
    folder: Path = typer.Argument(..., help="folder of Parquet partitions (part-*.parquet)"),
    weight: str = typer.Option("weight", help="design weight column (an item of the codebook's villager "
                               "questionnaire)"),
    strata: str = typer.Option("province", help="strata column"),
    psu: str = typer.Option("village_id", help="PSU column"),
    fpc: Optional[str] = typer.Option(None, help="finite population correction column (PSUs in the "
                                      "stratum's population, or the sampling fraction), as wave.yml's"),
    lonely_psu: LonelyPSU = typer.Option("adjust", "--lonely-psu", help="a stratum with a single PSU, "
                                         "as wave.yml's"),
    by: By = typer.Option(By.region, help="domain of the degree"),
    model: Optional[str] = typer.Option("wls_province", help="linear model of data/models.yml "
                                        "with one fixed effect and clustered (CR1) SEs, fitted "
                                        "as `ruralgov models` fits it; '' for none"),
    batch_rows: int = typer.Option(200_000, "--batch-rows", min=1000, help="rows per scanned batch"),
    min_cell: int = typer.Option(10, "--min-cell", help="disclosure threshold of the printed degrees"),
    fmt: Format = typer.Option(Format.table, "--format"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="reduce the partitions on "
                                            "a Dask cluster: a scheduler address "
                                            "(tcp://host:8786), or 'local' for a local cluster "
                                            "of one worker per core"),
) -> None:
    """A wave larger than memory: validate, index and estimate it partition by partition.

    DuckDB scans the partitions in batches; each batch is validated and reduced to sufficient
    statistics, so memory stays bounded by the batch. Prints the degree by domain and, for
    --model, its OLS (weighted as the model is) with the fixed effect absorbed and CR1 SEs (the
    same estimates and SEs as ``ruralgov models``; a model whose SEs are not CR1 is refused).
    With --scheduler the partitions are reduced by the workers of a Dask cluster, which must see
    the folder at the same path; the results are the same.
    """
    import pandas as pd

    from analysis.estimation.stream import StreamModelError, model_ols, stream_wave
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.publishing.reliability import flag_means
    from analysis.settings import SettingsError, load_settings

    if not folder.is_dir() or not list(folder.glob("*.parquet")):
        err.print(f"[red]{escape(str(folder))}: not a folder of *.parquet partitions[/red]")
        raise typer.Exit(2)
    for option, given in (("--weight", weight), ("--strata", strata), ("--psu", psu)):
        if not given.strip():
            err.print(f"[red]{option} is empty: name the column of the design's {option[2:]}[/red]")
            raise typer.Exit(2)
    try:
        settings = load_settings()
    except SettingsError as e:
        _fail_settings(e)
    ols = None
    if model:
        spec = next((m for m in settings.models.models if m.name == model), None)
        try:
            if spec is None:
                raise ValueError("no such model in data/models.yml")
            ols = model_ols(spec, settings=settings)
        except ValueError as e:
            err.print(f"[red]--model {escape(repr(model))}: {escape(str(e))}[/red]")
            raise typer.Exit(2) from None
    design = {"weight": weight, "strata": strata, "psu": psu, "lonely_psu": lonely_psu.value,
              **({"fpc": fpc} if fpc else {})}
    col = DOMAIN_COLUMN[by]
    try:
        with _dask_client(scheduler) as client:
            res = stream_wave(folder, design, by=col, ols=ols, batch_rows=batch_rows,
                              progress=sys.stderr.isatty(), settings=settings, client=client)
    except StreamModelError as e:
        err.print(f"[red]--model {escape(repr(model))}: {escape(str(e))}[/red]")
        raise typer.Exit(2) from None
    except ValueError as e:
        err.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(1) from None
    rep = res["report"]
    for p in rep.problems[:50]:
        color = "red" if p.severity == "error" else "yellow"
        err.print(f"[{color}]{escape(str(p))}[/{color}]")
    if not rep.ok:
        err.print(f"[red]{escape(folder.name)}: {len(rep.errors)} error(s); nothing estimated[/red]")
        raise typer.Exit(1)
    deg = flag_means(DisclosurePolicy(min_cell=max(min_cell, 3)).apply(
        res["degree"].to_frame().drop(columns=["sum_w"])))          # † as `ruralgov index` marks it
    rows, parts = sum(rep.rows.values()), len(rep.rows)
    o = res["ols"]
    coef = None if o is None else pd.DataFrame({"term": ols["x"], "estimate": o["coef"], "se": o["se"]})
    if fmt is Format.json:                                # one document: the degree and the model
        _write_json({"degree": _records(deg), "model": None if coef is None else {
            "name": model, "fixed_effects": ols["fe"], "weights": ols["weights"] or None,
            "cluster": ols["cluster"], "n": o["n"], "clusters": o["clusters"], "k": o["k"],
            "coefficients": _records(coef)}})
        return
    _emit(deg, fmt, f"{folder.name}: modernization degree by {by.value} "
          f"({rows:,} row{'s' if rows != 1 else ''} in {parts} partition{'s' if parts != 1 else ''})")
    if coef is not None and fmt is Format.csv:            # one CSV holds one table
        err.print(f"[yellow]the CSV holds the degree by {by.value}; the coefficients of {escape(model)} "
                  "are in --format json or table[/yellow]")
    elif coef is not None:
        _emit(coef, fmt,
              f"{model}: {ols['fe']} effects absorbed, "
              f"{'weighted by ' + ols['weights'] if ols['weights'] else 'unweighted'}, "
              f"CR1 SEs clustered by {ols['cluster']} "
              f"(n = {o['n']:,}, {o['clusters']} clusters, K = {o['k']} counting every fixed-effect level)")


@app.command()
def build(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="default _build/<wave>"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="stream the full Sphinx log"),
    force: bool = typer.Option(False, "--force", help="rebuild even when nothing changed"),
    pdf: Optional[bool] = typer.Option(None, "--pdf/--no-pdf", help="print the PDF edition too "
                                       "(default: when Chromium is installed)"),
    compare: Optional[list[str]] = typer.Option(None, "--compare", help="further wave(s) to compare "
                                                "with WAVE on an extra page (repeatable); output "
                                                "_build/compare-<waves>/"),
    lang: str = typer.Option("all", "--lang", help="edition: en, zh (into <out>/zh/) or all"),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1,
                                       help="pages executed at once (default: the cores available)"),
) -> None:
    """Validate the wave, execute every page on it and build the HTML report (English and
    Chinese editions: the same pages and numbers).

    Pages are re-executed only when the wave, the codebook, data/*.yml, the package or the page
    changed; with nothing changed at all, nothing is rebuilt.
    """
    from analysis.report.build import build_book
    from analysis.i18n import LANGS

    langs = list(LANGS) if lang == "all" else [lang]
    if any(x not in LANGS for x in langs):
        typer.echo(f"--lang must be one of {', '.join(LANGS)} or all, not {lang!r}", err=True)
        raise typer.Exit(2)
    editions = tuple(langs) if len(langs) > 1 else None
    for x in langs:
        code = build_book(wave, out_dir, verbose=verbose, force=force, compare=compare or None,
                          pdf=pdf, lang=x, editions=editions, jobs=jobs)
        if code:
            raise typer.Exit(code)
    raise typer.Exit(0)


def main() -> None:
    """Console-script entry point: usage errors exit 2 (typer's default)."""
    app()


if __name__ == "__main__":
    main()
