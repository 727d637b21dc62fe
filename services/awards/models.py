"""awards' tables: award policies per campaign, granted awards, and the kernel's two."""
from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)


class AwardPolicy(Base):
    """One line of a campaign's policy: places [place_from, place_to] in a scope get `kind`."""

    __tablename__ = "award_policies"
    __table_args__ = (UniqueConstraint("campaign_id", "period", "scope", "kind", "place_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    period: Mapped[str] = mapped_column(String(16))  # "monthly" | "annual"
    scope: Mapped[str] = mapped_column(String(64))  # "system" or an organisation id
    place_from: Mapped[int] = mapped_column(Integer)
    place_to: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    amount_cny: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Award(Base):
    __tablename__ = "awards"
    __table_args__ = (UniqueConstraint("campaign_id", "period", "kind", "rank", "member_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    period: Mapped[str] = mapped_column(String(16))  # YYYY-MM or YYYY
    kind: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(Integer)
    amount_cny: Mapped[int | None] = mapped_column(Integer, nullable=True)
    member_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    org_unit_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="granted")
    granted_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
