"""Read a survey wave: ``wave.yml`` plus one file per questionnaire, in any common format.

Formats: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030; detected, or declared in ``wave.yml``), XLSX,
SPSS ``.sav``, Stata ``.dta`` (pyreadstat; value labels kept to map codes) and Parquet.  Raw
headers are mapped to codebook ids through ``column_map`` in ``wave.yml`` and the codebook's
aliases.  This module only reads: every value is returned as found; :mod:`analysis.validate`
checks and converts.  Nothing under ``data/waves/`` is ever written.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io as _io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from analysis import paths
from analysis.ingest.codebook import Codebook
from analysis.settings import SettingsError, WaveSettings, load_wave_settings, read_yaml
from analysis.settings.options import CODED_TYPES, DETECT_ENCODING, NUMERIC_TYPES
from analysis.settings.schemas import WAVE_ID_PATTERN

SUPPORTED = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".sav": "sav",
             ".zsav": "sav", ".dta": "dta", ".parquet": "parquet", ".pq": "parquet"}
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
MAX_FILE_BYTES = 2_000_000_000


class WaveError(Exception):
    """A wave cannot be read at all (bad ``wave.yml``, missing or unreadable file).

    Carries ``file``, ``row``, ``column`` and ``rule`` like a validation problem.
    """

    def __init__(self, message: str, *, file: str = "", row: int | None = None,
                 column: str = "", rule: str = "read") -> None:
        super().__init__(message)
        self.message, self.file, self.row, self.column, self.rule = message, file, row, column, rule


@dataclass(frozen=True)
class QuestionnaireSpec:
    """Where and how one questionnaire of a wave is stored."""

    name: str
    file: Path
    encoding: str | None = None
    delimiter: str = ","
    sheet: str | int | None = 0
    header_row: int = 1
    column_map: dict[str, str] = field(default_factory=dict)
    label: str = ""
    """The file as messages name it: its path in the wave's folder (``raw/villagers.csv``)."""

    @property
    def shown(self) -> str:
        """The name messages give the file: its ``label``, else its file name."""
        return self.label or self.file.name

    @property
    def wave_yml(self) -> Path:
        """The wave.yml naming the file: in the wave's folder, above a file in a subfolder."""
        return self.file.parents[max(len(Path(self.label).parts), 1) - 1] / "wave.yml"


@dataclass(frozen=True)
class WaveSpec:
    """The parsed ``wave.yml`` of a wave (checked by :class:`analysis.settings.WaveSettings`)."""

    id: str
    folder: Path
    title: str
    year: int | None
    synthetic: bool
    questionnaires: dict[str, QuestionnaireSpec]
    design: dict[str, str | None]
    min_cell: int
    settings: WaveSettings | None = None
    """The whole checked ``wave.yml``."""
    extra_missing: tuple[float, ...] = ()
    """Missing codes the wave declares for every column (``missing_codes`` in wave.yml, a list), on
    top of the codebook's."""
    column_missing: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Missing codes the wave declares for some columns only (``missing_codes``, a mapping)."""
    lonely_psu: str = "adjust"
    """Rule for a stratum with a single PSU (``design.lonely_psu``)."""
    reproduces_seed: bool = False
    """Whether the wave is (a replica of) the seed study's survey."""
    design_from_options: bool = False
    """The design columns were given as command-line options (``ruralgov stream``), not by
    ``wave.yml``: messages name the option."""

    def missing_for(self, column: str) -> tuple[float, ...]:
        """The missing codes the wave declares for a column: those of every column, then its own."""
        return (*self.extra_missing, *self.column_missing.get(column, ()))


class WaveSpecInvalid(Exception):
    """``wave.yml`` breaks its schema: one :class:`analysis.settings.SettingsProblem` per rule."""

    def __init__(self, problems: list) -> None:  # type: ignore[type-arg]
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _spec_error(msg: str, file: Path, rule: str = "wave.yml") -> WaveError:
    return WaveError(msg, file=str(file), rule=rule)


WAVE_ID = re.compile(WAVE_ID_PATTERN)
"""A wave id: a lower-case slug (never ``.`` or ``..``), equal to the name of its folder; match
it with ``fullmatch`` (``match`` would let a trailing newline through the pattern's ``$``).

The id names the report's folder ``_build/<id>``: anything else could point a build outside
``_build/`` (``id: ..`` would make it replace the project root)."""


def check_wave_id(wave_id: object, folder: Path, yml: Path) -> str:
    """The id of ``wave.yml``, checked: a slug equal to the wave folder's name."""
    if isinstance(wave_id, (bool, int, float, datetime.date)):     # YAML read `id: 2024` as a number
        kind = {bool: "true/false value", int: "number", float: "number"}.get(type(wave_id), "date")
        raise WaveError(f"{yml.name}: id {wave_id} is read as a {kind}, not as text: put it in quotes "
                        f"(id: '{folder.name}' names this folder)",
                        file=str(yml), column="id", rule="wave id")
    if not isinstance(wave_id, str) or not WAVE_ID.fullmatch(wave_id):
        raise WaveError(f"{yml.name}: id {wave_id!r} is not a valid wave id: use 1-64 characters among "
                        "a-z, 0-9, '.', '_' and '-', starting with a letter or digit (e.g. "
                        "2024-wave); the id names the report folder _build/<id>",
                        file=str(yml), column="id", rule="wave id")
    if wave_id != folder.name:
        raise WaveError(f"{yml.name}: id {wave_id!r} differs from the name of its folder "
                        f"{folder.name!r}: rename the folder or the id so that they are equal",
                        file=str(yml), column="id", rule="wave id")
    return wave_id


def load_spec(wave: str | Path, questionnaires: tuple[str, ...] | None = None) -> WaveSpec:
    """Read and check ``wave.yml`` of a wave named by id (under ``data/waves/``) or by path.

    Raises
    ------
    WaveError
        The folder, its wave.yml or a file it names is missing, or the id is not valid.
    WaveSpecInvalid
        wave.yml breaks its schema (one problem per broken rule).
    """
    folder = paths.wave_dir(wave)
    yml = folder / "wave.yml"
    if not folder.is_dir():
        known = sorted(p.name for p in paths.WAVES.glob("*") if (p / "wave.yml").exists())
        raise WaveError(f"no wave {str(wave)!r}: {folder} is not a folder; known waves: "
                        f"{', '.join(known) or 'none'}", file=str(folder), rule="wave exists")
    if not yml.exists():
        raise _spec_error(f"{yml} is missing: every wave folder needs a wave.yml", yml)
    try:
        raw = read_yaml(yml)
    except SettingsError as e:
        p = e.problems[0]
        raise WaveError(f"{yml.name}: {p.message}", file=str(yml), row=p.line,
                        rule="wave.yml is YAML") from None
    if isinstance(raw, dict) and "id" in raw:
        check_wave_id(raw["id"], folder, yml)      # first: the id names the output folder
    try:
        st = load_wave_settings(folder, questionnaires)
    except SettingsError as e:
        raise WaveSpecInvalid(e.problems) from None
    qs = {}
    for name, q in st.questionnaires.items():
        f = (folder / q.file).resolve()
        if folder.resolve() not in f.parents:
            raise _spec_error(f"{yml.name}: questionnaire {name!r} file {q.file!r} lies outside the "
                              f"wave folder; files must be inside {folder}", yml, rule="path inside wave")
        if not f.exists():
            raise _spec_error(f"{yml.name}: questionnaire {name!r} names {q.file!r}, which does not "
                              f"exist in {folder}", yml, rule="file exists")
        if not f.is_file():             # a folder of Parquet parts: read partition by partition
            raise _spec_error(f"{yml.name}: questionnaire {name!r} names {q.file!r}, a folder: a "
                              "questionnaire is one file (a folder of Parquet partitions is read by "
                              "`ruralgov stream`)", yml, rule="file exists")
        qs[name] = QuestionnaireSpec(
            name=name, file=f, encoding=q.encoding or st.encoding,
            delimiter=q.delimiter or st.delimiter or ("\t" if f.suffix.lower() == ".tsv" else ","),
            sheet=q.sheet, header_row=q.header_row, column_map=dict(q.column_map),
            label=f.relative_to(folder.resolve()).as_posix())
    d = st.design
    return WaveSpec(
        id=st.id, folder=folder, title=st.title or st.id, year=st.year, synthetic=st.synthetic,
        questionnaires=qs, design={"weight": d.weight, "strata": d.strata, "psu": d.psu, "fpc": d.fpc},
        min_cell=st.min_cell, settings=st,
        extra_missing=() if isinstance(st.missing_codes, dict) else tuple(st.missing_codes),
        column_missing=({c: tuple(v) for c, v in st.missing_codes.items()}
                        if isinstance(st.missing_codes, dict) else {}),
        lonely_psu=d.lonely_psu, reproduces_seed=st.reproduces_seed)


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def declared_encoding(encoding: str | None) -> str | None:
    """The encoding wave.yml names, or None where it asks for detection (auto, detect: any case)."""
    return encoding if encoding and encoding.lower() not in DETECT_ENCODING else None


def _decode(data: bytes, spec: QuestionnaireSpec) -> tuple[str, str]:
    declared, file = declared_encoding(spec.encoding), spec.file
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError) as e:
            pos = getattr(e, "start", None)
            line = data[:pos].count(b"\n") + 1 if pos is not None else None
            raise WaveError(f"{spec.shown}: cannot be decoded as {declared!r} (declared in wave.yml)"
                            + (f" at line {line}" if line else "") + "; is the encoding right? "
                            "(try encoding: gb18030 or utf-8, or remove it to detect)",
                            file=str(file), row=line, rule="encoding") from None
    for enc in AUTO_ENCODINGS:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc != AUTO_ENCODINGS[0]:
            _refuse_mixed_encodings(data, spec)
        return text, enc
    _refuse_mixed_encodings(data, spec)     # UTF-8 rows pasted into GBK ones (no GB18030 text either)
    raise WaveError(f"{spec.shown}: neither UTF-8 nor GB18030; declare 'encoding' in wave.yml",
                    file=str(file), rule="encoding")


def _refuse_mixed_encodings(data: bytes, spec: QuestionnaireSpec) -> None:
    """A file some of whose lines are UTF-8 Chinese and others not was pasted together from
    files of two encodings: decoding it whole as GB18030 would turn the UTF-8 part into
    mojibake (上海 → 涓婃捣). Name the first line that is not UTF-8."""
    utf8_lines, first_bad = 0, None
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            if first_bad is None:
                first_bad = i
        if utf8_lines and first_bad is not None:
            raise WaveError(f"{spec.shown}: the file mixes text encodings — some rows are UTF-8 and "
                            f"row {first_bad} is not (GBK?): it was probably pasted together from two "
                            "files; re-export it in one encoding", file=str(spec.file), row=first_bad,
                            rule="one encoding")


@dataclass
class RawTable:
    """A questionnaire file as read: every value as found, headers mapped to codebook ids."""

    questionnaire: str
    file: Path
    frame: pd.DataFrame
    """Values as found (strings for text formats); columns are codebook ids or raw headers.
    Validation consumes it: each column is freed once converted (memory on large waves)."""
    headers: dict[str, str]
    """Codebook id (or unknown raw header) → the header found in the file."""
    unknown: list[str]
    """Raw headers that match no codebook item (kept, reported)."""
    first_data_row: int
    """File row (1-based, header row included) of the frame's first row."""
    encoding: str | None
    value_labels: dict[str, dict[Any, str]]
    """Value labels found in SPSS/Stata files: column id → {code: label}."""
    sha256: str
    declared_missing: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    """Missing values a file declares itself (SPSS user-missing): column id → (lo, hi) ranges."""
    numbers: Any = None
    """The one float64 block (columns × rows) behind the frame's numeric columns when the CSV
    reader parsed them as it read; validation converts them in place instead of copying."""
    rows: np.ndarray | None = None
    """File row of each frame row where the file skips some (blank lines between data rows);
    None: the rows follow one another from ``first_data_row``."""

    def file_row(self, pos: int) -> int:
        """The file row (as a spreadsheet shows it) of the frame's row at position ``pos``."""
        return int(self.rows[pos]) if self.rows is not None else int(pos) + self.first_data_row


_BOM = b"\xef\xbb\xbf"
_UTF8_NAMES = ("utf-8", "utf8", "utf-8-sig", "utf_8", *DETECT_ENCODING)


MAX_CELL_CHARS = 10_000
"""Characters a cell may hold (a longer one is a pasted document, not an answer)."""


def _has_long_line(mm, start: int, limit: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether a line after byte ``start`` (a newline, or -1) is longer than ``limit`` bytes:
    from each newline, the last newline within ``limit`` bytes — about one search per
    ``limit`` bytes of the file, not one per line."""
    p, n = start, len(mm)
    while p != -1 and p + limit + 1 < n:
        q = mm.rfind(b"\n", p + 1, p + limit + 2)
        if q == -1:
            return True
        p = q
    return False


def _separator(spec: QuestionnaireSpec) -> str:
    """The delimiter declared in wave.yml (``\\t`` or ``tab`` for a tab)."""
    return "\t" if spec.delimiter in ("\\t", "tab") else spec.delimiter


def _read_csv_arrow(spec: QuestionnaireSpec, numeric: Callable[[list[str]], set[str]] | None = None
                    ) -> tuple[pd.DataFrame, str, np.ndarray | None] | None:
    """Fast path for a well-formed UTF-8 file: pyarrow's multithreaded reader, values kept as
    strings in Arrow memory (no Python object per cell, no decoded copy of the whole text).

    ``numeric`` names, from the header, the columns whose values should be numbers: they are
    parsed as float64 while the file is read (blank cells missing), which spares validation a
    text column and a cast for each.  If any of their cells is not a plain number (a label, a
    typo, a blank made of spaces, "NaN" written out) the whole file is read again as text, so
    that validation finds and names every such cell.

    Returns None whenever the file is anything but plain (another encoding, a stray BOM, a title
    above the header, an empty or repeated header, a row of the wrong length, bytes that are not
    UTF-8): the careful path then reads it and names the problem.  A file whose every data row
    ends with a delimiter is plain: the empty column after the last header is checked and
    dropped.  Both paths give equal frames on every file the fast one accepts as text, and equal
    validation whatever it reads as numbers (``tests/test_fast_paths.py``).
    """
    if spec.encoding and spec.encoding.lower() not in _UTF8_NAMES:
        return None
    if spec.header_row != 1 or spec.file.stat().st_size == 0:
        return None
    import mmap

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    with open(spec.file, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = 3 if mm[:3] == _BOM else 0
        end = mm.find(b"\n", start)
        first = mm[start: end if end != -1 else len(mm)]
        try:
            header_line = first.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            return None
        sep = _separator(spec)
        if len(sep) != 1 or sep not in header_line:
            return None
        names = next(csv.reader([header_line], delimiter=sep))
        if any(not n.strip() for n in names) or len({n.strip() for n in names}) != len(names):
            return None
        if "\ufeff" in header_line:          # a second BOM, or one inside the header
            return None
        typed = numeric(names) if numeric else set()
        # a cell too long to be an answer is reported by validation from the text; a number
        # read as a number has no length left, so a file with a line that long is read as text
        if typed and _has_long_line(mm, end, MAX_CELL_CHARS):
            typed = set()
        # a stray BOM (files pasted together) is followed by a header, which no numeric column
        # reads as a number: with numeric columns it can only be in a text cell, checked below
        if not typed and mm.find(_BOM, start) != -1:
            return None
        quoted = mm.find(b'"') != -1
        # Arrow skips a blank line between data rows; the careful path numbers the rows after it
        stop = _content_end(mm)
        if mm.find(b"\n\n", end, stop) != -1 or mm.find(b"\n\r\n", end, stop) != -1:
            return None
        # rows that end with a delimiter (as some spreadsheets export) are read with one column
        # more, named by no header; it must be empty on every row, and is dropped
        extra = _trailing_column(mm, end, sep, names)
    columns = names + [extra] if extra else names
    try:
        table = pacsv.read_csv(
            spec.file,
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24, skip_rows=1 if extra else 0,
                                           column_names=columns if extra else None),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=quoted),
            convert_options=pacsv.ConvertOptions(
                # large_string: the type pandas' Arrow-backed strings hold, so no cast of every
                # column when the table becomes a frame
                column_types={n: pa.float64() if n in typed else pa.large_string() for n in columns},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
                null_values=[""] if typed else []))
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return _read_csv_arrow(spec) if typed else None
    if extra:
        if pc.any(pc.not_equal(table.column(extra), "")).as_py():
            return None         # a value beyond the last header: the careful path names its row
        table = table.drop_columns([extra])
    if table.column_names != names:
        return None
    dtype = pd.StringDtype(na_value=float("nan"))
    as_text = {pa.string(): dtype, pa.large_string(): dtype}.get
    declared = declared_encoding(spec.encoding)
    if not typed:
        df = table.to_pandas(types_mapper=as_text, self_destruct=True)
        return df, declared or AUTO_ENCODINGS[0], None
    for n in names:
        if n not in typed and pc.any(pc.match_substring(table.column(n), "\ufeff")).as_py():
            del table
            return _read_csv_arrow(spec)        # a stray BOM in a text cell: the careful path names it
    # the numbers go into one float block, column by column, each Arrow column freed once copied
    # (the block becomes the validated wave's: no other copy of them is made)
    num_cols = [n for n in names if n in typed]
    block = float_block(len(num_cols), table.num_rows)
    for j, n in enumerate(num_cols):
        col = table.column(n)
        at = 0
        for ch in col.chunks:
            block[j, at: at + len(ch)] = ch.to_numpy(zero_copy_only=False)     # null → NaN
            at += len(ch)
        nulls = col.null_count
        table = table.drop_columns([n])
        del col
        if np.count_nonzero(np.isnan(block[j])) != nulls:
            del table, block      # "NaN" written out parses as a number; as text it is reported
            return _read_csv_arrow(spec)
    text = table.to_pandas(types_mapper=as_text, self_destruct=True)
    del table
    df = pd.DataFrame(block.T, columns=num_cols, copy=False)
    for i, n in enumerate(names):
        if n not in typed:
            df.insert(i, n, text.pop(n))
    return df, declared or AUTO_ENCODINGS[0], block


def _content_end(mm) -> int:  # type: ignore[no-untyped-def]
    """Position after the file's last byte that is not a blank or a line break."""
    n = len(mm)
    while n and mm[n - 1] in b" \t\r\n":
        n -= 1
    return n


def _trailing_column(mm, end: int, sep: str, names: list[str]) -> str | None:  # type: ignore[no-untyped-def]
    """A name for the column after the last header if the first data row (the line after the
    header, which ends at ``end``) has one field more than the header and that field is empty;
    else None.  Only a guess from one row: Arrow refuses a file whose rows differ in length, and
    the column's every cell is checked empty once read."""
    if end == -1:
        return None
    stop = mm.find(b"\n", end + 1)
    try:
        line = mm[end + 1: stop if stop != -1 else len(mm)].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    row = next(csv.reader([line], delimiter=sep), [])
    if len(row) != len(names) + 1 or row[-1] != "":
        return None
    name = "\0"
    while name in names:
        name += "\0"
    return name


def float_block(columns: int, rows: int) -> np.ndarray:
    """An uninitialised float64 block (columns × rows) from Arrow's memory pool, which keeps the
    pages it frees: the block reuses the memory of the Arrow buffers just read and released
    instead of asking the system for new pages (where first-touch costs more than the copy)."""
    import pyarrow as pa

    buf = pa.allocate_buffer(columns * rows * 8)
    return np.frombuffer(buf, dtype=np.float64).reshape(columns, rows)


def _read_csv(spec: QuestionnaireSpec, numeric: Callable[[list[str]], set[str]] | None = None
              ) -> tuple[pd.DataFrame, str, np.ndarray | None, np.ndarray | None]:
    """The frame, its encoding, the numbers block of the fast path and the rows of the careful one."""
    fast = _read_csv_arrow(spec, numeric)
    if fast is not None:
        return (*fast, None)
    df, enc, rows = _read_csv_careful(spec)
    return df, enc, None, rows


def _read_csv_careful(spec: QuestionnaireSpec) -> tuple[pd.DataFrame, str, np.ndarray | None]:
    """Any delimited file: decoded whole, checked for encodings, stray BOMs, delimiters and row
    lengths so that each problem is named with its row. Also returns the file row of each data
    row where blank lines between them were skipped (else None: they follow the header)."""
    data = spec.file.read_bytes()
    if not data.strip():
        raise WaveError(f"{spec.shown}: the file is empty (0 bytes or only blanks)",
                        file=str(spec.file), row=1, rule="file not empty")
    text, enc = _decode(data, spec)
    text = text.lstrip("\ufeff")
    if "\ufeff" in text:
        line = text[: text.index("\ufeff")].count("\n") + 1
        raise WaveError(f"{spec.shown}: a byte-order mark (BOM) inside the file at row {line}: "
                        "were two files pasted together? Remove the stray BOM and header",
                        file=str(spec.file), row=line, rule="BOM only at the start")
    sep = _separator(spec)
    head = text.split("\n", spec.header_row)
    first = head[spec.header_row - 1].rstrip("\r") if len(head) >= spec.header_row else ""
    if sep not in first:
        for alt, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")):
            if alt != sep and first.count(alt) >= 2:
                raise WaveError(
                    f"{spec.shown}: the header row has no {sep!r} but {first.count(alt)} "
                    f"{name}s: the file seems {name}-delimited; declare delimiter: "
                    f"{alt!r} for it in wave.yml", file=str(spec.file), row=spec.header_row,
                    rule="delimiter")
    names = next(csv.reader([first], delimiter=sep)) if first else []
    _refuse_duplicate_headers([n.strip() for n in names], spec)
    blank = _blank_rows(text, sep, spec) if names else []
    if names:                       # before pandas: its error for a row too long names no row
        _check_row_lengths(text, sep, spec, len(names))
    try:
        # index_col=False: rows that end with a delimiter (one empty cell more than the header)
        # would otherwise make the first column the index and shift every value one column left
        with warnings.catch_warnings():       # longer rows were judged above, cell by cell
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, index_col=False,
                             skiprows=spec.header_row - 1, engine="c", quoting=csv.QUOTE_MINIMAL)
    except pd.errors.ParserError as e:
        raise WaveError(f"{spec.shown}: not a well-formed delimited file ({e})",
                        file=str(spec.file), rule="csv structure") from None
    except pd.errors.EmptyDataError:
        raise WaveError(f"{spec.shown}: no header row", file=str(spec.file), row=1,
                        rule="file not empty") from None
    if not blank:
        return df, enc, None
    rows = np.arange(spec.header_row + 1, spec.header_row + 1 + len(df) + len(blank))
    return df, enc, rows[~np.isin(rows, blank)]


def _blank_rows(text: str, sep: str, spec: QuestionnaireSpec) -> list[int]:
    """File rows of the blank lines between data rows. The readers skip them (they are no
    respondents), so the rows after them are numbered from this list, as a spreadsheet shows them.
    Blank lines after the last row are the end of the file, not rows."""
    body = text.rstrip()
    if not re.search(r"\n[ \t\r]*\n", body):
        return []
    if '"' not in body:
        rows = ((i, not line.strip()) for i, line in enumerate(body.split("\n"), start=1))
    else:                   # a quoted cell may hold a blank line: rows are the reader's records
        rows = ((i, _blank_record(r)) for i, r in enumerate(csv.reader(_io.StringIO(body), delimiter=sep),
                                                           start=1))
    return [i for i, blank in rows if i > spec.header_row and blank]


def _blank_record(record: list[str]) -> bool:
    """A record of a blank line: no field, or one field of spaces. A line of delimiters only
    (``,,,,``) is a row of empty cells, which pandas keeps as a row, not a blank line."""
    return not record or (len(record) == 1 and not record[0].strip())


def _check_row_lengths(text: str, sep: str, spec: QuestionnaireSpec, n_fields: int) -> None:
    """Every data row has as many fields as the header (pandas would pad a short row silently);
    a longer row only if its cells beyond the header are empty (a delimiter ending each line, as
    some spreadsheets export): a value without a header would be lost."""
    if '"' not in text:      # fast path: no quoting, so fields = separators + 1 on each line
        odd = [(i, line) for i, line in enumerate(text.split("\n"), start=1)
               if i > spec.header_row and line.strip() and line.count(sep) + 1 != n_fields]
        rows = ((i, line.rstrip("\r").split(sep)) for i, line in odd)
    else:
        rows = ((i, r) for i, r in enumerate(csv.reader(_io.StringIO(text), delimiter=sep), start=1)
                if i > spec.header_row and not _blank_record(r))    # a blank line is skipped, as pandas does
    for i, row in rows:
        extra = [(j, c) for j, c in enumerate(row[n_fields:], start=n_fields + 1) if c.strip()]
        if extra:
            j, cell = extra[0]
            raise WaveError(f"{spec.shown}: row {i} has {len(row)} fields but the header has "
                            f"{n_fields}: {cell[:30]!r} is in column {j}, which has no header",
                            file=str(spec.file), row=i, column=f"column {j}", rule="cells under a header")
        if len(row) < n_fields:
            last = i == text.rstrip("\n").count("\n") + 1 and not text.endswith("\n")
            hint = " and the file does not end with a line break: it looks truncated" if last else ""
            raise WaveError(f"{spec.shown}: row {i} has {len(row)} fields but the header has "
                            f"{n_fields}{hint}", file=str(spec.file), row=i,
                            rule="complete rows")


def _refuse_duplicate_headers(names: list[str], spec: QuestionnaireSpec) -> None:
    """Two columns with one header: a reader would silently keep only one of them."""
    seen: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        if n and n in seen:
            raise WaveError(f"{spec.shown}: columns {seen[n]} and {i} are both headed {n!r}; a "
                            "header must name one column: rename or remove one of them",
                            file=str(spec.file), row=spec.header_row, column=n, rule="unique headers")
        seen.setdefault(n, i)


def _xlsx_checks(spec: QuestionnaireSpec) -> None:
    """Duplicate headers, and formula cells whose value was never computed (a file written by a
    program, not saved by a spreadsheet): read as blanks they would lose answers silently."""
    import openpyxl

    values = openpyxl.load_workbook(spec.file, read_only=True, data_only=True)
    formulas = openpyxl.load_workbook(spec.file, read_only=True, data_only=False)
    try:
        sheets = values.sheetnames
        name = (spec.sheet if isinstance(spec.sheet, str)
                else sheets[spec.sheet] if 0 <= spec.sheet < len(sheets) else None)
        if name is None or name not in sheets:
            raise WaveError(f"{spec.shown}: no sheet {spec.sheet!r}; sheets: {', '.join(sheets)} "
                            "(sheet is a name, or a position counted from 0)", file=str(spec.file),
                            rule="sheet exists")
        header = next(values[name].iter_rows(min_row=spec.header_row, max_row=spec.header_row,
                                             values_only=True), ())
        _refuse_duplicate_headers(["" if h is None else str(h).strip() for h in header], spec)
        cells = []
        for rv, rc in zip(values[name].iter_rows(values_only=True), formulas[name].iter_rows()):
            for v, c in zip(rv, rc):
                f = c.value
                if v is None and isinstance(f, str) and f.startswith("="):
                    cells.append(getattr(c, "coordinate", "?"))
        if cells:
            shown = ", ".join(cells[:10]) + (f" and {len(cells) - 10} more" if len(cells) > 10 else "")
            raise WaveError(f"{spec.shown}: {len(cells)} formula cell(s) without a saved value "
                            f"({shown}): the file was written by a program that does not compute "
                            "formulas, so they would read as blanks; open and save it in a spreadsheet "
                            "(which stores the values), or export the sheet as CSV",
                            file=str(spec.file), column=cells[0], rule="formula values saved")
    finally:
        values.close()
        formulas.close()


def _numeric_headers(spec: QuestionnaireSpec, codebook: Codebook, names: list[str]) -> set[str]:
    """The headers of a file that map to a coded or numeric item (its values should be numbers)."""
    if spec.name not in codebook.questionnaires:
        return set()
    types = {it.id: it.type for it in codebook.items(spec.name)}
    numeric = (*CODED_TYPES, *NUMERIC_TYPES)
    return {h for h in names if types.get(_header_item(h, spec.name, codebook, spec.column_map)) in numeric}


def _header_item(header: str, questionnaire: str, codebook: Codebook,
                 column_map: Mapping[str, str] | None = None) -> str | None:
    """The codebook item a file's header names: by wave.yml's column_map, else by id or alias."""
    return (column_map or {}).get(header) or codebook.resolve_header(questionnaire, header)


def map_headers(columns: Iterable[object], questionnaire: str, codebook: Codebook, *, shown: str, file: Path,
                header_row: int = 1, column_map: Mapping[str, str] | None = None,
                ) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """A file's headers mapped to codebook items (by wave.yml's ``column_map``, else by id, alias
    or question text): codebook id (or unknown header) → header found, the unknown headers, and
    header → id to rename the frame's columns with. Two headers naming one item, or a question
    text several items share, are a :class:`WaveError` naming the header."""
    headers: dict[str, str] = {}
    unknown: list[str] = []
    rename: dict[str, str] = {}
    for h in columns:
        hs = str(h)
        cid = _header_item(hs, questionnaire, codebook, column_map)
        if cid is None and len(shared := codebook.header_items(questionnaire, hs)) > 1:
            raise WaveError(f"{shown}: column {hs!r} is the question text of {len(shared)} "
                            f"items ({', '.join(map(repr, shared))}), so it cannot say which it holds: "
                            "head it with the item's id or an alias, or map it to the item in wave.yml "
                            "(column_map)",
                            file=str(file), row=header_row, column=hs, rule="one item per header")
        if cid is None:
            unknown.append(hs)
            cid = hs
        elif cid in headers:
            raise WaveError(f"{shown}: columns {headers[cid]!r} and {hs!r} both map to "
                            f"item {cid!r}", file=str(file), row=header_row, column=hs,
                            rule="one column per item")
        headers[cid] = hs
        rename[hs] = cid
    return headers, unknown, rename


def read_questionnaire(spec: QuestionnaireSpec, codebook: Codebook) -> RawTable:
    """Read one questionnaire file and map its headers to codebook ids."""
    kind = SUPPORTED.get(spec.file.suffix.lower())
    if kind is None:
        raise WaveError(f"{spec.shown}: unsupported format {spec.file.suffix!r}; supported: "
                        f"{', '.join(sorted(SUPPORTED))}", file=str(spec.file), rule="format")
    size = spec.file.stat().st_size
    if size == 0:
        raise WaveError(f"{spec.shown}: the file is empty (0 bytes)", file=str(spec.file),
                        row=1, rule="file not empty")
    if size > MAX_FILE_BYTES:
        raise WaveError(f"{spec.shown}: {size} bytes exceeds the in-memory limit; use the "
                        "partitioned Parquet path", file=str(spec.file), rule="file size")
    enc: str | None = None
    numbers = rows = None
    labels: dict[str, dict[Any, str]] = {}
    declared: dict[str, tuple[tuple[float, float], ...]] = {}
    first_row = spec.header_row + 1
    try:
        if kind == "csv":
            df, enc, numbers, rows = _read_csv(spec, lambda names: _numeric_headers(spec, codebook, names))
        elif kind == "xlsx":
            _xlsx_checks(spec)
            df = pd.read_excel(spec.file, sheet_name=spec.sheet, dtype=object,
                               skiprows=spec.header_row - 1, engine="openpyxl")
        elif kind == "sav":
            import pyreadstat

            # user-missing values are read as their codes and the file's declared missing
            # values kept, so that they count as declared missing exactly as in a CSV
            df, meta = pyreadstat.read_sav(str(spec.file), apply_value_formats=False, user_missing=True)
            labels = {c: dict(v) for c, v in (meta.variable_value_labels or {}).items()}
            declared = _sav_missing(meta)
            first_row = 2
        elif kind == "dta":
            import pyreadstat

            # Stata's own encoding is read from the file; "auto" is the CSV readers' detection
            given = declared_encoding(spec.encoding)
            kw = {"encoding": given} if given else {}
            df, meta = pyreadstat.read_dta(str(spec.file), apply_value_formats=False, user_missing=False, **kw)
            labels = {c: dict(v) for c, v in (meta.variable_value_labels or {}).items()}
            first_row = 2
        else:
            df = pd.read_parquet(spec.file)
            first_row = 2
    except WaveError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure is a read error of this file
        raise WaveError(f"{spec.shown}: cannot be read as {kind} ({type(e).__name__}: {e})",
                        file=str(spec.file), rule="readable file") from None

    _check_column_map(spec, codebook, [str(h) for h in df.columns])
    headers, unknown, rename = map_headers(df.columns, spec.name, codebook, shown=spec.shown, file=spec.file,
                                           header_row=spec.header_row, column_map=spec.column_map)
    df = df.rename(columns=rename)
    labels = {rename.get(k, k): v for k, v in labels.items()}
    declared = {rename.get(k, k): v for k, v in declared.items()}
    return RawTable(spec.name, spec.file, df, headers, unknown, first_row, enc, labels,
                    sha256_file(spec.file), declared, numbers, rows)


def _sav_missing(meta) -> dict[str, tuple[tuple[float, float], ...]]:  # type: ignore[no-untyped-def]
    """Column → the missing values an SPSS file declares (ranges lo..hi; single values lo = hi)."""
    out: dict[str, tuple[tuple[float, float], ...]] = {}
    for col, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        r = []
        for m in ranges:
            try:
                r.append((float(m["lo"]), float(m["hi"])))
            except (TypeError, ValueError, KeyError):
                continue
        if r:
            out[col] = tuple(r)
    return out


def _check_column_map(spec: QuestionnaireSpec, codebook: Codebook, headers: list[str]) -> None:
    """column_map maps headers found in the file to items of this questionnaire."""
    import difflib

    ids = codebook.ids(spec.name) if spec.name in codebook.questionnaires else []
    for src, target in spec.column_map.items():
        if target not in ids:
            close = difflib.get_close_matches(target, ids, n=1, cutoff=0.6)
            raise WaveError(f"wave.yml: column_map maps {src!r} to {target!r}, which is not an item of "
                            f"the {spec.name} questionnaire" + (f" (did you mean {close[0]!r}?)" if close else
                                                                "; see data/codebook.yml"),
                            file=str(spec.wave_yml), column=src, rule="column_map")
        if src not in headers:
            close = difflib.get_close_matches(src, headers, n=1, cutoff=0.6)
            raise WaveError(f"wave.yml: column_map names the column {src!r}, which {spec.shown} does "
                            "not have" + (f" (did you mean {close[0]!r}?)" if close else ""),
                            file=str(spec.wave_yml), column=src, rule="column_map")
