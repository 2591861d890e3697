"""Pair evidence on hand-made pairs, and the closed-form window difference against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.analytics.linkage.crimes import CrimeTable
from haizhou.analytics.linkage.evidence import (
    NEIGHBOURHOOD_NAMES,
    EvidenceEncoder,
    expected_abs_difference,
    neighbourhood_evidence,
    pair_evidence,
    pair_proximity,
)


def _brute(a: float, wa: float, c: float, wc: float, period: float | None) -> float:
    n = 1500
    x = a + wa * (np.arange(n) + 0.5) / n
    y = c + wc * (np.arange(n) + 0.5) / n
    d = np.abs(x[:, None] - y[None, :])
    if period is not None:
        r = np.mod(d, period)
        d = np.minimum(r, period - r)
    return float(d.mean())


widths = st.one_of(st.just(0.0), st.floats(0.01, 40.0))


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0, 200),
    wa=widths,
    c=st.floats(0, 200),
    wc=widths,
    period=st.sampled_from([None, 24.0, 7.0]),
)
def test_expected_abs_difference_matches_brute_force(a, wa, c, wc, period):
    got = float(expected_abs_difference(a, wa, c, wc, period=period))
    assert got == pytest.approx(_brute(a, wa, c, wc, period), abs=2e-2, rel=1e-3)


def test_expected_abs_difference_known_values():
    # two identical unit windows: E|X - Y| = 1/3
    assert float(expected_abs_difference(0, 1, 0, 1)) == pytest.approx(1 / 3)
    # disjoint windows: the distance of the midpoints
    assert float(expected_abs_difference(0, 2, 10, 4)) == pytest.approx(11.0)
    # 23:00 and 01:00 are two hours apart on the clock, not 22
    assert float(expected_abs_difference(23, 0, 1, 0, period=24.0)) == pytest.approx(2.0)
    # a window covering the whole day: a quarter of the period on average
    assert float(expected_abs_difference(3, 24, 5, 0, period=24.0)) == pytest.approx(6.0)


def _table() -> CrimeTable:
    day = 19723.0  # 2024-01-01
    return CrimeTable.from_arrays(
        crime_id=["A", "B", "C", "D"],
        x_m=[0.0, 300.0, 0.0, 5000.0],
        y_m=[0.0, 400.0, 0.0, 0.0],
        t_from=[day + 2 / 24, day + 2 + 3 / 24, day + 23 / 24, day + 10],
        t_to=[day + 4 / 24, day + 2 + 3 / 24, day + 1 + 1 / 24, day + 10],
        mo={
            "entry_method": ["撬锁", "撬锁", "插片", None],
            "tools": ["螺丝刀", "撬棍", "螺丝刀", "螺丝刀"],
        },
        text=["凌晨撬锁入户盗窃现金", "凌晨撬锁入户盗窃现金", "白天溜门盗窃手机", ""],
        property_taken=["现金;手机", "现金", "手机", ""],
    )


def test_pair_evidence_hand_made_pairs():
    t = _table()
    X, names = pair_evidence(t, [0, 0, 0], [1, 2, 3])
    col = {n: X[:, k] for k, n in enumerate(names)}
    assert col["distance_km"].tolist() == pytest.approx([0.5, 0.0, 5.0])
    # A is 02:00-04:00 on day 0, B exactly 03:00 on day 2: mean gap 2 days
    assert col["gap_days"][0] == pytest.approx(2.0)
    # and on the clock B sits inside A's window: E|U(2,4) - 3| = 0.5 h
    assert col["tod_diff_h"][0] == pytest.approx(0.5)
    assert col["same_entry_method"][:2].tolist() == [1.0, 0.0]
    assert np.isnan(col["same_entry_method"][2])  # D's entry method is not recorded
    assert col["same_tools"].tolist() == [0.0, 1.0, 1.0]
    # 撬锁 is shared by A and B: surprise = -ln share > 0; no surprise where they differ
    assert col["rare_entry_method"][0] > 0
    assert col["rare_entry_method"][1] == 0.0
    assert col["text_sim"][0] == pytest.approx(1.0)
    assert col["text_sim"][1] < 0.5
    assert np.isnan(col["text_sim"][2])  # D has no narrative
    assert col["property_sim"][:2].tolist() == pytest.approx([0.5, 0.5])


def test_rarer_shared_value_is_more_surprising():
    t = CrimeTable.from_arrays(
        crime_id=list("abcdefgh"),
        x_m=np.zeros(8),
        y_m=np.zeros(8),
        t_from=np.zeros(8),
        mo={"entry": ["撬锁"] * 6 + ["破窗"] * 2},
    )
    X, names = pair_evidence(t, [0, 6], [1, 7])
    rare = X[:, names.index("rare_entry")]
    assert rare[1] > rare[0] > 0


def test_encoder_uses_training_shares_for_new_values():
    t = _table()
    enc = EvidenceEncoder.build(t, mo_share=({"撬锁": 0.02, "插片": 0.5}, {"螺丝刀": 0.9}))
    # 撬锁 keeps its training share; 撬棍 (never seen in training) gets the smallest share
    assert enc.mo_share[0][t.mo_levels[0].index("撬锁")] == pytest.approx(0.02)
    assert enc.mo_share[1][t.mo_levels[1].index("撬棍")] == pytest.approx(0.9)


def test_pair_evidence_rejects_mismatched_indices():
    with pytest.raises(ValueError, match="same length"):
        pair_evidence(_table(), [0, 1], [2])


def test_neighbourhood_evidence_hand_made_pairs():
    # case 0 has partners 1 (1 km), 2 (2 km), 3 (4 km); case 3 has only case 0
    ci, cj = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2])
    cX = np.array([[1.0, 10.0], [2.0, 5.0], [4.0, 1.0], [3.0, 20.0]])
    N = neighbourhood_evidence(4, ci, cj, cX, ci, cj, cX)
    col = {name: N[:, k] for k, name in enumerate(NEIGHBOURHOOD_NAMES)}
    # pair (0, 3): last of 0's three partners by distance (3/3) but 3's only partner (1/1)
    # pair (0, 1): nearest of 0's (1/3), nearest of 1's two partners (1/2)
    # pair (0, 2): second of 0's (2/3), nearest of 2's (1/2); pair (1, 2): farthest of both
    assert col["distance_rank_min"].tolist() == pytest.approx([1 / 3, 1 / 2, 1.0, 1.0])
    assert col["distance_rank_max"].tolist() == pytest.approx([1 / 2, 2 / 3, 1.0, 1.0])
    # by gap, case 0's order is 3 (1 d), 2 (5 d), 1 (10 d)
    assert col["gap_rank_min"].tolist() == pytest.approx([1 / 2, 1 / 2, 1 / 3, 1.0])
    assert col["gap_rank_max"].tolist() == pytest.approx([1.0, 2 / 3, 1.0, 1.0])
    # a pair outside the candidate pairs: ranked by how many partners are closer, at most 1
    Q = neighbourhood_evidence(
        4, np.array([1, 3]), np.array([3, 2]), np.array([[1.5, 0.0], [9.0, 9.0]]), ci, cj, cX
    )
    # (1, 3) at 1.5 km: 1 has one partner closer (0 at 1 km) of 2 -> 1.0; 3 has none of 1 -> 1.0
    assert Q[:, 0].tolist() == pytest.approx([1.0, 1.0])
    # gap 0 d is the closest for both ends of (1, 3): 1/2 and 1/1
    assert Q[0, 2:4].tolist() == pytest.approx([0.5, 1.0])


def test_neighbourhood_evidence_matches_brute_force():
    rng = np.random.default_rng(3)
    n = 30
    ci, cj = np.triu_indices(n, k=1)
    keep = rng.random(ci.size) < 0.3
    ci, cj = ci[keep], cj[keep]
    cX = rng.random((ci.size, 2)) * 10.0
    N = neighbourhood_evidence(n, ci, cj, cX, ci, cj, cX)
    for k in range(ci.size):
        shares = []
        for col in (0, 1):
            for a in (ci[k], cj[k]):
                mine = np.flatnonzero((ci == a) | (cj == a))
                closer = np.sum(cX[mine, col] < cX[k, col])
                shares.append((closer + 1) / mine.size)
        assert N[k, 0] == pytest.approx(min(shares[:2]))
        assert N[k, 1] == pytest.approx(max(shares[:2]))
        assert N[k, 2] == pytest.approx(min(shares[2:]))
        assert N[k, 3] == pytest.approx(max(shares[2:]))


def test_pair_proximity_is_the_first_two_evidence_columns():
    t = _table()
    i, j = np.array([0, 1, 2]), np.array([3, 2, 0])
    X, _ = pair_evidence(t, i, j)
    np.testing.assert_allclose(pair_proximity(t, i, j), X[:, :2])
