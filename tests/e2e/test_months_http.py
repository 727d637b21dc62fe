"""Months over HTTP on the embedded platform (the demo's clock: 2018-05-20): `challenge month
close`, a closed month's board, and a month that cannot be closed yet."""
import os
import subprocess
import sys
import requests

from tests.thin_path import answers_for, login, start

SYSTEM, MEMBER = "13800000000", "13800000005"


def close(embedded, month, token):
    return subprocess.run(
        [sys.executable, "-m", "challenge.cli", "month", "close", month, "--url",
         embedded["base"]], env=dict(os.environ, CHALLENGE_TOKEN=token),
        capture_output=True, text=True, timeout=60)


def test_close_months_and_read_their_boards(embedded):
    base = embedded["base"]
    admin = login(base, embedded["sms"], SYSTEM)[0]
    token = admin["Authorization"][7:]
    member = login(base, embedded["sms"], MEMBER)[0]
    paper = start(base, member, 1)
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"]
    early = close(embedded, "2018-05", token)
    assert early.returncode == 2 and "409" in early.stderr  # May is not over
    r = requests.get(f"{base}/api/v1/leaderboards/system", headers=member,
                     params={"month": "2018-05"}, timeout=10)
    assert r.status_code == 409
    for month in ("2018-03", "2018-04"):
        done = close(embedded, month, token)
        assert done.returncode == 0, done.stderr
        assert f"{month} closed" in done.stdout and "0 ranked" in done.stdout
    embedded["clock"].advance(days=12)  # 2018-06-01 09:00 Shanghai: the tokens expired
    admin = login(base, embedded["sms"], SYSTEM)[0]
    token = admin["Authorization"][7:]
    member = login(base, embedded["sms"], MEMBER)[0]
    done = close(embedded, "2018-05", token)
    assert done.returncode == 0 and "1 ranked" in done.stdout, done.stderr
    again = close(embedded, "2018-05", token)
    assert again.stdout.split("snapshot")[1] == done.stdout.split("snapshot")[1]
    may = requests.get(f"{base}/api/v1/leaderboards/system", headers=member,
                       params={"month": "2018-05"}, timeout=10).json()
    assert [e["rank"] for e in may["entries"]] == [1] and may["month"] == "2018-05"
    assert may["entries"][0]["phone_masked"] == "138****0005"
    months = requests.get(f"{base}/api/v1/admin/months", headers=admin, timeout=10).json()
    assert [m["closed"] for m in months["months"]][:4] == [True, True, True, False]
    r = requests.get(f"{base}/api/v1/leaderboards/system", headers=member,
                     params={"month": "2018-5"}, timeout=10)
    assert r.status_code == 400 and "month" in r.json()["error"]["fields"]


def test_a_closed_month_grants_awards_and_exports_the_ledger(embedded, tmp_path):
    base = embedded["base"]
    member = login(base, embedded["sms"], MEMBER)[0]
    paper = start(base, member, 1)
    embedded["clock"].advance(seconds=120)  # not a fast pass: a flag would hold the awards
    requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                  json={"answers": answers_for(paper)}, timeout=10)
    embedded["clock"].advance(days=12)  # 2018-06-01
    admin = login(base, embedded["sms"], SYSTEM)[0]
    token = admin["Authorization"][7:]
    # issue 21 item 8: a month is offered for closing once past its cutoff, not before
    months = {m["month"]: m for m in requests.get(f"{base}/api/v1/admin/months", headers=admin,
                                                   timeout=10).json()["months"]}
    assert months["2018-05"]["closed"] or months["2018-05"]["closable"] is True
    assert months["2018-06"]["closable"] is False and not months["2018-06"]["closed"]
    for month in ("2018-03", "2018-04", "2018-05"):
        assert close(embedded, month, token).returncode == 0

    def awarded():
        items = requests.get(f"{base}/api/v1/admin/awards/2018-05", headers=admin,
                             timeout=10).json()["items"]
        return items if len(items) == 2 else None

    from tests.thin_path import wait_for

    items = wait_for(awarded, what="May's awards")
    assert {(a["kind"], a["rank"], a["amount_cny"]) for a in items} == {
        ("monthly_champion", 1, None), ("monthly_prize", 1, 300)}
    # a unit's administrator sees the awards of their own unit's members only
    unit = requests.get(f"{base}/api/v1/me", headers=login(base, embedded["sms"], MEMBER)[0],
                        timeout=10).json()["member"]["unit_id"]
    for phone, unit_of_admin in (("13800000001", "unit-education"),
                                 ("13800000002", "unit-industry")):
        seen = requests.get(f"{base}/api/v1/admin/awards/2018-05", timeout=10,
                            headers=login(base, embedded["sms"], phone)[0]).json()["items"]
        assert len(seen) == (2 if unit == unit_of_admin else 0), (phone, unit)
    out = tmp_path / "ledger.xlsx"
    run = subprocess.run([sys.executable, "-m", "challenge.cli", "awards", "export", "2018-05",
                          "--out", str(out), "--url", base],
                         env=dict(os.environ, CHALLENGE_TOKEN=token), capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    import openpyxl

    rows = list(openpyxl.load_workbook(out).active.values)
    assert rows[1][0] == "名次" and rows[-1][0] == "合计" and rows[-1][8] == 300
    # issue 21 item 11: a system administrator's ledger has the payee's full phone to call,
    # and a column for their signature
    assert rows[1][-1] == "签收" and {row[5] for row in rows[2:4]} == {MEMBER}
    # item 10: the months closed by hand are in the audit log, with who closed them
    audit = requests.get(f"{base}/api/v1/admin/audit?limit=50", headers=admin,
                         timeout=10).json()["items"]
    closes = [(a["detail"]["month"], a["actor_name"], a["service"]) for a in audit
              if a["action"] == "month_closed"]
    assert {month for month, _, _ in closes} == {"2018-03", "2018-04", "2018-05"}
    assert all(name and service == "ranking" for _, name, service in closes), closes


def test_the_award_policy_is_data_an_administrator_edits(embedded):
    base = embedded["base"]
    admin, who = login(base, embedded["sms"], SYSTEM)
    lines = requests.get(f"{base}/api/v1/admin/awards-policy", headers=admin,
                         timeout=10).json()["lines"]
    assert [(l["scope"], l["place_from"], l["place_to"], l["amount_cny"]) for l in lines] == [
        ("federation", 1, 5, 300), ("federation", 6, 15, 200), ("federation", 16, 30, 100),
        ("system", 1, 1, None)]
    bad = [dict(lines[0], place_from=9, place_to=3)]
    for line in bad + lines:
        line.pop("campaign_id", None)
    r = requests.put(f"{base}/api/v1/admin/awards-policy", headers=admin,
                     json={"lines": bad}, timeout=10)
    assert r.status_code == 400 and "place_to" in r.json()["error"]["fields"]
    lines[0]["amount_cny"] = 500
    embedded["clock"].advance(minutes=1)  # after the demo's own entries, newest first
    r = requests.put(f"{base}/api/v1/admin/awards-policy", headers=admin,
                     json={"lines": lines}, timeout=10)
    assert r.status_code == 200 and r.json()["lines"][0]["amount_cny"] == 500
    # a change of money: audited with who, and the lines before and after (the refused
    # change above wrote nothing)
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=admin, timeout=10).json()
    changes = [e for e in audit["items"] if e["action"] == "award_policy_changed"]
    assert len(changes) == 1 and changes[0]["service"] == "awards"
    assert changes[0]["actor_id"] == who["member_id"]
    amounts = {side: sorted(l["amount_cny"] or 0 for l in changes[0]["detail"][side])
               for side in ("before", "after")}
    assert amounts == {"before": [0, 100, 200, 300], "after": [0, 100, 200, 500]}
    member = login(base, embedded["sms"], MEMBER)[0]
    assert requests.put(f"{base}/api/v1/admin/awards-policy", headers=member,
                        json={"lines": lines}, timeout=10).status_code == 403
