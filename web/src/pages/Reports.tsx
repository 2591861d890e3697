// Reports (分析报告): generate a daily, weekly or monthly report (HTML or PDF, Chinese or
// English) and download the ones made before.
import { useCallback, useEffect, useState } from "react";
import { ApiError, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { formatTime } from "../components/InstructionCard";
import { itemsOf, work, type ReportItem, type ReportKind } from "../workApi";

const CREATE_ROLES = new Set(["analyst", "commander", "admin"]);
const KIND_KEYS: Record<ReportKind, Key> = {
  daily: "reports.kind.daily",
  weekly: "reports.kind.weekly",
  monthly: "reports.kind.monthly",
};

function yesterday(): string {
  const d = new Date(Date.now() - 86_400_000);
  return d.toISOString().slice(0, 10);
}

function size(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function Reports({ user }: { user: User }) {
  const { t, lang } = useI18n();
  const [reports, setReports] = useState<ReportItem[] | null>(null);
  const [kind, setKind] = useState<ReportKind>("daily");
  const [day, setDay] = useState(yesterday);
  const [reportLang, setReportLang] = useState<"zh" | "en">(lang === "en" ? "en" : "zh");
  const [format, setFormat] = useState<"html" | "pdf">("html");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);

  const load = useCallback(() => {
    work.reports().then(
      (body) => setReports(itemsOf(body)),
      (e) => setMessage(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
    );
  }, []);
  useEffect(load, [load]);

  const generate = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const report = await work.createReport({ kind, date: day, lang: reportLang, format });
      setMessage(`${t("reports.done")}: ${t(KIND_KEYS[report.kind])} ${report.date}`);
      load();
    } catch (e) {
      setMessage(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page-scroll" data-testid="reports-page">
      <h2>{t("nav.reports")}</h2>
      {CREATE_ROLES.has(user.role) && (
        <form
          className="report-form"
          data-testid="report-form"
          onSubmit={(e) => {
            e.preventDefault();
            void generate();
          }}
        >
          <label>
            {t("reports.kind")}
            <select value={kind} data-testid="report-kind" onChange={(e) => setKind(e.target.value as ReportKind)}>
              {(["daily", "weekly", "monthly"] as const).map((k) => (
                <option key={k} value={k}>
                  {t(KIND_KEYS[k])}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("reports.date")}
            <input type="date" value={day} data-testid="report-date" onChange={(e) => setDay(e.target.value)} />
          </label>
          <label>
            {t("reports.lang")}
            <select value={reportLang} data-testid="report-lang" onChange={(e) => setReportLang(e.target.value as "zh" | "en")}>
              <option value="zh">中文</option>
              <option value="en">English</option>
            </select>
          </label>
          <label>
            {t("reports.format")}
            <select value={format} data-testid="report-format" onChange={(e) => setFormat(e.target.value as "html" | "pdf")}>
              <option value="html">HTML</option>
              <option value="pdf">PDF</option>
            </select>
          </label>
          <button type="submit" className="primary" disabled={busy || !day} data-testid="report-generate">
            {busy ? t("reports.generating") : t("reports.generate")}
          </button>
        </form>
      )}
      {message && <p className="notice" data-testid="report-message">{message}</p>}
      {reports === null ? (
        <p>{t("status.loading")}</p>
      ) : reports.length === 0 ? (
        <p className="empty">{t("reports.empty")}</p>
      ) : (
        <table className="list" data-testid="reports-table">
          <thead>
            <tr>
              <th>{t("reports.kind")}</th>
              <th>{t("reports.date")}</th>
              <th>{t("reports.lang")}</th>
              <th>{t("reports.format")}</th>
              <th>{t("reports.created")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {reports.map((r) => (
              <tr key={String(r.id)}>
                <td>{t(KIND_KEYS[r.kind])}</td>
                <td>
                  {r.date}
                  {r.unit ? ` · ${r.unit}` : ""}
                </td>
                <td>{r.lang === "en" ? "English" : "中文"}</td>
                <td>{r.format.toUpperCase()}</td>
                <td>{formatTime(r.created_at, lang)}</td>
                <td>
                  <a href={`/api/reports/${encodeURIComponent(String(r.id))}/file`} download data-testid={`report-download-${r.id}`}>
                    {t("reports.download")} ({size(r.size)})
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
