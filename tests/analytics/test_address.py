"""normalise_address: examples and properties (idempotent, width-, prefix- and numeral-blind)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.address import chinese_numeral_to_int, normalise_address


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("江苏省连云港市海州区新浦路 三十二號", "新浦路32号"),
        ("连云港市海州区新浦路32号", "新浦路32号"),
        ("海州区新浦路32号", "新浦路32号"),
        ("新浦路３２号", "新浦路32号"),
        ("新浦路32号（东门）", "新浦路32号东门"),
        ("上海市浦东新区世纪大道100号", "世纪大道100号"),
        ("广西壮族自治区南宁市青秀区民族大道1号", "民族大道1号"),
        ("幸福小区3#楼二单元502室", "幸福小区3号楼2单元502室"),
        ("八一路12－3号", "八一路12-3号"),
        ("八一路12 - 3号", "八一路12-3号"),
        ("五一广场", "五一广场"),  # numerals in names stay
        ("宿县路5号", "宿县路5号"),  # a street, not a county
        ("连云港市超市", "超市"),
        ("幸福小区12号", "幸福小区12号"),  # a compound, not a district
        ("新南社区三组", "新南社区3组"),
        ("二〇一室", "201室"),
        ("朝阳路一百零五号", "朝阳路105号"),
        ("3430  S. Grand Blvd.", "3430 S GRAND BLVD"),
        ("", ""),
        ("   ", ""),
        ("江苏省", "江苏省"),  # nothing left after the prefix: keep it
    ],
)
def test_examples(raw: str, want: str) -> None:
    assert normalise_address(raw) == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("幸福小区3号楼2单元502室", "幸福小区3号楼"),
        ("新浦路12号301室", "新浦路12号"),
        ("新浦路12号3楼", "新浦路12号"),
        ("苍梧路5栋12层", "苍梧路5栋"),
        ("幸福小区3号楼", "幸福小区3号楼"),
        ("502室", "502室"),  # nothing before the room: keep it
    ],
)
def test_drop_unit(raw: str, want: str) -> None:
    assert normalise_address(raw, drop_unit=True) == want


def test_keeps_prefix_when_asked_and_rejects_non_strings() -> None:
    assert normalise_address("江苏省连云港市海州区新浦路32号", drop_admin=False) == (
        "江苏省连云港市海州区新浦路32号"
    )
    with pytest.raises(TypeError, match="normalise_address takes a str"):
        normalise_address(None)  # type: ignore[arg-type]


ONES = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Unit-style Chinese numeral for 1 <= n <= 9999 (the reference, written independently)."""
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                parts.append("零")
            parts.append(("" if (unit == "十" and n < 20) else ONES[d]) + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


@given(st.integers(1, 9999))
def test_numerals_round_trip(n: int) -> None:
    assert chinese_numeral_to_int(to_chinese(n)) == n
    assert chinese_numeral_to_int("".join(ONES[int(c)] for c in str(n))) == n
    assert normalise_address(f"新浦路{to_chinese(n)}号") == f"新浦路{n}号"


def test_numeral_rejects() -> None:
    for text in ("", "百十", "三二十", "十十", "路", "一百零"):
        assert chinese_numeral_to_int(text) is None


ROAD = st.sampled_from(["新浦路", "海连中路", "朝阳东路", "幸福小区", "苍梧路", "八一路", "解放路"])
PREFIX = st.sampled_from(
    ["", "江苏省", "江苏省连云港市", "连云港市", "江苏省连云港市海州区", "连云港市海州区", "海州区"]
)
UNIT = st.sampled_from(["号", "号楼", "栋", "单元", "室", "组"])


@settings(max_examples=200)
@given(PREFIX, ROAD, st.integers(1, 999), UNIT)
def test_prefix_width_and_numerals_do_not_change_the_key(prefix, road, n, unit) -> None:
    plain = normalise_address(f"{road}{n}{unit}")
    assert plain == f"{road}{n}{unit}"
    assert normalise_address(f"{prefix}{road}{to_chinese(n)}{unit}") == plain
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{road}{n}{unit}")
    assert normalise_address(f"{prefix} {wide}。") == plain
    assert normalise_address(prefix + road + str(n) + unit.replace("号", "號")) == plain


@settings(max_examples=500)
@given(st.text(max_size=40), st.booleans(), st.booleans())
def test_idempotent_and_clean_on_any_text(text: str, drop_admin: bool, drop_unit: bool) -> None:
    once = normalise_address(text, drop_admin=drop_admin, drop_unit=drop_unit)
    assert normalise_address(once, drop_admin=drop_admin, drop_unit=drop_unit) == once
    assert once == unicodedata.normalize("NFKC", once)
    for ch in once:
        cat = unicodedata.category(ch)
        assert cat[0] not in "PZSCM" or ch in "- ", (text, once, ch)
    assert not once.startswith((" ", "-")) and not once.endswith((" ", "-"))
    assert "  " not in once
