"""awards' monthly use cases (R16, R20): a closed month's awards granted once from ranking's
boards, reconciled when a member is disqualified or reinstated, paid by finance; the policy.

Plain functions over a unit of work (`tx.store`, `tx.emit`, `tx.now`). Ranking's boards are
read by the entrypoint between two transactions and handed in."""
from __future__ import annotations

import uuid

from kernel.errors import Conflict, NotFound, load

from .models import Award, AwardPolicy, BoardEntry, GrantedPeriod
from .policy import allocate, default_policy, depth
from .schemas import PolicyLine

BOARD_MARGIN = 200  # entries kept below the last awarded place, for places that move up
PAGE = 200  # board entries asked of ranking at a time
BOARD_FIGURES = ("name", "unit_name", "phone_masked", "levels", "total_ms")


# -- granting a closed month -----------------------------------------------------------------

def policy_to_grant(tx, campaign_id: str, month: str) -> list[dict] | None:
    """The monthly policy lines a closed month is granted under, or None when it has been
    granted already (a redelivered or repeated month_closed grants nothing more)."""
    if tx.store.granted_period(campaign_id, month) is not None:
        return None
    return PolicyLine(many=True).dump(tx.store.monthly_lines(campaign_id))


def boards_wanted(lines: list[dict]) -> dict[str, int]:
    """The scopes whose boards the policy needs, each with how many eligible members to read
    (as deep as the policy reaches, and a margin for places that move up)."""
    return {line["scope"]: depth(lines) + BOARD_MARGIN for line in lines}


def read_board(page, eligible_needed: int) -> list[dict]:
    """A board's head, read page by page (`page(limit, offset)` is ranking's leaderboard)
    until it holds `eligible_needed` members not disqualified, or ends."""
    entries = []
    while True:
        got = page(PAGE, len(entries))
        entries.extend(got["entries"])
        eligible = sum(1 for e in entries if not e["disqualified"])
        if not got["entries"] or len(entries) >= got["total"] or eligible >= eligible_needed:
            return entries


def grant_month(tx, campaign_id: str, month: str, snapshot_id: str, lines: list[dict],
                boards: dict[str, list[dict]]) -> None:
    """Keep the month's boards and grant its awards; a concurrent grant of the same month
    (the (campaign, month) key) leaves this one without effect."""
    granted = GrantedPeriod(campaign_id=campaign_id, period=month, snapshot_id=snapshot_id,
                            policy=lines, granted_at=tx.now)
    rows = [BoardEntry(campaign_id=campaign_id, period=month, scope_id=scope,
                       member_id=entry["member_id"], position=position,
                       levels=entry["levels"], total_ms=entry["total_ms"], name=entry["name"],
                       unit_name=entry["unit_name"], phone_masked=entry["phone_masked"],
                       disqualified=entry["disqualified"])
            for scope, entries in boards.items() for position, entry in enumerate(entries, 1)]
    if not tx.store.claim_period(granted, rows):
        tx.discard()
        return
    reconcile(tx, campaign_id, month, f"{month} closed")


def reconcile(tx, campaign_id: str, period: str, why: str) -> None:
    """Make the awards of a granted month what its policy and boards say now: grant the
    missing, revoke the unpaid ones no longer earned, flag the paid ones."""
    granted = tx.store.granted_period(campaign_id, period, lock=True)
    boards = {}
    for entry in tx.store.board_entries(campaign_id, period):
        boards.setdefault(entry.scope_id, []).append(
            {"member_id": entry.member_id, "disqualified": entry.disqualified})
    disqualified = tx.store.disqualified()
    wanted = allocate(granted.policy, boards, disqualified)
    for award in tx.store.standing_awards(campaign_id, period):
        key = (award.kind, award.scope_id, award.member_id)
        if wanted.get(key) == (award.rank, award.amount_cny):
            wanted.pop(key)
            continue
        if award.status == "paid":
            award.attention = (f"paid, but no longer earned as granted ({why}); "
                               "review by hand")
            wanted.pop(key, None)
            continue
        reason = ("disqualified (R20)" if award.member_id in disqualified
                  else f"place changed ({why})")
        award.status, award.revoked_at, award.reason = "revoked", tx.now, reason
        tx.emit("award_revoked", {"award_id": award.id, "reason": reason}
                | winner(tx, campaign_id, period, award.member_id))
    for (kind, scope, member_id), (place, amount) in sorted(
            wanted.items(), key=lambda item: (item[0][1], item[1][0], item[0][0])):
        award = Award(id=str(uuid.uuid4()), campaign_id=campaign_id, period=period,
                      kind=kind, rank=place, amount_cny=amount, member_id=member_id,
                      scope_id=scope, status="granted", granted_at=tx.now)
        tx.store.add(award)
        tx.emit("award_granted", {
            "award_id": award.id, "campaign_id": campaign_id, "period": period,
            "kind": kind, "rank": place, "amount_cny": amount}
            | winner(tx, campaign_id, period, member_id))


def winner(tx, campaign_id: str, period: str, member_id: str | None) -> dict:
    """An award's `member_id` and who they are (`member`), so another agency can name the
    winner: from roster's events, else the name on the period's boards (nothing for an
    organisation's award)."""
    if member_id is None:
        return {}
    who = (tx.store.member_display(member_id)
           or tx.store.board_display(campaign_id, period, member_id))
    return {"member_id": member_id} | ({"member": who} if who else {})


def remember_member(tx, data: dict) -> None:
    """roster's event about a member: keep who they are for the awards' events."""
    if data.get("member"):
        tx.store.keep_member_display(data["member_id"], data["member"], tx.now)


# -- R20 ---------------------------------------------------------------------------------------

def disqualify(tx, member_id: str, since) -> None:
    if not tx.store.is_disqualified(member_id):
        tx.store.disqualify(member_id, since)
    _reconcile_member(tx, member_id, "a disqualification")


def reinstate(tx, member_id: str) -> None:
    tx.store.reinstate(member_id)
    _reconcile_member(tx, member_id, "a reinstatement")


def _reconcile_member(tx, member_id: str, why: str) -> None:
    for campaign_id, period in tx.store.periods_with(member_id):
        reconcile(tx, campaign_id, period, why)


def mark_paid(tx, actor: str, award_id: str) -> Award:
    """Finance has paid it: a paid award is never revoked silently afterwards."""
    award = tx.store.award(award_id)
    if award is None:
        raise NotFound("no such award")
    if award.status != "granted":
        raise Conflict(f"the award is {award.status}; only a granted award is paid")
    award.status, award.paid_at, award.paid_by = "paid", tx.now, actor
    return award


def awards_of_period(tx, campaign_id: str, period: str) -> list[dict]:
    """Every award of a period (revoked ones too), with what the board showed."""
    board = {(e.scope_id, e.member_id): e for e in tx.store.board_entries(campaign_id, period)}
    out = []
    for award in tx.store.awards_of_period(campaign_id, period):
        entry = board.get((award["scope_id"], award["member_id"]))
        out.append(dict(award, **({figure: getattr(entry, figure) for figure in BOARD_FIGURES}
                                  if entry else {})))
    return out


# -- the policy --------------------------------------------------------------------------------

def adopt_default_policy(tx, campaign_id: str, organisation_id: str | None) -> None:
    """A new campaign gets the seed's default policy, unless it already has one."""
    if not tx.store.has_policy(campaign_id):
        for line in default_policy(campaign_id, organisation_id or "federation"):
            tx.store.add(AwardPolicy(**line))


def set_policy(tx, campaign_id: str, lines: list[dict]) -> list[AwardPolicy]:
    """Replace a campaign's policy (months already closed keep the awards they got)."""
    lines = [load(PolicyLine(), dict(line, campaign_id=campaign_id), "policy line")
             for line in lines]
    tx.store.drop_policy(campaign_id)
    for line in lines:
        tx.store.add(AwardPolicy(**line))
    return tx.store.policy(campaign_id)
