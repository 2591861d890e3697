"""The small interface every ingest source implements (Home Assistant style).

A source module ``haizhou.ingest.sources.<name>`` holds ``SOURCE = SourceSpec(...)`` and
``read(path, *, options) -> Iterator[RawChunk]``. It only turns bytes into columns of strings
with their row numbers; mapping, validation, pseudonymisation and writing are the pipeline's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceSpec:
    """What a source reads (读取格式).

    Parameters
    ----------
    name
        Short name, e.g. ``"csv"``.
    suffixes
        File name endings it reads, lower case with the dot, e.g. ``(".csv", ".txt")``.
    description
        One line for ``--help`` and the docs.
    """

    name: str
    suffixes: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """Options a source may use; a source ignores what does not apply to it.

    Parameters
    ----------
    encoding
        Force a text encoding (CSV). ``None``: detect (BOM, UTF-8, else charset-normalizer,
        GB18030 for the GBK family).
    sheet
        Excel sheet name or 0-based index; ``None``: the first sheet.
    layer
        GeoPackage layer; ``None``: the only (or first) feature layer.
    chunk_rows
        Rows per chunk handed to the pipeline.
    """

    encoding: str | None = None
    sheet: str | int | None = None
    layer: str | None = None
    chunk_rows: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceProblem:
    """A row the source could not read at all (truncated line, wrong field count, bad bytes)."""

    row: int
    column: str | None
    value: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RawChunk:
    """Rows of one chunk as string columns.

    Parameters
    ----------
    columns
        Header (as written in the file) → ``pa.StringArray``; empty cells are null.
    rows
        1-based source row number of each row (int64): the spreadsheet row, where the
        header is row 1 and the first record row 2.
    problems
        Rows of this stretch of the file the source had to reject.
    """

    columns: dict[str, pa.Array]
    rows: np.ndarray
    problems: tuple[SourceProblem, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.rows)


class SourceModule(Protocol):
    SOURCE: SourceSpec

    def read(self, path: Path, *, options: ReadOptions) -> Iterator[RawChunk]: ...


def blank_to_null(array: pa.Array) -> pa.Array:
    """Trim whitespace; empty strings become null."""
    import pyarrow.compute as pc

    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = array.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def to_string_array(values: list[object]) -> pa.Array:
    """Cells of any Python type as a string array (None stays null; floats like 3.0 → "3")."""
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
        elif isinstance(value, float):
            if value != value:  # NaN
                out.append(None)
            elif value.is_integer() and abs(value) < 1e15:
                out.append(str(int(value)))
            else:
                out.append(repr(value))
        elif isinstance(value, bytes):
            out.append(value.decode("utf-8", errors="replace"))
        else:
            out.append(str(value))
    return blank_to_null(pa.array(out, type=pa.string()))
