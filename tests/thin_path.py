"""The thin path of the foundation, over HTTP, shared by the embedded and distributed tests:
log in with a code → start level 1 → submit all right → passed and on the system board;
another member submits one wrong answer → failed and still on level 1."""
import time

import requests

from services.question_bank.demo import solve_demo


def wait_for(predicate, timeout=20.0, every=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def last_code(sms_file, phone):
    try:
        with open(sms_file, encoding="utf-8") as f:
            lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except FileNotFoundError:
        return None
    codes = [parts[2] for parts in lines if len(parts) >= 3 and parts[1] == phone]
    return codes[-1] if codes else None


def login(base, sms_file, phone):
    r = requests.post(f"{base}/api/v1/auth/code", json={"phone": phone}, timeout=10)
    assert r.status_code == 202, r.text
    code = wait_for(lambda: last_code(sms_file, phone), what=f"a login code for {phone}")
    r = requests.post(f"{base}/api/v1/auth/token", json={"phone": phone, "code": code},
                      timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}, r.json()["member"]


def start(base, auth, level):
    """Start an attempt; a member just registered may not have reached attempts yet."""
    def attempt():
        r = requests.post(f"{base}/api/v1/attempts", json={"level": level}, headers=auth,
                          timeout=30)
        if r.status_code == 403:  # the roster event is still on its way
            return None
        assert r.status_code == 200, r.text
        return r.json()
    return wait_for(attempt, what="the member to be known to attempts")


def answers_for(paper):
    return {q["id"]: solve_demo(q) for q in paper["questions"]}


def play(base, sms_file, winner_phone, loser_phone):
    auth, member = login(base, sms_file, winner_phone)
    paper = start(base, auth, 1)
    assert len(paper["questions"]) == 20
    # no answer key reaches the client: only what a question shows
    assert "key" not in paper
    assert all(set(q) == {"id", "number", "type", "stem", "options"} for q in paper["questions"])
    assert all(set(o) == {"key", "text"} for q in paper["questions"] for o in q["options"])
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                      json={"answers": answers_for(paper)}, headers=auth, timeout=30)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["passed"] is True and result["correct"] == 20
    assert result["run"]["levels_passed"] == 1

    def on_board():
        r = requests.get(f"{base}/api/v1/leaderboards/system", headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        return [e for e in r.json()["entries"] if e["member_id"] == member["member_id"]]

    r = requests.get(f"{base}/api/v1/campaign", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    states = [lv["state"] for lv in r.json()["campaign"]["levels"]]
    assert states[:2] == ["passed", "open"] and states[-1] == "locked"
    r = requests.get(f"{base}/api/v1/me", headers=auth, timeout=10)
    assert r.status_code == 200 and r.json()["progress"]["active_run"]["levels_passed"] == 1
    assert r.json()["member"]["phone_masked"].count("*") == 4

    [entry] = wait_for(on_board, what="the pass to reach the system board")
    assert entry["levels"] == 1 and entry["rank"] == 1
    assert entry["total_ms"] == result["duration_ms"]

    auth2, member2 = login(base, sms_file, loser_phone)
    paper2 = start(base, auth2, 1)
    answers = answers_for(paper2)
    first = paper2["questions"][0]
    answers[first["id"]] = [o["key"] for o in first["options"]
                            if [o["key"]] != answers[first["id"]]][:1]
    r = requests.post(f"{base}/api/v1/attempts/{paper2['attempt_id']}/submit",
                      json={"answers": answers}, headers=auth2, timeout=30)
    assert r.status_code == 200, r.text
    failed = r.json()
    assert failed["passed"] is False and failed["correct"] == 19
    assert failed["reason"] == "wrong_answers" and failed["run"]["current_level"] == 1
    r = requests.post(f"{base}/api/v1/attempts", json={"level": 2}, headers=auth2, timeout=10)
    assert r.status_code == 409, r.text  # still on level 1
    return {"winner": member, "loser": member2, "result": result, "failed": failed}
