"""Built-in model linkage.series on a small store with planted series (串并案).

Two serial burglars with rare, stable methods work one station each (X in A, Y in B); half of
each series is solved with the offender's suspect pseudonym. Six more solved series and random
background cases (each solved one with its own suspect) give the model something to learn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from haizhou.analytics.linkage import LinkageModel
from haizhou.analytics.linkage.cases import crimes_from_cases, offenders_from_cases
from haizhou.domain import Level
from haizhou.geo.h3cells import cells_from_lonlat
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.repositories.cases import iter_cases
from haizhou.store.tables import CaseRow
from haizhou.tasks.policy import Decision, InstructionPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
CENTRES = {STATION_A: (119.20, 34.60), STATION_B: (119.25, 34.60)}
NOW = datetime(2026, 3, 1, tzinfo=SHANGHAI)
COMMON = {
    "entry_method": ["撬锁", "插片", "溜门"],
    "target": ["住宅", "商铺"],
    "tools": ["螺丝刀", "无"],
    "time_of_day": ["上午", "下午", "夜间"],
}
SIGNATURES = {
    "X": ("技术开锁", "住宅", "液压钳", "凌晨", STATION_A, 2.0),
    "Y": ("破窗", "商铺", "撬棍", "夜间", STATION_B, 22.0),
    **{
        f"T{k}": (m, t, tool, tod, (STATION_A, STATION_B)[k % 2], hour)
        for k, (m, t, tool, tod, hour) in enumerate(
            [
                ("攀爬", "住宅", "钢丝", "凌晨", 3.0),
                ("钻窗", "仓库", "电钻", "下午", 15.0),
                ("翻墙", "办公室", "撬棍", "上午", 10.0),
                ("挖洞", "商铺", "铁锹", "凌晨", 1.0),
                ("冒充", "住宅", "工作证", "下午", 14.0),
                ("溜门", "办公室", "钢丝", "夜间", 21.0),
            ]
        )
    },
}


def _row(k: str, lon: float, lat: float, at: datetime, code: str, mo, status, suspects) -> CaseRow:  # type: ignore[no-untyped-def]
    return CaseRow(
        source="test",
        source_id=k,
        category="入室盗窃",
        occurred_from=at,
        occurred_to=at + timedelta(hours=1),
        lon=lon,
        lat=lat,
        h3_r7=int(cells_from_lonlat(lon, lat, 7)),
        h3_r8=int(cells_from_lonlat(lon, lat, 8)),
        h3_r9=int(cells_from_lonlat(lon, lat, 9)),
        jurisdiction_code=code,
        mo_entry_method=mo[0],
        mo_target=mo[1],
        mo_tools=mo[2],
        mo_time_of_day=mo[3],
        status=status,
        suspect_pseudonyms=list(suspects),
        narrative=f"嫌疑人以{mo[0]}方式进入{mo[1]}盗窃",
        content_hash="h",
    )


def plant(session) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Write the planted cases; return each serial offender's case ids in time order."""
    rng = np.random.default_rng(7)
    series: dict[str, list[str]] = {}
    for name, (entry, target, tools, tod, code, hour) in SIGNATURES.items():
        lon0, lat0 = CENTRES[code]
        planted = name in ("X", "Y")
        start = NOW - timedelta(days=60 if planted else 400 - 30 * len(series))
        ids = []
        for i in range(8):
            k = f"{name}{i}"
            at = start + timedelta(days=5 * i, hours=hour)
            solved = (i % 2 == 0) if planted else True
            session.add(
                _row(
                    k,
                    lon0 + rng.normal(0, 0.002),
                    lat0 + rng.normal(0, 0.002),
                    at,
                    code,
                    (entry, target, tools, tod),
                    "solved" if solved else "filed",
                    [f"ps-{name}"] if solved else [],
                )
            )
            ids.append(k)
        series[name] = ids
    for i in range(120):
        code = (STATION_A, STATION_B)[i % 2]
        lon0, lat0 = CENTRES[code]
        at = NOW - timedelta(days=float(rng.uniform(1, 420)), hours=float(rng.uniform(0, 24)))
        mo = tuple(str(rng.choice(v)) for v in COMMON.values())
        solved = rng.random() < 0.3
        session.add(
            _row(
                f"N{i}",
                lon0 + rng.uniform(-0.009, 0.009),
                lat0 + rng.uniform(-0.009, 0.009),
                at,
                code,
                mo,
                "solved" if solved else "filed",
                [f"ps-n{i}"] if solved else [],
            )
        )
    session.commit()
    return series


PARAMS = {"learner": "logistic", "max_distance_m": 3000, "max_gap_days": 60}


def _run(store, make_context, params=None, scope=None):  # type: ignore[no-untyped-def]
    model = discover(entry_points=False, packaged_rules=False).get("linkage.series")
    with store.factory() as session:
        record = run_model(
            model,
            params={**PARAMS, **(params or {})},
            context=make_context(session, NOW - timedelta(days=1), NOW, scope=scope),
        )
        session.commit()
    return record


def _planted(store) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        return plant(session)


def test_series_and_leads_found_and_routed(store, make_context) -> None:  # type: ignore[no-untyped-def]
    truth = _planted(store)
    record = _run(store, make_context)
    assert record.ok, record.error
    kinds = {f.kind for f in record.findings}
    assert kinds <= {"linkage_series", "linkage_lead"} and kinds == {
        "linkage_series",
        "linkage_lead",
    }
    series = [f for f in record.findings if f.kind == "linkage_series"]
    x_ids = set(truth["X"])
    best = max(series, key=lambda f: len(x_ids & {c["case_id"] for c in f.evidence["cases"]}))
    members = [c["case_id"] for c in best.evidence["cases"]]
    assert len(x_ids & set(members)) >= 6
    assert len(set(members) - x_ids) <= 1
    # time order, numbered from 1, and the evidence names the planted method
    starts = [c["occurred_from"] for c in best.evidence["cases"]]
    assert starts == sorted(starts)
    assert [c["order"] for c in best.evidence["cases"]] == list(range(1, len(members) + 1))
    assert any("技术开锁" in r for p in best.evidence["pairs"] for r in p["reasons_zh"])
    assert best.evidence["jurisdiction_code"] == STATION_A
    assert best.level is Level.ORANGE
    assert best.geometry["type"] == "MultiPoint" and len(best.geometry["coordinates"]) == len(
        members
    )
    assert "person_pseudonyms" not in best.evidence  # series name no one
    # the runner routes it to station A
    k = record.findings.index(best)
    assert record.jurisdiction_codes[k] == STATION_A
    # every series shown has an unsolved case
    assert all(f.evidence["n_open"] >= 1 for f in series)


def test_a_past_window_links_the_cases_up_to_its_end(store, make_context) -> None:  # type: ignore[no-untyped-def]
    # a backfill run (haizhou models run --start/--end) long after the window: the cases are
    # those before the window's end, not before the moment of the run
    _planted(store)
    model = discover(entry_points=False, packaged_rules=False).get("linkage.series")
    with store.factory() as session:
        context = make_context(session, NOW - timedelta(days=1), NOW)
        later = dataclasses.replace(context, now=NOW + timedelta(days=1000))
        record = run_model(model, params=PARAMS, context=later)
    assert record.ok, record.error
    assert any(f.kind == "linkage_series" for f in record.findings)


def test_lead_offers_the_linked_suspect_and_waits_for_approval(store, make_context) -> None:  # type: ignore[no-untyped-def]
    truth = _planted(store)
    record = _run(store, make_context)
    assert record.ok, record.error
    leads = {f.evidence["case_id"]: f for f in record.findings if f.kind == "linkage_lead"}
    open_x = [k for i, k in enumerate(truth["X"]) if i % 2 == 1]
    hits = [leads[k] for k in open_x if k in leads]
    assert len(hits) >= 3
    for lead in hits:
        assert "ps-X" in lead.evidence["person_pseudonyms"]
        assert "ps-Y" not in lead.evidence["person_pseudonyms"]
        assert lead.evidence["jurisdiction_code"] == STATION_A
        linked = lead.evidence["linked"]
        assert linked and all(x["case_id"] != lead.evidence["case_id"] for x in linked)
        assert any(x["suspects"] == ["ps-X"] and x["status"] == "solved" for x in linked)
        assert lead.level is Level.YELLOW
        # names a person: a human approves before it reaches the station, even if red
        policy = InstructionPolicy()
        assert policy.decide_finding(lead) is Decision.APPROVAL
        assert policy.decide(kind="linkage_lead", level="red", evidence=lead.evidence) is (
            Decision.APPROVAL
        )
    # solved cases get no lead; keys are stable across runs
    solved_x = [k for i, k in enumerate(truth["X"]) if i % 2 == 0]
    assert not set(solved_x) & set(leads)
    again = _run(store, make_context)
    assert sorted(f.key for f in again.findings) == sorted(f.key for f in record.findings)


def test_scope_keeps_other_stations_cases_out(store, make_context) -> None:  # type: ignore[no-untyped-def]
    truth = _planted(store)
    record = _run(store, make_context, scope=[STATION_B])
    assert record.ok, record.error
    seen = set()
    for f in record.findings:
        cases = f.evidence.get("cases") or [f.evidence["case"], *f.evidence["linked"]]
        seen |= {c["case_id"] for c in cases}
        assert {c["jurisdiction_code"] for c in cases} == {STATION_B}
    assert not seen & set(truth["X"])
    assert seen & set(truth["Y"])


def _save(model: LinkageModel, path: Path) -> None:
    blob = pickle.dumps(model)
    path.write_bytes(blob)
    meta = {
        "format": "haizhou-linkage-model",
        "format_version": 1,
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    path.with_name(path.name + ".json").write_text(json.dumps(meta), encoding="utf-8")


def _planted_crimes(store):  # type: ignore[no-untyped-def]
    """The planted series' cases and their crime table."""
    _planted(store)
    with store.factory() as session:
        cases = list(
            iter_cases(session=session, scope=None, start=NOW - timedelta(days=800), end=NOW)
        )
    return cases, crimes_from_cases(cases, zone=SHANGHAI)


def test_model_file_is_used_and_a_tampered_file_refused(  # type: ignore[no-untyped-def]
    store, make_context, tmp_path: Path
) -> None:
    cases, crimes = _planted_crimes(store)
    model = LinkageModel(learner="naive_bayes", max_distance_m=3000, max_gap_days=60)
    model.fit(crimes, offenders_from_cases(crimes, cases))
    path = tmp_path / "linkage.model"
    _save(model, path)
    record = _run(store, make_context, params={"model_file": str(path)})
    assert record.ok, record.error
    series = [f for f in record.findings if f.kind == "linkage_series"]
    assert series and all(f.evidence["learner"] == "naive_bayes" for f in series)
    path.write_bytes(path.read_bytes() + b"x")
    record = _run(store, make_context, params={"model_file": str(path)})
    assert record.status == "error" and "SHA-256" in (record.error or "")


def test_a_model_file_with_the_second_stage_links_with_it(  # type: ignore[no-untyped-def]
    store, make_context, tmp_path: Path
) -> None:
    cases, crimes = _planted_crimes(store)
    params = {"learner": "logistic", "max_distance_m": 3000, "max_gap_days": 60, "n_splits": 3}
    model = LinkageModel(**params, collective=True)
    model.fit(crimes, offenders_from_cases(crimes, cases))
    assert model.collective_
    path = tmp_path / "linkage.model"
    _save(model, path)
    record = _run(store, make_context, params={"model_file": str(path), "series_threshold": 0.2})
    assert record.ok, record.error
    series = [f for f in record.findings if f.kind == "linkage_series"]
    assert series and all(f.evidence["collective"] is True for f in series)


def test_no_solved_series_is_a_clear_error(store, make_context) -> None:  # type: ignore[no-untyped-def]
    with store.factory() as session:
        for i in range(6):
            lon, lat = CENTRES[STATION_A]
            at = NOW - timedelta(days=3 * i + 1)
            session.add(
                _row(f"U{i}", lon, lat, at, STATION_A, ("撬锁", "住宅", "无", "凌晨"), "filed", [])
            )
        session.commit()
    record = _run(store, make_context)
    assert record.status == "error"
    assert "model_file" in (record.error or "")


@pytest.mark.parametrize(
    "bad", [{"series_threshold": 1.5}, {"learner": "svm"}, {"collective": "yes"}]
)
def test_bad_parameters_are_refused(store, make_context, bad) -> None:  # type: ignore[no-untyped-def]
    from haizhou.models.runner import ParamsError

    if "learner" in bad:
        # an unknown learner is only caught when the estimator checks its parameters
        _planted(store)
        record = _run(store, make_context, params=bad)
        assert record.status == "error" and "svm" in (record.error or "")
        return
    with pytest.raises(ParamsError, match=next(iter(bad))):
        _run(store, make_context, params=bad)
