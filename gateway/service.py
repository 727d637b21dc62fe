"""The gateway: HTTP in front of the services (contracts.md, "HTTP API").

It owns nothing durable. It checks bodies and tokens, calls the services over RPC, and
answers JSON; errors come from one table (gateway/errors.py). It never forwards an answer key.
"""
from __future__ import annotations

import json
import os

import eventlet

from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from gateway import tokens
from gateway.dependencies import TimedRpcProxy
from gateway.ratelimit import Window
from gateway.entrypoints import http, json_response
from gateway.views import level_states
from gateway.schemas import CodeRequest, EmptyBody, PageQuery, StartRequest, SubmitRequest, TokenRequest
from kernel.clock import Clock
from kernel.errors import BadInput, ServiceUnavailable, TooLarge, load
from kernel.settings import SERVICES

STATIC = os.path.join(os.path.dirname(__file__), "static")
API = "/api/v1"
MAX_BODY = 256 * 1024  # a JSON body; file uploads get their own limit


def body_of(request, schema):
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise TooLarge(f"the body is {length} bytes; the limit is {MAX_BODY}")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise TooLarge(f"the body is over the limit of {MAX_BODY} bytes")
    raw = raw.decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise BadInput("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadInput("the body must be a JSON object")
    return load(schema, payload, "body")


def address_of(request) -> str:
    """The client's address as the gateway's socket sees it. (Behind a reverse proxy this is
    the proxy; trusting X-Forwarded-For is a deployment decision for the operations issue.)"""
    return request.remote_addr or "unknown"


def query_of(request, schema):
    return load(schema, request.args.to_dict(), "query")


# login endpoints per client address (R20: brute force and SMS bombing)
LOGIN_CODES_PER_ADDRESS = Window(limit=20, seconds=3600)
LOGIN_TRIES_PER_ADDRESS = Window(limit=30, seconds=600)


class GatewayService:
    name = "gateway"

    config = Config()
    clock = Clock()
    roster = TimedRpcProxy("roster")
    question_bank = TimedRpcProxy("question_bank")
    attempts = TimedRpcProxy("attempts")
    ranking = TimedRpcProxy("ranking")
    awards = TimedRpcProxy("awards")

    def _member_id(self, request) -> str:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        claims = tokens.verify(self.config["CHALLENGE_SECRET"], token, self.clock.now())
        return claims["sub"]

    # -- operations ----------------------------------------------------------------------

    @http("GET", "/healthz")
    def healthz(self, request):
        return {"status": "ok"}

    @http("GET", "/readyz")
    def readyz(self, request):
        """Ready when every service answers over the bus (asked at once, 3 s at most)."""
        def answers_ping(name):
            try:
                return getattr(self, name).with_timeout(3).ping() == "pong"
            except ServiceUnavailable:
                return False

        answers = dict(zip(SERVICES, eventlet.GreenPool().imap(answers_ping, SERVICES)))
        ready = all(answers.values())
        return json_response({"ready": ready, "services": answers}, 200 if ready else 503)

    # -- login ---------------------------------------------------------------------------

    @http("POST", f"{API}/auth/code")
    def request_code(self, request):
        body = body_of(request, CodeRequest())
        LOGIN_CODES_PER_ADDRESS.check(address_of(request), "login codes")
        self.roster.request_login_code(body["phone"])
        # 202 whether or not the phone is known: the answer says nothing about the roster
        return json_response({"status": "sent_if_known"}, 202)

    @http("POST", f"{API}/auth/token")
    def token(self, request):
        body = body_of(request, TokenRequest())
        LOGIN_TRIES_PER_ADDRESS.check(address_of(request), "login attempts")
        member = self.roster.verify_login_code(body["phone"], body["code"])
        token, expires = tokens.issue(self.config["CHALLENGE_SECRET"], member,
                                      self.clock.now())
        return {"token": token, "expires_at": expires.isoformat(), "member": member}

    # -- member ----------------------------------------------------------------------------

    @http("GET", f"{API}/me")
    def me(self, request):
        member_id = self._member_id(request)
        member = self.roster.get_member(member_id)
        progress = self.attempts.progress(member_id)
        ranks = self.ranking.my_rank(member_id)
        return {"member": member, "progress": progress, "ranks": ranks["scopes"]}

    @http("GET", f"{API}/campaign")
    def campaign(self, request):
        member_id = self._member_id(request)
        campaign = self.question_bank.get_campaign()
        progress = self.attempts.progress(member_id)
        now = self.clock.now()
        campaign["levels"] = level_states(campaign["levels"], progress["active_run"], now,
                                          campaign["ends_at"])
        return {"campaign": campaign, "progress": progress, "server_now": now.isoformat()}

    @http("POST", f"{API}/attempts")
    def start_attempt(self, request):
        member_id = self._member_id(request)
        body = body_of(request, StartRequest())
        return self.attempts.start_attempt(member_id, body["level"])

    @http("POST", f"{API}/attempts/<string:attempt_id>/submit")
    def submit_attempt(self, request, attempt_id):
        member_id = self._member_id(request)
        body = body_of(request, SubmitRequest())
        return self.attempts.submit_attempt(member_id, attempt_id, body["answers"])

    @http("POST", f"{API}/runs")
    def restart_run(self, request):
        """R14: a new run from level 1 (409 with the reason when not yet allowed)."""
        member_id = self._member_id(request)
        body_of(request, EmptyBody())
        return json_response(self.attempts.restart_run(member_id), 201)

    @http("GET", f"{API}/attempts")
    def my_attempts(self, request):
        member_id = self._member_id(request)
        page = query_of(request, PageQuery())
        return self.attempts.my_attempts(member_id, page["limit"], page["offset"])

    @http("GET", f"{API}/leaderboards/<string:scope_id>")
    def leaderboard(self, request, scope_id):
        self._member_id(request)
        page = query_of(request, PageQuery())
        if page["month"]:
            raise BadInput("monthly boards come with the month close (not yet available)",
                           fields={"month": ["not supported yet"]})
        return self.ranking.leaderboard(scope_id, None, page["limit"], page["offset"])

    # -- pages -------------------------------------------------------------------------------

    @http("GET", "/")
    def member_page(self, request):
        with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as page:
            return Response(page.read(), mimetype="text/html")
