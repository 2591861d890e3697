"""``haizhou report`` (报告): daily inspection, weekly bulletin, monthly assessment.

``haizhou report daily|weekly|monthly --date YYYY-MM-DD --format pdf|html --lang zh|en --out PATH``
builds one report on demand; ``haizhou report scheduled`` builds the reports due on a day
(every day the daily inspection of yesterday; on Mondays the weekly bulletin of last week; on
the 1st the monthly assessment of last month), for a daily timer (cron or systemd) to run.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from haizhou.cli._common import console, friendly_errors, get_settings, print_json
from haizhou.errors import HaizhouError
from haizhou.settings import Settings

app = typer.Typer(
    help="Reports (报告): daily inspection (日巡查), weekly bulletin (周通报), monthly "
    "assessment (月研判), as HTML or PDF, in Chinese (default) or English.",
    no_args_is_help=True,
)

DateOption = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="A local day in the period (daily: the day inspected). Default: yesterday in the "
        "bureau's zone.",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", help="pdf or html.")]
LangOption = Annotated[str, typer.Option("--lang", help="zh (中文, default) or en.")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Output file. Default: <data dir>/reports/<kind>-<date>.<format>."),
]
ScopeOption = Annotated[
    list[str] | None,
    typer.Option("--scope", help="Only these jurisdiction codes (repeat the option); default all."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _parse_day(text: str | None, settings: Settings) -> date:
    if text is None:
        return (datetime.now(settings.zone) - timedelta(days=1)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HaizhouError(
            f"--date {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14"
        ) from None


def _check_choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise HaizhouError(f"{option} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _generate(
    ctx: typer.Context,
    kind: str,
    *,
    day_text: str | None,
    fmt: str,
    lang: str,
    out: Path | None,
    scope: list[str] | None,
) -> dict[str, Any]:
    from haizhou.reports.i18n import LANGUAGES
    from haizhou.reports.render import FORMATS, build_report
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker

    settings = get_settings(ctx)
    day = _parse_day(day_text, settings)
    _check_choice(fmt, FORMATS, "--format")
    _check_choice(lang, LANGUAGES, "--lang")
    url = settings.resolved_database_url
    migrate.upgrade(url)
    sessions = make_sessionmaker(make_engine(url))
    path = out or settings.data_dir / "reports" / f"{kind}-{day.isoformat()}-{lang}.{fmt}"
    with sessions() as session:
        report = build_report(
            kind,
            session=session,
            scope=scope or None,
            date=day,
            fmt=fmt,
            lang=lang,
            zone=settings.timezone,
            generated_at=datetime.now(settings.zone),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report.content)
    for warning in report.warnings:
        console.print(f"[bold yellow]Warning:[/] {warning}", highlight=False)
    header = report.data.header
    return {
        "kind": kind,
        "format": fmt,
        "lang": lang,
        "path": str(path),
        "bytes": len(report.content),
        "start": header.start.isoformat(),
        "end": header.end.isoformat(),
        "models": [{"model_id": m.model_id, "version": m.version} for m in report.data.models],
        "warnings": list(report.warnings),
    }


def _command(kind: str, title: str) -> Any:
    @friendly_errors
    def command(
        ctx: typer.Context,
        day: DateOption = None,
        fmt: FormatOption = "pdf",
        lang: LangOption = "zh",
        out: OutOption = None,
        scope: ScopeOption = None,
        as_json: JsonOption = False,
    ) -> None:
        summary = _generate(ctx, kind, day_text=day, fmt=fmt, lang=lang, out=out, scope=scope)
        if as_json:
            print_json(summary)
        else:
            console.print(f"{title}: [bold]{summary['path']}[/] ({summary['bytes']:,} bytes)")

    command.__doc__ = f"Build the {title}."
    return command


app.command("daily")(_command("daily", "daily inspection (日巡查) of one day"))
app.command("weekly")(_command("weekly", "weekly bulletin (周通报) of the week holding --date"))
app.command("monthly")(
    _command("monthly", "monthly assessment (月研判) of the month holding --date")
)


def due_reports(today: date) -> list[tuple[str, date]]:
    """The reports due on ``today`` and the day each reports on (定时报告).

    Every day the daily inspection of yesterday; on Mondays the weekly bulletin of the week
    that just ended; on the 1st the monthly assessment of the month that just ended.

    Examples
    --------
    >>> due_reports(date(2025, 3, 3))  # a Monday, and the 3rd
    [('daily', datetime.date(2025, 3, 2)), ('weekly', datetime.date(2025, 3, 2))]
    """
    yesterday = today - timedelta(days=1)
    due = [("daily", yesterday)]
    if today.weekday() == 0:
        due.append(("weekly", yesterday))
    if today.day == 1:
        due.append(("monthly", yesterday))
    return due


@app.command("scheduled")
@friendly_errors
def scheduled(
    ctx: typer.Context,
    day: Annotated[
        str | None,
        typer.Option("--today", help="The day the schedule runs on (default today, local)."),
    ] = None,
    fmt: FormatOption = "pdf",
    lang: LangOption = "zh",
    out_dir: Annotated[
        Path | None, typer.Option("--out-dir", help="Folder; default <data dir>/reports.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Build every report due today (run once a day from cron or a systemd timer)."""
    settings = get_settings(ctx)
    today = datetime.now(settings.zone).date() if day is None else _parse_day(day, settings)
    folder = out_dir or settings.data_dir / "reports"
    done = []
    for kind, report_day in due_reports(today):
        path = folder / f"{kind}-{report_day.isoformat()}-{lang}.{fmt}"
        done.append(
            _generate(
                ctx, kind, day_text=report_day.isoformat(), fmt=fmt, lang=lang, out=path, scope=None
            )
        )
    if as_json:
        print_json({"today": today.isoformat(), "reports": done})
    else:
        for item in done:
            console.print(f"{item['kind']}: [bold]{item['path']}[/]")
