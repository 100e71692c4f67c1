"""Human labels for the columns, variables, models and options a reader sees.

Variable labels come from the codebook and ``data/models.yml``; column names of the package's
tidy tables from :data:`COLUMNS`.

Example
-------
>>> from analysis.publishing.labels import column_label
>>> column_label("ci_low"), column_label("region3"), column_label("n_psu")
('95 % CI low', 'region', 'PSUs')
"""

from __future__ import annotations

COLUMNS = {  # translated by analysis.i18n._ (the catalog lists every value: package_messages)
    "domain": "domain", "region3": "region", "region4": "region (NBS)", "province_en": "province",
    "province_zh": "province (Chinese)",
    "estimate": "estimate", "se": "SE", "ci_low": "95 % CI low", "ci_high": "95 % CI high",
    "deff": "design effect", "n": "respondents", "n_psu": "PSUs", "df": "df", "sum_w": "weighted size",
    "median_rank": "median rank", "rank_low": "rank, 2.5 %", "rank_high": "rank, 97.5 %",
    "weighted_share_pct": "weighted share (%)", "blank_pct": "blank (%)",
    "declared_missing_pct": "declared missing (%)", "missing_pct": "missing (%)",
    "first_order": "first-order index", "total": "total index", "input": "input", "output": "output",
    "published": "published", "reproduced": "reproduced", "within_rounding": "within rounding",
    "log_gdp_pc": "log GDP per head", "urban_rate": "urbanization rate (%)",
    "log_edu_pc": "log education spending per head", "wild_p": "wild bootstrap p",
    "wild_ci_low": "wild CI low", "wild_ci_high": "wild CI high", "p": "p",
    "weights_perturbation": "field-weight perturbation", "bootstrap": "sampling (bootstrap)",
    "normalisation": "normalisation", "weighting": "weighting", "aggregation": "aggregation",
}
"""Package column name → reader's label."""


HEADERS = (
    "AHP weights", "AME (pp)", "CR1 CI high", "CR1 CI low", "CR1 p", "Chinese", "English", "NBS region",
    "PCA weights", "SE (imputed)", "SE (pp)", "TOPSIS aggregation", "agreement", "all", "base", "blank",
    "central", "west", "code", "complete cases", "declared", "default", "default (minmax, equal, arithmetic)",
    "entropy weights", "errors", "geometric aggregation", "imputed", "key", "kind", "meaning",
    "missing information", "national", "note", "p (Holm)", "problem", "observations", "provinces",
    "rank normalisation", "region (central)", "region (east)", "region (northeast)", "region (west)", "rows",
    "statistic", "term", "the replica assumes", "the seed paper states", "this wave", "two-digit code",
    "type", "value", "variable (data file)", "version", "vif", "villages", "warnings", "wild p",
    "wild p (Holm)", "year", "z-score normalisation", "field", "item", "question", "level", "figure",
    "model", "file", "row", "column", "rule", "message", "test", "questionnaire", "package", "series")
"""Headers pages use besides :data:`COLUMNS`, listed for the message catalog (translated by
:func:`analysis.i18n._` where a table is drawn)."""


def column_label(name: str) -> str:
    """The reader's label of a column (the name with spaces when none is known)."""
    from analysis.i18n import _

    return _(COLUMNS.get(name, str(name).replace("_", " ")))
