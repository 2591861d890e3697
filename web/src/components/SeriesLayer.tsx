// Series layer (系列案图层): each series as a line through its cases in time order (pale at the
// first case, dark at the latest) and a point per case: open cases in the series' level colour,
// solved ones white. Data: GET /api/map/series (kind "series" lines, kind "case" points).
import type * as maplibregl from "maplibre-gl";
import { levelColour } from "./mapColours";

export const SERIES_STYLE_LAYERS = ["series-line", "series-points"];

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

const LEVEL = levelColour();

/** Add the series source and style layers; call once the style has loaded. */
export function addSeriesLayers(map: maplibregl.Map): void {
  // lineMetrics: the line's gradient runs along it, so the time order reads first → last
  if (!map.getSource("series")) map.addSource("series", { type: "geojson", data: EMPTY, lineMetrics: true });
  map.addLayer({
    id: "series-line",
    type: "line",
    source: "series",
    filter: ["==", ["get", "kind"], "series"],
    layout: { "line-cap": "round", "line-join": "round" },
    paint: {
      "line-width": 3,
      "line-gradient": ["interpolate", ["linear"], ["line-progress"], 0, "#c6dbef", 1, "#08306b"],
    },
  });
  map.addLayer({
    id: "series-points",
    type: "circle",
    source: "series",
    filter: ["==", ["get", "kind"], "case"],
    paint: {
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 15, 7],
      "circle-color": ["case", ["==", ["get", "status"], "solved"], "#ffffff", LEVEL],
      "circle-stroke-color": "#08306b",
      "circle-stroke-width": 1.5,
    },
  });
}
