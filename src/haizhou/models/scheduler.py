"""The scheduler (模型调度): which daily, weekly and monthly models are due, and running them.

By default (bureau time): daily models at 06:00 for the day before, weekly models on Monday
at 07:00 for the week before (Monday to Sunday), monthly models on the 1st at 08:00 for the
month before; :class:`ScheduleTimes` changes these. :func:`due_runs` is pure (the clock is a
parameter), so it is tested with any "now". A model is due when the most recent slot at or
before ``now`` is later than the last slot it was run for; only that most recent slot is run
(missed slots are not back-filled), and a slot whose run failed is not retried automatically:
the error is in ``model_runs`` and ``haizhou models run`` reruns it by hand.
"""

from __future__ import annotations

import logging
import time as time_module
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from haizhou.domain import Schedule
from haizhou.errors import HaizhouError
from haizhou.models.context import RunContext, Window, local_midnight
from haizhou.models.registry import Registry
from haizhou.models.runner import (
    RunRecord,
    last_scheduled_slots,
    record_error_run,
    run_model,
)
from haizhou.models.spec import ModelSpec

__all__ = [
    "DueRun",
    "ScheduleTimes",
    "default_window",
    "due_runs",
    "latest_slot",
    "run_due",
    "run_forever",
    "slot_window",
]

SCHEDULED = (Schedule.DAILY, Schedule.WEEKLY, Schedule.MONTHLY)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleTimes:
    """Local times of the schedule slots (调度时刻), in the bureau's zone.

    Parameters
    ----------
    daily_at
        Time of day of daily runs (default 06:00, before the morning briefing).
    weekly_weekday
        Day of weekly runs, 0 = Monday ... 6 = Sunday (default Monday).
    weekly_at
        Time of weekly runs (default 07:00).
    monthly_day
        Day of month of monthly runs, 1-28 so every month has it (default 1).
    monthly_at
        Time of monthly runs (default 08:00).
    """

    daily_at: time = time(6, 0)
    weekly_weekday: int = 0
    weekly_at: time = time(7, 0)
    monthly_day: int = 1
    monthly_at: time = time(8, 0)

    def __post_init__(self) -> None:
        if not 0 <= self.weekly_weekday <= 6:
            raise ValueError(
                f"weekly_weekday must be 0 (Monday) to 6 (Sunday); got {self.weekly_weekday}"
            )
        if not 1 <= self.monthly_day <= 28:
            raise ValueError(
                f"monthly_day must be 1 to 28 so that every month has it; got {self.monthly_day}"
            )
        for name in ("daily_at", "weekly_at", "monthly_at"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} is a local time of day; give it without a time zone")


@dataclass(frozen=True, slots=True, kw_only=True)
class DueRun:
    """A model due to run (待运行): its slot (timezone-aware, UTC) and the data window."""

    model_id: str
    schedule: Schedule
    slot: datetime
    window: Window


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now={now.isoformat()} has no time zone; attach one")


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def latest_slot(
    schedule: Schedule, *, now: datetime, zone: ZoneInfo, times: ScheduleTimes = ScheduleTimes()
) -> datetime | None:
    """The most recent slot of ``schedule`` at or before ``now`` (in ``zone``); ``None`` for
    on-demand and streaming models.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> sh = ZoneInfo("Asia/Shanghai")
    >>> latest_slot(Schedule.DAILY, now=datetime(2026, 3, 4, 5, 59, tzinfo=sh), zone=sh).isoformat()
    '2026-03-03T06:00:00+08:00'
    >>> latest_slot(Schedule.WEEKLY, now=datetime(2026, 3, 4, 12, 0, tzinfo=sh), zone=sh).isoformat()
    '2026-03-02T07:00:00+08:00'
    """
    _check_now(now)
    local = now.astimezone(zone)
    today = local.date()
    schedule = Schedule(schedule)
    if schedule is Schedule.DAILY:
        slot = _at(today, times.daily_at, zone)
        return slot if slot <= now else _at(today - timedelta(days=1), times.daily_at, zone)
    if schedule is Schedule.WEEKLY:
        day = today - timedelta(days=(today.weekday() - times.weekly_weekday) % 7)
        slot = _at(day, times.weekly_at, zone)
        return slot if slot <= now else _at(day - timedelta(days=7), times.weekly_at, zone)
    if schedule is Schedule.MONTHLY:
        slot = _at(today.replace(day=times.monthly_day), times.monthly_at, zone)
        if slot <= now:
            return slot
        return _at(_previous_month(today).replace(day=times.monthly_day), times.monthly_at, zone)
    return None


def slot_window(schedule: Schedule, slot: datetime, *, zone: ZoneInfo) -> Window:
    """The data window a run at ``slot`` covers: the full local day, week (Monday to Sunday)
    or month before the slot's day. On-demand and streaming models get the day before."""
    day = slot.astimezone(zone).date()
    schedule = Schedule(schedule)
    if schedule is Schedule.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return Window(
            local_midnight(monday - timedelta(days=7), zone), local_midnight(monday, zone)
        )
    if schedule is Schedule.MONTHLY:
        first = day.replace(day=1)
        return Window(local_midnight(_previous_month(first), zone), local_midnight(first, zone))
    return Window(local_midnight(day - timedelta(days=1), zone), local_midnight(day, zone))


def default_window(schedule: Schedule, *, now: datetime, zone: ZoneInfo) -> Window:
    """The window of a run by hand at ``now``: the last full local day, week or month."""
    _check_now(now)
    return slot_window(schedule, now, zone=zone)


def due_runs(
    specs: Iterable[ModelSpec],
    last_runs: Mapping[str, datetime | None],
    *,
    now: datetime,
    zone: ZoneInfo,
    times: ScheduleTimes = ScheduleTimes(),
) -> list[DueRun]:
    """The scheduled models due at ``now`` (pure: no clock, no database).

    Parameters
    ----------
    specs
        Model specs; on-demand and streaming ones are never due.
    last_runs
        Model id -> the last slot it was run for (timezone-aware), absent or ``None`` if never.
    now
        Timezone-aware current time.
    zone
        The bureau's time zone.
    times
        Local slot times.

    Returns
    -------
    list of DueRun
        Ordered by slot, then model id.
    """
    _check_now(now)
    due = []
    for spec in specs:
        schedule = Schedule(spec.schedule)
        if schedule not in SCHEDULED:
            continue
        slot = latest_slot(schedule, now=now, zone=zone, times=times)
        if slot is None:
            continue
        last = last_runs.get(spec.id)
        if last is not None and last >= slot:
            continue
        due.append(
            DueRun(
                model_id=spec.id,
                schedule=schedule,
                slot=slot.astimezone(UTC),
                window=slot_window(schedule, slot, zone=zone),
            )
        )
    return sorted(due, key=lambda d: (d.slot, d.model_id))


def run_due(
    registry: Registry,
    *,
    session_factory: sessionmaker[Session],
    now: datetime,
    zone: ZoneInfo,
    scope: Collection[str] | None = None,
    times: ScheduleTimes = ScheduleTimes(),
    on_run: Callable[[RunRecord], None] | None = None,
) -> list[RunRecord]:
    """Run every model due at ``now`` with its default parameters, one transaction each.

    A model that fails is recorded with its error and the others still run. ``on_run`` is
    called after each run (the CLI prints progress with it).
    """
    with session_factory() as session:
        last = last_scheduled_slots(session=session)
    records = []
    for item in due_runs((m.spec for m in registry), last, now=now, zone=zone, times=times):
        model = registry.get(item.model_id)
        with session_factory() as session:
            context = RunContext(
                session=session,
                scope=scope,
                now=item.slot,
                window=item.window,
                zone=zone,
                log=logging.getLogger(f"haizhou.models.{item.model_id}"),
            )
            try:
                record = run_model(
                    model,
                    params=None,
                    context=context,
                    trigger="schedule",
                    scheduled_for=item.slot,
                )
            except HaizhouError as exc:  # parameters whose defaults do not validate
                session.rollback()
                record = record_error_run(
                    session=session,
                    spec=model.spec,
                    window=item.window,
                    error=str(exc),
                    trigger="schedule",
                    scheduled_for=item.slot,
                )
            session.commit()
        records.append(record)
        if on_run is not None:
            on_run(record)
    return records


def run_forever(
    registry: Registry,
    *,
    session_factory: sessionmaker[Session],
    zone: ZoneInfo,
    interval_s: float = 60.0,
    scope: Collection[str] | None = None,
    times: ScheduleTimes = ScheduleTimes(),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time_module.sleep,
    should_stop: Callable[[], bool] = lambda: False,
    on_run: Callable[[RunRecord], None] | None = None,
    on_tick: Callable[[datetime], None] | None = None,
) -> None:
    """Check every ``interval_s`` seconds and run what is due, until ``should_stop()``.

    ``on_tick(now)`` is called after every check, models due or not (the CLI issues findings
    as instructions and escalates late ones there: that is the tasks layer, above this one).

    Safe to restart at any time: what already ran for a slot is read back from
    ``model_runs``. Run one scheduler per database.
    """
    if interval_s <= 0:
        raise ValueError(f"interval_s must be > 0; got {interval_s}")
    while not should_stop():
        now = clock()
        run_due(
            registry,
            session_factory=session_factory,
            now=now,
            zone=zone,
            scope=scope,
            times=times,
            on_run=on_run,
        )
        if on_tick is not None:
            on_tick(now)
        if should_stop():
            return
        sleep(interval_s)
