"""Recorded crimes (案件) derived from incidents, with MO, losses, clearance and fraud victims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from haizhou.sim import catalog
from haizhou.sim.identifiers import birth_dates_for_ages, make_id_numbers
from haizhou.sim.incidents import window_widths

CASE_CATEGORIES = ("theft", "burglary", "robbery", "fraud")
#: Share solved among cases not committed by a simulated serial offender.
SOLVED_SHARE = {"theft": 0.25, "burglary": 0.3, "robbery": 0.6, "fraud": 0.15}
#: Share solved among serial offenders' cases (solved with the known offender).
SERIAL_SOLVED_SHARE = 0.4
#: Median loss (元) and log-normal sigma by category; fraud by type below.
LOSS = {"theft": (1500.0, 1.0), "burglary": (5000.0, 1.1), "robbery": (800.0, 1.0)}
FRAUD_LOSS_MEDIAN = {
    "刷单返利": 8000.0,
    "虚假投资理财": 60000.0,
    "冒充公检法": 90000.0,
    "网络贷款": 6000.0,
    "冒充客服": 12000.0,
    "虚假交友": 50000.0,
    "冒充熟人": 15000.0,
    "游戏交易": 2000.0,
}
DAY_S = 86_400
#: Target (侵害目标) by subcategory, for cases not committed by a serial offender.
TARGET_BY_SUBCATEGORY = {
    "盗窃电动车": "电动车",
    "盗窃车内财物": "车内财物",
    "扒窃": "行人",
    "入户盗窃": "住宅",
    "盗窃商铺": "商铺",
}
#: Property taken (被盗物品) by theft target.
THEFT_PROPERTY = {
    "电动车": ("电动车", "电瓶"),
    "摩托车": ("摩托车",),
    "车内财物": ("现金", "手机", "包", "笔记本电脑"),
    "行人": ("手机", "钱包"),
    "商铺": ("现金", "手机", "烟酒"),
}


@dataclass(frozen=True, slots=True)
class CaseParts:
    frame: pd.DataFrame  # canonical cases.csv columns (times as int seconds, formatted later)
    offender_cases: pd.DataFrame


def band_of_hour(hour: np.ndarray) -> np.ndarray:
    """Time-of-day band (作案时段) of local hours."""
    names = np.array(list(catalog.TIME_OF_DAY_BANDS))
    edges = np.array([hi for (_lo, hi) in catalog.TIME_OF_DAY_BANDS.values()])
    return names[np.searchsorted(edges, hour, side="right")]


def generate_cases(
    rng: np.random.Generator,
    incidents: pd.DataFrame,
    persons: pd.DataFrame,
    offenders: pd.DataFrame,
    taken_ids: set[str],
    *,
    start_date: date,
    days: int,
) -> CaseParts:
    """Cases from the crime incidents (sorted, with ``incident_id``), see the module notes.

    ``incidents`` must carry the generator's columns ``t_s, category_key, origin_name, offender,
    victim, occ_from_s, occ_to_s, mo_entry, mo_target, mo_tools``.
    """
    cat = incidents["category_key"].to_numpy()
    serial = incidents["origin_name"].to_numpy() == "serial"
    rate = np.array([catalog.CATEGORIES[c].case_rate for c in catalog.CATEGORIES])
    cat_rate = dict(zip(catalog.CATEGORIES, rate, strict=True))
    p = np.array([cat_rate[c] if c in CASE_CATEGORIES else 0.0 for c in cat])
    chosen = serial | (rng.uniform(size=len(cat)) < p)
    inc = incidents.loc[chosen].reset_index(drop=True)
    n = len(inc)
    c = inc["category_key"].to_numpy()
    t = inc["t_s"].to_numpy()
    is_serial = inc["origin_name"].to_numpy() == "serial"

    to_gap = np.select(
        [c == "burglary", c == "theft", c == "robbery"],
        [rng.integers(300, 7200, n), rng.integers(60, 3600, n), rng.integers(60, 1200, n)],
        rng.integers(600, 3 * DAY_S, n),
    )
    width = window_widths(rng, c)
    occ_to = np.where(is_serial, inc["occ_to_s"].to_numpy(), t - to_gap)
    occ_from = np.where(is_serial, inc["occ_from_s"].to_numpy(), occ_to - width)
    mid_hour = (((occ_from + occ_to) // 2) % DAY_S) // 3600
    time_of_day = np.where(c == "fraud", "", band_of_hour(mid_hour))

    entry = np.full(n, "", dtype=object)
    target = np.full(n, "", dtype=object)
    tools = np.full(n, "", dtype=object)
    prop = np.full(n, "", dtype=object)
    for key, vocab in catalog.MO_VOCAB.items():
        m = c == key
        k = int(m.sum())
        entry[m] = np.array(vocab["entry_method"])[rng.integers(0, len(vocab["entry_method"]), k)]
        target[m] = np.array(vocab["target"])[rng.integers(0, len(vocab["target"]), k)]
        tools[m] = np.array(vocab["tools"])[rng.integers(0, len(vocab["tools"]), k)]
        prop[m] = np.array(vocab["property"])[rng.integers(0, len(vocab["property"]), k)]
    # the target follows the subcategory, unless a serial offender's signature says otherwise
    sub = inc["subcategory"].to_numpy()
    for name, tgt in TARGET_BY_SUBCATEGORY.items():
        target[sub == name] = tgt
    entry[is_serial] = inc["mo_entry"].to_numpy()[is_serial]
    target[is_serial] = inc["mo_target"].to_numpy()[is_serial]
    tools[is_serial] = inc["mo_tools"].to_numpy()[is_serial]
    # what is taken follows what was targeted
    for tgt, goods in THEFT_PROPERTY.items():
        m = (c == "theft") & (target == tgt)
        prop[m] = np.array(goods)[rng.integers(0, len(goods), int(m.sum()))]
    prop[c == "fraud"] = "资金"

    # fraud: victim attributes from the registry; type by age band
    victim = inc["victim"].to_numpy()
    is_fraud = c == "fraud"
    age_idx = np.where(is_fraud, persons["age_index"].to_numpy()[np.maximum(victim, 0)], 0)
    type_p = np.array(catalog.FRAUD_TYPE_BY_AGE)
    cdf = np.cumsum(type_p / type_p.sum(axis=1, keepdims=True), axis=1)[age_idx]
    ftype_idx = np.minimum(
        (rng.uniform(size=n)[:, None] > cdf).sum(axis=1), len(catalog.FRAUD_TYPES) - 1
    )
    fraud_type = np.where(is_fraud, np.array(catalog.FRAUD_TYPES)[ftype_idx], "")
    victim_age = np.where(is_fraud, persons["age_band"].to_numpy()[np.maximum(victim, 0)], "")
    victim_occ = np.where(is_fraud, persons["occupation"].to_numpy()[np.maximum(victim, 0)], "")
    victim_id = np.where(is_fraud, persons["id_number"].to_numpy()[np.maximum(victim, 0)], "")

    median = np.array([LOSS.get(k, (1000.0, 1.0))[0] for k in c])
    sigma = np.array([LOSS.get(k, (1000.0, 1.0))[1] for k in c])
    fmed = np.array([FRAUD_LOSS_MEDIAN.get(f, 1.0) for f in fraud_type])
    median = np.where(is_fraud, fmed, median)
    sigma = np.where(is_fraud, 1.2, sigma)
    loss = np.round(rng.lognormal(np.log(median), sigma), -1) + 0.0

    # clearance
    solved_p = np.where(is_serial, SERIAL_SOLVED_SHARE, [SOLVED_SHARE.get(k, 0.0) for k in c])
    solved = rng.uniform(size=n) < solved_p
    solved_at = occ_to + DAY_S + (rng.exponential(20.0, n) * DAY_S).astype(np.int64)
    solved &= solved_at < days * DAY_S
    suspects = np.full(n, "", dtype=object)
    off = inc["offender"].to_numpy()
    off_ids = offenders["id_number"].to_numpy()
    serial_solved = solved & is_serial
    suspects[serial_solved] = off_ids[off[serial_solved]]
    other = np.flatnonzero(solved & ~is_serial)
    if len(other):
        k = np.where(rng.uniform(size=len(other)) < 0.8, 1, 2)
        total = int(k.sum())
        ages = rng.integers(18, 56, total)
        births = birth_dates_for_ages(rng, ages, ages, start_date)
        codes = np.where(
            rng.uniform(size=total) < 0.6,
            np.array(catalog.LOCAL_REGION_CODES)[
                rng.integers(0, len(catalog.LOCAL_REGION_CODES), total)
            ],
            np.array(catalog.OTHER_REGION_CODES)[
                rng.integers(0, len(catalog.OTHER_REGION_CODES), total)
            ],
        )
        ids = make_id_numbers(rng, codes, births, taken=taken_ids)
        pos = np.concatenate([[0], np.cumsum(k)])
        suspects[other] = [";".join(ids[pos[i] : pos[i + 1]]) for i in range(len(other))]

    case_id = np.char.add("AJ320706", np.char.zfill((np.arange(n) + 1).astype(str), 8))
    frame = pd.DataFrame(
        {
            "case_id": case_id,
            "incident_id": inc["incident_id"].to_numpy(),
            "category": inc["category"].to_numpy(),
            "subcategory": inc["subcategory"].to_numpy(),
            "occurred_from_s": occ_from,
            "occurred_to_s": occ_to,
            "x_m": inc["x_m"].to_numpy(),
            "y_m": inc["y_m"].to_numpy(),
            "address": inc["address"].to_numpy(),
            "entry_method": entry,
            "target": target,
            "tools": tools,
            "time_of_day": time_of_day,
            "property_taken": prop,
            "loss_amount": loss,
            "status": np.where(solved, "solved", "filed"),
            "solved_at_s": np.where(solved, solved_at, -1),
            "suspect_ids": suspects,
            "fraud_type": fraud_type,
            "victim_age_band": victim_age,
            "victim_occupation": victim_occ,
            "victim_id": victim_id,
            "category_key": c,
            "offender": np.where(is_serial, off, -1),
            "jurisdiction": inc["jurisdiction"].to_numpy(),
        }
    )
    frame.insert(13, "narrative", _narratives(frame))
    oc = frame.loc[is_serial, ["offender", "case_id", "status"]]
    offender_cases = pd.DataFrame(
        {
            "offender_id": offenders["offender_id"].to_numpy()[oc["offender"].to_numpy()],
            "case_id": oc["case_id"].to_numpy(),
            "solved": (oc["status"] == "solved").to_numpy(),
        }
    ).sort_values(["offender_id", "case_id"], kind="stable", ignore_index=True)
    return CaseParts(frame=frame, offender_cases=offender_cases)


def _narratives(frame: pd.DataFrame) -> list[str]:
    """Short Chinese case narratives (简要案情)."""
    out = []
    for key, addr, entry, target, tools, tod, prop, loss, ftype, age, occ in zip(
        frame["category_key"],
        frame["address"],
        frame["entry_method"],
        frame["target"],
        frame["tools"],
        frame["time_of_day"],
        frame["property_taken"],
        frame["loss_amount"],
        frame["fraud_type"],
        frame["victim_age_band"],
        frame["victim_occupation"],
        strict=True,
    ):
        amount = f"{loss:.0f}"
        if key == "fraud":
            out.append(f"受害人（{age}岁，{occ}）遭遇{ftype}类诈骗，通过网络转账被骗{amount}元。")
        elif key == "burglary":
            tool = "" if tools == "无" else f"，使用{tools}"
            out.append(
                f"{tod}，{addr}发生入室盗窃，嫌疑人采用{entry}方式进入{target}{tool}，盗走{prop}，损失约{amount}元。"
            )
        elif key == "robbery":
            out.append(
                f"{tod}，嫌疑人在{addr}附近以{entry}方式抢走{target}{prop}，价值约{amount}元。"
            )
        else:
            out.append(
                f"{tod}，{addr}附近，嫌疑人以{entry}方式盗窃{target}，被盗{prop}，价值约{amount}元。"
            )
    return out
