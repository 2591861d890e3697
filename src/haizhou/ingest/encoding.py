"""Text encoding detection for Chinese police exports (编码识别).

Exports are UTF-8 (often with a BOM) or GBK; GB18030 is the superset of GBK and GB2312, so it
decodes all of them. Detection looks at a sample: a BOM decides; valid UTF-8 decides; otherwise
charset-normalizer guesses and any GB-family answer becomes GB18030.
"""

from __future__ import annotations

import codecs
from pathlib import Path

GB_FAMILY = {"gbk", "gb2312", "gb18030", "hz", "cp936", "ms936", "euc_cn", "x-gbk", "gb_2312_80"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def is_utf8(sample: bytes) -> bool:
    """Whether ``sample`` is valid UTF-8, allowing a multi-byte character cut at its end."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def normalise_encoding(name: str) -> str:
    """Canonical codec name; the GBK family maps to GB18030."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        from haizhou.errors import InputError

        raise InputError(
            f"unknown text encoding {name!r}; use e.g. utf-8, gbk or gb18030"
        ) from None
    if canonical.replace("-", "_") in GB_FAMILY or canonical in GB_FAMILY:
        return "gb18030"
    return canonical


def detect_encoding(sample: bytes) -> str:
    """Best encoding for ``sample``: ``utf-8-sig``, ``utf-16``, ``utf-8``, ``gb18030`` or another.

    Examples
    --------
    >>> detect_encoding("报警时间,地址".encode("gbk"))
    'gb18030'
    >>> detect_encoding("报警时间".encode())
    'utf-8'
    >>> detect_encoding(codecs.BOM_UTF8 + b"a,b")
    'utf-8-sig'
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if is_utf8(sample):
        return "utf-8"
    # Only the non-UTF-8 lines tell what the other encoding is (mixed files exist).
    lines = [line for line in sample.split(b"\n") if not is_utf8(line)]
    probe = b"\n".join(lines[:200]) or sample
    if b"\x00" not in probe:
        try:
            probe.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            # GB18030 decodes any GBK/GB2312 text, while text in other legacy encodings almost
            # never forms valid GB18030; and statistical guessers hesitate on short Chinese
            # samples (taking them for UTF-16 or Big5).
            return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(probe).best()
    if best is None:
        return "latin-1"
    return normalise_encoding(best.encoding)


def sniff_file(path: Path, size: int = 1 << 20) -> str:
    """Detect the encoding of a file from its first ``size`` bytes."""
    with path.open("rb") as fh:
        return detect_encoding(fh.read(size))
