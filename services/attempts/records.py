"""What attempts answers about play already done: a member's progress and history (the
gateway), participation (awards, R18) and the passes (ranking rebuilds its boards from them)."""
from __future__ import annotations

from datetime import datetime

from kernel import r13

from .play import pass_data


def progress(tx, member_id: str) -> dict:
    """My runs and my open attempt; R8: the best run (R13's order) is my result. The runs
    are the current campaign's: last year's passes say nothing of this year's levels."""
    current = tx.store.current_campaign()
    runs = [run for run in tx.store.runs_of(member_id)
            if current is None or run.campaign_id == current.campaign_id]
    best = min(runs, key=lambda run: r13.key(run.levels_passed, run.total_ms,
                                               run.last_pass_at), default=None)
    return {
        "member_id": member_id,
        "active_run": next((run for run in runs if run.active), None),
        "best_run": best if best is not None and best.levels_passed else None,
        "runs": runs,
        "open_attempt": tx.store.open_attempt(member_id),
    }


def history(tx, member_id: str, limit: int, offset: int) -> dict:
    total, items = tx.store.history(member_id, limit, offset)
    return {"total": total, "items": items}


def participants(tx, campaign_id: str) -> list[dict]:
    """Members with at least one attempt in the campaign (R18's participation), each with
    their attempts, the most levels any of their runs has passed and when they first
    started one (R19's reports count participation month by month)."""
    attempts = tx.store.attempts_per_member(campaign_id)
    best = tx.store.most_levels_per_member(campaign_id)
    first = tx.store.first_start_per_member(campaign_id)
    return [{"member_id": member_id, "attempts": count,
             "levels_passed": best.get(member_id) or 0, "first_started_at": first.get(member_id)}
            for member_id, count in sorted(attempts.items())]


def export_passes(tx, campaign_id: str, after: str | None, limit: int) -> dict:
    """Every pass as its `attempt_passed` data, in submission order, a page at a time
    (`after` is the previous page's `next`: "<submitted_at>|<attempt id>")."""
    if after:
        at, attempt_id = after.split("|", 1)
        after = (datetime.fromisoformat(at), attempt_id)
    rows = tx.store.passes_after(campaign_id, after or None, limit)
    last = rows[-1][0] if rows else None
    return {"passes": [pass_data(attempt, number) for attempt, number in rows],
            "next": f"{last.submitted_at.isoformat()}|{last.id}" if last else None}
