"""`challenge ping SERVICE`: a health check for containers (exit 0 when it answers, else 1).

The gateway is asked for /healthz on its own port; a service (which has no HTTP port) is asked
for `ping` over RPC, through the broker, as the gateway's /readyz does. Either way within
`--timeout` seconds: a check must never hang.
"""
from __future__ import annotations

import os
import sys

from kernel.settings import DEFAULT_AMQP_URI, SERVICES

TARGETS = SERVICES + ("gateway",)


def ping(target: str, timeout: float = 5.0) -> bool:
    if target == "gateway":
        import urllib.request

        address = os.environ.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000")
        port = address.rsplit(":", 1)[-1]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                        timeout=timeout) as answer:
                return answer.status == 200
        except OSError:
            return False
    from nameko.standalone.rpc import ClusterRpcProxy

    config = {"AMQP_URI": os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)}
    try:
        with ClusterRpcProxy(config, timeout=timeout) as rpc:
            return getattr(rpc, target).ping() == "pong"
    except Exception:  # noqa: BLE001 - any failure is "not healthy"
        return False


def main(args) -> int:
    healthy = ping(args.target, args.timeout)
    if not healthy:
        print(f"{args.target} did not answer within {args.timeout:g} s", file=sys.stderr)
    return 0 if healthy else 1


def add_parser(sub) -> None:
    parser = sub.add_parser("ping", help="health check: does this service answer? (exit 0/1)")
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--timeout", type=float, default=5.0)
