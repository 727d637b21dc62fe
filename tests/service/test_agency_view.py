"""Issue 22, item 2: another agency can name who an event is about, and read the roster.

Every roster event about a member carries `member` (kernel.events.MemberDisplay: name,
masked phone, unit, branch); awards keep it from roster's events and name the winner in
award_granted and award_revoked; roster answers the agency read API's two RPCs."""
import json

import pytest

from kernel import clock, events
from kernel.errors import BadInput, NotFound
from tests.service.helpers import call, deliver, outbox_events
from tests.service.test_awards_months import awards, close, month_results  # noqa: F401
from tests.service.test_roster_admin import ids, roster  # noqa: F401

MEMBER_EVENTS = {"member_registered", "member_updated", "member_deactivated",
                 "member_disqualified", "member_reinstated", "role_granted", "role_revoked"}
U1 = {"unit_id": "u1", "unit_name": "省教科文卫工会"}
B1 = {"branch_id": "b1", "branch_name": "教科文卫一支部"}


def test_every_roster_event_about_a_member_names_them(roster, migrated):
    people = ids(roster)
    admin, zhang, li = people["0000"], people["0002"], people["0012"]
    call(roster, "disqualify", admin, zhang, "代他人答题")
    call(roster, "reinstate", admin, zhang, "复核后撤销")
    call(roster, "update_member", admin, li, {"status": "inactive"})
    call(roster, "set_unit_admin", admin, "u1", zhang)  # a role revoked, one granted
    sent = outbox_events(migrated, "roster")
    assert MEMBER_EVENTS <= {e["type"] for e in sent}
    for event in sent:
        assert "member" in event["data"], event["type"]
        assert events.parse(event)  # what a subscriber loads
        who = event["data"]["member"]
        assert set(who) == {"name", "phone_masked", "unit_id", "unit_name", "branch_id",
                            "branch_name"}
        assert "*" in who["phone_masked"] and "1380000" not in json_of(event)
    zhang_events = [e["data"]["member"] for e in sent if e["data"]["member_id"] == zhang]
    assert zhang_events and all(
        who == {"name": "成员002", "phone_masked": "138****0002", **U1, **B1}
        for who in zhang_events)
    [left] = [e for e in sent if e["type"] == "member_deactivated"]
    assert left["data"]["member"] == {"name": "成员012", "phone_masked": "138****0012",
                                      "unit_id": "u2", "unit_name": "省产业工会",
                                      "branch_id": None, "branch_name": None}
    # a branch directly under the organisation: a branch and no unit
    [wang] = [e["data"]["member"] for e in sent
              if e["type"] == "member_registered" and e["data"]["name"] == "成员021"]
    assert (wang["unit_id"], wang["branch_id"], wang["branch_name"]) == (None, "ob", "机关第一党支部")


def json_of(event):
    return json.dumps(event, ensure_ascii=False)


def test_the_agency_roster_pages_members_changed_since_oldest_first(roster, fake_clock):
    people = ids(roster)
    fake_clock.advance(minutes=3)  # read after the import: `as_of` (2 min back) is later
    whole = call(roster, "agency_roster")
    assert whole["total"] == 6 and len(whole["items"]) == 6
    zhang = next(m for m in whole["items"] if m["member_id"] == people["0002"])
    assert zhang == {
        "member_id": people["0002"], "org_path": ["system", "fed", "u1", "b1"],
        "member": {"name": "成员002", "phone_masked": "138****0002", **U1, **B1},
        "category": "party_member", "participation": "required", "status": "active",
        "disqualified": False, "updated_at": zhang["updated_at"]}
    as_of = whole["as_of"]
    fake_clock.advance(minutes=5)
    call(roster, "disqualify", people["0000"], people["0012"], "代他人答题")
    later = call(roster, "agency_roster", since=as_of)
    assert [(m["member_id"], m["disqualified"]) for m in later["items"]] == [
        (people["0012"], True)]
    page = call(roster, "agency_roster", limit=2, offset=5)  # the change last
    assert page["total"] == 6 and [m["member_id"] for m in page["items"]] == [people["0012"]]
    assert call(roster, "agency_member", people["0002"]) == zhang
    with pytest.raises(NotFound):
        call(roster, "agency_member", "no-such-member")
    with pytest.raises(BadInput):
        call(roster, "agency_roster", since="yesterday")


def test_a_change_just_before_a_read_comes_again_in_the_next(roster, fake_clock):
    """A change is stamped when its transaction starts: one committed during a read may be
    stamped before it, so `as_of` stays behind the read and the next pass reads it again."""
    people = ids(roster)
    fake_clock.advance(minutes=10)
    call(roster, "disqualify", people["0000"], people["0012"], "代他人答题")
    fake_clock.advance(seconds=30)
    first = call(roster, "agency_roster")
    assert people["0012"] in {m["member_id"] for m in first["items"]}
    again = call(roster, "agency_roster", since=first["as_of"])
    assert [m["member_id"] for m in again["items"]] == [people["0012"]]


def test_awards_name_the_winner_from_roster_events_or_else_the_boards(awards, migrated):
    """m01 told by roster (the whole `member`), the rest named from the month's boards."""
    container = awards(month_results())
    who = {"name": "张伟", "phone_masked": "138****0002", **U1, **B1}
    deliver(container, "on_member_registered", "roster", "member_registered", {
        "member_id": "m01", "name": "张伟", "org_path": ["system", "fed", "u1", "b1"],
        "category": "party_member", "participation": "required", "status": "active",
        "phone_masked": "138****0002", "unit_name": "教科文卫一支部", "member": who})
    close(container)
    granted = outbox_events(migrated, "awards", "award_granted")
    assert granted and all(e["data"]["member"]["name"] for e in granted)
    firsts = [e["data"] for e in granted if e["data"]["member_id"] == "m01"]
    assert firsts and all(data["member"] == who for data in firsts)
    second = next(e["data"] for e in granted if e["data"]["member_id"] == "m02")
    assert second["member"] == {"name": "name-m02", "phone_masked": "138****0000"}
    deliver(container, "on_member_disqualified", "roster", "member_disqualified", {
        "member_id": "m01", "reason": "代他人答题", "decided_at": clock.current().now(),
        "decided_by": "admin", "member": who})
    revoked = [e["data"] for e in outbox_events(migrated, "awards", "award_revoked")]
    assert all(data["member"]["name"] for data in revoked)  # places moved up: theirs too
    assert [data["member"] for data in revoked if data["member_id"] == "m01"] == \
        [who] * len(firsts)
