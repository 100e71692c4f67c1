"""The schemas of every settings file: typed, frozen, unknown keys refused.

``data/codebook.yml`` (:class:`CodebookFile`), ``data/index.yml`` (:class:`IndexSettings`),
``data/models.yml`` (:class:`ModelsSettings`), ``data/reference/*.yml``
(:class:`ReproductionSettings`) and each wave's ``wave.yml`` (:class:`WaveSettings`).

pydantic v2 is used because it is the ecosystem's standard for typed, validated configuration:
``extra="forbid"`` refuses unknown keys, ``Literal`` option sets list their allowed values,
``frozen=True`` makes the loaded objects immutable, and its structured errors (location, input,
allowed values) are what :mod:`analysis.settings.loader` turns into one readable message per
problem.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator,
                      model_validator)

from analysis.settings.options import (AGGREGATIONS, COMPARISONS, DETECT_ENCODING, FAMILIES, ITEM_ROLES,
                                       ITEM_TYPES, LONELY_PSU, MIN_CELL_FLOOR, NONPOSITIVE, NORMALISATIONS,
                                       REPRODUCTION_STATISTICS, SE_KINDS, TRANSFORMS, WEIGHTINGS,
                                       WILD_WEIGHTS)


class Strict(BaseModel):
    """Base of every schema: unknown keys refused, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# ---- data/index.yml ------------------------------------------------------------------------

class Uncertainty(Strict):
    """Random procedures of the report (their seeds are recorded in ``manifest.json``)."""

    draws: int = Field(10_000, ge=14)
    """Monte Carlo index evaluations of the sensitivity analysis, N (k + 2) with k = 5 inputs."""
    seed: int = Field(20200601, ge=0)
    """Seed of the sensitivity analysis."""
    bootstrap_reps: int = Field(1000, ge=50)
    """Rao–Wu replicates of the province rank intervals."""
    bootstrap_seed: int = Field(20200601, ge=0)
    """Seed of those replicates."""


class Expert(Strict):
    """Relative expert weights, renormalised to sum to one."""

    fields: dict[str, float] = {}
    """Field id → relative weight."""
    indicators: dict[str, float] = {}
    """Indicator item id → relative weight within its field (default 1)."""

    @field_validator("fields", "indicators")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in v.items() if not 0 < w < math.inf}     # nan and .inf too
        if bad:
            raise ValueError(f"weights must be positive and finite: {bad}")
        return v


class AHP(Strict):
    """Saaty pairwise comparisons of the fields (entries may be fractions such as ``1/2``)."""

    order: tuple[str, ...] = ()
    """Field ids, the order of the matrix rows."""
    matrix: tuple[tuple[float, ...], ...] = ()
    """Pairwise comparison matrix (reciprocal)."""

    @field_validator("matrix", mode="before")
    @classmethod
    def _fractions(cls, v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            return v
        try:
            return tuple(tuple(float(Fraction(str(x))) for x in row) for row in v)
        except (ValueError, ZeroDivisionError, TypeError):
            raise ValueError("entries must be numbers or fractions such as 1/2") from None

    @model_validator(mode="after")
    def _square(self) -> AHP:
        n = len(self.order)
        twice = sorted({f for f in self.order if self.order.count(f) > 1})
        if twice:           # a row and column compared twice: one of them would be left unused
            raise ValueError(f"'order' must list each field once: {', '.join(map(repr, twice))} is listed "
                             "more than once")
        if self.matrix and (len(self.matrix) != n or any(len(r) != n for r in self.matrix)):
            raise ValueError(f"the matrix must be {n} × {n} (one row and column per field in 'order')")
        bad = [(i + 1, j + 1) for i, r in enumerate(self.matrix) for j, x in enumerate(r) if not x > 0]
        if bad:             # Saaty's comparisons are ratios of importance: positive
            raise ValueError(f"entries must be positive (a comparison is how many times one field matters "
                             f"more than another); row, column {bad[0][0]}, {bad[0][1]} is not")
        off = [(i + 1, j + 1) for i, r in enumerate(self.matrix) for j in range(i, n)
               if abs(r[j] * self.matrix[j][i] - 1) > 1e-6]
        if off:
            i, j = off[0]
            a_ij, a_ji = self.matrix[i - 1][j - 1], self.matrix[j - 1][i - 1]
            raise ValueError(f"the matrix must be reciprocal (a_ji = 1 / a_ij, a_ii = 1): row, column "
                             f"{i}, {j} and {j}, {i} are {a_ij:g} and {a_ji:g}")
        return self


class IndexSettings(Strict):
    """How the modernization index is built (``data/index.yml``)."""

    version: str = "1.0"
    """Version of the construction (cited on the method page)."""
    questionnaire: Literal["villagers"] = "villagers"
    """Questionnaire holding the indicators."""
    normalisation: Literal[NORMALISATIONS] = "minmax"  # type: ignore[valid-type]
    """Normalisation of the indicators."""
    weighting: Literal[WEIGHTINGS] = "equal"  # type: ignore[valid-type]
    """Weighting of indicators and fields."""
    aggregation: Literal[AGGREGATIONS] = "arithmetic"  # type: ignore[valid-type]
    """Aggregation of weighted indicators."""
    coverage: float = Field(0.65, gt=0, le=1)
    """Least share of a level's indicator weight a respondent must answer for a score."""
    uncertainty: Uncertainty = Uncertainty()
    """Monte Carlo and bootstrap settings."""
    targets: dict[str, float] = {}
    """For ``target`` normalisation: item id → target code (default: top code)."""
    expert: Expert = Expert()
    """For ``expert`` weighting."""
    ahp: AHP = AHP()
    """For ``ahp`` weighting."""

    @model_validator(mode="after")
    def _ahp_given(self) -> IndexSettings:
        if self.weighting == "ahp" and not self.ahp.matrix:
            raise ValueError("weighting: ahp needs the pairwise comparisons of the fields: ahp.order and "
                             "ahp.matrix")
        return self


# ---- data/models.yml -----------------------------------------------------------------------

class Derived(Strict):
    """A variable computed from codebook items: an expression, or a declared transform."""

    label: str
    """Readable label in tables and figures."""
    expr: str | None = None
    """A pandas expression of codebook ids (``sex == 2``, ``age / 10``)."""
    transform: Literal[TRANSFORMS] | None = None  # type: ignore[valid-type]
    """``log``, ``log1p`` or ``asinh`` of the item ``of``."""
    of: str | None = None
    """The item a transform applies to."""
    nonpositive: Literal[NONPOSITIVE] = "error"  # type: ignore[valid-type]
    """For ``log`` and ``log1p``: what values outside the transform's domain (≤ 0, ≤ −1) do (stop, or
    drop the row from models using it, counted)."""

    @model_validator(mode="after")
    def _one_form(self) -> Derived:
        if (self.expr is None) == (self.transform is None):
            raise ValueError("give either 'expr' or 'transform' (with 'of')")
        if self.transform is not None and not self.of:
            raise ValueError("a transform needs 'of': the item it applies to")
        return self


class ProvinceCovariate(Strict):
    """A province-level covariate from official statistics (matched to the wave's year)."""

    label: str
    """Readable label (the year is added where the table says which year was matched)."""


class Wild(Strict):
    """Wild cluster bootstrap: restricted p-values, unrestricted percentile-t intervals."""

    reps: int = Field(999, ge=99)
    """Bootstrap replicates."""
    weights: Literal[WILD_WEIGHTS] = "webb"  # type: ignore[valid-type]
    """Cluster weight distribution."""
    seed: int = Field(0, ge=0)
    """Random seed."""


class ModelSpec(Strict):
    """One determinant model (an entry of ``models`` in ``data/models.yml``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Identifier (``ruralgov models --model NAME``)."""
    label: str = ""
    """Column title in regression tables."""
    family: Literal[FAMILIES]  # type: ignore[valid-type]
    """Estimator family."""
    outcome: str
    """An index level (overall, a field, an aspect) or a codebook item."""
    regressors: tuple[str, ...] = ()
    """Codebook ids, derived variables or province covariates."""
    fixed_effects: tuple[str, ...] = ()
    """Categorical columns: a linear model absorbs the first and enters the others as dummies; a
    logit or mixedlm model enters them all as dummies; ologit and oaxaca take none."""
    cluster: str | None = None
    """Column whose groups the CR1 standard errors are clustered on."""
    weights: str | None = None
    """Design weight column."""
    se: Literal[SE_KINDS] | None = None  # type: ignore[valid-type]
    """Standard errors: hc1, cr1 (needs ``cluster``) or design; default cr1 with a cluster, else hc1."""
    wild: Wild | None = None
    """Wild cluster bootstrap (needs ``cluster``)."""
    group: str | None = None
    """Grouping column (mixedlm: random intercepts; oaxaca: the two groups' column)."""
    groups: tuple[str, str] | None = None
    """Oaxaca: the two groups compared (A − B): values of ``group``, as text or as numbers
    (``[1, 2]`` for the codes of sex)."""
    reml: bool = True
    """mixedlm: restricted maximum likelihood (else ML)."""
    reps: int = Field(499, ge=50)
    """oaxaca: Rao–Wu bootstrap replicates."""
    seed: int = Field(0, ge=0)
    """oaxaca: bootstrap seed."""

    @field_validator("groups", mode="before")
    @classmethod
    def _codes_as_text(cls, v: Any) -> Any:
        """Numeric codes (``groups: [1, 2]``) kept as the text they are written as."""
        if isinstance(v, (list, tuple)):
            return tuple(str(g) if isinstance(g, (int, float)) and not isinstance(g, bool) else g for g in v)
        return v

    @model_validator(mode="after")
    def _family_rules(self) -> ModelSpec:
        f = self.family
        if self.se == "cr1" and not self.cluster:
            raise ValueError("se: cr1 needs 'cluster'")
        if self.wild is not None and not self.cluster:
            raise ValueError("a wild cluster bootstrap needs 'cluster'")
        if f in ("mixedlm", "oaxaca") and not self.group:
            raise ValueError(f"{'an' if f == 'oaxaca' else 'a'} {f} model needs 'group'")
        if f == "oaxaca" and not self.groups:
            raise ValueError("an oaxaca model needs 'groups': the two groups compared")
        if f == "oaxaca" and self.groups[0] == self.groups[1]:
            raise ValueError(f"an oaxaca model compares two different groups: 'groups' names "
                             f"{self.groups[0]!r} twice")
        if f in ("mixedlm", "oaxaca") and self.se is not None:
            raise ValueError(f"'se' does not apply to {'an' if f == 'oaxaca' else 'a'} {f} model")
        if self.wild is not None and f not in ("ols", "wls"):       # it would be recorded, never run
            raise ValueError(f"a wild cluster bootstrap is run for linear models (ols, wls), not for "
                             f"{'an' if f in ('ologit', 'oaxaca') else 'a'} {f} model")
        if f in ("ologit", "oaxaca") and self.fixed_effects:      # they would be left out unsaid
            raise ValueError(f"'fixed_effects' does not apply to an {f} model: it enters no category "
                             "dummies (give the categories as 0/1 regressors)")
        if f == "ologit" and self.se not in (None, "design"):
            raise ValueError("an ordered logit is model-based, or design-based with se: design")
        if self.cluster and f in ("mixedlm", "ologit", "oaxaca"):  # its SEs would not be clustered
            raise ValueError(f"'cluster' does not apply to {'an' if f in ('ologit', 'oaxaca') else 'a'} {f} "
                             "model: its standard errors are not clustered"
                             + (" (a multilevel model's groups are 'group')" if f == "mixedlm" else ""))
        if self.se == "design" and not self.weights:
            raise ValueError("design-based standard errors need 'weights' (the design weight)")
        if f in ("mixedlm",) and self.weights:
            raise ValueError("the multilevel model is unweighted (model-based): see the design-based "
                             "linear model beside it")
        if f == "ols" and self.weights:
            raise ValueError("an ols model is unweighted: use family wls for 'weights'")
        return self

    @property
    def se_kind(self) -> str:
        """The standard errors used: ``se`` or its default (an ordered logit without ``se`` is
        model-based: the inverse information)."""
        if self.family == "ologit":
            return self.se or "model"
        return self.se or ("cr1" if self.cluster else "hc1")


class ModelsSettings(Strict):
    """The determinant models (``data/models.yml``)."""

    version: str = "1.0"
    """Version of the specification."""
    derived: dict[str, Derived] = {}
    """Variables computed from codebook items."""
    province_covariates: dict[str, ProvinceCovariate] = {}
    """Province covariates from official statistics."""
    models: tuple[ModelSpec, ...]
    """The models, in report order."""

    @model_validator(mode="after")
    def _unique(self) -> ModelsSettings:
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"model names must be unique; repeated: {', '.join(dup)}")
        return self

    def get(self, name: str) -> ModelSpec:
        """A model by name (KeyError naming the known ones)."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model {name!r}; known: {', '.join(m.name for m in self.models)}")


# ---- data/reference/reproduction.yml -------------------------------------------------------

class Figure(Strict):
    """How one published figure is reproduced from a wave."""

    key: str
    """Dotted key into ``published-figures.yml``."""
    label: str = ""
    """Readable name."""
    statistic: Literal[REPRODUCTION_STATISTICS]  # type: ignore[valid-type]
    """Estimator."""
    domain: dict[str, str] | None = None
    """Column → value restricting a degree."""
    numerator: dict[str, str] | str | None = None
    """Numerator domain (ratio_of_degrees) or column (ratio)."""
    denominator: dict[str, str] | str | None = None
    """Denominator domain or column."""
    questionnaire: Literal["villagers", "institutions"] = "villagers"
    """Questionnaire the figure comes from."""
    item: str | None = None
    """Item of a proportion or count share."""
    value: int = 1
    """Code counted by a proportion or count share."""
    decimals: int | None = None
    """Decimals printed in the paper."""
    compare: Literal[COMPARISONS] = "equal"  # type: ignore[valid-type]
    """How the reproduction is judged against the figure."""
    reason: str = ""
    """Why a figure cannot be reproduced from the survey."""


class ReproductionSettings(Strict):
    """The mapping of every published figure to its estimator."""

    figures: tuple[Figure, ...]
    """Figures, in the paper's order."""
    notes: dict[str, str] = {}
    """Notes on groups of figures (shown on the reproduction page)."""


# ---- data/codebook.yml ---------------------------------------------------------------------

class Bilingual(Strict):
    """A text in Chinese and English."""

    zh: str
    en: str


class ItemSpec(Strict):
    """One item of a questionnaire."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal[ITEM_TYPES]  # type: ignore[valid-type]
    text: Bilingual
    values: str | dict[int, Bilingual] | None = None
    missing: tuple[float, ...] | None = None
    range: tuple[float, float] | None = None
    field: str | None = None
    aspect: str | None = None
    direction: Literal[1, -1] = 1
    group: str | None = None
    # true or false as YAML writes them: the codebook is used as plain data, where the text "no"
    # would read as true
    exclusive: StrictBool = False
    required: StrictBool = False
    role: Literal[ITEM_ROLES] | None = None  # type: ignore[valid-type]
    ordered: StrictBool = False
    unit: str | None = None
    aliases: tuple[str, ...] = ()
    part_of: str | None = None


class ItemTemplate(Strict):
    """A field × aspect (or field outcome) item, expanded once per field."""

    suffix: str
    type: Literal[ITEM_TYPES]  # type: ignore[valid-type]
    values: str
    text: Bilingual
    aspect: str | None = None
    role: Literal[ITEM_ROLES] | None = None  # type: ignore[valid-type]
    aliases_zh: tuple[str, ...] = ()


class QuestionnaireFile(Strict):
    """One questionnaire of the codebook."""

    title: Bilingual
    key: str
    items: tuple[ItemSpec, ...]
    note: str | None = None


class CodebookFile(Strict):
    """``data/codebook.yml``: the questionnaires as data."""

    version: str
    title: Bilingual
    missing_codes: dict[float, Bilingual]
    default_missing: dict[Literal[ITEM_TYPES], tuple[float, ...]] = {}  # type: ignore[valid-type]
    value_sets: dict[str, dict[int, Bilingual]]
    fields: dict[str, Bilingual]
    aspects: dict[str, Bilingual]
    field_prefixes: dict[str, str]
    field_item_templates: tuple[ItemTemplate, ...]
    questionnaires: dict[str, QuestionnaireFile]


# ---- wave.yml ------------------------------------------------------------------------------

WAVE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""A wave id: a lower-case slug (never ``.`` or ``..``), equal to the name of its folder."""


def known_encoding(v: str | None) -> str | None:
    """A text encoding Python knows, or ``auto``/``detect``; else a ValueError naming the choices."""
    import codecs

    if v is None or v.lower() in DETECT_ENCODING:
        return v
    try:
        codecs.lookup(v)
    except LookupError:
        raise ValueError("unknown encoding: use utf-8, gb18030, gbk or auto") from None
    return v


class QuestionnaireSource(Strict):
    """Where and how one questionnaire of a wave is stored."""

    file: str
    """File name inside the wave folder."""
    encoding: str | None = None
    """Text encoding of a CSV (``auto`` detects UTF-8/UTF-8 with BOM/GB18030)."""
    delimiter: str | None = None
    """CSV delimiter (``,`` by default, a tab for a ``.tsv`` file; ``\\t`` or ``tab`` for tabs)."""
    sheet: str | int = 0
    """XLSX sheet: its name, or its position counted from 0."""
    header_row: int = Field(1, ge=1)
    """File row holding the header, counted from 1 (2 when a title row is above it)."""
    column_map: dict[str, str] = {}
    """Header in the file → codebook id, for headers the codebook's aliases do not know."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        return known_encoding(v)

    @field_validator("sheet")
    @classmethod
    def _sheet_position(cls, v: str | int) -> str | int:
        if isinstance(v, int) and v < 0:
            raise ValueError("a sheet's position is counted from 0 (the first sheet), never negative")
        return v

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str | None) -> str | None:
        return one_char_delimiter(v)


def one_char_delimiter(v: str | None) -> str | None:
    """A CSV delimiter as wave.yml may give it, for every file or for one: one character, or a tab."""
    if v is not None and v not in ("\\t", "tab") and len(v) != 1:
        raise ValueError("a delimiter is one character (or '\\t' / 'tab')")
    return v


class DesignColumns(Strict):
    """The survey design columns of the villager questionnaire."""

    weight: str
    """Design weight (the codebook's weight item)."""
    strata: str | None = None
    """Stratum column (usually province)."""
    psu: str | None = None
    """Primary sampling unit (usually village_id)."""
    fpc: str | None = None
    """Finite population correction: PSUs in the stratum's population, or a sampling fraction."""
    lonely_psu: Literal[LONELY_PSU] = "adjust"  # type: ignore[valid-type]
    """Rule for a stratum with one PSU (R ``survey.lonely.psu``)."""
    weight_column_override: bool = False
    """Allow a weight column other than the codebook's weight item."""


class WaveSettings(Strict):
    """A wave's ``wave.yml``."""

    id: str = Field(pattern=WAVE_ID_PATTERN)
    """The wave's id: its folder's name; names the report folder ``_build/<id>``."""
    title: str = ""
    """Title shown on the report."""
    year: int | None = Field(None, ge=1949, le=2100)
    """Survey year (official statistics are matched to it)."""
    synthetic: bool = False
    """True for synthetic microdata (the calibrated replica): every page says so."""
    reproduces_seed: bool = False
    """True for a wave of the seed study's survey: the reproduction page joins its report."""
    source: str = ""
    """Where the data come from."""
    citation: str = ""
    """How to cite the data."""
    generator: dict[str, Any] = {}
    """For a synthetic wave: the generator and its settings."""
    questionnaires: dict[str, QuestionnaireSource]
    """Questionnaire name → its file."""
    design: DesignColumns
    """Survey design columns."""
    encoding: str | None = None
    """Default encoding of the CSV files."""
    delimiter: str | None = None
    """Default CSV delimiter."""
    min_cell: int = Field(10, ge=MIN_CELL_FLOOR)
    """Disclosure threshold: no published cell rests on fewer respondents."""
    missing_codes: tuple[float, ...] | dict[str, tuple[float, ...]] = ()
    """Further missing codes (beyond the codebook's): a list for every column, or column → list."""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        return known_encoding(v)

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str | None) -> str | None:
        return one_char_delimiter(v)

    @field_validator("questionnaires")
    @classmethod
    def _known(cls, v: dict[str, QuestionnaireSource], info: ValidationInfo) -> dict[str, QuestionnaireSource]:
        known = (info.context or {}).get("questionnaires")
        if not v:
            raise ValueError("map at least one questionnaire (villagers) to its file")
        if known:
            import difflib

            for name in v:
                if name not in known:
                    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                    raise ValueError(f"unknown questionnaire {name!r}; known: {', '.join(known)}"
                                     + (f" (did you mean {close[0]!r}?)" if close else ""))
        return v

    @field_validator("missing_codes", mode="before")
    @classmethod
    def _a_list(cls, v: Any) -> Any:
        example = ("must be a list of codes, e.g. missing_codes: [-8, -9], or a mapping column → codes, "
                   "e.g. missing_codes: {hh_income: [9999999]}")
        if isinstance(v, (int, float, str)) and not isinstance(v, bool):
            raise ValueError(example)
        if isinstance(v, dict):
            for column, codes in v.items():
                if isinstance(codes, (int, float, str)) and not isinstance(codes, bool):
                    raise ValueError(f"{column}: {example}")
        return v
