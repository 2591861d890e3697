// The situation map (态势地图): offline base map from our own GeoJSON (or the bureau's tile
// server), switchable layers, a time window, a side panel for what is clicked, and a legend.
// Incidents arrive only as server-side aggregates (hexagons, heat) for the viewport and window.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import * as maplibregl from "maplibre-gl";
// The worker is its own module file: bundle it as an asset and tell MapLibre where it is.
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import type { GeoJSONSource, MapGeoJSONFeature, MapMouseEvent, StyleSpecification } from "maplibre-gl";
import { api, ApiError, type MapConfig, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { Legend } from "../components/Legend";
import { levelColour } from "../components/mapColours";
import { SidePanel } from "../components/SidePanel";
import { TimeSlider, type Window } from "../components/TimeSlider";
import { addWorkLayers } from "../components/workLayers";
import { addSeriesLayers, SERIES_STYLE_LAYERS } from "../components/SeriesLayer";
import { addSensingLayers, loadSensingLayers, SENSING_STYLE_LAYERS } from "../components/SensingLayers";
import { ScenarioPicker } from "../components/ScenarioPicker";
import { DrawQuery } from "../components/DrawQuery";
import { PointInstruction } from "../components/CreateInstruction";
import type { ScenarioDetail } from "../workApi";
import { AIRSPACE_ROLES, trackName } from "../airspaceLive";
import { addDroneLayers, DRONE_HEAD_LAYER, DRONE_STYLE_LAYERS, protectedZones, useDroneTracks } from "../components/DroneLayer";

export type LayerId =
  | "jurisdictions"
  | "roads"
  | "places"
  | "hexagons"
  | "heat"
  | "sensors"
  | "findings"
  | "instructions"
  | "series"
  | "drones"
  | "scenario"
  | "coverage"
  | "blindspots"
  | "candidates"
  | "fraudrisk";

const LAYERS: LayerId[] = ["jurisdictions", "roads", "places", "hexagons", "heat", "sensors", "findings", "instructions", "series", "drones", "scenario", "coverage", "blindspots", "candidates", "fraudrisk"];
const DEFAULT_ON: Record<LayerId, boolean> = {
  jurisdictions: true,
  roads: true,
  places: false,
  hexagons: true,
  heat: false,
  sensors: false,
  findings: true,
  instructions: true,
  series: false,
  drones: false,
  scenario: true,
  coverage: false,
  blindspots: false,
  candidates: false,
  fraudrisk: false,
};
// The style layers that make up each switchable layer.
const STYLE_LAYERS: Record<LayerId, string[]> = {
  jurisdictions: ["jurisdictions-fill", "jurisdictions-line"],
  roads: ["roads-line"],
  places: ["places-circle"],
  hexagons: ["hexagons-fill", "hexagons-line"],
  heat: ["heat-layer"],
  sensors: ["sensors-circle"],
  findings: ["findings-circle"],
  instructions: ["instructions-circle"],
  series: SERIES_STYLE_LAYERS,
  drones: DRONE_STYLE_LAYERS,
  scenario: ["scenario-fill", "scenario-line"],
  ...SENSING_STYLE_LAYERS,
};
const CLICKABLE = [DRONE_HEAD_LAYER, "instructions-circle", "findings-circle", "sensors-circle", "hexagons-fill", "scenario-fill", "jurisdictions-fill"];
maplibregl.setWorkerUrl(workerUrl);

const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };
const DEFAULT_CENTRE: [number, number] = [119.2, 34.6];

function baseStyle(tileUrl: string | null): StyleSpecification {
  const style: StyleSpecification = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }],
  };
  if (tileUrl) {
    style.sources.tiles = { type: "raster", tiles: [tileUrl], tileSize: 256 };
    style.layers.push({ id: "tiles", type: "raster", source: "tiles" });
  }
  return style;
}

function resolutionFor(zoom: number): number {
  if (zoom < 10) return 6;
  if (zoom < 11.5) return 7;
  if (zoom < 13) return 8;
  return 9;
}

function addLayers(map: maplibregl.Map): void {
  for (const id of ["jurisdictions", "roads", "places", "hexagons", "heat", "sensors", "findings"]) {
    map.addSource(id, { type: "geojson", data: EMPTY });
  }
  const level = levelColour();
  map.addLayer({
    id: "jurisdictions-fill",
    type: "fill",
    source: "jurisdictions",
    paint: { "fill-color": "#ffffff", "fill-opacity": 0.55 },
  });
  map.addLayer({
    id: "roads-line",
    type: "line",
    source: "roads",
    paint: {
      "line-color": "#b9c0c9",
      "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.6, 15, 3],
    },
  });
  map.addLayer({
    id: "places-circle",
    type: "circle",
    source: "places",
    paint: { "circle-radius": 3, "circle-color": "#7b8794", "circle-opacity": 0.8 },
  });
  map.addLayer({
    id: "jurisdictions-line",
    type: "line",
    source: "jurisdictions",
    paint: { "line-color": "#1f3a5f", "line-width": 1.6, "line-dasharray": [3, 2] },
  });
  map.addLayer({
    id: "heat-layer",
    type: "heatmap",
    source: "heat",
    paint: {
      "heatmap-weight": ["get", "weight"],
      "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 9, 12, 14, 40],
      "heatmap-opacity": 0.75,
      "heatmap-color": [
        "interpolate",
        ["linear"],
        ["heatmap-density"],
        0,
        "rgba(44,123,182,0)",
        0.2,
        "#2c7bb6",
        0.45,
        "#fecc5c",
        0.7,
        "#fd8d3c",
        1,
        "#d7191c",
      ],
    },
  });
  map.addLayer({
    id: "hexagons-fill",
    type: "fill",
    source: "hexagons",
    paint: { "fill-color": level, "fill-opacity": 0.55 },
  });
  map.addLayer({
    id: "hexagons-line",
    type: "line",
    source: "hexagons",
    paint: { "line-color": "#ffffff", "line-width": 0.5 },
  });
  map.addLayer({
    id: "sensors-circle",
    type: "circle",
    source: "sensors",
    paint: {
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 1.5, 15, 5],
      "circle-color": "#3d5a80",
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 0.5,
    },
  });
  map.addLayer({
    id: "findings-circle",
    type: "circle",
    source: "findings",
    paint: {
      "circle-radius": 9,
      "circle-color": level,
      "circle-stroke-color": "#111827",
      "circle-stroke-width": 2,
    },
  });
}

function bboxOf(map: maplibregl.Map): string {
  const b = map.getBounds();
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  return [
    clamp(b.getWest(), -180, 180),
    clamp(b.getSouth(), -90, 90),
    clamp(b.getEast(), -180, 180),
    clamp(b.getNorth(), -90, 90),
  ]
    .map((v) => v.toFixed(5))
    .join(",");
}

export interface Selection {
  layer: string;
  properties: Record<string, unknown>;
}

/** The layers this user may switch: the drone layer only for roles that see the airspace. */
function layersOf(user: User): LayerId[] {
  return AIRSPACE_ROLES.has(user.role) ? LAYERS : LAYERS.filter((layer) => layer !== "drones");
}

export function MapPage({ user, onOpenAirspace }: { user: User; onOpenAirspace?: (trackId: number) => void }) {
  const { t, lang } = useI18n();
  const canAir = AIRSPACE_ROLES.has(user.role);
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<maplibregl.Map | null>(null);
  const [ready, setReady] = useState(false);
  const [config, setConfig] = useState<MapConfig | null>(null);
  const [visible, setVisible] = useState<Record<LayerId, boolean>>(DEFAULT_ON);
  const [window, setWindow] = useState<Window | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [viewTick, setViewTick] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const drawingRef = useRef(false);
  const beforeScenario = useRef<Record<LayerId, boolean> | null>(null);
  const [scenarioOn, setScenarioOn] = useState(false);
  const [scenario, setScenario] = useState<ScenarioDetail | null>(null);
  const [airZonesOn, setAirZonesOn] = useState(false);
  const autoDrones = useRef<string | null>(null);
  const drones = useDroneTracks(ready ? mapRef.current : null, canAir && visible.drones, lang === "zh-CN");

  // 1. Configuration, then the map.
  useEffect(() => {
    api.config().then(setConfig, (e) => setNotice(String(e)));
  }, []);

  useEffect(() => {
    if (config === null || container.current === null) return;
    const map = new maplibregl.Map({
      container: container.current,
      style: baseStyle(config.tile_url),
      center: DEFAULT_CENTRE,
      zoom: 11,
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots in end-to-end tests
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    mapRef.current = map;
    // The end-to-end tests find the map here to turn coordinates into pixels.
    (container.current as HTMLDivElement & { haizhouMap?: maplibregl.Map }).haizhouMap = map;
    map.on("load", () => {
      addLayers(map);
      addWorkLayers(map);
      addSeriesLayers(map);
      addSensingLayers(map);
      addDroneLayers(map);
      if (config.bounds) map.fitBounds(config.bounds, {
          padding: { top: 30, bottom: 30, left: 280, right: 60 },
          duration: 0,
        });
      setReady(true);
    });
    map.on("moveend", () => setViewTick((n) => n + 1));
    map.on("click", (event: MapMouseEvent) => {
      if (drawingRef.current) return; // the polygon tool takes the clicks
      const layers = CLICKABLE.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, "visibility") !== "none");
      const hit: MapGeoJSONFeature | undefined = map.queryRenderedFeatures(event.point, { layers })[0];
      setSelection(hit ? { layer: hit.layer.id, properties: hit.properties ?? {} } : null);
    });
    map.on("mousemove", (event: MapMouseEvent) => {
      const layers = CLICKABLE.filter((id) => map.getLayer(id));
      map.getCanvas().style.cursor = map.queryRenderedFeatures(event.point, { layers }).length ? "pointer" : "";
    });
    return () => {
      map.remove();
      mapRef.current = null;
      setReady(false);
    };
  }, [config]);

  // 2. Layers that do not depend on the view: jurisdictions, base map, sensors.
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || map === null) return;
    const load = (source: string, path: string) =>
      api.geojson(path).then(
        (data) => (map.getSource(source) as GeoJSONSource | undefined)?.setData(data),
        (e) => {
          if (!(e instanceof ApiError && e.status === 403)) console.error(e);
        },
      );
    load("jurisdictions", "/api/map/jurisdictions");
    load("roads", "/api/map/base/roads");
    load("places", "/api/map/base/places");
    load("sensors", "/api/map/sensors");
  }, [ready]);

  // 3. Layers of the viewport and the time window.
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || map === null || window === null) return;
    const controller = { cancelled: false };
    const params = { start: window.start, end: window.end };
    const bbox = bboxOf(map);
    const set = (source: string, data: GeoJSON.FeatureCollection) => {
      if (!controller.cancelled) (map.getSource(source) as GeoJSONSource | undefined)?.setData(data);
    };
    const forbidden = (e: unknown) => {
      if (e instanceof ApiError && e.status === 403) setNotice(t("error.forbidden"));
      else console.error(e);
    };
    const timer = setTimeout(() => {
      if (visible.hexagons) {
        api
          .geojson("/api/map/hexagons", { ...params, bbox, resolution: resolutionFor(map.getZoom()) })
          .then((data) => {
            set("hexagons", data);
            if (!controller.cancelled) setTotal((data as unknown as { total: number }).total);
          }, forbidden);
      }
      if (visible.heat) {
        api.heat({ ...params, bbox, width: 96, height: 96 }).then((heat) => {
          // Each grid cell becomes a weighted point at its centre for the heat-map layer.
          const [minLon, minLat, maxLon, maxLat] = heat.grid.bbox;
          const dLon = (maxLon - minLon) / heat.grid.width;
          const dLat = (maxLat - minLat) / heat.grid.height;
          const peak = heat.grid.max_density || 1;
          set("heat", {
            type: "FeatureCollection",
            features: heat.cells.map(([col, row, count, density]) => ({
              type: "Feature",
              geometry: { type: "Point", coordinates: [minLon + (col + 0.5) * dLon, minLat + (row + 0.5) * dLat] },
              properties: { count, weight: density / peak },
            })),
          });
        }, forbidden);
      }
      if (visible.findings) {
        api.geojson("/api/map/findings", params).then((data) => set("findings", data), forbidden);
      }
      if (visible.instructions) {
        api.geojson("/api/map/instructions", params).then((data) => set("instructions", data), forbidden);
      }
      if (visible.series) {
        api.geojson("/api/map/series", params).then((data) => set("series", data), forbidden);
      }
    }, 150);
    return () => {
      controller.cancelled = true;
      clearTimeout(timer);
    };
  }, [ready, window, viewTick, visible.hexagons, visible.heat, visible.findings, visible.instructions, visible.series, t]);

  // 3b. Sensing and fraud layers, computed on the server: fetched when switched on.
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || map === null) return;
    loadSensingLayers(
      map,
      { coverage: visible.coverage, blindspots: visible.blindspots, candidates: visible.candidates, fraudrisk: visible.fraudrisk },
      window?.end,
    );
  }, [ready, window?.end, visible.coverage, visible.blindspots, visible.candidates, visible.fraudrisk]);

  // 4. Visibility follows the switcher.
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || map === null) return;
    for (const layer of LAYERS) {
      for (const id of STYLE_LAYERS[layer]) {
        if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", visible[layer] ? "visible" : "none");
      }
    }
  }, [ready, visible]);

  const extent = useMemo(() => config?.time_extent ?? null, [config]);

  // 5. A scenario view: its zones, its layers and (when first chosen) its centre and zoom.
  const applyScenario = useCallback(
    (scenario: ScenarioDetail | null, first: boolean) => {
      const map = mapRef.current;
      if (map === null) return;
      (map.getSource("scenario") as GeoJSONSource | undefined)?.setData(
        scenario ? scenario.zones : { type: "FeatureCollection", features: [] },
      );
      setScenarioOn(scenario !== null && scenario.zones.features.length > 0);
      setScenario(scenario);
      if (scenario === null) {
        // Leaving a scenario puts back the layers chosen before it.
        if (beforeScenario.current) setVisible(beforeScenario.current);
        beforeScenario.current = null;
        return;
      }
      if (!first) return;
      setVisible((current) => {
        if (beforeScenario.current === null) beforeScenario.current = current;
        const next = { ...current };
        for (const layer of LAYERS) next[layer] = scenario.layers.includes(layer);
        return next;
      });
      if (scenario.centre) map.jumpTo({ center: scenario.centre, zoom: scenario.zoom });
    },
    [],
  );

  // 6. A scenario whose area has airspace protection (a control zone of the airspace register
  // overlaps its zones): draw those zones and, once per scenario, switch the drone layer on.
  useEffect(() => {
    const map = mapRef.current;
    if (!ready || map === null) return;
    const source = () => map.getSource("airzones") as GeoJSONSource | undefined;
    if (!canAir || scenario === null) {
      source()?.setData({ type: "FeatureCollection", features: [] });
      setAirZonesOn(false);
      autoDrones.current = null;
      return;
    }
    const controller = { cancelled: false };
    api.geojson("/api/airspace/zones").then(
      (zones) => {
        if (controller.cancelled) return;
        const inside = protectedZones(zones, scenario.zones);
        source()?.setData({ type: "FeatureCollection", features: inside });
        setAirZonesOn(inside.length > 0);
        if (inside.length > 0 && autoDrones.current !== scenario.id) {
          autoDrones.current = scenario.id;
          setVisible((current) => ({ ...current, drones: true }));
        }
      },
      (e: unknown) => console.error(e),
    );
    return () => {
      controller.cancelled = true;
    };
  }, [ready, canAir, scenario]);

  const selectedDrone =
    selection?.layer === DRONE_HEAD_LAYER
      ? {
          track: drones.tracks.find((track) => track.id === Number(selection.properties.id)),
          alerts: drones.alerts,
          onOpen: onOpenAirspace,
        }
      : undefined;

  return (
    <div className="map-page">
      <div ref={container} className="map" data-testid="map" data-ready={ready ? "1" : "0"} />
      <aside className="controls">
        <section data-testid="layer-switcher">
          <h3>{t("layers.title")}</h3>
          {layersOf(user).map((layer) => (
            <label key={layer} className="layer-toggle">
              <input
                type="checkbox"
                data-testid={`layer-${layer}`}
                checked={visible[layer]}
                onChange={(e) => setVisible({ ...visible, [layer]: e.target.checked })}
              />
              {t(`layer.${layer}` as Key)}
            </label>
          ))}
        </section>
        {canAir && visible.drones && (
          <section className="drones" data-testid="map-drones">
            <p className={drones.connected ? "drones-status live" : "drones-status offline"} data-live={drones.connected ? "1" : "0"}>
              {drones.connected ? t("airspace.live") : t("airspace.offline")} · {t("drones.shown")}:{" "}
              <strong data-testid="map-drone-count">{drones.tracks.length}</strong>
            </p>
            <ul className="drone-list" data-testid="map-drone-list">
              {drones.tracks.slice(0, 6).map((track) => (
                <li key={track.id}>
                  <button
                    type="button"
                    data-testid={`map-drone-${track.id}`}
                    onClick={() => setSelection({ layer: DRONE_HEAD_LAYER, properties: { id: track.id } })}
                  >
                    <span className={`swatch round level-${track.level}`} />
                    {trackName(track)} · {t(`level.${track.level}` as Key)}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        <TimeSlider extent={extent} timezone={config?.timezone ?? "Asia/Shanghai"} onChange={setWindow} />
        <p className="total" data-testid="incident-total">
          {t("status.incidents")}: {total === null ? "…" : total.toLocaleString()}
        </p>
        {notice && <p className="notice">{notice}</p>}
        <ScenarioPicker
          dataEnd={config?.time_extent.end ?? null}
          timezone={config?.timezone ?? "Asia/Shanghai"}
          onApply={applyScenario}
        />
        <DrawQuery map={ready ? mapRef.current : null} window={window} drawingRef={drawingRef} />
        <PointInstruction map={ready ? mapRef.current : null} drawingRef={drawingRef} user={user} onCreated={() => setViewTick((n) => n + 1)} />
        <Legend visible={visible} zones={scenarioOn} drones={canAir && visible.drones} airZones={airZonesOn} />
        <p className="scope-note">{user.scope === null ? t("user.scope.all") : user.scope.join(", ")}</p>
      </aside>
      {selection && (
        <SidePanel
          selection={selection}
          user={user}
          onClose={() => setSelection(null)}
          onChanged={() => setViewTick((n) => n + 1)}
          drone={selectedDrone}
        />
      )}
    </div>
  );
}
