// Legend (图例) of the visible layers; level colours are the Chinese four-level warning scale.
import { useI18n, type Key } from "../i18n";
import type { LayerId } from "../pages/MapPage";
import { STATUS_COLOURS } from "./workLayers";
import { LEVEL_COLOURS } from "./mapColours";

function Swatch({ colour, round = false }: { colour: string; round?: boolean }) {
  return <span className={round ? "swatch round" : "swatch"} ref={(el) => el?.style.setProperty("background", colour)} />;
}

export function Legend({
  visible,
  zones = false,
  drones = false,
  airZones = false,
}: {
  visible: Record<LayerId, boolean>;
  zones?: boolean;
  /** The drone layer is on (and the user may see it). */
  drones?: boolean;
  /** Airspace control zones of a scenario are drawn. */
  airZones?: boolean;
}) {
  const { t } = useI18n();
  const levels = (["red", "orange", "yellow", "blue"] as const).map((level) => (
    <li key={level}>
      <Swatch colour={LEVEL_COLOURS[level]} round={!visible.hexagons} />
      {t(`level.${level}`)}
    </li>
  ));
  return (
    <section className="legend" data-testid="legend">
      <h3>{t("legend.title")}</h3>
      {(visible.hexagons || visible.findings) && <ul>{levels}</ul>}
      {drones && (
        <div data-testid="legend-drones">
          <p>{t("legend.drone")}</p>
          <ul>
            {(["red", "orange", "yellow", "blue"] as const).map((level) => (
              <li key={level}>
                <Swatch colour={LEVEL_COLOURS[level]} round />
                {t(`level.${level}`)}
              </li>
            ))}
          </ul>
          <p>
            <span className="path-sample" /> {t("legend.drone_path")}
          </p>
          {airZones && (
            <p>
              <span className="swatch airzone" /> {t("legend.airzone")}
            </p>
          )}
        </div>
      )}
      {visible.heat && (
        <p>
          <span className="gradient" /> {t("legend.heat")}
        </p>
      )}
      {visible.sensors && (
        <p>
          <Swatch colour="#3d5a80" round /> {t("legend.sensor")}
        </p>
      )}
      {visible.instructions && (
        <ul data-testid="legend-instructions">
          {Object.entries(STATUS_COLOURS).map(([status, colour]) => (
            <li key={status}>
              <Swatch colour={colour} round />
              {t(`instr.status.${status}` as Key)}
            </li>
          ))}
          <li>
            <span className="swatch round overdue-ring" />
            {t("instr.overdue")}
          </li>
        </ul>
      )}
      {visible.scenario && zones && (
        <p>
          <span className="swatch zone" /> {t("legend.zone")}
        </p>
      )}
      {visible.jurisdictions && (
        <p>
          <span className="dash" /> {t("legend.jurisdiction")}
        </p>
      )}
    </section>
  );
}
