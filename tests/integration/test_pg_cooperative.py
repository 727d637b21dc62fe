"""A database call on PostgreSQL does not block the eventlet hub: two slow queries in one
service overlap in time (psycopg2 made green; kernel.db makes sure of it)."""
import time

import psycopg2.extensions
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text

from kernel import bus
from kernel.db import new_base
from kernel.entrypoints import rpc
from kernel.uow import UnitOfWork

Base = new_base()


class SlowService:
    name = "slow"
    uow = UnitOfWork("slow", Base)

    @rpc
    def sleep_in_db(self, seconds):
        began = time.monotonic()
        with self.uow as tx:
            tx.session.execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return began, time.monotonic()


def two_concurrent_queries(container_factory, pg_url):
    config = {"AMQP_URI": bus.EMBEDDED_URI, "SLOW_DATABASE_URL": pg_url}
    container = container_factory(SlowService, config)
    container.start()
    with ClusterRpcProxy(config, timeout=10) as cluster:
        first = cluster.slow.sleep_in_db.call_async(0.5)
        second = cluster.slow.sleep_in_db.call_async(0.5)
        return first.result(), second.result()


def test_two_slow_queries_overlap(container_factory, pg_url):
    (a_start, a_end), (b_start, b_end) = two_concurrent_queries(container_factory, pg_url)
    # each query took its half second, and the second began before the first ended
    assert a_end - a_start >= 0.45 and b_end - b_start >= 0.45
    assert max(a_start, b_start) < min(a_end, b_end), "the queries ran one after the other"


def test_without_the_green_driver_they_would_not(container_factory, pg_url):
    """The control: with psycopg2's wait callback removed, the hub blocks and they serialise."""
    callback = psycopg2.extensions.get_wait_callback()
    assert callback is not None, "psycopg2 is not green in this process"
    psycopg2.extensions.set_wait_callback(None)
    try:
        (a_start, a_end), (b_start, b_end) = two_concurrent_queries(container_factory, pg_url)
    finally:
        psycopg2.extensions.set_wait_callback(callback)
    assert max(a_start, b_start) >= min(a_end, b_end) - 0.01
