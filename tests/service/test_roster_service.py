"""roster: member import (row errors, dry run, re-import) and phone login (life, tries, limits)."""
import pytest

from kernel.errors import BadInput, RateLimited, Unauthorized
from services.roster.service import RosterService
from tests.service.helpers import call, outbox_events
from tests.thin_path import last_code

TREE = [
    {"id": "system", "parent_id": None, "kind": "system", "name": "全系统"},
    {"id": "fed", "parent_id": "system", "kind": "organisation", "name": "省总工会"},
    {"id": "u1", "parent_id": "fed", "kind": "unit", "name": "省教科文卫工会"},
    {"id": "u2", "parent_id": "fed", "kind": "unit", "name": "省产业工会"},
]


@pytest.fixture
def roster(container_factory, migrated, fake_clock):
    container = container_factory(RosterService, migrated)
    container.start()
    call(container, "upsert_org_units", TREE)
    return container


def row(**kw):
    base = {"name": "王伟", "department": "办公室", "phone": "138 0000-0001", "remarks": "",
            "unit": "u1"}
    return dict(base, **kw)


def test_import_creates_members_and_emits_events(roster, migrated):
    report = call(roster, "import_members", [row(remarks="管理员"), row(
        name="李娜", phone="13800000002", unit="省产业工会", category="非党员", role="admin")])
    assert (report["created"], report["errors"]) == (2, [])
    events = outbox_events(migrated, "roster", "member_registered")
    assert [e["data"]["org_path"] for e in events] == [["system", "fed", "u1"],
                                                      ["system", "fed", "u2"]]
    assert events[1]["data"]["participation"] == "voluntary"  # R2
    assert events[0]["data"]["phone_masked"] == "138****0001"
    assert "13800000001" not in str(events)


def test_bad_rows_are_reported_and_not_applied(roster):
    rows = [row(remarks="管理员"), row(phone="139000000000"), row(phone="13800000001", name="重复"),
            row(phone="13800000003", unit="nowhere"), row(phone="13800000004", name="")]
    report = call(roster, "import_members", rows)
    assert report["created"] == 1
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "phone"), (4, "phone"), (5, "unit"), (6, "name")]
    assert "12 digit" in report["errors"][0]["message"]
    assert call(roster, "count_members") == 1


def test_dry_run_changes_nothing_and_reimport_updates(roster, migrated):
    report = call(roster, "import_members", [row(remarks="管理员")], dry_run=True)
    assert report["created"] == 1 and report["dry_run"]
    assert call(roster, "count_members") == 0 and outbox_events(migrated, "roster") == []
    assert call(roster, "org_tree")[2]["admin"] is None
    call(roster, "import_members", [row(remarks="管理员")])
    again = call(roster, "import_members", [row(remarks="管理员")])
    assert (again["created"], again["unchanged"]) == (0, 1)
    renamed = call(roster, "import_members", [row(name="王伟强")])  # the admin stays
    assert renamed["updated"] == 1 and call(roster, "count_members") == 1
    assert len(outbox_events(migrated, "roster", "member_updated")) == 1


def test_two_admins_for_one_unit_is_an_error_on_the_second(roster):
    report = call(roster, "import_members", [row(remarks="管理员"),
                                             row(phone="13800000002", remarks="管理员")])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "remarks")]


def test_a_phone_of_another_unit_is_an_error_not_a_move(roster):
    call(roster, "import_members", [row(remarks="管理员"),
                                    row(phone="13800000002", unit="u2", remarks="管理员")])
    report = call(roster, "import_members", [row(phone="13800000002", name="李娜")])
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "phone")]
    assert "省产业工会" in report["errors"][0]["message"]
    assert call(roster, "list_members", unit_id="u2")["total"] == 1


def login_code(migrated, phone="13800000001"):
    return last_code(migrated["SMS_FILE"], phone)


def test_login_with_a_code(roster, migrated):
    call(roster, "import_members", [row(remarks="管理员")])
    call(roster, "request_login_code", "13800000001")
    member = call(roster, "verify_login_code", "13800000001", login_code(migrated))
    assert member["name"] == "王伟" and "phone" not in member
    with pytest.raises(Unauthorized):  # a code works once
        call(roster, "verify_login_code", "13800000001", login_code(migrated))


def test_code_expires_after_five_minutes(roster, migrated, fake_clock):
    call(roster, "import_members", [row(remarks="管理员")])
    call(roster, "request_login_code", "13800000001")
    fake_clock.advance(minutes=5, milliseconds=1)
    with pytest.raises(Unauthorized):
        call(roster, "verify_login_code", "13800000001", login_code(migrated))


def test_five_wrong_tries_kill_the_code(roster, migrated):
    call(roster, "import_members", [row(remarks="管理员")])
    call(roster, "request_login_code", "13800000001")
    good = login_code(migrated)
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(Unauthorized):
            call(roster, "verify_login_code", "13800000001", wrong)
    with pytest.raises(Unauthorized):
        call(roster, "verify_login_code", "13800000001", good)


def test_resend_limit_and_unknown_phone_look_alike(roster, migrated, fake_clock):
    call(roster, "import_members", [row(remarks="管理员")])
    for phone in ("13800000001", "13900000009"):  # known, unknown
        assert call(roster, "request_login_code", phone) is None
        fake_clock.advance(seconds=15)
        with pytest.raises(RateLimited) as limited:
            call(roster, "request_login_code", phone)
        assert limited.value.retry_after == 45
        fake_clock.advance(seconds=-15)
    assert login_code(migrated, "13900000009") is None  # nothing sent to an unknown phone
    fake_clock.advance(seconds=61)
    call(roster, "request_login_code", "13800000001")
    with pytest.raises(BadInput) as bad:
        call(roster, "request_login_code", "12345")
    assert "phone" in bad.value.fields
