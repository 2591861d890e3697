// Time window (时间范围): a slider for the window's last day and a choice of its length.
import { useEffect, useMemo, useState } from "react";
import { useI18n } from "../i18n";

export interface Window {
  start: string; // ISO 8601, UTC
  end: string;
}

const DAY_MS = 86_400_000;
const LENGTHS = [7, 30, 90, 365];

function dayFloor(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function TimeSlider({
  extent,
  timezone,
  onChange,
}: {
  extent: { start: string | null; end: string | null } | null;
  timezone: string;
  onChange: (window: Window) => void;
}) {
  const { t, lang } = useI18n();
  const [first, last] = useMemo(() => {
    const now = dayFloor(Date.now());
    const end = extent?.end ? dayFloor(Date.parse(extent.end)) + DAY_MS : now + DAY_MS;
    const start = extent?.start ? dayFloor(Date.parse(extent.start)) : end - 365 * DAY_MS;
    return [start, Math.max(end, start + DAY_MS)];
  }, [extent]);
  const days = Math.round((last - first) / DAY_MS);
  const [endDay, setEndDay] = useState(days);
  const [length, setLength] = useState(30);

  useEffect(() => setEndDay(days), [days]);

  useEffect(() => {
    if (extent === null) return;
    const timer = setTimeout(() => {
      const end = first + endDay * DAY_MS;
      onChange({ start: new Date(end - length * DAY_MS).toISOString(), end: new Date(end).toISOString() });
    }, 120);
    return () => clearTimeout(timer);
  }, [extent, first, endDay, length, onChange]);

  const format = (ms: number) =>
    new Intl.DateTimeFormat(lang, { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
      new Date(ms),
    );
  const end = first + endDay * DAY_MS;
  return (
    <section className="time" data-testid="time-slider">
      <h3>{t("time.title")}</h3>
      <input
        type="range"
        min={Math.min(1, days)}
        max={days}
        step={1}
        value={endDay}
        aria-label={t("time.to")}
        data-testid="time-end"
        onChange={(e) => setEndDay(Number(e.target.value))}
      />
      <div className="time-labels" data-testid="time-label">
        {t("time.from")} {format(end - length * DAY_MS)} · {t("time.to")} {format(end - 1)}
      </div>
      <label>
        {t("time.window")}{" "}
        <select value={length} data-testid="time-length" onChange={(e) => setLength(Number(e.target.value))}>
          {LENGTHS.map((n) => (
            <option key={n} value={n}>
              {n} {t("time.days")}
            </option>
          ))}
        </select>
      </label>
    </section>
  );
}
