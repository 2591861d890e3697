"""Routing from the store: the most specific unit leads, never the bureau whose area holds it."""

from __future__ import annotations

from sqlalchemy.orm import Session
from tests.tasks._helpers import BUREAU, T0, A, B, box, centre, make_finding, store_finding

from haizhou.store.tables import JurisdictionRow
from haizhou.tasks import service


def _bureau_covers_all(store: Session) -> None:
    bureau = store.get(JurisdictionRow, BUREAU)
    assert bureau is not None
    bureau.geometry = box(100.0, 20.0, 140.0, 50.0)  # listed first, holds every station
    store.commit()


def test_a_point_goes_to_the_station_not_the_bureau(store: Session) -> None:
    _bureau_covers_all(store)
    finding_id = store_finding(store, make_finding(geometry=centre(A)))
    result = service.issue_from_finding(session=store, finding_id=finding_id, now=T0)
    assert result.instruction is not None
    assert result.instruction.jurisdiction_code == A
    record = service.create_manual(
        session=store, title="by hand", level="red", now=T0, actor="t", actor_role="analyst",
        geometry=centre(B),
    )  # fmt: skip
    assert (record.jurisdiction_code, record.assisting_codes) == (B, ())


def test_an_area_across_two_stations_is_not_assisted_by_their_bureau(store: Session) -> None:
    _bureau_covers_all(store)
    a, b = centre(A)["coordinates"], centre(B)["coordinates"]
    across = box(a[0], a[1] - 0.001, b[0], b[1] + 0.001)
    record = service.create_manual(
        session=store, title="area", level="red", now=T0, actor="t", actor_role="analyst",
        geometry=across,
    )  # fmt: skip
    assert record.jurisdiction_code in {A, B}
    assert BUREAU not in record.assisting_codes
    assert set(record.assisting_codes) <= {A, B} - {record.jurisdiction_code}


def test_nested_router_shares_what_each_unit_holds_outside_its_sub_units() -> None:
    from haizhou.domain import Jurisdiction
    from haizhou.tasks.routing import Router

    units = [
        Jurisdiction(code="bureau", name="b", station="b", geometry=box(0, 0, 4, 1)),
        Jurisdiction(code="s1", name="s", station="s", parent_code="bureau", geometry=box(0, 0, 1, 1)),
        Jurisdiction(code="s1a", name="s", station="s", parent_code="s1", geometry=box(0, 0, 0.5, 1)),
    ]  # fmt: skip
    nested = Router.from_jurisdictions(units, nested=True)
    flat = Router.from_jurisdictions(units)
    inside = {"type": "Point", "coordinates": [0.25, 0.5]}
    assert (flat.route(inside).lead, nested.route(inside).lead) == ("bureau", "s1a")
    assert nested.route({"type": "Point", "coordinates": [0.75, 0.5]}).lead == "s1"
    # 0.1..0.9: s1a holds 0.4 of it, s1 0.4 outside s1a, the bureau nothing outside s1.
    area = nested.route(box(0.1, 0, 0.9, 1))
    assert area.lead in {"s1a", "s1"} and "bureau" not in area.assisting
    # 0.2..3.2: mostly outside the stations, so the bureau leads and s1 (0.8) assists.
    wide = nested.route(box(0.2, 0, 3.2, 1))
    assert (wide.lead, wide.assisting) == ("bureau", ("s1", "s1a"))
