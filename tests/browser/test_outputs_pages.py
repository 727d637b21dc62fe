"""The organisers' outputs in a real browser (issue 23 items 1, 2, 5): the shortlist, the
units' reports and the winners' list on the admin page, a unit administrator's report, and
the members' 本月获奖名单. Screenshots: artifacts/screenshots/admin-shortlist*.png,
admin-reports*.png, admin-winners*.png (phone, desktop, print), member-winners*.png."""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.browser.test_member_page import ROOT, SHOTS, need_browser
from tests.e2e.conftest import free_port
from tests.e2e.test_outputs_http import SYSTEM, close_may, play_may
from tests.thin_path import login, wait_for

import requests


@pytest.fixture
def played(tmp_path):
    """The demo, May played (a flagged fast pass, a disqualification) and closed."""
    need_browser()
    bus.reset()
    fake = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))
    clock.install(fake)
    port = free_port()
    running = EmbeddedPlatform(embedded_settings(str(tmp_path), port)).start()
    with running.rpc() as rpc:
        demo.load(rpc)
    embedded = {"base": f"http://127.0.0.1:{port}", "clock": fake,
                "sms": running.settings.sms_file}
    play_may(embedded)
    admin = login(embedded["base"], embedded["sms"], SYSTEM)[0]
    wait_for(lambda: requests.get(f"{embedded['base']}/api/v1/admin/flags", headers=admin,
                                  params={"reviewed": "false"}, timeout=10).json()["items"],
             what="the fast pass flagged")
    close_may(embedded, admin)
    member = login(embedded["base"], embedded["sms"], "13800000011")[0]
    wait_for(lambda: requests.get(f"{embedded['base']}/api/v1/winners", headers=member,
                                  timeout=10).json()["places"], what="May's awards")
    fake.advance(minutes=10)  # the logins above: their codes' resend wait is over
    yield running, embedded["base"]
    running.stop()


def test_the_outputs_on_the_admin_and_member_pages(played):
    running, base = played
    script = os.path.join(ROOT, "tests", "browser", "outputs_flow.py")
    done = subprocess.run([sys.executable, script, base, running.settings.sms_file, SYSTEM,
                           "13800000001", "13800000011", SHOTS], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["policy_violations"] == []
    assert seen["member_policy_violations"] == []
    assert {"现场赛名单", "单位报告", "获奖名单"} <= set(seen["tabs"])
    assert seen["shortlist_head"] == "现场赛入围名单（暂定名单）"
    phones = [row[5] for row in seen["shortlist"]]
    assert phones == ["13800000010", "13800000005", "13800000006", "13800000007"]
    assert "待复核" in seen["shortlist"][0][9] and seen["shortlist"][1][9] == ""
    assert seen["shortlist"][3][2:4] == ["省总工会", "机关第一党支部"]  # an organ branch's member
    assert [row[5] for row in seen["shortlist_may"]] == phones
    assert [row[0] for row in seen["reports"]] == [
        "省教科文卫工会", "省产业工会", "机关第一党支部", "机关第二党支部"] or len(seen["reports"]) == 4
    assert seen["winners_head"] == "2018-05 月度获奖名单"
    assert [row[0] for row in seen["winners"]] == ["2", "3", "4"]
    assert all("*" in row[1] for row in seen["winners"])
    [unit] = seen["unit_reports"]
    assert unit[0] == "省教科文卫工会"
    assert [row[0] for row in seen["unit_months"]] == [
        "2018-03 月末", "2018-04 月末", "2018-05 月末", "截至目前"]
    assert len(seen["unit_absent"]) == int(unit[8]) > 0
    assert all("*" in row[5] for row in seen["unit_shortlist"]) and len(seen["unit_shortlist"]) == 1
    assert seen["member_head"] == "2018-05获奖名单"
    assert [row[0] for row in seen["member_winners"]] == ["2", "3", "4"]
    for name in ("admin-shortlist", "admin-shortlist-desktop", "admin-shortlist-print",
                 "admin-reports", "admin-reports-desktop", "admin-winners",
                 "admin-winners-print", "admin-reports-unit", "member-winners",
                 "member-winners-desktop"):
        assert os.path.getsize(os.path.join(SHOTS, f"{name}.png")) > 1000
