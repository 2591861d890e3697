"""``haizhou worker`` and ``haizhou jobs``: the job queue from the command line (后台作业).

``haizhou jobs submit KIND -p key=value ...`` records a job and puts it on the NATS JetStream
queue; ``haizhou worker`` pulls jobs and runs them (start several for more throughput);
``haizhou jobs list | status ID | depth`` show what happened.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError
from haizhou.jobs import KINDS, Job, JobEnvironment, QueueConfig, client, records
from haizhou.jobs.logs import configure_logging
from haizhou.jobs.worker import default_worker_name, run_worker
from haizhou.settings import Settings
from haizhou.store import migrate
from haizhou.store.engine import make_engine, make_sessionmaker

jobs_app = typer.Typer(
    help="Background jobs (后台作业): submit imports, model runs and reports to the queue; "
    "list them and see their status. `haizhou worker` runs them.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
AckWaitOption = Annotated[
    float,
    typer.Option(
        "--ack-wait",
        min=0.5,
        help="Seconds without a progress signal before a delivered job goes to another worker.",
    ),
]
MaxDeliverOption = Annotated[
    int, typer.Option("--max-deliver", min=1, help="Deliveries of a job before it is failed.")
]


def queue_config(settings: Settings, ack_wait: float = 30.0, max_deliver: int = 5) -> QueueConfig:
    return QueueConfig(
        url=settings.nats_url,
        name=settings.job_queue,
        ack_wait_s=ack_wait,
        max_deliver=max_deliver,
    )


def parse_job_params(values: list[str] | None) -> dict[str, Any]:
    """``-p key=value`` (value read as JSON when it parses, else text) or ``-p '{...}'``."""
    params: dict[str, Any] = {}
    for item in values or []:
        text = item.strip()
        if text.startswith("{"):
            try:
                params.update(json.loads(text))
            except json.JSONDecodeError as exc:
                raise HaizhouError(f"--param {text!r} is not a JSON object: {exc.msg}") from None
            continue
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise HaizhouError(f"--param {item!r}: write key=value, e.g. -p model_id=rules.x")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value
    return params


def _sessions(settings: Settings) -> Any:
    url = settings.resolved_database_url
    migrate.upgrade(url)
    return make_sessionmaker(make_engine(url))


@jobs_app.command("submit")
@friendly_errors
def submit_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=f"Job kind: {', '.join(KINDS)}.")],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="Parameter key=value or a JSON object, repeatable. import: kind, path; model: "
            "model_id, start, end; report: kind, date, format, lang.",
        ),
    ] = None,
    job_id: Annotated[
        str | None, typer.Option("--id", help="Job id (default: random); a repeat is refused.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a job and put it on the queue; prints its id."""
    settings = get_settings(ctx)
    params = parse_job_params(param)
    if kind == "import" and "path" in params:
        params["path"] = str(Path(str(params["path"])).resolve())
    job = Job(id=job_id, kind=kind, params=params) if job_id else Job.new(kind, params)
    sessions = _sessions(settings)
    seq = client.submit(queue_config(settings), sessions, [job], submitted_by="cli")
    if as_json:
        print_json({"id": job.id, "kind": job.kind, "params": job.params, "seq": seq[0]})
    else:
        console.print(f"queued job [bold]{job.id}[/] ({kind})", highlight=False)


@jobs_app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="queued, running, done or failed.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The most recent jobs, newest first."""
    sessions = _sessions(get_settings(ctx))
    with sessions() as session:
        jobs = records.list_jobs(session, status=status, kind=kind, limit=limit)
    if as_json:
        print_json([job.to_dict() for job in jobs])
        return
    table = Table()
    for column in ("id", "kind", "status", "attempts", "submitted", "seconds", "error"):
        table.add_column(column)
    for job in jobs:
        table.add_row(
            job.id,
            job.kind,
            job.status,
            str(job.attempts),
            job.submitted_at.isoformat(timespec="seconds"),
            f"{job.duration_s:.1f}" if job.duration_s is not None else "",
            (job.error or "")[:60],
        )
    console.print(table)


@jobs_app.command("status")
@friendly_errors
def status_command(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id `jobs submit` printed.")],
) -> None:
    """One job as JSON: status, attempts, timing, result or error."""
    sessions = _sessions(get_settings(ctx))
    with sessions() as session:
        print_json(records.get(session, job_id).to_dict())


@jobs_app.command("depth")
@friendly_errors
def depth_command(ctx: typer.Context) -> None:
    """Jobs waiting on the queue and delivered but not yet acknowledged, as JSON."""
    print_json(client.depth(queue_config(get_settings(ctx))))


def register(app: typer.Typer) -> None:
    """Add ``haizhou worker`` to the root app."""

    @app.command("worker")
    @friendly_errors
    def worker_command(
        ctx: typer.Context,
        name: Annotated[
            str | None, typer.Option(help="Worker name in the job records; default host:pid.")
        ] = None,
        ack_wait: AckWaitOption = 30.0,
        max_deliver: MaxDeliverOption = 5,
        max_jobs: Annotated[
            int | None, typer.Option(min=1, help="Exit after this many deliveries.")
        ] = None,
        idle_exit: Annotated[
            float | None,
            typer.Option(help="Exit after the queue stayed empty this many seconds."),
        ] = None,
        metrics_port: Annotated[
            int | None,
            typer.Option(help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT."),
        ] = None,
    ) -> None:
        """Pull jobs from the queue and run them until stopped (SIGTERM/Ctrl-C finishes the
        current job first). Run several for throughput; each job takes effect once."""
        settings = get_settings(ctx)
        configure_logging(settings.log_format)
        url = settings.resolved_database_url
        migrate.upgrade(url)
        engine = make_engine(url)
        env = JobEnvironment(
            engine=engine,
            data_dir=settings.data_dir,
            timezone=settings.timezone,
            pseudonym_key=settings.pseudonym_key,
            rule_folders=(settings.data_dir / "models",),
        )
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr="127.0.0.1")
        worker_name = name or default_worker_name()
        console.print(f"worker {worker_name} on {settings.nats_url}", highlight=False)

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            return await run_worker(
                queue_config(settings, ack_wait, max_deliver),
                sessions=make_sessionmaker(engine),
                env=env,
                worker=worker_name,
                stop=stop,
                max_jobs=max_jobs,
                idle_exit_s=idle_exit,
            )

        try:
            handled = asyncio.run(main())
        finally:
            engine.dispose()
        console.print(f"worker {worker_name} stopped after {handled} deliveries", highlight=False)
