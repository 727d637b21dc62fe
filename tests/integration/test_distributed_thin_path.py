"""The thin path in the distributed mode: each service and the gateway in its own
`nameko run` process, on real RabbitMQ and PostgreSQL (one database, a schema per service),
configured only from the environment through deploy/config.yaml (the `platform` fixture in
tests/integration/conftest.py)."""
import json

from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from challenge import demo
from tests.thin_path import play, wait_for


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
