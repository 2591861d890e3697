// Colours of the map's style layers: the Chinese four-level warning scale (红橙黄蓝) and the
// MapLibre "match" expression that colours a feature by one of its properties.
import type * as maplibregl from "maplibre-gl";

export const LEVEL_COLOURS = {
  red: "#d7191c",
  orange: "#fd8d3c",
  yellow: "#fecc5c",
  blue: "#2c7bb6",
} as const;

/** Colour a feature by ``property``: each key of ``colours`` its colour, anything else ``fallback``. */
export function matchColour(property: string, colours: Record<string, string>, fallback: string): maplibregl.ExpressionSpecification {
  const pairs = Object.entries(colours).flat();
  return ["match", ["get", property], ...pairs, fallback] as unknown as maplibregl.ExpressionSpecification;
}

/** A feature's ``level`` colour: red, orange, yellow, and blue for any other level. */
export function levelColour(): maplibregl.ExpressionSpecification {
  const { red, orange, yellow, blue } = LEVEL_COLOURS;
  return matchColour("level", { red, orange, yellow }, blue);
}
