"""Roles (角色) and jurisdiction scopes (辖区范围) of users.

A role says what a user may do; a :class:`Scope` says where. Bureau-level users (局级) see every
jurisdiction; a station officer (派出所民警) sees their station's jurisdiction and every
jurisdiction below it in the unit tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Role", "Scope", "descendants"]


class Role(StrEnum):
    """Role of a user (用户角色)."""

    ADMIN = "admin"  # 管理员
    ANALYST = "analyst"  # 研判分析员
    COMMANDER = "commander"  # 指挥员
    STATION_OFFICER = "station_officer"  # 派出所民警
    AIRSPACE_OPERATOR = "airspace_operator"  # 空域安保操作员
    AUDITOR = "auditor"  # 审计员

    @property
    def title_zh(self) -> str:
        """Chinese title, e.g. ``研判分析员``."""
        return _TITLES[self][0]

    @property
    def title_en(self) -> str:
        """English title, e.g. ``Analyst``."""
        return _TITLES[self][1]

    @property
    def requires_jurisdiction(self) -> bool:
        """Whether a user of this role must be tied to a jurisdiction (station officers)."""
        return self is Role.STATION_OFFICER


_TITLES = {
    Role.ADMIN: ("管理员", "Administrator"),
    Role.ANALYST: ("研判分析员", "Analyst"),
    Role.COMMANDER: ("指挥员", "Commander"),
    Role.STATION_OFFICER: ("派出所民警", "Station officer"),
    Role.AIRSPACE_OPERATOR: ("空域安保操作员", "Airspace-security operator"),
    Role.AUDITOR: ("审计员", "Auditor"),
}


def descendants(codes: Iterable[str], parent_of: Mapping[str, str | None]) -> frozenset[str]:
    """The given jurisdiction codes and every code below them in the unit tree.

    Parameters
    ----------
    codes : iterable of str
        Root codes.
    parent_of : mapping of str to str or None
        Each jurisdiction's parent code (``JurisdictionRow.parent_code``); ``None`` at the top.

    Returns
    -------
    frozenset of str
        ``codes`` plus all their descendants. A cycle in ``parent_of`` does not loop.

    Examples
    --------
    >>> tree = {"bureau": None, "s1": "bureau", "s1a": "s1", "s2": "bureau"}
    >>> sorted(descendants(["s1"], tree))
    ['s1', 's1a']
    """
    children: dict[str, list[str]] = {}
    for child, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[str] = set()
    stack = list(codes)
    while stack:
        code = stack.pop()
        if code in found:
            continue
        found.add(code)
        stack.extend(children.get(code, ()))
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a user may see and act (数据权限范围).

    Attributes
    ----------
    codes : frozenset of str or None
        The jurisdiction codes allowed, descendants included; ``None`` means every jurisdiction
        (bureau level, 全局).

    Examples
    --------
    >>> tree = {"bureau": None, "s1": "bureau", "s1a": "s1", "s2": "bureau"}
    >>> scope = Scope.of(["s1"], tree)
    >>> scope.allows("s1a"), scope.allows("s2"), scope.allows(None)
    (True, False, False)
    >>> Scope.everything().allows("s2")
    True
    """

    codes: frozenset[str] | None

    @classmethod
    def everything(cls) -> Scope:
        """Bureau-level scope: every jurisdiction, and records with none."""
        return cls(None)

    @classmethod
    def of(cls, codes: Iterable[str], parent_of: Mapping[str, str | None]) -> Scope:
        """Scope over ``codes`` and all their descendants in the unit tree ``parent_of``."""
        return cls(descendants(codes, parent_of))

    @classmethod
    def for_user(cls, jurisdiction_code: str | None, parent_of: Mapping[str, str | None]) -> Scope:
        """A user's scope: everything without a jurisdiction, else that subtree."""
        if jurisdiction_code is None:
            return cls.everything()
        return cls.of([jurisdiction_code], parent_of)

    @property
    def is_everything(self) -> bool:
        return self.codes is None

    def allows(self, code: str | None) -> bool:
        """Whether a record owned by jurisdiction ``code`` is in scope.

        A record with no owning jurisdiction is visible at bureau level only.
        """
        if self.codes is None:
            return True
        return code is not None and code in self.codes
