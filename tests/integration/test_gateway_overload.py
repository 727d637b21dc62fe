"""Admission control and a member's read deadline in the distributed mode (issue 20 target 2,
issue 21 item 1): attempts is frozen (SIGSTOP, as a process stuck on its database or starved of
CPU would be), members' reads of their history fill the gateway's bound, and what comes next
is refused 503 `overloaded` with Retry-After, at once and without reaching any service; the
held reads give up after RPC_READ_TIMEOUT_SECONDS with a 503 that says when to come back."""
import os
import signal

import eventlet
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.scrape import figure, scrape
from tests.thin_path import login, wait_for

PENDING = 3  # HTTP_MAX_PENDING
READ_DEADLINE = 8  # RPC_READ_TIMEOUT_SECONDS
ENV = {"HTTP_MAX_PENDING": str(PENDING), "RPC_READ_TIMEOUT_SECONDS": str(READ_DEADLINE),
       "MEMBER_REQUESTS_PER_MINUTE": "0"}


def histories_served(platform):
    """How many `my_attempts` calls attempts has worked on, whatever their outcome."""
    seen = scrape(platform["processes"].metrics_url("attempts"))
    return sum(value for (name, labels), value in seen.items()
               if name == "challenge_rpc_duration_seconds_count"
               and ("method", "my_attempts") in labels)


@pytest.mark.parametrize("platform", [{"env": ENV}], indirect=True)
def test_a_frozen_service_fills_the_bound_and_the_rest_are_refused_at_once(platform):
    base, processes = platform["base"], platform["processes"]
    with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
        demo.load(rpc)
    member = login(base, platform["sms"], demo.member_rows()[1]["phone"])[0]
    history = f"{base}/api/v1/attempts"
    assert requests.get(history, headers=member, timeout=10).status_code == 200
    served = histories_served(platform)

    attempts = processes.procs["attempts"].pid
    os.killpg(attempts, signal.SIGSTOP)
    try:
        pool = eventlet.GreenPool()
        held = [pool.spawn(requests.get, history, headers=member, timeout=30)
                for _ in range(PENDING)]
        # the held reads and this scrape itself
        wait_for(lambda: figure(scrape(f"{base}/metrics"),
                                "challenge_http_requests_in_flight") >= PENDING + 1,
                 timeout=READ_DEADLINE, every=0.05, what="the held reads to be in flight")
        refused = [requests.get(history, headers=member, timeout=10),
                   requests.post(f"{base}/api/v1/attempts", headers=member,
                                 json={"level": 1}, timeout=10)]
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        answers = [g.wait() for g in held]
    finally:
        os.killpg(attempts, signal.SIGCONT)

    for r in refused:
        assert r.status_code == 503, r.text
        assert r.json()["error"]["reason"] == "overloaded"
        assert 1 <= int(r.headers["Retry-After"]) <= 3
    for r in answers:  # a member's read gave up after its own deadline, not the writes' 10 s
        assert r.status_code == 503, r.text
        assert f"did not answer within {READ_DEADLINE} s" in r.json()["error"]["message"]
        assert int(r.headers["Retry-After"]) > 0
    # attempts, running again, works through the reads it was sent (their answers go
    # nowhere); one more read then is the only call after those: the refused never reached it
    wait_for(lambda: histories_served(platform) >= served + PENDING, timeout=30,
             what="attempts to work through the held reads")
    assert requests.get(history, headers=member, timeout=10).status_code == 200
    assert histories_served(platform) == served + PENDING + 1
