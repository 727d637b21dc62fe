"""The gateway's HTTP layer on the embedded platform: the security headers of the pages and of
every other answer, and the read timeout (HTTP_READ_TIMEOUT_SECONDS, 1 s here) on a request's
head trickled a byte at a time and on a body that falls silent. (Idle connections by the
hundred, and the connection cap: tests/integration/test_gateway_connections.py.)"""
import json
import re
import socket
import time
from datetime import datetime, timezone

import pytest
import requests

from challenge.platform import EmbeddedPlatform, embedded_settings
from kernel import bus, clock
from tests.distributed import free_port

READ_TIMEOUT = 1


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    bus.reset()
    clock.install(clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)))
    port = free_port()
    settings = embedded_settings(str(tmp_path_factory.mktemp("http")), port).with_(
        policy={"HTTP_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)})
    platform = EmbeddedPlatform(settings).start()
    yield {"base": f"http://127.0.0.1:{port}", "port": port}
    platform.stop()


@pytest.mark.parametrize("path", ["/", "/admin", "/docs"])
def test_a_page_runs_only_its_own_scripts(gateway, path):
    first = requests.get(gateway["base"] + path, timeout=10)
    assert first.status_code == 200
    policy = first.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([\w-]+)'", policy).group(1)
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.replace("style-src-attr 'unsafe-inline'", "")
    assert f"style-src 'self' 'nonce-{nonce}'" in policy
    assert first.headers["X-Frame-Options"] == "DENY"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    # every inline script and style carries this response's nonce; the rest come from here
    scripts = re.findall(r"<script([^>]*)>", first.text)
    assert scripts and all(f'nonce="{nonce}"' in tag or 'src="/static/' in tag
                           for tag in scripts), scripts
    assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<style([^>]*)>", first.text))
    again = requests.get(gateway["base"] + path, timeout=10).headers["Content-Security-Policy"]
    assert nonce not in again  # a fresh one each time


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/healthz", 200), ("GET", "/api/v1/me", 401), ("GET", "/no/such/path", 404),
    ("DELETE", "/healthz", 405), ("GET", "/static/common.js", 200),
    ("GET", "/openapi.json", 200), ("POST", "/api/v1/auth/code", 400),
])
def test_every_other_answer_may_not_be_sniffed_framed_or_run(gateway, method, path, status):
    response = requests.request(method, gateway["base"] + path, timeout=10)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def read_all(conn, wait):
    conn.settimeout(wait)
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except socket.timeout:
        return None  # still open, still silent
    return b"".join(chunks)


def test_a_head_trickled_a_byte_at_a_time_is_cut_off(gateway):
    """Each byte comes well within the timeout; the head as a whole does not."""
    conn = socket.create_connection(("127.0.0.1", gateway["port"]), timeout=5)
    started = time.monotonic()
    try:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            conn.sendall(bytes([byte]))
            time.sleep(READ_TIMEOUT / 4)
    except OSError:  # closed on us while trickling: what we want
        pass
    assert read_all(conn, 3) == b""  # closed, without an answer
    assert time.monotonic() - started < READ_TIMEOUT + 3
    conn.close()
    assert requests.get(gateway["base"] + "/healthz", timeout=5).status_code == 200


def test_a_body_that_falls_silent_is_408_naming_the_body(gateway):
    conn = socket.create_connection(("127.0.0.1", gateway["port"]), timeout=5)
    conn.sendall(b"POST /api/v1/auth/code HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                 b"\r\nContent-Length: 100\r\n\r\n{\"phone\": ")  # and then nothing
    answer = read_all(conn, READ_TIMEOUT + 5)
    conn.close()
    assert answer is not None and answer.startswith(b"HTTP/1.1 408"), answer
    error = json.loads(answer.partition(b"\r\n\r\n")[2])["error"]
    assert error["code"] == "request_timeout" and "body" in error["fields"]


def test_an_office_behind_one_address_gets_its_login_codes(gateway):
    """Issue 21 item 5: forty colleagues behind one NAT address each ask for a code within the
    hour; under the default limits none is told to wait (the per-phone rules protect each
    account). The old default (20 an hour per address) refused the 21st."""
    answers = [requests.post(f"{gateway['base']}/api/v1/auth/code",
                             json={"phone": f"139{n:08d}"}, timeout=10).status_code
               for n in range(40)]
    assert answers == [202] * 40
