"""Who may do what (访问控制策略): the role policy of every protected API capability.

One table, read by :func:`haizhou.api.deps.require` and by the authorisation-matrix test, so
the policy lives in one place. *Where* a user may look is the jurisdiction scope
(:class:`~haizhou.security.roles.Scope`), applied in every repository query; this table says
only *what* each role may use.
"""

from __future__ import annotations

from enum import StrEnum

from haizhou.security.roles import Role

__all__ = ["POLICY", "Permission", "allowed"]


class Permission(StrEnum):
    """A capability of the API (接口权限)."""

    MAP_BASE = "map.base"  # 底图与辖区: jurisdictions, roads, places
    MAP_INCIDENTS = "map.incidents"  # 警情聚合: hexagons and heat of incidents
    MAP_SENSORS = "map.sensors"  # 感知点位
    MAP_FINDINGS = "map.findings"  # 研判发现


_EVERYONE = frozenset(Role)
_POLICE_WORK = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMANDER, Role.STATION_OFFICER})

POLICY: dict[Permission, frozenset[Role]] = {
    # Every signed-in user needs the base map to orient themselves.
    Permission.MAP_BASE: _EVERYONE,
    # Incident patterns are police work; auditors review the log, not the data, and airspace
    # operators work on drones, not calls for service.
    Permission.MAP_INCIDENTS: _POLICE_WORK,
    # Airspace operators place their detectors among the sensing points.
    Permission.MAP_SENSORS: _POLICE_WORK | {Role.AIRSPACE_OPERATOR},
    Permission.MAP_FINDINGS: _POLICE_WORK,
}


def allowed(role: Role, permission: Permission) -> bool:
    """Whether ``role`` may use ``permission``.

    >>> allowed(Role.AUDITOR, Permission.MAP_INCIDENTS), allowed(Role.ANALYST, Permission.MAP_INCIDENTS)
    (False, True)
    """
    return role in POLICY[permission]
