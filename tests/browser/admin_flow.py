"""Drives the admin page in Debian's Chromium (Playwright, no browser download).

Run by tests/browser/test_member_page.py in its own process (as member_flow.py is). Prints
one JSON line with what the page showed.
Usage: admin_flow.py BASE_URL CODES_FILE PHONE SCREENSHOT_DIR SHEET UNIT_ADMIN_PHONE
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.member_flow import CHROMIUM_ARGS, policy_violations, wait_code  # noqa: E402


def open_page(p, out, url, codes, phone):
    """Chromium on a phone-sized page at `url` (the admin page), logged in as `phone` with
    the code from `codes`; page errors and refused policy go into `out`."""
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.on("pageerror", lambda exc: out["errors"].append(str(exc)))
    out["policy_violations"] = policy_violations(page)
    page.goto(url)
    page.fill("#phone", phone)
    page.click("#code-form button")
    page.wait_for_selector("#token-form:not([hidden])")
    page.fill("#code", wait_code(codes, phone))
    page.click("#token-form button")
    return browser, page


def table(page, selector):
    return page.eval_on_selector_all(
        f"{selector} tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")


# what a person should never read on the page (issue 21 item 7): a raw key of the page's own
# texts (monthsHelp), an identifier (members_imported, question_bank), an id, JSON
RAW = {"snake_case": r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", "key": r"\b[a-z]+[A-Z][A-Za-z]+\b",
       "uuid": r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
       "json": r'[{\[]\s*"'}


def scan_tabs(page, shots=None, suffix=""):
    """Every tab's rendered text: {tab: [what looks raw]} for the tabs with any; with
    `shots`, a screenshot of each tab as admin-tab-<tab><suffix>.png."""
    found = {}
    for tab in page.eval_on_selector_all("#tabs button", "els => els.map(e => e.id.slice(7))"):
        page.click(f"#tabbtn-{tab}")
        page.wait_for_load_state("networkidle")
        text = page.inner_text("body")
        hits = sorted({m.group(0) for pattern in RAW.values() for m in re.finditer(pattern, text)})
        if hits:
            found[tab] = hits[:12]
        if shots:
            page.screenshot(path=f"{shots}/admin-tab-{tab}{suffix}.png", full_page=True)
    return found


def confirm_and_keep(page, out, key):
    """Accept the next confirm() and keep what it asked in out[key]."""
    def accept(dialog):
        out[key] = dialog.message
        dialog.accept()
    page.once("dialog", accept)


def main(base, codes, phone, shots, sheet, unit_admin):
    os.makedirs(shots, exist_ok=True)
    out = {"errors": []}
    with sync_playwright() as p:
        browser, page = open_page(p, out, base + "/admin", codes, phone)
        page.wait_for_selector("#app:not([hidden])")
        out["who"] = page.inner_text("#who")

        # the organisation sheet (issue 19): a bad row named in Chinese, then a new unit that
        # has no administrator yet is listed at the top of the page (R4)
        org_sheet = os.path.join(shots, "组织架构.csv")
        with open(org_sheet, "w", encoding="utf-8") as handle:
            handle.write("上级,名称,类型,编码\n省总工会,浏览器测试单位,单位,browser-unit\n"
                         "省总工会,浏览器测试部门,部门,\n")
        page.set_input_files("#org-file", org_sheet)
        page.click("#org-form button[value='1']")
        page.wait_for_selector("#org-report table.report")
        out["org_dry_rows"] = table(page, "#org-report tbody")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#org-form button[value='0']")
        page.wait_for_selector("#alerts p:has-text('浏览器测试单位')")
        out["alerts"] = page.inner_text("#alerts")
        page.screenshot(path=f"{shots}/admin-org-import.png", full_page=True)
        os.remove(org_sheet)

        # a member sheet with a bad row: dry run first, the report names the row and column
        page.set_input_files("#members-file", sheet)
        page.click("#members-form button[value='1']")
        page.wait_for_selector("#members-report table.report")
        out["dry_run_summary"] = page.inner_text("#members-report p")
        out["dry_run_rows"] = table(page, "#members-report tbody")
        page.screenshot(path=f"{shots}/admin-import-report.png", full_page=True)
        # then for real: the page asks first, saying how many rows will be skipped
        confirm_and_keep(page, out, "import_confirm")
        page.click("#members-form button[value='0']")
        page.wait_for_selector("#members-report p:text-matches('^导入完成')")
        out["import_summary"] = page.inner_text("#members-report p")

        # a question sheet whose answer names an option the question lacks, in Chinese
        questions = os.path.join(shots, "题库.csv")
        with open(questions, "w", encoding="utf-8") as handle:
            handle.write("关卡,题型,题干,选项,答案\n1,单选,浏览器测试题,甲|乙|丙|丁,E\n")
        page.set_input_files("#questions-file", questions)
        page.click("#questions-form button[value='1']")
        page.wait_for_selector("#questions-report table.report")
        out["question_rows"] = table(page, "#questions-report tbody")
        os.remove(questions)

        # the imported member is found by search
        page.click("#tabbtn-members")
        page.fill("#q", "浏览器测试")
        page.click("#member-search button")
        page.wait_for_selector("#members-total:text-is('共 1 人')")
        out["found"] = table(page, "#members-list")
        page.screenshot(path=f"{shots}/admin-members.png", full_page=True)

        # levels with their statistics and charts
        page.click("#tabbtn-levels")
        page.wait_for_selector("#levels-list tr")
        page.wait_for_selector("#funnel figure")
        out["levels"] = len(table(page, "#levels-list"))
        out["funnel_bars"] = page.eval_on_selector_all("#funnel svg rect", "els => els.length")
        out["funnel_legend"] = page.inner_text("#funnel .legend")
        page.select_option("#level-pick", "1")
        page.wait_for_selector("#level-detail .card")
        out["level_cards"] = page.eval_on_selector_all(
            "#level-detail .card", "els => els.map(e => e.innerText.split('\\n'))")
        page.screenshot(path=f"{shots}/admin-levels.png", full_page=True)
        page.locator("#level-detail .cards").screenshot(path=f"{shots}/admin-level-cards.png")
        page.locator("#funnel figure").screenshot(path=f"{shots}/admin-funnel.png")
        # R12: a question's 重新判分 shows the dry run in words before anything changes
        page.select_option("#level-pick", "1")
        page.click("#level-detail button:text-is('重新判分')")
        page.wait_for_selector("#regrade-report h3")
        out["regrade_preview"] = page.inner_text("#regrade-report")
        page.screenshot(path=f"{shots}/admin-regrade.png", full_page=True)

        # months, participation (R19) and the audit log
        page.click("#tabbtn-months")
        page.wait_for_selector("#months-list tr")
        months = table(page, "#months-list")
        out["months"] = [row[0] for row in months]
        out["months_rows"] = months
        out["close_buttons"] = page.eval_on_selector_all(
            "#months-list button", "els => els.map(e => e.innerText)")
        page.screenshot(path=f"{shots}/admin-months.png", full_page=True)
        page.click("#tabbtn-flags")
        page.wait_for_load_state("networkidle")
        out["flags"] = table(page, "#flags-list")
        page.click("#tabbtn-participation")
        page.wait_for_selector("#participation figure svg")
        out["participation_tables"] = page.eval_on_selector_all(
            "#participation table:not(.sr-only)", "els => els.length")
        page.screenshot(path=f"{shots}/admin-participation.png", full_page=True)
        page.click("#tabbtn-audit")
        page.wait_for_selector("#audit-list tr")
        out["audit_top"] = table(page, "#audit-list")[:10]
        page.screenshot(path=f"{shots}/admin-audit.png", full_page=True)
        page.click("#lang")
        out["english_tab"] = page.inner_text("#tabbtn-audit")
        page.click("#lang")

        # every tab's text in both languages: no raw keys, identifiers, ids or JSON (item 7);
        # on a desktop too, with a screenshot of each tab
        out["raw_zh"] = scan_tabs(page)
        page.click("#lang")
        out["raw_en"] = scan_tabs(page, shots, "-en")
        page.click("#lang")
        page.set_viewport_size({"width": 1280, "height": 900})
        out["raw_desktop"] = scan_tabs(page, shots, "-desktop")
        page.set_viewport_size({"width": 390, "height": 844})

        # issue 18: who may win is policy the administrator reads and changes on the page
        page.click("#tabbtn-awards")
        page.wait_for_selector("#s-exclude_inactive:checked")
        out["settings_labels"] = page.inner_text("#settings-form")
        out["settings_before"] = page.is_checked("#s-exclude_bank_admins")
        page.check("#s-exclude_bank_admins")
        page.click("#settings-form button")
        try:
            page.wait_for_selector("#settings-updated:text-matches('^最近修改')", timeout=10_000)
        except Exception:
            raise AssertionError(f"the settings were not saved: {page.inner_text('#flash')!r}")
        out["settings_updated"] = page.inner_text("#settings-updated")
        page.screenshot(path=f"{shots}/admin-award-settings.png", full_page=True)

        # a unit's administrator sees their unit, and is not offered the campaign's tools
        page.click("#logout")
        page.fill("#phone", unit_admin)
        page.click("#code-form button")
        page.wait_for_selector("#token-form:not([hidden])")
        page.fill("#code", wait_code(codes, unit_admin))
        page.click("#token-form button")
        page.wait_for_selector("#app:not([hidden])")
        out["unit_who"] = page.inner_text("#who")
        out["unit_sees_question_import"] = page.is_visible("#questions-form")
        page.click("#tabbtn-members")
        page.wait_for_selector("#members-total:text-matches('^共')")
        out["unit_members_total"] = page.inner_text("#members-total")
        out["unit_units"] = page.eval_on_selector_all(
            "#q-unit option", "els => els.map(e => e.value).filter(Boolean)")
        # a unit's administrator imports into their own unit unless the sheet says otherwise
        page.click("#tabbtn-import")
        out["unit_default"] = page.input_value("#members-unit")
        out["raw_unit"] = scan_tabs(page)  # what a unit's administrator reads, too
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:7])
