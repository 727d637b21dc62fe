"""One rule for times in events (docs/events.md): UTC, `+00:00`, to the millisecond, whatever
zone the producer computed them in; and the AMQP properties every event is published with."""
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from kernel import asyncapi, events
from kernel.outbox import properties
from services.ranking.rules import cutoff


def test_a_month_closed_computed_in_shanghai_says_its_cutoff_in_utc():
    shanghai = timezone(timedelta(hours=8))
    body = events.build("ranking", "month_closed", {
        "campaign_id": "c", "month": "2018-03", "cutoff": cutoff("2018-03", "Asia/Shanghai"),
        "snapshot_id": "s", "ranked_members": 0}, datetime(2018, 4, 1, 8, 0, tzinfo=shanghai))
    assert body["data"]["cutoff"] == "2018-03-31T15:59:59.999+00:00"
    assert body["occurred_at"] == "2018-04-01T00:00:00.000+00:00"
    documented = asyncapi.example("ranking", "month_closed")
    assert len(body["data"]["cutoff"]) == len(documented["data"]["cutoff"])
    assert documented["data"]["cutoff"].endswith("+00:00")


def test_every_documented_time_is_utc_to_the_millisecond():
    text = asyncapi.render_markdown()
    assert "+08:00" not in text
    started = asyncapi.example("attempts", "attempt_started")
    for value in (started["occurred_at"], started["data"]["started_at"],
                  started["data"]["deadline"]):
        assert value.endswith("+00:00") and len(value) == len("2018-03-12T01:30:02.114+00:00")
    # a time received in another zone loads as the same instant
    loaded = events.parse(dict(started, data=dict(
        started["data"], started_at="2018-03-12T09:30:02.114+08:00")))
    assert loaded["data"]["started_at"] == datetime(2018, 3, 12, 1, 30, 2, 114000,
                                                    tzinfo=ZoneInfo("UTC"))


def test_every_event_is_published_with_its_id_type_time_and_producer():
    body = asyncapi.example("awards", "award_granted")
    row = SimpleNamespace(event_id=body["event_id"], type="award_granted",
                          body=json.dumps(body))
    assert properties("awards", row) == {
        "message_id": body["event_id"], "type": "award_granted",
        "timestamp": int(datetime.fromisoformat(body["occurred_at"]).timestamp()),
        "app_id": "awards", "content_type": "application/json", "content_encoding": "utf-8",
        "delivery_mode": 2}
    assert "vhost" not in json.dumps(asyncapi.document())
