import pytest

from tests import infra


@pytest.fixture(scope="session")
def amqp_vhost_uri():
    yield from infra.rabbit_vhost()


@pytest.fixture(scope="session")
def pg_url():
    yield from infra.pg_database()
