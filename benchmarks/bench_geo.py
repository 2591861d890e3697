"""Benchmark: H3 cells + jurisdiction lookup for 1,000,000 points (ingest's place step).

Ours: ``haizhou.geo.cells_from_lonlat`` (vectorised NumPy H3) and ``PolygonIndex.locate``.
Baseline: a Python loop over ``h3.latlng_to_cell`` plus a loop over prepared shapely
polygons (``contains``), timed on a 50,000-point subsample and scaled to the full size.
Points and 16 Voronoi jurisdictions are synthetic, around Lianyungang, from a fixed seed.

Prints one JSON line.  Run: ``.venv/bin/python benchmarks/bench_geo.py [--points N]``.
"""

from __future__ import annotations

import argparse
import json
import time

import h3.api.basic_int as h3int
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.prepared import prep

from haizhou.geo import PolygonIndex, cells_from_lonlat

BOX = (118.9, 34.3, 119.6, 34.9)
RESOLUTION = 9
SUBSAMPLE = 50_000


def jurisdictions(rng: np.random.Generator, n: int) -> list[tuple[str, dict]]:
    sites = shapely.multipoints(
        np.column_stack([rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)])
    )
    env = shapely.box(*BOX)
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=env))
    # Densify so borders have realistic vertex counts (hundreds per polygon).
    return [
        (f"320700{i:02d}", mapping(shapely.segmentize(shapely.intersection(c, env), 0.002)))
        for i, c in enumerate(cells)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(20261128)
    items = jurisdictions(rng, 16)
    n = args.points
    # Clustered like incidents: a mix of town centres and a uniform background.
    centres = np.column_stack([rng.uniform(BOX[0], BOX[2], 40), rng.uniform(BOX[1], BOX[3], 40)])
    pick = rng.integers(0, 40, n)
    lon = np.where(
        rng.random(n) < 0.7,
        centres[pick, 0] + rng.normal(0, 0.02, n),
        rng.uniform(BOX[0] - 0.05, BOX[2] + 0.05, n),
    )
    lat = np.where(
        rng.random(n) < 0.7,
        centres[pick, 1] + rng.normal(0, 0.02, n),
        rng.uniform(BOX[1] - 0.05, BOX[3] + 0.05, n),
    )

    t0 = time.perf_counter()
    index = PolygonIndex.from_geojson(items)
    build_s = time.perf_counter() - t0

    cells_from_lonlat(lon[:10], lat[:10], RESOLUTION)  # one-off face-table set-up
    t0 = time.perf_counter()
    cells = cells_from_lonlat(lon, lat, RESOLUTION)
    h3_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    owners = index.locate(lon, lat)
    pip_s = time.perf_counter() - t0
    ours_s = h3_s + pip_s

    m = min(SUBSAMPLE, n)
    sub_lon, sub_lat = lon[:m].tolist(), lat[:m].tolist()
    prepared = [(code, prep(shapely.geometry.shape(g))) for code, g in items]
    t0 = time.perf_counter()
    base_cells = [
        h3int.latlng_to_cell(y, x, RESOLUTION) for x, y in zip(sub_lon, sub_lat, strict=True)
    ]
    base_h3_s = (time.perf_counter() - t0) * n / m
    t0 = time.perf_counter()
    base_owners = []
    for x, y in zip(sub_lon, sub_lat, strict=True):
        point = shapely.Point(x, y)
        base_owners.append(next((code for code, g in prepared if g.contains(point)), None))
    base_pip_s = (time.perf_counter() - t0) * n / m
    baseline_s = base_h3_s + base_pip_s

    print(
        json.dumps(
            {
                "name": "geo_h3_pip",
                "points": n,
                "resolution": RESOLUTION,
                "polygons": len(items),
                "ours_s": round(ours_s, 4),
                "ours_h3_s": round(h3_s, 4),
                "ours_pip_s": round(pip_s, 4),
                "index_build_s": round(build_s, 4),
                "baseline": "h3.latlng_to_cell loop + shapely contains loop",
                "baseline_s": round(baseline_s, 4),
                "baseline_h3_s": round(base_h3_s, 4),
                "baseline_pip_s": round(base_pip_s, 4),
                "baseline_scaled_from": m,
                "ratio": round(baseline_s / ours_s, 2),
                "h3_rows_per_s": round(n / h3_s),
                "baseline_h3_rows_per_s": round(n / base_h3_s),
                "h3_agreement": float(np.mean(cells[:m] == np.array(base_cells, dtype=np.int64))),
                "pip_agreement": float(np.mean(owners[:m] == np.array(base_owners, dtype=object))),
                "inside_share": float(np.mean(owners != None)),  # noqa: E711 (element-wise)
            }
        )
    )


if __name__ == "__main__":
    main()
