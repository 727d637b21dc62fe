"""R8/R13 ordering: more levels, less time, earlier last pass, then member id."""
from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from services.ranking import rules

T0 = datetime(2018, 3, 31, 15, 0, tzinfo=timezone.utc)


def r(member, levels, ms, at_s=0, run="run"):
    return rules.Result(member, levels, ms, T0 + timedelta(seconds=at_s), run)


def test_order_levels_then_time_then_last_pass_then_member():
    results = [r("d", 2, 500), r("c", 3, 900), r("b", 3, 900, at_s=-1), r("a", 3, 900, at_s=-1),
               r("e", 3, 100)]
    ordered = [x.member_id for x in sorted(results, key=rules.Result.order_key)]
    assert ordered == ["e", "a", "b", "c", "d"]


def test_best_of_runs():
    runs = [r("m", 3, 900, run="1"), r("m", 3, 800, run="2"), r("m", 2, 10, run="3")]
    assert rules.best(runs).run_id == "2"
    assert rules.best([]) is None


def test_places_skip_the_disqualified():
    entries = [{"member_id": "a"}, {"member_id": "b", "disqualified": True}, {"member_id": "c"}]
    assert [e["rank"] for e in rules.place(entries)] == [1, None, 2]
    assert [e["rank"] for e in rules.place(entries, first_place=11)] == [11, None, 12]


results = st.builds(
    r, st.sampled_from("abcdef"), st.integers(0, 12), st.integers(0, 10_000),
    st.integers(-5, 5), st.sampled_from(["r1", "r2", "r3"]),
)


@given(st.lists(results, min_size=1, max_size=30))
def test_best_is_not_beaten_by_any_run(rs):
    top = rules.best(rs)
    for other in rs:
        assert (top.levels, -top.total_ms) >= (other.levels, -other.total_ms)
        if (top.levels, top.total_ms) == (other.levels, other.total_ms):
            assert top.at <= other.at
