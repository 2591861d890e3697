// The live airspace picture (低空实时态势), shared by the Airspace page and the main map's drone
// layer: the track and alert types, who may see them, GET /api/airspace/tracks, and the
// WebSocket /api/airspace/live with its reconnection and its messages applied to a track table.
import { request } from "./api";

export interface AirTrack {
  id: number;
  track_id: number;
  active: boolean;
  last_seen: string;
  label: string;
  confidence: number;
  authorisation: string;
  reasons: string[];
  zones: string[];
  permit_id: string | null;
  threat_score: number;
  level: "red" | "orange" | "yellow" | "blue";
  distance_m: number;
  lon: number;
  lat: number;
  alt_m: number;
  speed_mps: number;
  heading_deg: number;
  serial_masked: string | null;
  pilot_lon: number | null;
  pilot_lat: number | null;
}

export interface AirAlert {
  id: number;
  track_id: number;
  raised_at: string;
  kind: string;
  level: string;
  title: string;
  reasons: string[];
  lon: number;
  lat: number;
}

export type LiveMessage =
  | { type: "snapshot"; tracks: AirTrack[]; alerts: AirAlert[] }
  | { type: "tracks"; tracks: AirTrack[] }
  | { type: "alerts"; alerts: AirAlert[] };

/** Roles with `airspace.view` (src/haizhou/api/policy.py); the server refuses the others. */
export const AIRSPACE_ROLES: ReadonlySet<string> = new Set(["admin", "commander", "airspace_operator"]);

/** The most recent alerts kept in the browser. */
export const MAX_ALERTS = 200;

// Words of the picture the API gives in English (class, authorisation), shown in the UI language.
const WORDS: Record<string, [string, string]> = {
  drone: ["无人机", "drone"],
  bird: ["鸟类", "bird"],
  manned: ["有人机", "manned aircraft"],
  unknown: ["未知", "unknown"],
  authorised: ["已授权", "authorised"],
  unauthorised: ["未授权", "unauthorised"],
  violation: ["违规", "violation"],
};

/** A class or authorisation word of the API in zh-CN (``zh``) or English. */
export function airWord(word: string, zh: boolean): string {
  const pair = WORDS[word];
  return pair ? pair[zh ? 0 : 1] : word;
}

/** The name shown for a track: its masked serial, never the clear one; else its number. */
export function trackName(track: Pick<AirTrack, "serial_masked" | "track_id">): string {
  return track.serial_masked ?? `#${track.track_id}`;
}

/** Active tracks of the picture now (one page of up to 500, newest first). */
export async function fetchActiveTracks(): Promise<AirTrack[]> {
  const page = await request<{ items: AirTrack[] }>("GET", "/api/airspace/tracks?active=true&limit=500");
  return page.items;
}

/**
 * Apply one live message to ``tracks`` (track row id → track): a snapshot replaces the table,
 * an update sets changed tracks and drops ended ones. Returns whether the tracks changed.
 */
export function applyLive(tracks: Map<number, AirTrack>, message: LiveMessage): boolean {
  if (message.type === "alerts") return false;
  if (message.type === "snapshot") tracks.clear();
  for (const track of message.tracks) {
    if (track.active) tracks.set(track.id, track);
    else tracks.delete(track.id);
  }
  return true;
}

/** Alerts after a message, newest first, at most {@link MAX_ALERTS}. */
export function nextAlerts(old: AirAlert[], message: LiveMessage): AirAlert[] {
  if (message.type === "snapshot") return [...message.alerts].reverse();
  if (message.type === "alerts") return [...[...message.alerts].reverse(), ...old].slice(0, MAX_ALERTS);
  return old;
}

function liveUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/api/airspace/live`;
}

export interface LiveHandlers {
  onMessage: (message: LiveMessage) => void;
  onStatus?: (connected: boolean) => void;
}

/**
 * Open the live socket (the session cookie authenticates it) and reopen it 3 s after a drop,
 * except after 4401/4403 (no session, or a role without the right: retrying would not help).
 * Returns the function that closes it for good.
 */
export function connectLive(handlers: LiveHandlers, retryMs = 3000): () => void {
  let socket: WebSocket | null = null;
  let retry: number | undefined;
  let closed = false;
  const open = () => {
    socket = new WebSocket(liveUrl());
    socket.onopen = () => handlers.onStatus?.(true);
    socket.onclose = (event: CloseEvent) => {
      handlers.onStatus?.(false);
      if (!closed && event.code !== 4401 && event.code !== 4403) retry = window.setTimeout(open, retryMs);
    };
    socket.onmessage = (event: MessageEvent<string>) => {
      if (!closed) handlers.onMessage(JSON.parse(event.data) as LiveMessage);
    };
  };
  open();
  return () => {
    closed = true;
    window.clearTimeout(retry);
    socket?.close();
  };
}
