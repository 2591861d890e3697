// Dashboard (综合看板): KPIs, the daily trend and the jurisdiction ranking, drawn with ECharts.
import { useEffect, useRef, useState } from "react";
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { api, type Summary } from "../api";
import { useI18n } from "../i18n";

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, CanvasRenderer]);

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

export function Dashboard() {
  const { t } = useI18n();
  const [summary, setSummary] = useState<Summary | null>(null);

  useEffect(() => {
    api.config().then((config) => {
      const end = config.time_extent.end ? new Date(config.time_extent.end) : new Date();
      const start = new Date(end.getTime() - 90 * 86_400_000);
      return api.summary({ start: start.toISOString(), end: new Date(end.getTime() + 1000).toISOString() }).then(setSummary);
    }, console.error);
  }, []);

  const trend = useChart(
    summary && {
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 16, bottom: 32 },
      xAxis: { type: "category", data: summary.daily.map(([d]) => d) },
      yAxis: { type: "value" },
      series: [{ type: "line", data: summary.daily.map(([, n]) => n), smooth: false, showSymbol: false }],
    },
  );
  const ranking = useChart(
    summary && {
      tooltip: { trigger: "axis" },
      grid: { left: 110, right: 16, top: 8, bottom: 24 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: summary.by_jurisdiction.map(([c]) => c ?? "—") },
      series: [{ type: "bar", data: summary.by_jurisdiction.map(([, n]) => n), itemStyle: { color: "#2c7bb6" } }],
    },
  );

  return (
    <div className="dashboard" data-testid="dashboard">
      <div className="kpi">
        <span>{t("dashboard.total")}</span>
        <strong data-testid="kpi-total">{summary ? summary.total.toLocaleString() : "…"}</strong>
      </div>
      <section>
        <h3>{t("dashboard.daily")}</h3>
        <div ref={trend} className="chart" />
      </section>
      <section>
        <h3>{t("dashboard.ranking")}</h3>
        <div ref={ranking} className="chart tall" />
      </section>
    </div>
  );
}
