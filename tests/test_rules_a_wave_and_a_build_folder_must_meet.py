"""Rules a wave and a build's output folder must meet, each of which a reviewer's planted error
broke unseen: the count of unknown provinces beyond those named, a blank fpc, missing codes
declared for the PSU column, an SPSS file declaring an answer of a binary item missing, a folder
holding only an ``html/`` folder taken for a previous build, and the landing page counted as the
book's first chapter (every table number depends on it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from analysis.ingest.validate import validate_wave
from tests import wavegen


def _set_design(folder, **design):  # type: ignore[no-untyped-def]
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["design"].update(design)
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def test_unknown_provinces_beyond_the_fifty_named_are_counted(tmp_path):
    def atlantis(t):  # type: ignore[no-untyped-def]
        t = t.copy()
        t.loc[:59, "province"] = "Atlantis"
        return t

    report, _ = validate_wave(wavegen.replica_copy(tmp_path / "atlantis", villagers=atlantis))
    bad = [e for e in report.errors if e.rule == "known province"]
    assert len(bad) == 51 and len([e for e in bad if e.row is not None]) == 50
    assert [e.message for e in bad if e.row is None] == ["10 more row(s) of this column break this rule"]


def test_a_blank_fpc_cell_is_refused_at_its_row(tmp_path):
    def with_fpc(t):  # type: ignore[no-untyped-def]
        n_h = t.groupby("province")["village_id"].nunique()
        t = t.assign(fpc=t["province"].map(n_h + 1).astype(str))
        t.loc[5, "fpc"] = ""
        return t

    folder = wavegen.replica_copy(tmp_path / "fpc", villagers=with_fpc)
    _set_design(folder, fpc="fpc")
    report, _ = validate_wave(folder)
    assert [(e.row, e.column, e.rule) for e in report.errors] == [(7, "fpc", "not missing")]


def test_missing_codes_declared_for_the_psu_column_are_refused(tmp_path):
    folder = wavegen.replica_copy(tmp_path / "psu-codes")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["missing_codes"] = {"village_id": [-9]}
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    report, _ = validate_wave(folder)
    assert [(e.file, e.column, e.rule) for e in report.errors] == [
        ("wave.yml", "missing_codes.village_id", "missing codes name a column")]
    assert "a psu column" in report.errors[0].message


def test_an_spss_file_declaring_a_binary_answer_missing_is_refused(tmp_path):
    """0 is internet use's answer 'no': declared missing, every 'no' would be dropped."""
    import pyreadstat

    folder = wavegen.write(tmp_path / "sav-declares-0", "sav")
    df, meta = pyreadstat.read_sav(str(folder / "villagers.sav"), apply_value_formats=False, user_missing=True)
    ranges = {c: [{"lo": r["lo"], "hi": r["hi"]} for r in v] for c, v in (meta.missing_ranges or {}).items()}
    ranges["internet_use"] = [{"lo": 0.0, "hi": 0.0}]
    pyreadstat.write_sav(df, str(folder / "villagers.sav"), column_labels=meta.column_labels,
                         variable_value_labels=meta.variable_value_labels, missing_ranges=ranges)
    report, _ = validate_wave(folder)
    bad = [e for e in report.errors if e.rule == "missing codes are not answers"]
    assert [(e.file, e.column, e.value) for e in bad] == [("villagers.sav", "internet_use", "0")]


def test_a_folder_of_only_an_html_folder_is_no_previous_build(tmp_path):
    from analysis.report.build import check_out_dir

    site = tmp_path / "site"
    (site / "html").mkdir(parents=True)
    (site / "html" / "index.html").write_text("<p>my site</p>", encoding="utf-8")
    why = check_out_dir(site, [])
    assert why is not None and "not a previous ruralgov build" in why
    (site / "inputs").write_text("x", encoding="utf-8")             # a build's layout: both
    assert check_out_dir(site, []) is None
    (site / "html" / "index.html").unlink()
    (site / "html").rmdir()
    assert "not a previous ruralgov build" in (check_out_dir(site, []) or "")     # inputs alone


def test_the_landing_page_is_the_book_s_first_chapter(tmp_path):
    """Tables are numbered by chapter: the survey page, the second in the table of contents,
    numbers its tables 2.x."""
    from analysis.report.build import _pages
    from analysis.report.numbering import chapter

    toc = yaml.safe_load(open("_toc.yml", encoding="utf-8"))
    pages = _pages()
    assert pages[0] == toc["root"] and len(pages) == len(set(pages))
    stems = [p.rsplit("/", 1)[-1] for p in pages]                  # pages are named by their stem
    assert chapter(stems[0]) == 1 and chapter("survey") == 1 + stems.index("survey") == 2
    assert np.all(pd.Series([chapter(p) for p in stems]).diff().dropna() == 1)
