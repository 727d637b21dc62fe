"""The asynchronous consumers of a submit, on RabbitMQ and PostgreSQL, next to a no-op handler
on the same broker in the same run (issue 20, target 3: ranking's ingest ≥ 0.5× the no-op).

    .venv/bin/python bench/ingest.py [--events 2000] [--repeat 3]

Each variant: the handler's queue is declared, `--events` events are published into it while
nothing consumes, then the service starts; from when it has started until every event is
applied (ranking's and question_bank's `processed_events`, the no-op's counter), the events
applied in that time over it. So a figure is the consumer's rate alone, publishing and the
container's start aside. Variants, in turn, `--repeat` times (median shown):
- no-op: a nameko event handler doing nothing (prefetch 10, as every service's handler);
- ranking, one event per transaction as before batching (handles_once + boards.apply_pass:
  the claim, the record, the standing locked and restated from the member's records);
- ranking, EVENT_BATCH_SIZE=1: one statement per event (claim, record, upsert "only if
  better"), one transaction each;
- ranking, batched (EVENT_BATCH_SIZE / EVENT_BATCH_WAIT_MS defaults): one statement a batch;
- question_bank's statistics: one event per transaction with the ORM as before batching
  (each of the paper's 20 question rows read and written), EVENT_BATCH_SIZE=1, batched.
Needs RabbitMQ (`AMQP_URI`) and PostgreSQL (`DATABASE_URL`); a vhost and a database of its
own, dropped after. The machine's load (`uptime`) is printed: the figures are only comparable
within one run.
"""
import warnings

warnings.filterwarnings("ignore")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kombu import Connection, Exchange  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from kernel import events  # noqa: E402
from kernel.entrypoints import event_handler  # noqa: E402
from kernel.migrations import upgrade  # noqa: E402
from kernel.uow import handles_once  # noqa: E402
from services.question_bank import statistics as stats  # noqa: E402
from services.question_bank.models import LevelMemberStat, QuestionStat  # noqa: E402
from services.question_bank.service import QuestionBankService  # noqa: E402
from services.ranking import boards  # noqa: E402
from services.ranking.service import RankingService  # noqa: E402
from tests.infra import pg_database, rabbit_vhost  # noqa: E402

from bench.ranking import SEEN, NoOp  # noqa: E402  (a nameko handler doing nothing)

T0 = datetime(2018, 4, 2, 1, 0, tzinfo=timezone.utc)
EXCHANGE = Exchange("attempts.events", type="topic", durable=True)
QUESTIONS = [f"q{i:03d}" for i in range(200)]


class RankingBefore(RankingService):
    """ranking's handler before batching: one event per transaction, restated by the ORM."""

    @event_handler("attempts", "attempt_passed")
    @handles_once
    def on_attempt_passed(self, tx, event):
        boards.apply_pass(tx, event["data"])


class StatisticsBefore(QuestionBankService):
    """question_bank's handler before batching: per event, the member's row and each of the
    paper's question rows read and written through the ORM."""

    @event_handler("attempts", "attempt_passed")
    @handles_once
    def on_attempt_passed(self, tx, event):
        data = event["data"]
        key = (data["campaign_id"], data["level"], data["member_id"])
        member = tx.session.get(LevelMemberStat, key)
        if member is None:
            member = LevelMemberStat(campaign_id=key[0], level=key[1], member_id=key[2],
                                     attempts=0, passes=0, expired=0)
            tx.session.add(member)
        member.attempts += 1
        member.passes += 1
        if member.attempts_to_first_pass is None:
            member.attempts_to_first_pass = member.attempts
        ids, wrong = data["question_ids"], set(data["wrong_question_ids"])
        right_total = len(ids) - len(wrong & set(ids))
        held = tx.store.question_stats(ids)
        for question_id in ids:
            stat = held.get(question_id)
            if stat is None:
                stat = QuestionStat(question_id=question_id, campaign_id=key[0], level=key[1],
                                    shown=0, graded=0, right=0, sum_rest=0, sum_rest_sq=0,
                                    sum_right_rest=0)
                tx.session.add(stat)
            right = question_id not in wrong
            stats.add(stat, right, right_total - (1 if right else 0))


def bodies(count, seed):
    """`attempt_passed` of 500 members, each pass a level more of the member's run."""
    rng, runs, out = random.Random(seed), {}, []
    for i in range(count):
        member = f"m{i % 500}"
        levels, total = runs.get(member, (0, 0))
        levels, total = levels + 1, total + rng.randint(60_000, 300_000)
        runs[member] = (levels, total)
        at = T0 + timedelta(seconds=i)
        out.append(events.build("attempts", "attempt_passed", {
            "attempt_id": f"a{seed}-{i}", "member_id": member, "campaign_id": "c",
            "run_id": f"r{seed}-{member}", "run_number": 1, "level": levels,
            "started_at": at, "submitted_at": at, "duration_ms": 60_000,
            "run_levels_passed": levels, "run_total_ms": total,
            "question_ids": rng.sample(QUESTIONS, 20), "wrong_question_ids": []}, at))
    return out


def publish(uri, batch):
    with Connection(uri) as conn:
        producer = conn.Producer(exchange=EXCHANGE, serializer="json")
        for body in batch:
            producer.publish(body, routing_key="attempt_passed", delivery_mode=2)


def applied(url, schema):
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})

    def count():
        with engine.connect() as conn:
            return conn.execute(text("select count(*) from processed_events "
                                     "where consumer = 'on_attempt_passed'")).scalar()
    return count


def seed_statistics(url):
    """Every question's row there already (a month in): the ORM handler of before creates a
    missing one with a plain INSERT, and two of them at once fail each other (five times,
    then the event goes to its dead letters), which the batched upsert does not."""
    engine = create_engine(url, connect_args={"options": "-csearch_path=question_bank"})
    with engine.begin() as conn:
        conn.execute(QuestionStat.__table__.insert(), [
            {"question_id": q, "campaign_id": "c", "level": 1, "shown": 0, "graded": 0,
             "right": 0, "sum_rest": 0, "sum_rest_sq": 0, "sum_right_rest": 0}
            for q in QUESTIONS])
    engine.dispose()


def consume(cls, config, batch, done):
    """Declare the queue, fill it, then time the service draining it."""
    declare = ServiceContainer(cls, config)
    declare.start()
    declare.stop()
    publish(config["AMQP_URI"], batch)
    container = ServiceContainer(cls, config)
    starting = time.perf_counter()
    container.start()  # the clock starts once it consumes (its start is not the handler's)
    began, before = time.perf_counter(), done()
    while done() < len(batch):
        eventlet.sleep(0.02)
        if time.perf_counter() - began > 600:
            raise SystemExit(f"{cls.__name__}: not done after 600 s")
    took = time.perf_counter() - began
    container.stop()
    if before > len(batch) / 2:  # too few events to time after the start: count it in
        return len(batch) / (took + began - starting)
    return (len(batch) - before) / took


def variants(config, url, count):
    ranking, bank = applied(url, "ranking"), applied(url, "question_bank")
    one = dict(config, EVENT_BATCH_SIZE=1)

    def noop(batch):
        SEEN["n"] = 0
        return consume(NoOp, config, batch, lambda: SEEN["n"])

    def until(counter, cls, conf):
        def run(batch):
            start = counter()
            return consume(cls, conf, batch, lambda: counter() - start)
        return run

    return {
        "no-op handler (baseline)": noop,
        "ranking, one event a transaction (before)": until(ranking, RankingBefore, config),
        "ranking, one statement an event (EVENT_BATCH_SIZE=1)": until(ranking,
                                                                       RankingService, one),
        "ranking, batched": until(ranking, RankingService, config),
        "statistics, one event a transaction, ORM (before)": until(bank, StatisticsBefore,
                                                                     config),
        "statistics, EVENT_BATCH_SIZE=1": until(bank, QuestionBankService, one),
        "statistics, batched": until(bank, QuestionBankService, config),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with contextlib.contextmanager(pg_database)() as url, \
            contextlib.contextmanager(rabbit_vhost)() as uri:
        config = {"AMQP_URI": uri, "DATABASE_URL": url, "MONTH_CLOSE_CHECK_SECONDS": 3600,
                  "SMS_BACKEND": "log"}
        upgrade(config, ["ranking", "question_bank"])
        seed_statistics(url)
        runs = variants(config, url, args.events)
        rates = {name: [] for name in runs}
        for round_ in range(args.repeat):
            for i, (name, run) in enumerate(runs.items()):
                rates[name].append(run(bodies(args.events, round_ * 10 + i)))
                print(f"  {name}: {rates[name][-1]:,.0f}/s", file=sys.stderr, flush=True)
    base = statistics.median(rates["no-op handler (baseline)"])
    print(f"{args.events} attempt_passed a run, RabbitMQ + PostgreSQL, median of "
          f"{args.repeat}; before: {load}")
    print(f"after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    for name, figures in rates.items():
        rate = statistics.median(figures)
        print(f"{name:55s} {rate:8,.0f} events/s  {rate / base:5.2f}x the no-op  "
              f"(runs: {', '.join(f'{f:,.0f}' for f in figures)})")


if __name__ == "__main__":
    main()
