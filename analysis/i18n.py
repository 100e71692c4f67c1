"""The report's editions: English (the sources) and Chinese (translated from them).

Both editions are built from the same pages and compute the same numbers; the Chinese edition
replaces prose only. Translations are gettext message catalogs (``.po``, readable by any PO
editor) under ``locale/zh_CN/LC_MESSAGES/``:

- ``book/<page>.po``: the prose of ``book/<page>.md``, one message per paragraph, heading, list
  or table of the MyST source (code cells, directives' fences and options, labels and front
  matter are not prose and stay as they are); the translated page is written into the build's
  own source folder, never into ``book/``;
- ``profiles.po``: the province profile template (:mod:`analysis.report.profiles`);
- ``ruralgov.po``: strings the package writes into pages (table titles, column labels, figure
  labels, sentences), looked up by :func:`_` when the page kernels run with ``RURALGOV_LANG=zh``.

``python -m analysis.i18n`` adds new English messages to the catalogs (keeping every
translation) and lists the messages still untranslated; the build refuses a Chinese edition with
untranslated prose.

Example
-------
>>> blocks = split_blocks("# Title\\n\\nSome *prose*.\\n\\n```{code-cell} ipython3\\nx = 1\\n```\\n")
>>> [(b.text, b.prose) for b in blocks if b.prose]
[('Title', True), ('Some *prose*.', True)]
>>> translate_page("# Title\\n\\nSome *prose*.\\n", {"Title": "标题", "Some *prose*.": "一些*文字*。"})[0]
'# 标题\\n\\n一些*文字*。\\n'
"""

from __future__ import annotations

import io as _io
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis import paths

LANG_ENV = "RURALGOV_LANG"
"""Environment variable naming the edition a page kernel writes (``en`` or ``zh``)."""
EDITIONS_ENV = "RURALGOV_EDITIONS"
"""Environment variable listing the editions built beside this one (the language switch)."""
LANGS = ("en", "zh")
SPHINX_LANGUAGE = {"en": "en", "zh": "zh_CN"}
LOCALE = paths.ROOT / "locale"
"""Message catalogs, in Sphinx's layout (``locale/<language>/LC_MESSAGES/``)."""
NAMES = {"en": "English", "zh": "中文"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}
"""An edition's language as HTML's ``lang`` and ``hreflang`` attributes name it."""


def edition_folder(language: str) -> str:
    """Where an edition lives inside a report's folder: English at its root, Chinese in ``zh/``."""
    return "" if language == "en" else language


def lang() -> str:
    """The edition being written: ``zh`` when ``RURALGOV_LANG=zh``, else ``en``."""
    return "zh" if os.environ.get(LANG_ENV, "en").lower().startswith("zh") else "en"


def catalog_path(domain: str, language: str = "zh") -> Path:
    """The ``.po`` file of a catalog (``ruralgov``, ``profiles`` or ``book/<page>``)."""
    return LOCALE / SPHINX_LANGUAGE[language] / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=None)
def _catalog(domain: str, language: str) -> dict[str, str]:
    path = catalog_path(domain, language)
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh)
    return {m.id: m.string for m in cat if m.id and m.string and not m.fuzzy}


def catalog(domain: str, language: str = "zh") -> dict[str, str]:
    """msgid → translation of a catalog (fuzzy and empty translations left out)."""
    return dict(_catalog(domain, language))


def _(text: str, language: str | None = None) -> str:
    """``text`` in the edition being written (or in ``language``); the English text when no
    translation exists."""
    language = language or lang()
    if language == "en":
        return text
    return _catalog("ruralgov", language).get(text, text)


def N_(text: str) -> str:
    """Mark a constant for the message catalog; translated where it is used, by :func:`_`."""
    return text


class Message(str):
    """A sentence the package writes into a result (a model frame's note, a reproduction's note).
    It is its English text (so it prints, compares, joins and exports as one), and it keeps the
    catalog message and values that give it in another edition's language (:meth:`text`): a result
    computed once for a build serves both editions."""

    template: str
    values: dict

    def __new__(cls, template: str, **values: object) -> Message:
        self = super().__new__(cls, template.format(**values))
        self.template, self.values = template, values
        return self

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_message, (self.template, self.values))

    def text(self, language: str | None = None) -> str:
        """The sentence in ``language`` (default: the edition being written); a value that is a
        :class:`Name` or a :class:`Message` is given in that language too."""
        values = {k: v.text(language) if isinstance(v, (Name, Message)) else v
                  for k, v in self.values.items()}
        return _(self.template, language).format(**values)


def _message(template: str, values: dict) -> Message:
    return Message(template, **values)


class Name(str):
    """A name inside a :class:`Message` (a province, a variable's label): the form it equals (its
    English form, or its form in the edition where it was made), and its forms in other languages.

    >>> n = Name("Shanghai", zh="上海")
    >>> Message("stratum {s!r} has a single PSU", s=n).text("zh") == "stratum '上海' has a single PSU"
    True
    """

    forms: dict

    def __new__(cls, english: str, **forms: str) -> Name:
        self = super().__new__(cls, english)
        self.forms = forms
        return self

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (_name, (str(self), self.forms))

    def text(self, language: str | None = None) -> str:
        """The name in ``language`` (default: the edition being written; English where no form is
        known)."""
        return self.forms.get(language or lang(), str(self))


def _name(english: str, forms: dict) -> Name:
    return Name(english, **forms)


def say(text: object, language: str | None = None) -> str:
    """A sentence a result holds, in ``language`` (default: the edition being written): a
    :class:`Message` by its template, any other text as a catalog message."""
    return text.text(language) if isinstance(text, Message) else _(str(text), language)


def plural(n: int, one: str, other: str, language: str | None = None) -> str:
    """``one`` or ``other`` (both marked with :func:`N_`) as English grammar wants for a count
    ``n``, in the edition being written. Chinese has no plural but its translation of ``one`` may
    still differ ("该层", that stratum, beside "这些层", those strata): ``one`` is translated for 1.

    >>> plural(1, "{n} PSU", "{n} PSUs", "en").format(n=1), plural(2, "{n} PSU", "{n} PSUs", "en").format(n=2)
    ('1 PSU', '2 PSUs')
    """
    language = language or lang()
    chosen = one if n == 1 else other
    return chosen if language == "en" else _(chosen, language)


def count(n: int, one: str, other: str, language: str | None = None) -> str:
    """:func:`plural` with its ``{n}`` filled in: a count and its noun ("1 village", "3 villages").

    >>> count(1, "{n} village", "{n} villages", "en"), count(3, "{n} village", "{n} villages", "en")
    ('1 village', '3 villages')
    """
    return plural(n, one, other, language).format(n=n)


REGIONS_ZH = {"east": "东部", "central": "中部", "centre": "中部", "west": "西部", "northeast": "东北"}
"""Region names (three-region scheme and the NBS's four regions) in Chinese."""


ALL = N_("all")
"""The nation's row (or column) among regions."""


def region(name: str, language: str | None = None) -> str:
    """A region's name in the edition being written (or in ``language``); the nation's row of a
    table by region ("all") as the catalog says it."""
    if (language or lang()) != "zh":
        return str(name)
    return REGIONS_ZH.get(str(name)) or (_(ALL, "zh") if str(name) == ALL else str(name))


def province(name: str, language: str | None = None) -> str:
    """A province's name (in any form the wave may give it) in the edition being written (or in
    ``language``): its English name, or its Chinese short name."""
    return _province(str(name), language or lang())


@lru_cache(maxsize=4096)
def _province(name: str, language: str) -> str:
    from analysis.ingest.provinces import resolve

    try:
        p = resolve(name)
    except Exception:              # noqa: BLE001 - a name that is not a province stays as it is
        return name
    return p.name_zh_short if language == "zh" else p.name_en


REGION_COLUMNS = ("region", "region3", "region4")
PROVINCE_COLUMNS = ("province", "province_en")


def category(column: str, value: object, language: str | None = None) -> object:
    """A table's or figure's category (a region, a province) in the edition being written (or in
    ``language``)."""
    if not isinstance(value, str):
        return value
    language = language or lang()
    if column in REGION_COLUMNS:
        return region(value, language)
    if column in PROVINCE_COLUMNS and not re.fullmatch(r"[\d.,\s%+−-]*", value):    # a name, not a number
        return province(value, language)
    return value


def group_name(column: str, value: object, language: str | None = None) -> str:
    """One of the groups a comparison names (a value of ``column``) as a reader calls it: a region
    or province by its name in the edition being written (or in ``language``), a value of any
    other column as "column = value", a value of no named column as itself."""
    if column in REGION_COLUMNS + PROVINCE_COLUMNS:
        return str(category(column, value, language))
    return f"{column} = {value}" if column else str(value)


def reasons(text: str) -> str:
    """A "; "-separated list of reasons (flags, suppressions) in the edition being written."""
    from analysis.publishing.disclosure import reason_text

    return _("; ").join(reason_text(r) for r in split_reasons(str(text))) if text else text


def split_reasons(text: str) -> list[str]:
    """The reasons of a "; "-separated list, a "; " inside parentheses (a reason's own
    explanation: "a single PSU (no variance estimate; identifies one village)") not separating."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and text.startswith("; ", i):
            out.append(text[start:i])
            start = i + 2
    return [*out, text[start:]]


def list_sep() -> str:
    """The separator of a list of names in running text."""
    return "、" if lang() == "zh" else ", "


def bilingual(en: str, zh: str, language: str | None = None) -> str:
    """One of two labels that both exist as data (the codebook's, the provinces'), for the edition
    being written (or for ``language``)."""
    return zh if (language or lang()) == "zh" and zh else en


# ------------------------------------------------------------------ pages (MyST Markdown)

FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})(.*)$")
OPTION = re.compile(r"^\s*:[\w-]+:")
LABEL = re.compile(r"^\s*\(.+\)=\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
PROSE_DIRECTIVES = {"note", "warning", "admonition", "tip", "important", "caution", "attention",
                    "hint", "seealso", "topic", "sidebar", "margin", "dropdown", "epigraph",
                    "glue:figure", "figure", "table", "glossary"}
"""Directives whose body is prose (translated); any other fenced block is kept whole."""
ROLE = re.compile(r"\{+[\w:-]+\}+`[^`]*`")
ALT = re.compile(r"^(\s*:alt:\s*)(\S.*)$")
"""A figure's alternative text (an option, but prose: a screen reader reads it)."""


@dataclass
class Block:
    """A piece of a page: prose (translated as one message) or structure (kept)."""
    text: str
    prose: bool
    prefix: str = ""             # a heading's hashes, kept outside the message


def _is_prose(text: str) -> bool:
    """Text a reader reads: letters left once roles (glue, doc, cite) are taken out."""
    if re.fullmatch(r"\{\w+\}", text.strip()):            # a template's placeholder
        return False
    return re.search(r"[A-Za-z]{2,}", ROLE.sub("", text)) is not None


def split_blocks(text: str) -> list[Block]:
    """A MyST page as blocks: front matter, code cells, fences and options, labels and blank
    lines are structure; headings, paragraphs, lists and tables (in or out of directives) and a
    figure's ``:alt:`` text are prose."""
    lines = text.split("\n")
    out: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            t = "\n".join(para)
            out.append(Block(t, _is_prose(t)))
            para.clear()

    i = 0
    if lines and lines[0].strip() == "---":                       # front matter
        j = lines.index("---", 1) if "---" in lines[1:] else 0
        out.append(Block("\n".join(lines[: j + 1]), False))
        i = j + 1
    open_fences: list[str] = []
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        name = re.match(r"\s*\{+([\w:-]+)\}+", m.group(3)) if m else None
        if m and m.group(3).strip() and not (name and name.group(1) in PROSE_DIRECTIVES):
            flush()                                   # code, maths, glue outputs: kept whole
            fence = m.group(2)
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            out.append(Block("\n".join(lines[i: j + 1]), False))
            i = j + 1
            continue
        if m and m.group(3).strip():
            flush()                                   # a directive with prose inside opens
            open_fences.append(m.group(2))
            out.append(Block(line, False))
            i += 1
            while i < len(lines) and OPTION.match(lines[i]):       # its options
                alt = ALT.match(lines[i])                          # a figure's text for screen readers
                out.append(Block(alt.group(2), True, alt.group(1)) if alt else Block(lines[i], False))
                i += 1
            continue
        if m and open_fences and m.group(2) == open_fences[-1] and not m.group(3).strip():
            flush()                                                # a directive closes
            open_fences.pop()
            out.append(Block(line, False))
            i += 1
            continue
        h = HEADING.match(line)
        if h and not para:
            out.append(Block(h.group(2), _is_prose(h.group(2)), h.group(1) + " "))
            i += 1
            continue
        if (not line.strip() or LABEL.match(line) or line.strip() == "+++" or line.startswith("<!--")
                or line.lstrip().startswith("%")):                # MyST comments
            flush()
            out.append(Block(line, False))
            i += 1
            continue
        para.append(line)
        i += 1
    flush()
    return out


def messages(text: str) -> list[str]:
    """The prose messages of a page, in order, without repeats."""
    return list(dict.fromkeys(b.text for b in split_blocks(text) if b.prose))


CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
CJK_BREAK = re.compile(rf"(?<=[{CJK}])\n[ \t]*(?=[{CJK}])")
"""A line break between two Chinese characters: a browser would show it as a space."""


def translate_page(text: str, translations: dict[str, str]) -> tuple[str, list[str]]:
    """The page with each prose block replaced by its translation; and the untranslated ones
    (left in English)."""
    missing = []
    parts = []
    for b in split_blocks(text):
        if b.prose:
            t = translations.get(b.text)
            if not t:
                missing.append(b.text)
                t = b.text
            parts.append(b.prefix + CJK_BREAK.sub("", t))
        else:
            parts.append(b.prefix + b.text)
    return "\n".join(parts), missing


def write_translated_book(folder: Path, language: str = "zh") -> int:
    """The book's sources in ``language`` in ``folder`` (pages translated, or copied as they are
    in English, everything else linked); returns the number of prose messages left untranslated."""
    folder.mkdir(parents=True, exist_ok=True)
    left = 0
    for f in sorted(paths.BOOK.iterdir()):
        if f.suffix == ".md":
            text, missing = f.read_text(encoding="utf-8"), []
            if language != "en":
                text, missing = translate_page(text, catalog(f"book/{f.stem}", language))
            (folder / f.name).write_text(text, encoding="utf-8")
            left += len(missing)
        else:
            (folder / f.name).symlink_to(f)
    return left


def switch_links(pagename: str, language: str, editions: list[str]) -> list[tuple[str, str]]:
    """(label, relative address) of the same page in the other editions (English in
    ``<base>/html``, Chinese in ``<base>/zh/html``)."""
    up = "../" * pagename.count("/")
    root = up + ("../" if language == "en" else "../../")
    out = []
    for e in editions:
        if e != language:
            folder = f"{edition_folder(e)}/html" if edition_folder(e) else "html"
            out.append((NAMES[e], f"{root}{folder}/{pagename}.html"))
    return out


# ------------------------------------------------------------------ catalogs

def page_sources() -> dict[str, str]:
    """Catalog domain → English source text of every translated source."""
    from analysis.report import profiles

    out = {f"book/{p.stem}": p.read_text(encoding="utf-8") for p in sorted(paths.BOOK.glob("*.md"))}
    out["profiles"] = profiles.TEMPLATE + "\n\n" + profiles.INDEX_PAGE
    return out


TEXT_KEYWORDS = ("title", "xlabel", "ylabel", "note", "why", "break_label")
"""Keyword arguments of the pages' calls whose literal text reaches the reader (translated by
the function that receives it: :func:`analysis.report.display.show`, the figure functions)."""
TEXT_FUNCTIONS = ("show_text",)
"""Functions whose first argument, a literal, is text a reader reads (translated where shown)."""


def keyword_literals(code: str) -> list[str]:
    """String literals passed as :data:`TEXT_KEYWORDS` in ``code`` (a page's code cells)."""
    import ast

    out = []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in TEXT_FUNCTIONS and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                out.append(node.args[0].value)
            for kw in node.keywords:
                if kw.arg in TEXT_KEYWORDS and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    out.append(kw.value.value)
    return out


CODE_CELL = re.compile(r"^(`{3,})\{+code-cell\}+[^\n]*\n(.*?)^\1\s*$", re.M | re.S)


def package_messages() -> list[str]:
    """Every literal passed to ``_()`` in the package and in the pages' code cells (babel's
    Python extractor), the captions of ``_toc.yml`` and the book's title."""
    import io

    from babel.messages.extract import extract, extract_from_file

    from analysis.settings.loader import read_yaml

    found: list[str] = []
    for f in sorted((paths.ROOT / "analysis").rglob("*.py")):
        for _lineno, msg, _comments, _ctx in extract_from_file("python", str(f), keywords={"_": None, "N_": None}):
            if isinstance(msg, str) and msg:
                found.append(msg)
    for domain, text in page_sources().items():
        code = "\n".join(m.group(2) for m in CODE_CELL.finditer(text))
        if domain == "profiles":                        # a format template: braces doubled
            code = code.replace("{{", "{").replace("}}", "}")
        code = "\n".join(line for line in code.splitlines() if not line.startswith(":"))
        for _lineno, msg, _comments, _ctx in extract("python", io.BytesIO(code.encode()),
                                                     keywords={"_": None, "N_": None}):
            if isinstance(msg, str) and msg:
                found.append(msg)
        found += keyword_literals(code)
    from analysis.publishing.labels import COLUMNS, HEADERS
    from analysis.publishing.reliability import REASONS

    found += [*COLUMNS.values(), *HEADERS, *REASONS]
    for f in sorted((paths.ROOT / "analysis" / "report" / "pages").glob("*.py")):
        found += keyword_literals(f.read_text(encoding="utf-8"))
    found += re.findall(r'\blabel:\s*"([^"]+)"', (paths.ROOT / "data" / "models.yml").read_text(encoding="utf-8"))
    from analysis.settings import load_settings

    found += [t for f in load_settings().reproduction.figures for t in (f.label, f.reason) if t]
    from analysis.report.pages.rerun import descriptions

    found += descriptions()
    toc = read_yaml(paths.ROOT / "_toc.yml")
    found += [p["caption"] for p in toc.get("parts", []) if p.get("caption")]
    found += [str(read_yaml(paths.ROOT / "_config.yml").get("title", "")), "Comparison"]
    return list(dict.fromkeys(m for m in found if m))


def update_catalogs(language: str = "zh") -> dict[str, list[str]]:
    """Add new English messages to every catalog, keep translations of messages still in use,
    drop the rest; returns the untranslated messages by catalog."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    sources = {d: messages(t) for d, t in page_sources().items()}
    sources["ruralgov"] = package_messages()
    untranslated = {}
    for domain, msgs in sources.items():
        path = catalog_path(domain, language)
        old, created = {}, None
        if path.exists():
            with path.open("rb") as fh:
                before = read_po(fh)
            old = {m.id: m for m in before if m.id}
            created = before.creation_date              # kept: a run that adds nothing changes no byte
        cat = Catalog(locale=SPHINX_LANGUAGE[language], project="ruralgov", domain=domain.split("/")[-1],
                      **({"creation_date": created} if created is not None else {}))
        for m in msgs:
            o = old.get(m)
            # a translation marked fuzzy (to be reviewed) stays marked, so the build does not use it
            cat.add(m, o.string if o is not None else "", flags=("fuzzy",) if o is not None and o.fuzzy else ())
        buf = _io.BytesIO()
        write_po(buf, cat, width=0, omit_header=False, sort_output=False)
        if not path.exists() or path.read_bytes() != buf.getvalue():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(buf.getvalue())
        untranslated[domain] = [m for m in msgs if old.get(m) is None or not old[m].string or old[m].fuzzy]
    _catalog.cache_clear()
    return untranslated


def untranslated(language: str = "zh") -> dict[str, list[str]]:
    """Messages of the current sources without a translation, by catalog (nothing written)."""
    out = {}
    for domain, text in page_sources().items():
        cat = catalog(domain, language)
        out[domain] = [m for m in messages(text) if m not in cat]
    cat = catalog("ruralgov", language)
    out["ruralgov"] = [m for m in package_messages() if m not in cat]
    return {k: v for k, v in out.items() if v}


def main() -> int:
    left = update_catalogs()
    n = sum(len(v) for v in left.values())
    for domain, msgs in left.items():
        if msgs:
            print(f"{catalog_path(domain).relative_to(paths.ROOT)}: {len(msgs)} untranslated")
    print(f"{n} message(s) untranslated")
    return 0 if n == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
