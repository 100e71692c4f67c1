"""What a reader takes away: numbered tables, one archive of every table's data, key findings
that say whether they are synthetic or real, a footer with version, licence and citation."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import urllib.parse
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.publishing.provenance import Source
from analysis.publishing.tables import csv_link, render
from analysis.report import numbering
from analysis.report.build import footer, tables_archive


def _own_sha256(folder: Path, names) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each file named, beside the SHA-256 of its own bytes (as sha256sum gives it)."""
    import hashlib

    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in names}


def test_the_manifest_records_the_wave_its_files_the_commit_and_each_page_s_run(default_study, monkeypatch,
                                                                                tmp_path):
    """manifest.json, written when an HTML build succeeds (and only then): the wave's full hash and
    each file's own (wave.yml's too), the settings' hashes, the commit and whether the tree was
    modified, the seeds, and each executed page's method, run time and success."""
    import json

    from myst_nb.sphinx_ import NbMetadataCollector

    from analysis.publishing import provenance
    from analysis.report import context, icons, sphinx_ext

    monkeypatch.setattr(context, "study", lambda: default_study)
    monkeypatch.setattr(provenance, "git_commit", lambda: ("0123456789ab", True))
    monkeypatch.setattr(icons, "subset_icons", lambda out: None)
    runs = {"book/index": {"exec_data": {"method": "cache", "runtime": 12.5, "succeeded": True}},
            "book/glossary": {}}
    monkeypatch.setattr(NbMetadataCollector, "get_doc_data", staticmethod(lambda env: runs))

    def write(out: str, kind: str, exception: Exception | None) -> Path:
        (tmp_path / out).mkdir()
        sphinx_ext._write(SimpleNamespace(env=None, outdir=str(tmp_path / out),
                                          builder=SimpleNamespace(format=kind)), exception)
        return tmp_path / out / "manifest.json"

    assert not write("failed", "html", RuntimeError("a page failed")).exists()
    assert not write("latex", "latex", None).exists()
    m = json.loads(write("ok", "html", None).read_text(encoding="utf-8"))
    w = default_study.wave
    assert m["wave"]["id"] == w.id and m["wave"]["sha256"] == w.sha256 and len(w.sha256) == 64
    assert m["wave"]["files"] == _own_sha256(w.spec.folder, ["wave.yml", *w.files])
    assert len(m["config"]) >= 3 and m["config"] == _own_sha256(paths.ROOT, m["config"])
    assert (m["commit"], m["dirty"]) == ("0123456789ab", True)
    assert m["seeds"] == json.loads(json.dumps(provenance.seeds(default_study.settings)))
    assert m["pages"] == {"book/index": {"method": "cache", "runtime_s": 12.5, "succeeded": True}}
    from datetime import datetime, timedelta
    assert datetime.fromisoformat(m["build_time_utc"]).utcoffset() == timedelta(0)   # UTC, said so
    # SOURCE_DATE_EPOCH (reproducible builds): the manifest's time is that one, not now
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    m = json.loads(write("epoch", "html", None).read_text(encoding="utf-8"))
    assert m["build_time_utc"] == "2023-11-14T22:13:20+00:00"


def test_a_malformed_source_date_epoch_is_refused_before_anything_is_built(monkeypatch, tmp_path, capsys):
    from analysis.publishing.provenance import build_time
    from analysis.report import assets
    from analysis.report.build import build_book

    def went_on() -> bool:
        raise AssertionError("the build went on past its refusals")

    monkeypatch.setattr(assets, "ensure_mathjax", went_on)   # the first step after them
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert build_time() == "1970-01-01T00:00:00+00:00"
    for bad in ("yesterday", "1.5e9", "99999999999999999999", "1_700_000_000", "-86400",
                "\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660"):   # Arabic-Indic digits
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        said = rf"^SOURCE_DATE_EPOCH={re.escape(repr(bad))}: not a whole number of seconds since 1970$"
        with pytest.raises(ValueError, match=said):
            build_time()
        assert build_book(paths.DEFAULT_WAVE, tmp_path / "out", pdf=False, cache_root=tmp_path / "cache") == 2
        assert f"SOURCE_DATE_EPOCH={bad!r}" in capsys.readouterr().err
        assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_mathjax_is_loaded_on_the_pages_with_formulas_only_and_thebe_on_none():
    from analysis.report import sphinx_ext

    scripts = ["_static/mathjax/tex-mml-chtml.js", "_static/sphinx-thebe.js", "_static/site.js"]
    for body, kept in [('<p>x <span class="math notranslate">\\(\\hat\\beta\\)</span></p>', scripts[::2]),
                       ("<p>no formula</p>", scripts[2:])]:
        ctx = {"body": body, "script_files": list(scripts),
               "css_files": ["_static/thebe.css", "_static/a.css"]}
        sphinx_ext._trim_assets(None, "book/methods", "page.html", ctx, None)
        assert ctx["script_files"] == kept and ctx["css_files"] == ["_static/a.css"]


def test_the_footer_links_the_pdf_as_a_file_and_the_citation_as_a_page(monkeypatch):
    """Sphinx's ``pathto(name)`` is the URI of a page (``.html`` added), ``pathto(name, 1)`` that
    of a file: the PDF is a file of the output, the citation a page of the book."""
    from analysis.report import sphinx_ext
    from analysis.report.build import PDF_ENV

    def pathto(name: str, resource: int = 0) -> str:           # as Sphinx's, from a page one level down
        return "../" + name + ("" if resource else ".html")

    monkeypatch.setenv(PDF_ENV, "pdf/ruralgov-w.pdf")
    app = SimpleNamespace(env=SimpleNamespace(found_docs={"book/cite", "book/index"}),
                          builder=SimpleNamespace(name="html"))
    ctx = {"pathto": pathto, "theme_extra_footer": "ruralgov 1.0 · wave w"}
    sphinx_ext._footer_links(app, "book/index", "page.html", ctx, None)
    links = re.findall(r'href="([^"]+)"', ctx["theme_extra_footer"])
    assert links == ["../book/cite.html", "../pdf/ruralgov-w.pdf"]
    assert ctx["theme_extra_footer"].startswith("ruralgov 1.0 · wave w ")     # added to the footer
    # the single page Chromium prints into the PDF links to the citation, not to itself
    single = SimpleNamespace(env=app.env, builder=SimpleNamespace(name="singlehtml"))
    ctx = {"pathto": pathto}
    sphinx_ext._footer_links(single, "index", "page.html", ctx, None)
    assert re.findall(r'href="([^"]+)"', ctx["theme_extra_footer"]) == ["../book/cite.html"]


def test_tables_are_numbered_by_page_and_order(monkeypatch):
    monkeypatch.setattr(numbering, "_COUNT", {})
    pages = numbering._pages(str(numbering.paths.ROOT / "_toc.yml"))
    assert pages[0] == "intro"
    k = pages.index("index") + 1
    assert [numbering.next_table("index") for _ in range(3)] == [f"{k}.1", f"{k}.2", f"{k}.3"]
    assert numbering.next_table("survey") == f"{pages.index('survey') + 1}.1"
    assert numbering.next_table("not-a-page") == ""


def test_a_page_s_table_is_shown_numbered_with_what_it_is_given(monkeypatch):
    """display.show: the page's next number, title, labels, decimals, note and footer, and a
    bootstrap p-value at the resolution of its replicates (0 of 99 is "< 0.01", not "< 0.001")."""
    import html

    from IPython import display as ipython_display

    from analysis.report import display

    shown = []
    monkeypatch.setattr(ipython_display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    monkeypatch.setattr(numbering, "_COUNT", {})
    k = numbering._pages(str(numbering.paths.ROOT / "_toc.yml")).index("index") + 1
    df = pd.DataFrame({"term": ["a", "b"], "wild_p": [0.0, 0.5], "estimate": [1.23456, 2.0]})
    texts = []
    for reps in (99, None):
        display.show(df, source=Source("method", "the settings"), page="index", title="Wild p",
                     note="A note.", decimals=3, labels={"term": "Term"}, reps=reps)
        obj, raw = shown[-1]
        body = re.sub(r"<style.*?</style>", "", obj["text/html"], flags=re.S)
        texts.append(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split()))
        assert raw
    with_reps, without = texts
    assert with_reps.startswith(f"Table {k}.1. Wild p Term wild bootstrap p estimate a < 0.01 1.235 "
                                "b 0.50 2.000 A note. the settings, page index, commit ")
    assert without.startswith(f"Table {k}.2. Wild p Term wild bootstrap p estimate a < 0.001 1.235 ")


def test_a_table_shown_without_decimals_prints_one_as_render_does(monkeypatch):
    """display.show without ``decimals`` (the survey page's sample tables) prints what render prints
    without them: one decimal (34.517 is 34.5)."""
    from IPython import display as ipython_display

    from analysis.publishing.tables import render
    from analysis.report import display

    shown = []
    monkeypatch.setattr(ipython_display, "display", lambda obj, raw=False: shown.append(obj))
    df = pd.DataFrame({"region": ["east", "west"], "share": [34.517, 65.483]})
    source = Source("method", "the settings")
    display.show(df, source=source, title="Shares")
    assert shown[0] == render(df, source=source, title="Shares")
    cells = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", shown[0]["text/html"], flags=re.S))
    assert "34.5" in cells.split() and "34.52" not in cells


def test_the_note_of_what_a_wave_lacks_names_every_missing_part_and_nothing_when_complete():
    from analysis.report import display

    lacks = ["the institutions questionnaire", "item hp_wait", "the PSU column"]
    text = display.missing_note(lacks).data
    assert "the institutions questionnaire; item hp_wait; the PSU column." in text
    assert text.startswith(":::{note}\n") and text.endswith("\n:::")
    assert display.missing_note([]) is None


def test_the_build_toc_decides_the_numbers(monkeypatch, tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/determinants\n", encoding="utf-8")
    monkeypatch.setenv(numbering.TOC_ENV, str(toc))
    monkeypatch.setattr(numbering, "_COUNT", {})
    assert numbering.next_table("determinants") == "2.1"
    assert numbering.next_table("index") == ""          # not in this wave's book


def test_a_numbered_table_has_its_caption_anchor_and_csv_name():
    df = pd.DataFrame({"region": ["east", "west"], "estimate": [60.0, 45.5], "n": [120, 90]})
    out = render(df, source=Source(kind="official", label="NBS"), page="index", title="Degree by region", number="3.2")
    html = out["text/html"]
    assert 'id="table-3-2"' in html and "Table 3.2. Degree by region" in html
    assert 'download="table-3-2-degree-by-region.csv"' in html
    assert out["text/markdown"].startswith("**Table 3.2. Degree by region**")


@pytest.mark.parametrize("lang, code", [("en", "en"), ("zh", "zh-Hans")])
def test_the_report_s_front_door_has_a_title_a_language_and_a_link_to_follow(tmp_path, lang, code):
    """The root index.html Jupyter Book writes is a bare redirect: it becomes a page with the
    book's title (escaped), its language, the same redirect and a link for a reader whose
    browser does not follow it; any other file is left alone."""
    from analysis.report.build import landing_page

    page = tmp_path / "index.html"
    page.write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />', encoding="utf-8")
    assert landing_page(tmp_path, "Rural <governance>", lang)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and f'<html lang="{code}">' in text
    assert "<title>Rural &lt;governance&gt;</title>" in text
    assert '<meta http-equiv="Refresh" content="0; url=book/intro.html">' in text
    assert '<a href="book/intro.html">Rural &lt;governance&gt;</a>' in text
    assert not landing_page(tmp_path, "again", lang) and page.read_text(encoding="utf-8") == text


def test_the_archive_holds_every_table_once_as_the_page_offers_it(tmp_path):
    a = pd.DataFrame({"province": ["Hebei", "=cmd"], "estimate": [50.5, None], "suppressed": ["", "n < 10"]})
    b = pd.DataFrame({"x": [1]})
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.html").write_text(
        "<html>" + csv_link(a, "Table 3.1. Provinces") + csv_link(b, "Table 3.2. Other") + "</html>", encoding="utf-8")
    (tmp_path / "book" / "cite.html").write_text("<html>no tables</html>", encoding="utf-8")
    assert tables_archive(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book", "tables.zip"]     # no temporary copy
    with zipfile.ZipFile(tmp_path / "tables.zip") as z:
        assert sorted(z.namelist()) == ["index/table-3-1-provinces.csv", "index/table-3-2-other.csv"]
        text = z.read("index/table-3-1-provinces.csv").decode("utf-8")
    assert text.startswith("\ufeffprovince,estimate,suppressed")
    assert "'=cmd" in text and "n < 10" in text            # formula escaped, suppression reason kept


def test_a_malformed_source_date_epoch_is_refused_by_a_fresh_command_before_numpy_reads_it(tmp_path):
    """In a new process (nothing imported yet) ``SOURCE_DATE_EPOCH=yesterday ruralgov build``
    exits 2 with the message, not a traceback from numpy's f2py, which scipy's import runs and
    which reads the variable with int()."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOURCE_DATE_EPOCH": "yesterday"}
    cmd = [sys.executable, "-m", "analysis.cli", "build", "--out", str(tmp_path / "out"), "--no-pdf"]
    p = subprocess.run(cmd, cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=300)
    said = " ".join(p.stderr.split())
    assert p.returncode == 2, p.stderr
    assert ("SOURCE_DATE_EPOCH='yesterday': not a whole number of seconds since 1970; "
            "nothing was built") in said
    assert "Traceback" not in p.stderr and not (tmp_path / "out").exists()


def test_the_footer_names_version_commit_wave_licence_and_repository():
    """The synthetic label follows whether the wave is synthetic, not whether it is a wave of the
    seed's survey: here a synthetic wave of another survey, and the real microdata of the seed's."""
    wave = SimpleNamespace(id="w1", sha256="0123456789ab" + "f" * 52, synthetic=True,
                           spec=SimpleNamespace(reproduces_seed=False))
    f = footer(wave, "https://example.org/ruralgov")
    for part in ("ruralgov ", "commit ", "wave w1", "(sha256 0123456789ab)", "synthetic replica",
                 "MIT licence", "CC BY 4.0", 'href="https://example.org/ruralgov"', "cite"):
        assert part in f, part
    real_wave = SimpleNamespace(id="w1", sha256="ab" * 32, synthetic=False,
                                spec=SimpleNamespace(reproduces_seed=True))
    real = footer(real_wave)
    assert "href" not in real and "synthetic" not in real
    # an address with & or < is escaped where it is shown as well as in the link
    odd = footer(wave, "https://example.org/r?a=1&b=<2>")
    assert '>https://example.org/r?a=1&amp;b=&lt;2&gt;</a>' in odd and "<2>" not in odd
    zh = footer(wave, lang="zh")                  # the Chinese edition's footer warns as the English one does
    assert "（sha256 0123456789ab）" in zh and "合成复制数据" in zh
    assert "合成" not in footer(real_wave, lang="zh")


class _Fitted:
    """A fitted model suite as the pages read one: the models given by name, no other."""

    def __init__(self, **models: object) -> None:
        self.models = models

    def has(self, name: str) -> bool:
        return name in self.models

    def __getitem__(self, name: str):  # type: ignore[no-untyped-def]
        return self.models[name]


@pytest.fixture(scope="module")
def default_study():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_national_degree_the_disclosure_policy_withholds_is_withheld_in_the_headline_too(
        small_villagers, make_wave, monkeypatch, language):
    """A wave of one village: its degree table withholds the national degree (one PSU identifies
    the village and has no variance), and so do the landing page's headline and key findings,
    saying why in the edition's language, not "72.5 (95 % CI nan–nan)"."""
    from analysis.estimation.study import build_study
    from analysis.i18n import LANG_ENV
    from analysis.publishing.disclosure import PSU_REASON, reason_text
    from analysis.report.pages import common, intro

    v = small_villagers[small_villagers["province"] == "上海"].copy()
    v["village_id"] = v["village_id"].iloc[0]
    st = build_study(make_wave(v.reset_index(drop=True)))
    monkeypatch.setenv(LANG_ENV, language)
    assert common.degree_table(st, None)["suppressed"].tolist() == [PSU_REASON]
    h = intro.numbers(st)
    why = reason_text(PSU_REASON)
    assert np.isnan([h["degree_overall"], h["degree_overall_lo"], h["degree_overall_hi"]]).all()
    assert h["degree_withheld"] == why and why in h["degree_sentence"] and "nan" not in h["degree_sentence"]
    first = intro.key_findings(st, _Fitted(), {}).splitlines()[0]
    assert why in first and "nan" not in first
    assert ("withheld" if language == "en" else "不予公布") in first
    # nor does the problems page publish a share of that one village (its SE would be a 0 of
    # rounding), in Table 1 or in the digital-access table
    from analysis.report.pages import problems

    t1 = problems.table1(st)
    vill = t1[t1["base"] == "villagers, design-weighted"]
    assert len(vill) and (vill["suppressed"] == PSU_REASON).all() and vill["estimate"].isna().all()
    assert "n_psu" not in t1
    digital = problems.digital_access(st)
    assert len(digital) and (digital["suppressed"] == PSU_REASON).all() and digital["all"].isna().all()


@pytest.mark.parametrize("language, said", [
    ("en", "**{d:.2f}** (95 % CI {lo:.1f}–{hi:.1f}, {df} design degrees of freedom)"),
    ("zh", "**{d:.2f}**（95 % 置信区间 {lo:.1f}–{hi:.1f}，设计自由度 {df}）")])
def test_the_headline_states_the_national_degree_with_its_interval_on_the_design_df(
        default_study, monkeypatch, language, said):
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import intro

    monkeypatch.setenv(LANG_ENV, language)
    e = default_study.degree().to_frame().iloc[0]
    assert e["ci_low"] < e["estimate"] < e["ci_high"]
    assert intro.numbers(default_study)["degree_sentence"] == said.format(
        d=e["estimate"], lo=e["ci_low"], hi=e["ci_high"], df=int(e["df"]))


def test_key_findings_label_synthetic_survey_results_and_real_statistics(default_study):
    from analysis.report.pages import intro, provinces

    kf = intro.key_findings(default_study, _Fitted(), provinces.stats(default_study))
    items = kf.splitlines()
    assert 4 <= len(items) <= 6 and all(i.startswith("- ") for i in items)
    assert all("{doc}`More <" in i for i in items)
    survey = [i for i in items if "<provinces>" not in i]
    real = [i for i in items if "<provinces>" in i]
    assert survey and all(intro.SYNTHETIC_LABEL in i for i in survey)
    assert real and all(intro.REAL_LABEL in i and intro.SYNTHETIC_LABEL not in i for i in real)
    h = intro.headline(default_study)
    assert f"**{h['degree_overall']:.1f}**" in items[0]
    # its interval on the design's df: the PSUs holding a score less their strata
    v, dc = default_study.villagers, default_study.wave.design_columns
    scored = v[default_study.scores["overall"].notna().to_numpy()]
    df = scored[dc["psu"]].nunique() - scored[dc["strata"]].nunique()
    e = default_study.degree().to_frame().iloc[0]
    assert (f"(95 % CI {e['ci_low']:.1f}–{e['ci_high']:.1f}, {df} design degrees of freedom)"
            in items[0]), items[0]


def test_the_convergence_finding_reads_beta_on_its_t_not_the_normal(default_study):
    """"Converged" only when β's 95 % interval on t with n − k df lies below zero. β/SE = −2.0 on
    29 df has p = 0.0549 (R: 2 * pt(-2, 29) = 0.05494363718): its normal interval (±1.96)
    would exclude zero."""
    from scipy import stats

    from analysis.estimation.panel import beta_convergence
    from analysis.report.pages import intro, provinces

    o = provinces.stats(default_study)
    p = provinces.panel(default_study)
    b = beta_convergence(p, "fiscal_exp_per_capita_yuan", o["real_first"], o["real_last"])
    assert o["beta_p"] == b["p"] and o["beta"] == b["beta"]

    def finding(beta, se, pval):  # type: ignore[no-untyped-def]
        kf = intro.key_findings(default_study, _Fitted(),
                                {**o, "beta": beta, "beta_se": se, "beta_p": pval})
        return next(i for i in kf.splitlines() if "<provinces>" in i)

    p29 = 2 * stats.t.sf(2.0, 29)
    assert p29 == pytest.approx(0.05494363718, rel=1e-9)
    line = finding(-0.02, 0.01, p29)
    assert "did not converge clearly" in line and "half-life" not in line
    line = finding(-0.02, 0.01, 0.04)
    assert " converged " in line and "half-life" in line
    assert "did not converge clearly" in finding(0.02, 0.01, 0.001)     # significant divergence


def test_key_findings_state_the_main_model_s_clearest_association_as_an_association(default_study):
    from analysis.estimation.suite import fit_models
    from analysis.report.pages import intro

    ms = fit_models(default_study, names=["wls_region"])
    kf = intro.key_findings(default_study, ms, {})
    line = next(i for i in kf.splitlines() if "<determinants>" in i)
    f = ms["wls_region"].to_frame()
    best = f.loc[f["p"].idxmin()]
    assert f"**{best['label']}**" in line and f"{best['estimate']:+.2f}" in line
    assert "not a cause" in line


def test_reproduction_table_prints_published_values_as_published(default_study):
    """Published figures at their printed precision with their bound; the reproduction at the
    same precision; labels a reader understands; no SE claimed for the institution records."""
    from analysis.estimation.reproduce import reproduce
    from analysis.report.pages import reproduction

    raw = reproduce(default_study)
    t = reproduction.table(default_study)
    for (_, r), (_, shown) in zip(raw.iterrows(), t.iterrows()):
        if pd.isna(r["published"]):
            continue
        d = int(r["decimals"]) if pd.notna(r["decimals"]) else 2
        bound = {"equal": "", "at_most": "≤ ", "below": "< "}[r["compare"]]       # as the paper prints it
        assert shown["published"] == bound + f"{r['published']:.{d}f}"
        if pd.notna(r["reproduced"]):
            assert shown["this wave"] == f"{r['reproduced']:.{d}f}"
        # an SE at two decimals whatever the figure's precision (0.4 on a whole-number figure is
        # not "0", which would claim an exact reproduction)
        assert shown["SE"] == ("" if pd.isna(r["se"]) else f"{r['se']:.2f}")
        assert "_" not in shown["figure"]
    below = t[t["published"].str.startswith("< ")]
    assert len(below) and below["agreement"].str.contains("bound").all()
    assert (raw["se"].notna() & raw["decimals"].notna() & (raw["decimals"] != 2)).any()
    inst = raw["statistic"] == "count_share"
    assert (t.loc[inst, "SE"] == "").all() and t.loc[inst, "note"].str.contains("no standard error").all()
    # "n of N figures agree": N counts every published figure, those the wave cannot give too
    assert reproduction.counts(t) == {"n_figures": len(default_study.settings.reproduction.figures),
                                      "n_within": int(raw["within_rounding"].eq(True).sum()),
                                      "n_na": int(raw["within_rounding"].isna().sum())}
    assert reproduction.counts(t)["n_na"] > 0


def test_a_figure_the_wave_does_not_reproduce_says_no_and_one_it_cannot_give_says_n_a(default_study,
                                                                                      monkeypatch):
    """A wave that misses a published figure is told so ("NO"), apart from the figures it cannot
    derive ("n/a"); the page's counts keep the two apart."""
    from analysis.estimation import reproduce as reproduce_module
    from analysis.report.pages import reproduction

    raw = reproduce_module.reproduce(default_study)
    k = len(raw)
    assert k >= 4
    verdicts = [True, False, None, False] + [True] * (k - 4)
    monkeypatch.setattr(reproduce_module, "reproduce", lambda st: raw.assign(within_rounding=verdicts))
    t = reproduction.table(default_study)
    assert t["agreement"].iloc[1] == t["agreement"].iloc[3] == "NO" and t["agreement"].iloc[2] == "n/a"
    assert t["agreement"].iloc[0].startswith("yes")
    assert reproduction.counts(t) == {"n_figures": k, "n_within": k - 3, "n_na": 1}


def test_the_reproducibility_appendix_gives_each_file_its_own_sha256(default_study):
    """Each wave file and each settings file beside the SHA-256 of its own bytes (wave.yml's own
    hash, not the wave's combined one)."""
    from analysis.report.pages import reproducibility

    t = reproducibility.tables(default_study)
    files = dict(zip(t["files"]["file"], t["files"]["sha256"]))
    assert "wave.yml" in files and len(files) >= 2
    assert files == _own_sha256(default_study.wave.spec.folder, files)
    assert files["wave.yml"] != default_study.wave.sha256
    config = dict(zip(t["config"]["file"], t["config"]["sha256"]))
    assert len(config) >= 3 and config == _own_sha256(paths.ROOT, config)


def test_the_reproducibility_appendix_gives_each_package_its_own_version(default_study):
    """Each package of the environment beside its own installed version, read here from the
    package's metadata (not from the list the appendix was made from)."""
    from importlib.metadata import version

    from analysis.report.pages import reproducibility

    t = reproducibility.tables(default_study)["versions"]
    pairs = dict(zip(t["package"], t["version"]))
    assert {"numpy", "pandas", "statsmodels"} <= set(pairs)
    for package in ("numpy", "pandas", "statsmodels", "linearmodels", "seaborn"):
        if package in pairs:
            assert pairs[package] == version(package), package


def test_the_reproducibility_appendix_says_whether_the_work_tree_was_modified(default_study, monkeypatch):
    """The commit table's "work tree" row: "modified" when the build had uncommitted changes,
    "clean" otherwise, beside the commit and the wave's id and hash."""
    from analysis.publishing import provenance
    from analysis.report.pages import reproducibility

    for dirty, said in ((True, "modified"), (False, "clean")):
        monkeypatch.setattr(provenance, "git_commit", lambda d=dirty: ("0123456789ab", d))
        c = reproducibility.tables(default_study)["commit"]
        assert dict(zip(c["item"], c["value"])) == {"commit": "0123456789ab", "work tree": said,
                                                     "wave": default_study.wave.id,
                                                     "wave sha256": default_study.wave.sha256}


def test_the_citation_of_a_modified_work_tree_says_so(default_study, monkeypatch):
    from analysis.publishing import provenance
    from analysis.report.pages import cite

    monkeypatch.setattr(provenance, "git_commit", lambda: ("0123456789ab", True))
    assert "commit 0123456789ab+dirty, wave " in cite.bibtex(default_study)
    monkeypatch.setattr(provenance, "git_commit", lambda: ("0123456789ab", False))
    assert "commit 0123456789ab, wave " in cite.bibtex(default_study)


def test_the_citation_escapes_an_underscore_of_a_wave_id_for_latex(default_study):
    """A wave id may hold an underscore (pilot_2024): in the BibTeX note it is escaped, as LaTeX
    would otherwise stop on it outside math; the page beside it keeps the id as written."""
    from analysis.report.pages import cite

    w = SimpleNamespace(id="pilot_2024", synthetic=False, sha256=default_study.wave.sha256)
    entry = cite.bibtex(SimpleNamespace(wave=w))
    assert r"wave pilot\_2024 (sha256 " in entry and "pilot_2024" not in entry


def _with_spec(study, **changes):  # type: ignore[no-untyped-def]
    """A stand-in study whose wave's wave.yml says otherwise in ``changes`` (its data unchanged)."""
    import dataclasses

    w = study.wave
    return SimpleNamespace(wave=dataclasses.replace(w, spec=dataclasses.replace(w.spec, **changes)))


def test_the_citation_calls_a_wave_synthetic_by_its_synthetic_flag_alone(default_study):
    """A real re-survey of the seed study is cited as real data, and a synthetic wave that does
    not reproduce the seed as synthetic: the note follows `synthetic`, not `reproduces_seed`."""
    from analysis.report.pages import cite

    for synthetic, reproduces in ((False, True), (True, False)):
        study = _with_spec(default_study, synthetic=synthetic, reproduces_seed=reproduces)
        said = cite.bibtex(study).rstrip("}\n").endswith(", synthetic replica data")
        assert said is synthetic, (synthetic, reproduces)


def test_the_methods_page_names_the_generator_version_and_seed_wave_yml_records(default_study):
    """A replica made by an older generator is described by the version and seed its wave.yml
    records, not by the code now installed."""
    from analysis.report.pages import methods

    st = default_study.wave.spec.settings
    st = st.model_copy(update={"generator": {**st.generator, "version": "0.9", "seed": 4242}})
    study = _with_spec(default_study, settings=st)
    assert "(version 0.9, seed 4242)" in methods.wave_paragraph(study)


@pytest.mark.parametrize("rule", ["remove", "certainty"])
def test_the_methods_page_states_the_lonely_psu_rule_the_wave_declares(default_study, rule, monkeypatch):
    """The rule the wave's design declares is the one the methods page names (and the one its
    estimates were computed under), not the default "adjust"."""
    from analysis.report.pages import index, methods

    monkeypatch.setattr(index, "method_settings", lambda study: {})     # the index's own settings
    assert methods.settings(_with_spec(default_study, lonely_psu=rule))["lonely_psu"] == rule


def test_the_methods_page_of_a_real_wave_gives_its_source_and_its_citation_each_as_written(default_study):
    """A real wave's paragraph quotes wave.yml: its source after "Source:" and the reference it
    asks to be cited by after "Cite as:", escaped."""
    from analysis.report.pages import methods

    st = default_study.wave.spec.settings.model_copy(update={
        "source": "Provincial survey office <2021>", "citation": "Li & Wang (2022), Rural services survey"})
    text = methods.wave_paragraph(_with_spec(default_study, synthetic=False, settings=st))
    assert "Source: Provincial survey office &lt;2021&gt;" in text
    assert "Cite as: Li &amp; Wang (2022), Rural services survey" in text


def test_the_citation_names_the_code_s_own_version_not_the_installed_metadata(default_study, monkeypatch):
    """An editable checkout bumped to a new version and not reinstalled is cited by the version of
    the code that ran, in both the version field and the note."""
    import analysis
    from analysis.report.pages import cite

    monkeypatch.setattr(analysis, "__version__", "9.8.7")
    b = cite.bibtex(default_study)
    assert "version = {9.8.7}" in b and "Version 9.8.7, commit" in b


def test_the_methods_page_gives_each_true_effect_of_the_replica_its_own_name(default_study):
    """The replica's generating coefficients, each beside the variable it belongs to."""
    from analysis import replica
    from analysis.report.pages import methods

    text = methods.wave_paragraph(default_study)
    c = replica.TRUE_COEFFICIENTS
    for said in (f"internet use ({c['internet_use']} points)", f"education ({c['education']} per level)",
                 f"log income ({c['log_income']})", f"distance ({c['distance_km']} per km)",
                 f"participation in village affairs ({c['participation']} per step)"):
        assert said in text, said


def test_the_citation_names_the_version_commit_year_and_the_wave_as_the_footers_do(default_study):
    """The BibTeX entry identifies the wave by the hash prefix every table's footer prints, the
    code by the footers' commit, and is dated by that commit."""
    import subprocess
    from datetime import date

    import analysis
    from analysis.publishing import provenance
    from analysis.report.pages import cite

    b = cite.bibtex(default_study)
    w = default_study.wave
    assert provenance.survey_source(w).label in b
    assert re.search(r"sha256 ([0-9a-f]+)\)", b).group(1) == w.sha256[:12]
    assert f"commit {provenance.commit_label()}," in b and f"version = {{{analysis.__version__}}}" in b
    year = subprocess.run(["git", "show", "-s", "--format=%ci", "HEAD"], cwd=paths.ROOT, capture_output=True,
                          text=True).stdout[:4] or str(date.today().year)        # outside git: this year
    assert f"year    = {{{year}}}" in b
    assert b.rstrip("}\n").endswith(", synthetic replica data")


def test_reproduction_table_names_figures_and_notes_in_the_edition_s_language(default_study, monkeypatch):
    """The Chinese page names each figure in Chinese (the codebook's question, or its label's
    translation) and gives its note in Chinese, the count of institution records included; the
    reproduction itself keeps English data for the CLI and its exports."""
    import re

    from analysis.estimation.reproduce import reproduce
    from analysis.report.pages import reproduction

    en = reproduction.table(default_study)
    raw = reproduce(default_study)
    assert en["figure"].tolist() == raw["label"].tolist()
    assert not [f for f in raw["label"] if re.search(r"[\u4e00-\u9fff]", f)]          # English data
    n_inst = len(default_study.wave.institutions[raw.loc[raw["statistic"] == "count_share"].iloc[0:1].pipe(
        lambda r: default_study.settings.reproduction.figures[r.index[0]].item)].dropna())
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    zh = reproduction.table(default_study)
    latin = re.compile(r"[A-Za-z]{3,}")
    assert not [f for f in zh["figure"] if latin.search(f)], zh["figure"].tolist()
    assert not [n for n in zh["note"] if latin.search(n)], zh["note"].tolist()
    inst = raw["statistic"] == "count_share"
    assert (zh.loc[inst, "note"] == f"{n_inst} 条机构记录中的占比；这些记录没有已知的抽样设计，因此没有标准误").all()
    assert zh["figure"].iloc[0] == "总体现代化程度" and zh["published"].tolist() == en["published"].tolist()
    assert reproduce(default_study)["label"].tolist() == raw["label"].tolist()      # the data stay English


def test_a_figure_is_named_by_its_label_its_item_s_question_or_its_key_in_either_language(default_study):
    """figure_label: the settings' label (translated by the catalog), else the codebook's question
    in the language asked (English where the codebook has no Chinese), else the key's last part
    made readable; an item the codebook does not hold falls back to the key."""
    import dataclasses

    from analysis.estimation.reproduce import figure_label

    cb = default_study.wave.codebook
    def fig(**kw):  # type: ignore[no-untyped-def]
        return SimpleNamespace(**{"label": "", "item": None, "questionnaire": "villagers",
                                  "key": "group.part.some_figure_name", **kw})

    assert figure_label(fig(label="Overall modernization degree"), cb, "en") == "Overall modernization degree"
    assert figure_label(fig(label="Overall modernization degree"), cb, "zh") == "总体现代化程度"
    item = next(it for it in cb.items("villagers") if it.text_zh and it.text_zh != it.text_en)
    assert figure_label(fig(item=item.id), cb, "en") == item.text_en
    assert figure_label(fig(item=item.id), cb, "zh") == item.text_zh
    inst = cb.item("institutions", "ep_teachers")
    assert figure_label(fig(item=inst.id, questionnaire="institutions"), cb, "zh") == inst.text_zh
    assert figure_label(fig(item=inst.id), cb, "zh") == "Some figure name"        # not a villager item
    bare = dataclasses.replace(cb, questionnaires={**cb.questionnaires, "villagers": tuple(
        dataclasses.replace(it, text_zh="") if it.id == item.id else it for it in cb.items("villagers"))})
    assert figure_label(fig(item=item.id), bare, "zh") == item.text_en
    for language in ("en", "zh"):
        assert figure_label(fig(), cb, language) == "Some figure name"
        assert figure_label(fig(item="no_such_item"), cb, language) == "Some figure name"


def test_sobol_table_is_readable_and_explains_its_monte_carlo_error():
    from analysis.report.pages.sensitivity import INPUT_LABELS, sobol_table

    raw = pd.DataFrame({"input": ["normalisation", "weights_perturbation"], "output": ["gap", "gap"],
                        "first_order": [0.9996, -0.0017], "total": [0.862, 0.0003]})
    both = True                                   # the run holds the east and the west: the gap is defined
    t, note = sobol_table(SimpleNamespace(sobol=raw, n_evaluations=7000, has_gap=both))
    assert list(t["input"]) == [INPUT_LABELS["normalisation"], INPUT_LABELS["weights_perturbation"]]
    assert t["first-order index"].between(0, 1).all() and t["total index"].between(0, 1).all()
    assert "7,000" in note and "In 2 cases the first-order" in note and "Monte Carlo error" in note
    one = raw.assign(first_order=[0.5, -0.0017], total=[0.6, 0.0003])
    one_note = sobol_table(SimpleNamespace(sobol=one, n_evaluations=10, has_gap=both))[1]
    assert "In 1 case the first-order" in one_note
    ok = raw.assign(first_order=[0.5, 0.0], total=[0.6, 0.01])
    assert " case" not in sobol_table(SimpleNamespace(sobol=ok, n_evaluations=10, has_gap=both))[1]
    # above the total by more than 0.005 is counted (0.006, 0.03), by less is rounding (0.004)
    for excess, counted in ((0.004, False), (0.006, True), (0.03, True)):
        over = raw.assign(first_order=[0.5, 0.2 + excess], total=[0.6, 0.2])
        note = sobol_table(SimpleNamespace(sobol=over, n_evaluations=10, has_gap=both))[1]
        assert ("In 1 case the first-order" in note) is counted, excess


def test_icon_subset_keeps_the_used_solid_icons_and_repoints_every_page(tmp_path):
    from analysis.report import icons

    js = ('var p={bars:[448,512,[],"f0c9","M0 96z"],"magnifying-glass":[512,512,["search"],"f002","M416 208z"],'
          'moon:[384,512,[],"f186","M223 0z"]};d("fab",p);'
          'var p={bars:[448,512,[],"f0c9","M0 96C0z"],"magnifying-glass":[512,512,["search"],"f002","M416 208Cz"],'
          'moon:[384,512,[],"f186","M223 0Cz"]};d("fas",p),d("fa-solid",p)')
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "fontawesome.js").write_text(js, encoding="utf-8")
    (tmp_path / "book").mkdir()
    page = tmp_path / "book" / "a.html"
    page.write_text('<script src="../_static/scripts/fontawesome.js?digest=1"></script>'
                    '<i class="fa-solid fa-magnifying-glass fa-lg"></i><span class="fa-solid fa-bars"></span>'
                    '<i class="fa-brands fa-github"></i>',            # not in the solid pack: not drawn
                    encoding="utf-8")
    assert icons.subset_icons(tmp_path) == 2                # the icons written, not the names used
    out = (scripts / "fa-icons.js").read_text(encoding="utf-8")
    assert '"bars":[448,512,"M0 96C0z"]' in out and '"magnifying-glass":[512,512,"M416 208Cz"]' in out
    assert "moon" not in out                                # not used by any page
    assert not (scripts / "fontawesome.js").exists()
    assert '<script defer="defer" src="../_static/scripts/fa-icons.js"></script>' in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, width", [("0", 320), ("1", 256), ("10", 500), ("a", 384),
                                         ("arrow-down-1-9", 576), ("$x", 200)])
def test_an_icon_is_found_under_its_key_quoted_or_not(name, width):
    """The pack writes a key bare where JavaScript allows it (``a:``, ``0:``, ``10:``) and quoted
    otherwise (``"arrow-down-1-9":``): every icon is found under its own key, not inside another."""
    from analysis.report import icons

    pack = ('var p={0:[320,512,[],"e0","M0z"],1:[256,512,[],"e1","M1z"],10:[500,512,[],"e9","M10z"],'
            '"arrow-down-1-9":[576,512,[],"f162","M9z"],a:[384,512,[],"41","Maz"],$x:[200,512,[],"e5","Mxz"],'
            'ba:[100,512,[],"e7","Mbaz"],"b-0":[90,512,[],"e8","Mb0z"]}')
    assert icons.icon(pack, name)[0] == width
    assert icons.icon(pack, "100") is None and icons.icon(pack, "01") is None


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium to run the page's script")
def test_drawn_icons_keep_the_attributes_the_theme_styles_them_by(tmp_path):
    """The theme's colour-mode button shows the one icon whose ``data-mode`` is the page's mode
    (CSS ``.theme-switch[data-mode=dark]``): an SVG drawn without it leaves the button blank."""
    from analysis.report import icons

    js = 'var p={moon:[384,512,[],"f186","M223 0Cz"],sun:[512,512,[],"f185","M361 0Cz"]};d("fas",p)'
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "fontawesome.js").write_text(js, encoding="utf-8")
    page = tmp_path / "a.html"
    page.write_text('<html><body><script src="_static/scripts/fontawesome.js"></script><button>'
                    '<i class="theme-switch fa-solid fa-moon fa-lg" data-mode="dark" title="Dark"></i>'
                    '<i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" title="Light"></i>'
                    '</button></body></html>', encoding="utf-8")
    assert icons.subset_icons(tmp_path) == 2
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    svgs = re.findall(r"<svg[^>]*>", dom)
    assert len(svgs) == 2 and "<i " not in dom
    for mode, title, name in (("dark", "Dark", "fa-moon"), ("light", "Light", "fa-sun")):
        svg = next(s for s in svgs if name in s)
        assert f'data-mode="{mode}"' in svg and f'title="{title}"' in svg
        assert 'class="svg-inline--fa theme-switch fa-solid' in svg and 'viewBox="0 0 ' in svg


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_wave_without_the_institution_questionnaire_is_not_said_to_hold_0_records(monkeypatch, language):
    """The introduction and the survey page count the institution records of a wave that has
    them; of a wave without that questionnaire they say so, not "0 township institution records",
    in the edition's language."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages.common import institutions_sentences

    monkeypatch.setenv(LANG_ENV, language)
    none = institutions_sentences(SimpleNamespace(institutions=None))
    some = institutions_sentences(SimpleNamespace(institutions=pd.DataFrame({"x": range(3)})))
    want = {"en": [(0, "", "This wave has no township institution questionnaire."),
                   (3, ", and 3 township institution records",
                    "The township institution questionnaire holds 3 records.")],
            "zh": [(0, "", "本轮调查没有乡镇机构问卷。"),
                   (3, "，以及 3 条乡镇机构记录", "乡镇机构问卷有 3 条记录。")]}
    assert [tuple(d.values()) for d in (none, some)] == want[language]
    assert list(none) == ["n_institutions", "institutions_clause", "institutions_sentence"]
    one = institutions_sentences(SimpleNamespace(institutions=pd.DataFrame({"x": [1]})))
    assert tuple(one.values()) == {
        "en": (1, ", and 1 township institution record",
               "The township institution questionnaire holds 1 record."),
        "zh": (1, "，以及 1 条乡镇机构记录", "乡镇机构问卷有 1 条记录。")}[language]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_counts_in_the_pages_prose_follow_english_grammar(tmp_path, monkeypatch, language):
    """A wave of one province (3 villages, one stratum, one respondent without a score): the
    introduction, survey and index pages say "1 province", "1 stratum", "1 respondent has no
    overall score", not "1 provinces"; counts above 1 keep their plurals; the Chinese edition
    has no plural."""
    from analysis.estimation.study import build_study
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import common, survey
    from tests import wavegen

    monkeypatch.setenv(LANG_ENV, language)
    st = build_study(wavegen.provinces(tmp_path / "one", ["广西"]))
    h = common.headline(st)
    c = survey.design_counts(st)
    n = h["n_villagers"]
    got = [h["villagers_count"], h["respondents_count"], h["provinces_count"], h["villages_count"],
           c["strata_count"], c["psus_count"]]
    want = {"en": [f"{n} villager questionnaires", f"{n} respondents", "1 province", "3 villages",
                   "1 stratum", "3 primary sampling units"],
            "zh": [f"{n} 份村民问卷", f"{n} 名受访者", "1 个省份", "3 个村", "1 个层", "3 个初级抽样单元"]}[language]
    assert got == want
    assert (h["n_provinces"], h["n_villages"], st.design.n_strata, st.design.n_psu) == (1, 3, 1, 3)
    clauses = [common.unscored_clause(k) for k in (0, 1, 2)]
    assert clauses == {"en": ["every respondent has an overall score", "1 respondent has no overall score",
                              "2 respondents have no overall score"],
                       "zh": ["每名受访者都有总得分", "1 名受访者没有总得分", "2 名受访者没有总得分"]}[language]
    assert h["unscored_clause"] == common.unscored_clause(h["n_unscored"])


def test_the_landing_page_of_a_wave_of_one_province_names_it_and_compares_nothing(tmp_path, default_study,
                                                                               monkeypatch):
    """One publishable province: the landing page names it and says provinces are not compared
    (not "fewer than two provinces have enough respondents", which reads as if none were
    published); no region bullet repeats the overall degree; a wave that is not synthetic opens
    each finding with a capital. With no publishable province, it says so."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import common, intro
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "one", ["广西"]))
    assert not st.wave.synthetic
    regions = [common.headline(x)["n_regions_published"] for x in (st, default_study)]
    assert regions == [1, 3]
    h = intro.numbers(st)
    assert h["provinces_sentence"] == ("Only one province, Guangxi, has enough respondents and villages to "
                                       "publish its degree, so provinces are not compared on this wave.")
    kf = intro.key_findings(st, _Fitted(), {}).splitlines()
    assert kf[0].startswith("- The modernization degree is **")
    assert all(line[2].isupper() for line in kf) and not any("by region" in line.lower() for line in kf)
    problem = next(line for line in kf if "<problems>" in line)
    assert problem.startswith("- Of the problems whose share is published, respondents name most often one "
                              "in ")
    # the replica: three regions published, its bullets after the synthetic label
    kf = intro.key_findings(default_study, _Fitted(), {}).splitlines()
    assert all(line.startswith("- *Synthetic replica (illustrates the method):* ") for line in kf)
    none = common.province_degrees(st).assign(suppressed="fewer than 10 respondents")
    monkeypatch.setattr(common, "province_degrees", lambda study: none)
    assert intro.numbers(st)["provinces_sentence"] == ("No province has enough respondents and villages to "
                                                       "publish its degree.")


def test_the_pages_east_west_gap_is_r_s_contrast_of_east_and_west(default_study):
    """The gap the pages print is east minus west, with the SE of svycontrast (tests/r/design_reference.R)."""
    import numpy as np

    from analysis.report.pages.common import headline
    from tests.test_design_against_r import REF, RTOL_EST, RTOL_SE

    ref = REF[(REF["dataset"] == "replica") & (REF["statistic"] == "contrast")]
    assert ref["domain"].tolist() == ["east-west"]
    h = headline(default_study)
    np.testing.assert_allclose(h["gap_east_west"], ref["estimate"].iloc[0], rtol=RTOL_EST)
    np.testing.assert_allclose(h["gap_east_west_se"], ref["se"].iloc[0], rtol=RTOL_SE)


def test_the_pages_top_minus_bottom_is_the_highest_province_less_the_lowest(default_study):
    from analysis.publishing.disclosure import published
    from analysis.report.pages.common import headline, province_degrees

    h = headline(default_study)
    shown = published(province_degrees(default_study)).set_index("province")["estimate"]
    assert h["top_province"] == shown.idxmax() and h["bottom_province"] == shown.idxmin()
    assert h["top_minus_bottom"] == pytest.approx(shown.max() - shown.min()) and h["top_minus_bottom"] > 0
    e = default_study.degree(by="province_en")
    i, j = e.domains.index(h["top_province"]), e.domains.index(h["bottom_province"])
    var = e.vcov[i, i] + e.vcov[j, j] - 2 * e.vcov[i, j]
    assert h["top_minus_bottom_se"] == pytest.approx(var ** 0.5)


def test_degree_tables_flag_each_estimate_the_nchs_rules_mark(default_study):
    """Every degree table flags a domain on fewer than 8 design df or with a relative SE of 30 %
    or more (checked row by row, by hand), and only those: on the replica every province has one
    or two design df, every region 10 or more."""
    from analysis.report.pages.common import degree_table

    for by in ("region3", "province_en"):
        t = degree_table(default_study, by)
        want = [(df < 8) or (se / est >= 0.30) for est, se, df in zip(t["estimate"], t["se"], t["df"])]
        assert [bool(f) for f in t["flag"]] == want, by
    assert not degree_table(default_study, "region3")["flag"].any()
    assert degree_table(default_study, "province_en")["flag"].str.contains("fewer than 8 design df").all()


def test_a_digital_access_cell_in_too_few_psus_is_suppressed_however_many_answer(default_study, monkeypatch):
    from analysis.publishing.disclosure import PSU_REASON, DisclosurePolicy
    from analysis.report.pages import problems

    monkeypatch.setattr(problems, "policy", lambda study: DisclosurePolicy(min_cell=10, min_psu=30))
    t = problems.digital_access(default_study)
    v = default_study.villagers
    assert v.groupby("region3")[default_study.wave.design_columns["psu"]].nunique().max() < 30
    assert (v.groupby("region3").size() >= 30).all()
    assert t[["central", "east", "west"]].isna().all().all() and (t["suppressed"] == PSU_REASON).all()


def test_each_digital_access_region_cell_is_judged_on_its_own_answers_and_any_withheld_marks_its_row(
        default_study, monkeypatch):
    """The NCHS check of a region cell caps the effective sample size at that region's own
    respondents; a row with any withheld region cell (here the last region only) is marked."""
    from analysis.estimation.design import answered
    from analysis.report.pages import problems

    seen = []

    def reason(est, se, lo, hi, n, computed_ci=False):  # type: ignore[no-untyped-def]
        assert computed_ci                 # the region's interval was computed: a missing one is no interval
        seen.append(n)
        return "NCHS: withheld by hand" if len(seen) % 3 == 0 else ""
    monkeypatch.setattr(problems, "nchs_proportion_reason", reason)
    t = problems.digital_access(default_study)
    v, d = default_study.villagers, default_study.design
    items = [i for i in problems.DIGITAL_ITEMS if i in v]
    own = [n for it in items for n in d.proportion(answered(v[it].to_numpy(float), 1), by=v["region3"]).n]
    assert len(seen) == len(own) == 3 * len(t) and seen == own
    assert t["west"].isna().all() and t[["central", "east"]].notna().all().all()
    assert (t["suppressed"] == "NCHS: withheld by hand").all()


def test_a_digital_access_item_asked_in_some_provinces_is_judged_on_the_df_of_its_own_psus(default_study):
    """An item asked in three provinces only: its row gives the df of the villages that answered
    it (fewer than the wave's) and is flagged on them."""
    from analysis.estimation.design import answered
    from analysis.report.pages import problems
    from tests.conftest import with_villagers

    w = default_study.wave
    v = w.villagers.copy()
    asked = v["province_en"].isin(["Guangxi", "Shanghai", "Hebei"])
    v.loc[~asked, "digital_use"] = np.nan
    st = with_villagers(default_study, v)
    row = problems.digital_access(st).set_index("item").loc[w.codebook.item("villagers", "digital_use").label]
    e = st.design.proportion(answered(st.villagers["digital_use"].to_numpy(float), 1))
    assert row["df"] == e.df[0] == 9 - 3 < st.design.degf
    assert row["n"] == e.n[0] == int(st.villagers["digital_use"][asked].notna().sum())   # who answered
    assert "fewer than 8 design df" in row["flag"]


def test_a_digital_access_region_cell_meets_the_nchs_standard_on_its_own_interval(tmp_path, monkeypatch):
    """A wave of two provinces, one per region (3 villages each): a region cell is published only
    where the NCHS standard allows its own estimate (effective sample size, interval width, by
    hand from the region's domain estimate), and the national column is still judged where a
    region cell of the same row is withheld."""
    from analysis.estimation.design import answered
    from analysis.estimation.study import build_study
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.report.pages import problems
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "two", ["广西", "上海"]))
    v, d = st.villagers, st.design
    t = problems.digital_access(st)
    withheld = shown = 0
    for row, it in zip(t.itertuples(), [i for i in ("hreg_onsite", "hreg_app", "hreg_web", "hreg_phone",
                                                     "digital_aware", "digital_use", "internet_use",
                                                     "smartphone") if i in v]):
        e = d.proportion(answered(v[it].to_numpy(float), 1), by=v["region3"])
        lo, hi = e.ci
        for j, r in enumerate(e.domains):
            p, se = e.estimate[j], e.se[j]
            n_eff = min(p * (1 - p) / se**2, e.n[j]) if se > 0 else e.n[j]
            width = hi[j] - lo[j]
            ok = n_eff >= 30 and width < 0.30 and not (width > 0.05 and p > 0 and width / p > 1.30)
            cell = getattr(row, r)
            if ok:
                assert cell == pytest.approx(100 * p), (it, r)
                shown += 1
            else:
                assert np.isnan(cell) and row.suppressed, (it, r)
                withheld += 1
    assert withheld and shown                         # both verdicts are exercised
    # every region cell withheld by the disclosure policy: the national column keeps its own
    # verdict (its df flag: 6 villages in 2 strata give 4 df)
    monkeypatch.setattr(problems, "policy", lambda study: DisclosurePolicy(min_cell=10, min_psu=4))
    t = problems.digital_access(st)
    assert t[["east", "west"]].isna().all().all()
    assert (t["df"] == 4).all() and t["flag"].str.contains("fewer than 8 design df").all()
    assert t["all"].notna().any()


def test_a_shown_digital_access_region_cell_on_fewer_than_8_df_is_marked_with_a_dagger(tmp_path):
    """Four provinces, two per region (3 villages each): each region has 6 - 2 = 4 design df (by
    hand), the nation 12 - 4 = 8. A region cell the standard lets through is flagged on its own (†
    beside it in the table, its reason in the footnote and in the CSV's <region>_flag column), while
    the national share on 8 df is not flagged; a withheld cell shows ‡ and no †."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import problems
    from tests import wavegen

    st = build_study(wavegen.provinces(tmp_path / "four", ["上海", "西藏", "浙江", "云南"]))
    v = st.villagers
    villages = v.groupby("region3")["village_id"].nunique()
    provs = v.groupby("region3")["province"].nunique()
    region_df = (villages - provs).to_dict()
    assert region_df == {"east": 4, "west": 4}                      # the premise, by hand
    t = problems.digital_access(st).reset_index(drop=True)
    assert (t["df"] == 8).all() and not t["flag"].astype(bool).any()   # the nation: 8 df, no flag
    md = render(t, title="Digital access (%)")["text/markdown"]
    lines = [ln for ln in md.splitlines() if ln.startswith("| ") and "---" not in ln][1:]
    assert len(lines) == len(t)
    shown = 0
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip("|").split("|")]
        all_cell, east, west = cells[1], cells[-2], cells[-1]
        assert "†" not in all_cell
        for r, cell in (("east", east), ("west", west)):
            if np.isnan(t.loc[i, r]):
                assert cell == "‡"
            else:
                assert cell == f"{t.loc[i, r]:.1f} †", (i, r, cell)
                shown += 1
    assert shown
    assert "† to be read with care (NCHS presentation standards): fewer than 8 design df." in md
    href = re.search(r'href="data:text/csv;charset=utf-8,([^"]*)"', csv_link(t, "Digital access")).group(1)
    data = pd.read_csv(io.StringIO(urllib.parse.unquote(href).lstrip("\ufeff")), keep_default_na=False)
    for r in ("east", "west"):
        want = ["fewer than 8 design df" if x != "" else "" for x in data[r]]
        assert data[f"{r}_flag"].tolist() == want


def test_a_table_without_cell_flags_renders_as_before_and_flags_of_another_length_are_ignored():
    """A cell flag list that does not match the table's rows is not applied (no † anywhere)."""
    t = pd.DataFrame({"item": ["a", "b"], "all": [50.0, 40.0], "east": [51.0, 41.0]})
    t.attrs["cell_flags"] = {"east": ["fewer than 8 design df"]}        # one reason for two rows
    md = render(t, title="t")["text/markdown"]
    assert "†" not in md


def test_the_survey_page_s_province_shares_are_shares_of_the_weights(default_study):
    """The composition table's weighted share of a province is its respondents' weight over the
    wave's (by hand), not its share of respondents."""
    from analysis.report.pages.survey import composition

    t = composition(default_study).set_index("province")
    v = default_study.villagers
    w = v[default_study.wave.design_columns["weight"]]
    by_hand = 100 * w.groupby(v["province_en"]).sum() / w.sum()
    assert t["weighted_share_pct"].to_dict() == pytest.approx(by_hand.to_dict())
    assert t["respondents"].to_dict() == v.groupby("province_en").size().to_dict()
    counts = 100 * t["respondents"] / t["respondents"].sum()
    assert (t["weighted_share_pct"] - counts).abs().max() > 0.5          # the weights are not equal


def test_the_headline_degree_and_its_interval_are_r_s_svymean_and_confint(default_study):
    """The degree, SE and 95 % CI the pages print against svymean and confint on the design's df
    (tests/r/design_reference.R)."""
    import numpy as np

    from analysis.report.pages.common import headline
    from tests.test_design_against_r import REF, RTOL_EST, RTOL_SE

    ref = REF[(REF["dataset"] == "replica") & (REF["statistic"] == "mean") & (REF["variable"] == "overall")
              & (REF["domain"] == "all")].iloc[0]
    h = headline(default_study)
    np.testing.assert_allclose(h["degree_overall"], ref["estimate"], rtol=RTOL_EST)
    np.testing.assert_allclose([h["degree_overall_se"], h["degree_overall_lo"], h["degree_overall_hi"]],
                               ref[["se", "ci_low", "ci_high"]].to_numpy(float), rtol=RTOL_SE)


def test_the_decomposition_s_numbers_for_the_prose_are_its_table_s():
    """The determinants page's decomposition sentence: the gap, the explained part with its own SE,
    and the explained share of the gap, read from the decomposition table (by hand)."""
    from analysis.report.pages.determinants import OAXACA, model_stats

    table = pd.DataFrame({"component": ["gap", "explained (two-fold)", "unexplained (two-fold)"],
                          "estimate": [10.0, 4.0, 6.0], "se": [1.5, 0.7, 1.1]})
    r = SimpleNamespace(tables={"decomposition": table},
                        stats={"group": "region3", "group_a": "east", "group_b": "west",
                               "bootstrap_reps": 99})
    out = model_stats(_Fitted(**{OAXACA: r}))                # the decomposition alone was fitted
    assert (out["ox_gap"], out["ox_explained"], out["ox_unexplained"]) == (10.0, 4.0, 6.0)
    assert out["ox_explained_se"] == 0.7 and out["ox_explained_share"] == pytest.approx(40.0)
    assert (out["ox_a"], out["ox_b"], out["ox_reps"]) == ("east", "west", 99)


def test_the_provinces_page_numbers_are_the_estimators_on_the_years_they_name(default_study):
    """Every number the provinces page glues from the official panel is its estimator's, on the
    first or last year it names: Theil totals and the between-region share, unconditional and
    conditional β-convergence (region effects), σ-convergence, the GDP-per-head ratio."""
    from analysis.estimation.panel import beta_convergence, sigma_convergence, theil
    from analysis.report.pages import provinces

    o = provinces.stats(default_study)
    p = provinces.panel(default_study)
    first, last = o["real_first"], o["real_last"]
    t = theil(p, "fiscal_exp_per_capita_yuan", "region3")
    assert (o["theil_first"], o["theil_last"]) == (t.loc[first, "total"], t.loc[last, "total"])
    assert o["theil_between_share_last"] == pytest.approx(100 * t.loc[last, "between_share"])
    assert t.loc[first, "between_share"] != pytest.approx(t.loc[last, "between_share"])
    plain = beta_convergence(p, "fiscal_exp_per_capita_yuan", first, last)
    cond = beta_convergence(p, "fiscal_exp_per_capita_yuan", first, last, region_effects=True)
    assert (o["beta"], o["beta_se"]) == (plain["beta"], plain["se"])
    assert (o["beta_cond"], o["beta_cond_se"]) == (cond["beta"], cond["se"]) and cond["beta"] != plain["beta"]
    sg = sigma_convergence(p, "edu_exp_share_pct").dropna()
    assert (o["sigma_edu_first"], o["sigma_edu_last"]) == (sg.iloc[0], sg.iloc[-1])
    y = p.xs(o["real_year"], level="year")
    gdp = y["gdp_per_capita_yuan"]
    assert o["gdppc_ratio"] == pytest.approx(gdp.loc[310000] / gdp.loc[540000])    # Shanghai over Tibet


@pytest.fixture
def one_province_suppressed(default_study, monkeypatch):
    """The disclosure policy raised one respondent above the smallest province: that province is
    suppressed on every page (the replica's own policy suppresses none)."""
    from tests.conftest import withhold_the_smallest

    n = withhold_the_smallest(monkeypatch, default_study)
    assert (n == n.min()).sum() == 1
    return str(n.idxmin())


def test_ranks_are_among_the_publishable_provinces_only(default_study, one_province_suppressed):
    """A suppressed province takes no rank on the index page, in a profile or on the sensitivity
    page: the others rank 1 to P − 1."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index, profile, sensitivity

    gone = one_province_suppressed
    rep = domain_replicates(default_study, reps=40, seed=1)
    P = rep.shape[1]
    t = index.province_table(default_study, rep).set_index("province")
    assert pd.isna(t.loc[gone, "median_rank"]) and t.drop(gone)["median_rank"].notna().all()
    assert t["rank_high"].max() <= P - 1
    r = profile.rank(default_study, 310000, rep)
    assert r["n_ranked"] == P - 1 and r["rank_high"] <= P - 1
    assert profile.survey_status(default_study, 310000)["n_published"] == P - 1
    ranks = sensitivity.publishable_ranks(default_study, SimpleNamespace(provinces=rep))
    assert gone not in ranks.columns and ranks.shape[1] == P - 1 and ranks.max().max() == P - 1
    kept = rep.drop(columns=gone)                     # rank 1: the highest score of each replicate
    assert (ranks.to_numpy()[range(len(kept)), kept.to_numpy().argmax(axis=1)] == 1).all()


def test_the_index_page_gives_no_rank_to_a_wave_s_only_publishable_province(default_study, tmp_path):
    """A rank among one province compares it with nothing: on a provincial wave the index page's
    table has no rank column and its title names none, its rank figure says why (in place of a bar
    at 1 from 1 to 1) and so does the paragraph, and the map's caption outlines no highest and
    lowest; on the default wave the paragraph counts the ranked provinces and replicates."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.estimation.study import build_study
    from analysis.report.pages import index
    from tests import wavegen

    one = build_study(wavegen.provinces(tmp_path / "one", ["广西"]))
    rep = domain_replicates(one, reps=20, seed=1)
    t = index.province_table(one, rep)
    assert len(t) == 1 and not {"median_rank", "rank_low", "rank_high"} & set(t.columns)
    assert index.province_table_title(t) == ("Provinces: degree, confidence interval and PSUs, ordered by "
                                             "degree")
    assert index.map_caption(t) == "Modernization degree by province."
    assert index.rank_paragraph(one, t) == ("Ranks compare provinces with one another, so this wave, with 1 "
                                            "publishable province, has none.")
    fig = index.figures_(one, t)["fig_index_ranks"]
    assert [x.get_text() for x in fig.axes[0].texts] == ["Ranks need at least two publishable provinces; "
                                                         "this wave has 1."]
    rep = domain_replicates(default_study, reps=20, seed=1)
    t = index.province_table(default_study, rep)
    text = index.rank_paragraph(default_study, t)
    assert index.province_table_title(t).endswith("PSUs and rank interval, ordered by median rank")
    assert t["median_rank"].is_monotonic_increasing
    assert index.map_caption(t) == ("Modernization degree by province; the highest and lowest publishable "
                                    "provinces outlined.")
    reps = default_study.settings.index.uncertainty.bootstrap_reps
    assert f"over {reps} {{term}}`Rao–Wu bootstrap` replicates" in text
    assert "{numref}`fig-index-ranks`" in text
    n = t["median_rank"].notna().sum()
    few = (t.dropna(subset=["median_rank"])["n_psu"] <= 3).sum()
    assert f"among the {n} publishable provinces. {few} of them rest on 3 PSUs or fewer" in text
    # what the sentence says of the replicates: a province of 2 PSUs (one stratum) takes 2
    # distinct values, one of 3 PSUs at most 6
    psus = t.set_index("province_en" if "province_en" in t else "province")["n_psu"]
    distinct = rep.round(10).nunique()
    two, three = psus[psus == 2].index, psus[psus == 3].index
    assert len(two) and len(three)
    assert (distinct[[c for c in rep.columns if c in set(two)]] == 2).all()
    assert (distinct[[c for c in rep.columns if c in set(three)]] <= 6).all()
    assert len(index.figures_(default_study, t)["fig_index_ranks"].axes[0].texts) == 0
    # on a wave where one ranked province alone rests on 3 PSUs or fewer, the note is singular; none, no note
    first = t.dropna(subset=["median_rank"])["province"].iloc[0]
    one = index.rank_paragraph(default_study, t.assign(n_psu=np.where(t["province"] == first, 3, 9)))
    assert one.endswith(" 1 of them rests on 3 PSUs or fewer: each replicate draws n − 1 of a stratum's "
                        "n PSUs with replacement, so its degree takes only 2 distinct values from 2 PSUs in "
                        "one stratum, 6 from 3, and its rank interval is coarse."), one
    none = index.rank_paragraph(default_study, t.assign(n_psu=4))
    assert none.endswith(f"among the {n} publishable provinces.")


def test_a_wave_of_two_provinces_ranks_and_contrasts_them_and_of_one_shown_counts_only_it(tmp_path,
                                                                                         monkeypatch):
    """Two publishable provinces are enough to compare: the headline names the higher and the
    lower, the rank paragraph ranks them, the map outlines both. With one of them withheld, the
    map caption outlines nothing and the rank figure counts the one province shown, not the rows."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.estimation.study import build_study
    from analysis.report.pages import common, index
    from tests import wavegen
    from tests.conftest import withhold_the_smallest

    two = build_study(wavegen.provinces(tmp_path / "two", ["广西", "广东"]))
    h = common.headline(two)
    assert h["n_provinces_published"] == 2 and {h["top_province"], h["bottom_province"]} == {"Guangxi",
                                                                                               "Guangdong"}
    t = index.province_table(two, domain_replicates(two, reps=20, seed=1))
    assert "among the 2 publishable provinces" in index.rank_paragraph(two, t)
    assert index.map_caption(t).endswith("highest and lowest publishable provinces outlined.")
    drawn = index.figures_(two, t)["fig_index_ranks"].axes[0]            # two are enough to rank
    assert not drawn.texts and {x.get_text() for x in drawn.get_yticklabels()} == {"Guangxi", "Guangdong"}
    withhold_the_smallest(monkeypatch, two)                     # the smaller province withheld
    t = index.province_table(two, domain_replicates(two, reps=20, seed=1))
    assert len(t) == 2 and t["suppressed"].astype(bool).sum() == 1
    assert index.map_caption(t) == "Modernization degree by province."
    fig = index.figures_(two, t)["fig_index_ranks"]
    assert [x.get_text() for x in fig.axes[0].texts] == ["Ranks need at least two publishable provinces; "
                                                         "this wave has 1."]


def test_a_province_surveyed_in_one_village_is_withheld_from_the_degree_tables(tmp_path):
    """A province of one village has no design df and its estimate would name the village: the
    degree table withholds it, whatever its respondents, and the headline leaves it out."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import common
    from tests import wavegen

    folder = wavegen.provinces(tmp_path / "one-village", ["广西", "广东", "上海"])
    v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
    sh = v["province"] == "上海"
    v.loc[sh, "village_id"] = v.loc[sh, "village_id"].iloc[0]
    v.to_csv(folder / "villagers.csv", index=False)
    st = build_study(folder)
    t = common.degree_table(st, "province_en").set_index("province_en")
    assert t.loc["Shanghai", "n"] >= st.wave.spec.min_cell and t.loc["Shanghai", "n_psu"] == 1
    assert t.loc["Shanghai", "suppressed"] and not t.loc["Guangxi", "suppressed"]
    assert "Shanghai" not in {common.headline(st).get(k) for k in ("top_province", "bottom_province")}


def test_respondents_are_placed_in_the_three_belts_liaoning_east_and_heilongjiang_central(default_study):
    """region3 is the three-belt scheme (east, central, west), whatever the NBS four regions say:
    the replica's Heilongjiang respondents are central, none is "northeast"."""
    v = default_study.villagers
    assert set(v["region3"]) == {"east", "central", "west"}
    assert set(v.loc[v["province_en"] == "Heilongjiang", "region3"]) == {"central"}
    assert set(v.loc[v["province_en"] == "Heilongjiang", "region4"]) == {"northeast"}


def test_the_headline_counts_as_unscored_the_respondents_without_an_overall_score_only(default_study):
    """A respondent missing one field's sub-index may still have an overall score (the coverage
    rule): the headline's unscored count is of the overall score alone, as the degree leaves out."""
    from analysis.report.pages import common

    s = default_study.scores
    h = common.headline(default_study)
    assert h["n_unscored"] == int(s["overall"].isna().sum()) == h["n_villagers"] - h["n_scored"]
    assert int(s.isna().any(axis=1).sum()) > h["n_unscored"]           # some lack only a sub-index


def test_the_headline_names_and_counts_only_publishable_provinces(default_study, one_province_suppressed):
    """The headline's count of provinces, its highest and lowest and their difference leave out a
    suppressed province (whose estimate is withheld, so a sort would have put it last)."""
    from analysis.report.pages.common import headline, province_degrees

    gone = one_province_suppressed
    h = headline(default_study)
    assert h["n_provinces_published"] == h["n_provinces"] - 1
    shown = province_degrees(default_study).set_index("province")["estimate"]
    assert pd.isna(shown[gone])
    shown = shown.drop(gone)
    assert (h["top_province"], h["bottom_province"]) == (shown.idxmax(), shown.idxmin())
    assert h["top_minus_bottom"] == pytest.approx(shown.max() - shown.min())


def test_sub_indices_by_region_are_each_level_s_degree(default_study):
    """The index page's heat maps: each field's national column is that field's degree, not the
    overall one; its region columns are the field's degree by region (health against svyby)."""
    import numpy as np

    from analysis.report.pages.index import subindex_by_region
    from tests.test_design_against_r import REF, RTOL_EST

    t = subindex_by_region(default_study, "fields")
    fields = default_study.wave.codebook.fields
    for f in default_study.index.fields:
        assert t.loc[fields[f][1], "all"] == pytest.approx(default_study.degree(level=f).estimate[0])
    assert t["all"].nunique() == len(t)
    ref = REF[(REF["dataset"] == "replica") & (REF["variable"] == "health by region3")].set_index("domain")
    np.testing.assert_allclose(t.loc[fields["health"][1], list(ref.index)].to_numpy(float), ref["estimate"],
                               rtol=RTOL_EST)


def test_a_national_sub_index_the_disclosure_rule_withholds_is_not_in_the_heat_maps(default_study):
    """Eight respondents of one village: the policy withholds the nation's degree of every field, so
    the heat maps publish no "all" column (nor a region), and the page shows a panel saying why
    instead of a heat map of nothing."""
    import dataclasses

    import matplotlib.pyplot as plt

    from analysis.estimation.study import build_study
    from analysis.report.pages import index

    w = default_study.wave
    v = w.villagers
    small = v[v["village_id"] == v["village_id"].iloc[0]].head(8).reset_index(drop=True)
    st = build_study(dataclasses.replace(w, data={**w.data, "villagers": small}))
    for kind in ("fields", "aspects"):
        t = index.subindex_by_region(st, kind)
        assert "all" not in t.columns and t.notna().sum().sum() == 0, kind
    fig = index._heatmap(st, "fields", "Field sub-indices by region")
    said = " ".join(x.get_text() for ax in fig.axes for x in ax.texts)
    assert "No sub-index is published for this wave" in said
    plt.close(fig)


def test_a_region_withheld_for_the_first_sub_index_alone_keeps_its_column_before_the_nation(
        default_study, monkeypatch):
    """A region the rule withholds for the first field but publishes for the others still stands
    in its place among the regions, and the nation stays the last column (heat map and CSV); the
    other cells are published, so the page draws the heat map."""
    import matplotlib.pyplot as plt

    from analysis.report.pages import index

    whole = index.subindex_by_region(default_study, "fields")
    assert whole.columns[-1] == "all"
    first = default_study.wave.codebook.fields[default_study.index.fields[0]][1]
    calls, publish = [], index.published

    def withhold_first_region_once(t):  # type: ignore[no-untyped-def]
        calls.append(1)
        out = publish(t)
        return out.iloc[1:] if len(calls) == 1 else out

    monkeypatch.setattr(index, "published", withhold_first_region_once)
    withheld = index.subindex_by_region(default_study, "fields")
    assert withheld.columns.tolist() == whole.columns.tolist()
    assert pd.isna(withheld.loc[first, whole.columns[0]])
    assert withheld.drop(index=first).equals(whole.drop(index=first))
    calls.clear()                            # the page draws that heat map, not the "none published" panel
    fig = index._heatmap(default_study, "fields", "Field sub-indices by region")
    said = " ".join(x.get_text() for ax in fig.axes for x in ax.texts)
    plt.close(fig)
    assert "No sub-index is published" not in said


def test_the_heat_maps_speak_the_edition_s_language(default_study, monkeypatch):
    """The Chinese edition's heat maps (and their CSV files) name the fields, regions and the
    nation in Chinese, with the English edition's values."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages.index import subindex_by_region

    en = subindex_by_region(default_study, "fields")
    monkeypatch.setenv(LANG_ENV, "zh")
    zh = subindex_by_region(default_study, "fields")
    fields = default_study.wave.codebook.fields
    assert zh.index.tolist() == [fields[f][0] for f in default_study.index.fields]
    assert zh.columns.tolist() == [{"east": "东部", "central": "中部", "west": "西部", "all": "全部"}[c]
                                   for c in en.columns]
    np.testing.assert_array_equal(zh.to_numpy(), en.to_numpy())


def test_a_region_s_composition_sums_its_provinces(default_study):
    from analysis.report.pages.survey import composition, region_composition

    c = composition(default_study)
    r = region_composition(default_study).set_index("region")
    assert r["weighted_share_pct"].sum() == pytest.approx(100.0)
    for region, d in c.groupby("region"):
        assert r.loc[region, "weighted_share_pct"] == pytest.approx(d["weighted_share_pct"].sum())
        assert (r.loc[region, "provinces"], r.loc[region, "respondents"]) == (len(d), d["respondents"].sum())


class _Report:
    """A validation report's missing-value counts, by hand: three items of a 10-row file."""

    rows = {"villagers": 10}
    errors: list = []
    warnings: list = []

    def missing_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"questionnaire": "villagers", "column": ["a", "b", "c"], "blank": [3, 0, 0],
                             "declared": [2, 5, 0], "rows": 10})


def test_the_sample_tables_count_rows_distinct_villages_and_weights_from_the_raw_file(default_study):
    """The survey page's sample by province: the villager file's rows, its distinct villages (the
    PSUs, not the respondents in them) and its share of the weights; by region, the sums and the
    provinces counted once."""
    from analysis.ingest.provinces import resolve
    from analysis.paths import ROOT
    from analysis.report.pages import survey

    raw = pd.read_csv(ROOT / "data/waves/2020-replica/villagers.csv")
    raw["province"] = [resolve(p).name_en for p in raw["province"]]
    by = raw.groupby("province")
    c = survey.composition(default_study).set_index("province")
    assert c["respondents"].to_dict() == by.size().to_dict()
    assert c["villages"].to_dict() == by["village_id"].nunique().to_dict()
    assert (c["villages"] < c["respondents"]).all()
    share = 100 * by["weight"].sum()[c.index] / raw["weight"].sum()
    np.testing.assert_allclose(c["weighted_share_pct"], share)
    r = survey.region_composition(default_study).set_index("region")
    region = raw.assign(region=c["region"].reindex(raw["province"]).to_numpy()).groupby("region")
    assert r["provinces"].to_dict() == region["province"].nunique().to_dict()
    assert r["villages"].to_dict() == region["village_id"].nunique().to_dict()
    assert r["respondents"].to_dict() == region.size().to_dict()
    assert r["weighted_share_pct"].sum() == pytest.approx(100)


def test_item_nonresponse_and_the_validation_summary_count_blanks_and_declared_codes():
    """Nonresponse of an item counts blank cells and declared missing codes over its rows; the
    validation summary's shares are over every cell of the file's items (10 rows × 3 items)."""
    from analysis.report.pages.survey import item_nonresponse, validation_summary

    items = [SimpleNamespace(id=c, label=f"item {c}") for c in "abc"]
    spec = SimpleNamespace(questionnaires={"villagers": SimpleNamespace(file=Path("w/v.csv"))},
                           folder=Path("w"))
    study = SimpleNamespace(wave=SimpleNamespace(report=_Report(), spec=spec,
                                                 codebook=SimpleNamespace(items=lambda q: items)))
    t = item_nonresponse(study)
    assert t["variable (data file)"].tolist() == ["a", "b", "c"]
    assert t["missing_pct"].tolist() == pytest.approx([50.0, 50.0, 0.0])
    s = validation_summary(study).iloc[0]
    assert (s["rows"], s["errors"], s["warnings"]) == (10, 0, 0)
    assert (s["blank_pct"], s["declared_missing_pct"]) == pytest.approx((10.0, 70 / 3))


def test_the_validation_summary_counts_the_warnings_of_a_file_in_a_subfolder(make_wave, small_villagers):
    """A questionnaire file in a subfolder (``raw/villagers.csv``) is named by that path in the
    report's problems; the survey page's summary counts its warnings as those of a file at the top."""
    from analysis.estimation.study import build_study
    from analysis.report.pages.survey import validation_summary

    v = small_villagers.assign(extra_note="x")              # a column the codebook does not know
    flat, sub = make_wave(v, name="flat"), make_wave(v, name="sub")
    (sub / "raw").mkdir()
    (sub / "villagers.csv").rename(sub / "raw" / "villagers.csv")
    yml = (sub / "wave.yml").read_text(encoding="utf-8")
    (sub / "wave.yml").write_text(yml.replace("file: villagers.csv", "file: raw/villagers.csv"),
                                  encoding="utf-8")
    counts = []
    for folder, name in ((flat, "villagers.csv"), (sub, "raw/villagers.csv")):
        study = build_study(folder)
        assert {p.file for p in study.wave.report.warnings} == {name}
        counts.append(validation_summary(study).set_index("questionnaire").loc["villagers", "warnings"])
    assert counts[0] == counts[1] == len(build_study(flat).wave.report.warnings) > 0


def test_item_nonresponse_ranks_items_by_blank_and_declared_missing_together_over_each_file_s_own_items():
    """Declared codes (don't know, refused) count as much as blanks in the ranking; a file's
    shares are over its own items' cells, whatever the other questionnaires hold."""
    from analysis.report.pages.survey import item_nonresponse, validation_summary

    class Declared(_Report):
        rows = {"villagers": 10, "institutions": 4}

        def missing_frame(self) -> pd.DataFrame:
            return pd.DataFrame({"questionnaire": ["villagers"] * 3 + ["institutions"] * 2,
                                 "column": ["a", "b", "c", "x", "y"], "blank": [1, 0, 2, 4, 4],
                                 "declared": [0, 6, 0, 0, 0], "rows": [10, 10, 10, 4, 4]})

    items = [SimpleNamespace(id=c, label=f"item {c}") for c in "abc"]
    files = {q: SimpleNamespace(file=Path("w", f))
             for q, f in (("villagers", "v.csv"), ("institutions", "i.csv"))}
    spec = SimpleNamespace(questionnaires=files, folder=Path("w"))
    study = SimpleNamespace(wave=SimpleNamespace(report=Declared(), spec=spec,
                                                 codebook=SimpleNamespace(items=lambda q: items)))
    t = item_nonresponse(study)
    assert t["variable (data file)"].tolist() == ["b", "c", "a"]
    s = validation_summary(study).set_index("questionnaire")
    assert s.loc["villagers", ["blank_pct", "declared_missing_pct"]].tolist() == pytest.approx([10.0, 20.0])
    assert s.loc["institutions", "blank_pct"] == pytest.approx(100.0)


def test_the_survey_page_lists_the_ten_items_with_most_missing_answers():
    """Twelve items with 1 to 12 missing answers: the page's table (called without ``top``) lists
    the ten most missing, most first; ``top`` gives another number."""
    from analysis.report.pages.survey import item_nonresponse

    ids = [f"q{i:02d}" for i in range(1, 13)]

    class Twelve(_Report):
        rows = {"villagers": 100}

        def missing_frame(self) -> pd.DataFrame:
            return pd.DataFrame({"questionnaire": "villagers", "column": ids, "blank": range(1, 13),
                                 "declared": 0, "rows": 100})

    items = [SimpleNamespace(id=c, label=f"item {c}") for c in ids]
    codebook = SimpleNamespace(items=lambda q: items)
    study = SimpleNamespace(wave=SimpleNamespace(report=Twelve(), codebook=codebook))
    assert item_nonresponse(study)["variable (data file)"].tolist() == ids[::-1][:10]
    assert item_nonresponse(study, top=3)["missing_pct"].tolist() == [12.0, 11.0, 10.0]


def test_the_sample_map_colours_each_province_by_its_respondents_not_its_weights(default_study, monkeypatch):
    from analysis.publishing import figures
    from analysis.report.pages import survey

    drawn = {}
    monkeypatch.setattr(figures, "china_map", lambda values, **kw: drawn.update(values=values, **kw))
    survey.sample_map(default_study)
    n = default_study.villagers.groupby("province").size()
    assert drawn["label"] == "respondents"
    assert drawn["values"].sort_index().tolist() == n.sort_index().astype(float).tolist()


def test_the_validation_summary_counts_each_file_s_warnings_and_errors_apart():
    """Per questionnaire, the summary counts the warnings raised on its own file (not another
    file's, not the errors)."""
    from analysis.report.pages.survey import validation_summary

    class Warned(_Report):
        rows = {"villagers": 10, "institutions": 4}
        warnings = [SimpleNamespace(file=f) for f in ("v.csv", "v.csv", "i.csv")]

    spec = SimpleNamespace(questionnaires={"villagers": SimpleNamespace(file=Path("w/v.csv")),
                                           "institutions": SimpleNamespace(file=Path("w/i.csv"))},
                           folder=Path("w"))
    study = SimpleNamespace(wave=SimpleNamespace(report=Warned(), spec=spec))
    s = validation_summary(study).set_index("questionnaire")
    assert s.loc[["villagers", "institutions"], "warnings"].tolist() == [2, 1]
    assert s["errors"].tolist() == [0, 0]


def test_table_1_flags_no_villager_share_on_the_replica_and_gives_institution_shares_no_interval(
        default_study):
    """On the replica's design (8 df or more for every item) Table 1 flags nothing; the institution
    records' shares describe those records: no design, so no SE, interval or df. (An item on fewer
    than 8 df is flagged: tests/test_design_against_r.py, against R.)"""
    from analysis.report.pages import problems

    t = problems.table1(default_study)
    vill = t["base"].str.startswith("villager")
    assert vill.any() and (t.loc[vill, "df"] >= 8).all() and not t["flag"].any()
    inst = t["base"] == "share of the township institution records"
    assert inst.any() and t.loc[inst, ["se", "ci_low", "ci_high", "df"]].isna().all().all()
    assert t.loc[inst, "estimate"].notna().all()
    assert t.loc[vill, ["se", "ci_low", "ci_high"]].notna().all().all()


def test_key_findings_name_the_problem_named_most_often_and_the_gdp_range(default_study):
    """The problem finding is the published villager share that is highest; the official finding's
    GDP range is the highest over the lowest GDP per head ("x times", above 1)."""
    from analysis.publishing.disclosure import published
    from analysis.report.pages import intro, problems, provinces

    o = provinces.stats(default_study)
    kf = intro.key_findings(default_study, _Fitted(), o).splitlines()
    t1 = published(problems.table1(default_study))
    vill = t1[t1["base"].astype(str).str.startswith("villager")].dropna(subset=["estimate"])
    top = vill.loc[vill["estimate"].idxmax()]
    line = next(i for i in kf if "<problems>" in i)
    assert f"“{top['problem']}”, {top['estimate']:.0f} %" in line
    assert top["ci_low"] < top["ci_high"]
    assert f"(95 % CI {top['ci_low']:.0f}–{top['ci_high']:.0f} %)" in line
    gdp = next(i for i in kf if "GDP per head" in i)
    ratio = o["gdppc_top"] / o["gdppc_bottom"]
    assert ratio > 1 and f"{ratio:.1f} times" in gdp


@pytest.mark.parametrize("p, clear", [(0.02, True), (0.03, False), (0.07, False)])
def test_an_association_is_distinguishable_from_zero_only_below_the_5_percent_level(default_study, p, clear):
    """The clearer of two terms is distinguishable from zero only if its p, adjusted by Holm across
    the two (twice p), stays below 0.05: 0.02 is, 0.03 (0.06 adjusted) and 0.07 are not."""
    from analysis.report.pages import intro

    frame = pd.DataFrame({"label": ["internet use", "age"], "estimate": [2.0, 0.1], "ci_low": [0.2, -1.0],
                          "ci_high": [3.8, 1.2], "p": [p, 0.6]})
    findings = intro.key_findings(default_study, _Fitted(wls_region=SimpleNamespace(to_frame=lambda: frame)),
                                  {}).splitlines()
    line = next(i for i in findings if "<determinants>" in i)
    assert "**internet use**" in line
    assert ("not distinguishable from zero at the 5 % level" in line) is not clear


def _comparison_study(wave_id: str, year: int | None, degree,  # type: ignore[no-untyped-def]
                      min_cell: int = 10):
    """A wave as the comparison page reads one: its id, year, disclosure rule and degree."""
    return SimpleNamespace(wave=SimpleNamespace(id=wave_id, spec=SimpleNamespace(min_cell=min_cell)),
                           year=year, degree=degree)


def test_the_comparison_figure_labels_each_wave_with_its_year_or_its_id_alone(default_study, monkeypatch):
    """The x axis: each wave's id over its year, in year order; a wave without a year is named by
    its id alone (no "(None)")."""
    import matplotlib.pyplot as plt

    from analysis.report.pages import compare

    studies = [_comparison_study("w2024", 2024, default_study.degree),
               _comparison_study("w-none", None, default_study.degree)]
    fig = compare.figure(studies)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["w2024\n(2024)", "w-none"]
    plt.close(fig)
    # the series (the nation and each region) stand side by side, centred on their wave's tick,
    # also when a wave has two regions only
    table = compare.table
    monkeypatch.setattr(compare, "table", lambda s: table(s).query("region != 'west'"))
    fig = compare.figure(studies)
    xs = np.array([bars.lines[0].get_xdata()[0] for bars in fig.axes[0].containers])
    assert len(xs) == 3 and xs.mean() == pytest.approx(0.0) and len(set(np.round(xs, 6))) == 3
    plt.close(fig)


def test_the_comparison_table_puts_waves_in_year_order_each_under_its_own_policy(default_study):
    """Waves in year order (a wave without a year last), whatever order they are given in; each
    wave's cells suppressed by its own disclosure rule: a minimum of 400 respondents suppresses
    the regions below it in that wave only."""
    from analysis.report.pages import compare

    studies = [_comparison_study("w2024", 2024, default_study.degree),
               _comparison_study("w-none", None, default_study.degree),
               _comparison_study("w2018", 2018, default_study.degree, min_cell=400)]
    assert [s.wave.id for s in compare.in_year_order(studies)] == ["w2018", "w2024", "w-none"]
    t = compare.table(studies)
    assert list(dict.fromkeys(t["wave"])) == ["w2018", "w2024", "w-none"]
    years = t.groupby("wave")["year"].agg(lambda y: set(y.dropna()))      # each wave's rows: its own year
    assert years.to_dict() == {"w2018": {2018}, "w2024": {2024}, "w-none": set()}
    n = default_study.villagers.groupby("region3").size()
    strict = t[(t["wave"] == "w2018") & (t["region"] != "all")].set_index("region")
    loose = t[(t["wave"] == "w2024") & (t["region"] != "all")].set_index("region")
    small = n[n < 400].index
    assert len(small) and strict.loc[small, "estimate"].isna().all() and loose["estimate"].notna().all()
    assert strict.loc[n[n >= 400].index, "estimate"].notna().all()


def test_the_comparison_table_withholds_a_region_resting_on_a_single_psu(default_study):
    """The minimum-PSU rule applies on the comparison page as everywhere: a region of a wave
    whose respondents all live in one village (however many) is not published."""
    from analysis.publishing.disclosure import PSU_REASON
    from analysis.report.pages import compare

    def degree(by=None):  # type: ignore[no-untyped-def]
        e = default_study.degree(by=by)
        frame = e.to_frame()
        if by is not None:
            frame.loc[frame["domain"] == "west", "n_psu"] = 1
        return SimpleNamespace(to_frame=lambda: frame)

    st = _comparison_study("w", 2021, degree)
    t = compare.table([st]).set_index("region")
    assert t.loc["west", "n"] >= 10 and pd.isna(t.loc["west", "estimate"])
    assert t.loc["west", "suppressed"] == PSU_REASON
    assert t.drop("west")["estimate"].notna().all()


def test_the_comparison_table_flags_a_degree_on_few_design_df_as_every_table_of_degrees(default_study):
    """A region of a compared wave resting on fewer than 8 design df (or with a relative SE of
    30 % or more) is marked † with its reason, as the index table marks it; the others are not."""
    from analysis.publishing.reliability import DF_REASON, FLAG, RSE_REASON
    from analysis.report.pages import compare

    def degree(by=None):  # type: ignore[no-untyped-def]
        frame = default_study.degree(by=by).to_frame()
        if by is not None:
            frame.loc[frame["domain"] == "west", "df"] = 5
            frame.loc[frame["domain"] == "east", "se"] = 0.31 * frame.loc[frame["domain"] == "east", "estimate"]
        return SimpleNamespace(to_frame=lambda: frame)

    t = compare.table([_comparison_study("w", 2021, degree)]).set_index("region")
    assert t.loc["west", FLAG] == DF_REASON and t.loc["east", FLAG] == RSE_REASON
    assert (t.drop(["west", "east"])[FLAG] == "").all()
    assert t.loc["west", "estimate"] == pytest.approx(default_study.degree(by="region3").to_frame()
                                                      .set_index("domain").loc["west", "estimate"])
    assert "se" not in t and "df" not in t


def test_the_headline_interval_rests_on_the_design_df_psus_minus_strata(default_study):
    """The landing page's national interval: t quantile on the design df, PSUs minus strata
    (counted by hand from the villager file), not PSUs minus one."""
    from scipy import stats

    from analysis.report.pages.common import headline

    h = headline(default_study)
    v, cols = default_study.villagers, default_study.wave.design_columns
    df = v[cols["psu"]].nunique() - v[cols["strata"]].nunique()
    assert v[cols["strata"]].nunique() > 1 and h["degree_overall_df"] == df
    half = stats.t.ppf(0.975, df) * h["degree_overall_se"]
    assert h["degree_overall_lo"] == pytest.approx(h["degree_overall"] - half, rel=1e-9)
    assert h["degree_overall_hi"] == pytest.approx(h["degree_overall"] + half, rel=1e-9)


def test_the_seed_paper_s_contrast_and_the_synthetic_label_follow_what_wave_yml_says(default_study):
    """The Shanghai/Tibet ratio is the seed paper's own figure: printed on a wave of its survey,
    synthetic or not, never on another wave that happens to cover both provinces. The synthetic
    label follows ``synthetic``, whatever the wave reproduces."""
    from analysis.report.pages import intro
    from analysis.report.pages.common import headline
    from tests.conftest import with_spec

    other = with_spec(default_study, reproduces_seed=False)          # a synthetic wave of another survey
    real = with_spec(default_study, synthetic=False)                  # the seed's survey, real data
    assert "shanghai_over_tibet" not in headline(other) and "shanghai_over_tibet" in headline(real)
    for st, labelled in ((other, True), (real, False)):
        kf = intro.key_findings(st, _Fitted(), {}).splitlines()
        assert kf and all(line.startswith(f"- {intro.SYNTHETIC_LABEL} ") == labelled for line in kf), kf


def test_the_landing_page_cites_the_wave_s_own_sha256_and_a_wave_without_psus_no_count_of_villages(
        default_study, tmp_path, monkeypatch):
    """The SHA-256 the landing page cites is the wave's (wave.yml and its data files), the one of
    the appendix, not the study's (which also hashes the settings). A wave whose design names no
    PSU column does not record villages: the pages say so rather than "0 villages"."""
    import yaml

    from analysis.estimation.study import build_study
    from analysis.i18n import LANG_ENV
    from analysis.report.pages.common import headline
    from tests import wavegen

    h = headline(default_study)
    assert h["wave_sha12"] == default_study.wave.sha256[:12] != default_study.key[:12]
    assert h["villages_count"] == f"{default_study.villagers['village_id'].nunique()} villages"
    folder = wavegen.provinces(tmp_path / "no-psu", ["广西", "广东"])
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    del spec["design"]["psu"]
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    st = build_study(folder)
    assert st.wave.design_columns.get("psu") is None
    for language, said in (("en", "an unrecorded number of villages"), ("zh", "数目未记录的村")):
        monkeypatch.setenv(LANG_ENV, language)
        assert (headline(st)["n_villages"], headline(st)["villages_count"]) == (None, said)
    # nor do the survey page's tables of the sample by province and by region (not "0 villages")
    from analysis.report.pages.survey import composition, region_composition

    assert "villages" in composition(default_study) and "villages" in region_composition(default_study)
    by_province, by_region = composition(st), region_composition(st)
    assert "villages" not in by_province and "villages" not in by_region
    assert by_province["respondents"].sum() == by_region["respondents"].sum() == len(st.villagers)


def test_the_headline_s_shanghai_to_tibet_contrast_is_the_ratio_of_their_degrees(default_study):
    """The seed paper's contrast on a wave of its survey: Shanghai's degree over Tibet's (as the
    paper reports it), the two province degrees read from the design-based estimates."""
    from analysis.report.pages.common import headline

    d = default_study.degree(by="province_en")
    degree = dict(zip(d.domains, d.estimate))
    h = headline(default_study)
    assert degree["Shanghai"] > degree["Tibet"]
    assert h["shanghai_over_tibet"] == pytest.approx(degree["Shanghai"] / degree["Tibet"], rel=1e-12)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_problems_page_says_why_the_published_percentages_are_not_shown(default_study, monkeypatch,
                                                                            language):
    """Beside Table 1 the page shows the seed paper's percentages only on a wave that reproduces the
    seed survey, synthetic or not; otherwise it names the wave's year ("2021 年" in Chinese), says it
    is unknown, or, in the seed's own year, that the wave is another survey; and Table 1 holds the
    published column exactly when the figure draws it."""
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import problems
    from tests.conftest import with_spec

    monkeypatch.setenv(LANG_ENV, language)
    assert default_study.wave.spec.reproduces_seed
    real = with_spec(default_study, synthetic=False)
    for seed in (default_study, real):
        assert ("red ring" if language == "en" else "红色圆圈") in problems.published_comparison_text(seed)
    other, unknown, same = (with_spec(default_study, reproduces_seed=False, year=y)
                            for y in (2021, None, 2020))
    assert problems.published_comparison_text(other) == {
        "en": "The published percentages describe the 2020 survey; this wave is of 2021, so they are not "
              "shown beside its estimates.",
        "zh": "已发表的百分比描述的是 2020 年的调查；本轮数据属于 2021 年，因此不把它们与本轮估计并列显示。"}[language]
    assert ("is not known" if language == "en" else "年份未知") in problems.published_comparison_text(unknown)
    assert problems.published_comparison_text(same) == {
        "en": "The published percentages describe the seed study's own survey; this wave is another survey "
              "of 2020, so they are not shown beside its estimates.",
        "zh": "已发表的百分比描述的是种子研究本身的调查；本轮数据是 2020 年的另一项调查，因此不把它们与本轮估计"
              "并列显示。"}[language]
    assert ["published" in problems.table1(st) for st in (default_study, real, other, same)] == \
        [True, True, False, False]


def test_the_reproducibility_appendix_labels_its_rows_in_the_edition_s_language(default_study, monkeypatch):
    from analysis.i18n import LANG_ENV
    from analysis.report.pages import reproducibility

    en = reproducibility.tables(default_study)["commit"]
    assert en["item"].tolist() == ["commit", "work tree", "wave", "wave sha256"]
    # "unknown" in a copy of the project without git (the mutation scripts' copies)
    assert en["value"].iloc[1] in ("clean", "modified", "unknown")
    assert en["value"].iloc[3] == default_study.wave.sha256
    monkeypatch.setenv(LANG_ENV, "zh")
    zh = reproducibility.tables(default_study)["commit"]
    assert zh["item"].tolist() == ["提交", "工作树", "调查轮次", "调查轮次 sha256"]
    said = {"clean": "无改动", "modified": "有未提交的改动", "unknown": "未知"}
    assert zh["value"].iloc[1] == said[en["value"].iloc[1]]


def test_the_problems_figure_says_what_it_leaves_out_and_stands_in_when_nothing_is_left(default_study):
    """Table 1's figure draws the published shares; its caption counts the problems withheld and
    those the wave did not ask; with none left, a panel says why instead of a figure that fails."""
    from analysis.report.pages import problems

    t1 = problems.table1(default_study)
    shown, omitted, why = problems.figure_rows(t1)
    assert len(shown) == len(t1) and omitted == why == ""          # the default wave: every share drawn
    t = t1.copy()
    t.loc[t.index[:3], ["estimate", "se", "ci_low", "ci_high"]] = np.nan
    t.loc[t.index[:3], "suppressed"] = "fewer than 10 respondents"
    t.loc[t.index[3], ["estimate", "n"]] = [np.nan, 0]
    shown, omitted, why = problems.figure_rows(t)
    assert list(shown.index) == list(t.index[4:]) and why == ""
    assert omitted == ("Not drawn: 3 problems withheld (too few respondents or too unreliable); "
                       "1 problem not asked in this wave; the table below lists every problem.")
    t.loc[:, "estimate"] = np.nan
    t.loc[t.index[4:], "suppressed"] = "95 % CI 30 points wide or wider (NCHS)"
    shown, omitted, why = problems.figure_rows(t)
    assert shown.empty and omitted.startswith(f"Not drawn: {len(t) - 1} problems withheld")
    assert why.startswith("No problem's share can be drawn for this wave")


def test_a_problem_asked_but_answered_by_nobody_is_not_called_absent_from_the_wave(default_study):
    """An item the wave has without a single answer is said to be asked and answered by nobody, in
    Table 1's base and in its figure's caption; an item the wave lacks is "not in this wave"."""
    from analysis.report.pages import problems
    from tests.conftest import with_villagers

    v = default_study.villagers.copy()
    v["hp_far"] = np.nan                                   # asked, nobody answered
    v = v.drop(columns=["hp_expensive"])                   # not asked
    t1 = problems.table1(with_villagers(default_study, v))
    base = t1.set_index("item")["base"]
    assert base["hp_far"] == "in this wave, answered by nobody"
    assert base["hp_expensive"] == "not in this wave"
    omitted = problems.figure_rows(t1)[1]
    assert omitted == ("Not drawn: 1 problem not asked in this wave; 1 problem asked in this wave but "
                       "answered by nobody; the table below lists every problem.")


def test_a_wave_of_one_region_says_so_instead_of_a_one_row_table_by_region(default_study, tmp_path,
                                                                           monkeypatch):
    """The degree by region of a wave whose respondents all live in one region would repeat the
    wave's own degree in a one-row table: a sentence names the region instead (in the edition's
    language); a wave spanning regions keeps its tables."""
    from analysis import i18n
    from analysis.estimation.study import build_study
    from analysis.report.pages import index
    from tests import wavegen

    assert index.single_region_text(default_study, "region3") == index.single_region_text(default_study,
                                                                                          "region4") == ""
    one = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    assert index.single_region_text(one, "region3") == (
        "Every respondent of this wave lives in one region (three regions): west. Its degree by region "
        "is the wave's own degree, so no table is shown.")
    assert "(NBS four regions): west." in index.single_region_text(one, "region4")
    # two regions, one withheld: respondents still live in two, so the table (one row shown) stays
    from analysis.report.pages import common
    from tests.conftest import withhold_the_smallest

    two = build_study(wavegen.provinces(tmp_path / "two-regions", ["广西", "广东"]))
    assert len(withhold_the_smallest(monkeypatch, two, "region3")) == 2
    assert len(common.published(common.degree_table(two, "region3"))) == 1
    assert index.single_region_text(two, "region3") == ""
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert "（三大区域）：西部。" in index.single_region_text(one, "region3")


def test_the_headline_counts_the_respondents_with_a_score_and_names_each_region_s_degree(default_study):
    """``n_scored`` counts the respondents who have an overall score, not every row; the regional
    sentence puts each region's degree beside that region's name; the province table's region is
    the province's own (three regions, as its respondents carry)."""
    from analysis.report.pages import common

    h = common.headline(default_study)
    scored = int(default_study.scores["overall"].notna().sum())
    assert h["n_scored"] == scored < default_study.n
    parts = common.region_sentence(h).split(", ")
    assert parts == [f"{name} {h[f'degree_{r}']:.2f}"
                     for r, name in (("east", "east"), ("central", "centre"), ("west", "west"))]
    assert len({h["degree_east"], h["degree_central"], h["degree_west"]}) == 3
    t = common.province_degrees(default_study).set_index("province")
    own = default_study.villagers.groupby("province_en")["region3"].first()
    assert (t["region"] == own[t.index]).all()
    four = default_study.villagers.groupby("province_en")["region4"].first()
    assert (own != four).any()                   # the two schemes differ on this wave (Heilongjiang...)


def test_the_gap_sentence_is_east_minus_west(default_study):
    from analysis.report.pages import intro

    h = intro.numbers(default_study)
    gap = h["degree_east"] - h["degree_west"]
    assert h["gap_east_west"] == pytest.approx(gap) and gap > 0
    assert f"The east–west gap is {gap:.1f} points" in h["gap_sentence"]


def test_the_gap_is_not_printed_when_east_or_west_is_withheld(default_study, monkeypatch):
    """A policy that withholds the east (and every smaller region) withholds its degree from the
    regional sentence and the east–west gap from the prose: a gap would give the east's degree
    away beside the west's."""
    from analysis.publishing.disclosure import DisclosurePolicy
    from analysis.report.pages import common, intro

    n = default_study.villagers.groupby("region3").size()
    pol = DisclosurePolicy(min_cell=int(n["east"]) + 1)
    monkeypatch.setattr(common, "policy", lambda study: pol)
    h = intro.numbers(default_study)
    assert np.isnan(h["degree_east"]) and np.isfinite(h["degree_west"])
    assert h["n_regions_published"] == int((n > n["east"]).sum()) >= 1
    assert "gap_east_west" not in h and h["gap_sentence"] == ""
    assert "east" not in h["regions_sentence"]


def test_the_landing_sentence_counts_publishable_provinces_and_gives_each_end_its_own_degree(
        default_study, one_province_suppressed):
    """The landing page's province sentence: the count of publishable provinces (a suppressed one
    left out), the highest with its degree and the lowest with its own, from the province table."""
    from analysis.i18n import province
    from analysis.report.pages import common, intro

    shown = common.province_degrees(default_study).set_index("province")["estimate"]
    shown = shown.drop(one_province_suppressed)
    top, bottom = shown.idxmax(), shown.idxmin()
    h = intro.numbers(default_study)
    s = h["provinces_sentence"]
    assert s.startswith(f"Among the {len(shown)} provinces with enough respondents and villages to publish, ")
    assert (f"highest in {province(top)} ({shown[top]:.1f}) and lowest in {province(bottom)} "
            f"({shown[bottom]:.1f}), a difference of {shown[top] - shown[bottom]:.1f} points") in s
    # the difference's own SE (checked against its variance in another test), not the regions' gap's
    se = f"{h['top_minus_bottom_se']:.1f}"
    assert s.endswith(f"(standard error {se}).") and se != f"{h['gap_east_west_se']:.1f}"


def test_the_rank_paragraph_counts_the_ranked_provinces_only(default_study, one_province_suppressed):
    """The index page's rank paragraph says among how many provinces the ranks are: the
    publishable ones, not every province row of the table."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index

    rep = domain_replicates(default_study, reps=20, seed=1)
    t = index.province_table(default_study, rep)
    P = rep.shape[1]
    assert len(t) == P
    text = index.rank_paragraph(default_study, t)
    assert f"among the {P - 1} publishable provinces" in text and f"among the {P} " not in text


def test_the_imputation_table_heads_the_complete_case_and_the_pooled_estimates_each_by_its_name(monkeypatch):
    from analysis.estimation import suite
    from analysis.report.pages import determinants as det

    m = pd.DataFrame({"label": ["internet use"], "complete_case": [1.5], "estimate": [2.5], "se": [0.4],
                      "df": [19.0], "ci_low": [1.6], "ci_high": [3.4], "fmi": [0.2]})
    monkeypatch.setattr(suite, "multiple_imputation", lambda study: m)
    t = det.mice_table(None).iloc[0]
    shown = (t["complete cases"], t["imputed"], t["SE (imputed)"], t["missing information"])
    assert shown == (1.5, 2.5, 0.4, 0.2)


def test_the_determinants_page_quotes_the_wild_bootstrap_p_not_the_analytic_one():
    """The internet-use sentence gives the wild cluster bootstrap's p (at its resolution over the
    replicates), not the CR1 p of the same fit, which is smaller with few clusters."""
    from analysis.report.pages import determinants as det

    base = pd.DataFrame({"term": ["internet_use"], "estimate": [2.5], "se": [0.6], "p": [0.0004]})
    wild = pd.DataFrame({"term": ["internet_use"], "wild_p": [0.031]})
    wild.attrs["reps"] = 999
    r = SimpleNamespace(to_frame=lambda: base, tables={"wild": wild})
    out = det.model_stats(_Fitted(wls_region=r))
    assert (out["b_internet"], out["se_internet"]) == (2.5, 0.6)
    assert out["wild_p_internet_txt"] == "0.031"
    wild.loc[0, "wild_p"] = 0.0002                                # below 1/(999 + 1)
    assert det.model_stats(_Fitted(wls_region=r))["wild_p_internet_txt"] == "< 0.001"
    wild.attrs["reps"] = 199                                      # data/models.yml set otherwise
    assert det.model_stats(_Fitted(wls_region=r))["wild_p_internet_txt"] == "< 0.005"    # 1/(199 + 1)


def test_key_findings_keep_all_six_and_take_the_association_from_the_headline_model(default_study):
    """With every source present (a main model, the province spread, the problems, two official
    findings) the landing page lists six findings, the GDP range last; the association comes from
    ``wls_region`` when it is fitted, whatever other model is."""
    from analysis.report.pages import intro, provinces

    def fitted(label: str, p: float):  # type: ignore[no-untyped-def]
        frame = pd.DataFrame({"label": [label], "estimate": [2.0], "ci_low": [0.5], "ci_high": [3.5],
                              "p": [p]})
        return SimpleNamespace(to_frame=lambda: frame)

    models = _Fitted(wls_province=fitted("age", 1e-9), wls_region=fitted("internet use", 0.01))
    kf = intro.key_findings(default_study, models, provinces.stats(default_study)).splitlines()
    assert len(kf) == 6 and "GDP per head ranged" in kf[-1]
    line = next(i for i in kf if "<determinants>" in i)
    assert "**internet use**" in line and "**age**" not in line


def test_the_comparison_of_waves_is_by_the_three_regions_with_intervals_around_each_estimate(default_study):
    from analysis.report.pages import compare

    studies = [_comparison_study(w, y, default_study.degree) for w, y in (("a", 2018), ("b", 2020))]
    t = compare.table(studies)
    assert set(t["region"]) == {"all", *default_study.villagers["region3"].unique()}
    fig = compare.figure(studies)
    ax = fig.axes[0]
    lines = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    spans = sorted((seg[0][1], seg[1][1]) for c in lines for seg in c.get_segments())
    want = sorted((r.ci_low, r.ci_high) for r in t.itertuples())
    np.testing.assert_allclose(spans, want, rtol=1e-12)


def test_the_comparison_figure_draws_each_wave_s_degrees_above_its_own_year_s_tick(default_study):
    """Waves given out of year order, one ten points above the other: every interval bar stands
    at the tick of the wave whose table rows it draws, from its lower limit to its upper one."""
    from analysis.report.pages import compare

    def raised(by=None):  # type: ignore[no-untyped-def]
        e = default_study.degree(by=by).to_frame()
        e[["estimate", "ci_low", "ci_high"]] += 10
        e["ci_high"] += 3                       # an interval cut at one end is not symmetric
        return SimpleNamespace(to_frame=lambda: e)

    studies = [_comparison_study("late", 2024, raised),
               _comparison_study("early", 2018, default_study.degree)]
    t = compare.table(studies)
    ax = compare.figure(studies).axes[0]
    ticks = [lab.get_text().split("\n")[0] for lab in ax.get_xticklabels()]
    assert ticks == ["early", "late"]
    at = dict(zip(np.round(ax.get_xticks()).astype(int), ticks))       # where each label stands
    bars = [seg for c in ax.collections if c.__class__.__name__ == "LineCollection"
            for seg in c.get_segments()]
    assert len(bars) == len(t) == 8
    for seg in bars:
        wave = at[int(round(seg[0][0]))]
        rows = t[t["wave"] == wave]
        assert np.isclose(rows["ci_low"], seg[0][1], rtol=1e-12).any(), wave
        assert np.isclose(rows["ci_high"], seg[1][1], rtol=1e-12).any(), wave
        assert not np.isclose(t.loc[t["wave"] != wave, "ci_low"], seg[0][1], rtol=1e-9).any(), wave


def test_the_comparison_figure_offers_the_numbers_it_draws(default_study):
    """Beneath the comparison figure, as beneath every figure, its data: the published rows of the
    comparison table it draws."""
    from analysis.publishing.disclosure import published
    from analysis.report.pages import compare

    studies = [_comparison_study(w, y, default_study.degree) for w, y in (("b", 2020), ("a", 2018))]
    data = compare.figure(studies).ruralgov_data
    pd.testing.assert_frame_equal(data.reset_index(drop=True),
                                  published(compare.table(studies)).reset_index(drop=True))


def test_the_panel_of_waves_names_an_item_a_wave_lacks_instead_of_failing(default_study):
    """A compared wave without internet use: the panel models are not estimated and the page says
    which wave lacks which item (the comparison of degrees does not need it)."""
    from analysis.report.pages import compare
    from tests.conftest import with_villagers

    lacking = with_villagers(default_study, default_study.villagers.drop(columns=["internet_use"]))
    assert compare.panel_lacks([default_study]) == []
    pm = compare.panel_models([default_study, lacking])
    assert pm == {"lacks": ["2020-replica: internet_use"]}
    assert compare.panel_note(pm["lacks"]) == ("The panel models need internet_use, education, hh_income in "
                                               "every wave; not estimated, as 2020-replica: internet_use is "
                                               "missing.")


def test_the_panel_of_waves_of_other_provinces_is_not_estimated_and_the_page_says_why(default_study,
                                                                                       monkeypatch):
    """Two waves surveying different provinces share none to learn province effects from: the
    comparison page says so, with the counts, instead of failing the build."""
    from analysis.estimation import panel
    from analysis.report.pages import compare

    original = panel.survey_panel

    def disjoint(studies):  # type: ignore[no-untyped-def]
        p = original(studies[:1])
        other = p.rename(index=lambda x: x + " (b)", level="province")
        return pd.concat([p, other.rename(index={2020: 2022}, level="wave")]).sort_index()

    monkeypatch.setattr(panel, "survey_panel", disjoint)
    pm = compare.panel_models([default_study, default_study])
    assert pm == {"note": "The panel models need 5 or more provinces surveyed in two or more of the waves "
                          "(their changes between waves are what the fixed effects learn from); these waves "
                          "share 0: not estimated."}


def test_the_regional_pupils_per_teacher_are_each_region_s_pupils_over_its_teachers(default_study):
    """Each region's ratio in the figure is the teachers-weighted mean of its provinces' ratios
    (its pupils over its teachers), not a population-weighted one."""
    from analysis.report.pages import provinces

    d = provinces.services_figures(default_study)["fig_real_str"].ruralgov_data.set_index("year")
    p = provinces.panel(default_study)
    y = 2015
    q = p.xs(y, level="year").dropna(subset=["primary_student_teacher_ratio",
                                             "primary_fulltime_teachers_10k"])
    for region, g in q.groupby("region4"):
        want = np.average(g["primary_student_teacher_ratio"], weights=g["primary_fulltime_teachers_10k"])
        assert d.loc[y, region] == pytest.approx(want, rel=1e-12), region
        assert d.loc[y, region] != pytest.approx(np.average(g["primary_student_teacher_ratio"],
                                                            weights=g["resident_pop_10k"]), rel=1e-6)


@pytest.mark.parametrize("fig, col", [("fig_real_str", "primary_student_teacher_ratio"),
                                      ("fig_real_unemp", "urban_registered_unemployment_rate_pct")])
def test_the_regional_lines_leave_a_year_some_provinces_lack_as_a_gap(default_study, fig, col):
    """In 2006 a dozen provinces report no pupil–teacher ratio, and Tibet no unemployment rate: a
    region missing any of its provinces has no point that year (a mean over fewer provinces would
    move with the gap); a region with all of them has its point."""
    from analysis.report.pages import provinces

    d = provinces.services_figures(default_study)[fig].ruralgov_data.set_index("year")
    p = provinces.panel(default_study)
    q = p.xs(2006, level="year")
    lacking = set(q.loc[q[col].isna(), "region4"])
    assert lacking
    for region in lacking:
        assert 2006 not in d.index or np.isnan(d.loc[2006, region]), region
    for region in set(q["region4"]) - lacking:
        assert np.isfinite(d.loc[2006, region]), region


def test_the_regional_spending_lines_are_the_four_nbs_regions_and_the_theil_split_the_page_quotes(
        default_study):
    """The spending figure's lines are the NBS four regions, each its residents-weighted mean
    (by hand, in thousands of yuan); the Theil figure's between-region part is the one whose share
    the page quotes (three regions)."""
    from analysis.report.pages import provinces

    figs = provinces.figures_(default_study)
    d = figs["fig_real_regional"].ruralgov_data.set_index("year")
    assert set(d.columns) >= {"east", "central", "west", "northeast"}
    p = provinces.panel(default_study)
    q = p.xs(2015, level="year").dropna(subset=["fiscal_exp_per_capita_yuan"])
    for region, g in q.groupby("region4"):
        want = np.average(g["fiscal_exp_per_capita_yuan"], weights=g["resident_pop_10k"]) / 1000
        assert d.loc[2015, region] == pytest.approx(want, rel=1e-12), region
    th = figs["fig_real_theil"].ruralgov_data.set_index("year")
    st = provinces.stats(default_study)
    last = st["real_last"]
    share = 100 * th.loc[last, "between"] / th.loc[last, "total"]
    assert share == pytest.approx(st["theil_between_share_last"])


def test_a_province_on_few_design_df_carries_its_flag_to_its_profile(default_study):
    """A published province whose degree rests on fewer than 8 design df keeps its † on its
    profile: the status carries the flag, and the summary says to read it with care."""
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import common, profile

    t = common.province_degrees(default_study)
    flagged = t[(t["suppressed"] == "") & (t["flag"] != "")]
    assert len(flagged)
    row = flagged.iloc[0]
    code = resolve(row["province"]).adcode
    s = profile.survey_status(default_study, code)
    assert s["status"] == "published" and s["flag"] == row["flag"]
    text = profile.summary_sentence(default_study, code, pd.DataFrame())
    assert "† To be read with care" in text


def test_the_replica_s_facts_table_counts_villages_and_keeps_the_paper_s_facts_apart(default_study):
    """The survey page's facts table: the villages row counts distinct villages (the PSUs), not
    the respondents who carry a village code."""
    from analysis.report.pages import survey

    t = survey.facts_and_assumptions(default_study).set_index("topic")
    n = default_study.villagers["village_id"].nunique()
    assert n < default_study.n
    assert t.loc["villages", "the replica assumes"].startswith(f"{n} villages, the primary sampling units")
    # what the paper states is kept apart from what the replica assumes: the paper describes no
    # design, and the two provinces it names are not among those the generator chose
    assert t.loc["sample design", "the seed paper states"].startswith("not stated")
    assert "strata" in t.loc["sample design", "the replica assumes"]
    provinces = t.loc["provinces", "the replica assumes"]
    k = default_study.villagers["province_en"].nunique() - 2
    chosen = provinces.split("(", 1)[1].rstrip(")").split(", ")
    assert f"Shanghai and Tibet, and {k} chosen at random" in provinces and len(chosen) == k
    assert not {"Shanghai", "Tibet"} & set(chosen)


def test_a_glued_figure_links_its_own_data_under_its_key(monkeypatch):
    """The caption's CSV is the data of the figure glued (not of matplotlib's current figure, on a
    page that draws several before gluing them), named by its key without the fig_ prefix only."""
    import matplotlib.pyplot as plt

    from analysis.report import display

    glued = {}
    monkeypatch.setattr(display, "glue_markdown", glued.update)
    monkeypatch.setattr("myst_nb.glue", lambda *a, **k: None)
    first, later = plt.figure(), plt.figure()                      # the later one is current
    first.ruralgov_data = pd.DataFrame({"province": ["Fujian"], "degree": [61.5]})
    later.ruralgov_data = pd.DataFrame({"province": ["Gansu"], "degree": [40.2]})
    display.glue_figure("fig_index_map", first)
    plt.close(later)
    link = glued["fig_index_map_data"]
    assert 'download="figure-index-map.csv"' in link
    decoded = urllib.parse.unquote(link)
    assert "Fujian" in decoded and "Gansu" not in decoded


def test_a_glued_figure_is_rendered_at_twice_the_pixels_it_is_shown_at(monkeypatch):
    """The PNG a page embeds for a glued figure has twice the pixels of its display size (README:
    "PNGs at twice their display pixels"), sharp on a phone or zoomed: read from the PNG header
    the notebook's formatter writes, against the display size it declares."""
    import base64
    import struct

    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    from analysis.report import display

    glued = {}
    monkeypatch.setattr(display, "glue_markdown", lambda d: None)
    monkeypatch.setattr("myst_nb.glue", lambda key, fig, display=False: glued.update(fig=fig))
    shell = InteractiveShell.instance()
    try:
        fig = plt.figure(figsize=(4, 3), dpi=100)
        plt.plot([1, 2])
        display.glue_figure("fig_x", fig)
        data, meta = shell.display_formatter.format(glued["fig"])
    finally:
        InteractiveShell.clear_instance()
    png = data["image/png"]
    png = base64.b64decode(png) if isinstance(png, str) else png
    width, height = struct.unpack(">II", png[16:24])
    shown = meta["image/png"]                        # the display size, halved and rounded down
    assert width in (2 * shown["width"], 2 * shown["width"] + 1) and width > 600
    assert height in (2 * shown["height"], 2 * shown["height"] + 1)


def test_a_warning_s_row_is_written_as_a_row_number_not_a_count():
    """The survey page's warnings give a row past a thousand as the file's row number ("2125"), as a
    spreadsheet shows it, not as a count with a thousands separator; a whole-file warning, none."""
    from analysis.ingest.validate import Problem
    from analysis.report.pages.survey import warnings_table

    report = SimpleNamespace(warnings=[Problem("v.csv", 2125, "province", "山東", "simplified names", "m", "warning"),
                                       Problem("v.csv", None, "", "", "weights", "m", "warning")])
    t = warnings_table(SimpleNamespace(wave=SimpleNamespace(report=report)))
    assert t["row"].tolist() == ["2125", ""]


@pytest.mark.parametrize("n,said", [(0, "It passed without an error or a warning."),
                                    (1, "It passed without an error; one warning"),
                                    (2, "It passed without an error; 2 warnings")])
def test_the_survey_page_counts_the_warnings_validation_found(n, said):
    """No warning, one (said as one, not as none) or several."""
    from analysis.report.pages.survey import validation_sentence

    study = SimpleNamespace(wave=SimpleNamespace(report=SimpleNamespace(warnings=[object()] * n)))
    assert validation_sentence(study).startswith(said)


def test_a_figure_the_wave_can_give_is_glued_not_a_placeholder(monkeypatch):
    """glue_figure_or with no reason (an empty one, as the pages pass) glues the figure made; with a
    reason, a placeholder saying it."""
    import matplotlib.pyplot as plt

    from analysis.report import display

    glued = []
    monkeypatch.setattr(display, "glue_figure", lambda key, fig: glued.append(fig))
    drawn = plt.figure()
    display.glue_figure_or("fig_x", lambda: drawn, "")
    display.glue_figure_or("fig_y", lambda: drawn, "Not in this wave.")
    assert glued[0] is drawn and glued[1] is not drawn
    assert [t.get_text() for t in glued[1].axes[0].texts] == ["Not in this wave."]
    plt.close("all")


def test_a_real_wave_s_title_is_shown_as_text_on_every_page(default_study):
    """The notice atop each page of a real wave quotes its wave.yml title; "<" and "&" in it are
    text, escaped, never markup of the page."""
    from analysis.report import display
    from tests.conftest import with_spec

    real = with_spec(default_study, synthetic=False, title="Survey <pilot> & main")
    shown = display.notice(real).data
    assert "Survey &lt;pilot&gt; &amp; main" in shown and "<pilot>" not in shown


def test_province_tables_give_the_short_chinese_name_statistical_tables_use(default_study):
    """The province tables' Chinese column holds the short names (上海, 新疆), not the full ones of
    the administrative division (上海市, 新疆维吾尔自治区)."""
    from analysis.ingest.provinces import resolve
    from analysis.report.pages import common

    t = common.province_degrees(default_study)
    assert t["province_zh"].tolist() == [resolve(p).name_zh_short for p in t["province"]]
    assert {"上海", "西藏"} <= set(t["province_zh"]) and not t["province_zh"].str.endswith(("市", "省", "区")).any()


def test_the_panel_of_waves_holds_every_compared_wave(default_study, monkeypatch):
    """Three waves compared: the province × wave panel the models are fitted on holds all three, in
    year order, not the first two."""
    from analysis.estimation import panel
    from analysis.report.pages import compare
    from tests.conftest import with_spec

    seen = {}

    def spy(p):  # type: ignore[no-untyped-def]
        seen["panel"] = p
        return {"coefficients": pd.DataFrame({"model": [], "term": [], "n": []}), "absorbed": ()}

    monkeypatch.setattr(panel, "survey_panel_models", spy)
    studies = [with_spec(default_study, year=y) for y in (2030, 2020, 2024)]
    compare.panel_models(studies)
    assert seen["panel"].index.get_level_values("wave").unique().tolist() == [2020, 2024, 2030]


def test_a_field_whose_columns_are_all_blank_is_named_among_what_the_wave_lacks(default_study, monkeypatch):
    from analysis.report.pages.common import lacks
    from tests.conftest import with_villagers

    cb = default_study.wave.codebook
    health = [it.id for it in cb.indicators() if it.field == "health"]
    assert not any("health" in x for x in lacks(default_study))
    # one of its indicators blank: the field's sub-index is built from the others, so it is not lacked
    one = with_villagers(default_study, default_study.wave.villagers.assign(**{health[0]: np.nan}))
    assert lacks(one) == []
    blank = with_villagers(default_study, default_study.wave.villagers.assign(**{i: np.nan for i in health}))
    said = lacks(blank)
    zh, en = cb.fields["health"]
    assert len(said) == 1 and said[0].startswith(f"the {en}")                # the English name first
    monkeypatch.setenv("RURALGOV_LANG", "zh")                           # the Chinese edition: its name
    said = lacks(blank)
    assert len(said) == 1 and zh in said[0] and en not in said[0]


def test_mathjax_is_fetched_verified_and_unpacked_where_the_pages_load_it(tmp_path, monkeypatch):
    """A fresh checkout fetches the MathJax tarball once: its integrity is checked, the combined
    component lands at the bundle's root (not under es5/), its fonts and licence beside it, and
    nothing else; a tarball that does not match the recorded digest is refused."""
    import base64
    import hashlib
    import io
    import tarfile

    from analysis.report import assets

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("package/es5/tex-mml-chtml.js", "package/es5/output/chtml/fonts/woff-v2/MJX_Main.woff",
                     "package/LICENSE", "package/es5/tex-svg.js"):
            body = name.encode()
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    data = buf.getvalue()
    monkeypatch.setattr(assets, "MATHJAX_DIR", tmp_path / "mathjax")
    monkeypatch.setattr(assets.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(data))
    monkeypatch.setattr(assets, "MATHJAX_SHA512", base64.b64encode(hashlib.sha512(data).digest()).decode())
    assert assets.ensure_mathjax()
    root = tmp_path / "mathjax"
    got = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert got == ["LICENSE", "output/chtml/fonts/woff-v2/MJX_Main.woff", "tex-mml-chtml.js"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mathjax"]      # the unpacking folder renamed
    # a fetch cut short (here after the script, before the fonts) leaves nothing taken as present:
    # the next build fetches again and gets the whole bundle
    monkeypatch.setattr(assets, "MATHJAX_DIR", tmp_path / "cut")
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "LICENSE").write_text("left by an older cut", encoding="utf-8")
    extract = tarfile.TarFile.extractfile

    def cut(self, m):  # type: ignore[no-untyped-def]
        if "fonts" in str(getattr(m, "name", m)):
            raise OSError("connection lost")
        return extract(self, m)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", cut)
    with pytest.raises(OSError, match="connection lost"):
        assets.ensure_mathjax()
    monkeypatch.setattr(tarfile.TarFile, "extractfile", extract)
    assert not (tmp_path / "cut" / "tex-mml-chtml.js").exists()
    (tmp_path / "cut.partial" / "stale.js").write_text("of an earlier fetch", encoding="utf-8")
    (tmp_path / "cut" / "stray.js").write_text("of an older bundle", encoding="utf-8")
    assert assets.ensure_mathjax()                          # the half-unpacked folder is started afresh
    cut_root = tmp_path / "cut"
    assert sorted(str(p.relative_to(cut_root)) for p in cut_root.rglob("*") if p.is_file()) == got
    monkeypatch.setattr(assets, "MATHJAX_DIR", tmp_path / "again")
    monkeypatch.setattr(assets, "MATHJAX_SHA512", "not the digest")
    with pytest.raises(RuntimeError, match="integrity mismatch"):
        assets.ensure_mathjax()


def test_the_index_page_s_heat_map_titles_and_the_comparison_legend_are_in_the_chinese_edition(
        default_study, monkeypatch):
    """In the Chinese edition the two sub-index heat maps are titled in Chinese (their titles are in
    the message catalogue) and the comparison figure's legend names the nation and the regions in
    Chinese where a CJK font can draw them, in the series' order (all, central, east, west)."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.i18n import LANG_ENV
    from analysis.publishing import figures
    from analysis.report.pages import compare, index

    monkeypatch.setenv(LANG_ENV, "zh")
    t = index.province_table(default_study, domain_replicates(default_study, reps=20, seed=1))
    out = index.figures_(default_study, t)
    assert out["fig_index_fields"].axes[0].get_title(loc="left") == "各地区的领域分指数"
    assert out["fig_index_aspects"].axes[0].get_title(loc="left") == "各地区的方面分指数"
    fig = compare.figure([default_study])
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    want = ["全部", "中部", "东部", "西部"] if figures.cjk_font() else ["全部", "central", "east", "west"]
    assert legend == want


def test_the_sample_composition_lists_provinces_by_region_and_name_whatever_the_file_s_row_order(tmp_path):
    """survey.composition: the same rows in the same order (region, then province) for the default
    wave and for the same wave with its villager rows shuffled."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import survey
    from tests import wavegen

    folder = wavegen.replica_copy(tmp_path / "shuffled",
                                  villagers=lambda v: v.sample(frac=1.0, random_state=7))
    base = survey.composition(build_study(paths.DEFAULT_WAVE))
    other = survey.composition(build_study(folder))
    assert list(base["province"]) == list(other["province"])
    keys = list(zip(base["region"], base["province"]))
    assert keys == sorted(keys)
    pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-12)
