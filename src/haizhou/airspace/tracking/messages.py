"""Sensor message JSON (传感器报文格式): radar plots, RF bearings and positions to :class:`Detection`.

One JSON object per message (JSON Lines on a stream). Fields, by ``type``:

``radar_plot`` — a radar detection in sensor polar coordinates::

    {"type": "radar_plot", "time_s": 12.0, "sensor_id": "radar-1",
     "sensor": {"x_m": 0, "y_m": 0, "z_m": 30},
     "range_m": 1520.4, "azimuth_deg": 47.2, "elevation_deg": 3.1,
     "sigma_range_m": 5, "sigma_az_deg": 0.5, "sigma_el_deg": 0.8,
     "rcs_dbsm": -16.5, "track_id": null}

  azimuth clockwise from north, elevation above the horizontal; ``rcs_dbsm`` and the radar's
  own ``track_id`` are optional.

``rf_bearing`` — a direction-finder report::

    {"type": "rf_bearing", "time_s": 12.0, "sensor_id": "rf-1",
     "sensor": {"x_m": 800, "y_m": 600}, "bearing_deg": 231.5, "sigma_deg": 2.0,
     "protocol": "dji_ocusync", "signal_dbm": -71.5}

``position`` — a cooperative position (Remote ID, ADS-B) already in local metres::

    {"type": "position", "time_s": 12.0, "sensor_id": "rid-1", "sensor_kind": "remote_id",
     "x_m": 120.0, "y_m": -40.0, "z_m": 80.0, "sigma_h_m": 8, "sigma_v_m": 12,
     "serial": "1581F...", "protocol": "astm_f3411", "pilot_lon": 119.2, "pilot_lat": 34.5}

Local metres are east / north / up from the area's centre
(:class:`haizhou.geo.projection.LocalProjection`). Errors are :class:`MessageError` naming the
field, the value seen and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from haizhou.airspace.tracking.types import BearingModel, Detection, PositionModel

__all__ = ["MessageError", "parse_message", "radar_plot_covariance"]

MESSAGE_TYPES = ("radar_plot", "rf_bearing", "position")


class MessageError(ValueError):
    """A sensor message is malformed; the text names the field and what is allowed."""


def _num(
    obj: Mapping[str, Any], key: str, *, default: float | None = None, positive: bool = False
) -> float:
    value = obj.get(key, default)
    if value is None:
        raise MessageError(f"{obj.get('type', 'message')}: field {key!r} is required (a number).")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MessageError(
            f"{obj.get('type', 'message')}: field {key!r} must be a finite number; got {value!r}."
        )
    if positive and value <= 0:
        raise MessageError(
            f"{obj.get('type', 'message')}: field {key!r} must be > 0; got {value!r}."
        )
    return float(value)


def _opt(obj: Mapping[str, Any], key: str) -> float | None:
    return None if obj.get(key) is None else _num(obj, key)


def _text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise MessageError(
            f"{obj.get('type', 'message')}: field {key!r} must be a non-empty string; got {value!r}."
        )
    return value


def radar_plot_covariance(
    range_m: float,
    az_rad: float,
    el_rad: float,
    sigma_range_m: float,
    sigma_az_rad: float,
    sigma_el_rad: float,
) -> tuple[float, ...]:
    """Converted-measurement covariance ``J diag(σr², σaz², σel²) Jᵀ`` (m², row-major 3×3)."""
    sa, ca, se, ce = math.sin(az_rad), math.cos(az_rad), math.sin(el_rad), math.cos(el_rad)
    r = range_m
    j = np.array(
        [
            [ce * sa, r * ce * ca, -r * se * sa],
            [ce * ca, -r * ce * sa, -r * se * ca],
            [se, 0.0, r * ce],
        ]
    )
    c = j @ np.diag([sigma_range_m**2, sigma_az_rad**2, sigma_el_rad**2]) @ j.T + np.eye(3) * 1e-3
    return tuple(float(v) for v in c.ravel())


def parse_message(obj: Mapping[str, Any]) -> Detection:
    """One sensor message (see the module notes) as a :class:`Detection`.

    Raises
    ------
    MessageError
        Unknown ``type``, a missing or non-finite number, a bad string.

    Examples
    --------
    >>> d = parse_message({"type": "radar_plot", "time_s": 1.0, "sensor_id": "r",
    ...                    "sensor": {"x_m": 0, "y_m": 0, "z_m": 0}, "range_m": 1000.0,
    ...                    "azimuth_deg": 90.0, "elevation_deg": 0.0})
    >>> [round(v, 6) for v in d.measurement]
    [1000.0, 0.0, 0.0]
    """
    if not isinstance(obj, Mapping):
        raise MessageError(f"a sensor message must be a JSON object; got {type(obj).__name__}.")
    kind = obj.get("type")
    if kind not in MESSAGE_TYPES:
        raise MessageError(
            f"message type {kind!r} is unknown; use one of {', '.join(MESSAGE_TYPES)}."
        )
    time_s = _num(obj, "time_s")
    sensor_id = _text(obj, "sensor_id")
    if sensor_id is None:
        raise MessageError(f"{kind}: field 'sensor_id' is required (a string).")
    sensor = obj.get("sensor", {})
    if not isinstance(sensor, Mapping):
        raise MessageError(
            f"{kind}: field 'sensor' must be an object {{x_m, y_m, z_m}}; got {sensor!r}."
        )
    if kind == "radar_plot":
        sx, sy, sz = (_num(sensor, k, default=0.0) for k in ("x_m", "y_m", "z_m"))
        r = _num(obj, "range_m", positive=True)
        az = math.radians(_num(obj, "azimuth_deg"))
        el_deg = _num(obj, "elevation_deg")
        if not -90.0 <= el_deg <= 90.0:
            raise MessageError(
                f"radar_plot: field 'elevation_deg' must be in [-90, 90]; got {el_deg!r}."
            )
        el = math.radians(el_deg)
        cov = radar_plot_covariance(
            r,
            az,
            el,
            _num(obj, "sigma_range_m", default=5.0, positive=True),
            math.radians(_num(obj, "sigma_az_deg", default=0.5, positive=True)),
            math.radians(_num(obj, "sigma_el_deg", default=0.8, positive=True)),
        )
        xyz = (
            sx + r * math.cos(el) * math.sin(az),
            sy + r * math.cos(el) * math.cos(az),
            sz + r * math.sin(el),
        )
        return Detection(
            time_s=time_s,
            sensor_id=sensor_id,
            sensor_kind="radar",
            measurement=xyz,
            model=PositionModel(covariance=cov),
            rcs_dbsm=_opt(obj, "rcs_dbsm"),
        )
    if kind == "rf_bearing":
        b = math.radians(_num(obj, "bearing_deg"))
        return Detection(
            time_s=time_s,
            sensor_id=sensor_id,
            sensor_kind="rf",
            measurement=((b + math.pi) % (2 * math.pi) - math.pi,),
            model=BearingModel(
                sensor_x_m=_num(sensor, "x_m", default=0.0),
                sensor_y_m=_num(sensor, "y_m", default=0.0),
                sigma_rad=math.radians(_num(obj, "sigma_deg", default=2.0, positive=True)),
            ),
            protocol=_text(obj, "protocol"),
            signal_dbm=_opt(obj, "signal_dbm"),
        )
    sensor_kind = obj.get("sensor_kind", "remote_id")
    if sensor_kind not in ("remote_id", "adsb", "camera", "radar"):
        raise MessageError(
            f"position: field 'sensor_kind' must be remote_id, adsb, camera or radar; got {sensor_kind!r}."
        )
    return Detection(
        time_s=time_s,
        sensor_id=sensor_id,
        sensor_kind=sensor_kind,
        measurement=(_num(obj, "x_m"), _num(obj, "y_m"), _num(obj, "z_m")),
        model=PositionModel.isotropic(
            _num(obj, "sigma_h_m", default=10.0, positive=True),
            _num(obj, "sigma_v_m", default=15.0, positive=True),
        ),
        serial=_text(obj, "serial"),
        protocol=_text(obj, "protocol"),
        pilot_lon=_opt(obj, "pilot_lon"),
        pilot_lat=_opt(obj, "pilot_lat"),
    )
