"""Excel source (Excel 工作簿, .xlsx/.xls/.xlsm/.ods), read with python-calamine (no GDAL, fast).

Dates typed as dates arrive as ISO text; numbers that hold dates (Excel serials) stay numbers
and the time parser accepts them. Row numbers are the sheet's own row numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import numpy as np

from haizhou.errors import InputError
from haizhou.ingest.sources.base import RawChunk, ReadOptions, SourceSpec, to_string_array

SOURCE = SourceSpec(
    name="excel",
    suffixes=(".xlsx", ".xlsm", ".xls", ".ods"),
    description="Excel workbook: one sheet (--sheet, default the first), header in the first row.",
)


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    return value


def read(path: Path, *, options: ReadOptions) -> Iterator[RawChunk]:
    """Read one sheet as chunks of string columns."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise InputError(f"cannot open the workbook: {exc}", file=str(path)) from None
    sheets = workbook.sheet_names
    sheet = options.sheet if options.sheet is not None else 0
    if isinstance(sheet, str) and sheet.isdigit() and sheet not in sheets:
        sheet = int(sheet)
    if isinstance(sheet, int):
        if not 0 <= sheet < len(sheets):
            raise InputError(f"no sheet number {sheet}; the workbook has {sheets}", file=str(path))
        sheet = sheets[sheet]
    if sheet not in sheets:
        raise InputError(f"no sheet named {sheet!r}; the workbook has {sheets}", file=str(path))
    data = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    # skip leading empty rows; the first non-empty row is the header
    start = 0
    while start < len(data) and not any(str(c).strip() for c in data[start]):
        start += 1
    if start >= len(data):
        raise InputError(f"sheet {sheet!r} is empty", file=str(path))
    header = [str(c).strip() or f"column_{i + 1}" for i, c in enumerate(data[start])]
    body = data[start + 1 :]
    width = len(header)
    step = max(options.chunk_rows, 1)
    for offset in range(0, len(body), step):
        part = body[offset : offset + step]
        rows = np.arange(len(part), dtype=np.int64) + start + 2 + offset
        keep = [i for i, r in enumerate(part) if any(str(c).strip() for c in r)]
        part = [part[i] for i in keep]
        columns = {
            name: to_string_array(
                [_cell(r[i]) if i < len(r) and r[i] != "" else None for r in part]
            )
            for i, name in enumerate(header[:width])
        }
        yield RawChunk(columns=columns, rows=rows[keep])
