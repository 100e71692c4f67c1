"""Build the report for one wave: validate, execute every page on it, compile HTML.

The wave reaches the pages through ``$RURALGOV_WAVE``.  Execution results are cached by
jupyter-cache in a folder whose name hashes the wave's files, the codebook, ``data/*.yml`` and
the ``analysis`` package, so a change to any of them re-executes the pages (a change to a code
cell does so anyway).  The build runs into a temporary folder and replaces ``_build/<wave>/``
only when it succeeds: a failed build leaves the previous report in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from rich.console import Console

from analysis import paths

err = Console(stderr=True)


def inputs_hash(wave_folder: Path) -> str:
    """SHA-256 over everything the pages read besides their own cells."""
    h = hashlib.sha256()
    files = [*sorted(wave_folder.iterdir()), paths.CODEBOOK, *sorted(paths.DATA.glob("*.yml")),
             *sorted(paths.REFERENCE.glob("*")), *sorted((paths.ROOT / "analysis").glob("*.py"))]
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def build_book(wave: str, out_dir: Path | None = None) -> int:
    """Build the HTML report of ``wave`` into ``out_dir`` (default ``_build/<wave>``); exit code."""
    from analysis.validate import validate_wave

    report, _ = validate_wave(wave)
    if not report.ok:
        for p in report.errors[:20]:
            err.print(f"[red]{p}[/red]")
        err.print(f"[red]wave {report.wave} is invalid: {len(report.errors)} error(s); "
                  "nothing was built[/red]")
        return 1
    folder = paths.wave_dir(wave)
    wave_id = report.wave
    target = (out_dir or paths.BUILD / wave_id).resolve()
    if paths.WAVES.resolve() in target.parents:
        err.print("[red]refusing to build under data/waves/ (raw data are read-only)[/red]")
        return 2
    paths.BUILD.mkdir(exist_ok=True)
    from analysis.assets import ensure_mathjax

    if not ensure_mathjax():
        err.print("[red]MathJax is missing and could not be fetched from the npm registry; "
                  "formulas would need a CDN. Connect once, or copy _mathjax/ from another checkout.[/red]")
        return 1
    key = inputs_hash(folder)[:16]
    cfg = yaml.safe_load((paths.ROOT / "_config.yml").read_text(encoding="utf-8"))
    cache = paths.BUILD / ".jupyter_cache" / f"{wave_id}-{key}"
    cfg.setdefault("execute", {})["cache"] = str(cache)   # jupyter-book maps execute.cache → nb_execution_cache_path
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{wave_id}-", dir=paths.BUILD))
    cfg_file = tmp / "_config.yml"
    cfg_file.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {**os.environ, paths.WAVE_ENV: str(folder), "PYTHONHASHSEED": "0"}
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(paths.ROOT),
           "--config", str(cfg_file), "--toc", str(paths.ROOT / "_toc.yml"),
           "--path-output", str(tmp), "-W", "-n", "--keep-going", "--all"]
    err.print(f"building wave {wave_id} (inputs {key}) …")
    proc = subprocess.run(cmd, env=env, cwd=paths.ROOT)
    html = tmp / "_build" / "html"
    if proc.returncode != 0 or not (html / "index.html").exists():
        reports = tmp / "_build" / "html" / "reports"
        if reports.exists():
            for r in sorted(reports.glob("*.err.log")):
                err.print(f"[red]page failed: {r.stem.removesuffix('.err')} — see {r}[/red]")
        err.print(f"[red]build failed (exit {proc.returncode}); previous report, if any, kept "
                  f"in {target}; logs in {tmp}[/red]")
        return 1
    final = tmp / "final"
    final.mkdir()
    shutil.move(str(html), final / "html")
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        target.rename(old)
    final.rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    err.print(f"[green]report: {target / 'html' / 'index.html'}[/green]")
    return 0
