"""R20's rules (services/attempts/conduct.py) at their edges: pure functions, no service."""
from datetime import datetime, timedelta, timezone

import pytest

from kernel.knobs import KNOBS
from services.attempts import conduct

T = datetime(2018, 3, 12, 9, 0, tzinfo=timezone.utc)
QUESTIONS = [{"id": "a", "number": 1}, {"id": "b", "number": 2}, {"id": "c", "number": 3}]
KEY = {"a": ["A"], "b": ["B", "C"], "c": ["D"]}


def test_the_start_limit_counts_a_rolling_hour():
    starts = [T - timedelta(minutes=50), T - timedelta(minutes=10), T - timedelta(minutes=70)]
    assert conduct.start_wait(starts, T, 3) is None  # the 70-minute-old start has left
    assert conduct.start_wait(starts, T, 2) == 10 * 60  # the 50-minute-old one leaves then
    assert conduct.start_wait(starts, T, 0) is None  # 0: no limit
    # never "wait 0 s": a start leaving the hour within the second still says 1
    assert conduct.start_wait([T - timedelta(minutes=60) + timedelta(milliseconds=1)], T, 1) == 1


def test_the_wait_after_a_failure_ends_at_its_instant():
    failed = T - timedelta(seconds=20)
    assert conduct.failure_wait(failed, T, 30) == 10
    assert conduct.failure_wait(failed, T, 20) is None
    assert conduct.failure_wait(None, T, 30) is None
    assert conduct.failure_wait(failed, T, 0) is None


def test_a_fast_pass_is_under_the_floor_per_question():
    assert conduct.fast_pass(29_999, 20, 1500) == {"duration_ms": 29_999, "floor_ms": 30_000,
                                                   "questions": 20}
    assert conduct.fast_pass(30_000, 20, 1500) is None
    assert conduct.fast_pass(0, 20, 0) is None  # 0: off


@pytest.mark.parametrize("seen, bank, share, draw, flagged", [
    (80, 100, 0.8, 20, True),
    (79, 100, 0.8, 20, False),
    (16, 20, 0.8, 20, False),  # one paper shows 80% of this bank: it says nothing
    (80, 100, 0, 20, False),  # 0: off
    (5, 0, 0.8, 20, False),  # no bank size known
])
def test_bank_exposure_at_the_share(seen, bank, share, draw, flagged):
    detail = conduct.exposure(seen, bank, share, draw)
    assert bool(detail) is flagged
    if flagged:
        assert detail == {"seen": seen, "bank_size": bank, "share": round(seen / bank, 4)}


def test_what_a_failure_reveals_per_policy():
    assert conduct.revealed("count", QUESTIONS, KEY, ["c", "a"]) == {}
    assert conduct.revealed("anything else", QUESTIONS, KEY, ["c", "a"]) == {}
    assert conduct.revealed("wrong_numbers", QUESTIONS, KEY, ["c", "a"]) == {"wrong": [1, 3]}
    assert conduct.revealed("answers", QUESTIONS, KEY, ["c", "b"]) == {
        "wrong": [2, 3],
        "answers": [{"number": 2, "question_id": "b", "keys": ["B", "C"]},
                    {"number": 3, "question_id": "c", "keys": ["D"]}]}


def test_the_reveal_knob_takes_the_policies_conduct_knows():
    assert KNOBS["ATTEMPTS_REVEAL"].choices == conduct.REVEAL_POLICIES
