"""What a model is (模型规格): its spec, its model card and the run protocol.

A model reads data and yields findings (研判发现). Each model is one module with a ``MODEL``
spec and a ``run(ctx, params)`` function (see ``models/builtin/README.md``); declarative YAML
rules (:mod:`haizhou.models.rules`) become the same thing. Nothing here runs a model: the
registry finds them, the runner runs them, the scheduler decides when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from haizhou.domain import Finding, Schedule

if TYPE_CHECKING:
    from haizhou.models.context import RunContext

__all__ = [
    "MODEL_ID_PATTERN",
    "SEMVER_PATTERN",
    "Model",
    "ModelCard",
    "ModelSpec",
    "NoParams",
    "RegisteredModel",
    "RunFunction",
    "has_chinese",
]

MODEL_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""A model id: dotted lower-case words, at least two, e.g. ``incidents.daily_volume``."""

SEMVER_PATTERN = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
"""A semantic version ``MAJOR.MINOR.PATCH`` with an optional pre-release tag."""

_CJK = re.compile(r"[\u3400-\u9fff]")


def has_chinese(text: str) -> bool:
    """True if ``text`` holds at least one CJK ideograph (a real zh-CN title, not a copy)."""
    return bool(_CJK.search(text))


class NoParams(BaseModel):
    """Parameters of a model that takes none."""

    model_config = {"extra": "forbid", "frozen": True}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """A model card (模型说明卡): what the model is for and how far to trust it.

    Parameters
    ----------
    purpose
        What the model finds and for whom (用途), one or two sentences.
    data_read
        The data it reads, e.g. ``("incidents",)`` (警情) or ``("cases", "jurisdictions")``.
    evaluation
        How it was evaluated (评估方法及结果), with figures where there are any.
    limits
        Known limits and failure modes (局限).
    references
        Citations (full reference, DOI or URL) for the method.
    """

    purpose: str
    data_read: tuple[str, ...]
    evaluation: str
    limits: str
    references: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "data_read": list(self.data_read),
            "evaluation": self.evaluation,
            "limits": self.limits,
            "references": list(self.references),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    """Everything about a model that can be read without running it (模型规格).

    Parameters
    ----------
    id
        Stable dotted id, e.g. ``"incidents.daily_volume"`` (:data:`MODEL_ID_PATTERN`).
    version
        Semantic version (``"1.0.0"``); findings carry it, so bump it when results change.
    title_zh, title_en
        Titles in zh-CN (shown by default) and English.
    params_model
        A pydantic model class for the typed parameters; every field needs a default, so the
        scheduler can run the model without arguments. :class:`NoParams` for none.
    schedule
        When it runs: on demand, daily, weekly, monthly or streaming.
    card
        The model card; ``None`` only so ``haizhou plugins check`` can report it missing.
    finding_kinds
        The ``Finding.kind`` values it yields, e.g. ``("volume",)``.

    Notes
    -----
    The spec is checked by :func:`haizhou.models.checks.check_plugins` (``haizhou plugins
    check``), not at construction, so one bad third-party model is reported rather than
    breaking every import.
    """

    id: str
    version: str
    title_zh: str
    title_en: str
    params_model: type[BaseModel] = NoParams
    schedule: Schedule = Schedule.ON_DEMAND
    card: ModelCard | None = None
    finding_kinds: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for ``haizhou models show --json`` and the API)."""
        return {
            "id": self.id,
            "version": self.version,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "schedule": Schedule(self.schedule).value,
            "finding_kinds": list(self.finding_kinds),
            "card": None if self.card is None else self.card.to_dict(),
            "params_schema": self.params_model.model_json_schema(),
        }


class RunFunction(Protocol):
    """The one verb of a model: ``run(ctx, params) -> findings``."""

    def __call__(self, ctx: RunContext, params: Any, /) -> Iterable[Finding]: ...


@runtime_checkable
class Model(Protocol):
    """A model as the registry holds it: its spec and its run function.

    A model module (``MODEL`` plus ``run``) becomes a :class:`~haizhou.models.registry.RegisteredModel`;
    an entry point may also point at any object with these two attributes.
    """

    @property
    def spec(self) -> ModelSpec: ...

    def run(self, ctx: RunContext, params: Any, /) -> Iterable[Finding]: ...


ModelSource = Literal["builtin", "entry_point", "rule"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredModel:
    """A model found by the registry (已注册模型): spec, run function and where it came from.

    Parameters
    ----------
    spec
        The model's :class:`ModelSpec`.
    run_function
        ``run(ctx, params) -> Iterable[Finding]``.
    source
        ``"builtin"`` (``haizhou.models.builtin``), ``"entry_point"`` (group
        ``haizhou.models``) or ``"rule"`` (a YAML rule file).
    origin
        Human-readable origin for messages: a module name, ``name = value`` of an entry point,
        or a file path.
    module
        The Python module for builtin and entry-point models, else ``None``.
    """

    spec: ModelSpec
    run_function: RunFunction
    source: ModelSource
    origin: str
    module: str | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    def run(self, ctx: RunContext, params: Any, /) -> Iterable[Finding]:
        return self.run_function(ctx, params)
