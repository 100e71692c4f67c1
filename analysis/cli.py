"""The ``ruralgov`` command line: validate, replica, reproduce, index, sensitivity, models,
stream, build.

Exit codes: 0 success, 1 invalid data or a failed check, 2 usage error.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from analysis import paths

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


def _emit(df, fmt: Format, title: str = "") -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    fmt = Format(fmt)
    if fmt is Format.csv:
        sys.stdout.write(df.to_csv(index=False))
    elif fmt is Format.json:
        sys.stdout.write(df.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        t = Table(title=title, show_lines=False)
        for c in df.columns:
            t.add_column(str(c), overflow="fold")
        for r in df.itertuples(index=False):
            t.add_row(*["" if (isinstance(v, float) and pd.isna(v)) else
                        (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in r])
        out.print(t)


def _load(wave: str):  # type: ignore[no-untyped-def]
    from analysis.wave import WaveInvalid, load_wave

    try:
        return load_wave(wave)
    except WaveInvalid as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None


@app.command()
def validate(
    wave: str = typer.Argument(paths.DEFAULT_WAVE, help="wave id under data/waves/ or a folder"),
    report_csv: Optional[Path] = typer.Option(None, "--csv", help="also write the problems as CSV"),
    report_json: Optional[Path] = typer.Option(None, "--json", help="also write the report as JSON"),
) -> None:
    """Check a wave against the codebook and list every problem (file, row, column, rule)."""
    from analysis.validate import validate_wave

    report, data = validate_wave(wave)
    for target in (report_csv, report_json):
        if target is not None and paths.WAVES in target.resolve().parents:
            err.print("[red]refusing to write a report under data/waves/ (raw data are read-only)[/red]")
            raise typer.Exit(2)
    if report.problems:
        t = Table(title=f"wave {report.wave}: {len(report.errors)} error(s), "
                        f"{len(report.warnings)} warning(s)")
        for c in ("severity", "file", "row", "column", "rule", "message"):
            t.add_column(c, overflow="fold")
        for p in report.problems[:200]:
            color = "red" if p.severity == "error" else "yellow"
            t.add_row(f"[{color}]{p.severity}[/{color}]", p.file, "" if p.row is None else str(p.row),
                      p.column, p.rule, p.message)
        err.print(t)
        if len(report.problems) > 200:
            err.print(f"... {len(report.problems) - 200} more (use --csv/--json for all)")
    if report_csv:
        from analysis.tables import safe_csv

        safe_csv(report.to_frame(), report_csv)
    if report_json:
        report_json.write_text(report.to_json(), encoding="utf-8")
    if report.ok:
        rows = ", ".join(f"{q}: {n} rows" for q, n in report.rows.items())
        out.print(f"[green]wave {report.wave} is valid[/green] ({rows}; "
                  f"{len(report.warnings)} warning(s))")
        raise typer.Exit(0)
    raise typer.Exit(1)


@app.command()
def replica(
    seed: int = typer.Option(20200601, help="random seed (the default wave uses 20200601)"),
    out_dir: Path = typer.Option(..., "--out", help="output folder (the committed default wave "
                                 "is data/waves/2020-replica; regenerating it gives identical bytes)"),
    n: int = typer.Option(1160, help="villagers"),
    wave_id: Optional[str] = typer.Option(None, "--id", help="wave id (default: folder name)"),
    no_calibrate: bool = typer.Option(False, "--no-calibrate", help="pure latent model"),
) -> None:
    """Generate the calibrated synthetic replica wave (NOT the original survey data)."""
    from analysis.io import WAVE_ID
    from analysis.replica import is_replica_folder, write_wave

    wid = wave_id or out_dir.resolve().name
    if not WAVE_ID.match(wid) or wid != out_dir.resolve().name:
        err.print(f"[red]--out {out_dir}: a wave's folder is named by its id, a slug of a-z, 0-9, "
                  f"'.', '_', '-' (got {wid!r}); choose a folder such as data/waves/2024-replica[/red]")
        raise typer.Exit(2)
    if out_dir.exists() and (not out_dir.is_dir() or (any(out_dir.iterdir()) and not is_replica_folder(out_dir))):
        err.print(f"[red]--out {out_dir}: exists and is not an earlier replica wave; refusing to "
                  "overwrite it (choose a new or empty folder)[/red]")
        raise typer.Exit(2)
    hashes = write_wave(out_dir, seed=seed, wave_id=wid, n=n, calibrate=not no_calibrate)
    for name, h in hashes.items():
        out.print(f"{out_dir / name}  sha256 {h[:12]}")


@app.command()
def reproduce(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Every figure the seed paper published beside its reproduction; exit 1 if one is outside."""
    from analysis.reproduce import reproduce as _rep

    w = _load(wave)
    tab = _rep(w)
    cols = ["key", "published", "reproduced", "difference", "within_rounding", "se"]
    _emit(tab[cols] if fmt is Format.table else tab, fmt,
          f"wave {w.id}: published figures vs reproduction" + (" (SYNTHETIC REPLICA)" if w.synthetic else ""))
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
    scores: Optional[Path] = typer.Option(None, help="write respondent scores with design columns"),
    level: str = typer.Option("overall", help="index level (overall, a field or an aspect)"),
) -> None:
    """The modernization degree (design-based mean score, %) overall or by domain, with SEs."""
    from analysis.index import IndexConfig, build_index, degree, wave_design

    col = {None: None, By.region: "region3", By.region4: "region4", By.province: "province_en"}
    w = _load(wave)
    v = w.villagers
    res = build_index(v, IndexConfig.load(), codebook=w.codebook)
    est = degree(v, res, wave_design(v, w.design_columns), by=col[by], level=level)
    df = est.to_frame()
    df.insert(0, "level", level)
    _emit(df, fmt, f"wave {w.id}: modernization degree ({level})"
          + (" — SYNTHETIC REPLICA" if w.synthetic else ""))
    if scores is not None:
        if paths.WAVES in scores.resolve().parents:
            err.print("[red]refusing to write under data/waves/ (raw data are read-only)[/red]")
            raise typer.Exit(2)
        from analysis.tables import safe_csv

        keep = [c for c in (w.codebook.keys["villagers"], *[x for x in w.design_columns.values() if x],
                            "region3", "region4") if c in v]
        safe_csv(v[keep].join(res.scores), scores)


@app.command()
def sensitivity(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    draws: int = typer.Option(10_000, help="index evaluations (N (k + 2), k = 5 inputs)"),
    seed: int = typer.Option(20200601, help="seed of every random choice"),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """Uncertainty and sensitivity: construction choices × Rao–Wu bootstrap; Sobol indices."""
    from analysis.sensitivity import run_sensitivity

    if draws < 14:
        raise typer.BadParameter("--draws must be at least 14 (two per input block)")
    w = _load(wave)
    res = run_sensitivity(w, draws=draws, seed=seed, progress=sys.stderr.isatty())
    reg = res.region_summary().reset_index(names="quantity")
    ranks = res.rank_intervals().reset_index(names="province")
    if fmt is Format.json:
        import json

        sys.stdout.write(json.dumps({"wave": w.id, "synthetic": w.synthetic, "draws": draws,
                                     "seed": seed, "seconds": res.seconds,
                                     "regions": reg.to_dict("records"),
                                     "ranks": ranks.to_dict("records"),
                                     "sobol": res.sobol.to_dict("records")}, indent=2) + "\n")
        return
    if fmt is Format.csv:
        _emit(res.sobol, fmt)
        return
    tag = " — SYNTHETIC REPLICA" if w.synthetic else ""
    _emit(reg, fmt, f"wave {w.id}: scores across {draws} draws{tag}")
    _emit(ranks, fmt, "province ranks: median and 95 % interval")
    _emit(res.sobol, fmt, "Sobol indices (first order, total)")
    err.print(f"{draws} draws in {res.seconds:.2f} s (seed {seed})")


@app.command()
def models(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    model: Optional[list[str]] = typer.Option(None, "--model", help="model name (repeatable); default all"),
    fmt: ModelFormat = typer.Option(ModelFormat.table, "--format"),
) -> None:
    """Fit the determinant models of data/models.yml; tidy coefficients or a regression table."""
    from analysis.models import ModelSpecError, fit_models

    w = _load(wave)
    try:
        ms = fit_models(w, names=model or None)
    except ModelSpecError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    if fmt is ModelFormat.json:
        import json

        out_models = []
        for r in ms:
            tidy = r.to_frame().drop(columns="model")
            out_models.append({"name": r.name, "label": r.label, "family": r.family, "n": r.nobs,
                               "stats": {k: (v if not isinstance(v, float) else float(v)) for k, v in r.stats.items()},
                               "coefficients": tidy.to_dict("records"),
                               "tables": {k: t.to_dict("records") for k, t in r.tables.items()}})
        sys.stdout.write(json.dumps({"wave": w.id, "synthetic": w.synthetic, "models": out_models},
                                    indent=2, ensure_ascii=False, default=float) + "\n")
    elif fmt is ModelFormat.csv:
        sys.stdout.write(ms.to_frame().to_csv(index=False))
    elif fmt is ModelFormat.latex:
        sys.stdout.write(ms.to_latex())
    else:
        for r in ms:
            _emit(r.to_frame().drop(columns=["model", "term"]), Format.table,
                  f"{r.label} ({r.family}, n = {r.nobs})" + (" — SYNTHETIC REPLICA" if w.synthetic else ""))


@app.command()
def stream(
    folder: Path = typer.Argument(..., help="folder of Parquet partitions (part-*.parquet)"),
    weight: str = typer.Option("weight", help="design weight column"),
    strata: str = typer.Option("province", help="strata column"),
    psu: str = typer.Option("village_id", help="PSU column"),
    by: By = typer.Option(By.region, help="domain of the degree"),
    model: Optional[str] = typer.Option("wls_province", help="linear model of data/models.yml "
                                        "whose regressors, first fixed effect and cluster the "
                                        "streamed OLS uses; '' for none"),
    batch_rows: int = typer.Option(200_000, "--batch-rows", min=1000, help="rows per scanned batch"),
    fmt: Format = typer.Option(Format.table, "--format"),
) -> None:
    """A wave larger than memory: validate, index and estimate it partition by partition.

    DuckDB scans the partitions in batches; each batch is validated and reduced to sufficient
    statistics, so memory stays bounded by the batch. Prints the degree by domain and, for
    --model, weighted OLS with the fixed effect absorbed and clustered SEs.
    """
    import pandas as pd

    from analysis.models import load_specs
    from analysis.stream import stream_wave

    if not folder.is_dir() or not list(folder.glob("*.parquet")):
        err.print(f"[red]{folder}: not a folder of *.parquet partitions[/red]")
        raise typer.Exit(2)
    ols = None
    if model:
        spec = next((m for m in load_specs()["models"] if m["name"] == model), None)
        if spec is None or spec["family"] not in ("ols", "wls") or not spec.get("fixed_effects"):
            err.print(f"[red]--model {model!r}: not a linear model with a fixed effect in "
                      "data/models.yml[/red]")
            raise typer.Exit(2)
        fe = spec["fixed_effects"][0]
        ols = {"y": spec["outcome"], "x": list(spec["regressors"]), "fe": fe,
               "cluster": spec.get("cluster", fe), "weights": weight}
    design = {"weight": weight, "strata": strata, "psu": psu}
    col = {By.region: "region3", By.region4: "region4", By.province: "province_en"}[by]
    try:
        res = stream_wave(folder, design, by=col, ols=ols, batch_rows=batch_rows,
                          progress=sys.stderr.isatty())
    except ValueError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(1) from None
    rep = res["report"]
    for p in rep.problems[:50]:
        color = "red" if p.severity == "error" else "yellow"
        err.print(f"[{color}]{p}[/{color}]")
    if not rep.ok:
        err.print(f"[red]{folder.name}: {len(rep.errors)} error(s); nothing estimated[/red]")
        raise typer.Exit(1)
    _emit(res["degree"].to_frame(), fmt, f"{folder.name}: modernization degree by {by.value} "
          f"({sum(rep.rows.values()):,} rows in {len(rep.rows)} partitions)")
    if res["ols"] is not None:
        o = res["ols"]
        _emit(pd.DataFrame({"term": ols["x"], "estimate": o["coef"], "se": o["se"]}), fmt,
              f"{model}: {ols['fe']} effects absorbed, CR1 SEs clustered by {ols['cluster']} "
              f"(n = {o['n']:,}, {o['clusters']} clusters; a nested effect counts once in K, "
              "as reghdfe/pyfixest)")


@app.command()
def build(
    wave: str = typer.Argument(paths.DEFAULT_WAVE),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="default _build/<wave>"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="stream the full Sphinx log"),
    force: bool = typer.Option(False, "--force", help="rebuild even when nothing changed"),
    compare: Optional[list[str]] = typer.Option(None, "--compare", help="further wave(s) to compare "
                                                "with WAVE on an extra page (repeatable); output "
                                                "_build/compare-<waves>/"),
) -> None:
    """Validate the wave, execute every page on it and build the HTML report.

    Pages are re-executed only when the wave, the codebook, data/*.yml, the package or the page
    changed; with nothing changed at all, nothing is rebuilt.
    """
    from analysis.build import build_book

    raise typer.Exit(build_book(wave, out_dir, verbose=verbose, force=force, compare=compare or None))


def main() -> None:
    """Console-script entry point: usage errors exit 2 (typer's default)."""
    app()


if __name__ == "__main__":
    main()
