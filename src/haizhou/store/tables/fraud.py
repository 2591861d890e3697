"""Fraud early warnings (反诈预警) and the outcomes of dissuasion (劝阻结果).

``fraud_warnings`` is the early-warning feed of the anti-fraud centre: a pseudonymised person
(``person_pseudonym``, the keyed pseudonym of the ID number as in ``persons.pseudonym``) was
contacted by a known fraud number (``fraud_contact``, 涉诈来电) or shows a risky transfer
pattern (``risky_transfer``, 可疑转账), at a time, from a feed, with the signal's strength and
the money at stake. Written by ``haizhou import fraud_warnings``; no identifier in clear.

``dissuasion_outcomes`` records, per warning, what happened afterwards: whether the person
became a victim (and the loss), from the officer's feedback or the anti-fraud centre's later
reports (``haizhou fraud outcomes``). With the randomised hold-out recorded by the
``fraud.dissuasion`` model's findings this gives the uplift of outreach.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haizhou.store.tables.base import Base, JSONType, UTCDateTime


class FraudWarningRow(Base):
    """One early warning about one pseudonymised person (预警线索)."""

    __tablename__ = "fraud_warnings"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_fraud_warnings_warned_at", "warned_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))  # the feed's warning id
    person_pseudonym: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # fraud_contact | risky_transfer
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    feed: Mapped[str | None] = mapped_column(String(100))  # e.g. 反诈中心 / 银行
    contacts: Mapped[float | None] = mapped_column(Float)  # contacts by known numbers, 24 h
    call_minutes: Mapped[float | None] = mapped_column(Float)
    transfer_amount: Mapped[float | None] = mapped_column(Float)  # 元
    potential_loss: Mapped[float | None] = mapped_column(Float)  # 元, the feed's estimate
    lon: Mapped[float | None] = mapped_column(Float)  # residence (for the map and the scope)
    lat: Mapped[float | None] = mapped_column(Float)
    jurisdiction_code: Mapped[str | None] = mapped_column(String(64), index=True)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(Integer)


class DissuasionOutcomeRow(Base):
    """What became of a warned person (劝阻结果): victimised or not, and how we know."""

    __tablename__ = "dissuasion_outcomes"
    __table_args__ = (UniqueConstraint("warning_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    warning_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("fraud_warnings.id", ondelete="CASCADE")
    )
    victimised: Mapped[bool] = mapped_column(Boolean)
    loss: Mapped[float | None] = mapped_column(Float)  # 元
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))  # user or "import:<file>"
    note: Mapped[str | None] = mapped_column(Text)
