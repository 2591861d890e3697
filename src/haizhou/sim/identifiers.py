"""Fake personal identifiers (模拟身份标识): ID numbers, mobiles, device MACs and plates.

All of them are random but well-formed, so the importer's validation and pseudonymisation are
exercised: 18-digit resident ID numbers (居民身份证号码) carry a valid GB 11643-1999 check
character, mobiles start with 1[3-9], plates are Lianyungang plates (苏G).
"""

from __future__ import annotations

from datetime import date

import numpy as np

#: GB 11643-1999 weights of the first 17 digits, and check characters by (sum mod 11).
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK_CHARS = "10X98765432"
_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))


def id_check_char(first17: str) -> str:
    """Check character (校验码) of an ID number's first 17 digits.

    Parameters
    ----------
    first17 : str
        The 17 leading digits.

    Returns
    -------
    str
        One of ``0123456789X``.

    Examples
    --------
    >>> id_check_char("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"an ID number's first part must be 17 digits; got {first17!r}")
    total = sum(int(d) * int(w) for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    """True when ``value`` is 18 characters with a valid check character.

    Examples
    --------
    >>> is_valid_id_number("11010519491231002X")
    True
    >>> is_valid_id_number("110105194912310021")
    False
    """
    if len(value) != 18 or not value[:17].isdigit():
        return False
    return id_check_char(value[:17]) == value[17].upper()


def make_id_numbers(
    rng: np.random.Generator,
    region_codes: np.ndarray,
    birth_dates: np.ndarray,
    *,
    taken: set[str] | None = None,
) -> np.ndarray:
    """Unique fake ID numbers for given regions and birth dates.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the sequence digits.
    region_codes : array of str, shape (n,)
        Six-digit region codes.
    birth_dates : array of datetime64[D], shape (n,)
        Birth dates.
    taken : set of str, optional
        Numbers already in use; new numbers avoid them and are added to it.

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        Numbers with valid check characters, unique among themselves and ``taken``.
    """
    n = len(region_codes)
    taken = set() if taken is None else taken
    if n == 0:
        return np.empty(0, dtype="<U18")
    ymd = np.datetime_as_string(np.asarray(birth_dates, dtype="datetime64[D]"), unit="D")
    ymd = np.char.replace(ymd, "-", "")
    out = np.empty(n, dtype="<U18")
    todo = np.arange(n)
    for _ in range(50):
        seq = rng.integers(0, 1000, size=len(todo))
        first17 = np.char.add(
            np.char.add(np.asarray(region_codes)[todo].astype("<U6"), ymd[todo]),
            np.char.zfill(seq.astype("<U3"), 3),
        )
        digits = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17)
        total = (digits.astype(np.int64) - 48) @ ID_WEIGHTS
        check = np.array(list(ID_CHECK_CHARS))[total % 11]
        candidates = np.char.add(first17, check)
        retry = []
        for i, value in zip(todo, candidates, strict=True):
            value = str(value)
            if value in taken:
                retry.append(i)
            else:
                taken.add(value)
                out[i] = value
        if not retry:
            return out
        todo = np.array(retry)
    raise RuntimeError("could not draw unique ID numbers; too many people per birth date")


def birth_dates_for_ages(
    rng: np.random.Generator, ages_low: np.ndarray, ages_high: np.ndarray, on: date
) -> np.ndarray:
    """Birth dates giving an age in ``[ages_low, ages_high]`` on ``on`` (datetime64[D])."""
    ref = np.datetime64(on, "D")
    age_days = rng.integers(
        np.asarray(ages_low) * 365 + 1, (np.asarray(ages_high) + 1) * 365 - 1, endpoint=False
    )
    return ref - age_days.astype("timedelta64[D]")


def make_mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fake 11-digit mainland mobile numbers ``1[3-9]xxxxxxxxx`` (may repeat rarely)."""
    if n == 0:
        return np.empty(0, dtype="<U11")
    second = rng.integers(3, 10, size=n)
    rest = rng.integers(0, 10**9, size=n)
    return np.char.add(np.char.add("1", second.astype("<U1")), np.char.zfill(rest.astype("<U9"), 9))


def make_macs(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fake locally administered device MAC addresses (``02:xx:xx:xx:xx:xx``), unique."""
    if n == 0:
        return np.empty(0, dtype="<U17")
    values = rng.choice(2**40, size=n, replace=False)
    octets = [(values >> (8 * k)) & 0xFF for k in range(4, -1, -1)]
    parts = [np.char.zfill(np.char.upper(np.array([f"{v:x}" for v in o])), 2) for o in octets]
    out = np.full(n, "02", dtype="<U17")
    for part in parts:
        out = np.char.add(np.char.add(out, ":"), part)
    return out


def make_plates(rng: np.random.Generator, n: int) -> np.ndarray:
    """Fake Lianyungang plates ``苏G·`` + letter + 4 characters, unique."""
    if n == 0:
        return np.empty(0, dtype="<U8")
    first = _PLATE_LETTERS[rng.integers(0, len(_PLATE_LETTERS), size=n * 2)]
    num = rng.integers(0, 10**4, size=n * 2)
    plates = np.char.add(np.char.add("苏G·", first), np.char.zfill(num.astype("<U4"), 4))
    _, first_index = np.unique(plates, return_index=True)
    keep = np.sort(first_index)[:n]
    if len(keep) < n:
        raise RuntimeError("too many plates requested")
    return plates[keep]
