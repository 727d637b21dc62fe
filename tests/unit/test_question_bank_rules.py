"""R5/R9/R10 schedule, demo questions, the draw and row validation."""
import random
from collections import Counter
from datetime import datetime, timezone

import pytest

from services.question_bank import draw, schedule
from services.question_bank.demo import demo_questions, solve_demo
from services.question_bank.questions import RowError, parse_row


def test_2018_schedule():
    plan = schedule.campaign_2018()
    levels = plan["levels"]
    assert [lv["number"] for lv in levels] == list(range(1, 13))
    assert levels[0]["opens_at"].astimezone(timezone.utc) == datetime(
        2018, 3, 11, 16, 0, tzinfo=timezone.utc)
    assert plan["ends_at"].astimezone(timezone.utc) == datetime(
        2018, 10, 31, 15, 59, 59, 999000, tzinfo=timezone.utc)
    months = Counter(lv["opens_at"].month for lv in levels)
    assert months == {3: 1, 4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 2}  # R9
    assert all(300 <= lv["time_limit_s"] <= 1200 for lv in levels)  # R10
    assert all(lv["draw_count"] == 20 for lv in levels)


def as_bank(rows):
    return [dict(parse_row(row, set(range(1, 13))), id=f"q{i}") for i, row in enumerate(rows)]


@pytest.mark.parametrize("level", range(1, 13))
def test_demo_questions_are_valid_and_solvable(level):
    rows = demo_questions(level, count=30, seed=level)
    assert len(rows) == 30 and all(r["stem"].startswith("【演示】") for r in rows)
    bank = as_bank(rows)
    shown, key = draw.paper(bank, random.Random(level))
    for question in shown:
        assert solve_demo(question) == key[question["id"]]


def test_paper_key_follows_the_shuffled_options():
    bank = [{"id": "q", "type": "multiple", "stem": "s", "options": ["w", "x", "y", "z"],
             "answer": [1, 3], "difficulty": "easy"}]
    for seed in range(20):
        [shown], key = draw.paper(bank, random.Random(seed))
        texts = {o["key"]: o["text"] for o in shown["options"]}
        assert sorted(texts[k] for k in key["q"]) == ["x", "z"]


def test_pick_honours_the_mix_and_refuses_a_small_bank():
    mix = {"easy": 10, "medium": 6, "hard": 4}
    bank = [{"id": f"{d}{i}", "difficulty": d} for d in ("easy", "medium", "hard")
            for i in range(10)]
    chosen = draw.pick(bank, 3, 20, mix, random.Random(1))
    assert len({q["id"] for q in chosen}) == 20
    assert Counter(q["difficulty"] for q in chosen) == mix
    with pytest.raises(draw.BankTooSmall) as short:
        draw.pick(bank[3:], 3, 20, mix, random.Random(1))  # three easy questions fewer
    assert (short.value.missing, short.value.bucket) == (3, "easy")
    with pytest.raises(draw.BankTooSmall, match="level 3's bank is 6 question"):
        draw.pick(bank[:14], 3, 20, None, random.Random(1))


def test_draws_are_uniform():
    """Chi-square over 4,000 draws of 20 from 50: each question is drawn alike."""
    bank = [{"id": f"q{i}", "difficulty": "medium"} for i in range(50)]
    rng = random.Random(12345)
    counts = Counter(q["id"] for _ in range(4000) for q in draw.pick(bank, 1, 20, None, rng))
    expected = 4000 * 20 / 50
    chi2 = sum((counts[q["id"]] - expected) ** 2 / expected for q in bank)
    assert chi2 < 85.4  # the 99.9th percentile of chi-square with 49 degrees of freedom
    assert len(counts) == 50


@pytest.mark.parametrize("row, column", [
    ({"level": 1, "type": "single", "stem": "s", "options": "a|b", "answer": "C"}, "answer"),
    ({"level": 1, "type": "single", "stem": "s", "options": "a|b|c", "answer": "AB"}, "answer"),
    ({"level": 1, "type": "judge", "stem": "s", "options": "a|b", "answer": "对"}, "options"),
    ({"level": 1, "type": "single", "stem": "", "options": "a|b", "answer": "A"}, "stem"),
    ({"level": 13, "type": "single", "stem": "s", "options": "a|b", "answer": "A"}, "level"),
    ({"level": 1, "type": "essay", "stem": "s", "options": "a|b", "answer": "A"}, "type"),
    ({"level": 1, "type": "single", "stem": "s", "options": "a", "answer": "A"}, "options"),
])
def test_row_errors_name_their_column(row, column):
    with pytest.raises(RowError) as err:
        parse_row(row, set(range(1, 13)))
    assert err.value.column == column


def test_rows_in_every_accepted_shape():
    levels = set(range(1, 13))
    assert parse_row({"level": "2", "type": "多选", "stem": "s", "A": "a", "B": "b", "C": "c",
                      "answer": "ac"}, levels)["answer"] == [0, 2]
    assert parse_row({"level": 1, "type": "判断", "stem": "s", "answer": "错"},
                     levels)["answer"] == [1]
    assert parse_row({"level": 1, "type": "single", "stem": "s", "options": ["x", "y"],
                      "answer": "B", "difficulty": "难"}, levels)["difficulty"] == "hard"
