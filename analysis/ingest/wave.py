"""A validated survey wave: spec, clean data per questionnaire, validation report, file hashes.

Example
-------
>>> from analysis.ingest.wave import load_wave
>>> w = load_wave("2020-replica")
>>> w.synthetic, w.villagers.shape[0], w.institutions.shape[0]
(True, 1160, 33)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.ingest.codebook import Codebook, load_codebook
from analysis.ingest.readers import WaveSpec, load_spec, sha256_file
from analysis.ingest.validate import ValidationReport, validate_wave


class WaveInvalid(Exception):
    """The wave has validation errors; ``.report`` lists them all."""

    def __init__(self, report: ValidationReport, folder: str | Path | None = None) -> None:
        n = len(report.errors)
        first = "\n".join(f"  {p}" for p in report.errors[:5])
        more = f"\n  ... and {n - 5} more" if n > 5 else ""
        super().__init__(f"wave {report.wave!r} is invalid: {n} error(s)\n{first}{more}\n"
                         f"(run `ruralgov validate {validate_argument(report.wave, folder)}` for the full "
                         "report)")
        self.report = report


def validate_argument(wave: str, folder: str | Path | None) -> str:
    """How ``ruralgov validate`` names a wave's folder: its id when it lies in ``data/waves/``,
    else its path (quoted for a shell where it needs to be)."""
    import shlex

    if folder is None:
        return shlex.quote(wave)
    if Path(folder).resolve().parent == paths.WAVES.resolve():
        return shlex.quote(Path(folder).name)
    return shlex.quote(str(folder))


@dataclass(frozen=True, eq=False)
class Wave:
    """A wave that passed validation."""

    spec: WaveSpec
    """The parsed wave.yml."""
    data: dict[str, pd.DataFrame]
    """Clean data of each questionnaire."""
    report: ValidationReport
    """Its validation report (warnings only)."""
    codebook: Codebook
    """The codebook it was validated against."""

    @property
    def id(self) -> str:
        """Wave id."""
        return self.spec.id

    @property
    def synthetic(self) -> bool:
        """True for a synthetic wave (the calibrated replica): its estimates are illustrations."""
        return self.spec.synthetic

    @property
    def replica_kind(self) -> str | None:
        """How a synthetic wave was made, as its ``wave.yml`` states it (``generator``):
        ``"calibrated"`` or ``"uncalibrated"`` for this package's replica (``module:
        analysis.replica`` with ``calibrated: true`` or ``false``); ``"other"`` for any other
        synthetic wave (another generator, none named, or its calibration not stated); None for a
        wave of observed microdata. Pages say a wave is calibrated only when its wave.yml says so."""
        if not self.synthetic:
            return None
        st = self.spec.settings
        gen = (st.generator if st is not None else {}) or {}
        if gen.get("module") != "analysis.replica" or not isinstance(gen.get("calibrated"), bool):
            return "other"
        return "calibrated" if gen["calibrated"] else "uncalibrated"

    @property
    def villagers(self) -> pd.DataFrame:
        """Clean villager questionnaire: a new frame whose changes never reach the wave (pandas'
        copy-on-write: the data are copied only when written, not on every access)."""
        return self.data["villagers"].copy(deep=False)

    @property
    def institutions(self) -> pd.DataFrame | None:
        """Clean institution questionnaire, or None when the wave has none."""
        d = self.data.get("institutions")
        return None if d is None else d.copy(deep=False)

    @property
    def files(self) -> dict[str, str]:
        """Data file name → SHA-256."""
        return dict(self.report.files)

    @property
    def file_hashes(self) -> dict[str, str]:
        """wave.yml and every data file → the SHA-256 of its bytes (as the appendix and the manifest
        list them; ``sha256sum`` gives the same)."""
        return {"wave.yml": sha256_file(self.spec.folder / "wave.yml"), **self.report.files}

    @property
    def sha256(self) -> str:
        """One SHA-256 over wave.yml and every data file (names and hashes, sorted)."""
        h = hashlib.sha256()
        h.update((self.spec.folder / "wave.yml").read_bytes())
        for name, sha in sorted(self.report.files.items()):
            h.update(f"{name}:{sha}\n".encode())
        return h.hexdigest()

    @property
    def design_columns(self) -> dict[str, str | None]:
        """Design columns (weight, strata, psu, fpc) of the villager questionnaire."""
        return dict(self.spec.design)

    @property
    def bootstrap_units(self) -> str | None:
        """The column whose ids name the units a bootstrap of the design resamples: the design's
        PSU, else each respondent's id (the codebook's ``id`` item), so that a seed gives each unit
        its draws whatever the order of the rows; None when the villagers hold neither."""
        return self.spec.design.get("psu") or self.respondent_id

    @property
    def respondent_id(self) -> str | None:
        """The villagers' column of respondent ids (the codebook's ``id`` item; validation has
        checked they are unique), None when the wave has none."""
        ids = [it.id for it in self.codebook.items("villagers") if it.type == "id"]
        return next((c for c in ids if c in self.data["villagers"]), None)


def _stamp(folder: Path) -> tuple:
    """Each file under the wave's folder, subfolders too (wave.yml may name ``raw/villagers.csv``):
    its path, modification time and size."""
    return tuple(sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns, p.stat().st_size)
                        for p in folder.rglob("*") if p.is_file()))


@lru_cache(maxsize=8)
def _load_cached(folder: str, _stamp: tuple, _cb: str) -> Wave:
    cb = load_codebook()
    report, data = validate_wave(folder, cb)
    if not report.ok:
        raise WaveInvalid(report, folder)
    return Wave(load_spec(folder), data, report, cb)


def load_wave(wave: str | Path | None = None) -> Wave:
    """Load and validate a wave by id or path (default: ``$RURALGOV_WAVE`` or the default wave).

    Raises
    ------
    WaveInvalid
        When validation finds an error; the report is attached.
    """
    folder = paths.wave_dir(wave or paths.current_wave())
    if not folder.is_dir():
        report, _ = validate_wave(folder)
        raise WaveInvalid(report, folder)
    return _load_cached(str(folder), _stamp(folder), load_codebook().sha256)
