// Live airspace (低空安保态势): zones and live tracks on the map over the WebSocket, the alerts
// panel, and the one-action countermeasure flow with its second-person confirmation.
import { useCallback, useEffect, useRef, useState } from "react";
import * as maplibregl from "maplibre-gl";
import "maplibre-gl/dist/maplibre-gl.css";
import type { GeoJSONSource, MapMouseEvent, StyleSpecification } from "maplibre-gl";
import { ApiError, api, request, type User } from "../api";
import { useI18n } from "../i18n";
import { formatClock } from "../time";
import { AIRZONE_COLOURS } from "../components/DroneLayer";
import { LEVEL_COLOURS, levelColour, matchColour } from "../components/mapColours";
import { type AirAlert, type AirTrack, applyLive, airWord, connectLive, nextAlerts, trackName } from "../airspaceLive";

interface Countermeasure {
  id: number;
  track_id: number;
  effector: string;
  status: "pending_confirmation" | "refused" | "executed" | "failed";
  requested_by: string;
  threat_level: string | null;
  refusals: { code: string; message: string }[];
  confirmed_by: string | null;
  outcome: { success: boolean; effect: string; effect_after_s: number; detail: string } | null;
}

const EFFECTORS = ["jammer", "takeover", "net"] as const;
const COUNTER_ROLES = new Set(["airspace_operator", "commander"]);
const LIST_STYLE = { listStyle: "none", padding: 0, margin: "4px 0" } as const;
const ROW_STYLE = { width: "100%", textAlign: "left", display: "flex", alignItems: "center", gap: 6 } as const;
const SWATCH_STYLE = { display: "inline-block", width: 10, height: 10, borderRadius: 5, flex: "none" } as const;

// The same level and zone colours as the main map's drone layer.
const LEVEL_HEX: Record<string, string> = LEVEL_COLOURS;
const LEVEL_COLOUR = levelColour();
const ZONE_COLOUR = matchColour("kind", AIRZONE_COLOURS, "#7f8c8d");

function style(tileUrl: string | null): StyleSpecification {
  const s: StyleSpecification = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }],
  };
  if (tileUrl) {
    s.sources.tiles = { type: "raster", tiles: [tileUrl], tileSize: 256 };
    s.layers.push({ id: "tiles", type: "raster", source: "tiles" });
  }
  return s;
}

function tracksGeoJSON(tracks: Map<number, AirTrack>): GeoJSON.FeatureCollection {
  return {
    type: "FeatureCollection",
    features: [...tracks.values()].map((t) => ({
      type: "Feature",
      id: t.id,
      geometry: { type: "Point", coordinates: [t.lon, t.lat] },
      properties: { id: t.id, level: t.level, label: trackName(t) },
    })),
  };
}

/** The Airspace page; ``focus``: the track row to select at once (opened from the main map). */
export function Airspace({ user, focus = null }: { user: User; focus?: number | null }) {
  const { t, lang } = useI18n();
  const container = useRef<HTMLDivElement>(null);
  const mapRef = useRef<maplibregl.Map | null>(null);
  const tracksRef = useRef(new Map<number, AirTrack>());
  const [tracks, setTracks] = useState<AirTrack[]>([]);
  const [alerts, setAlerts] = useState<AirAlert[]>([]);
  const [selected, setSelected] = useState<number | null>(focus);
  const [effector, setEffector] = useState<string>("net");
  const [pending, setPending] = useState<Countermeasure[]>([]);
  const [last, setLast] = useState<Countermeasure | null>(null);
  const [connected, setConnected] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const canCounter = COUNTER_ROLES.has(user.role);

  const refreshPending = useCallback(() => {
    request<{ items: Countermeasure[] }>("GET", "/api/airspace/countermeasures?status=pending_confirmation")
      .then((page) => setPending(page.items))
      .catch((e: unknown) => setNotice(String(e)));
  }, []);

  const redraw = useCallback(() => {
    const list = [...tracksRef.current.values()].sort((a, b) => b.threat_score - a.threat_score);
    setTracks(list);
    const source = mapRef.current?.getSource("air-tracks") as GeoJSONSource | undefined;
    source?.setData(tracksGeoJSON(tracksRef.current));
  }, []);

  // The map with the zones.
  useEffect(() => {
    if (container.current === null) return;
    let cancelled = false;
    api.config().then((config) => {
      if (cancelled || container.current === null) return;
      const map = new maplibregl.Map({
        container: container.current,
        style: style(config.tile_url),
        center: [119.228, 34.58],
        zoom: 12.5,
        attributionControl: false,
        canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots in end-to-end tests
      });
      mapRef.current = map;
      map.on("load", async () => {
        const zones = await api.geojson("/api/airspace/zones");
        map.addSource("air-zones", { type: "geojson", data: zones });
        map.addLayer({ id: "air-zones-fill", type: "fill", source: "air-zones", paint: { "fill-color": ZONE_COLOUR as never, "fill-opacity": 0.15 } });
        map.addLayer({ id: "air-zones-line", type: "line", source: "air-zones", paint: { "line-color": ZONE_COLOUR as never, "line-width": 2 } });
        map.addSource("air-tracks", { type: "geojson", data: tracksGeoJSON(tracksRef.current) });
        map.addLayer({ id: "air-tracks-circle", type: "circle", source: "air-tracks", paint: { "circle-radius": 7, "circle-color": LEVEL_COLOUR as never, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
        map.addLayer({ id: "air-tracks-label", type: "symbol", source: "air-tracks", layout: { "text-field": ["get", "label"], "text-size": 11, "text-offset": [0, 1.3] } });
        map.on("click", "air-tracks-circle", (e: MapMouseEvent & { features?: maplibregl.MapGeoJSONFeature[] }) => {
          const id = e.features?.[0]?.properties?.id;
          if (typeof id === "number") setSelected(id);
        });
      });
    }, (e: unknown) => setNotice(String(e)));
    return () => {
      cancelled = true;
      mapRef.current?.remove();
      mapRef.current = null;
    };
  }, []);

  // Live tracks and alerts over the WebSocket, reconnecting after a drop.
  useEffect(() => {
    const close = connectLive({
      onStatus: setConnected,
      onMessage: (message) => {
        if (applyLive(tracksRef.current, message)) redraw();
        setAlerts((old) => nextAlerts(old, message));
      },
    });
    refreshPending();
    return close;
  }, [redraw, refreshPending]);

  const counter = async () => {
    if (selected === null) return;
    setNotice(null);
    try {
      const record = await request<Countermeasure>("POST", "/api/airspace/countermeasures", { track_id: selected, effector });
      setLast(record);
      refreshPending();
    } catch (e: unknown) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const confirm = async (id: number) => {
    setNotice(null);
    try {
      setLast(await request<Countermeasure>("POST", `/api/airspace/countermeasures/${id}/confirm`));
      refreshPending();
    } catch (e: unknown) {
      setNotice(e instanceof ApiError ? e.message : String(e));
    }
  };

  const track = selected === null ? undefined : tracksRef.current.get(selected);
  const zh = lang === "zh-CN";
  const word = (w: string) => airWord(w, zh);
  return (
    <div className="airspace" data-testid="airspace-page" style={{ display: "flex", height: "100%" }}>
      <div ref={container} className="map" data-testid="airspace-map" style={{ flex: 1, minHeight: 400 }} />
      <aside className="side-panel" style={{ width: 360, overflowY: "auto", padding: 8 }}>
        <div data-testid="airspace-status" data-live={connected ? "1" : "0"} className={connected ? "live" : "offline"}>
          {connected ? t("airspace.live") : t("airspace.offline")} · {tracks.length} {t("airspace.tracks")}
        </div>
        {notice && <div className="notice" role="alert" data-testid="airspace-notice">{notice}</div>}
        <ul data-testid="airspace-tracks" className="air-list" style={LIST_STYLE}>
          {tracks.slice(0, 8).map((tr) => (
            <li key={tr.id} className={`level-${tr.level}${tr.id === selected ? " selected" : ""}`}>
              <button type="button" onClick={() => setSelected(tr.id)} style={{ ...ROW_STYLE, fontWeight: tr.id === selected ? 600 : 400 }}>
                <span className="swatch" style={{ ...SWATCH_STYLE, background: LEVEL_HEX[tr.level] ?? LEVEL_HEX.blue }} />
                {trackName(tr)} · {word(tr.label)} · {word(tr.authorisation)} · {t(`level.${tr.level}`)} · {Math.round(tr.distance_m)} m
              </button>
            </li>
          ))}
        </ul>
        <h3>{t("airspace.alerts")}</h3>
        <ul data-testid="airspace-alerts" style={LIST_STYLE}>
          {alerts.map((a) => (
            <li key={a.id} className={`level-${a.level}`}>
              <button type="button" onClick={() => setSelected(a.track_id)} style={ROW_STYLE}>
                <span style={{ ...SWATCH_STYLE, background: LEVEL_HEX[a.level] ?? LEVEL_HEX.blue }} />
                {formatClock(a.raised_at, lang)} {a.title}
              </button>
            </li>
          ))}
        </ul>
        <h3>{t("airspace.track")}</h3>
        {track === undefined ? (
          <p>{t("airspace.pick")}</p>
        ) : (
          <div data-testid="airspace-track">
            <div>
              #{track.id} {track.serial_masked ?? ""} · {word(track.label)} ({Math.round(track.confidence * 100)}%)
            </div>
            <div>
              {t("airspace.authorisation")}: {word(track.authorisation)} · {t(`level.${track.level}`)} ({track.threat_score.toFixed(2)})
            </div>
            <div>
              {Math.round(track.distance_m)} m · {Math.round(track.alt_m)} m · {track.speed_mps.toFixed(1)} m/s
            </div>
            <div>{track.reasons.join("; ")}</div>
            {track.pilot_lon !== null && (
              <div>
                {t("airspace.pilot")}: {track.pilot_lon.toFixed(5)}, {track.pilot_lat?.toFixed(5)}
              </div>
            )}
            {canCounter && (
              <div className="counter">
                <select value={effector} onChange={(e) => setEffector(e.target.value)} data-testid="airspace-effector">
                  {EFFECTORS.map((k) => (
                    <option key={k} value={k}>
                      {t(`airspace.effector.${k}`)}
                    </option>
                  ))}
                </select>
                <button type="button" data-testid="airspace-counter" onClick={counter}>
                  {t("airspace.counter")}
                </button>
              </div>
            )}
          </div>
        )}
        {last && (
          <div data-testid="airspace-decision" className={`decision ${last.status}`}>
            <strong>
              #{last.id} {t(`airspace.effector.${last.effector as (typeof EFFECTORS)[number]}`)} → #{last.track_id}: {t(`airspace.status.${last.status}`)}
            </strong>
            {last.confirmed_by && <div>{last.requested_by} → {last.confirmed_by}</div>}
            {last.refusals.map((r) => (
              <div key={r.code}>{r.message}</div>
            ))}
            {last.outcome && <div>{last.outcome.effect} · {last.outcome.detail}</div>}
          </div>
        )}
        <h3>{t("airspace.pending")}</h3>
        <ul data-testid="airspace-pending" style={LIST_STYLE}>
          {pending.map((p) => (
            <li key={p.id}>
              #{p.id} {t(`airspace.effector.${p.effector as (typeof EFFECTORS)[number]}`)} → #{p.track_id} ({p.requested_by})
              {canCounter && p.requested_by !== user.username && (
                <button type="button" onClick={() => confirm(p.id)} data-testid={`airspace-confirm-${p.id}`}>
                  {t("airspace.confirm")}
                </button>
              )}
            </li>
          ))}
        </ul>
      </aside>
    </div>
  );
}
