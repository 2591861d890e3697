import { useEffect, useState } from "react";
import { api, ApiError, setCsrfToken, type User } from "./api";
import { useI18n } from "./i18n";
import { Login } from "./pages/Login";
import { MapPage } from "./pages/MapPage";
import { Dashboard } from "./pages/Dashboard";
import { Instructions } from "./pages/Instructions";
import { Models } from "./pages/Models";
import { Reports } from "./pages/Reports";
import { Series } from "./pages/Series";
import { Airspace } from "./pages/Airspace";
import { Supervision } from "./pages/Supervision";
import { setDisplayZone } from "./time";
import { AIRSPACE_ROLES } from "./airspaceLive";

const SUPERVISION_ROLES = new Set(["admin", "analyst", "commander", "station_officer"]);

type Page = "map" | "dashboard" | "instructions" | "supervision" | "models" | "reports" | "series" | "airspace";

export function App() {
  const { t, lang, setLang } = useI18n();
  const [user, setUser] = useState<User | null>(null);
  const [checked, setChecked] = useState(false);
  const [page, setPage] = useState<Page>("map");
  // A track opened on the Airspace page from the main map's side panel.
  const [airFocus, setAirFocus] = useState<number | null>(null);

  useEffect(() => {
    api
      .me()
      .then((me) => {
        setCsrfToken(me.csrf_token);
        setUser(me);
      })
      .catch((error: unknown) => {
        if (!(error instanceof ApiError && error.status === 401)) console.error(error);
      })
      .finally(() => setChecked(true));
  }, []);

  // Times are shown in the bureau's configured zone (GET /api/map/config → timezone).
  const [zoneReady, setZoneReady] = useState(false);
  useEffect(() => {
    if (user === null) return;
    api
      .config()
      .then((config) => setDisplayZone(config.timezone), console.error)
      .finally(() => setZoneReady(true));
  }, [user]);

  useEffect(() => {
    document.title = t("app.title");
    document.documentElement.lang = lang;
  }, [lang, t]);

  const langButton = (
    <button
      type="button"
      className="lang"
      data-testid="lang-switch"
      onClick={() => setLang(lang === "zh-CN" ? "en" : "zh-CN")}
    >
      {t("lang.switch")}
    </button>
  );

  if (!checked) return <div className="splash">{t("status.loading")}</div>;
  if (user === null) {
    return (
      <Login
        langButton={langButton}
        onLogin={(me) => {
          setCsrfToken(me.csrf_token);
          setUser(me);
        }}
      />
    );
  }
  const logout = async () => {
    try {
      await api.logout();
    } finally {
      setCsrfToken("");
      setUser(null);
    }
  };
  return (
    <div className="shell">
      <header className="topbar">
        <h1 data-testid="app-title">{t("app.title")}</h1>
        <nav>
          <button
            type="button"
            className={page === "map" ? "active" : ""}
            data-testid="nav-map"
            onClick={() => setPage("map")}
          >
            {t("nav.map")}
          </button>
          <button
            type="button"
            className={page === "dashboard" ? "active" : ""}
            data-testid="nav-dashboard"
            onClick={() => setPage("dashboard")}
          >
            {t("nav.dashboard")}
          </button>
          {(["instructions", "supervision", "models", "reports", "series", "airspace"] as const)
            .filter((id) => id !== "airspace" || AIRSPACE_ROLES.has(user.role))
            .filter((id) => id !== "supervision" || SUPERVISION_ROLES.has(user.role))
            .map((id) => (
            <button
              key={id}
              type="button"
              className={page === id ? "active" : ""}
              data-testid={`nav-${id}`}
              onClick={() => {
                setAirFocus(null);
                setPage(id);
              }}
            >
              {t(`nav.${id}`)}
            </button>
          ))}
        </nav>
        <div className="who" data-testid="who">
          {user.username} · {lang === "en" ? user.role_title_en : user.role_title_zh} ·{" "}
          {user.jurisdiction_code ?? t("user.scope.all")}
        </div>
        {langButton}
        <button type="button" data-testid="logout" onClick={logout}>
          {t("logout")}
        </button>
      </header>
      <main data-zone-ready={zoneReady ? "1" : "0"}>
        {page === "map" && (
          <MapPage
            user={user}
            onOpenAirspace={(trackId) => {
              setAirFocus(trackId);
              setPage("airspace");
            }}
          />
        )}
        {page === "dashboard" && <Dashboard />}
        {page === "instructions" && <Instructions user={user} />}
        {page === "supervision" && <Supervision user={user} />}
        {page === "models" && <Models user={user} />}
        {page === "reports" && <Reports user={user} />}
        {page === "series" && <Series user={user} />}
        {page === "airspace" && <Airspace user={user} focus={airFocus} />}
      </main>
    </div>
  );
}
