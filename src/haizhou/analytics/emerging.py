"""Emerging hot spots on a space-time cube (时空热点趋势分析 · 新兴热点).

For a cube of counts ``cube[t, site]`` (time steps × sites, e.g. weeks × H3 hexagons), each
step gets a local Getis-Ord Gi* (:func:`haizhou.analytics.spatial_stats.getis_ord_gi_star`),
each site's series of Gi* z-scores gets a Mann-Kendall trend test, and each site falls into one
of the categories of ESRI's Emerging Hot Spot Analysis (for hot spots; cold spots mirror them):

============== ================================================================================
new            significant hot spot in the final step only; never hot before
consecutive    one uninterrupted run of >= 2 hot steps ending with the final step, never hot
               before that run, and < 90 % of steps hot
intensifying   hot in >= 90 % of steps including the final one, with a significant upward
               trend in the Gi* z-score (a cold spot: a significant downward one)
persistent     hot in >= 90 % of steps including the final one, no significant trend
diminishing    hot in >= 90 % of steps including the final one, with a significant downward
               trend (a cold spot: upward)
sporadic       hot in the final step, on and off before, < 90 % of steps hot, never cold
oscillating    hot in the final step, cold in some earlier step, < 90 % of steps hot
historical     not hot in the final step but hot in >= 90 % of steps
no pattern     none of the above
============== ================================================================================

The final step decides the family: a site hot in the final step gets a hot-spot category
(new, consecutive, intensifying, persistent, diminishing, sporadic or oscillating), one cold in
the final step a cold-spot category; a site neither hot nor cold at the end can only be a
historical hot or cold spot. New and consecutive take precedence over oscillating.

Two neighbourhoods in time (``time_window``):

- ``0`` (default): Gi* per time step with spatial neighbours only, each step against its own
  mean and variance. A step whose values are all equal (e.g. no events at all) has no Gi*:
  its z is 0 and p is 1 (not significant).
- ``k >= 1``: ESRI's space-time Gi*: a bin's neighbours are its spatial neighbours in the same
  step and in the ``k`` previous steps, plus the same site in those previous steps, and every
  bin is compared with the mean and variance of the whole cube (ESRI's "neighborhood time
  step", default 1 there).

References
----------
.. [1] Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro tool reference, Space Time
   Pattern Mining toolbox.
   https://pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/learnmoreemerging.htm
.. [2] Mann, H. B. (1945). Nonparametric tests against trend. Econometrica 13(3), 245-259.
   doi:10.2307/1907187
.. [3] Kendall, M. G. (1975). Rank Correlation Methods, 4th ed. Charles Griffin, London.
.. [4] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
   issues and an application. Geographical Analysis 27(4), 286-306.
   doi:10.1111/j.1538-4632.1995.tb00912.x
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import stats

from haizhou.analytics.spatial_stats.fdr import fdr_adjust
from haizhou.analytics.spatial_stats.getis_ord import getis_ord_gi_star
from haizhou.analytics.spatial_stats.weights import Neighbours

__all__ = [
    "EmergingPattern",
    "EmergingResult",
    "classify_emerging",
    "emerging_hot_spots",
    "mann_kendall",
]


class EmergingPattern(StrEnum):
    """Category of a site in emerging hot-spot analysis (时空热点模式)."""

    NO_PATTERN = "no_pattern"  # 无模式
    NEW_HOT_SPOT = "new_hot_spot"  # 新增热点
    CONSECUTIVE_HOT_SPOT = "consecutive_hot_spot"  # 连续热点
    INTENSIFYING_HOT_SPOT = "intensifying_hot_spot"  # 加强热点
    PERSISTENT_HOT_SPOT = "persistent_hot_spot"  # 持续热点
    DIMINISHING_HOT_SPOT = "diminishing_hot_spot"  # 减弱热点
    SPORADIC_HOT_SPOT = "sporadic_hot_spot"  # 零星热点
    OSCILLATING_HOT_SPOT = "oscillating_hot_spot"  # 振荡热点
    HISTORICAL_HOT_SPOT = "historical_hot_spot"  # 历史热点
    NEW_COLD_SPOT = "new_cold_spot"  # 新增冷点
    CONSECUTIVE_COLD_SPOT = "consecutive_cold_spot"  # 连续冷点
    INTENSIFYING_COLD_SPOT = "intensifying_cold_spot"  # 加强冷点
    PERSISTENT_COLD_SPOT = "persistent_cold_spot"  # 持续冷点
    DIMINISHING_COLD_SPOT = "diminishing_cold_spot"  # 减弱冷点
    SPORADIC_COLD_SPOT = "sporadic_cold_spot"  # 零星冷点
    OSCILLATING_COLD_SPOT = "oscillating_cold_spot"  # 振荡冷点
    HISTORICAL_COLD_SPOT = "historical_cold_spot"  # 历史冷点

    @property
    def title_zh(self) -> str:
        """Chinese label, e.g. 新增热点."""
        return _TITLE_ZH[self]


_KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
          "oscillating", "historical")  # fmt: skip
_KIND_ZH = dict(
    zip(_KINDS, ("新增", "连续", "加强", "持续", "减弱", "零星", "振荡", "历史"), strict=True)
)
_TITLE_ZH = {EmergingPattern.NO_PATTERN: "无模式"} | {
    EmergingPattern(f"{kind}_{fam}_spot"): _KIND_ZH[kind] + ("热点" if fam == "hot" else "冷点")
    for kind in _KINDS
    for fam in ("hot", "cold")
}


@dataclass(frozen=True, slots=True, eq=False)
class EmergingResult:
    """Emerging hot-spot analysis of every site (时空热点结果); arrays aligned with the sites.

    Attributes
    ----------
    category : numpy.ndarray of object, shape (n,)
        :class:`EmergingPattern` of each site.
    trend_z, trend_p : numpy.ndarray of float64, shape (n,)
        Mann-Kendall z and two-sided p of each site's Gi* z-score series (z > 0: rising).
    z : numpy.ndarray of float64, shape (t, n)
        Gi* z-score per step and site.
    p : numpy.ndarray of float64, shape (t, n)
        The p-values the hot / cold calls used (FDR-adjusted per step when ``fdr`` is set).
    hot, cold : numpy.ndarray of bool, shape (t, n)
        Significant hot (z > 0) and cold (z < 0) spots per step.
    alpha, trend_alpha : float
        Significance levels used for the spots and for the trend.
    """

    category: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    z: np.ndarray
    p: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    alpha: float
    trend_alpha: float


def mann_kendall(series: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test along axis 0, for every column at once (Mann-Kendall 趋势检验).

    Parameters
    ----------
    series : array_like of float, shape (t,) or (t, n)
        Time runs along axis 0.

    Returns
    -------
    s : numpy.ndarray
        Kendall's S = sum over i < j of sign(x_j - x_i).
    z : numpy.ndarray
        Normal score with continuity correction and the tie-corrected variance
        ``(t(t-1)(2t+5) - sum over ties u(u-1)(2u+5)) / 18``; 0 when S = 0 or there is no
        variance.
    p : numpy.ndarray
        Two-sided p-value of ``z``.

    Examples
    --------
    >>> s, z, p = mann_kendall([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> int(s), round(float(z), 3), round(float(p), 4)
    (10, 2.205, 0.0275)
    """
    x = np.asarray(series, dtype=np.float64)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    t = x.shape[0]
    s = np.zeros(x.shape[1:])
    for i in range(t - 1):
        s += np.sign(x[i + 1 :] - x[i]).sum(axis=0)
    var = np.full(x.shape[1:], t * (t - 1) * (2 * t + 5), dtype=np.float64)
    if t > 1:
        xs = np.sort(x, axis=0)
        run = np.ones(x.shape[1:])
        for i in range(1, t + 1):
            same = xs[i] == xs[i - 1] if i < t else np.zeros(x.shape[1:], dtype=bool)
            ended = ~same
            var -= np.where(ended, run * (run - 1) * (2 * run + 5), 0.0)
            run = np.where(same, run + 1, 1.0)
    var /= 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    if squeeze:
        return s[0], z[0], p[0]
    return s, z, p


def classify_emerging(
    hot: Any,
    cold: Any,
    trend_z: Any,
    trend_p: Any,
    *,
    trend_alpha: float = 0.05,
    min_fraction: float = 0.9,
) -> np.ndarray:
    """Category of each site from its hot / cold calls per step and its trend (see module).

    Parameters
    ----------
    hot, cold : array_like of bool, shape (t, n)
        Significant hot and cold spot per step and site (never both).
    trend_z, trend_p : array_like of float, shape (n,)
        Mann-Kendall z and p of the Gi* z-score series.
    trend_alpha : float, default 0.05
        A trend counts when ``trend_p < trend_alpha``.
    min_fraction : float, default 0.9
        Share of steps that makes a spot intensifying / persistent / diminishing / historical.

    Returns
    -------
    numpy.ndarray of object
        :class:`EmergingPattern` per site.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    if hot.ndim != 2 or hot.shape != cold.shape:
        raise ValueError(f"hot and cold must both be (t, n) arrays; got {hot.shape}, {cold.shape}.")
    tz = np.asarray(trend_z, dtype=np.float64)
    rising = (np.asarray(trend_p, dtype=np.float64) < trend_alpha) & (tz > 0)
    falling = (np.asarray(trend_p, dtype=np.float64) < trend_alpha) & (tz < 0)
    out = np.empty(hot.shape[1], dtype=object)
    out[:] = [EmergingPattern.NO_PATTERN] * hot.shape[1]  # np.full would store plain str
    for fam, mine, other, up, down in (
        ("hot", hot, cold, rising, falling),
        ("cold", cold, hot, falling, rising),
    ):
        t = mine.shape[0]
        frac = mine.mean(axis=0)
        final = mine[-1]
        many = frac >= min_fraction - 1e-12
        # Length of the final run of spots, and whether there was a spot before that run.
        run = np.zeros(mine.shape[1], dtype=np.int64)
        still = np.ones(mine.shape[1], dtype=bool)
        for i in range(t - 1, -1, -1):
            still &= mine[i]
            run += still
        before_run = np.array(
            [mine[: t - r, j].any() for j, r in enumerate(run.tolist())], dtype=bool
        )
        prior_other = other[:-1].any(axis=0)

        def put(mask: np.ndarray, kind: str, fam: str = fam) -> None:
            out[mask & (out == EmergingPattern.NO_PATTERN)] = EmergingPattern(f"{kind}_{fam}_spot")

        put(final & many & up, "intensifying")
        put(final & many & down, "diminishing")
        put(final & many, "persistent")
        put(final & (run == 1) & ~before_run, "new")
        put(final & (run >= 2) & ~before_run, "consecutive")
        put(final & prior_other, "oscillating")
        put(final, "sporadic")
    for fam, mine in (("hot", hot), ("cold", cold)):
        historical = ~hot[-1] & ~cold[-1] & (mine.mean(axis=0) >= min_fraction - 1e-12)
        out[historical & (out == EmergingPattern.NO_PATTERN)] = EmergingPattern(
            f"historical_{fam}_spot"
        )
    return out


def _space_time_neighbours(neighbours: Neighbours, steps: int, window: int) -> Neighbours:
    """Neighbours of the bins ``t * n + i``: spatial neighbours in steps ``t - window .. t``
    and the site itself in the previous steps (looking back only, as ESRI does)."""
    n = neighbours.n
    rows_s = np.repeat(np.arange(n, dtype=np.int64), neighbours.cardinalities)
    cols_s = neighbours.indices
    rows, cols = [], []
    for t in range(steps):
        for lag in range(0, min(window, t) + 1):
            rows.append(t * n + rows_s)
            cols.append((t - lag) * n + cols_s)
            if lag:
                rows.append(t * n + np.arange(n, dtype=np.int64))
                cols.append((t - lag) * n + np.arange(n, dtype=np.int64))
    return Neighbours._from_pairs(steps * n, np.concatenate(rows), np.concatenate(cols))


def emerging_hot_spots(
    cube_counts: Any,
    neighbours: Neighbours,
    *,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: str | None = "bh",
    permutations: int = 0,
    random_state: int | np.random.Generator | None = None,
    min_fraction: float = 0.9,
    time_window: int = 0,
) -> EmergingResult:
    """Emerging hot-spot categories of every site of a space-time cube (新兴热点分析).

    Parameters
    ----------
    cube_counts : array_like of float, shape (t, n)
        Non-negative counts per time step (rows, oldest first) and site (columns, aligned with
        ``neighbours``); at least 2 steps. Not modified.
    neighbours : Neighbours
        Spatial neighbours of the sites (self excluded; Gi* adds it).
    alpha : float, default 0.05
        Significance level of a hot or cold spot in one step.
    trend_alpha : float, default 0.05
        Significance level of the Mann-Kendall trend.
    fdr : {"bh", "by"} or None, default "bh"
        Adjust each step's p-values for the false discovery rate across sites before
        comparing with ``alpha``.
    permutations : int, default 0
        0 uses the normal p-value of Gi*; otherwise the conditional-randomisation p-value
        with that many draws per step.
    random_state : int, numpy.random.Generator or None
        For the permutations.
    min_fraction : float, default 0.9
        ESRI's 90 % rule (intensifying, persistent, diminishing, historical).
    time_window : int, default 0
        Previous steps in each bin's neighbourhood: 0 for per-step Gi*, ``k >= 1`` for ESRI's
        space-time Gi* over the whole cube (see the module notes).

    Returns
    -------
    EmergingResult

    Raises
    ------
    ValueError
        For a cube of the wrong shape, fewer than 2 steps, non-finite or negative counts, or
        parameters out of range.

    Examples
    --------
    >>> nb = Neighbours.from_grid(7, 7, queen=True)
    >>> cube = np.ones((4, 7, 7))
    >>> cube[2:, 2:5, 2:5] = 10.0  # the centre block flares up in the last two steps
    >>> res = emerging_hot_spots(cube.reshape(4, 49), nb)
    >>> str(res.category[24]), res.category[24].title_zh
    ('consecutive_hot_spot', '连续热点')
    """
    cube = np.array(cube_counts, dtype=np.float64)  # a copy: never touch the caller's
    if cube.ndim != 2 or cube.shape[1] != neighbours.n:
        raise ValueError(
            f"cube_counts must be (time steps, {neighbours.n} sites); got shape {cube.shape}."
        )
    if cube.shape[0] < 2:
        raise ValueError(f"emerging hot spots need at least 2 time steps; got {cube.shape[0]}.")
    if not np.all(np.isfinite(cube)) or np.any(cube < 0):
        t, j = np.argwhere(~np.isfinite(cube) | (cube < 0))[0]
        raise ValueError(
            f"cube_counts must be finite and >= 0; step {t}, site {j} is {float(cube[t, j])!r}."
        )
    for name, value in (("alpha", alpha), ("trend_alpha", trend_alpha)):
        if not 0.0 < float(value) < 1.0:
            raise ValueError(f"{name} must be in (0, 1); got {value!r}.")
    if not 0.0 < float(min_fraction) <= 1.0:
        raise ValueError(f"min_fraction must be in (0, 1]; got {min_fraction!r}.")
    if isinstance(time_window, bool) or int(time_window) != time_window or time_window < 0:
        raise ValueError(f"time_window must be an integer >= 0; got {time_window!r}.")
    rng = np.random.default_rng(random_state)
    steps, n = cube.shape
    z = np.zeros((steps, n))
    p = np.ones((steps, n))
    if time_window == 0:
        for t in range(steps):
            row = cube[t]
            if np.ptp(row) == 0:
                continue  # no contrast, no Gi*: z 0, p 1
            res = getis_ord_gi_star(row, neighbours, permutations=permutations, random_state=rng)
            z[t] = res.z
            p[t] = res.p_sim if res.p_sim is not None else res.p_norm
    elif np.ptp(cube) > 0:
        st = _space_time_neighbours(neighbours, steps, int(time_window))
        res = getis_ord_gi_star(cube.reshape(-1), st, permutations=permutations, random_state=rng)
        z = res.z.reshape(steps, n)
        p = (res.p_sim if res.p_sim is not None else res.p_norm).reshape(steps, n)
    if fdr is not None:
        for t in range(steps):
            p[t] = fdr_adjust(p[t], method=fdr)  # type: ignore[arg-type]
    significant = p < alpha
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    _, trend_z, trend_p = mann_kendall(z)
    category = classify_emerging(
        hot, cold, trend_z, trend_p, trend_alpha=trend_alpha, min_fraction=min_fraction
    )
    return EmergingResult(
        category=category,
        trend_z=trend_z,
        trend_p=trend_p,
        z=z,
        p=p,
        hot=hot,
        cold=cold,
        alpha=float(alpha),
        trend_alpha=float(trend_alpha),
    )
