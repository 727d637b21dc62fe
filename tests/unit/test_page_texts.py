"""The member page's words (issue 21): every text the page and common.js's table of reasons
show a member is Chinese in Chinese (no English, no raw key, no snake_case), the two languages
have the same texts, and every reason, state and kind a member can meet has its words.
tests/unit/test_reasons_worded.py checks that every reason in the code is in the table; this
checks what the table and the member page say. Run by Node (no browser)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from services.awards.grants import MEMBER_STATES
from services.awards.policy import DEFAULT_MONTHLY
from tests.unit.test_reasons_worded import reasons_in_code

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "gateway" / "static"
CJK = re.compile(r"[\u4e00-\u9fff]")
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\{\s*\"|\b[0-9a-f]{8}-[0-9a-f]{4}-")  # keys, JSON, UUIDs
# a member meets the reasons of what they call: logging in, playing, their own pages, and
# the platform's own answers (busy, unavailable, bad input)
MEMBER_SOURCES = ("services/attempts/", "services/roster/logins.py", "services/roster/login.py",
                  "gateway/ratelimit.py", "gateway/entrypoints.py", "gateway/service.py",
                  "kernel/")


def part(source: str, start: str, end: str) -> str:
    begin = source.index(start)
    return source[begin:source.index(end, begin) + len(end)]


def node_json(script: str):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def tables():
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    common = (STATIC / "common.js").read_text(encoding="utf-8")
    return node_json("\n".join([
        part(common, "const ERRORS = {", "\n};"), part(page, "const T = {", "\n};"),
        part(page, "const RULES = {", "\n};"),
        "console.log(JSON.stringify({errors: ERRORS, page: T, rules: RULES}));"]))


def test_every_chinese_text_is_chinese():
    texts = tables()
    for name, table in (("common.js ERRORS.zh", texts["errors"]["zh"]),
                        ("index.html T.zh", texts["page"]["zh"]),
                        ("index.html RULES.zh", dict(enumerate(texts["rules"]["zh"])))):
        for key, words in table.items():
            assert words.strip(), f"{name}.{key} is empty"
            latin = re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", words))
            assert CJK.search(words) or not latin, f"{name}.{key} has no Chinese: {words!r}"
            assert not RAW.search(words), f"{name}.{key} shows a raw key or JSON: {words!r}"


def test_both_languages_of_the_member_page_have_the_same_texts():
    texts = tables()
    assert set(texts["page"]["zh"]) == set(texts["page"]["en"])
    assert len(texts["rules"]["zh"]) == len(texts["rules"]["en"])
    for key, words in texts["page"]["en"].items():
        assert not CJK.search(words) or key == "title", f"T.en.{key} is Chinese: {words!r}"


def test_every_reason_a_member_can_meet_is_worded_in_chinese():
    zh = tables()["errors"]["zh"]
    met = {reason: where for reason, where in reasons_in_code().items()
           if where.startswith(MEMBER_SOURCES)}
    assert "code_recently_sent" in met and "level_not_open" in met  # the collector works
    missing = {reason: where for reason, where in met.items() if reason not in zh}
    assert not missing, f"reasons a member meets without Chinese in common.js: {missing}"
    # and the page's own refusals: no campaign yet, the platform busy or away
    for reason in ("no_campaign", "service_unavailable", "server_busy", "network",
                   "rate_limited", "unauthorized"):
        assert CJK.search(zh[reason]), reason


def test_every_award_state_and_kind_a_member_sees_is_worded():
    page = tables()["page"]
    for language in ("zh", "en"):
        for state in set(MEMBER_STATES.values()):
            assert f"aw_{state}" in page[language], (language, state)
        for kind in {line[3] for line in DEFAULT_MONTHLY} | {"annual_champion"}:
            assert f"k_{kind}" in page[language], (language, kind)
        for status in ("passed", "failed", "open", "expired", "voided"):  # my attempts
            assert f"st_{status}" in page[language], (language, status)


def contrast(one: str, two: str) -> float:
    """WCAG 2 contrast ratio of two colours, #rrggbb or #rgb."""
    def luminance(colour):
        if len(colour) == 4:
            colour = "#" + "".join(c * 2 for c in colour[1:])
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_badges_and_the_focus_ring_meet_wcag_aa():
    """Badges are small text (4.5:1 against their own background); the focus ring is a
    graphic against the white sections (3:1)."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    css = page[page.index("<style>"):page.index("</style>")]
    variables = dict(re.findall(r"--(\w+): (#[0-9a-f]{3,6});", css))
    rules = re.findall(r"\.(state(?:\.\w+)?|award-state\.\w+|qtype|tie) \{([^}]*)\}", css)
    assert {name for name, _ in rules} >= {"state", "state.open", "state.passed",
                                          "award-state.payable", "award-state.paid",
                                          "award-state.held", "award-state.revoked"}
    for name, body in rules:
        colour = re.search(r"(?<![-\w])color: (#[0-9a-f]{3,6}|var\(--\w+\))", body).group(1)
        colour = variables.get(colour[6:-1], colour)
        background = re.search(r"background: (#[0-9a-f]{3,6})\b", body)
        ratio = contrast(colour, background.group(1) if background else "#ffffff")
        assert ratio >= 4.5, (name, colour, ratio)
    assert contrast(variables["focus"], "#ffffff") >= 3


def test_no_reason_is_worded_twice_in_one_language():
    """A key written twice in one table: the later silently wins (both were reviewed as
    the page's words, one is dead)."""
    source = (STATIC / "common.js").read_text(encoding="utf-8")
    errors = part(source, "const ERRORS = {", "\n};")
    for lang, start, end in (("zh", "  zh: {", "\n  },"), ("en", "  en: {", "\n  },")):
        keys = re.findall(r"^\s{4}(\w+):", part(errors, start, end), re.M)
        twice = sorted({key for key in keys if keys.count(key) > 1})
        assert not twice, f"{lang}: {twice}"
