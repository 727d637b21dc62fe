"""A member's own awards over HTTP (issue 21 item 3): none before a month is closed; after May
closes, the month's champion and prize with their amounts, payable, then paid once finance
says so; another member sees only theirs. Responses are checked against /openapi.json."""
import requests

from challenge import demo
from tests.thin_path import answers_for, login, start, wait_for

MEMBER, OTHER = "13800000005", "13800000006"


def mine(base, auth):
    r = requests.get(f"{base}/api/v1/me/awards", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_my_awards_from_none_to_paid(embedded):
    base, sms = embedded["base"], embedded["sms"]
    member = login(base, sms, MEMBER)[0]
    assert mine(base, member)["items"] == []
    paper = start(base, member, 1)
    embedded["clock"].advance(seconds=120)  # not a fast pass: a flag would hold the awards
    requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                  json={"answers": answers_for(paper)}, timeout=10)
    embedded["clock"].advance(days=12)  # 2018-06-01: May is over (the tokens expired)
    admin = login(base, sms, demo.SYSTEM_ADMIN_PHONE)[0]
    member, other = login(base, sms, MEMBER)[0], login(base, sms, OTHER)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        r = requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin, json={},
                          timeout=60)
        assert r.status_code == 200, r.text
    got = wait_for(lambda: mine(base, member)["items"] or None, what="May's awards")
    assert [(a["period"], a["kind"], a["rank"], a["amount_cny"], a["state"]) for a in got] == [
        ("2018-05", "monthly_champion", 1, None, "payable"),
        ("2018-05", "monthly_prize", 1, 300, "payable")]
    assert mine(base, other)["items"] == []
    prize = next(a for a in requests.get(f"{base}/api/v1/admin/awards/2018-05", headers=admin,
                                         timeout=10).json()["items"]
                 if a["kind"] == "monthly_prize")
    r = requests.post(f"{base}/api/v1/admin/awards/{prize['id']}/paid", headers=admin,
                      json={}, timeout=10)
    assert r.status_code == 200, r.text
    states = {a["kind"]: a["state"] for a in mine(base, member)["items"]}
    assert states == {"monthly_champion": "payable", "monthly_prize": "paid"}
