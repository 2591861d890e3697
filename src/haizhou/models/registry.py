"""The model registry (模型注册表): finds every model and looks them up by id.

Models come from three places, in this order:

1. built-in modules: every module of :mod:`haizhou.models.builtin` (``MODEL`` and ``run``);
2. other installed packages: entry points of the group ``haizhou.models``, each naming a module
   with ``MODEL`` and ``run`` (or an object with ``spec`` and ``run``);
3. YAML rule files: the packaged examples (``haizhou/models/rules_builtin``) and any folders
   the caller gives (the CLI gives ``<data_dir>/models``).

Two models with one id are refused with an error naming both origins. A module, entry point or
rule file that cannot be loaded is skipped and reported in :attr:`Registry.problems` (or raised
with ``strict=True``), so one broken plug-in does not stop the others.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import pkgutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType
from typing import Any

from haizhou.errors import HaizhouError
from haizhou.models.rules import RuleError, parse_rule, rule_model
from haizhou.models.spec import ModelSource, ModelSpec, RegisteredModel

__all__ = [
    "BUILTIN_PACKAGE",
    "ENTRY_POINT_GROUP",
    "DuplicateModelError",
    "ModelNotFoundError",
    "PluginLoadError",
    "Problem",
    "Registry",
    "builtin_models",
    "collect_models",
    "discover",
    "entry_point_models",
    "model_from_module",
    "packaged_rule_folder",
    "rule_models",
]

ENTRY_POINT_GROUP = "haizhou.models"
BUILTIN_PACKAGE = "haizhou.models.builtin"
RULE_SUFFIXES = (".yaml", ".yml")


class ModelNotFoundError(HaizhouError):
    """No model has the requested id."""


class DuplicateModelError(HaizhouError):
    """Two models share one id; the message names both origins."""


class PluginLoadError(HaizhouError):
    """A model module, entry point or rule file could not be loaded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem with a model or plug-in (as ``haizhou plugins check`` reports it).

    ``code`` is a short stable tag (e.g. ``"duplicate-id"``, ``"missing-card"``), ``origin``
    where the model came from, ``message`` what is wrong and what to do.
    """

    code: str
    origin: str
    message: str
    model_id: str | None = None

    def __str__(self) -> str:
        who = f"{self.model_id} ({self.origin})" if self.model_id else self.origin
        return f"[{self.code}] {who}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "model_id": self.model_id,
            "origin": self.origin,
            "message": self.message,
        }


def model_from_module(module: ModuleType, *, source: ModelSource, origin: str) -> RegisteredModel:
    """The registered model of a module holding ``MODEL`` (a ModelSpec) and ``run``.

    Raises
    ------
    PluginLoadError
        If ``MODEL`` or ``run`` is missing or of the wrong type.
    """
    spec = getattr(module, "MODEL", None)
    run = getattr(module, "run", None)
    if not isinstance(spec, ModelSpec):
        raise PluginLoadError(
            f"{origin}: module {module.__name__} has no `MODEL = ModelSpec(...)` "
            f"(found {type(spec).__name__}); define it at module level"
        )
    if not callable(run):
        raise PluginLoadError(
            f"{origin}: module {module.__name__} has no `run(ctx, params)` function; define it"
        )
    return RegisteredModel(
        spec=spec, run_function=run, source=source, origin=origin, module=module.__name__
    )


def builtin_models(
    package: str = BUILTIN_PACKAGE, *, problems: list[Problem] | None = None
) -> list[RegisteredModel]:
    """Models of every module in ``package`` (default: :mod:`haizhou.models.builtin`).

    Modules whose name starts with ``_`` are helpers and skipped. With ``problems`` given, a
    module that fails to load is reported there and skipped; otherwise the error is raised.
    """
    pkg = importlib.import_module(package)
    found = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        name = f"{package}.{info.name}"
        try:
            module = importlib.import_module(name)
            found.append(model_from_module(module, source="builtin", origin=name))
        except Exception as exc:
            _report(exc, name, problems)
    return found


def entry_point_models(
    group: str = ENTRY_POINT_GROUP, *, problems: list[Problem] | None = None
) -> list[RegisteredModel]:
    """Models registered by installed packages through the entry-point ``group``.

    An entry point may name a module (with ``MODEL`` and ``run``) or an object with ``spec``
    and ``run`` attributes (the :class:`~haizhou.models.spec.Model` protocol).
    """
    found = []
    for entry in sorted(importlib.metadata.entry_points(group=group), key=lambda e: e.name):
        origin = f"entry point {entry.name} = {entry.value}"
        try:
            obj = entry.load()
            if isinstance(obj, ModuleType):
                found.append(model_from_module(obj, source="entry_point", origin=origin))
            elif isinstance(getattr(obj, "spec", None), ModelSpec) and callable(
                getattr(obj, "run", None)
            ):
                found.append(
                    RegisteredModel(
                        spec=obj.spec,
                        run_function=obj.run,
                        source="entry_point",
                        origin=origin,
                        module=getattr(obj, "__module__", None),
                    )
                )
            else:
                raise PluginLoadError(
                    f"{origin}: it must name a module with MODEL and run, or an object with "
                    f"`spec` (ModelSpec) and `run`; got {type(obj).__name__}"
                )
        except Exception as exc:
            _report(exc, origin, problems)
    return found


def packaged_rule_folder() -> Traversable:
    """The example rules shipped inside the package (``haizhou/models/rules_builtin``)."""
    return importlib.resources.files("haizhou.models").joinpath("rules_builtin")


def rule_models(
    folder: Path | Traversable, *, problems: list[Problem] | None = None
) -> list[RegisteredModel]:
    """Models of every ``*.yaml`` / ``*.yml`` rule file in ``folder`` (not recursive).

    A missing folder holds no rules. An invalid file raises :class:`RuleError` (file, line,
    key), or with ``problems`` given is reported there and skipped.
    """
    if not folder.is_dir():
        return []
    files = sorted(
        (item for item in folder.iterdir() if item.name.endswith(RULE_SUFFIXES) and item.is_file()),
        key=lambda item: item.name,
    )
    found = []
    for item in files:
        origin = str(item)
        try:
            rule = parse_rule(item.read_text(encoding="utf-8"), source=origin)
            found.append(rule_model(rule, origin=origin))
        except UnicodeDecodeError:
            _report(
                RuleError("the file is not UTF-8; save it as UTF-8", file=origin), origin, problems
            )
        except RuleError as exc:
            _report(exc, origin, problems)
    return found


def _report(exc: Exception, origin: str, problems: list[Problem] | None) -> None:
    if problems is None:
        if isinstance(exc, HaizhouError):
            raise exc
        raise PluginLoadError(f"{origin}: cannot be loaded: {type(exc).__name__}: {exc}") from exc
    message = str(exc) if isinstance(exc, HaizhouError) else f"{type(exc).__name__}: {exc}"
    code = "invalid-rule" if isinstance(exc, RuleError) else "load-error"
    problems.append(Problem(code=code, origin=origin, message=message))


def collect_models(
    *,
    rule_folders: Iterable[Path] = (),
    builtin: bool = True,
    entry_points: bool = True,
    packaged_rules: bool = True,
    problems: list[Problem] | None = None,
) -> list[RegisteredModel]:
    """Every model from every source, duplicates included (see :func:`discover`)."""
    models: list[RegisteredModel] = []
    if builtin:
        models += builtin_models(problems=problems)
    if entry_points:
        models += entry_point_models(problems=problems)
    if packaged_rules:
        models += rule_models(packaged_rule_folder(), problems=problems)
    for folder in rule_folders:
        models += rule_models(Path(folder), problems=problems)
    return models


@dataclass(frozen=True, slots=True)
class Registry:
    """Models by id (模型注册表), immutable once built. Iterates in id order.

    Build with :func:`discover` or :meth:`from_models`.
    """

    models: Mapping[str, RegisteredModel]
    problems: tuple[Problem, ...] = field(default=())

    @classmethod
    def from_models(
        cls, models: Iterable[RegisteredModel], *, problems: Iterable[Problem] = ()
    ) -> Registry:
        """A registry of ``models``.

        Raises
        ------
        DuplicateModelError
            If two models share an id; the message names both origins.
        """
        by_id: dict[str, RegisteredModel] = {}
        for model in models:
            other = by_id.get(model.id)
            if other is not None:
                raise DuplicateModelError(
                    f"model id {model.id!r} is defined twice: by {other.origin} ({other.source}) "
                    f"and by {model.origin} ({model.source}); rename one of them (ids must be "
                    "unique) or uninstall the package that repeats it"
                )
            by_id[model.id] = model
        return cls(dict(sorted(by_id.items())), tuple(problems))

    def get(self, model_id: str) -> RegisteredModel:
        """The model ``model_id``.

        Raises
        ------
        ModelNotFoundError
            Naming close ids, and how to list them all.
        """
        try:
            return self.models[model_id]
        except KeyError:
            close = get_close_matches(model_id, list(self.models), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ModelNotFoundError(
                f"no model with id {model_id!r}.{hint} Run `haizhou models list` for all ids."
            ) from None

    def __contains__(self, model_id: object) -> bool:
        return model_id in self.models

    def __iter__(self) -> Iterator[RegisteredModel]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)

    def ids(self) -> list[str]:
        return list(self.models)


def discover(
    *,
    rule_folders: Iterable[Path] = (),
    builtin: bool = True,
    entry_points: bool = True,
    packaged_rules: bool = True,
    strict: bool = False,
) -> Registry:
    """Find every model: built-in modules, entry points ``haizhou.models``, YAML rules.

    Parameters
    ----------
    rule_folders
        Extra folders of YAML rule files, e.g. ``settings.data_dir / "models"``.
    builtin, entry_points, packaged_rules
        Which sources to scan (tests switch some off).
    strict
        Raise on the first model that cannot be loaded, instead of reporting it in
        :attr:`Registry.problems`.

    Raises
    ------
    DuplicateModelError
        If two models share an id.
    """
    problems: list[Problem] | None = None if strict else []
    models = collect_models(
        rule_folders=rule_folders,
        builtin=builtin,
        entry_points=entry_points,
        packaged_rules=packaged_rules,
        problems=problems,
    )
    return Registry.from_models(models, problems=problems or ())
