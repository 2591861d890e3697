"""Store cases as linkage input (案件记录 → 串并案件表): domain records in, arrays out, no I/O.

The store's :class:`~haizhou.domain.Case` records become a :class:`CrimeTable` (positions in
metres on a local projection around the cases, occurrence windows in the bureau's local time so
the time of day means what the officer wrote, the four MO fields, narrative and property taken)
and the suspects of solved cases (pseudonyms only) become :class:`Offenders`. The CLI's
``--from-store`` and the built-in model ``linkage.series`` read the store the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
from haizhou.domain import Case
from haizhou.geo.projection import LocalProjection

__all__ = ["STORE_MO", "crimes_from_cases", "offenders_from_cases"]

STORE_MO = ("entry_method", "target", "tools", "time_of_day")
"""MO attributes of a stored case (侵入方式, 侵害目标, 作案工具, 作案时段), in model order."""


def _local(moment: datetime, zone: ZoneInfo) -> np.datetime64:
    return np.datetime64(moment.astimezone(zone).replace(tzinfo=None), "s")


def crimes_from_cases(
    cases: Sequence[Case], *, zone: ZoneInfo, projection: LocalProjection | None = None
) -> CrimeTable:
    """The :class:`CrimeTable` of store cases, one row per case in the given order.

    Parameters
    ----------
    cases : sequence of Case
        Cases with unique ids.
    zone : ZoneInfo
        The bureau's time zone: windows are taken in local time.
    projection : LocalProjection or None
        Metric plane; default: around the median of the cases.

    Raises
    ------
    ValueError
        If there are no cases, or ids repeat (see :meth:`CrimeTable.from_arrays`).

    Examples
    --------
    >>> from datetime import UTC
    >>> from haizhou.domain import ModusOperandi
    >>> at = datetime(2026, 3, 1, 18, tzinfo=UTC)
    >>> c = [Case(id=k, source="t", category="入室盗窃", occurred_from=at, occurred_to=at,
    ...      lon=119.2 + d, lat=34.6, mo=ModusOperandi(entry_method="撬锁"))
    ...      for k, d in (("a", 0.0), ("b", 0.01))]
    >>> t = crimes_from_cases(c, zone=ZoneInfo("Asia/Shanghai"))
    >>> round(float(t.x_m[1] - t.x_m[0])), round(float(t.t_from_days[0] % 1 * 24))
    (917, 2)
    """
    if not cases:
        raise ValueError("no cases to link; import cases (haizhou import cases FILE) first.")
    lon = np.array([c.lon for c in cases], dtype=np.float64)
    lat = np.array([c.lat for c in cases], dtype=np.float64)
    proj = projection or LocalProjection.around(float(np.median(lon)), float(np.median(lat)))
    x, y = proj.forward(lon, lat)
    return CrimeTable.from_arrays(
        crime_id=[c.id for c in cases],
        x_m=x,
        y_m=y,
        t_from=np.array([_local(c.occurred_from, zone) for c in cases]),
        t_to=np.array([_local(c.occurred_to, zone) for c in cases]),
        mo={name: [getattr(c.mo, name) for c in cases] for name in STORE_MO},
        category=[c.category for c in cases],
        text=[c.narrative for c in cases],
        property_taken=[c.property_taken for c in cases],
    )


def offenders_from_cases(crimes: CrimeTable, cases: Sequence[Case]) -> Offenders:
    """Suspects of the solved cases (嫌疑人假名) as :class:`Offenders` of ``crimes``.

    Only pseudonyms are used: two cases share an offender when they share a suspect pseudonym.
    """
    off: list[str] = []
    cid: list[str] = []
    for c in cases:
        for s in c.suspect_pseudonyms:
            off.append(s)
            cid.append(c.id)
    return Offenders.from_pairs(crimes, offender_id=off, crime_id=cid)
