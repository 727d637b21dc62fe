"""Embedded platform: the thin path's latency over HTTP, next to baselines measured in the
same run on the same runner.

    .venv/bin/python bench/embedded_thin_path.py [--members 40]

Prints p50/p95 for start and submit (gateway → attempts → question_bank, SQLite, outbox),
and two baselines: GET /healthz (the HTTP entrypoint alone) and GET /readyz (one RPC ping to
each of five services, in parallel), with the ratios of each path to /healthz.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import requests  # noqa: E402

from challenge import demo  # noqa: E402
from challenge.platform import EmbeddedPlatform, embedded_settings  # noqa: E402
from kernel import clock  # noqa: E402
from tests.thin_path import answers_for, login  # noqa: E402


def pct(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def timed(fn):
    began = time.perf_counter()
    result = fn()
    return time.perf_counter() - began, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=40)
    args = parser.parse_args()

    clock.install(clock.OffsetClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)))
    data = tempfile.mkdtemp(prefix="bench-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    platform = EmbeddedPlatform(embedded_settings(data, port)).start()
    base = f"http://127.0.0.1:{port}"
    try:
        with platform.rpc() as rpc:
            demo.load(rpc)
        session = requests.Session()
        health = [timed(lambda: session.get(f"{base}/healthz"))[0] for _ in range(200)]
        ready = [timed(lambda: session.get(f"{base}/readyz"))[0] for _ in range(50)]
        starts, submits = [], []
        for i in range(10, 10 + args.members):
            auth, _ = login(base, platform.settings.sms_file, f"1380000{i:04d}")
            took, paper = timed(lambda: session.post(f"{base}/api/v1/attempts",
                                                     json={"level": 1}, headers=auth).json())
            starts.append(took)
            took, result = timed(lambda: session.post(
                f"{base}/api/v1/attempts/{paper['attempt_id']}/submit",
                json={"answers": answers_for(paper)}, headers=auth).json())
            submits.append(took)
            assert result["passed"], result
    finally:
        platform.stop()

    base_p50 = statistics.median(health) * 1000
    print(f"embedded platform, {args.members} members, one client, sequential")
    print(f"{'path':<28}{'p50 ms':>9}{'p95 ms':>9}{'p50 / healthz':>15}")
    for name, samples in (("GET /healthz (baseline)", health),
                          ("GET /readyz (5 RPC pings)", ready),
                          ("POST /attempts (start)", starts),
                          ("POST .../submit", submits)):
        p50 = statistics.median(samples) * 1000
        print(f"{name:<28}{p50:>9.1f}{pct(samples, 0.95):>9.1f}{p50 / base_p50:>14.1f}x")


if __name__ == "__main__":
    main()
