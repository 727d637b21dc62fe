"""The member page in a real browser (Debian's Chromium, headless, phone-sized): log in,
pass level 1 with a refresh in the middle, fail level 2, see my place. Screenshots go to
artifacts/screenshots/."""
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.e2e.conftest import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, "artifacts", "screenshots")


def browser_missing():
    if not os.path.exists("/usr/bin/chromium"):
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture
def platform(tmp_path):
    reason = browser_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} — .ci/run installs it under CI", pytrace=False)
        pytest.skip(reason)
    bus.reset()
    clock.install(clock.OffsetClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)))
    port = free_port()
    running = EmbeddedPlatform(embedded_settings(str(tmp_path), port)).start()
    with running.rpc() as rpc:
        demo.load(rpc)
    yield running, f"http://127.0.0.1:{port}"
    running.stop()


def test_member_passes_fails_refreshes_and_sees_their_place(platform):
    running, base = platform
    shutil.rmtree(SHOTS, ignore_errors=True)
    script = os.path.join(ROOT, "tests", "browser", "member_flow.py")
    done = subprocess.run(
        [sys.executable, script, base, running.settings.sms_file, "13800000031", SHOTS],
        capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["kept_after_refresh"] is True
    assert seen["level1"] == "闯关成功！"
    assert seen["level2_title"] == "第2关"
    assert seen["level2"] == "未通过，再试一次" and "19/20" in seen["level2_text"]
    assert seen["my_row"].split()[0] == "1"  # first on the system board
    assert seen["english_title"].startswith("One Level a Month")
    for name in ("member-login", "member-levels", "member-attempt", "member-result",
                 "member-board"):
        assert os.path.getsize(os.path.join(SHOTS, f"{name}.png")) > 1000
