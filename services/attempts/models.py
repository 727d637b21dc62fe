"""attempts' tables: runs, attempts with their papers and keys, and replicas it reads."""
from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.audit import audit_table
from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)
audit_log = audit_table(Base.metadata)  # regrades (regrade.py): who, when, what changed


class MemberReplica(Base):
    """What attempts needs of roster's members (fed by roster's events)."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    # R20: a disqualified member plays no more (member_disqualified / member_reinstated)
    disqualified: Mapped[bool] = mapped_column(Boolean, default=False,
                                               server_default=text("false"))
    org_path: Mapped[list | None] = mapped_column(JSON, nullable=True)  # for admins' scopes
    updated_at = mapped_column(UTCDateTime, nullable=False)


class CampaignReplica(Base):
    """What attempts needs of question_bank's campaigns (fed by its events)."""

    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    levels: Mapped[list] = mapped_column(JSON)  # [{number, opens_at, time_limit_s, draw_count}]
    updated_at = mapped_column(UTCDateTime, nullable=False)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("member_id", "campaign_id", "run_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    run_number: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_level: Mapped[int] = mapped_column(Integer, default=1)
    levels_passed: Mapped[int] = mapped_column(Integer, default=0)
    total_ms: Mapped[int] = mapped_column(Integer, default=0)
    pending_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_pass_at = mapped_column(UTCDateTime, nullable=True)
    started_at = mapped_column(UTCDateTime, nullable=False)


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        Index("ix_attempts_member_open", "member_id", "status"),
        # one open attempt per member, even when two starts race (a double tap, a retry)
        Index("uq_attempts_one_open", "member_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_attempts_status_deadline", "status", "deadline"),
        Index("ix_attempts_passes", "campaign_id", "status", "submitted_at", "id"),
        Index("ix_attempts_member_started", "member_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36))
    campaign_id: Mapped[str] = mapped_column(String(36))
    level: Mapped[int] = mapped_column(Integer)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    started_at = mapped_column(UTCDateTime, nullable=False)
    deadline = mapped_column(UTCDateTime, nullable=False)
    # open|passed|failed|voided (ended by its member's deactivation or disqualification)
    status: Mapped[str] = mapped_column(String(16), default="open")
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    correct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    questions: Mapped[list] = mapped_column(JSON)  # as shown, without the key
    key: Mapped[dict] = mapped_column(JSON)  # never leaves this service
    answers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # saved as the member answers (PUT .../answers, last write wins) while it is open; what
    # the deadline submits if the member does not (R12, R13: timed by `saved_at`)
    saved_answers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    saved_at = mapped_column(UTCDateTime, nullable=True)
    # submitted at its deadline with the saved answers, not by the member
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False,
                                                 server_default=text("false"))
    wrong_question_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # the run's score right after this attempt closed (R13), as its event carried it
    run_levels_passed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    run_total_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a regrade (R12, regrade.py): questions voided on this paper (right whatever the
    # answer), when it was last regraded, and `superseded` for an attempt at a level its
    # run had already passed once a failure before it was regraded to a pass (kept in the
    # history, not counted in R13's time, not exported as a pass)
    voided_question_ids: Mapped[list | None] = mapped_column(JSON, nullable=True)
    regraded_at = mapped_column(UTCDateTime, nullable=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False,
                                             server_default=text("false"))
    # the address the start came from, as the gateway saw it (issue 23: the review shows it;
    # None for attempts started before it was kept)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Exposure(Base):
    """R20: the questions of a level's bank a member has been shown, to flag harvesting."""

    __tablename__ = "exposures"

    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    seen: Mapped[list] = mapped_column(JSON)  # question ids
    bank_size: Mapped[int] = mapped_column(Integer)
    flagged_at = mapped_column(UTCDateTime, nullable=True)


class Flag(Base):
    """R20: suspicious play, for an administrator's review (never punished automatically)."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[str] = mapped_column(String(36), index=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # fast_pass | bank_exposure
    detail: Mapped[dict] = mapped_column(JSON)
    flagged_at = mapped_column(UTCDateTime, nullable=False)
    reviewed_at = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    review_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # the review's conclusion: cleared (nothing wrong) | upheld (the flag stands; R20's
    # disqualification is roster's, separately); None while open
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
