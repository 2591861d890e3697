"""The instruction state machine: the table, refusals, a stateful property test, escalation."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from haizhou.domain import InstructionStatus as S
from haizhou.errors import HaizhouError
from haizhou.tasks.lifecycle import (
    ACTION_ROLES,
    TRANSITIONS,
    Action,
    ActionNotPermitted,
    IllegalTransition,
    Lifecycle,
    Step,
    allowed_actions,
    overdue_step,
    replay,
    transition,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)
ROLES = ["station_officer", "analyst", "commander", "admin", "auditor", "airspace_operator", None]

# The specification written out independently of the module: the legal moves of issue 5.
SPEC = {
    ("issued", "sign"): "signed",
    ("signed", "start"): "in_progress",
    ("signed", "feed_back"): "fed_back",
    ("in_progress", "feed_back"): "fed_back",
    ("fed_back", "accept"): "closed",
    ("fed_back", "return"): "returned",
    ("returned", "start"): "in_progress",
    ("returned", "feed_back"): "fed_back",
}
FIELD = {"station_officer", "commander", "admin"}
REVIEW = {"analyst", "commander", "admin"}


def role_for(action: Action) -> str:
    return (
        "station_officer" if action in {Action.SIGN, Action.START, Action.FEED_BACK} else "analyst"
    )


def test_table_is_exactly_the_specification() -> None:
    assert {(s.value, a.value): n.value for (s, a), n in TRANSITIONS.items()} == SPEC
    assert {a: set(r) for a, r in ACTION_ROLES.items()} == {
        Action.SIGN: FIELD,
        Action.START: FIELD,
        Action.FEED_BACK: FIELD,
        Action.ACCEPT: REVIEW,
        Action.RETURN: REVIEW,
    }


@pytest.mark.parametrize(("state", "action"), list(itertools.product(S, Action)))
def test_every_pair_is_allowed_or_refused_with_the_allowed_actions(
    state: S, action: Action
) -> None:
    expected = SPEC.get((state.value, action.value))
    if expected is not None:
        assert transition(state, action, actor_role=role_for(action), now=NOW) == S(expected)
        return
    with pytest.raises(IllegalTransition) as info:
        transition(state, action, actor_role=role_for(action), now=NOW)
    error = info.value
    assert error.state is state and error.action is action
    allowed = sorted(a for (s, a) in SPEC if s == state.value)
    assert sorted(a.value for a in error.allowed) == allowed
    message = str(error)
    assert state.value in message and action.value in message
    for name in allowed:
        assert name in message
    if not allowed:
        assert "final" in message


def test_unknown_action_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition, match="cannot fly an instruction that is issued"):
        transition("issued", "fly", actor_role="admin", now=NOW)


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        ("issued", "sign", "analyst"),
        ("issued", "sign", "auditor"),
        ("fed_back", "accept", "station_officer"),
        ("fed_back", "return", None),
    ],
)
def test_roles_are_enforced(state: str, action: str, role: str | None) -> None:
    with pytest.raises(ActionNotPermitted, match="may not"):
        transition(state, action, actor_role=role, now=NOW)


def test_naive_clock_is_refused() -> None:
    with pytest.raises(HaizhouError, match="timezone-aware"):
        transition("issued", "sign", actor_role="admin", now=datetime(2026, 1, 1))


def test_allowed_actions_of_closed_is_empty() -> None:
    assert allowed_actions("closed") == ()
    assert allowed_actions("returned") == (Action.START, Action.FEED_BACK)


def test_replay_detects_a_missing_entry() -> None:
    life = Lifecycle()
    for i, action in enumerate(["sign", "start", "feed_back", "return", "feed_back", "accept"]):
        life = life.apply(
            action, actor="u", actor_role=role_for(Action(action)), now=NOW + timedelta(hours=i)
        )
    assert life.status is S.CLOSED
    assert replay(life.history) is S.CLOSED
    gap = life.history[:2] + life.history[3:]
    with pytest.raises(IllegalTransition):
        replay(gap)


def test_time_cannot_go_backwards() -> None:
    life = Lifecycle().apply("sign", actor="u", actor_role="admin", now=NOW)
    with pytest.raises(HaizhouError, match="move forward"):
        life.apply("start", actor="u", actor_role="admin", now=NOW - timedelta(seconds=1))


class LifecycleMachine(RuleBasedStateMachine):
    """Random actions by random roles: nothing illegal gets through, the history is complete."""

    def __init__(self) -> None:
        super().__init__()
        self.life = Lifecycle()
        self.now = NOW
        self.expected_state = "issued"
        self.successes: list[tuple[str, str, str]] = []

    @rule(
        action=st.sampled_from([*Action, "escalate", "close"]),
        role=st.sampled_from(ROLES),
        step=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    )
    def act(self, action: str, role: str | None, step: timedelta) -> None:
        self.now += step
        target = SPEC.get((self.expected_state, str(action)))
        legal = target is not None and role in (
            FIELD if str(action) in {"sign", "start", "feed_back"} else REVIEW
        )
        before = self.life
        try:
            self.life = self.life.apply(action, actor=f"user-{role}", actor_role=role, now=self.now)
        except (IllegalTransition, ActionNotPermitted):
            assert not legal, f"{action} by {role} from {self.expected_state} was refused"
            assert self.life is before
            return
        assert legal, f"{action} by {role} from {self.expected_state} was let through"
        self.successes.append((self.expected_state, str(action), target))
        self.expected_state = target

    @invariant()
    def state_matches_the_specification(self) -> None:
        assert self.life.status.value == self.expected_state

    @invariant()
    def history_is_complete_and_replays(self) -> None:
        history = self.life.history
        assert [(e.from_status.value, e.action.value, e.to_status.value) for e in history] == (
            self.successes
        )
        assert replay(history) is self.life.status
        assert all(a.at <= b.at for a, b in itertools.pairwise(history))
        assert all(e.actor and e.actor_role in FIELD | REVIEW for e in history)

    @invariant()
    def closed_is_terminal(self) -> None:
        seen_closed = [e for e in self.life.history if e.to_status is S.CLOSED]
        if seen_closed:
            assert self.life.history[-1].to_status is S.CLOSED
            assert len(seen_closed) == 1


TestLifecycleMachine = LifecycleMachine.TestCase
TestLifecycleMachine.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)


# --- escalation timing ------------------------------------------------------------------------


@given(
    state=st.sampled_from(list(S)),
    offset_s=st.integers(min_value=-10 * 86400, max_value=10 * 86400),
)
@settings(max_examples=300, deadline=None)
def test_overdue_fires_exactly_after_the_waited_for_deadline(state: S, offset_s: int) -> None:
    sign_due = NOW
    feedback_due = NOW + timedelta(hours=24)
    review_due = NOW + timedelta(hours=48)
    waiting = {
        S.ISSUED: (Step.SIGN, sign_due),
        S.SIGNED: (Step.FEEDBACK, feedback_due),
        S.IN_PROGRESS: (Step.FEEDBACK, feedback_due),
        S.RETURNED: (Step.FEEDBACK, feedback_due),
        S.FED_BACK: (Step.REVIEW, review_due),
    }
    base = NOW if state is S.CLOSED else waiting[state][1]
    now = base + timedelta(seconds=offset_s)
    got = overdue_step(
        state,
        now=now,
        sign_due_at=sign_due,
        feedback_due_at=feedback_due,
        review_due_at=review_due,
    )
    if state is S.CLOSED:
        assert got is None
    elif offset_s > 0:
        assert got is waiting[state][0]
    else:
        assert got is None  # on time up to and including the deadline


def test_overdue_at_the_second() -> None:
    kwargs = {"sign_due_at": NOW, "feedback_due_at": None, "review_due_at": None}
    assert overdue_step("issued", now=NOW, **kwargs) is None
    assert overdue_step("issued", now=NOW + timedelta(microseconds=1), **kwargs) is Step.SIGN
    # A step without a deadline never runs late.
    assert overdue_step("signed", now=NOW + timedelta(days=999), **kwargs) is None
