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
  fails transiently (the database away) they all go back to the queue after the pause.

The service method receives a list of bodies (a test's `entrypoint_hook` may still pass one
body: the decorators below take either).
"""
from __future__ import annotations

import functools
import logging
from functools import partial

import eventlet
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import QueueConsumer
from sqlalchemy.exc import IntegrityError, OperationalError

from kernel import events as contract
from kernel.entrypoints import ReliableEventHandler, _transient
from kernel.inbox import ATTEMPTS
from kernel.knobs import knob

log = logging.getLogger(__name__)


class BatchQueueConsumer(QueueConsumer):
    """nameko's queue consumer for batching handlers (its own connection and prefetch):
    messages go to the handler's buffer at once, not to a thread each."""

    @property
    def prefetch_count(self):
        return max(self.container.max_workers, 2 * knob(self.container.config,
                                                        "EVENT_BATCH_SIZE"))

    def handle_message(self, provider, body, message):
        provider.collect(body, message)


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

    def flush(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:  # spawning may wait for a free worker: not in the consumer's thread
            self.container.spawn_managed_thread(partial(self.run_batch, batch),
                                                identifier=f"{self.method_name}.batch")

    def stop(self):
        self.flush()
        super().stop()
        if self.pending:  # arrived while the consumer was being cancelled
            self.flush()

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
                self.queue_consumer.ack_message(message)
        elif len(messages) == 1:
            self.handle_message_processed(messages[0], result, exc_info)
        elif _transient(exc_info[1]):
            log.warning("%s: transient failure (%s); %d events go back to the queue",
                        self.method_name, exc_info[1], len(messages))
            eventlet.sleep(self.transient_pause)
            for message in messages:
                self.queue_consumer.requeue_message(message)
        else:
            log.warning("%s: a batch of %d failed (%r); each is handled alone",
                        self.method_name, len(messages), exc_info[1])
            for body, message in zip(bodies, messages):
                self.container.spawn_managed_thread(
                    partial(self.run_batch, [(body, message)]),
                    identifier=f"{self.method_name}.alone")
        return result, exc_info


batch_handler = BatchingEventHandler.decorator


def _batched(fn, claim: bool):
    consumer = fn.__name__

    @functools.wraps(fn)
    def wrapper(self, bodies):
        from kernel.uow import _work_of

        if isinstance(bodies, dict):  # one body (a test's entrypoint_hook)
            bodies = [bodies]
        envelopes = [contract.parse(body) for body in bodies]
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


def handles_batch(fn):
    """`fn(self, tx, envelopes, consumer)`: the handler claims each event for `consumer`
    itself, in its own statements (ranking's passes: the claim is part of one statement)."""
    return _batched(fn, claim=False)
