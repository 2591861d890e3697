"""``haizhou import``: load incidents, cases, jurisdictions, sensors or persons from a file.

Each kind is one sub-command with the same options (数据导入). Bad rows never stop an import:
they go to the quarantine table and a CSV under ``<data_dir>/quarantine/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from haizhou.cli._common import console, existing_file, friendly_errors, get_settings, print_json
from haizhou.ingest import CRS_CHOICES, ImportSummary, import_file
from haizhou.ingest.mapping import parse_map_flags
from haizhou.store import migrate
from haizhou.store.engine import make_engine

app = typer.Typer(
    help=(
        "Import records from CSV (UTF-8 or GBK), Excel, Parquet, GeoJSON or GeoPackage "
        "(数据导入). Import jurisdictions first: they define the bureau's area. "
        "See docs/data-formats.md for columns and Chinese header aliases."
    ),
    no_args_is_help=True,
)

_KIND_HELP = {
    "incidents": "Calls for service (警情): incident_id, reported_at, category, lon, lat, ...",
    "cases": "Recorded crimes (案件): case_id, category, occurred_from/to, lon, lat, MO, ...",
    "jurisdictions": "Station areas (辖区): code, name, station, parent_code, polygon geometry.",
    "sensors": "Sensing points (感知点位): sensor_id, kind, lon, lat, range_m, heading, ...",
    "persons": "Resident population (实有人口): id_number, registration, residence, ...",
    "fraud_warnings": "Fraud early warnings (反诈预警): warning_id, warned_at, kind, id_number, ...",
}

FileArg = Annotated[
    Path,
    typer.Argument(help="The file: .csv/.txt/.tsv, .xlsx/.xls, .parquet, .geojson/.json, .gpkg"),
]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", help="Name of the source system; default: the file name without suffix."
    ),
]
CrsOpt = Annotated[
    str,
    typer.Option(
        "--crs", help="Datum of the coordinates: wgs84, gcj02 (高德/腾讯) or bd09 (百度)."
    ),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Column mapping canonical=header, repeatable, e.g. --map reported_at=接报时间.",
    ),
]
MappingOpt = Annotated[
    Path | None, typer.Option("--mapping", help="YAML file with 'columns: {canonical: header}'.")
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="Force the text encoding (default: detect UTF-8/GB18030)."),
]
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help="Excel sheet name or 0-based number.")
]
LayerOpt = Annotated[str | None, typer.Option("--layer", help="GeoPackage layer name.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Rows per transaction.")]
AreaOpt = Annotated[
    bool,
    typer.Option(
        "--area-check/--no-area-check",
        help="Quarantine points outside the loaded jurisdictions (default), or keep them unowned.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the summary.")]


def _run(
    ctx: typer.Context,
    kind: str,
    file: Path,
    source: str | None,
    crs: str,
    map_: list[str] | None,
    mapping: Path | None,
    encoding: str | None,
    sheet: str | None,
    layer: str | None,
    batch_size: int,
    area_check: bool,
    as_json: bool,
) -> None:
    settings = get_settings(ctx)
    existing_file(file)
    if mapping is not None:
        existing_file(mapping)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    engine = make_engine(url)
    kwargs = {
        "engine": engine,
        "data_dir": settings.data_dir,
        "timezone": settings.timezone,
        "pseudonym_key": settings.pseudonym_key,
        "source": source,
        "crs": crs.lower(),
        "column_map": parse_map_flags(map_ or []),
        "mapping_file": mapping,
        "encoding": encoding,
        "sheet": int(sheet) if sheet is not None and sheet.isdigit() else sheet,
        "layer": layer,
        "batch_size": batch_size,
        "area_check": area_check,
    }
    try:
        if as_json or not console.is_terminal:
            summary = import_file(kind, file, **kwargs)
        else:
            with Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f} rows"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task(f"Importing {kind} from {file.name}", total=None)
                summary = import_file(
                    kind, file, progress=lambda n: progress.update(task, completed=n), **kwargs
                )
    finally:
        engine.dispose()
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


def _print_summary(summary: ImportSummary) -> None:
    console.print(
        f"[bold]{summary.kind}[/] from {Path(summary.file).name} (source {summary.source!r}): "
        f"{summary.rows:,} rows read, [green]{summary.accepted:,} accepted[/], "
        f"{summary.skipped_duplicates:,} duplicates skipped, "
        f"[{'red' if summary.quarantined else 'green'}]{summary.quarantined:,} quarantined[/] "
        f"in {summary.seconds:.1f} s.",
        highlight=False,
    )
    if summary.quarantine_file:
        console.print(f"Rejected rows and reasons: {summary.quarantine_file}", highlight=False)


def _register(kind: str) -> None:
    def command(
        ctx: typer.Context,
        file: FileArg,
        source: SourceOpt = None,
        crs: CrsOpt = "wgs84",
        map_: MapOpt = None,
        mapping: MappingOpt = None,
        encoding: EncodingOpt = None,
        sheet: SheetOpt = None,
        layer: LayerOpt = None,
        batch_size: BatchOpt = 100_000,
        area_check: AreaOpt = True,
        as_json: JsonOpt = False,
    ) -> None:
        if crs.lower() not in CRS_CHOICES:
            raise typer.BadParameter(f"use one of {', '.join(CRS_CHOICES)}", param_hint="--crs")
        _run(
            ctx,
            kind,
            file,
            source,
            crs,
            map_,
            mapping,
            encoding,
            sheet,
            layer,
            batch_size,
            area_check,
            as_json,
        )

    command.__doc__ = _KIND_HELP[kind]
    app.command(kind, help=_KIND_HELP[kind])(friendly_errors(command))


for _kind in _KIND_HELP:
    _register(_kind)
