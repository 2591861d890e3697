"""Learning curve of the linkage model on the synthetic city: is it short of data or of evidence?

The city benchmark (``bench_linkage.py --datasets city``) trains each fold on about 13 serial
offenders. Here each outer fold of the same city is trained on its training cases **plus** the
burglary cases of ``K`` other cities (other seeds, the same scale, shifted 100 km apart so that
no candidate pair joins two cities), and tested on the same test folds as the benchmark. If
the held-out AUC rises with ``K``, the model on the benchmark city is limited by how few
offenders it learns from, not by what the evidence can tell.

Prints one JSON line per ``K``: pooled AUC and average precision (the protocol of
docs/linkage.md), per-fold AUC, linked training pairs and seconds.

Usage: ``python benchmarks/bench_linkage_curve.py --extra 0,4 [--learner blend]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from bench_linkage import city_cases, city_table

from haizhou.analytics.linkage.metrics import pair_scores
from haizhou.analytics.linkage.model import LinkageModel
from haizhou.analytics.linkage.protocol import grouped_folds, pool, score_fold

MAIN_SEED = 20240101
"""The seed of the benchmark city (``CityConfig``'s default)."""


def combined_cities(scale: float, category: str, extra: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The benchmark city's cases and those of ``extra`` other cities, ids made unique and
    the others shifted 100 km east each; with a mask of the benchmark city's cases."""
    frames = []
    for c, seed in enumerate([MAIN_SEED, *range(1000, 1000 + extra)]):
        cases = city_cases(scale, category, seed=seed)
        cases = cases.assign(x=cases.x + 100_000.0 * c, city=c)
        cases["case_id"] = f"c{c}:" + cases.case_id
        serial = cases.offender_id != ""
        cases["offender_id"] = np.where(serial, f"c{c}:" + cases.offender_id, "")
        frames.append(cases)
    cases = pd.concat(frames, ignore_index=True)
    return cases, cases.city.to_numpy() == 0


def curve_point(args: argparse.Namespace, extra: int) -> dict:
    cases, is_main = combined_cities(args.city_scale, args.city_category, extra)
    crimes, offenders, _ = city_table(cases)
    main, others = np.flatnonzero(is_main), np.flatnonzero(~is_main)
    main_crimes, main_offenders = crimes.subset(main), offenders.subset(main)
    start = time.perf_counter()
    scores, per_fold, linked = [], [], []
    for train, test in grouped_folds(main_offenders, n_splits=5):
        rows = np.r_[main[train], others]
        model = LinkageModel(
            learner=args.learner,
            max_distance_m=args.city_max_distance_m,
            max_gap_days=args.city_max_gap_days,
        ).fit(crimes.subset(rows), offenders.subset(rows))
        tc, to = main_crimes.subset(test), main_offenders.subset(test)
        res = model.link(tc)
        fold = score_fold(tc, to, res.i, res.j, res.probability, np.arange(len(tc)))
        scores.append(fold)
        one = pair_scores(
            fold.y_scored,
            fold.p_scored,
            n_pairs_total=fold.n_pairs_total,
            n_linked_total=fold.n_linked_total,
        )
        per_fold.append(round(one["pairwise_auc"], 4))
        linked.append(model.n_linked_pairs_)
    pooled = pool(scores)
    return {
        "name": "linkage_city_curve",
        "extra_cities": extra,
        "learner": args.learner,
        "extra_cases": int(others.size),
        "linked_training_pairs": linked,
        "pairwise_auc": round(pooled["pairwise_auc"], 4),
        "average_precision": round(pooled["average_precision"], 4),
        "per_fold_auc": per_fold,
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", default="0,4", help="numbers of other cities, comma-separated")
    parser.add_argument("--learner", default="blend")
    parser.add_argument("--city-scale", type=float, default=0.3)
    parser.add_argument("--city-category", default="入室盗窃")
    parser.add_argument("--city-max-distance-m", type=float, default=5000.0)
    parser.add_argument("--city-max-gap-days", type=float, default=365.0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    for extra in (int(k) for k in args.extra.split(",")):
        print(json.dumps(curve_point(args, extra), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
