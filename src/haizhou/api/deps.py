"""Dependencies every route shares (依赖注入): settings and a database session.

Routes declare what they need with these ``Annotated`` aliases, as in the FastAPI full-stack
template's ``deps.py``; the objects themselves are built once in
:func:`haizhou.api.app.create_app` and kept on ``app.state``, never at import.

Extension point: the security module adds ``CurrentUser`` (the signed-in user), ``ScopeDep``
(the jurisdiction codes that user may see, passed as ``scope`` to every repository) and
``AuditDep`` (the audit-log writer) to this module. Until they exist, no route may return
records of a jurisdiction: only the health check and the documentation are served.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from haizhou.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; closed (and rolled back if uncommitted) afterwards.

    The route, or the service it calls, commits what it writes.
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
