"""Pseudonymisation of personal identifiers (个人身份信息假名化).

ID-card numbers (身份证号), phone numbers (手机号 / 固定电话), vehicle plates (车牌号) and device
ids (设备标识, e.g. IMEI, MAC, drone serial numbers) are never stored in clear. Each becomes

- a **token**: ``"p"`` + the first 32 hex characters (128 bits) of
  ``HMAC-SHA256(key, f"{kind}:{normalised value}")``. The same person's number gives the same
  token in any column of any table, so records still join; and
- a **masked** display form, e.g. ``320***********1234``, ``138****5678``, ``苏G***34``.

Privacy note (read before deploying)
------------------------------------
HMAC tokens are *pseudonymous, not anonymous*: whoever holds the key can recompute the token of
any candidate number and so re-identify a record. Under GDPR Recital 26 pseudonymised data are
still personal data; under PIPL Art. 73(3) this is 去标识化 (not identifiable *without additional
information* — the key is that information), not 匿名化 (Art. 73(4), irreversible), so the data
stay personal information under both laws. Therefore:

- protect the key like a password database: ``HAIZHOU_PSEUDONYM_KEY`` in production, or the file
  ``<data_dir>/keys/pseudonym.key`` (mode 0600) created by :func:`load_or_create_key`;
- never log it, never put it in the database next to the tokens; phone and ID numbers are few
  enough (about 10^10 mobiles) that without a secret key every token could be reversed by
  trying them all, so the key's secrecy is the whole protection;
- rotating the key breaks every join with tokens made under the old key (old and new tokens of
  the same number differ); re-pseudonymise from the source files if you must rotate.

Masked forms reveal a few digits by design (the bureau's display convention); they are not a
substitute for access control and audit.

The HMAC is computed from SHA-256 states pre-loaded with the padded key (RFC 2104), which is
bit-for-bit ``hmac.digest(key, msg, "sha256")`` but about 1.5x faster in Python, because the key
schedule is done once per :class:`Pseudonymiser` rather than once per value.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from haizhou.errors import HaizhouError, InputError

__all__ = [
    "IdentifierKind",
    "Pseudonym",
    "PseudonymKeyError",
    "Pseudonymiser",
    "id_card_checksum_ok",
    "load_or_create_key",
    "upgrade_id15",
]

MIN_KEY_BYTES = 16
TOKEN_HEX_CHARS = 32
KEY_FILE_NAME = "pseudonym.key"


class IdentifierKind(StrEnum):
    """Kind of personal identifier (个人标识类型). The value is part of the HMAC input."""

    ID_CARD = "id_card"  # 居民身份证号码 (18 位, or the old 15-digit form)
    PHONE = "phone"  # 手机号码 / 固定电话
    PLATE = "plate"  # 机动车号牌
    DEVICE = "device"  # 设备标识 (IMEI, MAC, 无人机序列号 ...)


@dataclass(frozen=True, slots=True)
class Pseudonym:
    """A pseudonymised identifier (假名化标识).

    Attributes
    ----------
    kind : IdentifierKind
        What the identifier is.
    token : str
        ``"p"`` + 32 lower-case hex characters; stable for a given key, kind and normalised value.
    masked : str
        Display form with most characters replaced by ``*``; never the clear value.
    """

    kind: IdentifierKind
    token: str
    masked: str


class PseudonymKeyError(HaizhouError, ValueError):
    """The pseudonymisation key is missing, too short or unreadable."""


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# Full-width ASCII (Ｕ+FF01..FF5E) to ASCII, ideographic space to space: a 1:1 mapping, so a
# translated text keeps every character position of the original.
_FULLWIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TABLE[0x3000] = 0x20
_FULLWIDTH_ALNUM_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"
_STRIP_RE = {
    IdentifierKind.ID_CARD: re.compile(f"[\\s{_DASHES}]+"),
    IdentifierKind.PHONE: re.compile(f"[\\s{_DASHES}()（）]+"),
    IdentifierKind.PLATE: re.compile(f"[\\s{_DASHES}·•・.]+"),
    IdentifierKind.DEVICE: re.compile(f"[\\s{_DASHES}:.]+"),
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "A-HJ-NP-Z"  # I and O are not used on Chinese plates
_PLATE_BODY = (
    f"(?:[{_PLATE_LETTERS}0-9]{{6}}"  # new-energy (新能源) 6 characters
    f"|[{_PLATE_LETTERS}0-9]{{5}}"  # ordinary 5 characters
    f"|[{_PLATE_LETTERS}0-9]{{4}}[挂学警港澳])"  # trailer, driving-school, police, HK/Macau
)
_PLATE_FULL_RE = re.compile(f"[{PROVINCES}][A-Z]{_PLATE_BODY}")
_MOBILE_FULL_RE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE_FULL_RE = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})[2-9][0-9]{6,7}")
_ID18_FULL_RE = re.compile(
    r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]"
)


def id_card_checksum_ok(number: str) -> bool:
    """Whether an 18-character resident ID number (居民身份证号码) has a valid check character.

    GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.

    >>> id_card_checksum_ok("11010519491231002X")
    True
    >>> id_card_checksum_ok("110105194912310021")
    False
    """
    if len(number) != 18 or not (number[:17].isascii() and number[:17].isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _to_halfwidth(value: str) -> str:
    if value.isascii():
        return value
    return value.translate(_FULLWIDTH_TABLE)


def _normalise(value: str, kind: IdentifierKind) -> str:
    # Fast path: plain ASCII letters and digits need no folding nor stripping.
    if not (value.isascii() and value.isalnum()):
        value = _STRIP_RE[kind].sub("", _to_halfwidth(value))
    if kind is IdentifierKind.PHONE:
        return _normalise_phone(value)
    if kind is IdentifierKind.ID_CARD and len(value) == 15 and value.isascii() and value.isdigit():
        return upgrade_id15(value)
    # ID card: x -> X; plates and device ids (MAC, serials) are case-insensitive.
    return value.upper()


def upgrade_id15(number: str) -> str:
    """The 18-digit form of an old 15-digit ID number (一代身份证号升位).

    GB 11643-1999: insert the century ``19`` before the two-digit birth year and append the
    check character, so a person's old and new numbers give the same token.

    >>> upgrade_id15("110105491231002")
    '11010519491231002X'
    """
    first17 = f"{number[:6]}19{number[6:]}"
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + _ID_CHECK[total % 11]


def _normalise_phone(value: str) -> str:
    if value[:1] == "1":
        return value
    if value.startswith("+86"):
        national = value[3:]
    elif value.startswith("0086"):
        national = value[4:]
    elif len(value) == 13 and value.startswith("86") and _MOBILE_FULL_RE.fullmatch(value[2:]):
        return value[2:]
    else:
        return value
    if not national:
        return value  # a bare country code is not a number; keep it so it is not lost
    # An international number drops the trunk prefix 0 of a landline (+86 518 ... = 0518 ...).
    if national and not _MOBILE_FULL_RE.fullmatch(national) and not national.startswith("0"):
        national = "0" + national
    return national


def _detect(value: str) -> tuple[IdentifierKind, str]:
    """Kind and normalised form of an identifier whose kind is not given."""
    as_id = _normalise(value, IdentifierKind.ID_CARD)  # a 15-digit number is upgraded here
    if _ID18_FULL_RE.fullmatch(as_id) and id_card_checksum_ok(as_id):
        return IdentifierKind.ID_CARD, as_id
    as_phone = _normalise(value, IdentifierKind.PHONE)
    if _MOBILE_FULL_RE.fullmatch(as_phone) or _LANDLINE_FULL_RE.fullmatch(as_phone):
        return IdentifierKind.PHONE, as_phone
    as_plate = _normalise(value, IdentifierKind.PLATE)
    if _PLATE_FULL_RE.fullmatch(as_plate):
        return IdentifierKind.PLATE, as_plate
    shown = value if len(value) <= 4 else f"{value[:2]}…({len(value)} characters)"
    raise InputError(
        f"cannot tell what kind of identifier {shown!r} is (not a valid ID-card number, "
        "mobile or landline number, or plate); pass kind= explicitly "
        f"({', '.join(k.value for k in IdentifierKind)})"
    )


# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------


def _mask_generic(value: str, head: int, tail: int) -> str:
    """Keep ``head`` and ``tail`` characters; short values keep less, at least half hidden."""
    n = len(value)
    if n > head + tail:
        return value[:head] + "*" * (n - head - tail) + (value[-tail:] if tail else "")
    hidden = max(1, (n + 1) // 2)
    shown = n - hidden
    tail = shown // 2
    head = shown - tail
    return value[:head] + "*" * hidden + (value[n - tail :] if tail else "")


def _mask_id_card(value: str) -> str:
    return _mask_generic(value, 3, 4) if len(value) >= 10 else _mask_generic(value, 1, 1)


def _mask_phone(value: str) -> str:
    n = len(value)
    if n == 11 and value[0] == "1":
        return f"{value[:3]}****{value[7:]}"
    if value[0] == "0" and value.isdigit() and 10 <= n <= 12:
        area = 3 if value[1] in "12" else 4  # 010, 02x; else 0xxx
        return f"{value[:area]}-{'*' * (n - area - 2)}{value[-2:]}"
    return _mask_generic(value, 3, 2) if n >= 8 else _mask_generic(value, 0, 2)


def _mask_plate(value: str) -> str:
    return _mask_generic(value, 2, 2) if len(value) >= 6 else _mask_generic(value, 1, 1)


def _mask_device(value: str) -> str:
    # A fixed run of stars, so the length is not revealed either.
    return f"{value[:2]}***{value[-2:]}" if len(value) >= 7 else _mask_generic(value, 1, 1)


_MASKERS = {
    IdentifierKind.ID_CARD: _mask_id_card,
    IdentifierKind.PHONE: _mask_phone,
    IdentifierKind.PLATE: _mask_plate,
    IdentifierKind.DEVICE: _mask_device,
}


def _mask(value: str, kind: IdentifierKind) -> str:
    """Masked display form of a normalised, non-empty identifier."""
    return _MASKERS[kind](value)


# --------------------------------------------------------------------------------------------
# Free-text detection
# --------------------------------------------------------------------------------------------

# Guards against amounts: not right after a currency sign or "digit.", not before ".digit"
# or a unit of money.
_NOT_AMOUNT_BEFORE = r"(?<![0-9])(?<![0-9]\.)(?<![¥￥$])"
_NOT_AMOUNT_AFTER = r"(?![0-9])(?!\.[0-9])(?!\s?[元万亿])"
# Separators, brackets and plus signs are matched in both widths, so the common Chinese
# punctuation （ ） ＋ － need no folding; full-width digits and letters are folded first.
_SEP = "[ \\-\u3000\uff0d]?"
_SEP1 = "[ \\-\u3000\uff0d]"
_PLUS = "[+\uff0b]"
_OPEN = "[(\uff08]"
_CLOSE = "[)\uff09]"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"

# Readable form, the specification of what scrub_text finds; _TEXT_RE below is the fast form.
_TEXT_PATTERN = (
    # 18-digit ID number; the check character is verified in code.
    r"(?P<id18>(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9]))"
    # Old 15-digit ID number (no check digit): area, YYMMDD, sequence.
    r"|(?P<id15>(?<![0-9])[1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9]))"
    # Mobile, optionally +86 / 0086 / "86 ", optionally grouped 3-4-4.
    rf"|(?P<mobile>{_NOT_AMOUNT_BEFORE}(?:(?:{_PLUS}86|0086){_SEP}|86{_SEP1})?"
    rf"1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}{_NOT_AMOUNT_AFTER})"
    # Landline: area code with trunk 0 (or +86 without it), optional brackets, 7-8 digits.
    rf"|(?P<landline>{_NOT_AMOUNT_BEFORE}(?:(?:{_PLUS}86|0086){_SEP}{_OPEN}?{_AREA}{_CLOSE}?"
    rf"|{_OPEN}?0{_AREA}{_CLOSE}?){_SEP}"
    rf"[2-9][0-9]{{2,3}}{_SEP}[0-9]{{4}}{_NOT_AMOUNT_AFTER})"
    # Vehicle plate: province, issuing-office letter, optional dot, 5 or 6 characters.
    rf"|(?P<plate>[{PROVINCES}][A-Z][·•・.\- \u3000\uff0d]?{_PLATE_BODY}(?![A-Za-z0-9]))"
)
_REFERENCE_RE = re.compile(_TEXT_PATTERN)

# The same language, rewritten so that every branch starts by consuming one character of one
# shared class: the regex engine then skips, in C, every position that cannot start an
# identifier (most of a Chinese text), which makes the search about five times faster. The
# first character is checked by lookbehinds; empty named groups at the end of each branch say
# which kind matched. tests/security/test_pseudonym.py checks it against _REFERENCE_RE.
_B = r"(?<![0-9].)"  # the character before the consumed first one is not a digit
_B_AMOUNT = rf"{_B}(?<![0-9]\..)(?<![¥￥$].)"
_FAST_PATTERN = (
    f"[0-9+(\uff0b\uff08{PROVINCES}](?:"
    rf"(?<=[1-9]){_B}[0-9]{{5}}(?:18|19|20)[0-9]{{2}}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9])(?P<id18>)"
    rf"|(?<=[1-9]){_B}[0-9]{{5}}[0-9]{{2}}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9])(?P<id15>)"
    rf"|{_B_AMOUNT}(?:(?<=1)|(?<={_PLUS})86{_SEP}1|(?<=0)086{_SEP}1|(?<=8)6{_SEP1}1)"
    rf"[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}}{_NOT_AMOUNT_AFTER}(?P<mobile>)"
    rf"|{_B_AMOUNT}(?:(?<={_PLUS})86{_SEP}{_OPEN}?{_AREA}{_CLOSE}?"
    rf"|(?<=0)086{_SEP}{_OPEN}?{_AREA}{_CLOSE}?"
    rf"|(?<={_OPEN})0{_AREA}{_CLOSE}?|(?<=0){_AREA}{_CLOSE}?)"
    rf"{_SEP}[2-9][0-9]{{2,3}}{_SEP}[0-9]{{4}}{_NOT_AMOUNT_AFTER}(?P<landline>)"
    rf"|(?<=[{PROVINCES}])[A-Z][·•・.\- \u3000\uff0d]?{_PLATE_BODY}(?![A-Za-z0-9])(?P<plate>)"
    r")"
)
_TEXT_RE = re.compile(_FAST_PATTERN)
_GROUP_KIND = {
    "id18": IdentifierKind.ID_CARD,
    "id15": IdentifierKind.ID_CARD,
    "mobile": IdentifierKind.PHONE,
    "landline": IdentifierKind.PHONE,
    "plate": IdentifierKind.PLATE,
}


def _search_view(text: str) -> str:
    """The text with full-width ASCII folded to ASCII (same length, same positions), if it
    holds full-width digits or letters; else the text itself."""
    if text.isascii() or _FULLWIDTH_ALNUM_RE.search(text) is None:
        return text
    return text.translate(_FULLWIDTH_TABLE)


# --------------------------------------------------------------------------------------------
# The pseudonymiser
# --------------------------------------------------------------------------------------------


class Pseudonymiser:
    """Keyed pseudonymiser of personal identifiers (个人标识假名化器).

    Parameters
    ----------
    key : bytes
        Secret HMAC key, at least 16 bytes (32 random bytes recommended; see
        :func:`load_or_create_key`). Never logged nor shown in ``repr``.

    Raises
    ------
    PseudonymKeyError
        (a ``ValueError``) if the key is not bytes or shorter than 16 bytes.

    Examples
    --------
    >>> p = Pseudonymiser(b"0123456789abcdef0123456789abcdef")
    >>> p.pseudonymise("11010519491231002X").masked
    '110***********002X'
    >>> p.pseudonymise("+86 138-1234-5678").masked
    '138****5678'
    >>> p.pseudonymise("+86 138-1234-5678") == p.pseudonymise("13812345678")
    True
    >>> p.pseudonymise("苏G·A1234").masked
    '苏G***34'
    >>> p.scrub_text("报警人电话13812345678，车牌苏GA1234")[0]
    '报警人电话138****5678，车牌苏G***34'
    """

    __slots__ = ("_inner", "_key_length", "_outer", "_prefixed")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes | bytearray):
            raise PseudonymKeyError(
                f"the pseudonymisation key must be bytes, got {type(key).__name__}; "
                "encode a text key with .encode('utf-8')"
            )
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes, got "
                f"{len(key)}; set HAIZHOU_PSEUDONYM_KEY to a long random secret or leave it "
                "empty to have one created in the data folder"
            )
        block = bytes(key)
        if len(block) > 64:  # RFC 2104: keys longer than the block are hashed first
            block = hashlib.sha256(block).digest()
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._key_length = len(key)
        # Inner states already fed with "kind:", the first bytes of every message.
        self._prefixed = {}
        for kind in IdentifierKind:
            state = self._inner.copy()
            state.update(f"{kind.value}:".encode())
            self._prefixed[kind] = state.copy

    def __repr__(self) -> str:
        return f"Pseudonymiser(key=<hidden, {self._key_length} bytes>)"

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError(
            "a Pseudonymiser holds a secret key and is not picklable; build one per process"
        )

    # -- primitives --------------------------------------------------------------------------

    def _token(self, kind: IdentifierKind, normalised: str) -> str:
        """``"p"`` + hex of HMAC-SHA256(key, f"{kind}:{normalised}"), first 32 characters."""
        inner = self._prefixed[kind]()
        inner.update(normalised.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return "p" + outer.digest()[: TOKEN_HEX_CHARS // 2].hex()

    def normalise(self, value: str, kind: IdentifierKind) -> str:
        """Canonical form of an identifier, so that spellings of one number give one token.

        Full-width characters become ASCII; spaces, dashes (and for phones brackets, for plates
        dots, for devices colons and dots) are removed; ID-card ``x`` becomes ``X`` and an old
        15-digit ID number its 18-digit form (:func:`upgrade_id15`); plates and
        device ids are upper-cased; phone prefixes ``+86`` / ``0086`` (and ``86`` before an
        11-digit mobile) are removed, restoring the trunk ``0`` of a landline.

        Parameters
        ----------
        value : str
            The identifier as written.
        kind : IdentifierKind
            What it is.

        Returns
        -------
        str
            The canonical form; ``""`` if nothing but separators was given.

        Examples
        --------
        >>> p = Pseudonymiser(b"k" * 16)
        >>> p.normalise("+86 (518) 8512-3456", IdentifierKind.PHONE)
        '051885123456'
        >>> p.normalise("１３８ １２３４ ５６７８", IdentifierKind.PHONE)
        '13812345678'
        >>> p.normalise("11010519491231002x", IdentifierKind.ID_CARD)
        '11010519491231002X'
        """
        return _normalise(value, IdentifierKind(kind))

    def pseudonymise(self, value: str, kind: IdentifierKind | None = None) -> Pseudonym:
        """Token and masked form of one identifier.

        Parameters
        ----------
        value : str
            The identifier in clear.
        kind : IdentifierKind, optional
            What it is. If omitted it is detected: an 18-digit ID number with a valid check
            character or a 15-digit one with a valid date, then a mobile (``1[3-9]`` + 9 digits)
            or landline number, then a plate. Device ids are never guessed.

        Returns
        -------
        Pseudonym

        Raises
        ------
        InputError
            If the value is empty, or ``kind`` is omitted and the value matches no kind.
        """
        if kind is None:
            kind, normalised = _detect(value)
        else:
            kind = IdentifierKind(kind)
            normalised = _normalise(value, kind)
        if not normalised:
            raise InputError(f"empty {kind.value} identifier; give a value or leave the field null")
        return Pseudonym(kind, self._token(kind, normalised), _mask(normalised, kind))

    def pseudonymise_many(
        self, values: Sequence[str | None], kind: IdentifierKind
    ) -> tuple[list[str | None], list[str | None]]:
        """Tokens and masked forms of a column of identifiers of one kind.

        Each distinct value is processed once. Missing values (``None``, ``""``, NaN, or only
        separators) give ``None`` in both lists. Integers (a phone column read as numbers) are
        taken as their decimal text.

        Parameters
        ----------
        values : sequence of str or None
            The column, in clear.
        kind : IdentifierKind
            What the column holds.

        Returns
        -------
        tokens, masked : list of str or None
            Aligned with ``values``.

        Raises
        ------
        InputError
            If a value is neither text, an integer nor missing.
        """
        kind = IdentifierKind(kind)
        try:
            distinct: dict[object, str | None] = dict.fromkeys(values)
        except TypeError:
            raise InputError(
                f"a {kind.value} column must hold text or be empty; it holds unhashable values"
            ) from None
        masks: dict[object, str | None] = {}
        # The loop body is _token() inlined: this is the hot path of every import.
        inner_copy, outer_copy = self._prefixed[kind], self._outer.copy
        normalise, mask, half = _normalise, _MASKERS[kind], TOKEN_HEX_CHARS // 2
        for position, value in enumerate(distinct):
            text = value
            if not isinstance(value, str):
                if isinstance(value, int) and not isinstance(value, bool):
                    text = str(value)
                elif value is None or (isinstance(value, float) and math.isnan(value)):
                    masks[value] = None
                    continue
                else:
                    raise InputError(
                        f"a {kind.value} column must hold text or be empty; found a "
                        f"{type(value).__name__} (distinct value no. {position + 1})"
                    )
            normalised = normalise(text, kind) if text else ""
            if normalised:
                inner = inner_copy()
                inner.update(normalised.encode())
                outer = outer_copy()
                outer.update(inner.digest())
                distinct[value] = "p" + outer.digest()[:half].hex()
                masks[value] = mask(normalised)
            else:
                masks[value] = None
        return list(map(distinct.__getitem__, values)), list(map(masks.__getitem__, values))

    def scrub_text(self, text: str | None) -> tuple[str | None, list[Pseudonym]]:
        """Mask the personal identifiers found in free text (自由文本脱敏).

        Finds 18-digit ID numbers with a valid check character, 15-digit ID numbers with a valid
        date, mobile numbers (also with ``+86``/``0086``, spaces or dashes), landlines
        (``0xx-xxxxxxxx``, ``(0518)85123456``, ``+86 518 ...``) and plates (``苏G12345``,
        ``苏G·A1234``, new-energy ``苏AD12345``), also in full-width digits, and replaces each
        by its masked form. Digit runs longer than the identifier (order numbers), decimals
        and sums of money (``¥``, ``元``) are left alone.

        Parameters
        ----------
        text : str or None
            Free text such as an incident summary (警情摘要) or an address.

        Returns
        -------
        scrubbed : str or None
            The text with each identifier masked; the same object if nothing was found.
        found : list of Pseudonym
            The identifiers found, in order of appearance, so a caller can index the tokens.

        Notes
        -----
        Not found: names (姓名), addresses, ID numbers split by spaces, identifiers glued to
        other digits (a longer digit run is taken as an order or case number), device ids.
        Scrub columns of known kind with :meth:`pseudonymise_many` instead.
        """
        if not text:
            return text, []
        view = _search_view(text)
        found: list[Pseudonym] = []
        pieces: list[str] = []
        last = 0
        for match in _TEXT_RE.finditer(view):
            group = match.lastgroup
            assert group is not None
            raw = match.group()
            if group == "id18" and not id_card_checksum_ok(raw.upper()):
                continue
            pseudonym = self.pseudonymise(raw, _GROUP_KIND[group])
            found.append(pseudonym)
            start, end = match.span()
            pieces.append(text[last:start])
            pieces.append(pseudonym.masked)
            last = end
        if not found:
            return text, []
        pieces.append(text[last:])
        return "".join(pieces), found

    def scrub_many(self, texts: Sequence[str | None]) -> list[str | None]:
        """:meth:`scrub_text` over a column; texts without any identifier are returned as is.

        Parameters
        ----------
        texts : sequence of str or None

        Returns
        -------
        list of str or None
            Aligned with ``texts``; unchanged entries are the very same objects.
        """
        search = _TEXT_RE.search
        out: list[str | None] = []
        append = out.append
        for text in texts:
            if not text or not isinstance(text, str) or search(_search_view(text)) is None:
                append(text)
            else:
                append(self.scrub_text(text)[0])
        return out


# --------------------------------------------------------------------------------------------
# Key management
# --------------------------------------------------------------------------------------------


def load_or_create_key(data_dir: Path, configured: str | None) -> bytes:
    """The pseudonymisation key: the configured secret, else a key file created once.

    Parameters
    ----------
    data_dir : Path
        The data folder; the key file is ``data_dir/keys/pseudonym.key``.
    configured : str or None
        ``HAIZHOU_PSEUDONYM_KEY``. If set (non-blank) it wins, and its UTF-8 bytes are the key.

    Returns
    -------
    bytes
        The key. A created file holds 32 random bytes written as 64 hex characters (mode 0600,
        folder 0700) and those characters are the key, so copying the file's text into
        ``HAIZHOU_PSEUDONYM_KEY`` keeps every token unchanged.

    Raises
    ------
    PseudonymKeyError
        If the configured key or the key file is shorter than 16 bytes.

    Notes
    -----
    Two processes starting together agree on one key: the file is written under a temporary
    name and published with an atomic hard link, and the loser reads the winner's file.
    """
    if configured is not None and configured.strip():
        key = configured.strip().encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"HAIZHOU_PSEUDONYM_KEY is {len(key)} bytes; it must be at least {MIN_KEY_BYTES} "
                "(use e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return key
    folder = Path(data_dir) / "keys"
    path = folder / KEY_FILE_NAME
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = folder / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: use its key
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"key file {path} holds {len(key)} bytes, fewer than {MIN_KEY_BYTES}; it is damaged. "
            "Restore it from backup (a new key breaks every join with existing tokens)."
        )
    return key
