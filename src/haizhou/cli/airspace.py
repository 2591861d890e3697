"""``haizhou airspace``: airspace security commands (空域安全); ``decode`` for now.

``haizhou airspace decode`` prints one JSON line per message exactly as
``shared/spec/airspace-decode.md`` defines (see ``docs/airspace.md``). Exit status: 0 when at
least one message decoded (or there was none), 1 when every message failed, 2 for a usage
error (unknown option, unreadable file, malformed ``--reference``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from haizhou.airspace.decode import StreamDecoder, parse_hex

app = typer.Typer(
    help="Airspace security (空域安全): decode Remote ID and ADS-B broadcasts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class DecodeFormat(StrEnum):
    auto = "auto"
    astm = "astm"
    gb46750 = "gb46750"
    adsb = "adsb"


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def _parse_reference(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise _usage_error(
            f"--reference must be LAT,LON in decimal degrees, e.g. 34.6,119.2; got {text!r}."
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise _usage_error(
            f"--reference {text!r} is outside latitude -90..90 / longitude -180..180."
        )
    return lat, lon


def _file_lines(handle: TextIO) -> Iterator[str]:
    for line in handle:
        text = line.strip()
        if text and not text.startswith("#"):
            yield text


def _emit(out: dict[str, Any], given: str, write: Any) -> bool:
    """Write one JSON line; returns whether the message decoded."""
    ok = "error" not in out
    if not ok:
        out["input"] = given
    try:
        line = json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a non-finite number must never reach the feed
        ok = False
        line = json.dumps({"error": "decoded value is not a finite number", "input": given})
    write(line + "\n")
    return ok


@app.callback()
def airspace() -> None:
    """Airspace security (空域安全) commands."""


@app.command()
def decode(
    messages: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="HEX...", help="Messages as hexadecimal digits, one message per argument."
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Read one hex message per line ('-' for stdin); blank and '#' lines skipped.",
        ),
    ] = None,
    format: Annotated[
        DecodeFormat,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="Decoder: auto (by header and length), astm (F3411), gb46750, adsb.",
        ),
    ] = DecodeFormat.auto,
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            metavar="LAT,LON",
            help="Receiver position for local ADS-B CPR decoding, e.g. 34.6,119.2.",
        ),
    ] = None,
) -> None:
    """Decode Remote ID (ASTM F3411, GB 46750) and ADS-B messages to JSON Lines (报文解码).

    Prints one JSON object per message, in input order, on stdout. A message that cannot be decoded gives {"error": ..., "input": ...} and the stream goes on.

    Without --reference, ADS-B positions are resolved by pairing even/odd messages of each aircraft across the input. Exit status: 0 if any message decoded (or none was given), 1 if all failed, 2 for usage errors.
    """
    ref = _parse_reference(reference) if reference is not None else None
    if messages and file is not None:
        raise _usage_error("give HEX arguments or --file, not both.")
    if not messages and file is None:
        raise _usage_error("nothing to decode: give HEX arguments or --file FILE (or - for stdin).")
    decoder = StreamDecoder(format=format.value, reference=ref)
    stdout = sys.stdout
    write = stdout.write
    decoded = failed = 0

    def run(lines: Iterator[str] | list[str]) -> None:
        nonlocal decoded, failed
        for given in lines:
            text = given.strip()
            raw = parse_hex(text)
            if raw is None:
                out: dict[str, Any] = {
                    "error": "not a hex message: expected an even number of hex digits",
                }
            else:
                out = decoder.decode(raw)
            if _emit(out, text, write):
                decoded += 1
            else:
                failed += 1

    if file is None:
        run(messages or [])
    elif file == "-":
        run(_file_lines(sys.stdin))
    else:
        path = Path(file)
        try:
            handle = path.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise _usage_error(f"cannot read --file {file}: {exc.strerror or exc}.") from None
        with handle:
            try:
                run(_file_lines(handle))
            except OSError as exc:
                raise _usage_error(f"cannot read --file {file}: {exc.strerror or exc}.") from None
    stdout.flush()
    if failed and not decoded:
        raise typer.Exit(1)
