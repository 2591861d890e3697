// Side panel (详情面板): what was clicked, with its evidence.
import { useI18n, type Key } from "../i18n";
import type { Selection } from "../pages/MapPage";
import type { User } from "../api";
import { InstructionCard } from "./InstructionCard";
import { FindingInstruction } from "./CreateInstruction";

const TITLES: Record<string, Key> = {
  "findings-circle": "panel.finding",
  "sensors-circle": "panel.sensor",
  "hexagons-fill": "panel.hexagon",
  "jurisdictions-fill": "panel.jurisdiction",
  "instructions-circle": "panel.instruction",
  "scenario-fill": "panel.zone",
};

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

export function SidePanel({
  selection,
  onClose,
  user,
  onChanged,
}: {
  selection: Selection;
  onClose: () => void;
  user?: User;
  onChanged?: () => void;
}) {
  const { t } = useI18n();
  if (selection.layer === "instructions-circle" && user !== undefined) {
    // An instruction on the map: the same card, history and actions as in the inbox.
    return (
      <aside className="side-panel" data-testid="side-panel">
        <header>
          <span className="kind">{t("panel.instruction")}</span>
          <button type="button" onClick={onClose} data-testid="panel-close" aria-label={t("panel.close")}>
            ×
          </button>
        </header>
        <InstructionCard id={String(selection.properties.id)} user={user} onChanged={onChanged} />
      </aside>
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
    <aside className="side-panel" data-testid="side-panel">
      <header>
        <span className="kind">{t(TITLES[selection.layer] ?? "panel.jurisdiction")}</span>
        <button type="button" onClick={onClose} data-testid="panel-close" aria-label={t("panel.close")}>
          ×
        </button>
      </header>
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
    </aside>
  );
}
