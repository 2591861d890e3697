"""The import pipeline (导入流程): read → map → validate and convert → place → pseudonymise →
deduplicate → quarantine → write, one chunk (one transaction) at a time.

Every step works on whole columns of the chunk. A bad row never stops the import: it goes to
the quarantine table and to ``data_dir/quarantine/<import>.csv`` with its row, column and reason,
and every good row still loads. Importing a file again adds nothing: a row whose
``(source, source_id)`` is stored with the same content hash is skipped, one with a different
hash is quarantined. A killed import leaves only whole batches, and a re-run completes it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from haizhou.errors import InputError
from haizhou.geo.h3cells import cells_from_lonlat, parent_cells
from haizhou.geo.index import PolygonIndex
from haizhou.geo.transform import CoordTransformer
from haizhou.ingest.kinds import KINDS, ConvertContext, Converted, KindSpec, Problem
from haizhou.ingest.mapping import ColumnMapping, load_mapping_file, resolve_mapping
from haizhou.ingest.sources import RawChunk, ReadOptions, source_for
from haizhou.ingest.timeparse import format_timestamps
from haizhou.ingest.writer import BatchWriter, open_writer
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser, load_or_create_key

CRS_CHOICES = ("wgs84", "gcj02", "bd09")
BULK_MIN_BYTES = 16 << 20
PAUSE_ENV = "_HAIZHOU_IMPORT_PAUSE_S"  # test hook: sleep after each committed batch
_HASH_KEYS = ("haizhou-ingest-a", "haizhou-ingest-b")
_QUARANTINE_HEADER = ("file", "row", "column", "value", "reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSummary:
    """What an import did (导入结果).

    Attributes
    ----------
    kind, source, file
        What was imported, under which source name, from which file.
    batch_id
        The ``import_batches`` row of this run.
    rows
        Records read from the file.
    accepted
        Rows written.
    quarantined
        Rows rejected (each with at least one reason in the quarantine).
    skipped_duplicates
        Rows identical to rows already stored (or repeated in the file).
    quarantine_file
        CSV of this run's rejections (file, row, column, value, reason), or None if none.
    seconds
        Wall time.
    encoding
        Text encoding used, when the format has one.
    mapping
        canonical column → header used.
    timings
        Seconds spent reading and validating (in a worker thread, overlapping the writes; wall
        and CPU), writing batches, and building indexes after a bulk load (wall, and CPU of
        this process and the ADBC writer process).
    """

    kind: str
    source: str
    file: str
    batch_id: int
    rows: int
    accepted: int
    quarantined: int
    skipped_duplicates: int
    quarantine_file: str | None
    seconds: float
    encoding: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ProgressCallback = Callable[[int], None]


def import_file(
    kind: str,
    path: str | Path,
    *,
    engine: Engine,
    data_dir: str | Path,
    timezone: str = "Asia/Shanghai",
    pseudonym_key: str | bytes | None = None,
    source: str | None = None,
    crs: str = "wgs84",
    column_map: Mapping[str, str] | None = None,
    mapping_file: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    layer: str | None = None,
    batch_size: int = 100_000,
    area_check: bool = True,
    progress: ProgressCallback | bool | None = None,
    bulk: bool | None = None,
    arrow: bool | None = None,
) -> ImportSummary:
    """Import one file of records into the store.

    Parameters
    ----------
    kind
        ``incidents`` (警情), ``cases`` (案件), ``jurisdictions`` (辖区), ``sensors`` (感知点位)
        or ``persons`` (实有人口).
    path
        CSV (UTF-8 or GB18030/GBK), Excel, Parquet, GeoJSON or GeoPackage file.
    engine
        SQLAlchemy engine of the store (SQLite or PostgreSQL); the schema must exist.
    data_dir
        Data folder: the pseudonym key and ``quarantine/`` live there.
    timezone
        IANA zone of times written without an offset; stored times are UTC.
    pseudonym_key
        Secret for the keyed pseudonyms (text as in ``HAIZHOU_PSEUDONYM_KEY``, or the key
        bytes from :func:`haizhou.security.pseudonym.load_or_create_key`); None: the key file
        in ``data_dir``.
    source
        Name of the source system, part of each row's identity; default: the file's stem.
    crs
        Datum of the coordinates in the file: ``wgs84``, ``gcj02`` (火星坐标) or ``bd09``
        (百度坐标); stored as WGS-84.
    column_map
        canonical column → header in the file (the ``--map`` flags); wins over ``mapping_file``.
    mapping_file
        YAML file with ``columns: {canonical: header}``.
    encoding, sheet, layer
        Source options (text encoding, Excel sheet, GeoPackage layer).
    batch_size
        Rows per transaction.
    area_check
        Quarantine points outside the union of loaded jurisdictions (and refuse to import
        without jurisdictions). False: keep them with no owning unit.
    progress
        Called with the number of records read so far after each batch; ``True`` shows a
        progress bar on stderr (rich), ``False``/None nothing.
    bulk
        SQLite only: load into an empty table without its secondary indexes and build them at
        the end (about twice as fast for large files). None: when the table is empty and the
        file has at least 16 MB. A killed bulk load leaves whole batches and no secondary
        indexes; the next import (e.g. the re-run) builds them first.
    arrow
        SQLite only: write the batches as Arrow tables through ADBC (``adbc_driver_sqlite``),
        in a writer process that runs beside the reading and validating (see
        :class:`haizhou.ingest.writer.AdbcSqliteWriter`); about half the CPU of binding rows
        through ``sqlite3``, after a start-up of about a second. None: when the driver is
        installed and the file has at least 16 MB. False: always ``sqlite3``.

    Returns
    -------
    ImportSummary
    """
    started = time.perf_counter()
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(f"unknown record kind {kind!r}; use one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; check the path")
    if crs not in CRS_CHOICES:
        raise InputError(f"unknown --crs {crs!r}; use one of {', '.join(CRS_CHOICES)}")
    if batch_size < 1:
        raise InputError(f"--batch-size must be at least 1; got {batch_size}")
    explicit: dict[str, str] = {}
    if mapping_file is not None:
        explicit.update(load_mapping_file(Path(mapping_file)))
    explicit.update(column_map or {})
    source_name = source or path.stem
    data_dir = Path(data_dir)
    module = source_for(path)
    options = ReadOptions(encoding=encoding, sheet=sheet, layer=layer, chunk_rows=batch_size)
    file_sha = _sha256(path)
    ctx = ConvertContext(
        zone=timezone,
        pseudonymiser=Pseudonymiser(
            bytes(pseudonym_key)
            if isinstance(pseudonym_key, bytes | bytearray)
            else load_or_create_key(data_dir, pseudonym_key)
        ),
        identifier_kinds=IdentifierKind,
    )
    if arrow is None:
        arrow = path.stat().st_size >= BULK_MIN_BYTES
    writer = open_writer(engine, arrow=arrow)
    try:
        _check_schema(writer)
        area = None if kind == "jurisdictions" else _load_area(writer, area_check, path)
        run = _Run(
            spec=spec,
            writer=writer,
            ctx=ctx,
            file=path,
            source=source_name,
            crs=crs,
            area=area,
            area_check=area_check,
            explicit=explicit,
            file_sha=file_sha,
            quarantine_dir=data_dir / "quarantine",
            bulk=bulk,
        )
        try:
            encoding_used = None
            chunks = _rechunk(module.read(path, options=options), batch_size)
            with _progress_reporter(progress, f"{kind} ← {path.name}") as report:
                for prepared in _ahead(run.prepare, chunks):
                    run.write(prepared)
                    report(run.rows)
                    pause = os.environ.get(PAUSE_ENV)
                    if pause:
                        time.sleep(float(pause))
            if module.SOURCE.name == "csv":
                encoding_used = encoding or _detected(path)
            run.finish()
        except Exception:
            run.fail()
            raise
        finally:
            run.close_csv()
    finally:
        writer.close()
    return ImportSummary(
        kind=kind,
        source=source_name,
        file=str(path),
        batch_id=run.batch_id,
        rows=run.rows,
        accepted=run.accepted,
        quarantined=run.quarantined,
        skipped_duplicates=run.skipped,
        quarantine_file=str(run.csv_path) if run.quarantined else None,
        seconds=round(time.perf_counter() - started, 3),
        encoding=encoding_used,
        mapping=dict(run.mapping.columns) if run.mapping else {},
        timings={k: round(v, 3) for k, v in run.timings.items()},
    )


@contextmanager
def _progress_reporter(
    progress: ProgressCallback | bool | None, title: str
) -> Iterator[ProgressCallback]:
    """A callback for rows done: the caller's, a rich bar on stderr (``True``) or nothing."""
    if callable(progress):
        yield progress
        return
    if not progress:
        yield lambda _rows: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None)
        yield lambda rows: bar.update(task, completed=rows)


def _rechunk(chunks: Iterator[RawChunk], size: int) -> Iterator[RawChunk]:
    """Split chunks larger than ``size`` rows, so one batch never exceeds the batch size."""
    for chunk in chunks:
        n = len(chunk)
        if n <= size:
            yield chunk
            continue
        problems = sorted(chunk.problems, key=lambda p: p.row)
        for start in range(0, n, size):
            stop = min(start + size, n)
            last = start + size >= n
            upper = chunk.rows[stop - 1]
            mine = tuple(p for p in problems if last or p.row <= upper)
            problems = [p for p in problems if p not in mine]
            take = pa.array(np.arange(start, stop))
            yield RawChunk(
                columns={k: pc.take(v, take) for k, v in chunk.columns.items()},
                rows=chunk.rows[start:stop],
                problems=mine,
            )


def _ahead(
    prepare: Callable[[RawChunk], _Prepared], chunks: Iterator[RawChunk]
) -> Iterator[_Prepared]:
    """Prepare the next chunk in a worker thread while the caller writes the current one.

    SQLite and Arrow release the GIL in their C code, so reading, validating and writing
    overlap on two cores. Errors in the worker surface in the caller.
    """
    from concurrent.futures import ThreadPoolExecutor

    def step() -> _Prepared | None:
        chunk = next(chunks, None)
        return None if chunk is None else prepare(chunk)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="haizhou-ingest") as pool:
        future = pool.submit(step)
        while True:
            prepared = future.result()
            if prepared is None:
                return
            future = pool.submit(step)
            yield prepared


def _detected(path: Path) -> str:
    from haizhou.ingest.encoding import sniff_file

    return sniff_file(path)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def restore_indexes(writer: BatchWriter, *, skip: str | None = None) -> list[str]:
    """Build the indexes a killed bulk load left out, on every table an import writes.

    Every import calls this first, so the store never stays without its indexes after a bulk
    load was killed (a bulk load drops them and builds them when it finishes). Returns the
    names of the indexes built.

    Parameters
    ----------
    writer
        The import's writer.
    skip
        A table left alone (the one this import bulk-loads).
    """
    built: list[str] = []
    for spec in KINDS.values():
        if spec.table == skip:
            continue
        missing = writer.missing_indexes(spec.table)
        if missing:
            writer.ensure_indexes(spec.table)
            built.extend(missing)
    return built


def _check_schema(writer: BatchWriter) -> None:
    try:
        writer.query("SELECT 1 FROM import_batches WHERE 1 = 0")
    except Exception:
        if writer.dialect == "postgresql":
            writer.conn.rollback()
        raise InputError(
            "the store has no schema yet; run `haizhou db upgrade` (or start `haizhou demo`) first"
        ) from None


def _load_area(writer: BatchWriter, area_check: bool, path: Path) -> Any:
    rows = writer.query("SELECT code, geometry FROM jurisdictions WHERE geometry IS NOT NULL")
    items = [(code, json.loads(g) if isinstance(g, str) else g) for code, g in rows]
    items = [(c, g) for c, g in items if g]
    if not items:
        if area_check:
            raise InputError(
                "no jurisdictions are loaded, so the bureau's area is unknown; import them first "
                "(`haizhou import jurisdictions FILE`) or pass --no-area-check",
                file=str(path),
            )
        return None
    return PolygonIndex.from_geojson(items)


# --------------------------------------------------------------------------- one run

_Entry = tuple[int, str | None, str | None, str]


class _Conflict(Exception):
    """An optimistic insert met an id already stored."""


@dataclass(slots=True)
class _Prepared:
    """A chunk validated and converted, ready for the writer."""

    chunk: RawChunk
    records: int
    entries: list[_Entry]
    bad_rows: set[int] = field(default_factory=set)
    skipped: int = 0
    id_header: str | None = None
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    id_shown: pa.Array | None = None
    data: pa.Table | None = None
    constants: dict[str, Any] = field(default_factory=dict)


class _Run:
    """State of one import: counters, the batch row and the quarantine CSV."""

    def __init__(
        self,
        *,
        spec: KindSpec,
        writer: BatchWriter,
        ctx: ConvertContext,
        file: Path,
        source: str,
        crs: str,
        area: Any,
        area_check: bool,
        explicit: dict[str, str],
        file_sha: str,
        quarantine_dir: Path,
        bulk: bool | None = None,
    ) -> None:
        self.spec, self.writer, self.ctx, self.file = spec, writer, ctx, file
        self.source, self.crs, self.area, self.area_check = source, crs, area, area_check
        self.explicit, self.file_sha = explicit, file_sha
        self.rows = self.accepted = self.quarantined = self.skipped = 0
        self.timings = {
            "read_validate_s": 0.0,
            "read_validate_cpu_s": 0.0,
            "write_s": 0.0,
            "index_build_s": 0.0,
            "index_build_cpu_s": 0.0,
        }
        self.mapping: ColumnMapping | None = None
        self._headers: tuple[str, ...] | None = None
        self.transformer = CoordTransformer.from_datums(crs, "wgs84") if crs != "wgs84" else None
        now = _utc_text(datetime.now(UTC))
        self.batch_id = writer.new_batch(
            {
                "kind": spec.name,
                "source": source,
                "file_name": file.name,
                "file_sha256": file_sha,
                "started_at": now,
                "status": "running",
                "accepted": 0,
                "quarantined": 0,
                "skipped_duplicates": 0,
            }
        )
        # rejections already recorded by earlier runs of this very file are not stored twice
        self.known_rejections = {
            (int(r), c, why)
            for r, c, why in writer.query(
                f"SELECT q.row_number, q.{_q('column')}, q.reason FROM quarantine q "
                "JOIN import_batches b ON b.id = q.batch_id "
                f"WHERE b.kind = {writer.placeholder} AND b.source = {writer.placeholder} "
                f"AND b.file_sha256 = {writer.placeholder} AND b.id <> {writer.placeholder}",
                [spec.name, source, file_sha, self.batch_id],
            )
        }
        # no row of this source yet: insert optimistically and look up only on a conflict
        if spec.name == "jurisdictions":
            self.fresh = False
        else:
            self.fresh = not writer.query(
                f"SELECT 1 FROM {spec.table} WHERE source = {writer.placeholder} LIMIT 1", [source]
            )
        # A large first load into an empty SQLite table drops the secondary indexes and builds
        # them once at the end (see :func:`import_file`, ``bulk``). Any import first restores
        # indexes a killed bulk load left out.
        self.bulk = False
        if writer.dialect == "sqlite" and spec.name != "jurisdictions":
            empty = writer.table_is_empty(spec.table)
            want = bulk if bulk is not None else file.stat().st_size >= BULK_MIN_BYTES
            if empty and want:
                writer.drop_secondary_indexes(spec.table)
                self.bulk = True
        restore_indexes(writer, skip=spec.table if self.bulk else None)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.csv_path = quarantine_dir / f"{stamp}-{spec.name}-{_safe(source)}-{self.batch_id}.csv"
        self._csv_file: Any = None
        self._csv: Any = None

    # -- quarantine CSV ------------------------------------------------------------------
    def _csv_writer(self) -> Any:
        if self._csv is None:
            self.csv_path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = self.csv_path.open("w", encoding="utf-8-sig", newline="")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(_QUARANTINE_HEADER)
        return self._csv

    def close_csv(self) -> None:
        if self._csv_file is not None:
            self._csv_file.close()

    # -- the chunk ---------------------------------------------------------------------
    def _resolve(self, chunk: RawChunk) -> ColumnMapping:
        headers = tuple(chunk.columns)
        if self.mapping is None or headers != self._headers:
            mapping = resolve_mapping(
                self.spec.name, headers, explicit=self.explicit, file=str(self.file)
            )
            absent = [c for c in self.spec.required if c not in mapping.columns]
            if absent:
                raise InputError(
                    f"required column(s) {absent} not found for {self.spec.name}; the file has "
                    f"{list(headers)}. Name them with --map canonical=header or a --mapping "
                    "YAML file (see docs/data-formats.md)",
                    file=str(self.file),
                )
            self.mapping, self._headers = mapping, headers
        return self.mapping

    def prepare(self, chunk: RawChunk) -> _Prepared:
        """Everything about a chunk that needs no database: runs ahead of the writer."""
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return self._prepare(chunk)
        finally:
            self.timings["read_validate_s"] += time.perf_counter() - started
            self.timings["read_validate_cpu_s"] += time.thread_time() - cpu

    def _prepare(self, chunk: RawChunk) -> _Prepared:
        n = len(chunk)
        entries: list[_Entry] = [
            (p.row, p.column, _scrub_one(self.ctx, p.value), p.reason) for p in chunk.problems
        ]
        prepared = _Prepared(
            chunk=chunk, records=n + len({p.row for p in chunk.problems}), entries=entries
        )
        prepared.bad_rows = {p.row for p in chunk.problems}
        if n == 0:
            return prepared
        mapping = self._resolve(chunk)
        mapped = {c: chunk.columns[h] for c, h in mapping.columns.items()}
        converted = self.spec.convert(
            mapped, {h: chunk.columns[h] for h in mapping.extra}, n, self.ctx
        )
        out = dict(converted.values)
        problems = list(converted.problems)
        if converted.point is not None:
            self._place(mapped, converted, out, problems, n)
        if self.spec.name == "jurisdictions":
            self._polygons(out, problems, n)
        bad = np.zeros(n, dtype=bool)
        for problem in problems:
            bad |= problem.mask
        source_id = converted.source_id
        assert source_id is not None
        hashes = content_hash(out, n)
        good = np.flatnonzero(~bad)
        prepared.id_header = mapping.columns.get(self.spec.id_column, self.spec.id_column)
        for problem in problems:
            idx = np.flatnonzero(problem.mask)
            header = self._header(mapping, problem.column)
            shown = self._shown(mapped, problem, idx)
            for i, value in zip(idx.tolist(), shown, strict=True):
                entries.append((int(chunk.rows[i]), header, value, problem.reason))
                prepared.bad_rows.add(int(chunk.rows[i]))
        if len(good):
            ids = pc.take(source_id, pa.array(good))
            hs = hashes[good]
            rows = chunk.rows[good]
            # repeated ids inside this chunk: the first occurrence wins
            first = first_occurrence(ids)
            first_of_id = first == np.arange(len(first))
            if not first_of_id.all():
                same = ~first_of_id & (hs[first] == hs)
                prepared.skipped += int(same.sum())
                for j in np.flatnonzero(~first_of_id & ~same):
                    value = self._id_shown(out, source_id, int(good[j]))
                    entries.append(
                        (
                            int(rows[j]),
                            prepared.id_header,
                            value,
                            "id repeated in the file with different content "
                            f"(first at row {rows[first[j]]})",
                        )
                    )
                    prepared.bad_rows.add(int(rows[j]))
            cand = good[first_of_id]
            prepared.rows = chunk.rows[cand]
            prepared.id_shown = (
                pc.take(out["masked_id"], pa.array(cand)) if self.spec.name == "persons" else None
            )
            prepared.data, prepared.constants = self._table_data(out, source_id, hashes, cand)
        return prepared

    def _id_shown(self, out: dict[str, Any], source_id: pa.Array, i: int) -> str | None:
        if self.spec.name == "persons":
            return out["masked_id"][i].as_py()
        return _scrub_one(self.ctx, source_id[i].as_py())

    def write(self, prepared: _Prepared) -> None:
        """Deduplicate against the store and write the chunk in one transaction."""
        self.rows += prepared.records
        started = time.perf_counter()
        try:
            self._write(prepared, lookup=not self.fresh)
        except _Conflict:
            # an id of this run was already stored: redo the chunk with the lookup
            self.fresh = False
            self._write(prepared, lookup=True)
        self.timings["write_s"] += time.perf_counter() - started

    def _write(self, prepared: _Prepared, *, lookup: bool) -> None:
        data = prepared.data
        n_rows = 0 if data is None else data.num_rows
        with self.writer.batch_transaction() as cur:
            self.writer.lock(cur, self.batch_id)
            entries = list(prepared.entries)
            bad_rows = set(prepared.bad_rows)
            skipped = prepared.skipped
            keep = None
            if lookup and data is not None and n_rows:
                present, identical = self.writer.match_stored(
                    cur, self.spec.table, self.source, data
                )
                if present.any():
                    skipped += int((present & identical).sum())
                    conflicts = np.flatnonzero(present & ~identical)
                    if len(conflicts):
                        key = "code" if self.spec.name == "jurisdictions" else "source_id"
                        shown = (
                            pc.take(prepared.id_shown, pa.array(conflicts)).to_pylist()
                            if prepared.id_shown is not None
                            else self.ctx.pseudonymiser.scrub_many(
                                [
                                    None if v is None else str(v)
                                    for v in pc.take(
                                        data.column(key), pa.array(conflicts)
                                    ).to_pylist()
                                ]
                            )
                        )
                        for j, value in zip(conflicts.tolist(), shown, strict=True):
                            entries.append(
                                (
                                    int(prepared.rows[j]),
                                    prepared.id_header,
                                    value,
                                    "id already loaded with different content; give a new id "
                                    "or a different --source",
                                )
                            )
                            bad_rows.add(int(prepared.rows[j]))
                    keep = ~present
            to_write = data if keep is None or data is None else data.filter(pa.array(keep))
            expected = 0 if to_write is None else to_write.num_rows
            entries.sort(key=lambda e: (e[0], self._column_position(e[1])))
            q_rows = []
            raw_by_row = self._raw_rows(prepared.chunk, {e[0] for e in entries}) if entries else {}
            for row, column, value, reason in entries:
                if (row, column, reason) in self.known_rejections:
                    continue
                q_rows.append(
                    (
                        self.batch_id,
                        self.spec.name,
                        self.file.name,
                        row,
                        column,
                        value,
                        reason,
                        raw_by_row.get(row),
                    )
                )
            written = (
                self.writer.insert_table(cur, self.spec.table, to_write, prepared.constants)
                if to_write is not None and expected
                else 0
            )
            if not lookup and written < expected:
                raise _Conflict
            self.writer.insert_quarantine(cur, q_rows)
            # rows lost to a concurrent writer between the lookup and the insert count as
            # duplicates: the store already holds a row with that id
            lost = expected - written
            self.writer.update_batch(
                cur,
                self.batch_id,
                accepted=written,
                quarantined=len(bad_rows),
                skipped=skipped + lost,
            )
        if entries:
            w = self._csv_writer()
            for row, column, value, reason in entries:
                w.writerow(
                    (self.file.name, row, column or "", "" if value is None else value, reason)
                )
            self._csv_file.flush()
        self.accepted += written
        self.skipped += skipped + lost
        self.quarantined += len(bad_rows)

    def _column_position(self, header: str | None) -> int:
        """Order of a reported column in the file (whole-record problems first)."""
        if header is None or self._headers is None:
            return -1
        first = header.split(",")[0]
        return self._headers.index(first) if first in self._headers else len(self._headers)

    def _header(self, mapping: ColumnMapping, column: str | None) -> str | None:
        if column is None:
            return None
        if "," in column:
            return ",".join(mapping.columns.get(c, c) for c in column.split(","))
        return mapping.columns.get(column, column)

    def _shown(
        self, mapped: dict[str, pa.Array], problem: Problem, idx: np.ndarray
    ) -> list[str | None]:
        """The offending cell, never with a personal identifier in clear."""
        if problem.values is not None:
            return [problem.values[i] for i in idx.tolist()]
        if problem.column is None or len(idx) == 0:
            return [None] * len(idx)
        names = problem.column.split(",")
        parts = []
        for name in names:
            array = mapped.get(name)
            parts.append(
                [None] * len(idx) if array is None else pc.take(array, pa.array(idx)).to_pylist()
            )
        joined = [
            ",".join("" if v is None else str(v) for v in vs)
            if any(v is not None for v in vs)
            else None
            for vs in zip(*parts, strict=True)
        ]
        if problem.column in _PII_COLUMNS:
            return [_mask_any(v) for v in joined]
        return list(self.ctx.pseudonymiser.scrub_many(joined))

    # -- place -------------------------------------------------------------------------
    def _place(
        self,
        mapped: dict[str, pa.Array],
        conv: Converted,
        out: dict[str, Any],
        problems: list[Problem],
        n: int,
    ) -> None:
        from haizhou.ingest.kinds import floats

        lon_name, lat_name = conv.point  # type: ignore[misc]
        lon_raw = mapped.get(lon_name, pa.nulls(n, pa.string()))
        lat_raw = mapped.get(lat_name, pa.nulls(n, pa.string()))
        lon, bad_lon = floats(lon_raw)
        lat, bad_lat = floats(lat_raw)
        if bad_lon.any():
            problems.append(Problem(lon_name, bad_lon, "longitude is not a number"))
        if bad_lat.any():
            problems.append(Problem(lat_name, bad_lat, "latitude is not a number"))
        have = ~np.isnan(lon) & ~np.isnan(lat)
        out_range = have & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
        if out_range.any():
            problems.append(
                Problem(
                    f"{lon_name},{lat_name}",
                    out_range,
                    "coordinates out of range (lon −180..180, lat −90..90); are they swapped or projected?",
                )
            )
        ok = have & ~out_range
        if self.transformer is not None and ok.any():
            tlon, tlat = self.transformer.transform(lon[ok], lat[ok])
            lon[ok], lat[ok] = np.asarray(tlon, dtype=float), np.asarray(tlat, dtype=float)
        codes = np.full(n, None, dtype=object)
        if self.area is not None and ok.any():
            codes[ok] = self.area.locate(lon[ok], lat[ok])
            outside = ok & np.equal(codes, None)
            if self.area_check and outside.any():
                problems.append(
                    Problem(
                        f"{lon_name},{lat_name}",
                        outside,
                        "point outside the bureau's area (the union of the loaded jurisdictions); check the coordinates and --crs",
                    )
                )
        out["jurisdiction_code"] = pa.array(codes.tolist(), type=pa.string())
        out[_point_out(self.spec.name)[0]] = lon
        out[_point_out(self.spec.name)[1]] = lat
        levels = self.spec.has_h3_levels
        if levels:
            r7 = np.zeros(n, dtype=np.int64)
            r8 = np.zeros(n, dtype=np.int64)
            r9 = np.zeros(n, dtype=np.int64)
            if ok.any():
                c9 = cells_from_lonlat(lon[ok], lat[ok], 9)
                r9[ok] = c9
                r8[ok] = parent_cells(c9, 8)
                r7[ok] = parent_cells(c9, 7)
            for level, cells in ((7, r7), (8, r8), (9, r9)):
                if level in levels:
                    out[f"h3_r{level}"] = cells

    def _polygons(self, out: dict[str, Any], problems: list[Problem], n: int) -> None:
        import shapely

        texts = out["geometry"].to_pylist()
        geoms: list[str | None] = [None] * n
        bboxes = np.full((n, 4), np.nan)
        bad = np.zeros(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        for i, text in enumerate(texts):
            if text is None:
                continue
            try:
                geom = (
                    shapely.from_geojson(text)
                    if text.lstrip().startswith("{")
                    else shapely.from_wkt(text)
                )
            except Exception as exc:
                bad[i], reasons[i] = True, f"geometry cannot be read: {str(exc)[:80]}"
                continue
            if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
                bad[i], reasons[i] = (
                    True,
                    f"geometry must be a Polygon or MultiPolygon, got {geom.geom_type}",
                )
                continue
            if self.transformer is not None:
                geom = shapely.transform(
                    geom, lambda xy: np.column_stack(self.transformer.transform(xy[:, 0], xy[:, 1]))
                )
            if not geom.is_valid:
                bad[i], reasons[i] = (
                    True,
                    f"invalid polygon ({shapely.is_valid_reason(geom)}); fix it in a GIS",
                )
                continue
            minx, miny, maxx, maxy = geom.bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                bad[i], reasons[i] = (
                    True,
                    "polygon coordinates are not lon/lat degrees; export it in WGS-84",
                )
                continue
            geoms[i] = shapely.to_geojson(geom)
            bboxes[i] = (minx, miny, maxx, maxy)
        for reason in sorted({r for r in reasons if r}):
            mask = np.array([r == reason for r in reasons])
            problems.append(Problem("geometry", mask, reason, values=[None] * n))
        out["geometry"] = pa.array(geoms, type=pa.string())
        for j, name in enumerate(("min_lon", "min_lat", "max_lon", "max_lat")):
            out[name] = bboxes[:, j]

    # -- write -------------------------------------------------------------------------
    def _raw_rows(self, chunk: RawChunk, rows: set[int]) -> dict[int, str]:
        if not len(chunk):
            return {}
        idx = np.flatnonzero(np.isin(chunk.rows, np.fromiter(rows, dtype=np.int64)))
        if not len(idx):
            return {}
        take = pa.array(idx)
        cols = {h: pc.take(a, take).to_pylist() for h, a in chunk.columns.items()}
        mapping = self.mapping
        pii = {mapping.columns[c] for c in _PII_COLUMNS if mapping and c in mapping.columns}
        out: dict[int, str] = {}
        for j, i in enumerate(idx.tolist()):
            record = {}
            for h, values in cols.items():
                v = values[j]
                if v is None:
                    continue
                record[h] = _mask_any(v) if h in pii else v
            scrubbed = self.ctx.pseudonymiser.scrub_many([json.dumps(record, ensure_ascii=False)])[
                0
            ]
            out[int(chunk.rows[i])] = scrubbed
        return out

    def _table_data(
        self, out: dict[str, Any], source_id: pa.Array, hashes: np.ndarray, keep: np.ndarray
    ) -> tuple[pa.Table, dict[str, Any]]:
        """The kept rows as an Arrow table named and typed like the store table, and the
        columns constant over the batch (``source``, ``batch_id``).

        Timestamps become the UTC text the store reads back, NaN becomes null; on SQLite an
        all-null column is left out (it is NULL anyway).
        """
        everything = len(keep) == len(source_id)
        take = None if everything else pa.array(keep)
        arrays: dict[str, pa.Array] = {}
        key = "code" if self.spec.name == "jurisdictions" else "source_id"
        arrays[key] = _take(source_id, take).cast(pa.string())
        sqlite = self.writer.dialect == "sqlite"
        for name, values in out.items():
            if sqlite and isinstance(values, pa.Array) and values.null_count == len(values):
                continue
            arrays[name] = _as_arrow(values, keep, take, self.writer.dialect)
        kept = hashes if everything else hashes[keep]
        arrays["content_hash"] = pa.array(kept).cast(pa.string())
        constants: dict[str, Any] = {"source": self.source}
        if self.spec.name != "jurisdictions":
            constants["batch_id"] = self.batch_id
        return pa.table(arrays), constants

    def fail(self) -> None:
        """Mark the batch row failed (what was committed stays; a re-run completes it)."""
        try:
            if self.writer.dialect == "postgresql":
                self.writer.conn.rollback()
            if self.bulk:
                self.writer.ensure_indexes(self.spec.table)
            with self.writer.transaction() as cur:
                self.writer.update_batch(
                    cur,
                    self.batch_id,
                    accepted=0,
                    quarantined=0,
                    skipped=0,
                    status="failed",
                    finished_at=_utc_text(datetime.now(UTC)),
                )
        except Exception:
            pass

    def finish(self) -> None:
        if self.bulk:
            started = time.perf_counter()
            cpu = time.process_time() + self.writer.helper_cpu_seconds()
            self.writer.ensure_indexes(self.spec.table)
            self.timings["index_build_s"] = time.perf_counter() - started
            self.timings["index_build_cpu_s"] = (
                time.process_time() + self.writer.helper_cpu_seconds() - cpu
            )
        with self.writer.transaction() as cur:
            self.writer.update_batch(
                cur,
                self.batch_id,
                accepted=0,
                quarantined=0,
                skipped=0,
                status="done",
                finished_at=_utc_text(datetime.now(UTC)),
            )
            # earlier runs of this file that were killed are now complete
            p = self.writer.placeholder
            cur.execute(
                f"UPDATE import_batches SET status = {p} WHERE status = {p} AND kind = {p} "
                f"AND source = {p} AND file_sha256 = {p} AND id < {p}",
                [
                    "interrupted",
                    "running",
                    self.spec.name,
                    self.source,
                    self.file_sha,
                    self.batch_id,
                ],
            )


_PII_COLUMNS = {"caller_phone", "id_number", "suspect_ids"}


def _q(name: str) -> str:
    return f'"{name}"'


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:60] or "source"


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _point_out(kind: str) -> tuple[str, str]:
    return ("residence_lon", "residence_lat") if kind == "persons" else ("lon", "lat")


def _scrub_one(ctx: ConvertContext, value: str | None) -> str | None:
    if value is None:
        return None
    return ctx.pseudonymiser.scrub_many([value])[0]


def _mask_any(value: str | None) -> str | None:
    """Display form of a value from an identifier column that may not even be valid."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    keep = 3 if len(text) >= 11 else 1
    return (
        text[:keep] + "*" * (len(text) - keep - 4) + text[-4:]
        if len(text) > keep + 4
        else text[:1] + "*" * (len(text) - 1)
    )


def _take(array: pa.Array, take: pa.Array | None) -> pa.Array:
    return array if take is None else pc.take(array, take)


def _as_arrow(values: Any, keep: np.ndarray, take: pa.Array | None, dialect: str) -> pa.Array:
    """A column of the kept rows as the Arrow array the store takes (NaN → null,
    timestamps → UTC text: what UTCDateTime reads back on SQLite, with "+00" on PostgreSQL)."""
    if isinstance(values, np.ndarray):
        sub = values if take is None else values[keep]
        return pa.array(sub, from_pandas=True) if sub.dtype.kind == "f" else pa.array(sub)
    sub = _take(values, take)
    if pa.types.is_timestamp(sub.type):
        valid = pc.is_valid(sub)
        text = format_timestamps(sub.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
        if dialect != "sqlite":
            text = pc.binary_join_element_wise(text, "+00", "")
        return pc.if_else(valid, text, pa.scalar(None, pa.string()))
    return sub


def first_occurrence(ids: pa.Array) -> np.ndarray:
    """Position of the first occurrence of each value (nulls count as one value).

    ``first_occurrence(["a", "b", "a"])`` is ``[0, 1, 0]``: row ``i`` repeats an earlier row
    when the result differs from ``i``. Vectorised (dictionary encoding), no Python per row.
    """
    n = len(ids)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    encoded = pc.dictionary_encode(ids, null_encoding="encode")
    if len(encoded.dictionary) == n:  # every value distinct: the usual chunk of a file
        return np.arange(n, dtype=np.int64)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    _, first_at = np.unique(codes, return_index=True)
    first_index = np.empty(len(encoded.dictionary), dtype=np.int64)
    first_index[codes[first_at]] = first_at
    return first_index[codes]


def content_hash(out: dict[str, Any], n: int) -> np.ndarray:
    """128-bit hash (32 hex characters, as ``S32`` bytes) of each row's normalised content.

    The columns are joined per row as text (sorted by name, unit separator between them, NUL
    for null) and its UTF-8 bytes hashed twice with pandas' SipHash-based ``hash_array`` under
    two fixed keys.
    The stored ``content_hash`` tells an identical re-import from a conflicting one, so this
    algorithm must stay stable: changing it would mark every stored row as a conflict.

    Derived columns (H3 cells, owning jurisdiction) are left out so that re-importing the same
    record after the jurisdictions change is still recognised as the same record.
    """
    parts: list[pa.Array] = []
    for name in sorted(out):
        if name.startswith("h3_") or name in (
            "jurisdiction_code",
            "min_lon",
            "min_lat",
            "max_lon",
            "max_lat",
        ):
            continue
        values = out[name]
        array = pa.array(values, from_pandas=True) if isinstance(values, np.ndarray) else values
        if pa.types.is_timestamp(array.type):
            array = array.cast(pa.int64())
        parts.append(array.cast(pa.string()))
    if not parts:
        return np.full(n, b"0" * 32, dtype="S32")
    joined = pc.binary_join_element_wise(
        *parts, "\x1f", null_handling="replace", null_replacement="\x00"
    )
    # as bytes objects: cheaper to create than str, and hashed as they are (a str would be
    # encoded to the same UTF-8 bytes on each of the two passes), so the hash is unchanged
    objects = joined.cast(pa.binary()).to_numpy(zero_copy_only=False)
    a = pd.util.hash_array(objects, hash_key=_HASH_KEYS[0], categorize=False)
    b = pd.util.hash_array(objects, hash_key=_HASH_KEYS[1], categorize=False)
    both = np.stack([a, b], axis=1).astype(">u8").tobytes().hex().encode()
    return np.frombuffer(both, dtype="S32")


__all__ = [
    "CRS_CHOICES",
    "ImportSummary",
    "content_hash",
    "first_occurrence",
    "import_file",
    "restore_indexes",
]
