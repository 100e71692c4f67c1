"""Model results as a reader gets them: Holm's adjustment against an independent implementation
(statsmodels' ``multipletests``), the stars' thresholds, and a regression table built from two
hand-made results whose every cell is written out here from the rules (estimate, Holm-adjusted
stars, SE, N, fit statistics, fixed-effect rows, the order of the rows)."""

from __future__ import annotations

import dataclasses
import io
from types import MappingProxyType, SimpleNamespace
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.estimation.results import ModelResult, ModelSet, _fe_row, _stars, holm, inference


def result(name, est, se, *, df=None, nobs=1000, fit=None, fe=(), labels=None,  # type: ignore[no-untyped-def]
           family="wls"):
    terms = list(est)
    return ModelResult(name, name.upper(), family, pd.Series(est, dtype=float),
                       pd.DataFrame(np.diag(np.square(list(se.values()))), index=terms, columns=terms),
                       nobs, df, MappingProxyType(fit or {}), tuple(fe), MappingProxyType(labels or {}),
                       MappingProxyType({}), tuple(terms))


@pytest.mark.parametrize("p", [
    [0.01, 0.04, 0.03, 0.005, 0.5],
    [0.2, 0.2, 0.01, 0.9, 0.04, 0.04, 0.001],                    # ties
    [0.6, 0.7, 0.8],                                             # adjusted values capped at 1
    [0.03],
])
def test_holm_equals_statsmodels(p):
    np.testing.assert_allclose(holm(np.array(p)), multipletests(p, method="holm")[1], rtol=1e-15)


def test_holm_leaves_missing_p_values_out_of_the_family():
    p = np.array([0.01, np.nan, 0.04, 0.03, np.nan])
    got = holm(p)
    assert np.isnan(got[[1, 4]]).all()
    np.testing.assert_allclose(got[[0, 2, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1])
    assert np.isnan(holm(np.array([np.nan, np.nan]))).all() and holm(np.array([])).size == 0


def test_inference_on_t_or_the_normal_at_the_default_95_percent():
    """Textbook quantiles: t(0.975; 10) = 2.228138852, z(0.975) = 1.959963985; two-sided p of
    t = 2.228138852 on 10 df is 0.05. A zero SE gives no p-value."""
    lo, hi, p = inference(np.array([1.0, 2.0]), np.array([0.5, 0.0]), 10)
    np.testing.assert_allclose([lo[0], hi[0]], [1 - 2.228138852 * 0.5, 1 + 2.228138852 * 0.5], atol=1e-9)
    lo, hi, _ = inference(np.array([1.0]), np.array([0.5]), None)
    np.testing.assert_allclose([lo[0], hi[0]], [1 - 1.959963985 * 0.5, 1 + 1.959963985 * 0.5], atol=1e-9)
    assert inference(np.array([2.228138852]), np.array([1.0]), 10)[2][0] == pytest.approx(0.05, rel=1e-8)
    assert np.isnan(p[1]) and p[0] < 0.1
    lo, hi, _ = inference(np.array([1.0]), np.array([0.5]), 10, level=0.9)      # t(0.95; 10) = 1.812461123
    assert hi[0] - 1 == pytest.approx(1.812461123 * 0.5, rel=1e-9)


def test_inference_takes_one_df_per_estimate_and_none_below_one():
    """Per-estimate df (as Rubin's rules give): t(0.975; 5) = 2.570581836, t(0.975; 10) =
    2.228138852, t(0.975; ∞) = z(0.975) = 1.959963985. A df of zero or less (a design with no
    residual df) gives no interval and no p-value, as R's qt/pt, never the normal."""
    lo, hi, p = inference(np.array([1.0, 1.0, 1.0]), np.array([0.5, 0.5, 0.5]), np.array([5, 10, np.inf]))
    np.testing.assert_allclose(hi - 1, 0.5 * np.array([2.570581836, 2.228138852, 1.959963985]), rtol=1e-9)
    np.testing.assert_allclose(1 - lo, hi - 1, rtol=1e-12)
    # two-sided p of t = 2 on 5 and 10 df (R: 2 * pt(-2, c(5, 10)))
    _, _, p = inference(np.array([2.0, 2.0]), np.array([1.0, 1.0]), np.array([5.0, 10.0]))
    np.testing.assert_allclose(p, [0.1019394788, 0.0733880348], rtol=1e-8)
    for df in (0, -3.0):
        lo, hi, p = inference(np.array([1.0]), np.array([0.5]), df)
        assert np.isnan(lo[0]) and np.isnan(hi[0]) and np.isnan(p[0])


@pytest.mark.parametrize("p, stars", [(0.0099, "**"), (0.01, "*"), (0.0499, "*"), (0.05, ""), (0.7, "")])
def test_stars_at_five_and_one_percent(p, stars):
    assert _stars(p) == stars


def test_fixed_effect_rows_are_named():
    assert _fe_row("region3") == "region effects"
    assert _fe_row("province_en") == "province effects"
    assert _fe_row("county") == "county effects"


def test_tidy_frame_uses_the_models_df_or_the_normal():
    r = result("a", {"x": 0.5, "z": -1.0}, {"x": 0.2, "z": 0.4}, df=10, labels={"x": "X label"})
    t = r.to_frame()
    q = stats.t.ppf(0.975, 10)
    np.testing.assert_allclose(t["ci_low"], [0.5 - q * 0.2, -1.0 - q * 0.4])
    np.testing.assert_allclose(t["ci_high"], [0.5 + q * 0.2, -1.0 + q * 0.4])
    np.testing.assert_allclose(t["p"], 2 * stats.t.sf([2.5, 2.5], 10))
    assert t["label"].tolist() == ["X label", "z"] and (t["n"] == 1000).all()
    normal = result("b", {"x": 0.5}, {"x": 0.2}).to_frame(level=0.9)
    np.testing.assert_allclose(normal["ci_low"], 0.5 - stats.norm.ppf(0.95) * 0.2)
    np.testing.assert_allclose(normal["p"], 2 * stats.norm.sf(2.5))


def test_regression_table_cells_rows_and_stars_after_holm():
    # z = 10, 1 and 2.2: normal p ≈ 1.5e-23, 0.317, 0.0278; Holm over the three tests of the
    # table: 4.6e-23 (**), 0.317 (none), 0.0556 (none: stars come from the adjusted p)
    a = result("a", {"x": 1.0, "w": 0.1}, {"x": 0.1, "w": 0.1}, nobs=1234,
               fit={"r2": 0.25, "n_clusters": 22, "dropped": 16}, fe=("region3",),
               labels={"x": "Internet use"})
    b = result("b", {"x": 0.22}, {"x": 0.1}, nobs=99,
               fit={"pseudo_r2": 0.1234, "icc": 0.2, "icc_conditional": 0.15}, fe=("province", "region3"),
               labels={"x": "Internet use"}, family="logit")
    ms = ModelSet((a, b), "w1", True)
    tidy = ms.to_frame()
    np.testing.assert_allclose(tidy["p_holm"], multipletests(tidy["p"], method="holm")[1])
    t = ms.table()
    assert list(t.columns) == ["", "A", "B"]
    rows = {r[0]: (r[1], r[2]) for r in t.itertuples(index=False)}
    assert list(rows) == ["Internet use", "w", "province effects", "region effects", "N", "R²", "pseudo-R²",
                          "clusters", "ICC, empty model", "ICC, with the covariates"]
    # a logit's cells stay on the log-odds scale of their standard errors (not exp(b) beside se(b))
    assert rows["Internet use"] == ("1.000** (0.100)", "0.220 (0.100)")
    assert rows["w"] == ("0.100 (0.100)", "")
    assert rows["province effects"] == ("", "yes") and rows["region effects"] == ("yes", "yes")
    assert rows["N"] == ("1,234", "99")              # the rows each fit used, not a's 16 dropped
    assert rows["R²"] == ("0.250", "") and rows["pseudo-R²"] == ("", "0.123")
    assert rows["clusters"] == ("22", "")
    assert rows["ICC, empty model"] == ("", "0.200") and rows["ICC, with the covariates"] == ("", "0.150")
    plain = ms.table(stars=False, digits=2)
    assert plain.iloc[0, 1] == "1.00 (0.10)"
    tex = ms.to_latex()
    assert tex.startswith("\\begin{tabular}{lcc}") and "1.000** (0.100)" in tex


def test_a_set_finds_its_models_by_name():
    a, b = result("a", {"x": 1.0}, {"x": 1.0}), result("b", {"x": 1.0}, {"x": 1.0})
    ms = ModelSet((a, b))
    assert ms["b"] is b and ms.has("a") and not ms.has("c") and list(ms) == [a, b]
    with pytest.raises(KeyError, match="no model 'c'; fitted: a, b"):
        ms["c"]


def test_summary_shows_coefficients_and_fit_statistics():
    r = result("a", {"x": 0.123456}, {"x": 0.1}, fit={"r2": 0.123456, "n_clusters": 22, "rows": 12345})
    s = r.summary()
    lines = s.splitlines()
    assert lines[0] == "A [wls]"
    assert lines[-1] == "r2 0.1235, n_clusters 22, rows 12345"          # floats to 4 digits, counts whole
    assert lines[1].split()[:3] == ["model", "term", "label"]          # no row index
    assert lines[2].split()[:4] == ["a", "x", "x", "0.1235"] and str(r) == s
    html = r._repr_html_()
    assert "<td>0.1235</td>" in html and "0.12346" not in html and "<th>0</th>" not in html
    tiny = result("a", {"x": 1.0, "z": 1.0}, {"x": 1e-3, "z": 0.8}, fit={"r2": 0.5})
    p = tiny.to_frame()["p"].tolist()
    assert p[0] < 5e-5 and 0.1 < p[1] < 1                  # the first, at 4 decimals: 0.0000
    assert [line.split()[7] for line in tiny.summary().splitlines()[2:4]] == ["<", f"{p[1]:.2f}"]
    assert "<td>&lt; 0.001</td>" in tiny._repr_html_()
    np.testing.assert_allclose(r.bse, [0.1])


def test_regression_table_drops_empty_rows_and_latex_escapes():
    a = result("a", {"log_income": 1.0}, {"log_income": 0.5}, fit={"r2": 0.5}, labels={"log_income": "log_income %"})
    ms = ModelSet((a, result("b", {"log_income": 2.0}, {"log_income": 0.5}, labels={"log_income": "log_income %"})))
    assert ms.to_frame().index.equals(pd.RangeIndex(2))
    t = ms.table()
    assert t.iloc[:, 0].tolist() == ["log_income %", "N", "R²"]       # no pseudo-R², clusters, ICC rows
    tex = ms.to_latex()
    assert "log\\_income \\%" in tex and "\\begin{tabular}{lcc}" in tex
    body = [line.split("&")[0].strip() for line in tex.splitlines() if "&" in line]
    assert body == ["", "log\\_income \\%", "N", "R²"]                # first column: the row names


def test_a_results_table_shows_its_report_terms_or_every_term_when_none_are_named():
    """The table of a model that names its report terms (the regressors, not the fixed effects'
    dummies) shows those alone, in their order; one that names none shows every coefficient; its
    printed summary and HTML carry no row index."""
    r = result("m", {"x": 1.0, "fe[a]": 2.0, "z": 3.0}, {"x": 0.5, "fe[a]": 0.5, "z": 1.0})
    shown = dataclasses.replace(r, report_terms=("z", "x"))
    assert shown.to_frame()["term"].tolist() == ["z", "x"]
    np.testing.assert_allclose(shown.to_frame()["estimate"], [3.0, 1.0])
    every = dataclasses.replace(r, report_terms=())
    assert every.to_frame()["term"].tolist() == ["x", "fe[a]", "z"]
    assert shown.summary().splitlines()[1].split() == ["model", "term", "label", "estimate", "se", "ci_low",
                                                       "ci_high", "p", "n"]
    assert "<th></th>" not in shown._repr_html_() and "<th>model</th>" in shown._repr_html_()


def test_pooled_limits_follow_the_level_asked_for():
    """Rubin's pooled interval at 90 %: the mean ± t(0.95, df) √T, with T and df by hand."""
    from scipy import stats

    from analysis.estimation.results import pool_rubin

    q = np.array([[1.0, -2.0], [1.4, -1.6], [0.8, -2.3]])
    u = np.array([[0.04, 0.09], [0.05, 0.08], [0.045, 0.1]])
    out = pool_rubin(q, u, level=0.90)
    t = u.mean(axis=0) + (1 + 1 / 3) * q.var(axis=0, ddof=1)
    lam = (1 + 1 / 3) * q.var(axis=0, ddof=1) / t
    df = 2 / lam ** 2
    half = stats.t.ppf(0.95, df) * np.sqrt(t)
    np.testing.assert_allclose(out["ci_low"], q.mean(axis=0) - half, rtol=1e-12)
    np.testing.assert_allclose(out["ci_high"], q.mean(axis=0) + half, rtol=1e-12)


def _displayed(monkeypatch: pytest.MonkeyPatch, ms: ModelSet, names: list[str], **kw: object) -> list[dict]:
    """What display.regression_table shows a page for the models ``names`` of ``ms`` (a real wave)."""
    from IPython import display as ipython_display

    from analysis.publishing.provenance import Source
    from analysis.report import display

    shown: list[dict] = []
    monkeypatch.setattr(ipython_display, "display", lambda obj, raw=False: shown.append(obj))
    study = SimpleNamespace(wave=SimpleNamespace(id="w1", synthetic=False))
    display.regression_table(ms, names, study, source=Source("survey", "wave w1"), **kw)
    return shown


def test_a_page_s_regression_table_holds_the_models_it_names_and_holm_over_their_tests(monkeypatch):
    """display.regression_table on a set of three models, two named: the table, its stars (Holm
    over the named models' tests only), its note and its CSV hold those two. With b in the family
    c's p = 0.0278 would be adjusted to 0.0556 (no star); over a and c alone it stays 0.0278 (*)."""
    from analysis.publishing.tables import CSV_LINK

    a, b, c = (result(n, {"x": x}, {"x": 0.1}) for n, x in (("a", 1.0), ("b", 0.22), ("c", 0.22)))
    (out,) = _displayed(monkeypatch, ModelSet((a, b, c), "w1"), ["a", "c"])
    head = [s.strip() for s in out["text/markdown"].split("\n")[0].strip("|").split("|")]
    assert head == ["", "A", "C"]
    assert "0.220* (0.100)" in out["text/markdown"]
    assert "the 2 coefficient tests of this table" in out["text/html"]
    csv = pd.read_csv(io.StringIO(unquote(CSV_LINK.search(out["text/html"]).group(2)).lstrip("\ufeff")))
    assert csv["model"].tolist() == ["a", "c"]


def test_a_term_without_a_p_value_is_not_counted_among_the_table_s_tests(monkeypatch):
    """A term on 0 df (a group-level covariate with too few groups) has no p-value: Holm leaves it
    out of the family, and the note counts the tests Holm adjusted for, not every cell. The
    Markdown edition of the table carries the same notes as the HTML (what its stars mean, its
    source), not the bare grid."""
    from analysis.publishing import provenance

    r = result("m", {"x": 1.0, "g": 0.5}, {"x": 0.2, "g": 0.2}, df=pd.Series({"x": 25.0, "g": 0.0}))
    ms = ModelSet((r,), "w1")
    assert ms.to_frame()["p"].isna().tolist() == [False, True] and ms.n_tests() == 1
    (out,) = _displayed(monkeypatch, ms, ["m"])
    for form in ("text/html", "text/markdown"):
        assert "after Holm's adjustment across the 1 coefficient tests of this table." in out[form].replace(
            "&#x27;", "'"), form
        assert "wave w1" in out[form], form
    md = out["text/markdown"].split("\n")
    assert md[0].startswith("|") and md[-2:] == [
        "*Standard errors in parentheses. * p < 0.05, ** p < 0.01 after Holm's adjustment across the 1 "
        "coefficient tests of this table.*", f"*{provenance.Source('survey', 'wave w1').notes('')[0]}*"]


def test_a_page_s_regression_table_names_a_model_it_could_not_fit_beside_those_it_shows(monkeypatch):
    """Two models named, one fitted: the table shows the one, and a note before it names the other
    (its label, id and why the wave could not give it), not only when none was fitted."""
    from types import MappingProxyType

    from IPython import display as ipython_display

    from analysis.publishing.provenance import Source
    from analysis.report import display

    shown: list[dict] = []
    monkeypatch.setattr(ipython_display, "display", lambda obj, raw=False: shown.append(obj))
    ms = ModelSet((result("a", {"x": 1.0}, {"x": 0.1}),), "w1",
                  skipped=MappingProxyType({"gone": "the wave has no item hp_wait"}))
    models = SimpleNamespace(models=[SimpleNamespace(name="gone", label="Gone model")])
    study = SimpleNamespace(wave=SimpleNamespace(id="w1", synthetic=False),
                            settings=SimpleNamespace(models=models))
    display.regression_table(ms, ["a", "gone"], study, source=Source("survey", "wave w1"))
    note, table = shown
    assert note == {"text/markdown": "*Not estimated on this wave: Gone model (`gone`: the wave has no item "
                                     "hp_wait).*"}
    assert [c.strip() for c in table["text/markdown"].split("\n")[0].strip("|").split("|")] == ["", "A"]


def test_a_page_s_regression_table_takes_one_number_for_its_caption_anchor_and_csv(monkeypatch):
    """On a page of the book the table is numbered once: caption, anchor and CSV name give the
    same number, and the page's next table gets the next one."""
    from analysis.report import numbering

    monkeypatch.setattr(numbering, "_COUNT", {})
    k = numbering._pages(str(numbering.paths.ROOT / "_toc.yml")).index("determinants") + 1
    ms = ModelSet((result("a", {"x": 1.0}, {"x": 0.1}),), "w1")
    (out,) = _displayed(monkeypatch, ms, ["a"], title="Models", page="determinants")
    html = out["text/html"]
    assert f'id="table-{k}-1"' in html and f"Table {k}.1. Models" in html
    assert f'download="table-{k}-1-models.csv"' in html
    assert "wave w1, page determinants, commit " in html         # the footer cites the page too
    assert numbering.next_table("determinants") == f"{k}.2"


def test_rubin_s_rules_refuse_a_single_completed_data_set():
    """With one imputed data set there is no between-imputation variance to estimate: refused, not
    pooled into NaN standard errors, df and intervals."""
    from analysis.estimation.results import pool_rubin

    with pytest.raises(ValueError, match="^Rubin's rules need two or more data sets"):
        pool_rubin(np.ones((1, 2)), np.ones((1, 2)), 10)
    assert np.isfinite(pool_rubin(np.array([[1.0, 2.0], [1.5, 2.5]]), np.ones((2, 2)), 10)["se"]).all()
