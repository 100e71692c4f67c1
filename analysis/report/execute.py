"""Execute a build's pages side by side into its execution cache, before Sphinx reads them.

myst-nb executes the pages one after the other while Sphinx reads them, and most of a page's time
is its kernel starting and importing the package: on a machine with several cores that leaves
all but one idle. :func:`execute_pages` runs up to ``jobs`` kernels at once (one per page, as
myst-nb does, so a page never sees another's state), and stores each executed page in the
jupyter-cache folder the book reads, under the same key myst-nb computes (the page's code cells
and kernel). Sphinx then finds every page cached. A page that fails here is left out of the cache:
the book executes it again and reports its error as it does for any failing page.

Results the pages share (the models, the sensitivity analysis) are computed once even when two
pages ask at the same time (:func:`analysis.report.context.cached` holds a lock per result).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Callable

TIMEOUT = 600
"""Seconds a cell may run (``execute.timeout`` of ``_config.yml`` for the book's own execution)."""


def read_page(path: Path):  # type: ignore[no-untyped-def]
    """The notebook of a MyST page as myst-nb reads it, or None for a page without code."""
    from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    text = path.read_text(encoding="utf-8")
    if not is_myst_markdown_notebook(text):
        return None
    return read_myst_markdown_notebook(text, config=MdParserConfig(), add_source_map=True, path=str(path))


_LOGGING = False
"""In a worker: whether its output goes to the build log."""


def _set_env(env: dict, log: str | None) -> None:
    os.environ.clear()
    os.environ.update(env)
    global _LOGGING
    if log is not None:                       # the kernels' own output (warnings) goes there too
        _LOGGING = True
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)


def _execute(path: str, timeout: int) -> tuple[str, object, float, str | None]:
    """Execute one page in a fresh kernel, in its folder (as myst-nb does): (path, executed
    notebook, seconds, error or None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    if _LOGGING:
        print(f"{path}: Executing notebook ahead", flush=True)      # into the build log
    nb = read_page(Path(path))
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False,
                                 meta_override=True)
    err = result.err
    if err is not None:                       # a cell's own exception, not nbclient's wrapper
        name, value = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
        err = f"{name}: {value}".splitlines()[0]
    return path, nb, result.time, err


def pending_pages(cache_path: Path, sources: dict[str, Path]) -> dict[str, Path]:
    """The pages of ``sources`` (name → MyST file) that have code and no executed copy in the cache."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    out = {}
    for page, path in sources.items():
        nb = read_page(path)
        if nb is None:
            continue
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            out[page] = path
    return out


def execute_pages(cache_path: Path, sources: dict[str, Path], env: dict, jobs: int,
                  progress: Callable[[str, str | None], None] | None = None,
                  timeout: int = TIMEOUT, log: Path | None = None) -> dict[str, tuple[float, str | None]]:
    """Execute the pages of ``sources`` (name → MyST file with code; :func:`pending_pages` gives
    those not yet in the cache at ``cache_path``), ``jobs`` at a time, each kernel in the
    environment ``env``; store those that succeed in the cache.

    Returns page → (seconds, None) or (seconds, the error's first line); ``progress(page, error)``
    is called as each page ends. Pages are started in the order given (the book's order). With
    ``log``, each page's start and end and whatever the workers and kernels print are appended
    to it as they happen.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    if not sources:
        return {}
    cache = get_cache(str(cache_path))
    names = {str(p): page for page, p in sources.items()}
    outcome: dict[str, tuple[float, str | None]] = {}
    ctx = multiprocessing.get_context("spawn")        # no fork of a process with threads
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(sources))), mp_context=ctx,
                             initializer=_set_env, initargs=(dict(env), None if log is None else str(log))) as pool:
        running = {pool.submit(_execute, str(p), timeout) for p in sources.values()}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                path, nb, seconds, error = fut.result()
                page = names[path]
                if error is None:
                    cache.cache_notebook_bundle(CacheBundleIn(nb, path, data={"execution_seconds": seconds}),
                                                check_validity=False, overwrite=True)
                outcome[page] = (seconds, error)
                if log is not None:
                    with open(log, "a", encoding="utf-8") as fh:
                        fh.write(f"{path}: Executed notebook in {seconds:.2f} seconds (ahead)\n" if error is None
                                 else f"{path}: failed ahead ({error}); executed again by the book\n")
                if progress is not None:
                    progress(page, error)
    return outcome


def default_jobs() -> int:
    """Kernels run at once by default: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                            # not on Linux
        return os.cpu_count() or 1

