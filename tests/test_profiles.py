"""Province profile pages: one per mainland province from one template, the survey part only
where the disclosure policy allows it, official statistics for every province."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import i18n
from analysis.ingest.provinces import all_provinces, resolve
from analysis.report import profiles
from analysis.report.pages import profile


@pytest.fixture(scope="module")
def study():
    from analysis.estimation.study import build_study

    return build_study("2020-replica")


def test_one_page_per_province_from_the_template_and_an_index(tmp_path):
    docs = profiles.write_profiles(tmp_path / "profiles")
    assert docs[0] == "profiles/profiles" and len(docs) == 1 + 31
    files = sorted(p.stem for p in (tmp_path / "profiles").glob("*.md"))
    assert len(files) == 32 and set(files) == {d.split("/")[1] for d in docs}
    sh = (tmp_path / "profiles" / "shanghai.md").read_text(encoding="utf-8")
    assert "CODE = 310000" in sh and "# Shanghai · 上海" in sh and 'page="shanghai"' in sh
    assert '"stamp_official": official_source().stamp("shanghai")' in sh   # the NBS panel, not the wave
    # each survey table is shown under its own title: the sub-indices, then the problems
    shows = re.findall(r'display\.show\(([^,]+),.*?title=titles\["(\w+)"\]\)', sh, re.S)
    assert shows == [("lv", "levels"), ('tables["problems"]', "problems")]
    hubei = (tmp_path / "profiles" / "hubei.md").read_text(encoding="utf-8")     # its region named as one
    assert "Hubei (湖北省) lies in the central region, one of the NBS's four regions." in hubei
    # the NBS's four regions, not the three belts: Liaoning is in the northeast (east of three belts)
    liaoning = (tmp_path / "profiles" / "liaoning.md").read_text(encoding="utf-8")
    assert "Liaoning (辽宁省) lies in the northeast region" in liaoning
    assert "against the northeast region (blue)" in " ".join(liaoning.split())
    index = (tmp_path / "profiles" / "profiles.md").read_text(encoding="utf-8")
    for p in all_provinces():
        assert f"<{profiles.slug(p.name_en)}>" in index
    part = profiles.toc_part(docs)
    assert part["chapters"][0]["file"] == "profiles/profiles" and len(part["chapters"][0]["sections"]) == 31
    assert part["caption"] == "Province profiles"
    zh = profiles.toc_part(docs, "zh")["caption"]
    assert zh == i18n._("Province profiles", "zh") != "Province profiles"


def test_profiles_written_again_in_another_edition_replace_every_page(tmp_path):
    """Pages written into a folder that holds another edition's are written anew, not kept: the
    Chinese run after an English one leaves every province page (and the list) as a fresh Chinese
    run writes them."""
    profiles.write_profiles(tmp_path / "again", "en")
    profiles.write_profiles(tmp_path / "again", "zh")
    profiles.write_profiles(tmp_path / "fresh", "zh")
    pages = sorted(p.name for p in (tmp_path / "fresh").glob("*.md"))
    assert len(pages) == 32 and sorted(p.name for p in (tmp_path / "again").glob("*.md")) == pages
    for name in pages:
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_a_profile_warns_of_a_synthetic_wave_exactly_when_it_shows_survey_numbers(tmp_path, study):
    """The notice cell of a profile page, run as the page runs it: a synthetic wave's warning where
    the page has survey tables, the wave's title for a real wave, nothing without survey numbers."""
    import re
    from types import SimpleNamespace

    from analysis.report import display

    profiles.write_profiles(tmp_path / "profiles")
    page = (tmp_path / "profiles" / "shanghai.md").read_text(encoding="utf-8")
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page, flags=re.S)
    [cell] = [c for c in cells if "display.notice" in c]
    code = "\n".join(line for line in cell.splitlines() if not line.startswith(":"))
    real = SimpleNamespace(wave=SimpleNamespace(synthetic=False, id="w",
                                                spec=SimpleNamespace(title="A real wave")))

    def run(st, tables):  # type: ignore[no-untyped-def]
        return eval(code.split("#")[0].strip(), {"display": display, "st": st, "tables": tables})

    assert study.wave.synthetic
    assert "**Synthetic data.**" in run(study, ["a table"]).data
    assert run(real, ["a table"]).data == "*Wave `w`: A real wave.*"
    assert run(study, []) is None and run(real, []) is None


def test_a_profile_s_tables_name_their_source_survey_or_official_as_the_page_runs_them(tmp_path, study):
    """The cells of a profile page that show tables, run as the page runs them: the survey tables
    are footed with the wave (and its synthetic note), the latest official values with the
    official statistics, never with the survey."""
    import re
    from types import SimpleNamespace

    from analysis.i18n import _
    from analysis.publishing.provenance import official_source, survey_source
    from analysis.report.pages import common, profile

    profiles.write_profiles(tmp_path / "profiles")
    page = (tmp_path / "profiles" / "shanghai.md").read_text(encoding="utf-8")
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page, flags=re.S)
    shows = [c for c in cells if "display.show(" in c]
    shown = []
    fake = SimpleNamespace(show=lambda df, **kw: shown.append((kw["title"], kw["source"])))
    names = {"display": fake, "profile": profile, "common": common, "st": study, "CODE": 310000,
             "NAME": "Shanghai", "_": _, "official_source": official_source, "survey_source": survey_source,
             "tables": profile.survey_tables(study, 310000)}
    for cell in shows:
        exec("\n".join(line for line in cell.splitlines() if not line.startswith(":")), names)
    assert len(shown) == 3 and study.wave.synthetic
    *survey, (title, official) = shown
    assert title.startswith("Latest official values")
    assert (official.kind, official.synthetic) == ("official", False)
    assert all((s.kind, s.synthetic) == ("survey", True) for _t, s in survey)


def test_the_build_puts_profiles_after_the_official_statistics(study):
    from analysis.report.build import book_toc

    toc = book_toc(study.wave, profiles=["profiles/profiles", "profiles/hebei"])
    captions = [p["caption"] for p in toc["parts"]]
    files = [[c["file"] for c in p["chapters"]] for p in toc["parts"]]
    i = next(k for k, f in enumerate(files) if "book/provinces" in f)
    assert captions[i + 1] == "Province profiles"


def test_a_province_without_respondents_gets_official_statistics_only(study):
    s = profile.survey_status(study, 110000)            # Beijing is not in the replica
    assert s["status"] == "absent" and profile.survey_tables(study, 110000) == {}
    assert "official statistics only" in profile.summary_sentence(study, 110000, pd.DataFrame())
    off = profile.official_table(study, 110000)
    assert len(off) == 6 and off["province"].notna().all()
    # yuan rows in whole yuan, the other rows to one decimal (the table's display)
    assert off.attrs["row_decimals"] == [0 if s.endswith("(yuan)") else 1 for s in off["series"]]
    assert off.attrs["row_decimals"].count(0) == 2


def test_the_region_and_the_nation_are_the_ratios_of_their_totals(study):
    """A profile's region and nation columns: education spending over public spending and pupils
    over teachers of all their provinces together; the per-head series and urbanization weighted
    by residents. Recomputed from the panel's own columns with pandas; each row is the series'
    latest year."""
    import numpy as np

    from analysis.ingest.provinces import resolve

    off = profile.official_table(study, 320000).set_index("series")      # Jiangsu, east
    p = study.official
    region = f"region ({resolve(320000).region4})"

    def check(label, num, den, scale, rel):  # type: ignore[no-untyped-def]
        y = int(off.loc[label, "year"])
        d = p.xs(y, level="year")[[num, den, "region4"]].dropna()
        r = d[d["region4"] == resolve(320000).region4]
        assert off.loc[label, "nation"] == pytest.approx(scale * d[num].sum() / d[den].sum(), rel=rel), label
        assert off.loc[label, region] == pytest.approx(scale * r[num].sum() / r[den].sum(), rel=rel), label

    check("education share of spending (%)", "exp_education_100m_yuan", "fiscal_exp_100m_yuan", 100, 1e-3)
    check("pupils per primary teacher", "primary_enrolment_10k", "primary_fulltime_teachers_10k", 1, 1e-3)
    for label, col in (("urbanization (%)", "urban_rate_pct"), ("GDP per head (yuan)", "gdp_per_capita_yuan"),
                       ("public spending per head (yuan)", "fiscal_exp_per_capita_yuan")):
        d = p.xs(int(off.loc[label, "year"]), level="year")[[col, "resident_pop_10k"]].dropna()
        want = (d[col] * d["resident_pop_10k"]).sum() / d["resident_pop_10k"].sum()
        assert off.loc[label, "nation"] == pytest.approx(want, rel=1e-12), label
        assert np.isfinite(off.loc[label, region])
    # each series at its latest year with data, the province's own value of that year
    column = {label: col for col, label in profile.OFFICIAL_SERIES.items()}
    for label, row in off.iterrows():
        years = p[column[label]].dropna().index.get_level_values("year")
        assert row["year"] == years.max() and years.min() < years.max(), label
        assert row["province"] == p.loc[(320000, row["year"]), column[label]], label


def test_a_suppressed_province_shows_the_reason_and_no_survey_number(study, monkeypatch):
    from analysis.report.pages import common

    t = common.province_degrees(study)
    t.loc[t["province"] == "Hebei", ["estimate", "se", "ci_low", "ci_high"]] = float("nan")
    t.loc[t["province"] == "Hebei", "suppressed"] = "fewer than 10 respondents"
    monkeypatch.setattr(profile, "province_degrees", lambda st: t)
    s = profile.survey_status(study, 130000)
    assert s == {"status": "suppressed", "reason": "fewer than 10 respondents", "n": s["n"]}
    text = profile.summary_sentence(study, 130000, pd.DataFrame())
    assert "not published: fewer than 10 respondents" in text and "‡" in text
    assert not any(ch.isdigit() for ch in text.replace("10 respondents", ""))
    assert profile.survey_tables(study, 130000) == {}          # and no table of its survey numbers


def test_a_published_province_states_its_degree_interval_and_rank(study):
    from analysis.estimation.sensitivity import domain_replicates

    rep = domain_replicates(study)
    s = profile.survey_status(study, 310000)
    text = profile.summary_sentence(study, 310000, rep)
    assert s["status"] == "published" and f"**{s['estimate']:.1f}**" in text
    assert f"{s['n_psu']} PSUs" in text and "median rank" in text
    from analysis.ingest.provinces import resolve

    # a province whose rank interval is wide: stated from its lower end to its upper
    code = next(c for c in (resolve(p).adcode for p in rep.columns)
                if (r := profile.rank(study, c, rep)) and r["rank_low"] < r["rank_high"])
    rk = profile.rank(study, code, rep)
    from analysis.publishing.formats import fmt_rank

    said = f"interval from {fmt_rank(rk['rank_low'])} to {fmt_rank(rk['rank_high'])}."
    assert said in profile.summary_sentence(study, code, rep), said
    lv = profile.levels_table(study, 310000)
    tables = profile.survey_tables(study, 310000)
    pd.testing.assert_frame_equal(tables["levels"], lv)
    pd.testing.assert_frame_equal(tables["problems"], profile.problems_table(study, 310000))
    nat = {f"field: {study.wave.codebook.fields[f][1]}": study.degree(level=f).estimate[0] for f in study.index.fields}
    for k, v in nat.items():
        assert lv.set_index("level").loc[k, "national"] == pytest.approx(v)


def test_the_only_publishable_province_of_a_wave_is_given_no_rank(tmp_path):
    """A provincial wave: its one province is published, and its page names no rank ("its median
    rank is 1, with a 95 % interval from 1 to 1" compares it with nothing)."""
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.estimation.study import build_study
    from tests import wavegen

    one = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    text = profile.summary_sentence(one, 450000, domain_replicates(one, reps=50))
    assert profile.survey_status(one, 450000)["status"] == "published"
    assert text.startswith("The modernization degree in Guangxi is **") and "rank" not in text

def test_a_national_share_the_problems_page_withholds_is_withheld_on_a_profile(tmp_path):
    """On a provincial wave the nation is the province: a national share the problems page does
    not publish (the NCHS standard withholds it) must not appear beside the province's either,
    and its row carries the reason."""
    from analysis.estimation.study import build_study
    from analysis.report.pages import problems
    from tests import wavegen

    one = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    page = problems.table1(one)
    page = page[page["base"].str.startswith("villager") & (page["n"] > 0)]
    t = profile.problems_table(one, 450000)
    assert len(t) == len(page)
    gone = (page["suppressed"] != "").to_numpy()
    assert gone.any() and (~gone).any()
    assert t["national"][gone].isna().all() and (t["suppressed"][gone] != "").all()
    np.testing.assert_allclose(t["national"][~gone], page["estimate"][~gone])
    # the province is the nation: the same cells are published on both sides, for the same
    # reasons (the province's own NCHS check, on its percentages' SEs, finds what the page found)
    assert t["estimate"].isna().tolist() == t["national"].isna().tolist()
    assert t["suppressed"].tolist() == page["suppressed"].tolist()
    assert "effective sample size below 30 (NCHS)" in set(t["suppressed"])


def test_problem_shares_are_the_province_domain_and_follow_the_policy(study):
    """Each share is the province's domain proportion, published only where the NCHS standard
    for proportions allows it (effective sample size p(1 − p)/SE² of 30 or more, a logit
    interval on the domain's df narrower than 30 points and than 130 % of the share), and
    flagged † on fewer than 8 design df (checked by hand here, item by item)."""
    from scipy import stats

    t = profile.problems_table(study, 310000)
    v = study.villagers
    from analysis.estimation.reproduce import table1

    items = {(r.field, r.problem): r.item for r in table1(study).itertuples() if r.base.startswith("villager")}
    assert len(t) and len(t) == len(items)
    shown = 0
    for row in t.itertuples():
        y = v[items[row.field, row.problem]].to_numpy(float)
        yy = np.where(np.isnan(y), np.nan, (y == 1).astype(float))
        dom = study.design.proportion(yy, by=v["province_en"])
        i = list(dom.domains).index("Shanghai")
        p, se, df = dom.estimate[i], dom.se[i], dom.df[i]
        if se > 0:
            half = stats.t.ppf(0.975, df) * se / (p * (1 - p))
            lo, hi = (1 / (1 + np.exp(-(np.log(p / (1 - p)) + s * half))) for s in (-1, 1))
            n_eff = min(p * (1 - p) / se**2, dom.n[i])
            ok = n_eff >= 30 and hi - lo < 0.30 and not (hi - lo > 0.05 and (hi - lo) / p > 1.30)
        else:                       # nobody (or everybody) names it: no interval, n respondents
            ok = dom.n[i] >= 30
        assert (row.suppressed == "") == ok, row.problem
        assert row.n == dom.n[i]                     # the province's respondents, not the nation's
        if ok:
            assert row.estimate == pytest.approx(100 * p) and 0 <= row.estimate <= 100
            shown += 1
        else:
            assert np.isnan(row.estimate) and "NCHS" in row.suppressed
        assert (row.flag == "fewer than 8 design df") == (df < 8)
    assert 0 < shown < len(t)


def test_a_province_below_the_disclosure_rule_publishes_none_of_its_problem_shares(study, monkeypatch):
    """A policy one respondent above Shanghai's sample withholds every share of its profile, for
    that reason (the NCHS standard alone would have published some), beside the nation's."""
    from analysis.publishing.disclosure import DisclosurePolicy

    n = int((study.villagers["province_en"] == "Shanghai").sum())
    shown = profile.problems_table(study, 310000)
    assert shown["estimate"].notna().any()
    monkeypatch.setattr(profile, "policy", lambda st: DisclosurePolicy(min_cell=n + 1))
    t = profile.problems_table(study, 310000)
    assert t["estimate"].isna().all() and t["national"].notna().all()
    assert set(t["suppressed"]) == {f"fewer than {n + 1} respondents"}


def test_a_province_on_too_few_psus_publishes_none_of_its_problem_shares(study, monkeypatch):
    """The PSU rule holds on a profile as the respondent rule does: under a policy asking for
    one PSU more than Shanghai's, each of its shares is withheld for that reason."""
    from analysis.publishing.disclosure import DisclosurePolicy

    k = int(study.villagers.loc[study.villagers["province_en"] == "Shanghai",
                                study.wave.design_columns["psu"]].nunique())
    monkeypatch.setattr(profile, "policy", lambda st: DisclosurePolicy(min_cell=1, min_psu=k + 1))
    t = profile.problems_table(study, 310000)
    assert len(t) and t["estimate"].isna().all()
    assert all("PSU" in r for r in t["suppressed"]), set(t["suppressed"])


def test_a_problem_share_counts_the_answer_table_1_counts(study, monkeypatch):
    """The province's share of a problem counts the answer its Table 1 figure names (``value``),
    as the national share beside it does, not the code 1 whatever the figure says."""
    from analysis.estimation import reproduce

    first = reproduce.table1(study)
    assert set(first.loc[first["base"].str.startswith("villager"), "value"]) == {1}
    counted = first.assign(value=np.where(first["base"].str.startswith("villager"), 0, first["value"]))
    monkeypatch.setattr(reproduce, "table1", lambda st: counted)
    t = profile.problems_table(study, 310000)
    v = study.villagers
    items = counted[counted["base"].str.startswith("villager")]
    published = 0
    for row, item in zip(t.itertuples(), items["item"]):
        y = v[item].to_numpy(float)
        dom = study.design.proportion(np.where(np.isnan(y), np.nan, (y == 0).astype(float)),
                                      by=v["province_en"])
        share = 100 * dom.estimate[list(dom.domains).index("Shanghai")]
        if row.suppressed == "":
            assert row.estimate == pytest.approx(share), item
            published += 1
    assert published


@pytest.mark.parametrize("synthetic", [True, False])
@pytest.mark.parametrize("reproduces", [True, False])
def test_the_reproduction_page_is_in_the_book_of_a_wave_that_reproduces_the_seed_only(synthetic, reproduces):
    """Whether the wave reproduces the seed decides, not whether it is synthetic; the
    reproducibility appendix is in every book."""
    from types import SimpleNamespace

    from analysis.report.build import book_toc

    wave = SimpleNamespace(synthetic=synthetic, spec=SimpleNamespace(reproduces_seed=reproduces))
    files = [c["file"] for part in book_toc(wave)["parts"] for c in part.get("chapters", [])]
    assert ("book/reproduction" in files) == reproduces
    assert "book/reproducibility" in files and "book/methods" in files


def test_a_comparison_build_s_contents_put_the_comparison_after_the_opening_part(study):
    """The comparison of waves is the second part of a comparison build's contents, right after the
    report's opening part and before the analyses; a build of one wave has no comparison page."""
    from analysis.report.build import book_toc

    plain, compared = book_toc(study.wave), book_toc(study.wave, compare=True)
    assert compared["parts"][1] == {"caption": "Comparison", "chapters": [{"file": "book/compare"}]}
    assert compared["parts"][:1] + compared["parts"][2:] == plain["parts"]
    assert "book/compare" not in [c["file"] for part in plain["parts"] for c in part.get("chapters", [])]


def test_a_book_of_chapters_only_and_without_the_official_page_gets_no_profiles(study, monkeypatch, tmp_path):
    from analysis import paths
    from analysis.report.build import _pages, book_toc
    from analysis.settings import dump_yaml

    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/rerun\nchapters:\n  - file: book/survey\n",
                                       encoding="utf-8")
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    toc = book_toc(study.wave, profiles=["profiles/profiles", "profiles/hebei"], compare=True)
    (tmp_path / "out.yml").write_text(dump_yaml(toc), encoding="utf-8")
    assert _pages(tmp_path / "out.yml") == ["book/rerun", "book/survey", "book/compare"]


def test_the_summary_counts_psus_and_degrees_of_freedom_in_good_english(study):
    """A province of two villages in one stratum has 1 design df: "1 design degree of freedom"."""
    from analysis.ingest.provinces import resolve

    t = profile.published(profile.province_degrees(study))
    one, more = t[t["df"] == 1], t[t["df"] > 1]
    assert len(one) and len(more)
    for rows, words in ((one, "1 design degree of freedom)"), (more, "design degrees of freedom)")):
        code = resolve(rows["province"].iloc[0]).adcode
        text = profile.summary_sentence(study, code, pd.DataFrame())
        assert words in text and "PSUs," in text, text


def test_every_sub_index_interval_of_every_province_lies_on_the_scale(study):
    """With 1 or 2 design df the t quantile is 12.7 or 4.3: a Wald limit past 0 or 100 is cut."""
    from analysis.ingest.provinces import resolve

    from analysis.report.pages import common

    notes = set()
    for name in profile.published(profile.province_degrees(study))["province"]:
        lv = profile.levels_table(study, resolve(name).adcode)
        shown = lv.dropna(subset=["ci_low"])
        assert shown["ci_low"].ge(0).all() and shown["ci_high"].le(100).all(), name
        assert shown["flag"].str.contains("fewer than 8 design df").all(), name   # 1 or 2 df each
        cut = shown["ci_low"].eq(0).any() or shown["ci_high"].eq(100).any()
        note = common.scale_note(lv)
        assert bool(note) == cut, name                 # the table says why a limit is 0 or 100
        notes.add(note)
    assert notes == {"", "A confidence limit of 0 or 100 is cut at that end of the scale: on so few design "
                         "degrees of freedom the interval reaches past it."}


def test_the_methods_page_counts_the_wave_s_marked_province_estimates(study, monkeypatch):
    """The sentence on province estimates is computed from the published provinces: how many,
    the PSUs they rest on, how many have fewer than 8 design df; none published, it says so."""
    from analysis.report.pages import common, methods

    t = profile.published(common.province_degrees(study))
    want = (f"On this wave the {len(t)} published province estimates rest on {t['n_psu'].min()}–"
            f"{t['n_psu'].max()} PSUs each; {(t['df'] < 8).sum()} of them have fewer than 8 design "
            "degrees of freedom and are marked.")
    assert t["n_psu"].min() < t["n_psu"].max() and methods.province_reliability(study) == want
    none = common.province_degrees(study).assign(suppressed="fewer than 10 respondents")
    monkeypatch.setattr(common, "province_degrees", lambda st: none)
    assert methods.province_reliability(study) == "No province estimate of this wave is published."
    # the grammar follows the counts: one estimate, one marked, a single PSU count
    full = t.iloc[:2].assign(n_psu=4, df=[3, 12])
    monkeypatch.setattr(common, "province_degrees", lambda st: full)
    assert methods.province_reliability(study) == (
        "On this wave the 2 published province estimates rest on 4 PSUs each; 1 of them has fewer than 8 "
        "design degrees of freedom and is marked.")
    # a withheld province is not among the published estimates counted
    some = t.iloc[:3].assign(n_psu=4, df=12, suppressed=["fewer than 10 respondents", "", ""])
    monkeypatch.setattr(common, "province_degrees", lambda st: some)
    assert methods.province_reliability(study) == (
        "On this wave the 2 published province estimates rest on 4 PSUs each; 0 of them have fewer than 8 "
        "design degrees of freedom and are marked.")
    for df, tail in ((3, "it has fewer than 8 design degrees of freedom and is marked."),
                     (8, "it has 8 or more design degrees of freedom.")):
        monkeypatch.setattr(common, "province_degrees", lambda st, df=df: t.iloc[:1].assign(n_psu=1, df=df))
        assert methods.province_reliability(study) == (
            f"On this wave the one published province estimate rests on 1 PSU; {tail}")


def test_a_northeastern_province_s_region_line_is_the_northeast_s_mean(study):
    """Liaoning is drawn beside the NBS northeast (Liaoning, Jilin, Heilongjiang), each year's
    mean weighted by residents (by hand), not beside the eastern belt it belongs to in the
    three-region scheme; the nation's pupils per teacher is the ratio of its totals."""
    import matplotlib.pyplot as plt

    from analysis.ingest.official import weight_of

    p, col = study.official, "gdp_per_capita_yuan"
    ne = [x.adcode for x in all_provinces() if x.region4 == "northeast"]
    assert resolve(210000).adcode in ne and len(ne) == 3
    fig = profile.official_figure(study, 210000)
    d = fig.ruralgov_data
    line = d[(d["of"] == "region") & (d["series"] == profile.OFFICIAL_SERIES[col])].set_index("year")["value"]
    plt.close(fig)
    w = weight_of(col)
    assert len(line) > 10
    for year in (line.index.min(), 2015, line.index.max()):
        g = p.loc[[(a, year) for a in ne]]
        assert line[year] == pytest.approx(np.average(g[col], weights=g[w]), rel=1e-9), year
    # the nation's pupils per teacher: all its pupils over all its teachers (teachers-weighted)
    col = "primary_student_teacher_ratio"
    fig = profile.official_figure(study, 210000)
    d = fig.ruralgov_data
    plt.close(fig)
    nat = d[(d["of"] == "nation") & (d["series"] == profile.OFFICIAL_SERIES[col])].set_index("year")["value"]
    g = p.xs(2015, level="year").dropna(subset=[col])
    assert len(g) == 31
    teachers = g["primary_fulltime_teachers_10k"]
    assert nat[2015] == pytest.approx(np.average(g[col], weights=teachers), rel=1e-9)


def test_the_unemployment_lines_break_between_2019_and_2020_where_registration_changed(study):
    """Registered unemployment changes regime in 2020: each drawn segment lies wholly before the
    break or wholly from it, so no line joins 2019 to 2020."""
    import matplotlib.pyplot as plt

    from analysis.ingest.official import BREAK_YEAR

    p = study.official
    col = "urban_registered_unemployment_rate_pct"
    fig = profile.official_figure(study, 440000)
    ax = fig.axes[[c for c in profile.OFFICIAL_SERIES if c in p].index(col)]
    spans = [np.asarray(line.get_xdata(), float) for line in ax.get_lines()]
    plt.close(fig)
    assert len(spans) == 6                        # province, region and nation: two parts each
    for x in spans:
        assert (x < BREAK_YEAR).all() or (x >= BREAK_YEAR).all(), x


def test_official_lines_break_at_a_missing_year_and_dot_every_year(study):
    """A year the panel lacks for a series (2006 for the pupil–teacher ratio) is a gap in the
    province's, region's and nation's lines, not a straight segment across it; every year known
    carries a dot, so a value between two missing years is seen. The figure's data keep only the
    years known."""
    import matplotlib.pyplot as plt

    p = study.official
    col = "primary_student_teacher_ratio"
    assert col in p
    known = p[col].xs(440000, level="adcode")
    gap = [y for y in range(int(known.index.min()), int(known.index.max()) + 1) if pd.isna(known.get(y))]
    assert gap, "the panel has no missing year for this series: pick another"
    fig = profile.official_figure(study, 440000)
    ax = fig.axes[[c for c in profile.OFFICIAL_SERIES if c in p].index(col)]      # panels in series order
    lines = ax.get_lines()
    assert len(lines) == 3
    for line in lines:
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert line.get_marker() == "o"
        assert np.isnan(y[np.isin(x, gap)]).all() and np.isin(gap, x).all()
    own = lines[0]
    x, y = np.asarray(own.get_xdata(), float), np.asarray(own.get_ydata(), float)
    np.testing.assert_allclose(y[~np.isnan(y)], known.dropna().sort_index().to_numpy())
    assert fig.ruralgov_data["value"].notna().all()
    plt.close(fig)


def test_a_wave_of_one_province_has_no_national_column_beside_it(tmp_path, study, monkeypatch):
    """On a provincial wave the nation's figures are the province's: its profile's tables carry
    no column repeating them, and their titles do not promise one; a wave of several provinces
    keeps the nation beside each."""
    from analysis.estimation.study import build_study
    from tests import wavegen

    one = build_study(wavegen.provinces(tmp_path / "one-province", ["广西"]))
    tables = profile.survey_tables(one, 450000)
    assert set(tables) == {"levels", "problems"}
    assert all("national" not in t.columns for t in tables.values())
    assert all("nation" not in t for t in profile.survey_table_titles(one, "Guangxi").values())
    several = profile.survey_tables(study, 310000)
    assert all("national" in t.columns for t in several.values())
    titles = profile.survey_table_titles(study, "Shanghai").values()
    assert all(t.endswith("Shanghai and the nation") for t in titles)
    # two provinces, one withheld: the nation still holds the other's respondents, so its column stays
    from tests.conftest import withhold_the_smallest

    two = build_study(wavegen.provinces(tmp_path / "two-provinces", ["广西", "广东"]))
    n = withhold_the_smallest(monkeypatch, two)
    shown = resolve(n.idxmax())
    assert profile.published_provinces(two) == {shown.adcode}
    assert all("national" in t.columns for t in profile.survey_tables(two, shown.adcode).values())
    titles = profile.survey_table_titles(two, shown.name_en).values()
    assert all(t.endswith(" and the nation") for t in titles)


def test_a_withheld_province_is_not_marked_as_publishing_its_survey_results(study, monkeypatch):
    """A policy one respondent above the smallest province withholds it: its profile shows
    official statistics only, and the list of profiles does not mark it."""
    from tests.conftest import withhold_the_smallest

    n = withhold_the_smallest(monkeypatch, study)
    small = [resolve(p).adcode for p in n[n == n.min()].index]
    marked = profile.published_provinces(study)
    assert small and not set(small) & marked and len(marked) == len(n) - len(small)
    assert all(profile.survey_status(study, c)["status"] == "suppressed" for c in small)


def test_the_list_of_profiles_marks_the_provinces_the_wave_publishes(tmp_path, study):
    """The provinces whose survey results are published are marked, and the list says so (and
    says when none is); the marked set is every province whose profile publishes its survey part."""
    surveyed = profile.published_provinces(study)
    assert surveyed == {p.adcode for p in all_provinces()
                        if profile.survey_status(study, p.adcode)["status"] == "published"}
    assert 0 < len(surveyed) < 31                                 # the wave surveyed some provinces
    profiles.write_profiles(tmp_path / "en", "en", surveyed)
    index = (tmp_path / "en" / "profiles.md").read_text(encoding="utf-8")
    for p in all_provinces():
        marked = f"<{profiles.slug(p.name_en)}>` {profiles.MARK}" in index
        assert marked == (p.adcode in surveyed), p.name_en
    assert f"The {len(surveyed)} provinces marked ● have survey results published on this wave" in index
    profiles.write_profiles(tmp_path / "zh", "zh", frozenset({450000}))
    zh = (tmp_path / "zh" / "profiles.md").read_text(encoding="utf-8")
    assert "{doc}`广西 <guangxi>` ●" in zh and zh.count("●") == 2
    assert "**东部**：{doc}`北京 <beijing>`、{doc}`福建 <fujian>`、" in zh        # the enumeration comma
    assert "标有 ● 的省份公布了本轮调查结果" in zh
    profiles.write_profiles(tmp_path / "none", "en")
    none = (tmp_path / "none" / "profiles.md").read_text(encoding="utf-8")
    assert "●" not in none and "No province's survey results are published on this wave" in none
    # one paragraph a region: a blank line between them, none within
    regions = [ln for ln in none.split("\n\n") if ln.startswith("**")]
    assert [r.split("**")[1] for r in regions] == ["Central", "East", "Northeast", "West"]
    assert all("\n" not in r.strip() for r in regions)
