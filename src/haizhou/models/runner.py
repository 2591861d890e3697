"""The model runner (模型运行器): validate parameters, run, store findings, record the run.

:func:`run_model` never lets a model's own error escape: the run is recorded with
``status="error"`` and the message, and the caller (the CLI, the scheduler) carries on. Bad
*parameters* are the caller's input error and raise :class:`ParamsError` before anything runs.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import shapely
import shapely.geometry
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haizhou.domain import Finding, Jurisdiction
from haizhou.errors import InputError
from haizhou.geo.index import PolygonIndex
from haizhou.models.context import RunContext, Window
from haizhou.models.spec import ModelSpec, RegisteredModel
from haizhou.store.repositories.findings import add_findings
from haizhou.store.tables import ModelRunRow

__all__ = [
    "ParamsError",
    "RunRecord",
    "assign_jurisdictions",
    "last_scheduled_slots",
    "list_runs",
    "record_error_run",
    "run_model",
    "validate_params",
]

Trigger = Literal["manual", "schedule"]


class ParamsError(InputError):
    """Parameters given to a model do not validate; the message names each field."""


def validate_params(spec: ModelSpec, params: Mapping[str, Any] | BaseModel | None) -> BaseModel:
    """``params`` checked against the model's pydantic ``params_model``.

    Raises
    ------
    ParamsError
        Naming the model, each bad field, the value given and what is allowed.
    """
    if isinstance(params, spec.params_model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    try:
        return spec.params_model.model_validate(dict(params or {}))
    except ValidationError as exc:
        fields = spec.params_model.model_fields
        lines = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or "(parameters)"
            if error["type"] == "extra_forbidden":
                known = ", ".join(fields) or "none"
                lines.append(f"{name!r} is not a parameter of this model (parameters: {known})")
            else:
                given = f" (got {error['input']!r})" if error["type"] != "missing" else ""
                lines.append(f"{name!r}: {error['msg']}{given}")
        raise ParamsError(
            f"invalid parameters for model {spec.id}: "
            + "; ".join(lines)
            + f". See `haizhou models show {spec.id}` for the parameters."
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """What one run did (运行记录), as stored in ``model_runs``.

    ``duration_s`` is wall-clock seconds; ``findings`` the findings stored (empty on error),
    ``finding_ids`` their row ids and ``jurisdiction_codes`` the jurisdiction each was routed to;
    ``error`` the error text for ``status == "error"``; ``run_id`` the row id.
    """

    run_id: int | None
    model_id: str
    model_version: str
    params: dict[str, Any]
    window: Window
    started_at: datetime
    finished_at: datetime
    duration_s: float
    n_findings: int
    status: Literal["ok", "error"]
    error: str | None
    trigger: Trigger
    scheduled_for: datetime | None = None
    finding_ids: tuple[int, ...] = ()
    findings: tuple[Finding, ...] = ()
    jurisdiction_codes: tuple[str | None, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "model_id": self.model_id,
            "model_version": self.model_version,
            "params": self.params,
            "window_start": self.window.start.isoformat(),
            "window_end": self.window.end.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "n_findings": self.n_findings,
            "status": self.status,
            "error": self.error,
            "trigger": self.trigger,
            "scheduled_for": None if self.scheduled_for is None else self.scheduled_for.isoformat(),
            "finding_ids": list(self.finding_ids),
        }


def assign_jurisdictions(
    findings: Sequence[Finding], jurisdictions: Sequence[Jurisdiction]
) -> list[str | None]:
    """The owning jurisdiction (属地) of each finding.

    ``evidence["jurisdiction_code"]`` wins when the key is present (``None`` there means
    "bureau-wide, no single owner"); otherwise the jurisdiction holding a representative point
    of the finding's geometry (a point inside it), or ``None`` outside every jurisdiction.
    """
    codes: list[str | None] = [None] * len(findings)
    pending: list[tuple[int, float, float]] = []
    for i, finding in enumerate(findings):
        if "jurisdiction_code" in finding.evidence:
            value = finding.evidence["jurisdiction_code"]
            codes[i] = None if value is None else str(value)
            continue
        try:
            geometry = shapely.geometry.shape(finding.geometry)
        except Exception:  # a malformed geometry has no owner; the finding is still kept
            continue
        if geometry.is_empty:
            continue
        point = geometry.representative_point()
        pending.append((i, point.x, point.y))
    polygons = [(j.code, j.geometry) for j in jurisdictions if j.geometry]
    if pending and polygons:
        index = PolygonIndex.from_geojson(polygons)
        located = index.locate([p[1] for p in pending], [p[2] for p in pending])
        for (i, _lon, _lat), code in zip(pending, located.tolist(), strict=True):
            codes[i] = code
    return codes


def _error_text(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_model(
    model: RegisteredModel,
    *,
    params: Mapping[str, Any] | BaseModel | None,
    context: RunContext,
    trigger: Trigger = "manual",
    scheduled_for: datetime | None = None,
) -> RunRecord:
    """Run ``model`` once and record it.

    Parameters
    ----------
    model
        From the registry.
    params
        Parameter values (a mapping, or an instance of the model's ``params_model``);
        missing fields take their defaults.
    context
        The run's context; its session receives the findings and the ``model_runs`` row.
        The caller commits.
    trigger
        ``"manual"`` or ``"schedule"``.
    scheduled_for
        The schedule slot a scheduled run is for (what the scheduler reads back).

    Returns
    -------
    RunRecord
        With ``status="error"`` and the message if the model raised or yielded something
        that is not a :class:`~haizhou.domain.Finding`; in that case no finding is stored.

    Raises
    ------
    ParamsError
        If ``params`` does not validate (nothing is run or recorded).
    """
    spec = model.spec
    checked = validate_params(spec, params)
    params_json = checked.model_dump(mode="json")
    session = context.session
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    findings: list[Finding] = []
    finding_ids: list[int] = []
    codes: list[str | None] = []
    error: str | None = None
    try:
        for item in model.run(context, checked):
            if not isinstance(item, Finding):
                raise TypeError(
                    f"model {spec.id} yielded a {type(item).__name__}; run() must yield Finding records"
                )
            if item.model_id != spec.id or item.model_version != spec.version:
                item = replace(item, model_id=spec.id, model_version=spec.version)
            findings.append(item)
        codes = assign_jurisdictions(findings, context.jurisdictions())
        finding_ids = add_findings(
            session=session, findings=findings, jurisdiction_codes=codes, created_at=started_at
        )
    except Exception as exc:
        context.log.exception("model %s failed", spec.id)
        error = _error_text(exc)
        findings, finding_ids, codes = [], [], []
        # Drop whatever the failed run left pending (partial findings) before recording it.
        session.rollback()
    duration = time.perf_counter() - clock
    finished_at = datetime.now(UTC)
    row = ModelRunRow(
        model_id=spec.id,
        model_version=spec.version,
        params=params_json,
        window_start=context.window.start,
        window_end=context.window.end,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=duration,
        n_findings=len(findings),
        status="error" if error else "ok",
        error=error,
        trigger=trigger,
        scheduled_for=scheduled_for,
    )
    session.add(row)
    session.flush()
    return RunRecord(
        run_id=row.id,
        model_id=spec.id,
        model_version=spec.version,
        params=params_json,
        window=context.window,
        started_at=started_at,
        finished_at=finished_at,
        duration_s=duration,
        n_findings=len(findings),
        status="error" if error else "ok",
        error=error,
        trigger=trigger,
        scheduled_for=scheduled_for,
        finding_ids=tuple(finding_ids),
        findings=tuple(findings),
        jurisdiction_codes=tuple(codes),
    )


def last_scheduled_slots(*, session: Session) -> dict[str, datetime]:
    """For each model, the latest schedule slot it was run for (ok or error), UTC."""
    rows = session.execute(
        select(ModelRunRow.model_id, func.max(ModelRunRow.scheduled_for))
        .where(ModelRunRow.trigger == "schedule", ModelRunRow.scheduled_for.is_not(None))
        .group_by(ModelRunRow.model_id)
    ).all()
    result: dict[str, datetime] = {}
    for model_id, slot in rows:
        if slot is None:
            continue
        if isinstance(slot, str):  # SQLite aggregates bypass the column type
            slot = datetime.fromisoformat(slot)
        result[model_id] = slot if slot.tzinfo else slot.replace(tzinfo=UTC)
    return result


def list_runs(*, session: Session, model_id: str | None = None, limit: int = 50) -> list[RunRecord]:
    """The most recent runs, newest first (findings themselves are not loaded)."""
    if not 1 <= limit <= 10_000:
        raise ValueError(f"limit must be between 1 and 10000; got {limit}")
    query = select(ModelRunRow).order_by(ModelRunRow.started_at.desc(), ModelRunRow.id.desc())
    if model_id is not None:
        query = query.where(ModelRunRow.model_id == model_id)
    rows = session.scalars(query.limit(limit)).all()
    return [
        RunRecord(
            run_id=row.id,
            model_id=row.model_id,
            model_version=row.model_version,
            params=dict(row.params or {}),
            window=Window(row.window_start, row.window_end),
            started_at=row.started_at,
            finished_at=row.finished_at,
            duration_s=row.duration_s,
            n_findings=row.n_findings,
            status="error" if row.status == "error" else "ok",
            error=row.error,
            trigger="schedule" if row.trigger == "schedule" else "manual",
            scheduled_for=row.scheduled_for,
        )
        for row in rows
    ]


def record_error_run(
    *,
    session: Session,
    spec: ModelSpec,
    window: Window,
    error: str,
    trigger: Trigger,
    scheduled_for: datetime | None = None,
) -> RunRecord:
    """Record a run that could not start (e.g. the defaults of its parameters do not validate)."""
    stamp = datetime.now(UTC)
    row = ModelRunRow(
        model_id=spec.id,
        model_version=spec.version,
        params=None,
        window_start=window.start,
        window_end=window.end,
        started_at=stamp,
        finished_at=stamp,
        duration_s=0.0,
        n_findings=0,
        status="error",
        error=error,
        trigger=trigger,
        scheduled_for=scheduled_for,
    )
    session.add(row)
    session.flush()
    return RunRecord(
        run_id=row.id,
        model_id=spec.id,
        model_version=spec.version,
        params={},
        window=window,
        started_at=stamp,
        finished_at=stamp,
        duration_s=0.0,
        n_findings=0,
        status="error",
        error=error,
        trigger=trigger,
        scheduled_for=scheduled_for,
    )
