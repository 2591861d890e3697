"""``haizhou airspace``: airspace security commands (空域安全): ``decode`` and ``evaluate``.

``haizhou airspace decode`` prints one JSON line per message exactly as
``shared/spec/airspace-decode.md`` defines (see ``docs/airspace.md``). Exit status: 0 when at
least one message decoded (or there was none), 1 when every message failed, 2 for a usage
error (unknown option, unreadable file, malformed ``--reference``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from haizhou.airspace.decode import StreamDecoder, parse_hex
from haizhou.cli._common import get_pseudonymiser

app = typer.Typer(
    help="Airspace security (空域安全): decode Remote ID and ADS-B broadcasts; evaluate scenarios.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class DecodeFormat(StrEnum):
    auto = "auto"
    astm = "astm"
    gb46750 = "gb46750"
    adsb = "adsb"


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def _parse_reference(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise _usage_error(
            f"--reference must be LAT,LON in decimal degrees, e.g. 34.6,119.2; got {text!r}."
        ) from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise _usage_error(
            f"--reference {text!r} is outside latitude -90..90 / longitude -180..180."
        )
    return lat, lon


def _file_lines(handle: TextIO) -> Iterator[str]:
    for line in handle:
        text = line.strip()
        if text and not text.startswith("#"):
            yield text


def _emit(out: dict[str, Any], given: str, write: Any) -> bool:
    """Write one JSON line; returns whether the message decoded."""
    ok = "error" not in out
    if not ok:
        out["input"] = given
    try:
        line = json.dumps(out, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a non-finite number must never reach the feed
        ok = False
        line = json.dumps({"error": "decoded value is not a finite number", "input": given})
    write(line + "\n")
    return ok


@app.callback()
def airspace() -> None:
    """Airspace security (空域安全) commands."""


@app.command()
def decode(
    messages: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="HEX...", help="Messages as hexadecimal digits, one message per argument."
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Read one hex message per line ('-' for stdin); blank and '#' lines skipped.",
        ),
    ] = None,
    format: Annotated[
        DecodeFormat,
        typer.Option(
            "--format",
            case_sensitive=False,
            help="Decoder: auto (by header and length), astm (F3411), gb46750, adsb.",
        ),
    ] = DecodeFormat.auto,
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            metavar="LAT,LON",
            help="Receiver position for local ADS-B CPR decoding, e.g. 34.6,119.2.",
        ),
    ] = None,
) -> None:
    """Decode Remote ID (ASTM F3411, GB 46750) and ADS-B messages to JSON Lines (报文解码).

    Prints one JSON object per message, in input order, on stdout. A message that cannot be decoded gives {"error": ..., "input": ...} and the stream goes on.

    Without --reference, ADS-B positions are resolved by pairing even/odd messages of each aircraft across the input. Exit status: 0 if any message decoded (or none was given), 1 if all failed, 2 for usage errors.
    """
    ref = _parse_reference(reference) if reference is not None else None
    if messages and file is not None:
        raise _usage_error("give HEX arguments or --file, not both.")
    if not messages and file is None:
        raise _usage_error("nothing to decode: give HEX arguments or --file FILE (or - for stdin).")
    decoder = StreamDecoder(format=format.value, reference=ref)
    stdout = sys.stdout
    write = stdout.write
    decoded = failed = 0

    def run(lines: Iterator[str] | list[str]) -> None:
        nonlocal decoded, failed
        for given in lines:
            text = given.strip()
            raw = parse_hex(text)
            if raw is None:
                out: dict[str, Any] = {
                    "error": "not a hex message: expected an even number of hex digits",
                }
            else:
                out = decoder.decode(raw)
            if _emit(out, text, write):
                decoded += 1
            else:
                failed += 1

    if file is None:
        run(messages or [])
    elif file == "-":
        run(_file_lines(sys.stdin))
    else:
        path = Path(file)
        try:
            handle = path.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise _usage_error(f"cannot read --file {file}: {exc.strerror or exc}.") from None
        with handle:
            try:
                run(_file_lines(handle))
            except OSError as exc:
                raise _usage_error(f"cannot read --file {file}: {exc.strerror or exc}.") from None
    stdout.flush()
    if failed and not decoded:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- evaluate
DEFAULT_MIXES: tuple[tuple[str, ...], ...] = (
    ("radar",),
    ("rf",),
    ("remote_id",),
    ("radar", "rf"),
    ("radar", "remote_id"),
    ("rf", "remote_id"),
    ("radar", "rf", "remote_id"),
    ("adsb", "radar", "remote_id", "rf"),
)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}{unit}" if abs(value) < 1000 else f"{value:.0f}{unit}"
    return f"{value}{unit}"


def _console() -> Any:
    from rich.console import Console

    # Piped output has no terminal width; keep the tables whole rather than 80 columns wide.
    return Console() if sys.stdout.isatty() else Console(width=180)


@app.command()
def evaluate(
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="A shipped scenario (stadium_match_day, school, mixed_sensors) or a TOML/JSON file.",
        ),
    ],
    sensors: Annotated[
        str | None,
        typer.Option(
            "--sensors", help="Sensor kinds to use, e.g. radar,rf,remote_id (default: all)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the simulation.")] = 0,
    compare_mixes: Annotated[
        bool, typer.Option("--compare-mixes", help="One row per sensor mix instead of one report.")
    ] = False,
    match_distance_m: Annotated[
        float, typer.Option("--match-distance-m", help="Truth-to-track match distance, metres.")
    ] = 100.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Effectiveness evaluation (效能评估) of detection, tracking, classification and counter.

    Simulates the scenario (seeded), runs the multi-sensor tracker, classifier, control rules and
    a simulated operator, and reports Pd against range, time to detect / classify, classification
    accuracy, false alarms per hour, MOTA, IDF1, HOTA, ID switches and time from detection to
    countermeasure. Exit status 2 for a bad scenario or option.
    """
    from haizhou.airspace.evaluation import evaluate as run_evaluation
    from haizhou.airspace.scenario import ScenarioError, load_scenario
    from haizhou.airspace.scenario.model import SENSOR_KINDS

    if not (math.isfinite(match_distance_m) and match_distance_m > 0):
        raise _usage_error(f"--match-distance-m must be > 0 metres; got {match_distance_m}.")
    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        raise _usage_error(str(exc)) from None
    kinds: tuple[str, ...] | None = None
    if sensors is not None:
        kinds = tuple(k.strip() for k in sensors.split(",") if k.strip())
        bad = [k for k in kinds if k not in SENSOR_KINDS]
        if bad or not kinds:
            raise _usage_error(
                f"--sensors {sensors!r}: unknown kind(s) {bad}; use a comma list of {', '.join(SENSOR_KINDS)}."
            )
    available = {s.kind for s in sc.sensors}
    if compare_mixes:
        mixes = [m for m in DEFAULT_MIXES if set(m) <= available]
        rows = []
        for mix in mixes:
            r = run_evaluation(sc, sensors=mix, seed=seed, match_distance_m=match_distance_m)
            d = r.as_dict()
            d.pop("countermeasures")
            rows.append(d)
        if as_json:
            typer.echo(
                json.dumps({"scenario": sc.name, "seed": seed, "mixes": rows}, ensure_ascii=False)
            )
            return
        from rich.table import Table

        table = Table(
            title=f"{sc.title_zh or sc.name} — 传感器组合对比 / sensor mixes (seed {seed})"
        )
        for col in (
            "sensors",
            "Pd<1km",
            "Pd 1-3km",
            "detect s",
            "classify s",
            "class acc",
            "FA/h",
            "MOTA",
            "IDF1",
            "HOTA",
            "ID sw",
            "det→counter s",
        ):
            table.add_column(col, justify="right")
        for d in rows:
            pd = {(b["from_m"], b["to_m"]): (b["pd"], b["samples"]) for b in d["pd_by_range"]}

            def pooled(edges: list[tuple[float, float]], pd: dict = pd) -> float | None:
                hit = sum((pd[e][0] or 0) * pd[e][1] for e in edges)
                n = sum(pd[e][1] for e in edges)
                return round(hit / n, 3) if n else None

            table.add_row(
                "+".join(d["sensors"]),
                _fmt(pooled([(0.0, 500.0), (500.0, 1000.0)])),
                _fmt(pooled([(1000.0, 1500.0), (1500.0, 2000.0), (2000.0, 3000.0)])),
                _fmt(d["time_to_detect_s"]),
                _fmt(d["time_to_classify_s"]),
                _fmt(d["classification_accuracy"]),
                _fmt(d["false_alarms_per_hour"]),
                _fmt(d["mota"]),
                _fmt(d["idf1"]),
                _fmt(d["hota"]),
                _fmt(d["id_switches"]),
                _fmt(d["detection_to_countermeasure_s"]),
            )
        _console().print(table)
        return
    if kinds is not None and not set(kinds) & available:
        raise _usage_error(
            f"scenario {sc.name!r} has no {', '.join(kinds)} sensor; it has {', '.join(sorted(available))}."
        )
    report = run_evaluation(sc, sensors=kinds, seed=seed, match_distance_m=match_distance_m)
    d = report.as_dict()
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False))
        return
    from rich.table import Table

    console = _console()
    console.print(
        f"[bold]{sc.title_zh or sc.name}[/bold] ({sc.title_en}) · sensors {'+'.join(d['sensors'])} · "
        f"seed {seed} · {sc.duration_s:.0f} s"
    )
    pd_table = Table(title="探测概率 / Pd vs range (drones)")
    pd_table.add_column("range m")
    pd_table.add_column("Pd", justify="right")
    pd_table.add_column("samples", justify="right")
    for b in d["pd_by_range"]:
        pd_table.add_row(f"{b['from_m']:.0f}-{b['to_m']:.0f}", _fmt(b["pd"]), str(b["samples"]))
    console.print(pd_table)
    figures = Table(title="效能指标 / figures")
    figures.add_column("figure")
    figures.add_column("value", justify="right")
    for label, key, unit in (
        ("time to detect 发现时间 (median)", "time_to_detect_s", " s"),
        ("time to classify 识别时间 (median)", "time_to_classify_s", " s"),
        ("classification accuracy 识别准确率", "classification_accuracy", ""),
        ("false alarms 虚警 per hour", "false_alarms_per_hour", ""),
        ("MOTA", "mota", ""),
        ("IDF1", "idf1", ""),
        ("HOTA", "hota", ""),
        ("ID switches 身份切换", "id_switches", ""),
        ("detection → countermeasure 侦测至反制 (median)", "detection_to_countermeasure_s", " s"),
    ):
        figures.add_row(label, _fmt(d[key], unit))
    figures.add_row(
        "objects detected / classified",
        f"{d['detected_objects']}/{d['classified_objects']} of {d['objects']}",
    )
    figures.add_row("countermeasure requests", str(len(d["countermeasures"])))
    console.print(figures)


# ----------------------------------------------------------------------------- live feeds
area_app = typer.Typer(help="The control register (管制登记): protected site, zones, permits.")
app.add_typer(area_app, name="area")


def _store(ctx: typer.Context) -> Any:
    from haizhou.cli._common import get_settings
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker

    url = get_settings(ctx).resolved_database_url
    migrate.upgrade(url)
    return make_sessionmaker(make_engine(url))


@area_app.command("load")
def area_load(
    ctx: typer.Context,
    scenario: Annotated[
        str,
        typer.Option(help="A shipped scenario name (e.g. stadium_match_day) or a scenario file."),
    ],
) -> None:
    """Replace the protected site and zones with a scenario's (permits are kept)."""
    from haizhou.airspace.scenario import ScenarioError
    from haizhou.feeds.area import save_scenario_area

    factory = _store(ctx)
    try:
        with factory() as session:
            n, name = save_scenario_area(session, scenario)
            session.commit()
    except ScenarioError as exc:
        raise _usage_error(str(exc)) from None
    typer.echo(f"site {name}: {n} zones loaded")


@area_app.command("permit")
def area_permit(
    ctx: typer.Context,
    permit_id: Annotated[str, typer.Option("--id", help="Permit number (许可编号).")],
    serial: Annotated[
        str, typer.Option(help="The drone's Remote ID serial (stored pseudonymised).")
    ],
    operator: Annotated[str, typer.Option(help="Operator unit or person (运营人).")],
    bbox: Annotated[str, typer.Option(help="Permitted area: min_lon,min_lat,max_lon,max_lat.")],
    valid_from: Annotated[str, typer.Option(help="ISO-8601 with zone.")],
    valid_to: Annotated[str, typer.Option(help="ISO-8601 with zone.")],
    min_alt_m: float = 0.0,
    max_alt_m: float = 120.0,
) -> None:
    """Register a flight permit (登记飞行许可)."""
    from datetime import datetime

    from haizhou.feeds.area import add_permit

    try:
        x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        start, end = datetime.fromisoformat(valid_from), datetime.fromisoformat(valid_to)
    except ValueError as exc:
        raise _usage_error(f"bad --bbox or time: {exc}") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise _usage_error("--valid-from and --valid-to need a time zone, e.g. +08:00")
    factory = _store(ctx)
    try:
        with factory() as session:
            add_permit(
                session,
                pseudonymiser=get_pseudonymiser(ctx),
                permit_id=permit_id,
                serial=serial,
                operator=operator,
                polygon=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
                valid_from=start,
                valid_to=end,
                min_alt_m=min_alt_m,
                max_alt_m=max_alt_m,
            )
            session.commit()
    except ValueError as exc:
        raise _usage_error(str(exc)) from None
    typer.echo(f"permit {permit_id} registered")


@app.command()
def run(
    ctx: typer.Context,
    mqtt_host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(help="MQTT broker port.")] = 1883,
    client_id: Annotated[
        str, typer.Option(help="MQTT client id; fixed, so the broker keeps the session.")
    ] = "haizhou-airspace",
    no_mqtt: Annotated[bool, typer.Option("--no-mqtt", help="HTTP messages only.")] = False,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until Ctrl-C).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each alert as a JSON line.")
    ] = False,
) -> None:
    """Run the live pipeline (实时处理): MQTT + HTTP messages → tracks → alerts, until stopped.

    Subscribes to haizhou/airspace/<sensor_id>/<kind> (QoS 1, persistent session), processes
    messages posted to POST /api/airspace/messages, and writes everything to the store.
    """
    import signal
    import threading
    import time

    from haizhou.feeds.area import AreaNotConfigured
    from haizhou.feeds.mqtt import MqttSubscriber
    from haizhou.feeds.runner import AirspaceRunner

    factory = _store(ctx)
    try:
        runner = AirspaceRunner(factory, get_pseudonymiser(ctx))
    except AreaNotConfigured as exc:
        raise _usage_error(str(exc)) from None

    def show(alert: Any, alert_id: int, at: Any) -> None:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "id": alert_id,
                        "kind": alert.kind,
                        "level": alert.level,
                        "title": alert.title,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"[{at:%H:%M:%S}] {alert.level.upper()} {alert.title}", err=True)

    runner.listeners.append(show)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    subscriber = None
    if not no_mqtt:
        subscriber = MqttSubscriber(mqtt_host, mqtt_port, runner.submit, client_id=client_id)
        subscriber.start()
    if seconds is not None:
        threading.Timer(seconds, stop.set).start()
    typer.echo(f"airspace run {runner.run_id}: listening (Ctrl-C to stop)", err=True)
    started = time.monotonic()
    try:
        runner.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        if subscriber is not None:
            subscriber.stop()
    s = runner.stats
    typer.echo(
        f"{s.messages} messages ({s.errors} not decodable), {s.alerts} alerts in "
        f"{time.monotonic() - started:.0f} s",
        err=True,
    )
