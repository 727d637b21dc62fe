"""Idempotent event handling: each (event_id, consumer) is applied once.

The table of applied event ids and the claim; `kernel.uow.handles_once` wraps a handler
with them: it claims the event id for the handler in `processed_events` first (a replica
that already applied it fails that insert: a duplicate, skipped), runs the handler in the
same transaction and commits. If the handler's own writes collide with a concurrent
worker's (two passes of one member at once), the whole transaction is rolled back and run
again, so no event is dropped for a race.
"""
from __future__ import annotations

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, select

from kernel import clock as clocks
from kernel.db import UTCDateTime

ATTEMPTS = 5


def inbox_table(metadata) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), nullable=False),
        Column("consumer", String(100), nullable=False),
        Column("processed_at", UTCDateTime, nullable=False),
        PrimaryKeyConstraint("event_id", "consumer"),
    )


def _claim(session, table, event_id, consumer) -> bool:
    """Insert the marker; False when this handler has applied the event already."""
    if session.execute(select(table.c.event_id).where(
            table.c.event_id == event_id, table.c.consumer == consumer)).first():
        return False
    # a concurrent worker claiming the same event makes this insert fail: the retry in
    # `handles_once` then finds its marker and skips
    session.execute(table.insert().values(
        event_id=event_id, consumer=consumer, processed_at=clocks.current().now()))
    return True
