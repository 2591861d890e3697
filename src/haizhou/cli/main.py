"""The ``haizhou`` command: one Typer app, one module per command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haizhou import __version__
from haizhou.cli import (
    airspace,
    analytics,
    audit,
    backup,
    coverage,
    db,
    demo,
    forecast,
    fraud,
    importing,
    linkage,
    models,
    population,
    report,
    serve,
    sim,
    streams,
    tasks,
    users,
    video,
    worker,
)

app = typer.Typer(
    name="haizhou",
    help=(
        "Haizhou (海州) — data-driven public safety for a police bureau.\n\n"
        "Start with `haizhou demo`: it builds a synthetic city in the embedded store and serves "
        "the platform. Settings come from HAIZHOU_* environment variables (see `--help` of each "
        "command) or --config FILE."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"haizhou {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Data folder (store, keys, quarantine). Env: HAIZHOU_DATA_DIR."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL; default SQLite in the data folder. Env: HAIZHOU_DATABASE_URL."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML or YAML settings file. Env: HAIZHOU_CONFIG.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = {"data_dir": data_dir, "database_url": database_url, "config": config}


app.add_typer(db.app, name="db")
app.add_typer(sim.app, name="sim")
app.add_typer(importing.app, name="import")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(models.app, name="models")
app.add_typer(models.plugins_app, name="plugins")
app.add_typer(airspace.app, name="airspace")
airspace.app.command(name="video")(video.video)
app.add_typer(tasks.app, name="instructions")
app.add_typer(tasks.kpis_app, name="kpis")
app.add_typer(tasks.supervision_app, name="supervision")
app.add_typer(coverage.app, name="coverage")
app.add_typer(population.app, name="population")
app.add_typer(fraud.app, name="fraud")
app.add_typer(report.app, name="report")
app.add_typer(forecast.app, name="forecast")
app.add_typer(linkage.app, name="linkage")
app.add_typer(streams.app, name="stream")
app.add_typer(worker.jobs_app, name="jobs")
serve.register(app)
worker.register(app)
backup.register(app)
demo.register(app)
analytics.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
