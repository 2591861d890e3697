"""The model library (模型库): the Model protocol, registry, runner, scheduler and rules.

Every capability is a model: it reads data through a :class:`RunContext` and yields
:class:`~haizhou.domain.Finding` records. A built-in model is one file in
``haizhou/models/builtin``; other packages add models through the entry-point group
``haizhou.models``; analysts add YAML rules (:mod:`haizhou.models.rules`). See docs/models.md.
"""

from haizhou.models.checks import check_model, check_plugins
from haizhou.models.context import RunContext, Window
from haizhou.models.registry import (
    DuplicateModelError,
    ModelNotFoundError,
    PluginLoadError,
    Problem,
    Registry,
    discover,
)
from haizhou.models.rules import RuleDefinition, RuleError, load_rule, parse_rule
from haizhou.models.runner import ParamsError, RunRecord, run_model, validate_params
from haizhou.models.scheduler import DueRun, ScheduleTimes, due_runs, run_due
from haizhou.models.spec import Model, ModelCard, ModelSpec, NoParams, RegisteredModel

__all__ = [
    "DueRun",
    "DuplicateModelError",
    "Model",
    "ModelCard",
    "ModelNotFoundError",
    "ModelSpec",
    "NoParams",
    "ParamsError",
    "PluginLoadError",
    "Problem",
    "RegisteredModel",
    "Registry",
    "RuleDefinition",
    "RuleError",
    "RunContext",
    "RunRecord",
    "ScheduleTimes",
    "Window",
    "check_model",
    "check_plugins",
    "discover",
    "due_runs",
    "load_rule",
    "parse_rule",
    "run_due",
    "run_model",
    "validate_params",
]
