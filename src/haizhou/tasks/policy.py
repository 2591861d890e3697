"""Instruction policy (指令下发策略): which findings become instructions, and their deadlines.

A finding's kind and level decide whether it is issued automatically (``auto``), waits for an
analyst's approval (``approval``), or is not turned into an instruction (``ignore``). The level
decides the deadlines: how long the station has to sign (签收时限), to feed back (反馈时限), and
how long the analyst has to review the feedback (审核时限).

Defaults (hours):

======  ====  ========  ========  ======
level   rule  sign      feedback  review
======  ====  ========  ========  ======
red     auto  0.5       24        24
orange  auto  2         48        24
yellow  appr  24        72        48
blue    appr  72        168       72
======  ====  ========  ========  ======

A finding whose evidence names people (``evidence["person_pseudonyms"]`` non-empty) always
waits for approval, whatever the table says: a human decides before an instruction touches a
person (DESIGN.md, privacy).

Load a bureau's own policy from a mapping (TOML/YAML read by the caller)::

    InstructionPolicy.model_validate({"rules": {"*": {"yellow": "auto"}},
                                      "sign_within_h": {"red": 0.25}})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from haizhou.domain import Finding, Level
from haizhou.errors import HaizhouError

__all__ = ["Deadlines", "Decision", "InstructionPolicy", "policy_from_mapping"]


class Decision(StrEnum):
    """What the policy does with a finding (处置方式)."""

    AUTO = "auto"  # 自动下发
    APPROVAL = "approval"  # 待研判审批
    IGNORE = "ignore"  # 不下发


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadlines:
    """Deadlines of one instruction, timezone-aware UTC (``review_due_at`` from feedback)."""

    sign_due_at: datetime
    feedback_due_at: datetime


def _per_level(values: dict[str, float]) -> dict[Level, float]:
    return {Level(k): v for k, v in values.items()}


_DEFAULT_RULES = {
    "*": {
        Level.RED: Decision.AUTO,
        Level.ORANGE: Decision.AUTO,
        Level.YELLOW: Decision.APPROVAL,
        Level.BLUE: Decision.APPROVAL,
    },
    # a randomised hold-out of fraud.dissuasion is recorded, never issued (docs/fraud.md)
    "fraud_dissuasion_holdout": dict.fromkeys(Level, Decision.IGNORE),
}


class InstructionPolicy(BaseModel):
    """Which findings become instructions and how fast they must move (指令策略).

    Parameters
    ----------
    rules
        ``{finding kind or "*": {level: decision}}``. A kind's own entry wins over ``"*"``; a
        level missing from both gets ``approval``.
    sign_within_h, feedback_within_h, review_within_h
        Hours per level from issue to signing, from issue to feedback, and from feedback to
        review. Every level must be present and every value > 0.
    person_evidence_key
        Evidence key whose non-empty value means the finding names people; such findings
        always wait for approval.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[str, dict[Level, Decision]] = Field(default_factory=lambda: dict(_DEFAULT_RULES))
    sign_within_h: dict[Level, float] = Field(
        default_factory=lambda: _per_level({"red": 0.5, "orange": 2, "yellow": 24, "blue": 72})
    )
    feedback_within_h: dict[Level, float] = Field(
        default_factory=lambda: _per_level({"red": 24, "orange": 48, "yellow": 72, "blue": 168})
    )
    review_within_h: dict[Level, float] = Field(
        default_factory=lambda: _per_level({"red": 24, "orange": 24, "yellow": 48, "blue": 72})
    )
    person_evidence_key: str = "person_pseudonyms"

    @field_validator("sign_within_h", "feedback_within_h", "review_within_h")
    @classmethod
    def _every_level_positive(cls, value: dict[Level, float]) -> dict[Level, float]:
        missing = [lv.value for lv in Level if lv not in value]
        if missing:
            raise ValueError(
                f"give hours for every level; missing {', '.join(missing)} "
                "(levels: red, orange, yellow, blue)"
            )
        bad = {lv.value: h for lv, h in value.items() if not h > 0}
        if bad:
            raise ValueError(f"hours must be > 0; got {bad}")
        return value

    def decide(
        self, *, kind: str, level: Level | str, evidence: dict[str, Any] | None = None
    ) -> Decision:
        """The decision for a finding of ``kind`` and ``level``.

        Examples
        --------
        >>> policy = InstructionPolicy()
        >>> policy.decide(kind="hotspot", level="red").value
        'auto'
        >>> policy.decide(kind="hotspot", level="yellow").value
        'approval'
        >>> policy.decide(kind="hotspot", level="red",
        ...               evidence={"person_pseudonyms": ["ab12"]}).value
        'approval'
        """
        level = Level(level)
        own = self.rules.get(kind, {})
        fallback = self.rules.get("*", {})
        decision = own.get(level, fallback.get(level, Decision.APPROVAL))
        if decision is Decision.AUTO and evidence and evidence.get(self.person_evidence_key):
            return Decision.APPROVAL
        return decision

    def decide_finding(self, finding: Finding) -> Decision:
        """:meth:`decide` for a :class:`~haizhou.domain.Finding`."""
        return self.decide(kind=finding.kind, level=finding.level, evidence=finding.evidence)

    def deadlines(self, *, level: Level | str, issued_at: datetime) -> Deadlines:
        """Signing and feedback deadlines for an instruction issued at ``issued_at``.

        Examples
        --------
        >>> from datetime import UTC, datetime
        >>> d = InstructionPolicy().deadlines(level="orange",
        ...                                   issued_at=datetime(2026, 1, 1, tzinfo=UTC))
        >>> d.sign_due_at.isoformat(), d.feedback_due_at.isoformat()
        ('2026-01-01T02:00:00+00:00', '2026-01-03T00:00:00+00:00')
        """
        level = Level(level)
        return Deadlines(
            sign_due_at=issued_at + timedelta(hours=self.sign_within_h[level]),
            feedback_due_at=issued_at + timedelta(hours=self.feedback_within_h[level]),
        )

    def feedback_due_after_return(self, *, level: Level | str, returned_at: datetime) -> datetime:
        """New feedback deadline after a return for more work: the level's feedback time again."""
        return returned_at + timedelta(hours=self.feedback_within_h[Level(level)])

    def review_due(self, *, level: Level | str, fed_back_at: datetime) -> datetime:
        """When the analyst's review of a feedback is due."""
        return fed_back_at + timedelta(hours=self.review_within_h[Level(level)])


def policy_from_mapping(values: Mapping[str, Any] | None) -> InstructionPolicy:
    """The policy configured in ``values`` (the ``instruction_policy`` setting), else defaults.

    Merged over the defaults: a level left out of a table keeps its default hours, and the
    ``"*"`` rules keep the default decision of every level not named.

    Raises
    ------
    HaizhouError
        Naming each invalid entry (``instruction_policy.<field>: <problem>``).

    Examples
    --------
    >>> policy_from_mapping({}).decide(kind="hotspot", level="yellow").value
    'approval'
    >>> custom = policy_from_mapping({"rules": {"*": {"yellow": "auto"}}})
    >>> custom.decide(kind="hotspot", level="yellow").value, custom.decide(
    ...     kind="hotspot", level="red").value
    ('auto', 'auto')
    """
    merged: dict[str, Any] = dict(values or {})
    defaults = InstructionPolicy()
    try:
        for name in ("sign_within_h", "feedback_within_h", "review_within_h"):
            if isinstance(merged.get(name), Mapping):
                base = {lv.value: h for lv, h in getattr(defaults, name).items()}
                merged[name] = {**base, **merged[name]}
        if isinstance(merged.get("rules"), Mapping):
            star = {lv.value: d.value for lv, d in defaults.rules["*"].items()}
            rules = {k: v for k, v in defaults.rules.items() if k != "*"} | dict(merged["rules"])
            if isinstance(rules.get("*", {}), Mapping):
                rules["*"] = {**star, **rules.get("*", {})}
            merged["rules"] = rules
        return InstructionPolicy.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"instruction_policy.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise HaizhouError(
            f"invalid instruction policy in the settings: {problems} "
            "(see docs/instructions.md for the fields)"
        ) from None
