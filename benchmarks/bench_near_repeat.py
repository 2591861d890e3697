"""Benchmark: the Knox test on Chicago 2016 burglaries against the Near Repeat Calculator.

Ours: :func:`haizhou.analytics.near_repeat.knox_test` on the NRC's own input (11,701
residential burglaries of 2016 from ``../shared/data/chicago_burglary/``, coordinates kept to
0.1 m as the NRC keeps them), bands 3 × 100 m and 2 × 2 days, 999 date shuffles.
Baseline: the Near Repeat Calculator v1.3's published output for the same data and bands
(``nrc_output/chicago_burglary_2016_NRverbose.csv``, 19 shuffles; its summary reports a run time
of 1 min 50 s on the authors' machine, quoted as ``baseline_s``, not re-run here: the NRC is a
Windows GUI program).

Quality figures: observed counts must agree exactly (``observed_cells_equal``); Knox ratios
differ by Monte Carlo error (the NRC's mean of 19 shuffles has a standard error of about
``sd / sqrt(19)``), so ``max_abs_ratio_diff`` is reported with ``max_abs_z_expected``: the
largest ``|NRC mean − exact expectation| / (sd / sqrt(19))`` over the cells, which should be a
few units at most.

Prints one JSON line.  Run: ``.venv/bin/python benchmarks/bench_near_repeat.py``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from haizhou.analytics.near_repeat import knox_test

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "chicago_burglary"
NRC_SECONDS = 110.0  # "Time for analysis to run: 0 hours, 1 minutes and 50 seconds"


def load_2016(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.read_csv(path)
    when = pd.to_datetime(frame["date_single"], format="%d/%m/%Y")
    keep = (when >= "2016-01-01") & (when <= "2016-12-31")
    t = when[keep].to_numpy().astype("datetime64[D]")
    return frame["x"][keep].round(1).to_numpy(), frame["y"][keep].round(1).to_numpy(), t


def read_nrc_verbose(path: Path) -> dict[str, np.ndarray]:
    """Observed, ratio and per-cell simulated tables (5 × 3) from the NRC's verbose CSV."""
    with path.open(encoding="latin-1", newline="") as fh:
        rows = list(csv.reader(fh))
    out: dict[str, np.ndarray] = {}
    for title, key in (
        ("Observed over mean expected frequencies", "ratio"),
        ("Observed frequencies distribution", "observed"),
    ):
        start = next(k for k, r in enumerate(rows) if r and r[0].startswith(title))
        out[key] = np.array(
            [[float(v) for v in rows[start + 3 + r][2:5]] for r in range(5)], dtype=np.float64
        )
    sims = np.full((5, 3), None, dtype=object)
    for k, r in enumerate(rows):
        m = re.match(r"Row (\d+) Column (\d+)", r[0] if r else "")
        if m:
            values = [float(v) for v in rows[k + 1][1:] if v.strip()]
            sims[int(m.group(1)) - 1, int(m.group(2)) - 1] = np.array(values)
    out["simulated"] = sims
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permutations", type=int, default=999)
    args = parser.parse_args()
    x, y, t = load_2016(DATA / "chicago_burglary_2014_2017.csv")
    nrc = read_nrc_verbose(DATA / "nrc_output" / "chicago_burglary_2016_NRverbose.csv")

    start = time.perf_counter()
    res = knox_test(
        x,
        y,
        t,
        spatial_bands_m=[0, 100, 200, 300],
        temporal_bands_days=[0, 2, 4],
        permutations=args.permutations,
        random_state=20161231,
    )
    ours_s = time.perf_counter() - start

    nrc_mean = np.array([[np.mean(v) for v in r] for r in nrc["simulated"]])
    # Standard deviation of one shuffle's count, from our simulations: (obs - mean) / z.
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.abs((res.observed - res.expected) / res.z)
    n_nrc = len(nrc["simulated"][0, 0])
    z_expected = np.abs(nrc_mean - res.expected_exact) / (sd / np.sqrt(n_nrc))
    diff = np.abs(res.knox_ratio - nrc["ratio"])
    print(
        json.dumps(
            {
                "name": "knox_chicago_2016",
                "events": int(res.n_events),
                "pairs_within_300m": int(res.observed[:-1].sum()),
                "permutations": res.permutations,
                "ours_s": round(ours_s, 3),
                "baseline": "Near Repeat Calculator (its published output)",
                "baseline_s": NRC_SECONDS,
                "baseline_permutations": n_nrc,
                "ratio": round(NRC_SECONDS / ours_s, 1),
                "observed_cells_equal": int(np.sum(res.observed == nrc["observed"])),
                "cells_compared": int(diff.size),
                "max_abs_ratio_diff": round(float(np.max(diff)), 3),
                "max_abs_ratio_diff_cell": res.to_frame()
                .iloc[int(np.argmax(diff))][["spatial_band", "temporal_band"]]
                .tolist(),
                "max_abs_z_expected": round(float(np.nanmax(z_expected)), 2),
                "knox_ratio_same_location_0_2d": round(float(res.knox_ratio[0, 0]), 2),
                "nrc_ratio_same_location_0_2d": float(nrc["ratio"][0, 0]),
                "knox_ratio_0_100m_0_2d": round(float(res.knox_ratio[1, 0]), 3),
                "nrc_ratio_0_100m_0_2d": float(nrc["ratio"][1, 0]),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
