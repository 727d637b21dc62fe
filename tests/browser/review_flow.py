"""Drives the review, the R20 notice and the notices (issue 23 items 3, 4, 6) in Debian's
Chromium: a flagged member's attempts opened from the flags tab (the campaign's
administrator: answers and keys; a unit's administrator: neither), the disqualification form
with its evidence, the R20 notice (phone, desktop, print), notices and an SMS preview, and
the notices on the member page.

Run by tests/browser/test_review_pages.py in its own process. Prints one JSON line.
Usage: review_flow.py BASE_URL CODES_FILE SYSTEM_PHONE UNIT_ADMIN_PHONE MEMBER_PHONE SHOTS
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.admin_flow import open_page, table  # noqa: E402
from tests.browser.outputs_flow import DESKTOP, PHONE, shots_of, tab  # noqa: E402


def both(page, shots, name, selector=None):
    """A phone's and a desktop's screenshot (of `selector`'s part when given)."""
    for size, suffix in ((PHONE, ""), (DESKTOP, "-desktop")):
        page.set_viewport_size(size)
        if selector:
            page.locator(selector).scroll_into_view_if_needed()
            page.screenshot(path=f"{shots}/{name}{suffix}.png")
        else:
            page.screenshot(path=f"{shots}/{name}{suffix}.png", full_page=True)
    page.set_viewport_size(PHONE)


def review_from_flags(page):
    tab(page, "flags", "tbody tr")
    page.click("#flags-list button.link")
    page.wait_for_selector("#tab-review:not([hidden]) details.attempt")


def main(base, codes, system, unit_admin, member, shots):
    os.makedirs(shots, exist_ok=True)
    out = {"errors": []}
    with sync_playwright() as p:
        browser, page = open_page(p, out, base + "/admin", codes, system)
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_selector("nav.tabs button[aria-controls='tab-notices']")
        out["tabs"] = page.eval_on_selector_all("nav.tabs button", "bs => bs.map(b => b.innerText)")
        review_from_flags(page)
        out["review_head"] = page.inner_text("#tab-review h2")
        out["review_attempts"] = page.eval_on_selector_all(
            "#tab-review details.attempt summary", "ss => ss.map(s => s.innerText)")
        out["review_keys"] = page.locator("#tab-review .tag.key").count()
        out["review_facts"] = page.inner_text("#tab-review .attempt-facts")
        both(page, shots, "admin-review")

        # disqualified from the review, with the evidence and the flag it rests on
        page.click("#tab-review .review-tools button:has-text('取消资格')")
        page.wait_for_selector("dialog.dq[open] input[type=checkbox]:checked")
        out["dialog"] = page.inner_text("dialog.dq h2")
        out["dialog_flags"] = page.eval_on_selector_all(
            "dialog.dq input[type=checkbox]", "bs => bs.map(b => b.checked)")
        page.fill("#dq-reason", "答题用时异常")
        page.fill("#dq-evidence", "20题用时不足1秒，与本人核实系他人代答")
        page.screenshot(path=f"{shots}/admin-disqualify.png")
        page.click("dialog.dq button[type=submit]")
        page.wait_for_selector("#tab-review p.error:has-text('已取消资格')")

        tab(page, "r20", "table")
        for _ in range(40):  # awards revokes the member's awards on roster's event
            out["r20_totals"] = page.inner_text("#tab-r20 p.strong")
            if "撤销奖金 0 元" not in out["r20_totals"]:
                break
            page.wait_for_timeout(250)
            page.click("#tab-r20 form button[type=submit]")
            page.wait_for_selector("#tab-r20 p.strong")
        out["r20"] = table(page, "#tab-r20 tbody")
        shots_of(page, shots, "r20")

        tab(page, "notices", "form")
        out["notices"] = table(page, "#tab-notices table:first-of-type tbody")
        page.select_option("#sms-kind", "level_open")  # month_end: the last 3 days only
        page.click("#tab-notices form.review-tools button[type=submit]")
        page.wait_for_selector("#sms-preview:not(:empty)")
        out["sms_preview"] = page.inner_text("#sms-preview")
        both(page, shots, "admin-notices")

        tab(page, "members", "tbody tr")  # the members tab's button opens the same form
        page.click("#members-list tr:not(.bad) button:has-text('取消资格')")
        page.wait_for_selector("dialog.dq[open]")
        out["members_dialog"] = page.inner_text("dialog.dq h2")
        page.click("dialog.dq button:has-text('取消')")
        browser.close()

        browser, page = open_page(p, out, base + "/admin", codes, unit_admin)
        page.wait_for_selector("#app:not([hidden])")
        review_from_flags(page)
        out["unit_keys"] = page.locator("#tab-review .tag").count()
        out["unit_note"] = page.inner_text("#tab-review > p.muted")
        page.screenshot(path=f"{shots}/admin-review-unit.png", full_page=True)
        browser.close()

        seen = {"errors": out["errors"]}  # the member page: its own policy violations
        browser, page = open_page(p, seen, base + "/", codes, member)
        out["member_policy_violations"] = seen["policy_violations"]
        page.wait_for_selector("#notices:not([hidden]) article")
        out["member_notices"] = page.eval_on_selector_all(
            "#notices article h3", "hs => hs.map(h => h.innerText)")
        both(page, shots, "member-notices", "#home")
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:7])
