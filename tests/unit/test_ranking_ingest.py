"""ranking's batched ingest of passes (store.record_passes, one statement per batch on
PostgreSQL) leaves the standings the one-event-at-a-time restate leaves (R8, R13): random
passes of a few members, duplicated and redelivered, in random batches, then a regrade.
Here on SQLite; tests/integration/test_ranking_ingest_pg.py runs the same on PostgreSQL."""
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.ranking import boards, passes
from services.ranking.models import Base, PassRecord, Standing
from services.ranking.store import RankingStore

T0 = datetime(2018, 3, 20, 2, 0, tzinfo=timezone.utc)


class Tx:
    def __init__(self, session):
        self.session, self.store, self.now = session, RankingStore(session), T0


def events(seed, count=120):
    """`attempt_passed` envelopes: runs of 4 members, each pass of a run adding a level and
    time (R13: a failure's time counts once the level is passed); some sent twice (a
    replay under another event id), some redelivered (the same event id)."""
    rng = random.Random(seed)
    runs: dict = {}
    out = []
    for i in range(count):
        member = f"m{rng.randrange(4)}"
        run = f"{member}-r{rng.randrange(3)}"
        levels, total = runs.get(run, (0, 0))
        levels, total = levels + 1, total + rng.choice([30_000, 60_000, 61_000, 90_000])
        runs[run] = (levels, total)
        at = T0 + timedelta(minutes=rng.randrange(10_000))
        data = {"attempt_id": f"a{i}", "member_id": member, "campaign_id": "c",
                "run_id": run, "run_levels_passed": levels, "run_total_ms": total,
                "submitted_at": at}
        out.append({"event_id": f"e{i}", "data": data})
        if rng.random() < 0.15:
            out.append({"event_id": f"e{i}", "data": data})  # redelivered
        if rng.random() < 0.1:
            out.append({"event_id": f"e{i}-again", "data": data})  # a replay
    rng.shuffle(out)  # any order
    return out


def standings(session):
    fresh = {"populate_existing": True}  # the statements wrote past the ORM's objects
    return {s.member_id: (s.levels, s.total_ms, s.at, s.run_id)
            for s in session.scalars(select(Standing).execution_options(**fresh))}


def records(session):
    fresh = {"populate_existing": True}
    return {(r.run_id, r.levels): (r.total_ms, r.at, r.attempt_id)
            for r in session.scalars(select(PassRecord).execution_options(**fresh))}


def one_at_a_time(session, stream):
    """The reference: boards.apply_pass per event, each event id applied once."""
    tx, seen = Tx(session), set()
    for event in stream:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            boards.apply_pass(tx, event["data"])
            session.flush()


def in_batches(session, stream, seed):
    rng, tx, i = random.Random(seed), Tx(session), 0
    while i < len(stream):
        size = rng.choice([1, 2, 7, 30, 100])
        passes.apply_passes(tx, stream[i:i + size], "on_attempt_passed")
        session.flush()
        i += size


def regrade(tx, member_standing):
    """attempts' regrade of the first run: its records replaced (an earlier pass)."""
    run_id = member_standing[3]
    held = tx.store.session.scalars(select(PassRecord).where(PassRecord.run_id == run_id))
    held = sorted(held, key=lambda r: r.levels)
    boards.apply_regrade(tx, {
        "run_id": run_id, "member_id": held[0].member_id, "campaign_id": "c",
        "run_passes": [{"levels": r.levels, "total_ms": r.total_ms - 20_000,
                        "at": r.at - timedelta(minutes=1), "attempt_id": r.attempt_id}
                       for r in held]})


def compare(make_reference, make_batched, seed):
    stream = events(seed)
    with make_reference() as reference, make_batched() as batched:
        one_at_a_time(reference, stream)
        in_batches(batched, stream, seed)
        assert records(batched) == records(reference)
        assert standings(batched) == standings(reference)
        in_batches(batched, stream, seed + 1)  # everything redelivered: nothing changes
        assert standings(batched) == standings(reference)
        some = sorted(standings(reference).items())[0][1]
        regrade(Tx(reference), some)
        regrade(Tx(batched), some)
        reference.flush(), batched.flush()
        assert standings(batched) == standings(reference)
        late = [dict(e, event_id=f"{e['event_id']}-late") for e in stream[:20]]
        one_at_a_time(reference, late)  # passes replayed after the regrade
        in_batches(batched, late, seed)
        assert standings(batched) == standings(reference)


def sqlite_sessions(base=Base):
    """Sessions each over a new in-memory SQLite database with `base`'s tables."""
    def make():
        engine = create_engine("sqlite://")
        base.metadata.create_all(engine)
        return Session(engine)
    return make


@pytest.mark.parametrize("seed", range(5))
def test_batched_ingest_leaves_the_standings_of_one_event_at_a_time(seed):
    compare(sqlite_sessions(), sqlite_sessions(), seed)
