"""RabbitMQ and PostgreSQL for integration tests: reachable, or skipped (failed under CI=true).

Each test session gets its own RabbitMQ vhost and its own PostgreSQL database, removed at
the end, so runs never see each other's queues or rows.
"""
import os
import shutil
import subprocess
import uuid

import pytest
from kombu import Connection
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672//")
PG_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CI = os.environ.get("CI") == "true"


def unavailable(what, error):
    message = f"{what} unreachable ({error}); set AMQP_URI / DATABASE_URL"
    if CI:
        pytest.fail(f"{message} — under CI=true these tests must run", pytrace=False)
    pytest.skip(message)


def local_rabbitmq() -> bool:
    """rabbitmqctl is here and the broker is on this machine (it can be stopped and started)."""
    url = make_url(AMQP_URI.replace("amqp://", "postgresql://", 1))
    return bool(shutil.which("rabbitmqctl")) and url.host in ("127.0.0.1", "localhost")


def rabbit_vhost():
    """A fresh vhost (via rabbitmqctl when present), yielding its AMQP URI."""
    try:
        with Connection(AMQP_URI, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001
        unavailable("RabbitMQ", exc)
    ctl = shutil.which("rabbitmqctl")
    url = make_url(AMQP_URI.replace("amqp://", "postgresql://", 1))
    if not ctl or url.host not in ("127.0.0.1", "localhost"):
        yield AMQP_URI
        return
    vhost = f"challenge-test-{uuid.uuid4().hex[:8]}"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run([ctl, "set_permissions", "-p", vhost, url.username or "guest", ".*", ".*",
                    ".*"], check=True, capture_output=True)
    try:
        base = Connection(AMQP_URI)
        yield (f"amqp://{base.userid}:{base.password}@{base.hostname}:{base.port or 5672}"
               f"/{vhost}")
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True)


def pg_database():
    """A fresh PostgreSQL database, yielding its URL."""
    admin_url = make_url(PG_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        unavailable("PostgreSQL", exc)
    name = f"challenge_test_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
