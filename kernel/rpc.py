"""RPC from inside a service: with a deadline, and with replies that never wait behind work.

- nameko 2.14's RpcProxy waits for a reply forever; a service whose queue exists but which is
  down (crashed, restarting) would hold the caller open. `TimedRpcProxy` gives up after
  RPC_TIMEOUT_SECONDS and raises ServiceUnavailable (HTTP 503 with a clear message). A reply
  that arrives later is discarded by nameko's reply listener. An entrypoint may ask for a
  shorter deadline (`rpc_timeout_knob`): the gateway's member reads use
  RPC_READ_TIMEOUT_SECONDS. A broker that cannot be reached
  (stopped, restarting) is ServiceUnavailable too, not an internal error.
- nameko consumes a service's RPC requests and its RPC replies on one channel whose prefetch
  is `max_workers`. When every worker is an RPC call waiting for a reply from another service
  (ten members starting attempts at once: attempts waits on question_bank), a channel that
  counts prefetch per channel (kombu's in-memory transport, the embedded mode) will not
  deliver the replies: a deadlock, found by the attempts benchmark. RabbitMQ counts prefetch
  per consumer, but a caller's replies should not depend on that either. So replies get a
  queue consumer of their own: its own connection, channel and prefetch.
"""
import logging

import eventlet
from nameko.exceptions import UnknownService
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, RpcProxy

from kernel.entrypoints import BROKER_AWAY
from kernel.errors import ServiceUnavailable
from kernel.knobs import knob
from kernel.uow import TransactionOpen, in_transaction

log = logging.getLogger(__name__)
REPLY_PREFETCH = 200


class ReplyConsumer(QueueConsumer):
    """A QueueConsumer shared only by reply listeners (SharedExtension keys by class)."""

    @property
    def prefetch_count(self):
        return REPLY_PREFETCH


class OwnReplyListener(ReplyListener):
    queue_consumer = ReplyConsumer()


class TimedRpcProxy(RpcProxy):
    rpc_reply_listener = OwnReplyListener()

    def get_dependency(self, worker_ctx):
        timeout = knob(self.container.config, "RPC_TIMEOUT_SECONDS")
        # an entrypoint may name a shorter deadline: the gateway's member reads
        # (RPC_READ_TIMEOUT_SECONDS), so a page that cannot load says so soon
        shorter = getattr(worker_ctx.entrypoint, "rpc_timeout_knob", None)
        if shorter is not None:
            timeout = min(timeout, knob(self.container.config, shorter))
        return _Timed(super().get_dependency(worker_ctx), self.target_service, timeout,
                      worker_ctx)


class _Timed:
    def __init__(self, proxy, service, timeout, worker_ctx=None):
        self._proxy, self._service, self._timeout = proxy, service, timeout
        self._worker_ctx = worker_ctx

    def with_timeout(self, seconds):
        return _Timed(self._proxy, self._service, seconds, self._worker_ctx)

    def __getattr__(self, name):
        method = getattr(self._proxy, name)

        def call(*args, **kwargs):
            if self._worker_ctx is not None and in_transaction(self._worker_ctx):
                # docs/conventions.md: a worker waiting for a reply while holding a
                # connection can starve the workers that would let the reply in
                raise TransactionOpen(f"{self._service}.{name} called inside a transaction: "
                                      "commit (leave `with self.uow`) before calling")
            try:
                reply = method.call_async(*args, **kwargs)
                with eventlet.Timeout(self._timeout):
                    return reply.result()
            except eventlet.Timeout:
                raise ServiceUnavailable(
                    f"the {self._service} service did not answer within "
                    f"{self._timeout:g} s; try again shortly") from None
            except UnknownService:
                raise ServiceUnavailable(
                    f"the {self._service} service is not running; try again shortly") from None
            except BROKER_AWAY as exc:
                log.warning("calling %s.%s: the broker is unreachable (%s)", self._service,
                            name, exc)
                raise ServiceUnavailable(
                    "the message broker is unreachable; try again shortly",
                    reason="broker_unavailable") from None

        return call
