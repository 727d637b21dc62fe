"""roster under hostile administrators: who may grant which role (by a sheet or by an edit),
nobody acts on their own case, a disqualified administrator's roles are suspended, a sheet is
no way to look up a phone's owner, and look-alike phones are the same phone. Each refusal
changes nothing: the member's roles, the audit log, the outbox."""
import pytest

from kernel.errors import BadInput, Forbidden
from tests.service.helpers import call, outbox_events
from tests.service.test_roster_admin import TREE, ids, roster, row  # noqa: F401 (fixture)
from tests.thin_path import last_code

ROLE_EVENTS = ("role_granted", "role_revoked")


def roles(roster, member_id):
    return {(r["role"], r["org_unit_id"]) for r in call(roster, "get_member", member_id)["roles"]}


def audit_actions(roster, system):
    return [e["action"] for e in call(roster, "audit_log", system, limit=500)["items"]]


def role_events(migrated):
    # who the member is (`member`) is tests/service/test_agency_view.py's
    return [(e["type"], {k: v for k, v in e["data"].items() if k != "member"})
            for e in outbox_events(migrated, "roster") if e["type"] in ROLE_EVENTS]


def refused(roster, reason, method, *args, **kwargs):
    with pytest.raises(Forbidden) as refusal:
        call(roster, method, *args, **kwargs)
    assert refusal.value.reason == reason, refusal.value.message
    return refusal.value


# -- item 1: roles in a sheet are granted only by who may grant them -------------------------

def test_a_unit_administrators_sheet_grants_no_higher_role(roster, migrated):
    people = ids(roster)
    system, unit_admin, member = people["0000"], people["0001"], people["0002"]
    audit_before = audit_actions(roster, system)
    outbox_before = outbox_events(migrated, "roster")
    for role in ("system_admin", "organisation_admin", "SYSTEM_ADMIN"):
        report = call(roster, "import_members", [row("13800000002", branch="b1", role=role)],
                      actor=unit_admin)
        assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "role")], report
        assert (report["updated"], report["unchanged"]) == (0, 0)
    assert roles(roster, member) == set()
    with pytest.raises(Forbidden):  # still no administrator: reads no answer key, closes no month
        call(roster, "authorize", member)
    # the imports are audited as imports (with their errors); nothing else happened
    assert audit_actions(roster, system) == ["members_imported"] * 3 + audit_before
    assert outbox_events(migrated, "roster") == outbox_before


def test_a_unit_administrator_hands_their_unit_over_by_sheet_and_each_role_is_recorded(
        roster, migrated):
    people = ids(roster)
    system, unit_admin, member = people["0000"], people["0001"], people["0002"]
    report = call(roster, "import_members", [row("13800000002", branch="b1", remarks="管理员")],
                  actor=unit_admin)
    assert report["errors"] == [] and report["unchanged"] == 1
    assert roles(roster, member) == {("unit_admin", "u1")}
    assert roles(roster, unit_admin) == set()
    entries = call(roster, "audit_log", system, limit=500)["items"]
    assert entries[0]["action"] == "members_imported"
    assert [(e["action"], e["actor_id"], e["target"], e["scope_id"], e["detail"]["role"])
            for e in entries[1:3]] == [
        ("role_granted", unit_admin, member, "u1", "unit_admin"),
        ("role_revoked", unit_admin, unit_admin, "u1", "unit_admin")]
    assert role_events(migrated)[-2:] == [
        ("role_revoked", {"member_id": unit_admin, "role": "unit_admin", "org_unit_id": "u1",
                          "by": unit_admin}),
        ("role_granted", {"member_id": member, "role": "unit_admin", "org_unit_id": "u1",
                          "by": unit_admin})]


def test_a_sheet_row_cannot_give_the_importer_a_role_or_change_their_participation(roster):
    people = ids(roster)
    system, unit_admin = people["0000"], people["0001"]
    audit_before = audit_actions(roster, system)
    report = call(roster, "import_members", [
        row("13800000000", unit="fed", role="organisation_admin", name="系统管理员")],
        actor=system)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "role")]
    report = call(roster, "import_members", [
        row("13800000001", remarks="管理员", name="一单位管理员", category="非党员",
            participation="自愿")], actor=unit_admin)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "category")]
    assert roles(roster, system) == {("system_admin", "system")}
    assert call(roster, "get_member", unit_admin)["participation"] == "required"
    assert audit_actions(roster, system) == ["members_imported"] * 2 + audit_before
    report = call(roster, "import_members", [row("13800000002", branch="b1", role="king")],
                  actor=unit_admin)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "role")]


def test_role_changes_follow_who_may_grant_them(roster, migrated):
    people = ids(roster)
    system, unit_admin, org_admin = people["0000"], people["0001"], people["0021"]
    before = role_events(migrated)
    call(roster, "change_role", system, org_admin,
         {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    assert role_events(migrated)[len(before):] == [("role_granted", {
        "member_id": org_admin, "role": "organisation_admin", "org_unit_id": "fed",
        "by": system})]
    [entry] = [e for e in call(roster, "audit_log", system, limit=500)["items"]
               if e["action"] == "role_granted" and e["target"] == org_admin]
    assert (entry["actor_id"], entry["scope_id"], entry["detail"]["role"]) == (
        system, "fed", "organisation_admin")

    snapshot = (audit_actions(roster, system), role_events(migrated),
                roles(roster, people["0012"]), roles(roster, org_admin))
    # an organisation administrator makes no peers and no system administrators
    for role, node in [("organisation_admin", "fed"), ("system_admin", "system")]:
        refused(roster, "may_not_grant_role", "change_role", org_admin, people["0012"],
                {"role": role, "org_unit_id": node, "grant": True})
    # a unit administrator grants nothing but their own unit's hand-over
    refused(roster, "may_not_grant_role", "change_role", unit_admin, people["0002"],
            {"role": "system_admin", "org_unit_id": "system", "grant": True})
    refused(roster, "outside_scope", "set_unit_admin", unit_admin, "u2", people["0012"])
    # nobody grants themself anything
    refused(roster, "self_edit", "change_role", system, system,
            {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    refused(roster, "self_edit", "set_unit_admin", people["0011"], "u2", people["0011"])
    with pytest.raises(BadInput):  # organisation administrators sit on organisations
        call(roster, "change_role", system, people["0012"],
             {"role": "organisation_admin", "org_unit_id": "u2", "grant": True})
    assert snapshot == (audit_actions(roster, system), role_events(migrated),
                        roles(roster, people["0012"]), roles(roster, org_admin))

    # the organisation administrator appoints a unit's administrator below them: two entries
    call(roster, "set_unit_admin", org_admin, "u2", people["0012"])
    assert [t for t, _ in role_events(migrated)[len(snapshot[1]):]] == ["role_revoked",
                                                                        "role_granted"]
    assert audit_actions(roster, system)[:2] == ["role_granted", "role_revoked"]


def test_a_lower_administrator_cannot_disarm_a_higher_one(roster, migrated):
    people = ids(roster)
    system, unit_admin, member = people["0000"], people["0001"], people["0002"]
    call(roster, "change_role", system, member,
         {"role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    snapshot = (audit_actions(roster, system), outbox_events(migrated, "roster"))
    refused(roster, "outside_scope", "update_member", unit_admin, member, {"status": "inactive"})
    refused(roster, "outside_scope", "disqualify", unit_admin, member, "代答")
    report = call(roster, "import_members", [row("13800000002", branch="b1", participation="自愿",
                                                 category="非党员")], actor=unit_admin)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "phone")]
    assert audit_actions(roster, system)[1:] == snapshot[0]
    assert outbox_events(migrated, "roster") == snapshot[1]
    got = call(roster, "get_member", member)
    assert (got["status"], got["disqualified"], got["participation"]) == (
        "active", False, "required")


# -- item 2: nobody acts on their own case ----------------------------------------------------

def test_a_disqualified_administrator_cannot_reinstate_themself(roster, migrated):
    people = ids(roster)
    system, unit_admin = people["0000"], people["0001"]
    call(roster, "disqualify", system, unit_admin, "代他人答题")
    snapshot = (audit_actions(roster, system), outbox_events(migrated, "roster"))
    refused(roster, "self_reinstatement", "reinstate", unit_admin, unit_admin, "我没有作弊")
    # and their roles are suspended meanwhile: no admin action at all
    refused(roster, "roles_suspended", "list_members", actor=unit_admin)
    refused(roster, "roles_suspended", "authorize", unit_admin)
    assert call(roster, "get_member", unit_admin)["disqualified"]
    assert (audit_actions(roster, system), outbox_events(migrated, "roster")) == snapshot
    call(roster, "reinstate", system, unit_admin, "复核后撤销")
    assert call(roster, "authorize", unit_admin)["scopes"] == ["u1"]


def test_only_an_administrator_above_the_decider_reinstates(roster, migrated):
    people = ids(roster)
    system, unit_admin, member = people["0000"], people["0001"], people["0002"]
    call(roster, "disqualify", system, member, "刷题软件")
    snapshot = (audit_actions(roster, system), outbox_events(migrated, "roster"))
    refused(roster, "decided_above_you", "reinstate", unit_admin, member, "我来撤销")
    assert call(roster, "get_member", member)["disqualified"]
    assert (audit_actions(roster, system), outbox_events(migrated, "roster")) == snapshot
    # the unit's administrator undoes their own decision; the system administrator anyone's
    call(roster, "reinstate", system, member, "复核后撤销")
    call(roster, "disqualify", unit_admin, member, "代答")
    call(roster, "reinstate", unit_admin, member, "误判")
    assert not call(roster, "get_member", member)["disqualified"]


def test_an_administrator_edits_only_their_own_name_and_department(roster, migrated):
    people = ids(roster)
    system, unit_admin = people["0000"], people["0001"]
    snapshot = (audit_actions(roster, system), outbox_events(migrated, "roster"))
    for changes in ({"participation": "withdrawn"}, {"category": "non_party"},
                    {"status": "inactive"}, {"org_unit_id": "b1"}):
        refused(roster, "self_edit", "update_member", unit_admin, unit_admin, changes)
    refused(roster, "self_edit", "disqualify", unit_admin, unit_admin, "自我处分")
    assert (audit_actions(roster, system), outbox_events(migrated, "roster")) == snapshot
    assert call(roster, "get_member", unit_admin)["participation"] == "required"
    assert call(roster, "update_member", unit_admin, unit_admin,
                {"department": "组织部"})["department"] == "组织部"


# -- item 7: a sheet is no phone directory ---------------------------------------------------

def test_a_foreign_phone_is_named_only_to_who_may_see_it_and_dry_runs_are_audited(roster):
    people = ids(roster)
    system, other_admin = people["0000"], people["0011"]
    before = call(roster, "audit_log", system, limit=500)["total"]
    report = call(roster, "import_members", [row("13800000002", unit="u2"),
                                             row("13900000009", unit="u2")],
                  dry_run=True, actor=other_admin, source="探测.csv")
    [error] = report["errors"]
    assert (error["row"], error["column"]) == (2, "phone")
    assert "another unit" in error["message"]
    for secret in ("成员002", "省教科文卫工会", "教科文卫一支部", "b1", "u1"):
        assert secret not in error["message"]
    log = call(roster, "audit_log", system, limit=500)
    assert log["total"] == before + 1
    entry = log["items"][0]
    assert (entry["action"], entry["actor_id"], entry["target"], entry["scope_id"]) == (
        "members_import_dry_run", other_admin, "探测.csv", "u2")
    assert (entry["detail"]["total"], entry["detail"]["created"], entry["detail"]["errors"]) == (
        2, 1, 1)
    assert call(roster, "count_members") == 6  # a dry run still changes no member
    # the system administrator sees everyone: the message helps them
    report = call(roster, "import_members", [row("13800000002", unit="u2")], dry_run=True,
                  actor=system)
    assert "成员002" in report["errors"][0]["message"]


# -- item 8: look-alike phones ---------------------------------------------------------------

FULL_WIDTH = "1３８０００００００２"  # 13800000002, full-width after the 1 (as in the issue)


def test_a_full_width_phone_is_the_same_phone_everywhere(roster, migrated, fake_clock):
    people = ids(roster)
    report = call(roster, "import_members", [row(FULL_WIDTH, unit="u2")], actor=people["0011"])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "phone")]
    assert report["created"] == 0 and call(roster, "count_members") == 6
    # login: the code goes to the registered (ASCII) phone, and the look-alike logs them in
    call(roster, "request_login_code", FULL_WIDTH)
    code = last_code(migrated["SMS_FILE"], "13800000002")
    assert code is not None
    assert call(roster, "verify_login_code", "1３８0000-0002", code)["member_id"] == \
        people["0002"]
    found = call(roster, "list_members", query="８０００００００２", actor=people["0000"])
    assert [m["member_id"] for m in found["items"]] == [people["0002"]]
    for other_digits in ("1٣800000002", "1३800000002"):  # Arabic-Indic, Devanagari: not ASCII
        with pytest.raises(BadInput):
            call(roster, "request_login_code", other_digits)
        report = call(roster, "import_members", [row(other_digits, unit="u2")])
        assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "phone")]
    assert call(roster, "count_members") == 6


# -- a member's upload is refused before it is read -----------------------------------------

def test_a_member_without_a_role_is_refused_before_the_sheet_is_read(roster, migrated,
                                                                      monkeypatch):
    """Reading a sheet costs time and memory: a member's upload (here one that is no sheet at
    all) is refused as a member's, and the reader is never called."""
    import base64
    from kernel import sheets

    people = ids(roster)
    system, member = people["0000"], people["0002"]
    audit_before = audit_actions(roster, system)
    read = []
    monkeypatch.setattr(sheets, "read_upload", lambda *args: read.append(args) or [])
    garbage = base64.b64encode(b"PK\x03\x04 not really a workbook").decode()
    with pytest.raises(Forbidden):
        call(roster, "import_sheet", garbage, "members.xlsx", actor=member)
    assert read == []
    assert audit_actions(roster, system) == audit_before


def test_play_status_reads_one_member(roster):
    people = ids(roster)
    assert call(roster, "play_status", people["0002"]) == {"status": "active",
                                                           "disqualified": False}
    call(roster, "disqualify", people["0000"], people["0002"], "作弊")
    assert call(roster, "play_status", people["0002"]) == {"status": "active",
                                                           "disqualified": True}
