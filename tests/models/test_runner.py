"""Runner: parameter validation, recorded ok and error runs, jurisdiction of each finding."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from haizhou.domain import Finding, Jurisdiction, Level, Schedule
from haizhou.models.runner import (
    ParamsError,
    assign_jurisdictions,
    list_runs,
    run_model,
    validate_params,
)
from haizhou.models.spec import ModelCard, ModelSpec, RegisteredModel
from haizhou.store.repositories.findings import list_findings
from haizhou.store.tables import FindingRow, ModelRunRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
START, END = datetime(2026, 3, 1, tzinfo=SHANGHAI), datetime(2026, 3, 2, tzinfo=SHANGHAI)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    radius_m: float = Field(default=200.0, gt=0)
    fail: bool = False
    n: int = 2


SPEC = ModelSpec(
    id="test.points",
    version="1.2.3",
    title_zh="测试模型",
    title_en="Test model",
    params_model=Params,
    schedule=Schedule.ON_DEMAND,
    card=ModelCard(purpose="p", data_read=(), evaluation="e", limits="l"),
    finding_kinds=("point",),
)


def point(lon: float, lat: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [lon, lat]}


def finding(geometry: dict[str, object], **evidence: object) -> Finding:
    return Finding(
        kind="point",
        title="t",
        level=Level.BLUE,
        geometry=geometry,
        window_start=START,
        window_end=END,
        explanation="e",
        suggested_action="a",
        model_id="someone.else",
        model_version="0",
        evidence=dict(evidence),
    )


def run(ctx: object, params: Params) -> Iterator[Finding]:
    yield finding(point(119.20, 34.60))  # inside A by geometry
    if params.fail:
        raise RuntimeError(f"boom at radius {params.radius_m}")
    yield finding(point(119.20, 34.60), jurisdiction_code=STATION_B)  # evidence wins
    yield finding(point(119.40, 34.70))  # outside every station


MODEL = RegisteredModel(spec=SPEC, run_function=run, source="builtin", origin="tests")


def test_params_validation_names_field_value_and_model() -> None:
    with pytest.raises(ParamsError) as info:
        validate_params(SPEC, {"radius_m": -5})
    assert str(info.value) == (
        "invalid parameters for model test.points: 'radius_m': Input should be greater than 0 "
        "(got -5). See `haizhou models show test.points` for the parameters."
    )
    with pytest.raises(
        ParamsError,
        match=r"'radius' is not a parameter of this model \(parameters: radius_m, fail, n\)",
    ):
        validate_params(SPEC, {"radius": 5})
    assert validate_params(SPEC, {"n": "3"}).n == 3  # type: ignore[attr-defined]
    assert validate_params(SPEC, None) == Params()


def test_successful_run_is_recorded_with_findings(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        record = run_model(
            MODEL, params={"radius_m": 50}, context=make_context(session, START, END)
        )
        session.commit()
    assert record.status == "ok" and record.error is None
    assert record.n_findings == 3 and len(record.finding_ids) == 3
    assert all(f.model_id == "test.points" and f.model_version == "1.2.3" for f in record.findings)
    assert record.jurisdiction_codes == (STATION_A, STATION_B, None)
    assert record.params == {"radius_m": 50.0, "fail": False, "n": 2}
    assert record.duration_s >= 0 and record.finished_at >= record.started_at
    with store.factory() as session:
        row = session.scalars(select(ModelRunRow)).one()
        stored = list_findings(session=session, scope=None, model_id="test.points")
    assert (row.model_id, row.model_version, row.status, row.n_findings) == (
        "test.points",
        "1.2.3",
        "ok",
        3,
    )
    assert (row.window_start, row.window_end) == (START, END)
    assert row.params == {"radius_m": 50.0, "fail": False, "n": 2}
    assert row.trigger == "manual" and row.scheduled_for is None
    assert sorted(s.jurisdiction_code or "-" for s in stored) == ["-", STATION_A, STATION_B]


def test_failed_run_is_recorded_and_stores_nothing(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        record = run_model(MODEL, params={"fail": True}, context=make_context(session, START, END))
        session.commit()
    assert record.status == "error" and record.n_findings == 0 and record.findings == ()
    assert record.error is not None
    assert record.error.startswith("RuntimeError: boom at radius 200.0 (at ")
    assert "test_runner.py:" in record.error
    with store.factory() as session:
        assert session.scalars(select(FindingRow)).all() == []
        [listed] = list_runs(session=session)
    assert (listed.status, listed.error, listed.n_findings) == ("error", record.error, 0)


def test_yielding_something_else_is_an_error_run(store, make_context) -> None:  # type: ignore[no-untyped-def]
    bad = RegisteredModel(
        spec=SPEC, run_function=lambda c, p: [{"title": "x"}], source="rule", origin="t"
    )
    with store.factory() as session:
        record = run_model(bad, params={}, context=make_context(session, START, END))
    assert record.status == "error"
    assert "model test.points yielded a dict; run() must yield Finding records" in (
        record.error or ""
    )


def test_invalid_params_raise_before_anything_is_recorded(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        with pytest.raises(ParamsError):
            run_model(MODEL, params={"n": "many"}, context=make_context(session, START, END))
        assert session.scalars(select(ModelRunRow)).all() == []


def test_assign_jurisdictions_polygon_and_empty_geometries() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
    }
    ring = {  # an L-shaped polygon whose centroid falls outside it
        "type": "Polygon",
        "coordinates": [[[2, 0], [4, 0], [4, 0.2], [2.2, 0.2], [2.2, 2], [2, 2], [2, 0]]],
    }
    jurisdictions = [
        Jurisdiction(code="A", name="A", station="A", geometry=square),
        Jurisdiction(code="L", name="L", station="L", geometry=ring),
    ]
    findings = [
        finding(point(0.5, 0.5)),
        finding(ring),
        finding({"type": "GeometryCollection", "geometries": []}),
        finding(point(0.5, 0.5), jurisdiction_code=None),
        finding({"type": "Nonsense"}),
    ]
    assert assign_jurisdictions(findings, jurisdictions) == ["A", "L", None, None, None]
