"""The admin page of a fresh install in a real browser (issue 19 items 3 and 5): the
checklist says what to do first and ticks as it is done; a campaign is made from the
template and published on the 活动 tab. Screenshots: artifacts/screenshots/admin-setup.png,
admin-campaigns.png."""
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


@pytest.fixture
def fresh(tmp_path):
    """An install with its organisation and its first administrator, nothing else."""
    need_browser()
    bus.reset()
    clock.install(clock.OffsetClock(datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)))
    port = free_port()
    running = EmbeddedPlatform(embedded_settings(str(tmp_path), port)).start()
    with running.rpc() as rpc:
        rpc.roster.upsert_org_units(demo.TREE)
        assert not rpc.roster.import_members([demo.member_rows(per_category=1)[0]])["errors"]
    yield running, f"http://127.0.0.1:{port}"
    running.stop()


def test_the_checklist_ticks_as_a_campaign_is_made_and_published(fresh):
    running, base = fresh
    script = os.path.join(ROOT, "tests", "browser", "campaigns_flow.py")
    done = subprocess.run([sys.executable, script, base, running.settings.sms_file,
                           demo.SYSTEM_ADMIN_PHONE, SHOTS], capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["policy_violations"] == []
    assert seen["setup_title"] == "开始使用：请按顺序完成以下几步"
    assert [(step, state) for step, state, _ in seen["before"]] == [
        ("organisation", "yes"), ("campaign", "no"), ("members", "no"), ("questions", "no")]
    assert "导入成员名单" in seen["before"][2][2]
    [draft] = seen["draft_rows"]
    assert draft[:3] == ["2027", "2027年“每月一关”学习答题闯关", "草稿"] and draft[5] == "12"
    assert seen["draft_flash"].startswith("已新建草稿")
    assert seen["published_rows"][0][2] == "当前活动"
    assert [state for _, state, _ in seen["after"]] == ["yes", "yes", "no", "no"]
