"""attempts' use cases of R20 (the rules are conduct.py's): the pace a member may start
attempts at, the flags play raises for an administrator, and their review.

A flag is never a punishment: disqualifying is roster's decision, taken by a person.
"""
from __future__ import annotations

from kernel.errors import Forbidden, NotFound, RateLimited

from . import conduct
from .models import Attempt, Exposure, Flag


def check_pace(tx, knobs, member_id: str) -> None:
    """R20: a bot harvesting the bank needs many attempts fast; a person does not."""
    per_hour = knobs.attempt_starts_per_hour
    if per_hour > 0:
        recent = tx.store.recent_starts(member_id, since=tx.now - conduct.HOUR)
        wait = conduct.start_wait(recent, tx.now, per_hour)
        if wait:
            raise RateLimited(f"at most {per_hour} attempts an hour; the next in {wait} s",
                              retry_after=wait, reason="starts_per_hour")
    pause = knobs.attempt_wait_after_failure_seconds
    if pause > 0:  # off by default: no query on the start path then
        wait = conduct.failure_wait(tx.store.last_failure(member_id), tx.now, pause)
        if wait:
            raise RateLimited(f"take a moment after a failed attempt: the next in {wait} s",
                              retry_after=wait, reason="wait_after_failure")


def note_exposure(tx, knobs, attempt: Attempt, bank_size: int | None) -> None:
    """Count the questions of the level this member has now seen; flag once at the
    configured share of the bank."""
    if not bank_size:
        return
    row = tx.store.exposure(attempt.member_id, attempt.campaign_id, attempt.level)
    if row is None:
        row = Exposure(member_id=attempt.member_id, campaign_id=attempt.campaign_id,
                       level=attempt.level, seen=[], bank_size=bank_size)
        tx.store.add(row)
    seen = set(row.seen) | set(attempt.key)
    if len(seen) != len(row.seen):
        row.seen = sorted(seen)
    row.bank_size = bank_size
    detail = conduct.exposure(len(seen), bank_size, knobs.flag_bank_share, attempt.total)
    if detail and row.flagged_at is None:
        row.flagged_at = tx.now
        raise_flag(tx, attempt, "bank_exposure", dict(detail, level=attempt.level))


def check_fast_pass(tx, knobs, attempt: Attempt) -> None:
    fast = conduct.fast_pass(attempt.duration_ms, attempt.total,
                             knobs.flag_min_ms_per_question)
    if fast:
        raise_flag(tx, attempt, "fast_pass", dict(fast, level=attempt.level))


def raise_flag(tx, attempt: Attempt, reason: str, detail: dict) -> None:
    """A flag for review; its id goes with attempt_flagged, so flag_reviewed can name it
    (awards hold the member's awards until then)."""
    flag = Flag(attempt_id=attempt.id, member_id=attempt.member_id,
                campaign_id=attempt.campaign_id, level=attempt.level, reason=reason,
                detail=detail, flagged_at=tx.now)
    tx.store.add(flag)
    tx.store.flush()
    tx.emit("attempt_flagged", {"attempt_id": attempt.id, "member_id": attempt.member_id,
                                "reason": reason, "detail": detail, "flag_id": flag.id})


def flags_page(tx, visible: list[str] | None, limit: int, offset: int,
               reviewed: bool | None) -> dict:
    """Flagged play for review, newest first; `visible` (org unit ids) keeps the members
    inside an administrator's part of the tree (None: everyone)."""
    rows = tx.store.flags_with_org(reviewed)
    if visible is not None:
        inside = set(visible)
        rows = [(flag, path) for flag, path in rows if inside & set(path or [])]
    return {"total": len(rows), "items": [flag for flag, _ in rows[offset:offset + limit]]}


def review_flag(tx, actor: str, flag_id: int, note: str, visible: list[str] | None,
                outcome: str = "cleared") -> Flag:
    """An administrator's conclusion on a flag, inside their part of the tree: `cleared`
    (nothing wrong: the member's held awards become payable once no flag of theirs is
    open) or `upheld` (the flag stands: the awards stay held until roster disqualifies, R20,
    or a later review clears it). A flag may be reviewed again; each review is an event."""
    flag = tx.store.flag(flag_id)
    if flag is None:
        raise NotFound("no such flag")
    if flag.member_id == actor:  # a review of one's own play would release one's own prize
        raise Forbidden("nobody reviews a flag on their own play", reason="self_review")
    member = tx.store.member(flag.member_id)
    if visible is not None and not set(visible) & set((member and member.org_path) or []):
        raise Forbidden("that member is outside your part of the organisation",
                        reason="outside_scope")
    flag.reviewed_at, flag.reviewed_by, flag.review_note = tx.now, actor, note
    flag.outcome = outcome
    tx.emit("flag_reviewed", {"flag_id": flag.id, "attempt_id": flag.attempt_id,
                              "member_id": flag.member_id, "outcome": outcome,
                              "reviewed_by": actor, "reviewed_at": tx.now})
    return flag
