"""The thin path in the distributed mode: each service and the gateway in its own
`nameko run` process, on real RabbitMQ and PostgreSQL (one database, a schema per service),
configured only from the environment through deploy/config.yaml."""
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.thin_path import play, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MODULES = ["services.roster.service", "services.question_bank.service",
           "services.attempts.service", "services.ranking.service",
           "services.awards.service", "gateway.service"]
PLAY_AT = datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc)  # levels 1–3 open


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def platform(amqp_vhost_uri, pg_url, tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        AMQP_URI=amqp_vhost_uri,
        DATABASE_URL=pg_url,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        SMS_BACKEND="file",
        SMS_FILE=str(tmp_path / "codes.log"),
        CHALLENGE_SECRET="integration-secret",
        CHALLENGE_CLOCK_OFFSET_SECONDS=str(
            (PLAY_AT - datetime.now(timezone.utc)).total_seconds()),
        OUTBOX_POLL_SECONDS="0.1",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    subprocess.run([f"{BIN}/challenge", "migrate"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    procs, logs = [], []
    for module in MODULES:
        log = open(tmp_path / f"{module}.log", "w+")
        logs.append((module, log))
        procs.append(subprocess.Popen(
            [f"{BIN}/nameko", "run", "--config", "deploy/config.yaml", module],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))
    base = f"http://127.0.0.1:{port}"
    try:
        def ready():
            for module, proc in zip(MODULES, procs):
                if proc.poll() is not None:
                    raise AssertionError(f"{module} exited: {_tail(tmp_path, module)}")
            try:
                return requests.get(f"{base}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False
        wait_for(ready, timeout=60, every=0.5, what="the distributed platform to be ready")
        yield {"base": base, "env": env, "sms": env["SMS_FILE"],
               "rpc_config": {"AMQP_URI": amqp_vhost_uri}}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for module, log in logs:
            log.close()


def _tail(tmp_path, module, lines=30):
    with open(tmp_path / f"{module}.log") as f:
        return "".join(f.readlines()[-lines:])


def test_thin_path_over_rabbitmq_and_postgresql(platform):
    # an outside subscriber, as an agency would bind it (plain kombu, not nameko)
    with Connection(platform["rpc_config"]["AMQP_URI"]) as conn:
        exchange = Exchange("attempts.events", type="topic", durable=True)
        queue = Queue("agency-test-attempt-passed", exchange, routing_key="attempt_passed",
                      durable=True, auto_delete=False)
        queue(conn.channel()).declare()

        with ClusterRpcProxy(platform["rpc_config"], timeout=60) as rpc:
            loaded = demo.load(rpc)
        members = demo.member_rows()
        outcome = play(platform["base"], platform["sms"], members[1]["phone"],
                       members[2]["phone"])

        message = wait_for(lambda: queue(conn.channel()).get(no_ack=True), timeout=20,
                           what="attempt_passed on RabbitMQ")
        body = json.loads(message.body) if isinstance(message.body, (str, bytes)) else message.body
        assert body["type"] == "attempt_passed" and body["producer"] == "attempts"
        assert body["data"]["member_id"] == outcome["winner"]["member_id"]
        assert body["data"]["run_levels_passed"] == 1
        assert "phone" not in json.dumps(body["data"])
        assert loaded["campaign"]["levels"][0]["number"] == 1
