"""The rules of play (R8, R12–R14) as the design reads them: pure functions of plain values.

Time is the server's: an attempt's time is submitted − started in milliseconds. Its deadline
is start + the level's time limit, or the campaign's end if that comes first; it may be
submitted until deadline + grace, never past the campaign's end. Answers saved while it runs
are kept on the attempt; an attempt not submitted in time is submitted with its saved answers
(graded as a submission, timed by its last save), or, with none saved, expires (`expired`,
the full time it had). A late submission is graded as that expiry would grade it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.errors import BadInput, Conflict, Forbidden

WRONG_ANSWERS = "wrong_answers"
TIMEOUT = "timeout"
EXPIRED = "expired"
VOIDED = "voided"  # an open attempt ended by its member's deactivation or disqualification


def play_refusal(status: str | None, disqualified: bool) -> Forbidden | None:
    """Why a member may not start or submit an attempt, or None if they may: an inactive
    member has left the roster; a disqualified one (R20) has lost the awards the play is for."""
    if status != "active":
        return Forbidden("this member is no longer active and may not play",
                         reason="member_inactive")
    if disqualified:
        return Forbidden("this member is disqualified (R20) and may not play",
                         reason="member_disqualified")
    return None


def millis(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def deadline_of(started_at: datetime, time_limit_s: int,
                ends_at: datetime | None = None) -> datetime:
    """Start + the time limit, or the campaign's end if that comes first: an attempt never
    runs past the campaign (a pass after it would be on no final board)."""
    deadline = started_at + timedelta(seconds=time_limit_s)
    return min(deadline, ends_at) if ends_at is not None else deadline


def is_overdue(deadline: datetime, grace: timedelta, now: datetime,
               ends_at: datetime | None = None) -> bool:
    """True once deadline + grace has passed (a submission exactly at it still counts); the
    grace never reaches past the campaign's end."""
    last = deadline + grace
    return now > (min(last, ends_at) if ends_at is not None else last)


def answers_refusal(questions: list[dict], answers: dict) -> BadInput | None:
    """Why answers saved on a paper are refused, or None: each names a question of this
    paper and only that question's options, one option unless the question is `multiple`
    (so what an attempt stores is bounded by its paper)."""
    on_paper = {question["id"]: question for question in questions}
    unknown = sorted(set(answers) - set(on_paper))
    if unknown:
        return BadInput("answers name questions that are not on this paper",
                        fields={"answers": unknown}, reason="answers_off_paper")
    bad = sorted(qid for qid, keys in answers.items()
                 if not set(keys) <= {option["key"] for option in on_paper[qid]["options"]}
                 or (len(set(keys)) > 1 and on_paper[qid].get("type") != "multiple"))
    if bad:
        return BadInput("answers choose options these questions do not have",
                        fields={"answers": bad}, reason="answers_off_paper")
    return None


def chosen(answers: dict) -> dict:
    """Answers as stored: each question's keys sorted, once; unanswered questions left out."""
    return {qid: sorted(set(keys)) for qid, keys in sorted(answers.items()) if keys}


def grade(key: dict, answers: dict) -> tuple[int, list[str]]:
    """R12: (number right, ids answered wrong), in the paper's order.

    A question is right when the set of chosen keys equals the key's set exactly.
    """
    wrong = [qid for qid, keys in key.items()
             if sorted(set(answers.get(qid) or [])) != sorted(keys)]
    return len(key) - len(wrong), wrong


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str | None
    duration_ms: int


def judge(started_at, deadline, submitted_at, grace, time_limit_s, correct, total,
          ends_at=None) -> Outcome:
    """R12: all questions right, in time (deadline + grace, never past the campaign's end
    `ends_at`), passes; anything else fails. Too late costs the full time the attempt had
    (its limit, or less where the campaign's end cut it short)."""
    if is_overdue(deadline, grace, submitted_at, ends_at):
        return Outcome(False, TIMEOUT, min(time_limit_s * 1000, millis(deadline - started_at)))
    duration = millis(submitted_at - started_at)
    if correct == total:
        return Outcome(True, None, duration)
    return Outcome(False, WRONG_ANSWERS, duration)


def on_saved(started_at: datetime, saved_at: datetime, correct: int, total: int) -> Outcome:
    """R12, R13: an attempt submitted at its deadline with the answers saved while it ran is
    graded as a submission made at its last save: all right passes, in the time from the
    start to that save (what submitting then would have cost; waiting gains nothing)."""
    duration = millis(saved_at - started_at)
    return Outcome(correct == total, None if correct == total else WRONG_ANSWERS, duration)


def expired(started_at: datetime, deadline: datetime) -> Outcome:
    """Never submitted, nothing saved: the full time the attempt had."""
    return Outcome(False, EXPIRED, millis(deadline - started_at))


@dataclass
class RunScore:
    """R13: after its k-th pass a run scores (k, t, at).

    t is the time of every attempt, failed or passed, on levels 1..k; failed attempts on the
    level not yet passed wait in `pending_ms` and count once that level is passed.
    """

    current_level: int = 1
    levels_passed: int = 0
    total_ms: int = 0
    pending_ms: int = 0
    last_pass_at: datetime | None = None

    def record(self, level: int, outcome: Outcome, submitted_at: datetime) -> None:
        if level != self.current_level:
            raise ValueError(f"attempt at level {level}, run at level {self.current_level}")
        self.pending_ms += outcome.duration_ms
        if outcome.passed:
            self.levels_passed = level
            self.total_ms += self.pending_ms
            self.pending_ms = 0
            self.last_pass_at = submitted_at
            self.current_level = level + 1


def levels_at(levels: list[dict]) -> list[dict]:
    """The levels with their opening instants read (campaign replicas and question_bank's
    answers hold them as ISO strings)."""
    return [dict(level, opens_at=datetime.fromisoformat(level["opens_at"])) for level in levels]


def level_opens(levels: list[dict], number: int) -> datetime | None:
    for level in levels:
        if level["number"] == number:
            return level["opens_at"]
    return None


def open_levels(levels: list[dict], now: datetime, ends_at: datetime) -> list[int]:
    """R9: the levels playable now: opened, and the campaign not yet over."""
    if now > ends_at:
        return []
    return sorted(level["number"] for level in levels if level["opens_at"] <= now)


def level_refusal(levels: list[dict], current_level: int, level: int, now: datetime,
                  ends_at: datetime) -> Conflict | None:
    """Why a run at `current_level` may not play `level` now, or None if it may: the one
    level open to a member is their run's current one, among the levels open now (R9, R13)."""
    if level != current_level:
        return Conflict(f"your run is at level {current_level}, not level {level}",
                        fields={"level": [f"expected {current_level}"]},
                        reason="not_current_level")
    if level > len(levels):
        return Conflict("every level of this run is passed; start a new run",
                        reason="run_complete")
    if level not in open_levels(levels, now, ends_at):
        opens_at = level_opens(levels, level)
        if now < opens_at:
            return Conflict(f"level {level} opens at {opens_at.isoformat()}",
                            reason="level_not_open")
        return Conflict("the campaign has ended", reason="campaign_ended")
    return None


def level_states(levels: list[dict], levels_passed: int, current_level: int, now: datetime,
                 ends_at: datetime) -> list[str]:
    """Each level as the member's page shows it: `passed` (by the active run), `open` (the
    member may play it now: `level_refusal` has nothing against it), else `locked`."""
    return ["passed" if level["number"] <= levels_passed
            else "open" if level_refusal(levels, current_level, level["number"], now,
                                         ends_at) is None
            else "locked"
            for level in levels]


def may_restart(levels_passed: int, levels: list[dict], now: datetime, ends_at: datetime) -> bool:
    """R14: a new run once the active one has passed every level open now (or all)."""
    opened = open_levels(levels, now, ends_at)
    return bool(opened) and levels_passed >= max(opened) or levels_passed >= len(levels)
