"""The rerun page (book/rerun.md) and the README: the ``wave.yml`` reference and the accepted
province names, generated from the settings schema and the provinces table (never typed twice).

Example
-------
>>> from analysis.report.pages.rerun import wave_yml_reference
>>> "| `design.lonely_psu` |" in wave_yml_reference()
True
"""

from __future__ import annotations

import types
import typing

import pandas as pd
from pydantic import BaseModel

from analysis.i18n import N_, _
from analysis.settings.schemas import DesignColumns, QuestionnaireSource, WaveSettings

EXAMPLE_LINES = (
    ("id: 2024-wave                      ", N_("= the folder's name: data/waves/2024-wave/")),
    ("title: Rural public service governance survey 2024", ""),
    ("year: 2024", ""),
    ("questionnaires:", ""),
    ("  villagers:", ""),
    ("    file: villagers.sav            ", N_("SPSS: value labels and user-missing codes are read")),
    ("  institutions:", ""),
    ("    file: institutions.xlsx", ""),
    ("    sheet: 0                       ", N_("the first sheet (a name works too)")),
    ("    header_row: 2                  ", N_("a title row above the header: the header is file row 2")),
    ("    column_map: {医生数: hosp_doctors}   ", N_("a header the codebook's aliases do not know")),
    ("design: {weight: weight, strata: province, psu: village_id, lonely_psu: adjust}", ""),
    ("encoding: auto                     ", N_("CSV files: utf-8, gb18030 ... or auto-detect")),
    ("min_cell: 10                       ", N_("disclosure threshold")),
    ("missing_codes: [-8, -9]            ", N_('codes meaning "missing" beyond the codebook\'s')),
)
"""The example ``wave.yml`` of the rerun page, line by line: its text and its comment (in the
message catalog: the example speaks the edition's language)."""
EXAMPLE_COMMENTS = tuple(comment for _line, comment in EXAMPLE_LINES if comment)
"""The example's comments."""


def example_yaml(language: str | None = None) -> str:
    """The example ``wave.yml`` with its comments in the edition being written (or in ``language``)."""
    return "".join(line + (f"# {_(comment, language)}" if comment else "") + "\n"
                   for line, comment in EXAMPLE_LINES)


EXAMPLE = example_yaml("en")
"""The example ``wave.yml`` in English (the README's copy)."""


SCHEMAS = ((WaveSettings, ""), (QuestionnaireSource, "questionnaires.<name>."), (DesignColumns, "design."))
"""The models of ``wave.yml`` and the prefix of their keys."""


def _type(ann: typing.Any) -> str:
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(ann))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        optional = len(args) < len(typing.get_args(ann))
        return _(" or ").join(_type(a) for a in args) + (_(" (optional)") if optional else "")
    if origin in (list, tuple):
        return _("list of {type}").format(type=_type(typing.get_args(ann)[0]))
    if origin is dict:
        k, v = typing.get_args(ann)
        return _("mapping {key} → {value}").format(key=_type(k), value=_type(v))
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return _("mapping (below)")
    return getattr(ann, "__name__", str(ann))


def _rows(model: type[BaseModel], prefix: str = "", form: str = "table") -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        default = None if f.is_required() else ("—" if f.default in (None, "", {}, ()) else f"`{f.default}`")
        meaning = _(f.description) if f.description else ""
        if form == "table":
            shown = _("required") if default is None else default
            out.append(f"| `{prefix}{name}` | {_type(f.annotation)} | {shown} | {meaning} |")
        else:
            kind = _type(f.annotation).replace(" \\| ", " | ")
            item = (_("{key} — {type}, required: {meaning}") if default is None else
                    _("{key} — {type}: {meaning}") if default == "—" else
                    _("{key} — {type}, default {default}: {meaning}"))
            out.append("- " + item.format(key=f"`{prefix}{name}`", type=kind, default=default, meaning=meaning))
    return out


def descriptions() -> list[str]:
    """The meaning of every key of ``wave.yml`` (for the message catalog)."""
    return [f.description for model, _prefix in SCHEMAS for f in model.model_fields.values() if f.description]


def wave_yml_reference(form: str = "table") -> str:
    """Every key of ``wave.yml``: type, default and meaning, from the schema itself, with an example
    (in the edition being written; the README's copy is the English one). ``form``: a table (the
    README) or a list, one key per item (the book's page: four columns do not fit a phone)."""
    if form == "table":
        lines = ["| " + " | ".join(_(h) for h in ("key", "type", "default", "meaning")) + " |",
                 "|---|---|---|---|"]
    elif form == "list":
        lines = []
    else:
        raise ValueError(f"form is 'table' or 'list', not {form!r}")
    for model, prefix in SCHEMAS:
        lines += _rows(model, prefix, form)
    example = _("Example, for a wave whose institution sheet has a title row above its header:")
    return "\n".join(lines) + f"\n\n{example}\n\n```yaml\n{example_yaml()}```\n"


def provinces_table() -> pd.DataFrame:
    """The accepted spellings of each province (any of them, in any case or width, with or without
    the 省/市/自治区 suffix), from the provinces table."""
    from analysis.ingest.provinces import all_provinces

    return pd.DataFrame([{"code": p.adcode, "two-digit code": p.code2, "Chinese": f"{p.name_zh_short} / {p.name_zh_full}",
                          "English": p.name_en, "region": p.region3, "NBS region": p.region4}
                         for p in all_provinces()])


def provinces_markdown() -> str:
    """The provinces table as Markdown (README and the rerun page), headers and regions in the
    edition being written."""
    from analysis.i18n import region

    t = provinces_table()
    t[["region", "NBS region"]] = t[["region", "NBS region"]].map(region)
    return t.rename(columns=lambda c: _(c)).to_markdown(index=False)


MARKERS = {"wave-yml": wave_yml_reference, "provinces": provinces_markdown}
"""README sections generated here, between ``<!-- name:start -->`` and ``<!-- name:end -->``."""


def readme_sections(text: str) -> str:
    """README text with its generated sections rewritten from the schema and the provinces table."""
    import re

    for name, make in MARKERS.items():
        text = re.sub(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)",
                      lambda m: m.group(1) + make() + "\n" + m.group(2), text, flags=re.S)
    return text


if __name__ == "__main__":          # python -m analysis.report.pages.rerun: refresh the README
    from analysis import paths

    readme = paths.ROOT / "README.md"
    readme.write_text(readme_sections(readme.read_text(encoding="utf-8")), encoding="utf-8")
