"""The thin path through HTTP on the embedded platform (one process, in-memory bus, SQLite)."""
import requests

from challenge import demo
from tests.thin_path import play


def test_thin_path(embedded):
    members = demo.member_rows()
    outcome = play(embedded["base"], embedded["sms"], members[1]["phone"], members[2]["phone"])
    assert outcome["result"]["duration_ms"] == 0  # the fake clock stood still


def test_refresh_returns_the_same_attempt_and_time_left(embedded):
    from tests.thin_path import login, start

    auth, _ = login(embedded["base"], embedded["sms"], demo.member_rows()[3]["phone"])
    first = start(embedded["base"], auth, 1)
    embedded["clock"].advance(seconds=40)
    again = start(embedded["base"], auth, 1)
    assert again["attempt_id"] == first["attempt_id"]
    assert again["deadline"] == first["deadline"]
    assert again["questions"] == first["questions"]


def test_api_errors_have_the_contract_shape(embedded):
    base = embedded["base"]
    r = requests.post(f"{base}/api/v1/attempts", json={"level": 1}, timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = requests.post(f"{base}/api/v1/auth/code", json={"phone": "1", "extra": 1}, timeout=5)
    assert r.status_code == 400
    assert set(r.json()["error"]["fields"]) == {"extra"}
    r = requests.post(f"{base}/api/v1/auth/code", data="not json", timeout=5)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    r = requests.post(f"{base}/api/v1/auth/code", data=b"{" + b" " * 300_000 + b"}",
                      headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    # text no database keeps (NUL, a lone surrogate) is refused at the door, naming the field
    # (PostgreSQL answered a campaign id holding NUL with a 500)
    r = requests.post(f"{base}/api/v1/auth/code", data='{"phone": "138\\u0000"}',
                      headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["reason"] == "unstorable_text"
    assert set(r.json()["error"]["fields"]) == {"phone"}
    r = requests.post(f"{base}/api/v1/auth/code", data='{"phone": "\\udba3"}',
                      headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["reason"] == "unstorable_text"
    r = requests.get(f"{base}/api/v1/leaderboards/a%00b", timeout=5)
    assert r.status_code in (400, 401)  # the token is checked first or the text: never a 500
    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200 and all(ready.json()["services"].values())


def test_a_service_that_does_not_answer_gives_503_not_a_hung_request(embedded):
    from tests.thin_path import login

    auth, _ = login(embedded["base"], embedded["sms"], demo.member_rows()[4]["phone"])
    [attempts] = [c for c in embedded["platform"].runner.containers
                  if c.service_name == "attempts"]
    attempts.stop()
    r = requests.post(f"{embedded['base']}/api/v1/attempts", json={"level": 1}, headers=auth,
                      timeout=10)
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "service_unavailable"
    assert "attempts" in r.json()["error"]["message"]
    ready = requests.get(f"{embedded['base']}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["services"]["attempts"] is False
    assert ready.json()["services"]["roster"] is True


def test_restart_over_http(embedded):
    from tests.thin_path import answers_for, login, start

    base = embedded["base"]
    auth, _ = login(base, embedded["sms"], demo.member_rows()[5]["phone"])
    r = requests.post(f"{base}/api/v1/runs", json={}, headers=auth, timeout=10)
    assert r.status_code == 409 and "level" in r.json()["error"]["message"]
    for level in (1, 2, 3):  # on 2018-05-20 levels 1–3 are open
        paper = start(base, auth, level)
        r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                          json={"answers": answers_for(paper)}, headers=auth, timeout=10)
        assert r.json()["passed"], r.text
    r = requests.post(f"{base}/api/v1/runs", json={}, headers=auth, timeout=10)
    assert r.status_code == 201 and r.json()["run_number"] == 2
    assert start(base, auth, 1)["level"] == 1


def test_resend_too_soon_is_429_with_retry_after(embedded):
    base, phone = embedded["base"], demo.member_rows()[6]["phone"]
    assert requests.post(f"{base}/api/v1/auth/code", json={"phone": phone},
                         timeout=5).status_code == 202
    embedded["clock"].advance(seconds=20)
    r = requests.post(f"{base}/api/v1/auth/code", json={"phone": phone}, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "40"
    assert r.json()["error"]["code"] == "rate_limited"


def test_openapi_and_docs_are_served(embedded):
    base = embedded["base"]
    doc = requests.get(f"{base}/openapi.json", timeout=5)
    assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")
    assert "/api/v1/attempts" in doc.json()["paths"]
    page = requests.get(f"{base}/docs", timeout=5)
    assert page.status_code == 200 and "/openapi.json" in page.text


def test_login_codes_are_limited_per_address(embedded):
    base = embedded["base"]
    limits = next(e for c in embedded["platform"].runner.containers
                  if c.service_name == "gateway" for e in c.extensions
                  if type(e).__name__ == "AddressLimits")
    window = limits.codes.local  # the embedded platform counts in its one process
    window.limit = len(window.hits["127.0.0.1"]) + 2
    phones = [m["phone"] for m in demo.member_rows()[60:63]]
    assert [requests.post(f"{base}/api/v1/auth/code", json={"phone": p}, timeout=5).status_code
            for p in phones] == [202, 202, 429]
