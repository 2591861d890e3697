// Case supervision (三级盯案): supervised cases with late marks, one case's three tiers (局领导 —
// 专业警种 — 派出所), milestones and progress notes, statistics by level and unit, and — for the
// roles the policy allows (analyst, commander, admin) — putting a case under supervision.
// The server scopes everything to the user's jurisdictions and decides every action.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import {
  MANAGER_ROLES,
  ops,
  TIERS,
  type SupervisedCase,
  type SupervisedDetail,
  type SupervisionStats,
  type Tier,
} from "../opsApi";
import { formatTime, zonedToIso } from "../time";
import type { LevelName } from "../workApi";

const LEVELS: LevelName[] = ["red", "orange", "yellow", "blue"];

function message(e: unknown): string {
  return e instanceof ApiError ? `${e.status}: ${e.message}` : String(e);
}

function tierKey(tier: Tier): Key {
  return `sup.tier.${tier}` as Key;
}

function CaseDetail({ id, user, onChanged }: { id: number; user: User; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const officer = user.role === "station_officer";
  const manager = MANAGER_ROLES.has(user.role);
  const [detail, setDetail] = useState<SupervisedDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [tier, setTier] = useState<Tier>(officer ? "station" : "lead");
  const [mTitle, setMTitle] = useState("");
  const [mDue, setMDue] = useState("");
  const [mTier, setMTier] = useState<Tier>("station");
  const [closing, setClosing] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    ops.supervisedCase(id).then(setDetail, (e) => setError(message(e)));
  }, [id]);
  useEffect(() => {
    setDetail(null);
    setError(null);
    load();
  }, [load]);

  const act = async (action: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      after?.();
      load();
      onChanged();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  if (detail === null) return <div>{error ? <p className="error">{error}</p> : t("status.loading")}</div>;
  const open = detail.status === "open";
  return (
    <div className="supervision-card" data-testid="sup-detail">
      <h2>
        <span className={`level-dot level-${detail.level}`} /> {detail.title}
      </h2>
      <p className="badges">
        <span className={`status sup-${detail.status}`}>{t(`sup.status.${detail.status}` as Key)}</span>
        {detail.late && <span className="badge overdue">{t("sup.late")}</span>}
        {detail.late_milestones > 0 && (
          <span className="badge escalated">
            {t("sup.late_milestones")} {detail.late_milestones}
          </span>
        )}
      </p>
      <ol className="tiers" data-testid="sup-tiers">
        <li>
          <span>{t("sup.tier.lead")}</span>
          <strong>{detail.lead}</strong>
        </li>
        <li>
          <span>{t("sup.tier.specialist")}</span>
          <strong>{detail.specialist_unit}</strong>
        </li>
        <li>
          <span>{t("sup.tier.station")}</span>
          <strong>{detail.station_code}</strong>
        </li>
      </ol>
      <dl>
        <div>
          <dt>{t("sup.deadline")}</dt>
          <dd>{formatTime(detail.deadline, lang)}</dd>
        </div>
        <div>
          <dt>{t("sup.opened")}</dt>
          <dd>
            {formatTime(detail.opened_at, lang)} · {detail.opened_by}
          </dd>
        </div>
        {detail.closed_at && (
          <div>
            <dt>{t("sup.closed_at")}</dt>
            <dd>
              {formatTime(detail.closed_at, lang)} · {detail.closing_note}
            </dd>
          </div>
        )}
      </dl>

      <h3>{t("sup.milestones")}</h3>
      {detail.milestones.length === 0 ? (
        <p className="empty">{t("sup.no_milestones")}</p>
      ) : (
        <table className="list small" data-testid="sup-milestones">
          <thead>
            <tr>
              <th>{t("sup.milestone")}</th>
              <th>{t("sup.tier")}</th>
              <th>{t("sup.due")}</th>
              <th>{t("sup.done")}</th>
            </tr>
          </thead>
          <tbody>
            {detail.milestones.map((m) => (
              <tr key={m.id} className={m.late ? "is-overdue" : ""} data-testid={`sup-milestone-${m.id}`}>
                <td>
                  {m.title}
                  {m.late && <span className="badge overdue">{t("sup.late")}</span>}
                </td>
                <td>{t(tierKey(m.tier))}</td>
                <td>{formatTime(m.due_at, lang)}</td>
                <td>
                  {m.done_at ? (
                    `${formatTime(m.done_at, lang)} · ${m.done_by ?? ""}`
                  ) : open ? (
                    <button type="button" disabled={busy} data-testid={`sup-milestone-done-${m.id}`} onClick={() => act(() => ops.milestoneDone(detail.id, m.id))}>
                      {t("sup.mark_done")}
                    </button>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && manager && (
        <form
          className="inline-form"
          data-testid="sup-milestone-form"
          onSubmit={(e) => {
            e.preventDefault();
            act(
              () => ops.addMilestone(detail.id, mTitle, zonedToIso(mDue), mTier),
              () => {
                setMTitle("");
                setMDue("");
              },
            );
          }}
        >
          <input required value={mTitle} placeholder={t("sup.milestone")} data-testid="sup-milestone-title" onChange={(e) => setMTitle(e.target.value)} />
          <input required type="datetime-local" value={mDue} data-testid="sup-milestone-due" onChange={(e) => setMDue(e.target.value)} />
          <select value={mTier} onChange={(e) => setMTier(e.target.value as Tier)}>
            {TIERS.map((x) => (
              <option key={x} value={x}>
                {t(tierKey(x))}
              </option>
            ))}
          </select>
          <button type="submit" disabled={busy || !mTitle.trim() || !mDue}>
            {t("sup.add_milestone")}
          </button>
        </form>
      )}

      <h3>{t("sup.notes")}</h3>
      <ol className="history" data-testid="sup-notes">
        {detail.notes.map((n) => (
          <li key={n.id}>
            <time>{formatTime(n.at, lang)}</time> {n.author} ({t(tierKey(n.tier))}): {n.text}
          </li>
        ))}
      </ol>
      {open && (
        <form
          className="feedback-form"
          data-testid="sup-note-form"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => ops.addNote(detail.id, text, tier), () => setText(""));
          }}
        >
          <select value={tier} disabled={officer} data-testid="sup-note-tier" onChange={(e) => setTier(e.target.value as Tier)}>
            {TIERS.map((x) => (
              <option key={x} value={x}>
                {t(tierKey(x))}
              </option>
            ))}
          </select>
          <textarea required value={text} data-testid="sup-note-text" placeholder={t("sup.note_placeholder")} onChange={(e) => setText(e.target.value)} />
          <button type="submit" className="primary" disabled={busy || !text.trim()} data-testid="sup-note-submit">
            {t("sup.add_note")}
          </button>
        </form>
      )}
      {open && manager && (
        <form
          className="inline-form"
          data-testid="sup-close-form"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => ops.closeCase(detail.id, closing), () => setClosing(""));
          }}
        >
          <input required value={closing} placeholder={t("sup.closing_note")} data-testid="sup-close-note" onChange={(e) => setClosing(e.target.value)} />
          <button type="submit" disabled={busy || !closing.trim()} data-testid="sup-close">
            {t("sup.close")}
          </button>
        </form>
      )}
      {error && (
        <p className="error" data-testid="sup-error">
          {error}
        </p>
      )}
    </div>
  );
}

function NewSupervision({ onCreated }: { onCreated: (id: number) => void }) {
  const { t } = useI18n();
  const [stations, setStations] = useState<{ code: string; name: string }[]>([]);
  const [form, setForm] = useState({ title: "", level: "orange" as LevelName, lead: "", specialist_unit: "", station_code: "", deadline: "", milestone: "", milestone_due: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.geojson("/api/map/jurisdictions").then(
      (fc) =>
        setStations(
          fc.features
            .map((f) => ({ code: String(f.properties?.code ?? ""), name: String(f.properties?.name ?? f.properties?.code ?? "") }))
            .filter((s) => s.code)
            .sort((a, b) => a.code.localeCompare(b.code)),
        ),
      (e) => setError(message(e)),
    );
  }, []);

  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await ops.supervise({
        title: form.title,
        level: form.level,
        lead: form.lead,
        specialist_unit: form.specialist_unit,
        station_code: form.station_code,
        deadline: zonedToIso(form.deadline),
        milestones:
          form.milestone.trim() && form.milestone_due
            ? [{ title: form.milestone, due_at: zonedToIso(form.milestone_due), tier: "station" }]
            : [],
      });
      onCreated(created.id);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const ready = form.title.trim() && form.lead.trim() && form.specialist_unit.trim() && form.station_code && form.deadline;
  return (
    <form
      className="feedback-form supervise-form"
      data-testid="sup-new-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h3>{t("sup.new")}</h3>
      <label>
        {t("sup.case_title")}
        <input required value={form.title} data-testid="sup-new-title" onChange={set("title")} />
      </label>
      <label>
        {t("panel.level")}
        <select value={form.level} data-testid="sup-new-level" onChange={set("level")}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {t(`level.${l}` as Key)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("sup.tier.lead")}
        <input required value={form.lead} data-testid="sup-new-lead" onChange={set("lead")} />
      </label>
      <label>
        {t("sup.tier.specialist")}
        <input required value={form.specialist_unit} data-testid="sup-new-specialist" onChange={set("specialist_unit")} />
      </label>
      <label>
        {t("sup.tier.station")}
        <select required value={form.station_code} data-testid="sup-new-station" onChange={set("station_code")}>
          <option value="">—</option>
          {stations.map((s) => (
            <option key={s.code} value={s.code}>
              {s.code} {s.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("sup.deadline")}
        <input required type="datetime-local" value={form.deadline} data-testid="sup-new-deadline" onChange={set("deadline")} />
      </label>
      <label>
        {t("sup.milestone")}
        <input value={form.milestone} data-testid="sup-new-milestone" onChange={set("milestone")} />
      </label>
      <label>
        {t("sup.due")}
        <input type="datetime-local" value={form.milestone_due} data-testid="sup-new-milestone-due" onChange={set("milestone_due")} />
      </label>
      <button type="submit" className="primary" disabled={busy || !ready} data-testid="sup-new-submit">
        {t("sup.supervise")}
      </button>
      {error && (
        <p className="error" data-testid="sup-new-error">
          {error}
        </p>
      )}
    </form>
  );
}

function Stats({ stats }: { stats: SupervisionStats }) {
  const { t } = useI18n();
  const head = (
    <>
      <th>{t("sup.total")}</th>
      <th>{t("sup.status.open")}</th>
      <th>{t("sup.status.closed")}</th>
      <th>{t("sup.late")}</th>
      <th>{t("sup.closed_late")}</th>
      <th>{t("sup.late_milestones")}</th>
    </>
  );
  return (
    <div data-testid="sup-stats">
      <h3>{t("sup.stats.level")}</h3>
      <table className="list small">
        <thead>
          <tr>
            <th>{t("panel.level")}</th>
            {head}
          </tr>
        </thead>
        <tbody>
          {stats.by_level.map((r) => (
            <tr key={r.level}>
              <td>
                <span className={`level-dot level-${r.level}`} /> {t(`level.${r.level}` as Key)}
              </td>
              <td>{r.total}</td>
              <td>{r.open}</td>
              <td>{r.closed}</td>
              <td>{r.late_open}</td>
              <td>{r.closed_late}</td>
              <td>{r.late_milestones}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t("sup.stats.unit")}</h3>
      <table className="list small">
        <thead>
          <tr>
            <th>{t("sup.tier")}</th>
            <th>{t("sup.unit")}</th>
            {head}
          </tr>
        </thead>
        <tbody>
          {stats.by_unit.map((r) => (
            <tr key={`${r.tier}-${r.unit}`}>
              <td>{t(tierKey(r.tier))}</td>
              <td>{r.unit}</td>
              <td>{r.total}</td>
              <td>{r.open}</td>
              <td>{r.closed}</td>
              <td>{r.late_open}</td>
              <td>{r.closed_late}</td>
              <td>{r.late_milestones}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Supervision({ user }: { user: User }) {
  const { t, lang } = useI18n();
  const [filter, setFilter] = useState<"" | "late" | "open" | "closed">("");
  const [items, setItems] = useState<SupervisedCase[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [stats, setStats] = useState<SupervisionStats | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    (after: string | null = null) => {
      setError(null);
      ops
        .supervised({
          late: filter === "late",
          status: filter === "open" || filter === "closed" ? filter : undefined,
          cursor: after,
        })
        .then(
          (page) => {
            setItems((previous) => (after && previous ? [...previous, ...page.items] : page.items));
            setCursor(page.next_cursor);
          },
          (e) => setError(message(e)),
        );
      ops.supervisionStats().then(setStats, (e) => setError(message(e)));
    },
    [filter],
  );
  useEffect(() => load(null), [load]);

  return (
    <div className="inbox" data-testid="supervision-page">
      <section className="inbox-list">
        <header className="filters">
          <h2>{t("nav.supervision")}</h2>
          <select value={filter} data-testid="sup-filter" onChange={(e) => setFilter(e.target.value as typeof filter)}>
            <option value="">{t("instr.filter.all")}</option>
            <option value="late">{t("sup.filter.late")}</option>
            <option value="open">{t("sup.status.open")}</option>
            <option value="closed">{t("sup.status.closed")}</option>
          </select>
          <button type="button" onClick={() => load(null)}>
            {t("instr.refresh")}
          </button>
          {MANAGER_ROLES.has(user.role) && (
            <button
              type="button"
              className="primary"
              data-testid="sup-new"
              onClick={() => {
                setCreating(true);
                setSelected(null);
              }}
            >
              {t("sup.new")}
            </button>
          )}
        </header>
        {error && <p className="error">{error}</p>}
        {items === null ? (
          <p>{t("status.loading")}</p>
        ) : items.length === 0 ? (
          <p className="empty" data-testid="sup-empty">
            {t("sup.empty")}
          </p>
        ) : (
          <table className="list" data-testid="sup-table">
            <thead>
              <tr>
                <th>{t("panel.level")}</th>
                <th>{t("sup.case_title")}</th>
                <th>{t("sup.tiers")}</th>
                <th>{t("sup.deadline")}</th>
                <th>{t("panel.status")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr
                  key={c.id}
                  data-testid={`sup-row-${c.id}`}
                  className={`${selected === c.id ? "selected" : ""} ${c.late || c.late_milestones > 0 ? "is-overdue" : ""}`}
                  onClick={() => {
                    setSelected(c.id);
                    setCreating(false);
                  }}
                >
                  <td>
                    <span className={`level-dot level-${c.level}`} title={t(`level.${c.level}` as Key)} />
                  </td>
                  <td>{c.title}</td>
                  <td>
                    {c.lead} / {c.specialist_unit} / {c.station_code}
                  </td>
                  <td>{formatTime(c.deadline, lang)}</td>
                  <td>
                    <span className={`status sup-${c.status}`}>{t(`sup.status.${c.status}` as Key)}</span>
                    {c.late && <span className="badge overdue">{t("sup.late")}</span>}
                    {c.late_milestones > 0 && (
                      <span className="badge escalated">
                        {t("sup.late_milestones")} {c.late_milestones}
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" onClick={() => load(cursor)}>
            {t("instr.more")}
          </button>
        )}
        {stats && <Stats stats={stats} />}
      </section>
      <section className="inbox-detail">
        {creating ? (
          <NewSupervision
            onCreated={(id) => {
              setCreating(false);
              setSelected(id);
              load(null);
            }}
          />
        ) : selected === null ? (
          <p className="empty">{t("sup.pick")}</p>
        ) : (
          <CaseDetail id={selected} user={user} onChanged={() => load(null)} />
        )}
      </section>
    </div>
  );
}
