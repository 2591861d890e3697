"""The live path's fast paths give the same answers as the plain ones; the runner's batching.

* the batched position gate equals the per-detection gate (any other updater takes it);
* the closed-form 2×2 eigenvalue of the deleter equals LAPACK's;
* a tracker step moves only the tracks behind in time, and the answers do not change;
* the runner flushes a batch at ``max_batch`` or ``max_wait_s`` after its first message, its
  queue is bounded, and an intruder's alert comes out of the step with its message.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from haizhou.airspace.tracking import (
    BearingModel,
    Detection,
    KalmanUpdater,
    MahalanobisGate,
    MultiSensorTracker,
    PositionModel,
)
from haizhou.airspace.tracking.delete import _largest_eigenvalue_2x2
from haizhou.feeds.area import save_scenario_area
from haizhou.feeds.messages import FeedMessage
from haizhou.feeds.runner import AirspaceRunner
from haizhou.feeds.synthetic import remote_id_pack
from haizhou.security.pseudonym import Pseudonymiser
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker
from haizhou.store.tables.airspace import AirspaceZoneRow

KEY = b"f" * 32
STADIUM = (119.2280, 34.5800)


@dataclass(frozen=True, slots=True, kw_only=True)
class _PlainUpdater(KalmanUpdater):
    """The same updater under another type: the gate takes its one-detection-at-a-time path."""


def _random_tracks(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([rng.uniform(-500, 500, (n, 3)), rng.normal(0, 5, (n, 3))])
    a = rng.normal(0, 1, (n, 6, 6))
    p = np.einsum("nij,nkj->nik", a, a) * rng.uniform(1, 50, (n, 1, 1)) + np.eye(6)
    return x, p


def test_batched_position_gate_equals_the_per_detection_gate() -> None:
    rng = np.random.default_rng(3)
    x, p = _random_tracks(rng, 12)
    dets = [
        Detection(
            time_s=1.0,
            sensor_id="s",
            sensor_kind="radar",
            measurement=tuple(float(v) for v in x[k % 12, :3] + rng.normal(0, 8, 3)),
            model=PositionModel.isotropic(float(rng.uniform(2, 20)), 5.0),
        )
        for k in range(9)
    ]
    dets.insert(
        4,
        Detection(
            time_s=1.0,
            sensor_id="rf",
            sensor_kind="rf",
            measurement=(0.3,),
            model=BearingModel(sensor_x_m=-800.0, sensor_y_m=-300.0, sigma_rad=0.02),
        ),
    )
    gate = MahalanobisGate()
    fast = gate.gate(x, p, dets, KalmanUpdater())
    plain = gate.gate(x, p, dets, _PlainUpdater())
    np.testing.assert_allclose(fast.distance, plain.distance, rtol=1e-12, atol=1e-9)
    assert np.array_equal(np.isfinite(fast.cost), np.isfinite(plain.cost))
    both = np.isfinite(plain.cost)
    assert both.any() and not both.all()  # some pairs inside, some outside: the test can fail
    np.testing.assert_allclose(fast.cost[both], plain.cost[both], rtol=1e-12, atol=1e-9)


def test_closed_form_eigenvalue_equals_lapack() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0, 30, (200, 2, 2))
    c = np.einsum("nij,nkj->nik", a, a)
    c[:5, 0, 1] = c[:5, 1, 0] = 0.0  # diagonal ones
    want = np.linalg.eigvalsh(c).max(axis=1)
    np.testing.assert_allclose(_largest_eigenvalue_2x2(c), want, rtol=1e-10)


def test_a_step_moves_only_tracks_behind_and_keeps_the_answers() -> None:
    pm = PositionModel.isotropic(5.0, 5.0)
    tracker = MultiSensorTracker.default()
    for k in range(4):
        dets = [
            Detection(
                time_s=float(k),
                sensor_id="r",
                sensor_kind="radar",
                measurement=(10.0 * k + 1000.0 * j, 0.0, 50.0),
                model=pm,
            )
            for j in range(2)
        ]
        tracks = tracker.step(dets, now=float(k))
    assert [t.track_id for t in tracks] == [1, 2]
    before = {t.track_id: t for t in tracker.tracks}
    # Only object 2 is seen at t=4; object 1 is predicted in the final step to now=4.5.
    tracks = tracker.step(
        [
            Detection(
                time_s=4.0, sensor_id="r", sensor_kind="radar",
                measurement=(1040.0, 0.0, 50.0), model=pm,
            )
        ],
        now=4.5,
    )  # fmt: skip
    by_id = {t.track_id: t for t in tracks}
    assert all(t.time_s == 4.5 for t in tracks)
    assert by_id[1].hits == before[1].hits and by_id[2].hits == before[2].hits + 1
    assert by_id[1].steps == before[1].steps + 1
    np.testing.assert_allclose(by_id[1].state[:3], [30.0 + 1.5 * 10.0, 0.0, 50.0], atol=2.0)
    assert not by_id[1].state.flags.writeable  # tracks stay read-only for callers


def _runner(tmp_path: Path, **kwargs: float) -> AirspaceRunner:
    url = f"sqlite:///{tmp_path / 'air.db'}"
    migrate.upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    lon, lat = STADIUM
    with factory() as session:
        save_scenario_area(session, "stadium_match_day")
        session.add(
            AirspaceZoneRow(
                name="禁飞区",
                kind="no_fly",
                polygon=[[lon - 0.004, lat - 0.004], [lon + 0.004, lat - 0.004],
                         [lon + 0.004, lat + 0.004], [lon - 0.004, lat + 0.004]],
                floor_m=0, ceiling_m=500, active=[],
            )
        )  # fmt: skip
        session.commit()
    return AirspaceRunner(factory, Pseudonymiser(KEY), **kwargs)  # type: ignore[arg-type]


def _message(serial: str, lon: float, lat: float) -> FeedMessage:
    return FeedMessage(
        sensor_id="rid-1",
        kind="remoteid",
        payload=remote_id_pack(serial, lon, lat, 60.0),
        received_at=datetime.now(UTC),
    )


def test_drain_flushes_at_the_deadline_or_the_size(tmp_path: Path) -> None:
    runner = _runner(tmp_path, max_batch=5, max_wait_s=0.3)
    lon, lat = 119.30, 34.62  # far from every zone
    runner.submit(_message("A1", lon, lat))

    def later() -> None:
        time.sleep(0.05)
        runner.submit(_message("A2", lon, lat))

    feeder = threading.Thread(target=later)
    feeder.start()
    batch = runner.drain(1.0)
    feeder.join()
    assert len(batch) == 2  # the second came within the first one's deadline
    for k in range(7):
        runner.submit(_message(f"B{k}", lon, lat))
    assert len(runner.drain(1.0)) == 5  # the size closes the batch at once
    assert len(runner.drain(1.0)) == 2
    runner.max_wait_s = 0.0
    runner.submit(_message("C", lon, lat))
    assert len(runner.drain(1.0)) == 1
    assert runner.drain(0.01) == []


def test_queue_is_bounded_and_submit_waits(tmp_path: Path) -> None:
    runner = _runner(tmp_path, max_queue=2)
    runner.submit(_message("A", 119.30, 34.62))
    runner.submit(_message("B", 119.30, 34.62))
    done = threading.Event()

    def third() -> None:
        runner.submit(_message("C", 119.30, 34.62))
        done.set()

    waiter = threading.Thread(target=third, daemon=True)
    waiter.start()
    assert not done.wait(0.2)  # blocked: back-pressure, nothing dropped
    assert runner.queue.qsize() == 2
    taken = runner.drain(0.1)
    assert done.wait(5)
    taken += runner.drain(0.1)
    assert sorted(m.payload for m in taken) == sorted(
        remote_id_pack(s, 119.30, 34.62, 60.0) for s in "ABC"
    )


@pytest.mark.parametrize("position", [3, 17])
def test_alert_comes_from_the_step_with_its_message(tmp_path: Path, position: int) -> None:
    runner = _runner(tmp_path, max_wait_s=0.0)
    lon, lat = STADIUM
    seen: list[tuple[int, str, float]] = []
    runner.listeners.append(
        lambda alert, _id, _at: seen.append((runner.stats.batches, alert.kind, alert.lon))
    )
    # Unpermitted drones far out (unauthorised) and one intruder in the no-fly zone.
    batch = [_message(f"BG{k:03d}", 119.30 + 0.001 * k, 34.62) for k in range(20)]
    batch[position] = _message("INTRUDER01", lon + 0.001, lat)
    runner.process(batch)
    violations = [(n, round(x, 3)) for n, kind, x in seen if kind == "violation"]
    assert violations == [(1, round(lon + 0.001, 3))]  # raised by the step with its message
    assert len(seen) == 20
    runner.process([_message("INTRUDER01", lon + 0.0011, lat)])
    assert len(seen) == 20  # once, not again at the next step
