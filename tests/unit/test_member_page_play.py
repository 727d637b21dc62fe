"""Issue 18 items 8-10 on the member page, its own functions run by Node (no browser):
which answers a resumed attempt shows (this phone's unsaved changes, else the server's),
what the page says before an attempt starts (R15's cutoff, the campaign's end), and what a
restart means (R14), in Chinese first and in English."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")

ZONE = "Asia/Shanghai"
CUTOFF = "2018-10-31T15:59:59.999Z"  # 23:59:59.999 local: October's cutoff, the campaign's end


def part(source: str, start: str, end: str) -> str:
    begin = source.index(start)
    return source[begin:source.index(end, begin) + len(end)]


def run(lang: str, expression: str):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    script = "\n".join([
        part(common, "Challenge.fmt = ", "\n};"),
        part(PAGE, "const T = {", "\n};"),
        f"const lang = {json.dumps(lang)};",
        f"const state = {{ tz: {json.dumps(ZONE)} }};",
        "const fmt = Challenge.fmt;",
        re.search(r"^const t = .*$", PAGE, re.M).group(0),
        part(PAGE, "const when = ", "hour12: false });"),
        part(PAGE, "const monthName = ", "timeZone: \"UTC\" });"),
        part(PAGE, "function paperNotes(", "\n}"),
        part(PAGE, "function resumeWith(", "\n}"),
        f"console.log(JSON.stringify({expression}));",
    ])
    done = subprocess.run([node, "-e", "const Challenge = {};\n" + script],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ms(iso: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def notes(lang, now, limit_s=300, cutoff=CUTOFF, month="2018-10"):
    return run(lang, f"paperNotes({{ limitS: {limit_s}, nowMs: {ms(now)}, "
                     f"endsMs: {ms(CUTOFF)}, cutoffMs: {ms(cutoff)}, month: {json.dumps(month)} }})")


def test_before_the_last_attempt_of_the_campaign_the_page_says_it_ends_at_the_end():
    """Started at 23:58:44 on the campaign's last day: 1′16″ left, not 5 minutes."""
    said = notes("zh", "2018-10-31T15:58:44Z")
    assert "限时5分钟，开始后即计时，不能暂停。" in said
    assert ("须在2018年10月31日 23:59:59前交卷，成绩才计入2018年10月；此后交卷（包括到时自动交卷）"
            "计入下个月。") in said
    assert "活动于2018年10月31日 23:59:59结束，答题不能超过这一时刻，之后不能再保存或交卷。" in said
    assert "距活动结束只剩1′16″，本次最多可作答1′16″。" in said
    english = notes("en", "2018-10-31T15:58:44Z")
    assert "Submit by 31 October 2018 at 23:59:59 for it to count in October 2018; " \
           "submitted later (automatically at the deadline included), it counts in the " \
           "next month." in english
    assert "Only 1′16″ remain before the campaign ends: that is all the time this attempt " \
           "has." in english


def test_an_attempt_that_runs_past_a_months_cutoff_is_said_to_before_it_starts():
    may = "2018-05-31T15:59:59.999Z"
    said = notes("zh", "2018-05-31T15:58:44Z", cutoff=may, month="2018-05")
    assert "注意：本次答题的时限跨过本月结算时间，请在结算时间前交卷。" in said
    assert not any("距活动结束" in note for note in said)
    calm = notes("zh", "2018-05-20T01:00:00Z", cutoff=may, month="2018-05")
    assert not any("注意" in note for note in calm)
    assert "须在2018年5月31日 23:59:59前交卷，成绩才计入2018年5月；此后交卷（包括到时自动交卷）" \
           "计入下个月。" in calm


@pytest.mark.parametrize("local, local_at, server, server_at, expected", [
    ({"q1": ["A"]}, 0, {}, 0, {"answers": {"q1": ["A"]}, "push": True}),  # never saved yet
    ({"q1": ["A"]}, 20, {"q1": ["B"]}, 10, {"answers": {"q1": ["A"]}, "push": True}),
    ({"q1": ["A"]}, 10, {"q1": ["B"], "q2": ["C"]}, 20,  # another device saved later
     {"answers": {"q1": ["B"], "q2": ["C"]}, "push": False}),
    ({}, 0, {"q1": ["B"]}, 20, {"answers": {"q1": ["B"]}, "push": False}),  # a new device
    ({}, 0, {}, 0, {"answers": {}, "push": False}),
])
def test_a_resumed_attempt_shows_the_newest_answers(local, local_at, server, server_at,
                                                    expected):
    assert run("zh", f"resumeWith({json.dumps(local)}, {local_at}, {json.dumps(server)}, "
                     f"{server_at})") == expected


def test_the_restart_says_plainly_what_it_means():
    zh = run("zh", '["restartTitle", "r_frozen", "r_new", "r_best"].map((k) => t(k))')
    assert zh[0] == "重新开始意味着："
    assert "永久冻结" in zh[1] and "下个月开放的新关卡也不能在这一轮中挑战" in zh[1]
    assert "从第1关开始" in zh[2] and "最好的一轮" in zh[3]
    en = run("en", '["r_frozen", "r_new", "r_best"].map((k) => t(k))')
    assert "frozen for good" in en[0] and "level 1" in en[1] and "best run" in en[2]
    assert "restartAsk" not in PAGE  # the old "已有成绩会保留" confirm() is gone
