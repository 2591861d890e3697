"""Sightings into the store (感知记录入库): batches, device links, reads and retention.

A sighting is (device or plate, sensor, time). Identifiers in clear are pseudonymised here, at
the boundary, with the import pipeline's keyed pseudonymiser (the same tokens as the
``persons`` import gives ID numbers), so only pseudonyms reach the store:

* :func:`import_sightings` reads a CSV or Parquet file (``haizhou sim --out`` writes
  ``sightings.parquet``: ``device_or_plate, sensor_id, seen_at``) in chunks and writes them,
  idempotently (a re-import or repeated delivery adds nothing);
* :func:`write_sightings` is the shared writer (the MQTT consumer of
  :mod:`haizhou.ingest.sightings_stream` and the JetStream consumer use it too): on PostgreSQL
  ``COPY`` into a staging table and one ``INSERT … SELECT … ON CONFLICT DO NOTHING``;
* :func:`import_device_links` stores which person a device or plate is registered to;
* :func:`sighting_frame` and :func:`device_link_frame` read them back for the models;
* :func:`purge_sightings` deletes raw sightings older than the retention.

A value starting with a province character (苏G·12345) is a plate; anything else (MAC, IMEI)
is a device id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from haizhou.errors import InputError
from haizhou.ingest.timeparse import parse_times
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store.tables.sightings import DeviceLinkRow, SightingRow

__all__ = [
    "SightingsImport",
    "device_link_frame",
    "import_device_links",
    "import_sightings",
    "iter_sighting_chunks",
    "pseudonymise_devices",
    "purge_sightings",
    "sighting_frame",
    "write_sightings",
]

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_INSERT_ROWS = 5_000  # rows per INSERT statement (SQLite's variable limit is far above 5 x 5,000)


@dataclass(frozen=True, slots=True)
class SightingsImport:
    """What an import of sightings did.

    Attributes
    ----------
    read : int
        Rows read from the file.
    written : int
        New sightings stored.
    duplicates : int
        Rows already stored (same pseudonym, time and sensor), not written again.
    rejected : int
        Rows without an identifier, sensor or a parseable time; ``first_problem`` says why.
    """

    read: int
    written: int
    duplicates: int
    rejected: int
    first_problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pseudonymise_devices(
    ps: Pseudonymiser, values: Sequence[str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Pseudonyms of device ids and plates, and their kind ("device" or "plate").

    Parameters
    ----------
    ps : Pseudonymiser
        The installation's pseudonymiser.
    values : sequence of str or None
        Identifiers in clear; missing values give ``None``.

    Returns
    -------
    tokens, kinds : numpy.ndarray of object
    """
    raw = np.array(["" if v is None else str(v).strip() for v in values], dtype=object)
    first = np.array([s[:1] for s in raw], dtype=object)
    plate = np.isin(first, list(_PROVINCES))
    tokens = np.full(raw.size, None, dtype=object)
    kinds = np.where(plate, "plate", "device").astype(object)
    for mask, kind in ((plate, IdentifierKind.PLATE), (~plate, IdentifierKind.DEVICE)):
        idx = np.flatnonzero(mask & (raw != ""))
        if idx.size:
            tokens[idx] = ps.pseudonymise_many(list(raw[idx]), kind)[0]
    return tokens, kinds


def iter_sighting_chunks(path: Path, *, chunk_rows: int = 100_000) -> Iterator[pa.Table]:
    """Chunks of a sightings CSV or Parquet file, as Arrow tables of text or timestamps."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if suffix in (".parquet", ".pq"):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield pa.Table.from_batches([batch])
    elif suffix in (".csv", ".txt"):
        opts = pacsv.ReadOptions(block_size=1 << 24)
        conv = pacsv.ConvertOptions(
            column_types={c: pa.string() for c in ("device_or_plate", "pseudo_id", "sensor_id")},
            strings_can_be_null=True,
        )
        with pacsv.open_csv(path, read_options=opts, convert_options=conv) as reader:
            for batch in reader:
                yield pa.Table.from_batches([batch])
    else:
        raise InputError(f"{path}: sightings must be .csv or .parquet.")


def utc_seconds(column: pa.ChunkedArray | pa.Array, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since the epoch (UTC) and the mask of unusable cells."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_timestamp(array.type):
        if array.type.tz is None:  # wall-clock times of the bureau's zone
            array = pc.assume_timezone(array, zone, ambiguous="earliest", nonexistent="earliest")
        ts = array.cast(pa.timestamp("us", tz="UTC"))
        bad = pc.is_null(ts).to_numpy(zero_copy_only=False)
    else:
        ts, bad = parse_times(array.cast(pa.string()), zone)
        bad = bad | pc.is_null(ts).to_numpy(zero_copy_only=False)
    us = ts.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return us // 1_000_000, bad


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows, skipping those already stored; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise InputError(f"sightings need SQLite or PostgreSQL; got {dialect}.")
    written = 0
    for i in range(0, len(rows), _INSERT_ROWS):
        stmt = (
            dialect_insert(SightingRow)
            .on_conflict_do_nothing(index_elements=["pseudo_id", "seen_at", "sensor_id"])
            .returning(SightingRow.id)
        )
        # Core executemany with RETURNING: the ids of the rows actually inserted
        result = session.connection().execute(stmt, rows[i : i + _INSERT_ROWS])
        written += len(result.all())
    return written


_STAGE = "_haizhou_sightings_in"
_STAGE_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
    "(pseudo_id text, id_kind text, sensor_id text, seen_s bigint, batch_id integer) "
    "ON COMMIT DELETE ROWS"
)
_STAGE_INSERT = (
    "INSERT INTO sightings (pseudo_id, id_kind, sensor_id, seen_at, batch_id) "
    f"SELECT pseudo_id, id_kind, sensor_id, to_timestamp(seen_s), batch_id FROM {_STAGE} "
    "ON CONFLICT (pseudo_id, seen_at, sensor_id) DO NOTHING"
)


def _copy_ignoring_duplicates(
    session: Session,
    pseudo_ids: Sequence[str],
    kinds: Sequence[str],
    sensor_ids: Sequence[str],
    seen_at_s: np.ndarray,
    batch_id: int | None,
) -> int:
    """PostgreSQL: COPY into a session-local staging table, then one ``INSERT … SELECT … ON
    CONFLICT DO NOTHING``; returns how many rows were new.

    One fixed statement whatever the batch size (no per-row parameters for the driver to bind
    and no statement text growing with the batch). The staging table is emptied at every commit
    (``ON COMMIT DELETE ROWS``); rows left by an earlier call in the same transaction are
    inserted again and conflict with themselves, so the count stays right.
    """
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.execute(_STAGE_DDL)
        with cur.copy(
            f"COPY {_STAGE} (pseudo_id, id_kind, sensor_id, seen_s, batch_id) FROM STDIN"
        ) as copy:
            for row in zip(
                pseudo_ids, kinds, sensor_ids, seen_at_s.tolist(), repeat(batch_id), strict=False
            ):
                copy.write_row(row)
        cur.execute(_STAGE_INSERT)
        written = int(cur.rowcount)
    return written


def write_sightings(
    session: Session,
    *,
    pseudo_ids: Sequence[str],
    kinds: Sequence[str],
    sensor_ids: Sequence[str],
    seen_at_s: Sequence[int] | np.ndarray,
    batch_id: int | None = None,
) -> int:
    """Store pseudonymised sightings (times as UTC seconds); returns how many were new.

    Duplicates of stored sightings (same pseudonym, second and sensor) are skipped, and so are
    repeats inside the batch. On PostgreSQL the rows go through ``COPY`` into a staging table
    and one ``INSERT … SELECT … ON CONFLICT DO NOTHING``; on SQLite through a multi-row
    ``INSERT … ON CONFLICT DO NOTHING``. The caller commits.
    """
    n = len(pseudo_ids)
    if not (len(kinds) == len(sensor_ids) == len(seen_at_s) == n):
        raise InputError("pseudo_ids, kinds, sensor_ids and seen_at_s must have one length.")
    if n == 0:
        return 0
    secs = np.asarray(seen_at_s, dtype=np.int64)
    if session.get_bind().dialect.name == "postgresql":
        return _copy_ignoring_duplicates(session, pseudo_ids, kinds, sensor_ids, secs, batch_id)
    seen = pd.to_datetime(secs, unit="s", utc=True)
    rows = [
        {
            "pseudo_id": p,
            "id_kind": k,
            "sensor_id": s,
            "seen_at": t,
            "batch_id": batch_id,
        }
        for p, k, s, t in zip(pseudo_ids, kinds, sensor_ids, seen.to_pydatetime(), strict=True)
    ]
    # one row per key inside the batch too (the same sighting twice in one file)
    unique = list({(r["pseudo_id"], r["seen_at"], r["sensor_id"]): r for r in rows}.values())
    return _insert_ignoring_duplicates(session, unique)


def import_sightings(
    session: Session,
    path: Path,
    *,
    pseudonymiser: Pseudonymiser,
    zone: str = "Asia/Shanghai",
    chunk_rows: int = 100_000,
    batch_id: int | None = None,
) -> SightingsImport:
    """Import a sightings file (CSV or Parquet), pseudonymising identifiers at the boundary.

    Parameters
    ----------
    session : Session
        Open session; committed after every chunk so a long import is resumable (re-running
        it skips what is stored).
    path : Path
        Columns ``device_or_plate`` (in clear; or ``pseudo_id`` already pseudonymised, with
        ``id_kind``), ``sensor_id`` and ``seen_at`` (with offset, or local time of ``zone``).
    pseudonymiser : Pseudonymiser
        The installation's pseudonymiser.
    zone : str
        IANA zone of times written without an offset.
    chunk_rows : int
        Rows per chunk.
    batch_id : int, optional
        Import batch recorded on every row.

    Returns
    -------
    SightingsImport
    """
    read = written = rejected = 0
    problem: str | None = None
    for chunk in iter_sighting_chunks(path, chunk_rows=chunk_rows):
        names = set(chunk.column_names)
        missing = {"sensor_id", "seen_at"} - names
        if missing or not names & {"device_or_plate", "pseudo_id"}:
            raise InputError(
                f"{path}: needs columns device_or_plate (or pseudo_id), sensor_id and seen_at; "
                f"found {', '.join(sorted(names))}."
            )
        n = chunk.num_rows
        read += n
        if "device_or_plate" in names:
            raw = chunk.column("device_or_plate").cast(pa.string()).to_pylist()
            tokens, kinds = pseudonymise_devices(pseudonymiser, raw)
        else:
            tokens = np.array(chunk.column("pseudo_id").cast(pa.string()).to_pylist(), object)
            kinds = (
                np.array(chunk.column("id_kind").to_pylist(), object)
                if "id_kind" in names
                else np.full(n, "device", dtype=object)
            )
        sensors = np.array(chunk.column("sensor_id").cast(pa.string()).to_pylist(), object)
        secs, bad_time = utc_seconds(chunk.column("seen_at"), zone)
        no_id = np.array([t is None for t in tokens])
        no_sensor = np.array([not s for s in sensors])
        bad = bad_time | no_id | no_sensor
        if bad.any():
            rejected += int(bad.sum())
            if problem is None:
                i = int(np.flatnonzero(bad)[0])
                what = "seen_at" if bad_time[i] else "device_or_plate" if no_id[i] else "sensor_id"
                problem = f"{path.name}, row {read - n + i + 2}: missing or invalid {what}"
        ok = ~bad
        new = write_sightings(
            session,
            pseudo_ids=list(tokens[ok]),
            kinds=list(kinds[ok]),
            sensor_ids=list(sensors[ok]),
            seen_at_s=secs[ok],
            batch_id=batch_id,
        )
        session.commit()
        written += new
    return SightingsImport(read, written, read - rejected - written, rejected, problem)


def import_device_links(
    session: Session,
    path: Path,
    *,
    pseudonymiser: Pseudonymiser,
    source: str,
    now: datetime,
) -> int:
    """Store device-or-plate → person links from a CSV or Parquet file; returns rows stored.

    Columns: ``device_or_plate`` and ``id_number`` (in clear), or the synthetic city's
    ``truth/floating_residents.csv`` layout (``device_id``, ``plate``, ``id_number``); rows
    without an ID number are skipped (nobody is registered to that device). A link that is
    already stored is replaced.
    """
    table = (
        pq.read_table(path)
        if path.suffix.lower() in (".parquet", ".pq")
        else pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={
                    c: pa.string() for c in ("device_or_plate", "device_id", "plate", "id_number")
                },
                strings_can_be_null=True,
            ),
        )
    )
    frame = table.to_pandas()
    if "id_number" not in frame.columns:
        raise InputError(f"{path}: needs an id_number column.")
    if "device_or_plate" in frame.columns:
        pairs = frame[["device_or_plate", "id_number"]]
    elif {"device_id", "plate"} <= set(frame.columns):
        pairs = frame.melt(
            id_vars=["id_number"], value_vars=["device_id", "plate"], value_name="device_or_plate"
        )[["device_or_plate", "id_number"]]
    else:
        raise InputError(f"{path}: needs device_or_plate (or device_id and plate) columns.")
    pairs = pairs.dropna()
    pairs = pairs[(pairs["device_or_plate"].str.strip() != "") & (pairs["id_number"] != "")]
    if pairs.empty:
        return 0
    device, _ = pseudonymise_devices(pseudonymiser, pairs["device_or_plate"].tolist())
    person = pseudonymiser.pseudonymise_many(pairs["id_number"].tolist(), IdentifierKind.ID_CARD)[0]
    links = {d: p for d, p in zip(device, person, strict=True) if d and p}
    keys = list(links)
    for i in range(0, len(keys), _INSERT_ROWS):
        part = keys[i : i + _INSERT_ROWS]
        session.execute(delete(DeviceLinkRow).where(DeviceLinkRow.pseudo_id.in_(part)))
    rows = [
        {"pseudo_id": d, "person_pseudonym": p, "source": source, "updated_at": now}
        for d, p in links.items()
    ]
    for i in range(0, len(rows), _INSERT_ROWS):
        session.execute(insert(DeviceLinkRow), rows[i : i + _INSERT_ROWS])
    session.flush()
    return len(rows)


def sighting_frame(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    zone: str,
    pseudo_ids: Iterable[str] | None = None,
    sensor_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Sightings in ``[start, end)`` as ``pseudo_id, sensor_id, seen_at`` (local wall time).

    ``seen_at`` is naive local time of ``zone``, as the presence profiles expect. Give
    ``pseudo_ids`` and/or ``sensor_ids`` to read only those (e.g. the sensors in a scope).
    """
    q = select(SightingRow.pseudo_id, SightingRow.sensor_id, SightingRow.seen_at).where(
        SightingRow.seen_at >= start, SightingRow.seen_at < end
    )
    if pseudo_ids is not None:
        q = q.where(SightingRow.pseudo_id.in_(list(pseudo_ids)))
    if sensor_ids is not None:
        q = q.where(SightingRow.sensor_id.in_(sorted(set(sensor_ids))))
    rows = session.execute(q).all()
    frame = pd.DataFrame(rows, columns=["pseudo_id", "sensor_id", "seen_at"])
    seen = pd.to_datetime(frame["seen_at"], utc=True)
    frame["seen_at"] = seen.dt.tz_convert(zone).dt.tz_localize(None)
    return frame


def device_link_frame(session: Session) -> pd.DataFrame:
    """Every device link as ``pseudo_id, person_id`` (both pseudonyms)."""
    rows = session.execute(select(DeviceLinkRow.pseudo_id, DeviceLinkRow.person_pseudonym)).all()
    return pd.DataFrame(rows, columns=["pseudo_id", "person_id"])


def purge_sightings(session: Session, *, now: datetime, retention_days: float) -> int:
    """Delete raw sightings older than ``retention_days`` before ``now``; returns how many.

    The caller commits (and writes the audit entry in the same transaction).
    """
    if now.tzinfo is None:
        raise InputError("now has no time zone; give an aware time (e.g. 2026-03-01T03:00+08:00).")
    if not retention_days > 0:
        raise InputError(f"retention must be > 0 days; got {retention_days!r}.")
    cutoff = now.astimezone(UTC) - timedelta(days=retention_days)
    result = session.execute(delete(SightingRow).where(SightingRow.seen_at < cutoff))
    return int(result.rowcount or 0)


def count_sightings(session: Session) -> int:
    """Sightings stored."""
    return int(session.execute(select(func.count()).select_from(SightingRow)).scalar_one())
