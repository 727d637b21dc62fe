"""roster and R18's denominators (issue 18 item 4): a unit's administrator cannot shrink their
unit's participation denominator (take a member into or out of `required`, or deactivate a
required member), by an edit or by a sheet; an organisation or system administrator can, and
every member who leaves a node's count is recorded with who did it and when, for the annual
results (`scoring_removals`)."""

import pytest

from kernel.errors import Forbidden
from tests.service.helpers import call, outbox_events
from tests.service.test_roster_admin import TREE, ids, roster, row  # noqa: F401 (fixture)


def audit(roster, system):
    return call(roster, "audit_log", system, limit=500)["items"]


def refused(roster, *args):
    with pytest.raises(Forbidden) as refusal:
        call(roster, "update_member", *args)
    assert refusal.value.reason == "required_needs_org_admin", refusal.value.message


def test_a_unit_administrator_cannot_take_required_members_out_of_their_count(roster,
                                                                              migrated):
    people = ids(roster)
    system, unit_admin, required = people["0000"], people["0001"], people["0002"]
    industry_admin, volunteer = people["0011"], people["0012"]
    snapshot = (audit(roster, system), outbox_events(migrated, "roster"))
    for changes in ({"participation": "withdrawn"}, {"participation": "voluntary"},
                    {"status": "inactive"}, {"status": "inactive", "participation": "voluntary"}):
        refused(roster, unit_admin, required, changes)
    refused(roster, industry_admin, volunteer, {"participation": "required"})  # nor into it
    assert (audit(roster, system), outbox_events(migrated, "roster")) == snapshot
    got = call(roster, "get_member", required)
    assert (got["participation"], got["status"]) == ("required", "active")
    assert call(roster, "scoring_removals") == []
    # what is not about `required` stays theirs: a required member's department, a
    # volunteer's deactivation (recorded as a removal all the same)
    assert call(roster, "update_member", unit_admin, required,
                {"department": "组织部"})["department"] == "组织部"
    assert call(roster, "update_member", industry_admin, volunteer,
                {"status": "inactive"})["status"] == "inactive"
    [removal] = call(roster, "scoring_removals")
    assert (removal["member_id"], removal["by"], removal["by_name"]) == (
        volunteer, industry_admin, "二单位管理员")
    assert removal["left"] == ["u2"]


def test_a_unit_administrators_sheet_changing_required_is_a_row_error(roster, migrated):
    people = ids(roster)
    system, unit_admin = people["0000"], people["0001"]
    before = outbox_events(migrated, "roster")
    report = call(roster, "import_members", [
        row("13800000002", branch="b1", participation="自愿"),
        row("13800000002", branch="b1", category="非党员"),  # no participation: from 类别
    ], actor=unit_admin)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (2, "participation"), (3, "participation")], report
    assert report["updated"] == 0 and outbox_events(migrated, "roster") == before
    # the same sheet from the system administrator is applied
    report = call(roster, "import_members", [row("13800000002", branch="b1",
                                                 participation="自愿")], actor=system)
    assert report["errors"] == [] and report["updated"] == 1
    assert call(roster, "get_member", people["0002"])["participation"] == "voluntary"
    assert call(roster, "scoring_removals") == []  # a volunteer still counts


def test_removals_name_who_and_when_and_an_organisation_administrator_may(roster,
                                                                        fake_clock):
    people = ids(roster)
    system, required, volunteer, branch_member = (people["0000"], people["0002"],
                                                  people["0012"], people["0021"])
    call(roster, "change_role", system, people["0011"], {
        "role": "organisation_admin", "org_unit_id": "fed", "grant": True})
    org_admin = people["0011"]
    start = fake_clock.now()
    call(roster, "update_member", system, required, {"status": "inactive"})
    fake_clock.advance(days=30)
    call(roster, "set_participation", volunteer, "withdrawn")  # R2: the volunteer themself
    fake_clock.advance(days=30)
    middle = fake_clock.now()
    fake_clock.advance(days=1)
    call(roster, "update_member", org_admin, branch_member, {"participation": "withdrawn"})
    call(roster, "update_member", system, required, {"status": "active"})  # back: no removal
    removals = call(roster, "scoring_removals", since=start.isoformat())
    assert [(r["member_id"], r["by"], r["left"]) for r in removals] == [
        (required, system, ["u1"]), (volunteer, volunteer, ["u2"]),
        (branch_member, org_admin, ["ob"])]
    first = removals[0]
    assert (first["name"], first["phone_masked"], first["by_name"]) == (
        "成员002", "138****0002", "系统管理员")
    assert first["before"] == {"participation": "required", "status": "active",
                               "org_unit_id": "b1"}
    assert first["after"] == dict(first["before"], status="inactive")
    assert first["at"] == start.isoformat()
    assert [r["member_id"] for r in call(roster, "scoring_removals", since=middle.isoformat())] == [
        branch_member]
    assert [r["member_id"] for r in call(roster, "scoring_removals", until=middle.isoformat())] == [
        required, volunteer]
    # the audit log shows each removal in the removed member's part of the tree
    assert "member_left_count" in {e["action"] for e in audit(roster, people["0001"])}
