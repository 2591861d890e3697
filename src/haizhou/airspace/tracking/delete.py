"""Track deletion (航迹删除): too long without an update, or too uncertain to be useful."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from haizhou.airspace.tracking.types import Track

__all__ = ["CoastingDeleter", "Deleter"]


class Deleter(Protocol):
    """A deleter: ``delete(tracks, now) -> (kept, deleted)``."""

    def delete(self, tracks: Sequence[Track], now: float) -> tuple[list[Track], list[Track]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CoastingDeleter:
    """Delete tracks coasting too long or grown too uncertain (航迹消亡).

    Parameters
    ----------
    max_coast_s : float
        Seconds without an update after which a track is deleted.
    max_position_sigma_m : float
        Largest horizontal position standard deviation, metres, before deletion.

    Examples
    --------
    >>> CoastingDeleter(max_coast_s=float("inf"))
    Traceback (most recent call last):
    ...
    ValueError: The 'max_coast_s' parameter of CoastingDeleter must be a finite number > 0; got inf.
    """

    max_coast_s: float = 12.0
    max_position_sigma_m: float = 400.0

    def __post_init__(self) -> None:
        for name in ("max_coast_s", "max_position_sigma_m"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                raise ValueError(
                    f"The {name!r} parameter of CoastingDeleter must be a finite number > 0; got {v!r}."
                )

    def delete(self, tracks: Sequence[Track], now: float) -> tuple[list[Track], list[Track]]:
        """Split tracks into kept and deleted at time ``now`` (seconds)."""
        if not tracks:
            return [], []
        return self.delete_stacked(tracks, np.stack([t.covariance for t in tracks]), now)

    def delete_stacked(
        self, tracks: Sequence[Track], covariances: np.ndarray, now: float
    ) -> tuple[list[Track], list[Track]]:
        """:meth:`delete` given the tracks' covariances stacked, ``(n, 6, 6)`` (the tracker
        holds them so: no array per track)."""
        kept: list[Track] = []
        gone: list[Track] = []
        if not tracks:
            return kept, gone
        limit = self.max_position_sigma_m**2
        horizontal_var = _largest_eigenvalue_2x2(covariances[:, :2, :2]).tolist()
        for t, var in zip(tracks, horizontal_var, strict=True):
            if now - t.last_update_s > self.max_coast_s or var > limit:
                gone.append(t)
            else:
                kept.append(t)
        return kept, gone


def _largest_eigenvalue_2x2(c: np.ndarray) -> np.ndarray:
    """Largest eigenvalue of each symmetric 2×2 matrix in ``c`` (n, 2, 2), in closed form.

    ``(a + d) / 2 + sqrt(((a - d) / 2)² + b²)``: one vectorised expression instead of one
    LAPACK call per track (the live tracker steps many times a second).
    """
    a, d = c[:, 0, 0], c[:, 1, 1]
    b = 0.5 * (c[:, 0, 1] + c[:, 1, 0])
    return 0.5 * (a + d) + np.hypot(0.5 * (a - d), b)
