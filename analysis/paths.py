"""Every path of the project, anchored at the project root.

Jupyter Book executes each page in its own folder, so a relative path in a page is a bug: pages,
the CLI and the tests take their paths from here.  ``RURALGOV_ROOT`` overrides the root (used by
tests that work on a copy of the project).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT: Path = Path(os.environ.get("RURALGOV_ROOT") or Path(__file__).resolve().parent.parent).resolve()
"""The project root: the folder that holds ``_config.yml`` (``RURALGOV_ROOT`` unset or empty: this
package's checkout; a relative one is taken from the working folder, once, at import)."""

DATA: Path = ROOT / "data"
WAVES: Path = DATA / "waves"
EXTERNAL: Path = DATA / "external"
REFERENCE: Path = DATA / "reference"
CODEBOOK: Path = DATA / "codebook.yml"
INDEX_CONFIG: Path = DATA / "index.yml"
MODELS_CONFIG: Path = DATA / "models.yml"
PROVINCES_CSV: Path = EXTERNAL / "provinces" / "provinces.csv"
PUBLISHED_FIGURES: Path = REFERENCE / "published-figures.yml"
BOOK: Path = ROOT / "book"
BUILD: Path = ROOT / "_build"

DEFAULT_WAVE = "2020-replica"
"""The embedded default wave: a synthetic replica, never the original microdata."""

COMPARE_ENV = "RURALGOV_COMPARE"
"""Environment variable listing further waves for the comparison page (a JSON list of folders, or
folders joined by the path separator)."""

WAVE_ENV = "RURALGOV_WAVE"
"""Environment variable through which ``ruralgov build`` tells the pages which wave to read."""


def wave_dir(wave: str | os.PathLike[str]) -> Path:
    """Folder of a wave named by its id under ``data/waves/`` or by a path to its folder. A bare
    name that is a wave of ``data/waves/`` is that wave, whatever folder of that name the working
    folder holds (``./2020-replica`` names the other). A path is made absolute, not resolved: a
    wave folder that is a link is named as the link is, whether by id or by path."""
    p = Path(wave)
    if isinstance(wave, str) and p.name == wave != ".." and (WAVES / wave).is_dir():
        return WAVES / wave
    if p.is_dir():
        return Path(os.path.abspath(p))
    return WAVES / str(wave)


def current_wave() -> str:
    """The wave the pages should read: ``$RURALGOV_WAVE`` or (unset or empty) the default wave."""
    return os.environ.get(WAVE_ENV) or DEFAULT_WAVE
