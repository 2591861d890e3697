"""Benchmark: sightings into presence profiles (感知圈吞吐), ours against a plain Python loop.

Input: the synthetic city's sightings (``--scale``), tiled ``--copies`` times with distinct
pseudonyms and shifted days so the frame has millions of rows. Ours:
``presence_profiles`` (vectorised pandas/NumPy group-bys over id, compound and night).
Baseline: the obvious per-row Python loop filling dicts of sets, on the first ``--baseline-rows``
rows (scaled to throughput, sightings per second). Target: ≥ 50,000 sightings/s.

Quality figures on the same run: precision and recall of "unregistered resident" against the
city's truth, from ``verify_population`` (window 28 nights, threshold 0.9, radius 250 m).

Prints one JSON line. Run: ``.venv/bin/python benchmarks/bench_population.py``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from haizhou.analytics.population import (
    night_of,
    presence_profiles,
    score_decisions,
    sensor_compounds,
    verify_population,
)
from haizhou.geo.projection import LocalProjection
from haizhou.sim import CityConfig, generate_city


def naive(s: pd.DataFrame, links: pd.DataFrame, first, last) -> dict:
    comp_of: dict[str, list[str]] = {}
    for sid, comp in zip(links["sensor_id"], links["compound"], strict=True):
        comp_of.setdefault(sid, []).append(comp)
    nights: dict[tuple[str, str], set] = {}
    for pid, sid, t in zip(s["pseudo_id"], s["sensor_id"], s["seen_at"], strict=True):
        h = t.hour
        if h >= 21:
            n = t.date()
        elif h < 6:
            n = (t - pd.Timedelta(days=1)).date()
        else:
            continue
        if not first <= n <= last:
            continue
        for c in comp_of.get(sid, ()):
            nights.setdefault((pid, c), set()).add(n)
    return {k: len(v) for k, v in nights.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    args = ap.parse_args()
    city = generate_city(CityConfig(scale=args.scale))
    proj = LocalProjection.around(119.18, 34.60)
    s = city.sensors
    sx, sy = proj.forward(s["lon"].to_numpy(), s["lat"].to_numpy())
    feats = [f for f in city.pois["features"] if f["properties"]["kind"] == "residential_compound"]
    ll = np.array([f["geometry"]["coordinates"] for f in feats])
    cx, cy = proj.forward(ll[:, 0], ll[:, 1])
    links = sensor_compounds(
        s["sensor_id"].to_numpy(),
        sx,
        sy,
        np.array([f["properties"]["name"] for f in feats]),
        cx,
        cy,
        radius_m=250.0,
    )
    base = city.sightings.rename(columns={"device_or_plate": "pseudo_id"})
    base["seen_at"] = base["seen_at"].dt.tz_localize(None)
    now = base["seen_at"].max().normalize() + pd.Timedelta("12h")

    # quality on the untiled data (ids in clear stand in for pseudonyms: the analytics only
    # join on equality, so the figures are the same)
    tr = city.truth.floating_residents
    dl = pd.concat(
        [
            tr[["device_id", "id_number"]].rename(columns={"device_id": "pseudo_id"}),
            tr[["plate", "id_number"]].rename(columns={"plate": "pseudo_id"}),
        ]
    )
    dl = dl[(dl["pseudo_id"] != "") & (dl["id_number"] != "")].rename(
        columns={"id_number": "person_id"}
    )
    reg = city.persons.rename(columns={"id_number": "person_id"})[
        ["person_id", "registration", "compound"]
    ]
    v = verify_population(
        base, links, reg, now=now, device_links=dl, window_nights=28, threshold=0.9
    )
    flagged = set(v.decisions.loc[v.decisions["decision"] == "unregistered_resident", "pseudo_id"])
    pred = tr["device_id"].isin(flagged) | (tr["plate"].isin(flagged) & (tr["plate"] != ""))
    sc = score_decisions(pred, tr["group"] == "unregistered_resident")
    gone = set(v.decisions.loc[v.decisions["decision"] == "registration_stale", "pseudo_id"])
    sc_stale = score_decisions(
        tr["id_number"].isin(gone) & (tr["id_number"] != ""), tr["group"] == "registered_gone"
    )

    parts = []
    for c in range(args.copies):
        p = base.copy()
        p["pseudo_id"] = p["pseudo_id"] + f"#{c}"
        parts.append(p)
    big = pd.concat(parts, ignore_index=True)
    t0 = time.perf_counter()
    comp, _ = presence_profiles(big, links, now=now, window_nights=28)
    ours_s = time.perf_counter() - t0

    sub = big.iloc[: args.baseline_rows]
    last = (now.normalize() - pd.Timedelta(days=1)).date()
    first = (now.normalize() - pd.Timedelta(days=28)).date()
    t0 = time.perf_counter()
    ref = naive(sub, links, first, last)
    base_s = time.perf_counter() - t0
    # the naive loop agrees with ours on its subset
    chk, _ = presence_profiles(sub, links, now=now, window_nights=28)
    agree = (
        dict(zip(zip(chk["pseudo_id"], chk["compound"], strict=True), chk["nights"], strict=True))
        == ref
    )
    assert night_of(np.array(["2024-01-01T23:00"], dtype="datetime64[s]"))[0] == np.datetime64(
        "2024-01-01"
    )
    ours_rate = len(big) / ours_s
    base_rate = len(sub) / base_s
    print(
        json.dumps(
            {
                "name": "population_presence",
                "ours_s": round(ours_s, 3),
                "baseline": "per-row Python loop (dicts of sets)",
                "baseline_s": round(base_s * len(big) / len(sub), 3),
                "ratio": round(ours_rate / base_rate, 1),
                "sightings": len(big),
                "ours_sightings_per_s": round(ours_rate),
                "baseline_sightings_per_s": round(base_rate),
                "target_sightings_per_s": 50_000,
                "naive_agrees": bool(agree),
                "profiles": len(comp),
                "unregistered_precision": round(sc.precision, 4),
                "unregistered_recall": round(sc.recall, 4),
                "unregistered_tp_fp_fn": [sc.true_positive, sc.false_positive, sc.false_negative],
                "stale_precision": round(sc_stale.precision, 4),
                "stale_recall": round(sc_stale.recall, 4),
                "floating_residents": len(tr),
            }
        )
    )


if __name__ == "__main__":
    main()
