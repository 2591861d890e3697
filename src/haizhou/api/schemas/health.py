"""Schemas of the health check (健康检查)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthCounts(BaseModel):
    """Row counts of the main tables, over every jurisdiction."""

    incidents: int = Field(ge=0, description="警情 — calls for service")
    cases: int = Field(ge=0, description="案件 — recorded crimes")
    jurisdictions: int = Field(ge=0, description="辖区 — police units' areas")
    sensors: int = Field(ge=0, description="感知点位 — sensing points")


class HealthPublic(BaseModel):
    """The service is up and its database answers at the expected schema revision."""

    status: Literal["ok"] = "ok"
    version: str = Field(description="Haizhou version")
    database: Literal["sqlite", "postgresql"] = Field(description="Database back end")
    schema_revision: str = Field(description="Alembic revision the database is at")
    counts: HealthCounts


class HealthProblem(BaseModel):
    """The service cannot serve (HTTP 503): why, and what to do."""

    status: Literal["unavailable"] = "unavailable"
    version: str
    database: str = Field(description="Database back end the service is configured for")
    schema_revision: str | None = None
    reason: str = Field(description="What is wrong and what to do, in one line")
