"""Declarative rule models in YAML (规则模型): an analyst adds a model without Python.

A rule counts incidents (警情) or cases (案件) of some categories per jurisdiction over the last
``window_days`` days and compares the count with what was expected: the mean of the trailing
periods of the same length (环比) or the same period last year (同比). A ratio above a level's
threshold, with at least ``min_count`` records, gives a finding of that level. Example::

    id: rules.burglary_surge
    version: 1.0.0
    title_zh: 入室盗窃环比激增
    title_en: Burglary surge against trailing baseline
    schedule: daily
    data: incidents
    filter: {category: [入室盗窃, burglary]}
    group_by: jurisdiction
    window_days: 7
    baseline: {kind: trailing, periods: 4}
    levels: {red: 3.0, orange: 2.0, yellow: 1.5}
    min_count: 5

:func:`load_rule` validates a file and raises :class:`RuleError` naming the file, the line and
the key of every problem; docs/models.md is the full reference.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
import shapely
import shapely.geometry
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from haizhou.domain import Finding, Level, Schedule
from haizhou.errors import InputError
from haizhou.models.context import RunContext, Window
from haizhou.models.spec import (
    MODEL_ID_PATTERN,
    SEMVER_PATTERN,
    ModelCard,
    ModelSpec,
    RegisteredModel,
    has_chinese,
)

__all__ = [
    "FILTER_FIELDS",
    "RULE_FINDING_KIND",
    "Levels",
    "RuleDefinition",
    "RuleError",
    "SamePeriodLastYearBaseline",
    "TrailingBaseline",
    "baseline_windows",
    "load_rule",
    "parse_rule",
    "rule_model",
    "run_rule",
]

RULE_FINDING_KIND = "rule"
FILTER_FIELDS: dict[str, tuple[str, ...]] = {
    "incidents": ("category",),
    "cases": ("category", "status"),
}
"""Fields a rule may filter on, per data kind (the columns of the repositories' frames)."""

_TIME_COLUMN = {"incidents": "reported_at", "cases": "occurred_from"}
_DATA_ZH = {"incidents": "警情", "cases": "案件"}


class RuleError(InputError):
    """A YAML rule file is invalid; the message lists file, line, key and what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrailingBaseline(_Strict):
    """Expected = mean of the ``periods`` windows of the same length just before (环比)."""

    kind: Literal["trailing"]
    periods: int = Field(default=4, ge=1, le=52)


class SamePeriodLastYearBaseline(_Strict):
    """Expected = mean of the same calendar window in the ``years`` previous years (同比)."""

    kind: Literal["same_period_last_year"]
    years: int = Field(default=1, ge=1, le=5)


Baseline = Annotated[TrailingBaseline | SamePeriodLastYearBaseline, Field(discriminator="kind")]


class Levels(_Strict):
    """Ratio thresholds (observed / expected) per warning level; give at least one.

    Thresholds must decrease from red to blue: red > orange > yellow > blue.
    """

    red: float | None = Field(default=None, gt=0)
    orange: float | None = Field(default=None, gt=0)
    yellow: float | None = Field(default=None, gt=0)
    blue: float | None = Field(default=None, gt=0)

    def thresholds(self) -> list[tuple[Level, float]]:
        """Given thresholds, most severe first."""
        values = [
            (Level(name), getattr(self, name)) for name in ("red", "orange", "yellow", "blue")
        ]
        return [(level, value) for level, value in values if value is not None]

    def level_for(self, ratio: float) -> tuple[Level, float] | None:
        """The most severe level whose threshold ``ratio`` reaches, with that threshold."""
        for level, threshold in self.thresholds():
            if ratio >= threshold:
                return level, threshold
        return None


class RuleDefinition(_Strict):
    """A validated rule file. Field reference: docs/models.md, "YAML rule language"."""

    id: str = Field(pattern=MODEL_ID_PATTERN.pattern)
    version: str = Field(pattern=SEMVER_PATTERN.pattern)
    title_zh: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    description: str | None = None
    schedule: Schedule = Schedule.DAILY
    data: Literal["incidents", "cases"] = "incidents"
    filter: dict[str, list[str]] = Field(default_factory=dict)
    group_by: Literal["jurisdiction", "all"] = "jurisdiction"
    window_days: int = Field(default=7, ge=1, le=366)
    baseline: Baseline = Field(default_factory=lambda: TrailingBaseline(kind="trailing"))
    levels: Levels
    min_count: int = Field(default=1, ge=0)
    min_expected: float = Field(default=1.0, gt=0)
    suggested_action: str = "核查该辖区近期警情，研判原因，视情加强巡防。"
    limits: str | None = None

    @field_validator("title_zh")
    @classmethod
    def _zh_title(cls, value: str) -> str:
        if not has_chinese(value):
            raise ValueError(f"title_zh must be the Chinese title (中文标题); got {value!r}")
        return value

    @field_validator("schedule")
    @classmethod
    def _not_streaming(cls, value: Schedule) -> Schedule:
        if value is Schedule.STREAMING:
            raise ValueError(
                "a counting rule cannot be streaming; use daily, weekly, monthly or on_demand"
            )
        return value

    @field_validator("filter", mode="before")
    @classmethod
    def _filter_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("filter")
    @classmethod
    def _filter_fields(
        cls, value: dict[str, list[str]], info: ValidationInfo
    ) -> dict[str, list[str]]:
        data = info.data.get("data", "incidents")
        allowed = FILTER_FIELDS.get(data, ())
        for key, values in value.items():
            if key not in allowed:
                raise ValueError(
                    f"unknown filter field {key!r} for data {data!r}; allowed: {', '.join(allowed)}"
                )
            if not values:
                raise ValueError(f"filter field {key!r} has no values; list at least one")
        return value

    @field_validator("levels")
    @classmethod
    def _levels_order(cls, value: Levels) -> Levels:
        given = value.thresholds()
        if not given:
            raise ValueError("give at least one threshold: red, orange, yellow or blue")
        for (high, high_value), (low, low_value) in itertools.pairwise(given):
            if not high_value > low_value:
                raise ValueError(
                    f"thresholds must decrease from red to blue, but {high.value}={high_value} "
                    f"is not above {low.value}={low_value}"
                )
        return value


# --- loading and validation ----------------------------------------------------------------


def _key_lines(
    node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], problems: list[str]
) -> None:
    """Record the 1-based line of every key path; report duplicate keys (PyYAML keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                dotted = ".".join(str(p) for p in (*path, key))
                problems.append(f"line {line}, key {dotted!r}: duplicate key; keep only one")
            seen.add(key)
            lines[(*path, key)] = line
            _key_lines(value_node, (*path, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _key_lines(item, (*path, index), lines, problems)


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    # Pydantic adds union tags (e.g. "trailing") to locations; drop parts until a key matches.
    parts = tuple(loc)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return None


def parse_rule(text: str, *, source: str = "<rule>") -> RuleDefinition:
    """Validate the YAML text of a rule.

    Parameters
    ----------
    text
        The YAML document.
    source
        Name of the file, for messages.

    Raises
    ------
    RuleError
        One message listing every problem as ``line N, key 'a.b': what; what to do``.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleError(
            f"{where}not valid YAML ({problem}); check indentation and quoting", file=source
        ) from None
    if not isinstance(data, dict) or node is None:
        raise RuleError(
            "a rule must be a YAML mapping of key: value (start with `id: rules.xxx`)", file=source
        )
    lines: dict[tuple[Any, ...], int] = {}
    problems: list[str] = []
    _key_lines(node, (), lines, problems)
    try:
        rule = RuleDefinition.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            key = ".".join(str(p) for p in loc if p not in {"trailing", "same_period_last_year"})
            line = _line_of(loc, lines)
            where = f"line {line}, " if line is not None else ""
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key; check its spelling (see docs/models.md for the keys)"
            elif error["type"] == "missing":
                message = "required key is missing"
            problems.append(f"{where}key {key or '(top)'!r}: {message}")
    if problems:
        raise RuleError("invalid rule:\n  - " + "\n  - ".join(problems), file=source)
    return rule


def load_rule(path: Path) -> RuleDefinition:
    """Read and validate the rule file at ``path`` (UTF-8 YAML). Raises :class:`RuleError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RuleError("the file is not UTF-8; save it as UTF-8", file=str(path)) from None
    return parse_rule(text, source=str(path))


# --- evaluation ----------------------------------------------------------------------------


def _year_back(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February: take 28 February
        return moment.replace(year=moment.year - years, day=28)


def baseline_windows(rule: RuleDefinition, observed: Window) -> list[Window]:
    """The baseline windows of ``rule`` for the observed window, most recent first.

    Trailing: ``periods`` windows of the same length just before ``observed``. Same period last
    year: the same local calendar window 1..``years`` years earlier.
    """
    if isinstance(rule.baseline, TrailingBaseline):
        return [
            observed.shifted(-observed.duration * i) for i in range(1, rule.baseline.periods + 1)
        ]
    return [
        Window(_year_back(observed.start, i), _year_back(observed.end, i))
        for i in range(1, rule.baseline.years + 1)
    ]


def _counts(ctx: RunContext, rule: RuleDefinition, window: Window) -> pd.Series:
    """Records per group in ``window`` (index: jurisdiction code, or "" for group_by all)."""
    category = rule.filter.get("category")
    if rule.data == "incidents":
        frame = ctx.incidents(start=window.start, end=window.end, category=category)
    else:
        frame = ctx.cases(start=window.start, end=window.end, category=category)
    for key, values in rule.filter.items():
        if key != "category":
            frame = frame[frame[key].isin(values)]
    if rule.group_by == "all":
        return pd.Series({"": len(frame)}, dtype="int64")
    frame = frame[frame["jurisdiction_code"].notna()]
    return frame.groupby("jurisdiction_code").size().astype("int64")


@dataclass(frozen=True, slots=True)
class _Group:
    code: str | None
    name: str
    geometry: dict[str, Any]


def _groups(ctx: RunContext, rule: RuleDefinition) -> list[_Group]:
    jurisdictions = [j for j in ctx.jurisdictions() if j.geometry]
    if rule.group_by == "jurisdiction":
        return [_Group(j.code, j.name, j.geometry) for j in jurisdictions if j.geometry]
    if jurisdictions:
        union = shapely.union_all([shapely.geometry.shape(j.geometry) for j in jurisdictions])
        geometry = shapely.geometry.mapping(union)
    else:
        geometry = {"type": "GeometryCollection", "geometries": []}
    return [_Group(None, "全辖区", dict(geometry))]


def _day(moment: datetime) -> date:
    return moment.date()


def run_rule(ctx: RunContext, rule: RuleDefinition, params: Any) -> Iterator[Finding]:
    """Evaluate ``rule`` for the window ending at ``ctx.window.end``; yield its findings.

    ``params`` may override ``window_days`` and ``min_count`` (see :func:`rule_model`).
    The expected count is floored at ``min_expected`` so a quiet baseline does not turn any
    count into a surge; the finding's evidence holds every number behind it.
    """
    window_days = int(getattr(params, "window_days", rule.window_days))
    min_count = int(getattr(params, "min_count", rule.min_count))
    end = ctx.window.end.astimezone(ctx.zone)
    observed = Window(end - timedelta(days=window_days), end)
    baselines = baseline_windows(rule, observed)
    observed_counts = _counts(ctx, rule, observed)
    baseline_counts = [_counts(ctx, rule, window) for window in baselines]
    baseline_zh = (
        f"前{len(baselines)}个同长周期"
        if isinstance(rule.baseline, TrailingBaseline)
        else f"往年同期（{len(baselines)}年）"
    )
    categories = "、".join(rule.filter.get("category", [])) or _DATA_ZH[rule.data]
    last_day = _day(observed.end - timedelta(days=1))
    for group in _groups(ctx, rule):
        key = group.code or ""
        observed_n = int(observed_counts.get(key, 0))
        history = [int(counts.get(key, 0)) for counts in baseline_counts]
        expected = sum(history) / len(history)
        ratio = observed_n / max(expected, rule.min_expected)
        if observed_n < min_count or not math.isfinite(ratio):
            continue
        hit = rule.levels.level_for(ratio)
        if hit is None:
            continue
        level, threshold = hit
        explanation = (
            f"{group.name}{_day(observed.start):%Y-%m-%d}至{last_day:%Y-%m-%d}共{observed_n}起"
            f"{categories}，{baseline_zh}平均{expected:.1f}起，为其{ratio:.2f}倍，"
            f"达到{level.title_zh}预警阈值（{threshold:g}倍，最少{min_count}起）。"
        )
        yield Finding(
            kind=RULE_FINDING_KIND,
            title=f"{rule.title_zh}：{group.name}",
            level=level,
            geometry=group.geometry,
            window_start=observed.start,
            window_end=observed.end,
            explanation=explanation,
            suggested_action=rule.suggested_action,
            model_id=rule.id,
            model_version=rule.version,
            evidence={
                "jurisdiction_code": group.code,
                "data": rule.data,
                "filter": rule.filter,
                "observed": observed_n,
                "expected": round(expected, 4),
                "ratio": round(ratio, 4),
                "threshold": threshold,
                "min_count": min_count,
                "baseline_kind": rule.baseline.kind,
                "baseline_counts": history,
                "baseline_windows": [[w.start.isoformat(), w.end.isoformat()] for w in baselines],
                "period": [observed.start.isoformat(), observed.end.isoformat()],
            },
            key=f"{rule.id}:{group.code or 'all'}:{last_day.isoformat()}",
        )


def _params_model(rule: RuleDefinition) -> type[BaseModel]:
    name = "Params_" + rule.id.replace(".", "_")
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid", frozen=True),
        window_days=(
            int,
            Field(
                default=rule.window_days,
                ge=1,
                le=366,
                description="Length of the observed window in days.",
            ),
        ),
        min_count=(
            int,
            Field(default=rule.min_count, ge=0, description="Fewest records for a finding."),
        ),
    )


def rule_model(rule: RuleDefinition, *, origin: str) -> RegisteredModel:
    """The registered model for a validated rule (source ``"rule"``)."""
    baseline = (
        f"the mean of the {rule.baseline.periods} trailing {rule.window_days}-day periods"
        if isinstance(rule.baseline, TrailingBaseline)
        else f"the same period in the {rule.baseline.years} previous year(s)"
    )
    card = ModelCard(
        purpose=rule.description
        or (
            f"Counts {rule.data} ({', '.join(f'{k} in {v}' for k, v in rule.filter.items()) or 'all'}) "
            f"per {rule.group_by} over the last {rule.window_days} days against {baseline}; "
            "the ratio observed / expected sets the level."
        ),
        data_read=(rule.data, "jurisdictions"),
        evaluation="Declarative threshold rule (规则模型); its precision is measured from "
        "instruction feedback, not from a held-out evaluation.",
        limits=rule.limits
        or "Ratios on small counts are noisy (min_count and min_expected damp this); "
        "a change in recording practice looks like a surge.",
    )
    spec = ModelSpec(
        id=rule.id,
        version=rule.version,
        title_zh=rule.title_zh,
        title_en=rule.title_en,
        params_model=_params_model(rule),
        schedule=rule.schedule,
        card=card,
        finding_kinds=(RULE_FINDING_KIND,),
    )

    def run(ctx: RunContext, params: Any) -> Iterator[Finding]:
        return run_rule(ctx, rule, params)

    return RegisteredModel(spec=spec, run_function=run, source="rule", origin=origin)
