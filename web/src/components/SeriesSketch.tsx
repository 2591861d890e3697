// A small sketch of one series (系列案示意): its cases as numbered points joined in time order,
// on a local plane (no base map, so it works offline and in print).
import { useI18n } from "../i18n";

export interface SketchCase {
  case_id: string;
  order: number;
  lon: number;
  lat: number;
  status: string;
}

const W = 320;
const H = 200;
const PAD = 18;

export function SeriesSketch({ cases }: { cases: SketchCase[] }) {
  const { t } = useI18n();
  if (cases.length === 0) return null;
  const lat0 = cases.reduce((s, c) => s + c.lat, 0) / cases.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xs = cases.map((c) => c.lon * k);
  const ys = cases.map((c) => c.lat);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0, 1e-6);
  const scale = Math.min(W - 2 * PAD, H - 2 * PAD) / span;
  const px = (i: number) => PAD + (xs[i] - x0) * scale;
  const py = (i: number) => H - PAD - (ys[i] - y0) * scale;
  const path = cases.map((_, i) => `${i === 0 ? "M" : "L"}${px(i).toFixed(1)},${py(i).toFixed(1)}`).join(" ");
  const metres = Math.round((span * 111_320) / 10) * 10;
  return (
    <svg className="series-sketch" data-testid="series-sketch" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={t("series.sketch")}>
      <rect x={0} y={0} width={W} height={H} fill="#f7f9fb" stroke="#e4e7eb" />
      <path d={path} fill="none" stroke="#08306b" strokeWidth={1.5} strokeDasharray="4 2" />
      {cases.map((c, i) => (
        <g key={c.case_id}>
          <circle cx={px(i)} cy={py(i)} r={8} fill={c.status === "solved" ? "#ffffff" : "#fd8d3c"} stroke="#08306b" />
          <text x={px(i)} y={py(i) + 3.5} textAnchor="middle" fontSize={9} fill="#08306b">
            {c.order}
          </text>
        </g>
      ))}
      <text x={PAD} y={H - 4} fontSize={9} fill="#52606d">
        {t("series.span")}: {metres >= 1000 ? `${(metres / 1000).toFixed(1)} km` : `${metres} m`}
      </text>
    </svg>
  );
}
