"""A batching event handler: up to EVENT_BATCH_SIZE events, or what arrived within
EVENT_BATCH_WAIT_MS of the first, handled by one worker in one transaction, then acked.

    @batch_handler("attempts", "attempt_passed")
    @handles_batch_once                       # or @handles_batch: the handler claims
    def on_attempt_passed(self, tx, events):  # the events not applied before, in order
        ...

Why: an event handled alone costs a transaction, a claim and its own statements; a month's
end brings thousands a second. A batch costs one transaction and a few multi-row
statements (ranking's passes, question_bank's statistics), whatever its size.

How (nameko's consumer, kept):
- the handler's queue, its dead letters and transient pauses are ReliableEventHandler's
  (kernel/entrypoints.py): the same queue names, so a deployment keeps its queues;
- the messages of batching handlers come through their own queue consumer (a second AMQP
  connection per process) whose prefetch is twice the batch size: nameko's shared one
  prefetches `max_workers` (10), which would cap every batch at 10; while one batch is in
  its transaction the next is filling;
- a batch's messages are acknowledged after its commit (a crash before it redelivers them,
  and the claim in `processed_events` skips those applied);
- when a batch fails for good, its messages are handled again one by one, so a poison
  message is rejected alone into its dead-letter queue and the rest are applied; when it
  fails transiently (the database away) the same, after the pause: each alone is then
  requeued or applied as a single event would be (a batch is never requeued whole, so an
  error that only looks transient cannot send the same batch round for ever).

The service method receives a list of bodies (a test's `entrypoint_hook` may still pass one
body: the decorators below take either).
"""
from __future__ import annotations

import functools
import logging
from collections import deque
from functools import partial

import eventlet
from nameko.exceptions import ContainerBeingKilled
from kombu.transport.virtual import Channel as VirtualChannel
from nameko.messaging import QueueConsumer
from sqlalchemy.exc import IntegrityError, OperationalError

from kernel import events as contract
from kernel.entrypoints import ReliableEventHandler, _transient
from kernel.inbox import ATTEMPTS
from kernel.knobs import knob

log = logging.getLogger(__name__)


class BatchQueueConsumer(QueueConsumer):
    """nameko's queue consumer for batching handlers (its own connection and prefetch):
    messages go to the handler's buffer at once, not to a thread each.

    Acknowledgements on RabbitMQ: one `basic.ack multiple` for each run of settled delivery
    tags instead of one frame per message (a send was a fifth of an event's CPU). A tag is
    acked only once every earlier tag of its channel is settled (acked after its batch's
    commit, or rejected or requeued alone), since a multiple ack covers every earlier one,
    whichever handler of this consumer it was delivered to. (kombu's in-memory transport
    ignores `multiple`: there each message is acked.)"""

    def __init__(self):
        super().__init__()
        self._pending: dict = {}  # channel -> delivery tags not yet settled, in order
        self._settled: dict = {}  # channel -> {tag: acked} settled behind an unsettled one

    @property
    def prefetch_count(self):
        return max(self.container.max_workers, 2 * knob(self.container.config,
                                                        "EVENT_BATCH_SIZE"))

    def handle_message(self, provider, body, message):
        if not isinstance(message.channel, VirtualChannel):
            self._pending.setdefault(message.channel, deque()).append(message.delivery_tag)
        provider.collect(body, message)

    def ack_message(self, message):
        self._settle(message, acked=True)

    def requeue_message(self, message):
        super().requeue_message(message)
        self._settle(message, acked=False)

    def forget(self, message):
        """`message` was rejected by its handler: it holds no later ack back."""
        self._settle(message, acked=False)

    def _settle(self, message, acked: bool):
        channel = message.channel
        pending = self._pending.get(channel)
        if pending is None:  # the in-memory transport, or a channel gone since
            if acked:
                super().ack_message(message)
            return
        if not pending or message.delivery_tag < pending[0]:
            return  # settled already (a handler's ack, then `forget`)
        settled = self._settled.setdefault(channel, {})
        settled.setdefault(message.delivery_tag, acked)
        last = None
        while pending and pending[0] in settled:
            tag = pending.popleft()
            if settled.pop(tag):
                last = tag
        if last is not None and channel.connection:
            try:
                channel.basic_ack(last, multiple=True)
            except ConnectionError:  # the broker has them back, to deliver again
                pass


class BatchingEventHandler(ReliableEventHandler):
    queue_consumer = BatchQueueConsumer()

    def setup(self):
        super().setup()
        config = self.container.config
        self.size = knob(config, "EVENT_BATCH_SIZE")
        self.wait = knob(config, "EVENT_BATCH_WAIT_MS") / 1000
        self.pending: list = []
        self.timer = None

    def collect(self, body, message):
        """In the consumer's thread: buffer; a full batch (or the first after the wait) goes."""
        self.pending.append((body, message))
        if len(self.pending) >= self.size:
            self.flush()
        elif self.timer is None:
            self.timer = eventlet.spawn_after(self.wait, self.flush)

    def flush(self, stopping=False):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch and stopping:  # its worker spawned before the container waits for workers
            self.run_batch(batch)
        elif batch:  # spawning may wait for a free worker: not in the consumer's thread
            self.container.spawn_managed_thread(partial(self.run_batch, batch),
                                                identifier=f"{self.method_name}.batch")

    def stop(self):
        self.flush(stopping=True)
        super().stop()
        self.flush(stopping=True)  # what arrived while the consumer was being cancelled

    def handle_message_processed(self, message, result=None, exc_info=None):
        super().handle_message_processed(message, result, exc_info)
        self.queue_consumer.forget(message)  # settled already unless it was rejected

    def run_batch(self, batch):
        bodies = [body for body, _ in batch]
        messages = [message for _, message in batch]
        try:
            self.container.spawn_worker(
                self, (bodies,), {}, context_data=self.unpack_message_headers(messages[0]),
                handle_result=partial(self.batch_result, messages, bodies))
        except ContainerBeingKilled:
            for message in messages:
                self.queue_consumer.requeue_message(message)

    def batch_result(self, messages, bodies, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            for message in messages:
                self.queue_consumer.ack_message(message)  # one frame for the lot
        elif len(messages) == 1:
            self.handle_message_processed(messages[0], result, exc_info)
        else:
            # each alone: a poison event is dead-lettered alone, and a failure that only
            # looks transient (a statement timeout on one event) cannot requeue the same
            # batch for ever; a real outage fails each alone as it would have failed one
            if _transient(exc_info[1]):
                eventlet.sleep(self.transient_pause)
            log.warning("%s: a batch of %d failed (%r); each is handled alone",
                        self.method_name, len(messages), exc_info[1])
            for body, message in zip(bodies, messages):
                self.container.spawn_managed_thread(
                    partial(self.run_batch, [(body, message)]),
                    identifier=f"{self.method_name}.alone")
        return result, exc_info


batch_handler = BatchingEventHandler.decorator


def _batched(fn, claim: bool, only=None):
    consumer = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, bodies):
        from kernel.uow import _work_of

        if isinstance(bodies, dict):  # one body (a test's entrypoint_hook)
            bodies = [bodies]
        envelopes = [contract.parse(body, only) for body in bodies]
        work = _work_of(self)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with work as tx:
                    if claim:
                        fresh = tx.claim_all([e["event_id"] for e in envelopes], consumer)
                        chosen = list({e["event_id"]: e for e in reversed(envelopes)
                                       if e["event_id"] in fresh}.values())[::-1]
                        if chosen:
                            fn(self, tx, chosen)
                    else:
                        fn(self, tx, envelopes, consumer)
                return
            except (IntegrityError, OperationalError):
                if attempt == ATTEMPTS:
                    raise
                log.warning("%s: a batch of %d collided with a concurrent write; again (%d)",
                            consumer, len(envelopes), attempt)

    return wrapper


def handles_batch_once(fn):
    """`fn(self, tx, envelopes)` with the events of the batch not applied before (each
    claimed for the handler in one statement), in one unit of work; the same event twice
    in a batch is applied once."""
    return _batched(fn, claim=True)


def handles_batch(fn=None, *, data=None):
    """`fn(self, tx, envelopes, consumer)`: the handler claims each event for `consumer`
    itself, in its own statements (ranking's passes: the claim is part of one statement).
    `data`: the fields of the events' data it reads (a tuple), the only ones loaded."""
    if fn is None:
        return functools.partial(_batched, claim=False, only=data)
    return _batched(fn, claim=False)
