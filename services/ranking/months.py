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
from .replicas import BANK_ADMIN_ROLES, SYSTEM, scopes

# what month_closed's tops say of each member (kernel.events.TopEntry)
TOP_FIELDS = ("member_id", "position", "levels", "total_ms", "name", "unit_name",
              "phone_masked", "disqualified", "active", "participation", "bank_admin",
              "passed_in_month")

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


def close(tx, campaign_id, month, by, expected: int, top_depth: int = 300) -> MonthClose:
    """Close the month: its snapshot (every scope's board of the best results up to the
    cutoff, everyone with a result marked with what eligibility depends on), month_closed
    with the head of the boards awards grants from (`top_depth` places of the whole tree's
    and of the campaign's organisation's), and campaign_closed after the last month.
    `expected`: how many passes attempts says were submitted by the cutoff; with fewer,
    ranking waits for the rest (Conflict). A concurrent close of the same month fails this
    one's commit (IntegrityError: the unique (campaign, month))."""
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
    # issue 18: everyone with a result by the cutoff stays on the month's board, marked
    # (members inactive at the close too, placeless: the live board did not show them)
    marks = _marks(tx, campaign, month, records, results, members)
    snapshot_id = str(uuid.uuid4())
    closed = MonthClose(snapshot_id=snapshot_id, campaign_id=campaign_id, month=month,
                        cutoff=cut, closed_at=tx.now, closed_by=by,
                        ranked_members=len(results), passes_counted=len(records),
                        final=month == _months(campaign)[-1])
    rows = _snapshot(snapshot_id, results, members, marks)
    tx.store.add_close(closed, rows)
    tx.emit("month_closed", {"campaign_id": campaign_id, "month": month, "cutoff": cut,
                             "snapshot_id": snapshot_id, "ranked_members": len(results),
                             "tops": tops(rows, top_scopes(campaign), top_depth)})
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


def top_scopes(campaign) -> list[str]:
    """The boards month_closed carries the head of: the whole tree's (R16's champion) and
    the campaign's organisation's (R16's "federation" places), when ranking knows it."""
    return list(dict.fromkeys([SYSTEM, *([campaign.organisation_id]
                                         if campaign.organisation_id else [])]))


def tops(rows, scope_ids, depth: int) -> list[dict]:
    """Each scope's board down to `depth` positions (kernel.events.MonthTop), from the
    snapshot's rows (in position order per scope)."""
    out = []
    for scope in scope_ids:
        board = [row for row in rows if row["scope_id"] == scope]
        out.append({"scope_id": scope, "depth": depth, "total": len(board),
                    "entries": [{field: row[field] for field in TOP_FIELDS}
                                for row in board[:depth]]})
    return out


def _marks(tx, campaign, month, records, results, members) -> dict[str, dict]:
    """What eligibility for a prize depends on, per member on the board, at the close
    (R16, R20; docs/decisions.md): active, participation, bank administrator, and whether
    they passed a level inside this month (R15's cutoffs bound it)."""
    admins = tx.store.holders(BANK_ADMIN_ROLES)
    played = rules.passed_in_month(records, month, _months(campaign), campaign.starts_at,
                                   campaign.time_zone)
    marks = {}
    for member_id in results:
        member = members.get(member_id)  # not replicated yet: active, participation unknown
        marks[member_id] = {"active": member.active if member else True,
                            "participation": member.participation if member else None,
                            "bank_admin": member_id in admins,
                            "passed_in_month": member_id in played}
    return marks


def _snapshot(snapshot_id, results, members, marks) -> list[dict]:
    """Every scope's board: each member with a result in every scope above them, in R13's
    order, placed (the disqualified and the inactive marked and placeless)."""
    by_scope: dict = {}
    for member_id, result in results.items():
        for scope in scopes(members.get(member_id)):
            by_scope.setdefault(scope, []).append(result)
    disqualified = {m for m, member in members.items() if member.disqualified}
    inactive = frozenset(m for m, mark in marks.items() if not mark["active"])
    rows = []
    for scope, scope_results in by_scope.items():
        for position, entry in enumerate(rules.board(scope_results, disqualified, inactive),
                                         1):
            member = members.get(entry["member_id"])
            rows.append({
                "snapshot_id": snapshot_id, "scope_id": scope,
                "member_id": entry["member_id"], "position": position,
                "rank": entry["rank"], "levels": entry["levels"],
                "total_ms": entry["total_ms"], "at": entry["at"], "run_id": entry["run_id"],
                "name": member.name if member else None,
                "unit_name": member.unit_name if member else None,
                "phone_masked": member.phone_masked if member else None,
                "disqualified": entry["disqualified"], **marks[entry["member_id"]]})
    return rows


def _campaign(tx, campaign_id):
    campaign = tx.store.campaign(campaign_id)
    if campaign is None:
        raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
    return campaign


def _months(campaign) -> list[str]:
    return rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone)
