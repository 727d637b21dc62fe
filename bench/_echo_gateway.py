"""bench/load.py's gateway: the platform's gateway with one route more, `GET /bench/echo`,
which goes through the same entrypoint (token check, limits, metrics, JSON) to a bare nameko
echo service, so the platform's requests can be set against the cost of the plumbing alone.
(Only the subclass is a module attribute: `nameko run` starts every service class it finds.)"""
import gateway.service as platform_gateway
from gateway.entrypoints import http
from kernel.rpc import TimedRpcProxy


class BenchGateway(platform_gateway.GatewayService):
    echo = TimedRpcProxy("echo")

    @http("GET", "/bench/echo", auth=True)
    def bench_echo(self, request, member_id):
        """The member's id, back from the echo service."""
        return {"echo": self.echo.echo(member_id)}
