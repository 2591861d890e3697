"""The model library (模型库): ``/api/models`` lists models, shows one, runs one.

Runs read only the user's jurisdictions (the run's scope) and store their findings, which then
become instructions by the instruction policy; every run is recorded, a model's own failure
included (``status: error``). Analysts and administrators
run models; every police role reads the library.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status

from haizhou.api.deps import CurrentUser, NowDep, ScopeDep, SessionDep, SettingsDep, require
from haizhou.api.policy import Permission
from haizhou.api.schemas.models import ModelDetail, ModelItem, RunOut, RunRequest
from haizhou.models.context import RunContext, Window
from haizhou.models.registry import ModelNotFoundError, Registry, discover
from haizhou.models.runner import ParamsError, list_runs, run_model
from haizhou.models.scheduler import default_window
from haizhou.models.spec import RegisteredModel
from haizhou.settings import Settings
from haizhou.tasks.policy import policy_from_mapping
from haizhou.tasks.service import issue_findings

router = APIRouter(prefix="/models", tags=["models"])

ModelId = Annotated[
    str, Path(min_length=1, max_length=100, description="e.g. incidents.daily_volume")
]


def registry_for(settings: Settings) -> Registry:
    """Every model: built-in, plug-ins, and the YAML rules in ``<data_dir>/models``."""
    return discover(rule_folders=[settings.data_dir / "models"])


def _get(registry: Registry, model_id: str) -> RegisteredModel:
    try:
        return registry.get(model_id)
    except ModelNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _item(model: RegisteredModel, session: Any) -> dict[str, Any]:
    spec = model.spec.to_dict()
    last = list_runs(session=session, model_id=model.id, limit=1)
    return {
        "id": model.id,
        "version": spec["version"],
        "title_zh": spec["title_zh"],
        "title_en": spec["title_en"],
        "schedule": spec["schedule"],
        "source": str(model.source),
        "finding_kinds": spec["finding_kinds"],
        "last_run": None
        if not last
        else {
            "at": last[0].started_at,
            "status": last[0].status,
            "n_findings": last[0].n_findings,
            "duration_s": last[0].duration_s,
        },
    }


@router.get(
    "",
    response_model=list[ModelItem],
    summary="Every model with its latest run (模型列表)",
    dependencies=[Depends(require(Permission.MODELS_READ))],
)
def list_models(session: SessionDep, settings: SettingsDep) -> list[dict[str, Any]]:
    """Built-in models, plug-ins and YAML rules, by id."""
    return [_item(m, session) for m in registry_for(settings)]


@router.get(
    "/{model_id}",
    response_model=ModelDetail,
    summary="One model: card, parameters and its 20 latest runs",
    dependencies=[Depends(require(Permission.MODELS_READ))],
)
def read_model(model_id: ModelId, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """404 for an unknown id."""
    model = _get(registry_for(settings), model_id)
    spec = model.spec.to_dict()
    runs = list_runs(session=session, model_id=model.id, limit=20)
    return {
        **_item(model, session),
        "card": spec["card"],
        "params_schema": spec["params_schema"],
        "runs": [r.to_dict() for r in runs],
    }


def _aware(moment: datetime, settings: Settings) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=settings.zone)


@router.post(
    "/{model_id}/run",
    response_model=RunOut,
    summary="Run a model now over your jurisdictions (运行模型)",
    dependencies=[Depends(require(Permission.MODELS_RUN))],
)
def run(
    model_id: ModelId,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    user: CurrentUser,
    now: NowDep,
    body: RunRequest | None = None,
) -> dict[str, Any]:
    """The run record; 422 for invalid parameters or window (nothing runs then).

    The run's findings then go through the instruction policy at once (issued, pending
    approval, folded into the open instruction for the same place, or ignored); the answer
    counts them in ``instructions``.
    """
    body = body or RunRequest()
    model = _get(registry_for(settings), model_id)
    if (body.start is None) != (body.end is None):
        raise HTTPException(422, detail="give both start and end, or neither")
    try:
        if body.start is not None and body.end is not None:
            window = Window(_aware(body.start, settings), _aware(body.end, settings))
        else:
            window = default_window(model.spec.schedule, now=now, zone=settings.zone)
    except (ValueError, OverflowError) as exc:
        raise HTTPException(422, detail=f"window: {exc}") from None
    context = RunContext(
        session=session,
        scope=scope.codes,
        now=now,
        window=window,
        zone=settings.zone,
        log=logging.getLogger(f"haizhou.models.{model.id}"),
    )
    try:
        record = run_model(model, params=body.params, context=context)
    except ParamsError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    session.commit()
    swept = issue_findings(
        session=session,
        now=now,
        finding_ids=record.finding_ids,
        actor=user.username,
        policy=policy_from_mapping(settings.instruction_policy),
    )
    session.commit()
    return {**record.to_dict(), "instructions": swept.counts, "unrouted_findings": swept.unrouted}
