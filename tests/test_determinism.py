"""The same inputs and seed give the same bytes in another process.

Python salts the hash of every string per process (``PYTHONHASHSEED``, random unless fixed), so
iterating a set of strings gives another order in another process: a replica, a table or a
model's dummies built in set order would differ between two runs of the same command, and a
cited number would not reproduce. The book fixes the seed for its pages; the command line and a
user's own scripts do not. Each output here is computed in three processes of different hash
seeds and must be byte-identical.
"""

from __future__ import annotations

import os
import subprocess
import sys

from analysis import paths

SCRIPT = r'''
import hashlib
import pandas as pd
from analysis.replica import generate
from analysis.estimation.study import build_study
from analysis.estimation.sensitivity import run_sensitivity
from analysis.estimation.suite import fit_models, multiple_imputation
from analysis.publishing.disclosure import suppression_note
from analysis.publishing.tables import regression_html, render

out = {}
rep = generate(seed=3, n=400)
out["replica"] = rep["villagers"].to_csv() + rep["institutions"].to_csv()
st = build_study("2020-replica")
s = run_sensitivity(st, draws=70, seed=2)
out["sensitivity"] = s.regions.to_csv() + s.provinces.to_csv() + s.sobol.to_csv()
out["imputed"] = multiple_imputation(st, imputations=2, burn_in=1).to_csv()
ms = fit_models(st, names=["wls_region", "wls_province"])
out["models"] = ms.to_latex() + regression_html(ms.table(), title="models")
t = pd.DataFrame({"estimate": [1.0, 2.0, 3.0], "n": [5, 40, 40], "suppressed": ["n < 10", "one PSU", ""],
                  "flag": ["", "wide interval; few PSUs", "few respondents"]})
out["notes"] = suppression_note(t) + str(render(t, title="notes"))
for k, v in out.items():
    print(k, hashlib.sha256(v.encode()).hexdigest())
'''


def test_replica_sensitivity_imputation_tables_and_notes_do_not_depend_on_the_process_hash_seed():
    """A replica, the Monte Carlo sensitivity run, multiple imputation (with fixed-effect dummies),
    a regression table with two kinds of fixed effects, and a table's suppression and caution
    notes: the same in processes of hash seeds 0, 1 and 2 (and each output is there)."""
    runs = []
    for seed in ("0", "1", "2"):
        p = subprocess.run([sys.executable, "-c", SCRIPT], cwd=paths.ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg"})
        assert p.returncode == 0, p.stderr[-2000:]
        runs.append(p.stdout)
    assert [ln.split()[0] for ln in runs[0].splitlines()] == ["replica", "sensitivity", "imputed", "models", "notes"]
    assert runs[1] == runs[0] and runs[2] == runs[0]
