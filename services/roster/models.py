"""roster's tables: the organisation tree, members, roles, login codes."""
from sqlalchemy import (
    JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kernel.audit import audit_table
from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)
audit_log = audit_table(Base.metadata)


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # system|organisation|unit|branch
    name: Mapped[str] = mapped_column(String(200))
    # the organisation sheet's 编码: a re-import finds the node by it (orgsheet.py)
    code: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    created_at = mapped_column(UTCDateTime, nullable=False)


class Member(Base):
    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(200), nullable=True)
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    participation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, nullable=False)
    updated_at = mapped_column(UTCDateTime, nullable=False)


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("member_id", "role", "org_unit_id"),
        # R4: one administrator per unit, held by the database too (two concurrent edits)
        Index("uq_roles_one_unit_admin", "org_unit_id", unique=True,
              sqlite_where=text("role = 'unit_admin'"),
              postgresql_where=text("role = 'unit_admin'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # unit_admin|organisation_admin|system_admin
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"))


class LoginCode(Base):
    __tablename__ = "login_codes"
    __table_args__ = (Index("ix_login_codes_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(11))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at = mapped_column(UTCDateTime, nullable=True)


class Disqualification(Base):
    """R20: who decided, when and why; kept (with any reinstatement) for the notice."""
    __tablename__ = "disqualifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(36))
    decided_at = mapped_column(UTCDateTime, nullable=False)
    reinstated_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reinstated_at = mapped_column(UTCDateTime, nullable=True)
    reinstate_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # what the decision rests on (issue 23): the decider's account and the flags it cites
    evidence: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    flag_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)


class Notice(Base):
    """A notice administrators post for members (issue 23): shown on the member page to its
    audience (everyone under `audience_id`; None: everyone) from `starts_at` until `ends_at`."""
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(2000))
    audience_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at = mapped_column(UTCDateTime, nullable=False)
    withdrawn_at = mapped_column(UTCDateTime, nullable=True)


class Reminder(Base):
    """An SMS reminder sent to one member (issue 23): the log, and the daily cap's count."""
    __tablename__ = "sms_reminders"
    __table_args__ = (Index("ix_sms_reminders_member_sent", "member_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))  # level_open | month_end
    text: Mapped[str] = mapped_column(String(300))
    sent_by: Mapped[str] = mapped_column(String(36))
    sent_at = mapped_column(UTCDateTime, nullable=False)
