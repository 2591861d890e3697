"""Benchmark: Getis-Ord Gi* on 20,000 H3 hexagons, ours against PySAL esda (Gi* 热点分析).

Ours: ``getis_ord_gi_star`` with 999 conditional permutations. Baseline: esda
``G_Local(y, w, transform="B", star=True, permutations=999)`` on the same binary weights (each
hexagon's ring-1 neighbours; esda adds the unit self weight), in this one process.

- ``ours_s`` / ``baseline_s``: the statistic with 999 permutations, weights built beforehand
  on both sides (ours: ``Neighbours.from_h3``; esda: a ``libpysal.weights.W`` from the same
  lists). esda runs its numba kernels when numba is installed (``esda_numba``); one small call
  first compiles them, outside the timing.
- ``ours_analytic_s`` / ``baseline_analytic_s``: z-scores only (``permutations=0``).
- ``max_abs_z_diff``: largest |z - esda Zs| over all hexagons (target < 1e-8).
- ``p_sim_corr`` / ``p_sim_max_abs_diff``: our two-sided pseudo p against the same rule,
  ``min(1, 2 · min(p_greater, p_less))``, applied to esda's own simulated statistics (esda keeps
  them by default). Different random draws, so close, not equal: the Monte Carlo standard
  error at 999 draws is up to 0.016 per tail. (esda's own ``p_sim`` is the "directed" value,
  ``(min(#>=, #<) + 1) / (R + 1)``, about half of a two-sided p and treating ties differently.)

Hexagons: the 20,000 resolution-9 cells nearest a point in Lianyungang (whole
``h3.grid_ring`` rings, the last one cut), counts Poisson around a few synthetic hot areas, fixed seed. Times are the
best of ``--repeat`` runs (the machine may be shared).

Prints one JSON line. Run: ``.venv/bin/python benchmarks/bench_gistar.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings

import h3.api.basic_int as h3int
import numpy as np

from haizhou.analytics.spatial_stats import Neighbours, getis_ord_gi_star
from haizhou.geo import cells_from_lonlat

N_HEX = 20_000
PERMUTATIONS = 999


def hexagons(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centre = int(cells_from_lonlat(119.22, 34.60, 9))
    ordered: list[int] = [centre]
    k = 1
    while len(ordered) < N_HEX:
        ordered.extend(sorted(h3int.grid_ring(centre, k)))
        k += 1
    cells = np.array(ordered[:N_HEX], dtype=np.int64)
    lat_lng = np.array([h3int.cell_to_latlng(int(c)) for c in cells])
    hot = lat_lng[rng.choice(cells.size, 12, replace=False)]
    d2 = ((lat_lng[:, None, :] - hot[None, :, :]) ** 2).sum(axis=2)
    rate = 0.5 + 6.0 * np.exp(-d2 / (2 * 0.004**2)).sum(axis=1)
    return cells, rng.poisson(rate).astype(np.float64)


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(20261128)
    cells, y = hexagons(rng)
    nb = Neighbours.from_h3(cells, k=1)

    ours_s, ours = best_of(
        args.repeat,
        lambda: getis_ord_gi_star(y, nb, permutations=PERMUTATIONS, random_state=1),
    )
    ours_analytic_s, _ = best_of(args.repeat, lambda: getis_ord_gi_star(y, nb, permutations=0))

    import esda
    from libpysal.weights import W

    try:
        import numba  # noqa: F401

        esda_numba = True
    except ImportError:
        esda_numba = False

    def make_w():
        return W({i: nb.neighbours_of(i).tolist() for i in range(nb.n)}, silence_warnings=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tiny = W({0: [1], 1: [0, 2], 2: [1]}, silence_warnings=True)
        esda.G_Local(
            np.array([1.0, 2.0, 5.0]), tiny, transform="B", star=True, permutations=9, seed=1
        )  # fmt: skip  (compiles the numba kernels)
        w = make_w()
        base_s, ref = best_of(
            args.repeat,
            lambda: esda.G_Local(y, w, transform="B", star=True, permutations=PERMUTATIONS, seed=1),
        )
        base_analytic_s, ref0 = best_of(
            args.repeat,
            lambda: esda.G_Local(y, w, transform="B", star=True, permutations=0),
        )

    max_abs_z_diff = float(np.max(np.abs(ours.z - ref.Zs)))
    sims = ref.rGs  # (n, R), kept by esda's default keep_simulations=True
    tie = 1e-12 * np.max(ref.Gs)
    greater = (np.sum(sims >= ref.Gs[:, None] - tie, axis=1) + 1.0) / (PERMUTATIONS + 1.0)
    less = (np.sum(sims <= ref.Gs[:, None] + tie, axis=1) + 1.0) / (PERMUTATIONS + 1.0)
    esda_two_sided = np.minimum(1.0, 2.0 * np.minimum(greater, less))
    p_corr = float(np.corrcoef(ours.p_sim, esda_two_sided)[0, 1])
    p_diff = float(np.max(np.abs(ours.p_sim - esda_two_sided)))
    agree = float(np.mean((ours.p_sim < 0.05) == (esda_two_sided < 0.05)))
    print(
        json.dumps(
            {
                "name": "gi_star_20000_hexagons",
                "hexagons": int(nb.n),
                "permutations": PERMUTATIONS,
                "ours_s": round(ours_s, 4),
                "baseline": "esda.G_Local(transform='B', star=True, permutations=999)",
                "baseline_s": round(base_s, 4),
                "ratio": round(base_s / ours_s, 1),
                "ours_analytic_s": round(ours_analytic_s, 5),
                "baseline_analytic_s": round(base_analytic_s, 4),
                "ratio_analytic": round(base_analytic_s / ours_analytic_s, 1),
                "max_abs_z_diff": max_abs_z_diff,
                "max_abs_z_diff_analytic": float(np.max(np.abs(ours.z - ref0.Zs))),
                "p_sim_corr": round(p_corr, 4),
                "p_sim_max_abs_diff": round(p_diff, 4),
                "p_sim_agree_at_0_05": round(agree, 4),
                "esda_version": esda.__version__,
                "esda_numba": esda_numba,
            }
        )
    )


if __name__ == "__main__":
    main()
