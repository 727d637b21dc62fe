"""The gateway under overload and failure (issue 20, target 2; issue 21, item 1).

- Admission control: with HTTP_MAX_PENDING requests held inside a service, the next API
  request is refused 503 `overloaded` with Retry-After, and no service is called for it;
  health and metrics still answer; once the held ones finish, requests are admitted again.
- A member's reads wait RPC_READ_TIMEOUT_SECONDS for a service, writes RPC_TIMEOUT_SECONDS.
- Every 503 the gateway sends says when to come back (`Retry-After`)."""
from datetime import datetime, timezone

import eventlet
import pytest
import requests
from eventlet.event import Event
from sqlalchemy.exc import OperationalError

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from kernel.errors import ServiceUnavailable
from services.attempts.service import AttemptsService
from services.ranking.service import RankingService
from tests.scrape import figure, scrape
from tests.distributed import free_port
from tests.thin_path import login

PENDING = 2  # HTTP_MAX_PENDING
READ_DEADLINE = 0.5  # RPC_READ_TIMEOUT_SECONDS where a test needs reads to give up
WRITE_DEADLINE = 30  # RPC_TIMEOUT_SECONDS: a request held on purpose stays held


@pytest.fixture
def embedded(request, tmp_path, monkeypatch):
    """tests/e2e/conftest.py's platform, with HTTP_MAX_PENDING 2 and patient RPC deadlines;
    parametrized indirectly with a number, that is a member's reads' deadline."""
    monkeypatch.setenv("HTTP_MAX_PENDING", str(PENDING))
    monkeypatch.setenv("RPC_READ_TIMEOUT_SECONDS", str(getattr(request, "param", WRITE_DEADLINE)))
    bus.reset()
    clock.install(clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)))
    port = free_port()
    settings = embedded_settings(str(tmp_path), port).with_(rpc_timeout_seconds=WRITE_DEADLINE)
    platform = EmbeddedPlatform(settings).start()
    with platform.rpc() as rpc:
        demo.load(rpc)
    yield {"base": f"http://127.0.0.1:{port}", "sms": platform.settings.sms_file}
    platform.stop()

SHORT_READS = pytest.mark.parametrize("embedded", [READ_DEADLINE], indirect=True)


def wrap(monkeypatch, service, name, before):
    """`service.name` runs `before()` first; the calls that reached it are counted."""
    original = getattr(service, name)
    calls = []

    def wrapped(self, *args, **kwargs):
        calls.append(args)
        before()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(service, name, wrapped)
    return calls


def wait_until(condition, what):
    with eventlet.Timeout(30, AssertionError(f"waited 30 s for {what}")):
        while not condition():
            eventlet.sleep(0.01)


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def test_past_the_bound_requests_are_refused_at_once_and_nothing_is_called(
        embedded, monkeypatch):
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    board = f"{base}/api/v1/leaderboards/system"
    gate = Event()
    boards = wrap(monkeypatch, RankingService, "leaderboard", gate.wait)
    starts = wrap(monkeypatch, AttemptsService, "start_attempt", lambda: None)
    before = scrape(f"{base}/metrics")

    pool = eventlet.GreenPool()
    held = [pool.spawn(requests.get, board, headers=member, timeout=60)
            for _ in range(PENDING)]
    wait_until(lambda: len(boards) == PENDING, "the held requests to reach ranking")

    refused = [requests.get(board, headers=member, timeout=10),
               requests.post(f"{base}/api/v1/attempts", headers=member, json={"level": 1},
                             timeout=10)]
    for r in refused:
        assert r.status_code == 503, r.text
        assert r.json()["error"]["reason"] == "overloaded"
        assert 1 <= retry_after(r) <= 3
    assert len(boards) == PENDING and starts == []  # nothing was called for them
    # health and metrics are never refused
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
    seen = scrape(f"{base}/metrics")
    assert figure(seen, "challenge_http_shed_duration_seconds_count") - \
        figure(before, "challenge_http_shed_duration_seconds_count") == 2

    gate.send()
    assert [r.status_code for r in (g.wait() for g in held)] == [200] * PENDING
    # the bound is free again
    assert requests.get(board, headers=member, timeout=10).status_code == 200
    r = requests.post(f"{base}/api/v1/attempts", headers=member, json={"level": 1}, timeout=10)
    assert r.status_code == 200 and len(starts) == 1


@SHORT_READS
def test_a_members_read_gives_up_sooner_than_a_write(embedded, monkeypatch):
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    slow = lambda: eventlet.sleep(READ_DEADLINE + 0.5)  # noqa: E731 (past a read's deadline)
    wrap(monkeypatch, RankingService, "leaderboard", slow)
    wrap(monkeypatch, AttemptsService, "start_attempt", slow)

    r = requests.get(f"{base}/api/v1/leaderboards/system", headers=member, timeout=10)
    assert r.status_code == 503
    assert f"did not answer within {READ_DEADLINE:g} s" in r.json()["error"]["message"]
    assert retry_after(r) > 0
    # a write waits RPC_TIMEOUT_SECONDS, so the same pause is answered
    r = requests.post(f"{base}/api/v1/attempts", headers=member, json={"level": 1}, timeout=10)
    assert r.status_code == 200, r.text


def _database_away():
    raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def _not_ready():
    raise ServiceUnavailable("not now")


@pytest.mark.parametrize("path, service, name, failure, reason", [
    ("/api/v1/leaderboards/system", RankingService, "leaderboard", _database_away,
     "database_unavailable"),
    ("/api/v1/leaderboards/system", RankingService, "leaderboard",
     lambda: eventlet.sleep(READ_DEADLINE + 0.5), None),  # no answer in time
    ("/readyz", RankingService, "ping", _not_ready, None),
])
@SHORT_READS
def test_every_503_says_when_to_come_back(embedded, monkeypatch, path, service, name, failure,
                                          reason):
    """(`overloaded` above; `server_busy`, past HTTP_MAX_CONNECTIONS, in
    tests/integration/test_gateway_connections.py; the broker away and a service with no
    queue in tests/unit/test_gateway_retry_after.py.)"""
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    wrap(monkeypatch, service, name, failure)
    r = requests.get(f"{base}{path}", headers=member, timeout=10)
    assert r.status_code == 503, r.text
    assert retry_after(r) > 0
    if reason:
        assert r.json()["error"]["reason"] == reason
