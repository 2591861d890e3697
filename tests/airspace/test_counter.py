"""Counter: every refusal path names its reason; effectors run only after every check passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from haizhou.airspace.classify import Classification
from haizhou.airspace.control import ControlArea, ProtectedAsset, Zone
from haizhou.airspace.counter import (
    Confirmation,
    CounterPolicy,
    Operator,
    TrackSituation,
    request,
)
from haizhou.airspace.effectors import Command, EffectorSpec, Outcome, all_effectors
from haizhou.airspace.effectors.jammer import SimulatedJammer
from haizhou.airspace.effectors.net import SimulatedNetCapture
from haizhou.airspace.effectors.takeover import SimulatedTakeover
from haizhou.airspace.tracking import Track
from haizhou.geo.projection import LocalProjection

NOW = datetime(2026, 5, 1, 19, 30, tzinfo=timezone(timedelta(hours=8)))
P = LocalProjection.around(119.228, 34.58)


def _square(cx, cy, half):
    lon, lat = P.inverse(
        [cx - half, cx + half, cx + half, cx - half], [cy - half, cy - half, cy + half, cy + half]
    )
    return tuple(zip(lon.tolist(), lat.tolist(), strict=True))


AREA = ControlArea.build(
    asset=ProtectedAsset(name="stadium", lon=119.228, lat=34.58, radius_m=1000),
    zones=[
        Zone(name="event", kind="event", polygon=_square(0, 0, 1000)),
        Zone(name="approach", kind="airport_approach", polygon=_square(-3000, 0, 500)),
        Zone(name="hospital", kind="hospital", polygon=_square(0, 2000, 100)),
    ],
    projection=P,
)
POLICY = CounterPolicy(area=AREA)
OP = Operator(user_id="op-1", roles=frozenset({"airspace_operator"}))
CMD = Confirmation(user_id="cmd-1", roles=frozenset({"commander"}), at_s=0.0)
DRONE = Classification(label="drone", confidence=0.9, probabilities=(), reasons=())


SPY_SPEC = EffectorSpec(kind="spy", title_zh="测试", title_en="spy", uses_rf=True, max_range_m=1e9)


@dataclass
class SpyEffector:
    spec: EffectorSpec = SPY_SPEC
    calls: list[Command] = field(default_factory=list)

    def execute(self, command: Command) -> Outcome:
        self.calls.append(command)
        return Outcome(success=True, effect="landed", effect_after_s=1.0)


def _situation(x, y, *, serial=None, vx=0.0, label=DRONE, tid=5):
    tr = Track(
        track_id=tid,
        state=np.array([x, y, 60.0, vx, 0.0, 0.0]),
        covariance=np.eye(6),
        time_s=0.0,
        created_s=0.0,
        last_update_s=0.0,
        serial=serial,
        sensor_counts=(("radar", 4),),
    )
    return {
        tid: TrackSituation(track=tr, classification=label, assessment=AREA.assess(tr, label, NOW))
    }


def _ask(sit, kind="jammer", *, operator=OP, confirmations=(CMD,), spy=None):
    spy = spy or SpyEffector()
    effectors = {"jammer": spy, "takeover": spy, "net": spy}
    d = request(
        5,
        kind,
        operator=operator,
        confirmations=list(confirmations),
        now=100.0,
        policy=POLICY,
        situation=sit,
        effectors=effectors,
    )
    return d, spy


def test_approved_request_executes_once_and_is_recorded():
    d, spy = _ask(_situation(600, 0))
    assert d.approved and d.refusals == ()
    assert (
        len(spy.calls) == 1
        and spy.calls[0].track_id == 5
        and spy.calls[0].decision_id == d.decision_id
    )
    assert d.outcome is not None and d.outcome.effect == "landed"
    assert d.operator == "op-1" and d.confirmed_by == ("cmd-1",)


@pytest.mark.parametrize(
    ("sit", "kind", "operator", "confirmations", "code"),
    [
        ({}, "jammer", OP, (CMD,), "unknown_track"),
        (_situation(600, 0), "laser", OP, (CMD,), "unknown_effector"),
        (
            _situation(600, 0),
            "jammer",
            Operator(user_id="x", roles=frozenset({"analyst"})),
            (CMD,),
            "operator_role",
        ),
        (
            _situation(
                600,
                0,
                label=Classification(label="bird", confidence=0.9, probabilities=(), reasons=()),
            ),
            "jammer",
            OP,
            (CMD,),
            "track_not_counterable",
        ),
        (_situation(-3000, 0), "jammer", OP, (CMD,), "airport_approach"),
        (_situation(-3000, 0), "takeover", OP, (CMD,), "airport_approach"),
        (_situation(0, 1850), "jammer", OP, (CMD,), "hospital_clearance"),
        (_situation(100, 0, vx=-15.0), "jammer", OP, (), "second_confirmation"),
        (
            _situation(100, 0, vx=-15.0),
            "jammer",
            OP,
            (Confirmation(user_id="op-1", roles=frozenset({"commander"}), at_s=0.0),),
            "second_confirmation",
        ),
        (
            _situation(100, 0, vx=-15.0),
            "jammer",
            OP,
            (Confirmation(user_id="clerk", roles=frozenset({"analyst"}), at_s=0.0),),
            "second_confirmation",
        ),
    ],
)
def test_every_refusal_names_its_reason_and_never_executes(
    sit, kind, operator, confirmations, code
):
    d, spy = _ask(sit, kind, operator=operator, confirmations=confirmations)
    assert not d.approved
    assert code in [r.code for r in d.refusals]
    assert all(r.message for r in d.refusals)
    assert spy.calls == [] and d.command is None and d.outcome is None


def test_net_is_allowed_where_rf_is_interlocked():
    d, spy = _ask(_situation(-3000, 0), "net")
    assert d.approved and len(spy.calls) == 1


def test_red_threat_is_red_and_passes_with_a_second_person():
    sit = _situation(100, 0, vx=-15.0)
    assert sit[5].assessment.threat.level.value == "red"
    d, spy = _ask(sit, confirmations=(CMD,))
    assert d.approved and len(spy.calls) == 1


def _cmd(range_m, seed=1, **kw):
    return Command(
        decision_id="d",
        track_id=1,
        effector_kind="x",
        target_x_m=100.0,
        target_y_m=0.0,
        target_alt_m=60.0,
        range_m=range_m,
        seed=seed,
        **kw,
    )


def test_simulated_effectors_respect_range_and_are_seeded():
    assert SimulatedNetCapture().execute(_cmd(400.0)).effect == "out_of_range"
    assert SimulatedJammer().execute(_cmd(5000.0)).effect == "out_of_range"
    outs = [SimulatedJammer().execute(_cmd(500.0, seed=s)).effect for s in range(40)]
    assert set(outs) == {"returned_home", "landed", "no_effect"}
    assert outs == [SimulatedJammer().execute(_cmd(500.0, seed=s)).effect for s in range(40)]
    ok = [
        o
        for o in (
            SimulatedTakeover().execute(
                _cmd(500.0, seed=s, safe_point_x_m=0.0, safe_point_y_m=-600.0)
            )
            for s in range(20)
        )
        if o.success
    ]
    assert ok and all(o.landing_y_m == -600.0 for o in ok)
    # 8 s capture + ferry sqrt(100^2+600^2)/8 + 60/3 descent
    assert ok[0].effect_after_s == pytest.approx(8.0 + (100**2 + 600**2) ** 0.5 / 8.0 + 20.0)
    assert set(all_effectors()) == {"jammer", "takeover", "net"}


def test_timeline_records_each_stage_once_and_reports_in_both_languages():
    from haizhou.airspace.timeline import AirspaceIncident, incident_report

    inc = AirspaceIncident(incident_id="A-1", track_id=5)
    inc = inc.record("countered", 40.0, "landed").record("detected", 10.0, "radar")
    inc = inc.record("detected", 12.0, "later, ignored").with_pilot(119.2, 34.5, "1581F0001")
    assert [s.name for s in inc.stages] == ["detected", "countered"]
    assert (
        inc.elapsed_s("detected", "countered") == 30.0
        and inc.elapsed_s("detected", "resolved") is None
    )
    with pytest.raises(ValueError, match="Unknown incident stage 'seen'"):
        inc.record("seen", 1.0)  # type: ignore[arg-type]
    zh = incident_report(inc, epoch=NOW)
    en = incident_report(inc, epoch=NOW, language="en")
    assert (
        "侦测 (detected)" in zh
        and "飞手位置: 119.200000, 34.500000" in zh
        and "侦测至反制: 30 s" in zh
    )
    assert "2026-05-01T19:30:10+08:00" in en and "Detection to countermeasure: 30 s" in en
