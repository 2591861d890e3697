"""The synthetic fraud early-warning feed: planted lift, ground truth, files, import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.metrics import roc_auc_score

from haizhou.sim import CityConfig, generate_city, write_city
from haizhou.sim.fraud_warnings import generate_fraud_warnings, outcomes

TINY = CityConfig(scale=0.03, seed=11, days=120)


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return generate_city(TINY)


def test_true_warnings_precede_their_fraud_and_carry_the_planted_lift(city) -> None:  # type: ignore[no-untyped-def]
    fw = generate_fraud_warnings(city)
    w, t = fw.warnings, fw.truth
    assert len(w) == len(t) and (w["warning_id"] == t["warning_id"]).all()
    assert w["warned_at"].is_monotonic_increasing
    n_true = int(t["would_be_victim"].sum())
    assert n_true > 20 and len(w) == n_true + round(9.0 * n_true)
    cases = city.cases.set_index("case_id")
    true = t[t["would_be_victim"]]
    fraud_at = cases.loc[true["case_id"], "occurred_from"].to_numpy()
    lead_h = (fraud_at - w.loc[true.index, "warned_at"].to_numpy()) / np.timedelta64(1, "h")
    assert ((lead_h >= 2) & (lead_h <= 72)).all()
    victims = cases.loc[true["case_id"], "victim_id"].astype(str).to_numpy()
    assert (w.loc[true.index, "id_number"].to_numpy() == victims).all()
    y = t["would_be_victim"].to_numpy()
    assert roc_auc_score(y, w["contacts"]) > 0.7  # the planted signal is there
    share = w.groupby(y)["kind"].apply(lambda s: (s == "risky_transfer").mean())
    assert share[True] > 2 * share[False]


def test_outreach_only_prevents_dissuadable_victims(city) -> None:  # type: ignore[no-untyped-def]
    t = generate_fraud_warnings(city, effect=0.5).truth
    none = outcomes(t, np.zeros(len(t), bool))
    everyone = outcomes(t, np.ones(len(t), bool))
    assert (none == t["would_be_victim"]).all()
    assert everyone.sum() == (t["would_be_victim"] & ~t["dissuadable"]).sum() < none.sum()
    assert 0.3 < t["dissuadable"].sum() / t["would_be_victim"].sum() < 0.7


def test_deterministic_and_checked(city) -> None:  # type: ignore[no-untyped-def]
    a, b = generate_fraud_warnings(city), generate_fraud_warnings(city)
    pd.testing.assert_frame_equal(a.warnings, b.warnings)
    with pytest.raises(ValueError, match="detect_share"):
        generate_fraud_warnings(city, detect_share=0)


def test_written_feed_imports_pseudonymised_and_joins_the_registry(
    tmp_path: Path, database_url: str
) -> None:
    from haizhou.ingest import import_file
    from haizhou.store.engine import make_engine
    from haizhou.store.migrate import upgrade

    city = generate_city(CityConfig(scale=0.02, days=60))
    files = write_city(city, tmp_path / "city")
    assert {"fraud_warnings.csv", "truth/fraud_warnings.csv"} <= set(files)
    upgrade(database_url)
    engine = make_engine(database_url)
    key = "test-key-" + "x" * 32
    n = len(pd.read_csv(files["fraud_warnings.csv"], dtype=str))
    for kind, name in (
        ("jurisdictions", "jurisdictions.geojson"),
        ("persons", "persons.csv"),
        ("fraud_warnings", "fraud_warnings.csv"),
    ):
        r = import_file(
            kind, files[name], engine=engine, data_dir=tmp_path, source="sim", pseudonym_key=key
        )
        assert r.quarantined == 0, kind
    assert r.accepted == n > 0
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT w.person_pseudonym, w.kind, w.jurisdiction_code, p.pseudonym "
                "FROM fraud_warnings w LEFT JOIN persons p ON p.pseudonym = w.person_pseudonym"
            )
        ).all()
        raw = " ".join(
            str(v) for row in conn.execute(sa.text("SELECT * FROM fraud_warnings")) for v in row
        )
    assert len(rows) == n
    assert all(r[3] is not None for r in rows)  # every warned person is in the registry
    assert {r[1] for r in rows} == {"fraud_contact", "risky_transfer"}
    assert all(r[2] is not None for r in rows)
    ids = pd.read_csv(files["fraud_warnings.csv"], dtype=str)["id_number"]
    assert not any(i in raw for i in ids.head(50))  # no ID number in clear
    again = import_file(
        "fraud_warnings",
        files["fraud_warnings.csv"],
        engine=engine,
        data_dir=tmp_path,
        source="sim",
        pseudonym_key=key,
    )
    assert again.accepted == 0  # re-import is idempotent
