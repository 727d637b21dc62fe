"""attempts' use cases of play (R7, R8, R12–R15): start, save answers, submit, restart, the
deadline's submission, and voiding the open attempt of a member who may play no more.

Plain functions over a unit of work (`tx.store`, `tx.emit`, `tx.now`), the knobs and the pure
rules (rules.py, conduct.py); refusals are kernel.errors. Starting draws a paper from
question_bank, and no transaction may be held across that call, so a start is two use cases:
`check_start` (read and check), then `begin_attempt` with the paper, in a second transaction.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import NamedTuple

from kernel import r15
from kernel.errors import ChallengeError, Conflict, Forbidden, NotFound

from . import conduct, rules, watch
from .models import Attempt, CampaignReplica, MemberReplica, Run


class StartCheck(NamedTuple):
    campaign_id: str | None
    resume: dict | None  # the open attempt to return instead of drawing a paper (AttemptOut)
    refused: ChallengeError | None = None  # `keep_expiry`'s refusal, raised after the commit


def check_start(tx, knobs, member_id: str, level: int, keep_expiry=False) -> StartCheck:
    """Whether `member_id` may start `level` now (R7, R9, R13, R20's pace); an attempt still
    open is resumed instead. An overdue one is submitted by its deadline first; with
    `keep_expiry` a refusal after that submission is returned (`refused`), not raised, so
    the caller commits the submission and raises the refusal then."""
    member, campaign, run, attempt = tx.store.start_context(member_id)
    expired = attempt is not None and overdue(tx, knobs, attempt)
    if expired:
        attempt = tx.store.attempt(attempt.id, lock=True)  # unless a submit has just closed it
        if attempt.status == "open":
            submit_at_deadline(tx, knobs, attempt)  # the run's score moves (the same object)
        attempt = None
    try:
        refuse_unless_playing(member)
        if campaign is None:
            raise NotFound("no campaign has been published")
        if attempt is not None:
            return StartCheck(campaign.campaign_id, paper_view(tx, attempt))
        check_playable(campaign, run.current_level if run else 1, level, tx.now)
        watch.check_pace(tx, knobs, member_id)
    except ChallengeError as refusal:
        if not (keep_expiry and expired):
            raise
        return StartCheck(None, None, refusal)
    return StartCheck(campaign.campaign_id, None)


def begin_attempt(tx, knobs, member_id: str, level: int, campaign_id: str,
                  paper: dict, client_address: str | None = None) -> dict:
    """The attempt on `paper` (question_bank's draw), timed from now: the member's time
    starts when the paper exists, and it ends at the time limit or the campaign's end,
    whichever comes first. Checked again, as the run may have moved meanwhile; a start that
    raced this one meets the unique indexes at commit."""
    campaign, run = tx.store.campaign_and_run(campaign_id, member_id)
    if run is None:  # the first attempt opens run 1
        run = new_run(tx, member_id, campaign_id, 1)
    check_playable(campaign, run.current_level, level, tx.now)
    limit_s = paper["time_limit_s"]
    attempt = Attempt(
        id=str(uuid.uuid4()), run_id=run.id, member_id=run.member_id,
        campaign_id=campaign_id, level=level, time_limit_s=limit_s, started_at=tx.now,
        deadline=rules.deadline_of(tx.now, limit_s, campaign.ends_at), status="open",
        total=len(paper["questions"]), questions=paper["questions"], key=paper["key"],
        client_address=client_address,
    )
    tx.store.add(attempt)
    tx.emit("attempt_started", {
        "attempt_id": attempt.id, "member_id": attempt.member_id,
        "campaign_id": attempt.campaign_id, "run_id": run.id, "level": attempt.level,
        "started_at": attempt.started_at, "deadline": attempt.deadline,
    })
    watch.note_exposure(tx, knobs, attempt, paper.get("bank_size"))
    return paper_view(tx, attempt, campaign)


def paper_view(tx, attempt: Attempt, campaign: CampaignReplica | None = None) -> dict:
    """An open attempt as its member sees it (AttemptOut): the paper, the answers saved so
    far (to resume on another device), and when it must be submitted: R15's month it counts
    in when submitted by that month's cutoff, and the campaign's end it cannot run past."""
    campaign = campaign or tx.store.campaign(attempt.campaign_id)
    month = r15.month_of(attempt.started_at, campaign.time_zone)
    return {"attempt": attempt, "server_now": tx.now, "month": month,
            "month_cutoff": r15.cutoff(month, campaign.time_zone),
            "campaign_ends_at": campaign.ends_at}


def save_answers(tx, knobs, member_id: str, attempt_id: str, answers: dict) -> dict:
    """Keep the member's answers on their open attempt as they answer (the whole set each
    time: idempotent, the last write wins), so a dead phone loses nothing: another device
    resumes them, and the deadline submits them. Only the owner, only the paper's questions
    and options, only while it may still be submitted (deadline + grace, never past the
    campaign's end). The same answers again (a retry) keep the time of the save that made
    them: R13's time of a deadline's submission is that of the last change."""
    attempt, _, campaign, _ = in_play(tx, member_id, attempt_id)
    if attempt.status != "open" or overdue(tx, knobs, attempt, campaign):
        raise Conflict("this attempt is over: its answers can no longer change",
                       reason="attempt_closed")
    refusal = rules.answers_refusal(attempt.questions, answers)
    if refusal is not None:
        raise refusal
    kept = rules.chosen(answers)
    if kept != (attempt.saved_answers or {}):
        attempt.saved_answers, attempt.saved_at = kept, tx.now
    return {"attempt": attempt, "server_now": tx.now}


def submit_attempt(tx, knobs, member_id: str, attempt_id: str, answers: dict) -> dict:
    """Grade on the server, by the server's clock (R12); submitting again returns the first
    result. What a failure reveals beyond the count right is the reveal knob's (R20)."""
    attempt, _, campaign, run = in_play(tx, member_id, attempt_id, with_run=True)
    if attempt.status == "open":
        refusal = rules.answers_refusal(attempt.questions, answers)
        if refusal is not None:
            raise refusal
        if attempt.saved_answers and overdue(tx, knobs, attempt, campaign):
            submit_at_deadline(tx, knobs, attempt, run)  # as the deadline did: the saves count
        else:
            correct, wrong = rules.grade(attempt.key, answers)
            outcome = rules.judge(attempt.started_at, attempt.deadline, tx.now, grace(knobs),
                                  attempt.time_limit_s, correct, attempt.total,
                                  ends_at(tx, attempt, campaign))
            close(tx, knobs, attempt, outcome, answers, correct, wrong, run=run)
    graded = {"attempt": attempt, "run": run}
    if attempt.status == "failed":
        graded.update(conduct.revealed(knobs.attempts_reveal, attempt.questions, attempt.key,
                                       attempt.wrong_question_ids or []))
    return graded


def restart_run(tx, knobs, member_id: str) -> Run:
    """R14: a new run from level 1 once the active run has passed every level open now (or
    all of them); the old run is kept, frozen, with its score. Two restarts racing meet the
    unique run number at commit."""
    require_playing(tx.store, member_id)
    campaign = current_campaign(tx.store)
    expire_if_overdue(tx, knobs, member_id)
    if tx.store.open_attempt(member_id) is not None:
        raise Conflict("finish the attempt you have open before starting again",
                       reason="attempt_open")
    run = tx.store.active_run(member_id, campaign.campaign_id, lock=True)
    levels = rules.levels_at(campaign.levels)
    if run is None or not rules.may_restart(run.levels_passed, levels, tx.now,
                                            campaign.ends_at):
        opened = rules.open_levels(levels, tx.now, campaign.ends_at)
        needed = max(opened) if opened else 0
        raise Conflict(f"pass every level open now (up to level {needed}) before "
                       "starting again from level 1", reason="restart_not_allowed")
    run.active = False
    return new_run(tx, member_id, campaign.campaign_id, run.run_number + 1)


def expire_overdue(tx, knobs, limit: int = 500) -> int:
    """Attempts never submitted are submitted at deadline + grace with their saved answers,
    or fail (`expired`) with none saved; how many."""
    due = tx.store.overdue(tx.now - grace(knobs), limit)
    for attempt in due:
        submit_at_deadline(tx, knobs, attempt)
    return len(due)


def submit_at_deadline(tx, knobs, attempt: Attempt, run: Run | None = None) -> None:
    """The deadline's submission of an attempt its member did not submit (Moodle's "open
    attempts are submitted automatically"): the saved answers, graded as a submission made
    at the last save (R12; R13's time: last save − start), submitted at the deadline (so
    R15's month is the deadline's: submitting by the cutoff is the member's to do). With
    nothing saved it fails as before: `expired`, costing the full time it had."""
    saved = attempt.saved_answers
    if not saved:
        close(tx, knobs, attempt, rules.expired(attempt.started_at, attempt.deadline),
              None, 0, None, at=attempt.deadline, run=run)
        return
    correct, wrong = rules.grade(attempt.key, saved)
    outcome = rules.on_saved(attempt.started_at, attempt.saved_at, correct, attempt.total)
    attempt.auto_submitted = True
    close(tx, knobs, attempt, outcome, saved, correct, wrong, at=attempt.deadline, run=run)


def passes_by(tx, knobs, campaign_id: str, until) -> int:
    """Passes submitted at or before `until` (ranking's check before it closes a month).
    Attempts overdue now are submitted first: one whose deadline came before `until` counts
    in that month even when the expiry timer has not reached it yet."""
    for _ in range(1000):  # 500 at a time, until none is left (bounded all the same)
        if not expire_overdue(tx, knobs):
            break
    return tx.store.passes_until(campaign_id, until)


def void_open(tx, member_id: str, reason: str) -> None:
    """A member who may play no more leaves no attempt open to be submitted later: it is
    voided, never graded, and emits nothing (no pass, no fail, no statistics)."""
    attempt = tx.store.open_attempt(member_id, lock=True)
    if attempt is not None:
        attempt.status, attempt.reason = rules.VOIDED, reason


# -- shared by the use cases above --------------------------------------------------------

def grace(knobs) -> timedelta:
    return timedelta(seconds=knobs.grace_seconds)


def require_playing(store, member_id: str) -> None:
    """Refused unless the replica of roster says the member is active and not disqualified."""
    refuse_unless_playing(store.member(member_id))


def refuse_unless_playing(member: MemberReplica | None) -> None:
    if member is None or member.status == "unknown":  # roster's event is on its way
        raise Forbidden("this member may not play (unknown)", reason="may_not_play")
    refusal = rules.play_refusal(member.status, member.disqualified)
    if refusal is not None:
        raise refusal


def current_campaign(store) -> CampaignReplica:
    campaign = store.current_campaign()
    if campaign is None:
        raise NotFound("no campaign has been published")
    return campaign


def check_playable(campaign: CampaignReplica, current_level: int, level: int, now) -> None:
    refusal = rules.level_refusal(rules.levels_at(campaign.levels), current_level, level, now,
                                  campaign.ends_at)
    if refusal is not None:
        raise refusal


def in_play(tx, member_id: str, attempt_id: str, with_run=False) -> tuple:
    """`store.attempt_in_play`'s row (the attempt taken for update) once the member may play
    (checked first, as the event that stops them voids the attempt) and it is theirs."""
    row = tx.store.attempt_in_play(attempt_id, member_id, with_run)
    refuse_unless_playing(row[1] if row is not None else tx.store.member(member_id))
    if row is None or row[0].member_id != member_id:
        raise NotFound("no such attempt")
    return row


def expire_if_overdue(tx, knobs, member_id: str) -> None:
    """The member's open attempt, if overdue, is submitted by its deadline now."""
    attempt = tx.store.open_attempt(member_id)
    if attempt is not None and overdue(tx, knobs, attempt):
        submit_at_deadline(tx, knobs, attempt)


def ends_at(tx, attempt: Attempt, campaign: CampaignReplica | None = None):
    """The end of the attempt's campaign (`campaign` when the caller has read it)."""
    campaign = campaign or tx.store.campaign(attempt.campaign_id)
    return campaign.ends_at if campaign is not None else None


def overdue(tx, knobs, attempt: Attempt, campaign: CampaignReplica | None = None) -> bool:
    """Past deadline + grace, or past the campaign's end: too late to save or submit."""
    return rules.is_overdue(attempt.deadline, grace(knobs), tx.now,
                            ends_at(tx, attempt, campaign))


def new_run(tx, member_id: str, campaign_id: str, number: int) -> Run:
    run = Run(id=str(uuid.uuid4()), member_id=member_id, campaign_id=campaign_id,
              run_number=number, active=True, current_level=1, levels_passed=0, total_ms=0,
              pending_ms=0, started_at=tx.now)
    tx.store.add(run)
    tx.emit("run_started", {"run_id": run.id, "member_id": member_id,
                            "campaign_id": campaign_id, "run_number": number,
                            "started_at": tx.now})
    return run


def close(tx, knobs, attempt: Attempt, outcome: rules.Outcome, answers, correct, wrong,
          at=None, run: Run | None = None):
    """Record the outcome, submitted `at` (now unless said), on the attempt and its run's
    score (R13; `run` when the caller has taken it for update) and say so: a pass with
    `attempt_passed` (and a flag if it was implausibly fast), a failure with
    `attempt_failed`."""
    at = at or tx.now
    run = run if run is not None else tx.store.run(attempt.run_id, lock=True)
    score = rules.RunScore(run.current_level, run.levels_passed, run.total_ms,
                           run.pending_ms, run.last_pass_at)
    score.record(attempt.level, outcome, at)
    run.current_level, run.levels_passed = score.current_level, score.levels_passed
    run.total_ms, run.pending_ms = score.total_ms, score.pending_ms
    run.last_pass_at = score.last_pass_at

    attempt.status = "passed" if outcome.passed else "failed"
    attempt.reason = outcome.reason
    attempt.duration_ms = outcome.duration_ms
    attempt.submitted_at = at
    attempt.answers = answers
    attempt.correct = correct
    attempt.wrong_question_ids = wrong
    attempt.run_levels_passed, attempt.run_total_ms = run.levels_passed, run.total_ms

    data = pass_data(attempt, run.run_number)
    if outcome.passed:
        tx.emit("attempt_passed", data)
        watch.check_fast_pass(tx, knobs, attempt)
    else:
        data.update(correct=correct, total=attempt.total, reason=outcome.reason)
        tx.emit("attempt_failed", data)


def pass_data(attempt: Attempt, run_number: int) -> dict:
    """An attempt's `attempt_passed` data (attempt_failed adds correct, total, reason)."""
    return {
        "attempt_id": attempt.id, "member_id": attempt.member_id,
        "campaign_id": attempt.campaign_id, "run_id": attempt.run_id,
        "run_number": run_number, "level": attempt.level,
        "started_at": attempt.started_at, "submitted_at": attempt.submitted_at,
        "duration_ms": attempt.duration_ms, "run_levels_passed": attempt.run_levels_passed,
        "run_total_ms": attempt.run_total_ms,
        "question_ids": list(attempt.key),
        "wrong_question_ids": list(attempt.wrong_question_ids or []),
    }
