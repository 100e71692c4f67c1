"""The modernization index against an independent implementation in R, for every normalisation ×
weighting × aggregation, on 48 respondents with reverse-coded items, missing answers around the
coverage threshold, a respondent who answered nothing and a constant indicator.

References: ``tests/results/index_reference.csv`` (scores) and ``index_reference_weights.csv``,
made by ``tests/r/index_reference.R`` (written from the method's definitions, without the
package) from ``tests/data/index_input.csv`` and ``index_items.csv`` (``tests/r/index_input.py``).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.estimation.index import IndexConfig, build_index
from analysis.ingest.codebook import load_codebook
from analysis.settings.options import AGGREGATIONS, NORMALISATIONS, WEIGHTINGS

pytestmark = pytest.mark.against_r
DATA = paths.ROOT / "tests" / "data"
RESULTS = paths.ROOT / "tests" / "results"
SCORES = pd.read_csv(RESULTS / "index_reference.csv")
WEIGHTS = pd.read_csv(RESULTS / "index_reference_weights.csv")
# the choices given to the R script (tests/r/index_reference.R, same values)
CHOICES = dict(
    coverage=0.65,
    targets=MappingProxyType({"edu_org": 4.0, "hlt_sys": 3.0, "et_org": 4.0}),
    expert_fields=MappingProxyType({"education": 2.0, "health": 1.5, "social_security": 1.0,
                                    "employment_training": 1.0, "culture_sports": 0.5}),
    expert_indicators=MappingProxyType({"edu_org": 2.0, "hlt_means": 3.0, "cs_sys": 0.5}),
    ahp_order=("health", "education", "culture_sports", "social_security", "employment_training"),
    ahp_matrix=((1, 2, 3, 2, 2), (1 / 2, 1, 2, 1, 1), (1 / 3, 1 / 2, 1, 1 / 2, 1 / 2),
                (1 / 2, 1, 2, 1, 1), (1 / 2, 1, 2, 1, 1)))


def reference_codebook():  # type: ignore[no-untyped-def]
    """The codebook with the reference's directions (three items read as reverse-coded)."""
    cb = load_codebook()
    items = pd.read_csv(DATA / "index_items.csv").set_index("id")
    qs = {q: tuple(dataclasses.replace(it, direction=int(items.loc[it.id, "direction"]))
                   if it.id in items.index else it for it in its)
          for q, its in cb.questionnaires.items()}
    assert sum(it.direction < 0 for it in qs["villagers"]) == 3
    return dataclasses.replace(cb, questionnaires=qs)


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return pd.read_csv(DATA / "index_input.csv"), reference_codebook()


@pytest.mark.filterwarnings("error")          # missing answers are expected, never a warning
@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_scores_and_weights_equal_the_r_reference(inputs, normalisation, weighting, aggregation):
    data, cb = inputs
    cfg = IndexConfig(normalisation=normalisation, weighting=weighting, aggregation=aggregation, **CHOICES)
    res = build_index(data, cfg, codebook=cb, weights=data["weight"].to_numpy())
    assert len(data) == 48
    assert_equals_reference(res, data["respondent"], SCORES, WEIGHTS, cfg, rtol=1e-10)


def assert_equals_reference(res, respondents: pd.Series, scores: pd.DataFrame,  # type: ignore[no-untyped-def]
                            weights: pd.DataFrame, cfg: IndexConfig, rtol: float) -> None:
    """An index result's scores (overall, fields, aspects, in that order) and weights equal R's
    rows for its construction, from ``index_reference.R``'s two output files."""
    ref = scores[(scores["normalisation"] == cfg.normalisation) & (scores["weighting"] == cfg.weighting)
                 & (scores["aggregation"] == cfg.aggregation)].set_index("respondent")
    got = res.scores.set_index(respondents)
    assert len(ref) == len(got) and list(got.columns) == list(ref.columns[3:])
    pd.testing.assert_frame_equal(got, ref[got.columns], check_exact=False, rtol=rtol, atol=rtol,
                                  check_names=False)
    w = weights[(weights["normalisation"] == cfg.normalisation) & (weights["weighting"] == cfg.weighting)]
    key = np.where(res.weights["level"] == "overall", "overall:" + res.weights["component"],
                   res.weights["level"] + ":" + res.weights["component"])
    pd.testing.assert_series_equal(pd.Series(res.weights["weight"].to_numpy(), index=key).sort_index(),
                                   w.set_index("component")["weight"].sort_index(),
                                   check_names=False, rtol=rtol, atol=1e-12)


WITHOUT_MEANS = pd.read_csv(RESULTS / "index_reference_without_means.csv")


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("normalisation", NORMALISATIONS)
def test_scores_without_an_aspect_equal_the_r_reference(inputs, normalisation, weighting, aggregation):
    """The score a model's outcome ``overall_without_means`` is: the index rebuilt on the other
    indicators (each field's weights renormalised over what it keeps, the data-driven weights
    recomputed), against R run on the fifteen indicators left."""
    data, cb = inputs
    cfg = IndexConfig(normalisation=normalisation, weighting=weighting, aggregation=aggregation,
                      exclude_aspects=("means",), **CHOICES)
    res = build_index(data, cfg, codebook=cb, weights=data["weight"].to_numpy())
    ref = WITHOUT_MEANS[(WITHOUT_MEANS["normalisation"] == normalisation)
                        & (WITHOUT_MEANS["weighting"] == weighting)
                        & (WITHOUT_MEANS["aggregation"] == aggregation)].set_index("respondent")
    assert len(ref) == 48 and "means" not in ref.columns
    got = res.scores.set_index(data["respondent"])
    cols = list(ref.columns[3:])
    pd.testing.assert_frame_equal(got[cols], ref[cols], check_exact=False, rtol=1e-10, atol=1e-10,
                                  check_names=False)


def test_reference_cases_are_present():
    """The reference exercises what it is for: missing scores from the coverage rule, a respondent
    missing everything, a constant indicator answered by some, and scores beyond minmax's range."""
    d = pd.read_csv(DATA / "index_input.csv")
    assert d.drop(columns=["respondent", "weight"]).iloc[-1].isna().all()
    assert d["cs_concept"].nunique() == 1 and d["cs_concept"].isna().sum() == 2
    mm = SCORES[(SCORES["normalisation"] == "minmax") & (SCORES["aggregation"] == "arithmetic")]
    assert mm["education"].isna().sum() > 1 and mm["overall"].notna().sum() > 40


def test_r_reference_script_reproduces_the_stored_values(tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (apt-get install r-base-core; see README)")
    out = tmp_path / "index_reference.csv"
    subprocess.run(["Rscript", "tests/r/index_reference.R", str(out)], cwd=paths.ROOT, check=True,
                   capture_output=True)
    pd.testing.assert_frame_equal(pd.read_csv(out), SCORES, rtol=1e-13)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "index_reference_weights.csv"), WEIGHTS, rtol=1e-13)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "index_reference_without_means.csv"), WITHOUT_MEANS,
                                  rtol=1e-13)
