"""The crimelinkage layout: quirks of the real example data, errors that say where."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import shared_file

from haizhou.analytics.linkage.crimes import (
    CrimeTable,
    LinkageInputError,
    Offenders,
    parse_crimelinkage,
)

DAY0 = 8404.0  # 1993-01-04 in days since 1970-01-01


def _frame(**cols) -> pd.DataFrame:
    base = {
        "crimeID": ["C:1"],
        "X": ["100.0"],
        "Y": ["200.0"],
        "DATE_FROM": ["1993-01-04"],
        "TIME_FROM": ["2200"],
        "DATE_TO": ["1993-01-04"],
        "TIME_TO": ["2300"],
        "MO1": ["6"],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_time_2400_is_midnight_of_that_date():
    t = parse_crimelinkage(_frame(TIME_FROM=["2400"], TIME_TO=["0300"]), mo_cols=["MO1"])
    assert t.t_from_days[0] == pytest.approx(DAY0)
    assert t.t_to_days[0] == pytest.approx(DAY0 + 3 / 24)


def test_overnight_window_is_taken_as_earliest_to_latest():
    t = parse_crimelinkage(_frame(TIME_FROM=["2300"], TIME_TO=["0100"]), mo_cols=["MO1"])
    assert t.t_from_days[0] == pytest.approx(DAY0 + 1 / 24)
    assert t.t_to_days[0] == pytest.approx(DAY0 + 23 / 24)


def test_dt_columns_and_missing_mo():
    f = pd.DataFrame(
        {
            "crimeID": ["a", "b"],
            "X": [0, 1],
            "Y": [0, 1],
            "DT.FROM": ["1993-01-04 01:00", "1993-01-05 02:30"],
            "DT.TO": ["1993-01-04 03:00", ""],
            "MO1": ["x", "NA"],
        }
    )
    t = parse_crimelinkage(f, mo_cols=["MO1"])
    assert t.t_to_days.tolist() == pytest.approx([DAY0 + 3 / 24, DAY0 + 1 + 2.5 / 24])
    assert t.mo_codes[:, 0].tolist() == [0, -1]


def test_errors_name_column_and_row():
    with pytest.raises(LinkageInputError) as err:
        parse_crimelinkage(_frame(TIME_FROM=["25:61"]), mo_cols=["MO1"])
    assert err.value.column == "TIME_FROM" and err.value.row == 0
    with pytest.raises(LinkageInputError, match="missing column"):
        parse_crimelinkage(_frame(), mo_cols=["MO9"])
    with pytest.raises(LinkageInputError) as err:
        parse_crimelinkage(_frame(X=["east"]), mo_cols=[])
    assert err.value.column == "X"


@settings(max_examples=80, deadline=None)
@given(h=st.integers(0, 23), m=st.integers(0, 59), colon=st.booleans())
def test_clock_text_round_trips(h, m, colon):
    text = f"{h:02d}:{m:02d}" if colon else f"{h:02d}{m:02d}"
    t = parse_crimelinkage(_frame(TIME_FROM=[text], TIME_TO=[text]), mo_cols=[])
    assert t.t_from_days[0] == pytest.approx(DAY0 + (h * 60 + m) / 1440)


def test_duplicate_ids_are_refused():
    with pytest.raises(LinkageInputError, match="unique"):
        CrimeTable.from_arrays(crime_id=["a", "a"], x_m=[0, 0], y_m=[0, 0], t_from=[0, 0])


def test_real_example_data_summary():
    crimes_csv = shared_file("crimelinkage", "crimes.csv")
    frame = pd.read_csv(crimes_csv, dtype=str, keep_default_na=False)
    t = parse_crimelinkage(frame, mo_cols=["MO1", "MO2", "MO3"])
    off = pd.read_csv(shared_file("crimelinkage", "offenders.csv"), dtype=str)
    o = Offenders.from_pairs(t, offender_id=off.offenderID, crime_id=off.crimeID)
    assert len(t) == 490
    assert int(o.solved_mask().sum()) == 390
    assert o.offender_ids.size == 387
    assert o.crime_index.size == 507  # distinct (offender, crime) links
    assert np.unique(o.groups()[o.solved_mask()]).size == 289
    assert (t.mo_codes[:, 1] < 0).sum() == 19  # MO2 NA
    assert np.all(t.t_to_days >= t.t_from_days)
    c63 = t.index_of(["C:63"])[0]
    assert t.t_from_days[c63] % 1 == pytest.approx(0.0)  # 2400 read as 00:00
