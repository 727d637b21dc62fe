"""Drives the organisers' outputs (issue 23 items 1, 2, 5) in Debian's Chromium: the
shortlist, the units' reports and the winners' list on the admin page (phone and desktop,
and as printed), a unit administrator's report, and the members' 本月获奖名单.

Run by tests/browser/test_outputs_pages.py in its own process. Prints one JSON line.
Usage: outputs_flow.py BASE_URL CODES_FILE SYSTEM_PHONE UNIT_ADMIN_PHONE MEMBER_PHONE SHOTS
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.admin_flow import open_page, table  # noqa: E402

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def tab(page, name, ready):
    page.click(f"nav.tabs button[aria-controls='tab-{name}']")
    page.wait_for_selector(f"#tab-{name}:not([hidden]) {ready}")


def shots_of(page, shots, name):
    """The tab on a phone, on a desktop, and as printed (the print styles)."""
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"{shots}/admin-{name}.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=f"{shots}/admin-{name}-desktop.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=f"{shots}/admin-{name}-print.png", full_page=True)
    page.emulate_media(media="screen")
    page.set_viewport_size(PHONE)


def main(base, codes, system, unit_admin, member, shots):
    os.makedirs(shots, exist_ok=True)
    out = {"errors": []}
    with sync_playwright() as p:
        browser, page = open_page(p, out, base + "/admin", codes, system)
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_selector("nav.tabs button[aria-controls='tab-winners']")
        out["tabs"] = page.eval_on_selector_all("nav.tabs button", "bs => bs.map(b => b.innerText)")

        tab(page, "shortlist", "table")
        out["shortlist_head"] = page.inner_text("#tab-shortlist h2")
        out["shortlist"] = table(page, "#tab-shortlist tbody")
        shots_of(page, shots, "shortlist")
        page.select_option("#shortlist-month", "2018-05")
        page.wait_for_selector("#tab-shortlist h2:has-text('暂定名单')")
        page.wait_for_selector("#tab-shortlist p.muted:has-text('2018-05')")
        out["shortlist_may"] = table(page, "#tab-shortlist tbody")

        tab(page, "reports", "details.org")
        out["reports"] = table(page, "#tab-reports > div.scroll tbody")
        page.eval_on_selector_all("#tab-reports details.org", "ds => ds.forEach(d => d.open = true)")
        shots_of(page, shots, "reports")

        tab(page, "winners", "table")
        out["winners_head"] = page.inner_text("#tab-winners h2")
        out["winners"] = table(page, "#tab-winners tbody")
        shots_of(page, shots, "winners")
        browser.close()

        browser, page = open_page(p, out, base + "/admin", codes, unit_admin)
        page.wait_for_selector("#app:not([hidden])")
        tab(page, "reports", "details.org[open]")
        out["unit_reports"] = table(page, "#tab-reports > div.scroll tbody")
        out["unit_months"] = table(page, "#tab-reports details.org div.scroll:first-of-type tbody")
        out["unit_absent"] = table(page, "#tab-reports details.org div.scroll:last-of-type tbody")
        page.screenshot(path=f"{shots}/admin-reports-unit.png", full_page=True)
        tab(page, "shortlist", "h2")
        out["unit_shortlist"] = table(page, "#tab-shortlist tbody")
        browser.close()

        seen = {"errors": out["errors"]}  # the member page: its own policy violations
        browser, page = open_page(p, seen, base + "/", codes, member)
        out["member_policy_violations"] = seen["policy_violations"]
        page.wait_for_selector("#winners:not([hidden]) table")
        out["member_head"] = page.inner_text("#winners h3")
        out["member_winners"] = table(page, "#winners tbody")
        page.locator("#winners").scroll_into_view_if_needed()
        page.screenshot(path=f"{shots}/member-winners.png")
        page.set_viewport_size(DESKTOP)
        page.locator("#winners").scroll_into_view_if_needed()
        page.screenshot(path=f"{shots}/member-winners-desktop.png")
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:7])
