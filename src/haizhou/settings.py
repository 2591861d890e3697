"""Settings (配置), read from ``HAIZHOU_*`` environment variables or a TOML/YAML file.

Built by the CLI or :func:`haizhou.api.app.create_app` and passed down; nothing in the core
imports this module, and importing it never connects to anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "changethis"


class SettingsError(ValueError):
    """The configuration is invalid; the message names the setting and what to do."""


class Settings(BaseSettings):
    """Haizhou settings. Every field can be set as ``HAIZHOU_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="HAIZHOU_", extra="forbid")

    data_dir: Path = Field(
        default=Path("./haizhou-data"),
        description="Folder for the embedded SQLite store, quarantine files, reports and keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Empty: SQLite file haizhou.db in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    timezone: str = Field(default="Asia/Shanghai", description="The bureau's time zone.")
    pseudonym_key: str | None = Field(
        default=None,
        description="Secret key for pseudonymising personal identifiers (HMAC-SHA256). "
        "Empty: a random key is created once in data_dir/keys/pseudonym.key.",
    )
    secret_key: str | None = Field(
        default=None, description="Secret for session signing. Empty: created in data_dir."
    )
    map_tile_url: str | None = Field(
        default=None,
        description="Raster or vector tile URL of the bureau's own map service "
        "(e.g. https://tiles.example/{z}/{x}/{y}.png). Empty: the offline base map built "
        "from the store's jurisdictions, roads and places.",
    )
    map_freshness_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds the map's in-memory incident index is used without asking the "
        "store for new incidents: a new incident reaches the map within this time (0: every "
        "map request asks the store).",
    )
    sightings_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days raw sightings (感知记录) are kept before the daily job deletes them.",
    )
    instruction_policy: dict[str, Any] = Field(
        default_factory=dict,
        description="Instruction policy (指令下发策略): which finding kinds and levels are issued "
        "automatically or wait for approval, and the hours to sign, feed back and review per "
        "level, as in haizhou.tasks.policy.InstructionPolicy (e.g. [haizhou.instruction_policy] "
        "rules = {'*' = {yellow = 'auto'}}). Empty: the built-in defaults.",
    )
    environment: str = Field(default="development", description="development or production")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="NATS server(s) with JetStream for the job queue, comma-separated.",
    )
    job_queue: str = Field(
        default="haizhou",
        description="Job queue name (stream <NAME>_JOBS, consumer <name>-workers).",
    )
    log_format: str = Field(
        default="text", description="Log output: text or json (one object a line)."
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics to any client; default only to loopback (127.0.0.1, ::1).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai"
            ) from exc
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value not in {"text", "json"}:
            raise ValueError("must be 'text' or 'json'")
        return value

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"development", "production"}:
            raise ValueError("must be 'development' or 'production'")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'haizhou.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def check_production(self) -> None:
        """Refuse placeholder or missing secrets outside development."""
        if self.environment != "production":
            return
        for name in ("pseudonym_key", "secret_key"):
            value = getattr(self, name)
            if not value or value == PLACEHOLDER_SECRET:
                raise SettingsError(
                    f"HAIZHOU_{name.upper()} must be set to a real secret in production "
                    f"(got {'nothing' if not value else repr(value)})."
                )


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment, an optional config file and overrides.

    Environment variables win over the file; explicit overrides win over both.
    Raises :class:`SettingsError` with a readable message on any invalid value.
    """
    file_values: dict[str, Any] = {}
    path = config_file or (
        Path(os.environ["HAIZHOU_CONFIG"]) if os.environ.get("HAIZHOU_CONFIG") else None
    )
    if path is not None:
        file_values = _read_config_file(path)
    env_names = {key[len("HAIZHOU_") :].lower() for key in os.environ if key.startswith("HAIZHOU_")}
    values = {k: v for k, v in file_values.items() if k not in env_names}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"HAIZHOU_{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"Invalid settings: {problems}") from None
    settings.check_production()
    return settings


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"Config file {path} does not exist.")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except Exception as exc:
        raise SettingsError(f"Config file {path} cannot be parsed: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"Config file {path} must hold a mapping of setting = value.")
    return {str(k).lower(): v for k, v in data.get("haizhou", data).items()}
