"""Ingest sources (数据源): one module per file format, each with ``SOURCE`` and ``read``.

Adding a format is one new module listed in :data:`BUILTIN`; third parties register modules
through the ``haizhou.sources`` entry-point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from pathlib import Path
from typing import cast

from haizhou.errors import InputError
from haizhou.ingest.sources.base import (
    RawChunk,
    ReadOptions,
    SourceModule,
    SourceProblem,
    SourceSpec,
)

BUILTIN = ("csv", "excel", "parquet", "geojson", "geopackage")

__all__ = [
    "BUILTIN",
    "RawChunk",
    "ReadOptions",
    "SourceModule",
    "SourceProblem",
    "SourceSpec",
    "all_sources",
    "source_for",
]


def all_sources() -> list[SourceModule]:
    """Built-in source modules, then those registered by entry point."""
    modules = [
        cast(SourceModule, importlib.import_module(f"haizhou.ingest.sources.{name}"))
        for name in BUILTIN
    ]
    for ep in entry_points(group="haizhou.sources"):
        modules.append(cast(SourceModule, ep.load()))
    return modules


def source_for(path: Path) -> SourceModule:
    """The source module that reads ``path``, chosen by its suffix."""
    suffix = path.suffix.lower()
    for module in all_sources():
        if suffix in module.SOURCE.suffixes:
            return module
    known = sorted({s for m in all_sources() for s in m.SOURCE.suffixes})
    raise InputError(
        f"no importer reads {suffix or 'files without a suffix'!r}; known: {', '.join(known)}",
        file=str(path),
    )
