"""Province profile pages, generated from one template before the build: one page per mainland
province (the survey part where the wave has publishable respondents there, official statistics
for every province), and a page listing them. The build writes them beside its links to
``book/`` in its own source folder, never into the project.

Example
-------
>>> from analysis.report.profiles import slug
>>> slug("Inner Mongolia")
'inner-mongolia'
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.ingest.provinces import all_provinces
from analysis.i18n import N_, REGIONS_ZH, _, catalog, plural, translate_page

FOLDER = "profiles"
"""The profiles' folder in the build's source tree (and in the HTML)."""
INDEX = "profiles"
"""The name of the page listing the profiles (``profiles/profiles``)."""

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

TEMPLATE = HEADER + """
# {name_en} · {name_zh}

```{{code-cell}} ipython3
:tags: [remove-cell]
from analysis.report import context, display
from analysis.report.pages import common, profile
from analysis.publishing.provenance import official_source, survey_source
from analysis.i18n import _, bilingual
st = context.study()
CODE = {adcode}
NAME = bilingual("{name_en}", "{name_zh_full}")
tables = profile.survey_tables(st, CODE)
display.glue_markdown({{"summary": profile.summary_sentence(st, CODE, context.province_replicates(st))}})
display.glue_figure("fig_official", profile.official_figure(st, CODE))
display.glue_all({{"stamp_official": official_source().stamp("{slug}")}})
```

```{{code-cell}} ipython3
:tags: [remove-input]
display.notice(st) if tables else None   # no survey number, no warning
```

{name_en} ({name_zh_full}) lies in the {region4} region, one of the NBS's four regions.

## In the survey

{{glue:md}}`summary`

```{{code-cell}} ipython3
:tags: [remove-input]
if tables:
    lv = tables["levels"]
    titles = profile.survey_table_titles(st, NAME)
    display.show(lv, source=survey_source(st.wave), decimals=1, page="{slug}", note=common.scale_note(lv),
                 title=titles["levels"])
    display.show(tables["problems"], source=survey_source(st.wave), decimals=0, page="{slug}",
                 title=titles["problems"])
```

## Official statistics

```{{glue:figure}} fig_official
:name: fig-profile-{slug}
:alt: Small line charts over the years of the official statistics: {name_en}'s urbanization, GDP per head, public spending per head, education share of spending, pupils per primary teacher and urban registered unemployment, each against its region and the nation.

{name_en} (red) against the {region4} region (blue) and the nation (grey, dashed): means weighted
by population (education share: by public spending; pupils per teacher: by teachers, so that each
is the ratio of the totals); province totals, not rural alone. The
unemployment series breaks in 2020 (registration changes). {{glue:text}}`stamp_official`
{{glue:md}}`fig_official_data`
```

```{{code-cell}} ipython3
:tags: [remove-input]
display.show(profile.official_table(st, CODE), source=official_source(), decimals=1, page="{slug}",
             title=_("Latest official values: {{name}}, its region and the nation").format(name=NAME))
```
"""

INDEX_PAGE = """# Province profiles

One page per mainland province, each built from the same template: the province in the survey
wave where it has enough respondents and villages to publish (its degree with the interval, its
rank interval, its fields and aspects and the problems its villagers name, each beside the
nation's), and its real official statistics against its region and the nation. A province with
no respondents in the wave, or too few to publish, shows its official statistics only.

{surveyed}

{lists}
"""

MARK = "●"
"""Marks a province whose survey results the wave publishes, in the list of profiles."""


def surveyed_sentence(n: int, lang: str = "en") -> str:
    """What the list of profiles says of the ``n`` provinces whose survey results are published."""
    if n == 0:
        return _("No province's survey results are published on this wave: every page shows official "
                 "statistics only.", lang)
    return plural(n, N_("The province marked {mark} has survey results published on this wave; the others "
                        "show official statistics only."),
                  N_("The {n} provinces marked {mark} have survey results published on this wave; the others "
                     "show official statistics only."), lang).format(n=n, mark=MARK)


def slug(name_en: str) -> str:
    """A page name from an English province name."""
    return re.sub(r"[^a-z0-9]+", "-", name_en.lower()).strip("-")


def write_profiles(folder: Path, lang: str = "en", surveyed: frozenset[int] = frozenset()) -> list[str]:
    """Write the profile pages and their index into ``folder`` (in the edition ``lang``), the
    provinces whose survey results the wave publishes (``surveyed``, adcodes) marked in the index;
    returns the documents in the order of the table of contents (``profiles/profiles`` first),
    by region then name."""
    folder.mkdir(parents=True, exist_ok=True)
    template, index_page = TEMPLATE, INDEX_PAGE
    if lang != "en":
        template = translate_page(TEMPLATE, catalog("profiles", lang))[0]
        index_page = translate_page(INDEX_PAGE, catalog("profiles", lang))[0]
    provs = sorted(all_provinces(), key=lambda p: (p.region4, p.name_en))
    docs = [f"{FOLDER}/{INDEX}"]
    lists = []

    def mark(p) -> str:  # type: ignore[no-untyped-def]
        return f" {MARK}" if p.adcode in surveyed else ""

    for region in dict.fromkeys(p.region4 for p in provs):
        items = [p for p in provs if p.region4 == region]
        if lang == "en":
            lists.append(f"**{region.capitalize()}**: " + ", ".join(
                f"{{doc}}`{p.name_en} <{slug(p.name_en)}>`{mark(p)}" for p in items) + ".")
        else:
            lists.append(f"**{REGIONS_ZH[region]}**：" + "、".join(
                f"{{doc}}`{p.name_zh_short} <{slug(p.name_en)}>`{mark(p)}" for p in items) + "。")
        for p in items:
            s = slug(p.name_en)
            (folder / f"{s}.md").write_text(template.format(
                name_en=p.name_en, name_zh=p.name_zh_short, name_zh_full=p.name_zh_full, adcode=p.adcode,
                region4=p.region4, region4_zh=REGIONS_ZH.get(p.region4, p.region4), slug=s), encoding="utf-8")
            docs.append(f"{FOLDER}/{s}")
    (folder / f"{INDEX}.md").write_text(index_page.format(surveyed=surveyed_sentence(len(surveyed), lang),
                                                          lists="\n\n".join(lists)), encoding="utf-8")
    return docs


def toc_part(docs: list[str], lang: str = "en") -> dict:
    """The table-of-contents part of the profiles: the index page with one section per province."""
    return {"caption": _("Province profiles", lang),
            "chapters": [{"file": docs[0], "sections": [{"file": d} for d in docs[1:]]}]}
