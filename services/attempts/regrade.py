"""attempts' regrade (R12, R13, R15): after a bank administrator corrects a question's key or
voids the question, every closed attempt whose paper drew it is graded again.

R12 passes only a paper with every question right, so one wrongly keyed question fails
everyone who drew it. `regrade` grades each such paper again with the corrected key (a
voided question counts as right whatever was answered; docs/decisions.md, "Issue 18 —
regrade"):

- a failure for wrong answers that is now all right becomes a pass at its original
  submitted time; its run's score is replayed from its attempts (R13), so the run moves on
  (its next level is unlocked) and attempts at that level after it are *superseded*: kept
  in the history, out of the run's time and out of the passes ranking counts;
- a pass that the corrected key would fail is never taken away: it is listed for the
  administrator (`kept_passes`);
- an attempt still open, or whose run has an attempt open that the replay would leave
  behind, is left for a later regrade (`pending`); a paper whose options no longer match
  the question's (its text was edited, not just its key) is listed, not guessed
  (`unmatched`);
- closed months are never rewritten (their snapshots and awards stand): the report lists,
  per closed month, the members whose result at its cutoff would have been different.

Each changed attempt emits `attempt_regraded` (statistics take the first grading out and
fold the corrected one in; ranking replaces the run's pass records with `run_passes`). A
second regrade with the same key finds nothing to change. The key comes from question_bank
and the closed months from ranking, both asked by the entrypoint before the transaction.
A dry run is the same use case in a transaction that is discarded.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from kernel import r13

from . import rules, watch


class RunOutOfStep(Exception):
    """A run whose attempts, replayed, skip a level (never expected: left as it is)."""


def regrade(tx, knobs, actor: str, question: dict, closed_months: list[dict],
            dry_run: bool) -> dict:
    """Grade again every closed attempt that drew `question` (question_bank.question_key)
    and report who changes; `closed_months` are ranking's closed months ({month, cutoff})."""
    qid = question["question_id"]
    report = {"regrade_id": str(uuid.uuid4()), "question_id": qid, "level": question["level"],
              "voided": question["voided"], "dry_run": dry_run, "at": tx.now,
              "drawn": 0, "unchanged": 0, "regraded": 0, "now_passed": [],
              "kept_passes": [], "pending": [], "unmatched": [], "runs": [],
              "closed_months": []}
    changes = {}
    for attempt in tx.store.drawn_attempts(question["campaign_id"], qid):
        if qid not in (attempt.key or {}):
            continue
        report["drawn"] += 1
        if attempt.status == "open":
            report["pending"].append(_who(attempt, "open"))
            continue
        if attempt.status not in ("passed", "failed") or attempt.reason == rules.EXPIRED:
            continue  # never graded: voided by a deactivation, or never submitted
        change = _regraded(attempt, question)
        if change is None:
            report["unmatched"].append(_who(attempt, "options_changed"))
        elif change == "unchanged":
            report["unchanged"] += 1
        else:
            changes[attempt.id] = change

    runs = _replay_runs(tx, changes, report)
    _report_months(tx, changes, runs, closed_months, report)
    for attempt_id, change in list(changes.items()):
        if change["wrong"] == change["wrong_before"]:  # the paper's key, not its grading
            _record_key(tx, change)
            report["unchanged"] += 1
            del changes[attempt_id]
            continue
        _apply(tx, knobs, report, change, runs.get(change["attempt"].run_id))
    for run_id, replayed in runs.items():
        _apply_run(tx, replayed)
    report["regraded"] = len(changes)
    report["runs"] = [replayed["summary"] for replayed in runs.values()]
    if not dry_run and (changes or report["pending"] or report["unmatched"]):
        tx.store.audit("attempts_regraded", actor=actor, target=qid,
                       scope_id=question.get("organisation_id"), detail={
                           "regrade_id": report["regrade_id"], "level": question["level"],
                           "voided": question["voided"], "right": question["right"],
                           "attempts": sorted(changes),
                           "now_passed": [p["attempt_id"] for p in report["now_passed"]],
                           "kept_passes": [p["attempt_id"] for p in report["kept_passes"]],
                           "pending": [p["attempt_id"] for p in report["pending"]]})
    return report


# -- one paper ----------------------------------------------------------------------------------

def corrected_letters(attempt, question: dict) -> list[str] | None:
    """The corrected key as this paper lettered the options (each paper shuffled them), or
    None when the paper's options are not the question's (its text was edited since)."""
    shown = next((q for q in attempt.questions if q["id"] == question["question_id"]), None)
    if shown is None:
        return None
    letters = {option["text"]: option["key"] for option in shown["options"]}
    if len(letters) != len(shown["options"]) or set(letters) != set(question["options"]):
        return None
    return sorted(letters[text] for text in question["right"])


def grade(key: dict, answers: dict, voided: set[str]) -> tuple[int, list[str]]:
    """R12 as rules.grade, a voided question right whatever was answered."""
    _, wrong = rules.grade(key, answers)
    wrong = [qid for qid in wrong if qid not in voided]
    return len(key) - len(wrong), wrong


def _regraded(attempt, question: dict):
    """The attempt's grading under the corrected key: a dict of what changes, "unchanged"
    (graded so already: idempotent), or None (the paper cannot be matched)."""
    qid = question["question_id"]
    voided = set(attempt.voided_question_ids or [])
    key = dict(attempt.key)
    if question["voided"]:
        voided.add(qid)
    else:
        letters = corrected_letters(attempt, question)
        if letters is None:
            return None
        key[qid] = letters
    if key == attempt.key and voided == set(attempt.voided_question_ids or []):
        return "unchanged"
    correct, wrong = grade(key, attempt.answers or {}, voided)
    passed_before = attempt.status == "passed"
    # R12: a failure for wrong answers passes once all are right; a late one stays failed
    passes = not passed_before and attempt.reason == rules.WRONG_ANSWERS and \
        correct == attempt.total
    return {"attempt": attempt, "key": key, "voided": sorted(voided), "correct": correct,
            "wrong": wrong, "passed_before": passed_before,
            "passed_after": passed_before or passes, "now_passes": passes,
            "correct_before": attempt.correct,
            "wrong_before": list(attempt.wrong_question_ids or [])}


# -- runs (R13) ---------------------------------------------------------------------------------

def replay(attempts, passed: dict[str, bool]) -> tuple[rules.RunScore, dict[str, tuple]]:
    """A run's score replayed from its attempts in the order they were played, each graded
    as `passed` says (by attempt id; the others as they stand): (the score, per attempt id
    (run levels passed, run total ms, superseded) after it). An attempt at a level the run
    has already passed is superseded: its time is out of R13's total."""
    score, after = rules.RunScore(), {}
    for attempt in attempts:
        if attempt.status not in ("passed", "failed"):
            continue  # open, or voided by a deactivation: no time of its own
        if attempt.level < score.current_level:
            after[attempt.id] = (score.levels_passed, score.total_ms, True)
            continue
        if attempt.level > score.current_level:
            raise RunOutOfStep(attempt.run_id)
        ok = passed.get(attempt.id, attempt.status == "passed")
        outcome = rules.Outcome(ok, None if ok else attempt.reason, attempt.duration_ms or 0)
        score.record(attempt.level, outcome, attempt.submitted_at)
        after[attempt.id] = (score.levels_passed, score.total_ms, False)
    return score, after


def _replay_runs(tx, changes: dict, report: dict) -> dict:
    """Every run with a failure that now passes, replayed; a run that cannot move now (an
    attempt of it is open at a level the replay passes) is left out with its changes, for a
    later regrade."""
    runs = {}
    for run_id in sorted({c["attempt"].run_id for c in changes.values() if c["now_passes"]}):
        run = tx.store.run(run_id, lock=True)
        attempts = tx.store.run_attempts(run_id)
        passed = {c["attempt"].id: c["passed_after"] for c in changes.values()
                  if c["attempt"].run_id == run_id}
        try:
            score, after = replay(attempts, passed)
        except RunOutOfStep:
            score = None
        still_open = [a for a in attempts if a.status == "open"]
        if score is None or any(a.level != score.current_level for a in still_open):
            for attempt_id in passed:
                change = changes.pop(attempt_id)
                report["pending"].append(_who(change["attempt"], "run_in_play"))
            continue
        records = [{"levels": after[a.id][0], "total_ms": after[a.id][1],
                    "at": a.submitted_at, "attempt_id": a.id}
                   for a in attempts if a.id in after and not after[a.id][2]
                   and passed.get(a.id, a.status == "passed")]
        runs[run_id] = {"run": run, "attempts": attempts, "score": score, "after": after,
                        "records": records, "summary": {
                            "run_id": run_id, "member_id": run.member_id,
                            "run_number": run.run_number, "active": run.active,
                            "levels_before": run.levels_passed,
                            "total_ms_before": run.total_ms,
                            "levels_after": score.levels_passed,
                            "total_ms_after": score.total_ms,
                            "current_level_after": score.current_level,
                            "superseded": [a.id for a in attempts
                                           if a.id in after and after[a.id][2]]}}
    return runs


# -- closed months (R15): listed, never rewritten -----------------------------------------------

def _report_months(tx, changes: dict, runs: dict, closed_months: list[dict], report) -> None:
    """Per closed month, the members whose best result at its cutoff (R8, R13) would differ
    had the corrected key been there: for the administrator; the month stays as closed."""
    if not runs or not closed_months:
        return
    for member_id in sorted({replayed["run"].member_id for replayed in runs.values()}):
        campaign_id = next(iter(runs.values()))["run"].campaign_id
        before = [(a.run_id, a.run_levels_passed or 0, a.run_total_ms or 0, a.submitted_at)
                  for a in tx.store.member_passes(member_id, campaign_id)]
        replaced = {run_id for run_id, r in runs.items() if r["run"].member_id == member_id}
        after = [row for row in before if row[0] not in replaced] + [
            (run_id, rec["levels"], rec["total_ms"], rec["at"])
            for run_id in replaced for rec in runs[run_id]["records"]]
        for month in sorted(closed_months, key=lambda m: m["month"]):
            cutoff = _instant(month["cutoff"])
            old, new = _best_at(before, cutoff), _best_at(after, cutoff)
            if old != new:
                report["closed_months"].append({
                    "month": month["month"], "member_id": member_id,
                    "levels_before": old[0] if old else 0,
                    "total_ms_before": old[1] if old else None,
                    "levels_after": new[0] if new else 0,
                    "total_ms_after": new[1] if new else None})


def _instant(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _best_at(records, cutoff) -> tuple | None:
    """The best (levels, total ms) among pass records submitted by `cutoff` (R13)."""
    best = min((r for r in records if r[3] <= cutoff),
               key=lambda r: r13.key(r[1], r[2], r[3]), default=None)
    return (best[1], best[2]) if best else None


# -- writing (a dry run's transaction is discarded) ---------------------------------------------

def _record_key(tx, change: dict) -> None:
    """The corrected key (and voided questions) on the paper, for the next regrade."""
    attempt = change["attempt"]
    attempt.key, attempt.voided_question_ids = change["key"], change["voided"] or None


def _apply(tx, knobs, report: dict, change: dict, replayed: dict | None) -> None:
    attempt = change["attempt"]
    _record_key(tx, change)
    attempt.correct, attempt.wrong_question_ids = change["correct"], change["wrong"]
    attempt.regraded_at = tx.now
    if change["now_passes"]:
        attempt.status, attempt.reason = "passed", None
        report["now_passed"].append(dict(_who(attempt, None),
                                         correct_before=change["correct_before"],
                                         correct_after=change["correct"]))
        watch.check_fast_pass(tx, knobs, attempt)
    elif change["passed_before"] and change["correct"] < attempt.total:
        report["kept_passes"].append(dict(_who(attempt, "kept"),
                                          correct_after=change["correct"]))
    run = replayed["run"] if replayed else tx.store.run(attempt.run_id)
    data = {
        "regrade_id": report["regrade_id"], "question_id": report["question_id"],
        "attempt_id": attempt.id, "member_id": attempt.member_id,
        "campaign_id": attempt.campaign_id, "run_id": attempt.run_id,
        "run_number": run.run_number, "level": attempt.level,
        "started_at": attempt.started_at, "submitted_at": attempt.submitted_at,
        "duration_ms": attempt.duration_ms or 0, "question_ids": list(attempt.key),
        "wrong_before": change["wrong_before"], "wrong_after": list(change["wrong"]),
        "passed_before": change["passed_before"], "passed_after": change["passed_after"],
        "level_attempt_number": tx.store.graded_before(
            attempt.member_id, attempt.campaign_id, attempt.level, attempt.started_at),
    }
    if replayed is not None:
        data["run_passes"] = replayed["records"]
    tx.emit("attempt_regraded", data)


def _apply_run(tx, replayed: dict) -> None:
    """The run's replayed score (R13) on the run and on each attempt's record of it."""
    run, score = replayed["run"], replayed["score"]
    run.current_level, run.levels_passed = score.current_level, score.levels_passed
    run.total_ms, run.pending_ms = score.total_ms, score.pending_ms
    run.last_pass_at = score.last_pass_at
    for attempt in replayed["attempts"]:
        if attempt.id in replayed["after"]:
            levels, total_ms, superseded = replayed["after"][attempt.id]
            attempt.run_levels_passed, attempt.run_total_ms = levels, total_ms
            attempt.superseded = superseded


def _who(attempt, why: str | None) -> dict:
    return {"attempt_id": attempt.id, "member_id": attempt.member_id,
            "run_id": attempt.run_id, "level": attempt.level, "status": attempt.status,
            "submitted_at": attempt.submitted_at, "correct": attempt.correct,
            "total": attempt.total, "why": why}
