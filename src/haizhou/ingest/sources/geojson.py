"""GeoJSON source (GeoJSON 要素集): a FeatureCollection (or one Feature) in WGS-84 by default.

Row numbers are 1-based feature numbers. Properties become columns; the geometry becomes a
``geometry`` column (GeoJSON text) and, for points, ``lon`` and ``lat``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from haizhou.errors import InputError
from haizhou.ingest.encoding import detect_encoding
from haizhou.ingest.sources._features import feature_chunks
from haizhou.ingest.sources.base import RawChunk, ReadOptions, SourceSpec

SOURCE = SourceSpec(
    name="geojson",
    suffixes=(".geojson", ".json"),
    description="GeoJSON FeatureCollection; properties are columns, polygons or points.",
)


def read(path: Path, *, options: ReadOptions) -> Iterator[RawChunk]:
    raw = path.read_bytes()
    encoding = options.encoding or detect_encoding(raw[: 1 << 20])
    try:
        document = json.loads(raw.decode(encoding))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not valid GeoJSON: {exc}", file=str(path)) from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        features: list[Any] = [document]
    elif isinstance(document, dict) and document.get("type") == "FeatureCollection":
        features = document.get("features") or []
    else:
        raise InputError(
            "expected a GeoJSON FeatureCollection or Feature at the top level", file=str(path)
        )
    crs = (document.get("crs") or {}).get("properties", {}).get("name", "")
    if crs and not any(tag in crs for tag in ("4326", "CRS84", "crs84")):
        raise InputError(
            f"the file declares CRS {crs!r}; GeoJSON must be WGS-84 lon/lat "
            "(use --crs gcj02 or bd09 for the Chinese offset systems)",
            file=str(path),
        )

    def items() -> Iterator[tuple[int, dict[str, Any], dict[str, Any] | None]]:
        for i, feature in enumerate(features, start=1):
            if not isinstance(feature, dict):
                yield i, {}, None
                continue
            yield i, dict(feature.get("properties") or {}), feature.get("geometry")

    yield from feature_chunks(items(), max(options.chunk_rows, 1))
