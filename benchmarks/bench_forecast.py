"""Benchmark: short-term forecasting backtest on St. Louis (St. Louis 短期预测回测).

The protocol of ``haizhou forecast backtest`` and of the open_cp reference figures in
``../shared/data/stlouis/README.md``: 150 m cells over all 90,697 events, study area = the
5,717 occupied cells, daily forecasts for 2015-01-01 … 2015-03-31, each fitted on the previous
365 days, scored by hit rate, PAI and PEI at 1 %, 5 % and 10 %.

Baseline: open_cp 0.2.0 (QuantCrimAtLeeds/PredictCode). It needs NumPy < 1.24 and takes ~8
minutes per SEPP run, so its figures are the README's reference table (measured with the same
protocol on the same data), not re-run here: ``baseline_pai_5`` is the best open_cp PAI at 5 %
(burglary 4.33, part1 4.55) and ``baseline_s`` the time of that open_cp method.

Prints one JSON line per method and target. Run:
``.venv/bin/python benchmarks/bench_forecast.py [--targets burglary,part1] [--methods all]``.
Also: ``--validation`` runs Oct–Dec 2014 instead (the window the parameters were chosen on).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from haizhou.analytics.base import EventSet, to_days
from haizhou.analytics.forecast import parse_methods
from haizhou.analytics.forecast.protocol import run_protocol

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "stlouis"
CSV = DATA / "stlouis_2014_2015.csv"
PART1 = (
    "burglary",
    "larceny",
    "vehicle_theft",
    "robbery",
    "aggravated_assault",
    "homicide",
    "arson",
)
# open_cp 0.2.0 reference (README): best PAI at 5 % and that method's seconds for 90 days.
BASELINE = {"burglary": (4.33, 451.0), "part1": (4.55, 557.0)}
OPEN_CP = "open_cp 0.2.0 (README reference)"


def load() -> tuple[EventSet, np.ndarray]:
    import pandas as pd

    frame = pd.read_csv(CSV, usecols=["occurred_at", "x", "y", "category"])
    t = to_days(pd.to_datetime(frame["occurred_at"]).to_numpy().astype("datetime64[s]"))
    return EventSet(t, frame["x"], frame["y"]), frame["category"].to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", default="burglary,part1")
    parser.add_argument("--methods", default="all")
    parser.add_argument(
        "--validation",
        action="store_true",
        help="score Oct-Dec 2014 (the tuning window) instead of Jan-Mar 2015",
    )
    args = parser.parse_args()
    if not CSV.exists():
        print(
            f"skipped: {CSV} is missing (the St. Louis data of ../shared/data/stlouis/)",
            file=sys.stderr,
        )
        return
    events, category = load()
    start, days = ("2014-10-01", 92) if args.validation else ("2015-01-01", 90)
    for target_name in args.targets.split(","):
        wanted = PART1 if target_name == "part1" else (target_name,)
        target = np.isin(category, wanted)
        for method in parse_methods(args.methods):
            t0 = time.perf_counter()
            report = run_protocol(
                events,
                target,
                methods=[method],
                cell_size_m=150.0,
                train_days=365.0,
                test_start_days=float(to_days(start)),
                test_days=days,
                horizon_days=1.0,
                coverages=(0.01, 0.05, 0.1),
                clock=time.perf_counter,
            )
            wall = time.perf_counter() - t0
            res = report.results[method]
            base_pai, base_s = BASELINE.get(target_name, (float("nan"), float("nan")))
            line = {
                "name": f"forecast_{method}",
                "target": target_name,
                "window": f"{start} +{days}d",
                "ours_s": round(report.seconds[method], 2),
                "ours_wall_s": round(wall, 2),
                "baseline": OPEN_CP,
                "baseline_s": base_s,
                "ratio": round(base_s / max(report.seconds[method], 1e-9), 1),
                "baseline_pai_5": base_pai,
                "n_events": report.n_events,
                "pai_1": round(float(res.pai[0]), 3),
                "pai_5": round(float(res.pai[1]), 3),
                "pai_10": round(float(res.pai[2]), 3),
                "hit_rate_1": round(float(res.hit_rate[0]), 4),
                "hit_rate_5": round(float(res.hit_rate[1]), 4),
                "hit_rate_10": round(float(res.hit_rate[2]), 4),
                "pei_1": round(float(res.pei[0]), 4),
                "pei_5": round(float(res.pei[1]), 4),
                "pei_10": round(float(res.pei[2]), 4),
                "vs_baseline_pai_5": round(float(res.pai[1]) / base_pai - 1.0, 4),
            }
            if method == "auto":
                line["auto_choice"] = report.auto_choice
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
