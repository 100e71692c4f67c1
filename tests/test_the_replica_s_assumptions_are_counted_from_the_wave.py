"""The survey page's table of the seed study's facts beside the replica's assumptions counts what
it says of the replica from the wave: a copy without Tibet does not name Tibet, a copy of one
village speaks in the singular, a wave.yml without a PSU column records no village. And the
sensitivity page's Monte Carlo share of a variance is cut to [0, 1], as its Sobol table is."""

from __future__ import annotations

import pytest
import yaml

from analysis.estimation.study import build_study
from tests import wavegen


def _facts(folder):  # type: ignore[no-untyped-def]
    from analysis.report.pages import survey

    return survey.facts_and_assumptions(build_study(folder)).set_index("topic")["the replica assumes"]


def test_a_replica_without_tibet_names_only_the_seed_province_it_has(tmp_path):
    folder = wavegen.replica_copy(tmp_path / "no-tibet", villagers=lambda t: t[t["province"] != "西藏"],
                                  institutions=lambda t: t[t["province"] != "西藏"])
    said = _facts(folder)["provinces"]
    assert said.startswith("21 provinces: Shanghai, and 20 chosen at random by the replica's generator (")
    assert "Tibet" not in said


def test_a_replica_of_one_village_is_one_province_and_one_village(tmp_path):
    def one_village(t):  # type: ignore[no-untyped-def]
        sh = t[t["province"] == "上海"]
        return sh[sh["village_id"] == sh["village_id"].iloc[0]]

    folder = wavegen.replica_copy(tmp_path / "one-village", villagers=one_village,
                                  institutions=lambda t: t[t["province"] == "上海"])
    facts = _facts(folder)
    assert facts["provinces"] == "1 province: Shanghai"
    assert facts["villages"] == "1 village, the primary sampling unit"


def test_a_wave_without_a_psu_column_records_no_village_and_says_its_design(tmp_path):
    folder = wavegen.replica_copy(tmp_path / "no-psu")
    spec = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    spec["design"]["psu"] = None
    (folder / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    facts = _facts(folder)
    assert facts["villages"] == "no village recorded: each respondent is a primary sampling unit"
    assert facts["sample design"].startswith("the design wave.yml gives (strata: province, each respondent "
                                             "its own PSU)")


@pytest.mark.parametrize("share, said", [(1.0082, "1.00"), (-0.004, "0.00"), (0.4149, "0.41")])
def test_the_ranks_share_of_variance_due_to_sampling_is_a_share(share, said):
    from analysis.report.pages.sensitivity import rank_sampling_text

    assert rank_sampling_text({"sobol_rank_boot_total": share}) == (
        f"For the province ranks, sampling accounts for a total share of {said} of the variance.")
