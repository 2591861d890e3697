"""Floating-population verification (流动人口核查): sensing, comparison, determination rings.

* :mod:`.presence` (感知圈): presence profiles from pseudonymised sightings;
* :mod:`.determination` (比对圈 · 判定圈): join with the registry, score and explain;
* :mod:`.evaluation`: precision and recall against truth or feedback;
* :mod:`.privacy`: retention of raw sightings;
* :mod:`.registry`: compounds named and placed from registered residence addresses.

Only pseudonymised ids ever reach this package (pseudonymise at the boundary with
:class:`haizhou.security.pseudonym.Pseudonymiser`). No biometric data of any kind is used.
"""

from haizhou.analytics.population.determination import (
    DECISIONS,
    ResidenceModel,
    determine,
    resolve_subjects,
)
from haizhou.analytics.population.evaluation import DecisionScore, score_decisions
from haizhou.analytics.population.pipeline import Verification, verify_population
from haizhou.analytics.population.presence import night_of, presence_profiles, sensor_compounds
from haizhou.analytics.population.privacy import DEFAULT_RETENTION_DAYS, expired
from haizhou.analytics.population.registry import compound_of_address, compounds_from_registry

__all__ = [
    "DECISIONS",
    "DEFAULT_RETENTION_DAYS",
    "DecisionScore",
    "ResidenceModel",
    "Verification",
    "compound_of_address",
    "compounds_from_registry",
    "determine",
    "expired",
    "night_of",
    "presence_profiles",
    "resolve_subjects",
    "score_decisions",
    "sensor_compounds",
    "verify_population",
]
