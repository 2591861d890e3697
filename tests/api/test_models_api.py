"""The model-library API (模型库): list, show, run with the run recorded."""

from __future__ import annotations

from typing import Any

RUN = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-08T00:00:00Z"}


def test_list_show_and_run(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    models = analyst.get("/api/models").json()
    ids = [m["id"] for m in models]
    assert "incidents.daily_volume" in ids and ids == sorted(ids)
    volume = next(m for m in models if m["id"] == "incidents.daily_volume")
    assert volume["title_zh"] and volume["last_run"] is None

    run = analyst.post("/api/models/incidents.daily_volume/run", json=RUN)
    assert run.status_code == 200, run.text
    record = run.json()
    assert record["status"] == "ok" and record["model_id"] == "incidents.daily_volume"
    assert record["window_start"].startswith("2026-01-01")
    # The run's findings went through the instruction policy at once.
    handled = sum(record["instructions"].values()) + len(record["unrouted_findings"])
    assert handled == record["n_findings"] == len(record["finding_ids"])

    detail = analyst.get("/api/models/incidents.daily_volume").json()
    assert detail["card"]["purpose"] and detail["params_schema"]["type"] == "object"
    assert [r["run_id"] for r in detail["runs"]] == [record["run_id"]]
    listed = next(
        m for m in analyst.get("/api/models").json() if m["id"] == "incidents.daily_volume"
    )
    assert listed["last_run"]["n_findings"] == record["n_findings"]


def test_bad_runs_and_roles(sqlite_world: Any) -> None:
    analyst = sqlite_world.login("analyst1")
    assert analyst.get("/api/models/no.such").status_code == 404
    assert analyst.post("/api/models/no.such/run", json={}).status_code == 404
    bad = analyst.post("/api/models/incidents.daily_volume/run", json={"params": {"nope": 1}})
    assert bad.status_code == 422 and "nope" in bad.json()["detail"]
    half = analyst.post("/api/models/incidents.daily_volume/run", json={"start": RUN["start"]})
    assert half.status_code == 422
    empty = analyst.post(
        "/api/models/incidents.daily_volume/run", json={"start": RUN["end"], "end": RUN["start"]}
    )
    assert empty.status_code == 422
    for user in ("officer_a", "commander1"):
        client = sqlite_world.login(user)
        assert client.get("/api/models").status_code == 200
        assert client.post("/api/models/incidents.daily_volume/run", json=RUN).status_code == 403
    assert sqlite_world.login("auditor1").get("/api/models").status_code == 403
