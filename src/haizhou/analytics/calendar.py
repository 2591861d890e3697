"""Chinese public holidays 2014–2027 (法定节假日 · 调休), for baselines that know the calendar.

Official holiday periods (放假日期, the whole block off work, weekends inside it included) and
make-up working days (调休上班日, weekend days worked instead) as published each year by the
General Office of the State Council in its notice on the next year's holiday arrangements
(国务院办公厅关于<year>年部分节假日安排的通知), plus the one-off holiday of 3–5 September 2015
for the 70th anniversary of the victory in the War of Resistance, and the 2020 Spring Festival
extended to 2 February (国务院办公厅关于延长2020年春节假期的通知). The table was checked day by
day against the ``chinese-calendar`` package 1.11.0 (MIT; used as a check only, not a
dependency).

2027: the State Council's arrangement was not available when this table was written, so 2027
holds only the **statutory** festival days of the 全国年节及纪念日放假办法 (2024 revision):
New Year's Day 1 January, Spring Festival 5–8 February (除夕 and the first three days),
Qingming 5 April, Labour Day 1–2 May, Dragon Boat 9 June, Mid-Autumn 15 September, National
Day 1–3 October; no make-up working days. Those periods have ``official = False``. Replace them
when the notice is out.

Dates are local calendar dates (Asia/Shanghai); pass local, not UTC, times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FIRST_YEAR",
    "HOLIDAY_PERIODS",
    "LAST_YEAR",
    "MAKEUP_WORKDAYS",
    "HolidayPeriod",
    "holiday_names",
    "is_holiday",
    "is_makeup_workday",
]

FIRST_YEAR = 2014
LAST_YEAR = 2027


@dataclass(frozen=True, slots=True)
class HolidayPeriod:
    """One holiday block (节假日).

    Attributes
    ----------
    start, end : str
        First and last day off, ISO dates, both included.
    name_zh, name_en : str
        The festival(s), e.g. "中秋节、国庆节" / "Mid-Autumn Festival and National Day".
    official : bool
        True for the State Council's published arrangement; False for the statutory days
        only (2027, see the module notes).
    """

    start: str
    end: str
    name_zh: str
    name_en: str
    official: bool = True


_OFFICIAL = (
    ("2014-01-01", "2014-01-01", "元旦", "New Year's Day"),
    ("2014-01-31", "2014-02-06", "春节", "Spring Festival"),
    ("2014-04-05", "2014-04-07", "清明节", "Qingming Festival"),
    ("2014-05-01", "2014-05-03", "劳动节", "Labour Day"),
    ("2014-05-31", "2014-06-02", "端午节", "Dragon Boat Festival"),
    ("2014-09-06", "2014-09-08", "中秋节", "Mid-Autumn Festival"),
    ("2014-10-01", "2014-10-07", "国庆节", "National Day"),
    ("2015-01-01", "2015-01-03", "元旦", "New Year's Day"),
    ("2015-02-18", "2015-02-24", "春节", "Spring Festival"),
    ("2015-04-04", "2015-04-06", "清明节", "Qingming Festival"),
    ("2015-05-01", "2015-05-03", "劳动节", "Labour Day"),
    ("2015-06-20", "2015-06-22", "端午节", "Dragon Boat Festival"),
    (
        "2015-09-03",
        "2015-09-05",
        "抗战胜利70周年纪念日",
        "70th anniversary of victory in the War of Resistance",
    ),
    ("2015-09-26", "2015-09-27", "中秋节", "Mid-Autumn Festival"),
    ("2015-10-01", "2015-10-07", "国庆节", "National Day"),
    ("2016-01-01", "2016-01-03", "元旦", "New Year's Day"),
    ("2016-02-07", "2016-02-13", "春节", "Spring Festival"),
    ("2016-04-02", "2016-04-04", "清明节", "Qingming Festival"),
    ("2016-04-30", "2016-05-02", "劳动节", "Labour Day"),
    ("2016-06-09", "2016-06-11", "端午节", "Dragon Boat Festival"),
    ("2016-09-15", "2016-09-17", "中秋节", "Mid-Autumn Festival"),
    ("2016-10-01", "2016-10-07", "国庆节", "National Day"),
    ("2016-12-31", "2017-01-02", "元旦", "New Year's Day"),
    ("2017-01-27", "2017-02-02", "春节", "Spring Festival"),
    ("2017-04-02", "2017-04-04", "清明节", "Qingming Festival"),
    ("2017-04-29", "2017-05-01", "劳动节", "Labour Day"),
    ("2017-05-28", "2017-05-30", "端午节", "Dragon Boat Festival"),
    ("2017-10-01", "2017-10-08", "中秋节、国庆节", "Mid-Autumn Festival and National Day"),
    ("2017-12-30", "2018-01-01", "元旦", "New Year's Day"),
    ("2018-02-15", "2018-02-21", "春节", "Spring Festival"),
    ("2018-04-05", "2018-04-07", "清明节", "Qingming Festival"),
    ("2018-04-29", "2018-05-01", "劳动节", "Labour Day"),
    ("2018-06-16", "2018-06-18", "端午节", "Dragon Boat Festival"),
    ("2018-09-22", "2018-09-24", "中秋节", "Mid-Autumn Festival"),
    ("2018-10-01", "2018-10-07", "国庆节", "National Day"),
    ("2018-12-30", "2019-01-01", "元旦", "New Year's Day"),
    ("2019-02-04", "2019-02-10", "春节", "Spring Festival"),
    ("2019-04-05", "2019-04-07", "清明节", "Qingming Festival"),
    ("2019-05-01", "2019-05-04", "劳动节", "Labour Day"),
    ("2019-06-07", "2019-06-09", "端午节", "Dragon Boat Festival"),
    ("2019-09-13", "2019-09-15", "中秋节", "Mid-Autumn Festival"),
    ("2019-10-01", "2019-10-07", "国庆节", "National Day"),
    ("2020-01-01", "2020-01-01", "元旦", "New Year's Day"),
    ("2020-01-24", "2020-02-02", "春节", "Spring Festival"),
    ("2020-04-04", "2020-04-06", "清明节", "Qingming Festival"),
    ("2020-05-01", "2020-05-05", "劳动节", "Labour Day"),
    ("2020-06-25", "2020-06-27", "端午节", "Dragon Boat Festival"),
    ("2020-10-01", "2020-10-08", "中秋节、国庆节", "Mid-Autumn Festival and National Day"),
    ("2021-01-01", "2021-01-03", "元旦", "New Year's Day"),
    ("2021-02-11", "2021-02-17", "春节", "Spring Festival"),
    ("2021-04-03", "2021-04-05", "清明节", "Qingming Festival"),
    ("2021-05-01", "2021-05-05", "劳动节", "Labour Day"),
    ("2021-06-12", "2021-06-14", "端午节", "Dragon Boat Festival"),
    ("2021-09-19", "2021-09-21", "中秋节", "Mid-Autumn Festival"),
    ("2021-10-01", "2021-10-07", "国庆节", "National Day"),
    ("2022-01-01", "2022-01-03", "元旦", "New Year's Day"),
    ("2022-01-31", "2022-02-06", "春节", "Spring Festival"),
    ("2022-04-03", "2022-04-05", "清明节", "Qingming Festival"),
    ("2022-04-30", "2022-05-04", "劳动节", "Labour Day"),
    ("2022-06-03", "2022-06-05", "端午节", "Dragon Boat Festival"),
    ("2022-09-10", "2022-09-12", "中秋节", "Mid-Autumn Festival"),
    ("2022-10-01", "2022-10-07", "国庆节", "National Day"),
    ("2022-12-31", "2023-01-02", "元旦", "New Year's Day"),
    ("2023-01-21", "2023-01-27", "春节", "Spring Festival"),
    ("2023-04-05", "2023-04-05", "清明节", "Qingming Festival"),
    ("2023-04-29", "2023-05-03", "劳动节", "Labour Day"),
    ("2023-06-22", "2023-06-24", "端午节", "Dragon Boat Festival"),
    ("2023-09-29", "2023-10-06", "中秋节、国庆节", "Mid-Autumn Festival and National Day"),
    ("2023-12-30", "2024-01-01", "元旦", "New Year's Day"),
    ("2024-02-10", "2024-02-17", "春节", "Spring Festival"),
    ("2024-04-04", "2024-04-06", "清明节", "Qingming Festival"),
    ("2024-05-01", "2024-05-05", "劳动节", "Labour Day"),
    ("2024-06-08", "2024-06-10", "端午节", "Dragon Boat Festival"),
    ("2024-09-15", "2024-09-17", "中秋节", "Mid-Autumn Festival"),
    ("2024-10-01", "2024-10-07", "国庆节", "National Day"),
    ("2025-01-01", "2025-01-01", "元旦", "New Year's Day"),
    ("2025-01-28", "2025-02-04", "春节", "Spring Festival"),
    ("2025-04-04", "2025-04-06", "清明节", "Qingming Festival"),
    ("2025-05-01", "2025-05-05", "劳动节", "Labour Day"),
    ("2025-05-31", "2025-06-02", "端午节", "Dragon Boat Festival"),
    ("2025-10-01", "2025-10-08", "中秋节、国庆节", "Mid-Autumn Festival and National Day"),
    ("2026-01-01", "2026-01-03", "元旦", "New Year's Day"),
    ("2026-02-15", "2026-02-23", "春节", "Spring Festival"),
    ("2026-04-04", "2026-04-06", "清明节", "Qingming Festival"),
    ("2026-05-01", "2026-05-05", "劳动节", "Labour Day"),
    ("2026-06-19", "2026-06-21", "端午节", "Dragon Boat Festival"),
    ("2026-09-25", "2026-09-27", "中秋节", "Mid-Autumn Festival"),
    ("2026-10-01", "2026-10-07", "国庆节", "National Day"),
)

_STATUTORY_2027 = (
    ("2027-01-01", "2027-01-01", "元旦", "New Year's Day"),
    ("2027-02-05", "2027-02-08", "春节", "Spring Festival"),
    ("2027-04-05", "2027-04-05", "清明节", "Qingming Festival"),
    ("2027-05-01", "2027-05-02", "劳动节", "Labour Day"),
    ("2027-06-09", "2027-06-09", "端午节", "Dragon Boat Festival"),
    ("2027-09-15", "2027-09-15", "中秋节", "Mid-Autumn Festival"),
    ("2027-10-01", "2027-10-03", "国庆节", "National Day"),
)

HOLIDAY_PERIODS: tuple[HolidayPeriod, ...] = tuple(
    HolidayPeriod(*row) for row in _OFFICIAL
) + tuple(HolidayPeriod(*row, official=False) for row in _STATUTORY_2027)
"""Every holiday block 2014–2027, in date order."""

MAKEUP_WORKDAYS: tuple[str, ...] = (
    "2014-01-26",
    "2014-02-08",
    "2014-05-04",
    "2014-09-28",
    "2014-10-11",
    "2015-01-04",
    "2015-02-15",
    "2015-02-28",
    "2015-09-06",
    "2015-10-10",
    "2016-02-06",
    "2016-02-14",
    "2016-06-12",
    "2016-09-18",
    "2016-10-08",
    "2016-10-09",
    "2017-01-22",
    "2017-02-04",
    "2017-04-01",
    "2017-05-27",
    "2017-09-30",
    "2018-02-11",
    "2018-02-24",
    "2018-04-08",
    "2018-04-28",
    "2018-09-29",
    "2018-09-30",
    "2018-12-29",
    "2019-02-02",
    "2019-02-03",
    "2019-04-28",
    "2019-05-05",
    "2019-09-29",
    "2019-10-12",
    "2020-01-19",
    "2020-04-26",
    "2020-05-09",
    "2020-06-28",
    "2020-09-27",
    "2020-10-10",
    "2021-02-07",
    "2021-02-20",
    "2021-04-25",
    "2021-05-08",
    "2021-09-18",
    "2021-09-26",
    "2021-10-09",
    "2022-01-29",
    "2022-01-30",
    "2022-04-02",
    "2022-04-24",
    "2022-05-07",
    "2022-10-08",
    "2022-10-09",
    "2023-01-28",
    "2023-01-29",
    "2023-04-23",
    "2023-05-06",
    "2023-06-25",
    "2023-10-07",
    "2023-10-08",
    "2024-02-04",
    "2024-02-18",
    "2024-04-07",
    "2024-04-28",
    "2024-05-11",
    "2024-09-14",
    "2024-09-29",
    "2024-10-12",
    "2025-01-26",
    "2025-02-08",
    "2025-04-27",
    "2025-09-28",
    "2025-10-11",
    "2026-01-04",
    "2026-02-14",
    "2026-02-28",
    "2026-05-09",
    "2026-09-20",
    "2026-10-10",
)
"""Weekend days worked instead of a holiday (调休上班), 2014–2026."""


def _days(dates: Any) -> np.ndarray:
    arr = np.asarray(dates)
    if arr.dtype.kind in "iuf":
        # float days since 1970-01-01 (the EventSet scale): the calendar day they fall on
        return np.floor(arr.astype(np.float64)).astype("int64").astype("datetime64[D]")
    try:
        return arr.astype("datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"cannot read {dates!r} as dates: give datetime64 values, ISO strings or float "
            "days since 1970-01-01."
        ) from exc


def _check_covered(days: np.ndarray) -> None:
    if days.size == 0:
        return
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    bad = (years < FIRST_YEAR) | (years > LAST_YEAR)
    if bad.any():
        first = days.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])]
        raise ValueError(
            f"The holiday calendar covers {FIRST_YEAR}–{LAST_YEAR}; got {first}. Pass your own "
            "holiday dates for other years, or check the dates."
        )


def _holiday_index() -> tuple[np.ndarray, np.ndarray]:
    starts = np.array([p.start for p in HOLIDAY_PERIODS], dtype="datetime64[D]")
    ends = np.array([p.end for p in HOLIDAY_PERIODS], dtype="datetime64[D]")
    return starts, ends


def _period_of(days: np.ndarray) -> np.ndarray:
    """Index into HOLIDAY_PERIODS of the block each day falls in, -1 if none."""
    starts, ends = _holiday_index()
    k = np.searchsorted(starts, days, side="right") - 1
    inside = (k >= 0) & (days <= ends[np.clip(k, 0, None)])
    return np.where(inside, k, -1)


def is_holiday(dates: Any, *, strict: bool = True) -> np.ndarray:
    """Whether each date is a public holiday day off (法定节假日, weekends inside a block too).

    Parameters
    ----------
    dates : array_like
        ``datetime64`` values, ISO strings, or float days since 1970-01-01 (local time).
    strict : bool, default True
        Raise for dates outside 2014–2027 instead of answering False.

    Returns
    -------
    numpy.ndarray of bool, same shape as ``dates``

    Examples
    --------
    >>> is_holiday(["2024-10-01", "2024-10-08", "2024-02-10"]).tolist()
    [True, False, True]
    """
    days = _days(dates)
    if strict:
        _check_covered(days)
    return _period_of(days) >= 0


def is_makeup_workday(dates: Any, *, strict: bool = True) -> np.ndarray:
    """Whether each date is a weekend day worked instead of a holiday (调休上班日).

    Examples
    --------
    >>> is_makeup_workday(["2024-02-04", "2024-02-03"]).tolist()
    [True, False]
    """
    days = _days(dates)
    if strict:
        _check_covered(days)
    return np.isin(days, np.array(MAKEUP_WORKDAYS, dtype="datetime64[D]"))


def holiday_names(dates: Any, *, language: str = "zh") -> np.ndarray:
    """The holiday each date falls in ("" if none), in ``language`` "zh" or "en".

    Examples
    --------
    >>> holiday_names(["2023-10-01", "2023-10-09"], language="en").tolist()
    ['Mid-Autumn Festival and National Day', '']
    """
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en'; got {language!r}.")
    days = _days(dates)
    _check_covered(days)
    k = _period_of(days)
    names = np.array(
        [p.name_zh if language == "zh" else p.name_en for p in HOLIDAY_PERIODS] + [""],
        dtype=object,
    )
    return names[np.where(k >= 0, k, len(HOLIDAY_PERIODS))]
