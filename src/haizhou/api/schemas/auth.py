"""Schemas of log-in and the current user (登录与当前用户)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    """Credentials for ``POST /api/auth/login``."""

    username: str = Field(min_length=1, max_length=100, description="用户名 — user name")
    password: str = Field(min_length=1, max_length=1024, description="口令 — password")


class UserPublic(BaseModel):
    """The signed-in user and their session (当前用户)."""

    username: str
    role: str = Field(description="admin, analyst, commander, station_officer, ...")
    role_title_zh: str
    role_title_en: str
    jurisdiction_code: str | None = Field(description="辖区代码; null for bureau-level users")
    scope: list[str] | None = Field(
        description="Jurisdiction codes the user may see; null means every jurisdiction"
    )
    csrf_token: str = Field(description="Send as X-CSRF-Token on POST, PUT, PATCH, DELETE")
    expires_at: datetime = Field(description="When the session ends (UTC)")


class Message(BaseModel):
    """A short answer."""

    detail: str
