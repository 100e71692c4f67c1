"""The report: the build (``ruralgov build``), the study every page kernel shares, the display
helpers and one helper module per book page (:mod:`analysis.report.pages`)."""
