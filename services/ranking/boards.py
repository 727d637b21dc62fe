"""The live boards (R8, R13): passes in, each member's best standing, a scope's board paged,
a member's rank in every scope above them, and the rebuild from attempts' export."""
from __future__ import annotations

from datetime import datetime

from . import months, rules
from .models import PassRecord, Standing
from .replicas import BANK_ADMIN_ROLES, scopes


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
    total, rows = tx.store.live_board(campaign_id, scope_id, limit, offset)
    first_place = 1
    if offset and rows:  # the places of the eligible on the pages before this one
        first_place += tx.store.placed_ahead(campaign_id, scope_id, rows[0][0])
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
         "rank": 1 + tx.store.placed_ahead(campaign_id, scope, standing) if placed else None}
        for scope in scopes(member)]}


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
