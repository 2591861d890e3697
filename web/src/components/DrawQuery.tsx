// Draw a polygon on the map and query inside it (框选查询): click to add corners, double-click
// or "finish" to close; the server counts incidents, findings, instructions and sensing points
// inside it for the time window (POST /api/map/query) and the results show in a panel.
import { useCallback, useEffect, useRef, useState, type MutableRefObject } from "react";
import { createPortal } from "react-dom";
import type * as maplibregl from "maplibre-gl";
import type { GeoJSONSource, MapMouseEvent } from "maplibre-gl";
import { ApiError } from "../api";
import { useI18n, type Key } from "../i18n";
import { work, type PolygonQueryResult } from "../workApi";
import { drawingFeatures } from "./workLayers";
import type { Window } from "./TimeSlider";

type Point = [number, number];

function Bar({ fraction }: { fraction: number }) {
  // Inline style attributes are refused by the CSP; the CSSOM is not.
  return <span className="bar" ref={(el) => el?.style.setProperty("height", `${Math.round(fraction * 100)}%`)} />;
}

export function DrawQuery({
  map,
  window,
  drawingRef,
}: {
  map: maplibregl.Map | null;
  window: Window | null;
  drawingRef: MutableRefObject<boolean>;
}) {
  const { t } = useI18n();
  const [drawing, setDrawing] = useState(false);
  const [points, setPointsState] = useState<Point[]>([]);
  const pointsRef = useRef<Point[]>([]);
  const setPoints = useCallback((next: Point[]) => {
    pointsRef.current = next;
    setPointsState(next);
  }, []);
  const [result, setResult] = useState<PolygonQueryResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = useCallback(
    (pts: Point[], closed: boolean) => (map?.getSource("draw") as GeoJSONSource | undefined)?.setData(drawingFeatures(pts, closed)),
    [map],
  );

  const finish = useCallback(
    async (pts: Point[]) => {
      setDrawing(false);
      drawingRef.current = false;
      if (pts.length < 3 || window === null) {
        setError(t("draw.too_few"));
        return;
      }
      show(pts, true);
      setBusy(true);
      setError(null);
      try {
        const polygon: GeoJSON.Polygon = { type: "Polygon", coordinates: [[...pts, pts[0]]] };
        setResult(await work.polygonQuery(polygon, window.start, window.end));
      } catch (e) {
        setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e));
      } finally {
        setBusy(false);
      }
    },
    [drawingRef, show, t, window],
  );

  useEffect(() => {
    if (map === null || !drawing) return;
    const click = (event: MapMouseEvent) => {
      const next: Point[] = [...pointsRef.current, [event.lngLat.lng, event.lngLat.lat]];
      setPoints(next);
      show(next, false);
    };
    const dblclick = (event: MapMouseEvent) => {
      event.preventDefault();
      // The double-click's two clicks already added the last corner (twice: drop the copy).
      const pts = pointsRef.current;
      const last = pts[pts.length - 1];
      const before = pts[pts.length - 2];
      const clean = last && before && last[0] === before[0] && last[1] === before[1] ? pts.slice(0, -1) : pts;
      setPoints(clean);
      void finish(clean);
    };
    map.doubleClickZoom.disable();
    map.getCanvas().classList.add("drawing");
    map.on("click", click);
    map.on("dblclick", dblclick);
    return () => {
      map.off("click", click);
      map.off("dblclick", dblclick);
      map.getCanvas().classList.remove("drawing");
      map.doubleClickZoom.enable();
    };
  }, [map, drawing, show, finish, setPoints]);

  const begin = () => {
    setPoints([]);
    setResult(null);
    setError(null);
    show([], false);
    drawingRef.current = true;
    setDrawing(true);
  };
  const clear = () => {
    setPoints([]);
    setResult(null);
    setError(null);
    show([], false);
    drawingRef.current = false;
    setDrawing(false);
  };

  const peak = result ? Math.max(1, ...result.by_hour) : 1;
  const categories = result ? Object.entries(result.by_category).sort((a, b) => b[1] - a[1]) : [];
  return (
    <>
      <section className="draw" data-testid="draw-query">
        <h3>{t("draw.title")}</h3>
        {drawing ? (
          <>
            <p className="scope-note">{t("draw.hint")}</p>
            <button type="button" className="primary" data-testid="draw-finish" disabled={points.length < 3} onClick={() => void finish(points)}>
              {t("draw.finish")} ({points.length})
            </button>{" "}
            <button type="button" onClick={clear}>
              {t("draw.cancel")}
            </button>
          </>
        ) : (
          <>
            <button type="button" data-testid="draw-start" disabled={map === null} onClick={begin}>
              {t("draw.start")}
            </button>{" "}
            {(result || points.length > 0) && (
              <button type="button" data-testid="draw-clear" onClick={clear}>
                {t("draw.clear")}
              </button>
            )}
          </>
        )}
        {busy && <p>{t("status.loading")}</p>}
        {error && <p className="notice" data-testid="draw-error">{error}</p>}
      </section>
      {result &&
        map !== null &&
        map.getContainer().parentElement !== null &&
        // The panel sits on the map page, outside the scrolling controls box.
        createPortal(
        <aside className="side-panel query-panel" data-testid="query-panel">
          <header>
            <span className="kind">{t("draw.results")}</span>
            <button type="button" onClick={clear} aria-label={t("panel.close")} data-testid="query-close">
              ×
            </button>
          </header>
          <h2 data-testid="query-count">
            {t("status.incidents")}: {result.count.toLocaleString()}
          </h2>
          <dl>
            {categories.length > 0 && (
              <div>
                <dt>{t("draw.by_category")}</dt>
                <dd>
                  <ul className="compact">
                    {categories.slice(0, 8).map(([name, n]) => (
                      <li key={name}>
                        {name}: {n}
                      </li>
                    ))}
                  </ul>
                </dd>
              </div>
            )}
            <div>
              <dt>{t("draw.by_hour")}</dt>
              <dd>
                <div className="hours" data-testid="query-hours">
                  {result.by_hour.map((n, h) => (
                    <span key={h} className="hour" title={`${h}:00 · ${n}`}>
                      <Bar fraction={n / peak} />
                    </span>
                  ))}
                </div>
                <div className="hour-axis">
                  <span>0</span>
                  <span>6</span>
                  <span>12</span>
                  <span>18</span>
                  <span>23</span>
                </div>
              </dd>
            </div>
            <div>
              <dt>{t("layer.findings")}</dt>
              <dd>
                {result.findings.length === 0 ? (
                  "—"
                ) : (
                  <ul className="compact">
                    {result.findings.slice(0, 10).map((f) => (
                      <li key={String(f.id)}>
                        <span className={`level-dot level-${f.level}`} /> {f.title}
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </div>
            <div>
              <dt>{t("layer.instructions")}</dt>
              <dd>
                {Object.keys(result.instructions).length === 0
                  ? "—"
                  : Object.entries(result.instructions)
                      .map(([status, n]) => `${t(`instr.status.${status}` as Key)} ${n}`)
                      .join(" · ")}
              </dd>
            </div>
            <div>
              <dt>{t("layer.sensors")}</dt>
              <dd>{result.sensors}</dd>
            </div>
          </dl>
        </aside>,
          map.getContainer().parentElement as HTMLElement,
        )}
    </>
  );
}
