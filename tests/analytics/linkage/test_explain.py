"""Explanations name the real evidence of the pair."""

from __future__ import annotations

import numpy as np

from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
from haizhou.analytics.linkage.explain import explain_pair, leads

DAY = 19723.0


def _table() -> CrimeTable:
    n = 50
    entry = ["插片"] * n
    entry[0] = entry[1] = "撬锁"  # rare: 2 of 50
    return CrimeTable.from_arrays(
        crime_id=[f"K{k}" for k in range(n)],
        x_m=np.r_[0.0, 350.0, np.arange(n - 2) * 1000.0 + 10_000],
        y_m=np.zeros(n),
        t_from=np.r_[DAY + 2 / 24, DAY + 2 + 2.5 / 24, DAY + np.arange(n - 2) * 3.0],
        t_to=np.r_[DAY + 4 / 24, DAY + 2 + 5 / 24, DAY + np.arange(n - 2) * 3.0],
        mo={"entry_method": entry, "tools": ["螺丝刀"] * (n - 1) + ["液压钳"]},
    )


def test_explanation_names_rarity_distance_gap_and_clock():
    ex = explain_pair(_table(), 0, 1, probability=0.8)
    en = ex.reasons_en
    assert en[0] == "same entry method 撬锁 — rare, 4 %"
    assert "same tools 螺丝刀 — common, 98 %" in en
    assert "350 m apart" in en
    assert "2 days apart" in en
    assert "both 02:30–04:00" in en
    assert ex.reasons_zh[0] == "侵入方式相同（撬锁）— 罕见，4%"
    assert "相距 350 米" in ex.reasons_zh


def test_explanation_names_differences():
    ex = explain_pair(_table(), 0, 49)
    assert "different tools (螺丝刀 vs 液压钳)" in ex.reasons_en
    assert "different entry method (撬锁 vs 插片)" in ex.reasons_en


def test_leads_offer_the_suspect_of_a_solved_linked_case():
    t = _table()
    off = Offenders.from_pairs(t, offender_id=["张某"], crime_id=["K1"])
    found = leads(t, off, np.array([0, 2]), np.array([1, 3]), np.array([0.9, 0.4]))
    k0 = [x for x in found if x.crime_id == "K0"]
    assert len(k0) == 1 and k0[0].linked_crime_id == "K1"
    assert k0[0].suspects == ("张某",)
    assert "350 m apart" in k0[0].reasons_en
    # K2's partner K3 is unsolved too: a lead without suspects, both directions listed
    assert {(x.crime_id, x.suspects) for x in found if x.crime_id in ("K2", "K3")} == {
        ("K2", ()),
        ("K3", ()),
    }
