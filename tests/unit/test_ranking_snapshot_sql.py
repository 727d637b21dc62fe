"""Issue 20: a month's snapshot is written by one INSERT … SELECT; on random data it holds
exactly what the close computed in Python before (each member's best pass by the cutoff,
every scope above them, R13's order and ties, places among the eligible, the marks of
issue 18, passed_in_month at R15's edges), on SQLite and on PostgreSQL."""
import contextlib
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from services.ranking import months, replicas, rules
from services.ranking.models import Base, Member, PassRecord, SnapshotEntry
from services.ranking.store import RankingStore
from tests.infra import pg_database

LOCAL = timezone(timedelta(hours=8))
START = datetime(2018, 3, 12, tzinfo=LOCAL)
END = datetime(2018, 5, 31, 23, 59, 59, 999000, tzinfo=LOCAL)
MONTHS = ["2018-03", "2018-04", "2018-05"]
CUTOFFS = [rules.cutoff(m, "Asia/Shanghai") for m in MONTHS]
# instants at R15's edges: the start, each cutoff and 1 ms either side, inside months
EDGES = [START, START + timedelta(days=3)] + [
    c + timedelta(milliseconds=d) for c in CUTOFFS for d in (-1, 0, 1)] + [
    CUTOFFS[0] + timedelta(days=10)]


class Tx:
    def __init__(self, session, now):
        self.session, self.store, self.now, self.emitted = session, RankingStore(session), now, []

    def emit(self, type_, data):
        self.emitted.append((type_, data))


members = st.lists(st.tuples(
    st.sampled_from(["registered", "unknown"]),  # unknown: no replica, the whole tree only
    st.sampled_from(["u1", "u2", "u3"]), st.booleans(), st.booleans(),  # disqualified, active
    st.sampled_from([None, "required", "voluntary", "withdrawn"]),
    st.sampled_from([None, "system_admin", "organisation_admin", "unit_admin"]),
), min_size=1, max_size=8)
passes = st.lists(st.tuples(
    st.integers(0, 7), st.integers(0, 2), st.integers(1, 3),  # member, run, levels
    st.sampled_from([60_000, 90_000, 120_000]), st.sampled_from(EDGES),
), max_size=25)


def reference(snapshot_id, records, member_rows, admins, month) -> tuple[list, dict]:
    """The close as it was computed in Python before issue 20 (months._snapshot, _marks)."""
    cut = CUTOFFS[MONTHS.index(month)]
    records = [r for r in records if r.at <= cut]
    results = rules.standings_at([rules.result(r) for r in records], cut)
    played = rules.passed_in_month(records, month, MONTHS, START, "Asia/Shanghai")
    by_scope: dict = {}
    for member_id, result in results.items():
        for scope in replicas.scopes(member_rows.get(member_id)):
            by_scope.setdefault(scope, []).append(result)
    disqualified = {m for m, member in member_rows.items() if member.disqualified}
    inactive = frozenset(m for m in results if m in member_rows and not member_rows[m].active)
    rows = []
    for scope, scope_results in by_scope.items():
        for position, entry in enumerate(rules.board(scope_results, disqualified, inactive), 1):
            member = member_rows.get(entry["member_id"])
            rows.append({
                "scope_id": scope, "member_id": entry["member_id"], "position": position,
                "rank": entry["rank"], "levels": entry["levels"], "total_ms": entry["total_ms"],
                "at": entry["at"], "name": member.name if member else None,
                "disqualified": entry["disqualified"],
                "active": member.active if member else True,
                "participation": member.participation if member else None,
                "bank_admin": entry["member_id"] in admins,
                "passed_in_month": entry["member_id"] in played})
    return rows, {"ranked": len(results), "passes": len(records)}


def check(session, people, played):
    tx = Tx(session, END + timedelta(days=1))
    replicas.replicate_campaign(tx, {"campaign_id": "c", "time_zone": "Asia/Shanghai",
                                     "starts_at": START, "ends_at": END,
                                     "organisation_id": "fed"})
    admins = set()
    for i, (kind, unit, disqualified, active, participation, role) in enumerate(people):
        if kind == "unknown":
            continue
        replicas.replicate_member(tx, {
            "member_id": f"m{i}", "name": f"n{i}", "org_path": ["fed", unit],
            "status": "active" if active else "inactive", "participation": participation})
        tx.session.flush()
        replicas.set_disqualified(tx, f"m{i}", disqualified)
        if role:
            replicas.grant_role(tx, {"member_id": f"m{i}", "role": role, "org_unit_id": "fed"})
            admins |= {f"m{i}"} if role in replicas.BANK_ADMIN_ROLES else set()
    seen = set()
    for member, run, levels, total_ms, at in played:
        member %= len(people)
        if (f"r{member}-{run}", levels) not in seen:
            seen.add((f"r{member}-{run}", levels))
            tx.session.add(PassRecord(run_id=f"r{member}-{run}", levels=levels,
                                      member_id=f"m{member}", campaign_id="c",
                                      total_ms=total_ms, at=at, attempt_id="a"))
    tx.session.flush()
    records = list(tx.session.scalars(select(PassRecord)))
    member_rows = {m.member_id: m for m in tx.session.scalars(select(Member))}
    for month in MONTHS:
        closed = months.close(tx, "c", month, "timer", expected=0, top_depth=3)
        want, counts = reference(closed.snapshot_id, records, member_rows, admins, month)
        got = [{field: getattr(e, field) for field in want[0]} if want else {}
               for e in tx.session.scalars(select(SnapshotEntry).where(
                   SnapshotEntry.snapshot_id == closed.snapshot_id))]
        key = lambda row: (row["scope_id"], row["position"])  # noqa: E731
        assert sorted(got, key=key) == sorted(want, key=key)
        assert (closed.ranked_members, closed.passes_counted) == (
            counts["ranked"], counts["passes"])
        data = next(d for kind, d in tx.emitted if kind == "month_closed"
                    and d["month"] == month)
        for top in data["tops"]:
            board = sorted((r for r in want if r["scope_id"] == top["scope_id"]), key=key)
            assert top["total"] == len(board)
            assert [e["member_id"] for e in top["entries"]] == [
                r["member_id"] for r in board[:3]]
            assert all(set(e) == set(months.TOP_FIELDS) for e in top["entries"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(members, passes)
def test_the_set_based_snapshot_is_the_python_one_on_sqlite(people, played):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        check(session, people, played)
    engine.dispose()


@contextlib.contextmanager
def _pg():
    with contextlib.contextmanager(pg_database)() as url:
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


def test_the_set_based_snapshot_is_the_python_one_on_postgresql():
    with _pg() as engine:
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(members, passes)
        def on_postgresql(people, played):
            with Session(engine) as session:
                check(session, people, played)
                session.rollback()
            with engine.begin() as conn:  # nothing committed, but be sure
                conn.execute(text("select 1"))
        on_postgresql()
