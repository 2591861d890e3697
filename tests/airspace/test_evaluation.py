"""Evaluation: MOT metrics against hand counts and py-motmetrics; the scenario runner; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from haizhou.airspace.evaluation import Frame, evaluate, hota, mot_metrics
from haizhou.airspace.scenario import parse_scenario
from haizhou.cli.airspace import app

from .test_scenario import small


def _frame(gt: dict, hyp: dict) -> Frame:
    return Frame(
        gt_ids=tuple(gt),
        gt_positions=np.array([gt[k] for k in gt], float).reshape(-1, 3),
        hyp_ids=tuple(hyp),
        hyp_positions=np.array([hyp[k] for k in hyp], float).reshape(-1, 3),
    )


def test_hand_counted_example():
    frames = [
        _frame({"a": (0, 0, 0), "b": (100, 0, 0)}, {1: (1, 0, 0), 2: (100, 2, 0)}),
        _frame({"a": (1, 0, 0), "b": (101, 0, 0)}, {1: (1, 0, 0), 3: (101, 0, 0), 9: (500, 0, 0)}),
        _frame({"a": (2, 0, 0), "b": (102, 0, 0)}, {1: (2, 0, 0)}),
    ]
    r = mot_metrics(frames, threshold_m=10.0)
    # gt 6; misses 1 (b in frame 3); false positives 1 (9); switches 1 (b: 2 -> 3)
    assert (r.num_gt, r.misses, r.false_positives, r.id_switches) == (6, 1, 1, 1)
    assert r.mota == pytest.approx(1 - 3 / 6, abs=1e-4)
    # IDF1: a<->1 3 frames, b<->2 1 frame (or 3): IDTP = 4; 2*4 / (6 + 6)
    assert r.idf1 == pytest.approx(8 / 12, abs=1e-4)
    assert r.motp_m == pytest.approx((1 + 2 + 0 + 0 + 0) / 5, abs=1e-3)


def test_perfect_tracking_scores_one():
    frames = [
        _frame({"a": (k, 0, 0), "b": (k, 50, 0)}, {1: (k, 0, 0), 2: (k, 50, 0)}) for k in range(10)
    ]
    r = mot_metrics(frames, threshold_m=5.0)
    assert (r.mota, r.idf1, r.id_switches) == (1.0, 1.0, 0)
    assert hota(frames, threshold_m=5.0) == pytest.approx(1.0)
    assert hota([_frame({"a": (0, 0, 0)}, {})], threshold_m=5.0) == 0.0


def test_hota_drops_with_identity_errors():
    good = [_frame({"a": (k, 0, 0)}, {1: (k, 0, 0)}) for k in range(10)]
    split = [_frame({"a": (k, 0, 0)}, {1 if k < 5 else 2: (k, 0, 0)}) for k in range(10)]
    # DetA = 1, AssA = 5 / (10 + 5 - 5) = 0.5 for both halves
    assert hota(split, threshold_m=5.0) == pytest.approx(np.sqrt(0.5), abs=1e-3)
    assert hota(good, threshold_m=5.0) == pytest.approx(1.0)


frames_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from("abcd"), unique=True, max_size=4),
        st.lists(st.integers(1, 6), unique=True, max_size=5),
        st.integers(0, 2**31 - 1),
    ),
    min_size=1,
    max_size=12,
)


def _random_frames(spec) -> list[Frame]:
    out = []
    for gts, hyps, seed in spec:
        rng = np.random.default_rng(seed)
        # continuous positions: no exact ties, where equally optimal assignments may differ
        g = {k: (float(rng.uniform(0, 8)), float(rng.uniform(0, 2)), 0.0) for k in gts}
        h = {k: (float(rng.uniform(0, 8)), float(rng.uniform(0, 2)), 0.0) for k in hyps}
        out.append(_frame(g, h))
    return out


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(frames_strategy)
def test_agrees_with_py_motmetrics(spec):
    mm = pytest.importorskip("motmetrics")
    frames = _random_frames(spec)
    acc = mm.MOTAccumulator(auto_id=True)
    for f in frames:
        d = (
            np.linalg.norm(f.gt_positions[:, None, :] - f.hyp_positions[None, :, :], axis=2)
            if (len(f.gt_ids) and len(f.hyp_ids))
            else np.zeros((len(f.gt_ids), len(f.hyp_ids)))
        )
        d = np.where(d <= 2.0, d, np.nan)
        acc.update([ord(g) for g in f.gt_ids], list(f.hyp_ids), d)  # motmetrics wants numeric ids
    summary = mm.metrics.create().compute(
        acc,
        metrics=[
            "num_objects",
            "num_misses",
            "num_false_positives",
            "num_switches",
            "mota",
            "idf1",
        ],
    )
    ours = mot_metrics(frames, threshold_m=2.0)
    row = summary.iloc[0]
    assert ours.num_gt == row["num_objects"]
    if ours.num_gt == 0:
        return
    assert (ours.misses, ours.false_positives) == (row["num_misses"], row["num_false_positives"])
    assert ours.id_switches == row["num_switches"]
    assert ours.mota == pytest.approx(row["mota"], abs=1e-4)
    assert ours.idf1 == pytest.approx(row["idf1"], abs=1e-4)


def test_evaluate_runs_the_whole_chain():
    sc = parse_scenario(small(duration_s=150.0))
    r = evaluate(sc, seed=3)
    d = r.as_dict()
    assert d["sensors"] == ["adsb", "radar", "remote_id", "rf"]
    assert r.objects == 6 and r.detected_objects >= 4
    assert 0.5 < r.mot.mota <= 1.0 and 0.5 < r.mot.idf1 <= 1.0 and 0.3 < r.hota <= 1.0
    assert r.time_to_detect_s is not None and r.time_to_detect_s < 10.0
    assert r.classification_accuracy is not None and r.classification_accuracy > 0.6
    near = [pd for lo, hi, pd, n in r.pd_by_range if hi <= 1000 and n]
    assert near and min(near) > 0.8
    # the simulated operator countered the intruder after checks, with recorded outcomes
    assert any(c["approved"] for c in r.countermeasures)
    json.dumps(d)  # JSON-ready
    stages = [s.name for inc in r.incidents for s in inc.stages]
    assert "detected" in stages and "identified" in stages


def test_sensor_mix_changes_results_deterministically():
    sc = parse_scenario(small(duration_s=100.0))
    a = evaluate(sc, sensors=["rf", "remote_id"], seed=1)
    b = evaluate(sc, sensors=["rf", "remote_id"], seed=1)
    assert a.as_dict() == b.as_dict()
    assert a.sensors == ("remote_id", "rf")
    full = evaluate(sc, seed=1)
    assert full.mot.matches > a.mot.matches  # radar sees the silent drone, birds and jet


def test_cli_evaluate_json_and_errors(tmp_path):
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(small(duration_s=60.0)), encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["evaluate", "--scenario", str(f), "--seed", "2", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert {
        "mota",
        "idf1",
        "hota",
        "id_switches",
        "pd_by_range",
        "false_alarms_per_hour",
        "time_to_detect_s",
        "time_to_classify_s",
        "classification_accuracy",
        "detection_to_countermeasure_s",
    } <= set(d)
    res = runner.invoke(
        app, ["evaluate", "--scenario", str(f), "--sensors", "radar", "--seed", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "Pd vs range" in res.stdout and "IDF1" in res.stdout and "radar" in res.stdout
    res = runner.invoke(app, ["evaluate", "--scenario", str(f), "--sensors", "radar,sonar"])
    assert res.exit_code == 2 and "sonar" in res.output
    res = runner.invoke(app, ["evaluate", "--scenario", "nowhere"])
    assert res.exit_code == 2 and "neither a shipped scenario" in res.output


@pytest.mark.slow
def test_cli_compare_mixes(tmp_path):
    f = tmp_path / "tiny.json"
    f.write_text(json.dumps(small(duration_s=60.0)), encoding="utf-8")
    res = CliRunner().invoke(app, ["evaluate", "--scenario", str(f), "--compare-mixes", "--json"])
    assert res.exit_code == 0, res.output
    mixes = [tuple(m["sensors"]) for m in json.loads(res.stdout)["mixes"]]
    assert ("radar",) in mixes and ("adsb", "radar", "remote_id", "rf") in mixes
