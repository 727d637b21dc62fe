"""R13, the order of results, written once for Python and for SQL.

A result is (levels passed, total time, time of the last pass). The better result has more
levels, then less time, then the earlier last pass; the member id settles the rest, so the
order is total and the same everywhere: a member's best run (attempts), the live boards and
a member's rank (ranking, in SQL), a month's snapshot (ranking, in Python).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, or_

# (the result's field, whether more is better), most significant first
ORDER = (("levels", True), ("total_ms", False), ("at", False), ("member_id", False))

_NEVER = datetime.max.replace(tzinfo=timezone.utc)


def key(levels: int, total_ms: int, at: datetime | None, member_id: str = ""):
    """Sort ascending by this and the best result comes first (no last pass sorts last)."""
    return (-levels, total_ms, at or _NEVER, member_id)


def order_by(columns: dict) -> list:
    """The ORDER BY clauses for `columns` (field name → column), best first."""
    return [columns[name].desc() if more else columns[name] for name, more in ORDER]


def ahead_of(columns: dict, result) -> object:
    """A WHERE clause: the rows whose result comes before `result` (an object with the
    fields as attributes), in the same order as `key` and `order_by`."""
    ties, clauses = [], []
    for name, more in ORDER:
        column, value = columns[name], getattr(result, name)
        clauses.append(and_(*ties, column > value if more else column < value))
        ties.append(column == value)
    return or_(*clauses)
