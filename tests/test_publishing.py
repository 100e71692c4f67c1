"""Publication tables and provenance footers, checked piece by piece against what a reader (or a
spreadsheet) receives: the footer lines of each kind of source, the commit label, the escaping of
formula cells, the embedded CSV decoded back, the numbering and anchors of tables, and the notes
of a regression table. Expected values are written from the rules, not taken from the code."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from html import escape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.publishing import provenance, tables
from analysis.publishing.disclosure import MARK, SUPPRESSED
from analysis.publishing.provenance import OFFICIAL_NOTE, SYNTHETIC_NOTE, Source
from analysis.settings import load_settings


@pytest.fixture
def commit(monkeypatch):
    """A fixed commit for the footers: (sha, dirty) as git would report it."""
    state = {"value": ("0123456789ab", False)}
    monkeypatch.setattr(provenance, "git_commit", lambda: state["value"])
    return state


# --- provenance ----------------------------------------------------------------------------------

def test_commit_label_marks_a_work_tree_that_differs_from_its_commit(commit):
    assert provenance.commit_label() == "0123456789ab"
    commit["value"] = ("0123456789ab", True)
    assert provenance.commit_label() == "0123456789ab+dirty"


def test_the_checkout_reports_its_own_commit():
    provenance.git_commit.cache_clear()
    sha, dirty = provenance.git_commit()
    if sha == "unknown":                 # a copy of the project without git: its state unknown too
        assert dirty is None
    else:
        assert re.fullmatch(r"[0-9a-f]{12}", sha) and isinstance(dirty, bool)


def test_a_repository_s_commit_is_its_first_twelve_hex_digits_and_a_changed_file_makes_it_dirty(
        tmp_path, monkeypatch):
    """In a repository of its own (the checkout may be a copy without git): the commit is the
    first 12 digits of HEAD's hash, clean after the commit, dirty once a tracked file changes,
    and "unknown" outside git, its state unknown too (None: neither clean nor dirty). A file git
    does not track (a user's own wave folder) leaves it clean: two checkouts of one commit cite
    the same commit."""
    import subprocess

    from analysis import paths

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                              check=True, capture_output=True, text=True).stdout.strip()

    monkeypatch.setattr(paths, "ROOT", tmp_path)
    provenance.git_commit.cache_clear()
    assert provenance.git_commit() == ("unknown", None)
    git("init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "a")
    provenance.git_commit.cache_clear()
    assert provenance.git_commit() == (git("rev-parse", "HEAD")[:12], False)
    (tmp_path / "my-wave").mkdir()                 # a user's own wave, never added: still clean
    (tmp_path / "my-wave" / "villagers.csv").write_text("id\n1\n")
    provenance.git_commit.cache_clear()
    assert provenance.git_commit() == (git("rev-parse", "HEAD")[:12], False)
    (tmp_path / "a.txt").write_text("b\n")
    provenance.git_commit.cache_clear()
    assert provenance.git_commit() == (git("rev-parse", "HEAD")[:12], True)
    provenance.git_commit.cache_clear()


@pytest.mark.parametrize("kind, synthetic, first", [
    ("survey", True, [SYNTHETIC_NOTE]),
    ("survey", False, []),
    ("official", True, [OFFICIAL_NOTE]),            # official statistics are real whatever the wave
    ("survey+official", True, [SYNTHETIC_NOTE, OFFICIAL_NOTE]),
    ("survey+official", False, [OFFICIAL_NOTE]),
    ("method", True, []),
])
def test_each_source_says_whether_its_data_are_synthetic_or_real(commit, kind, synthetic, first):
    src = Source(kind, "the data", synthetic)
    assert src.notes("book/x") == [*first, "the data, page book/x, commit 0123456789ab"]
    assert src.notes() == [*first, "the data, commit 0123456789ab"]
    assert src.stamp("p") == "the data, page p, commit 0123456789ab"
    assert src.stamp() == "the data, commit 0123456789ab"


def test_survey_sources_name_the_wave_and_its_hash(commit):
    wave = SimpleNamespace(id="w1", sha256="abcdef0123456789" * 4, synthetic=1)
    s = provenance.survey_source(wave)
    assert (s.kind, s.label, s.synthetic) == ("survey", "wave w1 (sha256 abcdef012345)", True)
    for synthetic in (0, 1):
        m = provenance.mixed_source(SimpleNamespace(id="w2", sha256="0123456789ab" + "f" * 52,
                                                    synthetic=synthetic))
        assert (m.kind, m.label, m.synthetic) == ("survey+official", "wave w2 (sha256 0123456789ab) and "
                                                  "official statistics", bool(synthetic))
    o = provenance.official_source()
    assert (o.kind, o.label, o.synthetic) == ("official", "official statistics (NBS province panel 2005–2024)",
                                              False)


def test_versions_name_every_package_and_those_missing(monkeypatch):
    def version(name):  # type: ignore[no-untyped-def]
        if name == "seaborn":
            raise provenance.metadata.PackageNotFoundError(name)
        return f"v-{name}"
    monkeypatch.setattr(provenance.metadata, "version", version)
    v = provenance.versions()
    assert list(v) == list(provenance.PACKAGES)
    assert v["seaborn"] == "not installed" and v["numpy"] == "v-numpy"
    assert v["ruralgov"] == "v-ruralgov"          # the package's own release


def test_the_report_s_year_is_its_commit_s_year_not_its_author_s(tmp_path, monkeypatch):
    """A commit written on 31 December and committed (rebased, amended) on 2 January is published
    in the new year: the citation dates the commit, as `git log %cd` does."""
    import subprocess

    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.org",
           "GIT_AUTHOR_DATE": "2019-12-31T12:00:00+00:00",
           "GIT_COMMITTER_DATE": "2020-01-02T12:00:00+00:00"}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=env)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-q", "-m", "m"], check=True, env=env)
    monkeypatch.setattr(provenance.paths, "ROOT", tmp_path)
    provenance.commit_year.cache_clear()
    try:
        assert provenance.commit_year() == 2020
    finally:
        provenance.commit_year.cache_clear()


def test_seeds_list_every_random_procedure_of_the_settings():
    settings = load_settings()
    u = settings.index.uncertainty                # each procedure's own seed, told apart from the others'
    u = u.model_copy(update={"seed": u.seed + 1, "bootstrap_seed": u.seed + 2, "draws": u.draws + 3,
                             "bootstrap_reps": u.bootstrap_reps + 4})
    settings = dataclasses.replace(settings, index=settings.index.model_copy(update={"uncertainty": u}))
    s = provenance.seeds(settings)
    assert s["sensitivity"] == {"draws": u.draws, "seed": u.seed}
    assert s["rank_bootstrap"] == {"reps": u.bootstrap_reps, "seed": u.bootstrap_seed}
    wild = [m for m in settings.models.models if m.wild is not None]
    oaxaca = [m for m in settings.models.models if m.family == "oaxaca"]
    assert wild and oaxaca
    for m in wild:
        assert s[f"{m.name}.wild"] == {"reps": m.wild.reps, "seed": m.wild.seed}
    for m in oaxaca:
        assert s[f"{m.name}.bootstrap"] == {"reps": m.reps, "seed": m.seed}
    assert len(s) == 2 + len(wild) + len(oaxaca) + 2       # and the imputation, the panel's wild bootstrap


# --- tables ---------------------------------------------------------------------------------------

def test_formula_cells_get_an_apostrophe_and_nothing_else_changes():
    df = pd.DataFrame({"t": ["=HYPERLINK(1)", "+1", "-x", "@a", "\tb", "\rc", "plain", None, 5],
                       "n": np.arange(9.0) - 4})
    out = tables.escape_formulas(df)
    assert out["t"].tolist() == ["'=HYPERLINK(1)", "'+1", "'-x", "'@a", "'\tb", "'\rc", "plain", None, 5]
    pd.testing.assert_series_equal(out["n"], df["n"])              # negative numbers stay numbers
    assert df["t"][0] == "=HYPERLINK(1)"                             # the input is not changed
    s = tables.escape_formulas(pd.DataFrame({"s": pd.Series(["=a", "b"], dtype="string")}))
    assert s["s"].tolist() == ["'=a", "b"]


def test_csv_is_written_whole_escaped_and_never_under_the_waves(tmp_path):
    df = pd.DataFrame({"a": ["=1+1", "x"], "b": [1.5, 2.0]})
    p = tables.safe_csv(df, tmp_path / "sub" / "t.csv")
    assert p == (tmp_path / "sub" / "t.csv").resolve()
    assert p.read_text(encoding="utf-8") == "a,b\n'=1+1,1.5\nx,2.0\n"
    assert [f.name for f in p.parent.iterdir()] == ["t.csv"]           # no temporary file left
    deep = tables.safe_csv(df, tmp_path / "a" / "b" / "t.csv")            # missing folders made
    assert deep.read_text(encoding="utf-8") == p.read_text(encoding="utf-8")
    target = paths.WAVES / "2020-replica" / "out.csv"
    with pytest.raises(PermissionError, match="data/waves/ is read-only"):
        tables.safe_csv(df, target)
    assert not target.exists()


def test_a_write_cut_short_by_ctrl_c_leaves_neither_the_file_nor_its_temporary_copy(tmp_path):
    def interrupted(fh):  # type: ignore[no-untyped-def]
        fh.write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tables.safe_write(tmp_path / "out.csv", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_a_file_written_whole_gets_the_permissions_a_plain_write_would(tmp_path):
    """The temporary file a report is written to first is readable by its owner alone: the file
    renamed into place gets what the umask allows (as ``open()`` would give it), and a file it
    replaces keeps its own permissions."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        p = tables.safe_csv(pd.DataFrame({"a": [1]}), tmp_path / "new.csv")
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
        p.chmod(0o640)
        tables.safe_csv(pd.DataFrame({"a": [2]}), p)
        assert stat.S_IMODE(p.stat().st_mode) == 0o640 and p.read_text(encoding="utf-8") == "a\n2\n"
        os.umask(0o077)
        own = tables.safe_csv(pd.DataFrame({"a": [1]}), tmp_path / "own.csv")
        assert stat.S_IMODE(own.stat().st_mode) == 0o600
    finally:
        os.umask(old)


@pytest.mark.parametrize("relative", ["data/waves/2020-replica/out.csv",
                                      "data/waves/../waves/2020-replica/out.csv"])
def test_a_relative_path_into_the_waves_is_refused_as_an_absolute_one_is(relative, monkeypatch):
    """From the project's folder, a path written relative to it (or through '..') that lands under
    data/waves/ is refused: the rule is on where the file would be, not on how it is written."""
    monkeypatch.chdir(paths.ROOT)
    target = paths.WAVES / "2020-replica" / "out.csv"
    try:
        with pytest.raises(PermissionError, match="data/waves/ is read-only"):
            tables.safe_csv(pd.DataFrame({"a": [1]}), relative)
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)          # a wrong rule must not leave a file in the raw data


def test_table_ids_are_fixed_by_the_content():
    df = pd.DataFrame({"a": [1]})
    i = tables.table_id("page", "title", df)
    assert re.fullmatch(r"t[0-9a-f]{12}", i)
    assert i == "t" + hashlib.sha256(f"page|title|{df.to_csv()}".encode()).hexdigest()[:12]
    assert i == tables.table_id("page", "title", df.copy())
    assert i != tables.table_id("page", "title", pd.DataFrame({"a": [2]}))


def test_numbered_tables_have_a_caption_number_and_an_anchor():
    assert tables.numbered("Degree", "3.2") == "Table 3.2. Degree"
    assert tables.numbered("Degree", "") == "Degree"
    assert tables.anchor("<b>x</b>", "3.2") == '<div class="numbered-table" id="table-3-2"><b>x</b></div>'
    assert tables.anchor("<b>x</b>", "") == "<b>x</b>"


def test_the_embedded_csv_decodes_to_the_table():
    df = pd.DataFrame({"province": ["Anhui", "=cmd"], "mean": [61.25, np.nan], SUPPRESSED: ["", "n < 30"]})
    html = tables.csv_link(df, "Degree by province: 2020!")
    assert html.startswith('<p class="table-data"><a download="degree-by-province-2020.csv"')
    assert html.endswith("Data of this table (CSV)</a></p>")
    name, body = tables.CSV_LINK.search(html).groups()
    assert name == "degree-by-province-2020.csv"
    assert unquote(body) == "\ufeffprovince,mean,suppressed\nAnhui,61.25,\n'=cmd,,n < 30\n"
    fig = tables.csv_link(df, "", kind="figure")
    assert fig.startswith('<span class="figure-data"><a download="figure.csv"') and "this figure" in fig
    assert tables.CSV_LINK.search(tables.csv_link(df, "!!!")).group(1) == "table.csv"
    long = tables.CSV_LINK.search(tables.csv_link(df, "x" * 80)).group(1)
    assert long == "x" * 60 + ".csv"


def test_rendered_tables_carry_their_number_notes_and_source(commit):
    # (the flag on the row shown, beside its estimate: a withheld row's flag has no † to explain)
    df = pd.DataFrame({"province": ["A", "B"], "estimate": [61.26, 70.0], "flag": ["RSE > 30%", ""],
                       SUPPRESSED: ["", "n < 30"]})
    out = tables.render(df, source=Source("survey", "wave w", True), page="book/p", title="Degree",
                        note="A note.", number="2.1")
    md, html = out["text/markdown"], out["text/html"]
    assert md.startswith("**Table 2.1. Degree**\n\n")
    notes = [line.strip("*") for line in md.split("\n\n")[-1].split("\n")]
    assert notes == ["A note.", f"{MARK} not published (disclosure or reliability rule): n < 30.",
                     "† to be read with care (NCHS presentation standards): RSE > 30%.",
                     SYNTHETIC_NOTE, "wave w, page book/p, commit 0123456789ab"]
    assert html.startswith('<div class="numbered-table" id="table-2-1">')
    assert all(escape(n) in html for n in notes)
    assert 'download="table-2-1-degree.csv"' in html
    assert html.count("Table 2.1. Degree") == 1
    # the download holds the frame as estimated (full precision, names, reasons), not the display
    csv = unquote(tables.CSV_LINK.search(html).group(2))
    assert csv == "\ufeffprovince,estimate,flag,suppressed\nA,61.26,RSE > 30%,\nB,70.0,,n < 30\n"
    plain = tables.render(df[["province", "estimate"]])
    assert "\n\n*" not in plain["text/markdown"] and not plain["text/markdown"].startswith("**")
    assert 'class="numbered-table"' not in plain["text/html"]


def test_a_withheld_estimate_shows_the_mark_its_footnote_explains():
    """The mark is in the cell, in both editions of the table, not only in the footnote."""
    df = pd.DataFrame({"province": ["A", "B"], "mean": [61.26, np.nan], SUPPRESSED: ["", "n < 30"]})
    out = tables.render(df)
    md = out["text/markdown"].split("\n")
    assert [c.strip() for c in md[3].strip("|").split("|")] == ["B", MARK]
    assert md[-1] == f"*{MARK} not published (disclosure or reliability rule): n < 30.*"
    assert re.findall(r"<td[^>]*>([^<]*)</td>", out["text/html"]) == ["A", "61.3", "B", MARK]


def test_regression_tables_count_their_tests_in_the_note(commit):
    # a row label's parenthesis is not a test
    t = pd.DataFrame({"term": ["age (decades)", "b", "N", "region effects"],
                      "m1": ["1.00*\n(0.20)", "0.50\n(0.40)", "100", "yes"], "m2": ["2.00**\n(0.30)", "", "90", ""]})
    html = tables.regression_html(t, title="Models", source=Source("survey", "wave w", False), page="p")
    assert escape("Standard errors in parentheses. * p < 0.05, ** p < 0.01 after Holm's adjustment across "
                  "the 3 coefficient tests of this table.") in html
    assert "wave w, page p, commit 0123456789ab" in html and "Models" in html
    assert html.index("Standard errors") < html.index("wave w, page p")
    plain = tables.regression_html(t, stars=False)
    assert '<span class="gt_from_md">Standard errors in parentheses.</span>' in plain
    assert "Holm" not in plain and "commit" not in plain
    assert "gt_heading gt_title" not in plain and "gt_heading gt_title" in html      # no title by default
    assert tables.regression_html(t, title="Models") == tables.regression_html(t, title="Models")
    assert f'id="m{hashlib.sha256(("Models" + t.to_csv()).encode()).hexdigest()[:12]}"' in html
    nopage = tables.regression_html(t, source=Source("survey", "wave w", False))
    assert "wave w, commit 0123456789ab" in nopage and "page" not in nopage
    # the table scrolls in its own box on a phone, as the other tables do
    assert html.startswith('<div class="table-scroll" style="overflow-x:auto">') and html.endswith("</div>")
    assert html.count("<table") == 1


def test_csv_is_written_to_a_hidden_temporary_beside_it_then_renamed(tmp_path, monkeypatch):
    """Atomic: the text goes to ``.<name>.<random>.tmp`` in the target's folder (same file
    system), which then replaces the target; a reader never sees half a file."""
    moves = []
    real = tables.os.replace
    monkeypatch.setattr(tables.os, "replace", lambda a, b: moves.append((a, b)) or real(a, b))
    p = tables.safe_csv(pd.DataFrame({"名": ["省"]}), tmp_path / "t.csv")
    (src, dst), = moves
    assert Path(dst) == p and Path(src).parent == p.parent
    assert Path(src).name.startswith(".t.csv.") and Path(src).name.endswith(".tmp")
    assert p.read_bytes() == "名\n省\n".encode("utf-8")


def test_the_published_and_the_reproduced_columns_are_labelled_as_what_they_hold():
    from analysis.publishing.labels import column_label

    assert (column_label("published"), column_label("reproduced")) == ("published", "reproduced")


def test_a_figure_s_data_link_is_offered_as_the_figure_s():
    """Under a figure the CSV link says it holds the figure's data (not "this table"), and is
    not set as a table's caption line."""
    from types import SimpleNamespace

    from analysis.report import display

    fig = SimpleNamespace(ruralgov_data=pd.DataFrame({"a": [1]}))
    link = display.figure_data_link(fig, "fig_intro_regions")
    assert link == tables.csv_link(fig.ruralgov_data, "figure-intro-regions", kind="figure")
    assert "Data of this figure (CSV)" in link and "this table" not in link
    assert display.figure_data_link(SimpleNamespace(), "fig_x") == ""


def test_csv_file_names_come_from_the_title():
    name = lambda title, kind="table": tables.CSV_LINK.search(tables.csv_link(pd.DataFrame({"a": [1]}), title, kind=kind)).group(1)  # noqa: E731
    assert name("X-ray use, by region") == "x-ray-use-by-region.csv"
    assert name("--Degree--") == "degree.csv"
    fig = tables.csv_link(pd.DataFrame({"a": [1]}), "", kind="figure")
    assert fig.endswith(">Data of this figure (CSV)</a></span>")


def test_rendered_table_formats_labels_and_aligns_its_columns(commit):
    df = pd.DataFrame({"region3": ["east", "west"], "mean": [61.26, 70.0], "n": [1200, 3],
                       "note": ["", "few"], "flag": ["", "RSE > 30%; n < 30"]})
    out = tables.render(df[["region3", "mean", "n", "note"]], title="Degree", labels={"note": "Remark"},
                        kinds={"n": "count"}, page="p")
    assert out["text/markdown"] == (
        "**Degree**\n\n"
        "| region   |   mean |   respondents | Remark   |\n"
        "|:---------|-------:|--------------:|:---------|\n"
        "| east     |   61.3 |         1,200 |          |\n"
        "| west     |   70.0 |             3 | few      |")      # as formatted, not read again as a number
    html = out["text/html"]
    cells = re.findall(r'<t[dh][^>]*class="[^"]*(gt_left|gt_right)"', html)
    assert cells == ["gt_left", "gt_right", "gt_right", "gt_left"] * 3   # numbers right, text left
    # also numbers that do not read as numbers to great_tables ("< 0.001")
    p = tables.render(pd.DataFrame({"p": [0.0004, 0.05]}))["text/html"]
    assert re.findall(r'<t[dh][^>]*class="[^"]*(gt_left|gt_right)"', p) == ["gt_right"] * 3
    assert "width:100%" in html.replace(" ", "") and "font-size:13px" in html.replace(" ", "")
    ids = {re.search(r'<div id="(t[0-9a-f]{12})"', tables.render(d, title=t, page=p)["text/html"]).group(1)
           for d, t, p in [(df, "Degree", "p"), (df, "Degree", "q"), (df, "Other", "p"), (df.head(1), "Degree", "p")]}
    assert len(ids) == 4                                   # page, title and data each name the table
    two = tables.render(df.rename(columns={"mean": "estimate"}), decimals=2)   # the † beside the estimate
    assert "61.26" in two["text/markdown"] and "61.3" not in two["text/markdown"]
    assert "70.00 †" in two["text/markdown"]
    assert two["text/markdown"].startswith("| region")
    flags = two["text/markdown"].split("\n")[-1]
    assert flags == "*† to be read with care (NCHS presentation standards): RSE > 30%; n < 30.*"


def test_the_flag_footnote_gives_the_reliability_reasons_in_the_editions_language(monkeypatch):
    """The † footnote, like the suppression footnote beside it, says each reason once, in the
    edition's words and punctuation (the reasons are English data, as in the CSV)."""
    from analysis import i18n
    from analysis.publishing.reliability import DF_REASON, RSE_REASON

    df = pd.DataFrame({"estimate": [61.26, 70.0, 12.0],
                       "flag": ["", f"{RSE_REASON}; {DF_REASON}", RSE_REASON]})
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = tables.render(df)["text/markdown"].split("\n")[-1]
    assert en == f"*† to be read with care (NCHS presentation standards): {DF_REASON}; {RSE_REASON}.*"
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    zh = tables.render(df)["text/markdown"].split("\n")[-1]
    assert zh.count("；") == 1 and "; " not in zh, zh
    assert not re.search(r"[A-Za-z]{4,}", zh.replace("NCHS", "")), zh


def test_a_column_without_a_label_is_shown_by_its_name_with_spaces_in_either_edition(monkeypatch):
    from analysis import i18n
    from analysis.publishing.labels import column_label

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert [column_label(c) for c in ("n_psu", "median_rank", "n_villages_surveyed", "score", 2024)] == \
        ["PSUs", "median rank", "n villages surveyed", "score", "2024"]
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert column_label("n_psu") == i18n._("PSUs") != "PSUs"          # a known label is translated
    assert column_label("n_villages_surveyed") == "n villages surveyed"


def test_each_rendered_header_names_what_its_column_holds(monkeypatch):
    """A reader takes a column for what its header says: every lower limit is headed "low" and
    every upper one "high" (never the other), the Sobol first-order and total indices, the panel's
    regressors and the counts each under their own names."""
    from analysis import i18n
    from analysis.publishing.labels import COLUMNS

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    words = {"first_order": "first-order", "total": "total index", "log_gdp_pc": "GDP",
             "urban_rate": "urbanization", "log_edu_pc": "education", "n": "respondents", "n_psu": "PSUs",
             "se": "SE", "median_rank": "median", "rank_low": "2.5 %", "rank_high": "97.5 %",
             "declared_missing_pct": "declared missing", "missing_pct": "missing",
             "weights_perturbation": "weight", "bootstrap": "sampling"}
    cols = list(dict.fromkeys([c for c in COLUMNS if c.endswith(("_low", "_high"))] + list(words)))
    df = pd.DataFrame({c: [float(i)] for i, c in enumerate(cols)})
    md = tables.render(df, decimals=0)["text/markdown"].splitlines()
    header = [h.strip() for h in md[0].strip("|").split("|")]
    row = [float(v.replace(",", "")) for v in md[2].strip("|").split("|")]
    shown = dict(zip(header, row))
    assert len(shown) == len(cols)
    for i, c in enumerate(cols):
        h = next(h for h, v in shown.items() if v == i)
        end, other = ("low", "high") if c.endswith("_low") else ("high", "low")
        if c.endswith(("_low", "_high")) and not c.startswith("rank"):
            assert end in h and other not in h, (c, h)
        if c in words:
            assert words[c] in h, (c, h)
    assert "first" not in next(h for h in shown if h.startswith("total"))
    header_of = {c: next(h for h, v in shown.items() if v == i) for i, c in enumerate(cols)}
    assert "declared" not in header_of["missing_pct"]          # blank and declared together
    assert "bootstrap" not in header_of["weights_perturbation"] and "weight" not in header_of["bootstrap"]


def test_rank_interval_headers_name_the_quantiles_of_the_default_interval(monkeypatch):
    """The pages and the CLI take rank intervals at their default level: the columns' headers
    name that level's two quantiles (2.5 % and 97.5 % of the draws for a 95 % interval)."""
    import inspect

    from analysis import i18n
    from analysis.estimation.sensitivity import SensitivityResult, rank_intervals
    from analysis.publishing.labels import column_label

    monkeypatch.setenv(i18n.LANG_ENV, "en")
    for f in (rank_intervals, SensitivityResult.rank_intervals):
        level = inspect.signature(f).parameters["level"].default
        assert column_label("rank_low").endswith(f" {100 * (1 - level) / 2:g} %")
        assert column_label("rank_high").endswith(f" {100 * (1 + level) / 2:g} %")


def test_rendered_columns_take_the_kinds_and_replicates_given_and_no_page_by_default(commit):
    def cells(**kw: object) -> list[str]:
        md = tables.render(pd.DataFrame({"median": [2.6], "p": [0.0004]}), **kw)["text/markdown"]
        return [c.strip() for c in md.splitlines()[-1].strip("|").split("|")]

    assert cells() == ["2.6", "< 0.001"]                                 # a number by default
    assert cells(kinds={"median": "rank"}) == ["3", "< 0.001"]           # a rank, rounded
    assert cells(reps=99) == ["2.6", "< 0.01"]                # not below a bootstrap's resolution 1/100
    df = pd.DataFrame({"median": [2.6]})
    src = Source("survey", "wave w", False)
    assert tables.render(df, source=src) == tables.render(df, source=src, page="")
    # as every table, as wide as its box (a phone scrolls it inside the box)
    assert "width: 100%" in tables.render(df)["text/html"].split(".gt_table {")[1].split("}")[0]


def test_a_flag_column_without_a_flag_adds_no_footnote():
    md = tables.render(pd.DataFrame({"estimate": [61.2, 40.1], "flag": ["", ""]}))["text/markdown"]
    assert "†" not in md and "NCHS" not in md
    flagged = tables.render(pd.DataFrame({"estimate": [61.2, 40.1], "flag": ["", "n < 30"]}))["text/markdown"]
    assert flagged.endswith("*† to be read with care (NCHS presentation standards): n < 30.*")


def test_the_chinese_edition_keeps_the_chinese_name_of_a_table_without_another_province_column(monkeypatch):
    from analysis import i18n

    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    md = tables.render(pd.DataFrame({"province_zh": ["上海"], "estimate": [70.1]}))["text/markdown"]
    assert "上海" in md


def test_the_chinese_edition_shows_a_province_s_chinese_name_once(monkeypatch):
    """In the Chinese edition the province column already reads 上海: its "province (Chinese)"
    twin is not shown again; the English edition keeps both."""
    from analysis import i18n

    df = pd.DataFrame({"province": ["Shanghai", "Tibet"], "province_zh": ["上海", "西藏"], "estimate": [70.1, 40.2]})
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    en = tables.render(df)["text/markdown"].split("\n")[0]
    assert en.count("|") == 4 and "province (Chinese)" in en
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    md = tables.render(df)["text/markdown"]
    assert md.split("\n")[0].count("|") == 3 and md.count("上海") == 1 and md.count("西藏") == 1
