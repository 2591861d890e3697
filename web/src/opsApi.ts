// Client of the KPI, supervision and instruction-creation endpoints (考核指标、三级盯案、指令下发),
// typed after src/haizhou/api/schemas/{kpis,supervision,instructions}.py.
import { request } from "./api";
import type { InstructionItem, LevelName, Page } from "./workApi";

export type PeriodName = "day" | "week" | "month" | "quarter" | "year";
export const PERIODS: PeriodName[] = ["day", "week", "month", "quarter", "year"];

export interface Rate {
  numerator: number;
  denominator: number;
  rate: number | null;
}

export interface CategoryCount {
  category: string;
  current: number;
  previous: number;
  last_year: number;
  pop: number | null;
  yoy: number | null;
}

export interface RankingRow {
  jurisdiction_code: string;
  name: string;
  incidents: number;
  incidents_rank: number | null;
  clearance_rate: number | null;
  clearance_rank: number | null;
  on_time_sign_rate: number | null;
  on_time_sign_rank: number | null;
}

export interface ModelPrecision {
  model_id: string;
  verified_true: number;
  verified_false: number;
  unverified: number;
  precision: number | null;
  low: number | null;
  high: number | null;
}

export interface Kpis {
  period: PeriodName;
  start: string;
  end: string;
  tz: string;
  now: string;
  compare: "yoy" | "pop";
  incidents_by_category: CategoryCount[];
  cases: CategoryCount[];
  clearance_rate: { cohort: Rate; flow: Rate };
  solved: number;
  suspects: number;
  yoy: { incidents: number | null; cases: number | null };
  pop: { incidents: number | null; cases: number | null };
  rankings: RankingRow[];
  instructions: { on_time_sign_rate: Rate; on_time_feedback_rate: Rate; precision_by_model: ModelPrecision[] };
}

export type Tier = "lead" | "specialist" | "station";
export const TIERS: Tier[] = ["lead", "specialist", "station"];

export interface Milestone {
  id: number;
  title: string;
  tier: Tier;
  due_at: string;
  done_at: string | null;
  done_by: string | null;
  late: boolean;
}

export interface Note {
  id: number;
  at: string;
  author: string;
  tier: Tier;
  text: string;
}

export interface SupervisedCase {
  id: number;
  title: string;
  level: LevelName;
  lead: string;
  specialist_unit: string;
  station_code: string;
  deadline: string;
  status: "open" | "closed";
  opened_at: string;
  opened_by: string;
  closed_at: string | null;
  closing_note: string | null;
  case_source: string | null;
  case_source_id: string | null;
  late: boolean;
  late_milestones: number;
  milestones: Milestone[];
}

export interface SupervisedDetail extends SupervisedCase {
  notes: Note[];
}

export interface StatsRow {
  total: number;
  open: number;
  closed: number;
  late_open: number;
  closed_late: number;
  late_milestones: number;
}

export interface SupervisionStats {
  now: string;
  by_level: (StatsRow & { level: LevelName })[];
  by_unit: (StatsRow & { tier: Tier; unit: string })[];
}

export interface SuperviseBody {
  title: string;
  level: LevelName;
  lead: string;
  specialist_unit: string;
  station_code: string;
  deadline: string;
  milestones?: { title: string; due_at: string; tier: Tier }[];
}

export interface CreateInstructionBody {
  finding_id?: number;
  title?: string;
  level?: LevelName;
  lon?: number;
  lat?: number;
  text?: string;
}

export interface PendingItem extends InstructionItem {
  approval: string;
}

export type CreateResult = InstructionItem & { outcome: "issued" | "pending" | "updated" | "unchanged"; approval?: string };

function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "" && v !== false);
  const text = new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
  return text ? `?${text}` : "";
}

export const ops = {
  kpis: (params: { start?: string; period?: PeriodName; compare?: "yoy" | "pop" }) =>
    request<Kpis>("GET", `/api/kpis${query(params)}`),
  supervised: (params: { late?: boolean; status?: string; limit?: number; cursor?: string | null }) =>
    request<Page<SupervisedCase>>("GET", `/api/supervision${query({ ...params, limit: params.limit ?? 100 })}`),
  supervisedCase: (id: number) => request<SupervisedDetail>("GET", `/api/supervision/${id}`),
  supervisionStats: () => request<SupervisionStats>("GET", "/api/supervision/stats"),
  supervise: (body: SuperviseBody) => request<SupervisedDetail>("POST", "/api/supervision", body),
  addNote: (id: number, text: string, tier: Tier) => request<Note>("POST", `/api/supervision/${id}/notes`, { text, tier }),
  addMilestone: (id: number, title: string, due_at: string, tier: Tier) =>
    request<Milestone>("POST", `/api/supervision/${id}/milestones`, { title, due_at, tier }),
  milestoneDone: (id: number, milestoneId: number) =>
    request<Milestone>("POST", `/api/supervision/${id}/milestones/${milestoneId}/done`, {}),
  closeCase: (id: number, note: string) => request<SupervisedDetail>("POST", `/api/supervision/${id}/close`, { note }),
  createInstruction: (body: CreateInstructionBody) => request<CreateResult>("POST", "/api/instructions", body),
  pending: (cursor?: string | null) =>
    request<Page<PendingItem>>("GET", `/api/instructions${query({ pending: true, limit: 500, cursor })}`),
  approve: (id: number) => request<InstructionItem>("POST", `/api/instructions/${id}/approve`, {}),
  reject: (id: number, reason: string) => request<InstructionItem>("POST", `/api/instructions/${id}/reject`, { reason }),
};

/** Roles that may create, approve and supervise (api/policy.py: _MANAGERS). */
export const MANAGER_ROLES = new Set(["admin", "analyst", "commander"]);
/** Roles that read and write progress notes (api/policy.py: _POLICE_WORK). */
export const POLICE_ROLES = new Set(["admin", "analyst", "commander", "station_officer"]);
