"""Routing an instruction to the owning jurisdiction (属地派发) by the finding's geometry.

- A point goes to the jurisdiction holding it (:class:`haizhou.geo.index.PolygonIndex`, same
  border rule as at ingest: the first polygon listed wins).
- A polygon or line crossing several jurisdictions goes to the one holding the largest share
  of it (area for polygons, length for lines) as lead (主办); the others holding at least
  ``min_share`` of it assist (协办), largest share first. Ties go to the jurisdiction listed
  first.
- A geometry outside every jurisdiction has no lead; the caller decides (e.g. the bureau).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from haizhou.domain import Jurisdiction
from haizhou.errors import InputError
from haizhou.geo.index import PolygonIndex

__all__ = ["Router", "Routing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Routing:
    """Where an instruction goes (派发结果).

    Attributes
    ----------
    lead : str or None
        The owning jurisdiction (主办单位); ``None`` outside every jurisdiction.
    assisting : tuple of str
        Assisting jurisdictions (协办单位), largest share first.
    shares : dict of str to float
        Share of the geometry (0..1, by area or length) in each jurisdiction it touches; a
        point has share 1.0 in its owner.
    """

    lead: str | None
    assisting: tuple[str, ...] = ()
    shares: dict[str, float] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Router:
    """Routes geometries to jurisdictions; build once with :meth:`from_jurisdictions`.

    Examples
    --------
    >>> from haizhou.domain import Jurisdiction
    >>> sq = lambda x0: {"type": "Polygon", "coordinates": [[[x0, 0], [x0 + 1, 0],
    ...     [x0 + 1, 1], [x0, 1], [x0, 0]]]}
    >>> router = Router.from_jurisdictions([
    ...     Jurisdiction(code="A", name="A", station="A", geometry=sq(0.0)),
    ...     Jurisdiction(code="B", name="B", station="B", geometry=sq(1.0))])
    >>> router.route({"type": "Point", "coordinates": [1.5, 0.5]}).lead
    'B'
    >>> r = router.route({"type": "Polygon", "coordinates": [[[0.8, 0.2], [1.6, 0.2],
    ...     [1.6, 0.4], [0.8, 0.4], [0.8, 0.2]]]})
    >>> r.lead, r.assisting
    ('B', ('A',))
    """

    index: PolygonIndex
    min_share: float = 0.01
    _tree: shapely.STRtree | None = None
    parents: Mapping[str, str | None] | None = None

    @classmethod
    def from_jurisdictions(
        cls,
        jurisdictions: Iterable[Jurisdiction],
        *,
        min_share: float = 0.01,
        grid_cells: int = 4096,
        nested: bool = False,
    ) -> Router:
        """Build from jurisdictions with geometry (those without are skipped).

        Parameters
        ----------
        jurisdictions
            In priority order for borders and ties.
        min_share
            Smallest share (0..1) of a geometry that makes a jurisdiction an assisting unit;
            slivers from imprecise borders below it are ignored.
        grid_cells
            Acceleration grid of the point index (see :class:`PolygonIndex`). Routing looks up
            a few geometries at a time, so a small grid that builds fast is the default;
            answers never depend on it.
        nested
            The units form a tree (``parent_code``) whose parents' areas hold their
            children's, e.g. a bureau over its stations. Then the most specific unit wins: a
            point goes to the deepest unit holding it, and an area is shared by what each unit
            holds *outside its sub-units*, so a bureau leads only for the part no station holds,
            and a lead's superiors never assist it.

        Raises
        ------
        InputError
            If no jurisdiction has a geometry, or a geometry is invalid (see PolygonIndex).
        """
        if not 0 <= min_share < 1:
            raise ValueError(f"min_share must be in [0, 1); got {min_share!r}")
        items = [(j.code, j.geometry) for j in jurisdictions if j.geometry]
        if not items:
            raise InputError(
                "no jurisdiction has a boundary polygon, so instructions cannot be routed; "
                "import the jurisdictions (haizhou import jurisdictions FILE) first"
            )
        parents = None
        if nested:
            parents = {j.code: j.parent_code for j in jurisdictions}
            depth = {code: len(_ancestors(code, parents)) for code, _ in items}
            items = sorted(items, key=lambda item: -depth[item[0]])  # stable: ties keep order
        index = PolygonIndex.from_geojson(items, grid_cells=grid_cells)
        return cls(
            index=index,
            min_share=min_share,
            _tree=shapely.STRtree(index.geometries),
            parents=parents,
        )

    def route(self, geometry: dict[str, Any]) -> Routing:
        """The lead and assisting jurisdictions for a GeoJSON geometry (lon/lat, WGS-84).

        Raises
        ------
        InputError
            If the geometry is not valid GeoJSON.
        """
        geom = _shape(geometry)
        if isinstance(geom, shapely.Point | shapely.MultiPoint):
            points = shapely.get_coordinates(geom)
            owners = self.index.locate(points[:, 0], points[:, 1])
            counts: dict[str, float] = {}
            for code in owners:
                if code is not None:
                    counts[code] = counts.get(code, 0.0) + 1.0
            return self._from_measures(counts, total=float(len(points)))
        assert self._tree is not None
        candidates = sorted(self._tree.query(geom, predicate="intersects").tolist())
        scale = math.cos(math.radians(shapely.centroid(geom).y))
        measure = _area if geom.area > 0 else _length
        total = measure(geom, scale)
        if total <= 0:  # a degenerate polygon or line: route its representative point
            point = shapely.point_on_surface(geom)
            return self.route({"type": "Point", "coordinates": [point.x, point.y]})
        measures = {}
        for k in candidates:
            part = shapely.intersection(self.index.geometries[k], geom)
            value = measure(part, scale)
            if value > 0:
                measures[self.index.codes[k]] = value
        return self._from_measures(measures, total=total)

    def _from_measures(self, measures: dict[str, float], *, total: float) -> Routing:
        if not measures:
            return Routing(lead=None, assisting=(), shares={})
        if self.parents is not None:
            measures = self._own_measures(measures)
        order = {code: i for i, code in enumerate(self.index.codes)}
        ranked = sorted(measures, key=lambda c: (-measures[c], order[c]))
        shares = {code: min(1.0, measures[code] / total) for code in ranked}
        above = _ancestors(ranked[0], self.parents) if self.parents is not None else set()
        assisting = tuple(c for c in ranked[1:] if shares[c] >= self.min_share and c not in above)
        return Routing(lead=ranked[0], assisting=assisting, shares=shares)

    def _own_measures(self, measures: dict[str, float]) -> dict[str, float]:
        """Each unit's measure outside its sub-units (children measured here too)."""
        assert self.parents is not None
        own = dict(measures)
        for code, value in measures.items():
            parent = self.parents.get(code)
            if parent in own:
                own[parent] -= value
        kept = {code: value for code, value in own.items() if value > 1e-12}
        return kept or measures


def _ancestors(code: str, parents: Mapping[str, str | None] | None) -> set[str]:
    found: set[str] = set()
    parent = (parents or {}).get(code)
    while parent is not None and parent not in found:
        found.add(parent)
        parent = (parents or {}).get(parent)
    return found


def _area(geom: shapely.Geometry, scale: float) -> float:
    # Equal-area enough within a city: degrees of longitude shrink by cos(lat).
    return float(shapely.area(geom)) * scale


def _length(geom: shapely.Geometry, scale: float) -> float:
    coords = shapely.get_coordinates(geom)
    if len(coords) < 2:
        return 0.0
    # Length of lines only (polygon boundaries of an intersection are not line parts).
    parts = [g for g in _flatten(geom) if isinstance(g, shapely.LineString)]
    total = 0.0
    for line in parts:
        xy = np.asarray(line.coords)
        d = np.diff(xy, axis=0)
        total += float(np.hypot(d[:, 0] * scale, d[:, 1]).sum())
    return total


def _flatten(geom: shapely.Geometry) -> Sequence[shapely.Geometry]:
    if hasattr(geom, "geoms"):
        out: list[shapely.Geometry] = []
        for g in geom.geoms:
            out.extend(_flatten(g))
        return out
    return [geom]


def _shape(geometry: Any) -> shapely.Geometry:
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise InputError(
            f"the finding's geometry must be a GeoJSON geometry mapping; got {geometry!r:.80}"
        )
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(
            f"the finding's GeoJSON {geometry.get('type')} is malformed ({exc}); "
            "coordinates are [lon, lat] positions"
        ) from None
    if geom.is_empty:
        raise InputError("the finding's geometry is empty; it cannot be routed")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom
