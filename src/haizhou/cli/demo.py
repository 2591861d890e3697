"""``haizhou demo``: the synthetic city in the embedded store, demo accounts, and the server."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haizhou.cli._common import console, friendly_errors, get_settings, print_json

# Import order: polygons first (they define the bureau's area), then everything placed in it.
IMPORT_ORDER = (
    ("jurisdictions", "jurisdictions.geojson"),
    ("sensors", "sensors.csv"),
    ("persons", "persons.csv"),
    ("incidents", "incidents.csv"),
    ("cases", "cases.csv"),
    ("fraud_warnings", "fraud_warnings.csv"),
)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the root app."""
    app.command("demo")(demo)


@friendly_errors
def demo(
    ctx: typer.Context,
    scale: Annotated[float, typer.Option(help="City size: 1.0 ≈ 100,000 incidents a year.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic city.")] = 20240101,
    days: Annotated[int, typer.Option(help="Days of history from 2024-01-01.")] = 730,
    fresh: Annotated[
        bool, typer.Option(help="Rebuild the city even if the store has one.")
    ] = False,
    serve: Annotated[bool, typer.Option(help="Serve the platform when ready.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    run_models: Annotated[
        bool, typer.Option(help="Run every built-in model on the city (研判模型) after the import.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Build the synthetic Haizhou district into the store and serve it (演示).

    Generates the city (`haizhou sim`), imports its files through the same importers a bureau
    uses (`haizhou import`), creates one demo account per role, runs every built-in model on
    the last day of the city so the store holds their findings, and serves the web platform.
    Run again and it reuses what is there (models already run for that day are skipped);
    `--fresh` rebuilds.
    """
    from datetime import date

    from haizhou.ingest import import_file
    from haizhou.security.pseudonym import load_or_create_key
    from haizhou.sim import CityConfig, generate_city, write_city
    from haizhou.store.engine import make_engine
    from haizhou.store.migrate import upgrade

    settings = get_settings(ctx)
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    summary: dict[str, Any] = {
        "database": url.split("://", 1)[0],
        "data_dir": str(settings.data_dir),
    }

    city_dir = settings.data_dir / "city"
    manifest = city_dir / "manifest.json"
    config = CityConfig(scale=scale, seed=seed, start=date(2024, 1, 1), days=days)
    wanted = {"scale": scale, "seed": seed, "days": days}
    have = (
        json.loads(manifest.read_text(encoding="utf-8")).get("config", {})
        if manifest.exists()
        else {}
    )
    if fresh or not manifest.exists() or any(have.get(k) != v for k, v in wanted.items()):
        console.print(
            f"[bold]Generating the synthetic city[/] (scale {scale}, seed {seed}, {days} days)…"
        )
        city = generate_city(config)
        write_city(city, city_dir)

    key = load_or_create_key(settings.data_dir, settings.pseudonym_key)
    imports: dict[str, Any] = {}
    for kind, name in IMPORT_ORDER:
        result = import_file(
            kind,
            city_dir / name,
            engine=engine,
            data_dir=settings.data_dir,
            pseudonym_key=key,
            timezone=settings.timezone,
            source="sim",
            progress=not as_json,
        )
        imports[kind] = _summary_dict(result)
    summary["imports"] = imports
    summary["accounts"] = _demo_accounts(engine, settings.data_dir)
    if run_models:
        summary["models"] = _run_models(engine, config, settings, progress=not as_json)

    if as_json:
        print_json(summary)
    else:
        _print_summary(summary, host, port)
    if serve:
        from haizhou.cli.serve import run_server

        run_server(settings, host=host, port=port)


def _run_models(engine: Any, config: Any, settings: Any, *, progress: bool) -> list[dict[str, Any]]:
    """Run every built-in model as of the morning after the city's last day.

    A model already run (ok) for the same window is skipped, so a second ``demo`` adds no
    duplicate findings. A model that fails is reported, never fatal: the demo still serves.
    """
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from haizhou.models.context import RunContext, local_midnight
    from haizhou.models.registry import discover
    from haizhou.models.runner import list_runs, run_model
    from haizhou.models.scheduler import default_window

    zone = settings.zone
    now = local_midnight(config.start + timedelta(days=config.days), zone)
    registry = discover(entry_points=False, packaged_rules=False)
    models = [m for m in registry if m.source == "builtin"]
    out: list[dict[str, Any]] = []
    for model in models:
        window = default_window(model.spec.schedule, now=now, zone=zone)
        with Session(engine) as session:
            done = [
                r
                for r in list_runs(session=session, model_id=model.id, limit=20)
                if r.status == "ok" and r.window == window
            ]
            if done:
                out.append(
                    {"model": model.id, "status": "skipped", "n_findings": done[0].n_findings}
                )
                continue
            if progress:
                console.print(f"Running model [bold]{model.id}[/] ({model.spec.title_zh})…")
            context = RunContext(session=session, scope=None, now=now, window=window, zone=zone)
            record = run_model(model, params={}, context=context)
            session.commit()
        out.append(
            {
                "model": model.id,
                "status": record.status,
                "n_findings": record.n_findings,
                "duration_s": round(record.duration_s, 3),
                **({"error": record.error} if record.error else {}),
            }
        )
    return out


def _summary_dict(result: Any) -> dict[str, Any]:
    if hasattr(result, "to_dict"):
        return result.to_dict()
    return dict(vars(result))


def _demo_accounts(engine: Any, data_dir: Path) -> list[dict[str, str]]:
    """One account per role; passwords are random, kept (mode 0600) in the data folder."""
    from sqlalchemy.orm import Session

    from haizhou.security.roles import Role
    from haizhou.security.users import create_user, list_users

    path = data_dir / "demo-accounts.json"
    accounts: list[dict[str, str]] = (
        json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    )
    with Session(engine) as session:
        existing = {user.username for user in list_users(session=session)}
        known = {a["username"] for a in accounts}
        for role in Role:
            username = f"demo_{role.value}"
            if username in existing and username in known:
                continue
            if username in existing:  # created elsewhere, password unknown: leave it alone
                continue
            password = secrets.token_urlsafe(12)
            jurisdiction = None if role is not Role.STATION_OFFICER else _first_station(session)
            create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                jurisdiction_code=jurisdiction,
            )
            accounts = [a for a in accounts if a["username"] != username]
            accounts.append(
                {
                    "username": username,
                    "password": password,
                    "role": role.value,
                    "jurisdiction": jurisdiction or "全局",
                }
            )
        session.commit()
    path.write_text(json.dumps(accounts, ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return accounts


def _first_station(session: Any) -> str | None:
    from sqlalchemy import select

    from haizhou.store.tables import JurisdictionRow

    return session.scalar(
        select(JurisdictionRow.code)
        .where(JurisdictionRow.parent_code.is_not(None))
        .order_by(JurisdictionRow.code)
    )


def _print_summary(summary: dict[str, Any], host: str, port: int) -> None:
    table = Table(title="Imported (导入)")
    for column in ("kind", "accepted", "quarantined", "skipped_duplicates"):
        table.add_column(column, justify="right" if column != "kind" else "left")
    for kind, result in summary["imports"].items():
        table.add_row(
            kind,
            str(result.get("accepted", "")),
            str(result.get("quarantined", "")),
            str(result.get("skipped_duplicates", "")),
        )
    console.print(table)
    accounts = Table(title="Demo log-ins (演示账号)")
    for column in ("username", "password", "role", "jurisdiction"):
        accounts.add_column(column)
    for account in summary["accounts"]:
        accounts.add_row(
            account["username"], account["password"], account["role"], account["jurisdiction"]
        )
    console.print(accounts)
    if summary.get("models"):
        models = Table(title="Models run (研判模型)")
        for column in ("model", "status", "findings", "seconds"):
            models.add_column(column, justify="left" if column in ("model", "status") else "right")
        for m in summary["models"]:
            models.add_row(
                m["model"], m["status"], str(m["n_findings"]), f"{m.get('duration_s', 0):.1f}"
            )
        console.print(models)
    console.print(f"Open http://{host}:{port} and log in with one of the accounts above.")
