"""awards' tables: award policies per campaign, granted awards, and the kernel's two."""
from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.audit import audit_table
from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)
audit_log = audit_table(Base.metadata)  # every change to money: grant, hold, release, pay, settings


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


class AwardSettings(Base):
    """A campaign's award settings beside its policy lines (docs/decisions.md, R16–R18, R20):
    who is eligible for a prize, whether a month's prizes need play in that month, and how
    many units and organ branches are named excellent (R18). No row: the defaults below."""

    __tablename__ = "award_settings"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    exclude_inactive: Mapped[bool] = mapped_column(Boolean, default=True)
    exclude_withdrawn: Mapped[bool] = mapped_column(Boolean, default=True)
    exclude_bank_admins: Mapped[bool] = mapped_column(Boolean, default=False)
    monthly_needs_pass_in_month: Mapped[bool] = mapped_column(Boolean, default=True)
    excellent_units: Mapped[int] = mapped_column(Integer, default=3)
    excellent_branches: Mapped[int] = mapped_column(Integer, default=3)
    # how many eligible members the live contest's shortlist names (R6, R17; issue 23)
    shortlist_size: Mapped[int] = mapped_column(Integer, default=10, server_default=text("10"))
    updated_at = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


SETTINGS_DEFAULTS = {
    "exclude_inactive": True, "exclude_withdrawn": True, "exclude_bank_admins": False,
    "monthly_needs_pass_in_month": True, "excellent_units": 3, "excellent_branches": 3,
    "shortlist_size": 10,
}


class Award(Base):
    """An award and its life (docs/decisions.md, issue 18): a closed month's awards are
    proposed as `granted` (payable, 待发放) or `held` (待审核: the member has a flag open or
    upheld, R20); held → granted when every flag of theirs is cleared; granted → paid by
    finance; held or granted → revoked (R20, or the place lost). A paid award is never
    changed; when it should be, `attention` says why and how much is owed either way."""

    __tablename__ = "awards"
    __table_args__ = (Index("ix_awards_period", "campaign_id", "period", "status"),)

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
    scope_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    paid_at = mapped_column(UTCDateTime, nullable=True)
    paid_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    attention: Mapped[str | None] = mapped_column(String(500), nullable=True)


class GrantedPeriod(Base):
    """A month whose awards were granted: once per (campaign, month), with the policy lines
    used, so a later policy change never touches it."""

    __tablename__ = "granted_periods"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    snapshot_id: Mapped[str] = mapped_column(String(36))
    policy: Mapped[list] = mapped_column(JSON)
    granted_at = mapped_column(UTCDateTime, nullable=False)
    # the eligibility settings the month was granted under (None: granted before they
    # existed, only the disqualified are skipped); a later change never touches the month
    settings: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class BoardEntry(Base):
    """The head of a closed month's board in each scope the policy names (from ranking's
    snapshot), kept so disqualifications can move places without asking ranking again."""

    __tablename__ = "board_entries"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    scope_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    levels: Mapped[int] = mapped_column(Integer)
    total_ms: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(20), nullable=True)
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)
    # what eligibility depends on at the close (month_closed's tops); None: not known
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    participation: Mapped[str | None] = mapped_column(String(16), nullable=True)
    bank_admin: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    passed_in_month: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class FlagReplica(Base):
    """attempts' flags (R20), from attempt_flagged and flag_reviewed: a member with a flag
    `open` or `upheld` has their unpaid awards held until every flag of theirs is cleared
    (or roster disqualifies them)."""

    __tablename__ = "member_flags"

    flag_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    attempt_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # open | cleared | upheld
    updated_at = mapped_column(UTCDateTime, nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


class MemberReplica(Base):
    """roster's members as an agency names them (kernel.events.MemberDisplay), from the
    `member` field of roster's events: for the winner named in award_granted/award_revoked."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display: Mapped[dict] = mapped_column(JSON)
    updated_at = mapped_column(UTCDateTime, nullable=False)


class Disqualified(Base):
    """roster's disqualified members (R20), from its events."""

    __tablename__ = "disqualified_members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    since = mapped_column(UTCDateTime, nullable=False)


class AnnualScore(Base):
    """R18: every organisation's figures behind its score, kept and shown."""

    __tablename__ = "annual_scores"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # unit | branch
    org_unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column(JSON)
