"""Reading incidents from the store as an event frame (警情事件表), for the built-in models.

See :mod:`haizhou.models.builtin._analysis` for the frame's columns. The module name starts
with ``_``: the registry skips it (it is no model).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import numpy as np
import pandas as pd

from haizhou.geo import LocalProjection
from haizhou.models.builtin._analysis import project_frame
from haizhou.models.context import RunContext
from haizhou.security import audit
from haizhou.store.repositories import incidents as incident_repo

__all__ = ["incident_events", "plane_for"]


def plane_for(ctx: RunContext) -> LocalProjection | None:
    """One local plane for the run: centred on the jurisdictions' bounding box.

    Every model of a run uses it, so distances and cells agree between models.
    """
    boxes = []
    for j in ctx.jurisdictions():
        geometry = j.geometry or {}
        coords = np.asarray(_flatten(geometry.get("coordinates", [])), dtype=np.float64)
        if coords.size:
            coords = coords.reshape(-1, 2)
            boxes.append((*coords.min(axis=0), *coords.max(axis=0)))
    if not boxes:
        return None
    b = np.asarray(boxes)
    return LocalProjection.for_bounds(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def _flatten(value: object) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    out: list[float] = []
    for item in value if isinstance(value, list | tuple) else []:
        out.extend(_flatten(item))
    return out


def incident_events(
    ctx: RunContext,
    *,
    start: datetime,
    end: datetime,
    category: str | Collection[str] | None = None,
    personal: bool = False,
    reader: str = "system:models",
) -> pd.DataFrame:
    """Incidents in ``[start, end)`` within the run's scope, as a projected event frame.

    ``personal=True`` adds ``address``, ``caller`` (pseudonym) and ``caller_masked``; only
    the models that need them ask, they never leave the run except in masked form, and the
    read is written to the audit log as ``reader`` (in the run's transaction).
    """
    if personal:
        audit.record(
            session=ctx.session,
            actor=reader[:100],
            action="incidents.personal.read",
            target="incidents",
            detail={
                "fields": ["address", "caller_pseudonym", "caller_masked"],
                "start": start.isoformat(),
                "end": end.isoformat(),
                "category": category
                if category is None or isinstance(category, str)
                else sorted(category),
                "scope": None if ctx.scope is None else sorted(ctx.scope),
            },
            at=ctx.now,
        )
        rows = [
            {
                "reported_at": i.reported_at,
                "source_id": i.id,
                "lon": i.lon,
                "lat": i.lat,
                "category": i.category,
                "jurisdiction": i.jurisdiction_code,
                "address": i.address,
                "caller": i.caller_pseudonym,
                "caller_masked": i.caller_masked,
            }
            for i in incident_repo.iter_incidents(
                session=ctx.session, scope=ctx.scope, start=start, end=end, category=category
            )
        ]
        raw = pd.DataFrame(
            rows,
            columns=[
                "reported_at",
                "source_id",
                "lon",
                "lat",
                "category",
                "jurisdiction",
                "address",
                "caller",
                "caller_masked",
            ],
        )
    else:
        raw = ctx.incidents(start=start, end=end, category=category)
        raw = raw.rename(columns={"jurisdiction_code": "jurisdiction"})
    stamps = pd.to_datetime(raw["reported_at"], utc=True)
    frame = raw.drop(columns=["reported_at"]).assign(
        t=stamps.dt.tz_convert(ctx.zone).dt.tz_localize(None).astype("datetime64[ns]"),
        lon=pd.to_numeric(raw["lon"], errors="coerce").astype(float),
        lat=pd.to_numeric(raw["lat"], errors="coerce").astype(float),
    )
    return project_frame(frame, plane_for(ctx))
