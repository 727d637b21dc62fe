"""Drives the member page in Debian's Chromium (Playwright, no browser download).

Run by tests/browser/test_member_page.py in its own process (the test process is
monkey-patched by eventlet; Playwright's sync API wants a plain one). Prints one JSON line.
Usage: member_flow.py BASE_URL CODES_FILE PHONE SCREENSHOT_DIR
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from playwright.sync_api import sync_playwright  # noqa: E402

from services.question_bank.demo import solve_demo  # noqa: E402
from tests.thin_path import last_code  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def policy_violations(page) -> list:
    """What the page's Content-Security-Policy refused (Chromium says so on the console):
    filled as the page runs; it must stay empty. (The policy refuses eval, so these flows
    wait with selectors, never with wait_for_function, whose predicate Playwright evals.)"""
    refused = []
    page.on("console", lambda message: refused.extend(
        [message.text] if "Content Security Policy" in message.text else []))
    return refused


def wait_code(codes, phone):
    for _ in range(100):
        code = last_code(codes, phone)
        if code:
            return code
        time.sleep(0.1)
    raise RuntimeError("no login code")


def question_of(fieldset):
    """The question as the member sees it, in the shape solve_demo reads."""
    stem = fieldset.query_selector("legend").inner_text().split(". ", 1)[1]
    inputs = fieldset.query_selector_all("input")
    options = [{"key": i.get_attribute("value"),
                "text": fieldset.query_selector(f"label[for='{i.get_attribute('id')}']")
                .inner_text().split(". ", 1)[1]} for i in inputs]
    if inputs[0].get_attribute("type") == "checkbox":
        kind = "multiple"
    else:
        kind = "judge" if [o["text"] for o in options] == ["对", "错"] else "single"
    return {"type": kind, "stem": stem, "options": options}, inputs


def answer(page, wrong_first=False):
    for n, fieldset in enumerate(page.query_selector_all("#paper fieldset")):
        question, inputs = question_of(fieldset)
        keys = solve_demo(question)
        if wrong_first and n == 0:
            keys = [o["key"] for o in question["options"] if [o["key"]] != keys][:1]
        for box in inputs:
            if box.get_attribute("value") in keys:
                box.check()


def open_level(page, notes=None, shot=None):
    """The level's button: a new attempt first shows what the member must know before it
    starts (issue 18 item 9), a resumed one opens at once."""
    page.click("#levels li button")
    page.wait_for_selector("#prestart:not([hidden]), #attempt:not([hidden])")
    if page.is_visible("#prestart"):
        if notes is not None:
            notes.extend(page.eval_on_selector_all("#prestart-notes li",
                                                   "els => els.map(e => e.innerText)"))
        if shot:
            page.screenshot(path=shot)
        page.click("#go")
    page.wait_for_selector("#paper fieldset")


def main(base, codes, phone, shots):
    os.makedirs(shots, exist_ok=True)
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        out["policy_violations"] = policy_violations(page)
        page.goto(base + "/")
        page.screenshot(path=f"{shots}/member-login.png")
        page.fill("#phone", phone)
        page.click("#code-form button")
        page.wait_for_selector("#token-form:not([hidden])")
        code = wait_code(codes, phone)
        # the success is not said in red; the button counts down before another code
        out["sent"] = page.inner_text("#flash")
        out["sent_color"] = page.eval_on_selector("#flash", "e => getComputedStyle(e).color")
        out["code_button"] = page.eval_on_selector("#code-form button",
                                                   "b => [b.disabled, b.innerText]")
        # asking again at once on another phone: the server's refusal, said in Chinese
        other = browser.new_page(viewport={"width": 390, "height": 844})
        other.goto(base + "/")
        other.fill("#phone", phone)
        other.click("#code-form button")
        other.wait_for_selector("#flash:has-text('秒')")
        out["resend_error"] = other.inner_text("#flash")
        out["resend_countdown"] = other.eval_on_selector("#code-form button", "b => b.disabled")
        other.close()
        page.fill("#code", code)
        page.click("#token-form button")
        page.wait_for_selector("#levels li button")
        page.screenshot(path=f"{shots}/member-levels.png")

        # level 1: what the paper says before it starts, then answer, refresh mid-attempt,
        # nothing lost, the same answers on another phone (saved on the server), submit
        out["prestart"] = []
        open_level(page, out["prestart"], f"{shots}/member-before-start.png")
        answer(page)
        chosen = page.eval_on_selector_all("#paper input:checked", "els => els.length")
        page.wait_for_selector("#saved:has-text('答案已保存到服务器')")
        page.reload()
        page.wait_for_selector("#levels li button")
        open_level(page)
        out["kept_after_refresh"] = (
            page.eval_on_selector_all("#paper input:checked", "els => els.length") == chosen)
        other = browser.new_context(viewport={"width": 390, "height": 844})
        phone_b = other.new_page()  # nothing in its storage but the login
        phone_b.goto(base + "/")
        phone_b.evaluate("token => localStorage.setItem('token', token)",
                         page.evaluate("() => localStorage.getItem('token')"))
        phone_b.reload()
        phone_b.wait_for_selector("#levels li button")
        open_level(phone_b)
        out["other_phone_answers"] = phone_b.eval_on_selector_all(
            "#paper input:checked", "els => els.length")
        out["answers_chosen"] = chosen
        other.close()
        page.screenshot(path=f"{shots}/member-attempt.png")
        # the first submit meets a 503 (the broker restarting): the page tries again by itself
        refused = []

        def once_unavailable(route):
            if refused:
                return route.continue_()
            refused.append(route.request.url)
            route.fulfill(status=503, content_type="application/json", body=json.dumps(
                {"error": {"code": "service_unavailable", "fields": {},
                           "message": "the message broker is unreachable; try again shortly",
                           "reason": "broker_unavailable"}}))

        page.route("**/api/v1/attempts/*/submit", once_unavailable)
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden])")
        page.unroute("**/api/v1/attempts/*/submit")
        out["submit_refused_then_retried"] = len(refused)
        out["level1"] = page.inner_text("#result-h")
        page.screenshot(path=f"{shots}/member-result.png")

        # level 2: one wrong answer, failed
        page.click("#back")
        page.wait_for_selector("#levels li button")
        open_level(page)
        out["level2_title"] = page.inner_text("#attempt-h")
        answer(page, wrong_first=True)
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden])")
        out["level2"] = page.inner_text("#result-h")
        out["level2_text"] = page.inner_text("#result-text")

        # my place on the boards
        page.click("#back")
        page.wait_for_selector("#board tr.me")
        out["my_row"] = page.inner_text("#board tr.me")
        out["my_place"] = page.inner_text("#my-place")
        # the history loads on its own after the page comes back: the level 2 attempt at
        # its top once it has (until then the rows from before may still be shown)
        page.wait_for_selector("#attempts tr:first-child td:first-child:text-is('第2关')")
        out["history"] = page.eval_on_selector_all(
            "#attempts tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
        page.screenshot(path=f"{shots}/member-board.png", full_page=True)
        page.click("#lang")
        out["english_title"] = page.inner_text("header h1")
        page.click("#lang")

        # level 2 again, one question at a time
        page.wait_for_selector("#levels li button")
        open_level(page)
        page.click("#view")
        visible = "els => els.filter(e => e.offsetParent !== null).length"
        out["one_by_one"] = {
            "visible": page.eval_on_selector_all("#paper fieldset", visible),
            "strip": page.eval_on_selector_all("#qnav button", "els => els.length")}
        page.click("#next")
        out["one_by_one"]["after_next"] = page.inner_text("#qnav button[aria-current=true]")
        page.screenshot(path=f"{shots}/member-one-by-one.png")

        # the API's page runs its own script under the policy too
        page.goto(base + "/docs")
        page.wait_for_selector("#ops .op")
        out["docs_operations"] = page.eval_on_selector_all("#ops .op", "els => els.length")
        browser.close()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:5])
