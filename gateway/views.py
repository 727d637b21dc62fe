"""What the member page shows, computed from the services' answers (pure functions)."""
from __future__ import annotations

from datetime import datetime

from services.attempts import rules


def level_states(levels: list[dict], run: dict | None, now: datetime, ends_at: str) -> list[dict]:
    """Each level with the member's state, `passed`, `open` or `locked`, as attempts decides
    whether a start may play it (services/attempts/rules.py); no run yet is level 1 to play."""
    states = rules.level_states(rules.levels_at(levels), run["levels_passed"] if run else 0,
                                run["current_level"] if run else 1, now,
                                datetime.fromisoformat(ends_at))
    return [dict(level, state=state) for level, state in zip(levels, states)]


# What a level shows to whoever does not administer the bank: a member, or a unit's
# administrator who may play too. The bank's size, its mix by difficulty and the warnings
# about it are bank information (how much there is to harvest), for the bank's administrators.
LEVEL_FIELDS = ("number", "title", "theme", "opens_at", "time_limit_s", "draw_count")


def without_bank(campaign: dict) -> dict:
    """The campaign with each level's public fields only (no bank size, mix or warnings)."""
    return dict(campaign, levels=[{k: level[k] for k in LEVEL_FIELDS if k in level}
                                  for level in campaign["levels"]])


def in_scope(rows: list[dict], visible: list[str] | None, node_of=lambda row: row["org_unit_id"]):
    """The rows an administrator may read: those whose org unit (`node_of(row)`) is inside
    their part of the tree (`visible`; None: everywhere). Every admin view and every file
    exported from one filters its rows here, so a file never shows more than its JSON."""
    if visible is None:
        return list(rows)
    inside = set(visible)
    return [row for row in rows if node_of(row) in inside]
