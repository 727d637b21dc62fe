"""roster: one administrator per unit (R4), roles acting inside their subtree, member edits,
disqualification (R20), participation (R2), the audit log, and the login limits not covered
in test_roster_service."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from kernel.errors import BadInput, Conflict, Forbidden, RateLimited, Unauthorized
from services.roster.service import RosterService
from tests.service.helpers import call, outbox_events
from tests.thin_path import last_code

TREE = [
    {"id": "system", "parent_id": None, "kind": "system", "name": "全系统"},
    {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "省总工会"},
    {"id": "u1", "parent_id": "fed", "kind": "unit", "name": "省教科文卫工会"},
    {"id": "b1", "parent_id": "u1", "kind": "branch", "name": "教科文卫一支部"},
    {"id": "u2", "parent_id": "fed", "kind": "unit", "name": "省产业工会"},
    {"id": "ob", "parent_id": "fed", "kind": "branch", "name": "机关第一党支部"},
]


def row(phone, unit="u1", **kw):
    return dict({"name": f"成员{phone[-3:]}", "department": "办公室", "phone": phone,
                 "remarks": "", "unit": unit}, **kw)


@pytest.fixture
def roster(container_factory, migrated, fake_clock):
    container = container_factory(RosterService, migrated)
    container.start()
    call(container, "upsert_org_units", TREE)
    report = call(container, "import_members", [
        row("13800000000", unit="fed", role="system_admin", name="系统管理员"),
        row("13800000001", remarks="管理员", name="一单位管理员"),
        row("13800000002", branch="b1"),
        row("13800000011", unit="u2", remarks="管理员", name="二单位管理员"),
        row("13800000012", unit="u2", category="非党员"),
        row("13800000021", unit="ob"),
    ])
    assert report["errors"] == [] and report["created"] == 6
    return container


def ids(roster):
    return {m["phone_masked"][-4:]: m["member_id"]
            for m in call(roster, "list_members", limit=500)["items"]}


def admins(roster):
    return {n["id"]: (n["admin"] or {}).get("name") for n in call(roster, "org_tree")
            if n["kind"] == "unit"}


# -- R4 in imports ---------------------------------------------------------------------------

def test_a_unit_left_without_an_administrator_gets_none_of_its_rows(roster, container_factory,
                                                                    migrated):
    call(roster, "upsert_org_units", [{"id": "u3", "parent_id": "fed", "kind": "unit",
                                       "name": "新单位"}])
    before = call(roster, "count_members")
    # the seed's sample: the administrator's phone has 12 digits, so the unit has none
    report = call(roster, "import_members", [
        row("13900000001", unit="u3"), row("139000000020", unit="u3", remarks="管理员"),
        row("13900000003", unit="u2")])
    assert report["created"] == 1 and report["skipped"] == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "phone"),
                                                                  (None, "remarks")]
    assert "新单位" in report["errors"][1]["message"]
    assert call(roster, "count_members") == before + 1
    fixed = call(roster, "import_members", [
        row("13900000001", unit="u3"), row("13900000002", unit="u3", remarks="管理员")])
    assert fixed["created"] == 2 and fixed["errors"] == []
    assert admins(roster)["u3"] == "成员002"


def test_a_sheet_naming_a_new_administrator_replaces_the_old_one(roster):
    report = call(roster, "import_members", [row("13800000002", branch="b1", remarks="管理员")])
    assert report["errors"] == []
    assert admins(roster) == {"u1": "成员002", "u2": "二单位管理员"}


def test_admin_marks_outside_a_unit_and_branches_outside_their_unit_are_row_errors(roster):
    report = call(roster, "import_members", [
        row("13900000001", unit="ob", remarks="管理员"),
        row("13900000002", unit="u2", branch="b1")])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "remarks"), (3, "branch")]
    assert report["created"] == 0


def test_the_database_refuses_a_second_unit_administrator(roster, migrated):
    engine = create_engine(migrated["ROSTER_DATABASE_URL"])
    member = ids(roster)["0002"]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO roles (member_id, role, org_unit_id) "
                          "VALUES (:m, 'unit_admin', 'u1')"), {"m": member})
    engine.dispose()


# -- roles act inside their subtree ----------------------------------------------------------

def test_a_unit_admin_is_refused_outside_their_unit(roster, migrated):
    people = ids(roster)
    unit_admin = people["0001"]
    report = call(roster, "import_members", [row("13900000001", unit="u2"),
                                             row("13900000002", branch="b1")],
                  actor=unit_admin)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "unit")]
    assert report["created"] == 1
    events_before = len(outbox_events(migrated, "roster"))
    for method, args in [("update_member", (people["0012"], {"name": "改名"})),
                         ("disqualify", (people["0012"], "代答")),
                         ("set_unit_admin", ("u2", people["0012"]))]:
        with pytest.raises(Forbidden):
            call(roster, method, unit_admin, *args)
    assert call(roster, "get_member", people["0012"])["name"] == "成员012"
    assert not call(roster, "get_member", people["0012"])["disqualified"]
    assert len(outbox_events(migrated, "roster")) == events_before
    visible = call(roster, "list_members", actor=unit_admin, limit=500)["items"]
    assert {m["unit_id"] for m in visible} == {"u1", "b1"}
    with pytest.raises(Forbidden):  # a plain member is no administrator
        call(roster, "list_members", actor=people["0002"])
    with pytest.raises(Forbidden):
        call(roster, "upsert_org_units", [{"id": "x", "parent_id": "fed", "kind": "unit",
                                           "name": "x"}], actor=unit_admin)
    assert call(roster, "authorize", people["0000"], "u2")["scopes"] is None
    with pytest.raises(Forbidden):
        call(roster, "authorize", unit_admin, "u2")


def test_edits_that_would_leave_a_unit_without_its_administrator_are_refused(roster):
    people = ids(roster)
    system = people["0000"]
    with pytest.raises(Conflict) as moved:
        call(roster, "update_member", system, people["0001"], {"org_unit_id": "u2"})
    assert "appoint another" in moved.value.message
    with pytest.raises(Conflict):
        call(roster, "update_member", system, people["0001"], {"status": "inactive"})
    # within the unit (to its branch) is fine
    assert call(roster, "update_member", system, people["0001"],
                {"org_unit_id": "b1"})["unit_id"] == "b1"
    # the way to change administrator: appoint another, which replaces the first
    call(roster, "set_unit_admin", system, "u1", people["0002"])
    assert admins(roster)["u1"] == "成员002"
    moved = call(roster, "update_member", system, people["0001"], {"org_unit_id": "u2"})
    assert moved["unit_id"] == "u2" and moved["roles"] == []
    with pytest.raises(BadInput):  # not a member of that unit
        call(roster, "set_unit_admin", system, "u1", people["0012"])
    with pytest.raises(BadInput):  # a branch has no unit administrator (R4 is about units)
        call(roster, "set_unit_admin", system, "ob", people["0021"])


def test_deactivating_a_member_emits_and_bars_login(roster, migrated, fake_clock):
    people = ids(roster)
    call(roster, "update_member", people["0000"], people["0012"], {"status": "inactive"})
    deactivated = outbox_events(migrated, "roster", "member_deactivated")
    assert [e["data"]["member_id"] for e in deactivated] == [people["0012"]]
    call(roster, "request_login_code", "13800000012")
    assert last_code(migrated["SMS_FILE"], "13800000012") is None  # nothing sent
    with pytest.raises(BadInput):
        call(roster, "update_member", people["0000"], people["0012"], {"status": "gone"})
    with pytest.raises(BadInput):
        call(roster, "update_member", people["0000"], people["0012"], {"phone": "1"})


def test_the_last_system_administrator_stays(roster):
    people = ids(roster)
    system = people["0000"]
    with pytest.raises(Conflict):
        call(roster, "change_role", system, system,
             {"role": "system_admin", "org_unit_id": "system", "grant": False})
    call(roster, "change_role", system, people["0021"],
         {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    org_admin = people["0021"]
    assert call(roster, "authorize", org_admin, "u2")["scopes"] == ["fed"]
    with pytest.raises(Forbidden):  # only system administrators grant roles
        call(roster, "change_role", org_admin, people["0012"],
             {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})


# -- R20 -------------------------------------------------------------------------------------

def test_disqualify_and_reinstate_are_kept_for_the_notice(roster, migrated, fake_clock):
    people = ids(roster)
    unit_admin, member = people["0001"], people["0002"]
    out = call(roster, "disqualify", unit_admin, member, "他人代答")
    assert out["disqualified"]
    with pytest.raises(Conflict):
        call(roster, "disqualify", unit_admin, member, "again")
    with pytest.raises(BadInput):
        call(roster, "reinstate", unit_admin, member, "")
    fake_clock.advance(days=3)
    call(roster, "reinstate", unit_admin, member, "复核后撤销")
    with pytest.raises(Conflict):
        call(roster, "reinstate", unit_admin, member, "复核后撤销")
    [case] = call(roster, "disqualifications", people["0000"])
    assert (case["reason"], case["decided_by_name"], case["reinstate_reason"]) == (
        "他人代答", "一单位管理员", "复核后撤销")
    assert case["phone_masked"] == "138****0002"
    [event] = outbox_events(migrated, "roster", "member_disqualified")
    assert event["data"]["reason"] == "他人代答" and event["data"]["decided_by"] == unit_admin
    assert event["data"]["decided_at"].startswith("2018-")
    assert [e["data"]["member_id"]
            for e in outbox_events(migrated, "roster", "member_reinstated")] == [member]
    assert call(roster, "disqualifications", people["0011"]) == []  # other unit's admin


def test_the_audit_log_records_admin_changes_and_is_read_by_subtree(roster):
    people = ids(roster)
    call(roster, "disqualify", people["0001"], people["0002"], "刷题软件")
    call(roster, "update_member", people["0011"], people["0012"], {"department": "财务部"})
    everything = call(roster, "audit_log", people["0000"], limit=500)["items"]
    assert [e["action"] for e in everything[:2]] == ["member_updated", "member_disqualified"]
    assert everything[0]["detail"] == {"department": ["办公室", "财务部"]}
    assert everything[0]["actor_id"] == people["0011"]
    mine = call(roster, "audit_log", people["0001"])["items"]
    assert "member_updated" not in [e["action"] for e in mine]
    assert "member_disqualified" in [e["action"] for e in mine]
    with pytest.raises(Forbidden):
        call(roster, "audit_log", people["0002"])


# -- R2 ----------------------------------------------------------------------------------------

def test_volunteers_sign_up_and_withdraw_required_members_cannot(roster, migrated):
    people = ids(roster)
    assert call(roster, "set_participation", people["0012"], "withdrawn")["participation"] \
        == "withdrawn"
    assert outbox_events(migrated, "roster", "member_updated")[-1]["data"]["participation"] \
        == "withdrawn"
    assert call(roster, "set_participation", people["0012"], "voluntary")["participation"] \
        == "voluntary"
    with pytest.raises(Conflict):
        call(roster, "set_participation", people["0002"], "withdrawn")
    with pytest.raises(BadInput):
        call(roster, "set_participation", people["0012"], "required")


# -- login limits not covered elsewhere ------------------------------------------------------

def test_ten_codes_a_day_per_phone(roster, migrated, fake_clock):
    for _ in range(10):
        call(roster, "request_login_code", "13800000002")
        fake_clock.advance(seconds=61)
    with pytest.raises(RateLimited) as limited:
        call(roster, "request_login_code", "13800000002")
    assert 0 < limited.value.retry_after <= 24 * 3600
    fake_clock.advance(seconds=limited.value.retry_after)
    call(roster, "request_login_code", "13800000002")  # the oldest left the window


def test_the_fifth_try_still_counts_and_the_code_lives_exactly_five_minutes(roster, migrated,
                                                                            fake_clock):
    call(roster, "request_login_code", "13800000002")
    good = last_code(migrated["SMS_FILE"], "13800000002")
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(4):
        with pytest.raises(Unauthorized):
            call(roster, "verify_login_code", "13800000002", wrong)
    fake_clock.advance(minutes=5)
    assert call(roster, "verify_login_code", "13800000002", good)["name"] == "成员002"
