"""Nothing acknowledged is lost when PostgreSQL goes away under a running stream consumer.

A real ``haizhou stream consume`` process writes sightings from NATS JetStream into a private
PostgreSQL cluster (see conftest.py) while a publisher keeps sending; the cluster is stopped for
a few seconds mid-stream and started again. Every sighting must end in the store exactly once
and the work-queue stream must end empty (every message acknowledged after its commit).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.reliability.conftest import PrivatePostgres

from haizhou.store import migrate
from haizhou.store.engine import make_engine
from haizhou.streams.config import StreamsConfig, delete_streams, stream_stats
from haizhou.streams.publisher import Publisher, sightings_payload

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.nats]

KEY = "stream-restart-key-0123456789abcdef"
HAIZHOU = str(Path(sys.executable).parent / "haizhou")
N_MSGS, PER = 120, 10


@pytest.fixture
def streams(nats_url: str) -> Iterator[StreamsConfig]:
    config = StreamsConfig(url=nats_url, root=f"r{uuid.uuid4().hex[:10]}", ack_wait_s=3.0)
    yield config
    asyncio.run(delete_streams(config))


def _count(url: str, sql: str) -> int | None:
    """The value of ``sql``, or None while the server is away."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(sa.text(sql)) or 0)
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()


def _publish(config: StreamsConfig, messages: range) -> None:
    async def run() -> None:
        async with Publisher(config) as pub:
            for m in messages:
                ids = [f"p{m:04d}-{k}" for k in range(PER)]  # pseudonyms, as gateways send
                secs = [1_795_000_000 + m] * PER
                await pub.sightings(
                    "north", sightings_payload(ids, ["device"] * PER, ["s1"] * PER, secs)
                )

    asyncio.run(run())


def _wait_stored(url: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (_count(url, "SELECT count(*) FROM sightings") or 0) < n:
        if time.monotonic() > deadline:
            stored = _count(url, "SELECT count(*) FROM sightings")
            raise AssertionError(f"stored {stored} of {n}")
        time.sleep(0.2)


def test_sightings_survive_a_postgres_outage_mid_stream(
    private_postgres: PrivatePostgres, streams: StreamsConfig, tmp_path: Path
) -> None:
    url = private_postgres.url
    migrate.upgrade(url)
    with make_engine(url).begin() as conn:
        conn.execute(sa.text("DELETE FROM sightings"))
    env = {
        **os.environ,
        "HAIZHOU_DATA_DIR": str(tmp_path / "data"),
        "HAIZHOU_DATABASE_URL": url,
        "HAIZHOU_NATS_URL": streams.url,
        "HAIZHOU_PSEUDONYM_KEY": KEY,
    }
    consumer = subprocess.Popen(
        [HAIZHOU, "stream", "consume", "--root", streams.root, "--batch", "10", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    third = N_MSGS // 3
    try:
        _publish(streams, range(0, third))
        _wait_stored(url, third * PER, 60)
        private_postgres.stop()  # the database goes away mid-stream ...
        _publish(streams, range(third, 2 * third))  # ... while messages keep coming ...
        time.sleep(3.0)  # ... and the consumer fails its batches for a while
        assert _count(url, "SELECT 1") is None
        private_postgres.start()
        _publish(streams, range(2 * third, N_MSGS))
        expected = N_MSGS * PER
        _wait_stored(url, expected, 120)
        time.sleep(1.0)  # nothing more arrives: no duplicates from the redeliveries
        assert _count(url, "SELECT count(*) FROM sightings") == expected
        assert _count(url, "SELECT count(DISTINCT pseudo_id) FROM sightings") == expected
        left = asyncio.run(stream_stats(streams))["sightings"]
        assert left is not None and left["messages"] == 0  # all acknowledged, after the commit
    finally:
        consumer.send_signal(signal.SIGTERM)
        out, err = consumer.communicate(timeout=60)
    assert consumer.returncode == 0, err
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["written"] == N_MSGS * PER
    assert stats["messages"] >= N_MSGS  # batches caught by the outage came back
