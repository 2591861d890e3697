// Side panel (详情面板): what was clicked, with its evidence.
import type { ReactNode } from "react";
import { useI18n, type Key } from "../i18n";
import type { Selection } from "../pages/MapPage";
import type { User } from "../api";
import { InstructionCard } from "./InstructionCard";
import { FindingInstruction } from "./CreateInstruction";
import { type AirAlert, type AirTrack, airWord, trackName } from "../airspaceLive";
import { formatClock } from "../time";
import { DRONE_HEAD_LAYER } from "./DroneLayer";

const TITLES: Record<string, Key> = {
  "findings-circle": "panel.finding",
  "sensors-circle": "panel.sensor",
  "hexagons-fill": "panel.hexagon",
  "jurisdictions-fill": "panel.jurisdiction",
  "instructions-circle": "panel.instruction",
  "scenario-fill": "panel.zone",
  [DRONE_HEAD_LAYER]: "panel.drone",
};

/** What the side panel shows of a selected drone track: the live record and its alerts. */
export interface DroneSelection {
  /** undefined once the track has ended (left the picture). */
  track: AirTrack | undefined;
  alerts: AirAlert[];
  onOpen?: (trackId: number) => void;
}

function DroneDetails({ id, drone }: { id: number; drone: DroneSelection }) {
  const { t, lang } = useI18n();
  const zh = lang === "zh-CN";
  const track = drone.track;
  if (track === undefined) return <p data-testid="drone-ended">{t("panel.drone_ended")}</p>;
  const alerts = drone.alerts.filter((a) => a.track_id === id);
  const rows: [Key, string][] = [
    ["panel.level", `${t(`level.${track.level}` as Key)} (${track.threat_score.toFixed(2)})`],
    ["panel.classification", `${airWord(track.label, zh)} (${Math.round(track.confidence * 100)}%)`],
    ["airspace.authorisation", `${airWord(track.authorisation, zh)}${track.reasons.length ? ` — ${track.reasons.join("; ")}` : ""}`],
    ["panel.speed", `${track.speed_mps.toFixed(1)} m/s`],
    ["panel.altitude", `${Math.round(track.alt_m)} m`],
    ["panel.last_seen", formatClock(track.last_seen, lang)],
  ];
  return (
    <>
      <h2 data-testid="drone-name">{trackName(track)}</h2>
      <dl data-testid="drone-details" data-level={track.level}>
        {rows.map(([key, value]) => (
          <div key={key}>
            <dt>{t(key)}</dt>
            <dd>{value}</dd>
          </div>
        ))}
        <div>
          <dt>{t("airspace.alerts")}</dt>
          <dd>
            {alerts.length === 0 ? (
              "—"
            ) : (
              <ul className="drone-alerts" data-testid="drone-alerts">
                {alerts.slice(0, 5).map((a) => (
                  <li key={a.id}>
                    {formatClock(a.raised_at, lang)} {a.title}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
      </dl>
      {drone.onOpen && (
        <button type="button" data-testid="drone-open-airspace" onClick={() => drone.onOpen?.(id)}>
          {t("panel.open_airspace")}
        </button>
      )}
    </>
  );
}

function parse(value: unknown): unknown {
  // MapLibre hands nested properties back as JSON text.
  if (typeof value === "string" && (value.startsWith("{") || value.startsWith("["))) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** The panel's frame: what kind of thing is shown, a close button, then the content. */
function PanelShell({ kind, onClose, children }: { kind: string; onClose: () => void; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <aside className="side-panel" data-testid="side-panel">
      <header>
        <span className="kind">{kind}</span>
        <button type="button" onClick={onClose} data-testid="panel-close" aria-label={t("panel.close")}>
          ×
        </button>
      </header>
      {children}
    </aside>
  );
}

export function SidePanel({
  selection,
  onClose,
  user,
  onChanged,
  drone,
}: {
  selection: Selection;
  onClose: () => void;
  user?: User;
  onChanged?: () => void;
  drone?: DroneSelection;
}) {
  const { t } = useI18n();
  if (selection.layer === DRONE_HEAD_LAYER && drone !== undefined) {
    return (
      <PanelShell kind={t("panel.drone")} onClose={onClose}>
        <DroneDetails id={Number(selection.properties.id)} drone={drone} />
      </PanelShell>
    );
  }
  if (selection.layer === "instructions-circle" && user !== undefined) {
    // An instruction on the map: the same card, history and actions as in the inbox.
    return (
      <PanelShell kind={t("panel.instruction")} onClose={onClose}>
        <InstructionCard id={String(selection.properties.id)} user={user} onChanged={onChanged} />
      </PanelShell>
    );
  }
  const p = selection.properties;
  const rows: [Key, unknown][] = [];
  let heading = "";
  switch (selection.layer) {
    case "findings-circle":
      heading = String(p.title ?? "");
      rows.push(
        ["panel.level", t(`level.${String(p.level)}` as Key)],
        ["panel.kind", p.kind],
        ["panel.window", `${String(p.window_start).slice(0, 10)} – ${String(p.window_end).slice(0, 10)}`],
        ["panel.explanation", p.explanation],
        ["panel.action", p.suggested_action],
        ["panel.model", `${String(p.model_id)} ${String(p.model_version)}`],
        ["panel.evidence", parse(p.evidence)],
      );
      break;
    case "hexagons-fill":
      heading = String(p.h3);
      rows.push(["panel.count", p.count], ["panel.level", t(`level.${String(p.level)}` as Key)]);
      break;
    case "scenario-fill":
      heading = String(p.name ?? "");
      rows.push(
        ["panel.radius", `${String(p.radius_m)} m`],
        ["scenario.incidents", p.incidents_today],
        ["scenario.instructions", p.open_instructions],
        ["scenario.sensors", p.sensors],
        ["scenario.findings", p.findings],
      );
      break;
    case "sensors-circle":
      heading = String(p.id);
      rows.push(["panel.kind", p.kind], ["panel.status", p.status], ["panel.code", p.jurisdiction_code]);
      break;
    default:
      heading = String(p.name ?? p.code);
      rows.push(["panel.code", p.code], ["panel.station", p.station]);
  }
  return (
    <PanelShell kind={t(TITLES[selection.layer] ?? "panel.jurisdiction")} onClose={onClose}>
      <h2>{heading}</h2>
      <dl>
        {rows.map(([key, value]) => (
          <div key={key}>
            <dt>{t(key)}</dt>
            <dd>{typeof value === "object" && value !== null ? <pre>{JSON.stringify(value, null, 2)}</pre> : String(value ?? "—")}</dd>
          </div>
        ))}
      </dl>
      {selection.layer === "findings-circle" && <FindingInstruction findingId={Number(p.id)} user={user} />}
    </PanelShell>
  );
}
