"""Provenance: which wave (SHA-256), code (git commit) and environment made each output."""

from __future__ import annotations

import hashlib
import subprocess
from functools import lru_cache
from importlib import metadata

from analysis import paths

PACKAGES = ("ruralgov", "numpy", "pandas", "scipy", "statsmodels", "linearmodels", "seaborn",
            "matplotlib", "pandera", "great-tables", "jupyter-book", "myst-nb", "sphinx")


@lru_cache(maxsize=1)
def git_commit() -> tuple[str, bool]:
    """Short commit of the project and whether the work tree differs from it ('unknown' outside git)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                                    capture_output=True, text=True, check=True).stdout.strip())
        return sha, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the results."""
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def file_sha256(path) -> str:  # type: ignore[no-untyped-def]
    """SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def config_hashes() -> dict[str, str]:
    """SHA-256 of the codebook and every configuration file under data/ and data/reference/."""
    files = [paths.CODEBOOK, *sorted(paths.DATA.glob("*.yml")), *sorted(paths.REFERENCE.glob("*.yml"))]
    return {str(f.relative_to(paths.ROOT)): file_sha256(f) for f in dict.fromkeys(files)}


def stamp(wave, page: str) -> str:  # type: ignore[no-untyped-def]
    """The caption line of every table and figure: wave (sha256), page, commit."""
    sha, dirty = git_commit()
    return f"wave {wave.id} (sha256 {wave.sha256[:12]}), page {page}, commit {sha}{'+dirty' if dirty else ''}"


def seeds() -> dict[str, object]:
    """Seed (and size) of every random procedure of the report, from data/index.yml and data/models.yml."""
    import yaml

    idx = yaml.safe_load(paths.INDEX_CONFIG.read_text(encoding="utf-8")).get("uncertainty", {})
    mod = yaml.safe_load((paths.DATA / "models.yml").read_text(encoding="utf-8"))
    out: dict[str, object] = {"sensitivity": {"draws": idx.get("draws"), "seed": idx.get("seed")},
                              "rank_bootstrap": {"reps": idx.get("bootstrap_reps"), "seed": idx.get("bootstrap_seed")}}
    for m in mod["models"]:
        if m.get("wild"):
            out[f"{m['name']}.wild"] = {"reps": m["wild"].get("reps"), "seed": m["wild"].get("seed")}
        if m.get("family") == "oaxaca":
            out[f"{m['name']}.bootstrap"] = {"reps": m.get("reps"), "seed": m.get("seed")}
    return out


def uncertainty_settings() -> dict[str, int]:
    """draws, seed, bootstrap_reps, bootstrap_seed of data/index.yml (defaults if absent)."""
    import yaml

    u = yaml.safe_load(paths.INDEX_CONFIG.read_text(encoding="utf-8")).get("uncertainty", {}) or {}
    return {"draws": int(u.get("draws", 10_000)), "seed": int(u.get("seed", 20200601)),
            "bootstrap_reps": int(u.get("bootstrap_reps", 1000)),
            "bootstrap_seed": int(u.get("bootstrap_seed", 20200601))}
