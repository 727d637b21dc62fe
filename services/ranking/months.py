"""R15: a campaign's months, their cutoffs and closes, and each closed month's immutable
snapshot of the boards.

A close happens in two steps around a call to attempts (no transaction is held across it):
the cutoff here, then attempts counts the passes submitted by it, then `close` checks ranking
holds them all and writes the snapshot."""
from __future__ import annotations

import logging
import uuid

from kernel.errors import BadInput, Conflict, NotFound

from . import rules
from .models import MonthClose
from .replicas import scopes

log = logging.getLogger(__name__)


def calendar(tx, campaign_id=None) -> list:
    """The campaign's months: each cutoff, and for closed ones their close."""
    campaign = _campaign(tx, campaign_id or tx.store.current_campaign_id())
    closes = tx.store.month_closes(campaign.campaign_id)
    return [closes.get(month) or {
        "campaign_id": campaign.campaign_id, "month": month, "closed": False,
        "cutoff": rules.cutoff(month, campaign.time_zone)} for month in _months(campaign)]


def due(tx, settle) -> list[tuple[str, list[str]]]:
    """Per campaign, its months not closed yet whose cutoff plus `settle` has passed, in
    order (a later month never closes before an earlier one)."""
    out = []
    for campaign in tx.store.campaigns():
        closes = tx.store.month_closes(campaign.campaign_id)
        months = []
        for month in _months(campaign):
            if rules.cutoff(month, campaign.time_zone) + settle > tx.now:
                break
            if month not in closes:
                months.append(month)
        out.append((campaign.campaign_id, months))
    return out


def check_close(tx, campaign_id, month) -> MonthClose | None:
    """An administrator's close: refused for a month the campaign has not, before its
    cutoff, and before every earlier month is closed. The close already made, if any
    (closing is idempotent)."""
    campaign = _campaign(tx, campaign_id)
    if month not in _months(campaign):
        raise BadInput(f"{month} is not a month of this campaign", fields={"month": [month]})
    cut = rules.cutoff(month, campaign.time_zone)
    if tx.now <= cut:
        raise Conflict(f"{month} runs until {cut.isoformat()}; it can be closed after that",
                       fields={"month": ["not over yet"]})
    done = tx.store.month_close(campaign_id, month)
    if done is None:
        for earlier in _months(campaign):
            if earlier >= month:
                break
            if tx.store.month_close(campaign_id, earlier) is None:
                raise Conflict(f"close {earlier} first", fields={"month": [earlier]})
    return done


def cutoff(tx, campaign_id, month):
    """R15: the month's last instant in the campaign's time zone."""
    return rules.cutoff(month, _campaign(tx, campaign_id).time_zone)


def close(tx, campaign_id, month, by, expected: int) -> MonthClose:
    """Close the month: its snapshot (every scope's board of the best results up to the
    cutoff), month_closed, and campaign_closed after the last month. `expected`: how many
    passes attempts says were submitted by the cutoff; with fewer, ranking waits for the
    rest (Conflict). A concurrent close of the same month fails this one's commit
    (IntegrityError: the unique (campaign, month))."""
    campaign = _campaign(tx, campaign_id)
    cut = rules.cutoff(month, campaign.time_zone)
    records = tx.store.passes_until(campaign_id, cut)
    if len(records) < expected:
        raise Conflict(f"ranking holds {len(records)} of the {expected} passes submitted "
                       f"by the cutoff of {month}; waiting for the rest")
    if len(records) > expected:
        log.error("ranking holds %d passes up to %s but attempts counts %d: closing with "
                  "what ranking holds", len(records), cut, expected)
    results = rules.standings_at([rules.result(r) for r in records], cut)
    members = tx.store.members(results)
    # the month's board is the live board at its close: inactive members are off it
    results = {m: r for m, r in results.items() if m not in members or members[m].active}
    snapshot_id = str(uuid.uuid4())
    closed = MonthClose(snapshot_id=snapshot_id, campaign_id=campaign_id, month=month,
                        cutoff=cut, closed_at=tx.now, closed_by=by,
                        ranked_members=len(results), passes_counted=len(records),
                        final=month == _months(campaign)[-1])
    tx.store.add_close(closed, _snapshot(snapshot_id, results, members))
    tx.emit("month_closed", {"campaign_id": campaign_id, "month": month, "cutoff": cut,
                             "snapshot_id": snapshot_id, "ranked_members": len(results)})
    if closed.final:
        tx.emit("campaign_closed", {"campaign_id": campaign_id,
                                    "final_snapshot_id": snapshot_id})
    return closed


def closed_elsewhere(tx, campaign_id, month) -> MonthClose:
    """The close another replica (or administrator) made first."""
    log.info("month %s of %s was closed by another replica", month, campaign_id)
    return tx.store.month_close(campaign_id, month)


def snapshot_board(tx, campaign_id, scope_id, month, limit, offset) -> dict:
    """A closed month's board of a scope, paged; Conflict while the month is open."""
    closed = tx.store.month_close(campaign_id, month)
    if closed is None:
        raise Conflict(f"{month} is not closed yet; its board is the live one until the "
                       "month is closed", fields={"month": [month]})
    total, rows = tx.store.snapshot_board(closed.snapshot_id, scope_id, limit, offset)
    return {"scope_id": scope_id, "campaign_id": campaign_id, "total": total, "month": month,
            "snapshot_id": closed.snapshot_id, "cutoff": closed.cutoff, "entries": rows}


def _snapshot(snapshot_id, results, members) -> list[dict]:
    """Every scope's board: each ranked member in every scope above them, placed (R13)."""
    by_scope: dict = {}
    for member_id, result in results.items():
        for scope in scopes(members.get(member_id)):
            by_scope.setdefault(scope, []).append(result)
    disqualified = {m for m, member in members.items() if member.disqualified}
    rows = []
    for scope, scope_results in by_scope.items():
        for position, entry in enumerate(rules.board(scope_results, disqualified), 1):
            member = members.get(entry["member_id"])
            rows.append({
                "snapshot_id": snapshot_id, "scope_id": scope,
                "member_id": entry["member_id"], "position": position,
                "rank": entry["rank"], "levels": entry["levels"],
                "total_ms": entry["total_ms"], "at": entry["at"], "run_id": entry["run_id"],
                "name": member.name if member else None,
                "unit_name": member.unit_name if member else None,
                "phone_masked": member.phone_masked if member else None,
                "disqualified": entry["disqualified"]})
    return rows


def _campaign(tx, campaign_id):
    campaign = tx.store.campaign(campaign_id)
    if campaign is None:
        raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
    return campaign


def _months(campaign) -> list[str]:
    return rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone)
