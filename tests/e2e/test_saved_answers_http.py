"""Answers saved on the server as the member answers (issue 18 item 8), over HTTP on the
embedded platform with a fake clock: saved on one device, resumed on another (a new login,
a new token), and submitted by the deadline when nobody submits: it passes, timed by the
last save."""
from datetime import datetime, timezone

import requests

from challenge import demo
from tests.thin_path import answers_for, login, start, wait_for


def test_saved_on_one_device_resumed_on_another_and_submitted_by_the_deadline(embedded):
    base, fake = embedded["base"], embedded["clock"]
    phone = demo.member_rows()[5]["phone"]
    phone_a, _ = login(base, embedded["sms"], phone)
    paper = start(base, phone_a, 1)
    assert paper["saved_answers"] == {} and paper["saved_at"] is None
    # R15: started on 20 May, it counts in May if submitted by 31 May 23:59:59.999 local
    assert paper["month"] == "2018-05"
    assert datetime.fromisoformat(paper["month_cutoff"]) == datetime(
        2018, 5, 31, 15, 59, 59, 999000, tzinfo=timezone.utc)
    answers = answers_for(paper)
    url = f"{base}/api/v1/attempts/{paper['attempt_id']}/answers"
    fake.advance(seconds=30)
    half = dict(list(answers.items())[:10])
    saved = requests.put(url, headers=phone_a, json={"answers": half}, timeout=10)
    assert saved.status_code == 200 and saved.json()["answered"] == 10, saved.text
    fake.advance(seconds=12)
    saved = requests.put(url, headers=phone_a, json={"answers": answers}, timeout=10).json()
    assert saved["answered"] == 20
    fake.advance(seconds=5)  # the phone dies; the same save arrives again from a retry
    again = requests.put(url, headers=phone_a, json={"answers": answers}, timeout=10).json()
    assert again["saved_at"] == saved["saved_at"]

    fake.advance(seconds=15)  # a minute after the first code: another may be sent
    phone_b, _ = login(base, embedded["sms"], phone)  # another device
    resumed = start(base, phone_b, 1)
    assert resumed["attempt_id"] == paper["attempt_id"]
    assert resumed["saved_answers"] == {qid: sorted(keys) for qid, keys in answers.items()}

    fake.advance(seconds=paper["time_limit_s"])  # nobody submits: past deadline + grace
    late = requests.put(url, headers=phone_b, json={"answers": {}}, timeout=10)
    assert late.status_code == 409 and late.json()["error"]["reason"] == "attempt_closed"
    level2 = start(base, phone_b, 2)  # the deadline submitted level 1: the run moved on
    assert level2["level"] == 2
    mine = requests.get(f"{base}/api/v1/attempts", headers=phone_b, timeout=10).json()
    first = next(a for a in mine["items"] if a["attempt_id"] == paper["attempt_id"])
    assert (first["status"], first["auto_submitted"], first["correct"]) == ("passed", True, 20)
    assert first["duration_ms"] == 42_000  # R13: the last change, 42 s after the start
    assert first["submitted_at"] == paper["deadline"]
    board = wait_for(lambda: [e for e in requests.get(
        f"{base}/api/v1/leaderboards/system", headers=phone_b, timeout=10).json()["entries"]
        if e["member_id"] == paper_member(base, phone_b)], what="the pass on the board")
    assert (board[0]["levels"], board[0]["total_ms"]) == (1, 42_000)


def paper_member(base, auth):
    return requests.get(f"{base}/api/v1/me", headers=auth, timeout=10).json()["member"][
        "member_id"]
