"""Every run-time dependency must be compatible with Apache-2.0: no GPL at run time.

LGPL libraries used only through their public API (dynamic linking) are allowed and listed,
so adding a new one is a deliberate decision.
"""

from __future__ import annotations

import re
from importlib import metadata

from packaging.requirements import Requirement

LGPL_ALLOWED = {
    "psycopg": "PostgreSQL driver, LGPL-3.0, used unmodified through its API",
    "psycopg-binary": "binary build of psycopg, LGPL-3.0",
}
# Multi-licensed distributions, used under the licence named here.
LICENCE_CHOSEN = {
    "pyphen": "MPL-1.1 (offered as GPL-2.0+ / LGPL-2.1+ / MPL-1.1; hyphenation for WeasyPrint)",
}
# Distributions whose metadata declares no licence, checked by hand.
UNDECLARED_KNOWN = {"h3": "Apache-2.0 (uber/h3-py LICENSE)"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_closure(root: str = "haizhou") -> set[str]:
    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for spec in dist.requires or []:
            req = Requirement(spec)
            # Skip extras (dev tools, optional back ends) that are not installed by default.
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            key = _canonical(req.name)
            if key not in seen:
                seen.add(key)
                todo.append(req.name)
    return seen


def _licence_text(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    parts = [meta.get("License-Expression") or "", (meta.get("License") or "")[:200]]
    parts += [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    return " | ".join(p for p in parts if p)


def test_no_gpl_at_run_time():
    closure = _runtime_closure()
    assert {"numpy", "sqlalchemy", "fastapi"} <= closure  # the walk really ran
    offenders = []
    for name in sorted(closure):
        try:
            text = _licence_text(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
        strong_gpl = re.search(r"(?<![L])GPL|General Public License", text) and not re.search(
            r"Lesser General Public|LGPL|Library General Public", text
        )
        if _canonical(name) in LICENCE_CHOSEN:
            continue
        if not text and _canonical(name) not in UNDECLARED_KNOWN:
            offenders.append(f"{name}: no licence declared; check it and list it in UNDECLARED_KNOWN")
        elif strong_gpl or ("LGPL" in text and _canonical(name) not in LGPL_ALLOWED):
            offenders.append(f"{name}: {text}")
    assert not offenders, "run-time dependencies with (L)GPL licences: " + "; ".join(offenders)
