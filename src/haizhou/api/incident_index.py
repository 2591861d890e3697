"""An in-memory column index of incidents for the map aggregates (警情内存列索引).

The map asks the same question many times a second: how many incidents per H3 cell (or grid
cell) in this viewport, window and scope? SQL answers it by reading every row of the window;
on SQLite with a million incidents that is 30-200 ms a query. This index keeps the few columns
the map needs as NumPy arrays sorted by time (about 70 bytes an incident: 70 MB for a million),
so a query is a binary search for the window, a mask for the viewport and scope, and a count.
Cells are kept as small integer codes into the sorted distinct cells of each resolution, so the
count is a ``bincount`` (no sort), and resolutions 5-6 roll up from resolution 7 through a
precomputed parent map. A query over a 90-day window of a million incidents costs well under a
millisecond; what remains of a map request is HTTP, log-in and JSON.

Freshness: before a query the index compares the store's largest incident ``id`` with its
own and loads only the newer rows (imports only append incidents: a conflicting re-import is
quarantined, never an update). A store whose incidents were deleted or rewritten in place needs
:meth:`IncidentIndex.reset`. Above ``max_rows`` incidents the index declines (``snapshot``
returns ``None``) and the routes fall back to SQL. :meth:`IncidentIndex.snapshot_nowait` never
waits for a large load (the first one of a big store takes seconds): it starts the load in a
background thread and returns ``None`` meanwhile, so the routes answer from SQL, exactly.
With ``max_age_s`` (the app's ``map_freshness_s``, 1 s by default), :meth:`IncidentIndex.fresh`
hands out the columns without asking the store when they were found current that recently:
the map request then does no I/O at all and needs no thread, and a new incident reaches the
map within that time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from haizhou.geo.h3cells import parent_cells
from haizhou.store.repositories._frames import raw_time_column
from haizhou.store.tables import IncidentRow

__all__ = ["IncidentColumns", "IncidentIndex"]

_log = logging.getLogger(__name__)

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
    cell_values : dict of int to int64 array
        The distinct cells of each resolution 5-9, ascending.
    cell_codes : dict of int to int32 array
        For resolutions 7-9, each incident's cell as a position in ``cell_values``.
    parent_codes : dict of int to int32 array
        For resolutions 5-6, the position in ``cell_values[r]`` of the parent of each
        ``cell_values[7]`` entry.
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
    cell_values: dict[int, np.ndarray] = field(default_factory=dict)
    cell_codes: dict[int, np.ndarray] = field(default_factory=dict)
    parent_codes: dict[int, np.ndarray] = field(default_factory=dict)

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
            mask &= lon >= bbox[0]
            mask &= lon <= bbox[2]
            mask &= lat >= bbox[1]
            mask &= lat <= bbox[3]
        if scope_codes is not None:
            # A lookup table over the codes (shifted by one for -1, no jurisdiction).
            allowed = np.zeros(len(self.codes) + 1, dtype=bool)
            allowed[[i + 1 for i, code in enumerate(self.codes) if code in scope_codes]] = True
            mask &= allowed[self.jurisdiction[window] + 1]
        if categories:
            wanted = np.zeros(len(self.categories), dtype=bool)
            wanted[[i for i, name in enumerate(self.categories) if name in set(categories)]] = True
            mask &= wanted[self.category[window]]
        return window, mask

    def hexagon_counts(
        self, window: slice, mask: np.ndarray, resolution: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cells (ascending) and counts at ``resolution`` (5-9) of the selected rows."""
        stored = resolution if resolution in RESOLUTIONS else RESOLUTIONS[0]
        if stored not in self.cell_codes or resolution not in self.cell_values:
            return self._hexagon_counts_by_sorting(window, mask, resolution)
        codes = self.cell_codes[stored][window][mask]
        counts = np.bincount(codes, minlength=self.cell_values[stored].size)
        if resolution != stored:
            counts = np.bincount(
                self.parent_codes[resolution],
                weights=counts,
                minlength=self.cell_values[resolution].size,
            ).astype(np.int64)
        present = np.flatnonzero(counts)
        return self.cell_values[resolution][present], counts[present].astype(np.int64)

    def _hexagon_counts_by_sorting(
        self, window: slice, mask: np.ndarray, resolution: int
    ) -> tuple[np.ndarray, np.ndarray]:
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
    background_rows : int
        :meth:`snapshot_nowait` loads at most this many new incidents in the caller's thread;
        more go to a background thread.
    max_age_s : float
        :meth:`fresh` hands out columns found current at most this many seconds ago (0: never,
        every query asks the store).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_rows: int = 5_000_000,
        background_rows: int = 100_000,
        max_age_s: float = 0.0,
    ) -> None:
        self.engine = engine
        self.max_rows = max_rows
        self.background_rows = background_rows
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._columns = _empty()
        self._declined_at: int | None = None  # the newest id when the index declined
        self._current_at = -float("inf")  # monotonic time the columns were last found current

    @property
    def _declined(self) -> bool:
        return self._declined_at is not None

    def reset(self) -> None:
        """Forget everything; the next :meth:`snapshot` reloads the store."""
        with self._lock:
            self._columns = _empty()
            self._declined_at = None
            self._current_at = -float("inf")

    def fresh(self) -> IncidentColumns | None:
        """The columns if they were found current less than ``max_age_s`` ago, else ``None``.

        No I/O: with ``None``, ask :meth:`snapshot_nowait` (in a thread, it reads the store).
        """
        if time.monotonic() - self._current_at < self.max_age_s:
            return self._columns
        return None

    def _current(self, newest: int) -> IncidentColumns | bool | None:
        """The columns if up to date with ``newest``, ``None`` if declined, else ``False``."""
        if newest == self._declined_at:
            return None
        columns = self._columns
        if newest == columns.last_id and not self._declined:
            self._current_at = time.monotonic()
            return columns
        return False

    def snapshot(self, session: Session) -> IncidentColumns | None:
        """The columns, brought up to date with the store; ``None`` when too large."""
        newest = _newest_id(session)
        current = self._current(newest)
        if current is not False:
            return current
        with self._lock:
            current = self._current(newest)
            if current is False:
                self._columns = self._load_after(session, self._columns)
            return None if self._declined else self._columns

    def snapshot_nowait(self, session: Session) -> IncidentColumns | None:
        """Like :meth:`snapshot`, but ``None`` instead of waiting for a large load.

        Up to ``background_rows`` new incidents are loaded at once; more (the first load of a
        big store) start a background load, and until it ends the caller gets ``None`` and
        answers from SQL.
        """
        newest = _newest_id(session)
        current = self._current(newest)
        if current is not False:
            return current
        if not self._lock.acquire(blocking=False):
            return None  # a load is under way
        handed_over = False
        try:
            current = self._current(newest)
            if current is not False:
                return current
            if _count_after(session, self._columns.last_id) <= self.background_rows:
                self._columns = self._load_after(session, self._columns)
                return None if self._declined else self._columns
            # The background thread takes over the lock and releases it when done.
            threading.Thread(
                target=self._load_in_background, name="incident-index", daemon=True
            ).start()
            handed_over = True
            return None
        finally:
            if not handed_over:
                self._lock.release()

    def _load_in_background(self) -> None:
        try:
            with Session(self.engine) as session:
                self._columns = self._load_after(session, self._columns)
        except Exception:  # the map keeps answering from SQL; the next request retries
            _log.exception("incident index: background load failed")
        finally:
            self._lock.release()

    def _load_after(self, session: Session, old: IncidentColumns) -> IncidentColumns:
        began = time.monotonic()  # what is loaded is current as of this moment
        newest = _newest_id(session)
        total = old.size + _count_after(session, old.last_id)
        if total > self.max_rows:
            self._declined_at = newest
            self._current_at = -float("inf")
            return old
        self._declined_at = None
        columns = self._read_after(session, old)
        self._current_at = began
        return columns

    def _read_after(self, session: Session, old: IncidentColumns) -> IncidentColumns:
        parts = []
        codes, categories, last_id = old.codes, old.categories, old.last_id
        while True:  # in chunks of ids, so Python row objects never hold a million rows
            chunk = _read_chunk(session, last_id)
            if chunk is None:
                break
            codes, chunk["jurisdiction"] = _encode(codes, chunk.pop("code"))
            categories, chunk["category"] = _encode(categories, chunk.pop("category_name"))
            last_id = int(chunk.pop("id")[-1])
            parts.append(chunk)
        if not parts:
            return old
        time_ns = np.concatenate([old.time_ns, *(p["time_ns"] for p in parts)])
        order = np.argsort(time_ns, kind="stable")

        def merged(name: str, before: np.ndarray) -> np.ndarray:
            return np.concatenate([before, *(p[name] for p in parts)])[order]

        cells = {r: merged(f"r{r}", old.cells[r]) for r in RESOLUTIONS}
        values, cell_codes, parents = _cell_codes(cells)
        return IncidentColumns(
            time_ns=time_ns[order],
            lon=merged("lon", old.lon),
            lat=merged("lat", old.lat),
            jurisdiction=merged("jurisdiction", old.jurisdiction),
            category=merged("category", old.category),
            cells=cells,
            codes=codes,
            categories=categories,
            last_id=last_id,
            cell_values=values,
            cell_codes=cell_codes,
            parent_codes=parents,
        )


COARSE_RESOLUTIONS = (5, 6)
LOAD_CHUNK = 200_000


def _read_chunk(session: Session, after_id: int) -> dict[str, Any] | None:
    """Up to :data:`LOAD_CHUNK` incidents with ``id > after_id`` in id order, as columns."""
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
            )
            .where(IncidentRow.id > after_id)
            .order_by(IncidentRow.id)
            .limit(LOAD_CHUNK)
        )
        .all()
    )
    if not rows:
        return None
    names = ["id", "t", "lon", "lat", "code", "category_name", "r7", "r8", "r9"]
    frame: dict[str, Any] = dict(zip(names, zip(*rows, strict=True), strict=True))
    del rows
    times = pd.to_datetime(pd.Series(frame.pop("t")), utc=True, format="ISO8601")
    frame["time_ns"] = times.astype("datetime64[ns, UTC]").astype("int64").to_numpy()
    frame["id"] = np.asarray(frame["id"], dtype=np.int64)
    for name in ("lon", "lat"):
        frame[name] = np.asarray(frame[name], dtype=np.float64)
    for r in RESOLUTIONS:
        frame[f"r{r}"] = np.asarray(frame[f"r{r}"], dtype=np.int64)
    return frame


def _cell_codes(
    cells: dict[int, np.ndarray],
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Distinct cells per resolution, each incident's cell code, and the coarse parent maps."""
    values: dict[int, np.ndarray] = {}
    codes: dict[int, np.ndarray] = {}
    for r in RESOLUTIONS:
        values[r], inverse = np.unique(cells[r], return_inverse=True)
        codes[r] = inverse.astype(np.int32).ravel()
    parents: dict[int, np.ndarray] = {}
    base = values[RESOLUTIONS[0]]
    for r in COARSE_RESOLUTIONS:
        if base.size and np.any(base <= 0):
            continue  # cells missing: callers fall back to sorting
        values[r], inverse = np.unique(parent_cells(base, r), return_inverse=True)
        parents[r] = inverse.astype(np.int32).ravel()
    return values, codes, parents


def _newest_id(session: Session) -> int:
    """The largest incident id (the index's version of the store); 0 for none.

    Asked on every map request, so as plain SQL (five times cheaper than the ORM statement).
    """
    table = IncidentRow.__tablename__
    return int(session.connection().exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0)


def _count_after(session: Session, last_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(IncidentRow).where(IncidentRow.id > last_id)
        )
        or 0
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
