// Create an instruction by hand (人工下发指令), for analysts, commanders and administrators:
// from a finding in the side panel (POST /api/instructions {finding_id}: the server's policy
// issues it, puts it in the approval queue, or refreshes the open instruction of that place),
// or from a point picked on the map with a title, level and what is to be done.
// The server routes it to the owning station and refuses places outside the user's scope.
import { useEffect, useState, type MutableRefObject } from "react";
import type * as maplibregl from "maplibre-gl";
import type { MapMouseEvent } from "maplibre-gl";
import { ApiError, type User } from "../api";
import { useI18n, type Key } from "../i18n";
import { MANAGER_ROLES, ops, type CreateResult } from "../opsApi";
import type { LevelName } from "../workApi";

const LEVELS: LevelName[] = ["red", "orange", "yellow", "blue"];

function message(e: unknown): string {
  return e instanceof ApiError ? `${e.status}: ${e.message}` : String(e);
}

function Outcome({ result }: { result: CreateResult }) {
  const { t } = useI18n();
  return (
    <p className="notice" data-testid="instr-created">
      {t(`create.outcome.${result.outcome}` as Key)} · #{result.id} · {result.title} · {result.jurisdiction_code ?? "—"}
    </p>
  );
}

/** The "issue an instruction" action of a finding in the side panel. */
export function FindingInstruction({ findingId, user }: { findingId: number; user: User | undefined }) {
  const { t } = useI18n();
  const [result, setResult] = useState<CreateResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setResult(null);
    setError(null);
  }, [findingId]);
  if (user === undefined || !MANAGER_ROLES.has(user.role) || !Number.isFinite(findingId)) return null;
  const issue = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await ops.createInstruction({ finding_id: findingId }));
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="create-instruction" data-testid="finding-instruction">
      <button type="button" className="primary" disabled={busy || result !== null} data-testid="finding-issue" onClick={issue}>
        {t("create.from_finding")}
      </button>
      {result && <Outcome result={result} />}
      {error && (
        <p className="error" data-testid="finding-issue-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** Pick a point on the map, then give a title, level and text: a hand-made instruction. */
export function PointInstruction({
  map,
  drawingRef,
  user,
  onCreated,
}: {
  map: maplibregl.Map | null;
  drawingRef: MutableRefObject<boolean>;
  user: User;
  onCreated?: () => void;
}) {
  const { t } = useI18n();
  const [picking, setPicking] = useState(false);
  const [point, setPoint] = useState<[number, number] | null>(null);
  const [title, setTitle] = useState("");
  const [level, setLevel] = useState<LevelName>("yellow");
  const [text, setText] = useState("");
  const [result, setResult] = useState<CreateResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (map === null || !picking) return;
    drawingRef.current = true; // the map's own click (side panel) stands aside while picking
    const canvas = map.getCanvas();
    canvas.classList.add("picking");
    const click = (event: MapMouseEvent) => {
      setPoint([Number(event.lngLat.lng.toFixed(6)), Number(event.lngLat.lat.toFixed(6))]);
      setPicking(false);
    };
    map.on("click", click);
    return () => {
      map.off("click", click);
      canvas.classList.remove("picking");
      // Let this click finish before the map's own handler may act again.
      window.setTimeout(() => {
        drawingRef.current = false;
      }, 0);
    };
  }, [map, picking, drawingRef]);

  if (!MANAGER_ROLES.has(user.role)) return null;
  const submit = async () => {
    if (point === null) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await ops.createInstruction({ title, level, lon: point[0], lat: point[1], text: text || undefined }));
      setTitle("");
      setText("");
      setPoint(null);
      onCreated?.();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="create-instruction" data-testid="point-instruction">
      <h3>{t("create.title")}</h3>
      <button
        type="button"
        disabled={map === null}
        className={picking ? "active" : ""}
        data-testid="point-pick"
        onClick={() => {
          setResult(null);
          setPicking(!picking);
        }}
      >
        {picking ? t("create.picking") : t("create.pick")}
      </button>
      {point && (
        <form
          className="feedback-form"
          data-testid="point-form"
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <small data-testid="point-coords">
            {point[0]}, {point[1]}
          </small>
          <input required value={title} placeholder={t("create.instr_title")} data-testid="point-title" onChange={(e) => setTitle(e.target.value)} />
          <select value={level} data-testid="point-level" onChange={(e) => setLevel(e.target.value as LevelName)}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {t(`level.${l}` as Key)}
              </option>
            ))}
          </select>
          <textarea value={text} placeholder={t("create.text")} data-testid="point-text" onChange={(e) => setText(e.target.value)} />
          <div className="actions">
            <button type="submit" className="primary" disabled={busy || !title.trim()} data-testid="point-submit">
              {t("create.issue")}
            </button>
            <button type="button" onClick={() => setPoint(null)}>
              {t("create.cancel")}
            </button>
          </div>
        </form>
      )}
      {result && <Outcome result={result} />}
      {error && (
        <p className="error" data-testid="point-error">
          {error}
        </p>
      )}
    </section>
  );
}
