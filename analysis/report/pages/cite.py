"""The citation page (book/cite.md): the report's BibTeX entry with version, commit and wave."""

from __future__ import annotations

import analysis
from analysis.publishing import provenance


def bibtex(study) -> str:  # type: ignore[no-untyped-def]
    """The report's BibTeX entry for this wave and commit."""
    sha, _ = provenance.git_commit()
    w = study.wave
    return ("@misc{ruralgov,\n"
            "  title  = {{Modernization of Rural Public Service Governance in China: an Executed Report}},\n"
            "  author = {{the ruralgov authors}},\n"
            "  year   = {2026},\n"
            f"  note   = {{Version {analysis.__version__}, commit {sha}, wave {w.id} (sha256 {w.sha256[:12]})}}\n"
            "}")
