"""Chinese address normalisation for matching repeat places (地址标准化).

Two call records for the same place rarely spell it the same way: "江苏省连云港市海州区新浦路
３２号" and "新浦路 三十二號" are one door. :func:`normalise_address` maps such spellings to one
key, in this order (each step is idempotent, and so is the whole):

1. Unicode NFKC: full-width letters, digits and punctuation become half-width
   ("３２" → "32", "（" → "("); Latin letters are upper-cased ("a座" → "A座").
2. Traditional forms common in addresses become simplified (號→号, 區→区, 縣→县, 樓→楼,
   單→单, 門→门, 層→层, 棟→栋, 鎮→镇, 鄉→乡, 莊→庄, 園→园, 東→东, 們→们 …), and "#" used
   as a number sign becomes 号 ("3#楼" → "3号楼").
3. White space and punctuation are removed, except a hyphen between two digits, kept as "-"
   because "12-3号" and "123号" are different doors (all dash variants become "-"), and one
   space between two Latin words or numbers ("3430 S GRAND BLVD").
4. Chinese numerals directly before a house-number unit (号 栋 幢 座 单元 层 楼 室 户 弄 巷
   组 排 门 期 区 支弄 号楼) become digits: "三十二号" → "32号", "二〇一室" → "201室",
   "一百零五号" → "105号". Numerals elsewhere stay, so road names such as 八一路 or 五一广场
   are untouched.
5. Optionally (``drop_admin=True``, default) leading administrative divisions are removed:
   a province (…省, …自治区, or one of 北京市 天津市 上海市 重庆市), then a prefecture-level
   city (…市, …自治州, …地区, …盟), then a district or county (…区, …县, …旗; not 小区, 社区,
   园区, 校区, 厂区, 景区, 片区, 街区, 新村区). Each is removed only at the start and only when
   something is left after it.
6. Optionally (``drop_unit=True``) the unit, floor and room after the building are cut:
   everything from the first "<n>单元", "<n>室", "<n>户", "<n>层" or a floor "<n>楼" that
   follows a house or building number ("12号3楼" → "12号", but "3号楼" stays).

Limits: no gazetteer is used, so a street whose name ends in 市 or 区 right at the start of the
text (rare) can be taken for a division; pass ``drop_admin=False`` for such data.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["chinese_numeral_to_int", "normalise_address"]

_TRADITIONAL = str.maketrans(
    {
        "號": "号",
        "區": "区",
        "縣": "县",
        "樓": "楼",
        "單": "单",
        "門": "门",
        "層": "层",
        "棟": "栋",
        "鎮": "镇",
        "鄉": "乡",
        "莊": "庄",
        "園": "园",
        "東": "东",
        "們": "们",
        "員": "员",
        "廣": "广",
        "場": "场",
        "華": "华",
        "龍": "龙",
        "國": "国",
        "陽": "阳",
        "灣": "湾",
        "島": "岛",
        "橋": "桥",
        "雲": "云",
        "蘇": "苏",
        "舊": "旧",
        "廠": "厂",
        "衛": "卫",
        "裡": "里",
        "裏": "里",
        "#": "号",
        "＃": "号",
    }
)

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d~\u301c"
_DASH_RE = re.compile(f"[{re.escape(_DASHES)}]")

_DIGIT = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_DIGIT |= {"七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6}
_DIGIT |= {"柒": 7, "捌": 8, "玖": 9}
_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_NUMERAL_CHARS = "".join(_DIGIT) + "".join(_UNIT)

_MARKERS = "号楼|支弄|单元|号|栋|幢|座|层|楼|室|户|弄|巷|组|排|门|期|区"
_NUMERAL_RE = re.compile(f"([{_NUMERAL_CHARS}]+)(?={_MARKERS})")

_HAN = r"[\u4e00-\u9fff]"
_PROVINCE_RE = re.compile(
    rf"^(?:北京市|天津市|上海市|重庆市|{_HAN}{{2,5}}?自治区|{_HAN}{{2,6}}?省)"
)
_CITY_RE = re.compile(
    rf"^(?:{_HAN}{{2,8}}?自治州|{_HAN}{{2,4}}?地区|{_HAN}{{2,6}}?盟|{_HAN}{{2,6}}?市)"
)
_DISTRICT_RE = re.compile(rf"^{_HAN}{{1,6}}?(?:区|县|旗)")
_NOT_DIVISION = ("小区", "社区", "园区", "校区", "厂区", "景区", "片区", "街区", "村区", "营区")
_NOT_CITY = ("超市", "菜市", "夜市", "街市", "门市")
# A "division" followed by one of these is part of a street or building name (宿县路, 市场).
_NOT_AFTER_DIVISION = tuple("路街道巷桥弄政府委")
_NOT_AFTER_CITY = (*_NOT_AFTER_DIVISION, "场", "民")

_DROP = "PZSCM"  # Unicode categories removed: punctuation, separators, symbols, other, marks

_UNIT_RE = re.compile(r"\d+(?:单元|室|户|层)|(?<=[号栋幢座])\d+楼")


def chinese_numeral_to_int(text: str) -> int | None:
    """The value of a Chinese numeral, or None if ``text`` is not one.

    Reads positional strings ("二〇一" → 201) and unit strings up to the thousands
    ("三十二" → 32, "十五" → 15, "一百零五" → 105, "两千" → 2000), in everyday and financial
    (大写) characters.

    Examples
    --------
    >>> [chinese_numeral_to_int(s) for s in ("三十二", "二〇一", "一百零五", "十", "百十")]
    [32, 201, 105, 10, None]
    """
    if not text or any(ch not in _DIGIT and ch not in _UNIT for ch in text):
        return None
    if all(ch in _DIGIT for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    total, digit, last_unit, pending_zero = 0, None, 10**9, False
    for ch in text:
        if ch in _DIGIT:
            # two digits in a row ("三二十") is not a numeral; "零" may follow a unit only
            if digit is not None and (_DIGIT[ch] == 0 or digit != 0):
                return None
            digit = _DIGIT[ch]
            pending_zero = digit == 0
        else:
            unit = _UNIT[ch]
            if unit >= last_unit:
                return None
            if digit is None:
                if total:  # "百十" or "一百十" style gaps are refused
                    return None
                digit = 1  # leading "十" means 10
            if digit == 0:
                return None
            total += digit * unit
            last_unit, digit, pending_zero = unit, None, False
    if digit is not None:
        if pending_zero:
            return None
        total += digit
    return total


def _numerals_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        value = chinese_numeral_to_int(m.group(1))
        return m.group(1) if value is None else str(value)

    return _NUMERAL_RE.sub(repl, text)


def _strip_admin(text: str) -> str:
    for pattern, not_ending, not_after in (
        (_PROVINCE_RE, (), _NOT_AFTER_DIVISION),
        (_CITY_RE, _NOT_CITY, _NOT_AFTER_CITY),
        (_DISTRICT_RE, _NOT_DIVISION, _NOT_AFTER_DIVISION),
    ):
        m = pattern.match(text)
        if (
            m
            and m.end() < len(text)
            and not m.group(0).endswith(not_ending)
            and not text[m.end() :].startswith(not_after)
        ):
            text = text[m.end() :]
    return text


def normalise_address(text: str, *, drop_admin: bool = True, drop_unit: bool = False) -> str:
    """Normalised matching key of a Chinese address (地址标准化).

    Parameters
    ----------
    text : str
        An address as typed into a call or case record. Not modified.
    drop_admin : bool, default True
        Remove leading province / city / district names (江苏省连云港市海州区).
    drop_unit : bool, default False
        Cut the unit, floor and room after the building, so every flat of a building shares
        one key (a high-incidence *building* rather than door).

    Returns
    -------
    str
        The key: half-width, upper-case Latin, no punctuation (a hyphen between digits kept),
        no spaces except one between two Latin words or numbers, simplified 号/区/楼…, Arabic house numbers. Empty for empty input.
        ``normalise_address(normalise_address(s)) == normalise_address(s)``.

    Raises
    ------
    TypeError
        When ``text`` is not a string.

    Examples
    --------
    >>> normalise_address("江苏省连云港市海州区新浦路 三十二號")
    '新浦路32号'
    >>> normalise_address("新浦路３２号（东门）")
    '新浦路32号东门'
    >>> normalise_address("幸福小区3#楼二单元502室", drop_unit=True)
    '幸福小区3号楼'
    >>> normalise_address("八一路12－3号")
    '八一路12-3号'
    """
    if not isinstance(text, str):
        raise TypeError(
            f"normalise_address takes a str; got {type(text).__name__} ({text!r}). Convert "
            "missing addresses to '' or drop them first."
        )
    # Each pass can expose something for the next (a numeral cut by a dropped space, a
    # Hangul jamo pair composing once a symbol between them is gone); stop at a fixed point,
    # which makes the function idempotent by construction.
    s = text
    for _ in range(10):
        new = _once(s, drop_admin=drop_admin, drop_unit=drop_unit)
        if new == s:
            break
        s = new
    return s


def _ascii(ch: str, test: Any) -> bool:
    return bool(ch) and ch.isascii() and test(ch)


def _once(text: str, *, drop_admin: bool, drop_unit: bool) -> str:
    s = unicodedata.normalize("NFKC", text)
    s = _DASH_RE.sub("-", s).translate(_TRADITIONAL).upper()
    # Keep "-" only between two digits; drop every other space, punctuation, symbol, control
    # and combining mark.
    out: list[str] = []
    for k, ch in enumerate(s):
        cat = unicodedata.category(ch)[0]
        if ch == "-" or cat == "Z":
            # "-" survives between two digits (12-3号), one space between two Latin words or
            # numbers (3430 S GRAND BLVD); both are dropped anywhere else.
            nxt = next((c for c in s[k + 1 :] if unicodedata.category(c)[0] not in _DROP), "")
            if ch == "-":
                while out and out[-1] == " ":
                    out.pop()  # "12 - 3" is "12-3"
                prev = out[-1] if out else ""
                if _ascii(prev, str.isdigit) and _ascii(nxt, str.isdigit):
                    out.append("-")
            elif _ascii(out[-1] if out else "", str.isalnum) and _ascii(nxt, str.isalnum):
                out.append(" ")
            continue
        if cat in _DROP:
            continue
        out.append(ch)
    s = "".join(out)
    s = _numerals_to_digits(s)
    if drop_admin:
        s = _strip_admin(s)
    if drop_unit:
        m = _UNIT_RE.search(s)
        if m and m.start() > 0:
            s = s[: m.start()]
    return s
