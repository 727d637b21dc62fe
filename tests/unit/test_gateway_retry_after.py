"""Every 503 the gateway can send says when to come back, and which routes are a member's
reads (the shorter RPC deadline). The paths a running platform shows are in
tests/e2e/test_gateway_overload.py; here the ones hard to bring about there."""
import pytest
from kombu.exceptions import OperationalError
from nameko.exceptions import UnknownService
from werkzeug.wrappers import Response

from gateway import openapi
from gateway.entrypoints import (
    BUSY, HttpEntrypoint, JsonWebServer, overloaded, with_retry_after,
)
from gateway.service import GatewayService
from kernel.errors import ServiceUnavailable
from kernel.rpc import _Timed


def broker_away():
    def call_async(*args, **kwargs):
        raise OperationalError("connection refused")

    proxy = type("Proxy", (), {"ping": type("Method", (), {"call_async": call_async})()})()
    try:
        _Timed(proxy, "ranking", 1).ping()
    except ServiceUnavailable as exc:
        return exc
    raise AssertionError("no ServiceUnavailable")


@pytest.mark.parametrize("error", [
    ServiceUnavailable("the ranking service cannot reach its database",
                       reason="database_unavailable"),
    ServiceUnavailable("the ranking service did not answer within 3 s"),
    UnknownService("ranking"),  # nameko's: no queue for the service
    broker_away(),
], ids=["database", "timeout", "unknown service", "broker"])
def test_a_503_from_an_error_carries_retry_after(error):
    entrypoint = HttpEntrypoint("GET", "/api/v1/me", auth=True)
    response = entrypoint.response_from_exception(error)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_a_routes_own_503_and_the_refusals_carry_retry_after():
    assert int(with_retry_after(Response("{}", status=503)).headers["Retry-After"]) > 0
    assert "Retry-After" not in with_retry_after(Response("{}", status=500)).headers
    assert 1 <= int(overloaded().headers["Retry-After"]) <= 3
    assert b"\r\nRetry-After: " in BUSY.split(b"\r\n\r\n")[0]  # server_busy


def test_only_a_members_reads_take_the_shorter_deadline():
    reads = {entrypoint.url for _, _, entrypoint in openapi.routes(GatewayService)
             if entrypoint.rpc_timeout_knob == "RPC_READ_TIMEOUT_SECONDS"}
    assert {"/api/v1/me", "/api/v1/campaign", "/api/v1/attempts",
            "/api/v1/leaderboards/<string:scope_id>"} <= reads
    for url in reads:  # never an administrator's export, an agency's roster, a write
        assert not url.startswith(("/api/v1/admin/", "/api/v1/agency/"))
    for _, _, entrypoint in openapi.routes(GatewayService):
        assert entrypoint.sheddable == entrypoint.url.startswith("/api/")
        if entrypoint.method != "GET":
            assert entrypoint.rpc_timeout_knob is None


def test_past_four_fifths_of_the_bound_only_submits_and_saves_are_admitted():
    server = JsonWebServer()
    server.max_pending = 10
    assert [server.admit() for _ in range(9)] == [True] * 8 + [False]
    assert [server.admit(finishes=True) for _ in range(3)] == [True, True, False]
    server.release()
    assert not server.admit() and server.admit(finishes=True)
    submits = [e for name, _, e in openapi.routes(GatewayService) if e.finishes]
    # a member's answers: the submit, and the save the deadline grades if no submit comes
    assert sorted(e.url for e in submits) == ["/api/v1/attempts/<string:attempt_id>/answers",
                                              "/api/v1/attempts/<string:attempt_id>/submit"]


def test_the_document_tells_clients_about_retry_after():
    document = openapi.document(GatewayService)
    me = document["paths"]["/api/v1/me"]["get"]["responses"]
    assert "Retry-After" in me["503"]["headers"] and "overloaded" in me["503"]["description"]
    assert "Retry-After" in me["429"]["headers"]
