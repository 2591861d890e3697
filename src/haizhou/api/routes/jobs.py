"""Background jobs (后台作业): ``/api/jobs`` lists, shows and submits queued work, for admins.

Imports, model runs and reports submitted here go to the NATS JetStream work queue
(:mod:`haizhou.jobs`) and are run by ``haizhou worker`` processes; the ``jobs`` table is their
record, so any API process answers for any job. Files to import must already be on the server
under ``<data_dir>/inbox``: the API never reads a path outside it. A queue that does not answer
gives 503 and the job is recorded ``failed`` ("not queued: ...").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from haizhou.api.deps import AuditDep, CurrentUser, SessionDep, SettingsDep, require
from haizhou.api.policy import Permission
from haizhou.api.schemas.jobs import (
    ImportJobRequest,
    JobItem,
    JobPage,
    JobRequest,
    JobStatus,
    ModelJobRequest,
)
from haizhou.jobs import client, records
from haizhou.jobs.queue import QueueConfig
from haizhou.jobs.spec import Job, JobError
from haizhou.settings import Settings
from haizhou.store.tables.jobs import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(require(Permission.JOBS))])

INBOX = "inbox"
"""Folder under the data folder holding the files an import job may read."""

_CURSOR = re.compile(r"^([0-9]{1,20})~([A-Za-z0-9_.:-]{1,64})$")
JobId = Annotated[str, PathParam(max_length=64, description="Job id from the list")]


def _cursor_of(row: JobRow) -> str:
    micros = int(row.submitted_at.astimezone(UTC).timestamp() * 1_000_000)
    return f"{micros}~{row.id}"


def _parse_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None or cursor == "":
        return None
    match = _CURSOR.match(cursor)
    if match is None:
        raise HTTPException(
            422, detail=f"cursor {cursor!r} is not valid; pass the next_cursor of the last page"
        )
    moment = datetime.fromtimestamp(int(match.group(1)) / 1_000_000, UTC)
    return moment, match.group(2)


@router.get("", response_model=JobPage, summary="Recent jobs (作业列表), newest first")
def list_jobs(
    session: SessionDep,
    status_: Annotated[JobStatus | None, Query(alias="status", description="Only this")] = None,
    kind: Annotated[str | None, Query(max_length=40, description="Only this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> dict[str, Any]:
    """Jobs by submission time, newest first; keyset pages."""
    query = select(JobRow).order_by(JobRow.submitted_at.desc(), JobRow.id).limit(limit + 1)
    if status_ is not None:
        query = query.where(JobRow.status == status_)
    if kind is not None:
        query = query.where(JobRow.kind == kind)
    after = _parse_cursor(cursor)
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(
                JobRow.submitted_at < moment,
                and_(JobRow.submitted_at == moment, JobRow.id > last_id),
            )
        )
    rows = list(session.scalars(query))
    page = rows[:limit]
    items = [records.JobRecord.from_row(row).to_dict() for row in page]
    return {"items": items, "next_cursor": _cursor_of(page[-1]) if len(rows) > limit else None}


@router.get("/{job_id}", response_model=JobItem, summary="One job (作业详情)")
def get_job(job_id: JobId, session: SessionDep) -> dict[str, Any]:
    """The job's status, attempts, worker, result or error; 404 if there is none."""
    try:
        return records.get(session, job_id).to_dict()
    except JobError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


def _inbox_path(settings: Settings, relative: str) -> Path:
    """The absolute path of ``relative`` inside the inbox; 422 if it leaves it or is missing."""
    inbox = (settings.data_dir / INBOX).resolve()
    candidate = (inbox / relative).resolve()
    if Path(relative).is_absolute() or not candidate.is_relative_to(inbox):
        raise HTTPException(
            422, detail=f"path {relative!r} must be a file inside the data folder's {INBOX}/"
        )
    if not candidate.is_file():
        raise HTTPException(
            422, detail=f"no file {relative!r} in {INBOX}/; copy it there first (导入文件不存在)"
        )
    return candidate


def _job_of(body: Any, settings: Settings) -> Job:
    """The queue job of a validated request (paths resolved, times as ISO text)."""
    params = body.params.model_dump(mode="json", exclude_none=True)
    if isinstance(body, ImportJobRequest):
        from haizhou.ingest import KINDS

        if body.params.kind not in KINDS:
            raise HTTPException(
                422,
                detail=f"unknown import kind {body.params.kind!r}; use one of " + ", ".join(KINDS),
            )
        params["path"] = str(_inbox_path(settings, body.params.path))
    if isinstance(body, ModelJobRequest) and (body.params.start is None) != (
        body.params.end is None
    ):
        raise HTTPException(422, detail="give both start and end, or neither")
    return Job.new(body.kind, params)


def _queue(settings: Settings) -> QueueConfig:
    return QueueConfig(url=settings.nats_url, name=settings.job_queue)


@router.post(
    "",
    response_model=JobItem,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a job (提交作业): import, model or report",
)
def submit_job(
    request: Request,
    body: Annotated[JobRequest, Body()],
    settings: SettingsDep,
    user: CurrentUser,
    session: SessionDep,
    audit: AuditDep,
) -> dict[str, Any]:
    """Record the job ``queued`` and publish it; 503 if the queue does not answer."""
    job = _job_of(body, settings)
    sessions: sessionmaker[Session] = request.app.state.sessionmaker
    try:
        client.submit(_queue(settings), sessions, [job], submitted_by=user.username)
    except JobError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"the job queue did not accept the job ({exc}); is NATS running?",
        ) from None
    finally:
        audit("job.submit", target=job.id, detail={"kind": job.kind})
    return records.get(session, job.id).to_dict()
