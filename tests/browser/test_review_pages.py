"""The review, the R20 notice and the notices in a real browser (issue 23 items 3, 4, 6).
Screenshots: artifacts/screenshots/admin-review*.png, admin-r20*.png (phone, desktop, print),
admin-notices*.png, admin-disqualify.png, member-notices*.png."""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.browser.test_member_page import ROOT, SHOTS, need_browser
from tests.e2e.conftest import free_port
from tests.thin_path import answers_for, login, start, wait_for

SYSTEM, FAST, STEADY, EDUCATION_ADMIN = "13800000000", "13800000005", "13800000003", "13800000001"


def _play(base, sms, fake, phone, seconds):
    auth, member = login(base, sms, phone)
    paper = start(base, auth, 1)
    fake.advance(seconds=seconds)
    r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit", headers=auth,
                      json={"answers": answers_for(paper)}, timeout=10)
    assert r.json()["passed"], r.text
    return member


@pytest.fixture
def reviewed(tmp_path):
    """The demo; STEADY and FAST (flagged) pass level 1 in May; May closed; a notice for
    everyone. (The page disqualifies FAST.)"""
    need_browser()
    bus.reset()
    fake = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))
    clock.install(fake)
    port = free_port()
    running = EmbeddedPlatform(embedded_settings(str(tmp_path), port)).start()
    with running.rpc() as rpc:
        demo.load(rpc)
    base, sms = f"http://127.0.0.1:{port}", running.settings.sms_file
    _play(base, sms, fake, STEADY, 120)
    _play(base, sms, fake, FAST, 0)
    admin = login(base, sms, SYSTEM)[0]
    wait_for(lambda: requests.get(f"{base}/api/v1/admin/flags", headers=admin,
                                  timeout=10).json()["items"], what="the flag")
    fake.advance(days=12)
    admin = login(base, sms, SYSTEM)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        assert requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin,
                             json={}, timeout=30).status_code == 200
    wait_for(lambda: requests.get(f"{base}/api/v1/admin/awards/2018-05", headers=admin,
                                  timeout=10).json()["items"], what="May's awards")
    r = requests.post(f"{base}/api/v1/admin/notices", headers=admin, json={
        "title": "六月学习安排", "body": "第4关已开放，请各单位组织学习。", "audience_id": None,
        "starts_at": "2018-06-01T00:00:00+08:00", "ends_at": "2018-06-15T00:00:00+08:00"},
        timeout=10)
    assert r.status_code == 201, r.text
    fake.advance(minutes=10)  # the logins above: their codes' resend wait is over
    yield running, base
    running.stop()


def test_review_notice_and_notices_pages(reviewed):
    running, base = reviewed
    script = os.path.join(ROOT, "tests", "browser", "review_flow.py")
    done = subprocess.run([sys.executable, script, base, running.settings.sms_file, SYSTEM,
                           EDUCATION_ADMIN, STEADY, SHOTS], capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["policy_violations"] == []
    assert seen["member_policy_violations"] == []
    assert {"答题审查", "取消资格通报", "通知与短信"} <= set(seen["tabs"])
    assert seen["review_head"] == "答题审查" and seen["review_attempts"][0].startswith("第1关 · 通过")
    assert seen["review_keys"] >= 20 and "127.0.0.1" in seen["review_facts"]
    [case] = seen["r20"]
    assert case[1] == "省教科文卫工会" and case[3] == "答题用时异常" and "代答" in case[4]
    assert seen["r20_totals"].startswith("合计：取消资格 1 人")
    assert seen["notices"][0][:2] == ["六月学习安排", "全体成员"]
    assert seen["sms_preview"].startswith("将发送给")
    assert seen["dialog"].startswith("取消资格") and seen["dialog_flags"] == [True]
    assert seen["members_dialog"].startswith("取消资格")
    assert "撤销奖金 0 元" not in seen["r20_totals"]
    assert seen["unit_keys"] == 0 and "活动" in seen["unit_note"]
    assert "六月学习安排" in seen["member_notices"] and "第4关已开放" in seen["member_notices"]
    for name in ("admin-review", "admin-review-desktop", "admin-r20", "admin-r20-desktop",
                 "admin-r20-print", "admin-notices", "admin-notices-desktop",
                 "admin-disqualify", "admin-review-unit", "member-notices",
                 "member-notices-desktop"):
        assert os.path.getsize(os.path.join(SHOTS, f"{name}.png")) > 5000, name
