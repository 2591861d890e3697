// The approval queue (待审批): instructions the policy created from findings but holds for an
// analyst; approve (审批下发: issued now, with deadlines) or reject with a reason (不予下发).
import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api";
import { useI18n, type Key } from "../i18n";
import { ops, type PendingItem } from "../opsApi";
import { formatTime } from "../time";

export function ApprovalQueue({ onChanged }: { onChanged?: () => void }) {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<PendingItem[] | null>(null);
  const [reasons, setReasons] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    ops.pending().then(
      (page) => setItems(page.items.filter((i) => i.approval === "pending")),
      (e) => setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
    );
  }, []);
  useEffect(load, [load]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      load();
      onChanged?.();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="approval-queue" data-testid="approval-queue">
      {error && <p className="error">{error}</p>}
      {items === null ? (
        <p>{t("status.loading")}</p>
      ) : items.length === 0 ? (
        <p className="empty" data-testid="approval-empty">
          {t("approval.empty")}
        </p>
      ) : (
        <table className="list" data-testid="approval-table">
          <thead>
            <tr>
              <th>{t("panel.level")}</th>
              <th>{t("instr.title")}</th>
              <th>{t("instr.unit")}</th>
              <th>{t("approval.created")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.id} data-testid={`approval-row-${item.id}`}>
                <td>
                  <span className={`level-dot level-${item.level}`} title={t(`level.${item.level}` as Key)} />
                </td>
                <td>
                  {item.title}
                  {item.model_id && <small> · {item.model_id}</small>}
                </td>
                <td>{item.jurisdiction_code ?? "—"}</td>
                <td>{formatTime(item.created_at, lang)}</td>
                <td className="actions">
                  <button type="button" className="primary" disabled={busy} data-testid={`approve-${item.id}`} onClick={() => act(() => ops.approve(item.id))}>
                    {t("approval.approve")}
                  </button>
                  <input
                    value={reasons[item.id] ?? ""}
                    placeholder={t("approval.reason")}
                    data-testid={`reject-reason-${item.id}`}
                    onChange={(e) => setReasons({ ...reasons, [item.id]: e.target.value })}
                  />
                  <button
                    type="button"
                    disabled={busy || !(reasons[item.id] ?? "").trim()}
                    data-testid={`reject-${item.id}`}
                    onClick={() => act(() => ops.reject(item.id, reasons[item.id] ?? ""))}
                  >
                    {t("approval.reject")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
