"""Events another agency can rely on from day one (issue 22, items 1, 3 and 4), on the
distributed platform over RabbitMQ and PostgreSQL, started 45 s before April's cutoff:

- right after start, before any producer has published, a passive declare of each of the
  five documented exchanges succeeds (a read-only agency user binds, never declares);
- a real `month_closed` carries its times and AMQP properties as docs/asyncapi.yaml's
  example does (UTC `+00:00`, milliseconds; message_id = event_id, type, timestamp, app_id);
- a late subscriber, whose queue did not exist when March and April closed, asks for a
  replay (the administrators' endpoint for ranking, the CLI for awards) and receives March's
  and April's `month_closed` and April's awards, in order, with their original event ids."""
import json
import os
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
import yaml
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from kernel.settings import SERVICES
from tests.distributed import BIN, ROOT
from tests.thin_path import login, play

APRIL_CUTOFF = datetime(2018, 4, 30, 15, 59, 59, 999000, tzinfo=timezone.utc)  # 23:59:59.999+08
MONTH_END = {"play_at": APRIL_CUTOFF - timedelta(seconds=45),
             "env": {"CHALLENGE_SETTLE_SECONDS": "1", "MONTH_CLOSE_CHECK_SECONDS": "2"}}
SINCE = "2018-03-01T00:00:00+00:00"


def exchanges_missing(uri) -> list[str]:
    missing = []
    with Connection(uri) as conn:
        for service in SERVICES:
            channel = conn.channel()
            try:
                channel.exchange_declare(exchange=f"{service}.events", type="topic",
                                         passive=True)
            except Exception:  # noqa: BLE001 - 404 NOT_FOUND closes the channel
                missing.append(f"{service}.events")
            finally:
                try:
                    channel.close()
                except Exception:  # noqa: BLE001
                    pass
    return missing


def take(conn, queue, count, timeout=60.0) -> list:
    """`count` messages of `queue` (acked), in arrival order."""
    channel, out, end = conn.channel(), [], time.monotonic() + timeout
    while len(out) < count and time.monotonic() < end:
        raw = channel.basic_get(queue=queue, no_ack=True)
        if raw is None:
            time.sleep(0.2)
            continue
        out.append(channel.message_to_python(raw))
    assert len(out) == count, f"{queue}: {len(out)} of {count} messages"
    return out


def shape(instant: str) -> str:
    return re.sub(r"\d", "9", instant)


def documented(type_) -> dict:
    with open(os.path.join(ROOT, "docs", "asyncapi.yaml"), encoding="utf-8") as handle:
        message = yaml.safe_load(handle)["components"]["messages"][type_]
    return message


@pytest.mark.parametrize("platform", [MONTH_END], indirect=True)
def test_a_late_subscriber_gets_march_and_april_from_a_replay(platform):
    uri = platform["env"]["AMQP_URI"]
    assert exchanges_missing(uri) == []  # before any event of any producer

    with Connection(uri) as conn:
        channel = conn.channel()
        channel.queue_declare(queue="agency-live", durable=True, auto_delete=False)
        for exchange, key in (("ranking.events", "month_closed"),
                              ("awards.events", "award_granted")):
            channel.queue_bind(queue="agency-live", exchange=exchange, routing_key=key)
        with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
            demo.load(rpc)  # the campaign: ranking closes March at once
        members = demo.member_rows()
        play(platform["base"], platform["sms"], members[1]["phone"], members[2]["phone"])
        live = take(conn, "agency-live", 4, timeout=120)  # March, April, April's two awards
        bodies = [json.loads(m.body) for m in live]
        assert sorted((b["type"], b["data"].get("month") or b["data"]["period"])
                      for b in bodies) == [("award_granted", "2018-04")] * 2 + [
            ("month_closed", "2018-03"), ("month_closed", "2018-04")]

        # item 4: a real message's times and properties as documented
        closed = next(m for m in live if json.loads(m.body)["type"] == "month_closed")
        body, example = json.loads(closed.body), documented("month_closed")
        sample = example["examples"][0]["payload"]
        assert shape(body["occurred_at"]) == shape(sample["occurred_at"])
        assert shape(body["data"]["cutoff"]) == shape(sample["data"]["cutoff"])
        assert body["data"]["cutoff"] == "2018-03-31T15:59:59.999+00:00"
        assert closed.properties["message_id"] == body["event_id"]
        assert closed.properties["type"] == example["bindings"]["amqp"]["messageType"]
        assert closed.properties["app_id"] == body["producer"] == "ranking"
        assert closed.properties["timestamp"] == int(
            datetime.fromisoformat(body["occurred_at"]).timestamp())
        assert closed.content_type == example["contentType"]
        assert closed.content_encoding == example["bindings"]["amqp"]["contentEncoding"]
        assert closed.properties["delivery_mode"] == example["bindings"]["amqp"]["deliveryMode"]

        # item 3: the late subscriber's queue exists now, bound to nothing
        channel.queue_declare(queue="agency-late", durable=True, auto_delete=False)
        auth, _ = login(platform["base"], platform["sms"], demo.SYSTEM_ADMIN_PHONE)
        r = requests.post(f"{platform['base']}/api/v1/admin/events/replay", headers=auth,
                          json={"service": "ranking", "since": SINCE, "type": "month_closed",
                                "queue": "agency-late"}, timeout=30)
        assert r.status_code == 200 and r.json() == {"replayed": 2}, r.text
        dry = cli(platform, "--dry-run")
        assert dry.returncode == 0 and "2 event(s) would replay" in dry.stdout, dry
        done = cli(platform)
        assert done.returncode == 0 and "2 event(s) replayed" in done.stdout, done
        late = take(conn, "agency-late", 4, timeout=30)
        assert channel.queue_declare(queue="agency-late", passive=True).message_count == 0
        live_by_type = {t: [b for b in bodies if b["type"] == t]
                        for t in ("month_closed", "award_granted")}
        replayed = [json.loads(m.body) for m in late]
        # in order, the same bodies (and event ids) the live subscriber had
        assert replayed[:2] == live_by_type["month_closed"]
        assert replayed[2:] == live_by_type["award_granted"]
        assert all(m.properties["message_id"] == json.loads(m.body)["event_id"] for m in late)
        # a queue that does not exist is refused, not silently dropped
        r = requests.post(f"{platform['base']}/api/v1/admin/events/replay", headers=auth,
                          json={"service": "awards", "since": SINCE, "queue": "no-such"},
                          timeout=30)
        assert r.status_code == 404 and r.json()["error"]["reason"] == "queue_not_found"


def cli(platform, *extra):
    return subprocess.run(
        [f"{BIN}/challenge", "events", "replay", "--exchange", "awards.events", "--since",
         SINCE, "--type", "award_granted", "--to-queue", "agency-late", *extra],
        env=platform["env"], cwd=ROOT, capture_output=True, text=True, timeout=60)
