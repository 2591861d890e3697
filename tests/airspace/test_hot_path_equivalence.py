"""The live tracker's hot-path shortcuts give the answers of the plain formulas (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from shapely.geometry import Point

from haizhou.airspace.classify import EvidenceClassifier
from haizhou.airspace.control import ControlArea, Permit, ProtectedAsset, Zone
from haizhou.airspace.tracking import Detection, KalmanUpdater, PositionModel, Track
from haizhou.airspace.tracking.gate import _quad_logdet3

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_closed_form_3x3_matches_solve_and_slogdet() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(20, 9, 3, 3))
    s = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(3)
    nu = rng.normal(size=(20, 9, 3)) * 50
    quad, logdet = _quad_logdet3(s, nu)
    want = np.einsum("nmi,nmi->nm", nu, np.linalg.solve(s, nu[..., None])[..., 0])
    np.testing.assert_allclose(quad, want, rtol=1e-9)
    np.testing.assert_allclose(logdet, np.linalg.slogdet(s)[1], atol=1e-9)


def test_stacked_update_matches_one_at_a_time() -> None:
    rng = np.random.default_rng(4)
    updater = KalmanUpdater()
    x = rng.normal(size=(6, 6)) * 30
    a = rng.normal(size=(6, 6, 6))
    p = a @ np.swapaxes(a, 1, 2) + np.eye(6)
    dets = [
        Detection(
            time_s=0.0,
            sensor_id="r",
            sensor_kind="remote_id",
            measurement=tuple(float(v) for v in rng.normal(size=3) * 30),
            model=PositionModel.isotropic(5.0 + k, 8.0),
        )
        for k in range(6)
    ]
    xs, ps = updater.update_many(x, p, dets)
    for k in range(6):
        x1, p1 = updater.update(x[k], p[k], dets[k])
        np.testing.assert_allclose(xs[k], x1, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ps[k], p1, rtol=1e-9, atol=1e-9)


def _track(history: tuple[tuple[float, float, float, float], ...]) -> Track:
    return Track(
        track_id=1,
        state=np.array([0.0, 0.0, 80.0, 3.0, 0.0, 0.0]),
        covariance=np.eye(6),
        time_s=0.0,
        created_s=0.0,
        last_update_s=0.0,
        serial=None,
        sensor_counts=(("radar", 9),),
        rcs_dbsm_mean=-20.0,
        history=history,
    )


def test_kinematic_evidence_in_plain_floats_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.1, 0.5, 12))
    xyz = np.cumsum(rng.normal(size=(12, 3)) * [4.0, 4.0, 1.0], axis=0) + np.array([0.0, 0.0, 60.0])
    hist = tuple((float(a), *map(float, b)) for a, b in zip(t, xyz, strict=True))
    cls = EvidenceClassifier().classify(_track(hist))
    h = np.asarray(hist)
    v = np.diff(h[:, 1:4], axis=0) / np.diff(h[:, 0])[:, None]
    speed = float(np.median(np.hypot(v[:, 0], v[:, 1])))
    assert f"speed {speed:.0f} m/s" in cls.reasons
    assert f"altitude {float(np.median(h[:, 3])):.0f} m" in cls.reasons
    assert abs(sum(p for _, p in cls.probabilities) - 1.0) < 1e-3


def test_permit_index_and_bounding_boxes_keep_the_answers() -> None:
    asset = ProtectedAsset(name="site", lon=119.228, lat=34.58)
    box = ((119.22, 34.57), (119.24, 34.57), (119.24, 34.59), (119.22, 34.59))
    tri = ((119.20, 34.55), (119.21, 34.55), (119.20, 34.56))
    permits = [
        Permit(
            permit_id=f"P-{k}",
            serial=f"S{k % 3}",
            operator="o",
            polygon=box if k % 2 else tri,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            valid_to=datetime(2027, 1, 1, tzinfo=UTC),
        )
        for k in range(6)
    ]
    area = ControlArea.build(
        asset=asset, zones=[Zone(name="nf", kind="no_fly", polygon=tri)], permits=permits
    )
    cls = EvidenceClassifier().classify(_track(()))
    seen = set()
    for x, y, serial in [(0.0, 0.0, "S1"), (-2400.0, -3000.0, "S0"), (9e3, 9e3, "S2")]:
        t = Track(
            track_id=2,
            state=np.array([x, y, 50.0, 0.0, 0.0, 0.0]),
            covariance=np.eye(6),
            time_s=0.0,
            created_s=0.0,
            last_update_s=0.0,
            serial=serial,
            sensor_counts=(("remote_id", 3),),
        )
        status, _reasons, zones, permit = area.authorise(t, cls, NOW)
        seen.add((status, bool(zones)))
        mine = [p for p in permits if p.serial == serial]
        inside = [p for p, s in zip(area.permits, area._permit_shapes, strict=True)
                  if p.serial == serial and s.covers(Point(x, y))]  # fmt: skip
        assert (status == "authorised") == bool(inside)
        assert permit == (inside[0].permit_id if inside else mine[0].permit_id)
        assert zones == tuple(
            z.name for z, s in zip(area.zones, area._zone_shapes, strict=True)
            if s.covers(Point(x, y))
        )  # fmt: skip
    assert seen == {("authorised", False), ("authorised", True), ("violation", False)}
