"""The gateway: HTTP in front of the services (contracts.md, "HTTP API").

It owns nothing durable. It checks bodies and tokens, calls the services over RPC, and
answers JSON; errors come from one table (gateway/errors.py). It never forwards an answer key.
"""
from __future__ import annotations

import base64
import os
from datetime import datetime

import eventlet

from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from gateway import agencies, openapi, tokens
# the mixins' modules, not their classes: `nameko run gateway.service` starts every class with
# routes that it finds among the module's names, and a mixin has no service name
from gateway import outputs as output_routes, review as review_routes
from gateway.review import DisqualifyBody
from gateway.metrics import Metrics
from gateway.ratelimit import AddressLimits
from gateway.entrypoints import html_page, http, json_response
from gateway.views import in_scope, level_states, without_bank
from gateway.schemas import (
    AuditQuery, BoardQuery, CodeRequest, EmptyBody, ExportQuery, FlagQuery, ImportForm,
    LevelPatch, MemberQuery, OrgUnitsBody, PageQuery, PolicyBody, QuestionChanges, RegradeBody,
    QuestionImportForm, QuestionQuery, ReplayBody, ReviewBody, SaveRequest, StartRequest,
    SubmitRequest,
    TokenRequest, UnitAdminBody,
)
from gateway.schemas import (  # what the gateway answers of its own making
    QUESTION_EXPORT, XLSX, AnnualOut, AuditOut, CampaignPageOut, CodeSentOut,
    DisqualificationsOut, HealthOut, MeOut, MonthsOut, NamedFlagPageOut, OpenApiOut,
    OrgTreeOut, PeriodAwardsOut, PolicyOut, ReadinessOut, TokenOut, UpsertedOut,
)
from gateway.schemas import (  # campaigns as data (issue 19)
    CAMPAIGN_SHEET, CampaignBody, CampaignImportForm, CampaignQuery, CopyBankBody, SetupOut,
    SheetQuery, TemplateQuery,
)
from services.question_bank.schemas import CampaignImportOut, CampaignListOut
from services.attempts.rules import play_refusal
from services.attempts.schemas import AttemptOut, FlagOut, HistoryPageOut, ResultOut, RunOut
from services.attempts.schemas import SavedOut
from services.attempts.schemas import RegradeOut
from gateway.schemas import AwardSettingsBody, AwardSettingsOut  # awards' settings (issue 18)
from gateway.schemas import MyAwardsOut  # a member's own awards (issue 21)
from services.awards.schemas import AwardOut, GrantOut, ParticipationOut
from services.question_bank.schemas import (
    CampaignViewOut, ImportReportOut, LevelStatisticsOut, QuestionPageOut, QuestionRowOut,
)
from services.ranking.schemas import BoardOut, MonthOut, RebuildOut
from services.roster.schemas import DecisionIn, MemberChangesIn, ParticipationIn, RoleChangeIn
from services.roster.schemas import ImportReportOut as MemberImportReportOut
from services.roster.schemas import OrgImportReportOut
from services.roster.schemas import (
    AgencyMemberOut, AgencyRosterOut, MemberOut, MemberPageOut,
)
from kernel.clock import Clock
from kernel.rpc import TimedRpcProxy
from kernel import r15, sheets
from kernel.errors import BadInput, Forbidden, NotFound, ServiceUnavailable
from kernel.settings import SERVICES
from kernel.logs import WorkerContext
from kernel.signing import SecretRequired
from kernel.knobs import Knobs
from kernel.replay import ReplayOut

STATIC = os.path.join(os.path.dirname(__file__), "static")
STATIC_FILES = {name: "text/javascript" for name in (
    "common.js", "admin-outputs.js", "admin-review.js", "member-outputs.js", "member-notices.js")}
API = "/api/v1"
ADMIN = f"{API}/admin"
BANK_ROLES = ("system_admin", "organisation_admin")  # who edits the campaign and its bank
IMPORT_TIMEOUT = 300  # seconds: a 20,000-row sheet is a long RPC, not a hung one


def _file(export: dict) -> Response:
    """A file a service made (ExportOut: its name, media type and base64 content) as a
    download."""
    return Response(base64.b64decode(export["content_b64"]),
                    mimetype=export["media_type"].split(";")[0],
                    headers={"Content-Disposition":
                             f'attachment; filename="{export["filename"]}"'})


class GatewayService(output_routes.OutputRoutes, review_routes.ReviewRoutes):
    name = "gateway"
    knobs = Knobs()  # every setting checked before the gateway listens
    logs = WorkerContext()  # the correlation id and service in every log line

    config = Config()
    secret = SecretRequired()  # holds CHALLENGE_SECRET: no start without a usable one
    clock = Clock()
    agency_keys = agencies.AgencyKeys()  # a malformed AGENCY_API_KEYS stops the start
    limits = AddressLimits()  # login endpoints per client address (brute force, SMS bombing)
    metrics = Metrics()
    roster = TimedRpcProxy("roster")
    question_bank = TimedRpcProxy("question_bank")
    attempts = TimedRpcProxy("attempts")
    ranking = TimedRpcProxy("ranking")
    awards = TimedRpcProxy("awards")

    # -- operations ----------------------------------------------------------------------

    @http("GET", "/healthz", response=HealthOut)
    def healthz(self, request):
        """The process is up."""
        return {"status": "ok"}

    @http("GET", "/readyz", response=ReadinessOut)
    def readyz(self, request):
        """Ready when every service answers over the bus (asked at once, 3 s at most)."""
        def answers_ping(name):
            try:
                return getattr(self, name).with_timeout(3).ping() == "pong"
            except ServiceUnavailable:
                return False

        answers = dict(zip(SERVICES, eventlet.GreenPool().imap(answers_ping, SERVICES)))
        self.metrics.services(answers)
        ready = all(answers.values())
        return json_response({"ready": ready, "services": answers}, 200 if ready else 503)

    @http("GET", "/metrics", response="text/plain")
    def prometheus(self, request):
        """Prometheus text: requests by route and status, latency histograms, requests in
        flight, and each service's answer to the last /readyz."""
        return Response(self.metrics.text(), mimetype="text/plain",
                        content_type="text/plain; version=0.0.4; charset=utf-8")

    # -- login ---------------------------------------------------------------------------

    @http("POST", f"{API}/auth/code", body=CodeRequest, status=202, response=CodeSentOut)
    def request_code(self, request, body):
        """Send a login code to a registered phone (202 whether or not it is registered)."""
        self.limits.codes.check(self.limits.address(request), "login codes")
        self.roster.request_login_code(body["phone"])
        # 202 whether or not the phone is known: the answer says nothing about the roster
        return {"status": "sent_if_known"}

    @http("POST", f"{API}/auth/token", body=TokenRequest, response=TokenOut)
    def token(self, request, body):
        """Exchange a phone and its code for a bearer token."""
        self.limits.tries.check(self.limits.address(request), "login attempts")
        member = self.roster.verify_login_code(body["phone"], body["code"])
        token, expires = tokens.issue(self.config["CHALLENGE_SECRET"], member,
                                      self.clock.now())
        return {"token": token, "expires_at": expires.isoformat(), "member": member}

    # -- member ----------------------------------------------------------------------------

    @http("GET", f"{API}/me", auth=True, response=MeOut)
    def me(self, request, member_id):
        """My profile, my runs, and my rank in each scope above me."""
        member = self.roster.get_member(member_id)
        progress = self.attempts.progress(member_id)
        ranks = self.ranking.my_rank(member_id)
        return {"member": member, "progress": progress, "ranks": ranks["scopes"]}

    @http("GET", f"{API}/campaign", auth=True, response=CampaignPageOut)
    def campaign(self, request, member_id):
        """The current campaign's levels, each with my state (locked, open, passed); no
        bank information (its size, mix and warnings are the bank administrators')."""
        campaign = without_bank(self.question_bank.get_campaign())
        progress = self.attempts.progress(member_id)
        now = self.clock.now()
        campaign["levels"] = level_states(campaign["levels"], progress["active_run"], now,
                                          campaign["ends_at"])
        month = r15.month_of(now, campaign["time_zone"])
        return {"campaign": campaign, "progress": progress, "server_now": now.isoformat(),
                "month": month,
                "month_cutoff": r15.cutoff(month, campaign["time_zone"]).isoformat()}

    @http("POST", f"{API}/attempts", auth=True, body=StartRequest, response=AttemptOut)
    def start_attempt(self, request, member_id, body):
        """Start an attempt at my current level, or resume the open one (no answer keys),
        with the answers saved so far, its deadline (the time limit, or the campaign's end
        if sooner) and the month's cutoff by which it must be submitted to count then (R15)."""
        self._require_playing(member_id)
        return self.attempts.start_attempt(member_id, body["level"],
                                           self.limits.address(request)[:64])

    @http("PUT", f"{API}/attempts/<string:attempt_id>/answers", auth=True, body=SaveRequest,
          response=SavedOut, finishes=True)  # refused last: the deadline grades the last save
    def save_answers(self, request, attempt_id, member_id, body):
        """Save my answers so far on my open attempt (all of them; the last save wins, and
        saving the same again changes nothing): another device resumes them, and at the
        deadline they are submitted for me if I have not (timed by the last change).
        409 `attempt_closed` once it can no longer be submitted."""
        self._require_playing(member_id)
        return self.attempts.save_answers(member_id, attempt_id, body["answers"])

    @http("POST", f"{API}/attempts/<string:attempt_id>/submit", auth=True, body=SubmitRequest,
          response=ResultOut, finishes=True)
    def submit_attempt(self, request, attempt_id, member_id, body):
        """Submit my answers; graded on the server, by its clock. Submitting twice returns
        the first result."""
        self._require_playing(member_id)
        return self.attempts.submit_attempt(member_id, attempt_id, body["answers"])

    @http("POST", f"{API}/runs", auth=True, body=EmptyBody, status=201, response=RunOut)
    def restart_run(self, request, member_id, body):
        """R14: start again from level 1 (409 with the reason when not yet allowed)."""
        self._require_playing(member_id)
        return self.attempts.restart_run(member_id)

    def _require_playing(self, member_id):
        """A token outlives a deactivation or a disqualification (R20): roster, not the
        token, says whether its member may still play. Attempts checks its own replica as
        well, but that replica learns of the change only when roster's event arrives."""
        member = self.roster.play_status(member_id)
        refusal = play_refusal(member["status"], member["disqualified"])
        if refusal is not None:
            raise refusal

    @http("GET", f"{API}/attempts", auth=True, query=PageQuery, response=HistoryPageOut)
    def my_attempts(self, request, member_id, query):
        """My attempts, newest first, paged."""
        return self.attempts.my_attempts(member_id, query["limit"], query["offset"])

    @http("GET", f"{API}/leaderboards/<string:scope_id>", auth=True, query=BoardQuery,
          response=BoardOut)
    def leaderboard(self, request, scope_id, member_id, query):
        """The live board of a scope (`system`, or an organisation, unit or branch id), or
        with `month=YYYY-MM` that month's closed snapshot (409 while it is not closed); a
        past campaign's with `campaign_id`."""
        return self.ranking.leaderboard(scope_id, query["campaign_id"], query["limit"],
                                        query["offset"], query["month"])

    @http("GET", f"{API}/me/awards", auth=True, response=MyAwardsOut)
    def my_awards(self, request, member_id):
        """My awards in the current campaign, newest period first: the kind, the place, the
        amount and where it stands (`held` while a flag of mine is reviewed, `payable`,
        `paid`, `revoked`)."""
        campaign_id = self.question_bank.get_campaign()["campaign_id"]
        return {"campaign_id": campaign_id,
                "items": self.awards.awards_of_member(member_id, campaign_id)}

    @http("PUT", f"{API}/me/participation", auth=True, body=ParticipationIn, response=MemberOut)
    def participation(self, request, member_id, body):
        """R2: a volunteer signs up (`voluntary`) or withdraws (`withdrawn`)."""
        return self.roster.set_participation(member_id, body["participation"])

    # -- admin: roster (roles are checked by roster, inside the actor's subtree) --------------

    @http("GET", f"{ADMIN}/org-units", auth=True, response=OrgTreeOut)
    def admin_org_units(self, request, member_id):
        """The organisation tree with member counts and each unit's administrator."""
        who = self.roster.authorize(member_id)
        return {"actor": who, "nodes": self.roster.org_tree()}

    @http("PUT", f"{ADMIN}/org-units", auth=True, body=OrgUnitsBody, response=UpsertedOut)
    def admin_upsert_org_units(self, request, member_id, body):
        """Add or rename nodes (system administrators)."""
        return {"upserted": self.roster.upsert_org_units(body["nodes"], member_id)}

    @http("PUT", f"{ADMIN}/org-units/<string:unit_id>/admin", auth=True, body=UnitAdminBody,
          response=MemberOut)
    def admin_set_unit_admin(self, request, unit_id, member_id, body):
        """Appoint a unit's one administrator (R4), replacing the one before."""
        return self.roster.set_unit_admin(member_id, unit_id, body["member_id"])

    @http("POST", f"{ADMIN}/org-units/import", auth=True, upload=QuestionImportForm,
          upload_max=sheets.MAX_BYTES, response=OrgImportReportOut)
    def admin_import_org_units(self, request, member_id, upload):
        """The organisation sheet (multipart field `file`: CSV or XLSX with 上级, 名称, 类型
        (组织/单位/支部), 编码 optional; field `dry_run`): system and organisation
        administrators, inside their part. Answers the per-row report (each error with its
        row, column and `reason`) and the units still without an administrator."""
        return self.roster.with_timeout(IMPORT_TIMEOUT).import_org_sheet(
            base64.b64encode(upload["data"]).decode(), upload["filename"],
            upload["form"]["dry_run"], member_id)

    @http("POST", f"{ADMIN}/roster/import", auth=True, upload=ImportForm,
          upload_max=sheets.MAX_BYTES, response=MemberImportReportOut)
    def admin_import_members(self, request, member_id, upload):
        """A member sheet (multipart field `file`: CSV in UTF-8 or GBK, or XLSX; fields
        `dry_run`, and `unit` for sheets without a unit column). Answers the per-row report."""
        form = upload["form"]
        return self.roster.with_timeout(IMPORT_TIMEOUT).import_sheet(
            base64.b64encode(upload["data"]).decode(), upload["filename"], form["dry_run"],
            member_id, form["unit"])

    @http("GET", f"{ADMIN}/members", auth=True, query=MemberQuery, response=MemberPageOut)
    def admin_members(self, request, member_id, query):
        """Members in my part of the tree: search by name, phone or department; filter."""
        return self.roster.list_members(actor=member_id, **query)

    @http("GET", f"{ADMIN}/members/<string:target>", auth=True, response=MemberOut)
    def admin_member(self, request, target, member_id):
        return self.roster.get_member(target, actor=member_id)

    @http("PATCH", f"{ADMIN}/members/<string:target>", auth=True, body=MemberChangesIn,
          response=MemberOut)
    def admin_update_member(self, request, target, member_id, body):
        """Edit name, department, place, category, participation or status."""
        return self.roster.update_member(member_id, target, body)

    @http("POST", f"{ADMIN}/members/<string:target>/disqualify", auth=True,
          body=DisqualifyBody, response=MemberOut)
    def admin_disqualify(self, request, target, member_id, body):
        """R20: out of the awards, marked on boards, kept for the notice with its evidence
        (free text, and the member's flags it cites: 400 `not_their_flag` otherwise)."""
        return self._disqualify(member_id, target, body)

    @http("POST", f"{ADMIN}/members/<string:target>/reinstate", auth=True, body=DecisionIn,
          response=MemberOut)
    def admin_reinstate(self, request, target, member_id, body):
        return self.roster.reinstate(member_id, target, body["reason"])

    @http("POST", f"{ADMIN}/members/<string:target>/roles", auth=True, body=RoleChangeIn,
          response=MemberOut)
    def admin_change_role(self, request, target, member_id, body):
        """Grant or revoke organisation/system administrator roles (system administrators)."""
        return self.roster.change_role(member_id, target, body)

    @http("GET", f"{ADMIN}/disqualifications", auth=True, response=DisqualificationsOut)
    def admin_disqualifications(self, request, member_id):
        """Every disqualification with who decided, when and why (the notice of R20)."""
        return {"items": self.roster.disqualifications(member_id)}

    @http("GET", f"{ADMIN}/audit", auth=True, query=AuditQuery, response=AuditOut)
    def admin_audit(self, request, member_id, query):
        """Every administrator's change, newest first, from every service (an administrator
        reads the entries of their own part of the organisation)."""
        window = query["limit"] + query["offset"]
        who = self.roster.authorize(member_id)
        logs = [self.roster.audit_log(member_id, window, 0),
                self.question_bank.audit_log(who["visible"], window, 0),
                self.attempts.audit_log(who["visible"], window, 0),
                self.awards.audit_log(who["visible"], window, 0),
                self._hand_closes()]
        items = sorted((item for log in logs for item in log["items"]),
                       key=lambda item: (item["at"], item["service"], item["id"]), reverse=True)
        items = items[query["offset"]:window]
        names = self._names([item["actor_id"] for item in items]
                            + [item["target"] for item in items])
        return {"total": sum(log["total"] for log in logs),
                "items": [dict(item, actor_name=names.get(item["actor_id"]),
                               target_name=names.get(item["target"])) for item in items]}

    def _hand_closes(self) -> dict:
        """The current campaign's months an administrator closed by hand, as audit entries
        (issue 21 item 10): ranking keeps each close with who made it and when (its
        month_closes row is the record); the timer's closes are not an administrator's."""
        items = [{"service": "ranking", "id": index, "at": month["closed_at"],
                  "actor_id": month["closed_by"], "action": "month_closed", "target": None,
                  "scope_id": None, "detail": {"month": month["month"],
                                               "ranked_members": month.get("ranked_members")}}
                 for index, month in enumerate(self._current_months())
                 if month["closed"] and month.get("closed_by") not in (None, "timer")]
        return {"total": len(items), "items": items}

    def _current_months(self) -> list:
        try:
            return self.ranking.months(None)
        except NotFound:  # no campaign published yet
            return []

    def _names(self, member_ids) -> dict:
        """Names of members by id, for lists other services keep by id only."""
        ids = sorted({m for m in member_ids if m})
        places = self.roster.member_places(ids) if ids else {}
        return {m: place["name"] for m, place in places.items()}

    # -- admin: months (R15) -----------------------------------------------------------------

    @http("GET", f"{ADMIN}/months", auth=True, query=CampaignQuery, response=MonthsOut)
    def admin_months(self, request, member_id, query):
        """The campaign's months: each cutoff, and for closed ones when, by whom, how many
        were ranked and the snapshot."""
        self.roster.authorize(member_id)
        months = self.ranking.months(query["campaign_id"])
        names = self._names(m.get("closed_by") for m in months)
        closed = [m["month"] for m in months if m["closed"]]
        missing = set(self.awards.missing_months(months[0]["campaign_id"], closed)
                      if closed else ())
        now = self.clock.now()
        return {"months": [dict(m, closed_by_name=names.get(m.get("closed_by")),
                                awards_missing=m["month"] in missing) if m["closed"]
                           else dict(m, closable=datetime.fromisoformat(m["cutoff"]) < now)
                           for m in months]}

    @http("POST", f"{ADMIN}/months/<month:month>/close", auth=True, body=EmptyBody,
          query=CampaignQuery, response=MonthOut)
    def admin_close_month(self, request, month, member_id, body, query):
        """Close a month now (idempotent): refused before its cutoff, before the month
        ahead of it is closed, and while ranking lacks passes that attempts has; a past
        campaign's month with `campaign_id`."""
        campaign = self._bank_admin(member_id, query["campaign_id"])
        return self.ranking.with_timeout(IMPORT_TIMEOUT).close_month(
            campaign["campaign_id"], month, member_id)

    @http("POST", f"{ADMIN}/ranking/rebuild", auth=True, body=EmptyBody, response=RebuildOut)
    def admin_rebuild_ranking(self, request, member_id, body):
        """Replay the live boards from attempts' passes (system administrators)."""
        self.roster.authorize(member_id, None, ("system_admin",))
        return self.ranking.with_timeout(IMPORT_TIMEOUT).rebuild()

    @http("POST", f"{ADMIN}/events/replay", auth=True, body=ReplayBody, response=ReplayOut)
    def admin_replay_events(self, request, member_id, body):
        """Republish a producer's retained events since a time (of one type) into one
        agency's queue, with their original event ids (system administrators;
        kernel/replay.py)."""
        self.roster.authorize(member_id, None, ("system_admin",))
        producer = getattr(self, body["service"]).with_timeout(IMPORT_TIMEOUT)
        return producer.replay_events(since=body["since"].isoformat(), queue=body["queue"],
                                      type=body["type"])

    # -- admin: awards (R16, R20) ------------------------------------------------------------

    @http("GET", f"{ADMIN}/awards/<month:period>", auth=True, query=CampaignQuery,
          response=PeriodAwardsOut)
    def admin_awards(self, request, period, member_id, query):
        """A month's awards (granted, paid, revoked) with what the board showed."""
        who = self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        items = self.awards.awards_of_period(campaign["campaign_id"], period)
        if who["visible"] is not None:  # an administrator below the top sees their part
            places = self.roster.member_places(
                sorted({a["member_id"] for a in items if a.get("member_id")}))
            items = in_scope(items, who["visible"], lambda award: award.get("org_unit_id")
                             or places.get(award.get("member_id"), {}).get("org_unit_id"))
        return {"items": items}

    @http("GET", f"{ADMIN}/awards/<month:period>/ledger.xlsx", auth=True, query=CampaignQuery,
          response=XLSX)
    def admin_awards_ledger(self, request, period, member_id, query):
        """The month's award ledger for finance (XLSX, Chinese headers, payable total)."""
        campaign = self._bank_admin(member_id, query["campaign_id"])
        awards = self.awards.awards_of_period(campaign["campaign_id"], period)
        places = self.roster.member_places(
            sorted({a["member_id"] for a in awards if a.get("member_id")}))
        # the payee's full phone for whoever may read it (a system administrator: roster
        # decides); an organisation administrator's ledger keeps the masked one
        try:
            phones = self.roster.contact_phones(member_id, sorted(places))
        except Forbidden:
            phones = {}
        departments = {member: {"department": place["department"], "phone": phones.get(member)}
                       for member, place in places.items()}
        ledger = self.awards.ledger(campaign["campaign_id"], period, departments)
        return Response(base64.b64decode(ledger["content_b64"]), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f'attachment; filename="{ledger["filename"]}"'})

    @http("GET", f"{ADMIN}/awards-policy", auth=True, query=CampaignQuery, response=PolicyOut)
    def admin_award_policy(self, request, member_id, query):
        """The campaign's monthly award policy (R16), as data."""
        self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        return {"lines": self.awards.policies(campaign["campaign_id"])}

    @http("PUT", f"{ADMIN}/awards-policy", auth=True, body=PolicyBody, response=PolicyOut)
    def admin_set_award_policy(self, request, member_id, body):
        """Replace the monthly award policy; months already closed keep the policy (and the
        awards) they were granted under."""
        campaign = self._bank_admin(member_id)
        return {"lines": self.awards.set_policies(campaign["campaign_id"], body["lines"],
                                                  actor=member_id)}

    @http("GET", f"{ADMIN}/awards-settings", auth=True, query=CampaignQuery,
          response=AwardSettingsOut)
    def admin_award_settings(self, request, member_id, query):
        """Who is eligible for a prize (R16, R20) and R18's numbers of excellent units and
        organ branches, with who changed them last and when."""
        self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        return self._named_settings(self.awards.settings(campaign["campaign_id"]))

    @http("PUT", f"{ADMIN}/awards-settings", auth=True, body=AwardSettingsBody,
          response=AwardSettingsOut)
    def admin_set_award_settings(self, request, member_id, body):
        """Change any of them (system/organisation administrators; audited); months already
        granted keep the settings they were granted under."""
        campaign = self._bank_admin(member_id)
        return self._named_settings(
            self.awards.set_settings(member_id, campaign["campaign_id"], body))

    def _named_settings(self, settings):
        return dict(settings, updated_by_name=self._names([settings.get("updated_by")]).get(
            settings.get("updated_by")))

    @http("POST", f"{ADMIN}/awards/<month:month>/grant", auth=True, body=EmptyBody,
          query=CampaignQuery, response=GrantOut)
    def admin_grant_month(self, request, month, member_id, body, query):
        """Grant a closed month's awards from its snapshot if they are missing (idempotent:
        a month whose awards exist is left as it is; system/organisation administrators);
        a past campaign's month with `campaign_id`."""
        campaign = self._bank_admin(member_id, query["campaign_id"])
        return self.awards.with_timeout(IMPORT_TIMEOUT).grant_month(
            member_id, campaign["campaign_id"], month)

    @http("GET", f"{ADMIN}/annual", auth=True, query=CampaignQuery, response=AnnualOut)
    def admin_annual(self, request, member_id, query):
        """R17/R18: the champion and every unit's and organ branch's score with the figures
        behind it (participation, results, members expected and playing)."""
        return self._annual_in_scope(member_id, query["campaign_id"])[1]

    def _annual_in_scope(self, member_id, campaign_id=None):
        """The campaign and its annual results as the actor may read them, for the JSON and
        the XLSX alike: the units and branches of their part of the tree, and the champion
        only if the champion is a member of it."""
        who = self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(campaign_id)
        results = self.awards.annual_results(campaign["campaign_id"])
        champion = results["champion_member_id"]
        place = self.roster.member_places([champion]).get(champion, {}) if champion else {}
        if not in_scope([place], who["visible"], lambda p: p.get("org_unit_id")):
            champion, place = None, {}
        results.update(champion_member_id=champion, champion_name=place.get("name"))
        for kind in ("units", "branches"):
            results[kind] = in_scope(results.get(kind, []), who["visible"])
        return campaign, results

    @http("GET", f"{ADMIN}/participation", auth=True, query=CampaignQuery,
          response=ParticipationOut)
    def admin_participation(self, request, member_id, query):
        """R19, live: every unit's and organ branch's members expected, playing, the rate,
        and the score R18 would give now; an administrator sees their part."""
        who = self.roster.authorize(member_id)
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        table = self.awards.with_timeout(IMPORT_TIMEOUT).participation(campaign["campaign_id"])
        names = {node["id"]: node["name"] for node in self.roster.org_tree()}
        for kind in ("units", "branches"):
            table[kind] = [dict(row, name=names.get(row["org_unit_id"], row["org_unit_id"]))
                           for row in in_scope(table[kind], who["visible"])]
        return table

    @http("GET", f"{ADMIN}/annual.xlsx", auth=True, query=CampaignQuery, response=XLSX)
    def admin_annual_xlsx(self, request, member_id, query):
        """The annual results as XLSX (Chinese headers, every figure): the rows the JSON
        shows the same administrator, no more."""
        campaign, results = self._annual_in_scope(member_id, query["campaign_id"])
        names = {node["id"]: node["name"] for node in self.roster.org_tree()}
        xlsx = self.awards.annual_xlsx(campaign["campaign_id"], names,
                                       results["champion_name"], results)
        return Response(base64.b64decode(xlsx["content_b64"]), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f'attachment; filename="{xlsx["filename"]}"'})

    @http("POST", f"{ADMIN}/awards/<string:award_id>/paid", auth=True, body=EmptyBody,
          response=AwardOut)
    def admin_award_paid(self, request, award_id, member_id, body):
        """Finance has paid this award (it is never revoked silently afterwards)."""
        self._bank_admin(member_id)
        return self.awards.mark_paid(member_id, award_id)

    # -- admin: review of flagged play (R20) -------------------------------------------------

    @http("GET", f"{ADMIN}/flags", auth=True, query=FlagQuery, response=NamedFlagPageOut)
    def admin_flags(self, request, member_id, query):
        """Flagged play (fast passes, members who have seen most of a bank), newest first,
        for members in my part of the organisation; `reviewed=false` for the open ones."""
        who = self.roster.authorize(member_id)
        page = self.attempts.flags(who["visible"], query["limit"], query["offset"],
                                   query["reviewed"])
        names = self._names(flag["member_id"] for flag in page["items"])
        page["items"] = [dict(flag, name=names.get(flag["member_id"]))
                         for flag in page["items"]]
        return page

    @http("POST", f"{ADMIN}/flags/<int:flag_id>/review", auth=True, body=ReviewBody,
          response=FlagOut)
    def admin_review_flag(self, request, flag_id, member_id, body):
        """Record the review's conclusion (disqualifying is a separate, explicit decision).
        Clearing a flag releases the member's held awards, so only the campaign's
        administrators (system/organisation) clear one; a unit's administrator may uphold."""
        who = self.roster.authorize(member_id)
        if body["outcome"] == "cleared":
            self._bank_admin(member_id)
        return self.attempts.review_flag(member_id, flag_id, body["note"], body["outcome"],
                                         who["visible"])

    # -- admin: campaign, levels and the question bank ---------------------------------------

    def _bank_admin(self, member_id, campaign_id=None):
        """The campaign (the current one by default), if the actor administers its
        organisation."""
        campaign = self.question_bank.get_campaign(campaign_id)
        self.roster.authorize(member_id, campaign["organisation_id"], BANK_ROLES)
        return campaign

    def _administers_bank(self, member_id, campaign) -> bool:
        """True for the campaign's administrators (who see the answers anyway), False for
        any other administrator; Forbidden for a member without a role."""
        try:
            self.roster.authorize(member_id, campaign["organisation_id"], BANK_ROLES)
            return True
        except Forbidden:
            self.roster.authorize(member_id)
            return False

    @http("GET", f"{ADMIN}/campaign", auth=True, query=CampaignQuery, response=CampaignViewOut)
    def admin_campaign(self, request, member_id, query):
        """The campaign's levels with their settings, active question counts and the
        warnings to fix before a level opens (a bank smaller than the draw); a unit's
        administrator gets the levels without the bank's information, as members do. The
        current campaign, or a draft or past one by `campaign_id`."""
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        return campaign if self._administers_bank(member_id, campaign) else without_bank(
            campaign)

    @http("PATCH", f"{ADMIN}/campaign/levels/<int:number>", auth=True, body=LevelPatch,
          query=CampaignQuery, response=CampaignViewOut)
    def admin_update_level(self, request, number, member_id, body, query):
        """Edit a level before it opens; after, only with `force` (logged); a draw other
        than R10's 20 questions only with `confirm`."""
        campaign = self._bank_admin(member_id, query["campaign_id"])
        force, confirm = body.pop("force"), body.pop("confirm")
        return self.question_bank.update_level(member_id, campaign["campaign_id"], number,
                                               body, force, confirm)

    @http("GET", f"{ADMIN}/campaign/levels/<int:number>/statistics", auth=True,
          query=CampaignQuery, response=LevelStatisticsOut)
    def admin_level_statistics(self, request, number, member_id, query):
        """Pass rate, mean attempts to pass, and each question's facility and
        discrimination; flagged and most-often-wrong questions first. A unit's
        administrator (who may play too) gets the level's figures only: per-question
        counters would tell a player which of their answers were wrong."""
        campaign = self.question_bank.get_campaign(query["campaign_id"])
        return self.question_bank.level_statistics(
            campaign["campaign_id"], number,
            per_question=self._administers_bank(member_id, campaign))

    @http("POST", f"{ADMIN}/questions/import", auth=True, upload=QuestionImportForm,
          upload_max=sheets.MAX_BYTES, response=ImportReportOut)
    def admin_import_questions(self, request, member_id, upload):
        """A question sheet (multipart field `file`: CSV in UTF-8 or GBK, XLSX or JSON;
        field `dry_run`). Answers the per-row report."""
        campaign = self._bank_admin(member_id, upload["form"]["campaign_id"])
        return self.question_bank.with_timeout(IMPORT_TIMEOUT).import_sheet(
            campaign["campaign_id"], base64.b64encode(upload["data"]).decode(),
            upload["filename"], upload["form"]["dry_run"], member_id)

    @http("GET", f"{ADMIN}/questions", auth=True, query=QuestionQuery, response=QuestionPageOut)
    def admin_questions(self, request, member_id, query):
        """Questions with answers and statistics, filtered and paged."""
        campaign = self._bank_admin(member_id, query.pop("campaign_id"))
        return self.question_bank.list_questions(campaign["campaign_id"], **query)

    @http("GET", f"{ADMIN}/questions/export", auth=True, query=ExportQuery,
          response=QUESTION_EXPORT)
    def admin_export_questions(self, request, member_id, query):
        """The bank as CSV, XLSX or JSON in the import's shape (ids included, so an edited
        export re-imports as updates)."""
        campaign = self._bank_admin(member_id, query["campaign_id"])
        export = self.question_bank.export_questions(
            campaign["campaign_id"], query["format"], query["level"], query["status"])
        return Response(base64.b64decode(export["content_b64"]),
                        mimetype=export["media_type"].split(";")[0],
                        headers={"Content-Disposition":
                                 f'attachment; filename="{export["filename"]}"'})

    @http("PATCH", f"{ADMIN}/questions/<string:question_id>", auth=True, body=QuestionChanges,
          response=QuestionRowOut)
    def admin_update_question(self, request, question_id, member_id, body):
        """Edit a question; checked as an imported row is."""
        self._bank_admin(member_id)
        return self.question_bank.update_question(member_id, question_id, body)

    @http("POST", f"{ADMIN}/questions/<string:question_id>/retire", auth=True,
          body=EmptyBody, response=QuestionRowOut)
    def admin_retire_question(self, request, question_id, member_id, body):
        """Never drawn again; papers already drawn keep their copy."""
        self._bank_admin(member_id)
        return self.question_bank.retire_question(member_id, question_id)

    @http("POST", f"{ADMIN}/questions/<string:question_id>/void", auth=True,
          body=EmptyBody, response=QuestionRowOut)
    def admin_void_question(self, request, question_id, member_id, body):
        """R12: a question nobody could answer right is voided: retired, and right on every
        paper that drew it once those papers are regraded (`.../regrade`)."""
        self._bank_admin(member_id)
        return self.question_bank.void_question(member_id, question_id)

    @http("POST", f"{ADMIN}/questions/<string:question_id>/regrade", auth=True,
          body=RegradeBody, response=RegradeOut)
    def admin_regrade_question(self, request, question_id, member_id, body):
        """R12: grade again every closed attempt that drew the question, with its corrected
        key (a voided question right on every paper). Failures that now pass become passes
        at their original time; passes are never taken away (listed); closed months are not
        rewritten (listed). `dry_run` (the default) reports who changes and writes nothing."""
        self._bank_admin(member_id)
        report = self.attempts.with_timeout(IMPORT_TIMEOUT).regrade(
            member_id, question_id, body["dry_run"])
        named = [row for part in ("now_passed", "kept_passes", "pending", "unmatched", "runs",
                                  "closed_months") for row in report[part]]
        names = self._names(row["member_id"] for row in named)
        for row in named:
            row["name"] = names.get(row["member_id"])
        return report

    # -- admin: campaigns as data, several over the years (issue 19) -----------------------

    def _organisation(self):
        """The organisation a new campaign belongs to: the tree's first organisation (the
        organisation sheet's top), or None before the sheet is in."""
        return next((node["id"] for node in self.roster.org_tree()
                     if node["kind"] == "organisation"), None)

    @http("GET", f"{ADMIN}/setup", auth=True, response=SetupOut)
    def admin_setup(self, request, member_id):
        """A fresh install's checklist, ticked as it is done: the organisation sheet, a
        published campaign, members in a unit or branch, and level 1's questions."""
        self.roster.authorize(member_id)
        nodes = self.roster.org_tree()
        bank = self.question_bank.setup()
        places = [node for node in nodes if node["kind"] in ("unit", "branch")]
        return {"organisation": bool(places), "campaign": bank["published"],
                "members": any(node["members"] for node in places),
                "questions": bank["questions"], "campaign_id": bank["campaign_id"]}

    @http("GET", f"{ADMIN}/campaigns", auth=True, response=CampaignListOut)
    def admin_campaigns(self, request, member_id):
        """Every campaign, newest first: drafts, the members' current one, past ones (whose
        boards, awards and results stay readable with `campaign_id`)."""
        self.roster.authorize(member_id)
        return self.question_bank.list_campaigns()

    @http("POST", f"{ADMIN}/campaigns", auth=True, body=CampaignBody, status=201,
          response=CampaignImportOut)
    def admin_create_campaign(self, request, member_id, body):
        """A year's campaign from the seed's pattern (R5/R9), as a draft to edit and
        publish; a year that exists already is refused (edit it by its sheet)."""
        organisation = self._organisation()
        self.roster.authorize(member_id, organisation, BANK_ROLES)
        return self.question_bank.create_campaign(member_id, organisation, body["year"],
                                                  body["time_zone"], body["name"],
                                                  body["dry_run"])

    @http("POST", f"{ADMIN}/campaigns/import", auth=True, upload=CampaignImportForm,
          upload_max=sheets.MAX_BYTES, response=CampaignImportOut)
    def admin_import_campaign(self, request, member_id, upload):
        """A campaign sheet (multipart field `file`, CSV or XLSX, one row a level; fields
        `dry_run`, `force`): a new year is a draft; a year that exists is edited, its begun
        parts only with `force` (logged). Applied whole or not at all."""
        organisation = self._organisation()
        self.roster.authorize(member_id, organisation, BANK_ROLES)
        form = upload["form"]
        return self.question_bank.with_timeout(IMPORT_TIMEOUT).import_campaign_sheet(
            member_id, base64.b64encode(upload["data"]).decode(), upload["filename"],
            organisation_id=organisation, dry_run=form["dry_run"], force=form["force"])

    @http("GET", f"{ADMIN}/campaigns/template", auth=True, query=TemplateQuery,
          response=CAMPAIGN_SHEET)
    def admin_campaign_template(self, request, member_id, query):
        """The seed's pattern for a year as a campaign sheet to start from (one level a
        month March–June, two a month July–October, from 12 March)."""
        self.roster.authorize(member_id)
        year = query["year"] or self.clock.now().year
        return _file(self.question_bank.campaign_template(year, query["time_zone"],
                                                          query["format"]))

    @http("GET", f"{ADMIN}/campaigns/<string:campaign_id>/sheet", auth=True,
          query=SheetQuery, response=CAMPAIGN_SHEET)
    def admin_campaign_sheet(self, request, campaign_id, member_id, query):
        """A campaign as its sheet: edited and imported again, it is an edit."""
        self._bank_admin(member_id, campaign_id)
        return _file(self.question_bank.export_campaign(campaign_id, query["format"]))

    @http("POST", f"{ADMIN}/campaigns/<string:campaign_id>/publish", auth=True,
          body=EmptyBody, response=CampaignViewOut)
    def admin_publish_campaign(self, request, campaign_id, member_id, body):
        """The draft becomes the members' campaign: refused while another published
        campaign runs (members never lose the one they are playing)."""
        self._bank_admin(member_id, campaign_id)
        return self.question_bank.publish_campaign(member_id, campaign_id)

    @http("POST", f"{ADMIN}/campaigns/<string:campaign_id>/bank/copy", auth=True,
          body=CopyBankBody, response=ImportReportOut)
    def admin_copy_bank(self, request, campaign_id, member_id, body):
        """Copy a past campaign's active questions into this one's same-numbered levels
        (twice changes nothing the second time)."""
        self._bank_admin(member_id, body["from_campaign_id"])
        self._bank_admin(member_id, campaign_id)
        return self.question_bank.with_timeout(IMPORT_TIMEOUT).copy_bank(
            member_id, body["from_campaign_id"], campaign_id, body["dry_run"])

    # -- other agencies (docs/agencies.md): an AGENCY_API_KEYS key, read only -------------------

    @http("GET", f"{API}/agency/roster", agency=True, query=agencies.RosterQuery,
          response=AgencyRosterOut)
    def agency_roster(self, request, agency, query):
        """The roster for an authorised agency (its key in the `X-Agency-Key` header).

        Members changed since `since` (all without it), oldest change first, each named as
        the events name them (`member`: name, masked phone, unit, branch), with status and
        disqualification; `as_of` is the next `since`."""
        since = query["since"].isoformat() if query["since"] else None
        return self.roster.agency_roster(since, query["limit"], query["offset"])

    @http("GET", f"{API}/agency/members/<string:target>", agency=True, response=AgencyMemberOut)
    def agency_member(self, request, target, agency):
        """One member as an authorised agency sees them (the roster's item)."""
        return self.roster.agency_member(target)

    # -- pages -------------------------------------------------------------------------------

    @http("GET", "/openapi.json", response=OpenApiOut)
    def openapi_document(self, request):
        """This API, described as OpenAPI 3."""
        return openapi.document(type(self))

    @http("GET", "/docs", response="text/html")
    def docs_page(self, request):
        """A page that reads /openapi.json."""
        return html_page(os.path.join(STATIC, "docs.html"))

    @http("GET", "/static/<string:name>", response="text/javascript")
    def static_file(self, request, name):
        """The pages' shared script (no build step: served as written)."""
        if name not in STATIC_FILES:
            raise NotFound(f"no static file {name}")
        with open(os.path.join(STATIC, name), encoding="utf-8") as handle:
            return Response(handle.read(), mimetype=STATIC_FILES[name],
                            headers={"Cache-Control": "no-cache"})

    @http("GET", "/admin", response="text/html")
    def admin_page(self, request):
        """The organisers' page (it logs in as the member page does; every call it makes
        is checked by role)."""
        return html_page(os.path.join(STATIC, "admin.html"))

    @http("GET", "/", response="text/html")
    def member_page(self, request):
        """The member page."""
        return html_page(os.path.join(STATIC, "index.html"))
