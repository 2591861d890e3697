"""Benchmark: heat-map KDE of 1,000,000 events on a 1,000 × 1,000 grid (热力图核密度).

Ours: ``KernelDensitySurface`` (Gaussian, linear binning + FFT). Baselines, same events, same
bandwidth, same 1,000 × 1,000 cell centres, in this one process:

- ``scipy.stats.gaussian_kde`` (direct sum): the full run (10^12 kernel evaluations) would take
  hours, so it is timed on a subsample of events × a subsample of cells and scaled by
  ``(events × cells) / (sub events × sub cells)``; its cost is exactly proportional to that
  product. ``ratio`` is against this scaled time.
- ``KDEpy.FFTKDE`` (binned + FFT, the fastest Python KDE we know), evaluated on the same grid:
  ``kdepy_s`` and ``ratio_kdepy``. Skipped (null) if KDEpy is not installed.

Accuracy: ``max_rel_error`` is the largest relative error against the exact kernel sum over
all 10^6 events, over sampled cells holding >= 1e-3 of the peak (all cells would take hours
exactly): the peak cell, 400 random cells from that set and 200 from its faint end (1e-3 to
1e-2 of the peak), where binning errors are largest.

Events are synthetic (40 town centres plus 30 % uniform background over 10 km × 10 km) from a
fixed seed. Times are the best of ``--repeat`` runs (the machine may be shared).

Prints one JSON line. Run: ``.venv/bin/python benchmarks/bench_kde.py [--points N]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from scipy import stats

from haizhou.analytics.kde import KernelDensitySurface, bandwidth_rule_of_thumb

SIDE_M = 10_000.0
CELLS = 1_000
SCIPY_EVENTS = 10_000
SCIPY_CELLS = 10_000


def events(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.uniform(1_000, 9_000, (40, 2))
    pick = rng.integers(0, 40, n)
    clustered = rng.random(n) < 0.7
    x = np.where(clustered, centres[pick, 0] + rng.normal(0, 300, n), rng.uniform(0, SIDE_M, n))
    y = np.where(clustered, centres[pick, 1] + rng.normal(0, 300, n), rng.uniform(0, SIDE_M, n))
    # keep every event inside the span of the cell centres: KDEpy refuses events off its grid
    lo, hi = 0.5 * SIDE_M / CELLS + 1e-3, SIDE_M - 0.5 * SIDE_M / CELLS - 1e-3
    return np.clip(x, lo, hi), np.clip(y, lo, hi)


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def exact_at(x, y, h, gx, gy, chunk=8) -> np.ndarray:
    out = np.empty(gx.size)
    for s in range(0, gx.size, chunk):
        dx = gx[s : s + chunk, None] - x[None, :]
        dy = gy[s : s + chunk, None] - y[None, :]
        out[s : s + chunk] = np.exp(-0.5 * (dx * dx + dy * dy) / (h * h)).sum(axis=1)
    return out / (2.0 * math.pi * h * h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(20261128)
    n = args.points
    x, y = events(rng, n)
    h = bandwidth_rule_of_thumb(x, y)  # Scott's rule, ~250 m here
    cell = SIDE_M / CELLS

    def ours_run():
        return KernelDensitySurface(
            bandwidth_m=h, cell_size_m=cell, extent_m=(0.0, 0.0, SIDE_M, SIDE_M)
        ).fit(x, y)

    ours_s, kde = best_of(args.repeat, ours_run)
    surface = kde.surface_
    assert surface.shape == (CELLS, CELLS)

    # Accuracy against the exact sum on sampled cells.
    peak = float(surface.max())
    flat = surface.ravel()
    strong = np.flatnonzero(flat >= 1e-3 * peak)
    faint = np.flatnonzero((flat >= 1e-3 * peak) & (flat < 1e-2 * peak))
    pick = np.unique(
        np.concatenate(
            [
                [int(np.argmax(flat))],
                rng.choice(strong, min(400, strong.size), replace=False),
                rng.choice(faint, min(200, faint.size), replace=False) if faint.size else [],
            ]
        ).astype(np.int64)
    )
    iy, ix = np.divmod(pick, CELLS)
    gx, gy = kde.x_centres_[ix], kde.y_centres_[iy]
    exact = exact_at(x, y, h, gx, gy)
    keep = exact >= 1e-3 * exact.max()
    max_rel_error = float(np.max(np.abs(flat[pick][keep] - exact[keep]) / exact[keep]))

    # KDEpy FFTKDE on the same centres.
    kdepy_s = ratio_kdepy = kdepy_err = None
    try:
        from KDEpy import FFTKDE
    except ImportError:
        FFTKDE = None
    if FFTKDE is not None:
        gxx, gyy = np.meshgrid(kde.x_centres_, kde.y_centres_, indexing="ij")
        grid = np.column_stack([gxx.ravel(), gyy.ravel()])  # sorted: x slowest, as KDEpy needs
        data = np.column_stack([x, y])

        def kdepy_run():
            return FFTKDE(kernel="gaussian", bw=h).fit(data).evaluate(grid)

        kdepy_s, dens = best_of(args.repeat, kdepy_run)
        kdepy_surface = np.asarray(dens).reshape(CELLS, CELLS).T * n  # pdf -> events per m²
        kdepy_err = float(
            np.max(np.abs(kdepy_surface.ravel()[pick][keep] - exact[keep]) / exact[keep])
        )
        ratio_kdepy = kdepy_s / ours_s

    # scipy gaussian_kde on a subsample, scaled. Its bandwidth factor makes the kernel
    # covariance ~ h² I for these near-isotropic events (cost does not depend on it).
    sub = rng.choice(n, SCIPY_EVENTS, replace=False)
    sigma = math.sqrt(0.5 * (x.var() + y.var()))
    skde = stats.gaussian_kde(np.vstack([x[sub], y[sub]]), bw_method=h / sigma)
    cells_sub = rng.choice(CELLS * CELLS, SCIPY_CELLS, replace=False)
    cy, cx = np.divmod(cells_sub, CELLS)
    pts = np.vstack([kde.x_centres_[cx], kde.y_centres_[cy]])
    t0 = time.perf_counter()
    skde(pts)
    scipy_sub_s = time.perf_counter() - t0
    scale = (n * CELLS * CELLS) / (SCIPY_EVENTS * SCIPY_CELLS)
    scipy_s = scipy_sub_s * scale

    print(
        json.dumps(
            {
                "name": "kde_1m_points_1000x1000",
                "points": n,
                "grid": [CELLS, CELLS],
                "cell_size_m": cell,
                "bandwidth_m": round(h, 2),
                "ours_s": round(ours_s, 4),
                "baseline": "scipy.stats.gaussian_kde (subsample timed and scaled)",
                "baseline_s": round(scipy_s, 1),
                "baseline_sub_s": round(scipy_sub_s, 4),
                "baseline_scaled_by": scale,
                "ratio": round(scipy_s / ours_s, 1),
                "kdepy_s": None if kdepy_s is None else round(kdepy_s, 4),
                "ratio_kdepy": None if ratio_kdepy is None else round(ratio_kdepy, 2),
                "max_rel_error": round(max_rel_error, 6),
                "kdepy_max_rel_error": None if kdepy_err is None else round(kdepy_err, 6),
                "error_cells_checked": int(keep.sum()),
                "oversample": kde.oversample_,
            }
        )
    )


if __name__ == "__main__":
    main()
