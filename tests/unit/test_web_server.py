"""The gateway's web server (gateway/entrypoints.py, JsonWebServer) apart from the platform:
its accept loop outlives running out of descriptors, a broken connection does not kill the
container, and the connection cap fits the descriptor limit. The same server under real idle
connections: tests/integration/test_gateway_connections.py."""
import errno
import logging
import resource

import eventlet
import pytest

from gateway import entrypoints
from gateway.entrypoints import JsonWebServer, connection_cap, nesting_of


class ListeningSocket:
    """accept() raises each error given, then returns one connection, then stops the loop."""

    def __init__(self, server, errors):
        self.server, self.errors = server, list(errors)

    def accept(self):
        if self.errors:
            raise OSError(self.errors.pop(0), "refused")
        self.server._is_accepting = False
        return "client socket", ("127.0.0.1", 40000)


def test_the_accept_loop_waits_out_running_out_of_descriptors(monkeypatch, caplog):
    server = JsonWebServer()
    served, naps = [], []
    server.serve = lambda sock, address: served.append(address)
    monkeypatch.setattr(entrypoints.eventlet, "sleep", naps.append)
    server._sock = ListeningSocket(server, [errno.EMFILE, errno.EMFILE, errno.ENFILE,
                                            errno.ECONNABORTED])
    with caplog.at_level(logging.WARNING, logger="gateway.entrypoints"):
        server.run()  # nameko's raised the first EMFILE, and the container died of it
    assert served == [("127.0.0.1", 40000)]
    assert naps == [0.1, 0.1, 0.1]
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2 and "accept() failed (EMFILE)" in said[0]
    assert said[1].startswith("accepting again after")


class Closable:
    closed = False

    def close(self):
        self.closed = True


def test_a_broken_connection_does_not_reach_the_container(monkeypatch):
    server = JsonWebServer()

    def broken(self, sock, address):
        raise OSError(errno.ETIMEDOUT, "the peer vanished")

    monkeypatch.setattr(entrypoints.WebServer, "process_request", broken)
    sock = Closable()
    server.process_request(sock, ("127.0.0.1", 40000))  # nameko's re-raised it
    assert sock.closed


class Container:
    def __init__(self):
        self.threads = []

    def spawn_managed_thread(self, run):
        thread = eventlet.spawn(run)
        self.threads.append(thread)
        return thread


def test_connections_past_the_cap_are_refused_and_counted_out_when_closed(monkeypatch):
    server = JsonWebServer()
    server.container, server.max_connections, server.read_timeout = Container(), 2, 1.0
    refused = []
    monkeypatch.setattr(server.refusals, "spawn_n", lambda answer, sock: refused.append(sock))
    finish = eventlet.event.Event()
    server.process_request = lambda sock, address: finish.wait()

    class Sock:
        def settimeout(self, seconds):
            pass

    socks = [Sock() for _ in range(3)]
    for sock in socks:
        server.serve(sock, ("127.0.0.1", 40000))
    assert server.open_connections == 2 and refused == [socks[2]]
    finish.send()
    for thread in server.container.threads:
        thread.wait()
    eventlet.sleep(0)  # links run after the thread ends
    assert server.open_connections == 0


@pytest.mark.parametrize("soft, hard, wanted, cap, raised_to", [
    (20000, 20000, 1000, 1000, None),    # room enough
    (1024, 4096, 1000, 1000, 1128),      # the soft limit raised as far as the cap needs
    (1024, 1024, 1000, 896, None),       # cannot be raised: the cap comes down
    (256, 256, 100, 100, None),
    (100, 100, 1000, 50, None),          # a tiny limit: half for connections
])
def test_the_cap_fits_the_descriptor_limit(monkeypatch, soft, hard, wanted, cap, raised_to):
    raised = []
    monkeypatch.setattr(resource, "getrlimit", lambda which: (soft, hard))
    monkeypatch.setattr(resource, "setrlimit", lambda which, limits: raised.append(limits))
    assert connection_cap(wanted) == cap
    assert raised == ([(raised_to, hard)] if raised_to else [])


def test_nesting_is_measured_without_recursion():
    assert nesting_of({}) == 1 and nesting_of({"a": [1, {"b": []}]}) == 4
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_of({"x": deep}) == 100_002
