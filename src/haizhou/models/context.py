"""The run context (运行上下文) handed to a model's ``run(ctx, params)``.

A model reads through the context, never through globals: the session, the jurisdictions the
run may see (``scope``), the clock (``now``), the data window and the bureau's time zone are all
given. Plug-ins keep any state of their own in ``ctx.state`` (home-assistant/epics#43).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from haizhou.domain import Jurisdiction
from haizhou.store.repositories import cases as case_repo
from haizhou.store.repositories import incidents as incident_repo
from haizhou.store.repositories import jurisdictions as jurisdiction_repo
from haizhou.store.repositories._filters import BBox

__all__ = ["RunContext", "Window", "local_midnight"]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of local calendar day ``day`` in ``zone``, timezone-aware."""
    return datetime.combine(day, time(0, 0), tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window ``[start, end)`` (数据时间窗), both timezone-aware.

    Raises
    ------
    ValueError
        If a bound is naive or ``end`` is not after ``start``.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(
                    f"window {name}={value.isoformat()} has no time zone; attach the bureau's zone"
                )
        if self.end <= self.start:
            raise ValueError(
                f"window is empty: end ({self.end.isoformat()}) must be after start "
                f"({self.start.isoformat()})"
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def shifted(self, delta: timedelta) -> Window:
        """The same window moved by ``delta`` (negative: into the past)."""
        return Window(self.start + delta, self.end + delta)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """What a model may use while it runs (运行上下文).

    Parameters
    ----------
    session
        An open SQLAlchemy session. Models only read through it; the runner writes findings.
    scope
        Jurisdiction codes the run may see (辖区范围); ``None`` for the whole bureau.
    now
        Timezone-aware "now" of the run (the schedule slot for scheduled runs), so a model
        never reads the wall clock and a rerun gives the same answer.
    window
        The data window the run covers, e.g. yesterday for a daily model.
    zone
        The bureau's time zone, for local days and weekdays.
    log
        Logger for the run; messages go to the run's log, not to stdout.
    state
        Free space for a plug-in's own state during the run; never a module global.
    """

    session: Session
    scope: Collection[str] | None
    now: datetime
    window: Window
    zone: ZoneInfo
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("haizhou.models"))
    state: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError(f"now={self.now.isoformat()} has no time zone; attach one")
        if isinstance(self.scope, str):
            raise TypeError(f"scope must be a collection of codes, not {self.scope!r}")

    # --- data accessors ------------------------------------------------------------------

    def incidents(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        category: str | Collection[str] | None = None,
        bbox: BBox | None = None,
    ) -> pd.DataFrame:
        """Incidents (警情) as the analytics frame of
        :func:`haizhou.store.repositories.incidents.incident_frame`, within the run's scope.

        ``start`` / ``end`` default to the run's window; pass others for baselines.
        """
        return incident_repo.incident_frame(
            session=self.session,
            scope=self.scope,
            start=self.window.start if start is None else start,
            end=self.window.end if end is None else end,
            category=category,
            bbox=bbox,
        )

    def cases(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        category: str | Collection[str] | None = None,
        status: str | None = None,
        bbox: BBox | None = None,
    ) -> pd.DataFrame:
        """Cases (案件) as the frame of :func:`haizhou.store.repositories.cases.case_frame`,
        selected by ``occurred_from`` in ``[start, end)`` (default: the run's window)."""
        return case_repo.case_frame(
            session=self.session,
            scope=self.scope,
            start=self.window.start if start is None else start,
            end=self.window.end if end is None else end,
            category=category,
            status=status,
            bbox=bbox,
        )

    def jurisdictions(self) -> list[Jurisdiction]:
        """The jurisdictions (辖区) in scope, with geometry, ordered by code; read once per run."""
        if "jurisdictions" not in self._cache:
            self._cache["jurisdictions"] = jurisdiction_repo.list_jurisdictions(
                session=self.session, scope=self.scope, with_geometry=True
            )
        return list(self._cache["jurisdictions"])

    # --- local time helpers --------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the bureau's zone."""
        return moment.astimezone(self.zone)

    def local_midnight(self, day: date) -> datetime:
        """Start of local day ``day``."""
        return local_midnight(day, self.zone)
