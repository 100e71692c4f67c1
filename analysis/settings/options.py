"""Every fixed option set of the package, in one place.

The settings schemas check files against these tuples; the index, the sensitivity analysis and
the robustness checks take their alternatives from them; error messages list them.
"""

from __future__ import annotations

ITEM_TYPES = ("id", "province", "psu", "weight", "fpc", "likert5", "binary", "multi", "categorical",
              "count", "numeric")
"""Types of a codebook item."""
CODED_TYPES = ("likert5", "binary", "multi", "categorical")
"""Item types whose values are codes with labels."""
NUMERIC_TYPES = ("count", "numeric", "weight", "fpc")
"""Item types whose values are numbers."""
ITEM_ROLES = ("indicator", "outcome", "covariate")
"""What an item is used for (an indicator enters the index)."""

NORMALISATIONS = ("minmax", "zscore", "rank", "target")
"""How indicators are put on 0–100: bounded min–max, 50 + 10·z (cut at 0 and 100), weighted
percentile rank, distance to a target code."""
WEIGHTINGS = ("equal", "expert", "entropy", "pca", "ahp")
"""How indicators and fields are weighted."""
AGGREGATIONS = ("arithmetic", "geometric", "topsis")
"""How weighted indicators are combined."""

FAMILIES = ("ols", "wls", "mixedlm", "ologit", "logit", "oaxaca")
"""Estimator families of ``data/models.yml``."""
SE_KINDS = ("hc1", "cr1", "design")
"""Standard errors of linear and logit models: heteroskedasticity-robust (HC1), cluster-robust
(CR1) or design-based (Taylor linearisation over strata and PSUs, as ``svyglm``)."""
WILD_WEIGHTS = ("rademacher", "webb")
"""Wild cluster bootstrap weight distributions."""
TRANSFORMS = ("log", "log1p", "asinh")
"""Transforms of a derived variable (``derived.<name>.transform`` in ``data/models.yml``)."""
NONPOSITIVE = ("error", "drop")
"""What a ``log`` transform does with values ≤ 0: stop with an error naming the variable, or drop
those rows from the models that use it (counted and reported)."""

LONELY_PSU = ("adjust", "remove", "certainty", "fail")
"""Rules for a stratum (or a domain's stratum) with a single PSU, as R's
``options(survey.lonely.psu = ...)``."""
QUESTIONNAIRES = ("villagers", "institutions")
"""Questionnaires a wave may hold (the codebook's)."""
REPRODUCTION_STATISTICS = ("degree", "ratio_of_degrees", "proportion", "count_share", "ratio",
                           "not_from_survey")
"""How a published figure is reproduced from a wave (``data/reference/reproduction.yml``)."""
COMPARISONS = ("equal", "at_most", "below")
"""How a reproduced value is compared with its published figure."""
DETECT_ENCODING = ("auto", "detect")
"""Values of a wave's ``encoding`` (any case) that ask the CSV readers to detect it."""

MIN_CELL_FLOOR = 3
"""Least allowed ``min_cell``: below three respondents a published mean or share can be undone
by a respondent who knows their own answer and the other's (the threshold rule of statistical
disclosure control sets three as the absolute minimum; ruralgov's default is 10)."""
