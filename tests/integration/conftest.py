from datetime import datetime, timezone

import pytest

from tests import infra
from tests.distributed import Distributed


@pytest.fixture(scope="session")
def amqp_vhost_uri():
    yield from infra.rabbit_vhost()


@pytest.fixture(scope="session")
def pg_url():
    yield from infra.pg_database()


PLAY_AT = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)  # levels 1–3 open


@pytest.fixture
def fresh_backends():
    """A vhost and a database of this test's own (the platform's queues and tables)."""
    vhost, database = infra.rabbit_vhost(), infra.pg_database()
    try:
        yield next(vhost), next(database)
    finally:
        for generator in (vhost, database):
            generator.close()


@pytest.fixture
def platform(request, fresh_backends, tmp_path):
    """The distributed platform (tests/distributed.py): `challenge migrate`, then each service
    and the gateway in its own `nameko run` process with deploy/config.yaml, configured from
    the environment only; the clock starts at PLAY_AT. Each process's log is
    tmp_path/<module>.log; `platform["processes"]` kills and restarts them.

    Parametrize it indirectly with {"play_at": datetime, "env": {...}} to start the clock
    elsewhere or change settings."""
    amqp_vhost_uri, pg_url = fresh_backends
    options = getattr(request, "param", {})
    with Distributed(amqp_vhost_uri, pg_url, tmp_path, play_at=options.get("play_at", PLAY_AT),
                     env=options.get("env")) as running:
        yield running.as_dict()
