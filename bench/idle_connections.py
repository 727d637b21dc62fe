"""The gateway under idle, half-sent connections (slowloris): `/healthz` latency with 1,000 of
them held open, next to the same without any, measured in the same run; then what happens
past the connection cap and after the read timeout.

    .venv/bin/python bench/idle_connections.py [--idle 1000] [--beyond 100] [--probes 300]

It starts `challenge dev --no-demo` (the whole platform in one process, as `make run`) with
HTTP_MAX_CONNECTIONS = idle + 100 (so the probes fit beside the idle connections) and
HTTP_READ_TIMEOUT_SECONDS = --read-timeout, and:
1. probes `/healthz` --probes times, a new connection each (as a liveness probe does);
2. opens --idle connections that send a request line and one header and then nothing, and
   probes again (p50, p99, and the ratio to step 1);
3. opens the 100 the cap still allows plus --beyond more, and counts the 503s;
4. waits for the read timeout to close the idle ones and says how long it took.
Loopback only; prints the figures (and JSON with --json)."""
import argparse
import http.client
import json
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.distributed import free_port  # noqa: E402

HALF_SENT = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n"
ROOM = 100  # connections the cap leaves beside the idle ones


def start_platform(port, data, cap, read_timeout):
    env = dict(os.environ, HTTP_MAX_CONNECTIONS=str(cap),
               HTTP_READ_TIMEOUT_SECONDS=str(read_timeout),
               CHALLENGE_SECRET=os.environ.get("CHALLENGE_SECRET") or secrets.token_urlsafe(48))
    log = os.path.join(data, "dev.log")
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "challenge.cli", "dev", "--port", str(port), "--data", data,
             "--no-demo"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log, encoding="utf-8", errors="replace") as output:
                raise SystemExit(f"challenge dev exited: {output.read()[-2000:]}")
        try:
            if probe(port) == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("challenge dev did not answer /healthz in 120 s")


def probe(port) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()


def latencies(port, count):
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        status = probe(port)
        samples.append(time.perf_counter() - began)
        assert status == 200, status
    samples.sort()
    return {"p50_ms": round(samples[len(samples) // 2] * 1000, 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))] * 1000, 2)}


def half_sent(port):
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(HALF_SENT)
    return conn


def answered_busy(conn) -> bool:
    conn.settimeout(3)
    try:
        return conn.recv(64).startswith(b"HTTP/1.1 503")
    except OSError:
        return False


def descriptors(pid) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def until_held(pid, count, wait=10):
    """The server's descriptors once it holds `count`, or has held steady for a second (a
    probe's connection may still be closing), or after `wait` seconds."""
    deadline = time.monotonic() + wait
    seen, steady_since = descriptors(pid), time.monotonic()
    while seen < count and time.monotonic() < min(deadline, steady_since + 1):
        time.sleep(0.1)
        now = descriptors(pid)
        if now != seen:
            seen, steady_since = now, time.monotonic()
    return seen


def closed(conn, wait) -> bool:
    conn.settimeout(wait)
    try:
        return conn.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--beyond", type=int, default=100)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--read-timeout", type=float, default=10)  # the setting's default
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.idle + ROOM + args.beyond + 256
    if soft < needed <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))  # this side's sockets

    data, port = tempfile.mkdtemp(prefix="bench-idle-"), free_port()
    process = start_platform(port, data, args.idle + ROOM, args.read_timeout)
    held, beyond = [], []
    try:
        resting = descriptors(process.pid)
        latencies(port, 50)  # warm up: the first requests pay for imports and caches
        baseline = latencies(port, args.probes)
        opened = time.monotonic()
        held = [half_sent(port) for _ in range(args.idle)]
        holding = until_held(process.pid, resting + args.idle) - resting
        loaded = latencies(port, args.probes)
        in_time = time.monotonic() - opened < args.read_timeout  # nothing timed out yet

        held += [half_sent(port) for _ in range(ROOM)]
        last_opened = time.monotonic()
        until_held(process.pid, resting + len(held))
        beyond = [half_sent(port) for _ in range(args.beyond)]
        busy = sum(answered_busy(conn) for conn in beyond)

        began = time.monotonic()
        still_open = sum(not closed(conn, args.read_timeout + 10) for conn in held)
        closed_after = time.monotonic() - last_opened
        after = latencies(port, 50)
        figures = {
            "idle_connections": args.idle, "cap": args.idle + ROOM,
            "read_timeout_s": args.read_timeout, "descriptors_at_rest": resting,
            "descriptors_for_idle": holding, "healthz_without_idle": baseline,
            "healthz_with_idle": loaded, "measured_before_any_timed_out": in_time,
            "p50_ratio": round(loaded["p50_ms"] / baseline["p50_ms"], 2),
            "p99_ratio": round(loaded["p99_ms"] / baseline["p99_ms"], 2),
            "beyond_cap": args.beyond, "beyond_cap_answered_503": busy,
            "idle_still_open_after_timeout": still_open,
            "idle_closed_within_s_of_the_last_opened": round(closed_after, 1),
            "waited_for_close_s": round(time.monotonic() - began, 1),
            "healthz_after": after, "platform_alive": process.poll() is None,
        }
    finally:
        for conn in held + beyond:
            conn.close()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(data, ignore_errors=True)

    print(f"/healthz without idle connections: p50 {baseline['p50_ms']} ms, "
          f"p99 {baseline['p99_ms']} ms ({args.probes} probes, a connection each)")
    print(f"/healthz with {args.idle} idle connections held ({holding} descriptors): "
          f"p50 {loaded['p50_ms']} ms, p99 {loaded['p99_ms']} ms "
          f"(x{figures['p50_ratio']} p50, x{figures['p99_ratio']} p99)")
    print(f"past the cap of {figures['cap']}: {busy} of {args.beyond} answered 503 server_busy")
    print(f"idle connections closed by the read timeout ({args.read_timeout:g} s): "
          f"{len(held) - still_open} of {len(held)}, the last {closed_after:.1f} s after it "
          f"was opened; /healthz after: p50 {after['p50_ms']} ms; platform alive: "
          f"{figures['platform_alive']}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    ok = figures["platform_alive"] and busy == args.beyond and still_open == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
