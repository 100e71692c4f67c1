"""The survey and index pages on the realistic follow-up wave of tests/wavegen.py (Ningxia a
single village; Gansu, Ningxia and Tibet withheld): the design note names the rule each
lonely-PSU setting applies, the province table puts the provinces without a rank last, and the
rank paragraph counts the ranked provinces resting on few PSUs, not the withheld ones."""

from __future__ import annotations

import re

import pytest
import yaml

from analysis.estimation.study import build_study
from tests import wavegen


@pytest.fixture(scope="module")
def folder(tmp_path_factory):  # type: ignore[no-untyped-def]
    return wavegen.write(tmp_path_factory.mktemp("fu") / "follow-up", "sav")


@pytest.fixture(scope="module")
def study(folder):  # type: ignore[no-untyped-def]
    return build_study(folder)


@pytest.fixture(scope="module")
def prov(study):  # type: ignore[no-untyped-def]
    from analysis.estimation.sensitivity import domain_replicates
    from analysis.report.pages import index

    return index.province_table(study, domain_replicates(study))


@pytest.mark.parametrize("rule, said", [
    ("adjust", "its PSU total is centred at the mean of all PSU totals (conservative)"),
    ("remove", "its PSU total is left out of the variance"),
    ("certainty", "its PSU total is treated as sampled with certainty (no variance)"),
])
def test_the_design_note_names_the_rule_the_wave_applies(folder, tmp_path, rule, said):
    import shutil

    from analysis.report.pages import survey

    copy = tmp_path / f"fu-{rule}"
    shutil.copytree(folder, copy)
    spec = yaml.safe_load((copy / "wave.yml").read_text(encoding="utf-8"))
    spec["id"] = copy.name
    spec["design"]["lonely_psu"] = rule
    (copy / "wave.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    note = survey.design_note(build_study(copy))
    assert note.startswith("1 stratum holds a single PSU (Ningxia)") and said in note
    assert f'survey.lonely.psu = "{rule}"' in note


def test_the_provinces_without_a_rank_close_the_province_table(prov):
    has = prov["median_rank"].notna().to_numpy()
    assert has.any() and not has.all()                                  # the premise: both kinds
    first_without = int(has.argmin())
    assert not has[first_without:].any()
    ranks = prov.loc[has, "median_rank"].to_numpy()
    assert (ranks[1:] >= ranks[:-1]).all()


def test_the_rank_paragraph_counts_the_ranked_provinces_on_few_psus(study, prov):
    from analysis.report.pages import index

    text = index.rank_paragraph(study, prov)
    ranked = prov[prov["median_rank"].notna()]
    few = int((ranked["n_psu"] <= 3).sum())
    assert few < int((prov["n_psu"] <= 3).sum())                       # the premise: withheld ones too
    said = re.search(r"(\d+) of them rests? on 3 PSUs or fewer", text)
    assert said and int(said.group(1)) == few
    assert f"among the {len(ranked)} publishable provinces" in text


def test_the_single_region_text_reads_the_scheme_it_is_asked_about(tmp_path):
    """Heilongjiang and Anhui: one region of the three-belt scheme (central), two of the NBS's
    four (northeast, central)."""
    from analysis.report.pages.index import single_region_text

    st = build_study(wavegen.provinces(tmp_path / "hlj-anhui", ["黑龙江", "安徽"]))
    assert single_region_text(st, "region4") == ""
    assert single_region_text(st, "region3").startswith(
        "Every respondent of this wave lives in one region (three regions): central.")


@pytest.mark.parametrize("pinned, state", [("abc123 dirty", True), ("abc123 clean", False),
                                           ("unknown unknown", None), ("abc123 what", None)])
def test_a_pinned_commit_state_it_does_not_know_is_unknown_not_clean(monkeypatch, pinned, state):
    from analysis.publishing import provenance

    monkeypatch.setenv(provenance.COMMIT_ENV, pinned)
    assert provenance.git_commit() == (pinned.split()[0], state)


@pytest.mark.parametrize("epoch", ["١٧٠٠٠٠٠٠٠٠", "１７００００００００", "1e9", "-5", "12 34"])
def test_source_date_epoch_is_ascii_digits_only(monkeypatch, epoch):
    """The reproducible-builds convention: a decimal integer of ASCII digits."""
    from analysis.publishing import provenance

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    with pytest.raises(ValueError, match="not a whole number of seconds since 1970"):
        provenance.build_time()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert provenance.build_time() == "2023-11-14T22:13:20+00:00"
