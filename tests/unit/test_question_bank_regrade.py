"""question_bank's part of a regrade (issue 18 item 7, R12): voiding a question, the key it
answers attempts with (the right options by text, since papers shuffle and relabel them),
and statistics folding a regraded attempt in place of its first grading."""
import pytest

from kernel.errors import Conflict
from services.question_bank import bank, levels
from services.question_bank.models import LevelMemberStat, QuestionStat
from tests.unit.test_question_bank_use_cases import (  # noqa: F401 (fixtures)
    ADMIN, FakeTx, audit_actions, cid, engine, tx,
)

ROWS = [{"level": 1, "type": "single", "stem": "甲乙丙选哪个", "options": ["甲", "乙", "丙"],
         "answer": "A"},
        {"level": 1, "type": "judge", "stem": "这句话对吗", "answer": "对"}]


def imported(tx, cid):
    bank.import_questions(tx, cid, ROWS, dry_run=False, actor=ADMIN)
    return {q.stem: q for q in tx.store.questions(cid, level=1)}


def test_the_key_names_the_right_options_by_text_after_a_correction(tx, cid):
    questions = imported(tx, cid)
    single, judge = questions["甲乙丙选哪个"], questions["这句话对吗"]
    bank.update_question(tx, ADMIN, single.id, {"answer": "B"})
    bank.update_question(tx, ADMIN, judge.id, {"answer": "错"})
    key = bank.question_key(tx, single.id)
    assert (key["options"], key["right"], key["voided"]) == (["甲", "乙", "丙"], ["乙"], False)
    assert bank.question_key(tx, judge.id)["right"] == ["错"]


def test_a_voided_question_is_retired_once_and_audited(tx, cid):
    question = imported(tx, cid)["甲乙丙选哪个"]
    row = bank.void_question(tx, ADMIN, question.id)
    assert row["status"] == "retired" and question.voided_at == tx.now
    assert bank.question_key(tx, question.id)["voided"] is True
    with pytest.raises(Conflict) as twice:
        bank.void_question(tx, ADMIN, question.id)
    assert twice.value.reason == "question_voided"
    assert "question_voided" in audit_actions(tx)


def test_statistics_replace_the_first_grading_with_the_regraded_one(tx, cid):
    paper = {"campaign_id": cid, "level": 1, "member_id": "m1", "question_ids": ["q1", "q2"]}
    levels.count_attempt(tx, dict(paper, wrong_question_ids=["q2"], reason="wrong_answers"),
                         passed=False)
    levels.recount_attempt(tx, dict(paper, wrong_before=["q2"], wrong_after=[],
                                    passed_before=False, passed_after=True,
                                    level_attempt_number=1))
    tx.session.flush()
    q1, q2 = (tx.session.get(QuestionStat, q) for q in ("q1", "q2"))
    assert (q2.shown, q2.graded, q2.right, q2.sum_rest) == (1, 1, 1, 1)
    assert (q1.right, q1.sum_rest, q1.sum_right_rest) == (1, 1, 1)
    member = tx.session.get(LevelMemberStat, (cid, 1, "m1"))
    assert (member.attempts, member.passes, member.attempts_to_first_pass) == (1, 1, 1)
