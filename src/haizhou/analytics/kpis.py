"""Key performance indicators (考核指标): pure arithmetic on arrays and frames.

Counts by category and period, year-over-year (同比) and period-over-period (环比) change,
clearance rate (破案率) under two named conventions, cases solved, suspects caught, rankings
with ties, on-time rates, and the Wilson interval for a proportion. Every definition, with its
formula, is written down in ``docs/kpis.md``.

No database, no wall clock: times and ``now`` come in as arguments. Times are timezone-aware
(or UTC ``datetime64[ns, UTC]``); periods are cut in the zone the caller gives (the bureau's,
default ``Asia/Shanghai``), so a month is a calendar month there.

References
----------
.. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. J. Am. Stat. Assoc. 22(158), 209-212. https://doi.org/10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = [
    "PERIODS",
    "Period",
    "RateResult",
    "cases_solved",
    "change_ratio",
    "clearance_rate_cohort",
    "clearance_rate_flow",
    "compare_counts",
    "counts_by_period",
    "on_time_rate",
    "period_bounds",
    "period_over_period",
    "previous_period",
    "rank_with_ties",
    "same_period_last_year",
    "suspects_caught",
    "wilson_interval",
    "year_over_year",
]

Period = Literal["day", "week", "month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "quarter", "year")
_Z95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass(frozen=True, slots=True)
class RateResult:
    """A proportion with its parts (比率).

    Attributes
    ----------
    numerator, denominator : int
    rate : float or None
        ``numerator / denominator``; ``None`` when the denominator is 0 (never ``inf``/NaN).
    low, high : float or None
        Confidence bounds when computed (:func:`wilson_interval`), else ``None``.
    """

    numerator: int
    denominator: int
    rate: float | None
    low: float | None = None
    high: float | None = None


def _ratio(numerator: int, denominator: int) -> RateResult:
    return RateResult(
        int(numerator), int(denominator), numerator / denominator if denominator else None
    )


# --- change ----------------------------------------------------------------------------------


def change_ratio(current: float, base: float) -> float | None:
    """Relative change ``(current - base) / base``; ``None`` when ``base`` is 0.

    Examples
    --------
    >>> change_ratio(12, 10)
    0.2
    >>> change_ratio(5, 0) is None
    True
    """
    if base == 0:
        return None
    return (current - base) / base


def year_over_year(current: float, same_period_last_year: float) -> float | None:
    """同比: ``(this period − same period last year) / same period last year``; ``None`` if 0."""
    return change_ratio(current, same_period_last_year)


def period_over_period(current: float, previous: float) -> float | None:
    """环比: ``(this period − previous period) / previous period``; ``None`` if 0."""
    return change_ratio(current, previous)


# --- periods ---------------------------------------------------------------------------------


def _check_period(period: str) -> Period:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {period!r}")
    return period  # type: ignore[return-value]


def _aware(at: datetime, name: str = "at") -> None:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name}={at!r} must be a timezone-aware datetime")


def _add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + (start.month - 1) + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def period_bounds(
    at: datetime, period: str, *, tz: str = "Asia/Shanghai"
) -> tuple[datetime, datetime]:
    """The period holding ``at``, as ``[start, end)`` in zone ``tz``.

    Weeks run Monday to Sunday. Boundaries are local midnights, so a day around a DST change
    is 23 or 25 hours long.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> s, e = period_bounds(datetime(2026, 3, 31, 20, tzinfo=UTC), "month")
    >>> s.isoformat(), e.isoformat()  # already April 1st in Shanghai
    ('2026-04-01T00:00:00+08:00', '2026-05-01T00:00:00+08:00')
    """
    _aware(at)
    period = _check_period(period)
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    if period == "day":
        return day, _midnight(day.date() + timedelta(days=1), zone)
    if period == "week":
        start = _midnight(day.date() - timedelta(days=day.weekday()), zone)
        return start, _midnight(start.date() + timedelta(days=7), zone)
    if period == "month":
        start = day.replace(day=1)
        return start, _add_months(start, 1)
    if period == "quarter":
        start = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
        return start, _add_months(start, 3)
    start = day.replace(month=1, day=1)
    return start, start.replace(year=start.year + 1)


def _midnight(d: Any, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone)


def previous_period(
    start: datetime, period: str, *, tz: str = "Asia/Shanghai"
) -> tuple[datetime, datetime]:
    """The period just before the one starting at ``start`` (环比 base)."""
    _aware(start, "start")
    period = _check_period(period)
    return period_bounds(start - timedelta(microseconds=1), period, tz=tz)


def same_period_last_year(
    start: datetime, period: str, *, tz: str = "Asia/Shanghai"
) -> tuple[datetime, datetime]:
    """The same period one year earlier (同比 base).

    Months, quarters and years: the same calendar period a year earlier. Days: the same date
    (29 February maps to 28 February). Weeks: 52 weeks earlier, so weekdays line up.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> s, _ = same_period_last_year(datetime(2028, 2, 29, tzinfo=ZoneInfo("Asia/Shanghai")), "day")
    >>> s.date().isoformat()
    '2027-02-28'
    """
    _aware(start, "start")
    period = _check_period(period)
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    if period == "week":
        return period_bounds(local - timedelta(weeks=52), "week", tz=tz)
    if period == "day":
        day = min(local.day, 28) if (local.month == 2 and local.day == 29) else local.day
        return period_bounds(local.replace(year=local.year - 1, day=day), "day", tz=tz)
    return period_bounds(_add_months(local.replace(day=1), -12), period, tz=tz)


# --- counts ----------------------------------------------------------------------------------

_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def _utc_times(times: Any, name: str) -> pd.Series:
    series = pd.Series(times)
    if series.empty:
        return pd.Series([], dtype="datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_any_dtype(series) and getattr(series.dt, "tz", None) is None:
        raise ValueError(f"{name} holds naive times; give timezone-aware times or UTC datetime64")
    return pd.to_datetime(series, utc=True)


def counts_by_period(
    times: Any, categories: Any, *, period: str, tz: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """Counts by category and period (分类分时段统计).

    Parameters
    ----------
    times
        Event times (timezone-aware), one per event.
    categories
        Category of each event, aligned with ``times``.
    period
        ``day``, ``week`` (Monday-Sunday), ``month``, ``quarter`` or ``year``, cut in ``tz``.

    Returns
    -------
    pandas.DataFrame
        Long form, columns ``category``, ``period_start`` (timezone-aware, zone ``tz``),
        ``count`` (int64); sorted by category then period. Empty periods are absent.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.to_datetime(["2026-01-05 10:00", "2026-01-20 10:00", "2026-02-01 10:00"]).tz_localize("Asia/Shanghai")
    >>> counts_by_period(t, ["theft", "theft", "fraud"], period="month")["count"].tolist()
    [1, 2]
    """
    period = _check_period(period)
    when = _utc_times(times, "times")
    cats = pd.Series(categories, dtype=object).reset_index(drop=True)
    if len(cats) != len(when):
        raise ValueError(f"times has {len(when)} values but categories has {len(cats)}")
    if when.empty:
        return pd.DataFrame(
            {
                "category": pd.Series([], dtype=object),
                "period_start": pd.Series([], dtype=f"datetime64[ns, {tz}]"),
                "count": pd.Series([], dtype="int64"),
            }
        )
    local = when.reset_index(drop=True).dt.tz_convert(tz).dt.tz_localize(None)
    starts = local.dt.to_period(_FREQ[period]).dt.start_time.dt.tz_localize(tz)
    frame = pd.DataFrame({"category": cats, "period_start": starts})
    out = frame.groupby(["category", "period_start"], sort=True).size().rename("count")
    return out.reset_index().astype({"count": "int64"})


def _count_between(when: pd.Series, start: datetime, end: datetime) -> np.ndarray:
    return ((when >= pd.Timestamp(start)) & (when < pd.Timestamp(end))).to_numpy()


def compare_counts(
    times: Any,
    categories: Any,
    *,
    at: datetime,
    period: str,
    tz: str = "Asia/Shanghai",
    total_label: str = "all",
) -> pd.DataFrame:
    """This period against the previous one (环比) and the same one last year (同比).

    Parameters
    ----------
    times, categories
        Events and their categories, aligned.
    at
        Any time inside the period to report on.
    period
        See :func:`counts_by_period`.
    total_label
        Label of the extra row summing every category.

    Returns
    -------
    pandas.DataFrame
        One row per category (sorted) plus ``total_label`` last, columns ``category``,
        ``current``, ``previous``, ``last_year`` (int64), ``pop`` and ``yoy`` (float, NaN
        when the base is 0; use :func:`change_ratio` for the scalar ``None`` form).
    """
    start, end = period_bounds(at, period, tz=tz)
    prev = previous_period(start, period, tz=tz)
    last = same_period_last_year(start, period, tz=tz)
    when = _utc_times(times, "times").reset_index(drop=True)
    cats = pd.Series(categories, dtype=object).reset_index(drop=True)
    if len(cats) != len(when):
        raise ValueError(f"times has {len(when)} values but categories has {len(cats)}")
    masks = {
        "current": _count_between(when, start, end),
        "previous": _count_between(when, *prev),
        "last_year": _count_between(when, *last),
    }
    rows = []
    touched = masks["current"] | masks["previous"] | masks["last_year"]
    labels = sorted(set(cats[touched]), key=str)
    for label in [*labels, total_label]:
        chosen = (
            np.ones(len(cats), dtype=bool) if label == total_label else (cats == label).to_numpy()
        )
        counts = {k: int((m & chosen).sum()) for k, m in masks.items()}
        pop = period_over_period(counts["current"], counts["previous"])
        yoy = year_over_year(counts["current"], counts["last_year"])
        rows.append(
            {
                "category": label,
                **counts,
                "pop": np.nan if pop is None else pop,
                "yoy": np.nan if yoy is None else yoy,
            }
        )
    return pd.DataFrame(
        rows, columns=["category", "current", "previous", "last_year", "pop", "yoy"]
    )


# --- cases -----------------------------------------------------------------------------------


def _window(start: datetime, end: datetime) -> None:
    _aware(start, "start")
    _aware(end, "end")
    if end <= start:
        raise ValueError(f"the window is empty: end {end.isoformat()} <= start {start.isoformat()}")


def clearance_rate_cohort(
    filed_at: Any, solved_at: Any, *, start: datetime, end: datetime
) -> RateResult:
    """Clearance rate, cohort convention (破案率·同期立案口径).

    ``cases filed in [start, end) and solved before end / cases filed in [start, end)``.
    Always between 0 and 1; recent periods look low until their cases are solved.

    Parameters
    ----------
    filed_at
        Filing time of each case (立案时间).
    solved_at
        Solving time of each case (破案时间), ``None``/NaT when unsolved; aligned.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> d = lambda day: datetime(2026, 1, day, tzinfo=UTC)
    >>> r = clearance_rate_cohort([d(2), d(3), d(4), d(20)], [d(5), None, d(31), d(21)],
    ...                           start=d(1), end=d(11))
    >>> r.numerator, r.denominator, r.rate
    (1, 3, 0.3333333333333333)
    """
    _window(start, end)
    filed = _utc_times(filed_at, "filed_at").reset_index(drop=True)
    solved = _utc_times(solved_at, "solved_at").reset_index(drop=True)
    if len(filed) != len(solved):
        raise ValueError(f"filed_at has {len(filed)} values but solved_at has {len(solved)}")
    in_cohort = _count_between(filed, start, end)
    solved_by_end = (solved < pd.Timestamp(end)).to_numpy() & solved.notna().to_numpy()
    return _ratio(int((in_cohort & solved_by_end).sum()), int(in_cohort.sum()))


def clearance_rate_flow(
    filed_at: Any, solved_at: Any, *, start: datetime, end: datetime
) -> RateResult:
    """Clearance rate, flow convention (破案率·当期破案口径).

    ``cases solved in [start, end), whenever filed / cases filed in [start, end)``. Counts old
    cases solved now, so it can exceed 1; it is the ratio most monthly statistics report.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> d = lambda day: datetime(2026, 1, day, tzinfo=UTC)
    >>> r = clearance_rate_flow([d(2), d(3), d(4), d(20)], [d(5), None, d(31), d(9)],
    ...                         start=d(1), end=d(11))
    >>> r.numerator, r.denominator
    (2, 3)
    """
    _window(start, end)
    filed = _utc_times(filed_at, "filed_at").reset_index(drop=True)
    solved = _utc_times(solved_at, "solved_at").reset_index(drop=True)
    if len(filed) != len(solved):
        raise ValueError(f"filed_at has {len(filed)} values but solved_at has {len(solved)}")
    return _ratio(
        int(_count_between(solved, start, end).sum()), int(_count_between(filed, start, end).sum())
    )


def cases_solved(solved_at: Any, *, start: datetime, end: datetime) -> int:
    """Number of cases solved in ``[start, end)`` (破案数), whenever filed."""
    _window(start, end)
    return int(_count_between(_utc_times(solved_at, "solved_at"), start, end).sum())


def suspects_caught(
    solved_at: Any, suspects: Sequence[Iterable[str] | None], *, start: datetime, end: datetime
) -> int:
    """Distinct suspects on the cases solved in ``[start, end)`` (抓获嫌疑人数).

    ``suspects`` holds each case's suspect pseudonyms (aligned with ``solved_at``); a person
    on two solved cases counts once.
    """
    _window(start, end)
    solved = _utc_times(solved_at, "solved_at").reset_index(drop=True)
    if len(solved) != len(suspects):
        raise ValueError(f"solved_at has {len(solved)} values but suspects has {len(suspects)}")
    mask = _count_between(solved, start, end)
    people: set[str] = set()
    for keep, names in zip(mask, suspects, strict=True):
        if keep and names:
            people.update(names)
    return len(people)


# --- rankings and rates ----------------------------------------------------------------------


def rank_with_ties(values: Mapping[str, float | None], *, ascending: bool = False) -> pd.DataFrame:
    """Rank units by a value with competition ranking for ties (排名, 并列).

    Equal values share the best rank and the next rank skips (1, 2, 2, 4). Units whose value is
    ``None``/NaN come last with rank ``<NA>``. Ties are listed by unit name.

    Parameters
    ----------
    values
        ``{unit: value}``.
    ascending
        ``False`` (default) ranks the highest value first (e.g. clearance rate); ``True`` the
        lowest first (e.g. incident counts).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit``, ``value`` (float), ``rank`` (nullable Int64), best first.

    Examples
    --------
    >>> rank_with_ties({"a": 0.5, "b": 0.9, "c": 0.5, "d": 0.1})["rank"].tolist()
    [1, 2, 2, 4]
    """
    frame = pd.DataFrame(
        {
            "unit": list(values),
            "value": pd.Series(
                [np.nan if v is None else float(v) for v in values.values()], dtype="float64"
            ),
        }
    )
    ranks = frame["value"].rank(method="min", ascending=ascending)
    frame["rank"] = ranks.astype("Int64")
    key = frame["value"] if ascending else -frame["value"]
    frame = frame.assign(_key=key).sort_values(["_key", "unit"], na_position="last", kind="stable")
    return frame.drop(columns="_key").reset_index(drop=True)


def on_time_rate(due_at: Any, done_at: Any, *, now: datetime) -> RateResult:
    """Share of steps done on time (按时率), e.g. on-time signing (按时签收率).

    A step counts when it is done, or when it is not done and its deadline has passed at
    ``now`` (late by then, whatever happens next); a step neither done nor due yet is left
    out. On time means ``done_at <= due_at``.

    ``on-time / (done + undone past due)``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> h = lambda hour: datetime(2026, 1, 1, hour, tzinfo=UTC)
    >>> r = on_time_rate([h(2), h(2), h(2), h(9)], [h(1), h(3), None, None], now=h(5))
    >>> r.numerator, r.denominator
    (1, 3)
    """
    _aware(now, "now")
    due = _utc_times(due_at, "due_at").reset_index(drop=True)
    done = _utc_times(done_at, "done_at").reset_index(drop=True)
    if len(due) != len(done):
        raise ValueError(f"due_at has {len(due)} values but done_at has {len(done)}")
    is_done = done.notna().to_numpy()
    has_due = due.notna().to_numpy()
    late_undone = ~is_done & has_due & (due < pd.Timestamp(now)).to_numpy()
    counted = (is_done & has_due) | late_undone
    on_time = is_done & has_due & (done <= due).to_numpy()
    return _ratio(int(on_time.sum()), int(counted.sum()))


def wilson_interval(successes: int, n: int, *, z: float = _Z95) -> RateResult:
    """A proportion with its Wilson score interval (Wilson 1927).

    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z·sqrt(p(1−p)/n + z²/4n²) / (1 + z²/n)``
    with ``p = successes / n``. ``rate``, ``low`` and ``high`` are ``None`` when ``n`` is 0.

    Examples
    --------
    >>> r = wilson_interval(8, 10)
    >>> round(r.rate, 3), round(r.low, 4), round(r.high, 4)
    (0.8, 0.4902, 0.9433)
    """
    if not (isinstance(successes, int | np.integer) and isinstance(n, int | np.integer)):
        raise TypeError(f"successes and n must be integers; got {successes!r}, {n!r}")
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n; got successes={successes}, n={n}")
    if not z > 0:
        raise ValueError(f"z must be > 0; got {z}")
    if n == 0:
        return RateResult(int(successes), 0, None, None, None)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At p = 0 or 1 the bound is exactly 0 or 1; rounding must not leave it a hair inside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return RateResult(int(successes), int(n), p, low, high)
