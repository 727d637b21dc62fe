"""Issue 23 items 1, 2 and 5 over HTTP on the embedded platform with the demo (its clock:
2018-05-20): the live contest's shortlist (R6/R17), the units' reports (R19) and the
winners' list, each as JSON and as XLSX (opened with openpyxl), each scoped as the admin
reads are: a unit's administrator sees their unit's rows, the system administrator all.

Who plays (the demo's places: phone n sits in education, industry, branch-1, branch-2 for
n = 1, 2, 3, 4 mod 4): 05 and 09 (education), 06 (industry) and 07 (branch-1) pass level 1
with time to spare; 10 (industry) passes at once and is flagged (its award held); 09 is
then disqualified (R20)."""
import io

import openpyxl
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, EDUCATION_ADMIN, INDUSTRY_ADMIN = "13800000000", "13800000001", "13800000002"
STEADY = {"13800000005": 60, "13800000006": 120, "13800000007": 180, "13800000009": 90}
FAST = "13800000010"


def _play(embedded, phone, seconds):
    base = embedded["base"]
    auth, member = login(base, embedded["sms"], phone)
    paper = start(base, auth, 1)
    if seconds:
        embedded["clock"].advance(seconds=seconds)
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=auth,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"], r.text
    return auth, member


def _get(base, auth, path, status=200, **params):
    r = requests.get(f"{base}/api/v1{path}", headers=auth, params=params, timeout=30)
    assert r.status_code == status, r.text
    return r


def _book(response):
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return openpyxl.load_workbook(io.BytesIO(response.content))


def play_may(embedded) -> dict:
    """The plays above, on the demo's 2018-05-20: {phone: member}."""
    members = {phone: _play(embedded, phone, seconds)[1] for phone, seconds in STEADY.items()}
    members[FAST] = _play(embedded, FAST, 0)[1]  # submitted at once: flagged
    return members


def close_may(embedded, admin) -> None:
    """09 disqualified, the clock on to 2018-06-01, March to May closed."""
    base = embedded["base"]
    target = login(base, embedded["sms"], "13800000009")[1]["member_id"]
    r = requests.post(f"{base}/api/v1/admin/members/{target}/disqualify", headers=admin,
                      json={"reason": "代答"}, timeout=10)
    assert r.status_code == 200, r.text
    embedded["clock"].advance(days=12)
    admin = login(base, embedded["sms"], SYSTEM)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        r = requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin, json={},
                          timeout=30)
        assert r.status_code == 200, r.text


def test_shortlist_unit_reports_and_winners(embedded):
    base = embedded["base"]
    members = play_may(embedded)
    admin = login(base, embedded["sms"], SYSTEM)[0]
    education = login(base, embedded["sms"], EDUCATION_ADMIN)[0]
    ids = {phone: m["member_id"] for phone, m in members.items()}
    wait_for(lambda: _get(base, admin, "/admin/flags", reviewed="false").json()["items"],
             what="the fast pass flagged")
    r = requests.put(f"{base}/api/v1/admin/awards-settings", headers=admin,
                     json={"shortlist_size": 4}, timeout=10)
    assert r.status_code == 200 and r.json()["shortlist_size"] == 4

    # 1. the shortlist, provisional: R13's order (the fast pass first), full phones for the
    # system administrator, the flagged member marked
    def live():
        page = _get(base, admin, "/admin/shortlist").json()
        return page if len(page["items"]) == 4 else None
    page = wait_for(live, what="the live board")
    assert (page["month"], page["final"], page["size"], page["full_phones"]) == (
        None, False, 4, True)
    assert [row["phone"] for row in page["items"]] == [
        FAST, "13800000005", "13800000009", "13800000006"]
    assert [row["open_flags"] > 0 for row in page["items"]] == [True, False, False, False]
    first = page["items"][0]
    assert (first["unit_name"], first["branch_name"]) == ("省产业工会", None)
    assert first["department"] and first["name"] and first["levels"] == 1
    mine = _get(base, education, "/admin/shortlist").json()
    assert [row["member_id"] for row in mine["items"]] == [ids["13800000005"],
                                                           ids["13800000009"]]
    assert mine["full_phones"] is False and "*" in mine["items"][0]["phone"]
    book = _book(_get(base, admin, "/admin/shortlist.xlsx"))
    rows = list(book.active.values)
    assert rows[1][:6] == ("名次", "姓名", "单位", "支部", "部门", "手机号")
    assert [row[5] for row in rows[2:6]] == [FAST, "13800000005", "13800000009",
                                             "13800000006"]
    assert rows[-1][:2] == ("合计", "4 人") and rows[-1][9] == "待复核 1 人"
    assert "暂定名单" in rows[0][0]

    # R20: a disqualified member leaves the shortlist and the next moves up
    r = requests.post(f"{base}/api/v1/admin/members/{ids['13800000009']}/disqualify",
                      headers=admin, json={"reason": "代答"}, timeout=10)
    assert r.status_code == 200, r.text

    def moved_up():
        page = _get(base, admin, "/admin/shortlist").json()
        phones = [row["phone"] for row in page["items"]]
        return phones if "13800000009" not in phones else None
    assert wait_for(moved_up, what="the disqualified off the shortlist") == [
        FAST, "13800000005", "13800000006", "13800000007"]

    # a month still open has no final list; close March to May
    r = _get(base, admin, "/admin/shortlist", 409, month="2018-05")
    assert r.json()["error"]["reason"] == "month_open"
    embedded["clock"].advance(days=12)  # 2018-06-01: the tokens have expired
    admin = login(base, embedded["sms"], SYSTEM)[0]
    education = login(base, embedded["sms"], EDUCATION_ADMIN)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        r = requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin, json={},
                          timeout=30)
        assert r.status_code == 200, r.text
    page = _get(base, admin, "/admin/shortlist", month="2018-05").json()
    assert page["month"] == "2018-05" and page["final"] is False and page["cutoff"]
    branch_member = page["items"][3]  # 07: an organ branch outside the units
    assert (branch_member["unit_name"], branch_member["branch_name"]) == ("省总工会", "机关第一党支部")
    assert [row["phone"] for row in page["items"]] == [FAST, "13800000005", "13800000006",
                                                       "13800000007"]

    # 2. the units' reports: the unit's administrator their unit, month by month
    report = _get(base, education, "/admin/reports/units").json()
    assert report["months"] == ["2018-03", "2018-04", "2018-05"]
    [unit] = report["organisations"]
    assert (unit["org_unit_id"], unit["name"], unit["kind"]) == (
        "unit-education", "省教科文卫工会", "unit")
    assert [m["participants"] for m in unit["months"]] == [0, 0, 2]
    assert unit["now"]["participants"] == 2 and unit["now"]["expected"] > 2
    assert unit["now"]["levels_passed"] == 1  # the disqualified participant's count 0 (R18)
    chase = {m["member_id"] for m in unit["not_played"]}
    assert len(chase) == unit["now"]["expected"] - 2
    assert not chase & {ids["13800000005"], ids["13800000009"]}
    assert all(m["name"] and m["place"] == "省教科文卫工会" for m in unit["not_played"])
    participation = _get(base, education, "/admin/participation").json()
    [live_unit] = participation["units"]
    assert live_unit["expected"] == unit["now"]["expected"]
    assert live_unit["score"]["value"] == unit["now"]["score"]
    r = _get(base, education, "/admin/reports/units.xlsx", 403, unit_id="unit-industry")
    assert r.json()["error"]["reason"] == "outside_scope"
    _get(base, education, "/admin/reports/units.xlsx", 404, unit_id="no-such-unit")
    book = _book(_get(base, education, "/admin/reports/units.xlsx"))
    assert book.sheetnames == ["省教科文卫工会"]
    rows = list(book.active.values)
    assert rows[1] == ("月份", "应参加人数", "已参加人数", "参与率", "成绩", "综合分", "排名", "通关总数")
    assert [row[0] for row in rows[2:6]] == ["2018-03 月末", "2018-04 月末", "2018-05 月末",
                                             "截至目前"]
    assert rows[5][1:3] == (unit["now"]["expected"], 2)
    absent_at = next(i for i, row in enumerate(rows) if str(row[0]).startswith("尚未参加人员"))
    assert rows[absent_at][0] == f"尚未参加人员（{len(chase)} 人）"
    assert len([row for row in rows[absent_at + 2:] if row[0]]) == len(chase)

    everyone = _get(base, admin, "/admin/reports/units").json()
    assert {o["org_unit_id"] for o in everyone["organisations"]} == {
        "unit-education", "unit-industry", "branch-1", "branch-2"}
    book = _book(_get(base, admin, "/admin/reports/units.xlsx"))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 5
    summary = list(book["汇总"].values)
    total = summary[-1]
    assert total[0] == "合计"
    assert total[2] == sum(o["now"]["expected"] for o in everyone["organisations"])
    assert total[3] == 5  # 05, 06, 07, 09 and 10 played
    assert total[9] == sum(len(o["not_played"]) for o in everyone["organisations"])

    # 5. the winners' list: May's, to every member; held (10, flagged) and disqualified (09)
    # are not on it, names masked
    member = login(base, embedded["sms"], "13800000011")[0]

    def winners():
        got = _get(base, member, "/winners").json()
        return got if got["places"] else None
    got = wait_for(winners, what="May's awards")
    assert got["month"] == "2018-05" and got["months"][0] == "2018-05"
    assert [w["place"] for w in got["places"]] == [2, 3, 4]  # 1: the held award of 10
    assert [w["unit_name"] for w in got["places"]] == ["省教科文卫工会", "省产业工会",
                                                        "机关第一党支部"]
    assert all("*" in w["name"] for w in got["places"])
    assert got["champion"] is None  # May's champion (10) is held
    assert got["annual"] is None
    assert _get(base, member, "/winners", month="2018-05").json() == got
    r = _get(base, member, "/winners", 409, month="2018-06")
    assert r.json()["error"]["reason"] == "month_open"
    _get(base, member, "/admin/winners.xlsx", 403)
    book = _book(_get(base, education, "/admin/winners.xlsx", month="2018-05"))
    rows = list(book.active.values)
    assert rows[1] == ("名次", "姓名", "单位", "闯关数", "用时", "奖金（元）")
    assert [row[0] for row in rows[2:5]] == [2, 3, 4]
    assert rows[-1][:2] == ("合计", "3 人") and rows[-1][5] == 900


def test_after_the_year_the_winners_list_names_the_annual_awards(embedded):
    """The campaign's last month closed: the annual champion (masked) and the excellent
    units and organ branches join the list; the shortlist on that month is final."""
    base = embedded["base"]
    _play(embedded, "13800000005", 60)  # education
    _play(embedded, "13800000007", 90)  # branch-1
    embedded["clock"].advance(days=165)  # 2018-11-01: the campaign is over
    admin = login(base, embedded["sms"], SYSTEM)[0]
    months = _get(base, admin, "/admin/months").json()["months"]
    for month in [m["month"] for m in months]:
        r = requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin, json={},
                          timeout=30)
        assert r.status_code == 200, r.text
    last = months[-1]["month"]
    page = _get(base, admin, "/admin/shortlist", month=last).json()
    assert page["final"] is True
    assert [row["phone"] for row in page["items"]] == ["13800000005", "13800000007"]
    assert "最终名单" in list(_book(_get(base, admin, "/admin/shortlist.xlsx",
                                          month=last)).active.values)[0][0]
    member = login(base, embedded["sms"], "13800000011")[0]
    got = wait_for(lambda: _get(base, member, "/winners").json()["annual"],
                   what="the annual results")
    assert got["champion"]["unit_name"] == "省教科文卫工会" and "*" in got["champion"]["name"]
    assert got["units"] == ["省教科文卫工会"] and got["branches"] == ["机关第一党支部"]
    book = _book(_get(base, admin, "/admin/winners.xlsx"))
    assert book.sheetnames[-1] == "年度表彰"
    rows = list(book["年度表彰"].values)
    assert rows[1] == ("奖项", "名称", "单位")
    assert [row[0] for row in rows[2:]] == ["年度个人冠军", "优秀直属单位", "优秀机关支部"]
