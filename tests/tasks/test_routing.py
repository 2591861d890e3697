"""Routing by geometry: point to owner, polygon to the largest overlap, the others assisting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.tasks._helpers import X0, A, B, C, box, point, station_box

from haizhou.domain import Jurisdiction
from haizhou.errors import InputError
from haizhou.tasks.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_jurisdictions(
        [Jurisdiction(code=c, name=c, station=c, geometry=station_box(c)) for c in (A, B, C)]
    )


def test_point_goes_to_its_owner(router: Router) -> None:
    r = router.route(point(X0[B] + 0.005, 34.60))
    assert (r.lead, r.assisting, r.shares) == (B, (), {B: 1.0})


def test_point_outside_has_no_lead(router: Router) -> None:
    r = router.route(point(120.0, 34.60))
    assert r.lead is None and r.assisting == ()


def test_polygon_across_three_lead_is_largest_overlap(router: Router) -> None:
    # 0.005 deg in A, 0.02 in B, 0.0075 in C (same height): B leads, then C, then A.
    r = router.route(box(X0[B] - 0.005, 34.595, X0[C] + 0.0075, 34.605))
    assert r.lead == B
    assert r.assisting == (C, A)
    assert r.shares[B] == pytest.approx(0.02 / 0.0325, rel=1e-6)
    assert r.shares[A] == pytest.approx(0.005 / 0.0325, rel=1e-6)


def test_tie_goes_to_the_first_listed(router: Router) -> None:
    r = router.route(box(X0[B] - 0.004, 34.595, X0[B] + 0.004, 34.605))
    assert r.lead == A and r.assisting == (B,)
    assert r.shares[A] == pytest.approx(0.5)


def test_sliver_below_min_share_does_not_assist(router: Router) -> None:
    r = router.route(box(X0[B] - 0.0001, 34.595, X0[B] + 0.0199, 34.605))
    assert r.lead == B and r.assisting == ()
    assert r.shares[A] == pytest.approx(0.005, rel=1e-3)


def test_line_is_shared_by_length(router: Router) -> None:
    line = {"type": "LineString", "coordinates": [[X0[A] + 0.015, 34.6], [X0[B] + 0.02, 34.6]]}
    r = router.route(line)
    assert r.lead == B and r.assisting == (A,)
    assert r.shares[B] == pytest.approx(0.8)


def test_bad_geometry_and_no_polygons_are_clear_errors(router: Router) -> None:
    with pytest.raises(InputError, match="GeoJSON geometry"):
        router.route("POINT (1 2)")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="import the jurisdictions"):
        Router.from_jurisdictions([Jurisdiction(code="x", name="x", station="x")])


@given(
    x0=st.floats(119.185, 119.25),
    width=st.floats(0.0005, 0.06),
    y0=st.floats(34.585, 34.605),
    height=st.floats(0.0005, 0.03),
)
@settings(max_examples=150, deadline=None)
def test_lead_holds_the_largest_share_and_shares_add_up(
    router: Router, x0: float, width: float, y0: float, height: float
) -> None:
    r = router.route(box(x0, y0, x0 + width, y0 + height))
    shares = r.shares or {}
    assert sum(shares.values()) <= 1 + 1e-9
    if r.lead is None:
        assert shares == {}
        return
    assert shares[r.lead] == max(shares.values())
    assert r.lead not in r.assisting
    assert all(shares[c] >= router.min_share for c in r.assisting)
    assert list(r.assisting) == sorted(r.assisting, key=lambda c: -shares[c])
