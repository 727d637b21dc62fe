"""awards' unit of work over an in-memory SQLite database, for tests that run in milliseconds:
the real `kernel.uow` Work and Transaction (commit on leaving the block, rollback on error or
`discard`, the outbox rows, `handles_once`), without a container."""
import json

from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from kernel.uow import UnitOfWork
from services.awards.models import Base, outbox
from services.awards.store import AwardsStore


class Worker:
    """Stands for nameko's worker context (the unit of work keys open transactions by it)."""


def awards_work():
    """A `Work` (what `self.uow` is in a worker) over a fresh in-memory database."""
    engine = create_engine("sqlite://", poolclass=StaticPool)  # one database for all sessions
    Base.metadata.create_all(engine)
    provider = UnitOfWork("awards", Base, store=AwardsStore)
    provider.engine = engine
    return provider.get_dependency(Worker())


def committed_events(work, type_=None) -> list[dict]:
    """The events committed to the outbox so far (of `type_`), oldest first."""
    with work as tx:
        bodies = tx.session.scalars(select(outbox.c.body).order_by(outbox.c.id))
        events = [json.loads(body) for body in bodies]
    return [e for e in events if type_ is None or e["type"] == type_]
