"""Idempotent event handling: each (event_id, consumer) is applied once.

`@handles_once` wraps a nameko event handler: it validates the envelope, skips an event this
handler has already applied, runs the handler, records the event id in the same transaction
and commits. Two replicas racing on one redelivered event: the second insert hits the
primary key, rolls back, and is logged as a duplicate.
"""
from __future__ import annotations

import functools
import logging

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, select
from sqlalchemy.exc import IntegrityError

from kernel import clock as clocks
from kernel import events as contract
from kernel.db import UTCDateTime

log = logging.getLogger(__name__)


def inbox_table(metadata) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(36), nullable=False),
        Column("consumer", String(100), nullable=False),
        Column("processed_at", UTCDateTime, nullable=False),
        PrimaryKeyConstraint("event_id", "consumer"),
    )


def handles_once(fn):
    consumer = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, body):
        envelope = contract.parse(body)
        session = self.db
        table = session.info["metadata"].tables["processed_events"]
        seen = session.execute(
            select(table.c.event_id).where(
                table.c.event_id == envelope["event_id"], table.c.consumer == consumer
            )
        ).first()
        if seen:
            log.info("%s: event %s already applied", consumer, envelope["event_id"])
            session.rollback()
            return
        fn(self, envelope)
        session.execute(
            table.insert().values(
                event_id=envelope["event_id"],
                consumer=consumer,
                processed_at=clocks.current().now(),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("%s: event %s applied by another worker", consumer,
                     envelope["event_id"])

    return wrapper
