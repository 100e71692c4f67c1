"""Model frames: the rows and columns a determinant model uses, built from a study.

Derived variables (``derived`` in ``data/models.yml``) are computed here: an expression of codebook
ids, or a declared transform with its handling of values outside the transform's domain
(``log``, or ``log1p`` below −1, with ``nonpositive: drop`` drops those rows from the models
using it, counted and reported; ``error`` stops with a message naming the variable). Province
covariates are official statistics of the wave's year, or of the nearest year available (stated in
:attr:`ModelFrame.notes`).

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.estimation.frames import model_frame
>>> st = build_study("2020-replica")
>>> mf = model_frame(st, st.settings.models.get("wls_region"))
>>> mf.data.shape[0] + mf.dropped == st.n
True
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.estimation.results import ModelSpecError
from analysis.i18n import LANGS, N_, Message, Name, _, bilingual, lang
from analysis.ingest.official import province_covariates
from analysis.settings import ModelSpec, ModelsSettings

SHORT_LABELS = {"internet_use": N_("internet use"), "education": N_("education (level)"),
                "distance_km": N_("distance to township (km)"),
                "participation": N_("participation in village affairs"),
                "smartphone": N_("smartphone use"), "migrant_exp": N_("migrant experience")}


@dataclass(frozen=True, eq=False)
class ModelFrame:
    """The complete cases of a model and how they were obtained."""

    data: pd.DataFrame
    """Complete cases: the outcome, regressors, fixed effects, clusters, weights (and design columns)."""
    rows: np.ndarray
    """Positions of the complete cases in the villager frame (for the full-design variance)."""
    dropped: int
    """Rows of the wave not used (an incomplete case)."""
    dropped_by: dict[str, int]
    """Variable → rows missing it (a row may miss several)."""
    notes: tuple[Message, ...] = ()
    """Things a reader should know: transforms that dropped rows, the year of official statistics."""


def labels(study, models: ModelsSettings | None = None) -> dict[str, Name]:  # type: ignore[no-untyped-def]
    """Readable label of every variable a model may use: its label in the edition being written,
    which knows its form in each edition (a :class:`~analysis.i18n.Name`: a reason a model is
    skipped for names the variable in the language of the page that shows it)."""
    forms = {language: _labels(study, models, language) for language in LANGS}
    return {k: Name(forms[lang()][k], **{language: f[k] for language, f in forms.items()})
            for k in forms["en"]}


def _labels(study, models: ModelsSettings | None,  # type: ignore[no-untyped-def]
            language: str) -> dict[str, str]:
    """Readable label of every variable a model may use, in ``language``."""
    ms = models or study.settings.models
    cb = study.wave.codebook
    items = {it.id: bilingual(it.text_en, it.text_zh, language) for it in cb.items("villagers")}
    sub = _("{name} (sub-index)", language)
    lab = {(f"{f}_score" if f in items else f): sub.format(name=bilingual(en, zh, language))
           for f, (zh, en) in cb.fields.items()}
    lab.update({(f"{a}_score" if a in items else a): sub.format(name=bilingual(en, zh, language))
                for a, (zh, en) in cb.aspects.items()})
    lab.update(items)
    lab.update({k: _(v, language) for k, v in SHORT_LABELS.items()})
    lab["overall"] = _("overall score", language)
    for a, (zh, en) in cb.aspects.items():
        lab[f"overall_without_{a}"] = _("overall score without the {name} items", language).format(
            name=bilingual(en, zh, language))
    for k, d in ms.derived.items():
        lab[k] = _(d.label, language)
    for k, c in ms.province_covariates.items():
        lab[k] = _(c.label, language)
    return lab


def covariate_year(study) -> int | None:  # type: ignore[no-untyped-def]
    """The year of official statistics matched to the wave: its own, else the nearest year in which
    the province covariates are published (the panel's first year, 2005, has no GDP per head: a
    wave of 2003 is matched to 2006, not to a year whose covariates are all missing)."""
    from analysis.ingest.official import COVARIATE_SOURCES

    o = study.official
    if len(o):
        have = o[[c for c in COVARIATE_SOURCES if c in o.columns]].notna().groupby(level="year").any().all(axis=1)
        years = sorted(int(y) for y in have.index[have.to_numpy(bool)])
    else:
        years = []
    if not years:
        return None
    target = study.year if study.year is not None else years[-1]
    return min(years, key=lambda y: (abs(y - target), -y))


def _names(d) -> list[str]:  # type: ignore[no-untyped-def]
    """The names a derived variable reads: its item, or the identifiers of its expression."""
    return [d.of] if d.of else re.findall(r"[A-Za-z_][A-Za-z0-9_]*", d.expr or "")


def _outside_domain(bad: pd.Series, name: str, d, notes: list[Message],  # type: ignore[no-untyped-def]
                    stop: tuple[str, str], drop: tuple[str, str]) -> None:
    """The rows ``bad`` outside a transform's domain, as ``d.nonpositive`` says: an error naming
    their count (``error``) or a note counting those left out (``drop``); each message given for
    one row and for several."""
    n = int(bad.sum())
    if not n:
        return
    if d.nonpositive == "error":
        raise ModelSpecError(Message(stop[n != 1], name=name, of=d.of, n=n))
    notes.append(Message(drop[n != 1], name=name, of=d.of, n=n))


def derive(v: pd.DataFrame, name: str, d, notes: list[Message]) -> pd.Series:  # type: ignore[no-untyped-def]
    """The derived variable ``name`` (definition ``d`` of data/models.yml) on the rows of ``v``:
    missing where an item it reads is missing or its transform is undefined (a note appended to
    ``notes`` for each kind of row left out); :class:`ModelSpecError` where data/models.yml asks
    for an error. The in-memory model frame and the out-of-core scan both call it."""
    if d.expr is not None:
        try:
            out = v.eval(d.expr, engine="python").astype(float)
        except Exception as e:  # noqa: BLE001 - any evaluation error names the variable
            raise ModelSpecError(Message(N_("derived variable {name!r} ({expr!r}) cannot be computed: "
                                            "{error}"), name=name, expr=d.expr, error=str(e))) from None
        used = [t for t in dict.fromkeys(_names(d)) if t in v.columns]
        if used:                                 # a missing answer stays missing: `sex == 2` on a
            out = out.where(~v[used].isna().any(axis=1))   # blank sex is unknown, not male
        if np.isinf(out).any():
            n = int(np.isinf(out).sum())
            raise ModelSpecError(Message(N_("derived variable {name!r} ({expr!r}) is infinite in {n} row; "
                                            "declare a transform with its handling of those values in "
                                            "data/models.yml") if n == 1 else
                                         N_("derived variable {name!r} ({expr!r}) is infinite in {n} rows; "
                                            "declare a transform with its handling of those values in "
                                            "data/models.yml"), name=name, expr=d.expr, n=n))
        return out
    x = pd.to_numeric(v[d.of], errors="coerce").astype(float)
    if d.transform == "log":
        bad = x <= 0
        _outside_domain(bad, name, d, notes, (
            N_("derived variable {name!r} = log({of}): {n} row has {of} ≤ 0 (log undefined); set "
               "nonpositive: drop, or use transform: log1p or asinh, in data/models.yml"),
            N_("derived variable {name!r} = log({of}): {n} rows have {of} ≤ 0 (log undefined); set "
               "nonpositive: drop, or use transform: log1p or asinh, in data/models.yml")), (
            N_("{name} = log({of}): {n} row with {of} ≤ 0 left out (nonpositive: drop)"),
            N_("{name} = log({of}): {n} rows with {of} ≤ 0 left out (nonpositive: drop)")))
        return np.log(x.where(~bad))
    if d.transform == "log1p":
        bad = x <= -1
        _outside_domain(bad, name, d, notes, (
            N_("derived variable {name!r} = log1p({of}): {n} row has {of} ≤ −1 (log1p undefined); "
               "set nonpositive: drop, or use transform: asinh, in data/models.yml"),
            N_("derived variable {name!r} = log1p({of}): {n} rows have {of} ≤ −1 (log1p undefined); "
               "set nonpositive: drop, or use transform: asinh, in data/models.yml")), (
            N_("{name} = log1p({of}): {n} row with {of} ≤ −1 left out (nonpositive: drop)"),
            N_("{name} = log1p({of}): {n} rows with {of} ≤ −1 left out (nonpositive: drop)")))
        return np.log1p(x.where(~bad))
    return np.arcsinh(x)


_DERIVED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Derived variables of the wave's own columns, computed once per wave (every model and every
construction of a study share them): wave → {(name, definition): (values, notes)}."""


def _derived_once(wave, v: pd.DataFrame, scores: pd.Index, name: str, d,  # type: ignore[no-untyped-def]
                  notes: list[Message]) -> pd.Series:
    """:func:`derive`, kept for the wave where the variable reads no index score."""
    if any(t in scores for t in _names(d)):
        return derive(v, name, d, notes)
    try:
        cache = _DERIVED.setdefault(wave, {})
    except TypeError:                        # an object standing in for a wave (no weak reference)
        cache = {}
    key = (name, d.model_dump_json())
    if key not in cache:
        own: list[Message] = []
        cache[key] = (derive(v, name, d, own), own)
    values, own = cache[key]
    notes.extend(own)
    return values


def score_column(name: str, villager_columns) -> str:  # type: ignore[no-untyped-def]
    """A score's column in a model's frame: its own name, or ``<name>_score`` where the villagers
    have a column of that name (the education field's score beside the item ``education``)."""
    return f"{name}_score" if name in villager_columns else name


def model_frame(study, spec: ModelSpec, models: ModelsSettings | None = None, *,  # type: ignore[no-untyped-def]
                scores: pd.DataFrame | None = None, design_columns: bool = False,
                complete: bool = True) -> ModelFrame:
    """The complete cases of a model on a study, with the count of rows dropped and why.

    ``scores`` replaces the study's index scores (not for an outcome ``overall_without_<aspect>``,
    rebuilt from the study's own construction: fit that on ``study.with_construction(...)``);
    ``design_columns`` adds strata, PSU and weight (design-based SEs, the Oaxaca bootstrap);
    ``complete=False`` keeps every row, missing values included (multiple imputation), but for the
    rows a transform leaves out by design (``nonpositive: drop``).
    """
    ms = models or study.settings.models
    v = study.villagers
    wave_columns = v.columns
    sc = study.scores if scores is None else scores
    m = re.fullmatch(r"overall_without_(\w+)", spec.outcome)
    if m:                                   # the score rebuilt without one aspect's indicators
        if scores is not None:
            raise ValueError(f"{spec.outcome} is rebuilt from the study's construction, which scores given "
                             "apart do not carry: fit it on study.with_construction(...)")
        aspect = m.group(1)
        if aspect not in study.wave.codebook.aspects:
            raise ModelSpecError(Message(N_("outcome {outcome!r} names no aspect; aspects: {aspects}"),
                                         outcome=spec.outcome,
                                         aspects=", ".join(study.wave.codebook.aspects)), spec.name)
        other = study.with_construction(study.construction.with_(
            exclude_aspects=(*study.construction.exclude_aspects, aspect)))
        sc = sc.assign(**{spec.outcome: other.scores["overall"]})
    sc = sc.rename(columns=lambda c: score_column(c, v))
    need = [spec.outcome, *spec.regressors]
    # a derived variable may be any of the model's variables: a fixed effect, the clusters, the
    # weights or the groups too (a village code made from the province and the village)
    reads = {*need, *spec.fixed_effects, spec.cluster, spec.weights, spec.group}
    # only the columns the model reads are copied (a wave may hold hundreds): its own, the
    # province (covariates) and those the derived variables it uses are computed from
    used = {*reads, "province", *study.wave.design_columns.values(), study.wave.bootstrap_units}
    for name, d in ms.derived.items():
        if name in reads:
            used.update(_names(d))
    if not sc.index.equals(v.index):
        sc = sc.reindex(v.index)
    # a frame of the columns themselves (no copy, no consolidation of blocks)
    v = pd.DataFrame({**{c: v[c] for c in v.columns if c in used},
                      **{c: sc[c] for c in sc.columns if c in used}}, copy=False)
    notes: list[Message] = []
    # rows a transform leaves out by design (nonpositive: drop): their source was answered, so they
    # are no missing answer to impute but rows outside the model, as in the complete cases
    outside = np.zeros(len(v), dtype=bool)
    for name, d in ms.derived.items():
        if name in reads:
            v[name] = _derived_once(study.wave, v, sc.columns, name, d, notes)
            if d.of and d.of in v:
                outside |= (v[d.of].notna() & v[name].isna()).to_numpy()
    covs = [c for c in ms.province_covariates if c in need]
    if covs:
        year = covariate_year(study)
        if year is None:
            raise ModelSpecError(Message(N_("no official statistics for its province covariates")), spec.name)
        table = province_covariates(year, study.official)
        for name in covs:
            v[name] = v["province"].astype("float").map(table[name])
        notes.append(Message(N_("province covariates are official statistics of {year}"), year=year)
                     if study.year in (None, year) else
                     Message(N_("province covariates are official statistics of {year} (nearest year to the "
                                "wave's {wave_year})"), year=year, wave_year=study.year))
    cols = [spec.outcome, *spec.regressors, *spec.fixed_effects]
    for c in (spec.cluster, spec.weights, spec.group):
        if c:
            cols.append(c)
    dc = study.wave.design_columns
    if design_columns:
        cols += [c for c in (dc.get("strata"), study.wave.bootstrap_units, dc.get("weight")) if c]
    cols = list(dict.fromkeys(cols))
    missing = [c for c in cols if c not in v]
    if missing:
        raise ModelSpecError(Message(N_("unknown variables {missing}"), missing=missing), spec.name)
    numeric = {spec.outcome, *spec.regressors}
    arrays = {c: (pd.to_numeric(v[c], errors="coerce").to_numpy("float64", na_value=np.nan) if c in numeric
                  else v[c].array) for c in cols}
    own = set(wave_columns) - set(ms.derived) - set(covs)     # the wave's columns as read
    miss = {c: np.isnan(a) if c in numeric else _missing(study.wave, c, a) if c in own else np.asarray(pd.isna(a))
            for c, a in arrays.items()}
    dropped_by = {c: int(m.sum()) for c, m in miss.items() if m.any()}
    keep = ~outside
    if complete:
        for m in miss.values():
            keep &= ~m
    rows = np.flatnonzero(keep)
    data = _frame(arrays, keep, len(rows), {c: "float64" if c in numeric else v[c].dtype for c in cols})
    return ModelFrame(data, rows, int((~keep).sum()), dropped_by, tuple(notes))


_MISSING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Which rows of a wave's own non-numeric columns (text codes, nullable integers) are missing,
found once per wave (``pd.isna`` on a million text values takes about 50 ms): wave → {column: mask}."""


def _missing(wave, column: str, values) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``pd.isna`` of a column of the wave, kept for the wave (read-only)."""
    try:
        cache = _MISSING.setdefault(wave, {})
    except TypeError:                        # an object standing in for a wave (no weak reference)
        cache = {}
    if column not in cache:
        m = np.asarray(pd.isna(values))
        m.flags.writeable = False
        cache[column] = m
    return cache[column]


def _frame(arrays: dict, keep: np.ndarray, n: int, dtypes: dict) -> pd.DataFrame:
    """The kept rows of each column, a frame of its own (never a view of the wave): the float
    columns copied into one 2-D block (one allocation; the frame's constructor would copy
    them again to consolidate them), the others each in its own dtype (object text stays object:
    the constructor would infer strings), in the order of ``arrays``."""
    floats = [c for c in arrays if dtypes[c] == "float64"]
    block = np.empty((len(floats), n))
    for i, c in enumerate(floats):
        block[i] = arrays[c][keep]                    # (compress with out= is slower)
    data = pd.DataFrame(block.T, columns=floats, copy=False)
    for i, (c, a) in enumerate(arrays.items()):
        if c not in floats:                           # a mask always copies: never a view of the wave
            data.insert(i, c, pd.Series(a[keep], copy=False, dtype=dtypes[c]))
    return data


def lacking(study, spec: ModelSpec, models: ModelsSettings | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """Codebook variables a model needs that the wave does not have (an optional block)."""
    ms = models or study.settings.models
    have = set(study.villagers.columns)
    cb_ids = set(study.wave.codebook.ids("villagers"))
    scores = set(study.scores) | {score_column(c, have) for c in study.scores}     # model_frame's names
    out = []
    for v in [spec.outcome, *spec.regressors]:
        d = ms.derived.get(v)
        if d is not None:
            deps = [d.of] if d.of else [t for t in _names(d) if t in cb_ids]
            out += [x for x in deps if x not in have]
        elif v in cb_ids and v not in have:
            out.append(v)
        elif v not in cb_ids and v not in ms.province_covariates and v not in scores:
            if v not in have and not re.fullmatch(r"overall_without_\w+", v):
                out.append(v)
    return sorted(set(out))
