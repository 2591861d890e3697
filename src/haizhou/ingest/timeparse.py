"""Vectorised time parsing (时间解析) for the forms police exports use.

Accepted, per cell: ISO 8601 with or without offset (``2024-01-02T03:04:05+08:00``, ``…Z``),
``YYYY-MM-DD HH:MM[:SS[.ffffff]]``, ``YYYY/MM/DD …``, ``2024年1月2日 3时4分[5秒]``,
``YYYYMMDD[HHMMSS]``, and Excel serial day numbers (``45293.5``; 1900 date system). Times
without an offset are in the bureau's zone and converted to UTC. The whole column is parsed
with Arrow and NumPy; no Python loop runs per cell.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_PATTERN = (
    r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?: +(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r" *(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_COMPACT = r"^(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?:(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})?)?$"
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_CANONICAL = "%Y-%m-%d %H:%M:%S"
_EXCEL_EPOCH_US = int(pd.Timestamp("1899-12-30").value // 1000)
_US_PER_DAY = 86_400_000_000


def _normalise(text: pa.Array) -> pa.Array:
    text = pc.utf8_trim_whitespace(text)
    for old, new in (
        ("年", "-"),
        ("月", "-"),
        ("日", " "),
        ("号", " "),
        ("时", ":"),
        ("点", ":"),
        ("分", ":"),
        ("秒", ""),
        ("/", "-"),
        ("T", " "),
        ("\u3000", " "),
    ):
        text = pc.replace_substring(text, old, new)
    text = pc.replace_substring_regex(text, r" {2,}", " ")
    # "3时4分" → "3:4:" ; drop the dangling colon and the trailing space of "2日"
    text = pc.replace_substring_regex(text, r":(\s|$)", r"\1")
    return pc.utf8_trim_whitespace(text)


def _int(struct: pa.StructArray, field: str, default: int | None = None) -> np.ndarray:
    values = pc.struct_field(struct, field)
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    out = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    if default is not None:
        out = np.where(np.isnan(out), default, out) if out.dtype.kind == "f" else out
    return out


def format_timestamps(us: np.ndarray, *, fraction: bool = True) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` text of µs-since-epoch values, vectorised.

    Arrow's and NumPy's formatters cost about 2 µs a value. For years 0–9999 every text has
    the same width, so the digits are computed with integer arithmetic into one byte matrix
    that becomes the string array's data buffer directly (no Python object per value).

    Parameters
    ----------
    us
        Microseconds since 1970-01-01 (int64, any shape; flattened).
    fraction
        Append ``.ffffff``; False: whole seconds (the fraction is dropped, not rounded).

    Returns
    -------
    pa.StringArray
    """
    us = np.asarray(us, dtype=np.int64).ravel()
    days, tod = np.divmod(us, _US_PER_DAY)
    y, mo, d = _civil_from_days(days)
    if len(us) and (y.min() < 0 or y.max() > 9999):
        return _format_timestamps_unique(days, tod, fraction=fraction)
    secs, micro = np.divmod(tod, 1_000_000)
    fields = [(y, 4), (mo, 2), (d, 2), (secs // 3600, 2), (secs // 60 % 60, 2), (secs % 60, 2)]
    if fraction:
        fields.append((micro, 6))
    width = 26 if fraction else 19
    out = np.empty((len(us), width), dtype=np.uint8)
    for pos, sep in _SEPARATORS[: 6 if fraction else 5]:
        out[:, pos] = ord(sep)
    pos = 0
    for values, digits in fields:
        for k in range(digits - 1, -1, -1):
            out[:, pos + k] = 48 + values % 10
            values = values // 10
        pos += digits + 1
    large = (len(us) + 1) * width > np.iinfo(np.int32).max
    offsets = np.arange(0, (len(us) + 1) * width, width, dtype=np.int64 if large else np.int32)
    kind = pa.LargeStringArray if large else pa.StringArray
    return kind.from_buffers(len(us), pa.py_buffer(offsets), pa.py_buffer(out))


_SEPARATORS = ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"), (19, "."))


def _civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proleptic Gregorian (year, month, day) of days since 1970-01-01 (H. Hinnant's
    algorithm, the inverse of :func:`_days_from_civil`)."""
    z = days + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def _format_timestamps_unique(days: np.ndarray, tod: np.ndarray, *, fraction: bool) -> pa.Array:
    """:func:`format_timestamps` for any year NumPy formats: each distinct day and time of
    day formatted once and the text assembled with Arrow string kernels."""
    if not fraction:
        tod = tod - tod % 1_000_000
    u_days, i_days = np.unique(days, return_inverse=True)
    u_tod, i_tod = np.unique(tod, return_inverse=True)
    day_text = np.datetime_as_string(u_days.astype("datetime64[D]"), unit="D")
    tod_text = np.datetime_as_string(u_tod.astype("datetime64[us]"), unit="us" if fraction else "s")
    tod_text = np.char.partition(tod_text, "T")[:, 2]
    return pc.binary_join_element_wise(
        pc.take(pa.array(day_text), pa.array(i_days.ravel())),
        pc.take(pa.array(tod_text), pa.array(i_tod.ravel())),
        " ",
    )


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(m, 1, 12) - 1]
    return base + ((m == 2) & leap)


def _parse_general(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every accepted form: returns µs since the epoch (wall time), ok, has-offset, offset min."""
    n = len(values)
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    text = _normalise(values)
    parts = pc.extract_regex(text, _PATTERN)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    us = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    has_offset = np.zeros(n, dtype=bool)
    offset_min = np.zeros(n, dtype=np.int64)
    if matched.any():
        parts_filled = parts.fill_null(
            dict.fromkeys(("y", "mo", "d", "h", "mi", "s", "f", "tz"), "")
        )
        y = _int(parts_filled, "y", 0)
        mo = _int(parts_filled, "mo", 1)
        d = _int(parts_filled, "d", 1)
        h = _int(parts_filled, "h", 0)
        mi = _int(parts_filled, "mi", 0)
        s = _int(parts_filled, "s", 0)
        y, mo, d, h, mi, s = (np.nan_to_num(a).astype(np.int64) for a in (y, mo, d, h, mi, s))
        frac = pc.struct_field(parts_filled, "f")
        frac = pc.utf8_slice_codeunits(pc.binary_join_element_wise(frac, "000000", ""), 0, 6)
        f = frac.cast(pa.int64()).to_numpy(zero_copy_only=False)
        tz = pc.struct_field(parts_filled, "tz")
        tz_sign = pc.if_else(pc.starts_with(tz, "-"), -1, 1).to_numpy(zero_copy_only=False)
        tz_digits = pc.replace_substring_regex(tz, r"[^0-9]", "")
        tz_h = pc.utf8_slice_codeunits(tz_digits, 0, 2)
        tz_m = pc.utf8_slice_codeunits(tz_digits, 2, 4)
        tz_h = (
            pc.if_else(pc.equal(tz_h, ""), "0", tz_h)
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
        )
        tz_m = (
            pc.if_else(pc.equal(tz_m, ""), "0", tz_m)
            .cast(pa.int64())
            .to_numpy(zero_copy_only=False)
        )
        has_offset = matched & pc.not_equal(tz, "").fill_null(False).to_numpy(zero_copy_only=False)
        offset_min = tz_sign * (tz_h * 60 + tz_m)
        valid = (
            matched
            & (mo >= 1)
            & (mo <= 12)
            & (d >= 1)
            & (d <= _days_in_month(y, mo))
            & (h <= 23)
            & (mi <= 59)
            & (s <= 59)
            & (y >= 1900)
            & (y <= 2200)
            & (tz_h <= 14)
            & (tz_m <= 59)
        )
        days = _days_from_civil(y, mo, d)
        us = np.where(
            valid,
            days * _US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1_000_000 + f,
            0,
        )
        ok = valid
    rest = present & ~matched
    if rest.any():
        compact = pc.extract_regex(text, _COMPACT)
        c_ok = pc.is_valid(compact).to_numpy(zero_copy_only=False) & rest
        if c_ok.any():
            cf = compact.fill_null(dict.fromkeys(("y", "mo", "d", "h", "mi", "s"), ""))
            y, mo, d, h, mi, s = (
                np.nan_to_num(_int(cf, k, 0)).astype(np.int64)
                for k in ("y", "mo", "d", "h", "mi", "s")
            )
            valid = (
                c_ok
                & (mo >= 1)
                & (mo <= 12)
                & (d >= 1)
                & (d <= _days_in_month(y, mo))
                & (h <= 23)
                & (mi <= 59)
                & (s <= 59)
                & (y >= 1900)
            )
            us = np.where(
                valid,
                _days_from_civil(y, mo, d) * _US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1_000_000,
                us,
            )
            ok |= valid
        serial = (
            pc.match_substring_regex(text, _SERIAL).fill_null(False).to_numpy(zero_copy_only=False)
            & rest
            & ~ok
        )
        if serial.any():
            days_f = pc.if_else(pa.array(serial), text, pa.scalar(None, pa.string())).cast(
                pa.float64()
            )
            days_f = np.nan_to_num(days_f.to_numpy(zero_copy_only=False))
            valid = serial & (days_f >= 1) & (days_f < 2958466)
            # 1 µs rounding of the fraction of the day
            us = np.where(
                valid, _EXCEL_EPOCH_US + np.rint(days_f * _US_PER_DAY).astype(np.int64), us
            )
            ok |= valid
    return us, ok, has_offset, offset_min


def parse_times(values: pa.Array, zone: str) -> tuple[pa.Array, np.ndarray]:
    """Parse a string column to UTC timestamps.

    Parameters
    ----------
    values
        ``pa.StringArray``; nulls stay null and are not errors.
    zone
        IANA zone of times written without an offset, e.g. ``"Asia/Shanghai"``.

    Returns
    -------
    times
        ``timestamp[us, tz=UTC]`` array, null where missing or invalid.
    invalid
        Boolean mask of cells that were present but could not be parsed.

    Examples
    --------
    >>> t, bad = parse_times(pa.array(["2024年1月2日 3时4分", "2024-01-02T03:04:05Z", "x", None]),
    ...                      "Asia/Shanghai")
    >>> [v.isoformat() if v else v for v in t.to_pylist()], bad.tolist()
    (['2024-01-01T19:04:00+00:00', '2024-01-02T03:04:05+00:00', None, None], [False, False, True, False])
    """
    n = len(values)
    values = values.cast(pa.string())
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    # Fast path for the canonical form: Arrow's strptime, checked by formatting back (strptime
    # alone would roll 2024-02-30 over into March).
    fast = pc.strptime(values, format=_CANONICAL, unit="s", error_is_null=True)
    us = fast.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False) * 1_000_000
    back = format_timestamps(us, fraction=False)
    fast_ok_np = (
        pc.and_(pc.is_valid(fast), pc.equal(back, values))
        .fill_null(False)
        .to_numpy(zero_copy_only=False)
    )
    ok = fast_ok_np.copy()
    has_offset = np.zeros(n, dtype=bool)
    offset_min = np.zeros(n, dtype=np.int64)
    rest = np.flatnonzero(present & ~fast_ok_np)
    if len(rest):
        g_us, g_ok, g_has, g_off = _parse_general(pc.take(values, pa.array(rest)))
        us[rest], ok[rest], has_offset[rest], offset_min[rest] = g_us, g_ok, g_has, g_off
    naive = ok & ~has_offset
    utc = us - np.where(ok & has_offset, offset_min * 60_000_000, 0)
    if naive.any():
        local = pd.DatetimeIndex(us[naive].astype("datetime64[us]"))
        converted = local.tz_localize(
            ZoneInfo(zone), ambiguous="NaT", nonexistent="NaT"
        ).tz_convert("UTC")
        conv_us = (
            converted.tz_localize(None).asi8
            if converted.unit == "us"
            else (converted.tz_localize(None).as_unit("us").asi8)
        )
        bad_local = np.asarray(converted.isna())
        sub = np.flatnonzero(naive)
        utc[sub] = conv_us
        ok[sub[bad_local]] = False
    invalid = present & ~ok
    times = pa.array(utc, type=pa.timestamp("us", tz="UTC"), mask=~ok)
    return times, invalid
