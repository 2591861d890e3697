// Instructions inbox (指令收件箱): the user's instructions with status and overdue marks,
// filters, and the selected one's detail, history and actions.
import { useCallback, useEffect, useState } from "react";
import { ApiError, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { InstructionCard, formatTime, statusKey } from "../components/InstructionCard";
import { INSTRUCTION_STATUSES, work, type InstructionItem } from "../workApi";
import { ApprovalQueue } from "../components/ApprovalQueue";
import { MANAGER_ROLES } from "../opsApi";

export function Instructions({ user }: { user: User }) {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState("");
  const [overdue, setOverdue] = useState(false);
  const [mine, setMine] = useState(false);
  const [items, setItems] = useState<InstructionItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [queue, setQueue] = useState(false);

  const load = useCallback(
    (after: string | null = null) => {
      setError(null);
      work.instructions({ status: status || undefined, overdue, mine, limit: 50, cursor: after }).then(
        (page) => {
          setItems((previous) => (after && previous ? [...previous, ...page.items] : page.items));
          setCursor(page.next_cursor);
        },
        (e) => setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
      );
    },
    [status, overdue, mine],
  );
  useEffect(() => load(null), [load]);

  return (
    <div className="inbox" data-testid="instructions-page">
      <section className="inbox-list">
        <header className="filters" data-testid="instr-filters">
          <h2>{t("nav.instructions")}</h2>
          <select value={status} data-testid="instr-filter-status" onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t("instr.filter.all")}</option>
            {INSTRUCTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(statusKey(s))}
              </option>
            ))}
          </select>
          <label>
            <input type="checkbox" checked={overdue} data-testid="instr-filter-overdue" onChange={(e) => setOverdue(e.target.checked)} />
            {t("instr.filter.overdue")}
          </label>
          <label>
            <input type="checkbox" checked={mine} data-testid="instr-filter-mine" onChange={(e) => setMine(e.target.checked)} />
            {t("instr.filter.mine")}
          </label>
          <button type="button" onClick={() => load(null)} data-testid="instr-refresh">
            {t("instr.refresh")}
          </button>
          {MANAGER_ROLES.has(user.role) && (
            <button type="button" className={queue ? "active" : ""} data-testid="instr-approval" onClick={() => setQueue(!queue)}>
              {t("approval.title")}
            </button>
          )}
        </header>
        {queue && <ApprovalQueue onChanged={() => load(null)} />}
        {error && <p className="error">{error}</p>}
        {items === null ? (
          <p>{t("status.loading")}</p>
        ) : items.length === 0 ? (
          <p className="empty" data-testid="instr-empty">
            {t("instr.empty")}
          </p>
        ) : (
          <table className="list" data-testid="instr-table">
            <thead>
              <tr>
                <th>{t("panel.level")}</th>
                <th>{t("instr.title")}</th>
                <th>{t("panel.status")}</th>
                <th>{t("instr.unit")}</th>
                <th>{t("instr.deadline")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr
                  key={item.id}
                  data-testid={`instr-row-${item.id}`}
                  className={`${selected === item.id ? "selected" : ""} ${item.overdue ? "is-overdue" : ""}`}
                  onClick={() => setSelected(item.id)}
                >
                  <td>
                    <span className={`level-dot level-${item.level}`} title={t(`level.${item.level}` as Key)} />
                  </td>
                  <td>{item.title}</td>
                  <td>
                    <span className={`status status-${item.status}`}>{t(statusKey(item.status))}</span>
                    {item.overdue && <span className="badge overdue">{t("instr.overdue")}</span>}
                    {item.escalated && <span className="badge escalated">{t("instr.escalated")}</span>}
                  </td>
                  <td>{item.jurisdiction_code ?? "—"}</td>
                  <td>{formatTime(item.deadline, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {cursor && (
          <button type="button" onClick={() => load(cursor)} data-testid="instr-more">
            {t("instr.more")}
          </button>
        )}
      </section>
      <section className="inbox-detail">
        {selected === null ? (
          <p className="empty">{t("instr.pick")}</p>
        ) : (
          <InstructionCard id={selected} user={user} onChanged={() => load(null)} />
        )}
      </section>
    </div>
  );
}
