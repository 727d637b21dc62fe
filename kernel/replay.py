"""Replay: a late subscriber gets the events it missed, from the producer's outbox.

A producer keeps the rows it has sent for `OUTBOX_KEEP_DAYS` (kernel/outbox.py). A replay
publishes those since a time (optionally of one type), in the order they were first sent,
with their original body and `event_id`, straight into the subscriber's queue (the default
exchange, routing key = the queue): only that subscriber receives them, and it dedupes on
`event_id` what it already had. Our own consumers' queues are never the target, so events
older than our inbox's memory (`INBOX_KEEP_DAYS`) are never applied twice by us.

Reached by `challenge events replay` (which reads the outbox with the service's engine) and
by the administrators' `POST /api/v1/admin/events/replay` (an RPC on the producer,
`entrypoints.Answers.replay_events`, which runs `Relay.replay`).
"""
from __future__ import annotations

from kombu import Connection, Producer
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from kernel import events
from kernel.errors import BadInput, NotFound


class ReplayIn(Schema):
    """The arguments of every service's `replay_events` RPC."""

    class Meta:
        unknown = RAISE

    since = fields.AwareDateTime(required=True)
    queue = fields.Str(required=True, validate=validate.Length(min=1, max=255))
    type = fields.Str(load_default=None, validate=validate.Length(min=1, max=64))
    dry_run = fields.Bool(load_default=False)


class ReplayOut(Schema):
    replayed = fields.Int(required=True)


# nameko's and our queues: event handlers (evt-…), their dead letters (dead.…), RPC requests
# and replies. A replay into one of them would reach our own consumers, which remember the
# events they applied only INBOX_KEEP_DAYS: an older event would be applied twice.
OUR_QUEUES = ("evt-", "dead.", "rpc-", "rpc.reply-")


def check_target(queue: str) -> None:
    """A replay goes to an agency's queue only, never to one of the platform's own."""
    if queue.startswith(OUR_QUEUES):
        raise BadInput(f"{queue} is one of the platform's own queues: a replay goes to an "
                       "agency's queue only", fields={"queue": "one of the platform's own"},
                       reason="queue_is_ours")


def check_type(service: str, type_) -> None:
    if type_ and (service, type_) not in events.EVENTS:
        raise BadInput(f"{service} publishes no event {type_!r}",
                       fields={"type": "not an event of this producer"},
                       reason="unknown_event_type")


def retained(session, table, since, type_=None) -> list:
    """The sent events since `since` (by when they occurred: their row's creation), oldest
    first; of one type when `type_` is given."""
    query = (select(table.c.id, table.c.event_id, table.c.type, table.c.body)
             .where(table.c.sent_at.is_not(None), table.c.created_at >= since)
             .order_by(table.c.id))
    if type_:
        query = query.where(table.c.type == type_)
    return session.execute(query).all()


def republish(amqp_uri: str, service: str, rows, queue: str) -> None:
    """Publish `rows` in order into `queue`, each confirmed by the broker; refused (NotFound)
    when the queue does not exist, since the default exchange would drop them silently."""
    from kernel.outbox import properties

    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        if not _queue_exists(conn, queue):
            raise NotFound(f"no queue named {queue}: declare and bind it first",
                           fields={"queue": "not found"}, reason="queue_not_found")
        producer = Producer(conn.channel())
        for row in rows:
            producer.publish(row.body, exchange="", routing_key=queue, retry=True,
                             **properties(service, row))


def _queue_exists(conn, queue: str) -> bool:
    if conn.transport.driver_type == "memory":  # the embedded bus: kombu makes it on demand
        return True
    channel = conn.channel()
    try:
        channel.queue_declare(queue=queue, passive=True)
        return True
    except Exception:  # noqa: BLE001 - the broker closes the channel on a missing queue
        return False
    finally:
        try:
            channel.close()
        except Exception:  # noqa: BLE001 - already closed by the broker
            pass
