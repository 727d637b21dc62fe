"""Campaigns as data and several campaigns over the years (issue 19 items 3 and 4), over HTTP
on the embedded platform with the demo (its 2018 campaign is 2018's template sheet imported
and published): a 2019 campaign made from the template, refused publication while 2018 runs,
published once 2018 has ended, its bank copied from 2018's, and played with its own boards,
while 2018's board and results stay as they were."""
import os
import subprocess
import sys
from datetime import datetime, timezone

import requests

from challenge import demo
from tests.thin_path import answers_for, login, start, wait_for

API = "/api/v1"
CHALLENGE = os.path.join(os.path.dirname(sys.executable), "challenge")


def get(base, path, auth, **params):
    r = requests.get(f"{base}{API}{path}", headers=auth, params=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def post(base, path, auth, status=200, **kwargs):
    r = requests.post(f"{base}{API}{path}", headers=auth, timeout=60, **kwargs)
    assert r.status_code == status, r.text
    return r.json()


def pass_level_1(base, auth):
    paper = start(base, auth, 1)
    return paper, post(base, f"/attempts/{paper['attempt_id']}/submit", auth,
                       json={"answers": answers_for(paper)})


def test_a_2019_campaign_after_2018_with_its_own_boards(embedded):
    base, sms, clock = embedded["base"], embedded["sms"], embedded["clock"]
    admin, _ = login(base, sms, demo.SYSTEM_ADMIN_PHONE)
    [demo_2018] = get(base, "/admin/campaigns", admin)["items"]
    assert demo_2018["year"] == 2018 and demo_2018["current"] and demo_2018["levels"] == 12
    assert get(base, "/admin/setup", admin) == {
        "organisation": True, "campaign": True, "members": True, "questions": True,
        "campaign_id": demo_2018["campaign_id"]}

    # 2019 from the template sheet: a dry run, then a draft
    template = requests.get(f"{base}{API}/admin/campaigns/template", headers=admin,
                            params={"year": 2019, "format": "csv"}, timeout=30)
    assert template.status_code == 200 and "2019-03-12" in template.content.decode("utf-8-sig")
    upload = {"file": ("campaign-2019.csv", template.content)}
    dry = post(base, "/admin/campaigns/import", admin, files=upload, data={"dry_run": "true"})
    assert (dry["created"], dry["errors"], dry["dry_run"]) == (12, [], True)
    draft = post(base, "/admin/campaigns/import", admin, files=upload)["campaign"]
    assert draft["published_at"] is None and draft["year"] == 2019
    # a bad sheet names its row and column, and changes nothing
    bad = template.content.decode("utf-8-sig").replace(",2019-04-01,360,", ",2019-04-01,100,")
    refused = post(base, "/admin/campaigns/import", admin,
                   files={"file": ("bad.csv", bad.encode())})
    assert [(e["row"], e["column"]) for e in refused["errors"]] == [(3, "限时秒")]

    # 2018 is running: 2019 waits for it to end
    r = requests.post(f"{base}{API}/admin/campaigns/{draft['campaign_id']}/publish",
                      headers=admin, json={}, timeout=30)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "campaign_still_running"

    member, me = login(base, sms, "13800000003")
    _, passed_2018 = pass_level_1(base, member)
    assert passed_2018["passed"]
    system_2018 = wait_for(lambda: get(base, "/leaderboards/system", member)["entries"],
                           what="2018's board")

    clock.set(datetime(2018, 11, 15, 1, 0, tzinfo=timezone.utc))  # 2018 has ended
    admin, _ = login(base, sms, demo.SYSTEM_ADMIN_PHONE)  # tokens last a day
    post(base, f"/admin/campaigns/{draft['campaign_id']}/publish", admin, json={})
    # the command line names campaigns by year
    dry = subprocess.run([CHALLENGE, "bank", "copy", "--from", "2018", "--to", "2019",
                          "--dry-run"], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, CHALLENGE_URL=base,
                                  CHALLENGE_TOKEN=admin["Authorization"][7:]))
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and "created   360" in dry.stdout
    copied = post(base, f"/admin/campaigns/{draft['campaign_id']}/bank/copy", admin,
                  json={"from_campaign_id": demo_2018["campaign_id"]})
    assert copied["created"] == 360 and copied["errors"] == []
    listed = {c["year"]: c for c in get(base, "/admin/campaigns", admin)["items"]}
    assert listed[2019]["current"] and not listed[2018]["current"]
    assert listed[2019]["active_questions"] == 360

    clock.set(datetime(2019, 3, 12, 1, 0, tzinfo=timezone.utc))  # 2019's first day, 09:00
    admin, _ = login(base, sms, demo.SYSTEM_ADMIN_PHONE)
    member, _ = login(base, sms, "13800000003")
    campaign = get(base, "/campaign", member)["campaign"]
    assert campaign["name"].startswith("2019年") and campaign["levels"][0]["state"] == "open"
    paper, passed_2019 = pass_level_1(base, member)
    assert passed_2019["passed"] and passed_2019["run"]["levels_passed"] == 1

    def board_2019():
        board = get(base, "/leaderboards/system", member)
        return board["campaign_id"] == draft["campaign_id"] and board["entries"]

    [entry] = wait_for(board_2019, what="2019's board")
    assert entry["member_id"] == me["member_id"]
    assert entry["total_ms"] == passed_2019["duration_ms"]
    # 2018's board is as it was, read by its id
    past = get(base, "/leaderboards/system", member, campaign_id=demo_2018["campaign_id"])
    assert past["entries"] == system_2018
    assert get(base, "/admin/campaign", admin,
               campaign_id=demo_2018["campaign_id"])["year"] == 2018

    # 2019's first month closes into 2019's own awards; 2018's are untouched
    clock.set(datetime(2019, 4, 2, 1, 0, tzinfo=timezone.utc))
    admin, _ = login(base, sms, demo.SYSTEM_ADMIN_PHONE)
    closed = post(base, "/admin/months/2019-03/close", admin, json={})
    assert closed["campaign_id"] == draft["campaign_id"] and closed["ranked_members"] == 1
    awards = wait_for(lambda: get(base, "/admin/awards/2019-03", admin)["items"],
                      what="2019-03's awards")
    assert {a["member_id"] for a in awards} == {me["member_id"]}
    assert get(base, "/admin/awards/2019-03", admin,
               campaign_id=demo_2018["campaign_id"])["items"] == []
    # a past campaign's month is still closed by hand, named by its year
    past = subprocess.run([CHALLENGE, "month", "close", "2018-03", "--campaign", "2018"],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, CHALLENGE_URL=base,
                                   CHALLENGE_TOKEN=admin["Authorization"][7:]))
    assert past.returncode == 0, past.stderr
    assert past.stdout.startswith("2018-03 closed")
    [march] = [m for m in get(base, "/admin/months", admin,
                              campaign_id=demo_2018["campaign_id"])["months"]
               if m["month"] == "2018-03"]
    assert march["closed"] and march["campaign_id"] == demo_2018["campaign_id"]
    assert get(base, "/admin/months", admin, campaign_id=demo_2018["campaign_id"])[
        "months"][0]["month"] == "2018-03"
    participation = get(base, "/admin/participation", admin,
                        campaign_id=demo_2018["campaign_id"])
    rows = participation["units"] + participation["branches"]
    assert participation["campaign_id"] == demo_2018["campaign_id"]
    assert sum(row["participants"] for row in rows) == 1  # the member's 2018 play


def test_a_fresh_install_says_what_to_do_and_members_see_no_campaign(tmp_path):
    """Before any campaign: the admin page's checklist is all unticked but the members, and a
    member's campaign is a clear refusal (404, reason no_campaign) the page words in Chinese,
    not an error."""
    from challenge.platform import EmbeddedPlatform, embedded_settings
    from kernel import bus
    from tests.distributed import free_port

    bus.reset()
    port = free_port()
    platform = EmbeddedPlatform(embedded_settings(str(tmp_path), port)
                                .with_(rpc_timeout_seconds=5.0)).start()
    try:
        with platform.rpc() as rpc:
            rpc.roster.upsert_org_units(demo.TREE)
            report = rpc.roster.import_members([dict(demo.member_rows(per_category=1)[0])])
            assert not report["errors"], report
        base, sms = f"http://127.0.0.1:{port}", platform.settings.sms_file
        admin, _ = login(base, sms, demo.SYSTEM_ADMIN_PHONE)
        assert get(base, "/admin/setup", admin) == {
            "organisation": True, "campaign": False, "members": False, "questions": False,
            "campaign_id": None}
        r = requests.get(f"{base}{API}/campaign", headers=admin, timeout=10)
        assert r.status_code == 404 and r.json()["error"]["reason"] == "no_campaign"
        assert get(base, "/admin/campaigns", admin) == {"items": []}
        made = post(base, "/admin/campaigns", admin, status=201, json={"year": 2027})
        assert made["created"] == 12 and made["campaign"]["published_at"] is None
        assert get(base, "/admin/setup", admin)["campaign"] is False  # a draft is not yet
    finally:
        platform.stop()
