"""Settings, read once and checked: the project's configuration files as typed, frozen objects.

``load_settings()`` reads ``data/codebook.yml``, ``data/index.yml``, ``data/models.yml`` and
``data/reference/*.yml``; ``load_wave_settings(folder)`` reads a wave's ``wave.yml``. Every file
is validated on load: duplicate keys, unknown keys, wrong types and values outside their option
set are errors naming the file, the key path, the value, the allowed values and the closest
match. No other module of the package opens a YAML file.

Example
-------
>>> from analysis.settings import load_settings
>>> s = load_settings()
>>> s.index.normalisation, s.models.get("wls_region").se_kind
('minmax', 'cr1')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from analysis import paths
from analysis.settings.loader import (SettingsError, SettingsProblem, display_path, dump_yaml,
                                      parse_yaml, read_yaml, validate)
from analysis.settings.schemas import (CodebookFile, IndexSettings, ModelSpec, ModelsSettings,
                                       ReproductionSettings, WaveSettings)

__all__ = ["Settings", "SettingsError", "SettingsProblem", "load_settings", "load_wave_settings",
           "read_yaml", "dump_yaml", "parse_yaml", "display_path", "IndexSettings", "ModelsSettings",
           "ModelSpec", "WaveSettings", "ReproductionSettings", "CodebookFile"]


@dataclass(frozen=True, eq=False)
class Settings:
    """The project's settings: codebook, index construction, models, published figures."""

    codebook: dict[str, Any]
    """``data/codebook.yml`` as checked plain data (built into a Codebook by the ingest layer)."""
    index: IndexSettings
    """``data/index.yml``."""
    models: ModelsSettings
    """``data/models.yml``."""
    reproduction: ReproductionSettings
    """``data/reference/reproduction.yml``."""
    published: dict[str, Any]
    """``data/reference/published-figures.yml``: the seed paper's figures."""
    sha256: dict[str, str]
    """File (relative to the project root) → SHA-256 of its bytes."""

    @property
    def key(self) -> str:
        """One hash over every settings file."""
        return hashlib.sha256("".join(f"{k}:{v}" for k, v in sorted(self.sha256.items())).encode()).hexdigest()

    def published_value(self, key: str) -> float:
        """A published figure by its dotted key (``modernization_degree.east``)."""
        node: Any = self.published
        for part in key.split("."):
            node = node[part]
        return float(node["value"] if isinstance(node, dict) else node)


def settings_files() -> list[Path]:
    """The settings files, in load order."""
    return [paths.CODEBOOK, paths.INDEX_CONFIG, paths.MODELS_CONFIG, paths.REFERENCE / "reproduction.yml",
            paths.PUBLISHED_FIGURES]


def _stamp() -> tuple:
    out = []
    for f in settings_files():
        try:
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(f), 0, 0))
    return tuple(out)


def load_settings() -> Settings:
    """Read and check every settings file (cached while the files are unchanged).

    Raises
    ------
    SettingsError
        With one problem per broken rule, across all files.
    """
    return _load(_stamp())


def _read(path: Path) -> tuple[Any, str]:
    data = path.read_bytes()
    return read_yaml(path), hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=4)
def _load(_stamp_: tuple) -> Settings:
    problems: list[SettingsProblem] = []
    out: dict[str, Any] = {}
    sha: dict[str, str] = {}
    for name, path, model in (("codebook", paths.CODEBOOK, CodebookFile),
                              ("index", paths.INDEX_CONFIG, IndexSettings),
                              ("models", paths.MODELS_CONFIG, ModelsSettings),
                              ("reproduction", paths.REFERENCE / "reproduction.yml", ReproductionSettings),
                              ("published", paths.PUBLISHED_FIGURES, None)):
        try:
            raw, digest = _read(path)
            sha[display_path(path)] = digest
            if raw is None:
                raw = {}
            if model is None:
                if not isinstance(raw, dict):
                    raise SettingsError([SettingsProblem(display_path(path), "", "expected a mapping")])
                out[name] = raw
            else:
                obj = validate(model, raw, display_path(path))
                out[name] = raw if name == "codebook" else obj
        except SettingsError as e:
            problems += e.problems
        except OSError as e:
            problems.append(SettingsProblem(display_path(path), "", f"cannot be read ({e.strerror})"))
    if problems:
        raise SettingsError(problems)
    s = Settings(out["codebook"], out["index"], out["models"], out["reproduction"], out["published"], sha)
    _cross_checks(s)
    return s


def _cross_checks(s: Settings) -> None:
    """Rules that span files: index fields and targets name codebook fields and items (a target
    on its item's scale)."""
    fields = set(s.codebook["fields"])
    problems = []
    idx_file = display_path(paths.INDEX_CONFIG)
    for f in s.index.expert.fields:
        if f not in fields:
            problems.append(SettingsProblem(idx_file, f"expert.fields.{f}",
                                            f"unknown field; fields: {', '.join(sorted(fields))}"))
    if s.index.ahp.order and set(s.index.ahp.order) != fields:
        problems.append(SettingsProblem(idx_file, "ahp.order", f"must list the fields {', '.join(sorted(fields))}"))
    elif s.index.ahp.matrix:
        problems += _ahp_problems(s, idx_file)
    problems += _expert_indicator_problems(s, idx_file)
    problems += _target_problems(s, idx_file)
    pub = s.published
    rep_file = display_path(paths.REFERENCE / "reproduction.yml")
    for fig in s.reproduction.figures:
        node: Any = pub
        for part in fig.key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            problems.append(SettingsProblem(rep_file, f"figures.{fig.key}", "no such figure in published-figures.yml"))
    if problems:
        raise SettingsError(problems)


def _ahp_problems(s: Settings, idx_file: str) -> list[SettingsProblem]:
    """The AHP matrix of the fields is consistent enough to weight them (Saaty's CR below 0.10);
    a wave without some field is judged again on the comparisons among the fields it has."""
    from analysis.estimation.index import AHP_CR_MAX, IndexConfigError, ahp_weights

    try:
        cr = ahp_weights(s.index.ahp.matrix)[1]
    except IndexConfigError as e:
        return [SettingsProblem(idx_file, "ahp.matrix", str(e))]
    if cr >= AHP_CR_MAX:
        return [SettingsProblem(idx_file, "ahp.matrix", "the comparisons are inconsistent: consistency "
                                f"ratio {cr:.3f} ≥ {AHP_CR_MAX:.2f}; revise them")]
    return []


def _index_indicators(s: Settings) -> dict[str, Any]:
    """The indicators of the index's questionnaire in the settings' codebook: id → item."""
    from analysis.ingest.codebook import _build

    return {it.id: it for it in _build(s.codebook, "").indicators(s.index.questionnaire)}


def _expert_indicator_problems(s: Settings, idx_file: str) -> list[SettingsProblem]:
    """Each indicator given an expert weight is an indicator of the index (a misspelt id would
    leave the weight unused without a word)."""
    if not s.index.expert.indicators:
        return []
    items = _index_indicators(s)
    return [SettingsProblem(idx_file, f"expert.indicators.{k}",
                            f"not an indicator of the index's questionnaire ({s.index.questionnaire})")
            for k in s.index.expert.indicators if k not in items]


def _target_problems(s: Settings, idx_file: str) -> list[SettingsProblem]:
    """Each target of the ``target`` normalisation names an indicator of the index and lies on its
    scale, above its lowest code (the distance to a target at the lowest code divides by zero) and
    at most its highest (codes counted as the index turns them: a reversed item from its other end)."""
    if not s.index.targets:
        return []
    items = _index_indicators(s)
    out = []
    for item_id, code in s.index.targets.items():
        it = items.get(item_id)
        if it is None:
            why = f"not an indicator of the index's questionnaire ({s.index.questionnaire})"
            out.append(SettingsProblem(idx_file, f"targets.{item_id}", why))
        elif not min(it.values) < code <= max(it.values):
            why = (f"target {code:g} is off the item's scale: it must lie above its lowest code "
                   f"{min(it.values)} and at most its highest, {max(it.values)}")
            out.append(SettingsProblem(idx_file, f"targets.{item_id}", why))
    return out


def load_wave_settings(folder: Path, questionnaires: tuple[str, ...] | None = None) -> WaveSettings:
    """Read and check a wave's ``wave.yml`` (``questionnaires``: the codebook's, for the names)."""
    yml = Path(folder) / "wave.yml"
    raw = read_yaml(yml)
    if not isinstance(raw, dict):
        raise SettingsError([SettingsProblem(display_path(yml), "", "expected a mapping of keys (id, title, "
                                             "questionnaires, design)")])
    return validate(WaveSettings, raw, display_path(yml),
                    context={"questionnaires": questionnaires} if questionnaires else None)
