"""High-incidence places and repeat callers: grouping, snapping, the documented score."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_file

from haizhou.analytics.address import normalise_address
from haizhou.analytics.repeats import repeat_callers, repeat_places

# One degree of latitude is ~111 km: 0.0001° ≈ 11 m, 0.001° ≈ 111 m.
LON0, LAT0 = 119.2, 34.6


def test_places_group_by_address_then_snap() -> None:
    addresses = [
        "江苏省连云港市海州区新浦路32号",  # A
        "新浦路 三十二號",  # A, spelled differently
        "新浦路３２号",  # A
        "新浦路32号东门",  # another key, 11 m away: snapped into A
        None,  # no address, 5 m from A: snapped into A
        "朝阳路1号",  # B, 111 m away
        "朝阳路一号",  # B
        "朝阳路1号",  # B
        "海连路9号",  # C: only two events, below min_count
        "海连路9号",
    ]
    lon = [LON0] * 5 + [LON0] * 3 + [LON0 + 0.01] * 2
    lat = [LAT0, LAT0, LAT0, LAT0 + 0.0001, LAT0 + 0.00005, *[LAT0 + 0.001] * 3, LAT0, LAT0]
    times = ["2024-05-01"] * 5 + ["2024-05-31"] * 3 + ["2024-05-31"] * 2
    cats = ["盗窃"] * 10
    out = repeat_places(addresses, lon, lat, times, cats, now="2024-06-01", half_life_days=30)
    assert out["address"].tolist() == ["朝阳路1号", "新浦路32号"]
    assert out["count"].tolist() == [3, 5]
    assert out["n_addresses"].tolist() == [1, 2]
    assert sorted(out["event_index"][1]) == [0, 1, 2, 3, 4]
    assert sorted(out["event_index"][0]) == [5, 6, 7]
    # recency: B's 3 events are 1 day old, A's 5 are 31 days old
    assert out["recency_weighted_count"][0] == pytest.approx(3 * 0.5 ** (1 / 30))
    assert out["recency_weighted_count"][1] == pytest.approx(5 * 0.5 ** (31 / 30))
    assert out["place_id"].tolist() == [1, 2]
    assert out["days_since_last"].tolist() == pytest.approx([1.0, 31.0])
    assert out["first_time"][1] == np.datetime64("2024-05-01T00:00:00")
    # without decay the count decides
    flat = repeat_places(addresses, lon, lat, times, cats, now="2024-06-01",
                         half_life_days=math.inf)  # fmt: skip
    assert flat["count"].tolist() == [5, 3]
    # snap_m = 0: the 东门 key and the address-less event stay apart
    apart = repeat_places(addresses, lon, lat, times, cats, now="2024-06-01", snap_m=0)
    assert sorted(apart["count"].tolist()) == [3, 3]
    # min_count = 2 brings C in
    assert len(repeat_places(addresses, lon, lat, times, cats, now="2024-06-01", min_count=2)) == 3


def test_score_follows_category_mix() -> None:
    # Two places, 4 events each on the same days: one all burglary, one 2 + 2.
    addresses = ["甲路1号"] * 4 + ["乙路2号"] * 4
    lon = [LON0] * 4 + [LON0 + 0.01] * 4
    lat = [LAT0] * 8
    times = [10.0, 11.0, 12.0, 13.0] * 2
    cats = ["盗窃"] * 4 + ["盗窃", "盗窃", "纠纷", "纠纷"]
    out = repeat_places(addresses, lon, lat, times, cats, now=20.0, mix_weight=0.5)
    assert out["address"].tolist() == ["甲路1号", "乙路2号"]
    assert out["category_entropy"].tolist() == pytest.approx([0.0, 1.0])
    assert out["top_share"].tolist() == pytest.approx([1.0, 0.5])
    rwc = sum(0.5 ** ((20 - t) / 30) for t in (10, 11, 12, 13))
    assert out["score"].tolist() == pytest.approx([rwc, rwc * 0.5])
    assert out["categories"][1] == "盗窃: 2; 纠纷: 2"
    same = repeat_places(addresses, lon, lat, times, cats, now=20.0, mix_weight=0.0)
    assert same["score"][0] == pytest.approx(same["score"][1])


def test_places_validate_and_do_not_mutate() -> None:
    addresses = np.array(["甲路1号"] * 3, dtype=object)
    lon = np.array([LON0] * 3)
    before = addresses.copy(), lon.copy()
    repeat_places(addresses, lon, [LAT0] * 3, [1.0, 2.0, 3.0], now=3.0)
    assert (addresses == before[0]).all() and (lon == before[1]).all()
    with pytest.raises(ValueError, match="after now"):
        repeat_places(addresses, lon, [LAT0] * 3, [1.0, 2.0, 9.0], now=3.0)
    with pytest.raises(ValueError, match="lon and lat"):
        repeat_places(addresses, lon[:2], [LAT0] * 3, [1.0, 2.0, 3.0], now=3.0)
    with pytest.raises(ValueError, match="snap_m"):
        repeat_places(addresses, lon, [LAT0] * 3, [1.0, 2.0, 3.0], now=3.0, snap_m=-1)
    with pytest.raises(ValueError, match="min_count"):
        repeat_places(addresses, lon, [LAT0] * 3, [1.0, 2.0, 3.0], now=3.0, min_count=0)
    empty = repeat_places(addresses, lon, [LAT0] * 3, [1.0, 2.0, 3.0], now=3.0, min_count=4)
    assert empty.empty and "score" in empty.columns and "address" in empty.columns


def test_places_without_coordinates_join_by_address_only() -> None:
    out = repeat_places(["甲路1号", "甲路1号", "甲路一号", None], [np.nan] * 4, [np.nan] * 4,
                        [1.0, 2.0, 3.0, 3.0], now=3.0)  # fmt: skip
    assert out["count"].tolist() == [3] and np.isnan(out["lon"][0])


def test_repeat_callers() -> None:
    callers = ["h1", "h2", "h1", None, "h1", "h2", "", "h2", "h3", "h2"]
    times = pd.to_datetime(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-03", "2024-01-04", "2024-01-05",
         "2024-01-05", "2024-01-06", "2024-01-06", "2024-01-07"]
    )  # fmt: skip
    cats = ["纠纷", "求助", "纠纷", "纠纷", "纠纷", "求助", "求助", "噪音", "求助", "求助"]
    out = repeat_callers(callers, times, cats, now="2024-01-07")
    # h2 calls more (4) but about mixed things; h1 three times about one dispute: the
    # documented score puts h1 first
    ent = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    w = {d: 0.5 ** ((7 - d) / 30) for d in range(1, 8)}
    want = {"h1": w[1] + w[3] + w[4], "h2": (w[2] + w[5] + w[6] + w[7]) * (1 - 0.5 * ent)}
    assert out["caller"].tolist() == ["h1", "h2"]
    assert out["score"].tolist() == pytest.approx([want["h1"], want["h2"]])
    assert out["count"].tolist() == [3, 4]
    assert out["event_index"][1] == [1, 5, 7, 9]
    assert out["top_category"].tolist() == ["纠纷", "求助"]
    assert out["top_share"].tolist() == pytest.approx([1.0, 0.75])
    assert out["category_entropy"].tolist() == pytest.approx([0.0, ent])
    assert out["caller_rank"].tolist() == [1, 2]
    by_count = repeat_callers(callers, times, cats, now="2024-01-07", mix_weight=0.0,
                              half_life_days=math.inf)  # fmt: skip
    assert by_count["caller"].tolist() == ["h2", "h1"]
    # anonymous calls (None, "") never form a group
    assert repeat_callers(callers, times, now="2024-01-07", min_count=1)["caller"].tolist()[-1] in {
        "h1",
        "h2",
        "h3",
    }
    with pytest.raises(ValueError, match="caller_pseudonyms"):
        repeat_callers(callers[:3], times, now="2024-01-07")


@pytest.mark.slow
def test_repeat_places_on_st_louis() -> None:
    data = pd.read_csv(shared_file("stlouis", "stlouis_2014_2015.csv"))
    out = repeat_places(data["address"], data["lon"], data["lat"], data["occurred_at"],
                        data["category"], now=data["occurred_at"].max())  # fmt: skip
    assert len(out) > 1000
    assert (out["count"] >= 3).all()
    assert out["count"].sum() <= len(data)
    assert out["score"].is_monotonic_decreasing
    # every event appears in at most one place
    members = np.concatenate(out["event_index"].to_numpy())
    assert members.size == np.unique(members).size == out["count"].sum()
    # the top place is real: its events share its address or lie within the snap radius
    top = out.iloc[0]
    rows = data.iloc[top["event_index"]]
    keys = {normalise_address(a) for a in rows["address"].dropna()}
    assert top["address"] in keys and top["count"] >= 50
    dist_m = np.hypot(
        (rows["lon"] - top["lon"]) * 111_320 * math.cos(math.radians(top["lat"])),
        (rows["lat"] - top["lat"]) * 110_540,
    )
    assert np.median(dist_m) < 30
