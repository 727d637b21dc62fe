"""Operator commands that act on the configured (distributed) platform."""
from __future__ import annotations

import sys

from kernel.migrations import upgrade
from kernel.settings import SERVICES, Settings, secret_problem


def migrate(services) -> int:
    unknown = set(services) - set(SERVICES)
    if unknown:
        print(f"unknown service(s): {', '.join(sorted(unknown))}; "
              f"choose from {', '.join(SERVICES)}")
        return 2
    config = Settings.from_env().nameko_config()
    problem = secret_problem(config)
    if problem:  # the first step of every deployment: stop a platform without one here
        print(problem, file=sys.stderr)
        return 2
    for name in services or SERVICES:
        upgrade(config, [name])
        print(f"{name}: migrated to head")
    return 0
