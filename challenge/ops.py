"""Operator commands that act on the configured (distributed) platform."""
from __future__ import annotations

import sys

from kernel.migrations import upgrade
from kernel.settings import SERVICES, Settings, secret_problem


# the gateway's schema holds the limit counters its replicas share (gateway/counters.py)
MIGRATED = SERVICES + ("gateway",)


def migrate(services) -> int:
    unknown = set(services) - set(MIGRATED)
    if unknown:
        print(f"unknown service(s): {', '.join(sorted(unknown))}; "
              f"choose from {', '.join(MIGRATED)}")
        return 2
    config = Settings.from_env().nameko_config()
    problem = secret_problem(config)
    if problem:  # the first step of every deployment: stop a platform without one here
        print(problem, file=sys.stderr)
        return 2
    # the gateway counts in its database only with a shared one (DATABASE_URL)
    everything = MIGRATED if config.get("DATABASE_URL") else SERVICES
    for name in services or everything:
        upgrade(config, [name])
        print(f"{name}: migrated to head")
    return 0
