"""RPC replies never wait behind the work waiting for them (kernel/rpc.py).

When every worker of a service is an RPC call waiting on another service (ten members
starting attempts at once: attempts waits on question_bank), nameko's shared consumer
channel, with its prefetch of `max_workers`, holds the replies back on a transport that
counts prefetch per channel: the embedded mode deadlocked (found by bench/attempts_pg.py).
The control shows nameko's own RpcProxy deadlocking in the same setting."""
import eventlet
import pytest
from nameko.rpc import RpcProxy
from nameko.standalone.rpc import ClusterRpcProxy

from kernel.entrypoints import rpc
from kernel.rpc import TimedRpcProxy


class Callee:
    name = "callee"

    @rpc
    def echo(self, value):
        eventlet.sleep(0.05)
        return value


class Caller:
    name = "caller"
    callee = TimedRpcProxy("callee")

    @rpc
    def relay(self, value):
        return self.callee.echo(value)


class NamekoCaller:
    name = "caller"
    callee = RpcProxy("callee")

    @rpc
    def relay(self, value):
        return self.callee.echo(value)


def burst(container_factory, config, caller_cls, calls):
    config = dict(config, max_workers=2, RPC_TIMEOUT_SECONDS=30)
    callee = container_factory(Callee, config)
    caller = container_factory(caller_cls, config)
    callee.start()
    caller.start()
    with ClusterRpcProxy(config, timeout=30) as cluster:
        replies = [cluster.caller.relay.call_async(i) for i in range(calls)]
        with eventlet.Timeout(5):
            return [reply.result() for reply in replies]


def test_more_concurrent_relayed_calls_than_workers_all_finish(container_factory,
                                                               sqlite_config):
    assert burst(container_factory, sqlite_config, Caller, 12) == list(range(12))


def test_control_nameko_rpc_proxy_deadlocks_on_the_embedded_bus(container_factory,
                                                                 sqlite_config):
    with pytest.raises(eventlet.Timeout):
        burst(container_factory, sqlite_config, NamekoCaller, 12)
