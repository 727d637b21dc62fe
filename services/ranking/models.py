"""ranking's tables: one pass record per (run, levels passed), each member's best standing,
and the replica of roster's members it shows on boards."""
from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, text
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
    # an inactive member (left the roster) is off the boards until reactivated
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # roster's required / voluntary / withdrawn (None: not learnt yet), for the boards' marks
    participation: Mapped[str | None] = mapped_column(String(20), nullable=True)


class MemberRole(Base):
    """An administrator role a member holds (roster's role_granted / role_revoked): a system
    or organisation administrator can read the answer keys (a "bank administrator")."""

    __tablename__ = "member_roles"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)


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
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    total_ms: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)  # when the k-th pass was submitted
    attempt_id: Mapped[str] = mapped_column(String(36))


class Standing(Base):
    """A member's best result in a campaign (the live board)."""

    __tablename__ = "standings"
    # in the board's order (R13: more levels, less time, the earlier last pass, the member
    # id): a board's page walks the index instead of sorting the campaign (issue 20)
    __table_args__ = (
        Index("ix_standings_board", "campaign_id", text("levels DESC"), "total_ms", "at",
              "member_id"),
    )

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    levels: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)
    run_id: Mapped[str] = mapped_column(String(36))


class CampaignReplica(Base):
    """What ranking needs of question_bank's campaigns: the time zone and the months."""

    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    # the organisation that runs it (R16's "federation"), whose board month_closed carries
    organisation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class MonthClose(Base):
    """R15: a closed month. The unique key makes the close happen once, whichever replica
    (or administrator) gets there first: the loser's transaction fails and changes nothing."""

    __tablename__ = "month_closes"
    __table_args__ = (UniqueConstraint("campaign_id", "month"),)

    snapshot_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, campaign-local
    cutoff = mapped_column(UTCDateTime, nullable=False)
    closed_at = mapped_column(UTCDateTime, nullable=False)
    closed_by: Mapped[str] = mapped_column(String(36))  # "timer" or the administrator
    ranked_members: Mapped[int] = mapped_column(Integer)
    passes_counted: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def closed(self) -> bool:
        """A month with a close is closed (schemas.MonthOut lists open months beside)."""
        return True


class SnapshotEntry(Base):
    """A closed month's board for one scope: written once, never changed."""

    __tablename__ = "snapshot_entries"
    __table_args__ = (Index("ix_snapshot_entries_board", "snapshot_id", "scope_id", "position"),)

    snapshot_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # order on the board, 1..n
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: disqualified
    levels: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(Integer)
    at = mapped_column(UTCDateTime, nullable=False)
    run_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20), nullable=True)
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)
    # what eligibility for a prize depends on, as it was at the close (issue 18): marks only,
    # the member keeps their position. Snapshots taken before these columns left the
    # inactive out (so active is true), and read participation and passed_in_month unknown
    # (None), no bank administrator
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    participation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    bank_admin: Mapped[bool] = mapped_column(Boolean, default=False,
                                             server_default=text("false"))
    passed_in_month: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
