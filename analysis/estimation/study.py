"""The scored study: one wave, its settings, its index scores and its survey design, built once.

Everything downstream — the CLI's commands, the sensitivity analysis, the models, the panels,
the reproduction of the seed paper and every page of the report — takes a :class:`Study` and
never reads a file: the wave is validated and scored here, once per wave and construction.

Example
-------
>>> from analysis.estimation.study import build_study
>>> st = build_study("2020-replica")
>>> st.wave.id, st.n, round(float(st.degree().estimate[0]), 2)
('2020-replica', 1160, 50.96)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.estimation.design import Estimate, SurveyDesign
from analysis.estimation.index import IndexConfig, IndexResult, build_index, degree
from analysis.ingest.wave import Wave, load_wave
from analysis.settings import Settings, load_settings

TRACE_ENV = "RURALGOV_TRACE"
"""When set to a file path, every index construction appends one line to it (wave, construction):
the test that a build computes the scored study once counts these lines."""


def trace(event: str, **info: object) -> None:
    """Append one JSON line to ``$RURALGOV_TRACE`` (no-op when unset)."""
    target = os.environ.get(TRACE_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, **info}, default=str) + "\n")


@dataclass(frozen=True, eq=False)
class Study:
    """A validated wave scored with one index construction, with its survey design."""

    wave: Wave
    """The validated wave."""
    settings: Settings
    """The project's settings (codebook, index, models, published figures)."""
    construction: IndexConfig
    """The index construction that produced :attr:`index`."""
    index: IndexResult
    """Respondent scores at every level."""
    design: SurveyDesign
    """The survey design of the villager questionnaire."""
    official: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    """Real official statistics: the province × year panel (``analysis.ingest.official``)."""

    @property
    def villagers(self) -> pd.DataFrame:
        """The clean villager questionnaire (a shallow copy: changes never reach the study)."""
        return self.wave.villagers

    @property
    def scores(self) -> pd.DataFrame:
        """Respondent × level scores (0–100)."""
        return self.index.scores

    @property
    def n(self) -> int:
        """Villager respondents."""
        return len(self.index.scores)

    @property
    def year(self) -> int | None:
        """The wave's survey year."""
        return self.wave.spec.year

    @property
    def min_cell(self) -> int:
        """The wave's disclosure threshold."""
        return self.wave.spec.min_cell

    @property
    def key(self) -> str:
        """Hash of everything the study depends on: wave files, settings, construction."""
        c = self.construction
        h = hashlib.sha256()
        for part in (self.wave.sha256, self.settings.key, repr(c.as_dict()), repr(sorted(c.targets.items())),
                     repr(sorted(c.expert_fields.items())), repr(sorted(c.expert_indicators.items())),
                     repr(c.ahp_order), repr(c.ahp_matrix)):
            h.update(str(part).encode())
        return h.hexdigest()

    def degree(self, by: str | None = None, level: str = "overall") -> Estimate:
        """Design-based mean score (the modernization degree, 0–100) overall or by a column."""
        return degree(self.villagers, self.index, self.design, by=by, level=level)

    def with_construction(self, construction: IndexConfig) -> Study:
        """The same wave scored with another construction (same design)."""
        if construction == self.construction:
            return self
        # another choice of aspects only: the indicators' normalised values are the same
        same = dataclasses.replace(construction, exclude_aspects=self.construction.exclude_aspects)
        return Study(self.wave, self.settings, construction,
                     _score(self.wave, construction,
                            self.index.normalised if same == self.construction else None),
                     self.design, self.official)


def _score(wave: Wave, construction: IndexConfig, normalised: pd.DataFrame | None = None) -> IndexResult:
    v = wave.villagers
    trace("index", wave=wave.id, construction=construction.as_dict())
    weights = v[wave.design_columns["weight"]].to_numpy(float)
    return build_index(v, construction, codebook=wave.codebook, weights=weights, normalised=normalised)


def wave_design(wave: Wave) -> SurveyDesign:
    """The survey design of a wave's villager questionnaire (weights, strata, PSUs, fpc)."""
    v = wave.villagers
    dc = wave.design_columns
    return SurveyDesign.from_frame(v, weight=str(dc["weight"]), strata=dc.get("strata"),
                                   psu=dc.get("psu"), fpc=dc.get("fpc"),
                                   lonely_psu=wave.spec.lonely_psu)  # type: ignore[arg-type]


def build_study(wave: str | Path | Wave | None = None, *, construction: IndexConfig | None = None,
                settings: Settings | None = None) -> Study:
    """Validate (or take) a wave, score it and build its design: the study every result starts from.

    Raises
    ------
    analysis.ingest.wave.WaveInvalid
        The wave has validation errors.
    analysis.settings.SettingsError
        A settings file is invalid.
    analysis.estimation.index.IndexConfigError
        The index's settings do not fit this wave (an AHP matrix inconsistent among the fields the
        wave has).
    """
    from analysis.ingest.official import province_panel

    st = settings or load_settings()
    w = wave if isinstance(wave, Wave) else load_wave(wave)
    cfg = construction or IndexConfig.from_settings(st.index, st.sha256.get("data/index.yml", ""))
    return Study(w, st, cfg, _score(w, cfg), wave_design(w), province_panel())
