"""What each reader may see and do, over HTTP on the embedded platform with the demo (clock
2018-05-20): per-question statistics and bank information for the bank's administrators only;
every file an administrator exports scoped as its JSON is; a deactivated or disqualified
member's token plays no more, and they leave the live boards as R20 says."""
import io
import sqlite3
from datetime import timedelta

import openpyxl
import requests

from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, EDUCATION_ADMIN, INDUSTRY_ADMIN = "13800000000", "13800000001", "13800000002"
EDUCATION_MEMBER, INDUSTRY_MEMBER = "13800000005", "13800000006"
BANK_FIELDS = {"active_questions", "mix", "warnings"}
LEVEL_FIGURES = {"campaign_id", "level", "attempts", "passes", "pass_rate", "members_tried",
                 "members_passed", "mean_attempts_to_pass", "expired"}


def get(base, path, auth, **params):
    return requests.get(f"{base}/api/v1{path}", headers=auth, params=params, timeout=30)


def submit(base, auth, paper, answers):
    return requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=auth,
                         json={"answers": answers}, timeout=30)


def one_wrong(paper):
    answers = answers_for(paper)
    first = paper["questions"][0]
    answers[first["id"]] = [o["key"] for o in first["options"]
                            if [o["key"]] != answers[first["id"]]][:1]
    return answers


# -- item 3: statistics are not an answer oracle ------------------------------------------------

def test_a_unit_administrator_who_plays_sees_no_question_of_the_bank(embedded):
    base, sms = embedded["base"], embedded["sms"]
    unit_admin = login(base, sms, EDUCATION_ADMIN)[0]
    system = login(base, sms, SYSTEM)[0]
    paper = start(base, unit_admin, 1)
    failed = submit(base, unit_admin, paper, one_wrong(paper)).json()
    assert failed["passed"] is False and failed["correct"] == 19

    def counted():
        figures = get(base, "/admin/campaign/levels/1/statistics", system).json()
        return figures if figures["attempts"] == 1 else None

    full = wait_for(counted, what="the failed attempt in the statistics")
    assert len(full["questions"]) == 20 and full["active_questions"] == 30
    mine = get(base, "/admin/campaign/levels/1/statistics", unit_admin)
    assert mine.status_code == 200 and set(mine.json()) == LEVEL_FIGURES
    assert mine.json()["pass_rate"] == 0.0 and mine.json()["members_tried"] == 1
    # the campaign as a unit's administrator and as a member: no bank information
    member = login(base, sms, EDUCATION_MEMBER)[0]
    for levels in (get(base, "/admin/campaign", unit_admin).json()["levels"],
                   get(base, "/campaign", member).json()["campaign"]["levels"]):
        assert levels and not any(BANK_FIELDS & set(level) for level in levels), levels[0]
    assert BANK_FIELDS <= set(get(base, "/admin/campaign", system).json()["levels"][0])
    assert get(base, "/admin/campaign/levels/1/statistics", member).status_code == 403


# -- item 4: every export as scoped as its JSON -------------------------------------------------

def close_the_campaign(embedded):
    """Every month closed (the clock at 2018-11-01), and the annual results computed."""
    base, sms = embedded["base"], embedded["sms"]
    embedded["clock"].set(embedded["clock"].now() + timedelta(days=165))
    system = login(base, sms, SYSTEM)[0]
    for month in range(3, 11):
        r = requests.post(f"{base}/api/v1/admin/months/2018-{month:02d}/close", headers=system,
                          json={}, timeout=120)
        assert r.status_code == 200, r.text
    wait_for(lambda: get(base, "/admin/annual", system).status_code == 200, timeout=60,
             what="the annual results")
    return system


def xlsx_rows(response):
    assert response.status_code == 200, response.text[:300]
    return [row for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.values]


def test_the_annual_results_file_shows_what_the_json_shows(embedded):
    base, sms = embedded["base"], embedded["sms"]
    champion = login(base, sms, INDUSTRY_MEMBER)
    paper = start(base, champion[0], 1)
    assert submit(base, champion[0], paper, answers_for(paper)).json()["passed"]
    auths = {SYSTEM: close_the_campaign(embedded)}
    auths.update({phone: login(base, sms, phone)[0]
                  for phone in (EDUCATION_ADMIN, INDUSTRY_ADMIN)})
    names = {"unit-education": "省教科文卫工会", "unit-industry": "省产业工会",
             "branch-1": "机关第一党支部", "branch-2": "机关第二党支部"}
    seen = {}
    for phone, auth in auths.items():
        results = get(base, "/admin/annual", auth).json()
        rows = xlsx_rows(get(base, "/admin/annual.xlsx", auth))
        in_file = {row[2] for row in rows[4:] if row and row[2]}
        in_json = {names[r["org_unit_id"]] for kind in ("units", "branches")
                   for r in results[kind]}
        assert in_file == in_json, phone
        assert rows[1][1] == (results["champion_name"] or "（无）"), phone
        seen[phone] = (in_json, results["champion_name"])
    assert seen[SYSTEM] == (set(names.values()), champion[1]["name"])
    assert seen[EDUCATION_ADMIN] == ({"省教科文卫工会"}, None)  # the champion is not theirs
    assert seen[INDUSTRY_ADMIN] == ({"省产业工会"}, champion[1]["name"])
    # the files that are the campaign administrators' alone stay theirs, as their JSON does
    unit_admin = auths[EDUCATION_ADMIN]
    for path in ("/admin/awards/2018-05/ledger.xlsx", "/admin/questions/export",
                 "/admin/questions"):
        assert get(base, path, unit_admin).status_code == 403, path
    participation = get(base, "/admin/participation", unit_admin).json()
    assert [r["org_unit_id"] for r in participation["units"]] == ["unit-education"]
    assert participation["branches"] == []


# -- item 5: a member who may play no more --------------------------------------------------------

def board_ids(base, auth):
    return [e["member_id"] for e in get(base, "/leaderboards/system", auth).json()["entries"]]


def on_level_2(embedded):
    """The system administrator, and a member who has passed level 1 and holds level 2's
    paper open."""
    base, sms = embedded["base"], embedded["sms"]
    system = login(base, sms, SYSTEM)[0]
    auth, member = login(base, sms, EDUCATION_MEMBER)
    paper = start(base, auth, 1)
    assert submit(base, auth, paper, answers_for(paper)).json()["passed"]
    return system, auth, member, start(base, auth, 2)


def test_a_deactivated_members_token_plays_no_more_and_leaves_the_board(embedded):
    base = embedded["base"]
    system, auth, member, paper = on_level_2(embedded)
    wait_for(lambda: member["member_id"] in board_ids(base, auth), what="the board")
    r = requests.patch(f"{base}/api/v1/admin/members/{member['member_id']}", headers=system,
                       json={"status": "inactive"}, timeout=30)
    assert r.status_code == 200 and r.json()["status"] == "inactive"
    audit = get(base, "/admin/audit", system).json()["total"]
    r = submit(base, auth, paper, answers_for(paper))
    assert r.status_code == 403 and r.json()["error"]["reason"] == "member_inactive"
    r = requests.post(f"{base}/api/v1/attempts", headers=auth, json={"level": 2}, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["reason"] == "member_inactive"

    def voided():
        items = get(base, "/attempts", auth).json()["items"]
        return items if items[0]["status"] == "voided" else None

    history = wait_for(voided, what="the open attempt voided")
    assert [a["status"] for a in history] == ["voided", "passed"]
    wait_for(lambda: member["member_id"] not in board_ids(base, system), what="off the board")
    me = get(base, "/me", auth).json()
    assert me["progress"]["active_run"]["levels_passed"] == 1  # nothing graded
    assert all(rank["rank"] is None for rank in me["ranks"])
    assert get(base, "/admin/audit", system).json()["total"] == audit
    # reactivated: back on the board, and playing again
    r = requests.patch(f"{base}/api/v1/admin/members/{member['member_id']}", headers=system,
                       json={"status": "active"}, timeout=30)
    assert r.status_code == 200
    wait_for(lambda: member["member_id"] in board_ids(base, system), what="back on the board")
    assert start(base, auth, 2)["level"] == 2


def test_a_submit_that_overtakes_roster_s_event_is_refused(embedded, tmp_path):
    """Roster has deactivated the member but attempts has not heard yet (here: never)."""
    base, sms = embedded["base"], embedded["sms"]
    system = login(base, sms, SYSTEM)[0]
    auth, member = login(base, sms, EDUCATION_MEMBER)
    paper = start(base, auth, 1)
    roster = sqlite3.connect(tmp_path / "roster.db")
    with roster:
        roster.execute("UPDATE members SET status = 'inactive' WHERE id = ?",
                       (member["member_id"],))
    roster.close()
    r = submit(base, auth, paper, answers_for(paper))
    assert r.status_code == 403 and r.json()["error"]["reason"] == "member_inactive"
    me = get(base, "/me", auth).json()
    assert me["progress"]["open_attempt"]["attempt_id"] == paper["attempt_id"]  # not graded
    assert me["progress"]["active_run"]["levels_passed"] == 0
    assert member["member_id"] not in board_ids(base, system)


def test_a_disqualified_member_plays_no_more_and_stays_marked_on_the_board(embedded):
    base = embedded["base"]
    system, auth, member, paper = on_level_2(embedded)
    r = requests.post(f"{base}/api/v1/admin/members/{member['member_id']}/disqualify",
                      headers=system, json={"reason": "shared the answers"}, timeout=30)
    assert r.status_code == 200
    r = submit(base, auth, paper, answers_for(paper))
    assert r.status_code == 403 and r.json()["error"]["reason"] == "member_disqualified"

    def marked():
        entries = get(base, "/leaderboards/system", system).json()["entries"]
        mine = [e for e in entries if e["member_id"] == member["member_id"]]
        return mine if mine and mine[0]["disqualified"] else None

    [entry] = wait_for(marked, what="the mark on the board")
    assert entry["rank"] is None and entry["levels"] == 1  # R20: kept, named, placeless
    wait_for(lambda: get(base, "/attempts", auth).json()["items"][0]["status"] == "voided",
             what="the open attempt voided")
