"""The citation page (book/cite.md): the report's BibTeX entry with version, commit and wave."""

from __future__ import annotations

import os

import analysis
from analysis.publishing import provenance


def tex(text: str) -> str:
    """Text as LaTeX reads it in a BibTeX field: a wave id's underscore (pilot_2024) escaped, which
    LaTeX would read as a subscript outside math ("Missing $")."""
    return text.replace("_", r"\_")


def bibtex(study) -> str:  # type: ignore[no-untyped-def]
    """The report's BibTeX entry for this wave and commit."""
    from analysis.report.build import REPOSITORY_ENV

    sha = provenance.commit_label()          # "+dirty" when the work tree differs from the commit
    w = study.wave
    url = os.environ.get(REPOSITORY_ENV, "")
    kind = ", synthetic replica data" if w.synthetic else ""
    return ("@misc{ruralgov,\n"
            "  title   = {{Modernization of Rural Public Service Governance in China: an Executed Report}},\n"
            "  author  = {{the ruralgov authors}},\n"
            f"  year    = {{{provenance.commit_year()}}},\n"
            f"  version = {{{analysis.__version__}}},\n"
            + (f"  url     = {{{url}}},\n" if url else "")
            + f"  note    = {{Version {analysis.__version__}, commit {sha}, wave {tex(w.id)} "
            f"(sha256 {w.sha256[:12]}){kind}}}\n"
            "}")
