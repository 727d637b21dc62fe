"""examples/subscriber.py (pika, no nameko) against the distributed platform on RabbitMQ, at a
month's end: it starts before anything is published, a member passes level 1 in the last
minute of May (Shanghai), ranking's timer closes May after its cutoff, awards grants May's
awards, and the subscriber prints the member's `attempt_passed` and both `award_granted`,
each event once, naming the winner. The platform's processes log one JSON object a line."""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.distributed import ROOT
from tests.thin_path import play

MAY_CUTOFF = datetime(2018, 5, 31, 15, 59, 59, 999000, tzinfo=timezone.utc)  # 23:59:59.999 +08
MONTH_END = {"play_at": MAY_CUTOFF - timedelta(seconds=50),
             "env": {"CHALLENGE_SETTLE_SECONDS": "1", "MONTH_CLOSE_CHECK_SECONDS": "2",
                     "LOG_LEVEL": "INFO"}}


@pytest.mark.parametrize("platform", [MONTH_END], indirect=True)
def test_the_example_subscriber_prints_passes_and_awards_once(platform, tmp_path):
    uri = platform["env"]["AMQP_URI"]
    out = open(tmp_path / "subscriber.out", "w+")
    subscriber = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "examples", "subscriber.py"), "--amqp-uri", uri,
         "--queue", "agency-test", "--max-events", "3"],
        stdout=out, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on agency-test" in subscriber.stderr.readline()
        with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
            demo.load(rpc)
        members = demo.member_rows()
        outcome = play(platform["base"], platform["sms"], members[1]["phone"],
                       members[2]["phone"])
        subscriber.wait(timeout=120)  # May closes ~50 s after the play began
    finally:
        if subscriber.poll() is None:
            subscriber.terminate()
            subscriber.wait(timeout=10)
    assert subscriber.returncode == 0, subscriber.stderr.read()[-2000:]
    out.seek(0)
    printed = [json.loads(line) for line in out if line.strip()]
    assert len({e["event_id"] for e in printed}) == len(printed) == 3
    winner = outcome["winner"]["member_id"]
    [passed] = [e for e in printed if e["type"] == "attempt_passed"]
    assert passed["producer"] == "attempts" and passed["version"] == 1
    assert passed["data"]["member_id"] == winner and passed["data"]["level"] == 1
    assert datetime.fromisoformat(passed["data"]["submitted_at"]) <= MAY_CUTOFF
    awards = [e for e in printed if e["type"] == "award_granted"]
    assert {(a["data"]["period"], a["data"]["kind"], a["data"]["member_id"])
            for a in awards} == {("2018-05", "monthly_champion", winner),
                                 ("2018-05", "monthly_prize", winner)}
    assert all(a["producer"] == "awards" for a in awards)
    text = json.dumps(printed, ensure_ascii=False)
    assert not any(m["phone"] in text for m in members)  # masked phones only
    # the winner is named (issue 22): on the events, and by the subscriber
    name = outcome["winner"]["name"]
    assert all(a["data"]["member"]["name"] == name for a in awards)
    assert all(a["data"]["member"]["phone_masked"] == outcome["winner"]["phone_masked"]
               for a in awards)
    named = [line for line in subscriber.stderr.read().splitlines() if line.startswith("award")]
    assert len(named) == 2 and all(name in line for line in named), named

    # every process logs one JSON object a line (deploy/config.yaml, LOG_FORMAT=json)
    checked = []
    for log in platform["logs"].glob("*service.log"):
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        assert entries and len(entries) == len(lines), (log.name, lines[:3])
        checked.append(log.name)
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert len(checked) == 6
