"""The in-memory bus (kernel/bus.py): a container stops without the second kombu's consumer
loop used to wait, an idle consumer sleeps instead of polling, and a message put after a
quiet spell still arrives at once."""
import time

import pytest
from kombu.transport import memory
from nameko.events import event_handler
from nameko.rpc import RpcProxy, rpc
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter

from kernel import bus
from tests.service.helpers import call


class Echo:
    name = "echo"

    @rpc
    def echo(self, value):
        return value

    @event_handler("roster", "member_deactivated")
    def on_deactivated(self, payload):
        return payload


class Caller:
    """Holds a reply listener too, the other kind of consumer on the bus."""

    name = "caller"
    echo = RpcProxy("echo")

    @rpc
    def relay(self, value):
        return self.echo.echo(value)


@pytest.fixture
def config():
    bus.reset()
    return {"AMQP_URI": bus.EMBEDDED_URI}


@pytest.fixture
def running(container_factory, config):
    echo, caller = container_factory(Echo, config), container_factory(Caller, config)
    echo.start()
    caller.start()
    assert call(caller, "relay", 1) == 1  # both consumers are up and have carried a call
    return echo, caller


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_a_container_stops_at_once(running, how):
    for container in running:
        started = time.monotonic()
        getattr(container, how)()
        assert time.monotonic() - started < 0.3  # was ~1 s each: kombu's safety interval


def test_idle_consumers_sleep_instead_of_polling(running, monkeypatch):
    looks = []
    look = memory.Channel._get

    def counted(self, queue, timeout=None):
        looks.append(queue)
        return look(self, queue, timeout)

    monkeypatch.setattr(memory.Channel, "_get", counted)
    time.sleep(1.0)
    assert len(looks) < 20  # was ~200 a second per consumer: a look every 5 ms


def test_a_message_after_a_quiet_spell_arrives_at_once(running, config):
    echo, caller = running
    time.sleep(0.5)  # every consumer is asleep
    started = time.monotonic()
    assert call(caller, "relay", "hello") == "hello"
    with entrypoint_waiter(echo, "on_deactivated"):
        event_dispatcher(config)("roster", "member_deactivated", {"member_id": "m1"})
    assert time.monotonic() - started < 0.2
