"""Synthetic city with ground truth (模拟城市), shared by the demo, the tests and the benchmarks.

A seeded, deterministic district placed on the real Haizhou district of Lianyungang: station
jurisdictions, roads, places, sensing points, a resident population, one to two years of
incidents and cases with known structure (profiles, hot spots, near-repeat burglary, repeat
callers, surges, serial offenders, fraud victims), floating residents and drone scenarios.

>>> from haizhou.sim import CityConfig, generate_city
>>> city = generate_city(CityConfig(scale=0.01, days=14))
>>> city.incidents["reported_at"].min().year, len(city.jurisdictions["features"])
(2024, 12)
"""

from __future__ import annotations

from haizhou.sim.catalog import CATEGORY_KEYS, CATEGORY_ZH_TO_KEY
from haizhou.sim.city import City, CityTruth, generate_city
from haizhou.sim.config import CityConfig
from haizhou.sim.writer import write_city

__all__ = [
    "CATEGORY_KEYS",
    "CATEGORY_ZH_TO_KEY",
    "City",
    "CityConfig",
    "CityTruth",
    "generate_city",
    "write_city",
]
