"""``haizhou stream``: event streams over NATS JetStream (事件流): bridge, consume, publish, stats.

* ``haizhou stream bridge`` — MQTT devices → JetStream (PUBACK to the device after the PubAck);
* ``haizhou stream consume --kind sightings|airspace`` — a durable pull consumer writing to the
  store (run several for sightings: they share the work);
* ``haizhou stream publish-synthetic`` — synthetic load for demos and benchmarks;
* ``haizhou stream stats`` — stored messages and consumer positions.

The NATS URL is ``HAIZHOU_NATS_URL`` (settings ``nats_url``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from enum import StrEnum
from typing import Annotated, Any

import typer

from haizhou.cli._common import (
    console,
    friendly_errors,
    get_pseudonymiser,
    get_settings,
    print_json,
)

app = typer.Typer(
    help="Event streams over NATS JetStream (事件流): bridge, consume, publish-synthetic, stats.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

RootOpt = Annotated[
    str, typer.Option(help="Stream root: names streams <ROOT>_SIGHTINGS/_AIRSPACE and subjects.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Kind(StrEnum):
    sightings = "sightings"
    airspace = "airspace"


def _config(ctx: typer.Context, root: str) -> Any:
    from haizhou.streams.config import StreamsConfig

    return StreamsConfig(url=get_settings(ctx).nats_url, root=root)


def _stop_event(seconds: float | None) -> asyncio.Event:
    """Set on SIGTERM/SIGINT or after ``seconds``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if seconds is not None:
        loop.call_later(seconds, stop.set)
    return stop


@app.command()
@friendly_errors
def bridge(
    ctx: typer.Context,
    area: Annotated[str, typer.Option(help="Area of the airspace sensors on this broker.")] = (
        "default"
    ),
    mqtt_host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(help="MQTT broker port.")] = 1883,
    client_id: Annotated[
        str, typer.Option(help="Fixed MQTT client id (the broker keeps the session).")
    ] = "haizhou-bridge",
    topic_root: Annotated[str, typer.Option(help="First MQTT topic level.")] = "haizhou",
    root: RootOpt = "haizhou",
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Bridge MQTT haizhou/sightings/<area> and haizhou/airspace/<sensor>/<kind> to JetStream."""
    from haizhou.streams.bridge import MqttBridge
    from haizhou.streams.publisher import Publisher

    settings = get_settings(ctx)
    config = _config(ctx, root)

    async def main() -> dict[str, int]:
        stop = _stop_event(seconds)
        async with Publisher(config) as pub:
            b = MqttBridge(
                pub,
                get_pseudonymiser(ctx),
                host=mqtt_host,
                port=mqtt_port,
                area=area,
                zone=settings.timezone,
                client_id=client_id,
                topic_root=topic_root,
            )
            ready = f"bridging MQTT {mqtt_host}:{mqtt_port} → {config.url} (Ctrl-C to stop)"
            return (await b.run(stop, on_ready=lambda: typer.echo(ready, err=True))).to_dict()

    out = asyncio.run(main())
    print_json(out) if as_json else console.print(out)


@app.command()
@friendly_errors
def consume(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Option(help="Which stream.")] = Kind.sightings,
    area: Annotated[str, typer.Option(help="One area, or '*' for all.")] = "*",
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per fetch.")] = 500,
    root: RootOpt = "haizhou",
    seconds: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Consume a stream into the store; ack after commit (durable <root>-<kind>-<area>)."""
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker
    from haizhou.streams.consumer import AirspaceHandler, SightingsHandler, StreamConsumer

    settings = get_settings(ctx)
    url = settings.resolved_database_url
    migrate.upgrade(url)
    # No ping per batch (a round trip each, 6 % of the airspace consumer's time): a batch that
    # meets a dead connection fails, is redelivered, and the next one connects afresh.
    engine = make_engine(url, pool_pre_ping=False)
    sessions = make_sessionmaker(engine)
    handler: Any
    if kind is Kind.sightings:
        handler = SightingsHandler(sessions, get_pseudonymiser(ctx), settings.timezone)
    else:
        from haizhou.feeds.runner import AirspaceRunner

        handler = AirspaceHandler(AirspaceRunner(sessions, get_pseudonymiser(ctx)))
    consumer = StreamConsumer(_config(ctx, root), handler, area=area, batch=batch)

    async def main() -> dict[str, int]:
        stop = _stop_event(seconds)
        typer.echo(f"consuming {consumer.subject} as {consumer.durable} (Ctrl-C to stop)", err=True)
        return (await consumer.run(stop)).to_dict()

    try:
        out = asyncio.run(main())
    finally:
        engine.dispose()
    print_json(out) if as_json else console.print(out)


@app.command("publish-synthetic")
@friendly_errors
def publish_synthetic(
    ctx: typer.Context,
    sightings_per_s: Annotated[float, typer.Option(help="Sightings a second.")] = 5000.0,
    airspace_per_s: Annotated[float, typer.Option(help="Airspace messages a second.")] = 1000.0,
    seconds: Annotated[float, typer.Option(help="How long.")] = 10.0,
    areas: Annotated[int, typer.Option(min=1, help="Areas area-1 … area-N.")] = 2,
    root: RootOpt = "haizhou",
    as_json: JsonOpt = False,
) -> None:
    """Publish synthetic sightings (pseudonymised) and Remote ID messages at a steady rate."""
    from haizhou.streams.publisher import Publisher
    from haizhou.streams.synthetic import publish_load

    config = _config(ctx, root)

    async def main() -> dict[str, Any]:
        async with Publisher(config) as pub:
            t0 = time.monotonic()
            out = await publish_load(
                pub,
                seconds=seconds,
                sightings_per_s=sightings_per_s,
                airspace_per_s=airspace_per_s,
                areas=[f"area-{k}" for k in range(1, areas + 1)],
            )
            await pub.drain()
            return {**out, "seconds": round(time.monotonic() - t0, 2)}

    out = asyncio.run(main())
    print_json(out) if as_json else console.print(out)


@app.command()
@friendly_errors
def stats(ctx: typer.Context, root: RootOpt = "haizhou", as_json: JsonOpt = False) -> None:
    """Messages stored per stream and each consumer's pending and in-flight counts."""
    from haizhou.streams.config import stream_stats

    out = asyncio.run(stream_stats(_config(ctx, root)))
    print_json(out) if as_json else console.print(out)


@app.command()
@friendly_errors
def partitions(
    ctx: typer.Context,
    months_ahead: Annotated[int, typer.Option(min=0, max=24, help="Months to create ahead.")] = 3,
    drop_older_than_days: Annotated[
        int | None,
        typer.Option(min=1, help="Also drop whole months older than this (retention)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Maintain the monthly partitions (PostgreSQL): create the coming months, drop old ones.

    Run it daily (a systemd timer or the maintenance job); a no-op on SQLite.
    """
    from datetime import UTC, datetime, timedelta

    from haizhou.store.engine import make_engine
    from haizhou.streams.partitions import drop_partitions_before, ensure_month_partitions

    engine = make_engine(get_settings(ctx).resolved_database_url)
    try:
        with engine.begin() as conn:
            out: dict[str, Any] = {
                "created": ensure_month_partitions(conn, months_ahead=months_ahead)
            }
            if drop_older_than_days is not None:
                cutoff = datetime.now(UTC) - timedelta(days=drop_older_than_days)
                out["dropped"] = drop_partitions_before(conn, cutoff)
    finally:
        engine.dispose()
    print_json(out) if as_json else console.print(out)
