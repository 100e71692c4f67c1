"""Results of the determinant models: immutable, tidy, and showing themselves.

:class:`ModelResult` is one fitted model (``.to_frame()`` tidy coefficients with SEs, CIs and
p-values on the model's degrees of freedom; ``.summary()``); :class:`ModelSet` several models as a
regression table (HTML, LaTeX, CSV).

Example
-------
>>> from analysis.estimation.study import build_study
>>> from analysis.estimation.suite import fit_models
>>> ms = fit_models(build_study("2020-replica"), names=["wls_region"])
>>> ms["wls_region"].to_frame().columns[:4].tolist()
['model', 'term', 'label', 'estimate']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import stats

from analysis.i18n import N_, Message, _

FE_LABELS = {"region3": N_("region"), "region4": N_("region (NBS)"), "province_en": N_("province"),
             "province": N_("province")}


def _fe_row(fe: str) -> str:
    """A regression table's row saying which fixed effects a model has ("region effects")."""
    return _("{name} effects").format(name=_(FE_LABELS.get(fe, fe)))


class ModelSpecError(ValueError):
    """A model that cannot be fitted on this wave (unknown variable, no complete rows...).

    ``reason`` says why: a :class:`~analysis.i18n.Message` where a page may show it (a model
    skipped on a wave, in the edition's language), or plain text; ``model`` names the model, the
    error's text then reading "model 'name': reason".

    >>> str(ModelSpecError(Message(N_("no complete rows")), "m"))
    "model 'm': no complete rows"
    """

    def __init__(self, reason: str, model: str | None = None) -> None:
        super().__init__(f"model {model!r}: {reason}" if model else str(reason))
        self.reason, self.model = reason, model


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
    df_inference: float | pd.Series | None
    """Degrees of freedom of t-based inference: one for all terms, or one per term (a series by
    term: the multilevel model's between-within df); None: normal."""
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
        df = self.df_inference
        lo, hi, p = inference(est, se, df[terms].to_numpy() if isinstance(df, pd.Series) else df, level)
        return pd.DataFrame({"model": self.name, "term": terms,
                             "label": [self.term_labels.get(t, t) for t in terms],
                             "estimate": est, "se": se, "ci_low": lo, "ci_high": hi,
                             "p": p, "n": self.nobs}, columns=TIDY_COLUMNS)

    def summary(self) -> str:
        """Readable summary: coefficients and fit statistics."""
        st = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.stats.items())
        return f"{self.label} [{self.family}]\n{self._shown().to_string(index=False)}\n{st}"

    def _shown(self) -> pd.DataFrame:
        """The tidy table as printed: numbers to 4 decimals, p-values as the report gives them
        ("< 0.001", not 0.0000)."""
        from analysis.publishing.formats import fmt_p

        f = self.to_frame()
        return f.round(4).assign(p=f["p"].map(fmt_p))

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return self._shown().to_html(index=False)


TIDY_COLUMNS = ("model", "term", "label", "estimate", "se", "ci_low", "ci_high", "p", "n")
"""The columns of a tidy table of coefficients (:meth:`ModelResult.to_frame`)."""


def inference(est: np.ndarray, se: np.ndarray, df: float | np.ndarray | None, level: float = 0.95
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence limits and two-sided p-values: t with ``df`` degrees of freedom (one for all
    estimates, or one per estimate; infinite is the normal), or the normal when ``df`` is None.
    A df of zero or less gives no interval and no p-value (NaN), as R's ``pt``/``qt``."""
    est, se = np.asarray(est, float), np.asarray(se, float)
    z = est / np.where(se > 0, se, np.nan)
    if df is None:
        q, p = stats.norm.ppf(0.5 + level / 2), 2 * stats.norm.sf(np.abs(z))
    else:
        df = np.where(np.asarray(df, float) > 0, df, np.nan)
        q, p = stats.t.ppf(0.5 + level / 2, df), 2 * stats.t.sf(np.abs(z), df)
    return est - q * se, est + q * se, p


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN kept): controls the chance of any
    false rejection in the family, whatever the dependence between the tests."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if not m:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


def pool_rubin(q: np.ndarray, u: np.ndarray, df_complete: float | None = None, level: float = 0.95
               ) -> pd.DataFrame:
    """Rubin's rules for ``m`` completed data sets (rows of ``q``: each data set's estimates;
    ``u``: their squared SEs), with the degrees of freedom of Barnard & Rubin (1999) when the
    complete-data analysis has ``df_complete`` (None or infinite: Rubin's 1987 df), as R's
    ``mice::pool``, whose floor of 1e-4 on λ it keeps.

    Returns per column of ``q``: estimate (the mean), se (√T, T = Ū + (1 + 1/m)B), df, ci_low,
    ci_high and p on t with that df, riv (the relative increase in variance r), lambda (the share
    of T due to missingness) and fmi (the fraction of missing information, (r + 2/(df + 3))/(r + 1)).
    """
    q, u = np.atleast_2d(np.asarray(q, float)), np.atleast_2d(np.asarray(u, float))
    m = q.shape[0]
    if m < 2 or u.shape != q.shape:
        raise ValueError(f"Rubin's rules need two or more data sets of equal shape; "
                         f"got {q.shape} and {u.shape}")
    qbar, ubar, b = q.mean(axis=0), u.mean(axis=0), q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    lam = np.maximum((1 + 1 / m) * b / t, 1e-4)
    riv = (1 + 1 / m) * b / ubar
    df = (m - 1) / lam ** 2
    if df_complete is not None and np.isfinite(df_complete):
        dfobs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = df * dfobs / (df + dfobs)
    se = np.sqrt(t)
    lo, hi, p = inference(qbar, se, df, level)
    return pd.DataFrame({"estimate": qbar, "se": se, "df": df, "ci_low": lo, "ci_high": hi, "p": p,
                         "riv": riv, "lambda": (1 + 1 / m) * b / t, "fmi": (riv + 2 / (df + 3)) / (riv + 1)})


def _stars(p: float) -> str:
    """Stars at the 5 % and 1 % levels only (applied to Holm-adjusted p-values)."""
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


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

    def to_frame(self, *, adjust: bool = True) -> pd.DataFrame:
        """All tidy coefficients stacked, with ``p_holm``: the p-values adjusted by Holm across
        every coefficient of the set (one table is one family of tests)."""
        t = (pd.concat([r.to_frame() for r in self.results], ignore_index=True) if self.results
             else pd.DataFrame(columns=TIDY_COLUMNS))           # no model estimable on the wave
        if adjust:
            t["p_holm"] = holm(t["p"].to_numpy())
        return t

    def table(self, *, stars: bool = True, digits: int = 3) -> pd.DataFrame:
        """Wide regression table: rows terms (labelled) + N, R², clusters, FE, ICCs; cells 'b (se)'
        with stars at 5 % and 1 % on Holm-adjusted p-values across the table's tests."""
        cols: dict[str, dict[str, str]] = {}
        order: list[str] = []
        tidy = self.to_frame()
        for r in self.results:
            t = tidy[tidy["model"] == r.name]
            cells = {}
            for row in t.itertuples():
                cells[row.label] = (f"{row.estimate:.{digits}f}{_stars(row.p_holm) if stars else ''}"
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
                cells[_("clusters")] = str(fit["n_clusters"])
            if "icc" in fit:
                cells[_("ICC, empty model")] = f"{fit['icc']:.3f}"
                cells[_("ICC, with the covariates")] = f"{fit['icc_conditional']:.3f}"
            for fe in r.fixed_effects:
                cells[_fe_row(fe)] = _("yes")
            cols[_(r.label)] = cells
        foot = ["N", "R²", "pseudo-R²", _("clusters"), _("ICC, empty model"), _("ICC, with the covariates")]
        fes = sorted({_fe_row(fe) for r in self.results for fe in r.fixed_effects})
        index = order + fes + foot
        df = pd.DataFrame({k: [v.get(i, "") for i in index] for k, v in cols.items()}, index=index)
        return df[(df != "").any(axis=1)].rename_axis("").reset_index()

    def n_tests(self) -> int:
        """The coefficient tests of Holm's family: the coefficients with a p-value (a term on 0 df
        has none, and is not adjusted for)."""
        return int(self.to_frame()["p"].notna().sum())

    def to_latex(self, *, stars: bool = True) -> str:
        """The regression table as a LaTeX tabular."""
        t = self.table(stars=stars)
        return t.to_latex(index=False, escape=True, column_format="l" + "c" * (t.shape[1] - 1))
