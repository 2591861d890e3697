"""Knox test and near-repeat zones: hand-computed example, brute force, the NRC's own output."""

from __future__ import annotations

import csv
import itertools
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from tests.conftest import shared_file

from haizhou.analytics.base import EventSet
from haizhou.analytics.near_repeat import KnoxResult, NearRepeatZones, knox_test, nrc_labels
from haizhou.errors import NotFittedError

# Hand example: A (0,0) day 0, B (50,0) day 1, C (0,150) day 10, D (1000,0) day 3.
# Pairs (distance m, days): AB (50, 1) AC (150, 10) AD (1000, 3) BC (158.1, 9) BD (950, 2)
# CD (1011.2, 7). Bands [0,100) [100,200) >=200 m × [0,2) [2,7) >=7 d, left-closed.
HAND_X = [0.0, 50.0, 0.0, 1000.0]
HAND_Y = [0.0, 0.0, 150.0, 0.0]
HAND_T = [0.0, 1.0, 10.0, 3.0]
HAND_BANDS = {"spatial_bands_m": [0, 100, 200], "temporal_bands_days": [0, 2, 7]}


def test_hand_computed_table_and_exact_expectation() -> None:
    r = knox_test(HAND_X, HAND_Y, HAND_T, **HAND_BANDS, permutations=0)
    assert r.observed.tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 2], [0, 2, 1]]
    # space totals 0, 1, 2, 3; time totals 1 (AB), 2 (AD, BD), 3 (AC, BC, CD); 6 pairs
    want = np.outer([0, 1, 2, 3], [1, 2, 3]) / 6
    np.testing.assert_allclose(r.expected_exact, want)
    assert r.n_pairs == 6 and r.n_events == 4
    assert r.p_sim is None and r.expected is None
    assert r.row_labels == ("same location", "[0, 100) m", "[100, 200) m", ">= 200 m")
    assert r.column_labels == ("[0, 2) d", "[2, 7) d", ">= 7 d")
    assert r.statistic is r.observed


def test_hand_example_p_value_matches_full_enumeration() -> None:
    # Exact permutation p for cell [0,100) x [0,2): of the 24 orderings of the dates, those
    # giving AB a gap < 2 days are those giving AB the dates {0, 1}: 4 of 24 = 1/6.
    t = np.array(HAND_T)
    hits = 0
    for perm in itertools.permutations(range(4)):
        tp = t[list(perm)]
        hits += abs(tp[0] - tp[1]) < 2
    assert hits / 24 == pytest.approx(1 / 6)
    r = knox_test(HAND_X, HAND_Y, HAND_T, **HAND_BANDS, permutations=9999, random_state=7)
    assert r.p_sim[1, 0] == pytest.approx(1 / 6, abs=0.015)
    assert r.expected[1, 0] == pytest.approx(1 / 6, abs=0.015)
    assert r.knox_ratio[1, 0] == pytest.approx(6.0, rel=0.1)
    # a cell that can never be exceeded has p = 1; ratio NaN where nothing is expected
    assert r.p_sim[0, 0] == 1.0 and np.isnan(r.knox_ratio[0, 0])


def brute_force(x, y, t, s_edges, t_edges, same_m):
    rows = (1 if same_m is not None else 0) + len(s_edges)
    out = np.zeros((rows, len(t_edges)), dtype=np.int64)
    for a, b in itertools.combinations(range(len(x)), 2):
        d = float(np.hypot(x[a] - x[b], y[a] - y[b]))
        g = abs(t[a] - t[b])
        if g < t_edges[0]:
            continue
        col = sum(g >= e for e in t_edges) - 1
        if same_m is not None and d <= same_m:
            r = 0
        elif d < s_edges[0]:
            continue
        else:
            r = sum(d >= e for e in s_edges) - 1 + (1 if same_m is not None else 0)
        out[r, col] += 1
    return out


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(
        st.tuples(
            st.integers(0, 30).map(lambda v: v * 10.0),
            st.integers(0, 30).map(lambda v: v * 10.0),
            st.integers(0, 20).map(float),
        ),
        min_size=0,
        max_size=25,
    ),
    same_m=st.sampled_from([None, 0.0, 5.0]),
    first_edge=st.sampled_from([0.0, 10.0]),
    first_day=st.sampled_from([0.0, 1.0]),
)
def test_observed_equals_brute_force(pts, same_m, first_edge, first_day) -> None:
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    t = np.array([p[2] for p in pts])
    s_edges = [first_edge, 50.0, 100.0, 150.0]
    t_edges = [first_day, 3.0, 7.0]
    r = knox_test(x, y, t, spatial_bands_m=s_edges, temporal_bands_days=t_edges,
                  same_location_m=same_m, permutations=0)  # fmt: skip
    np.testing.assert_array_equal(r.observed, brute_force(x, y, t, s_edges, t_edges, same_m))
    if first_edge == 0 and first_day == 0:  # every pair is in the table
        assert r.observed.sum() == r.n_pairs
        # the exact expectation keeps the margins of the table
        np.testing.assert_allclose(r.expected_exact.sum(axis=0), r.observed.sum(axis=0))
        np.testing.assert_allclose(r.expected_exact.sum(axis=1), r.observed.sum(axis=1))


def test_monte_carlo_mean_converges_to_exact_expectation() -> None:
    rng = np.random.default_rng(3)
    n = 400
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2000, n)
    t = rng.uniform(0, 100, n)  # fractional days take the float path
    r = knox_test(x, y, t, spatial_bands_m=[0, 100, 200], temporal_bands_days=[0, 3, 7],
                  permutations=2000, random_state=11)  # fmt: skip
    sd = np.abs((r.observed - r.expected) / np.where(r.z == 0, np.nan, r.z))
    se = sd / np.sqrt(r.permutations)
    finite = np.isfinite(se) & (r.expected_exact > 0)
    assert np.all(np.abs(r.expected - r.expected_exact)[finite] <= 5 * se[finite])
    # no space-time interaction was planted: nothing near should be strongly significant
    assert np.all(r.p_sim[:-1, :-1] > 0.001)


def test_planted_near_repeats_are_found_and_p_is_valid() -> None:
    rng = np.random.default_rng(5)
    n = 300
    x, y, t = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n), rng.integers(0, 365, n)
    # each of 60 events gets a neighbour 20-80 m away 0-2 days later
    k = 60
    x2 = x[:k] + rng.uniform(20, 80, k)
    t2 = t[:k] + rng.integers(0, 2, k)
    r = knox_test(np.r_[x, x2], np.r_[y, y[:k]], np.r_[t, t2], spatial_bands_m=[0, 100, 200],
                  temporal_bands_days=[0, 2, 4], permutations=499, random_state=1)  # fmt: skip
    assert r.p_sim[1, 0] == pytest.approx(1 / 500)
    assert r.knox_ratio[1, 0] > 5
    zones = NearRepeatZones.from_knox(r, alpha=0.01)
    assert (zones.distance_m, zones.window_days) == (100.0, 2.0)


def test_two_sided_and_less() -> None:
    kw = {**HAND_BANDS, "permutations": 999, "random_state": 0}
    g = knox_test(HAND_X, HAND_Y, HAND_T, **kw)
    two = knox_test(HAND_X, HAND_Y, HAND_T, alternative="two-sided", **kw)
    less = knox_test(HAND_X, HAND_Y, HAND_T, alternative="less", **kw)
    np.testing.assert_allclose(two.p_sim, np.minimum(1, 2 * np.minimum(g.p_sim, less.p_sim)))
    assert two.alternative == "two-sided"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"spatial_bands_m": [100, 50]}, "strictly increasing"),
        ({"temporal_bands_days": [3]}, "at least two"),
        ({"permutations": -1}, "permutations"),
        ({"permutations": 9.5}, "permutations"),
        ({"alternative": "up"}, "alternative"),
        ({"same_location_m": 150.0}, "same_location_m"),
    ],
)
def test_bad_parameters_say_what(kwargs, match) -> None:
    base = {**HAND_BANDS, "permutations": 0}
    with pytest.raises(ValueError, match=match):
        knox_test(HAND_X, HAND_Y, HAND_T, **{**base, **kwargs})


def test_bad_arrays_say_where() -> None:
    with pytest.raises(ValueError, match=r"t_days\[1\]"):
        knox_test([0, 1], [0, 1], [0, np.nan], **HAND_BANDS)
    with pytest.raises(ValueError, match="one x, y and t"):
        knox_test([0, 1, 2], [0, 1], [0, 1], **HAND_BANDS)


def test_inputs_not_modified_and_datetimes_accepted() -> None:
    x = np.array(HAND_X)
    t = np.array(["2024-01-01", "2024-01-02", "2024-01-11", "2024-01-04"], dtype="datetime64[D]")
    before = x.copy(), t.copy()
    r = knox_test(x, HAND_Y, t, **HAND_BANDS, permutations=9, random_state=0)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(t, before[1])
    assert r.observed[1, 0] == 1
    frame = r.to_frame()
    assert len(frame) == 12 and frame["observed"].sum() == 6


# --- the Near Repeat Calculator's conventions and output -----------------------------------


def test_pathological_example_shows_nrc_off_by_one() -> None:
    # Davies (2019): one pair 100 m and 3 days apart. The NRC puts it in "1 to 200" x "4 to 6"
    # (200 m bands) and in "101 to 200" x "4 to 6" (100 m bands): left-closed bands [a, b)
    # labelled "a+1 to b".
    data = pd.read_csv(shared_file("chicago_burglary", "pathological_example.csv"))
    t = pd.to_datetime(data["t"], format="%d/%m/%Y").to_numpy()
    for width, want_row in ((200, "1 to 200"), (100, "101 to 200")):
        s_edges, t_edges = [0, width, 2 * width], [0, 3, 6]
        r = knox_test(data["x"], data["y"], t, spatial_bands_m=s_edges,
                      temporal_bands_days=t_edges, permutations=0)  # fmt: skip
        rows, cols = nrc_labels(s_edges, t_edges)
        hit = np.argwhere(r.observed == 1).tolist()
        assert len(hit) == 1
        assert (rows[hit[0][0]], cols[hit[0][1]]) == (want_row, "4 to 6")


def _read_nrc(path):
    with open(path, encoding="latin-1", newline="") as fh:
        rows = list(csv.reader(fh))
    tables = {}
    for title, key in (
        ("Observed over mean expected frequencies", "ratio"),
        ("Observed frequencies distribution", "observed"),
    ):
        start = next(k for k, r in enumerate(rows) if r and r[0].startswith(title))
        tables[key] = np.array([[float(v) for v in rows[start + 3 + r][2:5]] for r in range(5)])
    sims = np.zeros((5, 3, 19))
    for k, r in enumerate(rows):
        m = re.match(r"Row (\d+) Column (\d+)", r[0] if r else "")
        if m:
            sims[int(m.group(1)) - 1, int(m.group(2)) - 1] = [float(v) for v in rows[k + 1][1:20]]
    tables["simulated"] = sims
    return tables


def test_chicago_2016_matches_near_repeat_calculator() -> None:
    folder = shared_file("chicago_burglary")
    frame = pd.read_csv(folder / "chicago_burglary_2014_2017.csv")
    when = pd.to_datetime(frame["date_single"], format="%d/%m/%Y")
    keep = (when >= "2016-01-01") & (when <= "2016-12-31")
    nrc = _read_nrc(folder / "nrc_output" / "chicago_burglary_2016_NRverbose.csv")
    r = knox_test(frame["x"][keep].round(1), frame["y"][keep].round(1),
                  when[keep].to_numpy().astype("datetime64[D]"),
                  spatial_bands_m=[0, 100, 200, 300], temporal_bands_days=[0, 2, 4],
                  permutations=199, random_state=2016)  # fmt: skip
    assert r.n_events == 11_701
    # the observed table is deterministic: equal in all 15 cells
    np.testing.assert_array_equal(r.observed, nrc["observed"])
    # NRC's expected = mean of 19 shuffles; it must sit within Monte Carlo error of the exact
    # expectation (standard error sd/sqrt(19), sd from our 199 shuffles)
    sd = np.abs((r.observed - r.expected) / r.z)
    se = sd / np.sqrt(19)
    nrc_mean = nrc["simulated"].mean(axis=2)
    np.testing.assert_allclose(nrc["observed"] / nrc["ratio"], nrc_mean, rtol=2e-3)
    assert np.all(np.abs(nrc_mean - r.expected_exact) <= 4.5 * se)
    # and so do the Knox ratios: same cells over-represented, ratios within 4.5 s.e.
    ratio_se = r.observed / r.expected_exact**2 * se
    assert np.all(np.abs(r.knox_ratio_exact - nrc["ratio"]) <= 4.5 * ratio_se + 2e-3)
    assert r.knox_ratio_exact[0, 0] == pytest.approx(15.6, rel=0.3)
    assert r.knox_ratio_exact[1, 0] == pytest.approx(2.68, rel=0.05)
    # NRC: near-repeats significant up to 300 m and 4 days (p = 0.05, its best with 19 runs)
    assert np.all(r.p_sim[:4, :2] <= 0.05)
    assert np.all(r.p_sim[:4, 2] > 0.5)
    zones = NearRepeatZones.from_knox(r, alpha=0.05)
    assert (zones.distance_m, zones.window_days) == (300.0, 4.0)


# --- zones --------------------------------------------------------------------------------


def _result(p: np.ndarray, ratio: float = 2.0, same: bool = True) -> KnoxResult:
    rows, cols = p.shape
    obs = np.ones(p.shape, dtype=np.int64)
    s_edges = np.arange(rows - (1 if same else 0)) * 100.0
    t_edges = np.arange(cols) * 3.0
    return KnoxResult(
        observed=obs, expected=obs / ratio, expected_exact=obs / ratio,
        knox_ratio=np.full(p.shape, ratio), p_sim=p, z=np.ones(p.shape), sim_min=obs,
        sim_max=obs,
        spatial_lower_m=np.r_[[0.0] if same else [], s_edges],
        spatial_upper_m=np.r_[[0.0] if same else [], s_edges[1:], np.inf],
        temporal_lower_days=t_edges, temporal_upper_days=np.r_[t_edges[1:], np.inf],
        same_location=same, alternative="greater", permutations=99, n_events=10, n_pairs=45,
    )  # fmt: skip


def test_from_knox_picks_largest_significant_rectangle() -> None:
    s, n = 0.01, 0.5
    # rows: same, [0,100), [100,200), [200,300), >=300; cols [0,3) [3,6) [6,9) >=9
    p = np.array(
        [
            [s, s, s, n],
            [s, s, s, n],
            [s, s, n, n],
            [s, n, n, n],
            [n, n, n, s],
        ]
    )
    z = NearRepeatZones.from_knox(_result(p))
    # 3 rows x 1 col (area 3) ties 1 x 3 and loses to 2 x 2 (area 4)
    assert (z.distance_m, z.window_days) == (200.0, 6.0)
    only_same = np.full(p.shape, n)
    only_same[0, :2] = s
    z = NearRepeatZones.from_knox(_result(only_same))
    assert (z.distance_m, z.window_days) == (0.0, 6.0)
    with pytest.raises(ValueError, match="no near-repeat zone"):
        NearRepeatZones.from_knox(_result(np.full(p.shape, n)))
    with pytest.raises(ValueError, match="no near-repeat zone"):
        NearRepeatZones.from_knox(_result(p, ratio=0.5))  # significant but under-represented


def test_zones_fit_predict_and_backtest() -> None:
    ev = EventSet(
        t_days=np.array([0.0, 5.0, 9.0, 12.0, 30.0]),
        x_m=np.array([0.0, 1000.0, 2000.0, 3000.0, 4000.0]),
        y_m=np.zeros(5),
    )
    model = NearRepeatZones(distance_m=150.0, window_days=7.0)
    assert model.fit(ev, now=12.0) is model
    # active at day 12: events at 9 and 12 (day 5 expired at 12: [5, 12) is half-open)
    assert model.zones_["event_index"].tolist() == [3, 2]
    assert model.zones_["valid_until_days"].tolist() == [19.0, 16.0]
    assert model.predict([3000.0, 2100.0, 1000.0, 2150.0], [0.0, 0.0, 0.0, 1.0]).tolist() == [
        True, True, False, False,
    ]  # fmt: skip
    # the event at day 30 is in the future for now=12 and never used
    assert 4 not in model.zones_["event_index"].tolist()
    model.fit(ev, now="1970-01-31")
    assert model.zones_["event_index"].tolist() == [4]
    assert model.fit(ev, now=100.0).predict([4000.0], [0.0]).tolist() == [False]


def test_zones_estimator_contract() -> None:
    model = NearRepeatZones(distance_m=-1.0)
    with pytest.raises(ValueError, match="'distance_m' parameter of NearRepeatZones"):
        model.fit(EventSet.empty(), now=0.0)
    with pytest.raises(NotFittedError, match="NearRepeatZones"):
        NearRepeatZones().predict([0.0], [0.0])
    with pytest.raises(TypeError, match="EventSet"):
        NearRepeatZones().fit(np.zeros((3, 3)), now=0.0)
    fitted = NearRepeatZones(distance_m=50.0, window_days=2.0).fit(
        EventSet(np.array([1.0]), np.array([0.0]), np.array([0.0])), now=1.5
    )
    assert clone(fitted).get_params() == {"distance_m": 50.0, "window_days": 2.0}
    again = pickle.loads(pickle.dumps(fitted))
    assert again.predict([10.0], [0.0]).tolist() == [True]
