"""Notices to members and SMS reminders (issue 23 item 6): roster's use cases.

A notice is posted by an administrator for an audience inside their part of the tree (a
node: everyone under it; the tree's root, or None for a system administrator: everyone) and
shown on the member page between its from and until. A reminder is one SMS to each expected
member (R18's denominator: active, required or signed up, not disqualified) of the
administrator's part who has not played (the gateway names who has, from attempts), at most
`SMS_REMINDERS_PER_DAY` a member in any 24 hours; each is logged, the batch audited."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import NamedTuple

from kernel.errors import BadInput, Forbidden, NotFound

from . import access, denominators
from .authority import admin, authority, require_over_decider
from .directory import path
from .models import Notice, Reminder

DAY = timedelta(hours=24)
CAMPAIGN_ROLES = ("system_admin", "organisation_admin")  # who sends reminders
TEXTS = {  # what each reminder says (the level, the month's last day filled in)
    "level_open": "【每月一关】第{level}关已开放，欢迎登录闯关。",
    "month_end": "【每月一关】本月闯关将于{until}截止，您本月尚未参加，请抓紧时间。",
}


class Delivery(NamedTuple):
    phone: str
    text: str
    at: object


def _audience_in_scope(store, scopes, audience_id):
    """The audience an administrator may address: a node of their part (None: everyone,
    a system administrator's)."""
    if audience_id is None:
        if scopes is not None:
            raise Forbidden("only a system administrator addresses everyone; choose your "
                            "part of the organisation", reason="outside_scope")
        return None
    if store.unit(audience_id) is None:
        raise NotFound(f"no org unit {audience_id}")
    if not access.covers(store.parents(), scopes, audience_id):
        raise Forbidden("that part of the organisation is outside yours",
                        reason="outside_scope")
    return audience_id


def post_notice(tx, actor, title, body, audience_id, starts_at, ends_at) -> Notice:
    """An administrator's notice for their part of the organisation (audited)."""
    scopes = admin(tx.store, actor)[1]
    audience_id = _audience_in_scope(tx.store, scopes, audience_id)
    if ends_at <= starts_at:
        raise BadInput("a notice ends after it starts", fields={"ends_at": ["before from"]})
    notice = Notice(title=title, body=body, audience_id=audience_id, starts_at=starts_at,
                    ends_at=ends_at, created_by=actor, created_at=tx.now)
    tx.store.add(notice)
    tx.store.flush()
    tx.store.audit("notice_posted", actor=actor, target=str(notice.id), scope_id=audience_id,
                   detail={"title": title, "from": starts_at.isoformat(),
                           "until": ends_at.isoformat()})
    return notice


def withdraw_notice(tx, actor, notice_id) -> Notice:
    """A notice taken down before its until (by an administrator of its audience)."""
    held = authority(tx.store, actor)[1]
    notice = tx.store.notice(notice_id)
    if notice is None:
        raise NotFound("no such notice")
    _audience_in_scope(tx.store, access.scopes_of(held), notice.audience_id)
    require_over_decider(tx.store, actor, held, notice.created_by)  # not a superior's
    if notice.withdrawn_at is None:
        notice.withdrawn_at = tx.now
        tx.store.audit("notice_withdrawn", actor=actor, target=str(notice.id),
                       scope_id=notice.audience_id, detail={"title": notice.title})
    return notice


def notices_for_admin(tx, actor) -> list[dict]:
    """Notices an administrator may see: those for their part (and everyone's), newest
    first, with the poster's and the audience's names."""
    scopes = admin(tx.store, actor)[1]
    parents, units = tx.store.parents(), tx.store.units()
    rows = []
    for notice in tx.store.notices():
        if notice.audience_id is not None and not (
                access.covers(parents, scopes, notice.audience_id)
                or notice.audience_id in _above(parents, scopes)):
            continue
        rows.append(_notice_out(tx.store, notice, units))
    return rows


def _above(parents, scopes) -> set:
    """The nodes above an administrator's scopes (their notices reach the scope too)."""
    return set().union(*(access.ancestors(parents, s) for s in scopes)) if scopes else set()


def _notice_out(store, notice, units) -> dict:
    poster = store.member(notice.created_by)
    audience = units.get(notice.audience_id) if notice.audience_id else None
    return {"notice": notice, "audience_name": audience.name if audience else None,
            "created_by_name": poster.name if poster else None}


def notices_for_member(tx, member_id) -> list[dict]:
    """The notices a member is shown now: for everyone, or for a node above them, from
    their from until their until, not withdrawn; newest first."""
    member = tx.store.member(member_id)
    if member is None:
        return []
    places = set(path(tx.store.parents(), member.org_unit_id))
    units = tx.store.units()
    return [_notice_out(tx.store, n, units) for n in tx.store.notices(live_at=tx.now)
            if n.audience_id is None or n.audience_id in places]


# -- SMS reminders -----------------------------------------------------------------------------

def reminder_text(kind: str, level: int | None, until: str | None) -> str:
    if kind == "level_open" and not level:
        raise BadInput("which level is open?", fields={"level": ["required"]})
    return TEXTS[kind].format(level=level, until=until or "月底")


def remind(tx, actor, kind, text, played, dry_run, per_day,
           within=None) -> tuple[dict, list[Delivery]]:
    """The expected members of the actor's part (and under `within`, the campaign's
    organisation, if given) who have not played (`played`: member ids from attempts),
    less those at the daily cap: counted (`dry_run`: the preview), or logged
    and audited as one batch, with what to send once the transaction has ended."""
    scopes = admin(tx.store, actor, roles=CAMPAIGN_ROLES)[1]  # the gateway checked too
    parents = tx.store.parents()
    played = set(played)
    expected = [m for m in tx.store.members_in_order()
                if denominators.counted(denominators.standing(m)) and not m.disqualified
                and m.id not in played and access.covers(parents, scopes, m.org_unit_id)
                and (within is None or access.covers(parents, [within], m.org_unit_id))]
    if not dry_run:  # one send at a time, each counting the sends committed before it
        tx.store.lock_reminders()
    recent = tx.store.reminders_since(tx.now - DAY) if per_day > 0 else {}
    due = [m for m in expected if per_day > 0 and recent.get(m.id, 0) < per_day]
    report = {"batch": None, "kind": kind, "text": text, "dry_run": dry_run,
              "expected_not_played": len(expected), "recipients": len(due),
              "capped": len(expected) - len(due), "per_day": per_day}
    if dry_run or not due:
        return report, []
    batch = str(uuid.uuid4())
    for member in due:
        tx.store.add(Reminder(batch=batch, member_id=member.id, kind=kind, text=text,
                              sent_by=actor, sent_at=tx.now))
    tx.store.audit("reminders_sent", actor=actor, target=batch,
                   scope_id=scopes[0] if scopes and len(scopes) == 1 else None,
                   detail={"kind": kind, "text": text, "recipients": len(due),
                           "capped": report["capped"]})
    report["batch"] = batch
    return report, [Delivery(m.phone, text, tx.now) for m in due]


def reminder_log(tx, actor, limit, offset, per_day) -> dict:
    """The batches that reached the actor's part, newest first: who sent what when, to how
    many of the part (a system administrator sees every batch whole)."""
    scopes = admin(tx.store, actor)[1]
    parents = tx.store.parents()
    units = None if scopes is None else set().union(
        *(access.subtree(parents, s) for s in scopes))
    rows = []
    for batch in tx.store.reminder_batches(units):
        sender = tx.store.member(batch["sent_by"])
        rows.append(dict(batch, sent_by_name=sender.name if sender else None))
    return {"total": len(rows), "items": rows[offset:offset + limit], "per_day": per_day}
