"""Determinants of the modernization score: a regression suite specified in ``data/models.yml``.

Estimators (each checked against R in ``tests/test_models_against_r.py``):

* **OLS / WLS** with survey weights; cluster-robust (CR1: ``G/(G-1)·(N-1)/(N-K)``, as
  ``sandwich::vcovCL(type = "HC1")`` and Stata) or design-based (Taylor linearisation over strata
  and PSUs, as ``survey::svyglm``) standard errors; with few clusters, **wild cluster bootstrap**
  p-values (restricted, WCR) and percentile-t CIs (unrestricted, WCU), Rademacher or Webb weights,
  vectorised over replicates;
* **multilevel** random-intercept model (statsmodels ``MixedLM``, REML or ML) with the ICC;
* **ordered logit** (statsmodels ``OrderedModel``) with average marginal effects on each
  category's probability;
* **logit** with survey weights, design-based SEs and average marginal effects;
* **Oaxaca–Blinder** decomposition (two-fold with pooled coefficients, three-fold) with Rao–Wu
  bootstrap SEs.

Results are immutable: :class:`ModelResult` (``.to_frame()`` tidy, ``.summary()``) and
:class:`ModelSet` (regression tables as HTML, LaTeX, CSV).

Example
-------
>>> from analysis.models import fit_models
>>> ms = fit_models("2020-replica", names=["wls_region"])
>>> ms["wls_region"].to_frame().columns[:4].tolist()
['model', 'term', 'label', 'estimate']
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from analysis import paths
from analysis.design import SurveyDesign
from analysis.index import IndexConfig, build_index
from analysis.wave import Wave, load_wave

Family = Literal["ols", "wls", "mixedlm", "ologit", "logit", "oaxaca"]
FAMILIES = ("ols", "wls", "mixedlm", "ologit", "logit", "oaxaca")
MODELS_YML = paths.DATA / "models.yml"
FE_LABELS = {"region3": "region", "region4": "region (NBS)", "province_en": "province", "province": "province"}


class ModelSpecError(ValueError):
    """A model specification that cannot be fitted (unknown family, variable...)."""


# ---- specification and data ----------------------------------------------------------------

def load_specs(path: str | Path | None = None) -> dict[str, Any]:
    """Read ``data/models.yml``; check families and names."""
    raw = yaml.safe_load(Path(path or MODELS_YML).read_text(encoding="utf-8"))
    names = [m["name"] for m in raw["models"]]
    if len(set(names)) != len(names):
        raise ModelSpecError("model names must be unique")
    for m in raw["models"]:
        if m.get("family") not in FAMILIES:
            raise ModelSpecError(f"model {m['name']!r}: family {m.get('family')!r}; allowed: "
                                 f"{', '.join(FAMILIES)}")
    return raw


def _labels(w: Wave, specs: dict) -> dict[str, str]:
    lab = {it.id: it.text_en for it in w.codebook.items("villagers")}
    short = {"internet_use": "internet use", "education": "education (level)",
             "distance_km": "distance to township (km)", "participation": "participation in village affairs",
             "smartphone": "smartphone use", "migrant_exp": "migrant experience"}
    lab.update(short)
    for k, v in {**specs.get("derived", {}), **specs.get("province_covariates", {})}.items():
        lab[k] = v.get("label", k)
    return lab


_INDEX_SCORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Wave → {index construction → scores}: shared by the models of a wave while it lives."""


def model_frame(w: Wave, spec: dict, specs: dict, *, index_config: IndexConfig | None = None
                ) -> tuple[pd.DataFrame, int]:
    """The rows and columns a model uses (complete cases) and how many rows were dropped."""
    from analysis.external import province_covariates

    v = w.villagers
    cfg = index_config or IndexConfig.load()
    scores = _INDEX_SCORES.setdefault(w, {})
    if repr(cfg) not in scores:               # one index per wave and construction, not per model
        scores[repr(cfg)] = build_index(v, cfg, codebook=w.codebook).scores
    v = v.join(scores[repr(cfg)].add_suffix("_score").rename(columns=lambda c: c.removesuffix("_score") if c.removesuffix("_score") not in v else c))
    for name, d in specs.get("derived", {}).items():
        v[name] = v.eval(d["expr"], engine="python").astype(float)
    covs = province_covariates(2020)
    for name in specs.get("province_covariates", {}):
        v[name] = v["province"].astype("float").map(covs[name])
    outcome = spec["outcome"]
    if outcome not in v:
        raise ModelSpecError(f"model {spec['name']!r}: unknown outcome {outcome!r}")
    cols = [outcome, *spec.get("regressors", []), *spec.get("fixed_effects", [])]
    for key in ("cluster", "weights", "group"):
        if spec.get(key):
            cols.append(spec[key])
    dc = w.design_columns
    if spec.get("se") == "design" or spec["family"] == "oaxaca":   # oaxaca: Rao–Wu over the PSUs
        cols += [c for c in (dc.get("strata"), dc.get("psu"), dc.get("weight")) if c]
    cols = list(dict.fromkeys(cols))
    missing = [c for c in cols if c not in v]
    if missing:
        raise ModelSpecError(f"model {spec['name']!r}: unknown variables {missing}")
    df = v[cols].copy()
    for c in [outcome, *spec.get("regressors", [])]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    before = len(df)
    df = df.dropna()
    return df.reset_index(drop=True), before - len(df)


def _design_matrix(df: pd.DataFrame, regressors: list[str], fe: list[str], const: bool = True
                   ) -> tuple[np.ndarray, list[str]]:
    parts, names = [], []
    if const:
        parts.append(np.ones((len(df), 1)))
        names.append("Intercept")
    if regressors:
        parts.append(df[regressors].to_numpy(float))
        names += regressors
    for f in fe:
        d = pd.get_dummies(df[f].astype(str), prefix=f, drop_first=True, dtype=float)
        parts.append(d.to_numpy())
        names += list(d.columns)
    return np.column_stack(parts), names


# ---- results -------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ModelResult:
    """A fitted model: coefficients, covariance, fit statistics and extra tables (read-only)."""

    name: str
    """Model name from ``data/models.yml``."""
    label: str
    """Column title in regression tables."""
    family: str
    """Estimator family."""
    params: pd.Series
    """Point estimates by term."""
    vcov: pd.DataFrame
    """Covariance matrix of the estimates."""
    nobs: int
    """Observations used."""
    df_inference: float | None
    """Degrees of freedom of t-based inference (None: normal)."""
    stats: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """Fit statistics (r2, pseudo_r2, n_clusters, icc, llf, dropped...)."""
    fixed_effects: tuple[str, ...] = ()
    """Absorbed fixed effects (shown as FE rows)."""
    term_labels: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """term → readable label."""
    tables: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """Extra tidy tables: ``wild``, ``ame``, ``decomposition``, ``random_effects``..."""
    report_terms: tuple[str, ...] = ()
    """Terms shown in tables (regressors; not the FE dummies)."""

    @property
    def bse(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.vcov.to_numpy()), 0, None)), index=self.params.index)

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy table: model, term, label, estimate, se, ci_low, ci_high, p, n."""
        terms = list(self.report_terms) or list(self.params.index)
        est, se = self.params[terms].to_numpy(), self.bse[terms].to_numpy()
        z = est / np.where(se > 0, se, np.nan)
        if self.df_inference:
            q = stats.t.ppf(0.5 + level / 2, self.df_inference)
            p = 2 * stats.t.sf(np.abs(z), self.df_inference)
        else:
            q = stats.norm.ppf(0.5 + level / 2)
            p = 2 * stats.norm.sf(np.abs(z))
        return pd.DataFrame({"model": self.name, "term": terms,
                             "label": [self.term_labels.get(t, t) for t in terms],
                             "estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se,
                             "p": p, "n": self.nobs})

    def summary(self) -> str:
        """Readable summary: coefficients and fit statistics."""
        st = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.stats.items())
        return f"{self.label} [{self.family}]\n{self.to_frame().round(4).to_string(index=False)}\n{st}"

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self.to_frame().round(4).to_html(index=False)


def _stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


@dataclass(frozen=True, eq=False)
class ModelSet:
    """Several fitted models: a multi-model regression table."""

    results: tuple[ModelResult, ...]
    """The models, in order."""
    wave_id: str = ""
    """Wave they were fitted on."""
    synthetic: bool = False
    """Whether that wave is synthetic."""
    skipped: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """Models of the specification not fitted on this wave → why (variables the wave lacks)."""

    def has(self, name: str) -> bool:
        """Whether a model was fitted."""
        return any(r.name == name for r in self.results)

    def __getitem__(self, name: str) -> ModelResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no model {name!r}; fitted: {', '.join(r.name for r in self.results)}")

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.results)

    def to_frame(self) -> pd.DataFrame:
        """All tidy coefficients stacked."""
        return pd.concat([r.to_frame() for r in self.results], ignore_index=True)

    def table(self, *, stars: bool = True, digits: int = 3) -> pd.DataFrame:
        """Wide regression table: rows terms (labelled) + N, R², clusters, FE; cells 'b (se)'."""
        cols: dict[str, dict[str, str]] = {}
        order: list[str] = []
        for r in self.results:
            t = r.to_frame()
            cells = {}
            for row in t.itertuples():
                cells[row.label] = (f"{row.estimate:.{digits}f}{_stars(row.p) if stars else ''}"
                                    f" ({row.se:.{digits}f})")
                if row.label not in order:
                    order.append(row.label)
            fit = r.stats
            cells["N"] = f"{r.nobs:,}"
            if "r2" in fit:
                cells["R²"] = f"{fit['r2']:.3f}"
            if "pseudo_r2" in fit:
                cells["pseudo-R²"] = f"{fit['pseudo_r2']:.3f}"
            if "n_clusters" in fit:
                cells["clusters"] = str(fit["n_clusters"])
            if "icc" in fit:
                cells["ICC"] = f"{fit['icc']:.3f}"
            for fe in r.fixed_effects:
                cells[f"{FE_LABELS.get(fe, fe)} effects"] = "yes"
            cols[r.label] = cells
        foot = ["N", "R²", "pseudo-R²", "clusters", "ICC"]
        fes = sorted({f"{FE_LABELS.get(fe, fe)} effects" for r in self.results for fe in r.fixed_effects})
        index = order + fes + foot
        df = pd.DataFrame({k: [v.get(i, "") for i in index] for k, v in cols.items()}, index=index)
        return df[(df != "").any(axis=1)].rename_axis("").reset_index()

    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy coefficients as CSV (formula cells escaped)."""
        from analysis.tables import safe_csv

        return safe_csv(self.to_frame(), path)

    def to_latex(self, *, stars: bool = True) -> str:
        """The regression table as a LaTeX tabular."""
        t = self.table(stars=stars)
        return t.to_latex(index=False, escape=True, column_format="l" + "c" * (t.shape[1] - 1))

    def to_html(self, *, stars: bool = True, title: str = "") -> str:
        """The regression table as HTML (great_tables), with a source note."""
        from great_tables import GT

        t = self.table(stars=stars)
        note = "Standard errors in parentheses. * p<0.1, ** p<0.05, *** p<0.01." if stars else \
            "Standard errors in parentheses."
        if self.synthetic:
            note += " Synthetic replica data: estimates illustrate the method only."
        import hashlib

        gt = GT(t, id="m" + hashlib.sha256((title + t.to_csv()).encode()).hexdigest()[:12]).tab_source_note(note)
        if title:
            gt = gt.tab_header(title=title)
        return gt.as_raw_html()


# ---- linear models -------------------------------------------------------------------------

def _wls(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xtwx = X.T @ (X * w[:, None])
    ainv = np.linalg.inv(xtwx)
    beta = ainv @ (X.T @ (w * y))
    return beta, ainv, y - X @ beta


def cluster_vcov(X: np.ndarray, w: np.ndarray, e: np.ndarray, groups: np.ndarray, ainv: np.ndarray,
                 k_extra: int = 0) -> tuple[np.ndarray, int]:
    """CR1 cluster-robust covariance (``G/(G-1)·(N-1)/(N-K)``) from scores summed by cluster;
    ``k_extra`` counts parameters absorbed out of ``X`` (intercept and fixed-effect levels)."""
    g = pd.factorize(pd.Series(groups))[0]
    G = g.max() + 1
    n, k = X.shape
    we = w * e
    scores = np.column_stack([np.bincount(g, weights=X[:, j] * we, minlength=G) for j in range(k)])
    meat = scores.T @ scores
    c = G / (G - 1) * (n - 1) / (n - k - k_extra)
    return c * ainv @ meat @ ainv, int(G)


def unit_sums(X: np.ndarray, w: np.ndarray, units: np.ndarray, n_units: int,
              y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted sufficient statistics by unit (cluster, PSU): Σ w x x' (U × K × K), Σ w x y
    (U × K; zeros without ``y``) and Σ w x (U × K), by one ``bincount`` per pair of columns —
    never an n × K × K array."""
    n, k = X.shape
    Xw = X * w[:, None]
    xy = np.zeros((n_units, k)) if y is None else np.column_stack(
        [np.bincount(units, weights=Xw[:, a] * y, minlength=n_units) for a in range(k)])
    sx = np.column_stack([np.bincount(units, weights=Xw[:, a], minlength=n_units) for a in range(k)])
    gram = np.empty((n_units, k, k))
    if n_units <= 256:
        # few units (clusters): one BLAS product per unit over its rows, sorted once
        order = np.argsort(units, kind="stable")
        bounds = np.searchsorted(units[order], np.arange(n_units + 1))
        for u in range(n_units):
            rows = order[bounds[u]:bounds[u + 1]]
            gram[u] = X[rows].T @ Xw[rows]
    else:
        # many units (PSUs): one bincount per pair of columns
        for a in range(k):
            for b in range(a, k):
                gram[:, a, b] = gram[:, b, a] = np.bincount(units, weights=Xw[:, a] * X[:, b],
                                                            minlength=n_units)
    return gram, xy, sx


def _wild_weights(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=shape)
    if kind == "webb":
        s = np.sqrt([0.5, 1.0, 1.5])
        return rng.choice(np.concatenate([-s, s]), size=shape)
    raise ModelSpecError(f"wild weights {kind!r}; allowed: rademacher, webb")


def _wild_stats(X: np.ndarray, w: np.ndarray, g: np.ndarray, G: int, yhat: np.ndarray,
                resid: np.ndarray, V: np.ndarray, ainv: np.ndarray, k_extra: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap coefficients and CR1 SEs for y* = yhat + v_g·resid, all replicates at once.

    V: G × B cluster weights.  Returns (K × B coefficients, K × B standard errors).
    """
    n, k = X.shape
    H, c, _ = unit_sums(X, w, g, G, resid)                  # G × K × K and G × K: X_g' W_g e_g
    a = np.column_stack([np.bincount(g, weights=X[:, j] * w * yhat, minlength=G)
                         for j in range(k)])                # G × K: X_g' W_g ŷ_g
    beta = ainv @ (a.sum(0)[:, None] + c.T @ V)             # K × B
    S = a[:, :, None] + c[:, :, None] * V[:, None, :] - np.einsum("gkl,lb->gkb", H, beta)
    Q = np.einsum("jk,gkb->jgb", ainv, S)                   # K × G × B
    factor = G / (G - 1) * (n - 1) / (n - k - k_extra)
    se = np.sqrt(factor * (Q**2).sum(axis=1))
    return beta, se


def wild_cluster_bootstrap(y: np.ndarray, X: np.ndarray, w: np.ndarray, groups: np.ndarray,
                           terms: list[int], *, reps: int = 999, weights: str = "webb",
                           seed: int = 0, level: float = 0.95, k_extra: int = 0) -> pd.DataFrame:
    """WCR bootstrap-t p-values (null β_j = 0 imposed) and WCU percentile-t CIs for ``terms``.

    ``X`` and ``y`` may be within-transformed by a fixed effect nested in the clusters (then
    ``k_extra`` counts the absorbed parameters): the replicates are then those of the dummy model.
    """
    rng = np.random.default_rng(seed)
    g = pd.factorize(pd.Series(groups))[0]
    G = int(g.max()) + 1
    beta, ainv, e = _wls(y, X, w)
    V0, G0 = cluster_vcov(X, w, e, g, ainv, k_extra)
    se0 = np.sqrt(np.diag(V0))
    V = _wild_weights(weights, (G, reps), rng)
    # unrestricted: percentile-t interval
    bu, seu = _wild_stats(X, w, g, G, X @ beta, e, V, ainv, k_extra)
    rows = []
    for j in terms:
        keep = [i for i in range(X.shape[1]) if i != j]
        Xr = X[:, keep]
        br, _, er = _wls(y, Xr, w)
        b_r, se_r = _wild_stats(X, w, g, G, Xr @ br, er, V, ainv, k_extra)
        t_obs = beta[j] / se0[j]
        t_star = b_r[j] / se_r[j]
        p = float(np.mean(np.abs(t_star) >= abs(t_obs)))
        tu = (bu[j] - beta[j]) / seu[j]
        lo_q, hi_q = np.quantile(tu, [(1 - level) / 2, 1 - (1 - level) / 2])
        rows.append({"j": j, "estimate": beta[j], "se": se0[j], "wild_p": p,
                     "wild_ci_low": beta[j] - hi_q * se0[j], "wild_ci_high": beta[j] - lo_q * se0[j]})
    out = pd.DataFrame(rows)
    out.attrs.update({"reps": reps, "weights": weights, "seed": seed, "clusters": G})
    return out


def _within(codes: np.ndarray, w: np.ndarray, *cols: np.ndarray) -> list[np.ndarray]:
    """Weighted within transformation: each column minus its weighted mean in its group."""
    sw = np.bincount(codes, weights=w)
    out = []
    for c in cols:
        if c.ndim == 1:
            out.append(c - (np.bincount(codes, weights=w * c) / sw)[codes])
            continue
        c = np.asfortranarray(c, dtype=float)               # contiguous columns
        t = np.empty_like(c, order="F")
        for j in range(c.shape[1]):                          # column by column: no n × K gather
            t[:, j] = c[:, j] - (np.bincount(codes, weights=w * c[:, j]) / sw)[codes]
        out.append(t)
    return out


def nested_in(levels: np.ndarray, clusters: np.ndarray) -> bool:
    """Whether every level of a fixed effect lies inside a single cluster."""
    f = pd.factorize(pd.Series(levels), sort=False)[0]
    c = pd.factorize(pd.Series(clusters), sort=False)[0]
    seen = np.empty(f.max() + 1, dtype=c.dtype)
    seen[f] = c                                       # one cluster of each level (the last seen)
    return bool(np.array_equal(seen[f], c))


def _fit_linear(df: pd.DataFrame, spec: dict, w_design: dict, labels: dict) -> ModelResult:
    """WLS with the first fixed effect absorbed (within transformation) and any others as dummies.

    By Frisch–Waugh–Lovell the slopes, residuals and every covariance of the slopes (cluster,
    design-based, HC1) equal those of the regression with dummies; degrees of freedom count the
    absorbed intercept and levels as that regression does (so results equal R's ``lm``/``svyglm``).
    """
    regs, fe = list(spec.get("regressors", [])), list(spec.get("fixed_effects", []))
    y = df[spec["outcome"]].to_numpy(float)
    wcol = spec.get("weights") if spec["family"] == "wls" else None
    w = df[wcol].to_numpy(float) if wcol else np.ones(len(df))
    w = w / w.mean()
    if fe:
        levels = pd.factorize(df[fe[0]].astype(str))[0]
        X, names = _design_matrix(df, regs, fe[1:], const=False)
        y_fit, X = _within(levels, w, y, X)
        k_extra = int(levels.max()) + 1                     # intercept + (levels − 1) dummies
    else:
        X, names = _design_matrix(df, regs, [])
        y_fit, k_extra = y, 0
    beta, ainv, e = _wls(y_fit, X, w)
    n, k = X.shape
    k_all = k + k_extra
    st: dict[str, Any] = {}
    se_kind = spec.get("se", "cluster" if spec.get("cluster") else "hc1")
    if se_kind == "design":
        d = SurveyDesign.from_frame(df.assign(_w=w), weight="_w", strata=w_design.get("strata"),
                                    psu=w_design.get("psu"))
        infl = (X * (w * e)[:, None]) @ ainv                 # respondent influence on β
        z = np.column_stack([np.bincount(d.psu, weights=infl[:, j], minlength=d.n_psu)
                             for j in range(k)])
        V = d.variance_from_totals(z)
        dfi = float(d.degf + 1 - k_all)
        st["n_psu"] = d.n_psu
    elif se_kind == "cluster":
        V, G = cluster_vcov(X, w, e, df[spec["cluster"]].to_numpy(), ainv, k_extra)
        dfi = float(G - 1)
        st["n_clusters"] = G
    else:
        meat = (X * (w * e)[:, None]).T @ (X * (w * e)[:, None])
        V = n / (n - k_all) * ainv @ meat @ ainv
        dfi = float(n - k_all)
    ybar = np.sum(w * y) / w.sum()
    st["r2"] = float(1 - np.sum(w * e**2) / np.sum(w * (y - ybar) ** 2))
    tables: dict[str, pd.DataFrame] = {}
    if spec.get("wild") and spec.get("cluster"):
        wb = spec["wild"]
        clusters = df[spec["cluster"]].to_numpy()
        nested = bool(fe) and nested_in(levels, clusters)
        if fe and not nested:
            # a fixed effect that cuts across clusters changes the replicates' residuals once
            # absorbed: bootstrap the regression with dummies (few levels: region effects)
            Xb, bnames = _design_matrix(df, regs, fe)
            yb, kb = y, 0
        else:
            Xb, bnames, yb, kb = X, names, y_fit, k_extra
        wild = wild_cluster_bootstrap(yb, Xb, w, clusters, [bnames.index(r) for r in regs],
                                      reps=int(wb.get("reps", 999)), weights=wb.get("weights", "webb"),
                                      seed=int(wb.get("seed", 0)), k_extra=kb)
        wild.insert(0, "term", [bnames[j] for j in wild["j"]])
        tables["wild"] = wild.drop(columns="j")
    st["absorbed"] = fe[0] if fe else ""
    return ModelResult(spec["name"], spec.get("label", spec["name"]), spec["family"],
                       pd.Series(beta, index=names), pd.DataFrame(V, index=names, columns=names), n,
                       dfi, MappingProxyType(st), tuple(fe), MappingProxyType(labels),
                       MappingProxyType(tables), tuple(regs))


# ---- multilevel ----------------------------------------------------------------------------

def random_intercept(y: np.ndarray, X: np.ndarray, groups: np.ndarray, *, reml: bool = True
                     ) -> dict[str, Any]:
    """Linear model with a random intercept per group, y = Xβ + u_g + e, by (restricted)
    maximum likelihood as ``lme4::lmer(y ~ X + (1 | g))``.

    With V_g = σ²(I + λ 1 1'), the likelihood profiled over β and σ² depends on the data only
    through per-group sums (n_g, X_g'X_g, X_g'1, X_g'y, 1'y, y'y): one pass builds them, then
    λ = τ²/σ² is found by a one-dimensional search on G small matrices, whatever n.
    Returns β, its covariance (X'V⁻¹X)⁻¹ (as lme4's ``vcov``), τ², σ² and the log-likelihood.
    """
    g = pd.factorize(pd.Series(groups))[0]
    G = int(g.max()) + 1
    n, p = X.shape
    Sxx, Sxy, sx = unit_sums(X, np.ones(n), g, G, y)
    n_g = np.bincount(g, minlength=G).astype(float)
    sy = np.bincount(g, weights=y, minlength=G)
    syy = float(y @ y)
    dof = n - p if reml else n

    def parts(lam: float) -> tuple[np.ndarray, np.ndarray, float]:
        c = lam / (1 + n_g * lam)                            # V_g⁻¹ = (I − c_g 11')/σ²
        A = Sxx.sum(0) - (sx * c[:, None]).T @ sx
        b = Sxy.sum(0) - sx.T @ (c * sy)
        beta = np.linalg.solve(A, b)
        Q = syy - float(c @ sy**2) - float(b @ beta)         # r'(V/σ²)⁻¹r at β̂(λ)
        return A, beta, Q

    def deviance(lam: float) -> float:                     # −2 × profiled (RE)ML log-likelihood
        A, _, Q = parts(lam)
        dev = dof * (np.log(2 * np.pi * Q / dof) + 1) + float(np.sum(np.log1p(n_g * lam)))
        if reml:
            dev += float(np.linalg.slogdet(A)[1])
        return dev

    from scipy.optimize import minimize_scalar

    grid = np.r_[0.0, np.logspace(-8, 4, 61)]               # coarse grid, then Brent around the best
    devs = [deviance(v) for v in grid]
    i = int(np.argmin(devs))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    opt = minimize_scalar(deviance, bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-14 * max(1.0, hi), "maxiter": 500})
    lam = float(opt.x) if opt.fun <= devs[i] else float(grid[i])
    A, beta, Q = parts(lam)
    sig2 = Q / dof
    return {"beta": beta, "vcov": sig2 * np.linalg.inv(A), "tau2": lam * sig2, "sigma2": sig2,
            "llf": -0.5 * deviance(lam), "n_groups": G}


def _fit_mixed(df: pd.DataFrame, spec: dict, labels: dict) -> ModelResult:
    regs = list(spec.get("regressors", []))
    y = df[spec["outcome"]].to_numpy(float)
    X, names = _design_matrix(df, regs, list(spec.get("fixed_effects", [])))
    groups = df[spec["group"]].to_numpy()
    reml = bool(spec.get("reml", True))
    fit = random_intercept(y, X, groups, reml=reml)
    null = random_intercept(y, np.ones((len(y), 1)), groups, reml=reml)
    tau2, sig2 = fit["tau2"], fit["sigma2"]
    tau0, sig0 = null["tau2"], null["sigma2"]
    st = {"icc": tau0 / (tau0 + sig0), "icc_conditional": tau2 / (tau2 + sig2),
          "var_province": tau2, "var_residual": sig2, "llf": fit["llf"],
          "n_groups": fit["n_groups"], "reml": reml}
    re = pd.DataFrame({"component": ["province intercept", "residual"], "variance": [tau2, sig2],
                       "sd": [np.sqrt(tau2), np.sqrt(sig2)]})
    return ModelResult(spec["name"], spec.get("label", spec["name"]), "mixedlm",
                       pd.Series(fit["beta"], index=names),
                       pd.DataFrame(fit["vcov"], index=names, columns=names),
                       len(y), None, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType({"random_effects": re}), tuple(regs))


# ---- ordered logit -------------------------------------------------------------------------

def ordered_logit(y: np.ndarray, X: np.ndarray, *, tol: float = 1e-10, max_iter: int = 100
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Cumulative logit P(Y ≤ j) = F(θ_j − x'β) by Newton–Raphson with the analytic Hessian
    (as ``ordinal::clm``); ``y`` holds category positions 0..J−1.

    Each iteration is a few passes over the data (O(n·K²)); BFGS in statsmodels' OrderedModel
    needed hundreds of numerical-gradient passes.  Returns (β, θ, covariance of (β, θ) from the
    observed information, log-likelihood).
    """
    n, k = X.shape
    J = int(y.max()) + 1
    share = np.cumsum(np.bincount(y, minlength=J))[:-1] / n
    theta = np.log(share / (1 - share))
    beta = np.zeros(k)
    hi_ok, lo_ok = y < J - 1, y > 0                      # a finite upper / lower threshold

    def pieces(b: np.ndarray, t: np.ndarray):  # type: ignore[no-untyped-def]
        eta = X @ b
        tt = np.r_[t, 0.0]
        a = np.where(hi_ok, tt[np.minimum(y, J - 2)] - eta, np.inf)
        c = np.where(lo_ok, tt[np.maximum(y - 1, 0)] - eta, -np.inf)
        Fa, Fc = 1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-c))
        p = Fa - Fc
        return a, c, Fa, Fc, p

    def loglik(b: np.ndarray, t: np.ndarray) -> float:
        if np.any(np.diff(t) <= 0):
            return -np.inf
        p = pieces(b, t)[4]
        return float(np.sum(np.log(p))) if np.all(p > 0) else -np.inf

    ll = loglik(beta, theta)
    for _ in range(max_iter):
        a, c, Fa, Fc, p = pieces(beta, theta)
        u, v = Fa * (1 - Fa), Fc * (1 - Fc)                # densities at the two thresholds
        du, dv = u * (1 - 2 * Fa), v * (1 - 2 * Fc)        # their derivatives
        up, vp = u / p, v / p
        grad_b = -X.T @ (up - vp)
        ia, ic = np.minimum(y, J - 2), np.maximum(y - 1, 0)
        grad_t = (np.bincount(ia[hi_ok], weights=up[hi_ok], minlength=J - 1)
                  - np.bincount(ic[lo_ok], weights=vp[lo_ok], minlength=J - 1))
        h_bb = (du - dv) / p - (up - vp) ** 2
        h_ba = -(du / p - up * (up - vp))                   # ∂²/∂β∂θ_upper (times x)
        h_bc = -(-dv / p + vp * (up - vp))                  # ∂²/∂β∂θ_lower (times x)
        H = np.zeros((k + J - 1, k + J - 1))
        H[:k, :k] = X.T @ (X * h_bb[:, None])
        for m in range(J - 1):
            sel_a, sel_c = hi_ok & (ia == m), lo_ok & (ic == m)
            col = X[sel_a].T @ h_ba[sel_a] + X[sel_c].T @ h_bc[sel_c]
            H[:k, k + m] = H[k + m, :k] = col
            H[k + m, k + m] = (np.sum(du[sel_a] / p[sel_a] - up[sel_a] ** 2)
                               + np.sum(-dv[sel_c] / p[sel_c] - vp[sel_c] ** 2))
            if m + 1 < J - 1:                               # category m+1 sits between θ_m and θ_{m+1}
                sel = y == m + 1
                H[k + m, k + m + 1] = H[k + m + 1, k + m] = np.sum(up[sel] * vp[sel])
        grad = np.r_[grad_b, grad_t]
        step = np.linalg.solve(H, -grad)
        if np.max(np.abs(step)) < tol:                      # converged: H is at the estimate
            break
        scale = 1.0
        while True:                                         # step halving keeps θ ordered
            nb, nt = beta + scale * step[:k], theta + scale * step[k:]
            new = loglik(nb, nt)
            if new >= ll - 1e-12 or scale < 1e-8:
                break
            scale /= 2
        beta, theta, ll = nb, nt, new
    else:
        raise ModelSpecError("ordered logit did not converge in "
                             f"{max_iter} Newton iterations (separation in the data?)")
    return beta, theta, np.linalg.inv(-H), ll


def _fit_ologit(df: pd.DataFrame, spec: dict, labels: dict) -> ModelResult:
    regs = list(spec.get("regressors", []))
    y = df[spec["outcome"]].astype(int)
    cats = np.sort(y.unique())
    X = df[regs].to_numpy(float)
    beta, cut, V, llf = ordered_logit(np.searchsorted(cats, y.to_numpy()), X)
    names = regs + [f"cut{c}|{c2}" for c, c2 in zip(cats[:-1], cats[1:])]
    est = np.concatenate([beta, cut])
    ame = _ologit_ame(X, beta, cut, cats, V, regs)
    counts = y.value_counts().to_numpy(float)
    ll0 = float(np.sum(counts * np.log(counts / counts.sum())))   # thresholds-only model
    st = {"llf": llf, "pseudo_r2": 1 - llf / ll0, "categories": int(len(cats))}
    return ModelResult(spec["name"], spec.get("label", spec["name"]), "ologit",
                       pd.Series(est, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), None, MappingProxyType(st), (), MappingProxyType(labels),
                       MappingProxyType({"ame": ame}), tuple(regs))


def _ologit_probs(X: np.ndarray, beta: np.ndarray, cut: np.ndarray) -> np.ndarray:
    eta = X @ beta
    cdf = 1 / (1 + np.exp(-(np.r_[cut, np.inf][None, :] - eta[:, None])))
    cdf = np.column_stack([np.zeros(len(eta)), cdf])
    return np.diff(cdf, axis=1)


def _ologit_ame(X: np.ndarray, beta: np.ndarray, cut: np.ndarray, cats: np.ndarray, V: np.ndarray,
                regs: list[str]) -> pd.DataFrame:
    """Average marginal effect of each regressor on each category's probability (delta-method SE)."""
    k = len(beta)

    def ame(theta: np.ndarray) -> np.ndarray:
        b, c = theta[:k], theta[k:]
        eta = X @ b
        z = np.r_[c][None, :] - eta[:, None]
        f = np.exp(-z) / (1 + np.exp(-z)) ** 2                        # logistic density at cutpoints
        f = np.column_stack([np.zeros(len(eta)), f, np.zeros(len(eta))])
        dens = f[:, :-1] - f[:, 1:]                                    # n × categories
        return (dens.mean(axis=0)[None, :] * b[:, None]).ravel()      # dP(k)/dx_j = β_j (f_{k-1} - f_k)

    theta = np.r_[beta, cut]
    base = ame(theta)
    eps = 1e-6
    Jm = np.column_stack([(ame(theta + eps * np.eye(len(theta))[i]) - ame(theta - eps * np.eye(len(theta))[i]))
                          / (2 * eps) for i in range(len(theta))])
    se = np.sqrt(np.clip(np.diag(Jm @ V @ Jm.T), 0, None))
    rows = [{"term": regs[j], "category": int(cats[m]), "ame": base[j * len(cats) + m],
             "se": se[j * len(cats) + m]} for j in range(k) for m in range(len(cats))]
    return pd.DataFrame(rows)


# ---- logit ---------------------------------------------------------------------------------

def _fit_logit(df: pd.DataFrame, spec: dict, w_design: dict, labels: dict) -> ModelResult:
    regs = list(spec.get("regressors", []))
    y = df[spec["outcome"]].to_numpy(float)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ModelSpecError(f"model {spec['name']!r}: outcome must be 0/1")
    X, names = _design_matrix(df, regs, list(spec.get("fixed_effects", [])))
    w = df[spec["weights"]].to_numpy(float) if spec.get("weights") else np.ones(len(df))
    w = w / w.mean()
    beta = np.zeros(X.shape[1])
    for _ in range(100):                                    # Newton–Raphson (IRLS)
        mu = 1 / (1 + np.exp(-(X @ beta)))
        info = X.T @ (X * (w * mu * (1 - mu))[:, None])
        step = np.linalg.solve(info, X.T @ (w * (y - mu)))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = 1 / (1 + np.exp(-(X @ beta)))
    ainv = np.linalg.inv(X.T @ (X * (w * mu * (1 - mu))[:, None]))
    infl = (X * (w * (y - mu))[:, None]) @ ainv
    st: dict[str, Any] = {}
    if spec.get("se") == "design":
        d = SurveyDesign.from_frame(df.assign(_w=w), weight="_w", strata=w_design.get("strata"),
                                    psu=w_design.get("psu"))
        z = np.zeros((d.n_psu, X.shape[1]))
        np.add.at(z, d.psu, infl)
        V = d.variance_from_totals(z)
        dfi: float | None = float(d.degf + 1 - X.shape[1])
    else:
        V = ainv
        dfi = None
    ll = np.sum(w * (y * np.log(mu) + (1 - y) * np.log(1 - mu)))
    p0 = np.sum(w * y) / w.sum()
    ll0 = np.sum(w * (y * np.log(p0) + (1 - y) * np.log(1 - p0)))
    st["pseudo_r2"] = float(1 - ll / ll0)
    # average marginal effects, weighted, with delta-method SEs from the same covariance
    dens = w * mu * (1 - mu) / w.sum()
    rows = []
    for j, r in enumerate(names):
        if r == "Intercept" or r not in regs:
            continue
        ame = float(np.sum(dens) * beta[j])
        grad = (np.sum(dens * (1 - 2 * mu) * X.T, axis=1) * beta[j])
        grad[j] += np.sum(dens)
        rows.append({"term": r, "ame": ame, "se": float(np.sqrt(grad @ V @ grad))})
    return ModelResult(spec["name"], spec.get("label", spec["name"]), "logit",
                       pd.Series(beta, index=names), pd.DataFrame(V, index=names, columns=names),
                       len(y), dfi, MappingProxyType(st), tuple(spec.get("fixed_effects", [])),
                       MappingProxyType(labels), MappingProxyType({"ame": pd.DataFrame(rows)}),
                       tuple(regs))


# ---- Oaxaca–Blinder ------------------------------------------------------------------------

def oaxaca(y: np.ndarray, X: np.ndarray, w: np.ndarray, in_a: np.ndarray, names: list[str],
           W_boot: np.ndarray | None = None, *, units: np.ndarray | None = None,
           multipliers: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two-fold (pooled β with a group indicator, Jann 2008) and three-fold decomposition of
    ȳ_A − ȳ_B; bootstrap SEs from replicate weights: either ``W_boot`` (n × R) or, without an
    n × R matrix, ``units`` (PSU code of each respondent) and ``multipliers`` (PSUs × R) as
    :func:`analysis.sensitivity.rao_wu_multipliers` gives.

    Every replicate is solved from sums by unit (all replicates at once, no loop over draws).
    Returns (summary: component, estimate, se) and (detailed explained part by regressor).
    """
    n, k = X.shape
    if W_boot is not None:                   # each respondent its own unit
        units, multipliers = np.arange(n), W_boot / w[:, None]
    A = in_a.astype(bool)

    def sums(u: np.ndarray, U: int) -> dict[str, np.ndarray]:
        out = {}
        for tag, m in (("a", A), ("b", ~A)):
            gram, xy, sx = unit_sums(X[m], w[m], u[m], U, y[m])
            out[tag] = (gram, xy, sx, np.bincount(u[m], weights=w[m], minlength=U),
                        np.bincount(u[m], weights=w[m] * y[m], minlength=U))
        return out

    def parts(st: dict[str, np.ndarray], M: np.ndarray) -> np.ndarray:     # M: units × R
        (Ga, ba_, sa, na, ya), (Gb, bb_, sb, nb, _) = st["a"], st["b"]
        U, R = M.shape
        GA = (M.T @ Ga.reshape(U, k * k)).reshape(R, k, k)    # Σ_u m_ur G_u for every replicate
        GB = (M.T @ Gb.reshape(U, k * k)).reshape(R, k, k)
        BA, BB, SA, SB = M.T @ ba_, M.T @ bb_, M.T @ sa, M.T @ sb
        NA, NB, YA = M.T @ na, M.T @ nb, M.T @ ya
        ba = np.linalg.solve(GA, BA[:, :, None])[:, :, 0]
        bb = np.linalg.solve(GB, BB[:, :, None])[:, :, 0]
        Gp = np.zeros((R, k + 1, k + 1))         # pooled regression on [X, 1{A}]
        Gp[:, :k, :k] = GA + GB
        Gp[:, :k, k] = Gp[:, k, :k] = SA
        Gp[:, k, k] = NA
        bp = np.linalg.solve(Gp, np.column_stack([BA + BB, YA])[:, :, None])[:, :k, 0]
        xa, xb = SA / NA[:, None], SB / NB[:, None]
        dot = lambda p, q: np.einsum("rk,rk->r", p, q)   # noqa: E731
        gap = dot(xa, ba) - dot(xb, bb)
        E, C, I = dot(xa - xb, bb), dot(xb, ba - bb), dot(xa - xb, ba - bb)
        expl = dot(xa - xb, bp)
        unexpl = dot(xa, ba - bp) + dot(xb, bp - bb)
        return np.column_stack([gap, expl, unexpl, E, C, I, (xa - xb) * bp])

    base = parts(sums(np.zeros(n, dtype=np.intp), 1), np.ones((1, 1)))[0]
    if multipliers is not None and units is not None:
        se = parts(sums(np.asarray(units), multipliers.shape[0]), multipliers).std(axis=0, ddof=1)
    else:
        se = np.full_like(base, np.nan)
    comp = ["gap", "explained (two-fold)", "unexplained (two-fold)", "endowments (three-fold)",
            "coefficients (three-fold)", "interaction (three-fold)"]
    summary = pd.DataFrame({"component": comp, "estimate": base[:6], "se": se[:6]})
    detail = pd.DataFrame({"term": names, "explained": base[6:], "se": se[6:]})
    return summary, detail[detail["term"] != "Intercept"].reset_index(drop=True)


def _fit_oaxaca(df: pd.DataFrame, spec: dict, w_design: dict, labels: dict) -> ModelResult:
    from analysis.sensitivity import rao_wu_multipliers

    a, b = spec["groups"]
    df = df[df[spec["group"]].isin([a, b])].reset_index(drop=True)
    regs = list(spec["regressors"])
    y = df[spec["outcome"]].to_numpy(float)
    X, names = _design_matrix(df, regs, [])
    w = df[spec["weights"]].to_numpy(float) if spec.get("weights") else np.ones(len(df))
    in_a = (df[spec["group"]] == a).to_numpy()
    rng = np.random.default_rng(int(spec.get("seed", 0)))
    reps = int(spec.get("reps", 499))
    strata = df[w_design["strata"]].to_numpy() if w_design.get("strata") in df else np.zeros(len(df))
    psu = df[w_design["psu"]].to_numpy() if w_design.get("psu") in df else np.arange(len(df))
    units, mult = rao_wu_multipliers(strata, psu, reps, rng)
    summary, detail = oaxaca(y, X, w, in_a, names, units=units, multipliers=mult)
    params = pd.Series(summary["estimate"].to_numpy(), index=summary["component"])
    V = pd.DataFrame(np.diag(summary["se"].to_numpy() ** 2), index=params.index, columns=params.index)
    detail["label"] = detail["term"].map(lambda t: labels.get(t, t))
    return ModelResult(spec["name"], spec.get("label", spec["name"]), "oaxaca", params, V, len(df),
                       None, MappingProxyType({"groups": f"{a} vs {b}", "bootstrap_reps": reps}), (),
                       MappingProxyType({}), MappingProxyType({"decomposition": summary, "detail": detail}),
                       tuple(params.index))


# ---- driver --------------------------------------------------------------------------------

def fit_model(w: Wave, spec: dict, specs: dict, *, index_config: IndexConfig | None = None) -> ModelResult:
    """Fit one model specification on a wave."""
    df, dropped = model_frame(w, spec, specs, index_config=index_config)
    if len(df) == 0:
        raise ModelSpecError(f"model {spec['name']!r}: no complete rows")
    labels = _labels(w, specs)
    dc = {k: v for k, v in w.design_columns.items() if v}
    fam = spec["family"]
    if fam in ("ols", "wls"):
        res = _fit_linear(df, spec, dc, labels)
    elif fam == "mixedlm":
        res = _fit_mixed(df, spec, labels)
    elif fam == "ologit":
        res = _fit_ologit(df, spec, labels)
    elif fam == "logit":
        res = _fit_logit(df, spec, dc, labels)
    else:
        res = _fit_oaxaca(df, spec, dc, labels)
    return ModelResult(**{**res.__dict__, "stats": MappingProxyType({**res.stats, "dropped": dropped})})


def fit_models(wave: str | Wave | None = None, *, names: list[str] | None = None,
               specs_path: str | Path | None = None) -> ModelSet:
    """Fit the models of ``data/models.yml`` (all, or those named) on a wave."""
    w = wave if isinstance(wave, Wave) else load_wave(wave)
    specs = load_specs(specs_path)
    chosen = [m for m in specs["models"] if names is None or m["name"] in names]
    if names:
        unknown = set(names) - {m["name"] for m in specs["models"]}
        if unknown:
            raise ModelSpecError(f"unknown model(s) {sorted(unknown)}; known: "
                                 f"{', '.join(m['name'] for m in specs['models'])}")
    fitted, skipped = [], {}
    for m in chosen:
        lacking = _lacking(w, m, specs)
        if lacking and names is None:
            skipped[m["name"]] = f"the wave has no {', '.join(lacking)}"
            continue
        fitted.append(fit_model(w, m, specs))
    return ModelSet(tuple(fitted), w.id, w.synthetic, MappingProxyType(skipped))


def _lacking(w: Wave, spec: dict, specs: dict) -> list[str]:
    """Codebook variables a model needs that the wave does not have (an optional block)."""
    have = set(w.villagers.columns)
    cb_ids = set(w.codebook.ids("villagers"))
    need = [spec["outcome"], *spec.get("regressors", [])]
    derived = specs.get("derived", {})
    out = []
    for v in need:
        if v in derived:
            import re

            deps = [t for t in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", derived[v]["expr"]) if t in cb_ids]
            out += [d for d in deps if d not in have]
        elif v in cb_ids and v not in have:
            out.append(v)
    return sorted(set(out))


def robustness(wave: str | Wave | None = None, *, model: str = "wls_region") -> pd.DataFrame:
    """The baseline model with outcomes from alternative index constructions (tidy rows)."""
    w = wave if isinstance(wave, Wave) else load_wave(wave)
    specs = load_specs()
    spec = next(m for m in specs["models"] if m["name"] == model)
    spec = {**spec, "wild": None}
    base = IndexConfig.load()
    variants = {"default (min-max, equal, arithmetic)": base,
                "z-score normalisation": base.with_(normalisation="zscore"),
                "rank normalisation": base.with_(normalisation="rank"),
                "entropy weights": base.with_(weighting="entropy"),
                "PCA weights": base.with_(weighting="pca"),
                "AHP weights": base.with_(weighting="ahp"),
                "geometric aggregation": base.with_(aggregation="geometric"),
                "TOPSIS aggregation": base.with_(aggregation="topsis")}
    out = []
    for name, cfg in variants.items():
        r = fit_model(w, {**spec, "label": name}, specs, index_config=cfg)
        out.append(r.to_frame().assign(construction=name))
    return pd.concat(out, ignore_index=True)


def diagnostics(wave: str | Wave | None = None, *, model: str = "wls_region") -> dict[str, Any]:
    """VIF, Breusch–Pagan, RESET and influence (Cook's distance) of a linear model (unweighted)."""
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan, linear_reset
    from statsmodels.stats.outliers_influence import OLSInfluence, variance_inflation_factor

    w = wave if isinstance(wave, Wave) else load_wave(wave)
    specs = load_specs()
    spec = next(m for m in specs["models"] if m["name"] == model)
    df, _ = model_frame(w, spec, specs)
    X, names = _design_matrix(df, list(spec["regressors"]), list(spec.get("fixed_effects", [])))
    y = df[spec["outcome"]].to_numpy(float)
    fit = sm.OLS(y, X).fit()
    regs = list(spec["regressors"])
    vif = pd.DataFrame({"term": regs, "vif": [variance_inflation_factor(X, names.index(r)) for r in regs]})
    bp = het_breuschpagan(fit.resid, X)
    reset = linear_reset(fit, power=3, use_f=True)
    cook = OLSInfluence(fit).cooks_distance[0]
    return {"vif": vif, "breusch_pagan": {"lm": float(bp[0]), "p": float(bp[1])},
            "reset": {"f": float(reset.fvalue), "p": float(reset.pvalue)},
            "cooks_max": float(cook.max()), "cooks_over_4_n": int((cook > 4 / len(y)).sum()),
            "n": len(y)}
