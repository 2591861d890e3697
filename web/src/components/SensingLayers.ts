// Sensing and fraud layers (感知覆盖 · 盲区 · 补盲选址 · 诈骗风险): sensor footprints, blind
// spots by level, the K candidate sites of blind-spot filling ranked by what they add, and fraud
// victimisation rates by jurisdiction. All computed on the server within the user's scope
// (GET /api/map/coverage, /blindspots, /candidate-sites, /fraud-risk); fetched when switched on.
import type * as maplibregl from "maplibre-gl";
import type { GeoJSONSource } from "maplibre-gl";
import { api, ApiError } from "../api";
import { LEVEL_COLOURS } from "./mapColours";

export type SensingLayerId = "coverage" | "blindspots" | "candidates" | "fraudrisk";

export const SENSING_LAYERS: SensingLayerId[] = ["coverage", "blindspots", "candidates", "fraudrisk"];

export const SENSING_STYLE_LAYERS: Record<SensingLayerId, string[]> = {
  coverage: ["coverage-fill", "coverage-line"],
  blindspots: ["blindspots-fill", "blindspots-line"],
  candidates: ["candidates-circle", "candidates-label"],
  fraudrisk: ["fraudrisk-fill", "fraudrisk-line"],
};

const PATHS: Record<SensingLayerId, string> = {
  coverage: "/api/map/coverage",
  blindspots: "/api/map/blindspots",
  candidates: "/api/map/candidate-sites",
  fraudrisk: "/api/map/fraud-risk",
};

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

const LEVEL: maplibregl.ExpressionSpecification = [
  "match",
  ["coalesce", ["get", "level"], "none"],
  "red",
  LEVEL_COLOURS.red,
  "orange",
  LEVEL_COLOURS.orange,
  "yellow",
  LEVEL_COLOURS.yellow,
  "blue",
  LEVEL_COLOURS.blue,
  "#9aa5b1",
];

/** Add the four sources and their style layers; call once the style has loaded. */
export function addSensingLayers(map: maplibregl.Map): void {
  for (const id of SENSING_LAYERS) {
    if (!map.getSource(id)) map.addSource(id, { type: "geojson", data: EMPTY });
  }
  const hidden = { visibility: "none" as const };
  map.addLayer({ id: "fraudrisk-fill", type: "fill", source: "fraudrisk", layout: hidden,
    paint: { "fill-color": LEVEL, "fill-opacity": ["case", ["has", "level"], 0.35, 0.08] } });
  map.addLayer({ id: "fraudrisk-line", type: "line", source: "fraudrisk", layout: hidden,
    paint: { "line-color": "#6a1b9a", "line-width": 1 } });
  map.addLayer({ id: "coverage-fill", type: "fill", source: "coverage", layout: hidden,
    paint: { "fill-color": "#2e7d32", "fill-opacity": 0.18 } });
  map.addLayer({ id: "coverage-line", type: "line", source: "coverage", layout: hidden,
    paint: { "line-color": "#2e7d32", "line-width": 0.6 } });
  map.addLayer({ id: "blindspots-fill", type: "fill", source: "blindspots", layout: hidden,
    paint: { "fill-color": LEVEL, "fill-opacity": 0.45 } });
  map.addLayer({ id: "blindspots-line", type: "line", source: "blindspots", layout: hidden,
    paint: { "line-color": "#333333", "line-width": 0.8 } });
  map.addLayer({ id: "candidates-circle", type: "circle", source: "candidates", layout: hidden,
    paint: { "circle-radius": 9, "circle-color": "#0f62fe", "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
  map.addLayer({ id: "candidates-label", type: "symbol", source: "candidates",
    layout: { ...hidden, "text-field": ["to-string", ["get", "rank"]], "text-size": 11 },
    paint: { "text-color": "#ffffff" } });
}

/** Fetch the layers that are switched on (a 403 leaves the layer empty: not this role's). */
export function loadSensingLayers(
  map: maplibregl.Map,
  on: Record<SensingLayerId, boolean>,
  end: string | undefined,
): void {
  for (const id of SENSING_LAYERS) {
    if (!on[id]) continue;
    const params: Record<string, string | number> = end && id !== "coverage" ? { end } : {};
    api.geojson(PATHS[id], params).then(
      (data) => (map.getSource(id) as GeoJSONSource | undefined)?.setData(data),
      (e) => {
        if (!(e instanceof ApiError && e.status === 403)) console.error(e);
      },
    );
  }
}
