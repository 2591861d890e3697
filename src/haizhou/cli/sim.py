"""``haizhou sim``: generate the synthetic city and write it as importable files (模拟城市)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from haizhou.cli._common import console, friendly_errors, print_json
from haizhou.errors import HaizhouError

if TYPE_CHECKING:
    from haizhou.sim import City

app = typer.Typer(
    help="Generate the synthetic Haizhou district (模拟城市) with ground truth.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _parse_start(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise HaizhouError(f"--start must be a date like 2024-01-01; got {value!r}.") from None


@app.callback(invoke_without_command=True)
@friendly_errors
def sim(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the city into (created if needed).")
    ],
    scale: Annotated[
        float,
        typer.Option(
            help="City size: 1.0 ≈ 100,000 incidents a year; 0.05 for tests; 10 for benchmarks."
        ),
    ] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Seed: the same flags give the same files, byte for byte.")
    ] = 20240101,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD), local time.")] = "2024-01-01",
    days: Annotated[int, typer.Option(help="Number of days.")] = 730,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary instead of tables.")
    ] = False,
) -> None:
    """Generate the synthetic city and write its CSV/GeoJSON/Parquet files and ground truth.

    Writes jurisdictions, roads, places, incidents, cases, sensors, persons, sightings and drone
    scenarios as the importers read them, the ground truth under ``truth/`` and a
    ``manifest.json`` with the SHA-256 of every file.
    """
    from haizhou.sim import CityConfig, generate_city, write_city

    try:
        config = CityConfig(scale=scale, seed=seed, start=_parse_start(start), days=days)
    except ValueError as exc:
        raise HaizhouError(str(exc)) from None
    if out.exists() and not out.is_dir():
        raise HaizhouError(f"--out {out} is a file; give a folder.")

    if as_json:
        city = generate_city(config)
        files = write_city(city, out)
    else:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("generating", total=1.0)

            def _report(stage: str, fraction: float) -> None:
                bar.update(task, completed=0.9 * fraction, description=stage)

            city = generate_city(config, progress=_report)
            bar.update(task, description="writing", completed=0.9)
            files = write_city(city, out)
            bar.update(task, description="written", completed=1.0)

    rows = _file_rows(city, files)
    counts = {name: n for name, n, _size in rows if n is not None}
    if as_json:
        print_json(
            {
                "out": str(out),
                "config": config.to_dict(),
                "files": {name: str(path) for name, path in files.items()},
                "counts": counts,
            }
        )
        return
    table = Table(title=f"Synthetic city (模拟城市) → {out}")
    table.add_column("file")
    table.add_column("records", justify="right")
    table.add_column("bytes", justify="right")
    for name, n_records, size in rows:
        table.add_row(name, "" if n_records is None else f"{n_records:,}", f"{size:,}")
    console.print(table)


def _file_rows(city: City, files: dict[str, Path]) -> list[tuple[str, int | None, int]]:
    t = city.truth
    records = {
        "jurisdictions.geojson": len(city.jurisdictions["features"]),
        "roads.geojson": len(city.roads["features"]),
        "pois.geojson": len(city.pois["features"]),
        "incidents.csv": len(city.incidents),
        "cases.csv": len(city.cases),
        "sensors.csv": len(city.sensors),
        "persons.csv": len(city.persons),
        "sightings.parquet": len(city.sightings),
        "drone_scenarios.json": sum(len(s["objects"]) for s in city.drone_scenarios["scenarios"]),
        "truth/hotspots.geojson": len(t.hotspots["features"]),
        "truth/surges.csv": len(t.surges),
        "truth/offenders.csv": len(t.offenders),
        "truth/offender_profiles.csv": len(t.offender_profiles),
        "truth/repeat_addresses.csv": len(t.repeat_addresses),
        "truth/floating_residents.csv": len(t.floating_residents),
        "truth/fraud_risk.csv": len(t.fraud_risk),
        "truth/fraud_types.csv": len(t.fraud_types),
        "truth/near_repeat.csv": len(t.near_repeat),
        "truth/burglary_branching.csv": len(t.burglary_branching),
        "truth/incident_origins.csv": len(t.incident_origins),
    }
    return [(name, records.get(name), path.stat().st_size) for name, path in files.items()]
