// The API client: same-origin fetch with the session cookie and the CSRF header.

export interface User {
  username: string;
  role: string;
  role_title_zh: string;
  role_title_en: string;
  jurisdiction_code: string | null;
  scope: string[] | null;
  csrf_token: string;
  expires_at: string;
}

export interface MapConfig {
  tile_url: string | null;
  bounds: [number, number, number, number] | null;
  time_extent: { start: string | null; end: string | null };
  timezone: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const data = await response.json();
      if (typeof data.detail === "string") detail = data.detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

export const api = {
  me: () => request<User>("GET", "/api/auth/me"),
  login: (username: string, password: string) =>
    request<User>("POST", "/api/auth/login", { username, password }),
  logout: () => request<{ detail: string }>("POST", "/api/auth/logout"),
  config: () => request<MapConfig>("GET", "/api/map/config"),
  geojson: (path: string, params: Record<string, string | number> = {}) => {
    const query = new URLSearchParams(
      Object.entries(params).map(([k, v]) => [k, String(v)]),
    ).toString();
    return request<GeoJSON.FeatureCollection>("GET", query ? `${path}?${query}` : path);
  },
  heat: (params: Record<string, string | number>) =>
    request<HeatGrid>(
      "GET",
      `/api/map/heat?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()}`,
    ),
  summary: (params: Record<string, string>) =>
    request<Summary>("GET", `/api/map/summary?${new URLSearchParams(params).toString()}`),
};

export interface Summary {
  total: number;
  daily: [string, number][];
  by_jurisdiction: [string, number][];
}

export interface HeatGrid {
  grid: {
    bbox: [number, number, number, number];
    width: number;
    height: number;
    bandwidth_cells: number;
    max_density: number;
  };
  cells: [number, number, number, number][]; // column, row, count, density
  total: number;
}
