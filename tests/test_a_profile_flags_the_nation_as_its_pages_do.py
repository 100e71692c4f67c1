"""A province profile sets the province beside the nation: the national figure must carry what
its own page says of it. On a three-province wave the nation rests on 5 design df, so the index
and problems pages flag every national degree and share † ("fewer than 8 design df"); the
profile's "national" column must show the same † (and its footnote), and withhold what they
withhold."""

from __future__ import annotations

import pytest

from analysis.ingest.provinces import resolve
from analysis.publishing import tables
from analysis.publishing.reliability import DF_REASON
from tests import wavegen


@pytest.fixture(scope="module")
def study(tmp_path_factory):  # type: ignore[no-untyped-def]
    from analysis.estimation.study import build_study

    return build_study(wavegen.provinces(tmp_path_factory.mktemp("tp") / "three", ["上海", "西藏", "广东"]))


def _national(t):  # type: ignore[no-untyped-def]
    text = tables.render(t)["text/markdown"].splitlines()
    head = next(ln for ln in text if ln.startswith("|"))
    col = [c.strip() for c in head.strip("|").split("|")].index("national")
    rows = [ln for ln in text if ln.startswith("|")][2:]
    return [[c.strip() for c in r.strip("|").split("|")][col] for r in rows], text


def test_the_national_sub_indices_beside_a_province_keep_the_index_page_s_flag(study):
    from analysis.report.pages import common, profile

    nat = common.degree_table(study, None, level=study.index.fields[0])
    assert DF_REASON in nat["flag"].iloc[0]                      # the premise: the nation is flagged
    t = profile.levels_table(study, resolve("上海").adcode)
    cells, text = _national(t)
    assert all(c.endswith(" †") for c in cells)
    assert any("†" in ln and DF_REASON in ln for ln in text if ln.startswith("*"))


def test_the_national_problem_shares_beside_a_province_are_those_of_the_problems_page(study):
    from analysis.report.pages import problems, profile

    t1 = problems.table1(study)
    t1 = t1[t1["base"].str.startswith("villager") & (t1["n"] > 0)].reset_index(drop=True)
    t = profile.problems_table(study, resolve("上海").adcode)
    cells, _ = _national(t)
    assert len(cells) == len(t1)
    for cell, est, flag, sup in zip(cells, t1["estimate"], t1["flag"], t1["suppressed"]):
        if sup:                                                 # withheld there: withheld here
            assert cell == "‡"
        elif flag:
            assert cell == f"{est:.1f} †"
        else:
            assert cell == f"{est:.1f}"
    assert (t1["flag"] != "").any() and (t1["suppressed"] != "").any()   # both cases occur

