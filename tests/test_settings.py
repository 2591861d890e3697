from pathlib import Path

import pytest

from haizhou.settings import SettingsError, load_settings


def test_defaults_point_at_sqlite_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("HAIZHOU_DATABASE_URL", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.is_sqlite
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'haizhou.db').resolve()}"


def test_environment_overrides_file(tmp_path, monkeypatch):
    cfg = tmp_path / "haizhou.toml"
    cfg.write_text('timezone = "Asia/Urumqi"\nport = 9000\n', encoding="utf-8")
    monkeypatch.setenv("HAIZHOU_PORT", "9100")
    settings = load_settings(cfg)
    assert settings.timezone == "Asia/Urumqi"
    assert settings.port == 9100


def test_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("HAIZHOU_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="HAIZHOU_TIMEZONE"):
        load_settings()


def test_production_refuses_placeholder_secret(monkeypatch):
    monkeypatch.setenv("HAIZHOU_ENVIRONMENT", "production")
    monkeypatch.setenv("HAIZHOU_SECRET_KEY", "changethis")
    monkeypatch.setenv("HAIZHOU_PSEUDONYM_KEY", "a-real-key")
    with pytest.raises(SettingsError, match="HAIZHOU_SECRET_KEY"):
        load_settings()


def test_missing_config_file_is_clear():
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(Path("/nonexistent/haizhou.toml"))
