"""kernel/batching.py on RabbitMQ and on the embedded bus: events handled in batches (one
transaction each, acked after the commit), a poison event in a batch dead-lettered alone
while the rest are applied once, a batch that fails transiently applied once later."""
import pytest
from nameko.standalone.events import event_dispatcher
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError

from kernel import bus, clock, events
from kernel.batching import batch_handler, handles_batch_once
from kernel.uow import UnitOfWork
from tests.integration.test_dead_letters import Applied, Base, only_dead_letter
from tests.thin_path import wait_for

BATCHES: dict = {}
FAILED_ONCE: set = set()


def consumer_class(name):
    class Consumer:
        @batch_handler("roster", "member_deactivated")
        @handles_batch_once
        def on_deactivated(self, tx, events):
            BATCHES.setdefault(name, []).append(len(events))
            for event in events:
                member_id = event["data"]["member_id"]
                if member_id == "poison":
                    raise ValueError("this handler cannot apply that event")
                if member_id == "flaky" and name not in FAILED_ONCE:
                    FAILED_ONCE.add(name)  # the whole batch: the database went away
                    raise OperationalError("SELECT 1", {}, ConnectionError("restarting"))
                tx.session.add(Applied(member_id=member_id))

    Consumer.name = name
    Consumer.uow = UnitOfWork(name, Base)
    return Consumer


def start(container_factory, tmp_path, name, uri, **knobs):
    db_url = f"sqlite:///{tmp_path}/{name}.db"
    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    config = {"AMQP_URI": uri, f"{name.upper()}_DATABASE_URL": db_url,
              "EVENT_RETRY_SECONDS": 0.2, "EVENT_BATCH_SIZE": 50, "EVENT_BATCH_WAIT_MS": 200,
              **knobs}
    container = container_factory(consumer_class(name), config)
    container.start()

    def applied():
        with engine.connect() as conn:
            return sorted(r.member_id for r in conn.execute(select(Applied)).all())

    applied.container = container
    return config, applied


def send(config, members):
    dispatch = event_dispatcher(config)
    now = clock.current().now()
    bodies = [events.build("roster", "member_deactivated", {"member_id": m}, now)
              for m in members]
    for body in bodies:
        dispatch("roster", "member_deactivated", body)
    return bodies


@pytest.mark.parametrize("bus_kind", ["rabbitmq", "embedded"])
def test_events_are_applied_in_batches_each_once(container_factory, amqp_vhost_uri, tmp_path,
                                                 bus_kind):
    name = f"batching_{bus_kind}"
    if bus_kind == "embedded":
        bus.install()
        bus.reset()
    uri = amqp_vhost_uri if bus_kind == "rabbitmq" else bus.EMBEDDED_URI
    config, applied = start(container_factory, tmp_path, name, uri)
    members = [f"m{i:03d}" for i in range(120)]
    bodies = send(config, members)
    send(config, ["m000", "m001"])  # other events, same members: applied too
    dispatch = event_dispatcher(config)
    dispatch("roster", "member_deactivated", bodies[5])  # a redelivery: applied once
    wait_for(lambda: len(applied()) == 122, timeout=20, what="122 events applied")
    assert applied() == sorted(members + ["m000", "m001"])
    assert sum(BATCHES[name]) == 122  # every event once (the handler sees no redelivery)
    assert len(BATCHES[name]) < 122 / 5  # in batches (up to 50, or 200 ms's worth)


def test_a_poison_event_is_dead_lettered_alone_and_a_transient_batch_retried(
        container_factory, amqp_vhost_uri, tmp_path):
    name = "batching_poison"
    config, applied = start(container_factory, tmp_path, name, amqp_vhost_uri)
    bodies = send(config, ["a", "flaky", "b", "poison", "c"])
    wait_for(lambda: applied() == ["a", "b", "c", "flaky"], timeout=20,
             what="every event but the poison applied")
    body = only_dead_letter(amqp_vhost_uri,
                            f"dead.evt-roster-member_deactivated--{name}.on_deactivated")
    assert body["event_id"] == bodies[3]["event_id"]
    assert applied() == ["a", "b", "c", "flaky"]  # each once


def test_a_batch_still_waiting_is_applied_when_the_service_stops(container_factory, tmp_path):
    """Events waiting for more to fill their batch are handled before the container stops
    (not left unacknowledged until the broker hands them to another replica)."""
    bus.install()
    bus.reset()
    name = "batching_stop"
    config, applied = start(container_factory, tmp_path, name, bus.EMBEDDED_URI,
                            EVENT_BATCH_WAIT_MS=600_000)
    send(config, ["x", "y", "z"])
    [handler] = applied.container.entrypoints
    wait_for(lambda: len(handler.pending) == 3, timeout=10, what="a batch waiting")
    assert applied() == []
    applied.container.stop()
    assert applied() == ["x", "y", "z"]
