"""Provenance: which data (a survey wave and its SHA-256, or official statistics), code (git
commit) and environment made each output — and the footer each table and figure carries.

A :class:`Source` knows what a table or figure is made of: the footer follows the source, not
the page (official statistics on a page of a synthetic wave say they are real data).

Example
-------
>>> from analysis.publishing.provenance import official_source
>>> src = official_source()
>>> src.synthetic, "official statistics" in src.label
(False, True)
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Literal

from analysis import paths
from analysis.i18n import N_, _

PACKAGES = ("ruralgov", "numpy", "pandas", "scipy", "statsmodels", "linearmodels", "seaborn",
            "matplotlib", "pandera", "pydantic", "great-tables", "jupyter-book", "myst-nb", "sphinx")

SYNTHETIC_NOTE = N_("Synthetic replica data: illustrates the method only.")
OFFICIAL_NOTE = N_("Real data: official statistics of the National Bureau of Statistics and provincial "
                   "budget accounts (sources and licences: Method and data notes).")


COMMIT_ENV = "RURALGOV_COMMIT"
"""The commit a build pins for its pages, footer and manifest ("<sha> dirty|clean|unknown"): every
page cites the commit the build started at, though the work tree may change while it runs."""


def git_commit() -> tuple[str, bool | None]:
    """Short commit of the project (``paths.ROOT``) and whether the work tree differs from it;
    outside git ('unknown', None): neither the commit nor the state of the code is known, and
    nothing says clean. Asked of git once per project folder (``git_commit.cache_clear()``
    forgets the answers); within a build, the commit it pinned (:data:`COMMIT_ENV`)."""
    pinned = os.environ.get(COMMIT_ENV, "")
    if pinned:
        sha, _sep, state = pinned.partition(" ")
        return sha, {"dirty": True, "clean": False}.get(state)
    return _git_commit(paths.ROOT)


def pinned_commit() -> str:
    """This process's commit and state as :data:`COMMIT_ENV` carries them to a build's pages."""
    sha, dirty = git_commit()
    return f"{sha} {'unknown' if dirty is None else 'dirty' if dirty else 'clean'}"


@lru_cache(maxsize=4)
def _git_commit(root: Path) -> tuple[str, bool | None]:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                    capture_output=True, text=True, check=True).stdout.strip())
        return sha, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", None


git_commit.cache_clear = _git_commit.cache_clear  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def commit_year() -> int:
    """The year of the project's commit (the report's year of publication); this year outside git."""
    from datetime import date

    try:
        return int(subprocess.run(["git", "log", "-1", "--format=%cd", "--date=format:%Y"], cwd=paths.ROOT,
                                  capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return date.today().year


def build_time() -> str:
    """The build's time in UTC, to the second: ``SOURCE_DATE_EPOCH`` when set (the reproducible-builds
    convention: ASCII digits, seconds since 1970-01-01 UTC; two builds of one commit then record
    the same time), else now."""
    import os
    import re
    from datetime import datetime, timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            if not re.fullmatch(r"[0-9]+", epoch):
                raise ValueError(epoch)
            return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec="seconds")
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r}: not a whole number of seconds "
                             "since 1970") from None
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def commit_label() -> str:
    """The commit as footers show it (``+dirty`` when the work tree differs)."""
    sha, dirty = git_commit()
    return f"{sha}{'+dirty' if dirty else ''}"


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


@dataclass(frozen=True)
class Source:
    """What a table or figure is made of, and the footer that says so."""

    kind: Literal["survey", "official", "survey+official", "method"]
    """A survey wave, official statistics, both, or the method itself (settings, no data)."""
    label: str
    """The data named as a reader sees it."""
    synthetic: bool = False
    """True when the survey wave is synthetic."""

    def notes(self, page: str = "") -> list[str]:
        """The footer lines: a synthetic or real-data note, then the provenance line."""
        out = []
        if self.synthetic and "survey" in self.kind:
            out.append(_(SYNTHETIC_NOTE))
        if "official" in self.kind:
            out.append(_(OFFICIAL_NOTE))
        where = _(", page {page}").format(page=page) if page else ""
        out.append(_("{source}{where}, commit {commit}").format(source=self.label, where=where, commit=commit_label()))
        return out

    def stamp(self, page: str = "") -> str:
        """The provenance line alone (figure captions)."""
        return self.notes(page)[-1]


def survey_source(wave) -> Source:  # type: ignore[no-untyped-def]
    """The source of a table computed from a survey wave."""
    return Source("survey", _("wave {id} (sha256 {sha})").format(id=wave.id, sha=wave.sha256[:12]), bool(wave.synthetic))


def waves_source(waves: list) -> Source:  # type: ignore[type-arg]
    """The source of a table computed from several survey waves (the comparison page), each named
    with its SHA-256; synthetic if any of them is."""
    from analysis.i18n import list_sep

    named = list_sep().join(_("{id} (sha256 {sha})").format(id=w.id, sha=w.sha256[:12]) for w in waves)
    return Source("survey", _("waves {waves}").format(waves=named), any(bool(w.synthetic) for w in waves))


def official_source() -> Source:
    """The source of a table computed from the official province panel."""
    return Source("official", _("official statistics (NBS province panel 2005–2024)"))


def mixed_source(wave) -> Source:  # type: ignore[no-untyped-def]
    """A survey wave joined with official statistics (the multilevel model's covariates)."""
    return Source("survey+official", _("wave {id} (sha256 {sha}) and official statistics").format(id=wave.id, sha=wave.sha256[:12]),
                  bool(wave.synthetic))


def seeds(settings, *, compare: bool = False) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Seed (and size) of every random procedure of the report (``data/index.yml``, ``data/models.yml``,
    and the defaults the pages run the multiple imputation and the panel's wild bootstrap with);
    with ``compare``, also the wild bootstrap of the comparison page's survey panel."""
    u = settings.index.uncertainty
    out: dict[str, object] = {"sensitivity": {"draws": u.draws, "seed": u.seed},
                              "rank_bootstrap": {"reps": u.bootstrap_reps, "seed": u.bootstrap_seed}}
    for m in settings.models.models:
        if m.wild is not None:
            out[f"{m.name}.wild"] = {"reps": m.wild.reps, "seed": m.wild.seed}
        if m.family == "oaxaca":
            out[f"{m.name}.bootstrap"] = {"reps": m.reps, "seed": m.seed}
    # the procedures the pages run with their functions' own settings: the multiple imputation of
    # the determinants page, the panel's wild bootstrap on the provinces and comparison pages
    from inspect import signature

    from analysis.estimation.panel import SURVEY_PANEL_WILD_REPS, panel_regressions
    from analysis.estimation.suite import multiple_imputation

    mi = {k: p.default for k, p in signature(multiple_imputation).parameters.items()}
    out["multiple_imputation"] = {"model": mi["model"], "imputations": mi["imputations"],
                                  "burn_in": mi["burn_in"], "seed": mi["seed"]}
    pw = {k: p.default for k, p in signature(panel_regressions).parameters.items()}
    out["panel.wild"] = {"reps": pw["wild_reps"], "seed": pw["seed"]}
    if compare:
        out["compare.panel.wild"] = {"reps": SURVEY_PANEL_WILD_REPS, "seed": pw["seed"]}
    return out
