"""Write the inputs of tests/r/oaxaca_reference.R: the default wave's east–west decomposition
frame and the Rao–Wu bootstrap multipliers the package draws for it (same seed, same PSU codes),
so that R recomputes the decomposition and its bootstrap SEs on the same replicates.

Run from the project root:  python tests/r/oaxaca_input.py
Outputs: tests/data/oaxaca_input.csv (outcome, regressors, weight, group and PSU code of each
respondent of the two groups), tests/data/oaxaca_multipliers.csv (PSUs × replicates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import paths
from analysis.estimation.frames import model_frame
from analysis.estimation.sensitivity import rao_wu_multipliers
from analysis.estimation.study import build_study

MODEL = "oaxaca_east_west"


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(respondents, multipliers) as :func:`analysis.estimation.decomposition.fit_oaxaca` builds them."""
    study = build_study(paths.DEFAULT_WAVE)
    spec = study.settings.models.get(MODEL)
    dc = study.wave.design_columns
    df = model_frame(study, spec, design_columns=True).data
    df = df[df[spec.group].isin(spec.groups)].reset_index(drop=True)
    units, mult = rao_wu_multipliers(df[dc["strata"]].to_numpy(), df[dc["psu"]].to_numpy(), spec.reps,
                                     np.random.default_rng(spec.seed))
    out = df[[spec.outcome, *spec.regressors, spec.weights, spec.group]].rename(
        columns={spec.outcome: "y", spec.weights: "weight", spec.group: "group"}).assign(psu_code=units)
    return out, pd.DataFrame(mult, columns=[f"r{i + 1}" for i in range(mult.shape[1])])


def main() -> None:
    data, mult = frames()
    data.to_csv(paths.ROOT / "tests/data/oaxaca_input.csv", index=False)
    mult.to_csv(paths.ROOT / "tests/data/oaxaca_multipliers.csv", index=False)


if __name__ == "__main__":
    main()
