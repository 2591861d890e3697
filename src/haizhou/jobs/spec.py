"""What a job is (作业定义): its id, kind and parameters, and how it travels on the queue."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from haizhou.errors import HaizhouError

KINDS = ("import", "model", "report", "probe")
"""Job kinds: import a file, run a model, generate a report, and ``probe`` (a diagnostic job
that waits and/or computes for a given time; used by tests and the worker benchmark)."""


class JobError(HaizhouError):
    """A job cannot be submitted, read or run; the message says which and why."""


@dataclass(frozen=True)
class Job:
    """One unit of work on the queue.

    Parameters
    ----------
    id
        Unique id; also the JetStream message id (duplicate submissions are dropped) and the
        primary key of the ``jobs`` table (the idempotency key of its effect).
    kind
        One of :data:`KINDS`.
    params
        JSON-serialisable parameters of the kind (see :mod:`haizhou.jobs.handlers`).
    """

    id: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise JobError(f"unknown job kind {self.kind!r}; use one of {', '.join(KINDS)}")
        if not self.id or len(self.id) > 64:
            raise JobError("a job id must be 1 to 64 characters")

    @classmethod
    def new(cls, kind: str, params: dict[str, Any] | None = None) -> Job:
        """A job with a fresh random id."""
        return cls(id=uuid.uuid4().hex, kind=kind, params=dict(params or {}))

    def encode(self) -> bytes:
        """The message body: UTF-8 JSON ``{"id", "kind", "params"}``."""
        return json.dumps(
            {"id": self.id, "kind": self.kind, "params": self.params}, ensure_ascii=False
        ).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> Job:
        """Read a message body written by :meth:`encode`; :class:`JobError` if malformed."""
        try:
            value = json.loads(data.decode("utf-8"))
            return cls(id=str(value["id"]), kind=str(value["kind"]), params=dict(value["params"]))
        except JobError:
            raise
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise JobError(f"malformed job message: {exc}") from None
