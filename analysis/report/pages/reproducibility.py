"""The reproducibility appendix (book/reproducibility.md): wave files, settings hashes, versions,
commit."""

from __future__ import annotations

import pandas as pd

from analysis.i18n import N_, _
from analysis.publishing import provenance


COMMIT_ROWS = (N_("commit"), N_("work tree"), N_("wave"), N_("wave sha256"))
"""The rows of the appendix's first table (labels in the edition's language)."""


def tables(study) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """Tables for the appendix: wave files, configuration hashes, versions, commit."""
    w = study.wave
    sha, dirty = provenance.git_commit()
    state = _(N_("unknown") if dirty is None else N_("modified") if dirty else N_("clean"))
    files = w.file_hashes
    cfg = dict(study.settings.sha256)
    vers = provenance.versions()
    return {
        "files": pd.DataFrame({"file": list(files), "sha256": list(files.values())}),
        "config": pd.DataFrame({"file": list(cfg), "sha256": list(cfg.values())}),
        "versions": pd.DataFrame({"package": list(vers), "version": list(vers.values())}),
        "commit": pd.DataFrame({"item": [_(x) for x in COMMIT_ROWS],
                                "value": [sha, state, w.id, w.sha256]}),
    }
