"""Security headers on every response (安全响应头): an ASGI middleware.

The platform's own pages may load scripts, styles, images and data only from this origin
(``Content-Security-Policy``), may not be framed (``X-Frame-Options: DENY``), and browsers may
not sniff content types. The interactive API documentation (Swagger UI) loads its script and
style from the jsDelivr CDN and starts with an inline script, so its two pages get a policy
that allows exactly that and nothing else.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # map rendering runs in blob workers
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    """Add :data:`COMMON_HEADERS` and a Content-Security-Policy to every HTTP response.

    Parameters
    ----------
    app
        The ASGI app to wrap.
    docs_paths
        Paths that get :data:`DOCS_POLICY` instead of :data:`APP_POLICY`.

    A header a route has set itself is left as it is.
    """

    def __init__(self, app: ASGIApp, *, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        # Encoded once: every response gets them (names lower case, as ASGI servers send).
        common = [*COMMON_HEADERS.items()]
        self._app_headers = _encoded([*common, ("Content-Security-Policy", APP_POLICY)])
        self._docs_headers = _encoded([*common, ("Content-Security-Policy", DOCS_POLICY)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._docs_headers if scope["path"] in self.docs_paths else self._app_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(pair for pair in added if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _encoded(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
