"""UTCDateTime on both back ends: aware in, aware UTC out, same instant, time order kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from haizhou.store.tables import AuditRow

ZONES = [
    UTC,
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/Chicago"),
    timezone(timedelta(hours=-9, minutes=-30)),
]


def _audit(at: datetime, n: int) -> AuditRow:
    return AuditRow(at=at, actor="tester", action=f"a{n}", prev_hash="", hash=f"{n}")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2015, 3, 8, 1, 59, 59, 999999, tzinfo=ZoneInfo("America/Chicago")),  # before DST
        datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(2026, 11, 28, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # crosses midnight
    ],
)
def test_timestamp_round_trips_as_aware_utc(session: Session, moment: datetime) -> None:
    session.add(_audit(moment, 1))
    session.commit()
    session.expunge_all()

    stored = session.scalars(sa.select(AuditRow.at)).one()

    assert stored == moment  # the same instant
    assert stored.tzinfo == UTC
    assert stored.utcoffset() == timedelta(0)
    assert stored.replace(tzinfo=None) == moment.astimezone(UTC).replace(tzinfo=None)


def test_naive_timestamp_is_refused(session: Session) -> None:
    session.add(_audit(datetime(2026, 3, 1, 8, 0), 1))
    with pytest.raises(StatementError, match=r"naive datetime .* attach a time zone"):
        session.flush()
    session.rollback()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    moments=st.lists(
        st.datetimes(
            min_value=datetime(1901, 1, 1),
            max_value=datetime(2099, 12, 31),
            timezones=st.sampled_from(ZONES),
            allow_imaginary=False,  # local times skipped by a DST change name no instant
        ),
        min_size=1,
        max_size=12,
    )
)
def test_round_trip_and_order_for_any_aware_times(
    session: Session, moments: list[datetime]
) -> None:
    """Property: every instant comes back equal and UTC, and SQL ordering is time ordering
    (on SQLite the value is text, so this checks the text sorts as time does).

    Compared as UTC: Python never calls an ambiguous (DST fold) local time equal to a time in
    another zone (PEP 495), though both name the same instant.
    """
    instants = [moment.astimezone(UTC) for moment in moments]
    session.execute(sa.delete(AuditRow))
    session.add_all(_audit(moment, n) for n, moment in enumerate(moments))
    session.commit()
    session.expunge_all()

    rows = session.execute(
        sa.select(AuditRow.action, AuditRow.at).order_by(AuditRow.at, AuditRow.id)
    ).all()

    back = dict(rows)
    assert all(at.tzinfo == UTC for at in back.values())
    assert [back[f"a{n}"] for n in range(len(moments))] == instants
    assert [at for _, at in rows] == sorted(instants)
    # Range filters compare instants, whatever zone the bound is given in.
    pivot = moments[0].astimezone(ZONES[1])
    later = session.scalar(
        sa.select(sa.func.count()).select_from(AuditRow).where(AuditRow.at >= pivot)
    )
    assert later == sum(instant >= pivot for instant in instants)
