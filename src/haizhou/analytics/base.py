"""Estimator base and the event set every analytic reads (估计器基类 · 事件集).

Everything in :mod:`haizhou.analytics` that learns from data is an :class:`Estimator`: a
:class:`sklearn.base.BaseEstimator` with a keyword-only ``__init__`` that stores its arguments
untouched, a declarative ``_parameter_constraints`` table checked by :meth:`Estimator._check_params`
as the first step of ``fit``, learned attributes ending in ``_``, and :func:`check_is_fitted` at
the start of every method that needs them. So ``clone``, ``get_params`` / ``set_params``,
``repr`` and pickling work the same on every model.

Events are passed as an :class:`EventSet`: three aligned float64 arrays (time in days, x and y
in metres on a projected plane) plus an optional mark per event. It is pure data; no I/O, no
clock: the forecasting time ``now`` is always passed in.

References
----------
.. [1] Buitinck, L. et al. (2013). API design for machine learning software: experiences from
   the scikit-learn project. ECML PKDD Workshop. arXiv:1309.0238.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from haizhou.errors import NotFittedError

__all__ = [
    "DAY_S",
    "EPOCH",
    "Constraint",
    "Estimator",
    "EventSet",
    "Interval",
    "Options",
    "check_is_fitted",
    "predicate",
    "to_days",
]

DAY_S = 86_400.0
"""Seconds per day."""

EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
"""Origin of the float day scale used by :class:`EventSet` (days since 1970-01-01 00:00)."""


def to_days(value: Any) -> np.ndarray:
    """Times as float64 days since 1970-01-01 00:00 (the :class:`EventSet` time scale).

    Parameters
    ----------
    value : float, numpy.datetime64, datetime, str or array_like of them
        Numbers are taken as days already; ``datetime64`` values, ``datetime`` objects and
        ISO strings are converted (no time zone handling: naive times stay in their own zone).

    Returns
    -------
    numpy.ndarray of float64
        Days (0-d for a scalar).

    Examples
    --------
    >>> float(to_days("1970-01-02T12:00"))
    1.5
    >>> to_days([0, 2.5]).tolist()
    [0.0, 2.5]
    """
    arr = np.asarray(value)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64)
    if arr.dtype.kind in "OUS" or arr.dtype.kind == "M":
        try:
            dt = arr.astype("datetime64[s]")
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"cannot read {value!r} as times: give float days since 1970-01-01, "
                "numpy datetime64 values or ISO 8601 strings."
            ) from exc
        return ((dt - EPOCH) / np.timedelta64(1, "s")).astype(np.float64) / DAY_S
    raise ValueError(
        f"cannot read values of dtype {arr.dtype} as times: give float days since 1970-01-01, "
        "numpy datetime64 values or ISO 8601 strings."
    )


@dataclass(frozen=True, slots=True, eq=False)
class EventSet:
    """Point events in time and space (事件集): what estimators are fitted on.

    Parameters
    ----------
    t_days : numpy.ndarray of float64, shape (n,)
        Event times, days since 1970-01-01 00:00 (see :func:`to_days`). Local or UTC time, as
        long as ``now`` is given on the same scale.
    x_m, y_m : numpy.ndarray of float64, shape (n,)
        Position on a projected plane, metres east and north.
    mark : numpy.ndarray or None, shape (n,)
        Optional label per event (e.g. the crime category), any dtype.

    Arrays are copied to float64 and made read-only, so a set can be shared safely. Build from
    any times with :meth:`from_arrays`.

    Examples
    --------
    >>> ev = EventSet.from_arrays(["2015-01-01", "2015-01-02"], [0.0, 10.0], [5.0, 5.0])
    >>> len(ev), ev.t_days.tolist()
    (2, [16436.0, 16437.0])
    >>> len(ev.window(16436.5, 16438.0))
    1
    """

    t_days: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    mark: np.ndarray | None = None

    def __post_init__(self) -> None:
        arrays = {}
        for name in ("t_days", "x_m", "y_m"):
            arr = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            if not np.all(np.isfinite(arr)):
                bad = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise ValueError(
                    f"EventSet.{name} must be finite; element {bad} is {arr[bad]!r}. "
                    "Drop or repair events without a time or place before building the set."
                )
            arr.flags.writeable = False
            arrays[name] = arr
        n = arrays["t_days"].size
        for name, arr in arrays.items():
            if arr.size != n:
                raise ValueError(
                    f"EventSet arrays must have one value per event; t_days has {n}, "
                    f"{name} has {arr.size}."
                )
            object.__setattr__(self, name, arr)
        if self.mark is not None:
            mark = np.array(self.mark).reshape(-1)
            if mark.size != n:
                raise ValueError(
                    f"EventSet.mark must have one value per event; t_days has {n}, mark has "
                    f"{mark.size}."
                )
            mark.flags.writeable = False
            object.__setattr__(self, "mark", mark)

    @classmethod
    def from_arrays(cls, t: Any, x_m: Any, y_m: Any, mark: Any = None) -> EventSet:
        """Build from times in any form :func:`to_days` reads, and x, y in metres."""
        return cls(to_days(t).reshape(-1), x_m, y_m, mark)

    @classmethod
    def empty(cls) -> EventSet:
        """A set with no events."""
        z = np.zeros(0)
        return cls(z, z, z)

    def __len__(self) -> int:
        return int(self.t_days.size)

    def subset(self, index: Any) -> EventSet:
        """The events selected by a boolean mask or integer index."""
        return EventSet(
            self.t_days[index],
            self.x_m[index],
            self.y_m[index],
            None if self.mark is None else self.mark[index],
        )

    def window(self, start_days: float, end_days: float) -> EventSet:
        """Events with ``start_days <= t < end_days``."""
        return self.subset((self.t_days >= start_days) & (self.t_days < end_days))

    def before(self, now_days: float) -> EventSet:
        """Events strictly before ``now_days`` (what a forecast made at ``now`` may know)."""
        return self.subset(self.t_days < now_days)


# --------------------------------------------------------------------------------------------
# Parameter constraints


class Constraint:
    """One allowed kind of value for a parameter; ``describe`` is used in error messages."""

    def is_satisfied_by(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Interval(Constraint):
    """A real (or integer) number in an interval.

    Parameters
    ----------
    kind : {"real", "int"}
        ``int`` accepts integral numbers only (``True``/``False`` are refused).
    left, right : float or None
        Bounds; None is unbounded.
    closed : {"both", "left", "right", "neither"}
        Which bounds are included.
    """

    kind: str
    left: float | None
    right: float | None
    closed: str = "both"

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        v = float(value)
        if math.isnan(v):
            return False
        if self.left is not None:
            if self.closed in ("both", "left") and v < self.left:
                return False
            if self.closed in ("right", "neither") and v <= self.left:
                return False
        if self.right is not None:
            if self.closed in ("both", "right") and v > self.right:
                return False
            if self.closed in ("left", "neither") and v >= self.right:
                return False
        return not (self.left is None and self.right is None and math.isinf(v))

    def describe(self) -> str:
        noun = "an int" if self.kind == "int" else "a number"
        lo, hi = self.left, self.right
        if lo is not None and hi is None:
            return f"{noun} {'>=' if self.closed in ('both', 'left') else '>'} {lo:g}"
        if hi is not None and lo is None:
            return f"{noun} {'<=' if self.closed in ('both', 'right') else '<'} {hi:g}"
        if lo is None and hi is None:
            return f"a finite {noun[2:] if noun.startswith('a ') else noun[3:]}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{noun} in {left}{lo:g}, {hi:g}{right}"


@dataclass(frozen=True, slots=True)
class Options(Constraint):
    """One of a fixed set of values (compared with ``==``; booleans are not integers)."""

    values: tuple[Any, ...]

    def is_satisfied_by(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values) or (
            value is None and None in self.values
        )

    def describe(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True, slots=True)
class _Predicate(Constraint):
    check: Callable[[Any], bool]
    text: str

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.check(value))
        except Exception:  # a predicate that cannot even look at the value rejects it
            return False

    def describe(self) -> str:
        return self.text


def predicate(check: Callable[[Any], bool], text: str) -> Constraint:
    """A constraint from a function; ``text`` says what is allowed (for the error message)."""
    return _Predicate(check, text)


def _message(cls_name: str, name: str, allowed: list[Constraint], value: Any) -> str:
    if len(allowed) == 1:
        want = allowed[0].describe()
    else:
        want = ", ".join(c.describe() for c in allowed[:-1]) + " or " + allowed[-1].describe()
    if len(allowed) == 1 and isinstance(allowed[0], Interval):
        # "must be > 0" reads better than "must be a number > 0"
        want = want.replace("a number ", "").replace("an int ", "an int ")
    return f"The {name!r} parameter of {cls_name} must be {want}; got {value!r}."


# --------------------------------------------------------------------------------------------
# Estimator


class Estimator(BaseEstimator):
    """Base of every fitted analytic in Haizhou (估计器).

    Subclasses declare ``_parameter_constraints``, a mapping from each ``__init__`` parameter to
    a list of :class:`Constraint` (a value is valid if any accepts it), take keyword-only
    arguments in ``__init__`` and store them untouched, call :meth:`_check_params` first thing in
    ``fit``, and end learned attributes with ``_``. ``score`` is always higher-is-better.

    Examples
    --------
    >>> class Scale(Estimator):
    ...     _parameter_constraints = {"factor": [Interval("real", 0, None, closed="neither")]}
    ...     def __init__(self, *, factor=1.0):
    ...         self.factor = factor
    ...     def fit(self, events, *, now):
    ...         self._check_params()
    ...         self.n_ = len(events) * self.factor
    ...         return self
    >>> Scale(factor=-5).fit(EventSet.empty(), now=0.0)
    Traceback (most recent call last):
    ...
    ValueError: The 'factor' parameter of Scale must be > 0; got -5.
    """

    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {}

    def _check_params(self) -> None:
        """Validate every parameter against ``_parameter_constraints``.

        Raises
        ------
        ValueError
            Naming the parameter, the class, what is allowed and the value seen.
        """
        params = self.get_params(deep=False)
        for name, allowed in self._parameter_constraints.items():
            value = params.get(name)
            if not any(c.is_satisfied_by(value) for c in allowed):
                raise ValueError(_message(type(self).__name__, name, list(allowed), value))

    def __sklearn_is_fitted__(self) -> bool:
        return _has_fitted_attributes(self)


def _has_fitted_attributes(est: Any) -> bool:
    return any(
        k.endswith("_") and not k.startswith("__") and not k.endswith("__") for k in vars(est)
    )


def check_is_fitted(est: Any) -> None:
    """Raise :class:`haizhou.errors.NotFittedError` unless ``est`` has been fitted.

    An estimator counts as fitted once it has an attribute whose name ends with ``_``
    (scikit-learn's convention).
    """
    if not _has_fitted_attributes(est):
        raise NotFittedError(
            f"This {type(est).__name__} instance is not fitted yet; call 'fit' with events and "
            "'now' before using it."
        )
