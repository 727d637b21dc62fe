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


def test_places_skip_the_inactive_marked_on_a_closed_months_board():
    entries = [{"member_id": "a", "active": False}, {"member_id": "b", "active": True},
               {"member_id": "c"}]
    assert [e["rank"] for e in rules.place(entries)] == [None, 1, 2]


# -- R15/R16: a pass inside the month ----------------------------------------------------------

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=SHANGHAI)
MONTHS = ["2018-03", "2018-04", "2018-05"]
MARCH_END = datetime(2018, 3, 31, 23, 59, 59, 999000, tzinfo=SHANGHAI)
APRIL_END = datetime(2018, 4, 30, 23, 59, 59, 999000, tzinfo=SHANGHAI)
MS = timedelta(milliseconds=1)


def played(month, *passes):
    records = [rules.Result(member, 1, 1000, at) for member, at in passes]
    return rules.passed_in_month(records, month, MONTHS, START, "Asia/Shanghai")


def test_a_pass_at_23_59_59_999_is_this_months_and_at_midnight_the_next():
    passes = [("last", MARCH_END), ("first", MARCH_END + MS)]
    assert played("2018-03", *passes) == {"last"}
    assert played("2018-04", *passes) == {"first"}
    assert played("2018-04", ("end", APRIL_END), ("may", APRIL_END + MS)) == {"end"}
    assert played("2018-05", ("end", APRIL_END), ("may", APRIL_END + MS)) == {"may"}


def test_the_first_month_counts_from_the_campaigns_start():
    assert played("2018-03", ("start", START), ("before", START - MS)) == {"start"}


@given(st.lists(st.tuples(st.sampled_from("abcd"),
                          st.integers(-3, 3).map(lambda d: APRIL_END + d * MS)), max_size=8))
def test_passes_around_a_cutoff_fall_on_its_side(passes):
    months = [played(month, *passes) for month in MONTHS]
    assert months[0] == set()  # all near April's end: never March's
    assert {m for m, at in passes if at <= APRIL_END} == months[1]
    assert {m for m, at in passes if at > APRIL_END} == months[2]
