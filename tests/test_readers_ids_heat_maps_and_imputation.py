"""Readers, ids, provinces, wave.yml, page facts, icons, heat maps, Table 1, imputation and the
robustness table: behaviours no other test file pins down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.validate import validate_wave
from tests.conftest import with_spec, with_villagers


@pytest.fixture(scope="module")
def replica():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


def _model(monkeypatch, study, name, spec):  # type: ignore[no-untyped-def]
    """Make ``study.settings.models.get(name)`` return ``spec`` (other names as before)."""
    models = study.settings.models
    get = type(models).get
    monkeypatch.setattr(type(models), "get", lambda self, n: spec if n == name else get(self, n))


# ---------------------------------------------------------------- the careful CSV reader


def test_a_quoted_header_holding_the_delimiter_is_one_column_of_a_gb18030_file(small_villagers, make_wave):
    """A header "note, free text" in quotes is one column: a GB18030 file with it is read, not refused
    for rows one field shorter than the header."""
    v = small_villagers.assign(**{"note, free text": "x"})
    data = v.to_csv(index=False).encode("gb18030")
    assert data.splitlines()[0].endswith(b',"note, free text"')
    report, clean = validate_wave(make_wave(data, spec={"encoding": "gb18030"}))
    refused = [e for e in report.errors if e.rule in ("complete rows", "cells under a header")]
    assert not refused, refused
    assert len(clean["villagers"]) == len(small_villagers)


def test_a_file_pasted_from_two_encodings_is_named_at_its_first_gbk_row_not_its_last(small_villagers,
                                                                                     make_wave):
    """Rows 2-4 GBK, rows 5 on UTF-8 (every row holds Chinese): the first row not UTF-8 is row 2."""
    header, *rows = small_villagers.to_csv(index=False).splitlines()
    assert header.isascii() and all(not r.isascii() for r in rows[:6])
    data = (header + "\n").encode() + "\n".join(rows[:3]).encode("gbk") + b"\n" \
        + ("\n".join(rows[3:]) + "\n").encode("utf-8")
    report, _ = validate_wave(make_wave(data))
    assert [(e.row, e.rule) for e in report.errors] == [(2, "one encoding")], report.errors
    assert "row 2 is not" in report.errors[0].message


def test_a_cell_of_spaces_after_the_last_header_of_a_gb18030_file_is_no_value(small_villagers, make_wave):
    """Data rows ending with ", " (a delimiter and a space) hold no value beyond the header: read."""
    header, *rows = small_villagers.to_csv(index=False).splitlines()
    data = "\n".join([header, *(r + ", " for r in rows)]).encode("gb18030") + b"\n"
    report, clean = validate_wave(make_wave(data, spec={"encoding": "gb18030"}))
    assert not [e for e in report.errors if e.rule == "cells under a header"], report.errors
    assert len(clean["villagers"]) == len(small_villagers)


def test_a_file_of_blank_lines_only_is_called_empty(make_wave):
    """A CSV holding only blank lines is an empty file, not one without a header row."""
    report, _ = validate_wave(make_wave(b"\n\n  \n"))
    [e] = [e for e in report.errors if e.file == "villagers.csv"]
    assert "the file is empty (0 bytes or only blanks)" in e.message, e.message


def test_a_header_row_2_below_a_row_of_question_numbers_is_the_header(small_villagers, make_wave):
    """``header_row: 2`` in a UTF-8 file: the row of question numbers above it is neither the
    header nor a respondent; every respondent is read under its item."""
    v = small_villagers
    qnums = ",".join(f"Q{i}" for i in range(1, len(v.columns) + 1))
    data = (qnums + "\n" + v.to_csv(index=False)).encode("utf-8")
    qs = {"villagers": {"file": "villagers.csv", "header_row": 2}}
    folder = make_wave(data, spec={"questionnaires": qs})
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    assert len(clean["villagers"]) == len(v)
    assert list(clean["villagers"]["resp_id"].astype(str)) == list(v["resp_id"].astype(str))


# ---------------------------------------------------------------- cells and ids


def test_a_cell_of_4000_chinese_characters_is_within_the_10000_character_limit(small_villagers, make_wave):
    """The limit counts characters: 4,000 Chinese characters (12,000 UTF-8 bytes) pass; 10,001 do not."""
    v = small_villagers.assign(note="")
    v.loc[0, "note"] = "中" * 4000
    report, _ = validate_wave(make_wave(v))
    assert not [e for e in report.errors if e.rule == "cell size"], report.errors
    v.loc[0, "note"] = "中" * 10_001
    report, _ = validate_wave(make_wave(v, name="long"))
    [e] = [e for e in report.errors if e.rule == "cell size"]
    assert "a cell of 10001 characters" in e.message


def test_float_ids_of_a_parquet_file_are_written_as_whole_numbers(small_villagers, make_wave):
    """resp_id and village_id stored as floats (3101002.0) are the ids "3101002", as in the CSV."""
    v = small_villagers.copy()
    ids = ["resp_id", "village_id"]
    v[ids] = v[ids].apply(pd.to_numeric).astype(float)
    folder = make_wave(name="pq", file="villagers.parquet")
    v.to_parquet(folder / "villagers.parquet", index=False)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    for c in ids:
        assert clean["villagers"][c].astype(str).tolist() == small_villagers[c].astype(str).tolist(), c


def test_a_twelve_digit_float_id_of_a_parquet_file_keeps_its_digits(small_villagers, make_wave):
    """310101001001.0 (beyond 32 bits) is the id "310101001001", not a wrapped number."""
    v = small_villagers.copy()
    v["resp_id"] = [310101001001.0 + i for i in range(len(v))]
    folder = make_wave(name="pq", file="villagers.parquet")
    v.to_parquet(folder / "villagers.parquet", index=False)
    report, clean = validate_wave(folder)
    assert report.ok, report.errors[:3]
    want = [str(310101001001 + i) for i in range(len(v))]
    assert clean["villagers"]["resp_id"].astype(str).tolist() == want


def test_a_province_written_with_the_english_word_municipality_is_that_province():
    """'Shanghai Municipality' and 'Beijing Municipality' are Shanghai and Beijing."""
    from analysis.ingest.provinces import resolve

    assert resolve("Shanghai Municipality").name_zh_short == "上海"
    assert resolve("Beijing Municipality").name_zh_short == "北京"


# ---------------------------------------------------------------- wave.yml and page facts


@pytest.mark.parametrize("raw", ["- id: w\n- title: t\n", "just a sentence\n"])
def test_a_wave_yml_that_is_a_list_or_a_scalar_is_refused_as_not_a_mapping(make_wave, raw):
    """wave.yml must be a mapping of keys: a list or a scalar is refused saying so."""
    from analysis.settings import SettingsError, load_wave_settings

    folder = make_wave(raw_yml=raw)
    said = r"expected a mapping of keys \(id, title, questionnaires, design\)"
    with pytest.raises(SettingsError, match=said):
        load_wave_settings(folder)


def test_the_headline_min_cell_is_the_wave_s_own(replica):
    """A wave.yml with min_cell: 5: the pages say cells under 5 respondents are withheld."""
    from analysis.report.pages.common import headline

    assert headline(with_spec(replica, min_cell=5))["min_cell"] == 5
    assert headline(with_spec(replica, min_cell=7))["min_cell"] == 7


def test_a_bare_icon_key_is_not_found_at_the_end_of_a_longer_key():
    """``0`` is not the end of ``10``, nor ``bars`` the end of ``sidebars``: each is its own icon."""
    from analysis.report import icons

    pack = 'var p={10:[1,2,[],"","A"],0:[3,4,[],"","B"],sidebars:[5,6,[],"","C"],bars:[7,8,[],"","D"]}'
    assert icons.icon(pack, "0") == [3, 4, "B"]
    assert icons.icon(pack, "bars") == [7, 8, "D"]
    assert icons.icon(pack, "10") == [1, 2, "A"]


# ---------------------------------------------------------------- sub-index heat maps


def test_the_nation_s_column_stays_when_every_region_is_withheld(replica, monkeypatch):
    """min_cell above the largest region's respondents but below the nation's: the heat map has
    the nation's column alone, each field's national degree."""
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.report.pages import common, index

    n = replica.villagers.groupby("region3").size()
    pol = DisclosurePolicy(min_cell=int(n.max()) + 1)
    assert pol.min_cell <= len(replica.villagers)
    monkeypatch.setattr(common, "policy", lambda st: pol)
    t = index.subindex_by_region(replica, "fields")
    assert t.columns.tolist() == ["all"]
    fields = replica.wave.codebook.fields
    for f in replica.index.fields:
        assert t.loc[fields[f][1], "all"] == pytest.approx(replica.degree(level=f).estimate[0])


# ---------------------------------------------------------------- Table 1


def test_an_institution_item_in_the_wave_answered_by_no_record_is_unanswered_not_absent(replica):
    """The institutions' column of an education problem present but all blank: "in this wave,
    answered by nobody", not "not in this wave"."""
    import dataclasses

    from analysis.estimation.study import build_study
    from analysis.report.pages import problems

    w = replica.wave
    inst = w.institutions.copy()
    inst["ep_funds"] = np.nan
    st = build_study(dataclasses.replace(w, data={**w.data, "institutions": inst}))
    base = problems.table1(st).set_index("item")["base"]
    assert base["ep_funds"] == "in this wave, answered by nobody"


# ---------------------------------------------------------------- imputation and robustness


def test_each_imputed_fit_of_an_unclustered_model_carries_hc1_variances(replica, monkeypatch):
    """No cluster: each completed data set's variances are HC1, n/(n − k) × the HC0 sandwich,
    recomputed here from the data set MICE fitted."""
    from statsmodels.imputation import mice

    from analysis.estimation.suite import multiple_imputation

    hc1 = replica.settings.models.get("wls_region").model_copy(
        update={"cluster": None, "wild": None, "se": None})
    assert hc1.se_kind == "hc1"
    _model(monkeypatch, replica, "hc1", hc1)
    kept, fit = [], mice.MICE.fit

    def keep(self, *a, **k):  # type: ignore[no-untyped-def]
        kept.append(fit(self, *a, **k))
        return kept[-1]

    monkeypatch.setattr(mice.MICE, "fit", keep)
    _, fits = multiple_imputation(replica, model="hc1", imputations=2, burn_in=1, return_fits=True)
    for i, r in enumerate(kept[0].model.results_list, start=1):
        X, y = np.asarray(r.model.exog), np.asarray(r.model.endog)
        w = np.asarray(r.model.weights)
        n, k = X.shape
        XtW = X.T * w
        bread = np.linalg.inv(XtW @ X)
        e = y - X @ (bread @ (XtW @ y))
        meat = (X.T * (w * e) ** 2) @ X
        var = np.diag(bread @ meat @ bread) * n / (n - k)
        got = fits[fits["imputation"] == i].set_index("term").loc[list(r.model.exog_names), "variance"]
        np.testing.assert_allclose(got.to_numpy(), var, rtol=1e-8)


def test_rows_without_a_cluster_are_left_out_of_multiple_imputation(replica, monkeypatch):
    """A model clustered on a column blank for 30 villagers: those rows are left out (as the
    complete-case fit leaves them), and the pooled fit is the one on the rows with a cluster."""
    from analysis.estimation.suite import multiple_imputation

    v = replica.villagers.copy()
    team = v["province"].astype(str).copy()
    blank = v.sample(30, random_state=3).index
    team[blank] = np.nan
    st = with_villagers(replica, v.assign(team=team))
    spec = replica.settings.models.get("wls_region").model_copy(update={"cluster": "team", "wild": None})
    assert spec.se_kind == "cr1"
    _model(monkeypatch, st, "team", spec)
    table = multiple_imputation(st, model="team", imputations=2, burn_in=1)
    assert table.attrs["left_out_rows"] == 30
    assert np.isfinite(table["se"]).all() and (table["se"] > 0).all()


def test_each_alternative_construction_changes_one_choice_of_the_default(replica):
    """The "entropy weights" row is the model on the default normalisation and aggregation with
    entropy weights alone (not on the rank normalisation of the row before it)."""
    from analysis.estimation.suite import fit_model, robustness

    base = replica.construction
    assert base.normalisation != "rank" and base.weighting != "entropy"
    r = robustness(replica)
    got = r[r["construction"] == "entropy weights"].set_index("term")["estimate"]
    spec = replica.settings.models.get("wls_region").model_copy(update={"wild": None})
    want = fit_model(replica.with_construction(base.with_(weighting="entropy")), spec).params
    np.testing.assert_allclose(got.to_numpy(), want[got.index].to_numpy(), rtol=1e-10)


def test_utf8_rows_pasted_into_a_gbk_file_are_named_whatever_bytes_they_pair_into(default_frames, make_wave):
    """Two UTF-8 rows in a GBK file: where their bytes happen to read as GB18030 the file was
    refused as mixing encodings, and where they did not as "neither UTF-8 nor GB18030; declare
    'encoding'" (advice that mends nothing). Both are the same file: refused as mixing encodings."""
    header, *rows = default_frames["villagers"].to_csv(index=False).splitlines()
    odd = next(r for r in rows[6:] if not _reads(r.encode("utf-8"), "gb18030"))     # 上海 would pair up
    i = rows.index(odd)
    data = (header + "\n").encode() + "\n".join(rows[:i]).encode("gbk") + b"\n" \
        + (odd + "\n").encode("utf-8") + ("\n".join(rows[i + 1:]) + "\n").encode("gbk")
    assert not _reads(data, "utf-8") and not _reads(data, "gb18030")
    report, _ = validate_wave(make_wave(data))
    assert [(e.row, e.rule) for e in report.errors] == [(2, "one encoding")], report.errors
    assert "mixes text encodings" in report.errors[0].message


def _reads(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
