"""Sensing ring (感知圈): presence profiles from sightings of pseudonymised devices and plates.

A sighting is (pseudonymised id, sensor, local time). A sensor stands for the residential
compounds within ``radius_m`` of it (:func:`sensor_compounds`). A *night* runs from
``night_start_h`` (default 21:00) to ``night_end_h`` (06:00) local time and is named after the
evening it starts on; a sighting at 02:00 on the 12th belongs to the night of the 11th.

Everything is vectorised with NumPy/pandas group-bys over (id, compound, night); no id in
clear ever reaches this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["night_of", "presence_profiles", "sensor_compounds"]


def sensor_compounds(
    sensor_id: Any,
    sensor_x_m: Any,
    sensor_y_m: Any,
    compound: Any,
    compound_x_m: Any,
    compound_y_m: Any,
    *,
    radius_m: float = 250.0,
    min_per_compound: int = 0,
) -> pd.DataFrame:
    """Which compounds each sensor stands for (点位-小区关联): all within ``radius_m``.

    With ``min_per_compound`` = k > 0, each compound is also stood for by its k nearest
    sensors however far (where sensors are sparse, the nearest probes are the compound's).

    Parameters
    ----------
    sensor_id, sensor_x_m, sensor_y_m : array_like, shape (n_sensors,)
        Sensors and their position, metres.
    compound, compound_x_m, compound_y_m : array_like, shape (n_compounds,)
        Residential compounds (names or ids) and their centre, metres.
    radius_m : float, default 250
        A sensor stands for every compound whose centre lies within this distance.
    min_per_compound : int, default 0
        Sensors every compound gets at least (its nearest ones).

    Returns
    -------
    pandas.DataFrame
        ``sensor_id, compound, distance_m``, one row per pair.

    Examples
    --------
    >>> sensor_compounds(["S1", "S2"], [0, 1000], [0, 0], ["A", "B"], [100, 150], [0, 0])
    ... # doctest: +NORMALIZE_WHITESPACE
      sensor_id compound  distance_m
    0        S1        A       100.0
    1        S1        B       150.0
    """
    sx = np.asarray(sensor_x_m, float)
    sy = np.asarray(sensor_y_m, float)
    cx = np.asarray(compound_x_m, float)
    cy = np.asarray(compound_y_m, float)
    sid = np.asarray(sensor_id)
    comp = np.asarray(compound)
    if not radius_m > 0:
        raise ValueError(f"radius_m must be > 0 metres; got {radius_m!r}.")
    pairs = cKDTree(np.column_stack([sx, sy])).query_ball_tree(
        cKDTree(np.column_stack([cx, cy])), r=radius_m
    )
    s_idx = np.repeat(np.arange(sx.size), [len(p) for p in pairs])
    c_idx = np.fromiter((j for p in pairs for j in p), dtype=np.int64, count=s_idx.size)
    k = min(int(min_per_compound), sx.size)
    if k > 0 and cx.size:
        _, near = cKDTree(np.column_stack([sx, sy])).query(np.column_stack([cx, cy]), k=k)
        near = np.asarray(near).reshape(cx.size, k)
        both = np.unique(
            np.column_stack(
                [np.r_[s_idx, near.ravel()], np.r_[c_idx, np.repeat(np.arange(cx.size), k)]]
            ),
            axis=0,
        )
        s_idx, c_idx = both[:, 0], both[:, 1]
    d = np.hypot(sx[s_idx] - cx[c_idx], sy[s_idx] - cy[c_idx])
    out = pd.DataFrame({"sensor_id": sid[s_idx], "compound": comp[c_idx], "distance_m": d})
    return out.sort_values(["sensor_id", "distance_m"], kind="stable").reset_index(drop=True)


def night_of(local_times: Any, *, night_start_h: int = 21, night_end_h: int = 6) -> np.ndarray:
    """Night (as the date of its evening) of each local time, or NaT outside the night.

    Parameters
    ----------
    local_times : array_like of datetime64
        Local wall-clock times (naive, or tz-aware in the local zone).
    night_start_h, night_end_h : int, default 21 and 6
        The night is ``[night_start_h:00, night_end_h:00)`` across midnight.

    Returns
    -------
    numpy.ndarray of datetime64[D]

    Examples
    --------
    >>> night_of(np.array(["2024-05-11T22:00", "2024-05-12T02:00", "2024-05-12T12:00"],
    ...                   dtype="datetime64[s]")).astype(str).tolist()
    ['2024-05-11', '2024-05-11', 'NaT']
    """
    t = pd.DatetimeIndex(pd.to_datetime(np.asarray(local_times)))
    if t.tz is not None:
        t = t.tz_localize(None)
    v = t.to_numpy().astype("datetime64[s]")
    day = v.astype("datetime64[D]")
    hour = (v - day).astype(np.int64) // 3600
    evening = hour >= night_start_h
    morning = hour < night_end_h
    out = np.where(morning, day - np.timedelta64(1, "D"), day)
    return np.where(evening | morning, out, np.datetime64("NaT", "D"))


def presence_profiles(
    sightings: pd.DataFrame,
    links: pd.DataFrame,
    *,
    now: Any,
    window_nights: int = 14,
    night_start_h: int = 21,
    night_end_h: int = 6,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Presence profile per id (在场画像): nights near each compound, first and last seen.

    Parameters
    ----------
    sightings : pandas.DataFrame
        ``pseudo_id`` (pseudonymised device or plate), ``sensor_id`` and ``seen_at`` (local
        time, naive or tz-aware). Not modified.
    links : pandas.DataFrame
        ``sensor_id, compound`` pairs from :func:`sensor_compounds`.
    now : datetime-like
        End of the window (local time); the window holds the ``window_nights`` nights whose
        evenings precede ``now``'s date (a night still in progress is left out).
    window_nights : int, default 14
        Nights counted.
    night_start_h, night_end_h : int
        As for :func:`night_of`.

    Returns
    -------
    compounds : pandas.DataFrame
        One row per (pseudo_id, compound) seen at night in the window: ``nights`` (distinct
        nights seen), ``sightings``, ``first_night``, ``last_night``.
    ids : pandas.DataFrame
        One row per pseudo_id: ``first_seen, last_seen, sightings, night_sightings,
        day_sensors`` (distinct sensors seen at daytime: the regular daytime places),
        ``top_day_sensor`` (its most frequent daytime sensor, "" if none).
    """
    for col in ("pseudo_id", "sensor_id", "seen_at"):
        if col not in sightings.columns:
            raise ValueError(
                f"sightings lacks column {col!r}; it needs pseudo_id, sensor_id, seen_at."
            )
    if not (isinstance(window_nights, int) and window_nights >= 1):
        raise ValueError(f"window_nights must be an int >= 1; got {window_nights!r}.")
    seen = pd.to_datetime(sightings["seen_at"])
    if getattr(seen.dt, "tz", None) is not None:
        seen = seen.dt.tz_localize(None)
    now_ts = pd.Timestamp(now)
    if now_ts.tzinfo is not None:
        now_ts = now_ts.tz_localize(None)
    t = seen.to_numpy().astype("datetime64[s]")
    night = night_of(t, night_start_h=night_start_h, night_end_h=night_end_h)
    last_night = np.datetime64(now_ts.date(), "D") - np.timedelta64(1, "D")
    if now_ts.hour >= night_end_h:
        pass  # last night finished at night_end_h this morning
    else:
        last_night = last_night - np.timedelta64(1, "D")
    first_night = last_night - np.timedelta64(window_nights - 1, "D")
    pid = sightings["pseudo_id"].to_numpy()
    sid = sightings["sensor_id"].to_numpy()
    is_night = ~np.isnat(night)
    per_id = pd.DataFrame({"pseudo_id": pid, "t": t, "night": is_night})
    ids = per_id.groupby("pseudo_id", sort=True).agg(
        first_seen=("t", "min"),
        last_seen=("t", "max"),
        sightings=("t", "size"),
        night_sightings=("night", "sum"),
    )
    day = pd.DataFrame({"pseudo_id": pid[~is_night], "sensor_id": sid[~is_night]})
    if len(day):
        cnt = day.groupby(["pseudo_id", "sensor_id"], sort=True).size().rename("n").reset_index()
        ids["day_sensors"] = cnt.groupby("pseudo_id").size()
        top = cnt.sort_values(["pseudo_id", "n"], ascending=[True, False], kind="stable")
        ids["top_day_sensor"] = top.drop_duplicates("pseudo_id").set_index("pseudo_id")["sensor_id"]
    else:
        ids["day_sensors"] = 0
        ids["top_day_sensor"] = ""
    ids["day_sensors"] = ids["day_sensors"].fillna(0).astype(np.int64)
    ids["top_day_sensor"] = ids["top_day_sensor"].fillna("")
    ids = ids.reset_index()

    in_win = is_night & (night >= first_night) & (night <= last_night)
    nights = pd.DataFrame(
        {"pseudo_id": pid[in_win], "sensor_id": sid[in_win], "night": night[in_win]}
    )
    m = nights.merge(links[["sensor_id", "compound"]], on="sensor_id", how="inner")
    if len(m) == 0:
        empty = pd.DataFrame(
            {
                "pseudo_id": [],
                "compound": [],
                "nights": [],
                "sightings": [],
                "first_night": [],
                "last_night": [],
            }
        )
        return empty, ids
    comp = (
        m.groupby(["pseudo_id", "compound"], sort=True)
        .agg(
            nights=("night", "nunique"),
            sightings=("night", "size"),
            first_night=("night", "min"),
            last_night=("night", "max"),
        )
        .reset_index()
    )
    return comp, ids
