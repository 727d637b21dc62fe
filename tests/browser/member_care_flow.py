"""The member page as people use it (issue 21 items 1-4), in Debian's Chromium.

Run by tests/browser/test_member_care.py in its own process, once per phase; prints one JSON
line. The member is logged in by their token (the test logged in over HTTP).
Usage: member_care_flow.py PHASE BASE_URL TOKEN SCREENSHOT_DIR
  awards:  my awards, the rules, the copy, the option rows, the fail and the timeout screens,
           on a phone and on a desktop
  outage:  ranking is stopped: the levels and the paper still work, the boards say so, and
           the levels' own 503 is retried after its Retry-After; nobody is logged out
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.member_flow import CHROMIUM_ARGS, answer, open_level, policy_violations  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TEXTS = "els => els.map(e => e.innerText.trim())"
ROWS = "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))"


def logged_in(browser, base, token, viewport, clock=False):
    page = browser.new_page(viewport=viewport)
    refused = policy_violations(page)
    if clock:
        page.clock.install()  # the page's own timers, fast-forwarded past the time limit
    page.goto(base + "/")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.reload()
    return page, refused


def awards_phase(browser, base, token, shots, out):
    page, refused = logged_in(browser, base, token, PHONE)
    page.wait_for_selector("#award-rows tr")
    out["awards"] = page.eval_on_selector_all("#award-rows tr", ROWS)
    out["best"] = page.inner_text("#best")
    out["level_line"] = page.inner_text("#levels li .muted")
    out["months"] = page.eval_on_selector_all("#month option", TEXTS)
    page.wait_for_selector("#board tr")
    out["board"] = page.eval_on_selector_all("#board tr", ROWS)
    out["favicon"] = page.get_attribute("link[rel=icon]", "href")[:19]
    out["aria_lang"] = page.get_attribute("#lang", "aria-label")
    out["aria_scopes"] = page.get_attribute("#scopes", "aria-label")
    page.screenshot(path=f"{shots}/member-awards.png", full_page=True, caret="initial")
    # a focus ring on the keyboard's way (its colour checked by the test)
    page.focus("#scopes button")
    page.keyboard.press("Tab")  # the next board's button
    out["focus_outline"] = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineColor")
    page.click("#rules-open")
    page.wait_for_selector("#rules:not([hidden])")
    out["rules"] = page.eval_on_selector_all("#rules-body li", TEXTS)
    page.screenshot(path=f"{shots}/member-rules.png", full_page=True, caret="initial")
    page.click("#rules-back")
    page.wait_for_selector("#levels li button")

    # level 2: the option rows are the targets; the kind of question is said; a fail
    open_level(page)
    out["question_kinds"] = sorted(set(page.eval_on_selector_all("#paper .qtype", TEXTS)))
    out["option_boxes"] = page.eval_on_selector_all(
        "#paper label.opt", "els => els.map(e => [e.getBoundingClientRect().width,"
        " e.getBoundingClientRect().height])")
    row = page.query_selector("#paper label.opt")
    box = row.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 10, box["y"] + box["height"] / 2)  # the far end
    out["row_tap_checks"] = row.eval_on_selector("input", "i => i.checked")
    answer(page, wrong_first=True)
    page.screenshot(path=f"{shots}/member-attempt-options.png", caret="initial")
    page.click("#submit")
    page.wait_for_selector("#result:not([hidden])")
    out["fail_h"] = page.inner_text("#result-h")
    out["fail_notes"] = page.eval_on_selector_all("#result-notes li", TEXTS)
    out["fail_note_hidden"] = page.is_hidden("#result-note")
    page.screenshot(path=f"{shots}/member-fail.png", caret="initial")
    out["policy_violations"] = refused
    page.close()

    # level 2 again, left to run out: the page submits by itself and says so
    page, refused = logged_in(browser, base, token, PHONE, clock=True)
    page.wait_for_selector("#levels li button")
    open_level(page)
    page.clock.fast_forward("10:00")  # level 2 has 6 minutes
    page.wait_for_selector("#result:not([hidden])")
    out["timeout_note"] = page.inner_text("#result-note")
    out["timeout_h"] = page.inner_text("#result-h")
    out["timeout_notes"] = page.eval_on_selector_all("#result-notes li", TEXTS)
    page.screenshot(path=f"{shots}/member-timeout.png", caret="initial")
    out["policy_violations"] += refused
    page.close()

    # the desktop
    page, refused = logged_in(browser, base, token, DESKTOP)
    page.wait_for_selector("#award-rows tr")
    page.wait_for_selector("#board tr")
    page.screenshot(path=f"{shots}/member-desktop.png", full_page=True, caret="initial")
    page.click("#rules-open")
    page.wait_for_selector("#rules:not([hidden])")
    page.screenshot(path=f"{shots}/member-desktop-rules.png", caret="initial")
    page.click("#lang")
    out["english_rules_h"] = page.inner_text("#rules-h")
    out["english_aria_lang"] = page.get_attribute("#lang", "aria-label")
    page.click("#rules-back")
    page.wait_for_selector("#award-rows tr")
    page.wait_for_selector("#my-place:has-text('My place')")  # the board drawn again
    out["english_awards"] = page.eval_on_selector_all("#award-rows tr", ROWS)
    page.screenshot(path=f"{shots}/member-desktop-en.png", full_page=True, caret="initial")
    page.click("#lang")
    out["policy_violations"] += refused
    page.close()


def outage_phase(browser, base, token, shots, out):
    page = browser.new_page(viewport=PHONE)
    out["policy_violations"] = policy_violations(page)
    calls = {"campaign": 0, "me": 0}

    def first_campaign_unavailable(route):
        calls["campaign"] += 1
        if calls["campaign"] > 1:
            return route.continue_()
        route.fulfill(status=503, content_type="application/json",
                      headers={"Retry-After": "1"}, body=json.dumps(
                          {"error": {"code": "service_unavailable", "fields": {},
                                     "reason": "broker_unavailable",
                                     "message": "the message broker is unreachable"}}))

    def counted(request):
        if request.url.endswith("/api/v1/me"):
            calls["me"] += 1

    page.on("request", counted)
    page.route("**/api/v1/campaign", first_campaign_unavailable)
    page.goto(base + "/")
    page.evaluate("token => localStorage.setItem('token', token)", token)
    page.reload()
    page.wait_for_selector("#reload:not([hidden])")
    out["load_failed"] = page.inner_text("#loading-text")
    page.screenshot(path=f"{shots}/member-load-retry.png", caret="initial")
    page.wait_for_selector("#levels li button")  # tried again after the 1 s it was told
    page.wait_for_selector("#boards-away:not([hidden])")
    out["boards_away"] = page.inner_text("#boards-away")
    out["levels"] = page.eval_on_selector_all("#levels li", "els => els.length")
    out["login_hidden"] = page.is_hidden("#login")
    page.screenshot(path=f"{shots}/member-outage.png", full_page=True, caret="initial")
    # the boards try again by themselves (after the gateway's Retry-After)
    for _ in range(600):
        if calls["me"] >= 2:
            break
        page.wait_for_timeout(100)
    out["me_calls"] = calls["me"]
    out["campaign_calls"] = calls["campaign"]
    out["token_kept"] = page.evaluate("() => localStorage.getItem('token')") == token
    # the paper needs attempts and question_bank only
    open_level(page)
    out["paper_questions"] = page.eval_on_selector_all("#paper fieldset", "els => els.length")
    out["still_logged_in"] = page.evaluate("() => localStorage.getItem('token')") == token
    # a token the server refuses (401) is the one case that logs out, and says so
    page.evaluate("() => localStorage.setItem('token', 'x.y')")
    page.reload()
    page.wait_for_selector("#login:not([hidden])")
    out["refused_token"] = [page.inner_text("#flash"),
                            page.evaluate("() => localStorage.getItem('token')")]
    page.close()


def main(phase, base, token, shots):
    os.makedirs(shots, exist_ok=True)
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        {"awards": awards_phase, "outage": outage_phase}[phase](browser, base, token, shots, out)
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:5])
