"""``haizhou plugins check`` (our hassfest): every model meets the contract.

Checked for every built-in model, entry-point model and YAML rule: the id is unique and well
formed, the version is semantic, both titles are present (the zh-CN one in Chinese), the model
card is complete, the parameters validate with their defaults (the scheduler runs models
without arguments), the kinds of findings are declared, a built-in module is named after its
id, and (when a tests folder is given) some test mentions the model's id.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from haizhou.domain import Schedule
from haizhou.models.registry import Problem, collect_models
from haizhou.models.spec import (
    MODEL_ID_PATTERN,
    SEMVER_PATTERN,
    RegisteredModel,
    has_chinese,
)

__all__ = ["check_model", "check_plugins"]

_CARD_FIELDS = ("purpose", "data_read", "evaluation", "limits")


def check_model(model: RegisteredModel) -> list[Problem]:
    """Problems with one model's spec, card and parameters (not uniqueness, not tests)."""
    spec = model.spec
    problems: list[Problem] = []

    def add(code: str, message: str) -> None:
        problems.append(Problem(code=code, origin=model.origin, message=message, model_id=spec.id))

    if not MODEL_ID_PATTERN.match(spec.id or ""):
        add("bad-id", "the id must be dotted lower-case words, e.g. 'incidents.daily_volume'")
    if not SEMVER_PATTERN.match(spec.version or ""):
        add("bad-version", f"version {spec.version!r} is not semantic (MAJOR.MINOR.PATCH)")
    if not (spec.title_zh or "").strip():
        add("missing-title-zh", "title_zh (中文标题) is empty; give the zh-CN title")
    elif not has_chinese(spec.title_zh):
        add("title-zh-not-chinese", f"title_zh {spec.title_zh!r} has no Chinese; translate it")
    if not (spec.title_en or "").strip():
        add("missing-title-en", "title_en is empty; give the English title")
    if spec.card is None:
        add(
            "missing-card",
            "no model card; set card=ModelCard(purpose, data_read, evaluation, limits)",
        )
    else:
        for name in _CARD_FIELDS:
            value = getattr(spec.card, name)
            if not value or (isinstance(value, str) and not value.strip()):
                add("incomplete-card", f"the model card's {name!r} is empty; fill it in")
    try:
        Schedule(spec.schedule)
    except ValueError:
        add(
            "bad-schedule",
            f"schedule {spec.schedule!r} is not one of {[s.value for s in Schedule]}",
        )
    if not (isinstance(spec.params_model, type) and issubclass(spec.params_model, BaseModel)):
        add("bad-params", "params_model must be a pydantic BaseModel class (NoParams for none)")
    else:
        try:
            spec.params_model()
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "?" for e in exc.errors())
            add(
                "params-invalid",
                f"the parameters do not validate with their defaults ({fields}); give every "
                "field a valid default so the scheduler can run the model",
            )
    if not spec.finding_kinds:
        add("missing-finding-kinds", "declare the kinds of findings it yields (finding_kinds)")
    if model.source == "builtin" and model.module:
        expected = spec.id.replace(".", "_")
        actual = model.module.rsplit(".", 1)[-1]
        if actual != expected:
            add(
                "module-name",
                f"a built-in model lives in {expected}.py (its id with _ for .); found {actual}.py",
            )
    return problems


def _test_texts(tests_dir: Path) -> list[str]:
    return [
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(tests_dir.rglob("*.py"))
    ]


def check_plugins(
    models: Iterable[RegisteredModel] | None = None,
    *,
    tests_dir: Path | None = None,
    rule_folders: Iterable[Path] = (),
) -> list[Problem]:
    """Every problem with the installed models (empty list: all good).

    Parameters
    ----------
    models
        Models to check; default every model found (built-in, entry points, packaged rules and
        ``rule_folders``), with load failures reported as problems.
    tests_dir
        Folder of tests (e.g. ``tests/models``); when given, each built-in or entry-point model
        must have a test file that mentions its id. YAML rules need none.
    rule_folders
        Extra rule folders, when ``models`` is not given.
    """
    problems: list[Problem] = []
    if models is None:
        models = collect_models(rule_folders=rule_folders, problems=problems)
    models = list(models)
    seen: dict[str, RegisteredModel] = {}
    for model in models:
        other = seen.get(model.id)
        if other is not None:
            problems.append(
                Problem(
                    code="duplicate-id",
                    origin=model.origin,
                    model_id=model.id,
                    message=f"the id is also used by {other.origin}; ids must be unique, rename one",
                )
            )
        else:
            seen[model.id] = model
        problems.extend(check_model(model))
    if tests_dir is not None:
        texts = _test_texts(tests_dir) if tests_dir.is_dir() else []
        for model in models:
            if model.source == "rule":
                continue
            if not any(model.id in text for text in texts):
                problems.append(
                    Problem(
                        code="missing-tests",
                        origin=model.origin,
                        model_id=model.id,
                        message=f"no test under {tests_dir} mentions {model.id!r}; add "
                        f"test_{model.id.replace('.', '_')}.py",
                    )
                )
    return problems
