"""Real public statistics: the province × year panel 2005–2024 (official NBS and budget data).

Source and provenance: ``data/external/_merged/PROVENANCE.md`` and the PROVENANCE.md of each
upstream folder.  GDP is the NBS portal vintage of about 2026-03 throughout (later than the
first-published figures; see the provenance note), so GDP per head is in that vintage.

Example
-------
>>> from analysis.ingest.official import province_panel
>>> p = province_panel()
>>> float(p.loc[(310000, 2020), "urban_rate_pct"])
89.3
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis import paths

PANEL_CSV = paths.EXTERNAL / "_merged" / "province_year_core_2005_2024.csv"
SERVICES_CSV = paths.EXTERNAL / "_merged" / "province_year_services_2005_2024.csv"
"""Education and labour series (NBS, 2005–2022; province totals, not rural-only)."""
UNITS = {
    "urban_rate_pct": "% of year-end resident population living in towns",
    "gdp_100m_yuan": "100 million yuan, current prices (NBS vintage ~2026-03)",
    "resident_pop_10k": "10 thousand persons, year-end resident population",
    "fiscal_exp_100m_yuan": "100 million yuan, local general public budget expenditure",
    "exp_education_100m_yuan": "100 million yuan, budget expenditure on education",
    "exp_scitech_100m_yuan": "100 million yuan, budget expenditure on science and technology",
    "exp_agri_forestry_water_100m_yuan": "100 million yuan, budget expenditure on agriculture, forestry and water",
    "gdp_per_capita_yuan": "yuan per resident (GDP / year-end population)",
    "edu_exp_share_pct": "% of budget expenditure spent on education",
    "fiscal_exp_per_capita_yuan": "yuan per resident",
    "edu_exp_per_capita_yuan": "yuan per resident (derived here)",
    "primary_student_teacher_ratio": "pupils per full-time teacher, regular primary schools (2006: 16 provinces "
                                     "empty, the NBS column is permuted)",
    "junior_sec_student_teacher_ratio": "students per teacher, junior secondary schools",
    "primary_fulltime_teachers_10k": "10 thousand full-time primary teachers",
    "junior_sec_fulltime_teachers_10k": "10 thousand full-time junior-secondary teachers (2011–2022)",
    "primary_schools_n": "regular primary schools",
    "junior_sec_schools_n": "junior secondary schools (2011–2022)",
    "primary_enrolment_10k": "10 thousand pupils enrolled, primary",
    "junior_sec_enrolment_10k": "10 thousand students enrolled, junior secondary (2011–2022)",
    "kindergarten_pupils_per_100k_pop": "kindergarten pupils per 100,000 population (2008–2022)",
    "urban_registered_unemployment_rate_pct": "% urban registered unemployment (2005–2021; a break in 2020–21)",
    "urban_registered_unemployed_10k": "10 thousand urban registered unemployed (a break in 2020–21)",
    "rural_pop_10k": "10 thousand persons, year-end rural population",
    "rural_pop_share_pct": "% of the year-end resident population that is rural",
}
SERVICE_SERIES = ("primary_student_teacher_ratio", "junior_sec_student_teacher_ratio",
                  "kindergarten_pupils_per_100k_pop", "urban_registered_unemployment_rate_pct",
                  "rural_pop_share_pct")
"""The education and labour series the report shows (the others are their numerators and denominators)."""
SHARE_WEIGHTS = {"primary_student_teacher_ratio": "primary_fulltime_teachers_10k",
                 "junior_sec_student_teacher_ratio": "junior_sec_fulltime_teachers_10k",
                 "edu_exp_share_pct": "fiscal_exp_100m_yuan"}
"""Ratios whose mean over provinces is weighted by their denominator rather than the population:
so weighted, the mean of a ratio is the ratio of the totals, the region's or the nation's own
(pupils over teachers, education spending over all public spending)."""


def weight_of(series: str) -> str:
    """The column a mean of ``series`` over provinces is weighted by: a ratio's denominator
    (teachers for pupils per teacher, public spending for the education share), residents
    otherwise (per-head series and population shares, whose denominator they are; registered
    unemployment too, its labour force not being in the panel)."""
    return SHARE_WEIGHTS.get(series, "resident_pop_10k")


BREAK_YEAR = 2020
"""Registered unemployment changes regime from this year (pandemic, registration rules): a break."""


def province_panel() -> pd.DataFrame:
    """Balanced 31 × 2005–2024 panel indexed by (adcode, year); units in ``.attrs['units']``.
    A copy of the one read (a caller that edits it changes nothing for the next)."""
    return _province_panel().copy()


@lru_cache(maxsize=1)
def _province_panel() -> pd.DataFrame:
    df = pd.read_csv(PANEL_CSV)
    df = df.rename(columns={"name_en_nbs": "province", "region4_nbs": "region4",
                            "region3_conventional": "region3"})
    df["edu_exp_per_capita_yuan"] = (df["exp_education_100m_yuan"] * 1e8
                                     / (df["resident_pop_10k"] * 1e4)).round(1)
    if SERVICES_CSV.exists():
        services = pd.read_csv(SERVICES_CSV)
        df = df.merge(services, on=["adcode", "year"], how="left", validate="one_to_one")
    df = df.set_index(["adcode", "year"]).sort_index()
    df.attrs["units"] = dict(UNITS)
    df.attrs["source"] = "data/external/_merged/PROVENANCE.md"
    return df


COVARIATE_SOURCES = ("urban_rate_pct", "gdp_per_capita_yuan", "fiscal_exp_per_capita_yuan")
"""The panel's columns the province covariates are computed from (:func:`province_covariates`)."""


def province_covariates(year: int = 2020, panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Province-level covariates of one year for the multilevel model, indexed by adcode
    (``panel``: the province panel, default :func:`province_panel`).

    urban_rate (%), log GDP per head (yuan), public budget expenditure per head (thousand yuan).
    """
    p = (province_panel() if panel is None else panel).xs(year, level="year")
    return pd.DataFrame({
        "urban_rate": p["urban_rate_pct"],
        "log_gdp_pc": np.log(p["gdp_per_capita_yuan"]),
        "fiscal_exp_pc_k": p["fiscal_exp_per_capita_yuan"] / 1000,
    })
