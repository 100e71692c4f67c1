"""What a page kernel reports: the build's scored study, and results computed once per build.

``ruralgov build`` validates and scores the wave once, stores the :class:`Study` in the build's
cache under the hash of its inputs and tells every page kernel where it is (``$RURALGOV_STUDY``);
heavy results (the models, the sensitivity analysis, the rank bootstrap) are computed by the first
page that needs them and stored beside it (``$RURALGOV_CACHE``), so no page recomputes what
another computed. Outside a build (a page run by hand) the study is built from
``$RURALGOV_WAVE`` or the default wave, and results are kept for the kernel's life.
"""

from __future__ import annotations

import copyreg
import dataclasses
import json
import os
import pickle
import tempfile
import types
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from analysis import paths
from analysis.estimation.study import Study, build_study

STUDY_ENV = "RURALGOV_STUDY"
"""Path of the pickled study of the build (set by ``ruralgov build``)."""
CACHE_ENV = "RURALGOV_CACHE"
"""Folder of results shared by the page kernels of a build."""

def _proxy(d: dict) -> types.MappingProxyType:
    """Rebuild a read-only mapping (results keep their tables in MappingProxyType)."""
    return types.MappingProxyType(d)


copyreg.pickle(types.MappingProxyType, lambda m: (_proxy, (dict(m),)))
_MEMO: dict[str, Any] = {}


def save_study(study: Study, folder: Path) -> Path:
    """Store a study for the page kernels (atomically); returns its path. It is written at every
    build, not kept from an earlier one: the key hashes the wave's contents, not where it lies, and
    the study of an earlier build of the same files holds that build's folder (which may since
    have been moved or deleted) for the pages that read the wave's files."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"study-{study.key[:16]}.pkl"
    _pickle_atomic(study, target)
    return target


def _pickle_atomic(value: Any, target: Path) -> None:
    """Pickle ``value`` into a temporary file beside ``target``, then rename it: never a half
    written file, and no temporary file left when pickling fails or is interrupted."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@lru_cache(maxsize=2)
def _load(path: str, _mtime: int) -> Study:
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - written by this build, under _build/


@lru_cache(maxsize=2)
def _build(wave: str) -> Study:
    return build_study(wave)


READS = ("models",)
"""Inputs a page reads only if it says so (``ruralgov: {reads: [models]}`` in its front matter):
a change to ``data/models.yml`` re-executes those pages and no other."""
_declared: tuple[str, ...] | None = None


class UndeclaredInput(RuntimeError):
    """A page read an input its front matter does not declare."""


class _Undeclared:
    """Stands in for settings a page did not declare: any use of them stops the page."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise self.refusal()

    def refusal(self) -> UndeclaredInput:
        return UndeclaredInput(
            f"this page reads {self._what} without declaring it: add `ruralgov: {{reads: [models]}}` to "
            "its front matter (between the --- lines), so that a change to the file re-executes it")


def page_inputs(reads: tuple[str, ...] = ()) -> None:
    """Called by the cell the build puts before a page's code: the inputs the page declares
    (of :data:`READS`); the study it then gets hides the others."""
    global _declared
    _declared = tuple(reads)


@lru_cache(maxsize=2)
def _hide(st: Study, reads: tuple[str, ...]) -> Study:
    if "models" in reads:
        return st
    settings = dataclasses.replace(st.settings, models=_Undeclared(str(paths.MODELS_CONFIG.relative_to(paths.ROOT))))
    return dataclasses.replace(st, settings=settings)


def study() -> Study:
    """The study the pages report (the build's, or one built from ``$RURALGOV_WAVE``); in a
    page of a build, without the inputs the page does not declare."""
    p = os.environ.get(STUDY_ENV)
    st = _load(p, Path(p).stat().st_mtime_ns) if p and Path(p).is_file() else _build(paths.current_wave())
    return st if _declared is None else _hide(st, _declared)


def cached(name: str, st: Study, compute: Callable[[], Any]) -> Any:
    """A result of the study computed once per build (stored in ``$RURALGOV_CACHE``).

    Pages executed side by side may ask for the same result at once: the first computes it
    while the others wait on a lock beside it, then load it."""
    key = f"{st.key[:16]}-{name}"
    if key in _MEMO:
        return _MEMO[key]
    folder = os.environ.get(CACHE_ENV)
    if not folder:                          # unset or empty (not the working folder): computed here
        value = compute()
    else:
        target = Path(folder) / f"{key}.pkl"
        target.parent.mkdir(parents=True, exist_ok=True)
        with _locked(target.with_suffix(".lock")):
            if target.is_file():
                with open(target, "rb") as fh:
                    value = pickle.load(fh)  # noqa: S301 - written by this build
            else:
                value = compute()
                _pickle_atomic(value, target)
    _MEMO[key] = value
    return value


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (none where ``fcntl`` is missing: a result
    may then be computed twice, never half-read, as it is written atomically)."""
    try:
        import fcntl
    except ImportError:                                # pragma: no cover - not POSIX
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def models(st: Study):  # type: ignore[no-untyped-def]
    """Every model of ``data/models.yml`` fitted on the study, once per build."""
    from analysis.estimation.suite import fit_models

    if isinstance(st.settings.models, _Undeclared):    # refused whether another page cached them or not
        raise st.settings.models.refusal()
    return cached("models", st, lambda: fit_models(st))


def sensitivity(st: Study):  # type: ignore[no-untyped-def]
    """The uncertainty and sensitivity analysis (draws and seed from ``data/index.yml``), once per
    build; its Sobol indices of the ranks are of the ranks among the publishable provinces, the
    ranks the page shows."""
    from analysis.estimation.sensitivity import run_sensitivity
    from analysis.report.pages import common

    return cached("sensitivity", st,
                  lambda: run_sensitivity(st, rank_among=common.published_province_names(st)))


def province_replicates(st: Study):  # type: ignore[no-untyped-def]
    """Rao–Wu bootstrap replicates of the province means (ranks come from them), once per build."""
    from analysis.estimation.sensitivity import domain_replicates

    return cached("province_replicates", st, lambda: domain_replicates(st))


def _compared() -> list[str]:
    """The folders of the waves a comparison build compares (``$RURALGOV_COMPARE``: a JSON list,
    as the build writes it, since a folder's name may hold the path separator; or, set by hand,
    folders joined by the path separator)."""
    value = os.environ.get(paths.COMPARE_ENV, "")
    if value.startswith("["):
        return [str(x) for x in json.loads(value) if x]
    return [x for x in value.split(os.pathsep) if x]


def compare_studies() -> list[Study]:
    """The studies of a comparison build (``$RURALGOV_COMPARE``), the report's wave first."""
    return [study(), *[_build(x) for x in _compared()]]


def compared_waves() -> list:  # type: ignore[type-arg]
    """The waves a comparison build compares, loaded and validated but not scored (what the
    manifest records of them: ids and hashes)."""
    from analysis.ingest.wave import load_wave

    return [load_wave(x) for x in _compared()]
