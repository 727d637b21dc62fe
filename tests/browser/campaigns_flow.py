"""Drives the admin page of a fresh install in Debian's Chromium (issue 19): the checklist of
what to do first, then a campaign made from the template and published on the 活动 tab, the
checklist ticking as it goes. Run by tests/browser/test_admin_campaigns.py in its own process.
Prints one JSON line with what the page showed.
Usage: campaigns_flow.py BASE_URL CODES_FILE PHONE SCREENSHOT_DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.admin_flow import open_page, table  # noqa: E402


def checklist(page):
    return page.eval_on_selector_all(
        "#setup li", "items => items.map(i => [i.dataset.step, i.dataset.done, i.innerText])")


def main(base, codes, phone, shots):
    os.makedirs(shots, exist_ok=True)
    out = {"errors": []}
    with sync_playwright() as p:
        browser, page = open_page(p, out, base + "/admin#campaigns", codes, phone)
        page.wait_for_selector("#setup li")
        out["setup_title"] = page.inner_text("#setup h2")
        out["before"] = checklist(page)
        page.screenshot(path=f"{shots}/admin-setup.png", full_page=True)

        page.fill("#cn-year", "2027")
        page.click("#campaign-new button[type=submit]")
        page.wait_for_selector("#campaigns-list tr")
        out["draft_rows"] = table(page, "#campaigns-list")
        out["draft_flash"] = page.inner_text("#flash")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#campaigns-list button.primary")
        page.wait_for_selector("#campaigns-list td.ok")
        out["published_rows"] = table(page, "#campaigns-list")
        page.wait_for_selector("#setup li[data-step=campaign][data-done=yes]")
        out["after"] = checklist(page)
        page.screenshot(path=f"{shots}/admin-campaigns.png", full_page=True)
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:5])
