"""Every endpoint's 4xx answers over HTTP, in the contract's shape
(`{"error": {code, message, fields}}`), on one embedded platform with the demo.

The cases are a table keyed by the gateway's own route names: a route added without its cases
fails `test_every_route_has_its_cases`. For each route: no token and a tampered token (401);
a member without an administrator's role on an admin route, with a body that would pass
validation, so the role check is what answers (403); a unit administrator on the routes only
the campaign's administrators may use (403); a body that fails validation (400 naming the
field), a body that is not JSON (400), one over the limit (413); and the 404s and 409s that
belong to the route. Nothing a refused call asked for may have changed: the audit log and the
member counted at the end say so."""
import json
from datetime import datetime, timezone

import pytest
import requests

from challenge import demo
from challenge.platform import EmbeddedPlatform, embedded_settings
from gateway import openapi
from gateway.service import GatewayService
from kernel import bus, clock
from kernel.settings import Settings
from tests.e2e.conftest import free_port
from tests.thin_path import login

MEMBER, UNIT_ADMIN = "13800000010", "13800000001"
MEMBER_ID = "{member}"
PARAMS = {"award_id": "no-such-award", "period": "2018-04", "month": "2018-04",
          "target": MEMBER_ID, "unit_id": "unit-education", "number": "1", "flag_id": "1",
          "question_id": "{question}", "attempt_id": "{attempt}", "scope_id": "system",
          "name": "common.js", "campaign_id": "{campaign}", "notice_id": "1"}
NO_SUCH_CAMPAIGN = "campaign_id=" + "x" * 37  # longer than any id: refused, not looked up

# route name -> a body that passes validation (None: the route takes no JSON body)
VALID = {
    "admin_create_campaign": {"year": 2019, "dry_run": True},
    "admin_publish_campaign": {},
    "admin_copy_bank": {"from_campaign_id": "{campaign}", "dry_run": True},
    "admin_award_paid": {}, "admin_close_month": {}, "admin_rebuild_ranking": {},
    "admin_retire_question": {}, "restart_run": {}, "admin_void_question": {},
    "admin_regrade_question": {"dry_run": True},
    "admin_change_role": {"role": "organisation_admin", "org_unit_id": "federation",
                          "grant": True},
    "admin_disqualify": {"reason": "a test of the refusal"},
    "admin_post_notice": {"title": "通知", "body": "内容", "audience_id": "unit-education",
                          "starts_at": "2018-05-20T00:00:00+08:00",
                          "ends_at": "2018-05-21T00:00:00+08:00"},
    "admin_withdraw_notice": {},
    "admin_send_reminders": {"kind": "level_open", "level": 1, "dry_run": True},
    "admin_reinstate": {"reason": "a test of the refusal"},
    "admin_review_flag": {"note": "a test of the refusal", "outcome": "cleared"},
    "admin_set_award_policy": {"lines": []},
    "admin_set_award_settings": {"exclude_bank_admins": True},
    "admin_grant_month": {},
    "admin_replay_events": {"service": "awards", "since": "2018-03-01T00:00:00+00:00",
                            "queue": "agency-refused"},
    "admin_set_unit_admin": {"member_id": MEMBER_ID},
    "admin_update_level": {"title": "refused"},
    "admin_update_member": {"name": "refused"},
    "admin_update_question": {"stem": "refused"},
    "admin_upsert_org_units": {"nodes": [{"id": "x", "parent_id": "system", "kind": "unit",
                                          "name": "refused"}]},
    "participation": {"participation": "voluntary"},
    "start_attempt": {"level": 1},
    "submit_attempt": {"answers": {}},
    "save_answers": {"answers": {}},
    "request_code": {"phone": "13800000010"},
    "token": {"phone": "13800000010", "code": "000000"},
}
# route name -> (a body that fails validation, the field it names)
INVALID = {
    "admin_create_campaign": ({"year": 1999}, "year"),
    "admin_publish_campaign": ({"x": 1}, "x"),
    "admin_copy_bank": ({}, "from_campaign_id"),
    "admin_award_paid": ({"x": 1}, "x"), "admin_close_month": ({"x": 1}, "x"),
    "admin_rebuild_ranking": ({"x": 1}, "x"), "admin_retire_question": ({"x": 1}, "x"),
    "admin_void_question": ({"x": 1}, "x"),
    "admin_regrade_question": ({"dry_run": "maybe"}, "dry_run"),
    "restart_run": ({"x": 1}, "x"),
    "admin_change_role": ({"role": "king", "org_unit_id": "system", "grant": True}, "role"),
    "admin_disqualify": ({"reason": ""}, "reason"),
    "admin_post_notice": ({"title": "x"}, "body"),
    "admin_withdraw_notice": ({"x": 1}, "x"),
    "admin_send_reminders": ({"kind": "sing"}, "kind"),
    "admin_reinstate": ({}, "reason"),
    "admin_review_flag": ({"note": "a note", "outcome": "maybe"}, "outcome"),
    "admin_set_award_policy": ({"lines": "all"}, "lines"),
    "admin_set_award_settings": ({"excellent_units": -1}, "excellent_units"),
    "admin_grant_month": ({"x": 1}, "x"),
    "admin_replay_events": ({"service": "awards", "since": "2018-03-01T00:00:00",
                             "queue": "agency-x"}, "since"),
    "admin_set_unit_admin": ({}, "member_id"),
    "admin_update_level": ({"time_limit_s": 60}, "time_limit_s"),
    "admin_update_member": ({"status": "gone"}, "status"),
    "admin_update_question": ({"level": "one"}, "level"),
    "admin_upsert_org_units": ({"nodes": []}, "nodes"),
    "participation": ({"participation": "required"}, "participation"),
    "start_attempt": ({"level": "1"}, "level"),
    "submit_attempt": ({"answers": ["A"]}, "answers"),
    "save_answers": ({"answers": {"q": ["AB"]}}, "answers"),
    "request_code": ({}, "phone"),
    "token": ({"phone": "13800000010"}, "code"),
}
# route name -> query strings that fail validation, and the field named
BAD_QUERY = {
    "admin_campaign_template": ("year=1999", "year"),
    "admin_campaign_sheet": ("format=pdf", "format"),
    **{name: (NO_SUCH_CAMPAIGN, "campaign_id") for name in (
        "admin_campaign", "admin_update_level", "admin_level_statistics", "admin_months",
        "admin_awards", "admin_awards_ledger", "admin_award_policy", "admin_annual",
        "admin_annual_xlsx", "admin_participation", "admin_award_settings",
        "admin_close_month", "admin_grant_month")},
    "admin_audit": ("limit=0", "limit"), "admin_flags": ("reviewed=maybe", "reviewed"),
    "admin_r20_notice": ("from=yesterday", "from"),
    "admin_r20_notice_xlsx": ("until=2018-13-01", "until"),
    "admin_reminders": ("limit=0", "limit"),
    "admin_members": ("status=gone", "status"), "admin_questions": ("limit=9999", "limit"),
    "admin_export_questions": ("format=pdf", "format"), "my_attempts": ("offset=-1", "offset"),
    "leaderboard": ("month=2018-5", "month"), "agency_roster": ("since=yesterday", "since"),
    # what organisers hand on (issue 23)
    **{name: ("month=2018-5", "month") for name in (
        "admin_shortlist", "admin_shortlist_xlsx", "winners", "admin_winners_xlsx")},
    "admin_unit_reports": (NO_SUCH_CAMPAIGN, "campaign_id"),
    "admin_unit_reports_xlsx": ("unit_id=" + "u" * 37, "unit_id"),
}
# routes only the campaign's organisation or system administrators may use
BANK_ONLY = {"admin_close_month", "admin_update_level", "admin_import_questions",
             "admin_questions", "admin_export_questions", "admin_update_question",
             "admin_retire_question", "admin_void_question", "admin_regrade_question",
             "admin_set_award_policy", "admin_award_paid", "admin_set_award_settings",
             "admin_grant_month",
             "admin_awards_ledger", "admin_rebuild_ranking", "admin_change_role",
             "admin_upsert_org_units", "admin_replay_events", "admin_import_org_units",
             "admin_create_campaign", "admin_import_campaign", "admin_publish_campaign",
             "admin_copy_bank", "admin_campaign_sheet", "admin_send_reminders"}
UPLOADS = {"admin_import_members", "admin_import_questions", "admin_import_org_units",
           "admin_import_campaign"}
PUBLIC = {"healthz", "readyz", "prometheus", "openapi_document", "docs_page", "member_page",
          "admin_page", "static_file", "request_code", "token"}
NOT_FOUND = {  # route name -> (method, path, body): the thing does not exist
    "admin_publish_campaign": ("POST", "/api/v1/admin/campaigns/no-such-campaign/publish", {}),
    "admin_campaign_sheet": ("GET", "/api/v1/admin/campaigns/no-such-campaign/sheet", None),
    "admin_copy_bank": ("POST", "/api/v1/admin/campaigns/no-such-campaign/bank/copy",
                        {"from_campaign_id": "{campaign}"}),
    "admin_campaign": ("GET", "/api/v1/admin/campaign?campaign_id=no-such-campaign", None),
    "admin_member": ("GET", "/api/v1/admin/members/no-such-member", None),
    "admin_member_review": ("GET", "/api/v1/admin/members/no-such-member/review", None),
    "admin_withdraw_notice": ("POST", "/api/v1/admin/notices/999999/withdraw", {}),
    "admin_post_notice": ("POST", "/api/v1/admin/notices", dict({"title": "通知", "body": "内容", "audience_id": "unit-education",
                          "starts_at": "2018-05-20T00:00:00+08:00",
                          "ends_at": "2018-05-21T00:00:00+08:00"},
                          audience_id="no-such-unit")),
    "admin_update_member": ("PATCH", "/api/v1/admin/members/no-such-member", {"name": "x"}),
    "admin_disqualify": ("POST", "/api/v1/admin/members/no-such-member/disqualify",
                         {"reason": "no one"}),
    "admin_reinstate": ("POST", "/api/v1/admin/members/no-such-member/reinstate",
                        {"reason": "no one"}),
    "admin_set_unit_admin": ("PUT", "/api/v1/admin/org-units/no-such-unit/admin",
                             {"member_id": MEMBER_ID}),
    "admin_review_flag": ("POST", "/api/v1/admin/flags/999999/review",
                          {"note": "none", "outcome": "cleared"}),
    "admin_level_statistics": ("GET", "/api/v1/admin/campaign/levels/99/statistics", None),
    "admin_update_level": ("PATCH", "/api/v1/admin/campaign/levels/99", {"title": "x"}),
    "admin_update_question": ("PATCH", "/api/v1/admin/questions/no-such-question",
                              {"stem": "x"}),
    "admin_retire_question": ("POST", "/api/v1/admin/questions/no-such-question/retire", {}),
    "admin_void_question": ("POST", "/api/v1/admin/questions/no-such-question/void", {}),
    "admin_regrade_question": ("POST", "/api/v1/admin/questions/no-such-question/regrade",
                               {"dry_run": True}),
    "admin_award_paid": ("POST", "/api/v1/admin/awards/no-such-award/paid", {}),
    "admin_annual": ("GET", "/api/v1/admin/annual", None),
    "admin_annual_xlsx": ("GET", "/api/v1/admin/annual.xlsx", None),
    "submit_attempt": ("POST", "/api/v1/attempts/no-such-attempt/submit", {"answers": {}}),
    "save_answers": ("PUT", "/api/v1/attempts/no-such-attempt/answers", {"answers": {}}),
    "agency_member": ("GET", "/api/v1/agency/members/no-such-member", None),
    "static_file": ("GET", "/static/secret.py", None),
    "admin_shortlist": ("GET", "/api/v1/admin/shortlist?month=2017-01", None),
    "admin_unit_reports_xlsx": ("GET", "/api/v1/admin/reports/units.xlsx?unit_id=no-such-unit",
                                None),
}
CONFLICT = {  # route name -> (who, method, path, body): not possible in this state
    "admin_publish_campaign": ("admin", "POST", "/api/v1/admin/campaigns/{campaign}/publish",
                               {}),
    "admin_create_campaign": ("admin", "POST", "/api/v1/admin/campaigns", {"year": 2018}),
    "admin_close_month": ("admin", "POST", "/api/v1/admin/months/2018-05/close", {}),
    "admin_grant_month": ("admin", "POST", "/api/v1/admin/awards/2018-05/grant", {}),
    "start_attempt": ("unit_admin", "POST", "/api/v1/attempts", {"level": 2}),
    "restart_run": ("member", "POST", "/api/v1/runs", {}),
    "admin_reinstate": ("admin", "POST", f"/api/v1/admin/members/{MEMBER_ID}/reinstate",
                        {"reason": "was never out"}),
    "leaderboard": ("member", "GET", "/api/v1/leaderboards/system?month=2018-05", None),
    "admin_send_reminders": ("admin", "POST", "/api/v1/admin/reminders",
                             {"kind": "level_open", "level": 9, "dry_run": True}),
    "admin_shortlist_xlsx": ("admin", "GET", "/api/v1/admin/shortlist.xlsx?month=2018-05", None),
    "winners": ("member", "GET", "/api/v1/winners?month=2018-05", None),
    "admin_winners_xlsx": ("admin", "GET", "/api/v1/admin/winners.xlsx?month=2018-05", None),
}


def routes():
    return {name: entrypoint for name, _, entrypoint in openapi.routes(GatewayService)}


ROUTES = routes()
AUTH = sorted(name for name, e in ROUTES.items() if e.auth)
ADMIN = sorted(name for name, e in ROUTES.items() if e.url.startswith("/api/v1/admin/"))
AGENCY = sorted(name for name, e in ROUTES.items() if e.agency)  # an agency's key, no token
AGENCY_KEY = "k" * 40
AGENCY_KEYS = f"other-agency=a-different-key-of-forty-bytes-0123456789,tests={AGENCY_KEY}"
BODIES = sorted(name for name, e in ROUTES.items() if e.body_schema is not None)
PAGED = sorted(name for name, e in ROUTES.items()
               if e.query_schema is not None and "offset" in e.query_schema().fields)


FAKE = clock.FakeClock(datetime(2018, 5, 20, 1, 0, tzinfo=timezone.utc))


@pytest.fixture(autouse=True)
def _the_modules_clock():
    clock.install(FAKE)  # tests/conftest.py puts the system clock back after each test


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    bus.reset()
    clock.install(FAKE)
    port = free_port()
    base_settings = Settings.from_env().with_(policy={"MEMBER_REQUESTS_PER_MINUTE": "0",
                                                      "AGENCY_API_KEYS": AGENCY_KEYS})
    platform = EmbeddedPlatform(embedded_settings(str(tmp), port, base_settings)
                                .with_(rpc_timeout_seconds=5.0)).start()
    with platform.rpc() as rpc:
        demo.load(rpc)
    base = f"http://127.0.0.1:{port}"
    sms = platform.settings.sms_file
    member = login(base, sms, MEMBER)[0]
    admin = login(base, sms, demo.SYSTEM_ADMIN_PHONE)[0]
    unit_admin = login(base, sms, UNIT_ADMIN)[0]
    me = requests.get(f"{base}/api/v1/me", headers=member, timeout=10).json()["member"]
    assert me["roles"] == []  # a plain member
    paper = requests.post(f"{base}/api/v1/attempts", headers=member, json={"level": 1},
                          timeout=10).json()
    question = requests.get(f"{base}/api/v1/admin/questions", headers=admin,
                            params={"limit": 1}, timeout=10).json()["items"][0]["id"]
    campaign = requests.get(f"{base}/api/v1/admin/campaign", headers=admin,
                            timeout=10).json()["campaign_id"]
    ids = {"member": me["member_id"], "attempt": paper["attempt_id"], "question": question,
           "campaign": campaign}
    audit = requests.get(f"{base}/api/v1/admin/audit", headers=admin, timeout=10).json()
    yield {"base": base, "member": member, "admin": admin, "unit_admin": unit_admin,
           "agency": {"X-Agency-Key": AGENCY_KEY},
           "ids": ids, "audit_total": audit["total"], "me": me}
    platform.stop()


def fill(text, ids):
    return json.loads(json.dumps(text).replace("{member}", ids["member"])
                      .replace("{campaign}", ids["campaign"])
                      .replace("{attempt}", ids["attempt"]).replace("{question}", ids["question"]))


def path_of(name, ids):
    url = ROUTES[name].url
    for key, value in PARAMS.items():
        url = (url.replace(f"<string:{key}>", value).replace(f"<int:{key}>", value)
               .replace(f"<month:{key}>", value))
    return fill(url, ids)


def call(api, name, headers=None, body=None, data=None, query="", path=None):
    entrypoint = ROUTES[name]
    url = api["base"] + (path or path_of(name, api["ids"])) + (f"?{query}" if query else "")
    kwargs = {"headers": dict(headers or {}), "timeout": 30}
    if name in UPLOADS and data is None and body is None:
        kwargs["files"] = {"file": ("sheet.csv", "姓名,部门,手机号码,备注\n".encode())}
        kwargs["data"] = {"dry_run": "true"}
    elif data is not None:
        kwargs["data"] = data
        kwargs["headers"]["Content-Type"] = "application/json"
    elif body is not None:
        kwargs["json"] = fill(body, api["ids"])
    elif entrypoint.body_schema is not None:
        kwargs["json"] = fill(VALID[name], api["ids"])
    return requests.request(entrypoint.method, url, **kwargs)


def error_of(response, status, code):
    assert response.status_code == status, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and isinstance(error["fields"], dict)
    return error


def test_every_route_has_its_cases():
    assert set(BODIES) == set(VALID) == set(INVALID)
    assert set(ROUTES) - set(AUTH) - set(AGENCY) == PUBLIC
    queries = {name for name, e in ROUTES.items()
               if e.query_schema is not None and e.query_schema().fields}
    assert queries == set(BAD_QUERY)
    assert BANK_ONLY <= set(ADMIN) and UPLOADS <= set(ADMIN)
    assert set(NOT_FOUND) <= set(ROUTES) and set(CONFLICT) <= set(ROUTES)
    assert {"my_attempts", "leaderboard", "admin_members", "admin_audit"} <= set(PAGED)


@pytest.mark.parametrize("name", AUTH)
def test_no_token_or_a_tampered_one_is_401(api, name):
    error_of(call(api, name), 401, "unauthorized")
    token = api["member"]["Authorization"]
    payload, signature = token[7:].split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    error_of(call(api, name, {"Authorization": f"Bearer {forged}.{signature}"}), 401,
             "unauthorized")
    error_of(call(api, name, {"Authorization": "Basic abc"}), 401, "unauthorized")
    # a byte outside ASCII (it was a 500: compare_digest refuses such strings)
    error_of(call(api, name, {"Authorization": f"Bearer {payload}.{signature[:-1]}\xe9"}), 401,
             "unauthorized")


@pytest.mark.parametrize("name", AGENCY)
def test_the_agency_routes_want_an_agency_key(api, name):
    """No key, a wrong one, one in another case, or a member's token: 401 naming the header."""
    for headers in ({}, {"X-Agency-Key": "k" * 39}, {"X-Agency-Key": AGENCY_KEY.upper()},
                    {"X-Agency-Key": AGENCY_KEY + "\xe9"}, api["member"], api["admin"]):
        error = error_of(call(api, name, headers), 401, "unauthorized")
        assert "X-Agency-Key" in error["fields"], error
    assert call(api, name, api["agency"]).status_code == 200


def caller(api, name):
    """Who may call the route: an administrator, an agency, or a member."""
    return api["admin"] if name in ADMIN else api["agency"] if name in AGENCY else api["member"]


@pytest.mark.parametrize("name", ADMIN)
def test_a_member_without_a_role_is_refused_every_admin_route(api, name):
    error_of(call(api, name, api["member"]), 403, "forbidden")


@pytest.mark.parametrize("name", sorted(BANK_ONLY))
def test_a_unit_administrator_is_refused_the_campaign_administrators_routes(api, name):
    error_of(call(api, name, api["unit_admin"]), 403, "forbidden")


@pytest.mark.parametrize("name", BODIES)
def test_bad_bodies_are_400_naming_the_field_and_big_ones_413(api, name):
    who = caller(api, name)
    body, field = INVALID[name]
    error = error_of(call(api, name, who, body=body), 400, "bad_input")
    assert field in error["fields"], error
    error_of(call(api, name, who, data="{not json"), 400, "bad_input")
    error_of(call(api, name, who, data="[1, 2]"), 400, "bad_input")
    error_of(call(api, name, who, data=json.dumps({"x": "y" * 300_000})), 413, "too_large")
    # nested past what the parser recurses through (it was a 500), or past what we take
    for depth in (100_000, 40):
        deep = '{"x": ' + "[" * depth + "]" * depth + "}"
        assert "body" in error_of(call(api, name, who, data=deep), 400, "bad_input")["fields"]


@pytest.mark.parametrize("name", sorted(BAD_QUERY))
def test_bad_queries_are_400_naming_the_field(api, name):
    who = caller(api, name)
    query, field = BAD_QUERY[name]
    error = error_of(call(api, name, who, query=query), 400, "bad_input")
    assert field in error["fields"], error


@pytest.mark.parametrize("name", PAGED)
def test_offsets_past_any_list_are_400_naming_the_offset(api, name):
    """2**64 overflowed the database's OFFSET: a 500."""
    who = caller(api, name)
    for offset in (2**64, 10**9 + 1):
        error = error_of(call(api, name, who, query=f"offset={offset}"), 400, "bad_input")
        assert "offset" in error["fields"], error
    deepest = 480 if name == "admin_audit" else 10**9  # the audit log's pages end at 500
    assert call(api, name, who, query=f"offset={deepest}").status_code == 200
    if name == "admin_audit":  # a page reaching past 500 is refused naming the offset too
        error = error_of(call(api, name, who, query="offset=481"), 400, "bad_input")
        assert "offset" in error["fields"], error


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_uploads_without_a_file_or_with_junk_are_400_naming_the_file(api, name):
    r = requests.post(api["base"] + ROUTES[name].url, headers=api["admin"],
                      data={"dry_run": "true"}, timeout=30)
    assert "file" in error_of(r, 400, "bad_input")["fields"]
    r = requests.post(api["base"] + ROUTES[name].url, headers=api["admin"],
                      files={"file": ("sheet.xlsx", b"PK\x03\x04 not a workbook")},
                      data={"dry_run": "true"}, timeout=30)
    assert "file" in error_of(r, 400, "bad_input")["fields"]
    r = requests.post(api["base"] + ROUTES[name].url, headers=api["admin"],
                      files={"file": ("sheet.csv", b"a,b\n1,2\n")},
                      data={"dry_run": "perhaps"}, timeout=30)
    assert "dry_run" in error_of(r, 400, "bad_input")["fields"]


@pytest.mark.parametrize("name", sorted(NOT_FOUND))
def test_what_does_not_exist_is_404(api, name):
    method, path, body = NOT_FOUND[name]
    who = caller(api, name)
    r = requests.request(method, api["base"] + fill(path, api["ids"]), headers=who,
                         json=fill(body, api["ids"]) if body is not None else None, timeout=30)
    error_of(r, 404, "not_found")


@pytest.mark.parametrize("name", sorted(CONFLICT))
def test_what_is_not_possible_now_is_409(api, name):
    who, method, path, body = CONFLICT[name]
    r = requests.request(method, api["base"] + fill(path, api["ids"]), headers=api[who],
                         json=fill(body, api["ids"]) if body is not None else None, timeout=30)
    error = error_of(r, 409, "conflict")
    if name == "start_attempt":
        assert error["reason"] == "not_current_level" and "level" in error["fields"]
    if name == "restart_run":
        assert error["reason"] in ("restart_not_allowed", "attempt_open")
    if name in ("admin_shortlist_xlsx", "winners", "admin_winners_xlsx"):
        assert error["reason"] == "month_open"


def test_submitting_another_members_attempt_is_refused(api):
    r = requests.post(f"{api['base']}/api/v1/attempts/{api['ids']['attempt']}/submit",
                      headers=api["unit_admin"], json={"answers": {}}, timeout=10)
    error_of(r, 404, "not_found")  # says nothing about whose it is
    r = requests.put(f"{api['base']}/api/v1/attempts/{api['ids']['attempt']}/answers",
                     headers=api["unit_admin"], json={"answers": {}}, timeout=10)
    error_of(r, 404, "not_found")


def test_notice_dates_out_of_range_are_400_naming_them(api):
    """Year 1 or 9999 with an offset cannot be stored as an instant (it was a 500)."""
    body = {"title": "通知", "body": "内容", "audience_id": None,
            "starts_at": "2018-05-20T00:00:00+08:00", "ends_at": "2018-05-21T00:00:00+08:00"}
    for field, at in (("starts_at", "0001-01-01T00:00:00+08:00"),
                      ("ends_at", "9999-12-31T23:59:59-08:00")):
        error = error_of(call(api, "admin_post_notice", api["admin"], body=dict(body, **{
            field: at})), 400, "bad_input")
        assert field in error["fields"], error


def test_answers_off_the_paper_are_not_saved(api):
    """Only the paper's questions, only their options (issue 18 item 8: bounded)."""
    url = f"{api['base']}/api/v1/attempts/{api['ids']['attempt']}/answers"
    for answers in ({"no-such-question": ["A"]}, {"x" * 65: ["A"]},
                    {f"q{i}": ["A"] for i in range(201)}):
        error = error_of(requests.put(url, headers=api["member"], json={"answers": answers},
                                      timeout=10), 400, "bad_input")
        assert "answers" in error["fields"], error
    assert error_of(requests.put(url, headers=api["member"],
                                 json={"answers": {"no-such-question": ["A"]}}, timeout=10),
                    400, "bad_input")["reason"] == "answers_off_paper"


def test_a_replay_into_one_of_the_platforms_own_queues_is_refused(api):
    """Our consumers remember applied events only INBOX_KEEP_DAYS: a replay into their queue
    could apply an older event twice (kernel/replay.py)."""
    r = requests.post(f"{api['base']}/api/v1/admin/events/replay", headers=api["admin"],
                      json={"service": "attempts", "since": "2018-03-01T00:00:00+00:00",
                            "queue": "evt-attempts-attempt_passed--ranking.on_attempt_passed"},
                      timeout=10)
    error = error_of(r, 400, "bad_input")
    assert error["reason"] == "queue_is_ours" and "queue" in error["fields"]


def test_the_refused_calls_changed_nothing(api):
    """Last in the file, so it runs after every refusal above."""
    audit = requests.get(f"{api['base']}/api/v1/admin/audit", headers=api["admin"],
                         timeout=10).json()
    assert audit["total"] == api["audit_total"]
    me = requests.get(f"{api['base']}/api/v1/me", headers=api["member"], timeout=10).json()
    assert me["member"] == api["me"]
    paper = requests.post(f"{api['base']}/api/v1/attempts", headers=api["member"],
                          json={"level": 1}, timeout=10).json()
    assert paper["attempt_id"] == api["ids"]["attempt"]  # still open, never submitted
