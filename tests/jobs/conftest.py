"""Job-queue fixtures: a queue of its own on the real NATS server, a migrated store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from haizhou.jobs import QueueConfig
from haizhou.jobs.queue import delete_queue
from haizhou.store import migrate


@pytest.fixture
def queue(nats_url: str) -> Iterator[QueueConfig]:
    """A uniquely named queue (stream + consumer) with a short ack wait, deleted afterwards."""
    config = QueueConfig(url=nats_url, name=f"t{uuid.uuid4().hex[:10]}", ack_wait_s=2.0)
    yield config
    asyncio.run(delete_queue(config))


@pytest.fixture
def store_url(database_url: str) -> str:
    migrate.upgrade(database_url)
    return database_url
