"""Sphinx extension: write ``manifest.json`` beside the HTML (wave files, hashes, versions, commit,
build time, execution of each page) when a build succeeds, and the execution table in the edition's
language."""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from analysis.i18n import N_, _


def _manifest(app) -> dict:  # type: ignore[no-untyped-def]
    from myst_nb.sphinx_ import NbMetadataCollector

    from analysis.publishing import provenance
    from analysis.report.context import compared_waves, study

    st = study()
    compared = compared_waves()
    w = st.wave
    sha, dirty = provenance.git_commit()
    pages = {}
    for doc, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        ex = data.get("exec_data")
        if not ex:
            continue
        pages[doc] = {"method": ex.get("method"), "runtime_s": ex.get("runtime"),
                      "succeeded": ex.get("succeeded")}
    return {
        "wave": {"id": w.id, "synthetic": w.synthetic, "sha256": w.sha256,
                 "files": w.file_hashes},
        "config": dict(st.settings.sha256),
        "commit": sha, "dirty": dirty,
        "versions": provenance.versions(),
        "compared_waves": [{"id": c.id, "synthetic": c.synthetic, "sha256": c.sha256, "files": c.file_hashes}
                           for c in compared],
        "seeds": provenance.seeds(st.settings, compare=bool(compared)),
        "build_time_utc": provenance.build_time(),
        "pages": pages,
    }


def _write(app, exception) -> None:  # type: ignore[no-untyped-def]
    if exception is not None or app.builder.format != "html":
        return
    from analysis.report.icons import subset_icons

    subset_icons(Path(app.outdir))
    out = Path(app.outdir) / "manifest.json"
    out.write_text(json.dumps(_manifest(app), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                   encoding="utf-8")


def _without(files: list, word: str) -> list:
    """Asset entries (scripts, styles) whose file name or inline body does not mention ``word``."""
    word = word.lower()
    return [f for f in files if word not in str(f).lower()
            and word not in str(getattr(f, "attributes", {}).get("body", "")).lower()]


def _trim_assets(app, pagename, templatename, context, doctree) -> None:  # type: ignore[no-untyped-def]
    """Drop sphinx-thebe's scripts and styles (Jupyter Book loads it always: the report runs
    nothing in the browser, and its inline configuration, declared twice, is a console error),
    and MathJax (1.2 MB) from a page without maths."""
    for key in ("script_files", "css_files"):
        if context.get(key):
            context[key] = _without(context[key], "thebe")
    if 'class="math' not in (context.get("body") or "") and context.get("script_files"):
        context["script_files"] = _without(context["script_files"], "mathjax")


def _footer_links(app, pagename, templatename, context, doctree) -> None:  # type: ignore[no-untyped-def]
    """Links in every page's footer, relative to the page: the citation page and, when the build
    prints one, the PDF edition."""
    import os

    from analysis.report.build import PDF_ENV

    pathto = context.get("pathto")
    if pathto is None:
        return
    cite, pdf_label = _("How to cite"), _("PDF edition")
    links = []
    if "book/cite" in app.env.found_docs:
        links.append(f'<a href="{pathto("book/cite")}">{cite}</a>')
    pdf = os.environ.get(PDF_ENV, "")
    if pdf and app.builder.name == "html":
        links.append(f'<a class="pdf-link" href="{pathto(pdf, 1)}">{pdf_label}</a>')
    if links:
        context["theme_extra_footer"] = (context.get("theme_extra_footer") or "") + " " + " · ".join(links)


def _language_switch(app, pagename, templatename, context, doctree) -> None:  # type: ignore[no-untyped-def]
    """A link to the same page in the other edition(s), at the top of every page's article."""
    import html
    import os

    from analysis import i18n

    if app.builder.name != "html" or "body" not in context:
        return
    editions = [e for e in os.environ.get(i18n.EDITIONS_ENV, "").split(",") if e]
    links = i18n.switch_links(pagename, i18n.lang(), editions)
    if links:
        code = {name: i18n.HTML_LANG[e] for e, name in i18n.NAMES.items()}
        a = " · ".join(f'<a href="{html.escape(href, quote=True)}" hreflang="{code[label]}" '
                       f'lang="{code[label]}">{html.escape(label)}</a>' for label, href in links)
        context["body"] = f'<p class="lang-switch">{a}</p>\n' + context["body"]


EXEC_TABLE_HEADER = ("Document", "Modified", "Method", "Run Time (s)", "Status")
"""The header myst-nb writes (in English) on the execution table (``{nb-exec-table}``)."""
EXEC_TABLE_TEXT = (N_("Document"), N_("Modified"), N_("Method"), N_("Run Time (s)"), N_("Status"),
                   N_("cache"), N_("force"), N_("auto"), N_("inline"))
"""Its header and its methods, said in the edition's language."""


class TranslateExecTable(SphinxPostTransform):
    """Writes the execution table's header and methods in the edition's language (after myst-nb,
    which builds the table at priority 8)."""

    default_priority = 9

    def run(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        for table in self.document.findall(nodes.table):
            head = next(table.findall(nodes.thead), None)
            if head is None or tuple(e.astext() for e in head.findall(nodes.entry)) != EXEC_TABLE_HEADER:
                continue
            for para in table.findall(nodes.paragraph):
                if para.astext() in EXEC_TABLE_TEXT and len(para.children) == 1:
                    para.replace(para.children[0], nodes.Text(_(para.astext())))


STATIC = Path(__file__).with_name("static")
"""The report's own stylesheet (``ruralgov.css``)."""


def _static(app, config) -> None:  # type: ignore[no-untyped-def]
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("config-inited", _static)
    app.add_css_file("ruralgov.css")
    app.connect("build-finished", _write)
    app.add_post_transform(TranslateExecTable)
    app.connect("html-page-context", _trim_assets)
    app.connect("html-page-context", _footer_links)
    app.connect("html-page-context", _language_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
