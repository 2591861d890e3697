"""Linkage quality and time: Haizhou's LinkageModel vs Porter & Reich's naive Bayes as ported in
the PyPI package ``crimeserieslinkage`` — same data, same grouped folds, same run.

Datasets: the crimelinkage R package's example (``../shared/data/crimelinkage``) and the
synthetic city's ground truth (``haizhou.sim``, burglary cases; each case of a simulated serial
offender is labelled with that offender, every other case is its own offender).

Protocol (docs/linkage.md): 5-fold ``GroupKFold`` over offender groups; each side is trained on
the training folds' cases only and scores the test fold's cases. AUC / AP over all test pairs
within 365 days (unscored pairs count 0); series against offender groups (B-cubed F1, pairwise
series F1). The two sides alternate fold by fold (ours, then the baseline, on each fold), so
on a shared machine both meet about the same load; seconds are summed over the folds.

Baseline, faithfully the package's workflow: ``makeSeriesData`` → ``makePairs(thres=365, m=40)``
→ ``compareСrimes(binary=True)`` → ``naiveBayes(df=10, nbins=15)`` (the crimelinkage vignette's
settings) → ``predictnaiveBayes`` on the test pairs. Series: on crimelinkage, the package's
``crimeClust_Hier`` (average linkage on the log Bayes factor over all test pairs) cut where the
posterior is 1/2 (log BF = −log prior odds, prior from the training pairs within 365 days); on
the city, where all-pairs Python loops are too slow, the same cut is applied with Haizhou's
average-linkage clustering on the baseline's posterior over the same candidate pairs. Test
pairs: on crimelinkage all pairs within 365 days; on the city the candidate pairs of our
blocking (the package has no blocking; scoring every pair in its per-pair Python loop would take
hours), so the baseline is measured on the pairs where it matters.

The package is Apache-2.0 but needs python-igraph (GPL-2.0): a benchmark-only dependency, never
imported by haizhou. Install: ``uv pip install crimeserieslinkage``.

Prints one JSON line per dataset.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from haizhou.analytics.linkage.blocking import candidate_pairs, interval_gap_days
from haizhou.analytics.linkage.crimes import CrimeTable, Offenders, parse_crimelinkage
from haizhou.analytics.linkage.model import LinkageModel, linked_pair_keys
from haizhou.analytics.linkage.protocol import grouped_folds, pool, score_fold
from haizhou.analytics.linkage.series import cluster_series

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EPOCH = np.datetime64("1970-01-01T00:00:00", "s")


# ------------------------------------------------------------------------------------------
# data


def crimelinkage_data() -> tuple[CrimeTable, Offenders, list[str]]:
    folder = SHARED / "crimelinkage"
    frame = pd.read_csv(folder / "crimes.csv", dtype=str, keep_default_na=False)
    mo = ["MO1", "MO2", "MO3"]
    crimes = parse_crimelinkage(frame, mo_cols=mo)
    off = pd.read_csv(folder / "offenders.csv", dtype=str)
    offenders = Offenders.from_pairs(crimes, offender_id=off.offenderID, crime_id=off.crimeID)
    solved = np.flatnonzero(offenders.solved_mask())
    return crimes.subset(solved), offenders.subset(solved), mo


def city_cases(scale: float, category: str, seed: int | None = None) -> pd.DataFrame:
    """The synthetic city's cases of one category, with local ``x``/``y`` in metres."""
    from haizhou.geo.projection import LocalProjection
    from haizhou.sim import generate_city
    from haizhou.sim.config import CityConfig

    config = CityConfig(scale=scale) if seed is None else CityConfig(scale=scale, seed=seed)
    city = generate_city(config)
    cases = city.cases[city.cases["category"] == category].reset_index(drop=True)
    proj = LocalProjection.around(float(cases.lon.median()), float(cases.lat.median()))
    x, y = proj.forward(cases.lon.to_numpy(), cases.lat.to_numpy())
    return cases.assign(x=x, y=y)


def city_table(cases: pd.DataFrame) -> tuple[CrimeTable, Offenders, list[str]]:
    """Cases of :func:`city_cases` as a crime table; truth: each simulated serial offender's
    cases are one group, every other case its own offender."""

    def local(col: str) -> np.ndarray:
        return cases[col].dt.tz_localize(None).to_numpy("datetime64[s]")

    mo = ["entry_method", "target", "tools", "time_of_day"]
    crimes = CrimeTable.from_arrays(
        crime_id=cases.case_id.to_numpy(),
        x_m=cases.x.to_numpy(),
        y_m=cases.y.to_numpy(),
        t_from=local("occurred_from"),
        t_to=local("occurred_to"),
        mo={m: cases[m].to_numpy(dtype=object) for m in mo},
        text=cases.narrative.to_numpy(dtype=object),
        property_taken=cases.property_taken.to_numpy(dtype=object),
    )
    truth = np.where(cases.offender_id != "", cases.offender_id, "single:" + cases.case_id)
    offenders = Offenders.from_pairs(crimes, offender_id=truth, crime_id=cases.case_id)
    return crimes, offenders, mo


def city_data(scale: float, category: str) -> tuple[CrimeTable, Offenders, list[str]]:
    return city_table(city_cases(scale, category))


# ------------------------------------------------------------------------------------------
# ours


def run_ours(crimes, offenders, folds, params) -> tuple:
    """Our fold scores, seconds, learners kept, CPU seconds, per fold ``(n, i, j, p, truth,
    threshold)`` of the test cases (for the series study only), and per fold whether the second
    stage was kept with its inner-CV scores."""
    start, cpu = time.perf_counter(), time.process_time()
    scores, learners, graphs, collective = [], [], [], []
    for train, test in folds:
        model = LinkageModel(**params).fit(crimes.subset(train), offenders.subset(train))
        learners.append(model.learner_name_)
        collective.append({"kept": model.collective_, **model.collective_cv_})
        tc, to = crimes.subset(test), offenders.subset(test)
        res = model.link(tc)
        thr = model.series_threshold_  # tuned on the training cases when tune_series
        labels = cluster_series(len(tc), res.i, res.j, res.probability, threshold=thr)
        scores.append(score_fold(tc, to, res.i, res.j, res.probability, labels))
        graphs.append((len(tc), res.i, res.j, res.probability, to.groups(), thr))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return scores, seconds, learners, cpu, graphs, collective


# ------------------------------------------------------------------------------------------
# series study: how far can clustering our test-fold probabilities go? (write-up only: the
# oracle threshold looks at the test labels, so it is a ceiling, never a method)


def _components(n, i, j, p, t) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    s = p >= t
    graph = coo_matrix((np.ones(int(s.sum())), (i[s], j[s])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _correlation(n, i, j, p, t, floor=1e-6) -> np.ndarray:
    """Greedy correlation clustering on log-odds: merge the two clusters whose cross pairs have
    the largest positive sum of ``logit(p) - logit(t)`` (unscored pairs at ``p = floor``) until
    no merge has a positive sum."""

    def logit(q):
        q = np.clip(q, floor, 1 - floor)
        return np.log(q) - np.log1p(-q)

    weight = np.full((n, n), logit(floor) - logit(t))
    weight[i, j] = weight[j, i] = logit(p) - logit(t)
    np.fill_diagonal(weight, -np.inf)
    alive = np.ones(n, dtype=bool)
    labels = np.arange(n)
    while alive.sum() > 1:
        masked = np.where(alive[:, None] & alive[None, :], weight, -np.inf)
        a, b = divmod(int(np.argmax(masked)), n)
        if masked[a, b] <= 0:
            break
        weight[a, :] += weight[b, :]
        weight[:, a] += weight[:, b]
        weight[a, a] = -np.inf
        alive[b] = False
        labels[labels == b] = a
    return labels


def series_study(graphs: list) -> dict:
    """B-cubed / pairwise series F1 of all singletons, of ours, and of three clusterings of our
    test-fold probabilities at the ORACLE threshold (best on the test labels: a ceiling)."""
    from haizhou.analytics.linkage.metrics import bcubed_f1, pairwise_f1

    k = len(graphs)
    true = np.concatenate([pd.factorize(g[4])[0] * k + f for f, g in enumerate(graphs)])

    def score(cluster) -> dict:
        pred = np.concatenate([np.asarray(cluster(g)) * k + f for f, g in enumerate(graphs)])
        return {
            "bcubed_f1": round(bcubed_f1(pred, true)["f1"], 4),
            "series_f1": round(pairwise_f1(pred, true)["f1"], 4),
        }

    out = {"singletons": score(lambda g: np.arange(g[0]))}
    out["ours"] = score(lambda g: cluster_series(g[0], g[1], g[2], g[3], threshold=g[5]))
    out["ours_at_0.5"] = score(lambda g: cluster_series(g[0], g[1], g[2], g[3], threshold=0.5))
    methods = {
        "average": lambda g, t: cluster_series(g[0], g[1], g[2], g[3], threshold=t),
        "components": lambda g, t: _components(g[0], g[1], g[2], g[3], t),
        "correlation": lambda g, t: _correlation(g[0], g[1], g[2], g[3], t),
    }
    for name, method in methods.items():
        best = None
        for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            sc = score(lambda g, t=t, m=method: m(g, t))
            if best is None or sc["bcubed_f1"] > best["bcubed_f1"]:
                best = sc | {"oracle_threshold": t}
        out[f"oracle_{name}"] = best
    return out


def insample_study(crimes, offenders, folds, params) -> dict:
    """Each learner fitted on ALL cases, the test folds' labels included, then scoring each
    test fold as in the protocol: how far the evidence itself can go (a ceiling, never a
    method). The unconstrained ``gbm`` fits free functions of the evidence (trees of its fixed
    size); trained on the very pairs it then scores, its series figures are an optimistic
    estimate of what a learner of that capacity could reach on this evidence, not a proof."""
    out = {}
    fixed = {k: v for k, v in params.items() if k not in ("learner", "tune_series")}
    for learner in ("naive_bayes", "logistic", "blend", "gbm"):
        model = LinkageModel(**fixed, learner=learner).fit(crimes, offenders)
        graphs, scores = [], []
        for _, test in folds:
            tc, to = crimes.subset(test), offenders.subset(test)
            res = model.link(tc)
            # only the pair scores are read from these; series_study clusters the graphs
            singletons = np.arange(len(tc))
            scores.append(score_fold(tc, to, res.i, res.j, res.probability, singletons))
            graphs.append((len(tc), res.i, res.j, res.probability, to.groups(), 0.5))
        study = series_study(graphs)
        best = max(
            (v for k, v in study.items() if k.startswith("oracle_")), key=lambda v: v["bcubed_f1"]
        )
        out[learner] = {
            "pairwise_auc": round(pool(scores)["pairwise_auc"], 4),
            "best_oracle_series": best,
        }
    return out


# ------------------------------------------------------------------------------------------
# baseline (crimeserieslinkage)


def _frame(crimes: CrimeTable, mo: list[str]) -> pd.DataFrame:
    def dt(days: np.ndarray) -> pd.Series:
        return pd.Series(EPOCH + np.round(days * 86400).astype("timedelta64[s]")).astype(
            "datetime64[ns]"
        )

    out = pd.DataFrame(
        {
            "crimeID": crimes.crime_id.astype(str),
            "X": crimes.x_m,
            "Y": crimes.y_m,
            "DT.FROM": dt(crimes.t_from_days),
            "DT.TO": dt(crimes.t_to_days),
        }
    )
    for k, name in enumerate(mo):
        codes = crimes.mo_codes[:, k]
        levels = np.asarray(crimes.mo_levels[k] + ("",), dtype=object)
        vals = np.where(codes >= 0, levels[codes], None)
        out[name] = pd.Categorical(vals)
    return out


def _offender_frame(offenders: Offenders, crimes: CrimeTable) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "offenderID": offenders.offender_ids[offenders.offender_code].astype(str),
            "crimeID": crimes.crime_id[offenders.crime_index].astype(str),
        }
    )


# crimeserieslinkage 1.1.0 was written for an older pandas: a few lines index a Series by
# position with ``series[0]`` (removed in pandas 3). These textual fixes keep its algorithm and
# change only how the values are read; each is listed here.
_PANDAS_FIXES = {
    "make_linked": [
        ("np.concatenate(W, axis=0)", "np.concatenate(list(W), axis=0)"),
        ("row[0] > row[1]", "row.iloc[0] > row.iloc[1]"),
    ],
    "make_unlinked": [("row[0] > row[1]", "row.iloc[0] > row.iloc[1]")],
    "makePairs": [("x[0] == x[1]", "x.iloc[0] == x.iloc[1]")],
    # NumPy 2 no longer stores a 1-element array into a scalar slot
    "expabsdiff_circ": [
        ("return get_d(X[0], Y, mod=mod)", "return float(np.ravel(get_d(X[0], Y, mod=mod))[0])"),
        ("return get_d(Y[0], X, mod=mod)", "return float(np.ravel(get_d(Y[0], X, mod=mod))[0])"),
    ],
}


def _patched_csl():
    import inspect

    import crimeserieslinkage as csl
    import crimeserieslinkage.crimeserieslinkage as mod

    if getattr(mod, "_haizhou_patched", False):
        return csl
    for func, fixes in _PANDAS_FIXES.items():
        src = inspect.getsource(getattr(mod, func))
        for old, new in fixes:
            if old not in src:
                raise RuntimeError(f"crimeserieslinkage.{func} changed; review _PANDAS_FIXES")
            src = src.replace(old, new)
        exec(compile(src, mod.__file__, "exec"), mod.__dict__)
        setattr(csl, func, mod.__dict__[func])
    mod._haizhou_patched = True
    return csl


def run_baseline(
    crimes, offenders, folds, mo, *, all_pairs: bool, params
) -> tuple[list, float, float, list]:
    """Baseline fold scores, seconds, CPU seconds, and per fold what its series study needs."""
    csl = _patched_csl()
    from scipy.cluster.hierarchy import fcluster

    compare = next(getattr(csl, n) for n in dir(csl) if n.startswith("compare") and "rimes" in n)
    varlist = {
        "crimeID": "crimeID",
        "spatial": ["X", "Y"],
        "temporal": ["DT.FROM", "DT.TO"],
        "categorical": mo,
    }
    var = ["spatial", "temporal", "tod", "dow", *mo]
    start, cpu = time.perf_counter(), time.process_time()
    scores, cuts = [], []
    for train, test in folds:
        tr, to = crimes.subset(train), offenders.subset(train)
        df = _frame(tr, mo)
        off = _offender_frame(to, tr)
        series = csl.makeSeriesData(crimedata=df, offender_table=off)
        # crime groups by connected offenders (method 1) need co-offending; the package crashes
        # without any (np.concatenate of nothing), and then groups by offender (method 3) are
        # the same groups
        co_offending = np.bincount(to.crime_index, minlength=len(tr)).max() > 1
        pairs = csl.makePairs(series, thres=365, m=40, seed=0, method=1 if co_offending else 3)
        A = compare(pairs[["i1", "i2"]], df, varlist, binary=True)
        A["wt"] = pairs["wt"].to_numpy(dtype=float)
        A["Y"] = (pairs["type"] == "linked").astype(int).to_numpy()
        D = A[[*var, "wt", "Y"]].copy()
        nb = csl.naiveBayes(D, var, weights=D["wt"], df=10, nbins=15)
        # prior odds of a pair within 365 days being linked, among the training cases
        n_tr = len(tr)
        keys = linked_pair_keys(to)
        li, lj = keys // n_tr, keys % n_tr
        gap = interval_gap_days(
            tr.t_from_days[li], tr.t_to_days[li], tr.t_from_days[lj], tr.t_to_days[lj]
        )
        from haizhou.analytics.linkage.blocking import count_pairs_within_gap

        n_link = max(int((gap <= 365).sum()), 1)
        n_all = count_pairs_within_gap(tr.t_from_days, tr.t_to_days, 365.0)
        prior = float(np.log(n_link / max(n_all - n_link, 1)))

        tc, toff = crimes.subset(test), offenders.subset(test)
        tdf = _frame(tc, mo)
        if all_pairs:
            iu, ju = np.triu_indices(len(tc), k=1)
            g = interval_gap_days(
                tc.t_from_days[iu], tc.t_to_days[iu], tc.t_from_days[ju], tc.t_to_days[ju]
            )
            ti, tj = iu[g <= 365], ju[g <= 365]
        else:
            ti, tj = candidate_pairs(
                tc, max_distance_m=params["max_distance_m"], max_gap_days=params["max_gap_days"]
            )
        tp = pd.DataFrame({"i1": tc.crime_id[ti].astype(str), "i2": tc.crime_id[tj].astype(str)})
        B = compare(tp, tdf, varlist, binary=True)
        log_bf = np.asarray(csl.predictnaiveBayes(nb, B[var], var=var), dtype=float)
        post = 1.0 / (1.0 + np.exp(-(log_bf + prior)))
        if all_pairs:
            hc = csl.crimeClust_Hier(
                tdf, varlist, lambda X, nb=nb: csl.predictnaiveBayes(nb, X[var], var=var)
            )
            cut = float(hc["offset"]) + prior  # distance = offset - log BF; posterior 1/2 here
            labels = fcluster(hc["hc"], t=cut, criterion="distance")
            order = pd.Index(pd.Series(hc["crimeID"]).astype(str)).get_indexer(
                tc.crime_id.astype(str)
            )
            labels = np.asarray(labels)[order]
            cuts.append((hc["hc"], order, float(hc["offset"]) + prior, toff.groups()))
        else:
            labels = cluster_series(len(tc), ti, tj, post, threshold=0.5)
        scores.append(score_fold(tc, toff, ti, tj, post, labels))
    return scores, time.perf_counter() - start, time.process_time() - cpu, cuts


def baseline_oracle(cuts: list) -> dict:
    """The baseline's hierarchical series cut at its ORACLE posterior (a ceiling, as for ours):
    posterior ``t`` is the distance ``offset + prior - logit(t)``."""
    from scipy.cluster.hierarchy import fcluster

    from haizhou.analytics.linkage.metrics import bcubed_f1, pairwise_f1

    k = len(cuts)
    true = np.concatenate([pd.factorize(c[3])[0] * k + f for f, c in enumerate(cuts)])
    best = None
    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        pred = np.concatenate(
            [
                fcluster(tree, t=base - np.log(t / (1 - t)), criterion="distance")[order] * k + f
                for f, (tree, order, base, _) in enumerate(cuts)
            ]
        )
        sc = {
            "bcubed_f1": round(bcubed_f1(pred, true)["f1"], 4),
            "series_f1": round(pairwise_f1(pred, true)["f1"], 4),
            "oracle_threshold": t,
        }
        if best is None or sc["bcubed_f1"] > best["bcubed_f1"]:
            best = sc
    return best


# ------------------------------------------------------------------------------------------


def add_option_flags(parser: argparse.ArgumentParser) -> None:
    """``--collective`` and ``--neighbourhood``, the optional LinkageModel stages (both off)."""
    parser.add_argument(
        "--collective",
        choices=("off", "on", "auto"),
        default="off",
        help="second stage from the pairs around each pair (LinkageModel collective=)",
    )
    parser.add_argument(
        "--neighbourhood",
        choices=("on", "off"),
        default="off",
        help="neighbourhood-relative evidence: ranks among each case's partners "
        "(LinkageModel neighbourhood=)",
    )


def option_params(args: argparse.Namespace) -> dict[str, Any]:
    """The LinkageModel parameters of :func:`add_option_flags`."""
    collective = {"off": False, "on": True, "auto": "auto"}[args.collective]
    return {"collective": collective, "neighbourhood": args.neighbourhood == "on"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="crimelinkage,city")
    parser.add_argument("--city-scale", type=float, default=0.5)
    parser.add_argument("--city-category", default="入室盗窃")
    parser.add_argument(
        "--city-max-distance-m",
        type=float,
        default=5000.0,
        help="blocking radius on the city (the `evaluate` default; serial offenders roam ~5 km)",
    )
    parser.add_argument(
        "--city-max-gap-days",
        type=float,
        default=365.0,
        help="blocking gap on the city (365 = the AUC window and the `evaluate` default)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--series-study",
        action="store_true",
        help="also print the series ceilings (singletons, oracle threshold) of our probabilities",
    )
    parser.add_argument(
        "--fixed-threshold",
        type=float,
        default=None,
        help="series threshold for ours instead of tuning it by inner CV (e.g. 0.5, the old way)",
    )
    parser.add_argument(
        "--insample-study",
        action="store_true",
        help="also fit each learner on all cases, test labels included, and print how far "
        "its test-fold pairs can be clustered (a ceiling of the evidence, not a method)",
    )
    add_option_flags(parser)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    for name in args.datasets.split(","):
        if name == "crimelinkage":
            if not (SHARED / "crimelinkage" / "crimes.csv").exists():
                print(json.dumps({"name": "linkage_crimelinkage", "skipped": "data missing"}))
                continue
            crimes, offenders, mo = crimelinkage_data()
            params = {
                "learner": "auto",
                "max_distance_m": 30_000.0,
                "max_gap_days": 365.0,
                "max_unlinked": 30_000,
            }
            all_pairs = True
        else:
            crimes, offenders, mo = city_data(args.city_scale, args.city_category)
            params = {
                "learner": "auto",
                "max_distance_m": args.city_max_distance_m,
                "max_gap_days": args.city_max_gap_days,
            }
            all_pairs = False
        if args.fixed_threshold is None:
            params["tune_series"] = True
        else:
            params["series_threshold"] = args.fixed_threshold
        params.update(option_params(args))
        folds = grouped_folds(offenders, n_splits=5)
        baseline = not args.no_baseline
        if baseline:
            try:
                import crimeserieslinkage  # noqa: F401
            except ImportError as exc:
                baseline, why = False, f"unavailable: {exc}"
        else:
            why = "not run"
        # ours and the baseline alternate fold by fold, so that both meet the same load on a
        # shared machine (times are summed over folds)
        ours_f, base_f, learners, graphs, cuts, collective = [], [], [], [], [], []
        ours_s = ours_cpu = base_s = base_cpu = 0.0
        load_start = [round(x, 2) for x in os.getloadavg()]
        for fold in folds:
            sc, sec, lrn, cpu, gr, co = run_ours(crimes, offenders, [fold], params)
            collective += co
            ours_f += sc
            learners += lrn
            graphs += gr
            ours_s += sec
            ours_cpu += cpu
            if baseline:
                try:
                    sc, sec, cpu, cu = run_baseline(
                        crimes, offenders, [fold], mo, all_pairs=all_pairs, params=params
                    )
                except Exception as exc:  # report, and keep our figures
                    baseline, why = False, f"failed: {type(exc).__name__}: {exc}"
                    continue
                base_f += sc
                cuts += cu
                base_s += sec
                base_cpu += cpu
        ours = pool(ours_f)
        ours["series_thresholds"] = [g[5] for g in graphs]
        line = {
            "name": f"linkage_{name}",
            "n_crimes": len(crimes),
            "n_offenders": int(offenders.offender_ids.size),
            "ours_s": round(ours_s, 2),
            "ours_cpu_s": round(ours_cpu, 2),
            "ours": dict(ours),
            "ours_learners": learners,
            "ours_collective": collective,
            "params": params,
            "series_study": series_study(graphs) if args.series_study else None,
            "insample_study": insample_study(crimes, offenders, folds, params)
            if args.insample_study
            else None,
            "load_average": load_start,
        }
        if baseline:
            base = pool(base_f)
            line |= {
                "baseline": "crimeserieslinkage 1.1.0 naiveBayes (Porter & Reich)",
                "baseline_s": round(base_s, 2),
                "baseline_cpu_s": round(base_cpu, 2),
                "ratio": round(base_s / ours_s, 2) if ours_s else None,
                "cpu_ratio": round(base_cpu / ours_cpu, 2) if ours_cpu else None,
                "baseline_scores": base,
                "baseline_oracle_series": baseline_oracle(cuts)
                if args.series_study and cuts
                else None,
                "auc_gain": round(ours["pairwise_auc"] - base["pairwise_auc"], 4),
                "bcubed_gain_pct": round(100 * (ours["bcubed_f1"] / base["bcubed_f1"] - 1), 2),
                "series_f1_gain_pct": round(100 * (ours["series_f1"] / base["series_f1"] - 1), 2)
                if base["series_f1"]
                else None,
            }
        else:
            line["baseline"] = why
        line["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        print(json.dumps(line, ensure_ascii=False, default=float), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
