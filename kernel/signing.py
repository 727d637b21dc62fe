"""The check every process holding the token secret makes before it starts."""
from __future__ import annotations

from nameko.extensions import DependencyProvider

from kernel.settings import secret_problem


class SecretRequired(DependencyProvider):
    """Refuses to start the service without a usable CHALLENGE_SECRET (kernel/settings.py).

    Checked at container setup, before any entrypoint listens: `nameko run` then exits
    non-zero with the one line on stderr (a SystemExit carries it out of the runner without
    a traceback), instead of serving tokens anyone can sign."""

    def setup(self):
        problem = secret_problem(self.container.config)
        if problem:
            raise SystemExit(problem)
