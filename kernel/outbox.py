"""Transactional outbox: events leave with the transaction that caused them.

A use case calls `tx.emit("attempt_passed", data)` (kernel/uow.py); the row is written in
the unit of work's transaction and commits with its other writes, or not at all. A relay
greenthread in each container publishes unsent rows, in order, to the service's topic
exchange `<service>.events` (routing key = event type) with publisher confirms, and marks
them sent. A crash between publish and mark publishes the row again on restart: consumers
dedupe on `event_id` (kernel/inbox.py), so nothing is lost and nothing is doubled.

The relay declares the exchange when the container starts, before anything is sent: a
subscriber binds to it (a read-only agency user may not declare it) and a message published
to an exchange nobody has bound yet is dropped by the broker. Sent rows are kept
`OUTBOX_KEEP_DAYS` (a campaign's length by default) so they can be replayed to a late
subscriber (kernel/replay.py).

The relay does not poll. A commit that emitted wakes its own service's relay (kernel/uow.py),
which publishes the whole batch and waits for the broker's confirms once (a round trip per
batch, not per event); a commit that emitted nothing (a read, most workers) wakes nothing.
Otherwise the relay looks for unsent rows every `OUTBOX_POLL_SECONDS` (5 s by default): a
safety sweep for rows nobody woke it for (another replica that died before its relay ran, a
publish that failed while the broker was away).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

import eventlet
from eventlet.event import Event
from kombu import Connection
from kombu.messaging import Producer
from nameko.amqp.publish import DEFAULT_TRANSPORT_OPTIONS
from nameko.events import get_event_exchange
from nameko.extensions import Extension
from datetime import timedelta

from sqlalchemy import (
    BigInteger, Column, Index, Integer, String, Table, Text, delete, select, update,
)

from kernel import clock as clocks
from kernel.db import Database, UTCDateTime
from kernel.knobs import knob

log = logging.getLogger(__name__)

BATCH = 200
SWEEP_EVERY_S = 3600
CONFIRM_TIMEOUT_S = 10.0  # the broker's confirms of a batch; past it the batch goes again
RETRY_FIRST_S = 0.1  # a failed relay tries again after this, doubling to RETRY_MAX_S
RETRY_MAX_S = 5.0


def outbox_table(metadata) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(64), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("sent_at", UTCDateTime, nullable=True),
        Index("ix_outbox_unsent", "sent_at", "id"),
    )


class Relay(Extension):
    """Publishes this service's unsent outbox rows, in order, and forgets old ones.

    A sub-extension of `kernel.uow.UnitOfWork`, which writes the rows: set up, started and
    stopped with the container; `wake()` after a commit publishes at once instead of at the
    next poll."""

    def __init__(self):
        self._wake = None
        self._relay_thread = None
        self._conn = None
        self._confirms = None
        self.running = False

    @property
    def service(self) -> str:
        return self.container.service_name

    def setup(self):
        self.database = next(
            d for d in self.container.dependencies if isinstance(d, Database)
        )
        self.table = self.database.base.metadata.tables.get("outbox")  # None: emits nothing
        self.amqp_uri = self.container.config["AMQP_URI"]
        config = self.container.config
        self.poll = knob(config, "OUTBOX_POLL_SECONDS")
        # sent events are kept a while for inspection; event ids a consumer has applied are
        # kept long enough to recognise any redelivery or replay of a dead letter
        self.keep_sent = timedelta(days=knob(config, "OUTBOX_KEEP_DAYS"))
        self.keep_applied = timedelta(days=knob(config, "INBOX_KEEP_DAYS"))
        self._last_sweep = None
        self.exchange = get_event_exchange(self.service, self.container.config)
        self._wake = Event()

    def start(self):
        if self.table is None:
            return
        self.running = True
        try:  # the exchange exists from the start; a broker briefly away: the relay's loop
            self._producer()  # declares it once it reconnects
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: cannot declare %s yet (%s); the relay will", self.service,
                        self.exchange.name, exc)
            self._close()
        self._relay_thread = self.container.spawn_managed_thread(
            self._relay_forever, identifier=f"{self.service}.outbox_relay"
        )

    def stop(self):
        """Let the relay finish the batch it is publishing, then close."""
        self.running = False
        self.wake()
        thread, self._relay_thread = self._relay_thread, None
        if thread is not None:
            with eventlet.Timeout(5, False):
                thread.wait()
            thread.kill()
        self._close()

    def kill(self):
        self.stop()

    def wake(self):
        if self._wake is not None and not self._wake.ready():
            self._wake.send(True)

    # the relay -----------------------------------------------------------------------

    def _relay_forever(self):
        backoff = RETRY_FIRST_S
        while self.running:
            try:
                self._producer()  # (re)declares the exchange, even with nothing to send
                while self.relay_once() == BATCH:
                    pass
                self._sweep_now_and_then()
                backoff = RETRY_FIRST_S
            except Exception:  # broker or database away: keep the rows, try again
                log.warning("%s outbox relay failed; retrying in %.1fs",
                            self.service, backoff, exc_info=True)
                self._close()
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)
                continue
            with eventlet.Timeout(self.poll, False):
                self._wake.wait()
            self._wake = Event()

    def _producer(self):
        if self._conn is None:
            self._conn = Connection(self.amqp_uri,
                                    transport_options=dict(DEFAULT_TRANSPORT_OPTIONS))
            self._conn.ensure_connection(max_retries=1)
            channel = self._conn.channel()
            # RabbitMQ confirms what it has taken; the in-memory bus (embedded) has no
            # confirms, and takes a message as it is put
            self._confirms = (_Confirms(channel) if self._conn.transport.driver_type == "amqp"
                              else None)
            self._producer_obj = Producer(channel)
            # bind a copy to this channel: `maybe_bind` would keep the exchange bound to the
            # channel of a connection closed after a failure, and every retry would fail
            self.exchange.bind(self._producer_obj.channel).declare()
        return self._producer_obj

    def _close(self):
        self._confirms = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.release()
            except Exception:
                pass

    def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were sent."""
        with self.database.session() as session:
            rows = session.execute(
                select(self.table.c.id, self.table.c.event_id, self.table.c.type,
                       self.table.c.body)
                .where(self.table.c.sent_at.is_(None))
                .order_by(self.table.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                session.rollback()
                return 0
            producer = self._producer()
            for row in rows:
                producer.publish(row.body, exchange=self.exchange, routing_key=row.type,
                                 retry=False, **properties(self.service, row))
                if self._confirms is not None:
                    self._confirms.published += 1
            if self._confirms is not None:  # all of the batch, in one wait
                self._confirms.wait(self._conn, CONFIRM_TIMEOUT_S)
            session.execute(
                update(self.table)
                .where(self.table.c.id.in_([r.id for r in rows]))
                .values(sent_at=clocks.current().now())
            )
            session.commit()
            return len(rows)

    def replay(self, since, queue, type_=None, dry_run=False) -> int:
        """Republish this service's retained events since `since` into `queue` (kernel/replay.py)."""
        from kernel import replay

        replay.check_type(self.service, type_)
        replay.check_target(queue)
        if self.table is None:
            return 0
        with self.database.session() as session:
            rows = replay.retained(session, self.table, since, type_)
        if not dry_run:
            replay.republish(self.amqp_uri, self.service, rows, queue)
        return len(rows)

    # retention ---------------------------------------------------------------------------

    def _sweep_now_and_then(self):
        now = clocks.current().now()
        if self._last_sweep is None or (now - self._last_sweep).total_seconds() > SWEEP_EVERY_S:
            self._last_sweep = now
            self.sweep(now)

    def sweep(self, now) -> tuple[int, int]:
        """Forget sent events and applied event ids past their keeping time; never unsent ones."""
        tables = self.database.base.metadata.tables
        with self.database.session() as session:
            sent = session.execute(
                delete(self.table).where(self.table.c.sent_at.is_not(None),
                                         self.table.c.sent_at < now - self.keep_sent)
            ).rowcount
            applied = 0
            inbox = tables.get("processed_events")
            if inbox is not None:
                applied = session.execute(
                    delete(inbox).where(inbox.c.processed_at < now - self.keep_applied)
                ).rowcount
            session.commit()
        if sent or applied:
            log.info("%s: forgot %d sent events and %d applied event ids",
                     self.service, sent, applied)
        return sent, applied


class Unconfirmed(Exception):
    """The broker refused (nacked) a published event, or did not confirm it in time."""


class _Confirms:
    """Publisher confirms on a channel, counted: publish a batch, then `wait` once.

    The channel is put in confirm mode; RabbitMQ numbers what is published on it 1, 2, …
    and acknowledges by number (`multiple`: everything up to it). py-amqp's own confirm mode
    (`confirm_publish`) waits for each message's before sending the next."""

    def __init__(self, channel):
        self.channel = channel
        channel.confirm_select()
        self.published = 0
        self.confirmed = 0
        self.refused = False
        channel.events["basic_ack"].add(self._ack)
        channel.events["basic_nack"].add(self._nack)

    def _ack(self, delivery_tag, multiple):
        self.confirmed = max(self.confirmed, delivery_tag)

    def _nack(self, delivery_tag, multiple):
        self.refused = True
        self.confirmed = max(self.confirmed, delivery_tag)

    def wait(self, connection, timeout):
        """Until the broker has answered for everything published so far on the channel."""
        with eventlet.Timeout(timeout, Unconfirmed(f"no confirm within {timeout:g} s")):
            while self.confirmed < self.published:
                connection.drain_events()
        if self.refused:
            raise Unconfirmed("the broker refused an event of the batch")


def properties(service: str, row) -> dict:
    """The AMQP properties of a published event (docs/events.md): the message id is the
    event id, the type its type, the timestamp when it occurred (whole seconds), the app
    the producing service; JSON in UTF-8, persistent."""
    occurred = datetime.fromisoformat(json.loads(row.body)["occurred_at"])
    return {"message_id": row.event_id, "type": row.type,
            "timestamp": int(occurred.timestamp()), "app_id": service,
            "content_type": "application/json", "content_encoding": "utf-8",
            "delivery_mode": 2}
