"""R20's anti-cheating, as the design reads it: limits that slow a bot without bothering a
person, and flags for an administrator to review (never a punishment by themselves).

Unlimited retries under a 20/20 pass rule invite bots that harvest a bank attempt by
attempt. A person needs minutes per attempt; a harvester needs many attempts fast. So:
- at most `ATTEMPT_STARTS_PER_HOUR` new attempts per member per rolling hour (default 30);
- optionally a wait after a failed attempt (`ATTEMPT_WAIT_AFTER_FAILURE_SECONDS`, default 0);
- after a failure only the count right is revealed (`ATTEMPTS_REVEAL`: `count`, or
  `wrong_numbers`, or `answers`: the numbers and right keys of the questions missed);
- `fast_pass`: a pass quicker than `FLAG_MIN_MS_PER_QUESTION` (default 1500 ms) per question;
- `bank_exposure`: a member whose papers have shown them `FLAG_BANK_SHARE` (default 0.8) of a
  level's bank, flagged once per level (not for a bank so small that one paper shows that).
Pure functions; the service supplies the numbers.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

REVEAL_POLICIES = ("count", "wrong_numbers", "answers")
HOUR = timedelta(hours=1)


def start_wait(recent_starts: list[datetime], now: datetime, per_hour: int) -> int | None:
    """Seconds to wait before another start is allowed, or None when it is allowed now."""
    window = sorted(t for t in recent_starts if t > now - HOUR)
    if per_hour <= 0 or len(window) < per_hour:
        return None
    oldest_that_counts = window[len(window) - per_hour]
    return max(1, math.ceil((oldest_that_counts + HOUR - now).total_seconds()))


def failure_wait(last_failed_at: datetime | None, now: datetime, wait_s: float) -> int | None:
    if not wait_s or last_failed_at is None:
        return None
    until = last_failed_at + timedelta(seconds=wait_s)
    if now >= until:
        return None
    return max(1, math.ceil((until - now).total_seconds()))


def fast_pass(duration_ms: int, total: int, floor_ms_per_question: int) -> dict | None:
    floor = total * floor_ms_per_question
    if floor_ms_per_question > 0 and duration_ms < floor:
        return {"duration_ms": duration_ms, "floor_ms": floor, "questions": total}
    return None


def exposure(seen: int, bank_size: int, share: float, draw: int) -> dict | None:
    """A bank so small that one paper shows `share` of it says nothing about the member."""
    if bank_size <= 0 or share <= 0 or share * bank_size <= draw or seen < share * bank_size:
        return None
    return {"seen": seen, "bank_size": bank_size, "share": round(seen / bank_size, 4)}


def revealed(policy: str, questions: list[dict], key: dict, wrong_ids: list[str]) -> dict:
    """What a failed attempt's result shows beyond the count right."""
    if policy not in ("wrong_numbers", "answers"):
        return {}
    numbers = {q["id"]: q["number"] for q in questions}
    out = {"wrong": sorted(numbers[q] for q in wrong_ids)}
    if policy == "answers":
        out["answers"] = [{"number": numbers[q], "question_id": q, "keys": key[q]}
                          for q in sorted(wrong_ids, key=numbers.get)]
    return out
