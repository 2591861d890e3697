// Series (系列案): the series of the latest linkage run, ranked by strength and recency; a
// series' cases in time order, the evidence for each linked pair, and the leads for its unsolved
// cases (suspects of linked solved cases shown to analysts and commanders only).
import { useCallback, useEffect, useState } from "react";
import { ApiError, request, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { formatTime } from "../components/InstructionCard";
import { SeriesSketch } from "../components/SeriesSketch";

type LevelName = "red" | "orange" | "yellow" | "blue";

export interface SeriesItem {
  id: number;
  key: string | null;
  title: string;
  level: LevelName;
  rank: number;
  n_cases: number;
  n_open: number;
  n_solved: number;
  strength: number;
  recency: number;
  score: number;
  first_at: string;
  last_at: string;
  categories: string[];
  jurisdiction_code: string | null;
  jurisdiction_codes: string[];
  created_at: string;
  model_version: string;
  lon: number | null;
  lat: number | null;
}

interface SeriesCase {
  case_id: string;
  order: number;
  category: string;
  occurred_from: string;
  occurred_to: string;
  lon: number;
  lat: number;
  jurisdiction_code: string | null;
  status: "filed" | "solved";
  entry_method?: string | null;
  target?: string | null;
  tools?: string | null;
  time_of_day?: string | null;
}

interface PairEvidence {
  case_a: string;
  case_b: string;
  probability: number;
  reasons_zh: string[];
  reasons_en: string[];
}

interface LinkedCase {
  case_id: string;
  status: string;
  probability: number;
  reasons_zh: string[];
  reasons_en: string[];
  suspects: string[] | null;
}

interface SeriesLead {
  finding_id: number;
  case_id: string;
  level: LevelName;
  title: string;
  linked: LinkedCase[];
}

interface SeriesDetail extends SeriesItem {
  explanation: string;
  suggested_action: string;
  cases: SeriesCase[];
  pairs: PairEvidence[];
  leads: SeriesLead[];
  suspects_hidden: boolean;
  instruction_id: number | null;
}

interface SeriesPage {
  items: SeriesItem[];
  next_cursor: string | null;
}

const seriesApi = {
  list: (cursor: string | null) =>
    request<SeriesPage>("GET", `/api/series?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
  detail: (id: number) => request<SeriesDetail>("GET", `/api/series/${id}`),
};

function pct(p: number): string {
  return `${Math.round(p * 100)}%`;
}

function errorText(e: unknown): string {
  return e instanceof ApiError ? `${e.status}: ${e.message}` : String(e);
}

function Mo({ c }: { c: SeriesCase }) {
  const parts = [c.entry_method, c.target, c.tools, c.time_of_day].filter((v) => v);
  return <>{parts.length ? parts.join(" · ") : "—"}</>;
}

function Detail({ detail }: { detail: SeriesDetail }) {
  const { t, lang } = useI18n();
  const reasons = (x: { reasons_zh: string[]; reasons_en: string[] }) => (lang === "en" ? x.reasons_en : x.reasons_zh);
  return (
    <div data-testid="series-detail">
      <h2>
        <span className={`level-dot level-${detail.level}`} /> {detail.title}
      </h2>
      <p>
        <small>
          {t("series.rank")} {detail.rank} · {t("series.strength")} {pct(detail.strength)} · {t("series.unit")}{" "}
          {detail.jurisdiction_code ?? "—"}
          {detail.jurisdiction_codes.length > 1 && ` (${detail.jurisdiction_codes.join(", ")})`}
          {detail.instruction_id !== null && ` · ${t("series.instruction")} #${detail.instruction_id}`}
        </small>
      </p>
      <p>{detail.explanation}</p>
      <p className="notice">{detail.suggested_action}</p>
      <SeriesSketch cases={detail.cases} />
      <h3>{t("series.cases")}</h3>
      <table className="list small" data-testid="series-cases">
        <thead>
          <tr>
            <th>#</th>
            <th>{t("series.case")}</th>
            <th>{t("series.time")}</th>
            <th>{t("series.mo")}</th>
            <th>{t("series.status")}</th>
            <th>{t("series.unit")}</th>
          </tr>
        </thead>
        <tbody>
          {detail.cases.map((c) => (
            <tr key={c.case_id} data-testid="series-case-row">
              <td>{c.order}</td>
              <td>
                {c.case_id}
                <br />
                <small>{c.category}</small>
              </td>
              <td>{formatTime(c.occurred_from, lang)}</td>
              <td>
                <Mo c={c} />
              </td>
              <td>{t(`series.status.${c.status}` as Key)}</td>
              <td>{c.jurisdiction_code ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t("series.pairs")}</h3>
      <ul className="series-pairs" data-testid="series-pairs">
        {detail.pairs.map((p) => (
          <li key={`${p.case_a}-${p.case_b}`}>
            <strong>
              {p.case_a} ↔ {p.case_b}
            </strong>{" "}
            {pct(p.probability)}
            <br />
            <small>{reasons(p).join(lang === "en" ? "; " : "；")}</small>
          </li>
        ))}
      </ul>
      <h3>{t("series.leads")}</h3>
      {detail.leads.length === 0 ? (
        <p className="empty">{t("series.leads.none")}</p>
      ) : (
        <ul className="series-leads" data-testid="series-leads">
          {detail.leads.map((lead) => (
            <li key={lead.finding_id}>
              <span className={`level-dot level-${lead.level}`} /> {lead.title}
              <ul>
                {lead.linked.map((x) => (
                  <li key={x.case_id}>
                    {x.case_id} ({t(`series.status.${x.status === "solved" ? "solved" : "filed"}` as Key)}) {pct(x.probability)}
                    {" — "}
                    <small>{reasons(x).join(lang === "en" ? "; " : "；")}</small>
                    {x.suspects !== null && x.suspects.length > 0 && (
                      <div className="lead-suspects" data-testid="lead-suspects">
                        {t("series.suspects")}: {x.suspects.map((s) => s.slice(0, 12)).join(", ")}
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      <p className="scope-note">{detail.suspects_hidden ? t("series.suspects.hidden") : t("series.suspects.note")}</p>
    </div>
  );
}

export function Series({ user }: { user: User }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<SeriesItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [detail, setDetail] = useState<SeriesDetail | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = useCallback((after: string | null) => {
    seriesApi.list(after).then(
      (page) => {
        setItems((current) => (after && current ? [...current, ...page.items] : page.items));
        setCursor(page.next_cursor);
      },
      (e) => setMessage(errorText(e)),
    );
  }, []);
  useEffect(() => load(null), [load]);

  useEffect(() => {
    if (selected === null) return;
    setDetail(null);
    seriesApi.detail(selected).then(setDetail, (e) => setMessage(errorText(e)));
  }, [selected]);

  return (
    <div className="inbox" data-testid="series-page">
      <section className="inbox-list">
        <h2>{t("nav.series")}</h2>
        {message && <p className="notice">{message}</p>}
        {items === null ? (
          <p>{t("status.loading")}</p>
        ) : items.length === 0 ? (
          <p className="empty" data-testid="series-empty">
            {t("series.none")}
          </p>
        ) : (
          <table className="list" data-testid="series-table">
            <thead>
              <tr>
                <th>{t("series.rank")}</th>
                <th>{t("series.title")}</th>
                <th>{t("series.cases")}</th>
                <th>{t("series.strength")}</th>
                <th>{t("series.last")}</th>
                <th>{t("series.unit")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id} className={selected === s.id ? "selected" : ""} data-testid={`series-row-${s.id}`} onClick={() => setSelected(s.id)}>
                  <td>{s.rank}</td>
                  <td>
                    <span className={`level-dot level-${s.level}`} /> {s.title}
                  </td>
                  <td>
                    {s.n_cases} ({s.n_open} {t("series.open")})
                  </td>
                  <td>{pct(s.strength)}</td>
                  <td>{formatTime(s.last_at, lang)}</td>
                  <td>{s.jurisdiction_code ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" onClick={() => load(cursor)} data-testid="series-more">
            {t("series.more")}
          </button>
        )}
        <p className="scope-note">{user.scope === null ? t("user.scope.all") : user.scope.join(", ")}</p>
      </section>
      <section className="inbox-detail">
        {selected === null ? (
          <p className="empty">{t("series.pick")}</p>
        ) : detail === null ? (
          <p>{t("status.loading")}</p>
        ) : (
          <Detail detail={detail} />
        )}
      </section>
    </div>
  );
}
