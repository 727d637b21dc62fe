import pytest

from gateway.ratelimit import Window
from kernel.errors import RateLimited


class Tick:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_sliding_window_per_key_with_the_wait_to_tell():
    tick = Tick()
    window = Window(limit=3, seconds=60, clock=tick)
    for _ in range(3):
        window.check("1.2.3.4", "codes")
    window.check("5.6.7.8", "codes")  # another address has its own count
    with pytest.raises(RateLimited) as limited:
        window.check("1.2.3.4", "codes")
    assert limited.value.retry_after == 60
    tick.now += 59.5
    with pytest.raises(RateLimited) as limited:
        window.check("1.2.3.4", "codes")
    assert limited.value.retry_after == 1
    tick.now += 0.5
    window.check("1.2.3.4", "codes")


def test_rate_limited_crosses_rpc_with_its_wait():
    from nameko.exceptions import deserialize, serialize

    again = deserialize(serialize(RateLimited("slow down", retry_after=42)))
    assert isinstance(again, RateLimited) and again.retry_after == 42
    assert again.message == "slow down"


# -- the counts every gateway replica shares (gateway/counters.py) ----------------------------

@pytest.fixture
def database(tmp_path):
    """The gateway's table, migrated as `challenge migrate` does, on SQLite (the same
    statement runs on PostgreSQL: tests/integration/test_shared_limits.py)."""
    from kernel.db import make_engine
    from kernel.migrations import upgrade

    url = f"sqlite:///{tmp_path}/gateway.db"
    upgrade({"DATABASE_URL": url}, ["gateway"])
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_the_migration_makes_the_table_the_code_counts_in(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gateway.counters import metadata

    with database.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []


def replicas(database, tick, count=2):
    from gateway.counters import Counters

    return [Counters(database, clock=tick) for _ in range(count)]


def test_replicas_count_against_one_limit(database):
    tick = Tick()
    tick.now = 6000.0  # a bucket's start
    first, second = replicas(database, tick)
    admitted = [(first, second)[i % 2].hit("member", "m1", 5, 60) for i in range(5)]
    assert admitted == [0] * 5
    assert first.hit("member", "m1", 5, 60) == 60 and second.hit("member", "m1", 5, 60) == 60
    assert first.hit("member", "m2", 5, 60) == 0  # another member counts apart
    assert first.hit("codes", "m1", 5, 60) == 0  # and another limit
    [(n,)] = database.connect().exec_driver_sql(
        "SELECT n FROM limit_counts WHERE scope = 'member' AND subject = 'm1'").all()
    assert n == 5  # a refused hit is not counted


def test_the_previous_bucket_weighs_by_its_share_of_the_window(database):
    tick = Tick()
    tick.now = 6045.0  # 3/4 into a bucket: 4 hits
    [counters] = replicas(database, tick, 1)
    assert [counters.hit("member", "m", 4, 60) for _ in range(4)] == [0] * 4
    tick.now = 6075.0  # 1/4 into the next: the last 4 still weigh 4 * 3/4 = 3
    assert counters.hit("member", "m", 4, 60) == 0  # 3 + 1 admitted
    assert counters.hit("member", "m", 4, 60) == 1  # not 4 more: no burst across the edge
    tick.now = 6076.0  # the previous weighs 4 * 44/60 = 2.93: room for one more
    assert counters.hit("member", "m", 4, 60) == 0
    tick.now = 6080.0
    assert counters.hit("member", "m", 4, 60) == 10  # 2 + 4 * 40/60 = 4.67: until 2 + 2
    tick.now = 6091.0
    assert counters.hit("member", "m", 4, 60) == 0


def test_spent_buckets_are_swept(database):
    tick = Tick()
    tick.now = 6000.0
    [counters] = replicas(database, tick, 1)
    counters.hit("tries", "1.2.3.4", 3, 600)
    tick.now += 1300  # two windows on: spent
    counters.hit("tries", "5.6.7.8", 3, 600)
    rows = database.connect().exec_driver_sql("SELECT subject FROM limit_counts").all()
    assert rows == [("5.6.7.8",)]


def test_without_the_database_a_replica_counts_on_its_own(database, caplog):
    from sqlalchemy.exc import OperationalError

    from gateway.ratelimit import Limit

    class Away:
        def hit(self, *args):
            raise OperationalError("INSERT", {}, Exception("connection refused"))

    class Shared:
        counters = Away()

    limit = Limit(Shared(), "member", 2, 60)
    limit.check("m", "requests")
    limit.check("m", "requests")
    with pytest.raises(RateLimited):
        limit.check("m", "requests")
    assert len([r for r in caplog.records if "out of reach" in r.getMessage()]) == 1
