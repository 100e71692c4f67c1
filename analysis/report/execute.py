"""Execute a build's pages side by side into its execution cache, before Sphinx reads them.

myst-nb executes the pages one after the other while Sphinx reads them, and most of a page's time
is its kernel starting and importing the package: on a machine with several cores that leaves
all but one idle. :func:`execute_pages` runs up to ``jobs`` kernels at once (one per page, as
myst-nb does, so a page never sees another's state), and stores each executed page in the
jupyter-cache folder the book reads, under the same key myst-nb computes (the page's code cells
and kernel). Sphinx then finds every page cached. A page that fails here is left out of the cache:
the book executes it again and reports its error as it does for any failing page. Kernels started
side by side can race for a port, and the loser dies before it answers: such a kernel is replaced
(up to :data:`KERNEL_STARTS` starts); one that never starts, or dies under a cell, is its page's
error, never the build's.

Results the pages share (the models, the sensitivity analysis) are computed once even when two
pages ask at the same time (:func:`analysis.report.context.cached` holds a lock per result).

Pages generated from one template (the province profiles: the same code with another province)
may share a kernel: a worker executes a group of them one after the other in one kernel, its
namespace emptied (``%reset -f``) and its record of warnings already shown cleared before each,
so that each page starts as in a fresh kernel with the package already imported (only IPython's
numbering of inputs goes on). Their outputs are those of a kernel per page (``tests/test_execute.py``
compares them); starting a kernel and importing the package is most of such a page's time.
"""

from __future__ import annotations

import multiprocessing
import os
import time
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


def page_execution(nb, timeout: int | None,  # type: ignore[no-untyped-def]
                   allow_errors: bool) -> tuple[int | None, bool]:
    """A page's cell timeout and whether its cells may raise, as myst-nb executes it: the page's
    own ``mystnb: {execution_timeout, execution_allow_errors}`` over the book's ``execute`` settings
    given, and the notebook's ``execution: {timeout, allow_errors}`` over both (jupyter-cache's
    ``meta_override``, which myst-nb sets)."""
    own = nb.metadata.get("mystnb") or {}
    meta = nb.metadata.get("execution") or {}
    t = meta.get("timeout", own.get("execution_timeout", timeout))
    errors = meta.get("allow_errors", own.get("execution_allow_errors", allow_errors))
    return (None if t is None else int(t)), bool(errors)      # null: no timeout, as nbclient takes it


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


def _execute(path: str, timeout: int, allow_errors: bool = False) -> list[tuple[str, object, float, str | None]]:
    """Execute one page in a fresh kernel, in its folder (as myst-nb does): [(path, executed
    notebook, seconds, error or None)], a list as :func:`_execute_shared` returns. A kernel that
    dies before it answers is replaced (:data:`KERNEL_STARTS`)."""
    from jupyter_cache.executors.utils import single_nb_execution

    if _LOGGING:
        print(f"{path}: Executing notebook ahead", flush=True)      # into the build log
    for attempt in range(1, KERNEL_STARTS + 1):
        nb = read_page(Path(path))
        page_timeout, page_errors = page_execution(nb, timeout, allow_errors)
        started: list[bool] = []                  # filled once the kernel answers

        def answered(notebook, started=started) -> None:  # type: ignore[no-untyped-def]
            started.append(True)

        t0 = time.perf_counter()
        try:
            result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=page_timeout,
                                         allow_errors=page_errors, meta_override=True,
                                         on_notebook_start=answered)
        except Exception as e:                    # its kernel did not start, or died under a cell
            if _start_again(path, e, bool(started), attempt):
                continue
            return [(path, nb, time.perf_counter() - t0, _error_line(e))]
        # a cell's own exception, not nbclient's wrapper
        return [(path, nb, result.time, None if result.err is None else _error_line(result.err))]
    raise AssertionError("unreachable: the last attempt returns")


KERNEL_STARTS = 3
"""Kernels started for a page before its start-up failure is its error. Kernels started side by
side can race for a free port (each process picks its own, then the kernel binds it), and the one
that loses dies before it answers; another kernel gets other ports."""


def _start_again(path: str, err: BaseException, answered: bool, attempt: int) -> bool:
    """Whether a page whose run raised ``err`` gets another kernel: only when its kernel never
    answered and fewer than :data:`KERNEL_STARTS` were started (said in the build log)."""
    if answered or attempt >= KERNEL_STARTS:
        return False
    if _LOGGING:
        print(f"{path}: its kernel died before it answered ({_error_line(err)}); starting another",
              flush=True)
    return True


RESET = ("get_ipython().run_line_magic('reset', '-f')\n"
         "import warnings as _w\n"
         "_w._filters_mutated()   # warnings shown by the last page show again\n"
         "del _w")
"""Run in a shared kernel before each page: an empty namespace, no memory of warnings shown."""
SHARED_GROUP = 8
"""Pages executed one after the other in one shared kernel (a group is one task of the pool)."""


def _error_line(err: BaseException) -> str:
    name, value = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
    return f"{name}: {value}".splitlines()[0]


def _execute_shared(paths: list[str], timeout: int, allow_errors: bool = False
                    ) -> list[tuple[str, object, float, str | None]]:
    """Execute pages of one folder one after the other in one kernel (see the module's notes):
    [(path, executed notebook, seconds, error or None)] in the order given."""
    import asyncio

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    loop = asyncio.new_event_loop()
    km = None
    out: list[tuple[str, object, float, str | None]] = []
    try:
        for path in paths:
            if _LOGGING:
                print(f"{path}: Executing notebook ahead (shared kernel)", flush=True)
            for attempt in range(1, KERNEL_STARTS + 1):
                nb = read_page(Path(path))
                page_timeout, page_errors = page_execution(nb, timeout, allow_errors)
                if km is None:              # the page's kernel (its kernelspec), started by the first client
                    km = NotebookClient(nb).create_kernel_manager()
                client = NotebookClient(nb, km=km, timeout=page_timeout, allow_errors=page_errors,
                                        record_timing=False,    # no timestamps: the cache key reads cells
                                        resources={"metadata": {"path": str(Path(path).parent)}})
                started: list[bool] = []

                async def reset(notebook, client=client,  # type: ignore[no-untyped-def]
                                started=started) -> None:
                    started.append(True)
                    await client.async_wait_for_reply(client.kc.execute(RESET, silent=True,
                                                                        store_history=False))

                client.on_notebook_start = reset
                t0 = time.perf_counter()
                err: str | None = None
                try:
                    loop.run_until_complete(client.async_execute(cwd=str(Path(path).parent)))
                except CellExecutionError as e:
                    err = _error_line(e)
                except CellTimeoutError as e:   # the cell may still be running: the next page of
                    err = _error_line(e)        # the group gets a kernel of its own, not a busy one
                    loop.run_until_complete(_shutdown(km))
                    km = None
                except Exception as e:          # the kernel did not start, or died under a cell: the
                    loop.run_until_complete(_shutdown(km))  # next page (or attempt) starts another
                    km = None
                    if _start_again(path, e, bool(started), attempt):
                        continue
                    err = _error_line(e)
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()
                out.append((path, nb, time.perf_counter() - t0, err))
                break
    finally:
        if km is not None:
            loop.run_until_complete(_shutdown(km))
        loop.close()
    return out


async def _shutdown(km) -> None:  # type: ignore[no-untyped-def]
    """Stop a shared kernel, alive or dead."""
    if km.has_kernel:
        await km.shutdown_kernel(now=True)


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
                  timeout: int = TIMEOUT, log: Path | None = None,
                  shared: frozenset[str] = frozenset(), allow_errors: bool = False
                  ) -> dict[str, tuple[float, str | None]]:
    """Execute the pages of ``sources`` (name → MyST file with code; :func:`pending_pages` gives
    those not yet in the cache at ``cache_path``), ``jobs`` at a time, each kernel in the
    environment ``env``; store those that succeed in the cache.

    Returns page → (seconds, None) or (seconds, the error's first line); ``progress(page, error)``
    is called as each page ends. Pages are started in the order given (the book's order), after
    ``shared``: pages of one template that may share a kernel, in groups of :data:`SHARED_GROUP`
    pages of the same folder. With ``log``, each page's start and end and whatever the workers
    and kernels print are appended to it as they happen. ``timeout`` and ``allow_errors`` are
    the book's ``execute`` settings; a page's own front matter overrides them
    (:func:`page_execution`).
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
        # the groups of shared pages first: they are the longest tasks, and shorter pages after
        # them fill the workers evenly to the end (longest tasks first)
        folders: dict[Path, list[str]] = {}
        for page, p in sources.items():
            if page in shared:
                folders.setdefault(p.parent, []).append(str(p))
        running = {pool.submit(_execute_shared, group[i:i + SHARED_GROUP], timeout, allow_errors)
                   for group in folders.values() for i in range(0, len(group), SHARED_GROUP)}
        running |= {pool.submit(_execute, str(p), timeout, allow_errors)
                    for page, p in sources.items() if page not in shared}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for path, nb, seconds, error in (r for fut in done for r in fut.result()):  # a page, or a group
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

