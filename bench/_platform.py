"""The embedded platform for a benchmark: a fresh data folder and port, a clock at a chosen
instant, and an RPC proxy; stopped on exit."""
import contextlib
import socket
import tempfile
from datetime import datetime, timezone

from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import clock


@contextlib.contextmanager
def embedded(now=datetime(2018, 3, 1, 1, 0, tzinfo=timezone.utc), with_rpc=True,
             database_url=None):
    """`database_url`: every service in its own schema of that database instead of SQLite."""
    clock.install(clock.OffsetClock(now))
    folder = tempfile.mkdtemp(prefix="bench-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = embedded_settings(folder, port)
    if database_url:
        settings = settings.with_(service_database_urls={}, database_url=database_url)
    platform = EmbeddedPlatform(settings).start()
    platform.base = f"http://127.0.0.1:{port}"
    try:
        if with_rpc:
            with platform.rpc() as rpc:
                yield platform, rpc
        else:
            yield platform, None
    finally:
        platform.stop()
