"""Sensor coverage footprints (感知点位覆盖范围) and who-sees-what in metres.

Each sensor kind has its own coverage model:

* ``camera``: a sector (range, heading, field of view), blocked by buildings;
* ``plate_reader``: the stretch of the nearest road within range, one carriageway wide
  (a sector when no roads are given), blocked by buildings;
* ``wifi_probe``, ``rf`` and other radio sensors: a disc of the range, not blocked (radio goes
  through walls well enough at these ranges).

Headings are compass bearings in degrees (0 = north, 90 = east), as in the sensor register.
Everything here is in metres on a local plane (:class:`haizhou.geo.projection.LocalProjection`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse

__all__ = [
    "OPTICAL_KINDS",
    "coverage_matrix_points",
    "footprints",
    "sector_polygons",
]

OPTICAL_KINDS: tuple[str, ...] = ("camera", "plate_reader")
"""Kinds whose line of sight is blocked by buildings."""

_REQUIRED = ("kind", "x_m", "y_m", "range_m", "heading_deg", "fov_deg")


def _check_sensors(sensors: pd.DataFrame) -> None:
    missing = [c for c in _REQUIRED if c not in sensors.columns]
    if missing:
        raise ValueError(
            f"sensors frame lacks column(s) {missing}; it needs {list(_REQUIRED)} "
            "(x_m, y_m in metres on a local plane; heading as a compass bearing in degrees)."
        )
    r = sensors["range_m"].to_numpy(float)
    if not np.all(np.isfinite(r) & (r > 0)):
        bad = int(np.flatnonzero(~(np.isfinite(r) & (r > 0)))[0])
        raise ValueError(f"sensors row {bad}: range_m must be a finite number > 0; got {r[bad]!r}.")


def sector_polygons(
    x_m: Any,
    y_m: Any,
    range_m: Any,
    heading_deg: Any,
    fov_deg: Any,
    *,
    arc_vertices: int = 16,
) -> np.ndarray:
    """Sector polygons (扇形覆盖区), vectorised; a field of view of 360° gives a disc.

    Parameters
    ----------
    x_m, y_m : array_like of float, shape (n,)
        Apex, metres.
    range_m : array_like of float, shape (n,)
        Radius, metres (> 0).
    heading_deg : array_like of float, shape (n,)
        Compass bearing of the axis, degrees clockwise from north.
    fov_deg : array_like of float, shape (n,)
        Opening angle, degrees in (0, 360].
    arc_vertices : int, default 16
        Vertices along each arc (a disc gets ``4 * arc_vertices``).

    Returns
    -------
    numpy.ndarray of shapely.Polygon, shape (n,)

    Examples
    --------
    >>> p = sector_polygons([0.0], [0.0], [10.0], [0.0], [90.0])[0]
    >>> bool(shapely.contains_xy(p, 0.0, 9.0)), bool(shapely.contains_xy(p, 0.0, -1.0))
    (True, False)
    """
    x, y, r, h, f = (
        np.asarray(v, dtype=float).reshape(-1) for v in (x_m, y_m, range_m, heading_deg, fov_deg)
    )
    n = x.size
    if not all(a.size == n for a in (y, r, h, f)):
        raise ValueError("sector_polygons needs arrays of one length (one value per sensor).")
    if np.any((f <= 0) | (f > 360)):
        raise ValueError("fov_deg must be in (0, 360] degrees.")
    full = f >= 360.0
    out = np.empty(n, dtype=object)
    if full.any():
        out[full] = shapely.buffer(
            shapely.points(x[full], y[full]), r[full], quad_segs=arc_vertices
        )
    part = ~full
    if part.any():
        k = arc_vertices + 1
        t = np.linspace(-0.5, 0.5, k)[None, :]
        bearing = np.radians(h[part, None] + f[part, None] * t)
        ax = x[part, None] + r[part, None] * np.sin(bearing)
        ay = y[part, None] + r[part, None] * np.cos(bearing)
        rings = np.empty((part.sum(), k + 2, 2))
        rings[:, 0, 0], rings[:, 0, 1] = x[part], y[part]
        rings[:, 1 : k + 1, 0], rings[:, 1 : k + 1, 1] = ax, ay
        rings[:, -1] = rings[:, 0]
        out[part] = shapely.polygons(rings)
    return out


def footprints(
    sensors: pd.DataFrame,
    *,
    roads: Sequence[Any] | np.ndarray | None = None,
    lane_width_m: float = 12.0,
    arc_vertices: int = 16,
) -> np.ndarray:
    """Coverage footprint of each sensor (覆盖范围), polygons in metres.

    Parameters
    ----------
    sensors : pandas.DataFrame
        Columns ``kind, x_m, y_m, range_m, heading_deg, fov_deg`` (one row per sensor; other
        columns are ignored). Not modified.
    roads : sequence of shapely.LineString, optional
        Road centre lines in metres. When given, a plate reader covers the part of its nearest
        road within its range, ``lane_width_m`` wide; otherwise its sector.
    lane_width_m : float, default 12
        Width of the road stretch a plate reader reads, metres.
    arc_vertices : int, default 16
        Vertices per arc of the sectors.

    Returns
    -------
    numpy.ndarray of shapely geometries, shape (n_sensors,)

    Raises
    ------
    ValueError
        When a column is missing or a range is not a positive number (naming the row).
    """
    _check_sensors(sensors)
    kind = sensors["kind"].to_numpy().astype(str)
    x = sensors["x_m"].to_numpy(float)
    y = sensors["y_m"].to_numpy(float)
    r = sensors["range_m"].to_numpy(float)
    fov = np.where(np.isin(kind, OPTICAL_KINDS), sensors["fov_deg"].to_numpy(float), 360.0)
    fov = np.clip(np.nan_to_num(fov, nan=360.0), 1e-6, 360.0)
    heading = np.nan_to_num(sensors["heading_deg"].to_numpy(float), nan=0.0)
    out = sector_polygons(x, y, r, heading, fov, arc_vertices=arc_vertices)
    plate = np.flatnonzero(kind == "plate_reader")
    if roads is not None and len(roads) and plate.size:
        lines = np.asarray(list(roads), dtype=object)
        tree = shapely.STRtree(lines)
        pts = shapely.points(x[plate], y[plate])
        idx = tree.nearest(pts)
        near = shapely.distance(pts, lines[idx]) <= r[plate]
        disc = shapely.buffer(pts, r[plate], quad_segs=arc_vertices)
        stretch = shapely.intersection(shapely.buffer(lines[idx], lane_width_m / 2.0), disc)
        ok = near & ~shapely.is_empty(stretch)
        out[plate[ok]] = stretch[ok]
    return out


def coverage_matrix_points(
    sensors: pd.DataFrame,
    x_m: Any,
    y_m: Any,
    *,
    shapes: np.ndarray | None = None,
    obstacles: Sequence[Any] | np.ndarray | None = None,
    roads: Sequence[Any] | np.ndarray | None = None,
) -> sparse.csr_array:
    """Which sensor sees which point (点位可见矩阵), occlusion included.

    Parameters
    ----------
    sensors : pandas.DataFrame
        As for :func:`footprints`.
    x_m, y_m : array_like of float, shape (n_points,)
        Points, metres.
    shapes : numpy.ndarray, optional
        Footprints already computed with :func:`footprints` (else computed here).
    obstacles : sequence of shapely polygons, optional
        Buildings in metres. A point is seen by an optical sensor only if the segment from the
        sensor to the point crosses no building's interior.
    roads : sequence of shapely.LineString, optional
        Passed to :func:`footprints`.

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (n_points, n_sensors)

    Examples
    --------
    >>> s = pd.DataFrame({"kind": ["camera"], "x_m": [0.0], "y_m": [0.0], "range_m": [50.0],
    ...                   "heading_deg": [90.0], "fov_deg": [60.0]})
    >>> wall = shapely.box(10, -3, 12, 3)
    >>> m = coverage_matrix_points(s, [20.0, 20.0, -20.0], [0.0, 10.0, 0.0], obstacles=[wall])
    >>> m.toarray().ravel().tolist()
    [False, True, False]
    """
    x = np.asarray(x_m, dtype=float).reshape(-1)
    y = np.asarray(y_m, dtype=float).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"x_m and y_m differ in length ({x.size} vs {y.size}).")
    if shapes is None:
        shapes = footprints(sensors, roads=roads)
    n_s = len(shapes)
    pts = shapely.points(x, y)
    tree = shapely.STRtree(shapes)
    p_idx, s_idx = tree.query(pts, predicate="intersects")
    if obstacles is not None and len(obstacles) and p_idx.size:
        optical = np.isin(sensors["kind"].to_numpy().astype(str), OPTICAL_KINDS)
        check = np.flatnonzero(optical[s_idx])
        if check.size:
            sx = sensors["x_m"].to_numpy(float)[s_idx[check]]
            sy = sensors["y_m"].to_numpy(float)[s_idx[check]]
            coords = np.stack(
                [np.column_stack([sx, sy]), np.column_stack([x[p_idx[check]], y[p_idx[check]]])],
                axis=1,
            )
            sight = shapely.linestrings(coords)
            obs = np.asarray(list(obstacles), dtype=object)
            otree = shapely.STRtree(obs)
            l_idx, o_idx = otree.query(sight, predicate="intersects")
            # touching a wall's edge does not block; crossing its interior does
            blocking = shapely.relate_pattern(sight[l_idx], obs[o_idx], "T********")
            blocked = np.zeros(check.size, dtype=bool)
            blocked[l_idx[blocking]] = True
            keep = np.ones(p_idx.size, dtype=bool)
            keep[check[blocked]] = False
            p_idx, s_idx = p_idx[keep], s_idx[keep]
    data = np.ones(p_idx.size, dtype=bool)
    m = sparse.csr_array((data, (p_idx, s_idx)), shape=(x.size, n_s))
    m.sum_duplicates()
    return m
