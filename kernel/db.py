"""Database access for a service: SQLAlchemy 2, one session per worker.

`Database` holds a service's engine and makes its sessions; `kernel.uow.UnitOfWork` builds
on it, and that is what services declare (`uow = UnitOfWork("attempts", Base, store=…)`).
Each unit of work commits before the method returns (nameko sends an RPC reply and acks an
event *before* `worker_result` runs, so a commit there could follow a reply the caller
already acted on).

PostgreSQL under eventlet: psycopg2 is made cooperative with psycogreen's patch, so a slow
query parks only its own greenthread (see tests/integration/test_pg_cooperative.py).
SQLite (embedded mode): one connection per service file, so greenthreads queue for it
cooperatively instead of meeting SQLite's lock inside a blocking C call.
"""
from __future__ import annotations

import os
from datetime import timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from kernel.knobs import knob
from kernel.settings import database_url

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_base():
    """A declarative base with its own metadata, one per service."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING)

    return Base


class UTCDateTime(TypeDecorator):
    """Stores UTC, returns aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


_green_patched = False
RECYCLE_S = 1800  # a pooled PostgreSQL connection is replaced after this long (firewalls, idle
# timeouts on the way drop older ones silently)


def _unpatched_select():
    try:
        import eventlet.patcher

        return eventlet.patcher.original("select")
    except ImportError:  # pragma: no cover (eventlet is a dependency)
        import select

        return select


_select = _unpatched_select()


def _readable_now(fd: int) -> bool:
    """Whether the socket has something to read, without waiting (poll: any descriptor
    number, where select() refuses those past 1023)."""
    poller = _select.poll()
    poller.register(fd, _select.POLLIN | _select.POLLERR | _select.POLLHUP)
    return bool(poller.poll(0))


def _drop_if_closed_by_server(dbapi_conn, _record, _proxy):
    """At checkout: a pooled connection the server has closed is replaced, once (SQLAlchemy
    takes another connection when a checkout listener raises a DisconnectionError).

    This replaces `pool_pre_ping`, a round trip to the server at every checkout (a tenth of a
    submit's CPU, docs/performance.md). An idle connection has nothing to read: when its
    socket is readable, the server has closed it (a terminated backend, a restart: PostgreSQL
    sends the reason, then closes), which a zero-timeout poll sees without a round trip.
    Only this connection is replaced (anything else the server might send an idle
    connection costs one reconnect, not the pool); the others are checked at their own
    checkout."""
    if dbapi_conn.closed or _readable_now(dbapi_conn.fileno()):
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


def _make_psycopg2_green():
    global _green_patched
    if _green_patched:
        return
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
        _green_patched = True


def shared_database(config: dict, service: str) -> bool:
    return not config.get(f"{service.upper()}_DATABASE_URL")


def make_engine(url: str, schema: str | None = None, pool: dict | None = None, **kwargs):
    """An engine for `url`; `schema` puts every table in that PostgreSQL schema; `pool`
    ({pool_size, max_overflow}) sizes a PostgreSQL engine's connection pool (10 + 20)."""
    pool = {k: v for k, v in (pool or {}).items() if v is not None}
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        _make_psycopg2_green()
        connect_args = {}
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        pool = {"pool_size": 10, "max_overflow": 20, **pool}
        kwargs.setdefault("pool_recycle", RECYCLE_S)
        engine = create_engine(
            url,
            **pool,
            connect_args=connect_args,
            **kwargs,
        )
        if not kwargs.get("pool_pre_ping"):
            event.listen(engine, "checkout", _drop_if_closed_by_server)
        return engine
    return create_engine(url, **kwargs)


def service_engine(config: dict, service: str, **kwargs):
    """The engine of `service` as configured: its own database, or its schema in the shared
    one (`kwargs` go to create_engine)."""
    url = database_url(config, service)
    schema = service if shared_database(config, service) else None
    if make_url(url).get_backend_name() != "postgresql":
        schema = None
    # each process holds at most DB_POOL_SIZE + DB_MAX_OVERFLOW connections: PostgreSQL's
    # max_connections must cover that times every process (docs/deploy.md)
    pool = {"pool_size": knob(config, "DB_POOL_SIZE"),
            "max_overflow": knob(config, "DB_MAX_OVERFLOW")}
    return make_engine(url, schema=schema, pool=pool, **kwargs)


class Database(DependencyProvider):
    """A service's engine (set up with the container, disposed at its stop) and its
    sessions; `kernel.uow.UnitOfWork` is the provider services declare."""

    def __init__(self, service: str, base):
        self.service = service
        self.base = base
        self.engine = None

    def setup(self):
        self.engine = service_engine(self.container.config, self.service)

    def stop(self):
        if self.engine is not None:
            self.engine.dispose()

    def kill(self):
        self.stop()

    def session(self) -> Session:
        return Session(
            self.engine, expire_on_commit=False, info={"metadata": self.base.metadata}
        )

