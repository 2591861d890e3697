"""Effectiveness evaluation (效能评估): tracking metrics and the scenario runner.

Metrics implemented here, on frames of ground-truth and hypothesis positions matched by
distance (metres):

* CLEAR-MOT: MOTA and identity switches (Bernardin & Stiefelhagen 2008);
* identity metrics: IDF1, IDP, IDR (Ristani et al. 2016);
* HOTA, with similarity ``max(0, 1 - d / threshold)`` and α from 0.05 to 0.95 (Luiten et al. 2021).

:func:`evaluate` runs a scenario end to end — simulate, track, classify, assess, decide and
counter with a simulated operator — and reports Pd against range, time to detect and to
classify, classification accuracy, false alarms per hour, MOTA/IDF1/HOTA/ID switches and the
time from detection to countermeasure.

References
----------
.. [1] Bernardin, K. & Stiefelhagen, R. (2008). Evaluating multiple object tracking
   performance: the CLEAR MOT metrics. *EURASIP J. Image Video Process.* 2008:246309.
   https://doi.org/10.1155/2008/246309
.. [2] Ristani, E., Solera, F., Zou, R., Cucchiara, R. & Tomasi, C. (2016). Performance
   measures and a data set for multi-target, multi-camera tracking. *ECCV Workshops*, LNCS
   9914, 17–35. https://doi.org/10.1007/978-3-319-48881-3_2
.. [3] Luiten, J. et al. (2021). HOTA: a higher order metric for evaluating multi-object
   tracking. *Int. J. Comput. Vis.* 129, 548–578. https://doi.org/10.1007/s11263-020-01375-2
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from haizhou.airspace.classify import EvidenceClassifier
from haizhou.airspace.counter import Confirmation, CounterPolicy, Operator, TrackSituation, request
from haizhou.airspace.effectors import all_effectors
from haizhou.airspace.scenario.model import Scenario
from haizhou.airspace.scenario.simulate import SimulationResult, simulate
from haizhou.airspace.timeline import AirspaceIncident
from haizhou.airspace.tracking.tracker import MultiSensorTracker
from haizhou.domain.enums import Level

__all__ = [
    "EvaluationReport",
    "Frame",
    "MotResult",
    "evaluate",
    "hota",
    "mot_metrics",
]

RANGE_BINS_M: tuple[float, ...] = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 3000.0, 4000.0, 5000.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One time step: ground-truth and hypothesis ids with positions (metres)."""

    gt_ids: tuple[str, ...]
    gt_positions: np.ndarray
    hyp_ids: tuple[int, ...]
    hyp_positions: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class MotResult:
    """CLEAR-MOT and identity metrics.

    Attributes
    ----------
    mota, idf1, idp, idr, motp_m : float
        MOTA and IDF1 in (-inf, 1] and [0, 1]; MOTP is the mean matched distance, metres.
    num_gt, num_hyp, matches, false_positives, misses, id_switches : int
    matched : tuple of tuple
        Per frame, ``((gt_id, hyp_id), ...)`` CLEAR-MOT matches (used for Pd and timing).
    """

    mota: float
    motp_m: float
    idf1: float
    idp: float
    idr: float
    num_gt: int
    num_hyp: int
    matches: int
    false_positives: int
    misses: int
    id_switches: int
    matched: tuple[tuple[tuple[str, int], ...], ...] = field(repr=False, default=())


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape[0] == 0 or b.shape[0] == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)


def mot_metrics(frames: Sequence[Frame], *, threshold_m: float) -> MotResult:
    """CLEAR-MOT (MOTA, MOTP, ID switches) and identity (IDF1) metrics.

    Matching per frame follows py-motmetrics: each object's last correspondence (kept through
    frames where it was missed) is kept when both are present and still within
    ``threshold_m``; the rest are matched by minimum-distance assignment.
    An identity switch is counted when a ground-truth object is matched to a hypothesis other
    than the one it was last matched to. IDF1 uses the global one-to-one id assignment
    maximising identity true positives.

    Parameters
    ----------
    frames : sequence of Frame
    threshold_m : float
        Largest distance of a match, metres (> 0).

    Examples
    --------
    >>> f = lambda g, h: Frame(gt_ids=("a",), gt_positions=np.array([g]),
    ...                        hyp_ids=(h,), hyp_positions=np.array([g]))
    >>> r = mot_metrics([f([0, 0, 0], 1), f([1, 0, 0], 1), f([2, 0, 0], 2)], threshold_m=5)
    >>> r.mota, r.id_switches, round(r.idf1, 4)
    (0.6667, 1, 0.6667)
    """
    if not (math.isfinite(threshold_m) and threshold_m > 0):
        raise ValueError(f"mot_metrics needs a finite threshold_m > 0; got {threshold_m!r}.")
    last: dict[str, int] = {}
    n_gt = n_hyp = tp = fp = fn = sw = 0
    dist_sum = 0.0
    gt_count: dict[str, int] = {}
    hyp_count: dict[int, int] = {}
    pair_count: dict[tuple[str, int], int] = {}
    matched_all = []
    for fr in frames:
        g_ids, h_ids = list(fr.gt_ids), list(fr.hyp_ids)
        n_gt += len(g_ids)
        n_hyp += len(h_ids)
        for g in g_ids:
            gt_count[g] = gt_count.get(g, 0) + 1
        for h in h_ids:
            hyp_count[h] = hyp_count.get(h, 0) + 1
        d = _dist(
            np.asarray(fr.gt_positions, float).reshape(-1, 3),
            np.asarray(fr.hyp_positions, float).reshape(-1, 3),
        )
        # identity pairs for IDF1: every pair within the threshold
        if d.size:
            gi, hi = np.nonzero(d <= threshold_m)
            for a, b in zip(gi, hi, strict=True):
                key = (g_ids[a], h_ids[b])
                pair_count[key] = pair_count.get(key, 0) + 1
        g_index = {g: i for i, g in enumerate(g_ids)}
        h_index = {h: j for j, h in enumerate(h_ids)}
        matches: list[tuple[str, int]] = []
        used_g: set[int] = set()
        used_h: set[int] = set()
        for i, g in enumerate(g_ids):  # in frame order, as py-motmetrics does
            h = last.get(g)
            if h is not None and h in h_index:
                j = h_index[h]
                if j not in used_h and d[i, j] <= threshold_m:
                    matches.append((g, h))
                    used_g.add(i)
                    used_h.add(j)
        free_g = [i for i in range(len(g_ids)) if i not in used_g]
        free_h = [j for j in range(len(h_ids)) if j not in used_h]
        if free_g and free_h:
            sub = d[np.ix_(free_g, free_h)]
            cost = np.where(sub <= threshold_m, sub, 1e9)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if sub[r, c] <= threshold_m:
                    matches.append((g_ids[free_g[r]], h_ids[free_h[c]]))
        for g, h in matches:
            if g in last and last[g] != h:
                sw += 1
            last[g] = h
            dist_sum += float(d[g_index[g], h_index[h]])
        tp += len(matches)
        fn += len(g_ids) - len(matches)
        fp += len(h_ids) - len(matches)
        matched_all.append(tuple(matches))
    mota = 1.0 - (fn + fp + sw) / n_gt if n_gt else float("nan")
    idtp = 0
    if pair_count:
        g_list = sorted(gt_count)
        h_list = sorted(hyp_count)
        gi = {g: i for i, g in enumerate(g_list)}
        hj = {h: j for j, h in enumerate(h_list)}
        m = np.zeros((len(g_list), len(h_list)))
        for (g, h), c in pair_count.items():
            m[gi[g], hj[h]] = c
        rows, cols = linear_sum_assignment(-m)
        idtp = int(m[rows, cols].sum())
    idf1 = 2 * idtp / (n_gt + n_hyp) if (n_gt + n_hyp) else float("nan")
    return MotResult(
        mota=round(mota, 4),
        motp_m=round(dist_sum / tp, 3) if tp else float("nan"),
        idf1=round(idf1, 4),
        idp=round(idtp / n_hyp, 4) if n_hyp else float("nan"),
        idr=round(idtp / n_gt, 4) if n_gt else float("nan"),
        num_gt=n_gt,
        num_hyp=n_hyp,
        matches=tp,
        false_positives=fp,
        misses=fn,
        id_switches=sw,
        matched=tuple(matched_all),
    )


def hota(frames: Sequence[Frame], *, threshold_m: float) -> float:
    """HOTA averaged over α = 0.05, 0.10, …, 0.95 (Luiten et al. 2021).

    Similarity of a pair is ``max(0, 1 - d / threshold_m)``; matching per frame maximises
    similarity weighted by the pair's global alignment score, as TrackEval does.
    """
    sims: list[np.ndarray] = []
    gt_ids = sorted({g for f in frames for g in f.gt_ids})
    hyp_ids = sorted({h for f in frames for h in f.hyp_ids})
    gi = {g: i for i, g in enumerate(gt_ids)}
    hj = {h: j for j, h in enumerate(hyp_ids)}
    ng, nh = len(gt_ids), len(hyp_ids)
    if ng == 0 or nh == 0:
        return 0.0
    potential = np.zeros((ng, nh))
    gt_count = np.zeros(ng)
    hyp_count = np.zeros(nh)
    for f in frames:
        d = _dist(
            np.asarray(f.gt_positions, float).reshape(-1, 3),
            np.asarray(f.hyp_positions, float).reshape(-1, 3),
        )
        s = np.clip(1.0 - d / threshold_m, 0.0, 1.0)
        sims.append(s)
        gidx = np.array([gi[g] for g in f.gt_ids], dtype=int)
        hidx = np.array([hj[h] for h in f.hyp_ids], dtype=int)
        gt_count[gidx] += 1
        hyp_count[hidx] += 1
        if s.size:
            denom = s.sum(axis=0, keepdims=True) + s.sum(axis=1, keepdims=True) - s
            with np.errstate(divide="ignore", invalid="ignore"):
                contrib = np.where(denom > 0, s / denom, 0.0)
            potential[np.ix_(gidx, hidx)] += contrib
    global_align = potential / (gt_count[:, None] + hyp_count[None, :] - potential)
    alphas = np.arange(0.05, 0.99, 0.05)
    tp = np.zeros(len(alphas))
    fn = np.zeros(len(alphas))
    fp = np.zeros(len(alphas))
    matches = np.zeros((len(alphas), ng, nh))
    for f, s in zip(frames, sims, strict=True):
        gidx = np.array([gi[g] for g in f.gt_ids], dtype=int)
        hidx = np.array([hj[h] for h in f.hyp_ids], dtype=int)
        if len(gidx) == 0 or len(hidx) == 0:
            fn += len(gidx)
            fp += len(hidx)
            continue
        score = global_align[np.ix_(gidx, hidx)] * s
        rows, cols = linear_sum_assignment(-score)
        for a, alpha in enumerate(alphas):
            ok = s[rows, cols] >= alpha - 1e-10
            r, c = rows[ok], cols[ok]
            tp[a] += len(r)
            fn[a] += len(gidx) - len(r)
            fp[a] += len(hidx) - len(r)
            matches[a, gidx[r], hidx[c]] += 1
    values = []
    for a in range(len(alphas)):
        if tp[a] == 0:
            values.append(0.0)
            continue
        m = matches[a]
        ass = m / np.maximum(gt_count[:, None] + hyp_count[None, :] - m, 1)
        ass_a = float((m * ass).sum() / tp[a])
        det_a = tp[a] / (tp[a] + fn[a] + fp[a])
        values.append(math.sqrt(det_a * ass_a))
    return round(float(np.mean(values)), 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationReport:
    """Figures of one evaluated run (效能评估结果). ``as_dict()`` gives the JSON form.

    Attributes
    ----------
    scenario, sensors : str, tuple of str
    seed : int
    duration_s : float
    pd_by_range : tuple of (lo_m, hi_m, pd or None, samples)
        Share of truth samples (drones) covered by a confirmed track, by range from the asset.
    time_to_detect_s, time_to_classify_s : float or None
        Medians over objects detected / correctly classified.
    detected_objects, classified_objects, objects : int
    classification_accuracy : float or None
        Share of matched samples whose track label equals the truth class.
    false_alarms_per_hour : float
        Confirmed tracks never (or mostly not) on a real object, per hour.
    mot : MotResult
    hota : float
    detection_to_countermeasure_s : float or None
        Median over countered incidents, from first detection to the countermeasure's effect.
    countermeasures : tuple of dict
        One per decision: track, effector, approved, refusals, outcome.
    """

    scenario: str
    sensors: tuple[str, ...]
    seed: int
    duration_s: float
    pd_by_range: tuple[tuple[float, float, float | None, int], ...]
    time_to_detect_s: float | None
    time_to_classify_s: float | None
    detected_objects: int
    classified_objects: int
    objects: int
    classification_accuracy: float | None
    false_alarms_per_hour: float
    mot: MotResult
    hota: float
    detection_to_countermeasure_s: float | None
    countermeasures: tuple[dict[str, Any], ...]
    incidents: tuple[AirspaceIncident, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        m = self.mot
        return {
            "scenario": self.scenario,
            "sensors": list(self.sensors),
            "seed": self.seed,
            "duration_s": self.duration_s,
            "pd_by_range": [
                {"from_m": lo, "to_m": hi, "pd": pd, "samples": n}
                for lo, hi, pd, n in self.pd_by_range
            ],
            "time_to_detect_s": self.time_to_detect_s,
            "time_to_classify_s": self.time_to_classify_s,
            "objects": self.objects,
            "detected_objects": self.detected_objects,
            "classified_objects": self.classified_objects,
            "classification_accuracy": self.classification_accuracy,
            "false_alarms_per_hour": self.false_alarms_per_hour,
            "mota": m.mota,
            "idf1": m.idf1,
            "hota": self.hota,
            "id_switches": m.id_switches,
            "motp_m": m.motp_m,
            "detection_to_countermeasure_s": self.detection_to_countermeasure_s,
            "countermeasures": list(self.countermeasures),
        }


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 2) if values else None


def frames_from_run(
    sim: SimulationResult, outputs: Sequence[tuple[float, Sequence[tuple[int, np.ndarray]]]]
) -> list[Frame]:
    """Frames pairing the truth at each output time with the hypotheses reported then."""
    frames = []
    index = {round(float(t), 6): i for i, t in enumerate(sim.times_s)}
    ids = [o.object_id for o in sim.objects]
    for t, hyps in outputs:
        ti = index[round(float(t), 6)]
        p = sim.positions[:, ti, :]
        present = ~np.isnan(p[:, 0])
        frames.append(
            Frame(
                gt_ids=tuple(i for i, ok in zip(ids, present, strict=True) if ok),
                gt_positions=p[present],
                hyp_ids=tuple(h for h, _ in hyps),
                hyp_positions=np.array([x for _, x in hyps]).reshape(-1, 3),
            )
        )
    return frames


def evaluate(
    scenario: Scenario,
    *,
    sensors: Sequence[str] | None = None,
    seed: int = 0,
    tracker: MultiSensorTracker | None = None,
    classifier: EvidenceClassifier | None = None,
    match_distance_m: float = 100.0,
    operator_reaction_s: float = 15.0,
    counter_level: Level = Level.ORANGE,
) -> EvaluationReport:
    """Run one scenario end to end and measure it (效能评估).

    Parameters
    ----------
    scenario : Scenario
    sensors : sequence of str or None
        Sensor kinds to keep (``radar``, ``rf``, ``remote_id``, ``adsb``); all when None.
    seed : int
    tracker : MultiSensorTracker or None
        A fresh tracker (its state is consumed); the default tracker when None.
    classifier : EvidenceClassifier or None
    match_distance_m : float
        Truth–track match distance for every metric, metres.
    operator_reaction_s : float
        The simulated operator asks for a countermeasure this long after a track first
        reaches ``counter_level`` as unauthorised or violating; a commander confirms at red.
    counter_level : Level
        Threat level at which the operator acts.
    """
    sc = scenario.with_sensors(tuple(sensors)) if sensors is not None else scenario
    sim = simulate(sc, seed=seed)
    tracker = tracker or MultiSensorTracker.default()
    classifier = classifier or EvidenceClassifier()
    area = sc.control_area(sim.permits)
    policy = CounterPolicy(area=area, safe_point_x_m=0.0, safe_point_y_m=-600.0)
    effectors = all_effectors()
    operator = Operator(user_id="op-1", roles=frozenset({"airspace_operator"}))
    commander = Confirmation(user_id="cmd-1", roles=frozenset({"commander"}), at_s=0.0)
    dets = sim.detections
    k = 0
    outputs: list[tuple[float, list[tuple[int, np.ndarray]]]] = []
    labels: dict[tuple[float, int], str] = {}
    incidents: dict[int, AirspaceIncident] = {}
    armed: dict[int, float] = {}
    decisions: list[dict[str, Any]] = []
    resolved_tracks: set[int] = set()
    [lvl.rank for lvl in Level]
    for t in sim.times_s:
        t = float(t)
        batch = []
        while k < len(dets) and dets[k].time_s <= t + 1e-9:
            batch.append(dets[k])
            k += 1
        tracks = tracker.step(batch, t)
        now = sc.start + timedelta(seconds=t)
        situation: dict[int, TrackSituation] = {}
        hyps = []
        for tr in tracks:
            cls = classifier.classify(tr)
            a = area.assess(tr, cls, now)
            situation[tr.track_id] = TrackSituation(track=tr, classification=cls, assessment=a)
            hyps.append((tr.track_id, tr.position.copy()))
            labels[(t, tr.track_id)] = cls.label
            inc = incidents.get(tr.track_id) or AirspaceIncident(
                incident_id=f"{sc.name}-{tr.track_id}", track_id=tr.track_id
            )
            inc = inc.record(
                "detected", tr.created_s, f"{', '.join(k for k, _ in tr.sensor_counts)}"
            )
            inc = inc.record("tracked", t, f"confirmed track {tr.track_id}")
            if cls.label != "unknown":
                inc = inc.record("identified", t, f"{cls.label} ({cls.confidence:.2f})")
            if tr.pilot_lon is not None:
                inc = inc.with_pilot(tr.pilot_lon, tr.pilot_lat, tr.serial)
            incidents[tr.track_id] = inc
            if (
                a.status in ("unauthorised", "violation")
                and cls.label == "drone"
                and a.threat.level.rank <= counter_level.rank
                and tr.track_id not in armed
                and tr.track_id not in resolved_tracks
            ):
                armed[tr.track_id] = t
        for tid, since in list(armed.items()):
            if tid in resolved_tracks or tid not in situation or t - since < operator_reaction_s:
                continue
            sit = situation[tid]
            kind = "net" if sit.assessment.threat.distance_m < 250 else "jammer"
            decision = request(
                tid,
                kind,
                operator=operator,
                confirmations=[commander],
                now=t,
                policy=policy,
                situation=situation,
                effectors=effectors,
                seed=seed * 1000 + tid,
            )
            if not decision.approved and any(
                r.code in ("airport_approach", "hospital_clearance") for r in decision.refusals
            ):
                decision = request(
                    tid,
                    "net",
                    operator=operator,
                    confirmations=[commander],
                    now=t,
                    policy=policy,
                    situation=situation,
                    effectors=effectors,
                    seed=seed * 1000 + tid,
                )
            inc = incidents[tid].record(
                "decided",
                t,
                f"{decision.effector_kind}: {'approved' if decision.approved else 'refused'}",
            )
            out = decision.outcome
            decisions.append(
                {
                    "track_id": tid,
                    "effector": decision.effector_kind,
                    "approved": decision.approved,
                    "refusals": [r.code for r in decision.refusals],
                    "effect": out.effect if out else None,
                    "effect_after_s": out.effect_after_s if out else None,
                    "at_s": t,
                }
            )
            if out is not None and out.success:
                inc = inc.record("countered", t + out.effect_after_s, out.effect)
                inc = inc.record("resolved", t + out.effect_after_s, out.detail)
                resolved_tracks.add(tid)
            armed[tid] = t + 30.0 - operator_reaction_s  # retry after 30 s if it failed
            incidents[tid] = inc
        outputs.append((t, hyps))
    frames = frames_from_run(sim, outputs)
    mot = mot_metrics(frames, threshold_m=match_distance_m)
    h = hota(frames, threshold_m=match_distance_m)
    kind_of = {o.object_id: o.kind for o in sim.objects}
    first_seen: dict[str, float] = {}
    for oi, o in enumerate(sim.objects):
        present = np.nonzero(~np.isnan(sim.positions[oi, :, 0]))[0]
        if len(present):
            first_seen[o.object_id] = float(sim.times_s[present[0]])
    detect_t: dict[str, float] = {}
    classify_t: dict[str, float] = {}
    correct = total = 0
    hyp_hits: dict[int, int] = {}
    hyp_life: dict[int, int] = {}
    for _, hyps in outputs:
        for hid, _ in hyps:
            hyp_life[hid] = hyp_life.get(hid, 0) + 1
    ax, ay = area.asset_xy()
    bins = np.asarray(RANGE_BINS_M)
    bin_hit = np.zeros(len(bins) - 1)
    bin_all = np.zeros(len(bins) - 1)
    for (t, _), fr, matched in zip(outputs, frames, mot.matched, strict=True):
        by_gt = dict(matched)
        for g, pos in zip(fr.gt_ids, fr.gt_positions, strict=True):
            if kind_of[g] == "drone":
                r = math.hypot(pos[0] - ax, pos[1] - ay)
                b = int(np.searchsorted(bins, r, side="right") - 1)
                if 0 <= b < len(bin_all):
                    bin_all[b] += 1
                    bin_hit[b] += g in by_gt
        for g, hid in matched:
            hyp_hits[hid] = hyp_hits.get(hid, 0) + 1
            detect_t.setdefault(g, t - first_seen[g])
            label = labels.get((t, hid), "unknown")
            total += 1
            correct += label == kind_of[g]
            if label == kind_of[g]:
                classify_t.setdefault(g, t - first_seen[g])
    false_tracks = sum(1 for hid, life in hyp_life.items() if hyp_hits.get(hid, 0) < 0.5 * life)
    hours = sc.duration_s / 3600.0
    d2c = []
    for inc in incidents.values():
        if inc.stage("countered") is not None:
            d2c.append(inc.stage("countered").at_s - inc.stage("detected").at_s)  # type: ignore[union-attr]
    return EvaluationReport(
        scenario=sc.name,
        sensors=tuple(sorted({s.kind for s in sc.sensors})),
        seed=seed,
        duration_s=sc.duration_s,
        pd_by_range=tuple(
            (
                float(bins[i]),
                float(bins[i + 1]),
                round(float(bin_hit[i] / bin_all[i]), 4) if bin_all[i] else None,
                int(bin_all[i]),
            )
            for i in range(len(bin_all))
        ),
        time_to_detect_s=_median(list(detect_t.values())),
        time_to_classify_s=_median(list(classify_t.values())),
        detected_objects=len(detect_t),
        classified_objects=len(classify_t),
        objects=len(sim.objects),
        classification_accuracy=round(correct / total, 4) if total else None,
        false_alarms_per_hour=round(false_tracks / hours, 2) if hours else 0.0,
        mot=mot,
        hota=h,
        detection_to_countermeasure_s=_median(d2c),
        countermeasures=tuple(decisions),
        incidents=tuple(incidents[k] for k in sorted(incidents)),
    )
