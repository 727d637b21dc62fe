"""The same attempt_passed events through the bus (ranking's batching handler, one statement a
batch), then replayed under new event ids and redelivered, then the board rebuilt from
attempts' export (one record at a time, each member restated): the boards and every member's
ranks stay the same."""
import random
from datetime import timedelta

from nameko.standalone.events import event_dispatcher
from sqlalchemy import create_engine, text

from kernel import clock, events
from tests.service.helpers import call
from tests.service.test_ranking_months import (  # noqa: F401 (the fixture)
    PLACES, START, board, pass_data, publish, register, world,
)
from tests.thin_path import wait_for


def processed(config):
    engine = create_engine(config["RANKING_DATABASE_URL"])
    with engine.connect() as conn:
        count = conn.execute(text("select count(*) from processed_events "
                                  "where consumer = 'on_attempt_passed'")).scalar()
    engine.dispose()
    return count


def views(world, members):
    boards = {scope: board(world, scope, "c") for scope in ("system", "fed", "u1", "b1", "u2")}
    ranks = {m: call(world["container"], "my_rank", m, "c") for m in members}
    return boards, ranks


def test_replayed_and_rebuilt_passes_leave_the_same_boards(world):
    publish(world, "c")
    members = [f"m{i}" for i in range(15)]
    for i, member in enumerate(members):
        register(world, member, PLACES[i % 3])
    rng, runs, stream = random.Random(20), {}, []
    for i in range(120):
        member = rng.choice(members)
        run = f"{member}-r{rng.randrange(2)}"
        levels, total = runs.get(run, (0, 0))
        runs[run] = levels, total = levels + 1, total + rng.choice([60_000, 90_000, 90_001])
        data = pass_data("c", member, run, levels, total,
                         START + timedelta(minutes=rng.randrange(20_000)))
        world["attempts"].passes.append(data)
        stream.append(events.build("attempts", "attempt_passed", data, clock.current().now()))
    dispatch = event_dispatcher(world["config"])
    for body in stream + stream[:30]:  # some delivered twice
        dispatch("attempts", "attempt_passed", body)
    wait_for(lambda: processed(world["config"]) == len(stream), timeout=30,
             what="every pass applied once")
    before = views(world, members)
    assert before[0]["system"]["total"] == len({p["member_id"] for p in world["attempts"].passes})

    for body in stream:  # replayed: the same passes under new event ids
        dispatch("attempts", "attempt_passed", dict(body, event_id=events.build(
            "attempts", "attempt_passed", world["attempts"].passes[0],
            clock.current().now())["event_id"]))
    wait_for(lambda: processed(world["config"]) == 2 * len(stream), timeout=30,
             what="the replay applied")
    assert views(world, members) == before

    result = call(world["container"], "rebuild", "c", 25)
    assert result["passes"] == len(stream)
    assert views(world, members) == before
