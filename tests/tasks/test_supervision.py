"""Case supervision (三级盯案): open, milestones, notes, overdue lists, statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.tasks._helpers import T0, A, B

from haizhou.errors import HaizhouError
from haizhou.store.tables import CaseRow
from haizhou.tasks import supervision as sup
from haizhou.tasks.supervision import MilestoneIn, Tier

BOSS = {"actor": "chief", "actor_role": "commander"}
DAY = timedelta(days=1)


def open_case(session: Session, **overrides) -> sup.SupervisedCase:
    kwargs = {
        "title": "Series burglary, east district",
        "level": "red",
        "lead": "Deputy Chief Wang",
        "specialist_unit": "Criminal Investigation",
        "station_code": A,
        "deadline": T0 + 30 * DAY,
        "now": T0,
        "milestones": [
            MilestoneIn(title="Collect CCTV", due_at=T0 + 3 * DAY, tier=Tier.STATION),
            MilestoneIn(title="Link the series", due_at=T0 + 10 * DAY, tier=Tier.SPECIALIST),
        ],
        **BOSS,
    }
    kwargs.update(overrides)
    result = sup.supervise_case(session=session, **kwargs)
    session.commit()
    return result


def test_open_with_milestones_notes_and_close(store: Session) -> None:
    case = open_case(store)
    assert case.status == "open" and case.level.value == "red"
    assert [m.title for m in case.milestones] == ["Collect CCTV", "Link the series"]
    done = sup.complete_milestone(
        session=store, milestone_id=case.milestones[0].id, now=T0 + 2 * DAY, actor="li"
    )
    assert done.done_at == T0 + 2 * DAY and not done.is_late(T0 + 5 * DAY)
    with pytest.raises(HaizhouError, match="already completed"):
        sup.complete_milestone(session=store, milestone_id=done.id, now=T0 + 3 * DAY, actor="li")
    sup.add_note(
        session=store,
        supervised_case_id=case.id,
        author="li",
        tier="station",
        text="CCTV from 3 shops collected",
        now=T0 + 2 * DAY,
    )
    sup.add_note(
        session=store,
        supervised_case_id=case.id,
        author="wang",
        tier=Tier.LEAD,
        text="Weekly meeting held",
        now=T0 + 4 * DAY,
    )
    closed = sup.close_supervision(
        session=store, supervised_case_id=case.id, now=T0 + 20 * DAY, note="已破案", **BOSS
    )
    assert closed.status == "closed" and closed.closing_note == "已破案"
    assert [(n.tier, n.author) for n in closed.notes] == [(Tier.STATION, "li"), (Tier.LEAD, "wang")]
    assert not closed.is_late(T0 + 99 * DAY)


def test_refusals_say_what_to_do(store: Session) -> None:
    with pytest.raises(HaizhouError, match="may not put cases under supervision"):
        open_case(store, actor="li", actor_role="station_officer")
    with pytest.raises(HaizhouError, match="not after now"):
        open_case(store, deadline=T0)
    with pytest.raises(HaizhouError, match="needs a lead"):
        open_case(store, lead=" ")
    with pytest.raises(HaizhouError, match="does not exist"):
        open_case(store, case_source="test", case_source_id="c-missing")


def test_a_recorded_case_is_supervised_once(store: Session) -> None:
    store.add(
        CaseRow(
            source="test",
            source_id="c1",
            category="burglary",
            occurred_from=T0,
            occurred_to=T0 + timedelta(hours=1),
            lon=119.2,
            lat=34.6,
            h3_r7=1,
            h3_r8=1,
            h3_r9=1,
            jurisdiction_code=A,
            content_hash="h",
        )
    )
    store.commit()
    first = open_case(store, case_source="test", case_source_id="c1")
    assert (first.case_source, first.case_source_id) == ("test", "c1")
    with pytest.raises(HaizhouError, match="already under supervision"):
        open_case(store, case_source="test", case_source_id="c1")


def test_overdue_lists_and_statistics(store: Session) -> None:
    c1 = open_case(store)  # red, A, deadline T0 + 30 d, milestones due +3 d (station), +10 d
    c2 = open_case(
        store,
        level="orange",
        station_code=B,
        lead="Deputy Chief Zhou",
        deadline=T0 + 5 * DAY,
        milestones=[MilestoneIn(title="Interview", due_at=T0 + 1 * DAY)],
    )
    c3 = open_case(store, level="red", station_code=B, deadline=T0 + 2 * DAY, milestones=[])
    sup.close_supervision(
        session=store, supervised_case_id=c3.id, now=T0 + 4 * DAY, note="solved late", **BOSS
    )
    now = T0 + 6 * DAY
    report = sup.overdue(session=store, now=now)
    assert [c.id for c in report.cases] == [c2.id]  # c3 is closed, c1 not yet due
    assert [m.title for m in report.milestones] == ["Interview", "Collect CCTV"]
    assert sup.overdue(session=store, now=now, scope=[A]).cases == ()
    # Exactly at the deadline is not late.
    assert sup.overdue(session=store, now=T0 + 5 * DAY).cases == ()

    stats = sup.supervision_stats(session=store, now=now)
    by_level = stats.by_level.set_index("level")
    assert by_level.loc["red"].to_dict() == {
        "total": 2,
        "open": 1,
        "closed": 1,
        "late_open": 0,
        "closed_late": 1,
        "late_milestones": 1,
    }
    assert by_level.loc["orange"].to_dict() == {
        "total": 1,
        "open": 1,
        "closed": 0,
        "late_open": 1,
        "closed_late": 0,
        "late_milestones": 1,
    }
    assert by_level.loc["blue", "total"] == 0
    by_unit = stats.by_unit.set_index(["tier", "unit"])
    assert by_unit.loc[("station", B), "total"] == 2
    assert by_unit.loc[("station", B), "late_open"] == 1
    assert by_unit.loc[("lead", "Deputy Chief Wang"), "total"] == 2
    assert by_unit.loc[("specialist", "Criminal Investigation"), "late_milestones"] == 2
    assert list(stats.by_unit["tier"]) == sorted(
        stats.by_unit["tier"], key=["lead", "specialist", "station"].index
    )
    assert c1.id != c2.id
