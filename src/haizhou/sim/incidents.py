"""Incidents (警情) with real structure, and the ground truth behind them.

What shapes them:

- **time**: an hour-of-day × weekday profile per category (:data:`~haizhou.sim.catalog.PROFILES`),
  a slow log-linear trend, a yearly cycle and holiday multipliers (Spring Festival, National Day);
- **space**: a background over the address gazetteer (population density × place affinity) plus
  persistent hot spots (:data:`~haizhou.sim.catalog.HOTSPOTS`) around commerce and nightlife;
- **repeat-call addresses**: a few addresses calling again and again, with the same phone;
- **near-repeat burglary**: a Hawkes process whose offspring follow an exponential kernel in
  time (7-day scale) and a Gaussian kernel in space (200 m), branching ratio 0.3;
- **serial offenders**: home base, active period and MO signature (see :mod:`haizhou.sim.cases`);
- **fraud**: victims drawn from the registry by their true risk, located at home;
- **planted surges**: extra incidents of one category in one jurisdiction for one to three weeks.

Times are integer seconds since local midnight of ``start`` (Asia/Shanghai, UTC+8, no DST).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import shapely

from haizhou.sim import catalog
from haizhou.sim.geography import COMMERCIAL, RESIDENTIAL, Geography
from haizhou.sim.identifiers import birth_dates_for_ages, make_id_numbers

INCIDENTS_PER_YEAR_AT_SCALE_1 = 100_000
CAT_KEYS = tuple(catalog.CATEGORIES)
#: Origin codes of generated incidents (truth/incident_origins.csv).
ORIGINS = (
    "background",
    "hotspot",
    "repeat_address",
    "burglary_background",
    "burglary_offspring",
    "serial",
    "fraud",
    "surge",
)
NEAR_REPEAT = {
    "branching_ratio": 0.3,
    "time_scale_days": 7.0,
    "spatial_sigma_m": 200.0,
}
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class IncidentParts:
    """Generated incidents (in generation order) plus the truth tables built alongside."""

    frame: pd.DataFrame
    hotspots: pd.DataFrame
    surges: pd.DataFrame
    repeats: pd.DataFrame
    offenders: pd.DataFrame
    near_repeat: pd.DataFrame


def hour_weights(category: str, start: date, days: int) -> np.ndarray:
    """Relative intensity of ``category`` in each hour of the period, shape ``(days * 24,)``.

    The weekly profile is normalised to mean 1, so ``weights.sum() / 24`` is the number of
    "average days" in the period after trend, season and holidays.
    """
    spec = catalog.CATEGORIES[category]
    prof = catalog.PROFILES[spec.profile]
    hour = np.array(prof.hour)
    weekday = np.array(prof.weekday)
    grid = np.empty((7, 24))
    for d in range(7):
        for h in range(24):
            wd = (d - 1) % 7 if (prof.night_shift and h < 6) else d
            grid[d, h] = hour[h] * weekday[wd]
    grid /= grid.mean()
    day = np.arange(days)
    dow = (start.weekday() + day) % 7
    years = day / 365.25
    doy = np.array([(start + timedelta(days=int(d))).timetuple().tm_yday for d in day])
    daily = np.exp(spec.trend_per_year * years) * (
        1.0 + spec.season_amplitude * np.cos(2 * np.pi * (doy - 205) / 365.25)
    )
    daily = daily * holiday_multiplier(category, start, days)
    return (grid[dow] * daily[:, None]).ravel()


def holiday_multiplier(category: str, start: date, days: int) -> np.ndarray:
    """Per-day multiplier of ``category`` from the holidays (1 outside them)."""
    spec = catalog.CATEGORIES[category]
    out = np.ones(days)
    for _name, first, length, kind in catalog.HOLIDAYS:
        lo = (first - start).days
        hi = lo + length
        lo, hi = max(lo, 0), min(hi, days)
        if lo < hi:
            out[lo:hi] *= spec.holiday.get(kind, 1.0)
    return out


def _sample_times(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` times (s) drawn from hourly ``weights``; uniform within the hour."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cdf = np.cumsum(weights)
    hours = np.searchsorted(cdf, rng.uniform(0, cdf[-1], n), side="right")
    hours = np.minimum(hours, len(weights) - 1)
    return hours.astype(np.int64) * 3600 + rng.integers(0, 3600, n)


def _address_weights(geo: Geography, category: str) -> np.ndarray:
    spec = catalog.CATEGORIES[category]
    affinity = np.array(spec.place)[geo.addr_kind]
    return geo.addr_density * affinity


def _pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    idx = np.searchsorted(cdf, rng.uniform(0, cdf[-1], n), side="right")
    return np.minimum(idx, len(weights) - 1)


def _batch(
    t_s: np.ndarray,
    cat: str | np.ndarray,
    addr: np.ndarray,
    origin: str,
    ref: np.ndarray | int = -1,
    *,
    victim: np.ndarray | int = -1,
    offender: np.ndarray | int = -1,
) -> dict[str, np.ndarray]:
    n = len(t_s)
    cat_idx = (
        np.full(n, CAT_KEYS.index(cat)) if isinstance(cat, str) else np.asarray(cat, dtype=np.int64)
    )
    return {
        "t_s": np.asarray(t_s, dtype=np.int64),
        "cat": cat_idx,
        "addr": np.asarray(addr, dtype=np.int64),
        "origin": np.full(n, ORIGINS.index(origin)),
        "ref": np.broadcast_to(np.asarray(ref, dtype=np.int64), (n,)).copy(),
        "victim": np.broadcast_to(np.asarray(victim, dtype=np.int64), (n,)).copy(),
        "offender": np.broadcast_to(np.asarray(offender, dtype=np.int64), (n,)).copy(),
        "parent": np.full(n, -1, dtype=np.int64),
        "generation": np.zeros(n, dtype=np.int64),
    }


def generate_incidents(
    streams: dict[str, np.random.Generator],
    geo: Geography,
    persons: pd.DataFrame,
    taken_ids: set[str],
    *,
    scale: float,
    start: date,
    days: int,
) -> IncidentParts:
    """All incidents of the period with their truth (see the module notes)."""
    per_hour = INCIDENTS_PER_YEAR_AT_SCALE_1 * scale / 365.0 / 24.0
    weights = {c: hour_weights(c, start, days) for c in CAT_KEYS}
    expected = {c: catalog.CATEGORIES[c].share * per_hour * weights[c].sum() for c in CAT_KEYS}
    horizon = days * DAY_S
    batches: list[dict[str, np.ndarray]] = []

    # --- background and persistent hot spots --------------------------------------------
    rng_bg, rng_hot = streams["background"], streams["hotspots"]
    hot_rows = []
    hot_centres = []
    for h, (name, radius, shares) in enumerate(catalog.HOTSPOTS):
        place = geo.place(name)
        hot_centres.append((place.x_m, place.y_m, radius))
        for cat, share in shares.items():
            hot_rows.append((h, name, place.kind, cat, share, radius))
    for c in CAT_KEYS:
        if c in ("burglary", "fraud"):
            continue
        n = int(rng_bg.poisson(expected[c]))
        shares = [s for (_h, _n, _k, cat, s, _r) in hot_rows if cat == c]
        hot_ids = [h for (h, _n, _k, cat, _s, _r) in hot_rows if cat == c]
        split = rng_hot.multinomial(n, [*shares, 1.0 - sum(shares)]) if shares else np.array([n])
        n_bg = int(split[-1])
        addr = _pick(rng_bg, _address_weights(geo, c), n_bg)
        batches.append(_batch(_sample_times(rng_bg, weights[c], n_bg), c, addr, "background"))
        for h, k in zip(hot_ids, split[:-1], strict=True):
            k = int(k)
            cx, cy, radius = hot_centres[h]
            x = cx + rng_hot.normal(0, radius / 2, k)
            y = cy + rng_hot.normal(0, radius / 2, k)
            batches.append(
                _batch(_sample_times(rng_hot, weights[c], k), c, geo.snap(x, y), "hotspot", h)
            )
    hot_lon, hot_lat = geo.to_lon_lat(
        np.array([c[0] for c in hot_centres]), np.array([c[1] for c in hot_centres])
    )
    hotspots = pd.DataFrame(
        [
            {
                "hotspot_id": f"HS{h + 1:02d}",
                "name": name,
                "kind": kind,
                "category": catalog.CATEGORY_KEYS[cat],
                "category_key": cat,
                "share": share,
                "radius_m": radius,
                "lon": float(hot_lon[h]),
                "lat": float(hot_lat[h]),
                "expected_per_year": round(
                    share * catalog.CATEGORIES[cat].share * INCIDENTS_PER_YEAR_AT_SCALE_1 * scale, 2
                ),
            }
            for (h, name, kind, cat, share, radius) in hot_rows
        ]
    )

    # --- repeat-call addresses -----------------------------------------------------------
    rng_rep = streams["repeats"]
    n_rep = int(np.clip(round(20 * np.sqrt(scale)), 4, 80))
    rep_cat_keys = np.array(["dispute", "noise", "assistance", "fight"])
    rep_main = rng_rep.choice(len(rep_cat_keys), size=n_rep, p=[0.45, 0.3, 0.15, 0.1])
    cand = np.flatnonzero(geo.addr_kind != COMMERCIAL)
    rep_addr = rng_rep.choice(
        cand, size=n_rep, replace=False, p=geo.addr_density[cand] / geo.addr_density[cand].sum()
    )
    rep_unit = np.array(
        [
            f"{rng_rep.integers(1, 7)}单元{rng_rep.integers(1, 19) * 100 + rng_rep.integers(1, 5)}室"
            if geo.addr_kind[a] == RESIDENTIAL
            else ""
            for a in rep_addr
        ]
    )
    min_calls = 6 if days >= 60 else max(1, days // 10)  # "many calls" needs a long enough period
    rep_calls = np.maximum(min_calls, np.round(rng_rep.integers(12, 41, n_rep) * days / 365.0))
    rep_calls = rep_calls.astype(int)
    for r in range(n_rep):
        k = int(rep_calls[r])
        main = rep_cat_keys[rep_main[r]]
        cats = np.where(
            rng_rep.uniform(size=k) < 0.8, main, rep_cat_keys[rng_rep.integers(0, 3, k)]
        )
        t = np.concatenate(
            [_sample_times(rng_rep, weights[c], int((cats == c).sum())) for c in rep_cat_keys]
        )
        cat_idx = np.concatenate(
            [np.full(int((cats == c).sum()), CAT_KEYS.index(c)) for c in rep_cat_keys]
        )
        batches.append(_batch(t, cat_idx, np.full(k, rep_addr[r]), "repeat_address", r))

    # --- near-repeat burglary (Hawkes) ---------------------------------------------------
    rng_b = streams["burglary"]
    nr = NEAR_REPEAT
    n_immigrant = int(rng_b.poisson(expected["burglary"] * (1 - nr["branching_ratio"])))
    bw = _address_weights(geo, "burglary")
    addr = _pick(rng_b, bw, n_immigrant)
    t = _sample_times(rng_b, weights["burglary"], n_immigrant)
    b_t, b_addr, b_parent, b_gen = (
        [t],
        [addr],
        [np.full(n_immigrant, -1)],
        [np.zeros(n_immigrant, dtype=np.int64)],
    )
    hour_p = np.array(catalog.PROFILES["home_day"].hour)
    hour_cdf = np.cumsum(hour_p) / hour_p.sum()
    parents_t, parents_addr, parents_idx = t, addr, np.arange(n_immigrant)
    offset = n_immigrant
    gen = 0
    while len(parents_t):
        gen += 1
        k = rng_b.poisson(nr["branching_ratio"], len(parents_t))
        p = np.repeat(np.arange(len(parents_t)), k)
        if not len(p):
            break
        lag = rng_b.exponential(nr["time_scale_days"] * DAY_S, len(p))
        day = (parents_t[p] + lag).astype(np.int64) // DAY_S
        hour = np.searchsorted(hour_cdf, rng_b.uniform(size=len(p)), side="right")
        ct = day * DAY_S + np.minimum(hour, 23) * 3600 + rng_b.integers(0, 3600, len(p))
        ct = np.where(ct <= parents_t[p], ct + DAY_S, ct)
        x = geo.addr_x[parents_addr[p]] + rng_b.normal(0, nr["spatial_sigma_m"], len(p))
        y = geo.addr_y[parents_addr[p]] + rng_b.normal(0, nr["spatial_sigma_m"], len(p))
        ca = geo.snap(x, y, residential=True)
        keep = ct < horizon
        ct, ca, cp = ct[keep], ca[keep], parents_idx[p[keep]]
        idx = offset + np.arange(len(ct))
        offset += len(ct)
        b_t.append(ct)
        b_addr.append(ca)
        b_parent.append(cp)
        b_gen.append(np.full(len(ct), gen))
        parents_t, parents_addr, parents_idx = ct, ca, idx
    bt = np.concatenate(b_t)
    bb = _batch(bt, "burglary", np.concatenate(b_addr), "burglary_background")
    bb["parent"] = np.concatenate(b_parent)  # local index within this batch, fixed up below
    bb["generation"] = np.concatenate(b_gen)
    bb["origin"] = np.where(
        bb["generation"] > 0,
        ORIGINS.index("burglary_offspring"),
        ORIGINS.index("burglary_background"),
    )
    burglary_batch_pos = len(batches)
    batches.append(bb)
    near_repeat = pd.DataFrame(
        [
            (
                "model",
                "Hawkes: background × (1 + offspring); exp time kernel, Gaussian space kernel",
            ),
            ("branching_ratio", nr["branching_ratio"]),
            ("time_scale_days", nr["time_scale_days"]),
            ("spatial_sigma_m", nr["spatial_sigma_m"]),
            ("background_events", int(n_immigrant)),
            ("offspring_events", int(len(bt) - n_immigrant)),
            ("max_generation", int(bb["generation"].max(initial=0))),
            ("background_profile", "home_day"),
        ],
        columns=["parameter", "value"],
    )

    # --- serial offenders ----------------------------------------------------------------
    rng_o = streams["offenders"]
    off_batch, offenders = _serial_offenders(
        rng_o, geo, taken_ids, scale=scale, start=start, days=days
    )
    _serial_windows(streams["windows"], off_batch)
    batches.append(off_batch)

    # --- fraud: victims by true risk, at home --------------------------------------------
    rng_f = streams["fraud"]
    n_f = int(rng_f.poisson(expected["fraud"]))
    risk = persons["fraud_risk"].to_numpy()
    victim = _pick(rng_f, risk, n_f)
    batches.append(
        _batch(
            _sample_times(rng_f, weights["fraud"], n_f),
            "fraud",
            np.full(n_f, -1),
            "fraud",
            victim=victim,
        )
    )

    # --- planted surges ------------------------------------------------------------------
    base = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    base_jur = _jurisdiction_of_rows(geo, persons, base["addr"], base["victim"])
    rng_s = streams["surges"]
    surge_rows = []
    surge_cats = np.array(["theft", "burglary", "fraud", "fight", "dispute", "robbery"])
    n_years = max(1, round(days / 365))
    n_surges = (
        int(sum(rng_s.integers(3, 7) for _ in range(n_years))) if days >= 45 else int(days >= 14)
    )
    person_jur = persons["jurisdiction"].to_numpy()
    n_jur = len(geo.station_codes)
    for s in range(n_surges):
        cat = str(surge_cats[rng_s.choice(len(surge_cats), p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05])])
        ci = CAT_KEYS.index(cat)
        # surges happen where the category lives: jurisdiction weighted by its own count
        per_jur = np.bincount(base_jur[(base["cat"] == ci) & (base_jur >= 0)], minlength=n_jur)
        p_jur = per_jur / per_jur.sum() if per_jur.sum() else np.full(n_jur, 1.0 / n_jur)
        jur = int(rng_s.choice(n_jur, p=p_jur))
        daily = per_jur[jur] / days
        # long enough to expect ~10 baseline events (one to four weeks), inside the period
        wanted = int(np.clip(np.ceil(10.0 / daily) if daily > 0 else 28, 7, 28))
        duration = int(min(wanted + rng_s.integers(0, 4), max(1, days - 8)))
        day0 = int(
            rng_s.integers(
                min(7, days - duration), max(min(7, days - duration) + 1, days - duration)
            )
        )
        mult = round(float(rng_s.uniform(2.0, 4.0)), 2)
        rate = daily * duration
        n_extra = int(rng_s.poisson((mult - 1.0) * max(rate, 3.0)))
        w = weights[cat].copy()
        w[: day0 * 24] = 0.0
        w[(day0 + duration) * 24 :] = 0.0
        in_j = np.flatnonzero((person_jur if cat == "fraud" else geo.addr_jurisdiction) == jur)
        if len(in_j) == 0:  # nobody lives there: nothing to raise
            n_extra = 0
        t = _sample_times(rng_s, w, n_extra)
        if n_extra == 0:
            pass
        elif cat == "fraud":
            v = in_j[_pick(rng_s, risk[in_j], n_extra)]
            batches.append(_batch(t, cat, np.full(n_extra, -1), "surge", s, victim=v))
        else:
            a = in_j[_pick(rng_s, _address_weights(geo, cat)[in_j], n_extra)]
            batches.append(_batch(t, cat, a, "surge", s))
        surge_rows.append(
            {
                "surge_id": f"SG{s + 1:02d}",
                "jurisdiction": geo.station_codes[jur],
                "category": catalog.CATEGORY_KEYS[cat],
                "category_key": cat,
                "start_day": day0,
                "end_day": day0 + duration,
                "multiplier": mult,
                "baseline_expected": round(float(rate), 3),
                "extra_incidents": n_extra,
            }
        )
    surges = pd.DataFrame(
        surge_rows,
        columns=[
            "surge_id",
            "jurisdiction",
            "category",
            "category_key",
            "start_day",
            "end_day",
            "multiplier",
            "baseline_expected",
            "extra_incidents",
        ],
    )

    # --- assemble ------------------------------------------------------------------------
    # burglary parents refer to rows of the burglary batch: make them global row numbers
    offsets = np.cumsum([0] + [len(b["t_s"]) for b in batches])
    bpar = batches[burglary_batch_pos]["parent"]
    batches[burglary_batch_pos]["parent"] = np.where(
        bpar >= 0, bpar + offsets[burglary_batch_pos], -1
    )
    cols = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    jur = _jurisdiction_of_rows(geo, persons, cols["addr"], cols["victim"])
    frame = pd.DataFrame(cols)
    frame["jurisdiction"] = jur
    frame["category_key"] = np.array(CAT_KEYS)[frame["cat"].to_numpy()]
    # serial MO columns travel with the rows
    for name in ("occ_from_s", "occ_to_s"):
        frame[name] = -1
    for name in ("mo_entry", "mo_target", "mo_tools"):
        frame[name] = ""
    serial = frame["origin"].to_numpy() == ORIGINS.index("serial")
    for name, values in off_batch.items():
        if name.startswith(("occ_", "mo_")):
            frame.loc[serial, name] = values
    repeats = pd.DataFrame(
        {
            "repeat_id": [f"RA{r + 1:03d}" for r in range(n_rep)],
            "addr": rep_addr,
            "unit": rep_unit,
            "main_category_key": rep_cat_keys[rep_main],
            "n_calls": rep_calls,
        }
    )
    return IncidentParts(frame, hotspots, surges, repeats, offenders, near_repeat)


def _jurisdiction_of_rows(
    geo: Geography, persons: pd.DataFrame, addr: np.ndarray, victim: np.ndarray
) -> np.ndarray:
    out = np.where(addr >= 0, geo.addr_jurisdiction[np.maximum(addr, 0)], -1)
    pj = persons["jurisdiction"].to_numpy()
    return np.where(victim >= 0, pj[np.maximum(victim, 0)], out)


def offender_count(rng: np.random.Generator, scale: float, days: int) -> int:
    """30–60 serial offenders at scale ≥ 1, fewer (≥ 5) in smaller cities and short periods."""
    base = int(rng.integers(30, 61)) * min(1.0, float(np.sqrt(scale)))
    return max(min(5, 1 + days // 20), round(base * min(1.0, days / 90.0)))


def window_widths(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Seconds between the earliest and the latest time a case may have happened, by category.

    A burglary is found hours after it happened (half an hour to ten hours), a theft within three
    hours, a robbery is known to the minute; other categories up to two hours.
    """
    n = len(category)
    return np.select(
        [category == "burglary", category == "theft", category == "robbery"],
        [rng.integers(1800, 10 * 3600, n), rng.integers(300, 3 * 3600, n), rng.integers(0, 600, n)],
        rng.integers(0, 7200, n),
    )


def _serial_windows(rng: np.random.Generator, batch: dict[str, np.ndarray]) -> None:
    """Give the serial offenders' incidents their occurrence windows (发案时间段), in place.

    The window is as wide as any other case of the category (:func:`window_widths`): who did it
    does not show in how well its time is known. The true time of the act lies in it at a uniform
    position, and it ends at least a minute before the report.
    """
    occ, reported = batch.pop("occ_s"), batch["t_s"]
    width = window_widths(rng, np.array(CAT_KEYS)[batch["cat"]])
    occ_from = occ - (rng.uniform(size=len(occ)) * width).astype(np.int64)
    late = np.maximum(occ_from + width - (reported - 60), 0)
    batch["occ_from_s"] = occ_from - late
    batch["occ_to_s"] = occ_from + width - late


def _serial_offenders(
    rng: np.random.Generator,
    geo: Geography,
    taken_ids: set[str],
    *,
    scale: float,
    start: date,
    days: int,
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Serial offenders (系列案嫌疑人) and their incidents.

    Each offender has a home base (a compound), an active period, a category (burglary or
    theft) and an MO signature: entry method, target, tools and time-of-day band. Each case
    follows each signature attribute with probability 0.85, else draws it from the category's
    vocabulary. Distances from home follow a log-normal journey-to-crime (median 1.2 km).
    """
    n_off = offender_count(rng, scale, days)
    bands = list(catalog.TIME_OF_DAY_BANDS)
    weights = np.array([c.weight for c in geo.compounds])
    home = rng.choice(len(weights), size=n_off, p=weights / weights.sum())
    hx = np.array([geo.compounds[h].x_m for h in home]) + rng.normal(0, 40, n_off)
    hy = np.array([geo.compounds[h].y_m for h in home]) + rng.normal(0, 40, n_off)
    inside = shapely.contains_xy(geo.inner, hx, hy)
    hx = np.where(inside, hx, [geo.compounds[h].x_m for h in home])
    hy = np.where(inside, hy, [geo.compounds[h].y_m for h in home])
    category = np.where(rng.uniform(size=n_off) < 0.7, "burglary", "theft")
    age = rng.integers(19, 46, n_off)
    birth = birth_dates_for_ages(rng, age, age, start)
    region = np.where(
        rng.uniform(size=n_off) < 0.6,
        np.array(catalog.LOCAL_REGION_CODES)[
            rng.integers(0, len(catalog.LOCAL_REGION_CODES), n_off)
        ],
        np.array(catalog.OTHER_REGION_CODES)[
            rng.integers(0, len(catalog.OTHER_REGION_CODES), n_off)
        ],
    )
    id_numbers = make_id_numbers(rng, region, birth, taken=taken_ids)
    rows: dict[str, list[np.ndarray]] = {
        k: [] for k in ("t", "addr", "off", "occ", "entry", "target", "tools", "cat")
    }
    profiles = []
    for o in range(n_off):
        vocab = catalog.MO_VOCAB[str(category[o])]
        sig = {
            k: str(vocab[k][rng.integers(0, len(vocab[k]))])
            for k in ("entry_method", "target", "tools")
        }
        if category[o] == "burglary":
            sig["target"] = "住宅" if rng.uniform() < 0.75 else sig["target"]
            band_p = [0.15, 0.4, 0.35, 0.1]
        else:
            band_p = [0.2, 0.2, 0.3, 0.3]
        sig_band = bands[int(rng.choice(4, p=band_p))]
        length = int(min(days, rng.integers(60, 301)))
        first = int(rng.integers(0, max(1, days - length + 1)))
        n_cases = max(1, round(int(rng.integers(4, 19)) * min(1.0, length / 120.0)))
        day = first + rng.integers(0, length, n_cases)
        keep = {
            k: rng.uniform(size=n_cases) < 0.85 for k in ("entry_method", "target", "tools", "band")
        }
        entry = np.where(
            keep["entry_method"],
            sig["entry_method"],
            np.array(vocab["entry_method"])[rng.integers(0, len(vocab["entry_method"]), n_cases)],
        )
        target = np.where(
            keep["target"],
            sig["target"],
            np.array(vocab["target"])[rng.integers(0, len(vocab["target"]), n_cases)],
        )
        tools = np.where(
            keep["tools"],
            sig["tools"],
            np.array(vocab["tools"])[rng.integers(0, len(vocab["tools"]), n_cases)],
        )
        band = np.where(keep["band"], sig_band, np.array(bands)[rng.integers(0, 4, n_cases)])
        lo = np.array([catalog.TIME_OF_DAY_BANDS[b][0] for b in band])
        hi = np.array([catalog.TIME_OF_DAY_BANDS[b][1] for b in band])
        occ = day * DAY_S + rng.integers(lo * 3600, hi * 3600)
        # reported 15 min to 7 h after the act; the window around it is drawn afterwards,
        # independently of the offender (_serial_windows); the first draw is kept so that this
        # stream, and every case after it, stays as it was
        rng.integers(0, 1800, n_cases)
        reported = occ + rng.integers(300, 2400, n_cases) + rng.integers(600, 6 * 3600, n_cases)
        dist = rng.lognormal(np.log(1200.0), 0.6, n_cases)
        ang = rng.uniform(0, 2 * np.pi, n_cases)
        x, y = hx[o] + dist * np.cos(ang), hy[o] + dist * np.sin(ang)
        # homes for home burglary; shops, offices and streets for the rest
        residential = (category[o] == "burglary") & (target == "住宅")
        addr = np.where(
            residential, geo.snap(x, y, residential=True), geo.snap(x, y, residential=False)
        )
        ok = reported < days * DAY_S
        rows["t"].append(reported[ok])
        rows["addr"].append(addr[ok])
        rows["off"].append(np.full(int(ok.sum()), o))
        rows["occ"].append(occ[ok])
        rows["entry"].append(entry[ok])
        rows["target"].append(target[ok])
        rows["tools"].append(tools[ok])
        rows["cat"].append(np.full(int(ok.sum()), CAT_KEYS.index(str(category[o]))))
        hlon, hlat = geo.to_lon_lat(np.array([hx[o]]), np.array([hy[o]]))
        profiles.append(
            {
                "offender_id": f"FZ{o + 1:03d}",
                "id_number": str(id_numbers[o]),
                "category": catalog.CATEGORY_KEYS[str(category[o])],
                "home_lon": float(hlon[0]),
                "home_lat": float(hlat[0]),
                "home_compound": geo.compounds[int(home[o])].name,
                "active_from_day": first,
                "active_to_day": first + length,
                "entry_method": sig["entry_method"],
                "target": sig["target"],
                "tools": sig["tools"],
                "time_of_day": sig_band,
                "n_cases": int(ok.sum()),
            }
        )
    cat = {k: np.concatenate(v) for k, v in rows.items()}
    batch = _batch(cat["t"], cat["cat"], cat["addr"], "serial", cat["off"], offender=cat["off"])
    batch.update(
        {
            "occ_s": cat["occ"],
            "mo_entry": cat["entry"].astype(str),
            "mo_target": cat["target"].astype(str),
            "mo_tools": cat["tools"].astype(str),
        }
    )
    return batch, pd.DataFrame(profiles)
