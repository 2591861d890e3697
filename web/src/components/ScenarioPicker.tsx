// Scenario views (场景视图): pick a saved view; the map flies to it, shows its zones and layers,
// and this panel keeps its live counts (refreshed every minute).
import { useEffect, useState } from "react";
import { ApiError } from "../api";
import { useI18n } from "../i18n";
import { work, type ScenarioDetail, type ScenarioSummary } from "../workApi";

function todayIn(timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** The day to count: today, or the last day with data when the store's data end earlier. */
export function countDay(dataEnd: string | null, timezone: string): string {
  const today = todayIn(timezone);
  if (!dataEnd) return today;
  const last = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    new Date(dataEnd),
  );
  return last < today ? last : today;
}

export function ScenarioPicker({
  dataEnd,
  timezone,
  onApply,
}: {
  dataEnd: string | null;
  timezone: string;
  onApply: (scenario: ScenarioDetail | null, first: boolean) => void;
}) {
  const { t, lang } = useI18n();
  const [list, setList] = useState<ScenarioSummary[]>([]);
  const [chosen, setChosen] = useState("");
  const [detail, setDetail] = useState<ScenarioDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    work.scenarios().then(setList, (e) => {
      if (!(e instanceof ApiError && e.status === 403)) setError(String(e));
    });
  }, []);

  useEffect(() => {
    if (!chosen) {
      setDetail(null);
      onApply(null, true);
      return;
    }
    let first = true;
    const load = () =>
      work.scenario(chosen, countDay(dataEnd, timezone)).then(
        (d) => {
          setDetail(d);
          setError(null);
          onApply(d, first);
          first = false;
        },
        (e) => setError(e instanceof ApiError ? `${e.status}: ${e.message}` : String(e)),
      );
    load();
    const timer = setInterval(load, 60_000);
    return () => clearInterval(timer);
    // onApply is stable in MapPage (useCallback); dataEnd/timezone change only with the config.
  }, [chosen, dataEnd, timezone, onApply]);

  if (list.length === 0 && error === null) return null;
  const title = (s: ScenarioSummary) => (lang === "en" ? s.title_en : s.title_zh);
  return (
    <section className="scenario" data-testid="scenario-picker">
      <h3>{t("scenario.title")}</h3>
      <select value={chosen} data-testid="scenario-select" onChange={(e) => setChosen(e.target.value)}>
        <option value="">{t("scenario.none")}</option>
        {list.map((s) => (
          <option key={s.id} value={s.id}>
            {title(s)}
          </option>
        ))}
      </select>
      {error && <p className="notice">{error}</p>}
      {detail && (
        <div className="scenario-counts" data-testid="scenario-counts">
          <p className="scenario-desc">{lang === "en" ? detail.description_en : detail.description_zh}</p>
          <dl>
            <div>
              <dt>{t("scenario.incidents")}</dt>
              <dd data-testid="scenario-incidents">{detail.counts.incidents_today}</dd>
            </div>
            <div>
              <dt>{t("scenario.instructions")}</dt>
              <dd data-testid="scenario-instructions">{detail.counts.open_instructions}</dd>
            </div>
            <div>
              <dt>{t("scenario.sensors")}</dt>
              <dd data-testid="scenario-sensors">{detail.counts.sensors}</dd>
            </div>
            <div>
              <dt>{t("scenario.findings")}</dt>
              <dd data-testid="scenario-findings">{detail.counts.findings}</dd>
            </div>
          </dl>
          <p className="scope-note">
            {t("scenario.zones")}: {detail.zones.features.length} · {t("scenario.day")} {detail.day}
          </p>
        </div>
      )}
    </section>
  );
}
