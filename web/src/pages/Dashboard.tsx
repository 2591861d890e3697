// Dashboard (综合看板) on GET /api/kpis: incidents and cases by category for a period with
// 同比 (yoy) and 环比 (pop), 破案率, cases solved, suspects caught, per-station rankings and the
// instruction metrics; ECharts trends of the period against its comparison period.
// Definitions and formulas: docs/kpis.md. The period is cut in the bureau's zone.
import { useEffect, useRef, useState } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { api, ApiError, type Summary } from "../api";
import { useI18n, type Key } from "../i18n";
import { ops, PERIODS, type CategoryCount, type Kpis, type PeriodName, type Rate } from "../opsApi";
import { formatTime, zonedDate } from "../time";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

function useChart(option: echarts.EChartsCoreOption | null) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (ref.current === null || option === null) return;
    const chart = echarts.init(ref.current);
    chart.setOption(option);
    const resize = () => chart.resize();
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      chart.dispose();
    };
  }, [option]);
  return ref;
}

/** "12.5%" of a fraction, "—" without a value. */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(digits)}%`;
}

function signed(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return `${value > 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
}

function Change({ value, label }: { value: number | null | undefined; label: string }) {
  const cls = value === null || value === undefined || value === 0 ? "flat" : value > 0 ? "up" : "down";
  return (
    <span className={`change ${cls}`}>
      {label} {signed(value)}
    </span>
  );
}

function total(rows: CategoryCount[]): CategoryCount | undefined {
  return rows.find((r) => r.category === "all");
}

function RateCard({ id, label, rate }: { id: string; label: string; rate: Rate }) {
  return (
    <div className="kpi-card" data-testid={`kpi-${id}`}>
      <span>{label}</span>
      <strong data-testid={`kpi-${id}-value`}>{percent(rate.rate)}</strong>
      <small>
        {rate.numerator} / {rate.denominator}
      </small>
    </div>
  );
}

/** The comparison window of [start, end): a year earlier (同比) or the period before (环比). */
function baseWindow(k: Kpis): [string, string] {
  const start = new Date(k.start);
  const end = new Date(k.end);
  if (k.compare === "yoy") {
    const s = new Date(start);
    const e = new Date(end);
    s.setUTCFullYear(s.getUTCFullYear() - 1);
    e.setUTCFullYear(e.getUTCFullYear() - 1);
    return [s.toISOString(), e.toISOString()];
  }
  return [new Date(start.getTime() - (end.getTime() - start.getTime())).toISOString(), start.toISOString()];
}

/** The zone's calendar days of [start, end). */
function periodDays(start: string, end: string): string[] {
  const days: string[] = [];
  const stop = new Date(end).getTime();
  for (let at = new Date(start).getTime() + 3_600_000; at < stop && days.length < 400; at += 86_400_000) {
    const day = zonedDate(new Date(at).toISOString());
    if (days[days.length - 1] !== day) days.push(day);
  }
  return days;
}

/** Counts of a summary on the given days (0 for a day without incidents). */
function byDay(summary: Summary, days: string[]): number[] {
  const counts = new Map(summary.daily.map(([d, n]) => [d.slice(0, 10), n]));
  return days.map((d) => counts.get(d) ?? 0);
}

export function Dashboard() {
  const { t, lang } = useI18n();
  const [day, setDay] = useState<string | null>(null);
  const [dataEnd, setDataEnd] = useState<string | null>(null);
  const [period, setPeriod] = useState<PeriodName>("month");
  const [compare, setCompare] = useState<"yoy" | "pop">("yoy");
  const [kpis, setKpis] = useState<Kpis | null>(null);
  const [trend, setTrend] = useState<{ current: Summary; base: Summary } | null>(null);
  const [error, setError] = useState<string | null>(null);

  // The default period is the one holding the newest data, not today.
  useEffect(() => {
    api.config().then(
      (config) => {
        setDataEnd(config.time_extent.end ? zonedDate(config.time_extent.end) : null);
        setDay(zonedDate(config.time_extent.end));
      },
      () => setDay(zonedDate()),
    );
  }, []);

  useEffect(() => {
    if (day === null) return;
    let live = true;
    setError(null);
    ops
      .kpis({ start: `${day}T00:00:00`, period, compare })
      .then(async (k) => {
        if (!live) return;
        setKpis(k);
        const [bs, be] = baseWindow(k);
        const [current, base] = await Promise.all([
          api.summary({ start: k.start, end: k.end }),
          api.summary({ start: bs, end: be }),
        ]);
        if (live) setTrend({ current, base });
      })
      .catch((e) => live && setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)));
    return () => {
      live = false;
    };
  }, [day, period, compare]);

  const compareLabel = t(compare === "yoy" ? "dashboard.yoy" : "dashboard.pop");
  // Every day of the period on the axis; the comparison period aligned day by day; the current
  // line stops at the newest data (days after it are not yet recorded, not quiet).
  const axis = kpis && trend ? periodDays(kpis.start, kpis.end) : [];
  const baseDays = kpis && trend ? periodDays(...baseWindow(kpis)) : [];
  const trendChart = useChart(
    trend && {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t("dashboard.current"), compareLabel] },
      grid: { left: 48, right: 16, top: 28, bottom: 32 },
      xAxis: { type: "category", data: axis },
      yAxis: { type: "value" },
      series: [
        { name: t("dashboard.current"), type: "line", data: byDay(trend.current, axis).map((n, k) => (dataEnd !== null && axis[k] > dataEnd ? null : n)), symbolSize: 5 },
        {
          name: compareLabel,
          type: "line",
          data: byDay(trend.base, baseDays).slice(0, axis.length),
          showSymbol: axis.length < 2,
          lineStyle: { type: "dashed" },
        },
      ],
    },
  );
  const categories = kpis ? kpis.incidents_by_category.filter((r) => r.category !== "all") : [];
  const categoryChart = useChart(
    kpis && {
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [t("dashboard.current"), t("dashboard.previous"), t("dashboard.last_year")] },
      grid: { left: 48, right: 16, top: 28, bottom: 56 },
      xAxis: { type: "category", data: categories.map((r) => r.category), axisLabel: { rotate: 30 } },
      yAxis: { type: "value" },
      series: [
        { name: t("dashboard.current"), type: "bar", data: categories.map((r) => r.current), itemStyle: { color: "#1f3a5f" } },
        { name: t("dashboard.previous"), type: "bar", data: categories.map((r) => r.previous), itemStyle: { color: "#7fa7d4" } },
        { name: t("dashboard.last_year"), type: "bar", data: categories.map((r) => r.last_year), itemStyle: { color: "#c9d6e3" } },
      ],
    },
  );
  const rankingChart = useChart(
    kpis && {
      tooltip: { trigger: "axis" },
      grid: { left: 130, right: 16, top: 8, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: kpis.rankings.map((r) => r.name) },
      series: [{ type: "bar", data: kpis.rankings.map((r) => r.incidents), itemStyle: { color: "#2c7bb6" } }],
    },
  );

  const incidents = kpis ? total(kpis.incidents_by_category) : undefined;
  const cases = kpis ? total(kpis.cases) : undefined;
  return (
    <div className="dashboard page-scroll" data-testid="dashboard">
      <header className="filters dash-filters" data-testid="kpi-filters">
        <label>
          {t("dashboard.period")}
          <select value={period} data-testid="kpi-period" onChange={(e) => setPeriod(e.target.value as PeriodName)}>
            {PERIODS.map((p) => (
              <option key={p} value={p}>
                {t(`dashboard.period.${p}` as Key)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("dashboard.date")}
          <input type="date" value={day ?? ""} data-testid="kpi-date" onChange={(e) => e.target.value && setDay(e.target.value)} />
        </label>
        <label>
          {t("dashboard.compare")}
          <select value={compare} data-testid="kpi-compare" onChange={(e) => setCompare(e.target.value as "yoy" | "pop")}>
            <option value="yoy">{t("dashboard.yoy")}</option>
            <option value="pop">{t("dashboard.pop")}</option>
          </select>
        </label>
        {kpis && (
          <span className="period-span" data-testid="kpi-span">
            {formatTime(kpis.start, lang)} – {formatTime(kpis.end, lang)} ({kpis.tz})
          </span>
        )}
      </header>
      {error && (
        <p className="error" data-testid="kpi-error">
          {error}
        </p>
      )}
      <div className="kpi-cards">
        <div className="kpi-card" data-testid="kpi-incidents">
          <span>{t("dashboard.incidents")}</span>
          <strong data-testid="kpi-total">{incidents ? incidents.current.toLocaleString() : "…"}</strong>
          <small>
            <Change value={incidents?.yoy} label={t("dashboard.yoy")} /> <Change value={incidents?.pop} label={t("dashboard.pop")} />
          </small>
        </div>
        <div className="kpi-card" data-testid="kpi-cases">
          <span>{t("dashboard.cases")}</span>
          <strong data-testid="kpi-cases-value">{cases ? cases.current.toLocaleString() : "…"}</strong>
          <small>
            <Change value={cases?.yoy} label={t("dashboard.yoy")} /> <Change value={cases?.pop} label={t("dashboard.pop")} />
          </small>
        </div>
        {kpis && (
          <>
            <RateCard id="clearance" label={t("dashboard.clearance")} rate={kpis.clearance_rate.flow} />
            <RateCard id="clearance-cohort" label={t("dashboard.clearance_cohort")} rate={kpis.clearance_rate.cohort} />
            <div className="kpi-card" data-testid="kpi-solved">
              <span>{t("dashboard.solved")}</span>
              <strong data-testid="kpi-solved-value">{kpis.solved.toLocaleString()}</strong>
            </div>
            <div className="kpi-card" data-testid="kpi-suspects">
              <span>{t("dashboard.suspects")}</span>
              <strong data-testid="kpi-suspects-value">{kpis.suspects.toLocaleString()}</strong>
            </div>
            <RateCard id="sign-rate" label={t("dashboard.on_time_sign")} rate={kpis.instructions.on_time_sign_rate} />
            <RateCard id="feedback-rate" label={t("dashboard.on_time_feedback")} rate={kpis.instructions.on_time_feedback_rate} />
          </>
        )}
      </div>
      <section>
        <h3>{t("dashboard.daily")}</h3>
        <div ref={trendChart} className="chart" data-testid="kpi-trend" />
      </section>
      <section>
        <h3>{t("dashboard.by_category")}</h3>
        <div ref={categoryChart} className="chart" />
      </section>
      <section>
        <h3>{t("dashboard.by_category_table")}</h3>
        <table className="list small" data-testid="kpi-categories">
          <thead>
            <tr>
              <th>{t("dashboard.category")}</th>
              <th>{t("dashboard.current")}</th>
              <th>{t("dashboard.previous")}</th>
              <th>{t("dashboard.last_year")}</th>
              <th>{t("dashboard.pop")}</th>
              <th>{t("dashboard.yoy")}</th>
            </tr>
          </thead>
          <tbody>
            {(kpis?.incidents_by_category ?? []).map((r) => (
              <tr key={r.category} data-testid={`kpi-cat-${r.category}`}>
                <td>{r.category === "all" ? t("dashboard.all") : r.category}</td>
                <td>{r.current}</td>
                <td>{r.previous}</td>
                <td>{r.last_year}</td>
                <td>{signed(r.pop)}</td>
                <td>{signed(r.yoy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>{t("dashboard.ranking")}</h3>
        <div ref={rankingChart} className="chart tall" />
      </section>
      <section>
        <h3>{t("dashboard.ranking_table")}</h3>
        <table className="list small" data-testid="kpi-rankings">
          <thead>
            <tr>
              <th>{t("dashboard.unit")}</th>
              <th>{t("dashboard.incidents")}</th>
              <th>#</th>
              <th>{t("dashboard.clearance")}</th>
              <th>#</th>
              <th>{t("dashboard.on_time_sign")}</th>
              <th>#</th>
            </tr>
          </thead>
          <tbody>
            {(kpis?.rankings ?? []).map((r) => (
              <tr key={r.jurisdiction_code} data-testid={`kpi-rank-${r.jurisdiction_code}`}>
                <td>{r.name}</td>
                <td>{r.incidents}</td>
                <td>{r.incidents_rank ?? "—"}</td>
                <td>{percent(r.clearance_rate)}</td>
                <td>{r.clearance_rank ?? "—"}</td>
                <td>{percent(r.on_time_sign_rate)}</td>
                <td>{r.on_time_sign_rank ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h3>{t("dashboard.precision")}</h3>
        {kpis && kpis.instructions.precision_by_model.length === 0 ? (
          <p className="empty">{t("dashboard.no_feedback")}</p>
        ) : (
          <table className="list small" data-testid="kpi-precision">
            <thead>
              <tr>
                <th>{t("panel.model")}</th>
                <th>{t("instr.verified.true")}</th>
                <th>{t("instr.verified.false")}</th>
                <th>{t("instr.unverified")}</th>
                <th>{t("dashboard.precision_short")}</th>
                <th>95%</th>
              </tr>
            </thead>
            <tbody>
              {(kpis?.instructions.precision_by_model ?? []).map((m) => (
                <tr key={m.model_id}>
                  <td>{m.model_id}</td>
                  <td>{m.verified_true}</td>
                  <td>{m.verified_false}</td>
                  <td>{m.unverified}</td>
                  <td>{percent(m.precision)}</td>
                  <td>
                    {percent(m.low, 0)} – {percent(m.high, 0)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
