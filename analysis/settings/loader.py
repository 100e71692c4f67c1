"""Strict YAML and readable settings errors: the only code in the package that opens a YAML file.

* :func:`read_yaml` refuses duplicate keys (PyYAML keeps the last one silently, so a repeated
  ``design:`` block would drop the strata without a word) and reports the line of each problem;
* :func:`validate` runs a pydantic model and turns its errors into one message per problem,
  naming the file, the key path, the value, the allowed values and the closest match:
  ``data/models.yml: models.wls_region.se: 'desing' is not one of hc1, cr1, design (did you mean
  'design'?)``.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from analysis import paths


class SettingsError(ValueError):
    """A settings file (``data/*.yml``, ``data/reference/*.yml`` or a ``wave.yml``) is invalid.

    ``problems`` holds one :class:`SettingsProblem` per broken rule.
    """

    def __init__(self, problems: list[SettingsProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def file(self) -> str:
        """The file of the first problem."""
        return self.problems[0].file


class SettingsProblem(typing.NamedTuple):
    """One broken rule of a settings file."""

    file: str
    """File, relative to the project root where possible."""
    key: str
    """Dotted key path (list items named by their ``name`` or ``key`` where they have one)."""
    message: str
    """What is wrong and what is allowed."""
    line: int | None = None
    """Line in the file, where known."""

    def __str__(self) -> str:
        where = f"{self.file}" + (f" (line {self.line})" if self.line else "")
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    p = Path(path)
    try:
        return p.resolve().relative_to(paths.ROOT.resolve()).as_posix()
    except ValueError:
        return str(p)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    # the mapping's own keys, before merge keys (``<<: *base``) bring in others: a key of its own
    # overrides a merged one, as YAML defines; the merged mapping's keys were checked as it was read
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:               # ``? [a, b]``: YAML allows it, no setting is named so
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a name or a number, not {type(key).__name__} {key!r}",
                key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key]}): YAML would keep only "
                "the last one; remove or merge the repeated block", key_node.start_mark)
        seen[key] = line
    return loader.construct_mapping_default(node, deep=deep)  # type: ignore[attr-defined]


_StrictLoader.construct_mapping_default = yaml.SafeLoader.construct_mapping  # type: ignore[attr-defined]
_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text strictly (no duplicate keys); errors name the file and line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise SettingsError([SettingsProblem(file, "", f"not valid YAML: {problem}", line)]) from None


def read_yaml(path: Path) -> Any:
    """Read a YAML file strictly (UTF-8, no duplicate keys)."""
    file = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SettingsError([SettingsProblem(file, "", f"not UTF-8 text ({e.reason} at byte {e.start}); "
                                             "save the file as UTF-8")]) from None
    except OSError as e:
        raise SettingsError([SettingsProblem(file, "", f"cannot be read ({e.strerror})")]) from None
    return parse_yaml(text, file)


def dump_yaml(data: Any) -> str:
    """YAML text of plain data (keys in the given order, Unicode kept)."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# ---- pydantic errors → messages ------------------------------------------------------------

def _closest(value: object, allowed: list[str]) -> str:
    if not isinstance(value, str) or not allowed:
        return ""
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _field_annotation(model: Any, loc: tuple) -> Any:
    """The type annotation reached by following ``loc`` from a model class (None if lost)."""
    ann: Any = model
    for part in loc:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            f = ann.model_fields.get(part) if isinstance(part, str) else None
            if f is None:
                return None
            ann = f.annotation
        elif typing.get_origin(ann) in (list, tuple) and isinstance(part, int):
            ann = typing.get_args(ann)[0]
        elif typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
        elif isinstance(part, str) and typing.get_origin(ann) in (typing.Union, types.UnionType):
            opts = [a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)
                    and part in a.model_fields]
            if not opts:
                return None
            ann = opts[0].model_fields[part].annotation
        else:
            return None
    return ann


def _unwrap(ann: Any) -> Any:
    """Strip Optional/Annotated so that a model class or a container type remains."""
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _allowed_keys(model: Any, loc: tuple) -> list[str]:
    ann = _unwrap(_field_annotation(model, loc))
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [f.alias or k for k, f in ann.model_fields.items()]
    return []


def _keys(loc: tuple, raw: Any, missing: bool = False) -> tuple:
    """``loc`` without pydantic's markers: validators (``function-after``) and the member of a
    union tried (``str``, ``int``, ``dict[int,Bilingual]``, a model's name). A marker names no
    key of the data it sits under: it follows a value that is not a mapping, or is absent from
    the mapping (but for the last key of a ``missing`` error: the required key not given)."""
    out: list = []
    node = raw
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out.append(part)
            node = (node[part] if isinstance(node, list) and part < len(node)
                    else node.get(part) if isinstance(node, dict) else None)
        elif not (part.startswith("function-") or "[" in part or not isinstance(node, dict)
                  or (part not in node and not (missing and i == len(loc) - 1))):
            out.append(part)
            node = node.get(part)
    return tuple(out)


def _pretty_loc(loc: tuple, raw: Any, missing: bool = False) -> str:
    """Dotted key path; list items named by their ``name``/``key``/``id`` (else by position)."""
    out: list[str] = []
    node = raw
    for part in _keys(loc, raw, missing):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            label = (item.get("name") or item.get("key") or item.get("id")) if isinstance(item, dict) else None
            out.append(str(label) if label else f"[{part}]")
            node = item
        else:
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out).replace(".[", "[")


def _message(err: dict, model: Any, raw: Any) -> str:
    loc = _keys(tuple(err["loc"]), raw, err["type"] == "missing")
    typ, value = err["type"], err.get("input")
    if typ == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return (f"unknown key {loc[-1]!r}; allowed: {', '.join(allowed)}" + _closest(loc[-1], allowed)
                if allowed else f"unknown key {loc[-1]!r}")
    if typ == "literal_error":
        # "'a', 'b' or 'c'"; numbers unquoted: "1 or -1"
        expected = err.get("ctx", {}).get("expected", "")
        allowed = re.findall(r"'([^']*)'", expected) or [a for a in re.split(r",\s*|\s+or\s+", expected) if a]
        return f"{value!r} is not one of {', '.join(allowed)}" + _closest(value, allowed)
    if typ == "missing":
        return "required key is missing"
    if typ.startswith(("int_", "float_", "bool_", "string_", "dict_", "list_", "greater", "less")):
        return f"{value!r}: {err['msg'][0].lower()}{err['msg'][1:]}"
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return msg if value is None or isinstance(value, (dict, list)) else f"{value!r}: {msg}"


def validate(model: type[BaseModel], raw: Any, file: str, *, context: dict | None = None) -> Any:
    """Validate plain data against a pydantic model; every error becomes a :class:`SettingsProblem`."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as e:
        problems: list[SettingsProblem] = []
        shallow: set[int] = set()
        union_member = False                    # whether the last problem is a union member's
        for err in e.errors(include_url=False):
            loc = tuple(err["loc"])
            problem = SettingsProblem(file, _pretty_loc(loc, raw, err["type"] == "missing"),
                                      _message(err, model, raw))
            last = problems[-1] if problems else None
            head = f"{err.get('input')!r}: "
            member = len(_keys(loc, raw, err["type"] == "missing")) < sum(
                not (isinstance(p, str) and p.startswith("function-")) for p in loc)
            merge = (last and member and union_member and last.key == problem.key
                     and last.message.startswith(head) and problem.message.startswith(head))
            union_member = member
            if merge:
                # one value refused by each member of a union (``str | int``): one problem
                problems[-1] = last._replace(  # type: ignore[union-attr]
                    message=f"{last.message}, or {problem.message[len(head):]}")
            else:
                problems.append(problem)
            if isinstance(err.get("input"), (dict, list)) and err["type"].endswith("_type"):
                shallow.add(len(problems) - 1)    # a mapping where a union also allows a scalar
        # of a mapping that one member of a union refused for its type and another for what it
        # holds, only what it holds is wrong
        problems = [p for i, p in enumerate(problems)
                    if not (i in shallow and any(q.key.startswith((p.key + ".", p.key + "[")) for q in problems))]
        raise SettingsError(problems) from None
