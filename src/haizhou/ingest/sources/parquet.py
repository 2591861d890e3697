"""Parquet source (Parquet 列式文件), streamed by row group with pyarrow.

Typed columns are turned into text so one validation path serves every format; timestamps
keep their zone (a zone-less timestamp is read in the bureau's zone, like naive text).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from haizhou.errors import InputError
from haizhou.ingest.sources.base import RawChunk, ReadOptions, SourceSpec, blank_to_null

SOURCE = SourceSpec(
    name="parquet",
    suffixes=(".parquet", ".pq"),
    description="Apache Parquet table with the canonical or aliased column names.",
)


def column_as_text(array: pa.Array) -> pa.Array:
    """Any Arrow column as trimmed text, null for empty."""
    t = array.type
    if pa.types.is_timestamp(t):
        fmt = "%Y-%m-%dT%H:%M:%S%z" if t.tz else "%Y-%m-%d %H:%M:%S"
        if t.tz:
            array = array.cast(pa.timestamp(t.unit, "UTC"))
        return blank_to_null(pc.strftime(array, format=fmt))
    if pa.types.is_date(t):
        return blank_to_null(pc.strftime(array.cast(pa.timestamp("s")), format="%Y-%m-%d"))
    if pa.types.is_floating(t):
        # 3.0 → "3" so an id typed as float reads like the CSV it came from
        as_int = pc.if_else(
            pc.and_(pc.is_finite(array), pc.equal(pc.floor(array), array)),
            pc.cast(pc.floor(array), pa.int64(), safe=False).cast(pa.string()),
            array.cast(pa.string()),
        )
        return blank_to_null(pc.if_else(pc.is_nan(array), pa.scalar(None, pa.string()), as_int))
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return blank_to_null(array.cast(pa.string()))
    if pa.types.is_dictionary(t):
        return column_as_text(array.cast(t.value_type))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return blank_to_null(array.cast(pa.string()))
    return blank_to_null(array.cast(pa.string()))


def read(path: Path, *, options: ReadOptions) -> Iterator[RawChunk]:
    try:
        parquet = pq.ParquetFile(str(path))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", file=str(path)) from None
    row = 2
    for batch in parquet.iter_batches(batch_size=max(options.chunk_rows, 1)):
        columns = {
            name: column_as_text(batch.column(i)) for i, name in enumerate(batch.schema.names)
        }
        rows = np.arange(row, row + batch.num_rows, dtype=np.int64)
        row += batch.num_rows
        yield RawChunk(columns=columns, rows=rows)
