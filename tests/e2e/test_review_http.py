"""Issue 23 items 3, 4 and 6 over HTTP on the embedded platform (the demo's clock: 2018-05-20):
a fast pass is flagged; the reviewers see the attempt (the campaign's administrator with the
answers, the key and which were wrong; the member's unit's administrator without them; the
other unit's not at all); the member is disqualified with the flag as evidence, loses May's
awards, and the R20 notice (JSON and XLSX) lists them with the amounts, by period and by
part of the organisation; notices reach their audience only; SMS reminders go to the
expected members who have not played, previewed first, at most one a day each, logged."""
import io
import os
import time

import openpyxl
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, FAST, STEADY = "13800000000", "13800000005", "13800000003"
EDUCATION_ADMIN, INDUSTRY_ADMIN = "13800000001", "13800000002"  # FAST is in education


def get(base, auth, path, **params):
    return requests.get(f"{base}/api/v1{path}", headers=auth, params=params, timeout=20)


def post(base, auth, path, body):
    return requests.post(f"{base}/api/v1{path}", headers=auth, json=body, timeout=20)


def test_review_disqualify_notice_and_reminders(embedded):
    base, sms = embedded["base"], embedded["sms"]
    steady = login(base, sms, STEADY)[0]
    paper = start(base, steady, 1)
    embedded["clock"].advance(seconds=120)
    assert post(base, steady, f"/attempts/{paper['attempt_id']}/submit",
                {"answers": answers_for(paper)}).json()["passed"]
    fast, fast_member = login(base, sms, FAST)
    paper = start(base, fast, 1)  # submitted at once: flagged
    answers = answers_for(paper)
    assert post(base, fast, f"/attempts/{paper['attempt_id']}/submit",
                {"answers": answers}).json()["passed"]
    admin = login(base, sms, SYSTEM)[0]
    [flag] = wait_for(lambda: get(base, admin, "/admin/flags").json()["items"] or None,
                      what="the fast pass flagged")

    # item 4: the review, whole for the campaign's administrator
    review = get(base, admin, f"/admin/members/{fast_member['member_id']}/review").json()
    assert review["with_keys"] and review["member"]["name"] == fast_member["name"]
    [attempt] = review["attempts"]
    assert attempt["status"] == "passed" and attempt["client_address"] == "127.0.0.1"
    assert attempt["flag_ids"] == [flag["flag_id"]] and attempt["submitted_at"]
    assert [q["id"] for q in attempt["questions"]] == [q["id"] for q in paper["questions"]]
    first, shown = attempt["questions"][0], paper["questions"][0]
    assert first["options"] == shown["options"]  # in the order the member saw them
    assert first["answer"] == sorted(answers[shown["id"]]) == first["key"]
    assert first["wrong"] is False
    assert [f["flag_id"] for f in review["flags"]] == [flag["flag_id"]]
    # the member's unit's administrator: the paper and times, no answers, keys or marks
    education = login(base, sms, EDUCATION_ADMIN)[0]
    seen = get(base, education, f"/admin/members/{fast_member['member_id']}/review").json()
    assert not seen["with_keys"] and seen["attempts"][0]["correct"] == attempt["correct"]
    for question in seen["attempts"][0]["questions"]:  # an option's `key` is its label
        assert not {"key", "answer", "wrong"} & set(question)
        assert question["options"] == attempt["questions"][question["number"] - 1]["options"]
    industry = login(base, sms, INDUSTRY_ADMIN)[0]
    r = get(base, industry, f"/admin/members/{fast_member['member_id']}/review")
    assert r.status_code == 403 and r.json()["error"]["reason"] == "outside_scope"
    plain = login(base, sms, STEADY)[0]
    assert get(base, plain, f"/admin/members/{fast_member['member_id']}/review"
               ).status_code == 403

    # May closes: FAST's awards are held; then disqualified with the flag as evidence
    embedded["clock"].advance(days=12)  # 2018-06-01: the tokens have expired
    admin, education, industry = (login(base, sms, phone)[0]
                                  for phone in (SYSTEM, EDUCATION_ADMIN, INDUSTRY_ADMIN))
    fast, steady = login(base, sms, FAST)[0], login(base, sms, STEADY)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        assert post(base, admin, f"/admin/months/{month}/close", {}).status_code == 200

    def awards(at_least=3):
        time.sleep(0.5)  # polled gently: the member limit counts the administrator's calls
        r = get(base, admin, "/admin/awards/2018-05")
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return items if len(items) >= at_least else None

    owed = {a["id"]: a["amount_cny"] or 0 for a in wait_for(awards, what="May's awards")
            if a["member_id"] == fast_member["member_id"]}
    r = post(base, admin, f"/admin/members/{fast_member['member_id']}/disqualify",
             {"reason": "答题用时异常", "evidence": "20题用时不足1秒", "flag_ids": [999]})
    assert r.status_code == 400 and r.json()["error"]["reason"] == "not_their_flag"
    r = post(base, admin, f"/admin/members/{fast_member['member_id']}/disqualify",
             {"reason": "答题用时异常", "evidence": "20题用时不足1秒",
              "flag_ids": [flag["flag_id"]]})
    assert r.status_code == 200, r.text
    def revoked():
        items = awards()
        return all(a["status"] == "revoked" for a in items if a["id"] in owed) and items

    wait_for(lambda: revoked() or None, what="FAST's awards revoked")

    # item 3: the R20 notice, JSON and XLSX, by period and part
    notice = get(base, admin, "/admin/r20-notice", **{"from": "2018-06-01"}).json()
    [case] = notice["items"]
    assert (case["name"], case["unit_name"], case["reason"]) == (
        fast_member["name"], "省教科文卫工会", "答题用时异常")
    assert case["evidence"] == "20题用时不足1秒" and case["flag_ids"] == [flag["flag_id"]]
    assert case["decided_by_name"] == "系统管理员"
    assert {a["award_id"] for a in case["revoked"]} == set(owed)
    assert set(notice) == {"campaign_id", "from", "until", "items", "disqualified",
                           "reinstated", "revoked_cny"}  # as R20NoticeOut documents it
    assert all(set(a) <= {"award_id", "period", "kind", "rank", "amount_cny", "revoked_at",
                          "reason"} for a in case["revoked"])
    assert case["revoked_cny"] == notice["revoked_cny"] == sum(owed.values()) > 0
    assert notice["disqualified"] == 1 and notice["reinstated"] == 0
    assert get(base, admin, "/admin/r20-notice", until="2018-05-31").json()["items"] == []
    assert get(base, industry, "/admin/r20-notice").json()["items"] == []
    assert len(get(base, education, "/admin/r20-notice").json()["items"]) == 1
    r = get(base, admin, "/admin/r20-notice.xlsx", **{"from": "2018-06-01"})
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.values)
    assert rows[0][:5] == ("姓名", "手机号", "单位", "取消资格日期", "原因")
    assert rows[1][0] == fast_member["name"] and rows[1][5] == "20题用时不足1秒"
    assert rows[-1][0] == "合计 1 人" and rows[-1][9] == sum(owed.values())
    r = get(base, admin, "/admin/r20-notice", **{"from": "2018-06-02", "until": "2018-06-01"})
    assert r.status_code == 400 and "until" in r.json()["error"]["fields"]

    # item 6: notices reach their audience; the campaign announces its own
    r = post(base, education, "/admin/notices", {
        "title": "本单位学习安排", "body": "周五下午集中学习", "audience_id": "unit-education",
        "starts_at": "2018-06-01T00:00:00+08:00", "ends_at": "2018-06-30T00:00:00+08:00"})
    assert r.status_code == 201, r.text
    r = post(base, education, "/admin/notices", {
        "title": "全体", "body": "越权", "audience_id": "unit-industry",
        "starts_at": "2018-06-01T00:00:00+08:00", "ends_at": "2018-06-30T00:00:00+08:00"})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "outside_scope"
    mine = get(base, fast, "/notices").json()["items"]  # FAST is in education
    assert [n["title"] for n in mine if n["kind"] == "notice"] == ["本单位学习安排"]
    assert any(n["kind"] == "level_open" and n["level"] == 4 for n in mine)
    assert all(set(n) == {"kind", "title", "body", "starts_at", "ends_at", "level"}
               for n in mine)  # no poster, no audience: a member's view of a notice
    others = get(base, steady, "/notices").json()["items"]  # STEADY is in a branch
    assert [n for n in others if n["kind"] == "notice"] == []
    assert len(get(base, education, "/admin/notices").json()["items"]) == 1

    # SMS reminders: previewed, sent once a day at most, logged and audited
    r = post(base, education, "/admin/reminders", {"kind": "level_open", "level": 1})
    assert r.status_code == 403  # the campaign's administrators only
    preview = post(base, admin, "/admin/reminders", {"kind": "level_open", "level": 1}).json()
    # expected: the demo's members, required or volunteers; STEADY and FAST have played
    # level 1 (and FAST is disqualified): neither is reminded
    assert preview["dry_run"] and preview["batch"] is None and preview["recipients"] > 100
    sent = post(base, admin, "/admin/reminders",
                {"kind": "level_open", "level": 1, "dry_run": False}).json()
    assert sent["recipients"] == preview["recipients"] and sent["batch"]
    log = os.path.join(os.path.dirname(sms), "sms-reminders.log")
    with open(log, encoding="utf-8") as lines:
        texts = [line.rstrip("\n").split("\t") for line in lines]
    assert len(texts) == sent["recipients"] and "第1关已开放" in texts[0][2]
    assert STEADY not in {t[1] for t in texts} and FAST not in {t[1] for t in texts}
    again = post(base, admin, "/admin/reminders",
                 {"kind": "level_open", "level": 1, "dry_run": False}).json()
    # everyone reminded today is at the cap: nobody is sent it twice
    assert again["capped"] == sent["recipients"] and again["recipients"] == 0
    # the month's reminder only in its last 3 days, as the member page's notice says
    r = post(base, admin, "/admin/reminders", {"kind": "month_end"})
    assert r.status_code == 409 and r.json()["error"]["reason"] == "month_end_not_yet"
    embedded["clock"].advance(days=27)  # 2018-06-28: the cap has passed (a new token too)
    admin = login(base, sms, SYSTEM)[0]
    later = post(base, admin, "/admin/reminders", {"kind": "month_end"}).json()
    assert later["recipients"] == later["expected_not_played"] > 0
    assert "6月30日24时" in later["text"]
    batches = get(base, admin, "/admin/reminders").json()
    assert [b["recipients"] for b in batches["items"]] == [sent["recipients"]]
    audit = get(base, admin, "/admin/audit").json()["items"]
    assert {"reminders_sent", "notice_posted", "member_disqualified"} <= {
        e["action"] for e in audit}
    embedded["clock"].advance(days=130)  # 2018-11-05: the campaign is over, nobody to remind
    admin = login(base, sms, SYSTEM)[0]
    r = post(base, admin, "/admin/reminders", {"kind": "level_open", "level": 1})
    assert r.status_code == 409 and r.json()["error"]["reason"] == "campaign_not_running"
