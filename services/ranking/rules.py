"""Ranking rules (R8, R13): the order of results and the places on a board.

A result is (levels passed, total time, time of the last pass). The better result has more
levels, then less time, then the earlier last pass; the member id settles the rest, so the
order is total and the same everywhere (kernel/r13.py writes it once, for Python and SQL).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kernel import r13, r15


@dataclass(frozen=True)
class Result:
    member_id: str
    levels: int
    total_ms: int
    at: datetime
    run_id: str = ""

    def order_key(self):
        return r13.key(self.levels, self.total_ms, self.at, self.member_id)


def result(record) -> Result:
    """A stored pass (anything with the result's fields) as a Result."""
    return Result(record.member_id, record.levels, record.total_ms, record.at, record.run_id)


def best(results):
    """R8: a member's result is the best over their runs (None if there is none)."""
    return min(results, key=Result.order_key, default=None)


def place(entries, first_place: int = 1):
    """Places for an ordered page of entries; disqualified entries (R20) and, on a closed
    month's board, members inactive at the close are marked and take none (the live board
    at the close did not show them).

    `first_place` is the place the first eligible entry of this page gets (boards are paged).
    """
    placed, nxt = [], first_place
    for entry in entries:
        if entry.get("disqualified") or entry.get("active") is False:
            placed.append(dict(entry, rank=None))
        else:
            placed.append(dict(entry, rank=nxt))
            nxt += 1
    return placed


# -- months (R15) -------------------------------------------------------------------------

# a month and its cutoff are written once for every service (attempts tells the member)
month_of = r15.month_of
cutoff = r15.cutoff


def months(starts_at: datetime, ends_at: datetime, time_zone: str) -> list[str]:
    """Every campaign-local month from the start's to the end's, in order."""
    first, last = month_of(starts_at, time_zone), month_of(ends_at, time_zone)
    out, (year, number) = [], (int(p) for p in first.split("-"))
    while True:
        month = f"{year:04d}-{number:02d}"
        out.append(month)
        if month >= last:
            return out
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)


def standings_at(records, until: datetime) -> dict:
    """R15: each member's best result counting only passes submitted at or before `until`."""
    by_member: dict = {}
    for record in records:
        if record.at <= until:
            by_member.setdefault(record.member_id, []).append(record)
    return {member: best(results) for member, results in by_member.items()}


def board(results, disqualified: set, inactive: frozenset = frozenset()) -> list[dict]:
    """Results in the board's order with places; the disqualified and the inactive are
    marked, placeless."""
    ordered = sorted(results, key=Result.order_key)
    return place([{"member_id": r.member_id, "levels": r.levels, "total_ms": r.total_ms,
                   "at": r.at, "run_id": r.run_id, "disqualified": r.member_id in disqualified,
                   "active": r.member_id not in inactive} for r in ordered])


def passed_in_month(records, month: str, campaign_months: list[str], starts_at: datetime,
                    time_zone: str) -> set[str]:
    """R15/R16: the members with a pass submitted inside `month`: after the previous month's
    cutoff (23:59:59.999 local belongs to that month) up to and including this month's; the
    campaign's first month from the campaign's start."""
    until = cutoff(month, time_zone)
    index = campaign_months.index(month)
    if index == 0:
        def inside(at):
            return starts_at <= at <= until
    else:
        after = cutoff(campaign_months[index - 1], time_zone)

        def inside(at):
            return after < at <= until
    return {record.member_id for record in records if inside(record.at)}
