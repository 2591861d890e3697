"""``check_plugins`` (our hassfest): each contract breach is reported with its code."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from haizhou.domain import Schedule
from haizhou.models.checks import check_plugins
from haizhou.models.registry import Problem
from haizhou.models.spec import ModelCard, ModelSpec, RegisteredModel

CARD = ModelCard(purpose="p", data_read=("incidents",), evaluation="e", limits="l")


def model(
    source: str = "entry_point", module: str | None = None, **fields: object
) -> RegisteredModel:
    values: dict[str, object] = {
        "id": "acme.good",
        "version": "1.0.0",
        "title_zh": "好模型",
        "title_en": "Good model",
        "schedule": Schedule.DAILY,
        "card": CARD,
        "finding_kinds": ("k",),
    }
    values.update(fields)
    return RegisteredModel(
        spec=ModelSpec(**values),  # type: ignore[arg-type]
        run_function=lambda c, p: [],
        source=source,  # type: ignore[arg-type]
        origin=f"origin of {values['id']}",
        module=module,
    )


def codes(problems: list[Problem]) -> list[tuple[str | None, str]]:
    return [(p.model_id, p.code) for p in problems]


def test_a_good_model_has_no_problems() -> None:
    assert check_plugins([model()]) == []


def test_model_without_card_or_titles() -> None:
    problems = check_plugins([model(id="acme.bare", card=None, title_zh="", title_en=" ")])
    assert codes(problems) == [
        ("acme.bare", "missing-title-zh"),
        ("acme.bare", "missing-title-en"),
        ("acme.bare", "missing-card"),
    ]
    assert str(problems[2]) == (
        "[missing-card] acme.bare (origin of acme.bare): no model card; "
        "set card=ModelCard(purpose, data_read, evaluation, limits)"
    )


def test_untranslated_title_incomplete_card_bad_id_and_version() -> None:
    card = ModelCard(purpose="p", data_read=(), evaluation="", limits="l")
    problems = check_plugins(
        [model(id="Acme-Bad", version="1.0", title_zh="Untranslated", card=card, finding_kinds=())]
    )
    assert codes(problems) == [
        ("Acme-Bad", "bad-id"),
        ("Acme-Bad", "bad-version"),
        ("Acme-Bad", "title-zh-not-chinese"),
        ("Acme-Bad", "incomplete-card"),
        ("Acme-Bad", "incomplete-card"),
        ("Acme-Bad", "missing-finding-kinds"),
    ]
    assert [p.message for p in problems if p.code == "incomplete-card"] == [
        "the model card's 'data_read' is empty; fill it in",
        "the model card's 'evaluation' is empty; fill it in",
    ]


def test_params_without_defaults_and_duplicate_ids() -> None:
    class Needs(BaseModel):
        threshold: float

    problems = check_plugins([model(params_model=Needs), model()])
    assert codes(problems) == [("acme.good", "params-invalid"), ("acme.good", "duplicate-id")]
    assert "(threshold)" in problems[0].message
    assert (
        problems[1].message
        == "the id is also used by origin of acme.good; ids must be unique, rename one"
    )


def test_builtin_module_name_must_follow_the_id() -> None:
    problems = check_plugins([model(source="builtin", module="haizhou.models.builtin.good")])
    assert codes(problems) == [("acme.good", "module-name")]


def test_tests_must_mention_the_id(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text("MODEL_ID = 'acme.other'\n", encoding="utf-8")
    problems = check_plugins([model(), model(id="acme.other")], tests_dir=tmp_path)
    assert codes(problems) == [("acme.good", "missing-tests")]


def test_installed_models_pass_the_check() -> None:
    tests_dir = Path(__file__).resolve().parent
    assert [str(p) for p in check_plugins(tests_dir=tests_dir)] == []


def test_broken_rule_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("id: rules.x\nversion: 1.0.0\n", encoding="utf-8")
    problems = check_plugins(rule_folders=[tmp_path])
    assert [(p.code, p.origin) for p in problems] == [("invalid-rule", str(tmp_path / "x.yaml"))]
