"""Publishing: how numbers leave the package — the disclosure policy, number formats, labels,
tables, figures and provenance footers, the same for pages and the command line."""
