// Map layers of the work on the ground: instructions by status (指令图层), scenario zones
// (场景区域) and the polygon being drawn for a query (框选查询).
import type * as maplibregl from "maplibre-gl";
import { matchColour } from "./mapColours";

export const STATUS_COLOURS: Record<string, string> = {
  issued: "#d7191c",
  signed: "#fd8d3c",
  in_progress: "#f2b701",
  fed_back: "#2c7bb6",
  returned: "#8e44ad",
  closed: "#5f6b7a",
};

export const ZONE_COLOURS: Record<string, string> = {
  core: "#d7191c",
  control: "#fd8d3c",
  guard: "#2e7d32",
  district: "#6a1b9a",
  venue: "#ab47bc",
};

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };


/** Add the sources and style layers; call once the style has loaded, after the base layers. */
export function addWorkLayers(map: maplibregl.Map): void {
  for (const id of ["instructions", "scenario", "draw"]) {
    if (!map.getSource(id)) map.addSource(id, { type: "geojson", data: EMPTY });
  }
  // Scenario zones go under the points; the core zone drawn last so it stays visible.
  const below = map.getLayer("sensors-circle") ? "sensors-circle" : undefined;
  map.addLayer(
    {
      id: "scenario-fill",
      type: "fill",
      source: "scenario",
      paint: { "fill-color": matchColour("role", ZONE_COLOURS, "#6a1b9a"), "fill-opacity": 0.12 },
    },
    below,
  );
  map.addLayer(
    {
      id: "scenario-line",
      type: "line",
      source: "scenario",
      paint: { "line-color": matchColour("role", ZONE_COLOURS, "#6a1b9a"), "line-width": 2 },
    },
    below,
  );
  map.addLayer({
    id: "instructions-circle",
    type: "circle",
    source: "instructions",
    paint: {
      "circle-radius": 7,
      "circle-color": matchColour("status", STATUS_COLOURS, "#5f6b7a"),
      "circle-stroke-color": ["case", ["to-boolean", ["get", "overdue"]], "#000000", "#ffffff"],
      "circle-stroke-width": ["case", ["to-boolean", ["get", "overdue"]], 3, 1.5],
    },
  });
  map.addLayer({
    id: "draw-fill",
    type: "fill",
    source: "draw",
    filter: ["==", ["geometry-type"], "Polygon"],
    paint: { "fill-color": "#0f62fe", "fill-opacity": 0.15 },
  });
  map.addLayer({
    id: "draw-line",
    type: "line",
    source: "draw",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": "#0f62fe", "line-width": 2, "line-dasharray": [2, 1] },
  });
  map.addLayer({
    id: "draw-points",
    type: "circle",
    source: "draw",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#0f62fe", "circle-stroke-width": 2 },
  });
}

/** The drawing as GeoJSON: its vertices, the open line and (from three vertices) the polygon. */
export function drawingFeatures(points: [number, number][], closed: boolean): GeoJSON.FeatureCollection {
  const features: GeoJSON.Feature[] = points.map((p) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: p },
    properties: {},
  }));
  if (points.length >= 3) {
    features.push({ type: "Feature", geometry: { type: "Polygon", coordinates: [[...points, points[0]]] }, properties: {} });
  } else if (points.length === 2 && !closed) {
    features.push({ type: "Feature", geometry: { type: "LineString", coordinates: points }, properties: {} });
  }
  return { type: "FeatureCollection", features };
}
