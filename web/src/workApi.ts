// Client of the work endpoints (指令、模型、报告、场景、框选查询), typed after docs/api.md.
import { request } from "./api";

export type InstructionStatus = "issued" | "signed" | "in_progress" | "fed_back" | "closed" | "returned";
export const INSTRUCTION_STATUSES: InstructionStatus[] = [
  "issued",
  "signed",
  "in_progress",
  "fed_back",
  "returned",
  "closed",
];
export type LevelName = "red" | "orange" | "yellow" | "blue";

export interface InstructionItem {
  id: number;
  finding_id: number | null;
  model_id: string | null;
  kind: string;
  title: string;
  level: LevelName;
  status: InstructionStatus;
  jurisdiction_code: string | null;
  assisting_codes: string[];
  assignee: string | null;
  deadline: string | null;
  overdue: boolean;
  overdue_step?: string | null;
  escalated: boolean;
  created_at: string;
  updated_at: string | null;
  lon: number | null;
  lat: number | null;
}

export interface HistoryItem {
  at: string;
  by: string;
  role?: string | null;
  action?: string;
  from_status: string | null;
  to_status: string;
  note: string | null;
}

export interface InstructionDetail extends InstructionItem {
  explanation: string | null;
  suggested_action?: string | null;
  evidence: Record<string, unknown>;
  feedback: { verified: boolean | null; text: string | null; fed_back_at?: string | null } | null;
  review_note?: string | null;
  history: HistoryItem[];
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ModelRun {
  id?: number | string;
  run_id?: number | null;
  at?: string;
  started_at?: string;
  status: string;
  n_findings?: number | null;
  duration_s?: number | null;
  error?: string | null;
}

export interface ModelItem {
  id: string;
  version: string;
  title_zh: string;
  title_en: string;
  schedule: string | null;
  finding_kinds: string[];
  last_run: ModelRun | null;
}

export interface ModelDetail extends ModelItem {
  card: unknown;
  params_schema: { properties?: Record<string, { type?: string; default?: unknown; description?: string }> } | null;
  runs: ModelRun[];
}

export type ReportKind = "daily" | "weekly" | "monthly";
export interface ReportItem {
  id: number | string;
  kind: ReportKind;
  date: string;
  lang: "zh" | "en";
  format: "html" | "pdf";
  created_at: string;
  size: number;
  unit?: string | null;
}

export interface ScenarioSummary {
  id: string;
  title_zh: string;
  title_en: string;
  description_zh: string;
  description_en: string;
  place_kinds: string[];
  layers: string[];
  zoom: number;
}

export interface ScenarioCounts {
  incidents_today: number;
  open_instructions: number;
  sensors: number;
  findings: number;
}

export interface ScenarioDetail extends ScenarioSummary {
  centre: [number, number] | null;
  day: string;
  as_of: string;
  zones: GeoJSON.FeatureCollection;
  counts: ScenarioCounts;
}

export interface PolygonQueryResult {
  count: number;
  by_category: Record<string, number>;
  by_hour: number[];
  findings: { id: number | string; level: LevelName; title: string }[];
  instructions: Record<string, number>;
  sensors: number;
}

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  const text = new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
  return text ? `?${text}` : "";
}

export const work = {
  instructions: (params: { status?: string; overdue?: boolean; mine?: boolean; limit?: number; cursor?: string | null }) =>
    request<Page<InstructionItem>>(
      "GET",
      `/api/instructions${query({
        status: params.status,
        overdue: params.overdue ? "true" : undefined,
        mine: params.mine ? "true" : undefined,
        limit: params.limit ?? 50,
        cursor: params.cursor,
      })}`,
    ),
  instruction: (id: number | string) => request<InstructionDetail>("GET", `/api/instructions/${id}`),
  sign: (id: number | string) => request<InstructionItem>("POST", `/api/instructions/${id}/sign`, {}),
  start: (id: number | string) => request<InstructionItem>("POST", `/api/instructions/${id}/start`, {}),
  feedback: (id: number | string, verified: boolean | null, text: string) =>
    request<InstructionItem>("POST", `/api/instructions/${id}/feedback`, { verified, text }),
  review: (id: number | string, accept: boolean, note: string) =>
    request<InstructionItem>("POST", `/api/instructions/${id}/review`, { accept, note: note || null }),
  models: () => request<ModelItem[] | Page<ModelItem>>("GET", "/api/models"),
  model: (id: string) => request<ModelDetail>("GET", `/api/models/${encodeURIComponent(id)}`),
  runModel: (id: string, body: { params?: Record<string, unknown>; start?: string; end?: string }) =>
    request<ModelRun>("POST", `/api/models/${encodeURIComponent(id)}/run`, body),
  reports: () => request<ReportItem[] | Page<ReportItem>>("GET", "/api/reports"),
  createReport: (body: { kind: ReportKind; date: string; lang: "zh" | "en"; format: "html" | "pdf" }) =>
    request<ReportItem>("POST", "/api/reports", body),
  scenarios: () => request<ScenarioSummary[]>("GET", "/api/scenarios"),
  scenario: (id: string, day?: string) => request<ScenarioDetail>("GET", `/api/scenarios/${id}${query({ day })}`),
  polygonQuery: (polygon: GeoJSON.Polygon, start: string, end: string) =>
    request<PolygonQueryResult>("POST", "/api/map/query", { polygon, start, end }),
};

/** Lists come as a plain array or as a page `{items, next_cursor}`; both read the same. */
export function itemsOf<T>(body: T[] | Page<T>): T[] {
  return Array.isArray(body) ? body : body.items;
}
