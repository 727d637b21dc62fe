import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", category=DeprecationWarning)

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything imports socket or threading

import os  # noqa: E402

import pytest  # noqa: E402

from kernel import bus, clock  # noqa: E402

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


@pytest.fixture
def sqlite_config(tmp_path):
    """A config for service tests: in-memory bus, one SQLite file per service."""
    bus.reset()
    return {
        "AMQP_URI": bus.EMBEDDED_URI,
        "DATABASE_URL": None,
        **{
            f"{name.upper()}_DATABASE_URL": f"sqlite:///{tmp_path}/{name}.db"
            for name in ("roster", "question_bank", "attempts", "ranking", "awards")
        },
        "OUTBOX_POLL_SECONDS": 0.02,
        "SMS_BACKEND": "file",
        "SMS_FILE": str(tmp_path / "login-codes.log"),
        "CHALLENGE_SECRET": "test-secret-of-the-service-tests-32-bytes-or-more",
    }


@pytest.fixture
def migrated(sqlite_config):
    from kernel.migrations import upgrade

    upgrade(sqlite_config)
    return sqlite_config


CI = os.environ.get("CI") == "true"
