"""ranking's ingest of passes, part of its store (store.py `record_passes`): a batch of
`attempt_passed` events applied with set-based statements instead of ~9 ORM round trips each.

For each event: claim its id for the consumer (a redelivery is skipped), add its pass record
unless the (run, levels) is held (a replayed or duplicated pass changes nothing), and raise
the member's standing to that record when it is ahead of the standing in R13's order. The
standing is the best of the member's records (R8) because it only ever moves to a better
record here, and a regrade restates it from the records (boards.restate).

PostgreSQL: one statement per batch, whatever its size: the rows as one JSON parameter, the
claim, the records and the upsert as data-modifying CTEs. The upsert's `WHERE` is evaluated
against the row as committed by a concurrent writer (ON CONFLICT locks it), so two passes of
one member in two batches leave the better one, without the `SELECT … FOR UPDATE`.
SQLite (the embedded mode, the tests): the same three steps as three multi-row statements.
"""
from __future__ import annotations

import json

from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects import postgresql

from kernel import clock as clocks
from kernel import r13
from kernel.upsert import claim_all, upsert

from .models import PassRecord, Standing, processed_events

_FIELDS = ("levels", "total_ms", "at", "member_id")


def _ahead(new: dict):
    """`new` (columns) ahead of the held standing in R13's order (kernel/r13.py)."""
    return r13.ahead_of(new, Standing.__table__.c)


_AHEAD_SQL = str(_ahead({f: literal_column(f"excluded.{f}") for f in _FIELDS}).compile(
    dialect=postgresql.dialect()))

_DATA = """
data AS (
    SELECT * FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS (
        event_id text, run_id text, levels int, member_id text, campaign_id text,
        total_ms int, at timestamptz, attempt_id text)) WITH ORDINALITY AS d(
        event_id, run_id, levels, member_id, campaign_id, total_ms, at, attempt_id, n)
)"""

_CLAIMED = """,
claimed AS (
    INSERT INTO processed_events (event_id, consumer, processed_at)
    SELECT DISTINCT event_id, :consumer, :now FROM data
    ON CONFLICT DO NOTHING
    RETURNING event_id
),
fresh AS (SELECT data.* FROM data JOIN claimed USING (event_id))"""

_UNCLAIMED = """,
fresh AS (SELECT * FROM data)"""

_REST = """,
recorded AS (
    INSERT INTO pass_records (run_id, levels, member_id, campaign_id, total_ms, at, attempt_id)
    SELECT DISTINCT ON (run_id, levels)
           run_id, levels, member_id, campaign_id, total_ms, at, attempt_id
    FROM fresh ORDER BY run_id, levels, n
    ON CONFLICT DO NOTHING
    RETURNING run_id, levels, member_id, campaign_id, total_ms, at
),
best AS (
    SELECT DISTINCT ON (campaign_id, member_id)
           campaign_id, member_id, levels, total_ms, at, run_id
    FROM recorded ORDER BY campaign_id, member_id, levels DESC, total_ms, at, run_id
),
raised AS (
    INSERT INTO standings AS standings (campaign_id, member_id, levels, total_ms, at, run_id)
    SELECT campaign_id, member_id, levels, total_ms, at, run_id FROM best
    ORDER BY campaign_id, member_id
    ON CONFLICT (campaign_id, member_id) DO UPDATE
    SET levels = excluded.levels, total_ms = excluded.total_ms, at = excluded.at,
        run_id = excluded.run_id
    WHERE """ + _AHEAD_SQL + """
    RETURNING 1
)
SELECT (SELECT count(*) FROM recorded)"""

PG_CLAIMED = text("WITH" + _DATA + _CLAIMED + _REST)
PG_UNCLAIMED = text("WITH" + _DATA + _UNCLAIMED + _REST)


def record_passes(session, passes: list[dict], consumer=None, now=None) -> int:
    if not passes:
        return 0
    now = now or clocks.current().now()
    if session.get_bind().dialect.name == "postgresql":
        rows = json.dumps([dict(p, at=p["at"].isoformat()) for p in passes])
        if consumer is None:
            return session.execute(PG_UNCLAIMED, {"rows": rows}).scalar()
        return session.execute(PG_CLAIMED, {"rows": rows, "consumer": consumer,
                                            "now": now}).scalar()
    return _record_passes_portable(session, passes, consumer, now)


def _record_passes_portable(session, passes, consumer, now) -> int:
    """The same three steps in cached statements (SQLite: the embedded mode, the tests)."""
    if consumer is not None:
        claimed = claim_all(session, processed_events, [p["event_id"] for p in passes],
                            consumer)
        passes = [p for p in passes if p["event_id"] in claimed]
    fresh: dict = {}
    for p in passes:  # the first of one (run, levels) in the batch, as PostgreSQL's
        fresh.setdefault((p["run_id"], p["levels"]), p)
    if not fresh:
        return 0
    table = PassRecord.__table__
    held = set(session.execute(select(table.c.run_id, table.c.levels).where(
        table.c.run_id.in_(sorted({run for run, _ in fresh})))).tuples())
    recorded = [{c: p[c] for c in _RECORD} for key, p in fresh.items() if key not in held]
    if not recorded:
        return 0
    session.execute(table.insert(), recorded)
    best: dict = {}
    for r in recorded:
        key = (r["campaign_id"], r["member_id"])
        if key not in best or _order(r) < _order(best[key]):
            best[key] = r
    upsert(session, Standing.__table__,
           [{c: r[c] for c in _STANDING} for _, r in sorted(best.items())],
           "(campaign_id, member_id) DO UPDATE SET " + ", ".join(
               f"{c} = excluded.{c}" for c in ("levels", "total_ms", "at", "run_id")),
           where=_AHEAD_SQL)
    return len(recorded)


_RECORD = ("run_id", "levels", "member_id", "campaign_id", "total_ms", "at", "attempt_id")
_STANDING = ("campaign_id", "member_id", "levels", "total_ms", "at", "run_id")


def _order(record):
    """R13's order of two records of one member (then the run, as PostgreSQL's DISTINCT ON)."""
    return r13.key(record["levels"], record["total_ms"], record["at"]) + (record["run_id"],)
