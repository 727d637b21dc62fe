"""Idempotent event handling: each (event_id, consumer) is applied once.

`@handles_once` wraps a nameko event handler: it validates the envelope, claims the event id
for this handler in `processed_events` first (a replica that already applied it fails that
insert: a duplicate, skipped), runs the handler in the same transaction and commits. If the
handler's own writes collide with a concurrent worker's (two passes of one member at once),
the whole transaction is rolled back and run again, so no event is dropped for a race.
"""
from __future__ import annotations

import functools
import logging

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, select
from sqlalchemy.exc import IntegrityError, OperationalError

from kernel import clock as clocks
from kernel import events as contract
from kernel.db import UTCDateTime

log = logging.getLogger(__name__)

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


def handles_once(fn):
    consumer = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, body):
        envelope = contract.parse(body)
        session = self.db
        table = session.info["metadata"].tables["processed_events"]
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if not _claim(session, table, envelope["event_id"], consumer):
                    session.rollback()
                    log.info("%s: event %s already applied", consumer, envelope["event_id"])
                    return
                fn(self, envelope)
                session.commit()
                return
            except (IntegrityError, OperationalError):
                session.rollback()
                if attempt == ATTEMPTS:
                    raise
                log.warning("%s: event %s collided with a concurrent write; again (%d)",
                            consumer, envelope["event_id"], attempt)

    return wrapper
