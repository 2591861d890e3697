"""Configuration of the synthetic city (模拟城市参数)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from datetime import date

import numpy as np

#: Independent random sub-streams, one per component, spawned from the seed in this order.
#: Append new components at the end: the streams of the existing ones then stay the same.
COMPONENTS = (
    "population",
    "background",
    "hotspots",
    "repeats",
    "burglary",
    "offenders",
    "fraud",
    "surges",
    "phones",
    "cases",
    "sensors",
    "floating",
    "drones",
    "text",
    "windows",
)


@dataclass(frozen=True, slots=True)
class CityConfig:
    """What to generate (模拟城市配置).

    Parameters
    ----------
    scale : float
        City size. 1.0 gives about 100,000 incidents a year; 0.05 runs in seconds (tests); 10 is
        for benchmarks. Must be > 0 and ≤ 50.
    seed : int
        Seed of every random stream; the same config gives the same city byte for byte.
    start : datetime.date
        First day of the period (local time, Asia/Shanghai).
    days : int
        Length of the period in days (1 to 3,660).
    """

    scale: float = 1.0
    seed: int = 20240101
    start: date = date(2024, 1, 1)
    days: int = 730

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, int | float) and math.isfinite(self.scale)) or not (
            0 < self.scale <= 50
        ):
            raise ValueError(
                f"CityConfig.scale must be in (0, 50]; got {self.scale!r}. Use 0.05 for tests, 1 for the demo."
            )
        if not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ValueError(f"CityConfig.seed must be a non-negative integer; got {self.seed!r}.")
        if not isinstance(self.start, date):
            raise ValueError(f"CityConfig.start must be a datetime.date; got {self.start!r}.")
        if not isinstance(self.days, numbers.Integral) or not 1 <= self.days <= 3660:
            raise ValueError(f"CityConfig.days must be an integer in [1, 3660]; got {self.days!r}.")

    def streams(self) -> dict[str, np.random.Generator]:
        """One independent generator per component (see :data:`COMPONENTS`)."""
        children = np.random.SeedSequence(self.seed).spawn(len(COMPONENTS))
        return {
            name: np.random.default_rng(s) for name, s in zip(COMPONENTS, children, strict=True)
        }

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the manifest's ``config``)."""
        return {
            "scale": self.scale,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "days": self.days,
        }
