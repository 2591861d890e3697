"""Cases and offenders for linkage (串并案件表 · 作案人表): aligned arrays, no I/O.

A :class:`CrimeTable` holds what pair evidence needs, one row per case: a position in metres,
an occurrence window (发案时间起止) in days, categorical modus-operandi codes (作案手段) and,
where recorded, a category (案件类别, the blocking key), narrative text (简要案情), property
taken (被盗物品) and a suspect description (嫌疑人特征). :class:`Offenders` says who committed
which solved case (a case may have several offenders, an offender many cases).

:func:`parse_crimelinkage` reads the layout of the crimelinkage R package (Porter & Reich 2015)
from an already loaded data frame, so the CLI and tests share one parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["MISSING_VALUES", "CrimeTable", "LinkageInputError", "Offenders", "parse_crimelinkage"]

MISSING_VALUES = frozenset({"", "NA", "NaN", "nan", "None", "NULL", "null"})
"""Text read as a missing MO value (besides ``None`` and float NaN)."""

_DAY_S = 86_400.0
_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


class LinkageInputError(ValueError):
    """Bad linkage input: says which column, which row (0-based in the frame) and what to do."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        self.row, self.column = row, column
        super().__init__(message)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in MISSING_VALUES


def _text_or_none(values: Any, n: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=object).reshape(-1)
    if arr.size != n:
        raise LinkageInputError(f"{name} must have one value per case ({n}); got {arr.size}.")
    out = np.array(["" if _is_missing(v) else str(v) for v in arr], dtype=object)
    out.flags.writeable = False
    return out


def _encode(values: Any, n: int, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    arr = np.asarray(values, dtype=object).reshape(-1)
    if arr.size != n:
        raise LinkageInputError(
            f"MO column {name!r} must have one value per case ({n}); got {arr.size}."
        )
    text = np.array([None if _is_missing(v) else str(v).strip() for v in arr], dtype=object)
    present = np.array([v is not None for v in text], dtype=bool)
    levels = tuple(sorted({str(v) for v in text[present]}))
    lookup = {v: i for i, v in enumerate(levels)}
    codes = np.full(n, -1, dtype=np.int32)
    codes[present] = [lookup[v] for v in text[present]]
    return codes, levels


@dataclass(frozen=True, slots=True, eq=False)
class CrimeTable:
    """Cases to link (串并案件表): aligned arrays, one row per case, read-only.

    Parameters
    ----------
    crime_id : numpy.ndarray of str, shape (n,)
        Case ids (案件编号), unique.
    x_m, y_m : numpy.ndarray of float64, shape (n,)
        Position on a projected plane, metres east and north.
    t_from_days, t_to_days : numpy.ndarray of float64, shape (n,)
        Occurrence window (发案时间起/止), days since 1970-01-01 00:00 local time;
        ``t_from_days <= t_to_days``.
    mo_codes : numpy.ndarray of int32, shape (n, k)
        Modus-operandi attribute codes (作案手段), ``-1`` where missing.
    mo_names : tuple of str, length k
        Name of each MO attribute (e.g. ``"entry_method"`` 侵入方式).
    mo_levels : tuple of tuple of str, length k
        The value behind each code, per attribute.
    category : numpy.ndarray of str or None
        Case category (案件类别); pairs are only formed within a category. None: one block.
    text : numpy.ndarray of str or None
        Narrative (简要案情), ``""`` where missing.
    property_taken : numpy.ndarray of str or None
        Property taken (被盗物品), items separated by ``;`` ``,`` ``、`` ``，`` or ``/``.
    suspect_text : numpy.ndarray of str or None
        Suspect description (嫌疑人特征) where recorded.

    Build with :meth:`from_arrays`, which validates and encodes.

    Examples
    --------
    >>> t = CrimeTable.from_arrays(
    ...     crime_id=["a", "b"], x_m=[0, 300], y_m=[0, 400],
    ...     t_from=["2024-01-01T02:00", "2024-01-03T02:00"],
    ...     t_to=["2024-01-01T04:00", "2024-01-03T03:00"],
    ...     mo={"entry_method": ["撬锁", None]})
    >>> len(t), t.mo_codes[:, 0].tolist(), t.mo_levels
    (2, [0, -1], (('撬锁',),))
    """

    crime_id: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    t_from_days: np.ndarray
    t_to_days: np.ndarray
    mo_codes: np.ndarray
    mo_names: tuple[str, ...]
    mo_levels: tuple[tuple[str, ...], ...]
    category: np.ndarray | None = None
    text: np.ndarray | None = None
    property_taken: np.ndarray | None = None
    suspect_text: np.ndarray | None = None

    @classmethod
    def from_arrays(
        cls,
        *,
        crime_id: Any,
        x_m: Any,
        y_m: Any,
        t_from: Any,
        t_to: Any | None = None,
        mo: Mapping[str, Any] | None = None,
        category: Any | None = None,
        text: Any | None = None,
        property_taken: Any | None = None,
        suspect_text: Any | None = None,
    ) -> CrimeTable:
        """Validate and encode.

        Parameters
        ----------
        crime_id : array_like of str
            Unique case ids.
        x_m, y_m : array_like of float
            Metres on a projected plane.
        t_from, t_to : array_like
            Window bounds as float days since 1970-01-01 or datetime64 / ISO strings. ``t_to``
            defaults to ``t_from`` (an exact time). Each window is taken as
            ``[min(from, to), max(from, to)]``.
        mo : mapping of str to array_like, optional
            MO attribute name → values; ``None``, NaN, ``""`` and ``"NA"`` are missing.
        category, text, property_taken, suspect_text : array_like of str, optional
            See the class parameters.

        Raises
        ------
        ValueError
            Naming the array and the first bad element.
        """
        ids = np.asarray(crime_id, dtype=object).reshape(-1).astype(str).astype(object)
        n = ids.size
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size != n:
            dup = str(uniq[counts > 1][0])
            raise LinkageInputError(
                f"case ids must be unique; {dup!r} appears {int(counts[counts > 1][0])} times. "
                "Remove the duplicate rows.",
                row=int(np.flatnonzero(ids == dup)[1]),
            )
        arrays: dict[str, np.ndarray] = {}
        t_to = t_from if t_to is None else t_to
        for name, values in (
            ("x_m", x_m),
            ("y_m", y_m),
            ("t_from_days", _days(t_from)),
            ("t_to_days", _days(t_to)),
        ):
            arr = np.array(values, dtype=np.float64).reshape(-1)
            if arr.size != n:
                raise LinkageInputError(
                    f"{name} must have one value per case ({n}); got {arr.size}."
                )
            bad = ~np.isfinite(arr)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise LinkageInputError(
                    f"{name} must be finite; case {ids[i]!r} has {arr[i]!r}. Give every case a "
                    "place and a time, or leave it out.",
                    row=i,
                )
            arrays[name] = arr
        lo = np.minimum(arrays["t_from_days"], arrays["t_to_days"])
        hi = np.maximum(arrays["t_from_days"], arrays["t_to_days"])
        arrays["t_from_days"], arrays["t_to_days"] = lo, hi
        names: list[str] = []
        levels: list[tuple[str, ...]] = []
        codes = np.empty((n, 0), dtype=np.int32)
        if mo:
            cols = []
            for name, values in mo.items():
                c, lv = _encode(values, n, name)
                cols.append(c)
                names.append(str(name))
                levels.append(lv)
            codes = np.column_stack(cols).astype(np.int32)
        for arr in (*arrays.values(), codes, ids):
            arr.flags.writeable = False
        cat = _text_or_none(category, n, "category")
        return cls(
            crime_id=ids,
            mo_codes=codes,
            mo_names=tuple(names),
            mo_levels=tuple(levels),
            category=cat,
            text=_text_or_none(text, n, "text"),
            property_taken=_text_or_none(property_taken, n, "property_taken"),
            suspect_text=_text_or_none(suspect_text, n, "suspect_text"),
            **arrays,
        )

    def __len__(self) -> int:
        return int(self.crime_id.size)

    @property
    def t_mid_days(self) -> np.ndarray:
        """Midpoint of each window, days."""
        return 0.5 * (self.t_from_days + self.t_to_days)

    def subset(self, index: Any) -> CrimeTable:
        """The cases selected by a boolean mask or an integer index (MO levels are kept)."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            out = a[index]
            out.flags.writeable = False
            return out

        return CrimeTable(
            crime_id=pick(self.crime_id),
            x_m=pick(self.x_m),
            y_m=pick(self.y_m),
            t_from_days=pick(self.t_from_days),
            t_to_days=pick(self.t_to_days),
            mo_codes=pick(self.mo_codes),
            mo_names=self.mo_names,
            mo_levels=self.mo_levels,
            category=pick(self.category),
            text=pick(self.text),
            property_taken=pick(self.property_taken),
            suspect_text=pick(self.suspect_text),
        )

    def index_of(self, ids: Any) -> np.ndarray:
        """Row of each id (``-1`` where an id is not in the table)."""
        q = np.asarray(ids, dtype=object).reshape(-1).astype(str).astype(object)
        if len(self) == 0:
            return np.full(q.size, -1, dtype=np.int64)
        order = np.argsort(self.crime_id)
        sorted_ids = self.crime_id[order]
        pos = np.minimum(np.searchsorted(sorted_ids, q), len(self) - 1)
        return np.where(sorted_ids[pos] == q, order[pos], -1).astype(np.int64)


def _days(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64)
    if arr.dtype.kind == "M":
        dt = arr.astype("datetime64[s]")
    else:
        dt = pd.to_datetime(pd.Series(arr.reshape(-1)), errors="coerce").to_numpy("datetime64[s]")
    out = ((dt - _EPOCH) / np.timedelta64(1, "s")).astype(np.float64) / _DAY_S
    out[np.isnat(dt.reshape(-1)) if dt.ndim else np.isnat(dt)] = np.nan
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Offenders:
    """Who committed which case (作案人—案件): one row per (offender, case) link.

    Parameters
    ----------
    crime_index : numpy.ndarray of int64
        Row of the case in its :class:`CrimeTable`.
    offender_code : numpy.ndarray of int64
        Offender number, ``0 .. len(offender_ids) - 1``.
    offender_ids : numpy.ndarray of str
        Offender id (作案人编号) behind each code.
    n_crimes : int
        Rows of the crime table the indices refer to.
    """

    crime_index: np.ndarray
    offender_code: np.ndarray
    offender_ids: np.ndarray
    n_crimes: int

    @classmethod
    def from_pairs(cls, crimes: CrimeTable, *, offender_id: Any, crime_id: Any) -> Offenders:
        """Links given as two aligned columns; ids of cases not in ``crimes`` are ignored,
        duplicate links are kept once."""
        off = np.asarray(offender_id, dtype=object).reshape(-1).astype(str)
        idx = crimes.index_of(crime_id)
        keep = idx >= 0
        frame = pd.DataFrame({"o": off[keep], "c": idx[keep]}).drop_duplicates()
        codes, uniq = pd.factorize(frame["o"], sort=True)
        return cls(
            crime_index=frame["c"].to_numpy(np.int64),
            offender_code=codes.astype(np.int64),
            offender_ids=np.asarray(uniq, dtype=object),
            n_crimes=len(crimes),
        )

    def solved_mask(self) -> np.ndarray:
        """True for cases with at least one offender (破案)."""
        m = np.zeros(self.n_crimes, dtype=bool)
        m[self.crime_index] = True
        return m

    def groups(self) -> np.ndarray:
        """Offender group of each case (作案团伙): connected components of the case–offender
        graph, so co-offenders' cases share a group. Unsolved cases get their own group each.

        Returns
        -------
        numpy.ndarray of int64, shape (n_crimes,)
        """
        n, m = self.n_crimes, self.offender_ids.size
        data = np.ones(self.crime_index.size)
        graph = coo_matrix((data, (self.crime_index, n + self.offender_code)), shape=(n + m, n + m))
        _, labels = connected_components(graph, directed=False)
        return labels[:n].astype(np.int64)

    def subset(self, index: np.ndarray) -> Offenders:
        """Links of the cases ``index`` (integer rows), renumbered to ``0 .. len(index) - 1``."""
        new = np.full(self.n_crimes, -1, dtype=np.int64)
        new[index] = np.arange(index.size)
        keep = new[self.crime_index] >= 0
        codes, uniq = pd.factorize(self.offender_code[keep], sort=True)
        return Offenders(
            crime_index=new[self.crime_index[keep]],
            offender_code=codes.astype(np.int64),
            offender_ids=self.offender_ids[uniq],
            n_crimes=int(index.size),
        )

    def by_crime(self) -> list[list[str]]:
        """Offender ids of each case (empty for unsolved)."""
        out: list[list[str]] = [[] for _ in range(self.n_crimes)]
        for c, o in zip(self.crime_index.tolist(), self.offender_code.tolist(), strict=True):
            out[c].append(str(self.offender_ids[o]))
        return out


# --------------------------------------------------------------------------------------------
# crimelinkage layout

_ID_COLUMNS = ("crimeID", "crime_id", "id", "case_id")
_HHMM = re.compile(r"^\s*(\d{1,2}):?(\d{2})(?::(\d{2}))?\s*$")


def _clock_days(values: pd.Series, column: str) -> np.ndarray:
    """``"HHMM"`` / ``"HH:MM"`` text as a fraction of a day; ``2400`` is 00:00 of that date."""
    out = np.zeros(len(values))
    for i, v in enumerate(values.tolist()):
        if _is_missing(v):
            continue
        text = str(v).strip()
        if text.isdigit() and len(text) <= 4:
            text = text.zfill(4)
        match = _HHMM.match(text)
        if not match:
            raise LinkageInputError(
                f"cannot read {v!r} as a time of day; write HHMM (e.g. 0230) or HH:MM.",
                row=i,
                column=column,
            )
        h, m, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if h == 24 and m == 0 and s == 0:
            h = 0  # crimelinkage quirk: 2400 means midnight starting that date
        if h > 23 or m > 59 or s > 59:
            raise LinkageInputError(
                f"time of day {v!r} is out of range (00:00 to 23:59).", row=i, column=column
            )
        out[i] = (h * 3600 + m * 60 + s) / _DAY_S
    return out


def _date_days(values: pd.Series, column: str) -> np.ndarray:
    parsed = pd.to_datetime(values.astype(str), errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LinkageInputError(
            f"cannot read {values.iloc[i]!r} as a date or time; write YYYY-MM-DD or "
            "YYYY-MM-DD HH:MM.",
            row=i,
            column=column,
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    dt = parsed.to_numpy("datetime64[s]")
    return ((dt - _EPOCH) / np.timedelta64(1, "s")).astype(np.float64) / _DAY_S


def parse_crimelinkage(
    frame: pd.DataFrame,
    *,
    mo_cols: Sequence[str] = (),
    x_col: str = "X",
    y_col: str = "Y",
    project: Any | None = None,
    category_col: str | None = None,
    text_col: str | None = None,
) -> CrimeTable:
    """A :class:`CrimeTable` from a crimes frame in the crimelinkage layout.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per crime, read with every column as text or numbers. Needs an id column
        (``crimeID``, ``crime_id``, ``id`` or ``case_id``), coordinates, and either
        ``DATE_FROM, TIME_FROM, DATE_TO, TIME_TO`` (``TIME_*`` as ``HHMM``; ``2400`` is read as
        00:00 of that date) or ``DT.FROM, DT.TO`` (date-times). A window whose end is before its
        start (an overnight window whose end date was not advanced) is taken as
        ``[earliest, latest]`` of the two stamps.
    mo_cols : sequence of str
        Categorical MO columns; ``NA`` and empty cells are missing.
    x_col, y_col : str
        Coordinate columns: metres, or longitude / latitude when ``project`` is given.
    project : callable or None
        ``project(lon, lat) -> (x_m, y_m)``, e.g. ``LocalProjection.forward``.
    category_col, text_col : str or None
        Optional blocking category and narrative columns.

    Raises
    ------
    LinkageInputError
        With the column and the row (0-based in ``frame``) of the first bad value.
    """
    cols = list(frame.columns)
    id_col = next((c for c in _ID_COLUMNS if c in cols), None)
    if id_col is None:
        raise LinkageInputError(
            f"no crime id column; name one of {', '.join(_ID_COLUMNS)}. Columns seen: "
            f"{', '.join(map(str, cols))}."
        )
    need = [x_col, y_col, *mo_cols]
    for extra in (category_col, text_col):
        if extra is not None:
            need.append(extra)
    missing = [c for c in need if c not in cols]
    if missing:
        raise LinkageInputError(
            f"missing column(s) {', '.join(map(repr, missing))}; columns seen: "
            f"{', '.join(map(str, cols))}.",
            column=missing[0],
        )
    if {"DATE_FROM", "TIME_FROM"} <= set(cols):
        t_from = _date_days(frame["DATE_FROM"], "DATE_FROM") + _clock_days(
            frame["TIME_FROM"], "TIME_FROM"
        )
        if "DATE_TO" in cols:
            dto = frame["DATE_TO"].where(~frame["DATE_TO"].map(_is_missing), frame["DATE_FROM"])
            tto = frame["TIME_TO"] if "TIME_TO" in cols else frame["TIME_FROM"]
            tto = tto.where(~tto.map(_is_missing), frame["TIME_FROM"])
            t_to = _date_days(dto, "DATE_TO") + _clock_days(tto, "TIME_TO")
        else:
            t_to = t_from
    elif "DT.FROM" in cols:
        t_from = _date_days(frame["DT.FROM"], "DT.FROM")
        if "DT.TO" in cols:
            dto = frame["DT.TO"].where(~frame["DT.TO"].map(_is_missing), frame["DT.FROM"])
            t_to = _date_days(dto, "DT.TO")
        else:
            t_to = t_from
    else:
        raise LinkageInputError(
            "no occurrence window: give DATE_FROM, TIME_FROM, DATE_TO, TIME_TO or DT.FROM, DT.TO "
            f"columns. Columns seen: {', '.join(map(str, cols))}."
        )
    x = pd.to_numeric(frame[x_col], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(frame[y_col], errors="coerce").to_numpy(np.float64)
    for name, arr in ((x_col, x), (y_col, y)):
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise LinkageInputError(
                f"coordinate {frame[name].iloc[i]!r} is not a number; every case needs a place.",
                row=i,
                column=name,
            )
    if project is not None:
        x, y = project(x, y)
    return CrimeTable.from_arrays(
        crime_id=frame[id_col].astype(str).to_numpy(),
        x_m=x,
        y_m=y,
        t_from=t_from,
        t_to=t_to,
        mo={c: frame[c].to_numpy(dtype=object) for c in mo_cols},
        category=None if category_col is None else frame[category_col].to_numpy(dtype=object),
        text=None if text_col is None else frame[text_col].to_numpy(dtype=object),
    )
