"""Settings are read once, checked on load, and a typo names the file, the key, the value, the
allowed values and the closest match; no module but the settings loader opens a YAML file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.settings import SettingsError, load_settings, parse_yaml, read_yaml, validate
from analysis.settings.schemas import IndexSettings, ModelsSettings, WaveSettings


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RURALGOV_ROOT": str(root)}
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True)


TYPOS = [
    ("data/models.yml", "    se: design\n", "    se: desing\n",
     "data/models.yml: models.svy_region.se: 'desing' is not one of hc1, cr1, design (did you mean 'design'?)"),
    ("data/index.yml", "normalisation: minmax", "normalisation: min-max",
     "data/index.yml: normalisation: 'min-max' is not one of minmax, zscore, rank, target (did you mean 'minmax'?)"),
    ("data/codebook.yml", "{id: age, type: count,", "{id: age, type: cuont,",
     "data/codebook.yml: questionnaires.villagers.items.age.type: 'cuont' is not one of"),
    ("data/reference/reproduction.yml", "statistic: count_share, questionnaire: institutions, item: ep_teachers",
     "statistic: count_shar, questionnaire: institutions, item: ep_teachers",
     "figures.table_1_problems.education.teachers_lacking_english_music.statistic: 'count_shar' is not one of"),
]


@pytest.mark.parametrize("file,old,new,message", TYPOS, ids=[t[0] for t in TYPOS])
def test_a_typo_in_each_settings_file_names_file_key_value_and_closest_match(scratch_root, file, old, new, message):
    p = scratch_root / file
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    for cmd in (["index"], ["models", "--model", "wls_region"], ["validate"]):
        res = _cli(scratch_root, *cmd)
        assert res.returncode == 2, (cmd, res.stdout, res.stderr)
        assert message in " ".join(res.stderr.split()), res.stderr
        assert "Traceback" not in res.stderr


def test_a_choice_of_numbers_names_the_numbers_allowed():
    """An item's direction is 1 or -1: a 2 is refused with both values named (pydantic writes
    numbers unquoted, text quoted)."""
    from analysis.settings.schemas import CodebookFile

    raw = parse_yaml((paths.DATA / "codebook.yml").read_text(encoding="utf-8"), "data/codebook.yml")
    raw["questionnaires"]["villagers"]["items"][1]["direction"] = 2
    with pytest.raises(SettingsError) as e:
        validate(CodebookFile, raw, "data/codebook.yml")
    assert "direction: 2 is not one of 1, -1" in str(e.value)


def test_an_unknown_key_gives_the_allowed_keys_and_the_closest():
    raw = parse_yaml((paths.DATA / "models.yml").read_text(encoding="utf-8"), "data/models.yml")
    raw["models"][1]["clster"] = raw["models"][1].pop("cluster")
    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, raw, "data/models.yml")
    assert "models.wls_province.clster: unknown key 'clster'" in str(e.value)
    assert "(did you mean 'cluster'?)" in str(e.value)


@pytest.mark.parametrize("value, problems", [
    (1.5, [("questionnaires.villagers.sheet", "1.5: input should be a valid string, or input should be a valid "
                                               "integer, got a number with a fractional part")]),
    ([1], [("questionnaires.villagers.sheet", "[1]: input should be a valid string, or input should be a valid "
                                               "integer")]),
])
def test_a_value_refused_by_each_type_a_key_allows_is_one_problem_at_the_key_s_path(value, problems):
    """``sheet: str | int`` refuses 1.5 twice inside pydantic (as ``sheet.str`` and ``sheet.int``):
    the reader gets one problem, at a key that is in the file."""
    raw = read_yaml(paths.WAVES / "2020-replica" / "wave.yml")
    raw["questionnaires"]["villagers"]["sheet"] = value
    with pytest.raises(SettingsError) as e:
        validate(WaveSettings, raw, "wave.yml")
    assert [(p.key, p.message) for p in e.value.problems] == problems


@pytest.mark.parametrize("flag", ["required", "exclusive", "ordered"])
@pytest.mark.parametrize("value", ["no", "false", 0])
def test_a_codebook_flag_is_true_or_false_as_yaml_writes_them(flag, value):
    """The codebook is used as plain data once checked: a quoted "no" taken for false by the check
    would read as true when the codebook is built (``bool("no")``), so it is refused."""
    from analysis.settings.schemas import CodebookFile

    raw = read_yaml(paths.CODEBOOK)
    entry = next(e for e in raw["questionnaires"]["villagers"]["items"] if e["id"] == "fpc")
    entry[flag] = value
    with pytest.raises(SettingsError) as e:
        validate(CodebookFile, raw, "data/codebook.yml")
    assert [(p.key, p.message) for p in e.value.problems] == [
        (f"questionnaires.villagers.items.fpc.{flag}", f"{value!r}: input should be a valid boolean")]
    entry[flag] = False
    validate(CodebookFile, raw, "data/codebook.yml")


def test_a_mapping_of_labels_is_checked_for_what_it_holds_not_refused_as_not_a_name():
    """``values`` is a value set's name or a mapping of labels: a mapping with a bad label is
    told what is wrong inside it, not also that it is not a string, and no key path holds a
    type's name."""
    from analysis.settings.schemas import CodebookFile

    raw = read_yaml(paths.CODEBOOK)
    entry = next(e for e in raw["questionnaires"]["villagers"]["items"] if e["id"] == "sex")
    entry["values"] = {1: {"en": 3}}
    with pytest.raises(SettingsError) as e:
        validate(CodebookFile, raw, "data/codebook.yml")
    assert sorted((p.key, p.message) for p in e.value.problems) == [
        ("questionnaires.villagers.items.sex.values[1].en", "3: input should be a valid string"),
        ("questionnaires.villagers.items.sex.values[1].zh", "required key is missing")]
    entry["values"] = 5
    with pytest.raises(SettingsError) as e:
        validate(CodebookFile, raw, "data/codebook.yml")
    assert [(p.key, p.message) for p in e.value.problems] == [
        ("questionnaires.villagers.items.sex.values",
         "5: input should be a valid string, or input should be a valid dictionary")]


@pytest.mark.parametrize("se", ["cr1", "hc1"])
def test_an_ordered_logit_asking_for_robust_ses_is_refused_not_given_model_based_ones(se):
    """The ordered logit knows model-based and design-based SEs only: a cluster-robust or HC1
    request is refused by name rather than answered with model-based SEs labelled as asked."""
    raw = parse_yaml((paths.DATA / "models.yml").read_text(encoding="utf-8"), "data/models.yml")
    m = next(m for m in raw["models"] if m["family"] == "ologit")
    m.update({"se": se, **({"cluster": "village_id"} if se == "cr1" else {})})
    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, raw, "data/models.yml")
    assert "an ordered logit is model-based, or design-based with se: design" in str(e.value)


def test_a_yaml_file_saved_in_gbk_is_refused_not_read_with_replacement_characters(tmp_path):
    """Its Chinese text would otherwise become U+FFFD and match no header or name."""
    from analysis.settings.loader import read_yaml

    p = tmp_path / "wave.yml"
    p.write_bytes("title: 乡村调查\n".encode("gbk"))
    with pytest.raises(SettingsError,
                       match=r"wave\.yml: not UTF-8 text \(.* at byte 7\); save the file as UTF-8"):
        read_yaml(p)
    p.write_text("title: 乡村调查\n", encoding="utf-8")
    assert read_yaml(p) == {"title": "乡村调查"}


def test_an_expert_weight_for_a_field_the_codebook_lacks_is_refused():
    """A misspelt field (healthcare) would otherwise leave health at the default weight 1; the
    AHP order is checked apart (here it still lists the codebook's fields)."""
    import dataclasses

    from analysis.settings import _cross_checks

    s = load_settings()
    fields = dict(s.index.expert.fields)
    bad = s.index.model_copy(update={"expert": s.index.expert.model_copy(
        update={"fields": {**{f: w for f, w in fields.items() if f != "health"}, "healthcare": 3.0}})})
    assert set(bad.ahp.order) == set(s.codebook["fields"]) and "health" in s.codebook["fields"]
    with pytest.raises(SettingsError, match=r"expert\.fields\.healthcare: unknown field; fields: "):
        _cross_checks(dataclasses.replace(s, index=bad))
    _cross_checks(s)                                   # the project's own settings pass


def test_each_settings_file_is_hashed_whole():
    """The hashes recorded in the manifest and keying the caches are those of every byte (the
    codebook is far longer than a first block of 4 KiB)."""
    import hashlib

    sha = load_settings().sha256
    assert paths.CODEBOOK.stat().st_size > 1 << 12 and len(sha) >= 4
    for name, digest in sha.items():
        assert digest == hashlib.sha256((paths.ROOT / name).read_bytes()).hexdigest(), name


def test_duplicate_keys_are_errors_with_their_lines():
    with pytest.raises(SettingsError, match=r"line 3\).*duplicate key 'design' \(first on line 1\)"):
        parse_yaml("design: {weight: w, strata: province}\nid: x\ndesign: {weight: w}\n", "wave.yml")


def test_a_list_or_mapping_as_a_key_is_a_settings_error_with_its_line():
    """YAML allows ``? [a, b]`` as a key; no setting is named so, and it must not end in a traceback."""
    with pytest.raises(SettingsError,
                       match=r"line 2\).*a key must be a name or a number, not list \['a', 'b'\]"):
        parse_yaml("id: x\n? [a, b]\n: 1\n", "wave.yml")
    with pytest.raises(SettingsError, match=r"line 1\).*not dict"):
        parse_yaml("? {a: 1}\n: 1\n", "wave.yml")


def test_a_key_overriding_a_merged_one_is_no_duplicate_but_its_own_repeat_is():
    """YAML's merge key: ``wild: {<<: *base, reps: 199}`` overrides the merged reps (as PyYAML's safe
    loader reads it); a key the mapping itself repeats is still refused, with its lines."""
    text = "base: &b {reps: 999, weights: webb}\nwild: {<<: *b, reps: 199}\n"
    assert parse_yaml(text, "data/models.yml") == yaml.safe_load(text)
    assert parse_yaml(text, "m.yml")["wild"] == {"reps": 199, "weights": "webb"}
    with pytest.raises(SettingsError, match=r"line 5\).*duplicate key 'reps' \(first on line 4\)"):
        parse_yaml("base: &b {reps: 999}\nwild:\n  <<: *b\n  reps: 1\n  reps: 2\n", "m.yml")


@pytest.mark.parametrize("raw,fragment", [
    ({"coverage": 1.5}, "coverage: 1.5: input should be less than or equal to 1"),
    ({"weighting": "entropie"}, "(did you mean 'entropy'?)"),
    ({"uncertainty": {"draws": 5}}, "uncertainty.draws: 5: input should be greater than or equal to 14"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, "x"], [1, 1]]}}, "fractions such as 1/2"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, 2], [0.5]]}}, "the matrix must be 2 × 2"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, 2, 3], [0.5, 1, 2]]}}, "the matrix must be 2 × 2"),
    ({"ahp": {"order": ["a", "b", "c"], "matrix": [[1, 2], [0.5, 1]]}}, "the matrix must be 3 × 3"),
    ({"ahp": {"matrix": [[1, 2], [0.5, 1]]}}, "one row and column per field in 'order'"),   # no order
    # 0.333 for 1/3 is no reciprocal (a fraction is): the two entries named, row and column from 1
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, 3], [0.333, 1]]}},
     "the matrix must be reciprocal (a_ji = 1 / a_ij, a_ii = 1): row, column 1, 2 and 2, 1 are 3 and 0.333"),
    ({"ahp": {"order": ["a", "b", "c"], "matrix": [[1, 2, 3], [0.5, 1, 4], ["1/3", 0.2, 1]]}},
     "row, column 2, 3 and 3, 2 are 4 and 0.2"),
    # a field twice: the matrix's check passed on 6 rows while the index weighed the first 5
    ({"ahp": {"order": ["a", "b", "a"], "matrix": [[1, 2, 1], [0.5, 1, 0.5], [1, 2, 1]]}},
     "ahp: 'order' must list each field once: 'a' is listed more than once"),
    ({"ahp": {"order": ["a", "b"], "matrix": [[1, "1/0"], [0, 1]]}}, "fractions such as 1/2"),
    ({"min_cel": 3}, "unknown key 'min_cel'"),
    ({"expert": {"fields": {"health": 0.0, "education": 2}}},
     "weights must be positive and finite: {'health': 0.0}"),
    ({"expert": {"indicators": {"hp_far": -1}}}, "weights must be positive and finite: {'hp_far': -1.0}"),
    # an infinite weight would leave every other field at 0 / inf: the index empty, without a word
    ({"expert": {"fields": {"education": float("inf"), "health": 1}}},
     "weights must be positive and finite: {'education': inf}"),
    ({"expert": {"indicators": {"hp_far": float("nan")}}},
     "weights must be positive and finite: {'hp_far': nan}"),
])
def test_index_settings_are_checked(raw, fragment):
    with pytest.raises(SettingsError) as e:
        validate(IndexSettings, raw, "data/index.yml")
    assert fragment in str(e.value)


@pytest.mark.parametrize("derived,fragment", [
    ({"label": "x", "expr": "age / 10", "transform": "log", "of": "hh_income"},
     "give either 'expr' or 'transform'"),
    ({"label": "x"}, "give either 'expr' or 'transform'"),
    ({"label": "x", "transform": "log"}, "a transform needs 'of'"),
    ({"label": "x", "transform": "log", "of": ""}, "a transform needs 'of'"),     # empty: no column
])
def test_a_derived_variable_is_an_expression_or_a_transform_of_an_item_never_both(derived, fragment):
    path = paths.ROOT / "data" / "models.yml"

    def models_with(x: dict) -> dict:
        raw = parse_yaml(path.read_text(encoding="utf-8"), "data/models.yml")
        raw["derived"]["x"] = x
        return raw

    with pytest.raises(SettingsError) as e:
        validate(ModelsSettings, models_with(derived), "data/models.yml")
    assert fragment in str(e.value)
    ok = validate(ModelsSettings, models_with({"label": "x", "transform": "log", "of": "hh_income"}),
                  "data/models.yml")
    assert ok.derived["x"].nonpositive == "error"             # a value ≤ 0 stops, unless told to drop it


def test_two_models_of_one_name_are_refused_naming_it():
    """``--model NAME`` and every page name a model: a second of the same name would be shadowed."""
    raw = parse_yaml((paths.ROOT / "data" / "models.yml").read_text(encoding="utf-8"), "data/models.yml")
    first = raw["models"][0]
    with pytest.raises(SettingsError, match=f"model names must be unique; repeated: {first['name']}"):
        validate(ModelsSettings, {**raw, "models": [*raw["models"], dict(first)]}, "data/models.yml")
    assert validate(ModelsSettings, raw, "data/models.yml").models[0].name == first["name"]


@pytest.mark.parametrize("change,fragment", [
    ({"stratum": "province"}, "design.stratum: unknown key 'stratum'"),
    ({"header_row": 0}, "header_row: 0: input should be greater than or equal to 1"),
    ({"min_cell": -5}, "min_cell: -5: input should be greater than or equal to 3"),
    ({"min_cell": "ten"}, "min_cell: 'ten': input should be a valid integer"),
    ({"missing_codes": -8}, "missing_codes: -8: must be a list of codes"),
    ({"encoding": 936}, "encoding: 936: input should be a valid string"),
    ({"villager": True}, "questionnaires: unknown questionnaire 'villager'"),
    ({"min_cel": 10}, "unknown key 'min_cel'"),
])
def test_wave_settings_are_checked(change, fragment):
    raw = {"id": "w", "questionnaires": {"villagers": {"file": "v.csv"}},
           "design": {"weight": "weight", "strata": "province", "psu": "village_id"}}
    if "stratum" in change:
        raw["design"]["stratum"] = raw["design"].pop("strata")
    elif "header_row" in change or "encoding" in change:
        raw["questionnaires"]["villagers"].update(change)
    elif "villager" in change:
        raw["questionnaires"] = {"villager": {"file": "v.csv"}}
    else:
        raw.update(change)
    with pytest.raises(SettingsError) as e:
        validate(WaveSettings, raw, "wave.yml", context={"questionnaires": ("villagers", "institutions")})
    assert fragment in " ".join(str(e.value).split()), str(e.value)


def test_settings_load_once_and_are_frozen():
    a, b = load_settings(), load_settings()
    assert a is b
    with pytest.raises(Exception):
        a.index.coverage = 0.5  # type: ignore[misc]


def test_no_module_but_the_settings_loader_opens_a_yaml_file():
    pkg = paths.ROOT / "analysis"
    allowed = {pkg / "settings" / "loader.py"}
    offenders = [str(p.relative_to(paths.ROOT)) for p in pkg.rglob("*.py")
                 if p not in allowed and re.search(r"^\s*(import yaml|from yaml)", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_every_option_set_lives_in_one_place():
    """The index, the sensitivity analysis and the robustness checks take their alternatives
    from analysis.settings.options, not from lists of their own."""
    from analysis.estimation import index, sensitivity
    from analysis.settings import options

    assert index.NORMALISATIONS is options.NORMALISATIONS and index.WEIGHTINGS is options.WEIGHTINGS
    assert sensitivity.NORMS is options.NORMALISATIONS and sensitivity.AGGREGATIONS is options.AGGREGATIONS
    src = (paths.ROOT / "analysis/estimation/suite.py").read_text(encoding="utf-8")
    assert '"zscore"' not in src.split("ROBUSTNESS_LABELS")[0]


def test_the_command_line_s_defaults_are_the_package_s():
    """A default the command line repeats (it does not import the modules that set them, to start
    fast) is the package's: the replica's seed and size, and the disclosure threshold of the
    streamed degrees, which is wave.yml's and the disclosure policy's."""
    import inspect

    from analysis import cli, replica
    from analysis.publishing.disclosure import DisclosurePolicy

    made = inspect.signature(cli.replica).parameters
    assert (made["seed"].default.default, made["n"].default.default) == (replica.DEFAULT_SEED,
                                                                          replica.N_VILLAGERS)
    streamed = inspect.signature(cli.stream).parameters["min_cell"].default.default
    assert streamed == DisclosurePolicy().min_cell == WaveSettings.model_fields["min_cell"].default


def test_declared_dependencies_are_the_imported_ones():
    """pyproject.toml declares every third-party package the package imports, and nothing unused."""
    import tomllib

    deps = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    declared = {re.split(r"[<>=\[ ]", d)[0].lower().replace("_", "-") for d in deps}
    import_names = {"yaml": "pyyaml", "pandera": "pandera", "great_tables": "great-tables", "myst_nb": "myst-nb",
                    "IPython": "ipykernel", "distributed": "dask", "sphinx": "sphinx", "jupyter_cache": "jupyter-cache"}
    found = set()
    for p in (paths.ROOT / "analysis").rglob("*.py"):
        for m in re.finditer(r"^\s*(?:from ([A-Za-z_]\w*)[\w.]* import |import ([A-Za-z_]\w*))",
                             p.read_text(encoding="utf-8"), re.M):
            found.add(m.group(1) or m.group(2))
    stdlib = set(sys.stdlib_module_names) | {"analysis", "__future__"}
    third = {import_names.get(n, n.lower().replace("_", "-")) for n in found - stdlib}
    assert third <= declared, third - declared
    # used without an import statement: readers pandas calls (openpyxl, pyreadstat, pyarrow,
    # tabulate), the jupyter-book command and the book's toolchain that _config.yml names (jieba:
    # Sphinx's Chinese search index)
    unused = declared - third - {"tabulate", "openpyxl", "pyreadstat", "pyarrow", "jupyter-book", "myst-parser",
                                 "sphinx", "jupyter-cache",
                                 "docutils", "sphinxcontrib-bibtex", "sphinx-book-theme", "pydata-sphinx-theme",
                                 "nbclient", "jupytext", "seaborn", "matplotlib", "ipykernel", "statsmodels",
                                 "linearmodels", "jieba"}
    assert unused == set(), unused


def test_the_readme_s_wave_yml_reference_is_the_schema_s():
    """The README lists every key of wave.yml and every province spelling as the schema and the
    provinces table give them (refreshed by `python -m analysis.report.pages.rerun`)."""
    from analysis.report.pages.rerun import readme_sections
    from analysis.settings.schemas import DesignColumns, QuestionnaireSource, WaveSettings

    text = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_sections(text) == text
    for model, prefix in ((WaveSettings, ""), (QuestionnaireSource, "questionnaires.<name>."), (DesignColumns, "design.")):
        for key in model.model_fields:
            assert f"| `{prefix}{key}` |" in text, key
    assert "| 540000 |" in text and "Tibet" in text


def test_the_rerun_page_s_references_are_in_the_edition_s_language(monkeypatch):
    """The Chinese rerun page gives every key's type, default and meaning and the provinces'
    headers and regions in Chinese (the keys, types, codes and names stay as written); the
    README keeps the English copy."""
    import re

    from analysis.report.pages.rerun import SCHEMAS, descriptions, provinces_markdown, wave_yml_reference

    en = wave_yml_reference()
    assert all(d in en for d in descriptions())
    monkeypatch.setenv("RURALGOV_LANG", "zh")
    zh = wave_yml_reference()
    table = zh.split("```yaml")[0]
    assert not [d for d in descriptions() if d in table]
    words = re.sub(r"`+[^`]*`+|\b(str|int|float|bool|Any|true|UTF-8|BOM|GB18030|CSV|XLSX|R)\b", "", table)
    assert not re.search(r"[A-Za-z]{3,}", words), re.findall(r"[^|]*[A-Za-z]{3,}[^|]*", words)
    assert table.count("\n| `") == sum(len(m.model_fields) for m, _p in SCHEMAS)
    assert "必填" in table and "（可选）" in table and "示例" in zh
    prov = provinces_markdown()
    assert "| 540000 |" in prov and "Tibet" in prov and "西部" in prov and "region" not in prov
    assert "东北" in prov and "northeast" not in prov          # the NBS's four regions in Chinese too
    items = wave_yml_reference("list").split("```yaml")[0]              # the book's page: one key an item
    assert items.count("\n- `") + items.startswith("- `") == sum(len(m.model_fields) for m, _p in SCHEMAS)
    words = re.sub(r"`+[^`]*`+|\b(str|int|float|bool|Any|true|UTF-8|BOM|GB18030|CSV|XLSX|R)\b", "", items)
    assert not re.search(r"[A-Za-z]{3,}", words), re.findall(r"[^\n]*[A-Za-z]{3,}[^\n]*", words)
    assert "- `id` — " in items and "必填" in items and "默认" in items
    monkeypatch.setenv("RURALGOV_LANG", "en")
    items = wave_yml_reference("list")
    assert "- `id` — str, required: " in items and "- `design.lonely_psu` — `adjust` | `remove`" in items
    assert all(d in items for d in descriptions()) and "|---|" not in items and "default —" not in items


def test_an_index_settings_file_of_comments_only_gives_the_default_construction(tmp_path, monkeypatch):
    """data/index.yml emptied to its comments is no construction given: the defaults (min-max,
    equal weights, arithmetic mean), not "input should be a valid dictionary"."""
    copy = tmp_path / "index.yml"
    copy.write_text("# every choice left at its default\n", encoding="utf-8")
    monkeypatch.setattr(paths, "INDEX_CONFIG", copy)
    index = load_settings().index
    assert index == IndexSettings()
    assert (index.normalisation, index.weighting, index.aggregation) == ("minmax", "equal", "arithmetic")


def test_yaml_is_written_in_the_order_given_and_a_list_item_without_a_name_is_located_by_position():
    """The build's _toc.yml and _config.yml keep the order they are given in (root first); a
    problem inside a list item that has no name, key or id is located as ``list[2].key``."""
    from analysis.settings.loader import _pretty_loc, dump_yaml

    assert dump_yaml({"root": "index", "format": "jb-book", "parts": [{"z": 1, "a": 2}]}).splitlines() == [
        "root: index", "format: jb-book", "parts:", "- z: 1", "  a: 2"]
    raw = {"models": [{"name": "a"}, {"name": "b", "family": "y"}, {"family": "x"}]}
    assert _pretty_loc(("models", 2, "family"), raw) == "models[2].family"
    assert _pretty_loc(("models", 1, "family"), raw) == "models.b.family"


@pytest.mark.parametrize("sheet, kept", [(0, 0), (2, 2), ("Data", "Data")])
def test_a_sheet_is_named_or_counted_from_0_the_first_sheet_included(sheet, kept):
    raw = read_yaml(paths.WAVES / "2020-replica" / "wave.yml")
    raw["questionnaires"]["villagers"]["sheet"] = sheet
    assert validate(WaveSettings, raw, "wave.yml").questionnaires["villagers"].sheet == kept


def test_a_settings_file_edited_in_place_is_read_again(tmp_path, monkeypatch):
    """The settings are kept while their files are unchanged: an edit of the same length (0.65 to
    0.75, design to hc1 + spaces) to data/index.yml or data/models.yml is read on the next load."""
    import shutil

    for attr in ("CODEBOOK", "INDEX_CONFIG", "MODELS_CONFIG", "PUBLISHED_FIGURES"):
        copy = tmp_path / getattr(paths, attr).name
        shutil.copy(getattr(paths, attr), copy)
        monkeypatch.setattr(paths, attr, copy)
    (tmp_path / "reproduction").mkdir()
    shutil.copy(paths.REFERENCE / "reproduction.yml", tmp_path / "reproduction" / "reproduction.yml")
    monkeypatch.setattr(paths, "REFERENCE", tmp_path / "reproduction")

    def edit(p: Path, old: str, new: str) -> None:
        text = p.read_text(encoding="utf-8")
        assert len(old) == len(new) and old in text
        st = p.stat()
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))   # later, whatever the clock's grain
        assert p.stat().st_size == st.st_size

    first = load_settings()
    assert first.index.coverage == 0.65 and first.models.get("svy_region").se_kind == "design"
    edit(paths.INDEX_CONFIG, "coverage: 0.65", "coverage: 0.75")
    assert load_settings().index.coverage == 0.75
    edit(paths.MODELS_CONFIG, "    se: design\n", "    se: hc1   \n")
    assert load_settings().models.get("svy_region").se_kind == "hc1"
    assert load_settings().published_value("modernization_degree.overall") == 50.96
    edit(paths.PUBLISHED_FIGURES, "overall: {value: 50.96,", "overall: {value: 52.96,")  # reproduce's target
    assert load_settings().published_value("modernization_degree.overall") == 52.96


@pytest.mark.parametrize("seed", [0, 1, 2**31])
def test_any_non_negative_seed_is_a_seed(seed):
    """Seed 0 is a seed like any other (numpy takes it): the bound is inclusive."""
    raw = parse_yaml(paths.INDEX_CONFIG.read_text(encoding="utf-8"), "data/index.yml")
    raw["uncertainty"].update(seed=seed, bootstrap_seed=seed)
    u = validate(IndexSettings, raw, "data/index.yml").uncertainty
    assert (u.seed, u.bootstrap_seed) == (seed, seed)


def test_an_inconsistent_ahp_matrix_is_refused_whatever_the_weighting():
    """The sensitivity analysis draws the AHP weighting whenever a matrix is given: an
    inconsistent one is refused though the index is weighted equally (it surfaced later, there)."""
    import dataclasses

    from analysis.settings import _cross_checks

    s = load_settings()
    n = len(s.index.ahp.order)
    bad_matrix = tuple(tuple(1.0 if i == j else (9.0 if (j - i) % n in (1, 2) else 1 / 9) for j in range(n))
                       for i in range(n))
    for weighting in ("equal", "ahp"):
        bad = s.index.model_copy(update={"weighting": weighting, "ahp": s.index.ahp.model_copy(
            update={"matrix": bad_matrix})})
        with pytest.raises(SettingsError, match=r"ahp\.matrix: the comparisons are inconsistent"):
            _cross_checks(dataclasses.replace(s, index=bad))


def test_an_expert_weight_for_no_indicator_is_refused_without_field_weights():
    """``expert: {indicators: {edu_orgg: 3}}`` alone (no field weights): the misspelt id is refused,
    not left unused."""
    import dataclasses

    from analysis.settings import _cross_checks

    s = load_settings()
    bad = s.index.model_copy(update={"weighting": "expert", "expert": s.index.expert.model_copy(
        update={"fields": {}, "indicators": {"edu_orgg": 3.0}})})
    with pytest.raises(SettingsError, match=r"expert\.indicators\.edu_orgg: not an indicator of the index's "
                                            r"questionnaire \(villagers\)"):
        _cross_checks(dataclasses.replace(s, index=bad))


@pytest.mark.parametrize("wrong", ["short", "misspelt"])
def test_an_ahp_order_that_is_not_the_codebook_s_fields_is_refused_in_index_yml(wrong):
    """The AHP matrix weighs every field of the codebook: an order of fewer would leave one out,
    and one with a misspelt field is refused though it counts right."""
    import dataclasses

    from analysis.settings import _cross_checks

    s = load_settings()
    fields = tuple(s.codebook["fields"])
    order = fields[:-1] if wrong == "short" else (*fields[:-1], fields[-1] + "s")
    bad = s.index.model_copy(update={"ahp": s.index.ahp.model_copy(update={"order": order})})
    with pytest.raises(SettingsError, match=r"ahp\.order: must list the fields") as e:
        _cross_checks(dataclasses.replace(s, index=bad))
    assert e.value.file == "data/index.yml"


def test_a_target_must_name_an_indicator_and_lie_on_its_scale():
    """index.yml's targets: each names an indicator of the index and lies above the item's lowest
    code and at most its highest (a target at the lowest code made every distance to it a division
    by zero: infinite scores). Every broken target is named, with its file and key; a target on the
    scale passes."""
    import dataclasses

    from analysis.ingest.codebook import load_codebook
    from analysis.settings import _cross_checks

    s = load_settings()
    a, b = load_codebook().indicators(s.index.questionnaire)[:2]
    lo, hi = min(a.values), max(a.values)
    targets = {a.id: float(lo), b.id: float(max(b.values) + 1), "no_such_item": 4.0}
    with pytest.raises(SettingsError) as e:
        _cross_checks(dataclasses.replace(s, index=s.index.model_copy(update={"targets": targets})))
    said = {p.key: p.message for p in e.value.problems}
    assert set(said) == {f"targets.{a.id}", f"targets.{b.id}", "targets.no_such_item"}
    assert said[f"targets.{a.id}"] == (f"target {lo:g} is off the item's scale: it must lie above its lowest "
                                       f"code {lo} and at most its highest, {hi}")
    assert said["targets.no_such_item"] == "not an indicator of the index's questionnaire (villagers)"
    assert e.value.file == "data/index.yml"
    _cross_checks(dataclasses.replace(s, index=s.index.model_copy(update={"targets": {a.id: float(hi)}})))


def test_the_problems_of_every_broken_settings_file_are_reported_together(scratch_root):
    """A typo in data/index.yml and another in data/models.yml: one run names both (file, key and
    value), with the exit code of a settings error, so a user fixes them in one pass."""
    for file, old, new, _ in TYPOS[:2]:
        p = scratch_root / file
        p.write_text(p.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    res = _cli(scratch_root, "validate")
    said = " ".join(res.stderr.split())
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert TYPOS[0][3] in said and TYPOS[1][3] in said, said


def test_every_broken_rule_of_a_settings_file_is_reported_at_once():
    with pytest.raises(SettingsError) as e:
        validate(IndexSettings, {"coverage": 1.5, "min_cel": 3, "uncertainty": {"draws": 5}},
                 "data/index.yml")
    assert len(e.value.problems) == 3
    assert {p.file for p in e.value.problems} == {"data/index.yml"}


def test_a_figure_to_reproduce_must_name_a_published_value_at_every_level():
    """``modernization_degree.eastt``: its section exists, the figure does not."""
    import dataclasses

    from analysis.settings import _cross_checks

    s = load_settings()
    fig = s.reproduction.figures[0]
    assert fig.key.startswith("modernization_degree.")
    typo = fig.model_copy(update={"key": "modernization_degree.eastt"})
    bad = s.reproduction.model_copy(update={"figures": (*s.reproduction.figures, typo)})
    with pytest.raises(SettingsError, match=r"figures\.modernization_degree\.eastt: no such figure") as e:
        _cross_checks(dataclasses.replace(s, reproduction=bad))
    assert e.value.file == "data/reference/reproduction.yml"        # where the key must be fixed


def test_a_wave_s_questionnaire_the_codebook_lacks_is_refused_with_the_closest_name(tmp_path):
    from analysis.settings import load_wave_settings

    (tmp_path / "wave.yml").write_text("id: w\nquestionnaires:\n  villager: {file: v.csv}\n"
                                       "design: {weight: weight, strata: province, psu: village_id}\n",
                                       encoding="utf-8")
    with pytest.raises(SettingsError,
                       match=r"unknown questionnaire 'villager'; known: villagers, institutions \(did you mean "
                             r"'villagers'") as e:
        load_wave_settings(tmp_path, ("villagers", "institutions"))
    assert {p.file for p in e.value.problems} == {str(tmp_path / "wave.yml")}     # the file, not its folder


def test_a_yaml_syntax_error_names_the_line_of_the_problem_not_where_its_block_began():
    """An unclosed list opened on line 2: the parser stops on line 3, where it finds a key."""
    with pytest.raises(SettingsError, match=r"x\.yml \(line 3\): not valid YAML: expected ',' or ']'"):
        parse_yaml("a: 1\nb: [1, 2\nc: 3\nd: 4\n", "x.yml")              # the problem, not its context


def test_an_unknown_key_inside_a_named_entry_gives_the_allowed_keys_and_the_closest():
    """Entries keyed by a name (a wave's questionnaires, the derived variables of the models):
    a misspelt key in one is told the keys of that entry."""
    raw = {"id": "w", "questionnaires": {"villagers": {"file": "v.csv", "delimitr": ";"}},
           "design": {"weight": "weight", "strata": "province", "psu": "village_id"}}
    with pytest.raises(SettingsError) as e:
        validate(WaveSettings, raw, "wave.yml")
    said = " ".join(str(e.value).split())
    assert "questionnaires.villagers.delimitr: unknown key 'delimitr'" in said
    assert "did you mean 'delimiter'" in said


def _one_model(spec: dict):  # type: ignore[no-untyped-def]
    """The one model of a models.yml that declares ``spec`` (named m, explaining the overall score)."""
    return validate(ModelsSettings, {"models": [{"name": "m", "outcome": "overall", **spec}]},
                    "data/models.yml").models[0]


@pytest.mark.parametrize("spec,fragment", [
    ({"family": "wls", "weights": "weight", "se": "cr1"}, "se: cr1 needs 'cluster'"),
    ({"family": "wls", "weights": "weight", "wild": {}}, "a wild cluster bootstrap needs 'cluster'"),
    ({"family": "mixedlm"}, "a mixedlm model needs 'group'"),
    ({"family": "oaxaca", "groups": ["a", "b"]}, "an oaxaca model needs 'group'"),
    ({"family": "oaxaca", "group": "sex"}, "an oaxaca model needs 'groups'"),
    ({"family": "oaxaca", "group": "region3", "groups": ["east", "east"]},
     "an oaxaca model compares two different groups: 'groups' names 'east' twice"),
    ({"family": "oaxaca", "group": "sex", "groups": [1, "1"]}, "'groups' names '1' twice"),   # as written
    ({"family": "mixedlm", "group": "province", "se": "hc1"}, "'se' does not apply to a mixedlm model"),
    ({"family": "oaxaca", "group": "sex", "groups": ["1", "2"], "se": "hc1"},
     "'se' does not apply to an oaxaca model"),
    ({"family": "ologit", "se": "hc1"}, "an ordered logit is model-based, or design-based"),
    # fixed effects an ordered logit or a decomposition would leave out without a word
    ({"family": "ologit", "fixed_effects": ["region3"]}, "'fixed_effects' does not apply to an ologit model"),
    ({"family": "oaxaca", "group": "sex", "groups": ["1", "2"], "fixed_effects": ["province_en"]},
     "'fixed_effects' does not apply to an oaxaca model"),
    # a bootstrap only linear models run, clusters no SE of these families uses: recorded, never used
    ({"family": "logit", "cluster": "province", "wild": {"seed": 7}},
     "a wild cluster bootstrap is run for linear models (ols, wls), not for a logit model"),
    ({"family": "ologit", "cluster": "province", "wild": {}}, "not for an ologit model"),
    ({"family": "ologit", "cluster": "province"}, "'cluster' does not apply to an ologit model"),
    ({"family": "mixedlm", "group": "province", "cluster": "province"},
     "'cluster' does not apply to a mixedlm model: its standard errors are not clustered (a multilevel"),
    ({"family": "oaxaca", "group": "sex", "groups": ["1", "2"], "cluster": "province"},
     "'cluster' does not apply to an oaxaca model"),
    ({"family": "wls", "se": "design"}, "design-based standard errors need 'weights'"),
    ({"family": "mixedlm", "group": "province", "weights": "weight"}, "the multilevel model is unweighted"),
    ({"family": "ols", "weights": "weight"}, "an ols model is unweighted: use family wls"),
    # a word close to a family (difflib's similarity 0.77, under 0.8) still gets its suggestion
    ({"family": 3}, "models.m.family: 3 is not one of ols, wls, mixedlm, ologit, logit, oaxaca"),   # not text
    ({"family": "logistic"},
     "'logistic' is not one of ols, wls, mixedlm, ologit, logit, oaxaca (did you mean 'logit'?)"),
])
def test_each_family_rule_of_a_model_is_checked(spec, fragment):
    with pytest.raises(SettingsError) as e:
        _one_model(spec)
    assert "data/models.yml" in str(e.value) and fragment in str(e.value)


@pytest.mark.parametrize("spec,se_kind", [
    ({"family": "ols", "cluster": "province"}, "cr1"),                 # a clustered ols: CR1, unweighted
    ({"family": "ols"}, "hc1"),
    ({"family": "wls", "weights": "weight", "cluster": "province", "wild": {}}, "cr1"),
    ({"family": "wls", "weights": "weight", "se": "design"}, "design"),
    ({"family": "ologit", "weights": "weight", "se": "design"}, "design"),
    ({"family": "ologit"}, "model"),
    ({"family": "mixedlm", "group": "province", "fixed_effects": ["region3"]}, "hc1"),
    ({"family": "logit", "fixed_effects": ["region3"], "cluster": "province"}, "cr1"),
    ({"family": "oaxaca", "group": "sex", "groups": ["a", "b"], "weights": "weight"}, "hc1"),
])
def test_a_model_that_keeps_the_family_rules_is_accepted(spec, se_kind):
    assert _one_model(spec).se_kind == se_kind


def test_the_shipped_index_settings_only_write_out_the_defaults_of_the_method():
    """data/index.yml writes every choice of the method (normalisation, weighting, aggregation,
    coverage, the draws, replicates and seeds of its random procedures) as an index.yml leaving it
    out gets it: a wave's settings that omit a key get the report's method, not another. Its expert
    and AHP blocks are inputs of other weightings, empty when not given."""
    shipped = validate(IndexSettings, read_yaml(paths.INDEX_CONFIG), "data/index.yml").model_dump()
    left_out = validate(IndexSettings, {}, "data/index.yml").model_dump()
    assert {k: v for k, v in shipped.items() if k not in ("expert", "ahp")} == \
        {k: v for k, v in left_out.items() if k not in ("expert", "ahp")}
    assert left_out["uncertainty"]["bootstrap_reps"] == 1000 and left_out["uncertainty"]["draws"] == 10000


def test_what_a_settings_file_leaves_out_is_the_method_the_readme_describes():
    """Defaults of keys a settings file may leave out: a level is scored from 65 % of its indicator
    weight (README, method in brief); a multilevel model by REML (lme4's and statsmodels' default);
    a wild bootstrap with Webb's six-point weights (the few-cluster choice of Webb 2023, cited on the
    determinants page), 999 replicates."""
    from analysis.settings.schemas import Wild

    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert "at least 65 % of its indicator weight" in " ".join(readme.split())
    assert validate(IndexSettings, {}, "data/index.yml").coverage == 0.65
    assert _one_model({"family": "mixedlm", "group": "province"}).reml is True
    assert (Wild().weights, Wild().reps) == ("webb", 999)
