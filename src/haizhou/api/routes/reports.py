"""Reports (报告): ``/api/reports`` lists, generates and serves report files.

Reports are files under ``<data_dir>/reports``: those of the whole bureau at the top (the
names ``haizhou report`` writes, ``<kind>-<date>-<lang>.<format>``), those of one unit's
jurisdictions under ``units/<code>/``. A user generates reports for their own jurisdictions and
sees those of their unit and the units below it; the bureau sees all. Generating is
synchronous (the monthly assessment of the 1.0-scale city takes well under 30 s); reading a
file is audited, since reports may name pseudonymised series.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from haizhou.api.deps import AuditDep, CurrentUser, ScopeDep, SessionDep, SettingsDep, require
from haizhou.api.policy import Permission
from haizhou.api.schemas.reports import ReportItem, ReportPage, ReportRequest
from haizhou.errors import HaizhouError
from haizhou.security.roles import Scope

router = APIRouter(prefix="/reports", tags=["reports"])

_NAME = re.compile(r"^(daily|weekly|monthly)-([0-9]{4}-[0-9]{2}-[0-9]{2})-(zh|en)\.(html|pdf)$")
_ID = re.compile(
    r"^(daily|weekly|monthly)-([0-9]{4}-[0-9]{2}-[0-9]{2})-(zh|en)-(html|pdf)(?:~([A-Za-z0-9_-]{1,64}))?$"
)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
ReportId = Annotated[str, PathParam(max_length=120, description="Report id from the list")]


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One report file on disk."""

    kind: str
    day: date
    lang: str
    fmt: str
    unit: str | None
    path: Path

    @property
    def id(self) -> str:
        base = f"{self.kind}-{self.day.isoformat()}-{self.lang}-{self.fmt}"
        return base if self.unit is None else f"{base}~{self.unit}"

    def item(self, warnings: tuple[str, ...] = ()) -> dict[str, Any]:
        stat = self.path.stat()
        return {
            "id": self.id,
            "kind": self.kind,
            "date": self.day,
            "lang": self.lang,
            "format": self.fmt,
            "unit": self.unit,
            "created_at": datetime.fromtimestamp(stat.st_mtime, UTC),
            "size": stat.st_size,
            "warnings": list(warnings),
        }


def report_folder(data_dir: Path, unit: str | None) -> Path:
    """Where the reports of ``unit`` (``None``: the whole bureau) are kept."""
    folder = data_dir / "reports"
    return folder if unit is None else folder / "units" / unit


def _parse_name(path: Path, unit: str | None) -> ReportFile | None:
    match = _NAME.match(path.name)
    if match is None or not path.is_file():
        return None
    try:
        day = date.fromisoformat(match.group(2))
    except ValueError:
        return None
    return ReportFile(match.group(1), day, match.group(3), match.group(4), unit, path)


def visible_reports(data_dir: Path, scope: Scope) -> list[ReportFile]:
    """Reports the scope may read: all for the bureau, else those of units in scope."""
    found: list[ReportFile] = []
    top = report_folder(data_dir, None)
    if scope.is_everything and top.is_dir():
        found += [r for p in top.iterdir() if (r := _parse_name(p, None)) is not None]
    units = top / "units"
    if units.is_dir():
        for folder in units.iterdir():
            if folder.is_dir() and _CODE.match(folder.name) and scope.allows(folder.name):
                found += [r for p in folder.iterdir() if (r := _parse_name(p, folder.name))]
    return found


def _sort_key(report: ReportFile) -> tuple[int, str]:
    return (-report.day.toordinal(), report.id)


def _find(data_dir: Path, scope: Scope, report_id: str) -> ReportFile:
    match = _ID.match(report_id)
    unit = None if match is None else match.group(5)
    if (
        match is None
        or (unit is None and not scope.is_everything)
        or (unit is not None and not scope.allows(unit))
    ):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"report {report_id!r} does not exist or is outside your jurisdictions; "
            "list reports with GET /api/reports",
        )
    kind, day, lang, fmt = match.group(1), match.group(2), match.group(3), match.group(4)
    path = report_folder(data_dir, unit) / f"{kind}-{day}-{lang}.{fmt}"
    report = _parse_name(path, unit)
    if report is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"report {report_id!r} does not exist; generate it with POST /api/reports",
        )
    return report


@router.get(
    "",
    response_model=ReportPage,
    summary="Reports generated for your jurisdictions (报告列表)",
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
def list_reports(
    settings: SettingsDep,
    scope: ScopeDep,
    kind: Annotated[str | None, Query(pattern="^(daily|weekly|monthly)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=120)] = None,
) -> dict[str, Any]:
    """Newest report date first; ``cursor`` is the ``next_cursor`` of the last page."""
    reports = visible_reports(settings.data_dir, scope)
    if kind is not None:
        reports = [r for r in reports if r.kind == kind]
    reports.sort(key=_sort_key)
    if cursor:
        match = _ID.match(cursor)
        if match is None:
            raise HTTPException(422, detail=f"cursor {cursor!r} is not valid; pass next_cursor")
        after = (-date.fromisoformat(match.group(2)).toordinal(), cursor)
        reports = [r for r in reports if _sort_key(r) > after]
    page = reports[:limit]
    next_cursor = page[-1].id if len(reports) > limit else None
    return {"items": [r.item() for r in page], "next_cursor": next_cursor}


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@router.post(
    "",
    response_model=ReportItem,
    status_code=status.HTTP_201_CREATED,
    summary="Generate a report now (生成报告) for your jurisdictions",
    dependencies=[Depends(require(Permission.REPORTS_CREATE))],
)
def create_report(
    body: ReportRequest,
    session: SessionDep,
    settings: SettingsDep,
    scope: ScopeDep,
    user: CurrentUser,
    audit: AuditDep,
) -> dict[str, Any]:
    """Daily inspection, weekly bulletin or monthly assessment as HTML or PDF, in zh or en.

    Generating the same report again replaces the file.
    """
    from haizhou.reports.render import PdfUnavailable, build_report

    if not FIRST_DAY <= body.date <= LAST_DAY:
        raise HTTPException(
            422, detail=f"date must be between {FIRST_DAY} and {LAST_DAY}; got {body.date}"
        )
    unit = None if scope.is_everything else user.jurisdiction_code
    if unit is not None and not _CODE.match(unit):
        raise HTTPException(422, detail=f"your unit code {unit!r} cannot name a report folder")
    try:
        report = build_report(
            body.kind,
            session=session,
            scope=scope.codes,
            date=body.date,
            fmt=body.format,
            lang=body.lang,
            zone=settings.timezone,
            generated_at=datetime.now(settings.zone),
        )
    except PdfUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
    except HaizhouError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    path = (
        report_folder(settings.data_dir, unit)
        / f"{body.kind}-{body.date}-{body.lang}.{body.format}"
    )
    _write_atomically(path, report.content)
    made = ReportFile(body.kind, body.date, body.lang, body.format, unit, path)
    audit("report.generate", target=made.id, detail={"bytes": len(report.content)})
    return made.item(report.warnings)


@router.get(
    "/{report_id}/file",
    summary="The report file (HTML or PDF)",
    response_class=FileResponse,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}},
    dependencies=[Depends(require(Permission.REPORTS_READ))],
)
def report_file(
    report_id: ReportId, settings: SettingsDep, scope: ScopeDep, audit: AuditDep
) -> FileResponse:
    """The file itself; 404 when it does not exist or covers units outside your scope."""
    report = _find(settings.data_dir, scope, report_id)
    audit("report.read", target=report.id)
    return FileResponse(
        report.path,
        media_type=MEDIA_TYPES[report.fmt],
        filename=f"{report.kind}-{report.day.isoformat()}-{report.lang}.{report.fmt}",
        content_disposition_type="inline",
    )
