"""The report on a realistic new wave (tests/wavegen.py): it builds, says nothing false about
itself, publishes no small cell, and the SPSS and GBK-CSV deliveries of the same data give the
same pages."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.publishing.disclosure import MARK
from analysis.report.build import build_book
from tests import wavegen

pytestmark = pytest.mark.slow
SMALL = {"Ningxia": 6, "Tibet": 9, "Gansu": 8}
PAGES = ["intro", "survey", "index", "sensitivity", "problems", "determinants", "provinces", "methods"]


def _text(path: Path, nav: bool = True) -> str:
    t = path.read_text(encoding="utf-8")
    if not nav:
        t, n = re.subn(r'<footer class="prev-next-footer.*?</footer>', " ", t, flags=re.S)
        assert n == 1, path
    t = re.sub(r"<script.*?</script>|<style.*?</style>", " ", t, flags=re.S)
    main = t[t.find("<main"):t.find("</main>")]
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", main)))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("waves")
    out = {}
    # the PDF edition is tested on the default wave (tests/test_report.py); the GBK delivery is
    # compared with the SPSS one on the book's pages, so it is built without the profiles
    for form in ("sav", "gbk"):
        folder = wavegen.write(root / f"r2024-{form}", form)
        target = tmp_path_factory.mktemp("out") / form
        assert build_book(str(folder), target, pdf=False, profiles_enabled=form == "sav") == 0, form
        out[form] = target / "html"
    return out


def test_the_report_is_about_this_wave(built):
    v = wavegen.frames()["villagers"]
    text = _text(built["sav"] / "book" / "intro.html")
    assert "2024" in text and f"{len(v)} villager questionnaires" in text
    assert f"from {v['province'].nunique()} provinces" in text
    assert f", and {len(wavegen.frames()['institutions'])} township institution records" in text
    for page in PAGES:
        t = _text(built["sav"] / "book" / f"{page}.html")
        assert "Synthetic data" not in t and "synthetic replica" not in t.lower(), page
        assert "2020 survey" not in t or page in ("problems",), page
    assert not (built["sav"] / "book" / "reproduction.html").exists()     # not the seed's survey
    assert "Shanghai relative to Tibet" not in text
    assert "Key findings" in text and "Synthetic replica" not in text
    assert text.count("Real official statistics:") >= 1


def test_no_cell_below_min_cell_is_published(built):
    for page in PAGES:
        text = (built["sav"] / "book" / f"{page}.html").read_text(encoding="utf-8")
        for table in re.findall(r"<table.*?</table>", text, re.S):
            head = [htmllib.unescape(re.sub(r"<[^>]+>", "", h)).strip()
                    for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
            if "respondents" not in head:
                continue
            df = pd.read_html(__import__("io").StringIO(table))[0]
            df.columns = [c[-1] if isinstance(c, tuple) else c for c in df.columns]
            for _, row in df.iterrows():
                n = pd.to_numeric(str(row["respondents"]).replace(",", ""), errors="coerce")
                if pd.notna(n) and n < 10:
                    est = str(row.get("estimate", MARK))
                    assert est == MARK, (page, dict(row))
        if page == "provinces":             # official statistics of all 31 provinces: real, public data
            continue
        plain = _text(built["sav"] / "book" / f"{page}.html")
        # key findings from official statistics may name any province: real, public data
        plain = re.sub(r"Real official statistics:.*?More", " ", plain)
        for prov in SMALL:                  # a small province only ever appears beside the mark
            for m in re.finditer(prov, plain):
                window = plain[m.start(): m.start() + 80]
                assert MARK in window or "PSU" in window or page in ("survey",), (page, window)


def test_no_small_cell_in_the_downloadable_data(built):
    """The CSV embedded under every table follows the same rule: a row resting on fewer than
    min_cell respondents has no estimate, and says why."""
    import io
    from urllib.parse import unquote

    checked = 0
    for page in PAGES:
        text = (built["sav"] / "book" / f"{page}.html").read_text(encoding="utf-8")
        for link in re.findall(r'href="data:text/csv;charset=utf-8,([^"]+)"', text):
            df = pd.read_csv(io.StringIO(unquote(link).lstrip("\ufeff")))
            ncol = "n" if "n" in df else "respondents" if "respondents" in df else None
            if ncol is None or "estimate" not in df:
                continue
            small = pd.to_numeric(df[ncol], errors="coerce") < 10
            if not small.any():
                continue
            assert df.loc[small, "estimate"].isna().all(), (page, df[small])
            assert df.loc[small, "suppressed"].astype(str).str.len().gt(0).all(), page
            checked += int(small.sum())
    assert checked >= 3                          # the three small provinces, at least once


def test_spss_and_gbk_csv_deliveries_give_the_same_pages(built):
    def norm(t: str) -> str:
        t = re.sub(r"r2024-(sav|gbk)", "WAVE", t)
        t = re.sub(r"sha256 [0-9a-f]{12}|SHA-256 [0-9a-f]{12}", "SHA", t)
        return re.sub(r"villagers\.(sav|csv)|institutions\.(xlsx|csv)", "FILE", t)

    for page in ("intro", "index", "sensitivity", "problems", "determinants", "provinces"):
        # without the links to the previous and next pages: they follow the table of contents
        # (the GBK build has no profiles), not the data
        a = norm(_text(built["sav"] / "book" / f"{page}.html", nav=False))
        b = norm(_text(built["gbk"] / "book" / f"{page}.html", nav=False))
        assert a == b, page


def test_what_the_wave_lacks_or_breaks_is_said_not_crashed_on(built):
    det = _text(built["sav"] / "book" / "determinants.html")
    assert "4 rows with hh_income ≤ 0 left out" in det
    survey = _text(built["sav"] / "book" / "survey.html")
    assert "single PSU" not in survey or "survey.lonely.psu" in survey
    prov = _text(built["sav"] / "book" / "provinces.html")
    assert "In 2024" in prov                        # official statistics of the wave's year


def test_province_profiles_follow_the_wave(built):
    """Every mainland province has a profile; a small province shows the suppression and no
    survey table; a province absent from the wave shows official statistics only."""
    from analysis.ingest.provinces import all_provinces, resolve
    from analysis.report.profiles import slug

    html = built["sav"]
    for p in all_provinces():
        assert (html / "profiles" / f"{slug(p.name_en)}.html").exists(), p.name_en
    for name in SMALL:
        t = _text(html / "profiles" / f"{slug(resolve(name).name_en)}.html")
        assert "not published" in t and "Field and aspect sub-indices" not in t, name
        assert "Latest official values" in t
    absent = _text(html / "profiles" / "shanghai.html")
    assert "no respondents in Shanghai" in absent and "Field and aspect sub-indices" not in absent
    present = _text(html / "profiles" / "hebei.html")
    assert "Field and aspect sub-indices" in present and "modernization degree in Hebei is" in present
