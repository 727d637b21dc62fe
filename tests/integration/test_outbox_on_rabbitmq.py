"""The outbox relay on RabbitMQ: a commit that emitted wakes it (no polling), it publishes the
whole batch and waits for the broker's confirms once per batch, in order; a commit that
emitted nothing wakes nothing."""
import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import Column, String, create_engine, func, select

from kernel import outbox
from kernel.db import new_base
from kernel.entrypoints import rpc
from kernel.outbox import outbox_table
from kernel.uow import UnitOfWork
from tests import infra
from tests.service.helpers import call
from tests.thin_path import wait_for

Base = new_base()
table = outbox_table(Base.metadata)


class Member(Base):
    __tablename__ = "members"
    id = Column(String(36), primary_key=True)


class RosterLike:
    name = "roster"  # its events follow roster's contract
    uow = UnitOfWork("roster", Base)

    @rpc
    def deactivate_many(self, member_ids):
        with self.uow as tx:
            for member_id in member_ids:
                tx.session.add(Member(id=member_id))
                tx.emit("member_deactivated", {"member_id": member_id})

    @rpc
    def count_members(self):
        with self.uow as tx:
            return tx.session.execute(select(func.count()).select_from(Member)).scalar()


@pytest.fixture
def amqp_uri():
    yield from infra.rabbit_vhost()


@pytest.fixture
def roster(container_factory, amqp_uri, tmp_path, monkeypatch):
    waits, relays = [], []
    real_wait, real_relay_once = outbox._Confirms.wait, outbox.Relay.relay_once

    def counted_wait(self, *args):
        waits.append(self.published)
        return real_wait(self, *args)

    def counted_relay_once(self):
        relays.append(1)
        return real_relay_once(self)

    monkeypatch.setattr(outbox._Confirms, "wait", counted_wait)
    monkeypatch.setattr(outbox.Relay, "relay_once", counted_relay_once)
    url = f"sqlite:///{tmp_path}/roster.db"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    # no safety sweep during the test: only a wake-up makes the relay look
    config = {"AMQP_URI": amqp_uri, "ROSTER_DATABASE_URL": url, "OUTBOX_POLL_SECONDS": 3600}
    container = container_factory(RosterLike, config)
    container.start()
    return container, url, waits, relays


def unsent(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)
                         .where(table.c.sent_at.is_(None))).scalar()
    engine.dispose()
    return n


def test_a_commit_wakes_the_relay_which_confirms_each_batch_once(roster, amqp_uri):
    container, url, waits, relays = roster
    ids = [f"m{i:03d}" for i in range(outbox.BATCH + 50)]
    with Connection(amqp_uri) as conn:
        queue = Queue("watch", Exchange("roster.events", type="topic", durable=True),
                      routing_key="member_deactivated", auto_delete=True)
        queue(conn.default_channel).declare()
        call(container, "deactivate_many", ids)
        wait_for(lambda: unsent(url) == 0, timeout=30, every=0.05, what="the relay")
        got = []
        while len(got) < len(ids):
            message = queue(conn.default_channel).get(no_ack=True)
            if message is None:
                eventlet.sleep(0.05)
                continue
            got.append(message.payload["data"]["member_id"])
    assert got == ids  # every event, in order
    # two batches (200, then 50), each confirmed by one wait
    assert waits == [outbox.BATCH, outbox.BATCH + 50]


def test_a_read_wakes_nothing(roster):
    container, url, waits, relays = roster
    call(container, "deactivate_many", ["m1"])
    wait_for(lambda: unsent(url) == 0, timeout=30, every=0.05, what="the relay")
    eventlet.sleep(0.1)  # let the relay settle back into its wait
    looked = len(relays)
    for _ in range(5):
        assert call(container, "count_members") == 1
    eventlet.sleep(0.1)  # a relay woken by a read would have looked by now
    assert len(relays) == looked
