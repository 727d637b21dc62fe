"""The PostgreSQL pool of a service process is sized from the settings, so an operator can
fit every process inside max_connections (docs/deploy.md)."""
from kernel.db import service_engine

URL = "postgresql://postgres@127.0.0.1:5432/challenge"  # engines connect lazily: none here


def test_pool_defaults_to_10_kept_and_20_more():
    engine = service_engine({"DATABASE_URL": URL}, "attempts")
    assert (engine.pool.size(), engine.pool._max_overflow) == (10, 20)


def test_pool_follows_db_pool_size_and_db_max_overflow():
    engine = service_engine({"DATABASE_URL": URL, "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "2"},
                            "attempts")
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 2)
    empty = service_engine({"DATABASE_URL": URL, "DB_POOL_SIZE": "", "DB_MAX_OVERFLOW": ""},
                           "ranking")  # deploy/config.yaml's ${VAR:} when unset elsewhere
    assert (empty.pool.size(), empty.pool._max_overflow) == (10, 20)
