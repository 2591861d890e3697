"""YAML rule models: validation errors with line and key, and rule runs on a tiny store."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from haizhou.domain import Level, Schedule
from haizhou.models.context import Window
from haizhou.models.registry import packaged_rule_folder, rule_models
from haizhou.models.rules import (
    Levels,
    RuleError,
    baseline_windows,
    load_rule,
    parse_rule,
    rule_model,
)
from haizhou.models.runner import run_model
from haizhou.store.repositories.findings import list_findings

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"

GOOD = """\
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
"""


def with_line(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def problem_lines(exc: RuleError) -> list[str]:
    return [line.strip() for line in str(exc).splitlines()[1:]]


def test_good_rule_parses_to_its_values() -> None:
    rule = parse_rule(GOOD)
    assert rule.id == "rules.burglary_surge"
    assert rule.schedule is Schedule.DAILY
    assert rule.filter == {"category": ["入室盗窃", "burglary"]}
    assert rule.baseline.kind == "trailing" and rule.baseline.periods == 4
    assert rule.levels.thresholds() == [(Level.RED, 3.0), (Level.ORANGE, 2.0), (Level.YELLOW, 1.5)]
    assert rule.min_count == 5


def test_single_category_string_becomes_a_list() -> None:
    rule = parse_rule(with_line(GOOD, "[入室盗窃, burglary]", "burglary"))
    assert rule.filter == {"category": ["burglary"]}


def test_bad_level_order_names_line_and_key() -> None:
    text = with_line(GOOD, "{red: 3.0, orange: 2.0, yellow: 1.5}", "{red: 2.0, orange: 2.5}")
    with pytest.raises(RuleError) as info:
        parse_rule(text, source="surge.yaml")
    message = str(info.value)
    assert message.startswith("file surge.yaml: invalid rule")
    assert problem_lines(info.value) == [
        "- line 11, key 'levels': thresholds must decrease from red to blue, but red=2.0 is "
        "not above orange=2.5"
    ]


def test_unknown_key_names_line_and_key() -> None:
    text = GOOD + "min_cuont: 3\n"
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert problem_lines(info.value) == [
        "- line 13, key 'min_cuont': unknown key; check its spelling (see docs/models.md for the keys)"
    ]


def test_unknown_filter_field_lists_the_allowed_ones() -> None:
    text = with_line(GOOD, "filter: {category:", "filter: {categroy:")
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert problem_lines(info.value) == [
        "- line 7, key 'filter': unknown filter field 'categroy' for data 'incidents'; "
        "allowed: category"
    ]


def test_cases_may_filter_on_status_but_incidents_may_not() -> None:
    cases = with_line(GOOD, "data: incidents", "data: cases")
    cases = with_line(cases, "filter: {category: [入室盗窃, burglary]}", "filter: {status: solved}")
    assert parse_rule(cases).filter == {"status": ["solved"]}
    incidents = with_line(GOOD, "filter: {category: [入室盗窃, burglary]}", "filter: {status: x}")
    with pytest.raises(RuleError, match="unknown filter field 'status' for data 'incidents'"):
        parse_rule(incidents)


def test_every_problem_is_listed_at_once() -> None:
    text = with_line(GOOD, "version: 1.0.0", "version: one")
    text = with_line(text, "periods: 4", "periods: 0")
    text = with_line(text, "title_zh: 入室盗窃环比激增", "title_zh: Burglary")
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    lines = problem_lines(info.value)
    assert len(lines) == 3
    assert lines[0].startswith("- line 2, key 'version': String should match pattern")
    assert lines[1] == (
        "- line 3, key 'title_zh': title_zh must be the Chinese title (中文标题); got 'Burglary'"
    )
    assert (
        lines[2] == "- line 10, key 'baseline.periods': Input should be greater than or equal to 1"
    )


def test_missing_required_key() -> None:
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith("levels"))
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert problem_lines(info.value) == ["- key 'levels': required key is missing"]


def test_unknown_baseline_kind() -> None:
    text = with_line(GOOD, "{kind: trailing, periods: 4}", "{kind: weekly}")
    with pytest.raises(RuleError, match=r"line 10, key 'baseline'"):
        parse_rule(text)


def test_duplicate_key_is_reported_not_silently_overwritten() -> None:
    text = GOOD + "window_days: 14\n"
    with pytest.raises(RuleError) as info:
        parse_rule(text)
    assert problem_lines(info.value) == [
        "- line 13, key 'window_days': duplicate key; keep only one"
    ]


def test_yaml_syntax_error_gives_line_and_column() -> None:
    text = with_line(GOOD, "min_count: 5", "min_count: [5")
    with pytest.raises(RuleError, match=r"line \d+, column \d+: not valid YAML"):
        parse_rule(text, source="broken.yaml")


def test_not_a_mapping() -> None:
    with pytest.raises(RuleError, match="a rule must be a YAML mapping"):
        parse_rule("- just\n- a list\n")


def test_streaming_schedule_refused() -> None:
    with pytest.raises(RuleError, match="cannot be streaming"):
        parse_rule(with_line(GOOD, "schedule: daily", "schedule: streaming"))


def test_load_rule_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + "oops: 1\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rule(path)
    assert str(info.value).startswith(f"file {path}: invalid rule")
    assert info.value.file == str(path)


def test_packaged_example_rules_are_valid() -> None:
    models = rule_models(packaged_rule_folder())
    assert {m.id for m in models} == {
        "rules.burglary_surge",
        "rules.fraud_year_over_year",
        "rules.fights_bureau_wide",
    }
    assert all(m.source == "rule" and m.spec.card is not None for m in models)


thresholds = st.lists(
    st.floats(min_value=0.01, max_value=100, allow_nan=False), min_size=1, max_size=4, unique=True
)


@given(values=thresholds, ratio=st.floats(min_value=0, max_value=200, allow_nan=False))
def test_levels_pick_the_most_severe_reached_threshold(values: list[float], ratio: float) -> None:
    ordered = sorted(values, reverse=True)
    names = ["red", "orange", "yellow", "blue"][: len(ordered)]
    levels = Levels(**dict(zip(names, ordered, strict=True)))
    hit = levels.level_for(ratio)
    reached = [(Level(n), v) for n, v in zip(names, ordered, strict=True) if ratio >= v]
    assert hit == (reached[0] if reached else None)


@given(values=thresholds)
def test_any_non_decreasing_pair_is_refused(values: list[float]) -> None:
    ascending = sorted(values)
    if len(ascending) < 2:
        return
    names = ["red", "orange", "yellow", "blue"][: len(ascending)]
    text = with_line(
        GOOD,
        "{red: 3.0, orange: 2.0, yellow: 1.5}",
        "{" + ", ".join(f"{n}: {v!r}" for n, v in zip(names, ascending, strict=True)) + "}",
    )
    with pytest.raises(RuleError, match="thresholds must decrease from red to blue"):
        parse_rule(text)


@given(
    days=st.integers(min_value=1, max_value=60),
    periods=st.integers(min_value=1, max_value=12),
    offset=st.integers(min_value=0, max_value=3000),
)
def test_trailing_baseline_windows_tile_the_past(days: int, periods: int, offset: int) -> None:
    text = with_line(GOOD, "window_days: 7", f"window_days: {days}")
    rule = parse_rule(with_line(text, "periods: 4", f"periods: {periods}"))
    end = datetime(2020, 1, 1, tzinfo=SHANGHAI) + timedelta(days=offset)
    observed = Window(end - timedelta(days=days), end)
    windows = baseline_windows(rule, observed)
    assert len(windows) == periods
    edges = [observed, *windows]
    for newer, older in itertools.pairwise(edges):
        assert older.end == newer.start
        assert older.duration == timedelta(days=days)


def test_same_period_last_year_handles_29_february() -> None:
    rule = parse_rule(
        with_line(GOOD, "{kind: trailing, periods: 4}", "{kind: same_period_last_year, years: 2}")
    )
    observed = Window(
        datetime(2028, 2, 23, tzinfo=SHANGHAI), datetime(2028, 2, 29, tzinfo=SHANGHAI)
    )
    assert baseline_windows(rule, observed) == [
        Window(datetime(2027, 2, 23, tzinfo=SHANGHAI), datetime(2027, 2, 28, tzinfo=SHANGHAI)),
        Window(datetime(2026, 2, 23, tzinfo=SHANGHAI), datetime(2026, 2, 28, tzinfo=SHANGHAI)),
    ]


# --- running a rule on a tiny store ---------------------------------------------------------

END = datetime(2026, 3, 29, tzinfo=SHANGHAI)  # observed window: 22-28 March (local)


def _burglaries(code: str | None, per_period: list[int]) -> list[tuple[datetime, str | None, str]]:
    """``per_period[i]`` burglaries in the i-th 7-day period back from END (0 = observed)."""
    rows = []
    for i, n in enumerate(per_period):
        start = END - timedelta(days=7 * (i + 1))
        for k in range(n):
            category = "burglary" if k % 2 else "入室盗窃"
            rows.append((start + timedelta(hours=5 + 7 * k), code, category))
    return rows


def test_rule_run_levels_each_jurisdiction(any_store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    with any_store.factory() as session:
        add_incidents(
            session,
            _burglaries(STATION_A, [7, 2, 2, 2, 2])  # expected 2, ratio 3.5: red
            + _burglaries(STATION_B, [7, 4, 4, 4, 4])  # expected 4, ratio 1.75: yellow
            + _burglaries(None, [9, 0, 0, 0, 0])  # outside every station: not counted
            + [(END - timedelta(days=1), STATION_B, "theft")] * 6  # other category
            + [(END, STATION_B, "burglary")] * 3,  # at the window end: excluded
        )
    model = rule_model(parse_rule(GOOD), origin="test")
    with any_store.factory() as session:
        context = make_context(session, END - timedelta(days=1), END)
        record = run_model(model, params={}, context=context)
        session.commit()
    assert record.ok, record.error
    by_code = {f.evidence["jurisdiction_code"]: f for f in record.findings}
    assert set(by_code) == {STATION_A, STATION_B}
    red, yellow = by_code[STATION_A], by_code[STATION_B]
    assert red.level is Level.RED and yellow.level is Level.YELLOW
    assert (red.evidence["observed"], red.evidence["expected"], red.evidence["ratio"]) == (
        7,
        2.0,
        3.5,
    )
    assert red.evidence["baseline_counts"] == [2, 2, 2, 2]
    assert (yellow.evidence["observed"], yellow.evidence["ratio"]) == (7, 1.75)
    assert red.kind == "rule" and red.model_id == "rules.burglary_surge"
    assert red.window_start == datetime(2026, 3, 22, tzinfo=SHANGHAI) and red.window_end == END
    assert "共7起入室盗窃、burglary" in red.explanation
    assert "平均2.0起，为其3.50倍，达到红色预警阈值（3倍" in red.explanation
    assert red.geometry["type"] == "Polygon"
    assert red.key == "rules.burglary_surge:320706001:2026-03-28"
    with any_store.factory() as session:
        stored = list_findings(session=session, scope=[STATION_A], model_id="rules.burglary_surge")
    assert [s.finding.level for s in stored] == [Level.RED]


def test_rule_min_count_and_params_override(store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        add_incidents(session, _burglaries(STATION_A, [4, 1, 1, 1, 1]))  # ratio 4, only 4 records
    model = rule_model(parse_rule(GOOD), origin="test")
    with store.factory() as session:
        quiet = run_model(
            model, params={}, context=make_context(session, END - timedelta(days=1), END)
        )
        loud = run_model(
            model,
            params={"min_count": 4},
            context=make_context(session, END - timedelta(days=1), END),
        )
    assert quiet.ok and quiet.n_findings == 0
    assert loud.ok and [f.level for f in loud.findings] == [Level.RED]
    assert loud.params == {"window_days": 7, "min_count": 4}


def test_same_period_last_year_and_bureau_wide(store, add_incidents, make_context) -> None:  # type: ignore[no-untyped-def]
    text = with_line(GOOD, "{kind: trailing, periods: 4}", "{kind: same_period_last_year}")
    text = with_line(text, "group_by: jurisdiction", "group_by: all")
    text = with_line(text, "min_count: 5", "min_count: 3")
    year_ago = END.replace(year=2025)
    with store.factory() as session:
        add_incidents(
            session,
            [(END - timedelta(days=2), STATION_A, "burglary")] * 2
            + [(END - timedelta(days=3), STATION_B, "burglary")]
            + [(year_ago - timedelta(days=2), STATION_B, "burglary")] * 2
            + [(year_ago - timedelta(days=8), STATION_B, "burglary")]
            * 5,  # outside last year's window
        )
    model = rule_model(parse_rule(text), origin="test")
    with store.factory() as session:
        record = run_model(
            model, params={}, context=make_context(session, END - timedelta(days=1), END)
        )
        session.commit()
    assert record.ok, record.error
    [finding] = record.findings
    assert finding.level is Level.YELLOW
    assert finding.evidence["jurisdiction_code"] is None
    assert (finding.evidence["observed"], finding.evidence["expected"]) == (3, 2.0)
    assert finding.evidence["baseline_windows"] == [
        [datetime(2025, 3, 22, tzinfo=SHANGHAI).isoformat(), year_ago.isoformat()]
    ]
    assert finding.geometry["type"] in {"Polygon", "MultiPolygon"}
    assert "往年同期" in finding.explanation
    with store.factory() as session:
        stored = list_findings(session=session, scope=None, model_id="rules.burglary_surge")
    assert [s.jurisdiction_code for s in stored] == [None]


category = st.text(alphabet=st.sampled_from("入室盗窃诈骗打架斗殴abcxyz_"), min_size=1, max_size=8)


@given(
    categories=st.lists(category, min_size=1, max_size=4, unique=True),
    window_days=st.integers(min_value=1, max_value=366),
    periods=st.integers(min_value=1, max_value=52),
    min_count=st.integers(min_value=0, max_value=1000),
    yellow=st.floats(min_value=0.01, max_value=50, allow_nan=False),
    step=st.floats(min_value=0.01, max_value=50, allow_nan=False),
    data=st.sampled_from(["incidents", "cases"]),
)
def test_any_valid_rule_round_trips_through_yaml(
    categories: list[str],
    window_days: int,
    periods: int,
    min_count: int,
    yellow: float,
    step: float,
    data: str,
) -> None:
    document = {
        "id": "rules.generated",
        "version": "2.0.1",
        "title_zh": "生成的规则",
        "title_en": "Generated rule",
        "data": data,
        "filter": {"category": categories},
        "window_days": window_days,
        "baseline": {"kind": "trailing", "periods": periods},
        "levels": {"orange": yellow + step, "yellow": yellow},
        "min_count": min_count,
    }
    rule = parse_rule(yaml.safe_dump(document, allow_unicode=True))
    assert rule.filter == {"category": categories}
    assert (rule.window_days, rule.min_count, rule.data) == (window_days, min_count, data)
    assert rule.baseline.periods == periods  # type: ignore[union-attr]
    assert rule.levels.thresholds() == [(Level.ORANGE, yellow + step), (Level.YELLOW, yellow)]
    assert rule_model(rule, origin="x").spec.params_model().model_dump() == {
        "window_days": window_days,
        "min_count": min_count,
    }
