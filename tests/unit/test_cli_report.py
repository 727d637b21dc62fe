"""`challenge roster import` prints what a sheet holds (issue 16, item 13): a cell carrying a
terminal escape sequence is shown escaped, never obeyed; Chinese stays readable."""
import io

import pytest

from challenge import client

HOSTILE = "张三\x1b]0;pwned\x07\x1b[2J\u202e\x9b"


def test_a_report_shows_control_characters_escaped():
    out = io.StringIO()
    report = {"total": 1, "created": 0, "errors": [
        {"row": 2, "column": "name\x1b[8m", "message": f"phone of {HOSTILE} is taken"}]}
    assert client.print_report(report, out) == 3
    printed = out.getvalue()
    assert not [c for c in printed if c in "\x1b\x07\x9b\u202e"]
    assert "row 2, name\\x1b[8m: phone of 张三\\x1b]0;pwned\\x07\\x1b[2J\\u202e\\x9b is taken" \
        in printed


def test_a_refusal_from_the_server_is_printed_escaped(monkeypatch):
    class Refusal:
        status_code = 400

        def json(self):
            return {"error": {"message": f"{HOSTILE}.csv: row 3: a cell is too long",
                              "fields": {"file": [HOSTILE]}}}

    monkeypatch.setattr(client.requests, "request", lambda *a, **k: Refusal())
    with pytest.raises(client.CommandError) as err:
        client.Client("http://x").call("POST", "/api/v1/admin/roster/import")
    assert "\x1b" not in str(err.value) and "张三\\x1b]0;pwned" in str(err.value)


def test_without_a_terminal_the_login_is_one_line_not_a_traceback():
    """Issue 21 item 12: a script with no CHALLENGE_TOKEN gets one line saying what to set."""
    def no_terminal(_prompt):
        raise EOFError
    with pytest.raises(client.CommandError) as err:
        client.Client("http://x").login(prompt=no_terminal, interactive=False)
    assert "CHALLENGE_TOKEN" in str(err.value)


def test_after_a_login_the_token_is_shown_once_to_keep(monkeypatch):
    class Answer:
        status_code = 200

        def __init__(self, body):
            self.body = body

        def json(self):
            return self.body

    answers = iter([Answer({"sent": True}), Answer({"token": "t0k"})])
    monkeypatch.setattr(client.requests, "request", lambda *a, **k: next(answers))
    out = io.StringIO()
    given = iter(["13800000000", "123456"])
    c = client.Client("http://x", out=out)
    c.login(prompt=lambda _p: next(given), interactive=True)
    assert c.token == "t0k" and "export CHALLENGE_TOKEN=t0k" in out.getvalue()


def test_an_expired_token_is_offered_a_new_login_and_the_request_made_again(monkeypatch):
    class Answer:
        def __init__(self, status, body):
            self.status_code, self.body = status, body

        def json(self):
            return self.body

    seen = []

    def request(method, url, headers=None, **kwargs):
        seen.append((method, url.rsplit("/", 1)[-1], (headers or {}).get("Authorization")))
        if url.endswith("/auth/code"):
            return Answer(202, {"sent": True})
        if url.endswith("/auth/token"):
            return Answer(200, {"token": "fresh"})
        if headers.get("Authorization") == "Bearer stale":
            return Answer(401, {"error": {"code": "unauthorized", "message": "expired"}})
        return Answer(200, {"months": []})

    monkeypatch.setattr(client.requests, "request", request)
    c = client.Client("http://x", token="stale", out=io.StringIO())
    monkeypatch.setattr(client.Client, "login", lambda self, prompt=None, interactive=None:
                        setattr(self, "token", "fresh"))
    assert c.call("GET", "/api/v1/admin/months", relogin=True) == {"months": []}
    assert [s[2] for s in seen] == ["Bearer stale", "Bearer fresh"]
    with pytest.raises(client.CommandError) as err:
        client.Client("http://x", token="stale").call("GET", "/api/v1/admin/months",
                                                      relogin=False)
    assert "log in again" in str(err.value)


def test_instants_are_printed_in_the_campaign_zone_to_the_second():
    assert client.local_time("2018-05-31T15:59:59.999+00:00", "Asia/Shanghai") \
        == "2018-05-31 23:59:59"
    assert client.local_time(None, "UTC") == "-"


def test_an_upload_shows_one_progress_line_then_the_wait():
    out = io.StringIO()
    body = client._Progress(client._multipart("members.csv", b"x" * 300_000, {}), out)
    while body.read(65536):
        pass
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 2 and lines[0].startswith("uploading") and "100%" in lines[0]
    assert lines[1] == "processing on the server…" and "\r" not in out.getvalue()
