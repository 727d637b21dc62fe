"""question_bank's statistics folded a batch at a time (levels.count_attempts: the batch's
sums, one upsert per table) equal the same attempts folded one at a time: random papers of a
few members, passes and failures (expired ones among them), in random batches, in order."""
import random

import pytest
from sqlalchemy import select

from services.question_bank import levels
from services.question_bank.models import Base, LevelMemberStat, QuestionStat
from services.question_bank.store import QuestionBankStore
from tests.unit import test_ranking_ingest as ranking_ingest


class Tx:
    def __init__(self, session):
        self.session, self.store = session, QuestionBankStore(session)


def attempts(seed, count=150):
    """(data, passed) in the order attempts emitted them."""
    rng = random.Random(seed)
    ids = [f"q{i:02d}" for i in range(30)]
    out = []
    for i in range(count):
        paper = rng.sample(ids, 20)
        passed = rng.random() < 0.3
        wrong = [] if passed else rng.sample(paper, rng.randint(1, 5))
        data = {"campaign_id": "c", "level": 1 + i % 2, "member_id": f"m{rng.randrange(6)}",
                "question_ids": paper, "wrong_question_ids": wrong}
        if not passed and rng.random() < 0.2:
            data["reason"] = "expired"
        out.append((data, passed))
    return out


def figures(session):
    fresh = {"populate_existing": True}
    stats = {s.question_id: (s.campaign_id, s.level, s.shown, s.graded, s.right, s.sum_rest,
                             s.sum_rest_sq, s.sum_right_rest)
             for s in session.scalars(select(QuestionStat).execution_options(**fresh))}
    members = {(m.campaign_id, m.level, m.member_id): (m.attempts, m.passes, m.expired,
                                                       m.attempts_to_first_pass)
               for m in session.scalars(select(LevelMemberStat).execution_options(**fresh))}
    return stats, members


def compare(make_one, make_batched, seed):
    stream = attempts(seed)
    rng = random.Random(seed)
    with make_one() as one, make_batched() as batched:
        for data, passed in stream:
            levels.count_attempt(Tx(one), data, passed)
        i = 0
        while i < len(stream):  # a batch holds one kind of event (one queue each)
            size = rng.choice([1, 3, 10, 50])
            batch = stream[i:i + size]
            kind = batch[0][1]
            batch = [data for data, passed in batch[:next(
                (k for k, (_, p) in enumerate(batch) if p != kind), len(batch))]]
            levels.count_attempts(Tx(batched), batch, kind)
            i += len(batch)
        assert figures(batched) == figures(one)
        assert figures(one)[1]  # members counted


def sqlite_sessions():
    return ranking_ingest.sqlite_sessions(Base)


@pytest.mark.parametrize("seed", range(4))
def test_a_batch_folds_as_its_attempts_one_at_a_time(seed):
    compare(sqlite_sessions(), sqlite_sessions(), seed)
