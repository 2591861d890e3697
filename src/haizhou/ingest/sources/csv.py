"""CSV source (CSV 文件): UTF-8 (with or without BOM), GB18030/GBK, mixed files, UTF-16.

The file is cut into blocks on record boundaries (a newline outside quotes) and each block is
parsed by the Arrow CSV reader as raw bytes, so the parse is multi-threaded and no cell is
lost to a decoding error. Cells are then decoded column by column: UTF-8 first (vectorised);
cells that are not UTF-8 fall back to the detected encoding, which makes files that mix UTF-8
and GBK lines readable. A block with a malformed record (wrong field count, e.g. a truncated
last line) is re-read with the standard ``csv`` module so every bad record is reported with
its row number while the good ones still load.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from haizhou.errors import InputError
from haizhou.ingest.encoding import detect_encoding, normalise_encoding
from haizhou.ingest.sources.base import (
    RawChunk,
    ReadOptions,
    SourceProblem,
    SourceSpec,
    blank_to_null,
)

SOURCE = SourceSpec(
    name="csv",
    suffixes=(".csv", ".txt", ".tsv"),
    description="Comma-separated text in UTF-8 or GB18030/GBK (detected), one header row.",
)

_SAMPLE_BYTES = 1 << 20
# Characters a GBK byte pair can turn into when wrongly read as UTF-8 (U+0080..U+07FF).
_SUSPECT_UTF8 = "[\u0080-\u07ff]"


def read(path: Path, *, options: ReadOptions) -> Iterator[RawChunk]:
    """Read a CSV file as chunks of string columns.

    Parameters
    ----------
    path
        The file.
    options
        ``encoding`` forces a codec (no fallback: undecodable cells are rejected);
        ``chunk_rows`` sets the approximate rows per chunk.
    """
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
    if options.encoding:
        encoding, forced = normalise_encoding(options.encoding), True
        if encoding == "utf_8" and sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    else:
        encoding, forced = detect_encoding(sample), False
    encoding = codecs.lookup(encoding).name
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    blocks = _byte_blocks(path, encoding)
    decoder = _CellDecoder(encoding, forced=forced)
    first = next(blocks, b"")
    header_end = _record_end(first)
    if header_end < 0 and not first.strip():
        raise InputError("the file is empty; expected a header row", file=str(path))
    if header_end < 0 and b"\r" in first.rstrip(b"\r"):
        raise InputError(
            "rows end with a bare carriage return (old Mac CSV); save the file as CSV with "
            "LF or CRLF line ends (行尾只有 CR，请另存为标准 CSV)",
            file=str(path),
        )
    header_bytes = first[: header_end + 1] if header_end >= 0 else first
    header = decoder.decode_header(header_bytes, delimiter)
    if not any(header):
        raise InputError("the first row is empty; expected a header row", file=str(path))
    names = _unique_names(header)
    avg_row = max(len(sample) / max(sample.count(b"\n"), 1), 16.0)
    target_bytes = int(min(max(options.chunk_rows * avg_row, 1 << 16), 256 << 20))
    pending = first[header_end + 1 :] if header_end >= 0 else b""
    next_row = 2
    for block in _record_blocks(pending, blocks, target_bytes):
        chunk, consumed = _parse_block(block, names, next_row, decoder, delimiter, str(path))
        next_row += consumed
        if len(chunk) or chunk.problems:
            yield chunk


# ----------------------------------------------------------------------------- framing


def _undecodable(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: an undecodable UTF-16/32 sequence becomes the byte 0xFF in the
    UTF-8 transcoding (never valid UTF-8 nor GB18030), so its cell is quarantined as
    undecodable instead of the whole import failing (a file cut mid-character, a lone
    surrogate)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\udcff", exc.end


_UNDECODABLE = "haizhou.ingest.undecodable"
codecs.register_error(_UNDECODABLE, _undecodable)


def _byte_blocks(path: Path, encoding: str, size: int = 8 << 20) -> Iterator[bytes]:
    """The file's bytes in blocks; UTF-16/32 files are transcoded to UTF-8 on the way."""
    if encoding.startswith(("utf-16", "utf-32")):
        with path.open("r", encoding=encoding, errors=_UNDECODABLE, newline="") as fh:
            while text := fh.read(size):
                yield text.encode("utf-8", errors="surrogateescape")
        return
    with path.open("rb") as fh:
        head = fh.read(size)
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8) :]
        if head:
            yield head
        while data := fh.read(size):
            yield data


def _record_end(data: bytes, start: int = 0) -> int:
    """Index of the first newline at or after ``start`` that ends a record (outside quotes)."""
    pos = start
    quotes = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return -1
        quotes += data.count(b'"', pos, nl)
        if quotes % 2 == 0:
            return nl
        pos = nl + 1


def _last_record_end(data: bytes | bytearray, limit: int) -> int:
    """Index of the last newline before ``limit`` that ends a record (outside quotes), or -1.

    ``data`` starts at a record boundary, so a newline is outside quotes exactly when the
    number of quote characters before it is even (RFC 4180 doubles quotes inside fields).
    """
    total = data.count(b'"', 0, limit)
    nl = data.rfind(b"\n", 0, limit)
    while nl >= 0:
        before = total - data.count(b'"', nl, limit)
        if before % 2 == 0:
            return nl
        nl = data.rfind(b"\n", 0, nl)
    return -1


def _record_blocks(pending: bytes, blocks: Iterator[bytes], target: int) -> Iterator[bytes]:
    buffer = bytearray(pending)
    for data in blocks:
        buffer += data
        while len(buffer) >= target:
            cut = _last_record_end(buffer, target)
            if cut < 0:
                cut = _record_end(bytes(buffer), 0)
                if cut < 0:
                    break  # one record longer than the block: read more
            yield bytes(buffer[: cut + 1])
            del buffer[: cut + 1]
    if buffer.strip():
        yield bytes(buffer)


# ----------------------------------------------------------------------------- parsing


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header):
        name = raw.strip().strip("\ufeff") or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _parse_block(
    block: bytes,
    names: list[str],
    first_row: int,
    decoder: _CellDecoder,
    delimiter: str,
    file: str,
) -> tuple[RawChunk, int]:
    """Parse one block; returns the chunk and the number of records it held."""
    if block.count(b'"') % 2:
        # only the file's last block can end inside quotes: a field opened and never closed
        return _parse_block_slowly(block, names, first_row, decoder, delimiter, unterminated=True)
    # A row with the wrong number of fields makes arrow raise, and the block goes the slow
    # way (which quarantines it). No invalid_row_handler: arrow decodes the row's text as
    # UTF-8 before calling one, and prints "Exception ignored" for GBK or undecodable rows.
    invalid: list[str] = []
    keys = [f"c{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(block),
            read_options=pacsv.ReadOptions(column_names=keys, block_size=4 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(keys, pa.binary()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        invalid.append("<unparseable>")
        table = None
    if invalid or table is None:
        return _parse_block_slowly(block, names, first_row, decoder, delimiter)
    n = table.num_rows
    rows = np.arange(first_row, first_row + n, dtype=np.int64)
    columns: dict[str, pa.Array] = {}
    problems: list[SourceProblem] = []
    bad = np.zeros(n, dtype=bool)
    for key, name in zip(keys, names, strict=True):
        array, undecodable = decoder.decode_column(table.column(key).combine_chunks())
        columns[name] = array
        for index in undecodable:
            if not bad[index]:
                problems.append(
                    SourceProblem(
                        row=int(rows[index]),
                        column=name,
                        value=None,
                        reason=f"cell cannot be decoded as {decoder.encoding}; "
                        "re-save the file in UTF-8 or pass --encoding",
                    )
                )
            bad[index] = True
    if bad.any():
        keep = pa.array(~bad)
        columns = {k: v.filter(keep) for k, v in columns.items()}
        rows = rows[~bad]
    return RawChunk(columns=columns, rows=rows, problems=tuple(problems)), n


def _parse_block_slowly(
    block: bytes,
    names: list[str],
    first_row: int,
    decoder: _CellDecoder,
    delimiter: str,
    *,
    unterminated: bool = False,
) -> tuple[RawChunk, int]:
    """Record-by-record parse of a block holding malformed records, with exact row numbers.

    ``unterminated``: the block ends inside a quoted field, so its last record is rejected.
    """
    text = block.decode("latin-1")  # bijective on bytes: cells are re-encoded below
    good_rows: list[int] = []
    cells: list[list[bytes]] = [[] for _ in names]
    problems: list[SourceProblem] = []
    row = first_row
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records = [r for r in reader if r and r != [""]]
    for k, record in enumerate(records):
        if unterminated and k == len(records) - 1:
            column = names[min(len(record), len(names)) - 1]
            problems.append(
                SourceProblem(
                    row=row,
                    column=column,
                    value=decoder.decode_bytes(record[-1].encode("latin-1"))[:200],
                    reason="quoted field never closed at the end of the file "
                    "(was the file cut short?)",
                )
            )
        elif len(record) != len(names):
            preview = decoder.decode_bytes(delimiter.join(record).encode("latin-1"))[:200]
            kind = "truncated or incomplete" if len(record) < len(names) else "has extra fields"
            problems.append(
                SourceProblem(
                    row=row,
                    column=None,
                    value=preview,
                    reason=f"record {kind}: {len(record)} fields, expected {len(names)} "
                    "(check quoting and the end of the file)",
                )
            )
        else:
            good_rows.append(row)
            for i, value in enumerate(record):
                cells[i].append(value.encode("latin-1"))
        row += 1
    rows = np.asarray(good_rows, dtype=np.int64)
    columns: dict[str, pa.Array] = {}
    bad = np.zeros(len(rows), dtype=bool)
    for name, values in zip(names, cells, strict=True):
        array, undecodable = decoder.decode_column(pa.array(values, type=pa.binary()))
        columns[name] = array
        for index in undecodable:
            if not bad[index]:
                problems.append(
                    SourceProblem(
                        row=int(rows[index]),
                        column=name,
                        value=None,
                        reason=f"cell cannot be decoded as {decoder.encoding}; "
                        "re-save the file in UTF-8 or pass --encoding",
                    )
                )
            bad[index] = True
    if bad.any():
        keep = pa.array(~bad)
        columns = {k: v.filter(keep) for k, v in columns.items()}
        rows = rows[~bad]
    problems.sort(key=lambda p: p.row)
    return RawChunk(columns=columns, rows=rows, problems=tuple(problems)), row - first_row


# ----------------------------------------------------------------------------- decoding


class _CellDecoder:
    """Decodes byte cells: UTF-8 first, then the file's other encoding (unless forced)."""

    def __init__(self, encoding: str, *, forced: bool) -> None:
        self.encoding = encoding
        base = encoding.replace("_", "-")
        self.utf8_first = base.startswith(("utf-8", "utf-16", "utf-32")) or not forced
        if base.startswith(("utf-8", "utf-16", "utf-32")):
            self.fallback: str | None = None if forced else "gb18030"
        else:
            self.fallback = encoding
        self.gb_file = self.fallback == "gb18030" and not base.startswith("utf")

    def decode_bytes(self, raw: bytes) -> str:
        for codec in self._order():
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", errors="replace")

    def decode_header(self, raw: bytes, delimiter: str) -> list[str]:
        text = self.decode_bytes(raw.rstrip(b"\r\n")).lstrip("\ufeff")
        try:
            return next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error as exc:
            raise InputError(f"the header row cannot be read as CSV: {exc}") from None

    def _order(self) -> list[str]:
        order = ["utf-8"] if self.utf8_first else []
        if self.fallback:
            order.append(self.fallback)
        return order

    def decode_column(self, array: pa.Array) -> tuple[pa.Array, list[int]]:
        """Decode a binary column; returns the string array and indices that failed."""
        if self.utf8_first:
            try:
                decoded = array.cast(pa.string())
            except pa.ArrowInvalid:
                decoded = None
            if decoded is not None:
                if self.gb_file:
                    decoded = self._repair_gb(array, decoded)
                return blank_to_null(decoded), []
        out: list[str | None] = []
        failed: list[int] = []
        order = self._order()
        for i, raw in enumerate(array.to_pylist()):
            for codec in order:
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError:
                    continue
                if self.gb_file and codec == "utf-8" and not text.isascii():
                    text = _prefer_gb(raw, text)
                out.append(text)
                break
            else:
                out.append(None)
                failed.append(i)
        return blank_to_null(pa.array(out, type=pa.string())), failed

    def _repair_gb(self, raw: pa.Array, decoded: pa.Array) -> pa.Array:
        """In a GB18030 file, short GBK text can also be valid UTF-8 (as Latin/Cyrillic
        letters); read such cells as GB18030 when that gives CJK text."""
        suspect = pc.match_substring_regex(decoded, _SUSPECT_UTF8)
        if not pc.any(suspect).as_py():
            return decoded
        values = decoded.to_pylist()
        raws = raw.to_pylist()
        for i in np.flatnonzero(suspect.to_numpy(zero_copy_only=False)):
            values[i] = _prefer_gb(raws[i], values[i])
        return pa.array(values, type=pa.string())


def _prefer_gb(raw: bytes, text: str) -> str:
    """``text`` (read as UTF-8) or, if it looks like GBK misread, the GB18030 reading."""
    if not any("\u0080" <= ch <= "\u07ff" for ch in text):
        return text
    try:
        alt = raw.decode("gb18030")
    except UnicodeDecodeError:
        return text
    return alt if any("\u4e00" <= ch <= "\u9fff" for ch in alt) else text
