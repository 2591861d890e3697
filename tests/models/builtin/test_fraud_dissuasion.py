"""Built-in model fraud.dissuasion on a small store: ranking, channels, hold-out, risk, policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from haizhou.domain import Level
from haizhou.models.registry import discover
from haizhou.models.runner import run_model
from haizhou.store.tables import PersonRow
from haizhou.store.tables.fraud import DissuasionOutcomeRow, FraudWarningRow
from haizhou.tasks.policy import Decision, InstructionPolicy, policy_from_mapping

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATION_A, STATION_B = "320706001", "320706002"
CENTRES = {STATION_A: (119.20, 34.60), STATION_B: (119.25, 34.60)}
DAY = datetime(2026, 3, 4, tzinfo=SHANGHAI)
BANDS = ("18-29", "30-39", "60-69", "70+")


def _fill(store, n: int = 100, history: int = 0, seed: int = 1) -> None:  # type: ignore[no-untyped-def]
    """``n`` warnings on the day before DAY; ``history`` older ones with recorded outcomes
    (risky transfers of the 70+ become victims, nobody else)."""
    rng = np.random.default_rng(seed)
    with store.factory() as session:
        total = n + history
        for i in range(total):
            code = STATION_A if i % 2 else STATION_B
            session.add(
                PersonRow(
                    source="test",
                    source_id=f"p{i}",
                    pseudonym=f"ps{i:05d}",
                    masked_id="***",
                    registration="permanent",
                    age_band=BANDS[i % 4],
                    occupation="退休" if i % 4 == 3 else "企业职员",
                    jurisdiction_code=code,
                    content_hash="h",
                )
            )
        session.flush()
        for i in range(total):
            code = STATION_A if i % 2 else STATION_B
            lon, lat = CENTRES[code]
            old = i >= n
            at = DAY - timedelta(days=30 + i % 200) if old else DAY - timedelta(hours=1 + i % 20)
            kind = "risky_transfer" if i % 3 == 0 else "fraud_contact"
            w = FraudWarningRow(
                source="test",
                source_id=f"w{i}",
                person_pseudonym=f"ps{i:05d}",
                kind=kind,
                warned_at=at,
                contacts=float(1 + i % 5),
                potential_loss=float(rng.integers(1, 100)) * 1000,
                lon=lon,
                lat=lat,
                jurisdiction_code=code,
                content_hash="h",
            )
            session.add(w)
            if old:
                session.flush()
                session.add(
                    DissuasionOutcomeRow(
                        warning_id=w.id,
                        victimised=kind == "risky_transfer" and BANDS[i % 4] == "70+",
                        recorded_at=DAY,
                        recorded_by="test",
                    )
                )
        session.commit()


def _run(store, make_context, params: dict | None = None):  # type: ignore[no-untyped-def]
    model = discover(entry_points=False, packaged_rules=False).get("fraud.dissuasion")
    with store.factory() as session:
        record = run_model(
            model, params=params or {}, context=make_context(session, DAY - timedelta(days=1), DAY)
        )
        session.rollback()
    assert record.ok, record.error
    return record.findings


def test_warnings_become_calls_visits_and_talks_by_expected_loss(any_store, make_context) -> None:  # type: ignore[no-untyped-def]
    _fill(any_store, n=100)
    found = _run(any_store, make_context)
    single = [f for f in found if f.kind == "fraud_dissuasion"]
    talks = [f for f in found if f.kind == "fraud_dissuasion_talk"]
    assert len(single) == 40 and {f.evidence["jurisdiction_code"] for f in talks} == {
        STATION_A,
        STATION_B,
    }
    assert sum(f.evidence["n_warnings"] for f in talks) == 60
    by_rank = sorted(single, key=lambda f: f.evidence["rank"])
    assert [f.evidence["rank"] for f in by_rank] == list(range(1, 41))
    losses = [f.evidence["expected_loss"] for f in by_rank]
    assert losses == sorted(losses, reverse=True)
    assert {f.level for f in by_rank[:10]} == {Level.RED}
    assert {f.evidence["channel"] for f in by_rank[:10]} == {"call"}
    assert {f.level for f in by_rank[10:]} == {Level.ORANGE}
    assert all(f.level is Level.BLUE for f in talks)
    assert all(f.evidence["risk_source"] == "prior" for f in single)
    deadline = datetime.fromisoformat(by_rank[0].evidence["deadline"])
    assert deadline == DAY.astimezone(UTC) + timedelta(hours=1)
    # every finding about people waits for a human decision
    policy = InstructionPolicy()
    assert {policy.decide_finding(f) for f in single + talks} == {Decision.APPROVAL}
    assert not any(f.kind == "fraud_dissuasion_holdout" for f in found)


def test_holdout_is_seeded_recorded_and_never_issued(store, make_context) -> None:  # type: ignore[no-untyped-def]
    _fill(store, n=200)
    params = {"holdout_share": 0.5, "seed": 3}
    a = _run(store, make_context, params)
    b = _run(store, make_context, params)
    held = [f for f in a if f.kind == "fraud_dissuasion_holdout"]
    held_ids = sorted(i for f in held for i in f.evidence["warning_ids"])
    assert held_ids == sorted(
        i for f in b if f.kind == "fraud_dissuasion_holdout" for i in f.evidence["warning_ids"]
    )
    talk_ids = [
        i for f in a if f.kind == "fraud_dissuasion_talk" for i in f.evidence["warning_ids"]
    ]
    assert 30 < len(held_ids) < 90 and len(held_ids) + len(talk_ids) == 120
    assert not set(held_ids) & set(talk_ids)
    assert all("person_pseudonyms" not in f.evidence for f in held)
    for policy in (InstructionPolicy(), policy_from_mapping({"rules": {"*": {"blue": "auto"}}})):
        assert {policy.decide_finding(f) for f in held} == {Decision.IGNORE}
    other = _run(store, make_context, {"holdout_share": 0.5, "seed": 4})
    assert held_ids != sorted(
        i for f in other if f.kind == "fraud_dissuasion_holdout" for i in f.evidence["warning_ids"]
    )


def test_recorded_outcomes_train_the_risk_model(store, make_context) -> None:  # type: ignore[no-untyped-def]
    _fill(store, n=100, history=400)
    found = _run(store, make_context, {"min_labelled": 200})
    single = [f for f in found if f.kind == "fraud_dissuasion"]
    assert {f.evidence["risk_source"] for f in single} == {"fitted"}
    risky_old = [
        f.evidence["risk"]
        for f in single
        if f.evidence["warning_kind"] == "risky_transfer" and f.evidence["age_band"] == "70+"
    ]
    others = [
        f.evidence["risk"]
        for f in single
        if not (f.evidence["warning_kind"] == "risky_transfer" and f.evidence["age_band"] == "70+")
    ]
    assert risky_old and others and min(risky_old) > max(others)


def test_no_warnings_no_findings(store, make_context) -> None:  # type: ignore[no-untyped-def]
    assert _run(store, make_context) == ()


def test_sim_feed_to_holdout_to_uplift_end_to_end(tmp_path, database_url, make_context) -> None:  # type: ignore[no-untyped-def]
    """Sim files → import → daily runs with a hold-out → outcomes from the truth → uplift."""
    import pandas as pd
    from typer.testing import CliRunner

    from haizhou.cli.main import app
    from haizhou.ingest import import_file
    from haizhou.reports.sensing import stored_uplift
    from haizhou.sim import CityConfig, generate_city, write_city
    from haizhou.store import migrate
    from haizhou.store.engine import make_engine, make_sessionmaker

    files = write_city(generate_city(CityConfig(scale=0.03, days=40)), tmp_path / "city")
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    for kind, name in (
        ("jurisdictions", "jurisdictions.geojson"),
        ("persons", "persons.csv"),
        ("fraud_warnings", "fraud_warnings.csv"),
    ):
        import_file(
            kind,
            files[name],
            engine=engine,
            data_dir=tmp_path,
            source="sim",
            pseudonym_key="test-key-" + "x" * 32,
        )
    model = discover(entry_points=False, packaged_rules=False).get("fraud.dissuasion")
    factory = make_sessionmaker(engine)
    params = {"holdout_share": 0.5, "seed": 2}
    first = datetime(2024, 1, 2, tzinfo=SHANGHAI)
    kinds: dict[str, int] = {}
    for d in range(40):
        end = first + timedelta(days=d)
        with factory() as session:
            rec = run_model(
                model, params=params, context=make_context(session, end - timedelta(days=1), end)
            )
            session.commit()
        assert rec.ok, rec.error
        for f in rec.findings:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
    assert kinds.get("fraud_dissuasion_holdout", 0) > 0 and kinds.get("fraud_dissuasion", 0) > 0
    with factory() as session:
        u0 = stored_uplift(session, None, datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC))
    assert u0 is None  # no outcome recorded yet
    # outcomes from the truth: a reached would-be victim is stopped when dissuadable
    from haizhou.store.tables import FindingRow

    with factory() as session:
        held = {
            int(i)
            for (e,) in session.query(FindingRow.evidence).filter(
                FindingRow.kind == "fraud_dissuasion_holdout"
            )
            for i in e["warning_ids"]
        }
        sid = dict(session.query(FraudWarningRow.id, FraudWarningRow.source_id).all())
    held_src = {sid[i] for i in held}
    truth = pd.read_csv(files["truth/fraud_warnings.csv"], dtype=str)
    would = truth["would_be_victim"] == "true"
    stopped = (truth["dissuadable"] == "true") & ~truth["warning_id"].isin(held_src)
    pd.DataFrame(
        {"warning_id": truth["warning_id"], "victimised": (would & ~stopped).astype(int)}
    ).to_csv(tmp_path / "o.csv", index=False)
    env = {"HAIZHOU_DATABASE_URL": database_url}
    r = CliRunner().invoke(app, ["fraud", "outcomes", str(tmp_path / "o.csv"), "--json"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app, ["fraud", "uplift", "--store", "--days", "100000", "--json"], env=env
    )
    assert r.exit_code == 0, r.output
    import json

    u = json.loads(r.output)
    assert u["n_control"] == len(held) > 0 and u["n_treated"] > 0
    expected = float(would[truth["warning_id"].isin(held_src)].mean())
    assert u["rate_control"] == expected  # held out: nobody stopped the would-be victims
    engine.dispose()
