"""High-incidence places and repeat callers (高发部位 · 重复报警).

A few places and a few callers account for a large share of calls for service (Farrington et
al. 1993 on repeat victimisation). :func:`repeat_places` groups incidents into places — the
same normalised address (:func:`haizhou.analytics.address.normalise_address`), then places
whose points lie within ``snap_m`` of each other — and :func:`repeat_callers` groups calls by
the caller's pseudonym (never a clear number). Both rank the groups with one documented score.

Score
-----
For a group with events at times ``t_i <= now`` and categories ``c_i``::

    recency_weighted_count = Σ_i 0.5 ** ((now − t_i) / half_life_days)
    category_entropy       = H(c) / ln(K)      (Shannon entropy of the category shares, in
                                                [0, 1]; 0 when one category, K = number of
                                                categories in the group, 0 if K = 1)
    score = recency_weighted_count × (1 − mix_weight × category_entropy)

So, at equal counts, a place called about recently ranks above one called about long ago, and
a place with one recurring problem (say, the same shop burgled again and again) ranks above one
with scattered kinds of incidents, which is the more actionable finding. ``mix_weight = 0``
ranks by recency-weighted count alone; ``half_life_days = inf`` makes it the plain count. The
frame also gives the raw count, first and last time, the top category and its share, so a
reader can re-rank.

Snapping
--------
Address groups (and incidents without an address) are nodes; two nodes whose representative
points (the coordinate-wise median of their incidents, projected to metres on a local plane)
lie within ``snap_m`` are joined, and connected components are places (a KD-tree finds the
close pairs; union by connected components). Components can chain along a dense street, so keep
``snap_m`` small (tens of metres: geocoding noise, not a neighbourhood). Incidents without
coordinates join only by address.

References
----------
.. [1] Farrington, D. P., Bowen, S., Buckle, A., Burns-Howell, T., Burrows, J. & Speed, M.
   (1993). An experiment on the prevention of shoplifting. In R. V. Clarke (ed.), Crime
   Prevention Studies 1, 93–119.
.. [2] Pease, K. (1998). Repeat Victimisation: Taking Stock. Crime Detection and Prevention
   Series Paper 90. London: Home Office.
.. [3] Sherman, L. W., Gartin, P. R. & Buerger, M. E. (1989). Hot spots of predatory crime:
   routine activities and the criminology of place. Criminology 27(1), 27–56.
   doi:10.1111/j.1745-9125.1989.tb00862.x
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from haizhou.analytics.address import normalise_address
from haizhou.analytics.base import EPOCH, to_days
from haizhou.geo.projection import LocalProjection

__all__ = ["repeat_callers", "repeat_places"]


def _check_positive(
    name: str, value: Any, *, allow_zero: bool = False, allow_inf: bool = False
) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (v >= 0 if allow_zero else v > 0) and not math.isnan(v)
        ok = ok and (allow_inf or math.isfinite(v))
    if not ok:
        rel = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a number {rel}; got {value!r}.")
    return float(value)


def _labels(values: Any, n: int, name: str) -> np.ndarray:
    """Object array of str (None for missing) with one value per event."""
    if values is None:
        return np.full(n, None, dtype=object)
    arr = np.asarray(pd.Series(values, dtype=object).to_numpy(), dtype=object).reshape(-1)
    if arr.size != n:
        raise ValueError(f"{name} must have one value per event ({n}); got {arr.size}.")
    out = np.full(n, None, dtype=object)
    for k, v in enumerate(arr):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            continue
        s = str(v)
        if s.strip():
            out[k] = s
    return out


def _times(times: Any, now: Any) -> tuple[np.ndarray, float]:
    t = to_days(pd.Series(times).to_numpy() if not isinstance(times, np.ndarray) else times)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(t)):
        bad = int(np.flatnonzero(~np.isfinite(t))[0])
        raise ValueError(f"times[{bad}] is missing or not finite; drop or repair it first.")
    now_days = float(to_days(now))
    late = np.flatnonzero(t > now_days + 1e-9)
    if late.size:
        raise ValueError(
            f"{late.size} event(s) are after now (first: times[{int(late[0])}]); pass a 'now' "
            "at or after the last event, or select the events known at 'now' first."
        )
    return t, now_days


def _as_datetime(days: np.ndarray) -> np.ndarray:
    return EPOCH + np.round(np.asarray(days) * 86_400.0).astype("timedelta64[s]")


def _summarise(
    group: np.ndarray,
    t: np.ndarray,
    cats: np.ndarray,
    now_days: float,
    *,
    min_count: int,
    half_life_days: float,
    mix_weight: float,
) -> pd.DataFrame:
    """One row per group with at least ``min_count`` events, ranked by score."""
    frame = pd.DataFrame(
        {"group": group, "t": t, "cat": pd.Series(cats, dtype=object).fillna("(none)")}
    )
    frame["event_index"] = np.arange(len(frame))
    sizes = frame.groupby("group", sort=False)["t"].transform("size")
    frame = frame[sizes >= min_count]
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "group", "count", "first_time", "last_time", "days_since_last",
                "recency_weighted_count", "top_category", "top_share", "category_entropy",
                "categories", "score", "event_index",
            ]
        )  # fmt: skip
    frame = frame.assign(weight=0.5 ** ((now_days - frame["t"]) / half_life_days))
    g = frame.groupby("group", sort=False)
    out = pd.DataFrame(
        {
            "count": g.size(),
            "first_days": g["t"].min(),
            "last_days": g["t"].max(),
            "recency_weighted_count": g["weight"].sum(),
            "event_index": g["event_index"].agg(lambda s: s.tolist()),
        }
    )
    cat_counts = frame.groupby(["group", "cat"], sort=False).size().rename("n").reset_index()
    cat_counts = cat_counts.sort_values(["group", "n", "cat"], ascending=[True, False, True])
    top = cat_counts.drop_duplicates("group").set_index("group")
    out["top_category"] = top["cat"]
    out["top_share"] = top["n"] / out["count"]
    share = cat_counts["n"] / cat_counts["group"].map(out["count"])
    ent = (-share * np.log(share)).groupby(cat_counts["group"]).sum()
    k = cat_counts.groupby("group").size()
    out["category_entropy"] = np.where(k > 1, ent / np.log(k.clip(lower=2)), 0.0)
    out["categories"] = cat_counts.groupby("group", sort=False).apply(
        lambda d: "; ".join(f"{c}: {n}" for c, n in zip(d["cat"], d["n"], strict=True)),
        include_groups=False,
    )
    out["score"] = out["recency_weighted_count"] * (1 - mix_weight * out["category_entropy"])
    out["first_time"] = _as_datetime(out["first_days"].to_numpy())
    out["last_time"] = _as_datetime(out["last_days"].to_numpy())
    out["days_since_last"] = now_days - out["last_days"]
    out = out.reset_index(names="group").sort_values(
        ["score", "count", "last_days", "group"], ascending=[False, False, False, True]
    )
    return out.drop(columns=["first_days", "last_days"]).reset_index(drop=True)


def repeat_places(
    addresses: Any,
    lon: Any,
    lat: Any,
    times: Any,
    categories: Any = None,
    *,
    now: Any,
    snap_m: float = 30.0,
    min_count: int = 3,
    half_life_days: float = 30.0,
    mix_weight: float = 0.5,
    drop_unit: bool = False,
) -> pd.DataFrame:
    """High-incidence places (高发部位): places with repeated incidents, ranked.

    Parameters
    ----------
    addresses : array_like of str or None, shape (n,)
        Free-text addresses; None, NaN or blank for none. Not modified.
    lon, lat : array_like of float, shape (n,)
        WGS-84 degrees, longitude first; NaN where unknown.
    times : array_like, shape (n,)
        Incident times (``datetime64``, ISO strings or float days since 1970-01-01).
    categories : array_like of str, shape (n,), optional
        Incident category (e.g. 盗窃); missing counts as "(none)".
    now : datetime-like or float days
        Reference time for recency; every incident must be at or before it.
    snap_m : float, default 30.0
        Places whose representative points are at most this far apart (metres) are merged;
        0 merges by address only.
    min_count : int, default 3
        Smallest number of incidents for a place to be listed.
    half_life_days : float, default 30.0
        Half-life of an incident's weight in the recency-weighted count (``inf``: no decay).
    mix_weight : float in [0, 1], default 0.5
        How much a mixed category profile lowers the score (see the module notes).
    drop_unit : bool, default False
        Normalise addresses to the building (drop unit, floor and room).

    Returns
    -------
    pandas.DataFrame
        One row per place, best first: ``place_id`` (1 = highest score), ``address`` (the
        place's most frequent normalised address, "" if none), ``n_addresses``, ``lon``,
        ``lat`` (median of its incidents), ``count``, ``first_time``, ``last_time``
        (``datetime64``), ``days_since_last``, ``recency_weighted_count``, ``top_category``,
        ``top_share``, ``category_entropy`` (0–1), ``categories`` ("盗窃: 5; 诈骗: 1"),
        ``score`` and ``event_index`` (list of input positions: the evidence).

    Raises
    ------
    ValueError
        When arrays differ in length, a time is missing or after ``now``, or a parameter is
        out of range.

    References
    ----------
    .. [1] Farrington, D. P. et al. (1993). Crime Prevention Studies 1, 93–119.

    Examples
    --------
    >>> out = repeat_places(
    ...     ["新浦路32号", "新浦路 三十二號", "江苏省连云港市海州区新浦路32号", "朝阳路1号"],
    ...     [119.2, 119.2, 119.2001, 119.25], [34.6, 34.6, 34.6, 34.62],
    ...     ["2024-05-01", "2024-05-20", "2024-05-30", "2024-05-30"], ["盗窃"] * 4,
    ...     now="2024-06-01")
    >>> out[["place_id", "address", "count", "top_category"]].values.tolist()
    [[1, '新浦路32号', 3, '盗窃']]
    """
    t, now_days = _times(times, now)
    n = t.size
    addr = _labels(addresses, n, "addresses")
    lon_a = np.asarray(lon, dtype=np.float64).reshape(-1)
    lat_a = np.asarray(lat, dtype=np.float64).reshape(-1)
    if lon_a.size != n or lat_a.size != n:
        raise ValueError(
            f"lon and lat must have one value per event ({n}); got {lon_a.size} and {lat_a.size}."
        )
    cats = _labels(categories, n, "categories")
    snap = _check_positive("snap_m", snap_m, allow_zero=True)
    half = _check_positive("half_life_days", half_life_days, allow_inf=True)
    if not (isinstance(min_count, (int, np.integer)) and not isinstance(min_count, bool)) or (
        min_count < 1
    ):
        raise ValueError(f"min_count must be an int >= 1; got {min_count!r}.")
    if not 0 <= float(mix_weight) <= 1:
        raise ValueError(f"mix_weight must be in [0, 1]; got {mix_weight!r}.")

    keys = np.array(
        [normalise_address(a, drop_unit=drop_unit) if a is not None else "" for a in addr],
        dtype=object,
    )
    # Nodes: one per non-empty key, one per incident without a key.
    node_of_key: dict[str, int] = {}
    node = np.empty(n, dtype=np.int64)
    n_nodes = 0
    for k, key in enumerate(keys):
        if key:
            if key not in node_of_key:
                node_of_key[key] = n_nodes
                n_nodes += 1
            node[k] = node_of_key[key]
        else:
            node[k] = n_nodes
            n_nodes += 1

    place = np.arange(n_nodes)
    has_xy = np.isfinite(lon_a) & np.isfinite(lat_a)
    if snap > 0 and has_xy.any():
        pos = pd.DataFrame({"node": node[has_xy], "lon": lon_a[has_xy], "lat": lat_a[has_xy]})
        med = pos.groupby("node").median()
        proj = LocalProjection.for_bounds(
            float(med["lon"].min()), float(med["lat"].min()),
            float(med["lon"].max()), float(med["lat"].max()),
        )  # fmt: skip
        x, y = proj.forward(med["lon"].to_numpy(), med["lat"].to_numpy())
        pairs = cKDTree(np.column_stack([x, y])).query_pairs(snap, output_type="ndarray")
        if pairs.size:
            ids = med.index.to_numpy()
            a, b = ids[pairs[:, 0]], ids[pairs[:, 1]]
            graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n_nodes, n_nodes))
            _, place = connected_components(graph, directed=False)
    group = place[node]

    out = _summarise(
        group, t, cats, now_days, min_count=int(min_count), half_life_days=half,
        mix_weight=float(mix_weight),
    )  # fmt: skip
    if out.empty:
        cols = ["place_id", "address", "n_addresses", "lon", "lat", *out.columns[1:]]
        return pd.DataFrame(columns=cols)
    members = pd.DataFrame({"group": group, "key": keys, "lon": lon_a, "lat": lat_a})
    members = members[members["group"].isin(out["group"])]
    named = members[members["key"] != ""]
    top_key = (
        named.groupby(["group", "key"]).size().rename("n").reset_index()
        .sort_values(["group", "n", "key"], ascending=[True, False, True])
        .drop_duplicates("group").set_index("group")["key"]
    )  # fmt: skip
    n_keys = named.groupby("group")["key"].nunique()
    med = members.groupby("group")[["lon", "lat"]].median()
    out.insert(0, "place_id", np.arange(1, len(out) + 1))
    out.insert(1, "address", out["group"].map(top_key).fillna("").to_numpy())
    out.insert(2, "n_addresses", out["group"].map(n_keys).fillna(0).astype(np.int64).to_numpy())
    out.insert(3, "lon", out["group"].map(med["lon"]).to_numpy())
    out.insert(4, "lat", out["group"].map(med["lat"]).to_numpy())
    return out.drop(columns=["group"])


def repeat_callers(
    caller_pseudonyms: Any,
    times: Any,
    categories: Any = None,
    *,
    now: Any,
    min_count: int = 3,
    half_life_days: float = 30.0,
    mix_weight: float = 0.5,
) -> pd.DataFrame:
    """Repeat callers (重复报警人): callers with repeated calls, ranked.

    Works on pseudonyms (the keyed HMAC the ingest step stores), never on clear numbers:
    nothing here can or needs to reveal who called.

    Parameters
    ----------
    caller_pseudonyms : array_like of str or None, shape (n,)
        Caller pseudonym per call; None, NaN or blank for anonymous calls (not grouped).
    times : array_like, shape (n,)
        Call times (``datetime64``, ISO strings or float days).
    categories : array_like of str, shape (n,), optional
        Call category; missing counts as "(none)".
    now : datetime-like or float days
        Reference time; every call must be at or before it.
    min_count : int, default 3
    half_life_days : float, default 30.0
    mix_weight : float in [0, 1], default 0.5
        As in :func:`repeat_places` (see the module notes for the score).

    Returns
    -------
    pandas.DataFrame
        One row per caller, best first: ``caller_rank``, ``caller`` (the pseudonym),
        ``count``, ``first_time``, ``last_time``, ``days_since_last``,
        ``recency_weighted_count``, ``top_category``, ``top_share``, ``category_entropy``,
        ``categories``, ``score``, ``event_index``.

    Examples
    --------
    >>> out = repeat_callers(["p1", "p1", "p1", "p2", None], [1.0, 2.0, 3.0, 3.0, 3.0],
    ...                      ["纠纷"] * 5, now=3.0)
    >>> out[["caller_rank", "caller", "count"]].values.tolist()
    [[1, 'p1', 3]]
    """
    t, now_days = _times(times, now)
    n = t.size
    callers = _labels(caller_pseudonyms, n, "caller_pseudonyms")
    cats = _labels(categories, n, "categories")
    half = _check_positive("half_life_days", half_life_days, allow_inf=True)
    if not (isinstance(min_count, (int, np.integer)) and not isinstance(min_count, bool)) or (
        min_count < 1
    ):
        raise ValueError(f"min_count must be an int >= 1; got {min_count!r}.")
    if not 0 <= float(mix_weight) <= 1:
        raise ValueError(f"mix_weight must be in [0, 1]; got {mix_weight!r}.")
    known = np.array([c is not None for c in callers], dtype=bool)
    codes, uniques = pd.factorize(pd.Series(callers[known], dtype=object))
    group = np.full(n, -1, dtype=np.int64)
    group[known] = codes
    out = _summarise(
        group[known], t[known], cats[known], now_days, min_count=int(min_count),
        half_life_days=half, mix_weight=float(mix_weight),
    )  # fmt: skip
    index_map = np.flatnonzero(known)
    out["event_index"] = [
        index_map[np.asarray(ix, dtype=np.int64)].tolist() for ix in out["event_index"]
    ]
    out.insert(0, "caller_rank", np.arange(1, len(out) + 1))
    out.insert(1, "caller", [uniques[g] for g in out["group"]])
    return out.drop(columns=["group"])
