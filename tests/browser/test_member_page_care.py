"""The member page as people use it (issue 21 items 1-4), in a real browser on the embedded
platform with a fake clock: two members pass level 1 in May in the same time (a tie), May is
closed into awards (one of them paid), then the page shows my awards, the rules, the fail and
the timeout screens; then ranking is stopped and the page keeps the member, the levels and the
paper, and says the boards are away. Screenshots: artifacts/screenshots/member-*.png."""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests

from challenge import demo
from kernel import clock
from tests.browser.test_member_page import ROOT, SHOTS, demo_platform
from tests.thin_path import answers_for, login, start, wait_for

WINNER, SECOND = "13800000040", "13800000041"
FAKE = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))


@pytest.fixture(autouse=True)
def _the_modules_clock():
    clock.install(FAKE)  # tests/conftest.py puts the system clock back after each test


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with demo_platform(tmp_path_factory.mktemp("care"), FAKE, rpc_timeout_seconds=2.0) as running:
        yield running


def flow(phase, base, token):
    script = os.path.join(ROOT, "tests", "browser", "member_care_flow.py")
    done = subprocess.run([sys.executable, script, phase, base, token, SHOTS],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def close_may_with_a_tie(base, sms):
    """Both pass level 1 in 2′00″ to the millisecond; May is closed and granted."""
    players = [login(base, sms, phone)[0] for phone in (WINNER, SECOND)]
    papers = [start(base, auth, 1) for auth in players]
    FAKE.advance(seconds=120)  # not a fast pass: a flag would hold the awards
    for auth, paper in zip(players, papers):
        r = requests.post(f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                          headers=auth, json={"answers": answers_for(paper)}, timeout=10)
        assert r.json()["passed"], r.text
    FAKE.advance(days=12)  # 2018-06-01 09:00 Shanghai: May is over, the tokens expired
    admin = login(base, sms, demo.SYSTEM_ADMIN_PHONE)[0]
    for month in ("2018-03", "2018-04", "2018-05"):
        r = requests.post(f"{base}/api/v1/admin/months/{month}/close", headers=admin, json={},
                          timeout=60)
        assert r.status_code == 200, r.text
    items = wait_for(lambda: [a for a in requests.get(
        f"{base}/api/v1/admin/awards/2018-05", headers=admin, timeout=10).json()["items"]
        if a["kind"] == "monthly_prize"] or None, what="May's prizes")
    return admin, items


def test_my_awards_the_rules_and_the_fail_and_timeout_screens(platform):
    running, base = platform
    sms = running.settings.sms_file
    admin, prizes = close_may_with_a_tie(base, sms)
    auth, member = login(base, sms, WINNER)
    mine = [a for a in prizes if a["member_id"] == member["member_id"]]
    r = requests.post(f"{base}/api/v1/admin/awards/{mine[0]['id']}/paid", headers=admin,
                      json={}, timeout=10)
    assert r.status_code == 200, r.text
    # GET /api/v1/me/awards: the member's words for each state
    got = requests.get(f"{base}/api/v1/me/awards", headers=auth, timeout=10).json()
    assert {(a["period"], a["kind"], a["amount_cny"], a["state"]) for a in got["items"]} >= {
        ("2018-05", "monthly_prize", 300, "paid")}
    # item 1: the page's first paint is its loading state (nothing hidden behind a script)
    page = requests.get(f"{base}/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert '<section id="loading" aria-live="polite" aria-busy="true">' in page.text
    # item 4: the page and JSON gzipped
    assert page.headers["Content-Encoding"] == "gzip"
    board = requests.get(f"{base}/api/v1/campaign", headers=dict(auth, **{
        "Accept-Encoding": "gzip"}), timeout=10)
    assert board.headers["Content-Encoding"] == "gzip" and board.json()["campaign"]

    seen = flow("awards", base, auth["Authorization"][7:])
    assert seen["policy_violations"] == []
    # item 3: my awards, per month, kind, amount and state
    rows = {tuple(row) for row in seen["awards"]}
    assert ("2018年5月", "月度奖励（第1名）", "300元", "已发放") in rows \
        or ("2018年5月", "月度奖励（第2名）", "300元", "已发放") in rows, rows
    assert all(row[3] in ("待发放", "已发放", "审核中", "已取消") for row in rows)
    # item 4: the copy
    assert seen["best"] == "最好成绩：已通过1关，用时2′00″"
    assert seen["level_line"] == "开放时间：2018年3月12日 · 5分钟"
    assert "2018年5月榜" in seen["months"] and "2018年4月榜" in seen["months"]
    # the two members share 2′00.000″: said to the millisecond and as a tie
    tied = [row for row in seen["board"] if row[4].startswith("2′00.000″")]
    assert len(tied) == 2 and all(row[4].endswith("并列") for row in tied), seen["board"]
    assert seen["favicon"].startswith("data:image/svg+xml")
    assert seen["aria_lang"] == "切换到英文" and seen["aria_scopes"] == "排行范围"
    assert seen["english_aria_lang"] == "Switch to Chinese"
    assert seen["focus_outline"] == "rgb(26, 86, 219)"  # 6.2:1 on white
    # item 2: the rules
    rules = " ".join(seen["rules"])
    for words in ("20道题全部答对", "未通过的答题用时都计入总用时", "23时59分59秒",
                  "第1至5名各奖励300元", "第1关（", "开放，限时5分钟"):
        assert words in rules, words
    assert seen["english_rules_h"] == "The rules"
    assert ["May 2018", "Monthly prize (place 1)", "300 CNY", "Paid"] in seen["english_awards"] \
        or ["May 2018", "Monthly prize (place 2)", "300 CNY", "Paid"] in seen["english_awards"]
    # item 4: every option row is a target of at least 44×44 px, tapped anywhere
    assert seen["option_boxes"] and all(w >= 44 and h >= 44 for w, h in seen["option_boxes"])
    assert seen["row_tap_checks"] is True
    assert "多选题：选出全部正确的选项" in seen["question_kinds"]
    # item 2: the fail screen says what a pass needs and that the time was added
    assert seen["fail_h"] == "未通过，再试一次" and seen["fail_note_hidden"] is True
    assert seen["fail_notes"][0] == "通过本关须答对全部20题，本次答对19题。"
    assert seen["fail_notes"][1].startswith("本次用时") and "计入总用时" in seen["fail_notes"][1]
    # ... and after the clock ran out, that the paper was submitted
    assert seen["timeout_note"] == "时间到，已自动交卷"
    assert seen["timeout_h"] == "未通过，再试一次"
    for name in ("member-awards", "member-rules", "member-fail", "member-timeout",
                 "member-attempt-options", "member-desktop", "member-desktop-rules"):
        assert os.path.getsize(os.path.join(SHOTS, f"{name}.png")) > 1000


def test_a_stopped_ranking_never_logs_the_member_out(platform):
    running, base = platform
    auth, _ = login(base, running.settings.sms_file, SECOND)
    [ranking] = [c for c in running.runner.containers if c.service_name == "ranking"]
    ranking.stop()
    r = requests.get(f"{base}/api/v1/me", headers=auth, timeout=30)
    assert r.status_code == 503
    seen = flow("outage", base, auth["Authorization"][7:])
    assert seen["policy_violations"] == []
    # the levels' own 503 said, then tried again after its Retry-After (1 s), not a logout
    assert seen["load_failed"].startswith("暂时无法加载（") and "1秒后自动重试" in seen["load_failed"]
    assert seen["campaign_calls"] >= 2
    assert seen["levels"] == 12 and seen["login_hidden"] is True
    assert seen["boards_away"] == "暂时无法显示排行榜，稍后自动重试"
    assert seen["me_calls"] >= 2  # the boards tried again by themselves
    assert seen["token_kept"] is True and seen["still_logged_in"] is True
    assert seen["paper_questions"] == 20
    assert seen["refused_token"] == ["请重新登录", None]
    assert os.path.getsize(os.path.join(SHOTS, "member-outage.png")) > 1000
