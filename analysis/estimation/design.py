"""Design-based estimation: a stratified cluster design and Taylor-linearised estimators.

The variance estimator is the usual one for a stratified multistage design with (approximately)
with-replacement sampling of primary sampling units (PSUs) — the one R's ``survey`` package uses by
default (``svydesign(ids=~psu, strata=~stratum, weights=~w, fpc=...)``):

.. math::

   \\hat V(\\hat\\theta) = \\sum_h (1-f_h)\\,\\frac{n_h}{n_h-1} \\sum_{i \\in h} (z_{hi}-\\bar z_h)^2,
   \\qquad z_{hi} = \\sum_{k \\in (h,i)} w_k u_k,

where :math:`u_k` is the influence (linearisation) value of respondent :math:`k` for the estimate.
Domains (region, province, any category) are *subpopulations of the full design*: respondents
outside the domain keep their PSU with :math:`u_k=0`, so the number of PSUs per stratum is that of
the whole sample.  Rows with a missing outcome are treated the same way (as ``svymean(...,
na.rm=TRUE)`` does).

Single-PSU strata follow ``options(survey.lonely.psu = "adjust")``: the lonely PSU's total is
centred at zero, the population mean of the linearisation values, as R's survey does (for means,
ratios, proportions and model scores the PSU totals sum to zero, so zero is also their grand
mean; a total's are not centred, so a lonely PSU adds its whole total squared: conservative).

Everything is vectorised: one ``bincount`` over (PSU, domain) pairs per estimate, whatever the
number of domains.

Example
-------
>>> from analysis.ingest.wave import load_wave
>>> from analysis.estimation.design import SurveyDesign, answered
>>> w = load_wave()
>>> d = SurveyDesign.from_frame(w.villagers, weight="weight", strata="province", psu="village_id")
>>> est = d.proportion(answered(w.villagers["old_age_ins"], 0), by=w.villagers["region3"])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special

LonelyPSU = Literal["adjust", "remove", "certainty", "fail"]


class DesignError(ValueError):
    """The design columns are unusable (non-positive weights, PSU in two strata...)."""


def _codes(x: object, n: int) -> tuple[np.ndarray, np.ndarray]:
    if x is None:
        return np.zeros(n, dtype=np.int64), np.array([0])
    codes, uniq = pd.factorize(pd.Series(np.asarray(x)), sort=True)
    if (codes < 0).any():
        raise DesignError("design column has missing values")
    return codes.astype(np.int64), np.asarray(uniq)


def fpc_population(f: np.ndarray, n_h: np.ndarray) -> np.ndarray:
    """An fpc as the stratum's population count of PSUs (R's convention: a value ≤ 1 is the
    sampling fraction of the ``n_h`` PSUs sampled, a value > 1 the count itself)."""
    return np.where(f <= 1, n_h / f, f)


def _check_fpc(f: np.ndarray, s_codes: np.ndarray, s_labels: np.ndarray, n_h: np.ndarray, *,
               with_psu: bool, stratified: bool = True) -> None:
    """The rules a wave's validation applies to an fpc, for a design built from arrays: positive,
    one value per stratum (else the last row's would be used, and the SE would follow
    the order of the rows), and as a count at least the PSUs sampled (else the SE is NaN)."""
    if len(f) != len(s_codes):
        raise DesignError(f"the fpc has {len(f)} values for {len(s_codes)} rows")
    if np.isnan(f).any() or (f <= 0).any():             # (infinite: an infinite population)
        raise DesignError("the fpc must be positive: a stratum's population count of PSUs, or its "
                          "sampling fraction (at most 1)")
    lo, hi = np.full(len(s_labels), np.inf), np.full(len(s_labels), -np.inf)
    np.minimum.at(lo, s_codes, f)
    np.maximum.at(hi, s_codes, f)
    from analysis.ingest.validate import fpc_below_message, fpc_varies_message   # a wave's words

    def name(h: int) -> object:                      # a stratum's label as written (not np.int64(1))
        x = s_labels[h]
        return None if not stratified else x.item() if isinstance(x, np.generic) else x

    for h in np.flatnonzero(lo != hi):
        raise DesignError(fpc_varies_message(name(h), len(np.unique(f[s_codes == h]))))
    for h in np.flatnonzero((lo > 1) & (lo < n_h)):
        raise DesignError(fpc_below_message(name(h), int(n_h[h]), float(lo[h]), psus=with_psu))


def no_variance_without_cases(v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The covariance of domain means or ratios with the rows and columns of domains without a
    case missing: a domain nobody answered in has no estimate, hence no standard error (not 0)."""
    if (n > 0).all():
        return v
    v = np.array(v, dtype=float)
    v[n == 0, :] = np.nan
    v[:, n == 0] = np.nan
    return v


def answered(y: object, value: float) -> np.ndarray:
    """The 0/1 variable whose proportion is the share giving the answer ``value`` among those who
    answered: 1 where ``y`` equals ``value``, 0 where it holds another answer, NaN where it holds
    none, so that a respondent without an answer leaves the base (R ``svyciprop(~I(y == value),
    design, na.rm = TRUE)``), not counted as giving another answer."""
    yv = np.asarray(y, dtype=float)
    return np.where(np.isnan(yv), np.nan, (yv == value).astype(float))


def text_codes(values: object) -> tuple[np.ndarray, np.ndarray]:
    """Codes of values compared as text, levels sorted as text (−1 for a missing value): the
    values are factorised as they are and only the distinct ones turned into text (no n-long
    column of strings)."""
    # a column is factorised in its own dtype (hashing numbers or Arrow strings, not n objects)
    own = isinstance(values, (pd.Series, pd.Index)) or (
        isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf")
    first, distinct = pd.factorize(values if own else np.asarray(values, dtype=object))
    codes, levels = pd.factorize(np.array([str(u) for u in distinct], dtype=object), sort=True)
    return np.where(first >= 0, codes[first], -1).astype(np.int64), np.asarray(levels)


def id_codes(values: object) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ids numbered in their sorted order (−1 for a missing id), so that a numbering,
    and the draws a seed gives each unit through it, never depend on the order of the rows:
    numbers compared and sorted as numbers (a code 2.0 read from SPSS and 2 read from a CSV are
    one id, before 10), other ids as text (:func:`text_codes`)."""
    v = values if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if v.dtype.kind in "biuf":
        codes, levels = pd.factorize(pd.Series(v), sort=True)
        return codes.astype(np.int64), np.asarray(levels)
    return text_codes(values)


def stratum_centres(sums: np.ndarray, n_h: np.ndarray, lonely_psu: str,
                    fpc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What the variance of PSU totals takes from each stratum, given the strata's sums of those
    totals (strata × k) and PSU counts ``n_h``: the centre of its PSUs' totals and the square root
    of its factor n_h/(n_h − 1) (times the fpc's (N_h − n_h)/N_h).  The covariance is then
    Σ c'c over PSUs, c = (z − centre[h]) · root[h].  A lonely PSU is centred at zero (``adjust``,
    R's ``onestrat``: the population mean of linearisation values) or contributes nothing
    (``remove``, ``certainty``: centred at its own total, root 0)."""
    n_h = n_h.astype(float)
    centres = sums / n_h[:, None]
    scale = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1), 1.0)
    lonely = n_h == 1
    if lonely.any():
        if lonely_psu == "adjust":
            centres[lonely] = 0.0
        else:
            scale[lonely] = 0.0
    if fpc is not None:
        with np.errstate(invalid="ignore"):               # inf/inf of an infinite population, not used
            scale = scale * np.where(np.isinf(fpc), 1.0, (fpc - n_h) / fpc)
    return centres, np.sqrt(scale)


def _psu_codes(s_codes: np.ndarray, psu: object) -> np.ndarray:
    """PSU codes 0..P−1, numbered stratum by stratum: ids need only be unique within a stratum.
    Numeric ids are compared as numbers, others as text (as a file holds them)."""
    raw, uniq = id_codes(np.asarray(psu))
    if (raw < 0).any():
        raise DesignError("design column has missing values")
    return pd.factorize(s_codes * len(uniq) + raw, sort=True)[0].astype(np.int64)


@dataclass(frozen=True)
class Estimate:
    """Design-based estimates (one per domain) with their covariance."""

    kind: str
    """``mean``, ``proportion``, ``total`` or ``ratio``."""
    domains: tuple
    """Domain labels (``("all",)`` without ``by``)."""
    estimate: np.ndarray
    """Point estimates."""
    vcov: np.ndarray
    """Linearised covariance matrix of the estimates (domains × domains)."""
    n: np.ndarray
    """Unweighted respondents contributing to each estimate."""
    sum_w: np.ndarray
    """Sum of weights of those respondents (estimated domain size)."""
    deff: np.ndarray
    """Design effect (design variance / variance under simple random sampling of the same size)."""
    df: np.ndarray
    """Design degrees of freedom per domain: PSUs with respondents in the domain minus the strata
    they lie in (Korn & Graubard 1999)."""
    level: float = 0.95
    """Confidence level of :attr:`ci`."""
    ci_method: str = "wald"
    """``wald`` (estimate ± t·SE) or ``logit`` (as ``svyciprop(method="logit")``), both on the
    t quantile with the domain's design df."""
    n_psu: np.ndarray | None = None
    """PSUs with respondents in each domain."""
    bounds: tuple[float, float] | None = None
    """The ends of the estimate's scale, if it has any (the index's 0 and 100): a Wald limit
    beyond one is cut at it (it happens with very few design df, where t is large)."""

    @property
    def se(self) -> np.ndarray:
        """Standard errors."""
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))

    @property
    def quantile(self) -> np.ndarray:
        """The t quantile of each domain's interval on its design df (NaN where df < 1: a domain
        in a single PSU has no variance estimate, so no interval)."""
        df = np.asarray(self.df, dtype=float)
        with np.errstate(invalid="ignore"):
            # scipy.special's t quantile, which scipy.stats.t.ppf calls (the same numbers, without
            # importing scipy.stats into every page kernel)
            return np.where(df >= 1, special.stdtrit(np.maximum(df, 1), 0.5 + self.level / 2), np.nan)

    @property
    def ci(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper confidence limits on the t quantile with the domain's design df (Wald
        limits cut at :attr:`bounds`)."""
        est, se = self.estimate, self.se
        q = self.quantile
        if self.ci_method not in ("wald", "logit"):
            raise ValueError(f"ci_method must be 'wald' or 'logit'; got {self.ci_method!r}")
        if self.ci_method == "logit":
            with np.errstate(divide="ignore", invalid="ignore"):
                lg = np.log(est / (1 - est))
                half = q * se / (est * (1 - est))
                lo, hi = 1 / (1 + np.exp(-(lg - half))), 1 / (1 + np.exp(-(lg + half)))
            # a domain on the boundary (every answer 0, or every answer 1) has SE 0: its interval
            # is the point itself, as svyciprop's logit glm gives it (to about 1e-11); on 0 design
            # df there is no quantile and no interval, on the boundary as elsewhere
            has_q = np.isfinite(q)
            lo = np.where(has_q & (est <= 0), 0.0, np.where(has_q & (est >= 1), 1.0, lo))
            hi = np.where(has_q & (est >= 1), 1.0, np.where(has_q & (est <= 0), 0.0, hi))
            return lo, hi
        lo, hi = est - q * se, est + q * se
        if self.bounds is not None:
            lo, hi = np.maximum(lo, self.bounds[0]), np.minimum(hi, self.bounds[1])
        return lo, hi

    def to_frame(self, scale: float = 1.0) -> pd.DataFrame:
        """Tidy table: domain, estimate, se, ci_low, ci_high, deff, n, n_psu, df, sum_w
        (``scale`` e.g. 100)."""
        lo, hi = self.ci
        n_psu = self.n_psu if self.n_psu is not None else np.full(len(self.domains), -1)
        return pd.DataFrame({
            "domain": list(self.domains), "estimate": self.estimate * scale, "se": self.se * scale,
            "ci_low": lo * scale, "ci_high": hi * scale, "deff": self.deff, "n": self.n,
            "n_psu": n_psu, "df": self.df, "sum_w": self.sum_w,
        })

    def contrast(self, a: object, b: object) -> tuple[float, float]:
        """Difference ``a - b`` of two domain estimates and its design-based standard error."""
        i, j = self.domains.index(a), self.domains.index(b)
        var = self.vcov[i, i] + self.vcov[j, j] - 2 * self.vcov[i, j]
        return float(self.estimate[i] - self.estimate[j]), float(np.sqrt(max(var, 0.0)))

    def __repr__(self) -> str:
        return f"Estimate({self.kind})\n{self.to_frame().to_string(index=False)}"


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified cluster sample: weights, strata, PSUs and an optional finite population correction.

    ``fpc`` follows R's convention: a number of PSUs in the stratum's population (values > 1) or a
    sampling fraction (values ≤ 1), constant within a stratum.
    """

    weights: np.ndarray
    """Design weights (positive)."""
    strata: np.ndarray
    """Stratum code of each respondent (0..H-1)."""
    psu: np.ndarray
    """PSU code of each respondent (0..P-1), unique across strata."""
    fpc: np.ndarray | None = None
    """Population number of PSUs per respondent's stratum, or ``None``."""
    lonely_psu: LonelyPSU = "adjust"
    """Rule for single-PSU strata (see module docstring)."""
    strata_labels: np.ndarray = field(default_factory=lambda: np.array([0]))
    """Original stratum labels."""
    _psu_stratum: np.ndarray = field(default_factory=lambda: np.array([0]))
    _n_h: np.ndarray = field(default_factory=lambda: np.array([0]))

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, weight: str, strata: str | None = None,
                   psu: str | None = None, fpc: str | None = None,
                   lonely_psu: LonelyPSU = "adjust") -> SurveyDesign:
        """Build a design from columns of a frame (PSU ids need only be unique within strata)."""
        for role, col in (("strata", strata), ("PSU", psu)):
            blank = int(df[col].isna().sum()) if col else 0
            if blank:
                raise DesignError(f"the {role} column {col!r} has {blank} missing value{'s' * (blank > 1)}")
        return cls.from_arrays(df[weight].to_numpy(),
                               None if strata is None else df[strata].to_numpy(),
                               None if psu is None else df[psu].to_numpy(),
                               None if fpc is None else df[fpc].to_numpy(),
                               lonely_psu=lonely_psu)

    @classmethod
    def from_arrays(cls, weights: np.ndarray, strata: np.ndarray | None = None,
                    psu: np.ndarray | None = None, fpc: np.ndarray | None = None, *,
                    lonely_psu: LonelyPSU = "adjust") -> SurveyDesign:
        """Build a design from arrays."""
        w = np.asarray(weights, dtype=float)
        n = len(w)
        if not np.all(np.isfinite(w)) or (w <= 0).any():
            raise DesignError("weights must be positive and finite")
        if lonely_psu not in ("adjust", "remove", "certainty", "fail"):
            raise DesignError(f"lonely_psu must be one of adjust, remove, certainty, fail; got {lonely_psu!r}")
        s_codes, s_labels = _codes(strata, n)
        p_codes = np.arange(n, dtype=np.int64) if psu is None else _psu_codes(s_codes, psu)
        n_psu = int(p_codes.max()) + 1 if n else 0
        psu_stratum = np.zeros(n_psu, dtype=np.int64)
        psu_stratum[p_codes] = s_codes
        n_h = np.bincount(psu_stratum, minlength=len(s_labels))
        if lonely_psu == "fail" and (n_h == 1).any():
            if strata is None:
                raise DesignError("the sample has a single PSU (no strata): no variance can be estimated")
            raise DesignError("strata with a single PSU: " + ", ".join(str(x) for x in s_labels[n_h == 1]))
        fpc_arr = None
        if fpc is not None:
            f = np.asarray(fpc, dtype=float)
            f = np.full(n, float(f)) if f.ndim == 0 else f      # one value: every stratum's
            _check_fpc(f, s_codes, s_labels, n_h, with_psu=psu is not None, stratified=strata is not None)
            pop = fpc_population(f, n_h[s_codes])
            fpc_arr = np.zeros(len(s_labels))
            fpc_arr[s_codes] = pop
        return cls(w, s_codes, p_codes, fpc_arr, lonely_psu, s_labels, psu_stratum, n_h)

    @property
    def n(self) -> int:
        """Respondents."""
        return len(self.weights)

    @property
    def n_psu(self) -> int:
        """Number of PSUs."""
        return len(self._psu_stratum)

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return len(self._n_h)

    @property
    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata."""
        return self.n_psu - self.n_strata

    # ---- variance -------------------------------------------------------------------------
    def psu_totals(self, values: np.ndarray, domain: np.ndarray, n_domains: int) -> np.ndarray:
        """PSU × domain totals of ``values`` (already multiplied by the weights); ``domain`` holds
        codes 0..n_domains−1."""
        key = self.psu * n_domains + domain
        z = np.bincount(key, weights=values, minlength=self.n_psu * n_domains)
        return z.reshape(self.n_psu, n_domains)

    def variance_from_totals(self, z: np.ndarray) -> np.ndarray:
        """Covariance matrix from PSU totals ``z`` (PSUs × k) of the linearised variable."""
        h = self._psu_stratum
        sums = np.zeros((self.n_strata, z.shape[1]))
        np.add.at(sums, h, z)
        centres, root = stratum_centres(sums, self._n_h, self.lonely_psu, self.fpc)
        c = (z - centres[h]) * root[h][:, None]
        return c.T @ c

    # ---- estimators -----------------------------------------------------------------------
    def _domains(self, by: object, valid: np.ndarray) -> tuple[np.ndarray, tuple, int]:
        if by is None:
            return np.where(valid, 0, -1).astype(np.int64), ("all",), 1
        b = by if isinstance(by, pd.Series) else pd.Series(np.asarray(by, dtype=object))
        ok = b.notna().to_numpy()
        codes, uniq = pd.factorize(b, sort=True)
        return np.where(ok & valid, codes, -1).astype(np.int64), tuple(uniq.tolist()), len(uniq)

    def _ratio(self, y: object, x: object | None, by: object, kind: str, ci: str,
               level: float) -> Estimate:
        """Σwy / Σwx by domain (``x`` None: a mean), with its linearised covariance."""
        y = np.asarray(y, dtype=float)
        x = np.ones(len(y)) if x is None else np.asarray(x, dtype=float)
        valid = np.isfinite(y) & np.isfinite(x)
        dom, labels, g = self._domains(by, valid)
        inn = dom >= 0
        d = np.where(inn, dom, 0)
        w = np.where(inn, self.weights, 0.0)
        yy, xx = np.where(inn, y, 0.0), np.where(inn, x, 0.0)
        num = np.bincount(d, weights=w * yy, minlength=g)
        den = np.bincount(d, weights=w * xx, minlength=g)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = num / den
            u = np.where(inn, (yy - r[d] * xx) / den[d], 0.0)
        z = self.psu_totals(w * u, d, g)
        v = self.variance_from_totals(z)
        n_dom = np.bincount(d[inn], minlength=g)
        v = no_variance_without_cases(v, n_dom)
        deff = self._deff(v, y, x, d, inn, w, r, den, g)
        df, n_psu = self._domain_df(d, inn, g)
        return Estimate(kind, labels, r, v, n_dom, np.bincount(d, weights=w, minlength=g),
                        deff, df, level, ci, n_psu)

    def _domain_df(self, d: np.ndarray, inn: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Per domain: design df (PSUs in the domain minus the strata they touch) and PSUs."""
        key = np.unique(self.psu[inn] * g + d[inn])
        psu_in = key // g
        dom_of = key % g
        n_psu_dom = np.bincount(dom_of, minlength=g)
        strata_key = np.unique(self._psu_stratum[psu_in] * g + dom_of)
        n_str_dom = np.bincount(strata_key % g, minlength=g)
        return n_psu_dom - n_str_dom, n_psu_dom

    def _deff(self, v: np.ndarray, y: np.ndarray, x: np.ndarray, d: np.ndarray, inn: np.ndarray,
              w: np.ndarray, r: np.ndarray, den: np.ndarray, g: int) -> np.ndarray:
        """Design effect V / V_srs with V_srs = s²_w / n, as R ``svymean(deff = "replace")``: it
        does not depend on the scale of the weights. With an fpc the population size is known and
        V_srs carries the finite population factor (1 − n/N̂), N̂ = Σw, as ``deff = TRUE``; without
        one Σw is not a population size unless the weights were calibrated to one (weights scaled to
        mean 1 would make 1 − n/N̂ = 0)."""
        # 0/0: a domain nobody answered in, a zero denominator; x/0: a census (no sampling variance)
        with np.errstate(invalid="ignore", divide="ignore"):
            yy = np.where(inn, y - r[d] * np.where(inn, x, 0.0), 0.0)
            n = np.bincount(d[inn], minlength=g)
            sw = np.bincount(d, weights=w, minlength=g)
            s2 = np.bincount(d, weights=w * yy**2, minlength=g) / sw * n / np.maximum(n - 1, 1)
            xbar = den / sw
            fpf = (1 - n / sw) if self.fpc is not None else 1.0
            vsrs = s2 / n / xbar**2 * fpf
            return np.diag(v) / vsrs

    def mean(self, y: object, *, by: object = None, level: float = 0.95) -> Estimate:
        """Weighted mean of ``y`` overall or by domain (missing ``y`` excluded as a domain)."""
        return self._ratio(y, None, by, "mean", "wald", level)

    def proportion(self, y: object, *, by: object = None, level: float = 0.95) -> Estimate:
        """Proportion of ``y`` == 1 (or True), with logit CIs on the design's degrees of freedom."""
        yv = np.asarray(pd.Series(y), dtype=float)
        bad = np.isfinite(yv) & ~np.isin(yv, (0.0, 1.0))
        if bad.any():
            raise ValueError("proportion() needs a 0/1 (or boolean) variable")
        return self._ratio(yv, None, by, "proportion", "logit", level)

    def ratio(self, y: object, x: object, *, by: object = None, level: float = 0.95) -> Estimate:
        """Ratio of totals Σwy / Σwx overall or by domain."""
        return self._ratio(y, x, by, "ratio", "wald", level)

    def total(self, y: object, *, by: object = None, level: float = 0.95) -> Estimate:
        """Weighted total of ``y`` overall or by domain."""
        y = np.asarray(y, dtype=float)
        valid = np.isfinite(y)
        dom, labels, g = self._domains(by, valid)
        inn = dom >= 0
        d = np.where(inn, dom, 0)
        w = np.where(inn, self.weights, 0.0)
        yy = np.where(inn, y, 0.0)
        t = np.bincount(d, weights=w * yy, minlength=g)
        z = self.psu_totals(w * yy, d, g)
        v = self.variance_from_totals(z)
        df, n_psu = self._domain_df(d, inn, g)
        return Estimate("total", labels, t, v, np.bincount(d[inn], minlength=g),
                        np.bincount(d, weights=w, minlength=g), np.full(g, np.nan),
                        df, level, "wald", n_psu)
