"""Scheduler: slots and windows with a controllable clock; run_due records and skips."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from haizhou.domain import Finding, Level, Schedule
from haizhou.models.context import Window
from haizhou.models.registry import Registry
from haizhou.models.runner import list_runs
from haizhou.models.scheduler import (
    ScheduleTimes,
    due_runs,
    latest_slot,
    run_due,
    run_forever,
    slot_window,
)
from haizhou.models.spec import ModelCard, ModelSpec, NoParams, RegisteredModel

SH = ZoneInfo("Asia/Shanghai")
CARD = ModelCard(purpose="p", data_read=(), evaluation="e", limits="l")


def spec(model_id: str, schedule: Schedule, params: type[BaseModel] = NoParams) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        version="1.0.0",
        title_zh="模型",
        title_en="Model",
        params_model=params,
        schedule=schedule,
        card=CARD,
        finding_kinds=("k",),
    )


SPECS = [
    spec("m.daily", Schedule.DAILY),
    spec("m.weekly", Schedule.WEEKLY),
    spec("m.monthly", Schedule.MONTHLY),
    spec("m.manual", Schedule.ON_DEMAND),
    spec("m.stream", Schedule.STREAMING),
]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def due_ids(now: datetime, last: dict[str, datetime] | None = None, **kw: object) -> list[str]:
    return [d.model_id for d in due_runs(SPECS, last or {}, now=now, zone=SH, **kw)]  # type: ignore[arg-type]


def test_never_run_models_are_due_for_their_latest_slot() -> None:
    # Wednesday 4 March 2026, 09:00 local: daily slot today 06:00, weekly Monday 2 March 07:00,
    # monthly 1 March 08:00.
    due = due_runs(SPECS, {}, now=at(2026, 3, 4, 9, 0), zone=SH)
    assert [(d.model_id, d.slot) for d in due] == [
        ("m.monthly", at(2026, 3, 1, 8, 0).astimezone(UTC)),
        ("m.weekly", at(2026, 3, 2, 7, 0).astimezone(UTC)),
        ("m.daily", at(2026, 3, 4, 6, 0).astimezone(UTC)),
    ]
    windows = {d.model_id: d.window for d in due}
    assert windows["m.daily"] == Window(at(2026, 3, 3), at(2026, 3, 4))
    assert windows["m.weekly"] == Window(at(2026, 2, 23), at(2026, 3, 2))
    assert windows["m.monthly"] == Window(at(2026, 2, 1), at(2026, 3, 1))


def test_daily_slot_boundary() -> None:
    last = {"m.weekly": at(2026, 3, 2, 7), "m.monthly": at(2026, 3, 1, 8)}
    last["m.daily"] = at(2026, 3, 3, 6)
    assert due_ids(at(2026, 3, 4, 5, 59, 59), last) == []
    assert due_ids(at(2026, 3, 4, 6, 0), last) == ["m.daily"]
    last["m.daily"] = at(2026, 3, 4, 6)
    assert due_ids(at(2026, 3, 4, 23, 59), last) == []


def test_weekly_and_monthly_slot_boundaries() -> None:
    last = {
        "m.daily": at(2026, 3, 9, 6),
        "m.weekly": at(2026, 3, 2, 7),
        "m.monthly": at(2026, 3, 1, 8),
    }
    assert due_ids(at(2026, 3, 9, 6, 59), last) == []  # Monday before 07:00
    assert due_ids(at(2026, 3, 9, 7, 0), last) == ["m.weekly"]
    last = {
        "m.daily": at(2026, 4, 1, 6),
        "m.weekly": at(2026, 3, 30, 7),
        "m.monthly": at(2026, 3, 1, 8),
    }
    assert due_ids(at(2026, 4, 1, 7, 59), last) == []
    assert due_ids(at(2026, 4, 1, 8, 0), last) == ["m.monthly"]


def test_configurable_times_and_january_window() -> None:
    times = ScheduleTimes(
        daily_at=time(2, 30),
        weekly_weekday=4,
        weekly_at=time(18, 0),
        monthly_day=5,
        monthly_at=time(9, 0),
    )
    now = at(2026, 1, 3, 2, 0)  # Saturday 3 January, 02:00
    assert latest_slot(Schedule.DAILY, now=now, zone=SH, times=times) == at(2026, 1, 2, 2, 30)
    assert latest_slot(Schedule.WEEKLY, now=now, zone=SH, times=times) == at(2026, 1, 2, 18, 0)
    assert latest_slot(Schedule.MONTHLY, now=now, zone=SH, times=times) == at(2025, 12, 5, 9, 0)
    assert slot_window(Schedule.MONTHLY, at(2026, 1, 5, 9), zone=SH) == Window(
        at(2025, 12, 1), at(2026, 1, 1)
    )
    assert latest_slot(Schedule.ON_DEMAND, now=now, zone=SH) is None


def test_now_in_another_zone_is_the_same_instant() -> None:
    now_utc = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)  # = 4 March 06:00 in Shanghai
    assert due_runs([SPECS[0]], {}, now=now_utc, zone=SH)[0].slot == at(2026, 3, 4, 6).astimezone(
        UTC
    )


def test_bad_times_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="monthly_day must be 1 to 28"):
        ScheduleTimes(monthly_day=31)
    with pytest.raises(ValueError, match="weekly_weekday must be 0"):
        ScheduleTimes(weekly_weekday=7)
    with pytest.raises(ValueError, match="has no time zone"):
        due_runs(SPECS, {}, now=datetime(2026, 3, 4, 9), zone=SH)


@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 800))
def test_slot_is_latest_not_after_now(minutes: int) -> None:
    now = at(2025, 1, 1) + timedelta(minutes=minutes)
    for schedule, step in ((Schedule.DAILY, 1), (Schedule.WEEKLY, 7)):
        slot = latest_slot(schedule, now=now, zone=SH)
        assert slot is not None and slot <= now < slot + timedelta(days=step)
        window = slot_window(schedule, slot, zone=SH)
        assert window.end <= slot and window.duration == timedelta(days=step)
    monthly = latest_slot(Schedule.MONTHLY, now=now, zone=SH)
    assert monthly is not None and monthly <= now and monthly.day == 1 and monthly.hour == 8
    assert (now - monthly) < timedelta(days=31)


# --- run_due against a store ----------------------------------------------------------------


def finding_run(ctx, params) -> Iterator[Finding]:  # type: ignore[no-untyped-def]
    yield Finding(
        kind="k",
        title="t",
        level=Level.BLUE,
        geometry={"type": "Point", "coordinates": [119.2, 34.6]},
        window_start=ctx.window.start,
        window_end=ctx.window.end,
        explanation="e",
        suggested_action="a",
        model_id="m.daily",
        model_version="1.0.0",
    )


def failing_run(ctx, params) -> Iterator[Finding]:  # type: ignore[no-untyped-def]
    raise ValueError("no data")


class Required(BaseModel):
    threshold: float  # no default: cannot be scheduled


def test_run_due_runs_records_and_then_skips(any_store) -> None:  # type: ignore[no-untyped-def]
    registry = Registry.from_models(
        [
            RegisteredModel(spec=SPECS[0], run_function=finding_run, source="builtin", origin="t"),
            RegisteredModel(spec=SPECS[1], run_function=failing_run, source="builtin", origin="t"),
            RegisteredModel(
                spec=spec("m.needs", Schedule.MONTHLY, Required),
                run_function=finding_run,
                source="builtin",
                origin="t",
            ),
            RegisteredModel(spec=SPECS[3], run_function=failing_run, source="builtin", origin="t"),
        ]
    )
    now = at(2026, 3, 4, 9, 0)
    seen: list[str] = []
    records = run_due(
        registry,
        session_factory=any_store.factory,
        now=now,
        zone=SH,
        on_run=lambda r: seen.append(r.model_id),
    )
    assert [(r.model_id, r.status, r.n_findings) for r in records] == [
        ("m.needs", "error", 0),
        ("m.weekly", "error", 0),
        ("m.daily", "ok", 1),
    ]
    assert seen == ["m.needs", "m.weekly", "m.daily"]
    assert "'threshold': Field required" in (records[0].error or "")
    assert records[1].error is not None and records[1].error.startswith("ValueError: no data")
    assert records[2].window == Window(at(2026, 3, 3), at(2026, 3, 4))
    assert records[2].findings[0].window_start == at(2026, 3, 3)
    # Same slot again: nothing is due, errors included (they are not retried automatically).
    assert (
        run_due(registry, session_factory=any_store.factory, now=now + timedelta(hours=3), zone=SH)
        == []
    )
    # Next morning only the daily model is due again.
    next_day = run_due(
        registry, session_factory=any_store.factory, now=at(2026, 3, 5, 6, 0), zone=SH
    )
    assert [(r.model_id, r.scheduled_for) for r in next_day] == [
        ("m.daily", at(2026, 3, 5, 6).astimezone(UTC))
    ]
    with any_store.factory() as session:
        runs = list_runs(session=session)
    assert len(runs) == 4 and {r.trigger for r in runs} == {"schedule"}


def test_run_forever_checks_until_stopped(store) -> None:  # type: ignore[no-untyped-def]
    registry = Registry.from_models(
        [RegisteredModel(spec=SPECS[0], run_function=finding_run, source="builtin", origin="t")]
    )
    clock = iter([at(2026, 3, 4, 5, 0), at(2026, 3, 4, 6, 1), at(2026, 3, 4, 6, 2)])
    sleeps: list[float] = []
    ran: list[datetime | None] = []
    ticks: list[datetime] = []
    run_forever(
        registry,
        session_factory=store.factory,
        zone=SH,
        interval_s=30,
        clock=lambda: next(clock),
        sleep=sleeps.append,
        should_stop=lambda: len(sleeps) >= 3,
        on_run=lambda r: ran.append(r.scheduled_for),
        on_tick=ticks.append,
    )
    # 05:00: yesterday's slot is due (never run); 06:01: today's; 06:02: nothing.
    assert ran == [at(2026, 3, 3, 6).astimezone(UTC), at(2026, 3, 4, 6).astimezone(UTC)]
    assert sleeps == [30, 30, 30]
    # Every check ends with the tick, models due or not (the CLI sweeps instructions there).
    assert ticks == [at(2026, 3, 4, 5, 0), at(2026, 3, 4, 6, 1), at(2026, 3, 4, 6, 2)]
