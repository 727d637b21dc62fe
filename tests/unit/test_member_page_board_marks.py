"""Issue 18: the member page marks, in Chinese first, who on a board is disqualified, inactive
at a month's close, withdrawn, an administrator, or without a pass in the closed month. The
page's own `marked` and its texts, run by Node (no browser needed)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "gateway" / "static" / "index.html"


def page_part(source: str, start: str, end: str) -> str:
    begin = source.index(start)
    return source[begin:source.index(end, begin) + len(end)]


def marked(entries: list[dict], lang: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    source = PAGE.read_text(encoding="utf-8")
    script = "\n".join([
        page_part(source, "const T = {", "\n};"),
        f"const lang = {json.dumps(lang)};",
        re.search(r"^const t = .*$", source, re.M).group(0),
        page_part(source, "function marked(e) {", "\n}"),
        f"console.log(JSON.stringify({json.dumps(entries)}.map(marked)));",
    ])
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


ROWS = [
    {"name": "张三", "disqualified": False, "active": True, "participation": "required",
     "bank_admin": False},
    {"name": "李四", "disqualified": True, "active": True, "participation": "required",
     "bank_admin": False, "passed_in_month": True},
    {"name": "王五", "disqualified": False, "active": False, "participation": "withdrawn",
     "bank_admin": False, "passed_in_month": False},
    {"name": "赵六", "disqualified": False, "active": True, "participation": "voluntary",
     "bank_admin": True, "passed_in_month": None},
]


def test_ineligible_members_are_marked_in_chinese():
    assert marked(ROWS, "zh") == ["张三", "李四（已取消资格）", "王五（已停用、已退出、本月未闯关）",
                                  "赵六（管理员）"]


def test_and_in_english_on_the_english_page():
    assert marked(ROWS[2:], "en") == ["王五 (inactive, withdrawn, no pass this month)",
                                      "赵六 (administrator)"]
