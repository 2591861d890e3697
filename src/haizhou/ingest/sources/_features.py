"""Shared by the GeoJSON and GeoPackage sources: features (properties + geometry) to chunks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from haizhou.ingest.sources.base import RawChunk, to_string_array

GEOMETRY_COLUMN = "geometry"


def feature_chunks(
    features: Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]], chunk_rows: int
) -> Iterator[RawChunk]:
    """Chunks from ``(row, properties, geometry mapping)``; points also give ``lon``/``lat``."""
    batch: list[tuple[int, dict[str, Any], dict[str, Any] | None]] = []
    for item in features:
        batch.append(item)
        if len(batch) >= chunk_rows:
            yield _chunk(batch)
            batch = []
    if batch:
        yield _chunk(batch)


def _chunk(batch: list[tuple[int, dict[str, Any], dict[str, Any] | None]]) -> RawChunk:
    names: dict[str, None] = {}
    for _, props, _ in batch:
        names.update(dict.fromkeys(props))
    columns = {
        name: to_string_array([_text(props.get(name)) for _, props, _ in batch]) for name in names
    }
    geoms = [g for _, _, g in batch]
    columns[GEOMETRY_COLUMN] = to_string_array(
        [json.dumps(g, ensure_ascii=False) if g else None for g in geoms]
    )
    if any(g and g.get("type") == "Point" for g in geoms):
        for axis, name in ((0, "lon"), (1, "lat")):
            if name not in columns:
                columns[name] = to_string_array(
                    [
                        g["coordinates"][axis] if g and g.get("type") == "Point" else None
                        for g in geoms
                    ]
                )
    rows = np.asarray([r for r, _, _ in batch], dtype=np.int64)
    return RawChunk(columns=columns, rows=rows)


def _text(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
