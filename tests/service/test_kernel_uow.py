"""The unit of work (kernel/uow.py): a `with self.uow as tx` block commits its writes and its
events together or neither; a handler applies an event once; calling another service inside
a transaction is refused; RPC arguments and results cross through their declared schemas."""
import eventlet
import pytest
from marshmallow import RAISE, Schema, fields
from nameko.exceptions import IncorrectSignature
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import Column, Integer, String, create_engine, select

from kernel import clock, events
from kernel.db import new_base
from kernel.entrypoints import event_handler, rpc
from kernel.errors import BadInput, Conflict
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table
from kernel.rpc import TimedRpcProxy
from kernel.uow import TransactionOpen, UnitOfWork, handles_once
from tests.service.helpers import call

Base = new_base()
outbox = outbox_table(Base.metadata)
inbox_table(Base.metadata)


class Member(Base):
    __tablename__ = "members"
    id = Column(String(36), primary_key=True)


class Seen(Base):
    __tablename__ = "seen"
    id = Column(Integer, primary_key=True, autoincrement=True)
    member_id = Column(String(36))


class Store:
    """Named queries over the session, as services/<name>/store.py are."""

    def __init__(self, session):
        self.session = session

    def member_ids(self) -> list[str]:
        return list(self.session.scalars(select(Member.id).order_by(Member.id)))


class DeactivateIn(Schema):
    class Meta:
        unknown = RAISE

    member_id = fields.String(required=True, validate=lambda v: len(v) <= 36)
    fail_after_emit = fields.Boolean(load_default=False)


class MembersOut(Schema):
    members = fields.List(fields.String())


class RosterLike:
    """Speaks as `roster` so that its events follow roster's contract."""

    name = "roster"
    uow = UnitOfWork("roster", Base, store=Store)
    other = TimedRpcProxy("roster")

    @rpc(args=DeactivateIn, result=MembersOut)
    def deactivate(self, member_id, fail_after_emit):
        with self.uow as tx:
            tx.session.add(Member(id=member_id))
            tx.emit("member_deactivated", {"member_id": member_id})
            if fail_after_emit:
                raise Conflict("changed my mind")
        with self.uow as tx:
            return {"members": tx.store.member_ids(), "ignored": "not in the schema"}

    @rpc
    def call_out_inside(self):
        with self.uow:
            self.other.ping()

    @rpc
    def ping(self):
        return "pong"

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_deactivated(self, tx, event):
        tx.session.add(Seen(member_id=event["data"]["member_id"]))


@pytest.fixture
def service(container_factory, sqlite_config):
    engine = create_engine(sqlite_config["ROSTER_DATABASE_URL"])
    Base.metadata.create_all(engine)
    engine.dispose()
    container = container_factory(RosterLike, sqlite_config)
    container.start()
    return container, sqlite_config


def rows(config, table):
    engine = create_engine(config["ROSTER_DATABASE_URL"])
    with engine.connect() as conn:
        out = conn.execute(select(table)).all()
    engine.dispose()
    return out


def test_writes_and_events_commit_together_and_the_relay_publishes_them(service):
    container, config = service
    with entrypoint_waiter(container, "on_deactivated", timeout=5):
        assert call(container, "deactivate", "m1") == {"members": ["m1"]}
    [row] = rows(config, outbox)
    assert row.type == "member_deactivated"
    for _ in range(100):
        if rows(config, outbox)[0].sent_at is not None:
            break
        eventlet.sleep(0.02)
    assert rows(config, outbox)[0].sent_at is not None
    assert [r.member_id for r in rows(config, Seen.__table__)] == ["m1"]


def test_an_error_in_the_block_rolls_back_the_writes_and_the_events(service):
    container, config = service
    with pytest.raises(Conflict):
        call(container, "deactivate", "m2", fail_after_emit=True)
    eventlet.sleep(0.1)
    assert rows(config, outbox) == [] and rows(config, Member.__table__) == []
    assert rows(config, Seen.__table__) == []


def test_an_event_is_applied_once_however_often_it_comes(service):
    container, config = service
    body = events.build("roster", "member_deactivated", {"member_id": "m3"},
                        clock.current().now())
    dispatch = event_dispatcher(config)
    for _ in range(3):
        with entrypoint_waiter(container, "on_deactivated", timeout=5):
            dispatch("roster", "member_deactivated", body)
    assert [r.member_id for r in rows(config, Seen.__table__)] == ["m3"]


def test_calling_another_service_inside_a_transaction_is_refused(service):
    container, _ = service
    with pytest.raises(TransactionOpen):
        call(container, "call_out_inside")


def test_declared_arguments_are_loaded_and_named_when_bad(service):
    container, config = service
    with pytest.raises(BadInput) as bad:
        call(container, "deactivate", "x" * 40)
    assert "member_id" in bad.value.fields
    with pytest.raises(BadInput) as bad:
        call(container, "deactivate", "m4", colour="red")
    assert "colour" in bad.value.fields
    with pytest.raises(BadInput) as bad:
        call(container, "deactivate")
    assert "member_id" in bad.value.fields
    with pytest.raises(IncorrectSignature):
        call(container, "deactivate", "m4", True, "one too many")
    assert rows(config, Member.__table__) == []
