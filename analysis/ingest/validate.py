"""Validate a wave against the codebook: one report of every problem, never a silent drop.

Two steps per questionnaire file:

1. *parse* — text to numbers, value labels (Chinese or English, or the file's own SPSS/Stata
   labels) to codes, declared missing codes to missing (counted).  A value that cannot be parsed
   is a problem, not a missing value.
2. *check* — a pandera schema built from the codebook (codes, ranges, positive weights, unique
   ids, required columns) plus the rules pandera cannot express row by row: a PSU in two strata,
   an exclusive answer ("no problem") ticked together with a problem, a header row repeated
   inside the data, unknown provinces.

Rows are reported as *file rows*: 1-based, the header row being row 1 (as a spreadsheet shows).
The two steps share that row bookkeeping and the report they fill, which is why they stay in
one module (a little over 500 lines).

Example
-------
>>> from analysis.ingest.validate import validate_wave
>>> report, clean = validate_wave("2020-replica")
>>> report.ok, len(clean["villagers"])
(True, 1160)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_
import pyarrow.compute as pc

from analysis.i18n import N_, Message, Name
from analysis.ingest import provinces
from analysis.ingest.codebook import CODED_TYPES, NUMERIC_TYPES, Codebook, Item, load_codebook
from analysis.ingest.readers import (MAX_CELL_CHARS, RawTable, WaveError, WaveSpec, WaveSpecInvalid, float_block,
                                     load_spec, read_questionnaire)

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a wave."""

    file: str
    """File the problem is in (name relative to the wave folder)."""
    row: int | None
    """File row, 1-based with the header as row 1; ``None`` for a whole column or file."""
    column: str
    """Column as named in the file (or the codebook id when the column is absent)."""
    value: str
    """The offending value, shortened."""
    rule: str
    """The rule broken, in a few words."""
    message: str
    """What is wrong and what to do."""
    severity: Severity = "error"
    """``error`` makes the wave invalid; ``warning`` is reported only."""

    def __str__(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row else "") + \
            (f", column {self.column!r}" if self.column else "")
        return f"{self.severity}: {where}: {self.message} [rule: {self.rule}]"


@dataclass
class ValidationReport:
    """Every problem of a wave, with counts of rows and of missing values."""

    wave: str
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    """Data rows read per questionnaire."""
    missing: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """questionnaire → column → {"blank": n, "declared": n} missing counts."""
    files: dict[str, str] = field(default_factory=dict)
    """File name → SHA-256."""

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the wave invalid."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems reported only."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when the wave has no error."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """Problems as a DataFrame (one row each)."""
        cols = ["severity", "file", "row", "column", "value", "rule", "message"]
        df = pd.DataFrame([asdict(p) for p in self.problems], columns=[
            "file", "row", "column", "value", "rule", "message", "severity"])[cols]
        return df.astype({"row": "Int64"})      # a row number, blank where none (never "5.0")

    def missing_frame(self) -> pd.DataFrame:
        """Missing-value counts: questionnaire, column, blank, declared, rows."""
        recs = [{"questionnaire": q, "column": c, "blank": d["blank"], "declared": d["declared"],
                 "rows": self.rows.get(q, 0)}
                for q, cols in self.missing.items() for c, d in cols.items()]
        return pd.DataFrame(recs, columns=["questionnaire", "column", "blank", "declared", "rows"])

    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain data (for JSON)."""
        return {"wave": self.wave, "ok": self.ok, "rows": self.rows, "files": self.files,
                "n_errors": len(self.errors), "n_warnings": len(self.warnings),
                "problems": [asdict(p) for p in self.problems], "missing": self.missing}

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _id_text(s: pd.Series) -> pd.Series:
    """Ids and PSUs as text; one a binary file stores as a number (SPSS, Stata, Parquet: 3101001.0)
    is written as the whole number it is ("3101001"), as a CSV or a spreadsheet gives it."""
    text = s.astype(str)
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(v) & (np.floor(v) == v) & (np.abs(v) < 2.0**53)
        ints = pd.Series(np.where(whole, v, 0).astype("int64"), index=s.index).astype(str)
        text = text.mask(pd.Series(whole, index=s.index), ints)
    return text


def _short(v: object, n: int = 60) -> str:
    if isinstance(v, float) and not math.isnan(v) and v.is_integer():
        v = int(v)
    s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def _arrow_strings(s: pd.Series) -> pa_.ChunkedArray | None:
    """The Arrow array behind an Arrow-backed string column (as the CSV reader gives), else None."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return s.array.__arrow_array__()
    return None


def _arrow_blank(a: pa_.ChunkedArray) -> tuple[pa_.ChunkedArray, np.ndarray]:
    """Whitespace-trimmed strings and a blank mask (empty after trimming, or null)."""
    tr = pc.utf8_trim_whitespace(a)
    blank = pc.fill_null(pc.equal(pc.binary_length(tr), 0), True)
    return tr, blank.to_numpy(zero_copy_only=False)


def _is_blank(s: pd.Series) -> pd.Series:
    a = _arrow_strings(s)
    if a is not None:
        return pd.Series(_arrow_blank(a)[1], index=s.index)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        return s.isna() | (s.astype(str).str.strip() == "")
    return s.isna()


def _parse_arrow(s: pd.Series) -> np.ndarray | None:
    """Numbers of a text column in one vectorised Arrow cast (NaN exactly where a cell is blank),
    when every non-blank value is a number; None otherwise (labels, typos: the general parser
    then finds and names them)."""
    a = _arrow_strings(s)
    if a is None:
        return None
    tr, blank = _arrow_blank(a)
    try:
        num = pc.cast(pc.if_else(pa_.array(blank), pa_.scalar(None, tr.type), tr),
                      pa_.float64()).to_numpy(zero_copy_only=False)
    except (pa_.ArrowInvalid, pa_.ArrowNotImplementedError):
        return None
    num = np.array(num, dtype="float64")      # writable (missing codes are masked in place)
    if (np.isnan(num) & ~blank).any():        # "NaN" written as text is not a number here
        return None
    return num


def file_label(file: Path, folder: Path) -> str:
    """A questionnaire file as the wave's problems and hashes name it: its path under the wave's
    folder (``raw/villagers.csv``; two files of one name in two subfolders are two files), else
    its name."""
    try:
        return file.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return file.name


class _Ctx:
    def __init__(self, report: ValidationReport, raw: RawTable,
                 missing_labels: dict[float, tuple[str, str]] | None = None,
                 fname: str | None = None) -> None:
        self.report, self.raw = report, raw
        self.fname = fname or raw.file.name
        self.missing_labels = missing_labels or {}
        self.unreadable: set[tuple[int, str]] = set()     # cells refused as unparsable: not also "missing"

    def add(self, pos: int | None, cid: str, value: object, rule: str, msg: str,
            severity: Severity = "error") -> None:
        col = self.raw.headers.get(cid, cid)
        row = None if pos is None else self.raw.file_row(int(pos))
        self.report.problems.append(Problem(self.fname, row, col, _short(value), rule, msg, severity))


def _label_map(item: Item, file_labels: dict[Any, str] | None,
               missing_labels: dict[float, tuple[str, str]] | None = None) -> dict[str, float]:
    """Text label → code: the codebook's Chinese and English labels, then the labels of the
    item's missing codes (a cell reading 不知道 is the code 8 the item declares missing, not an
    unreadable value), then the file's own labels (SPSS/Stata value labels) where their code is a
    valid code of the item."""
    m: dict[str, float] = {}
    for code, (zh, en) in item.values.items():
        m[zh.strip().lower()] = float(code)
        m[en.strip().lower()] = float(code)
    for code, (zh, en) in (missing_labels or {}).items():
        if float(code) in item.missing:
            m.setdefault(zh.strip().lower(), float(code))
            m.setdefault(en.strip().lower(), float(code))
    for code, lab in (file_labels or {}).items():
        if float(code) in {float(c) for c in item.values}:
            m.setdefault(str(lab).strip().lower(), float(code))
    return m


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


def _in_ranges(x: np.ndarray, ranges: tuple[tuple[float, float], ...]) -> np.ndarray:
    out = np.zeros(len(x), dtype=bool)
    for lo, hi in ranges:
        out |= (x >= lo) & (x <= hi)
    return out


def _mask_missing(values: np.ndarray, item: Item, extra_missing: tuple[float, ...],
                  ranges: tuple[tuple[float, float], ...]) -> tuple[int, int]:
    """Declared missing codes of a column of numbers set to NaN in place: (blank, declared)."""
    blank = np.count_nonzero(np.isnan(values))
    declared = np.isin(values, (*item.missing, *extra_missing))
    if ranges:
        declared |= _in_ranges(values, ranges)
    values[declared] = np.nan
    return int(blank), int(np.count_nonzero(declared))


def _parse_column(ctx: _Ctx, item: Item, s: pd.Series, extra_missing: tuple[float, ...] = (),
                  ranges: tuple[tuple[float, float], ...] = ()) -> tuple[pd.Series, int, int]:
    """Parse one column to float64 with NaN for missing; report what cannot be parsed.

    Declared missing: the codebook's codes, the wave's ``missing_codes`` and the file's own
    (``ranges``: SPSS user-missing values).
    """
    # numbers already (a typed read, Parquet, SPSS), or text that Arrow casts whole
    values = s.to_numpy(copy=True) if s.dtype == np.float64 else _parse_arrow(s)
    if values is not None:
        nb, nd = _mask_missing(values, item, extra_missing, ranges)
        return pd.Series(values, index=s.index, copy=False), nb, nd
    blank = _is_blank(s)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        txt = s.astype(object).where(~blank, None)
        if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
            stripped = s.str.strip().where(~blank, None)          # vectorised for text files
        else:
            stripped = txt.map(lambda v: v.strip() if isinstance(v, str) else v)
        wide = stripped.map(lambda v: isinstance(v, str) and any("０" <= ch <= "９" for ch in v))
        if wide.any():                            # full-width digits (a Chinese input method)
            pos = int(np.flatnonzero(wide.to_numpy(bool))[0])
            ctx.add(pos, item.id, s.iloc[pos], N_("half-width digits"),
                    Message(N_("{n} value(s) written with full-width digits (e.g. {example!r}) were read as "
                               "numbers"), n=int(wide.sum()), example=_short(s.iloc[pos], 20)), "warning")
            stripped = stripped.map(lambda v: v.translate(FULL_WIDTH_DIGITS) if isinstance(v, str) else v)
        try:                                      # fast path: every value is a number or blank
            num = stripped.astype("float64") if stripped.dtype != object else pd.Series(
                stripped.to_numpy(dtype=float, na_value=np.nan), index=s.index)
        except (ValueError, TypeError):
            num = pd.to_numeric(stripped, errors="coerce").astype("float64")
        bad = num.isna() & ~blank
        if bad.any() and item.type in CODED_TYPES:
            labels = _label_map(item, ctx.raw.value_labels.get(item.id), ctx.missing_labels)
            mapped = txt[bad].map(lambda v: labels.get(str(v).strip().lower(), np.nan))
            num.loc[bad] = mapped.astype("float64")
            bad = num.isna() & ~blank
        unreadable = np.flatnonzero(bad.to_numpy())
        ctx.unreadable.update((int(pos), item.id) for pos in unreadable)
        for pos in unreadable[:50]:
            v = s.iloc[pos]
            kind = "a number" if item.type in NUMERIC_TYPES else "a code or value label"
            ctx.add(pos, item.id, v, "parsable value",
                    f"{_short(v, 30)!r} is not {kind} of item {item.id!r}")
        if bad.sum() > 50:
            ctx.add(None, item.id, "", "parsable value",
                    f"{int(bad.sum()) - 50} more unparsable values in this column")
    else:
        num = pd.to_numeric(s, errors="coerce").astype("float64")
    declared = (num.isin((*item.missing, *extra_missing)) | _in_ranges(num.to_numpy(), ranges)) & ~blank
    num = num.mask(declared)
    return num, int(blank.sum()), int(declared.sum())


_SCHEMAS: dict[tuple, tuple[Codebook, pa.DataFrameSchema]] = {}


def _schema(cb: Codebook, q: str, present: list[str]) -> pa.DataFrameSchema:
    """The pandera schema of a questionnaire's columns, built once per codebook and column set
    (a partitioned wave validates hundreds of pieces with the same columns)."""
    key = (id(cb), q, tuple(present))
    hit = _SCHEMAS.get(key)
    if hit is not None and hit[0] is cb:
        return hit[1]
    schema = _build_schema(cb, q, present)
    if len(_SCHEMAS) > 32:
        _SCHEMAS.clear()
    _SCHEMAS[key] = (cb, schema)
    return schema


def _build_schema(cb: Codebook, q: str, present: list[str]) -> pa.DataFrameSchema:
    # vectorised checks that pass missing values themselves (ignore_na=False): pandera then
    # hands over the column as it is instead of a copy without its missing values
    cols: dict[str, pa.Column] = {}
    for it in cb.items(q):
        if it.id not in present or it.type in ("id", "province", "psu"):
            continue
        checks = []
        if it.type in CODED_TYPES:
            codes = sorted(it.values)
            checks.append(_check(_is_one_of([float(c) for c in codes]),
                                 f"valid codes are {codes} (missing codes {[int(m) for m in it.missing]})"))
        if it.range is not None:
            lo, hi = it.range
            checks.append(_check(lambda v, lo=lo, hi=hi: (v >= lo) & (v <= hi),
                                 f"allowed range is [{lo:g}, {hi:g}]"))
        if it.type == "count":
            checks.append(_check(lambda v: v == np.round(v), "a count must be a whole number"))
        if it.type in ("weight", "fpc"):
            checks.append(_check(lambda v: v > 0, "must be positive"))
            checks.append(_check(lambda v: ~np.isinf(v), "must be finite"))
        cols[it.id] = pa.Column(float, checks=checks, nullable=it.type not in ("weight", "fpc"),
                                coerce=False)
    return pa.DataFrameSchema(cols, strict=False, coerce=False)


def _check(rule, error: str) -> pa.Check:  # type: ignore[no-untyped-def]
    """A pandera check of ``rule`` (numpy values → bool array), missing values passing."""
    def fn(s: pd.Series) -> pd.Series:
        v = s.to_numpy()
        return pd.Series(rule(v) | np.isnan(v), index=s.index, copy=False)

    return pa.Check(fn, ignore_na=False, error=error)


def _is_one_of(codes: list[float]):  # type: ignore[no-untyped-def]
    def rule(v: np.ndarray) -> np.ndarray:
        ok = v == codes[0]
        for c in codes[1:]:
            ok |= v == c
        return ok

    return rule


def _run_schema(ctx: _Ctx, schema: pa.DataFrameSchema, df: pd.DataFrame) -> None:
    try:
        schema.validate(df, lazy=True, inplace=True)     # checks only (no coercion): no copy of the wave
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        for (col, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
            if check == "not_nullable":           # refused already as unparsable: one cell, one error
                grp = grp[[not (isinstance(i, (int, np.integer)) and (int(i), str(col)) in ctx.unreadable)
                           for i in grp["index"]]]
                if grp.empty:
                    continue
            shown = grp.head(50)
            for r in shown.itertuples():
                idx = r.index if isinstance(r.index, (int, np.integer)) else None
                if idx is not None and pd.isna(idx):
                    idx = None
                value = r.failure_case
                if check == "not_nullable":
                    rule, msg = "not missing", "a value is required here"
                else:
                    rule, msg = "schema", str(check)
                    msg = f"{_short(value, 30)!r} breaks the rule: {msg}"
                    try:
                        fv = float(value)
                        if fv < 0 or fv in (97, 98, 99, 997, 998, 999, 9999):
                            # for this column: the code may be a valid answer of another item
                            msg += ("; if it marks a missing answer, declare it in wave.yml for this "
                                    f"column (missing_codes: {{{col}: [{fv:g}]}})")
                    except (TypeError, ValueError):
                        pass
                ctx.add(idx, str(col), value, rule, msg)
            if len(grp) > 50:
                ctx.add(None, str(col), "", "not missing" if check == "not_nullable" else str(check),
                        f"{len(grp) - 50} more rows break this rule")


def _distinct_text(s: pd.Series) -> tuple[np.ndarray, list[str | None], Any]:
    """A text column as codes into its distinct stripped values, in order of first appearance:
    (codes, values, first row of a value); a missing cell is the value ``None``."""
    a = _arrow_strings(s)
    if a is not None:                         # Arrow kernels: no Python string per cell
        enc = pc.dictionary_encode(pc.utf8_trim_whitespace(a), null_encoding="encode").combine_chunks()
        uniq = enc.dictionary.to_pylist()
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.intp)
    else:
        codes, u = pd.factorize(s.astype(str).str.strip(), use_na_sentinel=False)
        uniq = [None if pd.isna(v) else v for v in u]
    return codes, uniq, lambda v: int(np.flatnonzero(codes == uniq.index(v))[0])


def _same_block(block: np.ndarray | None, columns: list[pd.Series]) -> bool:
    """Whether ``columns`` are, in order, the rows of ``block`` (the reader's float block)."""
    if block is None or block.shape[0] != len(columns):
        return False
    for j, s in enumerate(columns):
        if s.dtype != np.float64:
            return False
        a = s.to_numpy()
        if a.__array_interface__["data"][0] != block[j].__array_interface__["data"][0] or a.strides != block[j].strides:
            return False
    return True


def _more(ctx: _Ctx, column: str, rule: str, n: int, shown: int = 50) -> None:
    """One line for the rows of a rule beyond the first ``shown`` reported one by one (the report
    counts them; none when every such row was named)."""
    if n > shown:
        ctx.add(None, column, "", rule, f"{n - shown} more row(s) of this column break this rule")


def _check_questionnaire(report: ValidationReport, cb: Codebook, raw: RawTable,
                         spec: WaveSpec) -> pd.DataFrame | None:
    q = raw.questionnaire
    ctx = _Ctx(report, raw, cb.missing_labels, file_label(raw.file, spec.folder))
    df = raw.frame.reset_index(drop=True)
    index = df.index
    report.rows[q] = len(df)
    if q not in cb.questionnaires:
        ctx.add(None, "", "", "known questionnaire",
                f"questionnaire {q!r} is not in the codebook (known: {', '.join(cb.questionnaires)})")
        return None
    unnamed = [h for h in raw.unknown if h.startswith("Unnamed")]
    for h in [h for h in raw.unknown if not h.startswith("Unnamed")]:
        ctx.add(None, h, "", N_("known column"),
                Message(N_("column {column!r} matches no codebook item or alias; it is kept but not used "
                           "(add it to column_map in wave.yml if it is a known item)"), column=h), "warning")
    if unnamed:
        ctx.add(None, unnamed[0], "", N_("known column"),
                Message(N_("{n} column has no header (read as {first!r})") if len(unnamed) == 1 else
                        N_("{n} columns have no header (read as {first!r}…)"),
                        n=len(unnamed), first=unnamed[0]),
                "warning")
    items = {it.id: it for it in cb.items(q)}
    design_cols = {c for c in spec.design.values() if c} if q == "villagers" else set()
    if q == "villagers":
        _check_design_names(ctx, spec, items)
    for it in items.values():
        if it.id not in df.columns and (it.required or it.id in design_cols):
            ctx.add(None, it.id, "", "required column",
                    f"required column {it.id!r} is missing (aliases: {', '.join(it.aliases[:4])})"
                    + _header_hint(raw, cb, q))
    _check_value_labels(ctx, raw, items)
    if len(df) == 0:
        ctx.add(None, "", "", "has respondents", "the file has a header but no data rows")
        return None
    # a header row repeated inside the data; cells too long to be an answer
    text_cols = [c for c in df.columns
                 if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)]
    same = np.zeros(len(df), dtype=int)
    for c in text_cols:
        a = _arrow_strings(df[c])
        if a is not None:                        # Arrow kernels: no Python string per cell
            hit = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), raw.headers.get(c, c)), False)
            same += hit.to_numpy(zero_copy_only=False)
            lens = pc.fill_null(pc.utf8_length(a), 0).to_numpy(zero_copy_only=False)
        else:
            st = df[c].astype("str")             # vectorised string operations (NaN stays NaN)
            same += (st.str.strip() == raw.headers.get(c, c)).fillna(False).to_numpy(bool)
            lens = st.str.len().fillna(0).to_numpy(int)
        for pos in np.flatnonzero(lens > MAX_CELL_CHARS)[:20]:
            ctx.add(int(pos), str(c), str(df[c].iloc[pos])[:40], "cell size",
                    f"a cell of {lens[pos]} characters exceeds the limit of {MAX_CELL_CHARS}")
    for pos in np.flatnonzero(same >= max(2, len(df.columns) // 2)):
        ctx.add(int(pos), "", "", "no repeated header", "the header row is repeated inside the data; "
                "remove it (files pasted together?)")
    raw.frame = pd.DataFrame(columns=raw.frame.columns)   # each column freed once converted
    # numbers go straight into one float block (a frame built from per-column arrays would copy
    # them all once more); ids and PSUs stay text and, with the province codes, are inserted at
    # their places afterwards
    order = [c for c in df.columns if c in items]
    float_ids = [c for c in order if items[c].type not in ("id", "psu", "province")]
    # the columns held by name, the frame dropped: each is freed once converted (popping from
    # the frame itself rebuilds its block list every time: quadratic in the number of columns)
    source = {c: df[c] for c in order}
    del df
    # numbers the reader parsed into one block are converted there, in place; anything else is
    # converted into a new block
    in_place = _same_block(raw.numbers, [source[c] for c in float_ids])
    block = raw.numbers if in_place else float_block(len(float_ids), len(index))
    raw.numbers = None
    slot = {c: j for j, c in enumerate(float_ids)}
    cols: dict[str, pd.Series] = {}
    miss: dict[str, dict[str, int]] = {}
    for cid in order:
        it = items[cid]
        s = source.pop(cid)
        if it.type in ("id", "psu"):
            blank = _is_blank(s)
            for pos in np.flatnonzero(blank.to_numpy())[:50]:
                ctx.add(pos, cid, "", "not missing", f"{it.type} {cid!r} is blank")
            _more(ctx, cid, "not missing", int(blank.sum()))
            text = _id_text(s).str.strip()
            formula = text.str.startswith(("=", "+", "@")).fillna(False).to_numpy(bool) & ~blank.to_numpy()
            cols[cid] = text.where(~blank, None).astype(object)
            for pos in np.flatnonzero(formula)[:10]:
                ctx.add(pos, cid, cols[cid].iloc[pos], N_("no spreadsheet formulas"),
                        Message(N_("text that a spreadsheet would run as a formula; it is kept, and escaped "
                                   "with a leading apostrophe in every CSV ruralgov writes")), "warning")
            if it.type == "id":
                ids = cols[cid]
                dup = ids.duplicated(keep=False) & ~blank
                for pos in np.flatnonzero(dup.to_numpy())[:50]:
                    first = int(np.flatnonzero((ids == ids.iloc[pos]).to_numpy())[0])
                    ctx.add(pos, cid, ids.iloc[pos], "unique id",
                            f"respondent id {ids.iloc[pos]!r} also on row "
                            f"{raw.file_row(first)}" if first != pos else
                            f"respondent id {ids.iloc[pos]!r} is duplicated")
                _more(ctx, cid, "unique id", int(dup.sum()))
            continue
        if it.type == "province":
            codes, uniq, where = _distinct_text(s)      # each spelling resolved once
            resolved = {u: provinces.try_resolve(u) for u in uniq}
            codes = pd.Series(np.array([r.adcode if r else np.nan for r in resolved.values()],
                                       dtype="float64")[codes], index=index)
            blank = _is_blank(s).to_numpy()
            bad = np.flatnonzero(codes.isna().to_numpy())
            for pos in bad[:50]:
                v = s.iloc[pos]
                if blank[pos]:                  # an empty cell (CSV) or none at all (spreadsheet)
                    ctx.add(pos, cid, "", "not missing", "a value is required here: the province is blank")
                    continue
                try:
                    provinces.resolve(v)
                except provinces.UnknownProvince as e:
                    ctx.add(pos, cid, v, "known province", str(e))
            # the rows past the 50 named, each counted under the rule it breaks
            rest = blank[bad[50:]]
            _more(ctx, cid, "not missing", int(rest.sum()), shown=0)
            _more(ctx, cid, "known province", int((~rest).sum()), shown=0)
            for u in [u for u in uniq if resolved[u] and provinces.is_traditional(u)][:10]:
                pos = where(u)
                ctx.add(pos, cid, u, N_("province names in simplified characters"),
                        Message(N_("{name!r} is written in traditional characters; read as {zh} ({en})"),
                                name=u, zh=resolved[u].name_zh_short, en=resolved[u].name_en), "warning")
            cols[cid] = codes.astype("float64")
            continue
        if in_place:
            nb, nd = _mask_missing(block[slot[cid]], it, spec.missing_for(cid),
                                   raw.declared_missing.get(cid, ()))
        else:
            num, nb, nd = _parse_column(ctx, it, s, spec.missing_for(cid), raw.declared_missing.get(cid, ()))
            block[slot[cid]] = num.to_numpy()
            del num
        miss[cid] = {"blank": nb, "declared": nd}
        del s
    clean = pd.DataFrame(block.T, columns=float_ids, index=index, copy=False)
    for cid in order:
        if cid in cols:
            clean.insert(order.index(cid), cid, cols.pop(cid))
    report.missing[q] = miss
    _run_schema(ctx, _schema(cb, q, list(clean.columns)), clean)
    # cross-row rules
    strata, psu = spec.design.get("strata"), spec.design.get("psu")
    why = {"strata": "lies in a stratum of the design", "psu": "lies in a PSU of the design",
           "weight": "has a design weight", "fpc": "has the finite population correction of its stratum"}
    for role, col in spec.design.items():
        # a design column of an item that may be blank (those of the types below never are: checked above)
        if q != "villagers" or role not in why or col not in clean or items.get(col) is None \
                or items[col].type in ("id", "psu", "province", "weight", "fpc"):
            continue
        blank = clean[col].isna().to_numpy()
        given = f"--{role}" if spec.design_from_options else f"design.{role}"     # where the user named it
        for pos in np.flatnonzero(blank)[:50]:
            ctx.add(pos, col, "", "not missing", f"the {'stratum' if role == 'strata' else role} {col!r} is "
                    f"blank: every respondent {why[role]} ({given})")
        _more(ctx, col, "not missing", int(blank.sum()))
    if q == "villagers" and (strata in clean or not strata) and (psu in clean or not psu) and len(clean):
        # each stratum's PSUs: every respondent is a PSU where the design names none, and the whole
        # sample one stratum where it names no strata
        key = clean[strata] if strata else pd.Series(0, index=clean.index)
        unit = clean[psu] if psu else pd.Series(clean.index, index=clean.index)
        pairs = pd.DataFrame({"s": key, "p": unit}).dropna().drop_duplicates()
        if strata and psu:
            for p_id, grp in pairs[pairs.duplicated("p", keep=False)].groupby("p"):
                pos = int(clean.index[(clean[psu] == p_id)][0])
                names = ", ".join(map(str, grp["s"].map(_strat_name)))
                ctx.add(pos, psu, p_id, "PSU nested in one stratum",
                        f"PSU {p_id!r} appears in {len(grp)} strata ({names}); "
                        "each PSU must lie in one stratum")
        level = "error" if spec.lonely_psu == "fail" else "warning"
        n_psu = pairs.groupby("s")["p"].nunique()
        for s_id in n_psu[n_psu == 1].index:
            if strata:
                pos = int(clean.index[(clean[strata] == s_id)][0])
                ctx.add(pos, strata, _strat_name(s_id), N_("two or more PSUs per stratum"),
                        lonely_message(s_id, spec.lonely_psu, option=spec.design_from_options), level)
            else:
                ctx.add(0, psu or "", "", N_("two or more PSUs per stratum"),
                        Message(SINGLE_PSU_SAMPLE.get(spec.lonely_psu, SINGLE_PSU_SAMPLE["adjust"])), level)
    if q == "villagers":
        _check_weights(ctx, clean, spec)
        _check_fpc(ctx, clean, spec)
    _check_parts(ctx, clean, items)
    for g, members in cb.groups(q).items():
        excl = [m.id for m in members if m.exclusive and m.id in clean]
        others = [m.id for m in members if not m.exclusive and m.id in clean]
        if not excl or not others:
            continue
        any_other = (clean[others] == 1).any(axis=1)
        for e in excl:
            bad = (clean[e] == 1) & any_other
            for pos in np.flatnonzero(bad.to_numpy())[:50]:
                ticked = [o for o in others if clean[o].iloc[pos] == 1]
                ctx.add(pos, e, 1, "exclusive answer",
                        f"{items[e].text_en!r} is ticked together with {', '.join(ticked)}: "
                        "an exclusive answer cannot be combined with others")
            _more(ctx, e, "exclusive answer", int(bad.sum()))
    fields_present = {it.field for it in items.values() if it.is_indicator and it.id in clean}
    for f in cb.fields:
        if any(it.field == f and it.is_indicator for it in items.values()) and f not in fields_present:
            ctx.add(None, "", "", N_("field items present"),
                    Message(N_("no indicator of the field {field!r} is in the file: its sub-index will be "
                               "missing"), field=f), "warning")
    return clean


def _check_design_names(ctx: _Ctx, spec: WaveSpec, items: dict[str, Item]) -> None:
    """The design columns of wave.yml are items of the villager questionnaire, and the weight is
    the codebook's design weight (unless ``design.weight_column_override`` says otherwise)."""
    import difflib

    def named(role: str) -> str:      # where the user gave the column: wave.yml or an option
        return (f"the design's {role} (--{role.replace('_', '-')})" if spec.design_from_options
                else f"wave.yml: design.{role}")

    for role, col in spec.design.items():
        if not col:
            continue
        if col not in items:
            close = difflib.get_close_matches(col, list(items), n=1, cutoff=0.6)
            ctx.add(None, col, col, "design columns",
                    f"{named(role)} names {col!r}, which is not an item of the villager "
                    "questionnaire" + (f" (did you mean {close[0]!r}?)" if close else ""))
    w = spec.design.get("weight")
    override = bool(spec.settings and spec.settings.design.weight_column_override)
    if w in items and items[w].type != "weight" and not override:
        ctx.add(None, w, w, "design columns",
                f"{named('weight')} is {w!r}, a {items[w].type} item ({items[w].text_en!r}), not the "
                "codebook's design weight; name the weight column" + (
                    "" if spec.design_from_options else ", or set design.weight_column_override: true if "
                    "this column really holds the design weights"))


MAX_WEIGHT_SHARE = 0.5
"""A single respondent carrying more than half of the total weight is an error: every estimate
would be that respondent's answer."""
OUTLIER_WEIGHT_RATIO = 20.0
"""A weight more than 20 times the median weight of its stratum is flagged (within a stratum,
design weights differ only by village and non-response adjustments)."""
WARN_KISH_RATIO = 0.1
"""Kish's effective sample size (Σw)²/Σw² below a tenth of the respondents is flagged: weighting
then multiplies every variance by more than ten."""


def _check_weights(ctx: _Ctx, clean: pd.DataFrame, spec: WaveSpec) -> None:
    """Dominant weights: one respondent carrying most of the total (:func:`weight_verdict`),
    weights far above their stratum's, or so unequal that the weighting alone wipes out the
    sample. A piece of a streamed wave is checked the same way; its whole-wave rules are then
    set aside (a piece's total is not the wave's) and its far weights kept."""
    wcol = spec.design.get("weight")
    if wcol not in clean:
        return
    w = clean[wcol].to_numpy(float)
    ok = np.isfinite(w) & (w > 0)
    if ok.sum() < 3:
        return
    top = int(np.argmax(np.where(ok, w, -np.inf)))
    verdict = weight_verdict(int(ok.sum()), float(w[ok].sum()), float(np.sum(w[ok] ** 2)), float(w[top]))
    dominant = verdict is not None and verdict[2] == "error"
    if dominant:
        ctx.add(top, wcol, w[top], verdict[0], verdict[1])
    strata = spec.design.get("strata")
    key = clean[strata] if strata in clean else pd.Series(0, index=clean.index)
    med = pd.Series(np.where(ok, w, np.nan), index=clean.index).groupby(key).transform("median").to_numpy()
    ratio = np.where(ok, w / med, np.nan)
    far = np.flatnonzero(ratio > OUTLIER_WEIGHT_RATIO)
    for pos in far[:20]:       # a rule of its own: a piece of a streamed wave judges it on its own
        ctx.add(int(pos), wcol, w[pos], N_("no dominant weight"),
                Message(N_("weight {weight:.15g} is {ratio:.0f} times the median weight of its stratum "
                           "({stratum}); check it"), weight=float(w[pos]), ratio=float(ratio[pos]),
                        stratum=_strat_label(key.iloc[pos])), "warning")
    if verdict is not None and not dominant:
        ctx.add(None, wcol, "", verdict[0], verdict[1], verdict[2])


def weight_verdict(n: int, total: float, squares: float, largest: float
                   ) -> tuple[str, str | Message, str] | None:
    """The rules on a whole wave's weights, from its ``n`` valid (finite, positive) weights'
    ``total``, sum of ``squares`` and ``largest``: (rule, message, severity) of one weight carrying
    more than :data:`MAX_WEIGHT_SHARE` of the total (an error, said on that weight's row), else of
    Kish's effective sample size below :data:`WARN_KISH_RATIO` of ``n`` (a warning on the column);
    None when neither holds or fewer than 3 weights are valid. The in-memory validation
    (:func:`_check_weights`) and the streamed one (:class:`analysis.estimation.stream.
    WeightTotals`) both judge by it."""
    if n < 3:
        return None
    if largest / total > MAX_WEIGHT_SHARE:
        return N_("no dominant weight"), dominant_weight_message(largest / total), "error"
    n_eff = total ** 2 / squares
    if n_eff < WARN_KISH_RATIO * n:
        return N_("weights vary plausibly"), kish_message(n_eff, n), "warning"
    return None


def dominant_weight_message(share: float) -> str:
    """The problem's message for one respondent carrying ``share`` (over :data:`MAX_WEIGHT_SHARE`)
    of the wave's total weight."""
    return (f"this respondent carries {100 * share:.1f} % of the total weight, so every estimate "
            "would be their answer; check the weight (a unit or a typo?)")


def kish_message(n_eff: float, n: int) -> Message:
    """The problem's message for weights whose Kish effective sample size ``n_eff`` of ``n``
    respondents is below :data:`WARN_KISH_RATIO` of them."""
    return Message(N_("Kish's effective sample size of the weights is {n_eff:,.0f} for {n:,} "
                      "respondents (weighting alone multiplies variances by {deff:.1f}); check the "
                      "weights"), n_eff=float(n_eff), n=int(n), deff=float(n / n_eff))


LONELY_RULES = {
    "adjust": N_("stratum {stratum!r} has a single PSU: its variance is estimated by centring at the grand "
                 "mean (survey.lonely.psu='adjust')"),
    "remove": N_("stratum {stratum!r} has a single PSU: it adds nothing to the variance "
                 "(survey.lonely.psu='remove')"),
    "certainty": N_("stratum {stratum!r} has a single PSU: it is taken as sampled with certainty and adds "
                    "nothing to the variance (survey.lonely.psu='certainty')"),
    "fail": N_("stratum {stratum!r} has a single PSU: no variance can be estimated under the wave's "
               "design.lonely_psu: fail"),
}
"""What a stratum with a single PSU does to the variance under each ``design.lonely_psu`` (the
problem's message)."""


SINGLE_PSU_SAMPLE = {
    "fail": N_("the design names no strata and the sample has a single PSU: no variance can be estimated "
               "under the wave's design.lonely_psu: fail"),
    "adjust": N_("the design names no strata and the sample has a single PSU: its standard errors rest on "
                 "the lonely PSU rule alone (design.lonely_psu), not on any variation between PSUs"),
}
"""What a sample of one PSU without strata does to the variance (the problem's message)."""


LONELY_FAIL_OPTION = N_("stratum {stratum!r} has a single PSU: no variance can be estimated under "
                        "--lonely-psu fail")
"""The ``fail`` message of a design given on the command line (``ruralgov stream``), which has no
wave.yml."""


def lonely_message(stratum: object, rule: str, *, option: bool = False) -> str:
    """The problem's message for a stratum with a single PSU under the design's rule (``option``:
    the rule was given as ``--lonely-psu``, not by wave.yml)."""
    text = LONELY_FAIL_OPTION if option and rule == "fail" else LONELY_RULES.get(rule, LONELY_RULES["adjust"])
    return Message(text, stratum=_strat_label(stratum))


def fpc_varies_message(stratum: object, values: int) -> str:
    """The problem's message for an fpc taking several values in one stratum (``stratum`` None: a
    design without strata, whose sample is one stratum)."""
    if stratum is None:
        return (f"the fpc takes {values} values in a design without strata; it is the population "
                "size (or sampling fraction), one value for the whole sample")
    return (f"the fpc takes {values} values in stratum {_strat_name(stratum)!r}; it is the stratum's "
            "population size (or sampling fraction), one value per stratum")


def fpc_below_message(stratum: object, n_h: int, value: float, *, psus: bool = True) -> str:
    """The problem's message for an fpc count below the PSUs sampled in its stratum (``psus``
    False: a design without PSUs, whose respondents are each a PSU; ``stratum`` None: a design
    without strata)."""
    sampled = "PSUs sampled" if psus else "respondents sampled (each its own PSU)"
    where = "the sample (no strata)" if stratum is None else f"stratum {_strat_name(stratum)!r}"
    return (f"{where} has {n_h} {sampled} but an fpc of {value:g}: a "
            "population count cannot be smaller than the sample")


def _check_fpc(ctx: _Ctx, clean: pd.DataFrame, spec: WaveSpec) -> None:
    """An fpc is constant within a stratum and, as a population count, at least the PSUs sampled
    (the respondents, in a design without PSUs)."""
    f, strata, psu = spec.design.get("fpc"), spec.design.get("strata"), spec.design.get("psu")
    if not f or f not in clean:
        return
    stratified = bool(strata) and strata in clean
    key = clean[strata] if stratified else pd.Series(0, index=clean.index)
    named = (lambda s_id: s_id) if stratified else (lambda s_id: None)    # no strata: "the sample"
    nuniq = clean.groupby(key)[f].nunique()
    for s_id in nuniq[nuniq > 1].index:
        pos = int(np.flatnonzero((key == s_id).to_numpy())[0])   # the stratum's first row, as streamed
        ctx.add(pos, f, clean[f].iloc[pos], "fpc constant in a stratum",
                fpc_varies_message(named(s_id), int(nuniq[s_id])))
    if psu in clean or not psu:
        # without a PSU column each respondent is its own PSU (as the design takes them)
        n_h = clean.groupby(key)[psu].nunique() if psu else clean.groupby(key).size()
        pop = clean.groupby(key)[f].first()
        for s_id in pop.index:
            if pop[s_id] > 1 and pop[s_id] < n_h[s_id]:
                pos = int(np.flatnonzero((key == s_id).to_numpy())[0])
                ctx.add(pos, f, pop[s_id], "fpc at least the PSUs sampled",
                        fpc_below_message(named(s_id), int(n_h[s_id]), pop[s_id], psus=bool(psu)))


def _check_parts(ctx: _Ctx, clean: pd.DataFrame, items: dict[str, Item]) -> None:
    """Counts that are parts of a total ("of whom") never exceed it, alone or together."""
    totals: dict[str, list[str]] = {}
    for it in items.values():
        if it.part_of and it.id in clean and it.part_of in clean:
            totals.setdefault(it.part_of, []).append(it.id)
    for total, parts in totals.items():
        t = clean[total]
        for p in parts:
            bad = (clean[p] > t).to_numpy()
            for pos in np.flatnonzero(bad)[:20]:
                ctx.add(int(pos), p, clean[p].iloc[pos], "part not above its total",
                        f"{clean[p].iloc[pos]:g} {items[p].text_en!r} out of {t.iloc[pos]:g} "
                        f"{items[total].text_en!r}: a part cannot exceed its total")
        if len(parts) > 1:
            s_ = clean[parts].sum(axis=1, min_count=len(parts))
            bad = (s_ > t).to_numpy() & ~np.any([(clean[p] > t).to_numpy() for p in parts], axis=0)
            for pos in np.flatnonzero(bad)[:20]:
                ctx.add(int(pos), parts[0], s_.iloc[pos], "part not above its total",
                        f"the parts {', '.join(parts)} add up to {s_.iloc[pos]:g}, more than "
                        f"{items[total].text_en!r} ({t.iloc[pos]:g})")


def _is_answer(it: Item, code: float) -> bool:
    """Whether a code is a valid answer of an item (a coded value, or inside a numeric range)."""
    if it.type in CODED_TYPES:
        return code in {float(c) for c in it.values}
    return it.type in ("count", "numeric") and it.range is not None and it.range[0] <= code <= it.range[1]


def _check_missing_codes(report: ValidationReport, spec: WaveSpec, cb: Codebook,
                         present: dict[str, list[str]]) -> None:
    """A wave's declared missing codes are never valid answers of an item they apply to: a code
    of every column (a list) of no item the wave holds, a code of a column (a mapping) of that
    column's item; a mapping names columns of the wave."""
    held = [it for q, cols in present.items() for it in cb.items(q) if it.id in cols]

    def free(codes: tuple[float, ...]) -> str:    # " (e.g. -8, -9)": those no item takes, if any
        shown = ", ".join(f"{c:g}" for c in codes if not any(_is_answer(it, c) for it in held))
        return f" (e.g. {shown})" if shown else ""

    for code in spec.extra_missing:
        it = next((it for it in held if _is_answer(it, code)), None)
        if it is not None:
            report.problems.append(Problem(
                "wave.yml", None, "missing_codes", _short(code), "missing codes are not answers",
                f"missing_codes declares {code:g} missing, but {code:g} is a valid answer of "
                f"{it.id!r} ({it.text_en!r}): every such answer would be dropped; declare it only for "
                f"the columns where it means missing (missing_codes: {{column: [{code:g}]}}) or use a "
                f"code no item of the wave takes as an answer{free((-8.0, -9.0, -99.0, -999.0))}"))
    known = {it.id: it for it in held}
    for column, codes in spec.column_missing.items():
        it = known.get(column)
        if it is None:
            report.problems.append(Problem(
                "wave.yml", None, f"missing_codes.{column}", column, "missing codes name a column",
                f"missing_codes names {column!r}, which is no column of the wave's questionnaires "
                "(name a column by its codebook item, as column_map maps it)"))
            continue
        if it.type in ("id", "psu", "province"):           # never blank by a code: the code would be an id
            report.problems.append(Problem(
                "wave.yml", None, f"missing_codes.{column}", column, "missing codes name a column",
                f"missing_codes names {column!r}, a {it.type} column: its cells are ids or names, which "
                "missing codes do not apply to (a respondent without one is refused as blank)"))
            continue
        for code in codes:
            if _is_answer(it, code):
                report.problems.append(Problem(
                    "wave.yml", None, f"missing_codes.{column}", _short(code), "missing codes are not answers",
                    f"missing_codes declares {code:g} missing in {column!r}, but {code:g} is a valid "
                    f"answer of {column!r} ({it.text_en!r}): every such answer would be dropped"))


def _header_hint(raw: RawTable, cb: Codebook, q: str) -> str:
    """Why headers may not match: mojibake, or a title above the header row."""
    unknown = [h for h in raw.unknown if not h.startswith("Unnamed")]
    latin = sum(sum(0xC0 <= ord(ch) <= 0xFF for ch in h) for h in unknown)
    if unknown and latin >= max(2, sum(len(h) for h in unknown) // 4):
        return ("; the headers look like Chinese text decoded with the wrong encoding (mojibake, "
                "e.g. GBK read as Latin-1/UTF-8): re-export as UTF-8 or declare encoding: gb18030")
    unnamed = sum(str(h).startswith("Unnamed") for h in raw.frame.columns)
    if unnamed >= len(raw.frame.columns) // 2:
        for i in range(min(10, len(raw.frame))):
            known = sum(cb.resolve_header(q, v) is not None for v in raw.frame.iloc[i].tolist()
                        if isinstance(v, str))
            if known >= 2:
                return (f"; the header seems to be on file row {raw.file_row(i)} with "
                        f"title rows above it: set header_row: {raw.file_row(i)} in wave.yml")
    return ""


def _check_value_labels(ctx: _Ctx, raw: RawTable, items: dict[str, Item]) -> None:
    """SPSS/Stata value labels must not contradict the codebook (e.g. 1 = female vs 1 = male)."""
    for cid, labels in raw.value_labels.items():
        it = items.get(cid)
        if it is None or not it.values:
            continue
        cb_labels = {lab.strip().lower(): code for code, pair in it.values.items() for lab in pair}
        for code, lab in labels.items():
            other = cb_labels.get(str(lab).strip().lower())
            if other is not None and float(other) != float(code):
                ctx.add(None, cid, f"{code:g}={lab}", "value labels agree with the codebook",
                        f"the file labels code {code:g} as {lab!r}, which is code {other} in the "
                        f"codebook ({it.values[int(float(code))][1] if int(float(code)) in it.values else 'no such code'} "
                        f"is code {code:g} there): recode the column or fix its labels")


def _strat_name(code: object) -> str:
    """A stratum's name as the report's data hold it: a province's English name, any other code
    as written."""
    return str(_strat_label(code))


def _strat_label(code: object) -> str:
    """A stratum's name in a message: a province's English name that the Chinese edition gives
    in Chinese (:class:`analysis.i18n.Name`), any other code as written."""
    try:
        p = provinces.resolve(code)
    except provinces.UnknownProvince:
        return str(code)
    return Name(p.name_en, zh=p.name_zh_short)


def _add_derived(clean: pd.DataFrame) -> pd.DataFrame:
    if "province" in clean:
        t = provinces.table().set_index("adcode")
        code = clean["province"]
        clean = clean.assign(
            province=code.astype("Int64"),
            province_en=code.map(t["name_en"]).astype(object),
            region3=code.map(t["region3"]).astype(object),
            region4=code.map(t["region4"]).astype(object),
        )
    return clean


def validate_wave(wave: str | Path, codebook: Codebook | None = None
                  ) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Validate a wave; return the report and the clean data of each questionnaire.

    The clean data hold floats (NaN for missing) for coded and numeric items, strings for ids and
    PSUs, the province's GB/T 2260 code and derived ``province_en``, ``region3``, ``region4``.
    A wave that cannot be read at all gives a report with one error and no data.
    """
    cb = codebook or load_codebook()
    try:
        spec = load_spec(wave, tuple(cb.questionnaires))
    except WaveError as e:
        rep = ValidationReport(str(wave))
        rep.problems.append(Problem(Path(e.file).name if e.file else "", e.row, e.column, "",
                                    e.rule, e.message))
        return rep, {}
    except WaveSpecInvalid as e:
        rep = ValidationReport(str(wave))
        for p in e.problems:
            rep.problems.append(Problem("wave.yml", p.line, p.key, "", "wave.yml schema",
                                        f"{p.key + ': ' if p.key else ''}{p.message}"))
        return rep, {}
    report = ValidationReport(spec.id)
    out: dict[str, pd.DataFrame] = {}
    present: dict[str, list[str]] = {}
    raws: dict[str, RawTable] = {}
    for q, qs in spec.questionnaires.items():
        try:
            raw = read_questionnaire(qs, cb)
        except WaveError as e:
            report.problems.append(Problem(file_label(Path(e.file), spec.folder), e.row, e.column, "", e.rule,
                                           e.message))
            continue
        fname = file_label(raw.file, spec.folder)
        report.files[fname] = raw.sha256
        raws[q] = raw
        present[q] = [c for c in raw.frame.columns]
        _check_file_missing_ranges(report, raw, cb, fname)
        clean = _check_questionnaire(report, cb, raw, spec)
        if clean is not None:
            out[q] = _add_derived(clean)
    _check_missing_codes(report, spec, cb, present)
    if "villagers" not in spec.questionnaires:
        report.problems.append(Problem("wave.yml", None, "questionnaires", "", "villager questionnaire",
                                       "the wave has no villagers questionnaire: the index and every "
                                       "estimate rest on it"))
    # (a file without its province column is refused above, for that column)
    if all(q in out and "province" in out[q] for q in ("villagers", "institutions")):
        have = set(out["villagers"]["province"].dropna())
        inst, raw = out["institutions"], raws["institutions"]
        fname, column = file_label(raw.file, spec.folder), raw.headers.get("province", "province")
        for code in sorted(set(inst["province"].dropna()) - have):      # rows named as the file shows them
            pos = int(np.flatnonzero((inst["province"] == code).to_numpy())[0])
            report.problems.append(Problem(fname, raw.file_row(pos), column, _strat_name(code),
                                           N_("institutions where villagers are"),
                                           Message(N_("township institutions of {province} but no villager "
                                                      "respondent there: check the province"),
                                                   province=_strat_label(code)), "warning"))
    report.problems.sort(key=lambda p: p.severity != "error")   # errors first, order kept within
    return report, out


def _check_file_missing_ranges(report: ValidationReport, raw: RawTable, cb: Codebook, fname: str) -> None:
    """Missing values an SPSS file declares must not be valid answers of the item."""
    if raw.questionnaire not in cb.questionnaires:
        return
    items = {it.id: it for it in cb.items(raw.questionnaire)}
    for cid, ranges in raw.declared_missing.items():
        it = items.get(cid)
        if it is None or it.type not in CODED_TYPES:
            continue
        hit = [c for c in it.values if _in_ranges(np.array([float(c)]), ranges)[0]]
        if hit:
            report.problems.append(Problem(fname, None, raw.headers.get(cid, cid), str(hit[0]),
                                           "missing codes are not answers",
                                           f"the file declares {hit[0]} missing for {cid!r}, but it is the "
                                           f"answer {it.values[hit[0]][1]!r}; fix the variable's missing "
                                           "values in the file"))
