import { useState, type FormEvent, type ReactNode } from "react";
import { api, ApiError, type User } from "../api";
import { useI18n } from "../i18n";

export function Login({
  onLogin,
  langButton,
}: {
  onLogin: (user: User) => void;
  langButton: ReactNode;
}) {
  const { t } = useI18n();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api.login(username, password));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(t("login.wrong"));
      else if (err instanceof ApiError && err.status === 429) setError(t("login.throttled"));
      else setError(t("login.failed"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="login" onSubmit={submit} data-testid="login-form">
        <div className="login-head">
          <h1>{t("app.title")}</h1>
          {langButton}
        </div>
        <h2>{t("login.title")}</h2>
        <label>
          {t("login.username")}
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          {t("login.password")}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy} data-testid="login-submit">
          {t("login.submit")}
        </button>
      </form>
    </div>
  );
}
