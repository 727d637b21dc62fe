"""R12–R14 as the design reads them, at their edges."""
from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from services.attempts import rules

T0 = datetime(2018, 3, 12, 1, 0, tzinfo=timezone.utc)
GRACE = timedelta(seconds=10)
LIMIT = 300


def judge_at(submitted_after, correct=20):
    deadline = rules.deadline_of(T0, LIMIT)
    return rules.judge(T0, deadline, T0 + submitted_after, GRACE, LIMIT, correct, 20)


def test_all_right_in_time_passes_with_server_time():
    outcome = judge_at(timedelta(seconds=95, milliseconds=412))
    assert outcome == rules.Outcome(True, None, 95_412)


def test_one_wrong_fails_with_its_time():
    outcome = judge_at(timedelta(seconds=60), correct=19)
    assert outcome == rules.Outcome(False, rules.WRONG_ANSWERS, 60_000)


def test_deadline_plus_grace_minus_1ms_still_counts():
    outcome = judge_at(timedelta(seconds=LIMIT + 10) - timedelta(milliseconds=1))
    assert outcome.passed and outcome.duration_ms == (LIMIT + 10) * 1000 - 1


def test_exactly_deadline_plus_grace_still_counts():
    assert judge_at(timedelta(seconds=LIMIT + 10)).passed


def test_deadline_plus_grace_plus_1ms_times_out_at_full_limit():
    outcome = judge_at(timedelta(seconds=LIMIT + 10, milliseconds=1))
    assert outcome == rules.Outcome(False, rules.TIMEOUT, LIMIT * 1000)


def test_grade_needs_the_exact_set_of_keys():
    key = {"q1": ["A"], "q2": ["A", "C"], "q3": ["B"]}
    correct, wrong = rules.grade(key, {"q1": ["A"], "q2": ["C", "A"], "q3": ["B", "C"]})
    assert (correct, wrong) == (2, ["q3"])
    assert rules.grade(key, {}) == (0, ["q1", "q2", "q3"])


def test_failed_attempts_count_once_their_level_is_passed():
    score = rules.RunScore()
    score.record(1, rules.Outcome(False, rules.WRONG_ANSWERS, 40_000), T0)
    assert (score.levels_passed, score.total_ms, score.pending_ms) == (0, 0, 40_000)
    score.record(1, rules.Outcome(True, None, 30_000), T0 + timedelta(minutes=1))
    assert (score.levels_passed, score.total_ms, score.current_level) == (1, 70_000, 2)
    score.record(2, rules.Outcome(False, rules.EXPIRED, 360_000), T0 + timedelta(minutes=9))
    # a failure on level 2, not yet passed, is not in the score of (1 level, 70 s)
    assert (score.levels_passed, score.total_ms) == (1, 70_000)
    assert score.last_pass_at == T0 + timedelta(minutes=1)


def test_an_attempt_at_another_level_than_the_run_is_refused():
    score = rules.RunScore()
    try:
        score.record(2, rules.Outcome(True, None, 1), T0)
    except ValueError:
        return
    raise AssertionError("recorded a level-2 attempt on a run at level 1")


LEVELS = [{"number": n, "opens_at": T0 + timedelta(days=30 * (n - 1))} for n in range(1, 13)]
END = T0 + timedelta(days=365)


def test_open_levels_and_restart():
    now = T0 + timedelta(days=31)
    assert rules.open_levels(LEVELS, now, END) == [1, 2]
    assert not rules.may_restart(1, LEVELS, now, END)
    assert rules.may_restart(2, LEVELS, now, END)
    assert rules.open_levels(LEVELS, END + timedelta(milliseconds=1), END) == []
    assert rules.may_restart(12, LEVELS, END + timedelta(days=1), END)


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=1_200_000)),
                max_size=40))
def test_run_score_equals_a_direct_sum(plays):
    """t = every attempt's time on the levels passed; pending = the rest."""
    score, level, history = rules.RunScore(), 1, []
    for passed, ms in plays:
        score.record(level, rules.Outcome(passed, None if passed else "wrong_answers", ms), T0)
        history.append((level, passed, ms))
        if passed:
            level += 1
    k = sum(1 for _, passed, _ in history if passed)
    assert score.levels_passed == k
    assert score.total_ms == sum(ms for lv, _, ms in history if lv <= k)
    assert score.pending_ms == sum(ms for lv, _, ms in history if lv > k)
