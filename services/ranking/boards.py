"""The live boards (R8, R13): passes in, each member's best standing, a scope's board paged,
a member's rank in every scope above them, and the rebuild from attempts' export."""
from __future__ import annotations

import time
from datetime import datetime

from eventlet.semaphore import Semaphore

from . import months, rules
from .models import PassRecord, Standing
from .replicas import BANK_ADMIN_ROLES, scopes

# issue 20: a board of at least LARGE_BOARD members keeps its total and its places in this
# process for BOARD_CACHE_SECONDS (one pass over the board in its order instead of a count
# per request and per scope of my_rank); smaller boards are counted exactly every time.
# Another replica's changes show on a large board within that time.
LARGE_BOARD = 2000
BOARD_CACHE_SECONDS = 5.0


class BoardCache:
    """(campaign, scope) -> [until, total, {member: placed ahead}], or [until, None, None]
    for a board found small. An expired board is served while one worker rebuilds it."""

    def __init__(self):
        self.boards: dict = {}
        self.building: dict = {}  # a board is built by one worker: the others wait for it

    def get(self, tx, campaign_id, scope_id):
        """(total, {member: placed ahead}) of a large board, None for a small one."""
        key = (campaign_id, scope_id)
        held = self.boards.get(key)
        if held is not None and held[0] < time.monotonic():
            held[0] = time.monotonic() + BOARD_CACHE_SECONDS  # read while one rebuilds
            held = self._build(tx, key)
        elif held is None:
            with self.building.setdefault(key, Semaphore()):
                held = self.boards.get(key) or self._build(tx, key)
        return None if held[1] is None else held[1:]

    def _build(self, tx, key):
        if tx.store.scope_size(key[1]) < LARGE_BOARD:  # no more on its board: count it
            total = ahead = None
        else:
            total, ahead = tx.store.board_places(*key)
        if len(self.boards) > 1000:
            self.boards.clear()
            self.building.clear()
        held = [time.monotonic() + BOARD_CACHE_SECONDS,
                *((total, ahead) if total is not None and total >= LARGE_BOARD
                  else (None, None))]
        self.boards[key] = held
        return held

    def placed_ahead(self, tx, campaign_id, scope_id, standing) -> int | None:
        """How many take a place ahead of `standing` on a large board (None: a small board,
        or the member was not on it yet, or has a new result since: count it, so a member
        never sees their own old place beside their new result)."""
        board = self.get(tx, campaign_id, scope_id)
        held = None if board is None else board[1].get(standing.member_id)
        if held is None or held[1] != (standing.levels, standing.total_ms, standing.at):
            return None
        return held[0]

    def total(self, tx, campaign_id, scope_id) -> int | None:
        board = self.get(tx, campaign_id, scope_id)
        return None if board is None else board[0]


CACHE = BoardCache()


def apply_pass(tx, data) -> None:
    """One record per (run, levels passed): duplicates and any order give the same board."""
    record_pass(tx, data)
    restate(tx, data["campaign_id"], data["member_id"])


def record_pass(tx, data) -> None:
    if tx.store.pass_record(data["run_id"], data["run_levels_passed"]) is None:
        tx.store.add_pass(PassRecord(
            run_id=data["run_id"], levels=data["run_levels_passed"],
            member_id=data["member_id"], campaign_id=data["campaign_id"],
            total_ms=data["run_total_ms"], at=data["submitted_at"],
            attempt_id=data["attempt_id"],
        ))


def apply_regrade(tx, data) -> None:
    """attempts regraded an attempt (R12): with `run_passes` its run's score was replayed
    (R13), and those records replace the run's own (an earlier pass, less time after it);
    replaying the same records again changes nothing. Closed months' snapshots stay."""
    records = data.get("run_passes")
    if records is None:
        return
    for record in records:
        held = tx.store.pass_record(data["run_id"], record["levels"])
        if held is None:
            tx.store.add_pass(PassRecord(
                run_id=data["run_id"], levels=record["levels"], member_id=data["member_id"],
                campaign_id=data["campaign_id"], total_ms=record["total_ms"],
                at=record["at"], attempt_id=record["attempt_id"]))
        else:
            held.total_ms, held.at = record["total_ms"], record["at"]
            held.attempt_id = record["attempt_id"]
    restate(tx, data["campaign_id"], data["member_id"])


def restate(tx, campaign_id, member_id) -> None:
    """R8: the member's standing is their best pass record."""
    # the standing locked first: two passes of one member are applied one after the other
    standing = tx.store.standing(campaign_id, member_id, lock=True)
    top = rules.best(rules.result(r) for r in tx.store.passes_of(campaign_id, member_id))
    if standing is None:  # a concurrent first insert fails, and handles_once runs us again
        standing = Standing(campaign_id=campaign_id, member_id=member_id)
        tx.store.add(standing)
    standing.levels, standing.total_ms = top.levels, top.total_ms
    standing.at, standing.run_id = top.at, top.run_id


def leaderboard(tx, scope_id, campaign_id=None, limit=50, offset=0, month=None) -> dict:
    """The live board of a scope, or a closed month's snapshot, paged, in R13's order."""
    campaign_id = campaign_id or tx.store.current_campaign_id()
    if campaign_id is None:
        return {"scope_id": scope_id, "campaign_id": None, "total": 0, "entries": [],
                "month": month}
    if month:
        return months.snapshot_board(tx, campaign_id, scope_id, month, limit, offset)
    total, rows = CACHE.total(tx, campaign_id, scope_id), None
    if total is None:
        total, rows = tx.store.live_board(campaign_id, scope_id, limit, offset)
    else:
        rows = tx.store.live_page(campaign_id, scope_id, limit, offset)
    first_place = 1
    if offset and rows:  # the places of the eligible on the pages before this one
        first_place += _placed_ahead(tx, campaign_id, scope_id, rows[0][0])
    admins = tx.store.holders(BANK_ADMIN_ROLES)
    entries = rules.place([_entry(standing, member, member.member_id in admins)
                           for standing, member in rows], first_place)
    return {"scope_id": scope_id, "campaign_id": campaign_id, "total": total, "month": None,
            "entries": entries}


def my_rank(tx, member_id, campaign_id=None) -> dict:
    """My place in every scope above me (None where I have no result or take no place)."""
    campaign_id = campaign_id or tx.store.current_campaign_id()
    member = tx.store.member(member_id)
    standing = campaign_id and tx.store.standing(campaign_id, member_id)
    placed = standing and member and member.active and not member.disqualified
    return {"member_id": member_id, "campaign_id": campaign_id, "scopes": [
        {"scope_id": scope,
         "rank": 1 + _placed_ahead(tx, campaign_id, scope, standing) if placed else None}
        for scope in scopes(member)]}


def _placed_ahead(tx, campaign_id, scope_id, standing) -> int:
    """How many take a place ahead of `standing` on the scope's board: from the board
    cache on a large board, counted otherwise."""
    ahead = CACHE.placed_ahead(tx, campaign_id, scope_id, standing)
    if ahead is None:
        ahead = tx.store.placed_ahead(campaign_id, scope_id, standing)
    return ahead


# -- rebuild: wipe, replay attempts' export page by page, restate ----------------------------

def wipe(tx, campaign_id=None) -> str | None:
    """The live projection of a campaign gone (closed months' snapshots are immutable and
    stay); returns the campaign (the current one when none is named)."""
    campaign_id = campaign_id or tx.store.current_campaign_id()
    tx.store.wipe_live(campaign_id)
    return campaign_id


def replay(tx, passes) -> set[str]:
    """A page of attempts' export recorded; the members it names."""
    for data in passes:
        record_pass(tx, _as_event_data(data))
    return {data["member_id"] for data in passes}


def restate_all(tx, campaign_id, member_ids) -> None:
    for member_id in sorted(member_ids):
        restate(tx, campaign_id, member_id)


def _entry(standing, member, bank_admin: bool) -> dict:
    """A live board's row, with the marks the pages show (issue 18: the inactive are off the
    live board; the withdrawn and administrators stay on it, placed and marked)."""
    return {
        "member_id": member.member_id, "name": member.name, "unit_name": member.unit_name,
        "phone_masked": member.phone_masked, "levels": standing.levels,
        "total_ms": standing.total_ms, "at": standing.at,
        "disqualified": member.disqualified, "active": member.active,
        "participation": member.participation, "bank_admin": bank_admin,
    }


def _as_event_data(data) -> dict:
    """An exported pass (JSON) as the event handler sees one (aware datetimes)."""
    at = data["submitted_at"]
    return dict(data, submitted_at=datetime.fromisoformat(at) if isinstance(at, str) else at)
