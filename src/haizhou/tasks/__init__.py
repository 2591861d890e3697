"""Instructions (指令) and case supervision (三级盯案).

- :mod:`~haizhou.tasks.lifecycle`: the pure state machine (issued → signed → in progress → fed
  back → closed, or returned), with escalation (督办) as a flag, never a state.
- :mod:`~haizhou.tasks.policy`: which findings become instructions, and their deadlines.
- :mod:`~haizhou.tasks.routing`: routing a geometry to its lead and assisting jurisdictions.
- :mod:`~haizhou.tasks.service`: instructions in the store: issue, dedup, act, escalate.
- :mod:`~haizhou.tasks.supervision`: supervised cases, milestones, notes, overdue lists, stats.
- :mod:`~haizhou.tasks.kpi_service`: KPIs read from the store (arithmetic in analytics.kpis).
"""

from haizhou.tasks.lifecycle import Action, ActionNotPermitted, IllegalTransition, transition
from haizhou.tasks.policy import Decision, InstructionPolicy
from haizhou.tasks.routing import Router, Routing

__all__ = [
    "Action",
    "ActionNotPermitted",
    "Decision",
    "IllegalTransition",
    "InstructionPolicy",
    "Router",
    "Routing",
    "transition",
]
