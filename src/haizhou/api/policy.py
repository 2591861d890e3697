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
    MAP_COVERAGE = "map.coverage"  # 感知覆盖、盲区、补盲选址
    MAP_FRAUD = "map.fraud"  # 诈骗风险区域
    INSTRUCTIONS_READ = "instructions.read"  # 指令查看 (list, detail, map layer)
    INSTRUCTIONS_WORK = "instructions.work"  # 签收、处置、反馈 (the lead station's officers)
    INSTRUCTIONS_REVIEW = "instructions.review"  # 审核办结/退回
    INSTRUCTIONS_CREATE = "instructions.create"  # 人工下发、审批
    SUPERVISION_READ = "supervision.read"  # 盯案查看
    SUPERVISION_MANAGE = "supervision.manage"  # 挂牌盯办
    SUPERVISION_NOTE = "supervision.note"  # 进展记录
    KPIS_READ = "kpis.read"  # 考核指标
    REPORTS_READ = "reports.read"  # 报告查看
    REPORTS_CREATE = "reports.create"  # 生成报告
    MODELS_READ = "models.read"  # 模型库
    MODELS_RUN = "models.run"  # 运行模型
    SCENARIOS = "scenarios"  # 场景视图: zones with live counts
    AIRSPACE_VIEW = "airspace.view"  # 低空态势: tracks, alerts, zones, permits, live socket
    AIRSPACE_FEED = "airspace.feed"  # 报文接入: sensor messages over HTTP
    AIRSPACE_COUNTER = "airspace.counter"  # 反制请求与双人确认
    SERIES_READ = "series.read"  # 系列案: list, detail, map layer
    SERIES_LEADS = "series.leads"  # 串并线索中的嫌疑人假名 (suspects of linked solved cases)
    FINDINGS_PEOPLE = "findings.people"  # 研判发现证据中的人员假名 (people named in evidence)
    JOBS = "jobs"  # 后台作业: list, read and submit queued imports, model runs, reports


_EVERYONE = frozenset(Role)
_POLICE_WORK = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMANDER, Role.STATION_OFFICER})
_FIELD_WORK = frozenset({Role.ADMIN, Role.COMMANDER, Role.STATION_OFFICER})
_MANAGERS = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMANDER})

POLICY: dict[Permission, frozenset[Role]] = {
    # Every signed-in user needs the base map to orient themselves.
    Permission.MAP_BASE: _EVERYONE,
    # Incident patterns are police work; auditors review the log, not the data, and airspace
    # operators work on drones, not calls for service.
    Permission.MAP_INCIDENTS: _POLICE_WORK,
    # Airspace operators place their detectors among the sensing points.
    Permission.MAP_SENSORS: _POLICE_WORK | {Role.AIRSPACE_OPERATOR},
    Permission.MAP_FINDINGS: _POLICE_WORK,
    # Coverage, blind spots and candidate sites are computed from incidents: police work.
    Permission.MAP_COVERAGE: _POLICE_WORK,
    # Fraud rates per resident by area (aggregates of cases and the registry).
    Permission.MAP_FRAUD: _POLICE_WORK,
    # Instructions: the station signs and feeds back its own; analysts and commanders create
    # and review (tasks.lifecycle.ACTION_ROLES); auditors and airspace operators see none.
    Permission.INSTRUCTIONS_READ: _POLICE_WORK,
    Permission.INSTRUCTIONS_WORK: _FIELD_WORK,
    Permission.INSTRUCTIONS_REVIEW: _MANAGERS,
    Permission.INSTRUCTIONS_CREATE: _MANAGERS,
    Permission.SUPERVISION_READ: _POLICE_WORK,
    Permission.SUPERVISION_MANAGE: _MANAGERS,
    # Every tier writes progress notes, the station included.
    Permission.SUPERVISION_NOTE: _POLICE_WORK,
    Permission.KPIS_READ: _POLICE_WORK,
    Permission.REPORTS_READ: _POLICE_WORK,
    Permission.REPORTS_CREATE: _MANAGERS,
    Permission.MODELS_READ: _POLICE_WORK,
    Permission.MODELS_RUN: frozenset({Role.ADMIN, Role.ANALYST}),
    # Scenario counts are incident and instruction figures: police work.
    Permission.SCENARIOS: _POLICE_WORK,
    # Airspace security is the operators' and commanders' work; admins see it and feed test
    # messages, but a countermeasure needs an operational role (airspace.counter.CounterPolicy).
    Permission.AIRSPACE_VIEW: frozenset({Role.ADMIN, Role.COMMANDER, Role.AIRSPACE_OPERATOR}),
    Permission.AIRSPACE_FEED: frozenset({Role.ADMIN, Role.AIRSPACE_OPERATOR}),
    Permission.AIRSPACE_COUNTER: frozenset({Role.COMMANDER, Role.AIRSPACE_OPERATOR}),
    # Series are case work; the suspects offered as leads are shown to those who approve
    # instructions touching a person (analysts, commanders), not to every station officer.
    Permission.SERIES_READ: _POLICE_WORK,
    Permission.SERIES_LEADS: _MANAGERS,
    # People named in a finding's evidence (suspects of a lead, residents to verify, people to
    # dissuade) are shown to those who approve the instruction; a station sees them only in an
    # approved instruction addressed to it.
    Permission.FINDINGS_PEOPLE: _MANAGERS,
    # The work queue runs imports of server files and bureau-wide jobs: administrators only.
    Permission.JOBS: frozenset({Role.ADMIN}),
}


def allowed(role: Role, permission: Permission) -> bool:
    """Whether ``role`` may use ``permission``.

    >>> allowed(Role.AUDITOR, Permission.MAP_INCIDENTS), allowed(Role.ANALYST, Permission.MAP_INCIDENTS)
    (False, True)
    """
    return role in POLICY[permission]
