"""Write the inputs of tests/r/index_reference.R: a small frame of indicator answers and the items'
scales, with the cases the index must handle (reverse-coded items, missing answers around the
coverage threshold, a respondent who answered nothing, a constant indicator).

Run from the project root:  python tests/r/index_input.py
Outputs: tests/data/index_input.csv (weight and the 20 indicators of 48 villagers of the default
wave, answers blanked and changed as below), tests/data/index_items.csv (id, field, aspect,
lowest and highest code, direction: three items declared reverse-coded here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import paths
from analysis.ingest.codebook import load_codebook

REVERSED = ("edu_means", "hlt_concept", "et_org")
"""Items read as reverse-coded (direction −1) in the reference, whatever the codebook says."""
CONSTANT = "cs_concept"
"""An indicator everyone answers alike (no information: z-score 50, entropy and PCA weight 0)."""


def main() -> None:
    cb = load_codebook()
    items = cb.indicators("villagers")
    ids = [it.id for it in items]
    v = pd.read_csv(paths.WAVES / paths.DEFAULT_WAVE / "villagers.csv")
    rng = np.random.default_rng(2020)
    rows = v.iloc[np.sort(rng.choice(len(v), 48, replace=False))][["weight", *ids]].reset_index(drop=True)
    x = rows[ids].astype(float)
    x[(x < 1) | (x > 5)] = np.nan                      # the file's missing codes (8, 9)
    for i in range(40):                                # 0 to 3 answers blanked in one field
        f = items[i % len(items)].field
        field_ids = [it.id for it in items if it.field == f]
        x.loc[i, field_ids[: i % 4]] = np.nan
    x.loc[47, :] = np.nan                              # answered nothing
    x[CONSTANT] = 3.0
    x.loc[[46, 47], CONSTANT] = np.nan                 # 46 answered the field's other three
    rows[ids] = x
    rows.insert(0, "respondent", np.arange(1, 49))
    rows.to_csv(paths.ROOT / "tests/data/index_input.csv", index=False)
    pd.DataFrame({"id": ids, "field": [it.field for it in items], "aspect": [it.aspect for it in items],
                  "lo": [min(it.values) for it in items], "hi": [max(it.values) for it in items],
                  "direction": [-1 if it.id in REVERSED else it.direction for it in items]}
                 ).to_csv(paths.ROOT / "tests/data/index_items.csv", index=False)


if __name__ == "__main__":
    main()
