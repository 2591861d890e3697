"""Linkage at scale: 100,000 cases, train on the solved ones and link all, time and peak memory.

Cases come from :func:`haizhou.analytics.linkage.synthetic.synthetic_crimes` (serial offenders
with home bases, habits and co-offending over two years in a 40 km × 40 km city, four
categories). Blocking keeps pairs of one category within ``--max-distance-m`` and
``--max-gap-days``; the model never sees all n² pairs.

Baseline: the same pipeline without blocking is impossible at this size (5·10⁹ pairs); the line
reports the all-pairs count it avoids and, as a named reference, the time of scoring the same
candidate pairs with Porter & Reich's per-pair evidence loop from ``crimeserieslinkage``
extrapolated from a 2,000-pair sample (when the package is installed).

Prints one JSON line; ``ours_cpu_s`` is the process CPU time of train + link (one thread), a
fairer figure than wall time on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from haizhou.analytics.linkage.model import LinkageModel, linked_pair_keys
from haizhou.analytics.linkage.series import cluster_series
from haizhou.analytics.linkage.synthetic import synthetic_crimes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_linkage import add_option_flags, option_params


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _baseline_per_pair_s(crimes, i, j, n_sample: int = 2000) -> float | None:
    import pandas as pd

    try:
        from bench_linkage import _patched_csl

        csl = _patched_csl()  # the package's own code with its pandas-3 / NumPy-2 fixes
    except ImportError:
        return None
    compare = next(getattr(csl, n) for n in dir(csl) if n.startswith("compare") and "rimes" in n)
    epoch = np.datetime64("1970-01-01T00:00:00", "s")
    rng = np.random.default_rng(0)
    k = rng.choice(i.size, size=min(n_sample, i.size), replace=False)
    rows = np.unique(np.r_[i[k], j[k]])
    sub = crimes.subset(rows)
    pos = np.full(len(crimes), -1)
    pos[rows] = np.arange(rows.size)

    def dt(days):
        return pd.Series(epoch + np.round(days * 86400).astype("timedelta64[s]")).astype(
            "datetime64[ns]"
        )

    df = pd.DataFrame(
        {
            "crimeID": sub.crime_id.astype(str),
            "X": sub.x_m,
            "Y": sub.y_m,
            "DT.FROM": dt(sub.t_from_days),
            "DT.TO": dt(sub.t_to_days),
        }
    )
    mo = list(sub.mo_names)
    for c, name in enumerate(mo):
        levels = np.asarray(sub.mo_levels[c] + ("",), dtype=object)
        df[name] = pd.Categorical(
            np.where(sub.mo_codes[:, c] >= 0, levels[sub.mo_codes[:, c]], None)
        )
    pairs = pd.DataFrame(
        {"i1": sub.crime_id[pos[i[k]]].astype(str), "i2": sub.crime_id[pos[j[k]]].astype(str)}
    )
    varlist = {
        "crimeID": "crimeID",
        "spatial": ["X", "Y"],
        "temporal": ["DT.FROM", "DT.TO"],
        "categorical": mo,
    }
    start = time.process_time()
    try:
        compare(pairs, df, varlist, binary=True)
    except Exception:
        return None
    return (time.process_time() - start) / len(pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-offenders", type=int, default=33_500)
    parser.add_argument("--learner", default="logistic")
    parser.add_argument("--max-distance-m", type=float, default=1500.0)
    parser.add_argument("--max-gap-days", type=float, default=60.0)
    parser.add_argument("--solved-share", type=float, default=0.4)
    parser.add_argument("--no-baseline", action="store_true")
    add_option_flags(parser)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    crimes, offenders = synthetic_crimes(
        n_offenders=args.n_offenders,
        mean_crimes=3.0,
        area_m=40_000.0,
        days=730.0,
        spread_m=500.0,
        solved_share=args.solved_share,
        categories=4,
        seed=7,
    )
    gen_s = time.perf_counter() - t0
    model = LinkageModel(
        learner=args.learner,
        max_distance_m=args.max_distance_m,
        max_gap_days=args.max_gap_days,
        max_unlinked=200_000,
        n_splits=3,
        **option_params(args),
    )
    t1 = time.perf_counter()
    c1 = time.process_time()
    model.fit(crimes, offenders)
    train_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    res = model.link(crimes)
    labels = cluster_series(len(crimes), res.i, res.j, res.probability, threshold=0.5)
    link_s = time.perf_counter() - t2
    cpu_s = time.process_time() - c1
    ours_s = train_s + link_s
    n = len(crimes)
    # quality on the cases whose truth is known (solved) — a sanity figure, not the CV protocol
    solved = offenders.solved_mask()
    keep = solved[res.i] & solved[res.j]
    y = np.isin(res.i[keep] * n + res.j[keep], linked_pair_keys(offenders))
    line = {
        "name": "linkage_scale",
        "n_crimes": n,
        "n_solved": int(solved.sum()),
        "ours_s": round(ours_s, 2),
        "ours_cpu_s": round(cpu_s, 2),
        "train_s": round(train_s, 2),
        "link_s": round(link_s, 2),
        "generate_s": round(gen_s, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "learner": model.learner_name_,
        "collective": model.collective_,
        "neighbourhood": model.neighbourhood,
        "collective_cv": model.collective_cv_,
        "n_train_pairs": model.n_train_pairs_,
        "n_candidate_pairs": len(res),
        "all_pairs": n * (n - 1) // 2,
        "n_series_2plus": int((np.bincount(labels) >= 2).sum()),
        "mean_p_linked": float(res.probability[keep][y].mean()) if y.any() else None,
        "mean_p_unlinked": float(res.probability[keep][~y].mean()) if (~y).any() else None,
        "target_s": 120,
        "params": {"max_distance_m": args.max_distance_m, "max_gap_days": args.max_gap_days},
    }
    if not args.no_baseline:
        per_pair = _baseline_per_pair_s(crimes, res.i, res.j)
        if per_pair is not None:
            line["baseline"] = "crimeserieslinkage compareCrimes per-pair loop (evidence only)"
            line["baseline_cpu_s"] = round(per_pair * len(res), 1)
            line["baseline_extrapolated_from_pairs"] = 2000
            line["ratio_cpu"] = round(line["baseline_cpu_s"] / cpu_s, 1)
        else:
            line["baseline"] = "unavailable (crimeserieslinkage not installed or failed)"
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
