// Drone tracks on the main map (无人机航迹图层): the current picture from GET
// /api/airspace/tracks, then live over the WebSocket (../airspaceLive). Each track is drawn as
// its recent path (a line) and its head (a point) in its threat level's colour, labelled with
// the masked serial and class (never the clear serial). Tracks fade as they age behind the
// newest report of the picture and are dropped when the runner ends them or after STALE_S.
// The airspace control zones of a scenario view are drawn with them.
import { useEffect, useRef, useState } from "react";
import * as maplibregl from "maplibre-gl";
import type { GeoJSONSource } from "maplibre-gl";
import {
  type AirAlert,
  type AirTrack,
  type LiveMessage,
  airWord,
  applyLive,
  connectLive,
  fetchActiveTracks,
  nextAlerts,
  trackName,
} from "../airspaceLive";
import { levelColour, matchColour } from "./mapColours";

export const DRONE_STYLE_LAYERS = ["airzones-fill", "airzones-line", "drones-path", "drones-head"];
/** The head layer: what a click on the map selects. */
export const DRONE_HEAD_LAYER = "drones-head";

/** A track not reported for this long behind the newest one is dropped (as the server's picture). */
export const STALE_S = 30;
const TRAIL_POINTS = 40;
const MAX_LABELS = 50;
const EMPTY: GeoJSON.FeatureCollection = { type: "FeatureCollection", features: [] };

const LEVEL = levelColour();
/** Zone colours by kind, as on the Airspace page. */
export const AIRZONE_COLOURS: Record<string, string> = {
  no_fly: "#d7263d",
  event: "#f46036",
  school: "#8e44ad",
  airport_approach: "#2c3e50",
  hospital: "#27ae60",
};
const AIRZONE = matchColour("kind", AIRZONE_COLOURS, "#7f8c8d");

/** Add the sources and (hidden) style layers; call once the style has loaded. */
export function addDroneLayers(map: maplibregl.Map): void {
  map.addSource("airzones", { type: "geojson", data: EMPTY });
  map.addSource("drones", { type: "geojson", data: EMPTY });
  const hidden = { visibility: "none" as const };
  map.addLayer({ id: "airzones-fill", type: "fill", source: "airzones", layout: hidden,
    paint: { "fill-color": AIRZONE, "fill-opacity": 0.12 } });
  map.addLayer({ id: "airzones-line", type: "line", source: "airzones", layout: hidden,
    paint: { "line-color": AIRZONE, "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "drones-path", type: "line", source: "drones", filter: ["==", ["geometry-type"], "LineString"],
    layout: { ...hidden, "line-cap": "round", "line-join": "round" },
    paint: { "line-color": LEVEL, "line-width": 3, "line-opacity": ["*", 0.7, ["get", "fade"]] } });
  map.addLayer({ id: DRONE_HEAD_LAYER, type: "circle", source: "drones", filter: ["==", ["geometry-type"], "Point"],
    layout: hidden,
    paint: {
      "circle-radius": 7,
      "circle-color": LEVEL,
      "circle-opacity": ["get", "fade"],
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 2,
      "circle-stroke-opacity": ["get", "fade"],
    } });
}

/** Whether two [minLon, minLat, maxLon, maxLat] boxes overlap. */
function overlaps(a: number[], b: number[]): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

function bboxOf(geometry: GeoJSON.Geometry): number[] | null {
  const points: number[][] = [];
  const walk = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === "number") points.push(c as number[]);
    else if (Array.isArray(c)) c.forEach(walk);
  };
  if ("coordinates" in geometry) walk(geometry.coordinates);
  if (points.length === 0) return null;
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

/**
 * The airspace control zones that overlap a scenario's zones (by bounding box): a scenario
 * whose area has one is under airspace protection.
 */
export function protectedZones(
  airZones: GeoJSON.FeatureCollection,
  scenarioZones: GeoJSON.FeatureCollection,
): GeoJSON.Feature[] {
  const areas = scenarioZones.features.map((f) => (f.geometry ? bboxOf(f.geometry) : null)).filter((b) => b !== null);
  return airZones.features.filter((zone) => {
    const box = zone.geometry ? bboxOf(zone.geometry) : null;
    return box !== null && areas.some((area) => overlaps(box, area));
  });
}

/** The track table with each track's recent path. */
export class DronePicture {
  readonly tracks = new Map<number, AirTrack>();
  private readonly trails = new Map<number, [number, number][]>();

  /** Apply a live message (the answer of GET /api/airspace/tracks comes as a `tracks` one). */
  apply(message: LiveMessage): boolean {
    if (!applyLive(this.tracks, message)) return false;
    this.dropStale();
    for (const id of [...this.trails.keys()]) if (!this.tracks.has(id)) this.trails.delete(id);
    for (const track of this.tracks.values()) {
      const trail = this.trails.get(track.id) ?? [];
      const last = trail[trail.length - 1];
      if (last === undefined || last[0] !== track.lon || last[1] !== track.lat) trail.push([track.lon, track.lat]);
      this.trails.set(track.id, trail.slice(-TRAIL_POINTS));
    }
    return true;
  }

  /** Seconds of the newest report of the picture (its own clock: replays work too). */
  private newest(): number {
    let newest = -Infinity;
    for (const t of this.tracks.values()) newest = Math.max(newest, Date.parse(t.last_seen));
    return newest;
  }

  private dropStale(): void {
    const newest = this.newest();
    for (const [id, t] of this.tracks) {
      if (newest - Date.parse(t.last_seen) > STALE_S * 1000) this.tracks.delete(id);
    }
  }

  /** 1 for a fresh track down to 0.25 for one about to be dropped. */
  fade(track: AirTrack): number {
    const age = (this.newest() - Date.parse(track.last_seen)) / 1000;
    return Math.max(0.25, 1 - (0.75 * Math.max(0, age)) / STALE_S);
  }

  /** Tracks by threat, highest first. */
  list(): AirTrack[] {
    return [...this.tracks.values()].sort((a, b) => b.threat_score - a.threat_score);
  }

  /** Paths and heads as GeoJSON (heads carry only what the map needs: no serial). */
  geojson(): GeoJSON.FeatureCollection {
    const features: GeoJSON.Feature[] = [];
    for (const track of this.tracks.values()) {
      const props = { id: track.id, level: track.level, fade: this.fade(track) };
      const trail = this.trails.get(track.id) ?? [];
      if (trail.length >= 2) {
        features.push({ type: "Feature", geometry: { type: "LineString", coordinates: trail }, properties: props });
      }
      features.push({ type: "Feature", id: track.id, geometry: { type: "Point", coordinates: [track.lon, track.lat] }, properties: props });
    }
    return { type: "FeatureCollection", features };
  }

  clear(): void {
    this.tracks.clear();
    this.trails.clear();
  }
}

/** The HTML labels under the heads (the offline style has no glyphs for map text). */
function syncLabels(map: maplibregl.Map, labels: Map<number, maplibregl.Marker>, tracks: AirTrack[], zh: boolean): void {
  const shown = tracks.slice(0, MAX_LABELS);
  const keep = new Set(shown.map((t) => t.id));
  for (const [id, marker] of labels) {
    if (!keep.has(id)) {
      marker.remove();
      labels.delete(id);
    }
  }
  for (const track of shown) {
    let marker = labels.get(track.id);
    if (marker === undefined) {
      const element = document.createElement("div");
      element.className = "drone-label";
      element.dataset.testid = "drone-label";
      marker = new maplibregl.Marker({ element, anchor: "top", offset: [0, 9] }).setLngLat([track.lon, track.lat]).addTo(map);
      labels.set(track.id, marker);
    }
    marker.setLngLat([track.lon, track.lat]);
    marker.getElement().textContent = `${trackName(track)} · ${airWord(track.label, zh)}`;
  }
}

export interface DroneState {
  tracks: AirTrack[];
  alerts: AirAlert[];
  connected: boolean;
}

/**
 * The drone layer's data while ``enabled``: the current tracks, then the live socket; switched
 * off, the socket closes and the layer empties. Only call with ``enabled`` for allowed roles.
 */
export function useDroneTracks(map: maplibregl.Map | null, enabled: boolean, zh: boolean): DroneState {
  const [state, setState] = useState<DroneState>({ tracks: [], alerts: [], connected: false });
  const zhRef = useRef(zh);
  zhRef.current = zh;

  useEffect(() => {
    if (map === null || !enabled) return;
    const picture = new DronePicture();
    const labels = new Map<number, maplibregl.Marker>();
    let alerts: AirAlert[] = [];
    let connected = false;
    let live = false; // once the socket's snapshot came, the GET answer is out of date
    const redraw = () => {
      const tracks = picture.list();
      (map.getSource("drones") as GeoJSONSource | undefined)?.setData(picture.geojson());
      syncLabels(map, labels, tracks, zhRef.current);
      setState({ tracks, alerts, connected });
    };
    const onMessage = (message: LiveMessage) => {
      if (message.type === "snapshot") live = true;
      alerts = nextAlerts(alerts, message);
      picture.apply(message);
      redraw();
    };
    fetchActiveTracks().then(
      (tracks) => {
        if (!live) onMessage({ type: "tracks", tracks });
      },
      (e: unknown) => console.error(e),
    );
    const close = connectLive({
      onMessage,
      onStatus: (on) => {
        connected = on;
        setState((old) => ({ ...old, connected: on }));
      },
    });
    return () => {
      close();
      for (const marker of labels.values()) marker.remove();
      (map.getSource("drones") as GeoJSONSource | undefined)?.setData(EMPTY);
      setState({ tracks: [], alerts: [], connected: false });
    };
  }, [map, enabled]);

  return state;
}
