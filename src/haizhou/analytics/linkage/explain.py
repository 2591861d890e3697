"""Plain-language evidence and leads (串并理由 · 线索), in zh-CN and English.

:func:`explain_pair` turns the evidence of one pair into short sentences, e.g. ``same entry
method 撬锁 — rare, 2 %``, ``350 m apart``, ``2 days apart``, ``both 02:00–04:00``.
:func:`leads` gives, for each unsolved case, its most likely linked cases with those reasons
and, where a linked case is solved, its offenders as leads (线索) — for a human to weigh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from haizhou.analytics.linkage.blocking import interval_gap_days
from haizhou.analytics.linkage.crimes import CrimeTable, Offenders
from haizhou.analytics.linkage.evidence import EvidenceEncoder

__all__ = ["Lead", "PairExplanation", "explain_pair", "leads"]

_MO_LABELS = {
    "entry_method": ("侵入方式", "entry method"),
    "target": ("侵害目标", "target"),
    "tools": ("作案工具", "tools"),
    "time_of_day": ("作案时段", "time of day"),
}


@dataclass(frozen=True, slots=True)
class PairExplanation:
    """Why two cases may be linked (串并理由)."""

    crime_a: str
    crime_b: str
    probability: float
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]


def _rarity(share: float) -> tuple[str, str]:
    if share < 0.05:
        return "罕见", "rare"
    if share < 0.2:
        return "少见", "uncommon"
    return "常见", "common"


def _metres(d_m: float) -> tuple[str, str]:
    if d_m < 1000:
        v = int(round(d_m / 10.0) * 10)
        return f"相距 {v} 米", f"{v} m apart"
    return f"相距 {d_m / 1000:.1f} 公里", f"{d_m / 1000:.1f} km apart"


def _days(gap: float) -> tuple[str, str]:
    if gap <= 0:
        return "发案时间段重叠", "occurrence windows overlap"
    if gap < 1:
        h = max(1, round(gap * 24))
        return f"间隔 {h} 小时", f"{h} h apart"
    d = round(gap)
    return f"间隔 {d} 天", f"{d} day{'s' if d != 1 else ''} apart"


def _clock(h: float) -> str:
    m = round((h % 24) * 60) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def _tod_overlap(a0: float, wa: float, b0: float, wb: float) -> tuple[float, float] | None:
    """Intersection of two time-of-day arcs (hours), None when disjoint or either >= 24 h."""
    if wa >= 24 or wb >= 24:
        return None
    best = None
    for shift in (-24.0, 0.0, 24.0):
        lo, hi = max(a0, b0 + shift), min(a0 + wa, b0 + shift + wb)
        if hi >= lo and (best is None or hi - lo > best[1] - best[0]):
            best = (lo, hi)
    return best


def explain_pair(
    crimes: CrimeTable,
    a: int,
    b: int,
    *,
    probability: float = float("nan"),
    encoder: EvidenceEncoder | None = None,
) -> PairExplanation:
    """The evidence for cases ``a`` and ``b`` in plain words.

    Parameters
    ----------
    crimes : CrimeTable
        The cases.
    a, b : int
        Rows of the two cases.
    probability : float
        The model's probability, carried along.
    encoder : EvidenceEncoder or None
        Gives MO value shares (rarity); built from ``crimes`` when None.

    Examples
    --------
    >>> t = CrimeTable.from_arrays(crime_id=["A", "B"], x_m=[0, 350], y_m=[0, 0],
    ...     t_from=[19723 + 2 / 24, 19725 + 2 / 24], t_to=[19723 + 4 / 24, 19725 + 4 / 24],
    ...     mo={"entry_method": ["撬锁", "撬锁"]})
    >>> explain_pair(t, 0, 1).reasons_en
    ('same entry method 撬锁 — common, 100 %', '350 m apart', '2 days apart', 'both 02:00–04:00')
    """
    enc = EvidenceEncoder.build(crimes) if encoder is None else encoder
    zh: list[str] = []
    en: list[str] = []
    for k, name in enumerate(crimes.mo_names):
        ca, cb = int(crimes.mo_codes[a, k]), int(crimes.mo_codes[b, k])
        label_zh, label_en = _MO_LABELS.get(name, (name, name.replace("_", " ")))
        if ca < 0 or cb < 0:
            continue
        va, vb = crimes.mo_levels[k][ca], crimes.mo_levels[k][cb]
        if ca == cb:
            share = float(enc.mo_share[k][ca])
            r_zh, r_en = _rarity(share)
            pct = max(1, round(share * 100))
            zh.append(f"{label_zh}相同（{va}）— {r_zh}，{pct}%")
            en.append(f"same {label_en} {va} — {r_en}, {pct} %")
        else:
            zh.append(f"{label_zh}不同（{va} / {vb}）")
            en.append(f"different {label_en} ({va} vs {vb})")
    d = float(np.hypot(crimes.x_m[a] - crimes.x_m[b], crimes.y_m[a] - crimes.y_m[b]))
    for text_zh, text_en in (
        _metres(d),
        _days(
            float(
                interval_gap_days(
                    crimes.t_from_days[a],
                    crimes.t_to_days[a],
                    crimes.t_from_days[b],
                    crimes.t_to_days[b],
                )
            )
        ),
    ):
        zh.append(text_zh)
        en.append(text_en)
    wa = (crimes.t_to_days[a] - crimes.t_from_days[a]) * 24
    wb = (crimes.t_to_days[b] - crimes.t_from_days[b]) * 24
    ha = (crimes.t_from_days[a] % 1.0) * 24
    hb = (crimes.t_from_days[b] % 1.0) * 24
    both = _tod_overlap(float(ha), float(wa), float(hb), float(wb))
    if both is not None:
        span = (
            f"at {_clock(both[0])}"
            if both[1] - both[0] < 1 / 60
            else f"{_clock(both[0])}–{_clock(both[1])}"
        )
        zh.append(f"均在 {span}")
        en.append(f"both {span}")
    elif wa < 24 and wb < 24:
        sa = _clock(ha) if wa <= 0 else f"{_clock(ha)}–{_clock(ha + wa)}"
        sb = _clock(hb) if wb <= 0 else f"{_clock(hb)}–{_clock(hb + wb)}"
        zh.append(f"时段不同（{sa} / {sb}）")
        en.append(f"different times of day ({sa} vs {sb})")
    if enc.text is not None:
        sim = float(enc.text[a].multiply(enc.text[b]).sum())
        if sim >= 0.5:
            zh.append(f"案情描述相似（{round(sim * 100)}%）")
            en.append(f"similar narratives ({round(sim * 100)} %)")
    if crimes.property_taken is not None and enc.prop is not None:
        common = enc.prop[a].multiply(enc.prop[b]).nnz
        if common and crimes.property_taken[a] and crimes.property_taken[b]:
            zh.append(f"被盗物品相同（{crimes.property_taken[a]}）")
            en.append(f"same property taken ({crimes.property_taken[a]})")
    return PairExplanation(
        crime_a=str(crimes.crime_id[a]),
        crime_b=str(crimes.crime_id[b]),
        probability=float(probability),
        reasons_zh=tuple(zh),
        reasons_en=tuple(en),
    )


@dataclass(frozen=True, slots=True)
class Lead:
    """A lead (线索) for an unsolved case: a likely linked case, why, and its suspects."""

    crime_id: str
    linked_crime_id: str
    probability: float
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]
    suspects: tuple[str, ...]


def leads(
    crimes: CrimeTable,
    offenders: Offenders,
    i: np.ndarray,
    j: np.ndarray,
    probability: np.ndarray,
    *,
    top_k: int = 5,
    min_probability: float = 0.2,
    encoder: EvidenceEncoder | None = None,
) -> list[Lead]:
    """For each unsolved case, its ``top_k`` most likely linked cases (at least
    ``min_probability``), with the evidence in words and, where the linked case is solved, its
    offenders as suspects to look at. Ordered by unsolved case, then probability.

    ``encoder``: as in :func:`explain_pair` (a model's rarity: ``model.encoder(crimes)``); None
    counts rarity on ``crimes``."""
    solved = offenders.solved_mask()
    by_crime = offenders.by_crime()
    enc = EvidenceEncoder.build(crimes) if encoder is None else encoder
    q = np.r_[i, j]
    other = np.r_[j, i]
    p = np.r_[probability, probability]
    keep = ~solved[q] & (p >= min_probability)
    q, other, p = q[keep], other[keep], p[keep]
    order = np.lexsort((-p, q))
    out: list[Lead] = []
    count: dict[int, int] = {}
    for k in order.tolist():
        c = int(q[k])
        if count.get(c, 0) >= top_k:
            continue
        count[c] = count.get(c, 0) + 1
        o = int(other[k])
        ex = explain_pair(crimes, c, o, probability=float(p[k]), encoder=enc)
        out.append(
            Lead(
                crime_id=ex.crime_a,
                linked_crime_id=ex.crime_b,
                probability=float(p[k]),
                reasons_zh=ex.reasons_zh,
                reasons_en=ex.reasons_en,
                suspects=tuple(by_crime[o]) if solved[o] else (),
            )
        )
    return out
