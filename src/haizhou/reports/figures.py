"""Charts and maps of the reports (报告图表与地图), drawn with matplotlib's Agg backend.

Every function takes plain arrays (no store, no clock) and returns a :class:`Figure`: the SVG
text (text turned into paths, so neither the browser nor the PDF needs the font) plus its size.
Maps draw jurisdiction outlines (辖区边界) from their GeoJSON, projected with
:class:`haizhou.geo.projection.LocalProjection` so that a metre is a metre in both directions,
under a hexagon layer (H3 六边形) or a heat layer (热力).
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: reports are drawn on servers and in CI

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from haizhou.geo.projection import LocalProjection
from haizhou.reports.fonts import find_cjk_font

__all__ = [
    "Figure",
    "Outline",
    "bar_chart",
    "line_chart",
    "map_figure",
]

_LEVEL_COLOURS = {"red": "#d7301f", "orange": "#fc8d59", "yellow": "#fdd835", "blue": "#4575b4"}
_PALETTE = ("#1f4e79", "#c0392b", "#7f8c8d", "#27ae60", "#8e44ad")


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """A drawn figure (图): SVG text and its size.

    Attributes
    ----------
    svg : str
        The SVG document.
    width_in, height_in : float
        Size, inches.
    kind : str
        ``chart`` or ``map``.
    """

    svg: str
    width_in: float
    height_in: float
    kind: str

    @property
    def data_uri(self) -> str:
        """The SVG as a ``data:`` URI for an ``<img>`` (keeps ids of several SVGs apart)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outline:
    """A jurisdiction outline (辖区边界) to draw: code, label and GeoJSON geometry (WGS-84)."""

    code: str
    label: str
    geometry: Mapping[str, Any]


def _rc() -> dict[str, Any]:
    font = find_cjk_font()
    families = [font.family] if font else []
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [*families, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": "haizhou-report",  # stable output for the same input
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _finish(fig: MplFigure, kind: str) -> Figure:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Without a CJK font matplotlib warns once per missing glyph; find_cjk_font has
        # already said so once, in one clear line, and the report carries a banner.
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning
        )
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    width, height = fig.get_size_inches()
    plt.close(fig)
    return Figure(svg=buffer.getvalue(), width_in=float(width), height_in=float(height), kind=kind)


def line_chart(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str = "",
    width_in: float = 7.0,
    height_in: float = 2.6,
) -> Figure:
    """Lines over a shared x axis (折线图).

    Parameters
    ----------
    x : sequence
        Positions (dates or labels), one per point.
    series : mapping of str to sequence of float
        Label → values aligned with ``x``; NaN leaves a gap.
    title, ylabel : str
        Texts, already in the report's language.
    width_in, height_in : float
        Size, inches.
    """
    with plt.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=(width_in, height_in))
        positions = np.arange(len(x))
        for (label, values), colour in zip(series.items(), _PALETTE * 4, strict=False):
            ax.plot(
                positions,
                np.asarray(values, dtype=float),
                marker="o",
                ms=2.5,
                lw=1.4,
                label=label,
                color=colour,
            )
        step = max(1, len(x) // 14)
        rotate = len(x[::step]) > 8 and max((len(str(v)) for v in x), default=0) > 5
        ax.set_xticks(
            positions[::step],
            [str(v) for v in list(x)[::step]],
            rotation=35 if rotate else 0,
            ha="right" if rotate else "center",
        )
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=8)
        return _finish(fig, "chart")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    reference: Sequence[float] | None = None,
    reference_label: str = "",
    value_label: str = "",
    width_in: float = 7.0,
    height_in: float | None = None,
) -> Figure:
    """Horizontal bars, largest on top (条形图), with an optional reference tick per bar.

    Parameters
    ----------
    labels, values : sequences
        One bar per label.
    title : str
        Chart title in the report's language.
    reference : sequence of float, optional
        A second value per bar (e.g. the baseline) drawn as a dark tick.
    reference_label, value_label : str
        Legend entries.
    """
    n = len(labels)
    height = height_in if height_in is not None else max(1.6, 0.28 * n + 0.8)
    with plt.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=(width_in, height))
        positions = np.arange(n)[::-1]
        vals = np.asarray(values, dtype=float)
        ax.barh(positions, vals, color=_PALETTE[0], height=0.65, label=value_label or None)
        if reference is not None:
            ax.scatter(
                np.asarray(reference, dtype=float),
                positions,
                marker="|",
                s=160,
                color=_PALETTE[1],
                linewidths=2,
                label=reference_label or None,
                zorder=3,
            )
        for pos, value in zip(positions, vals, strict=True):
            if np.isfinite(value):
                ax.text(value, pos, f" {value:g}", va="center", fontsize=8)
        ax.set_yticks(positions, list(labels))
        ax.set_title(title, loc="left", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if value_label or reference_label:
            ax.legend(frameon=False, fontsize=8, loc="lower right")
        return _finish(fig, "chart")


def _rings(geometry: Mapping[str, Any]) -> list[np.ndarray]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return [np.asarray(ring, dtype=float)[:, :2] for polygon in polygons for ring in polygon]


def map_figure(
    outlines: Sequence[Outline],
    *,
    title: str,
    hexagons: tuple[Sequence[Mapping[str, Any]], Sequence[float]] | None = None,
    heat: tuple[np.ndarray, tuple[float, float, float, float], LocalProjection] | None = None,
    categories: tuple[Sequence[Mapping[str, Any]], Sequence[str]] | None = None,
    colour_label: str = "",
    legend: Sequence[tuple[str, str]] = (),
    integer_colours: bool = False,
    width_in: float = 7.0,
    height_in: float = 5.2,
) -> Figure:
    """A map of jurisdiction outlines under a hexagon, heat or category layer (地图).

    Parameters
    ----------
    outlines : sequence of Outline
        Jurisdictions to outline and label at their centre.
    title : str
        Title in the report's language.
    hexagons : (geometries, values), optional
        GeoJSON polygons (WGS-84) and a value each, coloured on a sequential scale.
    heat : (image, extent, projection), optional
        A raster ``(ny, nx)`` (row 0 southernmost), its ``(x0, x1, y0, y1)`` extent in metres
        of ``projection``, drawn semi-transparent.
    categories : (geometries, colours), optional
        GeoJSON polygons with one fill colour each (e.g. emerging hot-spot patterns).
    colour_label : str
        Label of the colour bar.
    legend : sequence of (label, colour)
        Legend entries for a ``categories`` layer.
    integer_colours : bool
        Whole-number ticks on the colour bar (counts).

    The plane is ``heat``'s projection when given, else one centred on the outlines.
    """
    rings = [(o, _rings(o.geometry)) for o in outlines]
    points = [r for _, rs in rings for r in rs]
    if heat is not None:
        projection = heat[2]
    elif points:
        allp = np.concatenate(points)
        projection = LocalProjection.for_bounds(*allp.min(axis=0), *allp.max(axis=0))
    else:
        projection = LocalProjection.around(119.18, 34.60)

    def project(ring: np.ndarray) -> np.ndarray:
        x, y = projection.forward(ring[:, 0], ring[:, 1])
        return np.column_stack([np.asarray(x) / 1000.0, np.asarray(y) / 1000.0])

    with plt.rc_context(_rc()):
        fig, ax = plt.subplots(figsize=(width_in, height_in))
        mappable = None
        if heat is not None:
            image, (x0, x1, y0, y1), _ = heat
            masked = np.ma.masked_where(~np.isfinite(image) | (image <= 0), image)
            mappable = ax.imshow(
                masked,
                origin="lower",
                extent=(x0 / 1e3, x1 / 1e3, y0 / 1e3, y1 / 1e3),
                cmap="YlOrRd",
                alpha=0.85,
                interpolation="bilinear",
                zorder=1,
            )
        if hexagons is not None and len(hexagons[0]):
            polys = [project(_rings(g)[0]) for g in hexagons[0]]
            values = np.asarray(hexagons[1], dtype=float)
            collection = PolyCollection(
                polys,
                array=values,
                cmap="YlOrRd",
                edgecolors="#999999",
                linewidths=0.2,
                alpha=0.9,
                zorder=1,
            )
            collection.set_clim(0, max(1.0, float(np.nanmax(values))))
            ax.add_collection(collection)
            mappable = collection
        if categories is not None and len(categories[0]):
            polys = [project(_rings(g)[0]) for g in categories[0]]
            ax.add_collection(
                PolyCollection(
                    polys,
                    facecolors=list(categories[1]),
                    edgecolors="#555555",
                    linewidths=0.2,
                    zorder=1,
                )
            )
        for outline, outline_rings in rings:
            if not outline_rings:
                continue
            projected = [project(r) for r in outline_rings]
            for ring in projected:
                ax.plot(ring[:, 0], ring[:, 1], color="#1f2d3d", lw=0.9, zorder=2)
            biggest = max(projected, key=len)
            cx, cy = biggest[:, 0].mean(), biggest[:, 1].mean()
            ax.text(
                cx,
                cy,
                outline.label,
                ha="center",
                va="center",
                fontsize=6.5,
                zorder=3,
                color="#1f2d3d",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.6},
            )
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.set_xlabel("km")
        ax.set_title(title, loc="left", fontsize=10)
        if mappable is not None:
            bar = fig.colorbar(mappable, ax=ax, shrink=0.7, pad=0.02)
            bar.set_label(colour_label)
            if integer_colours:
                bar.locator = MaxNLocator(integer=True)
                bar.update_ticks()
        if legend:
            handles = [
                Patch(facecolor=colour, edgecolor="#555555", label=label)
                for label, colour in legend
            ]
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                frameon=False,
                fontsize=8,
            )
        return _finish(fig, "map")


LEVEL_COLOURS = _LEVEL_COLOURS
"""Fill colours of the four warning levels (红 橙 黄 蓝)."""
