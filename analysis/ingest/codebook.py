"""The questionnaire as data: ``data/codebook.yml`` loaded into immutable objects.

Example
-------
>>> from analysis.ingest.codebook import load_codebook
>>> cb = load_codebook()
>>> cb.item("villagers", "hlt_means").aspect
'means'
>>> cb.resolve_header("villagers", "省份")
'province'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from analysis import paths
from analysis.settings import SettingsError, SettingsProblem, load_settings
from analysis.settings.options import CODED_TYPES, ITEM_TYPES, NUMERIC_TYPES

__all__ = ["Codebook", "Item", "CodebookError", "load_codebook", "CODED_TYPES", "ITEM_TYPES", "NUMERIC_TYPES"]


class CodebookError(SettingsError):
    """The codebook itself is inconsistent (a bug in ``data/codebook.yml``, not in a wave)."""

    def __init__(self, message: str) -> None:
        super().__init__([SettingsProblem("data/codebook.yml", "", message)])


@dataclass(frozen=True)
class Item:
    """One questionnaire item (one column of a wave)."""

    id: str
    """Column name inside ruralgov."""
    type: str
    """One of :data:`ITEM_TYPES`."""
    text_zh: str
    """Question text in Chinese."""
    text_en: str
    """Question text in English."""
    questionnaire: str
    """Questionnaire the item belongs to (``villagers`` or ``institutions``)."""
    values: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Valid codes → (Chinese label, English label); empty for non-coded types."""
    missing: tuple[float, ...] = ()
    """Declared missing codes: such values become missing and are counted."""
    range: tuple[float, float] | None = None
    """Allowed [min, max] for count and numeric items."""
    field: str | None = None
    """Service field the item belongs to, if any."""
    aspect: str | None = None
    """Governance aspect it measures, if any."""
    direction: int = 1
    """+1 when a higher code means more modern governance, -1 when lower does."""
    group: str | None = None
    """Multi-select question this member belongs to."""
    exclusive: bool = False
    """A multi-select member that cannot be ticked with any other member ("no problem")."""
    required: bool = False
    """Column must be present in every wave."""
    role: str | None = None
    """``indicator`` (enters the index), ``outcome``, ``covariate`` or ``None``."""
    ordered: bool = False
    """Categorical codes are ordered."""
    unit: str | None = None
    """Unit of a numeric item."""
    aliases: tuple[str, ...] = ()
    """Headers a field team may use for this column."""
    part_of: str | None = None
    """For a count: the count of the same record it is part of (the parts never exceed it)."""

    @property
    def label(self) -> str:
        """Short label for tables and figures, in the edition being written (English or Chinese)."""
        from analysis.i18n import bilingual

        return bilingual(self.text_en, self.text_zh)

    @property
    def is_indicator(self) -> bool:
        """Whether the item enters the modernization index (a field × aspect Likert item)."""
        return self.role == "indicator"


def _norm_header(s: object) -> str:
    t = str(s).replace("\ufeff", "").strip().lower()
    t = re.sub(r"\s+", "", t)
    return t.replace("（", "(").replace("）", ")")


@dataclass(frozen=True, eq=False)
class Codebook:
    """All questionnaires of a wave: items by questionnaire, value sets, fields, aspects."""

    version: str
    """Codebook version string."""
    questionnaires: dict[str, tuple[Item, ...]]
    """Items of each questionnaire, in codebook order."""
    keys: dict[str, str]
    """Respondent key column of each questionnaire."""
    fields: dict[str, tuple[str, str]]
    """Service field id → (Chinese, English) name."""
    aspects: dict[str, tuple[str, str]]
    """Governance aspect id → (Chinese, English) name."""
    missing_labels: dict[float, tuple[str, str]]
    """Missing code → (Chinese, English) label."""
    sha256: str
    """SHA-256 of the codebook file."""

    def items(self, questionnaire: str) -> tuple[Item, ...]:
        """Items of one questionnaire."""
        try:
            return self.questionnaires[questionnaire]
        except KeyError:
            raise KeyError(f"unknown questionnaire {questionnaire!r}; "
                           f"known: {', '.join(self.questionnaires)}") from None

    def item(self, questionnaire: str, item_id: str) -> Item:
        """One item by id."""
        for it in self.items(questionnaire):
            if it.id == item_id:
                return it
        raise KeyError(f"no item {item_id!r} in questionnaire {questionnaire!r}")

    def ids(self, questionnaire: str) -> list[str]:
        """Column ids of one questionnaire, in codebook order."""
        return [it.id for it in self.items(questionnaire)]

    def indicators(self, questionnaire: str = "villagers") -> list[Item]:
        """Items that enter the modernization index (field × aspect)."""
        return [it for it in self.items(questionnaire) if it.is_indicator]

    def groups(self, questionnaire: str) -> dict[str, list[Item]]:
        """Multi-select questions: group id → member items."""
        out: dict[str, list[Item]] = {}
        for it in self.items(questionnaire):
            if it.group:
                out.setdefault(it.group, []).append(it)
        return out

    def by_role(self, questionnaire: str, type_: str) -> Item | None:
        """The single item of a design type (``province``, ``psu``, ``weight``...), if any."""
        found = [it for it in self.items(questionnaire) if it.type == type_]
        return found[0] if found else None

    def resolve_header(self, questionnaire: str, header: object) -> str | None:
        """Codebook id of a raw column header (its id, an alias or its question text), or ``None``:
        unknown, or a question text several items share (:meth:`header_items` names them)."""
        ids = self.header_items(questionnaire, header)
        return ids[0] if len(ids) == 1 else None

    def header_items(self, questionnaire: str, header: object) -> tuple[str, ...]:
        """Every item a raw column header names: one for an id or an alias, all the items worded
        so for a question text (``其他`` is the text of two "other" items), none when unknown."""
        return _alias_map(self, questionnaire).get(_norm_header(header), ())


@lru_cache(maxsize=8)
def _alias_map(cb: Codebook, questionnaire: str) -> dict[str, tuple[str, ...]]:
    """Normalised header → the items it names. An id or alias names one item; a question text
    names every item worded so, unless it is also an id or alias (which then decides)."""
    m: dict[str, tuple[str, ...]] = {}
    texts: dict[str, tuple[str, ...]] = {}
    for it in cb.items(questionnaire):
        for a in (it.id, *it.aliases):
            m.setdefault(_norm_header(a), (it.id,))
        t = _norm_header(it.text_zh)
        texts[t] = (*texts.get(t, ()), it.id)
    for t, ids in texts.items():
        m.setdefault(t, ids)
    return m


def _values(spec: object, value_sets: dict, where: str) -> dict[int, tuple[str, str]]:
    if spec is None:
        return {}
    if isinstance(spec, str):
        if spec not in value_sets:
            raise CodebookError(f"{where}: unknown value set {spec!r}; value sets: {', '.join(value_sets)}")
        spec = value_sets[spec]
    return {int(k): (str(v["zh"]), str(v["en"])) for k, v in spec.items()}


def _expand_templates(raw: dict) -> list[dict]:
    out = []
    for fid, prefix in raw["field_prefixes"].items():
        zh, en = raw["fields"][fid]["zh"], raw["fields"][fid]["en"]
        for t in raw["field_item_templates"]:
            d = {k: v for k, v in t.items() if k not in ("suffix", "aliases_zh", "text")}
            d["id"] = f"{prefix}_{t['suffix']}"
            d["field"] = fid
            d.setdefault("role", "indicator" if t.get("aspect") else None)
            en_text = t["text"]["en"].format(field=en)
            d["text"] = {"zh": t["text"]["zh"].format(field=zh), "en": en_text[0].upper() + en_text[1:]}
            d["aliases"] = [a.format(field=zh) for a in t.get("aliases_zh", [])]
            out.append(d)
    return out


def _build(raw: dict, sha: str) -> Codebook:
    value_sets = raw["value_sets"]
    default_missing = raw.get("default_missing", {})
    qs: dict[str, tuple[Item, ...]] = {}
    keys: dict[str, str] = {}
    for qname, q in raw["questionnaires"].items():
        entries = list(q["items"])
        if qname == "villagers":
            entries += _expand_templates(raw)
        items = []
        seen: set[str] = set()
        for e in entries:
            iid = e["id"]
            if iid in seen:
                raise CodebookError(f"{qname}: duplicate item id {iid!r}")
            seen.add(iid)
            typ = e["type"]
            if typ not in ITEM_TYPES:
                raise CodebookError(f"{qname}.{iid}: unknown type {typ!r}; allowed: {ITEM_TYPES}")
            if typ in CODED_TYPES and not e.get("values"):
                raise CodebookError(f"{qname}.{iid}: a {typ} item needs 'values'")
            miss = e.get("missing", default_missing.get(typ, []))
            rng = e.get("range")
            items.append(Item(
                id=iid, type=typ, text_zh=str(e["text"]["zh"]), text_en=str(e["text"]["en"]),
                questionnaire=qname, values=_values(e.get("values"), value_sets, f"{qname}.{iid}"),
                missing=tuple(float(m) for m in miss),
                range=(float(rng[0]), float(rng[1])) if rng else None,
                field=e.get("field"), aspect=e.get("aspect"), direction=int(e.get("direction", 1)),
                group=e.get("group"), exclusive=bool(e.get("exclusive", False)),
                required=bool(e.get("required", False)), role=e.get("role"),
                ordered=bool(e.get("ordered", False)), unit=e.get("unit"),
                aliases=tuple(str(a) for a in e.get("aliases", [])), part_of=e.get("part_of"),
            ))
        qs[qname] = tuple(items)
        keys[qname] = q["key"]
        if q["key"] not in seen:
            raise CodebookError(f"{qname}: key column {q['key']!r} is not an item")
    for it in (i for items in qs.values() for i in items):
        if it.field is not None and it.field not in raw["fields"]:
            raise CodebookError(f"{it.id}: unknown field {it.field!r}")
        if it.aspect is not None and it.aspect not in raw["aspects"]:
            raise CodebookError(f"{it.id}: unknown aspect {it.aspect!r}")
    return Codebook(
        version=str(raw["version"]), questionnaires=qs, keys=keys,
        fields={k: (v["zh"], v["en"]) for k, v in raw["fields"].items()},
        aspects={k: (v["zh"], v["en"]) for k, v in raw["aspects"].items()},
        missing_labels={float(k): (v["zh"], v["en"]) for k, v in raw["missing_codes"].items()},
        sha256=sha,
    )


def load_codebook() -> Codebook:
    """The project's codebook (``data/codebook.yml``, checked by :mod:`analysis.settings`)."""
    st = load_settings()
    return _build_cached(st, st.sha256[str(paths.CODEBOOK.relative_to(paths.ROOT))])


@lru_cache(maxsize=4)
def _build_cached(st, sha: str) -> Codebook:  # type: ignore[no-untyped-def]
    return _build(st.codebook, sha)
