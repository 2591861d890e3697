"""Built-in model population.verification on a small store: the three rings, then feedback.

Compound 甲 (station A) and 乙 (station B), one Wi-Fi probe at each. Registered residents are
seen most nights (through their linked phones), visitors once or twice, an unregistered device
lives at 甲, and a registered person of 乙 is hardly ever there any more.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.tables import DeviceLinkRow, PersonRow, SensorRow, SightingRow
from haizhou.tasks import service
from haizhou.tasks.service import FeedbackIn

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
COMPOUNDS = {"甲小区": (119.20, 34.60, STATION_A, "W1"), "乙花园": (119.25, 34.60, STATION_B, "W2")}
NOW = datetime(2026, 3, 30, 12, 0, tzinfo=SHANGHAI)
UNREG, GONE, AWAY = "pdev_unregistered", "pperson_gone", "pperson_phone_never_home"


def _night(k: int, hour: int = 22) -> datetime:
    """``k`` nights before NOW's date, at ``hour`` local time."""
    day = NOW.date() - timedelta(days=k)
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=SHANGHAI)


def _populate(session) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    for lon, lat, code, sensor in COMPOUNDS.values():
        session.add(
            SensorRow(
                source="test",
                source_id=sensor,
                kind="wifi_probe",
                lon=lon,
                lat=lat,
                h3_r9=int(cells_from_lonlat(lon, lat, 9)),
                range_m=80.0,
                status="active",
                jurisdiction_code=code,
                content_hash="h",
            )
        )
    sightings: list[tuple[str, str, datetime]] = []

    def person(pid: str, compound: str) -> None:
        lon, lat, code, _ = COMPOUNDS[compound]
        session.add(
            PersonRow(
                source="test",
                source_id=pid,
                pseudonym=pid,
                masked_id="3207**********0000",
                registration="temporary",
                residence_lon=lon + 0.0002,
                residence_lat=lat,
                residence_address=f"海州区{compound}3号楼2单元101室",
                jurisdiction_code=code,
                content_hash="h",
            )
        )

    for i in range(16):  # registered residents, seen on ~80 % of nights through their phone
        compound = "甲小区" if i % 2 else "乙花园"
        person(f"pperson{i}", compound)
        session.add(
            DeviceLinkRow(
                pseudo_id=f"pdev{i}",
                person_pseudonym=f"pperson{i}",
                source="test",
                updated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        for k in range(1, 29):
            if rng.uniform() < 0.8:
                sightings.append((f"pdev{i}", COMPOUNDS[compound][3], _night(k)))
    for i in range(30):  # visitors: once or twice
        for k in rng.choice(np.arange(1, 29), size=int(rng.integers(1, 3)), replace=False):
            sightings.append((f"pvisitor{i}", "W1" if i % 2 else "W2", _night(int(k), 23)))
    for k in range(1, 29):  # the unregistered resident of 甲: 24 of 28 nights
        if k % 7:
            sightings.append((UNREG, "W1", _night(k, 21)))
    person(GONE, "乙花园")  # registered at 乙, seen there once in four weeks
    person(AWAY, "甲小区")  # registered at 甲, their linked phone never seen there at night
    session.add(
        DeviceLinkRow(
            pseudo_id="pdev_away",
            person_pseudonym=AWAY,
            source="test",
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    sightings.append((GONE, "W2", _night(3)))
    # daytime sightings do not count as nights
    sightings += [(f"pdaytime{i}", "W1", _night(k, 12)) for i in range(3) for k in range(1, 29)]
    for pid, sensor, at in sightings:
        session.add(
            SightingRow(
                pseudo_id=pid, id_kind="device", sensor_id=sensor, seen_at=at.astimezone(UTC)
            )
        )
    session.commit()


def _run(store, make_context):  # type: ignore[no-untyped-def]
    model = discover(entry_points=False, packaged_rules=False).get("population.verification")
    with store.factory() as session:
        # two probes 4.6 km apart: each compound's own probe only (with the default 3 nearest,
        # both probes would stand for both compounds and the compound named would be a tie)
        record = run_model(
            model,
            params={"nearest_sensors": 1},
            context=make_context(session, NOW - timedelta(days=1), NOW),
        )
        session.commit()
    assert record.ok, record.error
    return record


def test_unregistered_resident_and_stale_registration_found_with_evidence(
    any_store, make_context
) -> None:  # type: ignore[no-untyped-def]
    with any_store.factory() as session:
        _populate(session)
    record = _run(any_store, make_context)
    by_id = {f.evidence["person_pseudonyms"][0]: f for f in record.findings}
    assert set(by_id) == {UNREG, GONE, AWAY}
    assert by_id[AWAY].kind == "registration_stale" and by_id[AWAY].evidence["nights"] == 0
    unreg = by_id[UNREG]
    assert unreg.kind == "unregistered_resident"
    assert unreg.evidence["compound"] == "甲小区" and unreg.evidence["nights"] == 24
    assert unreg.evidence["evidence_en"] == (
        "seen at compound 甲小区 on 24 of the last 28 nights, no registration"
    )
    assert unreg.evidence["jurisdiction_code"] == STATION_A
    assert unreg.geometry["type"] == "Point"
    gone = by_id[GONE]
    assert gone.kind == "registration_stale" and gone.evidence["compound"] == "乙花园"
    assert gone.evidence["nights"] == 1
    assert record.jurisdiction_codes == tuple(
        f.evidence["jurisdiction_code"] for f in record.findings
    )


def test_findings_wait_for_approval_and_feedback_scores_the_model(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        _populate(session)
    record = _run(store, make_context)
    now = NOW.astimezone(UTC)
    verified = {UNREG: True, GONE: False, AWAY: True}
    with store.factory() as session:
        for finding_id, f in zip(record.finding_ids, record.findings, strict=True):
            issued = service.issue_from_finding(session=session, finding_id=finding_id, now=now)
            # a pseudonym in the evidence: a human approves before anyone is sent
            assert issued.outcome == "pending"
            ins = issued.instruction
            service.approve(
                session=session, instruction_id=ins.id, now=now, actor="a", actor_role="analyst"
            )
            role = {"actor": "o", "actor_role": "station_officer"}
            service.sign(session=session, instruction_id=ins.id, now=now, **role)
            service.feed_back(
                session=session,
                instruction_id=ins.id,
                feedback=FeedbackIn(
                    verified=verified[f.evidence["person_pseudonyms"][0]], text="上门核查"
                ),
                now=now + timedelta(hours=1),
                **role,
            )
        session.commit()
        scores = {m.model_id: m for m in service.model_precision(session=session)}
    score = scores["population.verification"]
    assert (score.verified_true, score.verified_false) == (2, 1)
    assert score.precision == pytest.approx(2 / 3)


def test_scope_limits_what_is_read(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        _populate(session)
    model = discover(entry_points=False, packaged_rules=False).get("population.verification")
    with store.factory() as session:
        record = run_model(
            model,
            params={},
            context=make_context(session, NOW - timedelta(days=1), NOW, scope=[STATION_B]),
        )
    assert record.ok, record.error
    # station B's sensor and registry only: the unregistered resident of 甲 is not visible
    assert {f.evidence["person_pseudonyms"][0] for f in record.findings} <= {GONE, AWAY}
    assert GONE in {f.evidence["person_pseudonyms"][0] for f in record.findings}
    assert all(f.evidence["compound"] == "乙花园" for f in record.findings)
