"""One small synthetic city shared by the sim tests (generated once per session, ~2 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from haizhou.sim import City, CityConfig, generate_city, write_city

SMALL = CityConfig(scale=0.1, seed=20240101)


@pytest.fixture(scope="session")
def small_city() -> City:
    return generate_city(SMALL)


@pytest.fixture(scope="session")
def small_city_dir(small_city: City, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(small_city, out)
    return out
