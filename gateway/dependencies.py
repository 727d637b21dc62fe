"""RPC with a deadline: a member's request never hangs on a service that does not answer.

nameko 2.14's RpcProxy waits for a reply forever; a service whose queue exists but which is
down (crashed, restarting) would hold the request open. This proxy gives up after
RPC_TIMEOUT_SECONDS and raises ServiceUnavailable (HTTP 503 with a clear message). A reply
that arrives later is discarded by nameko's reply listener.
"""
import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from kernel.errors import ServiceUnavailable
from kernel.settings import setting


class TimedRpcProxy(RpcProxy):
    def get_dependency(self, worker_ctx):
        timeout = setting(self.container.config, "RPC_TIMEOUT_SECONDS", 10.0, float)
        return _Timed(super().get_dependency(worker_ctx), self.target_service, timeout)


class _Timed:
    def __init__(self, proxy, service, timeout):
        self._proxy, self._service, self._timeout = proxy, service, timeout

    def with_timeout(self, seconds):
        return _Timed(self._proxy, self._service, seconds)

    def __getattr__(self, name):
        method = getattr(self._proxy, name)

        def call(*args, **kwargs):
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

        return call
