"""An in-memory column index of incidents for the map aggregates (警情内存列索引).

The map asks the same question many times a second: how many incidents per H3 cell (or grid
cell) in this viewport, window and scope? SQL answers it by reading every row of the window;
on SQLite with a million incidents that is 30-200 ms a query. This index keeps the few columns
the map needs as NumPy arrays sorted by time (about 45 bytes an incident: 45 MB for a million),
so a query is a binary search for the window, a mask for the viewport and scope, and a count.

Freshness: before each query the index compares the store's largest incident ``id`` with its
own and loads only the newer rows (imports only append incidents: a conflicting re-import is
quarantined, never an update). A store whose incidents were deleted or rewritten in place needs
:meth:`IncidentIndex.reset`. Above ``max_rows`` incidents the index declines (``snapshot``
returns ``None``) and the routes fall back to SQL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from haizhou.geo.h3cells import parent_cells
from haizhou.store.repositories._frames import raw_time_column
from haizhou.store.tables import IncidentRow

__all__ = ["IncidentColumns", "IncidentIndex"]

RESOLUTIONS = (7, 8, 9)


@dataclass(frozen=True, slots=True)
class IncidentColumns:
    """Incident columns sorted by report time; every array has one entry per incident.

    Attributes
    ----------
    time_ns : int64 array
        ``reported_at`` as nanoseconds since 1970-01-01 UTC, ascending.
    lon, lat : float64 arrays
        WGS-84 degrees.
    jurisdiction : int32 array
        Index into ``codes``; -1 for no jurisdiction.
    category : int32 array
        Index into ``categories``.
    cells : dict of int to int64 array
        H3 cells at resolutions 7, 8 and 9.
    codes, categories : tuple of str
    last_id : int
        Largest incident ``id`` loaded.
    """

    time_ns: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    jurisdiction: np.ndarray
    category: np.ndarray
    cells: dict[int, np.ndarray]
    codes: tuple[str, ...]
    categories: tuple[str, ...]
    last_id: int

    @property
    def size(self) -> int:
        return int(self.time_ns.size)

    def select(
        self,
        *,
        start: datetime,
        end: datetime,
        bbox: tuple[float, float, float, float] | None,
        scope_codes: frozenset[str] | None,
        categories: list[str] | None,
    ) -> tuple[slice, np.ndarray]:
        """Rows with ``start <= reported_at < end`` inside ``bbox`` (edges included), in scope.

        Returns the window's slice of the arrays and a boolean mask over that slice.
        """
        lo = int(np.searchsorted(self.time_ns, _ns(start), side="left"))
        hi = int(np.searchsorted(self.time_ns, _ns(end), side="left"))
        window = slice(lo, hi)
        mask = np.ones(hi - lo, dtype=bool)
        if bbox is not None:
            lon, lat = self.lon[window], self.lat[window]
            mask &= (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
        if scope_codes is not None:
            allowed = [i for i, code in enumerate(self.codes) if code in scope_codes]
            mask &= np.isin(self.jurisdiction[window], np.asarray(allowed, dtype=np.int32))
        if categories:
            wanted = [i for i, name in enumerate(self.categories) if name in set(categories)]
            mask &= np.isin(self.category[window], np.asarray(wanted, dtype=np.int32))
        return window, mask

    def hexagon_counts(
        self, window: slice, mask: np.ndarray, resolution: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cells (ascending) and counts at ``resolution`` of the selected rows."""
        stored = resolution if resolution in RESOLUTIONS else RESOLUTIONS[0]
        cells = self.cells[stored][window][mask]
        if resolution != stored:
            cells = parent_cells(cells, resolution)
        found, counts = np.unique(cells, return_counts=True)
        return found.astype(np.int64), counts.astype(np.int64)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64 = np.iinfo(np.int64)


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, clamped to int64 (a window may end in the year 9999)."""
    ns = (moment - _EPOCH) // timedelta(microseconds=1) * 1000
    return int(min(max(ns, _INT64.min), _INT64.max))


def _empty() -> IncidentColumns:
    return IncidentColumns(
        time_ns=np.empty(0, np.int64),
        lon=np.empty(0, np.float64),
        lat=np.empty(0, np.float64),
        jurisdiction=np.empty(0, np.int32),
        category=np.empty(0, np.int32),
        cells={r: np.empty(0, np.int64) for r in RESOLUTIONS},
        codes=(),
        categories=(),
        last_id=0,
    )


class IncidentIndex:
    """The incident column index of one app (see the module docstring).

    Parameters
    ----------
    engine : Engine
        The store.
    max_rows : int
        Above this many incidents the index declines and callers use SQL.
    """

    def __init__(self, engine: Engine, *, max_rows: int = 5_000_000) -> None:
        self.engine = engine
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._columns = _empty()
        self._declined = False

    def reset(self) -> None:
        """Forget everything; the next :meth:`snapshot` reloads the store."""
        with self._lock:
            self._columns = _empty()
            self._declined = False

    def snapshot(self, session: Session) -> IncidentColumns | None:
        """The columns, brought up to date with the store; ``None`` when too large."""
        newest = session.scalar(select(func.max(IncidentRow.id))) or 0
        columns = self._columns
        if newest == columns.last_id and not self._declined:
            return columns
        with self._lock:
            columns = self._columns
            if newest != columns.last_id:
                self._columns = columns = self._load_after(session, columns)
            return None if self._declined else columns

    def _load_after(self, session: Session, old: IncidentColumns) -> IncidentColumns:
        total = old.size + (
            session.scalar(
                select(func.count()).select_from(IncidentRow).where(IncidentRow.id > old.last_id)
            )
            or 0
        )
        if total > self.max_rows:
            self._declined = True
            return old
        self._declined = False
        # Core execution and column-wise unzip: ORM rows and DataFrame(rows) cost ~20 s a million.
        rows = (
            session.connection()
            .execute(
                select(
                    IncidentRow.id,
                    raw_time_column(IncidentRow.reported_at, session),
                    IncidentRow.lon,
                    IncidentRow.lat,
                    IncidentRow.jurisdiction_code,
                    IncidentRow.category,
                    IncidentRow.h3_r7,
                    IncidentRow.h3_r8,
                    IncidentRow.h3_r9,
                ).where(IncidentRow.id > old.last_id)
            )
            .all()
        )
        if not rows:
            return old
        names = ["id", "t", "lon", "lat", "code", "category", "r7", "r8", "r9"]
        frame = dict(zip(names, zip(*rows, strict=True), strict=True))
        times = pd.to_datetime(pd.Series(frame["t"]), utc=True, format="ISO8601").astype(
            "datetime64[ns, UTC]"
        )
        codes, jurisdiction = _encode(old.codes, frame["code"])
        categories, category = _encode(old.categories, frame["category"])
        time_ns = np.concatenate([old.time_ns, times.astype("int64").to_numpy()])
        order = np.argsort(time_ns, kind="stable")
        merged = {
            "lon": np.concatenate([old.lon, np.asarray(frame["lon"], dtype=np.float64)]),
            "lat": np.concatenate([old.lat, np.asarray(frame["lat"], dtype=np.float64)]),
            "jurisdiction": np.concatenate([old.jurisdiction, jurisdiction]),
            "category": np.concatenate([old.category, category]),
        }
        cells = {
            r: np.concatenate([old.cells[r], np.asarray(frame[f"r{r}"], dtype=np.int64)])[order]
            for r in RESOLUTIONS
        }
        return IncidentColumns(
            time_ns=time_ns[order],
            lon=merged["lon"][order],
            lat=merged["lat"][order],
            jurisdiction=merged["jurisdiction"][order],
            category=merged["category"][order],
            cells=cells,
            codes=tuple(codes),
            categories=tuple(categories),
            last_id=int(max(frame["id"])),
        )


def _encode(
    known: tuple[str, ...], values: tuple[str | None, ...]
) -> tuple[tuple[str, ...], np.ndarray]:
    """Integer codes of ``values`` in ``known`` extended by new names; None becomes -1."""
    labels, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    index = {name: i for i, name in enumerate(known)}
    for name in uniques:
        index.setdefault(name, len(index))
    mapping = np.asarray([index[name] for name in uniques], dtype=np.int32)
    encoded = np.full(len(values), -1, dtype=np.int32)
    present = labels >= 0
    if mapping.size:
        encoded[present] = mapping[labels[present]]
    return tuple(index), encoded
