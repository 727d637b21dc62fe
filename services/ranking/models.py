"""ranking's tables: one pass record per (run, levels passed), each member's best standing,
and the replica of roster's members it shows on boards."""
from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)


class Member(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20), nullable=True)
    org_path: Mapped[list] = mapped_column(JSON)
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberScope(Base):
    """A member counts in every scope above them: one row per (scope, member)."""

    __tablename__ = "member_scopes"

    scope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class PassRecord(Base):
    """The score of a run after its k-th pass; a redelivered event finds its row already here."""

    __tablename__ = "pass_records"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    levels: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    total_ms: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)  # when the k-th pass was submitted
    attempt_id: Mapped[str] = mapped_column(String(36))


class Standing(Base):
    """A member's best result in a campaign (the live board)."""

    __tablename__ = "standings"
    __table_args__ = (
        Index("ix_standings_order", "campaign_id", "levels", "total_ms", "at", "member_id"),
    )

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    levels: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)
    run_id: Mapped[str] = mapped_column(String(36))
