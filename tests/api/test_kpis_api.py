"""The KPI API (考核指标): values equal counts worked out by hand from the test bureau."""

from __future__ import annotations

from typing import Any

JANUARY = {"start": "2026-01-10T00:00:00Z", "period": "month"}
IN_A = {"lon": 119.18, "lat": 34.58}


def _by_category(rows: list[dict]) -> dict[str, int]:
    return {r["category"]: r["current"] for r in rows}


def test_incident_counts_by_category_and_scope(sqlite_world: Any) -> None:
    # conftest: 30 in A, 6 in A1, 20 in B, 4 without a unit; odd k theft, even k fight.
    admin = sqlite_world.login("admin1").get("/api/kpis", params=JANUARY).json()
    assert admin["period"] == "month"
    assert _by_category(admin["incidents_by_category"]) == {"fight": 30, "theft": 30, "all": 60}
    assert all(r["previous"] == 0 and r["last_year"] == 0 for r in admin["incidents_by_category"])
    assert admin["pop"] == {"incidents": None, "cases": None}  # nothing to compare with
    officer = sqlite_world.login("officer_a").get("/api/kpis", params=JANUARY).json()
    assert _by_category(officer["incidents_by_category"]) == {"fight": 18, "theft": 18, "all": 36}
    february = (
        sqlite_world.login("admin1")
        .get("/api/kpis", params={"start": "2026-02-10T00:00:00Z", "period": "month"})
        .json()
    )
    total = next(r for r in february["incidents_by_category"] if r["category"] == "all")
    assert (total["current"], total["previous"], total["pop"]) == (0, 60, -1.0)


def test_rankings_rank_the_stations_with_names(sqlite_world: Any) -> None:
    body = sqlite_world.login("admin1").get("/api/kpis", params=JANUARY).json()
    ranks = [
        (r["jurisdiction_code"], r["incidents"], r["incidents_rank"]) for r in body["rankings"]
    ]
    # The leaves of the unit tree: B (20) before A's sub-unit A1 (6); A and the bureau have units below.
    assert ranks == [("320706002", 20, 1), ("320706001-1", 6, 2)]
    assert body["rankings"][0]["name"] == "unit 320706002"


def test_period_inferred_from_the_span(sqlite_world: Any) -> None:
    client = sqlite_world.login("admin1")
    week = client.get(
        "/api/kpis",
        params={"start": "2026-01-05T00:00:00+08:00", "end": "2026-01-12T00:00:00+08:00"},
    )
    assert week.json()["period"] == "week"
    day = client.get(
        "/api/kpis", params={"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    )
    assert day.json()["period"] == "day"
    assert (
        client.get(
            "/api/kpis", params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
        ).status_code
        == 422
    )
    assert client.get("/api/kpis", params={"compare": "pop"}).json()["compare"] == "pop"
    far = client.get("/api/kpis", params={"start": "9999-06-01T00:00:00Z"})
    assert far.status_code == 422 and "start must fall in 1971–2099" in far.json()["detail"]


def test_instruction_rates_and_model_precision(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    officer = sqlite_world.login("officer_a")
    kept = analyst.post("/api/instructions", json={"title": "a", "level": "orange", **IN_A}).json()
    analyst.post("/api/instructions", json={"title": "b", "level": "orange", **IN_A})
    from_finding = analyst.post("/api/instructions", json={"finding_id": 1}).json()
    officer.post(f"/api/instructions/{kept['id']}/sign")
    # The finding's instruction is routed to A's sub-unit A1, where officer_a may act too.
    lead = from_finding["jurisdiction_code"]
    worker = officer if lead in {"320706001", "320706001-1"} else analyst
    worker.post(f"/api/instructions/{from_finding['id']}/sign")
    worker.post(
        f"/api/instructions/{from_finding['id']}/feedback",
        json={"verified": False, "text": "不属实"},
    )
    sqlite_world.clock.advance(hours=3)  # the unsigned one is now late (orange: 2 h)
    body = (
        sqlite_world.login("admin1")
        .get("/api/kpis", params={"start": "2026-03-01T12:00:00Z", "period": "month"})
        .json()
    )
    signing = body["instructions"]["on_time_sign_rate"]
    assert (signing["numerator"], signing["denominator"]) == (2, 3)
    feedback = body["instructions"]["on_time_feedback_rate"]
    assert feedback["numerator"] == 1  # the only one fed back, on time
    precision = {m["model_id"]: m for m in body["instructions"]["precision_by_model"]}
    assert precision["test_model"]["verified_false"] == 1
    assert precision["test_model"]["precision"] == 0.0


def test_roles(sqlite_world: Any) -> None:
    for user in ("auditor1", "airspace1"):
        assert sqlite_world.login(user).get("/api/kpis").status_code == 403
