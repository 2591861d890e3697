"""Linkage quality and time: Haizhou's LinkageModel vs Porter & Reich's naive Bayes as ported in
the PyPI package ``crimeserieslinkage`` — same data, same grouped folds, same run.

Datasets: the crimelinkage R package's example (``../shared/data/crimelinkage``) and the
synthetic city's ground truth (``haizhou.sim``, burglary cases; each case of a simulated serial
offender is labelled with that offender, every other case is its own offender).

Protocol (docs/linkage.md): 5-fold ``GroupKFold`` over offender groups; each side is trained on
the training folds' cases only and scores the test fold's cases. AUC / AP over all test pairs
within 365 days (unscored pairs count 0); series against offender groups (B-cubed F1, pairwise
series F1).

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
import sys
import time
import warnings
from pathlib import Path

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


def city_data(scale: float, category: str) -> tuple[CrimeTable, Offenders, list[str]]:
    from haizhou.geo.projection import LocalProjection
    from haizhou.sim import generate_city
    from haizhou.sim.config import CityConfig

    city = generate_city(CityConfig(scale=scale))
    cases = city.cases[city.cases["category"] == category].reset_index(drop=True)
    proj = LocalProjection.around(float(cases.lon.median()), float(cases.lat.median()))
    x, y = proj.forward(cases.lon.to_numpy(), cases.lat.to_numpy())

    def local(col: str) -> np.ndarray:
        return cases[col].dt.tz_localize(None).to_numpy("datetime64[s]")

    mo = ["entry_method", "target", "tools", "time_of_day"]
    crimes = CrimeTable.from_arrays(
        crime_id=cases.case_id.to_numpy(),
        x_m=x,
        y_m=y,
        t_from=local("occurred_from"),
        t_to=local("occurred_to"),
        mo={m: cases[m].to_numpy(dtype=object) for m in mo},
        text=cases.narrative.to_numpy(dtype=object),
        property_taken=cases.property_taken.to_numpy(dtype=object),
    )
    truth = np.where(cases.offender_id != "", cases.offender_id, "single:" + cases.case_id)
    offenders = Offenders.from_pairs(crimes, offender_id=truth, crime_id=cases.case_id)
    return crimes, offenders, mo


# ------------------------------------------------------------------------------------------
# ours


def run_ours(crimes, offenders, folds, params) -> tuple[dict, float, list[str], float]:
    start, cpu = time.perf_counter(), time.process_time()
    scores, learners = [], []
    for train, test in folds:
        model = LinkageModel(**params).fit(crimes.subset(train), offenders.subset(train))
        learners.append(model.learner_name_)
        tc, to = crimes.subset(test), offenders.subset(test)
        res = model.link(tc)
        labels = cluster_series(len(tc), res.i, res.j, res.probability, threshold=0.5)
        scores.append(score_fold(tc, to, res.i, res.j, res.probability, labels))
    return pool(scores), time.perf_counter() - start, learners, time.process_time() - cpu


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
) -> tuple[dict, float, float]:
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
    scores = []
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
        else:
            labels = cluster_series(len(tc), ti, tj, post, threshold=0.5)
        scores.append(score_fold(tc, toff, ti, tj, post, labels))
    return pool(scores), time.perf_counter() - start, time.process_time() - cpu


# ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="crimelinkage,city")
    parser.add_argument("--city-scale", type=float, default=0.5)
    parser.add_argument("--city-category", default="入室盗窃")
    parser.add_argument("--no-baseline", action="store_true")
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
            params = {"learner": "auto", "max_distance_m": 3000.0, "max_gap_days": 120.0}
            all_pairs = False
        folds = grouped_folds(offenders, n_splits=5)
        ours, ours_s, learners, ours_cpu = run_ours(crimes, offenders, folds, params)
        line = {
            "name": f"linkage_{name}",
            "n_crimes": len(crimes),
            "n_offenders": int(offenders.offender_ids.size),
            "ours_s": round(ours_s, 2),
            "ours_cpu_s": round(ours_cpu, 2),
            "ours": dict(ours),
            "ours_learners": learners,
            "params": params,
        }
        if not args.no_baseline:
            try:
                import crimeserieslinkage  # noqa: F401

                base, base_s, base_cpu = run_baseline(
                    crimes, offenders, folds, mo, all_pairs=all_pairs, params=params
                )
                line |= {
                    "baseline": "crimeserieslinkage 1.1.0 naiveBayes (Porter & Reich)",
                    "baseline_s": round(base_s, 2),
                    "baseline_cpu_s": round(base_cpu, 2),
                    "ratio": round(base_s / ours_s, 2) if ours_s else None,
                    "cpu_ratio": round(base_cpu / ours_cpu, 2) if ours_cpu else None,
                    "baseline_scores": base,
                    "auc_gain": round(ours["pairwise_auc"] - base["pairwise_auc"], 4),
                    "bcubed_gain_pct": round(100 * (ours["bcubed_f1"] / base["bcubed_f1"] - 1), 2),
                    "series_f1_gain_pct": round(
                        100 * (ours["series_f1"] / base["series_f1"] - 1), 2
                    )
                    if base["series_f1"]
                    else None,
                }
            except ImportError as exc:
                line |= {"baseline": f"unavailable: {exc}"}
            except Exception as exc:  # report, and keep our figures
                line |= {"baseline": f"failed: {type(exc).__name__}: {exc}"}
        print(json.dumps(line, ensure_ascii=False, default=float), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
