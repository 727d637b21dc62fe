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
