// Models (模型库): the registered models with their last run, a model card, a run form with the
// model's parameters (analysts and administrators) and the recent runs.
import { useCallback, useEffect, useState } from "react";
import { ApiError, type User } from "../api";
import { useI18n } from "../i18n";
import { formatTime } from "../components/InstructionCard";
import { itemsOf, work, type ModelDetail, type ModelItem, type ModelRun } from "../workApi";

const RUN_ROLES = new Set(["analyst", "admin"]);

function runTime(run: ModelRun): string | undefined {
  return run.at ?? run.started_at;
}

function CardView({ card }: { card: unknown }) {
  if (card === null || card === undefined) return null;
  if (typeof card === "string") return <pre className="card-text">{card}</pre>;
  if (typeof card === "object" && !Array.isArray(card)) {
    return (
      <dl className="model-card">
        {Object.entries(card as Record<string, unknown>).map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{typeof value === "object" && value !== null ? <pre>{JSON.stringify(value, null, 2)}</pre> : String(value)}</dd>
          </div>
        ))}
      </dl>
    );
  }
  return <pre>{JSON.stringify(card, null, 2)}</pre>;
}

function parseValue(text: string, type: string | undefined): unknown {
  if (type === "number" || type === "integer") return Number(text);
  if (type === "boolean") return text === "true";
  return text;
}

export function Models({ user }: { user: User }) {
  const { t, lang } = useI18n();
  const [models, setModels] = useState<ModelItem[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<ModelDetail | null>(null);
  const [params, setParams] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const loadList = useCallback(() => {
    work.models().then(
      (body) => setModels(itemsOf(body)),
      (e) => setMessage(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
    );
  }, []);
  useEffect(loadList, [loadList]);

  const loadDetail = useCallback((id: string) => {
    work.model(id).then(
      (d) => {
        setDetail(d);
        const props = d.params_schema?.properties ?? {};
        setParams(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.default === undefined ? "" : String(p.default)])));
      },
      (e) => setMessage(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
    );
  }, []);
  useEffect(() => {
    if (selected !== null) loadDetail(selected);
  }, [selected, loadDetail]);

  const run = async () => {
    if (detail === null) return;
    setBusy(true);
    setMessage(null);
    const props = detail.params_schema?.properties ?? {};
    const body = Object.fromEntries(
      Object.entries(params)
        .filter(([, v]) => v !== "")
        .map(([k, v]) => [k, parseValue(v, props[k]?.type)]),
    );
    try {
      const result = await work.runModel(detail.id, Object.keys(body).length ? { params: body } : {});
      setMessage(`${t("models.run.done")}: ${result.status}${result.n_findings != null ? ` · ${result.n_findings} ${t("models.findings")}` : ""}`);
      loadDetail(detail.id);
      loadList();
    } catch (e) {
      setMessage(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  const title = (m: ModelItem) => (lang === "en" ? m.title_en : m.title_zh);
  return (
    <div className="inbox" data-testid="models-page">
      <section className="inbox-list">
        <h2>{t("nav.models")}</h2>
        {models === null ? (
          <p>{message ?? t("status.loading")}</p>
        ) : (
          <table className="list" data-testid="models-table">
            <thead>
              <tr>
                <th>{t("models.model")}</th>
                <th>{t("models.schedule")}</th>
                <th>{t("models.last_run")}</th>
                <th>{t("models.findings")}</th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={m.id} className={selected === m.id ? "selected" : ""} data-testid={`model-row-${m.id}`} onClick={() => setSelected(m.id)}>
                  <td>
                    {title(m)}
                    <br />
                    <small>
                      {m.id} {m.version}
                    </small>
                  </td>
                  <td>{m.schedule ?? "—"}</td>
                  <td>
                    {m.last_run ? (
                      <>
                        {formatTime(runTime(m.last_run), lang)} <span className={`status run-${m.last_run.status}`}>{m.last_run.status}</span>
                      </>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>{m.last_run?.n_findings ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="inbox-detail">
        {detail === null ? (
          <p className="empty">{t("models.pick")}</p>
        ) : (
          <div data-testid="model-detail">
            <h2>{title(detail)}</h2>
            <p>
              <small>
                {detail.id} {detail.version} · {detail.finding_kinds.join(", ")}
              </small>
            </p>
            <h3>{t("models.card")}</h3>
            <CardView card={detail.card} />
            {RUN_ROLES.has(user.role) && (
              <form
                className="feedback-form"
                data-testid="model-run-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  void run();
                }}
              >
                <h3>{t("models.run")}</h3>
                {Object.entries(detail.params_schema?.properties ?? {}).map(([key, prop]) => (
                  <label key={key} className="param">
                    {key}
                    <input value={params[key] ?? ""} title={prop.description ?? ""} onChange={(e) => setParams({ ...params, [key]: e.target.value })} />
                  </label>
                ))}
                <button type="submit" className="primary" disabled={busy} data-testid="model-run">
                  {busy ? t("status.loading") : t("models.run")}
                </button>
              </form>
            )}
            {message && <p className="notice" data-testid="model-message">{message}</p>}
            <h3>{t("models.runs")}</h3>
            <table className="list small">
              <thead>
                <tr>
                  <th>{t("models.last_run")}</th>
                  <th>{t("panel.status")}</th>
                  <th>{t("models.findings")}</th>
                  <th>{t("models.duration")}</th>
                </tr>
              </thead>
              <tbody>
                {detail.runs.map((r, k) => (
                  <tr key={String(r.run_id ?? r.id ?? k)}>
                    <td>{formatTime(runTime(r), lang)}</td>
                    <td>
                      {r.status}
                      {r.error ? ` · ${r.error}` : ""}
                    </td>
                    <td>{r.n_findings ?? "—"}</td>
                    <td>{r.duration_s != null ? `${r.duration_s.toFixed(1)} s` : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
