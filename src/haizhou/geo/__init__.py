"""Geography (地理): datums, local metric plane, H3 cells and the jurisdiction index.

Longitude comes first in every signature (``lon, lat``), in WGS-84 degrees unless a
:class:`Datum` says otherwise. Everything here is pure: arrays in, arrays out, no I/O, no
settings. See ``docs/gotchas.md`` for the traps (axis order, GCJ-02 / BD-09 shifts, H3 ids
as int vs str, thread safety).
"""

from haizhou.geo.h3cells import (
    H3_NULL,
    cell_boundaries_geojson,
    cell_resolutions,
    cells_from_lonlat,
    cells_from_str,
    cells_to_str,
    is_valid_cell,
    parent_cells,
)
from haizhou.geo.index import PolygonIndex
from haizhou.geo.projection import EARTH_RADIUS_M, LocalProjection, haversine_m
from haizhou.geo.transform import CoordTransformer, Datum, TransformDirection, out_of_china

__all__ = [
    "EARTH_RADIUS_M",
    "H3_NULL",
    "CoordTransformer",
    "Datum",
    "LocalProjection",
    "PolygonIndex",
    "TransformDirection",
    "cell_boundaries_geojson",
    "cell_resolutions",
    "cells_from_lonlat",
    "cells_from_str",
    "cells_to_str",
    "haversine_m",
    "is_valid_cell",
    "out_of_china",
    "parent_cells",
]
