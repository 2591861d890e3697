"""What each job kind does (作业处理).

A handler receives the job's parameters, the open session of the job's transaction and the
worker's :class:`JobEnvironment`, and returns a JSON-serialisable result. Writes made through
the session commit together with the job's ``done`` row, so they happen exactly once; an import
writes in its own batches and is idempotent by design (a re-run skips the rows it already
stored); a report is a file written under a name fixed by its parameters.

Parameters by kind:

- ``import``: ``kind`` (incidents, cases, jurisdictions, sensors, persons), ``path``, optional
  ``source``, ``crs``, ``column_map``, ``encoding``, ``area_check``, ``batch_size``;
- ``model``: ``model_id``, optional ``params``, ``start`` and ``end`` (ISO-8601 with zone);
- ``report``: ``kind`` (daily, weekly, monthly), ``date`` (YYYY-MM-DD), ``format``, ``lang``;
- ``probe``: ``sleep_s`` (wait), ``cpu_s`` (compute), ``fail`` (raise, for the retry path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from haizhou.jobs.spec import JobError


@dataclass(frozen=True)
class JobEnvironment:
    """What a worker gives every job: the store, the data folder and the bureau's settings."""

    engine: Engine
    data_dir: Path
    timezone: str = "Asia/Shanghai"
    pseudonym_key: str | None = None
    rule_folders: tuple[Path, ...] = field(default_factory=tuple)


Handler = Callable[[dict[str, Any], Session, JobEnvironment], dict[str, Any]]


def _require(params: dict[str, Any], name: str) -> Any:
    if name not in params or params[name] in (None, ""):
        raise JobError(f"job parameter {name!r} is missing")
    return params[name]


def run_import(params: dict[str, Any], _session: Session, env: JobEnvironment) -> dict[str, Any]:
    """Import one file (the ingest pipeline: duplicate rows of a re-run are skipped)."""
    from haizhou.ingest import import_file

    summary = import_file(
        str(_require(params, "kind")),
        Path(str(_require(params, "path"))),
        engine=env.engine,
        data_dir=env.data_dir,
        timezone=env.timezone,
        pseudonym_key=env.pseudonym_key,
        source=params.get("source"),
        crs=str(params.get("crs", "wgs84")),
        column_map=params.get("column_map") or None,
        encoding=params.get("encoding"),
        batch_size=int(params.get("batch_size", 100_000)),
        area_check=bool(params.get("area_check", True)),
    )
    return dict(summary.to_dict())


def _moment(text: str, zone: ZoneInfo, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise JobError(f"job parameter {name!r}: {text!r} is not an ISO-8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def run_model_job(params: dict[str, Any], session: Session, env: JobEnvironment) -> dict[str, Any]:
    """Run one model; its findings and run record commit with the job's ``done`` row."""
    from haizhou.models.context import RunContext, Window
    from haizhou.models.registry import discover
    from haizhou.models.runner import run_model
    from haizhou.models.scheduler import default_window

    model_id = str(_require(params, "model_id"))
    model = discover(rule_folders=list(env.rule_folders)).get(model_id)
    zone = ZoneInfo(env.timezone)
    now = datetime.now(UTC)
    if params.get("start") and params.get("end"):
        window = Window(
            _moment(str(params["start"]), zone, "start"), _moment(str(params["end"]), zone, "end")
        )
    else:
        window = default_window(model.spec.schedule, now=now, zone=zone)
    context = RunContext(
        session=session,
        scope=None,
        now=now,
        window=window,
        zone=zone,
        log=logging.getLogger(f"haizhou.models.{model.id}"),
    )
    record = run_model(model, params=params.get("params") or {}, context=context)
    if not record.ok:
        raise JobError(f"model {model_id} failed: {record.error}")
    return {
        "model_id": model_id,
        "n_findings": len(record.findings),
        "finding_ids": list(record.finding_ids),
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
    }


def run_report(params: dict[str, Any], session: Session, env: JobEnvironment) -> dict[str, Any]:
    """Build one report into ``<data_dir>/reports/<kind>-<date>-<lang>.<format>``."""
    from haizhou.reports.render import build_report

    kind = str(_require(params, "kind"))
    day = date.fromisoformat(str(_require(params, "date")))
    fmt = str(params.get("format", "pdf"))
    lang = str(params.get("lang", "zh"))
    report = build_report(
        kind,
        session=session,
        scope=params.get("scope") or None,
        date=day,
        fmt=fmt,
        lang=lang,
        zone=env.timezone,
        generated_at=datetime.now(ZoneInfo(env.timezone)),
    )
    path = env.data_dir / "reports" / f"{kind}-{day.isoformat()}-{lang}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(report.content)
    partial.replace(path)
    return {"path": str(path), "bytes": len(report.content), "warnings": list(report.warnings)}


def run_probe(params: dict[str, Any], _session: Session, _env: JobEnvironment) -> dict[str, Any]:
    """Wait ``sleep_s``, compute for ``cpu_s`` of CPU time, fail if ``fail`` is true."""
    time.sleep(float(params.get("sleep_s", 0.0)))
    cpu_s = float(params.get("cpu_s", 0.0))
    start = time.process_time()
    rounds = 0
    while time.process_time() - start < cpu_s:
        sum(i * i for i in range(10_000))
        rounds += 1
    if params.get("fail"):
        raise RuntimeError("probe job asked to fail")
    return {"rounds": rounds}


HANDLERS: dict[str, Handler] = {
    "import": run_import,
    "model": run_model_job,
    "report": run_report,
    "probe": run_probe,
}
