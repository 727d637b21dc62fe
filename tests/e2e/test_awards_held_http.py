"""Issue 18 over HTTP on the embedded platform (the demo's clock: 2018-05-20): a winner with
an open flag is held (the ledger's 状态 says 待审核 and why, the payable total leaves them
out, finance cannot mark them paid) until an administrator clears the flag; the award
settings read and changed (audited); a closed month's awards granted again on request
(`challenge awards grant`, idempotent) and the months table saying none is missing."""
import io
import os
import subprocess
import sys

import openpyxl
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, FAST, STEADY = "13800000000", "13800000005", "13800000003"


def cli(embedded, token, *args):
    return subprocess.run([sys.executable, "-m", "challenge.cli", *args, "--url",
                           embedded["base"]], env=dict(os.environ, CHALLENGE_TOKEN=token),
                          capture_output=True, text=True, timeout=60)


def test_a_flagged_winner_is_held_until_the_flag_is_cleared(embedded):
    base = embedded["base"]
    steady = login(base, embedded["sms"], STEADY)[0]
    paper = start(base, steady, 1)
    embedded["clock"].advance(seconds=120)  # 6 s a question: not flagged
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=steady,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"]
    fast = login(base, embedded["sms"], FAST)[0]
    paper = start(base, fast, 1)  # submitted at once: under the fast_pass floor, flagged
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=fast,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"]
    embedded["clock"].advance(days=12)  # 2018-06-01
    admin = login(base, embedded["sms"], SYSTEM)[0]
    token = admin["Authorization"][7:]

    def open_flags():
        r = requests.get(f"{base}/api/v1/admin/flags", headers=admin,
                         params={"reviewed": "false"}, timeout=10)
        return r.json()["items"] or None

    [flag] = wait_for(open_flags, what="the fast pass flagged")
    for month in ("2018-03", "2018-04", "2018-05"):
        assert cli(embedded, token, "month", "close", month).returncode == 0

    def awards():
        items = requests.get(f"{base}/api/v1/admin/awards/2018-05", headers=admin,
                             timeout=10).json()["items"]
        return items if len(items) == 3 else None

    items = wait_for(awards, what="May's awards")
    status = {(a["member_id"] == flag["member_id"], a["kind"]): a["status"] for a in items}
    assert status == {(True, "monthly_champion"): "held", (True, "monthly_prize"): "held",
                      (False, "monthly_prize"): "granted"}
    held = next(a for a in items if a["status"] == "held" and a["amount_cny"])
    assert held["remark"].startswith("待审核") and held["held_for"][0]["state"] == "open"
    r = requests.post(f"{base}/api/v1/admin/awards/{held['id']}/paid", headers=admin,
                      json={}, timeout=10)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "award_held"

    r = requests.get(f"{base}/api/v1/admin/awards/2018-05/ledger.xlsx", headers=admin,
                     timeout=10)
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.values)
    assert rows[1][9] == "状态"
    by_rank = {(row[0], row[1]): row for row in rows[2:] if row and isinstance(row[0], int)}
    assert by_rank[(1, "月度奖励")][9] == "待审核" and "答题用时过短" in by_rank[(1, "月度奖励")][10]
    assert by_rank[(2, "月度奖励")][9] == "待发放"
    totals = {row[0]: row[8] for row in rows if row and row[0] in ("待审核", "合计")}
    assert totals == {"待审核": 300, "合计": 300}  # the payable total leaves the held out

    # clearing releases money: a unit's administrator may not clear (the campaign's may)
    for phone in ("13800000001", "13800000002"):
        unit_admin = login(base, embedded["sms"], phone)[0]
        r = requests.post(f"{base}/api/v1/admin/flags/{flag['flag_id']}/review",
                          headers=unit_admin, json={"note": "本单位认可", "outcome": "cleared"},
                          timeout=10)
        assert r.status_code == 403, r.text
    assert {a["status"] for a in awards() if a["member_id"] == held["member_id"]} == {"held"}
    r = requests.post(f"{base}/api/v1/admin/flags/{flag['flag_id']}/review", headers=admin,
                      json={"note": "线下核实：本人作答", "outcome": "cleared"}, timeout=10)
    assert r.status_code == 200 and r.json()["outcome"] == "cleared"
    wait_for(lambda: all(a["status"] == "granted" for a in awards() or [{"status": "held"}]),
             what="the held awards released")
    r = requests.post(f"{base}/api/v1/admin/awards/{held['id']}/paid", headers=admin,
                      json={}, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "paid"
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=admin, timeout=10).json()
    actions = {(e["service"], e["action"]) for e in audit["items"]}
    assert {("awards", "award_released"), ("awards", "award_paid")} <= actions

    # a closed month's awards granted again on request: there already, nothing changes
    done = cli(embedded, token, "awards", "grant", "2018-05")
    assert done.returncode == 0 and "already granted" in done.stdout, done.stderr
    r = requests.post(f"{base}/api/v1/admin/awards/2018-05/grant", headers=admin, json={},
                      timeout=10)
    assert r.status_code == 200 and (r.json()["granted"], r.json()["awards"]) == (False, 3)
    months = requests.get(f"{base}/api/v1/admin/months", headers=admin, timeout=10).json()
    assert [m.get("awards_missing") for m in months["months"]][:3] == [False, False, False]


def test_the_award_settings_are_read_changed_and_audited(embedded):
    base = embedded["base"]
    admin = login(base, embedded["sms"], SYSTEM)[0]
    got = requests.get(f"{base}/api/v1/admin/awards-settings", headers=admin,
                       timeout=10).json()
    assert (got["exclude_inactive"], got["exclude_withdrawn"], got["exclude_bank_admins"],
            got["monthly_needs_pass_in_month"]) == (True, True, False, True)
    embedded["clock"].advance(minutes=1)  # after the demo's own entries, newest first
    r = requests.put(f"{base}/api/v1/admin/awards-settings", headers=admin,
                     json={"exclude_bank_admins": True, "excellent_units": 5}, timeout=10)
    assert r.status_code == 200
    assert (r.json()["exclude_bank_admins"], r.json()["excellent_units"]) == (True, 5)
    assert r.json()["updated_by_name"] and r.json()["updated_at"]
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=admin, timeout=10).json()
    [changed] = [e for e in audit["items"] if e["action"] == "award_settings_changed"]
    assert changed["detail"]["after"]["exclude_bank_admins"] is True
    assert changed["actor_name"] == r.json()["updated_by_name"]
