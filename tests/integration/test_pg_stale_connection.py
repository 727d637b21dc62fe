"""A pooled PostgreSQL connection the server has closed (its backend terminated, the server
restarted) is replaced at checkout, without a ping before every use (kernel.db)."""
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from kernel.db import _drop_if_closed_by_server, make_engine


def backend_pid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def terminate(pg_url, pid):
    other = make_engine(pg_url)
    try:
        with other.connect() as conn:
            # waits (up to 5 s) until the backend has gone
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                                {"pid": pid}).scalar()
    finally:
        other.dispose()


@pytest.fixture
def engine(pg_url):
    made = make_engine(pg_url, pool={"pool_size": 1, "max_overflow": 0})
    yield made
    made.dispose()


def test_a_killed_pooled_connection_is_replaced_on_its_next_use(engine, pg_url):
    first = backend_pid(engine)
    assert backend_pid(engine) == first  # the pool keeps it
    terminate(pg_url, first)
    second = backend_pid(engine)  # no error: the pool took a new connection
    assert second != first
    assert backend_pid(engine) == second


def test_without_the_check_the_first_use_fails(engine, pg_url):
    """The control: the same kill, the checkout check removed, fails the next statement."""
    event.remove(engine, "checkout", _drop_if_closed_by_server)
    terminate(pg_url, backend_pid(engine))
    with pytest.raises(OperationalError):
        backend_pid(engine)


def test_no_ping_at_checkout_and_connections_are_recycled(engine):
    assert not engine.pool._pre_ping and engine.pool._recycle > 0
