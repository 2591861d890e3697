"""Retrying a transaction across a database restart or fail-over (事务重试).

A writer that loses its connection (PostgreSQL restarted, a fail-over, a network blip) gets
``OperationalError`` or an invalidated connection; :func:`retry_transaction` runs its unit of work
again in a fresh transaction with growing pauses until ``deadline_s`` passes. The unit must be
idempotent (an upsert keyed on the record's own id): a commit can succeed on the server while
its acknowledgement is lost, and the retry must then change nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from haizhou.errors import HaizhouError

log = logging.getLogger("haizhou.jobs.retry")
T = TypeVar("T")


class StoreUnavailableError(HaizhouError):
    """The database did not come back within the retry deadline."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retry_transaction(
    sessions: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    deadline_s: float = 60.0,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Run ``work(session)`` and commit; on a lost connection, retry until ``deadline_s``.

    Returns what ``work`` returned once its transaction committed. Raises
    :class:`StoreUnavailableError` after the deadline; other errors propagate at once.
    """
    deadline = time.monotonic() + deadline_s
    pause = 0.05
    while True:
        try:
            with sessions() as session:
                result = work(session)
                session.commit()
                return result
        except DBAPIError as exc:
            if not _transient(exc):
                raise
            if time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"the database did not come back within {deadline_s:.0f} s: {exc.orig}"
                ) from None
            if on_retry is not None:
                on_retry(exc)
            log.warning("database connection lost; retrying", extra={"pause_s": pause})
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
