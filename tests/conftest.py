import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", category=DeprecationWarning)

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything imports socket or threading

import os  # noqa: E402

import pytest  # noqa: E402

from kernel import bus, clock  # noqa: E402
from kernel.settings import SERVICES  # noqa: E402

bus.install()


@pytest.fixture(autouse=True)
def _system_clock_after_test():
    yield
    clock.reset()


@pytest.fixture
def fake_clock():
    from datetime import datetime, timezone

    fake = clock.FakeClock(datetime(2018, 3, 12, 1, 0, tzinfo=timezone.utc))
    clock.install(fake)
    return fake


def sqlite_urls(folder):
    return {
        f"{name.upper()}_DATABASE_URL": f"sqlite:///{folder}/{name}.db" for name in SERVICES
    }


@pytest.fixture
def sqlite_config(tmp_path):
    """A config for service tests: in-memory bus, one SQLite file per service."""
    bus.reset()
    return {
        "AMQP_URI": bus.EMBEDDED_URI,
        "DATABASE_URL": None,
        **sqlite_urls(tmp_path),
        "OUTBOX_POLL_SECONDS": 0.02,
        "SMS_BACKEND": "file",
        "SMS_FILE": str(tmp_path / "login-codes.log"),
        "CHALLENGE_SECRET": "test-secret-of-the-service-tests-32-bytes-or-more",
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The five SQLite files at alembic head, migrated once per session.

    Each file is checkpointed out of WAL mode first, so the `.db` alone holds the schema and
    a copy of it is a whole database (no `-wal`/`-shm` to carry along).
    """
    import sqlite3

    from kernel.migrations import upgrade

    folder = tmp_path_factory.mktemp("migrated-template")
    upgrade({"DATABASE_URL": None, **sqlite_urls(folder)})
    for path in folder.glob("*.db"):
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
        db.close()
    leftovers = sorted(p.name for p in folder.iterdir() if p.suffix != ".db")
    assert not leftovers, f"the template is not self-contained: {leftovers}"
    return folder


@pytest.fixture
def migrated(sqlite_config, migrated_template, tmp_path):
    """`sqlite_config` whose files are at alembic head: copies of the session's template."""
    import shutil

    for db in migrated_template.glob("*.db"):
        shutil.copyfile(db, tmp_path / db.name)
    return sqlite_config


CI = os.environ.get("CI") == "true"
