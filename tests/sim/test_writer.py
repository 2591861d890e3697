"""The writer's time format is a transform: property-test it against pandas' own parser."""

from __future__ import annotations

from datetime import timedelta, timezone

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from haizhou.sim.writer import iso_times

CST = timezone(timedelta(hours=8))


@given(st.lists(st.integers(-(10**9), 2 * 10**9), min_size=1, max_size=50))
def test_iso_times_round_trip(seconds: list[int]) -> None:
    instants = (
        pd.Series(np.array(seconds, dtype="datetime64[s]")).dt.tz_localize("UTC").dt.tz_convert(CST)
    )
    text = iso_times(instants)
    assert all(t.endswith("+08:00") and len(t) == 25 for t in text)
    back = pd.to_datetime(pd.Series(text), format="ISO8601")
    assert (back.dt.tz_convert("UTC") == instants.dt.tz_convert("UTC")).all()


def test_missing_times_become_empty_fields() -> None:
    values = pd.Series(
        np.array(["2024-01-01T00:00:00", "NaT"], dtype="datetime64[s]")
    ).dt.tz_localize(CST)
    assert iso_times(values).tolist() == ["2024-01-01T00:00:00+08:00", ""]
