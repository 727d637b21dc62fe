"""On RabbitMQ: an event whose handler fails for good lands in its dead-letter queue (and
the handler goes on with the next events); a transient failure is retried, not lost."""
import json

import pytest
from kombu import Connection
from nameko.standalone.events import event_dispatcher
from sqlalchemy import Column, Integer, String, create_engine, select
from sqlalchemy.exc import OperationalError

from kernel import clock, events
from kernel.db import new_base
from kernel.entrypoints import event_handler
from kernel.inbox import inbox_table
from kernel.uow import UnitOfWork, handles_once
from tests.thin_path import wait_for

Base = new_base()
inbox_table(Base.metadata)


class Applied(Base):
    __tablename__ = "applied"
    id = Column(Integer, primary_key=True, autoincrement=True)
    member_id = Column(String(36))


FAILED_ONCE = set()


def consumer_class(name):
    class Consumer:
        @event_handler("roster", "member_deactivated")
        @handles_once
        def on_deactivated(self, tx, event):
            member_id = event["data"]["member_id"]
            if member_id == "poison":
                raise ValueError("this handler cannot apply that event")
            if member_id == "flaky" and name not in FAILED_ONCE:
                FAILED_ONCE.add(name)
                raise OperationalError("SELECT 1", {}, Exception("database restarting"))
            tx.session.add(Applied(member_id=member_id))

    Consumer.name = name
    Consumer.uow = UnitOfWork(name, Base)
    return Consumer


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_poison_goes_to_dead_letters_and_transient_failures_are_retried(
        container_factory, amqp_vhost_uri, tmp_path, queue_type):
    name = f"deadletter_{queue_type}"
    db_url = f"sqlite:///{tmp_path}/{name}.db"
    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    config = {"AMQP_URI": amqp_vhost_uri, f"{name.upper()}_DATABASE_URL": db_url,
              "EVENT_QUEUE_TYPE": queue_type, "EVENT_RETRY_SECONDS": 0.2}
    container = container_factory(consumer_class(name), config)
    container.start()

    dispatch = event_dispatcher(config)
    now = clock.current().now()
    bodies = {m: events.build("roster", "member_deactivated", {"member_id": m}, now)
              for m in ("poison", "flaky", "good")}
    for body in bodies.values():
        dispatch("roster", "member_deactivated", body)

    def applied():
        with engine.connect() as conn:
            return sorted(r.member_id for r in conn.execute(select(Applied)).all())

    wait_for(lambda: applied() == ["flaky", "good"], timeout=20,
             what="the good and the flaky event to be applied")
    body = only_dead_letter(amqp_vhost_uri,
                            f"dead.evt-roster-member_deactivated--{name}.on_deactivated")
    assert body["event_id"] == bodies["poison"]["event_id"]
    assert applied() == ["flaky", "good"]  # each once
    engine.dispose()


def only_dead_letter(uri, dead_queue):
    """The body of the one message in `dead_queue` (taken off it)."""
    with Connection(uri) as conn:
        queue = conn.SimpleQueue(dead_queue)
        message = queue.get(block=True, timeout=10)
        body = message.payload if isinstance(message.payload, dict) else json.loads(message.body)
        message.ack()
        assert queue.qsize() == 0
    return body
