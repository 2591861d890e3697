"""Airspace incident timeline (空域事件时间线) and report.

Stages, in order: detected (侦测) → identified (识别) → tracked (跟踪) → decided (决策) →
countered (反制) → resolved (处置完毕). Each stage is recorded once, at its first time; the
pilot's position is kept when Remote ID gives it. Immutable: :meth:`AirspaceIncident.record`
returns a new incident.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["STAGES", "AirspaceIncident", "Stage", "incident_report"]

StageName = Literal["detected", "identified", "tracked", "decided", "countered", "resolved"]
STAGES: tuple[str, ...] = ("detected", "identified", "tracked", "decided", "countered", "resolved")
STAGE_ZH = {
    "detected": "侦测",
    "identified": "识别",
    "tracked": "跟踪",
    "decided": "决策",
    "countered": "反制",
    "resolved": "处置完毕",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """One stage reached: name, time (seconds) and what happened."""

    name: StageName
    at_s: float
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AirspaceIncident:
    """One airspace incident (空域事件), one track.

    Examples
    --------
    >>> inc = AirspaceIncident(incident_id="A1", track_id=7)
    >>> inc = inc.record("detected", 10.0, "radar").record("identified", 14.0, "drone 0.92")
    >>> [s.name for s in inc.stages], inc.elapsed_s("detected", "identified")
    (['detected', 'identified'], 4.0)
    """

    incident_id: str
    track_id: int
    stages: tuple[Stage, ...] = ()
    serial: str | None = None
    pilot_lon: float | None = None
    pilot_lat: float | None = None

    def record(self, name: StageName, at_s: float, detail: str = "") -> AirspaceIncident:
        """A copy with stage ``name`` recorded, unless it already was (first time wins)."""
        if name not in STAGES:
            raise ValueError(f"Unknown incident stage {name!r}; stages are {', '.join(STAGES)}.")
        if self.stage(name) is not None:
            return self
        stages = tuple(
            sorted(
                (*self.stages, Stage(name=name, at_s=at_s, detail=detail)),
                key=lambda s: STAGES.index(s.name),
            )
        )
        return dataclasses.replace(self, stages=stages)

    def with_pilot(
        self, lon: float | None, lat: float | None, serial: str | None = None
    ) -> AirspaceIncident:
        """A copy with the pilot's position (from Remote ID) and serial when given."""
        return dataclasses.replace(
            self,
            pilot_lon=lon if lon is not None else self.pilot_lon,
            pilot_lat=lat if lat is not None else self.pilot_lat,
            serial=serial or self.serial,
        )

    def stage(self, name: str) -> Stage | None:
        """The recorded stage of that name, or ``None``."""
        return next((s for s in self.stages if s.name == name), None)

    def elapsed_s(self, start: str, end: str) -> float | None:
        """Seconds from one stage to another, ``None`` if either is missing."""
        a, b = self.stage(start), self.stage(end)
        return None if a is None or b is None else b.at_s - a.at_s


def incident_report(incident: AirspaceIncident, *, epoch: datetime, language: str = "zh") -> str:
    """Plain-text airspace incident report (空域事件报告), zh-CN (default) or English.

    Parameters
    ----------
    incident : AirspaceIncident
    epoch : datetime
        Wall time of ``t = 0`` s, for printing times.
    language : {"zh", "en"}
    """
    zh = language == "zh"
    lines = [
        f"{'空域事件报告' if zh else 'Airspace incident report'} {incident.incident_id}",
        f"{'航迹' if zh else 'Track'}: {incident.track_id}"
        + (f"  {'序列号' if zh else 'serial'}: {incident.serial}" if incident.serial else ""),
    ]
    for s in incident.stages:
        when = (epoch + timedelta(seconds=s.at_s)).isoformat(timespec="seconds")
        label = f"{STAGE_ZH[s.name]} ({s.name})" if zh else s.name
        lines.append(f"  {when}  {label}: {s.detail}")
    if incident.pilot_lon is not None and incident.pilot_lat is not None:
        lines.append(
            f"{'飞手位置' if zh else 'Pilot position'}: {incident.pilot_lon:.6f}, {incident.pilot_lat:.6f} (Remote ID)"
        )
    d2c = incident.elapsed_s("detected", "countered")
    if d2c is not None:
        lines.append(f"{'侦测至反制' if zh else 'Detection to countermeasure'}: {d2c:.0f} s")
    return "\n".join(lines)
