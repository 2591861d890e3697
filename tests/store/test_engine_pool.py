"""A server database's pool keeps the connections that concurrent requests need."""

from __future__ import annotations

import threading

from sqlalchemy import event, text

from haizhou.store.engine import SERVER_POOL_SIZE, make_engine


def test_concurrent_units_reuse_pooled_connections(postgres_url: str) -> None:
    """15 threads at once, three rounds (an API process serving 15 requests at once): every
    round reuses the connections of the first, where a pool of 5 closed 10 a round and opened
    them again (a new PostgreSQL server process each)."""
    engine = make_engine(postgres_url)
    opened: list[int] = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    threads = 15
    assert threads <= SERVER_POOL_SIZE
    barrier = threading.Barrier(threads)

    def unit() -> None:
        with engine.connect() as connection:
            barrier.wait(timeout=30)  # all 15 hold a connection at once
            connection.execute(text("SELECT 1"))

    try:
        for _ in range(3):
            workers = [threading.Thread(target=unit) for _ in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join(timeout=60)
        assert len(opened) == threads
    finally:
        engine.dispose()
