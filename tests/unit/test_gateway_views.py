from datetime import datetime, timedelta, timezone

from gateway.views import in_scope, level_states, without_bank

T = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)
LEVELS = [{"number": n, "opens_at": (T + timedelta(days=d)).isoformat()}
          for n, d in ((1, -60), (2, -30), (3, -1), (4, 10))]
END = (T + timedelta(days=100)).isoformat()


def states(run, now=T):
    return [lv["state"] for lv in level_states(LEVELS, run, now, END)]


def test_a_new_member_may_play_level_1_only():
    assert states(None) == ["open", "locked", "locked", "locked"]


def test_passed_levels_then_the_current_one():
    run = {"levels_passed": 2, "current_level": 3}
    assert states(run) == ["passed", "passed", "open", "locked"]
    # the next level opens at its instant, not a millisecond before
    run = {"levels_passed": 3, "current_level": 4}
    assert states(run, T + timedelta(days=10) - timedelta(milliseconds=1))[3] == "locked"
    assert states(run, T + timedelta(days=10))[3] == "open"


def test_nothing_is_open_after_the_campaign():
    assert states(None, T + timedelta(days=100, milliseconds=1)) == ["locked"] * 4


def test_without_bank_keeps_what_a_player_needs_only():
    level = {"number": 1, "title": "t", "theme": "th", "opens_at": "x", "time_limit_s": 600,
             "draw_count": 20, "mix": {"easy": 20}, "active_questions": 30,
             "warnings": ["the bank is small"], "future_bank_field": 1}
    campaign = without_bank({"name": "2018", "levels": [level]})
    assert campaign["name"] == "2018"
    assert set(campaign["levels"][0]) == {"number", "title", "theme", "opens_at",
                                          "time_limit_s", "draw_count"}
    assert "mix" in level  # the caller's dict is left as it was


def test_in_scope_keeps_the_rows_of_the_readers_part_of_the_tree():
    rows = [{"org_unit_id": "a"}, {"org_unit_id": "b"}, {"org_unit_id": None}]
    assert in_scope(rows, None) == rows
    assert in_scope(rows, ["b", "c"]) == [{"org_unit_id": "b"}]
    assert in_scope([{"unit": "a"}], ["a"], lambda row: row["unit"]) == [{"unit": "a"}]
