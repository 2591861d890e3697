"""Warning levels for map cells: red / orange / yellow / blue (预警分级: 红 橙 黄 蓝).

Three schemes turn per-cell values into the Chinese four-colour warning scale
(:class:`haizhou.domain.Level`); cells that reach no level get None:

``"quantile"`` (分位数)
    By rank among all finite values: the top 1 % red, the next ones up to the top 5 % orange,
    up to 10 % yellow, up to 20 % blue (``top_fractions=(0.01, 0.05, 0.10, 0.20)``). Values
    <= 0 never get a level (an empty cell is no hot spot, however many cells are empty).
    Ties at a cut all get the higher level.
``"threshold"`` (阈值)
    Fixed cut-offs ``thresholds=(red, orange, yellow, blue)``, descending: a value at or above
    a cut-off gets that level (e.g. intensities in events per km², or counts per week).
``"significance"`` (显著性)
    From a hot-spot test (e.g. Getis-Ord Gi*): ``values`` are z-scores and ``p`` their p-values,
    adjusted for the false discovery rate (``fdr="bh"`` by default). Hot cells (z > 0) with
    adjusted p < 0.001 are red, < 0.01 orange, < 0.05 yellow (``alphas``); hot cells not
    significant but elevated (z >= ``blue_min_z``, default 1.0) are blue. Cold spots get no
    level: warnings are about concentrations of incidents.

References
----------
.. [1] State Council of the PRC (2006). 国家突发公共事件总体应急预案 (National overall emergency
   plan for public emergencies), §3.2: warnings in four levels, red (I, most serious), orange
   (II), yellow (III) and blue (IV).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from haizhou.analytics.spatial_stats.fdr import fdr_adjust
from haizhou.domain import Level

__all__ = ["DEFAULT_ALPHAS", "DEFAULT_TOP_FRACTIONS", "SCHEMES", "assign_levels"]

SCHEMES: tuple[str, ...] = ("quantile", "threshold", "significance")
DEFAULT_TOP_FRACTIONS: tuple[float, float, float, float] = (0.01, 0.05, 0.10, 0.20)
DEFAULT_ALPHAS: tuple[float, float, float] = (0.001, 0.01, 0.05)
_ORDER = (Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE)


def _descending(name: str, values: Sequence[float], count: int, *, increasing: bool) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size != count or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be {count} finite numbers; got {values!r}.")
    diffs = np.diff(arr)
    if np.any(diffs <= 0 if increasing else diffs >= 0):
        order = "increasing" if increasing else "decreasing"
        raise ValueError(f"{name} must be strictly {order} (red first); got {values!r}.")
    return arr


def assign_levels(
    values: Any,
    *,
    scheme: str = "quantile",
    top_fractions: Sequence[float] = DEFAULT_TOP_FRACTIONS,
    thresholds: Sequence[float] | None = None,
    p: Any = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    blue_min_z: float | None = 1.0,
    fdr: str | None = "bh",
) -> np.ndarray:
    """Warning level of each cell (预警等级), or None where it reaches none.

    Parameters
    ----------
    values : array_like of float
        Per-cell values: intensities or counts (``"quantile"``, ``"threshold"``), or z-scores
        (``"significance"``). NaN never gets a level. Not modified.
    scheme : {"quantile", "threshold", "significance"}, default "quantile"
    top_fractions : 4 increasing floats in (0, 1], default (0.01, 0.05, 0.10, 0.20)
        ``"quantile"``: share of cells at or above the red, orange, yellow and blue cuts.
    thresholds : 4 decreasing floats, required for ``"threshold"``
        Red, orange, yellow and blue cut-offs, in the units of ``values``.
    p : array_like of float, required for ``"significance"``
        p-values aligned with ``values`` (two-sided or "greater").
    alphas : 3 increasing floats, default (0.001, 0.01, 0.05)
        ``"significance"``: red, orange and yellow significance levels.
    blue_min_z : float or None, default 1.0
        ``"significance"``: z at or above which a non-significant cell is blue (None: no blue).
    fdr : {"bh", "by"} or None, default "bh"
        ``"significance"``: adjust ``p`` for the false discovery rate first
        (:func:`haizhou.analytics.spatial_stats.fdr.fdr_adjust`); None if already adjusted.

    Returns
    -------
    numpy.ndarray of object
        :class:`haizhou.domain.Level` or None per cell, same shape as ``values``.

    Raises
    ------
    ValueError
        For an unknown scheme, a missing or malformed ``thresholds`` / ``p``, or cut-offs out
        of order, saying what is expected.

    Examples
    --------
    >>> [str(v) if v else None for v in assign_levels([9, 5, 2, 0], scheme="threshold",
    ...                                                 thresholds=(8, 4, 2, 1))]
    ['red', 'orange', 'yellow', None]
    >>> lv = assign_levels(np.arange(1, 101), top_fractions=(0.01, 0.05, 0.10, 0.20))
    >>> [sum(x is k for x in lv) for k in Level]
    [1, 4, 5, 10]
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(map(repr, SCHEMES))}; got {scheme!r}.")
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(-1)
    finite = np.isfinite(flat)
    rank = np.full(flat.size, 4, dtype=np.int64)  # 0 red .. 3 blue, 4 none

    if scheme == "quantile":
        fr = _descending("top_fractions", top_fractions, 4, increasing=True)
        if fr[0] <= 0 or fr[-1] > 1:
            raise ValueError(f"top_fractions must lie in (0, 1]; got {top_fractions!r}.")
        vals = flat[finite]
        if vals.size:
            # Cut k is the value of the ceil(f·n)-th largest cell, so at least that share of
            # cells (more with ties) is at or above it.
            sorted_desc = np.sort(vals)[::-1]
            idx = np.maximum(np.ceil(fr * vals.size).astype(np.int64) - 1, 0)
            cuts = sorted_desc[idx]
            for k in range(3, -1, -1):
                rank[finite & (flat >= cuts[k]) & (flat > 0)] = k
    elif scheme == "threshold":
        if thresholds is None:
            raise ValueError(
                "scheme='threshold' needs thresholds=(red, orange, yellow, blue), descending."
            )
        cuts = _descending("thresholds", thresholds, 4, increasing=False)
        for k in range(3, -1, -1):
            rank[finite & (flat >= cuts[k])] = k
    else:
        if p is None:
            raise ValueError("scheme='significance' needs p (p-values aligned with the z-scores).")
        pv = np.asarray(p, dtype=np.float64).reshape(-1)
        if pv.size != flat.size:
            raise ValueError(f"p has {pv.size} values but values has {flat.size}.")
        al = _descending("alphas", alphas, 3, increasing=True)
        if al[0] <= 0 or al[-1] >= 1:
            raise ValueError(f"alphas must lie in (0, 1); got {alphas!r}.")
        if fdr is not None:
            pv = fdr_adjust(pv, method=fdr)  # type: ignore[arg-type]
        hot = finite & (flat > 0) & ~np.isnan(pv)
        if blue_min_z is not None:
            rank[hot & (flat >= float(blue_min_z))] = 3
        for k in range(2, -1, -1):
            rank[hot & (pv < al[k])] = k

    table = np.array([*_ORDER, None], dtype=object)
    return table[rank].reshape(v.shape)
