"""The audit log: every administrator's change, written in the same transaction as the change.

Each service keeps its own `audit_log` table (a service never writes another's tables); the
gateway's `/api/v1/admin/audit` merges what the services return by time. A row names who
acted, what they did, to what, inside which part of the organisation tree (so a unit
administrator reads only their own subtree's entries), and the details as JSON.
"""
from __future__ import annotations

import json

from marshmallow import RAISE, Schema, fields
from sqlalchemy import Column, Index, Integer, String, Table, Text, func, select

from kernel import clock as clocks
from kernel.db import UTCDateTime

SYSTEM_ACTOR = "system"  # the platform itself, or an operator's shell (no member)


def audit_table(metadata) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime, nullable=False),
        Column("actor_id", String(36), nullable=False),
        Column("action", String(64), nullable=False),
        Column("target", String(100), nullable=True),
        Column("scope_id", String(36), nullable=True),
        Column("detail", Text, nullable=False),
        Index("ix_audit_log_at", "at"),
    )


def record(session, action: str, *, actor: str | None, target: str | None = None,
           scope_id: str | None = None, detail: dict | None = None) -> None:
    """Add one entry to the session's transaction (committed, or not, with the change)."""
    table = session.info["metadata"].tables["audit_log"]
    session.execute(table.insert().values(
        at=clocks.current().now(), actor_id=actor or SYSTEM_ACTOR, action=action,
        target=target, scope_id=scope_id,
        detail=json.dumps(detail or {}, ensure_ascii=False, default=str, sort_keys=True)))


def read(session, *, scopes: list[str] | None, limit: int = 50, offset: int = 0,
         service: str = "") -> dict:
    """Newest first. `scopes=None` reads everything; a list keeps entries inside those
    subtrees' ids (the caller expands a subtree into its ids) and the unscoped ones out."""
    table = session.info["metadata"].tables["audit_log"]
    stmt = select(table)
    if scopes is not None:
        stmt = stmt.where(table.c.scope_id.in_(scopes))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(table.c.at.desc(), table.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return {"total": total, "items": [{
        "service": service, "id": row.id, "at": row.at.isoformat(), "actor_id": row.actor_id,
        "action": row.action, "target": row.target, "scope_id": row.scope_id,
        "detail": json.loads(row.detail)} for row in rows]}


class AuditLogIn(Schema):
    """A service's `audit_log` RPC arguments: entries inside `visible` org units (None:
    all), newest first, a window of the gateway's merged list."""

    class Meta:
        unknown = RAISE

    visible = fields.List(fields.Str(), load_default=None, allow_none=True)
    limit = fields.Int(load_default=50)
    offset = fields.Int(load_default=0)


class AuditEntryOut(Schema):
    service = fields.Str()
    id = fields.Int()
    at = fields.Str()  # isoformat, as `read` writes it
    actor_id = fields.Str()
    action = fields.Str()
    target = fields.Str(allow_none=True)
    scope_id = fields.Str(allow_none=True)
    detail = fields.Raw()


class AuditPageOut(Schema):
    """What `read` answers, as an RPC result schema (`@rpc(result=audit.AuditPageOut)`)."""
    total = fields.Int()
    items = fields.List(fields.Nested(AuditEntryOut))
