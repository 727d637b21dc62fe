"""What the member page shows, computed from the services' answers (pure functions)."""
from __future__ import annotations

from datetime import datetime


def level_states(levels: list[dict], run: dict | None, now: datetime, ends_at: str) -> list[dict]:
    """Each level with the member's state: `passed` (by the active run), `open` (playable
    now: opened, campaign not over, and the run's current level), else `locked`."""
    levels_passed = run["levels_passed"] if run else 0
    current = run["current_level"] if run else 1
    over = now > datetime.fromisoformat(ends_at)
    out = []
    for level in levels:
        opened = datetime.fromisoformat(level["opens_at"]) <= now
        if level["number"] <= levels_passed:
            state = "passed"
        elif opened and not over and level["number"] == current:
            state = "open"
        else:
            state = "locked"
        out.append(dict(level, state=state))
    return out
