"""question_bank's tables: campaigns and their levels, questions."""
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, Index
from sqlalchemy.orm import Mapped, mapped_column

from kernel.audit import audit_table
from kernel.db import UTCDateTime, new_base
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table

Base = new_base()
outbox = outbox_table(Base.metadata)
processed_events = inbox_table(Base.metadata)
audit_log = audit_table(Base.metadata)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    organisation_id: Mapped[str] = mapped_column(String(36))
    published_at = mapped_column(UTCDateTime, nullable=True)


class Level(Base):
    __tablename__ = "levels"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(200))
    opens_at = mapped_column(UTCDateTime, nullable=False)
    time_limit_s: Mapped[int] = mapped_column(Integer)
    draw_count: Mapped[int] = mapped_column(Integer, default=20)
    mix: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # bumped on every change to the level's active questions: draws cache the bank by it
    bank_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_draw", "campaign_id", "level", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    level: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON)
    answer: Mapped[list] = mapped_column(JSON)  # 0-based indices into options (judge: 对=0)
    explanation: Mapped[str] = mapped_column(Text, default="")
    difficulty: Mapped[str] = mapped_column(String(16), default="medium")
    topic: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, nullable=False)
    updated_at = mapped_column(UTCDateTime, nullable=True)
    retired_at = mapped_column(UTCDateTime, nullable=True)
    # a voided question (R12, docs/decisions.md "Issue 18 — regrade") is retired and counts
    # as right on every paper that drew it once attempts regrades them
    voided_at = mapped_column(UTCDateTime, nullable=True)


class QuestionStat(Base):
    """R10, in the manner of Moodle's quiz statistics: running sums over graded attempts
    from which facility and discrimination are computed (x = this item right, 0/1;
    y = the rest of the paper right)."""
    __tablename__ = "question_stats"

    question_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36))
    level: Mapped[int] = mapped_column(Integer)
    shown: Mapped[int] = mapped_column(Integer, default=0)  # every paper, graded or expired
    graded: Mapped[int] = mapped_column(Integer, default=0)
    right: Mapped[int] = mapped_column(Integer, default=0)  # Σx
    sum_rest: Mapped[int] = mapped_column(Integer, default=0)  # Σy
    sum_rest_sq: Mapped[int] = mapped_column(Integer, default=0)  # Σy²
    sum_right_rest: Mapped[int] = mapped_column(Integer, default=0)  # Σxy


class LevelMemberStat(Base):
    """Per member and level: attempts, and how many it took to pass the first time."""
    __tablename__ = "level_member_stats"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    attempts_to_first_pass: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expired: Mapped[int] = mapped_column(Integer, default=0)
