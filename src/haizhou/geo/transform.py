"""Datum conversion between WGS-84, GCJ-02 and BD-09 (坐标系转换: WGS-84 / GCJ-02 火星坐标 / BD-09 百度坐标).

Chinese web maps do not publish WGS-84 positions. Amap (高德), Tencent (腾讯) and most
domestic devices and apps give GCJ-02 (国测局坐标, "Mars coordinates"), an obfuscated datum
shifted by a smooth function of position, typically 300-700 m in eastern China. Baidu (百度)
adds a second shift on top (BD-09). Mixing them silently puts an incident in the wrong
jurisdiction, so every conversion here is explicit, vectorised and tested.

The model is pyproj's ``Transformer``: build once with a named constructor, transform arrays,
longitude first, the inverse as a ``direction`` argument.

References
----------
.. [1] GB/T "GCJ-02" obfuscation as reverse-engineered and widely reimplemented, e.g.
   googollee/eviltransform (https://github.com/googollee/eviltransform) and
   wandergis/coordtransform. Krasovsky 1940 ellipsoid, a = 6378245 m,
   e^2 = 0.00669342162296594323.
.. [2] Baidu's published GCJ-02 <-> BD-09 conversion (x_pi = pi * 3000 / 180), as in the
   same reimplementations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

__all__ = ["CoordTransformer", "Datum", "TransformDirection", "out_of_china"]

# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
_KRASOVSKY_A_M = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Fixed-point inverses. Over the China box the GCJ-02 shift is a contraction with Lipschitz
# constant L < 0.0075 (max-norm, measured on a 3000 x 2000 grid), so once a step is below
# _GCJ_STEP_TOL_DEG the remaining error is < L / (1 - L) * tol < 8e-9 degrees (< 1 mm).
# Baidu's map g -> bd has |J - I| < 0.022 in China (< 0.05 worldwide), so its inverse is
# left with < 2.3e-8 degrees (< 3 mm) in China and < 5.3e-8 degrees (< 6 mm) anywhere.
_GCJ_STEP_TOL_DEG = 1e-6
_BD_STEP_TOL_DEG = 1e-6
_INVERSE_MAX_ITER = 40

# What the inverses guarantee against the exact published forward formulas, in metres.
_INVERSE_ERROR_M = 0.01

# Points per block: temporaries stay in cache, ~2x faster than whole-array passes at 1e6.
_BLOCK = 1 << 16


class Datum(StrEnum):
    """Geodetic datum of a longitude/latitude pair (坐标系)."""

    WGS84 = "wgs84"  # GPS, international; what Haizhou stores
    GCJ02 = "gcj02"  # 国测局 / 火星坐标: Amap, Tencent, most domestic apps and devices
    BD09 = "bd09"  # 百度坐标: Baidu Maps


class TransformDirection(StrEnum):
    """Which way a :class:`CoordTransformer` runs: source -> target, or back."""

    FORWARD = "forward"
    INVERSE = "inverse"


def out_of_china(lon: Any, lat: Any) -> np.ndarray:
    """Whether points fall outside the rough China box of the published GCJ-02 algorithm.

    The published algorithm (境外不偏移) leaves points outside the box
    72.004..137.8347 E, 0.8293..55.8271 N unchanged. The box is crude: it includes parts of
    neighbouring countries and excludes nothing inside China.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude, degrees (longitude first). Broadcast against each other.

    Returns
    -------
    numpy.ndarray of bool
        True outside the box. NaN coordinates give False (they are not known to be outside).

    Examples
    --------
    >>> out_of_china([119.18, 2.35], [34.60, 48.86]).tolist()
    [False, True]
    """
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 (degrees) at WGS-84 points, the published polynomial formula."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A_M * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A_M / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d_lon, d_lat = _gcj_delta(lon, lat)
    outside = out_of_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Fixed point of w = g - delta(w), starting from g - delta(g). Each point stops on its own
    # (so a point's answer never depends on the other points in the batch); NaN stops at once.
    outside = out_of_china(lon, lat)
    d_lon, d_lat = _gcj_delta(lon, lat)
    w_lon, w_lat = lon - d_lon, lat - d_lat
    active = np.flatnonzero(~outside & np.isfinite(w_lon) & np.isfinite(w_lat))
    for _ in range(_INVERSE_MAX_ITER):
        if not active.size:
            break
        d_lon, d_lat = _gcj_delta(w_lon[active], w_lat[active])
        new_lon, new_lat = lon[active] - d_lon, lat[active] - d_lat
        step = np.fmax(np.abs(new_lon - w_lon[active]), np.abs(new_lat - w_lat[active]))
        w_lon[active], w_lat[active] = new_lon, new_lat
        active = active[step > _GCJ_STEP_TOL_DEG]
    return np.where(outside, lon, w_lon), np.where(outside, lat, w_lat)


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Baidu's published approximate inverse, refined point by point by fixed-point iteration
    # so that the round trip is exact to < 1e-7 degrees rather than the formula's ~1e-5.
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    active = np.flatnonzero(np.isfinite(g_lon) & np.isfinite(g_lat))
    for _ in range(_INVERSE_MAX_ITER):
        if not active.size:
            break
        b_lon, b_lat = _gcj_to_bd(g_lon[active], g_lat[active])
        e_lon, e_lat = lon[active] - b_lon, lat[active] - b_lat
        g_lon[active] += e_lon
        g_lat[active] += e_lat
        active = active[np.fmax(np.abs(e_lon), np.abs(e_lat)) > _BD_STEP_TOL_DEG]
    return g_lon, g_lat


# One step each way between neighbouring datums; other pairs chain through GCJ-02.
_STEPS = {
    (Datum.WGS84, Datum.GCJ02): _wgs_to_gcj,
    (Datum.GCJ02, Datum.WGS84): _gcj_to_wgs,
    (Datum.GCJ02, Datum.BD09): _gcj_to_bd,
    (Datum.BD09, Datum.GCJ02): _bd_to_gcj,
}


def _route(source: Datum, target: Datum) -> tuple[tuple[Datum, Datum], ...]:
    if source == target:
        return ()
    if (source, target) in _STEPS:
        return ((source, target),)
    return ((source, Datum.GCJ02), (Datum.GCJ02, target))


def _as_datum(value: Datum | str, name: str) -> Datum:
    try:
        return Datum(str(value).lower())
    except ValueError:
        allowed = ", ".join(repr(d.value) for d in Datum)
        raise ValueError(f"The {name!r} datum must be one of {allowed}; got {value!r}.") from None


_CONSTRUCTOR_TOKEN = object()


@dataclass(frozen=True, slots=True, init=False)
class CoordTransformer:
    """Convert lon/lat between WGS-84, GCJ-02 and BD-09 (坐标转换器).

    Build it with :meth:`from_datums`; the bare constructor raises. Immutable and free of
    shared mutable state, so one instance may be used from many threads.

    Attributes
    ----------
    source, target : Datum
        Datum of the input and of the output of a forward transform.
    max_error_m : float
        Largest error, in metres, of either direction against the published algorithms
        (0 for the identity; the forward formulas are exact, the inverses are iterated to
        better than 1 cm, i.e. < 1e-7 degrees).

    Notes
    -----
    - Longitude comes first everywhere.
    - Points outside the rough China box (:func:`out_of_china`) are returned unchanged by the
      GCJ-02 step, as the published algorithm does; the BD-09 step applies everywhere.
    - NaN in gives NaN out; inputs are never modified; output is float64.

    Examples
    --------
    >>> t = CoordTransformer.from_datums(Datum.WGS84, Datum.GCJ02)
    >>> lon, lat = t.transform(119.1786, 34.6001)
    >>> (round(float(lon), 6), round(float(lat), 6))
    (119.184213, 34.599134)
    >>> back = t.transform(lon, lat, direction="inverse")
    >>> (round(float(back[0]), 7), round(float(back[1]), 7))
    (119.1786, 34.6001)
    """

    source: Datum
    target: Datum

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        token = kwargs.pop("_token", None)
        if token is not _CONSTRUCTOR_TOKEN:
            raise TypeError(
                "CoordTransformer cannot be built directly; use "
                "CoordTransformer.from_datums(source, target), e.g. "
                "CoordTransformer.from_datums('gcj02', 'wgs84')."
            )
        source, target = args
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "target", target)

    @classmethod
    def from_datums(cls, source: Datum | str, target: Datum | str) -> CoordTransformer:
        """A transformer from ``source`` to ``target`` (e.g. ``'gcj02'`` -> ``'wgs84'``).

        Parameters
        ----------
        source, target : Datum or str
            One of ``'wgs84'``, ``'gcj02'``, ``'bd09'`` (case-insensitive).

        Raises
        ------
        ValueError
            When a datum is not one of those, naming the allowed values.
        """
        return cls(
            _as_datum(source, "source"), _as_datum(target, "target"), _token=_CONSTRUCTOR_TOKEN
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (CoordTransformer.from_datums, (self.source.value, self.target.value))

    @property
    def max_error_m(self) -> float:
        return 0.0 if self.source == self.target else _INVERSE_ERROR_M

    def transform(
        self,
        lon: Any,
        lat: Any,
        *,
        direction: TransformDirection | str = TransformDirection.FORWARD,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Transform longitudes and latitudes (degrees, longitude first).

        Parameters
        ----------
        lon, lat : float or array_like
            Coordinates in the source datum (the target datum for ``direction='inverse'``),
            degrees; broadcast against each other.
        direction : TransformDirection or str, default 'forward'
            ``'forward'`` maps source -> target, ``'inverse'`` target -> source.

        Returns
        -------
        (lon, lat) : tuple of numpy.ndarray of float64
            New arrays with the broadcast shape (0-d for scalar input).
        """
        try:
            direction = TransformDirection(str(direction).lower())
        except ValueError:
            raise ValueError(
                f"The 'direction' of CoordTransformer.transform must be 'forward' or "
                f"'inverse'; got {direction!r}."
            ) from None
        lon_a, lat_a = np.broadcast_arrays(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        if direction is TransformDirection.FORWARD:
            route = _route(self.source, self.target)
        else:
            route = _route(self.target, self.source)
        shape = lon_a.shape
        flat_lon, flat_lat = lon_a.ravel(), lat_a.ravel()
        out_lon = np.array(flat_lon, dtype=np.float64)  # always a new array, even for no steps
        out_lat = np.array(flat_lat, dtype=np.float64)
        for start in range(0, out_lon.size, _BLOCK):
            b_lon, b_lat = out_lon[start : start + _BLOCK], out_lat[start : start + _BLOCK]
            for step in route:
                b_lon, b_lat = _STEPS[step](b_lon, b_lat)
            out_lon[start : start + _BLOCK] = b_lon
            out_lat[start : start + _BLOCK] = b_lat
        return out_lon.reshape(shape), out_lat.reshape(shape)
