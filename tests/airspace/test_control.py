"""Control: permits, zones, authorisation status and threat score."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from haizhou.airspace.classify import Classification
from haizhou.airspace.control import (
    ControlArea,
    Permit,
    ProtectedAsset,
    RegisteredDrone,
    Zone,
    level_of,
)
from haizhou.airspace.tracking import Track
from haizhou.domain.enums import Level
from haizhou.geo.projection import LocalProjection

TZ = timezone(timedelta(hours=8))
NOW = datetime(2026, 5, 1, 19, 30, tzinfo=TZ)
P = LocalProjection.around(119.228, 34.58)


def _square(cx, cy, half):
    lon, lat = P.inverse(
        [cx - half, cx + half, cx + half, cx - half], [cy - half, cy - half, cy + half, cy + half]
    )
    return tuple(zip(lon.tolist(), lat.tolist(), strict=True))


AREA = ControlArea.build(
    asset=ProtectedAsset(name="stadium", lon=119.228, lat=34.58, radius_m=1000),
    zones=[
        Zone(
            name="event",
            kind="event",
            polygon=_square(0, 0, 1000),
            active=((NOW - timedelta(hours=1), NOW + timedelta(hours=3)),),
        ),
        Zone(name="school", kind="school", polygon=_square(3000, 0, 300)),
    ],
    permits=[
        Permit(
            permit_id="PMT1",
            serial="S-OK",
            operator="连云港航拍",
            polygon=_square(200, 0, 300),
            valid_from=NOW - timedelta(hours=1),
            valid_to=NOW + timedelta(hours=1),
            max_alt_m=100.0,
        ),
    ],
    register=[RegisteredDrone(serial="S-REG", owner="张某")],
    projection=P,
)
DRONE = Classification(label="drone", confidence=0.9, probabilities=(), reasons=())
BIRD = Classification(label="bird", confidence=0.9, probabilities=(), reasons=())


def _t(x, y, z=50.0, vx=0.0, vy=0.0, serial=None):
    return Track(
        track_id=7,
        state=np.array([x, y, z, vx, vy, 0.0]),
        covariance=np.eye(6),
        time_s=0.0,
        created_s=0.0,
        last_update_s=0.0,
        serial=serial,
        sensor_counts=(("radar", 5),),
    )


@pytest.mark.parametrize(
    ("track", "now", "status", "reason"),
    [
        (_t(200, 0, serial="S-OK"), NOW, "authorised", "permit PMT1"),
        (_t(200, 0, z=150, serial="S-OK"), NOW, "violation", "altitude 150 m"),
        (_t(800, 800, serial="S-OK"), NOW, "violation", "outside the area of permit PMT1"),
        (_t(200, 0, serial="S-OK"), NOW + timedelta(hours=2), "violation", "not valid"),
        (_t(500, 0), NOW, "violation", "unidentified drone inside event"),
        (_t(500, 0), NOW + timedelta(hours=5), "unauthorised", "no Remote ID"),
        (
            _t(3000, 0, serial="S-REG"),
            NOW + timedelta(hours=5),
            "violation",
            "S-REG without a permit inside school",
        ),
        (_t(5000, 0, serial="S-REG"), NOW, "unauthorised", "registered drone S-REG"),
    ],
)
def test_authorisation(track, now, status, reason):
    a = AREA.assess(track, DRONE, now)
    assert a.status == status
    assert any(reason in r for r in a.reasons), a.reasons


def test_birds_are_not_applicable_and_score_low():
    a = AREA.assess(_t(100, 0), BIRD, NOW)
    assert a.status == "not_applicable" and a.threat.level == Level.BLUE


def test_threat_grows_as_a_violator_closes_in():
    far = AREA.assess(_t(2500, 0, vx=-10), DRONE, NOW).threat
    near = AREA.assess(_t(300, 0, vx=-10), DRONE, NOW).threat
    away = AREA.assess(_t(300, 0, vx=10), DRONE, NOW).threat
    assert near.score > far.score and near.score >= away.score
    assert near.closing_speed_mps == pytest.approx(10.0)
    assert away.closing_speed_mps == pytest.approx(-10.0)
    assert near.level in (Level.RED, Level.ORANGE) and far.distance_m == pytest.approx(
        2500.0, abs=1e-6
    )


def test_level_thresholds():
    assert [level_of(s) for s in (0.8, 0.6, 0.3, 0.1)] == [
        Level.RED,
        Level.ORANGE,
        Level.YELLOW,
        Level.BLUE,
    ]


def test_bad_polygons_say_what_is_wrong():
    with pytest.raises(ValueError, match="axis order"):
        Zone(name="z", kind="no_fly", polygon=((34.5, 119.2), (34.6, 119.2), (34.6, 119.3)))
    with pytest.raises(ValueError, match="kind 'park'"):
        Zone(name="z", kind="park", polygon=((119.2, 34.5), (119.3, 34.5), (119.3, 34.6)))  # type: ignore[arg-type]
