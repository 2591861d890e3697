"""Schemas of the sensing, blind-spot and fraud-risk map layers (``/api/map/...``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from haizhou.api.schemas.map import Feature


class LayerCollection(BaseModel):
    """A GeoJSON FeatureCollection with a ``summary`` of how it was computed."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]
    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="Figures of the layer as a whole (window, counts, objective, test used)",
    )
