"""The 31 mainland provinces: GB/T 2260 codes, Chinese and English names, regions, aliases.

Source: ``data/external/provinces/provinces.csv`` (see its PROVENANCE.md).  Two regional schemes:

* ``region3`` — east / central / west, the conventional three-belt scheme the seed paper reports
  (east 11 incl. Liaoning; central 8 incl. Jilin, Heilongjiang; west 12);
* ``region4`` — the NBS scheme: east (10) / central (6) / west (12) / northeast (3).

Example
-------
>>> from analysis.ingest.provinces import resolve
>>> resolve("上海").name_en, resolve("Xizang").adcode, resolve("31").name_zh_short
('Shanghai', 540000, '上海')
"""

from __future__ import annotations

import difflib
import numbers
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from analysis import paths

# Hanyu pinyin of the short names where it differs from the NBS English name (which is used too).
_PINYIN = {"内蒙古": "Neimenggu", "西藏": "Xizang"}
_EXTRA_ALIASES = {
    "内蒙古": ["Nei Mongol", "Inner Mongolia Autonomous Region"],
    "西藏": ["Tibet Autonomous Region", "Xizang Autonomous Region"],
    # with the group, as "autonomous region" is often left out (Ningxia Hui)
    "广西": ["Guangxi Zhuang Autonomous Region", "Guangxi Zhuang"],
    "宁夏": ["Ningxia Hui Autonomous Region", "Ningxia Hui"],
    "新疆": ["Xinjiang Uygur Autonomous Region", "Xinjiang Uyghur Autonomous Region", "Xinjiang Uygur",
           "Xinjiang Uyghur", "Xinjiang Uighur Autonomous Region", "Xinjiang Uighur"],
}
# Traditional-character short names (as a Hong Kong or Taiwan data-entry keyboard would write them)
TRADITIONAL = {"内蒙古": "內蒙古", "辽宁": "遼寧", "黑龙江": "黑龍江", "江苏": "江蘇", "山东": "山東",
               "广东": "廣東", "广西": "廣西", "重庆": "重慶", "贵州": "貴州", "云南": "雲南",
               "陕西": "陝西", "甘肃": "甘肅", "宁夏": "寧夏"}
# an ethnic group's name is a suffix only before "autonomous region": alone, "hui" would turn
# Anhui into "an" (and "AN", a stray "not applicable", into Anhui)
_SUFFIXES = re.compile(
    r"(省|市|(壮族|回族|维吾尔|壯族|維吾爾)?自治[区區]|province|municipality|"
    r"(zhuang|hui|uygur|uyghur|uighur)?autonomousregion)+$"
)


class UnknownProvince(ValueError):
    """A province name, code or alias that matches none of the 31 mainland provinces."""


@dataclass(frozen=True)
class Province:
    """One mainland province (province, municipality or autonomous region)."""

    adcode: int
    """GB/T 2260 six-digit code, e.g. 310000."""
    name_zh_full: str
    """Full Chinese name, e.g. 上海市."""
    name_zh_short: str
    """Short Chinese name used in statistical tables, e.g. 上海."""
    name_en: str
    """English name as used by the NBS, e.g. Shanghai, Tibet, Inner Mongolia."""
    region3: str
    """Conventional three-region scheme (east / central / west)."""
    region4: str
    """NBS four-region scheme (east / central / west / northeast)."""

    @property
    def code2(self) -> str:
        """First two digits of the code, e.g. '31'."""
        return str(self.adcode)[:2]


def _norm(s: object) -> str:
    s = unicodedata.normalize("NFKC", str(s))          # full-width digits and spaces as ASCII
    t = str(s).strip().lower()
    if t.endswith(".0") and t[:-2].isdigit():
        t = t[:-2]
    t = re.sub(r"[\s\-_'’.,]", "", t)
    return _SUFFIXES.sub("", t) or t


def table() -> pd.DataFrame:
    """The 31 provinces as a DataFrame, one row each, in code order (a copy of the one read: a
    caller that edits it changes nothing for the next)."""
    return _table().copy()


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    df = pd.read_csv(paths.PROVINCES_CSV, dtype={"gb2260_prov2": str})
    df = df.rename(columns={"name_en_nbs": "name_en", "region4_nbs": "region4",
                            "region3_conventional": "region3"})
    return df[["adcode", "gb2260_prov2", "name_zh_full", "name_zh_short", "name_en",
               "region3", "region4"]]


@lru_cache(maxsize=1)
def all_provinces() -> tuple[Province, ...]:
    """All 31 provinces in GB/T 2260 order."""
    return tuple(
        Province(int(r.adcode), r.name_zh_full, r.name_zh_short, r.name_en, r.region3, r.region4)
        for r in table().itertuples()
    )


@lru_cache(maxsize=1)
def _aliases() -> dict[str, Province]:
    out: dict[str, Province] = {}
    for p in all_provinces():
        names = [p.adcode, p.code2, p.name_zh_full, p.name_zh_short, p.name_en,
                 _PINYIN.get(p.name_zh_short, p.name_en), *_EXTRA_ALIASES.get(p.name_zh_short, [])]
        if p.name_zh_short == "西藏":
            names.append("Tibet")
        if p.name_zh_short in TRADITIONAL:
            names.append(TRADITIONAL[p.name_zh_short])
        for n in names:
            out[_norm(n)] = p
    return out


def resolve(name: object) -> Province:
    """The province named by any alias: code (2 or 6 digits), Chinese or English name, pinyin.

    Raises
    ------
    UnknownProvince
        With the closest known names, when nothing matches.
    """
    key = _norm(name)
    p = _aliases().get(key)
    if p is not None:
        return p
    candidates = sorted({*[pp.name_zh_short for pp in all_provinces()],
                         *[pp.name_en for pp in all_provinces()]})
    close = difflib.get_close_matches(str(name).strip(), candidates, n=3, cutoff=0.4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UnknownProvince(f"unknown province {_as_written(name)}{hint}")


def _as_written(name: object) -> str:
    """A cell as a reader wrote it: a number read from a binary file (990000.0, numpy's float)
    as 990000, text quoted."""
    if isinstance(name, numbers.Real) and not isinstance(name, bool):
        x = float(name)
        return str(int(x)) if x.is_integer() else repr(x)
    return repr(name)


def is_traditional(name: object) -> bool:
    """Whether a name is a traditional-character spelling of a province."""
    return _norm(name) in {_norm(t) for t in TRADITIONAL.values()}


def try_resolve(name: object) -> Province | None:
    """Like :func:`resolve` but ``None`` for an unknown name (for vectorised validation)."""
    try:
        return resolve(name)
    except UnknownProvince:
        return None


REGIONS3 = ("east", "central", "west")
REGIONS4 = ("east", "central", "west", "northeast")
