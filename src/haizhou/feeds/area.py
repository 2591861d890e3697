"""The control register in the store (管制登记): zones, permits and the protected site.

:func:`load_area` builds the core's :class:`~haizhou.airspace.control.ControlArea` from the
tables; :func:`save_scenario_area` fills them from a scenario (``haizhou airspace area load``);
:func:`add_permit` registers a permit, keeping only the serial's pseudonym and masked form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from haizhou.airspace.control import ControlArea, Permit, ProtectedAsset, Zone
from haizhou.airspace.scenario import load_scenario
from haizhou.errors import HaizhouError
from haizhou.security.pseudonym import IdentifierKind, Pseudonymiser
from haizhou.store.tables.airspace import AirspacePermitRow, AirspaceSiteRow, AirspaceZoneRow

__all__ = ["AreaNotConfigured", "add_permit", "load_area", "save_scenario_area", "serial_hasher"]


class AreaNotConfigured(HaizhouError):
    """No protected site is registered yet."""


def serial_hasher(pseudonymiser: Pseudonymiser) -> Callable[[str], tuple[str, str]]:
    """Drone serial → ``(pseudonym, masked)`` with the bureau's key."""

    def pseudonymise(serial: str) -> tuple[str, str]:
        p = pseudonymiser.pseudonymise(serial, IdentifierKind.DEVICE)
        return p.token, p.masked

    return pseudonymise


def load_area(session: Session) -> ControlArea:
    """The control area of the register; permits carry the serial *pseudonym* as serial.

    Raises
    ------
    AreaNotConfigured
        Without a protected site: run ``haizhou airspace area load`` first.
    """
    site = session.scalars(select(AirspaceSiteRow).order_by(AirspaceSiteRow.id)).first()
    if site is None:
        raise AreaNotConfigured(
            "no protected site is registered; run `haizhou airspace area load --scenario "
            "stadium_match_day` (or a scenario file) first"
        )
    zones = [
        Zone(
            name=z.name,
            kind=z.kind,  # type: ignore[arg-type]
            polygon=tuple((p[0], p[1]) for p in z.polygon),
            floor_m=z.floor_m,
            ceiling_m=z.ceiling_m,
            active=tuple(
                (datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in z.active
            ),
        )
        for z in session.scalars(select(AirspaceZoneRow).order_by(AirspaceZoneRow.id))
    ]
    permits = [
        Permit(
            permit_id=p.permit_id,
            serial=p.serial_pseudonym,
            operator=p.operator,
            polygon=tuple((c[0], c[1]) for c in p.polygon),
            valid_from=p.valid_from,
            valid_to=p.valid_to,
            min_alt_m=p.min_alt_m,
            max_alt_m=p.max_alt_m,
        )
        for p in session.scalars(select(AirspacePermitRow).order_by(AirspacePermitRow.id))
    ]
    asset = ProtectedAsset(name=site.name, lon=site.lon, lat=site.lat, radius_m=site.radius_m)
    return ControlArea.build(asset=asset, zones=zones, permits=permits)


def save_scenario_area(session: Session, scenario: str | Path) -> tuple[int, str]:
    """Replace the site and zones with a scenario's (a shipped name or a TOML file).

    Returns the number of zones and the site's name. Permits are kept. Not committed.
    """
    sc = load_scenario(scenario)
    session.execute(delete(AirspaceZoneRow))
    session.execute(delete(AirspaceSiteRow))
    session.add(
        AirspaceSiteRow(
            name=sc.asset.name, lon=sc.asset.lon, lat=sc.asset.lat, radius_m=sc.asset.radius_m
        )
    )
    for z in sc.zones:
        session.add(
            AirspaceZoneRow(
                name=z.name,
                kind=z.kind,
                polygon=[list(p) for p in z.polygon],
                floor_m=z.floor_m,
                ceiling_m=z.ceiling_m,
                active=[[a.isoformat(), b.isoformat()] for a, b in z.active],
            )
        )
    return len(sc.zones), sc.asset.name


def add_permit(
    session: Session,
    *,
    pseudonymiser: Pseudonymiser,
    permit_id: str,
    serial: str,
    operator: str,
    polygon: list[tuple[float, float]],
    valid_from: datetime,
    valid_to: datetime,
    min_alt_m: float = 0.0,
    max_alt_m: float = 120.0,
) -> AirspacePermitRow:
    """Register a flight permit (登记飞行许可); the clear serial is not stored. Not committed."""
    Permit(  # the core's checks: polygon, window
        permit_id=permit_id,
        serial=serial,
        operator=operator,
        polygon=tuple(polygon),
        valid_from=valid_from,
        valid_to=valid_to,
        min_alt_m=min_alt_m,
        max_alt_m=max_alt_m,
    )
    token, masked = serial_hasher(pseudonymiser)(serial)
    row = AirspacePermitRow(
        permit_id=permit_id,
        serial_pseudonym=token,
        serial_masked=masked,
        operator=operator,
        polygon=[list(p) for p in polygon],
        valid_from=valid_from,
        valid_to=valid_to,
        min_alt_m=min_alt_m,
        max_alt_m=max_alt_m,
    )
    session.add(row)
    return row
