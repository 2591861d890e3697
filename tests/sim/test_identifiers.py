"""Fake identifiers: ID-number check characters (GB 11643-1999), mobiles, MACs, plates."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haizhou.sim.identifiers import (
    birth_dates_for_ages,
    id_check_char,
    is_valid_id_number,
    make_id_numbers,
    make_macs,
    make_mobiles,
    make_plates,
)

seventeen_digits = st.text(alphabet="0123456789", min_size=17, max_size=17)


def test_published_example() -> None:
    # the example number printed in GB 11643-1999
    assert id_check_char("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")


@given(seventeen_digits)
def test_check_char_makes_a_valid_number(first17: str) -> None:
    assert is_valid_id_number(first17 + id_check_char(first17))


@given(seventeen_digits, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_error_is_detected(first17: str, position: int, delta: int) -> None:
    good = first17 + id_check_char(first17)
    changed = str((int(good[position]) + delta) % 10)
    bad = good[:position] + changed + good[position + 1 :]
    assert not is_valid_id_number(bad)


@given(seventeen_digits, st.integers(0, 15))
def test_adjacent_transpositions_are_detected(first17: str, position: int) -> None:
    good = first17 + id_check_char(first17)
    a, b = good[position], good[position + 1]
    if a == b:
        return
    swapped = good[:position] + b + a + good[position + 2 :]
    assert not is_valid_id_number(swapped)


@pytest.mark.parametrize(
    "value", ["", "123", "1101051949123100", "11010519491231002Y", "A1010519491231002X"]
)
def test_malformed_numbers_are_invalid(value: str) -> None:
    assert not is_valid_id_number(value)


def test_id_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="17 digits"):
        id_check_char("12345")


def test_made_numbers_are_valid_unique_and_carry_region_and_birth_date() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    regions = np.array(["320706"] * n)
    births = birth_dates_for_ages(rng, np.full(n, 30), np.full(n, 30), date(2024, 1, 1))
    taken: set[str] = set()
    ids = make_id_numbers(rng, regions, births, taken=taken)
    assert len(set(ids)) == n and taken == set(ids)
    assert all(is_valid_id_number(v) for v in ids)
    assert all(v.startswith("320706") for v in ids)
    years = np.array([int(v[6:10]) for v in ids])
    assert set(years) <= {1993, 1994}  # aged 30 on 2024-01-01
    again = make_id_numbers(rng, regions[:100], births[:100], taken=taken)
    assert not set(again) & set(ids)


def test_mobiles_macs_plates_are_well_formed() -> None:
    rng = np.random.default_rng(2)
    assert all(re.fullmatch(r"1[3-9]\d{9}", m) for m in make_mobiles(rng, 1000))
    macs = make_macs(rng, 1000)
    assert len(set(macs)) == 1000
    assert all(re.fullmatch(r"02(:[0-9A-F]{2}){5}", m) for m in macs)
    plates = make_plates(rng, 1000)
    assert len(set(plates)) == 1000
    assert all(re.fullmatch(r"苏G·[A-HJ-NP-Z]\d{4}", p) for p in plates)
