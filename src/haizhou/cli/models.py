"""``haizhou models`` and ``haizhou plugins``: the model library from the command line.

``models list | show ID | run ID | runs | schedule`` and ``plugins check`` (our hassfest).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError
from haizhou.models.checks import check_plugins
from haizhou.models.context import RunContext, Window
from haizhou.models.registry import Registry, discover
from haizhou.models.runner import RunRecord, list_runs, run_model
from haizhou.models.scheduler import default_window, run_due, run_forever
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker

app = typer.Typer(
    help="Models (模型库): list them, show one, run one, see past runs, run the schedule.",
    no_args_is_help=True,
)
plugins_app = typer.Typer(
    help="Plug-ins (插件): check that every model meets the contract (ids, titles, card, tests).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
_LEVEL_STYLE = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow", "blue": "blue"}


def rule_folder(settings: Settings) -> Path:
    """Where an analyst's YAML rules live: ``<data_dir>/models``."""
    return settings.data_dir / "models"


def _registry(settings: Settings) -> Registry:
    registry = discover(rule_folders=[rule_folder(settings)])
    for problem in registry.problems:
        console.print(
            f"[yellow]Warning:[/] skipped {problem}", highlight=False, markup=True, soft_wrap=True
        )
    return registry


def _sessions(settings: Settings) -> sessionmaker[Session]:
    url = settings.resolved_database_url
    migrate.upgrade(url)
    return make_sessionmaker(make_engine(url))


def parse_params(values: list[str] | None) -> dict[str, Any]:
    """``--params`` values: JSON objects and ``key=value`` pairs, merged left to right.

    A value that parses as JSON (``5``, ``1.5``, ``true``, ``["a","b"]``) is taken as such,
    anything else as text.
    """
    params: dict[str, Any] = {}
    for raw in values or []:
        text = raw.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HaizhouError(f"--params {raw!r} is not valid JSON: {exc.msg}") from None
            params.update(value)
            continue
        key, sep, value_text = text.partition("=")
        if not sep or not key.strip():
            raise HaizhouError(
                f"--params expects a JSON object or key=value; got {raw!r} "
                "(e.g. --params window_days=14 or --params '{\"window_days\": 14}')"
            )
        try:
            params[key.strip()] = json.loads(value_text)
        except json.JSONDecodeError:
            params[key.strip()] = value_text
    return params


def parse_moment(text: str, *, zone: ZoneInfo, option: str) -> datetime:
    """A date (local midnight) or ISO date-time; without a zone, the bureau's zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HaizhouError(
            f"{option} {text!r} is not a date (2026-03-01) or date-time (2026-03-01T08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@app.command("list")
@friendly_errors
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every model: built-in, installed by plug-ins, and YAML rules."""
    registry = _registry(get_settings(ctx))
    if as_json:
        print_json(
            [
                {
                    "id": m.id,
                    "version": m.spec.version,
                    "title_zh": m.spec.title_zh,
                    "title_en": m.spec.title_en,
                    "schedule": m.spec.schedule.value,
                    "source": m.source,
                    "origin": m.origin,
                }
                for m in registry
            ]
        )
        return
    table = Table(title=f"{len(registry)} models (模型)")
    for column in ("id", "version", "schedule", "title (zh)", "title (en)", "source"):
        table.add_column(column)
    for m in registry:
        table.add_row(
            m.id, m.spec.version, m.spec.schedule.value, m.spec.title_zh, m.spec.title_en, m.source
        )
    Console().print(table)  # stdout, for this invocation


@app.command("show")
@friendly_errors
def show_command(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Model id, e.g. incidents.daily_volume.")],
    as_json: JsonOption = False,
) -> None:
    """Show a model: titles, schedule, model card and parameters."""
    model = _registry(get_settings(ctx)).get(model_id)
    info = {**model.spec.to_dict(), "source": model.source, "origin": model.origin}
    if as_json:
        print_json(info)
        return
    spec = model.spec
    out = Console()  # stdout, for this invocation
    out.print(
        f"[bold]{spec.id}[/] {spec.version}  {spec.title_zh} / {spec.title_en}", highlight=False
    )
    out.print(
        f"schedule: {spec.schedule.value}   source: {model.source} ({model.origin})",
        highlight=False,
        markup=False,
    )
    if spec.card is not None:
        for name, value in spec.card.to_dict().items():
            if isinstance(value, list):
                value = ", ".join(value) or "-"
            out.print(f"[bold]{name}[/]: {value}", highlight=False, soft_wrap=True)
    table = Table(title="parameters (参数)")
    for column in ("name", "type", "default", "description"):
        table.add_column(column)
    for name, field in spec.params_model.model_fields.items():
        annotation = getattr(field.annotation, "__name__", None) or str(field.annotation)
        table.add_row(
            name,
            annotation,
            json.dumps(field.default, ensure_ascii=False, default=str),
            field.description or "",
        )
    out.print(table)


def _print_record(record: RunRecord) -> None:
    if record.ok:
        console.print(
            f"{record.model_id} {record.model_version}: {record.n_findings} finding(s) for "
            f"{record.window.start.isoformat()} – {record.window.end.isoformat()} "
            f"in {record.duration_s:.2f} s (run {record.run_id})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    else:
        console.print(
            f"[bold red]{record.model_id} failed[/] (run {record.run_id}): {record.error}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("run")
@friendly_errors
def run_command(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Model id, e.g. rules.burglary_surge.")],
    params: Annotated[
        list[str] | None,
        typer.Option("--params", "-p", help="Parameters: a JSON object or key=value; repeatable."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Window start: date or date-time (bureau time if no zone).")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Window end (exclusive), as --start.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run one model now, store its findings and record the run. Exit 1 if the model fails.

    Without --start/--end the window is the last full local day (week, month for weekly and
    monthly models).
    """
    settings = get_settings(ctx)
    zone = settings.zone
    model = _registry(settings).get(model_id)
    values = parse_params(params)
    now = datetime.now(UTC)
    if (start is None) != (end is None):
        raise HaizhouError(
            "give both --start and --end, or neither (default: the last full period)"
        )
    if start is not None and end is not None:
        try:
            window = Window(
                parse_moment(start, zone=zone, option="--start"),
                parse_moment(end, zone=zone, option="--end"),
            )
        except ValueError as exc:
            raise HaizhouError(f"--start/--end: {exc}") from None
    else:
        window = default_window(model.spec.schedule, now=now, zone=zone)
    factory = _sessions(settings)
    with factory() as session:
        context = RunContext(
            session=session,
            scope=None,
            now=now,
            window=window,
            zone=zone,
            log=logging.getLogger(f"haizhou.models.{model.id}"),
        )
        record = run_model(model, params=values, context=context)
        session.commit()
    if as_json:
        print_json(
            {
                **record.to_dict(),
                "findings": [
                    {
                        "id": finding_id,
                        "jurisdiction_code": code,
                        "kind": f.kind,
                        "level": f.level.value,
                        "title": f.title,
                        "explanation": f.explanation,
                        "evidence": f.evidence,
                        "key": f.key,
                    }
                    for finding_id, f, code in zip(
                        record.finding_ids, record.findings, record.jurisdiction_codes, strict=True
                    )
                ],
            }
        )
    else:
        _print_record(record)
        if record.findings:
            table = Table()
            for column in ("level", "title", "explanation"):
                table.add_column(column)
            for f in record.findings:
                style = _LEVEL_STYLE.get(f.level.value, "")
                table.add_row(f"[{style}]{f.level.title_zh}[/]", f.title, f.explanation)
            Console().print(table)
    if not record.ok:
        raise typer.Exit(1)


@app.command("runs")
@friendly_errors
def runs_command(
    ctx: typer.Context,
    model_id: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Show recent model runs (运行记录): window, duration, findings, errors."""
    settings = get_settings(ctx)
    zone = settings.zone
    factory = _sessions(settings)
    with factory() as session:
        records = list_runs(session=session, model_id=model_id, limit=limit)
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    table = Table(title="model runs (运行记录)")
    for column in ("run", "model", "started", "window (bureau time)", "s", "findings", "status"):
        table.add_column(column)
    for r in records:
        table.add_row(
            str(r.run_id),
            r.model_id,
            f"{r.started_at.astimezone(zone):%Y-%m-%d %H:%M:%S}",
            f"{r.window.start.astimezone(zone):%Y-%m-%d %H:%M} – "
            f"{r.window.end.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{r.duration_s:.2f}",
            str(r.n_findings),
            r.status if r.ok else f"error: {r.error}",
        )
    Console().print(table)


@app.command("schedule")
@friendly_errors
def schedule_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep running; check every --interval seconds.")
    ] = False,
    interval: Annotated[float, typer.Option(min=1.0, help="Seconds between checks.")] = 60.0,
    issue: Annotated[
        bool,
        typer.Option(
            "--issue/--no-issue",
            help="After each check, issue new findings as instructions by policy and escalate "
            "late instructions (haizhou instructions sweep).",
        ),
    ] = True,
    maintain: Annotated[
        bool,
        typer.Option(
            "--maintain/--no-maintain",
            help="Once a day, keep PostgreSQL's monthly partitions: create the coming months, "
            "drop sightings months past HAIZHOU_SIGHTINGS_RETENTION_DAYS (haizhou stream "
            "partitions).",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Run the daily (06:00), weekly (Monday 07:00) and monthly (1st, 08:00) models that are due.

    Times are the bureau's (HAIZHOU_TIMEZONE). After each check the findings become
    instructions by policy and late instructions are escalated (督办), unless --no-issue; once
    a day the monthly partitions are maintained (PostgreSQL), unless --no-maintain.
    Exit 1 with --once if a run failed.
    """
    from haizhou.cli.tasks import sweep
    from haizhou.streams.partitions import maintain as maintain_partitions

    if once == loop:
        raise HaizhouError("give exactly one of --once or --loop")
    settings = get_settings(ctx)
    registry = _registry(settings)
    factory = _sessions(settings)

    def report(record: RunRecord) -> None:
        if as_json:
            print_json(record.to_dict())
        else:
            _print_record(record)

    maintained: list[date] = []  # the UTC day of the last partition upkeep

    def upkeep(now: datetime) -> None:
        if not maintain or maintained[-1:] == [now.date()]:
            return
        with factory() as session, session.begin():
            done = maintain_partitions(
                session.connection(),
                now=now,
                retention_days={"sightings": settings.sightings_retention_days},
            )
        maintained.append(now.date())
        if not (done["created"] or done["dropped"]):
            return  # nothing to do (always so on SQLite)
        if as_json:
            print_json({"partitions": done, "at": now.isoformat()})
        else:
            console.print(f"partitions: created {done['created']}; dropped {done['dropped']}")

    def issue_and_escalate(now: datetime) -> None:
        upkeep(now)
        if not issue:
            return
        swept = sweep(settings, factory, now)
        if as_json:
            print_json({"sweep": swept, "at": now.isoformat()})
        elif any(swept["findings"].values()) or swept["escalated"]:
            console.print(f"instructions: {swept['findings']}; escalated {len(swept['escalated'])}")

    if loop:
        try:
            run_forever(
                registry,
                session_factory=factory,
                zone=settings.zone,
                interval_s=interval,
                on_run=report,
                on_tick=issue_and_escalate,
            )
        except KeyboardInterrupt:
            console.print("scheduler stopped")
        return
    now = datetime.now(UTC)
    records = run_due(registry, session_factory=factory, now=now, zone=settings.zone, on_run=report)
    if not records and not as_json:
        console.print("nothing is due")
    issue_and_escalate(now)
    if any(not r.ok for r in records):
        raise typer.Exit(1)


@plugins_app.command("check")
@friendly_errors
def plugins_check_command(
    ctx: typer.Context,
    tests_dir: Annotated[
        Path | None,
        typer.Option(
            help="Tests folder; each model needs a test mentioning its id. "
            "Default: tests/models if it exists here."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every model (ids unique, both titles, card, tests, params validate). Exit 1 on problems."""
    settings = get_settings(ctx)
    if tests_dir is None and Path("tests/models").is_dir():
        tests_dir = Path("tests/models")
    problems = check_plugins(tests_dir=tests_dir, rule_folders=[rule_folder(settings)])
    if as_json:
        print_json({"ok": not problems, "problems": [p.to_dict() for p in problems]})
    elif problems:
        console.print(f"[bold red]{len(problems)} problem(s)[/]:")
        for problem in problems:
            console.print(f"  - {problem}", highlight=False, markup=False, soft_wrap=True)
    else:
        console.print("every model passes the checks", highlight=False)
    if problems:
        raise typer.Exit(1)
