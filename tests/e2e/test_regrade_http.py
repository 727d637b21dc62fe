"""A wrongly keyed question corrected and its papers regraded over HTTP (issue 18 item 7;
R12, R13), on the embedded platform with the demo (its clock: 2018-05-20, levels 1–3 open):
the dry run reports who changes and changes nothing; the real run passes the member at the
original time, moves the run on, reaches the board and the audit log."""
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, MEMBER = "13800000000", "13800000007"
LETTERS = "ABCDEF"


def test_a_corrected_key_regrades_the_paper_dry_run_first(embedded):
    base, sms = embedded["base"], embedded["sms"]
    admin = login(base, sms, SYSTEM)[0]
    member, me = login(base, sms, MEMBER)
    paper = start(base, member, 1)
    answers = answers_for(paper)
    # the member answers one single-choice question "wrong": the bank's key is what is wrong
    shown = next(q for q in paper["questions"] if q["type"] == "single")
    chosen = next(o for o in shown["options"] if [o["key"]] != answers[shown["id"]])
    answers[shown["id"]] = [chosen["key"]]
    embedded["clock"].advance(seconds=95)
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                      json={"answers": answers}, timeout=30)
    assert r.status_code == 200 and not r.json()["passed"] and r.json()["correct"] == 19
    submitted_at = r.json()["submitted_at"]

    bank = requests.get(f"{base}/api/v1/admin/questions", headers=admin,
                        params={"level": 1, "limit": 500}, timeout=10).json()["items"]
    question = next(q for q in bank if q["id"] == shown["id"])
    letter = LETTERS[question["options"].split("|").index(chosen["text"])]
    embedded["clock"].advance(hours=2)  # the key is corrected later that day
    r = requests.patch(f"{base}/api/v1/admin/questions/{shown['id']}", headers=admin,
                       json={"answer": letter}, timeout=10)
    assert r.status_code == 200 and r.json()["answer"] == letter

    url = f"{base}/api/v1/admin/questions/{shown['id']}/regrade"
    dry = requests.post(url, headers=admin, json={}, timeout=30)  # a dry run by default
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] and report["regraded"] == 1
    [now] = report["now_passed"]
    assert (now["member_id"], now["name"]) == (me["member_id"], me["name"])
    assert now["correct_before"] == 19 and now["correct_after"] == 20
    progress = requests.get(f"{base}/api/v1/me", headers=member, timeout=10).json()["progress"]
    assert progress["active_run"]["current_level"] == 1  # nothing written

    r = requests.post(url, headers=admin, json={"dry_run": False}, timeout=30)
    assert r.status_code == 200 and not r.json()["dry_run"] and r.json()["regraded"] == 1
    progress = requests.get(f"{base}/api/v1/me", headers=member, timeout=10).json()["progress"]
    assert progress["active_run"]["current_level"] == 2
    assert progress["active_run"]["levels_passed"] == 1
    [attempt] = requests.get(f"{base}/api/v1/attempts", headers=member,
                             timeout=10).json()["items"]
    assert (attempt["status"], attempt["submitted_at"]) == ("passed", submitted_at)
    assert attempt["regraded_at"] is not None and attempt["superseded"] is False

    def on_board():
        board = requests.get(f"{base}/api/v1/leaderboards/system", headers=member,
                             timeout=10).json()
        return next((e for e in board["entries"] if e["member_id"] == me["member_id"]), None)
    entry = wait_for(on_board, what="the regraded pass on the board")
    assert (entry["levels"], entry["total_ms"]) == (1, 95_000)

    audit = requests.get(f"{base}/api/v1/admin/audit", headers=admin, timeout=10).json()
    regraded = next(e for e in audit["items"] if e["action"] == "attempts_regraded")
    assert (regraded["service"], regraded["target"]) == ("attempts", shown["id"])
    assert regraded["detail"]["now_passed"] == [paper["attempt_id"]]

    again = requests.post(url, headers=admin, json={"dry_run": False}, timeout=30).json()
    assert again["regraded"] == 0 and again["unchanged"] == 1  # idempotent


def test_a_voided_question_is_retired_and_a_unit_administrator_may_not_regrade(embedded):
    base, sms = embedded["base"], embedded["sms"]
    admin = login(base, sms, SYSTEM)[0]
    question = requests.get(f"{base}/api/v1/admin/questions", headers=admin,
                            params={"level": 2, "limit": 1}, timeout=10).json()["items"][0]
    url = f"{base}/api/v1/admin/questions/{question['id']}"
    r = requests.post(f"{url}/void", headers=admin, json={}, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "retired"
    r = requests.post(f"{url}/void", headers=admin, json={}, timeout=10)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "question_voided"
    listed = requests.get(f"{base}/api/v1/admin/questions", headers=admin,
                          params={"level": 2, "status": "retired"}, timeout=10).json()
    assert [q["voided_at"] is not None for q in listed["items"]] == [True]
    unit_admin = login(base, sms, "13800000001")[0]
    r = requests.post(f"{url}/regrade", headers=unit_admin, json={}, timeout=10)
    assert r.status_code == 403
