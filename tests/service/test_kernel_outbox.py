"""The outbox and the inbox: an event leaves with its transaction, or not at all; a
redelivered event is applied once."""
import eventlet
import pytest

from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import Column, Integer, String, create_engine, select

from kernel import events
from kernel.db import new_base
from kernel.entrypoints import event_handler, rpc
from kernel.errors import Conflict
from kernel.inbox import inbox_table
from kernel.outbox import Relay, outbox_table
from kernel.uow import UnitOfWork, handles_once
from tests.service.helpers import call

ProducerBase = new_base()
producer_outbox = outbox_table(ProducerBase.metadata)
producer_inbox = inbox_table(ProducerBase.metadata)


class Member(ProducerBase):
    __tablename__ = "members"
    id = Column(String(36), primary_key=True)


class RosterLike:
    """Speaks as `roster` so that its events follow roster's contract."""

    name = "roster"
    uow = UnitOfWork("roster", ProducerBase)

    @rpc
    def deactivate(self, member_id, fail_after_emit=False):
        with self.uow as tx:
            tx.session.add(Member(id=member_id))
            tx.emit("member_deactivated", {"member_id": member_id})
            if fail_after_emit:
                raise Conflict("changed my mind")


ConsumerBase = new_base()
inbox_table(ConsumerBase.metadata)


class Seen(ConsumerBase):
    __tablename__ = "seen"
    id = Column(Integer, primary_key=True, autoincrement=True)
    member_id = Column(String(36))


class Consumer:
    name = "consumer"
    uow = UnitOfWork("consumer", ConsumerBase)

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_deactivated(self, tx, event):
        tx.session.add(Seen(member_id=event["data"]["member_id"]))


@pytest.fixture
def pair(container_factory, sqlite_config, tmp_path):
    config = dict(sqlite_config, CONSUMER_DATABASE_URL=f"sqlite:///{tmp_path}/consumer.db")
    for base, name in ((ProducerBase, "roster"), (ConsumerBase, "consumer")):
        engine = create_engine(config[f"{name.upper()}_DATABASE_URL"])
        base.metadata.create_all(engine)
        engine.dispose()
    producer = container_factory(RosterLike, config)
    consumer = container_factory(Consumer, config)
    producer.start()
    consumer.start()
    return producer, consumer, config


def rows(config, name, table):
    engine = create_engine(config[f"{name.upper()}_DATABASE_URL"])
    with engine.connect() as conn:
        out = conn.execute(select(table)).all()
    engine.dispose()
    return out


def test_event_is_published_marked_sent_and_applied_once(pair):
    producer, consumer, config = pair
    with entrypoint_waiter(consumer, "on_deactivated", timeout=5):
        call(producer, "deactivate", "m1")
    [row] = rows(config, "roster", producer_outbox)
    assert row.type == "member_deactivated"
    for _ in range(50):  # the relay marks the row after the broker took it
        if rows(config, "roster", producer_outbox)[0].sent_at is not None:
            break
        eventlet.sleep(0.02)
    assert rows(config, "roster", producer_outbox)[0].sent_at is not None
    assert [r.member_id for r in rows(config, "consumer", Seen.__table__)] == ["m1"]


def test_redelivered_event_is_applied_once(pair):
    producer, consumer, config = pair
    body = events.build("roster", "member_deactivated", {"member_id": "m2"},
                        events_now())
    dispatch = event_dispatcher(config)
    for _ in range(3):
        with entrypoint_waiter(consumer, "on_deactivated", timeout=5):
            dispatch("roster", "member_deactivated", body)
    assert [r.member_id for r in rows(config, "consumer", Seen.__table__)] == ["m2"]


def test_rolled_back_method_publishes_nothing(pair):
    producer, consumer, config = pair
    with pytest.raises(Conflict):
        call(producer, "deactivate", "m3", fail_after_emit=True)
    eventlet.sleep(0.2)
    assert rows(config, "roster", producer_outbox) == []
    assert rows(config, "roster", Member.__table__) == []
    assert rows(config, "consumer", Seen.__table__) == []


def events_now():
    from kernel import clock
    return clock.current().now()



def test_retention_forgets_old_sent_events_and_applied_ids_but_never_unsent(
        pair, fake_clock):
    from datetime import timedelta

    producer, _, config = pair
    producer.stop()  # no relay running: the rows below stay as written
    relay = next(d for d in producer.subextensions if isinstance(d, Relay))
    now = fake_clock.now()
    engine = create_engine(config["ROSTER_DATABASE_URL"])
    with engine.begin() as conn:
        # sent rows are kept OUTBOX_KEEP_DAYS (400 by default: a campaign, for replays)
        for event_id, sent_days_ago in (("old", 401), ("recent", 399), ("unsent", None)):
            conn.execute(producer_outbox.insert().values(
                event_id=event_id, type="member_deactivated", body="{}",
                created_at=now - timedelta(days=500),
                sent_at=None if sent_days_ago is None else now - timedelta(days=sent_days_ago)))
        for event_id, days_ago in (("applied-long-ago", 31), ("applied-lately", 29)):
            conn.execute(producer_inbox.insert().values(
                event_id=event_id, consumer="c", processed_at=now - timedelta(days=days_ago)))
    engine.dispose()
    assert relay.sweep(now) == (1, 1)
    assert sorted(r.event_id for r in rows(config, "roster", producer_outbox)) == [
        "recent", "unsent"]
    assert [r.event_id for r in rows(config, "roster", producer_inbox)] == ["applied-lately"]
