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
from .replicas import BANK_ADMIN_ROLES, SYSTEM

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
        raise BadInput(f"{month} is not a month of this campaign", fields={"month": [month]},
                       reason="not_a_campaign_month")
    cut = rules.cutoff(month, campaign.time_zone)
    if tx.now <= cut:
        raise Conflict(f"{month} runs until {cut.isoformat()}; it can be closed after that",
                       fields={"month": ["not over yet"]}, reason="month_not_over")
    done = tx.store.month_close(campaign_id, month)
    if done is None:
        for earlier in _months(campaign):
            if earlier >= month:
                break
            if tx.store.month_close(campaign_id, earlier) is None:
                raise Conflict(f"close {earlier} first", fields={"month": [earlier]},
                               reason="earlier_month_open")
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
    counted, ranked = tx.store.passes_counted(campaign_id, cut)
    if counted < expected:
        raise Conflict(f"ranking holds {counted} of the {expected} passes submitted "
                       f"by the cutoff of {month}; waiting for the rest",
                       reason="month_passes_pending")
    if counted > expected:
        log.error("ranking holds %d passes up to %s but attempts counts %d: closing with "
                  "what ranking holds", counted, cut, expected)
    snapshot_id = str(uuid.uuid4())
    closed = MonthClose(snapshot_id=snapshot_id, campaign_id=campaign_id, month=month,
                        cutoff=cut, closed_at=tx.now, closed_by=by,
                        ranked_members=ranked, passes_counted=counted,
                        final=month == _months(campaign)[-1])
    tx.store.add_close(closed)  # the unique (campaign, month) stops a second closer
    # issue 18: everyone with a result by the cutoff stays on the month's board, marked
    # (members inactive at the close too, placeless: the live board did not show them);
    # issue 20: written by the database in one statement, nothing loaded here
    tx.store.write_snapshot(snapshot_id, campaign_id, cut, month_begins(campaign, month),
                            SYSTEM, BANK_ADMIN_ROLES)
    heads = tx.store.snapshot_heads(snapshot_id, top_scopes(campaign), top_depth)
    tx.emit("month_closed", {"campaign_id": campaign_id, "month": month, "cutoff": cut,
                             "snapshot_id": snapshot_id, "ranked_members": ranked,
                             "tops": [{"scope_id": scope, "depth": top_depth, "total": total,
                                       "entries": [{field: getattr(row, field)
                                                    for field in TOP_FIELDS} for row in rows]}
                                      for scope, (total, rows) in heads.items()]})
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
                       "month is closed", fields={"month": [month]}, reason="month_still_open")
    total, rows = tx.store.snapshot_board(closed.snapshot_id, scope_id, limit, offset)
    return {"scope_id": scope_id, "campaign_id": campaign_id, "total": total, "month": month,
            "snapshot_id": closed.snapshot_id, "cutoff": closed.cutoff, "entries": rows}


def top_scopes(campaign) -> list[str]:
    """The boards month_closed carries the head of: the whole tree's (R16's champion) and
    the campaign's organisation's (R16's "federation" places), when ranking knows it."""
    return list(dict.fromkeys([SYSTEM, *([campaign.organisation_id]
                                         if campaign.organisation_id else [])]))


def month_begins(campaign, month) -> tuple:
    """R15/R16: where a month's passes begin, as (instant, inclusive): after the previous
    month's cutoff (23:59:59.999 local belongs to that month); the campaign's first month
    from the campaign's start, inclusive."""
    campaign_months = _months(campaign)
    index = campaign_months.index(month)
    if index == 0:
        return campaign.starts_at, True
    return rules.cutoff(campaign_months[index - 1], campaign.time_zone), False


def _campaign(tx, campaign_id):
    campaign = tx.store.campaign(campaign_id)
    if campaign is None:
        raise NotFound("no such campaign", fields={"campaign_id": [campaign_id]})
    return campaign


def _months(campaign) -> list[str]:
    return rules.months(campaign.starts_at, campaign.ends_at, campaign.time_zone)
