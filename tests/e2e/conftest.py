"""The embedded platform (one process, in-memory bus, SQLite) with the demo, on a fake clock."""
import os
import shutil
import sqlite3
import time
from datetime import datetime, timezone

import pytest
import requests
from kombu.transport import memory

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.distributed import free_port
from tests.documented import Documented


DEMO_START = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)


def _settled(folder, quiet_checks=3, limit_s=20.0):
    """Wait until every service has sent its outbox and the bus holds no message, several
    checks in a row: what the demo's load set moving has arrived before the folder is kept."""
    import eventlet

    quiet, deadline = 0, time.monotonic() + limit_s
    while quiet < quiet_checks:
        if time.monotonic() > deadline:
            raise RuntimeError("the demo's events did not settle")
        eventlet.sleep(0.05)
        unsent = 0
        for name in os.listdir(folder):
            if name.endswith(".db"):
                with sqlite3.connect(os.path.join(folder, name)) as db:
                    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
                    if "outbox" in tables:
                        unsent += db.execute(
                            "SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        queued = sum(q.qsize() for q in memory.Channel.queues.values())
        quiet = quiet + 1 if unsent == 0 and queued == 0 else 0


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory):
    """The demo loaded once into a data folder (its SQLite files and secret); each test's
    platform starts on a copy, as the first start after `challenge dev` would, instead of
    loading the demo again (~1.5 s a test)."""
    folder = tmp_path_factory.mktemp("demo")
    bus.reset()
    clock.install(clock.FakeClock(DEMO_START))
    settings = embedded_settings(str(folder), free_port()).with_(rpc_timeout_seconds=10.0)
    platform = EmbeddedPlatform(settings).start()
    try:
        with platform.rpc() as rpc:
            demo.load(rpc)
        _settled(str(folder))
    finally:
        platform.stop()
    return folder


@pytest.fixture
def embedded(tmp_path, demo_folder):
    for name in os.listdir(demo_folder):
        shutil.copy2(os.path.join(demo_folder, name), tmp_path / name)
    bus.reset()
    fake = clock.FakeClock(DEMO_START)
    clock.install(fake)
    port = free_port()
    settings = embedded_settings(str(tmp_path), port).with_(rpc_timeout_seconds=2.0)
    platform = EmbeddedPlatform(settings).start()
    yield {"base": f"http://127.0.0.1:{port}", "platform": platform, "clock": fake,
           "sms": platform.settings.sms_file}
    platform.stop()


@pytest.fixture(scope="package", autouse=True)
def documented_responses():
    """Every response an e2e test receives from the gateway matches what /openapi.json
    documents for its route and status (tests/documented.py): a body the document does not
    promise fails the test that received it."""
    documented = Documented()
    send = requests.Session.send
    requests.Session.send = documented.conforming(send)
    try:
        yield documented
    finally:
        requests.Session.send = send
