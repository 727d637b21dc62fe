"""Many rows in one write, for the batching handlers (kernel/batching.py): an INSERT … ON
CONFLICT of a list of rows, and the claim of a batch's event ids.

PostgreSQL: one statement whatever the number of rows (the rows as one JSON parameter,
`jsonb_to_recordset`), its text built once per table and columns. SQLite (the embedded mode,
the tests): the same SQL executed for each row (`executemany`, in process). SQLAlchemy's
dialect `insert(...).on_conflict_…` constructs are not cached: each execution compiled
again, a few milliseconds a statement, more than the write."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql

from kernel import clock as clocks

_SQL: dict = {}


def dialect(session) -> str:
    return session.get_bind().dialect.name


def upsert(session, table, rows: list[dict], conflict: str, where: str = "") -> None:
    """INSERT `rows` (dicts of the same columns) into `table`; `conflict`: what follows
    `ON CONFLICT` (`(key) DO UPDATE SET "col" = <table>."col" + excluded."col"`, `DO NOTHING`;
    quote the columns: `right` is a keyword);
    `where`: a condition on the upsert (SQL naming the held row by the table's name)."""
    if not rows:
        return
    columns = tuple(rows[0])
    name = dialect(session)
    key = (table.name, columns, conflict, where, name)
    if key not in _SQL:
        _SQL[key] = _statement(table, columns, conflict, where, name)
    if name == "postgresql":
        session.execute(_SQL[key], {"rows": json.dumps(rows, default=_json)})
    else:
        session.execute(_SQL[key], rows)


def _statement(table, columns, conflict, where, name):
    names = ", ".join(f'"{c}"' for c in columns)  # quoted: a column may be `right`
    tail = f" ON CONFLICT {conflict}" + (f" WHERE {where}" if where else "")
    if name == "postgresql":
        types = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=postgresql.dialect())}'
                          for c in columns)
        return text(f"INSERT INTO {table.name} AS {table.name} ({names}) SELECT {names} FROM "
                    f"jsonb_to_recordset(CAST(:rows AS jsonb)) AS d({types}){tail}")
    values = ", ".join(f":{c}" for c in columns)
    return text(f"INSERT INTO {table.name} ({names}) VALUES ({values}){tail}").bindparams(
        *(bindparam(c, type_=table.c[c].type) for c in columns))  # UTCDateTime's binding


def _json(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{value!r} in a row")


_CLAIM = text("INSERT INTO processed_events (event_id, consumer, processed_at) "
              "SELECT unnest(CAST(:ids AS text[])), :consumer, :now "
              "ON CONFLICT DO NOTHING RETURNING event_id")


def claim_all(session, table, event_ids, consumer) -> set[str]:
    """Mark each event applied by `consumer`; the ids it had not applied before. One
    statement on PostgreSQL (a concurrent worker claiming one of them first: this insert
    waits for its commit and skips it); on SQLite the held ones are read, the others
    inserted (a concurrent claim fails the insert, and the batch is run again)."""
    ids = sorted(set(event_ids))  # one order for every worker: no deadlock between two
    if not ids:
        return set()
    now = clocks.current().now()
    if dialect(session) == "postgresql":
        return set(session.scalars(_CLAIM, {"ids": ids, "consumer": consumer, "now": now}))
    held = set(session.scalars(select(table.c.event_id).where(
        table.c.consumer == consumer, table.c.event_id.in_(ids))))
    fresh = [i for i in ids if i not in held]
    if fresh:
        session.execute(table.insert(), [{"event_id": i, "consumer": consumer,
                                          "processed_at": now} for i in fresh])
    return set(fresh)
