"""The batching handlers' statements on PostgreSQL leave what one event at a time leaves:
ranking's passes (one statement per batch: the claim, the records and the standings' upsert
as CTEs; tests/unit/test_ranking_ingest.py's streams, the reference applied on SQLite) and
question_bank's statistics (one upsert per table a batch; tests/unit/
test_question_bank_batched_stats.py's attempts)."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from kernel.migrations import upgrade
from tests.unit import test_question_bank_batched_stats as stats
from tests.unit.test_ranking_ingest import compare, sqlite_sessions


def sessions(pg_url, schema, tables):
    upgrade({"DATABASE_URL": pg_url}, [schema])
    engine = create_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})

    def make():
        with engine.begin() as conn:
            conn.execute(text(f"truncate {tables}"))
        return Session(engine)

    return engine, make


@pytest.mark.parametrize("seed", range(5))
def test_one_statement_per_batch_leaves_the_standings_of_one_event_at_a_time(pg_url, seed):
    engine, make = sessions(pg_url, "ranking", "standings, pass_records, processed_events")
    compare(sqlite_sessions(), make, seed)
    engine.dispose()


@pytest.mark.parametrize("seed", range(2))
def test_statistics_folded_a_batch_at_a_time_equal_one_at_a_time(pg_url, seed):
    engine, make = sessions(pg_url, "question_bank", "question_stats, level_member_stats")
    stats.compare(stats.sqlite_sessions(), make, seed)
    engine.dispose()
