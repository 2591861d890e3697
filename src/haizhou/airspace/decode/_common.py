"""Small helpers every decoder shares: error objects, text fields, names tables.

Everything here is a pure function or an immutable constant: no state, no I/O.
"""

from __future__ import annotations

from typing import Any

#: Signed offset of Unix time at 2019-01-01T00:00:00Z, the epoch of F3411 Auth/System timestamps.
ODID_EPOCH_UNIX_S = 1546300800


def error(reason: str, message: bytes, protocol: str | None = None) -> dict[str, Any]:
    """The spec's error object (解码错误): ``{"error", "input"[, "protocol"]}``.

    ``input`` is the message in lowercase hex; the command line replaces it with the text as
    the user gave it (trimmed).
    """
    out: dict[str, Any] = {"error": reason, "input": message.hex()}
    if protocol is not None:
        out["protocol"] = protocol
    return out


def text_field(raw: bytes) -> str | None:
    """Bytes up to the first NUL, one Latin-1 character per byte; ``None`` when empty."""
    end = raw.find(0)
    if end >= 0:
        raw = raw[:end]
    return raw.decode("latin-1") if raw else None


def names(table: dict[int, str], size: int) -> tuple[str | None, ...]:
    """A lookup tuple of ``size`` entries: the name of each code, ``None`` outside ``table``."""
    return tuple(table.get(code) for code in range(size))
