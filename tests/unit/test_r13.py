"""R13 written once (kernel/r13.py): the SQL order and `ahead_of` agree with the Python key
on any set of results, ties included."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from hypothesis import given, settings, strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select

from kernel import r13
from kernel.db import UTCDateTime

metadata = MetaData()
results = Table("results", metadata, Column("member_id", String, primary_key=True),
                Column("levels", Integer), Column("total_ms", Integer),
                Column("at", UTCDateTime))
engine = create_engine("sqlite://")
metadata.create_all(engine)
T0 = datetime(2018, 5, 31, 15, 59, 59, tzinfo=timezone.utc)

result = st.builds(lambda levels, ms, seconds: (levels, ms, T0 + timedelta(seconds=seconds)),
                   st.integers(0, 3), st.integers(0, 3), st.integers(0, 2))


@settings(max_examples=60, deadline=None)
@given(st.lists(result, min_size=1, max_size=12))
def test_sql_and_python_order_results_alike(rows):
    people = [SimpleNamespace(member_id=f"m{i:02d}", levels=lv, total_ms=ms, at=at)
              for i, (lv, ms, at) in enumerate(rows)]
    columns = results.c
    with engine.begin() as conn:
        conn.execute(results.delete())
        conn.execute(results.insert(), [vars(p) for p in people])
        in_sql = list(conn.scalars(select(columns.member_id).order_by(*r13.order_by(columns))))
        in_python = [p.member_id for p in sorted(
            people, key=lambda p: r13.key(p.levels, p.total_ms, p.at, p.member_id))]
        assert in_sql == in_python
        for position, member_id in enumerate(in_python):
            person = next(p for p in people if p.member_id == member_id)
            ahead = conn.scalar(select(func.count()).select_from(results)
                                .where(r13.ahead_of(columns, person)))
            assert ahead == position


def test_more_levels_beat_less_time_and_an_earlier_last_pass_breaks_a_tie():
    assert r13.key(3, 900_000, T0) < r13.key(2, 1, T0)
    assert r13.key(2, 100, T0) < r13.key(2, 101, T0 - timedelta(days=1))
    assert r13.key(2, 100, T0 - timedelta(milliseconds=1)) < r13.key(2, 100, T0)
    assert r13.key(2, 100, T0) < r13.key(2, 100, None)  # no last pass comes last
