"""Sensing points and blind-spot filling (感知点位 · 补盲).

* :mod:`.footprint`: coverage models per sensor kind (sector, road stretch, radius) with
  occlusion by buildings, and who-sees-what as a sparse matrix;
* :mod:`.figures`: covered share of road length, places and incidents per jurisdiction, and
  blind spots;
* :mod:`.mclp`: choosing K new sites, lazy greedy with its (1 − 1/e) guarantee and the exact
  integer program (HiGHS), with their gap;
* :mod:`.health`: silent sensors and collapsed volumes.
"""

from haizhou.analytics.coverage.demand import DEFAULT_SEVERITY, demand_points
from haizhou.analytics.coverage.figures import blind_spots, coverage_by_jurisdiction, road_samples
from haizhou.analytics.coverage.footprint import (
    OPTICAL_KINDS,
    coverage_matrix_points,
    footprints,
    sector_polygons,
)
from haizhou.analytics.coverage.health import sensor_health
from haizhou.analytics.coverage.mclp import (
    GREEDY_GUARANTEE,
    MCLPResult,
    MCLPSolution,
    coverage_matrix,
    exact_mclp,
    greedy_mclp,
    solve_mclp,
)

__all__ = [
    "DEFAULT_SEVERITY",
    "GREEDY_GUARANTEE",
    "OPTICAL_KINDS",
    "MCLPResult",
    "MCLPSolution",
    "blind_spots",
    "coverage_by_jurisdiction",
    "coverage_matrix",
    "coverage_matrix_points",
    "demand_points",
    "exact_mclp",
    "footprints",
    "greedy_mclp",
    "road_samples",
    "sector_polygons",
    "sensor_health",
    "solve_mclp",
]
