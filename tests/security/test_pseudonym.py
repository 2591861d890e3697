"""Pseudonymisation (个人身份信息假名化): tokens, normalisation, masks, free-text scrubbing, keys."""

from __future__ import annotations

import hmac
import os
import pickle
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from haizhou.errors import InputError
from haizhou.security import pseudonym
from haizhou.security.pseudonym import (
    PROVINCES,
    IdentifierKind,
    Pseudonym,
    Pseudonymiser,
    PseudonymKeyError,
    id_card_checksum_ok,
    load_or_create_key,
    upgrade_id15,
)

KEY = b"test-key-0123456789abcdef-0123456789"
PSEUDO = Pseudonymiser(KEY)
TOKEN_RE = re.compile(r"p[0-9a-f]{32}")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def reference_token(key: bytes, kind: str, normalised: str) -> str:
    """The specification, spelled with the standard library."""
    return "p" + hmac.digest(key, f"{kind}:{normalised}".encode(), "sha256").hex()[:32]


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


# ---- strategies -------------------------------------------------------------------------------

digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def id18(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    year = draw(st.integers(1900, 2024))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{year:04d}{month:02d}{day:02d}{seq:03d}"
    return first17 + check_char(first17)


@st.composite
def id15(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    return f"{area}{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}" + (
        f"{draw(st.integers(1, 28)):02d}{draw(st.integers(0, 999)):03d}"
    )


@st.composite
def mobile(draw: st.DrawFn) -> str:
    return f"1{draw(st.integers(3, 9))}{draw(st.integers(0, 10**9 - 1)):09d}"


@st.composite
def plate(draw: st.DrawFn) -> str:
    allowed = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    body = draw(st.text(allowed, min_size=5, max_size=6))
    return draw(st.sampled_from(PROVINCES)) + draw(st.sampled_from("ABCDEFGHJK")) + body


@st.composite
def written_mobile(draw: st.DrawFn, number: str) -> str:
    """One of the ways people write a mobile number."""
    sep = draw(st.sampled_from(["", " ", "-"]))
    grouped = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "+86-", "0086", "0086 "]))
    text = prefix + grouped
    return text.translate(FULLWIDTH) if draw(st.booleans()) else text


HAN = list("报警人称在小区门口被盗电动车一辆请民警到场处理，。、；：的了和与及其")
chinese = st.text(alphabet=st.sampled_from(HAN), min_size=0, max_size=12)
# Between two identifiers there is at least one character: adjacent digits make one longer run,
# which by design is not an identifier.
separator = st.text(alphabet=st.sampled_from(HAN), min_size=1, max_size=12)


# ---- tokens -----------------------------------------------------------------------------------


@settings(deadline=None)
@given(value=mobile(), key=st.binary(min_size=16, max_size=100))
def test_token_is_hmac_sha256_of_kind_and_value(value: str, key: bytes) -> None:
    result = Pseudonymiser(key).pseudonymise(value, IdentifierKind.PHONE)
    assert result.token == reference_token(key, "phone", value)
    assert TOKEN_RE.fullmatch(result.token)


@settings(deadline=None)
@given(
    value=id18(), key=st.binary(min_size=16, max_size=64), other=st.binary(min_size=16, max_size=64)
)
def test_tokens_deterministic_and_key_dependent(value: str, key: bytes, other: bytes) -> None:
    assume(key != other)
    first = Pseudonymiser(key).pseudonymise(value)
    assert first == Pseudonymiser(key).pseudonymise(value)
    assert first.token != Pseudonymiser(other).pseudonymise(value).token
    assert first.masked == Pseudonymiser(other).pseudonymise(value).masked


def test_kind_is_part_of_the_token() -> None:
    value = "13812345678"
    tokens = {PSEUDO.pseudonymise(value, kind).token for kind in IdentifierKind}
    assert len(tokens) == len(IdentifierKind)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 15, "a text key of many characters"])
def test_short_or_text_key_is_refused(key: object) -> None:
    with pytest.raises(ValueError, match="key must be"):
        Pseudonymiser(key)  # type: ignore[arg-type]


def test_key_never_shown_nor_pickled() -> None:
    assert "test-key" not in repr(PSEUDO)
    assert "36 bytes" in repr(PSEUDO)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(PSEUDO)


# ---- normalisation ----------------------------------------------------------------------------


@settings(deadline=None)
@given(number=mobile(), data=st.data())
def test_written_forms_of_a_mobile_share_one_token(number: str, data: st.DataObject) -> None:
    written = data.draw(written_mobile(number))
    assert PSEUDO.normalise(written, IdentifierKind.PHONE) == number
    assert PSEUDO.pseudonymise(written, IdentifierKind.PHONE) == PSEUDO.pseudonymise(number)


@settings(deadline=None)
@given(old=id15())
def test_old_15_digit_id_joins_its_18_digit_form(old: str) -> None:
    new = f"{old[:6]}19{old[6:]}"
    new += check_char(new)
    assert upgrade_id15(old) == new
    assert id_card_checksum_ok(new)
    assert PSEUDO.pseudonymise(old, IdentifierKind.ID_CARD) == PSEUDO.pseudonymise(new)
    assert PSEUDO.pseudonymise(old) == PSEUDO.pseudonymise(new)  # detected as an ID too


@settings(deadline=None)
@given(number=id18())
def test_written_forms_of_an_id_share_one_token(number: str) -> None:
    variants = [
        number.lower(),
        f"{number[:6]} {number[6:14]} {number[14:]}",
        f"{number[:6]}-{number[6:14]}-{number[14:]}",
        number.translate(FULLWIDTH),
        f" {number}\u3000",
    ]
    expected = PSEUDO.pseudonymise(number, IdentifierKind.ID_CARD)
    for variant in variants:
        assert PSEUDO.normalise(variant, IdentifierKind.ID_CARD) == number.upper()
        assert PSEUDO.pseudonymise(variant, IdentifierKind.ID_CARD) == expected


@settings(deadline=None)
@given(number=plate())
def test_written_forms_of_a_plate_share_one_token(number: str) -> None:
    expected = PSEUDO.pseudonymise(number, IdentifierKind.PLATE)
    for variant in (f"{number[:2]}·{number[2:]}", number.lower(), f"{number[:2]} {number[2:]}"):
        assert PSEUDO.pseudonymise(variant, IdentifierKind.PLATE) == expected


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("0518-85123456", "051885123456"),
        ("(0518) 8512 3456", "051885123456"),
        ("+86 518 8512 3456", "051885123456"),
        ("+86-10-62345678", "01062345678"),
        ("8613812345678", "13812345678"),
        ("０５１８－８５１２３４５６", "051885123456"),
    ],
)
def test_phone_normalisation(written: str, normalised: str) -> None:
    assert PSEUDO.normalise(written, IdentifierKind.PHONE) == normalised


def test_device_ids_ignore_separators_and_case() -> None:
    forms = ["aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "AABBCCDDEEFF"]
    results = {PSEUDO.pseudonymise(f, IdentifierKind.DEVICE) for f in forms}
    assert results == {
        Pseudonym(IdentifierKind.DEVICE, reference_token(KEY, "device", "AABBCCDDEEFF"), "AA***FF")
    }


# ---- masks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "masked"),
    [
        ("320123199001011234", IdentifierKind.ID_CARD, "320***********1234"),
        ("11010519491231002x", IdentifierKind.ID_CARD, "110***********002X"),
        ("320123900101123", IdentifierKind.ID_CARD, "320***********1234"),  # = its 18-digit form
        ("13812345678", IdentifierKind.PHONE, "138****5678"),
        ("0518-85123456", IdentifierKind.PHONE, "0518-******56"),
        ("010-62345678", IdentifierKind.PHONE, "010-******78"),
        ("0518-8512345", IdentifierKind.PHONE, "0518-*****45"),
        ("苏GA1234", IdentifierKind.PLATE, "苏G***34"),
        ("苏G·12345", IdentifierKind.PLATE, "苏G***45"),
        ("苏AD12345", IdentifierKind.PLATE, "苏A****45"),
        ("1581F5BKD228K00A", IdentifierKind.DEVICE, "15***0A"),
        ("ab", IdentifierKind.DEVICE, "A*"),
    ],
)
def test_masked_forms(value: str, kind: IdentifierKind, masked: str) -> None:
    assert PSEUDO.pseudonymise(value, kind).masked == masked


@settings(deadline=None)
@given(
    value=st.one_of(
        id18().map(lambda v: (v, IdentifierKind.ID_CARD)),
        id15().map(lambda v: (v, IdentifierKind.ID_CARD)),
        mobile().map(lambda v: (v, IdentifierKind.PHONE)),
        plate().map(lambda v: (v, IdentifierKind.PLATE)),
        st.text("0123456789ABCDEFXYZ", min_size=1, max_size=30).map(
            lambda v: (v, IdentifierKind.DEVICE)
        ),
        st.text("0123456789", min_size=1, max_size=14).map(lambda v: (v, IdentifierKind.PHONE)),
    )
)
def test_masked_never_contains_the_clear_value(value: tuple[str, IdentifierKind]) -> None:
    clear, kind = value
    result = PSEUDO.pseudonymise(clear, kind)
    normalised = PSEUDO.normalise(clear, kind)
    assert normalised not in result.masked
    assert clear not in result.masked
    assert "*" in result.masked
    if kind is IdentifierKind.ID_CARD:
        assert len(result.masked) == len(normalised) == 18


# ---- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("11010519491231002X", IdentifierKind.ID_CARD),
        ("320123900101123", IdentifierKind.ID_CARD),
        ("+86 138 1234 5678", IdentifierKind.PHONE),
        ("0518-85123456", IdentifierKind.PHONE),
        ("苏G·A1234", IdentifierKind.PLATE),
        ("京AD12345", IdentifierKind.PLATE),
    ],
)
def test_kind_is_detected(value: str, kind: IdentifierKind) -> None:
    assert PSEUDO.pseudonymise(value).kind is kind
    assert PSEUDO.pseudonymise(value) == PSEUDO.pseudonymise(value, kind)


@pytest.mark.parametrize("value", ["110105194912310021", "12345", "hello", "苏12345", ""])
def test_undetectable_values_say_what_to_do(value: str) -> None:
    with pytest.raises(InputError, match=r"pass kind= explicitly"):
        PSEUDO.pseudonymise(value)


def test_empty_value_with_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="empty phone identifier"):
        PSEUDO.pseudonymise(" - ", IdentifierKind.PHONE)


@settings(deadline=None)
@given(number=id18())
def test_checksum_accepts_valid_and_rejects_every_other_check_char(number: str) -> None:
    assert id_card_checksum_ok(number)
    for other in "0123456789X":
        if other != number[-1]:
            assert not id_card_checksum_ok(number[:-1] + other)


# ---- columns ----------------------------------------------------------------------------------


@settings(deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(), st.just(""), mobile(), st.sampled_from(["13812345678", "+86 138 1234 5678"])
        ),
        max_size=40,
    )
)
def test_pseudonymise_many_matches_one_by_one(values: list[str | None]) -> None:
    tokens, masked = PSEUDO.pseudonymise_many(values, IdentifierKind.PHONE)
    assert len(tokens) == len(masked) == len(values)
    for value, token, mask in zip(values, tokens, masked, strict=True):
        if not value:
            assert token is None and mask is None
        else:
            expected = PSEUDO.pseudonymise(value, IdentifierKind.PHONE)
            assert (token, mask) == (expected.token, expected.masked)


def test_pseudonymise_many_missing_values_and_numbers() -> None:
    tokens, masked = PSEUDO.pseudonymise_many(
        [None, "", float("nan"), " ", 13812345678, "13812345678"], IdentifierKind.PHONE
    )
    assert tokens[:4] == [None] * 4 and masked[:4] == [None] * 4
    assert tokens[4] == tokens[5] == reference_token(KEY, "phone", "13812345678")
    assert masked[4] == "138****5678"
    with pytest.raises(InputError, match="must hold text"):
        PSEUDO.pseudonymise_many([b"13812345678"], IdentifierKind.PHONE)  # type: ignore[list-item]


# ---- free text --------------------------------------------------------------------------------


def assert_nothing_left(text: str, clear_values: list[str]) -> None:
    for clear in clear_values:
        assert clear not in text
    # Nothing recognisable remains: scrubbing again finds nothing.
    again, found = PSEUDO.scrub_text(text)
    assert found == [] and again is text
    for run in re.findall(r"[0-9Xx]{15,18}", text):
        assert not id_card_checksum_ok(run.upper())


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(
        st.tuples(separator, st.one_of(id18(), id15(), mobile(), plate())), min_size=1, max_size=5
    ),
    tail=separator,
    data=st.data(),
)
def test_scrub_text_leaves_no_identifier(
    parts: list[tuple[str, str]], tail: str, data: st.DataObject
) -> None:
    pieces, clears, expected = [], [], []
    for filler, value in parts:
        kind = PSEUDO.pseudonymise(value).kind
        written = value
        if kind is IdentifierKind.PHONE:
            written = data.draw(written_mobile(value))
        elif kind is IdentifierKind.ID_CARD and data.draw(st.booleans()):
            written = value.lower()
        pieces += [filler, written]
        clears.append(value)
        expected.append(PSEUDO.pseudonymise(value, kind))
    text = "".join([*pieces, tail])
    scrubbed, found = PSEUDO.scrub_text(text)
    assert scrubbed is not None
    assert found == expected
    assert_nothing_left(scrubbed, clears)
    for item in expected:
        assert item.masked in scrubbed


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("报警人王某（身份证11010519491231002x）称", "报警人王某（身份证110***********002X）称"),
        ("身份证号320123199001011234，", "身份证号320***********1234，"),
        ("旧身份证号320123900101123。", "旧身份证号320***********1234。"),
        ("联系电话：0518-85123456。", "联系电话：0518-******56。"),
        ("座机(0518)85123456", "座机0518-******56"),
        ("座机（0518）85123456转3", "座机0518-******56转3"),
        (
            "电话：１３８１２３４５６７８，（０５１８）８５１２３４５６",
            "电话：138****5678，0518-******56",
        ),
        ("手机＋８６ １３８ １２３４ ５６７８。", "手机138****5678。"),
        ("车牌苏G·A1234的车辆", "车牌苏G***34的车辆"),
        ("new-energy 苏AD12345 parked", "new-energy 苏A****45 parked"),
        ("call 13812345678 or 13912345678", "call 138****5678 or 139****5678"),
    ],
)
def test_scrub_text_examples(text: str, scrubbed: str) -> None:
    assert PSEUDO.scrub_text(text)[0] == scrubbed


@settings(deadline=None)
@given(order=st.text("0123456789", min_size=19, max_size=24), before=chinese, after=chinese)
def test_no_false_positive_on_order_numbers(order: str, before: str, after: str) -> None:
    text = f"{before}订单号{order}{after}"
    assert PSEUDO.scrub_text(text) == (text, [])


@settings(deadline=None)
@given(
    amount=st.integers(0, 10**12),
    cents=st.integers(0, 99),
    form=st.sampled_from(
        ["{a}.{c:02d}元", "¥{a}", "￥{a}.{c:02d}", "{a}元", "{a} 元", "{a}万元", "{a}.{c:02d}"]
    ),
)
def test_no_false_positive_on_amounts(amount: int, cents: int, form: str) -> None:
    text = "涉案金额" + form.format(a=amount, c=cents) + "，已追回"
    assert PSEUDO.scrub_text(text) == (text, [])


@settings(deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            [
                *"0123456789+-() .¥元Xx苏京GA报警（）＋－\u3000",
                "138",
                "0518",
                "+86",
                "0086",
                "86 ",
                "1990",
                "0101",
                "苏G",
            ]
        ),
        max_size=25,
    ).map("".join)
)
def test_fast_regex_agrees_with_the_readable_reference(text: str) -> None:
    reference = [(m.span(), m.lastgroup) for m in pseudonym._REFERENCE_RE.finditer(text)]
    fast = [(m.span(), m.lastgroup) for m in pseudonym._TEXT_RE.finditer(text)]
    assert fast == reference


def test_invalid_id_checksum_and_longer_runs_are_left_alone() -> None:
    for text in [
        "编号110105194912310021号",
        "流水号0138123456789",
        "1381234567890",
        "IMEI 86123456789012345",
    ]:
        assert PSEUDO.scrub_text(text) == (text, [])


def test_scrub_many_keeps_clean_texts_identical() -> None:
    clean = "某小区3栋发生入室盗窃，损失现金约2000元。"
    dirty = "报警人电话13812345678"
    texts = [clean, None, "", dirty, clean]
    out = PSEUDO.scrub_many(texts)
    assert out[0] is clean and out[4] is clean
    assert out[1] is None and out[2] == ""
    assert out[3] == "报警人电话138****5678"
    assert PSEUDO.scrub_text(None) == (None, [])


# ---- keys -------------------------------------------------------------------------------------


def test_key_file_created_once_with_mode_0600(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path, None)
    path = tmp_path / "keys" / "pseudonym.key"
    assert len(key) == 64 and re.fullmatch(rb"[0-9a-f]{64}", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path, None) == key
    assert load_or_create_key(tmp_path, "  ") == key
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["pseudonym.key"]
    # The file's text used as HAIZHOU_PSEUDONYM_KEY gives the same key, hence the same tokens.
    assert load_or_create_key(tmp_path / "elsewhere", path.read_text()) == key
    Pseudonymiser(key)


def test_two_data_dirs_get_different_keys(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a", None) != load_or_create_key(tmp_path / "b", None)


def test_configured_key_wins(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path, "a-configured-secret-of-enough-length") == (
        b"a-configured-secret-of-enough-length"
    )
    assert not (tmp_path / "keys").exists()
    with pytest.raises(PseudonymKeyError, match="HAIZHOU_PSEUDONYM_KEY is 5 bytes"):
        load_or_create_key(tmp_path, "short")


def test_damaged_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "pseudonym.key").write_bytes(b"abc\n")
    with pytest.raises(PseudonymKeyError, match="damaged"):
        load_or_create_key(tmp_path, None)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_keys_folder_is_private(tmp_path: Path) -> None:
    load_or_create_key(tmp_path, None)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) & 0o077 == 0


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(tmp_path, None), range(32)))
    assert len(keys) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["pseudonym.key"]
