"""EvidenceClassifier: broadcasts, RF links, RCS and kinematics to drone / bird / manned / unknown."""

from __future__ import annotations

import numpy as np
import pytest

from haizhou.airspace.classify import EvidenceClassifier
from haizhou.airspace.tracking import Track


def _track(*, counts=(), rcs=None, history=(), state=(0, 0, 80, 5, 0, 0), serial=None) -> Track:
    return Track(
        track_id=1,
        state=np.asarray(state, float),
        covariance=np.eye(6),
        time_s=0.0,
        created_s=0.0,
        last_update_s=0.0,
        sensor_counts=tuple(counts),
        rcs_dbsm_mean=rcs,
        history=tuple(history),
        serial=serial,
    )


def _path(speed, alt, vz_sd=0.0, n=20, seed=0):
    rng = np.random.default_rng(seed)
    z = alt + np.cumsum(rng.normal(0, vz_sd, n))
    return [(float(k), speed * k, 0.0, float(z[k])) for k in range(n)]


def test_no_evidence_is_unknown():
    c = EvidenceClassifier().classify(_track())
    assert c.label == "unknown" and c.reasons == ()


def test_adsb_is_manned_and_remote_id_is_drone():
    assert EvidenceClassifier().classify(_track(counts=[("adsb", 3)])).label == "manned"
    c = EvidenceClassifier().classify(_track(counts=[("remote_id", 3)], serial="1581F1"))
    assert c.label == "drone" and c.confidence > 0.95 and "Remote ID broadcast" in c.reasons


def test_radar_only_kinematics_separate_the_classes():
    clf = EvidenceClassifier()
    hover = clf.classify(_track(counts=[("radar", 20)], rcs=-17.0, history=_path(0.3, 60)))
    bird = clf.classify(
        _track(counts=[("radar", 20)], rcs=-27.0, history=_path(10.0, 40, vz_sd=2.5))
    )
    jet = clf.classify(_track(counts=[("radar", 20)], rcs=10.0, history=_path(80.0, 700)))
    assert (hover.label, bird.label, jet.label) == ("drone", "bird", "manned")
    assert "hovering" in hover.reasons
    assert any(r.startswith("erratic vertical") for r in bird.reasons)


def test_probabilities_sum_to_one_and_low_confidence_is_unknown():
    c = EvidenceClassifier(min_confidence=0.99).classify(_track(counts=[("radar", 5)], rcs=-21.0))
    assert sum(p for _, p in c.probabilities) == pytest.approx(1.0, abs=1e-3)
    assert c.label == "unknown"


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="min_confidence"):
        EvidenceClassifier(min_confidence=1.5)
