"""Sensor message JSON: radar plots, RF bearings, positions; property tests for the parser."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haizhou.airspace.tracking import MessageError, parse_message

finite = st.floats(-5000, 5000, allow_nan=False)


@given(
    sx=finite,
    sy=finite,
    sz=st.floats(0, 100),
    r=st.floats(10, 20000),
    az=st.floats(-360, 720),
    el=st.floats(-30, 85),
)
def test_radar_plot_inverts_to_the_polar_measurement(sx, sy, sz, r, az, el):
    msg = {
        "type": "radar_plot",
        "time_s": 3.0,
        "sensor_id": "radar-1",
        "sensor": {"x_m": sx, "y_m": sy, "z_m": sz},
        "range_m": r,
        "azimuth_deg": az,
        "elevation_deg": el,
        "rcs_dbsm": -15.0,
    }
    d = parse_message(json.loads(json.dumps(msg)))
    dx, dy, dz = (d.measurement[0] - sx, d.measurement[1] - sy, d.measurement[2] - sz)
    assert math.hypot(dx, dy, dz) == pytest.approx(r, rel=1e-9, abs=1e-6)
    assert math.degrees(math.atan2(dz, math.hypot(dx, dy))) == pytest.approx(el, abs=1e-6)
    if el < 89:
        back = math.degrees(math.atan2(dx, dy)) % 360.0
        assert min(abs(back - az % 360.0), 360 - abs(back - az % 360.0)) < 1e-6
    cov = d.model.matrix
    assert np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0)
    assert d.sensor_kind == "radar" and d.rcs_dbsm == -15.0


def test_radar_covariance_grows_across_range_with_angle_noise():
    near = parse_message(
        {
            "type": "radar_plot",
            "time_s": 0,
            "sensor_id": "r",
            "range_m": 500,
            "azimuth_deg": 0,
            "elevation_deg": 0,
            "sigma_az_deg": 1.0,
        }
    )
    far = parse_message(
        {
            "type": "radar_plot",
            "time_s": 0,
            "sensor_id": "r",
            "range_m": 5000,
            "azimuth_deg": 0,
            "elevation_deg": 0,
            "sigma_az_deg": 1.0,
        }
    )
    # azimuth 0 = north: cross-range is x; sigma_x = r * 1 degree
    assert math.sqrt(near.model.matrix[0, 0]) == pytest.approx(500 * math.radians(1.0), rel=1e-3)
    assert math.sqrt(far.model.matrix[0, 0]) == pytest.approx(5000 * math.radians(1.0), rel=1e-3)
    assert far.model.matrix[1, 1] == pytest.approx(25.0, rel=1e-3)  # range sigma 5 m along y


@given(st.floats(-720, 720, allow_nan=False))
def test_rf_bearing_is_wrapped(bearing):
    d = parse_message(
        {
            "type": "rf_bearing",
            "time_s": 1,
            "sensor_id": "rf-1",
            "bearing_deg": bearing,
            "protocol": "dji_ocusync",
            "signal_dbm": -70.5,
            "sensor": {"x_m": 5, "y_m": 6},
        }
    )
    b = d.measurement[0]
    assert -math.pi <= b < math.pi
    assert math.cos(b) == pytest.approx(math.cos(math.radians(bearing)), abs=1e-9)
    assert (d.model.sensor_x_m, d.model.sensor_y_m, d.protocol, d.signal_dbm) == (
        5.0,
        6.0,
        "dji_ocusync",
        -70.5,
    )


def test_position_message_keeps_identity_and_pilot():
    d = parse_message(
        {
            "type": "position",
            "time_s": 2,
            "sensor_id": "rid-1",
            "x_m": 1,
            "y_m": 2,
            "z_m": 80,
            "serial": "1581F1",
            "pilot_lon": 119.2,
            "pilot_lat": 34.5,
        }
    )
    assert d.sensor_kind == "remote_id" and d.serial == "1581F1" and d.pilot_lat == 34.5
    assert d.model.matrix[2, 2] == pytest.approx(225.0)


@pytest.mark.parametrize(
    ("msg", "message"),
    [
        ({"type": "sonar"}, "type 'sonar' is unknown"),
        ({"type": "rf_bearing", "sensor_id": "x", "bearing_deg": 1}, "'time_s' is required"),
        ({"type": "rf_bearing", "time_s": 1, "bearing_deg": 1}, "'sensor_id' is required"),
        (
            {
                "type": "radar_plot",
                "time_s": 1,
                "sensor_id": "r",
                "range_m": -5,
                "azimuth_deg": 0,
                "elevation_deg": 0,
            },
            "'range_m' must be > 0",
        ),
        (
            {
                "type": "radar_plot",
                "time_s": 1,
                "sensor_id": "r",
                "range_m": 5,
                "azimuth_deg": "n",
                "elevation_deg": 0,
            },
            "'azimuth_deg' must be a finite number",
        ),
        (
            {
                "type": "radar_plot",
                "time_s": 1,
                "sensor_id": "r",
                "range_m": 5,
                "azimuth_deg": 0,
                "elevation_deg": 95,
            },
            "elevation_deg",
        ),
        (
            {
                "type": "position",
                "time_s": 1,
                "sensor_id": "p",
                "x_m": 0,
                "y_m": 0,
                "z_m": 0,
                "sensor_kind": "lidar",
            },
            "sensor_kind",
        ),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_messages_name_the_field(msg, message):
    with pytest.raises(MessageError, match=message):
        parse_message(msg)
