// Times in the bureau's configured zone (GET /api/map/config → timezone), not the browser's.
// The API speaks UTC ISO-8601; the page shows and reads wall-clock times of this zone.

let zone = "Asia/Shanghai";

/** Set the zone every later formatted time is shown in. */
export function setDisplayZone(timezone: string | null | undefined): void {
  if (timezone) zone = timezone;
}

/** The zone times are shown in. */
export function displayZone(): string {
  return zone;
}

/** "2024-04-29 13:05" style wall-clock time of an ISO instant in the configured zone. */
export function formatTime(iso: string | null | undefined, lang: string): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(lang, {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

/** "04-29 13:05:09" style month, day and time to the second (live airspace reports) in the zone. */
export function formatClock(iso: string, lang: string): string {
  return new Intl.DateTimeFormat(lang, {
    timeZone: zone,
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

function parts(instant: number): Record<string, number> {
  const out: Record<string, number> = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  for (const p of format.formatToParts(new Date(instant))) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return out;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(instant: number): number {
  const p = parts(instant);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** A wall-clock "YYYY-MM-DDTHH:mm" (or a date "YYYY-MM-DD") in the zone → UTC ISO instant. */
export function zonedToIso(local: string): string {
  const [d, t = "00:00"] = local.split("T");
  const [y, m, day] = d.split("-").map(Number);
  const [hh, mm] = t.split(":").map(Number);
  const guess = Date.UTC(y, m - 1, day, hh, mm);
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first)).toISOString();
}

/** The zone's calendar date "YYYY-MM-DD" of an ISO instant (or now). */
export function zonedDate(iso?: string | null): string {
  const p = parts(iso ? new Date(iso).getTime() : Date.now());
  const two = (n: number) => String(n).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)}`;
}
