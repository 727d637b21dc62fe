"""attempts' use cases of an administrator's review (issue 23, R20): a member's attempts with
the paper as drawn, and who has played (for reminders).

What a reviewer may see depends on who they are. The campaign's administrators (who edit the
bank and see its keys anyway) get every attempt whole: the answers given, the key and which
were wrong. Anyone else (a unit's administrator, who may play the same levels) gets the
paper as shown, the count right, the times and the address, but neither the answers nor
which were wrong: a passed paper's answers, or the marks on a judge question, are its key."""
from __future__ import annotations

from datetime import datetime

from kernel.errors import Forbidden

from .models import Attempt

MOST = 200  # attempts shown, newest first: more than anyone plays in a campaign


def member_review(tx, member_id: str, visible: list[str] | None, with_keys: bool,
                  keys_for: list[str] | None = None) -> dict:
    """The member's attempts (newest first) and flags, inside `visible` (None: everyone).
    `keys_for`: the campaigns whose administrator the reviewer is; each attempt comes with
    its answers and key only if its own campaign is one (a member plays several campaigns
    over the years, and the reviewer may administer only one of them); None: `with_keys`
    for every attempt."""
    member = tx.store.member(member_id)
    if visible is not None and not set(visible) & set((member and member.org_path) or []):
        raise Forbidden("that member is outside your part of the organisation",
                        reason="outside_scope")
    flags = tx.store.flags_of(member_id)
    flagged: dict[str, list[int]] = {}
    for flag in flags:
        flagged.setdefault(flag.attempt_id, []).append(flag.id)
    attempts = tx.store.attempts_of(member_id, MOST)
    return {"member_id": member_id, "with_keys": with_keys,
            "attempts": [attempt_view(a, with_keys if keys_for is None
                                      else a.campaign_id in keys_for, flagged.get(a.id, []))
                         for a in attempts],
            "flags": flags}


def attempt_view(attempt: Attempt, with_keys: bool, flag_ids: list[int]) -> dict:
    """One attempt for review; the answers, key and marks only `with_keys`."""
    answers = (attempt.answers if attempt.status != "open" else attempt.saved_answers) or {}
    wrong = set(attempt.wrong_question_ids or [])
    voided = set(attempt.voided_question_ids or [])
    questions = []
    for q in attempt.questions:
        shown = {"id": q["id"], "number": q["number"], "type": q["type"], "stem": q["stem"],
                 "options": q["options"], "voided": q["id"] in voided}
        if with_keys:
            shown.update(answer=sorted(answers.get(q["id"]) or []),
                         key=attempt.key.get(q["id"], []),
                         wrong=q["id"] in wrong if attempt.status != "open" else None)
        questions.append(shown)
    return {"attempt": attempt, "questions": questions, "flag_ids": flag_ids,
            "with_keys": with_keys,
            "answered": sum(1 for q in attempt.questions if answers.get(q["id"]))}


def players(tx, campaign_id: str, level: int | None, since: datetime | None) -> list[str]:
    """Members with an attempt in the campaign (at `level`, started at or after `since`)."""
    return tx.store.players(campaign_id, level, since)
