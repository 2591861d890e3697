// One instruction (指令详情): facts, evidence, feedback, history, and the actions the user's
// role may take from its status — sign, start, feed back (the station), review (analysts).
// The server decides; the buttons only offer what the lifecycle allows.
import { useCallback, useEffect, useState } from "react";
import { ApiError, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { work, type InstructionDetail, type InstructionStatus } from "../workApi";
import { formatTime } from "../time";

const FIELD_ROLES = new Set(["station_officer", "commander", "admin"]);
const REVIEW_ROLES = new Set(["analyst", "commander", "admin"]);

export function statusKey(status: string): Key {
  return `instr.status.${status}` as Key;
}

// Times in the configured zone (GET /api/map/config → timezone); see ../time.ts.
export { formatTime };

function can(role: string, status: InstructionStatus) {
  const field = FIELD_ROLES.has(role);
  return {
    sign: field && status === "issued",
    start: field && (status === "signed" || status === "returned"),
    feedback: field && (status === "signed" || status === "in_progress" || status === "returned"),
    review: REVIEW_ROLES.has(role) && status === "fed_back",
  };
}

export function InstructionCard({
  id,
  user,
  onChanged,
}: {
  id: number | string;
  user: User;
  onChanged?: () => void;
}) {
  const { t, lang } = useI18n();
  const [detail, setDetail] = useState<InstructionDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [verified, setVerified] = useState<"true" | "false" | "">("");
  const [text, setText] = useState("");
  const [note, setNote] = useState("");

  const load = useCallback(() => {
    work.instruction(id).then(setDetail, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [id]);
  useEffect(() => {
    setDetail(null);
    setError(null);
    load();
  }, [load]);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setText("");
      setNote("");
      setVerified("");
      load();
      onChanged?.();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };

  if (detail === null) {
    return <div className="instruction-card">{error ? <p className="error">{error}</p> : t("status.loading")}</div>;
  }
  const allowed = can(user.role, detail.status);
  return (
    <div className="instruction-card" data-testid="instruction-card">
      <h2>
        <span className={`level-dot level-${detail.level}`} /> {detail.title}
      </h2>
      <p className="badges">
        <span className={`status status-${detail.status}`} data-testid="instruction-status">
          {t(statusKey(detail.status))}
        </span>
        {detail.overdue && <span className="badge overdue">{t("instr.overdue")}</span>}
        {detail.escalated && <span className="badge escalated">{t("instr.escalated")}</span>}
      </p>
      <dl>
        <div>
          <dt>{t("panel.level")}</dt>
          <dd>{t(`level.${detail.level}` as Key)}</dd>
        </div>
        <div>
          <dt>{t("instr.unit")}</dt>
          <dd>
            {detail.jurisdiction_code ?? "—"}
            {detail.assisting_codes.length > 0 && ` (+ ${detail.assisting_codes.join(", ")})`}
          </dd>
        </div>
        <div>
          <dt>{t("instr.deadline")}</dt>
          <dd>{formatTime(detail.deadline, lang)}</dd>
        </div>
        {detail.model_id && (
          <div>
            <dt>{t("panel.model")}</dt>
            <dd>{detail.model_id}</dd>
          </div>
        )}
        {detail.explanation && (
          <div>
            <dt>{t("panel.explanation")}</dt>
            <dd>{detail.explanation}</dd>
          </div>
        )}
        {detail.suggested_action && (
          <div>
            <dt>{t("panel.action")}</dt>
            <dd>{detail.suggested_action}</dd>
          </div>
        )}
        {detail.evidence && Object.keys(detail.evidence).length > 0 && (
          <div>
            <dt>{t("panel.evidence")}</dt>
            <dd>
              <pre>{JSON.stringify(detail.evidence, null, 2)}</pre>
            </dd>
          </div>
        )}
        {detail.feedback && detail.feedback.text && (
          <div>
            <dt>{t("instr.feedback")}</dt>
            <dd data-testid="instruction-feedback">
              {detail.feedback.verified === null
                ? t("instr.unverified")
                : detail.feedback.verified
                  ? t("instr.verified.true")
                  : t("instr.verified.false")}
              {" · "}
              {detail.feedback.text}
            </dd>
          </div>
        )}
        {detail.review_note && (
          <div>
            <dt>{t("instr.review.note")}</dt>
            <dd>{detail.review_note}</dd>
          </div>
        )}
      </dl>

      <div className="actions">
        {allowed.sign && (
          <button type="button" className="primary" disabled={busy} data-testid="instr-sign" onClick={() => act(() => work.sign(detail.id))}>
            {t("instr.action.sign")}
          </button>
        )}
        {allowed.start && (
          <button type="button" disabled={busy} data-testid="instr-start" onClick={() => act(() => work.start(detail.id))}>
            {t("instr.action.start")}
          </button>
        )}
      </div>
      {allowed.feedback && (
        <form
          className="feedback-form"
          data-testid="instr-feedback-form"
          onSubmit={(e) => {
            e.preventDefault();
            act(() => work.feedback(detail.id, verified === "" ? null : verified === "true", text));
          }}
        >
          <h3>{t("instr.action.feedback")}</h3>
          <label>
            <input type="radio" name="verified" value="true" data-testid="instr-verified-true" checked={verified === "true"} onChange={() => setVerified("true")} />
            {t("instr.verified.true")}
          </label>
          <label>
            <input type="radio" name="verified" value="false" data-testid="instr-verified-false" checked={verified === "false"} onChange={() => setVerified("false")} />
            {t("instr.verified.false")}
          </label>
          <textarea
            required
            value={text}
            data-testid="instr-feedback-text"
            placeholder={t("instr.feedback.placeholder")}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="primary" disabled={busy || !text.trim() || verified === ""} data-testid="instr-feedback-submit">
            {t("instr.action.submit")}
          </button>
        </form>
      )}
      {allowed.review && (
        <div className="feedback-form" data-testid="instr-review-form">
          <h3>{t("instr.action.review")}</h3>
          <textarea value={note} data-testid="instr-review-note" placeholder={t("instr.review.note")} onChange={(e) => setNote(e.target.value)} />
          <div className="actions">
            <button type="button" className="primary" disabled={busy} data-testid="instr-accept" onClick={() => act(() => work.review(detail.id, true, note))}>
              {t("instr.action.accept")}
            </button>
            <button type="button" disabled={busy || !note.trim()} data-testid="instr-return" onClick={() => act(() => work.review(detail.id, false, note))}>
              {t("instr.action.return")}
            </button>
          </div>
        </div>
      )}
      {error && (
        <p className="error" data-testid="instr-error">
          {error}
        </p>
      )}

      <h3>{t("instr.history")}</h3>
      <ol className="history" data-testid="instruction-history">
        {detail.history.map((h, k) => (
          <li key={k}>
            <time>{formatTime(h.at, lang)}</time> {h.by}: {h.from_status ? `${t(statusKey(h.from_status))} → ` : ""}
            {t(statusKey(h.to_status))}
            {h.note ? ` · ${h.note}` : ""}
          </li>
        ))}
      </ol>
    </div>
  );
}
