"""awards' monthly use cases (R16, R20): a closed month's awards granted once from the boards
month_closed carries (or ranking's, read page by page), held while their member has a flag
under review, reconciled when a member is disqualified or reinstated, paid by finance; the
policy and the eligibility settings.

Plain functions over a unit of work (`tx.store`, `tx.emit`, `tx.now`). Ranking's boards are
read by the entrypoint between two transactions and handed in. Every change to money
(grant, hold, release, pay, settings) goes into the audit log with who and when."""
from __future__ import annotations

import uuid

from kernel.errors import Conflict, NotFound, load

from .ledger import remark
from .models import SETTINGS_DEFAULTS, Award, AwardPolicy, BoardEntry, FlagReplica, GrantedPeriod
from .policy import ELIGIBILITY, allocate, default_policy, depth, ineligible
from .schemas import PolicyLine, SettingsIn

BOARD_MARGIN = 200  # entries kept below the last awarded place, for places that move up
PAGE = 200  # board entries asked of ranking at a time
BOARD_FIGURES = ("name", "unit_name", "phone_masked", "levels", "total_ms")
MARKS = ("active", "participation", "bank_admin", "passed_in_month")  # eligibility's inputs


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


def eligibility(settings: dict) -> dict:
    """The eligibility part of a campaign's settings, as a granted month keeps it."""
    return {key: bool(settings.get(key, SETTINGS_DEFAULTS[key])) for key in ELIGIBILITY}


def read_board(page, eligible_needed: int, settings: dict | None = None) -> list[dict]:
    """A board's head, read page by page (`page(limit, offset)` is ranking's leaderboard)
    until it holds `eligible_needed` members eligible under `settings`, or ends."""
    entries = []
    while True:
        got = page(PAGE, len(entries))
        entries.extend(got["entries"])
        eligible = sum(1 for e in entries if ineligible(e, settings) is None)
        if not got["entries"] or len(entries) >= got["total"] or eligible >= eligible_needed:
            return entries


def boards_from_tops(tops: list[dict] | None, lines: list[dict],
                     settings: dict | None) -> dict[str, list[dict]] | None:
    """The boards a month is granted from, out of month_closed's `tops`, when they cover
    every scope the policy names deep enough (as many eligible members as the policy has
    places, or the whole board); None: read ranking's boards instead."""
    if not tops:
        return None
    by_scope = {top["scope_id"]: top for top in tops}
    boards = {}
    for scope in {line["scope"] for line in lines}:
        top = by_scope.get(scope)
        if top is None:
            return None
        entries = top["entries"]
        eligible = sum(1 for e in entries if ineligible(e, settings) is None)
        if len(entries) < top["total"] and eligible < depth(lines):
            return None
        boards[scope] = entries
    return boards


def grant_month(tx, campaign_id: str, month: str, snapshot_id: str, lines: list[dict],
                boards: dict[str, list[dict]], settings: dict | None = None,
                actor: str | None = None) -> bool:
    """Keep the month's boards and grant its awards under the campaign's eligibility
    settings now (kept with the month); a concurrent grant of the same month (the
    (campaign, month) key) leaves this one without effect (False)."""
    kept = eligibility(settings if settings is not None else tx.store.settings(campaign_id))
    granted = GrantedPeriod(campaign_id=campaign_id, period=month, snapshot_id=snapshot_id,
                            policy=lines, granted_at=tx.now, settings=kept)
    rows = [BoardEntry(campaign_id=campaign_id, period=month, scope_id=scope,
                       member_id=entry["member_id"], position=position,
                       levels=entry["levels"], total_ms=entry["total_ms"], name=entry["name"],
                       unit_name=entry["unit_name"], phone_masked=entry["phone_masked"],
                       disqualified=entry["disqualified"],
                       **{mark: entry.get(mark) for mark in MARKS})
            for scope, entries in boards.items() for position, entry in enumerate(entries, 1)]
    if not tx.store.claim_period(granted, rows):
        tx.discard()
        return False
    tx.store.audit("awards_month_granted", actor=actor, target=month, detail={
        "campaign_id": campaign_id, "snapshot_id": snapshot_id, "settings": kept})
    reconcile(tx, campaign_id, month, f"{month} closed", actor)
    return True


def board_of(tx, campaign_id: str, period: str) -> dict[str, list[dict]]:
    """A granted month's kept boards, each scope in board order, as allocate reads them."""
    boards: dict[str, list[dict]] = {}
    for entry in tx.store.board_entries(campaign_id, period):
        boards.setdefault(entry.scope_id, []).append(
            {"member_id": entry.member_id, "disqualified": entry.disqualified,
             **{mark: getattr(entry, mark) for mark in MARKS}})
    return boards


def reconcile(tx, campaign_id: str, period: str, why: str, actor: str | None = None) -> None:
    """Make the awards of a granted month what its policy, boards and settings say now.

    An award is (period, member, kind) in its scope: a member whose amount is unchanged
    keeps their award untouched (its rank follows the board, silently); only members who
    enter, leave or change amount get a change: an unpaid award no longer earned, or earned
    at another amount, is revoked (and the new amount granted); a paid one is never
    changed, `attention` saying how much is owed either way. A new award is held while its
    member has a flag under review."""
    tx.store.lock_holds()  # a flag raised meanwhile holds what this grants, or is seen here
    granted = tx.store.granted_period(campaign_id, period, lock=True)
    disqualified = tx.store.disqualified()
    wanted = allocate(granted.policy, board_of(tx, campaign_id, period), disqualified,
                      granted.settings)
    for award in tx.store.standing_awards(campaign_id, period):
        key = (award.kind, award.scope_id, award.member_id)
        earned = wanted.get(key)
        if earned is not None and earned[1] == award.amount_cny:
            wanted.pop(key)
            award.rank = earned[0]
            if award.status == "paid":
                award.attention = None
            continue
        if award.status == "paid":
            wanted.pop(key, None)
            award.attention = owed(award.amount_cny, earned and earned[1], why)
            tx.store.audit("award_attention", actor=actor, target=award.id, detail={
                "period": period, "member_id": award.member_id, "why": why,
                "paid_cny": award.amount_cny, "earned_cny": earned and earned[1]})
            continue
        reason = ("disqualified (R20)" if award.member_id in disqualified
                  else f"amount changed ({why})" if earned is not None
                  else f"place changed ({why})")
        revoke(tx, award, reason, actor)
    for (kind, scope, member_id), (place, amount) in sorted(
            wanted.items(), key=lambda item: (item[0][1], item[1][0], item[0][0])):
        held = tx.store.under_review(member_id)
        award = Award(id=str(uuid.uuid4()), campaign_id=campaign_id, period=period,
                      kind=kind, rank=place, amount_cny=amount, member_id=member_id,
                      scope_id=scope, status="held" if held else "granted",
                      granted_at=tx.now)
        tx.store.add(award)
        tx.store.audit("award_granted", actor=actor, target=award.id, detail={
            "period": period, "member_id": member_id, "kind": kind, "rank": place,
            "amount_cny": amount, "status": award.status, "why": why})
        tx.emit("award_granted", {
            "award_id": award.id, "campaign_id": campaign_id, "period": period,
            "kind": kind, "rank": place, "amount_cny": amount, "held": held}
            | winner(tx, campaign_id, period, member_id))


WHY_ZH = {"a disqualification": "因取消资格", "a reinstatement": "因恢复资格"}


def why_zh(why: str) -> str:
    """A reconciliation's cause as an organiser reads it (attention, the ledger)."""
    if why in WHY_ZH:
        return WHY_ZH[why]
    return f"{why[:7]} 结算" if why.endswith(" closed") else why


def reason_zh(reason: str | None) -> str:
    """A revoked award's reason as an organiser reads it (the ledger, the admin page)."""
    if not reason:
        return ""
    for english, chinese in (("disqualified (R20)", "已取消资格（R20）"),
                             ("amount changed (", "奖金变动（"), ("place changed (", "名次变动（")):
        if reason.startswith(english):
            rest = reason[len(english):]
            return chinese + (why_zh(rest[:-1]) + "）" if rest.endswith(")") else rest)
    return reason


def owed(paid: int | None, earned: int | None, why: str) -> str:
    """What a paid award whose amount changed owes, either way (for an administrator)."""
    paid, earned, why = paid or 0, earned or 0, why_zh(why)
    if earned > paid:
        return f"已发放 {paid} 元，现应得 {earned} 元：尚欠 {earned - paid} 元（{why}）"
    if earned == 0:
        return f"已发放 {paid} 元，现已不应得：应追回 {paid} 元（{why}）"
    return f"已发放 {paid} 元，现应得 {earned} 元：多发 {paid - earned} 元（{why}）"


def revoke(tx, award: Award, reason: str, actor: str | None) -> None:
    award.status, award.revoked_at, award.reason = "revoked", tx.now, reason
    tx.store.audit("award_revoked", actor=actor, target=award.id, detail={
        "period": award.period, "member_id": award.member_id, "reason": reason,
        "amount_cny": award.amount_cny})
    tx.emit("award_revoked", {"award_id": award.id, "reason": reason}
            | winner(tx, award.campaign_id, award.period, award.member_id))


# -- held for review (R20): attempts' flags ----------------------------------------------------

FLAG_STATES = {"cleared", "upheld"}


def flag_raised(tx, data: dict) -> None:
    """attempt_flagged: the member's unpaid awards are held until the flag is reviewed. A
    flag without its id (an event from before flag_id) cannot be reviewed here: ignored."""
    flag_id = data.get("flag_id")
    if flag_id is None:
        return
    tx.store.lock_holds()  # after a grant in flight has committed: its awards are held too
    if tx.store.flag(flag_id, lock=True) is None:  # a review that came first stays
        tx.store.add(FlagReplica(
            flag_id=flag_id, member_id=data["member_id"], attempt_id=data.get("attempt_id"),
            reason=data.get("reason"), level=(data.get("detail") or {}).get("level"),
            state="open", updated_at=tx.now))
        tx.store.flush()
    if tx.store.under_review(data["member_id"]):
        hold_member(tx, data["member_id"], None, f"flag {flag_id} ({data.get('reason')})")


def flag_reviewed(tx, data: dict) -> None:
    """flag_reviewed: `cleared` releases the member's held awards once no flag of theirs is
    open or upheld; `upheld` keeps them held until roster disqualifies (R20) or the flag
    is reviewed again."""
    tx.store.lock_holds()
    flag = tx.store.flag(data["flag_id"], lock=True)
    if flag is None:
        flag = FlagReplica(flag_id=data["flag_id"], member_id=data["member_id"],
                           attempt_id=data.get("attempt_id"), state="open",
                           updated_at=tx.now)
        tx.store.add(flag)
    flag.state, flag.reviewed_by, flag.updated_at = (data["outcome"], data.get("reviewed_by"),
                                                     tx.now)
    tx.store.flush()
    actor = data.get("reviewed_by")
    if tx.store.under_review(flag.member_id):
        hold_member(tx, flag.member_id, actor, f"flag {flag.flag_id} {data['outcome']}")
    else:
        release_member(tx, flag.member_id, actor, f"flag {flag.flag_id} cleared")


def hold_member(tx, member_id: str, actor: str | None, why: str) -> None:
    """Every payable award of the member held for review (award_held, audited)."""
    _move(tx, member_id, actor, why, "granted", "held", "award_held")


def release_member(tx, member_id: str, actor: str | None, why: str) -> None:
    """Every held award of the member payable again (award_released, audited)."""
    _move(tx, member_id, actor, why, "held", "granted", "award_released")


def _move(tx, member_id, actor, why, status, to, action) -> None:
    for award in tx.store.member_awards(member_id, status):
        award.status = to
        tx.store.audit(action, actor=actor, target=award.id, detail={
            "period": award.period, "member_id": member_id, "amount_cny": award.amount_cny,
            "why": why})
        tx.emit(action, {"award_id": award.id, "campaign_id": award.campaign_id,
                         "period": award.period, "reason": why}
                | winner(tx, award.campaign_id, award.period, member_id))


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

def disqualify(tx, member_id: str, since, actor: str | None = None) -> None:
    if not tx.store.is_disqualified(member_id):
        tx.store.disqualify(member_id, since)
    _reconcile_member(tx, member_id, "a disqualification", actor)


def reinstate(tx, member_id: str, actor: str | None = None) -> None:
    tx.store.reinstate(member_id)
    _reconcile_member(tx, member_id, "a reinstatement", actor)


def _reconcile_member(tx, member_id: str, why: str, actor: str | None = None) -> None:
    for campaign_id, period in tx.store.periods_with(member_id):
        if period != "annual":  # the annual results are published once (results.py)
            reconcile(tx, campaign_id, period, why, actor)


def mark_paid(tx, actor: str, award_id: str) -> Award:
    """Finance has paid it: only a payable award (`granted`: not held for review, not
    revoked, not paid already); a paid award is never revoked silently afterwards."""
    award = tx.store.award(award_id)
    if award is None:
        raise NotFound("no such award")
    # under review also when a flag came in while the award was being granted (the grant saw
    # no flag and the flag's hold no award yet): never paid before the review
    if award.status == "held" or (award.status == "granted" and award.member_id
                                  and tx.store.under_review(award.member_id)):
        raise Conflict("the award is held until its member's flags are reviewed",
                       reason="award_held")
    if award.status != "granted":
        raise Conflict(f"the award is {award.status}; only a payable award is paid",
                       reason="award_not_payable")
    award.status, award.paid_at, award.paid_by = "paid", tx.now, actor
    tx.store.audit("award_paid", actor=actor, target=award.id, detail={
        "period": award.period, "member_id": award.member_id, "amount_cny": award.amount_cny})
    return award


def awards_of_period(tx, campaign_id: str, period: str) -> list[dict]:
    """Every award of a period (revoked ones too), with what the board showed and, for a
    held award, the flags that hold it (`held_for`)."""
    board = {(e.scope_id, e.member_id): e for e in tx.store.board_entries(campaign_id, period)}
    awards = tx.store.awards_of_period(campaign_id, period)
    flags = tx.store.flags_under_review(a["member_id"] for a in awards if a["status"] == "held")
    out = []
    for award in awards:
        entry = board.get((award["scope_id"], award["member_id"]))
        out.append(dict(award, **({figure: getattr(entry, figure) for figure in BOARD_FIGURES}
                                  if entry else {})))
        if award["status"] == "held":
            out[-1]["held_for"] = [
                {"flag_id": f.flag_id, "reason": f.reason, "level": f.level, "state": f.state}
                for f in flags.get(award["member_id"], [])]
        out[-1]["remark"] = remark(out[-1])  # why held, owed or revoked, in Chinese
    return out


# What a member is told of their own award (issue 21 item 3): held while a flag of theirs is
# reviewed (R20), payable until finance pays it, paid; a revoked one is never shown as owed.
MEMBER_STATES = {"held": "held", "granted": "payable", "paid": "paid", "revoked": "revoked"}


def awards_of_member(tx, member_id: str, campaign_id: str) -> list[dict]:
    """A member's own awards of a campaign, newest period first, in the member's words. An
    award revoked because its amount changed (another award of the same month, kind and
    scope took its place) is not told: only the one that stands."""
    awards = tx.store.awards_of_member(member_id, campaign_id)
    standing = {(a.period, a.kind, a.scope_id) for a in awards if a.status != "revoked"}
    return [{"period": a.period, "kind": a.kind, "rank": a.rank, "scope_id": a.scope_id,
             "amount_cny": a.amount_cny, "state": MEMBER_STATES.get(a.status, "held"),
             "granted_at": a.granted_at, "paid_at": a.paid_at}
            for a in awards
            if a.status != "revoked" or (a.period, a.kind, a.scope_id) not in standing]


def missing_months(tx, campaign_id: str, closed: list[str]) -> list[str]:
    """The closed months (ranking's) whose awards were never granted here."""
    granted = tx.store.granted_months(campaign_id)
    return [month for month in closed if month not in granted]


# -- the eligibility settings ------------------------------------------------------------------

def settings(tx, campaign_id: str) -> dict:
    return tx.store.settings(campaign_id)


def set_settings(tx, actor: str, campaign_id: str, changes: dict) -> dict:
    """Change a campaign's award settings (months already granted keep theirs), audited with
    what was and what is."""
    changes = load(SettingsIn(partial=True), dict(changes), "settings")
    row = tx.store.settings_row(campaign_id)
    before = {key: getattr(row, key) for key in SETTINGS_DEFAULTS}
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = tx.now, actor
    after = {key: getattr(row, key) for key in SETTINGS_DEFAULTS}
    tx.store.flush()
    tx.store.audit("award_settings_changed", actor=actor, target=campaign_id, detail={
        "before": before, "after": after})
    return tx.store.settings(campaign_id)


# -- the policy --------------------------------------------------------------------------------

def adopt_default_policy(tx, campaign_id: str, organisation_id: str | None) -> None:
    """A new campaign gets the seed's default policy, unless it already has one."""
    if not tx.store.has_policy(campaign_id):
        for line in default_policy(campaign_id, organisation_id or "federation"):
            tx.store.add(AwardPolicy(**line))


def set_policy(tx, campaign_id: str, lines: list[dict],
               actor: str | None = None) -> list[AwardPolicy]:
    """Replace a campaign's policy (months already closed keep the awards they got); a
    change of money, so audited with who, when, and the lines before and after."""
    lines = [load(PolicyLine(), dict(line, campaign_id=campaign_id), "policy line")
             for line in lines]
    before = PolicyLine(many=True).dump(tx.store.policy(campaign_id))
    tx.store.drop_policy(campaign_id)
    for line in lines:
        tx.store.add(AwardPolicy(**line))
    after = tx.store.policy(campaign_id)
    tx.store.audit("award_policy_changed", actor=actor, target=campaign_id, detail={
        "before": before, "after": PolicyLine(many=True).dump(after)})
    return after
