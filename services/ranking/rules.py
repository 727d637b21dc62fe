"""Ranking rules (R8, R13): the order of results and the places on a board.

A result is (levels passed, total time, time of the last pass). The better result has more
levels, then less time, then the earlier last pass; the member id settles the rest, so the
order is total and the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Result:
    member_id: str
    levels: int
    total_ms: int
    at: datetime
    run_id: str = ""

    def order_key(self):
        return (-self.levels, self.total_ms, self.at, self.member_id)


def best(results):
    """R8: a member's result is the best over their runs (None if there is none)."""
    return min(results, key=Result.order_key, default=None)


def place(entries, first_place: int = 1):
    """Places for an ordered page of entries; disqualified entries are marked and take none.

    `first_place` is the place the first eligible entry of this page gets (boards are paged).
    """
    placed, nxt = [], first_place
    for entry in entries:
        if entry.get("disqualified"):
            placed.append(dict(entry, rank=None))
        else:
            placed.append(dict(entry, rank=nxt))
            nxt += 1
    return placed


