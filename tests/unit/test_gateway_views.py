from datetime import datetime, timedelta, timezone

from gateway.views import level_states

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
