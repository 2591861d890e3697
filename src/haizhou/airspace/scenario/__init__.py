"""Scenario simulator (仿真场景): objects, sensors and ground truth for effectiveness evaluation.

Shipped scenarios (``builtin_scenarios()``): ``stadium_match_day`` (连云港市体育中心, match
evening), ``school`` (school zone at the end of the school day) and ``mixed_sensors`` (a
sensor-mix comparison with radar clutter and occlusion). ``load_scenario`` reads a name or a
TOML/JSON file; ``simulate(scenario, seed=...)`` returns detections with ground truth.
"""

from haizhou.airspace.scenario.model import (
    ObjectSpec,
    Scenario,
    ScenarioError,
    SensorSpec,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
)
from haizhou.airspace.scenario.simulate import SimulationResult, TruthObject, simulate

__all__ = [
    "ObjectSpec",
    "Scenario",
    "ScenarioError",
    "SensorSpec",
    "SimulationResult",
    "TruthObject",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
    "simulate",
]
