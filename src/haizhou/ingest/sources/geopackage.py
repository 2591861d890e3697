"""GeoPackage source (GeoPackage 图层), read with the standard ``sqlite3`` module, no GDAL.

A GeoPackage geometry blob is ``b"GP"``, a version byte, a flags byte, the SRS id, an optional
envelope whose size the flags give, then standard WKB, which shapely decodes. Row numbers are
1-based feature numbers in the layer's primary-key order.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import shapely
import shapely.errors

from haizhou.errors import InputError
from haizhou.ingest.sources._features import feature_chunks
from haizhou.ingest.sources.base import RawChunk, ReadOptions, SourceSpec

SOURCE = SourceSpec(
    name="geopackage",
    suffixes=(".gpkg",),
    description="OGC GeoPackage feature layer (--layer, default the only one), WGS-84.",
)

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def gpkg_to_geojson(blob: bytes | None) -> dict[str, Any] | None:
    """Decode a GeoPackage geometry blob to a GeoJSON geometry mapping (None if empty)."""
    import shapely

    if blob is None:
        return None
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry (missing 'GP' magic)")
    flags = blob[3]
    if flags & 0b10000:  # empty geometry
        return None
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError("invalid envelope code in GeoPackage geometry flags")
    wkb = blob[8 + envelope :]
    return shapely.geometry.mapping(shapely.from_wkb(wkb))


def read(path: Path, *, options: ReadOptions) -> Iterator[RawChunk]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        layers = conn.execute(
            "SELECT c.table_name, g.column_name, c.srs_id FROM gpkg_contents c "
            "JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.table_name"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"not a GeoPackage ({exc})", file=str(path)) from None
    try:
        if not layers:
            raise InputError("the GeoPackage has no feature layer", file=str(path))
        names = [name for name, _, _ in layers]
        if options.layer is None:
            if len(layers) > 1:
                raise InputError(
                    f"the GeoPackage has several layers {names}; choose one with --layer",
                    file=str(path),
                )
            table, geom_col, srs_id = layers[0]
        else:
            match = [lay for lay in layers if lay[0] == options.layer]
            if not match:
                raise InputError(f"no layer {options.layer!r}; layers: {names}", file=str(path))
            table, geom_col, srs_id = match[0]
        if srs_id not in (4326, 0, -1):
            raise InputError(
                f"layer {table!r} uses SRS {srs_id}; export it in EPSG:4326 (WGS-84)",
                file=str(path),
            )
        cursor = conn.execute(f'SELECT * FROM "{table}"')  # table name from gpkg_contents
        columns = [d[0] for d in cursor.description]
        geom_index = columns.index(geom_col)

        def items() -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
            for i, record in enumerate(cursor, start=1):
                props = {
                    c: v
                    for j, (c, v) in enumerate(zip(columns, record, strict=True))
                    if j != geom_index and c != "fid"
                }
                try:
                    geometry = gpkg_to_geojson(record[geom_index])
                except (ValueError, struct.error, shapely.errors.GEOSException):
                    # an unreadable blob: the row is then rejected for its missing geometry
                    geometry = None
                yield i, props, geometry

        yield from feature_chunks(items(), max(options.chunk_rows, 1))
    finally:
        conn.close()
