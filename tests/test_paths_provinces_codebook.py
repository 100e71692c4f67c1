"""Paths, the province table and the codebook."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.ingest.codebook import ITEM_TYPES, load_codebook
from analysis.ingest.provinces import UnknownProvince, all_provinces, resolve, table


def test_paths_do_not_depend_on_the_working_directory(tmp_path):
    # The child imports the package from the tree this test imported it from (a second checkout,
    # not only the installed one), and is started in an empty folder.
    env = {**os.environ, "PYTHONPATH": str(Path(paths.__file__).resolve().parents[1])}
    code = "from analysis import paths; print(paths.CODEBOOK.exists(), paths.ROOT)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out[0] == "True"
    assert out[1] == str(paths.ROOT)


@pytest.mark.parametrize("root", ["", "."])
def test_a_root_override_is_an_absolute_folder_and_an_empty_one_is_no_override(tmp_path, root):
    """RURALGOV_ROOT="." names the working folder as an absolute path (a kernel that later runs
    in book/ still finds data/ there); an empty RURALGOV_ROOT is unset: the package's checkout."""
    tree = Path(paths.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tree), "RURALGOV_ROOT": root}
    code = "import os; from analysis import paths; os.chdir('/'); print(paths.ROOT, paths.DATA.is_absolute())"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         check=True, env=env).stdout.split()
    assert out == [str(tmp_path.resolve() if root else tree), "True"]


def test_an_empty_wave_variable_means_the_default_wave_not_the_current_folder(monkeypatch):
    monkeypatch.setenv(paths.WAVE_ENV, "")
    assert paths.current_wave() == paths.DEFAULT_WAVE
    monkeypatch.setenv(paths.WAVE_ENV, "other")
    assert paths.current_wave() == "other"
    monkeypatch.delenv(paths.WAVE_ENV)
    assert paths.current_wave() == paths.DEFAULT_WAVE


@pytest.mark.parametrize("values", [None, {}, []])
def test_a_coded_item_without_codes_is_refused_when_the_codebook_is_built(values):
    """A categorical item whose value set is missing or empty (``values: {}``) has no valid code:
    every answer would be refused, so the codebook itself is refused, naming the item."""
    import copy

    from analysis.ingest.codebook import CodebookError, _build
    from analysis.settings import load_settings

    raw = copy.deepcopy(load_settings().codebook)
    entry = next(e for e in raw["questionnaires"]["villagers"]["items"] if e["id"] == "sex")
    if values is None:
        entry.pop("values", None)
    else:
        entry["values"] = values
    with pytest.raises(CodebookError, match=r"villagers\.sex: a categorical item needs 'values'$"):
        _build(raw, "sha")


def test_31_provinces_with_both_region_schemes():
    t = table()
    assert len(t) == 31 and t["adcode"].is_unique
    assert t["region3"].value_counts().to_dict() == {"west": 12, "east": 11, "central": 8}
    assert t["region4"].value_counts().to_dict() == {"west": 12, "east": 10, "central": 6, "northeast": 3}


@pytest.mark.parametrize("alias", ["上海", "上海市", "Shanghai", "shanghai ", "31", "310000", 310000, 310000.0])
def test_shanghai_aliases(alias):
    assert resolve(alias).adcode == 310000


@pytest.mark.parametrize("alias", ["西藏", "西藏自治区", "Xizang", "Tibet", "tibet autonomous region", "54"])
def test_tibet_aliases(alias):
    assert resolve(alias).name_en == "Tibet"


def test_shanxi_and_shaanxi_are_distinct():
    assert resolve("Shanxi").adcode == 140000
    assert resolve("Shaanxi").adcode == 610000
    assert resolve("陕西").adcode == 610000


def test_every_province_resolves_by_each_of_its_names():
    for p in all_provinces():
        for name in (p.adcode, p.code2, p.name_zh_full, p.name_zh_short, p.name_en):
            assert resolve(name) == p


@pytest.mark.parametrize("name,code", [
    ("３１", 310000), ("３１００００", 310000), ("上海　市", 310000),        # full-width digits, space
    ("寧夏回族自治區", 640000), ("廣西壯族自治區", 450000), ("新疆維吾爾自治區", 650000),  # traditional
    ("宁夏回族自治区", 640000), ("Ningxia Hui", 640000), ("Guangxi Zhuang", 450000),
    ("Xinjiang Uyghur", 650000), ("Xinjiang Uighur", 650000), ("Xinjiang Uighur Autonomous Region", 650000),
    ("XINJIANG UIGHUR AUTONOMOUS REGION", 650000),
    ("Anhui", 340000), ("安徽省", 340000),
])
def test_a_province_written_as_a_keyboard_or_a_form_writes_it_is_resolved(name, code):
    assert resolve(name).adcode == code


@pytest.mark.parametrize("name", ["AN", "an", "Hui", "Zhuang", "Uighur", "自治区"])
def test_an_ethnic_group_or_a_fragment_is_no_province(name):
    """A group's name is a suffix only of an autonomous region's name: alone, or what is left of
    Anhui without "hui" ("AN", as a stray "not applicable" is written), it names no province."""
    with pytest.raises(UnknownProvince):
        resolve(name)


def test_unknown_province_lists_closest_matches():
    with pytest.raises(UnknownProvince, match=r"Shangai.*closest: Shanghai"):
        resolve("Shangai")
    with pytest.raises(UnknownProvince, match=r"'上海x'.*closest: 上海"):       # in Chinese, Chinese names
        resolve("上海x")


def test_codebook_items_are_complete_and_typed():
    cb = load_codebook()
    for q in ("villagers", "institutions"):
        for it in cb.items(q):
            assert it.type in ITEM_TYPES
            assert it.text_zh and it.text_en, it.id
            if it.type in ("likert5", "binary", "multi", "categorical"):
                assert it.values, it.id


def test_codebook_entries_are_read_with_their_direction_range_and_missing_codes():
    """An item the codebook declares reverse-coded, with a range and its own missing codes, is
    read as declared (the index reverses it as lo + hi - x; validation keeps it in its range); a
    reversed field × aspect template makes each field's item reversed."""
    import copy

    from analysis.ingest.codebook import _build
    from analysis.settings import load_settings

    raw = copy.deepcopy(load_settings().codebook)
    items = raw["questionnaires"]["villagers"]["items"]
    coded = next(e for e in items if e.get("values") and e.get("direction", 1) == 1)
    coded["direction"] = -1
    ranged = next(e for e in items if e.get("range"))
    ranged["range"], ranged["missing"] = [2, 7.5], [-8, 999]
    template = raw["field_item_templates"][1]                 # a field × aspect item, reversed in every field
    template["direction"] = -1
    cb = _build(raw, "0" * 64)
    got = {it.id: it for it in cb.questionnaires["villagers"]}
    assert got[coded["id"]].direction == -1
    assert got[ranged["id"]].range == (2.0, 7.5) and got[ranged["id"]].missing == (-8.0, 999.0)
    expanded = {f"{p}_{template['suffix']}" for p in raw["field_prefixes"].values()}
    assert len(expanded) == 5 and all(got[i].direction == -1 for i in expanded)
    assert all(it.direction == 1 for it in got.values() if it.id != coded["id"] and it.id not in expanded)


def test_codebook_has_a_field_by_aspect_grid_of_indicators():
    cb = load_codebook()
    ind = cb.indicators()
    assert {(i.field, i.aspect) for i in ind} == {(f, a) for f in cb.fields for a in cb.aspects}


def test_codebook_covers_every_published_survey_figure():
    cb = load_codebook()
    spec = yaml.safe_load((paths.REFERENCE / "reproduction.yml").read_text(encoding="utf-8"))
    for f in spec["figures"]:
        q = f.get("questionnaire", "villagers")
        for key in ("item", "numerator", "denominator"):
            if isinstance(f.get(key), str):
                assert f[key] in cb.ids(q), f
    # and every field has satisfaction, availability and accessibility items
    for prefix in ("edu", "hlt", "ss", "et", "cs"):
        for suffix in ("sat", "avail", "access"):
            assert f"{prefix}_{suffix}" in cb.ids("villagers")


def test_no_alias_names_two_items():
    cb = load_codebook()
    for q in cb.questionnaires:
        seen: dict[str, str] = {}
        for it in cb.items(q):
            for a in {it.id, *it.aliases}:
                key = a.strip().lower()
                assert seen.setdefault(key, it.id) == it.id, (q, a, seen[key], it.id)


# GB/T 2260 codes of the provinces whose short name has a traditional-character spelling, typed
# from the standard (not from the package's table): the spelling a Hong Kong or Taiwan keyboard
# writes must land on the same code as the simplified one
TRADITIONAL_CODES = {"內蒙古": 150000, "遼寧": 210000, "黑龍江": 230000, "江蘇": 320000, "山東": 370000,
                     "廣東": 440000, "廣西": 450000, "重慶": 500000, "貴州": 520000, "雲南": 530000,
                     "陝西": 610000, "甘肅": 620000, "寧夏": 640000}


def test_traditional_spellings_resolve_to_the_province_of_their_gb_t_2260_code():
    from analysis.ingest.provinces import is_traditional

    for name, code in TRADITIONAL_CODES.items():
        assert resolve(name).adcode == code and resolve(name + "省").adcode == code, name
        assert is_traditional(name)
    # the near-namesakes stay apart: 山西 (Shanxi) and 陕西/陝西 (Shaanxi), 广东 and 广西
    assert (resolve("山西").adcode, resolve("陕西").adcode, resolve("陝西").adcode) == (140000, 610000, 610000)
    assert not is_traditional("陕西") and not is_traditional("山西")
    # as a cell holds them: full names, spaces, full-width forms
    assert is_traditional("陝西省") and is_traditional(" 廣東 ") and is_traditional("寧夏回族自治區")


def test_each_province_carries_its_three_belt_and_its_nbs_region():
    """The three belts put Liaoning in the east and Jilin and Heilongjiang in the centre; the NBS
    four regions put all three in the northeast (the other provinces share their region)."""
    from analysis.ingest.provinces import all_provinces

    got = {p.name_en: (p.region3, p.region4) for p in all_provinces()}
    assert got["Liaoning"] == ("east", "northeast")
    assert got["Jilin"] == got["Heilongjiang"] == ("central", "northeast")
    assert got["Guangdong"] == ("east", "east") and got["Henan"] == ("central", "central")
    assert got["Sichuan"] == ("west", "west") and len(got) == 31


def test_chinese_headers_resolve():
    cb = load_codebook()
    assert cb.resolve_header("villagers", "省份") == "province"
    assert cb.resolve_header("villagers", " 年龄（周岁） ") == "age"
    # half-width brackets, and spaces pasted from a spreadsheet (ideographic, no-break)
    assert cb.resolve_header("villagers", "年龄(周岁)") == "age"
    assert cb.resolve_header("villagers", "年龄\u3000（周岁）") == "age"
    assert cb.resolve_header("villagers", "年龄\u00a0(周岁)") == "age"
    assert cb.resolve_header("villagers", "公共教育满意度") == "edu_sat"
    assert cb.resolve_header("villagers", "nonsense") is None


def test_each_field_s_questions_are_written_with_its_name_in_each_language():
    """The field × aspect items are made from templates: each question names its field in the
    question's own language (education's organisation item: 本村公共教育服务…, "public education"
    in English), and a file headed by the Chinese question text is read as that item."""
    from analysis.settings import load_settings

    raw = load_settings().codebook
    cb = load_codebook()
    for fid, prefix in raw["field_prefixes"].items():
        zh, en = raw["fields"][fid]["zh"], raw["fields"][fid]["en"]
        it = cb.item("villagers", f"{prefix}_org")
        assert it.text_zh.startswith(f"本村{zh}服务") and en not in it.text_zh, it.text_zh
        assert en in it.text_en.lower() and zh not in it.text_en, it.text_en
        assert cb.resolve_header("villagers", it.text_zh) == it.id


def test_an_item_s_label_is_its_question_in_the_edition_s_language(monkeypatch):
    from analysis import i18n

    it = load_codebook().item("villagers", "edu_sat")
    assert it.text_en != it.text_zh
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert it.label == it.text_en
    monkeypatch.setenv(i18n.LANG_ENV, "zh")
    assert it.label == it.text_zh


def test_a_question_text_two_items_share_names_neither_and_an_id_or_alias_names_one():
    """服务态度差 is the text of a health item and of a training item: it names both, so it
    resolves to neither (the reader then refuses the column) while each item's id and alias
    still name that item alone."""
    cb = load_codebook()
    assert cb.header_items("villagers", "服务态度差") == ("hp_attitude", "etp_attitude")
    assert cb.resolve_header("villagers", " 服务态度差 ") is None
    assert cb.header_items("villagers", "医疗服务态度差") == ("hp_attitude",)
    assert cb.resolve_header("villagers", "ETP_attitude") == "etp_attitude"
    assert cb.header_items("villagers", "nonsense") == ()
    # every other question text, as questionnaire software heads its export, names its item
    for q in cb.questionnaires:
        shared = Counter(it.text_zh for it in cb.items(q))
        for it in cb.items(q):
            if shared[it.text_zh] == 1:
                assert cb.resolve_header(q, it.text_zh) == it.id, (q, it.text_zh)
    assert sum(n > 1 for n in Counter(it.text_zh for it in cb.items("villagers")).values()) == 2


def test_a_wave_given_by_a_relative_path_is_its_absolute_folder(tmp_path, monkeypatch):
    """Pages run in their own folder and caches are keyed by the folder: ``waves/../waves/w``
    given from one place is the same absolute folder as ``waves/w`` given from another."""
    (tmp_path / "waves" / "w").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    a = paths.wave_dir("waves/../waves/w")
    monkeypatch.chdir(tmp_path / "waves")
    b = paths.wave_dir("w")
    assert a == b == (tmp_path / "waves" / "w").resolve() and a.is_absolute()
    assert paths.wave_dir("2020-replica-not-here") == paths.WAVES / "2020-replica-not-here"


def test_a_wave_id_is_the_embedded_wave_though_the_working_folder_holds_a_folder_of_that_name(
        tmp_path, monkeypatch):
    """``2020-replica`` names the wave of data/waves/ from any folder, also one holding a folder
    of that name (which ``./2020-replica`` names); a bare name no wave has is still a folder here."""
    (tmp_path / paths.DEFAULT_WAVE).mkdir()
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    assert paths.wave_dir(paths.DEFAULT_WAVE) == paths.WAVES / paths.DEFAULT_WAVE
    assert paths.wave_dir(f"./{paths.DEFAULT_WAVE}") == (tmp_path / paths.DEFAULT_WAVE).resolve()
    assert paths.wave_dir("mine") == (tmp_path / "mine").resolve()
