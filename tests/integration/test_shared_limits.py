"""The gateway's limits hold across replicas: two gateway processes on one PostgreSQL (as two
pods behind the Service) count the per-address login codes and the per-member requests
together, so N requests split across both meet the limit at N, not 2N (gateway/counters.py)."""
import time

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.thin_path import login

LIMITS = {"LOGIN_CODES_PER_ADDRESS_HOUR": "5", "LOGIN_TRIES_PER_ADDRESS_10MIN": "1000",
          "MEMBER_REQUESTS_PER_MINUTE": "6"}


def clear_of_the_bucket_edge(seconds, margin):
    """Start a count well inside one bucket: a count that straddles the edge would meet the
    two-bucket estimate, whose weights the test does not mean to check."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.5)


@pytest.mark.parametrize("platform", [{"env": LIMITS}], indirect=True)
def test_two_gateways_count_one_limit(platform):
    processes = platform["processes"]
    gateways = [platform["base"], processes.start_gateway_replica()]
    with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
        demo.load(rpc)
    phones = [m["phone"] for m in demo.member_rows()[3:10]]

    clear_of_the_bucket_edge(3600, 60)
    auth = login(gateways[0], platform["sms"], phones[0])[0]  # the address's first code
    asked = [requests.post(f"{gateways[i % 2]}/api/v1/auth/code", json={"phone": phone},
                           timeout=10) for i, phone in enumerate(phones[1:])]
    assert [r.status_code for r in asked] == [202] * 4 + [429] * 2, [r.text for r in asked]
    assert {r.json()["error"]["reason"] for r in asked[4:]} == {"address_limit"}

    clear_of_the_bucket_edge(60, 20)
    answers = [requests.get(f"{gateways[i % 2]}/api/v1/me", headers=auth, timeout=10)
               for i in range(8)]
    assert [r.status_code for r in answers] == [200] * 6 + [429] * 2
    refused = answers[-1]
    assert refused.json()["error"]["reason"] == "member_limit"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    counts = processes.sql("gateway", "SELECT scope, sum(n) FROM limit_counts GROUP BY scope")
    assert dict(counts) == {"codes": 5, "tries": 1, "member": 6}  # refusals are not counted
