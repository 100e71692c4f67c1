"""The codebook's field names, a province's pinyin alias, the institution questionnaire of a wave, the
coefficient figure's shared terms, an --out folder holding a user's file beside an edition's build,
the tables archive's duplicates, the catalog's message order, the icons of one page only."""

from __future__ import annotations

import zipfile
from types import SimpleNamespace

import pandas as pd
import yaml

from analysis import paths
from analysis.publishing.tables import csv_link

# --- the codebook's field names ------------------------------------------------------------------------


def test_a_field_is_named_chinese_first_then_english_as_the_codebook_writes_them():
    """Codebook.fields maps a field to (Chinese, English) as data/codebook.yml gives zh and en, and the
    English label of its sub-index is the English name."""
    from analysis.estimation.frames import labels
    from analysis.ingest.codebook import load_codebook
    from analysis.settings import load_settings

    raw = yaml.safe_load(paths.CODEBOOK.read_text(encoding="utf-8"))["fields"]
    cb = load_codebook()
    assert cb.fields["education"] == ("公共教育", "public education")
    assert cb.fields == {k: (v["zh"], v["en"]) for k, v in raw.items()}
    lab = labels(SimpleNamespace(wave=SimpleNamespace(codebook=cb), settings=load_settings()))
    assert lab["health"].text("en") == "medical and health care (sub-index)"


# --- a province's pinyin alias -------------------------------------------------------------------------


def test_inner_mongolia_is_found_by_the_pinyin_of_its_short_name():
    """Neimenggu (pinyin of 内蒙古) names Inner Mongolia, GB/T 2260 code 150000; Xizang names Tibet."""
    from analysis.ingest.provinces import resolve, try_resolve

    p = resolve("Neimenggu")
    assert (p.adcode, p.name_en, p.name_zh_short) == (150000, "Inner Mongolia", "内蒙古")
    assert try_resolve("neimenggu") is not None and try_resolve("neimenggu").adcode == 150000
    assert resolve("Xizang").adcode == 540000


# --- the institution questionnaire of a wave -----------------------------------------------------------


def test_a_wave_s_institutions_are_the_rows_of_its_institution_file(make_wave, small_villagers,
                                                                     default_frames):
    """Wave.institutions is the institution questionnaire (three rows T01-T03 written), not the villagers."""
    from analysis.ingest.wave import load_wave

    inst = default_frames["institutions"].head(3)
    w = load_wave(make_wave(small_villagers, institutions=inst))
    got = w.institutions
    assert got is not None and len(got) == 3
    assert list(got["inst_id"]) == ["T01", "T02", "T03"]
    assert "resp_id" not in got.columns and len(w.villagers) == len(small_villagers)


# --- the coefficient figure's terms --------------------------------------------------------------------


class _Fit:
    def __init__(self, label: str, terms: list[str]) -> None:
        self.label = label
        self._terms = terms

    def to_frame(self) -> pd.DataFrame:
        k = len(self._terms)
        return pd.DataFrame({"term": self._terms, "label": [f"{t} label" for t in self._terms],
                             "estimate": [1.0] * k, "ci_low": [0.0] * k, "ci_high": [2.0] * k})


class _Models:
    def __init__(self, fits: dict[str, _Fit]) -> None:
        self.fits = fits

    def has(self, name: str) -> bool:
        return name in self.fits

    def __getitem__(self, name: str) -> _Fit:
        return self.fits[name]


def test_the_coefficient_figure_draws_only_the_terms_every_model_shares():
    """Model a has terms x and z, model b only x: the figure draws (and offers as data) x of each model."""
    import matplotlib.pyplot as plt

    from analysis.report.pages.determinants import coefficient_figure

    ms = _Models({"a": _Fit("Model A", ["x", "z"]), "b": _Fit("Model B", ["x"])})
    fig = coefficient_figure(ms, ["a", "b", "not fitted"], True)
    data = fig.ruralgov_data
    assert sorted(zip(data["model_label"], data["term"])) == [("Model A", "x"), ("Model B", "x")]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["x label"]
    plt.close(fig)


# --- an --out folder with a user's file beside an edition's build --------------------------------------


def test_an_out_folder_with_a_user_file_beside_a_chinese_build_is_refused(tmp_path):
    """A folder holding zh/ (a stamped build) may be replaced; with the user's notes.txt beside it, not."""
    from analysis.report.build import STAMP, check_out_dir

    out = tmp_path / "report"
    (out / "zh").mkdir(parents=True)
    (out / "zh" / STAMP).write_text("{}", encoding="utf-8")
    assert check_out_dir(out, []) is None
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    said = check_out_dir(out, [])
    assert said is not None and "is not empty and is not a previous ruralgov build" in said


# --- the tables archive --------------------------------------------------------------------------------


def test_a_table_a_page_offers_twice_is_archived_once_for_that_page(tmp_path):
    """a.html links table-1.csv twice, b.html once: tables.zip holds a/table-1.csv and b/table-1.csv once."""
    from analysis.report.build import tables_archive

    link = csv_link(pd.DataFrame({"x": [1, 2]}), "Table 1")
    assert 'download="table-1.csv"' in link
    (tmp_path / "a.html").write_text(f"<html>{link}<p>again</p>{link}</html>", encoding="utf-8")
    (tmp_path / "b.html").write_text(f"<html>{link}</html>", encoding="utf-8")
    assert tables_archive(tmp_path) == 2
    with zipfile.ZipFile(tmp_path / "tables.zip") as z:
        assert z.namelist() == ["a/table-1.csv", "b/table-1.csv"]


# --- the catalog's message order -----------------------------------------------------------------------


def test_package_messages_come_in_the_order_they_are_first_written():
    """The messages of the first module that marks any (modules in path order) lead the list, as written."""
    from babel.messages.extract import extract_from_file

    from analysis import i18n

    first: list[str] = []
    for f in sorted((paths.ROOT / "analysis").rglob("*.py")):
        first = [m for _ln, m, _c, _x in extract_from_file("python", str(f), keywords={"_": None, "N_": None})
                 if isinstance(m, str) and m]
        if first:
            break
    first = list(dict.fromkeys(first))
    assert len(first) >= 3
    got = i18n.package_messages()
    assert got[:len(first)] == first
    assert len(got) == len(set(got))


# --- the icons of one page only ------------------------------------------------------------------------


def test_an_icon_used_on_one_page_only_is_kept_in_the_subset(tmp_path):
    """a.html draws bars and download, b.html only bars: both icons are written to fa-icons.js."""
    from analysis.report import icons

    js = ('var p={bars:[448,512,[],"f0c9","M0 96Cz"],download:[512,512,[],"f019","M288 32Cz"],'
          'moon:[384,512,[],"f186","M223 0Cz"]};d("fas",p)')
    scripts = tmp_path / "_static" / "scripts"
    scripts.mkdir(parents=True)
    (scripts / "fontawesome.js").write_text(js, encoding="utf-8")
    tag = '<script src="_static/scripts/fontawesome.js"></script>'
    both = '<i class="fa-solid fa-bars"></i><i class="fa-solid fa-download"></i>'
    (tmp_path / "a.html").write_text(tag + both, encoding="utf-8")
    (tmp_path / "b.html").write_text(tag + '<i class="fa-solid fa-bars"></i>', encoding="utf-8")
    assert icons.subset_icons(tmp_path) == 2
    out = (scripts / "fa-icons.js").read_text(encoding="utf-8")
    assert '"download":[512,512,"M288 32Cz"]' in out and '"bars":[448,512,"M0 96Cz"]' in out
    assert "moon" not in out
