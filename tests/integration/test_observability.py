"""What an operator sees of the distributed platform (issue 22, items 6 and 7): every process
is scraped for its own metrics and counts a submit; a request id is followed through the
gateway's access line into each service that served it; an expected error is one INFO line;
and every line of every log is JSON, from the first."""
import json

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.distributed import QUIET_IMPORTS
from tests.scrape import figure, scrape
from tests.thin_path import answers_for, login, start, wait_for

SERVICES = ("roster", "question_bank", "attempts", "ranking", "awards")
# the image's settings (Dockerfile, ConfigMap), not the quieter ones of the other tests
AS_DEPLOYED = {"env": {"LOG_LEVEL": "INFO", "PYTHONWARNINGS": QUIET_IMPORTS}}


def log_lines(platform, name) -> list[dict]:
    """Every line of a process's log, each parsed as JSON (a line that is not fails here)."""
    text = platform["processes"].log_path(name).read_text(encoding="utf-8")
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            lines.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{name}.log line {number} is not JSON: {line[:200]!r}")
    return lines


def traced(platform, name, request_id) -> list[dict]:
    return [line for line in log_lines(platform, name)
            if line.get("correlation_id") == request_id]


@pytest.mark.parametrize("platform", [AS_DEPLOYED], indirect=True)
def test_every_process_is_scraped_and_a_request_is_followed_through_the_logs(platform):
    processes = platform["processes"]
    with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
        demo.load(rpc)
    auth, member = login(platform["base"], platform["sms"], demo.member_rows()[1]["phone"])
    paper = start(platform["base"], auth, 1)

    before = {name: scrape(processes.metrics_url(name)) for name in (*SERVICES, "gateway")}
    r = requests.post(f"{platform['base']}/api/v1/attempts/{paper['attempt_id']}/submit",
                      json={"answers": answers_for(paper)},
                      headers={**auth, "X-Request-Id": "ux-trace-0001"}, timeout=30)
    assert r.status_code == 200 and r.json()["passed"] is True, r.text
    assert r.headers["X-Request-Id"] == "ux-trace-0001"

    # metrics: every process answers with its own figures and prometheus_client's
    def added(name, metric, **labels):
        now = scrape(processes.metrics_url(name))
        return figure(now, metric, **labels) - figure(before[name], metric, **labels)

    for name in (*SERVICES, "gateway"):
        assert figure(before[name], "process_resident_memory_bytes") > 0, name
    # a worker's figures and log line are written once it has answered (nameko replies
    # first), so each is waited for briefly rather than read at once
    wait_for(lambda: added("attempts", "challenge_rpc_duration_seconds_count",
                           service="attempts", method="submit_attempt", outcome="ok") == 1,
             timeout=10, what="attempts to count the submit")
    wait_for(lambda: added("gateway", "challenge_http_requests_total", method="POST",
                           route="/api/v1/attempts/{attempt_id}/submit", status=200) == 1,
             timeout=10, what="the gateway to count the submit")
    wait_for(lambda: added("ranking", "challenge_events_handled_total", service="ranking",
                           event_type="attempt_passed", outcome="ok") == 1,
             timeout=20, what="ranking to count the attempt_passed it handled")
    assert ("challenge_outbox_backlog", frozenset({("service", "attempts")})) in before["attempts"]
    assert figure(scrape(processes.metrics_url("ranking")), "challenge_event_lag_seconds_count",
                  service="ranking", event_type="attempt_passed") >= 1

    # logs: the access line, then one line in each service the request went through
    [access] = wait_for(lambda: [line for line in traced(platform, "gateway", "ux-trace-0001")
                                 if "http" in line], timeout=10, what="the access line")
    assert access["level"] == "INFO" and access["logger"] == "gateway.access"
    assert access["http"]["method"] == "POST" and access["http"]["status"] == 200
    assert access["http"]["route"] == "/api/v1/attempts/{attempt_id}/submit"
    assert access["http"]["member_id"] == member["member_id"]
    assert access["http"]["duration_ms"] > 0
    served = {"roster": "roster.play_status", "attempts": "attempts.submit_attempt"}
    for name, method in served.items():
        lines = wait_for(lambda: traced(platform, name, "ux-trace-0001"), timeout=10,
                         what=f"{name}'s line for the request")
        assert [line["message"] for line in lines if line["level"] == "INFO"] == \
            [f"{method} ok"], (name, lines)

    # an expected error (a wrong login code): one INFO line where it was refused, no traceback
    r = requests.post(f"{platform['base']}/api/v1/auth/token",
                      json={"phone": demo.member_rows()[2]["phone"], "code": "000000"},
                      headers={"X-Request-Id": "ux-trace-0002"}, timeout=10)
    assert 400 <= r.status_code < 500
    wait_for(lambda: traced(platform, "gateway", "ux-trace-0002"), timeout=5,
             what="the refused request's access line")
    for name in (*SERVICES, "gateway"):
        lines = traced(platform, name, "ux-trace-0002")
        assert all(line["level"] == "INFO" and "exception" not in line for line in lines), \
            (name, lines)
    refused = wait_for(lambda: traced(platform, "roster", "ux-trace-0002"), timeout=10,
                       what="roster's line for the refusal")
    assert len(refused) == 1 and refused[0]["message"].startswith("roster."), refused

    # and nothing but JSON in any log, from the process's first line
    for name in (*SERVICES, "gateway"):
        assert log_lines(platform, name)[0]["logger"] == "nameko.runners", name
