"""The book builds on the default wave, with glued numbers equal to the CLI's."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from analysis.build import build_book
from analysis.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "2020-replica"
    assert build_book("2020-replica", out) == 0
    return out / "html"


def test_pages_exist_and_say_synthetic(built):
    for page in ("index.html", "book/intro.html", "book/survey.html"):
        assert (built / page).exists(), page
    intro = (built / "book/intro.html").read_text(encoding="utf-8")
    assert "calibrated synthetic replica" in intro
    assert "{glue" not in intro and "glue:text" not in intro


def test_glued_degree_equals_the_cli(built):
    res = CliRunner().invoke(app, ["index", "2020-replica", "--by", "region", "--format", "json"])
    rows = {r["domain"]: r["estimate"] for r in json.loads(res.output)}
    text = re.sub(r"<[^>]+>", "", (built / "book/intro.html").read_text(encoding="utf-8"))
    for region, value in rows.items():
        assert f"{value:.2f} %" in text, region


def test_figure_is_embedded_once(built):
    survey = (built / "book/survey.html").read_text(encoding="utf-8")
    assert survey.count("<img") == 1


def test_invalid_wave_builds_nothing(tmp_path, make_wave, small_villagers):
    v = small_villagers.copy()
    v.loc[0, "weight"] = "-1"
    out = tmp_path / "out"
    assert build_book(str(make_wave(v)), out) == 1
    assert not out.exists()
