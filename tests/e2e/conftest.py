"""The embedded platform (one process, in-memory bus, SQLite) with the demo, on a fake clock."""
from datetime import datetime, timezone

import pytest
import requests

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.distributed import free_port
from tests.documented import Documented


@pytest.fixture
def embedded(tmp_path):
    bus.reset()
    fake = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))
    clock.install(fake)
    port = free_port()
    settings = embedded_settings(str(tmp_path), port).with_(rpc_timeout_seconds=2.0)
    platform = EmbeddedPlatform(settings).start()
    with platform.rpc() as rpc:
        demo.load(rpc)
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
