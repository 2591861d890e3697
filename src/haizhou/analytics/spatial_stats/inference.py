"""Conditional randomisation: the permutation engine every local statistic shares (条件随机置换检验).

For a local statistic at site ``i`` with ``k_i`` binary neighbours, conditional randomisation
holds the value at ``i`` fixed and draws its ``k_i`` neighbour values at random, without
replacement, from the other ``n - 1`` sites. The pseudo p-value compares the observed
statistic with ``R`` such draws (Anselin 1995).

Every statistic that plugs in here is *affine in the sum of its neighbours' values*::

    statistic_i = offset_i + scale_i * sum(values[j] for j in neighbours(i))

(G*: ``offset = y_i / sum(y)``, ``scale = 1 / sum(y)``; G: ``offset = 0``,
``scale = 1 / (sum(y) - y_i)``; binary local Moran: ``offset = 0``, ``scale = z_i / m2``).
So the engine works on neighbour sums and a statistic supplies only ``scale``'s sign (and its
affine map when simulations are kept).

How it stays fast and small (pysal/esda#113: keeping ``n × R`` draws exhausts memory):

1. ``R`` ordered draws of ``k_max`` distinct positions from ``{0, ..., n - 2}`` are shared by all
   sites (as esda does). For site ``i`` a draw ``d`` stands for site ``d``, except ``d == i``
   stands for site ``n - 1``: a bijection onto the other sites, so the first ``k_i`` entries of
   each draw are a uniform random neighbour set for ``i``.
2. The reference sum is then ``P_k[r] = sum(values[d[r, :k]])`` for every site with ``k``
   neighbours, except the few ``(i, r)`` where ``i`` itself was drawn (at most ``R · k_max``
   pairs), which are corrected one by one.
3. Extremes are counted, not stored: ``#(P_k >= observed_i)`` by binary search in the sorted
   ``P_k``, then the corrected pairs are re-counted. Memory is ``O(R · k_max + n)``, time
   ``O(R · k_max + n log R)``; ``keep_simulations=True`` materialises ``n × R`` on request.

Pseudo p-values, with ``R`` draws and ``M`` draws at least as extreme as the observation
(Hope 1968; Davison & Hinkley 1997, §4.2)::

    greater:   (#(sim >= obs) + 1) / (R + 1)
    less:      (#(sim <= obs) + 1) / (R + 1)
    two-sided: min(1, 2 · min(p_greater, p_less))    (doubling the smaller tail)

The two-sided value is the default (pysal/esda#199: counting only the tail the observation
fell in gives about half the two-sided p and overstates significance).

References
----------
.. [1] Anselin, L. (1995). Local indicators of spatial association — LISA. Geographical
   Analysis 27(2), 93-115. doi:10.1111/j.1538-4632.1995.tb00338.x
.. [2] Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure. Journal of
   the Royal Statistical Society B 30(3), 582-598. doi:10.1111/j.2517-6161.1968.tb00759.x
.. [3] Davison, A. C. & Hinkley, D. V. (1997). Bootstrap Methods and their Application.
   Cambridge University Press. doi:10.1017/CBO9780511802843
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from haizhou.analytics.spatial_stats.weights import Neighbours

__all__ = [
    "ALTERNATIVES",
    "Alternative",
    "PermutationTest",
    "check_alternative",
    "conditional_randomisation",
]

Alternative = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")

# Neighbour sums of the same values added in another order may differ in the last bits; a
# simulated sum this close to the observed one counts as a tie (i.e. as extreme).
_TIE_RTOL = 1e-10


def check_alternative(alternative: Any) -> str:
    """Return ``alternative`` if it is one of :data:`ALTERNATIVES`, else raise ValueError."""
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative must be one of {', '.join(map(repr, ALTERNATIVES))}; got {alternative!r}."
        )
    return str(alternative)


@dataclass(frozen=True, slots=True, eq=False)
class PermutationTest:
    """Outcome of :func:`conditional_randomisation`, aligned with the sites.

    Attributes
    ----------
    p_sim : numpy.ndarray of float64, shape (n,)
        Pseudo p-value for the requested alternative.
    n_greater, n_less : numpy.ndarray of int64, shape (n,)
        Draws whose statistic was >= (resp. <=) the observed one.
    sums : numpy.ndarray of float64, shape (n, R), or None
        Simulated neighbour sums, only with ``keep_simulations=True``.
    """

    p_sim: np.ndarray
    n_greater: np.ndarray
    n_less: np.ndarray
    sums: np.ndarray | None


def _draws(rng: np.random.Generator, pool: int, k: int, rows: int) -> np.ndarray:
    """``rows`` ordered samples of ``k`` distinct integers from ``range(pool)``, int64."""
    if k == 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if k * k <= pool:
        # Rejection: draw with replacement, redraw the rows that repeat a value. For k² <= n a
        # row repeats with probability < 1/2, so this ends in a few rounds.
        out = rng.integers(0, pool, size=(rows, k), dtype=np.int64)
        while True:
            s = np.sort(out, axis=1)
            bad = np.flatnonzero(np.any(s[:, 1:] == s[:, :-1], axis=1))
            if bad.size == 0:
                return out
            out[bad] = rng.integers(0, pool, size=(bad.size, k), dtype=np.int64)
    return np.stack([rng.choice(pool, size=k, replace=False) for _ in range(rows)]).astype(np.int64)


def conditional_randomisation(
    values: np.ndarray,
    neighbours: Neighbours,
    observed_sums: np.ndarray,
    scale_sign: np.ndarray,
    *,
    permutations: int,
    alternative: str,
    rng: np.random.Generator,
    keep_simulations: bool = False,
) -> PermutationTest:
    """Pseudo p-values of a statistic that is affine in each site's neighbour sum.

    Parameters
    ----------
    values : numpy.ndarray of float64, shape (n,)
        The variable (not modified).
    neighbours : Neighbours
        Binary neighbours (self excluded); ``k_i`` is the number drawn for site ``i``.
    observed_sums : numpy.ndarray, shape (n,)
        ``sum(values[neighbours(i)])`` for each site.
    scale_sign : numpy.ndarray, shape (n,)
        Sign of ``d statistic / d sum`` per site: +1, -1 or 0 (a statistic that does not
        depend on the sum ties with every draw).
    permutations : int
        Number of draws ``R`` (>= 1).
    alternative : {"two-sided", "greater", "less"}
        Direction in terms of the statistic.
    rng : numpy.random.Generator
        Source of randomness (the caller builds it from ``random_state``).
    keep_simulations : bool, default False
        Also return the ``n × R`` simulated sums.

    Returns
    -------
    PermutationTest
    """
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    card = neighbours.cardinalities
    k_max = int(card.max()) if n else 0
    r_count = int(permutations)
    if n < 2 or k_max == 0:
        full = np.full(n, r_count, dtype=np.int64)
        p = np.ones(n)
        sums = np.zeros((n, r_count)) if keep_simulations else None
        return PermutationTest(p_sim=p, n_greater=full, n_less=full, sums=sums)
    draws = _draws(rng, n - 1, k_max, r_count)  # (R, k_max), values in [0, n - 2]
    drawn = y[draws]
    prefix = np.zeros((r_count, k_max + 1))
    np.cumsum(drawn, axis=1, out=prefix[:, 1:])  # prefix[:, k] = P_k
    obs = np.asarray(observed_sums, dtype=np.float64)
    tol = _TIE_RTOL * np.maximum(np.abs(obs), 1.0) * np.maximum(np.max(np.abs(y)), 1.0)

    n_ge = np.empty(n, dtype=np.int64)
    n_le = np.empty(n, dtype=np.int64)
    for k in np.unique(card).tolist():
        sites = np.flatnonzero(card == k)
        ref = np.sort(prefix[:, k])
        n_ge[sites] = r_count - np.searchsorted(ref, obs[sites] - tol[sites], side="left")
        n_le[sites] = np.searchsorted(ref, obs[sites] + tol[sites], side="right")

    # Pairs (row r, column c) where the drawn position d = draws[r, c] is a site i whose own
    # neighbour set uses column c (k_i > c): for i, position d means site n - 1, not d.
    rows, cols = np.nonzero(card[draws] > np.arange(k_max)[None, :])
    sites = draws[rows, cols]
    wrong = prefix[rows, card[sites]]
    right = wrong + (y[n - 1] - y[sites])
    o, t = obs[sites], tol[sites]
    np.add.at(n_ge, sites, (right >= o - t).astype(np.int64) - (wrong >= o - t))
    np.add.at(n_le, sites, (right <= o + t).astype(np.int64) - (wrong <= o + t))

    sign = np.sign(np.asarray(scale_sign, dtype=np.float64))
    greater = np.where(sign > 0, n_ge, np.where(sign < 0, n_le, r_count))
    less = np.where(sign > 0, n_le, np.where(sign < 0, n_ge, r_count))
    p_greater = (greater + 1.0) / (r_count + 1.0)
    p_less = (less + 1.0) / (r_count + 1.0)
    if alternative == "greater":
        p = p_greater
    elif alternative == "less":
        p = p_less
    else:
        p = np.minimum(1.0, 2.0 * np.minimum(p_greater, p_less))

    sums = None
    if keep_simulations:
        sums = prefix[:, card].T.copy()  # (n, R)
        sums[sites, rows] = right
    return PermutationTest(p_sim=p, n_greater=greater, n_less=less, sums=sums)
