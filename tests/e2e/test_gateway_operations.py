"""The gateway's operational answers over HTTP: `/metrics`, the per-member request limit, and
R19's live participation by unit and branch as each administrator sees it."""
import logging
from fractions import Fraction

import pytest
import requests

from kernel import logs
from tests.scrape import figure, scrape
from tests.thin_path import answers_for, login, start

SYSTEM, UNIT_ADMIN = "13800000000", "13800000001"


def test_metrics_count_requests_by_route_template_and_status(embedded):
    """Counted in the process's registry (kept across platforms in one test run), so what
    is checked is what these requests added."""
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    before = scrape(f"{base}/metrics")
    for _ in range(3):
        assert requests.get(f"{base}/api/v1/me", headers=member, timeout=10).ok
    r = requests.post(f"{base}/api/v1/attempts/no-such-attempt/submit", headers=member,
                      json={"answers": {}}, timeout=10)
    assert r.status_code == 404
    assert requests.get(f"{base}/readyz", timeout=10).ok
    r = requests.get(f"{base}/metrics", timeout=10)
    seen = scrape(f"{base}/metrics")

    def added(name, **labels):
        return figure(seen, name, **labels) - figure(before, name, **labels)

    me = {"method": "GET", "route": "/api/v1/me"}
    assert added("challenge_http_requests_total", **me, status=200) == 3
    assert added("challenge_http_requests_total", method="POST",
                 route="/api/v1/attempts/{attempt_id}/submit", status=404) == 1
    assert added("challenge_http_request_duration_seconds_count", **me) == 3
    assert added("challenge_http_request_duration_seconds_bucket", **me, le="+Inf") == 3
    buckets = [value for (name, labels), value in seen.items()
               if name == "challenge_http_request_duration_seconds_bucket"
               and me.items() <= dict(labels).items()]
    assert len(buckets) > 10 and buckets == sorted(buckets)  # cumulative
    assert figure(seen, "challenge_service_up", service="attempts") == 1
    assert figure(seen, "challenge_http_requests_in_flight") == 1  # this very request
    assert "no-such-attempt" not in r.text  # series per route, never per raw path
    # the services run in this process: their workers are in the same registry
    assert added("challenge_rpc_duration_seconds_count", service="attempts",
                 method="submit_attempt", outcome="refused") == 1
    assert ("challenge_outbox_backlog", frozenset({("service", "attempts")})) in seen
    assert figure(seen, "process_cpu_seconds_total") > 0  # prometheus_client's own


@pytest.fixture
def limit_of_five(monkeypatch):
    monkeypatch.setenv("MEMBER_REQUESTS_PER_MINUTE", "5")


def test_a_member_over_the_request_limit_gets_429_with_retry_after(limit_of_five, embedded):
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    other = login(base, embedded["sms"], "13800000011")[0]
    answers = [requests.get(f"{base}/api/v1/me", headers=member, timeout=10)
               for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["reason"] == "member_limit"
    # each member has their own window
    assert requests.get(f"{base}/api/v1/me", headers=other, timeout=10).status_code == 200


def test_participation_by_unit_and_branch_live_and_scoped(embedded):
    base = embedded["base"]
    admin = login(base, embedded["sms"], SYSTEM)[0]
    unit_admin = login(base, embedded["sms"], UNIT_ADMIN)[0]
    players = []
    for who in (unit_admin, login(base, embedded["sms"], "13800000004")[0]):
        me = requests.get(f"{base}/api/v1/me", headers=who, timeout=10).json()["member"]
        players.append((who, me["unit_id"]))
    # the first passes level 1, the second starts an attempt and leaves it open
    paper = start(base, players[0][0], 1)
    assert requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                         headers=players[0][0], json={"answers": answers_for(paper)},
                         timeout=10).json()["passed"]
    start(base, players[1][0], 1)

    table = requests.get(f"{base}/api/v1/admin/participation", headers=admin,
                         timeout=30).json()
    assert table["levels"] == 12
    rows = {r["org_unit_id"]: r for r in table["units"] + table["branches"]}
    assert set(rows) == {"unit-education", "unit-industry", "branch-1", "branch-2"}
    for unit in {u for _, u in players}:
        row = rows[unit]
        playing = [u for _, u in players].count(unit)
        passed_levels = 1 if players[0][1] == unit else 0
        assert (row["expected"], row["participants"]) == (30, playing)
        assert Fraction(row["participation"]["exact"]) == Fraction(playing, 30)
        results = Fraction(passed_levels, 12) / playing
        assert Fraction(row["results"]["exact"]) == results
        assert Fraction(row["score"]["exact"]) == Fraction(playing, 30) / 2 + results / 2
        assert row["name"]
    untouched = rows["unit-industry"] if "unit-industry" not in {u for _, u in players} \
        else rows["branch-2"]
    assert untouched["participants"] == 0 and untouched["participation"]["value"] == 0
    # a unit's administrator sees their unit only
    mine = requests.get(f"{base}/api/v1/admin/participation", headers=unit_admin,
                        timeout=30).json()
    assert [r["org_unit_id"] for r in mine["units"]] == ["unit-education"]
    assert mine["branches"] == []
    member = login(base, embedded["sms"], "13800000010")[0]
    assert requests.get(f"{base}/api/v1/admin/participation", headers=member,
                        timeout=10).status_code == 403


def test_a_requests_correlation_id_reaches_every_service_it_calls(embedded, caplog):
    base = embedded["base"]
    member = login(base, embedded["sms"], "13800000010")[0]
    caplog.handler.addFilter(logs.CorrelationFilter())
    with caplog.at_level(logging.DEBUG, logger="kernel.logs"):
        r = requests.get(f"{base}/api/v1/me", timeout=10,
                         headers=dict(member, **{"X-Request-Id": "trace-me-0001"}))
        assert r.ok and r.headers["X-Request-Id"] == "trace-me-0001"
        other = requests.get(f"{base}/api/v1/campaign", headers=member, timeout=10)
    fresh = other.headers["X-Request-Id"]
    assert len(fresh) == 32 and fresh != "trace-me-0001"
    starts = [(rec.service, rec.getMessage(), rec.correlation_id) for rec in caplog.records
              if rec.name == "kernel.logs"]
    traced = {(service, message) for service, message, cid in starts if cid == "trace-me-0001"}
    # /me asks roster for the member, attempts for the progress, ranking for my ranks
    assert traced == {("gateway", "gateway.me starts"), ("roster", "roster.get_member starts"),
                      ("attempts", "attempts.progress starts"),
                      ("ranking", "ranking.my_rank starts"),
                      # each RPC answered: one INFO line with its outcome
                      ("roster", "roster.get_member ok"), ("attempts", "attempts.progress ok"),
                      ("ranking", "ranking.my_rank ok")}
    answered = [rec for rec in caplog.records if rec.getMessage().endswith(" ok")]
    assert answered and all(rec.levelno == logging.INFO for rec in answered)
    assert {s for s, _, cid in starts if cid == fresh} >= {"gateway", "question_bank"}
