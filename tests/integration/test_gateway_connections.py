"""Idle, half-sent connections against `challenge dev` (the whole platform in one process).

The process runs with a low descriptor limit (RLIMIT_NOFILE 256, soft and hard) so that what
took ~1,100 connections in production takes a few hundred here. Each connection sends a
request line and part of its headers and then nothing. Before the fix, the server accepted
them until `accept()` raised EMFILE, which killed the gateway's container and `challenge dev`
with it. Now: connections past HTTP_MAX_CONNECTIONS are answered 503 `server_busy` at once,
the idle ones are closed after HTTP_READ_TIMEOUT_SECONDS, and the platform answers throughout.
Loopback only; every wait is bounded."""
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.distributed import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESCRIPTORS = 256  # the platform process's RLIMIT_NOFILE
CAP = 100  # HTTP_MAX_CONNECTIONS
READ_TIMEOUT = 3  # HTTP_READ_TIMEOUT_SECONDS
HALF_SENT = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"  # and nothing more


def _few_descriptors():
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))


@pytest.fixture
def dev(tmp_path):
    port = free_port()
    env = dict(os.environ, HTTP_MAX_CONNECTIONS=str(CAP),
               HTTP_READ_TIMEOUT_SECONDS=str(READ_TIMEOUT), PYTHONUNBUFFERED="1",
               CHALLENGE_SECRET=secrets.token_urlsafe(48))
    log = open(tmp_path / "dev.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "challenge.cli", "dev", "--port", str(port),
         "--data", str(tmp_path / "var"), "--no-demo"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_few_descriptors)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "challenge dev did not start in 90 s"
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        yield {"port": port, "base": base, "process": process, "log": tmp_path / "dev.log"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def half_sent(port):
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.sendall(HALF_SENT)
    return conn


def answer_of(conn, wait=5.0):
    """What the server wrote before closing (b"" if it closed without a word); None if it
    still holds the connection open and silent after `wait` seconds."""
    conn.settimeout(wait)
    chunks = []
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except socket.timeout:
        return b"".join(chunks) if chunks else None
    except ConnectionResetError:
        return b"".join(chunks)


def healthz_answers(base):
    started = time.monotonic()
    response = requests.get(f"{base}/healthz", timeout=5)
    return response.status_code, time.monotonic() - started


def test_idle_half_sent_connections_neither_kill_nor_starve_the_platform(dev):
    port, base = dev["port"], dev["base"]
    held = [half_sent(port) for _ in range(CAP - 10)]
    try:
        status, seconds = healthz_answers(base)  # below the cap: served as usual
        assert status == 200 and seconds < 3, (status, seconds)

        # past the cap (and past what the process could ever open): 503 at once, with a body
        # saying why; the process lives on
        beyond = [half_sent(port) for _ in range(DESCRIPTORS + 50 - len(held))]
        answers = [answer_of(conn) for conn in beyond[-20:]]
        for conn in beyond:
            conn.close()
        assert dev["process"].poll() is None, dev["log"].read_text()[-3000:]
        for answer in answers:
            assert answer is not None and answer.startswith(b"HTTP/1.1 503"), answer
            head, _, body = answer.partition(b"\r\n\r\n")
            assert b"\r\nretry-after: " in head.lower()
            error = json.loads(body)["error"]
            assert (error["code"], error["reason"]) == ("service_unavailable", "server_busy")

        # the idle ones are closed after the read timeout, without an answer
        started = time.monotonic()
        closed = [answer_of(conn, READ_TIMEOUT + 5) for conn in held]
        assert closed == [b""] * len(held)
        assert time.monotonic() - started < READ_TIMEOUT + 5
    finally:
        for conn in held:
            conn.close()

    # and afterwards everything works: health, a page, an API refusal in the contract's shape
    assert healthz_answers(base)[0] == 200
    assert requests.get(f"{base}/", timeout=5).status_code == 200
    refused = requests.get(f"{base}/api/v1/me", timeout=5)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert dev["process"].poll() is None
