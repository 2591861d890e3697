"""Coverage figures per jurisdiction and blind spots (覆盖率统计 · 盲区).

Share of road length, of places of interest and of incident locations that some sensor sees,
per jurisdiction; blind spots are grid cells with many incidents that no sensor sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from haizhou.analytics.levels import assign_levels

__all__ = ["blind_spots", "coverage_by_jurisdiction", "road_samples"]


def road_samples(
    roads: Sequence[Any] | np.ndarray, *, step_m: float = 10.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``step_m`` along each road, each standing for ``step_m`` of road.

    Parameters
    ----------
    roads : sequence of shapely.LineString
        Road centre lines, metres.
    step_m : float, default 10
        Spacing, metres (> 0). Each sample is the middle of its stretch, so the represented
        lengths add up to each road's length exactly.

    Returns
    -------
    x_m, y_m, length_m : numpy.ndarray of float64
        Sample points and the road length each stands for, metres.

    Examples
    --------
    >>> x, y, l = road_samples([shapely.LineString([(0, 0), (25, 0)])], step_m=10)
    >>> x.tolist(), round(float(l.sum()), 6)
    ([5.0, 15.0, 22.5], 25.0)
    """
    if not step_m > 0:
        raise ValueError(f"step_m must be > 0 metres; got {step_m!r}.")
    lines = np.asarray(list(roads), dtype=object)
    if lines.size == 0:
        z = np.zeros(0)
        return z, z, z
    lengths = shapely.length(lines)
    n = np.maximum(np.ceil(lengths / step_m).astype(np.int64), 1)
    road = np.repeat(np.arange(lines.size), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    lo = k * step_m
    hi = np.minimum((k + 1) * step_m, lengths[road])
    pts = shapely.line_interpolate_point(lines[road], (lo + hi) / 2.0)
    return shapely.get_x(pts), shapely.get_y(pts), hi - lo


def coverage_by_jurisdiction(
    seen: dict[str, sparse.csr_array | np.ndarray],
    jurisdiction: dict[str, np.ndarray],
    *,
    weights: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Covered share of each layer per jurisdiction (辖区覆盖率).

    Parameters
    ----------
    seen : dict of str to sparse matrix or bool array
        Per layer (e.g. ``"road"``, ``"poi"``, ``"incident"``), which points some sensor sees:
        a point × sensor matrix from
        :func:`haizhou.analytics.coverage.footprint.coverage_matrix_points` or a bool array.
    jurisdiction : dict of str to numpy.ndarray
        Per layer, the jurisdiction code of each point.
    weights : dict of str to numpy.ndarray, optional
        Per layer, the weight of each point (road samples: metres of road). Default 1.

    Returns
    -------
    pandas.DataFrame
        One row per jurisdiction (plus ``"ALL"``), columns ``<layer>_total``,
        ``<layer>_covered`` and ``<layer>_share`` (share in [0, 1], NaN when the total is 0).

    Examples
    --------
    >>> out = coverage_by_jurisdiction({"poi": np.array([True, False, True])},
    ...                                {"poi": np.array(["A", "A", "B"])})
    >>> out["poi_share"].tolist()
    [0.5, 1.0, 0.6666666666666666]
    """
    frames = []
    for layer, s in seen.items():
        flag = np.asarray(s.sum(axis=1)).ravel() > 0 if sparse.issparse(s) else np.asarray(s, bool)
        codes = np.asarray(jurisdiction[layer]).astype(str)
        if codes.size != flag.size:
            raise ValueError(
                f"layer {layer!r}: {flag.size} points but {codes.size} jurisdiction codes."
            )
        w = np.ones(flag.size) if weights is None or layer not in weights else weights[layer]
        df = pd.DataFrame({"j": codes, "t": w, "c": np.where(flag, w, 0.0)})
        g = df.groupby("j", sort=True)[["t", "c"]].sum()
        g.loc["ALL"] = [df["t"].sum(), df["c"].sum()]
        g.columns = [f"{layer}_total", f"{layer}_covered"]
        tot = g[f"{layer}_total"].to_numpy()
        g[f"{layer}_share"] = np.where(
            tot > 0, g[f"{layer}_covered"] / np.where(tot > 0, tot, 1), np.nan
        )
        frames.append(g)
    out = pd.concat(frames, axis=1).fillna(
        {c: 0.0 for f in frames for c in f.columns if not c.endswith("_share")}
    )
    out.index.name = "jurisdiction_code"
    return out.reset_index()


def blind_spots(
    x_m: Any,
    y_m: Any,
    covered: Any,
    *,
    weights: Any = None,
    cell_size_m: float = 200.0,
    min_weight: float = 5.0,
    top_fractions: Sequence[float] = (0.05, 0.15, 0.3, 0.6),
) -> pd.DataFrame:
    """Blind spots (盲区): grid cells with many incidents that no sensor sees.

    Parameters
    ----------
    x_m, y_m : array_like of float, shape (n,)
        Incident locations, metres.
    covered : array_like of bool, shape (n,)
        Whether some sensor sees each location.
    weights : array_like of float, shape (n,), optional
        Severity weight of each incident (default 1).
    cell_size_m : float, default 200
        Grid cell side, metres.
    min_weight : float, default 5
        Uncovered weight a cell needs to count as a blind spot.
    top_fractions : 4 floats, default (0.05, 0.15, 0.3, 0.6)
        Shares of the blind spots levelled red, orange, yellow, blue (by uncovered weight;
        :func:`haizhou.analytics.levels.assign_levels`).

    Returns
    -------
    pandas.DataFrame
        One row per blind spot, heaviest first: ``cell_x, cell_y`` (cell index), ``x_m, y_m``
        (centre), ``incidents`` (weight in the cell), ``uncovered`` (weight unseen),
        ``uncovered_share`` and ``level`` (a :class:`haizhou.domain.Level` or None).
    """
    x = np.asarray(x_m, float).reshape(-1)
    y = np.asarray(y_m, float).reshape(-1)
    c = np.asarray(covered, bool).reshape(-1)
    if not (x.size == y.size == c.size):
        raise ValueError("x_m, y_m and covered must have one value per incident.")
    w = np.ones(x.size) if weights is None else np.asarray(weights, float).reshape(-1)
    if not cell_size_m > 0:
        raise ValueError(f"cell_size_m must be > 0 metres; got {cell_size_m!r}.")
    cx = np.floor(x / cell_size_m).astype(np.int64)
    cy = np.floor(y / cell_size_m).astype(np.int64)
    df = pd.DataFrame(
        {"cell_x": cx, "cell_y": cy, "incidents": w, "uncovered": np.where(c, 0.0, w)}
    )
    g = df.groupby(["cell_x", "cell_y"], sort=True)[["incidents", "uncovered"]].sum().reset_index()
    g = g[g["uncovered"] >= min_weight].sort_values(
        ["uncovered", "cell_y", "cell_x"], ascending=[False, True, True], kind="stable"
    )
    g = g.reset_index(drop=True)
    g["x_m"] = (g["cell_x"] + 0.5) * cell_size_m
    g["y_m"] = (g["cell_y"] + 0.5) * cell_size_m
    g["uncovered_share"] = g["uncovered"] / g["incidents"]
    levels = (
        assign_levels(g["uncovered"].to_numpy(), top_fractions=tuple(top_fractions))
        if len(g)
        else np.zeros(0, dtype=object)
    )
    # object dtype keeps the Level members (pandas would turn a StrEnum into plain text)
    g["level"] = pd.Series(list(levels), index=g.index, dtype=object)
    return g
