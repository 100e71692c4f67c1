"""Streamed (partitioned) waves: indicators answered only in early partitions, the file rows of
fpc problems found after a partition's first piece, the row count ``ruralgov stream`` prints; and
the rule that design-based standard errors need design weights, for ols models too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.estimation.stream import stream_wave, write_partitioned
from analysis.estimation.study import build_study
from analysis.replica import generate

DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}


def test_an_indicator_answered_only_in_the_first_partition_still_counts_in_the_streamed_index(tmp_path):
    """An indicator the wave answers only in its first partition is an indicator of the wave: the
    streamed degree and OLS n are those of the same rows in memory, and of the rows as one partition."""
    v = generate(seed=21, n=500, calibrate=False)["villagers"]
    v.loc[100:, "cs_concept"] = np.nan                       # answered in part-00000 only
    assert v.loc[:99, "cs_concept"].notna().any()             # the premise: the wave answers it
    write_partitioned(v, tmp_path / "p", rows_per_file=100)
    write_partitioned(v, tmp_path / "one", rows_per_file=len(v))
    ols = {"y": "overall", "x": ["internet_use", "education"], "fe": "province", "cluster": "province"}
    got = stream_wave(tmp_path / "p", DESIGN, by="province_en", ols=ols)
    one = stream_wave(tmp_path / "one", DESIGN, by="province_en", ols=ols)
    assert got["report"].ok and one["report"].ok
    from tests.test_stream import _one_file_wave           # the in-memory reference of the same rows

    mem = build_study(_one_file_wave(tmp_path, v, DESIGN)).degree(by="province_en")
    assert got["degree"].domains == mem.domains
    np.testing.assert_allclose(got["degree"].estimate, mem.estimate, rtol=1e-10)
    np.testing.assert_array_equal(got["degree"].n, mem.n)
    np.testing.assert_allclose(got["degree"].estimate, one["degree"].estimate, rtol=1e-10)
    assert got["ols"]["n"] == one["ols"]["n"]
    np.testing.assert_allclose(got["ols"]["coef"], one["ols"]["coef"], rtol=1e-9)


def test_an_fpc_problem_found_after_a_partition_s_first_piece_names_the_stratum_s_first_file_row(tmp_path):
    """A stratum first seen after the first batch of its partition: the fpc that varies in it is
    reported at the file row of the stratum's first respondent (counted from the file's header),
    whatever the batch size."""
    v = generate(seed=5, n=400, calibrate=False)["villagers"]
    late = sorted(v["province"].unique())[0]
    rows = v[v["province"] == late]
    v = pd.concat([v[v["province"] != late].iloc[:150], rows, v[v["province"] != late].iloc[150:]],
                  ignore_index=True)                          # its first row: position 150
    v["fpc"] = 0.5
    at = v.index[v["province"] == late]
    v.loc[at, "fpc"] = 50.0
    v.loc[at[-1], "fpc"] = 60.0                               # a second value in the same stratum
    assert at[0] == 150
    write_partitioned(v, tmp_path / "p", rows_per_file=100)
    # position 150 is row 50 of part-00001 (0-based), file row 52 with the header as row 1
    for batch in (37, 200_000):
        rep = stream_wave(tmp_path / "p", {**DESIGN, "fpc": "fpc"}, batch_rows=batch)["report"]
        varies = [p for p in rep.errors if p.rule == "fpc constant in a stratum"]
        assert [(p.file, p.row, p.column, p.value) for p in varies] == [
            ("part-00001.parquet", 52, "fpc", "50")], batch


def test_stream_command_titles_the_degree_with_the_rows_of_every_partition(tmp_path):
    """``ruralgov stream`` says how many rows it read: the sum over the partitions (400 + 400 +
    300 = 1,100 in 3 partitions), not the rows of the largest one."""
    from typer.testing import CliRunner

    from analysis.cli import app

    v = generate(seed=12, n=1100, calibrate=False)["villagers"]
    write_partitioned(v, tmp_path / "p", rows_per_file=400)
    res = CliRunner().invoke(app, ["stream", str(tmp_path / "p"), "--model", ""])
    assert res.exit_code == 0, res.output
    said = " ".join(res.stdout.split())
    assert "(1,100 rows in 3 partitions)" in said, said


@pytest.mark.parametrize("family", ["ols", "wls", "ologit"])
def test_a_model_with_design_based_standard_errors_and_no_weights_is_refused_whatever_its_family(family):
    """se: design without 'weights' is refused in data/models.yml for every family, ols included
    (a design-based model must be fitted with the design weights)."""
    from analysis.settings import SettingsError, validate
    from analysis.settings.schemas import ModelSpec, ModelsSettings

    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, {"models": [{"name": "m", "family": family, "outcome": "overall",
                                              "se": "design"}]}, "data/models.yml")
    assert "data/models.yml" in str(e.value)
    assert "design-based standard errors need 'weights'" in str(e.value)
    with pytest.raises(ValueError, match="design-based standard errors need 'weights'"):
        ModelSpec(name="m", family=family, outcome="overall", se="design")
