"""``haizhou linkage`` on the crimelinkage CSV files: train, link, evaluate, and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tests.conftest import shared_file
from typer.testing import CliRunner

from haizhou.cli.linkage import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files():
    return shared_file("crimelinkage", "crimes.csv"), shared_file("crimelinkage", "offenders.csv")


@pytest.fixture(scope="module")
def trained(files, tmp_path_factory):
    crimes, offenders = files
    out = tmp_path_factory.mktemp("model") / "m.model"
    result = runner.invoke(
        app,
        [
            "train",
            "--crimes",
            str(crimes),
            "--offenders",
            str(offenders),
            "--mo-cols",
            "MO1,MO2,MO3",
            "--model-out",
            str(out),
            "--learner",
            "logistic",
            "--max-distance-m",
            "30000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_writes_model_and_sidecar(trained):
    out, summary = trained
    assert summary["learner"] == "logistic"
    assert summary["n_solved"] == 390
    meta = json.loads(out.with_name(out.name + ".json").read_text(encoding="utf-8"))
    assert meta["mo_names"] == ["MO1", "MO2", "MO3"]
    assert "gap_days" in meta["features"]
    assert len(meta["sha256"]) == 64
    # --series-threshold defaults to auto: tuned on the training cases' inner folds
    assert meta["params"]["tune_series"] is True
    assert 0 < meta["series_threshold"] < 1
    assert meta["series_cv"][f"{meta['series_threshold']:g}"] == max(meta["series_cv"].values())


def test_link_writes_pairs_and_series(trained, files, tmp_path):
    out, _ = trained
    crimes, offenders = files
    pairs, series, leads = tmp_path / "p.csv", tmp_path / "s.csv", tmp_path / "l.csv"
    result = runner.invoke(
        app,
        [
            "link",
            "--model",
            str(out),
            "--crimes",
            str(crimes),
            "--mo-cols",
            "MO1,MO2,MO3",
            "--pairs-out",
            str(pairs),
            "--series-out",
            str(series),
            "--offenders",
            str(offenders),
            "--leads-out",
            str(leads),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    p = pd.read_csv(pairs)
    s = pd.read_csv(series)
    assert list(p.columns) == ["crime_a", "crime_b", "probability"]
    assert p["probability"].between(0, 1).all()
    assert p["probability"].is_monotonic_decreasing
    assert sorted(s["crime_id"]) == sorted(pd.read_csv(crimes)["crimeID"])  # each crime once
    assert s["series_id"].value_counts().max() >= 2
    lead = pd.read_csv(leads)
    assert lead["crime_id"].str.slice(2).astype(int).min() >= 391  # only unsolved cases
    assert lead["reasons_en"].str.contains("apart").all()


def test_tampered_model_is_refused(trained, files, tmp_path):
    out, _ = trained
    bad = tmp_path / "bad.model"
    bad.write_bytes(out.read_bytes() + b"x")
    (tmp_path / "bad.model.json").write_text(
        out.with_name(out.name + ".json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = runner.invoke(app, ["link", "--model", str(bad), "--crimes", str(files[0])])
    assert result.exit_code == 1
    assert "SHA-256" in result.output
    assert "Traceback" not in result.output


def test_bad_csv_names_file_row_and_column(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(
        "crimeID,X,Y,DATE_FROM,TIME_FROM,DATE_TO,TIME_TO,MO1\n"
        "a,1,2,1993-01-01,0100,1993-01-01,0200,x\n"
        "b,1,2,1993-13-45,0100,1993-01-01,0200,y\n",
        encoding="utf-8",
    )
    o = tmp_path / "o.csv"
    o.write_text("offenderID,crimeID\nO1,a\nO1,b\n", encoding="utf-8")
    result = runner.invoke(
        app, ["train", "--crimes", str(f), "--offenders", str(o), "--mo-cols", "MO1"]
    )
    assert result.exit_code == 1
    assert "row 3" in result.output and "DATE_FROM" in result.output


@pytest.mark.slow
def test_evaluate_prints_the_documented_json(files):
    crimes, offenders = files
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--crimes",
            str(crimes),
            "--offenders",
            str(offenders),
            "--mo-cols",
            "MO1,MO2,MO3",
            "--learner",
            "naive_bayes",
            "--max-distance-m",
            "30000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) >= {
        "pairwise_auc",
        "average_precision",
        "precision_at_k",
        "series_f1",
        "bcubed_f1",
        "n_crimes",
        "n_offenders",
        "model",
    }
    assert set(out["precision_at_k"]) == {"1", "5", "10"}
    assert out["n_crimes"] == 390 and out["n_offenders"] == 387
    assert 0.8 < out["pairwise_auc"] < 1.0
    assert len(out["model"]["series_thresholds"]) == 5
    assert all(0 < t < 1 for t in out["model"]["series_thresholds"])


@pytest.mark.parametrize("value", ["0", "1.5", "high"])
def test_bad_series_threshold_is_refused(files, value, tmp_path):
    crimes, offenders = files
    result = runner.invoke(
        app,
        [
            "train",
            "--crimes",
            str(crimes),
            "--offenders",
            str(offenders),
            "--mo-cols",
            "MO1,MO2,MO3",
            "--model-out",
            str(tmp_path / "m.model"),
            "--series-threshold",
            value,
        ],
    )
    assert result.exit_code != 0
    assert "--series-threshold must be auto or a number in (0, 1)" in result.output
    assert not (tmp_path / "m.model").exists()


def test_lon_lat_with_crs_and_tiny_training_set(tmp_path):
    rows = ["crimeID,lon,lat,DT.FROM,DT.TO,MO1"]
    for k in range(12):
        who = k % 3
        lon = 119.17 + 0.02 * who + 0.001 * (k // 3)
        rows.append(
            f"c{k},{lon:.5f},34.60,2024-01-{k + 1:02d} 02:00,2024-01-{k + 1:02d} 03:00,m{who}"
        )
    f = tmp_path / "c.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    o = tmp_path / "o.csv"
    o.write_text(
        "offenderID,crimeID\n" + "\n".join(f"P{k % 3},c{k}" for k in range(12)) + "\n",
        encoding="utf-8",
    )
    model = tmp_path / "m.model"
    result = runner.invoke(
        app,
        [
            "train",
            "--crimes",
            str(f),
            "--offenders",
            str(o),
            "--mo-cols",
            "MO1",
            "--crs",
            "EPSG:4326",
            "--learner",
            "naive_bayes",
            "--model-out",
            str(model),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n_linked_pairs"] == 18  # 3 offenders x C(4, 2)
    series = tmp_path / "s.csv"
    result = runner.invoke(
        app,
        [
            "link",
            "--model",
            str(model),
            "--crimes",
            str(f),
            "--crs",
            "EPSG:4326",
            "--series-out",
            str(series),
        ],
    )
    assert result.exit_code == 0, result.output
    s = pd.read_csv(series)
    # each offender's four cases end up together, and apart from the others
    groups = s.assign(who=s["crime_id"].str.slice(1).astype(int) % 3).groupby("who")["series_id"]
    assert groups.nunique().tolist() == [1, 1, 1]
    assert s["series_id"].nunique() == 3
