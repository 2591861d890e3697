"""Fraud victimisation rates (电信网络诈骗受害率): smoothed by area, rate ratios by group.

* :func:`empirical_bayes_rates`: Marshall's global empirical Bayes smoothing, so that small
  areas with one or two cases do not top the list;
* :func:`high_risk_areas`: smoothed rates plus Getis-Ord Gi* with FDR, levelled;
* :func:`rate_ratios`: for each combination of attributes, the rate against everyone else,
  with an exact (conditional binomial) or Wald confidence interval.

References
----------
.. [1] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
   estimators. J. R. Stat. Soc. C (Applied Statistics) 40(2), 283–294. doi:10.2307/2347593
.. [2] Rothman, K. J., Greenland, S. & Lash, T. L. (2008). Modern Epidemiology, 3rd ed.,
   ch. 14 (rate ratio intervals). Lippincott Williams & Wilkins.
.. [3] Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance
   statistics. Geographical Analysis 24(3), 189–206. doi:10.1111/j.1538-4632.1992.tb00261.x
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from haizhou.analytics.levels import assign_levels
from haizhou.analytics.spatial_stats import Neighbours, getis_ord_gi_star

__all__ = ["EBRates", "empirical_bayes_rates", "high_risk_areas", "rate_ratios"]


@dataclass(frozen=True, slots=True, eq=False)
class EBRates:
    """Empirical Bayes smoothed rates (经验贝叶斯平滑率), aligned with the areas.

    Attributes
    ----------
    raw : numpy.ndarray of float64
        Cases / population (NaN where the population is 0).
    smoothed : numpy.ndarray of float64
        ``mean + shrinkage · (raw − mean)``; the global mean where the population is 0.
    shrinkage : numpy.ndarray of float64
        Weight on the area's own rate, in [0, 1]: ``variance / (variance + mean / n_i)``.
    mean : float
        Global rate, total cases / total population.
    variance : float
        Between-area variance of the true rates (method of moments, floored at 0).
    """

    raw: np.ndarray
    smoothed: np.ndarray
    shrinkage: np.ndarray
    mean: float
    variance: float


def empirical_bayes_rates(cases: Any, population: Any) -> EBRates:
    """Marshall (1991) global empirical Bayes rates.

    Parameters
    ----------
    cases : array_like of float, shape (n,)
        Cases per area, ≥ 0.
    population : array_like of float, shape (n,)
        Population at risk per area, ≥ 0 (areas with 0 get the global mean).

    Returns
    -------
    EBRates

    Examples
    --------
    >>> r = empirical_bayes_rates([1, 10, 100], [10, 1000, 10000])
    >>> round(r.mean, 5), r.raw.tolist(), r.smoothed.round(4).tolist()
    (0.01008, [0.1, 0.01, 0.01], [0.0105, 0.0101, 0.01])
    >>> r2 = empirical_bayes_rates([50, 10, 5, 40], [1000, 1000, 1000, 1000])
    >>> bool(r2.shrinkage[0] > 0.8)
    True
    """
    y = np.asarray(cases, dtype=float).reshape(-1)
    n = np.asarray(population, dtype=float).reshape(-1)
    if y.size != n.size:
        raise ValueError(f"cases has {y.size} areas, population {n.size}; align them.")
    if not (np.all(np.isfinite(y) & (y >= 0)) and np.all(np.isfinite(n) & (n >= 0))):
        raise ValueError("cases and population must be finite and >= 0.")
    if n.sum() <= 0:
        raise ValueError("the total population is 0; no rate can be estimated.")
    has = n > 0
    raw = np.full(y.size, np.nan)
    raw[has] = y[has] / n[has]
    m = float(y.sum() / n.sum())
    nbar = float(n[has].mean())
    s2 = float(np.sum(n[has] * (raw[has] - m) ** 2) / n.sum()) - m / nbar
    s2 = max(s2, 0.0)
    shrink = np.zeros(y.size)
    if s2 > 0:
        shrink[has] = s2 / (s2 + m / n[has])
    smoothed = np.where(has, m + shrink * (np.nan_to_num(raw) - m), m)
    return EBRates(raw=raw, smoothed=smoothed, shrinkage=shrink, mean=m, variance=s2)


def high_risk_areas(
    area: Any,
    cases: Any,
    population: Any,
    neighbours: Neighbours | None = None,
    *,
    permutations: int = 999,
    random_state: int | np.random.Generator | None = None,
    alphas: Sequence[float] = (0.001, 0.01, 0.05),
) -> pd.DataFrame:
    """High-risk areas (高风险区域): smoothed rates, Gi* hot spots with FDR, and levels.

    Parameters
    ----------
    area : array_like, shape (n,)
        Area ids (jurisdictions, H3 cells, compounds).
    cases, population : array_like of float, shape (n,)
        Victims and residents per area.
    neighbours : Neighbours, optional
        Area adjacency; without it, levels come from the smoothed rate's excess over the mean
        (a one-sided Poisson test of the cases against the global rate, FDR-adjusted).
    permutations : int, default 999
        Gi* conditional permutations.
    random_state : int or Generator, optional
    alphas : 3 floats
        Red, orange, yellow significance levels (after FDR).

    Returns
    -------
    pandas.DataFrame
        ``area, cases, population, raw_rate, eb_rate, rate_per_10k, shrinkage, z, p, level``,
        by ``eb_rate`` descending.
    """
    a = np.asarray(area).reshape(-1)
    y = np.asarray(cases, float).reshape(-1)
    n = np.asarray(population, float).reshape(-1)
    eb = empirical_bayes_rates(y, n)
    if neighbours is not None and np.ptp(eb.smoothed) > 0:
        gi = getis_ord_gi_star(
            eb.smoothed,
            neighbours,
            permutations=permutations,
            alternative="greater",
            random_state=random_state,
        )
        z = gi.z
        p = gi.p_sim if gi.p_sim is not None else gi.p_norm
    else:
        expected = eb.mean * n
        p = np.where(expected > 0, stats.poisson.sf(y - 1, np.maximum(expected, 1e-300)), 1.0)
        z = np.where(expected > 0, (y - expected) / np.sqrt(np.maximum(expected, 1e-300)), 0.0)
    level = assign_levels(z, scheme="significance", p=p, alphas=tuple(alphas))
    out = pd.DataFrame(
        {
            "area": a,
            "cases": y,
            "population": n,
            "raw_rate": eb.raw,
            "eb_rate": eb.smoothed,
            "rate_per_10k": eb.smoothed * 1e4,
            "shrinkage": eb.shrinkage,
            "z": z,
            "p": p,
            "level": level,
        }
    )
    return out.sort_values(["eb_rate", "area"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _exact_rr_ci(
    a: float, b: float, na: float, nb: float, alpha: float
) -> tuple[float, float, float]:
    """Conditional binomial CI of the rate ratio (a/na)/(b/nb) and the exact two-sided p."""
    tot = a + b
    if tot == 0:
        return 0.0, np.inf, 1.0
    lo_p = stats.beta.ppf(alpha / 2, a, b + 1) if a > 0 else 0.0
    hi_p = stats.beta.ppf(1 - alpha / 2, a + 1, b) if b > 0 else 1.0
    scale = nb / na
    lo = lo_p / (1 - lo_p) * scale if lo_p < 1 else np.inf
    hi = hi_p / (1 - hi_p) * scale if hi_p < 1 else np.inf
    p = stats.binomtest(int(a), int(tot), na / (na + nb)).pvalue
    return float(lo), float(hi), float(p)


def rate_ratios(
    frame: pd.DataFrame,
    by: Sequence[str],
    *,
    cases: str = "cases",
    population: str = "population",
    alpha: float = 0.05,
    method: Literal["exact", "wald"] = "exact",
    min_cases: int = 0,
) -> pd.DataFrame:
    """Rate ratio of each group against everyone else (高危人群率比), with a CI.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per cell with the attribute columns ``by`` and the counts ``cases`` and
        ``population`` (e.g. victims and residents by age band × occupation). Not modified.
    by : sequence of str
        Attribute columns whose combinations are the groups.
    cases, population : str
        Count column names.
    alpha : float, default 0.05
        1 − confidence level.
    method : {"exact", "wald"}, default "exact"
        ``"exact"``: conditional binomial (Clopper–Pearson) interval and exact p; ``"wald"``:
        log-normal interval ``exp(log RR ± z·sqrt(1/a + 1/b))`` (needs a, b > 0).
    min_cases : int, default 0
        Groups with fewer cases are dropped from the table.

    Returns
    -------
    pandas.DataFrame
        ``by…, cases, population, rate_per_10k, rate_ratio, ci_low, ci_high, p, elevated``
        (``elevated``: the CI lies above 1), by rate ratio descending.

    Examples
    --------
    >>> f = pd.DataFrame({"age": ["young", "old"], "cases": [10, 40], "population": [1000, 1000]})
    >>> t = rate_ratios(f, ["age"])
    >>> t[["age", "rate_ratio"]].values.tolist()
    [['old', 4.0], ['young', 0.25]]
    >>> bool(t["elevated"].iat[0]), bool(t["ci_low"].iat[0] > 1.9)
    (True, True)
    """
    by = list(by)
    missing = [c for c in [*by, cases, population] if c not in frame.columns]
    if missing:
        raise ValueError(f"rate_ratios: frame lacks column(s) {missing}.")
    if method not in ("exact", "wald"):
        raise ValueError(f"method must be 'exact' or 'wald'; got {method!r}.")
    g = frame.groupby(by, sort=True, dropna=False)[[cases, population]].sum().reset_index()
    tot_c, tot_n = float(g[cases].sum()), float(g[population].sum())
    z = stats.norm.ppf(1 - alpha / 2)
    rr, lo, hi, p = [], [], [], []
    for a, na in zip(g[cases].to_numpy(float), g[population].to_numpy(float), strict=True):
        b, nb = tot_c - a, tot_n - na
        if na <= 0 or nb <= 0:
            rr.append(np.nan), lo.append(np.nan), hi.append(np.nan), p.append(np.nan)
            continue
        r = (a / na) / (b / nb) if b > 0 else np.inf
        rr.append(r)
        if method == "exact":
            lo_, hi_, p_ = _exact_rr_ci(a, b, na, nb, alpha)
        elif a > 0 and b > 0:
            se = np.sqrt(1 / a + 1 / b)
            lo_, hi_ = r * np.exp(-z * se), r * np.exp(z * se)
            p_ = float(2 * stats.norm.sf(abs(np.log(r)) / se))
        else:
            lo_, hi_, p_ = np.nan, np.nan, np.nan
        lo.append(lo_), hi.append(hi_), p.append(p_)
    g["rate_per_10k"] = np.where(
        g[population] > 0, g[cases] / g[population].where(g[population] > 0) * 1e4, np.nan
    )
    g["rate_ratio"] = rr
    g["ci_low"] = lo
    g["ci_high"] = hi
    g["p"] = p
    g["elevated"] = g["ci_low"] > 1.0
    g = g[g[cases] >= min_cases]
    return g.sort_values(
        ["rate_ratio", *by], ascending=[False] + [True] * len(by), kind="stable"
    ).reset_index(drop=True)
