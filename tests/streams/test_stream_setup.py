"""Creating the JetStream streams when several processes start at once (real NATS server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from nats.js.api import StreamConfig
from nats.js.errors import APIError

from haizhou.streams.config import (
    StreamsConfig,
    add_stream_if_missing,
    connect,
    delete_streams,
    ensure_streams,
)


class _LosesTheRace:
    """A JetStream context whose creation comes second: another process makes the stream just
    before, and the server refuses this creation with its real error (subjects overlap)."""

    def __init__(self, js: Any) -> None:
        self.js = js

    async def stream_info(self, name: str) -> Any:
        return await self.js.stream_info(name)

    async def add_stream(self, stream: StreamConfig) -> Any:
        await self.js.add_stream(stream)  # the other process
        rival = StreamConfig(name=f"{stream.name}_twin", subjects=stream.subjects)
        return await self.js.add_stream(rival)  # refused: the subjects are taken


@pytest.fixture
def config(nats_url: str) -> Iterator[StreamsConfig]:
    config = StreamsConfig(url=nats_url, root=f"t{uuid.uuid4().hex[:10]}")
    yield config
    asyncio.run(delete_streams(config))


def _with_js(config: StreamsConfig, body: Callable[[Any], Awaitable[None]]) -> None:
    async def scenario() -> None:
        nc = await connect(config, reconnect=False)
        try:
            await body(nc.jetstream())
        finally:
            await nc.close()

    asyncio.run(scenario())


def test_a_creation_refused_because_the_stream_was_just_made_is_success(
    config: StreamsConfig,
) -> None:
    stream = StreamConfig(name=config.stream("airspace"), subjects=[f"{config.root}.airspace.>"])

    async def body(js: Any) -> None:
        with pytest.raises(APIError):  # what the race looks like to the loser
            await _LosesTheRace(js).add_stream(
                StreamConfig(name=config.stream("sightings"), subjects=[f"{config.root}.s.>"])
            )
        await add_stream_if_missing(_LosesTheRace(js), stream)  # type: ignore[arg-type]
        assert (await js.stream_info(stream.name)).config.subjects == stream.subjects

    _with_js(config, body)


def test_a_refusal_for_another_reason_stands(config: StreamsConfig) -> None:
    subjects = [f"{config.root}.airspace.>"]

    async def body(js: Any) -> None:
        await js.add_stream(StreamConfig(name=config.stream("sightings"), subjects=subjects))
        with pytest.raises(APIError):  # the subjects belong to a stream of another name
            await add_stream_if_missing(
                js, StreamConfig(name=config.stream("airspace"), subjects=subjects), settle_s=0.2
            )

    _with_js(config, body)


def test_many_processes_starting_together_all_get_their_streams(config: StreamsConfig) -> None:
    async def one() -> None:
        nc = await connect(config, reconnect=False)
        try:
            await ensure_streams(nc.jetstream(), config)
        finally:
            await nc.close()

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(one() for _ in range(6)), return_exceptions=True)

    assert asyncio.run(scenario()) == [None] * 6
