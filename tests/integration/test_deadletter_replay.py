"""On RabbitMQ: `challenge deadletters` lists a poison event, shows it without taking it,
replays nothing on a dry run, and after the handler is fixed replays the chosen event into
the queue it died in, where it is applied exactly once; an event not chosen stays."""
import json
import os
import subprocess
import sys

from nameko.standalone.events import event_dispatcher
from sqlalchemy import Column, Integer, String, create_engine, select

from challenge import deadletters
from kernel import clock, events
from kernel.db import new_base
from kernel.entrypoints import event_handler
from kernel.inbox import inbox_table
from kernel.uow import UnitOfWork, handles_once
from tests.thin_path import wait_for

Base = new_base()
inbox_table(Base.metadata)
BROKEN = {"on": True}


class Applied(Base):
    __tablename__ = "applied"
    id = Column(Integer, primary_key=True, autoincrement=True)
    member_id = Column(String(36))


class Replayed:
    name = "replayed"
    uow = UnitOfWork("replayed", Base)

    @event_handler("roster", "member_deactivated")
    @handles_once
    def on_deactivated(self, tx, event):
        if BROKEN["on"] and event["data"]["member_id"].startswith("poison"):
            raise ValueError("this handler cannot apply that event (yet)")
        tx.session.add(Applied(member_id=event["data"]["member_id"]))


QUEUE = "evt-roster-member_deactivated--replayed.on_deactivated"


def cli(uri, *args):
    done = subprocess.run([sys.executable, "-m", "challenge.cli", "deadletters", *args,
                           "--amqp-uri", uri, "--json"], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_dead_letters_are_listed_shown_and_replayed_once(container_factory, amqp_vhost_uri,
                                                         tmp_path):
    db_url = f"sqlite:///{tmp_path}/replayed.db"
    engine = create_engine(db_url)
    Base.metadata.create_all(engine)
    config = {"AMQP_URI": amqp_vhost_uri, "REPLAYED_DATABASE_URL": db_url,
              "EVENT_RETRY_SECONDS": 0.2}
    container = container_factory(Replayed, config)
    container.start()

    def applied():
        with engine.connect() as conn:
            return sorted(r.member_id for r in conn.execute(select(Applied)).all())

    dead = lambda: deadletters.counts(amqp_vhost_uri, [QUEUE])[f"dead.{QUEUE}"]  # noqa: E731
    dispatch = event_dispatcher(config)
    now = clock.current().now()
    bodies = {m: events.build("roster", "member_deactivated", {"member_id": m}, now)
              for m in ("poison-1", "poison-2", "good")}
    for body in bodies.values():
        dispatch("roster", "member_deactivated", body)
    wait_for(lambda: applied() == ["good"] and dead() == 2, timeout=20,
             what="the good event applied and both poison events dead-lettered")

    shown = cli(amqp_vhost_uri, "show", QUEUE)
    assert sorted(s["event_id"] for s in shown) == sorted(
        bodies[m]["event_id"] for m in ("poison-1", "poison-2"))
    assert {(s["type"], s["producer"], s["queue"], s["reason"]) for s in shown} == {
        ("member_deactivated", "roster", QUEUE, "rejected")}
    assert dead() == 2  # showing takes nothing

    first = bodies["poison-1"]["event_id"]
    dry = cli(amqp_vhost_uri, "replay", QUEUE, "--event-id", first, "--dry-run")
    assert [s["event_id"] for s in dry["would_replay"]] == [first] and dry["replayed"] == []
    assert dead() == 2 and applied() == ["good"]

    BROKEN["on"] = False  # the handler is fixed and redeployed
    done = cli(amqp_vhost_uri, "replay", QUEUE, "--event-id", first)
    assert [s["event_id"] for s in done["replayed"]] == [first]
    assert [s["event_id"] for s in done["stayed"]] == [bodies["poison-2"]["event_id"]]
    wait_for(lambda: applied() == ["good", "poison-1"], timeout=20, what="the replayed event")
    assert dead() == 1  # the one not chosen stays

    # replaying the same event again (say, from a copy) is deduplicated by the inbox
    dispatch("roster", "member_deactivated", bodies["poison-1"])
    everything = cli(amqp_vhost_uri, "replay", QUEUE, "--all")
    assert len(everything["replayed"]) == 1
    wait_for(lambda: applied() == ["good", "poison-1", "poison-2"], timeout=20,
             what="the last replay")
    assert dead() == 0
    container.stop()
    engine.dispose()
