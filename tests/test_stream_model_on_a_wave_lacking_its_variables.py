"""A streamed model on a wave whose partitions lack one of its variables (an optional item such as
``distance_km``, or the item a derived variable reads) is refused before the scan, naming the
variable, with exit 2 from ``ruralgov stream --model`` (as ``ruralgov models`` refuses it), not a
traceback; the degree alone still streams, and a derived variable whose expression holds quoted
text (``region3 == 'east'``) is built from the column it reads."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis.cli import app
from analysis.estimation.stream import StreamModelError, stream_wave, write_partitioned
from analysis.settings import load_settings
from tests.conftest import shared

DESIGN = {"weight": "weight", "strata": "province", "psu": "village_id"}
runner = CliRunner()


@pytest.fixture(scope=shared)
def villagers() -> pd.DataFrame:
    from analysis.ingest.wave import load_wave

    return load_wave("2020-replica").villagers


def _parts(tmp_path, v: pd.DataFrame, name: str = "parts"):  # type: ignore[no-untyped-def]
    folder = tmp_path / name
    write_partitioned(v.drop(columns=["province_en", "region3", "region4"], errors="ignore"), folder,
                      rows_per_file=400)
    return folder


@pytest.mark.parametrize("dropped, named", [("distance_km", "distance_km"), ("hh_income", "log_income"),
                                            ("sex", "female")])
def test_a_streamed_model_needing_an_absent_column_is_refused_naming_it(tmp_path, villagers, dropped, named):
    """stream_wave: StreamModelError naming the variable (itself, or the derived one reading it)."""
    folder = _parts(tmp_path, villagers.drop(columns=[dropped]))
    ols = {"y": "overall", "x": ["internet_use", "log_income", "distance_km", "female"], "fe": "region3",
           "cluster": "province", "weights": "weight"}
    with pytest.raises(StreamModelError, match=rf"lack '{named}', which the model needs") as e:
        stream_wave(folder, DESIGN, ols=ols)
    assert re.findall(r"'(\w+)'", str(e.value).split(";")[0]) == [named]     # that one variable alone
    if named == "female":                                 # an expression: the reason it cannot be built
        assert "derived variable 'female' ('sex == 2') cannot be computed" in str(e.value)


@pytest.mark.parametrize("dropped, named", [("distance_km", "distance_km"), ("sex", "female")])
def test_the_command_refuses_the_model_with_exit_2_and_still_streams_the_degree(tmp_path, villagers, dropped,
                                                                                named):
    """ruralgov stream --model wls_province on partitions without distance_km (or without sex,
    which the derived female reads): exit 2, the model and the variable named, no traceback; with
    --model '' the same folder streams (exit 0)."""
    folder = _parts(tmp_path, villagers.drop(columns=[dropped]))
    res = runner.invoke(app, ["stream", str(folder), "--model", "wls_province"])
    said = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert "--model 'wls_province'" in said and f"lack '{named}'" in said
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    ok = runner.invoke(app, ["stream", str(folder), "--model", ""])
    assert ok.exit_code == 0, ok.output


def test_a_derived_expression_is_not_refused_for_the_names_in_it(tmp_path, villagers):
    """east (region3 == 'east') is derived from the province's region: the model is not refused
    (for 'east' or 'region3', neither a partition column), and the streamed coefficient is estimated."""
    assert load_settings().models.derived["east"].expr == "region3 == 'east'"
    folder = _parts(tmp_path, villagers)
    ols = {"y": "overall", "x": ["internet_use", "east"], "fe": "sex", "cluster": "province",
           "weights": "weight"}
    out = stream_wave(folder, DESIGN, ols=ols)
    assert out["report"].ok and len(out["ols"]["coef"]) == 2


def test_the_check_names_nothing_when_every_variable_is_present(tmp_path, villagers):
    """The default wave's partitions give every variable of wls_province: the model streams."""
    from analysis.estimation.stream import model_ols

    spec = next(m for m in load_settings().models.models if m.name == "wls_province")
    out = stream_wave(_parts(tmp_path, villagers), DESIGN, ols=model_ols(spec))
    assert out["report"].ok and out["ols"] is not None


def test_a_transform_s_source_under_its_chinese_alias_is_found(tmp_path, villagers):
    """Partitions whose income column is headed 家庭年收入 (an alias of hh_income, as field teams
    deliver it): log_income is built from it, and the model streams as on the item's own name."""
    from analysis.estimation.stream import model_ols

    spec = next(m for m in load_settings().models.models if m.name == "wls_province")
    plain = stream_wave(_parts(tmp_path, villagers, "plain"), DESIGN, ols=model_ols(spec))
    aliased = stream_wave(_parts(tmp_path, villagers.rename(columns={"hh_income": "家庭年收入"}), "aliased"),
                          DESIGN, ols=model_ols(spec))
    assert aliased["report"].ok and aliased["ols"] is not None
    assert list(aliased["ols"]["coef"]) == pytest.approx(list(plain["ols"]["coef"]), rel=1e-12)


def _checked(**ols):  # type: ignore[no-untyped-def]
    from analysis.estimation.stream import _check_ols_columns
    from analysis.ingest.codebook import load_codebook

    spec = {"y": "overall", "x": ["internet_use"], "fe": "region3", "cluster": "province", **ols}
    _check_ols_columns(spec, load_codebook(), load_settings())


def test_the_model_check_knows_the_regions_of_either_scheme_and_the_weights_column():
    """region4 (built from the province) is a fixed effect the scan can absorb; a weights column
    that is no item of the wave is refused by name, and without a 'weights' key 'weight' is read."""
    _checked(fe="region4")
    _checked()                                          # weights: the design's 'weight'
    with pytest.raises(ValueError, match=r"^the streamed OLS cannot build 'w_survey': it reads the wave's "
                                         r"columns, the derived variables of data/models.yml and, as the "
                                         r"outcome, the overall score only$"):
        _checked(weights="w_survey")


def test_the_model_check_names_every_variable_it_cannot_build_and_where_covariates_come_from():
    with pytest.raises(ValueError) as e:
        _checked(x=["internet_use", "log_gdp_pc", "no_such_item"])
    assert str(e.value) == ("the streamed OLS cannot build 'log_gdp_pc', 'no_such_item': it reads the "
                            "wave's columns, the derived variables of data/models.yml and, as the outcome, "
                            "the overall score only (province covariates such as 'log_gdp_pc' are joined "
                            "in memory: use ruralgov models)")


def test_the_id_header_is_found_when_the_headers_cannot_all_be_mapped(tmp_path):
    """Two headers naming one item (age and its alias 年龄) make the header map fail: the respondent
    id's own name is still found among the headers, and is None when absent."""
    from analysis.estimation.stream import _key_header
    from analysis.ingest.codebook import load_codebook

    cb = load_codebook()
    assert _key_header(["resp_id", "age", "年龄"], cb, tmp_path / "p.parquet") == "resp_id"
    assert _key_header(["age", "年龄", "province"], cb, tmp_path / "p.parquet") is None
    assert _key_header(["问卷编号", "age"], cb, tmp_path / "p.parquet") == "问卷编号"


def test_every_lacking_variable_is_named_with_each_expression_s_reason(tmp_path, villagers):
    """Partitions without distance_km, sex and age: one message naming the three variables the
    model needs, then the reason of each derived expression that cannot be computed."""
    folder = _parts(tmp_path, villagers.drop(columns=["distance_km", "sex", "age"]))
    ols = {"y": "overall", "x": ["internet_use", "distance_km", "female", "age10"], "fe": "region3",
           "cluster": "province", "weights": "weight"}
    with pytest.raises(StreamModelError) as e:
        stream_wave(folder, DESIGN, ols=ols)
    parts = str(e.value).split("; ")
    assert parts[0] == ("the wave's partitions lack 'distance_km', 'female', 'age10', which the model needs "
                        "(read from the columns of part-00000.parquet)")
    assert parts[1:] == ["derived variable 'female' ('sex == 2') cannot be computed: name 'sex' is not defined",
                         "derived variable 'age10' ('age / 10') cannot be computed: name 'age' is not defined"]


def test_a_streamed_model_may_absorb_the_nbs_four_regions(tmp_path, villagers):
    """region4, built from the province as region3 is, is a fixed effect the check lets through."""
    ols = {"y": "overall", "x": ["internet_use"], "fe": "region4", "cluster": "province", "weights": "weight"}
    out = stream_wave(_parts(tmp_path, villagers), DESIGN, ols=ols)
    assert out["report"].ok and len(out["ols"]["coef"]) == 1
