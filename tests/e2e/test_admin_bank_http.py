"""Campaign, level and question-bank administration over HTTP and `challenge bank import`,
on the embedded platform (the demo's clock: 2018-05-20, levels 1–3 open)."""
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

import openpyxl
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, EDU_ADMIN, MEMBER = "13800000000", "13800000001", "13800000005"
SHEET = [{"level": 4, "type": "single", "stem": "“两个维护”的核心是维护谁的核心地位？",
          "options": ["习近平总书记", "党中央", "全党"], "answer": "A", "topic": "十九大"},
         {"level": 4, "type": "judge", "stem": "党章规定党员必须履行义务。", "answer": "对"},
         {"level": 4, "type": "multiple", "stem": "下列说法正确的是", "options": "甲|乙",
          "answer": "AD"}]


def auth_of(embedded, phone=SYSTEM):
    return login(embedded["base"], embedded["sms"], phone)[0]


def test_levels_are_edited_before_they_open_and_forced_after(embedded):
    base, auth = embedded["base"], auth_of(embedded)
    embedded["clock"].advance(seconds=1)  # after the demo's loading, in the audit log
    r = requests.patch(f"{base}/api/v1/admin/campaign/levels/4", headers=auth,
                       json={"time_limit_s": 540, "mix": {"easy": 20}}, timeout=10)
    assert r.status_code == 200, r.text
    level4 = r.json()["levels"][3]
    assert level4["time_limit_s"] == 540 and level4["warnings"] == []
    r = requests.patch(f"{base}/api/v1/admin/campaign/levels/1", headers=auth,
                       json={"time_limit_s": 600}, timeout=10)
    assert r.status_code == 409 and "force" in r.json()["error"]["fields"]
    r = requests.patch(f"{base}/api/v1/admin/campaign/levels/1", headers=auth,
                       json={"time_limit_s": 600, "force": True}, timeout=10)
    assert r.status_code == 200 and r.json()["levels"][0]["time_limit_s"] == 600
    r = requests.patch(f"{base}/api/v1/admin/campaign/levels/4", headers=auth_of(
        embedded, EDU_ADMIN), json={"time_limit_s": 600}, timeout=10)
    assert r.status_code == 403  # a unit administrator does not edit the campaign
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=auth, timeout=10).json()
    assert [(e["service"], e["action"]) for e in audit["items"][:2]] == [
        ("question_bank", "level_updated"), ("question_bank", "level_updated")]
    assert audit["items"][0]["detail"]["forced"] is True
    # attempts applies the new limit once level_updated has reached its replica
    member = auth_of(embedded, MEMBER)
    time.sleep(1)
    paper = start(base, member, 1)
    limit = datetime.fromisoformat(paper["deadline"]) - datetime.fromisoformat(
        paper["started_at"])
    assert limit == timedelta(seconds=600)


def test_question_import_export_edit_and_retire(embedded, tmp_path):
    base, auth = embedded["base"], auth_of(embedded)
    data = json.dumps(SHEET, ensure_ascii=False).encode()
    r = requests.post(f"{base}/api/v1/admin/questions/import", headers=auth,
                      files={"file": ("q.json", data)}, data={"dry_run": "true"}, timeout=30)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], [(e["row"], e["column"]) for e in r.json()["errors"]]) == (
        2, [(4, "answer")])
    listed = requests.get(f"{base}/api/v1/admin/questions", headers=auth,
                          params={"level": 4}, timeout=10).json()
    assert listed["total"] == 30  # the demo's; the dry run added nothing
    r = requests.post(f"{base}/api/v1/admin/questions/import", headers=auth,
                      files={"file": ("q.json", data)}, timeout=30)
    assert r.json()["created"] == 2
    csv = requests.get(f"{base}/api/v1/admin/questions/export", headers=auth,
                       params={"format": "csv", "level": 4}, timeout=10)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfid,level,type")
    assert "attachment" in csv.headers["Content-Disposition"]
    assert "“两个维护”" in csv.content.decode("utf-8-sig")
    xlsx = requests.get(f"{base}/api/v1/admin/questions/export", headers=auth,
                        params={"format": "xlsx"}, timeout=10)
    rows = list(openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.values)
    assert len(rows) == 1 + 12 * 30 + 2
    mine = next(q for q in requests.get(f"{base}/api/v1/admin/questions", headers=auth,
                                        params={"query": "两个维护"}, timeout=10).json()["items"])
    r = requests.patch(f"{base}/api/v1/admin/questions/{mine['id']}", headers=auth,
                       json={"answer": "E"}, timeout=10)
    assert r.status_code == 400 and "answer" in r.json()["error"]["fields"]
    r = requests.patch(f"{base}/api/v1/admin/questions/{mine['id']}", headers=auth,
                       json={"explanation": "见十九大报告"}, timeout=10)
    assert r.status_code == 200 and r.json()["explanation"] == "见十九大报告"
    r = requests.post(f"{base}/api/v1/admin/questions/{mine['id']}/retire", headers=auth,
                      json={}, timeout=10)
    assert r.json()["status"] == "retired"
    assert requests.get(f"{base}/api/v1/admin/questions", headers=auth_of(embedded, EDU_ADMIN),
                        timeout=10).status_code == 403  # answers are for the bank's admins
    sheet = tmp_path / "题库.csv"
    sheet.write_bytes(("关卡,题型,题干,选项,答案\n5,单选,新题,甲|乙,B\n5,单选,,甲|乙,B\n")
                      .encode("gbk"))
    env = dict(os.environ, CHALLENGE_TOKEN=auth["Authorization"][7:])
    run = subprocess.run([sys.executable, "-m", "challenge.cli", "bank", "import", str(sheet),
                          "--url", base], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stderr
    assert "created   1" in run.stdout and "row 3, stem" in run.stdout


def test_statistics_follow_the_attempts(embedded):
    base = embedded["base"]
    member = auth_of(embedded, MEMBER)
    paper = start(base, member, 1)
    wrong = dict(answers_for(paper))
    first = paper["questions"][0]["id"]
    wrong[first] = [k for k in ("A", "B") if [k] != wrong[first]][:1]
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                      json={"answers": wrong}, timeout=10)
    assert r.json()["passed"] is False
    paper = start(base, member, 1)
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"] is True
    admin = auth_of(embedded)

    def counted():
        stats = requests.get(f"{base}/api/v1/admin/campaign/levels/1/statistics",
                             headers=admin, timeout=10).json()
        return stats if stats["attempts"] == 2 else None

    stats = wait_for(counted, what="both attempts in the statistics")
    assert (stats["passes"], stats["pass_rate"], stats["mean_attempts_to_pass"]) == (
        1, 0.5, 2.0)
    by_id = {q["question_id"]: q for q in stats["questions"]}
    assert by_id[first]["wrong"] == 1 and stats["most_wrong"][0]["question_id"] == first


def test_a_fast_pass_is_flagged_for_review(embedded):
    base = embedded["base"]
    member = auth_of(embedded, MEMBER)
    paper = start(base, member, 1)  # the fake clock stands still: a pass in 0 ms
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=member,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"]
    admin = auth_of(embedded)

    def flagged():
        r = requests.get(f"{base}/api/v1/admin/flags", headers=admin,
                         params={"reviewed": "false"}, timeout=10)
        return r.json()["items"] if r.status_code == 200 else None

    [flag] = wait_for(flagged, what="the fast pass flagged")
    assert (flag["reason"], flag["attempt_id"]) == ("fast_pass", paper["attempt_id"])
    other_unit = auth_of(embedded, "13800000002")  # the other unit's administrator
    seen = requests.get(f"{base}/api/v1/admin/flags", headers=other_unit, timeout=10).json()
    assert seen["total"] == 0  # 13800000005 is in unit-education
    r = requests.post(f"{base}/api/v1/admin/flags/{flag['flag_id']}/review", headers=admin,
                      json={"note": "线下核实：本人作答", "outcome": "cleared"}, timeout=10)
    assert r.status_code == 200 and r.json()["review_note"] == "线下核实：本人作答"
    assert flagged() == []
    assert requests.get(f"{base}/api/v1/admin/flags", headers=member,
                        timeout=10).status_code == 403
