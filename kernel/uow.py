"""The unit of work: one transaction of a service, its events and its clock, in one place.

A service declares `uow = UnitOfWork("attempts", Base, store=AttemptsStore)` and writes

    with self.uow as tx:                  # a session from the service's engine
        attempt = tx.store.open_attempt(member_id)   # named queries (services/<name>/store.py)
        ...
        tx.emit("attempt_started", {...})  # the outbox: written with the transaction
    # committed here, before the method returns (so before nameko answers the caller)

An exception inside the block rolls everything back (the events too) and propagates. After
the commit the outbox relay is woken, so events leave without waiting for its next poll.

Event handlers are `@event_handler(...)` then `@handles_once` (below): the handler receives
`(self, tx, envelope)` inside a unit of work that has first claimed the event id for the
handler, so a redelivered event is applied once; a collision with a concurrent worker's
writes rolls back and runs the handler again.

Never hold a transaction across an RPC call (docs/conventions.md): `kernel.rpc.TimedRpcProxy`
raises `TransactionOpen` when a worker calls another service inside `with self.uow`.
"""
from __future__ import annotations

import functools
import json
import logging

from sqlalchemy.exc import IntegrityError, OperationalError

from kernel import audit
from kernel import clock as clocks
from kernel import events as contract
from kernel import upsert
from kernel.db import Database
from kernel.inbox import ATTEMPTS, _claim
from kernel.outbox import Relay

log = logging.getLogger(__name__)

_open_in: set = set()  # the worker contexts holding a transaction right now


class Store:
    """The base of a service's store (services/<name>/store.py): its queries, named for what
    they answer, over the transaction's session; writes go through `add`, `delete`, `flush`."""

    service = ""  # the service whose tables these are (a subclass names it)

    def __init__(self, session):
        self.session = session

    def add(self, obj) -> None:
        self.session.add(obj)

    def delete(self, obj) -> None:
        self.session.delete(obj)

    def flush(self) -> None:
        self.session.flush()

    # the services with an audit log (kernel/audit.py: a table in the service's schema)

    def audit(self, action: str, **entry) -> None:
        """One audit entry in this transaction (kernel.audit.record's keywords)."""
        audit.record(self.session, action, **entry)

    def audit_log(self, scopes, limit: int, offset: int) -> dict:
        """A page of the audit log, newest first, each entry naming this service."""
        return audit.read(self.session, scopes=scopes, limit=limit, offset=offset,
                          service=self.service)


class TransactionOpen(RuntimeError):
    """A call to another service from inside a transaction (a programming error)."""


def in_transaction(worker_ctx) -> bool:
    return id(worker_ctx) in _open_in


class UnitOfWork(Database):
    """Injects a `Work` per worker: `with self.uow as tx` opens a transaction."""

    relay = Relay()  # publishes what `tx.emit` wrote, once committed

    def __init__(self, service: str, base, store=None):
        super().__init__(service, base)
        self.store = store

    def get_dependency(self, worker_ctx):
        return Work(self, worker_ctx)

    def worker_teardown(self, worker_ctx):
        _open_in.discard(id(worker_ctx))


class Work:
    """A worker's access to its service's database: each `with` is one transaction."""

    def __init__(self, provider: UnitOfWork, worker_ctx):
        self._provider = provider
        self._worker_ctx = worker_ctx
        self._tx = None

    def __enter__(self) -> "Transaction":
        if self._tx is not None:
            raise RuntimeError("a transaction is already open in this worker")
        provider = self._provider
        self._tx = Transaction(provider.session(), provider.base.metadata, provider.service,
                               provider.store)
        _open_in.add(id(self._worker_ctx))
        return self._tx

    def __exit__(self, kind, error, traceback):
        tx, self._tx = self._tx, None
        _open_in.discard(id(self._worker_ctx))
        try:
            if kind is None and not tx.discarded:
                tx.flush_events()
                tx.session.commit()
            else:
                tx.session.rollback()
        finally:
            tx.session.close()
        if kind is None and tx.emitted:
            self._provider.relay.wake()
        return False

    @property
    def service_name(self) -> str:
        return self._provider.service


class Transaction:
    """What a use case works with: `session`, `store` (the service's named queries over the
    session), `emit` (events that commit with it) and `now` (the clock at its start)."""

    def __init__(self, session, metadata, service: str, store=None):
        self.session = session
        self.store = store(session) if store is not None else None
        self.now = clocks.current().now()
        self.emitted: list[dict] = []
        self.discarded = False
        self._service = service
        self._tables = metadata.tables

    def emit(self, type_: str, data: dict) -> dict:
        """An event leaving with this transaction; refused here if it breaks the contract."""
        envelope = contract.build(self._service, type_, data, clocks.current().now())
        self.emitted.append(envelope)
        return envelope

    def discard(self) -> None:
        """Roll back at the end of the block instead of committing (a dry run)."""
        self.discarded = True

    def claim(self, event_id: str, consumer: str) -> bool:
        """Mark the event applied by `consumer`; False when it already was."""
        return _claim(self.session, self._tables["processed_events"], event_id, consumer)

    def claim_all(self, event_ids, consumer: str) -> set[str]:
        """Mark each event applied by `consumer` in one statement; the ids it had not."""
        return upsert.claim_all(self.session, self._tables["processed_events"], event_ids,
                                consumer)

    def flush_events(self) -> None:
        if not self.emitted:
            return
        self.session.execute(self._tables["outbox"].insert(), [{
            "event_id": envelope["event_id"], "type": envelope["type"],
            "body": json.dumps(envelope, ensure_ascii=False),
            "created_at": clocks.current().now(),
        } for envelope in self.emitted])


def _work_of(service) -> Work:
    works = [v for v in vars(service).values() if isinstance(v, Work)]
    if len(works) != 1:
        raise RuntimeError(f"{type(service).__name__} needs exactly one UnitOfWork")
    return works[0]


def relay_of(service) -> Relay:
    """The outbox relay of a service instance's unit of work (for a replay)."""
    return _work_of(service)._provider.relay


def handles_once(fn):
    """`fn(self, tx, envelope)` applied once per event id, in its own unit of work."""
    consumer = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, body):
        envelope = contract.parse(body)
        work = _work_of(self)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with work as tx:
                    if not tx.claim(envelope["event_id"], consumer):
                        tx.discard()
                        log.info("%s: event %s already applied", consumer,
                                 envelope["event_id"])
                        return
                    fn(self, tx, envelope)
                return
            except (IntegrityError, OperationalError):
                if attempt == ATTEMPTS:
                    raise
                log.warning("%s: event %s collided with a concurrent write; again (%d)",
                            consumer, envelope["event_id"], attempt)

    return wrapper
