"""Write the inputs of tests/r/ranks_reference.R: the default wave's respondents (province,
overall score, weight, PSU code) and the Rao–Wu bootstrap multipliers the package draws for the
province replicates of the index page and the profiles (same seed, same PSU codes), with the
provinces among which the page ranks (the publishable ones), so that R recomputes the replicate
means, each replicate's ranks and the rank intervals on the same replicates.

Run from the project root:  python tests/r/ranks_input.py
Outputs: tests/data/ranks_input.csv, tests/data/ranks_multipliers.csv (PSUs × replicates),
tests/data/ranks_provinces.csv (the provinces ranked).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import paths
from analysis.estimation.sensitivity import rao_wu_multipliers
from analysis.estimation.study import build_study
from analysis.report.pages.index import province_degrees, published

BY = "province_en"


def frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(respondents, multipliers, provinces ranked) as
    :func:`analysis.estimation.sensitivity.domain_replicates` and the index page's
    :func:`analysis.report.pages.index.province_table` use them."""
    study = build_study(paths.DEFAULT_WAVE)
    u = study.settings.index.uncertainty
    v = study.villagers
    dc = study.wave.design_columns
    units, mult = rao_wu_multipliers(v[dc["strata"]].to_numpy(), v[dc["psu"]].to_numpy(), u.bootstrap_reps,
                                     np.random.default_rng(u.bootstrap_seed))
    data = pd.DataFrame({"province": v[BY].to_numpy(), "overall": study.scores["overall"].to_numpy(),
                         "weight": v[dc["weight"]].to_numpy(float), "psu_code": units})
    ranked = pd.DataFrame({"province": published(province_degrees(study))["province"]})
    return data, pd.DataFrame(mult, columns=[f"r{i + 1}" for i in range(mult.shape[1])]), ranked


def main() -> None:
    data, mult, ranked = frames()
    data.to_csv(paths.ROOT / "tests/data/ranks_input.csv", index=False)
    mult.to_csv(paths.ROOT / "tests/data/ranks_multipliers.csv", index=False)
    ranked.to_csv(paths.ROOT / "tests/data/ranks_provinces.csv", index=False)


if __name__ == "__main__":
    main()
