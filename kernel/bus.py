"""The embedded bus: kombu's in-memory transport, made fit for nameko.

Three adjustments (architecture.md, "Two ways to run"):
- kombu's virtual messages carry `content_type` outside `properties`, and nameko's RPC
  responder reads it from `properties`: the channel copies it in.
- the virtual transport polls its queues once a second by default, which makes RPC crawl,
  and polling them every few milliseconds kept an idle platform busy: here a consumer with
  nothing to take sleeps until a message is put (or acknowledged, freeing its prefetch).
- nameko's queue consumer notices a stop only between two waits for a message, and kombu
  bounds that wait by a second: every container on this bus took ~1 s to stop. Here a stop
  nudges the consumer out of its wait (install()).
Use it with `AMQP_URI=memory://localhost/` after `install()` (the embedded runner does both).
"""
import socket
from queue import Empty
from time import monotonic

from eventlet.event import Event
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import memory

IDLE_LOOK_SECONDS = 1.0  # a missed wake-up costs at most this much (none is known)


class Arrivals:
    """Wakes whoever waits for a message on this bus when one may be there to take.

    A waiter takes `next()` BEFORE looking at its queues, so a message put between its look
    and its wait still wakes it. Green threads of one hub only (as is the whole bus)."""

    def __init__(self):
        self._event = Event()

    def next(self) -> Event:
        return self._event

    def announce(self) -> None:
        event, self._event = self._event, Event()
        event.send()


arrivals = Arrivals()


class Channel(memory.Channel):
    def message_to_python(self, raw_message):
        message = super().message_to_python(raw_message)
        props = message.properties
        if "content_type" not in props and message.content_type:
            props["content_type"] = message.content_type
        if "content_encoding" not in props and message.content_encoding:
            props["content_encoding"] = message.content_encoding
        return message

    # Every way a waiting consumer may get something to take: a message put (restores and
    # requeues put too), a place freed in its prefetch, a queue it starts consuming.
    def _put(self, queue, message, **kwargs):
        super()._put(queue, message, **kwargs)
        arrivals.announce()

    def _put_fanout(self, exchange, message, routing_key=None, **kwargs):
        super()._put_fanout(exchange, message, routing_key, **kwargs)
        arrivals.announce()

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        arrivals.announce()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)
        arrivals.announce()

    def basic_consume(self, *args, **kwargs):
        tag = super().basic_consume(*args, **kwargs)
        arrivals.announce()
        return tag


class Transport(memory.Transport):
    Channel = Channel
    nudged = False

    def nudge(self):
        """Make `drain_events` return now, with or without a message (see install())."""
        self.nudged = True
        arrivals.announce()

    def drain_events(self, connection, timeout=None):
        """Deliver one message, waiting for one up to `timeout` (socket.timeout past it);
        return without one when nudged."""
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            if self.nudged:
                self.nudged = False
                return None
            arrival = arrivals.next()
            try:
                return self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                pass
            wait = IDLE_LOOK_SECONDS if deadline is None else deadline - monotonic()
            if wait <= 0:
                raise socket.timeout()
            arrival.wait(min(wait, IDLE_LOOK_SECONDS))


EMBEDDED_URI = "memory://localhost/"


def install():
    """Route `memory://` to this transport (process-wide, idempotent)."""
    TRANSPORT_ALIASES["memory"] = "kernel.bus:Transport"
    _stop_consumers_promptly()


def _stop_consumers_promptly():
    """Wake a nameko queue consumer on this bus as soon as it has a stop to act on.

    Its consume loop cancels consumers (`on_iteration`) and checks `should_stop` only when
    `drain_events` returns, which kombu bounds by a second: it took ~1 s to stop every
    container. Asked to stop, to drop a provider, or having decided to stop in
    `on_iteration`, it now nudges its transport, whose `drain_events` returns at once.
    Consumers on RabbitMQ never hold a transport of this bus and are left alone.
    """
    from nameko.messaging import QueueConsumer

    if getattr(QueueConsumer, "nudged_on_this_bus", False):
        return
    QueueConsumer.nudged_on_this_bus = True
    ready, iteration = QueueConsumer.on_consume_ready, QueueConsumer.on_iteration
    unregister, kill = QueueConsumer.unregister_provider, QueueConsumer.kill

    def nudge(consumer):
        transport = getattr(consumer, "bus_transport", None)
        if transport is not None:
            transport.nudge()

    def on_consume_ready(self, connection, *args, **kwargs):
        if isinstance(connection.transport, Transport):
            self.bus_transport = connection.transport
        return ready(self, connection, *args, **kwargs)

    def on_iteration(self):
        iteration(self)
        if self.should_stop:
            nudge(self)

    def unregister_provider(self, provider):
        nudge(self)  # acted on once this yields, after the provider is marked for removal
        return unregister(self, provider)

    def kill_nudged(self):
        nudge(self)  # acted on once this yields, after `should_stop` is set
        return kill(self)

    QueueConsumer.on_consume_ready = on_consume_ready
    QueueConsumer.on_iteration = on_iteration
    QueueConsumer.unregister_provider = unregister_provider
    QueueConsumer.kill = kill_nudged


def reset():
    """Forget every queue and binding (between embedded platforms in one test process)."""
    memory.Channel.queues.clear()
    memory.Channel.events.clear()
    memory.Transport.global_state.clear()
