"""Targeted dissuasion (精准劝阻) and whether it works (劝阻成效).

From an early-warning feed (a pseudonymised person contacted by a known fraud number, a risky
transfer pattern), :func:`rank_warnings` orders whom to reach first by expected loss averted
(predicted risk × potential loss), gives each an urgency, a channel (call, visit, or a
community talk for a group) and a deadline. :func:`assign_holdout` withholds a seeded random
share of the *low-urgency* warnings so :func:`uplift` can measure the effect of outreach as a
difference in victimisation between reached and held-out people, not assume it.

References
----------
.. [1] Gutierrez, P. & Gérardy, J.-Y. (2017). Causal inference and uplift modelling: a review
   of the literature. PMLR 67, 1–13.
.. [2] Newcombe, R. G. (1998). Interval estimation for the difference between independent
   proportions: comparison of eleven methods. Statistics in Medicine 17(8), 873–890.
   doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "CHANNELS",
    "DEADLINE_HOURS",
    "UpliftResult",
    "assign_holdout",
    "rank_warnings",
    "uplift",
]

CHANNELS: Mapping[str, str] = {"high": "call", "medium": "visit", "low": "community_talk"}
"""Channel per urgency: a phone call now, a home visit, or a talk for the group."""

DEADLINE_HOURS: Mapping[str, float] = {"high": 1.0, "medium": 24.0, "low": 168.0}
"""Deadline per urgency, hours after the warning is ranked."""


def rank_warnings(
    warnings: pd.DataFrame,
    *,
    now: Any,
    high_share: float = 0.1,
    medium_share: float = 0.3,
    group_column: str | None = "jurisdiction_code",
) -> pd.DataFrame:
    """Whom to reach first (劝阻优先级), with urgency, channel and deadline.

    Parameters
    ----------
    warnings : pandas.DataFrame
        ``pseudo_id``, ``risk`` (probability in [0, 1]) and ``potential_loss`` (元, ≥ 0) per
        warning; other columns are kept. Not modified.
    now : datetime-like
        Time of ranking (deadlines count from it).
    high_share, medium_share : float, default 0.1 and 0.3
        Shares of warnings, by priority, made high and medium urgency; the rest are low.
    group_column : str or None, default "jurisdiction_code"
        Low-urgency warnings are gathered by this column into one community talk each
        (``talk_group``); None leaves them individual.

    Returns
    -------
    pandas.DataFrame
        The warnings by priority, with ``expected_loss`` (risk × potential loss), ``rank``
        (1 = first), ``urgency``, ``channel``, ``deadline`` and ``talk_group``.

    Examples
    --------
    >>> w = pd.DataFrame({"pseudo_id": ["a", "b", "c"], "risk": [0.1, 0.9, 0.5],
    ...                   "potential_loss": [1e5, 1e3, 1e4]})
    >>> r = rank_warnings(w, now="2024-05-01 09:00", high_share=0.34, medium_share=0.34,
    ...                   group_column=None)
    >>> r[["pseudo_id", "urgency", "channel"]].values.tolist()
    [['a', 'high', 'call'], ['c', 'medium', 'visit'], ['b', 'low', 'community_talk']]
    """
    for col in ("pseudo_id", "risk", "potential_loss"):
        if col not in warnings.columns:
            raise ValueError(
                f"warnings lacks column {col!r}; it needs pseudo_id, risk, potential_loss."
            )
    if not (0 <= high_share <= 1 and 0 <= medium_share <= 1 and high_share + medium_share <= 1):
        raise ValueError("high_share and medium_share must be in [0, 1] and add up to at most 1.")
    risk = warnings["risk"].to_numpy(float)
    loss = warnings["potential_loss"].to_numpy(float)
    if not (np.all((risk >= 0) & (risk <= 1)) and np.all(np.isfinite(loss) & (loss >= 0))):
        raise ValueError("risk must be in [0, 1] and potential_loss finite and >= 0 (元).")
    out = warnings.copy()
    out["expected_loss"] = risk * loss
    out = out.sort_values(
        ["expected_loss", "risk", "pseudo_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    n = len(out)
    out["rank"] = np.arange(1, n + 1)
    n_high = round(high_share * n)
    n_med = round(medium_share * n)
    urgency = np.array(["low"] * n, dtype=object)
    urgency[:n_high] = "high"
    urgency[n_high : n_high + n_med] = "medium"
    out["urgency"] = urgency
    out["channel"] = out["urgency"].map(dict(CHANNELS))
    now_ts = pd.Timestamp(now)
    out["deadline"] = now_ts + pd.to_timedelta(out["urgency"].map(dict(DEADLINE_HOURS)), unit="h")
    if group_column is not None and group_column in out.columns:
        out["talk_group"] = np.where(out["urgency"] == "low", out[group_column].astype(str), "")
    else:
        out["talk_group"] = ""
    return out


def assign_holdout(
    urgency: Any, *, share: float = 0.2, eligible: str = "low", random_state: Any = None
) -> np.ndarray:
    """Seeded random hold-out among the eligible (low-urgency) warnings (随机留出对照).

    Parameters
    ----------
    urgency : array_like of str
    share : float, default 0.2
        Share of eligible warnings held out (not contacted), in [0, 1).
    eligible : str, default "low"
        Only warnings of this urgency can be held out: urgent ones are always acted on.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    numpy.ndarray of bool
        True for a held-out warning.

    Examples
    --------
    >>> h = assign_holdout(["high"] * 5 + ["low"] * 1000, share=0.2, random_state=1)
    >>> bool(h[:5].any()), 150 < int(h.sum()) < 250
    (False, True)
    """
    if not 0 <= share < 1:
        raise ValueError(f"share must be in [0, 1); got {share!r}.")
    u = np.asarray(urgency, dtype=object).reshape(-1)
    rng = np.random.default_rng(random_state)
    draw = rng.uniform(size=u.size)
    return (u == eligible) & (draw < share)


@dataclass(frozen=True, slots=True)
class UpliftResult:
    """Effect of outreach on victimisation (劝阻成效), reached minus held out.

    Attributes
    ----------
    n_treated, n_control : int
    rate_treated, rate_control : float
        Share who became victims (or, with another outcome, had it).
    difference : float
        ``rate_treated − rate_control``; negative means outreach prevented cases.
    ci_low, ci_high : float
        Newcombe hybrid-score interval of the difference.
    p : float
        Two-sided Fisher exact p.
    prevented_per_1000 : float
        ``−difference × 1000``.
    """

    n_treated: int
    n_control: int
    rate_treated: float
    rate_control: float
    difference: float
    ci_low: float
    ci_high: float
    p: float
    prevented_per_1000: float


def _wilson(x: int, n: int, z: float) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = x / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return c - h, c + h


def uplift(outcome: Any, treated: Any, *, alpha: float = 0.05) -> UpliftResult:
    """Uplift of outreach from a randomised hold-out (劝阻增益).

    Parameters
    ----------
    outcome : array_like of bool
        Became a victim afterwards (or the outcome of interest).
    treated : array_like of bool
        Reached (True) or held out (False); compare only warnings that were eligible for the
        hold-out, or the groups are not alike.
    alpha : float, default 0.05

    Returns
    -------
    UpliftResult

    Examples
    --------
    >>> y = np.r_[np.zeros(95), np.ones(5), np.zeros(85), np.ones(15)].astype(bool)
    >>> t = np.r_[np.ones(100), np.zeros(100)].astype(bool)
    >>> r = uplift(y, t)
    >>> round(r.difference, 2), r.ci_high < 0
    (-0.1, True)
    """
    y = np.asarray(outcome, dtype=bool).reshape(-1)
    t = np.asarray(treated, dtype=bool).reshape(-1)
    if y.size != t.size:
        raise ValueError("outcome and treated must have one value per warning.")
    n1, n0 = int(t.sum()), int((~t).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(
            "uplift needs both reached and held-out warnings; use a hold-out share > 0."
        )
    x1, x0 = int(y[t].sum()), int(y[~t].sum())
    p1, p0 = x1 / n1, x0 / n0
    z = stats.norm.ppf(1 - alpha / 2)
    l1, u1 = _wilson(x1, n1, z)
    l0, u0 = _wilson(x0, n0, z)
    d = p1 - p0
    lo = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    p = float(stats.fisher_exact([[x1, n1 - x1], [x0, n0 - x0]]).pvalue)
    return UpliftResult(n1, n0, p1, p0, d, float(lo), float(hi), p, -d * 1000.0)
