"""Sightings (感知记录) and device links (实名关联) for floating-population verification.

Only pseudonyms are stored: ``pseudo_id`` is the keyed pseudonym of a device (MAC, IMEI) or a
plate, made at the import or stream boundary; no identifier in clear and no biometric data of
any kind. Raw sightings are deleted after the configured retention
(``settings.sightings_retention_days``, default 30 days) by the daily ``population.retention``
job or ``haizhou population purge``.

``device_links`` says which person (pseudonym of the ID number, as in ``persons.pseudonym``) a
device or plate is registered to (real-name phone or vehicle registration), so a person's phone
and car count together in the comparison ring.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, UTCDateTime

# BIGINT on PostgreSQL, INTEGER (the rowid alias, so it autoincrements) on SQLite
_ID = BigInteger().with_variant(Integer, "sqlite")


class SightingRow(Base):
    """One sighting: a pseudonymised device or plate seen by a sensor at a time (UTC)."""

    __tablename__ = "sightings"
    __table_args__ = (
        # re-imports and at-least-once stream deliveries are idempotent; also the look-up by id
        UniqueConstraint("pseudo_id", "seen_at", "sensor_id"),
        Index("ix_sightings_seen_at", "seen_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    pseudo_id: Mapped[str] = mapped_column(String(64))
    id_kind: Mapped[str] = mapped_column(String(10))  # "device" or "plate"
    sensor_id: Mapped[str] = mapped_column(
        String(100)
    )  # the sensor's source id (sensors.source_id)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[int | None] = mapped_column(Integer)  # import batch; None from the stream


class DeviceLinkRow(Base):
    """A device or plate pseudonym registered to a person pseudonym (实名登记关联)."""

    __tablename__ = "device_links"

    pseudo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
