"""Getis-Ord local Gi* hot-spot statistic (Getis-Ord Gi* 热点分析).

For site ``i`` with binary neighbours ``N(i)`` and the site itself included (the "star")::

    G*_i = sum(y_j for j in N(i) ∪ {i}) / sum(y)
    z_i  = (sum(y_j for j in N(i) ∪ {i}) - w_i · ȳ) / (s · sqrt(w_i (n - w_i) / (n - 1)))

with ``w_i = |N(i)| + 1``, ``ȳ`` the mean and ``s² = mean(y²) - ȳ²`` (the population variance).
This is Ord & Getis (1995), eq. 8-9, and equals PySAL esda's
``G_Local(y, w, transform="B", star=True).Zs`` on the same binary weights (esda adds the unit
self weight itself; its default ``transform="R"`` row-standardises and gives other values).

A large positive z marks a hot spot (高值聚集), a large negative one a cold spot (低值聚集).

References
----------
.. [1] Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance
   statistics. Geographical Analysis 24(3), 189-206. doi:10.1111/j.1538-4632.1992.tb00261.x
.. [2] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
   issues and an application. Geographical Analysis 27(4), 286-306.
   doi:10.1111/j.1538-4632.1995.tb00912.x
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from haizhou.analytics.spatial_stats.inference import (
    Alternative,
    check_alternative,
    conditional_randomisation,
)
from haizhou.analytics.spatial_stats.weights import Neighbours

__all__ = ["GiStarResult", "getis_ord_gi_star"]


@dataclass(frozen=True, slots=True, eq=False)
class GiStarResult:
    """Local Gi* of every site (Gi* 结果), each array aligned with the input values.

    Attributes
    ----------
    statistic : numpy.ndarray of float64, shape (n,)
        G*_i: share of the total found in the site's neighbourhood (self included), in [0, 1]
        for non-negative values.
    z : numpy.ndarray of float64, shape (n,)
        Standardised G*_i under the normal approximation (esda's ``Zs``).
    p_norm : numpy.ndarray of float64, shape (n,)
        p-value of ``z`` under the standard normal for ``alternative`` (two-sided by default,
        i.e. ``2 · sf(|z|)``; esda's ``p_norm`` is the one-sided ``sf(|z|)``).
    p_sim : numpy.ndarray of float64, shape (n,), or None
        Pseudo p-value from conditional randomisation for ``alternative``; None when
        ``permutations == 0``.
    alternative : {"two-sided", "greater", "less"}
        "greater" tests for hot spots, "less" for cold spots.
    permutations : int
        Number of random draws behind ``p_sim`` (0 for none).
    expected : numpy.ndarray of float64, shape (n,)
        E[G*_i] = w_i / n under the null.
    simulations : numpy.ndarray of float64, shape (n, permutations), or None
        Simulated G*_i, only with ``keep_simulations=True``.
    """

    statistic: np.ndarray
    z: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray | None
    alternative: Alternative
    permutations: int
    expected: np.ndarray
    simulations: np.ndarray | None = None


def _normal_p(z: np.ndarray, alternative: str) -> np.ndarray:
    if alternative == "greater":
        return stats.norm.sf(z)
    if alternative == "less":
        return stats.norm.cdf(z)
    return np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))


def getis_ord_gi_star(
    values: Any,
    neighbours: Neighbours,
    *,
    permutations: int = 999,
    alternative: Alternative = "two-sided",
    random_state: int | np.random.Generator | None = None,
    keep_simulations: bool = False,
) -> GiStarResult:
    """Getis-Ord Gi* of each site, with normal and permutation p-values (局部 Gi* 统计量).

    Parameters
    ----------
    values : array_like of float, shape (n,)
        Non-negative values per site (counts, rates), aligned with ``neighbours``; not
        modified.
    neighbours : Neighbours
        Binary neighbours without self; the self weight 1 is added here (the "star").
    permutations : int, default 999
        Conditional-randomisation draws for ``p_sim``; 0 skips them.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        Hypothesis for both p-values; "greater" asks "is this a hot spot?".
    random_state : int, numpy.random.Generator or None
        Seed or generator for the draws (None: fresh entropy, so results vary).
    keep_simulations : bool, default False
        Keep the ``n × permutations`` simulated statistics (memory!).

    Returns
    -------
    GiStarResult

    Raises
    ------
    ValueError
        If ``values`` has the wrong length, is not finite, is negative, or is constant (then
        no site differs from the mean and Gi* is undefined), or a parameter is out of range.

    Notes
    -----
    Use FDR control (:func:`haizhou.analytics.spatial_stats.fdr.fdr_adjust`) before calling
    many sites significant. The permutation engine is shared with other local statistics
    (:mod:`haizhou.analytics.spatial_stats.inference`).

    Examples
    --------
    >>> nb = Neighbours.from_grid(3, 3, queen=False)
    >>> res = getis_ord_gi_star([0, 0, 0, 0, 9, 1, 0, 1, 1], nb, permutations=0)
    >>> res.z.round(3).tolist()[:5]
    [-0.97, 0.844, -0.728, 0.844, 0.997]
    >>> res.p_sim is None, res.alternative
    (True, 'two-sided')
    """
    alternative = check_alternative(alternative)  # type: ignore[assignment]
    if isinstance(permutations, bool) or int(permutations) != permutations or permutations < 0:
        raise ValueError(f"permutations must be an integer >= 0; got {permutations!r}.")
    permutations = int(permutations)
    if not isinstance(neighbours, Neighbours):
        raise TypeError(
            "neighbours must be a haizhou Neighbours (Neighbours.from_h3, .from_grid, "
            f".distance_band); got {type(neighbours).__name__}."
        )
    y = np.array(values, dtype=np.float64).reshape(-1)  # a copy: never touch the caller's
    n = neighbours.n
    if y.size != n:
        raise ValueError(f"values has {y.size} entries but the neighbours describe {n} sites.")
    if not np.all(np.isfinite(y)):
        pos = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(
            f"values must be finite; entry {pos} is {float(y[pos])!r}. Fill gaps first."
        )
    if np.any(y < 0):
        pos = int(np.flatnonzero(y < 0)[0])
        raise ValueError(
            f"Gi* needs non-negative values (counts, rates); entry {pos} is {float(y[pos])!r}."
        )
    total = float(y.sum())
    mean = total / n if n else 0.0
    variance = float(np.mean(y * y) - mean * mean) if n else 0.0
    if n < 2 or total <= 0 or variance <= 1e-14 * max(mean * mean, 1.0):
        raise ValueError(
            "Gi* is undefined when all values are equal (e.g. all zero) or there are fewer "
            f"than 2 sites; got {n} sites with values from {float(y.min()) if n else 'none'} "
            f"to {float(y.max()) if n else 'none'}."
        )
    weights = neighbours.to_sparse()
    neighbour_sums = weights @ y
    local = neighbour_sums + y
    w = neighbours.cardinalities.astype(np.float64) + 1.0
    statistic = local / total
    expected = w / n
    z = (local - w * mean) / (np.sqrt(variance) * np.sqrt(w * (n - w) / (n - 1.0)))
    p_norm = _normal_p(z, alternative)

    p_sim = None
    simulations = None
    if permutations:
        rng = np.random.default_rng(random_state)
        test = conditional_randomisation(
            y,
            neighbours,
            neighbour_sums,
            np.ones(n),
            permutations=permutations,
            alternative=alternative,
            rng=rng,
            keep_simulations=keep_simulations,
        )
        p_sim = test.p_sim
        if test.sums is not None:
            simulations = (test.sums + y[:, None]) / total
    return GiStarResult(
        statistic=statistic,
        z=z,
        p_norm=p_norm,
        p_sim=p_sim,
        alternative=alternative,  # type: ignore[arg-type]
        permutations=permutations,
        expected=expected,
        simulations=simulations,
    )
