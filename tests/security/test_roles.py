"""Roles (角色) and jurisdiction scopes (辖区范围)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.security.roles import Role, Scope, descendants

TREE = {
    "320700": None,  # 市局
    "320703": "320700",  # 分局
    "320703001": "320703",  # 派出所
    "320703002": "320703",
    "320706": "320700",
    "320706001": "320706",
}


def test_roles_and_titles() -> None:
    assert [r.value for r in Role] == [
        "admin",
        "analyst",
        "commander",
        "station_officer",
        "airspace_operator",
        "auditor",
    ]
    assert [r.title_zh for r in Role] == [
        "管理员",
        "研判分析员",
        "指挥员",
        "派出所民警",
        "空域安保操作员",
        "审计员",
    ]
    assert Role("auditor").title_en == "Auditor"
    assert Role.STATION_OFFICER.requires_jurisdiction
    assert not Role.ANALYST.requires_jurisdiction


def test_scope_of_a_branch_includes_descendants_only() -> None:
    scope = Scope.of(["320703"], TREE)
    assert scope.codes == frozenset({"320703", "320703001", "320703002"})
    assert scope.allows("320703001")
    assert not scope.allows("320706001")
    assert not scope.allows("320700")  # not upwards
    assert not scope.allows(None)


def test_bureau_scope_allows_everything() -> None:
    scope = Scope.for_user(None, TREE)
    assert scope.is_everything
    assert all(scope.allows(code) for code in [*TREE, None, "unknown"])


def test_station_user_scope_and_unknown_code() -> None:
    assert Scope.for_user("320703002", TREE).codes == frozenset({"320703002"})
    assert Scope.for_user("999", TREE).codes == frozenset({"999"})


def test_cycles_do_not_loop() -> None:
    assert descendants(["a"], {"a": "b", "b": "a"}) == frozenset({"a", "b"})


@settings(deadline=None)
@given(
    parents=st.dictionaries(
        st.sampled_from("abcdefgh"), st.one_of(st.none(), st.sampled_from("abcdefgh")), max_size=8
    ),
    root=st.sampled_from("abcdefgh"),
)
def test_descendants_matches_walking_up(parents: dict[str, str | None], root: str) -> None:
    """A code is in the subtree iff walking up its parents reaches the root (slow reference)."""

    def reaches(code: str) -> bool:
        seen = set()
        while code is not None and code not in seen:
            if code == root:
                return True
            seen.add(code)
            code = parents.get(code)
        return False

    expected = {root} | {code for code in parents if reaches(code)}
    assert descendants([root], parents) == expected
