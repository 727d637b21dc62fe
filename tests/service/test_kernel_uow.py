"""The unit of work (kernel/uow.py) beyond what tests/service/test_kernel_outbox.py shows
(writes and events commit together or neither, an event applied once): a dry run discards,
one transaction at a time, calling another service inside one is refused; RPC arguments
and results cross through their declared schemas."""
import pytest
from marshmallow import RAISE, Schema, fields
from nameko.exceptions import IncorrectSignature
from sqlalchemy import Column, String, create_engine, select

from kernel.db import new_base
from kernel.entrypoints import rpc
from kernel.errors import BadInput, Conflict
from kernel.inbox import inbox_table
from kernel.outbox import outbox_table
from kernel.rpc import TimedRpcProxy
from kernel.uow import TransactionOpen, UnitOfWork
from tests.service.helpers import call

Base = new_base()
outbox = outbox_table(Base.metadata)
inbox_table(Base.metadata)


class Member(Base):
    __tablename__ = "members"
    id = Column(String(36), primary_key=True)


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
    def dry_run(self, member_id):
        with self.uow as tx:
            tx.session.add(Member(id=member_id))
            tx.emit("member_deactivated", {"member_id": member_id})
            tx.discard()
            try:
                with self.uow:
                    pass
            except RuntimeError:
                return "nested refused"

    @rpc
    def call_out_inside(self):
        with self.uow:
            self.other.ping()

    @rpc
    def ping(self):
        return "pong"



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


def test_a_result_crosses_as_its_schema_dumps_it(service):
    container, config = service
    assert call(container, "deactivate", "m1") == {"members": ["m1"]}  # "ignored" is not
    assert [r.type for r in rows(config, outbox)] == ["member_deactivated"]


def test_discard_rolls_back_and_one_transaction_at_a_time(service):
    container, config = service
    assert call(container, "dry_run", "m2") == "nested refused"
    assert rows(config, Member.__table__) == [] and rows(config, outbox) == []


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
