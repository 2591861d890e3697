"""Registry: built-in discovery, entry points, YAML rule folders, duplicate ids, lookup."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from haizhou.domain import Schedule
from haizhou.models.registry import (
    DuplicateModelError,
    ModelNotFoundError,
    PluginLoadError,
    Registry,
    discover,
    entry_point_models,
)
from haizhou.models.spec import ModelCard, ModelSpec, NoParams, RegisteredModel

CARD = ModelCard(purpose="p", data_read=("incidents",), evaluation="e", limits="l")
RULE = """\
id: {id}
version: 1.0.0
title_zh: 测试规则
title_en: Test rule
levels: {{yellow: 1.5}}
"""


class FakeEntryPoint:
    """What importlib.metadata.entry_points yields: name, value, load()."""

    def __init__(self, name: str, value: str, target: object) -> None:
        self.name, self.value, self._target = name, value, target

    def load(self) -> object:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


def plugin_module(name: str, model_id: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.MODEL = ModelSpec(  # type: ignore[attr-defined]
        id=model_id,
        version="0.1.0",
        title_zh="第三方模型",
        title_en="Third-party model",
        params_model=NoParams,
        schedule=Schedule.WEEKLY,
        card=CARD,
        finding_kinds=("x",),
    )
    module.run = lambda ctx, params: iter(())  # type: ignore[attr-defined]
    return module


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeEntryPoint]]:
    installed: list[FakeEntryPoint] = []
    real = importlib.metadata.entry_points

    def entry_points(**kwargs: object):  # type: ignore[no-untyped-def]
        if kwargs.get("group") == "haizhou.models":
            return list(installed)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    yield installed


def test_builtin_models_and_packaged_rules_are_found(fake_entry_points) -> None:  # type: ignore[no-untyped-def]
    import pkgutil

    import haizhou.models.builtin as builtin_pkg

    registry = discover()
    ids = registry.ids()
    assert ids == sorted(ids)
    # Every module in the builtin package is one model, plus the packaged YAML rules.
    builtin_modules = [m.name for m in pkgutil.iter_modules(builtin_pkg.__path__) if not m.name.startswith("_")]
    assert len([i for i in ids if not i.startswith("rules.")]) == len(builtin_modules)
    assert {
        "incidents.daily_volume",
        "rules.burglary_surge",
        "rules.fights_bureau_wide",
        "rules.fraud_year_over_year",
    } <= set(ids)
    daily = registry.get("incidents.daily_volume")
    assert daily.source == "builtin"
    assert daily.module == "haizhou.models.builtin.incidents_daily_volume"
    assert daily.spec.schedule is Schedule.DAILY
    assert registry.problems == ()


def test_entry_point_module_is_registered(fake_entry_points, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = plugin_module("acme_models.patrol", "acme.patrol_gaps")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    fake_entry_points.append(FakeEntryPoint("patrol", "acme_models.patrol", module))
    registry = discover(packaged_rules=False)
    model = registry.get("acme.patrol_gaps")
    assert model.source == "entry_point"
    assert model.origin == "entry point patrol = acme_models.patrol"
    assert model.spec.title_zh == "第三方模型"
    assert list(model.run(None, NoParams())) == []  # type: ignore[arg-type]


def test_entry_point_object_with_spec_and_run(fake_entry_points) -> None:  # type: ignore[no-untyped-def]
    class PatrolModel:
        spec = plugin_module("m", "acme.object_model").MODEL  # type: ignore[attr-defined]

        def run(self, ctx: object, params: object) -> Iterator[object]:
            return iter(())

    fake_entry_points.append(FakeEntryPoint("obj", "acme:PatrolModel", PatrolModel()))
    assert "acme.object_model" in discover(builtin=False, packaged_rules=False)


def test_broken_entry_point_is_reported_not_fatal(fake_entry_points) -> None:  # type: ignore[no-untyped-def]
    fake_entry_points.append(FakeEntryPoint("bad", "acme.bad", ImportError("no module acme")))
    fake_entry_points.append(FakeEntryPoint("empty", "acme.empty", types.ModuleType("acme.empty")))
    registry = discover(packaged_rules=False)
    assert "incidents.daily_volume" in registry
    assert [(p.code, p.origin) for p in registry.problems] == [
        ("load-error", "entry point bad = acme.bad"),
        ("load-error", "entry point empty = acme.empty"),
    ]
    assert registry.problems[0].message == "ImportError: no module acme"
    assert "has no `MODEL = ModelSpec(...)`" in registry.problems[1].message
    with pytest.raises(PluginLoadError, match=r"entry point bad = acme\.bad: cannot be loaded"):
        entry_point_models()


def test_duplicate_id_names_both_origins(fake_entry_points, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = plugin_module("acme_models.volume", "incidents.daily_volume")
    fake_entry_points.append(FakeEntryPoint("volume", "acme_models.volume", module))
    with pytest.raises(DuplicateModelError) as info:
        discover(packaged_rules=False)
    assert str(info.value) == (
        "model id 'incidents.daily_volume' is defined twice: by "
        "haizhou.models.builtin.incidents_daily_volume (builtin) and by entry point volume = "
        "acme_models.volume (entry_point); rename one of them (ids must be unique) or uninstall "
        "the package that repeats it"
    )


def test_rule_folder_models_and_duplicate_with_packaged_rule(
    tmp_path: Path, fake_entry_points
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mine.yaml").write_text(RULE.format(id="rules.mine"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a rule", encoding="utf-8")
    registry = discover(rule_folders=[tmp_path], builtin=False, packaged_rules=False)
    assert registry.ids() == ["rules.mine"]
    assert registry.get("rules.mine").origin == str(tmp_path / "mine.yaml")

    (tmp_path / "copy.yaml").write_text(RULE.format(id="rules.burglary_surge"), encoding="utf-8")
    with pytest.raises(
        DuplicateModelError, match=r"burglary_surge\.yaml \(rule\) and by .*copy\.yaml"
    ):
        discover(rule_folders=[tmp_path], builtin=False)


def test_invalid_rule_file_is_a_problem_or_raises_when_strict(
    tmp_path: Path, fake_entry_points
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_text(
        RULE.format(id="rules.bad") + "colour: red\n", encoding="utf-8"
    )
    registry = discover(rule_folders=[tmp_path], builtin=False, packaged_rules=False)
    assert len(registry) == 0
    [problem] = registry.problems
    assert problem.code == "invalid-rule"
    assert "line 6, key 'colour': unknown key" in problem.message
    with pytest.raises(Exception, match="line 6, key 'colour'"):
        discover(rule_folders=[tmp_path], builtin=False, packaged_rules=False, strict=True)


def test_missing_rule_folder_is_empty(tmp_path: Path, fake_entry_points) -> None:  # type: ignore[no-untyped-def]
    registry = discover(rule_folders=[tmp_path / "absent"], builtin=False, packaged_rules=False)
    assert len(registry) == 0 and registry.problems == ()


def test_unknown_id_suggests_close_ones() -> None:
    spec = plugin_module("m", "incidents.daily_volume").MODEL  # type: ignore[attr-defined]
    registry = Registry.from_models(
        [RegisteredModel(spec=spec, run_function=lambda c, p: [], source="builtin", origin="m")]
    )
    with pytest.raises(ModelNotFoundError) as info:
        registry.get("incidents.daily_volum")
    assert str(info.value) == (
        "no model with id 'incidents.daily_volum'. Did you mean incidents.daily_volume? "
        "Run `haizhou models list` for all ids."
    )
