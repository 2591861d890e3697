"""The district's map (辖区地理): boundary, station jurisdictions, roads, places and addresses.

All geometry is built in metres on a local plane around :data:`~haizhou.sim.catalog.ORIGIN_LON_LAT`
(:class:`haizhou.geo.projection.LocalProjection`) and converted to WGS-84 only when written.

The map is the same for every seed (its random parts draw from the fixed
:data:`GEOGRAPHY_SEED`), so cities generated with different seeds are replicates on one map and
place names stay stable for the demo and the tests; the seed changes events, people and sensors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from haizhou.geo.projection import LocalProjection
from haizhou.sim import catalog

#: Seed of the map's own random parts (lanes, compounds, schools); independent of CityConfig.seed.
GEOGRAPHY_SEED = 7_060_320

#: Address kinds in the gazetteer.
RESIDENTIAL, STREET, COMMERCIAL = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Road:
    """A road (道路) as a metre-plane polyline."""

    name: str
    kind: str  # "arterial" | "lane" | "riverside"
    line: LineString


@dataclass(frozen=True, slots=True)
class Place:
    """A place of interest (兴趣点) in metres."""

    name: str
    kind: str
    x_m: float
    y_m: float


@dataclass(frozen=True, slots=True)
class Compound:
    """A residential compound (小区): centre, population weight and its buildings."""

    name: str
    x_m: float
    y_m: float
    weight: float
    jurisdiction: int


@dataclass(frozen=True, slots=True, eq=False)
class Geography:
    """The map of the synthetic district, in metres, with a gazetteer of addresses.

    Attributes
    ----------
    projection : LocalProjection
        Metres ↔ WGS-84.
    boundary : shapely.Polygon
        District boundary (海州区).
    inner : shapely.Polygon
        Boundary shrunk by 5 m; every generated point lies inside it, so rounding to 6 decimals
        cannot push a point out of the district.
    station_codes, station_areas, station_names : tuple of str
        Per jurisdiction: code ("320706-01"), area name ("新浦") and station ("新浦派出所").
    station_polygons : tuple of shapely.Polygon
        Jurisdiction polygons, clipped to the boundary; they tile it.
    roads : tuple of Road
    places : tuple of Place
    compounds : tuple of Compound
    addr_x, addr_y : ndarray of float
        Gazetteer point positions (m).
    addr_text : ndarray of str
        Gazetteer addresses (地址).
    addr_kind : ndarray of int
        RESIDENTIAL, STREET or COMMERCIAL.
    addr_density : ndarray of float
        Relative population density at each address.
    addr_compound : ndarray of int
        Compound index of residential addresses, -1 otherwise.
    addr_jurisdiction : ndarray of int
        Jurisdiction index of every address.
    """

    projection: LocalProjection
    boundary: Polygon
    inner: Polygon
    station_codes: tuple[str, ...]
    station_areas: tuple[str, ...]
    station_names: tuple[str, ...]
    station_polygons: tuple[Polygon, ...]
    roads: tuple[Road, ...]
    places: tuple[Place, ...]
    compounds: tuple[Compound, ...]
    addr_x: np.ndarray
    addr_y: np.ndarray
    addr_text: np.ndarray
    addr_kind: np.ndarray
    addr_density: np.ndarray
    addr_compound: np.ndarray
    addr_jurisdiction: np.ndarray
    tree: cKDTree
    residential_index: np.ndarray
    residential_tree: cKDTree
    other_index: np.ndarray
    other_tree: cKDTree

    def place(self, name: str) -> Place:
        """The place called ``name``; raises KeyError naming the known places otherwise."""
        for place in self.places:
            if place.name == name:
                return place
        raise KeyError(f"no place {name!r}; known: {', '.join(p.name for p in self.places)}")

    def jurisdiction_of(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Index of the jurisdiction containing each point, -1 outside the district."""
        out = np.full(len(x_m), -1, dtype=np.int64)
        for k, polygon in enumerate(self.station_polygons):
            todo = out < 0
            if not todo.any():
                break
            hit = shapely.contains_xy(polygon, x_m[todo], y_m[todo])
            idx = np.flatnonzero(todo)[hit]
            out[idx] = k
        # points exactly on a shared edge: take the nearest polygon
        rest = np.flatnonzero(out < 0)
        if len(rest):
            inside = shapely.contains_xy(self.boundary, x_m[rest], y_m[rest])
            for i in rest[inside]:
                p = Point(x_m[i], y_m[i])
                out[i] = int(np.argmin([poly.distance(p) for poly in self.station_polygons]))
        return out

    def snap(
        self, x_m: np.ndarray, y_m: np.ndarray, *, residential: bool | None = None
    ) -> np.ndarray:
        """Index of the nearest gazetteer address.

        ``residential=True`` keeps to homes (compound buildings), ``False`` to street and
        commercial addresses, ``None`` (default) takes any address.
        """
        pts = np.column_stack([x_m, y_m])
        if residential is None:
            _, j = self.tree.query(pts)
            return j.astype(np.int64)
        index, tree = (
            (self.residential_index, self.residential_tree)
            if residential
            else (self.other_index, self.other_tree)
        )
        _, j = tree.query(pts)
        return index[j]

    def to_lon_lat(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 (lon, lat) of metre-plane points."""
        lon, lat = self.projection.inverse(np.asarray(x_m, float), np.asarray(y_m, float))
        return np.atleast_1d(lon), np.atleast_1d(lat)


def _density(x: np.ndarray, y: np.ndarray, projection: LocalProjection) -> np.ndarray:
    """Relative residential density: the Xinpu core, old Haizhou town and a falling rural edge."""
    centres = [
        (119.1850, 34.6000, 1800.0, 3.0),
        (119.1500, 34.5760, 900.0, 1.5),
        (119.2150, 34.6000, 1400.0, 1.6),
        (119.2050, 34.5650, 1200.0, 0.9),
    ]
    out = np.full(len(x), 0.25)
    for lon, lat, sigma, weight in centres:
        cx, cy = projection.forward(lon, lat)
        out += weight * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2))
    return out


def _wavy_line(
    rng: np.random.Generator, start: tuple[float, float], end: tuple[float, float], wobble_m: float
) -> LineString:
    t = np.linspace(0.0, 1.0, 9)
    x = start[0] + (end[0] - start[0]) * t
    y = start[1] + (end[1] - start[1]) * t
    nx, ny = -(end[1] - start[1]), end[0] - start[0]
    norm = np.hypot(nx, ny) or 1.0
    offset = wobble_m * np.sin(np.pi * t * rng.uniform(0.5, 2.0) + rng.uniform(0, np.pi))
    return LineString(np.column_stack([x + offset * nx / norm, y + offset * ny / norm]))


def _clip_lines(line: LineString, area: Polygon) -> list[LineString]:
    clipped = line.intersection(area)
    if clipped.is_empty:
        return []
    parts = list(getattr(clipped, "geoms", [clipped]))
    return [p for p in parts if isinstance(p, LineString) and p.length > 80.0]


def build_geography() -> Geography:
    """Build the district map. Deterministic: the same map on every call."""
    rng = np.random.default_rng(GEOGRAPHY_SEED)
    projection = LocalProjection.around(*catalog.ORIGIN_LON_LAT)
    blon, blat = zip(*catalog.DISTRICT_BOUNDARY_LON_LAT, strict=True)
    bx, by = projection.forward(np.array(blon), np.array(blat))
    boundary = shapely.make_valid(Polygon(np.column_stack([bx, by])))
    inner = boundary.buffer(-5.0)

    # Station jurisdictions: Voronoi cells of the station anchors, clipped to the district.
    sx, sy = projection.forward(
        np.array([s[3] for s in catalog.STATIONS]), np.array([s[4] for s in catalog.STATIONS])
    )
    cells = shapely.voronoi_polygons(
        MultiPoint(np.column_stack([sx, sy])), extend_to=boundary.buffer(2000.0), ordered=True
    )
    polygons = []
    for cell in cells.geoms:
        clipped = cell.intersection(boundary)
        if clipped.geom_type == "MultiPolygon":  # keep the largest piece, give slivers away
            clipped = max(clipped.geoms, key=lambda g: g.area)
        polygons.append(shapely.set_precision(clipped, 0.01))
    codes = tuple(f"{catalog.DISTRICT_CODE}-{s[0]}" for s in catalog.STATIONS)

    # Roads: a slightly wavy grid of arterials, lanes inside the blocks, a riverside road.
    minx, miny, maxx, maxy = boundary.bounds
    roads: list[Road] = []
    ew_y = np.linspace(miny + 700, maxy - 700, len(catalog.ARTERIALS_EW))
    ns_x = np.linspace(minx + 700, maxx - 700, len(catalog.ARTERIALS_NS))
    for name, y0 in zip(catalog.ARTERIALS_EW, ew_y, strict=True):
        line = _wavy_line(rng, (minx - 100, y0), (maxx + 100, y0 + rng.uniform(-150, 150)), 60.0)
        roads += [Road(name, "arterial", p) for p in _clip_lines(line, boundary)]
    for name, x0 in zip(catalog.ARTERIALS_NS, ns_x, strict=True):
        line = _wavy_line(rng, (x0, miny - 100), (x0 + rng.uniform(-150, 150), maxy + 100), 60.0)
        roads += [Road(name, "arterial", p) for p in _clip_lines(line, boundary)]
    lane_names = [s + suf for s in catalog.LANE_STEMS for suf in catalog.LANE_SUFFIXES]
    rng.shuffle(lane_names)
    lane_iter = iter(lane_names)
    counter = 0
    for i in range(len(ew_y) - 1):
        for j in range(len(ns_x) - 1):
            x_lo, x_hi, y_lo, y_hi = ns_x[j], ns_x[j + 1], ew_y[i], ew_y[i + 1]
            cx, cy = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
            dens = _density(np.array([cx]), np.array([cy]), projection)[0]
            n_lanes = 1 + int(dens > 0.8) + int(dens > 1.6)
            for k in range(n_lanes):
                frac = (k + 1) / (n_lanes + 1)
                if (i + j + k) % 2 == 0:
                    y0 = y_lo + frac * (y_hi - y_lo)
                    line = _wavy_line(rng, (x_lo, y0), (x_hi, y0 + rng.uniform(-60, 60)), 25.0)
                else:
                    x0 = x_lo + frac * (x_hi - x_lo)
                    line = _wavy_line(rng, (x0, y_lo), (x0 + rng.uniform(-60, 60), y_hi), 25.0)
                name = next(lane_iter, None) or f"无名巷{counter}"
                counter += 1
                roads += [Road(name, "lane", p) for p in _clip_lines(line, boundary)]
    river_lonlat = np.array(
        [
            (119.150, 34.6230),
            (119.170, 34.6150),
            (119.1850, 34.6090),
            (119.1930, 34.6065),
            (119.2050, 34.6020),
            (119.2250, 34.6050),
            (119.2450, 34.6100),
        ]
    )
    rx, ry = projection.forward(river_lonlat[:, 0], river_lonlat[:, 1])
    roads += [
        Road("龙尾河滨河路", "riverside", p)
        for p in _clip_lines(LineString(np.column_stack([rx, ry])), boundary)
    ]

    # Places: key places fixed; schools, hospitals and small places near roads.
    places: list[Place] = []
    for name, kind, lon, lat in catalog.KEY_PLACES:
        px, py = projection.forward(lon, lat)
        places.append(Place(name, kind, float(px), float(py)))
    all_lines = shapely.MultiLineString([r.line for r in roads])

    def _near_road(count: int, min_density: float) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        while len(out) < count:
            x = rng.uniform(minx, maxx)
            y = rng.uniform(miny, maxy)
            if not inner.buffer(-300).contains(Point(x, y)):
                continue
            if _density(np.array([x]), np.array([y]), projection)[0] < min_density:
                continue
            p = all_lines.interpolate(all_lines.project(Point(x, y)))
            out.append((p.x + rng.uniform(-30, 30), p.y + rng.uniform(-30, 30)))
        return out

    for name, (x, y) in zip(
        catalog.SCHOOL_NAMES, _near_road(len(catalog.SCHOOL_NAMES), 0.6), strict=True
    ):
        places.append(Place(name, "school", x, y))
    for name, (x, y) in zip(
        catalog.HOSPITAL_NAMES, _near_road(len(catalog.HOSPITAL_NAMES), 0.8), strict=True
    ):
        places.append(Place(name, "hospital", x, y))
    small = _near_road(60, 0.5)
    for k, (x, y) in enumerate(small):
        base, kind = catalog.SMALL_PLACES[k % len(catalog.SMALL_PLACES)]
        stem = catalog.LANE_STEMS[(k * 7) % len(catalog.LANE_STEMS)]
        places.append(Place(f"{stem}{base}", kind, x, y))

    # Compounds: residential estates placed by density, away from the key commercial places.
    compound_names = [s + suf for s in catalog.COMPOUND_STEMS for suf in catalog.COMPOUND_SUFFIXES]
    rng.shuffle(compound_names)
    n_compounds = 260
    cand_x = rng.uniform(minx, maxx, 20_000)
    cand_y = rng.uniform(miny, maxy, 20_000)
    ok = shapely.contains_xy(inner.buffer(-150.0), cand_x, cand_y)
    cand_x, cand_y = cand_x[ok], cand_y[ok]
    dens = _density(cand_x, cand_y, projection)
    pick = rng.choice(len(cand_x), size=n_compounds, replace=False, p=dens / dens.sum())
    comp_x, comp_y = cand_x[pick], cand_y[pick]
    comp_w = dens[pick] * rng.lognormal(0.0, 0.4, n_compounds)

    # Gazetteer: street numbers every ~30 m on both sides, compound buildings, place entrances.
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    texts: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    comps: list[np.ndarray] = []
    for road in roads:
        n = max(2, int(road.line.length // 30))
        d = np.linspace(10.0, road.line.length - 10.0, n)
        pts = shapely.line_interpolate_point(road.line, d)
        px, py = shapely.get_x(pts), shapely.get_y(pts)
        side = np.where(np.arange(n) % 2 == 0, 1.0, -1.0) * 12.0
        xs.append(px + side * 0.7)
        ys.append(py + side * 0.7)
        numbers = (np.arange(n) + 1).astype(str)
        texts.append(np.char.add(np.char.add(f"海州区{road.name}", numbers), "号"))
        kinds.append(np.full(n, STREET))
        comps.append(np.full(n, -1))
    for k in range(n_compounds):
        n_b = int(np.clip(comp_w[k] * 12, 4, 40))
        r = 120.0 * np.sqrt(rng.uniform(0, 1, n_b))
        a = rng.uniform(0, 2 * np.pi, n_b)
        xs.append(comp_x[k] + r * np.cos(a))
        ys.append(comp_y[k] + r * np.sin(a))
        texts.append(
            np.char.add(
                np.char.add(f"海州区{compound_names[k]}", (np.arange(n_b) + 1).astype(str)), "号楼"
            )
        )
        kinds.append(np.full(n_b, RESIDENTIAL))
        comps.append(np.full(n_b, k))
    for place in places:
        n_e = (
            6
            if place.kind in {"old_town_commerce", "riverside_bar_lane", "station_square", "mall"}
            else 2
        )
        r = rng.uniform(10, 90, n_e)
        a = rng.uniform(0, 2 * np.pi, n_e)
        xs.append(place.x_m + r * np.cos(a))
        ys.append(place.y_m + r * np.sin(a))
        texts.append(np.array([f"海州区{place.name}"] * n_e))
        kind = COMMERCIAL if place.kind not in {"school", "hospital"} else STREET
        kinds.append(np.full(n_e, kind))
        comps.append(np.full(n_e, -1))
    addr_x = np.concatenate(xs)
    addr_y = np.concatenate(ys)
    addr_text = np.concatenate(texts).astype(str)
    addr_kind = np.concatenate(kinds).astype(np.int64)
    addr_compound = np.concatenate(comps).astype(np.int64)
    keep = shapely.contains_xy(inner, addr_x, addr_y)
    addr_x, addr_y, addr_text = addr_x[keep], addr_y[keep], addr_text[keep]
    addr_kind, addr_compound = addr_kind[keep], addr_compound[keep]
    addr_density = _density(addr_x, addr_y, projection)

    geo_partial = Geography(
        projection=projection,
        boundary=boundary,
        inner=inner,
        station_codes=codes,
        station_areas=tuple(s[1] for s in catalog.STATIONS),
        station_names=tuple(s[2] for s in catalog.STATIONS),
        station_polygons=tuple(polygons),
        roads=tuple(roads),
        places=tuple(places),
        compounds=(),
        addr_x=addr_x,
        addr_y=addr_y,
        addr_text=addr_text,
        addr_kind=addr_kind,
        addr_density=addr_density,
        addr_compound=addr_compound,
        addr_jurisdiction=np.zeros(0, dtype=np.int64),
        tree=cKDTree(np.column_stack([addr_x, addr_y])),
        residential_index=np.flatnonzero(addr_kind == RESIDENTIAL),
        residential_tree=cKDTree(
            np.column_stack([addr_x[addr_kind == RESIDENTIAL], addr_y[addr_kind == RESIDENTIAL]])
        ),
        other_index=np.flatnonzero(addr_kind != RESIDENTIAL),
        other_tree=cKDTree(
            np.column_stack([addr_x[addr_kind != RESIDENTIAL], addr_y[addr_kind != RESIDENTIAL]])
        ),
    )
    addr_jur = geo_partial.jurisdiction_of(addr_x, addr_y)
    comp_jur = geo_partial.jurisdiction_of(comp_x, comp_y)
    compounds = tuple(
        Compound(
            compound_names[k],
            float(comp_x[k]),
            float(comp_y[k]),
            float(comp_w[k]),
            int(comp_jur[k]),
        )
        for k in range(n_compounds)
    )
    return replace(geo_partial, compounds=compounds, addr_jurisdiction=addr_jur)
