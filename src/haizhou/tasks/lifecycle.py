"""The instruction lifecycle (指令流转): a pure state machine with a transition table.

::

    issued ─sign─► signed ─start─► in_progress ─feed_back─► fed_back ─accept─► closed
                     │                                         ▲  │
                     └──────────────feed_back──────────────────┤  return
                                                               │  ▼
                             in_progress ◄─start─ returned ─feed_back┘

    签收 sign · 开始处置 start · 反馈 feed back · 审核办结 accept · 退回 return

Escalation (督办) is not a state: an overdue step raises the instruction's escalation level and
the instruction stays where it was, so no step of the work is lost. Which step is overdue is
decided by :func:`overdue_step` from the deadlines and the clock, which is always passed in.

Every function here is pure: no database, no wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from haizhou.domain import InstructionStatus
from haizhou.errors import HaizhouError

__all__ = [
    "ACTION_ROLES",
    "TERMINAL",
    "TRANSITIONS",
    "Action",
    "ActionNotPermitted",
    "HistoryEntry",
    "IllegalTransition",
    "Lifecycle",
    "Step",
    "allowed_actions",
    "overdue_step",
    "replay",
    "transition",
]

S = InstructionStatus


class Action(StrEnum):
    """What a person does to an instruction (指令操作)."""

    SIGN = "sign"  # 签收
    START = "start"  # 开始处置
    FEED_BACK = "feed_back"  # 反馈
    ACCEPT = "accept"  # 审核通过, 办结
    RETURN = "return"  # 退回

    @property
    def title_zh(self) -> str:
        return _ACTION_ZH[self]


_ACTION_ZH = {
    Action.SIGN: "签收",
    Action.START: "开始处置",
    Action.FEED_BACK: "反馈",
    Action.ACCEPT: "审核办结",
    Action.RETURN: "退回",
}

TRANSITIONS: Mapping[tuple[InstructionStatus, Action], InstructionStatus] = {
    (S.ISSUED, Action.SIGN): S.SIGNED,
    (S.SIGNED, Action.START): S.IN_PROGRESS,
    (S.SIGNED, Action.FEED_BACK): S.FED_BACK,
    (S.IN_PROGRESS, Action.FEED_BACK): S.FED_BACK,
    (S.FED_BACK, Action.ACCEPT): S.CLOSED,
    (S.FED_BACK, Action.RETURN): S.RETURNED,
    (S.RETURNED, Action.START): S.IN_PROGRESS,
    (S.RETURNED, Action.FEED_BACK): S.FED_BACK,
}
"""``(state, action) -> next state``; every pair not listed is illegal."""

TERMINAL = frozenset({S.CLOSED})
"""States no action leaves."""

# Role values of haizhou.security.roles.Role; kept as text so this module stays pure.
_FIELD_ROLES = frozenset({"station_officer", "commander", "admin"})
_REVIEW_ROLES = frozenset({"analyst", "commander", "admin"})
ACTION_ROLES: Mapping[Action, frozenset[str]] = {
    Action.SIGN: _FIELD_ROLES,
    Action.START: _FIELD_ROLES,
    Action.FEED_BACK: _FIELD_ROLES,
    Action.ACCEPT: _REVIEW_ROLES,
    Action.RETURN: _REVIEW_ROLES,
}
"""Which roles may take each action: the station works the instruction, analysts review it."""


class IllegalTransition(HaizhouError):
    """An action that the instruction's current state does not allow.

    Attributes
    ----------
    state, action
        The refused pair.
    allowed : tuple of Action
        What the state does allow (empty for a closed instruction).
    """

    def __init__(self, state: InstructionStatus, action: Action | str) -> None:
        self.state, self.action = InstructionStatus(state), action
        self.allowed = allowed_actions(self.state)
        what = f"cannot {action!s} an instruction that is {self.state.value}"
        if self.allowed:
            options = ", ".join(a.value for a in self.allowed)
            hint = f"allowed from {self.state.value}: {options}"
        else:
            hint = f"{self.state.value} is final; create a new instruction instead"
        super().__init__(f"{what}; {hint}.")


class ActionNotPermitted(HaizhouError):
    """The actor's role may not take this action (e.g. a station officer closing its own work)."""

    def __init__(self, action: Action, actor_role: str | None) -> None:
        self.action, self.actor_role = action, actor_role
        roles = ", ".join(sorted(ACTION_ROLES[action]))
        super().__init__(
            f"the role {actor_role or 'none'!s} may not {action.value} an instruction; "
            f"ask a user with one of these roles: {roles}."
        )


def allowed_actions(state: InstructionStatus | str) -> tuple[Action, ...]:
    """The actions the table allows from ``state``, in :class:`Action` order."""
    state = InstructionStatus(state)
    return tuple(a for a in Action if (state, a) in TRANSITIONS)


def _parse_action(action: Action | str, state: InstructionStatus) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise IllegalTransition(state, action) from None


def transition(
    state: InstructionStatus | str,
    action: Action | str,
    *,
    actor_role: str | None,
    now: datetime,
) -> InstructionStatus:
    """The state after ``action``; refuses what the table or the role does not allow.

    Parameters
    ----------
    state
        The current :class:`~haizhou.domain.InstructionStatus`.
    action
        An :class:`Action` (or its value).
    actor_role
        The acting user's role value (``"station_officer"``, ``"analyst"``...).
    now
        Timezone-aware time of the action; checked, so a naive clock fails here.

    Raises
    ------
    IllegalTransition
        If ``(state, action)`` is not in :data:`TRANSITIONS` (the message lists the allowed
        actions).
    ActionNotPermitted
        If the role may not take the action.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> transition("issued", "sign", actor_role="station_officer", now=now).value
    'signed'
    >>> transition("issued", "accept", actor_role="analyst", now=now)
    Traceback (most recent call last):
    ...
    haizhou.tasks.lifecycle.IllegalTransition: cannot accept an instruction that is issued; allowed from issued: sign.
    """
    _check_aware(now)
    state = InstructionStatus(state)
    parsed = _parse_action(action, state)
    new = TRANSITIONS.get((state, parsed))
    if new is None:
        raise IllegalTransition(state, parsed)
    if actor_role not in ACTION_ROLES[parsed]:
        raise ActionNotPermitted(parsed, actor_role)
    return new


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One transition as kept in the history (流转记录)."""

    at: datetime
    actor: str
    actor_role: str | None
    action: Action
    from_status: InstructionStatus
    to_status: InstructionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifecycle:
    """An instruction's state with its complete history; :meth:`apply` returns a new one.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> life = Lifecycle().apply("sign", actor="wang", actor_role="station_officer", now=t)
    >>> life = life.apply("feed_back", actor="wang", actor_role="station_officer",
    ...                   now=t + timedelta(hours=2))
    >>> life.status.value, [e.action.value for e in life.history]
    ('fed_back', ['sign', 'feed_back'])
    """

    status: InstructionStatus = InstructionStatus.ISSUED
    history: tuple[HistoryEntry, ...] = field(default=())

    def apply(
        self, action: Action | str, *, actor: str, actor_role: str | None, now: datetime
    ) -> Lifecycle:
        """The lifecycle after ``action`` (see :func:`transition`); times must not go back."""
        if self.history and now < self.history[-1].at:
            raise HaizhouError(
                f"an action at {now.isoformat()} comes before the last one "
                f"({self.history[-1].at.isoformat()}); history must move forward in time"
            )
        new = transition(self.status, action, actor_role=actor_role, now=now)
        entry = HistoryEntry(
            at=now,
            actor=actor,
            actor_role=actor_role,
            action=Action(action),
            from_status=self.status,
            to_status=new,
        )
        return replace(self, status=new, history=(*self.history, entry))


def replay(
    entries: tuple[HistoryEntry, ...] | list[HistoryEntry],
    start: InstructionStatus = InstructionStatus.ISSUED,
) -> InstructionStatus:
    """The state reached by replaying ``entries`` from ``start``.

    Raises
    ------
    IllegalTransition
        If an entry's action is not allowed where it stands, or its recorded ``from_status`` /
        ``to_status`` disagree with the table: the history is then incomplete or tampered with.
    """
    state = start
    for entry in entries:
        if entry.from_status != state:
            raise IllegalTransition(state, entry.action)
        new = TRANSITIONS.get((state, entry.action))
        if new is None or new != entry.to_status:
            raise IllegalTransition(state, entry.action)
        state = new
    return state


class Step(StrEnum):
    """The step an instruction is waiting for, each with its own deadline."""

    SIGN = "sign"  # 签收 (sign_due_at)
    FEEDBACK = "feedback"  # 反馈 (feedback_due_at)
    REVIEW = "review"  # 审核 (review_due_at)


_WAITING_FOR = {
    S.ISSUED: Step.SIGN,
    S.SIGNED: Step.FEEDBACK,
    S.IN_PROGRESS: Step.FEEDBACK,
    S.RETURNED: Step.FEEDBACK,
    S.FED_BACK: Step.REVIEW,
}


def overdue_step(
    state: InstructionStatus | str,
    *,
    now: datetime,
    sign_due_at: datetime | None,
    feedback_due_at: datetime | None,
    review_due_at: datetime | None,
) -> Step | None:
    """The step that is late at ``now``, or ``None``.

    A step is late when ``now`` is strictly after its deadline: an instruction signed exactly
    at the deadline is on time. A closed instruction is never late; a step without a deadline
    never runs late.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> due = datetime(2026, 1, 1, 8, tzinfo=UTC)
    >>> kw = dict(sign_due_at=due, feedback_due_at=due + timedelta(days=1), review_due_at=None)
    >>> overdue_step("issued", now=due, **kw) is None
    True
    >>> overdue_step("issued", now=due + timedelta(seconds=1), **kw).value
    'sign'
    >>> overdue_step("signed", now=due + timedelta(hours=2), **kw) is None
    True
    """
    _check_aware(now)
    step = _WAITING_FOR.get(InstructionStatus(state))
    due = {Step.SIGN: sign_due_at, Step.FEEDBACK: feedback_due_at, Step.REVIEW: review_due_at}
    if step is None or due[step] is None:
        return None
    return step if now > due[step] else None


def _check_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise HaizhouError(
            f"now={now!r} must be a timezone-aware datetime (e.g. datetime.now(UTC)); "
            "the lifecycle never reads the clock itself"
        )
